/* client: the public API of zkc — opening and closing a session, accessors,
 * chroot handling, and building request frames (see zkc.h). */
#include <stdlib.h>
#include <string.h>

#include "client/internal.h"

#define ZKC_DEFAULT_MAX_FRAME (16u << 20)

/* ---- Results ---------------------------------------------------------------------- */

void zkc_result_free(zkc_result_t *r)
{
    if (!r)
        return;
    free(r->path);
    free(r->data);
    for (int32_t i = 0; i < r->n_children; i++)
        free(r->children[i]);
    free(r->children);
    for (int32_t i = 0; i < r->n_acl; i++) {
        free(r->acl[i].scheme);
        free(r->acl[i].id);
    }
    free(r->acl);
    for (int32_t i = 0; i < r->n_who; i++) {
        free(r->who[i].scheme);
        free(r->who[i].user);
    }
    free(r->who);
    for (int32_t i = 0; i < r->n_ops; i++)
        free(r->ops[i].path);
    free(r->ops);
    int32_t op = r->op, err = r->err;
    memset(r, 0, sizeof *r);
    r->op = op;
    r->err = err;
    r->data_len = -1;
}

void zkc_result_move(zkc_result_t *dst, zkc_result_t *src)
{
    *dst = *src;
    memset(src, 0, sizeof *src);
    src->op = dst->op;
    src->err = dst->err;
    src->data_len = -1;
}

/* ---- Chroot ------------------------------------------------------------------------ */

char *zkc_server_path(const zkc_t *zk, const char *client_path)
{
    const char *root = zk->hosts.chroot;
    if (!root)
        return xstrndup(client_path, strlen(client_path));
    if (strcmp(client_path, "/") == 0)
        return xstrndup(root, strlen(root));
    buf_t b;
    buf_init(&b);
    buf_append_str(&b, root);
    buf_append_str(&b, client_path);
    buf_append(&b, "", 1);
    return (char *)b.data;
}

char *zkc_client_path(const zkc_t *zk, const char *server_path)
{
    const char *root = zk->hosts.chroot;
    size_t rn = root ? strlen(root) : 0;
    if (!root)
        return xstrndup(server_path, strlen(server_path));
    if (strcmp(server_path, root) == 0)
        return xstrndup("/", 1);
    size_t sn = strlen(server_path);
    if (sn > rn && strncmp(server_path, root, rn) == 0)
        return xstrndup(server_path + rn, sn - rn);
    return xstrndup(server_path, sn); /* not under the chroot: left alone (Java warns) */
}

/* ---- Open / close ------------------------------------------------------------------- */

int zkc_open(uv_loop_t *loop, const zkc_config_t *cfg, zkc_t **out)
{
    *out = NULL;
    zkc_hosts_t hosts;
    if (!cfg || !zkc_hosts_parse(cfg->hosts, &hosts))
        return ZBADARGUMENTS;
    zkc_t *zk = xcalloc(1, sizeof *zk);
    zk->loop = loop;
    zk->hosts = hosts;
    if (!cfg->keep_order) {
        uint32_t seed = cfg->seed ? cfg->seed : (uint32_t)(uv_hrtime() ^ (uintptr_t)zk);
        zkc_hosts_shuffle(&zk->hosts, seed);
    }
    zk->reconnect_delay_ms = cfg->reconnect_delay_ms > 0 ? cfg->reconnect_delay_ms : 1000;
    zk->max_frame = cfg->max_frame > 0 ? (uint32_t)cfg->max_frame : ZKC_DEFAULT_MAX_FRAME;
    zk->read_only = cfg->read_only;
    zk->watcher = cfg->watcher;
    zk->watcher_ctx = cfg->watcher_ctx;
    zk->timeout_req_ms = cfg->session_timeout_ms > 0 ? cfg->session_timeout_ms : 30000;
    zk->state = ZKC_CONNECTING;
    zk->last_event_state = ZKC_KS_DISCONNECTED;
    zk->next_xid = 1;
    buf_init(&zk->rbuf);
    zkc_watches_init(&zk->watches);
    uv_timer_init(loop, &zk->timer);
    zk->timer.data = zk;
    zkc_conn_start(zk);
    *out = zk;
    return ZOK;
}

