"""Semantic tests through kazoo (and, where kazoo 2.8 has no API, raw
zkwire frames) against corrald.

Every assertion is an exact value taken from Apache ZooKeeper 3.8's
behaviour (shared/docs/zookeeper-protocol.md §5-§12, §15, §18). The whole
file also runs against the oracle: ``CORRAL_TARGET=zookeeper`` points every
test at Apache ZooKeeper instead of corrald, which is how the expectations
here were checked.

Servers: tests that need no special configuration share one long-lived
server (the session-wide pool, slot "kazoo"); each works under its own
namespace node and closes its sessions. Tests that need a configuration
(small tickTime, container reaper interval, TTL, super digest, skipACL,
maxClientCnxns, session timeout bounds, 4lw whitelist) or a pristine tree
start their own server.

Events are never waited for with sleeps: watch callbacks set
threading.Events with a timeout, and a later read reply on the watching
connection is the sync point for "no further notification arrived"
(notifications are queued before any later reply, §9.4/§18).
"""

import base64
import collections
import hashlib
import logging
import os
import re
import select
import socket
import threading
import time

import pytest

from kazoo.client import KazooClient
from kazoo.exceptions import (
    AuthFailedError, BadArgumentsError, BadVersionError, InvalidACLError,
    NoAuthError, NoChildrenForEphemeralsError, NodeExistsError, NoNodeError,
    NotEmptyError, RolledBackError, RuntimeInconsistency, UnimplementedError,
)
from kazoo.protocol.serialization import (
    Create2, Watch, int_struct, long_struct, read_string, write_string,
)
from kazoo.protocol.states import EventType, KazooState, ZnodeStat
from kazoo.security import ACL, CREATOR_ALL_ACL, Id, READ_ACL_UNSAFE, make_digest_acl

import harness
import zkwire as w

TARGET = os.environ.get("CORRAL_TARGET", "corrald").strip().lower()
TIMEOUT = 10.0          # bound for anything awaited; only reached on failure


def now_ms():
    return int(time.time() * 1000)


def digest_id(user_pass):
    user = user_pass.split(":", 1)[0]
    return "%s:%s" % (user, base64.b64encode(
        hashlib.sha1(user_pass.encode()).digest()).decode())


USER_ID = digest_id("user:pass")          # user:smGaoVKd/cQkjm7b88GyorAUz20=
BOB_ID = digest_id("bob:pw")
SUPER_DIGEST = digest_id("super:secret")
OPEN = [ACL(31, Id("world", "anyone"))]

# ---------------------------------------------------------------------------
# kazoo requests kazoo 2.8 does not have (same shape as kazoo's own records)


class CreateContainer(Create2):
    """createContainer (19): CreateRequest -> Create2Response(path, stat)."""
    type = 19


class CreateTTL(collections.namedtuple("CreateTTL", "path data acl flags ttl")):
    """createTTL (21): CreateTTLRequest -> Create2Response(path, stat)."""
    type = 21

    def serialize(self):
        b = Create2(self.path, self.data, self.acl, self.flags).serialize()
        b.extend(long_struct.pack(self.ttl))
        return b

    deserialize = Create2.deserialize


class GetEphemerals(collections.namedtuple("GetEphemerals", "prefix")):
    type = 103

    def serialize(self):
        return bytearray(int_struct.pack(len(self.prefix.encode()))
                         + self.prefix.encode())

    @classmethod
    def deserialize(cls, buf, offset):
        n = int_struct.unpack_from(buf, offset)[0]
        offset += 4
        out = []
        for _ in range(n):
            s, offset = read_string(buf, offset)
            out.append(s)
        return out


class WhoAmI(collections.namedtuple("WhoAmI", "")):
    type = 107

    def __bool__(self):         # kazoo ignores replies to falsy requests
        return True

    def serialize(self):
        return bytearray()

    @classmethod
    def deserialize(cls, buf, offset):
        n = int_struct.unpack_from(buf, offset)[0]
        offset += 4
        out = []
        for _ in range(n):
            scheme, offset = read_string(buf, offset)
            user, offset = read_string(buf, offset)
            out.append((scheme, user))
        return sorted(out, key=lambda x: (x[0], x[1] or ""))


class GetAllChildrenNumber(collections.namedtuple("GetAllChildrenNumber", "path")):
    type = 104

    def serialize(self):
        return bytearray(write_string(self.path))

    @classmethod
    def deserialize(cls, buf, offset):
        return int_struct.unpack_from(buf, offset)[0]


def kcall(client, request):
    """Send a custom request through kazoo; returns the result or raises the
    kazoo exception for the reply's error code."""
    res = client.handler.async_result()
    client._call(request, res)
    return res.get(timeout=TIMEOUT)


# ---------------------------------------------------------------------------
# helpers


class Watcher:
    """A kazoo watch callback that records WatchedEvents."""

    def __init__(self):
        self.events = []
        self.cond = threading.Condition()

    def __call__(self, event):
        with self.cond:
            self.events.append(event)
            self.cond.notify_all()

    def wait(self, n=1, timeout=TIMEOUT):
        with self.cond:
            self.cond.wait_for(lambda: len(self.events) >= n, timeout)
            return [(e.type, e.path) for e in self.events]


class WireLog:
    """Records, in the kazoo connection thread, every notification and reply
    the server sent to a kazoo client, in arrival order. Kazoo itself drops
    notifications nobody is waiting for; this sees them all."""

    def __init__(self, client):
        self.items = []
        conn = client._connection
        orig_event = conn._read_watch_event
        orig_resp = conn._read_response

        def on_event(buffer, offset):
            ev, _ = Watch.deserialize(buffer, offset)
            self.items.append(("event", EVENT_NAME[ev.type], ev.path))
            return orig_event(buffer, offset)

        def on_response(header, buffer, offset):
            req = client._pending[0][0] if client._pending else None
            self.items.append(("reply", type(req).__name__, header.err))
            return orig_resp(header, buffer, offset)

        conn._read_watch_event = on_event
        conn._read_response = on_response

    def events(self):
        return [i[1:] for i in self.items if i[0] == "event"]

    def clear(self):
        del self.items[:]


EVENT_NAME = {1: "NodeCreated", 2: "NodeDeleted", 3: "NodeDataChanged",
              4: "NodeChildrenChanged"}


class SessionLog(logging.Handler):
    """Captures kazoo's 'Session created' log line to learn the negotiated
    session timeout (kazoo 2.8 does not keep it anywhere else)."""

    def __init__(self):
        super().__init__(level=1)
        self.timeouts = []

    def emit(self, record):
        if record.msg.startswith("Session created"):
            self.timeouts.append(record.args[2])


class Env:
    """Per-test servers, clients and cleanup."""

    def __init__(self, request, server_pool, namespace):
        self.request = request
        self.pool = server_pool
        self.ns = namespace
        self._shared = None
        self.clients = []
        self.raws = []
        self.used = []          # servers whose namespace we must clean
        self._finalizer_added = False
        self._closed = False

    # -- servers -------------------------------------------------------------
    @property
    def server(self):
        """The shared server of this file (started on first use)."""
        if self._shared is None:
            try:
                self._shared = self.pool.get("kazoo", TARGET, {}, {})
            except harness.ServerError as e:
                if harness.in_ci():
                    pytest.fail(str(e))
                pytest.skip(str(e))
            self.used.append(self._shared)
        return self._shared

    def start_server(self, cfg=None, props=None, tick_time=2000):
        """A fresh server of the target kind with this configuration."""
        fixture = "corrald_factory" if TARGET == "corrald" else "zookeeper_factory"
        factory = self.request.getfixturevalue(fixture)
        srv = factory(cfg=cfg, props=props, tick_time=tick_time)
        if not self._finalizer_added:
            # runs before the factory stops its servers: clients leave first
            self.request.addfinalizer(self.close)
            self._finalizer_added = True
        return srv

    # -- clients -------------------------------------------------------------
    def client(self, server=None, timeout=10.0, auth=None, session_log=None, **kw):
        server = server or self.server
        logger = logging.getLogger("corral.kazoo.%d" % len(self.clients))
        logger.propagate = False
        logger.setLevel(1)
        for h in list(logger.handlers):
            logger.removeHandler(h)
        logger.addHandler(session_log if session_log is not None else logging.NullHandler())
        c = KazooClient(hosts=server.hosts, timeout=timeout, logger=logger,
                        auth_data=auth, **kw)
        c.start(timeout=TIMEOUT)
        self.clients.append(c)
        return c

    def raw(self, server=None, **handshake):
        server = server or self.server
        c = w.Conn.connect(server.address, timeout=5.0, **handshake)
        self.raws.append(c)
        return c

    def p(self, rel=""):
        return self.ns + rel

    # -- teardown ------------------------------------------------------------
    def close(self):
        if self._closed:
            return
        self._closed = True
        for c in self.clients:
            try:
                c.stop()
                c.close()
            except Exception:
                pass
        for r in self.raws:
            if not r.closed and not r.session_closed and r.session_id:
                try:
                    r.close_session(timeout=2.0)
                except w.WireError:
                    pass
            r.close()
        for srv in self.used:
            if not srv.alive():
                continue
            try:
                c = KazooClient(hosts=srv.hosts, timeout=10.0,
                                logger=logging.getLogger("corral.kazoo.cleanup"))
                c.start(timeout=5.0)
                try:
                    c.delete(self.ns, recursive=True)
                finally:
                    c.stop()
                    c.close()
            except Exception:
                pass


logging.getLogger("corral.kazoo.cleanup").propagate = False
logging.getLogger("corral.kazoo.cleanup").addHandler(logging.NullHandler())


@pytest.fixture
def env(request, server_pool, namespace):
    if TARGET not in ("corrald", "zookeeper"):
        raise ValueError("CORRAL_TARGET must be corrald or zookeeper")
    e = Env(request, server_pool, namespace)
    yield e
    e.close()
    if e._shared is not None:
        assert e._shared.alive(), "shared %s died during the test\n%s" % (
            TARGET, e._shared.log_tail(60))


def stat_of(**kw):
    return ZnodeStat(**kw)


# ---------------------------------------------------------------------------
# basic operations and Stat


