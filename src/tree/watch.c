/* watch: per-path watcher lists plus a per-owner index of its lists, so that
 * registration, firing, removal and connection teardown are all cheap. */
#include "watch.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "proto/zk.h"

typedef struct watch_entry {
    watch_owner_t *owner;
    unsigned modes;
} watch_entry_t;

typedef struct watch_list {
    char *path;
    size_t len;
    watch_entry_t *v;
    uint32_t n, cap;
} watch_list_t;

void watch_mgr_init(watch_mgr_t *wm, watch_deliver_fn deliver, void *ctx)
{
    memset(wm, 0, sizeof(*wm));
    strmap_init(&wm->tables[0].lists);
    strmap_init(&wm->tables[1].lists);
    wm->deliver = deliver;
    wm->ctx = ctx;
}

static void list_free(watch_list_t *l)
{
    free(l->v);
    free(l->path);
    free(l);
}

void watch_mgr_free(watch_mgr_t *wm)
{
    for (int t = 0; t < 2; t++) {
        size_t pos = 0;
        const char *k;
        size_t kl;
        void *v;
        while (strmap_next(&wm->tables[t].lists, &pos, &k, &kl, &v))
            list_free(v);
        strmap_free(&wm->tables[t].lists);
    }
}

void watch_owner_init(watch_owner_t *o)
{
    strmap_init(&o->paths[0]);
    strmap_init(&o->paths[1]);
}

static int find_entry(const watch_list_t *l, const watch_owner_t *o)
{
    for (uint32_t i = 0; i < l->n; i++)
        if (l->v[i].owner == o)
            return (int)i;
    return -1;
}

/* Remove entry i of list l (in table t), whose modes are already 0; frees
 * the list when it empties. */
static void drop_entry(watch_mgr_t *wm, int t, watch_list_t *l, uint32_t i)
{
    watch_table_t *tab = &wm->tables[t];
    watch_owner_t *owner = l->v[i].owner;
    tab->entries--;
    strmap_del(&owner->paths[t], l->path, l->len);
    l->v[i] = l->v[--l->n];
    if (l->n == 0) {
        strmap_del(&tab->lists, l->path, l->len);
        list_free(l);
    }
}

/* Change the modes of entry i; an entry left with no mode is dropped (and
 * its list may be freed). */
static void set_modes(watch_mgr_t *wm, int t, watch_list_t *l, uint32_t i, unsigned modes)
{
    watch_table_t *tab = &wm->tables[t];
    unsigned old = l->v[i].modes;
    if ((old & WMODE_RECURSIVE) && !(modes & WMODE_RECURSIVE))
        tab->recursive--;
    if (!(old & WMODE_RECURSIVE) && (modes & WMODE_RECURSIVE))
        tab->recursive++;
    l->v[i].modes = modes;
    if (modes == 0)
        drop_entry(wm, t, l, i);
}

void watch_add(watch_mgr_t *wm, int t, watch_owner_t *o, const char *path, size_t len,
               unsigned mode)
{
    watch_table_t *tab = &wm->tables[t];
    watch_list_t *l = strmap_get(&tab->lists, path, len);
    if (!l) {
        l = xcalloc(1, sizeof(*l));
        l->path = xstrndup(path, len);
        l->len = len;
        strmap_put(&tab->lists, l->path, l->len, l);
    }
    int i = find_entry(l, o);
    if (i < 0) {
        if (l->n == l->cap) {
            l->cap = l->cap ? l->cap * 2 : 2;
            l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
        }
        l->v[l->n++] = (watch_entry_t){o, 0};
        i = (int)l->n - 1;
        tab->entries++;
        strmap_put(&o->paths[t], l->path, l->len, l);
    }
    set_modes(wm, t, l, (uint32_t)i, l->v[i].modes | mode);
}

bool watch_remove(watch_mgr_t *wm, int t, watch_owner_t *o, const char *path, size_t len,
                  unsigned modes)
{
    watch_list_t *l = strmap_get(&o->paths[t], path, len);
    if (!l)
        return false;
    int i = find_entry(l, o);
    if (i < 0 || !(l->v[i].modes & modes))
        return false;
    set_modes(wm, t, l, (uint32_t)i, l->v[i].modes & ~modes);
    return true;
}

