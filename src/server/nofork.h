/* nofork: memory that the forked snapshot writer does not inherit.
 *
 * After fork() every page the server writes takes a copy-on-write fault the
 * first time (15-50 µs each on a virtualised host, measured), so a snapshot
 * stalls the loop for as long as it takes to touch its working set again.
 * Per-request scratch that the snapshot child never reads — connection input,
 * the log's staging buffers, pending txns — lives in anonymous mappings marked
 * MADV_DONTFORK: the child does not get them and the parent writes them
 * without faulting. Code that runs in the snapshot child must never touch this
 * memory (it is not mapped there). Failure to map is fatal, as in xmalloc. */
#ifndef CORRAL_NOFORK_H
#define CORRAL_NOFORK_H

#include <stddef.h>
#include <stdint.h>

/* A growable byte buffer in no-fork memory (the counterpart of buf_t). */
typedef struct nf_buf {
    uint8_t *data;
    size_t len; /* bytes in use */
    size_t cap; /* bytes mapped */
} nf_buf_t;

void nf_buf_init(nf_buf_t *b);
void nf_buf_free(nf_buf_t *b);
/* Make room for at least `extra` more bytes past len. */
void nf_buf_reserve(nf_buf_t *b, size_t extra);
void nf_buf_append(nf_buf_t *b, const void *p, size_t n);
/* Drop the first n bytes (n <= len), keeping the rest. */
void nf_buf_consume(nf_buf_t *b, size_t n);

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
