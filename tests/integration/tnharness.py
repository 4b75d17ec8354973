"""tnharness -- shared helpers for twinnet's integration tests.

- Daemon: starts twinnetd on 127.0.0.1 port 0 with --port-file in a fresh
  temporary directory, waits until the port is known and accepts, and stops
  it with SIGTERM, checking that it exits 0 and printed no sanitizer report.
- RawClient: a small msgpack-RPC client over a plain socket and
  msgpack.Unpacker. It can send arbitrary bytes (for the malformed-input
  tests), pipeline requests, and collect notifications.
- generated_graph(): a seeded random graph (countries, provinces, cities,
  pairs) to load with import.batch.
- proc_mem(): VmRSS / VmSize of a process from /proc.
- dataset(): what the built-in datasets hold, counted from the files in
  datasets/ (so tests compute their expected figures and never retype them).

Everything binds loopback only; every wait is bounded.
"""

import csv
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import msgpack

# Pass 2 of scripts/test.sh runs everything under ASan + UBSan + LSan and
# says so here. The allocator there keeps freed memory mapped for a while
# (quarantine, size-class caches), so RSS-growth limits get a fixed
# allowance; leaks are still caught in that pass by LeakSanitizer itself.
SANITIZED = os.environ.get("TN_SANITIZED") == "1"


def rss_allowance_kib(kib):
    """An RSS-growth limit of kib KiB, plus 32 MiB under the sanitizers."""
    return kib + ((32 << 10) if SANITIZED else 0)


REQUEST, RESPONSE, NOTIFY = 0, 1, 2
DEFAULT_TIMEOUT = 30.0


def _die_with_parent():
    """In the child before exec: SIGTERM when the test process goes away, so
    a killed or crashed test run leaves no daemon behind (Linux prctl)."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _binary(env, rel):
    """The binary named by $env, else a build directory's (manual runs)."""
    p = os.environ.get(env)
    if p:
        return p
    for build in ("/tmp/build-it", "/tmp/build"):
        cand = os.path.join(build, rel)
        if os.path.exists(cand):
            return cand
    raise RuntimeError("set %s to the %s binary" % (env, os.path.basename(rel)))


def daemon_path():
    return _binary("TWINNETD", "service/twinnetd")


def cli_path():
    return _binary("TWINNET_CLI", "clients/twinnet")


def source_dir():
    p = os.environ.get("TN_SOURCE_DIR")
    if p:
        return p
    return os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


HOME = "CN-430000"


class Dataset:
    """The figures a daemon started on built-in parts serves, counted from the
    committed datasets/<part>/ files with no help from the server.

    parts: ("hunan",) for `--dataset hunan`, ("hunan", "china") for the
    default. Attributes: nodes (id -> row), pairs (list of rows), meta (the
    hunan meta.json), and the counts below."""

    def __init__(self, parts=("hunan", "china")):
        self.parts = tuple(parts)
        self.nodes, self.pairs = {}, []
        for part in self.parts:
            d = os.path.join(source_dir(), "datasets", part)
            with open(os.path.join(d, "nodes.csv"), encoding="utf-8", newline="") as f:
                for r in csv.DictReader(f):
                    self.nodes[r["id"]] = r
            with open(os.path.join(d, "pairs.csv"), encoding="utf-8", newline="") as f:
                self.pairs.extend(csv.DictReader(f))
        with open(os.path.join(source_dir(), "datasets", "hunan", "meta.json"),
                  encoding="utf-8") as f:
            self.meta = json.load(f)

    def nodes_by_kind(self):
        out = {"country": 0, "province": 0, "city": 0}
        for r in self.nodes.values():
            out[r["kind"]] += 1
        return out

    def pair_counts(self, keep=lambda p: True):
        kept = [p for p in self.pairs if keep(p)]
        return {"total": len(kept),
                "sister": sum(1 for p in kept if p["kind"] == "sister"),
                "friendly": sum(1 for p in kept if p["kind"] == "friendly")}

    def is_unit(self, nid, home=HOME):
        seen = set()
        while nid and nid not in seen:
            if nid == home:
                return True
            seen.add(nid)
            nid = self.nodes.get(nid, {}).get("parent")
        return False

    def country_of(self, nid):
        n = self.nodes[nid]
        return n["country"] or nid

    def home_pairs(self, as_of=None, min_confidence="low", home=HOME):
        """Home pairs under the pair filters (docs/protocol.md)."""
        rank = {"low": 0, "medium": 1, "high": 2}
        out = []
        for p in self.pairs:
            if as_of is not None and p["since"] and int(p["since"][:4]) > as_of:
                continue
            if rank[p["confidence"] or "high"] < rank[min_confidence]:
                continue
            for u, o in ((p["a"], p["b"]), (p["b"], p["a"])):
                if self.is_unit(u, home) and self.country_of(o) != "CN":
                    out.append(p)
                    break
        return out

    def home_countries(self, pairs):
        return {self.country_of(p["b"]) if self.is_unit(p["a"]) else self.country_of(p["a"])
                for p in pairs}

    def pairs_touching(self, nid):
        return [p for p in self.pairs if nid in (p["a"], p["b"])]

    def pairs_in_country(self, iso):
        return [p for p in self.pairs
                if iso in (self.country_of(p["a"]), self.country_of(p["b"]))]


