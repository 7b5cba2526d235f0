/* test_arena: the slab's arena mode and what the tree builds on it — one
 * aligned reservation holding every object (large ones too), 32-bit
 * references and their round trip from any anchor, page holes reused first
 * fit and merged, the fallback to a shorter reservation under a limit on
 * address space, a fatal full arena, objects seen unchanged by a fork()ed
 * child, prefaulting, AddressSanitizer poisoning and the never-freed check,
 * and tree nodes with a path longer than the slab's size classes or data
 * that starts on the heap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/slab.h"
#include "tree/tree.h"

#if defined(__SANITIZE_ADDRESS__)
#define ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN 1
#endif
#endif
#ifdef ASAN
#include <sanitizer/asan_interface.h>
#endif

static void check_in_arena(const slab_t *s, const void *p)
{
    assert_ptr_equal(slab_arena_of(p), s->base);
    slab_ref_t r = slab_ref(p);
    assert_true(r != 0);
    assert_ptr_equal(slab_at(p, r), p);
    assert_ptr_equal(slab_at_base(s->base, r), p);
}

static void test_arena_reservation(void **state)
{
    (void)state;
    slab_t s;
    slab_init_arena(&s);
    assert_non_null(s.base);
    assert_int_equal((uintptr_t)s.base % SLAB_ARENA_ALIGN, 0);
    assert_int_equal(s.arena_bytes, SLAB_ARENA_ALIGN); /* no limit here */
    assert_int_equal(slab_ref(NULL), 0);
    assert_null(slab_at(s.base, 0));
    void *first = slab_alloc(&s, 8);
    check_in_arena(&s, first); /* offset 0 is never handed out */
    slab_free(&s, first, 8);
    slab_destroy(&s);
}

static size_t obj_size(int i)
{
    return i % 1000 == 999 ? 70000 + (size_t)i            /* a few of many pages */
                           : 1 + (size_t)(i * 37) % 1500; /* some above SLAB_MAX_OBJECT */
}

/* Object i holds its own number in every byte. */
static void check_filled(uint8_t **p, int from, int to, int step)
{
    for (int i = from; i < to; i += step)
        for (size_t j = 0; j < obj_size(i); j++)
            if (p[i][j] != (uint8_t)i)
                fail_msg("object %d byte %zu overwritten", i, j);
}

/* Small and large objects, freed and reused, all inside the arena. */
static void test_arena_sizes_and_reuse(void **state)
{
    (void)state;
    slab_t s;
    slab_init_arena(&s);
    enum { N = 20000 };
    uint8_t **p = calloc(N, sizeof(*p));
    for (int round = 0; round < 2; round++) {
        /* The second round refills the even ones, into what they left. */
        for (int i = 0; i < N; i += 1 + round) {
            p[i] = slab_alloc(&s, obj_size(i));
            check_in_arena(&s, p[i]);
            memset(p[i], i & 0xFF, obj_size(i));
        }
        check_filled(p, 0, N, 1);
        for (int i = 0; i < N; i += 2)
            slab_free(&s, p[i], obj_size(i));
        check_filled(p, 1, N, 2);
    }
    assert_int_equal(s.live, N / 2);
    for (int i = 1; i < N; i += 2)
        slab_free(&s, p[i], obj_size(i));
    assert_int_equal(s.live, 0);
    slab_destroy(&s);
    free(p);
}

/* Freed large objects leave page holes that merge with their neighbours
 * and are reused first fit, without taking more of the arena. */
static void test_arena_large_holes(void **state)
{
    (void)state;
    slab_t s;
    slab_init_arena(&s);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uint8_t *a = slab_alloc(&s, 2 * page);
    uint8_t *b = slab_alloc(&s, 3 * page);
    uint8_t *c = slab_alloc(&s, page + 1); /* two pages */
    uint8_t *d = slab_alloc(&s, SLAB_MAX_OBJECT + 8);
    size_t low = s.low;
    assert_ptr_equal(b + 3 * page, a); /* from the end down */
    slab_free(&s, b, 3 * page);
    assert_int_equal(s.nholes, 1);
    slab_free(&s, a, 2 * page); /* merges with b's hole */
    assert_int_equal(s.nholes, 1);
    assert_int_equal(s.holes[0].pages, 5);
    slab_free(&s, d, SLAB_MAX_OBJECT + 8);
    assert_int_equal(s.nholes, 2);
    uint8_t *e = slab_alloc(&s, 4 * page); /* first fit: d's page is too small */
    assert_ptr_equal(e, b);
    assert_int_equal(e[0], 0); /* pages given back read as zeros */
    uint8_t *f = slab_alloc(&s, 10);
    uint8_t *g = slab_alloc(&s, page); /* d's page (lowest hole first) */
    assert_ptr_equal(g, d);
    uint8_t *h = slab_alloc(&s, page); /* what is left of b's hole */
    assert_ptr_equal(h, b + 4 * page);
    assert_int_equal(s.nholes, 0);
    assert_int_equal(s.low, low);
    slab_free(&s, c, page + 1);
    slab_free(&s, e, 4 * page);
    slab_free(&s, f, 10);
    slab_free(&s, g, page);
    slab_free(&s, h, page);
    assert_int_equal(s.nholes, 1); /* all merged */
    slab_destroy(&s);
}

