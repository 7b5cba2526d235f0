/* run: one benchmark run from start to end — connect, set up, measure,
 * tear down, close the sessions, print the summary and the JSON line. */
#include "bench/run.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench/report.h"
#include "bench/workload.h"

static bool measurable(workload_kind_t k)
{
    return k != WL_POPULATE && k != WL_CLEANUP;
}

int bench_run(const bench_opts_t *o, bool stub)
{
    wl_ctx_t w;
    wl_ctx_init(&w, o, o->workload);
    stats_t *s = stats_new(wl_primary_mask(o->workload));
    eng_t e;
    size_t max_req = req_max_bytes(strlen(o->root), (size_t)o->value_bytes,
                                   o->workload == WL_MULTI ? o->multi_ops : 1);
    run_info_t ri = {.stub = stub, .teardown_ok = true};
    int rc = 0;
    if (eng_init(&e, o, s, wl_sessions_needed(o), max_req) != 0) {
        fprintf(stderr, "corral-bench: %s\n", e.fatal_msg);
        rc = 1;
        goto out;
    }
    bool progress = !o->quiet && (o->progress == 1 || (o->progress == -1 && isatty(1)));
    if (progress)
        e.progress = report_progress;
    if (eng_connect_all(&e, 30) != 0) {
        fprintf(stderr, "corral-bench: %s\n", e.fatal_msg);
        rc = 1;
        goto out_eng;
    }
    if (o->workload != WL_CLEANUP && wl_setup(&e, &w, o->workload) != 0) {
        if (e.fatal)
            fprintf(stderr, "corral-bench: %s\n", e.fatal_msg);
        fprintf(stderr, "corral-bench: setup failed\n");
        rc = 1;
        goto out_teardown;
    }
    if (measurable(o->workload)) {
        eng_phase_t ph = wl_phase(&w);
        ri.measured = true;
        if (eng_measure(&e, &ph) != 0) {
            fprintf(stderr, "corral-bench: %s\n", e.fatal_msg);
            rc = 1;
        }
    }
out_teardown:
    if (!o->keep && !e.fatal) {
        int64_t t0 = eng_now_ns();
        ri.teardown_ok = wl_teardown(&e, &w) == 0;
        ri.teardown_s = (double)(eng_now_ns() - t0) / 1e9;
        if (o->workload == WL_CLEANUP)
            w.setup_s = ri.teardown_s;
        if (!ri.teardown_ok) {
            if (e.fatal)
                fprintf(stderr, "corral-bench: %s\n", e.fatal_msg);
            fprintf(stderr, "corral-bench: teardown failed: %s may be left behind\n", o->root);
            if (!rc)
                rc = 1;
        }
    }
    if (!e.fatal)
        wl_close_all(&e);
    if (rc == 0 || ri.measured) {
        if (!o->quiet)
            report_summary(stdout, o, &w, s, &ri);
        report_json(stdout, o, &w, s, &ri);
    }
out_eng:
    eng_free(&e);
out:
    stats_free(s);
    wl_ctx_free(&w);
    return rc;
}
