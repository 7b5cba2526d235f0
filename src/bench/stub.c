/* stub: the canned-reply server (see stub.h). Single-threaded epoll, one
 * read and one write per connection per loop turn, replies encoded into a
 * per-connection buffer. */
#include "bench/stub.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/jute.h"
#include "proto/zk.h"

typedef struct stub_conn {
    int fd;
    bool handshaken;
    bool armed; /* holds a data watch */
    bool dirty;
    bool close_after_flush;
    bool epoll_out;
    uint8_t *in;
    size_t in_len;
    buf_t out;
} stub_conn_t;

typedef struct stub {
    int epfd, lfd;
    int value_bytes;
    uint8_t *value;
    stub_conn_t *conns[STUB_MAX_CONNS]; /* by slot */
    int free_slots[STUB_MAX_CONNS];
    int nfree;
    int dirty[STUB_MAX_CONNS];
    int ndirty;
    int armed[STUB_MAX_CONNS];
    int narmed;
    int64_t zxid;
    int32_t version; /* every znode shares one version: setData bumps it */
    int64_t next_session;
    uint32_t seq;
} stub_t;

static volatile sig_atomic_t stub_stop;

static void on_signal(int sig)
{
    (void)sig;
    stub_stop = 1;
}

int stub_listen(const char *host, int port, int *port_out)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        perror("corral-bench stub: socket");
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
        fprintf(stderr, "corral-bench stub: '%s' is not an IPv4 address\n", host);
        close(fd);
        return -1;
    }
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 1024) != 0) {
        fprintf(stderr, "corral-bench stub: bind/listen %s:%d: %s\n", host, port, strerror(errno));
        close(fd);
        return -1;
    }
    socklen_t len = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    *port_out = ntohs(a.sin_port);
    return fd;
}

static void mark_dirty(stub_t *st, int slot)
{
    stub_conn_t *c = st->conns[slot];
    if (!c->dirty) {
        c->dirty = true;
        st->dirty[st->ndirty++] = slot;
    }
}

static void conn_drop(stub_t *st, int slot)
{
    stub_conn_t *c = st->conns[slot];
    if (!c)
        return;
    epoll_ctl(st->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->in);
    buf_free(&c->out);
    free(c);
    st->conns[slot] = NULL;
    st->free_slots[st->nfree++] = slot;
    for (int i = 0; i < st->narmed; i++)
        if (st->armed[i] == slot)
            st->armed[i--] = st->armed[--st->narmed];
}

static void write_stat(buf_t *b, const stub_t *st, int32_t data_len)
{
    jw_long(b, 1);        /* czxid */
    jw_long(b, st->zxid); /* mzxid */
    jw_long(b, 0);        /* ctime */
    jw_long(b, 0);        /* mtime */
    jw_int(b, st->version);
    jw_int(b, 0);  /* cversion */
    jw_int(b, 0);  /* aversion */
    jw_long(b, 0); /* ephemeralOwner */
    jw_int(b, data_len);
    jw_int(b, 0);  /* numChildren */
    jw_long(b, 1); /* pzxid */
}

static void reply_header(buf_t *b, int32_t xid, int64_t zxid, int32_t err)
{
    jw_int(b, xid);
    jw_long(b, zxid);
    jw_int(b, err);
}

static void write_created_path(stub_t *st, buf_t *b, jstr_t path, int32_t flags)
{
    if (flags & 2) { /* sequential */
        char suffix[16];
        int n = snprintf(suffix, sizeof(suffix), "%010u", st->seq++);
        jw_int(b, path.len + n);
        buf_append(b, path.ptr, (size_t)path.len);
        buf_append(b, suffix, (size_t)n);
    } else {
        jw_jstr(b, path);
    }
}

static void skip_acl(jute_reader_t *r)
{
    int32_t n = jr_vector_count(r, 12);
    for (int32_t i = 0; i < n && !r->err; i++) {
        (void)jr_int(r);
        (void)jr_string(r);
        (void)jr_string(r);
    }
}

static void fire_watches(stub_t *st, jstr_t path)
{
    for (int i = 0; i < st->narmed; i++) {
        stub_conn_t *w = st->conns[st->armed[i]];
        if (!w)
            continue;
        size_t start = w->out.len;
        jw_int(&w->out, 0);
        reply_header(&w->out, ZXID_NOTIFICATION, -1, 0);
        jw_int(&w->out, ZEV_DATA_CHANGED);
        jw_int(&w->out, ZSTATE_SYNC_CONNECTED);
        jw_jstr(&w->out, path);
        jw_patch_int(&w->out, start, (int32_t)(w->out.len - start - 4));
        w->armed = false;
        mark_dirty(st, st->armed[i]);
    }
    st->narmed = 0;
}

