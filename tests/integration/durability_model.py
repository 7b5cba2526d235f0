"""Helpers for test_durability.py: a replayable model of the tree, a
pipelined writer that records every acknowledged write, tree dumps, data
dir inspection and process control.

The model
---------
``Model`` holds znodes (data and every Stat field but the two times, which
are kept when a reply told them and None otherwise) and applies write
operations exactly as ZooKeeper's PrepRequestProcessor + DataTree do for a
single session: every write request, failed or not, takes the next zxid
(failed ones log an error txn); a multi is all or nothing; a sequential
name is the parent's cversion at create time. Because one session writes
alone, the zxid of the i-th request is known in advance, so the tree after
any prefix of the requests can be rebuilt by replay and compared with what
a restarted server serves.

Ops are tuples:

    ("create", path, data, flags)       # opcode 1 (reply: path)
    ("create2", path, data, flags)      # opcode 15 (reply: path + Stat)
    ("delete", path, version)
    ("setData", path, data, version)
    ("multi", [sub, ...])               # sub: create/delete/setData/check tuples
"""

import os
import re
import signal
import struct
import threading
import time
import zlib

import zkwire

OK = 0
NONODE = -101
BADVERSION = -103
NOCHILDRENFOREPHEMERALS = -108
NODEEXISTS = -110
NOTEMPTY = -111
RUNTIMEINCONSISTENCY = -2

EPHEMERAL, SEQUENTIAL = 1, 2


def parent_of(path):
    p = path.rsplit("/", 1)[0]
    return p or "/"


class Node:
    """A znode. `cversion` is the STORED cversion (child creations); the
    served one is derived in stat()."""
    __slots__ = ("data", "czxid", "mzxid", "pzxid", "ctime", "mtime", "version",
                 "cversion", "aversion", "owner", "children")

    def __init__(self, data, zxid, owner=0, ctime=None):
        self.data = data
        self.czxid = self.mzxid = self.pzxid = zxid
        self.ctime = self.mtime = ctime
        self.version = self.cversion = self.aversion = 0
        self.owner = owner
        self.children = set()

    def copy(self):
        n = Node.__new__(Node)
        for k in Node.__slots__:
            setattr(n, k, getattr(self, k))
        n.children = set(self.children)
        return n

    def stat(self):
        """The Stat as served (times may be None = unknown)."""
        return {"czxid": self.czxid, "mzxid": self.mzxid, "ctime": self.ctime,
                "mtime": self.mtime, "version": self.version,
                "cversion": 2 * self.cversion - len(self.children),
                "aversion": self.aversion, "ephemeralOwner": self.owner,
                "dataLength": len(self.data) if self.data is not None else 0,
                "numChildren": len(self.children), "pzxid": self.pzxid}


