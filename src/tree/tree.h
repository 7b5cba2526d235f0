/* tree: the data tree — znodes keyed by full path (pristine ones without
 * their implied Stat fields, the others with a Stat block), their children,
 * stored Stat fields and their accessors, interned ACL lists and the table
 * of their 32-bit ids, the per-session ephemeral index and the side tables
 * of nodes' non-zero ephemeral owners and of their child arrays.
 *
 * The tree holds mechanisms only: it never validates requests (that is
 * txn/prep) and never fires watches (txn/apply does, through tree/watch).
 * Paths are full, '/'-separated and NUL-terminated; the root is "/". */
#ifndef CORRAL_TREE_H
#define CORRAL_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/hashmap.h"
#include "base/slab.h"
#include "base/jute.h"
#include "auth/auth.h"
#include "proto/records.h"
#include "tree/nodemap.h"

/* An interned, reference-counted ACL list. Nodes with the same ACL share one. */
typedef struct tree_acl {
    uint32_t refs;
    uint32_t id;   /* slot in tree_t.acl_ids, what nodes store; the open alias is 0 */
    int64_t index; /* snapshot index; -1 is the built-in OPEN_ACL_UNSAFE alias */
    acl_list_t list;
    buf_t key; /* jute encoding of the list: the interning key */
} tree_acl_t;

/* A node's children: swap-remove, each child knows its slot. The children
 * are 32-bit references into the node arena (slab.h); read them with
 * znode_kid. */
typedef struct znode_kids {
    uint32_t n, cap;
    slab_ref_t v[];
} znode_kids_t;

/* One allocation from the tree's slab holds the node's 40-byte header, its
 * path and its data room. Nodes never move. The slab is an arena (slab.h):
 * every node, Stat block and owner entry of a tree lives in one range of
 * address space, so they name each other with 32-bit references (slab_ref_t)
 * and a reference turns back into an address with any node of the tree as
 * the anchor (slab_at).
 *
 * - Stat. A pristine node (every create makes one; a snapshot load does for
 *   a node whose stored fields match) has `ext` 0: its other Stat fields
 *   are implied, mzxid == pzxid == czxid, mtime == ctime and version ==
 *   cversion == aversion == 0. Before any of them changes (setData, setACL,
 *   the first child linked, a parent's cversion/pzxid raised),
 *   tree_make_full gives the node its znode_ext_t block (40 bytes from the
 *   slab, freed with the node; `ext` is its reference). Read the fields
 *   through znode_mzxid .. znode_aversion; write them only through
 *   znode_full(n), which aborts on a pristine node. A node with children
 *   always has its block.
 *
 * What most nodes never need lives elsewhere:
 *
 * - Data. Null data is data_len -1. Otherwise the data is inline, in the
 *   `inline_cap` bytes after the path's NUL, unless it did not fit: then
 *   `data_on_heap` is set and the first 8 bytes of the room hold the heap
 *   copy's address (unaligned; read it with znode_data). The room is fixed
 *   at creation: the data's length but at least ZNODE_MIN_ROOM (= the
 *   pointer) bytes, plus whatever the slab's 8-byte rounding leaves over.
 *   Data that would make the node larger than SLAB_MAX_OBJECT (the slab's
 *   own size classes) starts on the heap, and so does data a setData makes
 *   longer than the room.
 * - The name: the path's last component, found from `name_len` (or, for a
 *   name of ZNODE_NAME_LONG bytes or more, by looking for the last '/').
 * - The parent: found by path (tree_parent), one hash lookup.
 * - The stored ephemeral owner, when not 0 (ephemerals, containers, TTL
 *   nodes): `has_owner` is set and the tree's `owners` side table maps the
 *   node's address to the owner and the node's slot in its session's
 *   ephemeral list. Read it with znode_owner.
 * - The children: `has_kids` is set exactly while the node has at least one
 *   child, and then the tree's `kids` side table maps the node's address to
 *   its child array (swap-remove; each child keeps its slot). The array is
 *   freed when the last child goes, so a leaf never costs a lookup. Read
 *   them with znode_nkids / znode_kids / znode_kid (znode_has_kids needs no
 *   tree).
 * - The ACL: `acl_id` indexes tree_t.acl_ids, the interned ACLs; read it
 *   with znode_acl. Ids of ACLs no node or change record references any
 *   more are reused. The id is not the snapshot index (tree_acl_t.index). */
#define ZNODE_MIN_ROOM 8u
/* The header: what every node pays before its path. */
#define ZNODE_HEADER_BYTES 40u
/* The largest room a node gets at creation (the root's, with the shortest
 * path), before the slab's rounding (at most 7 more). */
