/* conn: client connections — accept (with the per-IP limit), reading and
 * framing, the output buffer with one write per loop turn, back-pressure,
 * and orderly close. Frames are handed to handshake.c or request.c. */
#include "server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm.h"

static void on_read(uv_stream_t *h, ssize_t nread, const uv_buf_t *b);
static void process_input(conn_t *c);

/* Connections per client IP (maxClientCnxns). The entry owns its key. */
typedef struct ip_count {
    int64_t n;
    char ip[64];
} ip_count_t;

static void ip_count_adjust(server_t *s, const char *ip, int delta)
{
    size_t len = strlen(ip);
    ip_count_t *e = strmap_get(&s->conns_per_ip, ip, len);
    if (!e) {
        if (delta <= 0)
            return;
        e = xcalloc(1, sizeof(*e));
        memcpy(e->ip, ip, len < sizeof(e->ip) - 1 ? len : sizeof(e->ip) - 1);
        strmap_put(&s->conns_per_ip, e->ip, strlen(e->ip), e);
    }
    e->n += delta;
    if (e->n <= 0) {
        strmap_del(&s->conns_per_ip, e->ip, strlen(e->ip));
        free(e);
    }
}

static int64_t ip_count(server_t *s, const char *ip)
{
    ip_count_t *e = strmap_get(&s->conns_per_ip, ip, strlen(ip));
    return e ? e->n : 0;
}

/* Input buffers: CONN_IN_BYTES of no-fork memory each (a read asks for 64 KiB
 * of room), reused by the next connection rather than mapped and unmapped per
 * connection. Pages past CONN_IN_KEEP that a buffer touched are given back
 * when it is pooled; a buffer that grew for a large frame is unmapped. */
#define CONN_IN_BYTES (128u << 10)
#define CONN_IN_READ (64u << 10)
#define CONN_IN_KEEP (16u << 10)
#define CONN_IN_POOL 64

static void in_acquire(conn_t *c)
{
    server_t *s = c->srv;
    if (s->nin_pool > 0) {
        c->in.data = s->in_pool[--s->nin_pool];
        c->in.cap = CONN_IN_BYTES;
        c->in.len = 0;
    } else {
        buf_reserve(&c->in, CONN_IN_BYTES);
    }
}

static void in_release(conn_t *c)
{
    server_t *s = c->srv;
    if (c->in.data && c->in.cap == CONN_IN_BYTES && s->nin_pool < CONN_IN_POOL) {
        if (!s->in_pool)
            s->in_pool = xmalloc(CONN_IN_POOL * sizeof(*s->in_pool));
        if (c->in_high > CONN_IN_KEEP)
            vm_release(c->in.data + CONN_IN_KEEP, CONN_IN_BYTES - CONN_IN_KEEP);
        s->in_pool[s->nin_pool++] = c->in.data;
        buf_init_nofork(&c->in);
        return;
    }
    buf_free(&c->in);
}

void conn_pool_free(server_t *s)
{
    for (size_t i = 0; i < s->nin_pool; i++)
        vm_unmap(s->in_pool[i], CONN_IN_BYTES);
    free(s->in_pool);
    s->in_pool = NULL;
    s->nin_pool = 0;
}

static void on_close(uv_handle_t *h)
{
    conn_t *c = h->data;
    server_t *s = c->srv;
    watch_owner_clear(&s->watches, &c->watches);
    server_forget_conn(s, c);
    while (c->q_head) {
        queued_req_t *q = c->q_head;
        c->q_head = q->next;
        free(q);
        s->outstanding_requests--;
    }
    if (c->session && c->session->owner == c)
        c->session->owner = NULL;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->nconns--;
    if (c->dirty)
        for (size_t i = 0; i < s->ndirty; i++)
            if (s->dirty[i] == c)
                s->dirty[i] = NULL;
    ip_count_adjust(s, c->peer_ip, -1);
    in_release(c);
    buf_free(&c->out);
    buf_free(&c->writing);
    auth_ids_free(&c->ids);
    free(c);
}

void conn_close(conn_t *c, const char *why)
{
    if (c->state == CONN_CLOSING)
        return;
    if (why)
        log_info(&c->srv->log, "closing connection from %s:%d%s%s (session 0x%llx)", c->peer_ip,
                 c->peer_port, why ? ": " : "", why ? why : "", (unsigned long long)c->session_id);
    c->state = CONN_CLOSING;
    /* Watches and session ownership are released in on_close, which runs in
     * a later loop phase: never while a watch trigger is iterating. */
    uv_close((uv_handle_t *)&c->tcp, on_close);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    conn_t *c = h->data;
    (void)suggested;
    if (!c->in.data)
        in_acquire(c);
    buf_reserve(&c->in, CONN_IN_READ);
    b->base = (char *)c->in.data + c->in.len;
    b->len = c->in.cap - c->in.len;
}

