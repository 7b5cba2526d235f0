/* session: the session table and ZooKeeper's expiry buckets (§10.2).
 * A touched session moves to the bucket ceil-after(now + timeout) on the
 * tickTime grid; the tracker expires whole buckets as their time passes.
 * Times are monotonic milliseconds supplied by the caller. */
#ifndef CORRAL_SESSION_H
#define CORRAL_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/hashmap.h"

typedef struct session {
    int64_t id;
    int32_t timeout_ms;
    int64_t expire_at_ms; /* bucket boundary; 0 while in no bucket */
    bool closing;
    void *owner;                 /* the connection currently attached, or NULL */
    struct session *prev, *next; /* bucket list */
} session_t;

typedef struct session_table {
    u64map_t by_id;
    u64map_t buckets; /* expire_at_ms -> first session_t */
    int64_t tick_ms;
    int64_t next_id;
    int64_t next_expiry_ms; /* smallest bucket time not yet processed */
} session_table_t;

/* server_id goes in the top byte of every id (1 for a standalone server). */
void session_table_init(session_table_t *st, int64_t tick_ms, int64_t server_id, int64_t now_ms);
void session_table_free(session_table_t *st);

/* A fresh, unused session id. */
int64_t session_next_id(session_table_t *st);
session_t *session_get(const session_table_t *st, int64_t id);
/* Track a session (new, or restored) with a fresh deadline. */
session_t *session_add(session_table_t *st, int64_t id, int32_t timeout_ms, int64_t now_ms);
/* Refresh the deadline; false if the session is unknown or closing. */
bool session_touch(session_table_t *st, session_t *s, int64_t now_ms);
/* Mark closing and take it out of its bucket (it will not expire twice). */
void session_set_closing(session_table_t *st, session_t *s);
void session_remove(session_table_t *st, session_t *s);
/* Sessions whose bucket time is <= now: each is marked closing and returned
 * in *out (allocated; caller frees). Returns the count. */
size_t session_collect_expired(session_table_t *st, int64_t now_ms, session_t ***out);
size_t session_count(const session_table_t *st);

#endif
