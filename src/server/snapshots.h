/* snapshots: when and how corrald writes snapshot.<zxid>. On ZooKeeper's
 * schedule (snapCount, snapSizeLimitInKb, randomised, one at a time) the
 * log rolls and a snapshot of the tree as of the last applied zxid starts:
 * - plain files: a fuzzy snapshot, as ZooKeeper writes them. The loop
 *   serializes a slice of the live tree per turn (a bounded pause, no fork,
 *   no copy-on-write faults); a thread writes the bytes and puts the file
 *   in place (snapwriter.h). Replaying the log after its zxid fixes up what
 *   changed while it was written.
 * - gz files (snapshot.compression.method=gz): a forked child compresses a
 *   copy-on-write image, so that deflate does not run on the loop.
 * Start-up snapshots (a fresh data dir) are written in place. */
#ifndef CORRAL_SNAPSHOTS_H
#define CORRAL_SNAPSHOTS_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

struct server;

/* Loop handles and settings; after recovery. */
void snapshots_init(struct server *s);
/* Write snapshot.<last zxid> now, in this thread (start-up). */
int snapshots_write_now(struct server *s, store_err_t *err);
/* After txns were applied: start a snapshot when the schedule says so. */
void snapshots_after_apply(struct server *s, int64_t applied);
/* A snapshot is being written (its zxid is s->snap_zxid). */
bool snapshots_running(const struct server *s);
/* Shutting down: abandon a fuzzy snapshot (the log has every txn), wait for
 * a forked writer, close the handles. */
void snapshots_close(struct server *s);

#endif