static void free_session(zkc_t *zk)
{
    for (int i = 0; i < zk->n_auths; i++) {
        free(zk->auths[i].scheme);
        free(zk->auths[i].data);
        zkc_req_free(zk->auths[i].waiting);
    }
    free(zk->auths);
    zkc_watches_free(&zk->watches);
    zkc_hosts_free(&zk->hosts);
    buf_free(&zk->rbuf);
    free(zk->cur_host);
    free(zk);
}

static void timer_closed(uv_handle_t *h)
{
    zkc_t *zk = h->data;
    zkc_closed_fn done = zk->close_done;
    void *ctx = zk->close_ctx;
    free_session(zk);
    if (done)
        done(ctx);
}

void zkc_finish_close(zkc_t *zk)
{
    if (zk->free_pending)
        return;
    zk->free_pending = true;
    zkc_conn_lost(zk, ZCONNECTIONLOSS, NULL); /* no reconnect: closing */
    for (int i = 0; i < zk->n_auths; i++)
        if (zk->auths[i].waiting) {
            zkc_req_t *r = zk->auths[i].waiting;
            zk->auths[i].waiting = NULL;
            zkc_fail(zk, r, ZCONNECTIONLOSS);
        }
    zk->state = ZKC_CLOSED;
    if (!zk->close_quiet)
        zkc_deliver_state(zk, ZKC_KS_CLOSED);
    uv_timer_stop(&zk->timer);
    uv_close((uv_handle_t *)&zk->timer, timer_closed);
}

static void close_reply(zkc_t *zk, zkc_result_t *res, void *ctx)
{
    (void)zk;
    (void)res;
    (void)ctx; /* on_reply finishes the close */
}

void zkc_close(zkc_t *zk, int32_t timeout_ms, bool quiet, zkc_closed_fn done, void *ctx)
{
    if (!zk || zk->closing)
        return;
    zk->closing = true;
    zk->close_quiet = quiet;
    zk->close_done = done;
    zk->close_ctx = ctx;
    uint64_t now = uv_now(zk->loop);
    if (zk->phase == ZKC_P_CONNECTED && zk->state != ZKC_CLOSED) {
        zkc_req_t *r = xcalloc(1, sizeof *r);
        r->op = ZOP_CLOSE_SESSION;
        r->cb = close_reply;
        buf_init(&r->frame);
        size_t at = zkc_frame_begin(&r->frame, 0, ZOP_CLOSE_SESSION);
        zkc_frame_end(&r->frame, at);
        zk->close_deadline = now + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
        zkc_conn_submit(zk, r);
    } else {
        zk->close_deadline = now; /* finish from the loop */
    }
    zkc_conn_rearm(zk);
}

static void close_wait_done(void *ctx)
{
    *(bool *)ctx = true;
}

void zkc_close_wait(zkc_t *zk, int32_t timeout_ms, bool quiet)
{
    if (!zk)
        return;
    bool done = false;
    uv_loop_t *loop = zk->loop;
    zkc_close(zk, timeout_ms, quiet, close_wait_done, &done);
    while (!done)
        uv_run(loop, UV_RUN_ONCE);
}

/* ---- Accessors ---------------------------------------------------------------------- */

zkc_state_t zkc_state(const zkc_t *zk)
{
    return zk->state;
}

bool zkc_is_alive(const zkc_t *zk)
{
    return zk->state != ZKC_CLOSED && zk->state != ZKC_AUTH_FAILED;
}

bool zkc_is_connected(const zkc_t *zk)
{
    return zk->state == ZKC_CONNECTED || zk->state == ZKC_CONNECTED_READONLY;
}

int64_t zkc_session_id(const zkc_t *zk)
{
    return zk->session_id;
}

