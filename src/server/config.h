/* config: corrald's configuration — the command line, zoo.cfg, -D system
 * properties (argv, $SERVER_JVMFLAGS, $JVMFLAGS) and <dataDir>/myid, read the
 * way Apache ZooKeeper 3.8 reads them (QuorumPeerConfig + the system
 * properties its server classes consult), into one typed struct.
 *
 * Command line: corrald [-Dname=value ...] [zoo.cfg] [-Dname=value ...]
 *           or: corrald [-D...] port dataDir [tickTime [maxClientCnxns]]
 *               (ZooKeeperServerMain's legacy form: all interfaces, tickTime
 *               3000, maxClientCnxns 0 = unlimited, as in ZooKeeper).
 * With neither: standalone on 127.0.0.1:2181, dataDir ./data, tickTime 2000
 * (and, being loopback-only, the admin server also defaults to 127.0.0.1).
 *
 * zoo.cfg is a Java properties file (key=value, key:value or "key value";
 * '#'/'!' comments; backslash escapes and line continuations). A key that
 * QuorumPeerConfig knows sets a typed field. Any other key K becomes the
 * system property "zookeeper.K", exactly as in ZooKeeper: that is how
 * 4lw.commands.whitelist, snapCount, admin.serverPort, ... reach the code.
 *
 * PRECEDENCE (same outcome as ZooKeeper's JVM):
 *   1. -D in $SERVER_JVMFLAGS, then $JVMFLAGS, then on corrald's command line
 *      set system properties; a later -D of the same name wins.
 *   2. zoo.cfg keys that become properties ("zookeeper.K") then overwrite any
 *      -D of the same name: zoo.cfg wins (ZooKeeper calls System.setProperty
 *      while parsing). A warning says so when a -D value is overridden.
 *   3. QuorumPeerConfig keys (tickTime, clientPort, dataDir, server.N, ...)
 *      come only from zoo.cfg: -DtickTime or -Dzookeeper.tickTime does
 *      nothing (a warning says so).
 *   4. Pure system properties with no "zookeeper." prefix (jute.maxbuffer,
 *      readonlymode.enabled, znode.container.*) can only be set with -D: a
 *      zoo.cfg line "jute.maxbuffer=..." sets zookeeper.jute.maxbuffer, which
 *      nothing reads (a warning says so).
 * Property values are interpreted like the Java code that reads them
 * (Integer.getInteger accepts 0x.. hex and 0.. octal and falls back to the
 * default on garbage; Boolean.parseBoolean is "true" in any case, everything
 * else false; skipACL is on only for exactly "yes"); where Java silently falls
 * back, we add a warning.
 *
 * Deliberate differences from ZooKeeper 3.8 (all reported as errors/warnings):
 *   - errors name the file, line and key; unknown keys that nothing in
 *     ZooKeeper reads get a warning;
 *   - a standalone config with no clientPort (ZooKeeper would start with no
 *     client listener) is an error; so are tickTime <= 0, negative session
 *     timeouts or limits, and two server.N lines with the same id;
 *   - multiAddress.enabled=true in zoo.cfg also enables "a|b" server lines
 *     (ZooKeeper 3.8 only looks at -Dzookeeper.multiAddress.enabled there);
 *   - metricsProvider.className: the default provider and ZooKeeper's
 *     PrometheusMetricsProvider (served by src/admin) are known, others
 *     get a warning; host names are not resolved here;
 *   - zoo.cfg bytes are kept as-is (Java reads ISO-8859-1); \uXXXX escapes
 *     become UTF-8;
 *   - nothing is written: ZooKeeper's zoo.cfg.bak (reconfig) is the quorum
 *     code's business, and <cfg>.dynamic.next is not read.
 *
 * The module never prints or exits: errors come back in a message buffer,
 * warnings in cfg->warnings for the caller to log. */
#ifndef CORRAL_CONFIG_H
#define CORRAL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

