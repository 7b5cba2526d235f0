/* procstat: /proc/self/stat and /proc/stat, read the way the Prometheus
 * client's process collector reads them. */
#include "admin/procstat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* btime: the boot time in seconds since the epoch. */
static double boot_time_seconds(void)
{
    FILE *f = fopen("/proc/stat", "r");
    if (f == NULL)
        return -1;
    char line[256];
    double bt = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "btime ", 6) == 0) {
            bt = strtod(line + 6, NULL);
            break;
        }
    fclose(f);
    return bt;
}

void procstat_read(prom_process_t *out)
{
    *out = (prom_process_t){-1, -1, -1, -1, -1, -1};
    FILE *f = fopen("/proc/self/stat", "r");
    if (f == NULL)
        return;
    char buf[1024];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* Fields after "(comm)", which may hold spaces: state is field 3. */
    char *p = strrchr(buf, ')');
    if (p == NULL)
        return;
    unsigned long utime = 0, stime = 0, vsize = 0;
    unsigned long long starttime = 0;
    long rss = 0;
    /* 3 state ... 14 utime 15 stime ... 22 starttime 23 vsize 24 rss */
    int got = sscanf(p + 2,
                     "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %*d "
                     "%*d %llu %lu %ld",
                     &utime, &stime, &starttime, &vsize, &rss);
    if (got != 5)
        return;
    double hz = (double)sysconf(_SC_CLK_TCK);
    out->cpu_seconds = (double)(utime + stime) / hz;
    double bt = boot_time_seconds();
    if (bt >= 0)
        out->start_time_seconds = bt + (double)starttime / hz;
    out->virtual_bytes = (int64_t)vsize;
    out->resident_bytes = (int64_t)rss * (int64_t)sysconf(_SC_PAGESIZE);
}
