/* internal: the session object shared by the client's files (not part of the
 * contract; only src/client includes it).
 *
 *   client.c   public API: open/close, accessors, request building
 *   conn.c     the connection state machine on libuv (connect, handshake,
 *              framing, pings, timeouts, reconnect, reply dispatch)
 *   call.c     synchronous helpers
 */
#ifndef CORRAL_CLIENT_INTERNAL_H
#define CORRAL_CLIENT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "base/buf.h"
#include "client/codec.h"
#include "client/hosts.h"
#include "client/watches.h"
#include "client/zkc.h"

/* Watch registration attached to a request, applied by its reply. */
enum zkc_wreg {
    ZKC_WREG_NONE = 0,
    ZKC_WREG_DATA,   /* getData: data watch on success */
    ZKC_WREG_EXISTS, /* exists: data watch on success, exist watch on NONODE */
    ZKC_WREG_CHILD,
    ZKC_WREG_PERSISTENT,
    ZKC_WREG_RECURSIVE,
    ZKC_WREG_REMOVE, /* removeWatches: local removal */
};

typedef struct zkc_req {
    struct zkc_req *next;
    int32_t op;
    int32_t xid;
    buf_t frame; /* whole frame; xid patched at send time */
    zkc_done_fn cb;
    void *ctx;
    uint8_t wreg;
    char *wpath;     /* client path the registration applies to */
    int32_t rm_type; /* removeWatches watcher type */
    bool rm_local;   /* removeWatches -l */
    bool internal;   /* auth replay / setWatches: not a user request */
} zkc_req_t;

typedef struct zkc_queue {
    zkc_req_t *head, *tail;
    size_t n;
} zkc_queue_t;

void zkc_queue_push(zkc_queue_t *q, zkc_req_t *r);
zkc_req_t *zkc_queue_pop(zkc_queue_t *q);

typedef struct zkc_auth {
    char *scheme;
    uint8_t *data;
    int32_t len;        /* -1: null */
    zkc_req_t *waiting; /* zkc_add_auth's request until its first send */
} zkc_auth_t;

enum zkc_phase {
    ZKC_P_IDLE,      /* no connection, no attempt running (backoff or dead) */
    ZKC_P_RESOLVING, /* getaddrinfo in flight */
    ZKC_P_TCP,       /* uv_tcp_connect in flight */
    ZKC_P_HANDSHAKE, /* ConnectRequest sent */
    ZKC_P_CONNECTED,
};

/* A TCP connection's handle: allocated per attempt because closing a libuv
 * handle completes later; `owner` is cleared when the session lets go. */
typedef struct zkc_sock {
    uv_tcp_t tcp;
    uv_connect_t connect;
    struct zkc *owner;
} zkc_sock_t;

struct zkc {
    uv_loop_t *loop;
    zkc_hosts_t hosts;
    int next_host;    /* index of the host the next attempt uses */
    int fails_in_row; /* failed attempts since the last handshake */
    int32_t reconnect_delay_ms;
    uint32_t max_frame;
    bool read_only;
    zkc_watcher_fn watcher;
    void *watcher_ctx;

    zkc_state_t state;
    enum zkc_phase phase;
    int32_t last_event_state; /* last keeper state delivered (dedup, as EventThread) */
    char *cur_host;           /* display name of the host of the current attempt */
    char last_error[160];

    /* session */
    int32_t timeout_req_ms;
    int32_t timeout_ms; /* negotiated */
    int64_t session_id;
    uint8_t passwd[ZKC_PASSWD_LEN];
    int64_t last_zxid;
    int32_t next_xid;

    /* connection */
    zkc_sock_t *sock;
    struct zkc_gai *gai; /* getaddrinfo in flight (detached when abandoned) */
    bool gai_active;
    const char *drop_why; /* set: drop the connection at the next tick */
    uv_timer_t timer;
    uint64_t attempt_deadline; /* loop ms */
    uint64_t last_send, last_recv;
    buf_t rbuf;
    size_t rpos; /* bytes of rbuf already parsed */

    zkc_queue_t outgoing;     /* waiting to be sent */
    zkc_queue_t pending;      /* sent, waiting for their reply, in xid order */
    zkc_queue_t auth_pending; /* auth packets sent, replies come out of band */

    zkc_auth_t *auths;
    int n_auths;
    zkc_watches_t watches;
    zkc_stats_t stats;

    /* closing */
    bool closing;
    bool close_quiet;
    uint64_t close_deadline;
    zkc_closed_fn close_done;
    void *close_ctx;
    bool free_pending; /* the timer is closing; memory goes in its close callback */
};

/* conn.c */
void zkc_conn_start(zkc_t *zk);
/* Queue a request (takes ownership) and send it if connected. */
void zkc_conn_submit(zkc_t *zk, zkc_req_t *r);
/* Drop the connection; `err` goes to every queued and in-flight request. */
void zkc_conn_lost(zkc_t *zk, int32_t err, const char *why);
void zkc_conn_flush(zkc_t *zk);
void zkc_conn_rearm(zkc_t *zk);
void zkc_timer_cb(uv_timer_t *t);
/* Deliver a session event (None type) unless it repeats the last state. */
void zkc_deliver_state(zkc_t *zk, int32_t keeper_state);
void zkc_deliver(zkc_t *zk, int32_t type, int32_t keeper_state, const char *path);
/* Complete a request: run its callback with `res` (freed afterwards). */
void zkc_complete(zkc_t *zk, zkc_req_t *r, zkc_result_t *res);
void zkc_fail(zkc_t *zk, zkc_req_t *r, int32_t err);
void zkc_req_free(zkc_req_t *r);

/* client.c */
char *zkc_server_path(const zkc_t *zk, const char *client_path);
/* Strip the chroot from a server path (malloc'ed result). */
char *zkc_client_path(const zkc_t *zk, const char *server_path);
void zkc_finish_close(zkc_t *zk);

#endif
