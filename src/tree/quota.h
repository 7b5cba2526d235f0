/* quota: ZooKeeper's quota bookkeeping (§12.2). A quota on /P is a pair of
 * client-created nodes, /zookeeper/quota/P/zookeeper_limits and
 * .../zookeeper_stats; the tree keeps the set of quota roots and rewrites the
 * stats node's data (count and bytes of the /P subtree) on every create,
 * delete and setData below /P, without touching its Stat — as ZooKeeper does.
 * Called by tree.c; prep calls quota_check when zookeeper.enforceQuota is on. */
#ifndef CORRAL_QUOTA_H
#define CORRAL_QUOTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tree;
struct znode;

/* StatsTrack: the text kept in zookeeper_limits / zookeeper_stats. */
typedef struct stats_track {
    int64_t count, bytes;                      /* soft limits, or usage */
    int64_t count_hard_limit, byte_hard_limit; /* -1: none */
} stats_track_t;

/* Parse StatsTrack text ("count=10,bytes=-1" and the 3.7+ ";key=value" form);
 * missing keys are -1. */
void stats_track_parse(const char *p, size_t n, stats_track_t *out);

void quota_on_add(struct tree *t, struct znode *n);
void quota_on_remove(struct tree *t, struct znode *n);
void quota_on_set_data(struct tree *t, struct znode *n, int32_t old_len);
void quota_free(struct tree *t);
/* Recompute every quota root and stats node from the tree (after loading a
 * snapshot, whose node order says nothing about quota bookkeeping). */
void quota_rebuild(struct tree *t);

/* With enforcement on: ZQUOTAEXCEEDED if adding (count_diff, bytes_diff) at
 * path would pass a hard limit of its closest quota root, else ZOK. */
int32_t quota_check(const struct tree *t, const char *path, size_t len, int32_t count_diff,
                    int64_t bytes_diff);

#endif