def test_create_get_set_stat_fields(env):
    c = env.client()
    t0 = now_ms()
    path, st = c.create(env.ns, b"hello", include_data=True)
    t1 = now_ms()
    assert path == env.ns
    z = st.czxid
    assert z > 0
    assert t0 <= st.ctime <= t1
    assert st == stat_of(czxid=z, mzxid=z, ctime=st.ctime, mtime=st.ctime, version=0,
                         cversion=0, aversion=0, ephemeralOwner=0, dataLength=5,
                         numChildren=0, pzxid=z)
    assert c.get(env.ns) == (b"hello", st)
    assert c.exists(env.ns) == st

    # setData: version, mzxid, mtime, dataLength change; nothing else.
    t2 = now_ms()
    st2 = c.set(env.ns, b"world!")
    t3 = now_ms()
    assert st2.mzxid > z
    assert t2 <= st2.mtime <= t3
    assert st2 == st._replace(mzxid=st2.mzxid, mtime=st2.mtime, version=1, dataLength=6)
    assert c.get(env.ns) == (b"world!", st2)
    with pytest.raises(BadVersionError):
        c.set(env.ns, b"x", version=0)
    st3 = c.set(env.ns, b"", version=1)
    assert st3 == st2._replace(mzxid=st3.mzxid, mtime=st3.mtime, version=2, dataLength=0)
    assert st3.mzxid > st2.mzxid

    # setACL: only aversion moves (not mzxid, not mtime).
    acl = [ACL(31, Id("world", "anyone")), ACL(1, Id("ip", "127.0.0.1"))]
    st4 = c.set_acls(env.ns, acl)
    assert st4 == st3._replace(aversion=1)
    assert c.get_acls(env.ns) == (acl, st4)
    with pytest.raises(BadVersionError):
        c.set_acls(env.ns, OPEN, version=0)
    st5 = c.set_acls(env.ns, OPEN, version=1)
    assert st5 == st4._replace(aversion=2)

    # child create: parent cversion +1, numChildren +1, pzxid = child czxid.
    cpath, cst = c.create(env.p("/c"), b"kid", include_data=True)
    assert cpath == env.p("/c")
    zc = cst.czxid
    assert zc > st5.mzxid
    assert cst == stat_of(czxid=zc, mzxid=zc, ctime=cst.ctime, mtime=cst.ctime, version=0,
                          cversion=0, aversion=0, ephemeralOwner=0, dataLength=3,
                          numChildren=0, pzxid=zc)
    pst = c.exists(env.ns)
    assert pst == st5._replace(cversion=1, numChildren=1, pzxid=zc)
    children, gst = c.get_children(env.ns, include_data=True)
    assert (children, gst) == (["c"], pst)

    # child delete: cversion +1 again (exposed value), numChildren -1,
    # pzxid = the delete's zxid.
    c.delete(env.p("/c"))
    zdel = c.last_zxid
    pst2 = c.exists(env.ns)
    assert zdel > zc
    assert pst2 == pst._replace(cversion=2, numChildren=0, pzxid=zdel)
    assert c.get_children(env.ns) == []

    # ephemeral child: ephemeralOwner is the creating session's id.
    e_path, est = c.create(env.p("/e"), b"", ephemeral=True, include_data=True)
    assert est.ephemeralOwner == c.client_id[0]
    assert est.ephemeralOwner != 0
    assert c.exists(env.ns) == pst2._replace(cversion=3, numChildren=1, pzxid=est.czxid)


def test_null_and_empty_data(env):
    c = env.client()
    c.create(env.ns)
    _, st = c.create(env.p("/null"), None, include_data=True)
    assert st.dataLength == 0
    assert c.get(env.p("/null")) == (None, st)
    c.create(env.p("/empty"), b"")
    assert c.get(env.p("/empty"))[0] == b""
    st2 = c.set(env.p("/empty"), None)
    assert c.get(env.p("/empty")) == (None, st2)
    assert st2.dataLength == 0 and st2.version == 1
    big = bytes(range(256)) * 1024          # 256 KiB
    st3 = c.set(env.p("/empty"), big)
    assert st3.dataLength == len(big)
    assert c.get(env.p("/empty")) == (big, st3)


def test_failed_writes_consume_a_zxid_reads_do_not(env):
    c = env.client()
    c.create(env.ns)
    _, a = c.create(env.p("/a"), include_data=True)
    with pytest.raises(NodeExistsError):
        c.create(env.p("/a"))
    c.get(env.p("/a"))
    c.get_children(env.ns)
    _, b = c.create(env.p("/b"), include_data=True)
    assert b.czxid == a.czxid + 2
    with pytest.raises(BadVersionError):
        c.set(env.p("/a"), b"x", version=7)
    with pytest.raises(NoNodeError):
        c.delete(env.p("/missing"))
    st = c.set(env.p("/b"), b"y")
    assert st.mzxid == b.czxid + 3


def test_error_paths(env):
    c = env.client()
    ns = env.ns
    c.create(ns)
    c.create(ns + "/a", b"a")
    c.create(ns + "/a/kid")

    with pytest.raises(NodeExistsError):
        c.create(ns + "/a")
    with pytest.raises(NoNodeError):
        c.create(ns + "/missing/child")
    with pytest.raises(NoNodeError):
        c.get(ns + "/missing")
    with pytest.raises(NoNodeError):
        c.set(ns + "/missing", b"x")
    with pytest.raises(NoNodeError):
        c.delete(ns + "/missing")
    with pytest.raises(NoNodeError):
        c.get_children(ns + "/missing")
    with pytest.raises(NoNodeError):
        c.get_acls(ns + "/missing")
    with pytest.raises(NoNodeError):
        c.set_acls(ns + "/missing", OPEN)
    assert c.exists(ns + "/missing") is None

    with pytest.raises(NotEmptyError):
        c.delete(ns + "/a")
    with pytest.raises(BadVersionError):
        c.delete(ns + "/a/kid", version=3)
    # BADVERSION is checked before NOTEMPTY
    with pytest.raises(BadVersionError):
        c.delete(ns + "/a", version=5)
    with pytest.raises(BadVersionError):
        c.set(ns + "/a", b"x", version=1)
    with pytest.raises(BadVersionError):
        c.set(ns + "/a", b"x", version=-2)
    with pytest.raises(BadVersionError):
        c.delete(ns + "/a/kid", version=-2)

    # ACL validation
    for bad in ([ACL(31, Id("world", "foo"))], [ACL(31, Id("digest", "abc"))],
                [ACL(31, Id("digest", "a:b:c"))], [ACL(31, Id("foo", "bar"))],
                [ACL(31, Id("ip", "10.0.0.0/33"))], [ACL(31, Id("ip", "300.1.2.3"))],
                CREATOR_ALL_ACL):
        with pytest.raises(InvalidACLError):
            c.create(ns + "/badacl", acl=bad)
        with pytest.raises(InvalidACLError):
            c.set_acls(ns + "/a", bad)
    # an empty list (kazoo's create() turns [] into OPEN_ACL_UNSAFE: go raw)
    with pytest.raises(InvalidACLError):
        c.set_acls(ns + "/a", [])
    raw = env.raw()
    r = raw.create(ns + "/badacl", b"", acl=[])
    assert (r["err"], r["body"]) == (w.INVALIDACL, None)
    assert c.exists(ns + "/badacl") is None
    assert c.get_acls(ns + "/a")[0] == OPEN
    # an invalid ACL is reported before a missing parent
    with pytest.raises(InvalidACLError):
        c.create(ns + "/missing/x", acl=[ACL(31, Id("world", "foo"))])

    # ephemerals cannot have children
    c.create(ns + "/eph", ephemeral=True)
    with pytest.raises(NoChildrenForEphemeralsError):
        c.create(ns + "/eph/child")
    with pytest.raises(NoChildrenForEphemeralsError):
        c.create(ns + "/eph/child", ephemeral=True, sequence=True)

    # built-in nodes cannot be deleted
    for special in ("/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"):
        with pytest.raises(BadArgumentsError):
            c.delete(special)
    with pytest.raises(NoAuthError):
        c.set("/zookeeper/config", b"x")

    # TTL nodes with extended types disabled (the default)
    with pytest.raises(UnimplementedError):
        kcall(c, CreateTTL(ns + "/ttl", b"", OPEN, 5, 1000))
    assert c.exists(ns + "/ttl") is None
    # sync succeeds and echoes the path, even for a missing node
    assert c.sync(ns + "/missing") == ns + "/missing"
    # and after all this the tree is as we left it
    assert sorted(c.get_children(ns)) == ["a", "eph"]
    assert c.get(ns + "/a")[0] == b"a"


def test_sequential_naming(env):
    c = env.client()
    other = env.client()
    ns = env.ns
    c.create(ns)
    assert c.create(ns + "/lock-", sequence=True) == ns + "/lock-0000000000"
    assert c.create(ns + "/lock-", sequence=True) == ns + "/lock-0000000001"
    # a non-sequential create advances the shared counter too
    c.create(ns + "/plain")
    assert c.create(ns + "/other-", sequence=True) == ns + "/other-0000000003"
    # another session shares the counter, ephemeral-sequential too
    assert other.create(ns + "/e-", ephemeral=True, sequence=True) == ns + "/e-0000000004"
    # failed creates consume nothing
    with pytest.raises(NodeExistsError):
        c.create(ns + "/plain")
    with pytest.raises(NoNodeError):
        c.create(ns + "/nope/x-", sequence=True)
    t = c.transaction()
    t.create(ns + "/tx-", sequence=True)
    t.check(ns + "/plain", 42)
    assert [type(r) for r in t.commit()] == [RolledBackError, BadVersionError]
    # deletes never lower the counter
    c.delete(ns + "/lock-0000000001")
    c.delete(ns + "/plain")
    assert c.create(ns + "/", sequence=True) == ns + "/0000000005"
    _, pst = c.get_children(ns, include_data=True)
    # stored cversion = 6 creations; exposed = 2*6 - 4 children
    assert pst.cversion == 8 and pst.numChildren == 4
    assert sorted(c.get_children(ns)) == ["0000000005", "e-0000000004", "lock-0000000000",
                                          "other-0000000003"]
    # sequential names under a fresh parent start at 0 again
    c.create(ns + "/sub")
    assert c.create(ns + "/sub/q", sequence=True) == ns + "/sub/q0000000000"


