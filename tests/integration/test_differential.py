"""Differential tests: the same raw-protocol scenario against Apache ZooKeeper
3.8 (the oracle) and corrald; the recorded replies and events must match.

How it works
------------
A *scenario* is a function taking a `Ctx`. It opens connections with
``ctx.connect(name)`` (zkwire.Conn, handshake done) or ``ctx.open(name)`` (raw
TCP, no handshake) and calls operations on them. Every message a connection
reads (connect response, reply, notification, close) is appended to the
trace, in the order the scenario asked for it; a scenario reads only when it
asks, so the trace is deterministic. Events are never waited for with
sleeps: a reply on the same connection (usually a ping) is the sync point,
because a notification is queued before any later reply (§9.4, §18).

At the end every connection that still has a live session is pinged (so a
stray extra notification shows up in the trace), then every session the
scenario created is closed outside the trace (so a shared ZooKeeper never
expires a leftover session in the middle of a later test).

Each scenario runs once on each server in its own namespace (a fresh
top-level znode). The traces are normalised and compared record by record:

* zxids: literal 0 and -1 are kept; any other value becomes ``Z+k``, its
  offset from the first zxid of the trace. This keeps order, equality and
  gaps ("a failed write consumes a zxid"). CORRAL_DIFF_ZXID=ordinal maps
  them to ordinals in order first seen instead (less strict: use it to see
  past a cascade once a zxid-consumption difference is understood).
* session ids (sessionId, ephemeralOwner) become S1, S2... in order of first
  connect; passwords become pw(S1) (and pw(S1)!changed if a resumed session
  gets a different one) or zero16 for the all-zero invalid-session password.
* ctime/mtime: 0 is kept, a recent wall-clock time becomes T; mtime of a
  version-0 node must equal its ctime (=ctime), otherwise T.
* the namespace path becomes /NS; children, ephemerals and whoAmI lists are
  sorted (servers return them in no particular order).

Known, deliberate differences are listed in KNOWN_DIFFERENCES.md; an entry
with ``- scenario:`` and ``- step:`` lines masks those steps of that
scenario (see the file).

Self-test: CORRAL_DIFF_CANDIDATE=zookeeper runs both sides on (separate)
ZooKeeper servers, to prove the normalisation is stable.
"""

import base64
import copy
import difflib
import hashlib
import json
import os
import re
import struct
import traceback
import uuid

import pytest

import zkwire as w
from zkwire import OPEN_ACL, READ_ACL

HERE = os.path.dirname(os.path.abspath(__file__))
KNOWN_DIFFERENCES = os.path.join(HERE, "KNOWN_DIFFERENCES.md")


def digest_id(user_pass):
    user = user_pass.split(":", 1)[0]
    h = base64.b64encode(hashlib.sha1(user_pass.encode()).digest()).decode()
    return "%s:%s" % (user, h)


SUPER_AUTH = "super:secret"
USER_AUTH = "user:pass"
USER_ID = digest_id(USER_AUTH)        # user:smGaoVKd/cQkjm7b88GyorAUz20=
BOB_AUTH = "bob:pw"
BOB_ID = digest_id(BOB_AUTH)

BASE_PROPS = {
    # The reaper must never run during the suite: it would add transactions
    # behind the tests' backs on the shared reference server.
    "znode.container.checkIntervalMs": "3600000",
    "zookeeper.DigestAuthenticationProvider.superDigest": digest_id(SUPER_AUTH),
}
EXT_PROPS = dict(BASE_PROPS, **{"zookeeper.extendedTypesEnabled": "true"})

TIMEOUT = 5.0           # per read; only reached when something is wrong
CLOSE_TIMEOUT = 3.0     # how long to wait for a close that should happen

# ---------------------------------------------------------------------------
# scenario registry


class Scenario:
    def __init__(self, func, props, cfg, fresh, namespace=True):
        self.func = func
        self.namespace = namespace
        self.name = func.__name__[len("scn_"):] if func.__name__.startswith("scn_") else func.__name__
        self.props = props
        self.cfg = cfg
        self.fresh = fresh

    def param(self):
        return pytest.param(self, id=self.name, marks=pytest.mark.server_config(
            cfg=self.cfg, props=self.props, fresh=self.fresh))


SCENARIOS = []


def scenario(props=None, cfg=None, fresh=False, namespace=True):
    """Register a scenario. props/cfg: server configuration (default: TTL
    enabled, super digest, no container reaper); fresh: needs its own
    servers; namespace=False: do not create the namespace node first (for
    scenarios that look at a pristine tree)."""
    def deco(func):
        SCENARIOS.append(Scenario(func, EXT_PROPS if props is None else props,
                                  cfg or {}, fresh, namespace))
        return func
    return deco


# ---------------------------------------------------------------------------
# running a scenario on one server


