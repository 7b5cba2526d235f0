/* mntr: the lines of the mntr four-letter word as typed (name, value) pairs.
 * The JSON "monitor" command and the Prometheus page are both built from
 * these, so they carry exactly the keys and values mntr prints for the same
 * view. */
#ifndef CORRAL_ADMIN_MNTR_H
#define CORRAL_ADMIN_MNTR_H

#include <stddef.h>

#include "base/buf.h"
#include "server/fourlw.h"

typedef enum mntr_kind {
    MNTR_INT,    /* "-?[0-9]+" */
    MNTR_DOUBLE, /* Java double text: 0.0, 2.9543, 1.0E-4, NaN */
    MNTR_STRING  /* anything else (zk_version, zk_server_state, ...) */
} mntr_kind_t;

typedef struct mntr_entry {
    const char *name; /* without the "zk_" prefix */
    const char *value;
    mntr_kind_t kind;
} mntr_entry_t;

typedef struct mntr_list {
    mntr_entry_t *v;
    size_t n;
    buf_t text; /* the rendered mntr output, split in place */
} mntr_list_t;

/* Render mntr for `v` and split it into entries (in mntr's order). */
void mntr_collect(const fourlw_view_t *v, mntr_list_t *out);
void mntr_list_free(mntr_list_t *l);
/* The entry called `name`, or NULL. */
const mntr_entry_t *mntr_find(const mntr_list_t *l, const char *name);
/* How a value reads: integer, Java double or string. */
mntr_kind_t mntr_kind_of(const char *value);

#endif
