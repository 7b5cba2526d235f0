/* txnlog: ZooKeeper-format transaction log files — entry codec, buffered
 * writer with preallocation, and a verifying reader that classifies how each
 * file ends (clean, torn tail, corruption). */
#include "txnlog.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "base/jute.h"
#include "proto/zk.h"

static uint64_t be64(const uint8_t *p)
{
    return ((uint64_t)(uint32_t)be32_read(p) << 32) | (uint32_t)be32_read(p + 4);
}

static uint32_t adler(const uint8_t *p, size_t n)
{
    uLong a = adler32(0L, Z_NULL, 0);
    /* zlib takes uInt lengths: feed large buffers in pieces. */
    while (n > 0) {
        uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
        a = adler32(a, p, chunk);
        p += chunk;
        n -= chunk;
    }
    return (uint32_t)a;
}

static void patch_long(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}

/* ---- entry codec ---------------------------------------------------------------- */

void txnlog_encode_entry(buf_t *out, const txn_header_t *hdr, const uint8_t *body, size_t body_len,
                         const txn_digest_t *digest)
{
    size_t start = out->len;
    jw_long(out, 0);
    jw_int(out, 0);
    size_t data = out->len;
    txn_header_write(out, hdr);
    if (body_len)
        buf_append(out, body, body_len);
    if (digest) {
        jw_int(out, digest->version);
        jw_long(out, digest->tree_digest);
    }
    size_t n = out->len - data;
    patch_long(out->data + start, adler(out->data + data, n));
    jw_patch_int(out, start + 8, (int32_t)n);
    jw_byte(out, TXNLOG_END_OF_RECORD);
}

static void skip_acls(jute_reader_t *r)
{
    int32_t n = jr_vector_count(r, 12);
    for (int32_t i = 0; i < n && !r->err; i++) {
        (void)jr_int(r);
        (void)jr_string(r);
        (void)jr_string(r);
    }
}

/* Parse one body of `type` from r (advancing it). False if it does not. */
static bool skip_body(jute_reader_t *r, int32_t type)
{
    switch (type) {
    case ZOP_CREATE_SESSION:
    case ZOP_ERROR:
        (void)jr_int(r);
        break;
    case ZOP_CREATE:
    case ZOP_CREATE2:
    case ZOP_CREATE_CONTAINER:
    case ZOP_CREATE_TTL:
        /* path, data, acl, [ephemeral], parentCVersion, [ttl] */
        (void)jr_string(r);
        (void)jr_buffer(r);
        skip_acls(r);
        if (type == ZOP_CREATE || type == ZOP_CREATE2)
            (void)jr_bool(r);
        (void)jr_int(r);
        if (type == ZOP_CREATE_TTL)
            (void)jr_long(r);
        break;
    case ZOP_DELETE:
    case ZOP_DELETE_CONTAINER:
        (void)jr_string(r);
        break;
    case ZOP_SET_DATA:
    case ZOP_RECONFIG:
        (void)jr_string(r);
        (void)jr_buffer(r);
        (void)jr_int(r);
        break;
    case ZOP_SET_ACL:
        (void)jr_string(r);
        skip_acls(r);
        (void)jr_int(r);
        break;
    case ZOP_MULTI: {
        int32_t n = jr_vector_count(r, 8);
        for (int32_t i = 0; i < n && !r->err; i++) {
            (void)jr_int(r);
            (void)jr_buffer(r);
        }
        break;
    }
    case ZOP_CLOSE_SESSION: {
        int32_t n = jr_vector_count(r, 4);
        for (int32_t i = 0; i < n && !r->err; i++)
            (void)jr_string(r);
        break;
    }
    default:
        return false;
    }
    return !r->err;
}

