/* records: decoding of client request bodies (bounds-checked, in place) and
 * the small encoders shared by every reply. */
#include "records.h"

#include <stdlib.h>
#include <string.h>

bool proto_decode_connect(const uint8_t *p, size_t n, zk_connect_request_t *out)
{
    jute_reader_t r;
    jr_init(&r, p, n);
    out->protocol_version = jr_int(&r);
    out->last_zxid_seen = jr_long(&r);
    out->timeout_ms = jr_int(&r);
    out->session_id = jr_long(&r);
    out->passwd = jr_buffer(&r);
    if (r.err)
        return false;
    out->has_read_only = jr_remaining(&r) >= 1;
    out->read_only = out->has_read_only ? jr_bool(&r) : false;
    return !r.err;
}

/* An ACL entry is at least an int and two string lengths. */
#define ACL_MIN_BYTES 12

static bool decode_acls(jute_reader_t *r, zk_acl_refs_t *out)
{
    out->v = NULL;
    out->n = jr_vector_count(r, ACL_MIN_BYTES);
    if (r->err)
        return false;
    if (out->n <= 0)
        return true;
    out->v = xcalloc((size_t)out->n, sizeof(*out->v));
    for (int32_t i = 0; i < out->n; i++) {
        out->v[i].perms = jr_int(r);
        out->v[i].scheme = jr_string(r);
        out->v[i].id = jr_string(r);
    }
    return !r->err;
}

static bool decode_strvec(jute_reader_t *r, zk_strvec_t *out)
{
    out->v = NULL;
    out->n = jr_vector_count(r, 4);
    if (r->err)
        return false;
    if (out->n <= 0)
        return true;
    out->v = xcalloc((size_t)out->n, sizeof(*out->v));
    for (int32_t i = 0; i < out->n; i++)
        out->v[i] = jr_string(r);
    return !r->err;
}

/* A path may be null on the wire; each operation decides what that means
 * (ZooKeeper answers BADARGUMENTS, MARSHALLINGERROR or echoes it). */
static bool need_path(jute_reader_t *r, zk_op_t *op)
{
    op->path = jr_string(r);
    return !r->err;
}

bool proto_decode_op(jute_reader_t *r, int32_t type, zk_op_t *op)
{
    memset(op, 0, sizeof(*op));
    op->type = type;
    op->ttl = -1;
    op->acl.n = -1;
    switch (type) {
    case ZOP_CREATE:
    case ZOP_CREATE2:
    case ZOP_CREATE_CONTAINER:
    case ZOP_CREATE_TTL:
        if (!need_path(r, op))
            return false;
        op->data = jr_buffer(r);
        if (!decode_acls(r, &op->acl))
            return false;
        op->flags = jr_int(r);
        if (type == ZOP_CREATE_TTL)
            op->ttl = jr_long(r);
        break;
    case ZOP_DELETE:
    case ZOP_CHECK:
        if (!need_path(r, op))
            return false;
        op->version = jr_int(r);
        break;
    case ZOP_SET_DATA:
        if (!need_path(r, op))
            return false;
        op->data = jr_buffer(r);
        op->version = jr_int(r);
        break;
    case ZOP_SET_ACL:
        if (!need_path(r, op))
            return false;
        if (!decode_acls(r, &op->acl))
            return false;
        op->version = jr_int(r);
        break;
    case ZOP_EXISTS:
    case ZOP_GET_DATA:
    case ZOP_GET_CHILDREN:
    case ZOP_GET_CHILDREN2:
        if (!need_path(r, op))
            return false;
        op->watch = jr_bool(r);
        break;
    case ZOP_GET_ACL:
    case ZOP_SYNC:
    case ZOP_GET_ALL_CHILDREN_NUMBER:
        if (!need_path(r, op))
            return false;
        break;
    case ZOP_GET_EPHEMERALS:
        op->path = jr_string(r); /* null means "all" */
        break;
    case ZOP_ADD_WATCH:
    case ZOP_CHECK_WATCHES:
    case ZOP_REMOVE_WATCHES:
        if (!need_path(r, op))
            return false;
        op->mode = jr_int(r);
        break;
    default:
        return false;
    }
    return !r->err;
}

static bool multi_op_is_write(int32_t t)
{
    return t == ZOP_CREATE || t == ZOP_CREATE2 || t == ZOP_CREATE_CONTAINER ||
           t == ZOP_CREATE_TTL || t == ZOP_DELETE || t == ZOP_SET_DATA || t == ZOP_CHECK;
}

