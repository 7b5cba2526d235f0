/* request: one client request after the handshake (§3, §5, §9, §11) —
 * header parsing, the auth/sasl fast path, session touch, the reads answered
 * from the tree, and writes sent through commit.c with their replies built
 * from the apply results. Every request yields exactly one reply, in order,
 * except where ZooKeeper closes the connection instead (§18). */
#include "server.h"

#include <ctype.h>
#include "proto/path.h"
#include <stdlib.h>
#include <string.h>

/* ---- ACL glue between prep and the connection's identities ---------------- */

static bool acl_allowed(void *ctx, const tree_acl_t *acl, int32_t perm)
{
    conn_t *c = ctx;
    return auth_check(acl ? &acl->list : NULL, perm, &c->ids, c->srv->cfg.skip_acl);
}

static int32_t acl_fixup(void *ctx, const zk_acl_refs_t *in, acl_list_t *out)
{
    conn_t *c = ctx;
    return auth_fixup_acl(in->v, in->n, &c->ids, out);
}

static bool can(conn_t *c, const znode_t *n, int32_t perm)
{
    return acl_allowed(c, znode_acl(&c->srv->tree, n), perm);
}

/* ---- small reply helpers -------------------------------------------------- */

static void reply_stat(conn_t *c, int32_t xid, int64_t zxid, const znode_t *n)
{
    zk_stat_t st;
    znode_stat(&c->srv->tree, n, &st);
    size_t at = conn_reply_begin(c, xid, zxid, ZOK);
    proto_write_stat(&c->out, &st);
    conn_reply_end(c, at);
}

static void write_children(buf_t *b, const tree_t *t, const znode_t *n)
{
    const znode_kids_t *kids = znode_kids(t, n);
    uint32_t nkids = kids ? kids->n : 0;
    jw_int(b, (int32_t)nkids);
    for (uint32_t i = 0; i < nkids; i++) {
        const znode_t *k = znode_kids_at(n, kids, i);
        jw_buffer(b, znode_name(k), (int32_t)znode_name_len(k));
    }
}

static void write_acl_list(buf_t *b, const acl_list_t *l)
{
    jw_int(b, l->n);
    for (int32_t i = 0; i < l->n; i++) {
        jw_int(b, l->v[i].perms);
        jw_jstr(b, acl_scheme(&l->v[i]));
        jw_jstr(b, acl_id(&l->v[i]));
    }
}

/* ---- reads ------------------------------------------------------------------ */

/* The node a read names, if it exists and the caller may READ it; otherwise
 * the NONODE / NOAUTH reply is sent and NULL returned. */
static znode_t *readable_node(conn_t *c, const zk_request_t *r, int64_t zxid)
{
    znode_t *n = tree_get_j(&c->srv->tree, r->op.path);
    int32_t err = !n ? ZNONODE : !can(c, n, ZK_PERM_READ) ? ZNOAUTH : ZOK;
    if (err != ZOK) {
        conn_send_header(c, r->xid, zxid, err);
        return NULL;
    }
    return n;
}

static void do_exists(conn_t *c, const zk_request_t *r, int64_t zxid)
{
    server_t *s = c->srv;
    const zk_op_t *op = &r->op;
    if (memchr(op->path.ptr, '\0', (size_t)op->path.len)) {
        conn_send_header(c, r->xid, zxid, ZBADARGUMENTS);
        return;
    }
    if (op->watch)
        watch_add(&s->watches, WT_DATA, &c->watches, op->path.ptr, (size_t)op->path.len,
                  WMODE_STANDARD);
    znode_t *n = tree_get_j(&s->tree, op->path);
    if (!n)
        conn_send_header(c, r->xid, zxid, ZNONODE);
    else
        reply_stat(c, r->xid, zxid, n);
}

static void do_get_data(conn_t *c, const zk_request_t *r, int64_t zxid)
{
    server_t *s = c->srv;
    znode_t *n = readable_node(c, r, zxid);
    if (!n)
        return;
    if (r->op.watch)
        watch_add(&s->watches, WT_DATA, &c->watches, znode_path(n), n->path_len, WMODE_STANDARD);
    zk_stat_t st;
    znode_stat(&s->tree, n, &st);
    size_t at = conn_reply_begin(c, r->xid, zxid, ZOK);
    jw_buffer(&c->out, znode_data(n), n->data_len);
    proto_write_stat(&c->out, &st);
    conn_reply_end(c, at);
}

