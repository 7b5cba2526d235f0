/* server: the server context and the client-connection layer. One event-loop
 * thread (libuv) owns everything here: the tree, sessions, watches and
 * connections; no locks. The context struct is the only mutable state. */
#ifndef CORRAL_SERVER_H
#define CORRAL_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "auth/auth.h"
#include "base/buf.h"
#include "base/hashmap.h"
#include "base/log.h"
#include "proto/records.h"
#include "server/config.h"
#include "server/fourlw.h"
#include "server/logthread.h"
#include "server/nofork.h"
#include "server/persist.h"
#include "server/snapwriter.h"
#include "store/snapshot.h"
#include "store/store.h"
#include "store/txnlog.h"
#include "session/session.h"
#include "tree/tree.h"
#include "tree/watch.h"
#include "txn/prep.h"
#include "txn/txn.h"

/* A connection stops being read once this much output is queued, and is
 * closed if queued output (e.g. notifications to a client that never reads)
 * passes the hard limit. */
#define CONN_OUT_SOFT_LIMIT (4u << 20)
#define CONN_OUT_HARD_LIMIT (64u << 20)

typedef enum conn_state {
    CONN_NEW,        /* nothing received yet: 4lw or ConnectRequest */
    CONN_CONNECTING, /* createSession txn in flight; requests are queued */
    CONN_READY,      /* session attached, serving requests */
    CONN_CLOSING,    /* uv_close issued */
} conn_state_t;

/* A request that must wait (per-session FIFO: a read never overtakes an
 * earlier write of the same connection). Holds a copy of its frame. */
typedef struct queued_req {
    struct queued_req *next;
    int64_t received_ms;
    size_t len;
    uint8_t data[];
} queued_req_t;

typedef struct server server_t;

typedef struct latency_stats {
    int64_t count, sum, min, max; /* ms */
} latency_stats_t;

/* Counters behind mntr's keys (ZooKeeper's names in comments). */
typedef struct server_metrics {
    int64_t bytes_received;                                           /* bytes_received_count */
    int64_t response_bytes;                                           /* response_bytes */
    int64_t last_response_size, min_response_size, max_response_size; /* *_client_response_size */
    int64_t auth_failed;                                              /* auth_failed_count */
    int64_t connections_rejected;                                     /* connection_rejected */
    int64_t connect_requests;                                         /* connection_request_count */
    int64_t sessionless_expired;    /* sessionless_connections_expired */
    int64_t sessions_expired;       /* stale_sessions_expired */
    int64_t writes_prepared;        /* prep_processor_request_queued */
    int64_t txns_logged;            /* sync_processor_request_queued */
    latency_stats_t read_latency;   /* readlatency */
    latency_stats_t update_latency; /* updatelatency */
} server_metrics_t;

typedef struct conn {
    uv_tcp_t tcp;
    server_t *srv;
    conn_state_t state;
    buf_t in;       /* received bytes not yet framed (no-fork memory, pooled) */
    size_t in_high; /* most bytes `in` has held: what to give back when pooled */
    buf_t out;      /* replies queued this loop turn */
    buf_t writing;  /* bytes handed to uv_write */
    uv_write_t wreq;
    bool write_pending;
    bool reading;
    bool close_after_flush;
    bool draining;   /* closeSession sent: ignore further requests */
    bool dirty;      /* in the server's flush list */
    bool old_client; /* ConnectRequest without the readOnly byte */
    session_t *session;
    int64_t session_id;
    int32_t timeout_ms;
    auth_ids_t ids;
    watch_owner_t watches;
    char peer_ip[64];
    int peer_port;
    int64_t last_activity_ms; /* monotonic */
    int64_t established_ms;   /* wall clock */
    /* per-connection statistics (stat/cons) */
    int64_t packets_received, packets_sent;
    int64_t last_cxid, last_zxid, last_response_ms, last_latency_ms;
    const char *last_op;
    latency_stats_t latency;
    /* request pipeline */
    queued_req_t *q_head, *q_tail;
    int32_t queued;   /* requests in q */
    int32_t inflight; /* writes prepared, not yet applied and answered */
    struct conn *prev, *next;
} conn_t;

