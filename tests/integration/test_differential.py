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

    def probe(self, conn):
        """Is the connection still served? Records a ping reply or the close."""
        try:
            conn.ping()
        except w.Closed:
            pass

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
    stale = []
    if known and not both.selftest:
        for label, entry in known.items():
            if label not in [m.get("step") for m in ref]:
                stale.append("%s names step %r, which scenario %s does not have"
                             % (entry, label, scn.name))
            elif _step(ref, label) == _step(cand, label):
                stale.append("%s: step %r of %s no longer differs" % (entry, label, scn.name))
        ref, cand = mask(ref, known), mask(cand, known)
    a, b = render(ref), render(cand)
    (tmp_path / "zookeeper.trace").write_text("\n".join(a) + "\n")
    (tmp_path / ("%s.trace" % both.candidate_kind)).write_text("\n".join(b) + "\n")
    if a != b:
        diff = list(difflib.unified_diff(a, b, "zookeeper", both.candidate_kind,
                                         lineterm="", n=4))
        if len(diff) > 400:
            diff = diff[:400] + ["... (%d more diff lines)" % (len(diff) - 400)]
        diff = "\n".join(diff)
        extra = ("\ncandidate error:\n%s" % cand_err) if cand_err else ""
        pytest.fail("scenario %s: %s differs from Apache ZooKeeper\n%s%s\n(full traces in %s)"
                    % (scn.name, both.candidate_kind, diff, extra, tmp_path), pytrace=False)
    assert ref_trace, "empty trace"
    if stale:
        pytest.fail("KNOWN_DIFFERENCES.md is out of date (remove or fix the entry): "
                    + "; ".join(stale), pytrace=False)


def _step(records, label):
    return [render([m]) for m in records if m.get("step") == label]


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
    a.set_data(n, b"4")
    a.set_acl(n, OPEN_ACL, 4)
    a.set_acl(n, OPEN_ACL, 3)
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

# --- multi, multiRead (§5.10, §5.11) --------------------------------------------

def C(path, data=b"", acl=OPEN_ACL, flags=0, op="create"):
    return (op, path, data, acl, flags)


@scenario()
def scn_multi_success(ctx):
    a = ctx.connect("a")
    b = ctx.connect("b")
    p = ctx.p
    a.create(p("/old"), b"o")
    a.create(p("/gone"))
    ctx.step("watches on what the multi touches")
    b.exists(p("/m1"), True)
    b.get_children(ctx.ns, True)
    b.get_data(p("/old"), True)
    b.exists(p("/gone"), True)
    ctx.step("every write op, results and one zxid")
    a.multi([C(p("/m1"), b"a"),
             C(p("/m2"), b"", OPEN_ACL, 0, "create2"),
             C(p("/m3"), b"", OPEN_ACL, 4, "createContainer"),
             ("createTTL", p("/m4"), b"", OPEN_ACL, 5, 1000),
             ("setData", p("/m1"), b"b", 0),
             ("check", p("/m1"), 1),
             ("delete", p("/gone"), 0),
             ("setData", p("/old"), b"n", -1),
             C(p("/seq-"), b"", OPEN_ACL, 2),
             C(p("/eph"), b"", OPEN_ACL, 1)])
    ctx.sync_point(b)
    for n in ("/m1", "/m2", "/m3", "/m4", "/old", "/eph"):
        a.exists(p(n))
    ctx.step("op type is rebuilt from the flags")
    a.multi([C(p("/f0"), b"", OPEN_ACL, 0, "createContainer"),
             C(p("/f1"), b"", OPEN_ACL, 4, "create"),
             C(p("/f2"), b"", OPEN_ACL, 4, "create2"),
             ("createTTL", p("/f3"), b"", OPEN_ACL, 0, 1000),
             ("createTTL", p("/f4"), b"", OPEN_ACL, 6, 1000),
             C(p("/f5"), b"", OPEN_ACL, 3, "create2")])
    ctx.step("create then modify then delete in one multi")
    a.multi([C(p("/t")), C(p("/t/c")), ("setData", p("/t/c"), b"x", 0),
             ("delete", p("/t/c"), 1), ("check", p("/t"), 0), ("delete", p("/t"), -1)])
    a.exists(p("/t"))
    a.get_children2(ctx.ns)


@scenario()
def scn_multi_failure(ctx):
    a = ctx.connect("a")
    b = ctx.connect("b")
    p = ctx.p
    a.create(p("/m1"), b"x")
    a.create(p("/full"))
    a.create(p("/full/c"))
    a.create(p("/ro"), b"", READ_ACL)
    a.create(p("/q"))
    b.get_children(ctx.ns, True)
    b.exists(p("/m4"), True)
    ctx.step("failure in the middle")
    a.multi([C(p("/m4")), ("check", p("/m1"), 5), ("delete", p("/m1"), -1), C(p("/m5"))])
    ctx.sync_point(b)
    a.exists(p("/m4"))
    a.exists(p("/m1"))
    ctx.step("failure first and last")
    a.multi([("delete", p("/missing"), -1), C(p("/m6"))])
    a.multi([C(p("/m6")), C(p("/m7")), ("setData", p("/m1"), b"", 7)])
    ctx.step("each error code inside a multi")
    for op in (C(p("/m1")), C(p("/missing/x")), C(p("/x"), b"", []),
               C(p("/x"), b"", OPEN_ACL, 7), C(p("/x/")), C("nope"),
               ("createTTL", p("/x"), b"", OPEN_ACL, 5, 0),
               C(p("/ro/x")), ("delete", p("/full"), -1), ("delete", "/zookeeper", -1),
               ("delete", p("/full"), 3), ("setData", p("/missing"), b"", -1),
               ("setData", p("/ro"), b"", -1), ("setData", p("/m1/."), b"", -1),
               ("check", p("/missing"), 0), ("check", p("/m1/"), 0),
               ("check", p("/m1"), 3)):
        a.multi([C(p("/before")), op, C(p("/after"))])
    a.exists(p("/before"))
    ctx.step("earlier ops are seen by later ones")
    a.multi([C(p("/n")), C(p("/n"))])
    a.multi([("delete", p("/m1"), -1), ("setData", p("/m1"), b"", -1)])
    a.multi([C(p("/e"), b"", OPEN_ACL, 1), C(p("/e/x"))])
    ctx.step("sequence numbers roll back")
    a.create(p("/q/s-"), b"", OPEN_ACL, 2)
    a.multi([C(p("/q/s-"), b"", OPEN_ACL, 2), C(p("/q/s-"), b"", OPEN_ACL, 2), C(p("/m1"))])
    a.create(p("/q/s-"), b"", OPEN_ACL, 2)
    a.get_children2(p("/q"))
    ctx.sync_point(b)
    a.get_children2(ctx.ns)


