/* test_tree_mem: the memory layers — the slab allocator, no-fork buffers,
 * the tagged path index (nodemap) under random create/delete churn checked
 * against a plain model, the node header's size, node data moving between
 * inline room and the heap, parents found by path, the side tables of
 * ephemeral owners and of child arrays, the reusable ACL ids, and compact
 * (pristine) nodes: kept so through reads, given their Stat block by every
 * mutation kind without moving, checked against a Stat model under random
 * churn and across a snapshot round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include <sys/mman.h>
#include <unistd.h>

#include <zlib.h>

#include "base/slab.h"
#include "store/snapshot.h"
#include "txn/txn.h"
#include "tree/digest.h"
#include "tree/tree.h"

static void test_slab_sizes_and_reuse(void **state)
{
    (void)state;
    slab_t s;
    slab_init(&s);
    enum { N = 20000 };
    uint8_t **p = calloc(N, sizeof(*p));
    size_t *sz = calloc(N, sizeof(*sz));
    for (int i = 0; i < N; i++) {
        sz[i] = 1 + (size_t)(i * 37) % 1500; /* some above SLAB_MAX_OBJECT */
        p[i] = slab_alloc(&s, sz[i]);
        memset(p[i], i & 0xFF, sz[i]);
    }
    for (int i = 0; i < N; i++)
        for (size_t j = 0; j < sz[i]; j++)
            if (p[i][j] != (uint8_t)(i & 0xFF))
                fail_msg("object %d byte %zu overwritten", i, j);
    for (int i = 0; i < N; i += 2)
        slab_free(&s, p[i], sz[i]);
    for (int i = 1; i < N; i += 2)
        for (size_t j = 0; j < sz[i]; j++)
            if (p[i][j] != (uint8_t)(i & 0xFF))
                fail_msg("object %d byte %zu changed by freeing its neighbours", i, j);
    for (int i = 1; i < N; i += 2)
        slab_free(&s, p[i], sz[i]);
    slab_destroy(&s);
    free(p);
    free(sz);
}

/* Objects carved from chunks mapped ahead while a helper faults them in. */
static void test_slab_prefault(void **state)
{
    (void)state;
    slab_t s;
    slab_init(&s);
    slab_prefault_start(&s, (size_t)9 << 20);
    enum { N = 50000 };
    uint32_t **p = calloc(N, sizeof(*p));
    for (int i = 0; i < N; i++) {
        p[i] = slab_alloc(&s, 240);
        p[i][0] = (uint32_t)i;
        p[i][59] = (uint32_t)~i;
    }
    slab_prefault_wait(&s);
    for (int i = 0; i < N; i++) {
        assert_int_equal(p[i][0], (uint32_t)i);
        assert_int_equal(p[i][59], (uint32_t)~i);
        slab_free(&s, p[i], 240);
    }
    slab_prefault_start(&s, (size_t)4 << 20); /* left running: destroy joins it */
    slab_destroy(&s);
    free(p);
}

static void test_big_calloc_zeroed(void **state)
{
    (void)state;
    size_t sizes[] = {64, 4096, (size_t)8 << 20};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        uint8_t *b = big_calloc(sizes[i]);
        for (size_t j = 0; j < sizes[i]; j += 511)
            assert_int_equal(b[j], 0);
        b[sizes[i] - 1] = 1;
        big_free(b, sizes[i]);
    }
}

/* A no-fork buffer grows by moving to a new mapping, keeps its bytes, and
 * stays in no-fork mode after buf_free. */
static void test_buf_nofork(void **state)
{
    (void)state;
    buf_t b;
    buf_init_nofork(&b);
    for (int i = 0; i < 100000; i++) {
        uint8_t byte = (uint8_t)(i * 7);
        buf_append(&b, &byte, 1);
    }
    assert_true(b.cap >= 100000);
    buf_consume(&b, 10);
    assert_int_equal(b.len, 100000 - 10);
    for (size_t i = 0; i < b.len; i++)
        if (b.data[i] != (uint8_t)((i + 10) * 7))
            fail_msg("byte %zu lost while growing", i);
    buf_free(&b);
    assert_true(b.nofork);
    assert_null(b.data);
    buf_printf(&b, "%d", 42);
    assert_memory_equal(b.data, "42", 2);
    buf_free(&b);
}

/* Write t as a snapshot (in memory) and load it into u. */
static void snapshot_copy(const tree_t *t, tree_t *u)
{
    int fd = memfd_create("snap", 0);
    assert_true(fd >= 0);
    store_err_t err;
    assert_int_equal(snapshot_write_fd(fd, t, NULL, 0, NULL, STORE_PLAIN, NULL, &err), 0);
    off_t len = lseek(fd, 0, SEEK_END);
    uint8_t *bytes = malloc((size_t)len);
    assert_int_equal(pread(fd, bytes, (size_t)len, 0), len);
    close(fd);
    snapshot_info_t info;
    assert_int_equal(snapshot_read_mem(bytes, (size_t)len, "mem", true, NULL, u, &info, &err), 0);
    free(bytes);
    snapshot_info_free(&info);
}

static tree_acl_t *open_acl(tree_t *t)
{
    return &t->open_acl;
}

/* Random creates and deletes of /k<i> and /k<i>/c (so parents gain and lose
 * children too), checked after every step against a presence model. */
static void test_nodemap_churn_matches_model(void **state)
{
    (void)state;
    enum { KEYS = 3000, STEPS = 120000 };
    tree_t t;
    tree_init(&t, false);
    uint8_t *present = calloc(2 * KEYS, 1); /* [2i] /k<i>, [2i+1] /k<i>/c */
    uint64_t live = 0, x = 88172645463325252ULL;
    char path[64];
    for (int step = 0; step < STEPS; step++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int i = (int)(x % KEYS);
        bool child = (x >> 32) & 1;
        int slot = 2 * i + child;
        int len = child ? snprintf(path, sizeof(path), "/k%d/c", i)
                        : snprintf(path, sizeof(path), "/k%d", i);
        znode_t *n = tree_get(&t, path, (size_t)len);
        assert_int_equal(n != NULL, present[slot]);
        if (!present[slot]) {
            znode_t *parent = child ? tree_get(&t, path, (size_t)len - 2) : t.root;
            if (!parent)
                continue; /* /k<i>/c needs /k<i> */
            /* Its Stat block first (tree_add would add it too). */
            parent = tree_make_full(&t, parent);
            n = tree_add(&t, parent, path, (size_t)len, path, len, open_acl(&t), 0, step, step);
            assert_non_null(n);
            assert_null(tree_add(&t, parent, path, (size_t)len, NULL, -1, open_acl(&t), 0, 0, 0));
            present[slot] = 1;
            live++;
        } else {
            if (znode_nkids(&t, n) > 0)
                continue;
            assert_int_equal(n->data_len, len);
            assert_memory_equal(znode_data(n), path, (size_t)len);
            tree_remove(&t, n);
            present[slot] = 0;
            live--;
        }
    }
    assert_int_equal(t.node_count, live + 4); /* + the four built-in nodes */
    uint64_t seen = 0;
    size_t pos = 0;
    for (const znode_t *n; (n = tree_next_node(&t, &pos));) {
        assert_ptr_equal(tree_get(&t, znode_path(n), n->path_len), n);
        seen++;
    }
    assert_int_equal(seen, t.node_count);
    for (int i = 0; i < KEYS; i++) {
        int len = snprintf(path, sizeof(path), "/k%d", i);
        assert_int_equal(tree_get(&t, path, (size_t)len) != NULL, present[2 * i]);
    }
    tree_free(&t);
    free(present);
}

/* An empty ACL list (a txn read from disk may hold one) is interned like
 * any other: found again, and released with the tree (no leak). */
