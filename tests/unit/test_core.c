/* test_core: unit tests of the tree, the watch manager, prep and apply
 * working together, without sockets: the deterministic core of the server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/path.h"
#include "tree/quota.h"
#include "tree/tree.h"
#include "tree/watch.h"
#include "txn/prep.h"
#include "txn/txn.h"

typedef struct event {
    watch_owner_t *owner;
    int32_t type;
    char path[64];
} event_t;

typedef struct core {
    tree_t tree;
    prep_t prep;
    watch_mgr_t wm;
    int64_t zxid;
    event_t events[32];
    int nevents;
    bool deny_all;
} core_t;

static void deliver(void *ctx, watch_owner_t *o, int32_t type, const char *path, size_t len,
                    const void *acl)
{
    (void)acl;
    core_t *c = ctx;
    assert_true(c->nevents < 32);
    event_t *e = &c->events[c->nevents++];
    e->owner = o;
    e->type = type;
    snprintf(e->path, sizeof(e->path), "%.*s", (int)len, path);
}

static bool allow(void *ctx, const tree_acl_t *acl, int32_t perm)
{
    (void)acl;
    (void)perm;
    return !((core_t *)ctx)->deny_all;
}

static int32_t fixup(void *ctx, const zk_acl_refs_t *in, acl_list_t *out)
{
    (void)ctx;
    if (in->n <= 0)
        return ZINVALIDACL;
    for (int32_t i = 0; i < in->n; i++)
        acl_list_push(out, in->v[i].perms, in->v[i].scheme, in->v[i].id);
    return ZOK;
}

static core_t *core_new(bool ext)
{
    core_t *c = calloc(1, sizeof(*c));
    tree_init(&c->tree, ext);
    prep_init(&c->prep, &c->tree, ext, false);
    watch_mgr_init(&c->wm, deliver, c);
    return c;
}

static void core_free(core_t *c)
{
    prep_free(&c->prep);
    watch_mgr_free(&c->wm);
    tree_free(&c->tree);
    free(c);
}

static zk_acl_ref_t open_acl = {31, {"world", 5}, {"anyone", 6}};

/* Run one write through prep and apply; returns the reply error and fills res. */
static int32_t write_op(core_t *c, int64_t sid, zk_request_t *r, txn_result_t *res)
{
    prep_acl_ops_t ops = {allow, fixup, c};
    prep_req_t in = {.session_id = sid,
                     .cxid = 1,
                     .zxid = ++c->zxid,
                     .time_ms = 1000 + c->zxid,
                     .type = r->type,
                     .req = r,
                     .acl = &ops};
    txn_header_t h;
    buf_t body;
    buf_init(&body);
    int32_t err = prep_write(&c->prep, &in, &h, &body);
    assert_true(txn_apply(&c->tree, &c->wm, &h, body.data, body.len, res));
    prep_committed(&c->prep, h.zxid);
    res->txn_body = body;
    return err;
}

static int32_t create(core_t *c, int64_t sid, const char *path, const char *data, int32_t flags,
                      char *out_path, size_t out_len)
{
    zk_request_t r = {.type = ZOP_CREATE};
    r.op.type = ZOP_CREATE;
    r.op.path = jstr_from_cstr(path);
    r.op.data = data ? jstr_from_cstr(data) : JSTR_NULL;
    r.op.acl = (zk_acl_refs_t){&open_acl, 1};
    r.op.flags = flags;
    r.op.ttl = -1;
    txn_result_t res;
    int32_t err = write_op(c, sid, &r, &res);
    if (err == ZOK && out_path)
        snprintf(out_path, out_len, "%.*s", (int)res.single.path.len, res.single.path.ptr);
    txn_result_free(&res);
    return err;
}

static int32_t delete_node(core_t *c, const char *path, int32_t version)
{
    zk_request_t r = {.type = ZOP_DELETE};
    r.op.type = ZOP_DELETE;
    r.op.path = jstr_from_cstr(path);
    r.op.version = version;
    txn_result_t res;
    int32_t err = write_op(c, 1, &r, &res);
    txn_result_free(&res);
    return err;
}

