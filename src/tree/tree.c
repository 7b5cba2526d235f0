/* tree: znode storage. Nodes live in the tree's slab, an arena (slab.h), and
 * are indexed by full path (nodemap); a node with children has an array of
 * the children's 32-bit references (swap-remove, each child knows its slot)
 * so getChildren is O(children) and delete is O(1). A node finds its parent
 * by path. Child arrays and non-zero ephemeral owners live in side tables
 * keyed by node address (nodes never move); owner entries and the Stat
 * blocks of non-pristine nodes (tree.h) are carved from the same arena.
 * Interned ACLs are reference counted and numbered by reusable 32-bit ids
 * (acl_ids), which is what a node stores. */
#include "tree.h"

#include "tree/quota.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static void acl_free_entries(tree_acl_t *a)
{
    acl_list_free(&a->list);
    buf_free(&a->key);
}

static void acl_fill(tree_acl_t *a, const zk_acl_ref_t *v, int32_t n)
{
    acl_list_init(&a->list);
    buf_init(&a->key);
    /* The count first: an empty list still has a (non-NULL) key, and no
     * real key starts with a negative count. */
    jw_int(&a->key, n);
    for (int32_t i = 0; i < n; i++) {
        acl_list_push(&a->list, v[i].perms, v[i].scheme, v[i].id);
        jw_int(&a->key, v[i].perms);
        jw_jstr(&a->key, v[i].scheme);
        jw_jstr(&a->key, v[i].id);
    }
}

/* A node's entry in tree_t.owners (allocated from the node slab). */
typedef struct owner_entry {
    int64_t owner;          /* stored form, never 0 */
    uint32_t slot_in_owner; /* index in the session's ephemeral list */
} owner_entry_t;

/* Give `a` an id: the last freed one, else the next new one. */
static void acl_id_take(tree_t *t, tree_acl_t *a)
{
    uint32_t id;
    if (t->acl_free_n) {
        id = t->acl_free[--t->acl_free_n];
    } else {
        if (t->acl_ids_n == t->acl_ids_cap) {
            t->acl_ids_cap = t->acl_ids_cap ? t->acl_ids_cap * 2 : 16;
            t->acl_ids = xrealloc(t->acl_ids, t->acl_ids_cap * sizeof(*t->acl_ids));
        }
        id = t->acl_ids_n++;
    }
    t->acl_ids[id] = a;
    a->id = id;
}

static void acl_id_release(tree_t *t, const tree_acl_t *a)
{
    if (t->acl_free_n == t->acl_free_cap) {
        t->acl_free_cap = t->acl_free_cap ? t->acl_free_cap * 2 : 16;
        t->acl_free = xrealloc(t->acl_free, t->acl_free_cap * sizeof(*t->acl_free));
    }
    t->acl_ids[a->id] = NULL;
    t->acl_free[t->acl_free_n++] = a->id;
}

static znode_kids_t *kids_of(const tree_t *t, const znode_t *n)
{
    return u64map_get(&t->kids, (uint64_t)(uintptr_t)n);
}

static owner_entry_t *owner_entry(const tree_t *t, const znode_t *n)
{
    return u64map_get(&t->owners, (uint64_t)(uintptr_t)n);
}

static uint8_t *inline_data(znode_t *n)
{
    return (uint8_t *)n->path + n->path_len + 1;
}

static size_t node_bytes(const znode_t *n)
{
    return offsetof(znode_t, path) + n->path_len + 1 + n->inline_cap;
}

/* One slab object holds the node, its path and at least `data_room` bytes
 * of data (tree.h: never less than ZNODE_MIN_ROOM; the 8-byte rounding the
 * slab would waste is room too). The header is zeroed. The caller keeps the
 * object within SLAB_MAX_OBJECT unless the path alone is longer. */
