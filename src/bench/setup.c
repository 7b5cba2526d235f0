/* setup: the unmeasured phases around a run — creating the root and the
 * znodes a workload reads or writes, deleting everything afterwards, and
 * closing sessions politely. All of them are "batches": n numbered items,
 * each one request, pipelined over every ready session. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/workload.h"
#include "proto/zk.h"

typedef struct batch batch_t;
struct batch {
    const char *what;
    wl_ctx_t *w;
    uint32_t next, n;
    void (*issue)(batch_t *, eng_conn_t *, uint32_t item);
    int32_t ok_err; /* tolerated error besides ZOK (NODEEXISTS, NONODE) */
    /* optional: look at a successful reply */
    void (*reply)(batch_t *, const eng_req_t *, jute_reader_t *);
    uint64_t failures;
    int32_t first_err;
    bool lost;
    /* teardown: the root's children from getChildren */
    char *names;
    uint32_t *name_off;
    uint32_t nnames;
    int32_t root_err;
};

static void batch_fill(eng_t *e, eng_conn_t *c)
{
    batch_t *b = e->phase->ctx;
    while (b->next < b->n && eng_can_issue(e, c, ENG_SETUP_DEPTH) && !b->failures)
        b->issue(b, c, b->next++);
}

static int32_t batch_reply(eng_t *e, eng_conn_t *c, const eng_req_t *r, int32_t err,
                           jute_reader_t *body)
{
    batch_t *b = e->phase->ctx;
    if (err == ZOK && b->reply)
        b->reply(b, r, body);
    if (err != ZOK && err != b->ok_err) {
        if (!b->failures++)
            b->first_err = err;
    }
    batch_fill(e, c);
    return err;
}

static void batch_closed(eng_t *e, eng_conn_t *c, bool expected)
{
    batch_t *b = e->phase->ctx;
    (void)c;
    if (!expected)
        b->lost = true;
}

static bool batch_done(eng_t *e)
{
    batch_t *b = e->phase->ctx;
    return e->inflight == 0 && (b->next >= b->n || b->failures || b->lost);
}

/* Run a batch; 0 when every item succeeded (or hit the tolerated error). */
static int batch_run(eng_t *e, batch_t *b)
{
    const bench_opts_t *o = e->opts;
    eng_phase_t ph = {.name = b->what,
                      .on_ready = batch_fill,
                      .on_reply = batch_reply,
                      .on_closed = batch_closed,
                      .done = batch_done,
                      .ctx = b};
    if (b->n == 0)
        return 0;
    if (e->nready == 0 && eng_connect_all(e, 30) != 0)
        return -1;
    int64_t deadline = eng_now_ns() + (int64_t)o->setup_timeout_s * 1000000000LL;
    int rc = eng_run(e, &ph, deadline);
    if (b->w->in_teardown)
        b->w->teardown_requests += b->next;
    else
        b->w->setup_requests += b->next;
    if (rc < 0)
        return -1;
    if (rc == 1) {
        fprintf(stderr, "corral-bench: %s: not finished after %d s (%u of %u sent)\n", b->what,
                o->setup_timeout_s, b->next, b->n);
        return -1;
    }
    if (b->lost) {
        fprintf(stderr, "corral-bench: %s: a connection was lost\n", b->what);
        return -1;
    }
    if (b->failures) {
        fprintf(stderr, "corral-bench: %s: %llu requests failed, first with %s (%d)\n", b->what,
                (unsigned long long)b->failures, zk_error_name(b->first_err), b->first_err);
        return -1;
    }
    return 0;
}

/* --- setup items ------------------------------------------------------ */

static void issue_create_root(batch_t *b, eng_conn_t *c, uint32_t i)
{
    (void)i;
    req_create(c, b->w->root, b->w->root_len, "", 0, ZMODE_PERSISTENT, SK_SETUP, 0);
}

static void issue_create_key(batch_t *b, eng_conn_t *c, uint32_t i)
{
    wl_ctx_t *w = b->w;
    size_t n = keypath_key(&w->keys, i);
    req_create(c, w->keys.buf, n, w->value, (size_t)w->o->value_bytes, ZMODE_PERSISTENT, SK_SETUP,
               i);
}

static void issue_create_watch(batch_t *b, eng_conn_t *c, uint32_t i)
{
    (void)i;
    req_create(c, b->w->wpath, b->w->wpath_len, "", 0, ZMODE_PERSISTENT, SK_SETUP, 0);
}

static void issue_exists_watch(batch_t *b, eng_conn_t *c, uint32_t i)
{
    (void)i;
    req_exists(c, b->w->wpath, b->w->wpath_len, SK_SETUP, 0);
}

static void reply_exists_watch(batch_t *b, const eng_req_t *r, jute_reader_t *body)
{
    (void)r;
    for (int k = 0; k < 4; k++)
        (void)jr_long(body); /* czxid, mzxid, ctime, mtime */
    int32_t version = jr_int(body);
    if (!body->err)
        b->w->watch_base_version = version;
}

static int run_simple(eng_t *e, wl_ctx_t *w, const char *what, uint32_t n,
                      void (*issue)(batch_t *, eng_conn_t *, uint32_t), int32_t ok_err,
                      void (*reply)(batch_t *, const eng_req_t *, jute_reader_t *))
{
    batch_t b = {.what = what, .w = w, .n = n, .issue = issue, .ok_err = ok_err, .reply = reply};
    return batch_run(e, &b);
}

