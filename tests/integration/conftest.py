"""pytest fixtures for integration tests (see harness.py for the servers).

Fixtures
--------
corrald            function-scoped fresh CorraldServer (binary from $CORRALD,
                   default build/corrald). Configure with the marker
                   ``@pytest.mark.server_config(cfg={...}, props={...})``:
                   cfg = extra zoo.cfg keys, props = -Dname=value flags.
corrald_factory    callable(cfg=None, props=None, **kw) -> started CorraldServer;
                   every server it made is stopped (and sanitizer-checked) at
                   teardown. For tests that need several servers or restarts.
zookeeper          Apache ZooKeeper 3.8, one JVM per distinct server_config per
                   test session (shared: use ``namespace`` for your paths and
                   close your sessions). ``server_config(fresh=True)`` gives the
                   test its own JVM instead.
zookeeper_factory  like corrald_factory, for the Java server.
both               ServerPair(reference=<ZooKeeper>, candidate=<corrald>) for
                   differential tests. ``CORRAL_DIFF_CANDIDATE=zookeeper`` makes
                   the candidate a second ZooKeeper (self-test of the
                   normalisation). Skipped if the JVM cannot start, except when
                   CI=true, where that is a failure.
namespace          a unique znode path for this test, e.g. '/test_foo-3f9a1c2e'
                   (not created; kazoo: ``client.ensure_path(namespace)``, or
                   use ``KazooClient(hosts=server.hosts + namespace)`` after
                   creating it).

Every server object has: .hosts ('127.0.0.1:port'), .address ((host, port)),
.port, .data_dir, .cfg_path, .log_path, .four_letter_word(cmd), .stop(),
.start(), .read_log(), .alive().

Environment: CORRALD (binary), CORRAL_SANITIZED=1 (ASan build: sanitizer
reports in the log fail the test), CI=true (no skipping for a missing JVM or
binary), CORRAL_DIFF_CANDIDATE (zookeeper|corrald), CORRAL_DIFF_ZXID
(offset|ordinal, see test_differential.py), CORRAL_JAVA (default
/usr/bin/java).
"""

import os
import sys
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import CorraldServer, ZooKeeperServer, ServerError, in_ci  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "server_config(cfg=None, props=None, fresh=False): extra zoo.cfg keys "
        "and -D properties for the servers of this test; fresh=True never "
        "shares a ZooKeeper JVM with other tests")


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def _failed(request):
    rep = getattr(request.node, "rep_call", None)
    return rep is None or rep.failed


def server_config(request):
    m = request.node.get_closest_marker("server_config")
    if m is None:
        return {}, {}, False
    kw = dict(m.kwargs)
    return dict(kw.get("cfg") or {}), dict(kw.get("props") or {}), bool(kw.get("fresh"))


def _freeze(d):
    return tuple(sorted((str(k), str(v)) for k, v in d.items()))


class ServerPool:
    """Long-lived servers shared across tests, keyed by (slot, kind, config)."""

    def __init__(self):
        self.servers = {}
        self.failed = {}

    def get(self, slot, kind, cfg, props):
        key = (slot, kind, _freeze(cfg), _freeze(props))
        if key in self.failed:
            raise ServerError(self.failed[key])
        srv = self.servers.get(key)
        if srv is not None and not srv.alive():
            # It died (or a test stopped it): say so, and start a new one.
            del self.servers[key]
            print("WARNING: shared %s was found dead (rc=%s); starting a new one\n%s"
                  % (srv.name, srv.proc and srv.proc.returncode, srv.log_tail(40)))
            srv.cleanup()
            srv = None
        if srv is None:
            srv = harness.make_server(kind, cfg=cfg, props=props,
                                      name="%s[%s]" % (kind, slot))
            try:
                srv.start()
            except ServerError as e:
                self.failed[key] = str(e)
                srv.cleanup()
                raise
            self.servers[key] = srv
        return srv

    def close(self):
        problems = []
        for srv in self.servers.values():
            srv.stop()
            problems += srv.problems()
            srv.cleanup()
        self.servers.clear()
        return problems


@pytest.fixture(scope="session")
def server_pool():
    pool = ServerPool()
    yield pool
    problems = pool.close()
    assert not problems, problems


def _missing_dependency(msg):
    """Skip locally, fail in CI."""
    if in_ci():
        pytest.fail(msg, pytrace=False)
    pytest.skip(msg)


class _Factory:
    def __init__(self, cls, request):
        self.cls = cls
        self.request = request
        self.servers = []

    def __call__(self, cfg=None, props=None, start=True, **kw):
        srv = self.cls(cfg=cfg, props=props, **kw)
        self.servers.append(srv)
        if start:
            srv.start()
        return srv

    def finish(self):
        problems = []
        for srv in self.servers:
            died = srv.proc is not None and srv.proc.poll() is not None
            rc = srv.proc.returncode if died else None
            srv.stop()
            if died and rc not in (0, None):
                problems.append("%s exited on its own with rc=%s during the test"
                                % (srv.name, rc))
            problems += srv.problems()
            if problems or _failed(self.request):
                print(srv.log_tail())
        for srv in self.servers:
            srv.cleanup()
        return problems


