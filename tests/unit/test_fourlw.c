/* test_fourlw: the four-letter-word table, whitelist and renderer, checked
 * byte for byte against real ZooKeeper 3.8.0 output captured in
 * tests/unit/fixtures/fourlw/ (see the README there). Each test fills a view
 * with the numbers the real server had when the fixture was captured. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/fourlw.h"

/* ---- helpers ------------------------------------------------------------ */

static char *read_fixture(const char *rel, size_t *len_out)
{
    char path[1024];
    const char *dir = getenv("FOURLW_FIXTURES");
    if (dir != NULL) {
        snprintf(path, sizeof path, "%s/%s", dir, rel);
    } else {
        /* __FILE__ is tests/unit/test_fourlw.c as make compiles it */
        const char *slash = strrchr(__FILE__, '/');
        int n = slash ? (int)(slash - __FILE__) : 1;
        snprintf(path, sizeof path, "%.*s/fixtures/fourlw/%s", n, slash ? __FILE__ : ".", rel);
    }
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open fixture %s", path);
    buf_t b;
    buf_init(&b);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(&b, chunk, n);
    fclose(f);
    buf_append(&b, "", 1);
    if (len_out)
        *len_out = b.len - 1;
    return (char *)b.data;
}

/* Compare, and on mismatch print the first differing line of each. */
static void assert_text(const char *what, const char *want, size_t want_len, const buf_t *got)
{
    if (got->len == want_len && (want_len == 0 || memcmp(got->data, want, want_len) == 0))
        return;
    size_t i = 0, line = 1, bol = 0;
    while (i < want_len && i < got->len && want[i] == (char)got->data[i]) {
        if (want[i] == '\n') {
            line++;
            bol = i + 1;
        }
        i++;
    }
    const char *w_end = memchr(want + bol, '\n', want_len - bol);
    const char *g_end = memchr(got->data + bol, '\n', got->len - bol);
    int wn = w_end ? (int)(w_end - (want + bol)) : (int)(want_len - bol);
    int gn = g_end ? (int)(g_end - (char *)(got->data + bol)) : (int)(got->len - bol);
    fail_msg(
        "%s: differs at line %zu (byte %zu; want %zu bytes, got %zu)\n want: %.*s\n  got: %.*s",
        what, line, i, want_len, got->len, wn, want + bol, gn, (char *)got->data + bol);
}

static void check_fixture(const char *rel, fourlw_cmd_t cmd, const fourlw_view_t *v)
{
    size_t len;
    char *want = read_fixture(rel, &len);
    buf_t out;
    buf_init(&out);
    fourlw_render(cmd, v, &out);
    assert_text(rel, want, len, &out);
    buf_free(&out);
    free(want);
}

static void check_text(const char *want, fourlw_cmd_t cmd, const fourlw_view_t *v)
{
    buf_t out;
    buf_init(&out);
    fourlw_render(cmd, v, &out);
    assert_text(fourlw_name(cmd), want, strlen(want), &out);
    buf_free(&out);
}

/* The real server's version, so version lines compare unmasked. */
static fourlw_view_t zk_view(void)
{
    fourlw_view_t v;
    memset(&v, 0, sizeof v);
    v.serving = true;
    v.mode = FOURLW_MODE_STANDALONE;
    v.version = "3.8.0-${mvngit.commit.id}";
    v.built_on = "2024-12-29 17:54 UTC";
    v.trace_mask = 306;
    return v;
}

/* Idle fixtures: a fresh tree (/, /zookeeper, /zookeeper/quota,
 * /zookeeper/config), no sessions. */
static fourlw_view_t idle_view(void)
{
    fourlw_view_t v = zk_view();
    v.node_count = 4;
    v.num_connections = 1;
    v.approximate_data_size = 44;
    v.datadir_size = 457;
    v.logdir_size = 457;
    return v;
}

/* Busy fixtures: requests took 99 ms over 109 requests (avg 0.9083). */
static fourlw_view_t busy_view(void)
{
    fourlw_view_t v = zk_view();
    v.latency = (fourlw_summary_t){.count = 109, .sum = 99, .min = 0, .max = 11};
    v.num_connections = 2;
    v.last_zxid = 0x38;
    v.node_count = 8;
    v.datadir_size = 67109337;
    v.logdir_size = 67109337;
    return v;
}

static const uint64_t busy_sid = 0x1000002f0f10000ull;

/* ---- command table, whitelist, refusal ---------------------------------- */

