/* run: a whole benchmark run (connect, setup, measure, teardown, report). */
#ifndef CORRAL_BENCH_RUN_H
#define CORRAL_BENCH_RUN_H

#include <stdbool.h>

#include "bench/opts.h"

/* Returns the process exit status: 0, or 1 when the run could not be done. */
int bench_run(const bench_opts_t *o, bool stub);

#endif
