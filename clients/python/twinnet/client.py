"""twinnet.client -- the connection: msgpack-RPC over one TCP socket.

Works with the Debian python3-msgpack (1.0.3) under /usr/bin/python3.
The protocol (docs/protocol.md) is msgpack-RPC: requests [0, msgid, method, [options]],
responses [1, msgid, error, result], notifications [2, method, params].

    from twinnet import Client, TwinnetError

    with Client("127.0.0.1", 7700) as c:
        print(c.call("server.ping"))                       # 'pong'
        top = c.call("query.centrality", metric="degree", top=5)
        for row in top["items"]:
            print(row["id"], row["score"])
        for it in c.recommend("CN-430100", top=3)["items"]:
            print(it["name"], it["reasons"])
        for step in c.plan(target="bri", budget=3)["steps"]:
            print(step["unit"], step["country"], step["candidates"][:1])
        try:
            c.call("node.get", id="nowhere")
        except TwinnetError as e:
            print(e.code, e.message)                       # not_found ...

Every RPC method is also a method of Client (twinnet.methods):
``c.query_centrality(metric="degree", top=5)``.

Pipelining: ``send`` returns the msgid without waiting; ``recv`` returns the
next message from the server; ``wait(msgid)`` returns one request's result,
``gather(msgids)`` several. Responses may arrive in any order.

    ids = [c.send("node.get", {"id": i}) for i in ("CN-430100", "JP")]
    results = c.gather(ids)

Transport problems (cannot connect, connection lost, timeout, bytes that
are not msgpack-RPC) raise ``TwinnetError`` with code ``"unavailable"``;
after one the client is closed. The unpacker bounds every message, so a
broken server cannot make the client allocate without limit.
"""

import collections
import socket

import msgpack

from .frames import Result
from .methods import Methods
from .pages import Pages

__all__ = ["Client", "TwinnetError", "REQUEST", "RESPONSE", "NOTIFY"]

REQUEST, RESPONSE, NOTIFY = 0, 1, 2

# Bounds for replies. The largest legitimate results are a few MiB; these
# mirror the C client's limits (clients/c/tn_client.c).
MAX_MESSAGE = 256 << 20
MAX_STR = 64 << 20
MAX_ITEMS = 1 << 24


class TwinnetError(Exception):
    """An error reply ({"code", "message", "data"?}) or a transport failure.

    code    -- the wire code, e.g. "not_found", "invalid_params", "unavailable"
    message -- the server's explanation
    data    -- extra detail or None; for invalid_params a list of
               {"index", "field", "reason"} maps
    """

    def __init__(self, code, message, data=None):
        super().__init__("%s: %s" % (code, message))
        self.code = code
        self.message = message
        self.data = data