/* Run fn in a child (its stderr into `err`, NUL-terminated); returns its
 * wait status. */
static int in_child(void (*fn)(void), char *err, size_t cap)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGABRT, SIG_DFL); /* not cmocka's handler: die */
        dup2(fds[1], 2);
        close(fds[0]);
        fn();
        _exit(0);
    }
    close(fds[1]);
    size_t got = 0;
    for (ssize_t r; got + 1 < cap && (r = read(fds[0], err + got, cap - 1 - got)) > 0;)
        got += (size_t)r;
    err[got] = '\0';
    close(fds[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return st;
}

#ifndef ASAN /* the sanitizer needs unlimited address space and a small arena */
static size_t vm_size_now(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    size_t pages = 0;
    if (f) {
        if (fscanf(f, "%zu", &pages) != 1)
            pages = 0;
        fclose(f);
    }
    return pages * (size_t)sysconf(_SC_PAGESIZE);
}

static void limit_address_space(size_t more)
{
    struct rlimit r = {vm_size_now() + more, vm_size_now() + more};
    if (setrlimit(RLIMIT_AS, &r) != 0)
        _exit(3);
}

/* Under ulimit -v: a shorter reservation, still 32-GiB aligned. */
static void shorter_arena(void)
{
    limit_address_space((size_t)6 << 30);
    slab_t s;
    slab_init_arena(&s);
    if ((uintptr_t)s.base % SLAB_ARENA_ALIGN != 0)
        _exit(4);
    if (s.arena_bytes >= SLAB_ARENA_ALIGN || s.arena_bytes < SLAB_ARENA_MIN)
        _exit(5);
    void *p[1000];
    for (int i = 0; i < 1000; i++) {
        p[i] = slab_alloc(&s, 100 + (size_t)i * 8);
        if (slab_arena_of(p[i]) != s.base || slab_at(s.base, slab_ref(p[i])) != p[i])
            _exit(6);
    }
    void *big = slab_alloc(&s, 100000);
    if (slab_arena_of(big) != s.base)
        _exit(7);
    slab_free(&s, big, 100000);
    for (int i = 0; i < 1000; i++)
        slab_free(&s, p[i], 100 + (size_t)i * 8);
    slab_destroy(&s);
}

/* Not even SLAB_ARENA_MIN: fatal. */
static void no_arena(void)
{
    limit_address_space((size_t)256 << 20);
    slab_t s;
    slab_init_arena(&s);
    _exit(0);
}

#endif

static void test_arena_under_address_limit(void **state)
{
    (void)state;
#ifdef ASAN
    skip(); /* the sanitizer's shadow needs unlimited address space */
#else
    char err[512];
    int st = in_child(shorter_arena, err, sizeof(err));
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    st = in_child(no_arena, err, sizeof(err));
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGABRT);
    assert_non_null(strstr(err, "cannot reserve 1073741824 bytes of address space"));
    assert_non_null(strstr(err, "annot allocate memory")); /* strerror(ENOMEM) */
#endif
}

#ifndef ASAN
/* Large objects that are never touched fill the arena without memory. */
static void fill_arena(void)
{
    slab_t s;
    slab_init_arena(&s);
    for (int i = 0; i < 8; i++)
        slab_alloc(&s, (size_t)6 << 30);
    _exit(0);
}

#endif

static void test_arena_full_is_fatal(void **state)
{
    (void)state;
#ifdef ASAN
    skip(); /* poisoning 32 GiB would write 4 GiB of shadow */
#else
    char err[512];
    int st = in_child(fill_arena, err, sizeof(err));
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGABRT);
    /* Under strict overcommit the mapping itself may fail first. */
    assert_true(strstr(err, "the node arena is full") || strstr(err, "out of memory mapping"));
#endif
}

static slab_t fork_slab;
static uint64_t *fork_obj[100];

