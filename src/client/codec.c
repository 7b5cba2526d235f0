/* codec: client request encoders and reply decoders (see codec.h). */
#include "client/codec.h"

#include <stdlib.h>
#include <string.h>

#include "base/jute.h"
#include "proto/records.h"

/* ---- Frames ------------------------------------------------------------------ */

void zkc_encode_connect(buf_t *b, int64_t last_zxid, int32_t timeout_ms, int64_t session_id,
                        const uint8_t passwd[ZKC_PASSWD_LEN], bool read_only)
{
    size_t at = proto_frame_begin(b);
    jw_int(b, 0); /* protocolVersion */
    jw_long(b, last_zxid);
    jw_int(b, timeout_ms);
    jw_long(b, session_id);
    jw_buffer(b, passwd, ZKC_PASSWD_LEN);
    jw_bool(b, read_only);
    proto_frame_end(b, at);
}

bool zkc_decode_connect_response(const uint8_t *p, size_t n, zkc_connect_response_t *out)
{
    jute_reader_t r;
    jr_init(&r, p, n);
    memset(out, 0, sizeof *out);
    out->protocol_version = jr_int(&r);
    out->timeout_ms = jr_int(&r);
    out->session_id = jr_long(&r);
    jstr_t pw = jr_buffer(&r);
    if (r.err)
        return false;
    if (pw.len > 0)
        memcpy(out->passwd, pw.ptr, pw.len < ZKC_PASSWD_LEN ? (size_t)pw.len : ZKC_PASSWD_LEN);
    if (jr_remaining(&r) >= 1)
        out->read_only = jr_bool(&r);
    return true;
}

size_t zkc_frame_begin(buf_t *b, int32_t xid, int32_t type)
{
    size_t at = proto_frame_begin(b);
    jw_int(b, xid);
    jw_int(b, type);
    return at;
}

void zkc_frame_end(buf_t *b, size_t start)
{
    proto_frame_end(b, start);
}

void zkc_frame_set_xid(uint8_t *frame, int32_t xid)
{
    uint32_t u = (uint32_t)xid;
    frame[4] = (uint8_t)(u >> 24);
    frame[5] = (uint8_t)(u >> 16);
    frame[6] = (uint8_t)(u >> 8);
    frame[7] = (uint8_t)u;
}

/* ---- Request bodies ------------------------------------------------------------ */

void zkc_write_acl(buf_t *b, const zkc_acl_t *acl, int32_t n)
{
    if (!acl || n < 0) {
        jw_int(b, -1);
        return;
    }
    jw_int(b, n);
    for (int32_t i = 0; i < n; i++) {
        jw_int(b, acl[i].perms);
        jw_cstr(b, acl[i].scheme);
        jw_cstr(b, acl[i].id);
    }
}

void zkc_write_create(buf_t *b, const char *path, const void *data, int32_t len,
                      const zkc_acl_t *acl, int32_t n_acl, int32_t flags, bool with_ttl,
                      int64_t ttl)
{
    jw_cstr(b, path);
    jw_buffer(b, data, data ? len : -1);
    zkc_write_acl(b, acl, n_acl);
    jw_int(b, flags);
    if (with_ttl)
        jw_long(b, ttl);
}

void zkc_write_path_int(buf_t *b, const char *path, int32_t v)
{
    jw_cstr(b, path);
    jw_int(b, v);
}

void zkc_write_path_bool(buf_t *b, const char *path, bool v)
{
    jw_cstr(b, path);
    jw_bool(b, v);
}

void zkc_write_set_data(buf_t *b, const char *path, const void *data, int32_t len, int32_t version)
{
    jw_cstr(b, path);
    jw_buffer(b, data, data ? len : -1);
    jw_int(b, version);
}

void zkc_write_set_acl(buf_t *b, const char *path, const zkc_acl_t *acl, int32_t n, int32_t version)
{
    jw_cstr(b, path);
    zkc_write_acl(b, acl, n);
    jw_int(b, version);
}

void zkc_write_auth(buf_t *b, const char *scheme, const void *auth, int32_t len)
{
    jw_int(b, 0);
    jw_cstr(b, scheme);
    jw_buffer(b, auth, auth ? len : -1);
}

void zkc_write_reconfig(buf_t *b, const char *joining, const char *leaving, const char *members,
                        int64_t from_config)
{
    jw_cstr(b, joining);
    jw_cstr(b, leaving);
    jw_cstr(b, members);
    jw_long(b, from_config);
}

