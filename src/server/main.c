/* main: corrald's entry point — load the configuration (zoo.cfg, -D flags,
 * JVMFLAGS), start a standalone server and run its event loop. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin.h"
#include "server/server.h"
#include "server/service.h"
#include "store/store.h"

static void usage(void)
{
    fprintf(stderr,
            "usage: corrald [-Dname=value ...] [zoo.cfg]\n"
            "  With no zoo.cfg: standalone on 127.0.0.1:2181, tickTime 2000, data in ./data.\n"
            "  Writes go to a transaction log and snapshots in the data directory, in\n"
            "  ZooKeeper's formats (version-2/log.*, version-2/snapshot.*).\n"
            "       corrald purge <dataDir> [<dataLogDir>] -n <count>\n"
            "  Deletes old snapshots and logs, keeping the newest <count> (as zkCleanup.sh).\n");
}

/* corrald purge <dataDir> [<dataLogDir>] -n <count>, as zkCleanup.sh. */
static int purge_main(int argc, char **argv)
{
    const char *dirs[2] = {NULL, NULL};
    int ndirs = 0, count = -1;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "-n") && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            count = *end || v < 0 || v > 1000000 ? -2 : (int)v;
        } else if (ndirs < 2 && argv[i][0] != '-') {
            dirs[ndirs++] = argv[i];
        } else {
            count = -2;
        }
    }
    if (ndirs == 0 || count == -2 || count == -1) {
        fprintf(stderr, "usage: corrald purge <dataDir> [<dataLogDir>] -n <count>\n");
        return 2;
    }
    if (count < STORE_PURGE_MIN_RETAIN) {
        fprintf(stderr, "corrald purge: -n must be at least %d (the count of snapshots to keep)\n",
                STORE_PURGE_MIN_RETAIN);
        return 2;
    }
    store_dirs_t d;
    store_err_t err;
    if (store_dirs_open(&d, dirs[0], dirs[1] ? dirs[1] : dirs[0], false, &err) != 0) {
        fprintf(stderr, "corrald purge: %s\n", err.msg);
        return 1;
    }
    store_removed_t removed = {0};
    if (store_purge(d.snap_dir, d.log_dir, count, &removed, &err) != 0) {
        fprintf(stderr, "corrald purge: %s\n", err.msg);
        return 1;
    }
    for (size_t i = 0; i < removed.n; i++)
        printf("Removing file: %s\n", removed.paths[i]);
    printf("Removed %zu files, kept the %d newest snapshots and the logs they need\n", removed.n,
           count);
    store_removed_free(&removed);
    return 0;
}

/* ZooKeeper's log settings, as zkServer.sh passes them: the level from
 * zookeeper.root.logger ("INFO,CONSOLE"), and a file when it names a file
 * appender (ROLLINGFILE) or zookeeper.log.file is given, in
 * zookeeper.log.dir (default "."). SIGHUP reopens the file (logrotate). */
static int setup_logging(server_t *srv)
{
    const char *root = config_prop(&srv->cfg, "zookeeper.root.logger");
    if (root && !log_parse_level(root, &srv->log.level))
        log_warn(&srv->log, "zookeeper.root.logger=%s: unknown level, using INFO", root);
    const char *dir = config_prop(&srv->cfg, "zookeeper.log.dir");
    const char *file = config_prop(&srv->cfg, "zookeeper.log.file");
    bool to_file = file || (root && strstr(root, "FILE"));
    if (!to_file)
        return 0;
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir ? dir : ".", file ? file : "zookeeper.log");
    if (log_open_file(&srv->log, path) != 0) {
        log_error(&srv->log,
                  "cannot open the log file %s (zookeeper.log.dir/zookeeper.log.file): %s", path,
                  strerror(errno));
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && service_is_command(argv[1]))
        return service_main(argc, argv);
    if (argc > 1 && !strcmp(argv[1], "purge"))
        return purge_main(argc, argv);
    if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        usage();
        return 0;
    }
    static server_t srv;
    char err[1024];
    srv.log.level = LOG_INFO;
    /* Info lines (session created/closed...) are written once per loop turn;
     * warnings and errors at once. */
    static char log_buf[64 * 1024];
    setvbuf(stderr, log_buf, _IOFBF, sizeof(log_buf));
    srv.log.buffered = true;
    if (config_load(&srv.cfg, argc, argv, NULL, err, sizeof(err)) != 0) {
        log_error(&srv.log, "invalid configuration: %s", err);
        config_free(&srv.cfg);
        return 2;
    }
    if (setup_logging(&srv) != 0) {
        config_free(&srv.cfg);
        return 2;
    }
    for (size_t i = 0; i < srv.cfg.nwarnings; i++)
        log_warn(&srv.log, "%s", srv.cfg.warnings[i]);
    if (srv.cfg.distributed) {
        log_error(&srv.log, "quorum mode (several server.N lines or standaloneEnabled=false) is "
                            "not supported yet; run a single standalone server");
        config_free(&srv.cfg);
        return 2;
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    server_init(&srv, &loop);
    log_info(&srv.log,
             "corrald %s starting: standalone, tickTime=%d ms, session timeout %d..%d ms, "
             "maxClientCnxns=%d, dataDir=%s, dataLogDir=%s, forceSync=%s",
             srv.version, srv.cfg.tick_time_ms, srv.cfg.min_session_timeout_ms,
             srv.cfg.max_session_timeout_ms, srv.cfg.max_client_cnxns, srv.cfg.data_dir_abs,
             srv.cfg.data_log_dir_abs ? srv.cfg.data_log_dir_abs : srv.cfg.data_dir_abs,
             srv.cfg.force_sync ? "yes" : "no");
    int rc = 0;
    if (server_open_data(&srv, err, sizeof(err)) != 0) {
        log_error(&srv.log, "cannot start: %s", err);
        rc = 1;
    } else if (server_listen(&srv) != 0) {
        rc = 1;
    } else if (admin_start(&srv, err, sizeof(err)) != 0) {
        log_error(&srv.log, "cannot start: %s", err);
        server_stop(&srv, 1);
        uv_run(&loop, UV_RUN_DEFAULT);
        rc = 1;
    } else {
        service_notify_ready();
        uv_run(&loop, UV_RUN_DEFAULT);
        rc = srv.exit_code;
    }
    server_free(&srv);
    uv_loop_close(&loop);
    config_free(&srv.cfg);
    log_info(&srv.log, "corrald stopped");
    log_close(&srv.log);
    return rc;
}