static void arm(stub_t *st, int slot)
{
    stub_conn_t *c = st->conns[slot];
    if (!c->armed && st->narmed < STUB_MAX_CONNS) {
        c->armed = true;
        st->armed[st->narmed++] = slot;
    }
}

/* Answer a multi: one result per sub-op. */
static void reply_multi(stub_t *st, buf_t *b, jute_reader_t *r)
{
    for (int i = 0; i < 10000; i++) {
        int32_t type = jr_int(r);
        bool done = jr_bool(r);
        (void)jr_int(r);
        if (r->err || done)
            break;
        jstr_t path = jr_string(r);
        int32_t flags = 0;
        switch (type) {
        case ZOP_CREATE:
        case ZOP_CREATE2:
            (void)jr_buffer(r);
            skip_acl(r);
            flags = jr_int(r);
            break;
        case ZOP_SET_DATA:
            (void)jr_buffer(r);
            (void)jr_int(r);
            break;
        case ZOP_DELETE:
        case ZOP_CHECK:
            (void)jr_int(r);
            break;
        case ZOP_GET_DATA:
        case ZOP_GET_CHILDREN:
            (void)jr_bool(r);
            break;
        default:
            r->err = true;
            break;
        }
        if (r->err)
            break;
        jw_int(b, type);
        jw_bool(b, false);
        jw_int(b, 0);
        if (type == ZOP_CREATE || type == ZOP_CREATE2)
            write_created_path(st, b, path, flags);
        if (type == ZOP_CREATE2 || type == ZOP_SET_DATA)
            write_stat(b, st, st->value_bytes);
        if (type == ZOP_SET_DATA)
            st->version++;
        if (type == ZOP_GET_DATA) {
            jw_buffer(b, st->value, st->value_bytes);
            write_stat(b, st, st->value_bytes);
        }
        if (type == ZOP_GET_CHILDREN)
            jw_int(b, 0);
    }
    jw_int(b, -1);
    jw_bool(b, true);
    jw_int(b, -1);
}

static void handle_request(stub_t *st, int slot, const uint8_t *p, size_t n)
{
    stub_conn_t *c = st->conns[slot];
    buf_t *b = &c->out;
    jute_reader_t r;
    jr_init(&r, p, n);
    size_t start = b->len;
    jw_int(b, 0);
    if (!c->handshaken) {
        (void)jr_int(&r);
        (void)jr_long(&r);
        int32_t timeout_ms = jr_int(&r);
        c->handshaken = true;
        jw_int(b, 0);
        jw_int(b, timeout_ms > 0 ? timeout_ms : 30000);
        jw_long(b, st->next_session++);
        jw_buffer(b, "0123456789abcdef", 16);
        jw_bool(b, false);
        jw_patch_int(b, start, (int32_t)(b->len - start - 4));
        mark_dirty(st, slot);
        return;
    }
    int32_t xid = jr_int(&r);
    int32_t type = jr_int(&r);
    jstr_t path = JSTR_NULL;
    switch (type) {
    case ZOP_PING:
        reply_header(b, ZXID_PING, st->zxid, 0);
        break;
    case ZOP_GET_DATA:
        path = jr_string(&r);
        if (jr_bool(&r))
            arm(st, slot);
        reply_header(b, xid, st->zxid, 0);
        jw_buffer(b, st->value, st->value_bytes);
        write_stat(b, st, st->value_bytes);
        break;
    case ZOP_EXISTS:
        path = jr_string(&r);
        if (jr_bool(&r))
            arm(st, slot);
        reply_header(b, xid, st->zxid, 0);
        write_stat(b, st, st->value_bytes);
        break;
    case ZOP_SET_DATA:
        path = jr_string(&r);
        st->zxid++;
        st->version++;
        reply_header(b, xid, st->zxid, 0);
        write_stat(b, st, st->value_bytes);
        if (st->narmed)
            fire_watches(st, path);
        break;
    case ZOP_CREATE:
    case ZOP_CREATE2: {
        path = jr_string(&r);
        (void)jr_buffer(&r);
        skip_acl(&r);
        int32_t flags = jr_int(&r);
        st->zxid++;
        reply_header(b, xid, st->zxid, 0);
        write_created_path(st, b, path, flags);
        if (type == ZOP_CREATE2)
            write_stat(b, st, 0);
        break;
    }
    case ZOP_DELETE:
        st->zxid++;
        reply_header(b, xid, st->zxid, 0);
        break;
    case ZOP_GET_CHILDREN:
    case ZOP_GET_CHILDREN2:
        reply_header(b, xid, st->zxid, 0);
        jw_int(b, 0);
        if (type == ZOP_GET_CHILDREN2)
            write_stat(b, st, 0);
        break;
    case ZOP_MULTI:
        st->zxid++;
        reply_header(b, xid, st->zxid, 0);
        reply_multi(st, b, &r);
        break;
    case ZOP_CLOSE_SESSION:
        reply_header(b, xid, st->zxid, 0);
        c->close_after_flush = true;
        break;
    default:
        reply_header(b, xid, st->zxid, 0);
        break;
    }
    jw_patch_int(b, start, (int32_t)(b->len - start - 4));
    mark_dirty(st, slot);
}

