/* opts: corral-bench's command line (see opts.h). A small hand-written
 * parser rather than getopt_long so that every mistake gets a message that
 * names the option and the accepted range, and so that parsing can be run
 * many times from the self-test. */
#include "bench/opts.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const workload_names[WL_COUNT] = {
    [WL_READ] = "read",         [WL_EXISTS] = "exists",   [WL_CHILDREN] = "children",
    [WL_WRITE] = "write",       [WL_CREATE] = "create",   [WL_MIXED] = "mixed",
    [WL_SESSIONS] = "sessions", [WL_WATCH] = "watch",     [WL_MULTI] = "multi",
    [WL_POPULATE] = "populate", [WL_CLEANUP] = "cleanup",
};

const char *workload_name(workload_kind_t w)
{
    return (w >= 0 && w < WL_COUNT) ? workload_names[w] : "?";
}

void opts_usage(FILE *out)
{
    fprintf(out,
            "usage: corral-bench [options] WORKLOAD\n"
            "       corral-bench stub [--port P] [--host H] [-v BYTES] [--cpu N]\n"
            "       corral-bench selftest\n"
            "\n"
            "A pipelined ZooKeeper-protocol load generator: N sessions, D requests in flight\n"
            "each, one thread. Prints a progress line per second on a terminal, a summary,\n"
            "and a final machine-readable JSON line.\n"
            "\n"
            "Workloads:\n"
            "  read      getData on K znodes of V bytes (created in a setup phase)\n"
            "  exists    exists on K znodes\n"
            "  children  getChildren on a znode with C children\n"
            "  write     setData of V bytes on K znodes\n"
            "  create    create + delete pairs (--create-mode seq|plain)\n"
            "  mixed     R%% getData, the rest setData, on K znodes\n"
            "  sessions  session churn: connect, create one ephemeral, close (one op)\n"
            "  watch     W sessions watch one znode, one more session sets it;\n"
            "            ops are notifications, latency is set-sent to notification-read\n"
            "  multi     multi of M setData ops on K znodes (one op per multi)\n"
            "  populate  only create K znodes of V bytes under --root (keeps them)\n"
            "  cleanup   only delete --root and its children\n"
            "\n"
            "Options (defaults in brackets):\n"
            "  -s, --servers LIST     host:port[,host:port...] [127.0.0.1:2181]\n"
            "  -n, --sessions N       concurrent sessions, 1..%d [64]\n"
            "  -d, --depth D          requests in flight per session, 1..%d [32]\n"
            "  -t, --duration SECS    measured run time [10]\n"
            "  -o, --ops N            stop after N measured ops instead of a duration\n"
            "      --warmup SECS      run unmeasured for SECS first [0]\n"
            "  -k, --keys K           znodes for read/exists/write/mixed/multi/populate [1000]\n"
            "  -v, --size BYTES       data per znode and per write, 0..%d [100]\n"
            "  -c, --children C       children of the `children` znode [100]\n"
            "  -r, --read-pct R       reads in `mixed`, 0..100 [90]\n"
            "  -m, --multi-ops M      ops per multi, 1..%d [10]\n"
            "      --create-mode MODE seq (PERSISTENT_SEQUENTIAL) or plain [seq]\n"
            "  -w, --watchers W       watching sessions in `watch` [= --sessions]\n"
            "      --root PATH        parent znode of everything created [/corral-bench-PID]\n"
            "      --keep             do not delete what was created\n"
            "      --session-timeout-ms MS   requested session timeout [30000]\n"
            "      --setup-timeout S  give up on setup/teardown after S seconds [600]\n"
            "      --cpu N            pin corral-bench to core N (sched_setaffinity)\n"
            "      --stub             fork a canned-reply stub server and run against it\n"
            "                         (measures corral-bench's own ceiling)\n"
            "      --stub-cpu N       pin that stub to core N\n"
            "      --seed N           random seed [1]\n"
            "      --progress / --no-progress   per-second lines [on when stdout is a tty]\n"
            "  -q, --quiet            print only the final JSON line\n"
            "      --label TEXT       copied into the JSON line\n"
            "      --server-pid PID   also report that process's CPU time over the measured\n"
            "                         window (/proc/PID/stat; a server on this machine)\n"
            "  -h, --help             this text\n"
            "\n"
            "stub: --port P (0 picks one and prints it) [2181], --host H [127.0.0.1],\n"
            "      -v BYTES (getData reply size) [100], --cpu N.\n",
            BENCH_MAX_SESSIONS, BENCH_MAX_DEPTH, BENCH_MAX_VALUE_BYTES, BENCH_MAX_MULTI_OPS);
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int parse_i64(const char *opt, const char *s, int64_t lo, int64_t hi, int64_t *out,
                     char *err, size_t errlen)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end != '\0')
        return fail(err, errlen, "%s: '%s' is not an integer", opt, s);
    if (v < lo || v > hi)
        return fail(err, errlen, "%s: %lld is out of range %lld..%lld", opt, v, (long long)lo,
                    (long long)hi);
    *out = v;
    return 0;
}

