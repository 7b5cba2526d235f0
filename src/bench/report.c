/* report: progress lines, the summary and the JSON record (see report.h). */
#include "bench/report.h"

#include <string.h>

#include "proto/zk.h"

const char *report_error_name(int32_t code)
{
    switch (code) {
    case -9001:
        return "BADXID";
    case -9002:
        return "BADFRAME";
    default:
        return zk_error_name(code);
    }
}

static double us(int64_t ns)
{
    return (double)ns / 1000.0;
}

static double window_s(const stats_t *s)
{
    return s->end_ns > s->start_ns ? (double)(s->end_ns - s->start_ns) / 1e9 : 0.0;
}

static double client_cpu_s(const stats_t *s)
{
    return (s->cpu_user_s - s->cpu_start_user_s) + (s->cpu_sys_s - s->cpu_start_sys_s);
}

void report_progress(eng_t *e, double elapsed_s)
{
    const stats_t *s = e->stats;
    double u, sy;
    stats_cpu_now(&u, &sy);
    double cpu = (u - s->cpu_start_user_s) + (sy - s->cpu_start_sys_s);
    printf("[%5.0fs] %10.0f ops/s  p50 %8.1f us  p99 %8.1f us  max %9.1f us  errors %llu  "
           "cpu %3.0f%%\n",
           elapsed_s, (double)s->interval.count, us(hist_percentile(&s->interval, 50)),
           us(hist_percentile(&s->interval, 99)), us(s->interval.max_ns),
           (unsigned long long)s->errors, elapsed_s > 0 ? 100.0 * cpu / elapsed_s : 0.0);
    fflush(stdout);
}

static void servers_str(const bench_opts_t *o, bool stub, char *buf, size_t n)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; i < o->nservers && at < n; i++)
        at += (size_t)snprintf(buf + at, n - at, "%s%s:%u", i ? "," : "", o->servers[i].host,
                               o->servers[i].port);
    if (stub && at < n)
        snprintf(buf + at, n - at, " (stub)");
}

static void describe(FILE *out, const bench_opts_t *o, workload_kind_t k)
{
    switch (k) {
    case WL_READ:
    case WL_EXISTS:
    case WL_WRITE:
        fprintf(out, "%d znodes x %d B", o->keys, o->value_bytes);
        break;
    case WL_MIXED:
        fprintf(out, "%d znodes x %d B, %d%% reads", o->keys, o->value_bytes, o->read_pct);
        break;
    case WL_MULTI:
        fprintf(out, "%d setData per multi on %d znodes x %d B", o->multi_ops, o->keys,
                o->value_bytes);
        break;
    case WL_CHILDREN:
        fprintf(out, "%d children", o->children);
        break;
    case WL_CREATE:
        fprintf(out, "%s create + delete, %d B", o->create_sequential ? "sequential" : "plain",
                o->value_bytes);
        break;
    case WL_SESSIONS:
        fprintf(out, "connect + ephemeral + close");
        break;
    case WL_WATCH:
        fprintf(out, "%d watchers, 1 writer", o->watchers);
        break;
    case WL_POPULATE:
        fprintf(out, "%d znodes x %d B under %s", o->keys, o->value_bytes, o->root);
        break;
    default:
        fprintf(out, "%s", o->root);
        break;
    }
}

void report_summary(FILE *out, const bench_opts_t *o, const wl_ctx_t *w, const stats_t *s,
                    const run_info_t *ri)
{
    char servers[512];
    servers_str(o, ri->stub, servers, sizeof(servers));
    fprintf(out, "corral-bench %s: ", workload_name(o->workload));
    describe(out, o, o->workload);
    if (o->workload == WL_SESSIONS)
        fprintf(out, "; %d sessions at a time; %s\n", o->sessions, servers);
    else if (o->workload == WL_WATCH)
        fprintf(out, " with %d in flight; %s\n", o->depth, servers);
    else
        fprintf(out, "; %d sessions x %d in flight; %s\n", o->sessions, o->depth, servers);
    fprintf(out, "  setup         %.2f s, %llu requests\n", w->setup_s,
            (unsigned long long)w->setup_requests);
    if (!ri->measured)
        return;
    double secs = window_s(s);
    uint64_t ops = stats_ops(s);
    fprintf(out, "  measured      %.2f s%s\n", secs, s->drained ? "" : " (did not drain)");
    fprintf(out, "  ops           %llu = %.1f ops/s", (unsigned long long)ops,
            secs > 0 ? (double)ops / secs : 0.0);
    if (o->workload == WL_MULTI)
        fprintf(out, " (%.1f sub-ops/s)", secs > 0 ? (double)ops * o->multi_ops / secs : 0.0);
    fprintf(out, "\n  errors        %llu", (unsigned long long)s->errors);
    for (int i = 0; i < STATS_MAX_ERR_CODES && s->err_count[i]; i++)
        fprintf(out, "%s%s=%llu", i ? ", " : " (", report_error_name(s->err_code[i]),
                (unsigned long long)s->err_count[i]);
    fprintf(out, "%s\n", s->err_count[0] ? ")" : "");
    fprintf(out, "  latency (us)  p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n",
            us(hist_percentile(&s->ops, 50)), us(hist_percentile(&s->ops, 90)),
            us(hist_percentile(&s->ops, 99)), us(hist_percentile(&s->ops, 99.9)),
            us(s->ops.max_ns));
    for (int k = 0; k < SK_SETUP; k++) {
        const hist_t *h = &s->kinds[k];
        if (!h->count && !s->kind_errors[k])
            continue;
        fprintf(out, "  %-13s %llu, p50 %.1f  p99 %.1f  max %.1f us, errors %llu\n",
                stat_kind_name((stat_kind_t)k), (unsigned long long)h->count,
                us(hist_percentile(h, 50)), us(hist_percentile(h, 99)), us(h->max_ns),
                (unsigned long long)s->kind_errors[k]);
    }
    if (o->workload == WL_WATCH && w->notify_untimed)
        fprintf(out, "  untimed notifications %llu\n", (unsigned long long)w->notify_untimed);
    double cpu = client_cpu_s(s);
    fprintf(out, "  client CPU    %.2f s = %.0f%% of one core, %.2f us/op%s\n", cpu,
            secs > 0 ? 100.0 * cpu / secs : 0.0, ops ? cpu * 1e6 / (double)ops : 0.0,
            o->cpu >= 0 ? " (pinned)" : "");
    if (o->server_pid && s->server_cpu_start_s >= 0 && s->server_cpu_end_s >= 0) {
        double scpu = s->server_cpu_end_s - s->server_cpu_start_s;
        fprintf(out, "  server CPU    %.2f s = %.0f%% of one core, %.2f us/op (pid %d)\n", scpu,
                secs > 0 ? 100.0 * scpu / secs : 0.0, ops ? scpu * 1e6 / (double)ops : 0.0,
                o->server_pid);
    }
    if (!ri->teardown_ok && !o->keep)
        fprintf(out, "  teardown      FAILED: %s may be left behind\n", o->root);
}

