/* workload: the state every workload shares (paths, payload, watch
 * bookkeeping) and the phases that implement each workload, setup and
 * teardown. run.c strings them together. */
#ifndef CORRAL_BENCH_WORKLOAD_H
#define CORRAL_BENCH_WORKLOAD_H

#include <stdint.h>

#include "bench/engine.h"
#include "bench/req.h"

#define WATCH_SEND_RING 65536 /* writer send times kept for notification latency */
#define TEARDOWN_MAX_ROUNDS 5

typedef struct wl_ctx {
    const bench_opts_t *o;
    workload_kind_t kind;
    char root[BENCH_MAX_ROOT_LEN + 1];
    size_t root_len;
    keypath_t keys;                /* root/k######## */
    keypath_t plain;               /* root/p######## (create --create-mode plain) */
    keypath_t eph;                 /* root/e######## (sessions) */
    char seq_prefix[ENG_PATH_MAX]; /* root/s- */
    size_t seq_prefix_len;
    char wpath[ENG_PATH_MAX]; /* root/w */
    size_t wpath_len;
    uint8_t *value; /* o->value_bytes of payload */
    uint32_t plain_counter;
    uint32_t eph_counter;
    /* watch */
    int watchers;
    int64_t watch_base_version; /* version of root/w before the first write */
    uint32_t writer_seq;        /* setData requests issued by the writer */
    int64_t *send_ns;           /* [WATCH_SEND_RING], by writer_seq */
    uint64_t notify_untimed;
    /* setup/teardown results */
    double setup_s;
    uint64_t setup_requests;
    uint64_t teardown_requests;
    bool in_teardown;
} wl_ctx_t;

void wl_ctx_init(wl_ctx_t *w, const bench_opts_t *o, workload_kind_t kind);
void wl_ctx_free(wl_ctx_t *w);

/* The measured phase of a workload (read ... multi). */
eng_phase_t wl_phase(wl_ctx_t *w);
/* One file per family of workloads. */
eng_phase_t wl_simple_phase(wl_ctx_t *w); /* read exists children write mixed multi */
eng_phase_t wl_create_phase(wl_ctx_t *w);
eng_phase_t wl_sessions_phase(wl_ctx_t *w);
eng_phase_t wl_watch_phase(wl_ctx_t *w);
/* Stats kinds that count as the workload's ops. */
uint32_t wl_primary_mask(workload_kind_t kind);
/* Sessions the workload uses (watch: the watchers and the writer). */
int wl_sessions_needed(const bench_opts_t *o);

/* Setup: create the root and what the workload needs. 0 or -1 (message on
 * stderr). */
int wl_setup(eng_t *e, wl_ctx_t *w, workload_kind_t kind);
/* Teardown: delete the root's children and the root. */
int wl_teardown(eng_t *e, wl_ctx_t *w);
/* Send closeSession on every ready session and wait for the replies. */
void wl_close_all(eng_t *e);

#endif
