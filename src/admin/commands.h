/* commands: ZooKeeper 3.8's AdminServer commands (/commands/<name>) as JSON.
 *
 * The table holds every command of org.apache.zookeeper.server.admin.Commands
 * with its aliases ("server_stats" = "srvr"), the four-letter word whose
 * whitelist entry gates it (config_4lw_allowed: ZooKeeper's AdminServer has
 * no whitelist, Corral applies the 4lw one so that what the 4lw port refuses
 * the HTTP port refuses too) and a builder. Builders read one server view
 * (server_view_fill), the same snapshot the four-letter words render, so the
 * two never disagree; side effects (stat resets, trace mask) are the few
 * lines that touch the server.
 *
 * A reply is ZooKeeper's CommandResponse map: the command's entries, then
 * "command" (the primary name) and "error" (null, or a message), except that
 * an "error" a builder set keeps its place, as in Java's LinkedHashMap. */
#ifndef CORRAL_ADMIN_COMMANDS_H
#define CORRAL_ADMIN_COMMANDS_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "admin/httpd.h"
#include "base/buf.h"
#include "server/view.h"

struct server;

/* What a builder works from. */
typedef struct admin_call {
    struct server *s;
    const server_view_t *sv;    /* filled with the parts the command asked for */
    const httpd_request_t *req; /* query arguments (set_trace_mask's traceMask) */
} admin_call_t;

typedef void (*admin_cmd_fn)(admin_call_t *call, cJSON *resp);

typedef struct admin_cmd {
    const char *names[4]; /* primary name first, then aliases; NULL-terminated */
    const char *fourlw;   /* the whitelist entry that gates it */
    bool server_required; /* ZooKeeper refuses it while not serving */
    unsigned view_parts;  /* VIEW_* parts of the view it reads */
    admin_cmd_fn build;
} admin_cmd_t;

/* The command known as `name` (primary name or alias), or NULL. */
const admin_cmd_t *admin_cmd_find(const char *name);
/* Every command, in the table's order; NULL past the end. */
const admin_cmd_t *admin_cmd_at(size_t i);

/* Run command `name` (as the client spelled it) and write the JSON reply in
 * ZooKeeper's layout to `out`. Returns the HTTP status: 200, or 403 when the
 * 4lw whitelist refuses it (the JSON then says why). Unknown commands are
 * 200 with "error" : "Unknown command: <name>", as in ZooKeeper. */
int admin_cmd_respond(struct server *s, const httpd_request_t *req, const char *name, buf_t *out);

/* Builders (cmd_*.c). */
void cmd_server_stats(admin_call_t *c, cJSON *r);
void cmd_stats(admin_call_t *c, cJSON *r);
void cmd_connections(admin_call_t *c, cJSON *r);
void cmd_connection_stat_reset(admin_call_t *c, cJSON *r);
void cmd_stat_reset(admin_call_t *c, cJSON *r);
void cmd_monitor(admin_call_t *c, cJSON *r);
void cmd_watches(admin_call_t *c, cJSON *r);
void cmd_watches_by_path(admin_call_t *c, cJSON *r);
void cmd_watch_summary(admin_call_t *c, cJSON *r);
void cmd_dump(admin_call_t *c, cJSON *r);
void cmd_configuration(admin_call_t *c, cJSON *r);
void cmd_environment(admin_call_t *c, cJSON *r);
void cmd_system_properties(admin_call_t *c, cJSON *r);
void cmd_initial_configuration(admin_call_t *c, cJSON *r);
void cmd_dirs(admin_call_t *c, cJSON *r);
void cmd_last_snapshot(admin_call_t *c, cJSON *r);
void cmd_hash(admin_call_t *c, cJSON *r);
void cmd_get_trace_mask(admin_call_t *c, cJSON *r);
void cmd_set_trace_mask(admin_call_t *c, cJSON *r);
void cmd_is_read_only(admin_call_t *c, cJSON *r);
void cmd_ruok(admin_call_t *c, cJSON *r);
void cmd_leader(admin_call_t *c, cJSON *r);
void cmd_observers(admin_call_t *c, cJSON *r);
void cmd_observer_connection_stat_reset(admin_call_t *c, cJSON *r);
void cmd_voting_view(admin_call_t *c, cJSON *r);
void cmd_zabstate(admin_call_t *c, cJSON *r);

/* Helpers shared by the builders. */
/* "3.8.0-corral-abc, built on 2025-11-22 12:36 UTC" */
void admin_full_version(const fourlw_view_t *v, buf_t *out);
/* A metric the view carries by mntr name, or `dflt`. */
int64_t admin_view_metric(const fourlw_view_t *v, const char *name, int64_t dflt);

#endif
