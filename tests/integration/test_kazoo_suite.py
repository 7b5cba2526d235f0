"""kazoo's own recipe and client tests (written by kazoo's authors, shipped
in Debian's python3-kazoo) run against corrald: locks, semaphores,
elections, queues, barriers, counters, parties, partitioners, caches,
leases, watchers, ACL security. Tests that stop or reconfigure members of
kazoo's own ZooKeeper cluster need an ensemble and are not run."""
import os
import subprocess
import sys

import pytest

import harness

RUNNER = os.path.join(os.path.dirname(__file__), "kazoo_suite", "run_against_corrald.py")
MODULES = ["test_lock.py", "test_election.py", "test_queue.py", "test_barrier.py",
           "test_counter.py", "test_party.py", "test_watchers.py", "test_paths.py",
           "test_lease.py", "test_cache.py", "test_partitioner.py", "test_security.py"]


@pytest.mark.skipif(harness.sanitized(), reason="run once, against the optimised build")
def test_kazoo_own_suite_passes():
    out = subprocess.run([sys.executable, RUNNER] + MODULES, capture_output=True, text=True,
                         timeout=600, env=dict(os.environ))
    tail = "\n".join(out.stdout.splitlines()[-30:])
    assert out.returncode == 0, tail
    assert " passed" in tail and "failed" not in tail, tail
