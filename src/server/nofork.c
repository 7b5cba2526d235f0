/* nofork: an object pool on MADV_DONTFORK mappings (buffers: buf_init_nofork). */
#include "server/nofork.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/vm.h"

#define NF_POOL_CHUNK (64u << 10)
#define NF_BUF_MIN (4u << 10)

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
        size_t bytes = p->obj_size > NF_POOL_CHUNK ? vm_page_round(p->obj_size) : NF_POOL_CHUNK;
        uint8_t *chunk = vm_map_nofork(bytes);
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
    size_t bytes = p->obj_size > NF_POOL_CHUNK ? vm_page_round(p->obj_size) : NF_POOL_CHUNK;
    for (size_t i = 0; i < p->nchunks; i++)
        vm_unmap(p->chunks[i], bytes);
    free(p->chunks);
    memset(p, 0, sizeof(*p));
}
