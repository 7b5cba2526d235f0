/* digest: ZooKeeper 3.6+'s tree digest (protocol reference §13.4), the value
 * carried by TxnDigest in every non-error log entry and by the snapshot's
 * digest trailer.
 *
 * nodeDigest(path, node) is the CRC-32 (zlib polynomial) of the path (the
 * root written as ""), the data bytes when not null, and a 60-byte big-endian
 * block {czxid, mzxid, pzxid, ctime, mtime, version, cversion(stored),
 * aversion, ephemeralOwner(stored)}; nodes under "/zookeeper/" count 0. The
 * tree digest is the wrapping 64-bit sum over all nodes, so it can be kept
 * incrementally: subtract a node's digest before a change, add it after.
 *
 * Only tree.h's public API is used; nothing here is stored in the tree. */
#ifndef CORRAL_DIGEST_H
#define CORRAL_DIGEST_H

#include <stdint.h>

#include "tree/tree.h"

/* DigestCalculator.DIGEST_VERSION in ZooKeeper 3.8. */
#define TREE_DIGEST_VERSION 2

/* The digest of one node as it is now (0 for nodes under /zookeeper/). */
uint32_t tree_node_digest(const tree_t *t, const znode_t *n);

/* The digest of the whole tree, computed from scratch: O(nodes). A fresh
 * tree (tree_init) digests to 0x51c6d660. */
uint64_t tree_digest(const tree_t *t);

#endif