class Model:
    """The subtree under `root` (root itself included)."""

    def __init__(self, root):
        self.root = root
        self.nodes = {}

    @classmethod
    def from_dump(cls, root, dump):
        m = cls(root)
        for path, rec in dump.items():
            st = rec["stat"]
            n = Node(rec["data"], st["czxid"], st["ephemeralOwner"], st["ctime"])
            n.mzxid, n.pzxid, n.mtime = st["mzxid"], st["pzxid"], st["mtime"]
            # The exposed cversion is 2 * stored - numChildren (protocol
            # reference §6.1); the stored one counts child creations.
            stored2 = st["cversion"] + st["numChildren"]
            assert stored2 % 2 == 0, (path, st)
            n.version, n.cversion, n.aversion = st["version"], stored2 // 2, st["aversion"]
            m.nodes[path] = n
        for path in dump:
            if path != root:
                m.nodes[parent_of(path)].children.add(path.rsplit("/", 1)[1])
        return m

    def copy(self):
        m = Model(self.root)
        m.nodes = {p: n.copy() for p, n in self.nodes.items()}
        return m

    def children(self, path):
        n = self.nodes.get(path)
        return sorted(n.children) if n else []

    # -- application -------------------------------------------------------
    def _touch(self, undo, path):
        if undo is not None and path not in undo:
            n = self.nodes.get(path)
            undo[path] = n.copy() if n is not None else None

    def _create(self, op, zxid, session, undo, apply=True):
        _, path, data, flags = op[:4]
        parent = self.nodes.get(parent_of(path))
        if parent is None:
            return NONODE, None
        if flags & SEQUENTIAL:
            path = path + "%010d" % parent.cversion
        if path in self.nodes:
            return NODEEXISTS, None
        if parent.owner != 0:  # (the model has no container or TTL nodes)
            return NOCHILDRENFOREPHEMERALS, None
        if apply:
            self._touch(undo, parent_of(path))
            self._touch(undo, path)
            parent.cversion += 1
            parent.pzxid = zxid
            parent.children.add(path.rsplit("/", 1)[1])
            self.nodes[path] = Node(data, zxid, session if flags & EPHEMERAL else 0)
        return OK, path

    def _delete(self, op, zxid, undo, apply=True):
        _, path, version = op
        n = self.nodes.get(path)
        if n is None:
            return NONODE, None
        if version != -1 and version != n.version:
            return BADVERSION, None
        if n.children:
            return NOTEMPTY, None
        if apply:
            self._touch(undo, path)
            self._touch(undo, parent_of(path))
            parent = self.nodes[parent_of(path)]
            parent.pzxid = zxid  # the stored cversion counts creations only
            parent.children.discard(path.rsplit("/", 1)[1])
            del self.nodes[path]
        return OK, None

    def _set_data(self, op, zxid, undo, apply=True):
        _, path, data, version = op
        n = self.nodes.get(path)
        if n is None:
            return NONODE, None
        if version != -1 and version != n.version:
            return BADVERSION, None
        if apply:
            self._touch(undo, path)
            n.data = data
            n.version += 1
            n.mzxid = zxid
            n.mtime = None
        return OK, None

    def _check(self, op):
        _, path, version = op
        n = self.nodes.get(path)
        if n is None:
            return NONODE, None
        if version != -1 and version != n.version:
            return BADVERSION, None
        return OK, None

    def _one(self, op, zxid, session, undo):
        kind = op[0]
        if kind in ("create", "create2"):
            return self._create(op, zxid, session, undo)
        if kind == "delete":
            return self._delete(op, zxid, undo)
        if kind == "setData":
            return self._set_data(op, zxid, undo)
        if kind == "check":
            return self._check(op)
        raise ValueError(op)

    def apply(self, op, zxid, session, ack=None):
        """Apply `op` at `zxid`. Returns the predicted outcome:
        {"err", "path"} or, for multi, {"err": 0, "multi_err", "fail_index",
        "paths"}. `ack` (a reply dict) supplies times the model cannot know."""
        if op[0] == "multi":
            undo = {}
            paths = []
            for i, sub in enumerate(op[1]):
                err, path = self._one(sub, zxid, session, undo)
                if err != OK:
                    for p, old in undo.items():  # roll back: all or nothing
                        if old is None:
                            self.nodes.pop(p, None)
                        else:
                            self.nodes[p] = old
                    return {"err": OK, "multi_err": err, "fail_index": i, "paths": None}
                paths.append(path)
            if ack is not None:
                self._times_from_multi(op, ack)
            return {"err": OK, "multi_err": OK, "fail_index": None, "paths": paths}
        err, path = self._one(op, zxid, session, None)
        if err == OK and ack is not None and ack.get("body"):
            st = ack["body"].get("stat")
            if st is not None:
                target = path if op[0] in ("create", "create2") else op[1]
                n = self.nodes[target]
                if op[0] == "create2":
                    n.ctime = st["ctime"]
                n.mtime = st["mtime"]
        return {"err": err, "path": path}

    def _times_from_multi(self, op, ack):
        results = (ack.get("body") or {}).get("results") or []
        for sub, res in zip(op[1], results):
            if sub[0] == "setData" and "stat" in res:
                self.nodes[sub[1]].mtime = res["stat"]["mtime"]

    def close_session(self, session, zxid):
        """closeSession at `zxid`: the session's ephemerals go."""
        for path in sorted((p for p, n in self.nodes.items() if n.owner == session),
                           reverse=True):
            parent = self.nodes[parent_of(path)]
            parent.pzxid = max(parent.pzxid, zxid)
            parent.children.discard(path.rsplit("/", 1)[1])
            del self.nodes[path]

    def expected(self):
        """{path: {"data", "stat"}} with None for unknown times."""
        return {p: {"data": n.data, "stat": n.stat()} for p, n in self.nodes.items()}


