/* watches: the client's record of the watches it holds, by kind and client
 * path — what ZKWatchManager keeps in the Java client. It decides which
 * notifications reach the watcher, which one-shot watches a notification
 * consumes, what removeWatches removes locally, and what setWatches
 * re-registers after a reconnect (protocol reference §9). */
#ifndef CORRAL_CLIENT_WATCHES_H
#define CORRAL_CLIENT_WATCHES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/hashmap.h"

enum zkc_watch_kind {
    ZKC_W_DATA = 0, /* getData, or exists on an existing node */
    ZKC_W_EXIST,    /* exists on a missing node */
    ZKC_W_CHILD,    /* getChildren */
    ZKC_W_PERSISTENT,
    ZKC_W_RECURSIVE, /* persistent recursive */
    ZKC_W_KINDS,
};

typedef struct zkc_watches {
    strmap_t set[ZKC_W_KINDS]; /* path -> owned copy of the path */
} zkc_watches_t;

void zkc_watches_init(zkc_watches_t *w);
void zkc_watches_free(zkc_watches_t *w);
void zkc_watches_add(zkc_watches_t *w, int kind, const char *path);
bool zkc_watches_has(const zkc_watches_t *w, int kind, const char *path);
size_t zkc_watches_count(const zkc_watches_t *w, int kind);
bool zkc_watches_empty(const zkc_watches_t *w);

/* A notification of `event_type` on `path` arrived: remove the one-shot
 * watches it consumes and return true if any watch (one-shot, persistent, or
 * recursive on the path or an ancestor) matched, i.e. the event is delivered. */
bool zkc_watches_trigger(zkc_watches_t *w, int32_t event_type, const char *path);

/* removeWatches, local side. `type` is a zk_watcher_type (CHILDREN, DATA,
 * ANY). zkc_watches_contains: is there anything such a request could remove
 * (the Java client checks this before asking the server)? zkc_watches_remove:
 * remove them; returns a bit set of the event types to deliver: bit 0
 * ChildWatchRemoved, bit 1 DataWatchRemoved, bit 2 PersistentWatchRemoved.
 * 0 means nothing was removed. */
bool zkc_watches_contains(const zkc_watches_t *w, const char *path, int32_t type);
unsigned zkc_watches_remove(zkc_watches_t *w, const char *path, int32_t type);

/* The paths of one kind, in no particular order, as borrowed pointers into
 * the set (valid until the set changes). Returns the count; *out is
 * malloc'ed (free it) or NULL when empty. */
size_t zkc_watches_list(const zkc_watches_t *w, int kind, const char ***out);

#endif