#define ZNODE_ROOM_MAX (SLAB_MAX_OBJECT - ZNODE_HEADER_BYTES - 2u)
/* name_len of a name this long or longer (then found in the path). */
#define ZNODE_NAME_LONG ((1u << 16) - 1u)

/* The Stat fields a pristine node implies. */
typedef struct znode_ext {
    int64_t mzxid, pzxid, mtime;
    int32_t version, cversion, aversion; /* cversion as stored */
} znode_ext_t;

typedef struct znode {
    int64_t czxid, ctime;
    slab_ref_t ext;            /* the Stat block; 0: pristine, its fields implied */
    int32_t data_len;          /* -1: null data */
    uint32_t acl_id;           /* tree_t.acl_ids */
    uint32_t inline_cap : 12;  /* data room after the path, >= ZNODE_MIN_ROOM */
    uint32_t data_on_heap : 1; /* the room holds a pointer to the data */
    uint32_t has_owner : 1;    /* non-zero stored owner, in tree_t.owners */
    uint32_t has_kids : 1;     /* at least one child, in tree_t.kids; implies ext */
    uint32_t name_len : 16;    /* the last component's length; ZNODE_NAME_LONG: longer */
    uint32_t walk_mark : 1;    /* == tree_t.walk_mark: the walk wrote it, or never will */
    uint32_t path_len;
    uint32_t slot_in_parent;
    char path[]; /* NUL-terminated; the data room follows */
} znode_t;

_Static_assert(offsetof(znode_t, path) == ZNODE_HEADER_BYTES, "the znode header is 40 bytes");
_Static_assert(ZNODE_ROOM_MAX + 7u < (1u << 12), "inline_cap holds any room");

/* The node's Stat block, or NULL for a pristine node. */
static inline znode_ext_t *znode_ext_of(const znode_t *n)
{
    return (znode_ext_t *)slab_at(n, n->ext);
}

/* The node has its Stat block (it is not pristine). */
static inline bool znode_is_full(const znode_t *n)
{
    return n->ext != 0;
}
/* The full path, NUL-terminated. */
static inline const char *znode_path(const znode_t *n)
{
    return n->path;
}
/* The Stat block, for writing; aborts on a pristine node (give it one with
 * tree_make_full first). */
static inline znode_ext_t *znode_full(znode_t *n)
{
    if (!n->ext)
        abort();
    return znode_ext_of(n);
}
static inline int64_t znode_mzxid(const znode_t *n)
{
    return n->ext ? znode_ext_of(n)->mzxid : n->czxid;
}
static inline int64_t znode_pzxid(const znode_t *n)
{
    return n->ext ? znode_ext_of(n)->pzxid : n->czxid;
}
static inline int64_t znode_mtime(const znode_t *n)
{
    return n->ext ? znode_ext_of(n)->mtime : n->ctime;
}
static inline int32_t znode_version(const znode_t *n)
{
    return n->ext ? znode_ext_of(n)->version : 0;
}
/* The stored cversion (the wire Stat's is derived: znode_stat). */
static inline int32_t znode_cversion(const znode_t *n)
{
    return n->ext ? znode_ext_of(n)->cversion : 0;
}
static inline int32_t znode_aversion(const znode_t *n)
{
    return n->ext ? znode_ext_of(n)->aversion : 0;
}

/* The node's data: NULL for null data, else data_len bytes. */
static inline const uint8_t *znode_data(const znode_t *n)
{
    if (n->data_len < 0)
        return NULL;
    const uint8_t *room = (const uint8_t *)znode_path(n) + n->path_len + 1;
    if (!n->data_on_heap)
        return room;
    const uint8_t *heap;
    memcpy(&heap, room, sizeof(heap));
    return heap;
}

static inline bool znode_has_kids(const znode_t *n)
{
    return n->has_kids;
}

typedef struct eph_list {
    znode_t **v;
    uint32_t n, cap;
} eph_list_t;

