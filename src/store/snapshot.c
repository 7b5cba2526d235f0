/* snapshot: ZooKeeper-format snapshot files — a streaming writer (plain or
 * gzip, usable from a forked child) and a verifying loader. */
#include "snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "base/jute.h"
#include "base/vm.h"
#include "store/adler_bg.h"
#include "tree/digest.h"
#include "tree/quota.h"
#include "tree/tree_load.h"

#define STAGE_BYTES (256u * 1024u)
#define STAT_PERSISTED_BYTES 60

/* ---- Java's hash orders ------------------------------------------------------ */

static uint32_t java_spread(uint32_t h)
{
    return h ^ (h >> 16);
}

static uint32_t java_long_hash(int64_t v)
{
    uint64_t u = (uint64_t)v;
    return (uint32_t)(u ^ (u >> 32));
}

/* String.hashCode over the UTF-16 units of a UTF-8 byte string (malformed
 * bytes count as U+FFFD, as Java's decoder replaces them). */
static uint32_t java_string_hash(const char *s, size_t n)
{
    const uint8_t *p = (const uint8_t *)s;
    uint32_t h = 0;
    size_t i = 0;
    while (i < n) {
        uint32_t c = p[i], cp;
        size_t need;
        if (c < 0x80) {
            cp = c;
            need = 0;
        } else if ((c & 0xE0) == 0xC0 && c >= 0xC2) {
            cp = c & 0x1F;
            need = 1;
        } else if ((c & 0xF0) == 0xE0) {
            cp = c & 0x0F;
            need = 2;
        } else if ((c & 0xF8) == 0xF0 && c <= 0xF4) {
            cp = c & 0x07;
            need = 3;
        } else {
            h = 31 * h + 0xFFFD;
            i++;
            continue;
        }
        bool ok = i + need < n;
        for (size_t k = 1; ok && k <= need; k++) {
            if (i + k >= n || (p[i + k] & 0xC0) != 0x80)
                ok = false;
            else
                cp = cp << 6 | (p[i + k] & 0x3F);
        }
        if (ok && ((need == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
                   (need == 3 && (cp < 0x10000 || cp > 0x10FFFF))))
            ok = false;
        if (!ok) {
            h = 31 * h + 0xFFFD;
            i++;
            continue;
        }
        if (cp >= 0x10000) {
            cp -= 0x10000;
            h = 31 * h + (0xD800 + (cp >> 10));
            h = 31 * h + (0xDC00 + (cp & 0x3FF));
        } else {
            h = 31 * h + cp;
        }
        i += need + 1;
    }
    return h;
}

/* Table size of `new HashMap<>(map)` holding s entries (Java 17). */
static uint32_t java_copy_capacity(size_t s)
{
    float ft = (float)s / 0.75f + 1.0f;
    uint32_t t = ft < (float)(1u << 30) ? (uint32_t)ft : (1u << 30);
    uint32_t cap = 1;
    while (cap < t)
        cap <<= 1;
    return cap;
}

/* Table size of DataNode's `new HashSet<>(8)` after n adds. */
static uint32_t java_children_capacity(uint32_t n)
{
    uint64_t cap = 8;
    while ((uint64_t)n > cap * 3 / 4)
        cap <<= 1;
    return cap > (1u << 30) ? (1u << 30) : (uint32_t)cap;
}

/* ---- output stream ---------------------------------------------------------------- */

typedef struct snap_out {
    int fd;
    snapshot_sink_fn sink; /* instead of fd when set (plain only) */
    void *sink_ctx;
    bool unsealed; /* no checksum here: the sink's owner seals (fuzzy writer) */
    bool gz;
    z_stream zs;
    uint8_t *stage; /* uncompressed bytes not yet drained */
    size_t len;
    uint8_t *zbuf; /* gz: compressed output */
    uLong adler;   /* over the drained bytes */
    uint64_t total;
    bool failed;
    char why[160];
} snap_out_t;

static void out_fail(snap_out_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_fail(snap_out_t *o, const char *fmt, ...)
{
    if (o->failed)
        return;
    o->failed = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->why, sizeof(o->why), fmt, ap);
    va_end(ap);
}

static void out_drain(snap_out_t *o, int flush)
{
    if (o->failed)
        return;
    if (!o->unsealed)
        o->adler = adler32(o->adler, o->stage, (uInt)o->len);
    if (!o->gz) {
        int rc = !o->len   ? 0
                 : o->sink ? o->sink(o->sink_ctx, o->stage, o->len)
                           : store_write_all(o->fd, o->stage, o->len);
        if (rc != 0)
            out_fail(o, "write failed: %s", strerror(errno));
        o->len = 0;
        return;
    }
    o->zs.next_in = o->stage;
    o->zs.avail_in = (uInt)o->len;
    for (;;) {
        o->zs.next_out = o->zbuf;
        o->zs.avail_out = STAGE_BYTES;
        int rc = deflate(&o->zs, flush);
        if (rc == Z_STREAM_ERROR) {
            out_fail(o, "gzip compression failed");
            return;
        }
        size_t produced = STAGE_BYTES - o->zs.avail_out;
        if (produced && store_write_all(o->fd, o->zbuf, produced) != 0) {
            out_fail(o, "write failed: %s", strerror(errno));
            return;
        }
        if (flush == Z_FINISH ? rc == Z_STREAM_END : (o->zs.avail_out != 0))
            break;
    }
    o->len = 0;
}

static void out_raw(snap_out_t *o, const void *p, size_t n)
{
    const uint8_t *s = p;
    o->total += n;
    while (n > 0 && !o->failed) {
        if (o->len == STAGE_BYTES)
            out_drain(o, Z_NO_FLUSH);
        size_t take = STAGE_BYTES - o->len;
        if (take > n)
            take = n;
        memcpy(o->stage + o->len, s, take);
        o->len += take;
        s += take;
        n -= take;
    }
}

static void out_int(snap_out_t *o, int32_t v)
{
    uint32_t u = (uint32_t)v;
    uint8_t b[4] = {(uint8_t)(u >> 24), (uint8_t)(u >> 16), (uint8_t)(u >> 8), (uint8_t)u};
    out_raw(o, b, 4);
}

static void out_long(snap_out_t *o, int64_t v)
{
    uint64_t u = (uint64_t)v;
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(u >> (56 - 8 * i));
    out_raw(o, b, 8);
}

static void out_buffer(snap_out_t *o, const void *p, int32_t len)
{
    out_int(o, len < 0 ? -1 : len);
    if (len > 0)
        out_raw(o, p, (size_t)len);
}

/* Adler-32 of everything written so far. */
static uint32_t out_checksum(const snap_out_t *o)
{
    return (uint32_t)adler32(o->adler, o->stage, (uInt)o->len);
}

/* The seal: an Adler-32 as a long, then the ustring "/" (13 bytes). */
static void put_seal(uint32_t adler, uint8_t *out)
{
    uint64_t v = adler;
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t)(v >> (56 - 8 * i));
    static const uint8_t slash[5] = {0, 0, 0, 1, '/'};
    memcpy(out + 8, slash, sizeof(slash));
}

