/* test_config: the configuration module — defaults, every zoo.cfg key, the
 * "zookeeper." prefix rule, -D / $JVMFLAGS / $SERVER_JVMFLAGS precedence,
 * the Java properties syntax, errors (naming key, file and line), warnings,
 * the 4lw whitelist, server.N / myid / dynamic files and the `conf` dump.
 * Expected values were checked against ZooKeeper 3.8.0's QuorumPeerConfig and
 * a running 3.8.0 server (conf output). Each test works in its own temp dir. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/config.h"

/* ---- helpers ------------------------------------------------------------ */

static char g_dir[128]; /* per-test temp dir */
static char g_cfg[160]; /* g_dir/zoo.cfg */
static const char *const NO_ENV[] = {NULL};

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/corral-test-config-XXXXXX");
    if (mkdtemp(g_dir) == NULL)
        return -1;
    snprintf(g_cfg, sizeof g_cfg, "%s/zoo.cfg", g_dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Write text as g_cfg and load "corrald g_cfg" with an empty environment. */
static int load_text(corral_config_t *cfg, const char *text, char *err, size_t errlen)
{
    write_file(g_cfg, text);
    char *argv[] = {"corrald", g_cfg, NULL};
    return config_load(cfg, 2, argv, NO_ENV, err, errlen);
}

/* zoo.cfg body with the usual required lines in front. */
static int load_body(corral_config_t *cfg, const char *body, char *err, size_t errlen)
{
    char text[8192];
    snprintf(text, sizeof text, "tickTime=2000\ndataDir=%s/data\nclientPort=2181\n%s", g_dir, body);
    return load_text(cfg, text, err, errlen);
}

static void load_ok(corral_config_t *cfg, const char *body)
{
    char err[512];
    int rc = load_body(cfg, body, err, sizeof err);
    if (rc != 0)
        fail_msg("config_load failed: %s", err);
}

/* Expect an error containing every needle (NULL-terminated). */
static void expect_error(const char *text, ...)
{
    corral_config_t cfg;
    char err[512];
    int rc = load_text(&cfg, text, err, sizeof err);
    if (rc == 0)
        fail_msg("config_load accepted:\n%s", text);
    va_list ap;
    va_start(ap, text);
    for (const char *n = va_arg(ap, const char *); n != NULL; n = va_arg(ap, const char *))
        if (strstr(err, n) == NULL)
            fail_msg("error '%s' lacks '%s'", err, n);
    va_end(ap);
    assert_null(cfg.props); /* left empty */
    config_free(&cfg);
}

static bool has_warning(const corral_config_t *cfg, const char *a, const char *b)
{
    for (size_t i = 0; i < cfg->nwarnings; i++)
        if (strstr(cfg->warnings[i], a) && (b == NULL || strstr(cfg->warnings[i], b)))
            return true;
    return false;
}

static void dump_warnings(const corral_config_t *cfg)
{
    for (size_t i = 0; i < cfg->nwarnings; i++)
        print_message("warning: %s\n", cfg->warnings[i]);
}

#define assert_warning(cfg, a, b)                                                                  \
    do {                                                                                           \
        if (!has_warning((cfg), (a), (b))) {                                                       \
            dump_warnings(cfg);                                                                    \
            fail_msg("no warning with '%s' / '%s'", (a), (b) ? (b) : "");                          \
        }                                                                                          \
    } while (0)

#define assert_no_warnings(cfg)                                                                    \
    do {                                                                                           \
        if ((cfg)->nwarnings != 0) {                                                               \
            dump_warnings(cfg);                                                                    \
            fail_msg("unexpected warnings");                                                       \
        }                                                                                          \
    } while (0)

static char *line_of(const char *path, int line)
{
    static char s[256];
    snprintf(s, sizeof s, "%s:%d", path, line);
    return s;
}

/* ---- defaults ----------------------------------------------------------- */

static void test_defaults_without_zoo_cfg(void **state)
{
    (void)state;
    corral_config_t cfg;
    char err[256];
    char *argv[] = {"corrald", NULL};
    assert_int_equal(config_load(&cfg, 1, argv, NO_ENV, err, sizeof err), 0);
    assert_null(cfg.config_path);
    assert_false(cfg.distributed);
    assert_int_equal(cfg.tick_time_ms, 2000);
    assert_int_equal(cfg.client_port, 2181);
    assert_string_equal(cfg.client_port_address, "127.0.0.1");
    assert_string_equal(cfg.data_dir, "./data");
    assert_string_equal(cfg.data_log_dir, "./data");
    assert_int_equal(cfg.max_client_cnxns, 60);
    assert_int_equal(cfg.min_session_timeout_ms, 4000);
    assert_int_equal(cfg.max_session_timeout_ms, 40000);
    assert_int_equal(cfg.client_port_listen_backlog, -1);
    assert_int_equal(cfg.secure_client_port, 0);
    assert_int_equal(cfg.election_alg, 3);
    assert_true(cfg.standalone_enabled);
    assert_false(cfg.reconfig_enabled);
    assert_false(cfg.local_sessions_enabled);
    assert_int_equal(cfg.autopurge_snap_retain_count, 3);
    assert_int_equal(cfg.autopurge_purge_interval_hours, 0);
    assert_int_equal(cfg.my_id, -1);
    assert_int_equal(cfg.nservers, 0);
    /* properties */
    assert_int_equal(cfg.jute_maxbuffer_bytes, 1048575);
    assert_int_equal(cfg.jute_maxbuffer_extrasize_bytes, 1048575);
    assert_int_equal(cfg.global_outstanding_limit, 1000);
    assert_null(cfg.super_digest);
    assert_true(cfg.digest_auth_enabled);
    assert_string_equal(cfg.digest_auth_alg, "SHA1");
    assert_false(cfg.extended_types_enabled);
    assert_false(cfg.skip_acl);
    assert_int_equal(cfg.container_check_interval_ms, 60000);
    assert_int_equal(cfg.container_max_per_minute, 10000);
    assert_int_equal(cfg.container_max_never_used_interval_ms, 0);
    assert_false(cfg.readonly_mode_enabled);
    assert_false(cfg.enforce_quota);
    assert_int_equal(cfg.max_cnxns, 0);
    assert_int_equal(cfg.snap_count, 100000);
    assert_int_equal(cfg.snap_size_limit_kib, 4194304);
    assert_int_equal(cfg.txn_log_size_limit_kib, -1);
    assert_int_equal(cfg.pre_alloc_size_kib, 65536);
    assert_true(cfg.force_sync);
    assert_int_equal(cfg.fsync_warning_threshold_ms, 1000);
    assert_true(cfg.digest_enabled);
    assert_true(cfg.close_session_txn_enabled);
    assert_int_equal(cfg.nio_sessionless_cnxn_timeout_ms, 10000);
    assert_true(cfg.admin_enable_server);
    assert_int_equal(cfg.admin_server_port, 8080);
    assert_string_equal(cfg.admin_server_address, "127.0.0.1"); /* loopback-only default */
    assert_string_equal(cfg.admin_command_url, "/commands");
    assert_int_equal(cfg.max_write_queue_poll_time_ms, 0);
    assert_int_equal(cfg.large_request_max_bytes, 104857600);
    assert_int_equal(cfg.cnx_timeout_ms, 5000);
    assert_true(cfg.leader_serves);
    /* Corral's default whitelist: read-only monitoring */
    const char *on[] = {"ruok", "srvr", "stat", "mntr", "conf", "isro", "envi", "dirs"};
    for (size_t i = 0; i < sizeof on / sizeof on[0]; i++)
        assert_true(config_4lw_allowed(&cfg, on[i]));
    const char *off[] = {"dump", "wchs", "wchc", "wchp", "cons",
                         "crst", "srst", "stmk", "gtmk", "hash"};
    for (size_t i = 0; i < sizeof off / sizeof off[0]; i++)
        assert_false(config_4lw_allowed(&cfg, off[i]));
    assert_int_equal(cfg.nprops, 0);
    assert_null(config_prop(&cfg, "jute.maxbuffer"));
    assert_no_warnings(&cfg);
    /* names and origins */
    assert_string_equal(config_field_name(&cfg, &cfg.max_session_timeout_ms), "maxSessionTimeout");
    assert_string_equal(config_field_name(&cfg, &cfg.snap_count), "zookeeper.snapCount");
    assert_string_equal(config_field_name(&cfg, &cfg.jute_maxbuffer_bytes), "jute.maxbuffer");
    assert_null(config_field_name(&cfg, &cfg.nwarnings));
    char o[128];
    config_field_origin(&cfg, &cfg.max_session_timeout_ms, o, sizeof o);
    assert_string_equal(o, "default: 20 x tickTime");
    config_field_origin(&cfg, &cfg.tick_time_ms, o, sizeof o);
    assert_string_equal(o, "default: corrald without zoo.cfg");
    config_field_origin(&cfg, &cfg.snap_count, o, sizeof o);
    assert_string_equal(o, "default");
    config_free(&cfg);
    config_free(&cfg); /* idempotent */
}

static void test_minimal_zoo_cfg_uses_zookeeper_defaults(void **state)
{
    (void)state;
    corral_config_t cfg;
    char err[256];
    char text[512];
    snprintf(text, sizeof text, "dataDir=%s\nclientPort=2181\n", g_dir);
    assert_int_equal(load_text(&cfg, text, err, sizeof err), 0);
    assert_int_equal(cfg.tick_time_ms, 3000); /* ZooKeeperServer.DEFAULT_TICK_TIME */
    assert_int_equal(cfg.min_session_timeout_ms, 6000);
    assert_int_equal(cfg.max_session_timeout_ms, 60000);
    assert_string_equal(cfg.client_port_address, "0.0.0.0"); /* all interfaces */
    assert_string_equal(cfg.admin_server_address, "0.0.0.0");
    assert_string_equal(cfg.data_log_dir, g_dir);
    assert_string_equal(cfg.config_path, g_cfg);
    char o[128];
    config_field_origin(&cfg, &cfg.data_log_dir, o, sizeof o);
    assert_string_equal(o, "derived: = dataDir");
    config_field_origin(&cfg, &cfg.client_port, o, sizeof o);
    assert_string_equal(o, line_of(g_cfg, 2));
    assert_no_warnings(&cfg);
    config_free(&cfg);
}

/* ---- every typed key ---------------------------------------------------- */

static void test_every_zoo_cfg_key(void **state)
{
    (void)state;
    corral_config_t cfg;
    load_ok(&cfg, "dataLogDir=/var/lib/zk-log\n"
                  "clientPortAddress=127.0.0.2\n"
                  "secureClientPort=2281\n"
                  "secureClientPortAddress=127.0.0.3\n"
                  "observerMasterPort=2191\n"
                  "clientPortListenBacklog=50\n"
                  "maxClientCnxns=7\n"
                  "minSessionTimeout=3001\n"
                  "maxSessionTimeout=90000\n"
                  "initLimit=10\n"
                  "syncLimit=5\n"
                  "connectToLearnerMasterLimit=12\n"
                  "electionAlg=3\n"
                  "quorumListenOnAllIPs=true\n"
                  "peerType=participant\n"
                  "syncEnabled=false\n"
                  "autopurge.snapRetainCount=5\n"
                  "autopurge.purgeInterval=24\n"
                  "standaloneEnabled=true\n"
                  "reconfigEnabled=true\n"
                  "localSessionsEnabled=TRUE\n"
                  "localSessionsUpgradingEnabled=true\n"
                  "sslQuorum=true\n"
                  "portUnification=true\n"
                  "sslQuorumReloadCertFiles=true\n"
                  "quorum.auth.enableSasl=true\n"
                  "quorum.auth.learnerRequireSasl=true\n"
                  "quorum.auth.serverRequireSasl=true\n"
                  "quorum.auth.learner.saslLoginContext=L\n"
                  "quorum.auth.server.saslLoginContext=S\n"
                  "quorum.auth.kerberos.servicePrincipal=zk/host\n"
                  "quorum.cnxn.threads.size=4\n"
                  "jvm.pause.monitor=true\n"
                  "jvm.pause.info-threshold.ms=11\n"
                  "jvm.pause.warn-threshold.ms=22\n"
                  "jvm.pause.sleep.time.ms=33\n"
                  "metricsProvider.className=" /* the default: no warning */
                  "org.apache.zookeeper.metrics.impl.DefaultMetricsProvider\n"
                  "metricsProvider.exportJvmInfo=false\n"
                  "multiAddress.enabled=true\n"
                  "multiAddress.reachabilityCheckEnabled=false\n"
                  "multiAddress.reachabilityCheckTimeoutMs=250\n"
                  "oraclePath=/tmp/oracle\n");
    assert_no_warnings(&cfg);
    assert_int_equal(cfg.tick_time_ms, 2000);
    assert_string_equal(cfg.data_log_dir, "/var/lib/zk-log");
    assert_string_equal(cfg.data_log_dir_abs, "/var/lib/zk-log");
    assert_int_equal(cfg.client_port, 2181);
    assert_string_equal(cfg.client_port_address, "127.0.0.2");
    assert_int_equal(cfg.secure_client_port, 2281);
    assert_string_equal(cfg.secure_client_port_address, "127.0.0.3");
    assert_int_equal(cfg.observer_master_port, 2191);
    assert_int_equal(cfg.client_port_listen_backlog, 50);
    assert_int_equal(cfg.max_client_cnxns, 7);
    assert_int_equal(cfg.min_session_timeout_ms, 3001);
    assert_int_equal(cfg.max_session_timeout_ms, 90000);
    assert_int_equal(cfg.init_limit_ticks, 10);
    assert_int_equal(cfg.sync_limit_ticks, 5);
    assert_int_equal(cfg.connect_to_learner_master_limit_ticks, 12);
    assert_int_equal(cfg.election_alg, 3);
    assert_true(cfg.quorum_listen_on_all_ips);
    assert_int_equal(cfg.peer_type, CONFIG_PEER_PARTICIPANT);
    assert_false(cfg.sync_enabled);
    assert_int_equal(cfg.autopurge_snap_retain_count, 5);
    assert_int_equal(cfg.autopurge_purge_interval_hours, 24);
    assert_true(cfg.standalone_enabled);
    assert_true(cfg.reconfig_enabled);
    assert_true(cfg.local_sessions_enabled);
    assert_true(cfg.local_sessions_upgrading_enabled);
    assert_true(cfg.ssl_quorum);
    assert_true(cfg.port_unification);
    assert_true(cfg.ssl_quorum_reload_cert_files);
    assert_true(cfg.quorum_sasl_enabled);
    assert_true(cfg.quorum_sasl_learner_required);
    assert_true(cfg.quorum_sasl_server_required);
    assert_string_equal(cfg.quorum_sasl_learner_login_context, "L");
    assert_string_equal(cfg.quorum_sasl_server_login_context, "S");
    assert_string_equal(cfg.quorum_sasl_service_principal, "zk/host");
    assert_int_equal(cfg.quorum_cnxn_threads_size, 4);
    assert_true(cfg.jvm_pause_monitor);
    assert_int_equal(cfg.jvm_pause_info_threshold_ms, 11);
    assert_int_equal(cfg.jvm_pause_warn_threshold_ms, 22);
    assert_int_equal(cfg.jvm_pause_sleep_time_ms, 33);
    assert_true(cfg.multi_address_enabled);
    assert_false(cfg.multi_address_reachability_check_enabled);
    assert_int_equal(cfg.multi_address_reachability_check_timeout_ms, 250);
    assert_string_equal(cfg.oracle_path, "/tmp/oracle");
    /* secureClientPort makes ZooKeeper register the x509 provider */
    assert_string_equal(config_prop(&cfg, "zookeeper.authProvider.x509"),
                        "org.apache.zookeeper.server.auth.X509AuthenticationProvider");
    /* QuorumPeerConfig keys are not properties */
    assert_null(config_prop(&cfg, "zookeeper.maxClientCnxns"));
    assert_null(config_prop(&cfg, "zookeeper.metricsProvider.exportJvmInfo"));
    char o[256];
    config_field_origin(&cfg, &cfg.max_session_timeout_ms, o, sizeof o);
    assert_string_equal(o, line_of(g_cfg, 12));
    config_free(&cfg);
}

static void test_every_property_from_zoo_cfg(void **state)
{
    (void)state;
    corral_config_t cfg;
    load_ok(&cfg, "4lw.commands.whitelist=ruok\n"
                  "globalOutstandingLimit=77\n"
                  "DigestAuthenticationProvider.superDigest=super:abc=\n"
                  "DigestAuthenticationProvider.enabled=false\n"
                  "DigestAuthenticationProvider.digestAlg=SHA-256\n"
                  "superUser=admin\n"
                  "extendedTypesEnabled=true\n"
                  "emulate353TTLNodes=true\n"
                  "skipACL=yes\n"
                  "enableEagerACLCheck=true\n"
                  "enforceQuota=true\n"
                  "maxCnxns=99\n"
                  "snapCount=5000\n"
                  "snapSizeLimitInKb=1024\n"
                  "txnLogSizeLimitInKb=2048\n"
                  "preAllocSize=1024\n"
                  "forceSync=no\n"
                  "fsync.warningthresholdms=250\n"
                  "digest.enabled=false\n"
                  "closeSessionTxn.enabled=false\n"
                  "snapshot.compression.method=gz\n"
                  "snapshot.trust.empty=true\n"
                  "datadir.autocreate=false\n"
                  "db.autocreate=false\n"
                  "commitLogCount=42\n"
                  "nio.sessionlessCnxnTimeout=3000\n"
                  "clientTcpKeepAlive=true\n"
                  "maxBatchSize=10\n"
                  "flushDelay=30\n"
                  "request_throttle_max_requests=5\n"
                  "request_throttle_stall_time=7\n"
                  "request_throttle_drop_stale=false\n"
                  "largeRequestMaxBytes=4096\n"
                  "largeRequestThreshold=1024\n"
                  "maxResponseCacheSize=1\n"
                  "maxGetChildrenResponseCacheSize=2\n"
                  "enforce.auth.enabled=true\n"
                  "enforce.auth.schemes=sasl,digest\n"
                  "sessionRequireClientSASLAuth=true\n"
                  "admin.enableServer=false\n"
                  "admin.serverPort=9090\n"
                  "admin.serverAddress=127.0.0.1\n"
                  "admin.idleTimeout=5\n"
                  "admin.commandURL=/cmd\n"
                  "leaderServes=no\n"
                  "cnxTimeout=900\n"
                  "jute.maxbuffer.extrasize=2048\n"
                  "authProvider.1=org.example.Provider\n"
                  "ssl.keyStore.location=/etc/ks\n");
    assert_no_warnings(&cfg);
    assert_true(config_4lw_allowed(&cfg, "ruok"));
    assert_int_equal(cfg.global_outstanding_limit, 77);
    assert_string_equal(cfg.super_digest, "super:abc=");
    assert_false(cfg.digest_auth_enabled);
    assert_string_equal(cfg.digest_auth_alg, "SHA-256");
    assert_string_equal(cfg.super_user, "admin");
    assert_true(cfg.extended_types_enabled);
    assert_true(cfg.emulate_353_ttl_nodes);
    assert_true(cfg.skip_acl);
    assert_true(cfg.enable_eager_acl_check);
    assert_true(cfg.enforce_quota);
    assert_int_equal(cfg.max_cnxns, 99);
    assert_int_equal(cfg.snap_count, 5000);
    assert_int_equal(cfg.snap_size_limit_kib, 1024);
    assert_int_equal(cfg.txn_log_size_limit_kib, 2048);
    assert_int_equal(cfg.pre_alloc_size_kib, 1024);
    assert_false(cfg.force_sync);
    assert_int_equal(cfg.fsync_warning_threshold_ms, 250);
    assert_false(cfg.digest_enabled);
    assert_false(cfg.close_session_txn_enabled);
    assert_string_equal(cfg.snapshot_compression_method, "gz");
    assert_true(cfg.snapshot_trust_empty);
    assert_false(cfg.datadir_autocreate);
    assert_false(cfg.db_autocreate);
    assert_int_equal(cfg.commit_log_count, 42);
    assert_int_equal(cfg.nio_sessionless_cnxn_timeout_ms, 3000);
    assert_true(cfg.client_tcp_keepalive);
    assert_int_equal(cfg.max_batch_size, 10);
    assert_int_equal(cfg.flush_delay_ms, 30);
    assert_int_equal(cfg.max_write_queue_poll_time_ms, 10); /* flushDelay / 3 */
    assert_int_equal(cfg.request_throttle_max_requests, 5);
    assert_int_equal(cfg.request_throttle_stall_time_ms, 7);
    assert_false(cfg.request_throttle_drop_stale);
    assert_int_equal(cfg.large_request_max_bytes, 4096);
    assert_int_equal(cfg.large_request_threshold_bytes, 1024);
    assert_int_equal(cfg.max_response_cache_size, 1);
    assert_int_equal(cfg.max_get_children_response_cache_size, 2);
    assert_true(cfg.enforce_auth_enabled);
    assert_string_equal(cfg.enforce_auth_schemes, "sasl,digest");
    assert_true(cfg.session_require_client_sasl_auth);
    assert_false(cfg.admin_enable_server);
    assert_int_equal(cfg.admin_server_port, 9090);
    assert_string_equal(cfg.admin_server_address, "127.0.0.1");
    assert_int_equal(cfg.admin_idle_timeout_ms, 5);
    assert_string_equal(cfg.admin_command_url, "/cmd");
    assert_false(cfg.leader_serves);
    assert_int_equal(cfg.cnx_timeout_ms, 900);
    assert_int_equal(cfg.jute_maxbuffer_extrasize_bytes, 2048);
    assert_string_equal(config_prop(&cfg, "zookeeper.authProvider.1"), "org.example.Provider");
    /* origins name the zoo.cfg line; field names are the property */
    char o[256];
    config_field_origin(&cfg, &cfg.snap_count, o, sizeof o);
    assert_string_equal(o, line_of(g_cfg, 4 + 12));
    assert_string_equal(config_field_name(&cfg, &cfg.super_digest),
                        "zookeeper.DigestAuthenticationProvider.superDigest");
    config_free(&cfg);
}

/* ---- the zookeeper. prefix rule ----------------------------------------- */

static void test_prefix_rule_and_property_list(void **state)
{
    (void)state;
    corral_config_t cfg;
    load_ok(&cfg, "DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=\n"
                  "4lw.commands.whitelist=stat, ruok\n"
                  "snapCount=10\n");
    assert_string_equal(config_prop(&cfg, "zookeeper.DigestAuthenticationProvider.superDigest"),
                        "super:D/InIHSb7yEEbrWz8b9l71RjZJU=");
    assert_string_equal(cfg.super_digest, "super:D/InIHSb7yEEbrWz8b9l71RjZJU=");
    assert_string_equal(config_prop(&cfg, "zookeeper.4lw.commands.whitelist"), "stat, ruok");
    assert_null(config_prop(&cfg, "DigestAuthenticationProvider.superDigest"));
    assert_null(config_prop(&cfg, "zookeeper.tickTime"));
    /* ordered property list, with where each came from */
    assert_int_equal(cfg.nprops, 3);
    assert_string_equal(cfg.props[0].name, "zookeeper.DigestAuthenticationProvider.superDigest");
    assert_string_equal(cfg.props[1].name, "zookeeper.4lw.commands.whitelist");
    assert_string_equal(cfg.props[2].name, "zookeeper.snapCount");
    assert_string_equal(cfg.props[2].value, "10");
    assert_int_equal(cfg.props[2].source, CONFIG_SRC_FILE);
    assert_int_equal(cfg.props[2].line, 6);
    assert_string_equal(cfg.props[2].file, g_cfg);
    /* every zoo.cfg line, trimmed, in file order */
    assert_int_equal(cfg.nfile_entries, 6);
    assert_string_equal(cfg.file_entries[0].name, "tickTime");
    assert_string_equal(cfg.file_entries[5].name, "snapCount");
    config_free(&cfg);
}

static void test_unknown_keys_warn_but_are_properties(void **state)
{
    (void)state;
    corral_config_t cfg;
    load_ok(&cfg, "foo.bar=baz\n"                       /* 4 */
                  "ticktime=100\n"                      /* 5 */
                  "zookeeper.snapCount=5\n"             /* 6 */
                  "jute.maxbuffer=4194304\n"            /* 7 */
                  "readonlymode.enabled=true\n"         /* 8 */
                  "znode.container.checkIntervalMs=5\n" /* 9 */
                  "server.1=127.0.0.1:2888:3888\n"      /* 10 */
                  "admin.serverPort=8081\n"             /* 11: known, no warning */
                  "skipacl=yes\n");                     /* 12 */
    assert_string_equal(config_prop(&cfg, "zookeeper.foo.bar"), "baz");
    assert_warning(&cfg, line_of(g_cfg, 4),
                   "unknown key 'foo.bar' treated as property zookeeper.foo.bar");
    assert_warning(&cfg, line_of(g_cfg, 5), "did you mean 'tickTime'");
    assert_warning(&cfg, line_of(g_cfg, 6), "without the zookeeper. prefix");
    assert_warning(&cfg, line_of(g_cfg, 7), "-Djute.maxbuffer=4194304");
    assert_warning(&cfg, line_of(g_cfg, 8), "-Dreadonlymode.enabled");
    assert_warning(&cfg, line_of(g_cfg, 9), "-Dznode.container.checkIntervalMs");
    assert_warning(&cfg, line_of(g_cfg, 12), "did you mean 'skipACL'");
    assert_false(has_warning(&cfg, line_of(g_cfg, 11), NULL));
    assert_false(has_warning(&cfg, line_of(g_cfg, 10), "unknown"));
    /* no effect, exactly as in ZooKeeper */
    assert_int_equal(cfg.tick_time_ms, 2000);
    assert_int_equal(cfg.snap_count, 100000);
    assert_int_equal(cfg.jute_maxbuffer_bytes, 1048575);
    assert_false(cfg.readonly_mode_enabled);
    assert_int_equal(cfg.container_check_interval_ms, 60000);
    assert_string_equal(config_prop(&cfg, "zookeeper.jute.maxbuffer"), "4194304");
    assert_string_equal(config_prop(&cfg, "zookeeper.server.1"), "127.0.0.1:2888:3888");
    assert_int_equal(cfg.admin_server_port, 8081);
    config_free(&cfg);
}

/* ---- -D, JVMFLAGS and SERVER_JVMFLAGS ----------------------------------- */

static void test_system_properties_and_precedence(void **state)
{
    (void)state;
    char text[512];
    snprintf(text, sizeof text, "tickTime=2000\ndataDir=%s\nclientPort=2181\nsnapCount=10\n",
             g_dir);
    write_file(g_cfg, text);
    const char *env[] = {"PATH=/usr/bin",
                         "SERVER_JVMFLAGS=-Xmx2g -Djute.maxbuffer=1000 -Dzookeeper.maxCnxns=1 "
                         "-Dzookeeper.globalOutstandingLimit=1",
                         "JVMFLAGS=-Dzookeeper.maxCnxns=2 -XX:+UseG1GC -Dzookeeper.snapCount=20\t"
                         "-Dreadonlymode.enabled=true",
                         NULL};
    char *argv[] = {"corrald",
                    "-Dzookeeper.maxCnxns=3",
                    g_cfg,
                    "-Dzookeeper.extendedTypesEnabled=true",
                    "-DtickTime=99",
                    "-Dzookeeper.skipACL",
                    "-Dzookeeper.server.principal=zk/host", /* a client property: no warning */
                    NULL};
    corral_config_t cfg;
    char err[256];
    assert_int_equal(config_load(&cfg, 7, argv, env, err, sizeof err), 0);
    assert_int_equal(cfg.jute_maxbuffer_bytes, 1000);  /* SERVER_JVMFLAGS */
    assert_int_equal(cfg.global_outstanding_limit, 1); /* SERVER_JVMFLAGS */
    assert_int_equal(cfg.max_cnxns, 3);                /* argv > JVMFLAGS > SERVER */
    assert_true(cfg.readonly_mode_enabled);            /* JVMFLAGS */
    assert_true(cfg.extended_types_enabled);           /* argv after zoo.cfg */
    assert_int_equal(cfg.snap_count, 10);              /* zoo.cfg wins over -D */
    assert_warning(&cfg, "snapCount=10 overrides -Dzookeeper.snapCount=20", "$JVMFLAGS");
    assert_int_equal(cfg.tick_time_ms, 2000); /* -DtickTime: no effect */
    assert_warning(&cfg, "-DtickTime", "read only from zoo.cfg");
    assert_string_equal(config_prop(&cfg, "zookeeper.skipACL"), ""); /* -Dname alone */
    assert_false(cfg.skip_acl);
    assert_null(config_prop(&cfg, "PATH"));
    assert_false(has_warning(&cfg, "server.principal", NULL));
    const config_prop_t *p = NULL;
    for (size_t i = 0; i < cfg.nprops; i++)
        if (strcmp(cfg.props[i].name, "zookeeper.maxCnxns") == 0)
            p = &cfg.props[i];
    assert_non_null(p);
    assert_int_equal(p->source, CONFIG_SRC_ARGV);
    char o[256];
    config_field_origin(&cfg, &cfg.max_cnxns, o, sizeof o);
    assert_string_equal(o, "-Dzookeeper.maxCnxns on the command line");
    config_field_origin(&cfg, &cfg.jute_maxbuffer_bytes, o, sizeof o);
    assert_string_equal(o, "-Djute.maxbuffer in $SERVER_JVMFLAGS");
    config_field_origin(&cfg, &cfg.snap_count, o, sizeof o);
    assert_string_equal(o, line_of(g_cfg, 4));
    config_free(&cfg);
}

static void test_jvmflags_from_getenv(void **state)
{
    (void)state;
    setenv("JVMFLAGS", "-Dzookeeper.4lw.commands.whitelist=* -Djute.maxbuffer=0x200000", 1);
    setenv("SERVER_JVMFLAGS", "-Dzookeeper.enforceQuota=true", 1);
    corral_config_t cfg;
    char err[256];
    char *argv[] = {"corrald", NULL};
    int rc = config_load(&cfg, 1, argv, NULL, err, sizeof err);
    unsetenv("JVMFLAGS");
    unsetenv("SERVER_JVMFLAGS");
    assert_int_equal(rc, 0);
    assert_true(cfg.four_lw_all);
    assert_true(config_4lw_allowed(&cfg, "wchp"));
    assert_int_equal(cfg.jute_maxbuffer_bytes, 0x200000); /* Integer.getInteger decodes hex */
    assert_true(cfg.enforce_quota);
    config_free(&cfg);
}

static void test_property_values_read_like_java(void **state)
{
    (void)state;
    const char *env[] = {"JVMFLAGS=-Djute.maxbuffer=lots -Dzookeeper.snapCount=010 "
                         "-Dzookeeper.skipACL=YES -Dzookeeper.forceSync=off "
                         "-Dzookeeper.admin.enableServer=FALSE -Dzookeeper.digest.enabled=nope "
                         "-Dzookeeper.preAllocSize=0x10 -Dfsync.warningthresholdms=77 "
                         "-Dzookeeper.jute.maxbuffer.extrasize=5 -Dzookeeper.flushDelay=9",
                         NULL};
    char *argv[] = {"corrald", NULL};
    corral_config_t cfg;
    char err[256];
    assert_int_equal(config_load(&cfg, 1, argv, env, err, sizeof err), 0);
    assert_int_equal(cfg.jute_maxbuffer_bytes, 1048575);
    assert_warning(&cfg, "-Djute.maxbuffer ($JVMFLAGS): 'lots' is not a number", "1048575");
    assert_int_equal(cfg.snap_count, 8); /* octal, as Integer.getInteger */
    assert_warning(&cfg, "'010' is read as octal", NULL);
    assert_false(cfg.skip_acl); /* only exactly "yes" */
    assert_warning(&cfg, "'YES' is treated as no", NULL);
    assert_true(cfg.force_sync); /* only exactly "no" disables */
    assert_warning(&cfg, "'off' is treated as yes", NULL);
    assert_true(cfg.admin_enable_server); /* only exactly "false" disables */
    assert_warning(&cfg, "'FALSE' is treated as true", NULL);
    assert_false(cfg.digest_enabled); /* Boolean.parseBoolean */
    assert_warning(&cfg, "'nope' is neither true nor false", NULL);
    assert_int_equal(cfg.pre_alloc_size_kib, 65536);            /* Long.parseLong: no hex */
    assert_int_equal(cfg.fsync_warning_threshold_ms, 77);       /* fallback property */
    assert_int_equal(cfg.jute_maxbuffer_extrasize_bytes, 1024); /* at least 1024 */
    assert_int_equal(cfg.max_write_queue_poll_time_ms, 3);
    config_free(&cfg);
}

/* ---- Java properties syntax --------------------------------------------- */

static void test_properties_syntax(void **state)
{
    (void)state;
    corral_config_t cfg;
    char err[256];
    char text[2048];
    snprintf(text, sizeof text,
             "# a comment\n"
             "! another comment\\\n"      /* comments never continue */
             "   \t\f\n"                  /* blank */
             "  tickTime   =   1000   \n" /* spaces around, trailing trimmed */
             "dataDir:%s\n"               /* ':' separator */
             "clientPort 2181\r\n"        /* blank separator, CRLF */
             "maxClientCnxns\t=\t\\\n"    /* continuation */
             "      17\n"                 /* leading blanks of the next line skipped */
             "a = = v\r"                  /* CR line end; value keeps the second '=' */
             "b.long=one \\\n"
             "   two \\\n"
             "     three\n"
             "c\\ key=x\\ty\\u0041\\\\\\:\n" /* escapes in key and value */
             "d.empty\n"                     /* key only */
             "e.utf=\\u00e9\\uD83D\\uDE00\n"
             "#tail comment \\\n"
             "f.last=end\\", /* backslash at EOF */
             g_dir);
    assert_int_equal(load_text(&cfg, text, err, sizeof err), 0);
    assert_int_equal(cfg.tick_time_ms, 1000);
    assert_string_equal(cfg.data_dir, g_dir);
    assert_int_equal(cfg.client_port, 2181);
    assert_int_equal(cfg.max_client_cnxns, 17);
    assert_string_equal(config_prop(&cfg, "zookeeper.a"), "= v");
    assert_string_equal(config_prop(&cfg, "zookeeper.b.long"), "one two three");
    assert_string_equal(config_prop(&cfg, "zookeeper.c key"), "x\tyA\\:");
    assert_string_equal(config_prop(&cfg, "zookeeper.d.empty"), "");
    assert_string_equal(config_prop(&cfg, "zookeeper.e.utf"), "\xc3\xa9\xf0\x9f\x98\x80");
    assert_string_equal(config_prop(&cfg, "zookeeper.f.last"), "end");
    /* line numbers count physical lines */
    char o[256];
    config_field_origin(&cfg, &cfg.max_client_cnxns, o, sizeof o);
    assert_string_equal(o, line_of(g_cfg, 7));
    const config_prop_t *b = NULL;
    for (size_t i = 0; i < cfg.nfile_entries; i++)
        if (strcmp(cfg.file_entries[i].name, "b.long") == 0)
            b = &cfg.file_entries[i];
    assert_non_null(b);
    assert_int_equal(b->line, 10);
    config_free(&cfg);
}

static void test_repeated_key_last_wins(void **state)
{
    (void)state;
    corral_config_t cfg;
    load_ok(&cfg, "clientPort=3000\n");
    assert_int_equal(cfg.client_port, 3000);
    assert_warning(&cfg, line_of(g_cfg, 4), "clientPort repeats line 3");
    config_free(&cfg);
}

/* ---- errors ------------------------------------------------------------- */

static void test_error_unreadable_file(void **state)
{
    (void)state;
    corral_config_t cfg;
    char err[512];
    char path[512];
    snprintf(path, sizeof path, "%s/missing.cfg", g_dir);
    char *argv[] = {"corrald", path, NULL};
    assert_int_equal(config_load(&cfg, 2, argv, NO_ENV, err, sizeof err), -1);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "No such file or directory"));
    config_free(&cfg);

    char *argv2[] = {"corrald", g_dir, NULL}; /* a directory */
    assert_int_equal(config_load(&cfg, 2, argv2, NO_ENV, err, sizeof err), -1);
    assert_non_null(strstr(err, g_dir));
    assert_non_null(strstr(err, "Is a directory"));
    config_free(&cfg);
}