typedef struct tree {
    nodemap_t nodes;      /* path -> znode_t */
    slab_t node_mem;      /* the node arena: znodes, Stat blocks, owner entries */
    strmap_t acls;        /* jute(acl list) -> tree_acl_t */
    tree_acl_t **acl_ids; /* acl id -> tree_acl_t, NULL for a free id */
    uint32_t acl_ids_n, acl_ids_cap;
    uint32_t *acl_free; /* free ids below acl_ids_n, reused last-freed first */
    uint32_t acl_free_n, acl_free_cap;
    u64map_t ephemerals; /* session id -> eph_list_t */
    u64map_t owners;     /* znode address -> its owner entry, nodes with has_owner */
    u64map_t kids;       /* znode address -> znode_kids_t, nodes with has_kids */
    strmap_t containers; /* path -> znode_t, container nodes */
    strmap_t ttls;       /* path -> znode_t, TTL nodes */
    tree_acl_t open_acl; /* the built-in alias, index -1, id 0 */
    int64_t next_acl_index;
    znode_t *root;
    uint64_t node_count;
    uint64_t data_bytes; /* sum of path + data lengths, ZooKeeper's approximate size */
    uint64_t ephemeral_count;
    bool extended_types;  /* zookeeper.extendedTypesEnabled: decode TTL owners */
    strmap_t quota_roots; /* quota root path -> owned copy of the path (tree/quota) */
    /* While `holding` (tree_hold_nodes), a removed node the walk may still
     * reach keeps its block, marked dead, so that the walker never sees the
     * block reused for another node; tree_release_nodes frees them. */
    bool loading; /* a snapshot load: no quota tracking until its quota_rebuild */
    bool holding;
    bool walk_mark;        /* flipped by tree_hold_nodes; see tree_walk_written */
    bool walk_marks_stale; /* the last walk was cut short: this one holds all */
    znode_t **held;
    size_t held_n, held_cap;
} tree_t;

/* slot_in_parent of a removed node kept by tree_hold_nodes. */
#define ZNODE_DEAD_SLOT UINT32_MAX

/* The node was removed while the tree held node blocks: only its path,
 * path_len and name are still meaningful. */
static inline bool znode_is_dead(const znode_t *n)
{
    return n->slot_in_parent == ZNODE_DEAD_SLOT;
}

/* The node's children: NULL for a leaf (no lookup), else n >= 1 of them. */
static inline const znode_kids_t *znode_kids(const tree_t *t, const znode_t *n)
{
    return n->has_kids ? (const znode_kids_t *)u64map_get(&t->kids, (uint64_t)(uintptr_t)n) : NULL;
}
static inline uint32_t znode_nkids(const tree_t *t, const znode_t *n)
{
    return n->has_kids ? znode_kids(t, n)->n : 0;
}
/* Child i (< znode_nkids) of n. */
static inline znode_t *znode_kid(const tree_t *t, const znode_t *n, uint32_t i)
{
    return (znode_t *)slab_obj(n, znode_kids(t, n)->v[i]);
}
/* Child i of n, given n's child array (a loop over the children). */
static inline znode_t *znode_kids_at(const znode_t *n, const znode_kids_t *k, uint32_t i)
{
    return (znode_t *)slab_obj(n, k->v[i]);
}
/* The node's interned ACL. */
static inline tree_acl_t *znode_acl(const tree_t *t, const znode_t *n)
{
    return t->acl_ids[n->acl_id];
}

void tree_init(tree_t *t, bool extended_types);
/* Before a bulk load: size the path index for about `nodes` znodes and
 * start faulting in about `bytes` of node memory on a helper thread.
 * tree_reserve_done (or tree_free) waits for that helper. */
void tree_reserve(tree_t *t, size_t nodes, size_t bytes);
void tree_reserve_done(tree_t *t);
/* A bulk loader's hint: the node at `path` is about to be added. */
static inline void tree_prefetch(const tree_t *t, const char *path, size_t len)
{
    nodemap_prefetch(&t->nodes, path, len);
}
void tree_free(tree_t *t);
/* Start an incremental walk of the live tree that keeps node addresses
 * across mutations (the fuzzy snapshot writer), parents before children:
 * until tree_release_nodes, a removed node the walk may still reach keeps
 * its memory (dead, see znode_is_dead). The walker marks each node it
 * writes (tree_walk_mark_written) and pushes a node's children only then,
 * so the nodes it may still reach are exactly the unwritten children of
 * written nodes: only those are held. Nodes it wrote, nodes under a parent
 * it has not reached, and nodes created under a parent it already wrote
 * are freed at once, so create/delete churn during a walk costs no memory. */
void tree_hold_nodes(tree_t *t);
/* End the walk and free the held nodes. `walk_reached_all`: the walk wrote
 * every node it could reach (its last step said so), which leaves every
 * node marked. After a walk cut short the marks are stale, so the next walk
 * holds every removed node, as if none were written, and leaves the marks
 * right again if it reaches all. */
void tree_release_nodes(tree_t *t, bool walk_reached_all);
/* The walk started by tree_hold_nodes has written n, or will never reach
 * it (n was created under a parent already written). */
