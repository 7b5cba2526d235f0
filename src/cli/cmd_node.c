/* cmd_node: the znode commands — create, delete, deleteall (rmr), set, get,
 * stat, ls (ls2), sync, getAllChildrenNumber, getEphemerals — each as the
 * matching zkCli 3.8 CliCommand: same parse checks, same texts, same
 * streams. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "cli/opts.h"
#include "cli/shell.h"

/* ---- create ---------------------------------------------------------------------------- */

static const opt_spec_t create_spec = {{{"e", false, "ephemeral", false},
                                        {"s", false, "sequential", false},
                                        {"c", false, "container", false},
                                        {"t", true, "ttl", false}},
                                       4,
                                       false};

int cmd_create(shell_t *sh, int argc, char **argv)
{
    opt_result_t r;
    if (!sh_parse_usage(&create_spec, argc, argv, 2,
                        "create [-s] [-e] [-c] [-t ttl] path [data] [acl]", &r))
        return 1;
    int status = 1;
    zkc_acl_t *acl = NULL;
    int nacl = 0;
    bool e = opts_has(&create_spec, &r, "e"), s = opts_has(&create_spec, &r, "s");
    bool c = opts_has(&create_spec, &r, "c"), t = opts_has(&create_spec, &r, "t");
    if (c && (e || s)) {
        sh_fail("-c cannot be combined with -s or -e. Containers cannot be ephemeral or "
                "sequential.");
        goto out;
    }
    long long ttl = 0;
    if (t && !sh_parse_long(opts_value(&create_spec, &r, "t"), LLONG_MIN, LLONG_MAX, &ttl)) {
        sh_fail("-t argument must be a long value");
        goto out;
    }
    if (t && e) {
        sh_fail("TTLs cannot be used with Ephemeral znodes");
        goto out;
    }
    if (t && c) {
        sh_fail("TTLs cannot be used with Container znodes");
        goto out;
    }
    int32_t mode;
    if (e && s)
        mode = ZMODE_EPHEMERAL_SEQUENTIAL;
    else if (e)
        mode = ZMODE_EPHEMERAL;
    else if (s)
        mode = t ? ZMODE_PERSISTENT_SEQUENTIAL_WITH_TTL : ZMODE_PERSISTENT_SEQUENTIAL;
    else if (c)
        mode = ZMODE_CONTAINER;
    else
        mode = t ? ZMODE_PERSISTENT_WITH_TTL : ZMODE_PERSISTENT;
    if (t && (ttl <= 0 || ttl > ZK_TTL_MAX)) { /* EphemeralType.TTL.toEphemeralOwner */
        sh_fail("ttl must be positive and cannot be larger than: %lld", (long long)ZK_TTL_MAX);
        goto out;
    }
    const char *path = r.args[1];
    const char *data = r.nargs > 2 ? r.args[2] : NULL;
    static const zkc_acl_t open_acl = {ZK_PERM_ALL, "world", "anyone"};
    const zkc_acl_t *use_acl = &open_acl;
    nacl = 1;
    if (r.nargs > 3) {
        nacl = sh_parse_acl(r.args[3], &acl);
        use_acl = acl;
    }
    bool seq = mode == ZMODE_PERSISTENT_SEQUENTIAL || mode == ZMODE_EPHEMERAL_SEQUENTIAL ||
               mode == ZMODE_PERSISTENT_SEQUENTIAL_WITH_TTL;
    if (!sh_path_ok(path, seq))
        goto out;
    if (nacl == 0) { /* ZooKeeper.validateACL, no path in the exception */
        sh_note("KeeperErrorCode = InvalidACL");
        sh_fail("Acl is not valid : null");
        goto out;
    }
    zkc_call_t call = {0};
    int err = sh_wait(sh,
                      zkc_create(sh->zk, path, data, data ? (int32_t)strlen(data) : -1, use_acl,
                                 nacl, mode, ttl, zkc_call_done, &call),
                      &call);
    if (err == ZOK) {
        sh_note("Created %s", call.res.path ? call.res.path : path);
        status = 0;
    } else {
        if (err == ZEPHEMERALONLOCALSESSION) {
            sh_note("Unable to create ephemeral node on a local session");
        } else if (err == ZINVALIDACL) {
            char buf[300];
            sh_note("%s", zkc_error_message(err, path, buf, sizeof buf));
        }
        sh_fail_zk(err, path);
    }
    zkc_result_free(&call.res);
out:
    sh_free_acl(acl, r.nargs > 3 ? nacl : 0);
    opts_free(&r);
    return status;
}