void zkc_write_set_watches(buf_t *b, bool v2, int64_t relative_zxid, char *const *lists[5],
                           const int32_t n[5])
{
    jw_long(b, relative_zxid);
    int nl = v2 ? 5 : 3;
    for (int l = 0; l < nl; l++) {
        jw_int(b, n[l]);
        for (int32_t i = 0; i < n[l]; i++)
            jw_cstr(b, lists[l][i]);
    }
}

void zkc_write_multi(buf_t *b, const zkc_op_t *ops, int32_t n)
{
    for (int32_t i = 0; i < n; i++) {
        const zkc_op_t *op = &ops[i];
        jw_int(b, op->type);
        jw_bool(b, false);
        jw_int(b, -1);
        switch (op->type) {
        case ZOP_CREATE:
        case ZOP_CREATE2:
        case ZOP_CREATE_CONTAINER:
            zkc_write_create(b, op->path, op->data, op->data_len, op->acl, op->n_acl, op->mode,
                             false, 0);
            break;
        case ZOP_DELETE:
        case ZOP_CHECK:
            zkc_write_path_int(b, op->path, op->version);
            break;
        case ZOP_SET_DATA:
            zkc_write_set_data(b, op->path, op->data, op->data_len, op->version);
            break;
        default: /* rejected by zkc_multi before encoding */
            break;
        }
    }
    jw_int(b, -1);
    jw_bool(b, true);
    jw_int(b, -1);
}

/* ---- Replies --------------------------------------------------------------------- */

bool zkc_decode_reply_header(const uint8_t *p, size_t n, zkc_reply_header_t *out)
{
    jute_reader_t r;
    jr_init(&r, p, n);
    out->xid = jr_int(&r);
    out->zxid = jr_long(&r);
    out->err = jr_int(&r);
    return !r.err;
}

void zkc_read_stat(jute_reader_t *r, zk_stat_t *st)
{
    st->czxid = jr_long(r);
    st->mzxid = jr_long(r);
    st->ctime = jr_long(r);
    st->mtime = jr_long(r);
    st->version = jr_int(r);
    st->cversion = jr_int(r);
    st->aversion = jr_int(r);
    st->ephemeral_owner = jr_long(r);
    st->data_length = jr_int(r);
    st->num_children = jr_int(r);
    st->pzxid = jr_long(r);
}

/* A jute string as a malloc'ed C string (NULL for a null string). */
static char *dup_jstr(jstr_t s)
{
    if (jstr_is_null(s))
        return NULL;
    return xstrndup(s.ptr, (size_t)s.len);
}

static bool read_strings(jute_reader_t *r, char ***out, int32_t *n_out)
{
    int32_t n = jr_vector_count(r, 4);
    if (r->err)
        return false;
    *n_out = 0;
    if (n <= 0)
        return true;
    *out = xcalloc((size_t)n, sizeof(char *));
    for (int32_t i = 0; i < n; i++) {
        jstr_t s = jr_string(r);
        if (r->err)
            return false;
        (*out)[i] = jstr_is_null(s) ? xstrndup("", 0) : dup_jstr(s);
        *n_out = i + 1;
    }
    return true;
}

static bool read_acl(jute_reader_t *r, zkc_result_t *res)
{
    int32_t n = jr_vector_count(r, 12);
    if (r->err)
        return false;
    if (n <= 0)
        return true;
    res->acl = xcalloc((size_t)n, sizeof(zkc_acl_t));
    for (int32_t i = 0; i < n; i++) {
        res->acl[i].perms = jr_int(r);
        jstr_t scheme = jr_string(r), id = jr_string(r);
        if (r->err)
            return false;
        res->acl[i].scheme = jstr_is_null(scheme) ? xstrndup("", 0) : dup_jstr(scheme);
        res->acl[i].id = jstr_is_null(id) ? xstrndup("", 0) : dup_jstr(id);
        res->n_acl = i + 1;
    }
    return true;
}

static bool read_data(jute_reader_t *r, zkc_result_t *res)
{
    jstr_t d = jr_buffer(r);
    if (r->err)
        return false;
    res->data_len = d.len;
    if (d.len >= 0) {
        res->data = xmalloc((size_t)d.len + 1);
        memcpy(res->data, d.ptr, (size_t)d.len);
        res->data[d.len] = 0;
    }
    return true;
}