static znode_t *node_new(tree_t *t, const char *path, size_t len, uint32_t data_room)
{
    if (data_room < ZNODE_MIN_ROOM)
        data_room = ZNODE_MIN_ROOM;
    size_t head = offsetof(znode_t, path) + len + 1;
    size_t bytes = (head + data_room + 7) & ~(size_t)7;
    znode_t *n = slab_alloc(&t->node_mem, bytes);
    memset(n, 0, offsetof(znode_t, path));
    memcpy(n->path, path, len);
    n->path[len] = '\0';
    n->path_len = (uint32_t)len;
    n->inline_cap = (uint32_t)(bytes - head); /* <= ZNODE_ROOM_MAX + 7: fits 12 bits */
    const char *slash = len ? memrchr(path, '/', len) : NULL;
    size_t name_len = slash ? len - (size_t)(slash - path + 1) : len;
    n->name_len = name_len < ZNODE_NAME_LONG ? (uint32_t)name_len : ZNODE_NAME_LONG;
    return n;
}

uint32_t znode_long_name_len(const znode_t *n)
{
    const char *slash = memrchr(n->path, '/', n->path_len);
    return (uint32_t)(n->path + n->path_len - (slash + 1));
}

/* `parent` is what n was linked under (NULL for the root or a whole-tree
 * free). */
static void node_free(tree_t *t, znode_t *n, const znode_t *parent)
{
    if (n->has_kids)
        free(u64map_del(&t->kids, (uint64_t)(uintptr_t)n));
    if (n->data_on_heap)
        free((void *)znode_data(n));
    if (n->has_owner)
        slab_free(&t->node_mem, u64map_del(&t->owners, (uint64_t)(uintptr_t)n),
                  sizeof(owner_entry_t));
    if (n->ext)
        slab_free(&t->node_mem, znode_ext_of(n), sizeof(znode_ext_t));
    if (t->holding && parent &&
        (t->walk_marks_stale || (!tree_walk_written(t, n) && tree_walk_written(t, parent)))) {
        /* On the walk's stack: everything the node pointed to is gone; its
         * block waits. */
        n->ext = 0;
        n->has_kids = n->has_owner = n->data_on_heap = 0;
        n->data_len = -1;
        n->slot_in_parent = ZNODE_DEAD_SLOT;
        if (t->held_n == t->held_cap) {
            t->held_cap = t->held_cap ? t->held_cap * 2 : 64;
            t->held = xrealloc(t->held, t->held_cap * sizeof(*t->held));
        }
        t->held[t->held_n++] = n;
        return;
    }
    slab_free(&t->node_mem, n, node_bytes(n));
}

void tree_hold_nodes(tree_t *t)
{
    t->holding = true;
    t->walk_mark = !t->walk_mark; /* every node is now unwritten */
}

void tree_release_nodes(tree_t *t, bool walk_reached_all)
{
    t->holding = false;
    t->walk_marks_stale = !walk_reached_all;
    for (size_t i = 0; i < t->held_n; i++)
        slab_free(&t->node_mem, t->held[i], node_bytes(t->held[i]));
    free(t->held);
    t->held = NULL;
    t->held_n = t->held_cap = 0;
}

static void eph_add(tree_t *t, znode_t *n, owner_entry_t *e, int64_t sid)
{
    eph_list_t *l = u64map_get(&t->ephemerals, (uint64_t)sid);
    if (!l) {
        l = xcalloc(1, sizeof(*l));
        u64map_put(&t->ephemerals, (uint64_t)sid, l);
    }
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 4;
        l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    e->slot_in_owner = l->n;
    l->v[l->n++] = n;
    t->ephemeral_count++;
}

static void eph_remove(tree_t *t, znode_t *n, const owner_entry_t *e, int64_t sid)
{
    eph_list_t *l = u64map_get(&t->ephemerals, (uint64_t)sid);
    uint32_t slot = e->slot_in_owner;
    if (!l || slot >= l->n || l->v[slot] != n)
        return;
    znode_t *last = l->v[--l->n];
    l->v[slot] = last;
    owner_entry(t, last)->slot_in_owner = slot;
    t->ephemeral_count--;
    if (l->n == 0) {
        u64map_del(&t->ephemerals, (uint64_t)sid);
        free(l->v);
        free(l);
    }
}

