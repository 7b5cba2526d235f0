/* tree_load: placing a node with every stored field given, as a snapshot
 * reader needs (ZooKeeper's DataTree.deserialize). Uses only tree.h's public
 * API plus assignment of the stored Stat fields of the node it returns
 * (through znode_full once the node is full; the owner is set through
 * tree_add). */
#ifndef CORRAL_TREE_LOAD_H
#define CORRAL_TREE_LOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "tree/tree.h"

/* The stored (StatPersisted) fields of a node, in the snapshot's order. */
typedef struct znode_stored {
    int64_t czxid, mzxid, ctime, mtime;
    int32_t version, cversion, aversion;
    int64_t ephemeral_owner;
    int64_t pzxid;
} znode_stored_t;

/* Put a node at `path` with exactly these data, ACL and stored fields.
 * With `overwrite`, an existing node (a built-in node of a fresh tree: "/",
 * "/zookeeper", "/zookeeper/quota", "/zookeeper/config") is overwritten in
 * place, which requires an ephemeral owner of 0 on both sides. Otherwise the
 * node is added under `parent` (which must be its parent), registered as
 * ephemeral/container/TTL from its owner. The node has no Stat block when
 * the stored fields are pristine and it had none (a new node has none); a
 * pristine `parent` gets one. Takes its own reference on `acl`. Returns the
 * node; NULL if it exists and `overwrite` is false, or an owner forbids
 * overwriting. */
znode_t *tree_load_node(tree_t *t, znode_t *parent, const char *path, size_t len, const void *data,
                        int32_t data_len, tree_acl_t *acl, const znode_stored_t *st,
                        bool overwrite);

#endif
