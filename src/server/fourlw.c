/* fourlw: the four-letter-word command table, the whitelist and the exact text
 * of every 3.8 four-letter word. Pure formatting over a fourlw_view_t; see
 * fourlw.h for the contract and protocol reference §15 for the formats. */
#include "server/fourlw.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NOT_SERVING "This ZooKeeper instance is not currently serving requests"
#define NA "<NA>"

/* ---- command table ------------------------------------------------------ */

static const char *const cmd_names[FOURLW_NCMDS] = {
    [FOURLW_CONF] = "conf", [FOURLW_CONS] = "cons", [FOURLW_CRST] = "crst", [FOURLW_DIRS] = "dirs",
    [FOURLW_DUMP] = "dump", [FOURLW_ENVI] = "envi", [FOURLW_GTMK] = "gtmk", [FOURLW_RUOK] = "ruok",
    [FOURLW_STMK] = "stmk", [FOURLW_SRST] = "srst", [FOURLW_SRVR] = "srvr", [FOURLW_STAT] = "stat",
    [FOURLW_WCHC] = "wchc", [FOURLW_WCHP] = "wchp", [FOURLW_WCHS] = "wchs", [FOURLW_MNTR] = "mntr",
    [FOURLW_ISRO] = "isro", [FOURLW_HASH] = "hash",
};

bool fourlw_from_name(const char *name, size_t len, fourlw_cmd_t *out)
{
    if (name == NULL || len != 4)
        return false;
    for (int c = 0; c < FOURLW_NCMDS; c++) {
        if (memcmp(cmd_names[c], name, 4) == 0) {
            *out = (fourlw_cmd_t)c;
            return true;
        }
    }
    return false;
}

/* ZooKeeper compares the 4 bytes as a big-endian int with each command's
 * ASCII bytes: the same as comparing the bytes. */
bool fourlw_lookup(const uint8_t first4[4], fourlw_cmd_t *out)
{
    return fourlw_from_name((const char *)first4, 4, out);
}

const char *fourlw_name(fourlw_cmd_t cmd)
{
    if ((unsigned)cmd >= FOURLW_NCMDS)
        return "????";
    return cmd_names[cmd];
}

size_t fourlw_extra_bytes(fourlw_cmd_t cmd)
{
    return cmd == FOURLW_STMK ? 8 : 0;
}

static bool is_space(char c)
{
    /* Java's String.trim(): every char <= ' ' */
    return (unsigned char)c <= ' ';
}

fourlw_mask_t fourlw_whitelist_parse(const char *spec, bool readonly_mode_enabled)
{
    fourlw_mask_t mask = 0;
    const char *p = spec;
    while (p != NULL && *p != '\0') {
        const char *end = strchr(p, ',');
        const char *next = end ? end + 1 : NULL;
        if (end == NULL)
            end = p + strlen(p);
        const char *b = p, *e = end;
        while (b < e && is_space(*b))
            b++;
        while (e > b && is_space(e[-1]))
            e--;
        fourlw_cmd_t cmd;
        if (e - b == 1 && *b == '*') {
            mask = FOURLW_BIT(FOURLW_NCMDS) - 1;
            break;
        }
        if (fourlw_from_name(b, (size_t)(e - b), &cmd))
            mask |= FOURLW_BIT(cmd);
        p = next;
    }
    if (readonly_mode_enabled)
        mask |= FOURLW_BIT(FOURLW_ISRO);
    mask |= FOURLW_BIT(FOURLW_SRVR); /* zkServer.sh status depends on it */
    return mask;
}

bool fourlw_whitelisted(fourlw_mask_t whitelist, fourlw_cmd_t cmd)
{
    return (unsigned)cmd < FOURLW_NCMDS && (whitelist & FOURLW_BIT(cmd)) != 0;
}

void fourlw_render_refusal(fourlw_cmd_t cmd, buf_t *out)
{
    buf_printf(out, "%s is not executed because it is not in the whitelist.\n", fourlw_name(cmd));
}

/* ---- Java number formatting -------------------------------------------- */

/* The digits Java 17's Double.toString picks for a positive finite d, as a
 * digit string without trailing zeros and the exponent of its first digit.
 * Usually the shortest digits that read back as d. But FloatingDecimal takes
 * a shortcut for whole numbers below 2^63: it prints the integer itself, only
 * rounding away the last floor(log10(2^(e-53))) digits once d >= 2^54
 * (e = the binary exponent), so e.g. 387061419624355072.0 prints as
 * 3.8706141962435507E17 where the shortest digits would end ...551E17. */