static bool decode_multi(jute_reader_t *r, zk_request_t *req)
{
    size_t cap = 0;
    bool any_read = false, any_write = false;
    for (;;) {
        int32_t type = jr_int(r);
        bool done = jr_bool(r);
        (void)jr_int(r); /* err: ignored in requests */
        if (r->err)
            return false;
        if (done)
            break;
        if (type == ZOP_GET_DATA || type == ZOP_GET_CHILDREN)
            any_read = true;
        else if (multi_op_is_write(type))
            any_write = true;
        else
            return false;
        if ((size_t)req->nops == cap) {
            cap = cap ? cap * 2 : 8;
            req->ops = xrealloc(req->ops, cap * sizeof(*req->ops));
        }
        zk_op_t *op = &req->ops[req->nops++];
        if (!proto_decode_op(r, type, op))
            return false;
    }
    if (any_read && any_write)
        return false;
    if (req->type == ZOP_MULTI && any_read)
        return false;
    /* A multiRead of write ops only decodes (the request handler refuses it). */
    return true;
}

int32_t proto_decode_body(zk_request_t *req, const uint8_t *p, size_t n)
{
    jute_reader_t r;
    jr_init(&r, p, n);
    req->op.acl.n = -1;
    bool ok = true;
    switch (req->type) {
    case ZOP_PING:
    case ZOP_CLOSE_SESSION:
    case ZOP_WHO_AM_I:
        return ZOK;
    case ZOP_MULTI:
    case ZOP_MULTI_READ:
        ok = decode_multi(&r, req);
        break;
    case ZOP_SET_WATCHES:
    case ZOP_SET_WATCHES2: {
        req->relative_zxid = jr_long(&r);
        int lists = req->type == ZOP_SET_WATCHES ? 3 : 5;
        for (int i = 0; i < lists && ok; i++)
            ok = decode_strvec(&r, &req->watches[i]) && req->watches[i].n >= 0;
        break;
    }
    case ZOP_AUTH:
        req->auth_type = jr_int(&r);
        req->scheme = jr_string(&r);
        req->auth = jr_buffer(&r);
        ok = !r.err && !jstr_is_null(req->scheme);
        break;
    case ZOP_SASL:
        req->token = jr_buffer(&r);
        break;
    case ZOP_RECONFIG:
        req->joining = jr_string(&r);
        req->leaving = jr_string(&r);
        req->members = jr_string(&r);
        req->cur_config_id = jr_long(&r);
        break;
    case ZOP_CREATE:
    case ZOP_CREATE2:
    case ZOP_CREATE_CONTAINER:
    case ZOP_CREATE_TTL:
    case ZOP_DELETE:
    case ZOP_CHECK:
    case ZOP_SET_DATA:
    case ZOP_SET_ACL:
    case ZOP_EXISTS:
    case ZOP_GET_DATA:
    case ZOP_GET_CHILDREN:
    case ZOP_GET_CHILDREN2:
    case ZOP_GET_ACL:
    case ZOP_SYNC:
    case ZOP_GET_ALL_CHILDREN_NUMBER:
    case ZOP_GET_EPHEMERALS:
    case ZOP_ADD_WATCH:
    case ZOP_CHECK_WATCHES:
    case ZOP_REMOVE_WATCHES:
        ok = proto_decode_op(&r, req->type, &req->op);
        break;
    default:
        return ZUNIMPLEMENTED;
    }
    return (ok && !r.err) ? ZOK : ZMARSHALLINGERROR;
}

void proto_request_free(zk_request_t *req)
{
    free(req->op.acl.v);
    req->op.acl.v = NULL;
    for (int32_t i = 0; i < req->nops; i++)
        free(req->ops[i].acl.v);
    free(req->ops);
    req->ops = NULL;
    req->nops = 0;
    for (int i = 0; i < ZW_NLISTS; i++) {
        free(req->watches[i].v);
        req->watches[i].v = NULL;
    }
}

void proto_write_stat(buf_t *b, const zk_stat_t *st)
{
    jw_long(b, st->czxid);
    jw_long(b, st->mzxid);
    jw_long(b, st->ctime);
    jw_long(b, st->mtime);
    jw_int(b, st->version);
    jw_int(b, st->cversion);
    jw_int(b, st->aversion);
    jw_long(b, st->ephemeral_owner);
    jw_int(b, st->data_length);
    jw_int(b, st->num_children);
    jw_long(b, st->pzxid);
}

void proto_write_reply_header(buf_t *b, int32_t xid, int64_t zxid, int32_t err)
{
    jw_int(b, xid);
    jw_long(b, zxid);
    jw_int(b, err);
}

size_t proto_frame_begin(buf_t *b)
{
    size_t at = b->len;
    jw_int(b, 0);
    return at;
}

void proto_frame_end(buf_t *b, size_t start)
{
    jw_patch_int(b, start, (int32_t)(b->len - start - 4));
}
