/* test_client_codec: the client library's pure pieces — frame encoders and
 * reply decoders (against the byte dumps of the protocol reference,
 * Appendix A), connect-string parsing, Java path validation messages,
 * KeeperException texts, and the watch registry's bookkeeping. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/codec.h"
#include "client/hosts.h"
#include "client/watches.h"
#include "client/zkc.h"

static void hex_of(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
    out[2 * n] = 0;
}

static size_t unhex(const char *s, uint8_t *out)
{
    size_t n = 0;
    for (; *s; s++) {
        if (*s == ' ')
            continue;
        unsigned v;
        sscanf(s, "%2x", &v);
        out[n++] = (uint8_t)v;
        s++;
    }
    return n;
}

static void assert_buf_hex(const buf_t *b, const char *want_spaced)
{
    char want[1024], got[2048];
    size_t j = 0;
    for (const char *s = want_spaced; *s; s++)
        if (*s != ' ')
            want[j++] = *s;
    want[j] = 0;
    hex_of(b->data, b->len, got);
    assert_string_equal(got, want);
}

/* ---- frames ---------------------------------------------------------------- */

static void test_connect_request(void **state)
{
    (void)state;
    buf_t b;
    buf_init(&b);
    uint8_t zero[16] = {0};
    zkc_encode_connect(&b, 0, 30000, 0, zero, true);
    assert_buf_hex(&b, "0000002d 00000000 0000000000000000 00007530 0000000000000000 "
                       "00000010 00000000000000000000000000000000 01");
    buf_free(&b);
}

static void test_connect_response(void **state)
{
    (void)state;
    uint8_t p[64];
    size_t n = unhex("00000000 00007530 0100000ec7480003 00000010 "
                     "b76a1be8efe6b1bec389ac121d3a894a 00",
                     p);
    zkc_connect_response_t r;
    assert_true(zkc_decode_connect_response(p, n, &r));
    assert_int_equal(r.timeout_ms, 30000);
    assert_true(r.session_id == 0x0100000ec7480003LL);
    assert_int_equal(r.passwd[0], 0xb7);
    assert_int_equal(r.passwd[15], 0x4a);
    assert_false(r.read_only);
    /* an old server's response without the readOnly byte */
    assert_true(zkc_decode_connect_response(p, n - 1, &r));
    /* truncated in the password */
    assert_false(zkc_decode_connect_response(p, 20, &r));
}

static void test_create_frame(void **state)
{
    (void)state;
    buf_t b;
    buf_init(&b);
    zkc_acl_t acl = {31, "world", "anyone"};
    size_t at = zkc_frame_begin(&b, 0, ZOP_CREATE);
    zkc_write_create(&b, "/ex", "hi", 2, &acl, 1, 0, false, 0);
    zkc_frame_end(&b, at);
    zkc_frame_set_xid(b.data, 1);
    assert_buf_hex(&b, "00000034 00000001 00000001 00000003 2f6578 00000002 6869 00000001 "
                       "0000001f 00000005 776f726c64 00000006 616e796f6e65 00000000");
    buf_free(&b);

    /* null data and a TTL */
    buf_init(&b);
    at = zkc_frame_begin(&b, 7, ZOP_CREATE_TTL);
    zkc_write_create(&b, "/t", NULL, -1, &acl, 1, ZMODE_PERSISTENT_WITH_TTL, true, 100);
    zkc_frame_end(&b, at);
    assert_buf_hex(&b, "00000039 00000007 00000015 00000002 2f74 ffffffff 00000001 0000001f "
                       "00000005 776f726c64 00000006 616e796f6e65 00000005 0000000000000064");
    buf_free(&b);
}

static void test_multi_frame(void **state)
{
    (void)state;
    buf_t b;
    buf_init(&b);
    zkc_op_t ops[2] = {{.type = ZOP_CHECK, .path = "/ex", .version = 0},
                       {.type = ZOP_DELETE, .path = "/ex", .version = -1}};
    size_t at = zkc_frame_begin(&b, 5, ZOP_MULTI);
    zkc_write_multi(&b, ops, 2);
    zkc_frame_end(&b, at);
    assert_buf_hex(&b, "00000039 00000005 0000000e 0000000d 00 ffffffff 00000003 2f6578 "
                       "00000000 00000002 00 ffffffff 00000003 2f6578 ffffffff ffffffff 01 "
                       "ffffffff");
    buf_free(&b);
}