static void test_lookup(void **state)
{
    (void)state;
    static const char *const names[] = {"conf", "cons", "crst", "dirs", "dump", "envi",
                                        "gtmk", "ruok", "stmk", "srst", "srvr", "stat",
                                        "wchc", "wchp", "wchs", "mntr", "isro", "hash"};
    assert_int_equal(sizeof names / sizeof names[0], FOURLW_NCMDS);
    for (size_t i = 0; i < FOURLW_NCMDS; i++) {
        fourlw_cmd_t cmd;
        assert_true(fourlw_lookup((const uint8_t *)names[i], &cmd));
        assert_string_equal(fourlw_name(cmd), names[i]);
        assert_true(fourlw_from_name(names[i], 4, &cmd));
        assert_int_equal(fourlw_extra_bytes(cmd), cmd == FOURLW_STMK ? 8 : 0);
    }
    fourlw_cmd_t cmd;
    static const uint8_t telnet_close[4] = {0xff, 0xf4, 0xff, 0xfd};
    static const uint8_t frame_len[4] = {0x00, 0x00, 0x00, 0x2d};
    assert_false(fourlw_lookup(telnet_close, &cmd));
    assert_false(fourlw_lookup(frame_len, &cmd));
    assert_false(fourlw_lookup((const uint8_t *)"RUOK", &cmd));
    assert_false(fourlw_lookup((const uint8_t *)"icfg", &cmd)); /* 3.9 */
    assert_false(fourlw_from_name("ruok ", 5, &cmd));
    assert_false(fourlw_from_name("ruo", 3, &cmd));
}

static void test_whitelist(void **state)
{
    (void)state;
    fourlw_mask_t all = FOURLW_BIT(FOURLW_NCMDS) - 1;
    assert_int_equal(fourlw_whitelist_parse(NULL, false), FOURLW_BIT(FOURLW_SRVR));
    assert_int_equal(fourlw_whitelist_parse("", false), FOURLW_BIT(FOURLW_SRVR));
    assert_int_equal(fourlw_whitelist_parse(NULL, true),
                     FOURLW_BIT(FOURLW_SRVR) | FOURLW_BIT(FOURLW_ISRO));
    assert_int_equal(fourlw_whitelist_parse("*", false), all);
    assert_int_equal(fourlw_whitelist_parse("ruok, *", false), all);
    assert_int_equal(fourlw_whitelist_parse(" * ", false), all);
    assert_int_equal(fourlw_whitelist_parse("ruok, conf", false),
                     FOURLW_BIT(FOURLW_RUOK) | FOURLW_BIT(FOURLW_CONF) | FOURLW_BIT(FOURLW_SRVR));
    assert_int_equal(fourlw_whitelist_parse(" stat ,,\tmntr ,bogus,RUOK", false),
                     FOURLW_BIT(FOURLW_STAT) | FOURLW_BIT(FOURLW_MNTR) | FOURLW_BIT(FOURLW_SRVR));
    fourlw_mask_t wl = fourlw_whitelist_parse("ruok, conf", false);
    assert_true(fourlw_whitelisted(wl, FOURLW_RUOK));
    assert_true(fourlw_whitelisted(wl, FOURLW_SRVR));
    assert_false(fourlw_whitelisted(wl, FOURLW_MNTR));
    assert_false(fourlw_whitelisted(wl, FOURLW_NCMDS));
}

static void test_refusal(void **state)
{
    (void)state;
    static const fourlw_cmd_t refused[] = {FOURLW_STAT, FOURLW_MNTR, FOURLW_ISRO,
                                           FOURLW_ENVI, FOURLW_HASH, FOURLW_STMK};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "whitelist/%s.out", fourlw_name(refused[i]));
        size_t len;
        char *want = read_fixture(rel, &len);
        buf_t out;
        buf_init(&out);
        fourlw_render_refusal(refused[i], &out);
        assert_text(rel, want, len, &out);
        buf_free(&out);
        free(want);
    }
    /* the whitelisted ones of that run answered normally */
    fourlw_view_t v = zk_view();
    check_fixture("whitelist/ruok.out", FOURLW_RUOK, &v);
    v.latency = (fourlw_summary_t){0};
    v.packets_received = 2;
    v.packets_sent = 1;
    v.num_connections = 1;
    v.last_zxid = 0xc8;
    v.node_count = 147;
    check_fixture("whitelist/srvr.out", FOURLW_SRVR, &v);
}

/* ---- the small ones ------------------------------------------------------ */