static size_t java_digits(double d, char digits[24], int *exp10)
{
    int bin_exp;
    frexp(d, &bin_exp);
    bin_exp--; /* d in [2^bin_exp, 2^(bin_exp+1)) */
    size_t nd = 0;
    if (bin_exp >= 0 && bin_exp <= 62 && d == floor(d)) {
        uint64_t lvalue = (uint64_t)d;
        int insignificant = 0;
        if (bin_exp > 53 + 1) {
            for (uint64_t p = (uint64_t)1 << (bin_exp - 54); p >= 10; p /= 10)
                insignificant++;
        }
        if (insignificant > 0) {
            uint64_t pow10 = 1;
            for (int i = 0; i < insignificant; i++)
                pow10 *= 10;
            uint64_t residue = lvalue % pow10;
            lvalue /= pow10;
            if (residue >= pow10 / 2)
                lvalue++;
        }
        char tmp[24];
        int n = snprintf(tmp, sizeof tmp, "%" PRIu64, lvalue);
        memcpy(digits, tmp, (size_t)n);
        nd = (size_t)n;
        *exp10 = n - 1 + insignificant;
    } else {
        char sci[40];
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(sci, sizeof sci, "%.*e", prec - 1, d);
            if (strtod(sci, NULL) == d)
                break;
        }
        /* sci is "D.DDDe+XX" or "De+XX" */
        const char *s = sci;
        for (; *s != 'e'; s++)
            if (*s != '.')
                digits[nd++] = *s;
        *exp10 = atoi(s + 1);
    }
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';
    return nd;
}

/* Double.toString: plain notation for 1e-3 <= |d| < 1e7 (always a digit after
 * the point), otherwise computerized scientific notation "d.dddE<n>". */
void fourlw_append_java_double(buf_t *out, double d)
{
    if (isnan(d)) {
        buf_append_str(out, "NaN");
        return;
    }
    if (isinf(d)) {
        buf_append_str(out, d < 0 ? "-Infinity" : "Infinity");
        return;
    }
    if (d == 0) {
        buf_append_str(out, signbit(d) ? "-0.0" : "0.0");
        return;
    }
    if (d < 0) {
        buf_append_str(out, "-");
        d = -d;
    }
    char digits[24];
    int exp10;
    size_t nd = java_digits(d, digits, &exp10);
    if (exp10 >= 0 && exp10 < 7) {
        size_t nint = (size_t)exp10 + 1;
        for (size_t i = 0; i < nint; i++)
            buf_append(out, i < nd ? &digits[i] : "0", 1);
        buf_append_str(out, ".");
        if (nd > nint)
            buf_append(out, digits + nint, nd - nint);
        else
            buf_append_str(out, "0");
    } else if (exp10 < 0 && exp10 >= -3) {
        buf_append_str(out, "0.");
        for (int i = 0; i < -exp10 - 1; i++)
            buf_append_str(out, "0");
        buf_append(out, digits, nd);
    } else {
        buf_append(out, digits, 1);
        buf_append_str(out, ".");
        if (nd > 1)
            buf_append(out, digits + 1, nd - 1);
        else
            buf_append_str(out, "0");
        buf_printf(out, "E%d", exp10);
    }
}

/* AvgMinMaxCounter.getAvg(): new BigDecimal(sum / (double)count)
 * .setScale(4, HALF_UP).doubleValue(). BigDecimal(double) is the exact binary
 * value, so HALF_UP looks at its exact 5th decimal: glibc prints exact digits,
 * and 60 of them cannot carry into the 5th (a double below 2^63 lies at least
 * ~1e-39 away from any 5-decimal number it is not equal to). */
void fourlw_append_avg(buf_t *out, int64_t count, int64_t sum)
{
    if (count <= 0) {
        buf_append_str(out, "0.0");
        return;
    }
    double avg = (double)sum / (double)count;
    bool neg = avg < 0;
    char exact[128];
    snprintf(exact, sizeof exact, "%.60f", neg ? -avg : avg);
    char *dot = strchr(exact, '.');
    /* keep "<int>.dddd", then round half-up on the 5th decimal */
    char kept[128];
    size_t n = (size_t)(dot - exact) + 5;
    memcpy(kept, exact, n);
    kept[n] = '\0';
    if (dot[5] >= '5') {
        size_t i = n;
        while (i-- > 0) {
            if (kept[i] == '.')
                continue;
            if (kept[i] != '9') {
                kept[i]++;
                break;
            }
            kept[i] = '0';
            if (i == 0) { /* 9.99995 -> 10.0000 */
                memmove(kept + 1, kept, n + 1);
                kept[0] = '1';
            }
        }
    }
    double r = strtod(kept, NULL);
    fourlw_append_java_double(out, neg ? -r : r);
}

/* ---- shared pieces ------------------------------------------------------ */

const char *fourlw_mode_name(fourlw_mode_t m)
{
    switch (m) {
    case FOURLW_MODE_LEADER:
        return "leader";
    case FOURLW_MODE_FOLLOWER:
        return "follower";
    case FOURLW_MODE_OBSERVER:
        return "observer";
    case FOURLW_MODE_READ_ONLY:
        return "read-only";
    case FOURLW_MODE_STANDALONE:
    default:
        return "standalone";
    }
}

static const char *str_or_na(const char *s)
{
    return s ? s : NA;
}

