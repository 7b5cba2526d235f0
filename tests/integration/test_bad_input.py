"""Raw-socket bad input against corrald (protocol reference §1-§3, §5.1,
§18; DESIGN.md principle 6: bad input closes that one connection, never
the server).

Every case ends by checking that a fresh, well-behaved client still gets
full service, and that the server process is alive. Each test gets its own
corrald (they start in milliseconds), so a crash is pinned on the input
that caused it. ``CORRAL_TARGET=zookeeper`` runs the same file against
Apache ZooKeeper (shared JVM), which is how the expectations were checked.
"""

import os
import select
import socket
import time

import pytest

import harness
import zkwire as w
from zkwire import frame, j_int, j_long, j_string, j_buffer

TARGET = os.environ.get("CORRAL_TARGET", "corrald").strip().lower()
MAXBUF = 1048575
CLOSE_TIMEOUT = 5.0


@pytest.fixture
def srv(request, server_pool):
    if TARGET == "corrald":
        s = request.getfixturevalue("corrald")
    else:
        try:
            s = server_pool.get("bad_input", "zookeeper", {}, {})
        except harness.ServerError as e:
            pytest.skip(str(e))
    yield s
    assert s.alive(), "server died\n%s" % s.log_tail(80)


def healthy(srv, ns):
    """A fresh client gets full service: handshake, write, read, delete,
    close."""
    assert srv.alive(), srv.log_tail(80)
    c = w.Conn.connect(srv.address, timeout=5.0)
    try:
        path = ns + "-health"
        r = c.create(path, b"ok")
        assert (r["err"], r["body"]) == (0, {"path": path}), r
        r = c.get_data(path)
        assert r["err"] == 0 and r["body"]["data"] == b"ok", r
        assert c.delete(path)["err"] == 0
        assert c.close_session()["err"] == 0
    finally:
        c.close()


def expect_silent_close(conn, timeout=CLOSE_TIMEOUT):
    """The server closes the connection without sending anything."""
    try:
        data = conn.read_frame(timeout=timeout)
    except w.Closed:
        return
    except w.Timeout:
        pytest.fail("connection still open after %.0fs (expected a close)" % timeout)
    pytest.fail("expected a close without reply, got a frame: %r" % data[:64].hex())


def raw_socket(srv):
    s = socket.create_connection(srv.address, timeout=5.0)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_until_eof(sock, timeout=CLOSE_TIMEOUT):
    """(bytes received, closed?) reading until EOF/RST or timeout."""
    deadline = time.monotonic() + timeout
    out = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return out, False
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return out, False
        except (ConnectionResetError, ConnectionAbortedError):
            return out, True
        if not chunk:
            return out, True
        out += chunk


def send_quietly(sock, data):
    """sendall that tolerates the server having closed already."""
    try:
        sock.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass


def vm_rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)


# ---------------------------------------------------------------------------
# framing


@pytest.mark.parametrize("length", [-1, -5, -0x80000000, MAXBUF + 1, 0x7FFFFFFF])
def test_bad_frame_length_before_handshake(srv, namespace, length):
    s = raw_socket(srv)
    try:
        send_quietly(s, j_int(length) + b"\0" * 64)
        out, closed = read_until_eof(s)
        assert (out, closed) == (b"", True)
    finally:
        s.close()
    healthy(srv, namespace)


@pytest.mark.parametrize("length", [-1, -5, MAXBUF + 1, 16 * 1024 * 1024])
def test_bad_frame_length_after_handshake(srv, namespace, length):
    c = w.Conn.connect(srv.address, timeout=5.0)
    try:
        assert c.create(namespace)["err"] == 0
        send_quietly(c.sock, j_int(length) + j_int(1) + j_int(4))
        expect_silent_close(c)
    finally:
        c.close()
    healthy(srv, namespace)
    cleanup = w.Conn.connect(srv.address, timeout=5.0)
    assert cleanup.delete(namespace)["err"] == 0
    cleanup.close_session()
    cleanup.close()


def test_frame_of_exactly_maxbuffer_is_accepted(srv, namespace):
    c = w.Conn.connect(srv.address, timeout=10.0)
    try:
        assert c.create(namespace)["err"] == 0
        path = namespace
        # header(8) + path string + data buffer + version(4) == MAXBUF
        n = MAXBUF - 8 - (4 + len(path.encode())) - 4 - 4
        data = bytes((i * 7) & 0xFF for i in range(n))
        xid = c.send_request("setData", w.rec_set_data(path, data, -1))
        assert len(c.pending) == 1
        r = c.read_reply(xid, timeout=10.0)
        assert r["err"] == 0, r
        assert r["body"]["stat"]["dataLength"] == n
        assert r["body"]["stat"]["version"] == 1
        r = c.get_data(path, timeout=10.0)
        assert r["err"] == 0 and r["body"]["data"] == data
        # one byte more is refused by closing the connection
        big = w.rec_set_data(path, data + b"x", -1)
        assert len(big) + 8 == MAXBUF + 1
        try:
            c.send_request("setData", big)
        except w.Closed:
            pass        # the server closed as soon as it saw the length
        expect_silent_close(c)
    finally:
        c.close()
    check = w.Conn.connect(srv.address, timeout=10.0)
    r = check.get_data(namespace, timeout=10.0)
    assert r["err"] == 0 and r["body"]["stat"]["version"] == 1
    assert r["body"]["stat"]["dataLength"] == n
    assert check.delete(namespace)["err"] == 0
    check.close_session()
    check.close()
    healthy(srv, namespace)