static void test_small_commands(void **state)
{
    (void)state;
    fourlw_view_t v = idle_view();
    check_fixture("idle/ruok.out", FOURLW_RUOK, &v);
    check_fixture("idle/isro.out", FOURLW_ISRO, &v);
    check_fixture("idle/gtmk.out", FOURLW_GTMK, &v);
    check_fixture("idle/crst.out", FOURLW_CRST, &v);
    check_fixture("idle/srst.out", FOURLW_SRST, &v);
    check_fixture("idle/dirs.out", FOURLW_DIRS, &v);
    check_fixture("idle/hash.out", FOURLW_HASH, &v);
    v.trace_mask = 256;
    check_fixture("idle/stmk.out", FOURLW_STMK, &v);
    v.trace_mask = -1;
    check_text("-1", FOURLW_STMK, &v);

    fourlw_view_t b = busy_view();
    check_fixture("busy/dirs.out", FOURLW_DIRS, &b);
    const fourlw_digest_t digests[] = {{0x80, 179586122260}};
    b.digests = digests;
    b.ndigests = 1;
    check_fixture("busy/hash.out", FOURLW_HASH, &b);
}

static void test_conf_verbatim(void **state)
{
    (void)state;
    fourlw_view_t v = idle_view();
    char *conf = read_fixture("idle/conf.out", NULL);
    v.conf_text = conf;
    check_fixture("idle/conf.out", FOURLW_CONF, &v);
    free(conf);
}

/* ---- srvr, stat, cons ---------------------------------------------------- */

static void test_srvr_stat_idle(void **state)
{
    (void)state;
    fourlw_view_t v = idle_view();
    v.packets_received = 3;
    v.packets_sent = 2;
    check_fixture("idle/srvr.out", FOURLW_SRVR, &v);

    const fourlw_conn_t self = {.remote = "/127.0.0.1:46732", .packets_received = 1};
    v.conns = &self;
    v.nconns = 1;
    v.packets_received = 4;
    v.packets_sent = 3;
    check_fixture("idle/stat.out", FOURLW_STAT, &v);

    const fourlw_conn_t self2 = {.remote = "/127.0.0.1:58778", .packets_received = 1};
    v.conns = &self2;
    check_fixture("idle/cons.out", FOURLW_CONS, &v);
}

static void test_srvr_stat_cons_busy(void **state)
{
    (void)state;
    fourlw_view_t v = busy_view();
    v.packets_received = 112;
    v.packets_sent = 111;
    check_fixture("busy/srvr.out", FOURLW_SRVR, &v);

    fourlw_conn_t conns[2] = {
        {.remote = "/127.0.0.1:52378", .packets_received = 1},
        {.remote = "/127.0.0.1:54086",
         .interest_ops = 1,
         .packets_received = 109,
         .packets_sent = 109,
         .session_id = busy_sid,
         .last_op = "NA",
         .established_ms = 1795350978037,
         .timeout_ms = 10000,
         .last_cxid = 0x6c,
         .last_zxid = 0x38,
         .last_response_ms = 231214,
         .last_latency_ms = 1,
         .latency = {.count = 109, .sum = 99, .min = 0, .max = 11}},
    };
    v.conns = conns;
    v.nconns = 2;
    v.packets_received = 113;
    v.packets_sent = 112;
    check_fixture("busy/stat.out", FOURLW_STAT, &v);

    conns[0].remote = "/127.0.0.1:52394";
    check_fixture("busy/cons.out", FOURLW_CONS, &v);
}

static void test_modes(void **state)
{
    (void)state;
    fourlw_view_t v = idle_view();
    v.mode = FOURLW_MODE_READ_ONLY;
    check_text("Zookeeper version: 3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC\n"
               "READ-ONLY mode; serving only read-only clients\n"
               "Latency min/avg/max: 0/0.0/0\n"
               "Received: 0\nSent: 0\nConnections: 1\nOutstanding: 0\nZxid: 0x0\n"
               "Mode: read-only\nNode count: 5\n",
               FOURLW_SRVR, &v);
    check_text("ro", FOURLW_ISRO, &v);

    v.mode = FOURLW_MODE_LEADER;
    v.has_proposal_sizes = true;
    v.proposal_size_last = -1;
    v.proposal_size_min = -1;
    v.proposal_size_max = -1;
    v.last_zxid = 0x100000000ll;
    check_text("Zookeeper version: 3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC\n"
               "Latency min/avg/max: 0/0.0/0\n"
               "Received: 0\nSent: 0\nConnections: 1\nOutstanding: 0\nZxid: 0x100000000\n"
               "Mode: leader\nNode count: 5\nProposal sizes last/min/max: -1/-1/-1\n",
               FOURLW_SRVR, &v);
}