const uint8_t *zkc_session_passwd(const zkc_t *zk)
{
    return zk->passwd;
}

int32_t zkc_negotiated_timeout(const zkc_t *zk)
{
    return zk->timeout_ms;
}

int64_t zkc_last_zxid(const zkc_t *zk)
{
    return zk->last_zxid;
}

const char *zkc_connected_host(const zkc_t *zk)
{
    return zkc_is_connected(zk) ? zk->cur_host : NULL;
}

const char *zkc_last_error(const zkc_t *zk)
{
    return zk->last_error;
}

zkc_stats_t zkc_get_stats(const zkc_t *zk)
{
    return zk->stats;
}

/* ---- Requests ------------------------------------------------------------------------ */

/* The dead-handle answers of the Java client (ClientCnxn.conLossPacket). */
static int dead_error(const zkc_t *zk)
{
    if (zk->state == ZKC_AUTH_FAILED)
        return ZAUTHFAILED;
    if (zk->state == ZKC_CLOSED || zk->closing)
        return ZSESSIONEXPIRED;
    return ZOK;
}

static zkc_req_t *new_req(int32_t op, zkc_done_fn cb, void *ctx)
{
    zkc_req_t *r = xcalloc(1, sizeof *r);
    r->op = op;
    r->cb = cb;
    r->ctx = ctx;
    buf_init(&r->frame);
    return r;
}

static bool bad_path(const char *path, bool sequential)
{
    char msg[8];
    return !path || zkc_path_error(path, sequential, msg, sizeof msg) != NULL;
}

/* Common shape: frame with the server path, optional watch registration.
 * build_path_op returns NULL with *err set when the request is refused. */
typedef void (*body_fn)(buf_t *b, const char *spath, const void *arg);

static zkc_req_t *build_path_op(zkc_t *zk, int32_t op, const char *path, bool validate, bool chroot,
                                int wreg, body_fn body, const void *arg, zkc_done_fn cb, void *ctx,
                                int *err)
{
    *err = dead_error(zk);
    if (*err)
        return NULL;
    if (validate && bad_path(path, false)) {
        *err = ZBADARGUMENTS;
        return NULL;
    }
    zkc_req_t *r = new_req(op, cb, ctx);
    char *spath = chroot ? zkc_server_path(zk, path) : xstrndup(path, strlen(path));
    size_t at = zkc_frame_begin(&r->frame, 0, op);
    body(&r->frame, spath, arg);
    zkc_frame_end(&r->frame, at);
    free(spath);
    if (wreg) {
        r->wreg = (uint8_t)wreg;
        r->wpath = xstrndup(path, strlen(path));
    }
    return r;
}

static int submit_path_op(zkc_t *zk, int32_t op, const char *path, bool validate, bool chroot,
                          int wreg, body_fn body, const void *arg, zkc_done_fn cb, void *ctx)
{
    int err;
    zkc_req_t *r = build_path_op(zk, op, path, validate, chroot, wreg, body, arg, cb, ctx, &err);
    if (r)
        zkc_conn_submit(zk, r);
    return err;
}

static void body_path(buf_t *b, const char *spath, const void *arg)
{
    (void)arg;
    jw_cstr(b, spath);
}

static void body_path_bool(buf_t *b, const char *spath, const void *arg)
{
    zkc_write_path_bool(b, spath, *(const bool *)arg);
}

static void body_path_int(buf_t *b, const char *spath, const void *arg)
{
    zkc_write_path_int(b, spath, *(const int32_t *)arg);
}

typedef struct data_arg {
    const void *data;
    int32_t len;
    int32_t version;
    const zkc_acl_t *acl;
    int32_t n_acl;
    int32_t mode;
    int64_t ttl;
} data_arg_t;

static void body_set_data(buf_t *b, const char *spath, const void *arg)
{
    const data_arg_t *a = arg;
    zkc_write_set_data(b, spath, a->data, a->len, a->version);
}

static void body_set_acl(buf_t *b, const char *spath, const void *arg)
{
    const data_arg_t *a = arg;
    zkc_write_set_acl(b, spath, a->acl, a->n_acl, a->version);
}

