"""Two-way interoperability of Corral's on-disk formats (src/store) with
Apache ZooKeeper 3.8.

* ZooKeeper -> Corral: the real server writes a varied tree (persistent,
  ephemeral, sequential, container and TTL nodes, digest and ip ACLs, multi,
  setData, setACL, deletes, failed writes, closed sessions); what it serves is
  read back over the wire; then it is stopped and its dataDir is recovered by
  `corral-store-dump dump` (store_recover + txn_apply). The trees must match
  node by node (data, null vs empty, ACLs, all 11 Stat fields), the live
  sessions must be there, and every TxnDigest ZooKeeper logged must equal
  Corral's tree digest after the same txn. A second run uses a tiny snapCount
  and preAllocSize so there are several (fuzzy) snapshots and logs, and
  checks that re-serialising ZooKeeper's snapshots gives the same bytes.

* Corral -> ZooKeeper: `corral-store-dump write` produces a snapshot and
  logs for a known tree (plain and gzip snapshots); ZooKeeper started on that
  dataDir must serve exactly that tree, report no digest mismatch, expire the
  short session's ephemeral and keep the others; its own files are then read
  back by Corral again.

The driver (tests/integration/tools/store_dump.c) is compiled here against
the library sources. Only 127.0.0.1 is used; every server is stopped by PID.
"""

import base64
import glob
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from harness import HOST, REPO_ROOT, CorraldServer, ZooKeeperServer, in_ci
import zkwire

SUPER_DIGEST = "super:" + base64.b64encode(hashlib.sha1(b"super:secret").digest()).decode()
ZK_PROPS = {
    "zookeeper.extendedTypesEnabled": "true",
    "zookeeper.DigestAuthenticationProvider.superDigest": SUPER_DIGEST,
}
USER_DIGEST_ID = "user:" + base64.b64encode(hashlib.sha1(b"user:pass").digest()).decode()
LIB_DIRS = ("base", "proto", "tree", "auth", "txn", "session", "store")
TOOL_SRC = os.path.join(REPO_ROOT, "tests", "integration", "tools", "store_dump.c")
TOOL = os.path.join(REPO_ROOT, "build", "tools", "corral-store-dump")


# ---------------------------------------------------------------------------
# fixtures and helpers

@pytest.fixture(scope="module")
def tool():
    """Compile corral-store-dump from the library sources (always fresh)."""
    srcs = [TOOL_SRC]
    for d in LIB_DIRS:
        srcs += sorted(glob.glob(os.path.join(REPO_ROOT, "src", d, "*.c")))
    os.makedirs(os.path.dirname(TOOL), exist_ok=True)
    cc = os.environ.get("CC", "cc")
    cmd = [cc, "-O1", "-g", "-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror",
           "-Wshadow", "-Wno-unused-parameter", "-I" + os.path.join(REPO_ROOT, "src"),
           "-o", TOOL] + srcs + ["-lz", "-lcrypto", "-lm", "-lpthread"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        pytest.fail("building corral-store-dump failed:\n%s" % r.stderr[-4000:])
    return TOOL


@pytest.fixture
def zk_servers():
    """Started ZooKeeper servers, all stopped (by PID) and removed at teardown."""
    servers = []
    yield servers
    for s in servers:
        s.cleanup()


class _Dir:
    """A temporary directory removed at teardown like a server."""

    def __init__(self, path):
        self.path = path

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)


def require_zookeeper():
    if not ZooKeeperServer.available():
        if in_ci():
            pytest.fail("Apache ZooKeeper is not installed")
        pytest.skip("Apache ZooKeeper is not installed")