static int parse_int(const char *opt, const char *s, int lo, int hi, int *out, char *err,
                     size_t errlen)
{
    int64_t v;
    if (parse_i64(opt, s, lo, hi, &v, err, errlen))
        return -1;
    *out = (int)v;
    return 0;
}

static int parse_secs(const char *opt, const char *s, double lo, double hi, double *out, char *err,
                      size_t errlen)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || (*end != '\0' && strcmp(end, "s") != 0) || !isfinite(v))
        return fail(err, errlen, "%s: '%s' is not a number of seconds", opt, s);
    if (v < lo || v > hi)
        return fail(err, errlen, "%s: %g is out of range %g..%g seconds", opt, v, lo, hi);
    *out = v;
    return 0;
}

static int parse_servers(bench_opts_t *o, const char *list, char *err, size_t errlen)
{
    o->nservers = 0;
    const char *p = list;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (n == 0)
            return fail(err, errlen, "--servers: empty entry in '%s'", list);
        if (o->nservers == BENCH_MAX_SERVERS)
            return fail(err, errlen, "--servers: more than %d servers", BENCH_MAX_SERVERS);
        char item[300];
        if (n >= sizeof(item))
            return fail(err, errlen, "--servers: entry too long");
        memcpy(item, p, n);
        item[n] = '\0';
        char *colon = strrchr(item, ':');
        bench_server_t *s = &o->servers[o->nservers];
        int port = 2181;
        if (colon) {
            *colon = '\0';
            if (parse_int("--servers port", colon + 1, 1, 65535, &port, err, errlen))
                return -1;
        }
        if (item[0] == '\0' || strlen(item) >= sizeof(s->host) ||
            strspn(item, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") !=
                strlen(item))
            return fail(err, errlen, "--servers: bad host in '%s' (want host:port)", list);
        strcpy(s->host, item);
        s->port = (uint16_t)port;
        o->nservers++;
        p += n;
        if (*p == ',')
            p++;
    }
    if (o->nservers == 0)
        return fail(err, errlen, "--servers: no server given");
    return 0;
}

static int check_root(const char *root, char *err, size_t errlen)
{
    size_t n = strlen(root);
    if (n < 2 || root[0] != '/' || root[n - 1] == '/')
        return fail(err, errlen, "--root: '%s' must be an absolute znode path like /bench", root);
    if (n > BENCH_MAX_ROOT_LEN)
        return fail(err, errlen, "--root: longer than %d bytes", BENCH_MAX_ROOT_LEN);
    if (strstr(root, "//") || strstr(root, "/./") || strstr(root, "/../"))
        return fail(err, errlen, "--root: '%s' is not a valid znode path", root);
    return 0;
}

static void set_defaults(bench_opts_t *o)
{
    memset(o, 0, sizeof(*o));
    o->mode = MODE_RUN;
    o->workload = WL_COUNT;
    strcpy(o->servers[0].host, "127.0.0.1");
    o->servers[0].port = 2181;
    o->nservers = 1;
    o->sessions = 64;
    o->depth = 32;
    o->duration_s = 10;
    o->keys = 1000;
    o->value_bytes = 100;
    o->children = 100;
    o->read_pct = 90;
    o->multi_ops = 10;
    o->create_sequential = true;
    o->session_timeout_ms = 30000;
    o->setup_timeout_s = 600;
    o->cpu = -1;
    o->stub_cpu = -1;
    o->seed = 1;
    o->progress = -1;
    o->stub_port = 2181;
    strcpy(o->stub_host, "127.0.0.1");
}

/* Long name, short letter (0: none), takes a value. */
typedef struct optdef {
    const char *name;
    char letter;
    bool has_value;
} optdef_t;

