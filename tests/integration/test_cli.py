"""The twinnet command line (docs/cli.md) against a real daemon: every
subcommand prints a table, --json prints the server's result, and errors
exit 1 (server error), 2 (bad arguments) or 3 (server unreachable)."""

import json
import os
import socket
import subprocess
import sys
import threading
import unicodedata
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tnharness as h  # noqa: E402

MAIN = None
RAW = None




def setUpModule():
    global MAIN, RAW
    MAIN = h.Daemon().start()
    RAW = MAIN.client()


def tearDownModule():
    RAW.close()
    MAIN.stop()


def run(*args, port=None, env=None, timeout=60):
    e = dict(os.environ)
    e.pop("TWINNET_TOKEN", None)
    if env:
        e.update(env)
    cmd = [h.cli_path(), "--port", str(port if port is not None else MAIN.port)] + list(args)
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=e, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8"), p.stderr.decode("utf-8")


def width(s):
    """Terminal columns of s (CJK wide characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in s)


def strip_epoch(v):
    if isinstance(v, dict):
        return {k: strip_epoch(x) for k, x in v.items() if k not in ("uptime_s", "connections")}
    if isinstance(v, list):
        return [strip_epoch(x) for x in v]
    return v


class Tables(unittest.TestCase):
    def ok(self, *args):
        rc, out, err = run(*args)
        self.assertEqual(rc, 0, "twinnet %s: rc %d, stderr %s" % (" ".join(args), rc, err))
        self.assertTrue(out.strip(), "no output from twinnet " + " ".join(args))
        return out

    def rows(self, out, header_first):
        """The lines after the header line that starts with header_first."""
        lines = out.splitlines()
        for i, line in enumerate(lines):
            if line.split() and line.split()[0] == header_first:
                return line, [l for l in lines[i + 1:] if l.strip()]
        self.fail("no table header starting with %r in:\n%s" % (header_first, out))

    def test_ping(self):
        self.assertEqual(self.ok("ping").strip(), "pong")

    def test_info(self):
        out = self.ok("info")
        kv = dict(line.split(None, 1) if len(line.split(None, 1)) == 2 else (line.strip(), "")
                  for line in out.splitlines() if line.strip())
        self.assertEqual(kv["home"].strip(), "CN-430000")
        self.assertEqual(kv["version"].strip(), RAW.call("server.info")["version"])

    def test_stats(self):
        out = self.ok("stats")
        st = RAW.call("graph.stats")
        self.assertIn("%d countries" % st["nodes"]["country"], out)
        self.assertIn("%d cities" % st["nodes"]["city"], out)
        self.assertIn(str(st["pairs"]["total"]), out)
        out = self.ok("stats", "--as-of", "2021", "--min-confidence", "medium")
        st = RAW.call("graph.stats", {"as_of": 2021, "min_confidence": "medium"})
        self.assertIn("%d pairs with %d countries" % (st["home"]["pairs"], st["home"]["countries"]), out)

    def test_centrality_table(self):
        out = self.ok("centrality", "--metric", "betweenness", "--top", "5", "--normalized")
        header, rows = self.rows(out, "#")
        self.assertEqual(header.split(), ["#", "id", "name", "score"])
        want = RAW.call("query.centrality", {"metric": "betweenness", "top": 5, "normalized": True})
        self.assertEqual(len(rows), 5)
        self.assertEqual([r.split()[1] for r in rows], [it["id"] for it in want["items"]])
        self.assertEqual([r.split()[0] for r in rows], ["1", "2", "3", "4", "5"])
        for r, it in zip(rows, want["items"]):
            self.assertAlmostEqual(float(r.split()[-1]), it["score"], delta=abs(it["score"]) * 1e-2 + 1e-3)
        for args in (["--graph", "full", "--kind", "city", "--country", "JP"],
                     ["--metric", "closeness", "--cutoff", "2"], ["--metric", "pagerank", "--damping", "0.5"]):
            a = ["centrality", "--top", "3"] + args
            if "--metric" not in args:
                a += ["--metric", "degree"]
            self.ok(*a)

    def test_coverage_every_by(self):
        for by, first in (("region", "group"), ("subregion", "group"), ("country", "id"), ("unit", "id")):
            with self.subTest(by=by):
                out = self.ok("coverage", "--by", by)
                header, rows = self.rows(out, first)
                res = RAW.call("query.coverage", {"by": by})
                self.assertEqual(len(rows), len(res["items"]))
                self.assertIn("%d of %d countries" % (res["total"]["covered"], res["total"]["countries"]), out)
        out = self.ok("coverage", "--by", "tag", "--tag", "bri")
        header, rows = self.rows(out, "group")
        self.assertEqual(header.split(), ["group", "countries", "covered", "ratio", "pairs", "units"])
        # Counted from the dataset files: the bri countries (less China)
        # and those with a Hunan pair.
        data = h.dataset()
        bri = {i for i, n in data.nodes.items()
               if n["kind"] == "country" and "bri" in n["tags"].split(";") and i != "CN"}
        covered = bri & data.home_countries(data.home_pairs())
        self.assertEqual(rows[0].split()[:3], ["bri", str(len(bri)), str(len(covered))])

    def test_gaps(self):
        out = self.ok("gaps", "--region", "Oceania", "--limit", "3")
        res = RAW.call("query.gaps", {"region": "Oceania", "limit": 3})
        for x in res["uncovered"]:
            self.assertIn(x["id"], out)
        for x in res["idle_units"]:
            self.assertIn(x["id"], out)
        self.assertIn("Oceania", out)

    def test_recommend(self):
        # The built-in data's foreign nodes are all partners of Hunan units:
        # --include-home (exclude_home false) is what leaves candidates.
        out = self.ok("recommend", "CN-430600", "--top", "3", "--include-home")
        res = RAW.call("query.recommend", {"unit": "CN-430600", "top": 3, "exclude_home": False})
        self.assertEqual(len(res["items"]), 3)
        table, why = out.split("\nWhy\n")
        header, rows = self.rows(table, "#")
        self.assertEqual([r.split()[1] for r in rows], [it["id"] for it in res["items"]])
        # Every reason on its own line, under its row number.
        lines = why.splitlines()
        for i, it in enumerate(res["items"]):
            start = lines.index("%d  %s" % (i + 1, it["reasons"][0]))
            for k, r in enumerate(it["reasons"][1:], 1):
                self.assertEqual(lines[start + k].strip(), r)

    def test_plan(self):
        out = self.ok("plan", "--target", "Europe", "--budget", "3")
        res = RAW.call("query.plan", {"target": "Europe", "budget": 3})
        self.assertIn("covered now %d of %d" % (res["before"]["covered"], res["before"]["countries"]),
                      out)
        self.assertIn("after the plan %d of %d" % (res["after"]["covered"], res["after"]["countries"]),
                      out)
        header, rows = self.rows(out.split("\nWhy\n")[0], "#")
        self.assertEqual(len(rows), len(res["steps"]))
        for row, st in zip(rows, res["steps"]):
            self.assertEqual(row.split()[1:3], [st["unit"], st["country"]])
            for r in st["reasons"]:
                self.assertIn(r, out)
        rc, _, err = run("plan", "--budget", "0")
        self.assertEqual(rc, 1, err)
        self.assertIn("invalid_params", err)

    def test_node_neighbors_find_pairs(self):
        out = self.ok("node", "CN-430100")
        self.assertIn("Changsha", out)
        self.assertIn("长沙市", out)
        out = self.ok("neighbors", "CN-430100")
        header, rows = self.rows(out, "id")
        self.assertEqual(len(rows), RAW.call("node.get", {"id": "CN-430100"})["degree"])
        out = self.ok("neighbors", "CN-430100", "--kind", "friendly")
        header, rows = self.rows(out, "id")
        self.assertEqual([r.split()[0] for r in rows], ["KR-daegu"])
        out = self.ok("pairs", "--unit", "CN-430100", "--limit", "5")
        header, rows = self.rows(out, "a")
        self.assertEqual(len(rows), 5)
        self.assertIn("5 of 17", out)
        out = self.ok("pairs", "--since-from", "2015", "--since-to", "2018", "--limit", "100")
        res = RAW.call("pair.list", {"since_from": 2015, "since_to": 2018, "limit": 100})
        header, rows = self.rows(out, "a")
        self.assertEqual(len(rows), res["total"])

    def test_find_aligns_cjk(self):
        out = self.ok("find", "长沙")
        header, rows = self.rows(out, "id")
        self.assertEqual(len(rows), 1)
        # The 'country' column starts at the same terminal column in the
        # header and in the row although 长沙市 is 3 characters, 6 columns.
        col_h = width(header[:header.index("country")])
        col_r = width(rows[0][:rows[0].rindex("CN")])
        self.assertEqual(col_h, col_r, "columns misaligned:\n%s" % out)

    def test_metrics_and_methods(self):
        out = self.ok("metrics")
        self.assertIn("Europe", out)
        out = self.ok("methods")
        for m in ("server.ping", "query.centrality", "import.batch"):
            self.assertIn(m, out)


class Json(unittest.TestCase):
    CASES = [
        (["stats"], "graph.stats", {}),
        (["stats", "--as-of", "2021"], "graph.stats", {"as_of": 2021}),
        (["centrality", "--metric", "harmonic", "--top", "7"], "query.centrality",
         {"metric": "harmonic", "top": 7}),
        (["coverage", "--by", "unit"], "query.coverage", {"by": "unit"}),
        (["gaps", "--limit", "4"], "query.gaps", {"limit": 4}),
        (["recommend", "CN-430100"], "query.recommend", {"unit": "CN-430100"}),
        (["recommend", "CN-430100", "--include-home", "--kind", "city", "--tag", "bri"],
         "query.recommend", {"unit": "CN-430100", "exclude_home": False, "kind": "city",
                             "tag": "bri"}),
        (["plan", "--target", "bri", "--budget", "2"], "query.plan", {"target": "bri", "budget": 2}),
        (["node", "JP"], "node.get", {"id": "JP"}),
        (["neighbors", "CN-430600"], "node.neighbors", {"id": "CN-430600"}),
        (["find", "sha", "--kind", "city"], "node.find", {"q": "sha", "kind": "city"}),
        (["pairs", "--country", "JP"], "pair.list", {"country": "JP"}),
        (["ping"], "server.ping", {}),
        (["info"], "server.info", {}),
        (["call", "node.get", '{"id": "CN-430100"}'], "node.get", {"id": "CN-430100"}),
    ]

    def test_json_equals_the_server_result(self):
        for args, method, opts in self.CASES:
            for where in ("before", "after"):
                with self.subTest(args=args, where=where):
                    a = ["--json"] + args if where == "before" else args + ["--json"]
                    rc, out, err = run(*a)
                    self.assertEqual(rc, 0, err)
                    got = json.loads(out)
                    want = RAW.call(method, opts or None)
                    self.assertEqual(strip_epoch(got), strip_epoch(want))

    def test_call_change_and_equals_form(self):
        rc, out, err = run("--json", "call", "import.batch",
                           '{"dry_run": true, "pairs": [{"a": "CN-430100", "b": "JP-kagoshima"}]}')
        self.assertEqual(rc, 0, err)
        res = json.loads(out)
        self.assertTrue(res["dry_run"])
        self.assertEqual(res["epoch"], RAW.call("server.info")["epoch"])
        rc, out, err = run("--json", "centrality", "--metric=degree", "--top=2")
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(json.loads(out)["items"]), 2)


class ExitCodes(unittest.TestCase):
    def test_server_errors_exit_1(self):
        rc, out, err = run("node", "XX-none")
        self.assertEqual(rc, 1)
        self.assertIn("error: not_found", err + out)
        rc, out, err = run("centrality", "--metric", "katz")
        self.assertEqual(rc, 1)
        self.assertIn("invalid_params", err + out)
        rc, out, err = run("call", "import.batch", '{"pairs": [{"a": "CN-430100", "b": "nowhere"}]}')
        self.assertEqual(rc, 1)
        text = err + out
        self.assertIn("error: invalid_params", text)
        self.assertIn("[0] pairs.b: no such node: nowhere", text)
        # A refused change changed nothing.
        self.assertEqual(RAW.call("graph.stats")["pairs"]["total"], h.dataset().pair_counts()["total"])

    def test_bad_arguments_exit_2(self):
        for args in (["centrality", "--metric", "degree", "--top", "x"], ["no-such-command"],
                     ["stats", "--no-such-option"], ["call", "node.get", "{not json"],
                     ["pairs", "--limit"], ["node"], ["centrality"]):
            with self.subTest(args=args):
                rc, out, err = run(*args)
                self.assertEqual(rc, 2, "rc %d for %r: %s %s" % (rc, args, out, err))
                self.assertTrue(err.strip())
        rc, out, err = run("--port", "notaport", "ping")
        self.assertEqual(rc, 2)

    def test_unreachable_exit_3(self):
        # A port nobody listens on.
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        rc, out, err = run("ping", port=port)
        self.assertEqual(rc, 3)
        self.assertIn("cannot connect", err)

    def test_no_reply_within_timeout_exit_3(self):
        # Accepts, reads, never answers.
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(4)
        port = srv.getsockname()[1]
        conns = []

        def accept():
            try:
                c, _ = srv.accept()
                conns.append(c)
            except OSError:
                pass
        t = threading.Thread(target=accept, daemon=True)
        t.start()
        try:
            rc, out, err = run("--timeout", "1", "ping", port=port, timeout=30)
            self.assertEqual(rc, 3, err)
        finally:
            srv.close()
            for c in conns:
                c.close()

    def test_connection_lost_exit_3(self):
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(4)
        port = srv.getsockname()[1]

        def accept_and_close():
            try:
                c, _ = srv.accept()
                c.recv(100)
                c.close()
            except OSError:
                pass
        t = threading.Thread(target=accept_and_close, daemon=True)
        t.start()
        try:
            rc, out, err = run("--timeout", "5", "stats", port=port, timeout=30)
            self.assertEqual(rc, 3, err)
        finally:
            srv.close()

    def test_token_env_without_auth_configured(self):
        rc, out, err = run("ping", env={"TWINNET_TOKEN": "not-a-real-token"})
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.strip(), "pong")


if __name__ == "__main__":
    unittest.main()
