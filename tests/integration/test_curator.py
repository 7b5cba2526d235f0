"""Apache Curator (Debian libcurator-*-java 5.4) against corrald, with
Apache ZooKeeper 3.8 as the oracle.

curator/CuratorCheck.java is one plain Java program, written the way a
Java shop uses Curator (CuratorFrameworkFactory + ExponentialBackoffRetry,
the recipes, the caches, persistent watches, transactions). It runs a list
of named checks and prints one line per check, ``PASS <name>`` or
``FAIL <name>: <reason>``; every check asserts exact values, versions,
child lists and event order. See the comment at the top of the Java file.

This module compiles it once with javac against the Debian jars (classes
cached under build/curator-check/<hash of source, jars and javac>/), runs
it against corrald and against Apache ZooKeeper at the same time, and turns
every line into a test:

* ``test_curator_on_zookeeper[<check>]``: the check passes on ZooKeeper. A
  check that fails here is wrong, not corrald.
* ``test_curator_on_corrald[<check>]``: the check passes on corrald. The
  failure message says whether ZooKeeper passed the same check (a corrald
  bug) or not (a broken check). A known corrald bug is listed in
  CORRALD_BUGS and marked ``xfail(strict=True)``, so the test flips to a
  failure the day the bug is fixed.

Servers come from the suite's session pool (conftest ``server_pool``): the
ZooKeeper JVM is the one the ``zookeeper`` fixture shares, corrald is a
fresh one of this module's own. "create-parent-containers" waits for the
container reaper, so it runs against a second server of each kind started
with znode.container.checkIntervalMs=500 (``--containers``); the other
checks keep the default reaper, which would otherwise delete the recipes'
empty container nodes while the checks look at them.

Skipped (a failure with CI=true, as elsewhere in the suite) when the Debian
packages libcurator-recipes-java (which pulls the client and framework
jars, libzookeeper-java, guava and slf4j) or a JDK (default-jdk-headless)
are missing.
"""

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import threading

import pytest

import harness

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "curator", "CuratorCheck.java")
CACHE_ROOT = os.path.join(harness.REPO_ROOT, "build", "curator-check")

# Compile- and run-time classpath. The Curator jars' manifests name their
# own dependencies too; we list them so a missing one is reported up front.
JAVA_DIR = "/usr/share/java"
JARS = [os.path.join(JAVA_DIR, j) for j in (
    "curator-recipes.jar",      # libcurator-recipes-java
    "curator-framework.jar",    # libcurator-framework-java
    "curator-client.jar",       # libcurator-client-java
    "zookeeper.jar",            # libzookeeper-java
    "zookeeper-jute.jar",       # libzookeeper-java
    "guava.jar",                # libguava-java
    "slf4j-api.jar",            # libslf4j-java
    "slf4j-simple.jar",         # libslf4j-java: warnings to stderr
)]
JVM_FLAGS = ["-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
             "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"]
REAPER_PROPS = {"znode.container.checkIntervalMs": "500"}
RUN_TIMEOUT = 150   # seconds for one whole run; a check hangs for 40 s at most

# Checks that fail on corrald but pass on ZooKeeper: name -> reason. Each is
# an xfail(strict=True), so fixing the bug makes the test fail until the
# entry is removed.
CORRALD_BUGS = {
}


def _check_names():
    with open(SOURCE, encoding="utf-8") as f:
        names = re.findall(r'^\s*register\("([a-z0-9-]+)"', f.read(), re.M)
    assert names and len(names) == len(set(names)), names
    return names


CHECKS = _check_names()


def _missing_dependency(msg):
    if harness.in_ci():
        pytest.fail(msg, pytrace=False)
    pytest.skip(msg)


def _javac():
    explicit = os.environ.get("CORRAL_JAVAC")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    sibling = os.path.join(os.path.dirname(os.path.realpath(harness.JAVA)), "javac")
    if os.access(sibling, os.X_OK):
        return sibling
    return shutil.which("javac")