static void test_not_serving(void **state)
{
    (void)state;
    fourlw_view_t v = idle_view();
    v.serving = false;
    static const fourlw_cmd_t msg[] = {FOURLW_SRVR, FOURLW_STAT, FOURLW_CONF, FOURLW_CONS,
                                       FOURLW_CRST, FOURLW_SRST, FOURLW_DIRS, FOURLW_WCHS,
                                       FOURLW_WCHC, FOURLW_WCHP, FOURLW_MNTR, FOURLW_DUMP};
    for (size_t i = 0; i < sizeof msg / sizeof msg[0]; i++)
        check_text("This ZooKeeper instance is not currently serving requests\n", msg[i], &v);
    check_text("This ZooKeeper instance is not currently serving requests", FOURLW_HASH, &v);
    check_text("null", FOURLW_ISRO, &v);
    check_text("imok", FOURLW_RUOK, &v);
    check_text("306", FOURLW_GTMK, &v);
}

/* ---- envi ---------------------------------------------------------------- */

/* We are no JVM: every java.* line but java.io.tmpdir reads "<NA>"; every
 * other line must be the fixture's. */
static void test_envi(void **state)
{
    (void)state;
    fourlw_view_t v = idle_view();
    v.env = (fourlw_env_t){.host_name = "localhost",
                           .tmpdir = "/tmp",
                           .os_name = "Linux",
                           .os_machine = "x86_64",
                           .os_version = "6.18.44-fc-v769",
                           .user_name = "root",
                           .user_home = "/root",
                           .user_dir = "/tmp/zk4lw",
                           .mem_free_mb = 369,
                           .mem_max_mb = 6028,
                           .mem_total_mb = 388};
    char *want = read_fixture("idle/envi.out", NULL);
    buf_t masked;
    buf_init(&masked);
    for (char *line = strtok(want, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        if (strncmp(line, "java.", 5) == 0 && strncmp(line, "java.io.tmpdir=", 15) != 0) {
            *strchr(line, '=') = '\0';
            buf_printf(&masked, "%s=<NA>\n", line);
        } else {
            buf_printf(&masked, "%s\n", line);
        }
    }
    buf_append(&masked, "", 1);
    check_text((char *)masked.data, FOURLW_ENVI, &v);
    buf_free(&masked);
    free(want);

    fourlw_view_t bare = idle_view();
    bare.env.mem_free_mb = bare.env.mem_max_mb = bare.env.mem_total_mb = -1;
    buf_t out;
    buf_init(&out);
    fourlw_render(FOURLW_ENVI, &bare, &out);
    buf_append(&out, "", 1);
    assert_non_null(strstr((char *)out.data, "\nhost.name=<NA>\n"));
    assert_non_null(strstr((char *)out.data, "\nos.memory.total=<NA>\n"));
    buf_free(&out);
}

/* ---- watches ------------------------------------------------------------- */

static void test_watches(void **state)
{
    (void)state;
    fourlw_view_t v = idle_view();
    check_fixture("idle/wchs.out", FOURLW_WCHS, &v);
    check_fixture("idle/wchc.out", FOURLW_WCHC, &v);
    check_fixture("idle/wchp.out", FOURLW_WCHP, &v);

    fourlw_view_t b = busy_view();
    b.wch_connections = 1;
    b.wch_paths = 2;
    b.wch_total = 2;
    const char *const paths[] = {"/a", "/nothere"};
    const fourlw_session_watches_t by_session = {busy_sid, paths, 2};
    const fourlw_path_watches_t by_path[] = {{"/a", &busy_sid, 1}, {"/nothere", &busy_sid, 1}};
    b.watches_by_session = &by_session;
    b.nwatches_by_session = 1;
    b.watches_by_path = by_path;
    b.nwatches_by_path = 2;
    check_fixture("busy/wchs.out", FOURLW_WCHS, &b);
    check_fixture("busy/wchc.out", FOURLW_WCHC, &b);
    check_fixture("busy/wchp.out", FOURLW_WCHP, &b);
}

/* ---- dump ---------------------------------------------------------------- */

static int64_t utc_ms(int h, int m, int s)
{
    struct tm tm = {.tm_year = 2026 - 1900, .tm_mon = 10, .tm_mday = 22};
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = s;
    return (int64_t)timegm(&tm) * 1000 + 123;
}

static void test_dump(void **state)
{
    (void)state;
    setenv("TZ", "UTC", 1);
    tzset();

    fourlw_view_t v = idle_view();
    const fourlw_conn_ref_t idle_conn = {"/127.0.0.1:58826", 0};
    const fourlw_conn_bucket_t idle_buckets[] = {{utc_ms(12, 36, 7), NULL, 0},
                                                 {utc_ms(12, 36, 17), &idle_conn, 1}};
    v.has_conn_buckets = true;
    v.conn_buckets = idle_buckets;
    v.nconn_buckets = 2;
    check_fixture("idle/dump.out", FOURLW_DUMP, &v);

    fourlw_view_t b = busy_view();
    const fourlw_session_bucket_t sessions[] = {{utc_ms(12, 36, 29), NULL, 0},
                                                {utc_ms(12, 36, 33), NULL, 0},
                                                {utc_ms(12, 36, 35), &busy_sid, 1}};
    const char *const eph_paths[] = {"/eph"};
    const fourlw_ephemerals_t eph = {busy_sid, eph_paths, 1};
    const fourlw_conn_ref_t conns[] = {{"/127.0.0.1:52436", 0}, {"/127.0.0.1:54086", busy_sid}};
    const fourlw_conn_bucket_t conn_bucket = {utc_ms(12, 36, 37), conns, 2};
    b.session_buckets = sessions;
    b.nsession_buckets = 3;
    b.ephemerals = &eph;
    b.nephemerals = 1;
    b.has_conn_buckets = true;
    b.conn_buckets = &conn_bucket;
    b.nconn_buckets = 1;
    check_fixture("busy/dump.out", FOURLW_DUMP, &b);

    /* without the NIO connection sets: the header line only */
    b.has_conn_buckets = false;
    buf_t out;
    buf_init(&out);
    fourlw_render(FOURLW_DUMP, &b, &out);
    buf_append(&out, "", 1);
    const char *tail = "\tip:";
    assert_null(strstr((char *)out.data, tail));
    size_t n = strlen((char *)out.data);
    assert_true(n > 18 && strcmp((char *)out.data + n - 18, "Connections dump:\n") == 0);
    buf_free(&out);
}

/* ---- mntr ---------------------------------------------------------------- */

typedef struct kv {
    char *key; /* without zk_ */
    char *value;
} kv_t;

static size_t parse_mntr(char *text, kv_t *kv, size_t max)
{
    size_t n = 0;
    for (char *line = strtok(text, "\n"); line != NULL && n < max; line = strtok(NULL, "\n")) {
        char *tab = strchr(line, '\t');
        assert_non_null(tab);
        *tab = '\0';
        assert_true(strncmp(line, "zk_", 3) == 0);
        kv[n].key = line + 3;
        kv[n].value = tab + 1;
        n++;
    }
    return n;
}

static const char *const core_keys[] = {
    "version",
    "server_state",
    "ephemerals_count",
    "num_alive_connections",
    "avg_latency",
    "outstanding_requests",
    "znode_count",
    "global_sessions",
    "packets_sent",
    "packets_received",
    "watch_count",
    "min_latency",
    "max_latency",
    "approximate_data_size",
    "open_file_descriptor_count",
    "max_file_descriptor_count",
    "uptime",
};

/* Keys that move under traffic and that we print only when the server
 * supplies them (never as a made-up 0). */
static const char *const optional_keys[] = {
    "last_client_response_size",
    "max_client_response_size",
    "min_client_response_size",
    "auth_failed_count",
    "outstanding_changes_removed",
    "outstanding_changes_queued",
    "stale_requests_dropped",
    "stale_requests",
    "stale_replies",
    "connection_rejected",
    "cnxn_closed_without_zk_server_running",
    "sessionless_connections_expired",
    "stale_sessions_expired",
    "digest_mismatches_count",
    "response_packet_cache_hits",
    "response_packet_cache_misses",
    "response_packet_get_children_cache_hits",
    "response_packet_get_children_cache_misses",
    "bytes_received_count",
    "response_bytes",
    "prep_processor_request_queued",
    "sync_processor_request_queued",
    "connection_request_count",
};
static const char *const optional_summaries[] = {
    "socket_closing_time",
    "proposal_process_time",
    "node_created_watch_count",
    "node_deleted_watch_count",
    "node_changed_watch_count",
    "node_children_watch_count",
    "connection_token_deficit",
    "startup_txns_load_time",
    "startup_txns_loaded",
    "startup_snap_load_time",
    "dbinittime",
    "snapshottime",
    "fsynctime",
    "sync_processor_queue_size",
    "sync_processor_batch_size",
    "sync_process_time",
    "prep_processor_queue_size",
    "prep_process_time",
    "prep_processor_queue_time_ms",
    "close_session_prep_time",
    "updatelatency",
    "readlatency",
    "request_throttle_queue_time_ms",
    "sync_processor_queue_and_flush_time_ms",
    "sync_processor_queue_time_ms",
    "sync_processor_queue_flush_time_ms",
    "propagation_latency",
};

static bool in_list(const char *key, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(key, list[i]) == 0)
            return true;
    return false;
}
#define IN(key, list) in_list(key, list, sizeof list / sizeof list[0])

