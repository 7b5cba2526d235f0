/* txn: encoding of txn records and their application to the tree. */
#include "txn.h"

#include <stdlib.h>
#include <string.h>

void txn_header_write(buf_t *b, const txn_header_t *h)
{
    jw_long(b, h->client_id);
    jw_int(b, h->cxid);
    jw_long(b, h->zxid);
    jw_long(b, h->time_ms);
    jw_int(b, h->type);
}

bool txn_header_read(jute_reader_t *r, txn_header_t *h)
{
    h->client_id = jr_long(r);
    h->cxid = jr_int(r);
    h->zxid = jr_long(r);
    h->time_ms = jr_long(r);
    h->type = jr_int(r);
    return !r->err;
}

void txn_write_acls(buf_t *b, const zk_acl_ref_t *v, int32_t n)
{
    jw_int(b, n);
    for (int32_t i = 0; i < n; i++) {
        jw_int(b, v[i].perms);
        jw_jstr(b, v[i].scheme);
        jw_jstr(b, v[i].id);
    }
}

void txn_write_create(buf_t *b, jstr_t path, jstr_t data, const zk_acl_ref_t *acl, int32_t nacl,
                      bool ephemeral, int32_t parent_cversion)
{
    jw_jstr(b, path);
    jw_jstr(b, data);
    txn_write_acls(b, acl, nacl);
    jw_bool(b, ephemeral);
    jw_int(b, parent_cversion);
}

void txn_write_create_container(buf_t *b, jstr_t path, jstr_t data, const zk_acl_ref_t *acl,
                                int32_t nacl, int32_t parent_cversion)
{
    jw_jstr(b, path);
    jw_jstr(b, data);
    txn_write_acls(b, acl, nacl);
    jw_int(b, parent_cversion);
}

void txn_write_create_ttl(buf_t *b, jstr_t path, jstr_t data, const zk_acl_ref_t *acl, int32_t nacl,
                          int32_t parent_cversion, int64_t ttl)
{
    txn_write_create_container(b, path, data, acl, nacl, parent_cversion);
    jw_long(b, ttl);
}

void txn_write_delete(buf_t *b, jstr_t path)
{
    jw_jstr(b, path);
}

void txn_write_set_data(buf_t *b, jstr_t path, jstr_t data, int32_t version)
{
    jw_jstr(b, path);
    jw_jstr(b, data);
    jw_int(b, version);
}

void txn_write_set_acl(buf_t *b, jstr_t path, const zk_acl_ref_t *acl, int32_t nacl,
                       int32_t version)
{
    jw_jstr(b, path);
    txn_write_acls(b, acl, nacl);
    jw_int(b, version);
}

void txn_write_check(buf_t *b, jstr_t path, int32_t version)
{
    jw_jstr(b, path);
    jw_int(b, version);
}

void txn_write_error(buf_t *b, int32_t err)
{
    jw_int(b, err);
}

void txn_write_create_session(buf_t *b, int32_t timeout_ms)
{
    jw_int(b, timeout_ms);
}

/* ---- apply ---------------------------------------------------------------- */

/* Fire one event; `acl` (of the node the event is about) travels with it so
 * the server can drop it for watchers without READ (CVE-2024-23944). */
static void fire(watch_mgr_t *wm, int table, const char *path, size_t len, int32_t type,
                 const tree_acl_t *acl, watch_fired_t *fired)
{
    if (wm)
        watch_trigger(wm, table, path, len, type, acl, fired);
}

static void fire_parent_changed(const tree_t *t, watch_mgr_t *wm, const znode_t *parent)
{
    watch_fired_t f = {0};
    fire(wm, WT_CHILD, znode_path(parent), parent->path_len, ZEV_CHILDREN_CHANGED,
         znode_acl(t, parent), &f);
    watch_fired_free(&f);
}

static int32_t read_acls(jute_reader_t *r, zk_acl_ref_t **out)
{
    int32_t n = jr_vector_count(r, 12);
    *out = NULL;
    if (n <= 0)
        return n < 0 ? 0 : 0;
    *out = xcalloc((size_t)n, sizeof(**out));
    for (int32_t i = 0; i < n; i++) {
        (*out)[i].perms = jr_int(r);
        (*out)[i].scheme = jr_string(r);
        (*out)[i].id = jr_string(r);
    }
    return r->err ? 0 : n;
}

/* The node `path` names as of txn `zxid`: NULL when there is none or when
 * the node there now was created after that txn. Live, every node predates
 * the txn being applied; in a replay over a fuzzy snapshot the snapshot may
 * hold a later incarnation of a path (deleted and re-created, maybe with
 * children, while the snapshot was written), and the txns of the earlier
 * incarnation must not touch it: its own create and later txns, also in
 * the log, give it its state. */