static void test_builtin_stats(void **state)
{
    (void)state;
    core_t *c = core_new(false);
    zk_stat_t st;
    znode_stat(&c->tree, c->tree.root, &st);
    assert_int_equal(st.cversion, -1);
    assert_int_equal(st.num_children, 1);
    znode_stat(&c->tree, tree_get(&c->tree, "/zookeeper", 10), &st);
    assert_int_equal(st.cversion, -2);
    znode_t *cfg = tree_get(&c->tree, "/zookeeper/config", 17);
    assert_non_null(cfg);
    assert_int_equal(znode_aversion(cfg), -1);
    assert_int_equal(c->tree.node_count, 4);
    core_free(c);
}

static void test_create_stat_and_sequence(void **state)
{
    (void)state;
    core_t *c = core_new(false);
    char p[64];
    assert_int_equal(create(c, 1, "/a", "hi", ZMODE_PERSISTENT, p, sizeof(p)), ZOK);
    assert_string_equal(p, "/a");
    znode_t *a = tree_get(&c->tree, "/a", 2);
    zk_stat_t st;
    znode_stat(&c->tree, a, &st);
    assert_int_equal(st.czxid, c->zxid);
    assert_int_equal(st.mzxid, c->zxid);
    assert_int_equal(st.pzxid, c->zxid);
    assert_int_equal(st.data_length, 2);
    assert_int_equal(create(c, 1, "/a/x", NULL, ZMODE_PERSISTENT, p, sizeof(p)), ZOK);
    assert_int_equal(create(c, 1, "/a/s-", NULL, ZMODE_PERSISTENT_SEQUENTIAL, p, sizeof(p)), ZOK);
    assert_string_equal(p, "/a/s-0000000001");
    /* A failed create consumes a zxid but not a sequence number. */
    int64_t before = c->zxid;
    assert_int_equal(create(c, 1, "/a/x", NULL, ZMODE_PERSISTENT, NULL, 0), ZNODEEXISTS);
    assert_int_equal(c->zxid, before + 1);
    assert_int_equal(create(c, 1, "/a/s-", NULL, ZMODE_PERSISTENT_SEQUENTIAL, p, sizeof(p)), ZOK);
    assert_string_equal(p, "/a/s-0000000002");
    assert_int_equal(prep_outstanding(&c->prep), 0);
    assert_int_equal(delete_node(c, "/a/x", -1), ZOK);
    a = tree_get(&c->tree, "/a", 2); /* moved: made full by its first child */
    znode_stat(&c->tree, a, &st);
    assert_int_equal(st.num_children, 2);
    assert_int_equal(st.cversion, 4); /* 3 creates + 1 delete */
    assert_int_equal(st.pzxid, c->zxid);
    core_free(c);
}

static void test_create_errors_in_order(void **state)
{
    (void)state;
    core_t *c = core_new(false);
    assert_int_equal(create(c, 1, "/x", NULL, 7, NULL, 0), ZBADARGUMENTS);
    assert_int_equal(create(c, 1, "/x", NULL, ZMODE_PERSISTENT_WITH_TTL, NULL, 0), ZUNIMPLEMENTED);
    assert_int_equal(create(c, 1, "x", NULL, 0, NULL, 0), ZBADARGUMENTS);
    assert_int_equal(create(c, 1, "/no/x", NULL, 0, NULL, 0), ZNONODE);
    assert_int_equal(create(c, 1, "/", NULL, 0, NULL, 0), ZNODEEXISTS);
    assert_int_equal(create(c, 1, "/e", NULL, ZMODE_EPHEMERAL, NULL, 0), ZOK);
    assert_int_equal(create(c, 1, "/e/c", NULL, 0, NULL, 0), ZNOCHILDRENFOREPHEMERALS);
    assert_int_equal(create(c, 1, "/e/", NULL, 0, NULL, 0), ZBADARGUMENTS);
    c->deny_all = true;
    assert_int_equal(create(c, 1, "/d", NULL, 0, NULL, 0), ZNOAUTH);
    core_free(c);
}

static void test_delete_checks(void **state)
{
    (void)state;
    core_t *c = core_new(false);
    assert_int_equal(delete_node(c, "/", -1), ZBADARGUMENTS);
    assert_int_equal(delete_node(c, "/zookeeper", -1), ZBADARGUMENTS);
    assert_int_equal(create(c, 1, "/p", NULL, 0, NULL, 0), ZOK);
    assert_int_equal(create(c, 1, "/p/c", NULL, 0, NULL, 0), ZOK);
    assert_int_equal(delete_node(c, "/p", 5), ZBADVERSION);
    assert_int_equal(delete_node(c, "/p", 0), ZNOTEMPTY);
    assert_int_equal(delete_node(c, "/q/c", -1), ZNONODE);
    core_free(c);
}