static int64_t num(const kv_t *kv, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(kv[i].key, key) == 0)
            return strtoll(kv[i].value, NULL, 10);
    fail_msg("no key %s", key);
    return 0;
}

/* Summary set starting at kv[i] (an avg_ key followed by min_/max_/cnt_/sum_
 * of the same name)? Returns its name length, 0 if not. */
static size_t summary_at(const kv_t *kv, size_t n, size_t i)
{
    if (strncmp(kv[i].key, "avg_", 4) != 0 || i + 4 >= n)
        return 0;
    const char *name = kv[i].key + 4;
    char want[256];
    snprintf(want, sizeof want, "min_%s", name);
    if (strcmp(kv[i + 1].key, want) != 0)
        return 0;
    return strlen(name);
}

static void core_from(fourlw_view_t *v, const kv_t *kv, size_t n, fourlw_summary_t latency)
{
    v->latency = latency;
    v->ephemerals_count = num(kv, n, "ephemerals_count");
    v->num_connections = num(kv, n, "num_alive_connections");
    v->outstanding_requests = num(kv, n, "outstanding_requests");
    v->node_count = num(kv, n, "znode_count") - 1;
    v->global_sessions = num(kv, n, "global_sessions");
    v->packets_sent = num(kv, n, "packets_sent");
    v->packets_received = num(kv, n, "packets_received");
    v->watch_count = num(kv, n, "watch_count");
    v->approximate_data_size = num(kv, n, "approximate_data_size");
    v->open_fd_count = num(kv, n, "open_file_descriptor_count");
    v->max_fd_count = num(kv, n, "max_file_descriptor_count");
    v->uptime_ms = num(kv, n, "uptime");
}

