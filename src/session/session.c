/* session: id allocation, the id -> session map, and the bucketed expiry
 * queue (a hash of bucket time -> intrusive doubly linked list). */
#include "session.h"

#include <stdlib.h>

#include "base/buf.h"

#define CONTAINER_MARKER ((int64_t)INT64_MIN)

void session_table_init(session_table_t *st, int64_t tick_ms, int64_t server_id, int64_t now_ms)
{
    u64map_init(&st->by_id);
    u64map_init(&st->buckets);
    st->tick_ms = tick_ms > 0 ? tick_ms : 1;
    /* ZooKeeper: ((time << 24) >>> 8) | (sid << 56), skipping the container marker. */
    uint64_t base = ((uint64_t)now_ms << 24) >> 8;
    st->next_id = (int64_t)(base | ((uint64_t)server_id << 56));
    if (st->next_id == CONTAINER_MARKER)
        st->next_id++;
    st->next_expiry_ms = (now_ms / st->tick_ms + 1) * st->tick_ms;
}

void session_table_free(session_table_t *st)
{
    size_t pos = 0;
    uint64_t k;
    void *v;
    while (u64map_next(&st->by_id, &pos, &k, &v))
        free(v);
    u64map_free(&st->by_id);
    u64map_free(&st->buckets);
}

int64_t session_next_id(session_table_t *st)
{
    for (;;) {
        int64_t id = st->next_id++;
        if (id != 0 && id != CONTAINER_MARKER && !u64map_get(&st->by_id, (uint64_t)id))
            return id;
    }
}

session_t *session_get(const session_table_t *st, int64_t id)
{
    return u64map_get(&st->by_id, (uint64_t)id);
}

static void bucket_unlink(session_table_t *st, session_t *s)
{
    if (!s->expire_at_ms)
        return;
    if (s->prev) {
        s->prev->next = s->next;
    } else {
        if (s->next)
            u64map_put(&st->buckets, (uint64_t)s->expire_at_ms, s->next);
        else
            u64map_del(&st->buckets, (uint64_t)s->expire_at_ms);
    }
    if (s->next)
        s->next->prev = s->prev;
    s->prev = s->next = NULL;
    s->expire_at_ms = 0;
}

static void bucket_link(session_table_t *st, session_t *s, int64_t at)
{
    session_t *head = u64map_get(&st->buckets, (uint64_t)at);
    s->prev = NULL;
    s->next = head;
    if (head)
        head->prev = s;
    u64map_put(&st->buckets, (uint64_t)at, s);
    s->expire_at_ms = at;
}

static int64_t bucket_for(const session_table_t *st, int64_t now_ms, int32_t timeout_ms)
{
    return ((now_ms + timeout_ms) / st->tick_ms + 1) * st->tick_ms;
}

session_t *session_add(session_table_t *st, int64_t id, int32_t timeout_ms, int64_t now_ms)
{
    session_t *s = session_get(st, id);
    if (!s) {
        s = xcalloc(1, sizeof(*s));
        s->id = id;
        u64map_put(&st->by_id, (uint64_t)id, s);
    }
    s->timeout_ms = timeout_ms;
    s->closing = false;
    bucket_unlink(st, s);
    bucket_link(st, s, bucket_for(st, now_ms, timeout_ms));
    return s;
}

bool session_touch(session_table_t *st, session_t *s, int64_t now_ms)
{
    if (!s || s->closing)
        return false;
    int64_t at = bucket_for(st, now_ms, s->timeout_ms);
    if (at != s->expire_at_ms) {
        bucket_unlink(st, s);
        bucket_link(st, s, at);
    }
    return true;
}

void session_set_closing(session_table_t *st, session_t *s)
{
    s->closing = true;
    bucket_unlink(st, s);
}

void session_remove(session_table_t *st, session_t *s)
{
    bucket_unlink(st, s);
    u64map_del(&st->by_id, (uint64_t)s->id);
    free(s);
}

size_t session_collect_expired(session_table_t *st, int64_t now_ms, session_t ***out)
{
    size_t n = 0, cap = 0;
    *out = NULL;
    while (st->next_expiry_ms <= now_ms) {
        session_t *s;
        while ((s = u64map_get(&st->buckets, (uint64_t)st->next_expiry_ms))) {
            session_set_closing(st, s);
            if (n == cap) {
                cap = cap ? cap * 2 : 8;
                *out = xrealloc(*out, cap * sizeof(**out));
            }
            (*out)[n++] = s;
        }
        st->next_expiry_ms += st->tick_ms;
    }
    return n;
}

size_t session_count(const session_table_t *st)
{
    return st->by_id.used;
}