static void do_get_children(conn_t *c, const zk_request_t *r, int64_t zxid)
{
    server_t *s = c->srv;
    znode_t *n = readable_node(c, r, zxid);
    if (!n)
        return;
    if (r->op.watch)
        watch_add(&s->watches, WT_CHILD, &c->watches, znode_path(n), n->path_len, WMODE_STANDARD);
    size_t at = conn_reply_begin(c, r->xid, zxid, ZOK);
    write_children(&c->out, &s->tree, n);
    if (r->type == ZOP_GET_CHILDREN2) {
        zk_stat_t st;
        znode_stat(&s->tree, n, &st);
        proto_write_stat(&c->out, &st);
    }
    conn_reply_end(c, at);
}

static void do_get_acl(conn_t *c, const zk_request_t *r, int64_t zxid)
{
    server_t *s = c->srv;
    znode_t *n = tree_get_j(&s->tree, r->op.path);
    if (!n) {
        conn_send_header(c, r->xid, zxid, ZNONODE);
        return;
    }
    bool admin = can(c, n, ZK_PERM_ADMIN);
    if (!admin && !can(c, n, ZK_PERM_READ)) {
        conn_send_header(c, r->xid, zxid, ZNOAUTH);
        return;
    }
    zk_stat_t st;
    znode_stat(&s->tree, n, &st);
    size_t at = conn_reply_begin(c, r->xid, zxid, ZOK);
    if (admin) {
        write_acl_list(&c->out, &znode_acl(&s->tree, n)->list);
    } else {
        acl_list_t masked;
        auth_acl_mask(&znode_acl(&s->tree, n)->list, &masked);
        write_acl_list(&c->out, &masked);
        acl_list_free(&masked);
    }
    proto_write_stat(&c->out, &st);
    conn_reply_end(c, at);
}

static void do_all_children_number(conn_t *c, const zk_request_t *r, int64_t zxid)
{
    server_t *s = c->srv;
    znode_t *n = readable_node(c, r, zxid);
    if (!n)
        return;
    uint64_t count =
        n == s->tree.root ? s->tree.node_count - 1 : tree_count_descendants(&s->tree, n);
    size_t at = conn_reply_begin(c, r->xid, zxid, ZOK);
    jw_int(&c->out, (int32_t)count);
    conn_reply_end(c, at);
}

static bool blank(jstr_t p)
{
    if (jstr_is_null(p))
        return true;
    for (int32_t i = 0; i < p.len; i++)
        if (!isspace((unsigned char)p.ptr[i]))
            return false;
    return true;
}

static void do_get_ephemerals(conn_t *c, const zk_request_t *r, int64_t zxid)
{
    server_t *s = c->srv;
    jstr_t prefix = r->op.path;
    bool all = blank(prefix) || jstr_eq_cstr(prefix, "/");
    const eph_list_t *l = tree_session_ephemerals(&s->tree, c->session_id);
    size_t at = conn_reply_begin(c, r->xid, zxid, ZOK);
    size_t count_at = c->out.len;
    int32_t count = 0;
    jw_int(&c->out, 0);
    for (uint32_t i = 0; l && i < l->n; i++) {
        const znode_t *n = l->v[i];
        if (!all && (n->path_len < (uint32_t)prefix.len ||
                     memcmp(znode_path(n), prefix.ptr, (size_t)prefix.len) != 0))
            continue;
        jw_buffer(&c->out, znode_path(n), (int32_t)n->path_len);
        count++;
    }
    jw_patch_int(&c->out, count_at, count);
    conn_reply_end(c, at);
}

static void do_who_am_i(conn_t *c, const zk_request_t *r, int64_t zxid)
{
    size_t at = conn_reply_begin(c, r->xid, zxid, ZOK);
    jw_int(&c->out, c->ids.n);
    for (int32_t i = 0; i < c->ids.n; i++) {
        jstr_t scheme, user;
        auth_whoami(&c->ids.v[i], &scheme, &user);
        jw_jstr(&c->out, scheme);
        jw_jstr(&c->out, user);
    }
    conn_reply_end(c, at);
}