/* Where a txn came from decides what happens once it is applied. */
typedef enum txn_origin {
    TXN_CLIENT,         /* a client write: reply to conn */
    TXN_CREATE_SESSION, /* a new session: ConnectResponse to conn */
    TXN_CLOSE_SESSION,  /* client close (reply, then close) or expiry */
    TXN_INTERNAL,       /* container/TTL reaper */
} txn_origin_t;

/* A prepared txn on its way through the log to apply. Pending txns are
 * pooled in no-fork memory (slots of PENDING_TXN_SLOT bytes); a txn record
 * that does not fit in the slot's room is kept in the heap. */
#define PENDING_TXN_SLOT 512
typedef struct pending_txn {
    struct pending_txn *next;
    txn_origin_t origin;
    struct conn *conn; /* who is answered; NULL if nobody (or gone) */
    int32_t xid;
    int32_t req_type;
    int32_t err; /* the reply header's error, from prep */
    int64_t session_id;
    int32_t timeout_ms;
    int64_t received_ms;
    txn_header_t hdr;
    const uint8_t *body; /* the txn record: in room, or body_heap */
    size_t body_len;
    uint8_t *body_heap; /* malloc'ed when the record is larger than the room */
    uint8_t room[];
} pending_txn_t;

struct server {
    uv_loop_t *loop;
    corral_config_t cfg;
    logger_t log;
    uv_tcp_t listener;
    uv_timer_t tick_timer;
    uv_timer_t container_timer;
    uv_signal_t sig_term, sig_int, sig_hup;
    uv_prepare_t flush_prepare; /* writes every dirty connection once per loop turn */
    conn_t **dirty;
    size_t ndirty, dirty_cap;
    bool stopping;

    tree_t tree;
    bool tree_ready;
    prep_t prep;
    watch_mgr_t watches;
    session_table_t sessions;
    int64_t last_zxid;         /* last applied */
    int64_t last_prepped_zxid; /* last assigned to a txn */
    pending_txn_t *uncommitted_head, *uncommitted_tail;
    nf_pool_t txn_pool;    /* pending_txn_t slots */
    buf_t prep_body;       /* scratch: the record prep writes, copied into the txn */
    bool commit_requested; /* in-memory mode: apply at the end of this loop turn */
    conn_t **resume;       /* connections whose queue may proceed */
    size_t nresume, resume_cap;

    conn_t *conns;
    int64_t nconns;
    int nodelay_inherited; /* accepted sockets have TCP_NODELAY: -1 not known yet */
    uint8_t **in_pool;     /* input buffers of closed connections, for new ones */
    size_t nin_pool;
    strmap_t conns_per_ip; /* ip -> (count cast to pointer) */

    int64_t packets_received, packets_sent;
    int64_t outstanding_requests; /* received, not yet answered */
    server_metrics_t metrics;
    latency_stats_t latency;
    int64_t start_mono_ms;
    int64_t container_deletions_this_minute;
    int64_t container_minute_start_ms;
    const char *version;
    int64_t trace_mask; /* gtmk/stmk; ZooKeeper's default is 306 */
    int exit_code;
    struct admin *admin; /* AdminServer and /metrics endpoints (src/admin), or NULL */

