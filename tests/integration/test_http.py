"""The HTTP side port: /healthz, /api/<method> (the same JSON as RPC,
errors with 400/401/403/404/503), read-only (no change is reachable),
/events, /metrics figures, tokens, and limits (oversized requests,
connection and /events caps, clients that go away)."""
import json
import math
import os
import socket
import subprocess
import sys
import time
import unittest

import httphelp as hh
import sechelp as s
import tnharness as h


def approx_equal(a, b):
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(approx_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(approx_equal(x, y) for x, y in zip(a, b))
    return a == b


def metric(text, name):
    """The value of one sample line 'name value' (name with labels)."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split(" ")[-1])
    raise AssertionError("no sample %s" % name)


class Open(unittest.TestCase):
    """No token file: loopback only, every client may read."""

    @classmethod
    def setUpClass(cls):
        cls.d = h.Daemon(http="127.0.0.1:0").start()
        cls.hp = cls.d.http_port
        cls.rpc = cls.d.client()

    @classmethod
    def tearDownClass(cls):
        cls.rpc.close()
        cls.d.stop()

    def test_healthz(self):
        st, hdr, body = hh.get(self.hp, "/healthz")
        self.assertEqual((st, body), (200, "ok\n"))

    def test_api_equals_rpc(self):
        for method, opts in [("graph.stats", {}), ("query.coverage", {"by": "region"}),
                             ("query.coverage", {"by": "tag", "tag": "bri"}),
                             ("node.get", {"id": "CN-430100"}),
                             ("query.gaps", {"region": "Africa", "limit": 5}),
                             ("query.centrality", {"metric": "pagerank", "top": 5}),
                             ("query.centrality", {"metric": "degree", "top": 3, "normalized": True}),
                             ("pair.list", {"unit": "CN-430100", "limit": 3}),
                             ("query.recommend", {"unit": "CN-430500", "top": 3})]:
            q = "&".join("%s=%s" % (k, str(v).lower() if isinstance(v, bool) else v) for k, v in opts.items())
            st, hdr, body = hh.get(self.hp, "/api/%s?%s" % (method, q))
            self.assertEqual(st, 200, (method, body))
            self.assertEqual(hdr["content-type"], "application/json")
            want = self.rpc.call(method, [opts] if opts else [])
            self.assertTrue(approx_equal(body, want), (method, body, want))
            # Asked again: a cache hit, the same answer.
            self.assertTrue(approx_equal(hh.get(self.hp, "/api/%s?%s" % (method, q))[2], want))

    def test_planning_methods_and_lists(self):
        # Read methods registered later are served with no HTTP change;
        # repeated keys make a list.
        st, _, body = hh.get(self.hp, "/api/query.overlap?homes=CN-430100&homes=CN-430200")
        self.assertEqual(st, 200, body)
        self.assertTrue(approx_equal(body, self.rpc.call("query.overlap", [{"homes": ["CN-430100", "CN-430200"]}])))
        st, _, body = hh.get(self.hp, "/api/query.timeline?by=region")
        self.assertEqual(st, 200, body)
        self.assertEqual(body, self.rpc.call("query.timeline", [{"by": "region"}]))

    def test_types_from_the_schema(self):
        # q is a string option: digits stay a string.
        st, _, body = hh.get(self.hp, "/api/node.find?q=430100")
        self.assertEqual(st, 200, body)
        self.assertEqual(body, self.rpc.call("node.find", [{"q": "430100"}]))
        self.assertIn("CN-430100", [n["id"] for n in body["items"]])
        # Inline read methods come from the registry too.
        st, _, info = hh.get(self.hp, "/api/server.info")
        self.assertEqual(st, 200)
        self.assertEqual(info["home"], "CN-430000")
        self.assertEqual(hh.get(self.hp, "/api/server.ping")[2], "pong")

    def test_metrics_get_has_server_section(self):
        st, _, body = hh.get(self.hp, "/api/metrics.get")
        self.assertEqual(st, 200)
        self.assertIn("server", body)
        self.assertGreater(len(body["timeline"]), 0)
        st, _, body2 = hh.get(self.hp, "/api/metrics.get?if_epoch=%d" % body["epoch"])
        self.assertEqual(body2, {"epoch": body["epoch"], "not_modified": True})

    def test_errors(self):
        cases = [("/api/query.coverage?by=nope", 400, "invalid_params"),
                 ("/api/query.coverage?bogus=1", 400, "invalid_params"),
                 ("/api/query.coverage?by=region&by=country", 400, "invalid_params"),   # a list
                 ("/api/query.centrality?normalized=yes", 400, "invalid_params"),
                 ("/api/query.gaps?limit=2.5", 400, "invalid_params"),
                 ("/api/query.gaps?deadline_ms=0", 400, "invalid_params"),
                 ("/api/query.gaps?%ZZ=1", 400, "invalid_params"),
                 ("/api/node.get?id=XX-nowhere", 404, "not_found"),
                 ("/api/node.get", 400, "invalid_params"),
                 ("/api/no.such.method", 404, "method_not_found"),
                 ("/api/", 404, "method_not_found"),
                 ("/nothing-here", 404, "not_found")]
        for path, status, code in cases:
            st, hdr, body = hh.get(self.hp, path)
            self.assertEqual(st, status, (path, body))
            self.assertEqual(body["error"]["code"], code, path)
            self.assertTrue(body["error"]["message"], path)

    def test_read_only(self):
        epoch = self.rpc.call("graph.stats")["epoch"]
        methods = self.rpc.call("server.methods")["items"]
        writes = [m["name"] for m in methods if m["role"] in ("write", "admin")]
        self.assertIn("pair.upsert", writes)
        self.assertIn("import.batch", writes)
        for name in writes:
            st, _, body = hh.get(self.hp, "/api/%s?pair=x&id=y" % name)
            self.assertEqual((st, body["error"]["code"]), (403, "forbidden"), name)
        for verb in ("POST", "PUT", "DELETE", "PATCH"):
            st, hdr, body = hh.get(self.hp, "/api/graph.stats", method=verb)
            self.assertEqual(st, 405, verb)
            self.assertEqual(hdr.get("allow"), "GET, HEAD")
        self.assertEqual(self.rpc.call("graph.stats")["epoch"], epoch, "nothing changed")

    def test_page_and_assets(self):
        st, hdr, body = hh.get(self.hp, "/")
        self.assertEqual(st, 200)
        self.assertTrue(hdr["content-type"].startswith("text/html"))
        self.assertIn("default-src 'self'", hdr["content-security-policy"])
        self.assertIn('id="map"', body)
        self.assertIn('id="covered-count"', body)
        for asset in ("/assets/app.js", "/assets/d3.min.js", "/assets/topojson-client.min.js",
                      "/assets/countries-50m.json", "/assets/countries.js", "/assets/style.css"):
            st, hdr, body = hh.get(self.hp, asset)
            self.assertEqual(st, 200, asset)
            if isinstance(body, str):
                self.assertNotIn("missing at build time", body[:200], asset)
            else:
                self.assertEqual(body["type"], "Topology", asset)
            # No other host: no absolute URL to fetch anything from.
            if asset in ("/assets/app.js", "/assets/style.css"):
                self.assertNotIn("http://", body)
                self.assertNotIn("https://", body)

    def test_events(self):
        ev = hh.Events(self.hp)
        try:
            self.assertEqual(ev.status, 200)
            self.assertIn(b"text/event-stream", ev.head)
            self.rpc.call("node.upsert", [{"node": {"id": "IS-ev-city", "kind": "city", "name": "Ev",
                                                    "country": "IS"}}])
            e1 = self.rpc.call("pair.upsert", [{"pair": {"a": "CN-430200", "b": "IS-ev-city"}}])["epoch"]
            e2 = self.rpc.call("pair.delete", [{"a": "CN-430200", "b": "IS-ev-city"}])["epoch"]
            got = [ev.next_event() for _ in range(3)]
            self.assertEqual([g[0] for g in got], ["epoch"] * 3)
            self.assertEqual([g[1]["epoch"] for g in got], [e1 - 1, e1, e2])
            self.assertEqual(got[0][1]["type"], "epoch")
        finally:
            ev.close()

    def test_metrics_figures(self):
        _, _, before = hh.get(self.hp, "/metrics")
        hh.get(self.hp, "/api/graph.stats?as_of=1990")
        hh.get(self.hp, "/api/graph.stats?as_of=1990")
        hh.get(self.hp, "/api/query.coverage?by=nope")
        self.rpc.call("server.ping")
        st, hdr, text = hh.get(self.hp, "/metrics")
        self.assertEqual(st, 200)
        self.assertTrue(hdr["content-type"].startswith("text/plain; version=0.0.4"))
        key = 'twinnet_requests_total{method="graph.stats",code="ok"}'
        self.assertEqual(metric(text, key) - metric(before, key), 2)
        key = 'twinnet_errors_total{method="query.coverage",code="invalid_params"}'
        self.assertGreaterEqual(metric(text, key), 1)
        self.assertGreaterEqual(metric(text, 'twinnet_requests_total{method="server.ping",code="ok"}'), 1)
        self.assertGreater(metric(text, "twinnet_cache_hits_total"), metric(before, "twinnet_cache_hits_total"))
        stats = self.rpc.call("graph.stats")
        cov = self.rpc.call("query.coverage")
        self.assertEqual(metric(text, "twinnet_epoch"), stats["epoch"])
        self.assertEqual(metric(text, "twinnet_covered_countries"), cov["total"]["covered"])
        self.assertEqual(metric(text, "twinnet_home_pairs"), stats["home"]["pairs"])
        for it in cov["items"]:
            self.assertAlmostEqual(metric(text, 'twinnet_coverage_ratio{region="%s"}' % it["group"]), it["ratio"])
        gaps = self.rpc.call("query.gaps")
        self.assertEqual(metric(text, "twinnet_idle_units"), len(gaps["idle_units"]))
        self.assertGreaterEqual(metric(text, 'twinnet_connections{transport="rpc"}'), 1)
        b = 'twinnet_request_duration_seconds_count{method="graph.stats"}'
        self.assertEqual(metric(text, b), metric(text, 'twinnet_request_duration_seconds_bucket{method="graph.stats",le="+Inf"}'))

    def test_limits(self):
        # An oversized header or request target: a 4xx, and the server carries on.
        big = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n"
        out = hh.raw_request(self.hp, big)
        self.assertRegex(out[:12].decode(), r"HTTP/1\.1 4\d\d")
        out = hh.raw_request(self.hp, b"GET /api/graph.stats?q=" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertRegex(out[:12].decode(), r"HTTP/1\.1 4\d\d")
        out = hh.raw_request(self.hp, b"NONSENSE\r\n\r\n")
        self.assertRegex(out[:12].decode(), r"HTTP/1\.1 4\d\d")
        out = hh.raw_request(self.hp, b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
        self.assertRegex(out[:12].decode(), r"HTTP/1\.1 4\d\d")
        self.assertEqual(hh.get(self.hp, "/healthz")[0], 200)


class Caps(unittest.TestCase):
    """Connection and /events caps, and clients that leave mid-request."""

    def test_connection_cap(self):
        with h.Daemon(http="127.0.0.1:0") as d:
            socks, statuses = [], []
            try:
                for _ in range(140):      # the cap is 128 HTTP connections
                    sk = socket.create_connection(("127.0.0.1", d.http_port), timeout=10)
                    sk.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                    socks.append(sk)
                for sk in socks:
                    statuses.append(sk.recv(4096)[:12].decode())
                ok = sum(1 for x in statuses if x.endswith("200"))
                busy = sum(1 for x in statuses if x.endswith("503"))
                self.assertEqual((ok, busy), (128, 12))
            finally:
                for sk in socks:
                    sk.close()
            # Once they are gone, new clients are served again.
            deadline = time.monotonic() + 10
            while hh.get(d.http_port, "/healthz")[0] != 200 and time.monotonic() < deadline:
                time.sleep(0.1)
            self.assertEqual(hh.get(d.http_port, "/healthz")[0], 200)
            self.assertTrue(d.alive())

    def test_events_cap_and_gone_clients(self):
        with h.Daemon(http="127.0.0.1:0") as d:
            evs = [hh.Events(d.http_port) for _ in range(32)]
            try:
                self.assertTrue(all(e.status == 200 for e in evs))
                st, _, body = hh.get(d.http_port, "/events")
                self.assertEqual((st, body["error"]["code"]), (503, "busy"))
            finally:
                for e in evs:
                    e.close()
            # Clients that vanish mid-query or mid-stream leave nothing behind.
            for _ in range(20):
                sk = socket.create_connection(("127.0.0.1", d.http_port), timeout=5)
                sk.sendall(b"GET /api/query.centrality?metric=betweenness HTTP/1.1\r\nHost: x\r\n\r\n")
                sk.close()
            with d.client() as c:
                c.call("node.upsert", [{"node": {"id": "IS-x", "kind": "city", "name": "X", "country": "IS"}}])
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                text = hh.get(d.http_port, "/metrics")[2]
                if metric(text, 'twinnet_event_subscribers{transport="http"}') == 0:
                    break
                time.sleep(0.1)
            self.assertEqual(metric(text, 'twinnet_event_subscribers{transport="http"}'), 0)
            self.assertEqual(hh.get(d.http_port, "/api/graph.stats")[0], 200)


class WithTokens(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.t = s.Tokens()
        cls.d = h.Daemon(http="127.0.0.1:0", args=["--tokens", cls.t.path]).start()
        cls.hp = cls.d.http_port

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.t.cleanup()

    def test_401_403(self):
        for path in ("/api/graph.stats", "/metrics", "/events"):
            st, hdr, body = hh.get(self.hp, path)
            self.assertEqual((st, body["error"]["code"]), (401, "unauthorized"), path)
            self.assertTrue(hdr["www-authenticate"].startswith("Bearer"))
            st, _, body = hh.get(self.hp, path, token="read-" + "0" * 32)
            self.assertEqual((st, body["error"]["code"]), (401, "unauthorized"), path)
        st, _, body = hh.get(self.hp, "/api/graph.stats", token=self.t.token["read"])
        self.assertEqual(st, 200)
        self.assertEqual(body["home"]["id"], "CN-430000")
        self.assertEqual(hh.get(self.hp, "/metrics", token=self.t.token["read"])[0], 200)
        for role in ("read", "write", "admin"):
            st, _, body = hh.get(self.hp, "/api/pair.upsert", token=self.t.token[role])
            self.assertEqual((st, body["error"]["code"]), (403, "forbidden"), role)
        # Open: the health check and the page's static files (no data).
        self.assertEqual(hh.get(self.hp, "/healthz")[0], 200)
        self.assertEqual(hh.get(self.hp, "/")[0], 200)
        ev = hh.Events(self.hp, token=self.t.token["read"])
        self.assertEqual(ev.status, 200)
        ev.close()
        self.assertNotIn(self.t.token["read"], self.d.log())


class Refusals(unittest.TestCase):
    def test_non_loopback_without_tokens(self):
        r = subprocess.run([h.daemon_path(), "--listen", "127.0.0.1:0", "--http", "0.0.0.0:0"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn("loopback", r.stderr)

    def test_bad_flag(self):
        r = subprocess.run([h.daemon_path(), "--http", "nonsense"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2)

    def test_none_and_taken_port(self):
        with h.Daemon(http="127.0.0.1:0") as d:
            # An explicit --http on a port in use is an error ...
            r = subprocess.run([h.daemon_path(), "--listen", "127.0.0.1:0",
                                "--http", "127.0.0.1:%d" % d.http_port], capture_output=True, text=True,
                               timeout=30)
            self.assertEqual(r.returncode, 1)
            self.assertIn("HTTP", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2, argv=[sys.argv[0]] + sys.argv[1:])
