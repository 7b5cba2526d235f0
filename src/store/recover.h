/* recover: start-up recovery from a ZooKeeper-format data directory
 * (protocol reference §14.4): load the newest snapshot that reads and passes
 * its checksums (older ones are tried when it does not), then hand every
 * logged txn above the snapshot's zxid to the caller, who applies it
 * (txn_apply) and keeps the session table. A torn tail of the last log is
 * reported and, if asked, cut off; corruption anywhere else stops recovery
 * with a message naming the file, offset and reason. */
#ifndef CORRAL_RECOVER_H
#define CORRAL_RECOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/snapshot.h"
#include "store/store.h"
#include "store/txnlog.h"
#include "tree/tree.h"

struct store_recovery;

/* The caller's side of the replay. Either function may be NULL. A non-zero
 * return stops recovery; the callback's err message is passed on. */
typedef struct store_replay {
    /* Once, after the snapshot is loaded (or the empty tree is set up) and
     * before the first txn: r->snapshot holds the snapshot's sessions (to
     * seed the session table) and digest trailer (ZooKeeper compares it when
     * replay reaches its zxid, and skips per-txn digest checks until then). */
    int (*loaded)(void *ctx, const tree_t *t, const struct store_recovery *r, store_err_t *err);
    /* For each txn with zxid above the snapshot's, in log order: apply it
     * (txn_apply) and track createSession/closeSession. */
    int (*txn)(void *ctx, const txnlog_entry_t *e, store_err_t *err);
    void *ctx;
} store_replay_t;

#define STORE_MAX_SNAPSHOT_CANDIDATES 100 /* as FileSnap.deserialize */

typedef struct store_recover_opts {
    bool extended_types;       /* zookeeper.extendedTypesEnabled (TTL owners) */
    bool truncate_torn_tail;   /* cut a torn tail off the last log */
    bool trust_empty_snapshot; /* zookeeper.snapshot.trust.empty */
    store_limits_t limits;
} store_recover_opts_t;

void store_recover_opts_default(store_recover_opts_t *o);

/* A snapshot that was passed over, and why. */
typedef struct store_skipped {
    char name[64];
    char reason[STORE_ERR_MAX];
} store_skipped_t;

typedef struct store_recovery {
    bool have_snapshot; /* false: started from an empty tree */
    char snapshot_path[STORE_PATH_MAX];
    snapshot_info_t snapshot; /* zxid, sessions, digest trailer */
    store_skipped_t *skipped; /* newer snapshots that failed, newest first */
    size_t nskipped;
    int64_t last_zxid; /* highest zxid applied, else the snapshot's (0 if empty) */
    uint64_t txns_replayed;
    uint64_t txns_out_of_order; /* replayed although not above the previous zxid */
    txnlog_tail_t tail;         /* tail.torn: the last log's torn tail */
    bool tail_truncated;
    uint32_t torn_earlier_logs; /* earlier logs ending torn, continued by the next */
    txnlog_tail_t torn_earlier; /* the last of those */
} store_recovery_t;

/* Recover into *tree (initialised here; left initialised, possibly partly
 * replayed, on failure too — free it either way). With no snapshot and no
 * logs the tree is fresh and last_zxid 0 (a standalone server then writes
 * snapshot.0). Refuses, with a message: snapshot files none of which loads,
 * or logs without any snapshot (unless trust_empty_snapshot); a log or
 * snapshot from an unknown format version; corruption in the middle of the
 * logs; a failing callback. */
int store_recover(const store_dirs_t *dirs, const store_recover_opts_t *opts, tree_t *tree,
                  store_recovery_t *out, const store_replay_t *replay, store_err_t *err);
void store_recovery_free(store_recovery_t *r);

#endif
