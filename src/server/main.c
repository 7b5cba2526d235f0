/* main: corrald's entry point — load the configuration (zoo.cfg, -D flags,
 * JVMFLAGS), start a standalone server and run its event loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

static void usage(void)
{
    fprintf(stderr,
            "usage: corrald [-Dname=value ...] [zoo.cfg]\n"
            "  With no zoo.cfg: standalone on 127.0.0.1:2181, tickTime 2000, data in ./data.\n"
            "  Data is kept in memory only in this version (no transaction log yet).\n");
}

int main(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        usage();
        return 0;
    }
    static server_t srv;
    char err[1024];
    srv.log.level = LOG_INFO;
    if (config_load(&srv.cfg, argc, argv, NULL, err, sizeof(err)) != 0) {
        log_error(&srv.log, "invalid configuration: %s", err);
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
    } else {
        uv_run(&loop, UV_RUN_DEFAULT);
        rc = srv.exit_code;
    }
    server_free(&srv);
    uv_loop_close(&loop);
    config_free(&srv.cfg);
    log_info(&srv.log, "corrald stopped");
    return rc;
}
