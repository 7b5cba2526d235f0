/* vm: mmap with alignment and advice (see vm.h). */
#include "vm.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

size_t vm_page_round(size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return (n + page - 1) / page * page;
}

void *vm_map(size_t bytes, size_t align)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (align < page)
        align = page;
    size_t span = bytes + align - page;
    uint8_t *p = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        fprintf(stderr, "corral: out of memory mapping %zu bytes\n", bytes);
        abort();
    }
    /* Trim the slack before and after the aligned range. */
    uint8_t *start = (uint8_t *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
    if (start > p)
        munmap(p, (size_t)(start - p));
    uint8_t *end = start + vm_page_round(bytes);
    if (p + span > end)
        munmap(end, (size_t)(p + span - end));
    return start;
}

void vm_unmap(void *p, size_t bytes)
{
    if (p)
        munmap(p, bytes);
}

void *vm_map_nofork(size_t bytes)
{
    void *p = vm_map(bytes, 0);
    (void)madvise(p, bytes, MADV_DONTFORK);
    return p;
}

void vm_release(void *p, size_t bytes)
{
    (void)madvise(p, bytes, MADV_DONTNEED);
}

void vm_huge_pages(void *p, size_t bytes)
{
#ifdef MADV_HUGEPAGE
    (void)madvise(p, bytes, MADV_HUGEPAGE);
#else
    (void)p;
    (void)bytes;
#endif
}
