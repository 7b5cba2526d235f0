"""A small raw ZooKeeper client that speaks jute directly (pure Python).

It does nothing clever: every request is encoded by hand from the record
layouts of the protocol reference (shared/docs/zookeeper-protocol.md §1-§4),
every frame read back is decoded into a plain dict, and every read has a
timeout. It exists to poke servers in ways real clients never do (bad
flags, bad paths, truncated records, raw bytes) and to record exactly what
comes back.

    c = Conn.connect(("127.0.0.1", port))          # handshake, new session
    r = c.create("/a", b"x")                       # -> reply dict
    r == {"xid": 1, "zxid": 5, "err": 0, "op": "create", "body": {"path": "/a"}}
    c.get_data("/a", watch=True)
    ev = c.wait_event()                            # notification dict

Reply dicts: {"t": "reply", "op": name, "xid", "zxid", "err", "body"}; body
is None when the frame ends after the header, otherwise a dict of fields
(Stat is a dict of its 11 fields). Undecodable or extra bytes show up as
"decode_error" / "trailing" keys rather than exceptions. Notifications:
{"t": "event", "xid": -1, "zxid", "err", "type", "state", "path"}.

A connection may carry a `recorder` callable that receives every message
it handles (connect responses, replies, events, close, timeouts), which is
how the differential tests build their traces.
"""

import socket
import struct
import time

# ---------------------------------------------------------------------------
# constants

OP = {
    "notification": 0, "create": 1, "delete": 2, "exists": 3, "getData": 4,
    "setData": 5, "getACL": 6, "setACL": 7, "getChildren": 8, "sync": 9,
    "ping": 11, "getChildren2": 12, "check": 13, "multi": 14, "create2": 15,
    "reconfig": 16, "checkWatches": 17, "removeWatches": 18,
    "createContainer": 19, "deleteContainer": 20, "createTTL": 21,
    "multiRead": 22, "auth": 100, "setWatches": 101, "sasl": 102,
    "getEphemerals": 103, "getAllChildrenNumber": 104, "setWatches2": 105,
    "addWatch": 106, "whoAmI": 107, "createSession": -10, "closeSession": -11,
    "error": -1,
}
OP_NAME = {v: k for k, v in OP.items()}

ERR = {
    0: "OK", -1: "SYSTEMERROR", -2: "RUNTIMEINCONSISTENCY", -3: "DATAINCONSISTENCY",
    -4: "CONNECTIONLOSS", -5: "MARSHALLINGERROR", -6: "UNIMPLEMENTED",
    -7: "OPERATIONTIMEOUT", -8: "BADARGUMENTS", -12: "UNKNOWNSESSION",
    -13: "NEWCONFIGNOQUORUM", -14: "RECONFIGINPROGRESS", -100: "APIERROR",
    -101: "NONODE", -102: "NOAUTH", -103: "BADVERSION",
    -108: "NOCHILDRENFOREPHEMERALS", -110: "NODEEXISTS", -111: "NOTEMPTY",
    -112: "SESSIONEXPIRED", -113: "INVALIDCALLBACK", -114: "INVALIDACL",
    -115: "AUTHFAILED", -118: "SESSIONMOVED", -119: "NOTREADONLY",
    -120: "EPHEMERALONLOCALSESSION", -121: "NOWATCHER", -122: "REQUESTTIMEOUT",
    -123: "RECONFIGDISABLED", -124: "SESSIONCLOSEDREQUIRESASLAUTH",
    -125: "QUOTAEXCEEDED", -127: "THROTTLEDOP",
}
OK = 0
RUNTIMEINCONSISTENCY = -2
MARSHALLINGERROR = -5
UNIMPLEMENTED = -6
BADARGUMENTS = -8
NONODE = -101
NOAUTH = -102
BADVERSION = -103
NOCHILDRENFOREPHEMERALS = -108
NODEEXISTS = -110
NOTEMPTY = -111
INVALIDACL = -114
AUTHFAILED = -115
NOWATCHER = -121
RECONFIGDISABLED = -123

EVENT = {1: "NodeCreated", 2: "NodeDeleted", 3: "NodeDataChanged",
         4: "NodeChildrenChanged"}

XID_NOTIFICATION = -1
XID_PING = -2
XID_AUTH = -4
XID_SET_WATCHES = -8

PERM_READ, PERM_WRITE, PERM_CREATE, PERM_DELETE, PERM_ADMIN = 1, 2, 4, 8, 16
PERM_ALL = 31