class Ctx:
    """What a scenario sees: connections, steps, notes, its namespace."""

    def __init__(self, server, ns):
        self.server = server
        self.ns = ns
        self.trace = []
        self.conns = []
        self.sessions = {}      # session id -> passwd, every session seen
        self.closed_sessions = set()
        self._step = "setup"
        self._auto = 0

    # -- recording --------------------------------------------------------
    def _rec(self, conn, msg):
        m = {"step": self._step, "c": conn.name}
        m.update(copy.deepcopy(msg))
        self.trace.append(m)
        if msg.get("t") == "connect" and msg.get("timeOut", 0) > 0:
            self.sessions.setdefault(msg["sessionId"], msg["passwd"])
        if msg.get("t") == "reply" and msg.get("op") == "closeSession" and msg["err"] == 0 \
                and conn.session_id is not None:
            self.closed_sessions.add(conn.session_id)

    def step(self, label):
        self._step = label
        self.trace.append({"step": label, "t": "step"})

    def note(self, **kw):
        m = {"step": self._step, "t": "note"}
        m.update(kw)
        self.trace.append(m)

    def p(self, rel=""):
        """A path inside this scenario's namespace."""
        return self.ns + rel

    # -- connections ------------------------------------------------------
    def _name(self, name):
        if name is None:
            self._auto += 1
            name = "c%d" % self._auto
        return name

    def open(self, name=None, timeout=TIMEOUT):
        """A TCP connection with no handshake (for raw input)."""
        c = w.Conn(self.server.address, timeout=timeout, name=self._name(name),
                   recorder=self._rec)
        self.conns.append(c)
        return c

    def connect(self, name=None, timeout=TIMEOUT, **handshake):
        """A connection with a completed handshake (new session by default)."""
        c = self.open(name, timeout)
        handshake.setdefault("expect_valid", False)
        c.handshake(**handshake)
        return c

    def expect_close(self, conn, timeout=CLOSE_TIMEOUT):
        """Read until the server closes; records 'closed' or 'still_open'."""
        if not conn.read_until_close(timeout):
            self.trace.append({"step": self._step, "c": conn.name, "t": "still_open"})
            return False
        return True

    def sync_point(self, conn):
        """Ping: every notification queued before it is now in the trace."""
        return conn.ping()

    # -- end of scenario --------------------------------------------------
    def final_sync(self):
        self.step("final sync")
        for c in self.conns:
            if c.closed or c.session_id is None or c.session_closed:
                continue
            try:
                c.ping()
            except w.WireError as e:
                self.trace.append({"step": self._step, "c": c.name, "t": "error",
                                   "error": type(e).__name__})

    def cleanup(self):
        """Close every session we created, outside the trace."""
        for c in self.conns:
            c.recorder = None
            if c.session_id is not None and not c.closed and not c.session_closed \
                    and c.session_id not in self.closed_sessions:
                try:
                    r = c.close_session(timeout=2.0)
                    if r.get("err") == 0:
                        self.closed_sessions.add(c.session_id)
                except w.WireError:
                    pass
            c.close()
        for sid, pw in self.sessions.items():
            if sid in self.closed_sessions:
                continue
            try:
                c = w.Conn(self.server.address, timeout=2.0, name="cleanup")
                r = c.handshake(session_id=sid, passwd=pw, expect_valid=False)
                if r.get("timeOut", 0) > 0:
                    c.close_session(timeout=2.0)
                c.close()
            except w.WireError:
                pass
            except OSError:
                pass


def run_scenario(server, scn):
    """Run `scn` on `server`; returns (raw trace, ns, error text or None)."""
    ns = "/%s-%s" % (scn.name, uuid.uuid4().hex[:8])
    if scn.namespace:
        setup = w.Conn.connect(server.address, timeout=TIMEOUT, name="setup")
        try:
            r = setup.create(ns)
            assert r["err"] == 0, "cannot create namespace %s: %r" % (ns, r)
            setup.close_session()
        finally:
            setup.close()
    ctx = Ctx(server, ns)
    error = None
    try:
        scn.func(ctx)
        ctx.final_sync()
    except Exception as e:  # recorded; the comparison shows what happened
        error = traceback.format_exc()
        ctx.trace.append({"step": ctx._step, "t": "aborted",
                          "error": "%s: %s" % (type(e).__name__, e)})
    finally:
        ctx.cleanup()
    return ctx.trace, ns, error


# ---------------------------------------------------------------------------
# normalisation

ZXID_KEYS = {"zxid", "czxid", "mzxid", "pzxid"}
SESSION_KEYS = {"sessionId", "ephemeralOwner"}
STAT_KEYS = set(w.STAT_FIELDS)
RECENT_MS = 24 * 3600 * 1000
SORTED_LISTS = {"children", "ephemerals"}


