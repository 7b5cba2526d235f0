/* nodemap: the tree's path index — full path -> znode.
 *
 * Open addressing with linear probing over 8-byte slots: each slot is the
 * node's pointer with 16 bits of the path's hash in its (unused) top bits,
 * so a probe rarely touches a node that is not the one sought. The key is
 * the node's own path (no copy). Deletion shifts the following entries back
 * (no tombstones), so heavy create/delete churn never forces a rebuild.
 * Any capacity (the home slot is the hash scaled to it); grows by half at
 * 80% load, so the table stays 53-80% full. */
#ifndef CORRAL_NODEMAP_H
#define CORRAL_NODEMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct znode;

typedef struct nodemap {
    uint64_t *slots; /* 0: empty */
    size_t cap;      /* any size, or 0 */
    size_t used;
} nodemap_t;

void nodemap_init(nodemap_t *m);
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
