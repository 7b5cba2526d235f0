/* config: reads corrald's command line, -D system properties ($SERVER_JVMFLAGS,
 * $JVMFLAGS, argv), zoo.cfg (a Java properties file, interpreted the way
 * ZooKeeper 3.8's QuorumPeerConfig does), the dynamic config file and
 * <dataDir>/myid into a corral_config_t. Every typed field is described once
 * in FIELDS (its key or property, type, reading rule and default); the loader
 * walks that table, so a field's name and origin are always known.
 * See config.h for the rules and the precedence. */
#include "server/config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define ZK_PREFIX "zookeeper."
#define ZK_PREFIX_LEN (sizeof(ZK_PREFIX) - 1)
#define CONFIG_MAX_FILE_BYTES (16u * 1024u * 1024u) /* zoo.cfg, dynamic file */
#define CONFIG_MAX_MYID_BYTES 4096u
#define DEFAULT_METRICS_PROVIDER "org.apache.zookeeper.metrics.impl.DefaultMetricsProvider"
#define PROMETHEUS_METRICS_PROVIDER                                                                \
    "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider"
#define SERVER_FORMAT                                                                              \
    "host:port:port[:participant|:observer][;[host:]port] (several host:port:port groups "         \
    "separated by '|' with multiAddress.enabled)"

/* ------------------------------------------------------------------------ */
/* Small helpers                                                             */

static char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

