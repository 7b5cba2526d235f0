/* prom: mntr's entries regrouped into Prometheus metric families (see
 * prom.h for the mapping). */
#include "admin/prom.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "admin/mntr.h"

/* ZooKeeperServer.registerMetrics(): the keys ZooKeeper exports as gauges.
 * Every other single mntr key is a counter. */
static const char *const GAUGES[] = {
    "avg_latency",
    "max_latency",
    "min_latency",
    "packets_received",
    "packets_sent",
    "num_alive_connections",
    "outstanding_requests",
    "uptime",
    "znode_count",
    "watch_count",
    "ephemerals_count",
    "approximate_data_size",
    "global_sessions",
    "local_sessions",
    "open_file_descriptor_count",
    "max_file_descriptor_count",
    "connection_drop_probability",
    "last_client_response_size",
    "max_client_response_size",
    "min_client_response_size",
    "outstanding_tls_handshake",
    "auth_failed_count",
    "non_mtls_remote_conn_count",
    "non_mtls_local_conn_count",
    /* quorum members and leaders (Leader/QuorumPeer registerGauge) */
    "quorum_size",
    "learners",
    "synced_followers",
    "synced_non_voting_followers",
    "synced_observers",
    "pending_syncs",
    "leader_uptime",
    "last_proposal_size",
    "min_proposal_size",
    "max_proposal_size",
    NULL,
};

/* ServerMetrics' DetailLevel.ADVANCED summaries (quantiles 0.5, 0.9, 0.99). */
static const char *const ADVANCED[] = {
    "close_session_prep_time",
    "commit_propagation_latency",
    "dead_watchers_cleaner_latency",
    "jvm_pause_time_ms",
    "local_write_committed_time_ms",
    "om_commit_process_time_ms",
    "om_proposal_process_time_ms",
    "prep_processor_queue_time_ms",
    "propagation_latency",
    "proposal_ack_creation_latency",
    "proposal_latency",
    "quorum_ack_latency",
    "read_commitproc_time_ms",
    "read_final_proc_time_ms",
    "readlatency",
    "request_throttle_queue_time_ms",
    "server_write_committed_time_ms",
    "sync_processor_queue_and_flush_time_ms",
    "sync_processor_queue_flush_time_ms",
    "sync_processor_queue_time_ms",
    "updatelatency",
    "write_commitproc_time_ms",
    "write_final_proc_time_ms",
    "learner_handler_qp_time_ms",
    "ack_latency",
    NULL,
};

/* Families with a "key" label: mntr prints them as "<key>_<family>". */
static const char *const LABELLED[] = {
    "write_per_namespace",
    "read_per_namespace",
    "learner_handler_qp_size",
    "learner_handler_qp_time_ms",
    "quota_count_limit_per_namespace",
    "quota_bytes_limit_per_namespace",
    "quota_count_usage_per_namespace",
    "quota_bytes_usage_per_namespace",
    "quota_exceeded_error_per_namespace",
    NULL,
};

static bool in_list(const char *const *list, const char *name)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(list[i], name) == 0)
            return true;
    return false;
}

typedef enum fam_type { FAM_GAUGE, FAM_COUNTER, FAM_SUMMARY } fam_type_t;

/* One sample set: a single value, or one summary's figures. */
typedef struct sample {
    char *key; /* "key" label value, NULL for none */
    double value;
    double count, sum, p50, p90, p99; /* summaries; NaN = unknown */
} sample_t;

typedef struct family {
    char *name;
    fam_type_t type;
    bool advanced;
    sample_t *s;
    size_t n;
} family_t;

typedef struct fams {
    family_t *v;
    size_t n, cap;
} fams_t;

/* Split "<key>_<family>" for the labelled families. */
static const char *labelled_family(const char *name, char **key)
{
    size_t n = strlen(name);
    for (size_t i = 0; LABELLED[i]; i++) {
        size_t f = strlen(LABELLED[i]);
        if (n > f + 1 && name[n - f - 1] == '_' && strcmp(name + n - f, LABELLED[i]) == 0) {
            *key = xstrndup(name, n - f - 1);
            return LABELLED[i];
        }
    }
    *key = NULL;
    return name;
}

