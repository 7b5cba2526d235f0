/* conn: the connection state machine of a session, on libuv.
 *
 *   IDLE --attempt--> [RESOLVING] --> TCP --connected--> HANDSHAKE
 *        --ConnectResponse--> CONNECTED --loss--> IDLE (next host at once)
 *
 * A failed attempt also goes back to IDLE; once every host has failed in a
 * row the next attempt waits reconnect_delay_ms. One timer drives the
 * deadlines: the connect timeout (requested timeout / number of hosts) until
 * the handshake is done, then pings after a third of the negotiated timeout
 * of send idleness and a read timeout of two thirds (Java ClientCnxn).
 *
 * User callbacks are only ever called from libuv callbacks of this file
 * (never from inside an API call); failures noticed inside an API call
 * (a write error) are deferred to the timer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/jute.h"
#include "client/internal.h"

#define ZKC_MAX_PING_INTERVAL_MS 10000

/* ---- Queues and completion ------------------------------------------------------- */

void zkc_queue_push(zkc_queue_t *q, zkc_req_t *r)
{
    r->next = NULL;
    if (q->tail)
        q->tail->next = r;
    else
        q->head = r;
    q->tail = r;
    q->n++;
}

zkc_req_t *zkc_queue_pop(zkc_queue_t *q)
{
    zkc_req_t *r = q->head;
    if (!r)
        return NULL;
    q->head = r->next;
    if (!q->head)
        q->tail = NULL;
    q->n--;
    r->next = NULL;
    return r;
}

void zkc_req_free(zkc_req_t *r)
{
    if (!r)
        return;
    buf_free(&r->frame);
    free(r->wpath);
    free(r);
}

void zkc_deliver(zkc_t *zk, int32_t type, int32_t keeper_state, const char *path)
{
    if (type == ZKC_EV_NONE) {
        if (keeper_state == zk->last_event_state)
            return;
        zk->last_event_state = keeper_state;
    }
    if (!zk->watcher)
        return;
    zkc_event_t ev = {type, keeper_state, path};
    zk->watcher(zk, &ev, zk->watcher_ctx);
}

void zkc_deliver_state(zkc_t *zk, int32_t keeper_state)
{
    zkc_deliver(zk, ZKC_EV_NONE, keeper_state, NULL);
}

/* Apply the watch registration a reply carries (ZooKeeper.WatchRegistration). */
static void register_watch(zkc_t *zk, zkc_req_t *r, zkc_result_t *res)
{
    switch (r->wreg) {
    case ZKC_WREG_DATA:
        if (res->err == ZOK)
            zkc_watches_add(&zk->watches, ZKC_W_DATA, r->wpath);
        break;
    case ZKC_WREG_EXISTS:
        if (res->err == ZOK)
            zkc_watches_add(&zk->watches, ZKC_W_DATA, r->wpath);
        else if (res->err == ZNONODE)
            zkc_watches_add(&zk->watches, ZKC_W_EXIST, r->wpath);
        break;
    case ZKC_WREG_CHILD:
        if (res->err == ZOK)
            zkc_watches_add(&zk->watches, ZKC_W_CHILD, r->wpath);
        break;
    case ZKC_WREG_PERSISTENT:
        if (res->err == ZOK)
            zkc_watches_add(&zk->watches, ZKC_W_PERSISTENT, r->wpath);
        break;
    case ZKC_WREG_RECURSIVE:
        if (res->err == ZOK)
            zkc_watches_add(&zk->watches, ZKC_W_RECURSIVE, r->wpath);
        break;
    case ZKC_WREG_REMOVE: {
        /* ZKWatchManager.removeWatcher: nothing local -> NOWATCHER; remove
         * only if the server agreed (or -l); nothing removed -> NOWATCHER. */
        int32_t rc = res->err;
        if (!zkc_watches_contains(&zk->watches, r->wpath, r->rm_type)) {
            res->err = ZNOWATCHER;
        } else if (rc == ZOK || r->rm_local) {
            unsigned bits = zkc_watches_remove(&zk->watches, r->wpath, r->rm_type);
            if (!bits) {
                res->err = ZNOWATCHER;
            } else {
                int32_t st = (rc == ZSESSIONEXPIRED || rc == ZCONNECTIONLOSS)
                                 ? ZKC_KS_DISCONNECTED
                                 : ZKC_KS_SYNC_CONNECTED;
                if (bits & 1u)
                    zkc_deliver(zk, ZKC_EV_CHILD_WATCH_REMOVED, st, r->wpath);
                if (bits & 2u)
                    zkc_deliver(zk, ZKC_EV_DATA_WATCH_REMOVED, st, r->wpath);
                if (bits & 4u)
                    zkc_deliver(zk, ZKC_EV_PERSISTENT_WATCH_REMOVED, st, r->wpath);
            }
        } else {
            res->err = ZNOWATCHER;
        }
        break;
    }
    default:
        break;
    }
}

