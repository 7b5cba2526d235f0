/* adler_bg: block checksums on a helper thread, combined per prefix. */
#include "adler_bg.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "base/buf.h"

#define BLOCK ((size_t)4 << 20)
#define THREAD_FROM ((size_t)32 << 20) /* below this a thread costs more than it saves */

static void *sum_blocks(void *arg)
{
    adler_bg_t *a = arg;
    for (size_t i = 0; i < a->nblocks; i++)
        a->blocks[i] = (uint32_t)adler32(adler32(0L, Z_NULL, 0), a->p + i * BLOCK, (uInt)BLOCK);
    return NULL;
}

void adler_bg_start(adler_bg_t *a, const uint8_t *p, size_t len)
{
    memset(a, 0, sizeof(*a));
    a->p = p;
    a->len = len;
    if (len < THREAD_FROM)
        return;
    a->nblocks = len / BLOCK;
    a->blocks = xmalloc(a->nblocks * sizeof(*a->blocks));
    if (pthread_create(&a->thread, NULL, sum_blocks, a) == 0) {
        a->running = true;
    } else {
        /* No thread: sum inline at the end, as for small buffers. */
        free(a->blocks);
        a->blocks = NULL;
        a->nblocks = 0;
    }
}

static void join(adler_bg_t *a)
{
    if (a->running) {
        pthread_join(a->thread, NULL);
        a->running = false;
    }
}

uint32_t adler_bg_prefix(adler_bg_t *a, size_t n)
{
    join(a);
    uLong sum = adler32(0L, Z_NULL, 0);
    size_t off = 0;
    for (size_t i = 0; i < a->nblocks && off + BLOCK <= n; i++, off += BLOCK)
        sum = adler32_combine(sum, a->blocks[i], (z_off_t)BLOCK);
    while (off < n) {
        size_t chunk = n - off > (1u << 30) ? (1u << 30) : n - off;
        sum = adler32(sum, a->p + off, (uInt)chunk);
        off += chunk;
    }
    return (uint32_t)sum;
}

void adler_bg_stop(adler_bg_t *a)
{
    join(a);
    free(a->blocks);
    a->blocks = NULL;
    a->nblocks = 0;
}
