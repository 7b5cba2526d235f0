/* quota: quota roots (a path set searched by longest component prefix) and
 * the in-memory maintenance of zookeeper_stats nodes. */
#include "quota.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/zk.h"
#include "tree/tree.h"

#define QUOTA_PREFIX "/zookeeper/quota"
#define QUOTA_PREFIX_LEN (sizeof(QUOTA_PREFIX) - 1)
#define LIMITS_NODE "zookeeper_limits"
#define STATS_NODE "zookeeper_stats"

static int64_t parse_num(const char *p, size_t n)
{
    if (n == 0)
        return -1;
    char tmp[32];
    if (n >= sizeof(tmp))
        return -1;
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    char *end;
    long long v = strtoll(tmp, &end, 10);
    return *end == '\0' ? (int64_t)v : -1;
}

void stats_track_parse(const char *p, size_t n, stats_track_t *out)
{
    out->count = out->bytes = out->count_hard_limit = out->byte_hard_limit = -1;
    size_t i = 0;
    while (i < n) {
        while (i < n && (p[i] == ',' || p[i] == ';'))
            i++;
        size_t start = i;
        while (i < n && p[i] != ',' && p[i] != ';')
            i++;
        const char *item = p + start;
        size_t len = i - start;
        const char *eq = memchr(item, '=', len);
        if (!eq)
            continue;
        size_t klen = (size_t)(eq - item);
        const char *val = eq + 1;
        const char *vend = memchr(val, '=', len - klen - 1);
        size_t vlen = vend ? (size_t)(vend - val) : len - klen - 1;
        int64_t v = parse_num(val, vlen);
        if (klen == 5 && !memcmp(item, "count", 5))
            out->count = v;
        else if (klen == 5 && !memcmp(item, "bytes", 5))
            out->bytes = v;
        else if (klen == 14 && !memcmp(item, "countHardLimit", 14))
            out->count_hard_limit = v;
        else if (klen == 13 && !memcmp(item, "byteHardLimit", 13))
            out->byte_hard_limit = v;
    }
}

/* For a node /zookeeper/quota/P/<name>, the quota root /P (into buf). */
static bool quota_root_of(const znode_t *n, const char *name, char *buf, size_t cap, size_t *len)
{
    size_t nlen = strlen(name);
    if (n->path_len <= QUOTA_PREFIX_LEN + 1 + nlen ||
        memcmp(znode_path(n), QUOTA_PREFIX "/", QUOTA_PREFIX_LEN + 1) != 0 ||
        znode_name_len(n) != nlen || memcmp(znode_name(n), name, nlen) != 0)
        return false;
    size_t root_len = n->path_len - nlen - 1 - QUOTA_PREFIX_LEN; /* before "/<name>" */
    if (root_len == 0 || root_len >= cap)
        return false;
    memcpy(buf, znode_path(n) + QUOTA_PREFIX_LEN, root_len);
    buf[root_len] = '\0';
    *len = root_len;
    return true;
}

/* Longest quota root that is `path` or a component prefix of it ("/" never
 * counts, as in ZooKeeper). Returns its length, or 0. */
static size_t longest_root(const tree_t *t, const char *path, size_t len)
{
    if (t->quota_roots.used == 0)
        return 0;
    size_t k = len;
    while (k > 1) {
        if (strmap_get(&t->quota_roots, path, k))
            return k;
        const char *slash = memrchr(path, '/', k);
        if (!slash)
            break;
        k = (size_t)(slash - path);
    }
    return 0;
}

static znode_t *quota_child(const tree_t *t, const char *root, size_t len, const char *name)
{
    char buf[4096];
    int n = snprintf(buf, sizeof(buf), "%s%.*s/%s", QUOTA_PREFIX, (int)len, root, name);
    if (n <= 0 || (size_t)n >= sizeof(buf))
        return NULL;
    return tree_get(t, buf, (size_t)n);
}

static void write_stats(tree_t *t, znode_t *stats, int64_t count, int64_t bytes)
{
    char text[64];
    int n =
        snprintf(text, sizeof(text), "count=%lld,bytes=%lld", (long long)count, (long long)bytes);
    /* Stat fields stay as they are: this is not a txn (§12.2). */
    tree_set_data_raw(t, stats, text, n);
}

static void update_stats(tree_t *t, const char *path, size_t len, int64_t count_diff,
                         int64_t bytes_diff)
{
    size_t root_len = longest_root(t, path, len);
    if (!root_len)
        return;
    znode_t *stats = quota_child(t, path, root_len, STATS_NODE);
    if (!stats)
        return;
    stats_track_t st;
    stats_track_parse((const char *)znode_data(stats),
                      (size_t)(stats->data_len > 0 ? stats->data_len : 0), &st);
    write_stats(t, stats, st.count + count_diff, st.bytes + bytes_diff);
}