static void test_error_bad_values_name_key_file_line(void **state)
{
    (void)state;
    char head[512];
    snprintf(head, sizeof head, "dataDir=%s\n", g_dir);
    char text[2048];
#define BAD(body, ...)                                                                             \
    do {                                                                                           \
        snprintf(text, sizeof text, "%s%s", head, body);                                           \
        expect_error(text, __VA_ARGS__, NULL);                                                     \
    } while (0)
    BAD("clientPort=abc\n", line_of(g_cfg, 2), "clientPort", "'abc' is not a number");
    BAD("clientPort=\n", line_of(g_cfg, 2), "clientPort", "empty");
    BAD("clientPort=70000\n", line_of(g_cfg, 2), "clientPort", "out of range");
    BAD("clientPort=2181\ntickTime=-5\n", line_of(g_cfg, 3), "tickTime", "-5");
    BAD("clientPort=2181\ntickTime=0\n", line_of(g_cfg, 3), "tickTime");
    BAD("clientPort=2181\ntickTime=0x10\n", line_of(g_cfg, 3), "tickTime", "not a number");
    BAD("clientPort=2181\nelectionAlg=1\n", line_of(g_cfg, 3), "electionAlg", "only 3");
    BAD("clientPort=2181\nelectionAlg=x\n", line_of(g_cfg, 3), "electionAlg");
    BAD("clientPort=2181\nlocalSessionsEnabled=yes\n", line_of(g_cfg, 3), "localSessionsEnabled",
        "'yes' is not 'true' or 'false'");
    BAD("clientPort=2181\npeerType=leader\n", line_of(g_cfg, 3), "peerType", "leader");
    BAD("clientPort=2181\nmaxClientCnxns=-1\n", line_of(g_cfg, 3), "maxClientCnxns");
    BAD("clientPort=2181\nminSessionTimeout=-7\n", line_of(g_cfg, 3), "minSessionTimeout");
    BAD("clientPort=2181\nfoo=\\u00G1\n", line_of(g_cfg, 3), "malformed \\uxxxx");
    BAD("clientPortAddress=127.0.0.1\n", line_of(g_cfg, 2), "clientPortAddress",
        "clientPort is not set");
    BAD("clientPort=2181\nsecureClientPortAddress=1.2.3.4\n", line_of(g_cfg, 3),
        "secureClientPort is not set");
    BAD("tickTime=2000\n", g_cfg, "clientPort is not set");
    BAD("clientPort=2181\nquorum.auth.serverRequireSasl=true\n", g_cfg,
        "quorum.auth.enableSasl is disabled");
    BAD("clientPort=2181\nssl.authProvider=custom\nsecureClientPort=2282\n", g_cfg,
        "zookeeper.authProvider.custom");
    BAD("clientPort=2181\nadmin.serverPort=70000\n", line_of(g_cfg, 3), "admin.serverPort",
        "out of range");
#undef BAD
    expect_error("clientPort=2181\n", g_cfg, "dataDir is not set", NULL);
    snprintf(text, sizeof text, "dataDir=\nclientPort=2181\n");
    expect_error(text, line_of(g_cfg, 1), "dataDir", "empty", NULL);
}