void zkc_complete(zkc_t *zk, zkc_req_t *r, zkc_result_t *res)
{
    res->op = r->op;
    register_watch(zk, r, res);
    if (r->cb)
        r->cb(zk, res, r->ctx);
    zkc_result_free(res);
    zkc_req_free(r);
}

void zkc_fail(zkc_t *zk, zkc_req_t *r, int32_t err)
{
    zkc_result_t res;
    memset(&res, 0, sizeof res);
    res.err = err;
    res.data_len = -1;
    zkc_complete(zk, r, &res);
}

static void fail_queue(zkc_t *zk, zkc_queue_t *q, int32_t err)
{
    /* Detach first: callbacks may queue new requests. */
    zkc_queue_t old = *q;
    memset(q, 0, sizeof *q);
    zkc_req_t *r;
    while ((r = zkc_queue_pop(&old)))
        zkc_fail(zk, r, err);
}

static void fail_all(zkc_t *zk, int32_t err)
{
    fail_queue(zk, &zk->pending, err);
    fail_queue(zk, &zk->auth_pending, err);
    fail_queue(zk, &zk->outgoing, err);
}

/* ---- Socket plumbing ------------------------------------------------------------- */

static void defer_drop(zkc_t *zk, const char *why);
static void attempt_failed(zkc_t *zk, const char *why);

typedef struct zkc_write {
    uv_write_t w;
    zkc_sock_t *sock;
    buf_t data;
} zkc_write_t;

static void sock_close_cb(uv_handle_t *h)
{
    free(h->data);
}

/* Let go of the current socket (if any); its memory goes with its close. */
static void drop_sock(zkc_t *zk)
{
    zkc_sock_t *s = zk->sock;
    if (!s)
        return;
    zk->sock = NULL;
    s->owner = NULL;
    if (!uv_is_closing((uv_handle_t *)&s->tcp))
        uv_close((uv_handle_t *)&s->tcp, sock_close_cb);
    buf_reset(&zk->rbuf);
    zk->rpos = 0;
}

static void write_cb(uv_write_t *w, int status)
{
    zkc_write_t *wr = (zkc_write_t *)w;
    zkc_sock_t *s = wr->sock;
    buf_free(&wr->data);
    free(wr);
    if (status < 0 && s->owner && s->owner->sock == s) {
        zkc_t *zk = s->owner;
        snprintf(zk->last_error, sizeof zk->last_error, "%.50s: write failed: %.80s",
                 zk->cur_host ? zk->cur_host : "?", uv_strerror(status));
        if (zk->phase == ZKC_P_CONNECTED)
            zkc_conn_lost(zk, ZCONNECTIONLOSS, zk->last_error);
        else
            attempt_failed(zk, zk->last_error);
    }
}

/* Write `data` (taken) on the current socket. Errors show up in write_cb or
 * as a closed socket; nothing is reported synchronously. */