static bool known_type(int32_t type)
{
    switch (type) {
    case ZOP_CREATE_SESSION:
    case ZOP_CLOSE_SESSION:
    case ZOP_ERROR:
    case ZOP_CREATE:
    case ZOP_CREATE2:
    case ZOP_CREATE_CONTAINER:
    case ZOP_CREATE_TTL:
    case ZOP_DELETE:
    case ZOP_DELETE_CONTAINER:
    case ZOP_SET_DATA:
    case ZOP_RECONFIG:
    case ZOP_SET_ACL:
    case ZOP_MULTI:
        return true;
    default:
        return false;
    }
}

int txnlog_decode_entry(const uint8_t *raw, size_t len, txnlog_entry_t *e, buf_t *scratch,
                        char *why, size_t why_cap)
{
    memset(e, 0, sizeof(*e));
    e->raw = raw;
    e->raw_len = len;
    jute_reader_t r;
    jr_init(&r, raw, len);
    if (len < TXN_HEADER_BYTES || !txn_header_read(&r, &e->hdr)) {
        snprintf(why, why_cap, "entry of %zu bytes is shorter than a TxnHeader", len);
        return -1;
    }
    int32_t type = e->hdr.type;
    if (!known_type(type)) {
        snprintf(why, why_cap, "unsupported txn type %d (zxid 0x%" PRIx64 ")", type,
                 (uint64_t)e->hdr.zxid);
        return -1;
    }
    size_t body_start = r.pos;
    size_t rem = len - body_start;
    jute_reader_t b = r;
    bool ok = skip_body(&b, type);
    if (type == ZOP_CLOSE_SESSION) {
        /* Before 3.6 (or with closeSessionTxn.enabled=false) there is no body. */
        size_t left = ok ? jr_remaining(&b) : 0;
        if (rem == 0 || !ok || (left != 0 && left < TXN_DIGEST_BYTES)) {
            if (rem != 0 && rem < TXN_DIGEST_BYTES) {
                snprintf(why, why_cap, "closeSession body of %zu bytes does not parse", rem);
                return -1;
            }
            b = r; /* no body: what follows, if anything, is the digest */
            ok = true;
        }
    } else if (!ok && type == ZOP_CREATE) {
        /* CreateTxnV0: path, data, acl, ephemeral (no parentCVersion). */
        b = r;
        (void)jr_string(&b);
        (void)jr_buffer(&b);
        skip_acls(&b);
        (void)jr_bool(&b);
        if (!b.err) {
            buf_reset(scratch);
            buf_append(scratch, raw + body_start, b.pos - body_start);
            jw_int(scratch, -1);
            e->from_v0 = true;
            ok = true;
        }
    }
    if (!ok) {
        snprintf(why, why_cap, "%s txn body (zxid 0x%" PRIx64 ", %zu bytes) does not parse",
                 zk_op_name(type), (uint64_t)e->hdr.zxid, rem);
        return -1;
    }
    if (e->from_v0) {
        e->body = scratch->data;
        e->body_len = scratch->len;
    } else {
        e->body = raw + body_start;
        e->body_len = b.pos - body_start;
    }
    if (jr_remaining(&b) >= TXN_DIGEST_BYTES) {
        e->has_digest = true;
        e->digest.version = jr_int(&b);
        e->digest.tree_digest = jr_long(&b);
    }
    return 0;
}

/* ---- writer --------------------------------------------------------------------- */

void txnlog_writer_init(txnlog_writer_t *w, const char *log_dir, uint64_t prealloc_bytes,
                        bool force_sync)
{
    memset(w, 0, sizeof(*w));
    snprintf(w->dir, sizeof(w->dir), "%s", log_dir);
    w->prealloc_bytes = prealloc_bytes;
    w->force_sync = force_sync;
    w->fd = -1;
    w->last_zxid = -1;
    buf_init(&w->pending);
}

static int writer_failed(const txnlog_writer_t *w, store_err_t *err)
{
    return store_errf(err,
                      "%s: an earlier fsync failed; the log can no longer be trusted (restart "
                      "to recover from what is on disk)",
                      w->fd >= 0 ? w->path : w->dir);
}