static void test_watch_order_and_oneshot(void **state)
{
    (void)state;
    core_t *c = core_new(false);
    watch_owner_t w1, w2;
    watch_owner_init(&w1);
    watch_owner_init(&w2);
    watch_add(&c->wm, WT_DATA, &w1, "/n", 2, WMODE_STANDARD);
    watch_add(&c->wm, WT_CHILD, &w2, "/", 1, WMODE_STANDARD);
    watch_add(&c->wm, WT_DATA, &w2, "/", 1, WMODE_RECURSIVE);
    assert_int_equal(create(c, 1, "/n", NULL, 0, NULL, 0), ZOK);
    /* NodeCreated(/n) to w1, then w2 gets NodeCreated via its recursive
     * watch on "/"; NodeChildrenChanged(/) is a separate trigger. */
    assert_int_equal(c->nevents, 3);
    assert_ptr_equal(c->events[0].owner, &w1);
    assert_int_equal(c->events[0].type, ZEV_CREATED);
    assert_ptr_equal(c->events[1].owner, &w2);
    assert_int_equal(c->events[1].type, ZEV_CREATED);
    assert_int_equal(c->events[2].type, ZEV_CHILDREN_CHANGED);
    assert_string_equal(c->events[2].path, "/");
    c->nevents = 0;
    assert_int_equal(delete_node(c, "/n", -1), ZOK);
    /* w1's one-shot watch is gone; the recursive one stays; no children
     * watch left on "/" (it fired). */
    assert_int_equal(c->nevents, 1);
    assert_ptr_equal(c->events[0].owner, &w2);
    assert_int_equal(c->events[0].type, ZEV_DELETED);
    watch_owner_clear(&c->wm, &w1);
    watch_owner_clear(&c->wm, &w2);
    assert_int_equal(watch_count(&c->wm), 0);
    core_free(c);
}

static void test_multi_failure_rolls_back(void **state)
{
    (void)state;
    core_t *c = core_new(false);
    zk_op_t ops[3];
    memset(ops, 0, sizeof(ops));
    ops[0] = (zk_op_t){.type = ZOP_CREATE,
                       .path = JSTR_LIT("/m1"),
                       .data = JSTR_NULL,
                       .acl = {&open_acl, 1},
                       .ttl = -1};
    ops[1] = (zk_op_t){.type = ZOP_CHECK, .path = JSTR_LIT("/m1"), .version = 5};
    ops[2] = (zk_op_t){.type = ZOP_CREATE,
                       .path = JSTR_LIT("/m2"),
                       .data = JSTR_NULL,
                       .acl = {&open_acl, 1},
                       .ttl = -1};
    zk_request_t r = {.type = ZOP_MULTI, .ops = ops, .nops = 3};
    txn_result_t res;
    assert_int_equal(write_op(c, 1, &r, &res), ZOK);
    assert_int_equal(res.nops, 3);
    assert_int_equal(res.ops[0].err, ZOK);
    assert_int_equal(res.ops[0].type, ZOP_ERROR);
    assert_int_equal(res.ops[1].err, ZBADVERSION);
    assert_int_equal(res.ops[2].err, ZRUNTIMEINCONSISTENCY);
    txn_result_free(&res);
    assert_null(tree_get(&c->tree, "/m1", 3));
    assert_int_equal(prep_outstanding(&c->prep), 0);
    ops[1].version = 0;
    assert_int_equal(write_op(c, 1, &r, &res), ZOK);
    assert_int_equal(res.ops[0].type, ZOP_CREATE);
    assert_int_equal(res.ops[1].type, ZOP_CHECK);
    assert_non_null(tree_get(&c->tree, "/m2", 3));
    txn_result_free(&res);
    core_free(c);
}