static void body_create(buf_t *b, const char *spath, const void *arg)
{
    const data_arg_t *a = arg;
    bool ttl =
        a->mode == ZMODE_PERSISTENT_WITH_TTL || a->mode == ZMODE_PERSISTENT_SEQUENTIAL_WITH_TTL;
    zkc_write_create(b, spath, a->data, a->len, a->acl, a->n_acl, a->mode, ttl, a->ttl);
}

int zkc_create(zkc_t *zk, const char *path, const void *data, int32_t len, const zkc_acl_t *acl,
               int32_t n_acl, int32_t mode, int64_t ttl, zkc_done_fn cb, void *ctx)
{
    bool seq = mode == ZMODE_PERSISTENT_SEQUENTIAL || mode == ZMODE_EPHEMERAL_SEQUENTIAL ||
               mode == ZMODE_PERSISTENT_SEQUENTIAL_WITH_TTL;
    if (bad_path(path, seq) || mode < 0 || mode > ZMODE_PERSISTENT_SEQUENTIAL_WITH_TTL)
        return ZBADARGUMENTS;
    if (!acl || n_acl <= 0) /* ZooKeeper.validateACL */
        return ZINVALIDACL;
    int32_t op = ZOP_CREATE2;
    if (mode == ZMODE_CONTAINER)
        op = ZOP_CREATE_CONTAINER;
    else if (mode == ZMODE_PERSISTENT_WITH_TTL || mode == ZMODE_PERSISTENT_SEQUENTIAL_WITH_TTL)
        op = ZOP_CREATE_TTL;
    data_arg_t a = {data, data ? len : -1, 0, acl, n_acl, mode, ttl};
    return submit_path_op(zk, op, path, false, true, 0, body_create, &a, cb, ctx);
}

int zkc_delete(zkc_t *zk, const char *path, int32_t version, zkc_done_fn cb, void *ctx)
{
    /* delete("/") is sent without the chroot, as the Java client does. */
    bool root = path && strcmp(path, "/") == 0;
    return submit_path_op(zk, ZOP_DELETE, path, true, !root, 0, body_path_int, &version, cb, ctx);
}

int zkc_exists(zkc_t *zk, const char *path, bool watch, zkc_done_fn cb, void *ctx)
{
    return submit_path_op(zk, ZOP_EXISTS, path, true, true, watch ? ZKC_WREG_EXISTS : 0,
                          body_path_bool, &watch, cb, ctx);
}

int zkc_get_data(zkc_t *zk, const char *path, bool watch, zkc_done_fn cb, void *ctx)
{
    return submit_path_op(zk, ZOP_GET_DATA, path, true, true, watch ? ZKC_WREG_DATA : 0,
                          body_path_bool, &watch, cb, ctx);
}

int zkc_set_data(zkc_t *zk, const char *path, const void *data, int32_t len, int32_t version,
                 zkc_done_fn cb, void *ctx)
{
    data_arg_t a = {data, data ? len : -1, version, NULL, 0, 0, 0};
    return submit_path_op(zk, ZOP_SET_DATA, path, true, true, 0, body_set_data, &a, cb, ctx);
}

int zkc_get_acl(zkc_t *zk, const char *path, zkc_done_fn cb, void *ctx)
{
    return submit_path_op(zk, ZOP_GET_ACL, path, true, true, 0, body_path, NULL, cb, ctx);
}

int zkc_set_acl(zkc_t *zk, const char *path, const zkc_acl_t *acl, int32_t n_acl, int32_t version,
                zkc_done_fn cb, void *ctx)
{
    if (bad_path(path, false))
        return ZBADARGUMENTS;
    if (!acl || n_acl <= 0)
        return ZINVALIDACL;
    data_arg_t a = {NULL, -1, version, acl, n_acl, 0, 0};
    return submit_path_op(zk, ZOP_SET_ACL, path, true, true, 0, body_set_acl, &a, cb, ctx);
}

