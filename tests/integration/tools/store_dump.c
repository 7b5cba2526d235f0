/* corral-store-dump: the interoperability test's driver for src/store.
 *
 *   corral-store-dump dump <dataDir> [<dataLogDir>]
 *       Recover a data directory (ZooKeeper's or ours) with store_recover +
 *       txn_apply, check every logged TxnDigest the way ZooKeeper does, and
 *       print the result as JSON lines: one "recovery" object, then one
 *       object per live session and per node (wire Stat and stored fields).
 *
 *   corral-store-dump write <dataDir> [--gz]
 *       Build a known tree through txn_apply, write snapshot.<K> (K = after
 *       the first part of the txns) and logs holding every txn (rolled once),
 *       with digests as ZooKeeper 3.8 writes them; print the expected tree in
 *       the same JSON format.
 *
 *   corral-store-dump resnap <snapshot file> <out file>
 *       Load a snapshot and write it again (same sessions and trailer).
 *
 * Exit status 0 on success; errors go to stderr. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <fcntl.h>
#include <unistd.h>

#include "proto/zk.h"
#include "store/recover.h"
#include "store/snapshot.h"
#include "store/store.h"
#include "store/txnlog.h"
#include "tree/digest.h"
#include "tree/tree.h"
#include "txn/txn.h"

/* ---- JSON output ------------------------------------------------------------------ */

static void json_str(FILE *f, const char *s, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void json_hex(FILE *f, const uint8_t *p, int32_t n)
{
    if (n < 0) {
        fputs("null", f);
        return;
    }
    fputc('"', f);
    for (int32_t i = 0; i < n; i++)
        fprintf(f, "%02x", p[i]);
    fputc('"', f);
}

/* ---- sessions ------------------------------------------------------------------------ */

typedef struct sess {
    int64_t id;
    int32_t timeout_ms;
} sess_t;

typedef struct sessions {
    sess_t *v;
    size_t n, cap;
} sessions_t;

static void sess_put(sessions_t *s, int64_t id, int32_t timeout)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].id == id) {
            s->v[i].timeout_ms = timeout;
            return;
        }
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 8;
        s->v = realloc(s->v, s->cap * sizeof(*s->v));
    }
    s->v[s->n++] = (sess_t){id, timeout};
}

static void sess_del(sessions_t *s, int64_t id)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].id == id) {
            s->v[i] = s->v[--s->n];
            return;
        }
}

static void print_tree(FILE *f, const tree_t *t, const sessions_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        fprintf(f, "{\"session\": %" PRId64 ", \"timeout\": %d}\n", s->v[i].id, s->v[i].timeout_ms);
    size_t pos = 0;
    for (const znode_t *n; (n = tree_next_node(t, &pos));) {
        zk_stat_t st;
        znode_stat(t, n, &st);
        fputs("{\"node\": ", f);
        json_str(f, znode_path(n), n->path_len);
        fputs(", \"data\": ", f);
        json_hex(f, znode_data(n), n->data_len);
        fputs(", \"acl\": [", f);
        for (int32_t j = 0; j < znode_acl(t, n)->list.n; j++) {
            const acl_t *a = &znode_acl(t, n)->list.v[j];
            fprintf(f, "%s[%d, ", j ? ", " : "", a->perms);
            json_str(f, a->scheme, (size_t)a->scheme_len);
            fputs(", ", f);
            json_str(f, a->id, (size_t)a->id_len);
            fputc(']', f);
        }
        fprintf(f,
                "], \"acl_index\": %" PRId64 ", \"stat\": {\"czxid\": %" PRId64
                ", \"mzxid\": %" PRId64 ", \"ctime\": %" PRId64 ", \"mtime\": %" PRId64
                ", \"version\": %d, \"cversion\": %d, \"aversion\": %d, \"ephemeralOwner\": "
                "%" PRId64 ", \"dataLength\": %d, \"numChildren\": %d, \"pzxid\": %" PRId64
                "}, \"stored_cversion\": %d, \"stored_owner\": %" PRId64 "}\n",
                znode_acl(t, n)->index, st.czxid, st.mzxid, st.ctime, st.mtime, st.version,
                st.cversion, st.aversion, st.ephemeral_owner, st.data_length, st.num_children,
                st.pzxid, znode_cversion(n), znode_owner(t, n));
    }
}

