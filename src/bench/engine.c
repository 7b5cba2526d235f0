/* engine: the epoll loop, connections, framing, handshake, the in-flight
 * ring and the measured window (see engine.h for the model). */
#include "bench/engine.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "proto/zk.h"

#define ENG_HOUSEKEEPING_NS (50LL * 1000000LL)
#define ENG_MAX_LOST_LOGGED 10
/* Local pseudo error codes (never sent by a server). */
#define ENG_ERR_BADXID (-9001)
#define ENG_ERR_PROTOCOL (-9002)

volatile sig_atomic_t eng_interrupted;

int64_t eng_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

uint64_t eng_rand(eng_t *e)
{
    /* xorshift64* */
    uint64_t x = e->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    e->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static void set_fatal(eng_t *e, const char *fmt, const char *a, const char *b)
{
    if (e->fatal)
        return;
    e->fatal = true;
    snprintf(e->fatal_msg, sizeof(e->fatal_msg), fmt, a, b);
}

static int resolve(const bench_server_t *s, struct sockaddr_in *out, char *msg, size_t msglen)
{
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(s->host, NULL, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(msg, msglen, "cannot resolve '%s': %s", s->host, gai_strerror(rc));
        return -1;
    }
    memcpy(out, res->ai_addr, sizeof(*out));
    out->sin_port = htons(s->port);
    freeaddrinfo(res);
    return 0;
}

int eng_init(eng_t *e, const bench_opts_t *o, stats_t *stats, int nconns, size_t max_request_bytes)
{
    memset(e, 0, sizeof(*e));
    e->opts = o;
    e->stats = stats;
    e->rng = o->seed * 0x9E3779B97F4A7C15ULL + 0x1234567ULL;
    if (e->rng == 0)
        e->rng = 1;
    e->max_request_bytes = max_request_bytes;
    e->now_ns = eng_now_ns();
    for (int i = 0; i < o->nservers; i++)
        if (resolve(&o->servers[i], &e->addrs[i], e->fatal_msg, sizeof(e->fatal_msg)))
            return -1;
    e->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (e->epfd < 0) {
        snprintf(e->fatal_msg, sizeof(e->fatal_msg), "epoll_create1: %s", strerror(errno));
        return -1;
    }
    uint32_t ring_cap = (uint32_t)(o->depth > ENG_SETUP_DEPTH ? o->depth : ENG_SETUP_DEPTH);
    e->nconns = nconns;
    e->conns = xcalloc((size_t)nconns, sizeof(eng_conn_t));
    e->dirty = xcalloc((size_t)nconns, sizeof(int));
    for (int i = 0; i < nconns; i++) {
        eng_conn_t *c = &e->conns[i];
        c->eng = e;
        c->index = i;
        c->fd = -1;
        c->server = i % o->nservers;
        c->out_limit = (size_t)ring_cap * max_request_bytes + 4096;
        buf_init(&c->out);
        buf_reserve(&c->out, c->out_limit);
        c->in_cap = ENG_IN_INITIAL;
        c->in = xmalloc(c->in_cap);
        c->ring_cap = ring_cap;
        c->ring = xcalloc(ring_cap, sizeof(eng_req_t));
    }
    return 0;
}

void eng_free(eng_t *e)
{
    for (int i = 0; i < e->nconns; i++) {
        eng_conn_t *c = &e->conns[i];
        if (c->fd >= 0)
            close(c->fd);
        buf_free(&c->out);
        free(c->in);
        free(c->ring);
    }
    free(e->conns);
    free(e->dirty);
    if (e->epfd > 0)
        close(e->epfd);
    memset(e, 0, sizeof(*e));
}

static const char *conn_peer(const eng_t *e, const eng_conn_t *c, char *buf, size_t n)
{
    const bench_server_t *s = &e->opts->servers[c->server];
    snprintf(buf, n, "%s:%u", s->host, s->port);
    return buf;
}

static void mark_dirty(eng_t *e, eng_conn_t *c)
{
    if (!c->dirty) {
        c->dirty = true;
        e->dirty[e->ndirty++] = c->index;
    }
}

static void epoll_set(eng_t *e, eng_conn_t *c, bool want_out, int op)
{
    struct epoll_event ev = {.events = EPOLLIN | (want_out ? EPOLLOUT : 0)};
    ev.data.u64 = ((uint64_t)c->gen << 32) | (uint32_t)c->index;
    if (epoll_ctl(e->epfd, op, c->fd, &ev) != 0)
        set_fatal(e, "epoll_ctl: %s%s", strerror(errno), "");
    c->epoll_out = want_out;
}

/* End the measured window: no new requests, wait for what is in flight. */
static void window_close(eng_t *e)
{
    e->measuring = false;
    e->draining = true;
    e->stats->end_ns = e->now_ns;
    stats_cpu_now(&e->stats->cpu_user_s, &e->stats->cpu_sys_s);
    e->stats->server_cpu_end_s = e->opts->server_pid ? stats_proc_cpu_s(e->opts->server_pid) : -1;
}

void eng_record(eng_t *e, stat_kind_t kind, int64_t latency_ns, int32_t err)
{
    if (!e->measuring)
        return;
    stats_record(e->stats, kind, latency_ns, err);
    if (e->opts->ops && stats_ops(e->stats) >= e->opts->ops) {
        window_close(e);
    }
}

void eng_close(eng_t *e, eng_conn_t *c, bool expected)
{
    if (c->state == CS_CLOSED)
        return;
    if (!expected && c->count && !e->draining && e->lost_logged < ENG_MAX_LOST_LOGGED) {
        char peer[300];
        fprintf(stderr, "corral-bench: connection %d to %s lost with %u requests in flight\n",
                c->index, conn_peer(e, c, peer, sizeof(peer)), c->count);
        e->lost_logged++;
    }
    for (uint32_t i = 0; i < c->count; i++) {
        const eng_req_t *r = &c->ring[(c->head + i) % c->ring_cap];
        if (!expected)
            eng_record(e, (stat_kind_t)r->kind, 0, ZCONNECTIONLOSS);
    }
    e->inflight -= c->count;
    c->count = c->head = c->unstamped = 0;
    if (c->state == CS_READY)
        e->nready--;
    else
        e->nconnecting--;
    close(c->fd); /* also takes it out of the epoll set: no EPOLL_CTL_DEL */
    c->fd = -1;
    c->state = CS_CLOSED;
    c->close_deadline_ns = 0;
    c->gen++;
    c->in_len = 0;
    buf_reset(&c->out);
    if (!expected && !e->draining)
        c->reconnect_at_ns = e->now_ns + ENG_RECONNECT_DELAY_NS;
    if (e->phase && e->phase->on_closed)
        e->phase->on_closed(e, c, expected);
}

void eng_await_close(eng_t *e, eng_conn_t *c, int timeout_ms)
{
    c->close_deadline_ns = e->now_ns + (int64_t)timeout_ms * 1000000LL;
}

static void write_connect_request(eng_conn_t *c, int32_t timeout_ms)
{
    static const uint8_t zero_passwd[16];
    size_t start = c->out.len;
    jw_int(&c->out, 0);
    jw_int(&c->out, 0);  /* protocolVersion */
    jw_long(&c->out, 0); /* lastZxidSeen */
    jw_int(&c->out, timeout_ms);
    jw_long(&c->out, 0); /* sessionId: new session */
    jw_buffer(&c->out, zero_passwd, sizeof(zero_passwd));
    jw_bool(&c->out, false); /* readOnly */
    jw_patch_int(&c->out, start, (int32_t)(c->out.len - start - 4));
}

static void connect_failed(eng_t *e, eng_conn_t *c, int err)
{
    char peer[300];
    if (e->lost_logged < ENG_MAX_LOST_LOGGED) {
        fprintf(stderr, "corral-bench: connect to %s: %s\n", conn_peer(e, c, peer, sizeof(peer)),
                strerror(err));
        e->lost_logged++;
    }
    eng_close(e, c, false);
}

void eng_connect(eng_t *e, eng_conn_t *c)
{
    if (c->state != CS_CLOSED)
        return;
    c->reconnect_at_ns = 0;
    c->close_deadline_ns = 0;
    c->gen++;
    c->count = c->head = c->unstamped = 0;
    c->in_len = 0;
    buf_reset(&c->out);
    c->next_xid = 1;
    c->session_id = 0;
    c->w_version = 0;
    c->w_counter = 0;
    e->now_ns = eng_now_ns();
    c->connect_start_ns = e->now_ns;
    c->w_start_ns = e->now_ns;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        set_fatal(e, "socket: %s%s", strerror(errno), "");
        return;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->state = CS_CONNECTING;
    e->nconnecting++;
    write_connect_request(c, e->opts->session_timeout_ms);
    int rc = connect(c->fd, (const struct sockaddr *)&e->addrs[c->server], sizeof(e->addrs[0]));
    if (rc != 0 && errno != EINPROGRESS) {
        char peer[300];
        if (e->lost_logged < ENG_MAX_LOST_LOGGED) {
            fprintf(stderr, "corral-bench: connect to %s: %s\n",
                    conn_peer(e, c, peer, sizeof(peer)), strerror(errno));
            e->lost_logged++;
        }
        epoll_set(e, c, true, EPOLL_CTL_ADD);
        eng_close(e, c, false);
        return;
    }
    /* On loopback the handshake is usually done by now: send the
     * ConnectRequest at once and wait for input only. Still connecting
     * (EAGAIN), wait to be writable as usual. */
    ssize_t n = write(c->fd, c->out.data, c->out.len);
    if (n == (ssize_t)c->out.len) {
        buf_reset(&c->out);
        c->last_send_ns = e->now_ns;
        c->state = CS_HANDSHAKE;
        epoll_set(e, c, false, EPOLL_CTL_ADD);
        return;
    }
    if (n > 0)
        buf_consume(&c->out, (size_t)n);
    epoll_set(e, c, true, EPOLL_CTL_ADD);
    if (n > 0)
        c->state = CS_HANDSHAKE; /* connected; flush_conn writes the rest */
    else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        connect_failed(e, c, errno);
}

size_t eng_req_begin(eng_conn_t *c, int32_t op, uint8_t kind, uint32_t aux)
{
    eng_t *e = c->eng;
    if (c->count >= c->ring_cap || c->out.len + e->max_request_bytes > c->out_limit) {
        fprintf(stderr, "corral-bench: internal error: request past the ring or buffer limit\n");
        abort();
    }
    eng_req_t *r = &c->ring[(c->head + c->count) % c->ring_cap];
    int32_t xid = c->next_xid;
    c->next_xid = c->next_xid == INT32_MAX ? 1 : c->next_xid + 1;
    *r = (eng_req_t){.sent_ns = 0, .xid = xid, .op = (int16_t)op, .kind = kind, .aux = aux};
    c->count++;
    c->unstamped++;
    e->inflight++;
    size_t start = c->out.len;
    jw_int(&c->out, 0);
    jw_int(&c->out, xid);
    jw_int(&c->out, op);
    return start;
}

void eng_req_end(eng_conn_t *c, size_t start)
{
    size_t len = c->out.len - start - 4;
    if (len + 4 > c->eng->max_request_bytes) {
        fprintf(stderr, "corral-bench: internal error: request of %zu bytes over the %zu bound\n",
                len + 4, c->eng->max_request_bytes);
        abort();
    }
    jw_patch_int(&c->out, start, (int32_t)len);
    mark_dirty(c->eng, c);
}

void eng_ping(eng_conn_t *c)
{
    jw_int(&c->out, 8);
    jw_int(&c->out, ZXID_PING);
    jw_int(&c->out, ZOP_PING);
    mark_dirty(c->eng, c);
}

/* Write what is queued: one write() per connection per loop turn. */
static void flush_conn(eng_t *e, eng_conn_t *c)
{
    if (c->fd < 0 || c->state == CS_CONNECTING || c->out.len == 0)
        return;
    int64_t now = eng_now_ns();
    for (uint32_t i = c->count - c->unstamped; i < c->count; i++)
        c->ring[(c->head + i) % c->ring_cap].sent_ns = now;
    c->unstamped = 0;
    c->last_send_ns = now;
    ssize_t n = write(c->fd, c->out.data, c->out.len);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            n = 0;
        else {
            eng_close(e, c, false);
            return;
        }
    }
    if ((size_t)n == c->out.len)
        buf_reset(&c->out);
    else
        buf_consume(&c->out, (size_t)n);
    bool want = c->out.len > 0;
    if (want != c->epoll_out)
        epoll_set(e, c, want, EPOLL_CTL_MOD);
}