static int64_t sum_min(const fourlw_summary_t *s)
{
    return s->count > 0 ? s->min : 0;
}

static int64_t sum_max(const fourlw_summary_t *s)
{
    return s->count > 0 ? s->max : 0;
}

static void full_version(buf_t *out, const fourlw_view_t *v)
{
    buf_printf(out, "%s, built on %s", str_or_na(v->version), str_or_na(v->built_on));
}

/* ServerCnxn.dumpConnectionInfo(); `brief` is stat's form. */
static void conn_line(buf_t *out, const fourlw_conn_t *c, bool brief)
{
    buf_printf(out, " %s[", str_or_na(c->remote));
    if (c->interest_ops == 0)
        buf_append_str(out, "0");
    else
        buf_printf(out, "%" PRIx32, c->interest_ops);
    buf_printf(out, "](queued=%" PRId64 ",recved=%" PRId64 ",sent=%" PRId64, c->queued,
               c->packets_received, c->packets_sent);
    if (!brief && c->session_id != 0) {
        buf_printf(out, ",sid=0x%" PRIx64 ",lop=%s,est=%" PRId64 ",to=%" PRId32, c->session_id,
                   c->last_op ? c->last_op : "NA", c->established_ms, c->timeout_ms);
        if (c->last_cxid >= 0)
            buf_printf(out, ",lcxid=0x%" PRIx64, (uint64_t)c->last_cxid);
        int64_t avg = c->latency.count > 0 ? c->latency.sum / c->latency.count : 0;
        buf_printf(out,
                   ",lzxid=0x%" PRIx64 ",lresp=%" PRId64 ",llat=%" PRId64 ",minlat=%" PRId64
                   ",avglat=%" PRId64 ",maxlat=%" PRId64,
                   (uint64_t)c->last_zxid, c->last_response_ms, c->last_latency_ms,
                   sum_min(&c->latency), avg, c->latency.max);
    }
    buf_append_str(out, ")\n");
}

/* ---- srvr, stat --------------------------------------------------------- */

static void render_stat(const fourlw_view_t *v, bool with_clients, buf_t *out)
{
    buf_append_str(out, "Zookeeper version: ");
    full_version(out, v);
    buf_append_str(out, "\n");
    if (v->mode == FOURLW_MODE_READ_ONLY)
        buf_append_str(out, "READ-ONLY mode; serving only read-only clients\n");
    if (with_clients) {
        buf_append_str(out, "Clients:\n");
        for (size_t i = 0; i < v->nconns; i++)
            conn_line(out, &v->conns[i], true);
        buf_append_str(out, "\n");
    }
    buf_printf(out, "Latency min/avg/max: %" PRId64 "/", sum_min(&v->latency));
    fourlw_append_avg(out, v->latency.count, v->latency.sum);
    buf_printf(out,
               "/%" PRId64 "\nReceived: %" PRId64 "\nSent: %" PRId64 "\nConnections: %" PRId64
               "\nOutstanding: %" PRId64 "\nZxid: 0x%" PRIx64 "\nMode: %s\nNode count: %" PRId64
               "\n",
               sum_max(&v->latency), v->packets_received, v->packets_sent, v->num_connections,
               v->outstanding_requests, (uint64_t)v->last_zxid, fourlw_mode_name(v->mode),
               v->node_count + 1);
    if (v->mode == FOURLW_MODE_LEADER && v->has_proposal_sizes)
        buf_printf(out, "Proposal sizes last/min/max: %" PRId64 "/%" PRId64 "/%" PRId64 "\n",
                   v->proposal_size_last, v->proposal_size_min, v->proposal_size_max);
}

/* ---- mntr --------------------------------------------------------------- */

/* How a key is filled. CORE: from a view field. ZERO: never moves in a
 * standalone Corral (quorum-only, TLS/Netty, throttling, optimized watch
 * manager, ...), printed as ZooKeeper's idle 0. OPT: moves under traffic in
 * ZooKeeper; printed only when the server supplies it in v->metrics /
 * v->summaries, never as a made-up 0. */
enum { K_CORE, K_ZERO, K_ZERO_DOUBLE, K_OPT, K_SUM_ZERO, K_SUM_OPT, K_PCT_ZERO, K_PCT_OPT };

enum {
    C_NONE,
    C_VERSION,
    C_SERVER_STATE,
    C_EPHEMERALS,
    C_CONNECTIONS,
    C_AVG_LATENCY,
    C_OUTSTANDING,
    C_ZNODES,
    C_GLOBAL_SESSIONS,
    C_PACKETS_SENT,
    C_PACKETS_RECEIVED,
    C_WATCHES,
    C_MIN_LATENCY,
    C_MAX_FD,
    C_DATA_SIZE,
    C_OPEN_FD,
    C_UPTIME,
    C_MAX_LATENCY
};

typedef struct mntr_key {
    const char *name;
    uint8_t kind;
    uint8_t core;
} mntr_key_t;