/* ---- dump ---------------------------------------------------------------------------- */

typedef struct replay {
    tree_t *t;
    sessions_t sessions;
    int64_t wait_zxid; /* a snapshot digest to compare when replay reaches it, or -1 */
    int64_t wait_digest;
    uint64_t checked, mismatched;
    int64_t first_mismatch;
} replay_t;

static void check_digest(replay_t *r, int64_t zxid, int64_t want)
{
    r->checked++;
    if ((uint64_t)want != tree_digest(r->t)) {
        if (!r->mismatched)
            r->first_mismatch = zxid;
        r->mismatched++;
    }
}

static int on_txn(void *ctx, const txnlog_entry_t *e, store_err_t *err)
{
    replay_t *r = ctx;
    if (!txn_apply(r->t, NULL, &e->hdr, e->body, e->body_len, NULL))
        return store_errf(err, "%s: offset %" PRIu64 ": txn_apply refused zxid 0x%" PRIx64, e->file,
                          e->offset, (uint64_t)e->hdr.zxid);
    if (e->hdr.type == ZOP_CREATE_SESSION && e->body_len >= 4)
        sess_put(&r->sessions, e->hdr.client_id, be32_read(e->body));
    else if (e->hdr.type == ZOP_CLOSE_SESSION)
        sess_del(&r->sessions, e->hdr.client_id);
    /* As ZooKeeper: while a loaded snapshot's digest is pending (the
     * snapshot was fuzzy), per-txn digests are not compared. */
    if (r->wait_zxid >= 0) {
        if (e->hdr.zxid == r->wait_zxid)
            check_digest(r, e->hdr.zxid, r->wait_digest);
        if (e->hdr.zxid >= r->wait_zxid)
            r->wait_zxid = -1;
        return 0;
    }
    if (e->has_digest && e->digest.version == TREE_DIGEST_VERSION)
        check_digest(r, e->hdr.zxid, e->digest.tree_digest);
    return 0;
}

static int on_loaded(void *ctx, const tree_t *t, const store_recovery_t *rec, store_err_t *err)
{
    (void)t;
    (void)err;
    replay_t *r = ctx;
    for (size_t i = 0; i < rec->snapshot.nsessions; i++)
        sess_put(&r->sessions, rec->snapshot.sessions[i].id, rec->snapshot.sessions[i].timeout_ms);
    const snap_digest_t *d = &rec->snapshot.digest;
    if (rec->have_snapshot && d->present && d->zxid > 0) {
        if (d->zxid == rec->snapshot.zxid)
            check_digest(r, d->zxid, d->digest);
        else
            r->wait_zxid = d->zxid, r->wait_digest = d->digest;
    }
    return 0;
}

