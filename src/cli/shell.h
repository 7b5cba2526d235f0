/* shell: the `corral` program's shared context and the contracts between its
 * files. corral is zkCli.sh (ZooKeeper 3.8 ZooKeeperMain) in C: the same
 * commands, flags, output text and streams, on the zkc client library.
 *
 *   main.c       command line, modes (interactive / stdin / one-shot), exit
 *   dispatch.c   processCmd: the command table, history, redo, usage, the
 *                "Not connected" rule, exit codes
 *   tokenize.c   zkCli's line splitting (its ARGS_PATTERN regex)
 *   opts.c       the commons-cli DefaultParser subset the commands rely on
 *   print.c      Stat blocks, Java dates, watch events, error messages
 *   cmd_*.c      the commands
 *   repl.c       interactive mode on libedit (history file, completion,
 *                Ctrl-C, events printed while idle)
 *
 * Output goes to stdout/stderr exactly where zkCli writes it; both are line
 * buffered so that their interleaving matches a JVM's autoflushing streams. */
#ifndef CORRAL_CLI_SHELL_H
#define CORRAL_CLI_SHELL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#include "cli/opts.h"
#include "client/zkc.h"

#define SH_HISTORY_MAX 4096 /* numbered history kept for `history` / `redo` */

typedef struct shell shell_t;

/* Hooks the interactive front end installs so that output produced while
 * the prompt is shown (watch events) does not garble the edited line. */
typedef struct sh_async_hooks {
    void (*before)(shell_t *sh); /* clear the prompt line */
    void (*after)(shell_t *sh);  /* redraw prompt and buffer */
} sh_async_hooks_t;

struct shell {
    uv_loop_t *loop;
    zkc_t *zk;
    char *host;                    /* connect string of the current session (prompt) */
    int32_t timeout_ms;            /* -timeout: requested session timeout */
    bool read_only;                /* -r */
    bool print_watches;            /* printwatches on|off */
    int exit_code;                 /* of the last command (zkCli's exitCode) */
    int command_count;             /* zkCli's commandCount (prompt number) */
    char *history[SH_HISTORY_MAX]; /* by command number, modulo the max */
    bool quit;
    bool idle; /* true while waiting for input (events need hooks) */
    sh_async_hooks_t hooks;
    void *front; /* front end state (repl) */
};

/* ---- dispatch.c ---- */
void sh_init(shell_t *sh, uv_loop_t *loop);
void sh_free(shell_t *sh);
/* Open a session to `host` (closing a live one first, as zkCli's connect). */
void sh_connect(shell_t *sh, const char *host);
/* A line typed or read from stdin: tokenized, recorded in history, run. */
void sh_execute_line(shell_t *sh, const char *line);
/* Run an already split command (one-shot mode, redo). Sets sh->exit_code. */
void sh_process(shell_t *sh, int argc, char **argv);
/* zkCli's usage() on stderr. */
void sh_usage(void);
bool sh_command_known(const char *name);
/* The i-th command name in sorted order, NULL past the end (completion). */
const char *sh_command_name(size_t i);
const char *sh_prompt(shell_t *sh, char *buf, size_t len);
/* Close the session quietly (end of input / one-shot). */
void sh_close_quiet(shell_t *sh);

/* ---- front ends: repl.c (a terminal), main.c (stdin) ---- */
/* Read, run and print until quit or end of input; returns the exit code. */
int sh_repl(shell_t *sh);

/* ---- tokenize.c ---- */
/* Split like MyCommandOptions.parseCommand; returns argc, *argv malloc'ed
 * (free with sh_free_args). */
int sh_tokenize(const char *line, char ***argv);
void sh_free_args(int argc, char **argv);

/* ---- print.c ---- */
void sh_print_stat(FILE *out, const zk_stat_t *st);
/* The Stat block, when the command's -s option was given. */
void sh_print_stat_opt(const opt_spec_t *spec, const opt_result_t *r, const zk_stat_t *st);
/* A znode's data and a newline, "null" for none (System.out.println). */
void sh_print_data(FILE *out, const void *p, int32_t len);
/* Java Date.toString() of epoch milliseconds, local time. */
void sh_format_date(int64_t ms, char *buf, size_t len);
void sh_print_event(shell_t *sh, const zkc_event_t *ev);
/* The message a failed ZooKeeper call shows (CliWrapperException). */
const char *sh_error_text(int32_t err, const char *path, char *buf, size_t len);
/* Print a CliException message (stderr) and return 1. */
int sh_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int sh_fail_zk(int32_t err, const char *path);
/* A ZooKeeper call's exit status: 0 for ZOK, else its message printed and 1. */
int sh_zk_status(int32_t err, const char *path);
/* One line on stderr, as zkCli's System.err.println (stdout flushed first). */
void sh_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Bytes as Java prints new String(bytes, UTF_8). */
void sh_print_java_string(FILE *out, const void *p, int32_t len);
/* Java's CSV escaping of record strings (jute toString). */
void sh_print_csv_string(FILE *out, const char *s);

