/* mntr: split the rendered mntr text ("zk_<name>\t<value>\n" lines) into
 * typed entries (see mntr.h). */
#include "admin/mntr.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

mntr_kind_t mntr_kind_of(const char *s)
{
    const char *p = s;
    if (*p == '-')
        p++;
    if (!isdigit((unsigned char)*p))
        return strcmp(s, "NaN") == 0 ? MNTR_DOUBLE : MNTR_STRING;
    while (isdigit((unsigned char)*p))
        p++;
    if (*p == '\0')
        return MNTR_INT;
    if (*p != '.' || !isdigit((unsigned char)p[1]))
        return MNTR_STRING;
    for (p++; isdigit((unsigned char)*p); p++)
        ;
    if (*p == 'E') { /* Java's scientific form: 1.0E-4, 1.2345678E7 */
        p++;
        if (*p == '-')
            p++;
        if (!isdigit((unsigned char)*p))
            return MNTR_STRING;
        while (isdigit((unsigned char)*p))
            p++;
    }
    return *p == '\0' ? MNTR_DOUBLE : MNTR_STRING;
}

void mntr_collect(const fourlw_view_t *v, mntr_list_t *out)
{
    memset(out, 0, sizeof *out);
    buf_init(&out->text);
    fourlw_render(FOURLW_MNTR, v, &out->text);
    buf_append(&out->text, "", 1);
    size_t cap = 0;
    char *line = (char *)out->text.data;
    while (*line) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        char *tab = strchr(line, '\t');
        if (tab && strncmp(line, "zk_", 3) == 0) {
            *tab = '\0';
            if (out->n == cap) {
                cap = cap ? cap * 2 : 512;
                out->v = xrealloc(out->v, cap * sizeof *out->v);
            }
            out->v[out->n++] = (mntr_entry_t){line + 3, tab + 1, mntr_kind_of(tab + 1)};
        }
        if (!nl)
            break;
        line = nl + 1;
    }
}

void mntr_list_free(mntr_list_t *l)
{
    free(l->v);
    buf_free(&l->text);
    memset(l, 0, sizeof *l);
}

const mntr_entry_t *mntr_find(const mntr_list_t *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].name, name) == 0)
            return &l->v[i];
    return NULL;
}
