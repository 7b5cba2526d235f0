/* cmd_quorum: the ensemble reports — leader, observers, voting_view,
 * zabstate, observer_connection_stat_reset — as ZooKeeper 3.8 answers them
 * on a standalone server (the only mode corrald runs in so far). When the
 * quorum code lands, these read its state from the view. */
#include "admin/commands.h"
#include "admin/json.h"

/* LeaderCommand on a server that is not a quorum peer. */
void cmd_leader(admin_call_t *c, cJSON *r)
{
    (void)c;
    json_add_str(r, "error", "server is not initialized");
}

void cmd_observers(admin_call_t *c, cJSON *r)
{
    (void)c;
    json_add_int(r, "synced_observers", 0);
    json_add_arr(r, "observers");
}

void cmd_observer_connection_stat_reset(admin_call_t *c, cJSON *r)
{
    (void)c;
    (void)r;
}

void cmd_voting_view(admin_call_t *c, cJSON *r)
{
    (void)c;
    json_add_obj(r, "current_config");
}

void cmd_zabstate(admin_call_t *c, cJSON *r)
{
    (void)c;
    json_add_bool(r, "voting", false);
    json_add_str(r, "zabstate", "");
}