/* ---- request helpers (dispatch.c) ---- */
/* Wait for a request started with zkc_call_done/&call; `rc` is what the zkc
 * function returned. Returns the result's error code. */
int sh_wait(shell_t *sh, int rc, zkc_call_t *call);
/* sh_wait, then free the result: for calls whose reply only matters by its
 * error code. */
int sh_wait_discard(shell_t *sh, int rc, zkc_call_t *call);
/* Validate a client path; on failure print Java's message and return false. */
bool sh_path_ok(const char *path, bool sequential);

/* ---- argument helpers (dispatch.c) ---- */
/* Parse with `spec`; on error print the CliParseException and return false
 * (nothing left to free). */
bool sh_parse(const opt_spec_t *spec, int argc, char **argv, opt_result_t *r);
/* sh_parse, then require `min_args` positional arguments (the command name
 * counts) or print `usage` and return false (nothing left to free). */
bool sh_parse_usage(const opt_spec_t *spec, int argc, char **argv, int min_args, const char *usage,
                    opt_result_t *r);
/* sh_parse_usage with a path as args[1], validated with sh_path_ok. */
bool sh_parse_path(const opt_spec_t *spec, int argc, char **argv, const char *usage,
                   opt_result_t *r);
/* Integer.parseInt / Long.parseLong: decimal, optional sign, in [lo, hi]. */
bool sh_parse_long(const char *s, long long lo, long long hi, long long *out);
bool sh_parse_int(const char *s, int32_t *out);
/* `parent`/`child` (no doubled slash under the root), malloc'ed. */
char *sh_child_path(const char *parent, const char *child);
/* Sort by String.compareTo: for the BMP that is the UTF-8 byte order except
 * around surrogates, which paths cannot contain. */
void sh_sort_strings(char **v, int32_t n);

/* ---- commands (cmd_*.c): return the exit status (0 or 1) ---- */
typedef int (*sh_cmd_fn)(shell_t *sh, int argc, char **argv);
int cmd_create(shell_t *sh, int argc, char **argv);
int cmd_delete(shell_t *sh, int argc, char **argv);
int cmd_deleteall(shell_t *sh, int argc, char **argv);
int cmd_set(shell_t *sh, int argc, char **argv);
int cmd_get(shell_t *sh, int argc, char **argv);
int cmd_stat(shell_t *sh, int argc, char **argv);
int cmd_ls(shell_t *sh, int argc, char **argv);
int cmd_ls2(shell_t *sh, int argc, char **argv);
int cmd_sync(shell_t *sh, int argc, char **argv);
int cmd_get_all_children_number(shell_t *sh, int argc, char **argv);
int cmd_get_ephemerals(shell_t *sh, int argc, char **argv);
int cmd_get_acl(shell_t *sh, int argc, char **argv);
int cmd_set_acl(shell_t *sh, int argc, char **argv);
int cmd_addauth(shell_t *sh, int argc, char **argv);
int cmd_whoami(shell_t *sh, int argc, char **argv);
int cmd_setquota(shell_t *sh, int argc, char **argv);
int cmd_listquota(shell_t *sh, int argc, char **argv);
int cmd_delquota(shell_t *sh, int argc, char **argv);
int cmd_config(shell_t *sh, int argc, char **argv);
int cmd_reconfig(shell_t *sh, int argc, char **argv);
int cmd_version(shell_t *sh, int argc, char **argv);
int cmd_add_watch(shell_t *sh, int argc, char **argv);
int cmd_remove_watches(shell_t *sh, int argc, char **argv);
int cmd_close(shell_t *sh, int argc, char **argv);

/* ACL text "scheme:id:perm,..." as zkCli's AclParser (messages on stderr).
 * Returns the count; *out malloc'ed (free with sh_free_acl). */
int sh_parse_acl(const char *s, zkc_acl_t **out);
void sh_free_acl(zkc_acl_t *acl, int n);
/* Delete a subtree as ZKUtil.deleteRecursive (batched multis). Returns true
 * if every batch succeeded; ZooKeeper errors of the listing are returned in
 * *err (ZOK otherwise). */
bool sh_delete_recursive(shell_t *sh, const char *path, int batch, int32_t *err);

#endif