/* Every key of a standalone 3.8.0 server, in the order it printed them on an
 * idle server (tests/unit/fixtures/fourlw/idle/mntr.out). */
static const mntr_key_t mntr_keys[] = {
    {"version", K_CORE, C_VERSION},
    {"server_state", K_CORE, C_SERVER_STATE},
    {"ephemerals_count", K_CORE, C_EPHEMERALS},
    {"num_alive_connections", K_CORE, C_CONNECTIONS},
    {"avg_latency", K_CORE, C_AVG_LATENCY},
    {"outstanding_requests", K_CORE, C_OUTSTANDING},
    {"znode_count", K_CORE, C_ZNODES},
    {"global_sessions", K_CORE, C_GLOBAL_SESSIONS},
    {"non_mtls_remote_conn_count", K_ZERO, 0},
    {"last_client_response_size", K_OPT, 0}, /* -1 until the first reply */
    {"packets_sent", K_CORE, C_PACKETS_SENT},
    {"packets_received", K_CORE, C_PACKETS_RECEIVED},
    {"max_client_response_size", K_OPT, 0},
    {"connection_drop_probability", K_ZERO_DOUBLE, 0},
    {"watch_count", K_CORE, C_WATCHES},
    {"auth_failed_count", K_OPT, 0},
    {"min_latency", K_CORE, C_MIN_LATENCY},
    {"max_file_descriptor_count", K_CORE, C_MAX_FD},
    {"approximate_data_size", K_CORE, C_DATA_SIZE},
    {"open_file_descriptor_count", K_CORE, C_OPEN_FD},
    {"local_sessions", K_ZERO, 0},
    {"uptime", K_CORE, C_UPTIME},
    {"max_latency", K_CORE, C_MAX_LATENCY},
    {"outstanding_tls_handshake", K_ZERO, 0},
    {"min_client_response_size", K_OPT, 0},
    {"non_mtls_local_conn_count", K_ZERO, 0},
    {"proposal_count", K_ZERO, 0},
    {"watch_bytes", K_ZERO, 0},
    {"outstanding_changes_removed", K_OPT, 0},
    {"throttled_ops", K_ZERO, 0},
    {"stale_requests_dropped", K_OPT, 0},
    {"large_requests_rejected", K_ZERO, 0},
    {"insecure_admin_count", K_ZERO, 0},
    {"connection_rejected", K_OPT, 0},
    {"cnxn_closed_without_zk_server_running", K_OPT, 0},
    {"sessionless_connections_expired", K_OPT, 0},
    {"looking_count", K_ZERO, 0},
    {"dead_watchers_queued", K_ZERO, 0},
    {"stale_requests", K_OPT, 0},
    {"connection_drop_count", K_ZERO, 0},
    {"learner_proposal_received_count", K_ZERO, 0},
    {"digest_mismatches_count", K_OPT, 0},
    {"dead_watchers_cleared", K_ZERO, 0},
    {"response_packet_cache_hits", K_OPT, 0},
    {"bytes_received_count", K_OPT, 0},
    {"add_dead_watcher_stall_time", K_ZERO, 0},
    {"request_throttle_wait_count", K_ZERO, 0},
    {"requests_not_forwarded_to_commit_processor", K_ZERO, 0},
    {"response_packet_cache_misses", K_OPT, 0},
    {"ensemble_auth_success", K_ZERO, 0},
    {"prep_processor_request_queued", K_OPT, 0},
    {"learner_commit_received_count", K_ZERO, 0},
    {"stale_replies", K_OPT, 0},
    {"connection_request_count", K_OPT, 0},
    {"response_bytes", K_OPT, 0},
    {"ensemble_auth_fail", K_ZERO, 0},
    {"diff_count", K_ZERO, 0},
    {"response_packet_get_children_cache_misses", K_OPT, 0},
    {"connection_revalidate_count", K_ZERO, 0},
    {"quit_leading_due_to_disloyal_voter", K_ZERO, 0},
    {"snap_count", K_ZERO, 0},
    {"unrecoverable_error_count", K_ZERO, 0},
    {"unsuccessful_handshake", K_ZERO, 0},
    {"commit_count", K_ZERO, 0},
    {"stale_sessions_expired", K_OPT, 0},
    {"response_packet_get_children_cache_hits", K_OPT, 0},
    {"sync_processor_request_queued", K_OPT, 0},
    {"outstanding_changes_queued", K_OPT, 0},
    {"request_commit_queued", K_ZERO, 0},
    {"ensemble_auth_skip", K_ZERO, 0},
    {"skip_learner_request_to_next_processor_count", K_ZERO, 0},
    {"tls_handshake_exceeded", K_ZERO, 0},
    {"revalidate_count", K_ZERO, 0},
    {"socket_closing_time", K_SUM_OPT, 0},
    {"proposal_process_time", K_SUM_OPT, 0},
    {"leader_unavailable_time", K_SUM_ZERO, 0},
    {"node_created_watch_count", K_SUM_OPT, 0},
    {"session_queues_drained", K_SUM_ZERO, 0},
    {"write_commit_proc_req_queued", K_SUM_ZERO, 0},
    {"connection_token_deficit", K_SUM_OPT, 0},
    {"read_commit_proc_req_queued", K_SUM_ZERO, 0},
    {"node_deleted_watch_count", K_SUM_OPT, 0},
    {"startup_txns_load_time", K_SUM_OPT, 0},
    {"sync_processor_queue_size", K_SUM_OPT, 0},
    {"follower_sync_time", K_SUM_ZERO, 0},
    {"prep_processor_queue_size", K_SUM_OPT, 0},
    {"fsynctime", K_SUM_OPT, 0},
    {"inflight_snap_count", K_SUM_ZERO, 0},
    {"reads_issued_from_session_queue", K_SUM_ZERO, 0},
    {"learner_request_processor_queue_size", K_SUM_ZERO, 0},
    {"snapshottime", K_SUM_OPT, 0},
    {"unavailable_time", K_SUM_ZERO, 0},
    {"startup_txns_loaded", K_SUM_OPT, 0},
    {"reads_after_write_in_session_queue", K_SUM_ZERO, 0},
    {"requests_in_session_queue", K_SUM_ZERO, 0},
    {"write_commit_proc_issued", K_SUM_ZERO, 0},
    {"prep_process_time", K_SUM_OPT, 0},
    {"pending_session_queue_size", K_SUM_ZERO, 0},
    {"time_waiting_empty_pool_in_commit_processor_read_ms", K_SUM_ZERO, 0},
    {"commit_process_time", K_SUM_ZERO, 0},
    {"dbinittime", K_SUM_OPT, 0},
    {"inflight_diff_count", K_SUM_ZERO, 0},
    {"netty_queued_buffer_capacity", K_SUM_ZERO, 0},
    {"election_time", K_SUM_ZERO, 0},
    {"commit_commit_proc_req_queued", K_SUM_ZERO, 0},
    {"sync_processor_batch_size", K_SUM_OPT, 0},
    {"node_children_watch_count", K_SUM_OPT, 0},
    {"write_batch_time_in_commit_processor", K_SUM_ZERO, 0},
    {"read_commit_proc_issued", K_SUM_ZERO, 0},
    {"concurrent_request_processing_in_commit_processor", K_SUM_ZERO, 0},
    {"observer_sync_time", K_SUM_ZERO, 0},
    {"node_changed_watch_count", K_SUM_OPT, 0},
    {"sync_process_time", K_SUM_OPT, 0},
    {"startup_snap_load_time", K_SUM_OPT, 0},
    {"prep_processor_queue_time_ms", K_PCT_OPT, 0},
    {"jvm_pause_time_ms", K_PCT_ZERO, 0},
    {"close_session_prep_time", K_PCT_OPT, 0},
    {"read_commitproc_time_ms", K_PCT_ZERO, 0},
    {"updatelatency", K_PCT_OPT, 0},
    {"local_write_committed_time_ms", K_PCT_ZERO, 0},
    {"request_throttle_queue_time_ms", K_PCT_OPT, 0},
    {"readlatency", K_PCT_OPT, 0},
    {"quorum_ack_latency", K_PCT_ZERO, 0},
    {"om_commit_process_time_ms", K_PCT_ZERO, 0},
    {"read_final_proc_time_ms", K_PCT_ZERO, 0},
    {"commit_propagation_latency", K_PCT_ZERO, 0},
    {"dead_watchers_cleaner_latency", K_PCT_ZERO, 0},
    {"write_final_proc_time_ms", K_PCT_ZERO, 0},
    {"proposal_ack_creation_latency", K_PCT_ZERO, 0},
    {"proposal_latency", K_PCT_ZERO, 0},
    {"om_proposal_process_time_ms", K_PCT_ZERO, 0},
    {"sync_processor_queue_and_flush_time_ms", K_PCT_OPT, 0},
    {"propagation_latency", K_PCT_OPT, 0},
    {"server_write_committed_time_ms", K_PCT_ZERO, 0},
    {"sync_processor_queue_time_ms", K_PCT_OPT, 0},
    {"sync_processor_queue_flush_time_ms", K_PCT_OPT, 0},
    {"write_commitproc_time_ms", K_PCT_ZERO, 0},
};
#define N_MNTR_KEYS (sizeof mntr_keys / sizeof mntr_keys[0])