static void test_ping_and_auth_frames(void **state)
{
    (void)state;
    buf_t b;
    buf_init(&b);
    size_t at = zkc_frame_begin(&b, ZXID_PING, ZOP_PING);
    zkc_frame_end(&b, at);
    assert_buf_hex(&b, "00000008 fffffffe 0000000b");
    buf_reset(&b);
    at = zkc_frame_begin(&b, ZXID_AUTH, ZOP_AUTH);
    zkc_write_auth(&b, "digest", "u:p", 3);
    zkc_frame_end(&b, at);
    assert_buf_hex(&b, "0000001d fffffffc 00000064 00000000 00000006 646967657374 00000003 "
                       "753a70");
    buf_reset(&b);
    /* setWatches: data ["/a"], exist [], child ["/b"] */
    char *d[] = {"/a"}, *c[] = {"/b"};
    char *const *lists[5] = {d, NULL, c, NULL, NULL};
    int32_t n[5] = {1, 0, 1, 0, 0};
    at = zkc_frame_begin(&b, ZXID_SET_WATCHES, ZOP_SET_WATCHES);
    zkc_write_set_watches(&b, false, 0x10, lists, n);
    zkc_frame_end(&b, at);
    assert_buf_hex(&b, "00000028 fffffff8 00000065 0000000000000010 00000001 00000002 2f61 "
                       "00000000 00000001 00000002 2f62");
    buf_free(&b);
}

/* ---- replies ---------------------------------------------------------------- */

static void test_reply_header_and_create(void **state)
{
    (void)state;
    uint8_t p[64];
    size_t n = unhex("00000001 000000000000000e 00000000 00000003 2f6578", p);
    zkc_reply_header_t h;
    assert_true(zkc_decode_reply_header(p, n, &h));
    assert_int_equal(h.xid, 1);
    assert_true(h.zxid == 0xe);
    assert_int_equal(h.err, 0);
    zkc_result_t r = {0};
    assert_int_equal(zkc_decode_reply_body(ZOP_CREATE, p + 16, n - 16, &r), ZOK);
    assert_string_equal(r.path, "/ex");
    zkc_result_free(&r);
    /* a short header */
    assert_false(zkc_decode_reply_header(p, 15, &h));
}

static void put_stat(buf_t *b, int64_t base)
{
    zk_stat_t st = {base, base + 1, 1000, 2000, 3, 4, 5, 0x77, 6, 7, base + 2};
    proto_write_stat(b, &st);
}

static void test_get_data_and_children(void **state)
{
    (void)state;
    buf_t b;
    buf_init(&b);
    jw_buffer(&b, NULL, -1); /* null data */
    put_stat(&b, 10);
    zkc_result_t r = {0};
    assert_int_equal(zkc_decode_reply_body(ZOP_GET_DATA, b.data, b.len, &r), ZOK);
    assert_int_equal(r.data_len, -1);
    assert_null(r.data);
    assert_true(r.has_stat);
    assert_true(r.stat.czxid == 10 && r.stat.pzxid == 12 && r.stat.ephemeral_owner == 0x77);
    assert_int_equal(r.stat.num_children, 7);
    zkc_result_free(&r);

    buf_reset(&b);
    jw_int(&b, 2);
    jw_cstr(&b, "x");
    jw_cstr(&b, "yy");
    put_stat(&b, 20);
    memset(&r, 0, sizeof r);
    assert_int_equal(zkc_decode_reply_body(ZOP_GET_CHILDREN2, b.data, b.len, &r), ZOK);
    assert_int_equal(r.n_children, 2);
    assert_string_equal(r.children[1], "yy");
    assert_true(r.stat.czxid == 20);
    zkc_result_free(&r);

    /* a vector count that cannot fit is rejected, not allocated */
    buf_reset(&b);
    jw_int(&b, 0x7fffffff);
    memset(&r, 0, sizeof r);
    assert_int_equal(zkc_decode_reply_body(ZOP_GET_CHILDREN, b.data, b.len, &r), ZMARSHALLINGERROR);
    zkc_result_free(&r);
    buf_free(&b);
}

