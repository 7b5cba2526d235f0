/* cmd_quota: setquota, listquota, delquota as zkCli 3.8 does them — client
 * side bookkeeping under /zookeeper/quota with StatsTrack text
 * ("count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=-1"). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "cli/opts.h"
#include "cli/shell.h"

#define QUOTA_ROOT "/zookeeper/quota"
#define QUOTA_LIMITS "zookeeper_limits"
#define QUOTA_STATS "zookeeper_stats"

/* ---- StatsTrack ------------------------------------------------------------------------ */

#define ST_MAX 16

typedef struct stats_track {
    char *key[ST_MAX];
    long long val[ST_MAX];
    int n;
} stats_track_t;

static void st_set(stats_track_t *st, const char *key, long long v)
{
    for (int i = 0; i < st->n; i++)
        if (strcmp(st->key[i], key) == 0) {
            st->val[i] = v;
            return;
        }
    if (st->n == ST_MAX)
        return;
    st->key[st->n] = xstrndup(key, strlen(key));
    st->val[st->n++] = v;
}

static long long st_get(const stats_track_t *st, const char *key)
{
    for (int i = 0; i < st->n; i++)
        if (strcmp(st->key[i], key) == 0)
            return st->val[i];
    return -1;
}

static void st_free(stats_track_t *st)
{
    for (int i = 0; i < st->n; i++)
        free(st->key[i]);
    st->n = 0;
}

/* new StatsTrack(String): pairs split on [,;]+, each split on '='; an empty
 * value is -1. Malformed pairs are skipped (Java throws). */