def run_tool(tool, *args):
    r = subprocess.run([tool] + list(args), capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise AssertionError("corral-store-dump %s failed (rc %d):\n%s"
                             % (" ".join(args), r.returncode, r.stderr))
    out = {"nodes": {}, "sessions": {}}
    for line in r.stdout.splitlines():
        obj = json.loads(line)
        if "node" in obj:
            data = obj["data"]
            out["nodes"][obj["node"]] = {
                "data": None if data is None else bytes.fromhex(data),
                "acl": [list(a) for a in obj["acl"]],
                "stat": obj["stat"],
                "stored_owner": obj["stored_owner"],
            }
        elif "session" in obj:
            out["sessions"][obj["session"]] = obj["timeout"]
        else:
            out.update(obj)
    return out


def connect(server, auth_super=True):
    c = zkwire.Conn.connect((HOST, server.port), timeout=10)
    if auth_super:
        r = c.auth("digest", b"super:secret")
        assert r["err"] == 0, r
    return c


def read_tree(server):
    """Every node the server holds: data, ACL and Stat, read as super."""
    c = connect(server)
    nodes = {}
    stack = ["/"]
    try:
        while stack:
            p = stack.pop()
            d = c.get_data(p)
            a = c.get_acl(p)
            ch = c.get_children(p)
            assert d["err"] == 0 and a["err"] == 0 and ch["err"] == 0, (p, d, a, ch)
            nodes[p] = {
                "data": d["body"]["data"],
                "acl": [[x["perms"], x["scheme"], x["id"]] for x in a["body"]["acl"]],
                "stat": d["body"]["stat"],
            }
            for k in ch["body"]["children"]:
                stack.append(("" if p == "/" else p) + "/" + k)
        c.close_session()
    finally:
        c.close()
    return nodes


def compare_trees(served, recovered, what):
    missing = sorted(set(served) - set(recovered))
    extra = sorted(set(recovered) - set(served))
    assert not missing and not extra, "%s: paths differ: missing %s, extra %s" % (
        what, missing, extra)
    diffs = []
    for p in sorted(served):
        a, b = served[p], recovered[p]
        for field in ("data", "acl", "stat"):
            if a[field] != b[field]:
                diffs.append("%s %s: served %r, recovered %r" % (p, field, a[field], b[field]))
    assert not diffs, "%s:\n%s" % (what, "\n".join(diffs[:30]))


def check(reply, err=0):
    assert reply["err"] == err, reply
    return reply


def build_varied_tree(server):
    """Write a varied tree. Returns the sessions left open (conn objects,
    still connected) so that their ephemerals outlive the server stop."""
    from kazoo.client import KazooClient
    from kazoo.security import make_digest_acl, make_acl

    kz = KazooClient(hosts=server.hosts, timeout=15)
    kz.start(timeout=15)
    kz.add_auth("digest", "user:pass")
    digest_read = [make_digest_acl("user", "pass", all=True), make_acl("world", "anyone", read=True)]
    ip_acl = [make_acl("ip", "127.0.0.1", all=True),
              make_acl("world", "anyone", read=True, admin=True)]
    kz.create("/app", b"hello")
    kz.create("/app/null", None, acl=digest_read)
    kz.create("/app/empty", b"")
    kz.create("/app/eph", b"e1", ephemeral=True)
    kz.create("/app/seq-", b"s", sequence=True)
    kz.create("/app/seq-", b"s2", sequence=True)
    kz.create("/app/eseq-", b"es", ephemeral=True, sequence=True)
    kz.create("/app/bin\u00fc\u20ac", bytes(range(256)), acl=ip_acl)
    kz.set("/app", b"world")
    kz.set("/app", b"world2")
    kz.set_acls("/app/empty", ip_acl)
    kz.create("/many")
    for i in range(30):
        kz.create("/many/c%d" % i, b"v%d" % i)
    for i in (3, 7, 11):
        kz.delete("/many/c%d" % i)
    kz.create("/gone", b"g")
    kz.delete("/gone")
    try:
        kz.create("/app", b"dup")  # NODEEXISTS: an error txn
    except Exception:
        pass
    t = kz.transaction()
    t.create("/m", b"x")
    t.set_data("/m", b"y")
    t.create("/m/k", b"", acl=digest_read)
    t.check("/app", 2)
    assert all(not isinstance(r, Exception) for r in t.commit())
    t = kz.transaction()  # fails: a multi of error sub-txns
    t.create("/never", b"x")
    t.check("/app", 99)
    t.commit()

    w = connect(server, auth_super=False)
    check(w.create_container("/box", b"c"))
    check(w.create("/box/item", b"i"))
    check(w.create_ttl("/ttl", b"t", ttl=3600000))
    check(w.create("/app/weph", b"w", flags=1))
    # A session that closes: its ephemeral goes with a closeSession txn.
    gone = connect(server, auth_super=False)
    check(gone.create("/app/gone-eph", b"x", flags=1))
    check(gone.close_session())
    gone.close()
    return kz, w


def stop_clients(kz, w):
    w.close()
    try:
        kz.stop()
    finally:
        kz.close()


# ---------------------------------------------------------------------------
# ZooKeeper -> Corral

@pytest.mark.parametrize("variant", ["one-log", "many-snapshots", "gz-snapshots"])
def test_zookeeper_data_dir_read_by_corral(tool, zk_servers, variant):
    require_zookeeper()
    cfg, props = {}, dict(ZK_PROPS)
    if variant != "one-log":
        cfg["snapCount"] = 10           # roll + snapshot every 5..10 txns (fuzzy)
        props["zookeeper.preAllocSize"] = "16"  # KiB: several extensions per log
    if variant == "gz-snapshots":
        props["zookeeper.snapshot.compression.method"] = "gz"
    zk = ZooKeeperServer(cfg=cfg, props=props, name="zk-" + variant)
    zk_servers.append(zk)
    zk.start()
    kz, w = build_varied_tree(zk)
    sessions = {kz.client_id[0]: None, w.session_id: w.timeout_ms}
    served = read_tree(zk)
    zk.stop()  # the clients' sessions stay open: their ephemerals persist
    stop_clients(kz, w)

    v2 = os.path.join(zk.data_dir, "version-2")
    logs = glob.glob(os.path.join(v2, "log.*"))
    snaps = glob.glob(os.path.join(v2, "snapshot.*"))
    assert logs and snaps
    if variant != "one-log":
        assert len(snaps) >= 3 and len(logs) >= 3, (snaps, logs)
    if variant == "gz-snapshots":
        assert all(s.endswith(".gz") for s in snaps), snaps

    got = run_tool(tool, "dump", zk.data_dir)
    rec = got["recovery"]
    assert rec["torn"] is False
    assert rec["replayed"] > 0
    assert rec["digests_checked"] > (10 if variant == "one-log" else 0)
    assert rec["digest_mismatches"] == 0, rec
    compare_trees(served, got["nodes"], "ZooKeeper's tree as recovered by Corral")
    if variant != "one-log":
        # From snapshot.0 through every log: each logged digest is checked.
        full = tempfile.mkdtemp(prefix="corral-store-full-")
        zk_servers.append(_Dir(full))
        os.makedirs(os.path.join(full, "version-2"))
        for f in logs + glob.glob(os.path.join(v2, "snapshot.0*")):
            shutil.copy(f, os.path.join(full, "version-2"))
        all_txns = run_tool(tool, "dump", full)
        assert all_txns["recovery"]["snapshot_zxid"] == 0
        assert all_txns["recovery"]["digests_checked"] > 40, all_txns["recovery"]
        assert all_txns["recovery"]["digest_mismatches"] == 0, all_txns["recovery"]
        compare_trees(served, all_txns["nodes"], "replayed from snapshot.0")
    for sid, timeout in sessions.items():
        assert sid in got["sessions"], "live session 0x%x missing" % sid
        if timeout is not None:
            assert got["sessions"][sid] == timeout
    # Special nodes kept their stored forms.
    assert got["nodes"]["/box"]["stored_owner"] == -2**63
    assert (got["nodes"]["/ttl"]["stored_owner"] & 0xFFFFFFFFFFFFFFFF) == (0xFF << 56) | 3600000
    assert got["nodes"]["/app/null"]["data"] is None
    assert got["nodes"]["/app/empty"]["data"] == b""

    # Re-serialising each of ZooKeeper's snapshots gives its bytes back
    # (the uncompressed stream, for gz snapshots).
    for snap in sorted(snaps):
        out = snap + ".corral"
        subprocess.run([tool, "resnap", snap, out], check=True, timeout=60)
        with open(snap, "rb") as f1, open(out, "rb") as f2:
            a, b = f1.read(), f2.read()
        if snap.endswith(".gz"):
            a = gzip.decompress(a)
        assert len(a) == len(b), "%s: %d bytes, rewritten %d" % (snap, len(a), len(b))
        assert a == b, "%s: rewritten bytes differ" % snap
        os.unlink(out)


FUZZY_CLOSE = os.path.join(REPO_ROOT, "tests", "integration", "fixtures", "zk-fuzzy-close")


def test_fuzzy_snapshot_caught_mid_close_session(tool, zk_servers):
    """A data dir written by ZooKeeper 3.8 (snapCount=10, kept from a CI run
    of the test above): snapshot.3a was serialised while closeSession 0x3b
    deleted /app/gone-eph, so it holds /app without that child but with the
    older pzxid 0x3a. Replaying 0x3b must still raise /app's pzxid to 0x3b,
    as ZooKeeper's deleteNode does for a child already gone. ZooKeeper 3.8,
    started on this directory, logged "digest is 82177874054" and no
    mismatch; corrald's replay must reach the same tree digest."""
    got = run_tool(tool, "dump", FUZZY_CLOSE)
    rec = got["recovery"]
    assert (rec["snapshot_zxid"], rec["replayed"], rec["last_zxid"]) == (0x3a, 3, 0x3d)
    assert rec["digests_checked"] == 3
    assert rec["digest_mismatches"] == 0, rec
    assert rec["digest"] == 82177874054
    assert got["nodes"]["/app"]["stat"]["pzxid"] == 0x3b
    assert "/app/gone-eph" not in got["nodes"]

    # corrald itself recovers the same: /app's Stat as a client sees it.
    srv = CorraldServer(name="corrald[fuzzy-close]")
    zk_servers.append(srv)
    srv.tmpdir = tempfile.mkdtemp(prefix="corral-corrald-")
    shutil.copytree(FUZZY_CLOSE, srv.data_dir)
    srv.start()
    c = connect(srv, auth_super=False)
    try:
        st = check(c.exists("/app"))["body"]["stat"]
        assert (st["pzxid"], st["numChildren"], st["mzxid"]) == (0x3b, 8, 11)
    finally:
        c.close()


# ---------------------------------------------------------------------------
# Corral -> ZooKeeper

def mntr(server):
    out = {}
    for line in server.four_letter_word("mntr").splitlines():
        parts = line.split("\t")
        if len(parts) == 2:
            out[parts[0]] = parts[1]
    return out


@pytest.mark.parametrize("compression", ["plain", "gz"])
def test_corral_data_dir_served_by_zookeeper(tool, zk_servers, compression):
    require_zookeeper()
    zk = ZooKeeperServer(props=dict(ZK_PROPS), name="zk-reads-corral-" + compression)
    zk_servers.append(zk)
    zk.tmpdir = tempfile.mkdtemp(prefix="corral-zookeeper-")
    os.makedirs(zk.data_dir)
    args = ["write", zk.data_dir] + (["--gz"] if compression == "gz" else [])
    expected = run_tool(tool, *args)
    written = expected["written"]
    v2 = os.path.join(zk.data_dir, "version-2")
    snap_name = "snapshot.%x%s" % (written["snapshot_zxid"], ".gz" if compression == "gz" else "")
    assert os.path.exists(os.path.join(v2, snap_name)), os.listdir(v2)

    zk.start()
    served = read_tree(zk)
    compare_trees(expected["nodes"], served, "Corral's files as served by ZooKeeper")
    log = zk.read_log()
    assert "Digests are not matching" not in log
    assert "digest mismatch" not in log.lower()
    assert mntr(zk)["zk_digest_mismatches_count"] == "0"

    # The 4 s session was restored with its timeout and expires: its
    # ephemeral goes; the 30 s session's stays.
    c = connect(zk)
    try:
        deadline = time.monotonic() + 25
        while c.exists("/app/short")["err"] == 0:
            assert time.monotonic() < deadline, "/app/short never expired"
            time.sleep(0.2)
        assert c.exists("/app/eph")["err"] == 0
        c.close_session()
    finally:
        c.close()
    served_after = read_tree(zk)
    zk.stop()

    # ZooKeeper's own files on top of ours read back in Corral.
    again = run_tool(tool, "dump", zk.data_dir)
    assert again["recovery"]["digest_mismatches"] == 0, again["recovery"]
    compare_trees(served_after, again["nodes"], "after ZooKeeper ran on Corral's files")