/* A node with children always has its Stat block: parent gets it here. */
static void link_child(tree_t *t, znode_t *parent, znode_t *n)
{
    tree_make_full(t, parent);
    znode_kids_t *k = parent->has_kids ? kids_of(t, parent) : NULL;
    if (!k || k->n == k->cap) {
        uint32_t cap = k ? k->cap * 2 : 4;
        znode_kids_t *grown = xrealloc(k, sizeof(*k) + cap * sizeof(k->v[0]));
        if (!k)
            grown->n = 0;
        grown->cap = cap;
        if (grown != k)
            u64map_put(&t->kids, (uint64_t)(uintptr_t)parent, grown);
        k = grown;
        parent->has_kids = 1;
    }
    n->slot_in_parent = k->n;
    k->v[k->n++] = slab_ref(n);
}

/* Swap-remove n from its parent's children; the array goes with the last. */
static void unlink_child(tree_t *t, znode_t *parent, znode_t *n)
{
    znode_kids_t *k = kids_of(t, parent);
    znode_t *last = znode_kids_at(parent, k, --k->n);
    k->v[n->slot_in_parent] = slab_ref(last);
    last->slot_in_parent = n->slot_in_parent;
    if (k->n == 0) {
        u64map_del(&t->kids, (uint64_t)(uintptr_t)parent);
        free(k);
        parent->has_kids = 0;
    }
}

static znode_t *builtin(tree_t *t, znode_t *parent, const char *path)
{
    znode_t *n = node_new(t, path, strlen(path), 0);
    n->acl_id = t->open_acl.id;
    n->data_len = 0;
    nodemap_put_new(&t->nodes, n);
    if (parent)
        link_child(t, parent, n);
    t->node_count++;
    t->data_bytes += strlen(path); /* ZooKeeper counts "/" as 1 byte: a fresh tree is 44 */
    return n;
}

void tree_init(tree_t *t, bool extended_types)
{
    memset(t, 0, sizeof(*t));
    slab_init_arena(&t->node_mem);
    nodemap_init(&t->nodes, t->node_mem.base);
    strmap_init(&t->acls);
    u64map_init(&t->ephemerals);
    u64map_init(&t->owners);
    u64map_init(&t->kids);
    strmap_init(&t->containers);
    strmap_init(&t->ttls);
    strmap_init(&t->quota_roots);
    t->extended_types = extended_types;
    t->next_acl_index = 1;
    zk_acl_ref_t open = {ZK_PERM_ALL, JSTR_LIT("world"), JSTR_LIT("anyone")};
    acl_fill(&t->open_acl, &open, 1);
    t->open_acl.index = -1;
    t->open_acl.refs = 1;         /* never freed through unref */
    acl_id_take(t, &t->open_acl); /* id 0 */
    t->root = builtin(t, NULL, "/");
    znode_t *zk = builtin(t, t->root, "/zookeeper");
    builtin(t, zk, "/zookeeper/quota");
    znode_t *cfg = builtin(t, zk, "/zookeeper/config");
    /* /zookeeper/config is world:READ, installed with aversion -1 (§6.1). */
    zk_acl_ref_t read = {ZK_PERM_READ, JSTR_LIT("world"), JSTR_LIT("anyone")};
    cfg->acl_id = tree_acl_intern(t, &read, 1)->id;
    znode_full(tree_make_full(t, cfg))->aversion = -1;
}

