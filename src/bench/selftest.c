/* selftest: corral-bench's unit tests — the histogram (bucket layout,
 * percentile accuracy, merge, extremes) and the argument parser (defaults,
 * every kind of bad option). Run as `corral-bench selftest`; the
 * integration suite runs it too. */
#include "bench/selftest.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench/hist.h"
#include "bench/opts.h"

static int checks, failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        checks++;                                                                                  \
        if (!(cond)) {                                                                             \
            failures++;                                                                            \
            fprintf(stderr, "selftest: %s:%d: ", __FILE__, __LINE__);                              \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
        }                                                                                          \
    } while (0)

static bool close_to(int64_t got, double want, double rel)
{
    return fabs((double)got - want) <= rel * want + 1.0;
}

static void test_buckets(void)
{
    /* Every bucket's range maps back to it and ranges tile the line. */
    int64_t prev_hi = 0;
    for (uint32_t b = 0; b < HIST_BUCKETS; b++) {
        int64_t lo, hi;
        hist_bucket_range(b, &lo, &hi);
        CHECK(lo == prev_hi, "bucket %u starts at %lld, previous ended at %lld", b, (long long)lo,
              (long long)prev_hi);
        CHECK(hist_bucket_of(lo) == b && hist_bucket_of(hi - 1) == b, "bucket %u round trip", b);
        CHECK(b < HIST_LINEAR || (double)(hi - lo) / (double)lo <= 1.0 / 128 + 1e-12,
              "bucket %u too wide", b);
        prev_hi = hi;
    }
    CHECK(prev_hi == HIST_MAX_NS, "buckets end at %lld", (long long)prev_hi);
    CHECK(hist_bucket_of(-5) == 0, "negative values go to bucket 0");
    CHECK(hist_bucket_of(HIST_MAX_NS * 4) == HIST_BUCKETS - 1, "huge values clamp");
}

static void test_percentiles(void)
{
    static hist_t h, h2;
    hist_reset(&h);
    CHECK(hist_percentile(&h, 50) == 0, "empty histogram");
    for (int64_t v = 1; v <= 1000000; v++)
        hist_record(&h, v * 1000); /* 1 us .. 1 s uniform */
    CHECK(h.count == 1000000, "count");
    CHECK(h.min_ns == 1000 && h.max_ns == 1000000000, "min/max exact");
    CHECK(close_to(hist_percentile(&h, 50), 500e6, 0.01), "p50 %lld",
          (long long)hist_percentile(&h, 50));
    CHECK(close_to(hist_percentile(&h, 99), 990e6, 0.01), "p99 %lld",
          (long long)hist_percentile(&h, 99));
    CHECK(close_to(hist_percentile(&h, 99.9), 999e6, 0.01), "p99.9 %lld",
          (long long)hist_percentile(&h, 99.9));
    CHECK(hist_percentile(&h, 100) == 1000000000, "p100 is max");
    CHECK(close_to(hist_percentile(&h, 0.0001), 1000, 0.01), "p0.0001 %lld",
          (long long)hist_percentile(&h, 0.0001));
    CHECK(fabs(hist_mean(&h) - 500000500.0) < 1.0, "mean %f", hist_mean(&h));

    /* A skewed distribution: 99 % at 100 us, 1 % at 10 ms. */
    hist_reset(&h2);
    for (int i = 0; i < 9900; i++)
        hist_record(&h2, 100000);
    for (int i = 0; i < 100; i++)
        hist_record(&h2, 10000000);
    CHECK(close_to(hist_percentile(&h2, 99), 100000, 0.01), "skewed p99 %lld",
          (long long)hist_percentile(&h2, 99));
    CHECK(close_to(hist_percentile(&h2, 99.5), 10000000, 0.01), "skewed p99.5 %lld",
          (long long)hist_percentile(&h2, 99.5));

    /* Merge = recording everything into one. */
    static hist_t a, b, all;
    hist_reset(&a);
    hist_reset(&b);
    hist_reset(&all);
    for (int64_t v = 0; v < 5000; v++) {
        hist_record(v % 2 ? &a : &b, v * 37);
        hist_record(&all, v * 37);
    }
    hist_merge(&a, &b);
    CHECK(a.count == all.count && a.min_ns == all.min_ns && a.max_ns == all.max_ns, "merge totals");
    CHECK(!memcmp(a.buckets, all.buckets, sizeof(a.buckets)), "merge buckets");
    CHECK(hist_percentile(&a, 90) == hist_percentile(&all, 90), "merge p90");

    /* Small exact values. */
    hist_reset(&h);
    hist_record(&h, 7);
    CHECK(hist_percentile(&h, 50) == 7 && hist_percentile(&h, 99.9) == 7, "single value");
}