int zkc_get_children(zkc_t *zk, const char *path, bool watch, bool with_stat, zkc_done_fn cb,
                     void *ctx)
{
    return submit_path_op(zk, with_stat ? ZOP_GET_CHILDREN2 : ZOP_GET_CHILDREN, path, true, true,
                          watch ? ZKC_WREG_CHILD : 0, body_path_bool, &watch, cb, ctx);
}

int zkc_sync(zkc_t *zk, const char *path, zkc_done_fn cb, void *ctx)
{
    return submit_path_op(zk, ZOP_SYNC, path, true, true, 0, body_path, NULL, cb, ctx);
}

int zkc_get_config(zkc_t *zk, bool watch, zkc_done_fn cb, void *ctx)
{
    return submit_path_op(zk, ZOP_GET_DATA, "/zookeeper/config", false, false,
                          watch ? ZKC_WREG_DATA : 0, body_path_bool, &watch, cb, ctx);
}

typedef struct reconfig_arg {
    const char *joining, *leaving, *members;
    int64_t from;
} reconfig_arg_t;

static void body_reconfig(buf_t *b, const char *spath, const void *arg)
{
    (void)spath;
    const reconfig_arg_t *a = arg;
    zkc_write_reconfig(b, a->joining, a->leaving, a->members, a->from);
}

int zkc_reconfig(zkc_t *zk, const char *joining, const char *leaving, const char *members,
                 int64_t from_config, zkc_done_fn cb, void *ctx)
{
    reconfig_arg_t a = {joining, leaving, members, from_config};
    return submit_path_op(zk, ZOP_RECONFIG, "/", false, false, 0, body_reconfig, &a, cb, ctx);
}

int zkc_get_ephemerals(zkc_t *zk, const char *prefix, zkc_done_fn cb, void *ctx)
{
    /* Sent as given: the 3.8 Java client does not apply the chroot here. */
    return submit_path_op(zk, ZOP_GET_EPHEMERALS, prefix ? prefix : "/", true, false, 0, body_path,
                          NULL, cb, ctx);
}

int zkc_get_all_children_number(zkc_t *zk, const char *path, zkc_done_fn cb, void *ctx)
{
    return submit_path_op(zk, ZOP_GET_ALL_CHILDREN_NUMBER, path, true, true, 0, body_path, NULL, cb,
                          ctx);
}

int zkc_add_watch(zkc_t *zk, const char *path, int32_t mode, zkc_done_fn cb, void *ctx)
{
    if (mode != ZAW_PERSISTENT && mode != ZAW_PERSISTENT_RECURSIVE)
        return ZBADARGUMENTS;
    return submit_path_op(zk, ZOP_ADD_WATCH, path, true, true,
                          mode == ZAW_PERSISTENT ? ZKC_WREG_PERSISTENT : ZKC_WREG_RECURSIVE,
                          body_path_int, &mode, cb, ctx);
}

int zkc_remove_watches(zkc_t *zk, const char *path, int32_t type, bool local, zkc_done_fn cb,
                       void *ctx)
{
    if (type != ZWT_CHILDREN && type != ZWT_DATA && type != ZWT_ANY)
        return ZBADARGUMENTS;
    int err;
    zkc_req_t *r = build_path_op(zk, ZOP_REMOVE_WATCHES, path, true, true, ZKC_WREG_REMOVE,
                                 body_path_int, &type, cb, ctx, &err);
    if (!r)
        return err;
    r->rm_type = type;
    r->rm_local = local;
    zkc_conn_submit(zk, r);
    return ZOK;
}

int zkc_who_am_i(zkc_t *zk, zkc_done_fn cb, void *ctx)
{
    int dead = dead_error(zk);
    if (dead)
        return dead;
    zkc_req_t *r = new_req(ZOP_WHO_AM_I, cb, ctx);
    size_t at = zkc_frame_begin(&r->frame, 0, ZOP_WHO_AM_I);
    zkc_frame_end(&r->frame, at);
    zkc_conn_submit(zk, r);
    return ZOK;
}

