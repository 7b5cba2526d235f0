/* selftest: corral-bench's built-in unit tests (histogram, options). */
#ifndef CORRAL_BENCH_SELFTEST_H
#define CORRAL_BENCH_SELFTEST_H

/* Returns 0 when every check passed. */
int bench_selftest(void);

#endif
