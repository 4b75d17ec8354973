"""twinnet -- a small Python client for the twinnetd msgpack-RPC service.

Works with the Debian python3-msgpack (1.0.3) under /usr/bin/python3.
The protocol (PROTOCOL.md) is msgpack-RPC: requests [0, msgid, method, [options]],
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

Pipelining: ``send`` returns the msgid without waiting; ``recv`` returns the
next message from the server; ``wait(msgid)`` returns one request's result.
Responses may arrive in any order (PROTOCOL.md section 1).

    ids = [c.send("node.get", {"id": i}) for i in ("CN-430100", "JP")]
    results = [c.wait(i) for i in ids]

Transport problems (cannot connect, connection lost, timeout, bytes that
are not msgpack-RPC) raise ``TwinnetError`` with code ``"unavailable"``;
after one the client is closed. The unpacker bounds every message, so a
broken server cannot make the client allocate without limit.
"""

import collections
import socket

import msgpack

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


class Client:
    """One blocking connection to twinnetd.

    Client(host='127.0.0.1', port=7700, timeout=30): timeout in seconds
    applies to connecting and to every wait for data (None: wait forever).
    """

    def __init__(self, host="127.0.0.1", port=7700, timeout=30):
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

    def _read(self):
        """The next message off the socket."""
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

    def wait(self, msgid):
        """Wait for the response to msgid; return its result or raise
        TwinnetError. Other messages are kept for recv()/wait()."""
        while msgid not in self._responses:
            msg = self._read()
            if not isinstance(msg, list) or not msg:
                self._fail("reply is not msgpack-RPC: %r" % (msg,))
            if msg[0] == RESPONSE and len(msg) == 4:
                self._responses[msg[1]] = msg
            else:
                self._backlog.append(msg)
        _, _, error, result = self._responses.pop(msgid)
        if error is not None:
            if isinstance(error, dict):
                raise TwinnetError(error.get("code", "internal"), error.get("message", ""),
                                   error.get("data"))
            raise TwinnetError("internal", str(error))
        return result

    def call(self, method, options=None, **kw):
        """Call method and return its result; raise TwinnetError on an error
        reply. Options come as a dict, as keywords, or both:
        call("node.find", q="chang", limit=5)."""
        if kw:
            options = dict(options or {}, **kw)
        return self.wait(self.send(method, options))

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

    # ---- planning methods (docs/protocol-planning.md) ----

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


if __name__ == "__main__":
    import json
    import sys

    # python3 twinnet.py METHOD ['{"json": "options"}']  (host/port from env)
    import os
    if len(sys.argv) < 2:
        sys.exit("usage: twinnet.py METHOD [JSON-OPTIONS]")
    opts = json.loads(sys.argv[2]) if len(sys.argv) > 2 else None
    try:
        with Client(os.environ.get("TWINNET_HOST", "127.0.0.1"),
                    int(os.environ.get("TWINNET_PORT", "7700"))) as cl:
            print(json.dumps(cl.call(sys.argv[1], opts), ensure_ascii=False, indent=2))
    except TwinnetError as e:
        print("error: %s: %s" % (e.code, e.message), file=sys.stderr)
        sys.exit(3 if e.code == "unavailable" else 1)