static void start_reading(conn_t *c)
{
    if (!c->reading && c->state != CONN_CLOSING) {
        c->reading = true;
        uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read);
    }
}

static void stop_reading(conn_t *c)
{
    if (c->reading) {
        c->reading = false;
        uv_read_stop((uv_stream_t *)&c->tcp);
    }
}

static void on_write(uv_write_t *req, int status)
{
    conn_t *c = req->data;
    c->write_pending = false;
    buf_reset(&c->writing);
    if (c->state == CONN_CLOSING)
        return;
    if (status < 0) {
        conn_close(c, uv_strerror(status));
        return;
    }
    conn_flush(c);
}

void conn_flush(conn_t *c)
{
    if (c->state == CONN_CLOSING || c->write_pending)
        return;
    if (c->out.len > 0) {
        uv_buf_t b = uv_buf_init((char *)c->out.data, (unsigned)c->out.len);
        int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
        if (n > 0)
            buf_consume(&c->out, (size_t)n);
        else if (n < 0 && n != UV_EAGAIN) {
            conn_close(c, uv_strerror(n));
            return;
        }
        if (c->out.len > 0) {
            /* Hand the rest to libuv; new replies keep accumulating in out. */
            buf_t tmp = c->writing;
            c->writing = c->out;
            c->out = tmp;
            buf_reset(&c->out);
            c->write_pending = true;
            c->wreq.data = c;
            uv_buf_t wb = uv_buf_init((char *)c->writing.data, (unsigned)c->writing.len);
            int rc = uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &wb, 1, on_write);
            if (rc < 0) {
                c->write_pending = false;
                conn_close(c, uv_strerror(rc));
            }
            return;
        }
    }
    if (c->close_after_flush) {
        conn_close(c, NULL);
        return;
    }
    if (c->state == CONN_READY && !c->reading &&
        c->out.len + c->writing.len < CONN_OUT_SOFT_LIMIT &&
        c->queued + c->inflight < c->srv->cfg.global_outstanding_limit) {
        start_reading(c);
        if (c->in.len > 0)
            process_input(c); /* frames that arrived before we stopped reading */
    }
}

void conn_mark_dirty(conn_t *c)
{
    server_t *s = c->srv;
    if (c->dirty || c->state == CONN_CLOSING)
        return;
    if (s->ndirty == s->dirty_cap) {
        s->dirty_cap = s->dirty_cap ? s->dirty_cap * 2 : 64;
        s->dirty = xrealloc(s->dirty, s->dirty_cap * sizeof(*s->dirty));
    }
    c->dirty = true;
    s->dirty[s->ndirty++] = c;
}

void server_flush_dirty(uv_prepare_t *p)
{
    server_t *s = p->data;
    persist_apply_ready(s);
    log_flush(&s->log); /* info lines of this turn, one write */
    /* conn_flush may close connections (nulling their slots), or process
     * input held back by back-pressure and so dirty more connections: the
     * bound is re-read each time. */
    for (size_t i = 0; i < s->ndirty; i++) {
        conn_t *c = s->dirty[i];
        if (!c)
            continue;
        c->dirty = false;
        s->dirty[i] = NULL;
        conn_flush(c);
    }
    s->ndirty = 0;
}

size_t conn_reply_begin(conn_t *c, int32_t xid, int64_t zxid, int32_t err)
{
    size_t at = proto_frame_begin(&c->out);
    proto_write_reply_header(&c->out, xid, zxid, err);
    return at;
}

void conn_reply_end(conn_t *c, size_t start)
{
    proto_frame_end(&c->out, start);
    server_metrics_t *m = &c->srv->metrics;
    int64_t size = (int64_t)(c->out.len - start);
    m->response_bytes += size;
    m->last_response_size = size;
    if (m->min_response_size < 0 || size < m->min_response_size)
        m->min_response_size = size;
    if (size > m->max_response_size)
        m->max_response_size = size;
    conn_mark_dirty(c);
    c->packets_sent++;
    c->srv->packets_sent++;
}

void conn_send_header(conn_t *c, int32_t xid, int64_t zxid, int32_t err)
{
    conn_reply_end(c, conn_reply_begin(c, xid, zxid, err));
}

/* Split the input into frames and dispatch them. Returns when the buffer
 * holds no complete frame, or the connection stopped being readable. */
