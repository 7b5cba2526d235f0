/* httpd: a small HTTP/1.1 server (libmicrohttpd) driven by the server's libuv
 * loop, for the AdminServer and the Prometheus endpoint.
 *
 * libmicrohttpd runs in "external" mode with its own epoll set: the loop
 * watches that epoll fd with a uv_poll_t and MHD's next deadline with a
 * uv_timer_t, and calls MHD_run() when either fires. So every request
 * handler runs ON THE LOOP THREAD, between two client packets, and may read
 * the server's state (server_view_fill) without locks. No MHD thread exists.
 *
 * A handler must answer at once (it cannot suspend): it fills an
 * httpd_reply_t and returns. Requests bodies are ignored. Only GET and HEAD
 * reach the handler; other methods get 405. */
#ifndef CORRAL_ADMIN_HTTPD_H
#define CORRAL_ADMIN_HTTPD_H

#include <stddef.h>
#include <uv.h>

#include "base/buf.h"
#include "base/log.h"

typedef struct httpd httpd_t;
typedef struct httpd_request httpd_request_t; /* opaque: one request */

/* What a handler answers. body starts empty; content_type must be a static
 * string. status defaults to 200. */
typedef struct httpd_reply {
    int status;
    const char *content_type;
    buf_t body;
} httpd_reply_t;

/* Called for each GET/HEAD request; `path` is the decoded URL path without
 * the query string. */
typedef void (*httpd_handler_fn)(void *ctx, const httpd_request_t *req, const char *path,
                                 httpd_reply_t *reply);

/* The value of query argument `name` ("?traceMask=12"), or NULL. */
const char *httpd_query_arg(const httpd_request_t *req, const char *name);

typedef struct httpd_options {
    const char *name;        /* for log lines: "AdminServer", "metrics" */
    const char *host;        /* IP literal or host name to bind */
    int port;                /* 0 picks a free port (see httpd_port) */
    unsigned idle_timeout_s; /* close idle keep-alive connections (0: never) */
    unsigned max_connections;
    httpd_handler_fn handler;
    void *ctx;
    const logger_t *log; /* libmicrohttpd's own complaints go here */
} httpd_options_t;

/* Bind host:port and start serving on `loop`. Returns NULL with a one-line
 * reason in err (e.g. "127.0.0.1:8080: Address already in use"). */
httpd_t *httpd_start(uv_loop_t *loop, const httpd_options_t *opt, char *err, size_t errlen);

/* The port actually bound. */
int httpd_port(const httpd_t *h);

/* Close the listening socket and every connection now; the memory goes when
 * libuv has closed the two handles (the loop must run once more). NULL is a
 * no-op. */
void httpd_stop(httpd_t *h);

#endif
