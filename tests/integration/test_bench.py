"""Smoke tests for corral-bench: its self-test (histogram, options), its
error handling, and a short run of every workload against a fresh corrald
so the tool cannot rot. No throughput thresholds: only "it ran, it did
something, nothing failed, it cleaned up".

The binary is $CORRAL_BENCH, else corral-bench next to $CORRALD, else
build/corral-bench.
"""

import json
import os
import subprocess

import pytest

import harness

WORKLOADS = {
    # workload: extra arguments (small: a second of load at most)
    "read": ["-n", "4", "-d", "4", "-k", "20"],
    "exists": ["-n", "4", "-d", "4", "-k", "20"],
    "children": ["-n", "4", "-d", "4", "-c", "10"],
    "write": ["-n", "4", "-d", "4", "-k", "20"],
    "create": ["-n", "4", "-d", "4", "--create-mode", "seq"],
    "mixed": ["-n", "4", "-d", "4", "-k", "20", "-r", "50"],
    "sessions": ["-n", "4"],
    "watch": ["-w", "4", "-d", "1"],
    "multi": ["-n", "4", "-d", "2", "-m", "5", "-k", "20"],
}


def bench_path():
    env = os.environ.get("CORRAL_BENCH")
    if env:
        return os.path.abspath(env)
    beside = os.path.join(os.path.dirname(harness.corrald_path()), "corral-bench")
    if os.path.exists(beside):
        return beside
    return os.path.join(harness.REPO_ROOT, "build", "corral-bench")


@pytest.fixture(scope="module")
def bench():
    path = bench_path()
    if not os.access(path, os.X_OK):
        msg = "corral-bench not found at %s (run `make`, or set CORRAL_BENCH)" % path
        if harness.in_ci():
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    return path


def run(bench, *args, timeout=30):
    return subprocess.run([bench, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=timeout)


def final_record(res):
    lines = [l for l in res.stdout.splitlines() if l.strip()]
    assert lines, "no output; stderr:\n" + res.stderr
    return json.loads(lines[-1])


def root_children(server):
    from kazoo.client import KazooClient
    zk = KazooClient(hosts=server.hosts)
    zk.start(timeout=10)
    try:
        return zk.get_children("/")
    finally:
        zk.stop()
        zk.close()


def test_selftest(bench):
    res = run(bench, "selftest")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "0 failed" in res.stdout


@pytest.mark.parametrize("args,needle", [
    (["-n", "0", "read"], "--sessions"),
    (["read", "--no-such-option"], "unknown option"),
    (["teleport"], "unknown workload"),
    ([], "no workload"),
])
def test_bad_arguments(bench, args, needle):
    res = run(bench, *args)
    assert res.returncode == 2
    assert needle in res.stderr


def test_unreachable_server(bench):
    res = run(bench, "read", "-s", "127.0.0.1:%d" % harness.free_port(), "-t", "1")
    assert res.returncode == 1
    assert "could not connect" in res.stderr


def test_stub_ceiling(bench):
    res = run(bench, "--stub", "read", "-n", "2", "-d", "2", "-t", "0.5", "-q")
    assert res.returncode == 0, res.stderr
    rec = final_record(res)
    assert rec["stub"] is True and rec["ops"] > 0 and rec["errors"] == 0


@pytest.mark.parametrize("workload", sorted(WORKLOADS))
def test_workload_smoke(bench, corrald, workload):
    res = run(bench, workload, "-s", corrald.hosts, "-t", "1", "--no-progress",
              "--server-pid", str(corrald.proc.pid), *WORKLOADS[workload])
    assert res.returncode == 0, res.stdout + res.stderr
    rec = final_record(res)
    assert rec["workload"] == workload
    assert rec["ops"] > 0, rec
    assert rec["errors"] == 0, rec["errors_by_code"]
    assert rec["drained"] and rec["teardown_ok"], rec
    lat = rec["latency_us"]
    assert 0 < lat["p50"] <= lat["p99"] <= lat["max"]
    assert rec["server_cpu_s"] >= 0
    # Everything it created is gone.
    assert not [c for c in root_children(corrald) if c.startswith("corral-bench")]


def test_populate_then_cleanup(bench, corrald):
    res = run(bench, "populate", "-s", corrald.hosts, "--root", "/bench-pop", "-k", "300",
              "-v", "10", "-n", "3", "-q")
    assert res.returncode == 0, res.stderr
    rec = final_record(res)
    assert rec["errors"] == 0 and rec["setup_requests"] == 301
    assert "bench-pop" in root_children(corrald)
    res = run(bench, "cleanup", "-s", corrald.hosts, "--root", "/bench-pop", "-q")
    assert res.returncode == 0, res.stderr
    assert "bench-pop" not in root_children(corrald)