@pytest.mark.parametrize("garbage", [
    b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",       # 'GET ' as a length: too big
    b"xxxx" + b"\0" * 40,                        # not a four-letter word
    frame(b"\x00" * 10),                         # a ConnectRequest cut short
    frame(b""),                                  # an empty first frame
    frame(j_int(0) + j_long(0) + j_int(30000) + j_long(0) + j_int(100) + b"short"),
    b"\xff\xf4\xff\xfd",                         # telnet interrupt
], ids=["http", "xxxx", "short-connect", "empty-frame", "passwd-overrun", "telnet-ip"])
def test_garbage_before_handshake(srv, namespace, garbage):
    s = raw_socket(srv)
    try:
        send_quietly(s, garbage)
        out, closed = read_until_eof(s)
        assert (out, closed) == (b"", True)
    finally:
        s.close()
    healthy(srv, namespace)


@pytest.mark.parametrize("payload", [b"", b"\x00", b"\x00\x00\x00\x01",
                                     b"\x00\x00\x00\x01\x00\x00\x00"],
                         ids=["0", "1", "4", "7"])
def test_request_header_shorter_than_8_bytes(srv, namespace, payload):
    c = w.Conn.connect(srv.address, timeout=5.0)
    try:
        assert c.ping()["err"] == 0
        c.send_frame(payload)
        expect_silent_close(c)
    finally:
        c.close()
    healthy(srv, namespace)


@pytest.mark.parametrize("opcode", [999, 0, 10, -3, 23, 108, 0x7FFFFFFF])
def test_unknown_opcode_unimplemented_then_close(srv, namespace, opcode):
    c = w.Conn.connect(srv.address, timeout=5.0)
    try:
        assert c.ping()["err"] == 0
        c.send_request(opcode, b"\x00\x00\x00\x00", xid=77)
        r = c.read_message()
        assert r["t"] == "reply"
        assert (r["xid"], r["zxid"], r["err"], r["body"]) == (77, -1, w.UNIMPLEMENTED, None)
        expect_silent_close(c)
    finally:
        c.close()
    healthy(srv, namespace)


# ---------------------------------------------------------------------------
# truncated request bodies: MARSHALLINGERROR, connection stays usable

TRUNCATED = {
    # name: (opcode, body as a function of the existing node's path P, is_write)
    "create-path-overrun": ("create", lambda P: j_int(40) + b"/abc", True),
    "create-no-acl": ("create", lambda P: j_string(P + "/x") + j_buffer(b"d"), True),
    "create-acl-cut": ("create", lambda P: j_string(P + "/x") + j_buffer(b"d") + j_int(1)
                       + j_int(31) + j_string("world"), True),
    "create-no-flags": ("create", lambda P: j_string(P + "/x") + j_buffer(b"d")
                        + w.j_acls(w.OPEN_ACL), True),
    "create2-empty": ("create2", lambda P: b"", True),
    "createTTL-no-ttl": ("createTTL", lambda P: w.rec_create(P + "/x", b"", w.OPEN_ACL, 5),
                         True),
    "delete-no-version": ("delete", lambda P: j_string(P), True),
    "setData-no-version": ("setData", lambda P: j_string(P) + j_buffer(b"x"), True),
    "setData-data-overrun": ("setData", lambda P: j_string(P) + j_int(1000) + b"abc", True),
    "setACL-cut": ("setACL", lambda P: j_string(P) + j_int(2) + j_int(31) + j_string("world")
                   + j_string("anyone"), True),
    "getData-no-watch": ("getData", lambda P: j_string(P), False),
    "exists-empty": ("exists", lambda P: b"", False),
    "getChildren-path-cut": ("getChildren", lambda P: j_int(8) + b"/b", False),
    "getChildren2-no-watch": ("getChildren2", lambda P: j_string(P), False),
    "getACL-empty": ("getACL", lambda P: b"", False),
    "sync-path-cut": ("sync", lambda P: j_int(5) + b"/", False),
    "multi-header-cut": ("multi", lambda P: j_int(1) + b"\x00", True),
}


