/* nofork: memory that the forked snapshot writer does not inherit.
 *
 * After fork() every page the server writes takes a copy-on-write fault the
 * first time (15-50 µs each on a virtualised host, measured), so a snapshot
 * stalls the loop for as long as it takes to touch its working set again.
 * Per-request scratch that the snapshot child never reads — connection input
 * and the log's staging buffers (buf_init_nofork), pending txns (this pool) —
 * lives in anonymous mappings marked MADV_DONTFORK: the child does not get
 * them and the parent writes them without faulting. Code that runs in the snapshot child must never
 * touch this memory (it is not mapped there). Failure to map is fatal, as in xmalloc. */
#ifndef CORRAL_NOFORK_H
#define CORRAL_NOFORK_H

#include <stddef.h>
#include <stdint.h>

/* Fixed-size objects carved from no-fork chunks, reused last-in first-out
 * (a small hot set). Chunks are kept until nf_pool_free. */
typedef struct nf_pool {
    size_t obj_size;
    void *free_list;
    void **chunks;
    size_t nchunks, chunks_cap;
} nf_pool_t;

void nf_pool_init(nf_pool_t *p, size_t obj_size);
void *nf_pool_get(nf_pool_t *p);
void nf_pool_put(nf_pool_t *p, void *obj);
void nf_pool_free(nf_pool_t *p);

#endif