/* Immediate event for setWatches: queued before the reply. */
static void send_event(conn_t *c, int32_t type, jstr_t path)
{
    server_deliver_event(c->srv, &c->watches, type, path.ptr, (size_t)path.len, NULL);
}

static void do_set_watches(conn_t *c, const zk_request_t *r, int64_t zxid)
{
    server_t *s = c->srv;
    int64_t rel = r->relative_zxid;
    for (int list = 0; list < ZW_NLISTS; list++) {
        const zk_strvec_t *v = &r->watches[list];
        for (int32_t i = 0; i < v->n; i++) {
            jstr_t p = v->v[i];
            if (jstr_is_null(p))
                continue;
            znode_t *n = tree_get_j(&s->tree, p);
            switch (list) {
            case ZW_DATA:
                if (!n)
                    send_event(c, ZEV_DELETED, p);
                else if (znode_mzxid(n) > rel)
                    send_event(c, ZEV_DATA_CHANGED, p);
                else
                    watch_add(&s->watches, WT_DATA, &c->watches, p.ptr, (size_t)p.len,
                              WMODE_STANDARD);
                break;
            case ZW_EXIST:
                if (n)
                    send_event(c, ZEV_CREATED, p);
                else
                    watch_add(&s->watches, WT_DATA, &c->watches, p.ptr, (size_t)p.len,
                              WMODE_STANDARD);
                break;
            case ZW_CHILD:
                if (!n)
                    send_event(c, ZEV_DELETED, p);
                else if (znode_pzxid(n) > rel)
                    send_event(c, ZEV_CHILDREN_CHANGED, p);
                else
                    watch_add(&s->watches, WT_CHILD, &c->watches, p.ptr, (size_t)p.len,
                              WMODE_STANDARD);
                break;
            default: {
                unsigned mode = list == ZW_PERSISTENT ? WMODE_PERSISTENT : WMODE_RECURSIVE;
                watch_add(&s->watches, WT_DATA, &c->watches, p.ptr, (size_t)p.len, mode);
                watch_add(&s->watches, WT_CHILD, &c->watches, p.ptr, (size_t)p.len, mode);
                break;
            }
            }
        }
    }
    conn_send_header(c, r->xid, zxid, ZOK);
}

static void do_add_watch(conn_t *c, const zk_request_t *r, int64_t zxid)
{
    server_t *s = c->srv;
    unsigned mode;
    if (r->op.mode == ZAW_PERSISTENT)
        mode = WMODE_PERSISTENT;
    else if (r->op.mode == ZAW_PERSISTENT_RECURSIVE)
        mode = WMODE_RECURSIVE;
    else {
        conn_send_header(c, r->xid, zxid, ZMARSHALLINGERROR);
        return;
    }
    const zk_op_t *op = &r->op;
    watch_add(&s->watches, WT_DATA, &c->watches, op->path.ptr, (size_t)op->path.len, mode);
    watch_add(&s->watches, WT_CHILD, &c->watches, op->path.ptr, (size_t)op->path.len, mode);
    size_t at = conn_reply_begin(c, r->xid, zxid, ZOK);
    jw_int(&c->out, 0);
    conn_reply_end(c, at);
}

/* checkWatches / removeWatches. Types 1-3 address every mode registered at
 * the path (3.8); 4 and 5 (3.9) address persistent / recursive watches. */
