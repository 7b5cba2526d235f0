"""Durability of corrald (issue 3), tested at the server level with real
clients.

1. Crash test: a writer thread runs a pipelined write load (plain,
   sequential, ephemeral and ephemeral-sequential creates, setData,
   deletes, multi that succeed and multi that fail, deliberate errors) and
   records every acknowledged reply; corrald (its whole process group, so
   a forked snapshot writer dies too) is SIGKILLed at a random moment and
   restarted on the same data dir. The served tree must then equal the
   model replayed over exactly the first k requests, where k comes from the
   restarted server's zxid and k >= the number acknowledged (so every
   acknowledged write is there with exactly its effect, no multi is half
   applied, and nothing outside a prefix of the requests is). Sequential
   numbering must continue without reuse, the writer's session must still
   be there, and the data dir must stay sane. Seeded: the seed is printed;
   CORRAL_CRASH_SEED repeats a run, CORRAL_CRASH_TRIALS sets the number of
   trials (default 20). Each restart randomly picks snapCount=50 (snapshots
   and log rolls all the time, so kills land inside snapshot writes),
   preAllocSize=16 KiB, gzip snapshots (a forked writer) and how many nodes
   the loop serializes per turn for plain (fuzzy) snapshots, or the defaults.
2. Interoperability at the server level, both ways, through kazoo: a data
   dir written by Apache ZooKeeper 3.8 is served identically by corrald and
   vice versa (paths, data, ACLs, all Stat fields), and a live session's
   ephemeral survives the switch when the client reattaches.
3. Restart semantics: a session survives a clean restart; the ephemerals of
   a session that timed out while the server was down are removed within
   timeout + tickTime of the restart (awaited with a watch).
4. Faults: torn tails, corruption in the middle of a log, an unusable data
   dir, a full disk (a small tmpfs), a truncated newest snapshot, and the
   temporary file a killed snapshot writer leaves behind.

Only 127.0.0.1 is used; every process started here is stopped by PID.
"""

import base64
import hashlib
import os
import random
import re
import shutil
import subprocess
import tempfile
import threading
import time

import pytest

import harness
import zkwire
from durability_model import (
    EPHEMERAL, NONODE, SANE_NAMES, SEQUENTIAL, TMP_SNAPSHOT, Model, Writer, diff_trees,
    dump_tree, kill9, list_files, parse_log, srvr_zxid, version2, wait_exit, zxid_of,
)

TIMEOUT = 15.0  # bound on anything awaited; only reached on failure


def digest_id(user_pass):
    user = user_pass.split(":", 1)[0]
    return "%s:%s" % (user, base64.b64encode(hashlib.sha1(user_pass.encode()).digest()).decode())


SUPER_DIGEST = digest_id("super:secret")
USER_ID = digest_id("user:pass")
EXTENDED = {"zookeeper.extendedTypesEnabled": "true",
            "zookeeper.DigestAuthenticationProvider.superDigest": SUPER_DIGEST}


def last_start_log(server):
    """The server log since its last start."""
    return server.read_log().split("=== starting")[-1]


# ===========================================================================
# 1. crash test

ROOT = "/crash"
LAYOUT = {"plain": ROOT + "/p", "seq": [ROOT + "/s0", ROOT + "/s1"], "eph": ROOT + "/e",
          "multi": ROOT + "/m"}


def crash_config(rng):
    cfg, props = {"autopurge.purgeInterval": "0"}, {}
    if rng.random() < 0.5:
        cfg["snapCount"] = "50"
    if rng.random() < 0.4:
        props["zookeeper.preAllocSize"] = "16"
    if rng.random() < 0.3:  # written by a forked child instead of the loop
        props["zookeeper.snapshot.compression.method"] = "gz"
    # Snapshots are fuzzy: a slice of nodes serialized per loop turn while
    # writes go on. One node per turn makes every snapshot of these small
    # trees interleave with the writes (and kills land inside them).
    props["corral.snapshot.sliceNodes"] = rng.choice(("1", "3", "2048"))
    return cfg, props


def check_dir_names(files, when):
    bad = [f for f in files
           if not any(p.match(f) for p in SANE_NAMES) and not TMP_SNAPSHOT.match(f)]
    assert not bad, "%s: unexpected files in version-2: %s (all: %s)" % (when, bad, files)


class Load:
    """One writer session's load: what was sent and what was acknowledged."""

    def __init__(self, writer, base, sid, passwd, start_model, desc):
        self.writer = writer
        self.records = writer.records
        self.acked = writer.acked
        self.base = base
        self.sid = sid
        self.passwd = passwd
        self.start_model = start_model
        self.desc = desc

    @property
    def top_acked(self):
        return self.acked[-1]["zxid"] if self.acked else self.base


