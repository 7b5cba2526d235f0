/* vm: anonymous memory mappings for the allocators that bypass malloc — the
 * znode slab, big index arrays, and buffers and pools kept out of forked
 * snapshot writers. Failure to map is fatal, as for xmalloc; the advice
 * calls are best effort. */
#ifndef CORRAL_VM_H
#define CORRAL_VM_H

#include <stddef.h>

/* `bytes` of zeroed memory starting at a multiple of `align` (a power of
 * two; 0 means the page size). */
void *vm_map(size_t bytes, size_t align);
void vm_unmap(void *p, size_t bytes);
size_t vm_page_round(size_t n);
/* vm_map, page-aligned, left out of fork()ed children (they must never
 * touch it). */
void *vm_map_nofork(size_t bytes);
/* Give the pages back; the range stays mapped and reads as zeros. */
void vm_release(void *p, size_t bytes);
/* Ask for transparent huge pages (needs 2 MiB alignment to take effect). */
void vm_huge_pages(void *p, size_t bytes);

#endif