static void send_bytes(zkc_t *zk, buf_t *data)
{
    if (!zk->sock || data->len == 0) {
        buf_free(data);
        return;
    }
    zkc_write_t *wr = xcalloc(1, sizeof *wr);
    wr->sock = zk->sock;
    wr->data = *data;
    buf_init(data);
    uv_buf_t b = uv_buf_init((char *)wr->data.data, (unsigned)wr->data.len);
    int rc = uv_write(&wr->w, (uv_stream_t *)&zk->sock->tcp, &b, 1, write_cb);
    if (rc < 0) {
        buf_free(&wr->data);
        free(wr);
        snprintf(zk->last_error, sizeof zk->last_error, "%.50s: write failed: %.80s",
                 zk->cur_host ? zk->cur_host : "?", uv_strerror(rc));
        defer_drop(zk, zk->last_error);
        return;
    }
    zk->last_send = uv_now(zk->loop);
}

static int32_t next_xid(zkc_t *zk)
{
    int32_t x = zk->next_xid;
    zk->next_xid = (x == INT32_MAX) ? 1 : x + 1;
    return x;
}

void zkc_conn_flush(zkc_t *zk)
{
    if (zk->phase != ZKC_P_CONNECTED || !zk->outgoing.head)
        return;
    buf_t out;
    buf_init(&out);
    zkc_req_t *r;
    while ((r = zkc_queue_pop(&zk->outgoing))) {
        if (r->op == ZOP_AUTH) { /* out of band: its reply comes with xid -4 */
            buf_append(&out, r->frame.data, r->frame.len);
            buf_free(&r->frame);
            zk->stats.auths_sent++;
            zkc_queue_push(&zk->auth_pending, r);
            continue;
        }
        r->xid = next_xid(zk);
        zkc_frame_set_xid(r->frame.data, r->xid);
        buf_append(&out, r->frame.data, r->frame.len);
        buf_free(&r->frame);
        zkc_queue_push(&zk->pending, r);
    }
    send_bytes(zk, &out);
}

void zkc_conn_submit(zkc_t *zk, zkc_req_t *r)
{
    zkc_queue_push(&zk->outgoing, r);
    zkc_conn_flush(zk);
}

typedef struct zkc_gai {
    uv_getaddrinfo_t req;
    zkc_t *owner;
} zkc_gai_t;

static void detach_gai(zkc_t *zk)
{
    if (zk->gai)
        zk->gai->owner = NULL;
    zk->gai = NULL;
    zk->gai_active = false;
}

/* ---- Attempts ---------------------------------------------------------------------- */

static uint64_t connect_timeout(const zkc_t *zk)
{
    int32_t t = zk->timeout_ms > 0 ? zk->timeout_ms : zk->timeout_req_ms;
    int64_t v = t / (zk->hosts.n > 0 ? zk->hosts.n : 1);
    return (uint64_t)(v < 100 ? 100 : v);
}

static void schedule_attempt(zkc_t *zk, uint64_t delay_ms)
{
    zk->phase = ZKC_P_IDLE;
    zk->attempt_deadline = uv_now(zk->loop) + delay_ms;
    zkc_conn_rearm(zk);
}

static bool session_alive(const zkc_t *zk)
{
    return !zk->closing && zk->state != ZKC_CLOSED && zk->state != ZKC_AUTH_FAILED;
}