bool watch_has(const watch_mgr_t *wm, int t, const watch_owner_t *o, const char *path, size_t len,
               unsigned modes)
{
    (void)wm;
    watch_list_t *l = strmap_get(&o->paths[t], path, len);
    if (!l)
        return false;
    int i = find_entry(l, o);
    return i >= 0 && (l->v[i].modes & modes);
}

void watch_owner_clear(watch_mgr_t *wm, watch_owner_t *o)
{
    for (int t = 0; t < 2; t++) {
        size_t pos = 0;
        const char *k;
        size_t kl;
        void *v;
        /* Collect first: drop_entry edits o->paths[t] while we iterate. */
        size_t n = o->paths[t].used, got = 0;
        watch_list_t **lists = xmalloc((n ? n : 1) * sizeof(*lists));
        while (strmap_next(&o->paths[t], &pos, &k, &kl, &v) && got < n)
            lists[got++] = v;
        for (size_t j = 0; j < got; j++) {
            int i = find_entry(lists[j], o);
            if (i >= 0)
                set_modes(wm, t, lists[j], (uint32_t)i, 0);
        }
        free(lists);
        strmap_free(&o->paths[t]);
    }
}

static bool already(const watch_fired_t *f, const watch_owner_t *o)
{
    for (size_t i = 0; i < f->n; i++)
        if (f->v[i] == o)
            return true;
    return false;
}

static void note(watch_fired_t *f, watch_owner_t *o)
{
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 8;
        f->v = xrealloc(f->v, f->cap * sizeof(*f->v));
    }
    f->v[f->n++] = o;
}

void watch_trigger(watch_mgr_t *wm, int t, const char *path, size_t len, int32_t event_type,
                   const void *acl, watch_fired_t *fired)
{
    watch_table_t *tab = &wm->tables[t];
    bool recursive_ok = event_type != ZEV_CHILDREN_CHANGED;
    watch_list_t *l = strmap_get(&tab->lists, path, len);
    if (l) {
        /* Walk backwards: drop_entry swaps the last entry into slot i. */
        for (uint32_t i = l->n; i-- > 0;) {
            watch_entry_t e = l->v[i];
            bool fires = (e.modes & (WMODE_STANDARD | WMODE_PERSISTENT)) ||
                         (recursive_ok && (e.modes & WMODE_RECURSIVE));
            if (!fires)
                continue;
            /* May free l; the loop reads nothing from l after the last entry. */
            if (e.modes & WMODE_STANDARD)
                set_modes(wm, t, l, i, e.modes & ~WMODE_STANDARD);
            if (!already(fired, e.owner)) {
                note(fired, e.owner);
                wm->deliver(wm->ctx, e.owner, event_type, path, len, acl);
            }
        }
    }
    if (!recursive_ok || tab->recursive == 0)
        return;
    /* Ancestors of path: "/a/b/c" -> "/a/b", "/a", "/". */
    size_t plen = len;
    while (plen > 1) {
        const char *slash = memrchr(path, '/', plen);
        if (!slash)
            break;
        plen = (size_t)(slash - path);
        size_t key_len = plen == 0 ? 1 : plen;
        watch_list_t *al = strmap_get(&tab->lists, path, key_len);
        if (al) {
            for (uint32_t i = 0; i < al->n; i++) {
                watch_entry_t e = al->v[i];
                if ((e.modes & WMODE_RECURSIVE) && !already(fired, e.owner)) {
                    note(fired, e.owner);
                    wm->deliver(wm->ctx, e.owner, event_type, path, len, acl);
                }
            }
        }
        if (plen == 0)
            break;
    }
}

void watch_fired_free(watch_fired_t *f)
{
    free(f->v);
    f->v = NULL;
    f->n = f->cap = 0;
}

void watch_table_each(const watch_mgr_t *wm, int t,
                      void (*fn)(void *ctx, const char *path, watch_owner_t *owner), void *ctx)
{
    size_t pos = 0;
    const char *k;
    size_t kl;
    void *v;
    while (strmap_next(&wm->tables[t].lists, &pos, &k, &kl, &v)) {
        const watch_list_t *l = v;
        for (uint32_t i = 0; i < l->n; i++)
            fn(ctx, l->path, l->v[i].owner);
    }
}

uint64_t watch_count(const watch_mgr_t *wm)
{
    return wm->tables[0].entries + wm->tables[1].entries;
}

uint64_t watch_path_count(const watch_mgr_t *wm)
{
    return wm->tables[0].lists.used + wm->tables[1].lists.used;
}