static int create_file(txnlog_writer_t *w, int64_t zxid, store_err_t *err)
{
    char name[64];
    store_format_name(name, sizeof(name), STORE_LOG, zxid, STORE_PLAIN);
    if (store_path_join(w->path, sizeof(w->path), w->dir, name, err) != 0)
        return -1;
    int fd = open(w->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return store_errf(err, "%s: cannot create log file: %s", w->path, strerror(errno));
    buf_t h;
    buf_init(&h);
    jw_int(&h, TXNLOG_MAGIC);
    jw_int(&h, TXNLOG_VERSION);
    jw_long(&h, TXNLOG_DBID);
    int rc = store_pwrite_all(fd, h.data, h.len, 0);
    int e = errno;
    buf_free(&h);
    if (rc != 0) {
        close(fd);
        unlink(w->path);
        return store_errf(err, "%s: cannot write the file header: %s", w->path, strerror(e));
    }
    w->fd = fd;
    w->file_zxid = zxid;
    w->written_bytes = TXNLOG_HEADER_BYTES;
    w->file_bytes = TXNLOG_HEADER_BYTES;
    w->dir_dirty = true;
    w->txns_in_file = 0;
    return 0;
}

int txnlog_append(txnlog_writer_t *w, const txn_header_t *hdr, const uint8_t *body, size_t body_len,
                  const txn_digest_t *digest, store_err_t *err)
{
    if (w->failed)
        return writer_failed(w, err);
    if (w->fd < 0 && create_file(w, hdr->zxid, err) != 0)
        return -1;
    txnlog_encode_entry(&w->pending, hdr, body, body_len, digest);
    if (hdr->zxid > w->last_zxid)
        w->last_zxid = hdr->zxid;
    w->txns_in_file++;
    return 0;
}

/* FilePadding.calculateFileSizeWithPadding. */
static uint64_t padded_size(uint64_t position, uint64_t file_bytes, uint64_t prealloc)
{
    if (prealloc > 0 && position + 4096 >= file_bytes) {
        if (position > file_bytes) {
            file_bytes = position + prealloc;
            file_bytes -= file_bytes % prealloc;
        } else {
            file_bytes += prealloc;
        }
    }
    return file_bytes;
}

/* Pad as FilePadding does, then write p at the end of the written data. */
static int write_at_end(txnlog_writer_t *w, const uint8_t *p, size_t len, store_err_t *err)
{
    uint64_t size = padded_size(w->written_bytes, w->file_bytes, w->prealloc_bytes);
    if (size != w->file_bytes) {
        uint8_t zero = 0;
        if (store_pwrite_all(w->fd, &zero, 1, size - 1) != 0)
            return store_errf(
                err, "%s: offset %" PRIu64 ": preallocation to %" PRIu64 " bytes failed: %s",
                w->path, w->written_bytes, size, strerror(errno));
        w->file_bytes = size;
    }
    if (store_pwrite_all(w->fd, p, len, w->written_bytes) != 0)
        return store_errf(err,
                          "%s: offset %" PRIu64 ": writing %zu bytes of log entries failed: %s",
                          w->path, w->written_bytes, len, strerror(errno));
    w->written_bytes += len;
    if (w->written_bytes > w->file_bytes)
        w->file_bytes = w->written_bytes;
    return 0;
}

int txnlog_flush(txnlog_writer_t *w, store_err_t *err)
{
    if (w->failed)
        return writer_failed(w, err);
    if (w->pending.len == 0 || w->fd < 0)
        return 0;
    if (write_at_end(w, w->pending.data, w->pending.len, err) != 0)
        return -1;
    buf_reset(&w->pending);
    return 0;
}

int txnlog_write_encoded(txnlog_writer_t *w, const uint8_t *p, size_t len, int64_t first_zxid,
                         int64_t last_zxid, uint64_t count, store_err_t *err)
{
    if (w->failed)
        return writer_failed(w, err);
    if (len == 0)
        return 0;
    if (w->fd < 0 && create_file(w, first_zxid, err) != 0)
        return -1;
    if (txnlog_flush(w, err) != 0 || write_at_end(w, p, len, err) != 0)
        return -1;
    if (last_zxid > w->last_zxid)
        w->last_zxid = last_zxid;
    w->txns_in_file += count;
    return 0;
}

int txnlog_sync(txnlog_writer_t *w, store_err_t *err)
{
    if (txnlog_flush(w, err) != 0)
        return -1;
    if (w->fd >= 0 && w->force_sync && fdatasync(w->fd) != 0) {
        w->failed = true;
        return store_errf(err, "%s: fdatasync failed: %s", w->path, strerror(errno));
    }
    if (w->dir_dirty) {
        if (store_fsync_dir(w->dir, err) != 0) {
            w->failed = true;
            return -1;
        }
        w->dir_dirty = false;
    }
    return 0;
}

int txnlog_roll(txnlog_writer_t *w, store_err_t *err)
{
    if (w->fd < 0)
        return 0;
    if (txnlog_sync(w, err) != 0)
        return -1;
    close(w->fd);
    w->fd = -1;
    w->txns_in_file = 0;
    return 0;
}

void txnlog_writer_close(txnlog_writer_t *w)
{
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    buf_free(&w->pending);
}

void store_roll_policy_init(store_roll_policy_t *p, int64_t snap_count, int64_t snap_size_bytes,
                            uint64_t random)
{
    p->snap_count = snap_count < 2 ? 2 : snap_count;
    p->snap_size_bytes = snap_size_bytes;
    store_roll_policy_reset(p, random);
}

void store_roll_policy_reset(store_roll_policy_t *p, uint64_t random)
{
    p->rand_txns = (int64_t)(random % (uint64_t)(p->snap_count / 2));
    uint64_t half = p->snap_size_bytes > 1 ? (uint64_t)(p->snap_size_bytes / 2) : 0;
    /* A second draw from the same word: mix it so the two are not equal. */
    uint64_t r2 = random * 0x9E3779B97F4A7C15ull;
    p->rand_bytes = half ? (int64_t)((r2 >> 1) % half) : 0;
}

bool store_roll_due(const store_roll_policy_t *p, int64_t txns_since_roll, int64_t bytes_since_roll)
{
    if (txns_since_roll > p->snap_count / 2 + p->rand_txns)
        return true;
    return p->snap_size_bytes > 0 && bytes_since_roll > p->snap_size_bytes / 2 + p->rand_bytes;
}

/* ---- reader ----------------------------------------------------------------------- */

static void close_file(txnlog_iter_t *it)
{
    if (it->map && it->size)
        munmap((void *)it->map, it->size);
    it->map = NULL;
    it->size = 0;
    if (it->fd >= 0)
        close(it->fd);
    it->fd = -1;
}

int txnlog_iter_open(txnlog_iter_t *it, const char *log_dir, int64_t after_zxid,
                     const store_limits_t *limits, store_err_t *err)
{
    memset(it, 0, sizeof(*it));
    it->fd = -1;
    it->after_zxid = after_zxid;
    it->last_zxid = -1;
    it->tail.last_zxid = -1;
    buf_init(&it->scratch);
    if (limits)
        it->limits = *limits;
    else
        store_limits_default(&it->limits);
    snprintf(it->dir, sizeof(it->dir), "%s", log_dir);
    store_file_list_t all;
    if (access(log_dir, F_OK) != 0 && errno == ENOENT)
        return 0;
    if (store_list(log_dir, STORE_LOG, true, &all, err) != 0)
        return -1;
    size_t first = store_logs_from(&all, after_zxid);
    it->files.n = all.n - first;
    it->files.v = xmalloc((it->files.n ? it->files.n : 1) * sizeof(*it->files.v));
    if (it->files.n)
        memcpy(it->files.v, all.v + first, it->files.n * sizeof(*all.v));
    store_file_list_free(&all);
    return 0;
}

void txnlog_iter_close(txnlog_iter_t *it)
{
    close_file(it);
    store_file_list_free(&it->files);
    buf_free(&it->scratch);
}

/* First non-zero byte in p[from, to), or `to`. */
static uint64_t scan_nonzero(const uint8_t *p, uint64_t from, uint64_t to)
{
    uint64_t i = from;
    while (i < to && (i & 7) != 0) {
        if (p[i])
            return i;
        i++;
    }
    while (i + 8 <= to) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (w)
            break;
        i += 8;
    }
    for (; i < to; i++)
        if (p[i])
            return i;
    return to;
}