static void flush_dirty(eng_t *e)
{
    /* Callbacks of a flush may not add to the list (flush never calls them
     * except through eng_close, whose callbacks only reconnect later). */
    for (int i = 0; i < e->ndirty; i++) {
        eng_conn_t *c = &e->conns[e->dirty[i]];
        c->dirty = false;
        flush_conn(e, c);
    }
    e->ndirty = 0;
}

static void conn_ready(eng_t *e, eng_conn_t *c, const uint8_t *p, size_t n)
{
    jute_reader_t r;
    jr_init(&r, p, n);
    (void)jr_int(&r); /* protocolVersion */
    int32_t timeout_ms = jr_int(&r);
    int64_t sid = jr_long(&r);
    (void)jr_buffer(&r);
    if (r.err) {
        eng_record(e, SK_CONNECT, 0, ENG_ERR_PROTOCOL);
        eng_close(e, c, true);
        c->reconnect_at_ns = e->draining ? 0 : e->now_ns + ENG_RECONNECT_DELAY_NS;
        return;
    }
    if (timeout_ms <= 0) {
        eng_record(e, SK_CONNECT, 0, ZSESSIONEXPIRED);
        eng_close(e, c, true);
        c->reconnect_at_ns = e->draining ? 0 : e->now_ns + ENG_RECONNECT_DELAY_NS;
        return;
    }
    c->session_id = sid;
    c->timeout_ms = timeout_ms;
    c->state = CS_READY;
    e->nconnecting--;
    e->nready++;
    eng_record(e, SK_CONNECT, e->now_ns - c->connect_start_ns, 0);
    if (e->phase && e->phase->on_ready)
        e->phase->on_ready(e, c);
}