def diff_trees(expected, got, limit=25):
    """Differences between a model's expected() and a dump (None = any)."""
    out = []
    for p in sorted(set(expected) - set(got)):
        out.append("missing %s (expected %r)" % (p, expected[p]))
    for p in sorted(set(got) - set(expected)):
        out.append("unexpected %s (served %r)" % (p, got[p]))
    for p in sorted(set(expected) & set(got)):
        e, g = expected[p], got[p]
        if e["data"] != g["data"]:
            out.append("%s data: expected %r, served %r" % (p, e["data"], g["data"]))
        for k, v in e["stat"].items():
            if v is not None and g["stat"][k] != v:
                out.append("%s %s: expected %r, served %r" % (p, k, v, g["stat"][k]))
    return out[:limit] + (["... %d more" % (len(out) - limit)] if len(out) > limit else [])


# ---------------------------------------------------------------------------
# wire helpers

def dump_tree(address, root, auth=None):
    """Every node under `root` (inclusive): data + Stat, over zkwire. Uses
    (and closes) its own session."""
    c = zkwire.Conn.connect(address, timeout=10)
    try:
        if auth:
            r = c.auth(*auth)
            assert r["err"] == 0, r
        out = {}
        stack = [root]
        while stack:
            p = stack.pop()
            d = c.get_data(p)
            assert d["err"] == 0, (p, d)
            ch = c.get_children(p)
            assert ch["err"] == 0, (p, ch)
            out[p] = {"data": d["body"]["data"], "stat": d["body"]["stat"]}
            for k in ch["body"]["children"]:
                stack.append(("" if p == "/" else p) + "/" + k)
        r = c.close_session()
        assert r["err"] == 0, r
        return out
    finally:
        c.close()


def srvr_zxid(server):
    """The Zxid line of srvr, as an int."""
    out = server.four_letter_word("srvr")
    m = re.search(r"^Zxid: (0x[0-9a-fA-F]+)$", out, re.M)
    assert m, "no Zxid in srvr output: %r" % out
    return int(m.group(1), 16)


def encode_op(op):
    """(opcode name, record bytes) for Conn.send_request."""
    kind = op[0]
    if kind in ("create", "create2"):
        return kind, zkwire.rec_create(op[1], op[2], zkwire.OPEN_ACL, op[3])
    if kind == "delete":
        return kind, zkwire.rec_path_version(op[1], op[2])
    if kind == "setData":
        return kind, zkwire.rec_set_data(op[1], op[2], op[3])
    if kind == "multi":
        subs = []
        for s in op[1]:
            if s[0] in ("create", "create2"):
                subs.append((s[0], s[1], s[2], zkwire.OPEN_ACL, s[3]))
            else:
                subs.append(s)
        return kind, zkwire.rec_multi(subs)
    raise ValueError(op)


def check_reply(rec):
    """Compare a reply with the model's prediction. Returns a problem
    string or None."""
    op, pred, r = rec["op"], rec["pred"], rec["ack"]
    if r["zxid"] != rec["zxid"]:
        return "zxid %#x, predicted %#x" % (r["zxid"], rec["zxid"])
    if r["err"] != pred["err"]:
        return "err %d, predicted %d" % (r["err"], pred["err"])
    body = r.get("body") or {}
    if op[0] in ("create", "create2") and pred["err"] == OK:
        if body.get("path") != pred["path"]:
            return "created %r, predicted %r" % (body.get("path"), pred["path"])
    if op[0] == "multi":
        results = body.get("results")
        if results is None or len(results) != len(op[1]):
            return "multi results %r" % (results,)
        if pred["multi_err"] == OK:
            for sub, res, path in zip(op[1], results, pred["paths"]):
                if res["err"] != OK or res["type"] == -1:
                    return "multi sub-result %r, predicted success" % (res,)
                if sub[0] in ("create", "create2") and res.get("path") != path:
                    return "multi created %r, predicted %r" % (res.get("path"), path)
        else:
            fi = pred["fail_index"]
            want = [OK] * fi + [pred["multi_err"]] + [RUNTIMEINCONSISTENCY] * (
                len(op[1]) - fi - 1)
            got = [res["err"] if res["type"] == -1 else "type %d" % res["type"]
                   for res in results]
            if got != want:
                return "failed multi results %r, predicted %r" % (got, want)
    return None