static char *vstrfmt(const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        n = 0;
    char *s = xmalloc((size_t)n + 1);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

static char *strfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *strfmt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = vstrfmt(fmt, ap);
    va_end(ap);
    return s;
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool streq(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

/* Java's String.trim(): drop chars <= ' ' at both ends, in place. */
static char *java_trim(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (unsigned char)s[n - 1] <= ' ')
        s[--n] = '\0';
    size_t i = 0;
    while (s[i] != '\0' && (unsigned char)s[i] <= ' ')
        i++;
    if (i > 0)
        memmove(s, s + i, n - i + 1);
    return s;
}

/* A hex digit's value, either case; false for anything else. */
static bool hex_digit(char c, unsigned *d)
{
    if (c >= '0' && c <= '9')
        *d = (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f')
        *d = (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
        *d = (unsigned)(c - 'A' + 10);
    else
        return false;
    return true;
}

/* An optional leading '-' or '+': sets *neg, returns the index after it. */
static size_t java_sign(const char *s, bool *neg)
{
    *neg = s[0] == '-';
    return s[0] == '-' || s[0] == '+' ? 1 : 0;
}

/* The digit loop Long.parseLong and Long.decode share: at least one digit of
 * `radix` from s[i] to the end, negated if `neg`, within [min, max]. */
static bool java_digits(const char *s, size_t i, bool neg, unsigned radix, int64_t min, int64_t max,
                        int64_t *out)
{
    if (s[i] == '\0')
        return false;
    uint64_t limit = neg ? (uint64_t)(-(min + 1)) + 1 : (uint64_t)max;
    uint64_t v = 0;
    for (; s[i] != '\0'; i++) {
        unsigned d;
        if (!hex_digit(s[i], &d) || d >= radix || v > (limit - d) / radix)
            return false;
        v = v * radix + d;
    }
    if (neg && min >= 0 && v != 0)
        return false;
    *out = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
    return true;
}

/* Java's Integer.parseInt / Long.parseLong (radix 10): optional sign, then
 * at least one decimal digit, nothing else, within [min, max]. */
static bool java_parse_long(const char *s, int64_t min, int64_t max, int64_t *out)
{
    bool neg;
    size_t i = java_sign(s, &neg);
    return java_digits(s, i, neg, 10, min, max, out);
}

/* Java's Integer.decode / Long.decode, as used by Integer.getInteger and
 * Long.getLong: optional sign, then 0x/0X/# hex, 0-prefixed octal or
 * decimal, within [min, max]. */
static bool java_decode(const char *s, int64_t min, int64_t max, int64_t *out)
{
    bool neg;
    size_t i = java_sign(s, &neg);
    unsigned radix = 10;
    if (s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
        radix = 16;
        i += 2;
    } else if (s[i] == '#') {
        radix = 16;
        i++;
    } else if (s[i] == '0' && s[i + 1] != '\0') {
        radix = 8;
        i++;
    }
    return java_digits(s, i, neg, radix, min, max, out);
}

/* Java's Long.parseLong(s, 16). */
static bool java_parse_long_hex(const char *s, int64_t *out)
{
    bool neg;
    size_t i = java_sign(s, &neg);
    return java_digits(s, i, neg, 16, INT64_MIN, INT64_MAX, out);
}

/* Java's Boolean.parseBoolean: "true" in any case; anything else is false. */
static bool java_bool(const char *s)
{
    return s != NULL && strcasecmp(s, "true") == 0;
}

static bool is_true_or_false(const char *s)
{
    return strcasecmp(s, "true") == 0 || strcasecmp(s, "false") == 0;
}

/* java.io.File normalisation: collapse repeated '/', drop a trailing '/'. */
static char *java_file_normalize(const char *p)
{
    size_t n = strlen(p);
    char *out = xmalloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '/' && o > 0 && out[o - 1] == '/')
            continue;
        out[o++] = p[i];
    }
    if (o > 1 && out[o - 1] == '/')
        o--;
    out[o] = '\0';
    return out;
}

/* java.io.File.getAbsolutePath() with user.dir = cwd. */
static char *java_file_abs(const char *path, const char *cwd)
{
    char *norm = java_file_normalize(path);
    if (norm[0] == '/')
        return norm;
    char *c = java_file_normalize(cwd);
    char *abs;
    if (norm[0] == '\0')
        abs = xstrdup(c);
    else if (streq(c, "/"))
        abs = strfmt("/%s", norm);
    else
        abs = strfmt("%s/%s", c, norm);
    free(c);
    free(norm);
    return abs;
}

/* A Java String.split(sep) on a literal one-char separator: trailing empty
 * pieces are dropped, as Java does. Returns the count; *parts is an array of
 * malloc'ed strings (free with free_parts). */
static size_t java_split(const char *s, char sep, char ***parts)
{
    size_t cap = 4, n = 0;
    char **v = xmalloc(cap * sizeof *v);
    const char *start = s;
    for (const char *p = s;; p++) {
        if (*p == sep || *p == '\0') {
            if (n == cap) {
                cap *= 2;
                v = xrealloc(v, cap * sizeof *v);
            }
            v[n++] = xstrndup(start, (size_t)(p - start));
            if (*p == '\0')
                break;
            start = p + 1;
        }
    }
    while (n > 1 && v[n - 1][0] == '\0')
        free(v[--n]);
    if (n == 1 && v[0][0] == '\0' && s[0] != '\0') /* s was all separators */
        free(v[--n]);
    *parts = v;
    return n;
}

static void free_parts(char **parts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(parts[i]);
    free(parts);
}

static const char *errno_text(int e, char *buf, size_t len)
{
    /* GNU strerror_r returns the message (maybe not in buf). */
    return strerror_r(e, buf, len);
}

/* ------------------------------------------------------------------------ */
/* Where values came from                                                    */

struct config_origin {
    config_source_t source;
    const char *file; /* owned by the config (config_path or dynamic file) */
    int line;
    const char *prop; /* CONFIG_SRC_ARGV/JVMFLAGS: the property (owned by props) */
    const char *note; /* static text for DEFAULT/DERIVED ("20 x tickTime") */
};

const char *config_source_name(config_source_t src)
{
    switch (src) {
    case CONFIG_SRC_DEFAULT:
        return "default";
    case CONFIG_SRC_FILE:
        return "zoo.cfg";
    case CONFIG_SRC_ARGV:
        return "command line";
    case CONFIG_SRC_JVMFLAGS:
        return "$JVMFLAGS";
    case CONFIG_SRC_SERVER_JVMFLAGS:
        return "$SERVER_JVMFLAGS";
    case CONFIG_SRC_DERIVED:
        return "derived";
    case CONFIG_SRC_MYID:
        return "myid file";
    }
    return "?";
}

/* ------------------------------------------------------------------------ */
/* The typed fields                                                          */

typedef enum ftype { FT_I32, FT_I64, FT_BOOL, FT_STR, FT_PEER } ftype_t;

typedef enum rule {
    R_KEY,             /* zoo.cfg QuorumPeerConfig key: parseInt/parseLong, true|false, text */
    R_NONE,            /* set by code (myid, derived values) */
    R_PROP_INT,        /* Integer.getInteger: decode, default on garbage */
    R_PROP_LONG,       /* Long.getLong */
    R_PROP_LONG_PARSE, /* Long.parseLong, default on garbage (preAllocSize) */
    R_PROP_BOOL,       /* Boolean.parseBoolean / Boolean.getBoolean */
    R_PROP_YES,        /* true only for exactly "yes" (skipACL) */
    R_PROP_NOT_NO,     /* false only for exactly "no" (forceSync, leaderServes) */
    R_PROP_NOT_FALSE,  /* false only for exactly "false" (admin.enableServer) */
    R_PROP_STR,
} rule_t;

typedef struct field_desc {
    const char *name; /* zoo.cfg key (R_KEY) or system property */
    size_t off;
    ftype_t type;
    rule_t rule;
    int64_t def;         /* numeric default */
    const char *def_str; /* string default (NULL = unset) */
} field_desc_t;

#define FLD(name, field, type, rule, def, def_str)                                                 \
    {                                                                                              \
        name, offsetof(corral_config_t, field), type, rule, def, def_str                           \
    }

static const field_desc_t FIELDS[] = {
    /* QuorumPeerConfig keys */
    FLD("tickTime", tick_time_ms, FT_I32, R_KEY, 3000, NULL),
    FLD("dataDir", data_dir, FT_STR, R_KEY, 0, NULL),
    FLD("dataLogDir", data_log_dir, FT_STR, R_KEY, 0, NULL),
    FLD("clientPort", client_port, FT_I32, R_KEY, 0, NULL),
    FLD("clientPortAddress", client_port_address, FT_STR, R_KEY, 0, NULL),
    FLD("secureClientPort", secure_client_port, FT_I32, R_KEY, 0, NULL),
    FLD("secureClientPortAddress", secure_client_port_address, FT_STR, R_KEY, 0, NULL),
    FLD("observerMasterPort", observer_master_port, FT_I32, R_KEY, 0, NULL),
    FLD("clientPortListenBacklog", client_port_listen_backlog, FT_I32, R_KEY, -1, NULL),
    FLD("maxClientCnxns", max_client_cnxns, FT_I32, R_KEY, 60, NULL),
    FLD("minSessionTimeout", min_session_timeout_ms, FT_I32, R_KEY, -1, NULL),
    FLD("maxSessionTimeout", max_session_timeout_ms, FT_I32, R_KEY, -1, NULL),
    FLD("initLimit", init_limit_ticks, FT_I32, R_KEY, 0, NULL),
    FLD("syncLimit", sync_limit_ticks, FT_I32, R_KEY, 0, NULL),
    FLD("connectToLearnerMasterLimit", connect_to_learner_master_limit_ticks, FT_I32, R_KEY, 0,
        NULL),
    FLD("electionAlg", election_alg, FT_I32, R_KEY, 3, NULL),
    FLD("quorumListenOnAllIPs", quorum_listen_on_all_ips, FT_BOOL, R_KEY, 0, NULL),
    FLD("peerType", peer_type, FT_PEER, R_KEY, CONFIG_PEER_PARTICIPANT, NULL),
    FLD("syncEnabled", sync_enabled, FT_BOOL, R_KEY, 1, NULL),
    FLD("dynamicConfigFile", dynamic_config_file, FT_STR, R_KEY, 0, NULL),
    FLD("autopurge.snapRetainCount", autopurge_snap_retain_count, FT_I32, R_KEY, 3, NULL),
    FLD("autopurge.purgeInterval", autopurge_purge_interval_hours, FT_I32, R_KEY, 0, NULL),
    FLD("standaloneEnabled", standalone_enabled, FT_BOOL, R_KEY, 1, NULL),
    FLD("reconfigEnabled", reconfig_enabled, FT_BOOL, R_KEY, 0, NULL),
    FLD("localSessionsEnabled", local_sessions_enabled, FT_BOOL, R_KEY, 0, NULL),
    FLD("localSessionsUpgradingEnabled", local_sessions_upgrading_enabled, FT_BOOL, R_KEY, 0, NULL),
    FLD("sslQuorum", ssl_quorum, FT_BOOL, R_KEY, 0, NULL),
    FLD("portUnification", port_unification, FT_BOOL, R_KEY, 0, NULL),
    FLD("sslQuorumReloadCertFiles", ssl_quorum_reload_cert_files, FT_BOOL, R_KEY, 0, NULL),
    FLD("quorum.auth.enableSasl", quorum_sasl_enabled, FT_BOOL, R_KEY, 0, NULL),
    FLD("quorum.auth.serverRequireSasl", quorum_sasl_server_required, FT_BOOL, R_KEY, 0, NULL),
    FLD("quorum.auth.learnerRequireSasl", quorum_sasl_learner_required, FT_BOOL, R_KEY, 0, NULL),
    FLD("quorum.auth.learner.saslLoginContext", quorum_sasl_learner_login_context, FT_STR, R_KEY, 0,
        "QuorumLearner"),
    FLD("quorum.auth.server.saslLoginContext", quorum_sasl_server_login_context, FT_STR, R_KEY, 0,
        "QuorumServer"),
    FLD("quorum.auth.kerberos.servicePrincipal", quorum_sasl_service_principal, FT_STR, R_KEY, 0,
        "zkquorum/localhost"),
    FLD("quorum.cnxn.threads.size", quorum_cnxn_threads_size, FT_I32, R_KEY, 0, NULL),
    FLD("jvm.pause.monitor", jvm_pause_monitor, FT_BOOL, R_KEY, 0, NULL),
    FLD("jvm.pause.info-threshold.ms", jvm_pause_info_threshold_ms, FT_I64, R_KEY, 1000, NULL),
    FLD("jvm.pause.warn-threshold.ms", jvm_pause_warn_threshold_ms, FT_I64, R_KEY, 10000, NULL),
    FLD("jvm.pause.sleep.time.ms", jvm_pause_sleep_time_ms, FT_I64, R_KEY, 500, NULL),
    FLD("metricsProvider.className", metrics_provider_class_name, FT_STR, R_KEY, 0,
        DEFAULT_METRICS_PROVIDER),
    FLD("multiAddress.enabled", multi_address_enabled, FT_BOOL, R_KEY, 0, NULL),
    FLD("multiAddress.reachabilityCheckEnabled", multi_address_reachability_check_enabled, FT_BOOL,
        R_KEY, 1, NULL),
    FLD("multiAddress.reachabilityCheckTimeoutMs", multi_address_reachability_check_timeout_ms,
        FT_I32, R_KEY, 1000, NULL),
    FLD("oraclePath", oracle_path, FT_STR, R_KEY, 0, NULL),
    /* set by code */
    FLD("myid", my_id, FT_I64, R_NONE, -1, NULL),
    FLD("version", dynamic_config_version, FT_I64, R_NONE, -1, NULL),
    /* system properties */
    FLD("jute.maxbuffer", jute_maxbuffer_bytes, FT_I32, R_PROP_INT, 0xfffff, NULL),
    FLD("zookeeper.jute.maxbuffer.extrasize", jute_maxbuffer_extrasize_bytes, FT_I32, R_PROP_INT,
        0xfffff, NULL),
    FLD("zookeeper.globalOutstandingLimit", global_outstanding_limit, FT_I32, R_PROP_INT, 1000,
        NULL),
    FLD("zookeeper.DigestAuthenticationProvider.superDigest", super_digest, FT_STR, R_PROP_STR, 0,
        NULL),
    FLD("zookeeper.DigestAuthenticationProvider.enabled", digest_auth_enabled, FT_BOOL, R_PROP_BOOL,
        1, NULL),
    FLD("zookeeper.DigestAuthenticationProvider.digestAlg", digest_auth_alg, FT_STR, R_PROP_STR, 0,
        "SHA1"),
    FLD("zookeeper.superUser", super_user, FT_STR, R_PROP_STR, 0, NULL),
    FLD("zookeeper.extendedTypesEnabled", extended_types_enabled, FT_BOOL, R_PROP_BOOL, 0, NULL),
    FLD("zookeeper.emulate353TTLNodes", emulate_353_ttl_nodes, FT_BOOL, R_PROP_BOOL, 0, NULL),
    FLD("zookeeper.skipACL", skip_acl, FT_BOOL, R_PROP_YES, 0, NULL),
    FLD("zookeeper.enableEagerACLCheck", enable_eager_acl_check, FT_BOOL, R_PROP_BOOL, 0, NULL),
    FLD("znode.container.checkIntervalMs", container_check_interval_ms, FT_I32, R_PROP_INT, 60000,
        NULL),
    FLD("znode.container.maxPerMinute", container_max_per_minute, FT_I32, R_PROP_INT, 10000, NULL),
    FLD("znode.container.maxNeverUsedIntervalMs", container_max_never_used_interval_ms, FT_I64,
        R_PROP_LONG, 0, NULL),
    FLD("readonlymode.enabled", readonly_mode_enabled, FT_BOOL, R_PROP_BOOL, 0, NULL),
    FLD("zookeeper.enforceQuota", enforce_quota, FT_BOOL, R_PROP_BOOL, 0, NULL),
    FLD("zookeeper.maxCnxns", max_cnxns, FT_I32, R_PROP_INT, 0, NULL),
    FLD("zookeeper.snapCount", snap_count, FT_I32, R_PROP_INT, 100000, NULL),
    FLD("corral.snapshot.sliceNodes", snapshot_slice_nodes, FT_I32, R_PROP_INT, 2048, NULL),
    FLD("zookeeper.snapSizeLimitInKb", snap_size_limit_kib, FT_I64, R_PROP_LONG, 4194304, NULL),
    FLD("zookeeper.txnLogSizeLimitInKb", txn_log_size_limit_kib, FT_I64, R_PROP_LONG, -1, NULL),
    FLD("zookeeper.preAllocSize", pre_alloc_size_kib, FT_I64, R_PROP_LONG_PARSE, 65536, NULL),
    FLD("zookeeper.forceSync", force_sync, FT_BOOL, R_PROP_NOT_NO, 1, NULL),
    FLD("zookeeper.fsync.warningthresholdms", fsync_warning_threshold_ms, FT_I64, R_PROP_LONG, 1000,
        NULL),
    FLD("zookeeper.digest.enabled", digest_enabled, FT_BOOL, R_PROP_BOOL, 1, NULL),
    FLD("zookeeper.closeSessionTxn.enabled", close_session_txn_enabled, FT_BOOL, R_PROP_BOOL, 1,
        NULL),
    FLD("zookeeper.snapshot.compression.method", snapshot_compression_method, FT_STR, R_PROP_STR, 0,
        ""),
    FLD("zookeeper.snapshot.trust.empty", snapshot_trust_empty, FT_BOOL, R_PROP_BOOL, 0, NULL),
    FLD("zookeeper.datadir.autocreate", datadir_autocreate, FT_BOOL, R_PROP_BOOL, 1, NULL),
    FLD("zookeeper.db.autocreate", db_autocreate, FT_BOOL, R_PROP_BOOL, 1, NULL),
    FLD("zookeeper.commitLogCount", commit_log_count, FT_I32, R_PROP_INT, 500, NULL),
    FLD("zookeeper.nio.sessionlessCnxnTimeout", nio_sessionless_cnxn_timeout_ms, FT_I32, R_PROP_INT,
        10000, NULL),
    FLD("zookeeper.clientTcpKeepAlive", client_tcp_keepalive, FT_BOOL, R_PROP_BOOL, 0, NULL),
    FLD("zookeeper.maxBatchSize", max_batch_size, FT_I32, R_PROP_INT, 1000, NULL),
    FLD("zookeeper.flushDelay", flush_delay_ms, FT_I64, R_PROP_LONG, 0, NULL),
    FLD("zookeeper.maxWriteQueuePollTime", max_write_queue_poll_time_ms, FT_I64, R_PROP_LONG, 0,
        NULL),
    FLD("zookeeper.request_throttle_max_requests", request_throttle_max_requests, FT_I32,
        R_PROP_INT, 0, NULL),
    FLD("zookeeper.request_throttle_stall_time", request_throttle_stall_time_ms, FT_I32, R_PROP_INT,
        100, NULL),
    FLD("zookeeper.request_throttle_drop_stale", request_throttle_drop_stale, FT_BOOL, R_PROP_BOOL,
        1, NULL),
    FLD("zookeeper.largeRequestMaxBytes", large_request_max_bytes, FT_I32, R_PROP_INT,
        100 * 1024 * 1024, NULL),
    FLD("zookeeper.largeRequestThreshold", large_request_threshold_bytes, FT_I32, R_PROP_INT, -1,
        NULL),
    FLD("zookeeper.maxResponseCacheSize", max_response_cache_size, FT_I32, R_PROP_INT, 400, NULL),
    FLD("zookeeper.maxGetChildrenResponseCacheSize", max_get_children_response_cache_size, FT_I32,
        R_PROP_INT, 400, NULL),
    FLD("zookeeper.enforce.auth.enabled", enforce_auth_enabled, FT_BOOL, R_PROP_BOOL, 0, NULL),
    FLD("zookeeper.enforce.auth.schemes", enforce_auth_schemes, FT_STR, R_PROP_STR, 0, NULL),
    FLD("zookeeper.sessionRequireClientSASLAuth", session_require_client_sasl_auth, FT_BOOL,
        R_PROP_BOOL, 0, NULL),
    FLD("zookeeper.admin.enableServer", admin_enable_server, FT_BOOL, R_PROP_NOT_FALSE, 1, NULL),
    FLD("zookeeper.admin.serverPort", admin_server_port, FT_I32, R_PROP_INT, 8080, NULL),
    FLD("zookeeper.admin.serverAddress", admin_server_address, FT_STR, R_PROP_STR, 0, "0.0.0.0"),
    FLD("zookeeper.admin.idleTimeout", admin_idle_timeout_ms, FT_I32, R_PROP_INT, 30000, NULL),
    FLD("zookeeper.admin.commandURL", admin_command_url, FT_STR, R_PROP_STR, 0, "/commands"),
    FLD("zookeeper.leaderServes", leader_serves, FT_BOOL, R_PROP_NOT_NO, 1, NULL),
    FLD("zookeeper.cnxTimeout", cnx_timeout_ms, FT_I32, R_PROP_INT, 5000, NULL),
};

#define NFIELDS (sizeof FIELDS / sizeof FIELDS[0])

static size_t field_index(const field_desc_t *f)
{
    return (size_t)(f - FIELDS);
}

static const field_desc_t *field_by_name(const char *name)
{
    for (size_t i = 0; i < NFIELDS; i++)
        if (streq(FIELDS[i].name, name))
            return &FIELDS[i];
    return NULL;
}

static const field_desc_t *key_field(const char *key)
{
    const field_desc_t *f = field_by_name(key);
    return f != NULL && f->rule == R_KEY ? f : NULL;
}

static const field_desc_t *field_by_ptr(const corral_config_t *cfg, const void *p)
{
    const char *base = (const char *)cfg;
    const char *q = (const char *)p;
    if (q < base || q >= base + sizeof *cfg)
        return NULL;
    size_t off = (size_t)(q - base);
    for (size_t i = 0; i < NFIELDS; i++)
        if (FIELDS[i].off == off)
            return &FIELDS[i];
    return NULL;
}

static void *field_ptr(corral_config_t *cfg, const field_desc_t *f)
{
    return (char *)cfg + f->off;
}

static int64_t field_num(const corral_config_t *cfg, const field_desc_t *f)
{
    const char *p = (const char *)cfg + f->off;
    switch (f->type) {
    case FT_I32:
        return *(const int32_t *)p;
    case FT_I64:
        return *(const int64_t *)p;
    case FT_BOOL:
        return *(const bool *)p;
    case FT_PEER:
        return *(const config_peer_type_t *)p;
    case FT_STR:
        break;
    }
    return 0;
}

static void field_set_num(corral_config_t *cfg, const field_desc_t *f, int64_t v)
{
    void *p = field_ptr(cfg, f);
    switch (f->type) {
    case FT_I32:
        *(int32_t *)p = (int32_t)v;
        break;
    case FT_I64:
        *(int64_t *)p = v;
        break;
    case FT_BOOL:
        *(bool *)p = v != 0;
        break;
    case FT_PEER:
        *(config_peer_type_t *)p = (config_peer_type_t)v;
        break;
    case FT_STR:
        break;
    }
}

static void field_set_str(corral_config_t *cfg, const field_desc_t *f, const char *s)
{
    char **p = field_ptr(cfg, f);
    free(*p);
    *p = s != NULL ? xstrdup(s) : NULL;
}

static struct config_origin *origin_of(corral_config_t *cfg, const field_desc_t *f)
{
    return &cfg->origins[field_index(f)];
}

static void origin_set(corral_config_t *cfg, const field_desc_t *f, config_source_t src,
                       const char *file, int line, const char *prop, const char *note)
{
    struct config_origin *o = origin_of(cfg, f);
    o->source = src;
    o->file = file;
    o->line = line;
    o->prop = prop;
    o->note = note;
}

/* Record that field `name` got its value from file:line. */
static void origin_file(corral_config_t *cfg, const char *name, const char *file, int line)
{
    const field_desc_t *f = field_by_name(name);
    if (f != NULL)
        origin_set(cfg, f, CONFIG_SRC_FILE, file, line, NULL, NULL);
}

static void origin_derived(corral_config_t *cfg, const char *name, const char *note)
{
    const field_desc_t *f = field_by_name(name);
    if (f != NULL)
        origin_set(cfg, f, CONFIG_SRC_DERIVED, NULL, 0, NULL, note);
}

/* ------------------------------------------------------------------------ */
/* What ZooKeeper reads (for warnings about keys nothing reads)              */

/* Properties ZooKeeper 3.8.0 reads as "zookeeper.<name>", by <name>: the
 * zoo.cfg keys that have an effect through the "zookeeper." prefix rule.
 * (Collected from the string constants of the 3.8.0 server jar.) */
static const char *const ZK_PROPERTY_KEYS[] = {
    "4lw.commands.whitelist",
    "DigestAuthenticationProvider.digestAlg",
    "DigestAuthenticationProvider.enabled",
    "DigestAuthenticationProvider.superDigest",
    "SASLAuthenticationProvider.superPassword",
    "X509AuthenticationProvider.superUser",
    "admin.commandURL",
    "admin.enableServer",
    "admin.forceHttps",
    "admin.httpVersion",
    "admin.idleTimeout",
    "admin.portUnification",
    "admin.serverAddress",
    "admin.serverPort",
    "allowSaslFailedClients",
    "audit.enable",
    "audit.impl.class",
    "bitHashCacheSize",
    "client.portUnification",
    "client.secure",
    "clientCnxnSocket",
    "clientTcpKeepAlive",
    "closeSessionTxn.enabled",
    "cnxTimeout",
    "commitLogCount",
    "commitProcessor.maxCommitBatchSize",
    "commitProcessor.maxReadBatchSize",
    "commitProcessor.numWorkerThreads",
    "commitProcessor.shutdownTimeout",
    "connection_throttle_decrease_ratio",
    "connection_throttle_drop_decrease",
    "connection_throttle_drop_increase",
    "connection_throttle_fill_count",
    "connection_throttle_fill_time",
    "connection_throttle_freeze_time",
    "connection_throttle_global_session_weight",
    "connection_throttle_local_session_weight",
    "connection_throttle_renew_session_weight",
    "connection_throttle_tokens",
    "connection_throttle_weight_enabled",
    "datadir.autocreate",
    "db.autocreate",
    "digest.enabled",
    "disableAutoWatchReset",
    "electionPortBindRetry",
    "emulate353TTLNodes",
    "enableEagerACLCheck",
    "enforce.auth.enabled",
    "enforce.auth.schemes",
    "enforceQuota",
    "ensembleAuthName",
    "extendedTypesEnabled",
    "fastleader.maxNotificationInterval",
    "fastleader.minNotificationInterval",
    "flushDelay",
    "follower.skipLearnerRequestToNextProcessor",
    "forceSnapshotSync",
    "forceSync",
    "forward_learner_requests_to_commit_processor_disabled",
    "fsync.warningthresholdms",
    "globalOutstandingLimit",
    "intBufferStartingSizeBytes",
    "jmx.log4j.disable",
    "jmx.log4j.mbean",
    "jute.maxbuffer.extrasize",
    "kerberos.canonicalizeHostNames",
    "kerberos.removeHostFromPrincipal",
    "kerberos.removeRealmFromPrincipal",
    "kinit",
    "largeRequestMaxBytes",
    "largeRequestThreshold",
    "leader.ackLoggingFrequency",
    "leader.closeSocketAsync",
    "leader.maxConcurrentDiffSyncs",
    "leader.maxConcurrentSnapSyncs",
    "leader.maxTimeToWaitForEpoch",
    "leaderConnectDelayDuringRetryMs",
    "leaderServes",
    "learner.asyncSending",
    "learner.closeSocketAsync",
    "letAnySaslUserDoX",
    "maxBatchSize",
    "maxCnxns",
    "maxGetChildrenResponseCacheSize",
    "maxInProcessingDeadWatchers",
    "maxResponseCacheSize",
    "maxWriteQueuePollTime",
    "messageTracker.BufferSize",
    "messageTracker.Enabled",
    "multiAddress.enabled",
    "multiAddress.reachabilityCheckEnabled",
    "multiAddress.reachabilityCheckTimeoutMs",
    "netty.advancedFlowControl.enabled",
    "netty.server.earlyDropSecureConnectionHandshakes",
    "netty.server.outstandingHandshake.limit",
    "nio.directBufferBytes",
    "nio.numSelectorThreads",
    "nio.numWorkerThreads",
    "nio.sessionlessCnxnTimeout",
    "nio.shutdownTimeout",
    "observer.election.DelayMs",
    "observer.reconnectDelayMs",
    "observer.syncEnabled",
    "observerMaster.sizeLimit",
    "pathStats.delay",
    "pathStats.enabled",
    "pathStats.initialDelay",
    "pathStats.maxDepth",
    "pathStats.sampleRate",
    "pathStats.slotCapacity",
    "pathStats.slotDuration",
    "pathStats.topPathMax",
    "preAllocSize",
    "quorumCnxnTimeoutMs",
    "request.timeout",
    "request_stale_connection_check",
    "request_stale_latency_check",
    "request_throttle_drop_stale",
    "request_throttle_max_requests",
    "request_throttle_stall_time",
    "request_throttler.shutdownTimeout",
    "requireKerberosConfig",
    "sasl.client",
    "sasl.client.canonicalize.hostname",
    "sasl.client.username",
    "sasl.clientconfig",
    "sasl.serverconfig",
    "security.auth_to_local",
    "server.principal",
    "server.realm",
    "serverCnxnFactory",
    "sessionRequireClientSASLAuth",
    "skipACL",
    "snapCount",
    "snapSizeLimitInKb",
    "snapshot.compression.method",
    "snapshot.trust.empty",
    "snapshotSizeFactor",
    "superUser",
    "tcpKeepAlive",
    "throttled_op_wait_time",
    "txnLogSizeLimitInKb",
    "watchManagerName",
    "watcherCleanIntervalInSeconds",
    "watcherCleanThreadsNum",
    "watcherCleanThreshold",
};

/* X509Util reads zookeeper.ssl.<s> and zookeeper.ssl.quorum.<s>. */
static const char *const ZK_SSL_SUFFIXES[] = {
    "authProvider",
    "ciphersuites",
    "clientAuth",
    "context.supplier.class",
    "crl",
    "enabledProtocols",
    "handshakeDetectionTimeoutMillis",
    "hostnameVerification",
    "keyStore.location",
    "keyStore.password",
    "keyStore.passwordPath",
    "keyStore.type",
    "ocsp",
    "protocol",
    "trustStore.location",
    "trustStore.password",
    "trustStore.passwordPath",
    "trustStore.type",
};

/* System properties ZooKeeper reads without the "zookeeper." prefix: -D only. */
static const char *const PLAIN_PROPERTIES[] = {
    "jute.maxbuffer",
    "readonlymode.enabled",
    "znode.container.checkIntervalMs",
    "znode.container.maxPerMinute",
    "znode.container.maxNeverUsedIntervalMs",
    "follower.nodelay",
    "leader.nodelay",
};

/* The four-letter words of ZooKeeper 3.8. */
static const char *const FOUR_LW_COMMANDS[] = {
    "conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "hash", "isro",
    "mntr", "ruok", "srst", "srvr", "stat", "stmk", "wchc", "wchp", "wchs",
};

/* Corral's default whitelist: read-only monitoring. */
static const char *const FOUR_LW_DEFAULT[] = {
    "ruok", "srvr", "stat", "mntr", "conf", "isro", "envi", "dirs",
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static bool in_list(const char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (streq(list[i], s))
            return true;
    return false;
}

/* Does ZooKeeper read the property "zookeeper.<key>"? */
static bool zk_reads_prefixed(const char *key)
{
    if (in_list(ZK_PROPERTY_KEYS, ARRAY_LEN(ZK_PROPERTY_KEYS), key))
        return true;
    if (starts_with(key, "authProvider.") && key[13] != '\0')
        return true;
    const char *suffix = NULL;
    if (starts_with(key, "ssl.quorum."))
        suffix = key + 11;
    else if (starts_with(key, "ssl."))
        suffix = key + 4;
    return suffix != NULL && in_list(ZK_SSL_SUFFIXES, ARRAY_LEN(ZK_SSL_SUFFIXES), suffix);
}

/* A QuorumPeerConfig key (zoo.cfg only)? */
static bool is_qpc_key(const char *key)
{
    return key_field(key) != NULL || starts_with(key, "server.") ||
           starts_with(key, "metricsProvider.");
}

/* ------------------------------------------------------------------------ */
/* Loader state, errors and warnings                                         */

typedef struct loader {
    corral_config_t *cfg;
    char *err;
    size_t errlen;
    char *cwd;
    char *dynamic_path; /* owned by cfg->dynamic_config_file */
    bool multi_address_enabled;
} loader_t;

static int fail(loader_t *ld, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(loader_t *ld, const char *fmt, ...)
{
    if (ld->err != NULL && ld->errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ld->err, ld->errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* "file:line: key: message" */
static int fail_at(loader_t *ld, const char *file, int line, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int fail_at(loader_t *ld, const char *file, int line, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = vstrfmt(fmt, ap);
    va_end(ap);
    if (file != NULL && line > 0)
        fail(ld, "%s:%d: %s: %s", file, line, key, msg);
    else if (file != NULL)
        fail(ld, "%s: %s: %s", file, key, msg);
    else
        fail(ld, "%s: %s", key, msg);
    free(msg);
    return -1;
}

static void warn(corral_config_t *cfg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(corral_config_t *cfg, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = vstrfmt(fmt, ap);
    va_end(ap);
    cfg->warnings = xrealloc(cfg->warnings, (cfg->nwarnings + 1) * sizeof *cfg->warnings);
    cfg->warnings[cfg->nwarnings++] = msg;
}

/* Where a property's value came from, for messages:
 * "/etc/zoo.cfg:5: snapCount" or "-Dzookeeper.snapCount ($JVMFLAGS)". */
static char *prop_where(const config_prop_t *p)
{
    if (p->source == CONFIG_SRC_FILE) {
        const char *key = starts_with(p->name, ZK_PREFIX) ? p->name + ZK_PREFIX_LEN : p->name;
        return strfmt("%s:%d: %s", p->file, p->line, key);
    }
    if (p->source == CONFIG_SRC_DERIVED)
        return strfmt("%s (derived)", p->name);
    return strfmt("-D%s (%s)", p->name, config_source_name(p->source));
}

/* ------------------------------------------------------------------------ */
/* Key/value lists                                                           */

static config_prop_t *plist_find(config_prop_t *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (streq(v[i].name, name))
            return &v[i];
    return NULL;
}

/* Set name=value in the list: replace in place (keeping the position) or
 * append. Returns the entry. */
static config_prop_t *plist_set(config_prop_t **v, size_t *n, const char *name, const char *value,
                                config_source_t src, const char *file, int line)
{
    config_prop_t *p = plist_find(*v, *n, name);
    if (p == NULL) {
        *v = xrealloc(*v, (*n + 1) * sizeof **v);
        p = &(*v)[(*n)++];
        p->name = xstrdup(name);
        p->value = NULL;
    }
    free(p->value);
    p->value = xstrdup(value);
    p->source = src;
    p->file = file;
    p->line = line;
    return p;
}

static void plist_free(config_prop_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].value);
    }
    free(v);
}

const char *config_prop(const corral_config_t *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nprops; i++)
        if (streq(cfg->props[i].name, name))
            return cfg->props[i].value;
    return NULL;
}

static config_prop_t *find_prop(corral_config_t *cfg, const char *name)
{
    return plist_find(cfg->props, cfg->nprops, name);
}

/* ------------------------------------------------------------------------ */
/* Java properties format (java.util.Properties.load)                        */

typedef struct kv_list {
    config_prop_t *v;
    size_t n;
} kv_list_t;

static bool is_prop_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\f';
}

static void put_utf8(buf_t *b, uint32_t cp)
{
    uint8_t s[4];
    size_t n;
    if (cp < 0x80) {
        s[0] = (uint8_t)cp;
        n = 1;
    } else if (cp < 0x800) {
        s[0] = (uint8_t)(0xc0 | (cp >> 6));
        s[1] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        s[0] = (uint8_t)(0xe0 | (cp >> 12));
        s[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        s[2] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        s[0] = (uint8_t)(0xf0 | (cp >> 18));
        s[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
        s[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        s[3] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 4;
    }
    buf_append(b, s, n);
}

static bool hex4(const char *s, size_t avail, uint32_t *out)
{
    if (avail < 4)
        return false;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned d;
        if (!hex_digit(s[i], &d))
            return false;
        v = v * 16 + d;
    }
    *out = v;
    return true;
}

/* Properties.loadConvert: resolve backslash escapes. Returns a malloc'ed
 * string or NULL with *why set. */
static char *load_convert(const char *s, size_t n, const char **why)
{
    buf_t b;
    buf_init(&b);
    size_t i = 0;
    while (i < n) {
        char c = s[i++];
        if (c != '\\') {
            buf_append(&b, &c, 1);
            continue;
        }
        if (i >= n) /* cannot happen: an odd trailing backslash continues the line */
            break;
        c = s[i++];
        if (c == 'u') {
            uint32_t cp;
            if (!hex4(s + i, n - i, &cp)) {
                *why = "malformed \\uxxxx escape";
                buf_free(&b);
                return NULL;
            }
            i += 4;
            if (cp >= 0xd800 && cp <= 0xdbff) { /* high surrogate: pair with a \uDCxx */
                uint32_t lo;
                if (i + 1 < n && s[i] == '\\' && s[i + 1] == 'u' &&
                    hex4(s + i + 2, n - i - 2, &lo) && lo >= 0xdc00 && lo <= 0xdfff) {
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    i += 6;
                } else {
                    cp = 0xfffd;
                }
            } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                cp = 0xfffd;
            }
            if (cp == 0) {
                *why = "\\u0000 (a NUL character) is not supported";
                buf_free(&b);
                return NULL;
            }
            put_utf8(&b, cp);
            continue;
        }
        if (c == 't')
            c = '\t';
        else if (c == 'r')
            c = '\r';
        else if (c == 'n')
            c = '\n';
        else if (c == 'f')
            c = '\f';
        buf_append(&b, &c, 1);
    }
    buf_append(&b, "", 1);
    return (char *)b.data;
}

/* Find the natural line starting at *pos: [*start, *end), and move *pos past
 * its terminator (\n, \r or \r\n). */
static void natural_line(const char *t, size_t len, size_t *pos, size_t *start, size_t *end)
{
    size_t p = *pos;
    *start = p;
    while (p < len && t[p] != '\n' && t[p] != '\r')
        p++;
    *end = p;
    if (p < len && t[p] == '\r' && p + 1 < len && t[p + 1] == '\n')
        p += 2;
    else if (p < len)
        p++;
    *pos = p;
}

/* Split one logical line into key and value (Properties.load0) and append
 * them, both trimmed like QuorumPeerConfig does, to *out. A repeated key
 * replaces the earlier value (a Hashtable), with a warning. */
static int add_logical_line(loader_t *ld, const char *file, int line, const char *s, size_t n,
                            kv_list_t *out)
{
    size_t key_len = 0, value_start = n;
    bool has_sep = false, backslash = false;
    while (key_len < n) {
        char c = s[key_len];
        if ((c == '=' || c == ':') && !backslash) {
            value_start = key_len + 1;
            has_sep = true;
            break;
        }
        if (is_prop_ws(c) && !backslash) {
            value_start = key_len + 1;
            break;
        }
        backslash = c == '\\' ? !backslash : false;
        key_len++;
    }
    while (value_start < n) {
        char c = s[value_start];
        if (!is_prop_ws(c)) {
            if (!has_sep && (c == '=' || c == ':'))
                has_sep = true;
            else
                break;
        }
        value_start++;
    }
    const char *why = NULL;
    char *key = load_convert(s, key_len, &why);
    if (key == NULL)
        return fail(ld, "%s:%d: %s", file, line, why);
    char *value = load_convert(s + value_start, n - value_start, &why);
    if (value == NULL) {
        int rc = fail_at(ld, file, line, java_trim(key), "%s", why);
        free(key);
        return rc;
    }
    java_trim(key);
    java_trim(value);
    config_prop_t *prev = plist_find(out->v, out->n, key);
    if (prev != NULL)
        warn(ld->cfg, "%s:%d: %s repeats line %d; the last value wins", file, line, key,
             prev->line);
    plist_set(&out->v, &out->n, key, value, CONFIG_SRC_FILE, file, line);
    free(key);
    free(value);
    return 0;
}

/* Parse Java properties text into *out. */
static int parse_properties(loader_t *ld, const char *file, const char *t, size_t len,
                            kv_list_t *out)
{
    buf_t logical;
    buf_init(&logical);
    size_t pos = 0;
    int lineno = 0;
    int rc = 0;
    while (pos < len && rc == 0) {
        size_t s, e;
        natural_line(t, len, &pos, &s, &e);
        int first_line = ++lineno;
        while (s < e && is_prop_ws(t[s]))
            s++;
        if (s == e || t[s] == '#' || t[s] == '!')
            continue; /* blank or comment (comments never continue) */
        buf_reset(&logical);
        buf_append(&logical, t + s, e - s);
        for (;;) {
            size_t nb = 0;
            while (nb < logical.len && logical.data[logical.len - 1 - nb] == '\\')
                nb++;
            if (nb % 2 == 0)
                break;
            logical.len--; /* drop the continuation backslash */
            if (pos >= len)
                break;
            natural_line(t, len, &pos, &s, &e);
            lineno++;
            while (s < e && is_prop_ws(t[s]))
                s++;
            buf_append(&logical, t + s, e - s);
        }
        if (memchr(logical.data, '\0', logical.len) != NULL) {
            rc = fail(ld, "%s:%d: contains a NUL byte", file, first_line);
            break;
        }
        rc = add_logical_line(ld, file, first_line, (const char *)logical.data, logical.len, out);
    }
    buf_free(&logical);
    return rc;
}

/* Read a whole file (at most max bytes) into a NUL-terminated buffer. */
static int read_file(loader_t *ld, const char *what, const char *path, size_t max, char **text,
                     size_t *len)
{
    char eb[128];
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return fail(ld, "cannot open %s '%s': %s", what, path, errno_text(errno, eb, sizeof eb));
    buf_t b;
    buf_init(&b);
    char chunk[8192];
    for (;;) {
        size_t got = fread(chunk, 1, sizeof chunk, f);
        if (got > 0)
            buf_append(&b, chunk, got);
        if (b.len > max) {
            fclose(f);
            buf_free(&b);
            return fail(ld, "%s '%s' is larger than %zu bytes", what, path, max);
        }
        if (got < sizeof chunk) {
            if (ferror(f)) {
                int e = errno;
                fclose(f);
                buf_free(&b);
                return fail(ld, "cannot read %s '%s': %s", what, path,
                            errno_text(e, eb, sizeof eb));
            }
            break;
        }
    }
    fclose(f);
    buf_append(&b, "", 1);
    *text = (char *)b.data;
    *len = b.len - 1;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* -D system properties                                                      */

/* One -Dname[=value] token. */
static void apply_define(loader_t *ld, const char *tok, config_source_t src)
{
    corral_config_t *cfg = ld->cfg;
    const char *body = tok + 2;
    const char *eq = strchr(body, '=');
    char *name = eq != NULL ? xstrndup(body, (size_t)(eq - body)) : xstrdup(body);
    const char *value = eq != NULL ? eq + 1 : "";
    if (name[0] == '\0') {
        warn(cfg, "%s: ignoring '%s': no property name", config_source_name(src), tok);
        free(name);
        return;
    }
    plist_set(&cfg->props, &cfg->nprops, name, value, src, NULL, 0);
    bool prefixed = starts_with(name, ZK_PREFIX);
    const char *bare = prefixed ? name + ZK_PREFIX_LEN : name;
    if (is_qpc_key(bare) && !(prefixed && zk_reads_prefixed(bare)))
        warn(cfg,
             "-D%s (%s) has no effect: %s is read only from zoo.cfg, not from system properties",
             name, config_source_name(src), bare);
    free(name);
}

/* The -D tokens of an environment variable (split on blanks, as the shell's
 * unquoted $JVMFLAGS is); other JVM options are ignored. */
static void apply_env_flags(loader_t *ld, const char *value, config_source_t src)
{
    if (value == NULL)
        return;
    const char *p = value;
    while (*p != '\0') {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            p++;
        const char *start = p;
        while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\n')
            p++;
        if (p > start) {
            char *tok = xstrndup(start, (size_t)(p - start));
            if (starts_with(tok, "-D"))
                apply_define(ld, tok, src);
            free(tok);
        }
    }
}

static const char *env_lookup(const char *const *envp, const char *name)
{
    if (envp == NULL)
        return getenv(name);
    size_t n = strlen(name);
    for (size_t i = 0; envp[i] != NULL; i++)
        if (strncmp(envp[i], name, n) == 0 && envp[i][n] == '=')
            return envp[i] + n + 1;
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* zoo.cfg keys                                                              */

/* Parse a QuorumPeerConfig key's value into its typed field. */
static int apply_key(loader_t *ld, const field_desc_t *f, const config_prop_t *e)
{
    corral_config_t *cfg = ld->cfg;
    const char *v = e->value;
    int64_t n = 0;
    switch (f->type) {
    case FT_I32:
        if (!java_parse_long(v, INT32_MIN, INT32_MAX, &n))
            return fail_at(ld, e->file, e->line, e->name, "'%s' is not a number%s", v,
                           v[0] == '\0' ? " (the value is empty)" : "");
        break;
    case FT_I64:
        if (!java_parse_long(v, INT64_MIN, INT64_MAX, &n))
            return fail_at(ld, e->file, e->line, e->name, "'%s' is not a number", v);
        break;
    case FT_BOOL:
        if (!is_true_or_false(v))
            return fail_at(ld, e->file, e->line, e->name, "'%s' is not 'true' or 'false'", v);
        n = java_bool(v);
        break;
    case FT_PEER:
        if (strcasecmp(v, "observer") == 0)
            n = CONFIG_PEER_OBSERVER;
        else if (strcasecmp(v, "participant") == 0)
            n = CONFIG_PEER_PARTICIPANT;
        else
            return fail_at(ld, e->file, e->line, e->name,
                           "unrecognised peer type '%s' (participant or observer)", v);
        break;
    case FT_STR:
        field_set_str(cfg, f, v);
        origin_set(cfg, f, CONFIG_SRC_FILE, e->file, e->line, NULL, NULL);
        return 0;
    }

    /* Per-key checks. */
    const char *k = f->name;
    if (streq(k, "tickTime") && n <= 0)
        return fail_at(ld, e->file, e->line, k, "%lld is not a positive number of milliseconds",
                       (long long)n);
    if ((streq(k, "clientPort") || streq(k, "secureClientPort")) && (n < 0 || n > 65535))
        return fail_at(ld, e->file, e->line, k, "port %lld is out of range (1-65535)",
                       (long long)n);
    if (streq(k, "observerMasterPort")) {
        if (n > 65535)
            return fail_at(ld, e->file, e->line, k, "port %lld is out of range (1-65535)",
                           (long long)n);
        if (n < 0)
            n = 0; /* <= 0: not set */
    }
    if ((streq(k, "minSessionTimeout") || streq(k, "maxSessionTimeout")) && n < -1)
        return fail_at(ld, e->file, e->line, k, "%lld is negative", (long long)n);
    if ((streq(k, "initLimit") || streq(k, "syncLimit") ||
         streq(k, "connectToLearnerMasterLimit") || streq(k, "maxClientCnxns")) &&
        n < 0)
        return fail_at(ld, e->file, e->line, k, "%lld is negative", (long long)n);
    if (streq(k, "electionAlg") && n != 3)
        return fail_at(ld, e->file, e->line, k,
                       "%lld is not supported: only 3 (fast leader election over TCP) is",
                       (long long)n);
    field_set_num(cfg, f, n);
    origin_set(cfg, f, CONFIG_SRC_FILE, e->file, e->line, NULL, NULL);
    return 0;
}

/* A zoo.cfg key that is not QuorumPeerConfig's becomes zookeeper.<key>;
 * warn when nothing would read it. */
static void warn_unread_key(loader_t *ld, const config_prop_t *e)
{
    corral_config_t *cfg = ld->cfg;
    const char *k = e->name;
    if (zk_reads_prefixed(k))
        return;
    if (in_list(PLAIN_PROPERTIES, ARRAY_LEN(PLAIN_PROPERTIES), k)) {
        warn(cfg,
             "%s:%d: %s has no effect in zoo.cfg (it becomes zookeeper.%s, which nothing "
             "reads); set it with -D%s=%s, e.g. in SERVER_JVMFLAGS",
             e->file, e->line, k, k, k, e->value);
        return;
    }
    if (starts_with(k, ZK_PREFIX) &&
        (zk_reads_prefixed(k + ZK_PREFIX_LEN) || is_qpc_key(k + ZK_PREFIX_LEN))) {
        warn(cfg,
             "%s:%d: unknown key '%s' treated as property zookeeper.%s, which nothing reads; "
             "write '%s=...' without the zookeeper. prefix",
             e->file, e->line, k, k, k + ZK_PREFIX_LEN);
        return;
    }
    const char *near = NULL;
    for (size_t i = 0; i < NFIELDS && near == NULL; i++)
        if (FIELDS[i].rule == R_KEY && strcasecmp(FIELDS[i].name, k) == 0)
            near = FIELDS[i].name;
    for (size_t i = 0; i < ARRAY_LEN(ZK_PROPERTY_KEYS) && near == NULL; i++)
        if (strcasecmp(ZK_PROPERTY_KEYS[i], k) == 0)
            near = ZK_PROPERTY_KEYS[i];
    if (near != NULL) {
        warn(cfg,
             "%s:%d: unknown key '%s' treated as property zookeeper.%s (did you mean '%s'? "
             "keys are case-sensitive)",
             e->file, e->line, k, k, near);
        return;
    }
    warn(cfg,
         "%s:%d: unknown key '%s' treated as property zookeeper.%s (nothing in ZooKeeper 3.8 "
         "reads it)",
         e->file, e->line, k, k);
}

/* zoo.cfg sets property zookeeper.<key>, overriding any -D. */
static void set_prop_from_file(loader_t *ld, const config_prop_t *e)
{
    corral_config_t *cfg = ld->cfg;
    char *name = strfmt(ZK_PREFIX "%s", e->name);
    config_prop_t *prev = find_prop(cfg, name);
    if (prev != NULL && prev->source != CONFIG_SRC_FILE && !streq(prev->value, e->value))
        warn(cfg, "%s:%d: %s=%s overrides -D%s=%s (%s): as in ZooKeeper, zoo.cfg wins", e->file,
             e->line, e->name, e->value, name, prev->value, config_source_name(prev->source));
    plist_set(&cfg->props, &cfg->nprops, name, e->value, CONFIG_SRC_FILE, e->file, e->line);
    free(name);
}

static bool is_quorum_key(const char *k)
{
    return starts_with(k, "server.") || starts_with(k, "group") || starts_with(k, "weight");
}

/* QuorumPeerConfig.parseProperties' loop over the keys. */
static int apply_file_entries(loader_t *ld)
{
    corral_config_t *cfg = ld->cfg;
    bool has_dynamic = plist_find(cfg->file_entries, cfg->nfile_entries, "dynamicConfigFile");
    for (size_t i = 0; i < cfg->nfile_entries; i++) {
        const config_prop_t *e = &cfg->file_entries[i];
        const field_desc_t *f = key_field(e->name);
        if (f != NULL) {
            if (apply_key(ld, f, e) < 0)
                return -1;
        } else if (is_quorum_key(e->name) && has_dynamic) {
            return fail_at(ld, e->file, e->line, e->name,
                           "must be in the separate dynamic config file (dynamicConfigFile is "
                           "set)");
        } else if (starts_with(e->name, "metricsProvider.")) {
            /* provider configuration: consumed by QuorumPeerConfig, kept in file_entries */
        } else {
            /* server.N, group.*, weight.*, version are parsed again by the quorum
             * code below; everything else is just a property. */
            if (!is_quorum_key(e->name) && !streq(e->name, "version"))
                warn_unread_key(ld, e);
            set_prop_from_file(ld, e);
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* server.N lines (QuorumPeer.QuorumServer)                                  */

/* ConfigUtils.getHostAndPort: "host:a:b" or "[v6]:a:b". */
static int host_and_port(loader_t *ld, const char *file, int line, const char *key, const char *s,
                         char ***parts, size_t *n)
{
    if (s[0] != '[') {
        *n = java_split(s, ':', parts);
        return 0;
    }
    const char *rb = strchr(s, ']');
    if (rb == NULL)
        return fail_at(ld, file, line, key, "'%s' starts with '[' but has no matching ']:'", s);
    size_t i = (size_t)(rb - s);
    size_t len = strlen(s);
    if (i + 2 == len)
        return fail_at(ld, file, line, key, "'%s' has no port after the colon", s);
    if (i + 2 > len) {
        *parts = xmalloc(sizeof **parts);
        (*parts)[0] = xstrndup(s + 1, i - 1);
        *n = 1;
        return 0;
    }
    char **rest;
    size_t nrest = java_split(s + i + 2, ':', &rest);
    char **v = xmalloc((nrest + 1) * sizeof *v);
    v[0] = xstrndup(s + 1, i - 1);
    for (size_t j = 0; j < nrest; j++)
        v[j + 1] = rest[j];
    free(rest);
    *parts = v;
    *n = nrest + 1;
    return 0;
}

static int parse_port(loader_t *ld, const char *file, int line, const char *key, const char *host,
                      const char *s, int *out)
{
    int64_t v;
    if (!java_parse_long(s, INT32_MIN, INT32_MAX, &v))
        return fail_at(ld, file, line, key, "address unresolved: '%s:%s' (bad port)", host, s);
    if (v < 0 || v > 65535)
        return fail_at(ld, file, line, key, "port %lld is out of range", (long long)v);
    *out = (int)v;
    return 0;
}

static void server_free(config_server_t *s)
{
    for (size_t i = 0; i < s->naddrs; i++)
        free(s->addrs[i].host);
    free(s->addrs);
    free(s->client_host);
}

/* Parse one server.N value into *srv (zeroed by the caller). */
static int parse_server(loader_t *ld, const config_prop_t *e, int64_t id, config_server_t *srv)
{
    const char *file = e->file, *key = e->name;
    int line = e->line;
    srv->id = id;
    srv->type = CONFIG_PEER_PARTICIPANT;
    srv->file = file;
    srv->line = line;
    char **sc = NULL, **addrs = NULL, **cp = NULL;
    size_t nsc = java_split(e->value, ';', &sc), naddrs = 0, ncp = 0;
    int rc = -1;
    bool have_type = false;
    if (nsc == 0 || nsc > 2) {
        fail_at(ld, file, line, key, "'%s' does not have the form %s", e->value, SERVER_FORMAT);
        goto out;
    }
    if (nsc == 2) {
        if (host_and_port(ld, file, line, key, sc[1], &cp, &ncp) < 0)
            goto out;
        if (ncp > 2 || ncp == 0) {
            fail_at(ld, file, line, key, "'%s' does not have the form %s", e->value, SERVER_FORMAT);
            goto out;
        }
        srv->client_host = xstrdup(ncp == 2 ? cp[0] : "0.0.0.0");
        if (parse_port(ld, file, line, key, srv->client_host, cp[ncp - 1], &srv->client_port) < 0)
            goto out;
    }
    naddrs = java_split(sc[0], '|', &addrs);
    if (naddrs > 1 && !ld->multi_address_enabled) {
        fail_at(ld, file, line, key,
                "several addresses given but the multiple address feature is disabled (set "
                "multiAddress.enabled=true)");
        goto out;
    }
    if (naddrs == 0) {
        fail_at(ld, file, line, key, "'%s' does not have the form %s", e->value, SERVER_FORMAT);
        goto out;
    }
    srv->addrs = xcalloc(naddrs, sizeof *srv->addrs);
    for (size_t i = 0; i < naddrs; i++) {
        char **sp = NULL;
        size_t nsp = 0;
        if (host_and_port(ld, file, line, key, addrs[i], &sp, &nsp) < 0)
            goto out;
        if (nsp < 3 || nsp > 4) {
            free_parts(sp, nsp);
            fail_at(ld, file, line, key, "'%s' does not have the form %s", e->value, SERVER_FORMAT);
            goto out;
        }
        config_server_addr_t *a = &srv->addrs[srv->naddrs++];
        a->host = xstrdup(sp[0]);
        if (parse_port(ld, file, line, key, sp[0], sp[1], &a->quorum_port) < 0 ||
            parse_port(ld, file, line, key, sp[0], sp[2], &a->election_port) < 0) {
            free_parts(sp, nsp);
            goto out;
        }
        if (a->quorum_port == a->election_port) {
            free_parts(sp, nsp);
            fail_at(ld, file, line, key, "the quorum port and the election port must differ (%d)",
                    a->quorum_port);
            goto out;
        }
        if (nsp == 4) {
            char *t = java_trim(sp[3]);
            config_peer_type_t type;
            if (strcasecmp(t, "observer") == 0)
                type = CONFIG_PEER_OBSERVER;
            else if (strcasecmp(t, "participant") == 0)
                type = CONFIG_PEER_PARTICIPANT;
            else {
                fail_at(ld, file, line, key,
                        "unrecognised peer type '%s' (participant or observer)", t);
                free_parts(sp, nsp);
                goto out;
            }
            if (have_type && type != srv->type) {
                free_parts(sp, nsp);
                fail_at(ld, file, line, key, "multiple addresses must have the same role");
                goto out;
            }
            srv->type = type;
            have_type = true;
        }
        free_parts(sp, nsp);
    }
    rc = 0;
out:
    free_parts(sc, nsc);
    if (addrs != NULL)
        free_parts(addrs, naddrs);
    if (cp != NULL)
        free_parts(cp, ncp);
    return rc;
}

/* QuorumMaj over the server.N / version entries of `list`
 * (QuorumPeerConfig.parseDynamicConfig), then the participant checks. */
static int parse_quorum(loader_t *ld, const config_prop_t *list, size_t n)
{
    corral_config_t *cfg = ld->cfg;
    for (size_t i = 0; i < n; i++) {
        const config_prop_t *e = &list[i];
        if (starts_with(e->name, "group") || starts_with(e->name, "weight")) {
            cfg->hierarchical_quorum = true;
        } else if (streq(e->name, "version")) {
            int64_t v;
            if (!java_parse_long_hex(e->value, &v))
                return fail_at(ld, e->file, e->line, e->name, "'%s' is not a hex number", e->value);
            cfg->dynamic_config_version = v;
            origin_file(cfg, "version", e->file, e->line);
        } else if (starts_with(e->name, "server.")) {
            int64_t id;
            if (!java_parse_long(e->name + 7, INT64_MIN, INT64_MAX, &id))
                return fail_at(ld, e->file, e->line, e->name,
                               "'%s' is not a number: server ids are server.<number>", e->name + 7);
            for (size_t j = 0; j < cfg->nservers; j++)
                if (cfg->servers[j].id == id)
                    return fail_at(ld, e->file, e->line, e->name,
                                   "server id %lld is already used on line %d", (long long)id,
                                   cfg->servers[j].line);
            config_server_t srv;
            memset(&srv, 0, sizeof srv);
            if (parse_server(ld, e, id, &srv) < 0) {
                server_free(&srv);
                return -1;
            }
            cfg->servers = xrealloc(cfg->servers, (cfg->nservers + 1) * sizeof *cfg->servers);
            cfg->servers[cfg->nservers++] = srv;
        }
    }
    if (cfg->hierarchical_quorum)
        warn(cfg, "%s: group./weight. lines (hierarchical quorums) are kept but not checked yet",
             cfg->config_path);

    size_t participants = 0, observers = 0;
    for (size_t i = 0; i < cfg->nservers; i++) {
        if (cfg->servers[i].type == CONFIG_PEER_OBSERVER)
            observers++;
        else
            participants++;
    }
    const char *where = ld->dynamic_path != NULL ? ld->dynamic_path : cfg->config_path;
    if (participants == 0) {
        if (!cfg->standalone_enabled)
            return fail(ld, "%s: standaloneEnabled=false needs at least one participant server.N",
                        where);
        if (observers > 0)
            return fail(ld, "%s: observers without participants is an invalid configuration",
                        where);
    } else if (participants == 1 && cfg->standalone_enabled) {
        if (observers > 0)
            return fail(ld, "%s: observers without a quorum is an invalid configuration", where);
        warn(cfg, "%s: only one server specified; running standalone and ignoring server.%lld",
             where, (long long)cfg->servers[0].id);
    } else if (participants <= 2) {
        warn(cfg, "%s: no server failure will be tolerated; you need at least 3 servers", where);
    } else if (participants % 2 == 0) {
        warn(cfg, "%s: non-optimal configuration, consider an odd number of servers", where);
    }
    cfg->distributed = !cfg->standalone_enabled || participants > 1;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* myid, client port and peer type (QuorumPeerConfig.setup*)                 */

static int read_myid(loader_t *ld)
{
    corral_config_t *cfg = ld->cfg;
    char *path = strfmt("%s/myid", cfg->data_dir);
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        free(path);
        return 0; /* standalone servers need no myid */
    }
    char *text = NULL;
    size_t len = 0;
    if (read_file(ld, "myid file", path, CONFIG_MAX_MYID_BYTES, &text, &len) < 0) {
        free(path);
        return -1;
    }
    size_t eol = strcspn(text, "\r\n");
    text[eol] = '\0';
    int64_t id;
    int rc = 0;
    if (len == 0 || !java_parse_long(text, INT64_MIN, INT64_MAX, &id)) {
        rc = fail(ld, "%s: server id '%s' is not a number", path, len == 0 ? "" : text);
    } else {
        cfg->my_id = id;
        origin_set(cfg, field_by_name("myid"), CONFIG_SRC_MYID, NULL, 0, NULL, NULL);
    }
    free(text);
    free(path);
    return rc;
}

static bool is_wildcard(const char *addr)
{
    return streq(addr, "0.0.0.0") || streq(addr, "::") || streq(addr, "0:0:0:0:0:0:0:0");
}

static config_server_t *server_by_id(corral_config_t *cfg, int64_t id)
{
    for (size_t i = 0; i < cfg->nservers; i++)
        if (cfg->servers[i].id == id)
            return &cfg->servers[i];
    return NULL;
}

static int setup_client_port(loader_t *ld)
{
    corral_config_t *cfg = ld->cfg;
    if (cfg->my_id == -1) /* UNSET_SERVERID, as in ZooKeeper */
        return 0;
    config_server_t *qs = server_by_id(cfg, cfg->my_id);
    if (qs == NULL)
        return 0;
    if (cfg->client_port != 0 && qs->client_host != NULL) {
        bool wild = is_wildcard(cfg->client_port_address);
        if ((!wild && (!streq(cfg->client_port_address, qs->client_host) ||
                       cfg->client_port != qs->client_port)) ||
            (wild && cfg->client_port != qs->client_port))
            return fail_at(ld, qs->file, qs->line, "clientPort",
                           "the client address of this server (id %lld) is %s:%d in zoo.cfg "
                           "but %s:%d in server.%lld",
                           (long long)cfg->my_id, cfg->client_port_address, cfg->client_port,
                           qs->client_host, qs->client_port, (long long)qs->id);
    }
    if (qs->client_host != NULL) {
        free(cfg->client_port_address);
        cfg->client_port_address = xstrdup(qs->client_host);
        cfg->client_port = qs->client_port;
        origin_file(cfg, "clientPort", qs->file, qs->line);
        origin_file(cfg, "clientPortAddress", qs->file, qs->line);
    } else if (cfg->client_port != 0) {
        qs->client_host = xstrdup(cfg->client_port_address);
        qs->client_port = cfg->client_port;
    }
    return 0;
}

static void setup_peer_type(loader_t *ld)
{
    corral_config_t *cfg = ld->cfg;
    config_server_t *qs = server_by_id(cfg, cfg->my_id);
    config_peer_type_t role = qs != NULL && qs->type == CONFIG_PEER_OBSERVER
                                  ? CONFIG_PEER_OBSERVER
                                  : CONFIG_PEER_PARTICIPANT;
    if (role != cfg->peer_type) {
        warn(cfg, "%s: peerType (%s) does not match the server list (%s); using the server list",
             cfg->config_path, cfg->peer_type == CONFIG_PEER_OBSERVER ? "observer" : "participant",
             role == CONFIG_PEER_OBSERVER ? "observer" : "participant");
        cfg->peer_type = role;
        origin_derived(cfg, "peerType", "the server.N line of this server");
    }
}

static int check_validity(loader_t *ld)
{
    corral_config_t *cfg = ld->cfg;
    if (!cfg->distributed)
        return 0;
    if (cfg->init_limit_ticks == 0)
        return fail(ld, "%s: initLimit is not set (required with more than one server)",
                    cfg->config_path);
    if (cfg->sync_limit_ticks == 0)
        return fail(ld, "%s: syncLimit is not set (required with more than one server)",
                    cfg->config_path);
    if (cfg->my_id == -1)
        return fail(ld,
                    "%s: the myid file is missing: %s/myid (required with more than one server)",
                    cfg->config_path, cfg->data_dir);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* The dynamic config file                                                   */

/* QuorumPeerConfig.getVersionFromFilename: the hex number after the last '.'. */
static bool version_from_filename(const char *path, int64_t *out)
{
    const char *dot = strrchr(path, '.');
    return dot != NULL && java_parse_long_hex(dot + 1, out);
}

static int load_dynamic_file(loader_t *ld)
{
    corral_config_t *cfg = ld->cfg;
    const char *path = cfg->dynamic_config_file;
    ld->dynamic_path = cfg->dynamic_config_file;
    char *text = NULL;
    size_t len = 0;
    if (read_file(ld, "dynamic config file", path, CONFIG_MAX_FILE_BYTES, &text, &len) < 0)
        return -1;
    kv_list_t kv = {NULL, 0};
    int rc = parse_properties(ld, path, text, len, &kv);
    free(text);
    for (size_t i = 0; rc == 0 && i < kv.n; i++) {
        const config_prop_t *e = &kv.v[i];
        if (streq(e->name, "version"))
            rc = fail_at(ld, e->file, e->line, e->name,
                         "a dynamic config file must not contain a version (it is in the file "
                         "name)");
        else if (!is_quorum_key(e->name))
            rc = fail_at(ld, e->file, e->line, e->name,
                         "unrecognised parameter in a dynamic config file (only server.N, "
                         "group.N and weight.N)");
    }
    if (rc == 0) {
        int64_t v;
        if (version_from_filename(path, &v)) {
            cfg->dynamic_config_version = v;
            origin_derived(cfg, "version", "the dynamic config file name");
        }
        rc = parse_quorum(ld, kv.v, kv.n);
    }
    plist_free(kv.v, kv.n);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Checks after the key loop (QuorumPeerConfig.parseProperties' tail)        */

/* QuorumPeerConfig.configureSSLAuth. */
static int configure_ssl_auth(loader_t *ld)
{
    corral_config_t *cfg = ld->cfg;
    const char *scheme = config_prop(cfg, "zookeeper.ssl.authProvider");
    if (scheme == NULL)
        scheme = "x509";
    char *name = strfmt("zookeeper.authProvider.%s", scheme);
    int rc = 0;
    if (config_prop(cfg, name) == NULL) {
        if (streq(scheme, "x509"))
            plist_set(&cfg->props, &cfg->nprops, name,
                      "org.apache.zookeeper.server.auth.X509AuthenticationProvider",
                      CONFIG_SRC_DERIVED, NULL, 0);
        else
            rc = fail(ld,
                      "%s: no auth provider configured for the SSL authentication scheme '%s' "
                      "(set %s)",
                      cfg->config_path, scheme, name);
    }
    free(name);
    return rc;
}

static int check_client_address(loader_t *ld, const char *port_key, const char *addr_key,
                                int32_t port, char **addr)
{
    corral_config_t *cfg = ld->cfg;
    if (port == 0) {
        if (*addr != NULL) {
            const struct config_origin *o = origin_of(cfg, field_by_name(addr_key));
            return fail_at(ld, o->file, o->line, addr_key, "is set but %s is not set", port_key);
        }
        return 0;
    }
    if (*addr == NULL) {
        *addr = xstrdup("0.0.0.0");
        origin_derived(cfg, addr_key, "all interfaces");
    } else if ((*addr)[0] == '\0') {
        const struct config_origin *o = origin_of(cfg, field_by_name(addr_key));
        return fail_at(ld, o->file, o->line, addr_key, "is empty");
    }
    return 0;
}

static int check_file_config(loader_t *ld)
{
    corral_config_t *cfg = ld->cfg;
    const char *path = cfg->config_path;
    if (!cfg->quorum_sasl_enabled && cfg->quorum_sasl_server_required)
        return fail(ld,
                    "%s: quorum.auth.enableSasl is disabled, so quorum.auth.serverRequireSasl "
                    "cannot be enabled",
                    path);
    if (!cfg->quorum_sasl_enabled && cfg->quorum_sasl_learner_required)
        return fail(ld,
                    "%s: quorum.auth.enableSasl is disabled, so quorum.auth.learnerRequireSasl "
                    "cannot be enabled",
                    path);
    if (!cfg->quorum_sasl_learner_required && cfg->quorum_sasl_server_required)
        return fail(ld,
                    "%s: quorum.auth.learnerRequireSasl is disabled, so "
                    "quorum.auth.serverRequireSasl cannot be enabled",
                    path);
    if (cfg->autopurge_snap_retain_count < 3) {
        const struct config_origin *o = origin_of(cfg, field_by_name("autopurge.snapRetainCount"));
        warn(cfg, "%s:%d: autopurge.snapRetainCount %d is below the minimum; using 3", o->file,
             o->line, cfg->autopurge_snap_retain_count);
        cfg->autopurge_snap_retain_count = 3;
    }
    if (cfg->data_dir == NULL)
        return fail(ld, "%s: dataDir is not set", path);
    if (cfg->data_dir[0] == '\0') {
        const struct config_origin *o = origin_of(cfg, field_by_name("dataDir"));
        return fail_at(ld, o->file, o->line, "dataDir", "is empty");
    }
    if (cfg->data_log_dir != NULL && cfg->data_log_dir[0] == '\0') {
        const struct config_origin *o = origin_of(cfg, field_by_name("dataLogDir"));
        return fail_at(ld, o->file, o->line, "dataLogDir", "is empty");
    }
    if (check_client_address(ld, "clientPort", "clientPortAddress", cfg->client_port,
                             &cfg->client_port_address) < 0 ||
        check_client_address(ld, "secureClientPort", "secureClientPortAddress",
                             cfg->secure_client_port, &cfg->secure_client_port_address) < 0)
        return -1;
    if (cfg->secure_client_port != 0 && configure_ssl_auth(ld) < 0)
        return -1;
    if (!streq(cfg->metrics_provider_class_name, DEFAULT_METRICS_PROVIDER) &&
        !streq(cfg->metrics_provider_class_name, PROMETHEUS_METRICS_PROVIDER)) {
        const struct config_origin *o = origin_of(cfg, field_by_name("metricsProvider.className"));
        warn(cfg,
             "%s:%d: metricsProvider.className %s is not available; Corral serves ZooKeeper's "
             "Prometheus provider's /metrics, mntr and the admin /commands/monitor",
             o->file, o->line, cfg->metrics_provider_class_name);
    }
    return 0;
}

/* Defaults of min/maxSessionTimeout (ZooKeeperServer) and their order. */
static int finish_session_timeouts(loader_t *ld)
{
    corral_config_t *cfg = ld->cfg;
    const field_desc_t *fmin = field_by_name("minSessionTimeout");
    const field_desc_t *fmax = field_by_name("maxSessionTimeout");
    if (cfg->min_session_timeout_ms == -1) {
        cfg->min_session_timeout_ms =
            (int32_t)((int64_t)cfg->tick_time_ms * 2 > INT32_MAX ? INT32_MAX
                                                                 : cfg->tick_time_ms * 2);
        origin_set(cfg, fmin, CONFIG_SRC_DEFAULT, NULL, 0, NULL, "2 x tickTime");
    }
    if (cfg->max_session_timeout_ms == -1) {
        cfg->max_session_timeout_ms =
            (int32_t)((int64_t)cfg->tick_time_ms * 20 > INT32_MAX ? INT32_MAX
                                                                  : cfg->tick_time_ms * 20);
        origin_set(cfg, fmax, CONFIG_SRC_DEFAULT, NULL, 0, NULL, "20 x tickTime");
    }
    if (cfg->min_session_timeout_ms <= cfg->max_session_timeout_ms)
        return 0;
    char omin[256], omax[256];
    config_field_origin(cfg, &cfg->min_session_timeout_ms, omin, sizeof omin);
    config_field_origin(cfg, &cfg->max_session_timeout_ms, omax, sizeof omax);
    const struct config_origin *o = origin_of(cfg, fmin);
    if (o->source == CONFIG_SRC_FILE)
        return fail_at(ld, o->file, o->line, "minSessionTimeout",
                       "%d must not be larger than maxSessionTimeout %d (%s)",
                       cfg->min_session_timeout_ms, cfg->max_session_timeout_ms, omax);
    o = origin_of(cfg, fmax);
    return fail_at(ld, o->file, o->line, "maxSessionTimeout",
                   "%d must not be smaller than minSessionTimeout %d (%s)",
                   cfg->max_session_timeout_ms, cfg->min_session_timeout_ms, omin);
}

/* QuorumPeerConfig.parse over a zoo.cfg. */
static int load_zoo_cfg(loader_t *ld, const char *path)
{
    corral_config_t *cfg = ld->cfg;
    cfg->config_path = xstrdup(path);
    char *text = NULL;
    size_t len = 0;
    if (read_file(ld, "config file", cfg->config_path, CONFIG_MAX_FILE_BYTES, &text, &len) < 0)
        return -1;
    kv_list_t kv = {NULL, 0};
    int rc = parse_properties(ld, cfg->config_path, text, len, &kv);
    free(text);
    cfg->file_entries = kv.v;
    cfg->nfile_entries = kv.n;
    if (rc < 0 || apply_file_entries(ld) < 0 || check_file_config(ld) < 0)
        return -1;
    ld->multi_address_enabled =
        cfg->multi_address_enabled || java_bool(config_prop(cfg, "zookeeper.multiAddress.enabled"));
    if (cfg->dynamic_config_file == NULL)
        rc = parse_quorum(ld, cfg->file_entries, cfg->nfile_entries);
    else
        rc = load_dynamic_file(ld);
    if (rc < 0 || read_myid(ld) < 0 || setup_client_port(ld) < 0)
        return -1;
    setup_peer_type(ld);
    if (check_validity(ld) < 0)
        return -1;
    if (cfg->connect_to_learner_master_limit_ticks <= 0) {
        cfg->connect_to_learner_master_limit_ticks = cfg->init_limit_ticks;
        origin_derived(cfg, "connectToLearnerMasterLimit", "= initLimit");
    }
    if (!cfg->distributed && cfg->client_port == 0 && cfg->secure_client_port == 0)
        return fail(ld,
                    "%s: clientPort is not set, so clients could not connect (ZooKeeper would "
                    "start without a client port)",
                    path);
    return 0;
}

/* ZooKeeperServerMain's "port dataDir [tickTime [maxClientCnxns]]". */
static int load_legacy_args(loader_t *ld, const char *const *pos, size_t npos)
{
    corral_config_t *cfg = ld->cfg;
    static const char *const names[] = {"clientPort", "dataDir", "tickTime", "maxClientCnxns"};
    cfg->legacy_args = true;
    cfg->max_client_cnxns = 0; /* ServerConfig's default */
    for (size_t i = 0; i < npos; i++) {
        const field_desc_t *f = field_by_name(names[i]);
        origin_set(cfg, f, CONFIG_SRC_ARGV, NULL, 0, NULL, NULL);
        if (i == 1) {
            if (pos[i][0] == '\0')
                return fail(ld, "command line: dataDir is empty");
            field_set_str(cfg, f, pos[i]);
            continue;
        }
        int64_t v;
        if (!java_parse_long(pos[i], INT32_MIN, INT32_MAX, &v))
            return fail(ld, "command line: %s: '%s' is not a number", names[i], pos[i]);
        if (i == 0 && (v < 1 || v > 65535))
            return fail(ld, "command line: clientPort: %lld is out of range (1-65535)",
                        (long long)v);
        if (i == 2 && v <= 0)
            return fail(ld, "command line: tickTime: %lld is not a positive number", (long long)v);
        if (i == 3 && v < 0)
            return fail(ld, "command line: maxClientCnxns: %lld is negative", (long long)v);
        field_set_num(cfg, f, v);
    }
    if (npos < 4)
        origin_set(cfg, field_by_name("maxClientCnxns"), CONFIG_SRC_DEFAULT, NULL, 0, NULL,
                   "unlimited, as ZooKeeperServerMain's port/dataDir form");
    cfg->client_port_address = xstrdup("0.0.0.0");
    origin_derived(cfg, "clientPortAddress", "all interfaces");
    return 0;
}

/* corrald with no arguments: standalone on 127.0.0.1:2181 with ./data. */
static void load_no_config(loader_t *ld)
{
    corral_config_t *cfg = ld->cfg;
    const char *note = "corrald without zoo.cfg";
    cfg->tick_time_ms = 2000;
    cfg->client_port = 2181;
    cfg->client_port_address = xstrdup("127.0.0.1");
    cfg->data_dir = xstrdup("./data");
    origin_set(cfg, field_by_name("tickTime"), CONFIG_SRC_DEFAULT, NULL, 0, NULL, note);
    origin_set(cfg, field_by_name("clientPort"), CONFIG_SRC_DEFAULT, NULL, 0, NULL, note);
    origin_set(cfg, field_by_name("clientPortAddress"), CONFIG_SRC_DEFAULT, NULL, 0, NULL, note);
    origin_set(cfg, field_by_name("dataDir"), CONFIG_SRC_DEFAULT, NULL, 0, NULL, note);
}

/* ------------------------------------------------------------------------ */
/* System-property-backed fields                                             */

static void set_defaults(corral_config_t *cfg)
{
    for (size_t i = 0; i < NFIELDS; i++) {
        const field_desc_t *f = &FIELDS[i];
        if (f->type == FT_STR)
            field_set_str(cfg, f, f->def_str);
        else
            field_set_num(cfg, f, f->def);
        origin_set(cfg, f, CONFIG_SRC_DEFAULT, NULL, 0, NULL, NULL);
    }
}

/* QuorumPeerConfig's multiAddress fields start from system properties. */
static void init_keys_from_props(loader_t *ld)
{
    corral_config_t *cfg = ld->cfg;
    config_prop_t *p = find_prop(cfg, "zookeeper.multiAddress.enabled");
    if (p != NULL) {
        cfg->multi_address_enabled = java_bool(p->value);
        origin_set(cfg, field_by_name("multiAddress.enabled"), p->source, p->file, p->line, p->name,
                   NULL);
    }
    p = find_prop(cfg, "zookeeper.multiAddress.reachabilityCheckEnabled");
    if (p != NULL) {
        cfg->multi_address_reachability_check_enabled = java_bool(p->value);
        origin_set(cfg, field_by_name("multiAddress.reachabilityCheckEnabled"), p->source, p->file,
                   p->line, p->name, NULL);
    }
    p = find_prop(cfg, "zookeeper.multiAddress.reachabilityCheckTimeoutMs");
    if (p != NULL) {
        int64_t v;
        if (java_parse_long(p->value, INT32_MIN, INT32_MAX, &v)) {
            cfg->multi_address_reachability_check_timeout_ms = (int32_t)v;
            origin_set(cfg, field_by_name("multiAddress.reachabilityCheckTimeoutMs"), p->source,
                       p->file, p->line, p->name, NULL);
        } else {
            char *w = prop_where(p);
            warn(cfg, "%s: '%s' is not a number; using 1000", w, p->value);
            free(w);
        }
    }
}

/* Interpret one property like the Java code that reads it. */
static void resolve_prop(loader_t *ld, const field_desc_t *f, const config_prop_t *p)
{
    corral_config_t *cfg = ld->cfg;
    const char *v = p->value;
    int64_t n;
    origin_set(cfg, f, p->source, p->file, p->line, p->name, NULL);
    char *w = prop_where(p);
    switch (f->rule) {
    case R_PROP_INT:
    case R_PROP_LONG: {
        int64_t min = f->rule == R_PROP_INT ? INT32_MIN : INT64_MIN;
        int64_t max = f->rule == R_PROP_INT ? INT32_MAX : INT64_MAX;
        if (java_decode(v, min, max, &n)) {
            int64_t dec;
            field_set_num(cfg, f, n);
            if (java_parse_long(v, min, max, &dec) && dec != n)
                warn(cfg, "%s: '%s' is read as octal, i.e. %lld (as Java's Integer.decode does)", w,
                     v, (long long)n);
        } else {
            warn(cfg, "%s: '%s' is not a number; ignored, using %lld (as ZooKeeper does)", w, v,
                 (long long)field_num(cfg, f));
            origin_set(cfg, f, CONFIG_SRC_DEFAULT, NULL, 0, NULL, "the given value is invalid");
        }
        break;
    }
    case R_PROP_LONG_PARSE:
        if (java_parse_long(v, INT64_MIN, INT64_MAX, &n)) {
            field_set_num(cfg, f, n);
        } else {
            warn(cfg, "%s: '%s' is not a number; ignored, using %lld (as ZooKeeper does)", w, v,
                 (long long)field_num(cfg, f));
            origin_set(cfg, f, CONFIG_SRC_DEFAULT, NULL, 0, NULL, "the given value is invalid");
        }
        break;
    case R_PROP_BOOL:
        if (!is_true_or_false(v))
            warn(cfg, "%s: '%s' is neither true nor false; treated as false", w, v);
        field_set_num(cfg, f, java_bool(v));
        break;
    case R_PROP_YES:
        if (!streq(v, "yes") && !streq(v, "no"))
            warn(cfg, "%s: '%s' is treated as no (only exactly 'yes' enables it)", w, v);
        field_set_num(cfg, f, streq(v, "yes"));
        break;
    case R_PROP_NOT_NO:
        if (!streq(v, "yes") && !streq(v, "no"))
            warn(cfg, "%s: '%s' is treated as yes (only exactly 'no' disables it)", w, v);
        field_set_num(cfg, f, !streq(v, "no"));
        break;
    case R_PROP_NOT_FALSE:
        if (!streq(v, "true") && !streq(v, "false"))
            warn(cfg, "%s: '%s' is treated as true (only exactly 'false' disables it)", w, v);
        field_set_num(cfg, f, !streq(v, "false"));
        break;
    case R_PROP_STR:
        field_set_str(cfg, f, v);
        break;
    case R_KEY:
    case R_NONE:
        break;
    }
    free(w);
}

static int resolve_props(loader_t *ld, bool no_config)
{
    corral_config_t *cfg = ld->cfg;
    for (size_t i = 0; i < NFIELDS; i++) {
        const field_desc_t *f = &FIELDS[i];
        if (f->rule == R_KEY || f->rule == R_NONE)
            continue;
        /* Defaults that depend on other fields (resolved earlier in the table). */
        if (streq(f->name, "zookeeper.jute.maxbuffer.extrasize")) {
            field_set_num(cfg, f, cfg->jute_maxbuffer_bytes);
            origin_set(cfg, f, CONFIG_SRC_DEFAULT, NULL, 0, NULL, "= jute.maxbuffer");
        } else if (streq(f->name, "zookeeper.maxWriteQueuePollTime")) {
            field_set_num(cfg, f, cfg->flush_delay_ms / 3);
            origin_set(cfg, f, CONFIG_SRC_DEFAULT, NULL, 0, NULL, "zookeeper.flushDelay / 3");
        } else if (no_config && streq(f->name, "zookeeper.admin.serverAddress")) {
            field_set_str(cfg, f, "127.0.0.1");
            origin_set(cfg, f, CONFIG_SRC_DEFAULT, NULL, 0, NULL, "corrald without zoo.cfg");
        }
        const config_prop_t *p = find_prop(cfg, f->name);
        if (p != NULL)
            resolve_prop(ld, f, p);
    }

    /* zookeeper.fsync.warningthresholdms falls back to fsync.warningthresholdms. */
    const field_desc_t *ff = field_by_name("zookeeper.fsync.warningthresholdms");
    const config_prop_t *zp = find_prop(cfg, "zookeeper.fsync.warningthresholdms");
    int64_t n;
    if (zp == NULL || !java_decode(zp->value, INT64_MIN, INT64_MAX, &n)) {
        const config_prop_t *pp = find_prop(cfg, "fsync.warningthresholdms");
        cfg->fsync_warning_threshold_ms = 1000;
        origin_set(cfg, ff, CONFIG_SRC_DEFAULT, NULL, 0, NULL, NULL);
        if (pp != NULL && java_decode(pp->value, INT64_MIN, INT64_MAX, &n)) {
            cfg->fsync_warning_threshold_ms = n;
            origin_set(cfg, ff, pp->source, pp->file, pp->line, pp->name, NULL);
        }
    }
    if (cfg->jute_maxbuffer_extrasize_bytes < 1024)
        cfg->jute_maxbuffer_extrasize_bytes = 1024;
    if (cfg->snap_count < 2) {
        warn(cfg, "zookeeper.snapCount %d is too small; using 2", cfg->snap_count);
        cfg->snap_count = 2;
    }
    if (cfg->snapshot_slice_nodes < 1 || cfg->snapshot_slice_nodes > 1 << 20) {
        warn(cfg, "corral.snapshot.sliceNodes %d is outside 1..1048576; using 2048",
             cfg->snapshot_slice_nodes);
        cfg->snapshot_slice_nodes = 2048;
    }
    if (cfg->jute_maxbuffer_bytes < 1024)
        warn(cfg, "jute.maxbuffer is %d bytes: most requests will be refused",
             cfg->jute_maxbuffer_bytes);
    const config_prop_t *se = find_prop(cfg, "zookeeper.observer.syncEnabled");
    if (se != NULL) { /* QuorumPeer: the property wins over syncEnabled */
        cfg->sync_enabled = java_bool(se->value);
        origin_set(cfg, field_by_name("syncEnabled"), se->source, se->file, se->line, se->name,
                   NULL);
    }
    if (cfg->admin_enable_server &&
        (cfg->admin_server_port < 0 || cfg->admin_server_port > 65535)) {
        const config_prop_t *p = find_prop(cfg, "zookeeper.admin.serverPort");
        char *w = p != NULL ? prop_where(p) : xstrdup("zookeeper.admin.serverPort");
        int rc = fail(ld, "%s: port %d is out of range (or set admin.enableServer=false)", w,
                      cfg->admin_server_port);
        free(w);
        return rc;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Four-letter words                                                         */

static void add_4lw(corral_config_t *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->four_lw_count; i++)
        if (streq(cfg->four_lw_names[i], name))
            return;
    cfg->four_lw_names =
        xrealloc(cfg->four_lw_names, (cfg->four_lw_count + 1) * sizeof *cfg->four_lw_names);
    cfg->four_lw_names[cfg->four_lw_count++] = xstrdup(name);
}

/* FourLetterCommands' whitelist, with Corral's default when unset. */
static void setup_4lw(loader_t *ld)
{
    corral_config_t *cfg = ld->cfg;
    const config_prop_t *p = find_prop(cfg, "zookeeper.4lw.commands.whitelist");
    if (p == NULL) {
        for (size_t i = 0; i < ARRAY_LEN(FOUR_LW_DEFAULT); i++)
            add_4lw(cfg, FOUR_LW_DEFAULT[i]);
        return;
    }
    char **parts;
    size_t n = java_split(p->value, ',', &parts);
    for (size_t i = 0; i < n; i++) {
        char *cmd = java_trim(parts[i]);
        if (streq(cmd, "*")) {
            cfg->four_lw_all = true;
        } else if (cmd[0] != '\0') {
            if (!in_list(FOUR_LW_COMMANDS, ARRAY_LEN(FOUR_LW_COMMANDS), cmd)) {
                char *w = prop_where(p);
                warn(cfg, "%s: '%s' is not a four-letter word command", w, cmd);
                free(w);
            }
            add_4lw(cfg, cmd);
        }
    }
    free_parts(parts, n);
    const char *ro = config_prop(cfg, "readonlymode.enabled");
    if (ro != NULL && streq(ro, "true"))
        add_4lw(cfg, "isro");
    add_4lw(cfg, "srvr");
}

bool config_4lw_allowed(const corral_config_t *cfg, const char *cmd)
{
    if (cfg->four_lw_all && in_list(FOUR_LW_COMMANDS, ARRAY_LEN(FOUR_LW_COMMANDS), cmd))
        return true;
    for (size_t i = 0; i < cfg->four_lw_count; i++)
        if (streq(cfg->four_lw_names[i], cmd))
            return true;
    return false;
}

/* ------------------------------------------------------------------------ */
/* Entry points                                                              */

#define USAGE                                                                                      \
    "usage: corrald [-Dname=value ...] [zoo.cfg | port dataDir [tickTime [maxClientCnxns]]]"

int config_load(corral_config_t *cfg, int argc, char **argv, const char *const *envp, char *err,
                size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    loader_t ld;
    memset(&ld, 0, sizeof ld);
    ld.cfg = cfg;
    ld.err = err;
    ld.errlen = errlen;
    char cwd[PATH_MAX];
    ld.cwd = xstrdup(getcwd(cwd, sizeof cwd) != NULL ? cwd : ".");
    cfg->origins = xcalloc(NFIELDS, sizeof *cfg->origins);
    set_defaults(cfg);

    const char *pos[4];
    size_t npos = 0;
    int rc = 0;
    for (int i = 1; i < argc && rc == 0; i++) {
        const char *a = argv[i];
        if (starts_with(a, "-D"))
            continue;
        if (a[0] == '-' && a[1] != '\0')
            rc = fail(&ld, "unknown option '%s'; " USAGE, a);
        else if (npos == 4)
            rc = fail(&ld, "too many arguments; " USAGE);
        else
            pos[npos++] = a;
    }
    if (rc == 0) {
        /* zkServer.sh runs java $SERVER_JVMFLAGS $JVMFLAGS; later -D wins. */
        apply_env_flags(&ld, env_lookup(envp, "SERVER_JVMFLAGS"), CONFIG_SRC_SERVER_JVMFLAGS);
        apply_env_flags(&ld, env_lookup(envp, "JVMFLAGS"), CONFIG_SRC_JVMFLAGS);
        for (int i = 1; i < argc; i++)
            if (starts_with(argv[i], "-D"))
                apply_define(&ld, argv[i], CONFIG_SRC_ARGV);
        init_keys_from_props(&ld);
        if (npos == 0)
            load_no_config(&ld);
        else if (npos == 1)
            rc = load_zoo_cfg(&ld, pos[0]);
        else
            rc = load_legacy_args(&ld, pos, npos);
    }
    if (rc == 0 && cfg->data_log_dir == NULL) {
        cfg->data_log_dir = xstrdup(cfg->data_dir);
        origin_derived(cfg, "dataLogDir", "= dataDir");
    }
    if (rc == 0)
        rc = finish_session_timeouts(&ld);
    if (rc == 0)
        rc = resolve_props(&ld, npos == 0);
    if (rc == 0) {
        setup_4lw(&ld);
        cfg->data_dir_abs = java_file_abs(cfg->data_dir, ld.cwd);
        cfg->data_log_dir_abs = java_file_abs(cfg->data_log_dir, ld.cwd);
    }
    free(ld.cwd);
    if (rc != 0)
        config_free(cfg);
    return rc;
}

void config_free(corral_config_t *cfg)
{
    if (cfg->origins != NULL) { /* loaded: the string fields are ours */
        for (size_t i = 0; i < NFIELDS; i++) {
            if (FIELDS[i].type == FT_STR) {
                char **p = field_ptr(cfg, &FIELDS[i]);
                free(*p);
            }
        }
    }
    free(cfg->config_path);
    free(cfg->data_dir_abs);
    free(cfg->data_log_dir_abs);
    for (size_t i = 0; i < cfg->nservers; i++)
        server_free(&cfg->servers[i]);
    free(cfg->servers);
    for (size_t i = 0; i < cfg->four_lw_count; i++)
        free(cfg->four_lw_names[i]);
    free(cfg->four_lw_names);
    plist_free(cfg->props, cfg->nprops);
    plist_free(cfg->file_entries, cfg->nfile_entries);
    for (size_t i = 0; i < cfg->nwarnings; i++)
        free(cfg->warnings[i]);
    free(cfg->warnings);
    free(cfg->origins);
    memset(cfg, 0, sizeof *cfg);
}

/* ZooKeeperServer.dumpConf (standalone). The quorum lines of
 * QuorumZooKeeperServer.dumpConf belong with the quorum code. */
void config_dump(const corral_config_t *cfg, uint64_t data_dir_size, uint64_t data_log_size,
                 buf_t *out)
{
    buf_printf(out, "clientPort=%d\n", cfg->client_port != 0 ? cfg->client_port : -1);
    buf_printf(out, "secureClientPort=%d\n",
               cfg->secure_client_port != 0 ? cfg->secure_client_port : -1);
    buf_printf(out, "dataDir=%s/version-2\n",
               streq(cfg->data_dir_abs, "/") ? "" : cfg->data_dir_abs);
    buf_printf(out, "dataDirSize=%llu\n", (unsigned long long)data_dir_size);
    buf_printf(out, "dataLogDir=%s/version-2\n",
               streq(cfg->data_log_dir_abs, "/") ? "" : cfg->data_log_dir_abs);
    buf_printf(out, "dataLogSize=%llu\n", (unsigned long long)data_log_size);
    buf_printf(out, "tickTime=%d\n", cfg->tick_time_ms);
    buf_printf(out, "maxClientCnxns=%d\n", cfg->max_client_cnxns);
    buf_printf(out, "minSessionTimeout=%d\n", cfg->min_session_timeout_ms);
    buf_printf(out, "maxSessionTimeout=%d\n", cfg->max_session_timeout_ms);
    buf_printf(out, "clientPortListenBacklog=%d\n", cfg->client_port_listen_backlog);
    buf_printf(out, "serverId=%lld\n", cfg->distributed ? (long long)cfg->my_id : 0LL);
}

const char *config_field_name(const corral_config_t *cfg, const void *field)
{
    const field_desc_t *f = field_by_ptr(cfg, field);
    return f != NULL ? f->name : NULL;
}

void config_field_origin(const corral_config_t *cfg, const void *field, char *out, size_t outlen)
{
    if (outlen == 0)
        return;
    out[0] = '\0';
    const field_desc_t *f = field_by_ptr(cfg, field);
    if (f == NULL || cfg->origins == NULL)
        return;
    const struct config_origin *o = &cfg->origins[field_index(f)];
    switch (o->source) {
    case CONFIG_SRC_FILE:
        snprintf(out, outlen, "%s:%d", o->file, o->line);
        break;
    case CONFIG_SRC_ARGV:
    case CONFIG_SRC_JVMFLAGS:
    case CONFIG_SRC_SERVER_JVMFLAGS:
        if (o->prop != NULL)
            snprintf(out, outlen, "-D%s %s %s", o->prop,
                     o->source == CONFIG_SRC_ARGV ? "on the" : "in", config_source_name(o->source));
        else
            snprintf(out, outlen, "%s", config_source_name(o->source));
        break;
    case CONFIG_SRC_MYID:
        snprintf(out, outlen, "%s/myid", cfg->data_dir != NULL ? cfg->data_dir : ".");
        break;
    case CONFIG_SRC_DEFAULT:
    case CONFIG_SRC_DERIVED:
        if (o->note != NULL)
            snprintf(out, outlen, "%s: %s", config_source_name(o->source), o->note);
        else
            snprintf(out, outlen, "%s", config_source_name(o->source));
        break;
    }
}
