/* repl: interactive mode on libedit's readline interface, driven from the
 * libuv loop so that watch events are printed while the prompt is idle.
 *
 * The loop runs until stdin is readable (or a signal arrives); then, outside
 * any libuv callback, one key is fed to rl_callback_read_char. A finished
 * line is executed there too, so commands and tab completion (which asks the
 * server for children) may run the loop themselves through the zkc_call_*
 * helpers. libedit leaves unbuffered mode after delivering a line; the
 * handler is installed again, with the new prompt, after the command.
 *
 * Ctrl-C drops the line being edited and shows a fresh prompt; Ctrl-D on an
 * empty line ends the session; history lives in ~/.corral_history.
 *
 * libedit's callback interface has no user pointer, hence the one
 * file-static pointer to the running repl. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <editline/readline.h>

#include "base/buf.h"
#include "cli/shell.h"

#define HISTORY_FILE ".corral_history"
#define HISTORY_MAX 1000

typedef struct completion {
    char **v;
    int n, next;
} completion_t;

typedef struct repl {
    shell_t *sh;
    completion_t comp; /* candidates of the completion in progress */
    uv_poll_t poll;
    uv_signal_t sigint, sigwinch;
    bool readable;
    bool interrupted;
    bool resized;
    bool eof;
    char *line; /* a finished line waiting to be executed */
    bool got_line;
    char prompt[512];
    char history_path[4096];
} repl_t;

static repl_t *active; /* for libedit's context-free callbacks */

static void on_line(char *line)
{
    active->got_line = true;
    active->line = line; /* NULL: end of input */
    if (!line)
        active->eof = true;
}

static void update_prompt(repl_t *r)
{
    sh_prompt(r->sh, r->prompt, sizeof r->prompt);
}

/* ---- Output while idle ---------------------------------------------------------------- */

static void before_async(shell_t *sh)
{
    (void)sh;
    fputs("\r\033[K", stdout); /* erase the prompt line; the event follows */
    fflush(stdout);
}

static void after_async(shell_t *sh)
{
    repl_t *r = sh->front;
    update_prompt(r);
    rl_set_prompt(r->prompt);
    rl_forced_update_display();
}

/* ---- Completion -------------------------------------------------------------------------- */

static char *next_match(const char *text, int state)
{
    (void)text;
    completion_t *c = &active->comp;
    if (state == 0)
        c->next = 0;
    if (c->next < c->n)
        return strdup(c->v[c->next++]);
    return NULL;
}

static void comp_reset(completion_t *c)
{
    for (int i = 0; i < c->n; i++)
        free(c->v[i]);
    free(c->v);
    memset(c, 0, sizeof *c);
}

static void comp_add(completion_t *c, const char *s)
{
    c->v = xrealloc(c->v, (size_t)(c->n + 1) * sizeof(char *));
    c->v[c->n++] = xstrndup(s, strlen(s));
}

/* JLineZNodeCompleter: the first word completes command names, a word that
 * starts with '/' completes the last path component from the server. */
static char **complete(const char *text, int start, int end)
{
    (void)end;
    shell_t *sh = active->sh;
    completion_t *comp = &active->comp;
    rl_attempted_completion_over = 1;
    comp_reset(comp);
    rl_completion_append_character = ' ';
    if (text[0] == '/' && sh->zk && zkc_is_connected(sh->zk)) {
        const char *slash = strrchr(text, '/');
        size_t dlen = (size_t)(slash - text);
        char *dir = dlen == 0 ? xstrndup("/", 1) : xstrndup(text, dlen);
        const char *prefix = slash + 1;
        zkc_call_t call = {0};
        bool was_idle = sh->idle;
        sh->idle = false;
        int err =
            sh_wait(sh, zkc_get_children(sh->zk, dir, false, false, zkc_call_done, &call), &call);
        if (err == ZOK) {
            for (int32_t i = 0; i < call.res.n_children; i++) {
                const char *c = call.res.children[i];
                if (strncmp(c, prefix, strlen(prefix)) != 0)
                    continue;
                buf_t b;
                buf_init(&b);
                buf_printf(&b, "%s/%s", dlen == 0 ? "" : dir, c);
                buf_append(&b, "", 1);
                comp_add(comp, (char *)b.data);
                buf_free(&b);
            }
        }
        zkc_result_free(&call.res);
        if (comp->n == 1) { /* a node with children gets a '/', a leaf a space */
            zkc_call_t st = {0};
            if (sh_wait(sh, zkc_exists(sh->zk, comp->v[0], false, zkc_call_done, &st), &st) ==
                    ZOK &&
                st.res.stat.num_children > 0)
                rl_completion_append_character = '/';
            zkc_result_free(&st.res);
        }
        sh->idle = was_idle;
        free(dir);
    } else if (start == 0 || strspn(rl_line_buffer, " \t") == (size_t)start) {
        const char *name;
        for (size_t i = 0; (name = sh_command_name(i)); i++)
            if (strncmp(name, text, strlen(text)) == 0)
                comp_add(comp, name);
    }
    if (comp->n == 0)
        return NULL;
    return rl_completion_matches(text, next_match);
}

