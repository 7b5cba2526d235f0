/* engine: corral-bench's single-threaded async client core (epoll).
 *
 * One thread drives many ZooKeeper sessions. Each connection owns a fixed
 * output buffer into which requests are encoded directly, a read buffer in
 * which replies are decoded in place, and a ring of in-flight requests
 * (replies come back in request order, so a FIFO suffices). Requests are
 * time-stamped when handed to the kernel (one write per connection per loop
 * turn) and replies when read, so latency covers the network and the
 * server but not client-side queueing. Nothing is allocated per request.
 *
 * A workload plugs in as a phase: callbacks for "connection ready", "reply",
 * "notification" and "connection closed". The engine measures: while
 * `measuring`, every reply is recorded in the stats. */
#ifndef CORRAL_BENCH_ENGINE_H
#define CORRAL_BENCH_ENGINE_H

#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/jute.h"
#include "bench/opts.h"
#include "bench/stats.h"

#define ENG_SETUP_DEPTH 64         /* in-flight requests per session in setup/teardown */
#define ENG_IN_INITIAL (64u << 10) /* read buffer to start with */
#define ENG_MAX_FRAME (64u << 20)  /* largest reply accepted (getChildren of a big root) */
#define ENG_MAX_EVENTS 256         /* epoll events per wait */
#define ENG_DRAIN_TIMEOUT_NS (10LL * 1000000000LL)
#define ENG_RECONNECT_DELAY_NS (100LL * 1000000LL)
#define ENG_PATH_MAX 512 /* longest path the workloads build */

typedef struct eng eng_t;
typedef struct eng_conn eng_conn_t;

/* One request in flight. */
typedef struct eng_req {
    int64_t sent_ns; /* 0 until written to the socket */
    int32_t xid;
    int16_t op;   /* opcode */
    uint8_t kind; /* stats kind (stat_kind_t) */
    uint8_t flags;
    uint32_t aux; /* workload data, e.g. the key index */
} eng_req_t;

typedef enum conn_state {
    CS_CLOSED = 0,
    CS_CONNECTING, /* TCP connect in progress; ConnectRequest queued */
    CS_HANDSHAKE,  /* ConnectRequest sent, waiting for the ConnectResponse */
    CS_READY,
} conn_state_t;

struct eng_conn {
    eng_t *eng;
    int index;
    int fd;
    conn_state_t state;
    int server; /* index into opts->servers */
    buf_t out;  /* encoded, not yet written; capacity fixed at init */
    size_t out_limit;
    uint8_t *in;
    size_t in_len, in_cap;
    eng_req_t *ring;
    uint32_t ring_cap, head, count, unstamped;
    int32_t next_xid;
    int64_t session_id;
    int64_t connect_start_ns, last_send_ns, reconnect_at_ns;
    uint32_t gen;       /* bumped on every connect and close: stale epoll events are dropped */
    int32_t timeout_ms; /* negotiated session timeout */
    int64_t close_deadline_ns; /* awaiting the server's close until then (0: not) */
    bool dirty, epoll_out;
    /* workload scratch, reset on (re)connect */
    int64_t w_version;
    int64_t w_start_ns;
    uint32_t w_counter;
};

typedef struct eng_phase {
    const char *name;
    /* The connection's session is ready (also called for every ready
     * connection when the phase starts): fill its pipeline. */
    void (*on_ready)(eng_t *, eng_conn_t *);
    /* A reply; body is positioned after the ReplyHeader (only meaningful
     * when err == 0). The request has already left the ring. Returns the
     * error to record for it (normally err; a multi returns its first
     * failed sub-op's code). */
    int32_t (*on_reply)(eng_t *, eng_conn_t *, const eng_req_t *, int32_t err, jute_reader_t *body);
    void (*on_notify)(eng_t *, eng_conn_t *, int32_t type, jstr_t path); /* optional */
    void (*on_closed)(eng_t *, eng_conn_t *, bool expected);             /* optional */
    bool (*done)(eng_t *); /* optional: the phase ends when this returns true */
    void *ctx;
} eng_phase_t;

