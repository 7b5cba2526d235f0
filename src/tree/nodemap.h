/* nodemap: the tree's path index — full path -> znode.
 *
 * Open addressing with linear probing. A slot is the node's 32-bit slab
 * reference (slab.h; 0: empty) plus 8 bits of the path's hash as a tag, so
 * a probe rarely touches a node that is not the one sought. Slots come in
 * groups of NODEMAP_GROUP: their references then their tags in one 64-byte
 * cache line (5.3 bytes a slot), so a probe usually reads one line before
 * the node. The key is the node's own path (no copy). Deletion shifts the
 * following entries back (no tombstones), so heavy create/delete churn never
 * forces a rebuild. Any capacity (the home slot is the hash scaled to it;
 * the last group may have slots past it, never used); grows by half at 80%
 * load, so the table stays 53-80% full. Every node must live in the arena whose base the map
 * was given. */
#ifndef CORRAL_NODEMAP_H
#define CORRAL_NODEMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct znode;

#define NODEMAP_GROUP 12

typedef struct nodemap_group {
    uint32_t ref[NODEMAP_GROUP]; /* slab_ref_t of the node; 0: empty */
    uint8_t tag[NODEMAP_GROUP];  /* the hash's top 8 bits */
    uint32_t unused;
} nodemap_group_t;

typedef struct nodemap {
    nodemap_group_t *groups;
    const uint8_t *base; /* the node arena's base (slab_arena_of) */
    size_t cap;          /* slots in use: any number, or 0 */
    size_t used;
} nodemap_t;

/* An empty map of nodes that live in the arena at `arena_base`. */
void nodemap_init(nodemap_t *m, const void *arena_base);
/* Free the slots; the map is empty again (same arena). */
void nodemap_free(nodemap_t *m);
struct znode *nodemap_get(const nodemap_t *m, const char *path, size_t len);
/* Start loading the slot `path` hashes to into the cache (a bulk loader
 * calls this a little before inserting the node). */
void nodemap_prefetch(const nodemap_t *m, const char *path, size_t len);
/* Insert n under its own path unless that path is present; returns the
 * present node, or NULL when n was inserted. */
struct znode *nodemap_put_new(nodemap_t *m, struct znode *n);
/* Remove n (which must be in the map). */
void nodemap_del(nodemap_t *m, const struct znode *n);
/* Make room for n entries without growing. */
void nodemap_reserve(nodemap_t *m, size_t n);
/* Iterate: start with *pos = 0; returns NULL at the end. Removing the
 * returned node during iteration is not allowed. */
struct znode *nodemap_next(const nodemap_t *m, size_t *pos);

#endif