OPEN_ACL = [(31, "world", "anyone")]
READ_ACL = [(1, "world", "anyone")]
CREATOR_ALL_ACL = [(31, "auth", "")]

WATCHER_CHILDREN, WATCHER_DATA, WATCHER_ANY = 1, 2, 3
ADD_WATCH_PERSISTENT, ADD_WATCH_PERSISTENT_RECURSIVE = 0, 1

STAT_FIELDS = ("czxid", "mzxid", "ctime", "mtime", "version", "cversion",
               "aversion", "ephemeralOwner", "dataLength", "numChildren", "pzxid")
STAT_FMT = ">qqqqiiiqiiq"

DEFAULT_TIMEOUT = 5.0
NULL = None  # a null buffer/string/vector on the wire (length -1)


class WireError(Exception):
    pass


class Timeout(WireError):
    """Nothing (or not enough) arrived before the deadline."""


class Closed(WireError):
    """The peer closed the connection (EOF or reset)."""


class DecodeError(WireError):
    pass


# ---------------------------------------------------------------------------
# jute encoding

def j_int(v):
    return struct.pack(">i", v)


def j_long(v):
    return struct.pack(">q", v)


def j_bool(v):
    return b"\x01" if v else b"\x00"


def j_buffer(b):
    if b is None:
        return j_int(-1)
    if isinstance(b, str):
        b = b.encode("utf-8")
    return j_int(len(b)) + b


def j_string(s):
    """ustring. `s` may be str (UTF-8 encoded), raw bytes, or None (null)."""
    if s is None:
        return j_int(-1)
    if isinstance(s, str):
        s = s.encode("utf-8", "surrogatepass")
    return j_int(len(s)) + s


def j_vector(items, enc):
    if items is None:
        return j_int(-1)
    return j_int(len(items)) + b"".join(enc(i) for i in items)


def j_acl(a):
    """ACL as (perms, scheme, id) tuple or dict."""
    if isinstance(a, dict):
        a = (a["perms"], a["scheme"], a["id"])
    perms, scheme, ident = a
    return j_int(perms) + j_string(scheme) + j_string(ident)


def j_acls(acls):
    return j_vector(acls, j_acl)


def j_strings(items):
    return j_vector(items, j_string)


# ---------------------------------------------------------------------------
# jute decoding

class Reader:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def remaining(self):
        return len(self.data) - self.pos

    def take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise DecodeError("need %d bytes at offset %d, have %d"
                              % (n, self.pos, self.remaining()))
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def int(self):
        return struct.unpack(">i", self.take(4))[0]

    def long(self):
        return struct.unpack(">q", self.take(8))[0]

    def bool(self):
        b = self.take(1)[0]
        return b != 0

    def buffer(self):
        n = self.int()
        if n == -1:
            return None
        if n < -1:
            raise DecodeError("negative buffer length %d" % n)
        return self.take(n)

    def string(self):
        b = self.buffer()
        if b is None:
            return None
        try:
            return b.decode("utf-8")
        except UnicodeDecodeError:
            return {"invalid_utf8": b.hex()}

    def vector(self, dec):
        n = self.int()
        if n == -1:
            return None
        if n < -1 or n > 10_000_000:
            raise DecodeError("bad vector count %d" % n)
        return [dec() for _ in range(n)]

    def stat(self):
        return dict(zip(STAT_FIELDS, struct.unpack(STAT_FMT, self.take(68))))

    def acl(self):
        return {"perms": self.int(), "scheme": self.string(), "id": self.string()}


def decode_stat(b):
    return Reader(b).stat()


# ---------------------------------------------------------------------------
# request records (bodies after the RequestHeader)

def rec_create(path, data=b"", acl=OPEN_ACL, flags=0):
    return j_string(path) + j_buffer(data) + j_acls(acl) + j_int(flags)


def rec_create_ttl(path, data=b"", acl=OPEN_ACL, flags=5, ttl=1000):
    return rec_create(path, data, acl, flags) + j_long(ttl)


def rec_path_version(path, version=-1):
    return j_string(path) + j_int(version)


def rec_path_watch(path, watch=False):
    return j_string(path) + j_bool(watch)


def rec_set_data(path, data, version=-1):
    return j_string(path) + j_buffer(data) + j_int(version)


def rec_set_acl(path, acl, version=-1):
    return j_string(path) + j_acls(acl) + j_int(version)


def rec_path(path):
    return j_string(path)


