/* hist: an HDR-style log-linear latency histogram (nanoseconds).
 *
 * Values below 2^(HIST_SUB_BITS+1) ns get one bucket each; above that every
 * power of two is split into 2^HIST_SUB_BITS equal buckets, so a reported
 * percentile is within 1/2^HIST_SUB_BITS (0.8 %) of the true value. The
 * table is fixed-size (no allocation); values past HIST_MAX_NS are clamped
 * into the last bucket but the exact maximum is kept separately. */
#ifndef CORRAL_BENCH_HIST_H
#define CORRAL_BENCH_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 7
#define HIST_MAX_EXP 40 /* 2^40 ns ~ 18 minutes */
#define HIST_LINEAR (1u << (HIST_SUB_BITS + 1))
#define HIST_BUCKETS (HIST_LINEAR + (HIST_MAX_EXP - HIST_SUB_BITS - 1) * (1u << HIST_SUB_BITS))
#define HIST_MAX_NS ((int64_t)1 << HIST_MAX_EXP)

typedef struct hist {
    uint64_t count;
    int64_t min_ns;
    int64_t max_ns;
    double sum_ns;
    uint64_t buckets[HIST_BUCKETS];
} hist_t;

void hist_reset(hist_t *h);
void hist_record(hist_t *h, int64_t value_ns);
/* Add every value of src into dst. */
void hist_merge(hist_t *dst, const hist_t *src);
/* The value at percentile pct (0..100]: the midpoint of the bucket holding
 * the ceil(pct% * count)-th smallest value, clamped to [min, max].
 * 0 for an empty histogram. */
int64_t hist_percentile(const hist_t *h, double pct);
double hist_mean(const hist_t *h);

/* Bucket index of a value and the [low, high) range a bucket covers
 * (exposed for the self-test). */
uint32_t hist_bucket_of(int64_t value_ns);
void hist_bucket_range(uint32_t bucket, int64_t *low_ns, int64_t *high_ns);

#endif
