/* test_tree_mem: the memory layers — the slab allocator, no-fork buffers,
 * the tagged path index (nodemap) under random create/delete churn checked
 * against a plain model, and node data moving between inline room and the
 * heap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/slab.h"
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
            if (znode_nkids(n) > 0)
                continue;
            assert_int_equal(n->data_len, len);
            assert_memory_equal(n->data, path, (size_t)len);
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
    assert_ptr_equal(n->acl, a);
    tree_acl_unref(&t, a);
    tree_acl_unref(&t, b);
    assert_int_equal(a->refs, 1); /* the node's */
    tree_free(&t);
}

static void test_data_inline_heap_and_null(void **state)
{
    (void)state;
    tree_t t;
    tree_init(&t, false);
    znode_t *n = tree_add(&t, t.root, "/d", 2, "abcdef", 6, open_acl(&t), 0, 1, 1);
    const uint8_t *room = n->data;
    assert_memory_equal(n->data, "abcdef", 6);
    tree_set_data(&t, n, "xyz", 3); /* fits the room made at creation */
    assert_ptr_equal(n->data, room);
    assert_int_equal(n->data_len, 3);
    assert_memory_equal(n->data, "xyz", 3);
    char big[300];
    memset(big, 'q', sizeof(big));
    tree_set_data(&t, n, big, (int32_t)sizeof(big)); /* too big: a heap copy */
    assert_ptr_not_equal(n->data, room);
    assert_memory_equal(n->data, big, sizeof(big));
    tree_set_data(&t, n, n->data + 10, 5); /* from its own heap bytes, back inline */
    assert_int_equal(n->data_len, 5);
    assert_memory_equal(n->data, big, 5);
    assert_ptr_equal(n->data, room);
    tree_set_data(&t, n, NULL, -1);
    assert_null(n->data);
    assert_int_equal(n->data_len, -1);
    tree_set_data(&t, n, "", 0);
    assert_non_null(n->data);
    assert_int_equal(n->data_len, 0);
    zk_stat_t st;
    znode_stat(&t, n, &st);
    assert_int_equal(st.data_length, 0);
    assert_int_equal(t.data_bytes, 44 + 2);
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
        cmocka_unit_test(test_data_inline_heap_and_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
