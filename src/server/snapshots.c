/* snapshots: the snapshot schedule, the fuzzy writer driven from the loop
 * and the forked (gz) writer (see snapshots.h). */
#include "server/snapshots.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server/server.h"
#include "store/snapshot.h"
#include "tree/digest.h"

/* The file thread may fall this far behind before the walk pauses. */
#define SNAPSHOT_BACKLOG_BYTES (8u << 20)

/* A snapshot costs the loop in proportion to the tree: a fuzzy one
 * serializes every node on the loop, a forked one makes the loop take a
 * copy-on-write fault on the first write to each page of the tree (on a
 * 1M-znode tree under random setData here: 65% of the loop in page faults).
 * Under a steady write load snapCount makes them back to back, so a writer
 * may run at most a third of the time: after one that took T ms the next
 * waits 2T ms, and the log between snapshots grows instead (replayed at
 * start, ~1.3M txns/s here). Writers under SNAPSHOT_REST_MIN_MS (trees below
 * ~50k znodes here) cost mostly file creation and fsync, and do not rest.
 * ZooKeeper likewise skips a snapshot while the previous one still runs. */
#define SNAPSHOT_REST_FACTOR 2
#define SNAPSHOT_REST_MIN_MS 100

static int64_t clock_ms(void)
{
    return (int64_t)(uv_hrtime() / 1000000u);
}

static snap_session_t *session_list(server_t *s, size_t *n)
{
    size_t pos = 0, i = 0;
    uint64_t id;
    void *v;
    snap_session_t *out = xmalloc((s->sessions.by_id.used + 1) * sizeof(*out));
    while (u64map_next(&s->sessions.by_id, &pos, &id, &v)) {
        const session_t *sess = v;
        out[i++] = (snap_session_t){sess->id, sess->timeout_ms};
    }
    *n = i;
    return out;
}

static store_compression_t compression(const server_t *s)
{
    const char *m = s->cfg.snapshot_compression_method;
    return m && !strcmp(m, "gz") ? STORE_GZ : STORE_PLAIN;
}

static snap_digest_t digest_now(server_t *s)
{
    return (snap_digest_t){true, s->last_zxid, TREE_DIGEST_VERSION, (int64_t)tree_digest(&s->tree)};
}

/* snapshot.<last_zxid> in this process (start-up) or in a forked child. */
static int write_in_place(server_t *s, char *path, size_t path_cap, store_err_t *err)
{
    size_t n;
    snap_session_t *sessions = session_list(s, &n);
    snap_digest_t d = digest_now(s);
    snap_write_opts_t opts = {compression(s), true};
    int rc = snapshot_write(s->dirs.snap_dir, s->last_zxid, &s->tree, sessions, n, &d, &opts, path,
                            path_cap, err);
    free(sessions);
    return rc;
}

int snapshots_write_now(server_t *s, store_err_t *err)
{
    char path[STORE_PATH_MAX];
    return write_in_place(s, path, sizeof(path), err);
}

bool snapshots_running(const server_t *s)
{
    return s->snap_pid > 0 || s->snap_writer.running;
}

/* A writer has ended: report it and start its rest. */
static void writer_ended(server_t *s, bool ok, const char *why)
{
    int64_t now = clock_ms(), took = now - s->snap_started_ms;
    s->snap_rest_until_ms = took >= SNAPSHOT_REST_MIN_MS ? now + SNAPSHOT_REST_FACTOR * took : 0;
    if (ok)
        log_info(&s->log, "snapshot 0x%llx written in %lld ms", (unsigned long long)s->snap_zxid,
                 (long long)took);
    else
        log_error(&s->log, "snapshot 0x%llx failed (%s); the log still has every txn",
                  (unsigned long long)s->snap_zxid, why);
}

/* ---- the fuzzy writer ------------------------------------------------------- */

static int push_bytes(void *ctx, const uint8_t *p, size_t len)
{
    server_t *s = ctx;
    return snapwriter_push(&s->snap_writer, p, len);
}

/* The walk is over (reached every node, or failed): the tree may free
 * nodes again. */
static void end_walk(server_t *s, bool reached_all)
{
    uv_idle_stop(&s->snap_idle);
    snapshot_walk_free(s->snap_walk);
    s->snap_walk = NULL;
    tree_release_nodes(&s->tree, reached_all);
}

/* Join the file thread if it has finished, and report how it ended. */
static void reap_writer(server_t *s)
{
    bool ok;
    char why[STORE_PATH_MAX + 160];
    if (snapwriter_finished(&s->snap_writer, false, &ok, why, sizeof(why)))
        writer_ended(s, ok, why);
}

static void on_walk_slice(uv_idle_t *h)
{
    server_t *s = h->data;
    if (snapwriter_backlog(&s->snap_writer) > SNAPSHOT_BACKLOG_BYTES) {
        uv_idle_stop(&s->snap_idle); /* the file thread's wake-up resumes */
        return;
    }
    store_err_t err;
    int rc = snapshot_walk_step(s->snap_walk, &s->tree, (size_t)s->cfg.snapshot_slice_nodes, &err);
    if (rc == 0)
        return;
    bool reached_all = rc == 1;
    if (rc == 1) {
        /* The trailer names no zxid: the tree's digest is not kept
         * incrementally, and computing it here would stall the loop for
         * O(nodes) (0.5 s at 1M znodes). ZooKeeper then compares nothing;
         * forked (gz) writers still give the real digest. */
        rc = snapshot_walk_finish(s->snap_walk, &err) == 0 ? 1 : -1;
    }
    end_walk(s, reached_all);
    /* A walk fails only when the file thread has (its error says why). */
    if (rc == 1)
        snapwriter_commit(&s->snap_writer); /* seals, fsyncs, renames */
    else
        snapwriter_abandon(&s->snap_writer);
    reap_writer(s); /* it may have ended already, its last wake-up spent */
}