/* The digest record: zxid (long), version (int), digest (long): 20 bytes. */
#define DIGEST_RECORD_BYTES 20
static void put_digest(const snap_digest_t *d, uint8_t out[DIGEST_RECORD_BYTES])
{
    uint64_t zxid = (uint64_t)d->zxid, digest = (uint64_t)d->digest;
    uint32_t version = (uint32_t)d->version;
    for (int i = 0; i < 8; i++) {
        out[i] = (uint8_t)(zxid >> (56 - 8 * i));
        out[12 + i] = (uint8_t)(digest >> (56 - 8 * i));
    }
    for (int i = 0; i < 4; i++)
        out[8 + i] = (uint8_t)(version >> (24 - 8 * i));
}

static void out_seal(snap_out_t *o)
{
    uint8_t seal[13];
    put_seal(out_checksum(o), seal);
    out_raw(o, seal, sizeof(seal));
}

/* ---- writer ------------------------------------------------------------------------ */

typedef struct order_key {
    uint32_t bucket;
    int64_t key;
    const void *item;
} order_key_t;

static int cmp_order(const void *a, const void *b)
{
    const order_key_t *x = a, *y = b;
    if (x->bucket != y->bucket)
        return x->bucket < y->bucket ? -1 : 1;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return 0;
}

typedef struct kid_key {
    uint32_t bucket;
    const znode_t *n;
} kid_key_t;

static int cmp_kids(const void *a, const void *b)
{
    const kid_key_t *x = a, *y = b;
    if (x->bucket != y->bucket)
        return x->bucket < y->bucket ? -1 : 1;
    /* Within a bucket Java keeps insertion order: creation order. */
    if (x->n->czxid != y->n->czxid)
        return x->n->czxid < y->n->czxid ? -1 : 1;
    const char *nx = znode_name(x->n), *ny = znode_name(y->n);
    size_t lx = znode_name_len(x->n), ly = znode_name_len(y->n);
    int c = memcmp(nx, ny, lx < ly ? lx : ly);
    if (c)
        return c;
    return lx < ly ? -1 : lx > ly ? 1 : 0;
}

static void write_sessions(snap_out_t *o, const snap_session_t *s, size_t n)
{
    out_int(o, (int32_t)n);
    if (n == 0)
        return;
    uint32_t cap = java_copy_capacity(n);
    order_key_t *k = xmalloc(n * sizeof(*k));
    for (size_t i = 0; i < n; i++)
        k[i] = (order_key_t){java_spread(java_long_hash(s[i].id)) & (cap - 1), s[i].id, &s[i]};
    qsort(k, n, sizeof(*k), cmp_order);
    for (size_t i = 0; i < n; i++) {
        const snap_session_t *e = k[i].item;
        out_long(o, e->id);
        out_int(o, e->timeout_ms);
    }
    free(k);
}

