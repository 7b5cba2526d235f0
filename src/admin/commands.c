/* commands: the AdminServer command table (names and aliases exactly as in
 * ZooKeeper 3.8's Commands class), the whitelist gate and the reply envelope
 * (see commands.h). */
#include "admin/commands.h"

#include <stdlib.h>
#include <string.h>

#include "admin/json.h"
#include "server/server.h"

#define NOT_SERVING "This ZooKeeper instance is not currently serving requests"

/* Gates: commands with a four-letter twin use its whitelist entry. Those
 * without one are gated by their nearest twin: what they reveal (the config
 * file, system properties, the voting members) or, for the role reports that
 * say no more than srvr, srvr itself (always allowed). */
static const admin_cmd_t COMMANDS[] = {
    {{"connection_stat_reset", "crst"}, "crst", true, 0, cmd_connection_stat_reset},
    {{"configuration", "conf", "config"}, "conf", true, VIEW_DIR_SIZES, cmd_configuration},
    {{"connections", "cons"}, "cons", true, 0, cmd_connections},
    {{"hash"}, "hash", true, 0, cmd_hash},
    {{"dirs"}, "dirs", true, VIEW_DIR_SIZES, cmd_dirs},
    {{"dump"}, "dump", true, VIEW_DUMP, cmd_dump},
    {{"environment", "env", "envi"}, "envi", false, 0, cmd_environment},
    {{"get_trace_mask", "gtmk"}, "gtmk", false, 0, cmd_get_trace_mask},
    {{"initial_configuration", "icfg"}, "conf", true, 0, cmd_initial_configuration},
    {{"is_read_only", "isro"}, "isro", true, 0, cmd_is_read_only},
    {{"last_snapshot", "lsnp"}, "srvr", true, 0, cmd_last_snapshot},
    {{"leader", "lead"}, "srvr", true, 0, cmd_leader},
    {{"monitor", "mntr"}, "mntr", false, 0, cmd_monitor},
    {{"observer_connection_stat_reset", "orst"},
     "crst",
     true,
     0,
     cmd_observer_connection_stat_reset},
    {{"ruok"}, "ruok", true, 0, cmd_ruok},
    {{"set_trace_mask", "stmk"}, "stmk", false, 0, cmd_set_trace_mask},
    {{"server_stats", "srvr"}, "srvr", true, 0, cmd_server_stats},
    {{"stats", "stat"}, "stat", true, 0, cmd_stats},
    {{"stat_reset", "srst"}, "srst", true, 0, cmd_stat_reset},
    {{"observers", "obsr"}, "srvr", true, 0, cmd_observers},
    {{"system_properties", "sysp"}, "envi", false, 0, cmd_system_properties},
    {{"voting_view"}, "conf", true, 0, cmd_voting_view},
    {{"watches", "wchc"}, "wchc", true, VIEW_WATCHES_BY_SESSION, cmd_watches},
    {{"watches_by_path", "wchp"}, "wchp", true, VIEW_WATCHES_BY_PATH, cmd_watches_by_path},
    {{"watch_summary", "wchs"}, "wchs", true, 0, cmd_watch_summary},
    {{"zabstate"}, "srvr", false, 0, cmd_zabstate},
};
#define NCOMMANDS (sizeof COMMANDS / sizeof COMMANDS[0])

const admin_cmd_t *admin_cmd_at(size_t i)
{
    return i < NCOMMANDS ? &COMMANDS[i] : NULL;
}

const admin_cmd_t *admin_cmd_find(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        for (size_t k = 0; k < 4 && COMMANDS[i].names[k]; k++)
            if (strcmp(COMMANDS[i].names[k], name) == 0)
                return &COMMANDS[i];
    return NULL;
}

/* CommandResponse(name, error): {"command": name, "error": error}. */
static void error_reply(const char *name, const char *error, buf_t *out)
{
    cJSON *r = cJSON_CreateObject();
    json_add_str(r, "command", name);
    json_add_str(r, "error", error);
    json_print(r, out);
    cJSON_Delete(r);
}

int admin_cmd_respond(struct server *s, const httpd_request_t *req, const char *name, buf_t *out)
{
    const admin_cmd_t *cmd = admin_cmd_find(name);
    if (cmd == NULL) {
        buf_t msg;
        buf_init(&msg);
        buf_printf(&msg, "Unknown command: %s", name);
        buf_append(&msg, "", 1);
        error_reply(name, (const char *)msg.data, out);
        buf_free(&msg);
        return 200;
    }
    if (!config_4lw_allowed(&s->cfg, cmd->fourlw)) {
        buf_t msg;
        buf_init(&msg);
        buf_printf(&msg,
                   "%s is not executed because it is not in the whitelist "
                   "(4lw.commands.whitelist needs %s)",
                   name, cmd->fourlw);
        buf_append(&msg, "", 1);
        error_reply(name, (const char *)msg.data, out);
        buf_free(&msg);
        return 403;
    }
    server_view_t *sv = xmalloc(sizeof *sv);
    server_view_fill(s, sv, cmd->view_parts);
    if (cmd->server_required && !sv->v.serving) {
        error_reply(name, NOT_SERVING, out);
    } else {
        admin_call_t call = {s, sv, req};
        cJSON *r = cJSON_CreateObject();
        cmd->build(&call, r);
        json_add_str(r, "command", cmd->names[0]);
        if (!cJSON_HasObjectItem(r, "error"))
            json_add_str(r, "error", NULL);
        json_print(r, out);
        cJSON_Delete(r);
    }
    server_view_free(sv);
    free(sv);
    return 200;
}

/* ---- helpers shared by the builders ------------------------------------- */

void admin_full_version(const fourlw_view_t *v, buf_t *out)
{
    buf_printf(out, "%s, built on %s", v->version ? v->version : "<NA>",
               v->built_on ? v->built_on : "<NA>");
}

int64_t admin_view_metric(const fourlw_view_t *v, const char *name, int64_t dflt)
{
    for (size_t i = 0; i < v->nmetrics; i++)
        if (v->metrics[i].name && strcmp(v->metrics[i].name, name) == 0 &&
            v->metrics[i].type == FOURLW_METRIC_INT)
            return v->metrics[i].value.i;
    return dflt;
}