static void conn_frame(eng_t *e, eng_conn_t *c, const uint8_t *p, size_t n)
{
    if (c->state == CS_HANDSHAKE) {
        conn_ready(e, c, p, n);
        return;
    }
    jute_reader_t r;
    jr_init(&r, p, n);
    int32_t xid = jr_int(&r);
    (void)jr_long(&r); /* zxid */
    int32_t err = jr_int(&r);
    if (r.err) {
        eng_record(e, SK_SETUP, 0, ENG_ERR_PROTOCOL);
        eng_close(e, c, false);
        return;
    }
    if (xid == ZXID_NOTIFICATION) {
        int32_t type = jr_int(&r);
        (void)jr_int(&r); /* state */
        jstr_t path = jr_string(&r);
        if (!r.err && e->phase && e->phase->on_notify)
            e->phase->on_notify(e, c, type, path);
        return;
    }
    if (xid == ZXID_PING)
        return;
    if (c->count == 0 || c->ring[c->head].xid != xid) {
        char peer[300];
        fprintf(stderr, "corral-bench: %s answered xid %d, expected %d: closing the connection\n",
                conn_peer(e, c, peer, sizeof(peer)), xid, c->count ? c->ring[c->head].xid : 0);
        eng_record(e, c->count ? (stat_kind_t)c->ring[c->head].kind : SK_SETUP, 0, ENG_ERR_BADXID);
        eng_close(e, c, false);
        return;
    }
    eng_req_t req = c->ring[c->head];
    c->head = (c->head + 1) % c->ring_cap;
    c->count--;
    e->inflight--;
    int32_t rec_err = err;
    if (e->phase && e->phase->on_reply)
        rec_err = e->phase->on_reply(e, c, &req, err, &r);
    eng_record(e, (stat_kind_t)req.kind, e->now_ns - req.sent_ns, rec_err);
}