@scenario()
def scn_multi_malformed(ctx):
    a = ctx.connect("a")
    p = ctx.p
    a.create(p("/x"), b"1")
    ctx.step("empty multi")
    a.multi([])
    a.ping()
    ctx.step("read ops in a multi")
    a.multi([C(p("/a")), ("getData", p("/x"), False)])
    a.multi([("getData", p("/x"), False)])
    a.multi([("getChildren", p("/x"), False), ("getData", p("/x"), False)])
    a.ping()
    ctx.step("unknown sub-op types")
    for t in (0, 3, 9, 11, 16, 20, 22, 99, -1, -11):
        a.multi([C(p("/a")), ("raw", t, w.rec_path_version(p("/x"), -1))])
    ctx.step("TTL flags in a plain create record")
    a.multi([C(p("/t"), b"", OPEN_ACL, 5)])
    a.multi([C(p("/t"), b"", OPEN_ACL, 6, "create2")])
    ctx.step("broken framing")
    hdr = w.multi_header(1)
    rec = w.rec_create(p("/b"))
    for body in (b"", hdr, hdr + rec, hdr + rec[:5], hdr + rec + hdr,
                 hdr + rec + w.multi_header(-1, False), w.multi_header(1, True),
                 w.multi_header(-1, True)[:5], b"\x00" * 3):
        a.call("multi", body)
    a.ping()
    a.exists(p("/a"))
    a.exists(p("/b"))
    a.get_children(ctx.ns)


@scenario()
def scn_multi_read(ctx):
    a = ctx.connect("a")
    b = ctx.connect("b")
    p = ctx.p
    a.create(p("/d"), b"data")
    a.create(p("/d/k1"))
    a.create(p("/d/k2"), None)
    a.create(p("/secret"), b"s", ACL_USER_ONLY)
    a.create(p("/secret/k"))
    ctx.step("mixed results")
    a.multi_read([("getData", p("/d"), False), ("getChildren", p("/d"), False),
                  ("getData", p("/missing"), False), ("getData", p("/secret"), False),
                  ("getChildren", p("/missing"), False), ("getChildren", p("/secret"), False),
                  ("getData", p("/d/k2"), False), ("getChildren", p("/d/k1"), False)])
    ctx.step("watch flags are ignored")
    a.multi_read([("getData", p("/d"), True), ("getChildren", p("/d"), True)])
    b.set_data(p("/d"), b"new")
    b.create(p("/d/k3"))
    ctx.sync_point(a)
    ctx.step("write ops and oddities")
    a.multi_read([("getData", p("/d"), False), C(p("/z"))])
    a.multi_read([C(p("/z"))])
    a.multi_read([("check", p("/d"), -1)])
    a.multi_read([])
    a.call("multiRead", w.multi_header(4) + w.j_string(p("/d")))
    a.ping()
    a.exists(p("/z"))


# --- ping, auth, whoAmI, sasl (§3.2, §5.8, §11.5-§11.7, §5.12) ------------------

@scenario()
def scn_ping_and_pipelining(ctx):
    a = ctx.connect("a")
    p = ctx.p
    ctx.step("ping xids")
    a.ping()
    a.ping(xid=77)
    a.ping(xid=0)
    a.ping(xid=-8)
    ctx.step("pipelined requests answer in order")
    xids = [a.send_request("create", w.rec_create(p("/x"), b"1")),
            a.send_request("getData", w.rec_path_watch(p("/x"), False)),
            a.send_request("ping", b"", xid=-2),
            a.send_request("setData", w.rec_set_data(p("/x"), b"2", 0)),
            a.send_request("exists", w.rec_path_watch(p("/x"), True)),
            a.send_request("delete", w.rec_path_version(p("/x"), 1)),
            a.send_request("getChildren", w.rec_path_watch(ctx.ns, False)),
            a.send_request("sync", w.rec_path(ctx.ns)),
            a.send_request("create", w.rec_create(p("/x"), b"3"))]
    for _ in xids:
        a.read_message()
    a.read_message()
    ctx.step("a ping body is ignored")
    a.call("ping", b"junk", xid=-2)


@scenario()
def scn_auth_and_whoami(ctx):
    a = ctx.connect("a")
    ctx.step("anonymous")
    a.who_am_i()
    ctx.step("digest")
    a.auth("digest", USER_AUTH)
    a.who_am_i()
    a.auth("digest", USER_AUTH)
    a.who_am_i()
    a.auth("digest", BOB_AUTH, xid=7)
    a.who_am_i()
    ctx.step("odd digest credentials")
    b = ctx.connect("b")
    b.auth("digest", "nocolon")
    b.auth("digest", "")
    b.auth("digest", "a:b:c")
    b.who_am_i()
    b.create(ctx.p("/n"), b"", [(31, "auth", "")])
    b.get_acl(ctx.p("/n"))
    ctx.step("ip scheme")
    c = ctx.connect("c")
    c.auth("ip", "whatever")
    c.who_am_i()
    c.auth("digest", USER_AUTH, type_=5)
    c.who_am_i()
    ctx.step("super")
    s = ctx.connect("s")
    s.auth("digest", SUPER_AUTH)
    s.who_am_i()
    s.create(ctx.p("/s"), b"", [(31, "auth", "")])
    s.get_acl(ctx.p("/s"))
    ctx.step("identities live on the connection, not the session")
    r = ctx.connect("r", session_id=a.session_id, passwd=a.passwd)
    r.who_am_i()
    ctx.expect_close(a)