@pytest.mark.parametrize("name", sorted(TRUNCATED))
def test_truncated_body_marshalling_error(srv, namespace, name):
    opcode, body, is_write = TRUNCATED[name]
    P = namespace
    c = w.Conn.connect(srv.address, timeout=5.0)
    try:
        assert c.create(P, b"v")["err"] == 0
        before = c.ping()["zxid"]
        c.send_request(opcode, body(P), xid=4242)
        r = c.read_message()
        assert r["t"] == "reply"
        assert (r["xid"], r["err"], r["body"]) == (4242, w.MARSHALLINGERROR, None), r
        # a failed write still consumes a zxid (§5.1); a read does not
        assert r["zxid"] == (before + 1 if is_write else before)
        # the connection is still usable, in order
        r = c.get_data(P)
        assert r["err"] == 0 and r["body"]["data"] == b"v"
        assert r["body"]["stat"]["version"] == 0
        r = c.get_children(P)
        assert (r["err"], r["body"]) == (0, {"children": []})
        assert c.ping()["zxid"] == r["zxid"]
        assert c.delete(P)["err"] == 0
        assert c.close_session()["err"] == 0
    finally:
        c.close()
    healthy(srv, namespace)


def test_trailing_bytes_after_a_record_are_ignored(srv, namespace):
    """Like the Java server, decode what the record needs and ignore the
    rest of the frame."""
    c = w.Conn.connect(srv.address, timeout=5.0)
    try:
        r = c.call("create", w.rec_create(namespace, b"x") + b"\x01\x02\x03")
        assert (r["err"], r["body"]) == (0, {"path": namespace})
        r = c.call("exists", w.rec_path_watch(namespace) + b"junkjunk")
        assert r["err"] == 0 and r["body"]["stat"]["dataLength"] == 1
        r = c.call("getData", w.rec_path_watch(namespace) + b"junk")
        assert r["err"] == 0 and r["body"]["data"] == b"x"
        assert c.call("sync", j_string(namespace) + b"zz")["body"] == {"path": namespace}
        r = c.call("ping", b"abcd", xid=-2)
        assert (r["xid"], r["err"], r["body"]) == (-2, 0, None)
        assert c.delete(namespace)["err"] == 0
        assert c.close_session()["err"] == 0
    finally:
        c.close()
    healthy(srv, namespace)


ODD_LENGTHS = {
    # name: (opcode, body(path), expected error) -- ZooKeeper's answers
    "getData-negative-path-length": ("getData", lambda p: j_int(-2) + b"\x00", w.MARSHALLINGERROR),
    "create-null-path": ("create", lambda p: j_int(-1) + j_buffer(b"") + w.j_acls(w.OPEN_ACL)
                         + j_int(0), w.MARSHALLINGERROR),
    "create-huge-acl-count": ("create", lambda p: j_string(p) + j_buffer(b"") + j_int(0x7FFFFFFF)
                              + j_int(0), w.MARSHALLINGERROR),
    # jute reads a negative vector count as an empty vector: an empty ACL
    "create-negative-acl-count": ("create", lambda p: j_string(p) + j_buffer(b"") + j_int(-5)
                                  + j_int(0), w.INVALIDACL),
    "create-null-acl": ("create", lambda p: j_string(p) + j_buffer(b"") + j_int(-1) + j_int(0),
                        w.INVALIDACL),
    "setACL-negative-acl-count": ("setACL", lambda p: j_string(p) + j_int(-3) + j_int(-1),
                                  w.INVALIDACL),
    "create-invalid-utf8-path": ("create", lambda p: w.rec_create(p.encode() + b"/\xff\xfe", b""),
                                 w.BADARGUMENTS),
    "getData-invalid-utf8-path": ("getData", lambda p: j_string(p.encode() + b"/\xff") + b"\x00",
                                  w.NONODE),
}


@pytest.mark.parametrize("name", sorted(ODD_LENGTHS))
def test_odd_lengths_and_bytes(srv, namespace, name):
    opcode, body, expected = ODD_LENGTHS[name]
    c = w.Conn.connect(srv.address, timeout=5.0)
    try:
        assert c.create(namespace)["err"] == 0
        r = c.call(opcode, body(namespace), xid=99)
        assert (r["xid"], r["err"], r["body"]) == (99, expected, None), r
        assert c.get_children(namespace)["body"] == {"children": []}
        assert c.delete(namespace)["err"] == 0
        assert c.close_session()["err"] == 0
    finally:
        c.close()
    healthy(srv, namespace)


def test_connect_with_future_zxid_closed_without_reply(srv, namespace):
    """lastZxidSeen ahead of the server: close, no ConnectResponse (§2.3)."""
    c = w.Conn(srv.address, timeout=5.0)
    try:
        resp = c.handshake(last_zxid=10 ** 12, expect_valid=False)
        assert resp == {"closed": True}
    finally:
        c.close()
    healthy(srv, namespace)


