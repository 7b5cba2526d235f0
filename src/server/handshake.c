/* handshake: the ConnectRequest (§2.2–§2.4) — timeout negotiation, new
 * sessions (a createSession txn), re-attaching an existing session with its
 * id and password, and the ConnectResponse. */
#include "server.h"

#include <string.h>

#include "session/password.h"

static void send_connect_response(conn_t *c, int32_t timeout_ms, int64_t session_id,
                                  const uint8_t passwd[16])
{
    size_t at = proto_frame_begin(&c->out);
    jw_int(&c->out, 0);
    jw_int(&c->out, timeout_ms);
    jw_long(&c->out, session_id);
    jw_buffer(&c->out, passwd, 16);
    if (!c->old_client)
        jw_bool(&c->out, false);
    conn_reply_end(c, at);
}

static int32_t negotiate_timeout(const server_t *s, int32_t requested)
{
    int32_t lo = (int32_t)s->cfg.min_session_timeout_ms;
    int32_t hi = (int32_t)s->cfg.max_session_timeout_ms;
    if (requested < lo)
        return lo;
    if (requested > hi)
        return hi;
    return requested;
}

static void attach(conn_t *c, session_t *sess)
{
    c->session = sess;
    c->session_id = sess->id;
    sess->owner = c;
    c->state = CONN_READY;
}

static void new_session(conn_t *c)
{
    server_t *s = c->srv;
    int64_t id = session_next_id(&s->sessions);
    prep_req_t in = {.session_id = id,
                     .cxid = 0,
                     .type = ZOP_CREATE_SESSION,
                     .session_timeout_ms = c->timeout_ms};
    /* The ConnectResponse goes out once the createSession txn is applied;
     * requests pipelined behind the ConnectRequest wait in the queue. */
    c->state = CONN_CONNECTING;
    server_submit(s, c, TXN_CREATE_SESSION, &in);
}

void handshake_session_created(conn_t *c, const pending_txn_t *t)
{
    server_t *s = c->srv;
    if (c->state != CONN_CONNECTING)
        return;
    session_t *sess = session_get(&s->sessions, t->session_id);
    if (!sess)
        return;
    attach(c, sess);
    uint8_t pw[SESSION_PASSWORD_LEN];
    session_password((uint64_t)sess->id, pw);
    log_debug(&s->log, "established session 0x%llx with negotiated timeout %d for client %s:%d",
              (unsigned long long)sess->id, c->timeout_ms, c->peer_ip, c->peer_port);
    send_connect_response(c, c->timeout_ms, sess->id, pw);
    request_resume(c);
}

static void resume_session(conn_t *c, const zk_connect_request_t *req)
{
    server_t *s = c->srv;
    session_t *sess = session_get(&s->sessions, req->session_id);
    if (sess && sess->owner && sess->owner != c) {
        conn_t *old = sess->owner;
        sess->owner = NULL;
        old->session = NULL;
        conn_close(old, "session re-attached on a new connection");
    }
    uint8_t pw[SESSION_PASSWORD_LEN];
    session_password((uint64_t)req->session_id, pw);
    bool pw_ok =
        session_password_check((uint64_t)req->session_id, req->passwd.ptr, req->passwd.len);
    if (!pw_ok || !sess || !session_touch(&s->sessions, sess, server_mono_ms(s))) {
        static const uint8_t zeros[16];
        log_info(&s->log, "invalid session 0x%llx for client %s:%d, %s",
                 (unsigned long long)req->session_id, c->peer_ip, c->peer_port,
                 !pw_ok ? "wrong password" : "probably expired");
        send_connect_response(c, 0, 0, zeros);
        c->close_after_flush = true;
        return;
    }
    attach(c, sess);
    log_debug(&s->log, "re-established session 0x%llx with negotiated timeout %d for client %s:%d",
              (unsigned long long)sess->id, c->timeout_ms, c->peer_ip, c->peer_port);
    send_connect_response(c, c->timeout_ms, sess->id, pw);
}

void handshake_process(conn_t *c, const uint8_t *p, size_t n)
{
    server_t *s = c->srv;
    zk_connect_request_t req;
    if (!proto_decode_connect(p, n, &req)) {
        log_warn(&s->log, "closing connection from %s:%d: malformed ConnectRequest (%zu bytes)",
                 c->peer_ip, c->peer_port, n);
        conn_close(c, NULL);
        return;
    }
    c->old_client = !req.has_read_only;
    s->metrics.connect_requests++;
    if (req.last_zxid_seen > s->last_zxid) {
        log_info(&s->log,
                 "refusing session request for client %s:%d as it has seen zxid 0x%llx our last "
                 "zxid is 0x%llx client must try another server",
                 c->peer_ip, c->peer_port, (unsigned long long)req.last_zxid_seen,
                 (unsigned long long)s->last_zxid);
        conn_close(c, NULL);
        return;
    }
    c->timeout_ms = negotiate_timeout(s, req.timeout_ms);
    if (req.session_id == 0)
        new_session(c);
    else
        resume_session(c, &req);
}
