/* opts: the part of Apache commons-cli 1.5's DefaultParser that zkCli's
 * commands rely on — short options with and without a value, bundling
 * ("-sw", "-v3"), options anywhere on the line, "--" to stop, negative
 * numbers as values, one optional exclusive group (setquota/delquota) — with
 * its exception messages, which zkCli prints as
 * "org.apache.commons.cli.<Exception>: <message>". */
#ifndef CORRAL_CLI_OPTS_H
#define CORRAL_CLI_OPTS_H

#include <stdbool.h>

#define OPTS_MAX 8

typedef struct opt_def {
    const char *name; /* "s", "v", "members"… (no leading '-') */
    bool has_arg;
    const char *desc; /* for help text and group messages */
    bool in_group;    /* member of the command's exclusive group */
} opt_def_t;

typedef struct opt_spec {
    opt_def_t opts[OPTS_MAX];
    int n;
    bool group_required;
} opt_spec_t;

typedef struct opt_result {
    bool has[OPTS_MAX];
    const char *value[OPTS_MAX]; /* borrowed from argv (first value given) */
    char **args;                 /* positional arguments, argv[0] included */
    int nargs;
    char error[256]; /* set when parsing failed */
} opt_result_t;

/* A command that takes no options. */
extern const opt_spec_t opts_none;

/* Parse argv[0..argc) (argv[0] is the command name, kept as args[0]).
 * Returns false with res->error set to the full zkCli message. */
bool opts_parse(const opt_spec_t *spec, int argc, char **argv, opt_result_t *res);
void opts_free(opt_result_t *res);
bool opts_has(const opt_spec_t *spec, const opt_result_t *res, const char *name);
const char *opts_value(const opt_spec_t *spec, const opt_result_t *res, const char *name);

#endif
