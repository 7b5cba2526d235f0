/* httpd: libmicrohttpd in external epoll mode, driven by the libuv loop (see
 * httpd.h). We open the listening socket ourselves so a bind failure comes
 * back with its errno, and hand it to MHD. */
#include "admin/httpd.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct httpd {
    struct MHD_Daemon *d;
    uv_poll_t poll;   /* MHD's epoll fd becomes readable: run MHD */
    uv_timer_t timer; /* MHD's next deadline (idle timeouts, pending work) */
    int open_handles; /* freed when both handles are closed */
    int port;
    httpd_handler_fn handler;
    void *ctx;
    const logger_t *log;
    char name[32];
};

struct httpd_request {
    struct MHD_Connection *conn;
};

const char *httpd_query_arg(const httpd_request_t *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

static void on_timer(uv_timer_t *t);

/* After every MHD_run: when must MHD run again even without socket events? */
static void rearm(httpd_t *h)
{
    MHD_UNSIGNED_LONG_LONG ms;
    if (MHD_get_timeout(h->d, &ms) == MHD_YES)
        uv_timer_start(&h->timer, on_timer, (uint64_t)ms, 0);
    else
        uv_timer_stop(&h->timer);
}

static void run(httpd_t *h)
{
    if (h->d == NULL)
        return;
    MHD_run(h->d);
    rearm(h);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    (void)status;
    (void)events;
    run(p->data);
}

static void on_timer(uv_timer_t *t)
{
    run(t->data);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    const httpd_t *h = cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    if (h->log)
        log_warn(h->log, "%s: %s", h->name, line);
}

static enum MHD_Result queue(struct MHD_Connection *conn, unsigned status, const char *type,
                             const void *data, size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    if (type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    enum MHD_Result rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    (void)upload_data;
    (void)con_cls;
    httpd_t *h = cls;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
        *upload_data_size = 0;
        static const char msg[] = "HTTP method not allowed\n";
        return queue(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", msg, sizeof msg - 1);
    }
    httpd_request_t req = {conn};
    httpd_reply_t reply = {200, "text/plain", {0}};
    buf_init(&reply.body);
    h->handler(h->ctx, &req, url, &reply);
    enum MHD_Result rc =
        queue(conn, (unsigned)reply.status, reply.content_type, reply.body.data, reply.body.len);
    buf_free(&reply.body);
    return rc;
}

/* socket + bind + listen on host:port; the fd, or -1 with a reason. */
static int open_listener(const httpd_options_t *opt, int *family, int *bound_port, char *err,
                         size_t errlen)
{
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char port[16];
    snprintf(port, sizeof port, "%d", opt->port);
    int rc = getaddrinfo(opt->host, port, &hints, &ai);
    if (rc != 0) {
        snprintf(err, errlen, "%s:%d: %s", opt->host, opt->port, gai_strerror(rc));
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 64) != 0) {
        snprintf(err, errlen, "%s:%d: %s", opt->host, opt->port, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return -1;
    }
    *family = ai->ai_family;
    freeaddrinfo(ai);
    struct sockaddr_storage sa;
    socklen_t salen = sizeof sa;
    *bound_port = opt->port;
    if (getsockname(fd, (struct sockaddr *)&sa, &salen) == 0)
        *bound_port = ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&sa)->sin6_port
                                                     : ((struct sockaddr_in *)&sa)->sin_port);
    return fd;
}

httpd_t *httpd_start(uv_loop_t *loop, const httpd_options_t *opt, char *err, size_t errlen)
{
    int family = AF_INET;
    httpd_t *h = xcalloc(1, sizeof *h);
    h->handler = opt->handler;
    h->ctx = opt->ctx;
    h->log = opt->log;
    snprintf(h->name, sizeof h->name, "%s", opt->name ? opt->name : "http");
    int fd = open_listener(opt, &family, &h->port, err, errlen);
    if (fd < 0) {
        free(h);
        return NULL;
    }
    unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    if (family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* the logger first, so that MHD never prints to stderr itself */
    h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER,
                            mhd_log, h, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_TIMEOUT,
                            opt->idle_timeout_s, MHD_OPTION_CONNECTION_LIMIT,
                            opt->max_connections ? opt->max_connections : 32u, MHD_OPTION_END);
    const union MHD_DaemonInfo *info =
        h->d ? MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
    if (info == NULL) {
        snprintf(err, errlen, "%s:%d: libmicrohttpd could not start (epoll mode)", opt->host,
                 opt->port);
        if (h->d)
            MHD_stop_daemon(h->d);
        else
            close(fd);
        free(h);
        return NULL;
    }
    uv_poll_init(loop, &h->poll, info->epoll_fd);
    uv_timer_init(loop, &h->timer);
    h->poll.data = h->timer.data = h;
    h->open_handles = 2;
    uv_poll_start(&h->poll, UV_READABLE, on_poll);
    rearm(h);
    return h;
}

int httpd_port(const httpd_t *h)
{
    return h->port;
}

static void on_closed(uv_handle_t *handle)
{
    httpd_t *h = handle->data;
    if (--h->open_handles == 0)
        free(h);
}

void httpd_stop(httpd_t *h)
{
    if (h == NULL)
        return;
    /* Stop watching MHD's epoll fd before MHD closes it. */
    uv_poll_stop(&h->poll);
    uv_timer_stop(&h->timer);
    MHD_stop_daemon(h->d);
    h->d = NULL;
    uv_close((uv_handle_t *)&h->poll, on_closed);
    uv_close((uv_handle_t *)&h->timer, on_closed);
}
