/* opts: corral-bench's command line — the option table, defaults, limits,
 * validation and --help text. Parsing never exits: it returns an error
 * message, so the self-test can drive it with tables of argv. */
#ifndef CORRAL_BENCH_OPTS_H
#define CORRAL_BENCH_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BENCH_MAX_SERVERS 16
#define BENCH_MAX_SESSIONS 4096
#define BENCH_MAX_DEPTH 1024
#define BENCH_MAX_KEYS 10000000
#define BENCH_MAX_VALUE_BYTES (1024 * 1024 - 1024) /* under jute.maxbuffer with headers */
#define BENCH_MAX_MULTI_OPS 1000
#define BENCH_MAX_ROOT_LEN 200

typedef enum bench_mode {
    MODE_RUN,      /* a workload against servers */
    MODE_STUB,     /* `corral-bench stub`: the canned-reply server */
    MODE_SELFTEST, /* `corral-bench selftest` */
    MODE_HELP,
} bench_mode_t;

typedef enum workload_kind {
    WL_READ,
    WL_EXISTS,
    WL_CHILDREN,
    WL_WRITE,
    WL_CREATE,
    WL_MIXED,
    WL_SESSIONS,
    WL_WATCH,
    WL_MULTI,
    WL_POPULATE,
    WL_CLEANUP,
    WL_COUNT,
} workload_kind_t;

typedef struct bench_server {
    char host[256];
    uint16_t port;
} bench_server_t;

typedef struct bench_opts {
    bench_mode_t mode;
    workload_kind_t workload;
    bench_server_t servers[BENCH_MAX_SERVERS];
    int nservers;
    int sessions;           /* -n */
    int depth;              /* -d: requests in flight per session */
    double duration_s;      /* -t (0 when --ops is used) */
    double warmup_s;        /* --warmup */
    uint64_t ops;           /* -o: stop after this many ops (0: use duration) */
    int keys;               /* -k */
    int value_bytes;        /* -v */
    int children;           /* -c */
    int read_pct;           /* -r */
    int multi_ops;          /* -m */
    bool create_sequential; /* --create-mode seq|plain */
    int watchers;           /* -w (watch); 0 means = sessions */
    char root[BENCH_MAX_ROOT_LEN + 1];
    bool root_given;
    bool keep; /* --keep: no teardown */
    int session_timeout_ms;
    int setup_timeout_s;
    int cpu;   /* --cpu: core to pin to, -1 none */
    bool stub; /* --stub: fork a stub server and run against it */
    int stub_cpu;
    uint64_t seed;
    int progress;   /* -1 auto (terminal), 0 off, 1 on */
    bool quiet;     /* only the final JSON line */
    char label[64]; /* --label: copied into the JSON line */
    int server_pid; /* --server-pid: sample its CPU time over the window (0: none) */
    /* stub mode */
    int stub_port;
    char stub_host[64];
} bench_opts_t;

const char *workload_name(workload_kind_t w);

/* Parse argv into o. Returns 0, or -1 with a one-line message in err. */
int opts_parse(int argc, char **argv, bench_opts_t *o, char *err, size_t errlen);
void opts_usage(FILE *out);

#endif