static inline bool tree_walk_written(const tree_t *t, const znode_t *n)
{
    return n->walk_mark == t->walk_mark;
}
static inline void tree_walk_mark_written(const tree_t *t, znode_t *n)
{
    n->walk_mark = t->walk_mark;
}

znode_t *tree_get(const tree_t *t, const char *path, size_t len);
static inline znode_t *tree_get_j(const tree_t *t, jstr_t p)
{
    return p.len < 0 ? NULL : tree_get(t, p.ptr, (size_t)p.len);
}
/* Length of the parent part of `path` ("/a/b" -> 2, "/a" -> 1 meaning "/"),
 * or -1 if the path has no '/'. */
int32_t tree_parent_len(const char *path, size_t len);

/* Intern an ACL list (entries copied); returns it with one more reference. */
tree_acl_t *tree_acl_intern(tree_t *t, const zk_acl_ref_t *v, int32_t n);
/* Register an ACL entry made elsewhere (a snapshot's placeholder: `key`,
 * `list`, `refs` and `index` set): it gets an id and joins t->acls. */
void tree_acl_register(tree_t *t, tree_acl_t *a);
void tree_acl_ref(tree_acl_t *a);
void tree_acl_unref(tree_t *t, tree_acl_t *a);

/* Add a node under `parent` (which must exist). Takes a reference on `acl`.
 * Stat fields are all set to the create values (a pristine node). Returns
 * the new node, or NULL if the path exists already. A pristine `parent`
 * gets its Stat block first (tree_make_full). */
znode_t *tree_add(tree_t *t, znode_t *parent, const char *path, size_t len, const void *data,
                  int32_t data_len, tree_acl_t *acl, int64_t ephemeral_owner, int64_t zxid,
                  int64_t time_ms);
/* Give a pristine node its Stat block (holding the implied values), ready
 * for its Stat fields to change; a no-op on a node that has one. Returns n
 * (nodes never move). */
znode_t *tree_make_full(tree_t *t, znode_t *n);
/* Remove a childless node; returns its parent (NULL for the root). */
znode_t *tree_remove(tree_t *t, znode_t *n);
void tree_set_data(tree_t *t, znode_t *n, const void *data, int32_t data_len);
/* Replace data without quota bookkeeping (quota stats nodes themselves). */
void tree_set_data_raw(tree_t *t, znode_t *n, const void *data, int32_t data_len);
void tree_set_acl(tree_t *t, znode_t *n, tree_acl_t *acl);

/* The node's parent; NULL for the root. */
znode_t *tree_parent(const tree_t *t, const znode_t *n);

/* The stored ephemeral owner (§6.3): 0, a session id, the container marker
 * or a TTL encoding. */
int64_t znode_owner(const tree_t *t, const znode_t *n);
/* Node classification under the tree's extended-types setting. */
bool znode_is_container(const tree_t *t, const znode_t *n);
bool znode_is_ttl(const tree_t *t, const znode_t *n);
int64_t znode_ttl_ms(const tree_t *t, const znode_t *n);
/* The session owning a normal ephemeral, or 0. */
int64_t znode_session_owner(const tree_t *t, const znode_t *n);

/* Wire Stat of a node (derived cversion, masked owner). */
void znode_stat(const tree_t *t, const znode_t *n, zk_stat_t *st);
/* znode_name_len of a name of ZNODE_NAME_LONG bytes or more (rare). */
uint32_t znode_long_name_len(const znode_t *n) __attribute__((cold));
/* The length of the last path component. */
static inline uint32_t znode_name_len(const znode_t *n)
{
    return n->name_len != ZNODE_NAME_LONG ? n->name_len : znode_long_name_len(n);
}
/* The last path component, "" for the root; it runs to the path's end. */
static inline const char *znode_name(const znode_t *n)
{
    return n->path + n->path_len - znode_name_len(n);
}

/* Every node, in no particular order: start with *pos = 0; NULL at the end.
 * The tree must not change during the iteration. */
static inline znode_t *tree_next_node(const tree_t *t, size_t *pos)
{
    return nodemap_next(&t->nodes, pos);
}

const eph_list_t *tree_session_ephemerals(const tree_t *t, int64_t session_id);
/* Visit n and all its descendants (parents before children, any sibling
 * order), without recursion. */
void tree_walk(const tree_t *t, const znode_t *n, void (*fn)(void *ctx, const znode_t *node),
               void *ctx);
/* Number of descendants of n (all depths, n excluded). */
uint64_t tree_count_descendants(const tree_t *t, const znode_t *n);

#endif
