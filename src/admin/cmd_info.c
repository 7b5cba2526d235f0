/* cmd_info: the AdminServer's configuration and environment reports —
 * configuration (conf), environment (envi), system_properties,
 * initial_configuration, dirs, last_snapshot, hash, is_read_only,
 * get/set_trace_mask and ruok — in ZooKeeper 3.8's JSON shapes. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "admin/commands.h"
#include "admin/json.h"
#include "server/server.h"
#include "server/snapshots.h"
#include "store/store.h"

/* Split "k=v\n" lines of `text` (from `start` on) and call fn for each. */
typedef void (*kv_fn)(void *ctx, const char *key, const char *value);

static void each_kv_line(const char *text, kv_fn fn, void *ctx)
{
    char *copy = xstrndup(text, strlen(text));
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *eq = strchr(line, '=');
        if (eq == NULL)
            continue;
        *eq = '\0';
        fn(ctx, line, eq + 1);
    }
    free(copy);
}

/* ---- configuration ------------------------------------------------------- */

/* ZooKeeperServerConf.toMap(): its keys in its order, from the conf text. */
static const struct {
    const char *conf_key, *json_key;
    bool is_int;
} CONF_KEYS[] = {
    {"clientPort", "client_port", true},
    {"dataDir", "data_dir", false},
    {"dataLogDir", "data_log_dir", false},
    {"tickTime", "tick_time", true},
    {"maxClientCnxns", "max_client_cnxns", true},
    {"minSessionTimeout", "min_session_timeout", true},
    {"maxSessionTimeout", "max_session_timeout", true},
    {"serverId", "server_id", true},
    {"clientPortListenBacklog", "client_port_listen_backlog", true},
};
#define NCONF (sizeof CONF_KEYS / sizeof CONF_KEYS[0])

typedef struct conf_vals {
    char *v[NCONF];
} conf_vals_t;

static void conf_kv(void *ctx, const char *key, const char *value)
{
    conf_vals_t *cv = ctx;
    for (size_t i = 0; i < NCONF; i++)
        if (strcmp(CONF_KEYS[i].conf_key, key) == 0 && cv->v[i] == NULL)
            cv->v[i] = xstrndup(value, strlen(value));
}

void cmd_configuration(admin_call_t *c, cJSON *r)
{
    conf_vals_t cv = {{0}};
    if (c->sv->v.conf_text)
        each_kv_line(c->sv->v.conf_text, conf_kv, &cv);
    for (size_t i = 0; i < NCONF; i++) {
        if (cv.v[i] == NULL)
            continue;
        if (CONF_KEYS[i].is_int)
            json_add_int(r, CONF_KEYS[i].json_key, strtoll(cv.v[i], NULL, 10));
        else
            json_add_str(r, CONF_KEYS[i].json_key, cv.v[i]);
        free(cv.v[i]);
    }
}

/* ---- environment, system_properties ---------------------------------------- */

static void add_kv(void *ctx, const char *key, const char *value)
{
    json_add_str(ctx, key, value);
}

/* The envi text without its "Environment:" header line. */
static char *envi_text(const fourlw_view_t *v)
{
    buf_t b;
    buf_init(&b);
    fourlw_render(FOURLW_ENVI, v, &b);
    buf_append(&b, "", 1);
    const char *body = strchr((const char *)b.data, '\n');
    char *out = xstrndup(body ? body + 1 : "", body ? strlen(body + 1) : 0);
    buf_free(&b);
    return out;
}

void cmd_environment(admin_call_t *c, cJSON *r)
{
    char *text = envi_text(&c->sv->v);
    each_kv_line(text, add_kv, r);
    free(text);
}

/* A set of system properties; it owns copies of its strings. */
typedef struct prop_set {
    char **names, **values;
    size_t n, cap;
} prop_set_t;

static void prop_put(prop_set_t *ps, const char *name, const char *value)
{
    for (size_t i = 0; i < ps->n; i++)
        if (strcmp(ps->names[i], name) == 0) {
            free(ps->values[i]);
            ps->values[i] = xstrndup(value, strlen(value));
            return;
        }
    if (ps->n == ps->cap) {
        ps->cap = ps->cap ? ps->cap * 2 : 64;
        ps->names = xrealloc(ps->names, ps->cap * sizeof *ps->names);
        ps->values = xrealloc(ps->values, ps->cap * sizeof *ps->values);
    }
    ps->names[ps->n] = xstrndup(name, strlen(name));
    ps->values[ps->n++] = xstrndup(value, strlen(value));
}

static void prop_set_free(prop_set_t *ps)
{
    for (size_t i = 0; i < ps->n; i++) {
        free(ps->names[i]);
        free(ps->values[i]);
    }
    free(ps->names);
    free(ps->values);
}

/* The envi keys that are Java system properties too. */
static const char *const ENV_PROPS[] = {"java.io.tmpdir", "os.name",   "os.arch",  "os.version",
                                        "user.name",      "user.home", "user.dir", NULL};

static void env_prop(void *ctx, const char *key, const char *value)
{
    for (size_t i = 0; ENV_PROPS[i]; i++)
        if (strcmp(ENV_PROPS[i], key) == 0 && strcmp(value, "<NA>") != 0)
            prop_put(ctx, key, value);
}

static int cmp_idx(const void *a, const void *b, void *names)
{
    char **n = names;
    return strcmp(n[*(const size_t *)a], n[*(const size_t *)b]);
}

/* Java's System.getProperties() sorted by name: the environment's
 * equivalents of the JVM's own properties, then every system property
 * Corral resolved (-D flags, zoo.cfg keys that became "zookeeper.<key>"). */