/* Scanning state: [.., data_end) of the open file is known to hold no hole. */
typedef struct nz_scan {
    uint64_t data_end;
} nz_scan_t;

/* First non-zero byte in [from, to) of the open file, or `to`. The holes of
 * a sparse (preallocated) file are skipped without touching their pages. */
static uint64_t next_nonzero(const txnlog_iter_t *it, nz_scan_t *s, uint64_t from, uint64_t to)
{
    while (from < to) {
        if (from >= s->data_end) {
            off_t d = lseek(it->fd, (off_t)from, SEEK_DATA);
            if (d < 0) {
                if (errno == ENXIO)
                    return to;
                s->data_end = to; /* SEEK_DATA unsupported: scan everything */
            } else {
                if ((uint64_t)d >= to)
                    return to;
                from = (uint64_t)d;
                off_t h = lseek(it->fd, d, SEEK_HOLE);
                s->data_end = (h < 0 || (uint64_t)h > to || (uint64_t)h <= from) ? to : (uint64_t)h;
            }
        }
        uint64_t end = s->data_end < to ? s->data_end : to;
        uint64_t q = scan_nonzero(it->map, from, end);
        if (q < end)
            return q;
        from = end;
    }
    return to;
}

/* A complete, checksum-valid entry frame at offset o of the open file. */
static bool frame_valid_at(const txnlog_iter_t *it, uint64_t o, int64_t *zxid)
{
    if (o >= it->size || it->size - o < TXNLOG_FRAME_BYTES + TXN_HEADER_BYTES)
        return false;
    const uint8_t *p = it->map + o;
    uint64_t crc = be64(p);
    int32_t len = be32_read(p + 8);
    if ((crc >> 32) != 0 || len < TXN_HEADER_BYTES || (uint32_t)len > it->limits.max_record_bytes)
        return false;
    if ((uint64_t)len + TXNLOG_FRAME_BYTES > it->size - o || p[12 + len] != TXNLOG_END_OF_RECORD)
        return false;
    if (adler(p + 12, (size_t)len) != crc)
        return false;
    *zxid = (int64_t)be64(p + 12 + 12);
    return true;
}