static void on_writer_wake(uv_async_t *a)
{
    server_t *s = a->data;
    if (s->snap_walk && snapwriter_failed(&s->snap_writer)) {
        end_walk(s, false);
        snapwriter_abandon(&s->snap_writer);
    }
    if (s->snap_walk) {
        if (!uv_is_active((uv_handle_t *)&s->snap_idle) &&
            snapwriter_backlog(&s->snap_writer) <= SNAPSHOT_BACKLOG_BYTES / 2)
            uv_idle_start(&s->snap_idle, on_walk_slice);
        return;
    }
    reap_writer(s);
}

static void start_walk(server_t *s)
{
    store_err_t err;
    if (snapwriter_start(&s->snap_writer, s->dirs.snap_dir, s->last_zxid, true, &s->snap_wake,
                         &err) != 0) {
        log_error(&s->log, "cannot start snapshot 0x%llx: %s", (unsigned long long)s->last_zxid,
                  err.msg);
        return;
    }
    size_t n;
    snap_session_t *sessions = session_list(s, &n);
    tree_hold_nodes(&s->tree);
    s->snap_walk = snapshot_walk_begin(&s->tree, sessions, n, push_bytes, s);
    free(sessions);
    uv_idle_start(&s->snap_idle, on_walk_slice);
}

/* ---- the forked writer ------------------------------------------------------ */

static void start_fork(server_t *s)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        log_error(&s->log, "cannot fork the snapshot writer: %s", strerror(errno));
        return;
    }
    if (pid == 0) {
        /* Child: a frozen copy-on-write image of the tree at last_zxid.
         * Connections, pending txns and the log's buffers are no-fork
         * memory (nofork.h): not mapped here, never to be touched. */
        char path[STORE_PATH_MAX];
        store_err_t err;
        if (write_in_place(s, path, sizeof(path), &err) != 0) {
            log_error(&s->log, "snapshot 0x%llx failed: %s", (unsigned long long)s->last_zxid,
                      err.msg);
            _exit(1);
        }
        _exit(0);
    }
    s->snap_pid = pid;
}

static void on_sigchld(uv_signal_t *sig, int signum)
{
    server_t *s = sig->data;
    (void)signum;
    int status;
    if (s->snap_pid <= 0 || waitpid(s->snap_pid, &status, WNOHANG) != s->snap_pid)
        return;
    s->snap_pid = 0;
    char why[64];
    snprintf(why, sizeof(why), "writer exit status %d", status);
    writer_ended(s, WIFEXITED(status) && WEXITSTATUS(status) == 0, why);
}

/* ---- schedule ---------------------------------------------------------------- */

void snapshots_init(server_t *s)
{
    uv_idle_init(s->loop, &s->snap_idle);
    s->snap_idle.data = s;
    uv_async_init(s->loop, &s->snap_wake, on_writer_wake);
    s->snap_wake.data = s;
    uv_signal_init(s->loop, &s->sig_chld);
    s->sig_chld.data = s;
    uv_signal_start(&s->sig_chld, on_sigchld, SIGCHLD);
    s->snap_handles = true;
}

void snapshots_after_apply(server_t *s, int64_t applied)
{
    s->txns_since_snapshot += applied;
    if (!store_roll_due(&s->roll, s->txns_since_snapshot, s->bytes_since_snapshot) ||
        snapshots_running(s))
        return; /* one at a time; the next one is due later */
    if (clock_ms() < s->snap_rest_until_ms)
        return; /* the last writer's rest; retried at the next apply */
    bool fork_it = compression(s) != STORE_PLAIN;
    s->txns_since_snapshot = 0;
    s->bytes_since_snapshot = 0;
    store_roll_policy_reset(&s->roll, (uint64_t)random());
    /* The log moves to a new file so that files before the snapshot can be
     * purged later. */
    logthread_request_roll(&s->log_thread);
    s->snap_zxid = s->last_zxid;
    s->snap_started_ms = clock_ms();
    if (fork_it)
        start_fork(s);
    else
        start_walk(s);
}

void snapshots_close(server_t *s)
{
    if (s->snap_walk) {
        end_walk(s, false);
        snapwriter_abandon(&s->snap_writer);
    }
    if (s->snap_writer.running) {
        bool ok;
        char why[STORE_PATH_MAX + 160];
        snapwriter_finished(&s->snap_writer, true, &ok, why, sizeof(why));
        if (ok) /* a committed one (an abandoned one is no news) */
            writer_ended(s, ok, why);
    }
    if (s->snap_pid > 0) {
        int status;
        waitpid(s->snap_pid, &status, 0);
        s->snap_pid = 0;
    }
    if (s->snap_handles) {
        uv_idle_stop(&s->snap_idle);
        uv_close((uv_handle_t *)&s->snap_wake, NULL);
        uv_close((uv_handle_t *)&s->snap_idle, NULL);
        uv_signal_stop(&s->sig_chld);
        s->snap_handles = false;
    }
}
