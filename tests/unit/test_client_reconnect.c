/* test_client_reconnect: the client library against a real corrald, reached
 * through two in-process TCP proxies that stand in for two servers of an
 * ensemble (corrald has no ensemble yet). Killing a proxy's connections and
 * refusing new ones is a server going away; the client must move to the
 * other "server" and keep its session, its identities and its watches.
 *
 * What this covers: re-attaching the session (same id, ephemerals kept),
 * auth replay, watch re-registration with setWatches/setWatches2 (including
 * the events the server owes for changes made while disconnected), pings
 * keeping an idle session alive, expiry reported as an Expired event, and an
 * auth failure. What it cannot cover: a real failover between two different
 * servers' trees and zxids (both proxies lead to the same corrald).
 *
 * corrald is found through $CORRALD or ./build/corrald; the test is skipped
 * when it is missing. Everything runs on one libuv loop; waits poll the loop
 * for a condition with a deadline. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>
#include <uv.h>

#include "client/zkc.h"

/* ---- corrald ----------------------------------------------------------------------- */

typedef struct server {
    pid_t pid;
    int port;
    char dir[64];
} server_t;

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(fd, (struct sockaddr *)&a, sizeof a);
    socklen_t l = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &l);
    close(fd);
    return ntohs(a.sin_port);
}

static bool port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

static const char *corrald_path(void)
{
    const char *env = getenv("CORRALD");
    if (env && *env)
        return env;
    return "build/corrald";
}

static bool server_start(server_t *s, int tick_ms)
{
    if (access(corrald_path(), X_OK) != 0)
        return false;
    snprintf(s->dir, sizeof s->dir, "/tmp/corral-client-test-XXXXXX");
    if (!mkdtemp(s->dir))
        return false;
    s->port = free_port();
    char cfg[128], log[128];
    snprintf(cfg, sizeof cfg, "%s/zoo.cfg", s->dir);
    snprintf(log, sizeof log, "%s/server.log", s->dir);
    FILE *f = fopen(cfg, "w");
    fprintf(f,
            "tickTime=%d\ndataDir=%s/data\nclientPort=%d\nclientPortAddress=127.0.0.1\n"
            "maxClientCnxns=0\nadmin.enableServer=false\n",
            tick_ms, s->dir, s->port);
    fclose(f);
    s->pid = fork();
    if (s->pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        execl(corrald_path(), corrald_path(), cfg, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 500; i++) { /* up to 5 s */
        if (port_open(s->port))
            return true;
        usleep(10000); /* polling for the listener, there is no event to wait on */
    }
    return false;
}

static void server_stop(server_t *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", s->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", s->dir);
}

/* ---- a TCP proxy on the test's loop ------------------------------------------------- */

typedef struct proxy proxy_t;

typedef struct pair {
    uv_tcp_t down; /* the client side */
    uv_tcp_t up;   /* towards corrald */
    uv_connect_t creq;
    proxy_t *p;
    int open_handles;
    bool closing;
    struct pair *next;
} pair_t;

struct proxy {
    uv_loop_t *loop;
    uv_tcp_t listener;
    int port;
    int target_port;
    bool up;
    int accepted;
    pair_t *pairs;
};

typedef struct fwd_write {
    uv_write_t w;
    char *data;
} fwd_write_t;

static void pair_handle_closed(uv_handle_t *h)
{
    pair_t *pr = h->data;
    if (--pr->open_handles == 0) {
        proxy_t *p = pr->p;
        for (pair_t **pp = &p->pairs; *pp; pp = &(*pp)->next)
            if (*pp == pr) {
                *pp = pr->next;
                break;
            }
        free(pr);
    }
}

static void pair_close(pair_t *pr)
{
    if (pr->closing)
        return;
    pr->closing = true;
    uv_close((uv_handle_t *)&pr->down, pair_handle_closed);
    uv_close((uv_handle_t *)&pr->up, pair_handle_closed);
}

