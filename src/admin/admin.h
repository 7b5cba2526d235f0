/* admin: corrald's HTTP monitoring endpoints, both served from the server's
 * event loop (see httpd.h: no threads, no locks, handlers read one server
 * view per request):
 *
 *  - the AdminServer (ZooKeeper 3.8's Jetty AdminServer): GET
 *    <admin.commandURL> lists the commands, <admin.commandURL>/<name> runs
 *    one (commands.h) and answers ZooKeeper's JSON. On with
 *    admin.enableServer (default true), at admin.serverAddress:
 *    admin.serverPort (default 8080). Corral binds 127.0.0.1 unless
 *    admin.serverAddress is set (ZooKeeper: 0.0.0.0). Commands that reveal
 *    or change state obey 4lw.commands.whitelist like the four-letter words.
 *    admin.idleTimeout closes idle connections.
 *
 *  - the Prometheus endpoint (prom.h): GET /metrics when zoo.cfg says
 *    metricsProvider.className=org.apache.zookeeper.metrics.prometheus.
 *    PrometheusMetricsProvider, at metricsProvider.httpHost:
 *    metricsProvider.httpPort (default 7000). Corral binds 127.0.0.1
 *    unless metricsProvider.httpHost is set (ZooKeeper: 0.0.0.0). Off
 *    otherwise, as in ZooKeeper.
 *
 * The server calls admin_start once its client port listens, and
 * admin_stop when it stops. */
#ifndef CORRAL_ADMIN_H
#define CORRAL_ADMIN_H

#include <stddef.h>

struct server;
struct admin;

#define ADMIN_PROMETHEUS_PROVIDER                                                                  \
    "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider"

/* Start what the configuration asks for and set s->admin (NULL when neither
 * endpoint is configured). Logs the bound addresses at info. Returns 0, or
 * -1 with a one-line reason in err (a port in use, a bad address): ZooKeeper
 * exits in that case, and so should the caller. One exception: when zoo.cfg
 * and -D say nothing about the AdminServer (it is on by default, on 8080)
 * and it cannot bind, that is a warning in the log and 0. */
int admin_start(struct server *s, char *err, size_t errlen);

/* Close both endpoints and their connections; s->admin becomes NULL. The
 * memory is released once the loop has run the close callbacks. Safe to
 * call when nothing was started, and more than once. */
void admin_stop(struct server *s);

/* The ports actually bound (0 when that endpoint is off). */
int admin_http_port(const struct admin *a);
int admin_metrics_port(const struct admin *a);

#endif