static void do_watch_query(conn_t *c, const zk_request_t *r, int64_t zxid)
{
    server_t *s = c->srv;
    const zk_op_t *op = &r->op;
    const char *p = op->path.ptr;
    size_t len = (size_t)op->path.len;
    unsigned all = WMODE_STANDARD | WMODE_PERSISTENT | WMODE_RECURSIVE;
    unsigned data_modes = 0, child_modes = 0;
    switch (op->mode) {
    case ZWT_CHILDREN:
        child_modes = all;
        break;
    case ZWT_DATA:
        data_modes = all;
        break;
    case ZWT_ANY:
        data_modes = child_modes = all;
        break;
    case ZWT_PERSISTENT:
        data_modes = child_modes = WMODE_PERSISTENT;
        break;
    case ZWT_PERSISTENT_RECURSIVE:
        data_modes = child_modes = WMODE_RECURSIVE;
        break;
    default:
        conn_send_header(c, r->xid, zxid, ZMARSHALLINGERROR);
        return;
    }
    bool found = false;
    if (r->type == ZOP_CHECK_WATCHES) {
        found = (data_modes && watch_has(&s->watches, WT_DATA, &c->watches, p, len, data_modes)) ||
                (child_modes && watch_has(&s->watches, WT_CHILD, &c->watches, p, len, child_modes));
    } else {
        if (data_modes && watch_remove(&s->watches, WT_DATA, &c->watches, p, len, data_modes))
            found = true;
        if (child_modes && watch_remove(&s->watches, WT_CHILD, &c->watches, p, len, child_modes))
            found = true;
    }
    conn_send_header(c, r->xid, zxid, found ? ZOK : ZNOWATCHER);
}

static void do_multi_read(conn_t *c, const zk_request_t *r, int64_t zxid)
{
    server_t *s = c->srv;
    size_t at = conn_reply_begin(c, r->xid, zxid, ZOK);
    buf_t *b = &c->out;
    for (int32_t i = 0; i < r->nops; i++) {
        const zk_op_t *op = &r->ops[i];
        znode_t *n = tree_get_j(&s->tree, op->path);
        int32_t err = !n ? ZNONODE : !can(c, n, ZK_PERM_READ) ? ZNOAUTH : ZOK;
        if (err != ZOK) {
            jw_int(b, ZOP_ERROR);
            jw_bool(b, false);
            jw_int(b, err);
            jw_int(b, err);
            continue;
        }
        jw_int(b, op->type);
        jw_bool(b, false);
        jw_int(b, 0);
        if (op->type == ZOP_GET_DATA) {
            zk_stat_t st;
            znode_stat(&s->tree, n, &st);
            jw_buffer(b, znode_data(n), n->data_len);
            proto_write_stat(b, &st);
        } else {
            write_children(b, &s->tree, n);
        }
    }
    jw_int(b, -1);
    jw_bool(b, true);
    jw_int(b, -1);
    conn_reply_end(c, at);
}

/* ---- writes ----------------------------------------------------------------- */

static void write_multi_results(conn_t *c, const txn_result_t *res)
{
    buf_t *b = &c->out;
    for (int32_t i = 0; i < res->nops; i++) {
        const txn_op_result_t *o = &res->ops[i];
        if (o->type == ZOP_ERROR || o->err != ZOK) {
            jw_int(b, ZOP_ERROR);
            jw_bool(b, false);
            jw_int(b, o->err);
            jw_int(b, o->err);
            continue;
        }
        int32_t type = o->type;
        if (type == ZOP_CREATE_CONTAINER || type == ZOP_CREATE_TTL)
            type = ZOP_CREATE2;
        jw_int(b, type);
        jw_bool(b, false);
        jw_int(b, 0);
        switch (type) {
        case ZOP_CREATE:
            jw_jstr(b, o->path);
            break;
        case ZOP_CREATE2:
            jw_jstr(b, o->path);
            proto_write_stat(b, &o->stat);
            break;
        case ZOP_SET_DATA:
            proto_write_stat(b, &o->stat);
            break;
        default:
            break;
        }
    }
    jw_int(b, -1);
    jw_bool(b, true);
    jw_int(b, -1);
}

static void do_write(conn_t *c, const zk_request_t *r, bool decoded, int64_t received_ms)
{
    server_t *s = c->srv;
    prep_acl_ops_t ops = {acl_allowed, acl_fixup, c};
    prep_req_t in = {.session_id = c->session_id,
                     .cxid = r->xid,
                     .type = r->type,
                     .req = decoded ? r : NULL,
                     .acl = &ops};
    pending_txn_t *t = server_submit(s, c, TXN_CLIENT, &in);
    t->received_ms = received_ms;
}