static void fwd_written(uv_write_t *w, int status)
{
    (void)status;
    fwd_write_t *fw = (fwd_write_t *)w;
    free(fw->data);
    free(fw);
}

static void fwd_alloc(uv_handle_t *h, size_t n, uv_buf_t *b)
{
    (void)h;
    b->base = malloc(n);
    b->len = n;
}

static void fwd_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    pair_t *pr = s->data;
    if (n < 0 || pr->closing) {
        free(b->base);
        pair_close(pr);
        return;
    }
    if (n == 0) {
        free(b->base);
        return;
    }
    uv_stream_t *to =
        s == (uv_stream_t *)&pr->down ? (uv_stream_t *)&pr->up : (uv_stream_t *)&pr->down;
    fwd_write_t *fw = calloc(1, sizeof *fw);
    fw->data = b->base;
    uv_buf_t out = uv_buf_init(b->base, (unsigned)n);
    if (uv_write(&fw->w, to, &out, 1, fwd_written) < 0) {
        free(fw->data);
        free(fw);
        pair_close(pr);
    }
}

static void up_connected(uv_connect_t *c, int status)
{
    pair_t *pr = c->data;
    if (pr->closing)
        return;
    if (status < 0) {
        pair_close(pr);
        return;
    }
    uv_read_start((uv_stream_t *)&pr->down, fwd_alloc, fwd_read);
    uv_read_start((uv_stream_t *)&pr->up, fwd_alloc, fwd_read);
}

static void on_accept(uv_stream_t *l, int status)
{
    proxy_t *p = l->data;
    if (status < 0)
        return;
    pair_t *pr = calloc(1, sizeof *pr);
    pr->p = p;
    uv_tcp_init(p->loop, &pr->down);
    uv_tcp_init(p->loop, &pr->up);
    pr->down.data = pr->up.data = pr;
    pr->open_handles = 2;
    pr->next = p->pairs;
    p->pairs = pr;
    if (uv_accept(l, (uv_stream_t *)&pr->down) < 0 || !p->up) {
        pair_close(pr); /* a "dead server": the connection is dropped at once */
        return;
    }
    p->accepted++;
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", p->target_port, &a);
    pr->creq.data = pr;
    if (uv_tcp_connect(&pr->creq, &pr->up, (struct sockaddr *)&a, up_connected) < 0)
        pair_close(pr);
}

