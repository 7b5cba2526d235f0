/* buf: a growable byte buffer used for every outgoing frame and record.
 * Allocation failure is fatal (like Redis' zmalloc): a coordination service
 * that cannot allocate a few bytes cannot keep its promises anyway. */
#ifndef CORRAL_BUF_H
#define CORRAL_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct buf {
    uint8_t *data;
    size_t len;  /* bytes in use */
    size_t cap;  /* bytes allocated */
    bool nofork; /* storage is mapped and left out of fork()ed children */
} buf_t;

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrndup(const char *s, size_t n);

void buf_init(buf_t *b);
/* A buffer whose storage is anonymous memory marked MADV_DONTFORK: after a
 * fork (the snapshot writer) the parent writes it without copy-on-write
 * faults, and the child must never touch it. For per-request scratch only. */
void buf_init_nofork(buf_t *b);
/* Releases the storage; the buffer stays usable, in the same mode. */
void buf_free(buf_t *b);
void buf_reserve_slow(buf_t *b, size_t extra);
/* Make room for at least `extra` more bytes past len. */
static inline void buf_reserve(buf_t *b, size_t extra)
{
    if (b->cap - b->len < extra)
        buf_reserve_slow(b, extra);
}
void buf_append(buf_t *b, const void *p, size_t n);
void buf_append_str(buf_t *b, const char *s);
/* printf-style append; returns nothing, grows as needed. */
void buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drop the first n bytes (n <= len), keeping the rest. */
void buf_consume(buf_t *b, size_t n);
void buf_reset(buf_t *b);

#endif