def _start_or_skip(make, what):
    try:
        return make()
    except ServerError as e:
        _missing_dependency("%s could not start: %s" % (what, e))


@pytest.fixture
def corrald_factory(request):
    if not CorraldServer.available():
        _missing_dependency("corrald binary not found at %s (run `make`, or set CORRALD)"
                            % harness.corrald_path())
    f = _Factory(CorraldServer, request)
    yield f
    problems = f.finish()
    if problems:
        pytest.fail("; ".join(problems), pytrace=False)


@pytest.fixture
def corrald(request, corrald_factory):
    cfg, props, _ = server_config(request)
    return corrald_factory(cfg=cfg, props=props)


@pytest.fixture
def zookeeper_factory(request):
    if not ZooKeeperServer.available():
        _missing_dependency("Apache ZooKeeper (Debian package `zookeeper`) is not installed")
    f = _Factory(ZooKeeperServer, request)
    yield f
    problems = f.finish()
    if problems:
        pytest.fail("; ".join(problems), pytrace=False)


@pytest.fixture
def zookeeper(request, server_pool, zookeeper_factory):
    cfg, props, fresh = server_config(request)
    if fresh:
        yield _start_or_skip(lambda: zookeeper_factory(cfg=cfg, props=props),
                             "Apache ZooKeeper")
        return
    srv = _start_or_skip(lambda: server_pool.get("shared", "zookeeper", cfg, props),
                         "Apache ZooKeeper")
    yield srv
    if _failed(request):
        print(srv.log_tail(60))


@pytest.fixture
def namespace(request):
    name = "".join(ch if ch.isalnum() or ch in "_-" else "_" for ch in request.node.name)
    return "/%s-%s" % (name[:80], uuid.uuid4().hex[:8])


class ServerPair:
    """The two servers of a differential test."""

    def __init__(self, reference, candidate, candidate_kind, shared_reference):
        self.reference = reference
        self.candidate = candidate
        self.candidate_kind = candidate_kind
        self.shared_reference = shared_reference

    @property
    def selftest(self):
        return self.candidate_kind == "zookeeper"

    def __iter__(self):
        return iter((("zookeeper", self.reference), (self.candidate_kind, self.candidate)))


def diff_candidate_kind():
    kind = os.environ.get("CORRAL_DIFF_CANDIDATE", "corrald").strip().lower()
    if kind not in ("corrald", "zookeeper"):
        raise ValueError("CORRAL_DIFF_CANDIDATE must be corrald or zookeeper, not %r" % kind)
    return kind


@pytest.fixture
def both(request, server_pool):
    """Reference ZooKeeper + candidate server for one differential test.

    The reference JVM is shared per configuration (slot "diff", separate from
    the `zookeeper` fixture's so that other suites' leftover sessions cannot
    add transactions behind our backs) unless the test is marked fresh. The
    candidate corrald is always fresh. In self-test mode the candidate is a
    second ZooKeeper, shared the same way in its own slot.
    """
    cfg, props, fresh = server_config(request)
    kind = diff_candidate_kind()
    if not ZooKeeperServer.available():
        _missing_dependency("Apache ZooKeeper (Debian package `zookeeper`) is not installed")
    if kind == "corrald" and not CorraldServer.available():
        _missing_dependency("corrald binary not found at %s (run `make`, or set CORRALD)"
                            % harness.corrald_path())
    own = []

    def start_ref(slot):
        if fresh:
            srv = ZooKeeperServer(cfg=cfg, props=props, name="zookeeper[%s-fresh]" % slot)
            own.append(srv)
            srv.start()
            return srv
        return server_pool.get(slot, "zookeeper", cfg, props)

    try:
        try:
            ref = start_ref("diff")
        except ServerError as e:
            _missing_dependency("Apache ZooKeeper could not start: %s" % e)
        if kind == "zookeeper":
            cand = start_ref("diff-candidate")
        else:
            cand = CorraldServer(cfg=cfg, props=props)
            own.append(cand)
            cand.start()
        pair = ServerPair(ref, cand, kind, shared_reference=not fresh)
        yield pair
    finally:
        problems = []
        for srv in own:
            died = srv.proc is not None and srv.proc.poll() is not None
            if died and srv.proc.returncode not in (0, None):
                problems.append("%s exited on its own with rc=%s during the test"
                                % (srv.name, srv.proc.returncode))
            srv.stop()
            problems += srv.problems()
            if problems or _failed(request):
                print(srv.log_tail(120))
            srv.cleanup()
        if problems:
            pytest.fail("; ".join(problems), pytrace=False)