/* Fill v->metrics/summaries with every non-core key of the fixture (only the
 * optional ones when `only_optional`), and return the text we must print. */
typedef struct supplied {
    fourlw_metric_t metrics[512];
    fourlw_summary_metric_t summaries[128];
    char names[128][256];
} supplied_t;

static void supply(fourlw_view_t *v, supplied_t *s, const kv_t *kv, size_t n, bool only_optional,
                   buf_t *expect)
{
    size_t nm = 0, ns = 0;
    for (size_t i = 0; i < n;) {
        size_t namelen = summary_at(kv, n, i);
        if (namelen > 0) {
            const char *name = kv[i].key + 4;
            bool pct = i + 5 < n && strncmp(kv[i + 5].key, "p50_", 4) == 0;
            size_t width = pct ? 9 : 5;
            if (!only_optional || IN(name, optional_summaries)) {
                fourlw_summary_metric_t *m = &s->summaries[ns];
                snprintf(s->names[ns], sizeof s->names[ns], "%s", name);
                m->name = s->names[ns];
                m->s.min = strtoll(kv[i + 1].value, NULL, 10);
                m->s.max = strtoll(kv[i + 2].value, NULL, 10);
                m->s.count = strtoll(kv[i + 3].value, NULL, 10);
                m->s.sum = strtoll(kv[i + 4].value, NULL, 10);
                m->has_percentiles = pct;
                if (pct) {
                    m->p50 = strtoll(kv[i + 5].value, NULL, 10);
                    m->p95 = strtoll(kv[i + 6].value, NULL, 10);
                    m->p99 = strtoll(kv[i + 7].value, NULL, 10);
                    m->p999 = strtoll(kv[i + 8].value, NULL, 10);
                }
                ns++;
            }
            for (size_t j = 0; j < width; j++)
                buf_printf(expect, "zk_%s\t%s\n", kv[i + j].key, kv[i + j].value);
            i += width;
            continue;
        }
        const char *key = kv[i].key;
        if (!IN(key, core_keys) && (IN(key, optional_keys) || !only_optional)) {
            fourlw_metric_t *m = &s->metrics[nm++];
            m->name = key;
            if (strchr(kv[i].value, '.')) {
                m->type = FOURLW_METRIC_DOUBLE;
                m->value.d = strtod(kv[i].value, NULL);
            } else {
                m->type = FOURLW_METRIC_INT;
                m->value.i = strtoll(kv[i].value, NULL, 10);
            }
        }
        buf_printf(expect, "zk_%s\t%s\n", key, kv[i].value);
        i++;
    }
    v->metrics = s->metrics;
    v->nmetrics = nm;
    v->summaries = s->summaries;
    v->nsummaries = ns;
}