int zkc_multi(zkc_t *zk, const zkc_op_t *ops, int32_t n_ops, zkc_done_fn cb, void *ctx)
{
    int dead = dead_error(zk);
    if (dead)
        return dead;
    if (n_ops < 0 || (n_ops > 0 && !ops))
        return ZBADARGUMENTS;
    zkc_op_t *sops = n_ops ? xcalloc((size_t)n_ops, sizeof *sops) : NULL;
    for (int32_t i = 0; i < n_ops; i++) {
        const zkc_op_t *o = &ops[i];
        bool seq = o->type == ZOP_CREATE && (o->mode == ZMODE_PERSISTENT_SEQUENTIAL ||
                                             o->mode == ZMODE_EPHEMERAL_SEQUENTIAL);
        bool known = o->type == ZOP_CREATE || o->type == ZOP_DELETE || o->type == ZOP_SET_DATA ||
                     o->type == ZOP_CHECK;
        if (!known || bad_path(o->path, seq)) {
            for (int32_t k = 0; k < i; k++)
                free((char *)sops[k].path);
            free(sops);
            return ZBADARGUMENTS;
        }
        sops[i] = *o;
        sops[i].path = zkc_server_path(zk, o->path);
        if (o->type == ZOP_CREATE && o->mode == ZMODE_CONTAINER)
            sops[i].type = ZOP_CREATE_CONTAINER;
    }
    zkc_req_t *r = new_req(ZOP_MULTI, cb, ctx);
    size_t at = zkc_frame_begin(&r->frame, 0, ZOP_MULTI);
    zkc_write_multi(&r->frame, sops, n_ops);
    zkc_frame_end(&r->frame, at);
    for (int32_t i = 0; i < n_ops; i++)
        free((char *)sops[i].path);
    free(sops);
    zkc_conn_submit(zk, r);
    return ZOK;
}

int zkc_add_auth(zkc_t *zk, const char *scheme, const void *auth, int32_t len, zkc_done_fn cb,
                 void *ctx)
{
    int dead = dead_error(zk);
    if (dead)
        return dead;
    if (!scheme)
        return ZBADARGUMENTS;
    zk->auths = xrealloc(zk->auths, (size_t)(zk->n_auths + 1) * sizeof(zkc_auth_t));
    zkc_auth_t *a = &zk->auths[zk->n_auths++];
    memset(a, 0, sizeof *a);
    a->scheme = xstrndup(scheme, strlen(scheme));
    a->len = auth ? len : -1;
    if (auth && len > 0) {
        a->data = xmalloc((size_t)len);
        memcpy(a->data, auth, (size_t)len);
    } else if (auth) {
        a->data = xmalloc(1);
    }
    zkc_req_t *r = new_req(ZOP_AUTH, cb, ctx);
    if (zk->phase == ZKC_P_CONNECTED) {
        size_t at = zkc_frame_begin(&r->frame, ZXID_AUTH, ZOP_AUTH);
        zkc_write_auth(&r->frame, a->scheme, a->data, a->len);
        zkc_frame_end(&r->frame, at);
        zkc_conn_submit(zk, r);
    } else {
        a->waiting = r; /* sent by the next handshake */
    }
    return ZOK;
}

static void forget_queue(zkc_queue_t *q, const void *ctx)
{
    for (zkc_req_t *r = q->head; r; r = r->next)
        if (r->ctx == ctx) {
            r->cb = NULL;
            r->ctx = NULL;
        }
}

void zkc_forget(zkc_t *zk, const void *ctx)
{
    forget_queue(&zk->outgoing, ctx);
    forget_queue(&zk->pending, ctx);
    forget_queue(&zk->auth_pending, ctx);
    for (int i = 0; i < zk->n_auths; i++)
        if (zk->auths[i].waiting && zk->auths[i].waiting->ctx == ctx) {
            zk->auths[i].waiting->cb = NULL;
            zk->auths[i].waiting->ctx = NULL;
        }
}