static void read_after_fork(void)
{
    for (int i = 0; i < 100; i++) {
        uint64_t *o = slab_at(fork_obj[0], slab_ref(fork_obj[i]));
        if (o != fork_obj[i] || o[0] != (uint64_t)i * 3 || o[20] != (uint64_t)i)
            _exit(1);
    }
    _exit(0);
}

/* A fork()ed child (a snapshot writer) sees every object where it was. */
static void test_arena_fork(void **state)
{
    (void)state;
    slab_init_arena(&fork_slab);
    for (int i = 0; i < 100; i++) {
        size_t size = i % 10 == 0 ? 5000 : 168;
        fork_obj[i] = slab_alloc(&fork_slab, size);
        fork_obj[i][0] = (uint64_t)i * 3;
        fork_obj[i][20] = (uint64_t)i;
    }
    char err[512];
    int st = in_child(read_after_fork, err, sizeof(err));
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    for (int i = 0; i < 100; i++)
        slab_free(&fork_slab, fork_obj[i], i % 10 == 0 ? 5000 : 168);
    slab_destroy(&fork_slab);
}

/* Chunks mapped ahead come from the arena too. */
static void test_arena_prefault(void **state)
{
    (void)state;
    slab_t s;
    slab_init_arena(&s);
    slab_prefault_start(&s, (size_t)9 << 20);
    assert_int_equal(s.spare_chunks, 4); /* whole chunks, at the arena's start */
    assert_ptr_equal(s.spare, s.base);
    assert_int_equal(s.top, (size_t)4 * SLAB_CHUNK_BYTES);
    enum { N = 40000 }; /* 9.6 MB: the four spare chunks, then one more */
    uint64_t *last = NULL;
    for (int i = 0; i < N; i++) {
        uint64_t *o = slab_alloc(&s, 240);
        check_in_arena(&s, o);
        o[0] = (uint64_t)(uintptr_t)last; /* a chain through every object */
        last = o;
    }
    slab_prefault_wait(&s);
    assert_int_equal(s.spare_chunks, 0);
    assert_int_equal(s.top, (size_t)5 * SLAB_CHUNK_BYTES);
    for (int i = N; i > 0; i--) {
        uint64_t *prev = (uint64_t *)(uintptr_t)last[0];
        slab_free(&s, last, 240);
        last = prev;
    }
    assert_null(last);
    slab_prefault_start(&s, (size_t)4 << 20); /* left running: destroy joins it */
    slab_destroy(&s);
}

#ifdef ASAN
static void leak_one(void)
{
    slab_t s;
    slab_init_arena(&s);
    slab_alloc(&s, 64);
    slab_destroy(&s); /* aborts */
    _exit(0);
}
#endif

/* Under AddressSanitizer: free objects and unused space are poisoned, and
 * an object never freed stops slab_destroy. */
static void test_arena_asan(void **state)
{
    (void)state;
#ifndef ASAN
    skip();
#else
    slab_t s;
    slab_init_arena(&s);
    uint8_t *a = slab_alloc(&s, 100);
    assert_false(__asan_region_is_poisoned(a, 104));
    assert_true(__asan_address_is_poisoned(a + 104)); /* not yet handed out */
    uint8_t *big = slab_alloc(&s, 5000);
    assert_false(__asan_region_is_poisoned(big, 5000));
    assert_true(__asan_address_is_poisoned(big + 5000)); /* the page's rest */
    slab_free(&s, a, 100);
    for (int i = 0; i < 104; i++)
        assert_true(__asan_address_is_poisoned(a + i));
    slab_free(&s, big, 5000);
    assert_true(__asan_address_is_poisoned(big));
    assert_ptr_equal(slab_alloc(&s, 100), a); /* reused, unpoisoned */
    assert_false(__asan_region_is_poisoned(a, 104));
    slab_free(&s, a, 100);
    slab_destroy(&s);
    char err[512];
    int st = in_child(leak_one, err, sizeof(err));
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGABRT);
    assert_non_null(strstr(err, "1 objects of an arena never freed"));
#endif
}

/* A path longer than the slab's size classes: the node is a large arena
 * object; the children arrays, the index and the walk still reach it. */