_DATASETS = {}


def dataset(parts=("hunan", "china")):
    """The (cached) Dataset of these parts; the default is what twinnetd serves
    without --dataset."""
    key = tuple(parts)
    if key not in _DATASETS:
        _DATASETS[key] = Dataset(key)
    return _DATASETS[key]


def pack(obj):
    return msgpack.packb(obj, use_bin_type=True)


class RpcError(Exception):
    def __init__(self, err):
        self.err = err
        self.code = err.get("code") if isinstance(err, dict) else None
        self.data = err.get("data") if isinstance(err, dict) else None
        super().__init__("%s: %s" % (self.code, err.get("message") if isinstance(err, dict) else err))


class Daemon:
    """One twinnetd process. Use as a context manager or call start/stop."""

    def __init__(self, args=(), empty=False, preexec_fn=None, listen="127.0.0.1:0", http=None):
        self.args = list(args)
        self.http = http                  # HTTP side port address (e.g. "127.0.0.1:0"); None: off
        self.http_port = None
        self.empty = empty
        self.preexec_fn = preexec_fn      # extra set-up in the child (e.g. rlimits)
        self.listen = listen              # loopback unless a test says otherwise
        self.proc = None
        self.port = None
        self.tmp = None
        self.stderr_path = None

    def start(self, timeout=20.0):
        self.tmp = tempfile.mkdtemp(prefix="tnit-")
        port_file = os.path.join(self.tmp, "port")
        self.stderr_path = os.path.join(self.tmp, "stderr.log")
        cmd = [daemon_path(), "--listen", self.listen, "--port-file", port_file]
        if self.empty:
            cmd.append("--empty")
        http_port_file = os.path.join(self.tmp, "http-port")
        if self.http is None:
            cmd += ["--http", "none"]
        else:
            cmd += ["--http", self.http, "--http-port-file", http_port_file]
        cmd += self.args
        self._stderr = open(self.stderr_path, "wb")
        extra = self.preexec_fn

        def preexec():
            _die_with_parent()
            if extra is not None:
                extra()

        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._stderr,
                                     stderr=self._stderr, preexec_fn=preexec)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("twinnetd exited early with %s: %s"
                                   % (self.proc.returncode, self.log()))
            try:
                with open(port_file) as f:
                    text = f.read().strip()
                if text and self.http is not None:
                    with open(http_port_file) as f:
                        self.http_port = int(f.read().strip())
                if text:
                    self.port = int(text)
                    # The file may be written just before listen(); probe.
                    with socket.create_connection(("127.0.0.1", self.port), timeout=2):
                        pass
                    return self
            except (OSError, ValueError):
                pass
            time.sleep(0.02)
        self.proc.kill()
        raise RuntimeError("twinnetd did not start within %.0f s: %s" % (timeout, self.log()))

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def client(self, timeout=DEFAULT_TIMEOUT):
        return RawClient(self.port, timeout=timeout)

    def stop(self, timeout=20.0):
        """SIGTERM; returns (exit code, log). Raises if it does not stop or
        it crashed or a sanitizer complained."""
        if self.proc is None:
            return 0, ""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            raise AssertionError("twinnetd did not exit within %.0f s of SIGTERM" % timeout)
        self._stderr.close()
        text = self.log()
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.proc = None
        problems = [w for w in ("AddressSanitizer", "runtime error:", "LeakSanitizer")
                    if w in text]
        if rc != 0 or problems:
            raise AssertionError("twinnetd exited with %s (%s); log tail:\n%s"
                                 % (rc, ", ".join(problems) or "no sanitizer report", text[-3000:]))
        return rc, text

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        if exc[0] is None:
            self.stop()
        elif self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self._stderr.close()
            self.proc = None
        return False