/* Search for a valid entry starting after `stop`. A valid frame has a length
 * >= 32, so some byte of its length field is non-zero: only offsets near
 * non-zero bytes are tried. */
static bool find_valid_after(const txnlog_iter_t *it, uint64_t stop, uint64_t *at, int64_t *zxid)
{
    nz_scan_t s = {0};
    uint64_t o_min = stop + 1;
    uint64_t from = o_min + 8;
    while (from < it->size) {
        uint64_t q = next_nonzero(it, &s, from, it->size);
        if (q >= it->size)
            return false;
        uint64_t lo = q >= 11 ? q - 11 : 0;
        if (lo < o_min)
            lo = o_min;
        uint64_t hi = q - 8;
        for (uint64_t o = lo; o <= hi; o++) {
            if (frame_valid_at(it, o, zxid)) {
                *at = o;
                return true;
            }
        }
        o_min = hi + 1;
        from = q + 1;
    }
    return false;
}

/* Valid data of the open file stops at `stop` for `reason`. Returns 0 when
 * the file is finished (a clean end, or a torn end that is acceptable: the
 * last file's tail goes to it->tail), -1 on a hard error. */
static int handle_stop(txnlog_iter_t *it, uint64_t stop, const char *reason, bool force_torn,
                       store_err_t *err)
{
    nz_scan_t s = {0};
    /* The last file without a single entry is a crash between creating it
     * and writing to it: torn, so that truncation removes it and the name
     * can be created again. */
    if (it->last_file && stop <= TXNLOG_HEADER_BYTES) {
        force_torn = true;
        if (stop == TXNLOG_HEADER_BYTES && strcmp(reason, "zero entry length") == 0)
            reason = "no entries after the file header";
    }
    if (!force_torn && next_nonzero(it, &s, stop, it->size) == it->size)
        return 0; /* zeros (preallocation) or nothing: a clean end */
    uint64_t at = 0;
    int64_t zxid = -1;
    bool data_after = find_valid_after(it, stop, &at, &zxid);
    if (it->last_file) {
        if (data_after)
            return store_errf(err,
                              "%s: offset %" PRIu64 ": %s, but a valid entry (zxid 0x%" PRIx64
                              ") follows at offset %" PRIu64
                              ": the log is corrupt in the middle, not torn at its end",
                              it->path, stop, reason, (uint64_t)zxid, at);
        txnlog_tail_t *t = &it->tail;
        t->torn = true;
        snprintf(t->file, sizeof(t->file), "%s", it->path);
        t->offset = stop;
        t->file_bytes = it->size;
        t->last_zxid = it->last_zxid;
        snprintf(t->reason, sizeof(t->reason), "%s", reason);
        return 0;
    }
    /* A torn end in a file that is not the last: ZooKeeper reads on with the
     * next file. Accept it when the next file continues where this one's
     * valid entries stop (or starts a later epoch), as after a crash and a
     * restart that did not truncate; anything else lost txns. */
    int64_t last = it->last_zxid;
    if (last < it->cur_zxid - 1)
        last = it->cur_zxid - 1;
    const store_file_t *next = &it->files.v[it->next_file];
    if (next->zxid <= last + 1 || (next->zxid >> 32) > (last >> 32)) {
        txnlog_tail_t *t = &it->skipped;
        t->torn = true;
        snprintf(t->file, sizeof(t->file), "%s", it->path);
        t->offset = stop;
        t->file_bytes = it->size;
        t->last_zxid = last;
        snprintf(t->reason, sizeof(t->reason), "%s", reason);
        it->skipped_tails++;
        return 0;
    }
    return store_errf(err,
                      "%s: offset %" PRIu64 ": %s; valid entries end at zxid 0x%" PRIx64
                      " but the next log %s starts at zxid 0x%" PRIx64
                      ": txns are missing (corruption in a log that is not the last)",
                      it->path, stop, reason, (uint64_t)last, next->name, (uint64_t)next->zxid);
}

