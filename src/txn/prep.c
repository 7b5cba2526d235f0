/* prep: request validation in ZooKeeper's check order, sequence numbering,
 * and the outstanding-change overlay (a path-keyed list of node states that
 * txns in flight will produce). */
#include "prep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/path.h"
#include "tree/quota.h"

/* The state a node will have once every prepared txn is applied. */
typedef struct node_view {
    bool exists;
    int32_t version, cversion, aversion, nkids;
    int64_t ephemeral_owner;
    tree_acl_t *acl; /* referenced while held by a change record */
} node_view_t;

struct prep_change {
    char *path;
    size_t len;
    int64_t zxid;
    node_view_t v;
    prep_change_t *prev_latest; /* what `latest` pointed to before (rollback) */
    prep_change_t *older, *newer;
};

void prep_init(prep_t *p, tree_t *t, bool extended_types, bool reconfig_enabled)
{
    memset(p, 0, sizeof(*p));
    p->tree = t;
    strmap_init(&p->latest);
    p->extended_types = extended_types;
    p->reconfig_enabled = reconfig_enabled;
}

static void change_free(prep_t *p, prep_change_t *c)
{
    if (c->v.acl)
        tree_acl_unref(p->tree, c->v.acl);
    free(c->path);
    free(c);
}

void prep_free(prep_t *p)
{
    prep_change_t *c = p->head;
    while (c) {
        prep_change_t *next = c->newer;
        change_free(p, c);
        c = next;
    }
    strmap_free(&p->latest);
}

size_t prep_outstanding(const prep_t *p)
{
    return p->latest.used;
}

static bool view_get(prep_t *p, const char *path, size_t len, node_view_t *out)
{
    prep_change_t *c = strmap_get(&p->latest, path, len);
    if (c) {
        *out = c->v;
        return out->exists;
    }
    znode_t *n = tree_get(p->tree, path, len);
    memset(out, 0, sizeof(*out));
    if (!n)
        return false;
    out->exists = true;
    out->version = znode_version(n);
    out->cversion = znode_cversion(n);
    out->aversion = znode_aversion(n);
    out->nkids = (int32_t)znode_nkids(p->tree, n);
    out->ephemeral_owner = znode_owner(p->tree, n);
    out->acl = znode_acl(p->tree, n);
    return true;
}

static void change_push(prep_t *p, const char *path, size_t len, int64_t zxid, const node_view_t *v)
{
    prep_change_t *c = xcalloc(1, sizeof(*c));
    c->path = xstrndup(path, len);
    c->len = len;
    c->zxid = zxid;
    c->v = *v;
    if (c->v.acl)
        tree_acl_ref(c->v.acl);
    c->prev_latest = strmap_put(&p->latest, c->path, c->len, c);
    p->changes_queued++;
    c->older = p->tail;
    if (p->tail)
        p->tail->newer = c;
    else
        p->head = c;
    p->tail = c;
}

/* Undo every change pushed after `mark` (NULL: all changes in the list
 * pushed since the list was empty). */
static void rollback_to(prep_t *p, prep_change_t *mark)
{
    while (p->tail && p->tail != mark) {
        prep_change_t *c = p->tail;
        p->tail = c->older;
        if (p->tail)
            p->tail->newer = NULL;
        else
            p->head = NULL;
        if (c->prev_latest)
            strmap_put(&p->latest, c->prev_latest->path, c->prev_latest->len, c->prev_latest);
        else
            strmap_del(&p->latest, c->path, c->len);
        change_free(p, c);
    }
}

void prep_committed(prep_t *p, int64_t zxid)
{
    while (p->head && p->head->zxid <= zxid) {
        prep_change_t *c = p->head;
        p->head = c->newer;
        if (p->head)
            p->head->older = NULL;
        else
            p->tail = NULL;
        if (strmap_get(&p->latest, c->path, c->len) == c)
            strmap_del(&p->latest, c->path, c->len);
        p->changes_removed++;
        /* A newer change may still name c as its rollback target, but
         * rollback happens only inside one prep_write call, during which
         * nothing commits, so that pointer is never followed again. */
        change_free(p, c);
    }
}