static void test_close_session_deletes_ephemerals(void **state)
{
    (void)state;
    core_t *c = core_new(false);
    assert_int_equal(create(c, 7, "/e1", NULL, ZMODE_EPHEMERAL, NULL, 0), ZOK);
    assert_int_equal(create(c, 7, "/e2", NULL, ZMODE_EPHEMERAL_SEQUENTIAL, NULL, 0), ZOK);
    assert_int_equal(create(c, 8, "/e3", NULL, ZMODE_EPHEMERAL, NULL, 0), ZOK);
    assert_int_equal(c->tree.ephemeral_count, 3);
    zk_request_t r = {.type = ZOP_CLOSE_SESSION};
    txn_result_t res;
    assert_int_equal(write_op(c, 7, &r, &res), ZOK);
    txn_result_free(&res);
    assert_int_equal(c->tree.ephemeral_count, 1);
    assert_int_equal(prep_outstanding(&c->prep), 0);
    assert_null(tree_get(&c->tree, "/e1", 3));
    assert_non_null(tree_get(&c->tree, "/e3", 3));
    core_free(c);
}

/* Replays over a fuzzy snapshot: a closeSession or delete txn whose node the
 * snapshot no longer holds still raises the parent's pzxid to the txn's zxid,
 * as ZooKeeper's deleteNode does (else the tree digest never matches the
 * log's). A closeSession path now owned by another session is deleted too. */
static void test_replay_of_delete_for_missing_node(void **state)
{
    (void)state;
    core_t *c = core_new(false);
    assert_int_equal(create(c, 1, "/app", NULL, 0, NULL, 0), ZOK);
    assert_int_equal(create(c, 7, "/app/e", NULL, ZMODE_EPHEMERAL, NULL, 0), ZOK);
    zk_request_t close_req = {.type = ZOP_CLOSE_SESSION};
    txn_result_t res;
    assert_int_equal(write_op(c, 7, &close_req, &res), ZOK);
    buf_t close_body = res.txn_body; /* carries the path list ["/app/e"] */
    res.txn_body = (buf_t){0};
    txn_result_free(&res);

    /* The "snapshot": /app as it was before /app/e existed (pzxid 1). */
    core_t *d = core_new(false);
    assert_int_equal(create(d, 1, "/app", NULL, 0, NULL, 0), ZOK);
    txn_header_t h = {
        .client_id = 7, .cxid = 9, .zxid = 3, .time_ms = 2000, .type = ZOP_CLOSE_SESSION};
    assert_true(txn_apply(&d->tree, &d->wm, &h, close_body.data, close_body.len, &res));
    txn_result_free(&res);
    znode_t *app = tree_get(&d->tree, "/app", 4);
    zk_stat_t st;
    znode_stat(&d->tree, app, &st);
    assert_int_equal(st.pzxid, 3);
    assert_int_equal(st.cversion, 0);
    assert_int_equal(st.num_children, 0);

    /* A delete of a child that is already gone: NONODE, pzxid raised. */
    buf_t del;
    buf_init(&del);
    jw_cstr(&del, "/app/gone");
    jw_int(&del, -1);
    h = (txn_header_t){.client_id = 1, .cxid = 10, .zxid = 5, .time_ms = 2001, .type = ZOP_DELETE};
    assert_true(txn_apply(&d->tree, &d->wm, &h, del.data, del.len, &res));
    assert_int_equal(res.single.err, ZNONODE);
    txn_result_free(&res);
    znode_stat(&d->tree, app, &st);
    assert_int_equal(st.pzxid, 5);
    /* An older zxid never lowers it. */
    h.zxid = 4;
    assert_true(txn_apply(&d->tree, &d->wm, &h, del.data, del.len, &res));
    txn_result_free(&res);
    znode_stat(&d->tree, app, &st);
    assert_int_equal(st.pzxid, 5);

    /* The closeSession's path now held by another session's node (re-created
     * after the snapshot): deleted as ZooKeeper does; a later replayed create
     * brings it back. */
    assert_int_equal(create(d, 8, "/app/e", NULL, ZMODE_EPHEMERAL, NULL, 0), ZOK);
    h = (txn_header_t){
        .client_id = 7, .cxid = 11, .zxid = 9, .time_ms = 2002, .type = ZOP_CLOSE_SESSION};
    assert_true(txn_apply(&d->tree, &d->wm, &h, close_body.data, close_body.len, &res));
    txn_result_free(&res);
    assert_null(tree_get(&d->tree, "/app/e", 6));
    assert_int_equal(d->tree.ephemeral_count, 0);

    buf_free(&del);
    buf_free(&close_body);
    core_free(d);
    core_free(c);
}

