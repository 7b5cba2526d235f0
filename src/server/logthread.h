/* logthread: group commit. The event loop appends encoded log entries to a
 * staging buffer; one log thread repeatedly takes everything staged so far,
 * writes it and fsyncs once, then reports the highest zxid now durable back
 * to the loop by writing an eventfd the loop polls (not a uv_async: its
 * receiver spins and yields while the sender finishes, which on two cores
 * put a context switch into every 1-in-flight write's round trip). The
 * thread is woken after the loop drops the mutex, so it never wakes only to
 * block on it. Whatever arrives while an fsync
 * runs forms the next batch, so batches grow with load; the thread is only
 * signalled when it waits for entries.
 *
 * The thread knows nothing of file formats: the backend callbacks (the txn
 * log in src/store) do the writing. A failed write or sync stops the thread
 * for good; the loop is told and no later entry is ever reported durable.
 * The staging buffers are no-fork memory (buf_init_nofork): snapshots do not make
 * the loop fault on them. */
#ifndef CORRAL_LOGTHREAD_H
#define CORRAL_LOGTHREAD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "base/buf.h"

typedef struct logthread_backend {
    /* Write bytes holding the entries first_zxid..last_zxid, in order. */
    int (*write)(void *ctx, const uint8_t *p, size_t len, int64_t first_zxid, int64_t last_zxid,
                 uint64_t count, char *err, size_t errlen);
    /* Make everything written so far durable (fsync unless forceSync=no). */
    int (*sync)(void *ctx, char *err, size_t errlen);
    /* Close the current log file; the next write starts a new one. */
    int (*roll)(void *ctx, char *err, size_t errlen);
    void *ctx;
} logthread_backend_t;

typedef struct logthread_stats {
    uint64_t batches;
    uint64_t entries;
    uint64_t fsync_count;
    int64_t fsync_ms_sum, fsync_ms_max, last_fsync_ms;
} logthread_stats_t;

typedef struct logthread {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    buf_t staged; /* entries waiting for the thread (under mu) */
    int64_t staged_first, staged_last;
    size_t staged_count;
    bool idle; /* under mu: the thread waits for entries */
    bool stop;
    bool roll_requested;     /* under mu: roll before the next batch */
    char error[256];         /* under mu; set before `failed` */
    logthread_stats_t stats; /* under mu */
    /* Read by the loop without the mutex (once per loop turn and per batch,
     * so that polling never contends with the writer). */
    atomic_bool failed;
    _Atomic int64_t durable_zxid;
    _Atomic int64_t slow_fsync_ms; /* last fsync above fsync_warn_ms, 0 once taken */
    int64_t fsync_warn_ms;
    int wake_fd;    /* eventfd: the thread writes, the loop's poll reads */
    uv_poll_t wake; /* on wake_fd */
    void (*on_durable)(void *data);
    void *data;
    logthread_backend_t backend;
    bool started;
} logthread_t;

/* on_durable(data) runs on the loop thread after batches (one call may
 * cover several) and after a failure. Returns -1 with errno set when the
 * eventfd or the thread cannot be made. */
int logthread_start(logthread_t *lt, uv_loop_t *loop, logthread_backend_t backend,
                    int64_t fsync_warn_ms, void (*on_durable)(void *data), void *data);
/* Stage one encoded entry (loop thread). */
void logthread_append(logthread_t *lt, const uint8_t *p, size_t len, int64_t zxid);
/* What the thread has made durable; false if it failed (err filled). */
bool logthread_poll(logthread_t *lt, int64_t *durable_zxid, char *err, size_t errlen);
/* The duration of an fsync that took longer than fsync_warn_ms since the
 * last call, or 0 (loop thread; fsync_warn_ms <= 0 never reports). */
int64_t logthread_take_slow_fsync(logthread_t *lt);
void logthread_get_stats(logthread_t *lt, logthread_stats_t *out);
/* Start a new log file before the next batch (a snapshot is being taken). */
void logthread_request_roll(logthread_t *lt);
/* Finish the staged entries, stop the thread, close the poll handle and
 * the eventfd. */
void logthread_stop(logthread_t *lt);

#endif