static void test_acl_whoami_multi(void **state)
{
    (void)state;
    buf_t b;
    buf_init(&b);
    jw_int(&b, 1);
    jw_int(&b, 31);
    jw_cstr(&b, "digest");
    jw_cstr(&b, "u:x");
    put_stat(&b, 1);
    zkc_result_t r = {0};
    assert_int_equal(zkc_decode_reply_body(ZOP_GET_ACL, b.data, b.len, &r), ZOK);
    assert_int_equal(r.n_acl, 1);
    assert_string_equal(r.acl[0].scheme, "digest");
    assert_string_equal(r.acl[0].id, "u:x");
    zkc_result_free(&r);

    buf_reset(&b);
    jw_int(&b, 2);
    jw_cstr(&b, "ip");
    jw_cstr(&b, "127.0.0.1");
    jw_cstr(&b, "digest");
    jw_cstr(&b, "u");
    memset(&r, 0, sizeof r);
    assert_int_equal(zkc_decode_reply_body(ZOP_WHO_AM_I, b.data, b.len, &r), ZOK);
    assert_int_equal(r.n_who, 2);
    assert_string_equal(r.who[1].user, "u");
    zkc_result_free(&r);

    /* the failed multi of Appendix A */
    uint8_t p[64];
    size_t n = unhex("ffffffff 00 ffffff99 ffffff99 ffffffff 00 fffffffe fffffffe "
                     "ffffffff 01 ffffffff",
                     p);
    memset(&r, 0, sizeof r);
    assert_int_equal(zkc_decode_reply_body(ZOP_MULTI, p, n, &r), ZOK);
    assert_int_equal(r.n_ops, 2);
    assert_int_equal(r.ops[0].type, -1);
    assert_int_equal(r.ops[0].err, ZBADVERSION);
    assert_int_equal(r.ops[1].err, ZRUNTIMEINCONSISTENCY);
    zkc_result_free(&r);
    /* no terminator: malformed */
    memset(&r, 0, sizeof r);
    assert_int_equal(zkc_decode_reply_body(ZOP_MULTI, p, n - 9, &r), ZMARSHALLINGERROR);
    zkc_result_free(&r);
    buf_free(&b);
}

static void test_event(void **state)
{
    (void)state;
    uint8_t p[64];
    size_t n = unhex("00000003 00000003 00000003 2f6578", p);
    int32_t type, st;
    char *path;
    assert_true(zkc_decode_event(p, n, &type, &st, &path));
    assert_int_equal(type, ZKC_EV_NODE_DATA_CHANGED);
    assert_int_equal(st, ZKC_KS_SYNC_CONNECTED);
    assert_string_equal(path, "/ex");
    free(path);
    assert_false(zkc_decode_event(p, n - 1, &type, &st, &path));
}

/* ---- hosts, paths, messages --------------------------------------------------- */

static void test_hosts(void **state)
{
    (void)state;
    zkc_hosts_t h;
    assert_true(zkc_hosts_parse("a:1,b , [::1]:3,c:2181/app/x", &h));
    assert_int_equal(h.n, 4);
    assert_string_equal(h.v[0].name, "a");
    assert_int_equal(h.v[0].port, 1);
    assert_string_equal(h.v[1].name, "b");
    assert_int_equal(h.v[1].port, 2181);
    assert_string_equal(h.v[1].display, "b:2181");
    assert_string_equal(h.v[2].name, "::1");
    assert_int_equal(h.v[2].port, 3);
    assert_string_equal(h.chroot, "/app/x");
    zkc_hosts_shuffle(&h, 42);
    assert_int_equal(h.n, 4);
    zkc_hosts_free(&h);

    assert_true(zkc_hosts_parse("127.0.0.1:2181/", &h));
    assert_null(h.chroot);
    zkc_hosts_free(&h);
    assert_false(zkc_hosts_parse("", &h));
    assert_false(zkc_hosts_parse("a:0", &h));
    assert_false(zkc_hosts_parse("a:99999", &h));
    assert_false(zkc_hosts_parse("a:x", &h));
    assert_false(zkc_hosts_parse("a:1/bad/", &h));
    assert_false(zkc_hosts_parse("a:1,,b:2", &h));
}