/* Where a value came from. */
typedef enum config_source {
    CONFIG_SRC_DEFAULT = 0,     /* built-in default */
    CONFIG_SRC_FILE,            /* a zoo.cfg (or dynamic config file) line */
    CONFIG_SRC_ARGV,            /* -Dname=value on corrald's command line */
    CONFIG_SRC_JVMFLAGS,        /* -Dname=value in $JVMFLAGS */
    CONFIG_SRC_SERVER_JVMFLAGS, /* -Dname=value in $SERVER_JVMFLAGS */
    CONFIG_SRC_DERIVED,         /* computed from other settings */
    CONFIG_SRC_MYID,            /* <dataDir>/myid */
} config_source_t;

/* One key=value: a system property, or a raw line of zoo.cfg. */
typedef struct config_prop {
    char *name;
    char *value;
    config_source_t source;
    const char *file; /* CONFIG_SRC_FILE: path (owned by the config), else NULL */
    int line;         /* CONFIG_SRC_FILE: 1-based line where the entry starts */
} config_prop_t;

typedef enum config_peer_type {
    CONFIG_PEER_PARTICIPANT = 0, /* ZooKeeper's LearnerType ordinals */
    CONFIG_PEER_OBSERVER = 1,
} config_peer_type_t;

/* One host:quorumPort:electionPort of a server.N line. */
typedef struct config_server_addr {
    char *host; /* IPv6 without brackets */
    int quorum_port;
    int election_port;
} config_server_addr_t;

/* A server.N line: host:port:port[:participant|:observer][;[host:]port],
 * several "|"-separated host:port:port groups with multiAddress enabled.
 * Kept for the quorum code; standalone ignores it (as ZooKeeper does). */
typedef struct config_server {
    int64_t id;                  /* N */
    config_server_addr_t *addrs; /* naddrs >= 1; addrs[0] is the primary */
    size_t naddrs;
    config_peer_type_t type;
    char *client_host; /* NULL when there is no ";client" part; "0.0.0.0" for ";port" */
    int client_port;   /* 0 when there is no ";client" part */
    const char *file;  /* where the line is (owned by the config) */
    int line;
} config_server_t;

struct config_origin; /* private: where each typed field came from */