void tree_free(tree_t *t)
{
    size_t pos = 0;
    const char *k;
    size_t kl;
    void *v;
    for (znode_t *n; (n = nodemap_next(&t->nodes, &pos));)
        node_free(t, n, NULL); /* and its owner entry and child array */
    pos = 0;
    while (strmap_next(&t->acls, &pos, &k, &kl, &v)) {
        acl_free_entries(v);
        free(v);
    }
    uint64_t sid;
    pos = 0;
    while (u64map_next(&t->ephemerals, &pos, &sid, &v)) {
        eph_list_t *l = v;
        free(l->v);
        free(l);
    }
    acl_free_entries(&t->open_acl);
    nodemap_free(&t->nodes);
    tree_release_nodes(t, false); /* every object freed: the arena checks under ASan */
    slab_destroy(&t->node_mem);
    strmap_free(&t->acls);
    u64map_free(&t->ephemerals);
    u64map_free(&t->owners);
    u64map_free(&t->kids);
    free(t->acl_ids);
    free(t->acl_free);
    strmap_free(&t->containers);
    strmap_free(&t->ttls);
    quota_free(t);
}

znode_t *tree_get(const tree_t *t, const char *path, size_t len)
{
    return nodemap_get(&t->nodes, path, len);
}

znode_t *tree_parent(const tree_t *t, const znode_t *n)
{
    if (n == t->root)
        return NULL;
    const char *path = znode_path(n);
    int32_t pl = tree_parent_len(path, n->path_len);
    return pl > 0 ? tree_get(t, path, (size_t)pl) : NULL;
}

int32_t tree_parent_len(const char *path, size_t len)
{
    const char *slash = len ? memrchr(path, '/', len) : NULL;
    if (!slash)
        return -1;
    int32_t pl = (int32_t)(slash - path);
    return pl == 0 ? 1 : pl;
}

tree_acl_t *tree_acl_intern(tree_t *t, const zk_acl_ref_t *v, int32_t n)
{
    tree_acl_t probe;
    acl_fill(&probe, v, n);
    tree_acl_t *a = strmap_get(&t->acls, (const char *)probe.key.data, probe.key.len);
    if (a) {
        acl_free_entries(&probe);
        a->refs++;
        return a;
    }
    a = xmalloc(sizeof(*a));
    *a = probe;
    a->refs = 1;
    a->index = t->next_acl_index++;
    tree_acl_register(t, a);
    return a;
}

void tree_acl_register(tree_t *t, tree_acl_t *a)
{
    acl_id_take(t, a);
    strmap_put(&t->acls, (const char *)a->key.data, a->key.len, a);
}

void tree_acl_ref(tree_acl_t *a)
{
    a->refs++;
}

void tree_acl_unref(tree_t *t, tree_acl_t *a)
{
    if (a == &t->open_acl)
        return;
    if (--a->refs > 0)
        return;
    strmap_del(&t->acls, (const char *)a->key.data, a->key.len);
    acl_id_release(t, a);
    acl_free_entries(a);
    free(a);
}

int64_t znode_owner(const tree_t *t, const znode_t *n)
{
    return n->has_owner ? owner_entry(t, n)->owner : 0;
}

/* What a stored owner value means (§6.3), without looking it up again. */
static bool owner_is_ttl(const tree_t *t, int64_t o)
{
    return t->extended_types && o != ZK_CONTAINER_OWNER && ((uint64_t)o >> 56) == 0xFF &&
           (((uint64_t)o >> 40) & 0xFFFF) == 0;
}

static int64_t owner_session(const tree_t *t, int64_t o)
{
    if (o == 0 || o == ZK_CONTAINER_OWNER)
        return 0;
    if (t->extended_types && ((uint64_t)o >> 56) == 0xFF)
        return 0;
    return o;
}

bool znode_is_container(const tree_t *t, const znode_t *n)
{
    return znode_owner(t, n) == ZK_CONTAINER_OWNER;
}

bool znode_is_ttl(const tree_t *t, const znode_t *n)
{
    return owner_is_ttl(t, znode_owner(t, n));
}

int64_t znode_ttl_ms(const tree_t *t, const znode_t *n)
{
    return (int64_t)((uint64_t)znode_owner(t, n) & (uint64_t)ZK_TTL_MAX);
}