class RawClient:
    """A minimal msgpack-RPC client. Responses are kept by msgid, server
    notifications in self.notifications, in arrival order."""

    def __init__(self, port, timeout=DEFAULT_TIMEOUT, host="127.0.0.1"):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.unpacker = msgpack.Unpacker(raw=False, strict_map_key=False,
                                         max_buffer_size=1 << 30)
        self.responses = {}        # msgid -> list of [error, result] (to catch duplicates)
        self.order = []            # msgids in arrival order
        self.notifications = []
        self.other = []            # anything that is neither
        self.closed = False
        self.next_id = 1

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # ---- sending ----

    def send_bytes(self, data):
        self.sock.sendall(data)

    def send_request(self, method, params=None, msgid=None):
        """Send [0, msgid, method, params] and return the msgid. params: None
        means [], a dict means [dict], anything else is sent as is."""
        if msgid is None:
            msgid = self.next_id
            self.next_id += 1
        if params is None:
            params = []
        elif isinstance(params, dict):
            params = [params]
        self.send_bytes(pack([REQUEST, msgid, method, params]))
        return msgid

    def notify(self, method, params=None):
        self.send_bytes(pack([NOTIFY, method, [] if params is None else params]))

    # ---- receiving ----

    def _feed(self, deadline):
        """Read once from the socket (bounded by deadline). False on EOF."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no data from the server in time")
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(1 << 20)
        except socket.timeout:
            raise TimeoutError("no data from the server in time")
        except ConnectionResetError:
            data = b""
        if not data:
            self.closed = True
            return False
        self.unpacker.feed(data)
        for msg in self.unpacker:
            self._store(msg)
        return True

    def _store(self, msg):
        if isinstance(msg, list) and len(msg) == 4 and msg[0] == RESPONSE:
            self.responses.setdefault(msg[1], []).append((msg[2], msg[3]))
            self.order.append(msg[1])
        elif isinstance(msg, list) and len(msg) == 3 and msg[0] == NOTIFY:
            self.notifications.append((msg[1], msg[2]))
        else:
            self.other.append(msg)

    def wait_response(self, msgid, timeout=None):
        """(error, result) for msgid; raises TimeoutError / ConnectionError."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while msgid not in self.responses:
            if self.closed or not self._feed(deadline):
                raise ConnectionError("connection closed before the reply to %r" % (msgid,))
        return self.responses[msgid][0]

    def wait_responses(self, msgids, timeout=None):
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        for m in msgids:
            while m not in self.responses:
                if self.closed or not self._feed(deadline):
                    raise ConnectionError("connection closed before the reply to %r" % (m,))
        return [self.responses[m][0] for m in msgids]

    def wait_notification(self, method, timeout=5.0, start=0):
        """The params of the first notification called method at index >= start."""
        deadline = time.monotonic() + timeout
        while True:
            for i in range(start, len(self.notifications)):
                if self.notifications[i][0] == method:
                    return i, self.notifications[i][1]
            if self.closed or not self._feed(deadline):
                raise ConnectionError("connection closed while waiting for %s" % method)

    def read_all_until_close(self, timeout=5.0):
        """Read until EOF; returns True if the server closed in time."""
        deadline = time.monotonic() + timeout
        try:
            while not self.closed:
                if not self._feed(deadline):
                    return True
        except TimeoutError:
            return False
        return True

    def drain(self, quiet=0.2):
        """Read whatever arrives within quiet seconds."""
        try:
            while self._feed(time.monotonic() + quiet):
                pass
        except TimeoutError:
            pass

    # ---- convenience ----

    def request(self, method, params=None, timeout=None, msgid=None):
        """(error, result)."""
        m = self.send_request(method, params, msgid=msgid)
        return self.wait_response(m, timeout)

    def call(self, method, params=None, timeout=None, **kw):
        """The result, or RpcError. Keyword arguments become the options map."""
        if kw:
            params = dict(params or {}, **kw)
        err, res = self.request(method, params, timeout)
        if err is not None:
            raise RpcError(err)
        return res

    def error_code(self, method, params=None, timeout=None):
        err, res = self.request(method, params, timeout)
        if err is None:
            return None
        return err.get("code")


