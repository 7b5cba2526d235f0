/* fourlw: ZooKeeper's four-letter words (ruok, srvr, stat, mntr, ...), as text.
 *
 * This module owns the command table (names, wire codes, the whitelist) and the
 * exact output format of every 3.8 four-letter word, byte for byte as Apache
 * ZooKeeper 3.8.0 prints it (protocol reference §15; fixtures captured from a
 * real server live in tests/unit/fixtures/fourlw/).
 *
 * It is PURE: it knows nothing of sockets, the tree or sessions. The server
 * fills a fourlw_view_t with plain numbers and strings, calls fourlw_render()
 * and writes the buffer out, then closes the connection (a 4lw reply has no
 * length prefix and ends at EOF). Nothing here allocates except the output
 * buffer, and nothing keeps state between calls.
 *
 * How the server uses it (§2.1, §15.1):
 *   1. On a connection that has not sent a ConnectRequest, look at the first
 *      4 bytes: fourlw_lookup(). Not a 4lw -> treat them as a frame length.
 *   2. stmk only: read fourlw_extra_bytes(cmd) (= 8) more bytes, a big-endian
 *      int64 trace mask; set it, and put the new value in view.trace_mask.
 *   3. Not in the whitelist (fourlw_whitelisted()) -> fourlw_render_refusal().
 *      Otherwise perform the side effect (crst/srst reset stats; stmk sets the
 *      mask), fill the view and fourlw_render().
 *   4. Write the output and close.
 * Counting as ZooKeeper does (what a client sees in srvr/mntr): a 4lw
 * connection is a live connection (it counts in `Connections:` while it is
 * being answered) and its 4 bytes are one received packet, counted before the
 * output is rendered; its reply counts as one sent packet, after rendering. */
#ifndef CORRAL_SERVER_FOURLW_H
#define CORRAL_SERVER_FOURLW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

/* The protocol version we claim. Our version string is
 * FOURLW_ZK_VERSION "-corral-<git short sha | dev>" so parsers see 3.8.0. */
#define FOURLW_ZK_VERSION "3.8.0"

/* Every four-letter word ZooKeeper 3.8 knows. Order is ZooKeeper's own table. */
typedef enum fourlw_cmd {
    FOURLW_CONF,
    FOURLW_CONS,
    FOURLW_CRST,
    FOURLW_DIRS,
    FOURLW_DUMP,
    FOURLW_ENVI,
    FOURLW_GTMK,
    FOURLW_RUOK,
    FOURLW_STMK,
    FOURLW_SRST,
    FOURLW_SRVR,
    FOURLW_STAT,
    FOURLW_WCHC,
    FOURLW_WCHP,
    FOURLW_WCHS,
    FOURLW_MNTR,
    FOURLW_ISRO,
    FOURLW_HASH,
    FOURLW_NCMDS
} fourlw_cmd_t;

/* A set of commands, one bit per fourlw_cmd_t. */
typedef uint32_t fourlw_mask_t;
#define FOURLW_BIT(cmd) ((fourlw_mask_t)1u << (cmd))

/* Is `first4` (the first 4 bytes of a fresh connection) a 4lw? On true, *out is
 * the command. The telnet "interrupt" 0xfff4fffd is not a command (ZooKeeper
 * has no handler for it): false, and the frame-length check closes it. */
bool fourlw_lookup(const uint8_t first4[4], fourlw_cmd_t *out);
/* Command by name ("mntr"), exactly 4 lower-case letters; false if unknown. */
bool fourlw_from_name(const char *name, size_t len, fourlw_cmd_t *out);
/* "mntr" for FOURLW_MNTR. */
const char *fourlw_name(fourlw_cmd_t cmd);
/* Bytes the server must read after the command word before answering: 8 for
 * stmk (a big-endian int64 trace mask), 0 for the others. */
size_t fourlw_extra_bytes(fourlw_cmd_t cmd);

/* The whitelist from zoo.cfg `4lw.commands.whitelist` (or the system property
 * zookeeper.4lw.commands.whitelist), ZooKeeper's rules: comma-separated names,
 * whitespace around each trimmed, unknown names ignored, `*` enables every
 * command. spec == NULL (key absent) enables only srvr. srvr is always added;
 * isro too when readonlymode.enabled is true. */
fourlw_mask_t fourlw_whitelist_parse(const char *spec, bool readonly_mode_enabled);
bool fourlw_whitelisted(fourlw_mask_t whitelist, fourlw_cmd_t cmd);

/* Appends "<cmd> is not executed because it is not in the whitelist.\n". */
void fourlw_render_refusal(fourlw_cmd_t cmd, buf_t *out);

