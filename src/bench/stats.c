/* stats: measurement containers and their bookkeeping (see stats.h). */
#include "bench/stats.h"

#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/buf.h"

static const char *const kind_names[SK_N] = {
    [SK_GET_DATA] = "getData", [SK_EXISTS] = "exists",       [SK_CHILDREN] = "getChildren",
    [SK_SET_DATA] = "setData", [SK_CREATE] = "create",       [SK_DELETE] = "delete",
    [SK_MULTI] = "multi",      [SK_CONNECT] = "connect",     [SK_CLOSE] = "closeSession",
    [SK_CYCLE] = "session",    [SK_NOTIFY] = "notification", [SK_SETUP] = "setup",
};

const char *stat_kind_name(stat_kind_t k)
{
    return k < SK_N ? kind_names[k] : "?";
}

stats_t *stats_new(uint32_t primary_mask)
{
    stats_t *s = xcalloc(1, sizeof(*s));
    s->primary_mask = primary_mask;
    s->subops_per_op = 1;
    return s;
}

void stats_free(stats_t *s)
{
    free(s);
}

void stats_reset(stats_t *s)
{
    uint32_t mask = s->primary_mask;
    uint64_t sub = s->subops_per_op;
    memset(s, 0, sizeof(*s));
    s->primary_mask = mask;
    s->subops_per_op = sub;
}

void stats_error(stats_t *s, stat_kind_t kind, int32_t err)
{
    s->errors++;
    if (kind < SK_N)
        s->kind_errors[kind]++;
    for (int i = 0; i < STATS_MAX_ERR_CODES; i++) {
        if (s->err_count[i] && s->err_code[i] == err) {
            s->err_count[i]++;
            return;
        }
        if (!s->err_count[i]) {
            s->err_code[i] = err;
            s->err_count[i] = 1;
            return;
        }
    }
    s->err_other++;
}

void stats_record(stats_t *s, stat_kind_t kind, int64_t latency_ns, int32_t err)
{
    if (kind >= SK_SETUP)
        return;
    if (err != 0) {
        stats_error(s, kind, err);
        return;
    }
    hist_record(&s->kinds[kind], latency_ns);
    if (s->primary_mask & SK_BIT(kind)) {
        hist_record(&s->ops, latency_ns);
        hist_record(&s->interval, latency_ns);
    }
}

uint64_t stats_ops(const stats_t *s)
{
    return s->ops.count;
}

double stats_proc_cpu_s(int pid)
{
    char path[64], text[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    /* Fields after the command name (which may hold spaces): state is the
     * 3rd field, utime the 14th and stime the 15th. */
    char *p = strrchr(text, ')');
    if (!p)
        return -1;
    unsigned long long utime = 0, stime = 0;
    if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) !=
        2)
        return -1;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

void stats_cpu_now(double *user_s, double *sys_s)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    *user_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
    *sys_s = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}