/* ---- delete / deleteall ------------------------------------------------------------------ */

static const opt_spec_t delete_spec = {{{"v", true, "version", false}}, 1, false};

int cmd_delete(shell_t *sh, int argc, char **argv)
{
    opt_result_t r;
    if (!sh_parse_usage(&delete_spec, argc, argv, 2, "delete [-v version] path", &r))
        return 1;
    int status = 1;
    if (r.nargs > 2) { /* retainCompatibility: "delete path version" */
        sh_note("'delete path [version]' has been deprecated. Please use 'delete [-v "
                "version] path' instead.");
        char *v2[4] = {argv[0], "-v", argv[2], argv[1]};
        opts_free(&r);
        if (!sh_parse(&delete_spec, 4, v2, &r))
            return 1;
    }
    int32_t version = -1;
    const char *vs = opts_value(&delete_spec, &r, "v");
    if (opts_has(&delete_spec, &r, "v") && !sh_parse_int(vs, &version)) {
        sh_fail("-v argument must be an int value"); /* zkCli dies of a NumberFormatException */
        goto out;
    }
    const char *path = r.args[1];
    if (!sh_path_ok(path, false))
        goto out;
    zkc_call_t call = {0};
    status = sh_zk_status(
        sh_wait_discard(sh, zkc_delete(sh->zk, path, version, zkc_call_done, &call), &call), path);
out:
    opts_free(&r);
    return status;
}

static const opt_spec_t deleteall_spec = {{{"b", true, "batch size", false}}, 1, false};

int cmd_deleteall(shell_t *sh, int argc, char **argv)
{
    char usage[256];
    snprintf(usage, sizeof usage, "%s path [-b batch size]", argv[0]);
    opt_result_t r;
    if (!sh_parse_usage(&deleteall_spec, argc, argv, 2, usage, &r))
        return 1;
    int status = 1;
    int32_t batch = 1000;
    if (opts_has(&deleteall_spec, &r, "b") &&
        !sh_parse_int(opts_value(&deleteall_spec, &r, "b"), &batch)) {
        sh_fail("-b argument must be an int value");
        goto out;
    }
    const char *path = r.args[1];
    if (!sh_path_ok(path, false))
        goto out;
    int32_t err;
    bool ok = sh_delete_recursive(sh, path, batch, &err);
    if (err != ZOK) {
        sh_fail_zk(err, path);
    } else if (!ok) {
        sh_fail("Failed to delete some node(s) in the subtree!"); /* zkCli exits 0 */
    } else {
        status = 0;
    }
out:
    opts_free(&r);
    return status;
}

/* ZKUtil.listSubTreeBFS: the node and its descendants, parents first. */
static int32_t list_subtree(shell_t *sh, const char *root, char ***out, int32_t *n_out)
{
    int32_t cap = 16, n = 0;
    char **v = xmalloc((size_t)cap * sizeof(char *));
    v[n++] = xstrndup(root, strlen(root));
    for (int32_t i = 0; i < n; i++) {
        zkc_call_t call = {0};
        int err =
            sh_wait(sh, zkc_get_children(sh->zk, v[i], false, false, zkc_call_done, &call), &call);
        if (err != ZOK) {
            zkc_result_free(&call.res);
            *out = v;
            *n_out = n;
            return err;
        }
        for (int32_t k = 0; k < call.res.n_children; k++) {
            if (n == cap) {
                cap *= 2;
                v = xrealloc(v, (size_t)cap * sizeof(char *));
            }
            v[n++] = sh_child_path(v[i], call.res.children[k]);
        }
        zkc_result_free(&call.res);
    }
    *out = v;
    *n_out = n;
    return ZOK;
}

typedef struct batch_state {
    int in_flight;
    bool failed;
} batch_state_t;