typedef struct counts {
    int64_t count, bytes;
} counts_t;

static void count_node(void *ctx, const znode_t *n)
{
    counts_t *c = ctx;
    c->count++;
    c->bytes += n->data_len > 0 ? n->data_len : 0;
}

/* count and bytes of the subtree at path (the node included). */
static void subtree_counts(const tree_t *t, const char *path, size_t len, int64_t *count,
                           int64_t *bytes)
{
    counts_t c = {0, 0};
    znode_t *n = tree_get(t, path, len);
    if (n)
        tree_walk(t, n, count_node, &c);
    *count = c.count;
    *bytes = c.bytes;
}

void quota_on_add(tree_t *t, znode_t *n)
{
    if (t->loading)
        return;
    char root[4096];
    size_t rlen;
    if (quota_root_of(n, LIMITS_NODE, root, sizeof(root), &rlen)) {
        if (!strmap_get(&t->quota_roots, root, rlen)) {
            char *key = xstrndup(root, rlen);
            strmap_put(&t->quota_roots, key, rlen, key);
        }
    } else if (quota_root_of(n, STATS_NODE, root, sizeof(root), &rlen)) {
        int64_t count, bytes;
        subtree_counts(t, root, rlen, &count, &bytes);
        write_stats(t, n, count, bytes);
        return;
    }
    update_stats(t, znode_path(n), n->path_len, 1, n->data_len > 0 ? n->data_len : 0);
}

void quota_on_remove(tree_t *t, znode_t *n)
{
    if (t->loading)
        return;
    update_stats(t, znode_path(n), n->path_len, -1, -(int64_t)(n->data_len > 0 ? n->data_len : 0));
    char root[4096];
    size_t rlen;
    if (quota_root_of(n, LIMITS_NODE, root, sizeof(root), &rlen)) {
        char *key = strmap_del(&t->quota_roots, root, rlen);
        free(key);
    }
}

void quota_on_set_data(tree_t *t, znode_t *n, int32_t old_len)
{
    if (t->loading)
        return;
    int64_t diff = (int64_t)(n->data_len > 0 ? n->data_len : 0) - (old_len > 0 ? old_len : 0);
    update_stats(t, znode_path(n), n->path_len, 0, diff);
}

void quota_free(tree_t *t)
{
    size_t pos = 0;
    const char *k;
    size_t kl;
    void *v;
    while (strmap_next(&t->quota_roots, &pos, &k, &kl, &v))
        free(v);
    strmap_free(&t->quota_roots);
}

int32_t quota_check(const tree_t *t, const char *path, size_t len, int32_t count_diff,
                    int64_t bytes_diff)
{
    size_t root_len = longest_root(t, path, len);
    if (!root_len)
        return ZOK;
    znode_t *limits = quota_child(t, path, root_len, LIMITS_NODE);
    znode_t *stats = quota_child(t, path, root_len, STATS_NODE);
    if (!limits || !stats)
        return ZOK;
    stats_track_t lim, cur;
    stats_track_parse((const char *)znode_data(limits),
                      (size_t)(limits->data_len > 0 ? limits->data_len : 0), &lim);
    stats_track_parse((const char *)znode_data(stats),
                      (size_t)(stats->data_len > 0 ? stats->data_len : 0), &cur);
    if (lim.count_hard_limit > -1 && cur.count + count_diff > lim.count_hard_limit)
        return ZQUOTAEXCEEDED;
    if (lim.byte_hard_limit > -1 && cur.bytes + bytes_diff > lim.byte_hard_limit)
        return ZQUOTAEXCEEDED;
    return ZOK;
}

static void register_limits(void *ctx, const znode_t *n)
{
    tree_t *t = ctx;
    char root[4096];
    size_t rlen;
    if (quota_root_of(n, LIMITS_NODE, root, sizeof(root), &rlen) &&
        !strmap_get(&t->quota_roots, root, rlen)) {
        char *key = xstrndup(root, rlen);
        strmap_put(&t->quota_roots, key, rlen, key);
    }
}

void quota_rebuild(tree_t *t)
{
    quota_free(t);
    strmap_init(&t->quota_roots);
    znode_t *q = tree_get(t, QUOTA_PREFIX, QUOTA_PREFIX_LEN);
    if (!q)
        return;
    tree_walk(t, q, register_limits, t);
    size_t pos = 0;
    const char *k;
    size_t kl;
    void *v;
    while (strmap_next(&t->quota_roots, &pos, &k, &kl, &v)) {
        znode_t *stats = quota_child(t, k, kl, STATS_NODE);
        if (!stats)
            continue;
        int64_t count, bytes;
        subtree_counts(t, k, kl, &count, &bytes);
        write_stats(t, stats, count, bytes);
    }
}
