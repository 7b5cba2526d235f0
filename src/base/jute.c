/* jute: bounds-checked decoding and appending encoders for jute records. */
#include "jute.h"

#include <string.h>

jstr_t jstr_from_cstr(const char *s)
{
    if (!s)
        return JSTR_NULL;
    return (jstr_t){s, (int32_t)strlen(s)};
}

bool jstr_eq(jstr_t a, jstr_t b)
{
    if (a.len != b.len)
        return false;
    return a.len <= 0 || memcmp(a.ptr, b.ptr, (size_t)a.len) == 0;
}

bool jstr_eq_cstr(jstr_t a, const char *s)
{
    return jstr_eq(a, jstr_from_cstr(s));
}

void jr_init(jute_reader_t *r, const void *p, size_t len)
{
    r->p = p;
    r->len = len;
    r->pos = 0;
    r->err = false;
}

size_t jr_remaining(const jute_reader_t *r)
{
    return r->err ? 0 : r->len - r->pos;
}

static const uint8_t *take(jute_reader_t *r, size_t n)
{
    if (r->err || r->len - r->pos < n) {
        r->err = true;
        return NULL;
    }
    const uint8_t *p = r->p + r->pos;
    r->pos += n;
    return p;
}

uint8_t jr_byte(jute_reader_t *r)
{
    const uint8_t *p = take(r, 1);
    return p ? p[0] : 0;
}

bool jr_bool(jute_reader_t *r)
{
    return jr_byte(r) != 0;
}

int32_t jr_int(jute_reader_t *r)
{
    const uint8_t *p = take(r, 4);
    return p ? be32_read(p) : 0;
}

int64_t jr_long(jute_reader_t *r)
{
    const uint8_t *p = take(r, 8);
    if (!p)
        return 0;
    uint64_t hi = (uint32_t)be32_read(p), lo = (uint32_t)be32_read(p + 4);
    return (int64_t)((hi << 32) | lo);
}

jstr_t jr_buffer(jute_reader_t *r)
{
    int32_t n = jr_int(r);
    if (r->err)
        return JSTR_NULL;
    if (n == -1)
        return JSTR_NULL;
    if (n < -1) {
        r->err = true;
        return JSTR_NULL;
    }
    const uint8_t *p = take(r, (size_t)n);
    if (!p)
        return JSTR_NULL;
    return (jstr_t){(const char *)p, n};
}

jstr_t jr_string(jute_reader_t *r)
{
    return jr_buffer(r);
}

int32_t jr_vector_count(jute_reader_t *r, size_t min_elem_bytes)
{
    int32_t n = jr_int(r);
    if (r->err)
        return -1;
    if (n == -1)
        return -1;
    if (n < -1)
        return 0; /* Java's reader loops zero times: an empty vector */
    if (min_elem_bytes && (size_t)n > jr_remaining(r) / min_elem_bytes) {
        r->err = true;
        return -1;
    }
    return n;
}

void jw_byte(buf_t *b, uint8_t v)
{
    buf_append(b, &v, 1);
}

void jw_bool(buf_t *b, bool v)
{
    jw_byte(b, v ? 1 : 0);
}

void jw_int(buf_t *b, int32_t v)
{
    buf_reserve(b, 4);
    uint8_t *p = b->data + b->len;
    uint32_t u = (uint32_t)v;
    p[0] = (uint8_t)(u >> 24);
    p[1] = (uint8_t)(u >> 16);
    p[2] = (uint8_t)(u >> 8);
    p[3] = (uint8_t)u;
    b->len += 4;
}

void jw_long(buf_t *b, int64_t v)
{
    buf_reserve(b, 8);
    uint8_t *p = b->data + b->len;
    uint64_t u = (uint64_t)v;
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(u >> (56 - 8 * i));
    b->len += 8;
}

void jw_buffer(buf_t *b, const void *p, int32_t len)
{
    if (len < 0 || (!p && len > 0)) {
        jw_int(b, -1);
        return;
    }
    jw_int(b, len);
    buf_append(b, p, (size_t)len);
}

void jw_jstr(buf_t *b, jstr_t s)
{
    jw_buffer(b, s.ptr, s.len);
}

void jw_cstr(buf_t *b, const char *s)
{
    jw_jstr(b, jstr_from_cstr(s));
}

void jw_patch_int(buf_t *b, size_t at, int32_t v)
{
    uint32_t u = (uint32_t)v;
    b->data[at] = (uint8_t)(u >> 24);
    b->data[at + 1] = (uint8_t)(u >> 16);
    b->data[at + 2] = (uint8_t)(u >> 8);
    b->data[at + 3] = (uint8_t)u;
}