static bool is_summary_kind(uint8_t kind)
{
    return kind >= K_SUM_ZERO;
}

static void mntr_int(buf_t *out, const char *name, int64_t value)
{
    buf_printf(out, "zk_%s\t%" PRId64 "\n", name, value);
}

static void mntr_metric(buf_t *out, const fourlw_metric_t *m)
{
    buf_printf(out, "zk_%s\t", m->name);
    switch (m->type) {
    case FOURLW_METRIC_DOUBLE:
        fourlw_append_java_double(out, m->value.d);
        break;
    case FOURLW_METRIC_STRING:
        buf_append_str(out, m->value.s ? m->value.s : "null");
        break;
    case FOURLW_METRIC_INT:
    default:
        buf_printf(out, "%" PRId64, m->value.i);
        break;
    }
    buf_append_str(out, "\n");
}

static void mntr_summary(buf_t *out, const fourlw_summary_metric_t *m)
{
    buf_printf(out, "zk_avg_%s\t", m->name);
    fourlw_append_avg(out, m->s.count, m->s.sum);
    buf_printf(out,
               "\nzk_min_%s\t%" PRId64 "\nzk_max_%s\t%" PRId64 "\nzk_cnt_%s\t%" PRId64
               "\nzk_sum_%s\t%" PRId64 "\n",
               m->name, sum_min(&m->s), m->name, sum_max(&m->s), m->name, m->s.count, m->name,
               m->s.sum);
    if (m->has_percentiles)
        buf_printf(out,
                   "zk_p50_%s\t%" PRId64 "\nzk_p95_%s\t%" PRId64 "\nzk_p99_%s\t%" PRId64
                   "\nzk_p999_%s\t%" PRId64 "\n",
                   m->name, m->p50, m->name, m->p95, m->name, m->p99, m->name, m->p999);
}

