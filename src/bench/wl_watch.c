/* wl_watch: notification fan-out. Sessions 0..W-1 each keep a data watch
 * on root/w (getData with watch=1, re-armed after every notification);
 * session W writes root/w with `depth` setData requests in flight.
 *
 * Delivery latency: the watcher knows the version v its last getData
 * returned, so the notification it gets is for version v+1, which the
 * writer's (v+1-base)-th setData produced (the writer is root/w's only
 * writer). That request's send time is still in the writer's ring or, once
 * answered, in w->send_ns. Latency = notification read - setData sent. */
#include "bench/workload.h"
#include "proto/zk.h"

static void writer_fill(eng_t *e, wl_ctx_t *w, eng_conn_t *c)
{
    uint32_t depth = (uint32_t)w->o->depth;
    while (eng_can_issue(e, c, depth)) {
        uint32_t seq = ++w->writer_seq;
        req_set_data(c, w->wpath, w->wpath_len, w->value, (size_t)w->o->value_bytes, SK_SET_DATA,
                     seq);
    }
}

static void watcher_arm(eng_t *e, wl_ctx_t *w, eng_conn_t *c)
{
    if (eng_can_issue(e, c, 1))
        req_get_data(c, w->wpath, w->wpath_len, 1, SK_GET_DATA, 0);
}

static void watch_ready(eng_t *e, eng_conn_t *c)
{
    wl_ctx_t *w = e->phase->ctx;
    if (c->index == w->watchers)
        writer_fill(e, w, c);
    else
        watcher_arm(e, w, c);
}

static int64_t send_time_of(eng_t *e, wl_ctx_t *w, uint32_t seq)
{
    const eng_conn_t *wc = &e->conns[w->watchers];
    for (uint32_t i = 0; i < wc->count; i++) {
        const eng_req_t *r = &wc->ring[(wc->head + i) % wc->ring_cap];
        if (r->op == ZOP_SET_DATA && r->aux == seq)
            return r->sent_ns;
    }
    if (seq == 0 || seq > w->writer_seq || w->writer_seq - seq >= WATCH_SEND_RING)
        return 0;
    return w->send_ns[seq % WATCH_SEND_RING];
}

static int32_t watch_reply(eng_t *e, eng_conn_t *c, const eng_req_t *r, int32_t err,
                           jute_reader_t *body)
{
    wl_ctx_t *w = e->phase->ctx;
    if (c->index == w->watchers) {
        w->send_ns[r->aux % WATCH_SEND_RING] = r->sent_ns;
        writer_fill(e, w, c);
        return err;
    }
    if (err == ZOK) {
        (void)jr_buffer(body);
        for (int k = 0; k < 4; k++)
            (void)jr_long(body); /* czxid, mzxid, ctime, mtime */
        int32_t version = jr_int(body);
        if (body->err)
            return ZMARSHALLINGERROR;
        c->w_version = version;
    }
    return err;
}

static void watch_notify(eng_t *e, eng_conn_t *c, int32_t type, jstr_t path)
{
    wl_ctx_t *w = e->phase->ctx;
    (void)path;
    if (c->index == w->watchers || type != ZEV_DATA_CHANGED)
        return;
    int64_t seq = c->w_version + 1 - w->watch_base_version;
    int64_t sent = seq > 0 && seq <= UINT32_MAX ? send_time_of(e, w, (uint32_t)seq) : 0;
    if (sent > 0)
        eng_record(e, SK_NOTIFY, e->now_ns - sent, 0);
    else if (e->measuring)
        w->notify_untimed++;
    watcher_arm(e, w, c);
}

eng_phase_t wl_watch_phase(wl_ctx_t *w)
{
    return (eng_phase_t){.name = "watch",
                         .on_ready = watch_ready,
                         .on_reply = watch_reply,
                         .on_notify = watch_notify,
                         .ctx = w};
}
