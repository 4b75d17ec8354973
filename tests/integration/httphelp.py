"""httphelp -- small HTTP helpers for the tests of twinnetd's HTTP side port:
GET with optional bearer token (JSON decoded when the answer is JSON), a
raw request over a plain socket, and an /events reader."""
import http.client
import json
import socket
import time


def get(port, path, token=None, method="GET", timeout=30.0, headers=None):
    """(status, headers dict, body: parsed JSON or text)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    h = dict(headers or {})
    if token is not None:
        h["Authorization"] = "Bearer " + token
    try:
        c.request(method, path, headers=h)
        r = c.getresponse()
        raw = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
    finally:
        c.close()
    ctype = hdrs.get("content-type", "")
    body = json.loads(raw) if ctype.startswith("application/json") and raw else raw.decode("utf-8", "replace")
    return r.status, hdrs, body


def raw_request(port, data, timeout=10.0):
    """Send bytes, return everything the server sends until it closes or
    goes quiet (the status line is what the tests look at)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        out = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not chunk:
                break
            out += chunk
            if b"\r\n\r\n" in out:
                head, _, rest = out.partition(b"\r\n\r\n")
                n = [int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
                if n and len(rest) >= n[0]:
                    break
        return out
    finally:
        s.close()


class Events:
    """GET /events on a socket; next_event() returns (event, data dict)."""

    def __init__(self, port, token=None, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        auth = "Authorization: Bearer %s\r\n" % token if token else ""
        self.sock.sendall(("GET /events HTTP/1.1\r\nHost: x\r\n%s\r\n" % auth).encode())
        self.buf = b""
        head = self._until(b"\r\n\r\n")
        self.status = int(head.split(b" ")[1])
        self.head = head

    def _until(self, sep):
        while sep not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("the server closed /events")
            self.buf += chunk
        part, _, self.buf = self.buf.partition(sep)
        return part

    def _chunk_text(self):
        """The next chunk of the chunked body, decoded."""
        size = int(self._until(b"\r\n").strip(), 16)
        while len(self.buf) < size + 2:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("the server closed /events")
            self.buf += chunk
        data, self.buf = self.buf[:size], self.buf[size + 2:]
        return data.decode()

    def next_event(self):
        """The next event that is not a comment: (name, data)."""
        while True:
            text = self._chunk_text()
            for block in text.split("\n\n"):
                lines = [l for l in block.split("\n") if l and not l.startswith(":")]
                name = [l[7:] for l in lines if l.startswith("event: ")]
                data = [l[6:] for l in lines if l.startswith("data: ")]
                if name and data:
                    return name[0], json.loads(data[0])

    def close(self):
        self.sock.close()
