/* wl_create: create + delete pairs. Every in-flight slot creates a znode
 * (PERSISTENT_SEQUENTIAL under root/s-, or a plain numbered root/p…) and,
 * when the create returns, deletes the path the server named. Both count as
 * ops. The delete is still sent while the run drains, so nothing is left. */
#include "bench/workload.h"
#include "proto/zk.h"

static void create_fill(eng_t *e, eng_conn_t *c)
{
    wl_ctx_t *w = e->phase->ctx;
    uint32_t depth = (uint32_t)w->o->depth;
    size_t vlen = (size_t)w->o->value_bytes;
    while (eng_can_issue(e, c, depth)) {
        if (w->o->create_sequential) {
            req_create(c, w->seq_prefix, w->seq_prefix_len, w->value, vlen,
                       ZMODE_PERSISTENT_SEQUENTIAL, SK_CREATE, 0);
        } else {
            uint32_t id = w->plain_counter++;
            size_t n = keypath_key(&w->plain, id);
            req_create(c, w->plain.buf, n, w->value, vlen, ZMODE_PERSISTENT, SK_CREATE, id);
        }
    }
}

static int32_t create_reply(eng_t *e, eng_conn_t *c, const eng_req_t *r, int32_t err,
                            jute_reader_t *body)
{
    if (r->op == ZOP_CREATE && err == ZOK) {
        jstr_t path = jr_string(body);
        if (body->err || path.len <= 0)
            return ZMARSHALLINGERROR;
        if (eng_can_finish(c))
            req_delete(c, path.ptr, (size_t)path.len, SK_DELETE, r->aux);
        return err;
    }
    create_fill(e, c);
    return err;
}

eng_phase_t wl_create_phase(wl_ctx_t *w)
{
    return (eng_phase_t){
        .name = "create", .on_ready = create_fill, .on_reply = create_reply, .ctx = w};
}
