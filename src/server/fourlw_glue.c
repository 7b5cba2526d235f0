/* fourlw_glue: the server view — a snapshot of the live server's figures in
 * the fourlw module's terms, shared by the four-letter words and the admin
 * endpoints — and the answer to a four-letter word on a fresh connection
 * (whitelist, view, text, then close: a 4lw reply ends at EOF). */
#include "server.h"
#include "server/view.h"

#include <dirent.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

/* Bytes in the regular files of a directory (the `dirs` and `conf` sizes). */
static int64_t dir_bytes(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return 0;
    int64_t total = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, 0) == 0 && S_ISREG(st.st_mode))
            total += (int64_t)st.st_size;
    }
    closedir(d);
    return total;
}

static int64_t count_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int64_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory handle itself */
}

static void fill_env(fourlw_env_t *env, struct utsname *u, char *host, size_t hostlen, char *cwd,
                     size_t cwdlen)
{
    memset(env, 0, sizeof(*env));
    if (gethostname(host, hostlen) == 0)
        env->host_name = host;
    if (uname(u) == 0) {
        env->os_name = u->sysname;
        env->os_machine = u->machine;
        env->os_version = u->release;
    }
    const char *tmp = getenv("TMPDIR");
    env->tmpdir = tmp && *tmp ? tmp : "/tmp";
    struct passwd *pw = getpwuid(getuid());
    env->user_name = pw ? pw->pw_name : NULL;
    env->user_home = pw ? pw->pw_dir : NULL;
    env->user_dir = getcwd(cwd, cwdlen);
    env->mem_free_mb = -1;
    env->mem_max_mb = -1;
    env->mem_total_mb = -1;
}

static void fill_conn(const conn_t *c, fourlw_conn_t *fc, char *remote, size_t rlen)
{
    memset(fc, 0, sizeof(*fc));
    snprintf(remote, rlen, "/%s:%d", c->peer_ip, c->peer_port);
    fc->remote = remote;
    fc->interest_ops = c->state == CONN_NEW ? 0 : (c->reading ? 1 : 0);
    fc->packets_received = c->packets_received;
    fc->packets_sent = c->packets_sent;
    fc->session_id = (uint64_t)c->session_id;
    fc->last_op = c->last_op;
    fc->established_ms = c->established_ms;
    fc->timeout_ms = c->timeout_ms;
    fc->last_cxid = c->last_cxid;
    fc->last_zxid = c->last_zxid;
    fc->last_response_ms = c->last_response_ms;
    fc->last_latency_ms = c->last_latency_ms;
    fc->latency =
        (fourlw_summary_t){c->latency.count, c->latency.sum, c->latency.min, c->latency.max};
}

static void *scratch_alloc(scratch_t *sc, size_t bytes)
{
    if (sc->n == sc->cap) {
        sc->cap = sc->cap ? sc->cap * 2 : 16;
        sc->v = xrealloc(sc->v, sc->cap * sizeof(*sc->v));
    }
    return sc->v[sc->n++] = xcalloc(1, bytes ? bytes : 1);
}

static void scratch_free(scratch_t *sc)
{
    for (size_t i = 0; i < sc->n; i++)
        free(sc->v[i]);
    free(sc->v);
}

static conn_t *owner_conn(watch_owner_t *o)
{
    return (conn_t *)((char *)o - offsetof(conn_t, watches));
}

/* wchc: sessions and the paths they watch (data watches, as ZooKeeper). */
static void fill_wchc(server_t *s, fourlw_view_t *v, scratch_t *sc)
{
    size_t n = 0;
    fourlw_session_watches_t *out = scratch_alloc(sc, (size_t)s->nconns * sizeof(*out));
    for (conn_t *c = s->conns; c; c = c->next) {
        strmap_t *m = &c->watches.paths[WT_DATA];
        if (c->state == CONN_CLOSING || m->used == 0)
            continue;
        const char **paths = scratch_alloc(sc, m->used * sizeof(*paths));
        size_t pos = 0, k = 0;
        const char *key;
        size_t kl;
        void *val;
        while (strmap_next(m, &pos, &key, &kl, &val) && k < m->used)
            paths[k++] = key;
        out[n++] = (fourlw_session_watches_t){(uint64_t)c->session_id, paths, k};
    }
    v->watches_by_session = out;
    v->nwatches_by_session = n;
}