class Checker:
    """A corrald under a recorded write load, and the checks after each
    restart. `self.model` is the tree under ROOT as last verified."""

    def __init__(self, srv, seed, label):
        self.srv = srv
        self.seed = seed
        self.label = label
        self.used_seq = set()     # every sequential path acknowledged so far
        self.tmp_leftovers = set()
        self.loads = 0
        self.stats = {"submitted": 0, "acked": 0, "unacked_recovered": 0, "torn": 0,
                      "kinds": {}}
        c = zkwire.Conn.connect(srv.address, timeout=10)
        for p in [ROOT, LAYOUT["plain"], LAYOUT["eph"], LAYOUT["multi"]] + LAYOUT["seq"]:
            r = c.create(p, b"")
            assert r["err"] == 0, r
        assert c.close_session()["err"] == 0
        c.close()
        self.model = Model.from_dump(ROOT, dump_tree(srv.address, ROOT))

    def fail(self, msg):
        pytest.fail("%s (seed %d): %s\n(repeat with CORRAL_CRASH_SEED=%d)"
                    % (self.label, self.seed, msg, self.seed), pytrace=False)

    def start_load(self, rng, depth, data_max=48):
        conn = zkwire.Conn.connect(self.srv.address, timeout=10, timeout_ms=30000)
        base = srvr_zxid(self.srv)
        self.loads += 1
        w = Writer(conn, self.model.copy(), random.Random(rng.getrandbits(64)), base, depth,
                   LAYOUT, data_max=data_max, uid_base=self.loads * 10 ** 6)
        w.start()
        assert w.first_sent.wait(TIMEOUT)
        if w.error is not None:
            self.fail("writer failed: %s" % (w.error,))
        return Load(w, base, conn.session_id, conn.passwd, self.model, "depth=%d" % depth)

    def end_load(self, load):
        """After the server died: collect the writer's results."""
        w = load.writer
        w.join(TIMEOUT)
        w.conn.close()
        assert not w.is_alive(), "the writer did not notice that the server died"
        if w.error is not None:
            self.fail("writer failed: %s" % (w.error,))
        if w.problems:
            self.fail("replies differ from the model before the crash:\n%s"
                      % "\n".join(w.problems[:10]))
        load.records, load.acked = w.records, w.acked
        # Replies come in order: the acknowledged requests are a prefix.
        assert all(r["ack"] is not None for r in load.records[:len(load.acked)])
        for r in load.acked:
            kind = r["op"][0]
            if kind == "multi" and r["pred"]["multi_err"] != 0:
                kind = "multi(failed)"
            elif r["pred"]["err"] != 0:
                kind += "(error)"
            self.stats["kinds"][kind] = self.stats["kinds"].get(kind, 0) + 1

    def verify(self, load, what):
        """The restarted server holds exactly the first k requests of the
        load, k >= the acknowledged ones; the session survived; sequential
        numbering continues. Then the session is closed and the model
        updated."""
        srv = self.srv
        z = srvr_zxid(srv)
        desc = ("%s, %s: %d requests sent, %d acknowledged (zxid 0x%x..0x%x), server zxid "
                "after restart 0x%x" % (what, load.desc, len(load.records), len(load.acked),
                                        load.base + 1, load.top_acked, z))
        if z < load.top_acked:
            self.fail("server zxid 0x%x < highest acknowledged zxid 0x%x: acknowledged writes "
                      "lost; %s" % (z, load.top_acked, desc))
        k = z - load.base
        if not len(load.acked) <= k <= len(load.records):
            self.fail("server zxid 0x%x is outside the requests sent; %s" % (z, desc))
        expected = load.start_model.copy()
        for r in load.records[:k]:
            expected.apply(r["op"], r["zxid"], load.sid, ack=r["ack"])
        got = dump_tree(srv.address, ROOT)
        diffs = diff_trees(expected.expected(), got)
        if diffs:
            near = ["  0x%x %s%r" % (r["zxid"], "ACK " if r["ack"] else "", r["op"])
                    for r in load.records[max(0, k - 5):k + 3]]
            self.fail("tree after restart differs from the replay of the first %d requests "
                      "(%s):\n%s\nrequests around the cut:\n%s"
                      % (k, desc, "\n".join(diffs), "\n".join(near)))
        self.stats["submitted"] += len(load.records)
        self.stats["acked"] += len(load.acked)
        self.stats["unacked_recovered"] += k - len(load.acked)
        for r in load.records[:k]:
            for p in [r["pred"].get("path")] + (r["pred"].get("paths") or []):
                if p and re.search(r"/(q-|mq-|es-)\d{10}$", p):
                    self.used_seq.add(p)

        # The writer's session was acknowledged (the connect response): it
        # is still there, and sequential numbering continues without reuse.
        c = zkwire.Conn(srv.address, timeout=10)
        try:
            resp = c.handshake(session_id=load.sid, passwd=load.passwd, timeout_ms=30000,
                               expect_valid=False)
            if resp.get("sessionId") != load.sid or resp.get("timeOut", 0) <= 0:
                self.fail("the writer's session 0x%x did not survive: %r; %s"
                          % (load.sid, resp, desc))
            for s in LAYOUT["seq"] + [LAYOUT["eph"]]:
                eph = s == LAYOUT["eph"]
                op = ("create2", s + ("/es-" if eph else "/q-"), b"after",
                      SEQUENTIAL | (EPHEMERAL if eph else 0))
                r = c.create2(op[1], op[2], flags=op[3])
                pred = expected.apply(op, r["zxid"], load.sid, ack=r)
                assert r["err"] == 0 and r["body"]["path"] == pred["path"], (r, pred, desc)
                assert pred["path"] not in self.used_seq, (
                    "sequential name %s reused after restart; %s" % (pred["path"], desc))
                self.used_seq.add(pred["path"])
            r = c.close_session()
            assert r["err"] == 0, r
            expected.close_session(load.sid, r["zxid"])
        finally:
            c.close()
        got = dump_tree(srv.address, ROOT)
        diffs = diff_trees(expected.expected(), got)
        assert not diffs, "after the post-restart writes and closeSession (%s):\n%s" % (
            desc, "\n".join(diffs))
        self.model = Model.from_dump(ROOT, got)
        return z

    def check_files_after_restart(self, files_before, files_after, z):
        """Recovery used the newest snapshot (snapshots are written to a
        temporary name and renamed, so every named one is complete), and no
        file is named beyond what is durable."""
        srv = self.srv
        log = last_start_log(srv)
        assert "skipped snapshot" not in log, log
        m = re.search(r"loaded snapshot (\S+) and", log)
        snaps = sorted((f for f in files_before if f.startswith("snapshot.")), key=zxid_of)
        assert m and snaps, (log, files_before)
        assert os.path.basename(m.group(1)) == snaps[-1], (m.group(1), files_before)
        if "torn tail" in log:
            self.stats["torn"] += 1
        check_dir_names(files_after, "after restart")
        for f in files_after:
            if f.startswith("snapshot."):
                assert zxid_of(f) <= z, "snapshot %s is beyond the recovered zxid 0x%x" % (f, z)
            if f.startswith("log."):
                assert zxid_of(f) <= z + 1, "log %s starts beyond the recovered zxid 0x%x" % (
                    f, z)
        self.tmp_leftovers.update(f for f in files_after if TMP_SNAPSHOT.match(f))

    def summary(self):
        s = self.stats
        return ("%d requests, %d acknowledged, %d unacknowledged but recovered, %d torn tails, "
                "%d leftover .tmp snapshot files %s; acknowledged by kind: %s"
                % (s["submitted"], s["acked"], s["unacked_recovered"], s["torn"],
                   len(self.tmp_leftovers), sorted(self.tmp_leftovers)[:4],
                   dict(sorted(s["kinds"].items()))))