static void conn_read(eng_t *e, eng_conn_t *c)
{
    ssize_t n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return;
        eng_close(e, c, false);
        return;
    }
    if (n == 0) {
        eng_close(e, c, c->close_deadline_ns != 0);
        return;
    }
    e->now_ns = eng_now_ns();
    c->in_len += (size_t)n;
    uint32_t gen = c->gen;
    size_t pos = 0;
    while (c->in_len - pos >= 4) {
        int32_t len = be32_read(c->in + pos);
        if (len < 0 || (uint32_t)len > ENG_MAX_FRAME) {
            char peer[300];
            fprintf(stderr, "corral-bench: %s sent a frame of %d bytes: closing\n",
                    conn_peer(e, c, peer, sizeof(peer)), len);
            eng_close(e, c, false);
            return;
        }
        if (c->in_len - pos < 4 + (size_t)len)
            break;
        conn_frame(e, c, c->in + pos + 4, (size_t)len);
        if (c->gen != gen)
            return; /* closed (and maybe reconnected) by a callback */
        pos += 4 + (size_t)len;
    }
    if (pos) {
        memmove(c->in, c->in + pos, c->in_len - pos);
        c->in_len -= pos;
    }
    if (c->in_len >= 4) {
        size_t need = 4 + (size_t)be32_read(c->in);
        if (need > c->in_cap) {
            c->in = xrealloc(c->in, need);
            c->in_cap = need;
        }
    }
}