# ---------------------------------------------------------------------------
# ephemerals, session close and expiry


def test_ephemeral_deleted_on_session_close(env):
    owner = env.client()
    watcher = env.client()
    ns = env.ns
    owner.create(ns)
    _, st = owner.create(ns + "/e", b"x", ephemeral=True, include_data=True)
    assert st.ephemeralOwner == owner.client_id[0]
    owner.create(ns + "/keep", b"")
    log = WireLog(watcher)
    wd, wc = Watcher(), Watcher()
    assert watcher.exists(ns + "/e", watch=wd) == st
    assert sorted(watcher.get_children(ns, watch=wc)) == ["e", "keep"]
    owner.stop()            # closeSession: its reply comes after the deletes
    assert wd.wait() == [(EventType.DELETED, ns + "/e")]
    assert wc.wait() == [(EventType.CHILD, ns)]
    assert watcher.exists(ns + "/e") is None
    assert watcher.get_children(ns) == ["keep"]
    assert log.events() == [("NodeDeleted", ns + "/e"), ("NodeChildrenChanged", ns)]


def test_ephemeral_deleted_on_session_expiry(env):
    srv = env.start_server(tick_time=200)       # minSessionTimeout = 400 ms
    watcher = env.client(srv)
    ns = env.ns
    watcher.create(ns)
    owner = env.raw(srv, timeout_ms=400)
    assert owner.timeout_ms == 400
    r = owner.create(ns + "/e", b"", flags=1)
    assert r["err"] == 0 and r["body"] == {"path": ns + "/e"}
    st = watcher.exists(ns + "/e")
    assert st.ephemeralOwner == owner.session_id
    wd, wc = Watcher(), Watcher()
    watcher.exists(ns + "/e", watch=wd)
    watcher.get_children(ns, watch=wc)
    last_touch = time.monotonic()
    # The owner goes silent. The session must expire (T..T+tick after the
    # last touch), which deletes the ephemeral and closes the connection.
    assert wd.wait() == [(EventType.DELETED, ns + "/e")]
    assert wc.wait() == [(EventType.CHILD, ns)]
    assert time.monotonic() - last_touch >= 0.4
    assert owner.read_until_close(timeout=5.0)
    assert watcher.exists(ns + "/e") is None
    # resuming the expired session: the invalid-session answer, then close
    again = w.Conn(srv.address, timeout=5.0)
    env.raws.append(again)
    resp = again.handshake(session_id=owner.session_id, passwd=owner.passwd,
                           timeout_ms=400, expect_valid=False)
    assert (resp["timeOut"], resp["sessionId"], resp["passwd"]) == (0, 0, b"\0" * 16)
    assert again.read_until_close(timeout=5.0)
    # the watcher's own session (4 s, kept alive by kazoo's pings) survives
    assert watcher.connected
    assert watcher.exists(ns) is not None


def test_silent_connection_closed_by_session_expiry(env):
    """A client that stops talking loses its connection when its session
    expires (T..T+tick after the last touch, §10.2), not before: ZooKeeper's
    idle-connection timer has 10 s buckets, so the session expiry closes the
    connection, and a resume right after the close is told "expired". (A
    server that closes the connection first lets the client resume a session
    that has been silent for longer than its timeout.) Four sessions with
    staggered phases make an early close very unlikely to go unnoticed."""
    srv = env.start_server(tick_time=200)
    conns = []
    for i in range(4):
        if conns:
            time.sleep(0.05)    # stagger the session phases across a tick
        conns.append(env.raw(srv, timeout_ms=400))
    assert [c.timeout_ms for c in conns] == [400] * 4
    by_fd = {c.sock.fileno(): c for c in conns}
    outcomes = {}
    deadline = time.monotonic() + TIMEOUT
    while by_fd and time.monotonic() < deadline:
        ready, _, _ = select.select(list(by_fd), [], [], 0.5)
        for fd in ready:
            c = by_fd.pop(fd)
            assert c.read_until_close(timeout=1.0)
            again = w.Conn(srv.address, timeout=5.0)
            env.raws.append(again)
            resp = again.handshake(session_id=c.session_id, passwd=c.passwd,
                                   timeout_ms=400, expect_valid=False)
            outcomes[c.session_id] = resp.get("timeOut")
    assert not by_fd, "connections never closed by the server"
    assert outcomes == {c.session_id: 0 for c in conns}, \
        "sessions still resumable after the server closed their silent connection: %r" % (
            {hex(k): v for k, v in outcomes.items() if v})


def test_kazoo_sees_its_session_expire(env):
    srv = env.start_server(tick_time=200)
    watcher = env.client(srv)
    ns = env.ns
    watcher.create(ns)
    log = SessionLog()
    c = env.client(srv, timeout=0.4, session_log=log)
    assert log.timeouts == [400]
    old_sid = c.client_id[0]
    c.create(ns + "/e", ephemeral=True)
    wd = Watcher()
    watcher.exists(ns + "/e", watch=wd)
    states = []
    lost = threading.Event()
    back = threading.Event()

    def listener(state):
        states.append(state)
        if state == KazooState.LOST:
            lost.set()
        elif state == KazooState.CONNECTED and lost.is_set():
            back.set()

    c.add_listener(listener)
    conn = c._connection
    real_ping = conn._send_ping
    conn._send_ping = lambda connect_timeout: None     # the client goes quiet
    assert wd.wait() == [(EventType.DELETED, ns + "/e")]
    conn._send_ping = real_ping
    # kazoo notices the close, tries to resume, is told "expired" (LOST),
    # then starts a new session. (Resumes that succeed before that are
    # tolerated here; test_silent_connection_closed_by_session_expiry is
    # the strict check that the server does not close first.)
    assert lost.wait(TIMEOUT), states
    assert back.wait(TIMEOUT), states
    assert states[0] == KazooState.SUSPENDED
    assert states[-2:] == [KazooState.LOST, KazooState.CONNECTED], states
    assert set(states[1:-2]) <= {KazooState.CONNECTED, KazooState.SUSPENDED}, states
    assert c.client_id[0] not in (None, old_sid)
    assert c.exists(ns + "/e") is None
    assert c.create(ns + "/e2", ephemeral=True) == ns + "/e2"
    assert watcher.exists(ns + "/e2").ephemeralOwner == c.client_id[0]


def test_session_reattach_after_dropped_socket(env):
    c = env.client()
    other = env.client()
    ns = env.ns
    c.create(ns)
    c.create(ns + "/w", b"0")
    _, est = c.create(ns + "/e", ephemeral=True, include_data=True)
    sid, pw = c.client_id
    assert est.ephemeralOwner == sid
    w_data = Watcher()
    c.get(ns + "/w", watch=w_data)
    states = []
    reconnected = threading.Event()

    def listener(state):
        states.append(state)
        if state == KazooState.CONNECTED:
            reconnected.set()

    c.add_listener(listener)
    c._connection._socket.shutdown(socket.SHUT_RDWR)   # drop the TCP connection
    assert reconnected.wait(TIMEOUT), states
    assert states == [KazooState.SUSPENDED, KazooState.CONNECTED]
    assert c.client_id == (sid, pw)
    assert c.exists(ns + "/e") == est
    # kazoo 2.8 drops its watchers on a connection loss (a NONE event) and
    # does not re-register them; setWatches is tested raw below.
    assert w_data.wait() == [(EventType.NONE, None)]
    w2 = Watcher()
    c.get(ns + "/w", watch=w2)
    other.set(ns + "/w", b"1")
    assert w2.wait() == [(EventType.CHANGED, ns + "/w")]
    assert c.create(ns + "/after") == ns + "/after"
    # the old connection is gone from the server: one connection per client
    other.stop()
    assert c.exists(ns + "/e") == est


def test_set_watches_after_reattach_raw(env):
    ns = env.ns
    writer = env.client()
    writer.create(ns)
    writer.create(ns + "/same", b"")
    writer.create(ns + "/changed", b"")
    writer.create(ns + "/gone", b"")
    writer.create(ns + "/kids")
    writer.create(ns + "/quiet")
    a = env.raw()
    rel = a.ping()["zxid"]
    a.close()       # drop the connection; the session lives on
    writer.set(ns + "/changed", b"1")
    writer.delete(ns + "/gone")
    writer.create(ns + "/born")
    writer.create(ns + "/kids/k")
    b = env.raw(session_id=a.session_id, passwd=a.passwd, timeout_ms=a.timeout_ms)
    r = b.set_watches(rel, data=[ns + "/same", ns + "/changed", ns + "/gone"],
                      exist=[ns + "/born", ns + "/unborn"],
                      child=[ns + "/kids", ns + "/quiet", ns + "/gone"], xid=-8)
    assert (r["xid"], r["err"]) == (-8, 0)
    evs = [(e["type"], e["path"]) for e in b.take_events()]
    assert evs == [(3, ns + "/changed"), (2, ns + "/gone"), (1, ns + "/born"),
                   (4, ns + "/kids"), (2, ns + "/gone")]
    # the others were registered and fire on the next change
    writer.set(ns + "/same", b"x")
    writer.create(ns + "/unborn")
    writer.create(ns + "/quiet/q")
    assert b.ping()["err"] == 0
    evs = [(e["type"], e["path"]) for e in b.take_events()]
    assert evs == [(3, ns + "/same"), (1, ns + "/unborn"), (4, ns + "/quiet")]


def test_raw_reattach_closes_older_connection_and_checks_password(env):
    ns = env.ns
    a = env.raw()
    assert a.create(ns)["err"] == 0
    assert a.create(ns + "/e", flags=1)["err"] == 0
    b = env.raw(session_id=a.session_id, passwd=a.passwd, timeout_ms=a.timeout_ms)
    assert b.session_id == a.session_id
    assert b.timeout_ms == a.timeout_ms
    assert b.passwd == a.passwd
    # the server closes the older connection of the same session
    assert a.read_until_close(timeout=5.0)
    r = b.exists(ns + "/e")
    assert r["err"] == 0 and r["body"]["stat"]["ephemeralOwner"] == a.session_id
    # a wrong password gets the invalid-session answer and a close
    bad = w.Conn(env.server.address, timeout=5.0)
    env.raws.append(bad)
    wrong = bytes((x ^ 0xFF) for x in a.passwd)
    resp = bad.handshake(session_id=a.session_id, passwd=wrong, expect_valid=False)
    assert (resp["timeOut"], resp["sessionId"], resp["passwd"]) == (0, 0, b"\0" * 16)
    assert bad.read_until_close(timeout=5.0)
    # ZooKeeper closes the session's other connections *before* it checks
    # the password (§2.3 step 9), so even a bad attempt kicks `b` off ...
    assert b.read_until_close(timeout=5.0)
    # ... but the session itself is unharmed
    c = env.raw(session_id=a.session_id, passwd=a.passwd, timeout_ms=a.timeout_ms)
    r = c.exists(ns + "/e")
    assert r["err"] == 0 and r["body"]["stat"]["ephemeralOwner"] == a.session_id


