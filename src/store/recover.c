/* recover: newest valid snapshot + log replay, with fallback and torn-tail
 * handling (§14.4). */
#include "recover.h"

#include <inttypes.h>

#include "base/jute.h"
#include "proto/zk.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void store_recover_opts_default(store_recover_opts_t *o)
{
    memset(o, 0, sizeof(*o));
    o->truncate_torn_tail = true;
    store_limits_default(&o->limits);
}

static void add_skipped(store_recovery_t *r, const char *name, const char *reason)
{
    r->skipped = xrealloc(r->skipped, (r->nskipped + 1) * sizeof(*r->skipped));
    store_skipped_t *s = &r->skipped[r->nskipped++];
    snprintf(s->name, sizeof(s->name), "%s", name);
    snprintf(s->reason, sizeof(s->reason), "%s", reason);
}

/* "; name: reason" for each skipped snapshot, for error messages. */
static void skipped_text(const store_recovery_t *r, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < r->nskipped && len + 1 < cap; i++) {
        int n = snprintf(out + len, cap - len, "; %s", r->skipped[i].reason);
        if (n < 0)
            break;
        len += (size_t)n;
    }
}

static bool is_version_error(const char *msg)
{
    return strstr(msg, "unknown snapshot format version") != NULL;
}

/* Try the snapshots newest first. 1: one loaded; 0: none did; -1: fatal. */
static int load_snapshot(const store_dirs_t *dirs, const store_recover_opts_t *o, tree_t *tree,
                         store_recovery_t *out, size_t *nsnapshots, store_err_t *err)
{
    store_file_list_t snaps;
    if (store_list(dirs->snap_dir, STORE_SNAPSHOT, false, &snaps, err) != 0)
        return -1;
    *nsnapshots = snaps.n;
    int rc = 0;
    size_t tried = 0;
    for (size_t i = 0; i < snaps.n && tried < STORE_MAX_SNAPSHOT_CANDIDATES; i++) {
        char path[STORE_PATH_MAX];
        if (store_path_join(path, sizeof(path), dirs->snap_dir, snaps.v[i].name, err) != 0) {
            rc = -1;
            break;
        }
        if (!snapshot_looks_valid(path)) {
            store_err_t why;
            store_errf(&why, "%s: incomplete (no final \"/\" seal, or bad gzip magic)", path);
            add_skipped(out, snaps.v[i].name, why.msg);
            continue;
        }
        tried++;
        store_err_t e;
        if (snapshot_read(path, o->extended_types, &o->limits, tree, &out->snapshot, &e) == 0) {
            out->have_snapshot = true;
            snprintf(out->snapshot_path, sizeof(out->snapshot_path), "%s", path);
            rc = 1;
            break;
        }
        if (is_version_error(e.msg)) {
            *err = e;
            rc = -1;
            break;
        }
        add_skipped(out, snaps.v[i].name, e.msg);
    }
    store_file_list_free(&snaps);
    return rc;
}

/* Give a node loaded with a placeholder ACL (see snapshot.h) the ACL of
 * its create, when the replayed create is that node's (same path, czxid). */
static void resolve_placeholders(tree_t *t, const txn_header_t *h, int32_t type,
                                 const uint8_t *body, size_t len)
{
    jute_reader_t r;
    jr_init(&r, body, len);
    if (type == ZOP_MULTI) {
        int32_t n = jr_vector_count(&r, 8);
        for (int32_t i = 0; i < n && !r.err; i++) {
            int32_t sub = jr_int(&r);
            jstr_t b = jr_buffer(&r);
            if (!r.err && b.len > 0 && sub != ZOP_MULTI)
                resolve_placeholders(t, h, sub, (const uint8_t *)b.ptr, (size_t)b.len);
        }
        return;
    }
    if (type != ZOP_CREATE && type != ZOP_CREATE2 && type != ZOP_CREATE_CONTAINER &&
        type != ZOP_CREATE_TTL)
        return;
    jstr_t path = jr_string(&r);
    (void)jr_buffer(&r);
    int32_t n = jr_vector_count(&r, 12);
    znode_t *node = r.err ? NULL : tree_get_j(t, path);
    if (!node || !snapshot_acl_is_placeholder(znode_acl(t, node)) || node->czxid != h->zxid ||
        n < 0)
        return;
    zk_acl_ref_t *v = xcalloc((size_t)(n ? n : 1), sizeof(*v));
    for (int32_t i = 0; i < n; i++) {
        v[i].perms = jr_int(&r);
        v[i].scheme = jr_string(&r);
        v[i].id = jr_string(&r);
    }
    if (!r.err) {
        tree_acl_t *a = tree_acl_intern(t, v, n);
        tree_set_acl(t, node, a);
        tree_acl_unref(t, a);
    }
    free(v);
}

