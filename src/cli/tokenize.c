/* tokenize: zkCli's command-line splitting. ZooKeeperMain finds every match
 * of  \s*([^"']\S*|"[^"]*"|'[^']*')\s*  in the line and strips one pair of
 * matching surrounding quotes from each token. This is a hand-written
 * matcher for exactly that pattern, including its backtracking corner
 * (a quote with no closing partner after whitespace). */
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "cli/shell.h"

/* Java's \s: [ \t\n\x0B\f\r]. */
static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* Try the group alternatives at q; on success set [*b, *e). */
static bool match_group(const char *s, size_t n, size_t q, size_t *b, size_t *e)
{
    if (q >= n)
        return false;
    char c = s[q];
    if (c != '"' && c != '\'') {
        size_t k = q + 1;
        while (k < n && !is_space(s[k]))
            k++;
        *b = q;
        *e = k;
        return true;
    }
    const char *close = memchr(s + q + 1, c, n - q - 1);
    if (!close)
        return false;
    *b = q;
    *e = (size_t)(close - s) + 1;
    return true;
}

/* One Matcher.find() starting at `from`; returns false when nothing matches. */
static bool find(const char *s, size_t n, size_t from, size_t *b, size_t *e, size_t *next)
{
    for (size_t p = from; p <= n; p++) {
        size_t ws = 0;
        while (p + ws < n && is_space(s[p + ws]))
            ws++;
        /* \s* is greedy: try the longest run first, then give back. */
        for (size_t k = ws + 1; k-- > 0;) {
            if (match_group(s, n, p + k, b, e)) {
                size_t t = *e;
                while (t < n && is_space(s[t]))
                    t++;
                *next = t;
                return true;
            }
        }
    }
    return false;
}

int sh_tokenize(const char *line, char ***argv)
{
    size_t n = strlen(line), pos = 0;
    int argc = 0, cap = 0;
    char **v = NULL;
    size_t b, e, next;
    while (pos <= n && find(line, n, pos, &b, &e, &next)) {
        size_t len = e - b;
        const char *t = line + b;
        if (len >= 2 && (t[0] == '"' || t[0] == '\'') && t[len - 1] == t[0]) {
            t++;
            len -= 2;
        }
        if (argc + 1 >= cap) {
            cap = cap ? cap * 2 : 8;
            v = xrealloc(v, (size_t)cap * sizeof(char *));
        }
        v[argc++] = xstrndup(t, len);
        if (next == pos && e == b)
            next++; /* never loop on an empty match */
        pos = next;
    }
    if (!v)
        v = xcalloc(1, sizeof(char *));
    v[argc] = NULL;
    *argv = v;
    return argc;
}

void sh_free_args(int argc, char **argv)
{
    if (!argv)
        return;
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    free(argv);
}
