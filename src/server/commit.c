/* commit: the write path of a standalone server — zxid assignment, prep,
 * apply and the outstanding-change bookkeeping — plus the writes the server
 * makes on its own: session expiry (closeSession) and the container/TTL
 * reaper (deleteContainer). Watch events produced by apply are queued on the
 * watchers' connections here, before the writer's reply is queued (§9.4).
 *
 * Between prep and apply sits the log (persist.c, logthread.c): a txn is
 * applied, and answered, only once the batch holding it is fsynced. Pending
 * txns live in no-fork memory (nofork.h) so snapshots cost the loop no
 * copy-on-write faults on them. */
#include "server.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t server_mono_ms(const server_t *s)
{
    /* libuv's clock, refreshed once per loop turn: ms resolution is all that
     * session buckets and latency figures use, and it saves a syscall per
     * request. Before the loop exists, read the clock directly. */
    if (s && s->loop)
        return (int64_t)uv_now(s->loop);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t server_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void server_deliver_event(void *ctx, watch_owner_t *owner, int32_t type, const char *path,
                          size_t len, const void *acl)
{
    server_t *s = ctx;
    conn_t *c = (conn_t *)((char *)owner - offsetof(conn_t, watches));
    if (c->state != CONN_READY)
        return;
    /* As ZooKeeper 3.8.4+: a watcher without READ on the node (the parent for
     * NodeChildrenChanged) does not hear about it. */
    const tree_acl_t *a = acl;
    if (a && !auth_check(&a->list, ZK_PERM_READ, &c->ids, s->cfg.skip_acl))
        return;
    size_t at = proto_frame_begin(&c->out);
    proto_write_reply_header(&c->out, ZXID_NOTIFICATION, -1, ZOK);
    jw_int(&c->out, type);
    jw_int(&c->out, ZSTATE_SYNC_CONNECTED);
    jw_buffer(&c->out, path, (int32_t)len);
    conn_reply_end(c, at);
    /* Flushed by the caller's turn; a client that never reads is cut off
     * here rather than growing without bound. Closing is deferred to the
     * loop (conn_close never frees synchronously). */
    if (c->out.len + c->writing.len > CONN_OUT_HARD_LIMIT)
        conn_close(c, "output buffer limit exceeded (client not reading)");
}

_Static_assert(sizeof(pending_txn_t) + 64 <= PENDING_TXN_SLOT, "pending_txn_t leaves no room");

pending_txn_t *server_submit(server_t *s, conn_t *c, txn_origin_t origin, const prep_req_t *in)
{
    pending_txn_t *t = nf_pool_get(&s->txn_pool);
    memset(t, 0, sizeof(*t));
    t->origin = origin;
    t->conn = c;
    t->xid = in->cxid;
    t->req_type = in->type;
    t->session_id = in->session_id;
    t->timeout_ms = in->session_timeout_ms;
    t->received_ms = server_mono_ms(s);
    prep_req_t req = *in;
    req.zxid = ++s->last_prepped_zxid;
    req.time_ms = server_wall_ms();
    buf_reset(&s->prep_body);
    t->err = prep_write(&s->prep, &req, &t->hdr, &s->prep_body);
    t->body_len = s->prep_body.len;
    if (t->body_len <= PENDING_TXN_SLOT - sizeof(*t)) {
        if (t->body_len)
            memcpy(t->room, s->prep_body.data, t->body_len);
        t->body = t->room;
    } else {
        t->body_heap = xmalloc(t->body_len);
        memcpy(t->body_heap, s->prep_body.data, t->body_len);
        t->body = t->body_heap;
    }
    s->metrics.writes_prepared++;
    s->metrics.txns_logged++;
    if (s->uncommitted_tail)
        s->uncommitted_tail->next = t;
    else
        s->uncommitted_head = t;
    s->uncommitted_tail = t;
    if (c)
        c->inflight++;
    s->outstanding_requests++;
    /* Durable point: the log thread writes and fsyncs it with its batch and
     * then calls back (persist.c), which applies it and answers. */
    persist_append(s, t);
    return t;
}

static void resume_later(server_t *s, conn_t *c)
{
    for (size_t i = 0; i < s->nresume; i++)
        if (s->resume[i] == c)
            return;
    if (s->nresume == s->resume_cap) {
        s->resume_cap = s->resume_cap ? s->resume_cap * 2 : 16;
        s->resume = xrealloc(s->resume, s->resume_cap * sizeof(*s->resume));
    }
    s->resume[s->nresume++] = c;
}

static void finish(server_t *s, pending_txn_t *t, txn_result_t *res)
{
    conn_t *c = t->conn;
    switch (t->origin) {
    case TXN_CLIENT:
        if (c)
            request_reply_write(c, t, res);
        break;
    case TXN_CREATE_SESSION:
        session_add(&s->sessions, t->session_id, t->timeout_ms, server_mono_ms(s));
        if (c)
            handshake_session_created(c, t);
        break;
    case TXN_CLOSE_SESSION: {
        session_t *sess = session_get(&s->sessions, t->session_id);
        if (sess) {
            if (sess->owner) {
                conn_t *owner = sess->owner;
                owner->session = NULL;
                if (owner != c)
                    conn_close(owner, "session closed");
            }
            session_remove(&s->sessions, sess);
        }
        if (c) {
            conn_send_header(c, t->xid, t->hdr.zxid, ZOK);
            c->close_after_flush = true;
        }
        break;
    }
    case TXN_INTERNAL:
        break;
    }
    if (c) {
        c->inflight--;
        if (c->inflight == 0 && c->q_head)
            resume_later(s, c);
    }
    s->outstanding_requests--;
}

void server_apply_durable(server_t *s, int64_t upto_zxid)
{
    while (s->uncommitted_head && s->uncommitted_head->hdr.zxid <= upto_zxid) {
        pending_txn_t *t = s->uncommitted_head;
        s->uncommitted_head = t->next;
        if (!s->uncommitted_head)
            s->uncommitted_tail = NULL;
        txn_result_t res;
        if (!txn_apply(&s->tree, &s->watches, &t->hdr, t->body, t->body_len, &res))
            log_error(&s->log, "internal error: txn 0x%llx of type %d did not apply",
                      (unsigned long long)t->hdr.zxid, t->hdr.type);
        s->last_zxid = t->hdr.zxid;
        prep_committed(&s->prep, t->hdr.zxid);
        finish(s, t, &res);
        txn_result_free(&res);
        free(t->body_heap);
        nf_pool_put(&s->txn_pool, t);
    }
    /* Connections whose reads were waiting for these writes go on now. */
    for (size_t i = 0; i < s->nresume; i++) {
        conn_t *c = s->resume[i];
        s->resume[i] = NULL;
        if (c)
            request_resume(c);
    }
    s->nresume = 0;
}

void server_forget_conn(server_t *s, conn_t *c)
{
    for (pending_txn_t *t = s->uncommitted_head; t; t = t->next)
        if (t->conn == c)
            t->conn = NULL;
    for (size_t i = 0; i < s->nresume; i++)
        if (s->resume[i] == c)
            s->resume[i] = NULL;
}

void server_close_session(server_t *s, session_t *sess, conn_t *c, int32_t xid)
{
    session_set_closing(&s->sessions, sess);
    prep_req_t in = {.session_id = sess->id, .cxid = xid, .type = ZOP_CLOSE_SESSION};
    server_submit(s, c, TXN_CLOSE_SESSION, &in);
}

static void expire_sessions(server_t *s, int64_t now)
{
    session_t **expired;
    size_t n = session_collect_expired(&s->sessions, now, &expired);
    for (size_t i = 0; i < n; i++) {
        session_t *sess = expired[i];
        conn_t *owner = sess->owner;
        log_info(&s->log, "expiring session 0x%llx, timeout of %dms exceeded",
                 (unsigned long long)sess->id, sess->timeout_ms);
        s->metrics.sessions_expired++;
        server_close_session(s, sess, NULL, 0);
        if (owner) {
            owner->session = NULL;
            sess->owner = NULL;
            conn_close(owner, "session expired");
        }
    }
    free(expired);
}

/* Close connections that never sent a ConnectRequest in time (§2.8). A
 * connection with a session is touched with it and closed when the session
 * expires (same buckets), so a silent client finds its session gone. */
static void expire_connections(server_t *s, int64_t now)
{
    int64_t limit = s->cfg.nio_sessionless_cnxn_timeout_ms;
    for (conn_t *c = s->conns; c; c = c->next) {
        if (c->state == CONN_NEW && limit > 0 && now - c->last_activity_ms > limit) {
            s->metrics.sessionless_expired++;
            conn_close(c, "no ConnectRequest in time");
        }
    }
}

void server_on_tick(uv_timer_t *t)
{
    server_t *s = t->data;
    int64_t now = server_mono_ms(s);
    expire_sessions(s, now);
    expire_connections(s, now);
}

/* The container manager (§6.4): empty containers that once had a child, and
 * TTL nodes idle past their TTL, are deleted with deleteContainer txns. */
static void reap(server_t *s, const char *path, size_t len, int64_t now_wall)
{
    (void)now_wall;
    if (s->cfg.container_max_per_minute > 0) {
        int64_t now = server_mono_ms(s);
        if (now - s->container_minute_start_ms >= 60000) {
            s->container_minute_start_ms = now;
            s->container_deletions_this_minute = 0;
        }
        if (s->container_deletions_this_minute >= s->cfg.container_max_per_minute)
            return;
        s->container_deletions_this_minute++;
    }
    prep_req_t in = {.session_id = 0,
                     .cxid = 0,
                     .type = ZOP_DELETE_CONTAINER,
                     .container_path = (jstr_t){path, (int32_t)len}};
    server_submit(s, NULL, TXN_INTERNAL, &in);
}

static void collect(strmap_t *m, char ***out, size_t *n,
                    bool (*want)(server_t *, znode_t *, int64_t), server_t *s, int64_t now_wall)
{
    size_t pos = 0, cap = 0;
    const char *k;
    size_t kl;
    void *v;
    while (strmap_next(m, &pos, &k, &kl, &v)) {
        if (!want(s, v, now_wall))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *out = xrealloc(*out, cap * sizeof(**out));
        }
        (*out)[(*n)++] = xstrndup(k, kl);
    }
}

static bool container_candidate(server_t *s, znode_t *n, int64_t now_wall)
{
    if (znode_has_kids(n))
        return false;
    if (znode_cversion(n) > 0)
        return true;
    int64_t never_used = s->cfg.container_max_never_used_interval_ms;
    return never_used > 0 && now_wall - znode_mtime(n) > never_used;
}

static bool ttl_candidate(server_t *s, znode_t *n, int64_t now_wall)
{
    return !znode_has_kids(n) && now_wall - znode_mtime(n) > znode_ttl_ms(&s->tree, n);
}

void server_on_container_check(uv_timer_t *t)
{
    server_t *s = t->data;
    int64_t now_wall = server_wall_ms();
    char **paths = NULL;
    size_t n = 0;
    collect(&s->tree.containers, &paths, &n, container_candidate, s, now_wall);
    collect(&s->tree.ttls, &paths, &n, ttl_candidate, s, now_wall);
    for (size_t i = 0; i < n; i++) {
        reap(s, paths[i], strlen(paths[i]), now_wall);
        free(paths[i]);
    }
    free(paths);
}