static void attempt_failed(zkc_t *zk, const char *why)
{
    if (why != zk->last_error) {
        char copy[100];
        snprintf(copy, sizeof copy, "%s", why);
        snprintf(zk->last_error, sizeof zk->last_error, "%.50s: %s",
                 zk->cur_host ? zk->cur_host : "?", copy);
    }
    zk->stats.failed_tries++;
    zk->fails_in_row++;
    drop_sock(zk);
    detach_gai(zk);
    zk->phase = ZKC_P_IDLE;
    if (zk->state == ZKC_CONNECTED || zk->state == ZKC_CONNECTED_READONLY)
        zk->state = ZKC_CONNECTING;
    fail_all(zk, ZCONNECTIONLOSS);
    if (!session_alive(zk))
        return;
    zkc_deliver_state(zk, ZKC_KS_DISCONNECTED);
    bool round_done = zk->fails_in_row % zk->hosts.n == 0;
    schedule_attempt(zk, round_done ? (uint64_t)zk->reconnect_delay_ms : 0);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)suggested;
    zkc_sock_t *s = h->data;
    zkc_t *zk = s->owner;
    if (!zk) { /* detached: libuv reports UV_ENOBUFS, read_cb ignores it */
        *b = uv_buf_init(NULL, 0);
        return;
    }
    buf_reserve(&zk->rbuf, 65536);
    *b = uv_buf_init((char *)zk->rbuf.data + zk->rbuf.len, (unsigned)(zk->rbuf.cap - zk->rbuf.len));
}

static void handle_frame(zkc_t *zk, const uint8_t *p, size_t n);

static void read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *b)
{
    (void)b;
    zkc_sock_t *s = st->data;
    zkc_t *zk = s->owner;
    if (!zk || zk->sock != s)
        return;
    if (nread < 0) {
        char why[128];
        snprintf(why, sizeof why, "%s",
                 nread == UV_EOF ? "connection closed by the server" : uv_strerror((int)nread));
        if (zk->phase == ZKC_P_CONNECTED)
            zkc_conn_lost(zk, ZCONNECTIONLOSS, why);
        else
            attempt_failed(zk, why);
        return;
    }
    if (nread == 0)
        return;
    zk->rbuf.len += (size_t)nread;
    zk->last_recv = uv_now(zk->loop);
    while (zk->sock == s && zk->rbuf.len - zk->rpos >= 4) {
        int32_t len = be32_read(zk->rbuf.data + zk->rpos);
        if (len < 0 || (uint32_t)len > zk->max_frame) {
            char why[80];
            snprintf(why, sizeof why, "bad frame length %d", len);
            if (zk->phase == ZKC_P_CONNECTED)
                zkc_conn_lost(zk, ZCONNECTIONLOSS, why);
            else
                attempt_failed(zk, why);
            return;
        }
        if (zk->rbuf.len - zk->rpos - 4 < (size_t)len)
            break;
        size_t at = zk->rpos + 4;
        zk->rpos = at + (size_t)len;
        handle_frame(zk, zk->rbuf.data + at, (size_t)len);
    }
    if (zk->sock == s && zk->rpos) {
        buf_consume(&zk->rbuf, zk->rpos);
        zk->rpos = 0;
    }
}

static void connect_cb(uv_connect_t *req, int status)
{
    zkc_sock_t *s = req->handle->data;
    zkc_t *zk = s->owner;
    if (!zk || zk->sock != s)
        return;
    if (status < 0) {
        attempt_failed(zk, uv_strerror(status));
        return;
    }
    uv_tcp_nodelay(&s->tcp, 1);
    int rc = uv_read_start((uv_stream_t *)&s->tcp, alloc_cb, read_cb);
    if (rc < 0) {
        attempt_failed(zk, uv_strerror(rc));
        return;
    }
    zk->phase = ZKC_P_HANDSHAKE;
    buf_t b;
    buf_init(&b);
    zkc_encode_connect(&b, zk->last_zxid, zk->timeout_req_ms, zk->session_id, zk->passwd,
                       zk->read_only);
    send_bytes(zk, &b);
}

static void tcp_connect(zkc_t *zk, const struct sockaddr *addr)
{
    zkc_sock_t *s = xcalloc(1, sizeof *s);
    s->owner = zk;
    uv_tcp_init(zk->loop, &s->tcp);
    s->tcp.data = s;
    zk->sock = s;
    zk->phase = ZKC_P_TCP;
    int rc = uv_tcp_connect(&s->connect, &s->tcp, addr, connect_cb);
    if (rc < 0)
        attempt_failed(zk, uv_strerror(rc));
}

