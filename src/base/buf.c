/* buf: growable byte buffers and the checked allocation wrappers. */
#include "buf.h"

#include "vm.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
    fprintf(stderr, "corral: out of memory allocating %zu bytes\n", n);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *xcalloc(size_t count, size_t n)
{
    void *p = calloc(count ? count : 1, n ? n : 1);
    if (!p)
        oom(count * n);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *xstrndup(const char *s, size_t n)
{
    char *d = xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

void buf_init(buf_t *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->nofork = false;
}

void buf_init_nofork(buf_t *b)
{
    buf_init(b);
    b->nofork = true;
}

void buf_free(buf_t *b)
{
    bool nofork = b->nofork;
    if (nofork)
        vm_unmap(b->data, b->cap);
    else
        free(b->data);
    buf_init(b);
    b->nofork = nofork;
}

/* Mapped storage grows by moving to a new mapping (whole pages). */
static void *nofork_grow(buf_t *b, size_t cap)
{
    uint8_t *p = vm_map_nofork(cap);
    if (b->len)
        memcpy(p, b->data, b->len);
    vm_unmap(b->data, b->cap);
    return p;
}

void buf_reserve_slow(buf_t *b, size_t extra)
{
    size_t want = b->len + extra;
    size_t cap = b->cap ? b->cap : (b->nofork ? 4096 : 256);
    while (cap < want)
        cap *= 2;
    if (b->nofork) {
        cap = vm_page_round(cap);
        b->data = nofork_grow(b, cap);
    } else {
        b->data = xrealloc(b->data, cap);
    }
    b->cap = cap;
}

void buf_append(buf_t *b, const void *p, size_t n)
{
    if (n == 0)
        return;
    buf_reserve(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void buf_append_str(buf_t *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

void buf_printf(buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    buf_reserve(b, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void buf_consume(buf_t *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

void buf_reset(buf_t *b)
{
    b->len = 0;
}
