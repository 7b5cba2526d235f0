"""Start and stop coordination servers on loopback for integration tests.

Two servers share one interface:

* ``CorraldServer`` runs our binary (env ``CORRALD``, default
  ``<repo>/build/corrald``) as ``corrald <tmp>/zoo.cfg [-Dname=value...]``.
* ``ZooKeeperServer`` runs Apache ZooKeeper 3.8 from the Debian package in
  the foreground (``java ... org.apache.zookeeper.server.ZooKeeperServerMain
  <tmp>/zoo.cfg``), the oracle for differential tests.

Both write a zoo.cfg into their own temporary directory, pick a free port on
127.0.0.1, send stdout+stderr to ``<tmp>/server.log``, and are ready when the
process owns the listening socket and answers ``ruok`` with ``imok`` (polled
with a bounded deadline, never a fixed sleep). ``stop()`` sends SIGTERM to the
PID, waits, and SIGKILLs after a bound.

With ``CORRAL_SANITIZED=1`` the corrald binary is an ASan/UBSan build:
``problems()`` then reports sanitizer reports found in the log, and a server
that had to be SIGKILLed (so could not run its leak check) is a problem too.

Only 127.0.0.1 is ever used.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

HOST = "127.0.0.1"
REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_CORRALD = os.path.join(REPO_ROOT, "build", "corrald")

# The Debian package's zookeeper.jar carries its dependencies in its
# manifest Class-Path; we add a log4j binding so the server log is readable.
ZK_JARS = [
    "/usr/share/java/zookeeper.jar",
    "/usr/share/java/slf4j-log4j12.jar",
    "/usr/share/java/log4j-1.2.jar",
]
ZK_MAIN = "org.apache.zookeeper.server.ZooKeeperServerMain"
JAVA = os.environ.get("CORRAL_JAVA", "/usr/bin/java")

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer")


class ServerError(Exception):
    """A server failed to start or misbehaved at stop."""


def in_ci():
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def sanitized():
    return os.environ.get("CORRAL_SANITIZED", "") == "1"


def corrald_path():
    return os.path.abspath(os.environ.get("CORRALD") or DEFAULT_CORRALD)


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((HOST, 0))
        return s.getsockname()[1]
    finally:
        s.close()


def four_letter_word(port, cmd, timeout=2.0, host=HOST):
    """Send a four-letter word and read until EOF. Returns the text."""
    deadline = time.monotonic() + timeout
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(cmd.encode("ascii"))
        out = b""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            s.settimeout(left)
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
    return out.decode("utf-8", "replace")


def _listening_inodes(port):
    """Inodes of sockets in LISTEN state on `port` (IPv4 or IPv6 tables;
    the JVM binds 127.0.0.1 through an IPv6 socket)."""
    inodes = set()
    suffix = ":%04X" % port
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    if parts[1].endswith(suffix) and parts[3] == "0A":
                        inodes.add(parts[9])
        except OSError:
            pass
    return inodes


def _process_tree(pid):
    """`pid` and its descendants (a wrapper script may run the server)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def _pid_owns_listener(pid, port):
    """True if process `pid` (or a descendant) holds the socket listening on
    `port`.

    Guards against another program (say, a colleague's test run) having
    grabbed the port we picked: ruok would then be answered by a stranger.
    """
    inodes = _listening_inodes(port)
    if not inodes:
        return False
    for p in _process_tree(pid):
        fd_dir = "/proc/%d/fd" % p
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                link = os.readlink(os.path.join(fd_dir, fd))
            except OSError:
                continue
            if link.startswith("socket:[") and link[8:-1] in inodes:
                return True
    return False