def _fingerprint(javac):
    h = hashlib.sha256()
    with open(SOURCE, "rb") as f:
        h.update(f.read())
    for p in [javac] + JARS:
        real = os.path.realpath(p)
        st = os.stat(real)
        h.update(("%s %d %d\n" % (real, st.st_size, int(st.st_mtime))).encode())
    return h.hexdigest()[:16]


@pytest.fixture(scope="module")
def curator_classes():
    """Directory with the compiled CuratorCheck classes (cached)."""
    missing = [j for j in JARS if not os.path.exists(j)]
    if missing:
        _missing_dependency(
            "Curator jars missing: %s (apt-get install libcurator-recipes-java; "
            "scripts/deps.sh test)" % ", ".join(missing))
    javac = _javac()
    if javac is None or not os.access(harness.JAVA, os.X_OK):
        _missing_dependency("no JDK (javac/java) found: apt-get install default-jdk-headless")
    out = os.path.join(CACHE_ROOT, _fingerprint(javac))
    if os.path.exists(os.path.join(out, "CuratorCheck.class")):
        return out
    os.makedirs(CACHE_ROOT, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="tmp-", dir=CACHE_ROOT)
    try:
        r = subprocess.run(
            [javac, "-encoding", "UTF-8", "-Xlint:-deprecation", "-cp", ":".join(JARS),
             "-d", tmp, SOURCE],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=180)
        assert r.returncode == 0, "javac failed:\n" + r.stdout
        try:
            os.rename(tmp, out)          # atomic: a concurrent run may win
        except OSError:
            if not os.path.exists(os.path.join(out, "CuratorCheck.class")):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for d in os.listdir(CACHE_ROOT):     # drop classes of older sources
        if d != os.path.basename(out) and not d.startswith("tmp-"):
            shutil.rmtree(os.path.join(CACHE_ROOT, d), ignore_errors=True)
    return out


class Run:
    """One run of CuratorCheck against one kind of server."""

    def __init__(self, kind):
        self.kind = kind
        self.skip_reason = None     # the servers could not be started
        self.results = {}           # check name -> None (PASS) or reason
        self.returncode = None
        self.stdout = ""
        self.stderr = ""
        self.servers = []

    def outcome(self, name):
        """'PASS', 'FAIL: <reason>', or a note that no line came out."""
        if name not in self.results:
            return "no result line (rc=%s)" % self.returncode
        reason = self.results[name]
        return "PASS" if reason is None else "FAIL: " + reason

    def diagnostics(self, check=None):
        """The program's stderr for `check` (all of it, at most the last
        60 lines, if None) and the tails of the servers' logs."""
        lines = self.stderr.splitlines()
        if check is not None and ("== " + check) in lines:
            start = lines.index("== " + check)
            end = next((i for i in range(start + 1, len(lines))
                        if lines[i].startswith("== ")), len(lines))
            lines = lines[start:end]
        text = "\n".join(lines[-60:])
        logs = "\n".join(s.log_tail(40) for s in self.servers)
        return "--- CuratorCheck stderr (%s) ---\n%s\n%s" % (check or "tail", text, logs)


def _parse(run):
    for line in run.stdout.splitlines():
        m = re.match(r"^(PASS|FAIL) ([a-z0-9-]+)(?:: (.*))?$", line)
        if m:
            run.results[m.group(2)] = None if m.group(1) == "PASS" else (m.group(3) or "")