static int cmd_dump(const char *data_dir, const char *log_dir)
{
    store_dirs_t dirs;
    store_err_t err;
    if (store_dirs_open(&dirs, data_dir, log_dir, false, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    tree_t t;
    store_recovery_t rec;
    store_recover_opts_t o;
    store_recover_opts_default(&o);
    o.extended_types = true;
    o.truncate_torn_tail = false; /* read-only: never change ZooKeeper's files */
    replay_t r = {0};
    r.t = &t;
    r.wait_zxid = -1;
    r.first_mismatch = -1;
    store_replay_t cb = {on_loaded, on_txn, &r};
    if (store_recover(&dirs, &o, &t, &rec, &cb, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    printf("{\"recovery\": {\"snapshot\": ");
    json_str(stdout, rec.snapshot_path, strlen(rec.snapshot_path));
    printf(", \"snapshot_zxid\": %" PRId64 ", \"skipped\": %zu, \"replayed\": %" PRIu64
           ", \"last_zxid\": %" PRId64 ", \"torn\": %s, \"out_of_order\": %" PRIu64
           ", \"digests_checked\": %" PRIu64 ", \"digest_mismatches\": %" PRIu64
           ", \"first_mismatch\": %" PRId64 ", \"digest\": %" PRIu64 ", \"nodes\": %" PRIu64
           ", \"pending_acls\": %" PRIu64 "}}\n",
           rec.snapshot.zxid, rec.nskipped, rec.txns_replayed, rec.last_zxid,
           rec.tail.torn ? "true" : "false", rec.txns_out_of_order, r.checked, r.mismatched,
           r.first_mismatch, tree_digest(&t), t.node_count, rec.snapshot.pending_acls);
    print_tree(stdout, &t, &r.sessions);
    free(r.sessions.v);
    store_recovery_free(&rec);
    tree_free(&t);
    return 0;
}

/* ---- write ---------------------------------------------------------------------------- */

static const zk_acl_ref_t OPEN[] = {{ZK_PERM_ALL, JSTR_LIT("world"), JSTR_LIT("anyone")}};
/* digest user:pass (base64 sha1 of "user:pass"), plus world read. */
static const zk_acl_ref_t DIGEST_READ[] = {
    {ZK_PERM_ALL, JSTR_LIT("digest"), JSTR_LIT("user:smGaoVKd/cQkjm7b88GyorAUz20=")},
    {ZK_PERM_READ, JSTR_LIT("world"), JSTR_LIT("anyone")},
};
static const zk_acl_ref_t IP_READ[] = {
    {ZK_PERM_ALL, JSTR_LIT("ip"), JSTR_LIT("127.0.0.1")},
    {ZK_PERM_READ | ZK_PERM_ADMIN, JSTR_LIT("world"), JSTR_LIT("anyone")},
};

typedef struct writer {
    tree_t t;
    sessions_t sessions;
    int64_t zxid, now_ms;
    txnlog_writer_t log;
    buf_t b;
    int64_t snap_at;
    bool gz;
    const char *snap_dir;
    int roll_at;
} writer_t;

static void die(const char *what, const store_err_t *err)
{
    fprintf(stderr, "%s: %s\n", what, err ? err->msg : strerror(errno));
    exit(1);
}

static void snapshot_now(writer_t *w)
{
    snap_session_t *ss = calloc(w->sessions.n + 1, sizeof(*ss));
    for (size_t i = 0; i < w->sessions.n; i++)
        ss[i] = (snap_session_t){w->sessions.v[i].id, w->sessions.v[i].timeout_ms};
    snap_digest_t d = {true, w->zxid, TREE_DIGEST_VERSION, (int64_t)tree_digest(&w->t)};
    snap_write_opts_t o = {w->gz ? STORE_GZ : STORE_PLAIN, true};
    store_err_t err;
    if (snapshot_write(w->snap_dir, w->zxid, &w->t, ss, w->sessions.n, &d, &o, NULL, 0, &err) != 0)
        die("snapshot", &err);
    free(ss);
}

/* Apply the txn in w->b and log it (with a digest unless it is an error). */
static void commit(writer_t *w, int64_t session, int32_t cxid, int32_t type)
{
    txn_header_t h = {session, cxid, ++w->zxid, w->now_ms += 17, type};
    if (!txn_apply(&w->t, NULL, &h, w->b.data, w->b.len, NULL)) {
        fprintf(stderr, "apply failed at zxid %" PRId64 "\n", w->zxid);
        exit(1);
    }
    if (type == ZOP_CREATE_SESSION)
        sess_put(&w->sessions, session, be32_read(w->b.data));
    else if (type == ZOP_CLOSE_SESSION)
        sess_del(&w->sessions, session);
    txn_digest_t d = {TREE_DIGEST_VERSION, (int64_t)tree_digest(&w->t)};
    store_err_t err;
    if (txnlog_append(&w->log, &h, w->b.data, w->b.len, type == ZOP_ERROR ? NULL : &d, &err) != 0)
        die("append", &err);
    if (txnlog_sync(&w->log, &err) != 0)
        die("sync", &err);
    if (w->zxid == w->roll_at && txnlog_roll(&w->log, &err) != 0)
        die("roll", &err);
    if (w->zxid == w->snap_at)
        snapshot_now(w);
    buf_reset(&w->b);
}

static void create(writer_t *w, int64_t s, const char *path, const void *data, int32_t len,
                   const zk_acl_ref_t *acl, int32_t nacl, bool eph)
{
    znode_t *parent = tree_get(&w->t, path, (size_t)tree_parent_len(path, strlen(path)));
    txn_write_create(&w->b, jstr_from_cstr(path), (jstr_t){data, len}, acl, nacl, eph,
                     zk_version_next(znode_cversion(parent)));
    commit(w, s, 1, ZOP_CREATE);
}

static int cmd_write(const char *data_dir, bool gz)
{
    store_dirs_t dirs;
    store_err_t err;
    if (store_dirs_open(&dirs, data_dir, NULL, true, &err) != 0)
        die("dirs", &err);
    writer_t w;
    memset(&w, 0, sizeof(w));
    tree_init(&w.t, true);
    buf_init(&w.b);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    w.now_ms = (int64_t)tv.tv_sec * 1000 - 60000;
    w.gz = gz;
    w.snap_dir = dirs.snap_dir;
    w.snap_at = 14;
    w.roll_at = 20;
    txnlog_writer_init(&w.log, dirs.log_dir, TXNLOG_DEFAULT_PREALLOC_BYTES, true);
    const int64_t S1 = 0x0100000abcd00001LL; /* long-lived */
    const int64_t S2 = 0x0100000abcd00002LL; /* 4 s: expires soon after start */
    const int64_t S3 = 0x0100000abcd00003LL; /* closed in the log */

    txn_write_create_session(&w.b, 30000);
    commit(&w, S1, 0, ZOP_CREATE_SESSION);
    txn_write_create_session(&w.b, 4000);
    commit(&w, S2, 0, ZOP_CREATE_SESSION);
    create(&w, S1, "/app", "hello", 5, OPEN, 1, false);
    create(&w, S1, "/app/null", NULL, -1, DIGEST_READ, 2, false);
    create(&w, S1, "/app/empty", "", 0, OPEN, 1, false);
    create(&w, S1, "/app/eph", "e1", 2, OPEN, 1, true);
    create(&w, S2, "/app/short", "e2", 2, OPEN, 1, true);
    uint8_t bin[256];
    for (int i = 0; i < 256; i++)
        bin[i] = (uint8_t)i;
    create(&w, S1, "/app/bin\xc3\xbc\xe2\x82\xac", bin, 256, IP_READ, 2, false);
    create(&w, S1, "/app/seq-0000000006", "s", 1, OPEN, 1, false);
    /* A container with a child, and a TTL node. */
    txn_write_create_container(&w.b, JSTR_LIT("/box"), JSTR_LIT("c"), OPEN, 1,
                               zk_version_next(znode_cversion(w.t.root)));
    commit(&w, S1, 2, ZOP_CREATE_CONTAINER);
    create(&w, S1, "/box/item", "i", 1, OPEN, 1, false);
    txn_write_create_ttl(&w.b, JSTR_LIT("/ttl"), JSTR_LIT("t"), DIGEST_READ, 2,
                         zk_version_next(znode_cversion(w.t.root)), 3600000);
    commit(&w, S1, 3, ZOP_CREATE_TTL);
    /* Many children: exercises the HashSet order and its resizing. */
    create(&w, S1, "/many", NULL, -1, OPEN, 1, false);
    for (int i = 0; i < 30; i++) { /* zxid 14 is the snapshot */
        char p[32];
        snprintf(p, sizeof p, "/many/c%d", i);
        create(&w, S1, p, p, (int32_t)strlen(p), OPEN, 1, false);
    }
    txn_write_set_data(&w.b, JSTR_LIT("/app"), JSTR_LIT("world"), 1);
    commit(&w, S1, 4, ZOP_SET_DATA);
    txn_write_set_acl(&w.b, JSTR_LIT("/app/empty"), IP_READ, 2, 1);
    commit(&w, S1, 5, ZOP_SET_ACL);
    txn_write_error(&w.b, ZNODEEXISTS);
    commit(&w, S1, 6, ZOP_ERROR);
    {
        buf_t s1, s2, s3;
        buf_init(&s1);
        buf_init(&s2);
        buf_init(&s3);
        txn_write_create(&s1, JSTR_LIT("/m"), JSTR_LIT("x"), OPEN, 1, false,
                         zk_version_next(znode_cversion(w.t.root)));
        txn_write_set_data(&s2, JSTR_LIT("/m"), JSTR_LIT("y"), 1);
        txn_write_create(&s3, JSTR_LIT("/m/k"), JSTR_NULL, DIGEST_READ, 2, false, 1);
        jw_int(&w.b, 3);
        jw_int(&w.b, ZOP_CREATE);
        jw_buffer(&w.b, s1.data, (int32_t)s1.len);
        jw_int(&w.b, ZOP_SET_DATA);
        jw_buffer(&w.b, s2.data, (int32_t)s2.len);
        jw_int(&w.b, ZOP_CREATE);
        jw_buffer(&w.b, s3.data, (int32_t)s3.len);
        commit(&w, S1, 7, ZOP_MULTI);
        buf_free(&s1);
        buf_free(&s2);
        buf_free(&s3);
    }
    create(&w, S1, "/gone", "g", 1, OPEN, 1, false);
    txn_write_delete(&w.b, JSTR_LIT("/gone"));
    commit(&w, S1, 8, ZOP_DELETE);
    txn_write_delete(&w.b, JSTR_LIT("/many/c7"));
    commit(&w, S1, 9, ZOP_DELETE);
    txn_write_create_session(&w.b, 30000);
    commit(&w, S3, 0, ZOP_CREATE_SESSION);
    create(&w, S3, "/app/eph3", "e3", 2, OPEN, 1, true);
    jw_int(&w.b, 1);
    jw_cstr(&w.b, "/app/eph3");
    commit(&w, S3, 0, ZOP_CLOSE_SESSION);
    if (txnlog_sync(&w.log, &err) != 0)
        die("sync", &err);
    txnlog_writer_close(&w.log);
    printf("{\"written\": {\"last_zxid\": %" PRId64 ", \"snapshot_zxid\": %" PRId64
           ", \"digest\": %" PRIu64 ", \"short_session\": %" PRId64 "}}\n",
           w.zxid, w.snap_at, tree_digest(&w.t), S2);
    print_tree(stdout, &w.t, &w.sessions);
    buf_free(&w.b);
    free(w.sessions.v);
    tree_free(&w.t);
    return 0;
}

/* ---- resnap --------------------------------------------------------------------------- */

static int cmd_resnap(const char *in, const char *out)
{
    tree_t t;
    snapshot_info_t info;
    store_err_t err;
    if (snapshot_read(in, true, NULL, &t, &info, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror(out);
        return 1;
    }
    int rc = snapshot_write_fd(fd, &t, info.sessions, info.nsessions, &info.digest, STORE_PLAIN,
                               NULL, &err);
    close(fd);
    if (rc != 0)
        fprintf(stderr, "%s\n", err.msg);
    snapshot_info_free(&info);
    tree_free(&t);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "dump") == 0)
        return cmd_dump(argv[2], argc > 3 ? argv[3] : NULL);
    if (argc >= 3 && strcmp(argv[1], "write") == 0)
        return cmd_write(argv[2], argc > 3 && strcmp(argv[3], "--gz") == 0);
    if (argc == 4 && strcmp(argv[1], "resnap") == 0)
        return cmd_resnap(argv[2], argv[3]);
    fprintf(stderr,
            "usage: %s dump <dataDir> [<dataLogDir>] | write <dataDir> [--gz] | "
            "resnap <in> <out>\n",
            argv[0]);
    return 2;
}