static void test_path_validation(void **state)
{
    (void)state;
    const char *good[] = {"/", "/a", "/a/b", "/...", "/a..b", "/.hidden", "/a b", "/caf\xc3\xa9"};
    const char *bad[] = {"",          "a",
                         "/a/",       "//a",
                         "/a//b",     "/.",
                         "/a/..",     "/a\x01",
                         "/\x7f",     "/\xf0\x9f\x98\x80",
                         "/\xc0\x80", "/\xef\xbf\xbd"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_true(zk_path_valid(good[i], strlen(good[i])));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(zk_path_valid(bad[i], strlen(bad[i])));
}

static const char *node_text(core_t *c, const char *path)
{
    static char buf[128];
    znode_t *n = tree_get(&c->tree, path, strlen(path));
    assert_non_null(n);
    snprintf(buf, sizeof(buf), "%.*s", n->data_len > 0 ? (int)n->data_len : 0,
             (const char *)znode_data(n));
    return buf;
}

static void test_quota_stats_and_enforcement(void **state)
{
    (void)state;
    stats_track_t st;
    const char *t = "count=-1,bytes=-1=;byteHardLimit=1000;countHardLimit=10";
    stats_track_parse(t, strlen(t), &st);
    assert_int_equal(st.count, -1);
    assert_int_equal(st.bytes, -1);
    assert_int_equal(st.byte_hard_limit, 1000);
    assert_int_equal(st.count_hard_limit, 10);

    core_t *c = core_new(false);
    assert_int_equal(create(c, 1, "/q", "abc", 0, NULL, 0), ZOK);
    assert_int_equal(create(c, 1, "/q/a", "12345", 0, NULL, 0), ZOK);
    assert_int_equal(create(c, 1, "/zookeeper/quota/q", NULL, 0, NULL, 0), ZOK);
    assert_int_equal(create(c, 1, "/zookeeper/quota/q/zookeeper_limits",
                            "count=-1,bytes=-1=;countHardLimit=3", 0, NULL, 0),
                     ZOK);
    assert_int_equal(
        create(c, 1, "/zookeeper/quota/q/zookeeper_stats", "count=0,bytes=0", 0, NULL, 0), ZOK);
    assert_string_equal(node_text(c, "/zookeeper/quota/q/zookeeper_stats"), "count=2,bytes=8");
    assert_int_equal(create(c, 1, "/q/b", "xy", 0, NULL, 0), ZOK);
    assert_string_equal(node_text(c, "/zookeeper/quota/q/zookeeper_stats"), "count=3,bytes=10");
    /* The stats node's own Stat is untouched by the bookkeeping. */
    znode_t *stats = tree_get(&c->tree, "/zookeeper/quota/q/zookeeper_stats", 34);
    assert_int_equal(znode_version(stats), 0);
    assert_false(znode_is_full(stats)); /* and it stays compact */
    /* Without enforcement the hard limit only tracks; with it, it refuses. */
    assert_int_equal(create(c, 1, "/q/c", NULL, 0, NULL, 0), ZOK);
    c->prep.enforce_quota = true;
    assert_int_equal(create(c, 1, "/q/d", NULL, 0, NULL, 0), ZQUOTAEXCEEDED);
    assert_int_equal(delete_node(c, "/q/c", -1), ZOK);
    assert_int_equal(delete_node(c, "/q/b", -1), ZOK);
    assert_int_equal(create(c, 1, "/q/d", NULL, 0, NULL, 0), ZOK);
    assert_string_equal(node_text(c, "/zookeeper/quota/q/zookeeper_stats"), "count=3,bytes=8");
    core_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_stats),
        cmocka_unit_test(test_create_stat_and_sequence),
        cmocka_unit_test(test_create_errors_in_order),
        cmocka_unit_test(test_delete_checks),
        cmocka_unit_test(test_watch_order_and_oneshot),
        cmocka_unit_test(test_multi_failure_rolls_back),
        cmocka_unit_test(test_close_session_deletes_ephemerals),
        cmocka_unit_test(test_replay_of_delete_for_missing_node),
        cmocka_unit_test(test_path_validation),
        cmocka_unit_test(test_quota_stats_and_enforcement),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
