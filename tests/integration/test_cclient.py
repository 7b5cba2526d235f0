"""Apache ZooKeeper's official C client (libzookeeper_mt) against corrald.

cclient/zkc_smoke.c is compiled with ``cc -Wall -Wextra -Werror ...
-lzookeeper_mt`` into a temporary directory, run with the server's address
and a namespace, and its exit status and stdout are compared exactly with
what Apache ZooKeeper 3.8 produces (``CORRAL_TARGET=zookeeper`` runs it
against ZooKeeper instead, which is how EXPECTED was checked). The program
prints a "FAIL <step>: ..." line on stderr and exits 1 at the first result
it did not expect.
"""

import os
import shutil
import subprocess

import pytest

import harness

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "cclient", "zkc_smoke.c")
HEADER = "/usr/include/zookeeper/zookeeper.h"
TARGET = os.environ.get("CORRAL_TARGET", "corrald").strip().lower()

EXPECTED = """\
connect: ok
create a: /a
create errors: ZNODEEXISTS ZNONODE
get a: hello version=0
set a: version=1, stale version -> ZBADVERSION
exists: missing -> ZNONODE, a version=1
data watch: CHANGED a
children before: a
exists watch: CREATED b
child watch: CHILD ns
children after: a,b
one-shot: ok
sequential: /s-0000000002
ephemeral: owner ok, ZNOCHILDRENFOREPHEMERALS, DELETED on close
multi: ok, a version=4
multi: failure -> ZBADVERSION, results ZOK ZBADVERSION ZRUNTIMEINCONSISTENCY
acl: authed get ok, anonymous get/set -> ZNOAUTH
children at end: s-0000000002
done
"""


@pytest.fixture(scope="module")
def smoke_binary(tmp_path_factory):
    cc = shutil.which(os.environ.get("CC", "cc"))
    if cc is None or not os.path.exists(HEADER):
        msg = "C compiler or libzookeeper-mt-dev (%s) missing" % HEADER
        if harness.in_ci():
            pytest.fail(msg)
        pytest.skip(msg)
    out = str(tmp_path_factory.mktemp("cclient") / "zkc_smoke")
    cmd = [cc, "-std=c11", "-Wall", "-Wextra", "-Werror", "-O1", "-g", "-o", out, SOURCE,
           "-lzookeeper_mt", "-lpthread"]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=120)
    assert r.returncode == 0, "compiling %s failed:\n%s\n%s" % (SOURCE, " ".join(cmd), r.stdout)
    return out


@pytest.fixture
def server(request, server_pool):
    if TARGET == "corrald":
        return request.getfixturevalue("corrald")
    try:
        return server_pool.get("cclient", "zookeeper", {}, {})
    except harness.ServerError as e:
        pytest.skip(str(e))


def test_c_client_smoke(smoke_binary, server, namespace):
    r = subprocess.run([smoke_binary, server.hosts, namespace], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=90)
    detail = "stdout:\n%s\nstderr:\n%s" % (r.stdout, r.stderr)
    assert r.returncode == 0, detail
    assert r.stdout.splitlines() == EXPECTED.splitlines(), detail
    assert "FAIL" not in r.stderr, detail
    assert server.alive()


def test_c_client_reports_failure(smoke_binary, server, namespace):
    """The program really checks: with its namespace already taken it must
    stop at the first step and say why."""
    r = subprocess.run([smoke_binary, server.hosts, "/zookeeper"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=90)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert r.stdout.splitlines() == ["connect: ok"]
    assert "FAIL create ns: rc -110 (node exists), expected 0 (ok)" in r.stderr, r.stderr