static void test_empty_acl_interned(void **state)
{
    (void)state;
    tree_t t;
    tree_init(&t, false);
    tree_acl_t *a = tree_acl_intern(&t, NULL, 0);
    tree_acl_t *b = tree_acl_intern(&t, NULL, 0);
    assert_ptr_equal(a, b);
    assert_int_equal(a->list.n, 0);
    znode_t *n = tree_add(&t, t.root, "/e", 2, NULL, -1, a, 0, 1, 1);
    assert_ptr_equal(znode_acl(&t, n), a);
    tree_acl_unref(&t, a);
    tree_acl_unref(&t, b);
    assert_int_equal(a->refs, 1); /* the node's */
    tree_free(&t);
}

/* The header: what every node pays before its path and data. */
static void test_header_size(void **state)
{
    (void)state;
    /* 40 bytes; a node that is not pristine adds a 40-byte Stat block. */
    assert_int_equal(offsetof(znode_t, path), 40);
    assert_int_equal(sizeof(znode_t), 40);
    assert_int_equal(sizeof(znode_ext_t), 40);
    /* inline_cap (29 bits) holds the largest room plus its rounding. */
    znode_t z;
    memset(&z, 0, sizeof(z));
    z.inline_cap = ZNODE_ROOM_MAX + 7;
    assert_int_equal(z.inline_cap, ZNODE_ROOM_MAX + 7);
    assert_false(znode_is_full(&z));
    tree_t t;
    tree_init(&t, false);
    znode_t *n = tree_add(&t, t.root, "/h", 2, "v", 1, open_acl(&t), 0, 1, 1);
    assert_false(znode_is_full(n));
    assert_ptr_equal(znode_path(n), (const char *)n + 40);
    assert_ptr_equal(tree_make_full(&t, n), n); /* nodes never move */
    assert_true(znode_is_full(n));
    assert_string_equal(znode_path(n), "/h");
    assert_memory_equal(znode_data(n), "v", 1);
    assert_true(znode_is_full(t.root));
    assert_false(znode_is_full(tree_get(&t, "/zookeeper/quota", 16)));
    assert_true(znode_is_full(tree_get(&t, "/zookeeper/config", 17)));
    tree_free(&t);
}

static bool on_heap(const znode_t *n)
{
    return n->data_on_heap;
}

static void test_data_inline_heap_and_null(void **state)
{
    (void)state;
    tree_t t;
    tree_init(&t, false);
    znode_t *n = tree_add(&t, t.root, "/d", 2, "abcdefghij", 10, open_acl(&t), 0, 1, 1);
    const uint8_t *room = znode_data(n);
    assert_ptr_equal(room, (const uint8_t *)znode_path(n) + 3);
    assert_false(on_heap(n));
    assert_true(n->inline_cap >= 10);
    assert_memory_equal(znode_data(n), "abcdefghij", 10);
    tree_set_data(&t, n, "xyz", 3); /* fits the room made at creation */
    assert_ptr_equal(znode_data(n), room);
    assert_false(on_heap(n));
    assert_int_equal(n->data_len, 3);
    assert_memory_equal(znode_data(n), "xyz", 3);
    char big[300];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)('a' + i % 26);
    tree_set_data(&t, n, big, (int32_t)sizeof(big)); /* too big: a heap copy */
    assert_true(on_heap(n));
    assert_ptr_not_equal(znode_data(n), room);
    assert_memory_equal(znode_data(n), big, sizeof(big));
    assert_memory_equal(znode_path(n), "/d", 3); /* the pointer went after the path */
    char big2[400];
    memset(big2, 'r', sizeof(big2));
    tree_set_data(&t, n, big2, (int32_t)sizeof(big2)); /* heap to heap */
    assert_true(on_heap(n));
    assert_memory_equal(znode_data(n), big2, sizeof(big2));
    tree_set_data(&t, n, znode_data(n) + 10, 300); /* from its own heap bytes, to the heap */
    assert_true(on_heap(n));
    assert_memory_equal(znode_data(n), big2, 300);
    tree_set_data(&t, n, big, (int32_t)sizeof(big));
    tree_set_data(&t, n, znode_data(n) + 10, 5); /* from its own heap bytes, back inline */
    assert_false(on_heap(n));
    assert_int_equal(n->data_len, 5);
    assert_memory_equal(znode_data(n), big + 10, 5);
    assert_ptr_equal(znode_data(n), room);
    tree_set_data(&t, n, znode_data(n) + 1, 4); /* overlapping, inline */
    assert_memory_equal(znode_data(n), big + 11, 4);
    tree_set_data(&t, n, big, (int32_t)sizeof(big));
    tree_set_data(&t, n, NULL, -1); /* heap to null: freed (ASan/LSan) */
    assert_false(on_heap(n));
    assert_null(znode_data(n));
    assert_int_equal(n->data_len, -1);
    tree_set_data(&t, n, "", 0); /* empty is not null */
    assert_false(on_heap(n));
    assert_ptr_equal(znode_data(n), room);
    assert_int_equal(n->data_len, 0);
    zk_stat_t st;
    znode_stat(&t, n, &st);
    assert_int_equal(st.data_length, 0);
    assert_int_equal(t.data_bytes, 44 + 2);
    tree_set_data(&t, n, big, (int32_t)sizeof(big)); /* freed with the node */
    tree_free(&t);
}

/* Nodes made with null or empty data still have room for the heap pointer,
 * and the slab's rounding is room too. */
static void test_data_min_room(void **state)
{
    (void)state;
    tree_t t;
    tree_init(&t, false);
    znode_t *z = tree_add(&t, t.root, "/null", 5, NULL, -1, open_acl(&t), 0, 1, 1);
    znode_t *e = tree_add(&t, t.root, "/empty", 6, "", 0, open_acl(&t), 0, 1, 1);
    assert_null(znode_data(z));
    assert_non_null(znode_data(e));
    assert_int_equal(e->data_len, 0);
    for (znode_t *n = z; n; n = n == z ? e : NULL) {
        assert_true(n->inline_cap >= ZNODE_MIN_ROOM);
        assert_int_equal((offsetof(znode_t, path) + n->path_len + 1 + n->inline_cap) % 8, 0);
        char d[64];
        memset(d, n == z ? 'z' : 'e', sizeof(d));
        tree_set_data(&t, n, d, (int32_t)n->inline_cap); /* exactly the room: inline */
        assert_false(n->data_on_heap);
        assert_memory_equal(znode_data(n), d, n->inline_cap);
        tree_set_data(&t, n, d, (int32_t)sizeof(d));
        assert_true(n->data_on_heap);
        assert_memory_equal(znode_data(n), d, sizeof(d));
        assert_string_equal(znode_path(n), n == z ? "/null" : "/empty");
    }
    tree_remove(&t, z); /* frees its heap data */
    tree_free(&t);
}

/* The parent is found by path; removal keeps the siblings' slots right. */
static void test_parent_by_path(void **state)
{
    (void)state;
    tree_t t;
    tree_init(&t, false);
    assert_null(tree_parent(&t, t.root));
    znode_t *zk = tree_get(&t, "/zookeeper", 10);
    assert_ptr_equal(tree_parent(&t, zk), t.root);
    assert_ptr_equal(tree_parent(&t, tree_get(&t, "/zookeeper/quota", 16)), zk);
    znode_t *a = tree_make_full(&t, tree_add(&t, t.root, "/a", 2, NULL, -1, open_acl(&t), 0, 1, 1));
    znode_t *k[5];
    char path[16];
    for (int i = 0; i < 5; i++) {
        int len = snprintf(path, sizeof(path), "/a/k%d", i);
        k[i] = tree_add(&t, a, path, (size_t)len, NULL, -1, open_acl(&t), 0, 1, 1);
        assert_ptr_equal(tree_parent(&t, k[i]), a);
    }
    tree_remove(&t, k[1]);
    tree_remove(&t, k[4]);
    assert_int_equal(znode_nkids(&t, a), 3);
    for (uint32_t i = 0; i < znode_nkids(&t, a); i++)
        assert_int_equal(znode_kid(&t, a, i)->slot_in_parent, i);
    tree_free(&t);
}

static znode_t *add_owned(tree_t *t, const char *path, int64_t owner)
{
    return tree_add(t, t->root, path, strlen(path), "x", 1, open_acl(t), owner, 1, 1);
}