# ---------------------------------------------------------------------------
# containers and TTL nodes


def test_container_reaped_after_last_child_deleted(env):
    srv = env.start_server(props={"znode.container.checkIntervalMs": "200"})
    c = env.client(srv)
    ns = env.ns
    c.create(ns)
    # never used: not a candidate
    path, st0 = kcall(c, CreateContainer(ns + "/never", b"", OPEN, 0))
    assert path == ns + "/never"
    assert (st0.ephemeralOwner, st0.version, st0.cversion, st0.numChildren) == (0, 0, 0, 0)
    path, st = kcall(c, CreateContainer(ns + "/used", b"d", OPEN, 0))
    assert path == ns + "/used"
    assert st == stat_of(czxid=st.czxid, mzxid=st.czxid, ctime=st.ctime, mtime=st.ctime,
                         version=0, cversion=0, aversion=0, ephemeralOwner=0,
                         dataLength=1, numChildren=0, pzxid=st.czxid)
    kcall(c, CreateContainer(ns + "/busy", b"", OPEN, 0))
    c.create(ns + "/busy/kid")
    c.create(ns + "/used/kid")
    # containers may have ephemeral children
    c.create(ns + "/used/eph", ephemeral=True)
    with pytest.raises(NodeExistsError):
        kcall(c, CreateContainer(ns + "/used", b"", OPEN, 0))
    wd = Watcher()
    assert c.exists(ns + "/used", watch=wd) is not None
    t = time.monotonic()
    c.delete(ns + "/used/kid")
    c.delete(ns + "/used/eph")
    assert wd.wait() == [(EventType.DELETED, ns + "/used")]
    assert time.monotonic() - t < 5.0
    # the reaper pass that took /used saw the others and left them
    assert c.exists(ns + "/never") == st0
    assert c.get_children(ns + "/busy") == ["kid"]
    # a container emptied by its ephemeral child's session closing is reaped
    kcall(c, CreateContainer(ns + "/lock", b"", OPEN, 0))
    holder = env.client(srv)
    holder.create(ns + "/lock/holder", ephemeral=True)
    wl = Watcher()
    c.exists(ns + "/lock", watch=wl)
    holder.stop()
    assert wl.wait() == [(EventType.DELETED, ns + "/lock")]
    assert sorted(c.get_children(ns)) == ["busy", "never"]


def test_ttl_nodes(env):
    srv = env.start_server(props={"zookeeper.extendedTypesEnabled": "true",
                                  "znode.container.checkIntervalMs": "200"})
    c = env.client(srv)
    ns = env.ns
    c.create(ns)
    t0 = now_ms()
    path, st = kcall(c, CreateTTL(ns + "/short", b"abc", OPEN, 5, 300))
    assert path == ns + "/short"
    assert st == stat_of(czxid=st.czxid, mzxid=st.czxid, ctime=st.ctime, mtime=st.ctime,
                         version=0, cversion=0, aversion=0, ephemeralOwner=0,
                         dataLength=3, numChildren=0, pzxid=st.czxid)
    assert st.ctime >= t0
    path, _ = kcall(c, CreateTTL(ns + "/seq-", b"", OPEN, 6, 3600000))
    assert path == ns + "/seq-0000000001"
    kcall(c, CreateTTL(ns + "/parent", b"", OPEN, 5, 300))
    c.create(ns + "/parent/kid")            # TTL nodes may have children
    kcall(c, CreateTTL(ns + "/long", b"", OPEN, 5, 3600000))
    for bad in (CreateTTL(ns + "/x", b"", OPEN, 5, 0),
                CreateTTL(ns + "/x", b"", OPEN, 5, -1),
                CreateTTL(ns + "/x", b"", OPEN, 5, 0x10000000000),
                CreateTTL(ns + "/x", b"", OPEN, 0, 1000),
                CreateTTL(ns + "/x", b"", OPEN, 1, 1000)):
        with pytest.raises(BadArgumentsError):
            kcall(c, bad)
    # a plain create with a TTL mode has an implicit ttl of -1
    with pytest.raises(BadArgumentsError):
        kcall(c, Create2(ns + "/x", b"", OPEN, 5))
    assert c.exists(ns + "/x") is None

    wd = Watcher()
    assert c.exists(ns + "/short", watch=wd) is not None
    assert wd.wait() == [(EventType.DELETED, ns + "/short")]
    assert now_ms() - st.ctime >= 300
    # the same reaper pass left the others alone
    assert sorted(c.get_children(ns)) == ["long", "parent", "seq-0000000001"]
    # an expired TTL node is reaped once its last child goes
    wp = Watcher()
    c.exists(ns + "/parent", watch=wp)
    c.delete(ns + "/parent/kid")
    assert wp.wait() == [(EventType.DELETED, ns + "/parent")]
    assert sorted(c.get_children(ns)) == ["long", "seq-0000000001"]


# ---------------------------------------------------------------------------
# transactions


def test_transaction_success(env):
    c = env.client()
    ns = env.ns
    c.create(ns)
    c.create(ns + "/b", b"b")
    wc = Watcher()
    c.exists(ns + "/a", watch=wc)
    t = c.transaction()
    t.create(ns + "/a", b"1")
    t.create(ns + "/s-", b"", sequence=True)
    t.set_data(ns + "/a", b"22")
    t.check(ns + "/a", 1)
    t.delete(ns + "/b")
    res = t.commit()
    assert len(res) == 5
    assert res[0] == ns + "/a"
    assert res[1] == ns + "/s-0000000002"
    assert res[3] is True and res[4] is True
    sst = res[2]
    a_data, ast = c.get(ns + "/a")
    assert a_data == b"22"
    assert ast == sst
    # every op of a multi shares one zxid
    assert ast.czxid == ast.mzxid == ast.pzxid
    assert (ast.version, ast.dataLength) == (1, 2)
    assert c.exists(ns + "/s-0000000002").czxid == ast.czxid
    pst = c.exists(ns)
    assert pst.pzxid == ast.czxid
    assert pst.numChildren == 2
    assert c.exists(ns + "/b") is None
    assert wc.wait() == [(EventType.CREATED, ns + "/a")]


def test_transaction_failure_is_atomic(env):
    c = env.client()
    ns = env.ns
    c.create(ns)
    c.create(ns + "/a", b"a")
    before = c.exists(ns)
    log = WireLog(c)
    c.exists(ns + "/x", watch=Watcher())
    c.get_children(ns, watch=Watcher())
    t = c.transaction()
    t.create(ns + "/x", b"")
    t.set_data(ns + "/a", b"changed")
    t.check(ns + "/a", 99)
    t.delete(ns + "/a")
    res = t.commit()
    assert [type(r) for r in res] == [RolledBackError, RolledBackError, BadVersionError,
                                      RuntimeInconsistency]
    assert c.exists(ns + "/x") is None
    assert c.get(ns + "/a")[0] == b"a"
    assert c.exists(ns + "/a").version == 0
    after = c.exists(ns)
    assert after == before
    # failing on the first op
    t = c.transaction()
    t.create(ns + "/a")
    t.create(ns + "/y")
    assert [type(r) for r in t.commit()] == [NodeExistsError, RuntimeInconsistency]
    assert c.exists(ns + "/y") is None
    # no watch fired for anything
    assert log.events() == []


def test_transaction_sees_its_own_pending_changes(env):
    c = env.client()
    ns = env.ns
    c.create(ns)
    before = c.exists(ns)
    t = c.transaction()
    t.create(ns + "/a", b"1")
    t.create(ns + "/a/b", b"2")
    t.set_data(ns + "/a/b", b"3")
    t.check(ns + "/a/b", 1)
    t.delete(ns + "/a/b")
    t.delete(ns + "/a")
    t.create(ns + "/q-", sequence=True)
    t.create(ns + "/q-", sequence=True)
    res = t.commit()
    assert res[:2] == [ns + "/a", ns + "/a/b"]
    assert res[2].version == 1 and res[2].dataLength == 1
    assert res[3:6] == [True, True, True]
    assert res[6:] == [ns + "/q-0000000001", ns + "/q-0000000002"]
    assert sorted(c.get_children(ns)) == ["q-0000000001", "q-0000000002"]
    after = c.exists(ns)
    z = c.exists(ns + "/q-0000000001").czxid
    # 3 creations and 1 deletion under ns: exposed cversion +4, one zxid
    assert after == before._replace(cversion=4, numChildren=2, pzxid=z)
    # a failing op inside such a chain undoes it all
    t = c.transaction()
    t.create(ns + "/x")
    t.delete(ns + "/x")
    t.delete(ns + "/x")
    assert [type(r) for r in t.commit()] == [RolledBackError, RolledBackError, NoNodeError]
    assert c.exists(ns) == after


# ---------------------------------------------------------------------------
# watches