static void write_acls(snap_out_t *o, const tree_t *t)
{
    size_t n = 0, i = 0;
    order_key_t *k = xmalloc((t->acls.used ? t->acls.used : 1) * sizeof(*k));
    size_t pos = 0;
    const char *key;
    size_t kl;
    void *v;
    while (i < t->acls.used && strmap_next(&t->acls, &pos, &key, &kl, &v)) {
        const tree_acl_t *a = v;
        if (!snapshot_acl_is_placeholder(a))
            k[n++] = (order_key_t){0, a->index, a};
        i++;
    }
    out_int(o, (int32_t)n);
    uint32_t cap = java_copy_capacity(n);
    for (i = 0; i < n; i++)
        k[i].bucket = java_spread(java_long_hash(k[i].key)) & (cap - 1);
    qsort(k, n, sizeof(*k), cmp_order);
    for (i = 0; i < n; i++) {
        const tree_acl_t *a = k[i].item;
        out_long(o, a->index);
        out_int(o, a->list.n);
        for (int32_t j = 0; j < a->list.n; j++) {
            const acl_t *e = &a->list.v[j];
            out_int(o, e->perms);
            out_buffer(o, e->scheme, e->scheme_len);
            out_buffer(o, e->id, e->id_len);
        }
    }
    free(k);
}

static void write_node(snap_out_t *o, const tree_t *t, const znode_t *n)
{
    if (n == t->root)
        out_buffer(o, "", 0);
    else
        out_buffer(o, znode_path(n), (int32_t)n->path_len);
    out_buffer(o, znode_data(n), n->data_len);
    out_long(o, znode_acl(t, n)->index);
    out_long(o, n->czxid);
    out_long(o, znode_mzxid(n));
    out_long(o, n->ctime);
    out_long(o, znode_mtime(n));
    out_int(o, znode_version(n));
    out_int(o, znode_cversion(n));
    out_int(o, znode_aversion(n));
    out_long(o, znode_owner(t, n));
    out_long(o, znode_pzxid(n));
}

/* Pre-order traversal with an explicit stack (trees can be deeper than the
 * C stack); each node's children in Java HashSet order. */
static void write_nodes(snap_out_t *o, const tree_t *t)
{
    size_t cap = 256, top = 0, kcap = 0;
    const znode_t **stack = xmalloc(cap * sizeof(*stack));
    kid_key_t *keys = NULL;
    stack[top++] = t->root;
    while (top > 0 && !o->failed) {
        const znode_t *n = stack[--top];
        write_node(o, t, n);
        const znode_kids_t *kids = znode_kids(t, n);
        if (!kids)
            continue;
        uint32_t nkids = kids->n;
        if (nkids > kcap) {
            kcap = nkids;
            keys = xrealloc(keys, kcap * sizeof(*keys));
        }
        uint32_t mask = java_children_capacity(nkids) - 1;
        for (uint32_t i = 0; i < nkids; i++) {
            const znode_t *k = znode_kids_at(n, kids, i);
            uint32_t h = java_string_hash(znode_name(k), znode_name_len(k));
            keys[i] = (kid_key_t){java_spread(h) & mask, k};
        }
        qsort(keys, nkids, sizeof(*keys), cmp_kids);
        if (top + nkids > cap) {
            while (top + nkids > cap)
                cap *= 2;
            stack = xrealloc(stack, cap * sizeof(*stack));
        }
        for (uint32_t i = nkids; i > 0; i--)
            stack[top++] = keys[i - 1].n;
    }
    free(stack);
    free(keys);
}

int snapshot_write_fd(int fd, const tree_t *t, const snap_session_t *sessions, size_t nsessions,
                      const snap_digest_t *digest, store_compression_t compression,
                      uint64_t *stream_bytes, store_err_t *err)
{
    if (compression != STORE_PLAIN && compression != STORE_GZ)
        return store_errf(err, "snapshot compression %d is not supported for writing",
                          (int)compression);
    snap_out_t o;
    memset(&o, 0, sizeof(o));
    o.fd = fd;
    o.gz = compression == STORE_GZ;
    o.adler = adler32(0L, Z_NULL, 0);
    o.stage = xmalloc(STAGE_BYTES);
    if (o.gz) {
        o.zbuf = xmalloc(STAGE_BYTES);
        /* windowBits 15 + 16: a gzip wrapper, as java.util.zip.GZIPOutputStream. */
        if (deflateInit2(&o.zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                         Z_DEFAULT_STRATEGY) != Z_OK) {
            free(o.stage);
            free(o.zbuf);
            return store_errf(err, "cannot initialise gzip compression");
        }
    }
    out_int(&o, SNAPSHOT_MAGIC);
    out_int(&o, SNAPSHOT_VERSION);
    out_long(&o, SNAPSHOT_DBID);
    write_sessions(&o, sessions, nsessions);
    write_acls(&o, t);
    write_nodes(&o, t);
    out_buffer(&o, "/", 1);
    out_seal(&o);
    if (digest && digest->present) {
        uint8_t rec[DIGEST_RECORD_BYTES];
        put_digest(digest, rec);
        out_raw(&o, rec, sizeof(rec));
        out_seal(&o);
    }
    out_drain(&o, Z_FINISH);
    if (o.gz)
        deflateEnd(&o.zs);
    free(o.stage);
    free(o.zbuf);
    if (stream_bytes)
        *stream_bytes = o.total;
    if (o.failed)
        return store_errf(err, "snapshot: %s", o.why);
    return 0;
}

