/* snapshot: ZooKeeper 3.8's snapshot files, `<snap_dir>/snapshot.<zxid
 * hex>[.gz]` (protocol reference §14.2), written and read byte for byte:
 *
 *   FileHeader {int "ZKSN", int 2, long -1}
 *   int count, count x {long sessionId, int timeoutMs}
 *   int count, count x {long aclIndex, vector<ACL>}
 *   {ustring path, buffer data, long aclIndex, StatPersisted}*  (pre-order,
 *                                                                root as "")
 *   ustring "/"                                   end of nodes
 *   long adler32(everything so far), ustring "/"  seal 1
 *   long zxid, int digestVersion, long digest     digest trailer (optional)
 *   long adler32(everything so far), ustring "/"  seal 2 (iff the trailer is)
 *
 * With gz compression the whole stream is gzip'ed and the name gets ".gz";
 * checksums are over the uncompressed bytes.
 *
 * Orders that ZooKeeper leaves to Java's HashMap/HashSet iteration (sessions,
 * the ACL map, each node's children) are reproduced from the same hash
 * functions and table sizes; within a bucket children go in creation (czxid)
 * order as Java's insertion order, sessions and ACLs by key. So a tree comes
 * out as ZooKeeper would write it (a fresh tree gives ZooKeeper's 457-byte
 * snapshot.0 exactly; re-serialising ZooKeeper's snapshots gives their bytes
 * back in the interop tests). Readers never depend on any of these orders.
 *
 * The writer uses only write(2) through one buffer and a small traversal
 * stack, so it can run in a fork()ed child over a copy-on-write image of the
 * tree. */
#ifndef CORRAL_SNAPSHOT_H
#define CORRAL_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "tree/tree.h"

#define SNAPSHOT_MAGIC 0x5A4B534E /* "ZKSN" */
#define SNAPSHOT_VERSION 2
#define SNAPSHOT_DBID (-1)

typedef struct snap_session {
    int64_t id;
    int32_t timeout_ms;
} snap_session_t;

/* The digest trailer: the zxid and tree digest as of the last txn applied
 * when the snapshot was written; (0, 2, 0) when none was. */
typedef struct snap_digest {
    bool present;
    int64_t zxid;
    int32_t version;
    int64_t digest;
} snap_digest_t;

typedef struct snap_write_opts {
    store_compression_t compression; /* STORE_PLAIN or STORE_GZ */
    bool fsync;                      /* fsync the file and the directory */
} snap_write_opts_t;

/* Serialize the tree, the sessions and (if digest->present) the digest
 * trailer to fd as one stream (compressed if asked). Returns the number of
 * uncompressed bytes in *stream_bytes if not NULL. */
int snapshot_write_fd(int fd, const tree_t *t, const snap_session_t *sessions, size_t nsessions,
                      const snap_digest_t *digest, store_compression_t compression,
                      uint64_t *stream_bytes, store_err_t *err);

/* Write <snap_dir>/snapshot.<zxid hex>[.gz]: to a temporary name first
 * (".snapshot.<zxid>.tmp", which no reader takes for a snapshot), then fsync
 * (if asked), rename, fsync the directory. The final path goes to out_path. */
int snapshot_write(const char *snap_dir, int64_t zxid, const tree_t *t,
                   const snap_session_t *sessions, size_t nsessions, const snap_digest_t *digest,
                   const snap_write_opts_t *opts, char *out_path, size_t out_cap, store_err_t *err);

/* Where a fuzzy snapshot's bytes go: 0, or -1 with errno set. */
typedef int (*snapshot_sink_fn)(void *ctx, const uint8_t *p, size_t len);

/* A fuzzy snapshot of a live tree, written a slice at a time between
 * mutations (ZooKeeper's kind): each node as it is when the walk reaches it,
 * parents before children. Named after the last zxid applied at begin;
 * replaying the log after that zxid over it gives the tree (nodes created
 * meanwhile with new ACL lists load with placeholders, see below). Plain
 * format only; its digest trailer names no zxid (the tree's digest as of
 * one zxid is not at hand without an O(nodes) pass). The tree must hold
 * removed nodes (tree_hold_nodes) from begin until snapshot_walk_free; each
 * step marks the nodes it writes (tree_walk_mark_written), which is what
 * lets the tree free the others at once.
 * Sessions are taken at begin. The sink computes the checksum: the stream
 * ends with the bytes of snapshot_tail_bytes(Adler-32 of all it got). */