static void test_path_messages(void **state)
{
    (void)state;
    char buf[256];
    assert_null(zkc_path_error("/", false, buf, sizeof buf));
    assert_null(zkc_path_error("/a/b", false, buf, sizeof buf));
    assert_null(zkc_path_error("/a/...", false, buf, sizeof buf));
    assert_string_equal(zkc_path_error("", false, buf, sizeof buf), "Path length must be > 0");
    assert_string_equal(zkc_path_error("a", false, buf, sizeof buf),
                        "Path must start with / character");
    assert_string_equal(zkc_path_error("/a/", false, buf, sizeof buf),
                        "Path must not end with / character");
    /* a sequential create is checked with "1" appended: "/a/" is fine */
    assert_null(zkc_path_error("/a/", true, buf, sizeof buf));
    assert_string_equal(zkc_path_error("/a/../b", false, buf, sizeof buf),
                        "Invalid path string \"/a/../b\" caused by relative paths not allowed @4");
    assert_string_equal(zkc_path_error("/a//b", false, buf, sizeof buf),
                        "Invalid path string \"/a//b\" caused by empty node name specified @3");
    assert_string_equal(zkc_path_error("/a/.", false, buf, sizeof buf),
                        "Invalid path string \"/a/.\" caused by relative paths not allowed @3");
    assert_string_equal(zkc_path_error("/a\x01", false, buf, sizeof buf),
                        "Invalid path string \"/a\x01\" caused by invalid character @2");
    /* the index counts UTF-16 units: "é" is one */
    assert_string_equal(zkc_path_error("/\xc3\xa9\x7f", false, buf, sizeof buf),
                        "Invalid path string \"/\xc3\xa9\x7f\" caused by invalid character @2");
    /* an emoji is two surrogates, both invalid */
    assert_non_null(zkc_path_error("/\xf0\x9f\x98\x80", false, buf, sizeof buf));
    assert_string_equal(zkc_path_error(NULL, false, buf, sizeof buf), "Path cannot be null");
}

static void test_error_messages(void **state)
{
    (void)state;
    char buf[128];
    assert_string_equal(zkc_error_message(ZNONODE, "/x", buf, sizeof buf),
                        "KeeperErrorCode = NoNode for /x");
    assert_string_equal(zkc_error_message(ZNOTEMPTY, "/x", buf, sizeof buf),
                        "KeeperErrorCode = Directory not empty for /x");
    assert_string_equal(zkc_error_message(ZRECONFIGDISABLED, NULL, buf, sizeof buf),
                        "KeeperErrorCode = Reconfig is disabled");
    assert_string_equal(zkc_error_message(ZNOWATCHER, "/w", buf, sizeof buf),
                        "KeeperErrorCode = No such watcher for /w");
    assert_string_equal(zkc_state_name(ZKC_CONNECTED), "CONNECTED");
    assert_string_equal(zkc_keeper_state_name(ZKC_KS_EXPIRED), "Expired");
    assert_string_equal(zkc_event_type_name(ZKC_EV_PERSISTENT_WATCH_REMOVED),
                        "PersistentWatchRemoved");
}

/* ---- watch registry ----------------------------------------------------------- */

