/* dispatch: ZooKeeperMain.processCmd/processZKCmd in C — the command table,
 * numbered history, redo, printwatches, connect, quit, usage, the
 * "Not connected" rule and exit codes, plus the helpers commands share
 * (waiting for a reply, path validation, the session watcher). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "cli/shell.h"

typedef struct cmd_def {
    const char *name;
    const char *options; /* optionStr, as in zkCli's usage */
    sh_cmd_fn fn;        /* NULL for ZooKeeperMain's own commands */
    bool hidden;         /* corral extras, not in zkCli 3.8's usage */
} cmd_def_t;

/* Sorted by Java String order (what usage() prints). */
static const cmd_def_t commands[] = {
    {"addWatch",
     "[-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is "
     "PERSISTENT_RECURSIVE",
     cmd_add_watch, false},
    {"addauth", "scheme auth", cmd_addauth, false},
    {"close", "", cmd_close, false},
    {"config", "[-c] [-w] [-s]", cmd_config, false},
    {"connect", "host:port", NULL, false},
    {"create", "[-s] [-e] [-c] [-t ttl] path [data] [acl]", cmd_create, false},
    {"delete", "[-v version] path", cmd_delete, false},
    {"deleteall", "path [-b batch size]", cmd_deleteall, false},
    {"delquota", "[-n|-b|-N|-B] path", cmd_delquota, false},
    {"get", "[-s] [-w] path", cmd_get, false},
    {"getAcl", "[-s] path", cmd_get_acl, false},
    {"getAllChildrenNumber", "path", cmd_get_all_children_number, false},
    {"getEphemerals", "path", cmd_get_ephemerals, false},
    {"help", "", NULL, true},
    {"history", "", NULL, false},
    {"listquota", "path", cmd_listquota, false},
    {"ls", "[-s] [-w] [-R] path", cmd_ls, false},
    {"ls2", "path [watch]", cmd_ls2, true},
    {"printwatches", "on|off", NULL, false},
    {"quit", "", NULL, false},
    {"reconfig",
     "[-s] [-v version] [[-file path] | [-members serverID=host:port1:port2;port3[,...]*]] | "
     "[-add serverId=host:port1:port2;port3[,...]]* [-remove serverId[,...]*]",
     cmd_reconfig, false},
    {"redo", "cmdno", NULL, false},
    {"removewatches", "path [-c|-d|-a] [-l]", cmd_remove_watches, false},
    {"rmr", "path [-b batch size]", cmd_deleteall, true},
    {"set", "[-s] [-v version] path data", cmd_set, false},
    {"setAcl", "[-s] [-v version] [-R] path acl", cmd_set_acl, false},
    {"setquota", "-n|-b|-N|-B val path", cmd_setquota, false},
    {"stat", "[-w] path", cmd_stat, false},
    {"sync", "path", cmd_sync, false},
    {"version", "", cmd_version, false},
    {"whoami", "", cmd_whoami, false},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const cmd_def_t *find_command(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

bool sh_command_known(const char *name)
{
    return find_command(name) != NULL;
}

const char *sh_command_name(size_t i)
{
    return i < NCOMMANDS ? commands[i].name : NULL;
}

void sh_usage(void)
{
    fflush(stdout);
    fprintf(stderr, "ZooKeeper -server host:port -client-configuration properties-file cmd args\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!commands[i].hidden)
            fprintf(stderr, "\t%s %s\n", commands[i].name, commands[i].options);
    fflush(stderr);
}

/* ---- Session ------------------------------------------------------------------------ */

static void watcher(zkc_t *zk, const zkc_event_t *ev, void *ctx)
{
    (void)zk;
    sh_print_event(ctx, ev);
}

void sh_init(shell_t *sh, uv_loop_t *loop)
{
    memset(sh, 0, sizeof *sh);
    sh->loop = loop;
    sh->timeout_ms = 30000;
    sh->print_watches = true;
    sh->host = xstrndup("localhost:2181", 14);
}

void sh_connect(shell_t *sh, const char *host)
{
    if (sh->zk) {
        if (zkc_is_alive(sh->zk))
            zkc_close_wait(sh->zk, sh->timeout_ms, false);
        else
            zkc_close_wait(sh->zk, 0, true);
        sh->zk = NULL;
    }
    if (host != sh->host) {
        free(sh->host);
        sh->host = xstrndup(host, strlen(host));
    }
    zkc_config_t cfg = {0};
    cfg.hosts = sh->host;
    cfg.session_timeout_ms = sh->timeout_ms;
    cfg.read_only = sh->read_only;
    cfg.watcher = watcher;
    cfg.watcher_ctx = sh;
    if (zkc_open(sh->loop, &cfg, &sh->zk) != ZOK) {
        sh->zk = NULL;
        sh_fail("Invalid connect string: %s", sh->host);
    }
}

void sh_close_quiet(shell_t *sh)
{
    if (!sh->zk)
        return;
    zkc_close_wait(sh->zk, zkc_is_connected(sh->zk) ? 2000 : 0, true);
    sh->zk = NULL;
}

void sh_free(shell_t *sh)
{
    sh_close_quiet(sh);
    for (int i = 0; i < SH_HISTORY_MAX; i++)
        free(sh->history[i]);
    free(sh->host);
}

const char *sh_prompt(shell_t *sh, char *buf, size_t len)
{
    const char *state = sh->zk ? zkc_state_name(zkc_state(sh->zk)) : "CLOSED";
    snprintf(buf, len, "[zk: %s(%s) %d] ", sh->host, state, sh->command_count);
    return buf;
}

/* ---- Helpers for commands ------------------------------------------------------------ */

int sh_wait(shell_t *sh, int rc, zkc_call_t *call)
{
    if (rc != ZOK) {
        memset(&call->res, 0, sizeof call->res);
        call->res.err = rc;
        call->res.data_len = -1;
        call->done = true;
        return rc;
    }
    /* The library bounds every wait (read timeout -> CONNECTIONLOSS); this is
     * only a safety net. */
    int64_t limit = (int64_t)sh->timeout_ms * 3 + 5000;
    return zkc_call_wait(sh->zk, call, limit);
}

int sh_wait_discard(shell_t *sh, int rc, zkc_call_t *call)
{
    int err = sh_wait(sh, rc, call);
    zkc_result_free(&call->res);
    return err;
}

bool sh_path_ok(const char *path, bool sequential)
{
    char msg[600];
    const char *e = zkc_path_error(path, sequential, msg, sizeof msg);
    if (!e)
        return true;
    sh_fail("%s", e);
    return false;
}

/* ---- Argument helpers ------------------------------------------------------------------ */

bool sh_parse(const opt_spec_t *spec, int argc, char **argv, opt_result_t *r)
{
    if (opts_parse(spec, argc, argv, r))
        return true;
    sh_fail("%s", r->error);
    opts_free(r);
    return false;
}

bool sh_parse_usage(const opt_spec_t *spec, int argc, char **argv, int min_args, const char *usage,
                    opt_result_t *r)
{
    if (!sh_parse(spec, argc, argv, r))
        return false;
    if (r->nargs >= min_args)
        return true;
    sh_fail("%s", usage);
    opts_free(r);
    return false;
}

bool sh_parse_path(const opt_spec_t *spec, int argc, char **argv, const char *usage,
                   opt_result_t *r)
{
    if (!sh_parse_usage(spec, argc, argv, 2, usage, r))
        return false;
    if (sh_path_ok(r->args[1], false))
        return true;
    opts_free(r);
    return false;
}

bool sh_parse_long(const char *s, long long lo, long long hi, long long *out)
{
    if (!s || !*s)
        return false;
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    if (!*p)
        return false;
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9')
            return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

bool sh_parse_int(const char *s, int32_t *out)
{
    long long v;
    if (!sh_parse_long(s, INT32_MIN, INT32_MAX, &v))
        return false;
    *out = (int32_t)v;
    return true;
}

char *sh_child_path(const char *parent, const char *child)
{
    buf_t b;
    buf_init(&b);
    buf_printf(&b, "%s%s%s", parent, strcmp(parent, "/") == 0 ? "" : "/", child);
    buf_append(&b, "", 1);
    return (char *)b.data;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void sh_sort_strings(char **v, int32_t n)
{
    if (n > 1)
        qsort(v, (size_t)n, sizeof(char *), cmp_str);
}

/* ---- History ---------------------------------------------------------------------------- */

static void history_put(shell_t *sh, int i, const char *line)
{
    int slot = i % SH_HISTORY_MAX;
    free(sh->history[slot]);
    sh->history[slot] = xstrndup(line, strlen(line));
}

static const char *history_get(shell_t *sh, int i)
{
    if (i < 0 || i < sh->command_count - SH_HISTORY_MAX + 1)
        return NULL;
    return sh->history[i % SH_HISTORY_MAX];
}

/* Integer.decode: decimal, 0x/0X/# hex, leading 0 octal, optional sign. */
static bool java_decode(const char *s, long long *out)
{
    bool neg = false;
    if (*s == '-' || *s == '+')
        neg = *s++ == '-';
    int base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    } else if (s[0] == '#') {
        base = 16;
        s++;
    } else if (s[0] == '0' && s[1]) {
        base = 8;
        s++;
    }
    if (!*s || *s == '-' || *s == '+')
        return false;
    char *end;
    long long v = strtoll(s, &end, base);
    if (*end || v > 2147483647LL + (neg ? 1 : 0))
        return false;
    *out = neg ? -v : v;
    return true;
}

/* ---- processCmd ---------------------------------------------------------------------- */

static bool alive(shell_t *sh)
{
    return sh->zk && zkc_is_alive(sh->zk);
}

/* processZKCmd: returns the exit status. */
static int process_zk_cmd(shell_t *sh, int argc, char **argv)
{
    if (argc < 1) {
        sh_usage();
        return sh_fail("No command entered");
    }
    const char *cmd = argv[0];
    const cmd_def_t *def = find_command(cmd);
    if (!def) {
        sh_usage();
        sh_fail("Command not found: Command not found %s", cmd);
        return 127; /* CommandNotFoundException's exit code */
    }
    if (strcmp(cmd, "quit") == 0) {
        if (sh->zk) {
            zkc_close_wait(sh->zk, sh->timeout_ms, !zkc_is_alive(sh->zk));
            sh->zk = NULL;
        }
        sh->quit = true;
        return sh->exit_code; /* zkCli exits with the previous command's code */
    }
    if (strcmp(cmd, "help") == 0) {
        sh_usage(); /* corral: help is a command, not an unknown one */
        return 0;
    }
    int status = 0;
    if (strcmp(cmd, "redo") == 0 && argc >= 2) {
        long long i;
        if (!java_decode(argv[1], &i))
            return sh_fail("Command index out of range"); /* zkCli dies here */
        if (sh->command_count <= i || i < 0 || !history_get(sh, (int)i))
            return sh_fail("Command index out of range");
        char *line = xstrndup(history_get(sh, (int)i), strlen(history_get(sh, (int)i)));
        char **v;
        int n = sh_tokenize(line, &v);
        if (n > 0 && strcmp(v[0], "redo") == 0) {
            sh_free_args(n, v);
            free(line);
            return sh_fail("No redoing redos");
        }
        history_put(sh, sh->command_count, line);
        sh_process(sh, n, v);
        sh_free_args(n, v);
        free(line);
        if (sh->quit)
            return sh->exit_code;
    } else if (strcmp(cmd, "history") == 0) {
        for (int i = sh->command_count - 10; i <= sh->command_count; i++) {
            if (i < 0)
                continue;
            const char *h = history_get(sh, i);
            printf("%d - %s\n", i, h ? h : "null");
        }
    } else if (strcmp(cmd, "printwatches") == 0) {
        if (argc == 1)
            printf("printwatches is %s\n", sh->print_watches ? "on" : "off");
        else
            sh->print_watches = strcmp(argv[1], "on") == 0;
    } else if (strcmp(cmd, "connect") == 0) {
        sh_connect(sh, argc >= 2 ? argv[1] : sh->host);
    }
    if (!alive(sh)) {
        printf("Not connected\n");
        fflush(stdout);
        return 1; /* corral: zkCli exits 0 here */
    }
    if (def->fn)
        status = def->fn(sh, argc, argv);
    fflush(stdout);
    fflush(stderr);
    return status;
}

void sh_process(shell_t *sh, int argc, char **argv)
{
    sh->exit_code = process_zk_cmd(sh, argc, argv);
}

void sh_execute_line(shell_t *sh, const char *line)
{
    if (!*line)
        return;
    char **argv;
    int argc = sh_tokenize(line, &argv);
    history_put(sh, sh->command_count, line);
    sh_process(sh, argc, argv);
    sh_free_args(argc, argv);
    sh->command_count++;
}