static void test_tree_long_path_and_big_data(void **state)
{
    (void)state;
    tree_t t;
    tree_init(&t, false);
    assert_int_equal(offsetof(znode_t, path), 40);
    enum { LONG = 3000 };
    char *path = malloc(LONG + 1);
    path[0] = '/';
    memset(path + 1, 'p', LONG - 1);
    path[LONG] = '\0';
    znode_t *n = tree_add(&t, t.root, path, LONG, "tiny", 4, &t.open_acl, 0, 1, 1);
    assert_non_null(n);
    check_in_arena(&t.node_mem, n);
    assert_false(n->data_on_heap); /* a pointer's room holds 4 bytes */
    assert_ptr_equal(tree_get(&t, path, LONG), n);
    assert_int_equal(znode_name_len(n), LONG - 1);
    tree_set_data(&t, n, path, 100); /* longer than the room: the heap */
    assert_true(n->data_on_heap);
    assert_memory_equal(znode_data(n), path, 100);
    path[LONG - 1] = 'q';
    znode_t *m = tree_add(&t, t.root, path, LONG, path, 600, &t.open_acl, 0, 2, 2);
    assert_true(m->data_on_heap); /* would not fit SLAB_MAX_OBJECT */
    assert_memory_equal(znode_data(m), path, 600);
    /* Big data under a short path: the node stays in a size class. */
    char *big = malloc(5000);
    memset(big, 'b', 5000);
    znode_t *b = tree_add(&t, t.root, "/big", 4, big, 5000, &t.open_acl, 0, 3, 3);
    assert_true(b->data_on_heap);
    assert_true(ZNODE_HEADER_BYTES + 5 + b->inline_cap <= 56); /* a pointer's room */
    assert_memory_equal(znode_data(b), big, 5000);
    znode_t *fit = tree_add(&t, t.root, "/fit", 4, big, 900, &t.open_acl, 0, 4, 4);
    assert_false(fit->data_on_heap);
    znode_t *nofit = tree_add(&t, t.root, "/nofit", 6, big, 980, &t.open_acl, 0, 5, 5);
    assert_true(nofit->data_on_heap); /* 40 + 7 + 980 > SLAB_MAX_OBJECT */
    uint32_t found = 0;
    for (uint32_t i = 0; i < znode_nkids(&t, t.root); i++) {
        const znode_t *k = znode_kid(&t, t.root, i);
        found += k == n || k == m || k == b;
        assert_ptr_equal(k, znode_kids_at(t.root, znode_kids(&t, t.root), i));
    }
    assert_int_equal(found, 3);
    assert_int_equal(tree_count_descendants(&t, t.root), 3 + 5);
    tree_remove(&t, n);
    path[LONG - 1] = 'p';
    assert_null(tree_get(&t, path, LONG));
    tree_free(&t); /* m, b, fit, nofit freed with it (the ASan check) */
    free(path);
    free(big);
}

/* Names come from the path now: every shape of path. */
static void test_names(void **state)
{
    (void)state;
    tree_t t;
    tree_init(&t, false);
    assert_string_equal(znode_name(t.root), "");
    assert_int_equal(znode_name_len(t.root), 0);
    znode_t *a = tree_add(&t, t.root, "/a", 2, NULL, -1, &t.open_acl, 0, 1, 1);
    znode_t *ab = tree_add(&t, a, "/a/bcd", 6, NULL, -1, &t.open_acl, 0, 2, 2);
    assert_string_equal(znode_name(a), "a");
    assert_int_equal(znode_name_len(a), 1);
    assert_string_equal(znode_name(ab), "bcd");
    assert_int_equal(znode_name_len(ab), 3);
    assert_string_equal(znode_name(tree_get(&t, "/zookeeper/quota", 16)), "quota");
    /* Names of ZNODE_NAME_LONG bytes or more are found in the path. */
    size_t lens[] = {ZNODE_NAME_LONG - 1, ZNODE_NAME_LONG, ZNODE_NAME_LONG + 5};
    for (size_t i = 0; i < 3; i++) {
        size_t len = 3 + lens[i];
        char *p = malloc(len + 1);
        memcpy(p, "/a/", 3);
        memset(p + 3, 'n', lens[i]);
        p[len - 1] = (char)('0' + i);
        p[len] = '\0';
        znode_t *n = tree_add(&t, a, p, len, "d", 1, &t.open_acl, 0, 3, 3);
        check_in_arena(&t.node_mem, n);
        assert_ptr_equal(znode_name(n), znode_path(n) + 3);
        assert_int_equal(znode_name_len(n), lens[i]);
        assert_memory_equal(znode_data(n), "d", 1);
        free(p);
    }
    tree_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arena_reservation),
        cmocka_unit_test(test_arena_sizes_and_reuse),
        cmocka_unit_test(test_arena_large_holes),
        cmocka_unit_test(test_arena_under_address_limit),
        cmocka_unit_test(test_arena_full_is_fatal),
        cmocka_unit_test(test_arena_fork),
        cmocka_unit_test(test_arena_prefault),
        cmocka_unit_test(test_arena_asan),
        cmocka_unit_test(test_tree_long_path_and_big_data),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
