/* slab: size-segregated free lists over headerless chunks, plain or in one
 * aligned arena with page-granular large objects (see slab.h). */
#include "slab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "buf.h"
#include "vm.h"

#if defined(__SANITIZE_ADDRESS__)
#define SLAB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLAB_ASAN 1
#endif
#endif

/* Under AddressSanitizer a plain slab is malloc and an arena is poisoned
 * wherever no object lives. */
#ifdef SLAB_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define BIG_MMAP_BYTES ((size_t)4 << 20)

static size_t round8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

void slab_init(slab_t *s)
{
    memset(s, 0, sizeof(*s));
}

void slab_init_arena(slab_t *s)
{
    slab_init(s);
    s->base =
        vm_reserve_aligned(SLAB_ARENA_ALIGN, SLAB_ARENA_MIN, SLAB_ARENA_ALIGN, &s->arena_bytes);
    s->low = s->arena_bytes;
}

static void arena_full(const slab_t *s, size_t bytes)
{
    fprintf(stderr,
            "corral: the node arena is full: %zu more bytes wanted, %zu of %zu reserved in use\n",
            bytes, s->top + (s->arena_bytes - s->low), s->arena_bytes);
    abort();
}

/* Make the next `bytes` (whole chunks) at the arena's start usable. */
static uint8_t *arena_grow(slab_t *s, size_t bytes)
{
    if (bytes > s->low - s->top)
        arena_full(s, bytes);
    uint8_t *p = s->base + s->top;
    vm_commit(p, bytes);
    POISON(p, bytes);
    s->top += bytes;
    return p;
}

/* The slab's own mappings: `bytes` of whole chunks, huge pages asked for
 * once the slab is large. */