typedef struct corral_config {
    /* ---- inputs ---- */
    char *config_path; /* the zoo.cfg given, NULL when none */
    bool legacy_args;  /* started as "corrald port dataDir ..." */

    /* ---- QuorumPeerConfig keys (zoo.cfg only); comment = key ---- */
    int32_t tick_time_ms;                          /* tickTime (3000 in a zoo.cfg without it) */
    char *data_dir;                                /* dataDir, as written */
    char *data_log_dir;                            /* dataLogDir (= dataDir) */
    char *data_dir_abs;                            /* the two above made absolute and */
    char *data_log_dir_abs;                        /*  normalised like java.io.File */
    int32_t client_port;                           /* clientPort; 0 = not set */
    char *client_port_address;                     /* clientPortAddress; "0.0.0.0" = all */
    int32_t secure_client_port;                    /* secureClientPort; 0 = not set */
    char *secure_client_port_address;              /* secureClientPortAddress; "0.0.0.0" */
    int32_t observer_master_port;                  /* observerMasterPort; 0 = not set */
    int32_t client_port_listen_backlog;            /* clientPortListenBacklog; -1 = OS default */
    int32_t max_client_cnxns;                      /* maxClientCnxns, per client IP; 0 = no limit */
    int32_t min_session_timeout_ms;                /* minSessionTimeout (2 x tickTime) */
    int32_t max_session_timeout_ms;                /* maxSessionTimeout (20 x tickTime) */
    int32_t init_limit_ticks;                      /* initLimit; 0 = not set */
    int32_t sync_limit_ticks;                      /* syncLimit; 0 = not set */
    int32_t connect_to_learner_master_limit_ticks; /* connectToLearnerMasterLimit (= initLimit) */
    int32_t election_alg;                          /* electionAlg; only 3 is accepted */
    bool quorum_listen_on_all_ips;                 /* quorumListenOnAllIPs */
    config_peer_type_t peer_type;                  /* peerType (the server.N suffix wins) */
    bool sync_enabled;                      /* syncEnabled; -Dzookeeper.observer.syncEnabled wins */
    char *dynamic_config_file;              /* dynamicConfigFile, NULL if none */
    int32_t autopurge_snap_retain_count;    /* autopurge.snapRetainCount (3, at least 3) */
    int32_t autopurge_purge_interval_hours; /* autopurge.purgeInterval; <= 0 = off */
    bool standalone_enabled;                /* standaloneEnabled (true) */
    bool reconfig_enabled;                  /* reconfigEnabled (false) */
    bool local_sessions_enabled;            /* localSessionsEnabled */
    bool local_sessions_upgrading_enabled;  /* localSessionsUpgradingEnabled */
    bool ssl_quorum;                        /* sslQuorum */
    bool port_unification;                  /* portUnification */
    bool ssl_quorum_reload_cert_files;      /* sslQuorumReloadCertFiles */
    bool quorum_sasl_enabled;               /* quorum.auth.enableSasl */
    bool quorum_sasl_server_required;       /* quorum.auth.serverRequireSasl */
    bool quorum_sasl_learner_required;      /* quorum.auth.learnerRequireSasl */
    char *quorum_sasl_learner_login_context; /* quorum.auth.learner.saslLoginContext */
    char *quorum_sasl_server_login_context;  /* quorum.auth.server.saslLoginContext */
    char *quorum_sasl_service_principal;     /* quorum.auth.kerberos.servicePrincipal */
    int32_t quorum_cnxn_threads_size;        /* quorum.cnxn.threads.size; 0 = default */
    bool jvm_pause_monitor;                  /* jvm.pause.monitor (accepted, unused) */
    int64_t jvm_pause_info_threshold_ms;     /* jvm.pause.info-threshold.ms */
    int64_t jvm_pause_warn_threshold_ms;     /* jvm.pause.warn-threshold.ms */
    int64_t jvm_pause_sleep_time_ms;         /* jvm.pause.sleep.time.ms */
    char *metrics_provider_class_name;       /* metricsProvider.className */
    bool multi_address_enabled; /* multiAddress.enabled or -Dzookeeper.multiAddress.enabled */
    bool multi_address_reachability_check_enabled; /* multiAddress.reachabilityCheckEnabled */
    int32_t
        multi_address_reachability_check_timeout_ms; /* multiAddress.reachabilityCheckTimeoutMs */
    char *oracle_path;                               /* oraclePath, NULL if none */

    /* ---- ensemble ---- */
    config_server_t *servers; /* server.N lines (zoo.cfg or the dynamic file), file order */
    size_t nservers;
    bool hierarchical_quorum;       /* group.* / weight.* lines present (kept in file_entries) */
    int64_t dynamic_config_version; /* "version" (hex) of the dynamic config; -1 if none */
    int64_t my_id;                  /* <dataDir>/myid; -1 when there is none */
    bool distributed;               /* quorum mode (>1 participant or !standaloneEnabled) */

    /* ---- system properties the server reads; comment = property ---- */
    int32_t jute_maxbuffer_bytes;           /* jute.maxbuffer (1048575), -D only */
    int32_t jute_maxbuffer_extrasize_bytes; /* zookeeper.jute.maxbuffer.extrasize (= maxbuffer, >=
                                               1024) */
    int32_t global_outstanding_limit;       /* zookeeper.globalOutstandingLimit (1000) */
    char *super_digest;          /* zookeeper.DigestAuthenticationProvider.superDigest, NULL */
    bool digest_auth_enabled;    /* zookeeper.DigestAuthenticationProvider.enabled (true) */
    char *digest_auth_alg;       /* zookeeper.DigestAuthenticationProvider.digestAlg (SHA1) */
    char *super_user;            /* zookeeper.superUser, NULL */
    bool extended_types_enabled; /* zookeeper.extendedTypesEnabled (false) */
    bool emulate_353_ttl_nodes;  /* zookeeper.emulate353TTLNodes (false) */
    bool skip_acl;               /* zookeeper.skipACL: only "yes" is true */
    bool enable_eager_acl_check; /* zookeeper.enableEagerACLCheck (false) */
    int32_t container_check_interval_ms; /* znode.container.checkIntervalMs (60000), -D only */
    int32_t container_max_per_minute;    /* znode.container.maxPerMinute (10000), -D only */
    int64_t container_max_never_used_interval_ms; /* znode.container.maxNeverUsedIntervalMs (0), -D
                                                     only */
    bool readonly_mode_enabled;                   /* readonlymode.enabled (false), -D only */
    bool enforce_quota;                           /* zookeeper.enforceQuota (false) */
    int32_t max_cnxns;                            /* zookeeper.maxCnxns (0 = no limit) */
    int32_t snapshot_slice_nodes;            /* corral.snapshot.sliceNodes: nodes a fuzzy snapshot
                                              * serializes per loop turn (2048, 1..1048576) */
    int32_t snap_count;                      /* zookeeper.snapCount (100000, at least 2) */
    int64_t snap_size_limit_kib;             /* zookeeper.snapSizeLimitInKb (4194304; <= 0 off) */
    int64_t txn_log_size_limit_kib;          /* zookeeper.txnLogSizeLimitInKb (-1 = off) */
    int64_t pre_alloc_size_kib;              /* zookeeper.preAllocSize (65536) */
    bool force_sync;                         /* zookeeper.forceSync: false only for "no" */
    int64_t fsync_warning_threshold_ms;      /* zookeeper.fsync.warningthresholdms, else
                                                fsync.warningthresholdms (1000) */
    bool digest_enabled;                     /* zookeeper.digest.enabled (true) */
    bool close_session_txn_enabled;          /* zookeeper.closeSessionTxn.enabled (true) */
    char *snapshot_compression_method;       /* zookeeper.snapshot.compression.method ("") */
    bool snapshot_trust_empty;               /* zookeeper.snapshot.trust.empty (false) */
    bool datadir_autocreate;                 /* zookeeper.datadir.autocreate (true) */
    bool db_autocreate;                      /* zookeeper.db.autocreate (true) */
    int32_t commit_log_count;                /* zookeeper.commitLogCount (500) */
    int32_t nio_sessionless_cnxn_timeout_ms; /* zookeeper.nio.sessionlessCnxnTimeout (10000) */
    bool client_tcp_keepalive;               /* zookeeper.clientTcpKeepAlive (false) */
    int32_t max_batch_size;                  /* zookeeper.maxBatchSize (1000) */
    int64_t flush_delay_ms;                  /* zookeeper.flushDelay (0) */
    int64_t max_write_queue_poll_time_ms;    /* zookeeper.maxWriteQueuePollTime (flushDelay/3) */
    int32_t request_throttle_max_requests;   /* zookeeper.request_throttle_max_requests (0 = off) */
    int32_t request_throttle_stall_time_ms;  /* zookeeper.request_throttle_stall_time (100) */
    bool request_throttle_drop_stale;        /* zookeeper.request_throttle_drop_stale (true) */
    int32_t large_request_max_bytes;         /* zookeeper.largeRequestMaxBytes (104857600) */
    int32_t large_request_threshold_bytes;   /* zookeeper.largeRequestThreshold (-1 = off) */
    int32_t max_response_cache_size;         /* zookeeper.maxResponseCacheSize (400) */
    int32_t
        max_get_children_response_cache_size; /* zookeeper.maxGetChildrenResponseCacheSize (400) */
    bool enforce_auth_enabled;                /* zookeeper.enforce.auth.enabled (false) */
    char *enforce_auth_schemes;               /* zookeeper.enforce.auth.schemes, NULL */
    bool session_require_client_sasl_auth;    /* zookeeper.sessionRequireClientSASLAuth (false) */
    bool admin_enable_server;      /* zookeeper.admin.enableServer: off only for "false" */
    int32_t admin_server_port;     /* zookeeper.admin.serverPort (8080) */
    char *admin_server_address;    /* zookeeper.admin.serverAddress (0.0.0.0) */
    int32_t admin_idle_timeout_ms; /* zookeeper.admin.idleTimeout (30000) */
    char *admin_command_url;       /* zookeeper.admin.commandURL (/commands) */
    bool leader_serves;            /* zookeeper.leaderServes: false only for "no" */
    int32_t cnx_timeout_ms;        /* zookeeper.cnxTimeout (5000), election connect */

    /* Four-letter-word whitelist (zookeeper.4lw.commands.whitelist); use
     * config_4lw_allowed(). */
    bool four_lw_all;     /* "*" */
    char **four_lw_names; /* explicit names, including the implied srvr/isro */
    size_t four_lw_count;

    /* ---- everything, for envi/conf and diagnostics ---- */
    config_prop_t *props; /* effective system properties, in order first set */
    size_t nprops;
    config_prop_t *file_entries; /* zoo.cfg key=value as read (trimmed; last duplicate wins) */
    size_t nfile_entries;
    char **warnings; /* for the caller to log, one line each, no newline */
    size_t nwarnings;

    struct config_origin *origins; /* private */
} corral_config_t;

