/* slab: an allocator for very many small objects whose size the owner can
 * always recompute (znodes: header + path + inline data).
 *
 * Objects are carved from large chunks with no per-object header and 8-byte
 * granularity; a freed object goes on the free list of its size and is
 * reused by the next object of that size. Chunks are never returned to the
 * system before slab_destroy (as malloc rarely does either). Once the slab
 * holds more than SLAB_HUGE_AFTER bytes, new chunks ask for transparent huge
 * pages, which makes building millions of objects (a snapshot load) take
 * far fewer page faults. Not thread-safe.
 *
 * Two modes:
 *
 * - Plain (slab_init): chunks are separate mappings and objects larger than
 *   SLAB_MAX_OBJECT are malloc'ed. Under AddressSanitizer every object is a
 *   plain malloc, so the sanitizer still sees each one.
 * - Arena (slab_init_arena): every object, whatever its size, lives in one
 *   reserved range of address space that starts at a multiple of
 *   SLAB_ARENA_ALIGN and is at most that long, so an object names any other
 *   object of its slab with a 32-bit reference (slab_ref_t: its offset / 8)
 *   and finds the arena's base from its own address (slab_arena_of): no
 *   global state. The range is reserved without memory or commit charge;
 *   chunks become usable one at a time (or ahead, slab_prefault_start) from
 *   its start, and objects larger than SLAB_MAX_OBJECT take whole pages from
 *   its end (first fit; they are rare). When SLAB_ARENA_ALIGN bytes of
 *   address space cannot be had (ulimit -v), a shorter range is reserved,
 *   down to SLAB_ARENA_MIN; below that, or when the arena is full, the
 *   process stops with a message. Under AddressSanitizer it is still an
 *   arena, with free objects and unused space poisoned, and slab_destroy
 *   aborts if objects were never freed. A fork()ed child sees the arena at
 *   the same address (copy-on-write). */
#ifndef CORRAL_SLAB_H
#define CORRAL_SLAB_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SLAB_MAX_OBJECT 1024u                 /* larger objects: malloc, or arena pages */
#define SLAB_CHUNK_BYTES (2u << 20)           /* one huge page */
#define SLAB_HUGE_AFTER ((size_t)32 << 20)    /* small servers keep 4 KiB pages */
#define SLAB_ARENA_ALIGN ((uintptr_t)1 << 35) /* 32 GiB: every ref fits 32 bits */
#define SLAB_ARENA_MIN ((size_t)1 << 30)      /* the least an arena may reserve */

/* An object of an arena slab: its offset from the arena's base / 8; 0 is
 * no object (nothing is ever placed at offset 0). */
typedef uint32_t slab_ref_t;

/* A free range of pages for large objects, in pages from the arena base. */
typedef struct slab_hole {
    size_t at, pages;
} slab_hole_t;

typedef struct slab {
    void *free_lists[SLAB_MAX_OBJECT / 8 + 1]; /* by size / 8 */
    uint8_t *bump;                             /* unused tail of the newest chunk */
    size_t bump_left;
    size_t nchunks; /* chunks in use */
    /* Plain mode: the chunks, to unmap them. */
    void **chunks;
    size_t chunks_cap;
    /* Arena mode (base != NULL): [base, base + top) is chunks (usable),
     * [base + low, base + arena_bytes) large objects and holes between
     * them; the rest is reserved only. */
    uint8_t *base;
    size_t arena_bytes, top, low;
    slab_hole_t *holes; /* free large-object pages, sorted by `at` */
    size_t nholes, holes_cap;
    size_t live;    /* objects allocated and not freed (arena mode) */
    uint8_t *spare; /* mapped ahead by slab_prefault_start, not yet in use */
    size_t spare_chunks;
    uint8_t *prefault_base; /* what the helper thread populates */
    size_t prefault_bytes;
    pthread_t prefault_thread;
    bool prefaulting;
} slab_t;

/* A plain slab: no mapping yet. */
void slab_init(slab_t *s);
/* An arena slab: reserves its address space now. */
void slab_init_arena(slab_t *s);
/* Release every chunk. Objects larger than SLAB_MAX_OBJECT of a plain slab
 * (and, under AddressSanitizer, all objects) must have been freed with
 * slab_free; an arena slab under AddressSanitizer aborts, naming the count,
 * when objects are still allocated. */
void slab_destroy(slab_t *s);
/* Never NULL (allocation failure is fatal, as for xmalloc). */
void *slab_alloc(slab_t *s, size_t size);
/* `size` must be the size the object was allocated with. */
void slab_free(slab_t *s, void *p, size_t size);

/* The base of the arena holding `anchor` (an object of an arena slab). */
static inline uint8_t *slab_arena_of(const void *anchor)
{
    return (uint8_t *)((uintptr_t)anchor & ~(SLAB_ARENA_ALIGN - 1));
}
/* The reference of an object of an arena slab; 0 for NULL. */
static inline slab_ref_t slab_ref(const void *p)
{
    return (slab_ref_t)(((uintptr_t)p & (SLAB_ARENA_ALIGN - 1)) >> 3);
}
/* The object `r` names in the arena at `base`; NULL for 0. */
static inline void *slab_at_base(const uint8_t *base, slab_ref_t r)
{
    return r ? (void *)(base + ((uintptr_t)r << 3)) : NULL;
}
/* The object `r` names in the arena that holds `anchor`; NULL for 0. */
static inline void *slab_at(const void *anchor, slab_ref_t r)
{
    return slab_at_base(slab_arena_of(anchor), r);
}
/* slab_at for a reference known not to be 0 (no test). */
static inline void *slab_obj(const void *anchor, slab_ref_t r)
{
    return slab_arena_of(anchor) + ((uintptr_t)r << 3);
}

/* About to allocate roughly `bytes` (a bulk load): map that much now and
 * let a helper thread fault it in (the kernel zeroes the pages on the other
 * core) while the caller fills it. Never more than `bytes` is mapped ahead.
 * Returns at once; slab_prefault_wait joins the helper. */
void slab_prefault_start(slab_t *s, size_t bytes);
void slab_prefault_wait(slab_t *s);

/* A large zeroed array (hash tables of millions of slots): anonymous
 * memory, with huge pages asked for when it is large. */
void *big_calloc(size_t bytes);
void big_free(void *p, size_t bytes);

#endif