def test_data_and_exists_watches_are_one_shot(env):
    c = env.client()
    writer = env.client()
    ns = env.ns
    c.create(ns)
    c.create(ns + "/d", b"0")
    log = WireLog(c)
    wd, we, wn = Watcher(), Watcher(), Watcher()
    c.get(ns + "/d", watch=wd)
    c.exists(ns + "/new", watch=we)             # exists watch on a missing node
    c.exists(ns + "/d", watch=wn)
    writer.set(ns + "/d", b"1")
    writer.set(ns + "/d", b"2")
    writer.create(ns + "/new")
    writer.delete(ns + "/new")
    assert wd.wait() == [(EventType.CHANGED, ns + "/d")]
    assert wn.wait() == [(EventType.CHANGED, ns + "/d")]
    assert we.wait() == [(EventType.CREATED, ns + "/new")]
    c.sync(ns)          # sync point: every notification queued before it is here
    assert log.events() == [("NodeDataChanged", ns + "/d"), ("NodeCreated", ns + "/new")]
    # child changes do not fire data watches; setData does not fire child watches
    log.clear()
    wd2, wc2 = Watcher(), Watcher()
    c.get(ns + "/d", watch=wd2)
    c.get_children(ns + "/d", watch=wc2)
    writer.create(ns + "/d/kid")
    assert wc2.wait() == [(EventType.CHILD, ns + "/d")]
    c.sync(ns)
    log.clear()
    # create: NodeCreated on the node before NodeChildrenChanged on its parent
    c.exists(ns + "/d/kid2", watch=Watcher())
    c.get_children(ns + "/d", watch=Watcher())
    writer.create(ns + "/d/kid2")
    c.sync(ns)
    assert log.events() == [("NodeCreated", ns + "/d/kid2"), ("NodeChildrenChanged", ns + "/d")]
    log.clear()
    writer.set(ns + "/d", b"3")
    assert wd2.wait() == [(EventType.CHANGED, ns + "/d")]
    c.sync(ns)
    assert log.events() == [("NodeDataChanged", ns + "/d")]


def test_child_watch_one_shot_and_delete_events(env):
    c = env.client()
    writer = env.client()
    ns = env.ns
    c.create(ns)
    c.create(ns + "/p")
    log = WireLog(c)
    wc = Watcher()
    assert c.get_children(ns + "/p", watch=wc) == []
    writer.create(ns + "/p/a")
    writer.create(ns + "/p/b")
    writer.delete(ns + "/p/a")
    assert wc.wait() == [(EventType.CHILD, ns + "/p")]
    c.sync(ns)
    assert log.events() == [("NodeChildrenChanged", ns + "/p")]
    # delete: data watch and child watch on the node -> ONE NodeDeleted;
    # child watch on the parent -> NodeChildrenChanged
    log.clear()
    wd, wk, wp = Watcher(), Watcher(), Watcher()
    c.get(ns + "/p/b", watch=wd)
    c.get_children(ns + "/p/b", watch=wk)
    c.get_children(ns + "/p", watch=wp)
    writer.delete(ns + "/p/b")
    assert wd.wait() == [(EventType.DELETED, ns + "/p/b")]
    assert wk.wait() == [(EventType.DELETED, ns + "/p/b")]
    assert wp.wait() == [(EventType.CHILD, ns + "/p")]
    c.sync(ns)
    assert log.events() == [("NodeDeleted", ns + "/p/b"), ("NodeChildrenChanged", ns + "/p")]


def test_watch_event_before_writers_own_reply(env):
    c = env.client()
    ns = env.ns
    c.create(ns)
    c.create(ns + "/d", b"")
    log = WireLog(c)
    c.get(ns + "/d", watch=Watcher())
    c.get_children(ns, watch=Watcher())
    log.clear()
    c.set(ns + "/d", b"x")
    c.create(ns + "/n")
    assert log.items == [
        ("event", "NodeDataChanged", ns + "/d"), ("reply", "SetData", 0),
        ("event", "NodeChildrenChanged", ns), ("reply", "Create", 0),
    ]


def test_watch_event_before_later_read_reply_raw(env):
    ns = env.ns
    a = env.raw()
    b = env.raw()
    assert a.create(ns)["err"] == 0
    assert a.create(ns + "/d", b"0")["err"] == 0
    assert a.get_data(ns + "/d", watch=True)["err"] == 0
    assert a.get_children(ns, watch=True)["err"] == 0
    r = b.set_data(ns + "/d", b"1")
    assert r["err"] == 0
    zset = r["zxid"]
    r = b.create(ns + "/c")
    assert r["err"] == 0
    # A's next read: both notifications come before its reply, in zxid order
    a.send_request("getData", w.rec_path_watch(ns + "/d", False))
    m1 = a.read_message()
    m2 = a.read_message()
    m3 = a.read_message()
    assert (m1["t"], m1["type"], m1["path"], m1["state"]) == ("event", 3, ns + "/d", 3)
    assert (m2["t"], m2["type"], m2["path"], m2["state"]) == ("event", 4, ns, 3)
    assert m3["t"] == "reply" and m3["err"] == 0
    assert m3["body"]["data"] == b"1"
    assert m3["body"]["stat"]["mzxid"] == zset
    a.take_events()
    # a writer that holds the watch gets the event before its own reply
    assert a.get_data(ns + "/d", watch=True)["err"] == 0
    a.send_request("setData", w.rec_set_data(ns + "/d", b"2"))
    m1 = a.read_message()
    m2 = a.read_message()
    assert (m1["t"], m1["type"], m1["path"]) == ("event", 3, ns + "/d")
    assert (m2["t"], m2["op"], m2["err"]) == ("reply", "setData", 0)
    a.take_events()
    assert a.ping()["err"] == 0
    assert a.take_events() == []


def test_persistent_watch_raw(env):
    ns = env.ns
    writer = env.client()
    writer.create(ns)
    a = env.raw()
    r = a.add_watch(ns + "/pw", w.ADD_WATCH_PERSISTENT)
    assert (r["err"], r["body"]) == (0, {"err": 0})
    writer.create(ns + "/pw")
    writer.create(ns + "/pw/c")
    writer.set(ns + "/pw", b"x")
    writer.set(ns + "/pw/c", b"x")      # not the watched path: nothing
    writer.delete(ns + "/pw/c")
    writer.delete(ns + "/pw")
    writer.create(ns + "/pw")           # still registered after all that
    assert a.ping()["err"] == 0
    evs = [(e["type"], e["path"]) for e in a.take_events()]
    assert evs == [(1, ns + "/pw"), (4, ns + "/pw"), (3, ns + "/pw"), (4, ns + "/pw"),
                   (2, ns + "/pw"), (1, ns + "/pw")]
    # removeWatches removes it; a second removal finds nothing
    assert a.remove_watches(ns + "/pw", w.WATCHER_ANY)["err"] == 0
    assert a.remove_watches(ns + "/pw", w.WATCHER_ANY)["err"] == w.NOWATCHER
    writer.delete(ns + "/pw")
    assert a.ping()["err"] == 0
    assert a.take_events() == []
    # bad mode
    r = a.add_watch(ns + "/pw", 2)
    assert r["err"] == w.MARSHALLINGERROR


def test_persistent_recursive_watch_raw(env):
    ns = env.ns
    writer = env.client()
    writer.create(ns)
    a = env.raw()
    assert a.add_watch(ns + "/rw", w.ADD_WATCH_PERSISTENT_RECURSIVE)["err"] == 0
    writer.create(ns + "/rw")
    writer.create(ns + "/rw/c")
    writer.create(ns + "/rw/c/d")
    writer.set(ns + "/rw/c", b"x")
    writer.delete(ns + "/rw/c/d")
    writer.create(ns + "/rwx")          # a string prefix, not a descendant
    writer.set(ns, b"y")                # an ancestor: not covered
    writer.delete(ns + "/rw/c")
    assert a.ping()["err"] == 0
    evs = [(e["type"], e["path"]) for e in a.take_events()]
    assert evs == [(1, ns + "/rw"), (1, ns + "/rw/c"), (1, ns + "/rw/c/d"),
                   (3, ns + "/rw/c"), (2, ns + "/rw/c/d"), (2, ns + "/rw/c")]


# ---------------------------------------------------------------------------
# auth and ACLs


def test_digest_acl_and_getacl_masking(env):
    ns = env.ns
    owner = env.client(auth=[("digest", "user:pass")])
    stranger = env.client()
    wrong = env.client(auth=[("digest", "user:wrong")])
    owner.create(ns)
    acl = [make_digest_acl("user", "pass", all=True)]
    assert acl[0] == ACL(31, Id("digest", USER_ID))
    owner.create(ns + "/secret", b"s", acl=acl)
    owner.create(ns + "/secret/kid", b"k")
    assert owner.get(ns + "/secret")[0] == b"s"
    for c in (stranger, wrong):
        with pytest.raises(NoAuthError):
            c.get(ns + "/secret")
        with pytest.raises(NoAuthError):
            c.set(ns + "/secret", b"x")
        with pytest.raises(NoAuthError):
            c.get_children(ns + "/secret")
        with pytest.raises(NoAuthError):
            c.create(ns + "/secret/new")
        with pytest.raises(NoAuthError):
            c.delete(ns + "/secret/kid")
        with pytest.raises(NoAuthError):
            c.get_acls(ns + "/secret")      # neither READ nor ADMIN
        with pytest.raises(NoAuthError):
            c.set_acls(ns + "/secret", OPEN)
        # exists needs no permission
        assert c.exists(ns + "/secret").numChildren == 1
    # getACL masks digest ids for callers without ADMIN
    mixed = [ACL(31, Id("digest", USER_ID)), ACL(1, Id("world", "anyone"))]
    owner.create(ns + "/mixed", b"m", acl=mixed)
    acls, st = stranger.get_acls(ns + "/mixed")
    assert acls == [ACL(31, Id("digest", "user:x")), ACL(1, Id("world", "anyone"))]
    assert owner.get_acls(ns + "/mixed") == (mixed, st)
    assert stranger.get(ns + "/mixed")[0] == b"m"
    with pytest.raises(NoAuthError):
        stranger.set(ns + "/mixed", b"x")
    # authenticating later gives access on the same connection
    stranger.add_auth("digest", "user:pass")
    assert stranger.get(ns + "/secret")[0] == b"s"
    assert stranger.get_acls(ns + "/mixed") == (mixed, st)
    # cleanup needs DELETE on the parent only
    owner.delete(ns + "/secret/kid")