typedef struct argcase {
    const char *args;     /* space-separated */
    const char *want_err; /* substring, or NULL for success */
} argcase_t;

static int split(char *s, char **argv, int max)
{
    int n = 0;
    argv[n++] = "corral-bench";
    for (char *t = strtok(s, " "); t && n < max; t = strtok(NULL, " "))
        argv[n++] = t;
    return n;
}

static void test_opts(void)
{
    static const argcase_t cases[] = {
        {"read", NULL},
        {"", "no workload"},
        {"fly", "unknown workload"},
        {"read write", "one workload"},
        {"read --bogus", "unknown option"},
        {"read -n", "needs a value"},
        {"read -n 0", "out of range"},
        {"read -n 5000", "out of range"},
        {"read -n abc", "not an integer"},
        {"read -d 2000", "out of range"},
        {"read -t 0", "out of range"},
        {"read -t 1x", "not a number"},
        {"read -t 2 -o 100", "exclusive"},
        {"read --keep=yes", "takes no value"},
        {"read -s host:0", "out of range"},
        {"read -s a:1,,b:2", "empty entry"},
        {"read -s a\"b:1", "bad host"},
        {"read --root noslash", "absolute"},
        {"read --root /a/", "absolute"},
        {"read --root /a//b", "not a valid"},
        {"read -r 101", "out of range"},
        {"read -v 2000000", "out of range"},
        {"create --create-mode fancy", "seq or plain"},
        {"cleanup", "needs --root"},
        {"read --label a\"b", "quotes"},
        {"read --stub -s 127.0.0.1:1,127.0.0.1:2", "exclusive"},
        {"stub --port 0", NULL},
        {"selftest", NULL},
        {"--help", NULL},
        {"mixed -n8 -d 4 --duration=2.5 -k 10 -v 0 -r 50 -s 127.0.0.1:2182", NULL},
        {"watch -w 10", NULL},
        {"multi -m 5 -o 1000 --cpu 1 --seed 7 --no-progress -q", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[256], err[256] = "";
        char *argv[32];
        snprintf(buf, sizeof(buf), "%s", cases[i].args);
        int argc = split(buf, argv, 32);
        static bench_opts_t o;
        int rc = opts_parse(argc, argv, &o, err, sizeof(err));
        if (cases[i].want_err)
            CHECK(rc != 0 && strstr(err, cases[i].want_err), "'%s': want error '%s', got '%s'",
                  cases[i].args, cases[i].want_err, rc ? err : "(success)");
        else
            CHECK(rc == 0, "'%s': unexpected error '%s'", cases[i].args, err);
    }
    /* Defaults and values land where they should. */
    static bench_opts_t o;
    char err[256], buf[256];
    char *argv[32];
    snprintf(buf, sizeof(buf), "read");
    int argc = split(buf, argv, 32);
    CHECK(opts_parse(argc, argv, &o, err, sizeof(err)) == 0, "defaults");
    CHECK(o.sessions == 64 && o.depth == 32 && o.keys == 1000 && o.value_bytes == 100 &&
              o.duration_s == 10 && o.nservers == 1 && o.servers[0].port == 2181 && o.cpu == -1,
          "default values");
    snprintf(buf, sizeof(buf), "mixed -n8 -d 4 --duration=2.5 -r 50 -s h1:1,h2 --root /x/y");
    argc = split(buf, argv, 32);
    CHECK(opts_parse(argc, argv, &o, err, sizeof(err)) == 0, "values: %s", err);
    CHECK(o.workload == WL_MIXED && o.sessions == 8 && o.depth == 4 && o.duration_s == 2.5 &&
              o.read_pct == 50 && o.nservers == 2 && !strcmp(o.servers[1].host, "h2") &&
              o.servers[1].port == 2181 && !strcmp(o.root, "/x/y"),
          "parsed values");
    snprintf(buf, sizeof(buf), "watch -w 10 -d 2");
    argc = split(buf, argv, 32);
    CHECK(opts_parse(argc, argv, &o, err, sizeof(err)) == 0 && o.sessions == 11 && o.watchers == 10,
          "watch adds the writer session");
    snprintf(buf, sizeof(buf), "write -o 500");
    argc = split(buf, argv, 32);
    CHECK(opts_parse(argc, argv, &o, err, sizeof(err)) == 0 && o.ops == 500 && o.duration_s == 0,
          "--ops replaces the duration");
}

int bench_selftest(void)
{
    test_buckets();
    test_percentiles();
    test_opts();
    printf("selftest: %d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
