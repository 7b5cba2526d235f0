/* vm: mmap with alignment and advice (see vm.h). */
#include "vm.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000 /* Linux 4.17; older kernels take it as a hint */
#endif

/* The top of user address space on x86-64 and arm64 (47/48 bits) unless a
 * program asks for more. */
#define VM_USER_TOP ((uintptr_t)1 << 47)

/* `len` bytes at some multiple of `align`, trying the aligned addresses
 * from low to high; NULL with *err set when none can be had. */
static void *reserve_at_hints(size_t len, size_t align, int *err)
{
    int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE;
    for (uintptr_t hint = align; hint + len <= VM_USER_TOP; hint += align) {
        void *q = mmap((void *)hint, len, PROT_NONE, flags, -1, 0);
        if (q == (void *)hint)
            return q;
        if (q != MAP_FAILED) { /* the flag was taken as a hint: elsewhere */
            munmap(q, len);
            continue;
        }
        *err = errno;
        if (errno != EEXIST)
            return NULL; /* ENOMEM: this length is too much at any address */
    }
    return NULL;
}

void *vm_reserve_aligned(size_t want, size_t min, size_t align, size_t *got)
{
    /* The common case: over-reserve by `align` and trim both ends. */
    int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
    uint8_t *p = mmap(NULL, want + align, PROT_NONE, flags, -1, 0);
    if (p != MAP_FAILED) {
        uint8_t *start = (uint8_t *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
        if (start > p)
            munmap(p, (size_t)(start - p));
        if (p + want + align > start + want)
            munmap(start + want, (size_t)(p + want + align - (start + want)));
        *got = want;
        return start;
    }
    int err = errno;
    for (size_t len = want; len >= min && len > 0; len /= 2) {
        void *q = reserve_at_hints(len, align, &err);
        if (q) {
            *got = len;
            return q;
        }
    }
    fprintf(stderr,
            "corral: cannot reserve %zu bytes of address space (at a %zu-byte boundary): %s\n", min,
            align, strerror(err));
    abort();
}

void vm_commit(void *p, size_t bytes)
{
    void *q =
        mmap(p, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (q == MAP_FAILED) {
        fprintf(stderr, "corral: out of memory mapping %zu bytes: %s\n", bytes, strerror(errno));
        abort();
    }
}