class Normaliser:
    def __init__(self, ns, now_ms, zxid_mode=None):
        self.ns = ns
        self.ns_name = ns[1:]
        self.now_ms = now_ms
        self.zxid_mode = zxid_mode or os.environ.get("CORRAL_DIFF_ZXID", "offset")
        self.zxid_base = None
        self.zxids = {}
        self.sessions = {}
        self.passwords = {}

    def zxid(self, v):
        if not isinstance(v, int) or v in (0, -1):
            return v
        if self.zxid_mode == "ordinal":
            if v not in self.zxids:
                self.zxids[v] = "Z%d" % len(self.zxids)
            return self.zxids[v]
        if self.zxid_base is None:
            self.zxid_base = v
        d = v - self.zxid_base
        return "Z%+d" % d if d else "Z"

    def session(self, v, define=False):
        if not isinstance(v, int) or v == 0:
            return v
        if v not in self.sessions:
            if not define:
                return "S?(%#x)" % v
            self.sessions[v] = "S%d" % (len(self.sessions) + 1)
        return self.sessions[v]

    def time(self, v):
        if v == 0 or not isinstance(v, int):
            return v
        if abs(v - self.now_ms) <= RECENT_MS:
            return "T"
        return "T?(%d)" % v

    def string(self, s):
        if s == self.ns_name:
            return "NS"
        return s.replace(self.ns, "/NS")

    def data(self, b):
        if b is None:
            return None
        if len(b) > 64:
            return "bytes[%d]:%s" % (len(b), hashlib.sha1(b).hexdigest()[:12])
        return repr(b)

    def stat(self, st):
        out = {}
        for k in w.STAT_FIELDS:
            v = st.get(k)
            if k in ZXID_KEYS:
                out[k] = self.zxid(v)
            elif k == "ctime":
                out[k] = self.time(v)
            elif k == "mtime":
                if v == st.get("ctime") and st.get("version") == 0:
                    out[k] = "=ctime" if v != 0 else 0
                elif st.get("version") == 0:
                    out[k] = "!=ctime:" + str(self.time(v))
                else:
                    out[k] = self.time(v)
            elif k == "ephemeralOwner":
                out[k] = self.session(v)
            else:
                out[k] = v
        return out

    def value(self, key, v):
        if isinstance(v, dict):
            if STAT_KEYS.issubset(v.keys()):
                return self.stat(v)
            return {k: self.value(k, x) for k, x in v.items()}
        if isinstance(v, list):
            items = [self.value(None, x) for x in v]
            if key in SORTED_LISTS:
                items = sorted(items, key=lambda x: json.dumps(x, sort_keys=True))
            if key == "clientInfo":
                items = sorted(items, key=lambda x: json.dumps(x, sort_keys=True))
            return items
        if isinstance(v, (bytes, bytearray)):
            return self.data(bytes(v))
        if isinstance(v, str):
            return self.string(v)
        if key in ZXID_KEYS or (isinstance(key, str) and key.endswith("zxid")):
            return self.zxid(v)
        if key in SESSION_KEYS or (isinstance(key, str) and key.endswith("session")):
            return self.session(v)
        return v

    def record(self, m):
        m = dict(m)
        if m.get("t") == "connect":
            out = {}
            sid = m.get("sessionId")
            for k, v in m.items():
                if k == "sessionId":
                    out[k] = self.session(v, define=m.get("timeOut", 0) > 0)
                elif k == "passwd":
                    out[k] = self.password(sid, v, m.get("timeOut", 0) > 0)
                else:
                    out[k] = self.value(k, v)
            return out
        return {k: self.value(k, v) for k, v in m.items()}

    def password(self, sid, pw, valid):
        if pw is None:
            return None
        if pw == b"\0" * len(pw) and not valid:
            return "zero%d" % len(pw)
        if not valid:
            return "bytes[%d]" % len(pw)
        label = "pw(%s)" % self.sessions.get(sid, "?")
        first = self.passwords.setdefault(sid, pw)
        if len(pw) != 16:
            label += "!len%d" % len(pw)
        if first != pw:
            label += "!changed"
        return label


def normalise(trace, ns, now_ms):
    n = Normaliser(ns, now_ms)
    return [n.record(m) for m in trace]


def render(records):
    lines = []
    for m in records:
        m = dict(m)
        step = m.pop("step", "")
        if m.get("t") == "step":
            lines.append("## %s" % step)
            continue
        lines.append(json.dumps(m, sort_keys=False, default=str))
    return lines


# ---------------------------------------------------------------------------
# known differences


def load_known_differences(path=KNOWN_DIFFERENCES):
    """{scenario: {step label: entry id}} from the machine-readable lines."""
    out = {}
    if not os.path.exists(path):
        return out
    entry = None
    scns = []
    with open(path) as f:
        for line in f:
            m = re.match(r"^##\s+(KD-\d+)", line)
            if m:
                entry, scns = m.group(1), []
                continue
            m = re.match(r"^-\s+scenario:\s*(\S+)\s*$", line)
            if m and entry:
                scns = [m.group(1)]
                continue
            m = re.match(r"^-\s+step:\s*(.+?)\s*$", line)
            if m and entry:
                for s in scns:
                    out.setdefault(s, {})[m.group(1)] = entry
    return out


def mask(records, steps):
    """Replace the records of masked steps by one placeholder per step."""
    out = []
    current = None
    for m in records:
        label = m.get("step")
        if label in steps:
            if m.get("t") == "step":
                out.append(m)
                out.append({"step": label, "t": "masked", "known": steps[label]})
            continue
        out.append(m)
    return out


# ---------------------------------------------------------------------------
# the comparison


def compare(both, scn, tmp_path):
    now_ms = int(__import__("time").time() * 1000)
    ref_trace, ref_ns, ref_err = run_scenario(both.reference, scn)
    if ref_err:
        pytest.fail("scenario %s failed against Apache ZooKeeper (a test bug, or "
                    "the oracle changed):\n%s\ntrace so far:\n%s"
                    % (scn.name, ref_err, "\n".join(render(normalise(ref_trace, ref_ns, now_ms)))),
                    pytrace=False)
    cand_trace, cand_ns, cand_err = run_scenario(both.candidate, scn)
    ref = normalise(ref_trace, ref_ns, now_ms)
    cand = normalise(cand_trace, cand_ns, now_ms)
    known = load_known_differences().get(scn.name, {})
    if known and not both.selftest:
        ref, cand = mask(ref, known), mask(cand, known)
    a, b = render(ref), render(cand)
    (tmp_path / "zookeeper.trace").write_text("\n".join(a) + "\n")
    (tmp_path / ("%s.trace" % both.candidate_kind)).write_text("\n".join(b) + "\n")
    if a != b:
        diff = "\n".join(difflib.unified_diff(a, b, "zookeeper", both.candidate_kind,
                                              lineterm="", n=4))
        extra = ("\ncandidate error:\n%s" % cand_err) if cand_err else ""
        pytest.fail("scenario %s: %s differs from Apache ZooKeeper\n%s%s\n(full traces in %s)"
                    % (scn.name, both.candidate_kind, diff, extra, tmp_path), pytrace=False)
    assert ref_trace, "empty trace"


def pytest_generate_tests(metafunc):
    if "scn" in metafunc.fixturenames:
        metafunc.parametrize("scn", [s.param() for s in SCENARIOS])


def test_differential(both, scn, tmp_path):
    compare(both, scn, tmp_path)


# ===========================================================================
# scenarios
#
# Section numbers refer to shared/docs/zookeeper-protocol.md.
# ===========================================================================

ACL_USER_ONLY = [(31, "digest", USER_ID)]
ACL_WRITE_ONLY = [(w.PERM_WRITE, "world", "anyone")]