static void batch_done(zkc_t *zk, zkc_result_t *res, void *ctx)
{
    (void)zk;
    batch_state_t *st = ctx;
    st->in_flight--;
    if (res->err != ZOK)
        st->failed = true;
    for (int32_t i = 0; i < res->n_ops; i++)
        if (res->ops[i].err != ZOK)
            st->failed = true;
}

bool sh_delete_recursive(shell_t *sh, const char *path, int batch, int32_t *err)
{
    char **nodes = NULL;
    int32_t n = 0;
    *err = list_subtree(sh, path, &nodes, &n);
    bool ok = true;
    if (*err == ZOK) {
        /* ZKUtil.deleteInBatch: deepest first, `batch` deletes per multi, at
         * most 10 multis in flight, stop issuing after a failure. */
        batch_state_t st = {0, false};
        zkc_op_t *ops = xcalloc((size_t)n, sizeof(zkc_op_t));
        int32_t nops = 0;
        for (int32_t i = n - 1; i >= 0; i--) {
            ops[nops].type = ZOP_DELETE;
            ops[nops].path = nodes[i];
            ops[nops].version = -1;
            nops++;
            if (nops == batch || i == 0) {
                if (st.failed)
                    break;
                while (st.in_flight >= 10)
                    uv_run(sh->loop, UV_RUN_ONCE);
                if (st.failed)
                    break;
                if (zkc_multi(sh->zk, ops, nops, batch_done, &st) != ZOK) {
                    st.failed = true;
                    break;
                }
                st.in_flight++;
                nops = 0;
            }
        }
        while (st.in_flight > 0)
            uv_run(sh->loop, UV_RUN_ONCE);
        ok = !st.failed;
        free(ops);
    }
    for (int32_t i = 0; i < n; i++)
        free(nodes[i]);
    free(nodes);
    return ok;
}

/* ---- set / get / stat ------------------------------------------------------------------- */

static const opt_spec_t set_spec = {
    {{"s", false, "stats", false}, {"v", true, "version", false}}, 2, false};

int cmd_set(shell_t *sh, int argc, char **argv)
{
    opt_result_t r;
    if (!sh_parse_usage(&set_spec, argc, argv, 3, "set [-s] [-v version] path data", &r))
        return 1;
    int status = 1;
    const char *path = r.args[1], *data = r.args[2];
    int32_t version = -1;
    if (opts_has(&set_spec, &r, "v") && !sh_parse_int(opts_value(&set_spec, &r, "v"), &version)) {
        sh_fail("-v argument must be an int value"); /* zkCli dies of a NumberFormatException */
        goto out;
    }
    if (!sh_path_ok(path, false))
        goto out;
    zkc_call_t call = {0};
    int err = sh_wait(
        sh, zkc_set_data(sh->zk, path, data, (int32_t)strlen(data), version, zkc_call_done, &call),
        &call);
    status = sh_zk_status(err, path);
    if (status == 0)
        sh_print_stat_opt(&set_spec, &r, &call.res.stat);
    zkc_result_free(&call.res);
out:
    opts_free(&r);
    return status;
}

/* retainCompatibility of get/stat/ls: "cmd path watch" is "cmd -w path". */
static bool retain_compat(const opt_spec_t *spec, const char *name, const char *msg, int argc,
                          char **argv, opt_result_t *r)
{
    if (r->nargs <= 2)
        return true;
    sh_note("'%s path [watch]' has been deprecated. Please use '%s' instead.", name, msg);
    /* cmdArgs[2] = "-w" (whatever the third token was), then parse again */
    char **v = xmalloc((size_t)(argc + 1) * sizeof(char *));
    memcpy(v, argv, (size_t)argc * sizeof(char *));
    v[argc] = NULL;
    if (argc > 2)
        v[2] = "-w";
    opts_free(r);
    bool ok = sh_parse(spec, argc, v, r);
    free(v);
    return ok;
}

static const opt_spec_t get_spec = {
    {{"s", false, "stats", false}, {"w", false, "watch", false}}, 2, false};