/* Non-zero owners live in the side table: set on create, gone on delete,
 * the session's ephemeral list kept in step. */
static void test_owner_side_table(void **state)
{
    (void)state;
    tree_t t;
    tree_init(&t, true);
    const int64_t sid = 0x1234, other = 0x5678;
    const int64_t ttl = ZK_TTL_MASK | 60000;
    znode_t *p = add_owned(&t, "/p", 0);
    assert_false(p->has_owner);
    assert_int_equal(znode_owner(&t, p), 0);
    assert_int_equal(t.owners.used, 0);
    znode_t *e[4];
    char path[16];
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof(path), "/e%d", i);
        e[i] = add_owned(&t, path, sid);
        assert_true(e[i]->has_owner);
        assert_int_equal(znode_owner(&t, e[i]), sid);
        assert_int_equal(znode_session_owner(&t, e[i]), sid);
    }
    znode_t *o = add_owned(&t, "/o", other);
    znode_t *c = add_owned(&t, "/c", ZK_CONTAINER_OWNER);
    znode_t *l = add_owned(&t, "/l", ttl);
    assert_int_equal(t.owners.used, 7);
    assert_true(znode_is_container(&t, c));
    assert_false(znode_is_container(&t, l));
    assert_int_equal(znode_session_owner(&t, c), 0);
    assert_true(znode_is_ttl(&t, l));
    assert_int_equal(znode_ttl_ms(&t, l), 60000);
    assert_int_equal(znode_session_owner(&t, l), 0);
    assert_int_equal(znode_owner(&t, l), ttl);
    zk_stat_t st;
    znode_stat(&t, e[2], &st);
    assert_int_equal(st.ephemeral_owner, sid);
    znode_stat(&t, c, &st);
    assert_int_equal(st.ephemeral_owner, 0);
    assert_int_equal(t.ephemeral_count, 5);
    /* Delete one from the middle of the session's list. */
    tree_remove(&t, e[1]);
    assert_int_equal(t.owners.used, 6);
    const eph_list_t *el = tree_session_ephemerals(&t, sid);
    assert_int_equal(el->n, 3);
    for (uint32_t i = 0; i < el->n; i++)
        assert_int_equal(znode_session_owner(&t, el->v[i]), sid);
    /* Session close: every ephemeral of the session goes. */
    while ((el = tree_session_ephemerals(&t, sid)))
        tree_remove(&t, el->v[el->n - 1]);
    assert_int_equal(t.ephemeral_count, 1);
    assert_int_equal(t.owners.used, 3);
    assert_int_equal(znode_owner(&t, o), other);
    tree_remove(&t, c);
    tree_remove(&t, l);
    assert_int_equal(t.owners.used, 1);
    assert_int_equal(t.containers.used, 0);
    assert_int_equal(t.ttls.used, 0);
    /* A fresh node at a freed node's address has no owner. */
    for (int i = 0; i < 100; i++) {
        snprintf(path, sizeof(path), "/n%d", i);
        assert_int_equal(znode_owner(&t, add_owned(&t, path, 0)), 0);
    }
    assert_int_equal(t.owners.used, 1);
    tree_free(&t); /* frees /o's entry */
}