/* Open the next file and check its header. 1: ready at offset 16; 0: the
 * file is finished already (torn header accepted); -1: error. */
static int open_file(txnlog_iter_t *it, store_err_t *err)
{
    const store_file_t *f = &it->files.v[it->next_file++];
    it->last_file = it->next_file == it->files.n;
    it->cur_zxid = f->zxid;
    it->pos = 0;
    if (store_path_join(it->path, sizeof(it->path), it->dir, f->name, err) != 0)
        return -1;
    it->fd = open(it->path, O_RDONLY | O_CLOEXEC);
    if (it->fd < 0)
        return store_errf(err, "%s: cannot open: %s", it->path, strerror(errno));
    struct stat st;
    if (fstat(it->fd, &st) != 0)
        return store_errf(err, "%s: cannot stat: %s", it->path, strerror(errno));
    it->size = (size_t)st.st_size;
    if (it->size > 0) {
        void *m = mmap(NULL, it->size, PROT_READ, MAP_PRIVATE, it->fd, 0);
        if (m == MAP_FAILED) {
            it->size = 0;
            return store_errf(err, "%s: cannot map: %s", it->path, strerror(errno));
        }
        it->map = m;
        (void)madvise(m, it->size, MADV_SEQUENTIAL);
    }
    if (it->size < TXNLOG_HEADER_BYTES) {
        char why[96];
        snprintf(why, sizeof(why), "file of %zu bytes is shorter than its 16-byte header",
                 it->size);
        return handle_stop(it, 0, why, true, err) < 0 ? -1 : 0;
    }
    int32_t magic = be32_read(it->map), version = be32_read(it->map + 4);
    if (magic == 0 && version == 0 && be64(it->map + 8) == 0)
        return handle_stop(it, 0, "zero-filled file header", true, err) < 0 ? -1 : 0;
    if (magic != TXNLOG_MAGIC)
        return store_errf(err,
                          "%s: offset 0: bad magic 0x%08x, expected 0x%08x (\"ZKLG\"): not a "
                          "ZooKeeper transaction log",
                          it->path, (uint32_t)magic, TXNLOG_MAGIC);
    if (version != TXNLOG_VERSION)
        return store_errf(err,
                          "%s: offset 4: unknown log format version %d (this server reads "
                          "version %d only)",
                          it->path, version, TXNLOG_VERSION);
    it->pos = TXNLOG_HEADER_BYTES;
    return 1;
}

