/* cmd_admin: session and server-level commands — config, reconfig, version,
 * addWatch, removewatches, close. */
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "cli/opts.h"
#include "cli/shell.h"

#ifndef CORRAL_GIT_SHA
#define CORRAL_GIT_SHA "dev"
#endif
#ifndef CORRAL_BUILD_DATE
#define CORRAL_BUILD_DATE "unknown"
#endif

static void lower(char *s)
{
    for (; s && *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

/* ---- config ------------------------------------------------------------------------------- */

static const opt_spec_t config_spec = {{{"s", false, "stats", false},
                                        {"w", false, "watch", false},
                                        {"c", false, "client connection string", false}},
                                       3,
                                       false};

/* ConfigUtils.getClientConfigStr: "<version> host:port,host:port". */
static void print_client_config(const char *data, int32_t len)
{
    buf_t out;
    buf_init(&out);
    char version[64] = "";
    bool first = true;
    char *copy = xstrndup(data ? data : "", data && len > 0 ? (size_t)len : 0);
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = 0;
        char *key = line, *val = eq + 1;
        while (*key == ' ' || *key == '\t')
            key++;
        if (strcmp(key, "version") == 0)
            snprintf(version, sizeof version, "%s", val);
        if (strncmp(key, "server.", 7) != 0)
            continue;
        char *client = strchr(val, ';');
        if (!first)
            buf_append_str(&out, ",");
        first = false;
        if (client) {
            client++;
            if (strchr(client, ':'))
                buf_append_str(&out, client);
            else
                buf_printf(&out, "0.0.0.0:%s", client);
        }
    }
    buf_append(&out, "", 1);
    printf("%s %s\n", version, (char *)out.data);
    buf_free(&out);
    free(copy);
}

int cmd_config(shell_t *sh, int argc, char **argv)
{
    opt_result_t r;
    if (!sh_parse(&config_spec, argc, argv, &r))
        return 1;
    zkc_call_t call = {0};
    int err = sh_wait(
        sh, zkc_get_config(sh->zk, opts_has(&config_spec, &r, "w"), zkc_call_done, &call), &call);
    int status = sh_zk_status(err, "/zookeeper/config");
    if (status == 0) {
        if (!opts_has(&config_spec, &r, "c"))
            sh_print_data(stdout, call.res.data, call.res.data_len);
        else if (call.res.data_len < 0)
            print_client_config("null", 4);
        else
            print_client_config((const char *)call.res.data, call.res.data_len);
        sh_print_stat_opt(&config_spec, &r, &call.res.stat);
    }
    zkc_result_free(&call.res);
    opts_free(&r);
    return status;
}

/* ---- reconfig --------------------------------------------------------------------------- */

static const opt_spec_t reconfig_spec = {{{"s", false, "stats", false},
                                          {"v", true, "required current config version", false},
                                          {"file", true, "path of config file", false},
                                          {"members", true, "members", false},
                                          {"add", true, "new servers", false},
                                          {"remove", true, "server IDs to remove", false}},
                                         6,
                                         false};

/* A dynamic config file's membership lines, joined with newlines. */
static char *read_members(const char *file, char *err, size_t err_len)
{
    FILE *f = fopen(file, "r");
    if (!f) {
        snprintf(err, err_len, "Error processing %s%s (No such file or directory)", file, file);
        return NULL;
    }
    buf_t b;
    buf_init(&b);
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncmp(p, "server.", 7) && strncmp(p, "group.", 6) && strncmp(p, "weight.", 7))
            continue;
        if (b.len)
            buf_append_str(&b, "\n");
        buf_append_str(&b, p);
    }
    fclose(f);
    buf_append(&b, "", 1);
    return (char *)b.data;
}

int cmd_reconfig(shell_t *sh, int argc, char **argv)
{
    opt_result_t r;
    if (!sh_parse(&reconfig_spec, argc, argv, &r))
        return 1;
    int status = 1;
    char *joining = NULL, *leaving = NULL, *members = NULL;
    bool file = opts_has(&reconfig_spec, &r, "file"), mem = opts_has(&reconfig_spec, &r, "members");
    bool add = opts_has(&reconfig_spec, &r, "add"), rem = opts_has(&reconfig_spec, &r, "remove");
    if (!(file || mem) && !add && !rem) {
        sh_fail("reconfig [-s] [-v version] [[-file path] | [-members "
                "serverID=host:port1:port2;port3[,...]*]] | [-add "
                "serverId=host:port1:port2;port3[,...]]* [-remove serverId[,...]*]");
        goto out;
    }
    long long version = -1;
    if (opts_has(&reconfig_spec, &r, "v")) {
        const char *v = opts_value(&reconfig_spec, &r, "v");
        char *end = NULL;
        version = v ? strtoll(v, &end, 16) : 0;
        if (!v || !*v || *end) {
            sh_fail("-v must be followed by a long (configuration version)");
            goto out;
        }
    }
    if ((file || mem) && (add || rem)) {
        sh_fail("Can't use -file or -members together with -add or -remove (mixing incremental "
                "and non-incremental modes is not allowed)");
        goto out;
    }
    if (file && mem) {
        sh_fail("Can't use -file and -members together (conflicting non-incremental modes)");
        goto out;
    }
    if (add)
        lower(joining = xstrndup(opts_value(&reconfig_spec, &r, "add"),
                                 strlen(opts_value(&reconfig_spec, &r, "add"))));
    if (rem)
        lower(leaving = xstrndup(opts_value(&reconfig_spec, &r, "remove"),
                                 strlen(opts_value(&reconfig_spec, &r, "remove"))));
    if (mem)
        lower(members = xstrndup(opts_value(&reconfig_spec, &r, "members"),
                                 strlen(opts_value(&reconfig_spec, &r, "members"))));
    if (file) {
        char msg[600];
        members = read_members(opts_value(&reconfig_spec, &r, "file"), msg, sizeof msg);
        if (!members) {
            sh_fail("%s", msg);
            goto out;
        }
    }
    zkc_call_t call = {0};
    int err = sh_wait(
        sh, zkc_reconfig(sh->zk, joining, leaving, members, version, zkc_call_done, &call), &call);
    if (err == ZOK) {
        printf("Committed new configuration:\n");
        sh_print_java_string(stdout, call.res.data, call.res.data_len);
        fputc('\n', stdout);
        sh_print_stat_opt(&reconfig_spec, &r, &call.res.stat);
        status = 0;
    } else {
        sh_fail_zk(err, NULL);
    }
    zkc_result_free(&call.res);
out:
    free(joining);
    free(leaving);
    free(members);
    opts_free(&r);
    return status;
}