/* Fill *cfg from argv (argv[0] is skipped), the environment and the files
 * they name. envp is a NULL-terminated "NAME=value" array (like main's third
 * argument) in which $SERVER_JVMFLAGS and $JVMFLAGS are looked up; NULL means
 * getenv(). Tokens other than -D in those variables (-Xmx2g, ...) are
 * ignored; on the command line they are an error.
 * Returns 0 on success. On error returns -1 with a one-line message in err
 * naming the file, line and key where there is one (e.g.
 * "/etc/zoo.cfg:4: clientPort: 'abc' is not a number"), and leaves *cfg
 * empty (config_free is still safe). */
int config_load(corral_config_t *cfg, int argc, char **argv, const char *const *envp, char *err,
                size_t errlen);

/* Release everything config_load allocated and zero *cfg. Idempotent. */
void config_free(corral_config_t *cfg);

/* The effective value of system property `name` (e.g. "jute.maxbuffer",
 * "zookeeper.snapCount", "zookeeper.authProvider.1"), or NULL if unset. */
const char *config_prop(const corral_config_t *cfg, const char *name);

/* Whether four-letter word `cmd` ("mntr") may run. With no
 * zookeeper.4lw.commands.whitelist the set is Corral's read-only monitoring
 * default: ruok srvr stat mntr conf isro envi dirs (ZooKeeper's is srvr
 * only). With the property: its comma-separated names (spaces trimmed), "*"
 * for all, plus srvr always and isro when readonlymode.enabled=true. */