static const optdef_t optdefs[] = {
    {"servers", 's', true},     {"sessions", 'n', true},
    {"depth", 'd', true},       {"duration", 't', true},
    {"ops", 'o', true},         {"warmup", 0, true},
    {"keys", 'k', true},        {"size", 'v', true},
    {"children", 'c', true},    {"read-pct", 'r', true},
    {"multi-ops", 'm', true},   {"create-mode", 0, true},
    {"watchers", 'w', true},    {"root", 0, true},
    {"keep", 0, false},         {"session-timeout-ms", 0, true},
    {"setup-timeout", 0, true}, {"cpu", 0, true},
    {"stub", 0, false},         {"stub-cpu", 0, true},
    {"seed", 0, true},          {"progress", 0, false},
    {"no-progress", 0, false},  {"quiet", 'q', false},
    {"label", 0, true},         {"help", 'h', false},
    {"port", 0, true},          {"host", 0, true},
    {"server-pid", 0, true},
};

static const optdef_t *find_opt(const char *arg, const char **inline_value)
{
    *inline_value = NULL;
    if (arg[0] == '-' && arg[1] == '-') {
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t n = eq ? (size_t)(eq - name) : strlen(name);
        for (size_t i = 0; i < sizeof(optdefs) / sizeof(optdefs[0]); i++)
            if (strlen(optdefs[i].name) == n && !strncmp(optdefs[i].name, name, n)) {
                if (eq)
                    *inline_value = eq + 1;
                return &optdefs[i];
            }
        return NULL;
    }
    if (arg[0] == '-' && arg[1] && arg[1] != '-') {
        for (size_t i = 0; i < sizeof(optdefs) / sizeof(optdefs[0]); i++)
            if (optdefs[i].letter == arg[1]) {
                if (arg[2])
                    *inline_value = arg + 2; /* -n64 */
                return &optdefs[i];
            }
    }
    return NULL;
}

static int apply_opt(bench_opts_t *o, const optdef_t *d, const char *v, bool *ops_given,
                     bool *dur_given, char *err, size_t errlen)
{
    char opt[48];
    snprintf(opt, sizeof(opt), "--%s", d->name);
    const char *n = d->name;
    int64_t v64;
    if (!strcmp(n, "servers"))
        return parse_servers(o, v, err, errlen);
    if (!strcmp(n, "sessions"))
        return parse_int(opt, v, 1, BENCH_MAX_SESSIONS, &o->sessions, err, errlen);
    if (!strcmp(n, "depth"))
        return parse_int(opt, v, 1, BENCH_MAX_DEPTH, &o->depth, err, errlen);
    if (!strcmp(n, "duration")) {
        *dur_given = true;
        return parse_secs(opt, v, 0.1, 86400, &o->duration_s, err, errlen);
    }
    if (!strcmp(n, "warmup"))
        return parse_secs(opt, v, 0, 3600, &o->warmup_s, err, errlen);
    if (!strcmp(n, "ops")) {
        *ops_given = true;
        if (parse_i64(opt, v, 1, INT64_MAX / 2, &v64, err, errlen))
            return -1;
        o->ops = (uint64_t)v64;
        return 0;
    }
    if (!strcmp(n, "keys"))
        return parse_int(opt, v, 1, BENCH_MAX_KEYS, &o->keys, err, errlen);
    if (!strcmp(n, "size"))
        return parse_int(opt, v, 0, BENCH_MAX_VALUE_BYTES, &o->value_bytes, err, errlen);
    if (!strcmp(n, "children"))
        return parse_int(opt, v, 0, BENCH_MAX_KEYS, &o->children, err, errlen);
    if (!strcmp(n, "read-pct"))
        return parse_int(opt, v, 0, 100, &o->read_pct, err, errlen);
    if (!strcmp(n, "multi-ops"))
        return parse_int(opt, v, 1, BENCH_MAX_MULTI_OPS, &o->multi_ops, err, errlen);
    if (!strcmp(n, "create-mode")) {
        if (!strcmp(v, "seq") || !strcmp(v, "sequential"))
            o->create_sequential = true;
        else if (!strcmp(v, "plain"))
            o->create_sequential = false;
        else
            return fail(err, errlen, "--create-mode: '%s' is not seq or plain", v);
        return 0;
    }
    if (!strcmp(n, "watchers"))
        return parse_int(opt, v, 1, BENCH_MAX_SESSIONS - 1, &o->watchers, err, errlen);
    if (!strcmp(n, "root")) {
        if (check_root(v, err, errlen))
            return -1;
        strcpy(o->root, v);
        o->root_given = true;
        return 0;
    }
    if (!strcmp(n, "keep"))
        return o->keep = true, 0;
    if (!strcmp(n, "session-timeout-ms"))
        return parse_int(opt, v, 1, 3600000, &o->session_timeout_ms, err, errlen);
    if (!strcmp(n, "setup-timeout"))
        return parse_int(opt, v, 1, 86400, &o->setup_timeout_s, err, errlen);
    if (!strcmp(n, "cpu"))
        return parse_int(opt, v, 0, 4095, &o->cpu, err, errlen);
    if (!strcmp(n, "stub"))
        return o->stub = true, 0;
    if (!strcmp(n, "stub-cpu"))
        return parse_int(opt, v, 0, 4095, &o->stub_cpu, err, errlen);
    if (!strcmp(n, "seed")) {
        if (parse_i64(opt, v, 0, INT64_MAX, &v64, err, errlen))
            return -1;
        o->seed = (uint64_t)v64;
        return 0;
    }
    if (!strcmp(n, "progress"))
        return o->progress = 1, 0;
    if (!strcmp(n, "no-progress"))
        return o->progress = 0, 0;
    if (!strcmp(n, "quiet"))
        return o->quiet = true, 0;
    if (!strcmp(n, "label")) {
        if (strlen(v) >= sizeof(o->label))
            return fail(err, errlen, "--label: longer than %zu bytes", sizeof(o->label) - 1);
        for (const char *c = v; *c; c++)
            if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20)
                return fail(err, errlen, "--label: no quotes, backslashes or control chars");
        strcpy(o->label, v);
        return 0;
    }
    if (!strcmp(n, "server-pid"))
        return parse_int(opt, v, 1, INT_MAX, &o->server_pid, err, errlen);
    if (!strcmp(n, "help"))
        return o->mode = MODE_HELP, 0;
    if (!strcmp(n, "port"))
        return parse_int(opt, v, 0, 65535, &o->stub_port, err, errlen);
    if (!strcmp(n, "host")) {
        if (strlen(v) >= sizeof(o->stub_host))
            return fail(err, errlen, "--host: too long");
        strcpy(o->stub_host, v);
        return 0;
    }
    return fail(err, errlen, "internal: unhandled option %s", opt);
}

