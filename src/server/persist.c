/* persist: recovery, the log thread's backend (src/store's txn log), the
 * apply slices, and autopurge. Snapshots are snapshots.c's. */
#include "server/persist.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/server.h"
#include "server/snapshots.h"
#include "store/recover.h"

/* ---- recovery ------------------------------------------------------------ */

static int on_loaded(void *ctx, const tree_t *t, const store_recovery_t *r, store_err_t *err)
{
    server_t *s = ctx;
    (void)t;
    (void)err;
    int64_t now = server_mono_ms(s);
    for (size_t i = 0; i < r->snapshot.nsessions; i++)
        session_add(&s->sessions, r->snapshot.sessions[i].id, r->snapshot.sessions[i].timeout_ms,
                    now);
    return 0;
}

static int on_txn(void *ctx, const txnlog_entry_t *e, store_err_t *err)
{
    server_t *s = ctx;
    if (!txn_apply(&s->tree, NULL, &e->hdr, e->body, e->body_len, NULL))
        return store_errf(err, "%s: offset %llu: txn 0x%llx of type %d does not decode", e->file,
                          (unsigned long long)e->offset, (unsigned long long)e->hdr.zxid,
                          e->hdr.type);
    if (e->hdr.type == ZOP_CREATE_SESSION && e->body_len >= 4) {
        jute_reader_t r;
        jr_init(&r, e->body, e->body_len);
        session_add(&s->sessions, e->hdr.client_id, jr_int(&r), server_mono_ms(s));
    } else if (e->hdr.type == ZOP_CLOSE_SESSION) {
        session_t *sess = session_get(&s->sessions, e->hdr.client_id);
        if (sess)
            session_remove(&s->sessions, sess);
    }
    return 0;
}

/* Ephemerals whose session is gone (expired while we were down, or closed
 * in a txn the snapshot predates) are deleted at start, as ZooKeeper does. */
static void kill_dead_sessions(server_t *s)
{
    size_t pos = 0, n = 0;
    uint64_t sid;
    void *v;
    int64_t *dead = xmalloc((s->tree.ephemerals.used + 1) * sizeof(*dead));
    while (u64map_next(&s->tree.ephemerals, &pos, &sid, &v))
        if (!session_get(&s->sessions, (int64_t)sid))
            dead[n++] = (int64_t)sid;
    for (size_t i = 0; i < n; i++) {
        log_info(&s->log, "deleting the ephemeral nodes of session 0x%llx, which no longer exists",
                 (unsigned long long)dead[i]);
        txn_kill_session(&s->tree, dead[i], s->last_zxid);
    }
    free(dead);
}

/* ---- the log --------------------------------------------------------------- */

static int be_write(void *ctx, const uint8_t *p, size_t len, int64_t first, int64_t last,
                    uint64_t count, char *err, size_t errlen)
{
    server_t *s = ctx;
    store_err_t e;
    if (txnlog_write_encoded(&s->writer, p, len, first, last, count, &e) != 0) {
        snprintf(err, errlen, "%s", e.msg);
        return -1;
    }
    return 0;
}

static int be_sync(void *ctx, char *err, size_t errlen)
{
    server_t *s = ctx;
    store_err_t e;
    if (txnlog_sync(&s->writer, &e) != 0) {
        snprintf(err, errlen, "%s", e.msg);
        return -1;
    }
    return 0;
}

static int be_roll(void *ctx, char *err, size_t errlen)
{
    server_t *s = ctx;
    store_err_t e;
    if (txnlog_roll(&s->writer, &e) != 0) {
        snprintf(err, errlen, "%s", e.msg);
        return -1;
    }
    return 0;
}

/* A bound on the work of one loop turn (about 64 x a few µs). */
#define APPLY_SLICE_TXNS 64

static void on_apply_slice(uv_idle_t *h);

/* Apply what is durable a slice at a time, letting the loop read and answer
 * other connections between slices: a large group-commit batch does not
 * stall reads, and watchers re-arm between the txns that fire them, as they
 * can between ZooKeeper's commit-processor steps. At most one slice per loop
 * turn: from the idle phase, or else just before the turn's output is
 * written (persist_apply_ready). */
