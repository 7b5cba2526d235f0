/* server: building the server context from a loaded config, binding the
 * client port, the periodic timers and signal handling, and teardown. */
#include "server.h"

#include "admin/admin.h"
#include "server/service.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

static void on_connection(uv_stream_t *listener, int status)
{
    server_t *s = listener->data;
    if (status < 0) {
        log_warn(&s->log, "accept failed: %s", uv_strerror(status));
        return;
    }
    conn_accept(s);
}

static void close_noop(uv_handle_t *h)
{
    (void)h;
}

static void close_all_cb(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, close_noop);
}

void server_stop(server_t *s, int exit_code)
{
    if (s->stopping)
        return;
    s->stopping = true;
    s->exit_code = exit_code;
    service_notify_stopping();
    admin_stop(s);
    /* Close every connection and the port, write out what the log holds,
     * and let the loop end: the remaining handles are closed by server_free. */
    for (conn_t *c = s->conns; c; c = c->next)
        conn_close(c, NULL);
    if (!uv_is_closing((uv_handle_t *)&s->listener))
        uv_close((uv_handle_t *)&s->listener, NULL);
    uv_timer_stop(&s->tick_timer);
    uv_timer_stop(&s->container_timer);
    uv_timer_stop(&s->purge_timer);
    uv_signal_stop(&s->sig_term);
    uv_signal_stop(&s->sig_int);
    uv_signal_stop(&s->sig_hup);
    uv_prepare_stop(&s->flush_prepare);
    persist_close(s);
}

static void on_hup(uv_signal_t *sig, int signum)
{
    server_t *s = sig->data;
    (void)signum;
    if (log_reopen(&s->log) != 0)
        log_warn(&s->log, "SIGHUP: cannot reopen the log file %s: %s; still writing to the old one",
                 s->log.path, strerror(errno));
    else if (s->log.path[0])
        log_info(&s->log, "SIGHUP: reopened the log file %s", s->log.path);
}

static void on_signal(uv_signal_t *sig, int signum)
{
    server_t *s = sig->data;
    log_info(&s->log, "received signal %d, shutting down (sessions are not expired)", signum);
    server_stop(s, 0);
}

int server_init(server_t *s, uv_loop_t *loop)
{
    /* s->cfg and s->log are filled by the caller. */
    s->loop = loop;
    s->version = FOURLW_ZK_VERSION "-corral-" CORRAL_GIT_SHA;
    watch_mgr_init(&s->watches, server_deliver_event, s);
    nf_pool_init(&s->txn_pool, PENDING_TXN_SLOT);
    buf_init(&s->prep_body);
    s->start_mono_ms = server_mono_ms(s);
    session_table_init(&s->sessions, s->cfg.tick_time_ms, 1, s->start_mono_ms);
    strmap_init(&s->conns_per_ip);
    s->container_minute_start_ms = s->start_mono_ms;
    s->trace_mask = 306;
    s->nodelay_inherited = -1;
    /* ZooKeeper reports -1 until the first response. */
    s->metrics.last_response_size = s->metrics.min_response_size = s->metrics.max_response_size =
        -1;

    uv_timer_init(loop, &s->tick_timer);
    s->tick_timer.data = s;
    uv_timer_init(loop, &s->container_timer);
    s->container_timer.data = s;
    uv_prepare_init(loop, &s->flush_prepare);
    s->flush_prepare.data = s;
    uv_signal_init(loop, &s->sig_term);
    s->sig_term.data = s;
    uv_signal_init(loop, &s->sig_int);
    s->sig_int.data = s;
    uv_signal_init(loop, &s->sig_hup);
    s->sig_hup.data = s;
    return 0;
}

int server_open_data(server_t *s, char *err, size_t errlen)
{
    if (persist_open(s, err, errlen) != 0)
        return -1;
    prep_init(&s->prep, &s->tree, s->cfg.extended_types_enabled, s->cfg.reconfig_enabled);
    s->prep.enforce_quota = s->cfg.enforce_quota;
    return 0;
}

int server_listen(server_t *s)
{
    const char *addr = s->cfg.client_port_address ? s->cfg.client_port_address : "0.0.0.0";
    int port = s->cfg.client_port;
    struct sockaddr_storage sa;
    int rc;
    if (strchr(addr, ':'))
        rc = uv_ip6_addr(addr, port, (struct sockaddr_in6 *)&sa);
    else
        rc = uv_ip4_addr(addr, port, (struct sockaddr_in *)&sa);
    if (rc != 0) {
        log_error(&s->log, "clientPortAddress %s is not an IP address: %s", addr, uv_strerror(rc));
        return -1;
    }
    uv_tcp_init(s->loop, &s->listener);
    s->listener.data = s;
    rc = uv_tcp_bind(&s->listener, (const struct sockaddr *)&sa, 0);
    /* Accepted sockets inherit TCP_NODELAY from the listener on Linux:
     * conn_accept then need not set it on every connection. */
    if (rc == 0)
        uv_tcp_nodelay(&s->listener, 1);
    int backlog = s->cfg.client_port_listen_backlog > 0 ? s->cfg.client_port_listen_backlog : 511;
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&s->listener, backlog, on_connection);
    if (rc != 0) {
        log_error(&s->log, "cannot listen on %s:%d (clientPort): %s", addr, port, uv_strerror(rc));
        uv_close((uv_handle_t *)&s->listener, NULL);
        return -1;
    }
    log_info(&s->log, "binding to port %s:%d", addr, port);
    uv_timer_start(&s->tick_timer, server_on_tick, (uint64_t)s->cfg.tick_time_ms / 2 + 1,
                   (uint64_t)s->cfg.tick_time_ms / 2 + 1);
    uint64_t check = s->cfg.container_check_interval_ms > 0
                         ? (uint64_t)s->cfg.container_check_interval_ms
                         : 60000;
    uv_timer_start(&s->container_timer, server_on_container_check, check, check);
    uv_prepare_start(&s->flush_prepare, server_flush_dirty);
    s->tick_timer.data = s;
    s->sig_term.data = s;
    uv_signal_start(&s->sig_term, on_signal, SIGTERM);
    uv_signal_start(&s->sig_int, on_signal, SIGINT);
    uv_signal_start(&s->sig_hup, on_hup, SIGHUP);
    return 0;
}

void server_free(server_t *s)
{
    admin_stop(s);
    /* Close connections (their callbacks free them), then every other
     * handle, and let the callbacks run. */
    for (conn_t *c = s->conns; c; c = c->next)
        conn_close(c, NULL);
    persist_close(s);
    uv_run(s->loop, UV_RUN_NOWAIT);
    uv_walk(s->loop, close_all_cb, NULL);
    uv_run(s->loop, UV_RUN_DEFAULT);
    size_t pos = 0;
    const char *k;
    size_t kl;
    void *v;
    while (strmap_next(&s->conns_per_ip, &pos, &k, &kl, &v))
        free(v);
    strmap_free(&s->conns_per_ip);
    conn_pool_free(s);
    free(s->dirty);
    while (s->uncommitted_head) {
        pending_txn_t *t = s->uncommitted_head;
        s->uncommitted_head = t->next;
        free(t->body_heap);
        nf_pool_put(&s->txn_pool, t);
    }
    nf_pool_free(&s->txn_pool);
    buf_free(&s->prep_body);
    session_table_free(&s->sessions);
    watch_mgr_free(&s->watches);
    if (s->tree_ready) {
        prep_free(&s->prep);
        tree_free(&s->tree);
    }
}