class Writer(threading.Thread):
    """A steady write load on one session, up to `depth` requests in
    flight, generated from (and predicted by) `model`. Runs until the
    connection dies or stop() is called; every reply read is recorded as
    acknowledged. self.records: [{"op", "zxid", "pred", "xid", "ack"}]."""

    def __init__(self, conn, model, rng, base_zxid, depth, layout, data_max=48, uid_base=0):
        super().__init__(daemon=True)
        self.data_max = data_max
        self.conn = conn
        self.model = model           # advanced as requests are sent
        self.rng = rng
        self.next_zxid = base_zxid + 1
        self.depth = depth
        self.layout = layout
        self.records = []
        self.inflight = []
        self.problems = []
        self.error = None
        self._halt = threading.Event()
        self.uid = uid_base  # fresh node names across loads
        self.first_sent = threading.Event()

    def stop(self):
        self._halt.set()

    # -- op generation -------------------------------------------------------
    def _fresh(self, prefix):
        self.uid += 1
        return "%s%d" % (prefix, self.uid)

    def _data(self):
        r = self.rng.random()
        if r < 0.05:
            return None
        if r < 0.1:
            return b""
        return self.rng.randbytes(self.rng.randrange(1, self.data_max))

    def _pick(self, parent):
        kids = self.model.children(parent)
        if not kids:
            return None
        return parent + "/" + self.rng.choice(kids)

    def _version(self, path, wrong=False):
        n = self.model.nodes.get(path)
        if wrong:
            return (n.version + 1 + self.rng.randrange(5)) if n else 3
        if n is None or self.rng.random() < 0.5:
            return -1
        return n.version

    def next_op(self):
        L, rng, m = self.layout, self.rng, self.model
        P, E = L["plain"], L["eph"]
        r = rng.random()
        nplain = len(m.children(P))
        if r < 0.16 and nplain < 120:
            return (rng.choice(("create", "create2")), P + "/" + self._fresh("n"), self._data(), 0)
        if r < 0.28:
            s = rng.choice(L["seq"])
            if len(m.children(s)) > 40:
                return ("delete", self._pick(s), -1)
            return (rng.choice(("create", "create2")), s + "/q-", self._data(), SEQUENTIAL)
        if r < 0.34:
            if len(m.children(E)) > 30:
                return ("delete", self._pick(E), -1)
            flags = rng.choice((EPHEMERAL, EPHEMERAL | SEQUENTIAL))
            return ("create2", E + "/" + (self._fresh("x") if flags == EPHEMERAL else "es-"),
                    self._data(), flags)
        if r < 0.55:
            target = self._pick(P) or self._pick(rng.choice(L["seq"]))
            if target is None:
                return ("create", P + "/" + self._fresh("n"), self._data(), 0)
            return ("setData", target, self._data(), self._version(target))
        if r < 0.68 and nplain > 10:
            target = self._pick(P)
            return ("delete", target, self._version(target))
        if r < 0.72:
            # deliberate failures: each still takes a zxid (an error txn)
            k = rng.randrange(3)
            if k == 0:
                t = self._pick(P) or P
                return ("setData", t, b"never", self._version(t, wrong=True))
            if k == 1:
                return ("delete", P + "/absent-" + self._fresh("a"), -1)
            t = self._pick(P)
            if t:
                return ("create", t, b"dup", 0)
            return ("delete", P + "/absent-" + self._fresh("a"), -1)
        return self._multi()

    def _multi(self):
        L, rng = self.layout, self.rng
        M, P = L["multi"], L["plain"]
        subs = [("create", M + "/" + self._fresh("k"), self._data(), 0),
                ("setData", M, self._data(), -1)]
        if rng.random() < 0.5:
            subs.append(("create", rng.choice(L["seq"]) + "/mq-", self._data(), SEQUENTIAL))
        old = self._pick(M)
        if old and (rng.random() < 0.7 or len(self.model.children(M)) > 30):
            subs.append(("delete", old, -1))  # keeps M's children bounded
        t = self._pick(P)
        if t:
            subs.append(("setData", t, self._data(), -1))
        if rng.random() < 0.3:
            # fails at its end: nothing above may be applied
            subs.append(("check", M, 10 ** 6))
        else:
            subs.append(("check", M, -1))
        rng.shuffle(subs[2:-1])
        return ("multi", subs)

    # -- the loop ------------------------------------------------------------
    def _send(self):
        op = self.next_op()
        zxid = self.next_zxid
        pred = self.model.apply(op, zxid, self.conn.session_id)
        name, body = encode_op(op)
        rec = {"op": op, "zxid": zxid, "pred": pred, "xid": None, "ack": None}
        self.records.append(rec)
        self.next_zxid += 1
        rec["xid"] = self.conn.send_request(name, body)
        self.inflight.append(rec)
        self.first_sent.set()

    def _receive(self):
        msg = self.conn.read_message(timeout=10)
        if msg["t"] != "reply":
            self.problems.append("unexpected message %r" % (msg,))
            return
        rec = self.inflight.pop(0)
        if msg["xid"] != rec["xid"]:
            self.problems.append("reply xid %d for request xid %d" % (msg["xid"], rec["xid"]))
        rec["ack"] = msg
        bad = check_reply(rec)
        if bad:
            self.problems.append("reply to %r: %s (reply %r)" % (rec["op"], bad, msg))

    def run(self):
        try:
            while not self._halt.is_set():
                while len(self.inflight) < self.depth and not self._halt.is_set():
                    self._send()
                self._receive()
            while self.inflight:
                self._receive()
        except zkwire.Closed:
            # The server died: replies already in the socket buffer are
            # acknowledgements too.
            try:
                while self.inflight:
                    self._receive()
            except (zkwire.Closed, zkwire.Timeout, OSError):
                pass
        except Exception as e:  # noqa: BLE001 - reported by the test
            import traceback
            self.error = "%r\n%s" % (e, traceback.format_exc())
        finally:
            self.first_sent.set()

    @property
    def acked(self):
        return [r for r in self.records if r["ack"] is not None]


