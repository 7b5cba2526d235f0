"""corrald purge (zkCleanup.sh's job) and snapshots taken on snapCount's
schedule: old snapshots and logs go, the newest three stay, and the server
recovers the same tree from what is left."""
import os
import subprocess

import pytest
from kazoo.client import KazooClient

from harness import corrald_path


def _files(data_dir):
    vdir = os.path.join(data_dir, "version-2")
    return sorted(f for f in os.listdir(vdir) if f.startswith(("log.", "snapshot.")))


def _snapshots(data_dir):
    return [f for f in _files(data_dir) if f.startswith("snapshot.")]


def test_snapshots_on_schedule_and_purge_keeps_newest(corrald_factory, namespace):
    srv = corrald_factory(cfg={"snapCount": "20", "autopurge.purgeInterval": "0"})
    zk = KazooClient(hosts=srv.hosts)
    zk.start(timeout=10)
    try:
        zk.ensure_path(namespace)
        for i in range(400):
            zk.create("%s/n-" % namespace, b"v%d" % i, sequence=True)
        children = sorted(zk.get_children(namespace))
    finally:
        zk.stop()
        zk.close()
    srv.stop()
    snaps = _snapshots(srv.data_dir)
    # snapCount=20: a snapshot every 10 to 20 txns, so at least 400/20 of them.
    assert len(snaps) >= 20, snaps

    out = subprocess.run([corrald_path(), "purge", srv.data_dir, "-n", "3"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    by_zxid = sorted(snaps, key=lambda n: int(n.split(".")[1], 16))
    assert sorted(_snapshots(srv.data_dir)) == sorted(by_zxid[-3:])
    oldest_kept = int(by_zxid[-3].split(".")[1], 16)
    logs = [int(f.split(".")[1], 16) for f in _files(srv.data_dir) if f.startswith("log.")]
    # Only the log holding oldest_kept+1 and later ones remain.
    assert logs and min(logs) <= oldest_kept + 1
    assert len([z for z in logs if z <= oldest_kept]) <= 1
    assert "Removing file:" in out.stdout

    srv.start()
    zk = KazooClient(hosts=srv.hosts)
    zk.start(timeout=10)
    try:
        assert sorted(zk.get_children(namespace)) == children
        assert zk.get("%s/%s" % (namespace, children[-1]))[0] == b"v399"
    finally:
        zk.stop()
        zk.close()


@pytest.mark.parametrize("args,code,message", [
    ([], 2, "usage: corrald purge"),
    (["-n", "2"], 2, "at least 3"),
    (["-n", "x"], 2, "usage: corrald purge"),
])
def test_purge_bad_arguments(tmp_path, args, code, message):
    out = subprocess.run([corrald_path(), "purge"] + ([str(tmp_path)] if args else []) + args,
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == code
    assert message in out.stderr


def test_purge_missing_dir_names_it(tmp_path):
    missing = str(tmp_path / "nope")
    out = subprocess.run([corrald_path(), "purge", missing, "-n", "3"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 1
    assert missing in out.stderr