/* ---- the view: everything the outputs need ------------------------------ */

typedef enum fourlw_mode {
    FOURLW_MODE_STANDALONE,
    FOURLW_MODE_LEADER,
    FOURLW_MODE_FOLLOWER,
    FOURLW_MODE_OBSERVER,
    FOURLW_MODE_READ_ONLY
} fourlw_mode_t;

/* A stream of integer samples (latencies in ms, sizes in bytes...), as
 * ZooKeeper's AvgMinMaxCounter keeps it. Raw values: the renderer prints min
 * and max as 0 when count == 0, and derives avg itself (ZooKeeper's rounding). */
typedef struct fourlw_summary {
    int64_t count;
    int64_t sum;
    int64_t min;
    int64_t max;
} fourlw_summary_t;

/* One client connection, for stat (brief form) and cons (full form). */
typedef struct fourlw_conn {
    const char *remote;    /* as Java prints it: "/127.0.0.1:52378" */
    uint32_t interest_ops; /* NIO interest bits: 1 reading, 4 writing; 0 for the
                            * 4lw connection being answered */
    int64_t queued;        /* outstanding requests */
    int64_t packets_received;
    int64_t packets_sent;
    /* cons only, and only when session_id != 0: */
    uint64_t session_id;
    const char *last_op;      /* "GETD", ... "NA" before the first op (§15.2) */
    int64_t established_ms;   /* wall clock, ms since the epoch */
    int32_t timeout_ms;       /* negotiated session timeout */
    int64_t last_cxid;        /* printed only if >= 0 */
    int64_t last_zxid;        /* -1 prints as 0xffffffffffffffff, as Java does */
    int64_t last_response_ms; /* monotonic ms, not wall clock */
    int64_t last_latency_ms;
    fourlw_summary_t latency; /* avglat is integer division */
} fourlw_conn_t;

/* A mntr metric the server tracks, by ZooKeeper name without "zk_". It
 * overrides the built-in table entry of the same name (printed at its place);
 * names the table does not know (per-namespace, learner, quorum keys) are
 * printed after the table, in array order. */
typedef enum fourlw_metric_type {
    FOURLW_METRIC_INT,    /* value.i in decimal */
    FOURLW_METRIC_DOUBLE, /* value.d the Java way: 0.0, 2.9543, 1.0E-4 */
    FOURLW_METRIC_STRING  /* value.s raw */
} fourlw_metric_type_t;

typedef struct fourlw_metric {
    const char *name;
    fourlw_metric_type_t type;
    union {
        int64_t i;
        double d;
        const char *s;
    } value;
} fourlw_metric_t;

/* A summary metric set: zk_avg_/min_/max_/cnt_/sum_<name>, plus
 * zk_p50_/p95_/p99_/p999_<name> when has_percentiles. */
typedef struct fourlw_summary_metric {
    const char *name;
    fourlw_summary_t s;
    bool has_percentiles;
    int64_t p50, p95, p99, p999;
} fourlw_summary_metric_t;

/* envi. NULL strings and negative sizes print as "<NA>", ZooKeeper's own
 * marker for an absent property; the java.* keys always print "<NA>". */
typedef struct fourlw_env {
    const char *host_name;  /* canonical host name */
    const char *tmpdir;     /* java.io.tmpdir: $TMPDIR or /tmp */
    const char *os_name;    /* uname sysname: "Linux" */
    const char *os_machine; /* uname machine; printed as Java names it (amd64) */
    const char *os_version; /* uname release */
    const char *user_name;
    const char *user_home;
    const char *user_dir; /* working directory */
    int64_t mem_free_mb;
    int64_t mem_max_mb;
    int64_t mem_total_mb;
} fourlw_env_t;

/* wchc: one session and the paths it watches. wchp: one path and its watching
 * sessions. Data watches only (getData/exists, persistent), as ZooKeeper. */
typedef struct fourlw_session_watches {
    uint64_t session_id;
    const char *const *paths;
    size_t npaths;
} fourlw_session_watches_t;

typedef struct fourlw_path_watches {
    const char *path;
    const uint64_t *session_ids;
    size_t nsessions;
} fourlw_path_watches_t;

/* dump: one expiry bucket (in time order). Time is wall clock ms, printed as
 * Java's Date.toString() in the process's local time zone. */
typedef struct fourlw_session_bucket {
    int64_t expire_ms;
    const uint64_t *session_ids;
    size_t n;
} fourlw_session_bucket_t;

typedef struct fourlw_conn_ref {
    const char *remote; /* "/127.0.0.1:52378" */
    uint64_t session_id;
} fourlw_conn_ref_t;

