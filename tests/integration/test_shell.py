"""The `corral` shell against zkCli.sh (Apache ZooKeeper 3.8), the oracle.

(a) Scripted comparison: one command script is fed on standard input to
    zkCli.sh (one JVM per script) and then to `corral`, both against the same
    corrald. The script works under its own namespace and removes it at the
    end, so both runs start from the same tree. stdout and stderr are
    compared separately after masking what legitimately differs (dates,
    zxids become offsets from the run's first zxid, session ids, the version
    line). Watch events are compared as their own ordered list, because
    zkCli prints them from another thread and they may land a line earlier
    or later. Every zkCli 3.8 command appears with success and failure cases.
    A few one-shot invocations compare exit codes.
(b) Interactive: corral under tmux (send-keys / capture-pane): prompt,
    history recall, path completion, Ctrl-C, a watch event printed while the
    prompt is idle, Ctrl-D, the history file.
(c) corral's own improvements over zkCli are checked on their own: the
    commands zkCli 3.8 lacks (rmr, ls2, help), errors where zkCli dies of an
    exception, exit codes where zkCli says 0 after an error, and the message
    when no server answers.
(d) The session survives a corrald restart (durable sessions): the shell,
    behind a TCP proxy that keeps its address, re-attaches and re-registers
    its watches. (Moving between servers of a list is covered by the client
    library's C test, tests/unit/test_client_reconnect.c.)

Deliberate differences from zkCli.sh 3.8 (kept out of the scripted
comparison, checked in (c) where they are observable):
  - rmr, ls2 and help work (zkCli 3.8: "Command not found"); help prints the
    usage to stderr and exits 0.
  - exit status 1 after "Not connected", setquota's argument errors, a failed
    sync and a failed deleteall (zkCli: 0); 2 for corral's own bad options.
  - errors instead of a Java stack trace: -v/-b with a non-number, redo with
    a non-number, addWatch with an invalid path, connect with a bad host.
  - "delete path version" honours the version (zkCli 3.8 ignores it).
  - addWatch without -m is always PERSISTENT_RECURSIVE (zkCli keeps the
    previous -m).
  - getEphemerals lists are sorted (zkCli: server order).
  - the version line names corral; the terminal header says "JLine support
    is enabled" (line editing is there), stdin mode says "disabled" as zkCli.
  - end of input and one-shot commands close the session (zkCli lets it
    expire); watch events redraw the prompt; Ctrl-C clears the line.
  - no server: "Unable to connect to <hosts>: <why>" and exit 1, after one
    refusal from every host or -timeout ms of silence (zkCli: ConnectionLoss
    or a hang for the session timeout).

Processes are started by this file and stopped by PID; only 127.0.0.1 is
used; waits poll for an expected state with a deadline, never fixed sleeps.
"""

import difflib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid

import pytest

import harness

ZKCLI = "/usr/share/zookeeper/bin/zkCli.sh"
ZKCLI_TIMEOUT = 120
CORRAL_TIMEOUT = 60


def corral_path():
    """$CORRAL, else the corral next to the corrald under test (an ASan
    build dir may hold only corrald), else build/corral."""
    env = os.environ.get("CORRAL")
    if env:
        return os.path.abspath(env)
    sibling = os.path.join(os.path.dirname(harness.corrald_path()), "corral")
    if os.access(sibling, os.X_OK):
        return sibling
    return os.path.join(harness.REPO_ROOT, "build", "corral")


def need_corral():
    if not os.access(corral_path(), os.X_OK):
        msg = "corral binary not found at %s (run `make`, or set CORRAL)" % corral_path()
        if harness.in_ci():
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)


def need_zkcli():
    if not (os.access(ZKCLI, os.X_OK) and os.access(harness.JAVA, os.X_OK)):
        msg = "zkCli.sh (Debian package `zookeeper`) is not installed"
        if harness.in_ci():
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)


def child_env():
    env = dict(os.environ)
    # Same clock zone and charset for the JVM and for corral.
    env["TZ"] = "UTC"
    env["LC_ALL"] = "C.UTF-8"
    env["LANG"] = "C.UTF-8"
    env.pop("JAVA_TOOL_OPTIONS", None)
    return env


