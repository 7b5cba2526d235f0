/* purge: PurgeTxnLog semantics (zkCleanup.sh, autopurge; §14.6). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/snapshot.h"
#include "store/store.h"

static int remove_file(const char *dir, const char *name, store_removed_t *removed,
                       store_err_t *err)
{
    char path[STORE_PATH_MAX];
    if (store_path_join(path, sizeof(path), dir, name, err) != 0)
        return -1;
    if (unlink(path) != 0) {
        if (errno == ENOENT)
            return 0;
        return store_errf(err, "%s: cannot remove: %s", path, strerror(errno));
    }
    removed->paths = xrealloc(removed->paths, (removed->n + 1) * sizeof(*removed->paths));
    removed->paths[removed->n++] = xstrndup(path, strlen(path));
    return 0;
}

int store_purge(const char *snap_dir, const char *log_dir, int retain, store_removed_t *removed,
                store_err_t *err)
{
    removed->paths = NULL;
    removed->n = 0;
    if (retain < STORE_PURGE_MIN_RETAIN)
        return store_errf(err, "snapRetainCount must be at least %d (got %d)",
                          STORE_PURGE_MIN_RETAIN, retain);
    store_file_list_t snaps, logs;
    if (store_list(snap_dir, STORE_SNAPSHOT, false, &snaps, err) != 0)
        return -1;
    int kept = 0;
    int64_t least = -1;
    for (size_t i = 0; i < snaps.n && kept < retain; i++) {
        char path[STORE_PATH_MAX];
        if (store_path_join(path, sizeof(path), snap_dir, snaps.v[i].name, err) != 0) {
            store_file_list_free(&snaps);
            return -1;
        }
        if (snapshot_looks_valid(path)) {
            kept++;
            least = snaps.v[i].zxid;
        }
    }
    if (kept == 0) {
        store_file_list_free(&snaps);
        return 0;
    }
    if (store_list(log_dir, STORE_LOG, true, &logs, err) != 0) {
        store_file_list_free(&snaps);
        return -1;
    }
    int rc = 0;
    /* Logs before the one needed to replay from `least` go. */
    size_t first_kept = store_logs_from(&logs, least);
    for (size_t i = 0; rc == 0 && i < first_kept; i++)
        rc = remove_file(log_dir, logs.v[i].name, removed, err);
    for (size_t i = 0; rc == 0 && i < snaps.n; i++)
        if (snaps.v[i].zxid < least)
            rc = remove_file(snap_dir, snaps.v[i].name, removed, err);
    store_file_list_free(&snaps);
    store_file_list_free(&logs);
    return rc;
}

void store_removed_free(store_removed_t *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->paths[i]);
    free(r->paths);
    r->paths = NULL;
    r->n = 0;
}