class _Server:
    """Common lifecycle: write config, spawn, wait for ruok, stop by PID."""

    kind = "server"
    start_timeout = 15.0
    stop_timeout = 10.0

    def __init__(self, cfg=None, props=None, tick_time=2000, max_client_cnxns=0,
                 name=None):
        """cfg: extra zoo.cfg keys; props: -D properties (name -> value)."""
        self.extra_cfg = dict(cfg or {})
        self.props = dict(props or {})
        self.tick_time = tick_time
        self.max_client_cnxns = max_client_cnxns
        self.name = name or self.kind
        self.tmpdir = None
        self.port = None
        self.proc = None
        self.log_path = None
        self.killed = False
        self.exit_code = None
        self._log_file = None

    # -- public -----------------------------------------------------------
    @property
    def address(self):
        return (HOST, self.port)

    @property
    def hosts(self):
        """Connection string for kazoo and friends: '127.0.0.1:port'."""
        return "%s:%d" % (HOST, self.port)

    @property
    def data_dir(self):
        return os.path.join(self.tmpdir, "data")

    @property
    def cfg_path(self):
        return os.path.join(self.tmpdir, "zoo.cfg")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self, attempts=3):
        last = None
        for _ in range(attempts):
            try:
                self._start_once()
                return self
            except _PortClash as e:  # somebody took our port: pick another
                last = e
                self._cleanup_proc()
        raise ServerError("%s: could not start after %d attempts: %s\n%s"
                          % (self.name, attempts, last, self.log_tail()))

    def stop(self):
        """SIGTERM, wait, SIGKILL after a bound. Idempotent."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                self.killed = True
                try:  # the whole process group: a wrapper may have children
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    self.proc.kill()
                self.proc.wait(timeout=10)
        self.exit_code = self.proc.returncode
        self.proc = None
        if self._log_file:
            self._log_file.close()
            self._log_file = None

    def cleanup(self):
        """Stop and remove the temporary directory."""
        self.stop()
        if os.environ.get("CORRAL_KEEP_DIRS"):
            return  # debugging: leave the data dir for inspection
        if self.tmpdir and os.path.isdir(self.tmpdir):
            shutil.rmtree(self.tmpdir, ignore_errors=True)

    def read_log(self):
        if not self.log_path or not os.path.exists(self.log_path):
            return ""
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def log_tail(self, lines=200):
        text = self.read_log()
        tail = text.splitlines()[-lines:]
        return "----- %s log (%s) -----\n%s\n----- end of log -----" % (
            self.name, self.log_path, "\n".join(tail))

    def problems(self):
        """Things that should fail the test, found at or after stop()."""
        return []

    def ruok(self, timeout=1.0):
        try:
            return four_letter_word(self.port, "ruok", timeout) == "imok"
        except OSError:
            return False

    def serving(self, timeout=1.0):
        try:
            out = four_letter_word(self.port, "srvr", timeout)
        except OSError:
            return False
        return "not currently serving" not in out

    def four_letter_word(self, cmd, timeout=2.0):
        return four_letter_word(self.port, cmd, timeout)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def __repr__(self):
        return "<%s %s pid=%s>" % (self.name, self.hosts if self.port else "-",
                                   self.proc.pid if self.proc else None)

    # -- subclass hooks ---------------------------------------------------
    def command(self):
        raise NotImplementedError

    def env(self):
        return dict(os.environ)

    # -- internals ----------------------------------------------------------
    def cfg_lines(self):
        lines = {
            "tickTime": str(self.tick_time),
            "dataDir": self.data_dir,
            "clientPort": str(self.port),
            "clientPortAddress": HOST,
            "maxClientCnxns": str(self.max_client_cnxns),
            "4lw.commands.whitelist": "*",
            "admin.enableServer": "false",
        }
        for k, v in self.extra_cfg.items():
            lines[k] = str(v)
        return ["%s=%s" % kv for kv in lines.items()]

    def _start_once(self):
        if self.tmpdir is None:
            self.tmpdir = tempfile.mkdtemp(prefix="corral-%s-" % self.kind)
        os.makedirs(self.data_dir, exist_ok=True)
        self.port = free_port()
        with open(self.cfg_path, "w") as f:
            f.write("\n".join(self.cfg_lines()) + "\n")
        self.log_path = os.path.join(self.tmpdir, "server.log")
        self._log_file = open(self.log_path, "ab")
        self._log_file.write(("=== starting %s on port %d: %s\n" % (
            self.name, self.port, " ".join(self.command()))).encode())
        self._log_file.flush()
        self.killed = False
        self.proc = subprocess.Popen(
            self.command(), cwd=self.tmpdir, stdin=subprocess.DEVNULL,
            stdout=self._log_file, stderr=subprocess.STDOUT, env=self.env(),
            start_new_session=True)
        deadline = time.monotonic() + self.start_timeout
        delay = 0.01
        while True:
            if self.proc.poll() is not None:
                rc = self.proc.returncode
                log = self.read_log()
                if "Address already in use" in log.split("=== starting")[-1]:
                    raise _PortClash("port %d in use" % self.port)
                self.proc = None
                raise ServerError("%s exited during start-up (rc=%s)\n%s"
                                  % (self.name, rc, self.log_tail()))
            if _pid_owns_listener(self.proc.pid, self.port):
                # ruok only says the process answers; srvr also says whether
                # it serves requests yet (ZooKeeper answers imok earlier).
                if self.ruok(timeout=max(0.2, min(2.0, deadline - time.monotonic()))):
                    if self.serving():
                        return
            if time.monotonic() > deadline:
                self.stop()
                raise ServerError("%s did not answer ruok within %.0fs\n%s"
                                  % (self.name, self.start_timeout, self.log_tail()))
            time.sleep(delay)  # polling interval, not a wait for an event
            delay = min(delay * 2, 0.1)

    def _cleanup_proc(self):
        try:
            self.stop()
        except Exception:
            pass


class _PortClash(Exception):
    pass


class CorraldServer(_Server):
    kind = "corrald"
    start_timeout = 10.0
    # ASan builds run leak checks at exit: give them time.
    stop_timeout = 20.0

    def __init__(self, *args, binary=None, extra_env=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.binary = binary or corrald_path()
        self.extra_env = dict(extra_env or {})

    @staticmethod
    def available(binary=None):
        b = binary or corrald_path()
        return os.path.isfile(b) and os.access(b, os.X_OK)

    def command(self):
        return [self.binary, self.cfg_path] + [
            "-D%s=%s" % (k, v) for k, v in self.props.items()]

    def env(self):
        env = dict(os.environ)
        if sanitized():
            env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
            env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
            if "LD_PRELOAD" in self.extra_env:  # a test shim ahead of the ASan runtime
                env["ASAN_OPTIONS"] += ":verify_asan_link_order=0"
        env.update(self.extra_env)
        return env

    def _start_once(self):
        if not self.available(self.binary):
            raise ServerError("corrald binary not found or not executable: %s "
                              "(build it with `make`, or set CORRALD)" % self.binary)
        super()._start_once()

    def problems(self):
        out = []
        log = self.read_log()
        if sanitized():
            for m in SANITIZER_MARKERS:
                if m in log:
                    out.append("sanitizer report in server log: %r" % m)
            if self.killed:
                out.append("server ignored SIGTERM for %.0fs and was SIGKILLed "
                           "(no leak check possible)" % self.stop_timeout)
        return out


class ZooKeeperServer(_Server):
    kind = "zookeeper"
    start_timeout = 30.0
    stop_timeout = 10.0

    @staticmethod
    def available():
        return os.access(JAVA, os.X_OK) and all(os.path.exists(j) for j in ZK_JARS[:1])

    def command(self):
        props = {
            "log4j.configuration": "file:" + os.path.join(self.tmpdir, "log4j.properties"),
            "zookeeper.admin.enableServer": "false",
            "zookeeper.jmx.log4j.disable": "true",
        }
        props.update(self.props)
        return ([JAVA, "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                 "-Xshare:auto", "-cp", ":".join(ZK_JARS)]
                + ["-D%s=%s" % kv for kv in props.items()]
                + [ZK_MAIN, self.cfg_path])

    def _start_once(self):
        if not self.available():
            raise ServerError("Apache ZooKeeper not installed (%s, %s)" % (JAVA, ZK_JARS[0]))
        if self.tmpdir is None:
            self.tmpdir = tempfile.mkdtemp(prefix="corral-%s-" % self.kind)
        with open(os.path.join(self.tmpdir, "log4j.properties"), "w") as f:
            f.write("log4j.rootLogger=INFO, CONSOLE\n"
                    "log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender\n"
                    "log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout\n"
                    "log4j.appender.CONSOLE.layout.ConversionPattern="
                    "%d{ISO8601} %-5p [%t:%C{1}@%L] - %m%n\n")
        super()._start_once()


SERVER_KINDS = {"corrald": CorraldServer, "zookeeper": ZooKeeperServer}


def make_server(kind, **kwargs):
    return SERVER_KINDS[kind](**kwargs)