static znode_t *node_as_of(const tree_t *t, const char *path, size_t len, int64_t zxid)
{
    znode_t *n = tree_get(t, path, len);
    return n && n->czxid <= zxid ? n : NULL;
}

static znode_t *node_as_of_j(const tree_t *t, jstr_t path, int64_t zxid)
{
    return path.len < 0 ? NULL : node_as_of(t, path.ptr, (size_t)path.len, zxid);
}

/* A create's effect on its parent: cversion to the txn's (-1: one more),
 * with pzxid, unless the parent's is already as high. */
static void raise_cversion(tree_t *t, znode_t *parent, int32_t cversion, int64_t zxid)
{
    if (cversion == -1)
        cversion = zk_version_next(znode_cversion(parent));
    if (cversion > znode_cversion(parent)) {
        znode_ext_t *pf = znode_full(tree_make_full(t, parent));
        pf->cversion = cversion;
        pf->pzxid = zxid;
    }
}

/* A delete's effect on its parent: pzxid up to the txn's. */
static void raise_pzxid(tree_t *t, znode_t *parent, int64_t zxid)
{
    if (parent && zxid > znode_pzxid(parent))
        znode_full(tree_make_full(t, parent))->pzxid = zxid;
}

/* Create of any kind. `kind` is the txn type (1, 15, 19, 21). */
static bool apply_create(tree_t *t, watch_mgr_t *wm, const txn_header_t *h, int32_t kind,
                         jute_reader_t *r, txn_op_result_t *res)
{
    jstr_t path = jr_string(r);
    jstr_t data = jr_buffer(r);
    zk_acl_ref_t *acl;
    int32_t nacl = read_acls(r, &acl);
    bool ephemeral = false;
    int64_t ttl = 0;
    int32_t parent_cversion;
    if (kind == ZOP_CREATE || kind == ZOP_CREATE2)
        ephemeral = jr_bool(r);
    parent_cversion = jr_int(r);
    if (kind == ZOP_CREATE_TTL)
        ttl = jr_long(r);
    if (r->err || jstr_is_null(path)) {
        free(acl);
        return false;
    }
    res->type = kind;
    res->path = path;
    int32_t plen = tree_parent_len(path.ptr, (size_t)path.len);
    znode_t *parent = plen > 0 ? node_as_of(t, path.ptr, (size_t)plen, h->zxid) : NULL;
    if (!parent || tree_get_j(t, path)) {
        /* Replay of a create already in the tree (a fuzzy snapshot caught
         * it), or an impossible parent: ZooKeeper ignores NODEEXISTS/NONODE
         * here, but still raises the parent's cversion and pzxid to the
         * txn's (ZOOKEEPER-1269), which the snapshot may predate. */
        res->err = parent ? ZNODEEXISTS : ZNONODE;
        if (parent)
            raise_cversion(t, parent, parent_cversion, h->zxid);
        free(acl);
        return true;
    }
    int64_t owner = 0;
    if (ephemeral)
        owner = h->client_id;
    else if (kind == ZOP_CREATE_CONTAINER)
        owner = ZK_CONTAINER_OWNER;
    else if (kind == ZOP_CREATE_TTL)
        owner = ZK_TTL_MASK | (ttl & ZK_TTL_MAX);
    tree_acl_t *a = tree_acl_intern(t, acl, nacl);
    free(acl);
    znode_t *n = tree_add(t, parent, path.ptr, (size_t)path.len, data.ptr, data.len, a, owner,
                          h->zxid, h->time_ms);
    tree_acl_unref(t, a);
    raise_cversion(t, parent, parent_cversion, h->zxid);
    znode_stat(t, n, &res->stat);
    watch_fired_t f = {0};
    fire(wm, WT_DATA, znode_path(n), n->path_len, ZEV_CREATED, znode_acl(t, n), &f);
    watch_fired_free(&f);
    fire_parent_changed(t, wm, parent);
    return true;
}

/* A replayed delete whose node is already gone (a fuzzy snapshot caught the
 * parent after the delete, or the child was never captured): as ZooKeeper's
 * deleteNode, the parent's pzxid still rises to the txn's zxid, so the tree
 * (and its digest) converge on the state the log describes. */
static void raise_parent_pzxid(tree_t *t, jstr_t path, int64_t zxid)
{
    if (path.len <= 0)
        return; /* null or empty: no parent to raise */
    int32_t plen = tree_parent_len(path.ptr, (size_t)path.len);
    raise_pzxid(t, plen > 0 ? node_as_of(t, path.ptr, (size_t)plen, zxid) : NULL, zxid);
}

