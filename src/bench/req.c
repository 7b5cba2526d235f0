/* req: request encoders and key paths (see req.h). */
#include "bench/req.h"

#include <string.h>

#include "proto/zk.h"

void keypath_init(keypath_t *kp, const char *root, const char *leaf_prefix)
{
    size_t r = strlen(root), l = strlen(leaf_prefix);
    if (r + 1 + l + KEY_DIGITS + 1 > sizeof(kp->buf))
        r = sizeof(kp->buf) - 2 - l - KEY_DIGITS; /* opts bounds the root well below this */
    memcpy(kp->buf, root, r);
    kp->buf[r] = '/';
    memcpy(kp->buf + r + 1, leaf_prefix, l);
    kp->prefix_len = r + 1 + l;
    memset(kp->buf + kp->prefix_len, '0', KEY_DIGITS);
    kp->buf[kp->prefix_len + KEY_DIGITS] = '\0';
}

size_t keypath_key(keypath_t *kp, uint32_t i)
{
    char *d = kp->buf + kp->prefix_len;
    for (int k = KEY_DIGITS - 1; k >= 0; k--) {
        d[k] = (char)('0' + i % 10);
        i /= 10;
    }
    return kp->prefix_len + KEY_DIGITS;
}

size_t req_max_bytes(size_t root_len, size_t value_bytes, int multi_ops)
{
    size_t path = root_len + 1 + 16 + KEY_DIGITS + 16; /* leaf prefix, digits, sequence */
    /* header + path + data + open ACL + flags/version + slack */
    size_t one = 12 + 4 + path + 4 + value_bytes + 40 + 16;
    size_t multi = 12 + (size_t)multi_ops * (9 + 4 + path + 4 + value_bytes + 4) + 9 + 16;
    return one > multi ? one : multi;
}

void req_get_data(eng_conn_t *c, const char *path, size_t plen, int watch, uint8_t kind,
                  uint32_t aux)
{
    size_t s = eng_req_begin(c, ZOP_GET_DATA, kind, aux);
    jw_buffer(&c->out, path, (int32_t)plen);
    jw_bool(&c->out, watch != 0);
    eng_req_end(c, s);
}

void req_exists(eng_conn_t *c, const char *path, size_t plen, uint8_t kind, uint32_t aux)
{
    size_t s = eng_req_begin(c, ZOP_EXISTS, kind, aux);
    jw_buffer(&c->out, path, (int32_t)plen);
    jw_bool(&c->out, false);
    eng_req_end(c, s);
}

void req_get_children(eng_conn_t *c, const char *path, size_t plen, uint8_t kind, uint32_t aux)
{
    size_t s = eng_req_begin(c, ZOP_GET_CHILDREN, kind, aux);
    jw_buffer(&c->out, path, (int32_t)plen);
    jw_bool(&c->out, false);
    eng_req_end(c, s);
}

void req_set_data(eng_conn_t *c, const char *path, size_t plen, const void *data, size_t dlen,
                  uint8_t kind, uint32_t aux)
{
    size_t s = eng_req_begin(c, ZOP_SET_DATA, kind, aux);
    jw_buffer(&c->out, path, (int32_t)plen);
    jw_buffer(&c->out, data, (int32_t)dlen);
    jw_int(&c->out, -1);
    eng_req_end(c, s);
}

static void write_open_acl(buf_t *b)
{
    jw_int(b, 1); /* one ACL */
    jw_int(b, ZK_PERM_ALL);
    jw_cstr(b, "world");
    jw_cstr(b, "anyone");
}

void req_create(eng_conn_t *c, const char *path, size_t plen, const void *data, size_t dlen,
                int32_t flags, uint8_t kind, uint32_t aux)
{
    size_t s = eng_req_begin(c, ZOP_CREATE, kind, aux);
    jw_buffer(&c->out, path, (int32_t)plen);
    jw_buffer(&c->out, data, (int32_t)dlen);
    write_open_acl(&c->out);
    jw_int(&c->out, flags);
    eng_req_end(c, s);
}

void req_delete(eng_conn_t *c, const char *path, size_t plen, uint8_t kind, uint32_t aux)
{
    size_t s = eng_req_begin(c, ZOP_DELETE, kind, aux);
    jw_buffer(&c->out, path, (int32_t)plen);
    jw_int(&c->out, -1);
    eng_req_end(c, s);
}

void req_close_session(eng_conn_t *c, uint8_t kind)
{
    size_t s = eng_req_begin(c, ZOP_CLOSE_SESSION, kind, 0);
    eng_req_end(c, s);
}

size_t req_multi_begin(eng_conn_t *c, uint8_t kind, uint32_t aux)
{
    return eng_req_begin(c, ZOP_MULTI, kind, aux);
}

static void multi_header(buf_t *b, int32_t type, bool done)
{
    jw_int(b, type);
    jw_bool(b, done);
    jw_int(b, -1);
}

void req_multi_set_data(eng_conn_t *c, const char *path, size_t plen, const void *data, size_t dlen)
{
    multi_header(&c->out, ZOP_SET_DATA, false);
    jw_buffer(&c->out, path, (int32_t)plen);
    jw_buffer(&c->out, data, (int32_t)dlen);
    jw_int(&c->out, -1);
}

void req_multi_end(eng_conn_t *c, size_t start)
{
    multi_header(&c->out, -1, true);
    eng_req_end(c, start);
}

int32_t req_multi_result(jute_reader_t *body)
{
    /* The first header tells: on failure every result is an error, the
     * failing one carries the real code and the others RUNTIMEINCONSISTENCY. */
    for (int i = 0; i < BENCH_MAX_MULTI_OPS + 1; i++) {
        int32_t type = jr_int(body);
        bool done = jr_bool(body);
        int32_t err = jr_int(body);
        if (body->err)
            return ZMARSHALLINGERROR;
        if (done)
            return 0;
        if (type != -1)
            return 0;       /* a success: the multi committed */
        (void)jr_int(body); /* ErrorResponse */
        if (err != ZOK && err != ZRUNTIMEINCONSISTENCY)
            return err;
    }
    return ZMARSHALLINGERROR;
}