/* The fixed-up ACL of a request, and a borrowed zk_acl_ref_t view of it for
 * encoding and interning. */
typedef struct fixed_acl {
    acl_list_t list;
    zk_acl_ref_t *v;
    int32_t n;
} fixed_acl_t;

static int32_t fixup(const prep_req_t *in, const zk_acl_refs_t *acl, fixed_acl_t *out)
{
    acl_list_init(&out->list);
    out->v = NULL;
    out->n = 0;
    int32_t rc = in->acl->fixup(in->acl->ctx, acl, &out->list);
    if (rc != ZOK)
        return rc;
    out->n = out->list.n;
    out->v = xcalloc((size_t)(out->n ? out->n : 1), sizeof(*out->v));
    for (int32_t i = 0; i < out->n; i++) {
        out->v[i].perms = out->list.v[i].perms;
        out->v[i].scheme = acl_scheme(&out->list.v[i]);
        out->v[i].id = acl_id(&out->list.v[i]);
    }
    return ZOK;
}

static void fixed_acl_free(fixed_acl_t *f)
{
    acl_list_free(&f->list);
    free(f->v);
}

static bool allowed(const prep_req_t *in, const tree_acl_t *acl, int32_t perm)
{
    return in->acl->allowed(in->acl->ctx, acl, perm);
}

static bool check_version(int32_t expected, int32_t actual)
{
    return expected == -1 || expected == actual;
}

static bool is_special(jstr_t p)
{
    return jstr_eq_cstr(p, "/") || jstr_eq_cstr(p, "/zookeeper") ||
           jstr_eq_cstr(p, "/zookeeper/quota") || jstr_eq_cstr(p, "/zookeeper/config");
}

/* Parent path of p as (ptr, len); false if p has no '/'. */
static bool parent_of(jstr_t p, jstr_t *parent)
{
    int32_t pl = tree_parent_len(p.ptr, (size_t)p.len);
    if (pl < 0)
        return false;
    parent->ptr = pl == 1 && p.ptr[0] == '/' ? "/" : p.ptr;
    parent->len = pl;
    return true;
}

/* Effective create kind for a create op: opcode 19 is always a container;
 * flags 4 on any create opcode is a container too (ZooKeeper 3.8 would make a
 * plain node and later mis-digest it, §5.2 — we do not copy that). */
static int32_t create_kind(int32_t opcode, int32_t flags)
{
    if (opcode == ZOP_CREATE_CONTAINER || flags == ZMODE_CONTAINER)
        return ZOP_CREATE_CONTAINER;
    if (opcode == ZOP_CREATE_TTL || zk_mode_ttl(flags))
        return ZOP_CREATE_TTL;
    return opcode;
}

/* create/create2/createContainer/createTTL (§5.2). `kind` is the txn type to
 * log; `ttl` is -1 when the record carried none. */
