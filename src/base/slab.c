/* slab: size-segregated free lists over headerless chunks (see slab.h). */
#include "slab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "buf.h"
#include "vm.h"

#if defined(__SANITIZE_ADDRESS__)
#define SLAB_PLAIN_MALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLAB_PLAIN_MALLOC 1
#endif
#endif

#ifdef SLAB_PLAIN_MALLOC

/* Every object and array its own malloc, for the sanitizers' sake. */
void slab_init(slab_t *s)
{
    memset(s, 0, sizeof(*s));
}

void slab_destroy(slab_t *s)
{
    slab_init(s);
}

void *slab_alloc(slab_t *s, size_t size)
{
    (void)s;
    return xmalloc(size);
}

void slab_free(slab_t *s, void *p, size_t size)
{
    (void)s;
    (void)size;
    free(p);
}

void slab_prefault_start(slab_t *s, size_t bytes)
{
    (void)s;
    (void)bytes;
}

void slab_prefault_wait(slab_t *s)
{
    (void)s;
}

void *big_calloc(size_t bytes)
{
    return xcalloc(1, bytes);
}

void big_free(void *p, size_t bytes)
{
    (void)bytes;
    free(p);
}

#else

#define BIG_MMAP_BYTES ((size_t)4 << 20)

static size_t round8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

void slab_init(slab_t *s)
{
    memset(s, 0, sizeof(*s));
}

void slab_destroy(slab_t *s)
{
    slab_prefault_wait(s);
    for (size_t i = 0; i < s->nchunks; i++)
        vm_unmap(s->chunks[i], SLAB_CHUNK_BYTES);
    if (s->spare_chunks)
        vm_unmap(s->spare, s->spare_chunks * SLAB_CHUNK_BYTES);
    free(s->chunks);
    slab_init(s);
}

static void *populate(void *arg)
{
    slab_t *s = arg; /* only the two prefault_ fields, fixed while this runs */
#ifdef MADV_POPULATE_WRITE
    for (size_t off = 0; off < s->prefault_bytes; off += SLAB_CHUNK_BYTES)
        if (madvise(s->prefault_base + off, SLAB_CHUNK_BYTES, MADV_POPULATE_WRITE) != 0)
            break; /* an older kernel: the caller faults the pages itself */
#else
    (void)s;
#endif
    return NULL;
}

void slab_prefault_start(slab_t *s, size_t bytes)
{
    size_t n = bytes / SLAB_CHUNK_BYTES;
    if (s->prefaulting || s->spare_chunks || n == 0)
        return;
    s->spare = vm_map(n * SLAB_CHUNK_BYTES, SLAB_CHUNK_BYTES);
    s->spare_chunks = n;
    if ((s->nchunks + n) * SLAB_CHUNK_BYTES >= SLAB_HUGE_AFTER)
        vm_huge_pages(s->spare, n * SLAB_CHUNK_BYTES);
    s->prefault_base = s->spare;
    s->prefault_bytes = n * SLAB_CHUNK_BYTES;
    s->prefaulting = pthread_create(&s->prefault_thread, NULL, populate, s) == 0;
}

void slab_prefault_wait(slab_t *s)
{
    if (s->prefaulting) {
        pthread_join(s->prefault_thread, NULL);
        s->prefaulting = false;
    }
}

static void push_free(slab_t *s, void *p, size_t size)
{
    *(void **)p = s->free_lists[size / 8];
    s->free_lists[size / 8] = p;
}

static void new_chunk(slab_t *s)
{
    /* The old chunk's tail becomes a free object of its own size. */
    if (s->bump_left >= 8)
        push_free(s, s->bump, s->bump_left);
    void *c;
    if (s->spare_chunks) {
        c = s->spare;
        s->spare += SLAB_CHUNK_BYTES;
        s->spare_chunks--;
    } else {
        c = vm_map(SLAB_CHUNK_BYTES, SLAB_CHUNK_BYTES);
        if (s->nchunks * SLAB_CHUNK_BYTES >= SLAB_HUGE_AFTER)
            vm_huge_pages(c, SLAB_CHUNK_BYTES);
    }
    if (s->nchunks == s->chunks_cap) {
        s->chunks_cap = s->chunks_cap ? s->chunks_cap * 2 : 16;
        s->chunks = xrealloc(s->chunks, s->chunks_cap * sizeof(*s->chunks));
    }
    s->chunks[s->nchunks++] = c;
    s->bump = c;
    s->bump_left = SLAB_CHUNK_BYTES;
}

void *slab_alloc(slab_t *s, size_t size)
{
    size = round8(size < 8 ? 8 : size);
    if (size > SLAB_MAX_OBJECT)
        return xmalloc(size);
    void *p = s->free_lists[size / 8];
    if (p) {
        s->free_lists[size / 8] = *(void **)p;
        return p;
    }
    if (s->bump_left < size)
        new_chunk(s);
    p = s->bump;
    s->bump += size;
    s->bump_left -= size;
    return p;
}

void slab_free(slab_t *s, void *p, size_t size)
{
    if (!p)
        return;
    size = round8(size < 8 ? 8 : size);
    if (size > SLAB_MAX_OBJECT)
        free(p);
    else
        push_free(s, p, size);
}

void *big_calloc(size_t bytes)
{
    if (bytes >= BIG_MMAP_BYTES) {
        /* Fresh anonymous pages read as zero. */
        void *p = vm_map(bytes, SLAB_CHUNK_BYTES);
        vm_huge_pages(p, bytes);
        return p;
    }
    return xcalloc(1, bytes);
}

void big_free(void *p, size_t bytes)
{
    if (!p)
        return;
    if (bytes >= BIG_MMAP_BYTES) {
        vm_unmap(p, bytes);
        return;
    }
    free(p);
}

#endif