struct eng {
    const bench_opts_t *opts;
    struct sockaddr_in addrs[BENCH_MAX_SERVERS];
    int epfd;
    eng_conn_t *conns;
    int nconns;
    int *dirty;
    int ndirty;
    const eng_phase_t *phase;
    stats_t *stats;
    int64_t now_ns;
    uint64_t rng;
    int64_t inflight; /* requests in flight over all connections */
    int nready;
    int nconnecting;
    int64_t phase_start_ns;
    int64_t next_housekeeping_ns;
    /* progress line hook, called once a second while measuring */
    void (*progress)(eng_t *, double elapsed_s);
    int lost_logged; /* connection-loss messages printed (bounded) */
    bool measuring;
    bool draining; /* no new requests; wait for replies */
    bool fatal;
    char fatal_msg[512];
    size_t max_request_bytes;
};

/* Set from a SIGINT handler: the measured window ends early (the run still
 * drains, tears down and reports). */
extern volatile sig_atomic_t eng_interrupted;

int64_t eng_now_ns(void);
/* Resolve servers, create the epoll set and n connections (not connected).
 * max_request_bytes bounds one encoded request; with the depth it sizes
 * every output buffer. Returns 0 or -1 with a message in e->fatal_msg. */
int eng_init(eng_t *e, const bench_opts_t *o, stats_t *stats, int nconns, size_t max_request_bytes);
void eng_free(eng_t *e);

/* Start (or restart) the TCP connection and handshake of one connection. */
void eng_connect(eng_t *e, eng_conn_t *c);
/* Close a connection now; requests in flight count as CONNECTIONLOSS unless
 * `expected` (e.g. after a closeSession reply). */
void eng_close(eng_t *e, eng_conn_t *c, bool expected);
/* After a closeSession reply: let the server close first (so TIME_WAIT
 * stays on its side, not on our ephemeral ports); close ourselves if it has
 * not within timeout_ms. Either way the close counts as expected. */
void eng_await_close(eng_t *e, eng_conn_t *c, int timeout_ms);
/* Connect every closed connection and wait until all are ready. */
int eng_connect_all(eng_t *e, int timeout_s);

/* Run a phase until phase->done(), the deadline (0: none), or a fatal error.
 * Returns 0 when done, 1 on deadline, -1 on fatal error. */
int eng_run(eng_t *e, const eng_phase_t *ph, int64_t deadline_ns);

/* A measured run: warm up, measure for duration or op count, then drain.
 * Fills the stats' wall and CPU figures. Returns 0 or -1. */
int eng_measure(eng_t *e, const eng_phase_t *ph);

/* --- issuing requests ----------------------------------------------- */

/* Room for one more request (ready, not draining, under `depth`)? */
static inline bool eng_can_issue(const eng_t *e, const eng_conn_t *c, uint32_t depth)
{
    return c->state == CS_READY && !e->draining && c->count < depth && c->count < c->ring_cap &&
           !c->close_deadline_ns;
}
/* Room for a request that completes earlier work (a delete after a create,
 * a closeSession after an ephemeral): allowed while draining too. */
static inline bool eng_can_finish(const eng_conn_t *c)
{
    return c->state == CS_READY && c->count < c->ring_cap && !c->close_deadline_ns;
}
/* Record a measured completion the engine did not see as a reply (session
 * cycles, notifications); ends the window when --ops is reached. */
void eng_record(eng_t *e, stat_kind_t kind, int64_t latency_ns, int32_t err);
/* Begin a request frame: pushes a ring entry, writes length placeholder and
 * RequestHeader. Returns the frame start to pass to eng_req_end. */
size_t eng_req_begin(eng_conn_t *c, int32_t op, uint8_t kind, uint32_t aux);
void eng_req_end(eng_conn_t *c, size_t start);
/* Send a ping (xid -2, not tracked in the ring). */
void eng_ping(eng_conn_t *c);

uint64_t eng_rand(eng_t *e);

#endif