def test_permission_targets(env):
    """Which node's ACL each operation checks, and which bit (§11.1)."""
    ns = env.ns
    c = env.client()
    c.create(ns)
    # parent with READ|CREATE only: creating works, deleting a child needs
    # DELETE on the parent
    c.create(ns + "/rc", acl=[ACL(5, Id("world", "anyone"))])
    c.create(ns + "/rc/kid", acl=OPEN)
    with pytest.raises(NoAuthError):
        c.delete(ns + "/rc/kid")
    # a node nobody may touch can still be deleted through its parent
    c.create(ns + "/none", b"n", acl=[ACL(0, Id("world", "anyone"))])
    for op in (lambda: c.get(ns + "/none"), lambda: c.get_children(ns + "/none"),
               lambda: c.set(ns + "/none", b"x"), lambda: c.set_acls(ns + "/none", OPEN),
               lambda: c.get_acls(ns + "/none"), lambda: c.create(ns + "/none/x"),
               lambda: kcall(c, GetAllChildrenNumber(ns + "/none"))):
        with pytest.raises(NoAuthError):
            op()
    assert c.exists(ns + "/none").dataLength == 1
    assert c.sync(ns + "/none") == ns + "/none"
    t = c.transaction()
    t.check(ns + "/none", 0)
    assert [type(r) for r in t.commit()] == [NoAuthError]
    c.delete(ns + "/none")
    # WRITE only: setData yes, getData no
    c.create(ns + "/wo", b"w", acl=[ACL(2, Id("world", "anyone"))])
    assert c.set(ns + "/wo", b"W").version == 1
    with pytest.raises(NoAuthError):
        c.get(ns + "/wo")
    # ADMIN only: getACL and setACL yes (unmasked), data no
    digest_admin = [ACL(16, Id("world", "anyone")), ACL(1, Id("digest", USER_ID))]
    c.create(ns + "/adm", b"a", acl=digest_admin)
    assert c.get_acls(ns + "/adm")[0] == digest_admin
    with pytest.raises(NoAuthError):
        c.get(ns + "/adm")
    # READ only: getACL allowed but digest ids masked
    ro = [ACL(1, Id("world", "anyone")), ACL(31, Id("digest", USER_ID))]
    c.create(ns + "/ro", b"r", acl=ro)
    assert c.get_acls(ns + "/ro")[0] == [ACL(1, Id("world", "anyone")),
                                         ACL(31, Id("digest", "user:x"))]
    assert c.get(ns + "/ro")[0] == b"r"
    assert c.set_acls(ns + "/adm", OPEN).aversion == 1
    assert c.get(ns + "/adm")[0] == b"a"


def test_who_am_i_and_digest_without_colon(env):
    ns = env.ns
    c = env.client()
    assert kcall(c, WhoAmI()) == [("ip", "127.0.0.1")]
    c.add_auth("digest", "user:pass")
    c.add_auth("digest", "user:pass")           # identities are a set
    assert kcall(c, WhoAmI()) == [("digest", "user"), ("ip", "127.0.0.1")]
    # no ':' in the credentials: the whole string is the user and is hashed
    solo = env.client(auth=[("digest", "solo")])
    solo_id = "solo:" + base64.b64encode(hashlib.sha1(b"solo").digest()).decode()
    assert kcall(solo, WhoAmI()) == [("digest", "solo"), ("ip", "127.0.0.1")]
    solo.create(ns, b"", acl=CREATOR_ALL_ACL)
    assert solo.get_acls(ns)[0] == [ACL(31, Id("digest", solo_id))]
    with pytest.raises(NoAuthError):
        c.get(ns)
    assert solo.get(ns)[0] == b""


def test_unknown_auth_scheme_fails_and_closes(env):
    c = env.client()
    c.create(env.ns)
    with pytest.raises(AuthFailedError):
        c.add_auth("nosuchscheme", "whatever")
    # on the wire: AUTHFAILED with xid -4 and zxid 0, then the server closes
    r = env.raw()
    reply = r.auth("nosuchscheme", b"whatever")
    assert (reply["xid"], reply["zxid"], reply["err"]) == (-4, 0, -115)
    assert r.read_until_close(timeout=5.0)


def test_auth_scheme_expansion(env):
    ns = env.ns
    anon = env.client()
    anon.create(ns)
    with pytest.raises(InvalidACLError):
        anon.create(ns + "/c", acl=CREATOR_ALL_ACL)
    # an ip identity does not satisfy `auth`
    anon.add_auth("ip", "127.0.0.1")
    with pytest.raises(InvalidACLError):
        anon.create(ns + "/c", acl=CREATOR_ALL_ACL)
    c = env.client(auth=[("digest", "user:pass")])
    c.create(ns + "/c", b"", acl=CREATOR_ALL_ACL)
    assert c.get_acls(ns + "/c")[0] == [ACL(31, Id("digest", USER_ID))]
    two = env.client(auth=[("digest", "user:pass"), ("digest", "bob:pw")])
    two.create(ns + "/two", b"", acl=[ACL(21, Id("auth", ""))])
    acls = two.get_acls(ns + "/two")[0]
    assert sorted(acls, key=lambda a: a.id.id) == sorted(
        [ACL(21, Id("digest", USER_ID)), ACL(21, Id("digest", BOB_ID))],
        key=lambda a: a.id.id)
    # without ADMIN the same client sees the ids masked
    two.create(ns + "/two-ro", b"", acl=[ACL(5, Id("auth", ""))])
    acls = two.get_acls(ns + "/two-ro")[0]
    assert sorted(acls, key=lambda a: a.id.id) == [ACL(5, Id("digest", "bob:x")),
                                                   ACL(5, Id("digest", "user:x"))]
    # setACL expands `auth` too
    c.set_acls(ns + "/c", [ACL(3, Id("auth", ""))])
    assert c.get_acls(ns + "/c")[0] == [ACL(3, Id("digest", "user:x"))]  # no ADMIN now
    with pytest.raises(NoAuthError):
        anon.get(ns + "/c")


def test_ip_acls(env):
    ns = env.ns
    c = env.client()
    c.create(ns)
    c.create(ns + "/host", b"h", acl=[ACL(31, Id("ip", "127.0.0.1"))])
    c.create(ns + "/net", b"n", acl=[ACL(1, Id("ip", "127.0.0.0/8"))])
    c.create(ns + "/other", b"o", acl=[ACL(31, Id("ip", "10.0.0.0/8"))])
    c.create(ns + "/zero", b"z", acl=[ACL(31, Id("ip", "0.0.0.0/0"))])
    assert c.get(ns + "/host")[0] == b"h"
    assert c.set(ns + "/host", b"H").version == 1
    assert c.get(ns + "/net")[0] == b"n"
    with pytest.raises(NoAuthError):
        c.set(ns + "/net", b"x")
    with pytest.raises(NoAuthError):
        c.get(ns + "/other")
    with pytest.raises(NoAuthError):
        c.set(ns + "/other", b"x")
    with pytest.raises(NoAuthError):
        c.create(ns + "/other/kid")
    assert c.exists(ns + "/other") is not None
    assert c.get(ns + "/zero")[0] == b"z"
    # ip ids are not masked
    assert c.get_acls(ns + "/net")[0] == [ACL(1, Id("ip", "127.0.0.0/8"))]


def test_super_digest_bypasses_acls(env):
    srv = env.start_server(props={
        "zookeeper.DigestAuthenticationProvider.superDigest": SUPER_DIGEST})
    ns = env.ns
    user = env.client(srv, auth=[("digest", "user:pass")])
    admin = env.client(srv, auth=[("digest", "super:secret")])
    anon = env.client(srv)
    user.create(ns)
    user.create(ns + "/locked", b"L", acl=[make_digest_acl("user", "pass", read=True)])
    user.create(ns + "/nothing", b"N", acl=[ACL(0, Id("world", "anyone"))])
    with pytest.raises(NoAuthError):
        anon.get(ns + "/locked")
    with pytest.raises(NoAuthError):
        user.set(ns + "/locked", b"x")
    with pytest.raises(NoAuthError):
        user.get(ns + "/nothing")
    assert admin.get(ns + "/locked")[0] == b"L"
    assert admin.set(ns + "/locked", b"S").version == 1
    assert admin.get(ns + "/nothing")[0] == b"N"
    admin.create(ns + "/locked/kid")
    assert admin.get_children(ns + "/locked") == ["kid"]
    admin.delete(ns + "/locked/kid")
    assert admin.get_acls(ns + "/locked")[0] == [ACL(1, Id("digest", USER_ID))]
    assert admin.set_acls(ns + "/locked", OPEN).aversion == 1
    assert anon.get(ns + "/locked")[0] == b"S"
    # wrong super password: an ordinary digest identity
    fake = env.client(srv, auth=[("digest", "super:wrong")])
    with pytest.raises(NoAuthError):
        fake.get(ns + "/nothing")
    # the super identity shows up in whoAmI with an empty user
    assert kcall(admin, WhoAmI()) == [("digest", "super"), ("ip", "127.0.0.1"),
                                      ("super", "")]
    assert kcall(fake, WhoAmI()) == [("digest", "super"), ("ip", "127.0.0.1")]


def test_skip_acl(env):
    srv = env.start_server(props={"zookeeper.skipACL": "yes"})
    ns = env.ns
    user = env.client(srv, auth=[("digest", "user:pass")])
    anon = env.client(srv)
    user.create(ns)
    user.create(ns + "/locked", b"L", acl=[make_digest_acl("user", "pass", read=True)])
    assert anon.get(ns + "/locked")[0] == b"L"
    assert anon.set(ns + "/locked", b"x").version == 1
    anon.create(ns + "/locked/kid")
    anon.delete(ns + "/locked/kid")
    assert anon.get_acls(ns + "/locked")[0] == [ACL(1, Id("digest", USER_ID))]
    assert anon.set_acls(ns + "/locked", OPEN).aversion == 1
    # ACL validation still applies
    with pytest.raises(InvalidACLError):
        anon.create(ns + "/bad", acl=[ACL(31, Id("world", "foo"))])


# ---------------------------------------------------------------------------
# limits and session timeouts


def try_handshake(env, srv):
    """A new-session handshake; {"closed": True} if the server closes the
    connection instead (at accept time the close can surface as EPIPE or
    ECONNRESET on connect or send)."""
    try:
        conn = w.Conn(srv.address, timeout=5.0)
    except (ConnectionResetError, BrokenPipeError):
        return {"closed": True}
    env.raws.append(conn)
    try:
        return conn.handshake(expect_valid=False)
    except w.Closed:
        return {"closed": True}