/* Delete one node (and fire its events); the node must have no children. */
static void delete_node(tree_t *t, watch_mgr_t *wm, znode_t *n, int64_t zxid)
{
    char *path = xstrndup(znode_path(n), n->path_len);
    size_t len = n->path_len;
    tree_acl_t *acl = znode_acl(t, n);
    tree_acl_ref(acl); /* outlives the node until its events are out */
    znode_t *parent = tree_remove(t, n);
    raise_pzxid(t, parent, zxid);
    watch_fired_t f = {0};
    fire(wm, WT_DATA, path, len, ZEV_DELETED, acl, &f);
    fire(wm, WT_CHILD, path, len, ZEV_DELETED, acl, &f);
    watch_fired_free(&f);
    tree_acl_unref(t, acl);
    if (parent)
        fire_parent_changed(t, wm, parent);
    free(path);
}

static bool apply_delete(tree_t *t, watch_mgr_t *wm, const txn_header_t *h, int32_t kind,
                         jute_reader_t *r, txn_op_result_t *res)
{
    jstr_t path = jr_string(r);
    if (r->err || jstr_is_null(path))
        return false;
    res->type = kind;
    res->path = path;
    znode_t *n = node_as_of_j(t, path, h->zxid);
    if (!n || znode_has_kids(n) || n == t->root) {
        res->err = n ? ZNOTEMPTY : ZNONODE;
        if (!n)
            raise_parent_pzxid(t, path, h->zxid);
        return true;
    }
    delete_node(t, wm, n, h->zxid);
    return true;
}

static bool apply_set_data(tree_t *t, watch_mgr_t *wm, const txn_header_t *h, int32_t kind,
                           jute_reader_t *r, txn_op_result_t *res)
{
    jstr_t path = jr_string(r);
    jstr_t data = jr_buffer(r);
    int32_t version = jr_int(r);
    if (r->err || jstr_is_null(path))
        return false;
    res->type = kind;
    res->path = path;
    znode_t *n = node_as_of_j(t, path, h->zxid);
    if (!n) {
        res->err = ZNONODE;
        return true;
    }
    n = tree_make_full(t, n); /* its Stat block, before anything changes */
    tree_set_data(t, n, data.ptr, data.len);
    znode_ext_t *nf = znode_full(n);
    nf->version = version;
    nf->mzxid = h->zxid;
    nf->mtime = h->time_ms;
    znode_stat(t, n, &res->stat);
    watch_fired_t f = {0};
    fire(wm, WT_DATA, znode_path(n), n->path_len, ZEV_DATA_CHANGED, znode_acl(t, n), &f);
    watch_fired_free(&f);
    return true;
}

static bool apply_set_acl(tree_t *t, const txn_header_t *h, jute_reader_t *r, txn_op_result_t *res)
{
    jstr_t path = jr_string(r);
    zk_acl_ref_t *acl;
    int32_t nacl = read_acls(r, &acl);
    int32_t version = jr_int(r);
    if (r->err || jstr_is_null(path)) {
        free(acl);
        return false;
    }
    res->type = ZOP_SET_ACL;
    res->path = path;
    znode_t *n = node_as_of_j(t, path, h->zxid);
    if (!n) {
        free(acl);
        res->err = ZNONODE;
        return true;
    }
    tree_acl_t *a = tree_acl_intern(t, acl, nacl);
    free(acl);
    n = tree_make_full(t, n); /* its Stat block, before anything changes */
    tree_set_acl(t, n, a);
    tree_acl_unref(t, a);
    znode_full(n)->aversion = version;
    znode_stat(t, n, &res->stat);
    return true;
}

static bool apply_close_session(tree_t *t, watch_mgr_t *wm, const txn_header_t *h, jute_reader_t *r)
{
    /* Older logs carry no body; then the session's ephemerals are all deleted. */
    if (jr_remaining(r) >= 4) {
        int32_t n = jr_vector_count(r, 4);
        for (int32_t i = 0; i < n && !r->err; i++) {
            jstr_t p = jr_string(r);
            if (r->err)
                break;
            /* As ZooKeeper: each listed path is deleted whoever owns it now
             * (in a replay over a fuzzy snapshot a later txn re-creates it),
             * and a path already gone (or re-created since) still raises
             * its parent's pzxid. */
            znode_t *node = node_as_of_j(t, p, h->zxid);
            if (!node)
                raise_parent_pzxid(t, p, h->zxid);
            else if (!znode_has_kids(node) && node != t->root)
                delete_node(t, wm, node, h->zxid);
        }
        if (r->err)
            return false;
    }
    const eph_list_t *l;
    while ((l = tree_session_ephemerals(t, h->client_id)) && l->n > 0)
        delete_node(t, wm, l->v[l->n - 1], h->zxid);
    return true;
}