static void apply_slice(server_t *s)
{
    s->sliced_this_turn = true;
    int64_t upto = s->durable_zxid;
    pending_txn_t *t = s->uncommitted_head;
    for (int32_t i = 0; t && t->hdr.zxid <= upto && i < s->apply_slice; i++)
        t = t->next;
    int64_t slice_end = t ? t->hdr.zxid - 1 : upto;
    if (slice_end > upto)
        slice_end = upto;
    int64_t before = s->last_zxid;
    server_apply_durable(s, slice_end);
    if (s->last_zxid > before)
        snapshots_after_apply(s, s->last_zxid - before);
    if (s->last_zxid >= s->durable_zxid || !s->uncommitted_head)
        uv_idle_stop(&s->apply_idle);
    else
        uv_idle_start(&s->apply_idle, on_apply_slice);
}

static void on_apply_slice(uv_idle_t *h)
{
    apply_slice(h->data);
}

void persist_apply_ready(server_t *s)
{
    if (s->log_open && !s->sliced_this_turn) {
        int64_t durable;
        if (logthread_poll(&s->log_thread, &durable, NULL, 0) && durable > s->durable_zxid)
            s->durable_zxid = durable;
        if (s->last_zxid < s->durable_zxid)
            apply_slice(s);
    }
    s->sliced_this_turn = false;
}

static void on_durable(void *data)
{
    server_t *s = data;
    int64_t durable;
    char err[256];
    if (!logthread_poll(&s->log_thread, &durable, err, sizeof(err))) {
        if (!s->log_failed) {
            s->log_failed = true;
            log_error(&s->log,
                      "cannot write the transaction log in %s: %s. No write after zxid 0x%llx "
                      "was acknowledged; stopping the server to keep the data dir consistent "
                      "(restart it once the cause is fixed: recovery replays the log)",
                      s->dirs.log_dir, err, (unsigned long long)durable);
            server_stop(s, 3);
        }
        return;
    }
    int64_t slow_ms = logthread_take_slow_fsync(&s->log_thread);
    if (slow_ms > 0)
        log_warn(&s->log,
                 "fsync of the transaction log took %lld ms, more than "
                 "fsync.warningthresholdms=%lld",
                 (long long)slow_ms, (long long)s->cfg.fsync_warning_threshold_ms);
    s->durable_zxid = durable;
    if (s->last_zxid < durable)
        uv_idle_start(&s->apply_idle, on_apply_slice);
}

void persist_append(server_t *s, const pending_txn_t *t)
{
    buf_reset(&s->log_enc);
    txnlog_encode_entry(&s->log_enc, &t->hdr, t->body, t->body_len, NULL);
    s->bytes_since_snapshot += (int64_t)s->log_enc.len;
    logthread_append(&s->log_thread, s->log_enc.data, s->log_enc.len, t->hdr.zxid);
}

/* ---- autopurge ------------------------------------------------------------- */

static void on_purge(uv_timer_t *t)
{
    server_t *s = t->data;
    store_removed_t removed = {0};
    store_err_t err;
    int retain = s->cfg.autopurge_snap_retain_count;
    if (store_purge(s->dirs.snap_dir, s->dirs.log_dir, retain, &removed, &err) != 0)
        log_warn(&s->log, "autopurge failed: %s", err.msg);
    else if (removed.n)
        log_info(&s->log, "autopurge removed %zu old snapshot/log files (keeping %d snapshots)",
                 removed.n, retain);
    store_removed_free(&removed);
}

/* autopurge.purgeInterval in hours; unlike ZooKeeper (off), on by default:
 * every 24 h, so disks do not fill up. */
static int64_t purge_interval_hours(const server_t *s)
{
    char origin[128];
    config_field_origin(&s->cfg, &s->cfg.autopurge_purge_interval_hours, origin, sizeof(origin));
    if (!strncmp(origin, "default", 7))
        return 24;
    return s->cfg.autopurge_purge_interval_hours;
}

/* A snapshot writer killed mid-write leaves ".snapshot.<zxid>.tmp" (never
 * loaded: only renamed files count). At start no writer runs, so they go. */
static void remove_stale_snapshot_temps(server_t *s)
{
    DIR *d = opendir(s->dirs.snap_dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 14 || strncmp(e->d_name, ".snapshot.", 10) != 0 ||
            strcmp(e->d_name + n - 4, ".tmp") != 0)
            continue;
        char path[STORE_PATH_MAX];
        store_err_t err;
        if (store_path_join(path, sizeof(path), s->dirs.snap_dir, e->d_name, &err) != 0)
            continue;
        if (unlink(path) == 0)
            log_info(&s->log, "removed %s, left by a snapshot writer that did not finish", path);
        else
            log_warn(&s->log, "cannot remove %s: %s", path, strerror(errno));
    }
    closedir(d);
}