int cmd_get(shell_t *sh, int argc, char **argv)
{
    opt_result_t r;
    if (!sh_parse_usage(&get_spec, argc, argv, 2, "get [-s] [-w] path", &r))
        return 1;
    if (!retain_compat(&get_spec, "get", "get [-s] [-w] path", argc, argv, &r))
        return 1;
    const char *path = r.args[1];
    bool watch = opts_has(&get_spec, &r, "w");
    int status = 1;
    if (sh_path_ok(path, false)) {
        zkc_call_t call = {0};
        int err = sh_wait(sh, zkc_get_data(sh->zk, path, watch, zkc_call_done, &call), &call);
        status = sh_zk_status(err, path);
        if (status == 0) {
            sh_print_data(stdout, call.res.data, call.res.data_len);
            sh_print_stat_opt(&get_spec, &r, &call.res.stat);
        }
        zkc_result_free(&call.res);
    }
    opts_free(&r);
    return status;
}

static const opt_spec_t stat_spec = {{{"w", false, "watch", false}}, 1, false};

int cmd_stat(shell_t *sh, int argc, char **argv)
{
    opt_result_t r;
    if (!sh_parse_usage(&stat_spec, argc, argv, 2, "stat [-w] path", &r))
        return 1;
    if (!retain_compat(&stat_spec, "stat", "stat [-w] path", argc, argv, &r))
        return 1;
    const char *path = r.args[1];
    bool watch = opts_has(&stat_spec, &r, "w");
    int status = 1;
    if (sh_path_ok(path, false)) {
        zkc_call_t call = {0};
        int err = sh_wait(sh, zkc_exists(sh->zk, path, watch, zkc_call_done, &call), &call);
        status = sh_zk_status(err, path);
        if (status == 0)
            sh_print_stat(stdout, &call.res.stat);
        zkc_result_free(&call.res);
    }
    opts_free(&r);
    return status;
}

/* ---- ls / ls2 ------------------------------------------------------------------------------ */

static const opt_spec_t ls_spec = {{{"?", false, "help", false},
                                    {"s", false, "stat", false},
                                    {"w", false, "watch", false},
                                    {"R", false, "recurse", false}},
                                   4,
                                   false};

static void print_children(char **v, int32_t n)
{
    sh_sort_strings(v, n);
    fputc('[', stdout);
    for (int32_t i = 0; i < n; i++)
        printf("%s%s", i ? ", " : "", v[i]);
    fputs("]\n", stdout);
}

/* ZKUtil.visitSubTreeDFSHelper: print the children (sorted), then recurse. */
static int ls_recurse(shell_t *sh, const char *path, bool watch)
{
    zkc_call_t call = {0};
    int err =
        sh_wait(sh, zkc_get_children(sh->zk, path, watch, false, zkc_call_done, &call), &call);
    if (err == ZNONODE) { /* deleted meanwhile: ignored, as ZKUtil does */
        zkc_result_free(&call.res);
        return ZOK;
    }
    if (err != ZOK) {
        zkc_result_free(&call.res);
        return err;
    }
    sh_sort_strings(call.res.children, call.res.n_children);
    char **kids = xcalloc((size_t)call.res.n_children + 1, sizeof(char *));
    for (int32_t i = 0; i < call.res.n_children; i++) {
        kids[i] = sh_child_path(path, call.res.children[i]);
        printf("%s\n", kids[i]);
    }
    int32_t n = call.res.n_children;
    zkc_result_free(&call.res);
    for (int32_t i = 0; i < n && err == ZOK; i++)
        err = ls_recurse(sh, kids[i], watch);
    for (int32_t i = 0; i < n; i++)
        free(kids[i]);
    free(kids);
    return err;
}