/* Apply one non-multi txn body. */
static bool apply_one(tree_t *t, watch_mgr_t *wm, const txn_header_t *h, int32_t type,
                      jute_reader_t *r, txn_op_result_t *res)
{
    memset(res, 0, sizeof(*res));
    res->type = type;
    switch (type) {
    case ZOP_CREATE:
    case ZOP_CREATE2:
    case ZOP_CREATE_CONTAINER:
    case ZOP_CREATE_TTL:
        return apply_create(t, wm, h, type, r, res);
    case ZOP_DELETE:
    case ZOP_DELETE_CONTAINER:
        return apply_delete(t, wm, h, type, r, res);
    case ZOP_SET_DATA:
    case ZOP_RECONFIG:
        return apply_set_data(t, wm, h, type, r, res);
    case ZOP_SET_ACL:
        return apply_set_acl(t, h, r, res);
    case ZOP_CHECK:
        res->path = jr_string(r);
        (void)jr_int(r);
        return !r->err;
    case ZOP_ERROR:
        res->err = jr_int(r);
        return !r->err;
    case ZOP_CREATE_SESSION:
        (void)jr_int(r);
        return !r->err;
    case ZOP_CLOSE_SESSION:
        return apply_close_session(t, wm, h, r);
    default:
        return false;
    }
}

static bool apply_multi(tree_t *t, watch_mgr_t *wm, const txn_header_t *h, jute_reader_t *r,
                        txn_result_t *res)
{
    int32_t n = jr_vector_count(r, 8);
    if (r->err)
        return false;
    if (n < 0)
        n = 0;
    int32_t *types = xcalloc((size_t)(n ? n : 1), sizeof(*types));
    jstr_t *bodies = xcalloc((size_t)(n ? n : 1), sizeof(*bodies));
    int32_t first_error = -1;
    for (int32_t i = 0; i < n; i++) {
        types[i] = jr_int(r);
        bodies[i] = jr_buffer(r);
        if (types[i] == ZOP_ERROR && first_error < 0)
            first_error = i;
    }
    bool ok = !r->err;
    res->nops = n;
    res->ops = xcalloc((size_t)(n ? n : 1), sizeof(*res->ops));
    for (int32_t i = 0; ok && i < n; i++) {
        txn_op_result_t *o = &res->ops[i];
        if (first_error >= 0) {
            /* A failed multi applies nothing; results mirror ZooKeeper's. */
            o->type = ZOP_ERROR;
            if (types[i] == ZOP_ERROR) {
                jute_reader_t er;
                jr_init(&er, bodies[i].ptr, (size_t)(bodies[i].len > 0 ? bodies[i].len : 0));
                o->err = jr_int(&er);
            } else {
                o->err = i < first_error ? ZOK : ZRUNTIMEINCONSISTENCY;
            }
            continue;
        }
        jute_reader_t sr;
        jr_init(&sr, bodies[i].ptr, (size_t)(bodies[i].len > 0 ? bodies[i].len : 0));
        ok = apply_one(t, wm, h, types[i], &sr, o);
    }
    free(types);
    free(bodies);
    return ok;
}

bool txn_apply(tree_t *t, watch_mgr_t *wm, const txn_header_t *h, const uint8_t *body, size_t len,
               txn_result_t *res)
{
    txn_result_t scratch;
    if (!res)
        res = &scratch;
    memset(res, 0, sizeof(*res));
    jute_reader_t r;
    jr_init(&r, body, len);
    bool ok;
    if (h->type == ZOP_MULTI) {
        ok = apply_multi(t, wm, h, &r, res);
    } else {
        ok = apply_one(t, wm, h, h->type, &r, &res->single);
        res->err = h->type == ZOP_ERROR ? res->single.err : ZOK;
    }
    if (res == &scratch)
        txn_result_free(res);
    return ok;
}

void txn_result_free(txn_result_t *res)
{
    free(res->ops);
    res->ops = NULL;
    res->nops = 0;
    buf_free(&res->txn_body);
}

void txn_kill_session(tree_t *t, int64_t session_id, int64_t zxid)
{
    const eph_list_t *l;
    while ((l = tree_session_ephemerals(t, session_id)) && l->n > 0)
        delete_node(t, NULL, l->v[l->n - 1], zxid);
}