def created_path(r):
    return r["body"]["path"] if r["err"] == 0 and r["body"] else None


# --- create (§5.2, §6.2, §6.3, §8, §11.3) -----------------------------------

@scenario()
def scn_create_modes(ctx):
    """Every opcode x every flags value; stats of what was created."""
    c = ctx.connect("a")
    for opname, call in (("create", c.create), ("create2", c.create2),
                         ("createContainer", c.create_container)):
        for flags in range(8):
            ctx.step("%s flags=%d" % (opname, flags))
            path = created_path(call(ctx.p("/%s-%d" % (opname, flags)), b"d", OPEN_ACL, flags))
            if path:
                c.exists(path)
    for flags in range(8):
        ctx.step("createTTL flags=%d" % flags)
        path = created_path(c.create_ttl(ctx.p("/ttl-%d" % flags), b"d", OPEN_ACL, flags, 5000))
        if path:
            c.exists(path)
    ctx.step("createTTL ttl limits")
    for i, ttl in enumerate((0, -1, -5000, 1, 0xFFFFFFFFFF, 0x10000000000, 2 ** 63 - 1)):
        for flags in (5, 6):
            path = created_path(c.create_ttl(ctx.p("/ttlv-%d-" % i), None, OPEN_ACL, flags, ttl))
            if path:
                c.get_data(path)
    ctx.step("children of container and TTL parents")
    c.create(ctx.p("/createContainer-0/child"))
    c.create(ctx.p("/ttl-5/child"), b"", OPEN_ACL, 1)
    c.create(ctx.p("/create2-1/child"))
    ctx.step("listing")
    c.get_children2(ctx.ns)


@scenario(props=BASE_PROPS)
def scn_create_ttl_disabled(ctx):
    """Without zookeeper.extendedTypesEnabled TTL modes are UNIMPLEMENTED (§5.2 #3)."""
    c = ctx.connect("a")
    ctx.step("createTTL")
    for flags in range(8):
        c.create_ttl(ctx.p("/t%d" % flags), b"", OPEN_ACL, flags, 100)
    c.create_ttl(ctx.p("/z"), b"", OPEN_ACL, 5, 0)
    c.create_ttl("bad", b"", OPEN_ACL, 5, 100)
    c.create_ttl(ctx.p("/missing/x"), b"", [], 6, 100)
    ctx.step("TTL flags on other opcodes")
    for flags in (5, 6):
        c.create(ctx.p("/c%d" % flags), b"", OPEN_ACL, flags)
        c.create2(ctx.p("/d%d" % flags), b"", OPEN_ACL, flags)
        c.create_container(ctx.p("/e%d" % flags), b"", OPEN_ACL, flags)
    ctx.step("multi")
    c.multi([("createTTL", ctx.p("/m1"), b"", OPEN_ACL, 5, 100)])
    c.multi([("create", ctx.p("/m2"), b"", OPEN_ACL, 0),
             ("createTTL", ctx.p("/m3"), b"", OPEN_ACL, 5, 100)])
    ctx.step("still works")
    c.create(ctx.p("/ok"))
    c.get_children(ctx.ns)


@scenario()
def scn_create_check_order(ctx):
    """One request per adjacent pair of checks in §5.2's table."""
    a = ctx.connect("a")
    ctx.step("setup")
    a.create(ctx.p("/p"))
    a.create(ctx.p("/ro"), b"", READ_ACL)
    a.create(ctx.p("/eph"), b"", OPEN_ACL, 1)
    a.create_container(ctx.p("/cont"))
    a.create_ttl(ctx.p("/ttl"), b"", OPEN_ACL, 5, 60000)
    ctx.step("flags before everything")
    a.create(ctx.p("/missing/x"), b"", [], 7)
    a.create("noslash", b"", [], 7)
    a.create(ctx.p("/p"), b"", OPEN_ACL, -1)
    a.create(ctx.p("/p"), b"", OPEN_ACL, 8)
    ctx.step("ttl before path")
    a.create_ttl("noslash", b"", [], 0, 100)
    a.create_ttl(ctx.p("/missing/x"), b"", OPEN_ACL, 5, 0)
    ctx.step("slash and NUL before ACL")
    a.create("noslash", b"", [])
    a.create("", b"", [])
    a.create(ctx.p("/missing\x00/x"), b"", OPEN_ACL)
    a.create(ctx.p("/p/a\x00b"), b"", [])
    ctx.step("ACL before parent")
    a.create(ctx.p("/missing/x"), b"", [])
    a.create(ctx.p("/missing/x"), b"", [(31, "world", "nobody")])
    ctx.step("parent before permission")
    a.create(ctx.p("/missing/x"))
    a.create(ctx.p("/ro/missing/x"))
    ctx.step("permission before full path validation")
    a.create(ctx.p("/ro/x"))
    a.create(ctx.p("/ro/."))
    a.create(ctx.p("/ro/x"), b"", [])
    ctx.step("full path validation before existence")
    a.create(ctx.p("/p/."))
    a.create(ctx.p("/p/.."))
    a.create(ctx.p("/."))
    ctx.step("existence")
    a.create(ctx.p("/p"))
    a.create(ctx.p("/eph"))
    a.create("/")
    a.create("/zookeeper")
    ctx.step("ephemeral parent")
    a.create(ctx.p("/eph/x"))
    a.create(ctx.p("/eph/x"), b"", OPEN_ACL, 2)
    a.create(ctx.p("/eph/."))
    a.create(ctx.p("/eph/x"), b"", OPEN_ACL, 1)
    a.create_container(ctx.p("/eph/x"))
    ctx.step("container and TTL parents accept children")
    a.create(ctx.p("/cont/x"))
    a.create(ctx.p("/ttl/x"), b"", OPEN_ACL, 1)
    a.create_ttl(ctx.p("/ttl/y"), b"", OPEN_ACL, 5, 1000)
    ctx.step("trailing slash")
    a.create(ctx.p("/a/"))
    a.create(ctx.p("/a"))
    a.create(ctx.p("/a/"))
    a.create(ctx.p("/a/"), b"", OPEN_ACL, 2)
    a.create(ctx.p("/a/"), b"", OPEN_ACL, 2)
    a.create(ctx.p("/a//"), b"", OPEN_ACL, 2)
    a.get_children(ctx.p("/a"))
    ctx.step("null path")
    a.create(None)
    a.create2(None, b"", OPEN_ACL, 0)
    a.ping()