static int pick_positional(bench_opts_t *o, const char *a, bool *have, char *err, size_t errlen)
{
    if (*have)
        return fail(err, errlen, "unexpected argument '%s' (one workload per run)", a);
    *have = true;
    if (!strcmp(a, "stub")) {
        o->mode = MODE_STUB;
        return 0;
    }
    if (!strcmp(a, "selftest")) {
        o->mode = MODE_SELFTEST;
        return 0;
    }
    for (int w = 0; w < WL_COUNT; w++)
        if (!strcmp(a, workload_names[w])) {
            o->workload = (workload_kind_t)w;
            return 0;
        }
    return fail(err, errlen,
                "unknown workload '%s' (read exists children write create mixed sessions "
                "watch multi populate cleanup, or stub/selftest)",
                a);
}

int opts_parse(int argc, char **argv, bench_opts_t *o, char *err, size_t errlen)
{
    set_defaults(o);
    bool have_positional = false, ops_given = false, dur_given = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || a[1] == '\0') {
            if (pick_positional(o, a, &have_positional, err, errlen))
                return -1;
            continue;
        }
        const char *inl;
        const optdef_t *d = find_opt(a, &inl);
        if (!d)
            return fail(err, errlen, "unknown option '%s' (see --help)", a);
        const char *v = NULL;
        if (d->has_value) {
            if (inl)
                v = inl;
            else if (i + 1 < argc)
                v = argv[++i];
            else
                return fail(err, errlen, "option '%s' needs a value", a);
        } else if (inl) {
            return fail(err, errlen, "option '%s' takes no value", a);
        }
        if (apply_opt(o, d, v, &ops_given, &dur_given, err, errlen))
            return -1;
    }
    if (o->mode == MODE_HELP || o->mode == MODE_SELFTEST || o->mode == MODE_STUB)
        return 0;
    if (!have_positional)
        return fail(err, errlen, "no workload given (see --help)");
    if (ops_given && dur_given)
        return fail(err, errlen, "--ops and --duration are exclusive");
    if (ops_given)
        o->duration_s = 0;
    if (o->stub && o->nservers != 1)
        return fail(err, errlen, "--stub and --servers are exclusive");
    if (o->workload == WL_WATCH) {
        if (o->watchers == 0)
            o->watchers = o->sessions;
        o->sessions = o->watchers + 1; /* plus the writer */
        if (o->sessions > BENCH_MAX_SESSIONS)
            return fail(err, errlen, "--watchers: at most %d", BENCH_MAX_SESSIONS - 1);
    }
    if (o->workload == WL_CLEANUP && !o->root_given)
        return fail(err, errlen, "cleanup needs --root PATH");
    if (o->workload == WL_POPULATE)
        o->keep = true;
    if (!o->root_given)
        snprintf(o->root, sizeof(o->root), "/corral-bench-%ld", (long)getpid());
    return 0;
}