typedef struct snap_walk snap_walk_t;
snap_walk_t *snapshot_walk_begin(const tree_t *t, const snap_session_t *sessions, size_t nsessions,
                                 snapshot_sink_fn sink, void *sink_ctx);
/* Write up to `budget` more nodes: 1 when every node is written, 0 when
 * some are left, -1 when the sink failed (err set). */
int snapshot_walk_step(snap_walk_t *w, const tree_t *t, size_t budget, store_err_t *err);
/* After step returned 1: the end-of-nodes marker, and the last bytes to
 * the sink. The tail (snapshot_tail_bytes) is the sink owner's to append. */
int snapshot_walk_finish(snap_walk_t *w, store_err_t *err);
/* What closes a fuzzy snapshot stream, given the Adler-32 of every byte
 * before it: the seal (that checksum as a long, then the ustring "/"), a
 * digest trailer for zxid 0 (ZooKeeper's "no digest": nothing to compare,
 * and no warning about an old snapshot), and its seal. */
#define SNAPSHOT_TAIL_BYTES 46
size_t snapshot_tail_bytes(uint32_t adler, uint8_t out[SNAPSHOT_TAIL_BYTES]);
void snapshot_walk_free(snap_walk_t *w);

typedef struct snapshot_info {
    int64_t zxid;             /* from the file name */
    uint64_t pending_acls;    /* nodes whose ACL index the map lacks (see below) */
    snap_session_t *sessions; /* owned; free with snapshot_info_free */
    size_t nsessions;
    snap_digest_t digest;  /* the trailer, if any */
    uint64_t nodes;        /* nodes read */
    uint64_t stream_bytes; /* uncompressed size */
} snapshot_info_t;

/* ZooKeeper's cheap validity test (SnapStream.isValidSnapshot): the name
 * parses, and a plain file is >= 10 bytes ending in 00 00 00 01 2f (ustring
 * "/"), a gz file starts with the gzip magic. */
bool snapshot_looks_valid(const char *path);

/* Load a snapshot into *t, which this initialises (tree_init with
 * extended_types) and, on failure, frees again. Nodes get their exact stored
 * fields, data (null kept apart from empty) and ACLs, interned under the
 * snapshot's indexes (t->next_acl_index continues after the largest);
 * ephemeral, container and TTL nodes are registered. Everything is checked:
 * magic, format version, every length against the bytes left and
 * limits->max_record_bytes, parents before children, ACL indexes present in
 * the map, both seals. Errors name the file, the offset and the reason. */
int snapshot_read(const char *path, bool extended_types, const store_limits_t *limits, tree_t *t,
                  snapshot_info_t *info, store_err_t *err);

/* Same, from a byte stream already in memory (uncompressed). `name` is
 * used in messages only; info->zxid is left -1. */
int snapshot_read_mem(const uint8_t *p, size_t len, const char *name, bool extended_types,
                      const store_limits_t *limits, tree_t *t, snapshot_info_t *info,
                      store_err_t *err);

void snapshot_info_free(snapshot_info_t *info);

/* A fuzzy snapshot may hold a node whose ACL index is missing from its ACL
 * map: ZooKeeper writes the map first, and a node created meanwhile with a
 * new ACL list is serialised with that list's new index. ZooKeeper copes
 * because replaying the node's create re-interns the list under the same
 * index. Such a node is loaded with a placeholder ACL (empty list, the
 * snapshot's index, never written to a snapshot's ACL map) and
 * info->pending_acls counts them; store_recover resolves each from the
 * replayed create of that node (same path and czxid) and fails if one is
 * left. */
bool snapshot_acl_is_placeholder(const tree_acl_t *a);

#endif