@scenario()
def scn_auth_failed(ctx):
    a = ctx.connect("a")
    a.create(ctx.p("/e"), b"", OPEN_ACL, 1)
    ctx.step("unknown scheme: AUTHFAILED, then closed")
    a.auth("foo", "bar")
    ctx.expect_close(a)
    ctx.step("session survives its connection")
    r = ctx.connect("r", session_id=a.session_id, passwd=a.passwd)
    r.get_ephemerals("/")
    r.who_am_i()
    for scheme in ("sasl", "super", "world", "x509", "", "auth"):
        ctx.step("scheme %r" % scheme)
        c = ctx.connect()
        c.auth(scheme, "x")
        ctx.expect_close(c)
    ctx.step("an auth failure while requests are pending")
    d = ctx.connect("d")
    d.send_request("getData", w.rec_path_watch(ctx.ns, False))
    d.read_message()
    d.auth("nope", "x")
    ctx.expect_close(d)


@scenario()
def scn_sasl_unconfigured(ctx):
    a = ctx.connect("a")
    a.sasl(b"")
    a.sasl(b"\x01\x02garbage")
    a.who_am_i()
    a.exists(ctx.ns)
    ctx.step("null token")
    b = ctx.connect("b")
    b.send_request("sasl", w.j_buffer(None))
    ctx.expect_close(b)


# --- getEphemerals, getAllChildrenNumber (§5.12) ----------------------------------

@scenario()
def scn_get_ephemerals(ctx):
    a = ctx.connect("a")
    b = ctx.connect("b")
    c = ctx.connect("c")
    p = ctx.p
    a.create(p("/seqdir"))
    a.create(p("/other"))
    a.create(p("/seqdir/e1"), b"", OPEN_ACL, 1)
    a.create(p("/seq-e2"), b"", OPEN_ACL, 1)
    a.create(p("/other/e3"), b"", OPEN_ACL, 3)
    a.create(p("/persistent"))
    b.create(p("/b1"), b"", OPEN_ACL, 1)
    ctx.step("prefixes")
    for prefix in ("/", "", "   ", None, ctx.ns, p("/seq"), p("/seqdir"), p("/seqdir/"),
                   p("/nomatch"), p("/other/e"), "seq", ctx.ns + "/"):
        a.get_ephemerals(prefix)
    ctx.step("other sessions")
    b.get_ephemerals("/")
    b.get_ephemerals(p("/b"))
    c.get_ephemerals("/")
    ctx.step("after a delete")
    a.delete(p("/seq-e2"))
    a.get_ephemerals(ctx.ns)


@scenario()
def scn_get_all_children_number(ctx):
    a = ctx.connect("a")
    p = ctx.p
    for n in ("/t", "/t/a", "/t/a/b", "/t/a/b/c", "/t/d", "/tt", "/tt/x", "/t-x"):
        a.create(p(n))
    a.create(p("/hidden"), b"", ACL_WRITE_ONLY)
    a.create(p("/t/d/e"), b"", OPEN_ACL, 1)
    for n in ("", "/t", "/t/a", "/t/a/b/c", "/tt", "/missing", "/hidden", "/t/"):
        a.get_all_children_number(p(n))
    a.delete(p("/t/a/b/c"))
    a.get_all_children_number(p("/t"))

# --- watches (§9) -------------------------------------------------------------

@scenario()
def scn_watch_one_shot(ctx):
    a = ctx.connect("a")
    b = ctx.connect("b")
    p = ctx.p
    a.create(p("/x"), b"0")
    ctx.step("data watch fires once")
    b.get_data(p("/x"), True)
    a.set_data(p("/x"), b"1")
    a.set_data(p("/x"), b"2")
    ctx.sync_point(b)
    ctx.step("registering twice still fires once")
    b.get_data(p("/x"), True)
    b.exists(p("/x"), True)
    b.get_data(p("/x"), True)
    a.set_data(p("/x"), b"3")
    ctx.sync_point(b)
    ctx.step("the event comes before a read that shows the change")
    b.get_data(p("/x"), True)
    a.set_data(p("/x"), b"4")
    b.get_data(p("/x"))
    ctx.step("own write: event before the reply")
    a.get_data(p("/x"), True)
    a.set_data(p("/x"), b"5")
    a.exists(p("/y"), True)
    a.create(p("/y"))
    a.get_children(p("/y"), True)
    a.create(p("/y/c"))
    ctx.step("create fires NodeCreated then the parent's NodeChildrenChanged")
    b.exists(p("/z"), True)
    b.get_children(ctx.ns, True)
    a.create(p("/z"))
    ctx.sync_point(b)
    ctx.step("one notification per trigger")
    b.get_data(p("/z"), True)
    b.get_children(p("/z"), True)
    b.exists(p("/z"), True)
    a.delete(p("/z"))
    ctx.sync_point(b)
    ctx.step("delete: node, then parent")
    b.get_data(p("/y/c"), True)
    b.get_children(p("/y"), True)
    a.delete(p("/y/c"))
    ctx.sync_point(b)
    ctx.step("child watch only: NodeDeleted from the child table")
    b.get_children(p("/y"), True)
    a.delete(p("/y"))
    ctx.sync_point(b)
    ctx.step("watches of several connections")
    c = ctx.connect("c")
    a.create(p("/m"))
    b.get_data(p("/m"), True)
    c.get_data(p("/m"), True)
    c.get_children(p("/m"), True)
    a.delete(p("/m"))
    ctx.sync_point(b)
    ctx.sync_point(c)
    ctx.step("ephemeral deleted by closeSession fires watches")
    e = ctx.connect("e")
    e.create(p("/eph"), b"", OPEN_ACL, 1)
    b.exists(p("/eph"), True)
    c.get_children(ctx.ns, True)
    e.close_session()
    ctx.expect_close(e)
    ctx.sync_point(b)
    ctx.sync_point(c)