    /* persistence (persist.c) */
    store_dirs_t dirs;
    txnlog_writer_t writer;
    logthread_t log_thread;
    bool log_open;
    bool log_failed;
    buf_t log_enc;
    /* snapshots (snapshots.c) */
    store_roll_policy_t roll;
    int64_t txns_since_snapshot, bytes_since_snapshot;
    pid_t snap_pid;           /* a forked writer (gz snapshots) */
    snap_walk_t *snap_walk;   /* a fuzzy snapshot being serialized */
    snapwriter_t snap_writer; /* its file thread, while running */
    uv_idle_t snap_idle;      /* a slice of the walk per loop turn */
    uv_async_t snap_wake;     /* from the file thread */
    bool snap_handles;        /* snap_idle, snap_wake and sig_chld are initialised */
    int64_t snap_zxid, snap_started_ms;
    int64_t snap_rest_until_ms; /* no new writer before (uv_hrtime ms) */
    uv_signal_t sig_chld;
    uv_timer_t purge_timer;
    uv_idle_t apply_idle;  /* applies durable txns a slice per loop turn */
    int64_t durable_zxid;  /* what the log thread has made durable */
    int32_t apply_slice;   /* txns applied per loop turn */
    bool sliced_this_turn; /* a slice was applied in this loop turn */
};

/* Monotonic and wall clocks in ms. */
int64_t server_mono_ms(const server_t *s);
int64_t server_wall_ms(void);

int server_init(server_t *s, uv_loop_t *loop);
/* Recover the data dir (tree, sessions) and start the txn log. */
int server_open_data(server_t *s, char *err, size_t errlen);
int server_listen(server_t *s);
/* Stop serving: close the port and every connection, flush the log; the
 * loop then ends and main exits with `exit_code`. */
void server_stop(server_t *s, int exit_code);
void server_free(server_t *s);

/* conn.c */
void conn_accept(server_t *s);
void conn_close(conn_t *c, const char *why);
/* Write what is queued now (normally called once per loop turn). */
void conn_flush(conn_t *c);
/* Schedule a flush before the loop next waits for I/O. */
void conn_mark_dirty(conn_t *c);
/* Release the pooled input buffers (server teardown). */
void conn_pool_free(server_t *s);
void server_flush_dirty(uv_prepare_t *p);
/* Frame helpers: begin a reply frame on the connection's output. */
size_t conn_reply_begin(conn_t *c, int32_t xid, int64_t zxid, int32_t err);
void conn_reply_end(conn_t *c, size_t start);
void conn_send_header(conn_t *c, int32_t xid, int64_t zxid, int32_t err);

/* handshake.c: the first frame (ConnectRequest) of a connection. */
void handshake_process(conn_t *c, const uint8_t *p, size_t n);

/* request.c: one frame after the handshake. */
void request_process(conn_t *c, const uint8_t *p, size_t n);

/* commit.c: the write pipeline. A write is prepared (zxid assigned, checks
 * run against tree + outstanding changes) into a pending txn, made durable,
 * then applied in zxid order; the origin's reply goes out after its watch
 * events. server_submit returns the pending txn (owned by the pipeline). */
pending_txn_t *server_submit(server_t *s, conn_t *c, txn_origin_t origin, const prep_req_t *in);
/* Apply every pending txn with zxid <= upto (the durable point). */
void server_apply_durable(server_t *s, int64_t upto_zxid);
/* Start closing a session: mark it closing and submit its closeSession txn;
 * `c` (may be NULL) is answered with `xid` once it is applied. */
void server_close_session(server_t *s, session_t *sess, conn_t *c, int32_t xid);
/* A connection is going away: forget it in pending txns. */
void server_forget_conn(server_t *s, conn_t *c);

/* request.c */
/* Build and queue the reply of an applied client write. */
void request_reply_write(conn_t *c, const pending_txn_t *t, const txn_result_t *res);
/* Run queued requests while the per-session FIFO allows. */
void request_resume(conn_t *c);
/* handshake.c: the createSession txn of c has been applied. */
void handshake_session_created(conn_t *c, const pending_txn_t *t);
void server_on_tick(uv_timer_t *t);
void server_on_container_check(uv_timer_t *t);
/* Deliver a watch event to a connection (the watch manager's callback). */
void server_deliver_event(void *ctx, watch_owner_t *owner, int32_t type, const char *path,
                          size_t len, const void *acl);

void latency_record(latency_stats_t *l, int64_t ms);

/* fourlw glue */
void server_answer_fourlw(conn_t *c, fourlw_cmd_t cmd);

#endif