def test_crash_recovery(corrald_factory):
    trials = int(os.environ.get("CORRAL_CRASH_TRIALS", "20"))
    seed = int(os.environ.get("CORRAL_CRASH_SEED") or random.SystemRandom().randrange(2 ** 32))
    print("\ncrash test: seed %d, %d trials (CORRAL_CRASH_SEED / CORRAL_CRASH_TRIALS)"
          % (seed, trials))
    rng = random.Random(seed)
    cfg, props = crash_config(rng)
    srv = corrald_factory(cfg=cfg, props=props)
    chk = Checker(srv, seed, "crash test")
    t0 = time.monotonic()
    for t in range(trials):
        chk.label = "crash test trial %d" % t
        depth = rng.choice((1, 4, 16, 32))
        delay = rng.uniform(0.05, 0.9)
        load = chk.start_load(rng, depth)
        # The random moment of the crash: a deliberate delay, not a wait
        # for an event.
        time.sleep(delay)
        rc = kill9(srv)
        assert rc == -9, rc
        chk.end_load(load)
        files_before = list_files(srv.data_dir)
        check_dir_names(files_before, "after SIGKILL")
        srv.extra_cfg, srv.props = crash_config(rng)  # maybe another configuration
        srv.start()
        load.desc += ", killed after %.3fs, restarted with %s %s" % (
            delay, srv.extra_cfg, srv.props)
        # Before anything is written again:
        chk.check_files_after_restart(files_before, list_files(srv.data_dir), srvr_zxid(srv))
        chk.verify(load, "trial %d" % t)
    print("crash test: %d trials in %.1fs: %s" % (trials, time.monotonic() - t0, chk.summary()))
    assert chk.stats["acked"] > 0


# ===========================================================================
# 2. interoperability at the server level, both ways

LIVE_TIMEOUT_MS = 30000


def kazoo_client(hosts, auth_super=True):
    from kazoo.client import KazooClient
    kz = KazooClient(hosts=hosts, timeout=15)
    kz.start(timeout=TIMEOUT)
    if auth_super:
        kz.add_auth("digest", "super:secret")
    return kz


def kazoo_stop(kz):
    try:
        kz.stop()
    finally:
        kz.close()


def kazoo_tree(hosts):
    """Every node the server holds, read with kazoo as super: data, ACL and
    all 11 Stat fields."""
    kz = kazoo_client(hosts)
    try:
        out = {}
        stack = ["/"]
        while stack:
            p = stack.pop()
            data, st = kz.get(p)
            acls, st2 = kz.get_acls(p)
            assert st2 == st, (p, st, st2)
            out[p] = {"data": data,
                      "acl": [(a.perms, a.id.scheme, a.id.id) for a in acls],
                      "stat": dict(zip(st._fields, st))}
            for k in kz.get_children(p):
                stack.append(("" if p == "/" else p) + "/" + k)
        return out
    finally:
        kazoo_stop(kz)


def compare_served(before, after, what):
    missing = sorted(set(before) - set(after))
    extra = sorted(set(after) - set(before))
    diffs = ["missing %s" % p for p in missing] + ["extra %s" % p for p in extra]
    for p in sorted(set(before) & set(after)):
        for field in ("data", "acl", "stat"):
            if before[p][field] != after[p][field]:
                diffs.append("%s %s: before %r, after %r" % (p, field, before[p][field],
                                                             after[p][field]))
    assert not diffs, "%s:\n%s" % (what, "\n".join(diffs[:40]))


def build_varied_tree(server):
    """Write a varied tree through kazoo (and zkwire where kazoo 2.8 has no
    API). Returns the live zkwire session (still connected) that owns
    ephemerals, and what the test checks about it."""
    from kazoo.security import make_acl, make_digest_acl
    kz = kazoo_client(server.hosts, auth_super=False)
    try:
        kz.add_auth("digest", "user:pass")
        digest_only = [make_digest_acl("user", "pass", all=True)]
        digest_read = digest_only + [make_acl("world", "anyone", read=True)]
        ip_acl = [make_acl("ip", "127.0.0.1", all=True),
                  make_acl("world", "anyone", read=True, admin=True)]
        kz.create("/app", b"hello")
        kz.create("/app/null", None, acl=digest_read)
        kz.create("/app/empty", b"")
        kz.create("/app/secret", b"s3cret", acl=digest_only)
        kz.create("/app/bin", bytes(range(256)), acl=ip_acl)
        kz.create("/app/creator", b"mine", acl=[make_acl("auth", "", all=True)])
        for i in range(3):
            kz.create("/app/seq-", b"s%d" % i, sequence=True)
        kz.delete("/app/seq-0000000006")          # the second one
        kz.set("/app", b"world")
        kz.set("/app", b"world2")
        kz.set_acls("/app/empty", ip_acl)
        kz.create("/many")
        for i in range(25):
            kz.create("/many/c%02d" % i, b"v%d" % i)
        for i in (3, 7, 11):
            kz.delete("/many/c%02d" % i)
        kz.create("/gone", b"g")
        kz.delete("/gone")
        t = kz.transaction()
        t.create("/m", b"x")
        t.set_data("/m", b"y")
        t.create("/m/k", b"", acl=digest_read)
        t.check("/app", 2)
        t.delete("/many/c00")
        assert all(not isinstance(r, Exception) for r in t.commit())
        t = kz.transaction()  # fails at its end: nothing applied
        t.create("/never", b"x")
        t.set_data("/app", b"never")
        t.check("/app", 99)
        res = t.commit()
        assert any(isinstance(r, Exception) for r in res), res
    finally:
        kazoo_stop(kz)

    live = zkwire.Conn.connect(server.address, timeout=10, timeout_ms=LIVE_TIMEOUT_MS)
    for r in (live.create_container("/box", b"c"), live.create("/box/item", b"i"),
              live.create_container("/emptybox", b""),
              live.create_ttl("/ttl", b"t", ttl=3600000),
              live.create_ttl("/ttlseq-", b"ts", flags=6, ttl=3600000),
              live.create("/app/eph", b"e1", flags=EPHEMERAL),
              live.create("/app/eseq-", b"es", flags=EPHEMERAL | SEQUENTIAL)):
        assert r["err"] == 0, r
    # A session that closes: its ephemeral goes with its closeSession txn.
    gone = zkwire.Conn.connect(server.address, timeout=10)
    assert gone.create("/app/gone-eph", b"x", flags=EPHEMERAL)["err"] == 0
    assert gone.close_session()["err"] == 0
    gone.close()
    return live