void request_reply_write(conn_t *c, const pending_txn_t *t, const txn_result_t *res)
{
    server_t *s = c->srv;
    int64_t zxid = t->hdr.zxid;
    c->last_zxid = zxid;
    int64_t ms = server_mono_ms(s) - t->received_ms;
    c->last_latency_ms = ms;
    latency_record(&c->latency, ms);
    latency_record(&s->latency, ms);
    latency_record(&s->metrics.update_latency, ms);
    if (t->err != ZOK) {
        conn_send_header(c, t->xid, zxid, t->err);
        return;
    }
    size_t at = conn_reply_begin(c, t->xid, zxid, ZOK);
    const txn_op_result_t *o = &res->single;
    switch (t->req_type) {
    case ZOP_CREATE:
        /* A plain create answers with the path only, whatever it created. */
        jw_jstr(&c->out, o->path);
        break;
    case ZOP_CREATE2:
    case ZOP_CREATE_CONTAINER:
    case ZOP_CREATE_TTL:
        jw_jstr(&c->out, o->path);
        proto_write_stat(&c->out, &o->stat);
        break;
    case ZOP_SET_DATA:
    case ZOP_SET_ACL:
        proto_write_stat(&c->out, &o->stat);
        break;
    case ZOP_MULTI:
        write_multi_results(c, res);
        break;
    default:
        break;
    }
    conn_reply_end(c, at);
}

/* ---- dispatch ----------------------------------------------------------------- */

static const char *op_abbrev(int32_t type)
{
    switch (type) {
    case ZOP_CREATE:
        return "CREA";
    case ZOP_CREATE2:
        return "CREA";
    case ZOP_CREATE_CONTAINER:
        return "CREA";
    case ZOP_CREATE_TTL:
        return "CREA";
    case ZOP_DELETE:
        return "DELE";
    case ZOP_EXISTS:
        return "EXIS";
    case ZOP_GET_DATA:
        return "GETD";
    case ZOP_SET_DATA:
        return "SETD";
    case ZOP_GET_ACL:
        return "GETA";
    case ZOP_SET_ACL:
        return "SETA";
    case ZOP_GET_CHILDREN:
        return "GETC";
    case ZOP_GET_CHILDREN2:
        return "GETC";
    case ZOP_SYNC:
        return "SYNC";
    case ZOP_PING:
        return "PING";
    case ZOP_MULTI:
        return "MULT";
    case ZOP_MULTI_READ:
        return "MLTR";
    case ZOP_SET_WATCHES:
        return "SETW";
    case ZOP_SET_WATCHES2:
        return "STW2";
    case ZOP_ADD_WATCH:
        return "ADDW";
    case ZOP_CLOSE_SESSION:
        return "CLOS";
    case ZOP_CHECK_WATCHES:
        return "CHKW";
    case ZOP_REMOVE_WATCHES:
        return "REMW";
    case ZOP_GET_EPHEMERALS:
        return "GETE";
    case ZOP_GET_ALL_CHILDREN_NUMBER:
        return "GETACN";
    case ZOP_WHO_AM_I:
        return "HOMI";
    default:
        return "UNKN";
    }
}

/* Reads whose null path ZooKeeper cannot process (MARSHALLINGERROR). */
static bool needs_path(int32_t type)
{
    switch (type) {
    case ZOP_EXISTS:
    case ZOP_GET_DATA:
    case ZOP_GET_CHILDREN:
    case ZOP_GET_CHILDREN2:
    case ZOP_GET_ACL:
    case ZOP_GET_ALL_CHILDREN_NUMBER:
    case ZOP_ADD_WATCH:
    case ZOP_CHECK_WATCHES:
    case ZOP_REMOVE_WATCHES:
        return true;
    default:
        return false;
    }
}

void latency_record(latency_stats_t *l, int64_t ms)
{
    if (l->count == 0 || ms < l->min)
        l->min = ms;
    if (ms > l->max)
        l->max = ms;
    l->count++;
    l->sum += ms;
}

static void handle_auth(conn_t *c, const zk_request_t *r)
{
    server_t *s = c->srv;
    int rc = auth_handle_packet(&c->ids, r->scheme, r->auth, c->peer_ip, s->cfg.super_digest);
    conn_send_header(c, r->xid, 0, rc);
    if (rc != ZOK) {
        s->metrics.auth_failed++;
        log_warn(&s->log, "authentication failed for scheme %.*s from %s:%d; closing",
                 r->scheme.len > 0 ? (int)r->scheme.len : 0, r->scheme.ptr ? r->scheme.ptr : "",
                 c->peer_ip, c->peer_port);
        c->close_after_flush = true;
    }
}

