/* test_tree_mem: the memory layers — the slab allocator, no-fork buffers,
 * the tagged path index (nodemap) under random create/delete churn checked
 * against a plain model, the node header's size, node data moving between
 * inline room and the heap, parents found by path, the side tables of
 * ephemeral owners and of child arrays, and the reusable ACL ids. */
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

#include "base/slab.h"
#include "store/snapshot.h"
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
        assert_ptr_equal(tree_get(&t, n->path, n->path_len), n);
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
    /* 76 bytes precede the path; sizeof rounds up to the 8-byte alignment
     * of the int64 fields, but nodes are sized from offsetof. */
    assert_int_equal(offsetof(znode_t, path), 76);
    assert_int_equal(sizeof(znode_t), 80);
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
    assert_ptr_equal(room, (const uint8_t *)n->path + 3);
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
    assert_memory_equal(n->path, "/d", 3); /* the pointer went after the path */
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
        assert_string_equal(n->path, n == z ? "/null" : "/empty");
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
    znode_t *a = tree_add(&t, t.root, "/a", 2, NULL, -1, open_acl(&t), 0, 1, 1);
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
    int fd = memfd_create("snap", 0);
    assert_true(fd >= 0);
    store_err_t err;
    assert_int_equal(snapshot_write_fd(fd, &t, NULL, 0, NULL, STORE_PLAIN, NULL, &err), 0);
    off_t len = lseek(fd, 0, SEEK_END);
    uint8_t *bytes = malloc((size_t)len);
    assert_int_equal(pread(fd, bytes, (size_t)len, 0), len);
    close(fd);
    tree_t u;
    snapshot_info_t info;
    assert_int_equal(snapshot_read_mem(bytes, (size_t)len, "mem", true, NULL, &u, &info, &err), 0);
    free(bytes);
    snapshot_info_free(&info);
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
    assert_int_equal(st.cversion, (int32_t)((uint32_t)n->cversion * 2u - want));
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
    for (int round = 0; round < 3; round++) {
        znode_t *c = tree_add(&t, a, "/a/c", 4, "x", 1, open_acl(&t), 0, 2, 2);
        a->cversion++;
        assert_int_equal(t.kids.used, base + 1);
        check_stat_kids(&t, a, 1);
        assert_ptr_equal(znode_kid(&t, a, 0), c);
        check_stat_kids(&t, c, 0);
        tree_remove(&t, c);
        a->cversion++;
        assert_int_equal(t.kids.used, base);
        check_stat_kids(&t, a, 0);
    }
    /* A chain: each level gains, then loses, its only child. */
    char path[64] = "/a";
    size_t len = 2;
    znode_t *chain[8];
    for (int i = 0; i < 8; i++) {
        len += (size_t)snprintf(path + len, sizeof(path) - len, "/%d", i);
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
        par[p] = tree_add(&t, t.root, path, (size_t)len, NULL, -1, open_acl(&t), 0, 1, 1);
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
                    par[p]->cversion++;
                }
            count[p] = 0;
        } else if (present[p][k]) {
            tree_remove(&t, tree_get(&t, path, (size_t)len));
            present[p][k] = 0;
            count[p]--;
            par[p]->cversion++;
        } else {
            assert_non_null(
                tree_add(&t, par[p], path, (size_t)len, "d", 1, open_acl(&t), 0, step, step));
            present[p][k] = 1;
            count[p]++;
            par[p]->cversion++;
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
                assert_int_equal(kids->v[i]->slot_in_parent, i);
                assert_ptr_equal(tree_parent(&t, kids->v[i]), par[q]);
                got[i] = znode_name(kids->v[i]);
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
    int fd = memfd_create("snap", 0);
    assert_true(fd >= 0);
    store_err_t err;
    assert_int_equal(snapshot_write_fd(fd, &t, NULL, 0, NULL, STORE_PLAIN, NULL, &err), 0);
    off_t len = lseek(fd, 0, SEEK_END);
    uint8_t *bytes = malloc((size_t)len);
    assert_int_equal(pread(fd, bytes, (size_t)len, 0), len);
    close(fd);
    tree_t u;
    snapshot_info_t info;
    assert_int_equal(snapshot_read_mem(bytes, (size_t)len, "mem", true, NULL, &u, &info, &err), 0);
    free(bytes);
    snapshot_info_free(&info);
    size_t pos = 0;
    uint64_t seen = 0;
    for (const znode_t *x; (x = tree_next_node(&t, &pos));) {
        const znode_t *y = tree_get(&u, x->path, x->path_len);
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