static void conn_connected(eng_t *e, eng_conn_t *c)
{
    int soerr = 0;
    socklen_t len = sizeof(soerr);
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
    if (soerr) {
        connect_failed(e, c, soerr);
        return;
    }
    c->state = CS_HANDSHAKE;
    flush_conn(e, c);
}

static void housekeeping(eng_t *e)
{
    e->next_housekeeping_ns = e->now_ns + ENG_HOUSEKEEPING_NS;
    for (int i = 0; i < e->nconns; i++) {
        eng_conn_t *c = &e->conns[i];
        if (c->state == CS_CLOSED && c->reconnect_at_ns && e->now_ns >= c->reconnect_at_ns &&
            !e->draining)
            eng_connect(e, c);
        else if (c->close_deadline_ns && e->now_ns >= c->close_deadline_ns)
            eng_close(e, c, true);
        else if (c->state == CS_READY && c->count == 0 && c->out.len == 0 &&
                 e->now_ns - c->last_send_ns > (int64_t)c->timeout_ms * 1000000LL / 3)
            eng_ping(c);
    }
}

/* One epoll wait and everything it triggers. */
static void eng_step(eng_t *e, int timeout_ms)
{
    struct epoll_event evs[ENG_MAX_EVENTS];
    int n = epoll_wait(e->epfd, evs, ENG_MAX_EVENTS, timeout_ms);
    e->now_ns = eng_now_ns();
    if (n < 0 && errno != EINTR) {
        set_fatal(e, "epoll_wait: %s%s", strerror(errno), "");
        return;
    }
    for (int i = 0; i < n; i++) {
        uint32_t idx = (uint32_t)evs[i].data.u64;
        uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
        eng_conn_t *c = &e->conns[idx];
        if (c->gen != gen || c->state == CS_CLOSED)
            continue;
        uint32_t ev = evs[i].events;
        if (c->state == CS_CONNECTING) {
            if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))
                conn_connected(e, c);
            continue;
        }
        if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP))
            conn_read(e, c);
        if (c->gen == gen && c->state != CS_CLOSED && (ev & EPOLLOUT))
            flush_conn(e, c);
    }
    flush_dirty(e);
    if (e->now_ns >= e->next_housekeeping_ns) {
        housekeeping(e);
        flush_dirty(e);
    }
}

static void phase_start(eng_t *e, const eng_phase_t *ph)
{
    e->phase = ph;
    e->now_ns = eng_now_ns();
    e->phase_start_ns = e->now_ns;
    for (int i = 0; i < e->nconns && !e->fatal; i++) {
        eng_conn_t *c = &e->conns[i];
        if (c->state == CS_READY && ph->on_ready)
            ph->on_ready(e, c);
    }
    flush_dirty(e);
}

static int ms_until(int64_t now_ns, int64_t t_ns, int cap_ms)
{
    if (t_ns <= now_ns)
        return 0;
    int64_t ms = (t_ns - now_ns + 999999) / 1000000;
    return ms < cap_ms ? (int)ms : cap_ms;
}

int eng_run(eng_t *e, const eng_phase_t *ph, int64_t deadline_ns)
{
    phase_start(e, ph);
    while (!e->fatal) {
        if (ph->done && ph->done(e))
            return 0;
        if (deadline_ns && e->now_ns >= deadline_ns)
            return 1;
        int timeout = deadline_ns ? ms_until(e->now_ns, deadline_ns, 100) : 100;
        eng_step(e, timeout);
    }
    return -1;
}