typedef struct fourlw_conn_bucket {
    int64_t expire_ms;
    const fourlw_conn_ref_t *conns;
    size_t n;
} fourlw_conn_bucket_t;

typedef struct fourlw_ephemerals {
    uint64_t session_id;
    const char *const *paths;
    size_t npaths;
} fourlw_ephemerals_t;

/* hash: one digest-log entry. */
typedef struct fourlw_digest {
    int64_t zxid;
    int64_t digest;
} fourlw_digest_t;

typedef struct fourlw_view {
    /* false while not serving (e.g. during election): most commands print
     * "This ZooKeeper instance is not currently serving requests\n". */
    bool serving;
    fourlw_mode_t mode;
    const char *version;  /* "3.8.0-corral-1a2b3c4" */
    const char *built_on; /* "2025-11-22 12:36 UTC" */

    /* srvr, stat, mntr */
    fourlw_summary_t latency; /* request latency in ms since the last srst */
    int64_t packets_received;
    int64_t packets_sent;
    int64_t num_connections; /* live client connections, the asking one included */
    int64_t outstanding_requests;
    int64_t last_zxid;       /* last processed zxid */
    int64_t node_count;      /* real number of znodes ("/", "/zookeeper", ...); the
                              * output shows node_count + 1, as ZooKeeper does */
    bool has_proposal_sizes; /* leader only: "Proposal sizes last/min/max" */
    int64_t proposal_size_last, proposal_size_min, proposal_size_max; /* -1: none */

    /* stat, cons */
    const fourlw_conn_t *conns;
    size_t nconns;

    /* mntr */
    const char *peer_state; /* quorum members: "leading - broadcast"; NULL alone */
    int64_t ephemerals_count;
    int64_t watch_count;           /* data + child watch entries */
    int64_t approximate_data_size; /* sum of len(path) + len(data) over all
                                    * znodes, "/" counting 1: a fresh tree is 44 */
    int64_t global_sessions;
    int64_t open_fd_count; /* -1 leaves the key out (not Unix) */
    int64_t max_fd_count;
    int64_t uptime_ms;
    const fourlw_metric_t *metrics; /* what else the server tracks, see above */
    size_t nmetrics;
    const fourlw_summary_metric_t *summaries;
    size_t nsummaries;

    /* conf: ZooKeeper's dumpConf text, produced by the config module, printed
     * verbatim (standalone ends with "serverId=0\n"). */
    const char *conf_text;

    /* envi */
    fourlw_env_t env;

    /* dirs: bytes in the snapshot dir and the log dir */
    int64_t datadir_size;
    int64_t logdir_size;

    /* wchs (data watches only): */
    int64_t wch_connections; /* connections with a data watch */
    int64_t wch_paths;       /* watched paths */
    int64_t wch_total;       /* (path, watcher) pairs */
    /* wchc, wchp */
    const fourlw_session_watches_t *watches_by_session;
    size_t nwatches_by_session;
    const fourlw_path_watches_t *watches_by_path;
    size_t nwatches_by_path;

    /* dump */
    const fourlw_session_bucket_t *session_buckets;
    size_t nsession_buckets;
    const fourlw_ephemerals_t *ephemerals;
    size_t nephemerals;
    bool has_conn_buckets; /* ZooKeeper's NIO factory prints these; Netty not */
    const fourlw_conn_bucket_t *conn_buckets;
    size_t nconn_buckets;

    /* gtmk, stmk: the (new) trace mask; ZooKeeper's default is 306 */
    int64_t trace_mask;

    /* hash */
    const fourlw_digest_t *digests;
    size_t ndigests;
} fourlw_view_t;

/* "standalone", "leader", "follower", "observer", "read-only" (srvr's Mode:). */
const char *fourlw_mode_name(fourlw_mode_t mode);

/* Appends the output of `cmd` for the state in `v` to `out`. Every command
 * of fourlw_cmd_t is rendered. Side effects (crst, srst, stmk) are the
 * server's: do them first, then render. */
void fourlw_render(fourlw_cmd_t cmd, const fourlw_view_t *v, buf_t *out);

/* ZooKeeper's average: sum/count as a double, rounded half-up to 4 decimals,
 * printed as Java's Double.toString ("0.0" when count == 0, "0.9083", "2.5").
 * Shared with anything else that must print ZooKeeper's avg (admin JSON). */
void fourlw_append_avg(buf_t *out, int64_t count, int64_t sum);
/* A double the way Java's Double.toString prints it ("0.0", "1.5", "1.0E-4"). */
void fourlw_append_java_double(buf_t *out, double d);

#endif