# ---------------------------------------------------------------------------
# process control and data dir inspection

def kill9(server):
    """SIGKILL the server's process group (corrald and any snapshot
    writer child), reap it, and clear the harness's handle so that
    start() works again on the same data dir."""
    pid = server.proc.pid
    os.killpg(pid, signal.SIGKILL)
    server.proc.wait(timeout=10)
    rc = server.proc.returncode
    server.stop()
    return rc


def wait_exit(server, timeout):
    """Wait for the server to exit on its own; return its exit status and
    clear the harness's handle."""
    server.proc.wait(timeout=timeout)
    rc = server.proc.returncode
    server.stop()
    return rc


LOG_MAGIC = 0x5A4B4C47  # "ZKLG"


def parse_log(path):
    """Entries of a ZooKeeper txn log: [(offset, length, zxid, type)] and
    the offset where valid entries end."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 16:
        # Killed between creating the file and writing its header: no entry.
        return [], 0
    magic, version = struct.unpack(">ii", data[:8])
    assert magic == LOG_MAGIC and version == 2, (path, magic, version)
    entries = []
    o = 16
    while o + 12 <= len(data):
        crc, n = struct.unpack(">qi", data[o:o + 12])
        if n <= 0 or o + 13 + n > len(data) or data[o + 12 + n] != 0x42:
            break
        body = data[o + 12:o + 12 + n]
        if zlib.adler32(body) != crc:
            break
        _cid, _cxid, zxid, _t, typ = struct.unpack(">qiqqi", body[:32])
        entries.append((o, n, zxid, typ))
        o += 13 + n
    return entries, o


SANE_NAMES = (re.compile(r"^log\.[0-9a-f]+$"), re.compile(r"^snapshot\.[0-9a-f]+(\.gz)?$"),
              re.compile(r"^(acceptedEpoch|currentEpoch)$"))
TMP_SNAPSHOT = re.compile(r"^\.snapshot\.[0-9a-f]+(\.gz)?\.tmp$")


def version2(data_dir):
    return os.path.join(data_dir, "version-2")


def list_files(data_dir):
    return sorted(os.listdir(version2(data_dir)))


def zxid_of(name):
    return int(name.split(".")[1], 16)


def wait_for(pred, timeout, what, interval=0.02):
    """Poll `pred` (for state with no event to wait on) within a bound."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)
