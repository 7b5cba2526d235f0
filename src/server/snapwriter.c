/* snapwriter: writes a fuzzy snapshot's bytes on a thread of its own,
 * checksums and seals them, and puts the file in place (see snapwriter.h). */
#include "snapwriter.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "base/vm.h"
#include "store/snapshot.h"

/* Chunks are mapped directly (vm_map), not malloc'ed, and reused while the
 * snapshot runs: hundreds of 256-KiB blocks through malloc would raise its
 * mmap threshold and leave megabytes of free heap behind (RSS). */
#define CHUNK_ROOM (256u * 1024u)

struct snap_chunk {
    snap_chunk_t *next;
    size_t len, room;
    uint8_t bytes[];
};

static snap_chunk_t *chunk_new(size_t room)
{
    snap_chunk_t *c = vm_map(sizeof(*c) + room, 0);
    c->room = room;
    return c;
}

static void chunk_unmap(snap_chunk_t *c)
{
    vm_unmap(c, sizeof(*c) + c->room);
}

/* Under mu: a written chunk goes back to the free list. */
static void chunk_recycle(snapwriter_t *w, snap_chunk_t *c)
{
    if (c->room != CHUNK_ROOM) {
        chunk_unmap(c);
        return;
    }
    c->next = w->free;
    w->free = c;
}

static void drop_queue(snapwriter_t *w)
{
    while (w->head) {
        snap_chunk_t *c = w->head;
        w->head = c->next;
        chunk_recycle(w, c);
    }
    w->tail = NULL;
    w->backlog = 0;
}

/* Under mu: the first failure is the one reported. */
static void fail_locked(snapwriter_t *w, const char *what, int err)
{
    if (!w->failed) {
        w->failed = true;
        snprintf(w->error, sizeof(w->error), "%s: %s failed: %s", w->tmp, what, strerror(err));
    }
}

static void *writer_main(void *arg)
{
    snapwriter_t *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->head && !w->commit && !w->abandon)
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->abandon || w->failed)
            break;
        if (!w->head)
            break; /* committed and drained */
        snap_chunk_t *c = w->head;
        pthread_mutex_unlock(&w->mu);
        w->adler = adler32(w->adler, c->bytes, (uInt)c->len);
        int rc = store_write_all(w->fd, c->bytes, c->len);
        int e = errno;
        pthread_mutex_lock(&w->mu);
        w->head = c->next;
        if (!w->head)
            w->tail = NULL;
        w->backlog -= c->len;
        chunk_recycle(w, c);
        if (rc != 0)
            fail_locked(w, "write", e);
        uv_async_send(w->wake);
    }
    bool keep = w->commit && !w->abandon && !w->failed;
    drop_queue(w);
    pthread_mutex_unlock(&w->mu);

    store_err_t err;
    int rc = 0;
    if (keep) {
        uint8_t tail[SNAPSHOT_TAIL_BYTES];
        size_t n = snapshot_tail_bytes((uint32_t)w->adler, tail);
        if (store_write_all(w->fd, tail, n) != 0) {
            rc = store_errf(&err, "%s: write failed: %s", w->tmp, strerror(errno));
            close(w->fd);
            unlink(w->tmp);
        } else {
            rc = store_commit_tmp(w->fd, w->tmp, w->path, w->dir, w->fsync, &err);
        }
    } else {
        close(w->fd);
        unlink(w->tmp);
    }
    pthread_mutex_lock(&w->mu);
    if (keep && rc != 0 && !w->failed) {
        w->failed = true;
        snprintf(w->error, sizeof(w->error), "%s", err.msg);
    }
    w->placed = keep && rc == 0;
    w->done = true;
    pthread_mutex_unlock(&w->mu);
    uv_async_send(w->wake);
    return NULL;
}

int snapwriter_start(snapwriter_t *w, const char *snap_dir, int64_t zxid, bool fsync,
                     uv_async_t *wake, store_err_t *err)
{
    memset(w, 0, sizeof(*w));
    char name[64], tmpname[80];
    store_format_name(name, sizeof(name), STORE_SNAPSHOT, zxid, STORE_PLAIN);
    snprintf(tmpname, sizeof(tmpname), ".%s.tmp", name);
    if (store_path_join(w->path, sizeof(w->path), snap_dir, name, err) != 0 ||
        store_path_join(w->tmp, sizeof(w->tmp), snap_dir, tmpname, err) != 0)
        return -1;
    snprintf(w->dir, sizeof(w->dir), "%s", snap_dir);
    w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->fd < 0)
        return store_errf(err, "%s: cannot create: %s", w->tmp, strerror(errno));
    w->fsync = fsync;
    w->wake = wake;
    w->adler = adler32(0L, Z_NULL, 0);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    int rc = pthread_create(&w->thread, NULL, writer_main, w);
    if (rc != 0) {
        close(w->fd);
        unlink(w->tmp);
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        return store_errf(err, "cannot start the snapshot writer thread: %s", strerror(rc));
    }
    w->running = true;
    return 0;
}

int snapwriter_push(snapwriter_t *w, const uint8_t *p, size_t len)
{
    pthread_mutex_lock(&w->mu);
    snap_chunk_t *c = len <= CHUNK_ROOM ? w->free : NULL;
    if (c)
        w->free = c->next;
    pthread_mutex_unlock(&w->mu);
    if (!c)
        c = chunk_new(len > CHUNK_ROOM ? len : CHUNK_ROOM);
    c->next = NULL;
    c->len = len;
    memcpy(c->bytes, p, len);
    pthread_mutex_lock(&w->mu);
    if (w->failed) {
        chunk_recycle(w, c);
        pthread_mutex_unlock(&w->mu);
        errno = EIO;
        return -1;
    }
    if (w->tail)
        w->tail->next = c;
    else
        w->head = c;
    w->tail = c;
    w->backlog += len;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return 0;
}

size_t snapwriter_backlog(snapwriter_t *w)
{
    pthread_mutex_lock(&w->mu);
    size_t n = w->backlog;
    pthread_mutex_unlock(&w->mu);
    return n;
}

bool snapwriter_failed(snapwriter_t *w)
{
    pthread_mutex_lock(&w->mu);
    bool failed = w->failed;
    pthread_mutex_unlock(&w->mu);
    return failed;
}

static void request(snapwriter_t *w, bool commit)
{
    pthread_mutex_lock(&w->mu);
    if (commit)
        w->commit = true;
    else
        w->abandon = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void snapwriter_commit(snapwriter_t *w)
{
    request(w, true);
}

void snapwriter_abandon(snapwriter_t *w)
{
    request(w, false);
}

bool snapwriter_finished(snapwriter_t *w, bool wait, bool *ok, char *err, size_t errlen)
{
    if (!w->running)
        return false;
    if (wait)
        pthread_join(w->thread, NULL); /* then `done` is set */
    pthread_mutex_lock(&w->mu);
    bool done = w->done;
    bool placed = w->placed;
    if (done && !placed)
        snprintf(err, errlen, "%s", w->failed ? w->error : "abandoned");
    pthread_mutex_unlock(&w->mu);
    if (!done)
        return false;
    if (!wait)
        pthread_join(w->thread, NULL);
    while (w->free) {
        snap_chunk_t *c = w->free;
        w->free = c->next;
        chunk_unmap(c);
    }
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    w->running = false;
    *ok = placed;
    return true;
}