static int32_t prep_create(prep_t *p, const prep_req_t *in, const zk_op_t *op, int32_t kind,
                           int64_t ttl, buf_t *body)
{
    int32_t flags = op->flags;
    if (jstr_is_null(op->path))
        return ZMARSHALLINGERROR; /* ZooKeeper fails on the null string */
    if (flags < 0 || flags > 6)
        return ZBADARGUMENTS;
    if (zk_mode_ttl(flags) && !p->extended_types)
        return ZUNIMPLEMENTED;
    if (zk_mode_ttl(flags) ? (ttl <= 0 || ttl > ZK_TTL_MAX) : ttl >= 0)
        return ZBADARGUMENTS;
    if (!zk_path_has_slash_no_nul(op->path.ptr, (size_t)op->path.len))
        return ZBADARGUMENTS;
    fixed_acl_t fa;
    int32_t rc = fixup(in, &op->acl, &fa);
    if (rc != ZOK)
        return rc;
    const zk_acl_ref_t *acl = fa.v;
    int32_t nacl = fa.n;
    jstr_t parent_path;
    node_view_t parent;
    char *final_path = NULL;
    if (!parent_of(op->path, &parent_path) ||
        !view_get(p, parent_path.ptr, (size_t)parent_path.len, &parent)) {
        rc = ZNONODE;
        goto out;
    }
    if (!allowed(in, parent.acl, ZK_PERM_CREATE)) {
        rc = ZNOAUTH;
        goto out;
    }
    size_t flen = (size_t)op->path.len;
    final_path = xmalloc(flen + 16);
    memcpy(final_path, op->path.ptr, flen);
    if (zk_mode_sequential(flags))
        flen += (size_t)snprintf(final_path + flen, 16, "%010d", parent.cversion);
    if (!zk_path_valid(final_path, flen)) {
        rc = ZBADARGUMENTS;
        goto out;
    }
    node_view_t existing;
    if (view_get(p, final_path, flen, &existing)) {
        rc = ZNODEEXISTS;
        goto out;
    }
    if (parent.ephemeral_owner != 0 && parent.ephemeral_owner != ZK_CONTAINER_OWNER &&
        !(p->extended_types && ((uint64_t)parent.ephemeral_owner >> 56) == 0xFF)) {
        rc = ZNOCHILDRENFOREPHEMERALS;
        goto out;
    }
    if (p->enforce_quota && (rc = quota_check(p->tree, final_path, flen, 1,
                                              op->data.len > 0 ? op->data.len : 0)) != ZOK)
        goto out;
    jstr_t fp = {final_path, (int32_t)flen};
    int32_t parent_cversion = zk_version_next(parent.cversion);
    bool ephemeral =
        kind != ZOP_CREATE_CONTAINER && kind != ZOP_CREATE_TTL && zk_mode_ephemeral(flags);
    if (kind == ZOP_CREATE_CONTAINER)
        txn_write_create_container(body, fp, op->data, acl, nacl, parent_cversion);
    else if (kind == ZOP_CREATE_TTL)
        txn_write_create_ttl(body, fp, op->data, acl, nacl, parent_cversion, ttl);
    else
        txn_write_create(body, fp, op->data, acl, nacl, ephemeral, parent_cversion);

    /* Outstanding changes: the parent gains a child, the node appears. */
    parent.cversion = parent_cversion;
    parent.nkids++;
    change_push(p, parent_path.ptr, (size_t)parent_path.len, in->zxid, &parent);
    node_view_t nv = {.exists = true};
    if (ephemeral)
        nv.ephemeral_owner = in->session_id;
    else if (kind == ZOP_CREATE_CONTAINER)
        nv.ephemeral_owner = ZK_CONTAINER_OWNER;
    else if (kind == ZOP_CREATE_TTL)
        nv.ephemeral_owner = ZK_TTL_MASK | (ttl & ZK_TTL_MAX);
    nv.acl = tree_acl_intern(p->tree, acl, nacl);
    change_push(p, final_path, flen, in->zxid, &nv);
    tree_acl_unref(p->tree, nv.acl); /* the change record holds its own reference */
    rc = ZOK;
out:
    free(final_path);
    fixed_acl_free(&fa);
    return rc;
}

/* Push the outstanding change of deleting `path` (node must exist). */
static void push_delete(prep_t *p, jstr_t path, int64_t zxid)
{
    jstr_t pp;
    node_view_t parent;
    if (parent_of(path, &pp) && view_get(p, pp.ptr, (size_t)pp.len, &parent)) {
        parent.nkids--;
        change_push(p, pp.ptr, (size_t)pp.len, zxid, &parent);
    }
    node_view_t gone = {.exists = false};
    change_push(p, path.ptr, (size_t)path.len, zxid, &gone);
}

static int32_t prep_delete(prep_t *p, const prep_req_t *in, const zk_op_t *op, buf_t *body)
{
    if (jstr_is_null(op->path))
        return ZMARSHALLINGERROR;
    if (!zk_path_has_slash_no_nul(op->path.ptr, (size_t)op->path.len) || is_special(op->path))
        return ZBADARGUMENTS;
    jstr_t pp;
    node_view_t parent, node;
    if (!parent_of(op->path, &pp) || !view_get(p, pp.ptr, (size_t)pp.len, &parent))
        return ZNONODE;
    if (!allowed(in, parent.acl, ZK_PERM_DELETE))
        return ZNOAUTH;
    if (!view_get(p, op->path.ptr, (size_t)op->path.len, &node))
        return ZNONODE;
    if (!check_version(op->version, node.version))
        return ZBADVERSION;
    if (node.nkids > 0)
        return ZNOTEMPTY;
    txn_write_delete(body, op->path);
    push_delete(p, op->path, in->zxid);
    return ZOK;
}