typedef struct wchp_ctx {
    server_t *s;
    scratch_t *sc;
    fourlw_path_watches_t *out;
    size_t n, cap;
} wchp_ctx_t;

static void wchp_visit(void *ctx, const char *path, watch_owner_t *owner)
{
    wchp_ctx_t *w = ctx;
    fourlw_path_watches_t *last = w->n ? &w->out[w->n - 1] : NULL;
    if (!last || last->path != path) {
        if (w->n == w->cap)
            return;
        last = &w->out[w->n++];
        last->path = path;
        last->session_ids = scratch_alloc(w->sc, (size_t)w->s->nconns * sizeof(uint64_t));
        last->nsessions = 0;
    }
    if (last->nsessions < (size_t)w->s->nconns)
        ((uint64_t *)last->session_ids)[last->nsessions++] =
            (uint64_t)owner_conn(owner)->session_id;
}

static void fill_wchp(server_t *s, fourlw_view_t *v, scratch_t *sc)
{
    wchp_ctx_t w = {s, sc, NULL, 0, s->watches.tables[WT_DATA].lists.used};
    w.out = scratch_alloc(sc, w.cap * sizeof(*w.out));
    watch_table_each(&s->watches, WT_DATA, wchp_visit, &w);
    v->watches_by_path = w.out;
    v->nwatches_by_path = w.n;
}

static int cmp_bucket(const void *a, const void *b)
{
    const fourlw_session_bucket_t *x = a, *y = b;
    return x->expire_ms < y->expire_ms ? -1 : x->expire_ms > y->expire_ms;
}

/* dump: session expiry buckets (wall-clock times) and ephemerals by session. */
static void fill_dump(server_t *s, fourlw_view_t *v, scratch_t *sc)
{
    int64_t to_wall = server_wall_ms() - server_mono_ms(s);
    size_t nb = s->sessions.buckets.used, i = 0, pos = 0;
    fourlw_session_bucket_t *b = scratch_alloc(sc, nb * sizeof(*b));
    uint64_t key;
    void *val;
    while (u64map_next(&s->sessions.buckets, &pos, &key, &val) && i < nb) {
        size_t cnt = 0;
        for (session_t *x = val; x; x = x->next)
            cnt++;
        uint64_t *ids = scratch_alloc(sc, cnt * sizeof(*ids));
        cnt = 0;
        for (session_t *x = val; x; x = x->next)
            ids[cnt++] = (uint64_t)x->id;
        b[i++] = (fourlw_session_bucket_t){(int64_t)key + to_wall, ids, cnt};
    }
    qsort(b, i, sizeof(*b), cmp_bucket);
    v->session_buckets = b;
    v->nsession_buckets = i;

    size_t ne = s->tree.ephemerals.used, j = 0;
    fourlw_ephemerals_t *e = scratch_alloc(sc, ne * sizeof(*e));
    pos = 0;
    while (u64map_next(&s->tree.ephemerals, &pos, &key, &val) && j < ne) {
        const eph_list_t *l = val;
        const char **paths = scratch_alloc(sc, l->n * sizeof(*paths));
        for (uint32_t k = 0; k < l->n; k++)
            paths[k] = znode_path(l->v[k]);
        e[j++] = (fourlw_ephemerals_t){key, paths, l->n};
    }
    v->ephemerals = e;
    v->nephemerals = j;
}

#define VIEW_METRIC(n, val)                                                                        \
    (fourlw_metric_t)                                                                              \
    {                                                                                              \
        (n), FOURLW_METRIC_INT,                                                                    \
        {                                                                                          \
            .i = (val)                                                                             \
        }                                                                                          \
    }