def rec_path_type(path, type_):
    return j_string(path) + j_int(type_)


def rec_auth(scheme, auth, type_=0):
    return j_int(type_) + j_string(scheme) + j_buffer(auth)


def rec_set_watches(relative_zxid, data=(), exist=(), child=(), persistent=None,
                    recursive=None):
    b = j_long(relative_zxid) + j_strings(list(data)) + j_strings(list(exist)) \
        + j_strings(list(child))
    if persistent is not None or recursive is not None:
        b += j_strings(list(persistent or [])) + j_strings(list(recursive or []))
    return b


def rec_reconfig(joining=None, leaving=None, new_members=None, cur_config_id=-1):
    return (j_string(joining) + j_string(leaving) + j_string(new_members)
            + j_long(cur_config_id))


def multi_header(type_, done=False, err=-1):
    return j_int(type_) + j_bool(done) + j_int(err)


MULTI_END = multi_header(-1, True, -1)


def encode_op(op):
    """One multi/multiRead sub-op -> MultiHeader + record bytes.

    `op` is a tuple: (name, *args) with the same arguments as the
    corresponding Conn method, e.g. ("create", "/a", b"x", OPEN_ACL, 0),
    ("check", "/a", 3), ("getData", "/a"). ("raw", type, record_bytes)
    sends a header of any type with any bytes after it.
    """
    name, args = op[0], op[1:]
    if name == "raw":
        return multi_header(args[0]) + args[1]
    code = OP[name]
    if name in ("create", "create2", "createContainer"):
        rec = rec_create(*args)
    elif name == "createTTL":
        rec = rec_create_ttl(*args)
    elif name in ("delete", "check"):
        rec = rec_path_version(*args)
    elif name == "setData":
        rec = rec_set_data(*args)
    elif name in ("getData", "getChildren"):
        rec = rec_path_watch(*args)
    else:
        raise ValueError("op %r cannot be a multi sub-op" % name)
    return multi_header(code) + rec


def rec_multi(ops):
    return b"".join(encode_op(o) for o in ops) + MULTI_END


# ---------------------------------------------------------------------------
# response decoding

def _body_create(r):
    return {"path": r.string()}


def _body_create2(r):
    return {"path": r.string(), "stat": r.stat()}


def _body_stat(r):
    return {"stat": r.stat()}


def _body_data_stat(r):
    return {"data": r.buffer(), "stat": r.stat()}


def _body_acl_stat(r):
    return {"acl": r.vector(r.acl), "stat": r.stat()}


def _body_children(r):
    return {"children": r.vector(r.string)}


def _body_children2(r):
    return {"children": r.vector(r.string), "stat": r.stat()}


def _body_path(r):
    return {"path": r.string()}


def _body_empty(r):
    return {}


def _body_token(r):
    return {"token": r.buffer()}


def _body_ephemerals(r):
    return {"ephemerals": r.vector(r.string)}


def _body_total(r):
    return {"totalNumber": r.int()}


def _body_error_response(r):
    return {"err": r.int()}


def _body_whoami(r):
    return {"clientInfo": r.vector(lambda: {"authScheme": r.string(), "user": r.string()})}


MULTI_RESULT_BODY = {
    1: _body_create, 15: _body_create2, 19: _body_create2, 21: _body_create2,
    2: _body_empty, 13: _body_empty, 5: _body_stat, 4: _body_data_stat,
    8: _body_children, -1: _body_error_response,
}


def _body_multi(r):
    results = []
    while True:
        type_, done, err = r.int(), r.bool(), r.int()
        if done:
            return {"results": results, "end": {"type": type_, "err": err}}
        dec = MULTI_RESULT_BODY.get(type_)
        if dec is None:
            raise DecodeError("unknown multi result type %d" % type_)
        res = {"type": type_, "err": err}
        res.update(dec(r) if type_ != -1 else {"errBody": r.int()})
        results.append(res)


RESPONSE_BODY = {
    1: _body_create, 2: _body_empty, 3: _body_stat, 4: _body_data_stat,
    5: _body_stat, 6: _body_acl_stat, 7: _body_stat, 8: _body_children,
    9: _body_path, 11: _body_empty, 12: _body_children2, 13: _body_empty,
    14: _body_multi, 15: _body_create2, 16: _body_data_stat, 17: _body_empty,
    18: _body_empty, 19: _body_create2, 21: _body_create2, 22: _body_multi,
    100: _body_empty, 101: _body_empty, 102: _body_token, 103: _body_ephemerals,
    104: _body_total, 105: _body_empty, 106: _body_error_response,
    107: _body_whoami, -11: _body_empty,
}


