/* snapwriter: the file side of a fuzzy snapshot. The loop serializes the
 * live tree a slice per turn (store/snapshot.h, snapshot_walk_*) and pushes
 * the bytes here; a thread of this module writes them to
 * ".snapshot.<zxid>.tmp" in order (checksumming them off the loop), then on
 * commit seals the stream, fsyncs, renames it to
 * snapshot.<zxid> and fsyncs the directory, so that no write or fsync of a
 * snapshot ever runs on the loop. The thread wakes the loop (uv_async)
 * after each chunk it has written and when it is done. */
#ifndef CORRAL_SNAPWRITER_H
#define CORRAL_SNAPWRITER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "store/store.h"

typedef struct snap_chunk snap_chunk_t;

typedef struct snapwriter {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    snap_chunk_t *head, *tail; /* under mu: pushed, not yet written */
    snap_chunk_t *free;        /* under mu: written, to be reused */
    size_t backlog;            /* under mu: bytes in the queue */
    bool commit, abandon;      /* under mu: what to do once the queue is empty */
    bool done;                 /* under mu: the thread has finished */
    bool failed;               /* under mu, with error */
    bool placed;               /* under mu: the file is in place */
    char error[STORE_PATH_MAX + 160];
    int fd;
    bool fsync;
    unsigned long adler; /* thread: Adler-32 of the bytes written */
    char dir[STORE_PATH_MAX], tmp[STORE_PATH_MAX], path[STORE_PATH_MAX];
    uv_async_t *wake;
    bool running; /* loop side: a thread was started and not joined */
} snapwriter_t;

/* Create the temporary file for snapshot.<zxid> in snap_dir and start the
 * thread. `wake` (initialised by the caller) is sent after every chunk and
 * at the end. Returns -1 with err set if the file cannot be created. */
int snapwriter_start(snapwriter_t *w, const char *snap_dir, int64_t zxid, bool fsync,
                     uv_async_t *wake, store_err_t *err);
/* Queue a copy of bytes (loop thread). 0, or -1 with errno = EIO once the
 * thread has failed (its error says why). */
int snapwriter_push(snapwriter_t *w, const uint8_t *p, size_t len);
/* Bytes pushed and not yet written. */
size_t snapwriter_backlog(snapwriter_t *w);
/* The thread could not write (error says why); pushes now fail. */
bool snapwriter_failed(snapwriter_t *w);
/* Everything is pushed: append the tail (snapshot_tail_bytes of the
 * Adler-32 of every byte written) and make the file durable under its
 * final name. */
void snapwriter_commit(snapwriter_t *w);
/* Give up: the thread drops the queue and removes the temporary file. */
void snapwriter_abandon(snapwriter_t *w);
/* After commit or abandon: true once the thread has finished (with `wait`,
 * after waiting for it); then *ok says whether the snapshot is in place, and
 * err (if not ok) why not. The thread is joined. */
bool snapwriter_finished(snapwriter_t *w, bool wait, bool *ok, char *err, size_t errlen);

#endif