static void proxy_start(uv_loop_t *loop, proxy_t *p, int target_port)
{
    memset(p, 0, sizeof *p);
    p->loop = loop;
    p->target_port = target_port;
    p->up = true;
    uv_tcp_init(loop, &p->listener);
    p->listener.data = p;
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", 0, &a);
    assert_int_equal(uv_tcp_bind(&p->listener, (struct sockaddr *)&a, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&p->listener, 16, on_accept), 0);
    struct sockaddr_storage ss;
    int len = sizeof ss;
    uv_tcp_getsockname(&p->listener, (struct sockaddr *)&ss, &len);
    p->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* Take the "server" down: drop its connections, refuse new ones. */
static void proxy_down(proxy_t *p)
{
    p->up = false;
    for (pair_t *pr = p->pairs; pr; pr = pr->next)
        pair_close(pr);
}

static void proxy_stop(proxy_t *p)
{
    proxy_down(p);
    uv_close((uv_handle_t *)&p->listener, NULL);
}

/* ---- test context --------------------------------------------------------------------- */

#define MAX_EVENTS 64

typedef struct recorder {
    int n;
    int32_t type[MAX_EVENTS], state[MAX_EVENTS];
    char path[MAX_EVENTS][64];
} recorder_t;

static void record(zkc_t *zk, const zkc_event_t *ev, void *ctx)
{
    (void)zk;
    recorder_t *r = ctx;
    if (r->n == MAX_EVENTS)
        return;
    r->type[r->n] = ev->type;
    r->state[r->n] = ev->state;
    snprintf(r->path[r->n], sizeof r->path[r->n], "%s", ev->path ? ev->path : "");
    r->n++;
}

static int count_events(const recorder_t *r, int32_t type, int32_t state, const char *path)
{
    int c = 0;
    for (int i = 0; i < r->n; i++)
        if (r->type[i] == type && r->state[i] == state && (!path || !strcmp(r->path[i], path)))
            c++;
    return c;
}

typedef struct fixture {
    uv_loop_t loop;
    server_t server;
    proxy_t p1, p2;
    zkc_t *zk;    /* the client under test, through the proxies */
    zkc_t *other; /* a second client, straight to corrald */
    recorder_t ev;
    int32_t timeout_ms;
} fixture_t;

typedef bool (*cond_fn)(fixture_t *f, void *arg);

static void tick(uv_timer_t *t)
{
    (void)t;
}

/* Run the loop until cond holds or timeout_ms passes. */
static bool run_until(fixture_t *f, cond_fn cond, void *arg, int timeout_ms)
{
    uv_timer_t t;
    uv_timer_init(&f->loop, &t);
    uv_timer_start(&t, tick, 10, 10); /* keeps uv_run returning to check cond */
    uint64_t end = uv_now(&f->loop) + (uint64_t)timeout_ms;
    bool ok;
    while (!(ok = cond(f, arg)) && uv_now(&f->loop) < end)
        uv_run(&f->loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    return ok;
}

static bool connects_at_least(fixture_t *f, void *arg)
{
    return zkc_get_stats(f->zk).connects >= (uint64_t)(intptr_t)arg && zkc_is_connected(f->zk);
}

static bool event_seen(fixture_t *f, void *arg)
{
    const zkc_event_t *want = arg;
    return count_events(&f->ev, want->type, want->state, want->path) > 0;
}

static bool never(fixture_t *f, void *arg)
{
    (void)f;
    (void)arg;
    return false;
}

static int sync_call(zkc_t *zk, int rc, zkc_call_t *c)
{
    if (rc != ZOK)
        return rc;
    return zkc_call_wait(zk, c, 10000);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    uv_loop_init(&f->loop);
    if (!server_start(&f->server, 100)) {
        uv_loop_close(&f->loop);
        free(f);
        *state = NULL;
        return 0;
    }
    proxy_start(&f->loop, &f->p1, f->server.port);
    proxy_start(&f->loop, &f->p2, f->server.port);
    f->timeout_ms = 1500; /* tickTime 100: within 200..2000 */
    char hosts[96];
    snprintf(hosts, sizeof hosts, "127.0.0.1:%d,127.0.0.1:%d", f->p1.port, f->p2.port);
    zkc_config_t cfg = {.hosts = hosts,
                        .session_timeout_ms = f->timeout_ms,
                        .keep_order = true,
                        .reconnect_delay_ms = 50,
                        .watcher = record,
                        .watcher_ctx = &f->ev};
    assert_int_equal(zkc_open(&f->loop, &cfg, &f->zk), ZOK);
    char direct[32];
    snprintf(direct, sizeof direct, "127.0.0.1:%d", f->server.port);
    zkc_config_t cfg2 = {.hosts = direct, .session_timeout_ms = 10000};
    assert_int_equal(zkc_open(&f->loop, &cfg2, &f->other), ZOK);
    assert_true(zkc_wait_connected(f->zk, 5000, false));
    assert_true(zkc_wait_connected(f->other, 5000, false));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    if (!f)
        return 0;
    if (f->zk)
        zkc_close_wait(f->zk, 1000, true);
    zkc_close_wait(f->other, 1000, true);
    proxy_stop(&f->p1);
    proxy_stop(&f->p2);
    while (uv_run(&f->loop, UV_RUN_NOWAIT))
        ;
    uv_loop_close(&f->loop);
    server_stop(&f->server);
    free(f);
    return 0;
}

#define NEED_SERVER(f)                                                                             \
    do {                                                                                           \
        if (!(f)) {                                                                                \
            fprintf(stderr, "corrald not found at %s: skipped\n", corrald_path());                 \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

static const zkc_acl_t open_acl = {ZK_PERM_ALL, "world", "anyone"};

static void create(zkc_t *zk, const char *path, int32_t mode)
{
    zkc_call_t c = {0};
    assert_int_equal(
        sync_call(zk, zkc_create(zk, path, "d", 1, &open_acl, 1, mode, 0, zkc_call_done, &c), &c),
        ZOK);
    zkc_result_free(&c.res);
}

static int64_t owner_of(zkc_t *zk, const char *path)
{
    zkc_call_t c = {0};
    int rc = sync_call(zk, zkc_exists(zk, path, false, zkc_call_done, &c), &c);
    int64_t o = rc == ZOK ? c.res.stat.ephemeral_owner : -1;
    zkc_result_free(&c.res);
    return o;
}

/* ---- tests ----------------------------------------------------------------------------- */

static void test_session_moves_to_the_other_server(void **state)
{
    fixture_t *f = *state;
    NEED_SERVER(f);
    zkc_t *zk = f->zk;
    assert_int_equal(f->p1.accepted, 1); /* keep_order: the first host */
    zkc_call_t c = {0};
    assert_int_equal(sync_call(zk, zkc_add_auth(zk, "digest", "u:p", 3, zkc_call_done, &c), &c),
                     ZOK);
    create(zk, "/rc", ZMODE_PERSISTENT);
    create(zk, "/rc/eph", ZMODE_EPHEMERAL);
    create(zk, "/rc/w", ZMODE_PERSISTENT);
    memset(&c, 0, sizeof c);
    assert_int_equal(sync_call(zk, zkc_get_data(zk, "/rc/w", true, zkc_call_done, &c), &c), ZOK);
    zkc_result_free(&c.res);
    memset(&c, 0, sizeof c);
    assert_int_equal(sync_call(zk, zkc_exists(zk, "/rc/missing", true, zkc_call_done, &c), &c),
                     ZNONODE);
    zkc_result_free(&c.res);
    memset(&c, 0, sizeof c);
    assert_int_equal(sync_call(zk, zkc_get_children(zk, "/rc", true, false, zkc_call_done, &c), &c),
                     ZOK);
    zkc_result_free(&c.res);
    memset(&c, 0, sizeof c);
    assert_int_equal(
        sync_call(zk, zkc_add_watch(zk, "/rc/p", ZAW_PERSISTENT, zkc_call_done, &c), &c), ZOK);
    zkc_result_free(&c.res);

    int64_t sid = zkc_session_id(zk);
    assert_true(sid != 0);
    zkc_stats_t before = zkc_get_stats(zk);

    /* Server 1 goes away. */
    proxy_down(&f->p1);
    assert_true(run_until(f, connects_at_least, (void *)(intptr_t)2, 5000));
    zkc_event_t disc = {ZKC_EV_NONE, ZKC_KS_DISCONNECTED, NULL};
    assert_true(event_seen(f, &disc));
    assert_int_equal(f->p2.accepted, 1);
    assert_true(zkc_session_id(zk) == sid);
    char want_host[32];
    snprintf(want_host, sizeof want_host, "127.0.0.1:%d", f->p2.port);
    assert_string_equal(zkc_connected_host(zk), want_host);
    zkc_stats_t after = zkc_get_stats(zk);
    assert_true(after.set_watches_sent == before.set_watches_sent + 1);
    assert_true(after.auths_sent == before.auths_sent + 1);

    /* The identity was replayed on the new connection. */
    memset(&c, 0, sizeof c);
    assert_int_equal(sync_call(zk, zkc_who_am_i(zk, zkc_call_done, &c), &c), ZOK);
    bool digest = false;
    for (int32_t i = 0; i < c.res.n_who; i++)
        digest |= !strcmp(c.res.who[i].scheme, "digest") && !strcmp(c.res.who[i].user, "u");
    assert_true(digest);
    zkc_result_free(&c.res);

    /* The session (and its ephemeral) lives on. */
    assert_true(owner_of(f->other, "/rc/eph") == sid);

    /* The watches were re-registered: changes by another client fire them. */
    memset(&c, 0, sizeof c);
    assert_int_equal(
        sync_call(f->other, zkc_set_data(f->other, "/rc/w", "x", 1, -1, zkc_call_done, &c), &c),
        ZOK);
    zkc_result_free(&c.res);
    create(f->other, "/rc/missing", ZMODE_PERSISTENT);
    create(f->other, "/rc/p", ZMODE_PERSISTENT);
    zkc_event_t e1 = {ZKC_EV_NODE_DATA_CHANGED, ZKC_KS_SYNC_CONNECTED, "/rc/w"};
    zkc_event_t e2 = {ZKC_EV_NODE_CREATED, ZKC_KS_SYNC_CONNECTED, "/rc/missing"};
    zkc_event_t e3 = {ZKC_EV_NODE_CHILDREN_CHANGED, ZKC_KS_SYNC_CONNECTED, "/rc"};
    zkc_event_t e4 = {ZKC_EV_NODE_CREATED, ZKC_KS_SYNC_CONNECTED, "/rc/p"};
    assert_true(run_until(f, event_seen, &e1, 5000));
    assert_true(run_until(f, event_seen, &e2, 5000));
    assert_true(run_until(f, event_seen, &e3, 5000));
    assert_true(run_until(f, event_seen, &e4, 5000));
    /* One-shot watches fire once; the persistent one keeps firing. */
    memset(&c, 0, sizeof c);
    assert_int_equal(
        sync_call(f->other, zkc_set_data(f->other, "/rc/p", "y", 1, -1, zkc_call_done, &c), &c),
        ZOK);
    zkc_result_free(&c.res);
    zkc_event_t e5 = {ZKC_EV_NODE_DATA_CHANGED, ZKC_KS_SYNC_CONNECTED, "/rc/p"};
    assert_true(run_until(f, event_seen, &e5, 5000));
    assert_int_equal(count_events(&f->ev, e1.type, e1.state, e1.path), 1);
    assert_true(zkc_last_zxid(zk) > 0);
}

static void test_changes_while_disconnected_are_reported(void **state)
{
    fixture_t *f = *state;
    NEED_SERVER(f);
    zkc_t *zk = f->zk;
    create(zk, "/dc", ZMODE_PERSISTENT);
    zkc_call_t c = {0};
    assert_int_equal(sync_call(zk, zkc_get_data(zk, "/dc", true, zkc_call_done, &c), &c), ZOK);
    zkc_result_free(&c.res);
    memset(&c, 0, sizeof c);
    assert_int_equal(
        sync_call(zk, zkc_add_watch(zk, "/dc", ZAW_PERSISTENT_RECURSIVE, zkc_call_done, &c), &c),
        ZOK);
    zkc_result_free(&c.res);

    /* Both servers away; meanwhile another client changes /dc. */
    proxy_down(&f->p1);
    proxy_down(&f->p2);
    zkc_event_t disc = {ZKC_EV_NONE, ZKC_KS_DISCONNECTED, NULL};
    assert_true(run_until(f, event_seen, &disc, 5000));
    /* A request while disconnected waits for the next connection… */
    zkc_call_t pending = {0};
    assert_int_equal(zkc_exists(zk, "/dc", false, zkc_call_done, &pending), ZOK);
    memset(&c, 0, sizeof c);
    assert_int_equal(
        sync_call(f->other, zkc_set_data(f->other, "/dc", "new", 3, -1, zkc_call_done, &c), &c),
        ZOK);
    zkc_result_free(&c.res);
    /* …and fails with CONNECTIONLOSS when an attempt fails (Java semantics). */
    assert_int_equal(zkc_call_wait(zk, &pending, 5000), ZCONNECTIONLOSS);
    zkc_result_free(&pending.res);

    f->p2.up = true;
    assert_true(run_until(f, connects_at_least, (void *)(intptr_t)2, 5000));
    /* setWatches told the server our last zxid: the change is reported now. */
    zkc_event_t changed = {ZKC_EV_NODE_DATA_CHANGED, ZKC_KS_SYNC_CONNECTED, "/dc"};
    assert_true(run_until(f, event_seen, &changed, 5000));
    /* The recursive watch was re-registered (setWatches2) and still works. */
    create(f->other, "/dc/kid", ZMODE_PERSISTENT);
    zkc_event_t kid = {ZKC_EV_NODE_CREATED, ZKC_KS_SYNC_CONNECTED, "/dc/kid"};
    assert_true(run_until(f, event_seen, &kid, 5000));
}

static void test_pings_keep_an_idle_session(void **state)
{
    fixture_t *f = *state;
    NEED_SERVER(f);
    create(f->zk, "/idle", ZMODE_EPHEMERAL);
    int64_t sid = zkc_session_id(f->zk);
    zkc_stats_t before = zkc_get_stats(f->zk);
    /* Idle for more than the session timeout. */
    run_until(f, never, NULL, f->timeout_ms * 2);
    zkc_stats_t after = zkc_get_stats(f->zk);
    assert_true(zkc_is_connected(f->zk));
    assert_true(after.connects == before.connects);
    assert_true(after.pings_sent >= before.pings_sent + 3);
    assert_true(owner_of(f->other, "/idle") == sid);
}

static bool node_gone(fixture_t *f, void *arg)
{
    return owner_of(f->other, arg) == -1;
}

static void test_expiry_is_reported(void **state)
{
    fixture_t *f = *state;
    NEED_SERVER(f);
    create(f->zk, "/exp", ZMODE_EPHEMERAL);
    proxy_down(&f->p1);
    proxy_down(&f->p2);
    /* The server expires the session (its ephemeral goes)… */
    assert_true(run_until(f, node_gone, "/exp", f->timeout_ms * 4));
    /* …and tells the client when it comes back. */
    f->p1.up = true;
    zkc_event_t expired = {ZKC_EV_NONE, ZKC_KS_EXPIRED, NULL};
    assert_true(run_until(f, event_seen, &expired, 5000));
    assert_int_equal(zkc_state(f->zk), ZKC_CLOSED);
    assert_false(zkc_is_alive(f->zk));
    zkc_call_t c = {0};
    assert_int_equal(zkc_exists(f->zk, "/", false, zkc_call_done, &c), ZSESSIONEXPIRED);
}

static void test_auth_failure(void **state)
{
    fixture_t *f = *state;
    NEED_SERVER(f);
    zkc_call_t c = {0};
    assert_int_equal(
        sync_call(f->zk, zkc_add_auth(f->zk, "nosuchscheme", "x", 1, zkc_call_done, &c), &c),
        ZAUTHFAILED);
    zkc_event_t failed = {ZKC_EV_NONE, ZKC_KS_AUTH_FAILED, NULL};
    assert_true(event_seen(f, &failed));
    assert_int_equal(zkc_state(f->zk), ZKC_AUTH_FAILED);
    assert_int_equal(zkc_exists(f->zk, "/", false, zkc_call_done, &c), ZAUTHFAILED);
}

static void test_close_deletes_ephemerals(void **state)
{
    fixture_t *f = *state;
    NEED_SERVER(f);
    create(f->zk, "/bye", ZMODE_EPHEMERAL);
    zkc_close_wait(f->zk, 2000, false);
    f->zk = NULL;
    zkc_event_t closed = {ZKC_EV_NONE, ZKC_KS_CLOSED, NULL};
    assert_true(event_seen(f, &closed));
    assert_true(owner_of(f->other, "/bye") == -1);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_session_moves_to_the_other_server, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes_while_disconnected_are_reported, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pings_keep_an_idle_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry_is_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auth_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_deletes_ephemerals, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
