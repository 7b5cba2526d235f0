/* admin: configuration of the AdminServer and /metrics endpoints, and their
 * HTTP routing (see admin.h). */
#include "admin/admin.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/commands.h"
#include "admin/httpd.h"
#include "admin/prom.h"
#include "admin/procstat.h"
#include "server/server.h"

struct admin {
    server_t *s;
    httpd_t *http;    /* AdminServer */
    httpd_t *metrics; /* Prometheus */
    char command_url[256];
};

/* ---- AdminServer -------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* CommandServlet with no command: a link per primary name. */
static void command_links(const struct admin *a, buf_t *out)
{
    const char *names[64];
    size_t n = 0;
    for (const admin_cmd_t *c; (c = admin_cmd_at(n)) && n < 64; n++)
        names[n] = c->names[0];
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++)
        buf_printf(out, "<a href=\"%s/%s\">%s</a>\n<br/>\n", a->command_url, names[i], names[i]);
}

static void on_admin_request(void *ctx, const httpd_request_t *req, const char *path,
                             httpd_reply_t *reply)
{
    struct admin *a = ctx;
    size_t n = strlen(a->command_url);
    if (strncmp(path, a->command_url, n) != 0 || (path[n] != '\0' && path[n] != '/')) {
        reply->status = 404;
        buf_append_str(&reply->body, "Not Found\n");
        return;
    }
    const char *name = path[n] == '/' ? path + n + 1 : "";
    if (*name == '\0') {
        reply->content_type = "text/html";
        command_links(a, &reply->body);
        return;
    }
    reply->content_type = "application/json";
    reply->status = admin_cmd_respond(a->s, req, name, &reply->body);
}

/* ---- /metrics ------------------------------------------------------------------ */

static void on_metrics_request(void *ctx, const httpd_request_t *req, const char *path,
                               httpd_reply_t *reply)
{
    (void)req;
    struct admin *a = ctx;
    if (strcmp(path, "/metrics") != 0) {
        reply->status = 404;
        buf_append_str(&reply->body, "Not Found\n");
        return;
    }
    server_view_t *sv = xmalloc(sizeof *sv);
    server_view_fill(a->s, sv, 0);
    prom_process_t proc;
    procstat_read(&proc);
    proc.open_fds = sv->v.open_fd_count;
    proc.max_fds = sv->v.open_fd_count >= 0 ? sv->v.max_fd_count : -1;
    reply->content_type = PROM_CONTENT_TYPE;
    prom_render(&sv->v, &proc, &reply->body);
    server_view_free(sv);
    free(sv);
}

/* ---- start / stop ------------------------------------------------------------- */

/* A metricsProvider.* entry of zoo.cfg (QuorumPeerConfig keeps them apart
 * from the system properties). */
static const char *provider_setting(const corral_config_t *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nfile_entries; i++)
        if (strcmp(cfg->file_entries[i].name, name) == 0)
            return cfg->file_entries[i].value;
    return NULL;
}

static int start_admin_server(struct admin *a, char *err, size_t errlen)
{
    server_t *s = a->s;
    const corral_config_t *cfg = &s->cfg;
    /* Loopback unless the operator chose an address. */
    const char *host =
        config_prop(cfg, "zookeeper.admin.serverAddress") && cfg->admin_server_address
            ? cfg->admin_server_address
            : "127.0.0.1";
    const char *url = cfg->admin_command_url && cfg->admin_command_url[0] == '/'
                          ? cfg->admin_command_url
                          : "/commands";
    snprintf(a->command_url, sizeof a->command_url, "%s", url);
    size_t n = strlen(a->command_url);
    while (n > 1 && a->command_url[n - 1] == '/')
        a->command_url[--n] = '\0';
    int idle_ms = cfg->admin_idle_timeout_ms > 0 ? cfg->admin_idle_timeout_ms : 30000;
    httpd_options_t o = {
        .name = "AdminServer",
        .host = host,
        .port = cfg->admin_server_port,
        .idle_timeout_s = (unsigned)((idle_ms + 999) / 1000),
        .max_connections = 32,
        .handler = on_admin_request,
        .ctx = a,
        .log = &s->log,
    };
    char why[256];
    a->http = httpd_start(s->loop, &o, why, sizeof why);
    if (a->http == NULL) {
        snprintf(err, errlen,
                 "cannot start the AdminServer on %s (admin.serverPort; "
                 "admin.enableServer=false turns it off)",
                 why);
        return -1;
    }
    log_info(&s->log, "AdminServer listening on %s:%d, command URL %s", host, httpd_port(a->http),
             a->command_url);
    return 0;
}