def decode_body(opcode, data):
    """Decode a response body; never raises. None if there are no bytes."""
    if not data:
        return None
    dec = RESPONSE_BODY.get(opcode)
    if dec is None:
        return {"raw": data.hex()}
    r = Reader(data)
    try:
        body = dec(r)
    except DecodeError as e:
        return {"decode_error": str(e), "raw": data.hex()}
    if r.remaining():
        body["trailing"] = data[r.pos:].hex()
    return body


def decode_connect_response(data):
    r = Reader(data)
    try:
        out = {"protocolVersion": r.int(), "timeOut": r.int(),
               "sessionId": r.long(), "passwd": r.buffer()}
        if r.remaining():
            out["readOnly"] = r.bool()
        if r.remaining():
            out["trailing"] = data[r.pos:].hex()
    except DecodeError as e:
        out = {"decode_error": str(e), "raw": data.hex()}
    out["len"] = len(data)
    return out


def connect_request(session_id=0, passwd=b"\0" * 16, timeout_ms=30000,
                    last_zxid=0, read_only=False, protocol_version=0, extra=b""):
    """ConnectRequest payload. read_only=None omits the trailing byte."""
    b = (j_int(protocol_version) + j_long(last_zxid) + j_int(timeout_ms)
         + j_long(session_id) + j_buffer(passwd))
    if read_only is not None:
        # A raw int sends that byte as is (the server reads any non-zero as true).
        b += bytes([read_only & 0xFF]) if type(read_only) is int else j_bool(read_only)
    return b + extra


def frame(payload):
    return j_int(len(payload)) + payload


# ---------------------------------------------------------------------------
# the connection

