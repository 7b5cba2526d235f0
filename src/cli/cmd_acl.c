/* cmd_acl: getAcl, setAcl (with -R), addauth, whoami, and zkCli's ACL text
 * parser (AclParser). */
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "cli/opts.h"
#include "cli/shell.h"

/* ---- AclParser -------------------------------------------------------------------- */

static int32_t perm_from_string(const char *s)
{
    int32_t perm = 0;
    for (; *s; s++) {
        switch (*s) {
        case 'r':
            perm |= ZK_PERM_READ;
            break;
        case 'w':
            perm |= ZK_PERM_WRITE;
            break;
        case 'c':
            perm |= ZK_PERM_CREATE;
            break;
        case 'd':
            perm |= ZK_PERM_DELETE;
            break;
        case 'a':
            perm |= ZK_PERM_ADMIN;
            break;
        default:
            sh_note("Unknown perm type: %c", *s);
            break;
        }
    }
    return perm;
}

int sh_parse_acl(const char *s, zkc_acl_t **out)
{
    /* String.split(","): trailing empty strings are dropped. */
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == ',')
        n--;
    int count = 0, cap = 4;
    zkc_acl_t *v = xcalloc((size_t)cap, sizeof *v);
    const char *p = s, *end = s + n;
    bool first = true;
    while (first || p < end) {
        first = false;
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *e = comma ? comma : end;
        char *a = xstrndup(p, (size_t)(e - p));
        char *c1 = strchr(a, ':'), *c2 = strrchr(a, ':');
        if (!c1 || c1 == c2) {
            sh_note("%s does not have the form scheme:id:perm", a);
        } else {
            if (count == cap) {
                cap *= 2;
                v = xrealloc(v, (size_t)cap * sizeof *v);
            }
            v[count].scheme = xstrndup(a, (size_t)(c1 - a));
            v[count].id = xstrndup(c1 + 1, (size_t)(c2 - c1 - 1));
            v[count].perms = perm_from_string(c2 + 1);
            count++;
        }
        free(a);
        p = comma ? comma + 1 : end;
    }
    *out = v;
    return count;
}

void sh_free_acl(zkc_acl_t *acl, int n)
{
    if (!acl)
        return;
    for (int i = 0; i < n; i++) {
        free(acl[i].scheme);
        free(acl[i].id);
    }
    free(acl);
}

/* ZKUtil.getPermString */
static void perm_string(int32_t perms, char *buf)
{
    char *p = buf;
    if (perms & ZK_PERM_CREATE)
        *p++ = 'c';
    if (perms & ZK_PERM_DELETE)
        *p++ = 'd';
    if (perms & ZK_PERM_READ)
        *p++ = 'r';
    if (perms & ZK_PERM_WRITE)
        *p++ = 'w';
    if (perms & ZK_PERM_ADMIN)
        *p++ = 'a';
    *p = 0;
}

/* ---- getAcl / setAcl ---------------------------------------------------------------- */

static const opt_spec_t getacl_spec = {{{"s", false, "stats", false}}, 1, false};

int cmd_get_acl(shell_t *sh, int argc, char **argv)
{
    opt_result_t r;
    if (!sh_parse_path(&getacl_spec, argc, argv, "getAcl [-s] path", &r))
        return 1;
    const char *path = r.args[1];
    zkc_call_t call = {0};
    int err = sh_wait(sh, zkc_get_acl(sh->zk, path, zkc_call_done, &call), &call);
    int status = sh_zk_status(err, path);
    if (status == 0) {
        for (int32_t i = 0; i < call.res.n_acl; i++) {
            /* acl.getId() + ": " + perms; Id.toString() is a jute CSV record */
            char perms[8];
            perm_string(call.res.acl[i].perms, perms);
            sh_print_csv_string(stdout, call.res.acl[i].scheme);
            fputc(',', stdout);
            sh_print_csv_string(stdout, call.res.acl[i].id);
            printf("\n: %s\n", perms);
        }
        sh_print_stat_opt(&getacl_spec, &r, &call.res.stat);
    }
    zkc_result_free(&call.res);
    opts_free(&r);
    return status;
}

static const opt_spec_t setacl_spec = {
    {{"s", false, "stats", false}, {"v", true, "version", false}, {"R", false, "recursive", false}},
    3,
    false};

/* ZKUtil.visitSubTreeDFS with a setACL per node; failures are printed with
 * print() (no newline), as zkCli does. */
static int set_acl_tree(shell_t *sh, const char *path, const zkc_acl_t *acl, int nacl,
                        int32_t version)
{
    zkc_call_t call = {0};
    int err = sh_wait_discard(
        sh, zkc_set_acl(sh->zk, path, acl, nacl, version, zkc_call_done, &call), &call);
    if (err != ZOK) {
        char buf[512];
        fputs(zkc_error_message(err, path, buf, sizeof buf), stdout);
    }
    return ZOK;
}