static void process_input(conn_t *c)
{
    server_t *s = c->srv;
    size_t off = 0;
    while (c->state != CONN_CLOSING && !c->close_after_flush && !c->draining) {
        size_t avail = c->in.len - off;
        if (avail < 4)
            break;
        const uint8_t *p = c->in.data + off;
        if (c->state == CONN_NEW) {
            fourlw_cmd_t cmd;
            if (fourlw_lookup(p, &cmd)) {
                size_t extra = fourlw_extra_bytes(cmd);
                if (avail < 4 + extra)
                    break;
                c->packets_received++;
                s->packets_received++;
                server_answer_fourlw(c, cmd);
                off = c->in.len;
                break;
            }
        }
        int32_t len = be32_read(p);
        if (len < 0 || (int64_t)len > s->cfg.jute_maxbuffer_bytes) {
            log_warn(&s->log,
                     "closing connection from %s:%d: frame length %d is outside 0..%lld "
                     "(jute.maxbuffer)",
                     c->peer_ip, c->peer_port, len, (long long)s->cfg.jute_maxbuffer_bytes);
            conn_close(c, NULL);
            return;
        }
        if (avail < 4 + (size_t)len)
            break;
        off += 4 + (size_t)len;
        c->packets_received++;
        s->packets_received++;
        c->last_activity_ms = server_mono_ms(s);
        if (c->state == CONN_NEW)
            handshake_process(c, p + 4, (size_t)len);
        else
            request_process(c, p + 4, (size_t)len);
        if (c->out.len + c->writing.len >= CONN_OUT_SOFT_LIMIT ||
            c->queued + c->inflight >= s->cfg.global_outstanding_limit) {
            stop_reading(c); /* back-pressure, never an error (§18) */
            break;
        }
    }
    if (c->state != CONN_CLOSING)
        buf_consume(&c->in, off);
}

static void on_read(uv_stream_t *h, ssize_t nread, const uv_buf_t *b)
{
    conn_t *c = h->data;
    (void)b;
    if (c->state == CONN_CLOSING)
        return;
    if (nread < 0) {
        conn_close(c, nread == UV_EOF ? NULL : uv_strerror((int)nread));
        return;
    }
    c->in.len += (size_t)nread;
    if (c->in.len > c->in_high)
        c->in_high = c->in.len;
    c->srv->metrics.bytes_received += nread;
    process_input(c);
    conn_mark_dirty(c);
}

static void peer_name(conn_t *c)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    strcpy(c->peer_ip, "unknown");
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) != 0)
        return;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        uv_ip4_name(a, c->peer_ip, sizeof(c->peer_ip));
        c->peer_port = ntohs(a->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        uv_ip6_name(a, c->peer_ip, sizeof(c->peer_ip));
        c->peer_port = ntohs(a->sin6_port);
    }
}

/* TCP_NODELAY, unless the listener's was inherited (checked once). */
static void set_nodelay(conn_t *c)
{
    server_t *s = c->srv;
    if (s->nodelay_inherited < 0) {
        uv_os_fd_t fd;
        int on = 0;
        socklen_t len = sizeof(on);
        s->nodelay_inherited = uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0 &&
                               getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &len) == 0 && on;
    }
    if (!s->nodelay_inherited)
        uv_tcp_nodelay(&c->tcp, 1);
}

static void close_rejected(uv_handle_t *h)
{
    free(h);
}

void conn_accept(server_t *s)
{
    conn_t *c = xcalloc(1, sizeof(*c));
    c->srv = s;
    buf_init_nofork(&c->in);
    uv_tcp_init(s->loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept((uv_stream_t *)&s->listener, (uv_stream_t *)&c->tcp) != 0) {
        uv_close((uv_handle_t *)&c->tcp, close_rejected);
        return;
    }
    set_nodelay(c);
    peer_name(c);
    int64_t max_per_ip = s->cfg.max_client_cnxns;
    if ((max_per_ip > 0 && ip_count(s, c->peer_ip) >= max_per_ip) ||
        (s->cfg.max_cnxns > 0 && s->nconns >= s->cfg.max_cnxns)) {
        s->metrics.connections_rejected++;
        log_warn(&s->log, "too many connections from %s - max is %lld (maxClientCnxns)", c->peer_ip,
                 (long long)max_per_ip);
        uv_close((uv_handle_t *)&c->tcp, close_rejected);
        return;
    }
    ip_count_adjust(s, c->peer_ip, +1);
    c->state = CONN_NEW;
    c->last_activity_ms = server_mono_ms(s);
    c->established_ms = server_wall_ms();
    c->last_cxid = -1;
    c->last_zxid = -1;
    c->last_op = "NA";
    auth_ids_init(&c->ids);
    auth_ids_add(&c->ids, JSTR_LIT("ip"), jstr_from_cstr(c->peer_ip));
    watch_owner_init(&c->watches);
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->nconns++;
    start_reading(c);
}
