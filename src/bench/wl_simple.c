/* wl_simple: the request-per-slot workloads — read (getData), exists,
 * children (getChildren), write (setData), mixed and multi. Each session
 * keeps `depth` requests in flight on random keys; every reply is followed
 * at once by the next request on the same session. */
#include "bench/workload.h"
#include "proto/zk.h"

static void issue_one(eng_t *e, wl_ctx_t *w, eng_conn_t *c)
{
    const bench_opts_t *o = w->o;
    uint32_t key = (uint32_t)(eng_rand(e) % (uint64_t)o->keys);
    size_t n;
    switch (w->kind) {
    case WL_READ:
        n = keypath_key(&w->keys, key);
        req_get_data(c, w->keys.buf, n, 0, SK_GET_DATA, key);
        break;
    case WL_EXISTS:
        n = keypath_key(&w->keys, key);
        req_exists(c, w->keys.buf, n, SK_EXISTS, key);
        break;
    case WL_CHILDREN:
        req_get_children(c, w->root, w->root_len, SK_CHILDREN, 0);
        break;
    case WL_WRITE:
        n = keypath_key(&w->keys, key);
        req_set_data(c, w->keys.buf, n, w->value, (size_t)o->value_bytes, SK_SET_DATA, key);
        break;
    case WL_MIXED:
        n = keypath_key(&w->keys, key);
        if ((int)(eng_rand(e) % 100) < o->read_pct)
            req_get_data(c, w->keys.buf, n, 0, SK_GET_DATA, key);
        else
            req_set_data(c, w->keys.buf, n, w->value, (size_t)o->value_bytes, SK_SET_DATA, key);
        break;
    case WL_MULTI: {
        size_t start = req_multi_begin(c, SK_MULTI, 0);
        for (int i = 0; i < o->multi_ops; i++) {
            n = keypath_key(&w->keys, (uint32_t)(eng_rand(e) % (uint64_t)o->keys));
            req_multi_set_data(c, w->keys.buf, n, w->value, (size_t)o->value_bytes);
        }
        req_multi_end(c, start);
        break;
    }
    default:
        break;
    }
}

static void simple_fill(eng_t *e, eng_conn_t *c)
{
    wl_ctx_t *w = e->phase->ctx;
    uint32_t depth = (uint32_t)w->o->depth;
    while (eng_can_issue(e, c, depth))
        issue_one(e, w, c);
}

static int32_t simple_reply(eng_t *e, eng_conn_t *c, const eng_req_t *r, int32_t err,
                            jute_reader_t *body)
{
    if (err == ZOK && r->op == ZOP_MULTI)
        err = req_multi_result(body);
    simple_fill(e, c);
    return err;
}

eng_phase_t wl_simple_phase(wl_ctx_t *w)
{
    return (eng_phase_t){.name = workload_name(w->kind),
                         .on_ready = simple_fill,
                         .on_reply = simple_reply,
                         .ctx = w};
}