static void test_error_min_greater_than_max(void **state)
{
    (void)state;
    char text[1024];
    snprintf(text, sizeof text,
             "dataDir=%s\nclientPort=2181\ntickTime=1000\nminSessionTimeout=5000\n"
             "maxSessionTimeout=4000\n",
             g_dir);
    char maxline[300];
    snprintf(maxline, sizeof maxline, "(%s)", line_of(g_cfg, 5));
    expect_error(text, line_of(g_cfg, 4), "minSessionTimeout", "5000", "maxSessionTimeout 4000",
                 maxline, NULL);
    /* min from the default (2 x tickTime = 4000) against a file max */
    snprintf(text, sizeof text,
             "dataDir=%s\nclientPort=2181\ntickTime=2000\nmaxSessionTimeout=1000\n", g_dir);
    expect_error(text, line_of(g_cfg, 4), "maxSessionTimeout", "1000",
                 "minSessionTimeout 4000 (default: 2 x tickTime)", NULL);
    /* equal is fine */
    corral_config_t cfg;
    load_ok(&cfg, "minSessionTimeout=5000\nmaxSessionTimeout=5000\n");
    assert_int_equal(cfg.min_session_timeout_ms, 5000);
    config_free(&cfg);
}

static void test_error_command_line(void **state)
{
    (void)state;
    corral_config_t cfg;
    char err[512];
    char *argv[] = {"corrald", "--bogus", NULL};
    assert_int_equal(config_load(&cfg, 2, argv, NO_ENV, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown option '--bogus'"));
    assert_non_null(strstr(err, "usage: corrald"));
    config_free(&cfg);
    char *argv2[] = {"corrald", "1", "2", "3", "4", "5", NULL};
    assert_int_equal(config_load(&cfg, 6, argv2, NO_ENV, err, sizeof err), -1);
    assert_non_null(strstr(err, "too many arguments"));
    config_free(&cfg);
    char *argv3[] = {"corrald", "port", "/tmp/x", NULL};
    assert_int_equal(config_load(&cfg, 3, argv3, NO_ENV, err, sizeof err), -1);
    assert_non_null(strstr(err, "clientPort: 'port' is not a number"));
    config_free(&cfg);
}

static void test_legacy_port_datadir_args(void **state)
{
    (void)state;
    corral_config_t cfg;
    char err[256];
    char *argv[] = {"corrald", "12181", "/tmp/zkdata", "1500", NULL};
    assert_int_equal(config_load(&cfg, 4, argv, NO_ENV, err, sizeof err), 0);
    assert_true(cfg.legacy_args);
    assert_int_equal(cfg.client_port, 12181);
    assert_string_equal(cfg.client_port_address, "0.0.0.0");
    assert_string_equal(cfg.data_dir, "/tmp/zkdata");
    assert_string_equal(cfg.data_log_dir, "/tmp/zkdata");
    assert_int_equal(cfg.tick_time_ms, 1500);
    assert_int_equal(cfg.max_client_cnxns, 0); /* ServerConfig's default */
    assert_int_equal(cfg.min_session_timeout_ms, 3000);
    config_free(&cfg);
}

/* ---- four-letter-word whitelist ----------------------------------------- */

static void test_4lw_whitelist(void **state)
{
    (void)state;
    corral_config_t cfg;
    load_ok(&cfg, "4lw.commands.whitelist= stat , ruok ,, bogus\n");
    assert_true(config_4lw_allowed(&cfg, "stat"));
    assert_true(config_4lw_allowed(&cfg, "ruok"));
    assert_true(config_4lw_allowed(&cfg, "srvr")); /* always */
    assert_false(config_4lw_allowed(&cfg, "mntr"));
    assert_false(config_4lw_allowed(&cfg, "isro"));
    assert_false(config_4lw_allowed(&cfg, "conf"));
    assert_false(config_4lw_allowed(&cfg, ""));
    assert_warning(&cfg, "'bogus' is not a four-letter word", line_of(g_cfg, 4));
    config_free(&cfg);

    load_ok(&cfg, "4lw.commands.whitelist=*\n");
    assert_true(cfg.four_lw_all);
    const char *all[] = {"conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "hash", "isro",
                         "mntr", "ruok", "srst", "srvr", "stat", "stmk", "wchc", "wchp", "wchs"};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        assert_true(config_4lw_allowed(&cfg, all[i]));
    assert_false(config_4lw_allowed(&cfg, "kill"));
    config_free(&cfg);

    load_ok(&cfg, "4lw.commands.whitelist=mntr, * \n");
    assert_true(config_4lw_allowed(&cfg, "dump"));
    config_free(&cfg);

    /* empty value: srvr only (ZooKeeper's rule); readonly adds isro */
    char err[256];
    char text[512];
    snprintf(text, sizeof text, "dataDir=%s\nclientPort=1\n4lw.commands.whitelist=\n", g_dir);
    write_file(g_cfg, text);
    char *argv[] = {"corrald", "-Dreadonlymode.enabled=true", g_cfg, NULL};
    assert_int_equal(config_load(&cfg, 3, argv, NO_ENV, err, sizeof err), 0);
    assert_true(config_4lw_allowed(&cfg, "srvr"));
    assert_true(config_4lw_allowed(&cfg, "isro"));
    assert_false(config_4lw_allowed(&cfg, "ruok"));
    assert_int_equal(cfg.four_lw_count, 2);
    config_free(&cfg);
}

/* ---- server.N, myid, dynamic config ------------------------------------- */

static void write_myid(const char *id)
{
    char d[256], p[300];
    snprintf(d, sizeof d, "%s/data", g_dir);
    mkdir(d, 0755);
    snprintf(p, sizeof p, "%s/myid", d);
    write_file(p, id);
}

static void test_quorum_servers_and_myid(void **state)
{
    (void)state;
    write_myid("2\n");
    corral_config_t cfg;
    load_ok(&cfg, "initLimit=5\nsyncLimit=2\n"
                  "server.1=127.0.0.1:2888:3888\n"
                  "server.2=[::1]:2889:3889:participant;2181\n"
                  "server.3=zk3.example:2890:3890;10.0.0.3:2183\n"
                  "server.4=127.0.0.4:2891:3891:OBSERVER\n");
    assert_true(cfg.distributed);
    assert_int_equal(cfg.my_id, 2);
    assert_int_equal(cfg.nservers, 4);
    const config_server_t *s = &cfg.servers[0];
    assert_int_equal(s->id, 1);
    assert_int_equal(s->naddrs, 1);
    assert_string_equal(s->addrs[0].host, "127.0.0.1");
    assert_int_equal(s->addrs[0].quorum_port, 2888);
    assert_int_equal(s->addrs[0].election_port, 3888);
    assert_int_equal(s->type, CONFIG_PEER_PARTICIPANT);
    assert_null(s->client_host);
    assert_int_equal(s->line, 6);
    s = &cfg.servers[1];
    assert_string_equal(s->addrs[0].host, "::1");
    assert_string_equal(s->client_host, "0.0.0.0");
    assert_int_equal(s->client_port, 2181);
    s = &cfg.servers[2];
    assert_string_equal(s->addrs[0].host, "zk3.example");
    assert_string_equal(s->client_host, "10.0.0.3");
    assert_int_equal(s->client_port, 2183);
    assert_int_equal(cfg.servers[3].type, CONFIG_PEER_OBSERVER);
    assert_int_equal(cfg.peer_type, CONFIG_PEER_PARTICIPANT);
    config_free(&cfg);
}

static void test_quorum_client_port_from_server_line(void **state)
{
    (void)state;
    write_myid("1");
    corral_config_t cfg;
    char err[512];
    char text[1024];
    snprintf(text, sizeof text,
             "dataDir=%s/data\ninitLimit=5\nsyncLimit=2\n"
             "server.1=127.0.0.1:2888:3888;127.0.0.1:2191\n"
             "server.2=127.0.0.2:2888:3888;127.0.0.2:2191\n"
             "server.3=127.0.0.3:2888:3888;127.0.0.3:2191\n",
             g_dir);
    assert_int_equal(load_text(&cfg, text, err, sizeof err), 0);
    assert_int_equal(cfg.client_port, 2191);
    assert_string_equal(cfg.client_port_address, "127.0.0.1");
    assert_no_warnings(&cfg);
    config_free(&cfg);
    /* a conflicting static clientPort is an error */
    snprintf(text, sizeof text,
             "dataDir=%s/data\ninitLimit=5\nsyncLimit=2\nclientPort=2181\n"
             "server.1=127.0.0.1:2888:3888;127.0.0.1:2191\n"
             "server.2=127.0.0.2:2888:3888\n",
             g_dir);
    expect_error(text, line_of(g_cfg, 5), "clientPort", "id 1", NULL);
}

static void test_quorum_errors(void **state)
{
    (void)state;
    char text[2048];
#define QBAD(body, ...)                                                                            \
    do {                                                                                           \
        snprintf(text, sizeof text, "dataDir=%s/data\nclientPort=2181\n%s", g_dir, body);          \
        expect_error(text, __VA_ARGS__, NULL);                                                     \
    } while (0)
    QBAD("server.1=127.0.0.1:2888\n", line_of(g_cfg, 3), "server.1", "does not have the form");
    QBAD("server.1=127.0.0.1:2888:3888:x:y\n", line_of(g_cfg, 3), "does not have the form");
    QBAD("server.1=127.0.0.1:2888:3888;a:b:c\n", line_of(g_cfg, 3), "does not have the form");
    QBAD("server.1=127.0.0.1:2888:2888\n", line_of(g_cfg, 3), "server.1", "must differ");
    QBAD("server.x=127.0.0.1:2888:3888\n", line_of(g_cfg, 3), "server.x", "'x' is not a number");
    QBAD("server.1=127.0.0.1:2888:3888:leader\n", line_of(g_cfg, 3), "peer type 'leader'");
    QBAD("server.1=127.0.0.1:abc:3888\n", line_of(g_cfg, 3), "bad port");
    QBAD("server.1=127.0.0.1:2888:70000\n", line_of(g_cfg, 3), "out of range");
    QBAD("server.1=127.0.0.1:2888:3888;x\n", line_of(g_cfg, 3), "bad port");
    QBAD("server.1=[::1:2888:3888\n", line_of(g_cfg, 3), "no matching ']:'");
    QBAD("server.1=127.0.0.1:2888:3888|127.0.0.2:2889:3889\n", line_of(g_cfg, 3),
         "multiAddress.enabled");
    QBAD("server.1=127.0.0.1:2888:3888\nserver.01=127.0.0.2:2888:3888\n", line_of(g_cfg, 4),
         "already used on line 3");
    QBAD("server.1=127.0.0.1:2888:3888\nserver.2=127.0.0.2:2888:3888:observer\n", g_cfg,
         "observers without a quorum");
    QBAD("server.1=127.0.0.1:2888:3888\nserver.2=127.0.0.2:2888:3888\n", g_cfg,
         "initLimit is not set");
    QBAD("initLimit=5\nsyncLimit=2\nserver.1=127.0.0.1:2888:3888\nserver.2=127.0.0.2:2888:3888\n",
         g_cfg, "myid file is missing");
    QBAD("standaloneEnabled=false\n", g_cfg, "at least one participant");
    QBAD("dynamicConfigFile=/nonexistent\nserver.1=127.0.0.1:2888:3888\n", line_of(g_cfg, 4),
         "separate dynamic config file");
#undef QBAD
    write_myid("one\n");
    snprintf(text, sizeof text, "dataDir=%s/data\nclientPort=2181\n", g_dir);
    expect_error(text, "/data/myid", "'one' is not a number", NULL);
}

static void test_quorum_single_server_and_multi_address(void **state)
{
    (void)state;
    corral_config_t cfg;
    load_ok(&cfg, "server.1=127.0.0.1:2888:3888\n");
    assert_false(cfg.distributed);
    assert_int_equal(cfg.nservers, 1);
    assert_warning(&cfg, "only one server specified", NULL);
    config_free(&cfg);

    load_ok(&cfg, "multiAddress.enabled=true\n"
                  "server.1=127.0.0.1:2888:3888|[::2]:2889:3889:participant;2181\n");
    assert_int_equal(cfg.nservers, 1);
    assert_int_equal(cfg.servers[0].naddrs, 2);
    assert_string_equal(cfg.servers[0].addrs[1].host, "::2");
    assert_int_equal(cfg.servers[0].addrs[1].election_port, 3889);
    config_free(&cfg);
}

static void test_dynamic_config_file(void **state)
{
    (void)state;
    write_myid("1\n");
    char dyn[512];
    snprintf(dyn, sizeof dyn, "%s/zoo.cfg.dynamic.100000000", g_dir);
    write_file(dyn, "server.1=127.0.0.1:2888:3888:participant;127.0.0.1:2181\n"
                    "server.2=127.0.0.2:2888:3888:participant;127.0.0.2:2181\n"
                    "server.3=127.0.0.3:2888:3888:participant;127.0.0.3:2181\n");
    char text[4096];
    snprintf(text, sizeof text,
             "tickTime=2000\ndataDir=%s/data\ninitLimit=5\nsyncLimit=2\nreconfigEnabled=true\n"
             "standaloneEnabled=false\ndynamicConfigFile=%s\n",
             g_dir, dyn);
    corral_config_t cfg;
    char err[512];
    if (load_text(&cfg, text, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_true(cfg.distributed);
    assert_int_equal(cfg.nservers, 3);
    assert_int_equal(cfg.dynamic_config_version, 0x100000000LL);
    assert_string_equal(cfg.servers[2].file, dyn);
    assert_int_equal(cfg.servers[2].line, 3);
    assert_int_equal(cfg.client_port, 2181); /* from server.1's client part */
    assert_string_equal(cfg.client_port_address, "127.0.0.1");
    config_free(&cfg);

    write_file(dyn, "server.1=127.0.0.1:2888:3888\nversion=5\n");
    expect_error(text, dyn, ":2: version", NULL);
    write_file(dyn, "server.1=127.0.0.1:2888:3888\ntickTime=5\n");
    expect_error(text, dyn, ":2: tickTime", "unrecognised parameter", NULL);
}

/* ---- conf ---------------------------------------------------------------- */

static void test_conf_dump_matches_zookeeper(void **state)
{
    (void)state;
    /* Same settings as a real 3.8.0 server run in /tmp/zkconf, which printed:
     * clientPort=12181 secureClientPort=-1 dataDir=/tmp/zkconf/data/sub/version-2 ...
     * dataLogDir=/tmp/zkconf/./logs/version-2 (File keeps "./", drops "//" and a
     * trailing "/") tickTime=1500 maxClientCnxns=7 minSessionTimeout=3001
     * maxSessionTimeout=90000 clientPortListenBacklog=50 serverId=0 */
    char cwd[1024];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(g_dir), 0);
    corral_config_t cfg;
    char err[256];
    int rc = load_text(&cfg,
                       "tickTime=1500\ndataDir=data//sub/\ndataLogDir=./logs\nclientPort=12181\n"
                       "4lw.commands.whitelist=*\nadmin.enableServer=false\n"
                       "clientPortListenBacklog=50\nminSessionTimeout=3001\n"
                       "maxSessionTimeout=90000\nmaxClientCnxns=7\n",
                       err, sizeof err);
    assert_int_equal(chdir(cwd), 0);
    if (rc != 0)
        fail_msg("%s", err);
    buf_t out;
    buf_init(&out);
    config_dump(&cfg, 0, 457, &out);
    char expect[8192];
    snprintf(expect, sizeof expect,
             "clientPort=12181\n"
             "secureClientPort=-1\n"
             "dataDir=%s/data/sub/version-2\n"
             "dataDirSize=0\n"
             "dataLogDir=%s/./logs/version-2\n"
             "dataLogSize=457\n"
             "tickTime=1500\n"
             "maxClientCnxns=7\n"
             "minSessionTimeout=3001\n"
             "maxSessionTimeout=90000\n"
             "clientPortListenBacklog=50\n"
             "serverId=0\n",
             g_dir, g_dir);
    buf_append(&out, "", 1);
    assert_string_equal((char *)out.data, expect);
    buf_free(&out);
    config_free(&cfg);

    /* the no-argument defaults */
    char *argv[] = {"corrald", NULL};
    assert_int_equal(config_load(&cfg, 1, argv, NO_ENV, err, sizeof err), 0);
    buf_init(&out);
    config_dump(&cfg, 1, 2, &out);
    buf_append(&out, "", 1);
    snprintf(expect, sizeof expect,
             "clientPort=2181\nsecureClientPort=-1\ndataDir=%s/./data/version-2\ndataDirSize=1\n"
             "dataLogDir=%s/./data/version-2\ndataLogSize=2\ntickTime=2000\nmaxClientCnxns=60\n"
             "minSessionTimeout=4000\nmaxSessionTimeout=40000\nclientPortListenBacklog=-1\n"
             "serverId=0\n",
             cwd, cwd);
    assert_string_equal((char *)out.data, expect);
    buf_free(&out);
    config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults_without_zoo_cfg, setup, teardown),
        cmocka_unit_test_setup_teardown(test_minimal_zoo_cfg_uses_zookeeper_defaults, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_every_zoo_cfg_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_property_from_zoo_cfg, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prefix_rule_and_property_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_keys_warn_but_are_properties, setup, teardown),
        cmocka_unit_test_setup_teardown(test_system_properties_and_precedence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jvmflags_from_getenv, setup, teardown),
        cmocka_unit_test_setup_teardown(test_property_values_read_like_java, setup, teardown),
        cmocka_unit_test_setup_teardown(test_properties_syntax, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repeated_key_last_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_unreadable_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_bad_values_name_key_file_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_min_greater_than_max, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_command_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_legacy_port_datadir_args, setup, teardown),
        cmocka_unit_test_setup_teardown(test_4lw_whitelist, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quorum_servers_and_myid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quorum_client_port_from_server_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quorum_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quorum_single_server_and_multi_address, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_dynamic_config_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conf_dump_matches_zookeeper, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