PATH_CASES = [
    ".", "..", "...", "a..b", ".hidden", "a.", " ", "a b", ":*?\\|<>\"'", "x" * 1000,
    "\x01", "a\x1f", "\x7f", "\u0080", "a\u009f", "\u00a0", "\u00e9t\u00e9", "\u07ff",
    "\u0800", "\ud7ff", "\ue000", "\uf8ff", "\uf900", "\ufeff", "\uffef", "\ufff0",
    "\ufffd", "\uffff", "\U0001F600", "a\tb", "a\nb", "a\rb",
    b"\xff", b"a\xc3", b"\xc0\x80", b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xf0\x9f\x98\x80",
    b"\xe0\x80\x80", b"\xf4\x90\x80\x80", b"\xef\xbf\xbe", b"\xc2\x80",
]


@scenario()
def scn_create_invalid_paths(ctx):
    """§8: each character class, as the final component of a create."""
    a = ctx.connect("a")
    a.create(ctx.p("/p"))
    prefix = (ctx.p("/p/")).encode()
    for i, comp in enumerate(PATH_CASES):
        ctx.step("path case %d %r" % (i, comp))
        raw = comp.encode("utf-8") if isinstance(comp, str) else comp
        path = prefix + raw
        r = a.create(path)
        if r["err"] == 0:
            a.exists(path)
        a.set_data(path, b"x")
        a.create(path, b"", OPEN_ACL, 2)
    ctx.step("structure")
    for path in ("//", "//a", "/a//b", ctx.p("//x"), ctx.p("/p//x"), ctx.p("/p/x/"),
                 ctx.p("/p/./x"), ctx.p("/p/../p"), "a/b", " /a", "\x00", "/\x00",
                 ctx.p("/p\x00")):
        a.create(path)
    ctx.step("reads do not validate")
    for path in (ctx.p("/p/."), ctx.p("/p/"), ctx.p("//p"), "rel", ctx.p("/p/\ufffd")):
        a.get_data(path)
        a.exists(path)
        a.get_children(path)
        a.get_acl(path)
    a.exists(ctx.p("/p\x00"))
    a.get_data(ctx.p("/p\x00"))
    ctx.step("listing")
    a.get_children(ctx.p("/p"))


ACL_CASES = [
    [], None, [(31, "world", "foo")], [(31, "world", "")], [(31, "digest", "abc")],
    [(31, "digest", "a:b:c")], [(31, "digest", "a:")], [(31, "digest", ":b")],
    [(31, "digest", "a::b")], [(31, "digest", "")], [(31, "ip", "10.0.0.0/33")],
    [(31, "ip", "256.1.1.1")], [(31, "ip", "1.2.3")], [(31, "ip", "::1")],
    [(31, "ip", "10.0.0.0/8")], [(31, "ip", "127.0.0.1")], [(31, "ip", "10.0.0.0/0")],
    [(31, "ip", "10.0.0.0/-1")], [(31, "ip", "")], [(31, "foo", "bar")],
    [(31, "sasl", "x")], [(31, "x509", "CN=x")], [(31, "super", "")],
    [(31, "auth", "")], [(31, "auth", "whatever")], [(0, "world", "anyone")],
    [(0x7FFFFFFF, "world", "anyone")], [(-1, "world", "anyone")],
    [(31, "world", "anyone"), (31, "world", "anyone")],
    [(31, "world", "anyone"), (1, "world", "anyone")],
    [(1, "digest", USER_ID), (31, "world", "anyone"), (1, "digest", USER_ID)],
    [(31, "world", "anyone"), (31, "foo", "bar")],
    [(31, None, "anyone")], [(31, "world", None)], [(31, "World", "anyone")],
    [(31, "world", "anyone"), (31, "auth", "")],
]


@scenario()
def scn_create_invalid_acls(ctx):
    """§11.3 fix-up rules, on a connection without and with digest auth."""
    a = ctx.connect("a")
    for i, acl in enumerate(ACL_CASES):
        ctx.step("acl case %d %r" % (i, acl))
        if created_path(a.create(ctx.p("/n%d" % i), b"", acl)):
            a.get_acl(ctx.p("/n%d" % i))
    ctx.step("auth scheme after digest auth")
    b = ctx.connect("b")
    b.auth("digest", USER_AUTH)
    for i, acl in enumerate(([(31, "auth", "")], [(5, "auth", "ignored")],
                             [(31, "auth", ""), (1, "world", "anyone")],
                             [(31, "auth", ""), (31, "digest", USER_ID)])):
        if created_path(b.create(ctx.p("/b%d" % i), b"", acl)):
            b.get_acl(ctx.p("/b%d" % i))
    ctx.step("auth scheme as super")
    s = ctx.connect("s")
    s.auth("digest", SUPER_AUTH)
    if created_path(s.create(ctx.p("/s0"), b"", [(31, "auth", "")])):
        s.get_acl(ctx.p("/s0"))