int wl_setup(eng_t *e, wl_ctx_t *w, workload_kind_t kind)
{
    const bench_opts_t *o = w->o;
    int64_t t0 = eng_now_ns();
    int rc = run_simple(e, w, "create root", 1, issue_create_root, ZNODEEXISTS, NULL);
    uint32_t nkeys = 0;
    switch (kind) {
    case WL_READ:
    case WL_EXISTS:
    case WL_WRITE:
    case WL_MIXED:
    case WL_MULTI:
    case WL_POPULATE:
        nkeys = (uint32_t)o->keys;
        break;
    case WL_CHILDREN:
        nkeys = (uint32_t)o->children;
        break;
    default:
        break;
    }
    if (!rc)
        rc = run_simple(e, w, "create znodes", nkeys, issue_create_key, ZNODEEXISTS, NULL);
    if (!rc && kind == WL_WATCH) {
        rc = run_simple(e, w, "create watched znode", 1, issue_create_watch, ZNODEEXISTS, NULL);
        if (!rc)
            rc = run_simple(e, w, "read watched znode", 1, issue_exists_watch, 0,
                            reply_exists_watch);
    }
    w->setup_s = (double)(eng_now_ns() - t0) / 1e9;
    return rc;
}

/* --- teardown --------------------------------------------------------- */

static int teardown_rounds(eng_t *e, wl_ctx_t *w);

static void issue_list_root(batch_t *b, eng_conn_t *c, uint32_t i)
{
    (void)i;
    req_get_children(c, b->w->root, b->w->root_len, SK_SETUP, 0);
}

static void reply_list_root(batch_t *b, const eng_req_t *r, jute_reader_t *body)
{
    (void)r;
    int32_t n = jr_vector_count(body, 4);
    if (body->err || n <= 0)
        return;
    b->names = xmalloc(jr_remaining(body) + (size_t)n);
    b->name_off = xcalloc((size_t)n + 1, sizeof(uint32_t));
    uint32_t at = 0;
    for (int32_t i = 0; i < n; i++) {
        jstr_t s = jr_string(body);
        if (body->err || s.len < 0)
            break;
        memcpy(b->names + at, s.ptr, (size_t)s.len);
        b->name_off[b->nnames++] = at;
        at += (uint32_t)s.len;
        b->name_off[b->nnames] = at;
    }
}

static void issue_delete_child(batch_t *b, eng_conn_t *c, uint32_t i)
{
    char path[ENG_PATH_MAX + 256];
    wl_ctx_t *w = b->w;
    uint32_t off = b->name_off[i], len = b->name_off[i + 1] - off;
    if (w->root_len + 1 + len > sizeof(path))
        len = (uint32_t)(sizeof(path) - w->root_len - 1);
    memcpy(path, w->root, w->root_len);
    path[w->root_len] = '/';
    memcpy(path + w->root_len + 1, b->names + off, len);
    req_delete(c, path, w->root_len + 1 + len, SK_SETUP, i);
}

static void issue_delete_root(batch_t *b, eng_conn_t *c, uint32_t i)
{
    (void)i;
    req_delete(c, b->w->root, b->w->root_len, SK_SETUP, 0);
}

int wl_teardown(eng_t *e, wl_ctx_t *w)
{
    w->in_teardown = true;
    int rc = teardown_rounds(e, w);
    w->in_teardown = false;
    return rc;
}

/* List the root, delete its children, delete it; again while children
 * keep appearing (ephemerals of sessions still closing). */
static int teardown_rounds(eng_t *e, wl_ctx_t *w)
{
    if (eng_connect_all(e, 30) != 0)
        return -1;
    for (int round = 0; round < TEARDOWN_MAX_ROUNDS; round++) {
        batch_t list = {.what = "list root",
                        .w = w,
                        .n = 1,
                        .issue = issue_list_root,
                        .ok_err = ZNONODE,
                        .reply = reply_list_root};
        int rc = batch_run(e, &list);
        if (!rc && list.nnames) {
            /* The delete batch borrows the listing's names. */
            batch_t del = {.what = "delete znodes",
                           .w = w,
                           .n = list.nnames,
                           .issue = issue_delete_child,
                           .ok_err = ZNONODE,
                           .names = list.names,
                           .name_off = list.name_off};
            rc = batch_run(e, &del);
        }
        free(list.names);
        free(list.name_off);
        if (rc)
            return -1;
        batch_t del = {
            .what = "delete root", .w = w, .n = 1, .issue = issue_delete_root, .ok_err = ZNONODE};
        rc = batch_run(e, &del);
        if (!rc)
            return 0;
        if (del.first_err != ZNOTEMPTY)
            return -1;
        /* Children appeared meanwhile (ephemerals of sessions still closing). */
    }
    return -1;
}

/* --- closing sessions -------------------------------------------------- */

static void close_ready(eng_t *e, eng_conn_t *c)
{
    if (eng_can_finish(c) && c->count == 0)
        req_close_session(c, SK_SETUP);
    (void)e;
}

static int32_t close_reply(eng_t *e, eng_conn_t *c, const eng_req_t *r, int32_t err,
                           jute_reader_t *body)
{
    (void)body;
    if (r->op == ZOP_CLOSE_SESSION)
        eng_close(e, c, true);
    return err;
}

static bool close_done(eng_t *e)
{
    return e->nready == 0 && e->inflight == 0;
}

void wl_close_all(eng_t *e)
{
    eng_phase_t ph = {
        .name = "close", .on_ready = close_ready, .on_reply = close_reply, .done = close_done};
    e->phase = NULL;
    for (int i = 0; i < e->nconns; i++) {
        e->conns[i].reconnect_at_ns = 0;
        if (e->conns[i].state != CS_READY)
            eng_close(e, &e->conns[i], true);
    }
    eng_run(e, &ph, eng_now_ns() + 5000000000LL);
}
