/* persist: corrald's durability — recovery from the data directory at
 * start, the ZooKeeper-format txn log written by the log thread (a write is
 * answered only once its batch is fsync'ed), and autopurge; snapshots are
 * snapshots.h's. */
#ifndef CORRAL_PERSIST_H
#define CORRAL_PERSIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct server;
struct pending_txn;

/* Recover the tree and sessions from dataDir/dataLogDir (creating them on a
 * first start, with snapshot.0 as ZooKeeper does) and start the log thread.
 * On failure *err names the file and the reason and the server must not start. */
int persist_open(struct server *s, char *err, size_t errlen);
/* Hand a prepared txn to the log (loop thread). */
void persist_append(struct server *s, const struct pending_txn *t);
/* Before a loop turn's output is written: apply (a slice of) what the log
 * thread has made durable since the loop last heard from it, so that those
 * replies and watch events leave in this turn's writes, together with the
 * replies already queued. */
void persist_apply_ready(struct server *s);
/* Flush and stop the log thread, end a running snapshot (snapshots.h). */
void persist_close(struct server *s);

#endif
