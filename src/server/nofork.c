/* nofork: MADV_DONTFORK mappings, a byte buffer and an object pool on them. */
#include "server/nofork.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/buf.h"

#define NF_POOL_CHUNK (64u << 10)
#define NF_BUF_MIN (4u << 10)

static size_t page_round(size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return (n + page - 1) / page * page;
}

static void *nf_map(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        fprintf(stderr, "corral: out of memory mapping %zu bytes\n", bytes);
        abort();
    }
    /* Best effort: without it the memory is merely copied at fork. */
    (void)madvise(p, bytes, MADV_DONTFORK);
    return p;
}

void nf_buf_init(nf_buf_t *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void nf_buf_free(nf_buf_t *b)
{
    if (b->data)
        munmap(b->data, b->cap);
    nf_buf_init(b);
}

void nf_buf_reserve(nf_buf_t *b, size_t extra)
{
    if (b->cap - b->len >= extra)
        return;
    size_t cap = b->cap ? b->cap : NF_BUF_MIN;
    while (cap < b->len + extra)
        cap *= 2;
    cap = page_round(cap);
    uint8_t *p = nf_map(cap);
    if (b->len)
        memcpy(p, b->data, b->len);
    if (b->data)
        munmap(b->data, b->cap);
    b->data = p;
    b->cap = cap;
}

void nf_buf_append(nf_buf_t *b, const void *p, size_t n)
{
    if (n == 0)
        return;
    nf_buf_reserve(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void nf_buf_consume(nf_buf_t *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

void nf_pool_init(nf_pool_t *p, size_t obj_size)
{
    memset(p, 0, sizeof(*p));
    /* Room for the free-list link, and aligned for any member. */
    size_t align = _Alignof(max_align_t);
    if (obj_size < sizeof(void *))
        obj_size = sizeof(void *);
    p->obj_size = (obj_size + align - 1) / align * align;
}

void *nf_pool_get(nf_pool_t *p)
{
    if (!p->free_list) {
        size_t bytes = p->obj_size > NF_POOL_CHUNK ? page_round(p->obj_size) : NF_POOL_CHUNK;
        uint8_t *chunk = nf_map(bytes);
        if (p->nchunks == p->chunks_cap) {
            p->chunks_cap = p->chunks_cap ? p->chunks_cap * 2 : 16;
            p->chunks = xrealloc(p->chunks, p->chunks_cap * sizeof(*p->chunks));
        }
        p->chunks[p->nchunks++] = chunk;
        /* Thread the chunk's objects so that the first one is handed out first. */
        size_t n = bytes / p->obj_size;
        for (size_t i = n; i-- > 0;) {
            void *obj = chunk + i * p->obj_size;
            *(void **)obj = p->free_list;
            p->free_list = obj;
        }
    }
    void *obj = p->free_list;
    p->free_list = *(void **)obj;
    return obj;
}

void nf_pool_put(nf_pool_t *p, void *obj)
{
    *(void **)obj = p->free_list;
    p->free_list = obj;
}

void nf_pool_free(nf_pool_t *p)
{
    size_t bytes = p->obj_size > NF_POOL_CHUNK ? page_round(p->obj_size) : NF_POOL_CHUNK;
    for (size_t i = 0; i < p->nchunks; i++)
        munmap(p->chunks[i], bytes);
    free(p->chunks);
    memset(p, 0, sizeof(*p));
}