static const fourlw_metric_t *find_metric(const fourlw_view_t *v, const char *name)
{
    for (size_t i = 0; i < v->nmetrics; i++)
        if (v->metrics[i].name && strcmp(v->metrics[i].name, name) == 0)
            return &v->metrics[i];
    return NULL;
}

static const fourlw_summary_metric_t *find_summary(const fourlw_view_t *v, const char *name)
{
    for (size_t i = 0; i < v->nsummaries; i++)
        if (v->summaries[i].name && strcmp(v->summaries[i].name, name) == 0)
            return &v->summaries[i];
    return NULL;
}

/* Is `name` a table key of the same family (single or summary)? */
static bool in_table(const char *name, bool summary)
{
    for (size_t i = 0; i < N_MNTR_KEYS; i++)
        if (is_summary_kind(mntr_keys[i].kind) == summary && strcmp(mntr_keys[i].name, name) == 0)
            return true;
    return false;
}

static void mntr_core(buf_t *out, const mntr_key_t *k, const fourlw_view_t *v)
{
    switch (k->core) {
    case C_VERSION:
        buf_append_str(out, "zk_version\t");
        full_version(out, v);
        buf_append_str(out, "\n");
        break;
    case C_SERVER_STATE:
        buf_printf(out, "zk_server_state\t%s\n", fourlw_mode_name(v->mode));
        if (v->peer_state)
            buf_printf(out, "zk_peer_state\t%s\n", v->peer_state);
        break;
    case C_EPHEMERALS:
        mntr_int(out, k->name, v->ephemerals_count);
        break;
    case C_CONNECTIONS:
        mntr_int(out, k->name, v->num_connections);
        break;
    case C_AVG_LATENCY:
        buf_append_str(out, "zk_avg_latency\t");
        fourlw_append_avg(out, v->latency.count, v->latency.sum);
        buf_append_str(out, "\n");
        break;
    case C_OUTSTANDING:
        mntr_int(out, k->name, v->outstanding_requests);
        break;
    case C_ZNODES:
        mntr_int(out, k->name, v->node_count + 1);
        break;
    case C_GLOBAL_SESSIONS:
        mntr_int(out, k->name, v->global_sessions);
        break;
    case C_PACKETS_SENT:
        mntr_int(out, k->name, v->packets_sent);
        break;
    case C_PACKETS_RECEIVED:
        mntr_int(out, k->name, v->packets_received);
        break;
    case C_WATCHES:
        mntr_int(out, k->name, v->watch_count);
        break;
    case C_MIN_LATENCY:
        mntr_int(out, k->name, sum_min(&v->latency));
        break;
    case C_MAX_LATENCY:
        mntr_int(out, k->name, sum_max(&v->latency));
        break;
    case C_MAX_FD:
        if (v->open_fd_count >= 0)
            mntr_int(out, k->name, v->max_fd_count);
        break;
    case C_OPEN_FD:
        if (v->open_fd_count >= 0)
            mntr_int(out, k->name, v->open_fd_count);
        break;
    case C_DATA_SIZE:
        mntr_int(out, k->name, v->approximate_data_size);
        break;
    case C_UPTIME:
        mntr_int(out, k->name, v->uptime_ms);
        break;
    default:
        break;
    }
}