/* Owners survive a snapshot round trip (the loader registers them). */
static void test_owners_snapshot_round_trip(void **state)
{
    (void)state;
    tree_t t;
    tree_init(&t, true);
    add_owned(&t, "/e", 0x77);
    add_owned(&t, "/c", ZK_CONTAINER_OWNER);
    add_owned(&t, "/l", ZK_TTL_MASK | 5000);
    add_owned(&t, "/p", 0);
    char big[200];
    memset(big, 'b', sizeof(big));
    tree_set_data(&t, tree_get(&t, "/p", 2), big, (int32_t)sizeof(big)); /* on the heap */
    tree_t u;
    snapshot_copy(&t, &u);
    assert_int_equal(u.owners.used, 3);
    assert_int_equal(znode_session_owner(&u, tree_get(&u, "/e", 2)), 0x77);
    assert_true(znode_is_container(&u, tree_get(&u, "/c", 2)));
    assert_int_equal(znode_ttl_ms(&u, tree_get(&u, "/l", 2)), 5000);
    assert_int_equal(znode_owner(&u, tree_get(&u, "/p", 2)), 0);
    assert_int_equal(u.ephemeral_count, 1);
    assert_int_equal(u.containers.used, 1);
    assert_int_equal(u.ttls.used, 1);
    const znode_t *p = tree_get(&u, "/p", 2);
    assert_int_equal(p->data_len, sizeof(big));
    assert_memory_equal(znode_data(p), big, sizeof(big));
    assert_int_equal(tree_digest(&u), tree_digest(&t));
    tree_free(&u);
    tree_free(&t);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void check_stat_kids(const tree_t *t, const znode_t *n, uint32_t want)
{
    zk_stat_t st;
    znode_stat(t, n, &st);
    assert_int_equal(st.num_children, want);
    assert_int_equal(st.cversion, (int32_t)((uint32_t)znode_cversion(n) * 2u - want));
    assert_int_equal(znode_nkids(t, n), want);
    assert_int_equal(znode_has_kids(n), want > 0);
    assert_int_equal(znode_kids(t, n) == NULL, want == 0);
}

/* A node's child array exists exactly while it has children: the first
 * child creates the side entry, the last one's delete frees it. */
static void test_kids_first_and_last(void **state)
{
    (void)state;
    tree_t t;
    tree_init(&t, false);
    size_t base = t.kids.used; /* "/" and "/zookeeper" */
    assert_int_equal(base, 2);
    znode_t *a = tree_add(&t, t.root, "/a", 2, NULL, -1, open_acl(&t), 0, 1, 1);
    assert_int_equal(t.kids.used, base); /* "/" had children already */
    check_stat_kids(&t, a, 0);
    a = tree_make_full(&t, a); /* before its first child and cversion change */
    for (int round = 0; round < 3; round++) {
        znode_t *c = tree_add(&t, a, "/a/c", 4, "x", 1, open_acl(&t), 0, 2, 2);
        znode_full(a)->cversion++;
        assert_int_equal(t.kids.used, base + 1);
        check_stat_kids(&t, a, 1);
        assert_ptr_equal(znode_kid(&t, a, 0), c);
        check_stat_kids(&t, c, 0);
        tree_remove(&t, c);
        znode_full(a)->cversion++;
        assert_int_equal(t.kids.used, base);
        check_stat_kids(&t, a, 0);
    }
    /* A chain: each level gains, then loses, its only child. */
    char path[64] = "/a";
    size_t len = 2;
    znode_t *chain[8];
    for (int i = 0; i < 8; i++) {
        len += (size_t)snprintf(path + len, sizeof(path) - len, "/%d", i);
        if (i)
            chain[i - 1] = tree_make_full(&t, chain[i - 1]); /* gains a child */
        chain[i] = tree_add(&t, i ? chain[i - 1] : a, path, len, NULL, -1, open_acl(&t), 0, 3, 3);
    }
    assert_int_equal(t.kids.used, base + 8); /* /a and chain[0..6] */
    assert_int_equal(tree_count_descendants(&t, a), 8);
    for (int i = 7; i >= 0; i--)
        tree_remove(&t, chain[i]);
    assert_int_equal(t.kids.used, base);
    /* tree_free frees arrays still present (ASan: no leak). */
    tree_add(&t, a, "/a/x", 4, NULL, -1, open_acl(&t), 0, 4, 4);
    tree_free(&t);
}

/* Many children under a few parents, random creates and deletes, checked
 * against a model: the children lists, slots and Stat after every step. */
static void test_kids_random_vs_model(void **state)
{
    (void)state;
    enum { PARENTS = 3, KIDS = 300, STEPS = 40000 };
    tree_t t;
    tree_init(&t, false);
    znode_t *par[PARENTS];
    char path[64];
    for (int p = 0; p < PARENTS; p++) {
        int len = snprintf(path, sizeof(path), "/p%d", p);
        par[p] = tree_make_full(
            &t, tree_add(&t, t.root, path, (size_t)len, NULL, -1, open_acl(&t), 0, 1, 1));
    }
    uint8_t present[PARENTS][KIDS] = {{0}};
    uint32_t count[PARENTS] = {0};
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    for (int step = 0; step < STEPS; step++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int p = (int)(x % PARENTS), k = (int)((x >> 8) % KIDS);
        /* Bias toward emptying now and then, so parents lose their last child. */
        bool drain = ((x >> 32) % 1000) < 3;
        int len = snprintf(path, sizeof(path), "/p%d/c%d", p, k);
        if (drain) {
            for (int j = 0; j < KIDS; j++)
                if (present[p][j]) {
                    len = snprintf(path, sizeof(path), "/p%d/c%d", p, j);
                    tree_remove(&t, tree_get(&t, path, (size_t)len));
                    present[p][j] = 0;
                    znode_full(par[p])->cversion++;
                }
            count[p] = 0;
        } else if (present[p][k]) {
            tree_remove(&t, tree_get(&t, path, (size_t)len));
            present[p][k] = 0;
            count[p]--;
            znode_full(par[p])->cversion++;
        } else {
            assert_non_null(
                tree_add(&t, par[p], path, (size_t)len, "d", 1, open_acl(&t), 0, step, step));
            present[p][k] = 1;
            count[p]++;
            znode_full(par[p])->cversion++;
        }
        check_stat_kids(&t, par[p], count[p]);
        if (step % 500 != 0 && !drain)
            continue;
        for (int q = 0; q < PARENTS; q++) {
            const znode_kids_t *kids = znode_kids(&t, par[q]);
            uint32_t n = kids ? kids->n : 0;
            assert_int_equal(n, count[q]);
            const char **got = malloc((n ? n : 1) * sizeof(*got));
            const char **want = malloc((n ? n : 1) * sizeof(*want));
            char(*names)[16] = malloc((n ? n : 1) * sizeof(*names));
            uint32_t w = 0;
            for (int j = 0; j < KIDS; j++)
                if (present[q][j]) {
                    snprintf(names[w], sizeof(names[w]), "c%d", j);
                    want[w] = names[w];
                    w++;
                }
            for (uint32_t i = 0; i < n; i++) {
                const znode_t *kid = znode_kids_at(par[q], kids, i);
                assert_ptr_equal(kid, znode_kid(&t, par[q], i));
                assert_int_equal(kid->slot_in_parent, i);
                assert_ptr_equal(tree_parent(&t, kid), par[q]);
                got[i] = znode_name(kid);
            }
            qsort(got, n, sizeof(*got), cmp_str);
            qsort(want, n, sizeof(*want), cmp_str);
            for (uint32_t i = 0; i < n; i++)
                assert_string_equal(got[i], want[i]);
            free(got);
            free(want);
            free(names);
        }
    }
    /* Only parents with children (and "/" and "/zookeeper") have entries. */
    size_t with = 2;
    for (int p = 0; p < PARENTS; p++)
        with += count[p] > 0;
    assert_int_equal(t.kids.used, with);
    tree_free(&t);
}

/* ACL ids: the open alias is 0, an ACL's id is freed with its last user
 * (node or caller reference) and the next new ACL takes it. */
static void test_acl_ids_reused(void **state)
{
    (void)state;
    tree_t t;
    tree_init(&t, false);
    assert_int_equal(t.open_acl.id, 0);
    assert_ptr_equal(znode_acl(&t, t.root), &t.open_acl);
    assert_int_equal(znode_acl(&t, t.root)->index, -1);
    const znode_t *cfg = tree_get(&t, "/zookeeper/config", 17);
    assert_int_equal(znode_acl(&t, cfg)->list.v[0].perms, ZK_PERM_READ);
    zk_acl_ref_t r1 = {ZK_PERM_READ | ZK_PERM_WRITE, JSTR_LIT("digest"), JSTR_LIT("u:one")};
    zk_acl_ref_t r2 = {ZK_PERM_ALL, JSTR_LIT("digest"), JSTR_LIT("u:two")};
    tree_acl_t *a1 = tree_acl_intern(&t, &r1, 1);
    uint32_t id1 = a1->id;
    int64_t idx1 = a1->index;
    assert_true(id1 > znode_acl(&t, cfg)->id);
    znode_t *n = tree_add(&t, t.root, "/n", 2, NULL, -1, a1, 0, 1, 1);
    znode_t *m = tree_add(&t, t.root, "/m", 2, NULL, -1, a1, 0, 1, 1);
    tree_acl_unref(&t, a1); /* the nodes hold it now */
    assert_ptr_equal(znode_acl(&t, n), a1);
    assert_int_equal(n->acl_id, id1);
    tree_remove(&t, n);
    assert_ptr_equal(t.acl_ids[id1], a1); /* /m still uses it */
    tree_set_acl(&t, m, &t.open_acl);     /* its last user lets go */
    assert_null(t.acl_ids[id1]);
    uint32_t slots = t.acl_ids_n;
    tree_acl_t *a2 = tree_acl_intern(&t, &r2, 1);
    assert_int_equal(a2->id, id1); /* the freed id */
    assert_true(a2->index > idx1); /* the snapshot index still moves on */
    assert_int_equal(t.acl_ids_n, slots);
    tree_set_acl(&t, m, a2);
    tree_acl_unref(&t, a2);
    assert_ptr_equal(znode_acl(&t, m), a2);
    /* Churn: many distinct ACLs come and go; the table stays small. */
    char id[32];
    for (int i = 0; i < 1000; i++) {
        int len = snprintf(id, sizeof(id), "u:%d", i);
        zk_acl_ref_t r = {ZK_PERM_READ, JSTR_LIT("digest"), {id, len}};
        tree_acl_t *a = tree_acl_intern(&t, &r, 1);
        znode_t *x = tree_add(&t, t.root, "/x", 2, NULL, -1, a, 0, 1, 1);
        tree_acl_unref(&t, a);
        assert_ptr_equal(znode_acl(&t, x), a);
        tree_remove(&t, x);
    }
    assert_true(t.acl_ids_n <= slots + 1);
    tree_free(&t);
}

/* A snapshot keeps ZooKeeper's ACL indexes (not the ids) across a round
 * trip, even when ids were reused out of index order. */
static void test_acl_snapshot_round_trip(void **state)
{
    (void)state;
    tree_t t;
    tree_init(&t, false);
    char id[32], path[32];
    znode_t *nodes[6];
    for (int i = 0; i < 6; i++) {
        int len = snprintf(id, sizeof(id), "u:%d", i);
        zk_acl_ref_t r = {ZK_PERM_READ | ZK_PERM_ADMIN, JSTR_LIT("digest"), {id, len}};
        tree_acl_t *a = tree_acl_intern(&t, &r, 1);
        int plen = snprintf(path, sizeof(path), "/a%d", i);
        nodes[i] = tree_add(&t, t.root, path, (size_t)plen, "v", 1, a, 0, 1, 1);
        tree_acl_unref(&t, a);
    }
    tree_remove(&t, nodes[1]);
    tree_remove(&t, nodes[3]); /* frees two ids, reused below */
    for (int i = 6; i < 8; i++) {
        int len = snprintf(id, sizeof(id), "u:%d", i);
        zk_acl_ref_t r = {ZK_PERM_ALL, JSTR_LIT("digest"), {id, len}};
        tree_acl_t *a = tree_acl_intern(&t, &r, 1);
        int plen = snprintf(path, sizeof(path), "/a%d", i);
        tree_add(&t, t.root, path, (size_t)plen, "v", 1, a, 0, 1, 1);
        tree_acl_unref(&t, a);
    }
    tree_add(&t, t.root, "/open", 5, NULL, -1, open_acl(&t), 0, 1, 1);
    tree_t u;
    snapshot_copy(&t, &u);
    size_t pos = 0;
    uint64_t seen = 0;
    for (const znode_t *x; (x = tree_next_node(&t, &pos));) {
        const znode_t *y = tree_get(&u, znode_path(x), x->path_len);
        assert_non_null(y);
        const tree_acl_t *ax = znode_acl(&t, x), *ay = znode_acl(&u, y);
        assert_int_equal(ax->index, ay->index);
        assert_int_equal(ax->key.len, ay->key.len);
        assert_memory_equal(ax->key.data, ay->key.data, ax->key.len);
        seen++;
    }
    assert_int_equal(seen, u.node_count);
    assert_ptr_equal(znode_acl(&u, tree_get(&u, "/open", 5)), &u.open_acl);
    assert_int_equal(u.next_acl_index, t.next_acl_index);
    assert_int_equal(tree_digest(&u), tree_digest(&t));
    tree_free(&u);
    tree_free(&t);
}

/* ---- compact nodes and their Stat blocks ---------------------------------- */

/* Every reference to every node points at its current address. */
static void check_consistent(const tree_t *t)
{
    size_t pos = 0;
    uint64_t count = 0, owned = 0, ephs = 0;
    assert_ptr_equal(tree_get(t, "/", 1), t->root);
    for (const znode_t *n; (n = tree_next_node(t, &pos));) {
        count++;
        const char *path = znode_path(n);
        assert_int_equal(strlen(path), n->path_len);
        assert_ptr_equal(tree_get(t, path, n->path_len), n);
        if (n->has_kids)
            assert_true(znode_is_full(n));
        const znode_t *p = tree_parent(t, n);
        if (n == t->root) {
            assert_null(p);
        } else {
            assert_non_null(p);
            assert_true(znode_is_full(p));
            assert_true(n->slot_in_parent < znode_nkids(t, p));
            assert_ptr_equal(znode_kid(t, p, n->slot_in_parent), n);
        }
        assert_int_equal(n->has_owner, u64map_get(&t->owners, (uint64_t)(uintptr_t)n) != NULL);
        owned += n->has_owner;
        int64_t sid = znode_session_owner(t, n);
        if (sid) {
            const eph_list_t *l = tree_session_ephemerals(t, sid);
            assert_non_null(l);
            bool found = false;
            for (uint32_t i = 0; i < l->n; i++)
                found |= l->v[i] == n;
            assert_true(found);
            ephs++;
        }
        if (znode_is_container(t, n))
            assert_ptr_equal(strmap_get(&t->containers, path, n->path_len), n);
        if (znode_is_ttl(t, n))
            assert_ptr_equal(strmap_get(&t->ttls, path, n->path_len), n);
    }
    assert_int_equal(count, t->node_count);
    assert_int_equal(owned, t->owners.used);
    assert_int_equal(ephs, t->ephemeral_count);
    const char *k;
    size_t kl;
    void *v;
    for (int m = 0; m < 2; m++) {
        const strmap_t *map = m ? &t->ttls : &t->containers;
        pos = 0;
        while (strmap_next(map, &pos, &k, &kl, &v)) {
            const znode_t *n = v;
            assert_ptr_equal(tree_get(t, k, kl), n);
            assert_ptr_equal(k, znode_path(n)); /* the key is the node's own path */
        }
    }
    uint64_t sid;
    pos = 0;
    while (u64map_next(&t->ephemerals, &pos, &sid, &v)) {
        const eph_list_t *l = v;
        for (uint32_t i = 0; i < l->n; i++)
            assert_ptr_equal(tree_get(t, znode_path(l->v[i]), l->v[i]->path_len), l->v[i]);
    }
}

/* Apply one txn with body b (reset afterwards); returns the result error. */
static int32_t apply_txn(tree_t *t, int64_t client, int64_t zxid, int32_t type, buf_t *b)
{
    txn_header_t h = {
        .client_id = client, .cxid = 1, .zxid = zxid, .time_ms = 5000 + 3 * zxid, .type = type};
    txn_result_t res;
    assert_true(txn_apply(t, NULL, &h, b->data, b->len, &res));
    int32_t err = res.single.err;
    txn_result_free(&res);
    buf_reset(b);
    return err;
}

static const zk_acl_ref_t OPEN_REF = {ZK_PERM_ALL, JSTR_LIT("world"), JSTR_LIT("anyone")};
static const zk_acl_ref_t READ_REF = {ZK_PERM_READ, JSTR_LIT("world"), JSTR_LIT("anyone")};

static void assert_pristine_stat(const tree_t *t, const znode_t *n, int64_t zxid, int64_t time)
{
    zk_stat_t st;
    znode_stat(t, n, &st);
    assert_int_equal(st.czxid, zxid);
    assert_int_equal(st.mzxid, zxid);
    assert_int_equal(st.pzxid, zxid);
    assert_int_equal(st.ctime, time);
    assert_int_equal(st.mtime, time);
    assert_int_equal(st.version, 0);
    assert_int_equal(st.cversion, 0);
    assert_int_equal(st.aversion, 0);
}

/* A created node is compact and stays so through reads, Stat and digest. */
static void test_compact_through_reads(void **state)
{
    (void)state;
    tree_t t;
    tree_init(&t, false);
    buf_t b;
    buf_init(&b);
    txn_write_create(&b, JSTR_LIT("/p"), JSTR_LIT("hello"), &OPEN_REF, 1, false, 1);
    assert_int_equal(apply_txn(&t, 1, 10, ZOP_CREATE, &b), ZOK);
    znode_t *n = tree_get(&t, "/p", 2);
    assert_false(znode_is_full(n));
    uint64_t d = tree_digest(&t);
    for (int i = 0; i < 3; i++) {
        assert_pristine_stat(&t, n, 10, 5030);
        assert_memory_equal(znode_data(n), "hello", 5);
        assert_int_equal(znode_nkids(&t, n), 0);
        assert_ptr_equal(tree_parent(&t, n), t.root);
        assert_int_equal(tree_digest(&t), d);
        assert_ptr_equal(tree_get(&t, "/p", 2), n);
        assert_false(znode_is_full(n));
    }
    /* Its digest is what the full form of the same Stat gives. */
    uint32_t nd = tree_node_digest(&t, n);
    n = tree_make_full(&t, n);
    assert_int_equal(tree_node_digest(&t, n), nd);
    assert_int_equal(tree_digest(&t), d);
    assert_pristine_stat(&t, n, 10, 5030);
    check_consistent(&t);
    buf_free(&b);
    tree_free(&t);
}

/* Each mutation kind gives a compact node its Stat block, in place: every
 * reference (the index, the parent's slot, the owners table, the session
 * list, the containers and ttls maps) still finds it. */
static void test_stat_block_by_each_mutation(void **state)
{
    (void)state;
    tree_t t;
    tree_init(&t, true);
    buf_t b;
    buf_init(&b);
    const int64_t S = 0x77;
    int64_t z = 1;
    /* /e ephemeral, /c container, /l TTL, /q and /m persistent: all compact. */
    txn_write_create(&b, JSTR_LIT("/e"), JSTR_LIT("e"), &OPEN_REF, 1, true, 1);
    assert_int_equal(apply_txn(&t, S, z++, ZOP_CREATE, &b), ZOK);
    txn_write_create_container(&b, JSTR_LIT("/c"), JSTR_LIT("c"), &OPEN_REF, 1, 2);
    assert_int_equal(apply_txn(&t, S, z++, ZOP_CREATE_CONTAINER, &b), ZOK);
    txn_write_create_ttl(&b, JSTR_LIT("/l"), JSTR_LIT("l"), &OPEN_REF, 1, 3, 60000);
    assert_int_equal(apply_txn(&t, S, z++, ZOP_CREATE_TTL, &b), ZOK);
    txn_write_create(&b, JSTR_LIT("/q"), JSTR_LIT("q"), &OPEN_REF, 1, false, 4);
    assert_int_equal(apply_txn(&t, S, z++, ZOP_CREATE, &b), ZOK);
    txn_write_create(&b, JSTR_LIT("/m"), JSTR_NULL, &OPEN_REF, 1, false, 5);
    assert_int_equal(apply_txn(&t, S, z++, ZOP_CREATE, &b), ZOK);
    const char *names[] = {"/e", "/c", "/l", "/q", "/m"};
    for (int i = 0; i < 5; i++)
        assert_false(znode_is_full(tree_get(&t, names[i], 2)));
    check_consistent(&t);
    zk_stat_t st;

    /* setData on the ephemeral: its session list slot follows. */
    znode_t *old = tree_get(&t, "/e", 2);
    txn_write_set_data(&b, JSTR_LIT("/e"), JSTR_LIT("E2"), 1);
    assert_int_equal(apply_txn(&t, S, z, ZOP_SET_DATA, &b), ZOK);
    znode_t *e = tree_get(&t, "/e", 2);
    assert_ptr_equal(e, old); /* nodes never move */
    assert_true(znode_is_full(e));
    znode_stat(&t, e, &st);
    assert_int_equal(st.czxid, 1);
    assert_int_equal(st.mzxid, z);
    assert_int_equal(st.mtime, 5000 + 3 * z);
    assert_int_equal(st.ctime, 5003);
    assert_int_equal(st.pzxid, 1);
    assert_int_equal(st.version, 1);
    assert_int_equal(st.ephemeral_owner, S);
    assert_memory_equal(znode_data(e), "E2", 2);
    assert_ptr_equal(tree_session_ephemerals(&t, S)->v[0], e);
    check_consistent(&t);
    z++;

    /* setACL on the container: the containers map follows. */
    old = tree_get(&t, "/c", 2);
    txn_write_set_acl(&b, JSTR_LIT("/c"), &READ_REF, 1, 1);
    assert_int_equal(apply_txn(&t, S, z++, ZOP_SET_ACL, &b), ZOK);
    znode_t *c = tree_get(&t, "/c", 2);
    assert_ptr_equal(c, old); /* nodes never move */
    assert_int_equal(znode_aversion(c), 1);
    assert_int_equal(znode_version(c), 0);
    assert_int_equal(znode_mzxid(c), 2);
    assert_int_equal(znode_acl(&t, c)->list.v[0].perms, ZK_PERM_READ);
    assert_ptr_equal(strmap_get(&t.containers, "/c", 2), c);
    check_consistent(&t);

    /* First child under the TTL node: the ttls map follows; the parent's
     * cversion and pzxid rise. */
    old = tree_get(&t, "/l", 2);
    txn_write_create(&b, JSTR_LIT("/l/x"), JSTR_LIT("x"), &OPEN_REF, 1, false, 1);
    int64_t zc = z++;
    assert_int_equal(apply_txn(&t, S, zc, ZOP_CREATE, &b), ZOK);
    znode_t *l = tree_get(&t, "/l", 2);
    assert_ptr_equal(l, old); /* nodes never move */
    assert_ptr_equal(strmap_get(&t.ttls, "/l", 2), l);
    znode_stat(&t, l, &st);
    assert_int_equal(st.num_children, 1);
    assert_int_equal(st.pzxid, zc);
    assert_int_equal(st.cversion, 1);
    assert_int_equal(znode_cversion(l), 1);
    assert_int_equal(st.mzxid, 3);
    assert_false(znode_is_full(tree_get(&t, "/l/x", 4)));
    check_consistent(&t);

    /* The child's delete: the (full) parent's pzxid rises, cversion 2. */
    txn_write_delete(&b, JSTR_LIT("/l/x"));
    int64_t zd = z++;
    assert_int_equal(apply_txn(&t, S, zd, ZOP_DELETE, &b), ZOK);
    assert_ptr_equal(tree_get(&t, "/l", 2), l);
    znode_stat(&t, l, &st);
    assert_int_equal(st.num_children, 0);
    assert_int_equal(st.pzxid, zd);
    assert_int_equal(st.cversion, 2);
    check_consistent(&t);

    /* A replayed create of an existing child raises its parent's cversion
     * and pzxid (ZOOKEEPER-1269). */
    txn_write_create(&b, JSTR_LIT("/q/k"), JSTR_LIT("k"), &OPEN_REF, 1, false, 1);
    assert_int_equal(apply_txn(&t, S, z++, ZOP_CREATE, &b), ZOK);
    znode_t *q = tree_get(&t, "/q", 2);
    assert_true(znode_is_full(q));
    txn_write_create(&b, JSTR_LIT("/q/k"), JSTR_LIT("k"), &OPEN_REF, 1, false, 5);
    int64_t zr = z++;
    assert_int_equal(apply_txn(&t, S, zr, ZOP_CREATE, &b), ZNODEEXISTS);
    assert_ptr_equal(tree_get(&t, "/q", 2), q);
    assert_int_equal(znode_cversion(q), 5);
    assert_int_equal(znode_pzxid(q), zr);
    check_consistent(&t);

    /* closeSession listing a missing path under the compact /m raises its
     * pzxid: /m gets its Stat block. The session's ephemeral /e is deleted
     * too. */
    old = tree_get(&t, "/m", 2);
    assert_false(znode_is_full(old));
    jw_int(&b, 1);
    jw_jstr(&b, JSTR_LIT("/m/gone"));
    int64_t zs = z++;
    assert_int_equal(apply_txn(&t, S, zs, ZOP_CLOSE_SESSION, &b), ZOK);
    znode_t *m = tree_get(&t, "/m", 2);
    assert_ptr_equal(m, old); /* nodes never move */
    assert_true(znode_is_full(m));
    assert_int_equal(znode_pzxid(m), zs);
    assert_int_equal(znode_mzxid(m), 5);
    assert_int_equal(znode_cversion(m), 0);
    assert_null(tree_get(&t, "/e", 2));
    assert_null(tree_session_ephemerals(&t, S));
    check_consistent(&t);

    /* A delete of a missing path under a compact node does the same. */
    txn_write_create(&b, JSTR_LIT("/n"), JSTR_LIT("n"), &OPEN_REF, 1, false, 9);
    assert_int_equal(apply_txn(&t, S, z++, ZOP_CREATE, &b), ZOK);
    old = tree_get(&t, "/n", 2);
    assert_false(znode_is_full(old));
    txn_write_delete(&b, JSTR_LIT("/n/gone"));
    int64_t zg = z++;
    assert_int_equal(apply_txn(&t, S, zg, ZOP_DELETE, &b), ZNONODE);
    assert_int_equal(znode_pzxid(tree_get(&t, "/n", 2)), zg);
    assert_true(znode_is_full(tree_get(&t, "/n", 2)));
    check_consistent(&t);
    buf_free(&b);
    tree_free(&t);
}

/* ---- random churn against a Stat model ----------------------------------- */

enum { M_TOP = 6, M_MID = 5, M_LEAF = 4 };
#define M_PATHS (1 + M_TOP + M_TOP * M_MID + M_TOP * M_MID * M_LEAF)

typedef struct mnode {
    bool exists;
    int64_t czxid, mzxid, pzxid, ctime, mtime;
    int32_t version, cversion, aversion;
    int64_t owner;
    int32_t nkids;
    int acl; /* 0 open, 1 read */
    char data[16];
    int32_t data_len;
} mnode_t;

typedef struct model {
    mnode_t n[M_PATHS];
    char path[M_PATHS][32];
    int parent[M_PATHS];
    int depth[M_PATHS];
} model_t;

static void model_init(model_t *m)
{
    memset(m, 0, sizeof(*m));
    int k = 0;
    strcpy(m->path[k], "/");
    m->parent[k] = -1;
    m->n[k].exists = true;
    m->n[k].data_len = 0;
    m->n[k].nkids = 1; /* /zookeeper */
    k++;
    for (int a = 0; a < M_TOP; a++) {
        int ia = k++;
        snprintf(m->path[ia], 32, "/a%d", a);
        m->parent[ia] = 0;
        m->depth[ia] = 1;
        for (int b = 0; b < M_MID; b++) {
            int ib = k++;
            snprintf(m->path[ib], 32, "/a%d/b%d", a, b);
            m->parent[ib] = ia;
            m->depth[ib] = 2;
            for (int c = 0; c < M_LEAF; c++) {
                int ic = k++;
                snprintf(m->path[ic], 32, "/a%d/b%d/c%d", a, b, c);
                m->parent[ic] = ib;
                m->depth[ic] = 3;
            }
        }
    }
    assert_int_equal(k, M_PATHS);
}

static bool mnode_pristine(const mnode_t *x)
{
    return x->mzxid == x->czxid && x->pzxid == x->czxid && x->mtime == x->ctime &&
           x->version == 0 && x->cversion == 0 && x->aversion == 0;
}

static void put64(uint8_t *p, int64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)((uint64_t)v >> (56 - 8 * i));
}