class Client(Methods, Pages):
    """One blocking connection to twinnetd.

    Client(host='127.0.0.1', port=7700, timeout=30, token=None): timeout in
    seconds applies to connecting and to every wait for data (None: wait
    forever). With a token, ``auth`` is called at once (a server with access
    control answers only server.ping and auth before it); a wrong token
    raises TwinnetError("unauthorized").
    """

    def __init__(self, host="127.0.0.1", port=7700, timeout=30, token=None):
        self.host, self.port = host, port
        self._next_id = 1
        # Messages that call()/wait() read while looking for their own
        # response: other responses by msgid, everything else in order.
        self._responses = {}
        self._backlog = collections.deque()
        self._unpacker = msgpack.Unpacker(
            raw=False,
            strict_map_key=False,
            max_buffer_size=MAX_MESSAGE,
            max_str_len=MAX_STR,
            max_bin_len=MAX_STR,
            max_array_len=MAX_ITEMS,
            max_map_len=MAX_ITEMS,
            max_ext_len=MAX_STR,
        )
        try:
            self._sock = socket.create_connection((host, port), timeout=timeout)
        except OSError as e:
            raise TwinnetError("unavailable", "cannot connect to %s:%d: %s"
                               % (host, port, e.strerror or e)) from None
        self._sock.settimeout(timeout)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.role = None
        if token is not None:
            try:
                self.role = self.call("auth", token=token).get("role")
            except TwinnetError:
                self.close()
                raise

    # -- context manager -------------------------------------------------

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        """Close the connection; safe to call twice."""
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None

    # -- sending -----------------------------------------------------------

    def _write(self, obj):
        if self._sock is None:
            raise TwinnetError("unavailable", "connection to %s:%d is closed"
                               % (self.host, self.port))
        try:
            self._sock.sendall(msgpack.packb(obj, use_bin_type=True))
        except OSError as e:
            self._fail("send failed: %s" % (e.strerror or e))

    def send(self, method, options=None):
        """Send a request without waiting; return its msgid."""
        msgid = self._next_id
        self._next_id = (self._next_id + 1) & 0xFFFFFFFF
        self._write([REQUEST, msgid, method, [options] if options is not None else []])
        return msgid

    def notify(self, method, params=None):
        """Send a notification, e.g. notify("cancel", {"msgid": n})."""
        self._write([NOTIFY, method, [params] if params is not None else []])

    # -- receiving ---------------------------------------------------------

    def _fail(self, why):
        self.close()
        raise TwinnetError("unavailable", "%s:%d: %s" % (self.host, self.port, why))

    def _read(self, quiet_timeout=False):
        """The next message off the socket. A timeout closes the client,
        except with quiet_timeout, where it raises socket.timeout and keeps
        the connection (events(): a quiet server is not a failure)."""
        while True:
            try:
                return next(self._unpacker)
            except StopIteration:
                pass
            except (ValueError, msgpack.exceptions.ExtraData,
                    msgpack.exceptions.FormatError, msgpack.exceptions.StackError) as e:
                # Never reuse an unpacker after an error: close instead.
                self._fail("reply is not msgpack-RPC (%s)" % e)
            if self._sock is None:
                self._fail("connection is closed")
            try:
                data = self._sock.recv(65536)
            except socket.timeout:
                if quiet_timeout:
                    raise
                self._fail("no reply within %s s" % self._sock.gettimeout())
            except OSError as e:
                self._fail("receive failed: %s" % (e.strerror or e))
            if not data:
                self._fail("connection closed by the server")
            try:
                self._unpacker.feed(data)
            except msgpack.exceptions.BufferFull:
                self._fail("reply larger than %d bytes" % MAX_MESSAGE)

    def recv(self):
        """Return the next message: [1, msgid, error, result] or
        [2, method, params], as a list, including ones call()/wait() set
        aside while looking for their own response."""
        if self._backlog:
            return self._backlog.popleft()
        if self._responses:
            msgid = next(iter(self._responses))
            return self._responses.pop(msgid)
        return self._read()

    def _read_until(self, msgid, progress=None):
        """Read until the response to msgid has come. With progress, the
        ``progress`` notifications of msgid go to progress(done, total);
        other messages are kept for recv()/wait()."""
        while msgid not in self._responses:
            msg = self._read()
            if not isinstance(msg, list) or not msg:
                self._fail("reply is not msgpack-RPC: %r" % (msg,))
            if msg[0] == RESPONSE and len(msg) == 4:
                self._responses[msg[1]] = msg
            elif (progress is not None and msg[0] == NOTIFY and len(msg) == 3 and msg[1] == "progress"
                  and msg[2] and isinstance(msg[2][0], dict) and msg[2][0].get("msgid") == msgid):
                progress(msg[2][0].get("done"), msg[2][0].get("total"))
            else:
                self._backlog.append(msg)

    def wait(self, msgid):
        """Wait for the response to msgid; return its result or raise
        TwinnetError. Other messages are kept for recv()/wait()."""
        self._read_until(msgid)
        _, _, error, result = self._responses.pop(msgid)
        if error is not None:
            if isinstance(error, dict):
                raise TwinnetError(error.get("code", "internal"), error.get("message", ""),
                                   error.get("data"))
            raise TwinnetError("internal", str(error))
        return Result(result) if isinstance(result, dict) else result

    def gather(self, msgids):
        """Results of several sent requests, in the order of msgids (the
        first error reply raises)."""
        return [self.wait(m) for m in msgids]

    def call(self, method, options=None, progress=None, **kw):
        """Call method and return its result; raise TwinnetError on an error
        reply. Options come as a dict, as keywords, or both:
        call("node.find", q="chang", limit=5).

        progress: a function progress(done, total) called for each
        ``progress`` notification of this request; total may be None. A
        method that takes a "progress" option (the queries) is asked for
        them with "progress": true; import.chunk reports them when its
        import.begin asked with progress=True."""
        if kw:
            options = dict(options or {}, **kw)
        if progress is not None and not callable(progress):
            options = dict(options or {}, progress=progress)    # the plain option
            progress = None
        if progress is None:
            return self.wait(self.send(method, options))
        if method != "server.methods" and "progress" in (self.method_params(method) or ()):
            options = dict(options or {}, progress=True)
        msgid = self.send(method, options)
        self._read_until(msgid, progress)
        return self.wait(msgid)

    def events(self, timeout=None):
        """Yield the server's ``event`` notifications (after
        metrics.subscribe: {"type": "epoch", "epoch": n} per change) as
        they come; stop after timeout seconds without one (None: never)."""
        old = self._sock.gettimeout() if self._sock is not None else None
        try:
            while True:
                if self._backlog:
                    msg = self._backlog.popleft()
                else:
                    if self._sock is None:
                        self._fail("connection is closed")
                    self._sock.settimeout(timeout)
                    try:
                        msg = self._read(quiet_timeout=True)
                    except socket.timeout:
                        return
                if isinstance(msg, list) and len(msg) == 3 and msg[0] == NOTIFY and msg[1] == "event":
                    yield msg[2][0] if msg[2] else None
                elif isinstance(msg, list) and len(msg) == 4 and msg[0] == RESPONSE:
                    self._responses[msg[1]] = msg
        finally:
            if self._sock is not None:
                self._sock.settimeout(old)

    # ---- advice (docs/recommend.md) ----

    def recommend(self, unit, **opts):
        """query.recommend: new partners for unit, best first, each with its
        reasons. Options: top, country, region, tag, kind ("province" |
        "city"), exclude_home, as_of, min_confidence."""
        return self.call("query.recommend", dict(opts, unit=unit))

    def plan(self, target="all", budget=5, **opts):
        """query.plan: at most budget steps {unit, country, candidates,
        peer_pairs, reasons} covering uncovered countries of target ("all",
        a region, a sub-region, a tag, or {"countries": [iso2, ...]}), with
        the target's coverage before and after. Options: unit (the home to
        plan for), as_of, min_confidence."""
        return self.call("query.plan", dict(opts, target=target, budget=budget))

    # ---- planning methods (docs/protocol.md) ----

    def timeline(self, unit=None, by=None, **filters):
        """query.timeline: a unit's pairs per year (unit None = the home;
        by None, "region" or "unit")."""
        return self.call("query.timeline", _given(unit=unit, by=by, **filters))

    def overlap(self, *homes, **filters):
        """query.overlap over 2 to 8 province or city ids:
        overlap("CN-430000", "CN-420000")."""
        return self.call("query.overlap", dict(filters, homes=list(homes)))

    def communities(self, algorithm=None, members=None, **options):
        """query.communities ("multilevel" or "leiden"; members=True adds
        the membership map)."""
        return self.call("query.communities", _given(algorithm=algorithm, members=members, **options))

    def whatif(self, queries, add=None, remove=None, nodes=None, **filters):
        """query.whatif: queries is a list of method names or
        {"method", "options"} maps; add a list of pair maps, remove a list
        of (a, b) tuples or {"a", "b"} maps. Nothing is committed."""
        qs = [{"method": q} if isinstance(q, str) else q for q in queries]
        rm = None if remove is None else [r if isinstance(r, dict) else {"a": r[0], "b": r[1]} for r in remove]
        return self.call("query.whatif", _given(queries=qs, add=add, remove=rm, nodes=nodes, **filters))


def _given(**kw):
    """The options that were given (None means "not given")."""
    return {k: v for k, v in kw.items() if v is not None}