static family_t *family_get(fams_t *fs, const char *name, fam_type_t type)
{
    for (size_t i = 0; i < fs->n; i++)
        if (strcmp(fs->v[i].name, name) == 0)
            return &fs->v[i];
    if (fs->n == fs->cap) {
        fs->cap = fs->cap ? fs->cap * 2 : 128;
        fs->v = xrealloc(fs->v, fs->cap * sizeof *fs->v);
    }
    family_t *f = &fs->v[fs->n++];
    *f = (family_t){xstrndup(name, strlen(name)), type, in_list(ADVANCED, name), NULL, 0};
    return f;
}

static sample_t *sample_get(family_t *f, char *key)
{
    for (size_t i = 0; i < f->n; i++)
        if ((f->s[i].key == NULL && key == NULL) ||
            (f->s[i].key && key && strcmp(f->s[i].key, key) == 0)) {
            free(key);
            return &f->s[i];
        }
    f->s = xrealloc(f->s, (f->n + 1) * sizeof *f->s);
    sample_t *s = &f->s[f->n++];
    *s = (sample_t){key, 0, 0, 0, NAN, NAN, NAN};
    return s;
}

static const char *const SUMMARY_PARTS[] = {"avg_", "min_", "max_", "cnt_",  "sum_",
                                            "p50_", "p95_", "p99_", "p999_", NULL};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The summary groups: every <base> with a "cnt_<base>" entry, sorted. */
typedef struct bases {
    const char **v;
    size_t n;
} bases_t;

static void find_bases(const mntr_list_t *l, bases_t *b)
{
    b->v = xmalloc((l->n ? l->n : 1) * sizeof *b->v);
    b->n = 0;
    for (size_t i = 0; i < l->n; i++)
        if (strncmp(l->v[i].name, "cnt_", 4) == 0)
            b->v[b->n++] = l->v[i].name + 4;
    qsort(b->v, b->n, sizeof *b->v, cmp_str);
}

/* Is `name` part of a summary group? Returns its base and sets *part. */
static const char *summary_base(const bases_t *b, const char *name, const char **part)
{
    for (size_t i = 0; SUMMARY_PARTS[i]; i++) {
        size_t pl = strlen(SUMMARY_PARTS[i]);
        const char *rest = name + pl;
        if (strncmp(name, SUMMARY_PARTS[i], pl) == 0 &&
            bsearch(&rest, b->v, b->n, sizeof *b->v, cmp_str) != NULL) {
            *part = SUMMARY_PARTS[i];
            return rest;
        }
    }
    return NULL;
}

static void collect(const mntr_list_t *l, fams_t *fs)
{
    bases_t bases;
    find_bases(l, &bases);
    for (size_t i = 0; i < l->n; i++) {
        const mntr_entry_t *e = &l->v[i];
        if (e->kind == MNTR_STRING)
            continue;
        double val = strtod(e->value, NULL);
        const char *part = NULL;
        const char *base = summary_base(&bases, e->name, &part);
        char *key;
        if (base != NULL) {
            family_t *f = family_get(fs, labelled_family(base, &key), FAM_SUMMARY);
            sample_t *s = sample_get(f, key);
            if (strcmp(part, "cnt_") == 0)
                s->count = val;
            else if (strcmp(part, "sum_") == 0)
                s->sum = val;
            else if (strcmp(part, "p50_") == 0)
                s->p50 = val;
            else if (strcmp(part, "p99_") == 0)
                s->p99 = val;
            continue;
        }
        const char *fname = labelled_family(e->name, &key);
        fam_type_t t =
            in_list(GAUGES, fname) || strncmp(fname, "quota_", 6) == 0 ? FAM_GAUGE : FAM_COUNTER;
        if (strcmp(fname, "quota_exceeded_error_per_namespace") == 0)
            t = FAM_COUNTER;
        sample_get(family_get(fs, fname, t), key)->value = val;
    }
    free(bases.v);
}