static bool read_multi(jute_reader_t *r, zkc_result_t *res)
{
    int32_t cap = 0;
    for (;;) {
        int32_t type = jr_int(r);
        bool done = jr_bool(r);
        int32_t err = jr_int(r);
        if (r->err)
            return false;
        if (done)
            return true;
        if (res->n_ops == cap) {
            cap = cap ? cap * 2 : 8;
            res->ops = xrealloc(res->ops, (size_t)cap * sizeof(zkc_op_result_t));
        }
        zkc_op_result_t *o = &res->ops[res->n_ops++];
        memset(o, 0, sizeof *o);
        o->type = type;
        o->err = err;
        switch (type) {
        case ZOP_CREATE:
            o->path = dup_jstr(jr_string(r));
            break;
        case ZOP_CREATE2:
        case ZOP_CREATE_CONTAINER:
        case ZOP_CREATE_TTL:
            o->path = dup_jstr(jr_string(r));
            zkc_read_stat(r, &o->stat);
            o->has_stat = true;
            break;
        case ZOP_SET_DATA:
            zkc_read_stat(r, &o->stat);
            o->has_stat = true;
            break;
        case ZOP_DELETE:
        case ZOP_CHECK:
            break;
        case -1:
            o->err = jr_int(r);
            break;
        default:
            return false;
        }
        if (r->err)
            return false;
    }
}

int32_t zkc_decode_reply_body(int32_t op, const uint8_t *p, size_t n, zkc_result_t *res)
{
    jute_reader_t r;
    jr_init(&r, p, n);
    bool ok = true;
    switch (op) {
    case ZOP_CREATE:
    case ZOP_SYNC:
        res->path = dup_jstr(jr_string(&r));
        break;
    case ZOP_CREATE2:
    case ZOP_CREATE_CONTAINER:
    case ZOP_CREATE_TTL:
        res->path = dup_jstr(jr_string(&r));
        zkc_read_stat(&r, &res->stat);
        res->has_stat = true;
        break;
    case ZOP_EXISTS:
    case ZOP_SET_DATA:
    case ZOP_SET_ACL:
        zkc_read_stat(&r, &res->stat);
        res->has_stat = true;
        break;
    case ZOP_GET_DATA:
    case ZOP_RECONFIG:
        ok = read_data(&r, res);
        zkc_read_stat(&r, &res->stat);
        res->has_stat = true;
        break;
    case ZOP_GET_ACL:
        ok = read_acl(&r, res);
        zkc_read_stat(&r, &res->stat);
        res->has_stat = true;
        break;
    case ZOP_GET_CHILDREN:
    case ZOP_GET_EPHEMERALS:
        ok = read_strings(&r, &res->children, &res->n_children);
        break;
    case ZOP_GET_CHILDREN2:
        ok = read_strings(&r, &res->children, &res->n_children);
        zkc_read_stat(&r, &res->stat);
        res->has_stat = true;
        break;
    case ZOP_GET_ALL_CHILDREN_NUMBER:
        res->number = jr_int(&r);
        break;
    case ZOP_WHO_AM_I: {
        int32_t cnt = jr_vector_count(&r, 8);
        if (cnt > 0) {
            res->who = xcalloc((size_t)cnt, sizeof(zkc_client_info_t));
            for (int32_t i = 0; i < cnt && !r.err; i++) {
                jstr_t s = jr_string(&r), u = jr_string(&r);
                if (r.err)
                    break;
                res->who[i].scheme = jstr_is_null(s) ? NULL : dup_jstr(s);
                res->who[i].user = jstr_is_null(u) ? NULL : dup_jstr(u);
                res->n_who = i + 1;
            }
        }
        break;
    }
    case ZOP_MULTI:
        ok = read_multi(&r, res);
        break;
    default: /* delete, addWatch (ErrorResponse), removeWatches, check…: nothing to keep */
        break;
    }
    return (ok && !r.err) ? ZOK : ZMARSHALLINGERROR;
}

bool zkc_decode_event(const uint8_t *p, size_t n, int32_t *type, int32_t *state, char **path)
{
    jute_reader_t r;
    jr_init(&r, p, n);
    *type = jr_int(&r);
    *state = jr_int(&r);
    jstr_t s = jr_string(&r);
    if (r.err)
        return false;
    *path = dup_jstr(s);
    return true;
}