/* 1: an entry; 0: this file is finished; -1: error. */
static int read_entry(txnlog_iter_t *it, txnlog_entry_t *e, store_err_t *err)
{
    uint64_t o = it->pos;
    uint64_t rem = it->size - o;
    char why[200];
    if (rem == 0)
        return o == TXNLOG_HEADER_BYTES && it->last_file
                   ? handle_stop(it, o, "no entries after the file header", true, err)
                   : 0;
    if (rem < 12) {
        snprintf(why, sizeof(why), "%" PRIu64 " trailing bytes, too few for an entry", rem);
        return handle_stop(it, o, why, false, err);
    }
    const uint8_t *p = it->map + o;
    uint64_t crc = be64(p);
    int32_t len = be32_read(p + 8);
    if (len == 0)
        return handle_stop(it, o, "zero entry length", false, err);
    if (len < 0 || (uint32_t)len > it->limits.max_record_bytes) {
        snprintf(why, sizeof(why), "bad entry length %d (limit %u)", len,
                 it->limits.max_record_bytes);
        return handle_stop(it, o, why, false, err);
    }
    if ((uint64_t)len + TXNLOG_FRAME_BYTES > rem) {
        snprintf(why, sizeof(why), "entry of %d bytes runs past the end of the file", len);
        return handle_stop(it, o, why, false, err);
    }
    if (p[12 + len] != TXNLOG_END_OF_RECORD) {
        snprintf(why, sizeof(why), "end-of-record marker is 0x%02x, not 0x42", p[12 + len]);
        return handle_stop(it, o, why, false, err);
    }
    uint32_t a = adler(p + 12, (size_t)len);
    if (crc != a) {
        snprintf(why, sizeof(why), "checksum mismatch (stored 0x%" PRIx64 ", computed 0x%08x)", crc,
                 a);
        return handle_stop(it, o, why, false, err);
    }
    if (txnlog_decode_entry(p + 12, (size_t)len, e, &it->scratch, why, sizeof(why)) != 0)
        return store_errf(err, "%s: offset %" PRIu64 ": %s", it->path, o, why);
    e->file = it->path;
    e->offset = o;
    it->pos = o + TXNLOG_FRAME_BYTES + (uint64_t)len;
    if (e->hdr.zxid <= it->last_zxid)
        it->out_of_order++;
    else
        it->last_zxid = e->hdr.zxid;
    return 1;
}