static void gai_cb(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    zkc_gai_t *g = (zkc_gai_t *)req;
    zkc_t *zk = g->owner;
    if (zk && zk->gai_active && zk->phase == ZKC_P_RESOLVING) {
        zk->gai_active = false;
        const struct addrinfo *pick = NULL;
        for (const struct addrinfo *a = res; a; a = a->ai_next)
            if (a->ai_family == AF_INET) {
                pick = a;
                break;
            }
        if (!pick)
            pick = res;
        if (status < 0 || !pick)
            attempt_failed(zk, status < 0 ? uv_strerror(status) : "no address");
        else
            tcp_connect(zk, pick->ai_addr);
    }
    if (zk && zk->gai == g)
        zk->gai = NULL;
    uv_freeaddrinfo(res);
    free(g);
}

static void start_attempt(zkc_t *zk)
{
    const zkc_host_t *h = &zk->hosts.v[zk->next_host];
    zk->next_host = (zk->next_host + 1) % zk->hosts.n;
    free(zk->cur_host);
    zk->cur_host = xstrndup(h->display, strlen(h->display));
    zk->attempt_deadline = uv_now(zk->loop) + connect_timeout(zk);
    zkc_conn_rearm(zk);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (uv_ip4_addr(h->name, h->port, (struct sockaddr_in *)&ss) == 0 ||
        uv_ip6_addr(h->name, h->port, (struct sockaddr_in6 *)&ss) == 0) {
        tcp_connect(zk, (struct sockaddr *)&ss);
        return;
    }
    zkc_gai_t *g = xcalloc(1, sizeof *g);
    g->owner = zk;
    char port[8];
    snprintf(port, sizeof port, "%u", h->port);
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    zk->phase = ZKC_P_RESOLVING;
    zk->gai = g;
    zk->gai_active = true;
    int rc = uv_getaddrinfo(zk->loop, &g->req, gai_cb, h->name, port, &hints);
    if (rc < 0) {
        zk->gai_active = false;
        zk->gai = NULL;
        free(g);
        attempt_failed(zk, uv_strerror(rc));
    }
}

void zkc_conn_start(zkc_t *zk)
{
    schedule_attempt(zk, 0);
}

void zkc_conn_lost(zkc_t *zk, int32_t err, const char *why)
{
    if (why && why != zk->last_error)
        snprintf(zk->last_error, sizeof zk->last_error, "%.50s: %.100s",
                 zk->cur_host ? zk->cur_host : "?", why);
    drop_sock(zk);
    detach_gai(zk);
    zk->drop_why = NULL;
    zk->phase = ZKC_P_IDLE;
    if (zk->state == ZKC_CONNECTED || zk->state == ZKC_CONNECTED_READONLY)
        zk->state = ZKC_CONNECTING;
    fail_all(zk, err);
    if (session_alive(zk)) {
        zkc_deliver_state(zk, ZKC_KS_DISCONNECTED);
        schedule_attempt(zk, 0);
    } else {
        zkc_conn_rearm(zk);
    }
}

/* Ask the timer to drop the connection (callbacks must not run inside the
 * API call that noticed the problem). */
static void defer_drop(zkc_t *zk, const char *why)
{
    zk->drop_why = why;
    if (zk->sock)
        uv_read_stop((uv_stream_t *)&zk->sock->tcp);
    if (!uv_is_closing((uv_handle_t *)&zk->timer))
        uv_timer_start(&zk->timer, zkc_timer_cb, 0, 0);
}

void zkc_drop_connection(zkc_t *zk)
{
    if (zk->phase == ZKC_P_IDLE)
        return;
    defer_drop(zk, "connection dropped by the client");
}

/* ---- Frames ------------------------------------------------------------------------ */