static void test_watch_triggers(void **state)
{
    (void)state;
    zkc_watches_t w;
    zkc_watches_init(&w);
    zkc_watches_add(&w, ZKC_W_DATA, "/a");
    zkc_watches_add(&w, ZKC_W_CHILD, "/a");
    zkc_watches_add(&w, ZKC_W_EXIST, "/n");
    /* a data change consumes the data watch, not the child watch */
    assert_true(zkc_watches_trigger(&w, ZKC_EV_NODE_DATA_CHANGED, "/a"));
    assert_false(zkc_watches_has(&w, ZKC_W_DATA, "/a"));
    assert_true(zkc_watches_has(&w, ZKC_W_CHILD, "/a"));
    assert_false(zkc_watches_trigger(&w, ZKC_EV_NODE_DATA_CHANGED, "/a"));
    /* deletion consumes everything on the path */
    assert_true(zkc_watches_trigger(&w, ZKC_EV_NODE_DELETED, "/a"));
    assert_false(zkc_watches_has(&w, ZKC_W_CHILD, "/a"));
    /* an exist watch fires on creation */
    assert_true(zkc_watches_trigger(&w, ZKC_EV_NODE_CREATED, "/n"));
    assert_true(zkc_watches_empty(&w));

    /* persistent: stays; recursive: matches descendants */
    zkc_watches_add(&w, ZKC_W_PERSISTENT, "/p");
    zkc_watches_add(&w, ZKC_W_RECURSIVE, "/r");
    assert_true(zkc_watches_trigger(&w, ZKC_EV_NODE_CHILDREN_CHANGED, "/p"));
    assert_true(zkc_watches_trigger(&w, ZKC_EV_NODE_DATA_CHANGED, "/p"));
    assert_false(zkc_watches_trigger(&w, ZKC_EV_NODE_DATA_CHANGED, "/p/c"));
    assert_true(zkc_watches_trigger(&w, ZKC_EV_NODE_CREATED, "/r/x/y"));
    assert_true(zkc_watches_trigger(&w, ZKC_EV_NODE_DELETED, "/r"));
    assert_false(zkc_watches_trigger(&w, ZKC_EV_NODE_DELETED, "/rr"));
    assert_int_equal(zkc_watches_count(&w, ZKC_W_RECURSIVE), 1);
    zkc_watches_add(&w, ZKC_W_RECURSIVE, "/");
    assert_true(zkc_watches_trigger(&w, ZKC_EV_NODE_DELETED, "/anything"));
    zkc_watches_free(&w);
}

static void test_watch_removal(void **state)
{
    (void)state;
    zkc_watches_t w;
    zkc_watches_init(&w);
    zkc_watches_add(&w, ZKC_W_DATA, "/a");
    zkc_watches_add(&w, ZKC_W_CHILD, "/a");
    zkc_watches_add(&w, ZKC_W_PERSISTENT, "/a");
    assert_true(zkc_watches_contains(&w, "/a", ZWT_DATA));
    assert_false(zkc_watches_contains(&w, "/b", ZWT_ANY));
    /* Children removes the child watch only (3.8) */
    assert_int_equal(zkc_watches_remove(&w, "/a", ZWT_CHILDREN), 1u);
    assert_int_equal(zkc_watches_remove(&w, "/a", ZWT_CHILDREN), 0u);
    /* Any removes the rest: data and persistent events */
    assert_int_equal(zkc_watches_remove(&w, "/a", ZWT_ANY), 2u | 4u);
    assert_true(zkc_watches_empty(&w));

    zkc_watches_add(&w, ZKC_W_EXIST, "/e");
    zkc_watches_add(&w, ZKC_W_CHILD, "/c");
    const char **list;
    size_t n = zkc_watches_list(&w, ZKC_W_EXIST, &list);
    assert_int_equal(n, 1);
    assert_string_equal(list[0], "/e");
    free((void *)list);
    assert_int_equal(zkc_watches_list(&w, ZKC_W_DATA, &list), 0);
    assert_null(list);
    zkc_watches_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_request),
        cmocka_unit_test(test_connect_response),
        cmocka_unit_test(test_create_frame),
        cmocka_unit_test(test_multi_frame),
        cmocka_unit_test(test_ping_and_auth_frames),
        cmocka_unit_test(test_reply_header_and_create),
        cmocka_unit_test(test_get_data_and_children),
        cmocka_unit_test(test_acl_whoami_multi),
        cmocka_unit_test(test_event),
        cmocka_unit_test(test_hosts),
        cmocka_unit_test(test_path_messages),
        cmocka_unit_test(test_error_messages),
        cmocka_unit_test(test_watch_triggers),
        cmocka_unit_test(test_watch_removal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