def check_switched_server(server, before, live_sid, live_passwd):
    """On the second server: the same tree; the live session reattaches
    (same password scheme) and keeps its ephemerals; sequential numbering
    continues; closing the session removes its ephemerals."""
    after = kazoo_tree(server.hosts)
    compare_served(before, after, "tree served after switching servers")
    assert before["/app/creator"]["acl"] == [(31, "digest", USER_ID)], before["/app/creator"]
    eph = sorted(p for p, n in before.items() if n["stat"]["ephemeralOwner"] == live_sid)
    assert eph == ["/app/eph", "/app/eseq-0000000009"], eph
    c = zkwire.Conn(server.address, timeout=10)
    try:
        resp = c.handshake(session_id=live_sid, passwd=live_passwd,
                           timeout_ms=LIVE_TIMEOUT_MS, expect_valid=False)
        assert resp.get("sessionId") == live_sid and resp.get("timeOut") == LIVE_TIMEOUT_MS, resp
        r = c.exists("/app/eph")
        assert r["err"] == 0 and r["body"]["stat"] == before["/app/eph"]["stat"], r
        # /app's stored cversion: 11 children created so far (one of them
        # deleted, one gone with its session).
        r = c.create("/app/seq-", b"next", flags=SEQUENTIAL)
        assert r["err"] == 0 and r["body"]["path"] == "/app/seq-0000000011", r
        r = c.close_session()
        assert r["err"] == 0, r
    finally:
        c.close()
    kz = kazoo_client(server.hosts)
    try:
        for p in eph:
            assert kz.exists(p) is None, p
        assert kz.exists("/box/item") is not None and kz.exists("/ttl") is not None
    finally:
        kazoo_stop(kz)


def test_zookeeper_data_dir_served_by_corrald(zookeeper_factory, corrald_factory):
    """Apache ZooKeeper 3.8 writes, stops; corrald on the same dataDir
    serves exactly the same tree."""
    zk = zookeeper_factory(props=EXTENDED)
    live = build_varied_tree(zk)
    sid, passwd = live.session_id, live.passwd
    before = kazoo_tree(zk.hosts)
    assert before["/app/eph"]["stat"]["ephemeralOwner"] == sid
    zk.stop()      # the live session stays open: its ephemerals persist
    live.close()
    assert zk.exit_code in (0, 143), zk.exit_code
    srv = corrald_factory(cfg={"dataDir": zk.data_dir}, props=EXTENDED)
    log = last_start_log(srv)
    assert "skipped snapshot" not in log and "torn" not in log, log
    check_switched_server(srv, before, sid, passwd)


def test_corrald_data_dir_served_by_zookeeper(zookeeper_factory, corrald_factory):
    """corrald writes, stops; Apache ZooKeeper 3.8 on the same dataDir serves
    exactly the same tree (and finds no digest mismatch)."""
    srv = corrald_factory(props=EXTENDED)
    live = build_varied_tree(srv)
    sid, passwd = live.session_id, live.passwd
    before = kazoo_tree(srv.hosts)
    assert before["/app/eph"]["stat"]["ephemeralOwner"] == sid
    srv.stop()
    live.close()
    assert srv.exit_code == 0, srv.exit_code
    zk = zookeeper_factory(cfg={"dataDir": srv.data_dir}, props=EXTENDED)
    check_switched_server(zk, before, sid, passwd)
    log = zk.read_log()
    assert "Digests are not matching" not in log and "digest mismatch" not in log.lower()
    mntr = dict(line.split("\t", 1) for line in zk.four_letter_word("mntr").splitlines()
                if "\t" in line)
    assert mntr["zk_digest_mismatches_count"] == "0", mntr["zk_digest_mismatches_count"]


def fuzzy_load(hosts, rng, rounds=12, width=60):
    """Pipelined writes on /fz (rounds of `width` async requests): setData,
    sequential children with ACL lists never seen before, setACL to new
    lists, deletes and re-creates, and a second session whose ephemerals go
    with its closeSession mid-load. Failures (NoNode, NotEmpty, ...) are part
    of the load; what counts is the tree the server ends up serving."""
    from kazoo.security import make_acl, make_digest_acl
    kz = kazoo_client(hosts)
    other = kazoo_client(hosts, auth_super=False)
    try:
        kz.create("/fz", b"root")
        for f in [kz.create_async("/fz/n%03d" % i, b"v%d" % i) for i in range(150)]:
            f.get(timeout=TIMEOUT)
        fresh = iter(range(10 ** 6))
        for r in range(rounds):
            if r == rounds // 2:
                other.stop()  # closeSession deletes its ephemerals in the middle
            futures = []
            for _ in range(width):
                op = rng.random()
                path = "/fz/n%03d" % rng.randrange(150)
                new_acl = [make_digest_acl("u%d" % next(fresh), "p", all=True),
                           make_acl("world", "anyone", read=True)]
                if op < 0.35:
                    futures.append(kz.set_async(path, b"r%d-%d" % (r, rng.randrange(1000))))
                elif op < 0.5:
                    futures.append(kz.create_async(path + "/c-", b"c", acl=new_acl,
                                                   sequence=True))
                elif op < 0.6:
                    futures.append(kz.set_acls_async(path, new_acl))
                elif op < 0.75:
                    futures.append(kz.delete_async(path))
                elif op < 0.85:
                    futures.append(kz.create_async(path, b"again"))
                elif r < rounds // 2:
                    futures.append(other.create_async("/fz/e-", b"e", ephemeral=True,
                                                      sequence=True))
                else:
                    futures.append(kz.exists_async(path))
            for f in futures:
                assert f.wait(TIMEOUT), "no reply within %.0f s" % TIMEOUT  # errors are fine
    finally:
        kazoo_stop(kz)
        kazoo_stop(other)