@scenario()
def scn_sequential_naming(ctx):
    """§6.2: the suffix is the parent's stored cversion before the create."""
    a = ctx.connect("a")
    s = ctx.p("/s")
    a.create(s)
    ctx.step("first sequentials")
    a.create(s + "/lock-", b"", OPEN_ACL, 2)
    a.create(s + "/lock-", b"", OPEN_ACL, 3)
    ctx.step("non-sequential creates advance the counter")
    a.create(s + "/x")
    a.create(s + "/lock-", b"", OPEN_ACL, 2)
    ctx.step("failed creates do not")
    a.create(s + "/x")
    a.create(s + "/missing/y")
    a.create(s + "/lock-", b"", OPEN_ACL, 2)
    ctx.step("deletes do not lower it")
    a.delete(s + "/x")
    a.delete(s + "/lock-0000000000")
    a.create(s + "/lock-", b"", OPEN_ACL, 2)
    a.exists(s)
    ctx.step("suffix makes odd names valid")
    a.create(s + "/", b"", OPEN_ACL, 2)
    a.create(s + "/.", b"", OPEN_ACL, 2)
    a.create(s + "/..", b"", OPEN_ACL, 2)
    a.create(s + "/\u00e9", b"", OPEN_ACL, 2)
    a.create(s + "/\x01", b"", OPEN_ACL, 2)
    ctx.step("other opcodes")
    a.create2(s + "/c2-", b"", OPEN_ACL, 2)
    a.create_container(s + "/cc-", b"", OPEN_ACL, 2)
    a.create_ttl(s + "/ttl-", b"", OPEN_ACL, 6, 1000)
    a.create2(s + "/e-", b"", OPEN_ACL, 3)
    ctx.step("failed multi rolls the counter back")
    a.multi([("create", s + "/m-", b"", OPEN_ACL, 2), ("create", s + "/m-", b"", OPEN_ACL, 2),
             ("create", s, b"", OPEN_ACL, 0)])
    a.create(s + "/m-", b"", OPEN_ACL, 2)
    a.multi([("create", s + "/m-", b"", OPEN_ACL, 2), ("create", s + "/m-", b"", OPEN_ACL, 3)])
    ctx.step("another session shares the counter")
    b = ctx.connect("b")
    b.create(s + "/lock-", b"", OPEN_ACL, 3)
    a.create(s + "/lock-", b"", OPEN_ACL, 3)
    ctx.step("listing")
    a.get_children2(s)
    a.get_ephemerals(s)


@scenario(fresh=True, namespace=False)
def scn_fresh_server(ctx):
    """Built-in nodes on a fresh server (§6.1, §12.1) and root-level behaviour."""
    a = ctx.connect("a")
    builtins = ("/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config")
    ctx.step("built-in nodes")
    for path in builtins:
        a.exists(path)
        a.get_data(path)
        a.get_acl(path)
        a.get_children2(path)
        a.get_all_children_number(path)
    ctx.step("sequential under the root")
    r = a.create("/", b"", OPEN_ACL, 2)
    a.create("/", b"", OPEN_ACL, 2)
    a.create("/")
    a.create("/seq-", b"", OPEN_ACL, 2)
    a.get_children2("/")
    a.get_all_children_number("/")
    ctx.step("deleting built-ins")
    for path in builtins:
        a.delete(path)
        a.delete(path, 0)
    ctx.step("writes under /zookeeper")
    a.create("/zookeeper/x", b"1")
    a.create("/zookeeper/quota/x", b"1")
    a.get_children2("/zookeeper")
    a.delete("/zookeeper/x")
    a.delete("/zookeeper/quota/x")
    a.exists("/zookeeper")
    ctx.step("setData on built-ins")
    a.set_data("/", b"root")
    a.set_data("/zookeeper", b"zk", 0)
    a.set_data("/zookeeper/quota", b"q", 5)
    a.set_data("/zookeeper/config", b"cfg")
    a.set_data("/zookeeper/config", b"cfg", -1)
    ctx.step("setACL on /zookeeper/config")
    a.set_acl("/zookeeper/config", OPEN_ACL, -1)
    su = ctx.connect("su")
    su.auth("digest", SUPER_AUTH)
    su.set_acl("/zookeeper/config", READ_ACL, 0)
    su.set_acl("/zookeeper/config", READ_ACL, -1)
    su.get_acl("/zookeeper/config")
    su.set_data("/zookeeper/config", b"", -1)
    su.get_data("/zookeeper/config")
    ctx.step("after")
    for path in builtins:
        a.exists(path)
    del r


# --- delete, exists, getData, setData (§5.3-§5.5) -----------------------------

@scenario()
def scn_delete(ctx):
    a = ctx.connect("a")
    d = ctx.p("/d")
    a.create(d)
    a.create(d + "/c1")
    a.create(ctx.p("/nodel"), b"", [(w.PERM_READ | w.PERM_CREATE, "world", "anyone")])
    a.create(ctx.p("/nodel/k"))
    ctx.step("special nodes and bad paths")
    for path in ("/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config", "c2", "",
                 d + "\x00", "/zookeeper/", "/zookeeper/config/"):
        a.delete(path)
    a.delete("/zookeeper/config", 5)
    a.delete(None)
    ctx.step("parent, permission, existence")
    a.delete(ctx.p("/missing/x"))
    a.delete(ctx.p("/nodel/k"))
    a.delete(ctx.p("/nodel/missing"))
    a.delete(d + "/missing")
    a.delete(d + "/c1/")
    a.delete(d + "/.")
    a.delete(d + "//c1")
    ctx.step("version before emptiness")
    a.delete(d, 5)
    a.delete(d, -1)
    a.delete(d + "/c1", 1)
    a.delete(d + "/c1", -2)
    ctx.step("success")
    a.exists(d)
    a.delete(d + "/c1", 0)
    a.exists(d)
    a.delete(d, 0)
    a.exists(d)
    a.delete(d)
    a.get_children2(ctx.ns)