def test_max_client_cnxns(env):
    srv = env.start_server(cfg={"maxClientCnxns": "2"})
    ns = env.ns
    a = env.client(srv)
    b = env.client(srv)
    assert try_handshake(env, srv) == {"closed": True}
    # a four-letter-word connection counts too: closed, nothing written
    # (an RST instead of a FIN is the same answer)
    try:
        out = srv.four_letter_word("ruok")
    except (ConnectionResetError, BrokenPipeError):
        out = ""
    assert out == ""
    # the two admitted clients keep working
    a.create(ns, b"a")
    assert b.get(ns)[0] == b"a"
    assert b.set(ns, b"b").version == 1
    assert a.get(ns)[0] == b"b"
    # once one leaves, a new connection is admitted (the server notices the
    # close asynchronously: bounded retry)
    b.stop()

    assert eventually(lambda: try_handshake(env, srv).get("timeOut", 0) > 0, True)


def test_session_timeout_negotiation_defaults(env):
    log = SessionLog()
    # tickTime 2000: min 4000, max 40000
    for requested, expected in ((1.0, 4000), (10.0, 10000), (100.0, 40000)):
        del log.timeouts[:]
        c = env.client(timeout=requested, session_log=log)
        assert log.timeouts == [expected]
        c.stop()
    for requested, expected in ((1, 4000), (4000, 4000), (39999, 39999),
                                (10 ** 9, 40000), (0, 4000), (-5, 4000)):
        r = env.raw(timeout_ms=requested)
        assert r.timeout_ms == expected
        assert r.connect_response["timeOut"] == expected


def test_session_timeout_negotiation_configured(env):
    srv = env.start_server(cfg={"minSessionTimeout": "3000", "maxSessionTimeout": "5000"})
    log = SessionLog()
    for requested, expected in ((1.0, 3000), (4.0, 4000), (60.0, 5000)):
        del log.timeouts[:]
        c = env.client(srv, timeout=requested, session_log=log)
        assert log.timeouts == [expected]
        c.stop()


# ---------------------------------------------------------------------------
# built-in nodes, getAllChildrenNumber, getEphemerals


def test_builtin_nodes_on_fresh_server(env):
    srv = env.start_server()
    c = env.client(srv)
    zero = dict(czxid=0, mzxid=0, ctime=0, mtime=0, version=0, cversion=0, aversion=0,
                ephemeralOwner=0, dataLength=0, numChildren=0, pzxid=0)
    root_data, root = c.get("/")
    assert root_data == b""
    assert root == stat_of(**dict(zero, cversion=-1, numChildren=1))
    assert c.get_children("/") == ["zookeeper"]
    assert c.get_acls("/") == (OPEN, root)
    data, zk = c.get("/zookeeper")
    assert data == b""
    assert zk == stat_of(**dict(zero, cversion=-2, numChildren=2))
    assert sorted(c.get_children("/zookeeper")) == ["config", "quota"]
    assert c.get_acls("/zookeeper") == (OPEN, zk)
    assert c.get("/zookeeper/quota") == (b"", stat_of(**zero))
    assert c.get_acls("/zookeeper/quota") == (OPEN, stat_of(**zero))
    data, cfg = c.get("/zookeeper/config")
    assert data == b""
    assert cfg == stat_of(**dict(zero, aversion=-1))
    assert c.get_acls("/zookeeper/config") == (READ_ACL_UNSAFE, cfg)
    assert kcall(c, GetAllChildrenNumber("/")) == 3
    assert kcall(c, GetAllChildrenNumber("/zookeeper")) == 2
    # the root's exposed cversion follows 2*stored - numChildren
    _, st = c.create("/top", include_data=True)
    assert c.exists("/") == root._replace(cversion=0, numChildren=2, pzxid=st.czxid)
    c.delete("/top")
    zdel = c.last_zxid
    assert c.exists("/") == root._replace(cversion=1, numChildren=1, pzxid=zdel)
    # children of /zookeeper and /zookeeper/quota may be created and deleted
    c.create("/zookeeper/mine")
    assert c.exists("/zookeeper").numChildren == 3
    c.delete("/zookeeper/mine")


def test_get_all_children_number_and_get_ephemerals(env):
    ns = env.ns
    c = env.client()
    other = env.client()
    c.create(ns)
    c.create(ns + "/a")
    c.create(ns + "/a/x")
    c.create(ns + "/a/x/y")
    c.create(ns + "/b")
    assert kcall(c, GetAllChildrenNumber(ns)) == 4
    assert kcall(c, GetAllChildrenNumber(ns + "/a")) == 2
    assert kcall(c, GetAllChildrenNumber(ns + "/b")) == 0
    with pytest.raises(NoNodeError):
        kcall(c, GetAllChildrenNumber(ns + "/missing"))
    c.create(ns + "/locked", acl=[ACL(31, Id("ip", "10.0.0.0/8"))])
    with pytest.raises(NoAuthError):
        kcall(c, GetAllChildrenNumber(ns + "/locked"))

    c.create(ns + "/e1", ephemeral=True)
    c.create(ns + "/a/e2", ephemeral=True)
    c.create(ns + "/bx", ephemeral=True)
    other.create(ns + "/b/theirs", ephemeral=True)
    mine = sorted([ns + "/e1", ns + "/a/e2", ns + "/bx"])
    assert sorted(kcall(c, GetEphemerals(ns))) == mine
    assert sorted(kcall(c, GetEphemerals("/"))) == mine
    assert sorted(kcall(c, GetEphemerals(""))) == mine
    assert sorted(kcall(c, GetEphemerals(ns + "/a"))) == [ns + "/a/e2"]
    # a plain string prefix: /b matches /bx but not the other session's node
    assert sorted(kcall(c, GetEphemerals(ns + "/b"))) == [ns + "/bx"]
    assert kcall(c, GetEphemerals(ns + "/zzz")) == []
    assert kcall(other, GetEphemerals(ns)) == [ns + "/b/theirs"]


# ---------------------------------------------------------------------------
# four-letter words