def test_fuzzy_snapshots_recovered_by_corrald_and_zookeeper(zookeeper_factory, corrald_factory):
    """Snapshots are fuzzy (ZooKeeper's kind): the loop serializes a slice of
    the live tree per turn while writes go on. With one node per turn and
    snapCount=20, every snapshot interleaves with pipelined creates, deletes,
    setData, setACL to new ACL lists and a closeSession. After a SIGKILL,
    corrald recovers exactly the tree it served (replaying the log over the
    newest snapshot), and so does Apache ZooKeeper 3.8 from the same files."""
    seed = random.SystemRandom().randrange(2 ** 32)
    print("\nfuzzy snapshot test: seed %d" % seed)
    srv = corrald_factory(cfg={"snapCount": "20", "autopurge.purgeInterval": "0"},
                          props=dict(EXTENDED, **{"corral.snapshot.sliceNodes": "1"}))
    fuzzy_load(srv.hosts, random.Random(seed))
    before = kazoo_tree(srv.hosts)
    snaps = [f for f in list_files(srv.data_dir) if f.startswith("snapshot.")]
    assert len(snaps) >= 10, snaps
    assert kill9(srv) == -9
    srv.start()
    log = last_start_log(srv)
    m = re.search(r"loaded snapshot (\S+) and (\d+) txns", log)
    assert m and int(m.group(2)) > 0, log
    assert "skipped snapshot" not in log, log
    compare_served(before, kazoo_tree(srv.hosts), "corrald after SIGKILL (seed %d)" % seed)
    srv.stop()
    zk = zookeeper_factory(cfg={"dataDir": srv.data_dir}, props=EXTENDED)
    compare_served(before, kazoo_tree(zk.hosts), "ZooKeeper on corrald's files (seed %d)" % seed)
    zlog = zk.read_log()
    assert "Digests are not matching" not in zlog and "digest mismatch" not in zlog.lower()
    assert "reading the digest" not in zlog, "ZooKeeper found no digest trailer"


# ===========================================================================
# 3. restart semantics

@pytest.mark.parametrize("how", ["clean", "sigkill"])
def test_session_survives_restart(corrald_factory, how):
    """A kazoo client with a 30 s session reconnects to the restarted
    server with the same session; its ephemeral is still there."""
    from kazoo.client import KazooClient
    from kazoo.protocol.states import KazooState
    srv = corrald_factory()
    events = {s: threading.Event() for s in ("SUSPENDED", "RECONNECTED", "LOST")}

    def listener(state):
        if state == KazooState.SUSPENDED:
            events["SUSPENDED"].set()
        elif state == KazooState.LOST:
            events["LOST"].set()
        elif state == KazooState.CONNECTED and events["SUSPENDED"].is_set():
            events["RECONNECTED"].set()

    kz = KazooClient(hosts=srv.hosts, timeout=30,
                     connection_retry={"max_tries": -1, "delay": 0.05, "backoff": 1,
                                       "max_delay": 0.1})
    kz.add_listener(listener)
    kz.start(timeout=TIMEOUT)
    try:
        kz.create("/survivor", b"still here", ephemeral=True)
        sid = kz.client_id[0]
        if how == "clean":
            srv.stop()
            assert srv.exit_code == 0, srv.exit_code
        else:
            assert kill9(srv) == -9
        assert events["SUSPENDED"].wait(TIMEOUT)
        srv.start()
        kz.set_hosts(srv.hosts)  # the harness picks a new port at each start
        assert events["RECONNECTED"].wait(TIMEOUT), "kazoo did not reconnect"
        assert not events["LOST"].is_set(), "the session was lost"
        assert kz.client_id[0] == sid
        data, st = kz.get("/survivor")
        assert data == b"still here" and st.ephemeralOwner == sid, (data, st)
        kz.stop()
    finally:
        kz.close()
    c = zkwire.Conn.connect(srv.address, timeout=10)
    try:
        assert c.exists("/survivor")["err"] == NONODE  # closed with its session
        c.close_session()
    finally:
        c.close()


def test_session_expired_while_down(corrald_factory):
    """A session whose timeout passes while the server is down: after the
    restart its ephemerals are removed within timeout + tickTime (the
    restored session's expiry starts at recovery, as in ZooKeeper), and
    the removal is itself durable. A 10 s session's ephemeral stays."""
    tick_ms, timeout_ms = 500, 2000
    long_ms = 20 * tick_ms  # maxSessionTimeout
    srv = corrald_factory(tick_time=tick_ms)
    short = zkwire.Conn.connect(srv.address, timeout=10, timeout_ms=timeout_ms)
    long_ = zkwire.Conn.connect(srv.address, timeout=10, timeout_ms=long_ms)
    assert short.timeout_ms == timeout_ms and long_.timeout_ms == long_ms
    assert short.create("/doomed", b"x", flags=EPHEMERAL)["err"] == 0
    assert long_.create("/kept", b"y", flags=EPHEMERAL)["err"] == 0
    lsid, lpw = long_.session_id, long_.passwd
    srv.stop()
    short.close()
    long_.close()
    # Nothing runs while the server is down: the session timeout can only
    # pass on the clock.
    time.sleep(timeout_ms / 1000.0 + 0.3)
    t0 = time.monotonic()
    srv.start()
    w = zkwire.Conn.connect(srv.address, timeout=10)
    try:
        r = w.exists("/doomed", watch=True)
        if r["err"] == 0:
            bound = (timeout_ms + tick_ms) / 1000.0 + (1.0 if harness.sanitized() else 0.5)
            ev = w.wait_event(timeout=bound + 5)
            elapsed = time.monotonic() - t0
            assert (ev["type"], ev["path"]) == (2, "/doomed"), ev  # NodeDeleted
            assert elapsed <= bound, "removed %.2fs after the restart began (bound %.2fs)" % (
                elapsed, bound)
            print("\n/doomed removed %.2fs after the restart began (bound %.2fs)"
                  % (elapsed, bound))
        else:
            assert r["err"] == NONODE, r
        r = w.exists("/kept")
        assert r["err"] == 0 and r["body"]["stat"]["ephemeralOwner"] == lsid, r
        w.close_session()
    finally:
        w.close()
    # The removal was logged: it is still gone after another restart, and
    # the 10 s session can still reattach.
    srv.stop()
    srv.start()
    c = zkwire.Conn(srv.address, timeout=10)
    try:
        resp = c.handshake(session_id=lsid, passwd=lpw, timeout_ms=long_ms, expect_valid=False)
        assert resp.get("sessionId") == lsid and resp.get("timeOut") == long_ms, resp
        assert c.exists("/doomed")["err"] == NONODE
        assert c.exists("/kept")["err"] == 0
        assert c.close_session()["err"] == 0
    finally:
        c.close()
    c = zkwire.Conn.connect(srv.address, timeout=10)
    try:
        assert c.exists("/kept")["err"] == NONODE  # gone with its session
        c.close_session()
    finally:
        c.close()


