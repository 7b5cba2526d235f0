/* wl_sessions: session churn. Each session slot loops: connect and
 * handshake, create one ephemeral znode, closeSession, close the socket.
 * One loop is one op ("session"); connect, create and close are also
 * timed on their own. A slot whose ephemeral exists always closes its
 * session, even while the run drains, so teardown finds the root empty. */
#include "bench/workload.h"
#include "proto/zk.h"

#define SESSIONS_CLOSE_WAIT_MS 1000

static void sessions_ready(eng_t *e, eng_conn_t *c)
{
    wl_ctx_t *w = e->phase->ctx;
    if (e->draining || !eng_can_issue(e, c, 1))
        return;
    if (c->w_start_ns < e->phase_start_ns)
        c->w_start_ns = e->now_ns; /* connected before the run: time from now */
    size_t n = keypath_key(&w->eph, w->eph_counter++);
    req_create(c, w->eph.buf, n, w->value, (size_t)w->o->value_bytes, ZMODE_EPHEMERAL, SK_CREATE,
               0);
}

static int32_t sessions_reply(eng_t *e, eng_conn_t *c, const eng_req_t *r, int32_t err,
                              jute_reader_t *body)
{
    (void)body;
    if (r->op == ZOP_CREATE) {
        if (eng_can_finish(c))
            req_close_session(c, SK_CLOSE);
        return err;
    }
    if (r->op == ZOP_CLOSE_SESSION) {
        eng_record(e, SK_CYCLE, e->now_ns - c->w_start_ns, err);
        eng_await_close(e, c, SESSIONS_CLOSE_WAIT_MS);
    }
    return err;
}

/* The server closed the socket after our closeSession: start the next
 * session at once. */
static void sessions_closed(eng_t *e, eng_conn_t *c, bool expected)
{
    if (expected && !e->draining)
        eng_connect(e, c);
}

eng_phase_t wl_sessions_phase(wl_ctx_t *w)
{
    return (eng_phase_t){.name = "sessions",
                         .on_ready = sessions_ready,
                         .on_reply = sessions_reply,
                         .on_closed = sessions_closed,
                         .ctx = w};
}
