/* cmd_stats: the AdminServer's server and connection statistics —
 * server_stats (srvr), stats (stat), connections (cons), monitor (mntr) —
 * and the two resets (crst, srst), in ZooKeeper 3.8's JSON shapes. */
#include <stdlib.h>
#include <string.h>

#include "admin/commands.h"
#include "admin/json.h"
#include "admin/mntr.h"
#include "server/server.h"

static int64_t min_of(const fourlw_summary_t *s)
{
    return s->count > 0 ? s->min : 0;
}

static int64_t max_of(const fourlw_summary_t *s)
{
    return s->count > 0 ? s->max : 0;
}

/* BufferStats: -1 until the first reply. */
static void add_buffer_stats(cJSON *obj, const fourlw_view_t *v)
{
    json_add_int(obj, "last_buffer_size", admin_view_metric(v, "last_client_response_size", -1));
    json_add_int(obj, "min_buffer_size", admin_view_metric(v, "min_client_response_size", -1));
    json_add_int(obj, "max_buffer_size", admin_view_metric(v, "max_client_response_size", -1));
}

/* SrvrCommand: version, read_only, the ServerStats bean, node_count. */
void cmd_server_stats(admin_call_t *c, cJSON *r)
{
    const fourlw_view_t *v = &c->sv->v;
    buf_t ver;
    buf_init(&ver);
    admin_full_version(v, &ver);
    buf_append(&ver, "", 1);
    json_add_str(r, "version", (const char *)ver.data);
    buf_free(&ver);
    json_add_bool(r, "read_only", v->mode == FOURLW_MODE_READ_ONLY);

    cJSON *ss = json_add_obj(r, "server_stats");
    json_add_int(ss, "packets_sent", v->packets_sent);
    json_add_int(ss, "packets_received", v->packets_received);
    json_add_int(ss, "fsync_threshold_exceed_count",
                 admin_view_metric(v, "fsync_threshold_exceed_count", 0));
    add_buffer_stats(json_add_obj(ss, "client_response_stats"), v);
    json_add_int(ss, "data_dir_size", v->datadir_size);
    json_add_int(ss, "log_dir_size", v->logdir_size);
    json_add_bool(ss, "provider_null", false);
    json_add_str(ss, "server_state", fourlw_mode_name(v->mode));
    json_add_int(ss, "last_processed_zxid", v->last_zxid);
    json_add_int(ss, "outstanding_requests", v->outstanding_requests);
    json_add_avg(ss, "avg_latency", v->latency.count, v->latency.sum);
    json_add_int(ss, "max_latency", max_of(&v->latency));
    json_add_int(ss, "min_latency", min_of(&v->latency));
    json_add_int(ss, "num_alive_client_connections", v->num_connections);
    json_add_int(ss, "uptime", v->uptime_ms);
    json_add_int(ss, "auth_failed_count", admin_view_metric(v, "auth_failed_count", 0));
    /* no TLS client port yet: no connection is "non-mTLS" */
    json_add_int(ss, "non_mtlsremote_conn_count", 0);
    json_add_int(ss, "non_mtlslocal_conn_count", 0);

    add_buffer_stats(json_add_obj(r, "client_response"), v);
    if (v->has_proposal_sizes) {
        cJSON *ps = json_add_obj(r, "proposal_stats");
        json_add_int(ps, "last_buffer_size", v->proposal_size_last);
        json_add_int(ps, "min_buffer_size", v->proposal_size_min);
        json_add_int(ps, "max_buffer_size", v->proposal_size_max);
    }
    json_add_int(r, "node_count", v->node_count + 1); /* the root's alias, as srvr */
}

/* ServerCnxn.getConnectionInfo(brief). The address has no leading '/'. */
static cJSON *conn_info(const fourlw_conn_t *k, bool brief)
{
    cJSON *o = cJSON_CreateObject();
    const char *remote = k->remote ? k->remote : "";
    json_add_str(o, "remote_socket_address", remote[0] == '/' ? remote + 1 : remote);
    json_add_int(o, "interest_ops", k->interest_ops);
    json_add_int(o, "outstanding_requests", k->queued);
    json_add_int(o, "packets_received", k->packets_received);
    json_add_int(o, "packets_sent", k->packets_sent);
    if (brief)
        return o;
    json_add_int(o, "session_id", (int64_t)k->session_id);
    json_add_str(o, "last_operation", k->last_op ? k->last_op : "NA");
    json_add_int(o, "established", k->established_ms);
    json_add_int(o, "session_timeout", k->timeout_ms);
    json_add_int(o, "last_cxid", k->last_cxid);
    json_add_int(o, "last_zxid", k->last_zxid);
    json_add_int(o, "last_response_time", k->last_response_ms);
    json_add_int(o, "last_latency", k->last_latency_ms);
    json_add_int(o, "min_latency", min_of(&k->latency));
    json_add_int(o, "avg_latency", k->latency.count > 0 ? k->latency.sum / k->latency.count : 0);
    json_add_int(o, "max_latency", max_of(&k->latency));
    return o;
}

static void add_connections(cJSON *r, const fourlw_view_t *v, bool brief)
{
    cJSON *a = json_add_arr(r, "connections");
    for (size_t i = 0; i < v->nconns; i++)
        cJSON_AddItemToArray(a, conn_info(&v->conns[i], brief));
}

void cmd_stats(admin_call_t *c, cJSON *r)
{
    cmd_server_stats(c, r);
    add_connections(r, &c->sv->v, true);
    json_add_arr(r, "secure_connections"); /* no TLS client port yet */
}

void cmd_connections(admin_call_t *c, cJSON *r)
{
    add_connections(r, &c->sv->v, false);
    json_add_arr(r, "secure_connections");
}

/* Every mntr key without its "zk_", with mntr's value and type. */
void cmd_monitor(admin_call_t *c, cJSON *r)
{
    mntr_list_t l;
    mntr_collect(&c->sv->v, &l);
    for (size_t i = 0; i < l.n; i++) {
        const mntr_entry_t *e = &l.v[i];
        if (e->kind == MNTR_STRING || strcmp(e->value, "NaN") == 0)
            json_add_str(r, e->name, e->value); /* Jackson writes NaN as a string */
        else
            cJSON_AddItemToObject(r, e->name, cJSON_CreateRaw(e->value));
    }
    mntr_list_free(&l);
}

/* The same resets as the crst and srst four-letter words. */
void cmd_connection_stat_reset(admin_call_t *c, cJSON *r)
{
    (void)r;
    for (conn_t *k = c->s->conns; k; k = k->next) {
        memset(&k->latency, 0, sizeof(k->latency));
        k->packets_received = k->packets_sent = 0;
    }
}

void cmd_stat_reset(admin_call_t *c, cJSON *r)
{
    (void)r;
    memset(&c->s->latency, 0, sizeof(c->s->latency));
    c->s->packets_received = c->s->packets_sent = 0;
}
