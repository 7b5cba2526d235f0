/*
 * zkc_smoke: drive a server with Apache ZooKeeper's official C client
 * (libzookeeper_mt) and print one line per checked step.
 *
 *   zkc_smoke <host:port> <namespace path>
 *
 * Every call's result code and returned values are compared with what
 * Apache ZooKeeper 3.8 answers; the first unexpected one prints
 * "FAIL <step>: ..." on stderr and exits 1. Watches are awaited on a
 * condition variable with a timeout, never with sleeps. The output is
 * deterministic (no session ids, zxids or times are printed), so the test
 * compares it line by line.
 */
#define _POSIX_C_SOURCE 200809L
#define THREADED 1          /* the synchronous API of libzookeeper_mt */

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zookeeper/zookeeper.h>

#define WAIT_MS 10000
#define MAX_EVENTS 64

/* base64(sha1("user:pass")): the digest ACL id of user "user", password "pass". */
#define USER_DIGEST_ID "user:smGaoVKd/cQkjm7b88GyorAUz20="

static const char *g_ns;

static void fail(const char *step, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "FAIL %s: ", step);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stdout);
    exit(1);
}

static void expect_rc(const char *step, int got, int want)
{
    if (got != want)
        fail(step, "rc %d (%s), expected %d (%s)", got, zerror(got), want, zerror(want));
}

static void expect_int(const char *step, const char *what, long long got, long long want)
{
    if (got != want)
        fail(step, "%s = %lld, expected %lld", what, got, want);
}

static char *path_of(const char *rel)
{
    static char bufs[8][512];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, 512, "%s%s", g_ns, rel);
    return b;
}

/* ------------------------------------------------------------------ */
/* events: every watcher callback lands here                           */

struct event {
    int type;
    int state;
    char path[512];
    const char *who;
};

static pthread_mutex_t ev_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ev_cond = PTHREAD_COND_INITIALIZER;
static struct event events[MAX_EVENTS];
static int n_events;

static void watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
    (void)zh;
    pthread_mutex_lock(&ev_lock);
    if (n_events < MAX_EVENTS) {
        struct event *e = &events[n_events++];
        e->type = type;
        e->state = state;
        e->who = ctx ? (const char *)ctx : "global";
        snprintf(e->path, sizeof e->path, "%s", path ? path : "");
    }
    pthread_cond_broadcast(&ev_cond);
    pthread_mutex_unlock(&ev_lock);
}

