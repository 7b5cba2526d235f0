/* view: a point-in-time copy of the server's figures (counters, connections,
 * watches, sessions, config, environment) in the shape the fourlw renderer
 * takes. Filled on the loop thread; read-only afterwards; freed at once.
 * The four-letter words use it, and so can any other monitoring output. */
#ifndef CORRAL_VIEW_H
#define CORRAL_VIEW_H

#include <limits.h>
#include <sys/utsname.h>

#include "server/fourlw.h"

struct server;

/* Memory owned by one view: every allocation is freed at once. */
typedef struct scratch {
    void **v;
    size_t n, cap;
} scratch_t;

#define VIEW_MAX_METRICS 32
#define VIEW_MAX_SUMMARIES 8

typedef struct server_view {
    fourlw_view_t v;
    scratch_t scratch;
    buf_t conf;
    fourlw_metric_t metrics[VIEW_MAX_METRICS];
    fourlw_summary_metric_t summaries[VIEW_MAX_SUMMARIES];
    struct utsname uts;
    char host[256];
    char cwd[PATH_MAX];
} server_view_t;

/* Optional, costlier parts (O(watches) or O(sessions)). */
#define VIEW_WATCHES_BY_SESSION 1u
#define VIEW_WATCHES_BY_PATH 2u
#define VIEW_DUMP 4u
#define VIEW_DIR_SIZES 8u /* bytes in the snapshot and log directories */

void server_view_fill(struct server *s, server_view_t *sv, unsigned parts);
void server_view_free(server_view_t *sv);

#endif
