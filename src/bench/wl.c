/* wl: the shared workload context (paths, payload, watch bookkeeping) and
 * the table from workload to phase and primary operations. */
#include <stdlib.h>
#include <string.h>

#include "bench/workload.h"

void wl_ctx_init(wl_ctx_t *w, const bench_opts_t *o, workload_kind_t kind)
{
    memset(w, 0, sizeof(*w));
    w->o = o;
    w->kind = kind;
    w->root_len = strlen(o->root);
    memcpy(w->root, o->root, w->root_len + 1);
    keypath_init(&w->keys, o->root, "k");
    keypath_init(&w->plain, o->root, "p");
    keypath_init(&w->eph, o->root, "e");
    w->seq_prefix_len = (size_t)snprintf(w->seq_prefix, sizeof(w->seq_prefix), "%s/s-", o->root);
    w->wpath_len = (size_t)snprintf(w->wpath, sizeof(w->wpath), "%s/w", o->root);
    w->value = xmalloc((size_t)o->value_bytes + 1);
    for (int i = 0; i < o->value_bytes; i++)
        w->value[i] = (uint8_t)('a' + i % 26);
    w->watchers = kind == WL_WATCH ? o->watchers : 0;
    if (kind == WL_WATCH)
        w->send_ns = xcalloc(WATCH_SEND_RING, sizeof(int64_t));
}

void wl_ctx_free(wl_ctx_t *w)
{
    free(w->value);
    free(w->send_ns);
    memset(w, 0, sizeof(*w));
}

int wl_sessions_needed(const bench_opts_t *o)
{
    return o->sessions; /* opts already made it watchers + 1 for watch */
}

uint32_t wl_primary_mask(workload_kind_t kind)
{
    switch (kind) {
    case WL_READ:
        return SK_BIT(SK_GET_DATA);
    case WL_EXISTS:
        return SK_BIT(SK_EXISTS);
    case WL_CHILDREN:
        return SK_BIT(SK_CHILDREN);
    case WL_WRITE:
        return SK_BIT(SK_SET_DATA);
    case WL_CREATE:
        return SK_BIT(SK_CREATE) | SK_BIT(SK_DELETE);
    case WL_MIXED:
        return SK_BIT(SK_GET_DATA) | SK_BIT(SK_SET_DATA);
    case WL_SESSIONS:
        return SK_BIT(SK_CYCLE);
    case WL_WATCH:
        return SK_BIT(SK_NOTIFY);
    case WL_MULTI:
        return SK_BIT(SK_MULTI);
    default:
        return 0;
    }
}

eng_phase_t wl_phase(wl_ctx_t *w)
{
    switch (w->kind) {
    case WL_CREATE:
        return wl_create_phase(w);
    case WL_SESSIONS:
        return wl_sessions_phase(w);
    case WL_WATCH:
        return wl_watch_phase(w);
    default:
        return wl_simple_phase(w);
    }
}