static void fill_metrics(server_t *s, server_view_t *sv)
{
    const server_metrics_t *m = &s->metrics;
    fourlw_metric_t *x = sv->metrics;
    size_t n = 0;
    x[n++] = VIEW_METRIC("auth_failed_count", m->auth_failed);
    x[n++] = VIEW_METRIC("bytes_received_count", m->bytes_received);
    x[n++] = VIEW_METRIC("cnxn_closed_without_zk_server_running", 0);
    x[n++] = VIEW_METRIC("connection_rejected", m->connections_rejected);
    x[n++] = VIEW_METRIC("connection_request_count", m->connect_requests);
    /* corrald checks no digests while running, so none can mismatch */
    x[n++] = VIEW_METRIC("digest_mismatches_count", 0);
    x[n++] = VIEW_METRIC("last_client_response_size", m->last_response_size);
    x[n++] = VIEW_METRIC("max_client_response_size", m->max_response_size);
    x[n++] = VIEW_METRIC("min_client_response_size", m->min_response_size);
    x[n++] = VIEW_METRIC("outstanding_changes_queued", (int64_t)s->prep.changes_queued);
    x[n++] = VIEW_METRIC("outstanding_changes_removed", (int64_t)s->prep.changes_removed);
    x[n++] = VIEW_METRIC("prep_processor_request_queued", m->writes_prepared);
    x[n++] = VIEW_METRIC("response_bytes", m->response_bytes);
    /* no response cache: every lookup is served from the tree */
    x[n++] = VIEW_METRIC("response_packet_cache_hits", 0);
    x[n++] = VIEW_METRIC("response_packet_cache_misses", 0);
    x[n++] = VIEW_METRIC("response_packet_get_children_cache_hits", 0);
    x[n++] = VIEW_METRIC("response_packet_get_children_cache_misses", 0);
    x[n++] = VIEW_METRIC("sessionless_connections_expired", m->sessionless_expired);
    /* no request throttler: nothing goes stale or is dropped */
    x[n++] = VIEW_METRIC("stale_replies", 0);
    x[n++] = VIEW_METRIC("stale_requests", 0);
    x[n++] = VIEW_METRIC("stale_requests_dropped", 0);
    x[n++] = VIEW_METRIC("stale_sessions_expired", m->sessions_expired);
    x[n++] = VIEW_METRIC("sync_processor_request_queued", m->txns_logged);
    sv->v.metrics = x;
    sv->v.nmetrics = n;

    logthread_stats_t ls = {0};
    if (s->log_open)
        logthread_get_stats(&s->log_thread, &ls);
    const latency_stats_t *rl = &m->read_latency, *ul = &m->update_latency;
    fourlw_summary_metric_t *y = sv->summaries;
    y[0] = (fourlw_summary_metric_t){
        "readlatency", {rl->count, rl->sum, rl->min, rl->max}, false, 0, 0, 0, 0};
    y[1] = (fourlw_summary_metric_t){
        "updatelatency", {ul->count, ul->sum, ul->min, ul->max}, false, 0, 0, 0, 0};
    y[2] = (fourlw_summary_metric_t){"fsynctime",
                                     {(int64_t)ls.fsync_count, ls.fsync_ms_sum, 0, ls.fsync_ms_max},
                                     false,
                                     0,
                                     0,
                                     0,
                                     0};
    sv->v.summaries = y;
    sv->v.nsummaries = 3;
}