static void conn_read(stub_t *st, int slot)
{
    stub_conn_t *c = st->conns[slot];
    ssize_t n = read(c->fd, c->in + c->in_len, STUB_IN_BYTES - c->in_len);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        conn_drop(st, slot);
        return;
    }
    if (n < 0)
        return;
    c->in_len += (size_t)n;
    size_t pos = 0;
    while (c->in_len - pos >= 4) {
        int32_t len = be32_read(c->in + pos);
        if (len < 0 || (size_t)len + 4 > STUB_IN_BYTES) {
            conn_drop(st, slot);
            return;
        }
        if (c->in_len - pos < 4 + (size_t)len)
            break;
        handle_request(st, slot, c->in + pos + 4, (size_t)len);
        pos += 4 + (size_t)len;
        if (c->close_after_flush)
            break;
    }
    memmove(c->in, c->in + pos, c->in_len - pos);
    c->in_len -= pos;
    if (c->out.len > STUB_OUT_LIMIT)
        conn_drop(st, slot);
}

static void conn_flush(stub_t *st, int slot)
{
    stub_conn_t *c = st->conns[slot];
    if (!c)
        return;
    c->dirty = false;
    if (c->out.len) {
        ssize_t n = write(c->fd, c->out.data, c->out.len);
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            conn_drop(st, slot);
            return;
        }
        if (n > 0)
            buf_consume(&c->out, (size_t)n);
    }
    if (c->out.len == 0 && c->close_after_flush) {
        conn_drop(st, slot);
        return;
    }
    bool want = c->out.len > 0;
    if (want != c->epoll_out) {
        struct epoll_event ev = {.events = EPOLLIN | (want ? EPOLLOUT : 0),
                                 .data.u32 = (uint32_t)slot};
        epoll_ctl(st->epfd, EPOLL_CTL_MOD, c->fd, &ev);
        c->epoll_out = want;
    }
}

static void accept_all(stub_t *st)
{
    for (;;) {
        int fd = accept4(st->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        if (st->nfree == 0) {
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        int slot = st->free_slots[--st->nfree];
        stub_conn_t *c = xcalloc(1, sizeof(*c));
        c->fd = fd;
        c->in = xmalloc(STUB_IN_BYTES);
        buf_init(&c->out);
        st->conns[slot] = c;
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)slot};
        epoll_ctl(st->epfd, EPOLL_CTL_ADD, fd, &ev);
    }
}

int stub_serve(int listen_fd, const bench_opts_t *o)
{
    static stub_t st;
    memset(&st, 0, sizeof(st));
    st.lfd = listen_fd;
    st.value_bytes = o->value_bytes;
    st.value = xcalloc(1, (size_t)o->value_bytes + 1);
    memset(st.value, 'v', (size_t)o->value_bytes);
    st.next_session = 0x0100000000000000LL;
    st.zxid = 1;
    for (int i = 0; i < STUB_MAX_CONNS; i++)
        st.free_slots[st.nfree++] = STUB_MAX_CONNS - 1 - i;
    st.epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event lev = {.events = EPOLLIN, .data.u32 = UINT32_MAX};
    epoll_ctl(st.epfd, EPOLL_CTL_ADD, listen_fd, &lev);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);
    struct epoll_event evs[256];
    while (!stub_stop) {
        int n = epoll_wait(st.epfd, evs, 256, 200);
        for (int i = 0; i < n; i++) {
            uint32_t slot = evs[i].data.u32;
            if (slot == UINT32_MAX) {
                accept_all(&st);
                continue;
            }
            if (!st.conns[slot])
                continue;
            if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
                conn_read(&st, (int)slot);
            if (st.conns[slot] && (evs[i].events & EPOLLOUT))
                mark_dirty(&st, (int)slot);
        }
        for (int i = 0; i < st.ndirty; i++)
            conn_flush(&st, st.dirty[i]);
        st.ndirty = 0;
    }
    for (int i = 0; i < STUB_MAX_CONNS; i++)
        conn_drop(&st, i);
    close(st.epfd);
    free(st.value);
    return 0;
}