static void put_double(buf_t *out, double d)
{
    if (isnan(d))
        buf_append_str(out, "NaN");
    else if (isinf(d))
        buf_append_str(out, d > 0 ? "+Inf" : "-Inf");
    else
        fourlw_append_java_double(out, d);
}

/* name{key="k",quantile="q",} value -- simpleclient's trailing comma. */
static void put_sample(buf_t *out, const char *name, const char *suffix, const char *key,
                       const char *quantile, double v)
{
    buf_printf(out, "%s%s", name, suffix);
    if (key || quantile) {
        buf_append_str(out, "{");
        if (key) {
            buf_append_str(out, "key=\"");
            for (const char *p = key; *p; p++) {
                if (*p == '\\' || *p == '"')
                    buf_append(out, "\\", 1);
                if (*p == '\n')
                    buf_append_str(out, "\\n");
                else
                    buf_append(out, p, 1);
            }
            buf_append_str(out, "\",");
        }
        if (quantile)
            buf_printf(out, "quantile=\"%s\",", quantile);
        buf_append_str(out, "}");
    }
    buf_append_str(out, " ");
    put_double(out, v);
    buf_append_str(out, "\n");
}

static void put_family(buf_t *out, const family_t *f)
{
    static const char *const types[] = {"gauge", "counter", "summary"};
    buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->name, f->name, types[f->type]);
    for (size_t i = 0; i < f->n; i++) {
        const sample_t *s = &f->s[i];
        if (f->type != FAM_SUMMARY) {
            put_sample(out, f->name, "", s->key, NULL, s->value);
            continue;
        }
        bool none = s->count <= 0; /* an empty summary's quantiles are NaN */
        put_sample(out, f->name, "", s->key, "0.5", none ? NAN : s->p50);
        if (f->advanced) {
            put_sample(out, f->name, "", s->key, "0.9", none ? NAN : s->p90);
            put_sample(out, f->name, "", s->key, "0.99", none ? NAN : s->p99);
        }
        put_sample(out, f->name, "_count", s->key, NULL, s->count);
        put_sample(out, f->name, "_sum", s->key, NULL, s->sum);
    }
}

static void put_process(buf_t *out, const prom_process_t *p)
{
    static const struct {
        const char *name, *type, *help;
    } M[] = {
        {"process_cpu_seconds_total", "counter",
         "Total user and system CPU time spent in seconds."},
        {"process_start_time_seconds", "gauge",
         "Start time of the process since unix epoch in seconds."},
        {"process_open_fds", "gauge", "Number of open file descriptors."},
        {"process_max_fds", "gauge", "Maximum number of open file descriptors."},
        {"process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes."},
        {"process_resident_memory_bytes", "gauge", "Resident memory size in bytes."},
    };
    double v[] = {p->cpu_seconds,     p->start_time_seconds,    (double)p->open_fds,
                  (double)p->max_fds, (double)p->virtual_bytes, (double)p->resident_bytes};
    for (size_t i = 0; i < sizeof M / sizeof M[0]; i++) {
        if (v[i] < 0)
            continue;
        buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", M[i].name, M[i].help, M[i].name, M[i].type);
        put_sample(out, M[i].name, "", NULL, NULL, v[i]);
    }
}

void prom_render(const fourlw_view_t *v, const prom_process_t *proc, buf_t *out)
{
    mntr_list_t l;
    mntr_collect(v, &l);
    fams_t fs = {0};
    collect(&l, &fs);
    for (size_t i = 0; i < fs.n; i++) {
        put_family(out, &fs.v[i]);
        for (size_t k = 0; k < fs.v[i].n; k++)
            free(fs.v[i].s[k].key);
        free(fs.v[i].s);
        free(fs.v[i].name);
    }
    free(fs.v);
    mntr_list_free(&l);
    if (proc)
        put_process(out, proc);
}
