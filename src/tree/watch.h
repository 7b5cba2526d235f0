/* watch: the watch manager — two tables (data and child) mapping a path to
 * the watchers registered on it, each with a set of modes (standard one-shot,
 * persistent, persistent-recursive). Modes coexist per (watcher, path) as in
 * ZooKeeper 3.9 (a standard watch does not downgrade a persistent one).
 *
 * A watcher is a watch_owner_t embedded in whatever owns the watches (a
 * client connection); the manager reports fired events through a delivery
 * callback and never knows about sockets. */
#ifndef CORRAL_WATCH_H
#define CORRAL_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/hashmap.h"

enum { WT_DATA = 0, WT_CHILD = 1 };

#define WMODE_STANDARD 1u
#define WMODE_PERSISTENT 2u
#define WMODE_RECURSIVE 4u

typedef struct watch_owner {
    strmap_t paths[2]; /* per table: path -> watch_list */
} watch_owner_t;

typedef struct watch_table {
    strmap_t lists;     /* path -> watch_list */
    uint64_t recursive; /* entries holding WMODE_RECURSIVE */
    uint64_t entries;   /* (owner, path) entries */
} watch_table_t;

/* `acl` is what the trigger passed along (the ACL of the node the event is
 * about); the callback may use it to filter events (ZooKeeper 3.8.4+). */
typedef void (*watch_deliver_fn)(void *ctx, watch_owner_t *owner, int32_t event_type,
                                 const char *path, size_t len, const void *acl);

typedef struct watch_mgr {
    watch_table_t tables[2];
    watch_deliver_fn deliver;
    void *ctx;
} watch_mgr_t;

/* Owners already notified by the current trigger (at most one event each). */
typedef struct watch_fired {
    watch_owner_t **v;
    size_t n, cap;
} watch_fired_t;

void watch_mgr_init(watch_mgr_t *wm, watch_deliver_fn deliver, void *ctx);
void watch_mgr_free(watch_mgr_t *wm);
void watch_owner_init(watch_owner_t *o);
/* Drop every watch of this owner (connection closed). */
void watch_owner_clear(watch_mgr_t *wm, watch_owner_t *o);

void watch_add(watch_mgr_t *wm, int table, watch_owner_t *o, const char *path, size_t len,
               unsigned mode);
/* Remove the given modes of o's entry at exactly path; true if any was set. */
bool watch_remove(watch_mgr_t *wm, int table, watch_owner_t *o, const char *path, size_t len,
                  unsigned modes);
/* Does o hold any of `modes` at exactly path in the table? */
bool watch_has(const watch_mgr_t *wm, int table, const watch_owner_t *o, const char *path,
               size_t len, unsigned modes);

/* Fire `event_type` on `path` in one table. Owners in `fired` are skipped and
 * newly notified ones are appended, so a caller can chain tables. */
void watch_trigger(watch_mgr_t *wm, int table, const char *path, size_t len, int32_t event_type,
                   const void *acl, watch_fired_t *fired);
void watch_fired_free(watch_fired_t *f);

/* Visit every (path, owner) entry of a table (for the wchp/wchc reports). */
void watch_table_each(const watch_mgr_t *wm, int table,
                      void (*fn)(void *ctx, const char *path, watch_owner_t *owner), void *ctx);

uint64_t watch_count(const watch_mgr_t *wm);
uint64_t watch_path_count(const watch_mgr_t *wm);

#endif