def ping_ok(port, timeout=5.0):
    """A fresh connection's ping answers "pong"."""
    with RawClient(port, timeout=timeout) as c:
        err, res = c.request("server.ping")
        return err is None and res == "pong"


def proc_mem(pid):
    """(VmRSS, VmSize) of pid in KiB."""
    rss = size = None
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmSize:"):
                size = int(line.split()[1])
    return rss, size


# ---- generated data ----

def generated_graph(seed, n_pairs, n_countries=40, n_provinces=60, n_cities=None, home="CN-430000",
                    with_home=True):
    """A seeded random dataset: (nodes, pairs), pairs unique and undirected,
    every end a province or city, every city with a country and mostly a
    parent province. Ids are ASCII and never collide with the built-in ones
    (prefix "G")."""
    rnd = random.Random(seed)
    if n_cities is None:
        n_cities = max(50, int(n_pairs * 0.6))
    regions = ["Africa", "Americas", "Asia", "Europe", "Oceania"]
    nodes = []
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    # Two-letter ids (the form of an ISO 3166-1 alpha-2 code); on a daemon
    # started --empty they are the only countries.
    countries = [letters[i // 26 % 26] + letters[i % 26] for i in range(n_countries)]
    for cid in countries:
        r = regions[rnd.randrange(len(regions))]
        nodes.append({"id": cid, "kind": "country", "name": "Country " + cid, "region": r,
                      "subregion": r + " sub " + str(rnd.randrange(3)),
                      "tags": ["bri"] if rnd.random() < 0.4 else []})
    units = []
    provinces = []
    for i in range(n_provinces):
        c = countries[rnd.randrange(len(countries))]
        pid = "G%s-prov-%d" % (c, i)
        provinces.append((pid, c))
        nodes.append({"id": pid, "kind": "province", "name": "Province %d" % i, "country": c})
        units.append(pid)
    for i in range(n_cities):
        if provinces and rnd.random() < 0.8:
            pid, c = provinces[rnd.randrange(len(provinces))]
            node = {"id": "G%s-city-%d" % (c, i), "kind": "city", "name": "City %d" % i,
                    "country": c, "parent": pid}
        else:
            c = countries[rnd.randrange(len(countries))]
            node = {"id": "G%s-city-%d" % (c, i), "kind": "city", "name": "City %d" % i,
                    "country": c}
        if rnd.random() < 0.5:
            node["lat"] = rnd.uniform(-60, 60)
            node["lon"] = rnd.uniform(-180, 180)
        nodes.append(node)
        units.append(node["id"])
    pairs = []
    seen = set()
    # Preferential-ish attachment so that there are hubs and a big component.
    weights = [1] * len(units)
    attempts = 0
    while len(pairs) < n_pairs and attempts < n_pairs * 20:
        attempts += 1
        i = rnd.randrange(len(units))
        j = rnd.choices(range(len(units)), weights=None if rnd.random() < 0.5 else weights)[0] \
            if len(units) < 5000 else rnd.randrange(len(units))
        if i == j:
            continue
        a, b = units[i], units[j]
        key = (a, b) if a < b else (b, a)
        if key in seen:
            continue
        seen.add(key)
        weights[i] += 1
        weights[j] += 1
        p = {"a": a, "b": b}
        r = rnd.random()
        if r < 0.1:
            p["kind"] = "friendly"
        if rnd.random() < 0.7:
            p["since"] = rnd.randrange(1980, 2025)
        c = rnd.random()
        if c < 0.2:
            p["confidence"] = "low"
        elif c < 0.4:
            p["confidence"] = "medium"
        pairs.append(p)
    return nodes, pairs


def load_batch(client, nodes, pairs, chunk=20000, timeout=120.0):
    """import.batch in chunks (nodes first, then pairs). Returns the last result."""
    res = None
    for i in range(0, len(nodes), chunk):
        res = client.call("import.batch", {"nodes": nodes[i:i + chunk]}, timeout=timeout)
    for i in range(0, len(pairs), chunk):
        res = client.call("import.batch", {"pairs": pairs[i:i + chunk]}, timeout=timeout)
    return res
