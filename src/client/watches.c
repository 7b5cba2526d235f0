/* watches: the client-side watch registry (see watches.h). Matching follows
 * ZKWatchManager.materialize of ZooKeeper 3.8. */
#include "client/watches.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "client/zkc.h"

void zkc_watches_init(zkc_watches_t *w)
{
    for (int k = 0; k < ZKC_W_KINDS; k++)
        strmap_init(&w->set[k]);
}

static void clear_set(strmap_t *m)
{
    size_t pos = 0;
    const char *key;
    size_t klen;
    void *v;
    while (strmap_next(m, &pos, &key, &klen, &v))
        free(v);
    strmap_free(m);
}

void zkc_watches_free(zkc_watches_t *w)
{
    for (int k = 0; k < ZKC_W_KINDS; k++)
        clear_set(&w->set[k]);
}

void zkc_watches_add(zkc_watches_t *w, int kind, const char *path)
{
    size_t n = strlen(path);
    if (strmap_get(&w->set[kind], path, n))
        return;
    char *copy = xstrndup(path, n);
    strmap_put(&w->set[kind], copy, n, copy);
}

bool zkc_watches_has(const zkc_watches_t *w, int kind, const char *path)
{
    return strmap_get(&w->set[kind], path, strlen(path)) != NULL;
}

/* Remove `path` from one set. Callers never pass a pointer owned by a set;
 * noinline keeps GCC from assuming they might (-Wuse-after-free). */
__attribute__((noinline)) static bool take(zkc_watches_t *w, int kind, const char *path)
{
    void *v = strmap_del(&w->set[kind], path, strlen(path));
    bool found = v != NULL;
    free(v);
    return found;
}

size_t zkc_watches_count(const zkc_watches_t *w, int kind)
{
    return w->set[kind].used;
}

bool zkc_watches_empty(const zkc_watches_t *w)
{
    for (int k = 0; k < ZKC_W_KINDS; k++)
        if (w->set[k].used)
            return false;
    return true;
}

/* Persistent watches on the path, recursive ones on the path or any
 * ancestor (PathParentIterator: the path itself, its parents, "/"). */
static bool persistent_match(const zkc_watches_t *w, const char *path)
{
    if (zkc_watches_has(w, ZKC_W_PERSISTENT, path))
        return true;
    if (!w->set[ZKC_W_RECURSIVE].used)
        return false;
    size_t n = strlen(path);
    for (;;) {
        if (strmap_get(&w->set[ZKC_W_RECURSIVE], path, n))
            return true;
        if (n <= 1)
            return false;
        while (n > 0 && path[n - 1] != '/')
            n--;
        if (n > 1)
            n--; /* drop the '/' unless it is the root */
    }
}

bool zkc_watches_trigger(zkc_watches_t *w, int32_t event_type, const char *path)
{
    bool hit = false;
    switch (event_type) {
    case ZKC_EV_NODE_DATA_CHANGED:
    case ZKC_EV_NODE_CREATED:
        hit |= take(w, ZKC_W_DATA, path);
        hit |= take(w, ZKC_W_EXIST, path);
        hit |= persistent_match(w, path);
        break;
    case ZKC_EV_NODE_CHILDREN_CHANGED:
        hit |= take(w, ZKC_W_CHILD, path);
        hit |= persistent_match(w, path);
        break;
    case ZKC_EV_NODE_DELETED:
        hit |= take(w, ZKC_W_DATA, path);
        hit |= take(w, ZKC_W_EXIST, path);
        hit |= take(w, ZKC_W_CHILD, path);
        hit |= persistent_match(w, path);
        break;
    default:
        break;
    }
    return hit;
}

bool zkc_watches_contains(const zkc_watches_t *w, const char *path, int32_t type)
{
    bool child = zkc_watches_has(w, ZKC_W_CHILD, path);
    bool data = zkc_watches_has(w, ZKC_W_DATA, path) || zkc_watches_has(w, ZKC_W_EXIST, path);
    bool pers =
        zkc_watches_has(w, ZKC_W_PERSISTENT, path) || zkc_watches_has(w, ZKC_W_RECURSIVE, path);
    switch (type) {
    case ZWT_CHILDREN:
        return child || pers;
    case ZWT_DATA:
        return data || pers;
    default:
        return child || data || pers;
    }
}

unsigned zkc_watches_remove(zkc_watches_t *w, const char *path, int32_t type)
{
    unsigned out = 0;
    /* ZooKeeper 3.8 removes only one-shot watches for Children and Data, and
     * everything for Any. */
    if (type == ZWT_CHILDREN || type == ZWT_ANY) {
        if (take(w, ZKC_W_CHILD, path))
            out |= 1u;
    }
    if (type == ZWT_DATA || type == ZWT_ANY) {
        if (take(w, ZKC_W_DATA, path))
            out |= 2u;
        if (take(w, ZKC_W_EXIST, path))
            out |= 2u;
    }
    if (type == ZWT_ANY) {
        if (take(w, ZKC_W_PERSISTENT, path))
            out |= 4u;
        if (take(w, ZKC_W_RECURSIVE, path))
            out |= 4u;
    }
    return out;
}

size_t zkc_watches_list(const zkc_watches_t *w, int kind, const char ***out)
{
    const strmap_t *m = &w->set[kind];
    *out = NULL;
    if (!m->used)
        return 0;
    const char **v = xmalloc(m->used * sizeof(char *));
    size_t n = 0, pos = 0, klen;
    const char *key;
    void *val;
    while (strmap_next(m, &pos, &key, &klen, &val))
        v[n++] = val;
    *out = v;
    return n;
}
