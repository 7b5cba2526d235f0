/* commit: the write path of a standalone server — zxid assignment, prep,
 * apply and the outstanding-change bookkeeping — plus the writes the server
 * makes on its own: session expiry (closeSession) and the container/TTL
 * reaper (deleteContainer). Watch events produced by apply are queued on the
 * watchers' connections here, before the writer's reply is queued (§9.4).
 *
 * Persistence is not implemented yet: a txn is "durable" as soon as it is
 * applied in memory (see README). The log thread will sit between prep and
 * apply. */
#include "server.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t server_mono_ms(const server_t *s)
{
    (void)s;
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

int64_t server_next_zxid(server_t *s)
{
    return s->last_zxid + 1;
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

int32_t server_write(server_t *s, conn_t *c, const prep_req_t *in, txn_result_t *res,
                     int64_t *zxid_out)
{
    (void)c;
    prep_req_t req = *in;
    req.zxid = server_next_zxid(s);
    req.time_ms = server_wall_ms();
    txn_header_t hdr;
    buf_t body;
    buf_init(&body);
    int32_t err = prep_write(&s->prep, &req, &hdr, &body);
    /* Durable point: with a txn log this is where the txn is handed to the
     * log thread and the rest runs when its batch is fsync'ed. */
    s->last_zxid = hdr.zxid;
    if (!txn_apply(&s->tree, &s->watches, &hdr, body.data, body.len, res))
        log_error(&s->log, "internal error: txn 0x%llx of type %d did not apply",
                  (unsigned long long)hdr.zxid, hdr.type);
    prep_committed(&s->prep, hdr.zxid);
    res->txn_body = body; /* result paths borrow from it until the reply is built */
    *zxid_out = hdr.zxid;
    return err;
}

void server_close_session(server_t *s, session_t *sess, int32_t cxid, int64_t *zxid_out)
{
    session_set_closing(&s->sessions, sess);
    prep_req_t in = {.session_id = sess->id, .cxid = cxid, .type = ZOP_CLOSE_SESSION};
    txn_result_t res;
    server_write(s, NULL, &in, &res, zxid_out);
    txn_result_free(&res);
    conn_t *owner = sess->owner;
    if (owner) {
        owner->session = NULL;
        sess->owner = NULL;
    }
    session_remove(&s->sessions, sess);
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
        int64_t zxid;
        server_close_session(s, sess, 0, &zxid);
        if (owner)
            conn_close(owner, "session expired");
    }
    free(expired);
}

/* Close connections silent past their timeout (§2.8). */
static void expire_connections(server_t *s, int64_t now)
{
    for (conn_t *c = s->conns; c; c = c->next) {
        if (c->state == CONN_CLOSING)
            continue;
        int64_t limit =
            c->state == CONN_NEW ? s->cfg.nio_sessionless_cnxn_timeout_ms : (int64_t)c->timeout_ms;
        if (limit > 0 && now - c->last_activity_ms > limit)
            conn_close(c, c->state == CONN_NEW ? "no ConnectRequest in time"
                                               : "no request within the session timeout");
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
    txn_result_t res;
    int64_t zxid;
    server_write(s, NULL, &in, &res, &zxid);
    txn_result_free(&res);
}

static void collect(strmap_t *m, char ***out, size_t *n, bool (*want)(server_t *, znode_t *, int64_t),
                    server_t *s, int64_t now_wall)
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
    if (n->nkids > 0)
        return false;
    if (n->cversion > 0)
        return true;
    int64_t never_used = s->cfg.container_max_never_used_interval_ms;
    return never_used > 0 && now_wall - n->mtime > never_used;
}

static bool ttl_candidate(server_t *s, znode_t *n, int64_t now_wall)
{
    (void)s;
    return n->nkids == 0 && now_wall - n->mtime > znode_ttl_ms(n);
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