/* Execute one request now (the FIFO rules have been checked). */
static void request_execute(conn_t *c, const uint8_t *p, size_t n, int64_t start)
{
    server_t *s = c->srv;
    zk_request_t r;
    memset(&r, 0, sizeof(r));
    jute_reader_t hr;
    jr_init(&hr, p, 8);
    r.xid = jr_int(&hr);
    r.type = jr_int(&hr);
    int32_t derr = proto_decode_body(&r, p + 8, n - 8);

    if (r.type == ZOP_AUTH) {
        if (derr == ZOK) {
            handle_auth(c, &r);
        } else {
            log_warn(&s->log, "closing connection from %s:%d: malformed auth packet", c->peer_ip,
                     c->peer_port);
            conn_close(c, NULL);
        }
        proto_request_free(&r);
        return;
    }
    if (r.type == ZOP_SASL && (derr != ZOK || jstr_is_null(r.token))) {
        log_warn(&s->log, "closing connection from %s:%d: malformed sasl packet", c->peer_ip,
                 c->peer_port);
        conn_close(c, NULL);
        proto_request_free(&r);
        return;
    }
    if (r.type == ZOP_SASL) {
        /* SASL is not configured: ZooKeeper answers with a null token. */
        size_t at = conn_reply_begin(c, r.xid, 0, ZOK);
        jw_buffer(&c->out, NULL, -1);
        conn_reply_end(c, at);
        proto_request_free(&r);
        return;
    }
    if (derr == ZUNIMPLEMENTED) {
        log_warn(&s->log, "closing connection from %s:%d: unknown opcode %d", c->peer_ip,
                 c->peer_port, r.type);
        conn_send_header(c, r.xid, -1, ZUNIMPLEMENTED);
        c->close_after_flush = true;
        proto_request_free(&r);
        return;
    }
    /* Touch the session; requests of an unknown or closing session are
     * dropped and the connection closed (§5.1). */
    if (!c->session || !session_touch(&s->sessions, c->session, start)) {
        conn_close(c, "request for a closed or expired session");
        proto_request_free(&r);
        return;
    }
    c->last_op = op_abbrev(r.type);
    c->last_cxid = r.xid;
    int64_t zxid = s->last_zxid;
    bool is_write = zk_op_is_write(r.type);

    if (derr == ZOK && jstr_is_null(r.op.path) && needs_path(r.type))
        derr = ZMARSHALLINGERROR;
    if (derr == ZOK && r.type == ZOP_MULTI_READ && r.nops > 0 && r.ops[0].type != ZOP_GET_DATA &&
        r.ops[0].type != ZOP_GET_CHILDREN) {
        /* Write ops only: ZooKeeper decodes it, then fails with an empty body. */
        size_t at = conn_reply_begin(c, r.xid, zxid, ZMARSHALLINGERROR);
        jw_int(&c->out, -1);
        jw_bool(&c->out, true);
        jw_int(&c->out, -1);
        conn_reply_end(c, at);
    } else if (derr != ZOK && (!is_write || r.type == ZOP_RECONFIG)) {
        /* Reads, and reconfig (decoded before a zxid is taken), answer a
         * malformed body without consuming a zxid. */
        conn_send_header(c, r.xid, zxid, derr);
    } else if (is_write && r.type != ZOP_CLOSE_SESSION) {
        do_write(c, &r, derr == ZOK, start);
        proto_request_free(&r);
        return; /* answered when applied */
    } else {
        c->last_zxid = zxid;
        switch (r.type) {
        case ZOP_PING:
            conn_send_header(c, ZXID_PING, zxid, ZOK);
            break;
        case ZOP_CLOSE_SESSION: {
            session_t *sess = c->session;
            c->session = NULL;
            sess->owner = NULL;
            c->draining = true; /* nothing after closeSession is answered */
            log_debug(&s->log, "closing session 0x%llx at the client's request",
                      (unsigned long long)sess->id);
            server_close_session(s, sess, c, r.xid);
            proto_request_free(&r);
            return; /* answered when applied */
        }
        case ZOP_EXISTS:
            do_exists(c, &r, zxid);
            break;
        case ZOP_GET_DATA:
            do_get_data(c, &r, zxid);
            break;
        case ZOP_GET_CHILDREN:
        case ZOP_GET_CHILDREN2:
            do_get_children(c, &r, zxid);
            break;
        case ZOP_GET_ACL:
            do_get_acl(c, &r, zxid);
            break;
        case ZOP_SYNC: {
            size_t at = conn_reply_begin(c, r.xid, zxid, ZOK);
            jw_jstr(&c->out, r.op.path);
            conn_reply_end(c, at);
            break;
        }
        case ZOP_GET_ALL_CHILDREN_NUMBER:
            do_all_children_number(c, &r, zxid);
            break;
        case ZOP_GET_EPHEMERALS:
            do_get_ephemerals(c, &r, zxid);
            break;
        case ZOP_WHO_AM_I:
            do_who_am_i(c, &r, zxid);
            break;
        case ZOP_SET_WATCHES:
        case ZOP_SET_WATCHES2:
            do_set_watches(c, &r, zxid);
            break;
        case ZOP_ADD_WATCH:
            do_add_watch(c, &r, zxid);
            break;
        case ZOP_CHECK_WATCHES:
        case ZOP_REMOVE_WATCHES:
            do_watch_query(c, &r, zxid);
            break;
        case ZOP_MULTI_READ:
            do_multi_read(c, &r, zxid);
            break;
        default:
            conn_send_header(c, r.xid, zxid, ZUNIMPLEMENTED);
            c->close_after_flush = true;
            break;
        }
    }
    int64_t now = server_mono_ms(s);
    c->last_response_ms = now;
    c->last_latency_ms = now - start;
    latency_record(&c->latency, now - start);
    latency_record(&s->latency, now - start);
    latency_record(&s->metrics.read_latency, now - start);
    proto_request_free(&r);
}