@scenario()
def scn_watch_persistent(ctx):
    a = ctx.connect("a")
    b = ctx.connect("b")
    pw = ctx.p("/pw")
    ctx.step("addWatch PERSISTENT")
    b.add_watch(pw, w.ADD_WATCH_PERSISTENT)
    a.create(pw)
    a.create(pw + "/c")
    a.set_data(pw, b"1")
    a.set_data(pw + "/c", b"1")
    a.create(pw + "/c/d")
    a.delete(pw + "/c/d")
    a.delete(pw + "/c")
    a.set_data(pw, b"2")
    a.delete(pw)
    a.create(pw)
    ctx.sync_point(b)
    ctx.step("bad modes")
    for mode in (2, -1, 3, 100):
        b.add_watch(pw, mode)
    ctx.step("addWatch on an unreadable node")
    a.create(ctx.p("/hidden"), b"", ACL_WRITE_ONLY)
    b.add_watch(ctx.p("/hidden"), w.ADD_WATCH_PERSISTENT)
    a.set_data(ctx.p("/hidden"), b"x")
    ctx.sync_point(b)
    ctx.step("own writes")
    a.add_watch(pw, w.ADD_WATCH_PERSISTENT)
    a.set_data(pw, b"3")
    a.create(pw + "/own")
    ctx.step("after removal")
    b.remove_watches(pw, w.WATCHER_ANY)
    a.set_data(pw, b"4")
    ctx.sync_point(b)


@scenario()
def scn_watch_recursive(ctx):
    a = ctx.connect("a")
    b = ctx.connect("b")
    rw = ctx.p("/rw")
    ctx.step("addWatch PERSISTENT_RECURSIVE")
    b.add_watch(rw, w.ADD_WATCH_PERSISTENT_RECURSIVE)
    a.create(rw)
    a.create(rw + "/c")
    a.create(rw + "/c/d")
    a.set_data(rw + "/c", b"1")
    a.delete(rw + "/c/d")
    a.create(ctx.p("/rwx"))
    a.create(ctx.p("/rwx/y"))
    a.multi([C(rw + "/m1"), C(rw + "/m2"), ("setData", rw + "/m1", b"x", -1),
             ("delete", rw + "/m2", -1)])
    ctx.sync_point(b)
    ctx.step("recursive plus standard watches: one event")
    b.get_data(rw + "/c", True)
    b.get_children(rw + "/c", True)
    a.set_data(rw + "/c", b"2")
    a.create(rw + "/c/e")
    a.delete(rw + "/c/e")
    ctx.sync_point(b)
    ctx.step("ephemeral children and session close")
    e = ctx.connect("e")
    e.create(rw + "/c/eph", b"", OPEN_ACL, 1)
    e.close_session()
    ctx.expect_close(e)
    ctx.sync_point(b)
    ctx.step("unreadable descendants")
    a.create(rw + "/secret", b"", ACL_USER_ONLY)
    su = ctx.connect("su")
    su.auth("digest", SUPER_AUTH)
    su.set_data(rw + "/secret", b"x")
    su.create(rw + "/secret/k")
    ctx.sync_point(b)
    ctx.step("removeWatches of a recursive watch")
    b.check_watches(rw + "/c", w.WATCHER_DATA)
    b.check_watches(rw, w.WATCHER_DATA)
    b.check_watches(rw, w.WATCHER_CHILDREN)
    b.remove_watches(rw, w.WATCHER_DATA)
    a.set_data(rw, b"r")
    a.create(rw + "/after")
    ctx.sync_point(b)
    b.remove_watches(rw, w.WATCHER_CHILDREN)
    b.remove_watches(rw, w.WATCHER_ANY)
    a.set_data(rw + "/c", b"3")
    ctx.sync_point(b)


@scenario()
def scn_set_watches(ctx):
    a = ctx.connect("a")
    p = ctx.p
    for n in ("/d1", "/d2", "/d3", "/c1", "/c2", "/c3", "/e1", "/eq"):
        a.create(p(n))
    rel = a.sync(ctx.ns)["zxid"]
    ctx.step("changes after relativeZxid")
    a.set_data(p("/d1"), b"changed")
    a.delete(p("/d3"))
    a.create(p("/c1/k"))
    a.delete(p("/c3"))
    ctx.step("setWatches on a new session")
    b = ctx.connect("b")
    b.set_watches(rel, data=[p("/d1"), p("/d2"), p("/d3"), p("/nope")],
                  exist=[p("/e1"), p("/e2"), p("/d1")],
                  child=[p("/c1"), p("/c2"), p("/c3"), p("/nope")])
    ctx.step("the registered watches fire later")
    a.set_data(p("/d1"), b"again")
    a.set_data(p("/d2"), b"x")
    a.create(p("/e2"))
    a.create(p("/c2/k"))
    a.create(p("/nope"))
    ctx.sync_point(b)
    ctx.step("relativeZxid equal to mzxid registers")
    r = a.set_data(p("/eq"), b"v")
    c = ctx.connect("c")
    c.set_watches(r["zxid"], data=[p("/eq")], child=[p("/eq")])
    c.set_watches(r["zxid"] - 1, data=[p("/eq")])
    a.set_data(p("/eq"), b"w")
    a.create(p("/eq/k"))
    ctx.sync_point(c)
    ctx.step("C client xid -8, zero relativeZxid, empty lists")
    d = ctx.connect("d")
    d.set_watches(0, data=[p("/d2")], exist=[], child=[], xid=-8)
    d.set_watches(0)
    d.set_watches(2 ** 62, data=[p("/d2")], child=[ctx.ns])
    a.create(p("/k"))
    ctx.sync_point(d)
    ctx.step("null lists and truncation")
    d.call("setWatches", w.j_long(0) + w.j_int(-1) + w.j_int(-1) + w.j_int(-1))
    d.call("setWatches", w.j_long(0) + w.j_int(1))
    d.ping()