/* The checks setData and check share (§5.5, §5.10.1): full path validation,
 * the node exists (counting outstanding changes), the caller holds `perm`. */
static int32_t existing_node(prep_t *p, const prep_req_t *in, const zk_op_t *op, int32_t perm,
                             node_view_t *node)
{
    if (!zk_path_valid(op->path.ptr, (size_t)op->path.len))
        return ZBADARGUMENTS;
    if (!view_get(p, op->path.ptr, (size_t)op->path.len, node))
        return ZNONODE;
    if (!allowed(in, node->acl, perm))
        return ZNOAUTH;
    return ZOK;
}

static int32_t prep_set_data(prep_t *p, const prep_req_t *in, const zk_op_t *op, buf_t *body)
{
    node_view_t node;
    int32_t rc = existing_node(p, in, op, ZK_PERM_WRITE, &node);
    if (rc != ZOK)
        return rc;
    if (p->enforce_quota) {
        znode_t *cur = tree_get_j(p->tree, op->path);
        int64_t old_len = cur && cur->data_len > 0 ? cur->data_len : 0;
        rc = quota_check(p->tree, op->path.ptr, (size_t)op->path.len, 0,
                         (op->data.len > 0 ? op->data.len : 0) - old_len);
        if (rc != ZOK)
            return rc;
    }
    if (!check_version(op->version, node.version))
        return ZBADVERSION;
    node.version = zk_version_next(node.version);
    txn_write_set_data(body, op->path, op->data, node.version);
    change_push(p, op->path.ptr, (size_t)op->path.len, in->zxid, &node);
    return ZOK;
}

static int32_t prep_set_acl(prep_t *p, const prep_req_t *in, const zk_op_t *op, buf_t *body)
{
    if (!zk_path_valid(op->path.ptr, (size_t)op->path.len))
        return ZBADARGUMENTS;
    fixed_acl_t fa;
    int32_t rc = fixup(in, &op->acl, &fa);
    if (rc != ZOK)
        return rc;
    const zk_acl_ref_t *acl = fa.v;
    int32_t nacl = fa.n;
    node_view_t node;
    if (!view_get(p, op->path.ptr, (size_t)op->path.len, &node))
        rc = ZNONODE;
    else if (!allowed(in, node.acl, ZK_PERM_ADMIN))
        rc = ZNOAUTH;
    else if (!check_version(op->version, node.aversion))
        rc = ZBADVERSION;
    if (rc == ZOK) {
        node.aversion = zk_version_next(node.aversion);
        txn_write_set_acl(body, op->path, acl, nacl, node.aversion);
        node.acl = tree_acl_intern(p->tree, acl, nacl);
        change_push(p, op->path.ptr, (size_t)op->path.len, in->zxid, &node);
        tree_acl_unref(p->tree, node.acl);
    }
    fixed_acl_free(&fa);
    return rc;
}

static int32_t prep_check(prep_t *p, const prep_req_t *in, const zk_op_t *op, buf_t *body)
{
    node_view_t node;
    int32_t rc = existing_node(p, in, op, ZK_PERM_READ, &node);
    if (rc != ZOK)
        return rc;
    if (!check_version(op->version, node.version))
        return ZBADVERSION;
    txn_write_check(body, op->path, zk_version_next(node.version));
    return ZOK;
}

static int32_t prep_delete_container(prep_t *p, const prep_req_t *in, buf_t *body)
{
    jstr_t path = in->container_path;
    node_view_t node;
    if (!view_get(p, path.ptr, (size_t)path.len, &node))
        return ZNONODE;
    if (node.nkids > 0)
        return ZNOTEMPTY;
    int64_t o = node.ephemeral_owner;
    bool normal_ephemeral =
        o != 0 && o != ZK_CONTAINER_OWNER && !(p->extended_types && ((uint64_t)o >> 56) == 0xFF);
    if (normal_ephemeral)
        return ZBADVERSION;
    txn_write_delete(body, path);
    push_delete(p, path, in->zxid);
    return ZOK;
}