int snapshot_write(const char *snap_dir, int64_t zxid, const tree_t *t,
                   const snap_session_t *sessions, size_t nsessions, const snap_digest_t *digest,
                   const snap_write_opts_t *opts, char *out_path, size_t out_cap, store_err_t *err)
{
    snap_write_opts_t def = {STORE_PLAIN, true};
    if (!opts)
        opts = &def;
    char name[64], tmpname[80], path[STORE_PATH_MAX], tmp[STORE_PATH_MAX];
    store_format_name(name, sizeof(name), STORE_SNAPSHOT, zxid, opts->compression);
    snprintf(tmpname, sizeof(tmpname), ".%s.tmp", name);
    if (store_path_join(path, sizeof(path), snap_dir, name, err) != 0 ||
        store_path_join(tmp, sizeof(tmp), snap_dir, tmpname, err) != 0)
        return -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return store_errf(err, "%s: cannot create: %s", tmp, strerror(errno));
    store_err_t e2;
    if (snapshot_write_fd(fd, t, sessions, nsessions, digest, opts->compression, NULL, &e2) != 0) {
        close(fd);
        unlink(tmp);
        return store_errf(err, "%s: %s", tmp, e2.msg);
    }
    if (store_commit_tmp(fd, tmp, path, snap_dir, opts->fsync, err) != 0)
        return -1;
    if (out_path)
        snprintf(out_path, out_cap, "%s", path);
    return 0;
}

/* ---- fuzzy writer ------------------------------------------------------------------ */

/* The walk's stage and stack are mapped directly (vm_map), not malloc'ed:
 * big transient blocks through malloc raise its mmap threshold and leave
 * free heap behind in the serving process. */
struct snap_walk {
    snap_out_t o;
    znode_t **stack; /* nodes still to write; may die meanwhile (held) */
    size_t top, cap;
};

static void walk_grow(snap_walk_t *w, size_t need)
{
    size_t cap = w->cap;
    while (cap < need)
        cap *= 2;
    znode_t **s = vm_map(cap * sizeof(*s), 0);
    memcpy(s, w->stack, w->top * sizeof(*s));
    vm_unmap(w->stack, w->cap * sizeof(*s));
    w->stack = s;
    w->cap = cap;
}

/* seal (13) + digest record {zxid 0, version, digest 0} (20) + seal (13). */
size_t snapshot_tail_bytes(uint32_t adler, uint8_t out[SNAPSHOT_TAIL_BYTES])
{
    put_seal(adler, out);
    put_digest(&(snap_digest_t){true, 0, TREE_DIGEST_VERSION, 0}, out + 13);
    uLong a = adler32(adler, out, 13 + DIGEST_RECORD_BYTES);
    put_seal((uint32_t)a, out + 13 + DIGEST_RECORD_BYTES);
    return SNAPSHOT_TAIL_BYTES;
}

snap_walk_t *snapshot_walk_begin(const tree_t *t, const snap_session_t *sessions, size_t nsessions,
                                 snapshot_sink_fn sink, void *sink_ctx)
{
    snap_walk_t *w = xcalloc(1, sizeof(*w));
    w->o.fd = -1;
    w->o.sink = sink;
    w->o.sink_ctx = sink_ctx;
    w->o.unsealed = true;
    w->o.stage = vm_map(STAGE_BYTES, 0);
    out_int(&w->o, SNAPSHOT_MAGIC);
    out_int(&w->o, SNAPSHOT_VERSION);
    out_long(&w->o, SNAPSHOT_DBID);
    write_sessions(&w->o, sessions, nsessions);
    write_acls(&w->o, t);
    w->cap = 4096;
    w->stack = vm_map(w->cap * sizeof(*w->stack), 0);
    w->stack[w->top++] = t->root;
    return w;
}

/* Children go in their array's order, not Java's: a fuzzy snapshot is not
 * byte-comparable with ZooKeeper's anyway, and a node with a million
 * children must not cost a sort on the loop. Parents still come first. */
int snapshot_walk_step(snap_walk_t *w, const tree_t *t, size_t budget, store_err_t *err)
{
    while (w->top > 0 && budget > 0 && !w->o.failed) {
        znode_t *n = w->stack[--w->top];
        if (znode_is_dead(n))
            continue;                 /* removed since its parent was written: the log has it */
        tree_walk_mark_written(t, n); /* from now on, removing it frees it */
        write_node(&w->o, t, n);
        budget--;
        const znode_kids_t *kids = znode_kids(t, n);
        if (!kids)
            continue;
        if (w->top + kids->n > w->cap)
            walk_grow(w, w->top + kids->n);
        for (uint32_t i = kids->n; i > 0; i--)
            w->stack[w->top++] = znode_kids_at(n, kids, i - 1);
    }
    if (w->o.failed)
        return store_errf(err, "snapshot: %s", w->o.why);
    return w->top == 0 ? 1 : 0;
}

int snapshot_walk_finish(snap_walk_t *w, store_err_t *err)
{
    snap_out_t *o = &w->o;
    out_buffer(o, "/", 1);
    out_drain(o, Z_FINISH);
    if (o->failed)
        return store_errf(err, "snapshot: %s", o->why);
    return 0;
}