@scenario()
def scn_set_watches2(ctx):
    a = ctx.connect("a")
    p = ctx.p
    a.create(p("/d"))
    a.create(p("/c"))
    a.create(p("/r"))
    a.create(p("/q"))
    rel = a.sync(ctx.ns)["zxid"]
    a.set_data(p("/d"), b"1")
    b = ctx.connect("b")
    b.set_watches2(rel, data=[p("/d")], exist=[p("/e")], child=[p("/c")],
                   persistent=[p("/p")], recursive=[p("/r")])
    a.create(p("/p"))
    a.set_data(p("/p"), b"1")
    a.create(p("/p/c"))
    a.create(p("/r/x"))
    a.create(p("/r/x/y"))
    a.create(p("/e"))
    a.create(p("/c/k"))
    ctx.sync_point(b)
    ctx.step("persistent watches survive firing")
    a.set_data(p("/p"), b"2")
    a.set_data(p("/r/x/y"), b"2")
    a.create(p("/c/k2"))
    ctx.sync_point(b)
    ctx.step("checkWatches sees them")
    b.check_watches(p("/p"), w.WATCHER_DATA)
    b.check_watches(p("/r"), w.WATCHER_CHILDREN)
    b.check_watches(p("/e"), w.WATCHER_ANY)
    ctx.step("standard and recursive watch on the same path")
    c = ctx.connect("c")
    c.set_watches2(rel, child=[p("/q")], recursive=[p("/q")])
    a.create(p("/q/x"))
    a.create(p("/q/y"))
    ctx.sync_point(c)


@scenario()
def scn_remove_and_check_watches(ctx):
    a = ctx.connect("a")
    b = ctx.connect("b")
    p = ctx.p
    x = p("/x")
    a.create(x)
    ctx.step("data watch")
    b.get_data(x, True)
    b.check_watches(x, w.WATCHER_DATA)
    b.check_watches(x, w.WATCHER_CHILDREN)
    b.check_watches(x, w.WATCHER_ANY)
    b.remove_watches(x, w.WATCHER_CHILDREN)
    b.remove_watches(x, w.WATCHER_DATA)
    b.remove_watches(x, w.WATCHER_DATA)
    b.check_watches(x, w.WATCHER_ANY)
    a.set_data(x, b"1")
    ctx.sync_point(b)
    ctx.step("child watch")
    b.get_children(x, True)
    b.check_watches(x, w.WATCHER_CHILDREN)
    b.check_watches(x, w.WATCHER_DATA)
    b.remove_watches(x, w.WATCHER_ANY)
    b.remove_watches(x, w.WATCHER_ANY)
    a.create(x + "/c")
    ctx.sync_point(b)
    ctx.step("both kinds, removed together")
    b.get_children(x, True)
    b.exists(x, True)
    b.remove_watches(x, w.WATCHER_ANY)
    b.check_watches(x, w.WATCHER_DATA)
    b.check_watches(x, w.WATCHER_CHILDREN)
    a.delete(x + "/c")
    ctx.sync_point(b)
    ctx.step("exists watch on a missing node")
    b.exists(p("/missing"), True)
    b.check_watches(p("/missing"), w.WATCHER_DATA)
    b.remove_watches(p("/missing"), w.WATCHER_DATA)
    a.create(p("/missing"))
    ctx.sync_point(b)
    ctx.step("persistent watch")
    b.add_watch(x, w.ADD_WATCH_PERSISTENT)
    b.check_watches(x, w.WATCHER_DATA)
    b.check_watches(x, w.WATCHER_CHILDREN)
    b.remove_watches(x, w.WATCHER_CHILDREN)
    b.check_watches(x, w.WATCHER_DATA)
    b.check_watches(x, w.WATCHER_CHILDREN)
    a.create(x + "/d")
    a.set_data(x, b"2")
    ctx.sync_point(b)
    b.remove_watches(x, w.WATCHER_ANY)
    a.set_data(x, b"3")
    ctx.sync_point(b)
    ctx.step("bad types and paths")
    for t in (0, 6, -1, 99):
        b.check_watches(x, t)
        b.remove_watches(x, t)
    b.check_watches(p("/nowhere"), w.WATCHER_ANY)
    b.remove_watches(p("/nowhere"), w.WATCHER_ANY)
    b.check_watches("", w.WATCHER_ANY)
    b.call("checkWatches", w.j_string(x))
    b.ping()
    ctx.step("watcher types 4 and 5 (3.9)")
    b.add_watch(x, w.ADD_WATCH_PERSISTENT_RECURSIVE)
    for t in (4, 5):
        b.check_watches(x, t)
        b.remove_watches(x, t)
    b.check_watches(x, w.WATCHER_ANY)


# --- sessions (§2.3, §5.14, §10) ----------------------------------------------

@scenario()
def scn_close_session(ctx):
    a = ctx.connect("a")
    b = ctx.connect("b")
    p = ctx.p
    a.create(p("/e1"), b"", OPEN_ACL, 1)
    a.create(p("/e2"), b"", OPEN_ACL, 3)
    b.exists(p("/e1"), True)
    ctx.step("reply, then the socket is closed")
    a.close_session()
    ctx.expect_close(a)
    ctx.sync_point(b)
    b.get_children(ctx.ns)
    # Requests pipelined behind a closeSession are not compared: ZooKeeper
    # answers them with SESSIONEXPIRED or drops them, depending on timing.
    ctx.step("a closed session cannot be resumed")
    d = ctx.connect("d", session_id=a.session_id, passwd=a.passwd)
    ctx.expect_close(d)
    ctx.step("closeSession with a body")
    e = ctx.connect("e")
    e.call("closeSession", b"extra")
    ctx.expect_close(e)