bool config_4lw_allowed(const corral_config_t *cfg, const char *cmd);

/* Append the body of the `conf` four-letter word in ZooKeeper 3.8's
 * standalone format ("clientPort=2181\nsecureClientPort=-1\ndataDir=...
 * /version-2\ndataDirSize=...\n...serverId=0\n"). The sizes are the bytes in
 * the snapshot and log directories, measured by the caller. */
void config_dump(const corral_config_t *cfg, uint64_t data_dir_size, uint64_t data_log_size,
                 buf_t *out);

/* The zoo.cfg key or property name a typed field comes from, given a pointer
 * to that field in *cfg: config_field_name(cfg, &cfg->max_session_timeout_ms)
 * is "maxSessionTimeout", for &cfg->snap_count it is "zookeeper.snapCount".
 * NULL for a pointer that is not a typed field. */
const char *config_field_name(const corral_config_t *cfg, const void *field);

/* Describe where a typed field's value came from, for log lines: e.g.
 * "/etc/zoo.cfg:7", "-Dzookeeper.snapCount on the command line",
 * "$JVMFLAGS", "default", "default: 20 x tickTime". Writes "" for a
 * pointer that is not a typed field. */
void config_field_origin(const corral_config_t *cfg, const void *field, char *out, size_t outlen);

/* "default", "zoo.cfg", "command line", "$JVMFLAGS", ... */
const char *config_source_name(config_source_t src);

#endif