typedef struct path_list {
    jstr_t *v;
    size_t n, cap;
} path_list_t;

static void path_list_add(path_list_t *l, const char *p, size_t len)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n++] = (jstr_t){p, (int32_t)len};
}

/* closeSession: list the session's ephemerals, counting outstanding changes. */
static void prep_close_session(prep_t *p, const prep_req_t *in, buf_t *body)
{
    size_t count_at = body->len;
    int32_t count = 0;
    jw_int(body, 0);
    path_list_t paths = {0};
    const eph_list_t *l = tree_session_ephemerals(p->tree, in->session_id);
    for (uint32_t i = 0; l && i < l->n; i++) {
        node_view_t v;
        if (view_get(p, znode_path(l->v[i]), l->v[i]->path_len, &v)) /* else: deletion in flight */
            path_list_add(&paths, znode_path(l->v[i]), l->v[i]->path_len);
    }
    for (prep_change_t *c = p->head; c; c = c->newer) {
        if (strmap_get(&p->latest, c->path, c->len) != c || !c->v.exists ||
            c->v.ephemeral_owner != in->session_id)
            continue;
        if (!tree_get(p->tree, c->path, c->len)) /* else: already listed from the tree */
            path_list_add(&paths, c->path, c->len);
    }
    /* Copy the paths first: push_delete changes the list we borrowed from. */
    for (size_t i = 0; i < paths.n; i++) {
        jw_jstr(body, paths.v[i]);
        count++;
    }
    jw_patch_int(body, count_at, count);
    jute_reader_t r;
    jr_init(&r, body->data + count_at + 4, body->len - count_at - 4);
    for (int32_t i = 0; i < count; i++) {
        jstr_t path = jr_string(&r);
        push_delete(p, path, in->zxid);
    }
    free(paths.v);
}

/* One multi sub-op into its own buffer; returns its error and txn type. */
static int32_t prep_multi_op(prep_t *p, const prep_req_t *in, const zk_op_t *op, buf_t *sub,
                             int32_t *txn_type)
{
    switch (op->type) {
    case ZOP_CREATE:
    case ZOP_CREATE2:
    case ZOP_CREATE_CONTAINER:
    case ZOP_CREATE_TTL: {
        /* Rebuilt from the flags (§5.10): only the record type is the client's. */
        int32_t kind;
        int64_t ttl = -1;
        if (op->flags == ZMODE_CONTAINER) {
            kind = ZOP_CREATE_CONTAINER;
        } else if (zk_mode_ttl(op->flags)) {
            kind = ZOP_CREATE_TTL;
            ttl = op->ttl;
        } else {
            kind = ZOP_CREATE;
        }
        *txn_type = kind;
        return prep_create(p, in, op, kind, ttl, sub);
    }
    case ZOP_DELETE:
        *txn_type = ZOP_DELETE;
        return prep_delete(p, in, op, sub);
    case ZOP_SET_DATA:
        *txn_type = ZOP_SET_DATA;
        return prep_set_data(p, in, op, sub);
    case ZOP_CHECK:
        *txn_type = ZOP_CHECK;
        return prep_check(p, in, op, sub);
    default:
        *txn_type = ZOP_ERROR;
        return ZMARSHALLINGERROR;
    }
}

static bool multi_ttl_without_record(const zk_request_t *req)
{
    for (int32_t i = 0; i < req->nops; i++) {
        const zk_op_t *op = &req->ops[i];
        bool is_create = op->type == ZOP_CREATE || op->type == ZOP_CREATE2 ||
                         op->type == ZOP_CREATE_CONTAINER || op->type == ZOP_CREATE_TTL;
        if (is_create && zk_mode_ttl(op->flags) && op->type != ZOP_CREATE_TTL)
            return true;
    }
    return false;
}