@scenario()
def scn_exists_and_get_data(ctx):
    a = ctx.connect("a")
    b = ctx.connect("b")
    ctx.step("null vs empty data")
    a.create(ctx.p("/null"), None)
    a.create(ctx.p("/empty"), b"")
    a.create(ctx.p("/bytes"), bytes(range(256)))
    a.create2(ctx.p("/big"), b"z" * 500000)
    for n in ("/null", "/empty", "/bytes", "/big"):
        a.get_data(ctx.p(n))
        a.exists(ctx.p(n))
    a.set_data(ctx.p("/empty"), None)
    a.get_data(ctx.p("/empty"))
    a.set_data(ctx.p("/null"), b"")
    a.get_data(ctx.p("/null"))
    a.get_data("/zookeeper")
    ctx.step("missing and unreadable")
    a.get_data(ctx.p("/missing"))
    a.exists(ctx.p("/missing"))
    a.exists(ctx.p("/null\x00"))
    a.exists(ctx.p("/null\x00"), True)
    a.create(ctx.p("/secret"), b"s", ACL_USER_ONLY)
    a.get_data(ctx.p("/secret"))
    a.exists(ctx.p("/secret"))
    ctx.step("no watch is left by a failed getData")
    a.get_data(ctx.p("/later"), True)
    a.get_data(ctx.p("/secret"), True)
    b.auth("digest", USER_AUTH)
    b.create(ctx.p("/later"), b"1")
    b.set_data(ctx.p("/later"), b"2")
    b.set_data(ctx.p("/secret"), b"t")
    ctx.sync_point(a)
    ctx.step("exists watch on a missing node")
    a.exists(ctx.p("/e"), True)
    b.create(ctx.p("/e"), b"1")
    ctx.sync_point(a)
    b.set_data(ctx.p("/e"), b"2")
    ctx.sync_point(a)
    ctx.step("exists watch on an existing node")
    a.exists(ctx.p("/e"), True)
    b.set_data(ctx.p("/e"), b"3")
    b.set_data(ctx.p("/e"), b"4")
    ctx.sync_point(a)
    a.exists(ctx.p("/e"), True)
    b.delete(ctx.p("/e"))
    ctx.sync_point(a)
    ctx.step("a watch set on an unreadable node through exists")
    a.exists(ctx.p("/secret"), True)
    b.set_data(ctx.p("/secret"), b"u")
    ctx.sync_point(a)
    ctx.step("auth gives access")
    a.auth("digest", USER_AUTH)
    a.get_data(ctx.p("/secret"))


@scenario()
def scn_set_data(ctx):
    a = ctx.connect("a")
    s = ctx.p("/s")
    a.create(s, b"v0")
    a.create(ctx.p("/ro"), b"", READ_ACL)
    ctx.step("versions")
    a.set_data(s, b"v1", 0)
    a.set_data(s, b"v2", -1)
    a.set_data(s, b"v3", 1)
    a.set_data(s, b"v3", 2)
    a.set_data(s, b"v4", -2)
    a.set_data(s, b"v4", 2 ** 31 - 1)
    a.get_data(s)
    ctx.step("check order")
    a.set_data(ctx.p("/missing/."), b"", 5)
    a.set_data(s + "/", b"")
    a.set_data("", b"")
    a.set_data(None, b"")
    a.set_data(ctx.p("/missing"), b"", 5)
    a.set_data(ctx.p("/ro"), b"x", 7)
    a.set_data(ctx.p("/ro"), b"x")
    a.set_data("/zookeeper/config", b"x")
    ctx.step("null data")
    a.set_data(s, None)
    a.get_data(s)
    a.exists(s)
    ctx.step("setData watch events")
    b = ctx.connect("b")
    b.get_data(s, True)
    a.set_data(s, b"w")
    ctx.sync_point(b)
    a.set_data(s, b"w2")
    ctx.sync_point(b)
    a.get_children2(ctx.ns)


# --- ACLs (§5.6, §11) ---------------------------------------------------------

@scenario()
def scn_get_acl(ctx):
    a = ctx.connect("a")
    a.create(ctx.p("/m"), b"", [(1, "world", "anyone"), (31, "digest", USER_ID)])
    a.create(ctx.p("/w"), b"", ACL_WRITE_ONLY)
    a.create(ctx.p("/ad"), b"", [(16, "world", "anyone"), (31, "digest", BOB_ID)])
    a.create(ctx.p("/r"), b"", [(1, "world", "anyone"), (3, "digest", BOB_ID),
                                (31, "ip", "127.0.0.1")])
    a.create(ctx.p("/z"), b"", [(0, "world", "anyone")])
    ctx.step("anonymous")
    for n in ("/m", "/w", "/ad", "/r", "/z", "/missing"):
        a.get_acl(ctx.p(n))
    ctx.step("digest user")
    u = ctx.connect("u")
    u.auth("digest", USER_AUTH)
    for n in ("/m", "/w", "/ad"):
        u.get_acl(ctx.p(n))
    ctx.step("super")
    s = ctx.connect("s")
    s.auth("digest", SUPER_AUTH)
    for n in ("/m", "/w", "/ad", "/z"):
        s.get_acl(ctx.p(n))
        s.get_data(ctx.p(n))