def run(argv, stdin_text=None, timeout=CORRAL_TIMEOUT, env=None):
    """Run a client to completion; returns (rc, stdout, stderr)."""
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE if stdin_text is not None else
                            subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env or child_env(),
                            start_new_session=True)
    try:
        out, err = proc.communicate(stdin_text.encode() if stdin_text is not None else None,
                                    timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise AssertionError("%s did not finish within %ss" % (argv[0], timeout))
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def zkcli(server, stdin_text=None, args=()):
    rc, out, err = run([ZKCLI, "-server", server] + list(args), stdin_text, ZKCLI_TIMEOUT)
    # The JVM's own noise (logging backend) is not zkCli output.
    err = "".join(l for l in err.splitlines(True) if not l.startswith("SLF4J:"))
    return rc, out, err


def corral(server, stdin_text=None, args=(), timeout=CORRAL_TIMEOUT):
    return run([corral_path(), "-server", server] + list(args), stdin_text, timeout)


# ---- normalisation -----------------------------------------------------------------------

DATE_RE = re.compile(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|"
                     r"Oct|Nov|Dec) \d\d \d\d:\d\d:\d\d \S+ \d{4}\b")
ZXID_RE = re.compile(r"^(cZxid|mZxid|pZxid) = 0x([0-9a-f]+)$")
OWNER_RE = re.compile(r"^ephemeralOwner = 0x([0-9a-f]+)$")


def split_events(text):
    """Remove the WATCHER:: blocks (each line printed after an empty line)
    from the output; return (remaining lines, event lines)."""
    lines = text.split("\n")
    rest, events = [], []
    join_next = False
    for line in lines:
        if line == "WATCHER::" or line.startswith("WatchedEvent "):
            # zkCli's event thread can print in the middle of a list the main
            # thread is printing ("[a, b, " WATCHER... "c]"): glue it back.
            if line == "WATCHER::" and rest and rest[-1].endswith(", "):
                join_next = True
            if rest and rest[-1] == "":
                rest.pop()
            if line != "WATCHER::":
                events.append(line)
            continue
        if join_next and line != "":
            rest[-1] += line
            join_next = False
            continue
        rest.append(line)
    return rest, events


def normalise(lines):
    """Mask what may differ between two runs on the same server."""
    out = []
    zbase = None
    sessions = {}
    for line in lines:
        line = DATE_RE.sub("DATE", line)
        m = ZXID_RE.match(line)
        if m:
            v = int(m.group(2), 16)
            if v == 0:
                line = "%s = 0x0" % m.group(1)
            else:
                if zbase is None:
                    zbase = v
                line = "%s = Z%+d" % (m.group(1), v - zbase)
        m = OWNER_RE.match(line)
        if m and m.group(1) != "0":
            sid = sessions.setdefault(m.group(1), "S%d" % (len(sessions) + 1))
            line = "ephemeralOwner = %s" % sid
        if line.startswith("ZooKeeper CLI version: "):
            line = "ZooKeeper CLI version: VERSION"
        out.append(line)
    return out


CONNECTED_EVENT = "WatchedEvent state:SyncConnected type:None path:null"


def compare(name, ref, cand, racy_connect=False):
    """Assert two (rc, out, err) results match after normalisation.
    racy_connect: zkCli may exit before its event thread prints the first
    SyncConnected (one-shot mode), so that event is not compared."""
    ref_out, ref_ev = split_events(ref[1])
    cand_out, cand_ev = split_events(cand[1])
    if racy_connect:
        ref_ev = [e for e in ref_ev if e != CONNECTED_EVENT]
        cand_ev = [e for e in cand_ev if e != CONNECTED_EVENT]
    problems = []
    for what, a, b in (("stdout", normalise(ref_out), normalise(cand_out)),
                       ("stderr", normalise(ref[2].split("\n")), normalise(cand[2].split("\n"))),
                       ("watch events", ref_ev, cand_ev)):
        if a != b:
            diff = "\n".join(difflib.unified_diff(a, b, "zkCli.sh", "corral", lineterm="", n=2))
            problems.append("%s: %s differs:\n%s" % (name, what, diff))
    if ref[0] != cand[0]:
        problems.append("%s: exit code zkCli.sh=%s corral=%s" % (name, ref[0], cand[0]))
    assert not problems, "\n\n".join(problems)


# ---- (a) scripted comparison ---------------------------------------------------------------

MAIN_SCRIPT = r"""
create $NS ns
create $NS/a hello
create $NS/a again
create $NS/b
create -s $NS/b/seq- one
create -s $NS/b/seq- two
create -e $NS/eph e
create -s -e $NS/sq- x
create -c $NS/cont
create -t 100 $NS/ttl
create -t abc $NS/ttl
create -t 0 $NS/ttl
create -e -t 5 $NS/ttl
create -c -t 5 $NS/ttl
create -c -s $NS/x
create $NS/nope/x
create $NS/eph/child
create relative
create $NS/a/../b
create $NS/trail/
create -s $NS/b/
create $NS/q "quoted data"
create $NS/q2 'single quoted'
create $NS/empty ""
create $NS/acl x world:anyone:r
create $NS/badacl x foo
create $NS/badacl2 x foo:bar:cdrwa
create
create -x $NS/y
get $NS/a
get -s $NS/a
get $NS/b
get $NS/q
get $NS/q2
get $NS/empty
get -s $NS/cont
get $NS/missing
get relative
get
get -z $NS/a
get -sw $NS/a
stat $NS/a
stat $NS/missing
stat $NS/eph
stat
set $NS/a world
set -s $NS/a world2
set -v 2 $NS/a v3
set -v 9 $NS/a v4
set $NS/missing x
set $NS/a
set -v
set -s -v 3 $NS/a "two words"
get $NS/a
ls $NS
ls -s $NS/b
ls -R $NS
ls $NS/missing
ls -R $NS/missing
ls
ls relative
ls -? $NS/b
delete $NS/b
delete -v 9 $NS/a
delete $NS/missing
delete -v 4 $NS/a
delete
delete relative
getAcl $NS/acl
getAcl -s $NS/acl
getAcl $NS/missing
getAcl
setAcl $NS/acl world:anyone:cdrwa
setAcl -s $NS/acl world:anyone:cdrwa
setAcl -v 9 $NS/acl world:anyone:r
setAcl $NS/acl foo
setAcl $NS/acl ip:127.0.0.1:cdrwa,world:anyone:r
getAcl $NS/acl
setAcl $NS/missing world:anyone:r
setAcl -R $NS/b world:anyone:cdrwa
getAcl $NS/b/seq-0000000001
setAcl $NS/acl
sync $NS
sync $NS/missing
sync relative
sync
getAllChildrenNumber $NS
getAllChildrenNumber $NS/b
getAllChildrenNumber $NS/missing
getAllChildrenNumber
getEphemerals $NS/eph
getEphemerals $NS/zz
getEphemerals relative
whoami
addauth digest user:pass
whoami
create $NS/secret s auth::cdrwa
getAcl $NS/secret
addauth
version
config
config -s
config -c
reconfig
reconfig -add server.5=127.0.0.1:1234:1235;1236
reconfig -members server.1=x -add server.2=y
reconfig -file f -members server.1=x
reconfig -v zz -add server.2=y
printwatches
get -w $NS/q
set $NS/q changed
stat -w $NS/q
set $NS/q changed2
ls -w $NS/b
create $NS/b/c1
stat -w $NS/later
create $NS/later l
get -w $NS/later
delete $NS/later
sync $NS
getAllChildrenNumber $NS
printwatches off
printwatches
get -w $NS/q
set $NS/q silent
sync $NS
getAllChildrenNumber $NS
printwatches on
addWatch $NS/pw
create $NS/pw x
create $NS/pw/c y
set $NS/pw/c z
addWatch -m PERSISTENT $NS/pw2
create $NS/pw2 x
create $NS/pw2/c x
addWatch -m persistent_recursive $NS/pw3
addWatch -m bogus $NS/pw
addWatch
removewatches $NS/pw
removewatches $NS/pw
removewatches -d $NS/pw2
removewatches $NS/pw2
get -w $NS/q
removewatches -c $NS/q
removewatches -d $NS/q
ls -w $NS/b
removewatches -c $NS/b
removewatches -l $NS/pw3
removewatches
removewatches relative
setquota -n 5 $NS/b
listquota $NS/b
setquota -b 100 $NS/b
setquota -N 10 $NS/b
setquota -B 1000 $NS/b
listquota $NS/b
setquota -n 1 $NS/b
setquota -n 1 $NS/b/seq-0000000000
setquota -n 1 $NS
setquota -n 0 $NS/b
setquota -b -1 $NS/b
setquota -n abc $NS/b
setquota $NS/b
setquota -n 1 -b 2 $NS/b
setquota -n 1 /zookeeper/quota/x
setquota -n 1 $NS/missing
setquota -n 1 relative
delquota -n $NS/b
listquota $NS/b
delquota -B $NS/b
listquota $NS/b
delquota -n -b $NS/b
delquota $NS/b
listquota $NS/b
delquota $NS/b
listquota $NS/missing
delquota
listquota
history
redo 3
redo 999
redo
bogus_command
   
deleteall -b 2 $NS/b
deleteall $NS/missing
deleteall -b x $NS
deleteall relative
deleteall
close
ls $NS
history
connect $HOST
ls $NS
addauth digest user:pass
deleteall $NS
ls $NS
quit
"""


def script_text(script, ns, host):
    return "\n".join(l.replace("$NS", ns).replace("$HOST", host)
                     for l in script.strip("\n").split("\n")) + "\n"


def assert_gone(server, ns):
    rc, out, err = corral(server.hosts, args=["stat", ns])
    assert "Node does not exist: %s" % ns in err, (out, err)


def test_scripted_session_matches_zkcli(corrald):
    need_corral()
    need_zkcli()
    ns = "/shell-%s" % uuid.uuid4().hex[:8]
    text = script_text(MAIN_SCRIPT, ns, corrald.hosts)
    ref = zkcli(corrald.hosts, text)
    assert "Created %s" % ns in ref[2], ref
    assert_gone(corrald, ns)
    cand = corral(corrald.hosts, text)
    assert_gone(corrald, ns)
    compare("main script", ref, cand)


TTL_SCRIPT = r"""
create $NS ns
create -t 500000 $NS/ttl x
create -t 500000 -s $NS/ttlseq- x
stat $NS/ttl
ls $NS
deleteall $NS
"""


@pytest.mark.server_config(props={"zookeeper.extendedTypesEnabled": "true"})
def test_ttl_nodes_match_zkcli(corrald):
    need_corral()
    need_zkcli()
    ns = "/shell-ttl-%s" % uuid.uuid4().hex[:8]
    text = script_text(TTL_SCRIPT, ns, corrald.hosts)
    ref = zkcli(corrald.hosts, text)
    cand = corral(corrald.hosts, text)
    compare("ttl script", ref, cand)


ONE_SHOT = [
    ["ls", "/"],
    ["get", "/shell-missing-node"],
    ["create", "/"],
    ["stat", "/zookeeper"],
    ["bogus"],
    ["ls"],
    ["set", "-v", "7", "/zookeeper", "x"],
    ["getAllChildrenNumber", "/zookeeper"],
]


def test_one_shot_output_and_exit_codes_match_zkcli(corrald):
    need_corral()
    need_zkcli()
    for argv in ONE_SHOT:
        ref = zkcli(corrald.hosts, args=argv)
        cand = corral(corrald.hosts, args=argv)
        compare("one-shot %s" % " ".join(argv), ref, cand, racy_connect=True)


def test_stdin_exit_code_is_the_last_commands(corrald):
    need_corral()
    need_zkcli()
    for text in ("get /shell-missing\nls /\n", "ls /\nget /shell-missing\n"):
        ref = zkcli(corrald.hosts, text)
        cand = corral(corrald.hosts, text)
        compare("stdin %r" % text, ref, cand)


# ---- (c) corral's improvements ----------------------------------------------------------------


def test_commands_zkcli_38_lacks(corrald):
    need_corral()
    ns = "/shell-extra-%s" % uuid.uuid4().hex[:8]
    text = script_text("create $NS x\ncreate $NS/a y\nls2 $NS\nrmr $NS\nls $NS\nhelp\n",
                       ns, corrald.hosts)
    rc, out, err = corral(corrald.hosts, text)
    assert "'ls2' has been deprecated. Please use 'ls [-s] path' instead." in err
    assert "[a]\ncZxid = 0x" in out
    assert "numChildren = 1" in out
    assert "Node does not exist: %s" % ns in err  # rmr removed the subtree
    assert "\tls [-s] [-w] [-R] path\n" in err     # help: the usage, no error
    assert "Command not found" not in err
    assert rc == 0


def test_errors_where_zkcli_dies(corrald):
    need_corral()
    text = "set -v abc /zookeeper x\ndelete -v x /nothing\nredo abc\naddWatch relative\nls /\n"
    rc, out, err = corral(corrald.hosts, text)
    assert err.count("-v argument must be an int value") == 2
    assert "Command index out of range" in err
    assert "Path must start with / character" in err
    assert "[zookeeper]" in out and rc == 0


def test_exit_codes_where_zkcli_says_zero(corrald):
    need_corral()
    for argv, text in ((["setquota", "-n", "0", "/zookeeper"],
                        "the num quota must be greater than zero"),
                       (["setquota", "-n", "1", "/zookeeper/quota/x"],
                        "cannot set a quota under the path: /zookeeper/quota"),
                       (["sync", "relative"], "Path must start with / character")):
        rc, out, err = corral(corrald.hosts, args=argv)
        assert text in err, (argv, out, err)
        assert rc == 1, (argv, rc)
    rc, out, err = corral(corrald.hosts, "close\nls /\n")
    assert out.rstrip().endswith("Not connected") and rc == 1


def test_unreachable_server_fails_fast_with_a_message():
    need_corral()
    port = harness.free_port()  # nothing listens there
    host = "127.0.0.1:%d" % port
    t0 = time.monotonic()
    rc, out, err = corral(host, args=["ls", "/"], timeout=30)
    assert rc == 1
    assert "Unable to connect to %s" % host in err, err
    assert "connection refused" in err.lower(), err
    assert time.monotonic() - t0 < 10


def test_silent_server_times_out_with_a_message():
    """A server that accepts but never answers: zkCli.sh hangs for the
    session timeout and more; corral gives up after -timeout."""
    need_corral()
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(4)
    host = "127.0.0.1:%d" % lsock.getsockname()[1]
    try:
        rc, out, err = corral(host, args=["-timeout", "1500", "ls", "/"], timeout=30)
    finally:
        lsock.close()
    assert rc == 1
    assert "Unable to connect to %s" % host in err, err


def test_usage_and_bad_options():
    need_corral()
    rc, out, err = run([corral_path(), "-h"])
    assert rc == 0 and out.startswith("usage: corral")
    rc, out, err = run([corral_path(), "-timeout", "abc"])
    assert rc == 2 and "invalid -timeout" in err
    rc, out, err = run([corral_path(), "-server"])
    assert rc == 2 and "no argument found for option -server" in err


# ---- the session survives a server restart --------------------------------------------------------


class Proxy:
    """A TCP forwarder on a fixed port, so that clients keep their address
    while the server behind it restarts on another port (the harness picks
    a new port at each start)."""

    def __init__(self, target_port):
        import threading
        self.threading = threading
        self.target = target_port
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(16)
        self.port = self.lsock.getsockname()[1]
        self.conns = []
        self.lock = threading.Lock()
        self.closed = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            try:
                u = socket.create_connection(("127.0.0.1", self.target), timeout=5)
                u.settimeout(None)
            except OSError:
                c.close()
                continue
            with self.lock:
                self.conns += [c, u]
            for a, b in ((c, u), (u, c)):
                self.threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(a, b):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                b.sendall(d)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def drop(self):
        with self.lock:
            conns, self.conns = self.conns, []
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def close(self):
        self.lsock.close()
        self.drop()


class Reader:
    """Collects a child's stdout and stderr from background threads."""

    def __init__(self, proc):
        import threading
        self.proc = proc
        self.out = {"out": b"", "err": b""}
        self.lock = threading.Lock()
        for name, f in (("out", proc.stdout), ("err", proc.stderr)):
            threading.Thread(target=self._read, args=(name, f), daemon=True).start()

    def _read(self, name, f):
        while True:
            d = f.read1(65536) if hasattr(f, "read1") else f.read(1)
            if not d:
                return
            with self.lock:
                self.out[name] += d

    def text(self, name):
        with self.lock:
            return self.out[name].decode("utf-8", "replace")

    def wait_for(self, name, needle, timeout=15.0):
        deadline = time.monotonic() + timeout
        while needle not in self.text(name):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise AssertionError("no %r in %s:\n%s\n%s" % (needle, name, self.text("out"),
                                                                  self.text("err")))
            time.sleep(0.02)  # polling the collected output


def test_session_survives_server_restart(corrald):
    """With durability, corrald keeps sessions across a restart: the shell
    re-attaches its session (ephemerals kept) and re-registers its watches."""
    need_corral()
    ns = "/restart-%s" % uuid.uuid4().hex[:8]
    proxy = Proxy(corrald.port)
    proc = subprocess.Popen([corral_path(), "-server", "127.0.0.1:%d" % proxy.port],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=child_env(), start_new_session=True)
    r = Reader(proc)
    try:
        proc.stdin.write(("create %s w\nget -w %s\ncreate -e %s/eph x\n" % (ns, ns, ns)).encode())
        proc.stdin.flush()
        r.wait_for("err", "Created %s/eph" % ns)
        corrald.stop()
        proxy.drop()
        r.wait_for("out", "WatchedEvent state:Disconnected type:None path:null")
        corrald.start()  # same data directory, new port
        proxy.target = corrald.port
        r.wait_for("out", "WatchedEvent state:Disconnected type:None path:null\n\n"
                   "WATCHER::\n\nWatchedEvent state:SyncConnected type:None path:null")
        rc, out, err = corral(corrald.hosts, args=["set", ns, "changed"])
        assert rc == 0, (out, err)
        r.wait_for("out", "type:NodeDataChanged path:%s" % ns)
        proc.stdin.write(("stat %s/eph\ndeleteall %s\nquit\n" % (ns, ns)).encode())
        proc.stdin.close()
        assert proc.wait(timeout=30) == 0
        out = r.text("out")
        assert re.search(r"ephemeralOwner = 0x[1-9a-f]", out), out
        assert "Expired" not in out
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proxy.close()


# ---- (b) interactive, under tmux ----------------------------------------------------------------


class Tmux:
    """One private tmux server (its own socket) running corral in one pane."""

    def __init__(self, tmpdir, command, env):
        self.sock = os.path.join(tmpdir, "tmux.sock")
        self.env = env
        self.server_pid = None
        self.pane_pid = None
        self._tmux("new-session", "-d", "-s", "t", "-x", "150", "-y", "50", command)
        self.server_pid = int(self._tmux("display-message", "-p", "-t", "t", "#{pid}").strip())
        self.pane_pid = int(self._tmux("display-message", "-p", "-t", "t",
                                       "#{pane_pid}").strip())

    def _tmux(self, *args):
        return subprocess.run(["tmux", "-S", self.sock] + list(args), check=True,
                              capture_output=True, env=self.env, timeout=10).stdout.decode()

    def keys(self, *keys):
        self._tmux("send-keys", "-t", "t", *keys)

    def text(self, *keys):
        self._tmux("send-keys", "-t", "t", "-l", *keys)

    def screen(self):
        return self._tmux("capture-pane", "-p", "-J", "-t", "t", "-S", "-200")

    def wait_for(self, predicate, what, timeout=15.0):
        deadline = time.monotonic() + timeout
        delay = 0.02
        while True:
            s = self.screen()
            if predicate(s):
                return s
            if time.monotonic() > deadline:
                raise AssertionError("timed out waiting for %s; screen:\n%s" % (what, s))
            time.sleep(delay)  # polling the pane, not waiting for an event
            delay = min(delay * 2, 0.2)

    def alive(self):
        try:
            os.kill(self.pane_pid, 0)
            return True
        except OSError:
            return False

    def stop(self):
        for pid in (self.pane_pid, self.server_pid):
            if pid:
                try:
                    os.kill(pid, signal.SIGTERM)
                except OSError:
                    pass


def last_prompt_line(screen):
    lines = [l.rstrip() for l in screen.rstrip("\n").split("\n") if l.strip()]
    return lines[-1] if lines else ""


def test_interactive_session_under_tmux(corrald):
    need_corral()
    if not shutil.which("tmux"):
        if harness.in_ci():
            pytest.fail("tmux is not installed", pytrace=False)
        pytest.skip("tmux is not installed")
    tmp = tempfile.mkdtemp(prefix="corral-tmux-")
    env = child_env()
    env["HOME"] = tmp
    env["TERM"] = "xterm"
    ns = "/tmux-%s" % uuid.uuid4().hex[:8]
    prompt = "[zk: %s(CONNECTED) " % corrald.hosts
    t = Tmux(tmp, "%s -server %s" % (corral_path(), corrald.hosts), env)
    try:
        t.wait_for(lambda s: last_prompt_line(s).startswith(prompt + "0]"), "the first prompt")
        s = t.screen()
        assert "WatchedEvent state:SyncConnected type:None path:null" in s

        # A command, its output, the next prompt number.
        t.text("create %s data" % ns)
        t.keys("Enter")
        t.wait_for(lambda s: last_prompt_line(s) == prompt + "1]", "prompt 1")
        assert "Created %s" % ns in t.screen()
        t.text("create %s/child-one x" % ns)
        t.keys("Enter")
        t.wait_for(lambda s: last_prompt_line(s) == prompt + "2]", "prompt 2")

        # History recall: Up brings back the previous line.
        t.keys("Up")
        t.wait_for(lambda s: last_prompt_line(s) == prompt + "2] create %s/child-one x" % ns,
                   "the recalled line")
        t.keys("C-c")
        t.wait_for(lambda s: last_prompt_line(s) == prompt + "2]", "a clean prompt after Ctrl-C")
        assert "^C" in t.screen()

        # Path completion asks the server for the children of the parent.
        t.text("ls %s/chi" % ns)
        t.keys("Tab")
        t.wait_for(lambda s: last_prompt_line(s) == prompt + "2] ls %s/child-one" % ns,
                   "the completed path")
        t.keys("Enter")
        t.wait_for(lambda s: last_prompt_line(s) == prompt + "3]", "prompt 3")
        # Command names complete too.
        t.text("getAllCh")
        t.keys("Tab")
        t.wait_for(lambda s: last_prompt_line(s) == prompt + "3] getAllChildrenNumber",
                   "the completed command")
        t.keys("C-c")
        t.wait_for(lambda s: last_prompt_line(s) == prompt + "3]", "prompt 3 again")

        # A watch, then a change from another client while the prompt is idle
        # (with a half-typed line that must survive the event).
        t.text("get -w %s" % ns)
        t.keys("Enter")
        t.wait_for(lambda s: last_prompt_line(s) == prompt + "4]", "prompt 4")
        t.text("stat %s" % ns)
        rc, out, err = corral(corrald.hosts, args=["set", ns, "changed"])
        assert rc == 0, (out, err)
        s = t.wait_for(lambda s: "type:NodeDataChanged path:%s" % ns in s, "the watch event")
        t.wait_for(lambda s: last_prompt_line(s) == prompt + "4] stat %s" % ns,
                   "the prompt and the typed line redrawn after the event")
        s = t.screen()
        assert "\nWATCHER::\n\nWatchedEvent state:SyncConnected type:NodeDataChanged path:%s" \
            % ns in s, s
        t.keys("C-u")
        t.text("deleteall %s" % ns)
        t.keys("Enter")
        t.wait_for(lambda s: last_prompt_line(s) == prompt + "5]", "prompt 5")

        # Ctrl-D on an empty line ends the session.
        t.keys("C-d")
        deadline = time.monotonic() + 10
        while t.alive() and time.monotonic() < deadline:
            time.sleep(0.05)  # polling for the process to exit
        assert not t.alive(), "corral did not exit on Ctrl-D"
    finally:
        t.stop()
    hist = open(os.path.join(tmp, ".corral_history"), "rb").read().decode("utf-8", "replace")
    assert "create" in hist and "deleteall" in hist, hist
    shutil.rmtree(tmp, ignore_errors=True)
    assert_gone(corrald, ns)
