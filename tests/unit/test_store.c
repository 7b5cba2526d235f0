/* test_store: the ZooKeeper-format txn log, snapshots, recovery, purge and
 * epoch files (src/store), plus the tree digest (src/tree/digest.c).
 * Reference bytes come from Apache ZooKeeper 3.8.0 (a fresh snapshot.0) and
 * the protocol reference §13-§14. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "proto/zk.h"
#include "store/recover.h"
#include "store/snapshot.h"
#include "store/store.h"
#include "store/txnlog.h"
#include "tree/digest.h"
#include "tree/tree.h"
#include "tree/tree_load.h"
#include "txn/txn.h"

#include "snapshot_sink.h"

/* ---- helpers ------------------------------------------------------------------------ */

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

typedef struct tmpdir {
    char base[256];
    char v2[300];
} tmpdir_t;

static void tmp_make(tmpdir_t *d)
{
    snprintf(d->base, sizeof(d->base), "/tmp/corral-test-store-XXXXXX");
    assert_non_null(mkdtemp(d->base));
    snprintf(d->v2, sizeof(d->v2), "%s/version-2", d->base);
    assert_int_equal(mkdir(d->v2, 0755), 0);
}

static void tmp_remove(tmpdir_t *d)
{
    nftw(d->base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void read_file(const char *path, buf_t *out)
{
    buf_init(out);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        buf_append(out, tmp, n);
    fclose(f);
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (n)
        assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

static size_t hex_decode(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    for (; hex[0] && hex[1]; hex += 2) {
        unsigned v;
        assert_int_equal(sscanf(hex, "%2x", &v), 1);
        assert_true(n < cap);
        out[n++] = (uint8_t)v;
    }
    return n;
}

/* A txn applied to a tree, as a server would (with its digest). */
typedef struct world {
    tree_t tree;
    int64_t zxid;
    int64_t time_ms;
} world_t;

static void world_init(world_t *w)
{
    tree_init(&w->tree, true);
    w->zxid = 0;
    w->time_ms = 1700000000000;
}

static txn_header_t next_header(world_t *w, int64_t session, int32_t type)
{
    txn_header_t h = {session, 7, ++w->zxid, w->time_ms += 1000, type};
    return h;
}

static void apply_body(world_t *w, const txn_header_t *h, buf_t *body)
{
    assert_true(txn_apply(&w->tree, NULL, h, body->data, body->len, NULL));
}

static const zk_acl_ref_t OPEN[] = {{ZK_PERM_ALL, JSTR_LIT("world"), JSTR_LIT("anyone")}};
static const zk_acl_ref_t MIXED[] = {
    {ZK_PERM_ALL, JSTR_LIT("digest"), JSTR_LIT("user:smGaoVKd/cQkjm7b88GyorAUz20=")},
    {ZK_PERM_READ, JSTR_LIT("world"), JSTR_LIT("anyone")},
    {ZK_PERM_READ | ZK_PERM_WRITE, JSTR_LIT("ip"), JSTR_LIT("127.0.0.1")},
};

/* Build a varied tree and, if log is not NULL, log every txn (with digest
 * after apply, as ZooKeeper 3.8 does). */
static void build_tree(world_t *w, txnlog_writer_t *log)
{
    struct op {
        int32_t type;
        int64_t session;
    };
    buf_t b;
    buf_init(&b);
    const int64_t S1 = 0x1000001234560001LL, S2 = 0x1000001234560002LL;
#define STEP(sess, type, ...)                                                                      \
    do {                                                                                           \
        buf_reset(&b);                                                                             \
        __VA_ARGS__;                                                                               \
        txn_header_t h = next_header(w, (sess), (type));                                           \
        apply_body(w, &h, &b);                                                                     \
        if (log) {                                                                                 \
            store_err_t e;                                                                         \
            txn_digest_t d = {TREE_DIGEST_VERSION, (int64_t)tree_digest(&w->tree)};                \
            assert_int_equal(                                                                      \
                txnlog_append(log, &h, b.data, b.len, (type) == ZOP_ERROR ? NULL : &d, &e), 0);    \
        }                                                                                          \
    } while (0)
    STEP(S1, ZOP_CREATE_SESSION, txn_write_create_session(&b, 30000));
    STEP(S2, ZOP_CREATE_SESSION, txn_write_create_session(&b, 10000));
    STEP(S1, ZOP_CREATE,
         txn_write_create(&b, JSTR_LIT("/app"), JSTR_LIT("hello"), OPEN, 1, false, 1));
    STEP(S1, ZOP_CREATE, txn_write_create(&b, JSTR_LIT("/app/null"), JSTR_NULL, OPEN, 1, false, 1));
    STEP(S1, ZOP_CREATE2,
         txn_write_create(&b, JSTR_LIT("/app/empty"), JSTR_LIT(""), MIXED, 3, false, 2));
    STEP(S1, ZOP_CREATE,
         txn_write_create(&b, JSTR_LIT("/app/eph"), JSTR_LIT("e1"), OPEN, 1, true, 3));
    STEP(S2, ZOP_CREATE,
         txn_write_create(&b, JSTR_LIT("/app/seq-0000000004"), JSTR_LIT("s"), OPEN, 1, true, 4));
    STEP(S1, ZOP_CREATE_CONTAINER,
         txn_write_create_container(&b, JSTR_LIT("/box"), JSTR_LIT("c"), OPEN, 1, 2));
    STEP(S1, ZOP_CREATE,
         txn_write_create(&b, JSTR_LIT("/box/item"), JSTR_LIT("i"), OPEN, 1, false, 1));
    STEP(S1, ZOP_CREATE_TTL,
         txn_write_create_ttl(&b, JSTR_LIT("/ttl"), JSTR_LIT("t"), MIXED, 2, 3, 60000));
    STEP(S1, ZOP_SET_DATA, txn_write_set_data(&b, JSTR_LIT("/app"), JSTR_LIT("world!"), 1));
    STEP(S1, ZOP_SET_ACL, txn_write_set_acl(&b, JSTR_LIT("/app/null"), MIXED, 1, 1));
    STEP(S1, ZOP_ERROR, txn_write_error(&b, ZNONODE));
    {
        /* multi: create /m, setData /m */
        buf_t s1, s2;
        buf_init(&s1);
        buf_init(&s2);
        txn_write_create(&s1, JSTR_LIT("/m"), JSTR_LIT("x"), OPEN, 1, false, 4);
        txn_write_set_data(&s2, JSTR_LIT("/m"), JSTR_LIT("y"), 1);
        STEP(S1, ZOP_MULTI, {
            jw_int(&b, 2);
            jw_int(&b, ZOP_CREATE);
            jw_buffer(&b, s1.data, (int32_t)s1.len);
            jw_int(&b, ZOP_SET_DATA);
            jw_buffer(&b, s2.data, (int32_t)s2.len);
        });
        buf_free(&s1);
        buf_free(&s2);
    }
    STEP(S1, ZOP_CREATE, txn_write_create(&b, JSTR_LIT("/gone"), JSTR_LIT("g"), OPEN, 1, false, 5));
    STEP(S1, ZOP_DELETE, txn_write_delete(&b, JSTR_LIT("/gone")));
    STEP(S2, ZOP_CLOSE_SESSION, {
        jw_int(&b, 1);
        jw_cstr(&b, "/app/seq-0000000004");
    });
#undef STEP
    buf_free(&b);
}

static void assert_trees_equal(const tree_t *a, const tree_t *b)
{
    assert_int_equal(a->node_count, b->node_count);
    size_t pos = 0;
    for (const znode_t *x; (x = tree_next_node(a, &pos));) {
        const znode_t *y = tree_get(b, znode_path(x), x->path_len);
        if (!y)
            fail_msg("node %s missing", znode_path(x));
        assert_int_equal(x->czxid, y->czxid);
        assert_int_equal(znode_mzxid(x), znode_mzxid(y));
        assert_int_equal(znode_pzxid(x), znode_pzxid(y));
        assert_int_equal(x->ctime, y->ctime);
        assert_int_equal(znode_mtime(x), znode_mtime(y));
        assert_int_equal(znode_version(x), znode_version(y));
        assert_int_equal(znode_cversion(x), znode_cversion(y));
        assert_int_equal(znode_aversion(x), znode_aversion(y));
        assert_int_equal(znode_owner(a, x), znode_owner(b, y));
        assert_int_equal(x->data_len, y->data_len);
        if (x->data_len > 0)
            assert_memory_equal(znode_data(x), znode_data(y), (size_t)x->data_len);
        assert_int_equal(znode_nkids(a, x), znode_nkids(b, y));
        assert_int_equal(znode_acl(a, x)->index, znode_acl(b, y)->index);
        assert_true(acl_list_equal(&znode_acl(a, x)->list, &znode_acl(b, y)->list));
        assert_int_equal(znode_is_container(a, x), znode_is_container(b, y));
        assert_int_equal(znode_is_ttl(a, x), znode_is_ttl(b, y));
        assert_int_equal(znode_session_owner(a, x), znode_session_owner(b, y));
    }
    assert_int_equal(a->ephemeral_count, b->ephemeral_count);
    assert_int_equal(a->containers.used, b->containers.used);
    assert_int_equal(a->ttls.used, b->ttls.used);
    assert_int_equal(a->acls.used, b->acls.used);
    assert_int_equal(a->data_bytes, b->data_bytes);
    assert_int_equal(tree_digest(a), tree_digest(b));
}

/* ---- digest ------------------------------------------------------------------------- */

static void test_digest_fresh_tree(void **state)
{
    (void)state;
    tree_t t;
    tree_init(&t, false);
    /* Only "" (the root) and "/zookeeper" count: the rest is under /zookeeper/. */
    assert_int_equal(tree_digest(&t), 0x51c6d660);
    assert_int_equal(tree_node_digest(&t, tree_get(&t, "/zookeeper/quota", 16)), 0);
    tree_free(&t);
}

/* ---- names -------------------------------------------------------------------------- */

static void test_names(void **state)
{
    (void)state;
    int64_t z;
    store_compression_t c;
    char name[64];
    assert_true(store_parse_name("log.1", STORE_LOG, &z, &c));
    assert_int_equal(z, 1);
    assert_true(store_parse_name("log.100000001", STORE_LOG, &z, &c));
    assert_int_equal(z, 0x100000001LL);
    assert_true(store_parse_name("snapshot.1a.gz", STORE_SNAPSHOT, &z, &c));
    assert_int_equal(z, 0x1a);
    assert_int_equal(c, STORE_GZ);
    assert_true(store_parse_name("snapshot.FF.snappy", STORE_SNAPSHOT, &z, &c));
    assert_int_equal(c, STORE_SNAPPY);
    assert_false(store_parse_name("log.", STORE_LOG, &z, &c));
    assert_false(store_parse_name("log.xyz", STORE_LOG, &z, &c));
    assert_false(store_parse_name("snapshot.1", STORE_LOG, &z, &c));
    assert_false(store_parse_name(".snapshot.1.tmp", STORE_SNAPSHOT, &z, &c));
    assert_false(store_parse_name("log.8000000000000000", STORE_LOG, &z, &c));
    store_format_name(name, sizeof name, STORE_LOG, 0x100000001LL, STORE_PLAIN);
    assert_string_equal(name, "log.100000001");
    store_format_name(name, sizeof name, STORE_SNAPSHOT, 0, STORE_GZ);
    assert_string_equal(name, "snapshot.0.gz");
}

/* ---- txn entry codec ---------------------------------------------------------------- */

static void roundtrip(int32_t type, buf_t *body, bool digest)
{
    txn_header_t h = {0x1234, 5, 0x100000007LL, 1700000000123LL, type};
    txn_digest_t d = {2, 0x51c6d660};
    buf_t enc, scratch;
    buf_init(&enc);
    buf_init(&scratch);
    txnlog_encode_entry(&enc, &h, body->data, body->len, digest ? &d : NULL);
    assert_int_equal(enc.len, TXNLOG_FRAME_BYTES + TXN_HEADER_BYTES + body->len +
                                  (digest ? TXN_DIGEST_BYTES : 0));
    assert_int_equal(enc.data[enc.len - 1], 'B');
    txnlog_entry_t e;
    char why[200];
    int rc = txnlog_decode_entry(enc.data + 12, enc.len - 13, &e, &scratch, why, sizeof why);
    if (rc != 0)
        fail_msg("type %d: %s", type, why);
    assert_int_equal(e.hdr.client_id, h.client_id);
    assert_int_equal(e.hdr.cxid, h.cxid);
    assert_int_equal(e.hdr.zxid, h.zxid);
    assert_int_equal(e.hdr.time_ms, h.time_ms);
    assert_int_equal(e.hdr.type, type);
    assert_int_equal(e.body_len, body->len);
    if (body->len)
        assert_memory_equal(e.body, body->data, body->len);
    assert_int_equal(e.has_digest, digest);
    if (digest) {
        assert_int_equal(e.digest.version, 2);
        assert_int_equal(e.digest.tree_digest, 0x51c6d660);
    }
    buf_free(&enc);
    buf_free(&scratch);
}

static void test_entry_roundtrip_every_type(void **state)
{
    (void)state;
    buf_t b;
    buf_init(&b);
    for (int digest = 0; digest <= 1; digest++) {
#define RT(type, ...)                                                                              \
    do {                                                                                           \
        buf_reset(&b);                                                                             \
        __VA_ARGS__;                                                                               \
        roundtrip((type), &b, digest);                                                             \
    } while (0)
        RT(ZOP_CREATE_SESSION, txn_write_create_session(&b, 30000));
        RT(ZOP_CLOSE_SESSION, {
            jw_int(&b, 2);
            jw_cstr(&b, "/a");
            jw_cstr(&b, "/b/c");
        });
        RT(ZOP_CLOSE_SESSION, jw_int(&b, 0));
        RT(ZOP_CLOSE_SESSION, (void)0); /* pre-3.6: no body */
        RT(ZOP_CREATE, txn_write_create(&b, JSTR_LIT("/a"), JSTR_LIT("d"), MIXED, 3, true, 9));
        RT(ZOP_CREATE2, txn_write_create(&b, JSTR_LIT("/a"), JSTR_NULL, OPEN, 1, false, -1));
        RT(ZOP_CREATE_CONTAINER,
           txn_write_create_container(&b, JSTR_LIT("/c"), JSTR_LIT(""), OPEN, 1, 3));
        RT(ZOP_CREATE_TTL,
           txn_write_create_ttl(&b, JSTR_LIT("/t"), JSTR_LIT("x"), OPEN, 1, 3, 0xFFFFFFFFFFLL));
        RT(ZOP_DELETE, txn_write_delete(&b, JSTR_LIT("/a")));
        RT(ZOP_DELETE_CONTAINER, txn_write_delete(&b, JSTR_LIT("/c")));
        RT(ZOP_SET_DATA, txn_write_set_data(&b, JSTR_LIT("/a"), JSTR_LIT("new"), 4));
        RT(ZOP_RECONFIG, txn_write_set_data(&b, JSTR_LIT("/zookeeper/config"), JSTR_LIT("v"), -1));
        RT(ZOP_SET_ACL, txn_write_set_acl(&b, JSTR_LIT("/a"), MIXED, 3, 2));
        RT(ZOP_ERROR, txn_write_error(&b, ZNODEEXISTS));
        RT(ZOP_MULTI, {
            buf_t s;
            buf_init(&s);
            txn_write_check(&s, JSTR_LIT("/a"), 3);
            jw_int(&b, 3);
            jw_int(&b, ZOP_CHECK);
            jw_buffer(&b, s.data, (int32_t)s.len);
            buf_reset(&s);
            txn_write_delete(&s, JSTR_LIT("/a"));
            jw_int(&b, ZOP_DELETE);
            jw_buffer(&b, s.data, (int32_t)s.len);
            buf_reset(&s);
            txn_write_error(&s, ZOK);
            jw_int(&b, ZOP_ERROR);
            jw_buffer(&b, s.data, (int32_t)s.len);
            buf_free(&s);
        });
#undef RT
    }
    buf_free(&b);
}

static void test_entry_create_v0_and_bad_types(void **state)
{
    (void)state;
    buf_t b, enc, scratch;
    buf_init(&b);
    buf_init(&enc);
    buf_init(&scratch);
    char why[200];
    txnlog_entry_t e;
    /* CreateTxnV0: path, data, acl, ephemeral — no parentCVersion. */
    txn_header_t h = {1, 1, 3, 4, ZOP_CREATE};
    txn_header_write(&enc, &h);
    jw_cstr(&enc, "/old");
    jw_buffer(&enc, "v0", 2);
    txn_write_acls(&enc, OPEN, 1);
    jw_bool(&enc, false);
    assert_int_equal(txnlog_decode_entry(enc.data, enc.len, &e, &scratch, why, sizeof why), 0);
    assert_true(e.from_v0);
    assert_false(e.has_digest);
    txn_write_create(&b, JSTR_LIT("/old"), JSTR_LIT("v0"), OPEN, 1, false, -1);
    assert_int_equal(e.body_len, b.len);
    assert_memory_equal(e.body, b.data, b.len);
    /* ...and it applies: parentCVersion -1 means "old + 1". */
    tree_t t;
    tree_init(&t, false);
    assert_true(txn_apply(&t, NULL, &e.hdr, e.body, e.body_len, NULL));
    assert_non_null(tree_get(&t, "/old", 4));
    assert_int_equal(znode_cversion(t.root), 1);
    tree_free(&t);

    /* check (13) outside a multi, and unknown types, are hard errors. */
    buf_reset(&enc);
    h.type = ZOP_CHECK;
    txn_header_write(&enc, &h);
    txn_write_check(&enc, JSTR_LIT("/a"), 1);
    assert_int_equal(txnlog_decode_entry(enc.data, enc.len, &e, &scratch, why, sizeof why), -1);
    assert_non_null(strstr(why, "unsupported txn type 13"));
    buf_reset(&enc);
    h.type = 99;
    txn_header_write(&enc, &h);
    assert_int_equal(txnlog_decode_entry(enc.data, enc.len, &e, &scratch, why, sizeof why), -1);
    /* A body that does not parse. */
    buf_reset(&enc);
    h.type = ZOP_SET_DATA;
    txn_header_write(&enc, &h);
    jw_int(&enc, 100);
    assert_int_equal(txnlog_decode_entry(enc.data, enc.len, &e, &scratch, why, sizeof why), -1);
    /* closeSession with no body but a digest (closeSessionTxn.enabled=false). */
    buf_reset(&enc);
    h.type = ZOP_CLOSE_SESSION;
    txn_header_write(&enc, &h);
    jw_int(&enc, 2);
    jw_long(&enc, 0x1234);
    assert_int_equal(txnlog_decode_entry(enc.data, enc.len, &e, &scratch, why, sizeof why), 0);
    assert_int_equal(e.body_len, 0);
    assert_true(e.has_digest);
    assert_int_equal(e.digest.tree_digest, 0x1234);
    buf_free(&b);
    buf_free(&enc);
    buf_free(&scratch);
}

/* The createSession entry of Appendix A, byte for byte. */
static void test_entry_matches_zookeeper(void **state)
{
    (void)state;
    uint8_t want[128];
    size_t n = hex_decode("00000000d1d80abf0000003001000008e08a00000000000000000000000000"
                          "01000001a202fbd45dfffffff60000271000000002000000005"
                          "1c6d66042",
                          want, sizeof want);
    txn_header_t h = {0x01000008e08a0000LL, 0, 1, 0x000001a202fbd45dLL, ZOP_CREATE_SESSION};
    buf_t body, enc;
    buf_init(&body);
    buf_init(&enc);
    txn_write_create_session(&body, 10000);
    txn_digest_t d = {2, 0x51c6d660};
    txnlog_encode_entry(&enc, &h, body.data, body.len, &d);
    assert_int_equal(enc.len, n);
    assert_memory_equal(enc.data, want, n);
    buf_free(&body);
    buf_free(&enc);
}

/* ---- log files ---------------------------------------------------------------------- */

typedef struct logged {
    int64_t zxids[64];
    uint64_t offsets[64];
    size_t n;
} logged_t;

/* Read everything after `after`; returns the iterator result (0/-1). */
static int read_all(const char *dir, int64_t after, logged_t *out, txnlog_iter_t *it_out,
                    store_err_t *err)
{
    txnlog_iter_t it;
    assert_int_equal(txnlog_iter_open(&it, dir, after, NULL, err), 0);
    txnlog_entry_t e;
    int rc;
    out->n = 0;
    while ((rc = txnlog_iter_next(&it, &e, err)) == 1) {
        assert_true(out->n < 64);
        out->zxids[out->n] = e.hdr.zxid;
        out->offsets[out->n++] = e.offset;
    }
    if (it_out)
        *it_out = it;
    txnlog_iter_close(&it);
    return rc;
}

static void write_simple_log(const char *dir, int64_t first, int count, uint64_t prealloc)
{
    txnlog_writer_t w;
    store_err_t err;
    txnlog_writer_init(&w, dir, prealloc, true);
    buf_t b;
    buf_init(&b);
    for (int i = 0; i < count; i++) {
        buf_reset(&b);
        char path[32];
        snprintf(path, sizeof path, "/n%d", i);
        txn_write_create(&b, jstr_from_cstr(path), JSTR_LIT("data"), OPEN, 1, false, i + 1);
        txn_header_t h = {1, i, first + i, 1000 + i, ZOP_CREATE};
        txn_digest_t d = {2, 1000 + i};
        assert_int_equal(txnlog_append(&w, &h, b.data, b.len, &d, &err), 0);
        if (i % 2)
            assert_int_equal(txnlog_flush(&w, &err), 0);
    }
    assert_int_equal(txnlog_sync(&w, &err), 0);
    txnlog_writer_close(&w);
    buf_free(&b);
}

static void test_log_write_read_preallocated(void **state)
{
    (void)state;
    tmpdir_t d;
    tmp_make(&d);
    write_simple_log(d.v2, 1, 5, 65536);
    char path[400];
    snprintf(path, sizeof path, "%s/log.1", d.v2);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 16 + 65536); /* as ZooKeeper: 16 + preAllocSize */
    buf_t f;
    read_file(path, &f);
    assert_memory_equal(f.data, "ZKLG\0\0\0\2\0\0\0\0\0\0\0\0", 16);
    buf_free(&f);
    logged_t l;
    store_err_t err;
    txnlog_iter_t it;
    assert_int_equal(read_all(d.v2, -1, &l, &it, &err), 0);
    assert_int_equal(l.n, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(l.zxids[i], 1 + i);
    assert_false(it.tail.torn); /* zero preallocation is a clean end */
    assert_int_equal(read_all(d.v2, 3, &l, NULL, &err), 0);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.zxids[0], 4);
    tmp_remove(&d);
}

static void test_log_roll_and_multiple_files(void **state)
{
    (void)state;
    tmpdir_t d;
    tmp_make(&d);
    store_err_t err;
    txnlog_writer_t w;
    txnlog_writer_init(&w, d.v2, 4096, true);
    buf_t b;
    buf_init(&b);
    for (int64_t z = 1; z <= 30; z++) {
        buf_reset(&b);
        txn_write_create_session(&b, 5000);
        txn_header_t h = {z, 0, z, z, ZOP_CREATE_SESSION};
        assert_int_equal(txnlog_append(&w, &h, b.data, b.len, NULL, &err), 0);
        if (z % 10 == 0)
            assert_int_equal(txnlog_roll(&w, &err), 0);
    }
    assert_int_equal(txnlog_sync(&w, &err), 0);
    txnlog_writer_close(&w);
    store_file_list_t files;
    assert_int_equal(store_list(d.v2, STORE_LOG, true, &files, &err), 0);
    assert_int_equal(files.n, 3);
    assert_string_equal(files.v[0].name, "log.1");
    assert_string_equal(files.v[1].name, "log.b");
    assert_string_equal(files.v[2].name, "log.15");
    assert_int_equal(store_logs_from(&files, 0x0f), 1);
    assert_int_equal(store_logs_from(&files, 0x15), 2);
    assert_int_equal(store_logs_from(&files, 0), 0);
    store_file_list_free(&files);
    logged_t l;
    assert_int_equal(read_all(d.v2, 12, &l, NULL, &err), 0);
    assert_int_equal(l.n, 18);
    assert_int_equal(l.zxids[0], 13);
    assert_int_equal(l.zxids[17], 30);
    /* Encoded-batch path (what the log thread uses). */
    txnlog_writer_init(&w, d.v2, 0, false);
    buf_reset(&b);
    for (int64_t z = 31; z <= 33; z++) {
        buf_t body;
        buf_init(&body);
        txn_write_create_session(&body, 5000);
        txn_header_t h = {z, 0, z, z, ZOP_CREATE_SESSION};
        txnlog_encode_entry(&b, &h, body.data, body.len, NULL);
        buf_free(&body);
    }
    assert_int_equal(txnlog_write_encoded(&w, b.data, b.len, 31, 33, 3, &err), 0);
    assert_int_equal(txnlog_sync(&w, &err), 0);
    txnlog_writer_close(&w);
    assert_int_equal(read_all(d.v2, 29, &l, NULL, &err), 0);
    assert_int_equal(l.n, 4);
    assert_int_equal(l.zxids[3], 33);
    buf_free(&b);
    tmp_remove(&d);
}

/* Cut the last entry at every byte offset (both by truncating the file and
 * by zero-filling the rest, as a preallocated file looks): recovery returns
 * exactly the complete entries and reports the torn tail. */
static void test_log_torn_tail_every_offset(void **state)
{
    (void)state;
    tmpdir_t src, d;
    tmp_make(&src);
    tmp_make(&d);
    write_simple_log(src.v2, 1, 5, 4096);
    char orig[400], path[400];
    snprintf(orig, sizeof orig, "%s/log.1", src.v2);
    snprintf(path, sizeof path, "%s/log.1", d.v2);
    logged_t full;
    store_err_t err;
    assert_int_equal(read_all(src.v2, -1, &full, NULL, &err), 0);
    assert_int_equal(full.n, 5);
    buf_t f;
    read_file(orig, &f);
    uint64_t start = full.offsets[4];
    /* end of the last entry: its length field + 13 */
    uint64_t end = start + 13 + (uint32_t)be32_read(f.data + start + 8);
    for (int zero_fill = 0; zero_fill <= 1; zero_fill++) {
        for (uint64_t cut = start; cut < end; cut++) {
            buf_t g;
            buf_init(&g);
            buf_append(&g, f.data, zero_fill ? f.len : cut);
            if (zero_fill)
                memset(g.data + cut, 0, f.len - cut);
            write_file(path, g.data, g.len);
            buf_free(&g);
            logged_t l;
            txnlog_iter_t it;
            int rc = read_all(d.v2, -1, &l, &it, &err);
            if (rc != 0)
                fail_msg("cut %" PRIu64 " zero_fill %d: %s", cut, zero_fill, err.msg);
            assert_int_equal(l.n, 4);
            assert_int_equal(l.zxids[3], 4);
            /* A tail of zeros only (a cut at the boundary, or inside the
             * checksum's always-zero upper half) is a clean end. */
            bool nonzero = false;
            for (uint64_t i = start; i < cut; i++)
                nonzero |= f.data[i] != 0;
            assert_int_equal(it.tail.torn, nonzero);
            if (it.tail.torn) {
                assert_int_equal(it.tail.offset, start);
                assert_int_equal(it.tail.last_zxid, 4);
                assert_int_equal(txnlog_truncate_tail(&it.tail, &err), 0);
                struct stat st;
                assert_int_equal(stat(path, &st), 0);
                assert_int_equal(st.st_size, start);
                assert_int_equal(read_all(d.v2, -1, &l, &it, &err), 0);
                assert_int_equal(l.n, 4);
                assert_false(it.tail.torn);
            }
        }
    }
    /* A file torn before its first entry is removed by truncation. */
    write_file(path, f.data, 30);
    logged_t l;
    txnlog_iter_t it;
    assert_int_equal(read_all(d.v2, -1, &l, &it, &err), 0);
    assert_int_equal(l.n, 0);
    assert_true(it.tail.torn);
    assert_int_equal(it.tail.offset, 16);
    assert_int_equal(txnlog_truncate_tail(&it.tail, &err), 0);
    assert_int_equal(access(path, F_OK), -1);
    /* ...and one with nothing after its header (preallocated or not). */
    for (int prealloc = 0; prealloc <= 1; prealloc++) {
        buf_t g;
        buf_init(&g);
        buf_append(&g, f.data, 16);
        if (prealloc)
            buf_reserve(&g, 4096), memset(g.data + 16, 0, 4096), g.len += 4096;
        write_file(path, g.data, g.len);
        buf_free(&g);
        assert_int_equal(read_all(d.v2, -1, &l, &it, &err), 0);
        assert_true(it.tail.torn);
        assert_int_equal(it.tail.offset, 16);
        assert_int_equal(txnlog_truncate_tail(&it.tail, &err), 0);
        assert_int_equal(access(path, F_OK), -1);
    }
    /* ...and so is one whose header itself is torn. */
    write_file(path, f.data, 7);
    assert_int_equal(read_all(d.v2, -1, &l, &it, &err), 0);
    assert_true(it.tail.torn);
    assert_int_equal(it.tail.offset, 0);
    buf_free(&f);
    tmp_remove(&src);
    tmp_remove(&d);
}

static void test_log_bit_flip_in_middle_is_fatal(void **state)
{
    (void)state;
    tmpdir_t d;
    tmp_make(&d);
    write_simple_log(d.v2, 1, 5, 4096);
    char path[400];
    snprintf(path, sizeof path, "%s/log.1", d.v2);
    logged_t l;
    store_err_t err;
    assert_int_equal(read_all(d.v2, -1, &l, NULL, &err), 0);
    buf_t orig;
    read_file(path, &orig);
    /* Flip one bit in every byte position of entry 3 (checksum, length, body,
     * marker): always a hard error naming the file and entry 3's offset. */
    uint64_t s3 = l.offsets[2], s4 = l.offsets[3];
    for (uint64_t pos = s3; pos < s4; pos++) {
        buf_t g;
        buf_init(&g);
        buf_append(&g, orig.data, orig.len);
        g.data[pos] ^= 0x10;
        write_file(path, g.data, g.len);
        buf_free(&g);
        logged_t m;
        int rc = read_all(d.v2, -1, &m, NULL, &err);
        if (rc != -1)
            fail_msg("flip at %" PRIu64 " was not detected", pos);
        char want[64];
        snprintf(want, sizeof want, "offset %" PRIu64 ":", s3);
        if (!strstr(err.msg, path) || !strstr(err.msg, want))
            fail_msg("flip at %" PRIu64 ": unexpected message: %s", pos, err.msg);
        assert_non_null(strstr(err.msg, "corrupt in the middle"));
        assert_int_equal(m.n, 2);
    }
    /* A flip in the last entry's body alone reads as a torn tail. */
    buf_t g;
    buf_init(&g);
    buf_append(&g, orig.data, orig.len);
    g.data[l.offsets[4] + 20] ^= 1;
    write_file(path, g.data, g.len);
    txnlog_iter_t it;
    assert_int_equal(read_all(d.v2, -1, &l, &it, &err), 0);
    assert_int_equal(l.n, 4);
    assert_true(it.tail.torn);
    assert_non_null(strstr(it.tail.reason, "checksum mismatch"));
    /* Garbage (not a valid entry) after a zero length is a torn tail too. */
    memcpy(g.data, orig.data, orig.len);
    memset(g.data + l.offsets[3], 0, orig.len - l.offsets[3]);
    g.data[orig.len - 100] = 0x77;
    write_file(path, g.data, g.len);
    assert_int_equal(read_all(d.v2, -1, &l, &it, &err), 0);
    assert_int_equal(l.n, 3);
    assert_true(it.tail.torn);
    buf_free(&g);
    buf_free(&orig);
    tmp_remove(&d);
}

static void test_log_corruption_in_earlier_file(void **state)
{
    (void)state;
    tmpdir_t d;
    tmp_make(&d);
    write_simple_log(d.v2, 1, 5, 0);
    write_simple_log(d.v2, 6, 5, 0);
    char path[400];
    snprintf(path, sizeof path, "%s/log.1", d.v2);
    logged_t l;
    store_err_t err;
    assert_int_equal(read_all(d.v2, -1, &l, NULL, &err), 0);
    assert_int_equal(l.n, 10);
    buf_t orig;
    read_file(path, &orig);
    /* The last entry of log.1 torn: txn 5 is missing before log.6 → fatal. */
    write_file(path, orig.data, l.offsets[4] + 10);
    assert_int_equal(read_all(d.v2, -1, &l, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "log.1"));
    assert_non_null(strstr(err.msg, "next log log.6"));
    /* If the next file continues from the last valid entry (ZooKeeper
     * restarted without truncating), it is accepted as ZooKeeper does. */
    write_file(path, orig.data, orig.len);
    char p6[400], p5[400];
    snprintf(p6, sizeof p6, "%s/log.6", d.v2);
    snprintf(p5, sizeof p5, "%s/log.5", d.v2);
    assert_int_equal(rename(p6, p5), 0);
    buf_t g;
    buf_init(&g);
    buf_append(&g, orig.data, orig.len);
    g.data[orig.len - 5] ^= 0xff; /* tear entry 5 of log.1 */
    write_file(path, g.data, g.len);
    txnlog_iter_t it;
    int rc = read_all(d.v2, -1, &l, &it, &err);
    assert_int_equal(rc, 0);
    assert_int_equal(it.skipped_tails, 1);
    assert_int_equal(l.n, 9);
    buf_free(&g);
    buf_free(&orig);
    tmp_remove(&d);
}

static void test_log_bad_magic_and_version(void **state)
{
    (void)state;
    tmpdir_t d;
    tmp_make(&d);
    write_simple_log(d.v2, 1, 2, 0);
    char path[400];
    snprintf(path, sizeof path, "%s/log.1", d.v2);
    buf_t f;
    read_file(path, &f);
    logged_t l;
    store_err_t err;
    f.data[0] = 'X';
    write_file(path, f.data, f.len);
    assert_int_equal(read_all(d.v2, -1, &l, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "bad magic"));
    f.data[0] = 'Z';
    f.data[7] = 3;
    write_file(path, f.data, f.len);
    assert_int_equal(read_all(d.v2, -1, &l, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "unknown log format version 3"));
    buf_free(&f);
    tmp_remove(&d);
}

static void test_log_truncate_after(void **state)
{
    (void)state;
    tmpdir_t d;
    tmp_make(&d);
    write_simple_log(d.v2, 1, 5, 4096);
    write_simple_log(d.v2, 6, 5, 4096);
    store_err_t err;
    assert_int_equal(txnlog_truncate_after(d.v2, 3, NULL, &err), 0);
    logged_t l;
    txnlog_iter_t it;
    assert_int_equal(read_all(d.v2, -1, &l, &it, &err), 0);
    assert_int_equal(l.n, 3);
    assert_false(it.tail.torn);
    char p6[400];
    snprintf(p6, sizeof p6, "%s/log.6", d.v2);
    assert_int_equal(access(p6, F_OK), -1);
    tmp_remove(&d);
}

/* ---- snapshots ---------------------------------------------------------------------- */

static const char FRESH_SNAPSHOT_HEX[] =
    "5a4b534e00000002ffffffffffffffff00000000000000010000000000000001"
    "000000010000000100000005776f726c6400000006616e796f6e650000000000"
    "000000ffffffffffffffff000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000a2f7a6f6f6b656570657200000000ffffffffffffff"
    "ff00000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000"
    "112f7a6f6f6b65657065722f636f6e6669670000000000000000000000010000"
    "0000000000000000000000000000000000000000000000000000000000000000"
    "000000000000ffffffff00000000000000000000000000000000000000102f7a"
    "6f6f6b65657065722f71756f746100000000ffffffffffffffff000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000"
    "00000000000000000000000000000000000000000000000000012f00000000b8"
    "a23b49000000012f000000000000000000000002000000000000000000000000"
    "95b93d59000000012f";

/* A fresh tree serialises to the 457 bytes of ZooKeeper 3.8's snapshot.0. */
static void test_snapshot_fresh_matches_zookeeper(void **state)
{
    (void)state;
    uint8_t want[512];
    size_t n = hex_decode(FRESH_SNAPSHOT_HEX, want, sizeof want);
    assert_int_equal(n, 457);
    tmpdir_t d;
    tmp_make(&d);
    tree_t t;
    tree_init(&t, false);
    snap_digest_t dg = {true, 0, 2, 0};
    store_err_t err;
    char path[400];
    snap_write_opts_t o = {STORE_PLAIN, true};
    assert_int_equal(snapshot_write(d.v2, 0, &t, NULL, 0, &dg, &o, path, sizeof path, &err), 0);
    buf_t f;
    read_file(path, &f);
    assert_int_equal(f.len, 457);
    assert_memory_equal(f.data, want, 457);
    assert_true(snapshot_looks_valid(path));
    /* And reading ZooKeeper's bytes gives the fresh tree back. */
    tree_t u;
    snapshot_info_t info;
    assert_int_equal(snapshot_read_mem(want, n, "zk", false, NULL, &u, &info, &err), 0);
    assert_trees_equal(&t, &u);
    assert_true(info.digest.present);
    assert_int_equal(info.digest.version, 2);
    assert_int_equal(info.nodes, 4);
    snapshot_info_free(&info);
    tree_free(&u);
    tree_free(&t);
    buf_free(&f);
    tmp_remove(&d);
}

static void test_snapshot_roundtrip_varied_tree(void **state)
{
    (void)state;
    tmpdir_t d;
    tmp_make(&d);
    world_t w;
    world_init(&w);
    build_tree(&w, NULL);
    assert_int_equal(w.tree.containers.used, 1);
    assert_int_equal(w.tree.ttls.used, 1);
    assert_int_equal(w.tree.ephemeral_count, 1);
    snap_session_t sessions[3] = {
        {0x1000001234560001LL, 30000}, {0x1000001234560003LL, 4000}, {0x7fffffff00000001LL, 40000}};
    snap_digest_t dg = {true, w.zxid, 2, (int64_t)tree_digest(&w.tree)};
    for (int gz = 0; gz <= 1; gz++) {
        store_err_t err;
        char path[400];
        snap_write_opts_t o = {gz ? STORE_GZ : STORE_PLAIN, false};
        assert_int_equal(
            snapshot_write(d.v2, w.zxid, &w.tree, sessions, 3, &dg, &o, path, sizeof path, &err),
            0);
        assert_non_null(strstr(path, gz ? "snapshot.11.gz" : "snapshot.11"));
        assert_true(snapshot_looks_valid(path));
        tree_t u;
        snapshot_info_t info;
        if (snapshot_read(path, true, NULL, &u, &info, &err) != 0)
            fail_msg("%s", err.msg);
        assert_trees_equal(&w.tree, &u);
        assert_int_equal(info.zxid, w.zxid);
        assert_int_equal(info.nsessions, 3);
        int found = 0;
        for (size_t i = 0; i < info.nsessions; i++)
            for (int j = 0; j < 3; j++)
                if (info.sessions[i].id == sessions[j].id &&
                    info.sessions[i].timeout_ms == sessions[j].timeout_ms)
                    found++;
        assert_int_equal(found, 3);
        assert_true(info.digest.present);
        assert_int_equal(info.digest.zxid, w.zxid);
        assert_int_equal(info.digest.digest, dg.digest);
        /* Null and empty data stay apart. */
        assert_int_equal(tree_get(&u, "/app/null", 9)->data_len, -1);
        assert_int_equal(tree_get(&u, "/app/empty", 10)->data_len, 0);
        /* Written again, the loaded tree gives the same bytes. */
        if (!gz) {
            buf_t a, b;
            read_file(path, &a);
            char again[400];
            snprintf(again, sizeof again, "%s/again", d.base);
            int fd = open(again, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            assert_true(fd >= 0);
            assert_int_equal(snapshot_write_fd(fd, &u, info.sessions, info.nsessions, &dg,
                                               STORE_PLAIN, NULL, &err),
                             0);
            close(fd);
            read_file(again, &b);
            assert_int_equal(a.len, b.len);
            assert_memory_equal(a.data, b.data, a.len);
            buf_free(&a);
            buf_free(&b);
        }
        /* New ACLs continue after the loaded indexes. */
        zk_acl_ref_t other = {ZK_PERM_READ, JSTR_LIT("ip"), JSTR_LIT("10.0.0.1")};
        tree_acl_t *fresh = tree_acl_intern(&u, &other, 1);
        size_t pos = 0;
        const char *k;
        size_t kl;
        void *v;
        while (strmap_next(&u.acls, &pos, &k, &kl, &v))
            if (v != fresh)
                assert_true(((tree_acl_t *)v)->index < fresh->index);
        tree_acl_unref(&u, fresh);
        snapshot_info_free(&info);
        tree_free(&u);
    }
    tree_free(&w.tree);
    tmp_remove(&d);
}

static void test_snapshot_rejects_damage(void **state)
{
    (void)state;
    tmpdir_t d;
    tmp_make(&d);
    world_t w;
    world_init(&w);
    build_tree(&w, NULL);
    snap_digest_t dg = {true, w.zxid, 2, (int64_t)tree_digest(&w.tree)};
    store_err_t err;
    char path[400];
    snap_write_opts_t o = {STORE_PLAIN, false};
    assert_int_equal(
        snapshot_write(d.v2, w.zxid, &w.tree, NULL, 0, &dg, &o, path, sizeof path, &err), 0);
    buf_t f;
    read_file(path, &f);
    tree_t u;
    snapshot_info_t info;
    /* Every truncation is rejected, with a reason, except the one that cuts
     * exactly the optional digest trailer and its seal (33 bytes): that is a
     * complete snapshot without a digest, which ZooKeeper accepts too. */
    for (size_t cut = 0; cut < f.len; cut += (cut < 64 || cut > f.len - 64 ? 1 : 7)) {
        write_file(path, f.data, cut);
        if (cut == f.len - 33) {
            assert_int_equal(snapshot_read(path, true, NULL, &u, &info, &err), 0);
            assert_false(info.digest.present);
            snapshot_info_free(&info);
            tree_free(&u);
            continue;
        }
        if (snapshot_read(path, true, NULL, &u, &info, &err) == 0)
            fail_msg("truncated at %zu but accepted", cut);
        assert_non_null(strstr(err.msg, path));
    }
    /* A flipped byte in the node data fails the checksum. */
    buf_t g;
    buf_init(&g);
    buf_append(&g, f.data, f.len);
    uint8_t *hit = memmem(g.data, g.len, "world!", 6);
    assert_non_null(hit);
    hit[0] ^= 0x20;
    write_file(path, g.data, g.len);
    assert_int_equal(snapshot_read(path, true, NULL, &u, &info, &err), -1);
    assert_non_null(strstr(err.msg, "checksum mismatch"));
    /* Bad magic and unknown version. */
    memcpy(g.data, f.data, f.len);
    g.data[3] = 'X';
    write_file(path, g.data, g.len);
    assert_int_equal(snapshot_read(path, true, NULL, &u, &info, &err), -1);
    assert_non_null(strstr(err.msg, "bad magic"));
    memcpy(g.data, f.data, f.len);
    g.data[7] = 9;
    write_file(path, g.data, g.len);
    assert_int_equal(snapshot_read(path, true, NULL, &u, &info, &err), -1);
    assert_non_null(strstr(err.msg, "unknown snapshot format version 9"));
    /* An absurd length is caught against the bytes left. */
    memcpy(g.data, f.data, f.len);
    g.data[16] = 0x7f; /* session count */
    write_file(path, g.data, g.len);
    assert_int_equal(snapshot_read(path, true, NULL, &u, &info, &err), -1);
    assert_non_null(strstr(err.msg, "offset 16"));
    buf_free(&g);
    buf_free(&f);
    tree_free(&w.tree);
    tmp_remove(&d);
}

/* ---- recovery ------------------------------------------------------------------------ */

typedef struct replay {
    tree_t *tree;
    uint64_t digests_checked, digest_mismatches;
} replay_t;

static int apply_cb(void *ctx, const txnlog_entry_t *e, store_err_t *err)
{
    replay_t *r = ctx;
    if (!txn_apply(r->tree, NULL, &e->hdr, e->body, e->body_len, NULL))
        return store_errf(err, "%s: offset %" PRIu64 ": malformed txn", e->file, e->offset);
    if (e->has_digest) {
        r->digests_checked++;
        if ((uint64_t)e->digest.tree_digest != tree_digest(r->tree))
            r->digest_mismatches++;
    }
    return 0;
}

static void test_recover_snapshot_plus_log_with_fallback(void **state)
{
    (void)state;
    tmpdir_t d;
    tmp_make(&d);
    store_dirs_t dirs;
    store_err_t err;
    assert_int_equal(store_dirs_open(&dirs, d.base, NULL, true, &err), 0);
    /* snapshot.0 of the empty tree, then a log of the whole build. */
    world_t w;
    world_init(&w);
    snap_digest_t dg0 = {true, 0, 2, 0};
    assert_int_equal(snapshot_write(dirs.snap_dir, 0, &w.tree, NULL, 0, &dg0, NULL, NULL, 0, &err),
                     0);
    txnlog_writer_t log;
    txnlog_writer_init(&log, dirs.log_dir, 65536, true);
    build_tree(&w, &log);
    assert_int_equal(txnlog_sync(&log, &err), 0);
    txnlog_writer_close(&log);
    /* A later snapshot that is damaged: recovery falls back to snapshot.0. */
    char bad[400];
    snap_digest_t dg = {true, w.zxid, 2, (int64_t)tree_digest(&w.tree)};
    assert_int_equal(
        snapshot_write(dirs.snap_dir, 9, &w.tree, NULL, 0, &dg, NULL, bad, sizeof bad, &err), 0);
    buf_t f;
    read_file(bad, &f);
    f.data[f.len / 2] ^= 0xff;
    write_file(bad, f.data, f.len);
    buf_free(&f);
    tree_t t;
    store_recovery_t rec;
    replay_t r = {&t, 0, 0};
    store_recover_opts_t o;
    store_recover_opts_default(&o);
    o.extended_types = true;
    if (store_recover(&dirs, &o, &t, &rec, &(store_replay_t){NULL, apply_cb, &r}, &err) != 0)
        fail_msg("%s", err.msg);
    assert_true(rec.have_snapshot);
    assert_int_equal(rec.snapshot.zxid, 0);
    assert_int_equal(rec.nskipped, 1);
    assert_string_equal(rec.skipped[0].name, "snapshot.9");
    assert_int_equal(rec.txns_replayed, w.zxid);
    assert_int_equal(rec.last_zxid, w.zxid);
    assert_false(rec.tail.torn);
    assert_true(r.digests_checked > 10);
    assert_int_equal(r.digest_mismatches, 0);
    assert_trees_equal(&w.tree, &t);
    store_recovery_free(&rec);
    tree_free(&t);

    /* Now a truncated newest snapshot (fails the cheap check) and a torn
     * log tail: snapshot.0 + the complete entries, tail cut off. */
    write_file(bad, "ZKSN", 4);
    char logp[400];
    snprintf(logp, sizeof logp, "%s/log.1", d.v2);
    read_file(logp, &f);
    txnlog_iter_t it;
    logged_t l;
    assert_int_equal(read_all(dirs.log_dir, -1, &l, &it, &err), 0);
    uint64_t last = l.offsets[l.n - 1];
    memset(f.data + last + 20, 0, f.len - last - 20);
    write_file(logp, f.data, f.len);
    buf_free(&f);
    r.digests_checked = r.digest_mismatches = 0;
    if (store_recover(&dirs, &o, &t, &rec, &(store_replay_t){NULL, apply_cb, &r}, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(rec.snapshot.zxid, 0);
    assert_int_equal(rec.nskipped, 1);
    assert_true(rec.tail.torn);
    assert_true(rec.tail_truncated);
    assert_int_equal(rec.tail.offset, last);
    assert_int_equal(rec.last_zxid, w.zxid - 1);
    assert_int_equal(r.digest_mismatches, 0);
    store_recovery_free(&rec);
    tree_free(&t);
    tree_free(&w.tree);
    tmp_remove(&d);
}

/* A fuzzy snapshot whose ACL map misses the ACL of a node created while it
 * was written (seen from ZooKeeper 3.8 with a small snapCount): the node is
 * loaded with a placeholder and gets its ACL from the replayed create. */
static void test_recover_fuzzy_snapshot_missing_acl(void **state)
{
    (void)state;
    tmpdir_t d;
    tmp_make(&d);
    store_dirs_t dirs;
    store_err_t err;
    assert_int_equal(store_dirs_open(&dirs, d.base, NULL, false, &err), 0);
    world_t w;
    world_init(&w);
    txnlog_writer_t log;
    txnlog_writer_init(&log, d.v2, 0, true);
    buf_t b;
    buf_init(&b);
    txn_header_t h = next_header(&w, 0x42, ZOP_CREATE);
    txn_write_create(&b, JSTR_LIT("/a"), JSTR_LIT("1"), OPEN, 1, false, 1);
    apply_body(&w, &h, &b);
    assert_int_equal(txnlog_append(&log, &h, b.data, b.len, NULL, &err), 0);
    int64_t snap_zxid = w.zxid;
    /* The fuzzy part: /x with a brand-new ACL list, after the snapshot's zxid. */
    buf_reset(&b);
    h = next_header(&w, 0x42, ZOP_CREATE);
    txn_write_create(&b, JSTR_LIT("/x"), JSTR_LIT("2"), MIXED, 3, false, 2);
    apply_body(&w, &h, &b);
    assert_int_equal(txnlog_append(&log, &h, b.data, b.len, NULL, &err), 0);
    assert_int_equal(txnlog_sync(&log, &err), 0);
    txnlog_writer_close(&log);
    /* Serialise the tree with /x but an ACL map without its list, as
     * ZooKeeper does when the list is interned after the map is written. */
    tree_acl_t *mixed = znode_acl(&w.tree, tree_get(&w.tree, "/x", 2));
    assert_non_null(strmap_del(&w.tree.acls, (const char *)mixed->key.data, mixed->key.len));
    char path[400];
    snprintf(path, sizeof path, "%s/snapshot.%" PRIx64, d.v2, snap_zxid);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(snapshot_write_fd(fd, &w.tree, NULL, 0, NULL, STORE_PLAIN, NULL, &err), 0);
    close(fd);
    strmap_put(&w.tree.acls, (const char *)mixed->key.data, mixed->key.len, mixed);
    /* Alone, the snapshot loads with a placeholder. */
    tree_t t;
    snapshot_info_t info;
    assert_int_equal(snapshot_read(path, true, NULL, &t, &info, &err), 0);
    assert_int_equal(info.pending_acls, 1);
    assert_true(snapshot_acl_is_placeholder(znode_acl(&t, tree_get(&t, "/x", 2))));
    assert_int_equal(znode_acl(&t, tree_get(&t, "/x", 2))->index, mixed->index);
    snapshot_info_free(&info);
    tree_free(&t);
    /* Recovery resolves it from the replayed create. */
    store_recovery_t rec;
    store_recover_opts_t o;
    store_recover_opts_default(&o);
    o.extended_types = true;
    replay_t r = {&t, 0, 0};
    if (store_recover(&dirs, &o, &t, &rec, &(store_replay_t){NULL, apply_cb, &r}, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(rec.snapshot.pending_acls, 1);
    assert_false(snapshot_acl_is_placeholder(znode_acl(&t, tree_get(&t, "/x", 2))));
    assert_trees_equal(&w.tree, &t);
    store_recovery_free(&rec);
    tree_free(&t);
    /* Without the create in the log, recovery refuses, naming the node. */
    char logp[400];
    snprintf(logp, sizeof logp, "%s/log.1", d.v2);
    buf_t f;
    read_file(logp, &f);
    logged_t l;
    assert_int_equal(read_all(d.v2, -1, &l, NULL, &err), 0);
    write_file(logp, f.data, l.offsets[1]);
    buf_free(&f);
    assert_int_equal(store_recover(&dirs, &o, &t, &rec, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "node /x refers to ACL index"));
    store_recovery_free(&rec);
    tree_free(&t);
    buf_free(&b);
    tree_free(&w.tree);
    tmp_remove(&d);
}

/* ---- fuzzy snapshots -------------------------------------------------------------- */

static void log_txn(world_t *w, txnlog_writer_t *log, int32_t type, buf_t *b)
{
    store_err_t e;
    txn_header_t h = next_header(w, 0x42, type);
    apply_body(w, &h, b);
    assert_int_equal(txnlog_append(log, &h, b->data, b->len, NULL, &e), 0);
}

/* A data dir, a live tree whose txns are logged, and a walk's output. */
typedef struct walk_fixture {
    tmpdir_t d;
    store_dirs_t dirs;
    world_t w;
    txnlog_writer_t log;
    buf_t b; /* a txn body */
    snapshot_sink_t sink;
    snap_walk_t *walk;
    int64_t snap_zxid;
} walk_fixture_t;

static void walk_fixture_init(walk_fixture_t *f)
{
    store_err_t err;
    tmp_make(&f->d);
    assert_int_equal(store_dirs_open(&f->dirs, f->d.base, NULL, false, &err), 0);
    world_init(&f->w);
    txnlog_writer_init(&f->log, f->d.v2, 0, true);
    buf_init(&f->b);
    snapshot_sink_init(&f->sink);
}

/* The snapshot starts at the last zxid applied. */
static void walk_fixture_begin(walk_fixture_t *f)
{
    f->snap_zxid = f->w.zxid;
    tree_hold_nodes(&f->w.tree);
    f->walk = snapshot_walk_begin(&f->w.tree, NULL, 0, snapshot_sink_put, &f->sink);
}

/* Walk to the end, write snapshot.<zxid> with its tail as the file thread
 * would, close the log, and recover the data dir into *t (checked against
 * the live tree). The caller frees *t and *rec. */
static void walk_fixture_recover(walk_fixture_t *f, tree_t *t, store_recovery_t *rec)
{
    store_err_t err;
    int rc;
    while ((rc = snapshot_walk_step(f->walk, &f->w.tree, 1, &err)) == 0)
        ;
    assert_int_equal(rc, 1);
    assert_int_equal(snapshot_walk_finish(f->walk, &err), 0);
    snapshot_walk_free(f->walk);
    tree_release_nodes(&f->w.tree, true);
    snapshot_sink_seal(&f->sink);
    assert_int_equal(txnlog_sync(&f->log, &err), 0);
    txnlog_writer_close(&f->log);
    char snap[400];
    snprintf(snap, sizeof snap, "%s/snapshot.%" PRIx64, f->d.v2, f->snap_zxid);
    write_file(snap, f->sink.bytes.data, f->sink.bytes.len);
    assert_true(snapshot_looks_valid(snap));
    store_recover_opts_t o;
    store_recover_opts_default(&o);
    o.extended_types = true;
    replay_t r = {t, 0, 0};
    if (store_recover(&f->dirs, &o, t, rec, &(store_replay_t){NULL, apply_cb, &r}, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(rec->snapshot.zxid, f->snap_zxid);
    assert_int_equal(rec->txns_replayed, f->w.zxid - f->snap_zxid);
    /* A trailer naming no zxid: nothing to compare. */
    assert_true(rec->snapshot.digest.present);
    assert_int_equal(rec->snapshot.digest.zxid, 0);
    assert_trees_equal(&f->w.tree, t);
}

/* walk_fixture_recover, then: `gone` is not in the recovered tree and
 * `kept` is. Frees the recovered tree (not the fixture). */
static void walk_fixture_recover_expect(walk_fixture_t *f, const char *gone, const char *kept)
{
    tree_t t;
    store_recovery_t rec;
    walk_fixture_recover(f, &t, &rec);
    assert_null(tree_get(&t, gone, strlen(gone)));
    assert_non_null(tree_get(&t, kept, strlen(kept)));
    store_recovery_free(&rec);
    tree_free(&t);
}

static void walk_fixture_free(walk_fixture_t *f)
{
    buf_free(&f->sink.bytes);
    buf_free(&f->b);
    tree_free(&f->w.tree);
    tmp_remove(&f->d);
}

/* A snapshot walked one node per step while a txn is applied (and logged)
 * between steps: creates with ACL lists the map has never seen, setData,
 * setACL to new lists, deletes of nodes already written and of nodes still
 * on the walk's stack (their blocks are held, not reused), re-creates.
 * Recovery (the walk's file + the log after its zxid) gives the live tree. */
static void test_snapshot_walk_over_mutations(void **state)
{
    (void)state;
    walk_fixture_t f;
    walk_fixture_init(&f);
    world_t *w = &f.w;
    buf_t *b = &f.b;
    build_tree(w, &f.log);
    char path[64];
    txn_write_create(b, JSTR_LIT("/walk"), JSTR_LIT("w"), OPEN, 1, false, 1);
    log_txn(w, &f.log, ZOP_CREATE, b);
    for (int i = 0; i < 40; i++) {
        buf_reset(b);
        snprintf(path, sizeof path, "/walk/k%02d", i);
        txn_write_create(b, jstr_from_cstr(path), JSTR_LIT("v"), OPEN, 1, false, i + 2);
        log_txn(w, &f.log, ZOP_CREATE, b);
    }
    walk_fixture_begin(&f);
    store_err_t err;
    int step = 0;
    while (snapshot_walk_step(f.walk, &w->tree, 1, &err) == 0) {
        buf_reset(b);
        int k = step % 40;
        snprintf(path, sizeof path, "/walk/k%02d", k);
        char ip[32];
        snprintf(ip, sizeof ip, "10.0.%d.%d", step / 200, step % 200);
        zk_acl_ref_t fresh = {ZK_PERM_ALL, JSTR_LIT("ip"), jstr_from_cstr(ip)};
        znode_t *n = tree_get(&w->tree, path, strlen(path));
        switch (step % 5) {
        case 0: /* a child with an ACL list interned after the map */
            if (!n)
                break;
            snprintf(path + strlen(path), sizeof path - strlen(path), "/c%d", step);
            /* As prep writes it: the parent's cversion after this create. */
            txn_write_create(b, jstr_from_cstr(path), JSTR_LIT("c"), &fresh, 1, false,
                             znode_cversion(n) + 1);
            log_txn(w, &f.log, ZOP_CREATE, b);
            break;
        case 1:
            txn_write_set_data(b, jstr_from_cstr(path), JSTR_LIT("changed"),
                               n ? znode_version(n) + 1 : 0);
            log_txn(w, &f.log, n ? ZOP_SET_DATA : ZOP_ERROR, b);
            break;
        case 2:
            txn_write_set_acl(b, jstr_from_cstr(path), &fresh, 1, n ? znode_aversion(n) + 1 : 0);
            log_txn(w, &f.log, n ? ZOP_SET_ACL : ZOP_ERROR, b);
            break;
        case 3: /* delete a leaf: walked already or still on the stack */
            snprintf(path, sizeof path, "/walk/k%02d", 39 - k);
            n = tree_get(&w->tree, path, strlen(path));
            if (n && !znode_has_kids(n)) {
                txn_write_delete(b, jstr_from_cstr(path));
                log_txn(w, &f.log, ZOP_DELETE, b);
            }
            break;
        default: /* re-create what a delete took */
            snprintf(path, sizeof path, "/walk/k%02d", 39 - k + 1 < 40 ? 39 - k + 1 : 0);
            if (!tree_get(&w->tree, path, strlen(path))) {
                txn_write_create(b, jstr_from_cstr(path), JSTR_LIT("again"), OPEN, 1, false,
                                 znode_cversion(tree_get(&w->tree, "/walk", 5)) + 1);
                log_txn(w, &f.log, ZOP_CREATE, b);
            }
            break;
        }
        step++;
    }
    assert_true(step > 40);          /* the walk spanned the mutations */
    assert_true(w->tree.held_n > 0); /* and some nodes died under it */
    tree_t t;
    store_recovery_t rec;
    walk_fixture_recover(&f, &t, &rec);
    assert_true(rec.snapshot.pending_acls > 0);
    store_recovery_free(&rec);
    tree_free(&t);
    walk_fixture_free(&f);
}

/* Txns the walk tests apply and log between steps (they use the test's `f`,
 * `w` and `b`). */
#define CVER(p) (znode_cversion(tree_get(&w->tree, (p), strlen(p))) + 1)
#define CREATE(p, data, acl)                                                                       \
    do {                                                                                           \
        char par[32];                                                                              \
        snprintf(par, sizeof par, "%.*s", (int)tree_parent_len((p), strlen(p)), (p));              \
        buf_reset(b);                                                                              \
        txn_write_create(b, JSTR_LIT(p), JSTR_LIT(data), (acl), 1, false,                          \
                         CVER(par[1] ? par : "/"));                                                \
        log_txn(w, &f.log, ZOP_CREATE, b);                                                         \
    } while (0)
#define DELETE(p)                                                                                  \
    do {                                                                                           \
        buf_reset(b);                                                                              \
        txn_write_delete(b, JSTR_LIT(p));                                                          \
        log_txn(w, &f.log, ZOP_DELETE, b);                                                         \
    } while (0)

/* Paths deleted and re-created (with children, new ACLs) while the walk has
 * not reached their parent: the snapshot holds the later incarnation, and
 * replaying the earlier one's setData, setACL, child churn and delete must
 * not touch it (review of the fuzzy writer: data, version, cversion and a
 * world-readable ACL on a digest-only node came back wrong). */
static void test_snapshot_walk_reincarnated_paths(void **state)
{
    (void)state;
    walk_fixture_t f;
    walk_fixture_init(&f);
    world_t *w = &f.w;
    buf_t *b = &f.b;
    static const zk_acl_ref_t DIGEST[] = {{ZK_PERM_ALL, JSTR_LIT("digest"), JSTR_LIT("u:x")}};
    CREATE("/a", "a", OPEN); /* visited first: the walk starts at once */
    CREATE("/g", "g", OPEN); /* the last child of / is visited last */
    CREATE("/g/p", "old", OPEN);
    CREATE("/g/h", "h", OPEN);
    CREATE("/g/h/x", "x", OPEN);
    CREATE("/g/q", "q", OPEN);
    walk_fixture_begin(&f);
    store_err_t err;
    assert_int_equal(snapshot_walk_step(f.walk, &w->tree, 2, &err), 0); /* "/" and "/a"... */
    /* ... while /g waits on the stack: */
    buf_reset(b);
    txn_write_set_data(b, JSTR_LIT("/g/p"), JSTR_LIT("modified"), 1);
    log_txn(w, &f.log, ZOP_SET_DATA, b);
    DELETE("/g/p");
    CREATE("/g/p", "new", OPEN);
    CREATE("/g/p/c", "c", OPEN);
    CREATE("/g/h/y", "y", OPEN);
    DELETE("/g/h/y");
    DELETE("/g/h/x");
    DELETE("/g/h");
    CREATE("/g/h", "h2", OPEN);
    CREATE("/g/h/z", "z", OPEN);
    buf_reset(b);
    txn_write_set_acl(b, JSTR_LIT("/g/q"), OPEN, 1, 1);
    log_txn(w, &f.log, ZOP_SET_ACL, b);
    DELETE("/g/q");
    CREATE("/g/q", "q2", DIGEST);
    tree_t t;
    store_recovery_t rec;
    walk_fixture_recover(&f, &t, &rec);
    const znode_t *q = tree_get(&t, "/g/q", 4);
    assert_non_null(q);
    assert_string_equal(znode_acl(&t, q)->list.v[0].scheme, "digest");
    store_recovery_free(&rec);
    tree_free(&t);
    walk_fixture_free(&f);
}

/* During a walk only removed nodes still on its stack keep their blocks:
 * not nodes whose parent the walk has not reached, nor nodes created (and
 * removed) under a parent it has written. Create/delete churn during a
 * snapshot thus costs no memory. */
static void test_snapshot_walk_holds_only_stacked_nodes(void **state)
{
    (void)state;
    walk_fixture_t f;
    walk_fixture_init(&f);
    world_t *w = &f.w;
    buf_t *b = &f.b;
    CREATE("/a", "a", OPEN);
    CREATE("/a/1", "1", OPEN);
    CREATE("/a/2", "2", OPEN);
    CREATE("/g", "g", OPEN);
    CREATE("/g/1", "1", OPEN);
    walk_fixture_begin(&f);
    store_err_t err;
    assert_int_equal(snapshot_walk_step(f.walk, &w->tree, 1, &err), 0); /* "/" */
    DELETE("/g/1"); /* /g not written yet: /g/1 was never pushed */
    CREATE("/g/2", "2", OPEN);
    DELETE("/g/2");
    CREATE("/n", "n", OPEN); /* under "/", written: the walk never reaches it */
    DELETE("/n");
    assert_int_equal(w->tree.held_n, 0);
    const znode_t *a = tree_get(&w->tree, "/a", 2);
    while (!tree_walk_written(&w->tree, a))
        assert_int_equal(snapshot_walk_step(f.walk, &w->tree, 1, &err), 0);
    DELETE("/a/1"); /* pushed with /a, not yet written: held */
    assert_int_equal(w->tree.held_n, 1);
    CREATE("/a/3", "3", OPEN);
    DELETE("/a/3");
    assert_int_equal(w->tree.held_n, 1);
    walk_fixture_recover_expect(&f, "/a/1", "/a/2");
    walk_fixture_free(&f);
}

/* A walk cut short (the file thread failed) leaves stale marks: the next
 * walk must hold every removed node, or a node still on its stack that the
 * stale marks call written would be freed under it. */
static void test_snapshot_walk_after_one_cut_short(void **state)
{
    (void)state;
    walk_fixture_t f;
    walk_fixture_init(&f);
    world_t *w = &f.w;
    buf_t *b = &f.b;
    CREATE("/a", "a", OPEN);
    CREATE("/g", "g", OPEN);
    walk_fixture_begin(&f);
    store_err_t err;
    assert_int_equal(snapshot_walk_step(f.walk, &w->tree, 1, &err), 0); /* "/" */
    snapshot_walk_free(f.walk);                                         /* cut short */
    tree_release_nodes(&w->tree, false);
    snapshot_sink_reset(&f.sink);
    walk_fixture_begin(&f);
    assert_int_equal(snapshot_walk_step(f.walk, &w->tree, 1, &err), 0); /* "/" */
    DELETE("/g");                                                       /* on the stack */
    assert_int_equal(w->tree.held_n, 1);
    walk_fixture_recover_expect(&f, "/g", "/a");
    assert_false(w->tree.walk_marks_stale); /* that walk reached all */
    walk_fixture_free(&f);
}
#undef CREATE
#undef DELETE
#undef CVER

/* Quota stats after a load are ZooKeeper's: rebuilt for paths that have a
 * zookeeper_limits node, stored bytes kept for a zookeeper_stats node
 * alone (the fuzzy-snapshot checker found it recounted at load). */
static void test_snapshot_load_quota_stats(void **state)
{
    (void)state;
    world_t w;
    world_init(&w);
    buf_t b;
    buf_init(&b);
#define STEP(type, ...)                                                                            \
    do {                                                                                           \
        buf_reset(&b);                                                                             \
        __VA_ARGS__;                                                                               \
        txn_header_t h = next_header(&w, 0x42, (type));                                            \
        apply_body(&w, &h, &b);                                                                    \
    } while (0)
    STEP(ZOP_CREATE, txn_write_create(&b, JSTR_LIT("/c1"), JSTR_LIT("ab"), OPEN, 1, false, 1));
    STEP(ZOP_CREATE, txn_write_create(&b, JSTR_LIT("/c2"), JSTR_LIT("xyz"), OPEN, 1, false, 2));
    STEP(ZOP_CREATE, txn_write_create(&b, JSTR_LIT("/c2/k"), JSTR_LIT("1234"), OPEN, 1, false, 1));
    STEP(ZOP_CREATE,
         txn_write_create(&b, JSTR_LIT("/zookeeper/quota/c1"), JSTR_NULL, OPEN, 1, false, 1));
    STEP(ZOP_CREATE, txn_write_create(&b, JSTR_LIT("/zookeeper/quota/c1/zookeeper_stats"),
                                      JSTR_LIT("count=0,bytes=0"), OPEN, 1, false, 1));
    STEP(ZOP_SET_DATA, txn_write_set_data(&b, JSTR_LIT("/zookeeper/quota/c1/zookeeper_stats"),
                                          JSTR_LIT("count=5,bytes=50"), 1));
    STEP(ZOP_CREATE,
         txn_write_create(&b, JSTR_LIT("/zookeeper/quota/c2"), JSTR_NULL, OPEN, 1, false, 2));
    STEP(ZOP_CREATE, txn_write_create(&b, JSTR_LIT("/zookeeper/quota/c2/zookeeper_limits"),
                                      JSTR_LIT("count=10,bytes=-1"), OPEN, 1, false, 1));
    STEP(ZOP_CREATE, txn_write_create(&b, JSTR_LIT("/zookeeper/quota/c2/zookeeper_stats"),
                                      JSTR_LIT("count=0,bytes=0"), OPEN, 1, false, 2));
#undef STEP
    const znode_t *s1 = tree_get(&w.tree, "/zookeeper/quota/c1/zookeeper_stats", 35);
    const znode_t *s2 = tree_get(&w.tree, "/zookeeper/quota/c2/zookeeper_stats", 35);
    assert_int_equal(s1->data_len, 16);
    assert_memory_equal(znode_data(s1), "count=5,bytes=50", 16);
    assert_int_equal(s2->data_len, 15);
    assert_memory_equal(znode_data(s2), "count=2,bytes=7", 15);
    tmpdir_t d;
    tmp_make(&d);
    char path[400];
    snprintf(path, sizeof path, "%s/snap", d.base);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    store_err_t err;
    assert_int_equal(snapshot_write_fd(fd, &w.tree, NULL, 0, NULL, STORE_PLAIN, NULL, &err), 0);
    close(fd);
    buf_t f;
    read_file(path, &f);
    tree_t t;
    snapshot_info_t info;
    if (snapshot_read_mem(f.data, f.len, "snap", false, NULL, &t, &info, &err) != 0)
        fail_msg("%s", err.msg);
    assert_trees_equal(&w.tree, &t);
    /* And the rebuilt root is tracked: one more node under /c2 counts. */
    buf_reset(&b);
    txn_write_create(&b, JSTR_LIT("/c2/m"), JSTR_LIT(""), OPEN, 1, false, 2);
    txn_header_t h = next_header(&w, 0x42, ZOP_CREATE);
    assert_true(txn_apply(&t, NULL, &h, b.data, b.len, NULL));
    const znode_t *s3 = tree_get(&t, "/zookeeper/quota/c2/zookeeper_stats", 35);
    assert_int_equal(s3->data_len, 15);
    assert_memory_equal(znode_data(s3), "count=3,bytes=7", 15);
    snapshot_info_free(&info);
    tree_free(&t);
    buf_free(&f);
    buf_free(&b);
    tree_free(&w.tree);
    tmp_remove(&d);
}

static void test_recover_refusals(void **state)
{
    (void)state;
    tmpdir_t d;
    tmp_make(&d);
    store_dirs_t dirs;
    store_err_t err;
    tree_t t;
    store_recovery_t rec;
    store_recover_opts_t o;
    store_recover_opts_default(&o);
    assert_int_equal(store_dirs_open(&dirs, d.base, NULL, false, &err), 0);
    /* Nothing at all: a fresh tree, last zxid 0. */
    assert_int_equal(store_recover(&dirs, &o, &t, &rec, NULL, &err), 0);
    assert_false(rec.have_snapshot);
    assert_int_equal(rec.last_zxid, 0);
    store_recovery_free(&rec);
    tree_free(&t);
    /* Logs but no snapshot: refused unless trust_empty_snapshot. */
    write_simple_log(dirs.log_dir, 1, 3, 0);
    assert_int_equal(store_recover(&dirs, &o, &t, &rec, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "no snapshot"));
    store_recovery_free(&rec);
    tree_free(&t);
    o.trust_empty_snapshot = true;
    replay_t r = {&t, 0, 0};
    assert_int_equal(
        store_recover(&dirs, &o, &t, &rec, &(store_replay_t){NULL, apply_cb, &r}, &err), 0);
    assert_int_equal(rec.txns_replayed, 3);
    assert_non_null(tree_get(&t, "/n2", 3));
    store_recovery_free(&rec);
    tree_free(&t);
    o.trust_empty_snapshot = false;
    /* Only a broken snapshot: refused (never silently empty). */
    char p[400];
    snprintf(p, sizeof p, "%s/snapshot.0", d.v2);
    write_file(p, "garbage.garbage.garbage\0\0\0\1/", 28);
    assert_int_equal(store_recover(&dirs, &o, &t, &rec, NULL, &err), -1);
    if (!strstr(err.msg, "none of the 1 snapshot files") || !strstr(err.msg, "bad magic"))
        fail_msg("%s", err.msg);
    store_recovery_free(&rec);
    tree_free(&t);
    /* An unknown snapshot format version is fatal, not skipped. */
    tree_t fresh;
    tree_init(&fresh, false);
    assert_int_equal(
        snapshot_write(dirs.snap_dir, 0, &fresh, NULL, 0, NULL, NULL, p, sizeof p, &err), 0);
    tree_free(&fresh);
    buf_t f;
    read_file(p, &f);
    f.data[7] = 3;
    write_file(p, f.data, f.len);
    buf_free(&f);
    assert_int_equal(store_recover(&dirs, &o, &t, &rec, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "unknown snapshot format version 3"));
    store_recovery_free(&rec);
    tree_free(&t);
    /* A newer on-disk layout next to version-2 is refused up front. */
    char v3[400];
    snprintf(v3, sizeof v3, "%s/version-3", d.base);
    assert_int_equal(mkdir(v3, 0755), 0);
    assert_int_equal(store_dirs_open(&dirs, d.base, NULL, false, &err), -1);
    assert_non_null(strstr(err.msg, "unknown on-disk format version 3"));
    rmdir(v3);
    /* Separate log dir: logs in the snapshot dir are refused. */
    tmpdir_t l;
    tmp_make(&l);
    assert_int_equal(store_dirs_open(&dirs, d.base, l.base, false, &err), -1);
    assert_non_null(strstr(err.msg, "snapshot directory holds log files"));
    tmp_remove(&l);
    tmp_remove(&d);
}

/* ---- purge and epochs ------------------------------------------------------------------ */

static void test_purge(void **state)
{
    (void)state;
    tmpdir_t d;
    tmp_make(&d);
    tree_t t;
    tree_init(&t, false);
    store_err_t err;
    /* logs at 1, 0x10, 0x20, 0x30; snapshots at 0x8, 0x18, 0x28, 0x38 (+ a broken 0x40). */
    int64_t logs[] = {1, 0x10, 0x20, 0x30};
    for (int i = 0; i < 4; i++)
        write_simple_log(d.v2, logs[i], 2, 0);
    int64_t snaps[] = {0x8, 0x18, 0x28, 0x38};
    for (int i = 0; i < 4; i++)
        assert_int_equal(snapshot_write(d.v2, snaps[i], &t, NULL, 0, NULL, NULL, NULL, 0, &err), 0);
    char p[400];
    snprintf(p, sizeof p, "%s/snapshot.40", d.v2);
    write_file(p, "broken", 6);
    store_removed_t rm;
    assert_int_equal(store_purge(d.v2, d.v2, 2, &rm, &err), -1);
    assert_int_equal(store_purge(d.v2, d.v2, 3, &rm, &err), 0);
    /* Kept: snapshots 0x18, 0x28, 0x38 (0x40 is not valid, so not counted),
     * log.10 (needed from 0x18), log.20, log.30. Removed: log.1, snapshot.8. */
    assert_int_equal(rm.n, 2);
    assert_non_null(strstr(rm.paths[0], "/log.1"));
    assert_non_null(strstr(rm.paths[1], "/snapshot.8"));
    store_removed_free(&rm);
    store_file_list_t l;
    assert_int_equal(store_list(d.v2, STORE_LOG, true, &l, &err), 0);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.v[0].zxid, 0x10);
    store_file_list_free(&l);
    assert_int_equal(store_list(d.v2, STORE_SNAPSHOT, true, &l, &err), 0);
    assert_int_equal(l.n, 4);
    store_file_list_free(&l);
    tree_free(&t);
    tmp_remove(&d);
}

static void test_epoch_files(void **state)
{
    (void)state;
    tmpdir_t d;
    tmp_make(&d);
    store_err_t err;
    int64_t v = 42;
    bool missing;
    assert_int_equal(store_epoch_read(d.v2, STORE_CURRENT_EPOCH, &v, &missing, &err), 0);
    assert_true(missing);
    assert_int_equal(v, 42);
    assert_int_equal(store_epoch_write(d.v2, STORE_CURRENT_EPOCH, 7, &err), 0);
    char p[400];
    snprintf(p, sizeof p, "%s/currentEpoch", d.v2);
    buf_t f;
    read_file(p, &f);
    assert_int_equal(f.len, 1); /* "7", no newline: as ZooKeeper writes it */
    assert_int_equal(f.data[0], '7');
    buf_free(&f);
    assert_int_equal(store_epoch_read(d.v2, STORE_CURRENT_EPOCH, &v, &missing, &err), 0);
    assert_false(missing);
    assert_int_equal(v, 7);
    write_file(p, "12\n", 3);
    assert_int_equal(store_epoch_read(d.v2, STORE_CURRENT_EPOCH, &v, &missing, &err), 0);
    assert_int_equal(v, 12);
    write_file(p, "x1", 2);
    assert_int_equal(store_epoch_read(d.v2, STORE_CURRENT_EPOCH, &v, &missing, &err), -1);
    assert_non_null(strstr(err.msg, "currentEpoch"));
    tmp_remove(&d);
}

static void test_roll_policy(void **state)
{
    (void)state;
    store_roll_policy_t p;
    store_roll_policy_init(&p, 100000, 0, 12345);
    assert_true(p.rand_txns >= 0 && p.rand_txns < 50000);
    assert_false(store_roll_due(&p, 50000, 1LL << 40));
    assert_true(store_roll_due(&p, 100000, 0));
    store_roll_policy_init(&p, 10, 4096, 7);
    assert_true(store_roll_due(&p, 0, 4096));
    assert_false(store_roll_due(&p, 0, 2048));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_digest_fresh_tree),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_entry_roundtrip_every_type),
        cmocka_unit_test(test_entry_create_v0_and_bad_types),
        cmocka_unit_test(test_entry_matches_zookeeper),
        cmocka_unit_test(test_log_write_read_preallocated),
        cmocka_unit_test(test_log_roll_and_multiple_files),
        cmocka_unit_test(test_log_torn_tail_every_offset),
        cmocka_unit_test(test_log_bit_flip_in_middle_is_fatal),
        cmocka_unit_test(test_log_corruption_in_earlier_file),
        cmocka_unit_test(test_log_bad_magic_and_version),
        cmocka_unit_test(test_log_truncate_after),
        cmocka_unit_test(test_snapshot_fresh_matches_zookeeper),
        cmocka_unit_test(test_snapshot_roundtrip_varied_tree),
        cmocka_unit_test(test_snapshot_rejects_damage),
        cmocka_unit_test(test_recover_snapshot_plus_log_with_fallback),
        cmocka_unit_test(test_snapshot_walk_over_mutations),
        cmocka_unit_test(test_snapshot_walk_reincarnated_paths),
        cmocka_unit_test(test_snapshot_walk_holds_only_stacked_nodes),
        cmocka_unit_test(test_snapshot_walk_after_one_cut_short),
        cmocka_unit_test(test_snapshot_load_quota_stats),
        cmocka_unit_test(test_recover_fuzzy_snapshot_missing_acl),
        cmocka_unit_test(test_recover_refusals),
        cmocka_unit_test(test_purge),
        cmocka_unit_test(test_epoch_files),
        cmocka_unit_test(test_roll_policy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
