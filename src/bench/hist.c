/* hist: the log-linear latency histogram (see hist.h for the bucket layout). */
#include "bench/hist.h"

#include <string.h>

void hist_reset(hist_t *h)
{
    memset(h, 0, sizeof(*h));
}

uint32_t hist_bucket_of(int64_t value_ns)
{
    if (value_ns < 0)
        value_ns = 0;
    if (value_ns >= HIST_MAX_NS)
        return HIST_BUCKETS - 1;
    uint64_t v = (uint64_t)value_ns;
    if (v < HIST_LINEAR)
        return (uint32_t)v;
    uint32_t exp = 63u - (uint32_t)__builtin_clzll(v); /* >= HIST_SUB_BITS + 1 */
    uint32_t shift = exp - HIST_SUB_BITS;
    uint32_t sub = (uint32_t)(v >> shift) - (1u << HIST_SUB_BITS); /* 0 .. 2^SUB-1 */
    return HIST_LINEAR + (exp - HIST_SUB_BITS - 1) * (1u << HIST_SUB_BITS) + sub;
}

void hist_bucket_range(uint32_t bucket, int64_t *low_ns, int64_t *high_ns)
{
    if (bucket < HIST_LINEAR) {
        *low_ns = bucket;
        *high_ns = (int64_t)bucket + 1;
        return;
    }
    uint32_t rel = bucket - HIST_LINEAR;
    uint32_t exp = rel / (1u << HIST_SUB_BITS) + HIST_SUB_BITS + 1;
    uint32_t sub = rel % (1u << HIST_SUB_BITS) + (1u << HIST_SUB_BITS);
    uint32_t shift = exp - HIST_SUB_BITS;
    *low_ns = (int64_t)sub << shift;
    *high_ns = (int64_t)(sub + 1) << shift;
}

void hist_record(hist_t *h, int64_t value_ns)
{
    if (value_ns < 0)
        value_ns = 0;
    if (h->count == 0 || value_ns < h->min_ns)
        h->min_ns = value_ns;
    if (value_ns > h->max_ns)
        h->max_ns = value_ns;
    h->count++;
    h->sum_ns += (double)value_ns;
    h->buckets[hist_bucket_of(value_ns)]++;
}

void hist_merge(hist_t *dst, const hist_t *src)
{
    if (src->count == 0)
        return;
    if (dst->count == 0 || src->min_ns < dst->min_ns)
        dst->min_ns = src->min_ns;
    if (src->max_ns > dst->max_ns)
        dst->max_ns = src->max_ns;
    dst->count += src->count;
    dst->sum_ns += src->sum_ns;
    for (uint32_t i = 0; i < HIST_BUCKETS; i++)
        dst->buckets[i] += src->buckets[i];
}

int64_t hist_percentile(const hist_t *h, double pct)
{
    if (h->count == 0)
        return 0;
    if (pct >= 100.0)
        return h->max_ns;
    if (pct < 0)
        pct = 0;
    double want = pct / 100.0 * (double)h->count;
    uint64_t rank = (uint64_t)want;
    if ((double)rank < want)
        rank++;
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    for (uint32_t i = 0; i < HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            int64_t lo, hi;
            hist_bucket_range(i, &lo, &hi);
            int64_t mid = lo + (hi - lo - 1) / 2;
            if (mid < h->min_ns)
                mid = h->min_ns;
            if (mid > h->max_ns)
                mid = h->max_ns;
            return mid;
        }
    }
    return h->max_ns;
}

double hist_mean(const hist_t *h)
{
    return h->count ? h->sum_ns / (double)h->count : 0.0;
}