/* After a handshake: replay identities, then re-register watches. */
static void prime_session(zkc_t *zk)
{
    buf_t out;
    buf_init(&out);
    for (int i = 0; i < zk->n_auths; i++) {
        size_t at = zkc_frame_begin(&out, ZXID_AUTH, ZOP_AUTH);
        zkc_write_auth(&out, zk->auths[i].scheme, zk->auths[i].data, zk->auths[i].len);
        zkc_frame_end(&out, at);
        zk->stats.auths_sent++;
        /* Its reply pops auth_pending: the first send carries the
         * zkc_add_auth request (callback), replays an empty one. */
        zkc_req_t *r = zk->auths[i].waiting;
        zk->auths[i].waiting = NULL;
        if (!r) {
            r = xcalloc(1, sizeof *r);
            r->op = ZOP_AUTH;
            r->internal = true;
        }
        zkc_queue_push(&zk->auth_pending, r);
    }
    if (!zkc_watches_empty(&zk->watches)) {
        bool v2 = zkc_watches_count(&zk->watches, ZKC_W_PERSISTENT) ||
                  zkc_watches_count(&zk->watches, ZKC_W_RECURSIVE);
        const char **lists[5] = {0};
        int32_t n[5] = {0};
        static const int kinds[5] = {ZKC_W_DATA, ZKC_W_EXIST, ZKC_W_CHILD, ZKC_W_PERSISTENT,
                                     ZKC_W_RECURSIVE};
        char **server[5] = {0};
        for (int l = 0; l < 5; l++) {
            n[l] = (int32_t)zkc_watches_list(&zk->watches, kinds[l], &lists[l]);
            server[l] = n[l] ? xcalloc((size_t)n[l], sizeof(char *)) : NULL;
            for (int32_t i = 0; i < n[l]; i++)
                server[l][i] = zkc_server_path(zk, lists[l][i]);
        }
        size_t at =
            zkc_frame_begin(&out, ZXID_SET_WATCHES, v2 ? ZOP_SET_WATCHES2 : ZOP_SET_WATCHES);
        zkc_write_set_watches(&out, v2, zk->last_zxid, (char *const **)server, n);
        zkc_frame_end(&out, at);
        zk->stats.set_watches_sent++;
        for (int l = 0; l < 5; l++) {
            for (int32_t i = 0; i < n[l]; i++)
                free(server[l][i]);
            free(server[l]);
            free((void *)lists[l]);
        }
    }
    send_bytes(zk, &out);
}

static void on_connect_response(zkc_t *zk, const uint8_t *p, size_t n)
{
    zkc_connect_response_t cr;
    if (!zkc_decode_connect_response(p, n, &cr)) {
        attempt_failed(zk, "malformed ConnectResponse");
        return;
    }
    if (cr.timeout_ms <= 0) {
        /* The server does not know the session any more. */
        snprintf(zk->last_error, sizeof zk->last_error, "session 0x%llx expired",
                 (unsigned long long)zk->session_id);
        drop_sock(zk);
        zk->phase = ZKC_P_IDLE;
        zk->state = ZKC_CLOSED;
        fail_all(zk, ZSESSIONEXPIRED);
        zkc_deliver_state(zk, ZKC_KS_EXPIRED);
        zkc_conn_rearm(zk);
        return;
    }
    zk->timeout_ms = cr.timeout_ms;
    zk->session_id = cr.session_id;
    memcpy(zk->passwd, cr.passwd, ZKC_PASSWD_LEN);
    zk->phase = ZKC_P_CONNECTED;
    zk->state = cr.read_only ? ZKC_CONNECTED_READONLY : ZKC_CONNECTED;
    zk->fails_in_row = 0;
    zk->stats.connects++;
    zk->last_error[0] = 0;
    zk->last_send = zk->last_recv = uv_now(zk->loop);
    prime_session(zk);
    zkc_conn_rearm(zk);
    zkc_deliver_state(zk, cr.read_only ? ZKC_KS_CONNECTED_READONLY : ZKC_KS_SYNC_CONNECTED);
    zkc_conn_flush(zk);
}