class Conn:
    """One TCP connection to a server. Not thread-safe; no background reader.

    Messages are read only when asked for (a reply, an event, a close), so
    what a test records is fully determined by the order of its calls.
    """

    def __init__(self, address, timeout=DEFAULT_TIMEOUT, name="c", recorder=None):
        self.address = address
        self.timeout = timeout
        self.name = name
        self.recorder = recorder
        self.sock = socket.create_connection(address, timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.closed = False
        self.next_xid = 1
        self.pending = []          # [(xid, opcode)] in send order
        self.events = []           # notifications read but not yet consumed
        self.session_id = None
        self.passwd = None
        self.timeout_ms = None
        self.connect_response = None
        self.session_closed = False  # our closeSession was answered
        self._closed_recorded = False

    # -- construction ------------------------------------------------------
    @classmethod
    def connect(cls, address, timeout=DEFAULT_TIMEOUT, name="c", recorder=None,
                **handshake_kwargs):
        c = cls(address, timeout=timeout, name=name, recorder=recorder)
        c.handshake(**handshake_kwargs)
        return c

    def handshake(self, session_id=0, passwd=b"\0" * 16, timeout_ms=30000,
                  last_zxid=0, read_only=False, extra=b"", pipelined=b"",
                  expect_valid=True, protocol_version=0):
        """Send a ConnectRequest and read the ConnectResponse.

        `pipelined` bytes are sent in the same write, right after the
        request. Returns the decoded response dict, or {"closed": True} if
        the server closed instead of answering. With expect_valid, an
        invalid-session answer or a close raises WireError.
        """
        payload = connect_request(session_id, passwd, timeout_ms, last_zxid,
                                  read_only, protocol_version, extra)
        self.send_raw(frame(payload) + pipelined)
        try:
            data = self.read_frame()
        except Closed:
            self._closed_recorded = True
            self._record({"t": "connect", "closed": True})
            if expect_valid:
                raise
            return {"closed": True}
        resp = decode_connect_response(data)
        self.connect_response = resp
        self._record(dict({"t": "connect"}, **resp))
        if resp.get("timeOut", 0) > 0:
            self.session_id = resp["sessionId"]
            self.passwd = resp["passwd"]
            self.timeout_ms = resp["timeOut"]
        elif expect_valid:
            raise WireError("invalid session answer: %r" % resp)
        return resp

    # -- raw I/O -----------------------------------------------------------
    def send_raw(self, data):
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError) as e:
            self.closed = True
            self._record_closed()
            raise Closed(str(e))

    def _record_closed(self):
        # FIN or RST, noticed on send or on receive: one "closed" either way.
        if not self._closed_recorded:
            self._closed_recorded = True
            self._record({"t": "closed"})

    def send_frame(self, payload):
        self.send_raw(frame(payload))

    def _fill(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout("%s: waited for %d bytes, have %d" % (self.name, n, len(self.buf)))
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(max(65536, n - len(self.buf)))
            except socket.timeout:
                raise Timeout("%s: waited for %d bytes, have %d" % (self.name, n, len(self.buf)))
            except (ConnectionResetError, ConnectionAbortedError) as e:
                self.closed = True
                raise Closed(str(e))
            if not chunk:
                self.closed = True
                raise Closed("EOF with %d buffered bytes" % len(self.buf))
            self.buf += chunk

    def read_frame(self, timeout=None):
        """One length-prefixed frame payload. Raises Timeout or Closed."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        self._fill(4, deadline)
        n = struct.unpack(">i", self.buf[:4])[0]
        if n < 0 or n > 64 * 1024 * 1024:
            raise WireError("%s: bad frame length from server: %d" % (self.name, n))
        self._fill(4 + n, deadline)
        data = self.buf[4:4 + n]
        self.buf = self.buf[4 + n:]
        return data

    def read_until_close(self, timeout=None):
        """Read (and record) anything until EOF. True if closed in time."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            try:
                self.read_message(timeout=max(0.0, deadline - time.monotonic()))
            except Closed:
                return True
            except Timeout:
                return False

    # -- messages ------------------------------------------------------------
    def _record(self, msg):
        if self.recorder is not None:
            self.recorder(self, msg)

    def read_message(self, timeout=None):
        """Read one frame: a reply (matched to a pending request) or an event."""
        try:
            data = self.read_frame(timeout)
        except Closed:
            self._record_closed()
            raise
        if len(data) < 16:
            msg = {"t": "short_frame", "raw": data.hex()}
            self._record(msg)
            return msg
        xid, zxid, err = struct.unpack(">iqi", data[:16])
        rest = data[16:]
        if xid == XID_NOTIFICATION:
            msg = {"t": "event", "xid": xid, "zxid": zxid, "err": err}
            try:
                r = Reader(rest)
                msg.update({"type": r.int(), "state": r.int(), "path": r.string()})
                if r.remaining():
                    msg["trailing"] = rest[r.pos:].hex()
            except DecodeError as e:
                msg.update({"decode_error": str(e), "raw": rest.hex()})
            self.events.append(msg)
            self._record(msg)
            return msg
        opcode = sent_xid = None
        for i, (pxid, pop) in enumerate(self.pending):
            if pxid == xid or (pop == OP["ping"] and xid == XID_PING):
                opcode, sent_xid = pop, pxid
                del self.pending[i]
                break
        msg = {"t": "reply", "op": OP_NAME.get(opcode, opcode), "xid": xid,
               "zxid": zxid, "err": err}
        if sent_xid is not None and sent_xid != xid:
            msg["sent_xid"] = sent_xid
        if opcode is None:
            msg["unexpected"] = True
            msg["body"] = {"raw": rest.hex()} if rest else None
        else:
            msg["body"] = decode_body(opcode, rest)
        if opcode == OP["closeSession"] and err == 0:
            self.session_closed = True
        self._record(msg)
        return msg

    def wait_event(self, timeout=None):
        """Next notification (already buffered or read from the socket)."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while not self.events:
            msg = self.read_message(timeout=max(0.0, deadline - time.monotonic()))
            if msg["t"] != "event":
                raise WireError("%s: expected an event, got %r" % (self.name, msg))
        return self.events.pop(0)

    def take_events(self):
        ev, self.events = self.events, []
        return ev

    def send_request(self, opcode, body=b"", xid=None):
        """Send RequestHeader + body bytes; returns the xid used."""
        if isinstance(opcode, str):
            opcode = OP[opcode]
        if xid is None:
            xid = self.next_xid
            self.next_xid += 1
        self.pending.append((xid, opcode))
        self.send_frame(j_int(xid) + j_int(opcode) + body)
        return xid

    def read_reply(self, xid=None, timeout=None):
        """Read messages until the reply to `xid` (or the next reply)."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            msg = self.read_message(timeout=max(0.0, deadline - time.monotonic()))
            if msg["t"] == "event":
                continue
            if msg["t"] == "reply" and (xid is None or msg["xid"] == xid
                                        or msg.get("sent_xid") == xid):
                return msg
            if msg["t"] == "reply" and msg.get("unexpected"):
                return msg

    def call(self, opcode, body=b"", xid=None, timeout=None):
        x = self.send_request(opcode, body, xid)
        return self.read_reply(x, timeout)

    # -- operations ------------------------------------------------------------
    def create(self, path, data=b"", acl=OPEN_ACL, flags=0, **kw):
        return self.call("create", rec_create(path, data, acl, flags), **kw)

    def create2(self, path, data=b"", acl=OPEN_ACL, flags=0, **kw):
        return self.call("create2", rec_create(path, data, acl, flags), **kw)

    def create_container(self, path, data=b"", acl=OPEN_ACL, flags=4, **kw):
        return self.call("createContainer", rec_create(path, data, acl, flags), **kw)

    def create_ttl(self, path, data=b"", acl=OPEN_ACL, flags=5, ttl=1000, **kw):
        return self.call("createTTL", rec_create_ttl(path, data, acl, flags, ttl), **kw)

    def delete(self, path, version=-1, **kw):
        return self.call("delete", rec_path_version(path, version), **kw)

    def exists(self, path, watch=False, **kw):
        return self.call("exists", rec_path_watch(path, watch), **kw)

    def get_data(self, path, watch=False, **kw):
        return self.call("getData", rec_path_watch(path, watch), **kw)

    def set_data(self, path, data, version=-1, **kw):
        return self.call("setData", rec_set_data(path, data, version), **kw)

    def get_acl(self, path, **kw):
        return self.call("getACL", rec_path(path), **kw)

    def set_acl(self, path, acl, version=-1, **kw):
        return self.call("setACL", rec_set_acl(path, acl, version), **kw)

    def get_children(self, path, watch=False, **kw):
        return self.call("getChildren", rec_path_watch(path, watch), **kw)

    def get_children2(self, path, watch=False, **kw):
        return self.call("getChildren2", rec_path_watch(path, watch), **kw)

    def sync(self, path, **kw):
        return self.call("sync", rec_path(path), **kw)

    def ping(self, xid=XID_PING, **kw):
        return self.call("ping", b"", xid=xid, **kw)

    def check(self, path, version=-1, **kw):
        return self.call("check", rec_path_version(path, version), **kw)

    def multi(self, ops, **kw):
        return self.call("multi", rec_multi(ops), **kw)

    def multi_read(self, ops, **kw):
        return self.call("multiRead", rec_multi(ops), **kw)

    def auth(self, scheme, auth, type_=0, xid=XID_AUTH, **kw):
        return self.call("auth", rec_auth(scheme, auth, type_), xid=xid, **kw)

    def set_watches(self, relative_zxid, data=(), exist=(), child=(), xid=None, **kw):
        return self.call("setWatches", rec_set_watches(relative_zxid, data, exist, child),
                         xid=xid, **kw)

    def set_watches2(self, relative_zxid, data=(), exist=(), child=(), persistent=(),
                     recursive=(), xid=None, **kw):
        return self.call("setWatches2",
                         rec_set_watches(relative_zxid, data, exist, child,
                                         list(persistent), list(recursive)),
                         xid=xid, **kw)

    def add_watch(self, path, mode=ADD_WATCH_PERSISTENT, **kw):
        return self.call("addWatch", rec_path_type(path, mode), **kw)

    def remove_watches(self, path, type_=WATCHER_ANY, **kw):
        return self.call("removeWatches", rec_path_type(path, type_), **kw)

    def check_watches(self, path, type_=WATCHER_ANY, **kw):
        return self.call("checkWatches", rec_path_type(path, type_), **kw)

    def get_ephemerals(self, prefix, **kw):
        return self.call("getEphemerals", rec_path(prefix), **kw)

    def get_all_children_number(self, path, **kw):
        return self.call("getAllChildrenNumber", rec_path(path), **kw)

    def who_am_i(self, **kw):
        return self.call("whoAmI", b"", **kw)

    def reconfig(self, joining=None, leaving=None, new_members=None, cur_config_id=-1, **kw):
        return self.call("reconfig", rec_reconfig(joining, leaving, new_members,
                                                  cur_config_id), **kw)

    def sasl(self, token, **kw):
        return self.call("sasl", j_buffer(token), **kw)

    def close_session(self, **kw):
        return self.call("closeSession", b"", **kw)

    # -- teardown --------------------------------------------------------------
    def close(self):
        """Drop the TCP connection (the session lives on until it expires)."""
        if not self.closed:
            self.closed = True
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def err_name(code):
    return ERR.get(code, str(code))