void cmd_system_properties(admin_call_t *c, cJSON *r)
{
    prop_set_t ps = {0};
    prop_put(&ps, "file.separator", "/");
    prop_put(&ps, "line.separator", "\n");
    prop_put(&ps, "path.separator", ":");
    char *text = envi_text(&c->sv->v);
    each_kv_line(text, env_prop, &ps);
    free(text);
    const corral_config_t *cfg = &c->s->cfg;
    for (size_t i = 0; i < cfg->nprops; i++)
        if (cfg->props[i].name && cfg->props[i].value)
            prop_put(&ps, cfg->props[i].name, cfg->props[i].value);
    size_t *idx = xmalloc((ps.n ? ps.n : 1) * sizeof *idx);
    for (size_t i = 0; i < ps.n; i++)
        idx[i] = i;
    qsort_r(idx, ps.n, sizeof *idx, cmp_idx, ps.names);
    for (size_t i = 0; i < ps.n; i++)
        json_add_str(r, ps.names[idx[i]], ps.values[idx[i]]);
    free(idx);
    prop_set_free(&ps);
}

/* ZooKeeper keeps the text of the zoo.cfg it started with. Corral keeps the
 * key=value entries it read (comments and blank lines are not kept); null
 * when started without a zoo.cfg. */
void cmd_initial_configuration(admin_call_t *c, cJSON *r)
{
    const corral_config_t *cfg = &c->s->cfg;
    if (cfg->config_path == NULL) {
        json_add_str(r, "initial_configuration", NULL);
        return;
    }
    buf_t b;
    buf_init(&b);
    for (size_t i = 0; i < cfg->nfile_entries; i++)
        buf_printf(&b, "%s=%s\n", cfg->file_entries[i].name, cfg->file_entries[i].value);
    buf_append(&b, "", 1);
    json_add_str(r, "initial_configuration", (const char *)b.data);
    buf_free(&b);
}

/* ---- data directory -------------------------------------------------------- */

void cmd_dirs(admin_call_t *c, cJSON *r)
{
    json_add_int(r, "datadir_size", c->sv->v.datadir_size);
    json_add_int(r, "logdir_size", c->sv->v.logdir_size);
}

/* The newest complete snapshot: zxid as Long.toHexString, timestamp as the
 * file's mtime in seconds; "ffffffffffffffff" and -1 when there is none. */
void cmd_last_snapshot(admin_call_t *c, cJSON *r)
{
    const server_t *s = c->s;
    int64_t zxid = -1, when = -1;
    store_file_list_t list = {0};
    store_err_t err;
    if (s->dirs.snap_dir[0] &&
        store_list(s->dirs.snap_dir, STORE_SNAPSHOT, false, &list, &err) == 0) {
        for (size_t i = 0; i < list.n; i++) {
            if (snapshots_running(s) && list.v[i].zxid == s->snap_zxid)
                continue; /* still being written */
            char path[STORE_PATH_MAX + 80];
            struct stat st;
            snprintf(path, sizeof path, "%s/%s", s->dirs.snap_dir, list.v[i].name);
            if (stat(path, &st) != 0)
                continue;
            zxid = list.v[i].zxid;
            when = (int64_t)st.st_mtime;
            break;
        }
        store_file_list_free(&list);
    }
    char hex[24];
    snprintf(hex, sizeof hex, "%" PRIx64, (uint64_t)zxid);
    json_add_str(r, "zxid", hex);
    json_add_int(r, "timestamp", when);
}

/* DataTree.getDigestLog(): ZxidDigest beans. */
void cmd_hash(admin_call_t *c, cJSON *r)
{
    const fourlw_view_t *v = &c->sv->v;
    cJSON *a = json_add_arr(r, "digests");
    for (size_t i = 0; i < v->ndigests; i++) {
        cJSON *d = cJSON_CreateObject();
        json_add_int(d, "zxid", v->digests[i].zxid);
        json_add_int(d, "digestVersion", 2);
        json_add_int(d, "digest", v->digests[i].digest);
        cJSON_AddItemToArray(a, d);
    }
}

/* ---- small ones -------------------------------------------------------------- */

void cmd_is_read_only(admin_call_t *c, cJSON *r)
{
    json_add_bool(r, "read_only", c->sv->v.mode == FOURLW_MODE_READ_ONLY);
}

void cmd_ruok(admin_call_t *c, cJSON *r)
{
    (void)c;
    (void)r;
}

void cmd_get_trace_mask(admin_call_t *c, cJSON *r)
{
    json_add_int(r, "tracemask", c->sv->v.trace_mask);
}

/* Java's Long.parseLong: optional sign, decimal digits, nothing else. */
static bool parse_java_long(const char *s, int64_t *out)
{
    const char *p = s + (s[0] == '-' || s[0] == '+');
    if (*p < '0' || *p > '9')
        return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = v;
    return true;
}

void cmd_set_trace_mask(admin_call_t *c, cJSON *r)
{
    const char *arg = httpd_query_arg(c->req, "traceMask");
    int64_t mask;
    if (arg == NULL) {
        json_add_str(r, "error", "setTraceMask requires long traceMask argument");
        return;
    }
    if (!parse_java_long(arg, &mask)) {
        buf_t msg;
        buf_init(&msg);
        buf_printf(&msg, "setTraceMask requires long traceMask argument, got %s", arg);
        buf_append(&msg, "", 1);
        json_add_str(r, "error", (const char *)msg.data);
        buf_free(&msg);
        return;
    }
    c->s->trace_mask = mask;
    json_add_int(r, "tracemask", mask);
}
