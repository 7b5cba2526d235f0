/* vm: anonymous memory mappings for the allocators that bypass malloc — the
 * znode slab and its arena, big index arrays, and buffers and pools kept out
 * of forked snapshot writers. Failure to map is fatal, as for xmalloc; the
 * advice calls are best effort. */
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
/* Reserve address space only (no memory, no commit charge): up to `want`
 * bytes starting at a multiple of `align` (a power of two). When that much
 * cannot be had (a limit on address space), the longest of want/2, want/4 ..
 * down to `min` that can; fatal below `min`. Returns the start and sets
 * *got to the length reserved. */
void *vm_reserve_aligned(size_t want, size_t min, size_t align, size_t *got);
/* Make a page-aligned part of a reservation usable: zeroed read/write
 * memory, charged like any vm_map. Fatal on failure. */
void vm_commit(void *p, size_t bytes);
/* Ask for transparent huge pages (needs 2 MiB alignment to take effect). */
void vm_huge_pages(void *p, size_t bytes);

#endif