int cmd_ls(shell_t *sh, int argc, char **argv)
{
    opt_result_t r;
    if (!sh_parse(&ls_spec, argc, argv, &r))
        return 1;
    if (opts_has(&ls_spec, &r, "?")) {
        printf("usage: ls [options] path\n"
               " -?   help\n"
               " -R   recurse\n"
               " -s   stat\n"
               " -w   watch\n");
    }
    if (!retain_compat(&ls_spec, "ls", "ls [-w] path", argc, argv, &r))
        return 1;
    int status = 1;
    if (r.nargs < 2) {
        sh_fail("ls [-s] [-w] [-R] path");
        goto out;
    }
    const char *path = r.args[1];
    bool watch = opts_has(&ls_spec, &r, "w");
    if (!sh_path_ok(path, false))
        goto out;
    int err;
    if (opts_has(&ls_spec, &r, "R")) {
        zkc_call_t call = {0};
        err = sh_wait_discard(sh, zkc_get_data(sh->zk, path, watch, zkc_call_done, &call), &call);
        if (err == ZOK) {
            printf("%s\n", path);
            err = ls_recurse(sh, path, watch);
        }
    } else {
        bool with_stat = opts_has(&ls_spec, &r, "s");
        zkc_call_t call = {0};
        err = sh_wait(sh, zkc_get_children(sh->zk, path, watch, with_stat, zkc_call_done, &call),
                      &call);
        if (err == ZOK) {
            print_children(call.res.children, call.res.n_children);
            sh_print_stat_opt(&ls_spec, &r, &call.res.stat);
        }
        zkc_result_free(&call.res);
    }
    status = sh_zk_status(err, path);
out:
    opts_free(&r);
    return status;
}

/* ls2 (removed in 3.5's successors; 3.4 scripts still use it): ls -s. */
int cmd_ls2(shell_t *sh, int argc, char **argv)
{
    opt_result_t r;
    if (!sh_parse_usage(&opts_none, argc, argv, 2, "ls2 path [watch]", &r))
        return 1;
    sh_note("'ls2' has been deprecated. Please use 'ls [-s] path' instead.");
    const char *path = r.args[1];
    int status = 1;
    if (sh_path_ok(path, false)) {
        zkc_call_t call = {0};
        int err = sh_wait(
            sh, zkc_get_children(sh->zk, path, r.nargs > 2, true, zkc_call_done, &call), &call);
        status = sh_zk_status(err, path);
        if (status == 0) {
            print_children(call.res.children, call.res.n_children);
            sh_print_stat(stdout, &call.res.stat);
        }
        zkc_result_free(&call.res);
    }
    opts_free(&r);
    return status;
}

/* ---- sync / getAllChildrenNumber / getEphemerals ------------------------------------------- */

int cmd_sync(shell_t *sh, int argc, char **argv)
{
    opt_result_t r;
    if (!sh_parse_path(&opts_none, argc, argv, "sync path", &r))
        return 1;
    zkc_call_t call = {0};
    int err = sh_wait_discard(sh, zkc_sync(sh->zk, r.args[1], zkc_call_done, &call), &call);
    if (err == ZOK)
        printf("Sync is OK\n");
    else
        printf("Sync has failed. rc=%d\n", err); /* zkCli exits 0 */
    opts_free(&r);
    return err == ZOK ? 0 : 1;
}

int cmd_get_all_children_number(shell_t *sh, int argc, char **argv)
{
    opt_result_t r;
    if (!sh_parse_path(&opts_none, argc, argv, "getAllChildrenNumber path", &r))
        return 1;
    const char *path = r.args[1];
    zkc_call_t call = {0};
    int err = sh_wait(sh, zkc_get_all_children_number(sh->zk, path, zkc_call_done, &call), &call);
    int status = sh_zk_status(err, path);
    if (status == 0)
        printf("%d\n", call.res.number);
    zkc_result_free(&call.res);
    opts_free(&r);
    return status;
}

int cmd_get_ephemerals(shell_t *sh, int argc, char **argv)
{
    opt_result_t r;
    if (!sh_parse(&opts_none, argc, argv, &r))
        return 1;
    const char *path = r.nargs >= 2 ? r.args[1] : "/";
    int status = 1;
    if (sh_path_ok(path, false)) {
        zkc_call_t call = {0};
        int err = sh_wait(sh, zkc_get_ephemerals(sh->zk, path, zkc_call_done, &call), &call);
        status = sh_zk_status(err, path);
        if (status == 0) /* List.toString(); sorted here (the server's order is arbitrary) */
            print_children(call.res.children, call.res.n_children);
        zkc_result_free(&call.res);
    }
    opts_free(&r);
    return status;
}