/* ---- version / close -------------------------------------------------------------------- */

int cmd_version(shell_t *sh, int argc, char **argv)
{
    (void)sh;
    (void)argc;
    (void)argv;
    printf("ZooKeeper CLI version: 3.8.0-corral-%s, built on %s\n",
           CORRAL_GIT_SHA[0] ? CORRAL_GIT_SHA : "dev",
           CORRAL_BUILD_DATE[0] ? CORRAL_BUILD_DATE : "unknown");
    return 0;
}

int cmd_close(shell_t *sh, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (sh->zk && zkc_is_alive(sh->zk)) {
        zkc_close_wait(sh->zk, sh->timeout_ms, false);
        sh->zk = NULL;
    }
    return 0;
}

/* ---- addWatch / removewatches ----------------------------------------------------------- */

static const opt_spec_t addwatch_spec = {{{"m", true, "", false}}, 1, false};

int cmd_add_watch(shell_t *sh, int argc, char **argv)
{
    static const char *usage = "addWatch [-m mode] path # optional mode is one of "
                               "[PERSISTENT, PERSISTENT_RECURSIVE] - default is "
                               "PERSISTENT_RECURSIVE";
    opt_result_t r;
    if (!sh_parse(&addwatch_spec, argc, argv, &r))
        return 1;
    int status = 1;
    if (r.nargs != 2) {
        sh_fail("%s", usage);
        goto out;
    }
    int32_t mode = ZAW_PERSISTENT_RECURSIVE; /* zkCli keeps the last -m: a bug */
    if (opts_has(&addwatch_spec, &r, "m")) {
        char *m = xstrndup(opts_value(&addwatch_spec, &r, "m"),
                           strlen(opts_value(&addwatch_spec, &r, "m")));
        for (char *p = m; *p; p++)
            if (*p >= 'a' && *p <= 'z')
                *p = (char)(*p - 'a' + 'A');
        if (strcmp(m, "PERSISTENT") == 0)
            mode = ZAW_PERSISTENT;
        else if (strcmp(m, "PERSISTENT_RECURSIVE") == 0)
            mode = ZAW_PERSISTENT_RECURSIVE;
        else
            mode = -1;
        free(m);
        if (mode < 0) {
            sh_fail("%s", usage);
            goto out;
        }
    }
    const char *path = r.args[1];
    if (!sh_path_ok(path, false)) /* zkCli dies of the IllegalArgumentException */
        goto out;
    zkc_call_t call = {0};
    status = sh_zk_status(
        sh_wait_discard(sh, zkc_add_watch(sh->zk, path, mode, zkc_call_done, &call), &call), path);
out:
    opts_free(&r);
    return status;
}

static const opt_spec_t removewatches_spec = {
    {{"c", false, "child watcher type", false},
     {"d", false, "data watcher type", false},
     {"a", false, "any watcher type", false},
     {"l", false, "remove locally when there is no server connection", false}},
    4,
    false};

int cmd_remove_watches(shell_t *sh, int argc, char **argv)
{
    opt_result_t r;
    if (!sh_parse_path(&removewatches_spec, argc, argv, "removewatches path [-c|-d|-a] [-l]", &r))
        return 1;
    const char *path = r.args[1];
    int32_t type = ZWT_ANY;
    if (opts_has(&removewatches_spec, &r, "c"))
        type = ZWT_CHILDREN;
    else if (opts_has(&removewatches_spec, &r, "d"))
        type = ZWT_DATA;
    bool local = opts_has(&removewatches_spec, &r, "l");
    zkc_call_t call = {0};
    int status = sh_zk_status(
        sh_wait_discard(sh, zkc_remove_watches(sh->zk, path, type, local, zkc_call_done, &call),
                        &call),
        path);
    opts_free(&r);
    return status;
}
