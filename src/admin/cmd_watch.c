/* cmd_watch: watches (wchc), watches_by_path (wchp), watch_summary (wchs)
 * and dump, in ZooKeeper 3.8's JSON shapes. Like the four-letter words they
 * report the data-watch table only (ZooKeeper's DataTree.getWatches). Map
 * keys that are numbers in Java (session ids, times) are JSON strings. */
#include <inttypes.h>
#include <stdio.h>

#include "admin/commands.h"
#include "admin/json.h"

static void add_u64_key_arr(cJSON *obj, uint64_t key, cJSON *arr)
{
    char k[24];
    snprintf(k, sizeof k, "%" PRId64, (int64_t)key);
    cJSON_AddItemToObject(obj, k, arr);
}

static cJSON *str_array(const char *const *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
    return a;
}

static cJSON *id_array(const uint64_t *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(a, json_int((int64_t)v[i]));
    return a;
}

void cmd_watches(admin_call_t *c, cJSON *r)
{
    const fourlw_view_t *v = &c->sv->v;
    cJSON *m = json_add_obj(r, "session_id_to_watched_paths");
    for (size_t i = 0; i < v->nwatches_by_session; i++) {
        const fourlw_session_watches_t *w = &v->watches_by_session[i];
        add_u64_key_arr(m, w->session_id, str_array(w->paths, w->npaths));
    }
}

void cmd_watches_by_path(admin_call_t *c, cJSON *r)
{
    const fourlw_view_t *v = &c->sv->v;
    cJSON *m = json_add_obj(r, "path_to_session_ids");
    for (size_t i = 0; i < v->nwatches_by_path; i++) {
        const fourlw_path_watches_t *w = &v->watches_by_path[i];
        cJSON_AddItemToObject(m, w->path, id_array(w->session_ids, w->nsessions));
    }
}

void cmd_watch_summary(admin_call_t *c, cJSON *r)
{
    const fourlw_view_t *v = &c->sv->v;
    json_add_int(r, "num_connections", v->wch_connections);
    json_add_int(r, "num_paths", v->wch_paths);
    json_add_int(r, "num_total_watches", v->wch_total);
}

/* Expiry buckets (keyed by expiry time in ms; Corral's are wall-clock ms
 * since the epoch, ZooKeeper's are its JVM's monotonic clock) and
 * ephemerals by session. */
void cmd_dump(admin_call_t *c, cJSON *r)
{
    const fourlw_view_t *v = &c->sv->v;
    cJSON *exp = json_add_obj(r, "expiry_time_to_session_ids");
    for (size_t i = 0; i < v->nsession_buckets; i++) {
        const fourlw_session_bucket_t *b = &v->session_buckets[i];
        add_u64_key_arr(exp, (uint64_t)b->expire_ms, id_array(b->session_ids, b->n));
    }
    cJSON *eph = json_add_obj(r, "session_id_to_ephemeral_paths");
    for (size_t i = 0; i < v->nephemerals; i++) {
        const fourlw_ephemerals_t *e = &v->ephemerals[i];
        add_u64_key_arr(eph, e->session_id, str_array(e->paths, e->npaths));
    }
}