void snapshot_walk_free(snap_walk_t *w)
{
    if (!w)
        return;
    vm_unmap(w->o.stage, STAGE_BYTES);
    vm_unmap(w->stack, w->cap * sizeof(*w->stack));
    free(w);
}

/* ---- reader ----------------------------------------------------------------------- */

bool snapshot_looks_valid(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    store_compression_t comp;
    if (!store_parse_name(base, STORE_SNAPSHOT, NULL, &comp))
        return false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = false;
    struct stat st;
    if (fstat(fd, &st) == 0) {
        uint8_t b[5];
        if (comp == STORE_GZ)
            ok = st.st_size >= 2 && pread(fd, b, 2, 0) == 2 && b[0] == 0x1f && b[1] == 0x8b;
        else if (comp == STORE_SNAPPY)
            ok = true; /* recognised; the loader explains why it cannot read it */
        else
            ok = st.st_size >= 10 && pread(fd, b, 5, st.st_size - 5) == 5 && b[0] == 0 &&
                 b[1] == 0 && b[2] == 0 && b[3] == 1 && b[4] == '/';
    }
    close(fd);
    return ok;
}

static int bad(store_err_t *err, const char *name, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int bad(store_err_t *err, const char *name, size_t at, const char *fmt, ...)
{
    char why[STORE_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    return store_errf(err, "%s: offset %zu: %s", name, at, why);
}

static const char *const BUILTINS[] = {"/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"};

static int builtin_index(const char *p, size_t n)
{
    for (int i = 0; i < 4; i++)
        if (strlen(BUILTINS[i]) == n && memcmp(BUILTINS[i], p, n) == 0)
            return i;
    return -1;
}

/* A path as a snapshot may hold it: "/" then non-empty components. */
static bool path_ok(const char *p, size_t n)
{
    if (n < 2 || p[0] != '/' || p[n - 1] == '/' || memchr(p, '\0', n))
        return false;
    for (size_t i = 1; i < n; i++)
        if (p[i] == '/' && p[i - 1] == '/')
            return false;
    return true;
}

/* Placeholder ACL entries: an empty list whose interning key cannot be the
 * key of a real list (real keys start with their entry count, never -1). */
#define PLACEHOLDER_MARK                                                                           \
    "\xff\xff\xff\xff\x7f\xff\xff\xff"                                                             \
    "corral-pending-acl:"

bool snapshot_acl_is_placeholder(const tree_acl_t *a)
{
    size_t ml = sizeof(PLACEHOLDER_MARK) - 1;
    return a->list.n == 0 && a->key.len > ml && memcmp(a->key.data, PLACEHOLDER_MARK, ml) == 0;
}

/* The placeholder for a missing index, created on first use; returned with
 * one more reference. */
static tree_acl_t *placeholder_acl(tree_t *t, int64_t index)
{
    buf_t key;
    buf_init(&key);
    buf_append_str(&key, PLACEHOLDER_MARK);
    buf_printf(&key, "%" PRId64, index);
    tree_acl_t *a = strmap_get(&t->acls, (const char *)key.data, key.len);
    if (a) {
        buf_free(&key);
        tree_acl_ref(a);
        return a;
    }
    a = xcalloc(1, sizeof(*a));
    acl_list_init(&a->list);
    a->key = key;
    a->refs = 1;
    a->index = index;
    tree_acl_register(t, a);
    return a;
}

typedef struct acl_holds {
    tree_acl_t **v;
    size_t n, cap;
} acl_holds_t;

static void holds_push(acl_holds_t *h, tree_acl_t *a)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 16;
        h->v = xrealloc(h->v, h->cap * sizeof(*h->v));
    }
    h->v[h->n++] = a;
}

/* n is the node at path[0, len). */
static bool is_node(const znode_t *n, const char *path, size_t len)
{
    return n && n->path_len == len && memcmp(znode_path(n), path, len) == 0;
}

static bool jstr_is(jstr_t s, const char *lit)
{
    return s.len >= 0 && (size_t)s.len == strlen(lit) && memcmp(s.ptr, lit, (size_t)s.len) == 0;
}

static int read_acl_map(jute_reader_t *r, const char *name, const store_limits_t *lim, tree_t *t,
                        u64map_t *by_index, acl_holds_t *holds, int64_t *max_index,
                        store_err_t *err)
{
    size_t at = r->pos;
    int32_t n = jr_int(r);
    if (r->err || n < 0 || (size_t)n > jr_remaining(r) / 12)
        return bad(err, name, at, "bad ACL map size %d", n);
    for (int32_t i = 0; i < n; i++) {
        at = r->pos;
        int64_t idx = jr_long(r);
        int32_t na = jr_vector_count(r, 12);
        if (r->err)
            return bad(err, name, at, "truncated ACL map entry %d of %d", i + 1, n);
        if (na < 0)
            return bad(err, name, at, "ACL index %" PRId64 " has a null ACL list", idx);
        zk_acl_ref_t *v = xcalloc((size_t)(na ? na : 1), sizeof(*v));
        for (int32_t j = 0; j < na; j++) {
            v[j].perms = jr_int(r);
            v[j].scheme = jr_string(r);
            v[j].id = jr_string(r);
            if (!r->err && ((uint32_t)v[j].scheme.len > lim->max_record_bytes ||
                            (uint32_t)v[j].id.len > lim->max_record_bytes))
                r->err = true;
        }
        if (r->err) {
            free(v);
            return bad(err, name, at, "truncated or oversized ACL list for index %" PRId64, idx);
        }
        if (idx == -1) {
            /* ZooKeeper never consults the map for -1 (OPEN_ACL_UNSAFE). */
            free(v);
            continue;
        }
        tree_acl_t *a = tree_acl_intern(t, v, na);
        free(v);
        a->index = idx;
        holds_push(holds, a);
        u64map_put(by_index, (uint64_t)idx, a); /* a repeated index: the later wins */
        if (idx > *max_index)
            *max_index = idx;
    }
    return 0;
}