/* Idle server, nothing supplied: the fixture minus the optional keys, in the
 * fixture's order and with the fixture's values. */
static void test_mntr_idle(void **state)
{
    (void)state;
    char *text = read_fixture("idle/mntr.out", NULL);
    static kv_t kv[600];
    size_t n = parse_mntr(text, kv, 600);
    assert_int_equal(n, 485);

    fourlw_view_t v = idle_view();
    core_from(&v, kv, n, (fourlw_summary_t){0});
    buf_t expect;
    buf_init(&expect);
    size_t omitted = 0;
    for (size_t i = 0; i < n;) {
        size_t namelen = summary_at(kv, n, i);
        if (namelen > 0) {
            const char *name = kv[i].key + 4;
            size_t width = (i + 5 < n && strncmp(kv[i + 5].key, "p50_", 4) == 0) ? 9 : 5;
            if (IN(name, optional_summaries))
                omitted += width;
            else
                for (size_t j = 0; j < width; j++)
                    buf_printf(&expect, "zk_%s\t%s\n", kv[i + j].key, kv[i + j].value);
            i += width;
            continue;
        }
        if (IN(kv[i].key, optional_keys))
            omitted++;
        else
            buf_printf(&expect, "zk_%s\t%s\n", kv[i].key, kv[i].value);
        i++;
    }
    assert_int_equal(omitted, 23 + 5 * 18 + 9 * 9);
    buf_append(&expect, "", 1);
    check_text((char *)expect.data, FOURLW_MNTR, &v);

    /* everything supplied (with the idle values): the whole fixture */
    static supplied_t s;
    buf_t all;
    buf_init(&all);
    supply(&v, &s, kv, n, true, &all);
    assert_int_equal(v.nmetrics, 23);
    assert_int_equal(v.nsummaries, 27);
    check_fixture("idle/mntr.out", FOURLW_MNTR, &v);

    buf_free(&all);
    buf_free(&expect);
    free(text);
}

/* Busy server: supply every metric the fixture shows (summary avgs are
 * recomputed from cnt/sum, per-namespace sets go after the table): the output
 * is the fixture, byte for byte. */
static void test_mntr_busy(void **state)
{
    (void)state;
    char *text = read_fixture("busy/mntr.out", NULL);
    static kv_t kv[600];
    size_t n = parse_mntr(text, kv, 600);
    assert_int_equal(n, 505);

    fourlw_view_t v = busy_view();
    core_from(&v, kv, n, v.latency);
    static supplied_t s;
    buf_t expect;
    buf_init(&expect);
    supply(&v, &s, kv, n, false, &expect);
    check_fixture("busy/mntr.out", FOURLW_MNTR, &v);
    buf_free(&expect);
    free(text);
}

static void test_mntr_extras(void **state)
{
    (void)state;
    fourlw_view_t v = idle_view();
    v.mode = FOURLW_MODE_LEADER;
    v.peer_state = "leading - broadcast";
    v.open_fd_count = -1; /* not Unix: both fd keys disappear */
    const fourlw_metric_t extra[] = {
        {.name = "quorum_size", .type = FOURLW_METRIC_INT, .value.i = 3},
        {.name = "auth_failed_count", .type = FOURLW_METRIC_INT, .value.i = 7},
        {.name = "note", .type = FOURLW_METRIC_STRING, .value.s = "hi"},
        {.name = "ratio", .type = FOURLW_METRIC_DOUBLE, .value.d = 0.25},
    };
    v.metrics = extra;
    v.nmetrics = 4;
    buf_t out;
    buf_init(&out);
    fourlw_render(FOURLW_MNTR, &v, &out);
    buf_append(&out, "", 1);
    const char *t = (const char *)out.data;
    assert_true(strncmp(t,
                        "zk_version\t3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC\n"
                        "zk_server_state\tleader\nzk_peer_state\tleading - broadcast\n"
                        "zk_ephemerals_count\t0\n",
                        strlen("zk_version\t3.8.0-${mvngit.commit.id}, built on 2024-12-29 "
                               "17:54 UTC\nzk_server_state\tleader\nzk_peer_state\tleading - "
                               "broadcast\nzk_ephemerals_count\t0\n")) == 0);
    assert_null(strstr(t, "file_descriptor_count"));
    assert_non_null(strstr(t, "\nzk_auth_failed_count\t7\nzk_min_latency\t0\n"));
    const char *tail = "zk_quorum_size\t3\nzk_note\thi\nzk_ratio\t0.25\n";
    size_t len = strlen(t);
    assert_true(len > strlen(tail) && strcmp(t + len - strlen(tail), tail) == 0);
    buf_free(&out);
}