/* A node still holding a placeholder ACL after replay: an error. */
static int check_placeholders(const tree_t *t, const store_recovery_t *out, store_err_t *err)
{
    size_t pos = 0;
    for (const znode_t *n; (n = tree_next_node(t, &pos));) {
        if (snapshot_acl_is_placeholder(znode_acl(t, n)))
            return store_errf(err,
                              "%s: node %s refers to ACL index %" PRId64
                              ", which neither the snapshot's ACL map nor the replayed log "
                              "defines",
                              out->snapshot_path, znode_path(n), znode_acl(t, n)->index);
    }
    return 0;
}

int store_recover(const store_dirs_t *dirs, const store_recover_opts_t *opts, tree_t *tree,
                  store_recovery_t *out, const store_replay_t *replay, store_err_t *err)
{
    store_recover_opts_t def;
    if (!opts) {
        store_recover_opts_default(&def);
        opts = &def;
    }
    memset(out, 0, sizeof(*out));
    out->snapshot.zxid = -1;
    size_t nsnaps = 0;
    int rc = load_snapshot(dirs, opts, tree, out, &nsnaps, err);
    if (rc < 0) {
        tree_init(tree, opts->extended_types);
        return -1;
    }
    int64_t start = 0;
    if (rc == 1) {
        start = out->snapshot.zxid;
    } else {
        tree_init(tree, opts->extended_types);
        store_file_list_t logs;
        if (store_list(dirs->log_dir, STORE_LOG, true, &logs, err) != 0)
            return -1;
        size_t nlogs = logs.n;
        store_file_list_free(&logs);
        char why[STORE_ERR_MAX];
        skipped_text(out, why, sizeof(why));
        if (nsnaps > 0 && !opts->trust_empty_snapshot)
            return store_errf(err,
                              "%s: none of the %zu snapshot files could be loaded, refusing to "
                              "start from an empty tree%s",
                              dirs->snap_dir, nsnaps, why);
        if (nlogs > 0 && !opts->trust_empty_snapshot)
            return store_errf(err,
                              "%s: %zu transaction log files but no snapshot; refusing to start "
                              "(set zookeeper.snapshot.trust.empty=true to replay the logs onto an "
                              "empty tree)",
                              dirs->log_dir, nlogs);
    }
    out->last_zxid = start;
    if (replay && replay->loaded && replay->loaded(replay->ctx, tree, out, err) != 0)
        return -1;

    txnlog_iter_t it;
    if (txnlog_iter_open(&it, dirs->log_dir, start, &opts->limits, err) != 0)
        return -1;
    txnlog_entry_t e;
    int n;
    while ((n = txnlog_iter_next(&it, &e, err)) == 1) {
        if (replay && replay->txn && replay->txn(replay->ctx, &e, err) != 0) {
            n = -1;
            break;
        }
        if (out->snapshot.pending_acls)
            resolve_placeholders(tree, &e.hdr, e.hdr.type, e.body, e.body_len);
        out->txns_replayed++;
        if (e.hdr.zxid > out->last_zxid)
            out->last_zxid = e.hdr.zxid;
    }
    out->txns_out_of_order = it.out_of_order;
    out->torn_earlier_logs = it.skipped_tails;
    out->torn_earlier = it.skipped;
    out->tail = it.tail;
    txnlog_iter_close(&it);
    if (n < 0)
        return -1;
    if (out->snapshot.pending_acls && check_placeholders(tree, out, err) != 0)
        return -1;
    if (out->tail.torn && opts->truncate_torn_tail) {
        if (txnlog_truncate_tail(&out->tail, err) != 0)
            return -1;
        out->tail_truncated = true;
    }
    return 0;
}

void store_recovery_free(store_recovery_t *r)
{
    snapshot_info_free(&r->snapshot);
    free(r->skipped);
    r->skipped = NULL;
    r->nskipped = 0;
}