int64_t znode_session_owner(const tree_t *t, const znode_t *n)
{
    return owner_session(t, znode_owner(t, n));
}

znode_t *tree_add(tree_t *t, znode_t *parent, const char *path, size_t len, const void *data,
                  int32_t data_len, tree_acl_t *acl, int64_t ephemeral_owner, int64_t zxid,
                  int64_t time_ms)
{
    /* Inline only while the node stays one of the slab's size classes (a
     * long path alone may be more: its data then needs a pointer's room). */
    size_t head = ZNODE_HEADER_BYTES + len + 1;
    bool fits = data_len <= (int32_t)ZNODE_MIN_ROOM || head + (size_t)data_len <= SLAB_MAX_OBJECT;
    znode_t *n = node_new(t, path, len, data_len > 0 && fits ? (uint32_t)data_len : 0);
    if (nodemap_put_new(&t->nodes, n)) {
        slab_free(&t->node_mem, n, node_bytes(n));
        return NULL;
    }
    /* A running walk reaches n only if it has yet to write the parent. */
    n->walk_mark = t->holding && !tree_walk_written(t, parent) ? !t->walk_mark : t->walk_mark;
    if (fits) {
        if (data_len > 0)
            memcpy(inline_data(n), data, (size_t)data_len);
    } else { /* longer than any room: on the heap from the start */
        uint8_t *heap = xmalloc((size_t)data_len);
        memcpy(heap, data, (size_t)data_len);
        memcpy(inline_data(n), &heap, sizeof(heap));
        n->data_on_heap = 1;
    }
    n->data_len = data_len;
    n->czxid = zxid;
    n->ctime = time_ms;
    owner_entry_t *e = NULL;
    if (ephemeral_owner != 0) {
        e = slab_alloc(&t->node_mem, sizeof(*e));
        e->owner = ephemeral_owner;
        e->slot_in_owner = 0;
        u64map_put(&t->owners, (uint64_t)(uintptr_t)n, e);
        n->has_owner = 1;
    }
    n->acl_id = acl->id;
    tree_acl_ref(acl);
    link_child(t, parent, n);
    t->node_count++;
    t->data_bytes += len + (size_t)(data_len > 0 ? data_len : 0);
    int64_t sid = owner_session(t, ephemeral_owner);
    if (sid)
        eph_add(t, n, e, sid);
    else if (ephemeral_owner == ZK_CONTAINER_OWNER)
        strmap_put(&t->containers, n->path, n->path_len, n);
    else if (owner_is_ttl(t, ephemeral_owner))
        strmap_put(&t->ttls, n->path, n->path_len, n);
    quota_on_add(t, n);
    return n;
}

znode_t *tree_remove(tree_t *t, znode_t *n)
{
    quota_on_remove(t, n);
    znode_t *p = tree_parent(t, n);
    if (p)
        unlink_child(t, p, n);
    const owner_entry_t *e = n->has_owner ? owner_entry(t, n) : NULL;
    int64_t o = e ? e->owner : 0, sid = owner_session(t, o);
    if (sid)
        eph_remove(t, n, e, sid);
    else if (o == ZK_CONTAINER_OWNER)
        strmap_del(&t->containers, n->path, n->path_len);
    else if (owner_is_ttl(t, o))
        strmap_del(&t->ttls, n->path, n->path_len);
    nodemap_del(&t->nodes, n);
    t->node_count--;
    t->data_bytes -= n->path_len + (size_t)(n->data_len > 0 ? n->data_len : 0);
    tree_acl_unref(t, znode_acl(t, n));
    node_free(t, n, p);
    return p;
}

void tree_set_data(tree_t *t, znode_t *n, const void *data, int32_t data_len)
{
    int32_t old_len = n->data_len;
    tree_set_data_raw(t, n, data, data_len);
    quota_on_set_data(t, n, old_len);
}

