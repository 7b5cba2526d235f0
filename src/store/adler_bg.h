/* adler_bg: the Adler-32 of a large buffer, computed on a helper thread
 * while the caller parses the same buffer, in blocks so that the checksum of
 * any prefix can be had afterwards (a snapshot's seal covers everything up
 * to the end of its nodes, which is known only once they are parsed).
 * Small buffers are summed on the caller's thread. */
#ifndef CORRAL_ADLER_BG_H
#define CORRAL_ADLER_BG_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct adler_bg {
    const uint8_t *p;
    size_t len;
    uint32_t *blocks; /* Adler-32 of each whole block */
    size_t nblocks;
    pthread_t thread;
    bool running; /* a thread was started and not yet joined */
} adler_bg_t;

/* The buffer must stay mapped until adler_bg_stop. */
void adler_bg_start(adler_bg_t *a, const uint8_t *p, size_t len);
/* Adler-32 of p[0, n), n <= len. Waits for the helper thread. */
uint32_t adler_bg_prefix(adler_bg_t *a, size_t n);
/* Wait for the thread (if any) and release everything. Idempotent. */
void adler_bg_stop(adler_bg_t *a);

#endif