static void prep_multi(prep_t *p, const prep_req_t *in, buf_t *body)
{
    const zk_request_t *req = in->req;
    prep_change_t *mark = p->tail;
    int32_t n = req->nops;
    buf_t *subs = xcalloc((size_t)(n ? n : 1), sizeof(*subs));
    int32_t *types = xcalloc((size_t)(n ? n : 1), sizeof(*types));
    int32_t failed_at = -1, failed_err = ZOK;
    for (int32_t i = 0; i < n; i++) {
        buf_init(&subs[i]);
        if (failed_at >= 0) {
            types[i] = ZOP_ERROR;
            txn_write_error(&subs[i], ZRUNTIMEINCONSISTENCY);
            continue;
        }
        int32_t err = prep_multi_op(p, in, &req->ops[i], &subs[i], &types[i]);
        if (err != ZOK) {
            failed_at = i;
            failed_err = err;
            types[i] = ZOP_ERROR;
            buf_reset(&subs[i]);
            txn_write_error(&subs[i], err);
        }
    }
    if (failed_at >= 0)
        rollback_to(p, mark);
    (void)failed_err;
    jw_int(body, n);
    for (int32_t i = 0; i < n; i++) {
        jw_int(body, types[i]);
        jw_buffer(body, subs[i].data, (int32_t)subs[i].len);
        buf_free(&subs[i]);
    }
    free(subs);
    free(types);
}

int32_t prep_write(prep_t *p, const prep_req_t *in, txn_header_t *hdr, buf_t *body)
{
    hdr->client_id = in->session_id;
    hdr->cxid = in->cxid;
    hdr->zxid = in->zxid;
    hdr->time_ms = in->time_ms;
    hdr->type = in->type;
    size_t body_start = body->len;
    int32_t rc = ZOK;
    const zk_request_t *req = in->req;
    switch (in->type) {
    case ZOP_CREATE_SESSION:
        txn_write_create_session(body, in->session_timeout_ms);
        return ZOK;
    case ZOP_CLOSE_SESSION:
        prep_close_session(p, in, body);
        return ZOK;
    case ZOP_DELETE_CONTAINER:
        rc = prep_delete_container(p, in, body);
        break;
    default:
        if (!req) {
            rc = ZMARSHALLINGERROR;
            break;
        }
        switch (in->type) {
        case ZOP_CREATE:
        case ZOP_CREATE2:
        case ZOP_CREATE_CONTAINER:
        case ZOP_CREATE_TTL: {
            int32_t kind = create_kind(in->type, req->op.flags);
            rc = prep_create(p, in, &req->op, kind, req->op.ttl, body);
            /* The header names the txn record: a container or TTL create is
             * logged as such whatever opcode asked for it. */
            if (kind == ZOP_CREATE_CONTAINER || kind == ZOP_CREATE_TTL)
                hdr->type = kind;
            break;
        }
        case ZOP_DELETE:
            rc = prep_delete(p, in, &req->op, body);
            break;
        case ZOP_SET_DATA:
            rc = prep_set_data(p, in, &req->op, body);
            break;
        case ZOP_SET_ACL:
            rc = prep_set_acl(p, in, &req->op, body);
            break;
        case ZOP_RECONFIG:
            rc = p->reconfig_enabled ? ZUNIMPLEMENTED : ZRECONFIGDISABLED;
            break;
        case ZOP_CHECK:
            /* Standalone check (§5.10.1): ZooKeeper 3.8 logs a type-13 txn it
             * cannot read back and never replies. We run the same checks and
             * log a passing check as a no-op error txn with code 0, so the
             * zxid is consumed as in ZooKeeper and the log stays readable. */
            rc = prep_check(p, in, &req->op, body);
            if (rc == ZOK) {
                body->len = body_start;
                hdr->type = ZOP_ERROR;
                txn_write_error(body, ZOK);
                return ZOK;
            }
            break;
        case ZOP_MULTI:
            if (multi_ttl_without_record(req)) {
                rc = ZMARSHALLINGERROR;
                break;
            }
            prep_multi(p, in, body);
            return ZOK;
        default:
            rc = ZUNIMPLEMENTED;
            break;
        }
    }
    if (rc != ZOK) {
        body->len = body_start;
        hdr->type = ZOP_ERROR;
        txn_write_error(body, rc);
    }
    return rc;
}