static void on_auth_failed(zkc_t *zk)
{
    snprintf(zk->last_error, sizeof zk->last_error, "authentication failed");
    drop_sock(zk);
    zk->phase = ZKC_P_IDLE;
    zk->state = ZKC_AUTH_FAILED;
    zkc_deliver_state(zk, ZKC_KS_AUTH_FAILED);
    fail_all(zk, ZAUTHFAILED);
    zkc_conn_rearm(zk);
}

static void on_notification(zkc_t *zk, const uint8_t *p, size_t n)
{
    int32_t type, state;
    char *spath = NULL;
    if (!zkc_decode_event(p, n, &type, &state, &spath)) {
        free(spath);
        zkc_conn_lost(zk, ZCONNECTIONLOSS, "malformed notification");
        return;
    }
    char *path = spath ? zkc_client_path(zk, spath) : NULL;
    free(spath);
    if (path && zkc_watches_trigger(&zk->watches, type, path))
        zkc_deliver(zk, type, state, path);
    free(path);
}

static void on_reply(zkc_t *zk, const zkc_reply_header_t *h, const uint8_t *body, size_t n)
{
    zkc_req_t *r = zk->pending.head;
    if (!r || r->xid != h->xid) {
        char why[96];
        snprintf(why, sizeof why, "Xid out of order. Got Xid %d but expected %d", h->xid,
                 r ? r->xid : 0);
        zkc_conn_lost(zk, ZCONNECTIONLOSS, why);
        return;
    }
    zkc_queue_pop(&zk->pending);
    if (h->zxid > 0)
        zk->last_zxid = h->zxid;
    zkc_result_t res;
    memset(&res, 0, sizeof res);
    res.op = r->op;
    res.err = h->err;
    res.zxid = h->zxid;
    res.data_len = -1;
    if (h->err == ZOK && zkc_decode_reply_body(r->op, body, n, &res) != ZOK) {
        zkc_result_free(&res);
        memset(&res, 0, sizeof res);
        res.err = ZMARSHALLINGERROR;
        res.data_len = -1;
    }
    /* Server paths back to client paths. */
    if (res.path && (r->op == ZOP_CREATE || r->op == ZOP_CREATE2 || r->op == ZOP_CREATE_CONTAINER ||
                     r->op == ZOP_CREATE_TTL || r->op == ZOP_SYNC)) {
        char *cp = zkc_client_path(zk, res.path);
        free(res.path);
        res.path = cp;
    }
    for (int32_t i = 0; i < res.n_ops; i++)
        if (res.ops[i].path) {
            char *cp = zkc_client_path(zk, res.ops[i].path);
            free(res.ops[i].path);
            res.ops[i].path = cp;
        }
    bool was_close = r->op == ZOP_CLOSE_SESSION;
    zkc_complete(zk, r, &res);
    if (was_close && zk->closing)
        zkc_finish_close(zk);
}

static void handle_frame(zkc_t *zk, const uint8_t *p, size_t n)
{
    if (zk->phase == ZKC_P_HANDSHAKE) {
        on_connect_response(zk, p, n);
        return;
    }
    zkc_reply_header_t h;
    if (!zkc_decode_reply_header(p, n, &h)) {
        zkc_conn_lost(zk, ZCONNECTIONLOSS, "short reply header");
        return;
    }
    const uint8_t *body = p + 16;
    size_t blen = n - 16;
    switch (h.xid) {
    case ZXID_NOTIFICATION:
        on_notification(zk, body, blen);
        return;
    case ZXID_PING:
        return;
    case ZXID_SET_WATCHES:
        return;
    case ZXID_AUTH: {
        zkc_req_t *r = zkc_queue_pop(&zk->auth_pending);
        if (h.err == ZAUTHFAILED) {
            if (r)
                zkc_fail(zk, r, ZAUTHFAILED);
            on_auth_failed(zk);
            return;
        }
        if (r)
            zkc_fail(zk, r, h.err); /* "fail" with ZOK completes it */
        return;
    }
    default:
        on_reply(zk, &h, body, blen);
        return;
    }
}