static void render_mntr(const fourlw_view_t *v, buf_t *out)
{
    for (size_t i = 0; i < N_MNTR_KEYS; i++) {
        const mntr_key_t *k = &mntr_keys[i];
        if (k->kind == K_CORE) {
            mntr_core(out, k, v);
            continue;
        }
        if (is_summary_kind(k->kind)) {
            const fourlw_summary_metric_t *sm = find_summary(v, k->name);
            if (sm != NULL) {
                mntr_summary(out, sm);
            } else if (k->kind == K_SUM_ZERO || k->kind == K_PCT_ZERO) {
                fourlw_summary_metric_t zero = {.name = k->name,
                                                .has_percentiles = k->kind == K_PCT_ZERO};
                mntr_summary(out, &zero);
            }
            continue;
        }
        const fourlw_metric_t *m = find_metric(v, k->name);
        if (m != NULL)
            mntr_metric(out, m);
        else if (k->kind == K_ZERO)
            mntr_int(out, k->name, 0);
        else if (k->kind == K_ZERO_DOUBLE)
            buf_printf(out, "zk_%s\t0.0\n", k->name);
    }
    for (size_t i = 0; i < v->nmetrics; i++)
        if (v->metrics[i].name && !in_table(v->metrics[i].name, false))
            mntr_metric(out, &v->metrics[i]);
    for (size_t i = 0; i < v->nsummaries; i++)
        if (v->summaries[i].name && !in_table(v->summaries[i].name, true))
            mntr_summary(out, &v->summaries[i]);
}

/* ---- envi --------------------------------------------------------------- */

/* System.getProperty("os.arch") spells some uname machines differently. */
static const char *java_arch(const char *machine)
{
    static const struct {
        const char *uname, *java;
    } map[] = {
        {"x86_64", "amd64"}, {"i386", "x86"},        {"i486", "x86"},   {"i586", "x86"},
        {"i686", "x86"},     {"ppc64le", "ppc64le"}, {"armv7l", "arm"}, {"armv6l", "arm"},
    };
    if (machine == NULL)
        return NA;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].uname, machine) == 0)
            return map[i].java;
    return machine;
}

static void env_line(buf_t *out, const char *key, const char *value)
{
    buf_printf(out, "%s=%s\n", key, str_or_na(value));
}

static void env_mb(buf_t *out, const char *key, int64_t mb)
{
    if (mb < 0)
        env_line(out, key, NULL);
    else
        buf_printf(out, "%s=%" PRId64 "MB\n", key, mb);
}

static void render_envi(const fourlw_view_t *v, buf_t *out)
{
    const fourlw_env_t *e = &v->env;
    buf_append_str(out, "Environment:\nzookeeper.version=");
    full_version(out, v);
    buf_append_str(out, "\n");
    env_line(out, "host.name", e->host_name);
    /* We are not a JVM: the java.* keys keep their place, with ZooKeeper's
     * marker for an absent property. */
    env_line(out, "java.version", NULL);
    env_line(out, "java.vendor", NULL);
    env_line(out, "java.home", NULL);
    env_line(out, "java.class.path", NULL);
    env_line(out, "java.library.path", NULL);
    env_line(out, "java.io.tmpdir", e->tmpdir);
    env_line(out, "java.compiler", NULL);
    env_line(out, "os.name", e->os_name);
    env_line(out, "os.arch", java_arch(e->os_machine));
    env_line(out, "os.version", e->os_version);
    env_line(out, "user.name", e->user_name);
    env_line(out, "user.home", e->user_home);
    env_line(out, "user.dir", e->user_dir);
    env_mb(out, "os.memory.free", e->mem_free_mb);
    env_mb(out, "os.memory.max", e->mem_max_mb);
    env_mb(out, "os.memory.total", e->mem_total_mb);
}

/* ---- watches ------------------------------------------------------------ */

static void render_watches(fourlw_cmd_t cmd, const fourlw_view_t *v, buf_t *out)
{
    if (cmd == FOURLW_WCHS) {
        /* the summary ends without a newline; the trailing println gives one */
        buf_printf(out,
                   "%" PRId64 " connections watching %" PRId64 " paths\nTotal watches:%" PRId64,
                   v->wch_connections, v->wch_paths, v->wch_total);
    } else if (cmd == FOURLW_WCHC) {
        for (size_t i = 0; i < v->nwatches_by_session; i++) {
            const fourlw_session_watches_t *w = &v->watches_by_session[i];
            buf_printf(out, "0x%" PRIx64 "\n", w->session_id);
            for (size_t j = 0; j < w->npaths; j++)
                buf_printf(out, "\t%s\n", w->paths[j]);
        }
    } else {
        for (size_t i = 0; i < v->nwatches_by_path; i++) {
            const fourlw_path_watches_t *w = &v->watches_by_path[i];
            buf_printf(out, "%s\n", w->path);
            for (size_t j = 0; j < w->nsessions; j++)
                buf_printf(out, "\t0x%" PRIx64 "\n", w->session_ids[j]);
        }
    }
    buf_append_str(out, "\n");
}

/* ---- dump --------------------------------------------------------------- */

/* java.util.Date.toString(): "EEE MMM dd HH:mm:ss zzz yyyy", local time. */
static void java_date(buf_t *out, int64_t ms)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    struct tm tm;
    if (localtime_r(&t, &tm) == NULL) {
        buf_printf(out, "%" PRId64, ms);
        return;
    }
    buf_printf(out, "%s %s %02d %02d:%02d:%02d %s %d", days[tm.tm_wday % 7], months[tm.tm_mon % 12],
               tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_zone ? tm.tm_zone : "GMT",
               tm.tm_year + 1900);
}