/* ---- open / close ------------------------------------------------------------ */

int persist_open(server_t *s, char *err, size_t errlen)
{
    store_err_t e;
    const char *data = s->cfg.data_dir_abs, *logdir = s->cfg.data_log_dir_abs;
    if (store_dirs_open(&s->dirs, data, logdir ? logdir : data, true, &e) != 0) {
        snprintf(err, errlen, "%s", e.msg);
        return -1;
    }
    remove_stale_snapshot_temps(s);
    store_recover_opts_t opts;
    store_recover_opts_default(&opts);
    opts.extended_types = s->cfg.extended_types_enabled;
    opts.trust_empty_snapshot = s->cfg.snapshot_trust_empty;
    store_recovery_t rec;
    memset(&rec, 0, sizeof(rec));
    store_replay_t replay = {on_loaded, on_txn, s};
    uint64_t t0_ns = uv_hrtime(); /* the loop's cached clock does not move here */
    if (store_recover(&s->dirs, &opts, &s->tree, &rec, &replay, &e) != 0) {
        snprintf(err, errlen, "recovery failed: %s", e.msg);
        store_recovery_free(&rec);
        return -1;
    }
    s->tree_ready = true;
    s->last_zxid = s->last_prepped_zxid = rec.last_zxid;
    for (size_t i = 0; i < rec.nskipped; i++)
        log_warn(&s->log, "skipped snapshot %s: %s", rec.skipped[i].name, rec.skipped[i].reason);
    if (rec.tail.torn)
        log_warn(&s->log, "the last transaction log %s had a torn tail at offset %llu (%s)%s",
                 rec.tail.file, (unsigned long long)rec.tail.offset, rec.tail.reason,
                 rec.tail_truncated ? "; truncated it" : "");
    log_info(&s->log,
             "loaded %s%s and %llu txns in %lld ms: last zxid 0x%llx, %llu znodes, %zu "
             "sessions",
             rec.have_snapshot ? "snapshot " : "an empty tree",
             rec.have_snapshot ? rec.snapshot_path : "", (unsigned long long)rec.txns_replayed,
             (long long)((uv_hrtime() - t0_ns) / 1000000), (unsigned long long)s->last_zxid,
             (unsigned long long)s->tree.node_count, session_count(&s->sessions));
    kill_dead_sessions(s);
    bool need_snapshot = !rec.have_snapshot;
    uint64_t replayed = rec.txns_replayed;
    store_recovery_free(&rec);

    if (need_snapshot) {
        /* A fresh data dir gets snapshot.<zxid> first, as in ZooKeeper: logs
         * without a snapshot are refused at the next start. */
        if (snapshots_write_now(s, &e) != 0) {
            snprintf(err, errlen, "cannot write the initial snapshot: %s", e.msg);
            return -1;
        }
    }
    txnlog_writer_init(&s->writer, s->dirs.log_dir, (uint64_t)s->cfg.pre_alloc_size_kib * 1024,
                       s->cfg.force_sync);
    store_roll_policy_init(&s->roll, s->cfg.snap_count, s->cfg.snap_size_limit_kib * 1024,
                           (uint64_t)random());
    buf_init(&s->log_enc);
    logthread_backend_t be = {be_write, be_sync, be_roll, s};
    if (logthread_start(&s->log_thread, s->loop, be, s->cfg.fsync_warning_threshold_ms, on_durable,
                        s) != 0) {
        snprintf(err, errlen, "cannot start the log thread: %s", strerror(errno));
        return -1;
    }
    s->log_open = true;
    uv_idle_init(s->loop, &s->apply_idle);
    s->apply_idle.data = s;
    s->apply_slice = APPLY_SLICE_TXNS;
    snapshots_init(s);
    int64_t hours = purge_interval_hours(s);
    uv_timer_init(s->loop, &s->purge_timer);
    s->purge_timer.data = s;
    if (hours > 0)
        uv_timer_start(&s->purge_timer, on_purge, (uint64_t)hours * 3600 * 1000,
                       (uint64_t)hours * 3600 * 1000);
    if (replayed > 0)
        snapshots_after_apply(s, (int64_t)replayed);
    return 0;
}

void persist_close(server_t *s)
{
    if (s->log_open) {
        uv_idle_stop(&s->apply_idle);
        logthread_stop(&s->log_thread); /* writes and fsyncs what is staged */
        txnlog_writer_close(&s->writer);
        buf_free(&s->log_enc);
        s->log_open = false;
    }
    snapshots_close(s);
}