@scenario()
def scn_session_resume(ctx):
    a = ctx.connect("a")
    p = ctx.p
    a.create(p("/e"), b"", OPEN_ACL, 1)
    a.get_data(p("/e"), True)
    ctx.step("resume on a second connection closes the first")
    b = ctx.connect("b", session_id=a.session_id, passwd=a.passwd)
    ctx.expect_close(a)
    b.get_ephemerals("/")
    b.exists(p("/e"))
    ctx.step("watches stayed with the old connection")
    x = ctx.connect("x")
    x.set_data(p("/e"), b"1")
    ctx.sync_point(b)
    ctx.step("resume without the readOnly byte")
    c = ctx.connect("c", session_id=a.session_id, passwd=a.passwd, read_only=None)
    ctx.expect_close(b)
    c.ping()
    ctx.step("resume asking for read-only, with extra bytes")
    d = ctx.connect("d", session_id=a.session_id, passwd=a.passwd, read_only=True,
                    extra=b"\x00\x01\x02")
    ctx.expect_close(c)
    d.ping()
    ctx.step("lastZxidSeen: equal is fine, ahead is refused")
    last = d.ping()["zxid"]
    e = ctx.connect("e", session_id=a.session_id, passwd=a.passwd, last_zxid=last)
    ctx.expect_close(d)
    f = ctx.connect("f", last_zxid=last + 1000)
    ctx.expect_close(f)
    g = ctx.connect("g", session_id=a.session_id, passwd=a.passwd, last_zxid=last + 1000)
    ctx.expect_close(g)
    e.ping()
    ctx.step("timeout negotiation")
    for t in (1, 3999, 4000, 10000, 40000, 40001, 10 ** 9, 0, -5):
        h = ctx.connect(timeout_ms=t)
        h.close_session()
        ctx.expect_close(h)
    ctx.step("resume with a different timeout")
    k = ctx.connect("k", session_id=a.session_id, passwd=a.passwd, timeout_ms=5000)
    ctx.expect_close(e)
    k.get_ephemerals("/")


@scenario()
def scn_session_invalid(ctx):
    a = ctx.connect("a")
    a.create(ctx.p("/e"), b"", OPEN_ACL, 1)
    ctx.step("wrong password: invalid-session answer, then closed")
    bad = bytes(x ^ 0xFF for x in a.passwd)
    b = ctx.connect("b", session_id=a.session_id, passwd=bad)
    ctx.expect_close(b)
    ctx.step("the old connection is closed by the attempt")
    ctx.expect_close(a)
    ctx.step("the session itself is fine")
    c = ctx.connect("c", session_id=a.session_id, passwd=a.passwd)
    c.get_ephemerals("/")
    ctx.step("short and empty passwords")
    for pw in (a.passwd[:8], b"", None, a.passwd + b"\0"):
        d = ctx.connect(session_id=a.session_id, passwd=pw)
        ctx.expect_close(d)
    ctx.step("unknown session id")
    e = ctx.connect("e", session_id=a.session_id + 12345, passwd=a.passwd)
    ctx.expect_close(e)
    f = ctx.connect("f", session_id=-1, passwd=b"\0" * 16, read_only=None)
    ctx.expect_close(f)
    ctx.step("every failed attempt also closed c; the session lives on")
    ctx.expect_close(c)
    g = ctx.connect("g", session_id=a.session_id, passwd=a.passwd)
    g.get_ephemerals("/")


@scenario()
def scn_unknown_opcodes(ctx):
    for op in (0, 10, 23, 99, 108, 200, -3, -12, 2 ** 31 - 1, -(2 ** 31)):
        ctx.step("opcode %d" % op)
        c = ctx.connect()
        c.call(op, b"\x00\x00\x00\x01/")
        ctx.expect_close(c)


@scenario()
def scn_zxid_consumption(ctx):
    """§5.1: every write consumes a zxid, failed or not; reads never do."""
    a = ctx.connect("a")
    p = ctx.p
    a.create(p("/x"))
    a.create(p("/x"))
    a.exists(p("/x"))
    a.set_data(p("/x"), b"", 5)
    a.delete(p("/nope"))
    a.delete("/")
    a.set_acl(p("/x"), [], -1)
    a.create(p("/x/y"), b"", OPEN_ACL, 9)
    a.multi([C(p("/x"))])
    a.multi([])
    a.multi([("getData", p("/x"), False)])
    a.call("create", w.j_string(p("/t")))
    a.call("setData", w.j_string(p("/x")))
    a.call("delete", b"")
    a.call("setACL", w.j_string(p("/x")) + w.j_int(5))
    a.call("createTTL", w.rec_create(p("/t")))
    a.call("multi", w.multi_header(1))
    a.reconfig()
    a.get_data(p("/x"))
    a.get_children(p("/x"))
    a.get_acl(p("/x"))
    a.multi_read([("getData", p("/x"), False)])
    a.sync(p("/x"))
    a.ping()
    a.who_am_i()
    a.get_ephemerals("/")
    a.get_all_children_number(p("/x"))
    a.add_watch(p("/x"), 0)
    a.check_watches(p("/x"), 3)
    a.remove_watches(p("/x"), 3)
    a.set_watches(0)
    a.auth("digest", USER_AUTH)
    a.sasl(b"")
    ctx.step("sessions")
    b = ctx.connect("b")
    b.ping()
    b.close_session()
    ctx.expect_close(b)
    a.ping()
    a.create(p("/last"))


@scenario()
def scn_reconfig_standalone(ctx):
    a = ctx.connect("a")
    a.reconfig()
    a.reconfig("server.2=127.0.0.1:2888:3888:participant;2182", None, None, -1)
    a.reconfig(None, "1", None, 0)
    a.reconfig(None, None, "server.1=127.0.0.1:2888:3888:participant;2181", 5)
    a.call("reconfig", w.j_string("x"))
    su = ctx.connect("su")
    su.auth("digest", SUPER_AUTH)
    su.reconfig(None, "1", None, -1)
    a.get_data("/zookeeper/config")

# --- bad input on the wire (§2.1, §2.3, §5.1, DESIGN principle 6) ---------------

def served(ctx, name="ok"):
    """A fresh, well-behaved client is still served."""
    c = ctx.connect(name)
    c.exists(ctx.ns)
    c.close_session()
    ctx.expect_close(c)


