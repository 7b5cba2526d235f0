/* report: what corral-bench prints — the per-second progress line, the
 * human summary and the final one-line JSON record of a run. */
#ifndef CORRAL_BENCH_REPORT_H
#define CORRAL_BENCH_REPORT_H

#include <stdio.h>

#include "bench/engine.h"
#include "bench/workload.h"

typedef struct run_info {
    bool measured; /* a measured phase ran (not populate/cleanup) */
    bool teardown_ok;
    bool stub;
    double teardown_s;
} run_info_t;

void report_progress(eng_t *e, double elapsed_s);
void report_summary(FILE *out, const bench_opts_t *o, const wl_ctx_t *w, const stats_t *s,
                    const run_info_t *ri);
void report_json(FILE *out, const bench_opts_t *o, const wl_ctx_t *w, const stats_t *s,
                 const run_info_t *ri);
const char *report_error_name(int32_t code);

#endif