int txnlog_iter_next(txnlog_iter_t *it, txnlog_entry_t *e, store_err_t *err)
{
    for (;;) {
        if (it->tail.torn)
            return 0;
        if (it->fd < 0) {
            if (it->next_file >= it->files.n)
                return 0;
            int rc = open_file(it, err);
            if (rc < 0) {
                close_file(it);
                return -1;
            }
            if (rc == 0) {
                close_file(it);
                continue;
            }
        }
        int rc = read_entry(it, e, err);
        if (rc < 0) {
            close_file(it);
            return -1;
        }
        if (rc == 0) {
            close_file(it);
            continue;
        }
        if (e->hdr.zxid <= it->after_zxid)
            continue;
        it->entries++;
        return 1;
    }
}

static int fsync_path(const char *path, store_err_t *err)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return store_errf(err, "%s: cannot open: %s", path, strerror(errno));
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    if (rc != 0)
        return store_errf(err, "%s: fsync failed: %s", path, strerror(e));
    return 0;
}

static void dir_of(char *out, size_t cap, const char *path)
{
    snprintf(out, cap, "%s", path);
    char *slash = strrchr(out, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(out, cap, ".");
}

int txnlog_truncate_tail(const txnlog_tail_t *tail, store_err_t *err)
{
    char dir[STORE_PATH_MAX];
    dir_of(dir, sizeof(dir), tail->file);
    if (tail->offset <= TXNLOG_HEADER_BYTES) {
        if (unlink(tail->file) != 0 && errno != ENOENT)
            return store_errf(err, "%s: cannot remove the torn log: %s", tail->file,
                              strerror(errno));
    } else {
        if (truncate(tail->file, (off_t)tail->offset) != 0)
            return store_errf(err, "%s: cannot truncate at offset %" PRIu64 ": %s", tail->file,
                              tail->offset, strerror(errno));
        if (fsync_path(tail->file, err) != 0)
            return -1;
    }
    return store_fsync_dir(dir, err);
}

int txnlog_truncate_after(const char *log_dir, int64_t zxid, const store_limits_t *limits,
                          store_err_t *err)
{
    txnlog_iter_t it;
    if (txnlog_iter_open(&it, log_dir, -1, limits, err) != 0)
        return -1;
    /* Only the files from the one holding zxid on matter. */
    size_t first = store_logs_from(&it.files, zxid);
    it.next_file = first;
    txnlog_entry_t e;
    int rc;
    char cut_file[STORE_PATH_MAX] = "";
    uint64_t cut_at = 0;
    size_t cut_index = 0;
    while ((rc = txnlog_iter_next(&it, &e, err)) == 1) {
        if (e.hdr.zxid >= zxid) {
            snprintf(cut_file, sizeof(cut_file), "%s", e.file);
            cut_at = e.offset + TXNLOG_FRAME_BYTES + e.raw_len;
            cut_index = it.next_file; /* files after the open one */
            break;
        }
    }
    if (rc < 0) {
        txnlog_iter_close(&it);
        return -1;
    }
    int result = 0;
    if (cut_file[0]) {
        close_file(&it);
        if (truncate(cut_file, (off_t)cut_at) != 0)
            result = store_errf(err, "%s: cannot truncate at offset %" PRIu64 ": %s", cut_file,
                                cut_at, strerror(errno));
        else if (fsync_path(cut_file, err) != 0)
            result = -1;
        for (size_t i = cut_index; result == 0 && i < it.files.n; i++) {
            char path[STORE_PATH_MAX];
            if (store_path_join(path, sizeof(path), log_dir, it.files.v[i].name, err) != 0 ||
                unlink(path) != 0) {
                result = store_errf(err, "%s: cannot remove: %s", path, strerror(errno));
                break;
            }
        }
        if (result == 0)
            result = store_fsync_dir(log_dir, err);
    }
    txnlog_iter_close(&it);
    return result;
}