int snapshot_read_mem(const uint8_t *p, size_t len, const char *name, bool extended_types,
                      const store_limits_t *limits, tree_t *t, snapshot_info_t *info,
                      store_err_t *err)
{
    store_limits_t lim;
    if (limits)
        lim = *limits;
    else
        store_limits_default(&lim);
    memset(info, 0, sizeof(*info));
    info->zxid = -1;
    info->stream_bytes = len;
    tree_init(t, extended_types);
    /* Quota stats are rebuilt once the nodes are in, as ZooKeeper does after
     * a load: a stats node keeps its stored bytes unless a limits node makes
     * its path a quota root (quota_rebuild). */
    t->loading = true;
    /* A znode of 100 B with a short path takes ~190 B of the stream and
     * ~170 B of node memory when pristine (tree.h; ~210 B with its Stat
     * block); size the index from the stream (it grows if the znodes are
     * smaller) and have 3/4 of the stream's size faulted in ahead, no more
     * than pristine nodes need: what a tree needs beyond that is faulted in
     * as it is allocated. */
    tree_reserve(t, len / 160, len / 4 * 3);
    adler_bg_t seal_sum;
    adler_bg_start(&seal_sum, p, len);
    u64map_t by_index;
    u64map_init(&by_index);
    acl_holds_t holds = {0};
    int64_t max_index = 0;
    bool seen_builtin[4] = {false, false, false, false};
    znode_t *prev = NULL;        /* the node loaded last */
    znode_t *prev_parent = NULL; /* and its parent */
    jute_reader_t r;
    jr_init(&r, p, len);
    size_t at = 0;
    int rc = -1;

    int32_t magic = jr_int(&r), version = jr_int(&r);
    (void)jr_long(&r);
    if (r.err) {
        bad(err, name, at, "truncated file header");
        goto done;
    }
    if (magic != SNAPSHOT_MAGIC) {
        bad(err, name, at, "bad magic 0x%08x, expected 0x%08x (\"ZKSN\"): not a ZooKeeper snapshot",
            (uint32_t)magic, SNAPSHOT_MAGIC);
        goto done;
    }
    if (version != SNAPSHOT_VERSION) {
        bad(err, name, 4, "unknown snapshot format version %d (this server reads version %d only)",
            version, SNAPSHOT_VERSION);
        goto done;
    }

    at = r.pos;
    int32_t ns = jr_int(&r);
    if (r.err || ns < 0 || (size_t)ns > jr_remaining(&r) / 12) {
        bad(err, name, at, "bad session count %d", ns);
        goto done;
    }
    info->sessions = xmalloc((size_t)(ns ? ns : 1) * sizeof(*info->sessions));
    info->nsessions = (size_t)ns;
    for (int32_t i = 0; i < ns; i++) {
        info->sessions[i].id = jr_long(&r);
        info->sessions[i].timeout_ms = jr_int(&r);
    }

    if (read_acl_map(&r, name, &lim, t, &by_index, &holds, &max_index, err) != 0)
        goto done;

    for (uint64_t count = 0;; count++) {
        at = r.pos;
        jstr_t path = jr_string(&r);
        if (r.err) {
            bad(err, name, at, "truncated node list (no end-of-nodes marker)");
            goto done;
        }
        if (jstr_is_null(path)) {
            bad(err, name, at, "null node path");
            goto done;
        }
        if (jstr_is(path, "/"))
            break;
        if (path.len > 0)
            tree_prefetch(t, path.ptr, (size_t)path.len); /* its index slot, while parsing on */
        jstr_t data = jr_buffer(&r);
        int64_t acl_index = jr_long(&r);
        znode_stored_t st;
        st.czxid = jr_long(&r);
        st.mzxid = jr_long(&r);
        st.ctime = jr_long(&r);
        st.mtime = jr_long(&r);
        st.version = jr_int(&r);
        st.cversion = jr_int(&r);
        st.aversion = jr_int(&r);
        st.ephemeral_owner = jr_long(&r);
        st.pzxid = jr_long(&r);
        if (r.err) {
            bad(err, name, at, "truncated node \"%.*s\"", (int)(path.len > 200 ? 200 : path.len),
                path.ptr);
            goto done;
        }
        if ((uint32_t)path.len > lim.max_record_bytes ||
            (data.len > 0 && (uint32_t)data.len > lim.max_record_bytes)) {
            bad(err, name, at, "node path or data longer than the %u-byte limit",
                lim.max_record_bytes);
            goto done;
        }
        bool is_root = path.len == 0;
        if (count == 0 && !is_root) {
            bad(err, name, at, "first node is \"%.*s\", expected the root \"\"",
                (int)(path.len > 200 ? 200 : path.len), path.ptr);
            goto done;
        }
        if (!is_root && !path_ok(path.ptr, (size_t)path.len)) {
            bad(err, name, at, "invalid node path \"%.*s\"", (int)(path.len > 200 ? 200 : path.len),
                path.ptr);
            goto done;
        }
        if (is_root && count > 0) {
            bad(err, name, at, "a second root node");
            goto done;
        }
        tree_acl_t *acl =
            acl_index == -1 ? &t->open_acl : u64map_get(&by_index, (uint64_t)acl_index);
        if (!acl) {
            /* Fuzzy snapshot: the list was interned after the map was
             * written. Recovery resolves it from the replayed create. */
            acl = placeholder_acl(t, acl_index);
            holds_push(&holds, acl);
            info->pending_acls++;
        }
        const char *tp = is_root ? "/" : path.ptr;
        size_t tl = is_root ? 1 : (size_t)path.len;
        znode_t *parent = NULL;
        if (!is_root) {
            /* Pre-order: the parent is most often the previous node (a
             * first child) or the previous node's parent (a sibling); any
             * earlier node is accepted too. */
            int32_t pl = tree_parent_len(tp, tl);
            if (pl > 0) {
                if (is_node(prev, tp, (size_t)pl))
                    parent = prev;
                else if (is_node(prev_parent, tp, (size_t)pl))
                    parent = prev_parent;
                else
                    parent = tree_get(t, tp, (size_t)pl);
            }
            if (!parent) {
                bad(err, name, at, "node \"%.*s\" comes before its parent", (int)tl, tp);
                goto done;
            }
        }
        int b = builtin_index(tp, tl);
        if (b >= 0) {
            if (seen_builtin[b]) {
                bad(err, name, at, "node \"%.*s\" appears twice", (int)tl, tp);
                goto done;
            }
            seen_builtin[b] = true;
        }
        prev = tree_load_node(t, parent, tp, tl, data.ptr, data.len, acl, &st, b >= 0);
        if (!prev) {
            if (b >= 0)
                bad(err, name, at, "built-in node \"%.*s\" has ephemeral owner 0x%" PRIx64, (int)tl,
                    tp, (uint64_t)st.ephemeral_owner);
            else
                bad(err, name, at, "node \"%.*s\" appears twice", (int)tl, tp);
            goto done;
        }
        prev_parent = parent;
        info->nodes++;
    }

    size_t end_nodes = r.pos;
    at = r.pos;
    uint32_t sum = adler_bg_prefix(&seal_sum, end_nodes);
    int64_t stored = jr_long(&r);
    jstr_t slash = jr_string(&r);
    if (r.err) {
        bad(err, name, at, "truncated: the checksum seal after the nodes is missing");
        goto done;
    }
    if ((uint64_t)stored != (uint64_t)sum) {
        bad(err, name, at, "checksum mismatch (stored 0x%" PRIx64 ", computed 0x%08lx)",
            (uint64_t)stored, (unsigned long)sum);
        goto done;
    }
    if (!jstr_is(slash, "/")) {
        bad(err, name, at + 8, "bad seal marker (expected ustring \"/\")");
        goto done;
    }

    if (jr_remaining(&r) > 0) {
        at = r.pos;
        size_t from = end_nodes; /* seal 2 covers seal 1 too */
        snap_digest_t *d = &info->digest;
        d->zxid = jr_long(&r);
        d->version = jr_int(&r);
        if (d->version < 2) {
            jstr_t hex = jr_string(&r);
            d->digest = 0;
            if (!r.err && hex.len > 0) {
                char tmp[40];
                if (hex.len >= (int32_t)sizeof(tmp)) {
                    bad(err, name, at, "digest string too long");
                    goto done;
                }
                memcpy(tmp, hex.ptr, (size_t)hex.len);
                tmp[hex.len] = '\0';
                d->digest = (int64_t)strtoull(tmp, NULL, 16);
            }
        } else {
            d->digest = jr_long(&r);
        }
        if (r.err) {
            bad(err, name, at, "truncated digest trailer");
            goto done;
        }
        uLong sum2 = adler32(sum, p + from, (uInt)(r.pos - from));
        at = r.pos;
        stored = jr_long(&r);
        slash = jr_string(&r);
        if (r.err) {
            bad(err, name, at, "truncated: the checksum seal after the digest is missing");
            goto done;
        }
        if ((uint64_t)stored != (uint64_t)sum2) {
            bad(err, name, at,
                "checksum mismatch after the digest (stored 0x%" PRIx64 ", computed 0x%08lx)",
                (uint64_t)stored, (unsigned long)sum2);
            goto done;
        }
        if (!jstr_is(slash, "/")) {
            bad(err, name, at + 8, "bad seal marker (expected ustring \"/\")");
            goto done;
        }
        d->present = true;
    }
    /* Bytes after the last seal are ignored, as ZooKeeper ignores them. */

    /* ACL entries that did not come from the map (the fresh tree's own, if a
     * node still uses it) get indexes past the map's. */
    {
        size_t pos = 0;
        const char *k;
        size_t kl;
        void *v;
        int64_t next = max_index;
        while (strmap_next(&t->acls, &pos, &k, &kl, &v)) {
            tree_acl_t *a = v;
            if (!snapshot_acl_is_placeholder(a) && u64map_get(&by_index, (uint64_t)a->index) != a)
                a->index = ++next;
        }
        t->next_acl_index = next + 1;
    }
    quota_rebuild(t); /* `loading` ends at done: */
    rc = 0;

done:
    t->loading = false;
    adler_bg_stop(&seal_sum);
    tree_reserve_done(t);
    for (size_t i = 0; i < holds.n; i++)
        tree_acl_unref(t, holds.v[i]); /* purges map entries no node uses */
    free(holds.v);
    u64map_free(&by_index);
    if (rc != 0) {
        tree_free(t);
        snapshot_info_free(info);
    }
    return rc;
}

