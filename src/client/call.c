/* call: synchronous helpers — run the caller's loop until one request
 * completes, or until the session is connected (see zkc.h). They use their
 * own timer so that a bound holds even when nothing else happens. */
#include <string.h>

#include "client/internal.h"

void zkc_call_done(zkc_t *zk, zkc_result_t *res, void *ctx)
{
    (void)zk;
    zkc_call_t *c = ctx;
    zkc_result_move(&c->res, res);
    c->done = true;
}

typedef struct deadline {
    uv_timer_t timer;
    bool fired;
    bool closed;
} deadline_t;

static void deadline_fired(uv_timer_t *t)
{
    ((deadline_t *)t->data)->fired = true;
}

static void deadline_closed(uv_handle_t *h)
{
    ((deadline_t *)h->data)->closed = true;
}

static void deadline_start(uv_loop_t *loop, deadline_t *d, int64_t timeout_ms)
{
    memset(d, 0, sizeof *d);
    uv_timer_init(loop, &d->timer);
    d->timer.data = d;
    if (timeout_ms >= 0)
        uv_timer_start(&d->timer, deadline_fired, (uint64_t)timeout_ms, 0);
}

static void deadline_end(uv_loop_t *loop, deadline_t *d)
{
    uv_close((uv_handle_t *)&d->timer, deadline_closed);
    while (!d->closed)
        uv_run(loop, UV_RUN_ONCE);
}

int zkc_call_wait(zkc_t *zk, zkc_call_t *call, int64_t timeout_ms)
{
    uv_loop_t *loop = zk->loop;
    if (call->done)
        return call->res.err;
    deadline_t d;
    deadline_start(loop, &d, timeout_ms);
    while (!call->done && !d.fired)
        uv_run(loop, UV_RUN_ONCE);
    deadline_end(loop, &d);
    if (!call->done) {
        zkc_forget(zk, call);
        memset(&call->res, 0, sizeof call->res);
        call->res.err = ZOPERATIONTIMEOUT;
        call->res.data_len = -1;
        call->done = true;
    }
    return call->res.err;
}

bool zkc_wait_connected(zkc_t *zk, int64_t timeout_ms, bool fail_fast)
{
    uv_loop_t *loop = zk->loop;
    uint64_t fails_at_start = zk->stats.failed_tries;
    deadline_t d;
    deadline_start(loop, &d, timeout_ms);
    while (!d.fired && zkc_is_alive(zk) && !zkc_is_connected(zk)) {
        if (fail_fast && zk->stats.failed_tries - fails_at_start >= (uint64_t)zk->hosts.n)
            break;
        uv_run(loop, UV_RUN_ONCE);
    }
    deadline_end(loop, &d);
    return zkc_is_connected(zk);
}
