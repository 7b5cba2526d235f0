/* prom: ZooKeeper's metrics in the Prometheus text exposition format
 * (version 0.0.4), as ZooKeeper 3.8's PrometheusMetricsProvider (Prometheus
 * simpleclient) writes them, so dashboards built for ZooKeeper work:
 *
 *   # HELP znode_count znode_count
 *   # TYPE znode_count gauge
 *   znode_count 5.0
 *   # TYPE readlatency summary
 *   readlatency{quantile="0.5",} NaN
 *   readlatency_count 12.0
 *   readlatency_sum 3.0
 *
 * The metric set is mntr's (see mntr.h), so /metrics, mntr and the JSON
 * "monitor" agree: each single mntr key is a gauge (the ones ZooKeeper
 * registers as gauges) or a counter (the rest); each avg/min/max/cnt/sum
 * group is a summary with quantile 0.5 (ZooKeeper's BASIC level) or 0.5,
 * 0.9, 0.99 (ADVANCED), a quantile being NaN when the view has no such
 * percentile. Per-namespace and per-learner sets become one family with a
 * "key" label. mntr's string keys (version, server_state) are not exported,
 * as in ZooKeeper. Instead of the JVM collectors, the standard process_*
 * metrics are exported.
 *
 * Pure: no I/O; the caller measures the process figures. */
#ifndef CORRAL_ADMIN_PROM_H
#define CORRAL_ADMIN_PROM_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "server/fourlw.h"

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* The Prometheus client's standard process collector; negative values are
 * left out. */
typedef struct prom_process {
    double cpu_seconds;        /* process_cpu_seconds_total */
    double start_time_seconds; /* process_start_time_seconds (since the epoch) */
    int64_t open_fds;          /* process_open_fds */
    int64_t max_fds;           /* process_max_fds */
    int64_t virtual_bytes;     /* process_virtual_memory_bytes */
    int64_t resident_bytes;    /* process_resident_memory_bytes */
} prom_process_t;

void prom_render(const fourlw_view_t *v, const prom_process_t *proc, buf_t *out);

#endif