void snapshot_info_free(snapshot_info_t *info)
{
    free(info->sessions);
    info->sessions = NULL;
    info->nsessions = 0;
}

/* Inflate a whole gzip file (possibly several members) into memory. */
static int gunzip_all(const uint8_t *p, size_t len, const char *name, buf_t *out, store_err_t *err)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 15 + 16) != Z_OK)
        return store_errf(err, "%s: cannot initialise gzip decompression", name);
    size_t off = 0;
    int rc = Z_OK;
    while (off < len) {
        uInt chunk = len - off > (1u << 30) ? (1u << 30) : (uInt)(len - off);
        zs.next_in = (Bytef *)(uintptr_t)(p + off);
        zs.avail_in = chunk;
        while (zs.avail_in > 0) {
            buf_reserve(out, STAGE_BYTES);
            zs.next_out = out->data + out->len;
            zs.avail_out =
                (uInt)(out->cap - out->len > (1u << 30) ? (1u << 30) : out->cap - out->len);
            uInt before = zs.avail_out;
            rc = inflate(&zs, Z_NO_FLUSH);
            out->len += before - zs.avail_out;
            if (rc == Z_STREAM_END) {
                if (zs.avail_in == 0)
                    break;
                inflateReset(&zs); /* another gzip member follows */
                continue;
            }
            if (rc != Z_OK && rc != Z_BUF_ERROR) {
                size_t at = off + (chunk - zs.avail_in);
                inflateEnd(&zs);
                return store_errf(err, "%s: compressed offset %zu: corrupt gzip data (%s)", name,
                                  at, zs.msg ? zs.msg : "inflate failed");
            }
            if (rc == Z_BUF_ERROR && zs.avail_out != 0)
                break;
        }
        off += chunk - zs.avail_in;
        if (zs.avail_in != 0)
            break;
    }
    inflateEnd(&zs);
    if (rc != Z_STREAM_END)
        return store_errf(err, "%s: truncated gzip stream (%zu compressed bytes)", name, len);
    return 0;
}