static bool awaiting_close(const eng_t *e)
{
    for (int i = 0; i < e->nconns; i++)
        if (e->conns[i].close_deadline_ns)
            return true;
    return false;
}

static void window_open(eng_t *e)
{
    stats_reset(e->stats);
    e->stats->start_ns = e->now_ns;
    stats_cpu_now(&e->stats->cpu_start_user_s, &e->stats->cpu_start_sys_s);
    e->stats->server_cpu_start_s = e->opts->server_pid ? stats_proc_cpu_s(e->opts->server_pid) : -1;
    e->measuring = true;
}

int eng_measure(eng_t *e, const eng_phase_t *ph)
{
    const bench_opts_t *o = e->opts;
    e->draining = false;
    e->measuring = false;
    e->now_ns = eng_now_ns();
    int64_t warm_end = e->now_ns + (int64_t)(o->warmup_s * 1e9);
    if (o->warmup_s <= 0)
        window_open(e);
    phase_start(e, ph);
    int64_t next_progress = e->now_ns + 1000000000LL;
    int64_t drain_deadline = 0;
    int64_t duration_ns = (int64_t)(o->duration_s * 1e9);
    while (!e->fatal) {
        if (!e->measuring && !e->draining && (e->now_ns >= warm_end || eng_interrupted)) {
            window_open(e);
            next_progress = e->now_ns + 1000000000LL;
        }
        if (e->measuring &&
            ((duration_ns && e->now_ns - e->stats->start_ns >= duration_ns) || eng_interrupted)) {
            window_close(e);
        }
        if (e->draining) {
            if (!drain_deadline)
                drain_deadline = e->now_ns + ENG_DRAIN_TIMEOUT_NS;
            if (e->inflight == 0 && e->nconnecting == 0 && !awaiting_close(e)) {
                e->stats->drained = true;
                break;
            }
            if (e->now_ns >= drain_deadline) {
                fprintf(stderr,
                        "corral-bench: %lld requests still unanswered %llds after the "
                        "end of the run\n",
                        (long long)e->inflight, ENG_DRAIN_TIMEOUT_NS / 1000000000LL);
                break;
            }
        }
        if (e->measuring && e->now_ns >= next_progress) {
            if (e->progress)
                e->progress(e, (double)(e->now_ns - e->stats->start_ns) / 1e9);
            hist_reset(&e->stats->interval);
            next_progress += 1000000000LL;
        }
        int timeout = 100;
        if (e->measuring) {
            timeout = ms_until(e->now_ns, next_progress, timeout);
            if (duration_ns)
                timeout = ms_until(e->now_ns, e->stats->start_ns + duration_ns, timeout);
        } else if (!e->draining) {
            timeout = ms_until(e->now_ns, warm_end, timeout);
        }
        eng_step(e, timeout);
    }
    e->measuring = false;
    e->draining = false;
    return e->fatal ? -1 : 0;
}

/* --- connecting everything ------------------------------------------- */

static void connect_all_closed(eng_t *e, eng_conn_t *c, bool expected)
{
    char peer[300];
    (void)expected;
    set_fatal(e, "could not connect to %s%s (is the server running?)",
              conn_peer(e, c, peer, sizeof(peer)), "");
}

static bool connect_all_done(eng_t *e)
{
    return e->nready == e->nconns;
}

int eng_connect_all(eng_t *e, int timeout_s)
{
    static const eng_phase_t ph = {
        .name = "connect", .on_closed = connect_all_closed, .done = connect_all_done};
    e->phase = &ph;
    for (int i = 0; i < e->nconns && !e->fatal; i++)
        if (e->conns[i].state == CS_CLOSED)
            eng_connect(e, &e->conns[i]);
    int rc = eng_run(e, &ph, eng_now_ns() + (int64_t)timeout_s * 1000000000LL);
    if (rc == 1) {
        snprintf(e->fatal_msg, sizeof(e->fatal_msg),
                 "only %d of %d sessions were established within %d s", e->nready, e->nconns,
                 timeout_s);
        e->fatal = true;
        return -1;
    }
    return rc;
}
