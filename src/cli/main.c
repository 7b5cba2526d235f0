/* main: the `corral` command line — zkCli.sh's options, the three modes, and
 * the exit status.
 *
 *   corral [-server host:port[,host:port...][/chroot]] [-timeout ms] [-r]
 *          [-waitforconnection] [cmd args...]
 *
 * With a command: run it once (after the session is up) and exit with its
 * status. Without: interactive on a terminal, otherwise read commands from
 * standard input (no prompt, as zkCli.sh without JLine) and exit with the
 * status of the last one. Exit codes: 0 success, 1 a command failed (or no
 * server could be reached), 2 bad usage of corral itself. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "cli/shell.h"

#define EXIT_USAGE 2

static void usage(FILE *out)
{
    fprintf(out, "usage: corral [-server host:port[,host:port...][/chroot]] [-timeout ms] [-r]\n"
                 "              [-waitforconnection] [cmd args...]\n"
                 "\n"
                 "A ZooKeeper shell with zkCli.sh's commands and output.\n"
                 "\n"
                 "  -server hosts        servers to connect to (default localhost:2181), tried\n"
                 "                       in random order\n"
                 "  -timeout ms          session timeout to ask for (default 30000); also how\n"
                 "                       long to wait for a first connection\n"
                 "  -r                   accept a read-only server\n"
                 "  -waitforconnection   interactive mode: wait for the session before the\n"
                 "                       first prompt\n"
                 "  -h, -help            this text; `corral help` lists the commands\n"
                 "\n"
                 "With a command, run it and exit; without, read commands from the terminal\n"
                 "(line editing, history in ~/.corral_history, Tab completes commands and\n"
                 "znode paths) or from standard input.\n"
                 "Exit status: 0 success, 1 the (last) command failed or no server answered,\n"
                 "2 invalid options.\n");
}

/* ---- Reading commands from a pipe or a file ---------------------------------------------- */

typedef struct reader {
    uv_poll_t poll;
    bool pollable;
    bool readable;
    bool eof;
    buf_t acc;
} reader_t;

static void reader_ready(uv_poll_t *p, int status, int events)
{
    (void)status;
    (void)events;
    reader_t *r = p->data;
    r->readable = true;
    uv_poll_stop(p);
    uv_stop(p->loop);
}

/* Next line (without its terminator) or NULL at the end. While waiting on a
 * pipe the loop runs, so watch events are printed as they come. */
static char *next_line(shell_t *sh, reader_t *r)
{
    for (;;) {
        char *nl = r->acc.len ? memchr(r->acc.data, '\n', r->acc.len) : NULL;
        if (nl || (r->eof && r->acc.len)) {
            size_t n = nl ? (size_t)(nl - (char *)r->acc.data) : r->acc.len;
            char *line = xstrndup((char *)r->acc.data, n);
            buf_consume(&r->acc, nl ? n + 1 : n);
            size_t l = strlen(line);
            if (l && line[l - 1] == '\r')
                line[l - 1] = 0;
            return line;
        }
        if (r->eof)
            return NULL;
        if (r->pollable) {
            r->readable = false;
            uv_poll_start(&r->poll, UV_READABLE | UV_DISCONNECT, reader_ready);
            while (!r->readable)
                uv_run(sh->loop, UV_RUN_DEFAULT);
        }
        char tmp[4096];
        ssize_t n = read(STDIN_FILENO, tmp, sizeof tmp);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            r->eof = true;
        else
            buf_append(&r->acc, tmp, (size_t)n);
    }
}

static void reader_closed(uv_handle_t *h)
{
    (void)h;
}

static int run_stdin(shell_t *sh)
{
    reader_t r;
    memset(&r, 0, sizeof r);
    buf_init(&r.acc);
    r.poll.data = &r;
    r.pollable = uv_poll_init(sh->loop, &r.poll, STDIN_FILENO) == 0;
    char *line;
    while (!sh->quit && (line = next_line(sh, &r))) {
        sh_execute_line(sh, line);
        free(line);
    }
    if (r.pollable) {
        uv_close((uv_handle_t *)&r.poll, reader_closed);
        uv_run(sh->loop, UV_RUN_NOWAIT);
    }
    buf_free(&r.acc);
    return sh->exit_code;
}

