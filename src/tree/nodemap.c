/* nodemap: grouped 32-bit references with 8-bit hash tags, linear probing,
 * for the path index (see nodemap.h). */
#include "nodemap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hashmap.h"
#include "base/slab.h"
#include "tree/tree.h"

_Static_assert(sizeof(nodemap_group_t) == 64, "a nodemap group is one cache line");

static uint8_t tag_of(uint64_t h)
{
    return (uint8_t)(h >> 56); /* the index uses the low bits */
}

/* A slot: its index and where it sits (its group, its place in the group),
 * stepped along the ring without a division. */
typedef struct cursor {
    size_t i;
    nodemap_group_t *g;
    unsigned k;
} cursor_t;

static cursor_t cursor_at(const nodemap_t *m, size_t i)
{
    return (cursor_t){i, &m->groups[i / NODEMAP_GROUP], (unsigned)(i % NODEMAP_GROUP)};
}

static void cursor_next(const nodemap_t *m, cursor_t *c)
{
    if (++c->i == m->cap) {
        *c = (cursor_t){0, m->groups, 0};
    } else if (++c->k == NODEMAP_GROUP) {
        c->k = 0;
        c->g++;
    }
}

static uint32_t ref_of(const cursor_t *c)
{
    return c->g->ref[c->k];
}

static void set_slot(const cursor_t *c, uint32_t ref, uint8_t tag)
{
    c->g->ref[c->k] = ref;
    c->g->tag[c->k] = tag;
}

static znode_t *node_at(const nodemap_t *m, uint32_t ref)
{
    return (znode_t *)(m->base + ((uintptr_t)ref << 3));
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

static size_t groups_bytes(size_t cap)
{
    return (cap + NODEMAP_GROUP - 1) / NODEMAP_GROUP * sizeof(nodemap_group_t);
}

void nodemap_init(nodemap_t *m, const void *arena_base)
{
    memset(m, 0, sizeof(*m));
    m->base = arena_base;
}

void nodemap_free(nodemap_t *m)
{
    big_free(m->groups, groups_bytes(m->cap));
    nodemap_init(m, m->base);
}

static void resize(nodemap_t *m, size_t cap)
{
    nodemap_t old = *m;
    m->groups = big_calloc(groups_bytes(cap));
    m->cap = cap;
    for (size_t i = 0; i < old.cap; i++) {
        uint32_t ref = old.groups[i / NODEMAP_GROUP].ref[i % NODEMAP_GROUP];
        if (!ref)
            continue;
        uint64_t h = node_hash(node_at(m, ref));
        cursor_t c = cursor_at(m, home_of(h, cap));
        while (ref_of(&c))
            cursor_next(m, &c);
        set_slot(&c, ref, tag_of(h));
    }
    big_free(old.groups, groups_bytes(old.cap));
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
    size_t cap = m->cap ? m->cap : grown(0);
    while (over_load(n, cap))
        cap = grown(cap);
    if (cap != m->cap)
        resize(m, cap);
}

/* The slot's node, if its tag and then its path match. */
static znode_t *match(const nodemap_t *m, const cursor_t *c, uint8_t tag, const char *path,
                      size_t len)
{
    if (c->g->tag[c->k] != tag)
        return NULL;
    znode_t *n = node_at(m, ref_of(c));
    return n->path_len == len && memcmp(znode_path(n), path, len) == 0 ? n : NULL;
}

znode_t *nodemap_get(const nodemap_t *m, const char *path, size_t len)
{
    if (!m->cap)
        return NULL;
    uint64_t h = hash_bytes(path, len);
    uint8_t tag = tag_of(h);
    for (cursor_t c = cursor_at(m, home_of(h, m->cap)); ref_of(&c); cursor_next(m, &c)) {
        znode_t *n = match(m, &c, tag, path, len);
        if (n)
            return n;
    }
    return NULL;
}

void nodemap_prefetch(const nodemap_t *m, const char *path, size_t len)
{
    if (m->cap)
        __builtin_prefetch(cursor_at(m, home_of(hash_bytes(path, len), m->cap)).g, 1);
}

znode_t *nodemap_put_new(nodemap_t *m, znode_t *n)
{
    if (slab_arena_of(n) != m->base) {
        fprintf(stderr, "nodemap: node %p is not in the arena at %p\n", (void *)n,
                (const void *)m->base);
        abort();
    }
    if (over_load(m->used + 1, m->cap))
        resize(m, grown(m->cap));
    uint64_t h = node_hash(n);
    uint8_t tag = tag_of(h);
    cursor_t c = cursor_at(m, home_of(h, m->cap));
    for (; ref_of(&c); cursor_next(m, &c)) {
        znode_t *present = match(m, &c, tag, znode_path(n), n->path_len);
        if (present)
            return present;
    }
    set_slot(&c, slab_ref(n), tag);
    m->used++;
    return NULL;
}

void nodemap_del(nodemap_t *m, const znode_t *n)
{
    if (!m->cap)
        return;
    size_t cap = m->cap;
    uint32_t ref = slab_ref(n);
    cursor_t hole = cursor_at(m, home_of(node_hash(n), cap));
    while (ref_of(&hole) && ref_of(&hole) != ref)
        cursor_next(m, &hole);
    if (!ref_of(&hole))
        return;
    /* Backward shift: move later members of the cluster into the hole when
     * their home slot is not strictly between the hole and where they sit
     * (positions compared around the ring). */
    cursor_t j = hole;
    for (cursor_next(m, &j); ref_of(&j); cursor_next(m, &j)) {
        size_t home = home_of(node_hash(node_at(m, ref_of(&j))), cap), i = hole.i;
        bool stays = (i <= j.i) ? (i < home && home <= j.i) : (i < home || home <= j.i);
        if (stays)
            continue;
        set_slot(&hole, ref_of(&j), j.g->tag[j.k]);
        hole = j;
    }
    set_slot(&hole, 0, 0);
    m->used--;
}

znode_t *nodemap_next(const nodemap_t *m, size_t *pos)
{
    for (; *pos < m->cap; (*pos)++) {
        uint32_t ref = m->groups[*pos / NODEMAP_GROUP].ref[*pos % NODEMAP_GROUP];
        if (ref) {
            (*pos)++;
            return node_at(m, ref);
        }
    }
    return NULL;
}
