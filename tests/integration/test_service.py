"""corrald as a service: `corrald start|start-foreground|stop|restart|status|
print-cmd [zoo.cfg]` with zkServer.sh's semantics and messages, the systemd
readiness notification, and `make install DESTDIR=` into a temporary root.

Each test writes its own zoo.cfg on free 127.0.0.1 ports in a temporary
directory; every daemon a test starts is stopped by the PID in its pid file
(the finalizer SIGTERMs any that a failing test left behind)."""
import filecmp
import getpass
import os
import signal
import socket
import stat
import subprocess
import time

import pytest
from kazoo.client import KazooClient

import harness
from harness import corrald_path, free_port, four_letter_word, sanitized, SANITIZER_MARKERS

REPO = harness.REPO_ROOT


def running(pid):
    """The process exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


class Service:
    def __init__(self, root):
        self.root = str(root)
        self.port = free_port()
        self.data = os.path.join(self.root, "data")
        self.logs = os.path.join(self.root, "logs")
        self.cfg = os.path.join(self.root, "zoo.cfg")
        self.pid_file = os.path.join(self.data, "zookeeper_server.pid")
        self.out_file = os.path.join(self.logs, "zookeeper-%s-server-%s.out"
                                     % (getpass.getuser(), socket.gethostname()))
        self.env = dict(os.environ, ZOO_LOG_DIR=self.logs)
        for k in ("ZOOPIDFILE", "ZOOCFGDIR", "ZOOCFG", "NOTIFY_SOCKET"):
            self.env.pop(k, None)
        self.pids = set()
        with open(self.cfg, "w") as f:
            f.write("tickTime=2000\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n"
                    "admin.enableServer=false\n" % (self.data, self.port))

    def run(self, *args, env=None, timeout=60):
        r = subprocess.run([corrald_path()] + list(args), capture_output=True, text=True,
                           env=env or self.env, timeout=timeout, stdin=subprocess.DEVNULL)
        pid = self.pid()
        if pid:
            self.pids.add(pid)
        return r

    def pid(self, path=None):
        try:
            with open(path or self.pid_file) as f:
                return int(f.read())
        except (FileNotFoundError, ValueError):
            return None

    def cleanup(self):
        for pid in self.pids:
            if running(pid):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while any(running(p) for p in self.pids) and time.monotonic() < deadline:
            time.sleep(0.05)  # bounded wait for strays of a failed test

    def problems(self):
        if not sanitized() or not os.path.exists(self.out_file):
            return []
        with open(self.out_file, errors="replace") as f:
            text = f.read()
        return [m for m in SANITIZER_MARKERS if m in text]


@pytest.fixture
def svc(tmp_path):
    s = Service(tmp_path)
    yield s
    s.cleanup()
    assert not s.problems(), s.problems()


def not_running_msgs(s):
    return ("Client port found: %d. Client address: 127.0.0.1. Client SSL: false.\n"
            "Error contacting service. It is probably not running.\n" % s.port)


def test_lifecycle(svc):
    r = svc.run("status", svc.cfg)
    assert (r.returncode, r.stdout) == (1, not_running_msgs(svc))
    assert r.stderr == "Using config: %s\n" % svc.cfg

    r = svc.run("stop", svc.cfg)
    assert (r.returncode, r.stdout) == (
        0, "Stopping corrald ... no corrald to stop (could not find file %s)\n" % svc.pid_file)

    r = svc.run("start", svc.cfg)
    assert (r.returncode, r.stdout, r.stderr) == (
        0, "Starting corrald ... STARTED\n", "Using config: %s\n" % svc.cfg)
    with open(svc.pid_file) as f:
        text = f.read()
    assert text.isdigit()  # the pid, no newline, as zkServer.sh writes it
    pid = int(text)
    assert running(pid)
    assert os.path.basename(os.readlink("/proc/%d/exe" % pid)) == \
        os.path.basename(corrald_path())
    assert four_letter_word(svc.port, "ruok") == "imok"
    with open(svc.out_file) as f:
        assert "binding to port 127.0.0.1:%d" % svc.port in f.read()

    r = svc.run("start", svc.cfg)
    assert (r.returncode, r.stdout) == (
        1, "Starting corrald ... corrald already running as process %d.\n" % pid)

    r = svc.run("status", svc.cfg)
    assert (r.returncode, r.stdout) == (
        0, "Client port found: %d. Client address: 127.0.0.1. Client SSL: false.\n"
           "Mode: standalone\n" % svc.port)

    zk = KazooClient(hosts="127.0.0.1:%d" % svc.port)
    zk.start(timeout=10)
    zk.create("/kept", b"across restart")
    zk.stop()
    zk.close()

    r = svc.run("restart", svc.cfg)
    assert (r.returncode, r.stdout) == (
        0, "Stopping corrald ... STOPPED\nStarting corrald ... STARTED\n")
    assert not running(pid)  # stop waits for the exit
    pid2 = svc.pid()
    assert pid2 != pid and running(pid2)
    zk = KazooClient(hosts="127.0.0.1:%d" % svc.port)
    zk.start(timeout=10)
    assert zk.get("/kept")[0] == b"across restart"
    zk.stop()
    zk.close()

    r = svc.run("stop", svc.cfg)
    assert (r.returncode, r.stdout) == (0, "Stopping corrald ... STOPPED\n")
    assert not running(pid2)
    assert not os.path.exists(svc.pid_file)
    r = svc.run("status", svc.cfg)
    assert (r.returncode, r.stdout) == (1, not_running_msgs(svc))


def test_start_fails_when_the_server_cannot(svc):
    blocker = socket.socket()
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    blocker.bind(("127.0.0.1", svc.port))
    blocker.listen(1)
    try:
        r = svc.run("start", svc.cfg)
    finally:
        blocker.close()
    assert (r.returncode, r.stdout) == (1, "Starting corrald ... FAILED TO START\n")
    assert "corrald: the server exited; see %s\n" % svc.out_file in r.stderr
    assert not os.path.exists(svc.pid_file)
    with open(svc.out_file) as f:
        assert "cannot listen on 127.0.0.1:%d (clientPort): address already in use" % svc.port \
            in f.read()


def test_print_cmd(svc):
    r = svc.run("print-cmd", svc.cfg, "-Dzookeeper.snapCount=1000")
    exe = os.path.realpath(corrald_path())
    assert (r.returncode, r.stdout) == (
        0, '"%s" "%s" "-Dzookeeper.snapCount=1000" > "%s" 2>&1 < /dev/null\n'
           % (exe, svc.cfg, svc.out_file))


def test_stop_refuses_a_pid_that_is_not_corrald(svc):
    other = subprocess.Popen(["sleep", "60"])
    try:
        os.makedirs(svc.data)
        with open(svc.pid_file, "w") as f:
            f.write(str(other.pid))
        r = svc.run("stop", svc.cfg)
        assert (r.returncode, r.stdout) == (1, "Stopping corrald ... FAILED TO STOP\n")
        assert "process %d from %s is %s, not corrald; not signalling it" % (
            other.pid, svc.pid_file, os.path.realpath("/proc/%d/exe" % other.pid)) in r.stderr
        assert other.poll() is None
        assert os.path.exists(svc.pid_file)
    finally:
        other.kill()
        other.wait()


def test_stale_pid_file(svc):
    gone = subprocess.Popen(["true"])
    gone.wait()
    os.makedirs(svc.data)
    with open(svc.pid_file, "w") as f:
        f.write(str(gone.pid))
    r = svc.run("stop", svc.cfg)
    assert (r.returncode, r.stdout) == (0, "Stopping corrald ... STOPPED\n")
    assert "process %d was not running; removed %s" % (gone.pid, svc.pid_file) in r.stderr
    assert not os.path.exists(svc.pid_file)


def test_environment_selects_config_and_pid_file(svc):
    env = dict(svc.env, ZOOCFGDIR=svc.root, ZOOPIDFILE=os.path.join(svc.root, "run", "c.pid"))
    r = svc.run("start", env=env)
    assert (r.returncode, r.stdout) == (0, "Starting corrald ... STARTED\n")
    assert r.stderr == "Using config: %s\n" % svc.cfg
    pid = svc.pid(env["ZOOPIDFILE"])
    svc.pids.add(pid)
    assert running(pid) and not os.path.exists(svc.pid_file)
    r = svc.run("stop", "zoo.cfg", env=env)  # a bare name is looked up in ZOOCFGDIR
    assert (r.returncode, r.stdout) == (0, "Stopping corrald ... STOPPED\n")
    assert not running(pid)


def test_usage(svc):
    r = svc.run("start", svc.cfg, "other.cfg")
    assert r.returncode == 2
    assert r.stderr.startswith("Usage: corrald {start|start-foreground|stop|restart|status|"
                               "print-cmd} [zoo.cfg]")


def test_systemd_notify(svc):
    path = os.path.join(svc.root, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(15)
    env = dict(svc.env, NOTIFY_SOCKET=path)
    proc = subprocess.Popen([corrald_path(), "start-foreground", svc.cfg], env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    svc.pids.add(proc.pid)
    try:
        assert sock.recv(256) == b"READY=1\nSTATUS=serving"
        assert four_letter_word(svc.port, "ruok") == "imok"  # ready means serving
        proc.send_signal(signal.SIGTERM)
        assert sock.recv(256) == b"STOPPING=1"
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        sock.close()


# ---- make install ----------------------------------------------------------------------------


def make_install(dest, prefix):
    binary = corrald_path()
    build = os.path.dirname(binary)
    # PROGRAMS names the binary under test and -o keeps make from remaking
    # it: the test installs what was built, it builds nothing.
    return subprocess.run(["make", "-s", "-C", REPO, "-o", binary, "install",
                           "DESTDIR=%s" % dest, "PREFIX=%s" % prefix, "BUILD=%s" % build,
                           "PROGRAMS=%s" % binary],
                          capture_output=True, text=True, timeout=120)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_make_install(tmp_path):
    dest = str(tmp_path / "root")
    r = make_install(dest, "/usr/local")
    assert r.returncode == 0, r.stdout + r.stderr
    build = os.path.dirname(corrald_path())
    bindir = os.path.join(dest, "usr/local/bin")
    for prog in ("corrald", "corral", "corral-bench"):
        built = os.path.join(build, prog)
        installed = os.path.join(bindir, prog)
        assert os.path.exists(installed) == os.path.exists(built), prog
        if os.path.exists(built):
            assert mode(installed) == 0o755 and filecmp.cmp(built, installed, shallow=False)
    man8 = os.path.join(dest, "usr/local/share/man/man8/corrald.8")
    man1 = os.path.join(dest, "usr/local/share/man/man1/corral.1")
    for page in (man8, man1):
        assert mode(page) == 0o644
        g = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", page],
                           capture_output=True, text=True, env=dict(os.environ, LC_ALL="C.UTF-8"))
        assert (g.returncode, g.stderr) == (0, ""), page
    unit = os.path.join(dest, "usr/local/lib/systemd/system/corrald.service")
    assert mode(unit) == 0o644
    with open(unit) as f:
        text = f.read().splitlines()
    assert "ExecStart=/usr/local/bin/corrald /etc/corral/zoo.cfg" in text
    for line in ("Type=notify", "NoNewPrivileges=yes", "ProtectSystem=strict",
                 "ReadWritePaths=/var/lib/corral", "DynamicUser=yes"):
        assert line in text, line
    cfg = os.path.join(dest, "etc/corral/zoo.cfg")
    assert filecmp.cmp(cfg, os.path.join(REPO, "contrib/zoo.cfg"), shallow=False)

    # The sample configuration is valid for the installed server.
    p = subprocess.run([os.path.join(bindir, "corrald"), "print-cmd", cfg],
                       capture_output=True, text=True, timeout=30,
                       env=dict(os.environ, ZOO_LOG_DIR=str(tmp_path)))
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith('"')

    # A second install keeps the operator's zoo.cfg.
    with open(cfg, "a") as f:
        f.write("maxClientCnxns=7\n")
    r = make_install(dest, "/usr/local")
    assert r.returncode == 0
    assert "keeping %s" % cfg in r.stdout
    with open(cfg) as f:
        assert f.read().endswith("maxClientCnxns=7\n")


def test_make_install_prefix_usr(tmp_path):
    dest = str(tmp_path / "root")
    r = make_install(dest, "/usr")
    assert r.returncode == 0, r.stdout + r.stderr
    assert os.path.exists(os.path.join(dest, "usr/bin/corrald"))
    assert os.path.exists(os.path.join(dest, "usr/share/man/man8/corrald.8"))
    with open(os.path.join(dest, "usr/lib/systemd/system/corrald.service")) as f:
        assert "ExecStart=/usr/bin/corrald /etc/corral/zoo.cfg\n" in f.read()