/* ---- Main ------------------------------------------------------------------------------------ */

/* Wait for the first session; on failure say why (zkCli would hang or die). */
static bool wait_first_connection(shell_t *sh)
{
    if (!sh->zk)
        return false;
    if (zkc_wait_connected(sh->zk, sh->timeout_ms, true))
        return true;
    const char *why = sh->zk ? zkc_last_error(sh->zk) : "";
    if (why && *why)
        sh_fail("Unable to connect to %s: %s", sh->host, why);
    else
        sh_fail("Unable to connect to %s: no answer within %d ms", sh->host, sh->timeout_ms);
    return false;
}

/* Close the session and the loop, then return `code` (every exit path). */
static int finish(shell_t *sh, uv_loop_t *loop, int code)
{
    sh_free(sh);
    /* Let closing handles finish, then leave. */
    uv_run(loop, UV_RUN_NOWAIT);
    uv_loop_close(loop);
    fflush(stdout);
    return code;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    setvbuf(stderr, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);

    uv_loop_t loop;
    uv_loop_init(&loop);
    shell_t sh;
    sh_init(&sh, &loop);

    bool wait_connection = false;
    int cmd_at = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-') {
            cmd_at = i;
            break;
        }
        bool takes = strcmp(a, "-server") == 0 || strcmp(a, "-timeout") == 0 ||
                     strcmp(a, "-client-configuration") == 0;
        if (takes && i + 1 >= argc) {
            fprintf(stderr, "Error: no argument found for option %s\n", a);
            return finish(&sh, &loop, EXIT_USAGE);
        }
        if (strcmp(a, "-server") == 0) {
            free(sh.host);
            sh.host = xstrndup(argv[i + 1], strlen(argv[i + 1]));
            i++;
        } else if (strcmp(a, "-timeout") == 0) {
            char *end;
            long t = strtol(argv[i + 1], &end, 10);
            if (!*argv[i + 1] || *end || t <= 0 || t > 0x7fffffffL) {
                fprintf(stderr, "corral: invalid -timeout: %s\n", argv[i + 1]);
                return finish(&sh, &loop, EXIT_USAGE);
            }
            sh.timeout_ms = (int32_t)t;
            i++;
        } else if (strcmp(a, "-client-configuration") == 0) {
            fprintf(stderr, "corral: -client-configuration is not supported, ignored\n");
            i++;
        } else if (strcmp(a, "-r") == 0) {
            sh.read_only = true;
        } else if (strcmp(a, "-waitforconnection") == 0) {
            wait_connection = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "-help") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return finish(&sh, &loop, 0);
        } else {
            fprintf(stderr, "corral: unknown option %s\n", a);
            usage(stderr);
            return finish(&sh, &loop, EXIT_USAGE);
        }
    }

    printf("Connecting to %s\n", sh.host);
    sh_connect(&sh, sh.host);
    int code;
    if (cmd_at > 0) {
        /* Commands that need no server run at once (an unknown one fails
         * before any connection, as in zkCli). */
        const char *c = argv[cmd_at];
        bool local = !sh_command_known(c) || !strcmp(c, "help") || !strcmp(c, "version");
        if (!local && !wait_first_connection(&sh)) {
            code = 1;
        } else {
            sh_process(&sh, argc - cmd_at, argv + cmd_at);
            code = sh.exit_code;
        }
    } else if (isatty(STDIN_FILENO)) {
        printf("Welcome to ZooKeeper!\n");
        printf("JLine support is enabled\n");
        if (wait_connection && !wait_first_connection(&sh))
            code = 1;
        else
            code = sh_repl(&sh);
    } else {
        printf("Welcome to ZooKeeper!\n");
        printf("JLine support is disabled\n");
        wait_first_connection(&sh); /* zkCli goes on regardless: so do we */
        code = run_stdin(&sh);
    }
    return finish(&sh, &loop, code);
}