/* ---- Loop ---------------------------------------------------------------------------------- */

static void on_readable(uv_poll_t *p, int status, int events)
{
    (void)events;
    repl_t *r = p->data;
    uv_poll_stop(p);
    r->readable = true;
    if (status < 0)
        r->eof = true;
    uv_stop(p->loop);
}

static void on_signal(uv_signal_t *s, int signum)
{
    repl_t *r = s->data;
    if (signum == SIGINT)
        r->interrupted = true;
    else
        r->resized = true;
    uv_stop(s->loop);
}

static void install(repl_t *r)
{
    update_prompt(r);
    rl_callback_handler_install(r->prompt, on_line);
}

static void closed_cb(uv_handle_t *h)
{
    (void)h;
}

int sh_repl(shell_t *sh)
{
    repl_t r;
    memset(&r, 0, sizeof r);
    r.sh = sh;
    active = &r;
    sh->front = &r;
    sh->hooks.before = before_async;
    sh->hooks.after = after_async;

    rl_catch_signals = 0; /* libuv owns the signals */
    rl_catch_sigwinch = 0;
    rl_readline_name = "corral";
    rl_attempted_completion_function = complete;
    rl_initialize();
    using_history();
    stifle_history(HISTORY_MAX);
    const char *home = getenv("HOME");
    if (home && *home) {
        snprintf(r.history_path, sizeof r.history_path, "%s/%s", home, HISTORY_FILE);
        read_history(r.history_path);
    }

    uv_poll_init(sh->loop, &r.poll, STDIN_FILENO);
    r.poll.data = &r;
    uv_signal_init(sh->loop, &r.sigint);
    r.sigint.data = &r;
    uv_signal_start(&r.sigint, on_signal, SIGINT);
    uv_signal_init(sh->loop, &r.sigwinch);
    r.sigwinch.data = &r;
    uv_signal_start(&r.sigwinch, on_signal, SIGWINCH);

    install(&r);
    while (!sh->quit && !r.eof) {
        sh->idle = true;
        r.readable = false;
        uv_poll_start(&r.poll, UV_READABLE | UV_DISCONNECT, on_readable);
        uv_run(sh->loop, UV_RUN_DEFAULT);
        uv_poll_stop(&r.poll);
        if (r.resized) {
            r.resized = false;
            rl_resize_terminal();
        }
        if (r.interrupted) {
            r.interrupted = false;
            rl_callback_handler_remove();
            fputs("^C\n", stdout);
            fflush(stdout);
            install(&r);
            continue;
        }
        if (!r.readable)
            continue;
        rl_callback_read_char();
        if (!r.got_line)
            continue;
        r.got_line = false;
        sh->idle = false;
        if (r.line) {
            char *line = r.line;
            r.line = NULL;
            if (*line) {
                add_history(line);
                if (r.history_path[0])
                    write_history(r.history_path);
            }
            sh_execute_line(sh, line);
            free(line);
            if (!sh->quit)
                install(&r);
        } else {
            fputc('\n', stdout); /* Ctrl-D: leave the terminal on a fresh line */
        }
    }
    sh->idle = false;
    rl_callback_handler_remove();
    comp_reset(&r.comp);
    sh->hooks.before = NULL;
    sh->hooks.after = NULL;
    uv_close((uv_handle_t *)&r.poll, closed_cb);
    uv_close((uv_handle_t *)&r.sigint, closed_cb);
    uv_close((uv_handle_t *)&r.sigwinch, closed_cb);
    uv_run(sh->loop, UV_RUN_NOWAIT);
    active = NULL;
    sh->front = NULL;
    return sh->exit_code;
}