static void deadline_in(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Wait for the first unconsumed event that matches (who, type); returns
 * its index or fails after WAIT_MS. Events that do not match stay queued. */
static int consumed[MAX_EVENTS];

static int wait_event(const char *step, const char *who, int type, const char *path)
{
    struct timespec ts;
    deadline_in(&ts, WAIT_MS);
    pthread_mutex_lock(&ev_lock);
    for (;;) {
        for (int i = 0; i < n_events; i++) {
            if (consumed[i] || strcmp(events[i].who, who) != 0)
                continue;
            if (events[i].type != type || strcmp(events[i].path, path) != 0) {
                pthread_mutex_unlock(&ev_lock);
                fail(step, "watcher %s got event type %d state %d path '%s', expected type %d "
                     "path '%s'", who, events[i].type, events[i].state, events[i].path, type,
                     path);
            }
            consumed[i] = 1;
            pthread_mutex_unlock(&ev_lock);
            return i;
        }
        int rc = pthread_cond_timedwait(&ev_cond, &ev_lock, &ts);
        if (rc == ETIMEDOUT) {
            pthread_mutex_unlock(&ev_lock);
            fail(step, "no event for watcher %s within %d ms", who, WAIT_MS);
        }
    }
}

/* No unconsumed event for this watcher (call after a sync point). */
static void expect_no_event(const char *step, const char *who)
{
    pthread_mutex_lock(&ev_lock);
    for (int i = 0; i < n_events; i++) {
        if (!consumed[i] && strcmp(events[i].who, who) == 0) {
            struct event e = events[i];
            pthread_mutex_unlock(&ev_lock);
            fail(step, "unexpected event for %s: type %d path '%s'", who, e.type, e.path);
        }
    }
    pthread_mutex_unlock(&ev_lock);
}

static zhandle_t *connect_to(const char *hosts, const char *step)
{
    zhandle_t *zh = zookeeper_init(hosts, watcher, 30000, NULL, NULL, 0);
    if (!zh)
        fail(step, "zookeeper_init: %s", strerror(errno));
    /* The global watcher gets SESSION_EVENT/CONNECTED_STATE once connected. */
    struct timespec ts;
    deadline_in(&ts, WAIT_MS);
    pthread_mutex_lock(&ev_lock);
    while (zoo_state(zh) != ZOO_CONNECTED_STATE) {
        if (pthread_cond_timedwait(&ev_cond, &ev_lock, &ts) == ETIMEDOUT) {
            pthread_mutex_unlock(&ev_lock);
            fail(step, "not connected within %d ms (state %d)", WAIT_MS, zoo_state(zh));
        }
    }
    pthread_mutex_unlock(&ev_lock);
    if (zoo_recv_timeout(zh) != 30000)
        fail(step, "negotiated timeout %d, expected 30000", zoo_recv_timeout(zh));
    return zh;
}

/* ------------------------------------------------------------------ */
/* auth completion                                                     */

static pthread_mutex_t auth_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t auth_cond = PTHREAD_COND_INITIALIZER;
static int auth_done, auth_rc;

static void auth_completion(int rc, const void *data)
{
    (void)data;
    pthread_mutex_lock(&auth_lock);
    auth_done = 1;
    auth_rc = rc;
    pthread_cond_broadcast(&auth_cond);
    pthread_mutex_unlock(&auth_lock);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void print_children(const char *step, struct String_vector *v)
{
    qsort(v->data, (size_t)v->count, sizeof v->data[0], cmp_str);
    printf("%s:", step);
    for (int i = 0; i < v->count; i++)
        printf("%s%s", i ? "," : " ", v->data[i]);
    printf("\n");
    deallocate_String_vector(v);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s host:port /namespace\n", argv[0]);
        return 2;
    }
    const char *hosts = argv[1];
    g_ns = argv[2];
    zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
    zoo_set_log_stream(stderr);

    zhandle_t *zh = connect_to(hosts, "connect");
    printf("connect: ok\n");

    char buf[1024];
    int len;
    struct Stat st, st2;
    int rc;

    /* create / get / set / delete */
    rc = zoo_create(zh, g_ns, "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, buf, sizeof buf);
    expect_rc("create ns", rc, ZOK);
    if (strcmp(buf, g_ns) != 0)
        fail("create ns", "path '%s'", buf);
    rc = zoo_create(zh, path_of("/a"), "hello", 5, &ZOO_OPEN_ACL_UNSAFE, 0, buf, sizeof buf);
    expect_rc("create a", rc, ZOK);
    printf("create a: %s\n", buf + strlen(g_ns));
    rc = zoo_create(zh, path_of("/a"), "x", 1, &ZOO_OPEN_ACL_UNSAFE, 0, buf, sizeof buf);
    expect_rc("create a again", rc, ZNODEEXISTS);
    rc = zoo_create(zh, path_of("/none/x"), "x", 1, &ZOO_OPEN_ACL_UNSAFE, 0, buf, sizeof buf);
    expect_rc("create orphan", rc, ZNONODE);
    printf("create errors: ZNODEEXISTS ZNONODE\n");

    len = sizeof buf;
    rc = zoo_get(zh, path_of("/a"), 0, buf, &len, &st);
    expect_rc("get a", rc, ZOK);
    expect_int("get a", "len", len, 5);
    if (memcmp(buf, "hello", 5) != 0)
        fail("get a", "data mismatch");
    expect_int("get a", "version", st.version, 0);
    expect_int("get a", "dataLength", st.dataLength, 5);
    expect_int("get a", "czxid==mzxid", st.czxid == st.mzxid, 1);
    expect_int("get a", "ephemeralOwner", st.ephemeralOwner, 0);
    printf("get a: hello version=0\n");

    rc = zoo_set2(zh, path_of("/a"), "world!", 6, 0, &st2);
    expect_rc("set a", rc, ZOK);
    expect_int("set a", "version", st2.version, 1);
    expect_int("set a", "dataLength", st2.dataLength, 6);
    expect_int("set a", "czxid", st2.czxid, st.czxid);
    if (st2.mzxid <= st.mzxid)
        fail("set a", "mzxid did not advance");
    rc = zoo_set(zh, path_of("/a"), "x", 1, 0);
    expect_rc("set a stale", rc, ZBADVERSION);
    printf("set a: version=1, stale version -> ZBADVERSION\n");

    rc = zoo_exists(zh, path_of("/missing"), 0, &st);
    expect_rc("exists missing", rc, ZNONODE);
    rc = zoo_exists(zh, path_of("/a"), 0, &st);
    expect_rc("exists a", rc, ZOK);
    expect_int("exists a", "version", st.version, 1);
    printf("exists: missing -> ZNONODE, a version=1\n");

    /* watches */
    len = sizeof buf;
    rc = zoo_wget(zh, path_of("/a"), watcher, "data", buf, &len, &st);
    expect_rc("wget a", rc, ZOK);
    rc = zoo_set(zh, path_of("/a"), "again", 5, -1);
    expect_rc("set a (watched)", rc, ZOK);
    wait_event("data watch", "data", ZOO_CHANGED_EVENT, path_of("/a"));
    printf("data watch: CHANGED a\n");
    rc = zoo_set(zh, path_of("/a"), "twice", 5, -1);     /* one-shot: no event */
    expect_rc("set a (unwatched)", rc, ZOK);

    struct String_vector kids;
    rc = zoo_wget_children(zh, g_ns, watcher, "child", &kids);
    expect_rc("wget_children ns", rc, ZOK);
    print_children("children before", &kids);
    rc = zoo_wexists(zh, path_of("/b"), watcher, "exists", &st);
    expect_rc("wexists b", rc, ZNONODE);
    rc = zoo_create(zh, path_of("/b"), "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, buf, sizeof buf);
    expect_rc("create b", rc, ZOK);
    wait_event("exists watch", "exists", ZOO_CREATED_EVENT, path_of("/b"));
    wait_event("child watch", "child", ZOO_CHILD_EVENT, g_ns);
    printf("exists watch: CREATED b\n");
    printf("child watch: CHILD ns\n");
    rc = zoo_get_children(zh, g_ns, 0, &kids);   /* sync point for stray events */
    expect_rc("get_children ns", rc, ZOK);
    print_children("children after", &kids);
    expect_no_event("one-shot", "data");
    expect_no_event("one-shot", "child");
    expect_no_event("one-shot", "exists");
    printf("one-shot: ok\n");

    /* sequential: /a and /b were children 0 and 1 */
    rc = zoo_create(zh, path_of("/s-"), "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_SEQUENCE, buf,
                    sizeof buf);
    expect_rc("create sequential", rc, ZOK);
    printf("sequential: %s\n", buf + strlen(g_ns));

    /* ephemeral owned by a second session, deleted when it closes */
    zhandle_t *zh2 = connect_to(hosts, "connect 2");
    rc = zoo_create(zh2, path_of("/eph"), "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL, buf,
                    sizeof buf);
    expect_rc("create ephemeral", rc, ZOK);
    rc = zoo_exists(zh, path_of("/eph"), 0, &st);
    expect_rc("exists eph", rc, ZOK);
    expect_int("exists eph", "ephemeralOwner", st.ephemeralOwner, zoo_client_id(zh2)->client_id);
    rc = zoo_create(zh, path_of("/eph/kid"), "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, buf, sizeof buf);
    expect_rc("create under ephemeral", rc, ZNOCHILDRENFOREPHEMERALS);
    rc = zoo_wexists(zh, path_of("/eph"), watcher, "eph", &st);
    expect_rc("wexists eph", rc, ZOK);
    rc = zookeeper_close(zh2);
    expect_rc("close 2", rc, ZOK);
    wait_event("ephemeral", "eph", ZOO_DELETED_EVENT, path_of("/eph"));
    rc = zoo_exists(zh, path_of("/eph"), 0, &st);
    expect_rc("exists eph after close", rc, ZNONODE);
    printf("ephemeral: owner ok, ZNOCHILDRENFOREPHEMERALS, DELETED on close\n");

    /* multi: success */
    {
        zoo_op_t ops[4];
        zoo_op_result_t res[4];
        char p0[512];
        zoo_create_op_init(&ops[0], path_of("/m1"), "m", 1, &ZOO_OPEN_ACL_UNSAFE, 0, p0,
                           sizeof p0);
        zoo_set_op_init(&ops[1], path_of("/a"), "multi", 5, -1, &st);
        zoo_check_op_init(&ops[2], path_of("/a"), 4);
        zoo_delete_op_init(&ops[3], path_of("/b"), 0);
        rc = zoo_multi(zh, 4, ops, res);
        expect_rc("multi ok", rc, ZOK);
        for (int i = 0; i < 4; i++)
            expect_rc("multi ok result", res[i].err, ZOK);
        if (strcmp(p0, path_of("/m1")) != 0)
            fail("multi ok", "created path '%s'", p0);
        expect_int("multi ok", "set version", st.version, 4);
        printf("multi: ok, a version=4\n");
    }
    /* multi: failure is atomic */
    {
        zoo_op_t ops[3];
        zoo_op_result_t res[3];
        char p0[512];
        zoo_create_op_init(&ops[0], path_of("/m2"), "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, p0,
                           sizeof p0);
        zoo_check_op_init(&ops[1], path_of("/a"), 99);
        zoo_delete_op_init(&ops[2], path_of("/m1"), -1);
        rc = zoo_multi(zh, 3, ops, res);
        expect_rc("multi fail", rc, ZBADVERSION);
        expect_rc("multi fail result 0", res[0].err, ZOK);
        expect_rc("multi fail result 1", res[1].err, ZBADVERSION);
        expect_rc("multi fail result 2", res[2].err, ZRUNTIMEINCONSISTENCY);
        rc = zoo_exists(zh, path_of("/m2"), 0, &st);
        expect_rc("m2 absent", rc, ZNONODE);
        rc = zoo_exists(zh, path_of("/m1"), 0, &st);
        expect_rc("m1 present", rc, ZOK);
        printf("multi: failure -> ZBADVERSION, results ZOK ZBADVERSION ZRUNTIMEINCONSISTENCY\n");
    }

    /* digest auth and ACLs */
    pthread_mutex_lock(&auth_lock);
    auth_done = 0;
    pthread_mutex_unlock(&auth_lock);
    rc = zoo_add_auth(zh, "digest", "user:pass", 9, auth_completion, NULL);
    expect_rc("add_auth", rc, ZOK);
    {
        struct timespec ts;
        deadline_in(&ts, WAIT_MS);
        pthread_mutex_lock(&auth_lock);
        while (!auth_done) {
            if (pthread_cond_timedwait(&auth_cond, &auth_lock, &ts) == ETIMEDOUT) {
                pthread_mutex_unlock(&auth_lock);
                fail("add_auth", "no completion within %d ms", WAIT_MS);
            }
        }
        pthread_mutex_unlock(&auth_lock);
        expect_rc("add_auth completion", auth_rc, ZOK);
    }
    {
        struct ACL acl = {ZOO_PERM_ALL, {"digest", USER_DIGEST_ID}};
        struct ACL_vector av = {1, &acl};
        rc = zoo_create(zh, path_of("/secret"), "s3cr3t", 6, &av, 0, buf, sizeof buf);
        expect_rc("create secret", rc, ZOK);
        len = sizeof buf;
        rc = zoo_get(zh, path_of("/secret"), 0, buf, &len, &st);
        expect_rc("get secret (authed)", rc, ZOK);
        expect_int("get secret (authed)", "len", len, 6);
        struct ACL_vector got;
        rc = zoo_get_acl(zh, path_of("/secret"), &got, &st);
        expect_rc("get_acl secret", rc, ZOK);
        expect_int("get_acl secret", "count", got.count, 1);
        if (got.data[0].perms != ZOO_PERM_ALL || strcmp(got.data[0].id.scheme, "digest") ||
            strcmp(got.data[0].id.id, USER_DIGEST_ID))
            fail("get_acl secret", "acl %d %s:%s", got.data[0].perms, got.data[0].id.scheme,
                 got.data[0].id.id);
        deallocate_ACL_vector(&got);

        zhandle_t *anon = connect_to(hosts, "connect anon");
        len = sizeof buf;
        rc = zoo_get(anon, path_of("/secret"), 0, buf, &len, &st);
        expect_rc("get secret (anon)", rc, ZNOAUTH);
        rc = zoo_set(anon, path_of("/secret"), "x", 1, -1);
        expect_rc("set secret (anon)", rc, ZNOAUTH);
        rc = zoo_exists(anon, path_of("/secret"), 0, &st);
        expect_rc("exists secret (anon)", rc, ZOK);
        rc = zookeeper_close(anon);
        expect_rc("close anon", rc, ZOK);
        printf("acl: authed get ok, anonymous get/set -> ZNOAUTH\n");
    }

    /* cleanup, deepest first */
    const char *doomed[] = {"/secret", "/m1", "/a"};
    for (size_t i = 0; i < sizeof doomed / sizeof doomed[0]; i++) {
        rc = zoo_delete(zh, path_of(doomed[i]), -1);
        expect_rc("cleanup", rc, ZOK);
    }
    rc = zoo_get_children(zh, g_ns, 0, &kids);
    expect_rc("children at end", rc, ZOK);
    print_children("children at end", &kids);
    rc = zoo_delete(zh, path_of("/s-0000000002"), -1);
    expect_rc("cleanup seq", rc, ZOK);
    rc = zoo_delete(zh, g_ns, -1);
    expect_rc("cleanup ns", rc, ZOK);
    rc = zookeeper_close(zh);
    expect_rc("close", rc, ZOK);
    printf("done\n");
    return 0;
}