@scenario()
def scn_set_acl(ctx):
    a = ctx.connect("a")
    n = ctx.p("/n")
    a.create(n, b"data")
    ctx.step("aversion moves, mzxid does not")
    a.set_acl(n, [(31, "world", "anyone"), (1, "digest", USER_ID)], 0)
    a.get_acl(n)
    a.set_acl(n, OPEN_ACL, 0)
    a.set_acl(n, OPEN_ACL, 1)
    a.set_acl(n, OPEN_ACL, -1)
    a.exists(n)
    ctx.step("data version is not the ACL version")
    a.set_data(n, b"1")
    a.set_data(n, b"2")
    a.set_data(n, b"3")
    a.set_acl(n, OPEN_ACL, 3)
    a.set_acl(n, READ_ACL, 3 - 0)
    ctx.step("check order")
    a.set_acl(ctx.p("/missing/"), [], 9)
    a.set_acl(ctx.p("/missing"), [], 9)
    a.set_acl(ctx.p("/missing"), OPEN_ACL, 9)
    a.set_acl(n, [(31, "world", "nobody")], 99)
    a.set_acl(n, OPEN_ACL, 99)
    a.set_acl(n, OPEN_ACL, -1)
    a.set_acl(n, None, -1)
    a.set_acl(None, OPEN_ACL, -1)
    ctx.step("auth expansion")
    u = ctx.connect("u")
    u.set_acl(n, [(31, "auth", "")], -1)
    u.auth("digest", USER_AUTH)
    u.create(ctx.p("/v"))
    u.set_acl(ctx.p("/v"), [(31, "auth", "")], 0)
    u.get_acl(ctx.p("/v"))
    a.get_acl(ctx.p("/v"))
    a.set_acl(ctx.p("/v"), OPEN_ACL, 1)
    a.set_data(ctx.p("/v"), b"x")
    ctx.step("super bypasses")
    s = ctx.connect("s")
    s.auth("digest", SUPER_AUTH)
    s.set_acl(n, OPEN_ACL, 99)
    s.set_acl(n, OPEN_ACL, -1)
    s.get_acl(n)
    ctx.step("setACL fires no watch")
    b = ctx.connect("b")
    b.get_data(ctx.p("/v"), True)
    b.get_children(ctx.p("/v"), True)
    s.set_acl(ctx.p("/v"), OPEN_ACL, -1)
    ctx.sync_point(b)
    s.exists(ctx.p("/v"))


# --- children, sync (§5.7, §5.9) ------------------------------------------------

@scenario()
def scn_children(ctx):
    a = ctx.connect("a")
    c = ctx.p("/c")
    a.create(c)
    for k in ("k3", "k1", "k5", "k2", "k4", "a", "Z", "k10"):
        a.create(c + "/" + k)
    a.create(ctx.p("/hidden"), b"", ACL_WRITE_ONLY)
    a.create(ctx.p("/hidden/x"))
    ctx.step("listings")
    a.get_children(c)
    a.get_children2(c)
    a.get_children(c + "/k1")
    a.get_children2(c + "/k1")
    a.get_children(ctx.p("/missing"))
    a.get_children2(ctx.p("/missing"))
    a.get_children(ctx.p("/hidden"))
    a.get_children2(ctx.p("/hidden"))
    a.get_children(c + "/")
    ctx.step("cversion counts creates and deletes")
    a.delete(c + "/k10")
    a.delete(c + "/Z")
    a.get_children2(c)
    a.create(c + "/n", b"", OPEN_ACL, 1)
    a.get_children2(c)
    ctx.step("child watch")
    b = ctx.connect("b")
    b.get_children(c, True)
    a.set_data(c + "/k1", b"x")
    a.set_data(c, b"x")
    ctx.sync_point(b)
    a.create(c + "/new")
    ctx.sync_point(b)
    a.delete(c + "/new")
    ctx.sync_point(b)
    b.get_children2(c, True)
    a.delete(c + "/a")
    ctx.sync_point(b)
    b.get_children(c + "/k1", True)
    a.delete(c + "/k1")
    ctx.sync_point(b)
    b.get_children(ctx.p("/missing"), True)
    a.create(ctx.p("/missing"))
    a.create(ctx.p("/missing/x"))
    ctx.sync_point(b)


@scenario()
def scn_sync(ctx):
    a = ctx.connect("a")
    a.create(ctx.p("/x"))
    for path in (ctx.ns, ctx.p("/x"), ctx.p("/missing"), "relative", "", "/",
                 ctx.p("/x/"), "\u00e9", None):
        a.sync(path)
    a.set_data(ctx.p("/x"), b"1")
    a.sync(ctx.p("/x"))
    a.get_data(ctx.p("/x"))

# ---------------------------------------------------------------------------
# `python3 test_differential.py [--server zookeeper|corrald] [NAME...]` prints
# the normalised traces of the named scenarios (all if none): handy when
# writing a scenario or looking at what the oracle does.

def _main(argv):
    import argparse
    import sys
    import time as _time
    import harness
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", default="zookeeper", choices=("zookeeper", "corrald"))
    ap.add_argument("--raw", action="store_true", help="print raw (unnormalised) records")
    ap.add_argument("names", nargs="*")
    args = ap.parse_args(argv)
    chosen = [s for s in SCENARIOS if not args.names or s.name in args.names]
    servers = {}
    try:
        for scn in chosen:
            key = (repr(sorted(scn.props.items())), repr(sorted(scn.cfg.items())), scn.fresh)
            srv = servers.get(key) if not scn.fresh else None
            if srv is None:
                srv = harness.make_server(args.server, cfg=scn.cfg, props=scn.props).start()
                servers[key if not scn.fresh else (key, scn.name)] = srv
            trace, ns, err = run_scenario(srv, scn)
            print("=" * 20, scn.name)
            recs = trace if args.raw else normalise(trace, ns, int(_time.time() * 1000))
            for line in render(recs):
                print(line)
            if err:
                print(err, file=sys.stderr)
    finally:
        for srv in servers.values():
            srv.cleanup()


if __name__ == "__main__":
    import sys
    _main(sys.argv[1:])