/* ---- number formatting ---------------------------------------------------- */

static void check_avg(int64_t count, int64_t sum, const char *want)
{
    buf_t out;
    buf_init(&out);
    fourlw_append_avg(&out, count, sum);
    buf_append(&out, "", 1);
    if (strcmp((char *)out.data, want) != 0)
        fail_msg("avg(%" PRId64 "/%" PRId64 "): want %s got %s", sum, count, want,
                 (char *)out.data);
    buf_free(&out);
}

static void check_double(double d, const char *want)
{
    buf_t out;
    buf_init(&out);
    fourlw_append_java_double(&out, d);
    buf_append(&out, "", 1);
    if (strcmp((char *)out.data, want) != 0)
        fail_msg("double %.17g: want %s got %s", d, want, (char *)out.data);
    buf_free(&out);
}

/* Expected strings are Java 17's output for the same inputs. */
static void test_numbers(void **state)
{
    (void)state;
    check_avg(0, 0, "0.0");
    check_avg(109, 99, "0.9083");
    check_avg(56, 3, "0.0536");
    check_avg(32, 1, "0.0313"); /* exact tie 0.03125: HALF_UP */
    check_avg(32, 3, "0.0938");
    check_avg(16, 3, "0.1875");
    check_avg(2, 7, "3.5");
    check_avg(1, 9, "9.0");
    check_avg(10000, 1, "1.0E-4");
    check_avg(100000, 5, "1.0E-4");
    check_avg(100000, 1, "0.0");
    check_avg(1000, 1, "0.001");
    check_avg(100000, 99999, "1.0");
    check_avg(100000, 999995, "10.0");
    check_avg(1, 10000000, "1.0E7");
    check_avg(10, 99999999, "9999999.9");
    check_avg(3, 1000000000000, "3.333333333333333E11");
    check_avg(7, 123456789012, "1.76366841445714E10");
    check_avg(3, -1, "-0.3333");
    check_avg(32, -1, "-0.0313");
    check_avg(1, INT64_MAX, "9.223372036854776E18");
    check_avg(3, INT64_MAX, "3.0744573456182584E18");

    check_double(0.0, "0.0");
    check_double(-0.0, "-0.0");
    check_double(1.0, "1.0");
    check_double(0.1, "0.1");
    check_double(0.001, "0.001");
    check_double(0.0001, "1.0E-4");
    check_double(1234567.0, "1234567.0");
    check_double(9999999.0, "9999999.0");
    check_double(1e7, "1.0E7");
    check_double(123456789.0, "1.23456789E8");
    check_double(2.0 / 3, "0.6666666666666666");
    check_double(12345.678, "12345.678");
    /* FloatingDecimal's whole-number shortcut, not the shortest digits */
    check_double(387061419624355072.0, "3.8706141962435507E17");
    check_double(9007199254740993.0, "9.007199254740992E15");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_whitelist),
        cmocka_unit_test(test_refusal),
        cmocka_unit_test(test_small_commands),
        cmocka_unit_test(test_conf_verbatim),
        cmocka_unit_test(test_srvr_stat_idle),
        cmocka_unit_test(test_srvr_stat_cons_busy),
        cmocka_unit_test(test_modes),
        cmocka_unit_test(test_not_serving),
        cmocka_unit_test(test_envi),
        cmocka_unit_test(test_watches),
        cmocka_unit_test(test_dump),
        cmocka_unit_test(test_mntr_idle),
        cmocka_unit_test(test_mntr_busy),
        cmocka_unit_test(test_mntr_extras),
        cmocka_unit_test(test_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
