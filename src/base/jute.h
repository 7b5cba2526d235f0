/* jute: ZooKeeper's binary record encoding (big-endian ints and longs,
 * length-prefixed buffers and strings with -1 meaning null, counted vectors).
 *
 * The reader decodes in place: strings and buffers point into the input.
 * Any out-of-bounds or malformed read sets `err` and every later read
 * returns zero/null, so a decoder checks `err` once at the end. */
#ifndef CORRAL_JUTE_H
#define CORRAL_JUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* A borrowed byte string. len == -1 is jute's null. */
typedef struct jstr {
    const char *ptr;
    int32_t len;
} jstr_t;

#define JSTR_NULL ((jstr_t){NULL, -1})
#define JSTR_LIT(s) ((jstr_t){(s), (int32_t)(sizeof(s) - 1)})

static inline bool jstr_is_null(jstr_t s)
{
    return s.len < 0;
}
jstr_t jstr_from_cstr(const char *s);
bool jstr_eq(jstr_t a, jstr_t b);
bool jstr_eq_cstr(jstr_t a, const char *s);

typedef struct jute_reader {
    const uint8_t *p;
    size_t len;
    size_t pos;
    bool err;
} jute_reader_t;

void jr_init(jute_reader_t *r, const void *p, size_t len);
size_t jr_remaining(const jute_reader_t *r);
uint8_t jr_byte(jute_reader_t *r);
bool jr_bool(jute_reader_t *r);
int32_t jr_int(jute_reader_t *r);
int64_t jr_long(jute_reader_t *r);
/* buffer and ustring share a layout; a length below -1 or past the end is an error. */
jstr_t jr_buffer(jute_reader_t *r);
jstr_t jr_string(jute_reader_t *r);
/* Vector count; -1 (null) is returned as -1, and any other negative count as
 * 0 (ZooKeeper's reader treats it as an empty vector). A count that could not fit in
 * the remaining bytes (given each element takes at least min_elem_bytes) is
 * an error, so callers can size arrays from it safely. */
int32_t jr_vector_count(jute_reader_t *r, size_t min_elem_bytes);

void jw_byte(buf_t *b, uint8_t v);
void jw_bool(buf_t *b, bool v);
void jw_int(buf_t *b, int32_t v);
void jw_long(buf_t *b, int64_t v);
void jw_buffer(buf_t *b, const void *p, int32_t len); /* len -1 writes null */
void jw_jstr(buf_t *b, jstr_t s);
void jw_cstr(buf_t *b, const char *s);
/* Overwrite a big-endian int at an earlier offset (frame lengths). */
void jw_patch_int(buf_t *b, size_t at, int32_t v);

static inline int32_t be32_read(const uint8_t *p)
{
    return (int32_t)(((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) |
                     (uint32_t)p[3]);
}

#endif