int snapshot_read(const char *path, bool extended_types, const store_limits_t *limits, tree_t *t,
                  snapshot_info_t *info, store_err_t *err)
{
    memset(info, 0, sizeof(*info));
    info->zxid = -1;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    int64_t zxid;
    store_compression_t comp;
    if (!store_parse_name(base, STORE_SNAPSHOT, &zxid, &comp))
        return store_errf(err, "%s: not a snapshot file name (snapshot.<zxid hex>)", path);
    if (comp == STORE_SNAPPY)
        return store_errf(err, "%s: snappy-compressed snapshots are not supported (use gz)", path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return store_errf(err, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return store_errf(err, "%s: cannot stat: %s", path, strerror(e));
    }
    size_t size = (size_t)st.st_size;
    const uint8_t *map = NULL;
    if (size > 0) {
        /* Populated up front: one bulk mapping instead of a fault per page. */
        void *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
        if (m == MAP_FAILED) {
            int e = errno;
            close(fd);
            return store_errf(err, "%s: cannot map: %s", path, strerror(e));
        }
        map = m;
        (void)madvise(m, size, MADV_SEQUENTIAL);
    }
    close(fd);
    int rc;
    if (comp == STORE_GZ) {
        if (size < 2 || map[0] != 0x1f || map[1] != 0x8b) {
            rc = store_errf(err, "%s: offset 0: not a gzip file (bad magic)", path);
        } else {
            buf_t plain;
            buf_init(&plain);
            rc = gunzip_all(map, size, path, &plain, err);
            if (rc == 0)
                rc = snapshot_read_mem(plain.data, plain.len, path, extended_types, limits, t, info,
                                       err);
            buf_free(&plain);
        }
    } else if (size < 10 || memcmp(map + size - 5, "\0\0\0\1/", 5) != 0) {
        rc = store_errf(err,
                        "%s: offset %zu: incomplete snapshot: it does not end with the \"/\" "
                        "seal (truncated or still being written)",
                        path, size);
    } else {
        rc = snapshot_read_mem(map, size, path, extended_types, limits, t, info, err);
    }
    if (map)
        munmap((void *)map, size);
    if (rc == 0)
        info->zxid = zxid;
    return rc;
}