void tree_set_data_raw(tree_t *t, znode_t *n, const void *data, int32_t data_len)
{
    t->data_bytes -= (size_t)(n->data_len > 0 ? n->data_len : 0);
    /* `data` may point into the node's own data (inline or heap): copy
     * before the old heap copy is freed. */
    void *old_heap = n->data_on_heap ? (void *)znode_data(n) : NULL;
    uint8_t *room = inline_data(n);
    if (data_len >= 0 && (uint32_t)data_len <= n->inline_cap) {
        if (data_len > 0)
            memmove(room, data, (size_t)data_len);
        n->data_on_heap = 0;
    } else if (data_len > 0) {
        uint8_t *heap = xmalloc((size_t)data_len);
        memcpy(heap, data, (size_t)data_len);
        memcpy(room, &heap, sizeof(heap)); /* inline_cap >= ZNODE_MIN_ROOM */
        n->data_on_heap = 1;
    } else {
        n->data_on_heap = 0;
    }
    free(old_heap);
    n->data_len = data_len;
    t->data_bytes += (size_t)(data_len > 0 ? data_len : 0);
}

void tree_set_acl(tree_t *t, znode_t *n, tree_acl_t *acl)
{
    tree_acl_ref(acl);
    tree_acl_unref(t, znode_acl(t, n));
    n->acl_id = acl->id;
}

void znode_stat(const tree_t *t, const znode_t *n, zk_stat_t *st)
{
    st->czxid = n->czxid;
    st->mzxid = znode_mzxid(n);
    st->ctime = n->ctime;
    st->mtime = znode_mtime(n);
    st->version = znode_version(n);
    uint32_t nkids = znode_nkids(t, n); /* a leaf: no lookup */
    st->cversion = (int32_t)((uint32_t)znode_cversion(n) * 2u - nkids);
    st->aversion = znode_aversion(n);
    st->ephemeral_owner = znode_session_owner(t, n);
    st->data_length = n->data_len > 0 ? n->data_len : 0;
    st->num_children = (int32_t)nkids;
    st->pzxid = znode_pzxid(n);
}

znode_t *tree_make_full(tree_t *t, znode_t *n)
{
    if (n->ext)
        return n;
    znode_ext_t *x = slab_alloc(&t->node_mem, sizeof(*x));
    x->mzxid = x->pzxid = n->czxid;
    x->mtime = n->ctime;
    x->version = x->cversion = x->aversion = 0;
    n->ext = slab_ref(x);
    return n;
}

const eph_list_t *tree_session_ephemerals(const tree_t *t, int64_t session_id)
{
    return u64map_get(&t->ephemerals, (uint64_t)session_id);
}

void tree_walk(const tree_t *t, const znode_t *n, void (*fn)(void *ctx, const znode_t *node),
               void *ctx)
{
    /* Iterative: a chain of nested nodes can be deeper than the C stack. */
    size_t cap = 64, top = 0;
    const znode_t **stack = xmalloc(cap * sizeof(*stack));
    stack[top++] = n;
    while (top) {
        const znode_t *cur = stack[--top];
        fn(ctx, cur);
        const znode_kids_t *k = znode_kids(t, cur);
        for (uint32_t i = 0; k && i < k->n; i++) {
            if (top == cap) {
                cap *= 2;
                stack = xrealloc(stack, cap * sizeof(*stack));
            }
            stack[top++] = znode_kids_at(cur, k, i);
        }
    }
    free(stack);
}

static void count_node(void *ctx, const znode_t *node)
{
    (void)node;
    (*(uint64_t *)ctx)++;
}

void tree_reserve(tree_t *t, size_t nodes, size_t bytes)
{
    slab_prefault_start(&t->node_mem, bytes);
    nodemap_reserve(&t->nodes, nodes);
}

void tree_reserve_done(tree_t *t)
{
    slab_prefault_wait(&t->node_mem);
}

uint64_t tree_count_descendants(const tree_t *t, const znode_t *n)
{
    uint64_t count = 0;
    tree_walk(t, n, count_node, &count);
    return count - 1; /* n itself */
}