static void st_parse(stats_track_t *st, const char *s, int32_t len)
{
    memset(st, 0, sizeof *st);
    if (!s || len <= 0)
        return;
    char *copy = xstrndup(s, (size_t)len);
    char *save = NULL;
    for (char *pair = strtok_r(copy, ",;", &save); pair; pair = strtok_r(NULL, ",;", &save)) {
        char *eq = strchr(pair, '=');
        if (!eq)
            continue;
        *eq = 0;
        char *v = eq + 1;
        char *eq2 = strchr(v, '=');
        if (eq2)
            *eq2 = 0;
        st_set(st, pair, *v ? strtoll(v, NULL, 10) : -1);
    }
    free(copy);
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* StatsTrack.toString */
static void st_format(const stats_track_t *st, buf_t *out)
{
    buf_printf(out, "count=%lld,bytes=%lld", st_get(st, "count"), st_get(st, "bytes"));
    const char *keys[ST_MAX];
    int n = 0;
    for (int i = 0; i < st->n; i++)
        if (strcmp(st->key[i], "count") != 0 && strcmp(st->key[i], "bytes") != 0)
            keys[n++] = st->key[i];
    if (n) {
        qsort(keys, (size_t)n, sizeof *keys, cmp_key);
        buf_append_str(out, "=");
        for (int i = 0; i < n; i++)
            buf_printf(out, ";%s=%lld", keys[i], st_get(st, keys[i]));
    }
}

/* ---- small synchronous wrappers ----------------------------------------------------------- */

static int exists(shell_t *sh, const char *path, bool *found)
{
    zkc_call_t call = {0};
    int err = sh_wait_discard(sh, zkc_exists(sh->zk, path, false, zkc_call_done, &call), &call);
    *found = err == ZOK;
    return err == ZNONODE ? ZOK : err;
}

static int create(shell_t *sh, const char *path, const char *data)
{
    static const zkc_acl_t open_acl = {ZK_PERM_ALL, "world", "anyone"};
    zkc_call_t call = {0};
    return sh_wait_discard(sh,
                           zkc_create(sh->zk, path, data, data ? (int32_t)strlen(data) : -1,
                                      &open_acl, 1, ZMODE_PERSISTENT, 0, zkc_call_done, &call),
                           &call);
}

static int get_track(shell_t *sh, const char *path, stats_track_t *st)
{
    zkc_call_t call = {0};
    int err = sh_wait(sh, zkc_get_data(sh->zk, path, false, zkc_call_done, &call), &call);
    if (err == ZOK)
        st_parse(st, (const char *)call.res.data, call.res.data_len);
    else
        memset(st, 0, sizeof *st);
    zkc_result_free(&call.res);
    return err;
}

static int get_children(shell_t *sh, const char *path, zkc_result_t *out)
{
    zkc_call_t call = {0};
    int err =
        sh_wait(sh, zkc_get_children(sh->zk, path, false, false, zkc_call_done, &call), &call);
    zkc_result_move(out, &call.res);
    return err;
}

static int set_data(shell_t *sh, const char *path, const void *data, size_t len)
{
    zkc_call_t call = {0};
    return sh_wait_discard(
        sh, zkc_set_data(sh->zk, path, data, (int32_t)len, -1, zkc_call_done, &call), &call);
}

static int delete_node(shell_t *sh, const char *path)
{
    zkc_call_t call = {0};
    return sh_wait_discard(sh, zkc_delete(sh->zk, path, -1, zkc_call_done, &call), &call);
}

/* Stderr's "quota for <path> does not exist.", after which zkCli exits 0. */
static int no_quota(const char *path)
{
    sh_note("quota for %s does not exist.", path);
    return 0;
}

static char *join(const char *a, const char *b)
{
    buf_t x;
    buf_init(&x);
    buf_printf(&x, "%s%s", a, b);
    buf_append(&x, "", 1);
    return (char *)x.data;
}

/* QUOTA_ROOT + path + "/" + leaf (zookeeper_limits or zookeeper_stats). */
static char *quota_node(const char *path, const char *leaf)
{
    buf_t x;
    buf_init(&x);
    buf_printf(&x, QUOTA_ROOT "%s/%s", path, leaf);
    buf_append(&x, "", 1);
    return (char *)x.data;
}

/* ---- setquota ------------------------------------------------------------------------------- */

static const opt_spec_t setquota_spec = {{{"n", true, "num soft quota", true},
                                          {"b", true, "bytes soft quota", true},
                                          {"N", true, "num hard quota", true},
                                          {"B", true, "bytes hard quota", true}},
                                         4,
                                         true};

/* Reported like zkCli: an IllegalArgumentException becomes the printed
 * message, a KeeperException the usual text. */
typedef struct quota_err {
    int32_t zk_err;
    const char *zk_path;
    char msg[512];
} quota_err_t;

/* checkIfChildQuota: a quota below `path` forbids one on it. */
static int check_child_quota(shell_t *sh, const char *path, const char *qpath, quota_err_t *qe)
{
    char *real = join(QUOTA_ROOT, path);
    zkc_result_t kids = {0};
    int err = get_children(sh, qpath, &kids);
    if (err == ZNONODE) {
        zkc_result_free(&kids);
        free(real);
        return ZOK;
    }
    if (err != ZOK) {
        zkc_result_free(&kids);
        free(real);
        qe->zk_err = err;
        return err;
    }
    for (int32_t i = 0; i < kids.n_children; i++)
        if (strcmp(qpath, real) != 0 && strcmp(kids.children[i], QUOTA_LIMITS) == 0) {
            snprintf(qe->msg, sizeof qe->msg, "%s has a child %s which has a quota", path,
                     qpath + strlen(QUOTA_ROOT));
            zkc_result_free(&kids);
            free(real);
            return -1;
        }
    /* visitSubTreeDFS visits children in sorted order, depth first */
    sh_sort_strings(kids.children, kids.n_children);
    int rc = ZOK;
    for (int32_t i = 0; i < kids.n_children && rc == ZOK; i++) {
        char *kid = sh_child_path(qpath, kids.children[i]);
        rc = check_child_quota(sh, path, kid, qe);
        free(kid);
    }
    zkc_result_free(&kids);
    free(real);
    return rc;
}

/* Java String.split("/") without the trailing empty strings. */
static int split_path(const char *path, char ***out)
{
    int n = 0, cap = 8;
    char **v = xmalloc((size_t)cap * sizeof(char *));
    const char *p = path;
    for (;;) {
        const char *s = strchr(p, '/');
        size_t len = s ? (size_t)(s - p) : strlen(p);
        if (n == cap) {
            cap *= 2;
            v = xrealloc(v, (size_t)cap * sizeof(char *));
        }
        v[n++] = xstrndup(p, len);
        if (!s)
            break;
        p = s + 1;
    }
    while (n > 0 && v[n - 1][0] == 0)
        free(v[--n]);
    *out = v;
    return n;
}

static void free_split(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static int check_parent_quota(shell_t *sh, const char *path, quota_err_t *qe)
{
    char **parts;
    int n = split_path(path, &parts);
    buf_t q;
    buf_init(&q);
    buf_append_str(&q, QUOTA_ROOT);
    char *mine = join(QUOTA_ROOT, path);
    int rc = ZOK;
    for (int i = 1; i < n - 1 && rc == ZOK; i++) {
        buf_printf(&q, "/%s", parts[i]);
        buf_append(&q, "", 1);
        q.len--;
        zkc_result_t kids = {0};
        int err = get_children(sh, (char *)q.data, &kids);
        if (err == ZNONODE || (err == ZOK && kids.n_children == 0)) {
            zkc_result_free(&kids);
            break;
        }
        if (err != ZOK) {
            qe->zk_err = err;
            rc = err;
        }
        for (int32_t k = 0; k < kids.n_children && rc == ZOK; k++)
            if (strcmp((char *)q.data, mine) != 0 && strcmp(kids.children[k], QUOTA_LIMITS) == 0) {
                snprintf(qe->msg, sizeof qe->msg, "%s has a parent %s which has a quota", path,
                         (char *)q.data + strlen(QUOTA_ROOT));
                rc = -1;
            }
        zkc_result_free(&kids);
    }
    free(mine);
    buf_free(&q);
    free_split(parts, n);
    return rc;
}

static void check_quota(const stats_track_t *quota, const stats_track_t *stats)
{
    long long qc = st_get(quota, "count"), qb = st_get(quota, "bytes");
    long long qch = st_get(quota, "countHardLimit"), qbh = st_get(quota, "byteHardLimit");
    long long sc = st_get(stats, "count"), sb = st_get(stats, "bytes");
    if ((qc > -1 && qc < sc) || (qch > -1 && qch < sc))
        printf("[Warning]: the count quota you create is less than the existing count:%lld\n", sc);
    if ((qb > -1 && qb < sb) || (qbh > -1 && qbh < sb))
        printf("[Warning]: the bytes quota you create is less than the existing bytes:%lld\n", sb);
}

/* SetQuotaCommand.createQuota */
static int create_quota(shell_t *sh, const char *path, const stats_track_t *quota, quota_err_t *qe)
{
    bool found;
    qe->zk_path = path;
    if (!sh_path_ok(path, false))
        return -2;
    int err = exists(sh, path, &found);
    if (err != ZOK)
        return qe->zk_err = err;
    if (!found) {
        snprintf(qe->msg, sizeof qe->msg, "%s does not exist.", path);
        return -1;
    }
    char *real = join(QUOTA_ROOT, path);
    int rc = check_child_quota(sh, path, real, qe);
    free(real);
    if (rc != ZOK)
        return rc;
    rc = check_parent_quota(sh, path, qe);
    if (rc != ZOK)
        return rc;
    if ((err = exists(sh, QUOTA_ROOT, &found)) != ZOK)
        return qe->zk_err = err;
    if (!found) {
        err = create(sh, "/zookeeper", NULL);
        if (err == ZOK)
            err = create(sh, QUOTA_ROOT, NULL);
        if (err != ZOK && err != ZNODEEXISTS) {
            qe->zk_path = err == ZNONODE ? QUOTA_ROOT : "/zookeeper";
            return qe->zk_err = err;
        }
    }
    char **parts;
    int n = split_path(path, &parts);
    buf_t q;
    buf_init(&q);
    buf_append_str(&q, QUOTA_ROOT);
    buf_append(&q, "", 1);
    q.len--;
    rc = ZOK;
    for (int i = 1; i < n && rc == ZOK; i++) {
        buf_printf(&q, "/%s", parts[i]);
        buf_append(&q, "", 1);
        q.len--;
        if ((err = exists(sh, (char *)q.data, &found)) != ZOK) {
            rc = qe->zk_err = err;
        } else if (!found) {
            err = create(sh, (char *)q.data, NULL);
            if (err != ZOK && err != ZNODEEXISTS) {
                qe->zk_path = NULL;
                rc = qe->zk_err = err;
            }
        }
    }
    free_split(parts, n);
    char *stat_path = join((char *)q.data, "/" QUOTA_STATS);
    char *limit_path = join((char *)q.data, "/" QUOTA_LIMITS);
    buf_free(&q);
    if (rc == ZOK && (err = exists(sh, limit_path, &found)) != ZOK)
        rc = qe->zk_err = err;
    if (rc == ZOK) {
        stats_track_t qst = {0}, sst = {0};
        buf_t text;
        buf_init(&text);
        if (!found) {
            st_format(quota, &text);
            buf_append(&text, "", 1);
            err = create(sh, limit_path, (char *)text.data);
            if (err == ZOK)
                err = create(sh, stat_path, "count=0,bytes=0");
            if (err == ZOK)
                err = get_track(sh, limit_path, &qst);
            if (err == ZOK)
                err = get_track(sh, stat_path, &sst);
            if (err == ZOK)
                check_quota(&qst, &sst);
        } else {
            err = get_track(sh, limit_path, &qst);
            static const char *const keys[] = {"count", "bytes", "countHardLimit", "byteHardLimit"};
            for (int i = 0; err == ZOK && i < 4; i++)
                if (st_get(quota, keys[i]) > -1)
                    st_set(&qst, keys[i], st_get(quota, keys[i]));
            if (err == ZOK)
                err = get_track(sh, stat_path, &sst);
            if (err == ZOK) {
                check_quota(&qst, &sst);
                st_format(&qst, &text);
                err = set_data(sh, limit_path, text.data, text.len);
            }
        }
        if (err != ZOK) {
            qe->zk_path = NULL;
            rc = qe->zk_err = err;
        }
        buf_free(&text);
        st_free(&qst);
        st_free(&sst);
    }
    free(stat_path);
    free(limit_path);
    return rc;
}

static bool quota_number(const char *s, bool is_long, long long *out)
{
    if (!s || !*s)
        return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || (!is_long && (v < INT32_MIN || v > INT32_MAX)))
        return false;
    *out = v;
    return true;
}

int cmd_setquota(shell_t *sh, int argc, char **argv)
{
    opt_result_t r;
    if (!sh_parse_usage(&setquota_spec, argc, argv, 2, "setquota -n|-b|-N|-B val path", &r))
        return 1;
    int status = 1;
    stats_track_t quota = {0};
    const char *path = r.args[1];
    if (strncmp(path, QUOTA_ROOT, strlen(QUOTA_ROOT)) == 0) {
        sh_fail("cannot set a quota under the path: " QUOTA_ROOT); /* zkCli exits 0 */
        goto out;
    }
    st_set(&quota, "count", -1);
    st_set(&quota, "bytes", -1);
    st_set(&quota, "countHardLimit", -1);
    st_set(&quota, "byteHardLimit", -1);
    /* checkOptionValue: n, b, N, B in this order */
    static const struct {
        const char *opt, *key;
        bool is_long;
    } order[] = {{"n", "count", false},
                 {"b", "bytes", true},
                 {"N", "countHardLimit", false},
                 {"B", "byteHardLimit", true}};
    for (int i = 0; i < 4; i++) {
        if (!opts_has(&setquota_spec, &r, order[i].opt))
            continue;
        long long v;
        if (!quota_number(opts_value(&setquota_spec, &r, order[i].opt), order[i].is_long, &v)) {
            sh_fail("NumberFormatException happens when parsing the option value");
            goto out;
        }
        if (!order[i].is_long && v <= 0) {
            sh_fail("the num quota must be greater than zero");
            goto out;
        }
        if (order[i].is_long && v < 0) {
            sh_fail("the bytes quota must be greater than or equal to zero");
            goto out;
        }
        st_set(&quota, order[i].key, v);
    }
    quota_err_t qe = {0};
    int rc = create_quota(sh, path, &quota, &qe);
    if (rc == -1)
        sh_fail("%s", qe.msg);
    else if (rc > 0 || rc < -2)
        sh_fail_zk(qe.zk_err, qe.zk_path);
    else if (rc == ZOK)
        status = 0;
out:
    st_free(&quota);
    opts_free(&r);
    return status;
}

/* ---- listquota ------------------------------------------------------------------------------- */

int cmd_listquota(shell_t *sh, int argc, char **argv)
{
    opt_result_t r;
    if (!sh_parse_usage(&opts_none, argc, argv, 2, "listquota path", &r))
        return 1;
    int status = 1;
    const char *path = r.args[1];
    char *lp = quota_node(path, QUOTA_LIMITS);
    sh_note("absolute path is %s", lp);
    if (!sh_path_ok(lp, false)) {
        free(lp);
        goto out;
    }
    stats_track_t q = {0}, s = {0};
    int err = get_track(sh, lp, &q);
    char *sp = NULL;
    if (err == ZOK) {
        sp = quota_node(path, QUOTA_STATS);
        err = get_track(sh, sp, &s);
    }
    if (err == ZOK) {
        buf_t t;
        buf_init(&t);
        st_format(&q, &t);
        buf_append(&t, "", 1);
        printf("Output quota for %s %s\n", path, (char *)t.data);
        buf_reset(&t);
        st_format(&s, &t);
        buf_append(&t, "", 1);
        printf("Output stat for %s %s\n", path, (char *)t.data);
        buf_free(&t);
        status = 0;
    } else if (err == ZNONODE) {
        status = no_quota(path);
    } else {
        sh_fail_zk(err, sp ? sp : lp);
    }
    free(sp);
    free(lp);
    st_free(&q);
    st_free(&s);
out:
    opts_free(&r);
    return status;
}

/* ---- delquota ----------------------------------------------------------------------------------
 */

static const opt_spec_t delquota_spec = {{{"n", false, "num soft quota", true},
                                          {"b", false, "bytes soft quota", true},
                                          {"N", false, "num hard quota", true},
                                          {"B", false, "bytes hard quota", true}},
                                         4,
                                         false};

/* DelQuotaCommand.trimProcQuotas: remove empty quota directories upwards. */
static int trim_proc_quotas(shell_t *sh, const char *path)
{
    if (strcmp(path, QUOTA_ROOT) == 0)
        return ZOK;
    zkc_result_t kids = {0};
    int err = get_children(sh, path, &kids);
    int32_t n = kids.n_children;
    zkc_result_free(&kids);
    if (err != ZOK || n != 0)
        return err;
    err = delete_node(sh, path);
    if (err != ZOK)
        return err;
    char *parent = xstrndup(path, (size_t)(strrchr(path, '/') - path));
    err = trim_proc_quotas(sh, parent);
    free(parent);
    return err;
}

int cmd_delquota(shell_t *sh, int argc, char **argv)
{
    opt_result_t r;
    if (!sh_parse_usage(&delquota_spec, argc, argv, 2, "delquota [-n|-b|-N|-B] path", &r))
        return 1;
    int status = 1;
    const char *path = r.args[1];
    bool any = false;
    static const char *const opt[] = {"n", "b", "N", "B"};
    static const char *const key[] = {"count", "bytes", "countHardLimit", "byteHardLimit"};
    for (int i = 0; i < 4; i++)
        any |= opts_has(&delquota_spec, &r, opt[i]);
    char *parent = join(QUOTA_ROOT, path);
    char *limits = quota_node(path, QUOTA_LIMITS);
    const char *err_path = limits;
    int err = ZOK;
    if (!sh_path_ok(limits, false))
        goto done;
    bool found;
    err = exists(sh, limits, &found);
    if (err == ZOK && !found) {
        printf("Quota does not exist for %s\n", path);
        status = 0;
        goto done;
    }
    stats_track_t st = {0};
    if (err == ZOK)
        err = get_track(sh, limits, &st);
    if (err == ZOK && !any) {
        zkc_result_t kids = {0};
        err = get_children(sh, parent, &kids);
        err_path = parent;
        for (int32_t i = 0; err == ZOK && i < kids.n_children; i++) {
            char *kid = sh_child_path(parent, kids.children[i]);
            err = delete_node(sh, kid);
            free(kid);
        }
        zkc_result_free(&kids);
        if (err == ZOK)
            err = trim_proc_quotas(sh, parent);
    } else if (err == ZOK) {
        for (int i = 0; i < 4; i++)
            if (opts_has(&delquota_spec, &r, opt[i]))
                st_set(&st, key[i], -1);
        buf_t t;
        buf_init(&t);
        st_format(&st, &t);
        err = set_data(sh, limits, t.data, t.len);
        buf_free(&t);
    }
    st_free(&st);
    if (err == ZOK) {
        status = 0;
    } else if (err == ZNONODE) {
        status = no_quota(path);
    } else {
        sh_fail_zk(err, err_path);
    }
done:
    free(parent);
    free(limits);
    opts_free(&r);
    return status;
}