static int start_metrics(struct admin *a, char *err, size_t errlen)
{
    server_t *s = a->s;
    const corral_config_t *cfg = &s->cfg;
    const char *host = provider_setting(cfg, "metricsProvider.httpHost");
    const char *port_s = provider_setting(cfg, "metricsProvider.httpPort");
    char *end = NULL;
    long port = port_s ? strtol(port_s, &end, 10) : 7000;
    if (port_s && (*port_s == '\0' || *end != '\0' || port < 0 || port > 65535)) {
        snprintf(err, errlen, "metricsProvider.httpPort '%s' is not a port number", port_s);
        return -1;
    }
    httpd_options_t o = {
        .name = "metrics",
        .host = host && *host ? host : "127.0.0.1",
        .port = (int)port,
        .idle_timeout_s = 30,
        .max_connections = 16,
        .handler = on_metrics_request,
        .ctx = a,
        .log = &s->log,
    };
    char why[256];
    a->metrics = httpd_start(s->loop, &o, why, sizeof why);
    if (a->metrics == NULL) {
        snprintf(err, errlen,
                 "cannot start the Prometheus /metrics endpoint on %s "
                 "(metricsProvider.httpPort)",
                 why);
        return -1;
    }
    log_info(&s->log, "Prometheus metrics on http://%s:%d/metrics", o.host, httpd_port(a->metrics));
    return 0;
}

/* Did the configuration mention the AdminServer at all? */
static bool admin_requested(const corral_config_t *cfg)
{
    static const char *const keys[] = {"zookeeper.admin.enableServer", "zookeeper.admin.serverPort",
                                       "zookeeper.admin.serverAddress", NULL};
    for (size_t i = 0; keys[i]; i++)
        if (config_prop(cfg, keys[i]) != NULL)
            return true;
    return false;
}

int admin_start(struct server *s, char *err, size_t errlen)
{
    const corral_config_t *cfg = &s->cfg;
    bool prometheus = cfg->metrics_provider_class_name &&
                      strcmp(cfg->metrics_provider_class_name, ADMIN_PROMETHEUS_PROVIDER) == 0;
    s->admin = NULL;
    if (!cfg->admin_enable_server && !prometheus)
        return 0;
    struct admin *a = xcalloc(1, sizeof *a);
    a->s = s;
    s->admin = a;
    if (cfg->admin_enable_server && start_admin_server(a, err, errlen) != 0) {
        /* ZooKeeper exits when its AdminServer cannot bind. So do we when the
         * operator asked for it; the default 8080 being taken by something
         * else must not keep the coordination service down. */
        if (admin_requested(cfg)) {
            admin_stop(s);
            return -1;
        }
        log_warn(&s->log, "%s; continuing without it", err);
    }
    if (prometheus && start_metrics(a, err, errlen) != 0) {
        admin_stop(s);
        return -1;
    }
    return 0;
}

void admin_stop(struct server *s)
{
    struct admin *a = s->admin;
    if (a == NULL)
        return;
    httpd_stop(a->http);
    httpd_stop(a->metrics);
    free(a);
    s->admin = NULL;
}

int admin_http_port(const struct admin *a)
{
    return a && a->http ? httpd_port(a->http) : 0;
}

int admin_metrics_port(const struct admin *a)
{
    return a && a->metrics ? httpd_port(a->metrics) : 0;
}
