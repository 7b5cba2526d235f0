"""Logging as operators configure ZooKeeper's: a log file in
zookeeper.log.dir, the level from zookeeper.root.logger, and SIGHUP
reopening the file after logrotate moved it."""
import os
import re
import signal
import subprocess
import time

import pytest
from kazoo.client import KazooClient

from harness import REPO_ROOT


def _wait_for(path, text, timeout=10.0):
    """Wait until `text` appears in the file (written once per loop turn)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path):
            with open(path, errors="replace") as f:
                if text in f.read():
                    return True
        time.sleep(0.02)
    return False


def test_log_file_and_sighup_reopen(corrald_factory, tmp_path):
    logdir = tmp_path / "logs"
    logdir.mkdir()
    # DEBUG: sessions are logged at DEBUG, as ZooKeeper 3.8 logs them.
    srv = corrald_factory(props={"zookeeper.log.dir": str(logdir),
                                 "zookeeper.log.file": "corral.log",
                                 "zookeeper.root.logger": "DEBUG,ROLLINGFILE"})
    path = str(logdir / "corral.log")
    assert _wait_for(path, "binding to port 127.0.0.1:%d" % srv.port)

    os.rename(path, path + ".1")          # what logrotate does
    srv.proc.send_signal(signal.SIGHUP)
    assert _wait_for(path, "SIGHUP: reopened the log file %s" % path)

    zk = KazooClient(hosts=srv.hosts)
    zk.start(timeout=10)
    sid = zk.client_id[0]
    zk.stop()
    zk.close()
    assert _wait_for(path, "established session 0x%x" % sid)
    with open(path + ".1") as f:
        assert "established session" not in f.read()
    assert srv.alive()


def test_root_logger_level_warn_hides_info(corrald_factory, tmp_path):
    srv = corrald_factory(props={"zookeeper.log.dir": str(tmp_path),
                                 "zookeeper.log.file": "warn.log",
                                 "zookeeper.root.logger": "WARN,ROLLINGFILE"})
    zk = KazooClient(hosts=srv.hosts)
    zk.start(timeout=10)
    zk.stop()
    zk.close()
    srv.stop()
    with open(tmp_path / "warn.log") as f:
        text = f.read()
    assert "[INFO ]" not in text
    assert "established session" not in text


def test_unwritable_log_dir_is_refused(corrald_factory, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    srv = corrald_factory(props={"zookeeper.log.dir": str(blocker),
                                 "zookeeper.root.logger": "INFO,ROLLINGFILE"}, start=False)
    try:
        srv.start(attempts=1)
    except Exception:
        pass
    if srv.proc is not None:
        srv.proc.wait(timeout=10)
        assert srv.proc.returncode == 2
    assert "cannot open the log file %s/zookeeper.log" % blocker in srv.read_log()


# ---------------------------------------------------------------------------
# fsync.warningthresholdms: a slow fsync is logged (a real server whose
# fsync/fdatasync an LD_PRELOAD shim delays: tests/integration/tools/slow_fsync.c)

FSYNC_DELAY_MS = 60


@pytest.fixture(scope="module")
def slow_fsync_shim(tmp_path_factory):
    src = os.path.join(REPO_ROOT, "tests", "integration", "tools", "slow_fsync.c")
    out = str(tmp_path_factory.mktemp("shim") / "slow_fsync.so")
    r = subprocess.run([os.environ.get("CC", "cc"), "-shared", "-fPIC", "-O1", "-Wall", "-Wextra",
                        "-Werror", "-o", out, src, "-ldl"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return out


def _write_one(srv, path):
    zk = KazooClient(hosts=srv.hosts)
    zk.start(timeout=10)
    try:
        zk.create(path, b"x")  # answered once its txn is fsync'ed
    finally:
        zk.stop()
        zk.close()


def test_slow_fsync_is_logged(corrald_factory, slow_fsync_shim):
    srv = corrald_factory(cfg={"fsync.warningthresholdms": 20},
                          extra_env={"LD_PRELOAD": slow_fsync_shim,
                                     "CORRAL_TEST_FSYNC_DELAY_MS": str(FSYNC_DELAY_MS)})
    _write_one(srv, "/slow")
    line = None
    deadline = time.monotonic() + 10
    while line is None and time.monotonic() < deadline:
        line = next((ln for ln in srv.read_log().splitlines()
                     if "fsync of the transaction log took" in ln), None)
        time.sleep(0.02)
    assert line is not None, srv.log_tail()
    took = int(re.search(r"took (\d+) ms, more than fsync.warningthresholdms=20", line).group(1))
    assert took >= FSYNC_DELAY_MS, line
    assert "[WARN ]" in line


def test_fsync_under_threshold_is_not_logged(corrald_factory, slow_fsync_shim):
    srv = corrald_factory(cfg={"fsync.warningthresholdms": 5000},
                          extra_env={"LD_PRELOAD": slow_fsync_shim,
                                     "CORRAL_TEST_FSYNC_DELAY_MS": str(FSYNC_DELAY_MS)})
    _write_one(srv, "/fast-enough")
    # The create's reply follows its batch's durable report, whose warning
    # (if any) is written in the same loop turn, before the reply.
    assert "fsync of the transaction log took" not in srv.read_log()