static void enqueue(conn_t *c, const uint8_t *p, size_t n)
{
    queued_req_t *q = xmalloc(sizeof(*q) + n);
    q->next = NULL;
    q->received_ms = server_mono_ms(c->srv);
    q->len = n;
    memcpy(q->data, p, n);
    if (c->q_tail)
        c->q_tail->next = q;
    else
        c->q_head = q;
    c->q_tail = q;
    c->queued++;
    c->srv->outstanding_requests++;
}

void request_process(conn_t *c, const uint8_t *p, size_t n)
{
    server_t *s = c->srv;
    if (n < 8) {
        log_warn(&s->log, "closing connection from %s:%d: frame of %zu bytes has no request header",
                 c->peer_ip, c->peer_port, n);
        conn_close(c, NULL);
        return;
    }
    if (c->draining)
        return;
    int32_t type = be32_read(p + 4);
    bool ready = c->state == CONN_READY;
    /* auth and sasl are answered at once, ahead of pending replies (§18);
     * everything else keeps per-connection order, and a read waits for the
     * connection's earlier writes to be applied. */
    bool immediate = ready && (type == ZOP_AUTH || type == ZOP_SASL);
    if (!immediate && (!ready || c->q_head || (c->inflight > 0 && !zk_op_is_write(type)))) {
        enqueue(c, p, n);
        return;
    }
    request_execute(c, p, n, server_mono_ms(s));
}

void request_resume(conn_t *c)
{
    server_t *s = c->srv;
    while (c->q_head && c->state == CONN_READY && !c->close_after_flush) {
        queued_req_t *q = c->q_head;
        int32_t type = be32_read(q->data + 4);
        if (c->inflight > 0 && !zk_op_is_write(type))
            break;
        c->q_head = q->next;
        if (!c->q_head)
            c->q_tail = NULL;
        c->queued--;
        s->outstanding_requests--;
        if (!c->draining)
            request_execute(c, q->data, q->len, q->received_ms);
        free(q);
    }
    conn_mark_dirty(c); /* flush, and read again if back-pressure stopped it */
}
