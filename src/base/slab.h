/* slab: an allocator for very many small objects whose size the owner can
 * always recompute (znodes: header + path + inline data).
 *
 * Objects are carved from large chunks with no per-object header and 8-byte
 * granularity; a freed object goes on the free list of its size and is
 * reused by the next object of that size. Chunks are never returned to the
 * system before slab_destroy (as malloc rarely does either). Once the slab
 * holds more than SLAB_HUGE_AFTER bytes, new chunks ask for transparent huge
 * pages, which makes building millions of objects (a snapshot load) take
 * far fewer page faults. Under AddressSanitizer every object is a plain
 * malloc, so the sanitizer still sees each one. Not thread-safe. */
#ifndef CORRAL_SLAB_H
#define CORRAL_SLAB_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SLAB_MAX_OBJECT 1024u              /* larger objects go to malloc */
#define SLAB_CHUNK_BYTES (2u << 20)        /* one huge page */
#define SLAB_HUGE_AFTER ((size_t)32 << 20) /* small servers keep 4 KiB pages */

typedef struct slab {
    void *free_lists[SLAB_MAX_OBJECT / 8 + 1]; /* by size / 8 */
    uint8_t *bump;                             /* unused tail of the newest chunk */
    size_t bump_left;
    void **chunks;
    size_t nchunks, chunks_cap;
    uint8_t *spare; /* mapped ahead by slab_prefault_start, not yet in use */
    size_t spare_chunks;
    uint8_t *prefault_base; /* what the helper thread populates */
    size_t prefault_bytes;
    pthread_t prefault_thread;
    bool prefaulting;
} slab_t;

void slab_init(slab_t *s);
/* Release every chunk. Objects larger than SLAB_MAX_OBJECT (and, under
 * AddressSanitizer, all objects) must have been freed with slab_free. */
void slab_destroy(slab_t *s);
/* Never NULL (allocation failure is fatal, as for xmalloc). */
void *slab_alloc(slab_t *s, size_t size);
/* `size` must be the size the object was allocated with. */
void slab_free(slab_t *s, void *p, size_t size);

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
