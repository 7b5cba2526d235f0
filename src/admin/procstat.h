/* procstat: this process's CPU time, start time and memory from /proc, for
 * the Prometheus process_* metrics. */
#ifndef CORRAL_ADMIN_PROCSTAT_H
#define CORRAL_ADMIN_PROCSTAT_H

#include "admin/prom.h"

/* Fill cpu_seconds, start_time_seconds, virtual_bytes and resident_bytes
 * (-1 for what cannot be read); open_fds and max_fds are set to -1. */
void procstat_read(prom_process_t *out);

#endif