static void put32(uint8_t *p, int32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)((uint32_t)v >> (24 - 8 * i));
}

/* ZooKeeper's node digest, from the model alone. */
static uint32_t model_digest(const model_t *m, int i)
{
    const mnode_t *x = &m->n[i];
    uLong crc = crc32(0L, Z_NULL, 0);
    if (i != 0)
        crc = crc32(crc, (const Bytef *)m->path[i], (uInt)strlen(m->path[i]));
    if (x->data_len > 0)
        crc = crc32(crc, (const Bytef *)x->data, (uInt)x->data_len);
    uint8_t b[60];
    put64(b + 0, x->czxid);
    put64(b + 8, x->mzxid);
    put64(b + 16, x->pzxid);
    put64(b + 24, x->ctime);
    put64(b + 32, x->mtime);
    put32(b + 40, x->version);
    put32(b + 44, x->cversion);
    put32(b + 48, x->aversion);
    put64(b + 52, x->owner);
    crc = crc32(crc, b, sizeof b);
    return (uint32_t)crc;
}

static void check_model_node(const tree_t *t, const model_t *m, int i)
{
    const mnode_t *x = &m->n[i];
    const znode_t *n = tree_get(t, m->path[i], strlen(m->path[i]));
    assert_int_equal(n != NULL, x->exists);
    if (!n)
        return;
    zk_stat_t st;
    znode_stat(t, n, &st);
    assert_int_equal(st.czxid, x->czxid);
    assert_int_equal(st.mzxid, x->mzxid);
    assert_int_equal(st.pzxid, x->pzxid);
    assert_int_equal(st.ctime, x->ctime);
    assert_int_equal(st.mtime, x->mtime);
    assert_int_equal(st.version, x->version);
    assert_int_equal(znode_cversion(n), x->cversion);
    assert_int_equal(st.cversion, (int32_t)((uint32_t)x->cversion * 2u - (uint32_t)x->nkids));
    assert_int_equal(st.aversion, x->aversion);
    assert_int_equal(st.num_children, x->nkids);
    assert_int_equal(znode_owner(t, n), x->owner);
    assert_int_equal(n->data_len, x->data_len);
    if (x->data_len > 0)
        assert_memory_equal(znode_data(n), x->data, (size_t)x->data_len);
    assert_int_equal(znode_acl(t, n)->list.v[0].perms, x->acl ? ZK_PERM_READ : ZK_PERM_ALL);
    if (i != 0)
        assert_int_equal(znode_is_full(n), !mnode_pristine(x));
}