static void json_hist(FILE *out, const hist_t *h)
{
    fprintf(out,
            "{\"count\":%llu,\"min\":%.1f,\"mean\":%.1f,\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,"
            "\"p999\":%.1f,\"max\":%.1f}",
            (unsigned long long)h->count, us(h->min_ns), hist_mean(h) / 1000.0,
            us(hist_percentile(h, 50)), us(hist_percentile(h, 90)), us(hist_percentile(h, 99)),
            us(hist_percentile(h, 99.9)), us(h->max_ns));
}

void report_json(FILE *out, const bench_opts_t *o, const wl_ctx_t *w, const stats_t *s,
                 const run_info_t *ri)
{
    char servers[512];
    servers_str(o, false, servers, sizeof(servers));
    double secs = window_s(s);
    uint64_t ops = ri->measured                ? stats_ops(s)
                   : o->workload == WL_CLEANUP ? w->teardown_requests
                                               : w->setup_requests;
    if (!ri->measured)
        secs = w->setup_s;
    double cpu = ri->measured ? client_cpu_s(s) : 0.0;
    double server_cpu = -1;
    if (ri->measured && s->server_cpu_start_s >= 0 && s->server_cpu_end_s >= 0)
        server_cpu = s->server_cpu_end_s - s->server_cpu_start_s;
    fprintf(out,
            "{\"tool\":\"corral-bench\",\"workload\":\"%s\",\"label\":\"%s\",\"servers\":\"%s\","
            "\"stub\":%s,\"sessions\":%d,\"depth\":%d,\"keys\":%d,\"value_bytes\":%d,"
            "\"children\":%d,\"read_pct\":%d,\"multi_ops\":%d,\"create_mode\":\"%s\","
            "\"watchers\":%d,\"warmup_s\":%.3f,",
            workload_name(o->workload), o->label, servers, ri->stub ? "true" : "false", o->sessions,
            o->depth, o->keys, o->value_bytes, o->children, o->read_pct, o->multi_ops,
            o->create_sequential ? "seq" : "plain", o->watchers, o->warmup_s);
    fprintf(out, "\"duration_s\":%.3f,\"ops\":%llu,\"ops_per_s\":%.1f,", secs,
            (unsigned long long)ops, secs > 0 ? (double)ops / secs : 0.0);
    if (o->workload == WL_MULTI)
        fprintf(out, "\"subops_per_s\":%.1f,", secs > 0 ? (double)ops * o->multi_ops / secs : 0.0);
    fprintf(out, "\"errors\":%llu,\"errors_by_code\":{", (unsigned long long)s->errors);
    for (int i = 0; i < STATS_MAX_ERR_CODES && s->err_count[i]; i++)
        fprintf(out, "%s\"%s\":%llu", i ? "," : "", report_error_name(s->err_code[i]),
                (unsigned long long)s->err_count[i]);
    fprintf(out, "},\"latency_us\":");
    json_hist(out, &s->ops);
    fprintf(out, ",\"kinds\":{");
    bool first = true;
    for (int k = 0; k < SK_SETUP; k++) {
        if (!s->kinds[k].count && !s->kind_errors[k])
            continue;
        fprintf(out, "%s\"%s\":", first ? "" : ",", stat_kind_name((stat_kind_t)k));
        json_hist(out, &s->kinds[k]);
        first = false;
    }
    fprintf(out,
            "},\"client_cpu_s\":%.3f,\"client_cpu_pct\":%.1f,\"client_cpu_us_per_op\":%.3f,"
            "\"cpu_pinned\":%d,\"drained\":%s,\"setup_s\":%.3f,\"setup_requests\":%llu,"
            "\"teardown_s\":%.3f,\"teardown_requests\":%llu,"
            "\"teardown_ok\":%s,\"notify_untimed\":%llu,\"server_cpu_s\":%.3f,"
            "\"server_cpu_us_per_op\":%.3f}\n",
            cpu, secs > 0 ? 100.0 * cpu / secs : 0.0, ops ? cpu * 1e6 / (double)ops : 0.0, o->cpu,
            (s->drained || !ri->measured) ? "true" : "false", w->setup_s,
            (unsigned long long)w->setup_requests, ri->teardown_s,
            (unsigned long long)w->teardown_requests, ri->teardown_ok ? "true" : "false",
            (unsigned long long)w->notify_untimed, server_cpu,
            ops && server_cpu >= 0 ? server_cpu * 1e6 / (double)ops : -1.0);
    fflush(out);
}