static int visit_children(shell_t *sh, const char *path, const zkc_acl_t *acl, int nacl,
                          int32_t version)
{
    zkc_call_t call = {0};
    int err =
        sh_wait(sh, zkc_get_children(sh->zk, path, false, false, zkc_call_done, &call), &call);
    if (err != ZOK) {
        zkc_result_free(&call.res);
        return err == ZNONODE ? ZOK : err;
    }
    int32_t n = call.res.n_children;
    char **kids = call.res.children;
    call.res.children = NULL;
    call.res.n_children = 0;
    zkc_result_free(&call.res);
    sh_sort_strings(kids, n); /* Collections.sort */
    char **full = xcalloc((size_t)n + 1, sizeof(char *));
    for (int32_t i = 0; i < n; i++) {
        full[i] = sh_child_path(path, kids[i]);
        set_acl_tree(sh, full[i], acl, nacl, version);
    }
    for (int32_t i = 0; i < n && err == ZOK; i++)
        err = visit_children(sh, full[i], acl, nacl, version);
    for (int32_t i = 0; i < n; i++) {
        free(full[i]);
        free(kids[i]);
    }
    free(full);
    free(kids);
    return err;
}

int cmd_set_acl(shell_t *sh, int argc, char **argv)
{
    opt_result_t r;
    if (!sh_parse_usage(&setacl_spec, argc, argv, 3, "setAcl [-s] [-v version] [-R] path acl", &r))
        return 1;
    int status = 1;
    zkc_acl_t *acl = NULL;
    int nacl = 0;
    const char *path = r.args[1];
    nacl = sh_parse_acl(r.args[2], &acl);
    int32_t version = -1;
    if (opts_has(&setacl_spec, &r, "v")) {
        const char *vs = opts_value(&setacl_spec, &r, "v");
        char *end = NULL;
        long v = vs ? strtol(vs, &end, 10) : 0;
        if (!vs || !*vs || *end || v < INT32_MIN || v > INT32_MAX) {
            sh_fail("-v argument must be an int value"); /* zkCli dies here */
            goto out;
        }
        version = (int32_t)v;
    }
    if (!sh_path_ok(path, false))
        goto out;
    int err;
    if (opts_has(&setacl_spec, &r, "R")) {
        zkc_call_t call = {0};
        err = sh_wait_discard(sh, zkc_get_data(sh->zk, path, false, zkc_call_done, &call), &call);
        if (err == ZOK) {
            set_acl_tree(sh, path, acl, nacl, version);
            err = visit_children(sh, path, acl, nacl, version);
        }
    } else {
        zkc_call_t call = {0};
        err =
            sh_wait(sh, zkc_set_acl(sh->zk, path, acl, nacl, version, zkc_call_done, &call), &call);
        if (err == ZINVALIDACL && nacl == 0) {
            zkc_result_free(&call.res);
            sh_fail_zk(err, NULL); /* validateACL: no path */
            goto out;
        }
        if (err == ZOK)
            sh_print_stat_opt(&setacl_spec, &r, &call.res.stat);
        zkc_result_free(&call.res);
    }
    status = sh_zk_status(err, path);
out:
    sh_free_acl(acl, nacl);
    opts_free(&r);
    return status;
}

/* ---- addauth / whoami -------------------------------------------------------------------- */

int cmd_addauth(shell_t *sh, int argc, char **argv)
{
    opt_result_t r;
    if (!sh_parse_usage(&opts_none, argc, argv, 2, "addauth scheme auth", &r))
        return 1;
    const char *auth = r.nargs >= 3 ? r.args[2] : NULL;
    /* Asynchronous, as ZooKeeper.addAuthInfo: a rejection shows up as an
     * AuthFailed event. */
    zkc_add_auth(sh->zk, r.args[1], auth, auth ? (int32_t)strlen(auth) : -1, NULL, NULL);
    opts_free(&r);
    return 0;
}

int cmd_whoami(shell_t *sh, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    zkc_call_t call = {0};
    int err = sh_wait(sh, zkc_who_am_i(sh->zk, zkc_call_done, &call), &call);
    int status = 0;
    if (err == ZOK) {
        printf("Auth scheme: User\n");
        for (int32_t i = 0; i < call.res.n_who; i++)
            printf("%s: %s\n", call.res.who[i].scheme ? call.res.who[i].scheme : "null",
                   call.res.who[i].user ? call.res.who[i].user : "null");
    } else {
        /* ZooKeeper.whoAmI logs the error and returns null: only the header */
        printf("Auth scheme: User\n");
    }
    zkc_result_free(&call.res);
    return status;
}