@scenario()
def scn_bad_frames(ctx):
    """Frames after the handshake with impossible lengths."""
    a = ctx.connect("a")
    a.create(ctx.p("/big"))
    ctx.step("largest accepted frame: len = jute.maxbuffer")
    path = ctx.p("/big").encode()
    overhead = 8 + 4 + len(path) + 4 + 4
    data = b"\xab" * (0xFFFFF - overhead)
    a.set_data(path, data)
    a.get_data(path)
    ctx.step("len = jute.maxbuffer + 1: closed, no reply")
    b = ctx.connect("b")
    b.send_raw(w.j_int(0x100000) + w.j_int(1) + w.j_int(4) + b"\0" * 64)
    ctx.expect_close(b)
    served(ctx, "ok1")
    for i, n in enumerate((-1, -100, -(2 ** 31), 0x7FFFFFFF, 0x10000000)):
        ctx.step("len = %d" % n)
        c = ctx.connect("l%d" % i)
        c.send_raw(w.j_int(n) + b"\0" * 16)
        ctx.expect_close(c)
    served(ctx, "ok2")
    ctx.step("len = 0")
    d = ctx.connect("d")
    d.send_raw(w.j_int(0))
    ctx.expect_close(d)
    ctx.step("shorter than a request header")
    for i, payload in enumerate((b"\x00\x00\x00\x05", b"\x00\x00\x00\x05\x00\x00\x00",
                                 b"\x01")):
        e = ctx.connect("h%d" % i)
        e.send_frame(payload)
        ctx.probe(e)
    served(ctx, "ok3")


@scenario()
def scn_truncated_records(ctx):
    """Undecodable bodies: MARSHALLINGERROR, connection kept (§5.1)."""
    a = ctx.connect("a")
    p = ctx.p
    a.create(p("/x"), b"1")
    path = w.j_string(p("/x"))
    cases = [
        ("getData", w.j_int(100) + b"/ab"),
        ("getData", path),
        ("getData", b""),
        ("getData", w.j_int(-5) + b"\x00"),
        ("exists", b""),
        ("exists", path),
        ("getChildren", path),
        ("getChildren2", w.j_int(-5)),
        ("getACL", b""),
        ("getACL", w.j_int(3) + b"/"),
        ("sync", b""),
        ("getEphemerals", b""),
        ("getAllChildrenNumber", b""),
        ("checkWatches", path),
        ("removeWatches", path),
        ("addWatch", path),
        ("setWatches", w.j_long(0)),
        ("setWatches2", w.j_long(0) + w.j_int(0) + w.j_int(0) + w.j_int(0)),
        ("create", b""),
        ("create", path + w.j_buffer(b"d")),
        ("create", path + w.j_buffer(b"d") + w.j_int(1) + w.j_int(31)),
        ("create", path + w.j_buffer(b"d") + w.j_int(0x7FFFFFFF)),
        ("create", path + w.j_buffer(b"d") + w.j_acls(OPEN_ACL)),
        ("create", path + w.j_int(2 ** 30) + b"dd"),
        ("create2", w.rec_create(p("/y"))[:-2]),
        ("createContainer", w.rec_create(p("/y"))[:-1]),
        ("createTTL", w.rec_create(p("/y"), flags=5)),
        ("delete", path),
        ("delete", w.j_int(-2) + w.j_int(0)),
        ("setData", path + w.j_buffer(b"d")),
        ("setACL", path + w.j_int(1)),
        ("setACL", path + w.j_acls(OPEN_ACL)),
        ("check", path),
        ("reconfig", w.j_string(None)),
    ]
    for i, (opname, body) in enumerate(cases):
        ctx.step("case %d: %s, %d bytes" % (i, opname, len(body)))
        a.call(opname, body)
    ctx.step("still open, nothing was written")
    a.ping()
    a.get_children2(ctx.ns)
    a.get_data(p("/x"))
    ctx.step("extra bytes after a complete record")
    a.call("getData", w.rec_path_watch(p("/x"), False) + b"\x01\x02\x03")
    a.call("exists", w.rec_path_watch(p("/x"), False) + b"junk")
    a.call("create", w.rec_create(p("/z")) + b"\x00\x00")
    a.call("whoAmI", b"junk")
    a.call("delete", w.rec_path_version(p("/z"), -1) + b"\x00")
    a.ping()
    ctx.step("truncated auth packet")
    b = ctx.connect("b")
    b.send_request("auth", w.j_int(0) + w.j_string("digest"), xid=-4)
    ctx.expect_close(b)
    served(ctx)


