/* nodemap: tagged-pointer linear probing for the path index (see nodemap.h). */
#include "nodemap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hashmap.h"
#include "base/slab.h"
#include "tree/tree.h"

#define PTR_BITS 48
#define PTR_MASK ((UINT64_C(1) << PTR_BITS) - 1)

static uint64_t tag_of(uint64_t h)
{
    return h & ~PTR_MASK; /* the hash's top 16 bits; the index uses the low bits */
}

static znode_t *node_of(uint64_t slot)
{
    return (znode_t *)(uintptr_t)(slot & PTR_MASK);
}

static uint64_t make_slot(const znode_t *n, uint64_t h)
{
    uint64_t p = (uint64_t)(uintptr_t)n;
    if (p & ~PTR_MASK) {
        /* Linux on x86-64 and arm64 hands out 47/48-bit user addresses
         * unless a program asks for more, which corrald never does. */
        fprintf(stderr, "nodemap: pointer %p uses more than %d bits\n", (const void *)n, PTR_BITS);
        abort();
    }
    return p | tag_of(h);
}

static uint64_t node_hash(const znode_t *n)
{
    return hash_bytes(znode_path(n), n->path_len);
}

/* The home slot: the hash's low 32 bits scaled to any capacity (multiply
 * and shift, no power of two needed). */
static size_t home_of(uint64_t h, size_t cap)
{
    return (size_t)(((uint64_t)(uint32_t)h * cap) >> 32);
}

static size_t next_slot(size_t i, size_t cap)
{
    return i + 1 == cap ? 0 : i + 1;
}

void nodemap_init(nodemap_t *m)
{
    memset(m, 0, sizeof(*m));
}

void nodemap_free(nodemap_t *m)
{
    big_free(m->slots, m->cap * sizeof(*m->slots));
    nodemap_init(m);
}

static void resize(nodemap_t *m, size_t cap)
{
    uint64_t *old = m->slots;
    size_t oldcap = m->cap;
    m->slots = big_calloc(cap * sizeof(*m->slots));
    m->cap = cap;
    for (size_t i = 0; i < oldcap; i++) {
        if (!old[i])
            continue;
        size_t j = home_of(node_hash(node_of(old[i])), cap);
        while (m->slots[j])
            j = next_slot(j, cap);
        m->slots[j] = old[i];
    }
    big_free(old, oldcap * sizeof(*old));
}

static bool over_load(size_t n, size_t cap)
{
    return n * 5 >= cap * 4;
}

/* Growing by half keeps the load between 53% and 80%. */
static size_t grown(size_t cap)
{
    return cap ? cap + cap / 2 : 16;
}

void nodemap_reserve(nodemap_t *m, size_t n)
{
    size_t cap = m->cap ? m->cap : 16;
    while (over_load(n, cap))
        cap = grown(cap);
    if (cap != m->cap)
        resize(m, cap);
}

static bool matches(uint64_t slot, uint64_t tag, const char *path, size_t len)
{
    if ((slot & ~PTR_MASK) != tag)
        return false;
    const znode_t *n = node_of(slot);
    return n->path_len == len && memcmp(znode_path(n), path, len) == 0;
}

znode_t *nodemap_get(const nodemap_t *m, const char *path, size_t len)
{
    if (!m->cap)
        return NULL;
    uint64_t h = hash_bytes(path, len), tag = tag_of(h);
    for (size_t i = home_of(h, m->cap); m->slots[i]; i = next_slot(i, m->cap))
        if (matches(m->slots[i], tag, path, len))
            return node_of(m->slots[i]);
    return NULL;
}

void nodemap_prefetch(const nodemap_t *m, const char *path, size_t len)
{
    if (m->cap)
        __builtin_prefetch(&m->slots[home_of(hash_bytes(path, len), m->cap)], 1);
}

znode_t *nodemap_put_new(nodemap_t *m, znode_t *n)
{
    if (over_load(m->used + 1, m->cap))
        resize(m, grown(m->cap));
    uint64_t h = node_hash(n), tag = tag_of(h);
    size_t i = home_of(h, m->cap);
    for (; m->slots[i]; i = next_slot(i, m->cap))
        if (matches(m->slots[i], tag, znode_path(n), n->path_len))
            return node_of(m->slots[i]);
    m->slots[i] = make_slot(n, h);
    m->used++;
    return NULL;
}

void nodemap_del(nodemap_t *m, const znode_t *n)
{
    if (!m->cap)
        return;
    size_t cap = m->cap;
    size_t i = home_of(node_hash(n), cap);
    while (m->slots[i] && node_of(m->slots[i]) != n)
        i = next_slot(i, cap);
    if (!m->slots[i])
        return;
    /* Backward shift: move later members of the cluster into the hole when
     * their home slot is not strictly between the hole and where they sit
     * (positions compared around the ring). */
    for (size_t j = next_slot(i, cap); m->slots[j]; j = next_slot(j, cap)) {
        size_t home = home_of(node_hash(node_of(m->slots[j])), cap);
        bool stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
        if (stays)
            continue;
        m->slots[i] = m->slots[j];
        i = j;
    }
    m->slots[i] = 0;
    m->used--;
}

znode_t *nodemap_next(const nodemap_t *m, size_t *pos)
{
    for (; *pos < m->cap; (*pos)++)
        if (m->slots[*pos])
            return node_of(m->slots[(*pos)++]);
    return NULL;
}