/* ---- Timer ---------------------------------------------------------------------------- */

static void send_ping(zkc_t *zk)
{
    buf_t b;
    buf_init(&b);
    size_t at = zkc_frame_begin(&b, ZXID_PING, ZOP_PING);
    zkc_frame_end(&b, at);
    zk->stats.pings_sent++;
    send_bytes(zk, &b);
}

static uint64_t ping_interval(const zkc_t *zk)
{
    uint64_t v = (uint64_t)zk->timeout_ms / 3;
    if (v > ZKC_MAX_PING_INTERVAL_MS)
        v = ZKC_MAX_PING_INTERVAL_MS;
    return v ? v : 1;
}

static uint64_t read_timeout(const zkc_t *zk)
{
    uint64_t v = (uint64_t)zk->timeout_ms * 2 / 3;
    return v ? v : 1;
}

void zkc_conn_rearm(zkc_t *zk)
{
    if (zk->free_pending || uv_is_closing((uv_handle_t *)&zk->timer))
        return;
    uint64_t now = uv_now(zk->loop);
    uint64_t next = UINT64_MAX;
    if (zk->closing) {
        next = zk->close_deadline;
    } else if (zk->phase == ZKC_P_CONNECTED) {
        uint64_t a = zk->last_send + ping_interval(zk);
        uint64_t b = zk->last_recv + read_timeout(zk);
        next = a < b ? a : b;
    } else if (zk->phase != ZKC_P_IDLE || session_alive(zk)) {
        next = zk->attempt_deadline;
    }
    if (zk->state == ZKC_CLOSED || zk->state == ZKC_AUTH_FAILED) {
        if (!zk->closing) {
            uv_timer_stop(&zk->timer);
            return;
        }
    }
    if (next == UINT64_MAX) {
        uv_timer_stop(&zk->timer);
        return;
    }
    uv_timer_start(&zk->timer, zkc_timer_cb, next > now ? next - now : 0, 0);
}

void zkc_timer_cb(uv_timer_t *t)
{
    zkc_t *zk = t->data;
    uint64_t now = uv_now(zk->loop);
    if (zk->closing) {
        if (now >= zk->close_deadline)
            zkc_finish_close(zk);
        else
            zkc_conn_rearm(zk);
        return;
    }
    if (zk->drop_why) {
        const char *why = zk->drop_why;
        zk->drop_why = NULL;
        if (zk->phase == ZKC_P_CONNECTED)
            zkc_conn_lost(zk, ZCONNECTIONLOSS, why);
        else if (zk->phase != ZKC_P_IDLE)
            attempt_failed(zk, why);
        zkc_conn_rearm(zk);
        return;
    }
    switch (zk->phase) {
    case ZKC_P_IDLE:
        if (session_alive(zk) && now >= zk->attempt_deadline)
            start_attempt(zk);
        break;
    case ZKC_P_RESOLVING:
    case ZKC_P_TCP:
    case ZKC_P_HANDSHAKE:
        if (now >= zk->attempt_deadline) {
            detach_gai(zk);
            attempt_failed(zk, "connection timed out");
            return;
        }
        break;
    case ZKC_P_CONNECTED:
        if (now - zk->last_recv >= read_timeout(zk)) {
            char why[120];
            snprintf(why, sizeof why,
                     "Client session timed out, have not heard from server in %llums",
                     (unsigned long long)(now - zk->last_recv));
            zkc_conn_lost(zk, ZCONNECTIONLOSS, why);
            return;
        }
        if (now - zk->last_send >= ping_interval(zk))
            send_ping(zk);
        break;
    }
    zkc_conn_rearm(zk);
}
