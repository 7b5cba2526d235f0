/* snapshot_sink: what the unit tests give a fuzzy snapshot walk as its sink:
 * the bytes it wrote and their running Adler-32, as the server's file thread
 * keeps them, and the tail that thread appends (snapshot_tail_bytes). */
#ifndef CORRAL_TEST_SNAPSHOT_SINK_H
#define CORRAL_TEST_SNAPSHOT_SINK_H

#include <zlib.h>

#include "base/buf.h"
#include "store/snapshot.h"

typedef struct snapshot_sink {
    buf_t bytes;
    uLong adler;
} snapshot_sink_t;

static inline void snapshot_sink_init(snapshot_sink_t *k)
{
    buf_init(&k->bytes);
    k->adler = adler32(0L, Z_NULL, 0);
}

/* Empty again, for another walk. */
static inline void snapshot_sink_reset(snapshot_sink_t *k)
{
    buf_reset(&k->bytes);
    k->adler = adler32(0L, Z_NULL, 0);
}

/* A snapshot_sink_fn. */
static inline int snapshot_sink_put(void *ctx, const uint8_t *p, size_t len)
{
    snapshot_sink_t *k = ctx;
    buf_append(&k->bytes, p, len);
    k->adler = adler32(k->adler, p, (uInt)len);
    return 0;
}

/* After the walk's last bytes: the tail, which makes them a whole file. */
static inline void snapshot_sink_seal(snapshot_sink_t *k)
{
    uint8_t tail[SNAPSHOT_TAIL_BYTES];
    buf_append(&k->bytes, tail, snapshot_tail_bytes((uint32_t)k->adler, tail));
}

#endif