static void render_dump(const fourlw_view_t *v, buf_t *out)
{
    size_t nsessions = 0;
    for (size_t i = 0; i < v->nsession_buckets; i++)
        nsessions += v->session_buckets[i].n;
    buf_printf(out, "SessionTracker dump:\nSession Sets (%zu)/(%zu):\n", v->nsession_buckets,
               nsessions);
    for (size_t i = 0; i < v->nsession_buckets; i++) {
        const fourlw_session_bucket_t *b = &v->session_buckets[i];
        buf_printf(out, "%zu expire at ", b->n);
        java_date(out, b->expire_ms);
        buf_append_str(out, ":\n");
        for (size_t j = 0; j < b->n; j++)
            buf_printf(out, "\t0x%" PRIx64 "\n", b->session_ids[j]);
    }
    buf_printf(out, "ephemeral nodes dump:\nSessions with Ephemerals (%zu):\n", v->nephemerals);
    for (size_t i = 0; i < v->nephemerals; i++) {
        const fourlw_ephemerals_t *e = &v->ephemerals[i];
        buf_printf(out, "0x%" PRIx64 ":\n", e->session_id);
        for (size_t j = 0; j < e->npaths; j++)
            buf_printf(out, "\t%s\n", e->paths[j]);
    }
    buf_append_str(out, "Connections dump:\n");
    if (!v->has_conn_buckets)
        return;
    size_t nconns = 0;
    for (size_t i = 0; i < v->nconn_buckets; i++)
        nconns += v->conn_buckets[i].n;
    buf_printf(out, "Connections Sets (%zu)/(%zu):\n", v->nconn_buckets, nconns);
    for (size_t i = 0; i < v->nconn_buckets; i++) {
        const fourlw_conn_bucket_t *b = &v->conn_buckets[i];
        buf_printf(out, "%zu expire at ", b->n);
        java_date(out, b->expire_ms);
        buf_append_str(out, ":\n");
        for (size_t j = 0; j < b->n; j++)
            buf_printf(out, "\tip: %s sessionId: 0x%" PRIx64 "\n", str_or_na(b->conns[j].remote),
                       b->conns[j].session_id);
    }
}

/* ---- dispatch ----------------------------------------------------------- */

void fourlw_render(fourlw_cmd_t cmd, const fourlw_view_t *v, buf_t *out)
{
    /* Commands that answer whatever the server's state (§15.1). */
    switch (cmd) {
    case FOURLW_RUOK:
        buf_append_str(out, "imok");
        return;
    case FOURLW_ENVI:
        render_envi(v, out);
        return;
    case FOURLW_GTMK:
    case FOURLW_STMK:
        buf_printf(out, "%" PRId64, v->trace_mask);
        return;
    case FOURLW_ISRO:
        if (!v->serving)
            buf_append_str(out, "null");
        else
            buf_append_str(out, v->mode == FOURLW_MODE_READ_ONLY ? "ro" : "rw");
        return;
    case FOURLW_HASH:
        if (!v->serving) {
            buf_append_str(out, NOT_SERVING); /* no newline: ZooKeeper's print() */
            return;
        }
        for (size_t i = 0; i < v->ndigests; i++)
            buf_printf(out, "%" PRIx64 ": %" PRId64 "\n", (uint64_t)v->digests[i].zxid,
                       v->digests[i].digest);
        return;
    default:
        break;
    }
    if (!v->serving) {
        buf_append_str(out, NOT_SERVING "\n");
        return;
    }
    switch (cmd) {
    case FOURLW_SRVR:
        render_stat(v, false, out);
        break;
    case FOURLW_STAT:
        render_stat(v, true, out);
        break;
    case FOURLW_CONS:
        for (size_t i = 0; i < v->nconns; i++)
            conn_line(out, &v->conns[i], false);
        buf_append_str(out, "\n");
        break;
    case FOURLW_CRST:
        buf_append_str(out, "Connection stats reset.\n");
        break;
    case FOURLW_SRST:
        buf_append_str(out, "Server stats reset.\n");
        break;
    case FOURLW_CONF:
        if (v->conf_text)
            buf_append_str(out, v->conf_text);
        break;
    case FOURLW_DIRS:
        buf_printf(out, "datadir_size: %" PRId64 "\nlogdir_size: %" PRId64 "\n", v->datadir_size,
                   v->logdir_size);
        break;
    case FOURLW_WCHS:
    case FOURLW_WCHC:
    case FOURLW_WCHP:
        render_watches(cmd, v, out);
        break;
    case FOURLW_DUMP:
        render_dump(v, out);
        break;
    case FOURLW_MNTR:
        render_mntr(v, out);
        break;
    default:
        break;
    }
}