@pytest.fixture(scope="module")
def curator_runs(curator_classes, server_pool):
    """Runs CuratorCheck against corrald and ZooKeeper concurrently.
    Returns {"corrald": Run, "zookeeper": Run}."""
    runs = {"corrald": Run("corrald"), "zookeeper": Run("zookeeper")}
    if not harness.CorraldServer.available():
        runs["corrald"].skip_reason = ("corrald binary not found at %s (run `make`, or set CORRALD)"
                                       % harness.corrald_path())
    if not harness.ZooKeeperServer.available():
        runs["zookeeper"].skip_reason = "Apache ZooKeeper (Debian package `zookeeper`) is not installed"

    # Start the four servers two at a time (one of each kind in parallel:
    # the JVM's start-up dominates).
    slots = {"corrald": ("curator", "curator-reaper"), "zookeeper": ("shared", "curator-reaper")}

    def start(kind):
        run = runs[kind]
        if run.skip_reason:
            return
        main_slot, reaper_slot = slots[kind]
        try:
            run.servers = [server_pool.get(main_slot, kind, {}, {}),
                           server_pool.get(reaper_slot, kind, {}, REAPER_PROPS)]
        except harness.ServerError as e:
            run.skip_reason = "%s could not start: %s" % (kind, e)

    # ServerPool is a plain dict: the two threads use distinct keys.
    threads = [threading.Thread(target=start, args=(k,)) for k in runs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    procs = {}
    for kind, run in runs.items():
        if run.skip_reason:
            continue
        main, reaper = run.servers
        cmd = ([harness.JAVA] + JVM_FLAGS
               + ["-cp", ":".join([curator_classes] + JARS), "CuratorCheck",
                  "--containers", reaper.hosts, main.hosts])
        procs[kind] = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       stdin=subprocess.DEVNULL, text=True,
                                       start_new_session=True)
    for kind, p in procs.items():
        run = runs[kind]
        try:
            run.stdout, run.stderr = p.communicate(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, 9)     # our own process group (start_new_session)
            run.stdout, run.stderr = p.communicate()
            run.stderr += "\n[killed after %d s]" % RUN_TIMEOUT
        run.returncode = p.returncode
        _parse(run)
    return runs


def _skip_if_unavailable(run):
    if run.skip_reason:
        _missing_dependency(run.skip_reason)


def test_curator_lines_cover_every_check(curator_runs):
    """Each run printed exactly one line per check, and its exit status
    agrees with the lines."""
    if all(run.skip_reason for run in curator_runs.values()):
        _missing_dependency("; ".join(run.skip_reason for run in curator_runs.values()))
    for kind, run in curator_runs.items():
        if run.skip_reason:
            continue
        assert sorted(run.results) == sorted(CHECKS), (kind, run.stdout, run.diagnostics())
        any_failed = any(r is not None for r in run.results.values())
        assert run.returncode == (1 if any_failed else 0), (kind, run.returncode, run.diagnostics())


@pytest.mark.parametrize("check", CHECKS)
def test_curator_on_zookeeper(curator_runs, check):
    run = curator_runs["zookeeper"]
    _skip_if_unavailable(run)
    outcome = run.outcome(check)
    assert outcome == "PASS", (
        "the check %r fails against Apache ZooKeeper itself, so the check is wrong: %s\n%s"
        % (check, outcome, run.diagnostics(check)))


def _corrald_params():
    out = []
    for name in CHECKS:
        if name in CORRALD_BUGS:
            out.append(pytest.param(name, marks=pytest.mark.xfail(
                strict=True, reason="corrald bug: " + CORRALD_BUGS[name])))
        else:
            out.append(name)
    return out


@pytest.mark.parametrize("check", _corrald_params())
def test_curator_on_corrald(curator_runs, check):
    run = curator_runs["corrald"]
    _skip_if_unavailable(run)
    outcome = run.outcome(check)
    if outcome == "PASS":
        return
    zk = curator_runs["zookeeper"]
    if zk.skip_reason:
        verdict = "ZooKeeper was not run (%s)" % zk.skip_reason
    elif zk.outcome(check) == "PASS":
        verdict = "it PASSES against Apache ZooKeeper: a corrald bug"
    else:
        verdict = ("it fails against Apache ZooKeeper too (%s): the check is wrong"
                   % zk.outcome(check))
    pytest.fail("%s against corrald: %s\n%s\n%s" % (check, outcome, verdict, run.diagnostics(check)),
                pytrace=False)