def test_fragmented_and_pipelined_input(srv, namespace):
    """Frames split into single bytes, and many frames in one write, are
    both fine."""
    c = w.Conn(srv.address, timeout=5.0)
    try:
        req = frame(w.connect_request(timeout_ms=30000))
        for i in range(len(req)):
            c.send_raw(req[i:i + 1])
        resp = w.decode_connect_response(c.read_frame())
        assert resp["timeOut"] == 30000 and resp["sessionId"] != 0
        body = j_int(1) + j_int(w.OP["create"]) + w.rec_create(namespace, b"frag")
        c.pending.append((1, w.OP["create"]))
        wire = frame(body)
        for i in range(len(wire)):
            c.send_raw(wire[i:i + 1])
        r = c.read_reply(1)
        assert (r["err"], r["body"]) == (0, {"path": namespace})
        # 200 requests in one write: 200 replies, in order
        blob = b""
        for i in range(200):
            xid = 100 + i
            c.pending.append((xid, w.OP["exists"]))
            blob += frame(j_int(xid) + j_int(w.OP["exists"])
                          + w.rec_path_watch(namespace if i % 2 else namespace + "/no"))
        c.send_raw(blob)
        for i in range(200):
            r = c.read_message()
            assert r["t"] == "reply" and r["xid"] == 100 + i
            assert r["err"] == (0 if i % 2 else w.NONODE)
        assert c.delete(namespace)["err"] == 0
        assert c.close_session()["err"] == 0
    finally:
        c.close()
    healthy(srv, namespace)


# ---------------------------------------------------------------------------
# a client that never reads its replies


RSS_BOUND_KB = 64 * 1024        # growth allowed while the reader is stuck
NODE_DATA = 256 * 1024          # each reply carries this much


def test_client_that_never_reads(srv, namespace):
    pid = srv.proc.pid
    # The JVM's RSS follows its heap sizing, not its buffering: the bound is
    # checked for corrald only (ZooKeeper serves the other clients fine).
    check_rss = TARGET == "corrald"
    setup = w.Conn.connect(srv.address, timeout=10.0)
    payload = bytes(range(256)) * (NODE_DATA // 256)
    assert setup.create(namespace, payload)["err"] == 0
    rss0 = vm_rss_kb(pid)

    slow = w.Conn.connect(srv.address, timeout=10.0)
    slow.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.sock.setblocking(False)
    one = frame(j_int(1) + j_int(w.OP["getData"]) + w.rec_path_watch(namespace))
    chunk = one * 512
    sent_requests = 0
    max_requests = 200000           # ~50 GB of replies if all were buffered
    blocked_since = None
    peak = rss0
    deadline = time.monotonic() + 30.0
    try:
        # Push requests until the server stops reading them (back-pressure:
        # our send has been blocked for a second) or we hit the cap.
        while sent_requests < max_requests and time.monotonic() < deadline:
            _, writable, _ = select.select([], [slow.sock], [], 0.1)
            peak = max(peak, vm_rss_kb(pid))
            assert not check_rss or peak - rss0 < RSS_BOUND_KB, \
                "server RSS grew by %d KiB while a client does not read" % (peak - rss0)
            if not writable:
                if blocked_since is None:
                    blocked_since = time.monotonic()
                elif time.monotonic() - blocked_since > 1.0:
                    break
                continue
            blocked_since = None
            try:
                n = slow.sock.send(chunk)
            except BlockingIOError:
                continue
            sent_requests += n // len(one)

        print("slow reader: %d requests sent in %.1fs, RSS %d -> %d KiB"
              % (sent_requests, time.monotonic() - (deadline - 30.0), rss0, peak))
        # Meanwhile other clients get full service, promptly.
        other = w.Conn.connect(srv.address, timeout=5.0)
        t = time.monotonic()
        r = other.create(namespace + "/other", b"x")
        assert (r["err"], r["body"]) == (0, {"path": namespace + "/other"})
        r = other.get_data(namespace + "/other")
        assert r["err"] == 0 and r["body"]["data"] == b"x"
        assert other.delete(namespace + "/other")["err"] == 0
        assert time.monotonic() - t < 5.0
        assert other.close_session()["err"] == 0
        other.close()
        healthy(srv, namespace)
        peak = max(peak, vm_rss_kb(pid))
        assert not check_rss or peak - rss0 < RSS_BOUND_KB, \
            "server RSS grew by %d KiB while a client does not read" % (peak - rss0)
    finally:
        slow.close()
    # The stuck client is gone; the server is still fine.
    healthy(srv, namespace)
    assert setup.delete(namespace)["err"] == 0
    setup.close_session()
    setup.close()