static void check_model_all(const tree_t *t, const model_t *m)
{
    uint64_t sum = 0;
    for (int i = 0; i < M_PATHS; i++) {
        check_model_node(t, m, i);
        if (m->n[i].exists)
            sum += model_digest(m, i);
    }
    /* The built-in /zookeeper subtree never changes here. */
    sum += tree_node_digest(t, tree_get(t, "/zookeeper", 10));
    assert_int_equal(tree_digest(t), sum);
    check_consistent(t);
}

static void model_raise_pzxid(model_t *m, int i, int64_t zxid)
{
    int p = m->parent[i];
    if (p >= 0 && m->n[p].exists && zxid > m->n[p].pzxid)
        m->n[p].pzxid = zxid;
}

static void model_delete(model_t *m, int i, int64_t zxid)
{
    model_raise_pzxid(m, i, zxid);
    m->n[m->parent[i]].nkids--;
    memset(&m->n[i], 0, sizeof(m->n[i]));
}

static uint64_t rnd(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* Snapshot write -> read: every Stat and which nodes are compact survive. */
static void check_snapshot_round_trip(const tree_t *t)
{
    tree_t u;
    snapshot_copy(t, &u);
    assert_int_equal(u.node_count, t->node_count);
    size_t pos = 0;
    for (const znode_t *x; (x = tree_next_node(t, &pos));) {
        const znode_t *y = tree_get(&u, znode_path(x), x->path_len);
        assert_non_null(y);
        zk_stat_t a, b;
        memset(&a, 0, sizeof(a)); /* padding */
        memset(&b, 0, sizeof(b));
        znode_stat(t, x, &a);
        znode_stat(&u, y, &b);
        assert_memory_equal(&a, &b, sizeof(a));
        assert_int_equal(znode_cversion(x), znode_cversion(y));
        assert_int_equal(znode_owner(t, x), znode_owner(&u, y));
        assert_int_equal(znode_is_full(x), znode_is_full(y));
        assert_int_equal(tree_node_digest(t, x), tree_node_digest(&u, y));
    }
    assert_int_equal(tree_digest(&u), tree_digest(t));
    check_consistent(&u);
    tree_free(&u);
}

/* Random creates (persistent, ephemeral, container), deletes, setData,
 * setACL, replayed creates, deletes of missing paths and session closes,
 * through txn_apply; every node's Stat is checked against the model and
 * the digest against one computed from the model alone. */
static void test_compact_churn_vs_model(void **state)
{
    (void)state;
    enum { STEPS = 30000 };
    tree_t t;
    tree_init(&t, false);
    model_t *m = malloc(sizeof(*m));
    model_init(m);
    buf_t b;
    buf_init(&b);
    uint64_t x = 0x2545F4914F6CDD1DULL;
    int64_t zxid = 100;
    for (int step = 0; step < STEPS; step++) {
        uint64_t r = rnd(&x);
        int i = 1 + (int)(r % (M_PATHS - 1));
        int p = m->parent[i];
        mnode_t *nd = &m->n[i], *pn = &m->n[p];
        jstr_t path = jstr_from_cstr(m->path[i]);
        int64_t z = ++zxid, time = 5000 + 3 * z;
        int what = (int)((r >> 20) % 100);
        if ((r >> 40) % 400 == 0) {
            /* Close a session: its ephemerals go; one listed path is missing. */
            int64_t sid = 1 + (int64_t)((r >> 8) % 3);
            jw_int(&b, 1);
            jw_jstr(&b, path);
            bool listed_deletable = nd->exists && nd->nkids == 0;
            assert_int_equal(apply_txn(&t, sid, z, ZOP_CLOSE_SESSION, &b), ZOK);
            if (listed_deletable)
                model_delete(m, i, z);
            else if (!nd->exists)
                model_raise_pzxid(m, i, z);
            for (int j = 0; j < M_PATHS; j++)
                if (m->n[j].exists && m->n[j].owner == sid)
                    model_delete(m, j, z);
        } else if (!nd->exists) {
            if (!pn->exists || what < 10) {
                txn_write_delete(&b, path); /* missing: the parent's pzxid rises */
                assert_int_equal(apply_txn(&t, 0, z, ZOP_DELETE, &b), ZNONODE);
                model_raise_pzxid(m, i, z);
                continue;
            }
            int32_t dl = (int32_t)(r >> 50) % 12 - 1; /* -1: null */
            char d[16];
            for (int k = 0; k < 12; k++)
                d[k] = (char)('a' + (r >> (k + 3)) % 26);
            jstr_t data = dl < 0 ? JSTR_NULL : (jstr_t){d, dl};
            int acl = (r >> 9) & 1;
            const zk_acl_ref_t *aref = acl ? &READ_REF : &OPEN_REF;
            int64_t owner = 0;
            int32_t pcv = pn->cversion + 1;
            if (m->depth[i] == 3 && what < 40) {
                owner = 1 + (int64_t)((r >> 12) % 3);
                txn_write_create(&b, path, data, aref, 1, true, pcv);
                assert_int_equal(apply_txn(&t, owner, z, ZOP_CREATE, &b), ZOK);
            } else if (what < 55) {
                owner = ZK_CONTAINER_OWNER;
                txn_write_create_container(&b, path, data, aref, 1, pcv);
                assert_int_equal(apply_txn(&t, 0, z, ZOP_CREATE_CONTAINER, &b), ZOK);
            } else {
                txn_write_create(&b, path, data, aref, 1, false, pcv);
                assert_int_equal(apply_txn(&t, 0, z, ZOP_CREATE, &b), ZOK);
            }
            memset(nd, 0, sizeof(*nd));
            nd->exists = true;
            nd->czxid = nd->mzxid = nd->pzxid = z;
            nd->ctime = nd->mtime = time;
            nd->owner = owner;
            nd->acl = acl;
            nd->data_len = dl;
            if (dl > 0)
                memcpy(nd->data, d, (size_t)dl);
            pn->nkids++;
            pn->cversion = pcv;
            pn->pzxid = z;
        } else if (what < 30) {
            if (nd->nkids > 0)
                continue;
            txn_write_delete(&b, path);
            assert_int_equal(apply_txn(&t, 0, z, ZOP_DELETE, &b), ZOK);
            model_delete(m, i, z);
        } else if (what < 60) {
            int32_t dl = (int32_t)(r >> 50) % 16;
            char d[16];
            memset(d, 'A' + (int)(r % 26), sizeof(d));
            txn_write_set_data(&b, path, (jstr_t){d, dl}, nd->version + 1);
            assert_int_equal(apply_txn(&t, 0, z, ZOP_SET_DATA, &b), ZOK);
            nd->version++;
            nd->mzxid = z;
            nd->mtime = time;
            nd->data_len = dl;
            memcpy(nd->data, d, (size_t)dl);
        } else if (what < 80) {
            int acl = (r >> 9) & 1;
            txn_write_set_acl(&b, path, acl ? &READ_REF : &OPEN_REF, 1, nd->aversion + 1);
            assert_int_equal(apply_txn(&t, 0, z, ZOP_SET_ACL, &b), ZOK);
            nd->aversion++;
            nd->acl = acl;
        } else if (what < 90) {
            /* A replayed create of an existing node: the parent's cversion
             * and pzxid rise when the txn's cversion is higher. */
            int32_t pcv = pn->cversion + (int32_t)((r >> 30) % 3) - 1;
            txn_write_create(&b, path, JSTR_LIT("r"), &OPEN_REF, 1, false, pcv);
            assert_int_equal(apply_txn(&t, 0, z, ZOP_CREATE, &b), ZNODEEXISTS);
            if (pcv > pn->cversion) {
                pn->cversion = pcv;
                pn->pzxid = z;
            }
        } else {
            check_model_node(&t, m, i); /* a read */
            continue;
        }
        check_model_node(&t, m, i);
        check_model_node(&t, m, p);
        if (step % 1000 == 0)
            check_model_all(&t, m);
    }
    check_model_all(&t, m);
    uint64_t compact = 0;
    size_t pos = 0;
    for (const znode_t *n; (n = tree_next_node(&t, &pos));)
        compact += !znode_is_full(n);
    assert_true(compact > 0); /* both layouts present */
    assert_true(compact < t.node_count);
    check_snapshot_round_trip(&t);
    buf_free(&b);
    free(m);
    tree_free(&t);
}

/* A hand-built mix across a snapshot round trip: pristine leaves (of every
 * owner kind) load compact, changed nodes and parents load full. */
static void test_compact_snapshot_round_trip(void **state)
{
    (void)state;
    tree_t t;
    tree_init(&t, true);
    buf_t b;
    buf_init(&b);
    txn_write_create(&b, JSTR_LIT("/a"), JSTR_LIT("a"), &OPEN_REF, 1, false, 1);
    assert_int_equal(apply_txn(&t, 0, 2, ZOP_CREATE, &b), ZOK);
    txn_write_create(&b, JSTR_LIT("/a/leaf"), JSTR_LIT("l"), &READ_REF, 1, false, 1);
    assert_int_equal(apply_txn(&t, 0, 3, ZOP_CREATE, &b), ZOK);
    txn_write_create(&b, JSTR_LIT("/a/eph"), JSTR_NULL, &OPEN_REF, 1, true, 2);
    assert_int_equal(apply_txn(&t, 0x99, 4, ZOP_CREATE, &b), ZOK);
    txn_write_create_container(&b, JSTR_LIT("/box"), JSTR_LIT(""), &OPEN_REF, 1, 2);
    assert_int_equal(apply_txn(&t, 0, 5, ZOP_CREATE_CONTAINER, &b), ZOK);
    txn_write_create_ttl(&b, JSTR_LIT("/ttl"), JSTR_LIT("t"), &OPEN_REF, 1, 3, 1000);
    assert_int_equal(apply_txn(&t, 0, 6, ZOP_CREATE_TTL, &b), ZOK);
    txn_write_create(&b, JSTR_LIT("/set"), JSTR_LIT("s"), &OPEN_REF, 1, false, 4);
    assert_int_equal(apply_txn(&t, 0, 7, ZOP_CREATE, &b), ZOK);
    txn_write_set_data(&b, JSTR_LIT("/set"), JSTR_LIT("s2"), 1);
    assert_int_equal(apply_txn(&t, 0, 8, ZOP_SET_DATA, &b), ZOK);
    char big[300];
    memset(big, 'h', sizeof(big));
    txn_write_create(&b, JSTR_LIT("/heap"), (jstr_t){big, 10}, &OPEN_REF, 1, false, 5);
    assert_int_equal(apply_txn(&t, 0, 9, ZOP_CREATE, &b), ZOK);
    txn_write_set_data(&b, JSTR_LIT("/heap"), (jstr_t){big, 300}, 1); /* to the heap, Stat block */
    assert_int_equal(apply_txn(&t, 0, 10, ZOP_SET_DATA, &b), ZOK);
    assert_true(tree_get(&t, "/heap", 5)->data_on_heap);
    assert_memory_equal(znode_data(tree_get(&t, "/heap", 5)), big, 300);
    const char *compact[] = {"/a/leaf", "/a/eph", "/box", "/ttl", "/zookeeper/quota"};
    const char *full[] = {"/", "/a", "/set", "/heap", "/zookeeper", "/zookeeper/config"};
    for (size_t i = 0; i < sizeof(compact) / sizeof(*compact); i++)
        assert_false(znode_is_full(tree_get(&t, compact[i], strlen(compact[i]))));
    for (size_t i = 0; i < sizeof(full) / sizeof(*full); i++)
        assert_true(znode_is_full(tree_get(&t, full[i], strlen(full[i]))));
    check_consistent(&t);
    check_snapshot_round_trip(&t);
    buf_free(&b);
    tree_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slab_sizes_and_reuse),
        cmocka_unit_test(test_slab_prefault),
        cmocka_unit_test(test_big_calloc_zeroed),
        cmocka_unit_test(test_buf_nofork),
        cmocka_unit_test(test_nodemap_churn_matches_model),
        cmocka_unit_test(test_empty_acl_interned),
        cmocka_unit_test(test_header_size),
        cmocka_unit_test(test_data_inline_heap_and_null),
        cmocka_unit_test(test_data_min_room),
        cmocka_unit_test(test_parent_by_path),
        cmocka_unit_test(test_owner_side_table),
        cmocka_unit_test(test_owners_snapshot_round_trip),
        cmocka_unit_test(test_kids_first_and_last),
        cmocka_unit_test(test_kids_random_vs_model),
        cmocka_unit_test(test_acl_ids_reused),
        cmocka_unit_test(test_acl_snapshot_round_trip),
        cmocka_unit_test(test_compact_through_reads),
        cmocka_unit_test(test_stat_block_by_each_mutation),
        cmocka_unit_test(test_compact_churn_vs_model),
        cmocka_unit_test(test_compact_snapshot_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
