/* stats: what a run measured — one latency histogram per request kind, one
 * for the workload's primary operations, a per-second interval histogram
 * for the progress line, error counts by ZooKeeper error code, and the
 * wall-clock and CPU time of the measured window. */
#ifndef CORRAL_BENCH_STATS_H
#define CORRAL_BENCH_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "bench/hist.h"

typedef enum stat_kind {
    SK_GET_DATA,
    SK_EXISTS,
    SK_CHILDREN,
    SK_SET_DATA,
    SK_CREATE,
    SK_DELETE,
    SK_MULTI,
    SK_CONNECT, /* TCP connect + handshake */
    SK_CLOSE,   /* closeSession */
    SK_CYCLE,   /* sessions: connect, create ephemeral, close */
    SK_NOTIFY,  /* watch: setData sent -> notification read */
    SK_SETUP,   /* setup/teardown traffic: never recorded */
    SK_N,
} stat_kind_t;

#define SK_BIT(k) (1u << (k))
#define STATS_MAX_ERR_CODES 32

typedef struct stats {
    uint32_t primary_mask; /* kinds that count as the workload's ops */
    hist_t ops;            /* latency of primary ops */
    hist_t interval;       /* primary ops since the last progress line */
    hist_t kinds[SK_N];
    uint64_t kind_errors[SK_N];
    uint64_t errors;
    int32_t err_code[STATS_MAX_ERR_CODES];
    uint64_t err_count[STATS_MAX_ERR_CODES];
    uint64_t err_other;     /* codes beyond the table */
    uint64_t subops_per_op; /* multi: ops inside each multi */
    /* the measured window */
    int64_t start_ns, end_ns;
    double cpu_user_s, cpu_sys_s;
    double cpu_start_user_s, cpu_start_sys_s;
    double server_cpu_start_s, server_cpu_end_s; /* --server-pid; -1 unknown */
    bool drained;
} stats_t;

stats_t *stats_new(uint32_t primary_mask);
void stats_free(stats_t *s);
/* Forget everything measured (start of the measured window). */
void stats_reset(stats_t *s);
/* One completed request: latency recorded when err == 0, else counted as an
 * error of that code. */
void stats_record(stats_t *s, stat_kind_t kind, int64_t latency_ns, int32_t err);
void stats_error(stats_t *s, stat_kind_t kind, int32_t err);
uint64_t stats_ops(const stats_t *s);
const char *stat_kind_name(stat_kind_t k);
/* CPU seconds used by this process so far. */
void stats_cpu_now(double *user_s, double *sys_s);
/* utime + stime of another process (/proc/PID/stat), or -1. */
double stats_proc_cpu_s(int pid);

#endif
