/* logthread: the batching writer thread and its hand-off with the loop. */
#include "logthread.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Tell the loop (thread side). A full counter cannot happen: the loop
 * drains it on every wake-up. */
static void wake_loop(logthread_t *lt)
{
    uint64_t one = 1;
    while (write(lt->wake_fd, &one, sizeof(one)) < 0 && errno == EINTR)
        ;
}

/* The loop side: drain the eventfd, then let the owner poll. */
static void on_wake(uv_poll_t *h, int status, int events)
{
    logthread_t *lt = h->data;
    (void)status;
    (void)events;
    uint64_t n;
    while (read(lt->wake_fd, &n, sizeof(n)) < 0 && errno == EINTR)
        ;
    lt->on_durable(lt->data);
}

static void *run(void *arg)
{
    logthread_t *lt = arg;
    buf_t batch;
    buf_init_nofork(&batch);
    pthread_mutex_lock(&lt->mu);
    for (;;) {
        while (!lt->stop && lt->staged.len == 0) {
            lt->idle = true;
            pthread_cond_wait(&lt->cv, &lt->mu);
        }
        lt->idle = false;
        if (lt->staged.len == 0 && lt->stop)
            break;
        /* Take the whole stage: this is the group commit. */
        buf_t tmp = batch;
        batch = lt->staged;
        lt->staged = tmp;
        buf_reset(&lt->staged);
        int64_t first = lt->staged_first, last = lt->staged_last;
        size_t count = lt->staged_count;
        bool roll = lt->roll_requested;
        lt->roll_requested = false;
        lt->staged_count = 0;
        pthread_mutex_unlock(&lt->mu);

        char err[256] = "";
        int rc = roll ? lt->backend.roll(lt->backend.ctx, err, sizeof(err)) : 0;
        if (rc == 0)
            rc = lt->backend.write(lt->backend.ctx, batch.data, batch.len, first, last, count, err,
                                   sizeof(err));
        int64_t t0 = now_ms();
        if (rc == 0)
            rc = lt->backend.sync(lt->backend.ctx, err, sizeof(err));
        int64_t took = now_ms() - t0;

        if (rc == 0) {
            /* Published before the mutex is taken again, so the loop's
             * next append never waits for this bookkeeping. */
            atomic_store(&lt->durable_zxid, last);
            if (lt->fsync_warn_ms > 0 && took > lt->fsync_warn_ms)
                atomic_store(&lt->slow_fsync_ms, took);
            wake_loop(lt);
        }
        pthread_mutex_lock(&lt->mu);
        if (rc != 0) {
            snprintf(lt->error, sizeof(lt->error), "%s", err);
            atomic_store(&lt->failed, true);
            wake_loop(lt);
            break;
        }
        lt->stats.batches++;
        lt->stats.entries += count;
        lt->stats.fsync_count++;
        lt->stats.fsync_ms_sum += took;
        lt->stats.last_fsync_ms = took;
        if (took > lt->stats.fsync_ms_max)
            lt->stats.fsync_ms_max = took;
    }
    pthread_mutex_unlock(&lt->mu);
    buf_free(&batch);
    return NULL;
}

int logthread_start(logthread_t *lt, uv_loop_t *loop, logthread_backend_t backend,
                    int64_t fsync_warn_ms, void (*on_durable)(void *data), void *data)
{
    memset(lt, 0, sizeof(*lt));
    lt->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (lt->wake_fd < 0)
        return -1;
    int rc = uv_poll_init(loop, &lt->wake, lt->wake_fd);
    if (rc == 0) {
        lt->wake.data = lt;
        rc = uv_poll_start(&lt->wake, UV_READABLE, on_wake);
        if (rc != 0)
            uv_close((uv_handle_t *)&lt->wake, NULL);
    }
    if (rc != 0) {
        close(lt->wake_fd);
        errno = -rc; /* libuv errors are negated errno values */
        return -1;
    }
    atomic_init(&lt->failed, false);
    atomic_init(&lt->durable_zxid, 0);
    atomic_init(&lt->slow_fsync_ms, 0);
    pthread_mutex_init(&lt->mu, NULL);
    pthread_cond_init(&lt->cv, NULL);
    buf_init_nofork(&lt->staged);
    lt->backend = backend;
    lt->fsync_warn_ms = fsync_warn_ms;
    lt->on_durable = on_durable;
    lt->data = data;
    rc = pthread_create(&lt->thread, NULL, run, lt);
    if (rc != 0) {
        uv_close((uv_handle_t *)&lt->wake, NULL);
        close(lt->wake_fd);
        buf_free(&lt->staged);
        pthread_mutex_destroy(&lt->mu);
        pthread_cond_destroy(&lt->cv);
        errno = rc;
        return -1;
    }
    lt->started = true;
    return 0;
}

void logthread_append(logthread_t *lt, const uint8_t *p, size_t len, int64_t zxid)
{
    pthread_mutex_lock(&lt->mu);
    if (lt->staged_count == 0)
        lt->staged_first = zxid;
    lt->staged_last = zxid;
    lt->staged_count++;
    buf_append(&lt->staged, p, len);
    bool wake = lt->idle;
    lt->idle = false; /* one signal per wait */
    pthread_mutex_unlock(&lt->mu);
    if (wake)
        pthread_cond_signal(&lt->cv);
}

bool logthread_poll(logthread_t *lt, int64_t *durable_zxid, char *err, size_t errlen)
{
    *durable_zxid = atomic_load(&lt->durable_zxid);
    if (!atomic_load(&lt->failed))
        return true;
    if (err) {
        pthread_mutex_lock(&lt->mu);
        snprintf(err, errlen, "%s", lt->error);
        pthread_mutex_unlock(&lt->mu);
    }
    return false;
}

int64_t logthread_take_slow_fsync(logthread_t *lt)
{
    return atomic_exchange(&lt->slow_fsync_ms, 0);
}

void logthread_get_stats(logthread_t *lt, logthread_stats_t *out)
{
    pthread_mutex_lock(&lt->mu);
    *out = lt->stats;
    pthread_mutex_unlock(&lt->mu);
}

void logthread_request_roll(logthread_t *lt)
{
    pthread_mutex_lock(&lt->mu);
    lt->roll_requested = true;
    pthread_mutex_unlock(&lt->mu);
}

void logthread_stop(logthread_t *lt)
{
    if (!lt->started)
        return;
    pthread_mutex_lock(&lt->mu);
    lt->stop = true;
    pthread_cond_signal(&lt->cv);
    pthread_mutex_unlock(&lt->mu);
    pthread_join(lt->thread, NULL);
    lt->started = false;
    if (!uv_is_closing((uv_handle_t *)&lt->wake))
        uv_close((uv_handle_t *)&lt->wake, NULL);
    close(lt->wake_fd); /* libuv has stopped polling it: uv_close did */
    buf_free(&lt->staged);
    pthread_mutex_destroy(&lt->mu);
    pthread_cond_destroy(&lt->cv);
}
