/* opts: commons-cli DefaultParser semantics for zkCli's commands (opts.h). */
#include "cli/opts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

typedef struct parser {
    const opt_spec_t *spec;
    opt_result_t *res;
    int current; /* option waiting for its value, or -1 */
    int group_selected;
    bool skip;
    bool failed;
} parser_t;

static int find_opt(const opt_spec_t *spec, const char *name, size_t n)
{
    for (int i = 0; i < spec->n; i++)
        if (strlen(spec->opts[i].name) == n && memcmp(spec->opts[i].name, name, n) == 0)
            return i;
    return -1;
}

static void fail(parser_t *p, const char *cls, const char *fmt, const char *a, const char *b)
{
    if (p->failed)
        return;
    p->failed = true;
    char msg[200];
    snprintf(msg, sizeof msg, fmt, a, b ? b : "");
    snprintf(p->res->error, sizeof p->res->error, "org.apache.commons.cli.%s: %s", cls, msg);
}

static void add_arg(parser_t *p, char *tok)
{
    p->res->args[p->res->nargs++] = tok;
}

/* checkRequiredArgs: the previous option still wants its value. */
static void check_required_arg(parser_t *p)
{
    if (p->current >= 0)
        fail(p, "MissingArgumentException", "Missing argument for option: %s",
             p->spec->opts[p->current].name, NULL);
}

static void handle_option(parser_t *p, int i)
{
    check_required_arg(p);
    if (p->failed)
        return;
    const opt_def_t *d = &p->spec->opts[i];
    if (d->in_group) {
        if (p->group_selected >= 0 && p->group_selected != i) {
            fail(p, "AlreadySelectedException",
                 "The option '%s' was specified but an option from this group has already been "
                 "selected: '%s'",
                 d->name, p->spec->opts[p->group_selected].name);
            return;
        }
        p->group_selected = i;
    }
    p->res->has[i] = true;
    p->current = d->has_arg ? i : -1;
}

static void add_value(parser_t *p, const char *v)
{
    int i = p->current;
    if (!p->res->value[i])
        p->res->value[i] = v;
    p->current = -1;
}

static void handle_unknown(parser_t *p, char *tok)
{
    if (tok[0] == '-' && tok[1] != 0) {
        fail(p, "UnrecognizedOptionException", "Unrecognized option: %s", tok, NULL);
        return;
    }
    add_arg(p, tok);
}

/* Double.parseDouble would accept it (roughly: Java's float syntax). */
static bool is_number(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s == '+' || *s == '-')
        s++;
    if (strcmp(s, "NaN") == 0 || strcmp(s, "Infinity") == 0)
        return true;
    bool digits = false;
    while (*s >= '0' && *s <= '9') {
        s++;
        digits = true;
    }
    if (*s == '.') {
        s++;
        while (*s >= '0' && *s <= '9') {
            s++;
            digits = true;
        }
    }
    if (!digits)
        return false;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (!(*s >= '0' && *s <= '9'))
            return false;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    if (*s == 'f' || *s == 'F' || *s == 'd' || *s == 'D')
        s++;
    while (*s == ' ' || *s == '\t')
        s++;
    return *s == 0;
}

/* isShortOption (there are no long options): "-x..." whose name, or whose
 * first letter, is an option. */
static bool is_option(const opt_spec_t *spec, const char *tok)
{
    if (tok[0] != '-' || tok[1] == 0)
        return false;
    const char *name = tok + 1;
    const char *eq = strchr(name, '=');
    size_t n = eq ? (size_t)(eq - name) : strlen(name);
    if (find_opt(spec, name, n) >= 0)
        return true;
    return n > 0 && find_opt(spec, name, 1) >= 0;
}

static void handle_concatenated(parser_t *p, char *tok)
{
    size_t len = strlen(tok);
    for (size_t i = 1; i < len; i++) {
        int o = find_opt(p->spec, tok + i, 1);
        if (o < 0) {
            handle_unknown(p, tok);
            return;
        }
        handle_option(p, o);
        if (p->failed)
            return;
        if (p->current >= 0 && i + 1 != len) {
            add_value(p, tok + i + 1);
            return;
        }
    }
}

static void handle_short(parser_t *p, char *tok)
{
    /* Util.stripLeadingHyphens */
    const char *t = tok[1] == '-' ? tok + 2 : tok + 1;
    size_t tl = strlen(t);
    const char *eq = strchr(t, '=');
    if (tl == 1) {
        int o = find_opt(p->spec, t, 1);
        if (o >= 0)
            handle_option(p, o);
        else
            handle_unknown(p, tok);
    } else if (!eq) {
        int o = find_opt(p->spec, t, tl);
        if (o >= 0)
            handle_option(p, o);
        else
            handle_concatenated(p, tok);
    } else {
        size_t ol = (size_t)(eq - t);
        int o = ol == 1 ? find_opt(p->spec, t, 1) : -1;
        if (o >= 0 && p->spec->opts[o].has_arg) {
            handle_option(p, o);
            if (!p->failed)
                add_value(p, eq + 1);
        } else {
            handle_unknown(p, tok);
        }
    }
}

static void handle_token(parser_t *p, char *tok)
{
    if (p->skip) {
        add_arg(p, tok);
    } else if (strcmp(tok, "--") == 0) {
        p->skip = true;
    } else if (p->current >= 0 && (!is_option(p->spec, tok) || is_number(tok))) {
        add_value(p, tok);
    } else if (strncmp(tok, "--", 2) == 0) {
        handle_unknown(p, tok); /* no long options are defined */
    } else if (tok[0] == '-' && tok[1] != 0) {
        handle_short(p, tok);
    } else {
        handle_unknown(p, tok);
    }
}

const opt_spec_t opts_none = {{{0}}, 0, false};

bool opts_parse(const opt_spec_t *spec, int argc, char **argv, opt_result_t *res)
{
    memset(res, 0, sizeof *res);
    res->args = xcalloc((size_t)argc + 1, sizeof(char *));
    parser_t p = {spec, res, -1, -1, false, false};
    for (int i = 0; i < argc && !p.failed; i++)
        handle_token(&p, argv[i]);
    if (!p.failed)
        check_required_arg(&p);
    if (!p.failed && spec->group_required && p.group_selected < 0) {
        buf_t b;
        buf_init(&b);
        buf_append_str(&b,
                       "org.apache.commons.cli.MissingOptionException: Missing required option: [");
        bool first = true;
        for (int i = 0; i < spec->n; i++) {
            if (!spec->opts[i].in_group)
                continue;
            buf_printf(&b, "%s-%s %s", first ? "" : ", ", spec->opts[i].name, spec->opts[i].desc);
            first = false;
        }
        buf_append(&b, "]", 2);
        snprintf(res->error, sizeof res->error, "%s", (char *)b.data);
        buf_free(&b);
        p.failed = true;
    }
    return !p.failed;
}

void opts_free(opt_result_t *res)
{
    free(res->args);
    res->args = NULL;
}

bool opts_has(const opt_spec_t *spec, const opt_result_t *res, const char *name)
{
    int o = find_opt(spec, name, strlen(name));
    return o >= 0 && res->has[o];
}

const char *opts_value(const opt_spec_t *spec, const opt_result_t *res, const char *name)
{
    int o = find_opt(spec, name, strlen(name));
    return o >= 0 ? res->value[o] : NULL;
}