static uint8_t *map_chunks(slab_t *s, size_t bytes)
{
    uint8_t *c = s->base ? arena_grow(s, bytes) : vm_map(bytes, SLAB_CHUNK_BYTES);
    if ((s->nchunks + bytes / SLAB_CHUNK_BYTES) * SLAB_CHUNK_BYTES > SLAB_HUGE_AFTER)
        vm_huge_pages(c, bytes);
    return c;
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
#ifdef SLAB_ASAN
    if (!s->base)
        return; /* plain malloc: nothing to map ahead */
#endif
    if (s->prefaulting || s->spare_chunks || n == 0)
        return;
    if (s->base && n * SLAB_CHUNK_BYTES > (s->low - s->top) / 2)
        n = (s->low - s->top) / 2 / SLAB_CHUNK_BYTES; /* a hint: never fill the arena with it */
    if (n == 0)
        return;
    s->spare = map_chunks(s, n * SLAB_CHUNK_BYTES);
    s->spare_chunks = n;
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

/* A free object keeps the next one's address in its first 8 bytes (under
 * AddressSanitizer unpoisoned only while the list is being changed). */
static void push_free(slab_t *s, void *p, size_t size)
{
    UNPOISON(p, 8);
    *(void **)p = s->free_lists[size / 8];
    POISON(p, size);
    s->free_lists[size / 8] = p;
}

static void *pop_free(slab_t *s, size_t size)
{
    void *p = s->free_lists[size / 8];
    if (p) {
        UNPOISON(p, 8);
        s->free_lists[size / 8] = *(void **)p;
    }
    return p;
}

static void new_chunk(slab_t *s)
{
    /* The old chunk's tail becomes a free object of its own size. */
    if (s->bump_left >= 8)
        push_free(s, s->bump, s->bump_left);
    uint8_t *c;
    if (s->spare_chunks) {
        c = s->spare;
        s->spare += SLAB_CHUNK_BYTES;
        s->spare_chunks--;
    } else {
        c = map_chunks(s, SLAB_CHUNK_BYTES);
    }
    if (!s->base) {
        if (s->nchunks == s->chunks_cap) {
            s->chunks_cap = s->chunks_cap ? s->chunks_cap * 2 : 16;
            s->chunks = xrealloc(s->chunks, s->chunks_cap * sizeof(*s->chunks));
        }
        s->chunks[s->nchunks] = c;
    }
    s->nchunks++;
    s->bump = c;
    s->bump_left = SLAB_CHUNK_BYTES;
    if (c == s->base) { /* offset 0 is reference 0, no object */
        s->bump += 8;
        s->bump_left -= 8;
    }
}

/* ---- large objects of an arena: whole pages from its end, first fit ---- */

static size_t page_bytes(void)
{
    return vm_page_round(1);
}

static void *large_alloc(slab_t *s, size_t size)
{
    size_t page = page_bytes(), pages = vm_page_round(size) / page;
    for (size_t i = 0; i < s->nholes; i++) {
        slab_hole_t *h = &s->holes[i];
        if (h->pages < pages)
            continue;
        uint8_t *p = s->base + h->at * page;
        h->at += pages;
        h->pages -= pages;
        if (h->pages == 0)
            memmove(h, h + 1, (--s->nholes - i) * sizeof(*h));
        return p; /* zeroed by vm_release when it was freed */
    }
    size_t bytes = pages * page;
    if (bytes > s->low - s->top)
        arena_full(s, bytes);
    s->low -= bytes;
    uint8_t *p = s->base + s->low;
    vm_commit(p, bytes);
    POISON(p, bytes);
    return p;
}

/* Give the pages back (they stay usable, reading as zeros) and record
 * them as a hole, merged with its neighbours. */
static void large_free(slab_t *s, void *p, size_t size)
{
    size_t page = page_bytes(), pages = vm_page_round(size) / page;
    size_t at = (size_t)((uint8_t *)p - s->base) / page;
    vm_release(p, pages * page);
    POISON(p, pages * page);
    size_t i = 0;
    while (i < s->nholes && s->holes[i].at < at)
        i++;
    bool joins_prev = i > 0 && s->holes[i - 1].at + s->holes[i - 1].pages == at;
    bool joins_next = i < s->nholes && at + pages == s->holes[i].at;
    if (joins_prev && joins_next) {
        s->holes[i - 1].pages += pages + s->holes[i].pages;
        memmove(&s->holes[i], &s->holes[i + 1], (--s->nholes - i) * sizeof(*s->holes));
    } else if (joins_prev) {
        s->holes[i - 1].pages += pages;
    } else if (joins_next) {
        s->holes[i].at = at;
        s->holes[i].pages += pages;
    } else {
        if (s->nholes == s->holes_cap) {
            s->holes_cap = s->holes_cap ? s->holes_cap * 2 : 8;
            s->holes = xrealloc(s->holes, s->holes_cap * sizeof(*s->holes));
        }
        memmove(&s->holes[i + 1], &s->holes[i], (s->nholes - i) * sizeof(*s->holes));
        s->holes[i] = (slab_hole_t){at, pages};
        s->nholes++;
    }
}

void *slab_alloc(slab_t *s, size_t size)
{
#ifdef SLAB_ASAN
    if (!s->base)
        return xmalloc(size);
#endif
    size = round8(size < 8 ? 8 : size);
    void *p;
    if (size > SLAB_MAX_OBJECT) {
        if (!s->base)
            return xmalloc(size);
        p = large_alloc(s, size);
    } else if (!(p = pop_free(s, size))) {
        if (s->bump_left < size)
            new_chunk(s);
        p = s->bump;
        s->bump += size;
        s->bump_left -= size;
    }
    s->live++;
    UNPOISON(p, size);
    return p;
}

void slab_free(slab_t *s, void *p, size_t size)
{
    if (!p)
        return;
#ifdef SLAB_ASAN
    if (!s->base) {
        free(p);
        return;
    }
#endif
    size = round8(size < 8 ? 8 : size);
    if (size > SLAB_MAX_OBJECT && !s->base) {
        free(p);
        return;
    }
    s->live--;
    if (size > SLAB_MAX_OBJECT)
        large_free(s, p, size);
    else
        push_free(s, p, size);
}

void slab_destroy(slab_t *s)
{
    slab_prefault_wait(s);
    if (s->base) {
#ifdef SLAB_ASAN
        if (s->live) {
            fprintf(stderr, "slab: %zu objects of an arena never freed\n", s->live);
            abort();
        }
        /* Shadow memory outlives the mapping: clear what was poisoned. */
        UNPOISON(s->base, s->top);
        UNPOISON(s->base + s->low, s->arena_bytes - s->low);
#endif
        vm_unmap(s->base, s->arena_bytes);
        free(s->holes);
    } else {
        for (size_t i = 0; i < s->nchunks; i++)
            vm_unmap(s->chunks[i], SLAB_CHUNK_BYTES);
        if (s->spare_chunks)
            vm_unmap(s->spare, s->spare_chunks * SLAB_CHUNK_BYTES);
        free(s->chunks);
    }
    slab_init(s);
}

#ifdef SLAB_ASAN

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