# ===========================================================================
# 4. faults

def last_log(data_dir):
    logs = sorted((f for f in list_files(data_dir) if f.startswith("log.")), key=zxid_of)
    assert logs, list_files(data_dir)
    return os.path.join(version2(data_dir), logs[-1])


def dir_fingerprint(path):
    """{name: sha256} of every file under `path`."""
    out = {}
    for dirpath, _dirs, files in os.walk(path):
        for f in files:
            p = os.path.join(dirpath, f)
            h = hashlib.sha256()
            with open(p, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            out[os.path.relpath(p, path)] = h.hexdigest()
    return out


def run_corrald(tmpdir, cfg, props=None, timeout=20):
    """Run corrald in the foreground on a zoo.cfg written here, expecting it
    to exit by itself. Returns (exit status, output). If it is still running
    after `timeout`, it is killed (by PID) and the test fails."""
    lines = {"tickTime": "2000", "clientPort": str(harness.free_port()),
             "clientPortAddress": harness.HOST, "4lw.commands.whitelist": "*",
             "admin.enableServer": "false"}
    lines.update(cfg)
    path = os.path.join(tmpdir, "direct-zoo.cfg")
    with open(path, "w") as f:
        f.write("".join("%s=%s\n" % kv for kv in lines.items()))
    cmd = [harness.corrald_path(), path] + ["-D%s=%s" % kv for kv in (props or {}).items()]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, env=harness.CorraldServer().env(),
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        pytest.fail("corrald did not exit within %ds (it should have refused to start):\n%s"
                    % (timeout, out.decode("utf-8", "replace")[-3000:]), pytrace=False)
    text = out.decode("utf-8", "replace")
    if harness.sanitized():
        for m in harness.SANITIZER_MARKERS:
            assert m not in text, "sanitizer report:\n%s" % text[-5000:]
    return proc.returncode, text


def wait_for_log(server, text, timeout=TIMEOUT):
    """The server's log once it holds `text` (a log line is the only sign of
    a failed background snapshot), polled until `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        log = server.read_log()
        if text in log:
            return log
        assert time.monotonic() < deadline, "no %r in the log:\n%s" % (text,
                                                                        server.log_tail(30))
        time.sleep(0.02)


def error_line(text, what):
    lines = [ln for ln in text.splitlines() if what in ln]
    assert lines, "no line with %r in:\n%s" % (what, text[-3000:])
    return lines[0]


def mount_tmpfs(path, options):
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", path],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root/CAP_SYS_ADMIN): %s"
                    % (r.stderr.strip() or r.returncode))


def umount(path):
    r = subprocess.run(["umount", path], capture_output=True, text=True)
    if r.returncode != 0:
        subprocess.run(["umount", "-l", path], capture_output=True, text=True)


@pytest.fixture
def scratch():
    d = tempfile.mkdtemp(prefix="corral-durability-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def load_then(chk, rng, stop, seconds=0.3, depth=16):
    """A recorded load for `seconds` (a deliberate duration), then stop the
    server with `stop` ("kill" or "clean")."""
    load = chk.start_load(rng, depth)
    time.sleep(seconds)
    if stop == "kill":
        assert kill9(chk.srv) == -9
    else:
        chk.srv.stop()
        assert chk.srv.exit_code == 0, chk.srv.exit_code
    chk.end_load(load)
    return load


@pytest.mark.parametrize("damage", ["garbage-after-last-entry", "partial-entry",
                                    "garbage-at-eof", "zeros-at-eof"])
def test_torn_tail(corrald_factory, damage):
    """SIGKILL, then damage the bytes after the last entry of the last log
    (what a crash in the middle of a write leaves); the restart accepts the
    torn tail, truncates it, serves everything acknowledged, and the log
    stays appendable across another restart."""
    seed = random.SystemRandom().randrange(2 ** 32)
    rng = random.Random(seed)
    srv = corrald_factory(cfg={"autopurge.purgeInterval": "0"})
    chk = Checker(srv, seed, "torn tail (%s)" % damage)
    load = load_then(chk, rng, "kill")
    path = last_log(srv.data_dir)
    entries, end = parse_log(path)
    assert entries and entries[-1][2] >= load.top_acked, (entries[-1:], load.top_acked)
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        if damage == "garbage-after-last-entry":
            f.seek(end)
            f.write(rng.randbytes(37))
        elif damage == "partial-entry":
            o, n, _zxid, _t = entries[-1]
            f.seek(o)
            whole = f.read(13 + n)
            f.seek(end)
            f.write(whole[:len(whole) // 2])
        elif damage == "garbage-at-eof":
            f.seek(size)
            f.write(rng.randbytes(100))
        else:
            f.seek(size)
            f.write(bytes(4096))
    srv.start()
    log = last_start_log(srv)
    if damage == "zeros-at-eof":
        assert "torn" not in log, log
    else:
        line = error_line(log, "torn tail")
        assert ("the last transaction log %s had a torn tail at offset %d" % (path, end)
                in line and line.endswith("; truncated it")), line
        assert os.path.getsize(path) == end, (os.path.getsize(path), end)
    chk.verify(load, "after a %s" % damage)
    # New txns after the cut survive a clean restart.
    load2 = load_then(chk, rng, "clean", seconds=0.2)
    srv.start()
    assert "torn" not in last_start_log(srv)
    chk.verify(load2, "second restart")


@pytest.mark.parametrize("where", ["last-log", "earlier-log"])
def test_corruption_in_the_middle_refused(corrald_factory, scratch, where):
    """A flipped byte inside an early entry of a log that has later entries
    (or a later log) is corruption, not a torn tail: corrald refuses to
    start, exits 1, names the file and the entry's offset, and changes
    nothing in the data dir."""
    srv = corrald_factory(cfg={"autopurge.purgeInterval": "0"})
    c = zkwire.Conn.connect(srv.address, timeout=10)
    for i in range(30):
        assert c.create("/n%02d" % i, b"v%d" % i)["err"] == 0
    c.close()
    if where == "earlier-log":
        srv.stop()
        srv.start()  # a restart starts a new log file
        c = zkwire.Conn.connect(srv.address, timeout=10)
        for i in range(30, 60):
            assert c.create("/n%02d" % i, b"v%d" % i)["err"] == 0
        c.close()
    srv.stop()
    v2 = version2(srv.data_dir)
    logs = sorted((f for f in os.listdir(v2) if f.startswith("log.")), key=zxid_of)
    assert len(logs) == (2 if where == "earlier-log" else 1), logs
    path = os.path.join(v2, logs[0])
    entries, _end = parse_log(path)
    assert len(entries) >= 30, len(entries)
    o, n, _zxid, _t = entries[3]
    flip_at = o + 12 + n // 2
    with open(path, "r+b") as f:
        f.seek(flip_at)
        b = f.read(1)
        f.seek(flip_at)
        f.write(bytes([b[0] ^ 0x5A]))
    before = dir_fingerprint(srv.data_dir)
    rc, out = run_corrald(scratch, {"dataDir": srv.data_dir})
    assert rc == 1, (rc, out[-3000:])
    line = error_line(out, "cannot start")
    assert "%s: offset %d: checksum mismatch" % (path, o) in line, line
    if where == "last-log":
        assert ("but a valid entry (zxid 0x%x) follows at offset %d: the log is corrupt in "
                "the middle" % (entries[4][2], entries[4][0])) in line, line
    else:
        assert ("valid entries end at zxid 0x%x but the next log %s starts at zxid 0x%x"
                % (entries[2][2], logs[1], zxid_of(logs[1]))) in line, line
    assert dir_fingerprint(srv.data_dir) == before, "the refused start changed the data dir"
    # Repaired, the same data dir serves everything again.
    with open(path, "r+b") as f:
        f.seek(flip_at)
        f.write(b)
    srv.start()
    c = zkwire.Conn.connect(srv.address, timeout=10)
    try:
        r = c.get_children("/")
        names = sorted(x for x in r["body"]["children"] if x != "zookeeper")
        assert names == ["n%02d" % i for i in range(60 if where == "earlier-log" else 30)]
        c.close_session()
    finally:
        c.close()


@pytest.mark.parametrize("case", ["file", "proc", "version-2-file", "dataLogDir-file",
                                  "read-only-mount"])
def test_unusable_data_dir(scratch, case):
    """A data dir that cannot be used: a clear error naming the path, exit
    status 1, nothing changed."""
    cfg = {}
    mounted = None
    if case == "file":
        bad = os.path.join(scratch, "data")
        with open(bad, "w") as f:
            f.write("not a directory\n")
        cfg["dataDir"] = bad
    elif case == "proc":
        bad = "/proc/corral-durability-%d" % os.getpid()
        cfg["dataDir"] = bad + "/data"
    elif case == "version-2-file":
        os.makedirs(os.path.join(scratch, "data"))
        bad = os.path.join(scratch, "data", "version-2")
        with open(bad, "w") as f:
            f.write("not a directory\n")
        cfg["dataDir"] = os.path.join(scratch, "data")
    elif case == "dataLogDir-file":
        os.makedirs(os.path.join(scratch, "data"))
        bad = os.path.join(scratch, "txnlog")
        with open(bad, "w") as f:
            f.write("not a directory\n")
        cfg["dataDir"] = os.path.join(scratch, "data")
        cfg["dataLogDir"] = bad
    else:
        mounted = os.path.join(scratch, "ro")
        os.makedirs(mounted)
        mount_tmpfs(mounted, "size=1m,ro")
        bad = mounted
        cfg["dataDir"] = mounted + "/data"
    try:
        before = dir_fingerprint(scratch)
        rc, out = run_corrald(scratch, cfg)
        assert rc == 1, (rc, out[-3000:])
        line = error_line(out, "cannot start")
        assert bad in line, "the error does not name %s: %s" % (bad, line)
        if case == "read-only-mount":
            assert "Read-only file system" in line, line
        after = dir_fingerprint(scratch)
        after.pop("direct-zoo.cfg", None)
        assert after == before, (before, after)
    finally:
        if mounted:
            umount(mounted)


def test_disk_full(corrald_factory, scratch):
    """dataDir on a 2 MiB tmpfs with preAllocSize=16 KiB; write until the
    disk is full. corrald must exit with status 3 and a log line naming the
    log file and ENOSPC; after the disk is made larger, a restart serves
    every acknowledged write and no half-applied request."""
    mnt = os.path.join(scratch, "mnt")
    os.makedirs(mnt)
    mount_tmpfs(mnt, "size=2m")
    srv = None
    try:
        seed = random.SystemRandom().randrange(2 ** 32)
        rng = random.Random(seed)
        data = mnt + "/data"
        srv = corrald_factory(cfg={"dataDir": data, "autopurge.purgeInterval": "0"},
                              props={"zookeeper.preAllocSize": "16"})
        chk = Checker(srv, seed, "disk full")
        load = chk.start_load(rng, 16, data_max=2048)
        rc = wait_exit(srv, 120)
        chk.end_load(load)
        log = srv.read_log()
        assert rc == 3, "exit status %s, expected 3\n%s" % (rc, srv.log_tail(30))
        line = error_line(log, "cannot write the transaction log")
        assert "No space left on device" in line, line
        assert re.search(re.escape(version2(data)) + r"/log\.[0-9a-f]+", line), (
            "the error does not name the log file: %s" % line)
        assert len(load.acked) > 100, len(load.acked)
        check_dir_names(list_files(data), "after the disk filled up")
        # Space comes back; everything acknowledged is there.
        r = subprocess.run(["mount", "-o", "remount,size=64m", mnt], capture_output=True,
                           text=True)
        assert r.returncode == 0, r.stderr
        srv.start()
        chk.verify(load, "after the disk filled up")
    finally:
        if srv is not None:
            srv.stop()
        umount(mnt)


def test_snapshot_disk_full_then_recovers(corrald_factory, scratch):
    """Snapshots (dataDir) on a 256 KiB tmpfs, the log (dataLogDir) elsewhere:
    while the tree is larger than the disk, each snapshot fails with a log
    line naming its file and ENOSPC, writes go on, nothing half-written is
    left; once there is room again (the tmpfs grows) the next snapshot is
    written: a failed writer never stops the snapshots for good."""
    from kazoo.client import KazooClient
    mnt = os.path.join(scratch, "snap")
    os.makedirs(mnt)
    mount_tmpfs(mnt, "size=256k")
    srv = None
    try:
        srv = corrald_factory(cfg={"dataDir": mnt + "/data", "dataLogDir": scratch + "/log",
                                   "snapCount": "200", "autopurge.purgeInterval": "0"})
        kz = KazooClient(hosts=srv.hosts, timeout=15)
        kz.start(timeout=TIMEOUT)
        try:
            kz.create("/big")
            for f in [kz.create_async("/big/n%04d" % i, b"x" * 1024) for i in range(1000)]:
                f.get(timeout=TIMEOUT)
            log = wait_for_log(srv, "No space left on device")
            line = error_line(log, "No space left on device")
            assert re.search(re.escape(version2(mnt + "/data")) + r"/\.snapshot\.[0-9a-f]+\.tmp",
                             line), line
            # A snapshot that did fit may have left too little room even for
            # a small tree: the disk grows instead.
            r = subprocess.run(["mount", "-o", "remount,size=64m", mnt], capture_output=True,
                               text=True)
            assert r.returncode == 0, r.stderr
            before = srv.read_log().count("written in")
            n = 0
            while srv.read_log().count("written in") == before:
                assert n < 5000, "no snapshot once there was room:\n" + srv.log_tail(20)
                kz.set("/big", b"%d" % n)
                n += 1
            assert kz.get("/big")[0] == b"%d" % (n - 1)
        finally:
            kz.stop()
            kz.close()
        names = os.listdir(version2(mnt + "/data"))
        assert not [f for f in names if f.endswith(".tmp")], names
    finally:
        if srv is not None:
            srv.stop()
        umount(mnt)


def test_truncated_newest_snapshot_falls_back(corrald_factory):
    """A newest snapshot that is cut short (as ZooKeeper can leave one) is
    skipped with a warning; recovery uses the previous one plus the logs
    and serves everything acknowledged."""
    seed = random.SystemRandom().randrange(2 ** 32)
    rng = random.Random(seed)
    srv = corrald_factory(cfg={"snapCount": "50", "autopurge.purgeInterval": "0"})
    chk = Checker(srv, seed, "truncated snapshot")
    load = load_then(chk, rng, "clean", seconds=0.3, depth=4)
    snaps = sorted((f for f in list_files(srv.data_dir) if f.startswith("snapshot.")),
                   key=zxid_of)
    assert len(snaps) >= 3, snaps
    newest = os.path.join(version2(srv.data_dir), snaps[-1])
    with open(newest, "r+b") as f:
        f.truncate(os.path.getsize(newest) // 2)
    srv.start()
    log = last_start_log(srv)
    assert "skipped snapshot %s" % snaps[-1] in log, log
    m = re.search(r"loaded snapshot (\S+) and", log)
    assert m and os.path.basename(m.group(1)) == snaps[-2], (m and m.group(1), snaps)
    chk.verify(load, "newest snapshot truncated")


def test_stale_snapshot_tmp_file_ignored_and_removed(corrald_factory):
    """A snapshot writer killed mid-way leaves .snapshot.<zxid>.tmp: recovery
    never loads it, and removes it (else every crash during a snapshot
    leaks a snapshot-sized file that autopurge does not know about)."""
    seed = random.SystemRandom().randrange(2 ** 32)
    rng = random.Random(seed)
    srv = corrald_factory(cfg={"snapCount": "50", "autopurge.purgeInterval": "0"})
    chk = Checker(srv, seed, "stale tmp snapshot")
    load = load_then(chk, rng, "kill", seconds=0.3, depth=4)
    v2 = version2(srv.data_dir)
    snaps = sorted((f for f in os.listdir(v2) if f.startswith("snapshot.")), key=zxid_of)
    z = max(e[2] for f in os.listdir(v2) if f.startswith("log.")
            for e in parse_log(os.path.join(v2, f))[0])
    # What a killed writer leaves: the start of a snapshot at a zxid after
    # the newest complete one (not z itself: the restarted server may take
    # its own snapshot at z at once, reusing that temporary name).
    y = zxid_of(snaps[-1]) + 1
    if y >= z:
        y = zxid_of(snaps[-1])
    tmp_name = ".snapshot.%x.tmp" % y
    with open(os.path.join(v2, snaps[-1]), "rb") as f:
        head = f.read()
    with open(os.path.join(v2, tmp_name), "wb") as f:
        f.write(head[:len(head) // 2])
    srv.start()
    log = last_start_log(srv)
    m = re.search(r"loaded snapshot (\S+) and", log)
    assert m and os.path.basename(m.group(1)) == snaps[-1], (m and m.group(1), snaps)
    chk.verify(load, "with a stale tmp snapshot")
    assert tmp_name not in os.listdir(v2), (
        "%s was left in the data dir after recovery: %s" % (tmp_name, sorted(os.listdir(v2))))