void server_view_fill(server_t *s, server_view_t *sv, unsigned parts)
{
    memset(sv, 0, sizeof(*sv));
    fourlw_view_t *v = &sv->v;
    v->serving = true;
    v->mode = FOURLW_MODE_STANDALONE;
    v->version = s->version;
    v->built_on = CORRAL_BUILD_DATE;
    v->latency =
        (fourlw_summary_t){s->latency.count, s->latency.sum, s->latency.min, s->latency.max};
    v->packets_received = s->packets_received;
    v->packets_sent = s->packets_sent;
    v->num_connections = s->nconns;
    v->outstanding_requests = s->outstanding_requests;
    v->last_zxid = s->last_zxid;
    v->node_count = (int64_t)s->tree.node_count;
    v->proposal_size_last = v->proposal_size_min = v->proposal_size_max = -1;

    size_t ncon = (size_t)s->nconns, i = 0;
    fourlw_conn_t *conns = scratch_alloc(&sv->scratch, (ncon ? ncon : 1) * sizeof(*conns));
    char(*remotes)[96] = scratch_alloc(&sv->scratch, (ncon ? ncon : 1) * sizeof(*remotes));
    for (conn_t *k = s->conns; k && i < ncon; k = k->next) {
        if (k->state == CONN_CLOSING)
            continue;
        fill_conn(k, &conns[i], remotes[i], sizeof(remotes[i]));
        i++;
    }
    v->conns = conns;
    v->nconns = i;

    v->ephemerals_count = (int64_t)s->tree.ephemeral_count;
    v->watch_count = (int64_t)watch_count(&s->watches);
    v->approximate_data_size = (int64_t)s->tree.data_bytes;
    v->global_sessions = (int64_t)session_count(&s->sessions);
    v->open_fd_count = count_open_fds();
    struct rlimit rl;
    v->max_fd_count = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? (int64_t)rl.rlim_cur : -1;
    v->uptime_ms = server_mono_ms(s) - s->start_mono_ms;

    if (parts & VIEW_DIR_SIZES) {
        v->datadir_size = dir_bytes(s->dirs.snap_dir);
        v->logdir_size = dir_bytes(s->dirs.log_dir);
    }
    buf_init(&sv->conf);
    config_dump(&s->cfg, (uint64_t)v->datadir_size, (uint64_t)v->logdir_size, &sv->conf);
    buf_append(&sv->conf, "", 1);
    v->conf_text = (const char *)sv->conf.data;
    fill_env(&v->env, &sv->uts, sv->host, sizeof(sv->host), sv->cwd, sizeof(sv->cwd));

    for (conn_t *k = s->conns; k; k = k->next)
        if (k->watches.paths[WT_DATA].used)
            v->wch_connections++;
    v->wch_paths = (int64_t)s->watches.tables[WT_DATA].lists.used;
    v->wch_total = (int64_t)s->watches.tables[WT_DATA].entries;
    v->trace_mask = s->trace_mask;
    fill_metrics(s, sv);
    if (parts & VIEW_WATCHES_BY_SESSION)
        fill_wchc(s, v, &sv->scratch);
    if (parts & VIEW_WATCHES_BY_PATH)
        fill_wchp(s, v, &sv->scratch);
    if (parts & VIEW_DUMP)
        fill_dump(s, v, &sv->scratch);
}

void server_view_free(server_view_t *sv)
{
    scratch_free(&sv->scratch);
    buf_free(&sv->conf);
}

void server_answer_fourlw(conn_t *c, fourlw_cmd_t cmd)
{
    server_t *s = c->srv;
    buf_t *out = &c->out;
    c->close_after_flush = true;
    c->state = CONN_NEW;
    if (!config_4lw_allowed(&s->cfg, fourlw_name(cmd))) {
        fourlw_render_refusal(cmd, out);
        conn_mark_dirty(c);
        return;
    }
    if (cmd == FOURLW_SRST) {
        memset(&s->latency, 0, sizeof(s->latency));
        s->packets_received = s->packets_sent = 0;
    } else if (cmd == FOURLW_CRST) {
        for (conn_t *k = s->conns; k; k = k->next) {
            memset(&k->latency, 0, sizeof(k->latency));
            k->packets_received = k->packets_sent = 0;
        }
    } else if (cmd == FOURLW_STMK && c->in.len >= 12) {
        jute_reader_t r;
        jr_init(&r, c->in.data + 4, 8);
        s->trace_mask = jr_long(&r);
    }
    unsigned parts = cmd == FOURLW_WCHC                         ? VIEW_WATCHES_BY_SESSION
                     : cmd == FOURLW_WCHP                       ? VIEW_WATCHES_BY_PATH
                     : cmd == FOURLW_DUMP                       ? VIEW_DUMP
                     : cmd == FOURLW_DIRS || cmd == FOURLW_CONF ? VIEW_DIR_SIZES
                                                                : 0;
    server_view_t *sv = xmalloc(sizeof(*sv));
    server_view_fill(s, sv, parts);
    fourlw_render(cmd, &sv->v, out);
    server_view_free(sv);
    free(sv);
    conn_mark_dirty(c);
}