def eventually(fn, expected, timeout=5.0):
    """Poll fn() until it returns `expected` (bounded); returns the last value
    compared, so a failure shows it. Only for states no event announces."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        got = fn()
        if got == expected or time.monotonic() > deadline:
            assert got == expected
            return True
        time.sleep(delay)       # polling interval, not a wait for an event
        delay = min(delay * 2, 0.2)


def parse_srvr(text):
    out = {}
    for line in text.splitlines():
        if ": " in line and not line.startswith(" "):
            k, v = line.split(": ", 1)
            out[k] = v
    return out


SRVR_KEYS = ["Zookeeper version", "Latency min/avg/max", "Received", "Sent", "Connections",
             "Outstanding", "Zxid", "Mode", "Node count"]


def mntr(srv):
    text = srv.four_letter_word("mntr")
    lines = text.split("\n")
    assert lines[-1] == ""
    pairs = [line.split("\t") for line in lines[:-1]]
    assert all(len(p) == 2 for p in pairs), text
    return [p[0] for p in pairs], dict(pairs)


def test_four_letter_words(env):
    srv = env.start_server()
    assert srv.four_letter_word("ruok") == "imok"
    text = srv.four_letter_word("srvr")
    assert text.endswith("\n")
    assert [line.split(": ")[0] for line in text.splitlines()] == SRVR_KEYS
    s = parse_srvr(text)
    # "3.8.0-<build id>, built on <date>": tools parse this loosely, but
    # both parts must be there
    assert re.match(r"^3\.8\.\d+-\S+, built on \S.*\S$", s["Zookeeper version"]), \
        s["Zookeeper version"]
    assert s["Mode"] == "standalone"
    assert s["Node count"] == "5"
    assert s["Outstanding"] == "0"
    assert s["Zxid"] == "0x0"
    keys, m = mntr(srv)
    assert keys[:2] == ["zk_version", "zk_server_state"]
    assert m["zk_server_state"] == "standalone"
    assert m["zk_version"] == s["Zookeeper version"]
    for k in ("zk_avg_latency", "zk_max_latency", "zk_min_latency", "zk_packets_received",
              "zk_packets_sent", "zk_num_alive_connections", "zk_outstanding_requests",
              "zk_znode_count", "zk_watch_count", "zk_ephemerals_count",
              "zk_approximate_data_size", "zk_open_file_descriptor_count",
              "zk_max_file_descriptor_count"):
        assert k in m, k
    assert m["zk_znode_count"] == "5"
    assert m["zk_ephemerals_count"] == "0"
    assert m["zk_watch_count"] == "0"
    assert m["zk_outstanding_requests"] == "0"
    assert m["zk_num_alive_connections"] == "1"     # the mntr connection itself

    c = env.client(srv)
    _, st = c.create("/a", b"xyz", include_data=True)
    s = parse_srvr(srv.four_letter_word("srvr"))
    assert s["Node count"] == "6"
    assert s["Zxid"] == hex(st.czxid)
    assert s["Connections"] == "2"
    _, m = mntr(srv)
    assert m["zk_znode_count"] == "6"
    assert m["zk_num_alive_connections"] == "2"
    c.create("/e", ephemeral=True)
    _, m = mntr(srv)
    assert (m["zk_znode_count"], m["zk_ephemerals_count"]) == ("7", "1")
    c.get("/a", watch=Watcher())
    _, m = mntr(srv)
    assert m["zk_watch_count"] == "1"
    c.get_children("/a", watch=Watcher())
    c.exists("/nothere", watch=Watcher())
    _, m = mntr(srv)
    assert m["zk_watch_count"] == "3"
    c2 = env.client(srv)
    _, m = mntr(srv)
    assert m["zk_num_alive_connections"] == "3"
    c2.set("/a", b"1")          # fires and removes the data watch on /a
    c.sync("/")
    _, m = mntr(srv)
    assert m["zk_watch_count"] == "2"
    c.stop()                    # closes the session: its ephemeral goes
    _, m = mntr(srv)
    assert (m["zk_znode_count"], m["zk_ephemerals_count"]) == ("6", "0")
    # the server drops the connection (and its watches) just after the
    # closeSession reply: poll, with a bound, for what has no event
    assert eventually(lambda: (mntr(srv)[1]["zk_watch_count"],
                               mntr(srv)[1]["zk_num_alive_connections"]), ("0", "2"))
    st = srv.four_letter_word("stat")
    lines = st.split("\n")
    assert lines[1] == "Clients:"
    clients = [line for line in lines if line.startswith(" /127.0.0.1:")]
    assert len(clients) == 2
    assert "" in lines[2:]
    assert parse_srvr(st)["Node count"] == "6"
    assert parse_srvr(st)["Mode"] == "standalone"


def test_four_letter_word_whitelist(env):
    srv = env.start_server(cfg={"4lw.commands.whitelist": "ruok"})
    assert srv.four_letter_word("ruok") == "imok"
    for cmd in ("mntr", "stat", "conf", "envi", "wchs", "dump", "cons"):
        assert srv.four_letter_word(cmd) == \
            "%s is not executed because it is not in the whitelist.\n" % cmd
    # srvr is always enabled
    assert parse_srvr(srv.four_letter_word("srvr"))["Mode"] == "standalone"
    # the server still serves clients
    c = env.client(srv)
    c.create(env.ns)
    assert c.exists(env.ns) is not None


def test_four_letter_words_watches_sessions_conf(env):
    srv = env.start_server()
    c = env.client(srv)
    sid = "0x%x" % c.client_id[0]
    c.create("/q", b"")
    c.create("/e", ephemeral=True)
    c.get("/q", watch=Watcher())                # data table
    c.exists("/nothere", watch=Watcher())       # data table (exists watch)
    c.get_children("/q", watch=Watcher())       # child table: not reported
    assert srv.four_letter_word("isro") == "rw"
    assert srv.four_letter_word("gtmk") == "306"
    assert srv.four_letter_word("wchs") == "1 connections watching 2 paths\nTotal watches:2\n"
    wchc = srv.four_letter_word("wchc").split("\n")
    assert wchc[0] == sid and wchc[3:] == ["", ""], wchc
    assert sorted(wchc[1:3]) == ["\t/nothere", "\t/q"], wchc
    wchp = srv.four_letter_word("wchp").split("\n")
    assert wchp[4:] == ["", ""], wchp
    assert sorted([(wchp[0], wchp[1]), (wchp[2], wchp[3])]) == \
        [("/nothere", "\t" + sid), ("/q", "\t" + sid)], wchp
    dump = srv.four_letter_word("dump")
    lines = dump.split("\n")
    assert lines[0] == "SessionTracker dump:"
    assert lines[1] == "Session Sets (1)/(1):", dump
    assert lines[2].startswith("1 expire at ") and lines[2].endswith(":"), dump
    assert lines[3] == "\t" + sid, dump
    i = lines.index("ephemeral nodes dump:")
    assert lines[i + 1:i + 4] == ["Sessions with Ephemerals (1):", sid + ":", "\t/e"], dump
    conf = dict(line.split("=", 1) for line in srv.four_letter_word("conf").splitlines())
    assert conf["clientPort"] == str(srv.port)
    assert conf["tickTime"] == "2000"
    assert (conf["minSessionTimeout"], conf["maxSessionTimeout"]) == ("4000", "40000")
    assert conf["maxClientCnxns"] == "0"
    assert conf["serverId"] == "0"
    assert conf["dataDir"] == os.path.join(srv.data_dir, "version-2")
    c.stop()        # the connection goes just after the closeSession reply
    assert eventually(lambda: srv.four_letter_word("wchs"),
                      "0 connections watching 0 paths\nTotal watches:0\n")


def test_quota_stats_node_maintained_by_server(env):
    ns = env.ns
    c = env.client()
    qroot = "/zookeeper/quota" + ns
    c.create(ns, b"abc")
    c.create(ns + "/a", b"12345")
    try:
        c.create(qroot + "/zookeeper_limits", b"count=10,bytes=1000", makepath=True)
        c.create(qroot + "/zookeeper_stats", b"count=0,bytes=0")
        data, st = c.get(qroot + "/zookeeper_stats")
        assert data == b"count=2,bytes=8"
        c.create(ns + "/b", b"xx")
        c.set(ns + "/a", b"1")
        data2, st2 = c.get(qroot + "/zookeeper_stats")
        assert data2 == b"count=3,bytes=6"
        # updated in memory: no txn, so the stats node's own stat is unchanged
        assert (st2.version, st2.mzxid, st2.mtime) == (st.version, st.mzxid, st.mtime)
        c.delete(ns + "/b")
        assert c.get(qroot + "/zookeeper_stats")[0] == b"count=2,bytes=4"
    finally:
        c.delete("/zookeeper/quota" + ns, recursive=True)


def test_pipelined_reads_see_own_writes_in_order(env):
    c = env.client()
    ns = env.ns
    c.create(ns, b"0")
    results = []
    for i in range(1, 201):
        results.append(("set", i, c.set_async(ns, str(i).encode())))
        results.append(("get", i, c.get_async(ns)))
        if i % 50 == 0:
            results.append(("children", i, c.get_children_async(ns)))
            results.append(("create", i, c.create_async(ns + "/c%d" % i)))
    for kind, i, r in results:
        v = r.get(timeout=TIMEOUT)
        if kind == "set":
            assert v.version == i
        elif kind == "get":
            assert v[0] == str(i).encode() and v[1].version == i
        elif kind == "children":
            assert sorted(v) == sorted("c%d" % j for j in range(50, i, 50))
        else:
            assert v == ns + "/c%d" % i


def test_concurrent_sequential_creates_and_sets(env):
    """8 sessions pipelining 50 sequential creates and 50 setData each on
    shared nodes: every sequence number used exactly once, every version
    exactly once, and each session's replies in its own order."""
    ns = env.ns
    clients = [env.client() for _ in range(8)]
    clients[0].create(ns)
    clients[0].create(ns + "/ctr", b"")
    pending = []
    for k in range(50):
        for i, c in enumerate(clients):
            pending.append((i, "create", c.create_async(ns + "/n-", b"%d" % i, sequence=True)))
            pending.append((i, "set", c.set_async(ns + "/ctr", b"%d" % i)))
    names = []
    versions = []
    last_version = [0] * len(clients)
    for i, kind, r in pending:
        v = r.get(timeout=TIMEOUT)
        if kind == "create":
            names.append(v)
        else:
            versions.append(v.version)
            assert v.version > last_version[i]      # per-session order
            last_version[i] = v.version
    assert sorted(names) == [ns + "/n-%010d" % j for j in range(1, 401)]   # ctr took 0
    assert sorted(versions) == list(range(1, 401))
    _, st = clients[1].get_children(ns, include_data=True)
    assert (st.numChildren, st.cversion) == (401, 401)
    assert clients[2].exists(ns + "/ctr").version == 400


def test_failed_reads_set_no_watch(env):
    c = env.client()
    writer = env.client()
    ns = env.ns
    c.create(ns)
    c.create(ns + "/locked", b"", acl=[ACL(0, Id("world", "anyone"))])
    log = WireLog(c)
    with pytest.raises(NoNodeError):
        c.get(ns + "/later", watch=Watcher())
    with pytest.raises(NoNodeError):
        c.get_children(ns + "/later", watch=Watcher())
    with pytest.raises(NoAuthError):
        c.get(ns + "/locked", watch=Watcher())
    with pytest.raises(NoAuthError):
        c.get_children(ns + "/locked", watch=Watcher())
    writer.create(ns + "/later")
    writer.create(ns + "/later/kid")
    writer.set(ns + "/later", b"x")
    writer.delete(ns + "/locked")
    c.sync(ns)
    assert log.events() == []


# §15.4 (a): the single-value keys a 3.8 standalone server prints in mntr
MNTR_SINGLE_KEYS = """
add_dead_watcher_stall_time approximate_data_size auth_failed_count avg_latency
bytes_received_count cnxn_closed_without_zk_server_running commit_count
connection_drop_count connection_drop_probability connection_rejected
connection_request_count connection_revalidate_count dead_watchers_cleared
dead_watchers_queued diff_count digest_mismatches_count ensemble_auth_fail
ensemble_auth_skip ensemble_auth_success ephemerals_count global_sessions
insecure_admin_count large_requests_rejected last_client_response_size
learner_commit_received_count learner_proposal_received_count local_sessions
looking_count max_client_response_size max_file_descriptor_count max_latency
min_client_response_size min_latency non_mtls_local_conn_count
non_mtls_remote_conn_count num_alive_connections open_file_descriptor_count
outstanding_changes_queued outstanding_changes_removed outstanding_requests
outstanding_tls_handshake packets_received packets_sent prep_processor_request_queued
proposal_count quit_leading_due_to_disloyal_voter request_commit_queued
request_throttle_wait_count requests_not_forwarded_to_commit_processor response_bytes
response_packet_cache_hits response_packet_cache_misses
response_packet_get_children_cache_hits response_packet_get_children_cache_misses
revalidate_count server_state sessionless_connections_expired
skip_learner_request_to_next_processor_count snap_count stale_replies stale_requests
stale_requests_dropped stale_sessions_expired sync_processor_request_queued
throttled_ops tls_handshake_exceeded unrecoverable_error_count unsuccessful_handshake
uptime version watch_bytes watch_count znode_count
""".split()


def test_mntr_documented_keys_and_packet_counters(env):
    srv = env.start_server()
    assert len(MNTR_SINGLE_KEYS) == 73
    keys, m = mntr(srv)
    missing = sorted(set("zk_" + k for k in MNTR_SINGLE_KEYS) - set(keys))
    assert missing == [], "mntr lacks documented keys: %s" % missing
    assert len(keys) == len(set(keys)), "duplicate mntr keys"
    # packet counters: a raw client (no background pings) sends 11 requests
    # and gets 11 replies and one notification between two srvr calls
    c = env.raw(srv)
    assert c.create("/p", b"x")["err"] == 0
    assert c.get_data("/p", watch=True)["err"] == 0
    s1 = parse_srvr(srv.four_letter_word("srvr"))
    for _ in range(10):
        assert c.exists("/p")["err"] == 0
    assert c.set_data("/p", b"y")["err"] == 0
    assert [e["type"] for e in c.take_events()] == [3]
    s2 = parse_srvr(srv.four_letter_word("srvr"))
    # + 11 requests + this srvr connection
    assert int(s2["Received"]) - int(s1["Received"]) == 12
    assert int(s2["Sent"]) - int(s1["Sent"]) >= 12