@scenario()
def scn_bad_handshakes(ctx):
    """Garbage before the handshake (§2.1-§2.3); the server keeps serving."""
    cases = [
        ("http request", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("telnet close", b"\xff\xf4\xff\xfd"),
        ("negative length", w.j_int(-1) + b"\0" * 8),
        ("huge length", w.j_int(0x7FFFFFFF) + b"\0" * 8),
        ("zero length", w.j_int(0)),
        ("short connect request", w.frame(b"\x00" * 5)),
        ("passwd longer than the frame", w.frame(w.j_int(0) + w.j_long(0) + w.j_int(30000)
                                                 + w.j_long(0) + w.j_int(1000) + b"\0" * 16)),
        ("negative passwd length", w.frame(w.j_int(0) + w.j_long(0) + w.j_int(30000)
                                           + w.j_long(0) + w.j_int(-7))),
        ("connect request without passwd", w.frame(w.j_int(0) + w.j_long(0) + w.j_int(30000)
                                                   + w.j_long(0))),
    ]
    for label, data in cases:
        ctx.step(label)
        c = ctx.open()
        c.send_raw(data)
        ctx.expect_close(c)
    served(ctx, "ok1")
    ctx.step("EOF in the middle of a connect request")
    d = ctx.open("d")
    d.send_raw(w.frame(w.connect_request())[:20])
    d.sock.shutdown(__import__("socket").SHUT_WR)
    ctx.expect_close(d)
    ctx.step("odd but valid connect requests")
    ctx.connect("v1", passwd=None).ping()
    ctx.connect("v2", passwd=b"").ping()
    ctx.connect("v3", passwd=b"x" * 40).ping()
    ctx.connect("v4", read_only=True).ping()
    ctx.connect("v5", read_only=None).ping()
    ctx.connect("v6", extra=b"\x07" * 10).ping()
    ctx.connect("v7", protocol_version=99, read_only=5).ping()
    served(ctx, "ok2")


@scenario()
def scn_handshake_pipelining(ctx):
    """Requests sent in the same write as the ConnectRequest (§2.1)."""
    p = ctx.p
    pipelined = (w.frame(w.j_int(1) + w.j_int(1) + w.rec_create(p("/a"), b"x"))
                 + w.frame(w.j_int(2) + w.j_int(4) + w.rec_path_watch(p("/a"), False))
                 + w.frame(w.j_int(-2) + w.j_int(11))
                 + w.frame(w.j_int(3) + w.j_int(8) + w.rec_path_watch(ctx.ns, False)))
    c = ctx.open("c")
    c.pending = [(1, 1), (2, 4), (-2, 11), (3, 8)]
    c.handshake(pipelined=pipelined, expect_valid=False)
    for _ in range(4):
        c.read_message()
    ctx.step("auth pipelined with the handshake")
    d = ctx.open("d")
    d.pending = [(-4, 100), (1, 107)]
    d.handshake(pipelined=w.frame(w.j_int(-4) + w.j_int(100) + w.rec_auth("digest", USER_AUTH))
                + w.frame(w.j_int(1) + w.j_int(107)), expect_valid=False)
    d.read_message()
    d.read_message()
    ctx.step("a request split across many writes")
    e = ctx.connect("e")
    raw = w.frame(w.j_int(1) + w.j_int(4) + w.rec_path_watch(p("/a"), False))
    e.pending.append((1, 4))
    for i in range(len(raw)):
        e.send_raw(raw[i:i + 1])
    e.read_message()

# ===========================================================================
# corrald-only checks: requests that must not be sent to ZooKeeper (see
# "Not compared" in KNOWN_DIFFERENCES.md); they assert the answer we chose.
# ===========================================================================

@pytest.mark.server_config(props=EXT_PROPS)
def test_standalone_check_corrald(corrald):
    """Opcode 13 outside a multi (§5.10.1): ZooKeeper 3.8 sends no reply and
    logs a txn it cannot read back, so it is never sent to the oracle.
    Corral runs the checks of a multi's check (path, existence, READ,
    version, in that order) and answers {xid, zxid, err} with no body. Like
    every write it consumes one zxid, pass or fail (a passing check is logged
    as a no-op error txn with code 0, so the log stays readable)."""
    a = w.Conn.connect(corrald.address, name="a")
    ns = "/standalone-check"
    r = a.create(ns, b"d")
    assert r["err"] == w.OK
    r = a.create(ns + "/ro", b"", ACL_WRITE_ONLY)
    assert r["err"] == w.OK
    last = r["zxid"]
    cases = [(ns, 0, w.OK), (ns, -1, w.OK), (ns, 1, w.BADVERSION), (ns, -2, w.BADVERSION),
             (ns + "/missing", 0, w.NONODE), (ns + "/", 0, w.BADARGUMENTS),
             (ns + "/missing/.", 0, w.BADARGUMENTS), (ns + "/ro", 5, w.NOAUTH),
             ("", 0, w.BADARGUMENTS)]
    for path, version, err in cases:
        r = a.check(path, version)
        last += 1
        assert (r["err"], r["zxid"], r["body"]) == (err, last, None), (path, version, r)
    r = a.call("check", w.j_string(ns))
    last += 1
    assert (r["err"], r["zxid"], r["body"]) == (w.MARSHALLINGERROR, last, None), r
    r = a.ping()
    assert (r["xid"], r["err"], r["zxid"]) == (-2, w.OK, last)
    r = a.set_data(ns, b"e", 0)
    assert (r["err"], r["zxid"], r["body"]["stat"]["version"]) == (w.OK, last + 1, 1), r
    a.close_session()
    a.close()
    corrald.stop()
    if not any(files for _, _, files in os.walk(corrald.data_dir)):
        pytest.skip("corrald wrote nothing to %s: no persistence yet, so the "
                    "restart half of this test cannot run" % corrald.data_dir)
    # The log holds nothing unreadable: the server restarts on the same data.
    corrald.start()
    b = w.Conn.connect(corrald.address, name="b")
    r = b.get_data(ns)
    assert (r["err"], r["body"]["data"], r["body"]["stat"]["version"]) == (w.OK, b"e", 1), r
    assert b.check(ns, 1)["err"] == w.OK
    b.close_session()
    b.close()


@pytest.mark.parametrize("opcode", [-10, 20])
def test_internal_opcodes_corrald(corrald, opcode):
    """createSession (-10) and deleteContainer (20) are internal (§20.10): a
    client sending them gets UNIMPLEMENTED (zxid -1) and the connection is
    closed; nothing changes. ZooKeeper's answer is untested and unsafe to
    provoke on the shared oracle."""
    a = w.Conn.connect(corrald.address, name="a")
    assert a.create("/victim")["err"] == w.OK
    r = a.call(opcode, b"/victim" if opcode == 20 else w.j_int(30000))
    assert (r["xid"], r["zxid"], r["err"], r["body"]) == (2, -1, w.UNIMPLEMENTED, None), r
    assert a.read_until_close(CLOSE_TIMEOUT)
    b = w.Conn.connect(corrald.address, name="b")
    r = b.exists("/victim")
    assert r["err"] == w.OK, r
    b.close_session()
    b.close()

# ---------------------------------------------------------------------------
# The fixtures other suites use, exercised once with kazoo.

def test_fixtures_with_kazoo(zookeeper, namespace):
    kazoo_client = pytest.importorskip("kazoo.client")
    zk = kazoo_client.KazooClient(hosts=zookeeper.hosts, timeout=10)
    zk.start(timeout=10)
    try:
        zk.ensure_path(namespace + "/a")
        zk.set(namespace + "/a", b"x")
        data, stat = zk.get(namespace + "/a")
        assert (data, stat.version) == (b"x", 1)
        assert zk.get_children(namespace) == ["a"]
    finally:
        zk.stop()
        zk.close()
    assert zookeeper.four_letter_word("ruok") == "imok"

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
