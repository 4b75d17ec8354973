"""The planning methods over RPC, the CLI and the Python client:
query.timeline and query.overlap checked against the built-in dataset's CSV
files read here; query.communities' modularity checked against NetworkX on
the Hunan data and on a hand-checked graph; query.whatif checked against
really applying the same change on a second server, and shown to commit
nothing (same epoch, no event)."""

import csv
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tnharness as h  # noqa: E402

import networkx as nx  # noqa: E402
from networkx.algorithms import community as nxc  # noqa: E402

MAIN = None
RAW = None
HOME = "CN-430000"
CONF_RANK = {"low": 0, "medium": 1, "high": 2}


def read_csv(name):
    path = os.path.join(h.source_dir(), "datasets", "hunan", name)
    with open(path, newline="", encoding="utf-8") as f:
        return [{k: v for k, v in row.items() if v != ""} for row in csv.DictReader(f)]


NODES = {n["id"]: n for n in read_csv("nodes.csv")}
PAIRS = read_csv("pairs.csv")


def country(nid):
    n = NODES[nid]
    return nid if n["kind"] == "country" else n["country"]


def units_of(root):
    """root and every node whose parent chain reaches it."""
    out = set()
    for nid in NODES:
        v, seen = nid, set()
        while v is not None and v not in seen:
            if v == root:
                out.add(nid)
                break
            seen.add(v)
            v = NODES[v].get("parent")
    return out


def unit_pairs(root, as_of=None, min_confidence="low"):
    """(unit end, foreign end, year or None) of root's pairs."""
    units, home_country = units_of(root), country(root)
    out = []
    for p in PAIRS:
        year = int(p["since"][:4]) if "since" in p else None
        if as_of is not None and year is not None and year > as_of:
            continue
        if CONF_RANK[p.get("confidence", "high")] < CONF_RANK[min_confidence]:
            continue
        for u, x in ((p["a"], p["b"]), (p["b"], p["a"])):
            if u in units and country(x) != home_country:
                out.append((u, x, year))
                break
    return out


def setUpModule():
    global MAIN, RAW
    MAIN = h.Daemon(args=["--dataset", "hunan"]).start()
    RAW = MAIN.client()


def tearDownModule():
    RAW.close()
    MAIN.stop()


def cli(*args, port=None):
    e = dict(os.environ)
    e.pop("TWINNET_TOKEN", None)
    cmd = [h.cli_path(), "--port", str(port or MAIN.port)] + list(args)
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=e, timeout=60)
    return p.returncode, p.stdout.decode("utf-8"), p.stderr.decode("utf-8")


def nx_graph(client, full=False):
    """The partnerships graph (province and city nodes, pairs as edges) built from node.list and pair.list."""
    g = nx.Graph()
    for kind in ("province", "city") + (("country",) if full else ()):
        for n in client.call("node.list", kind=kind, limit=10000)["items"]:
            g.add_node(n["id"])
    for p in client.call("pair.list", limit=10000)["items"]:
        g.add_edge(p["a"], p["b"])
    return g


def nx_modularity(g, membership):
    groups = {}
    for nid, c in membership.items():
        groups.setdefault(c, set()).add(nid)
    return nxc.modularity(g, list(groups.values()))


class Timeline(unittest.TestCase):
    def check(self, res, ref):
        dated = [y for _, _, y in ref if y is not None]
        years = res["years"]
        self.assertEqual([y["year"] for y in years], list(range(min(dated), max(dated) + 1)))
        for y in years:
            self.assertEqual(y["pairs"], dated.count(y["year"]), y)
            self.assertEqual(y["cumulative"], sum(1 for d in dated if d <= y["year"]))
        self.assertEqual(res["undated"], len(ref) - len(dated))

    def test_home_and_filters(self):
        self.check(RAW.call("query.timeline"), unit_pairs(HOME))
        self.check(RAW.call("query.timeline", as_of=2010), unit_pairs(HOME, as_of=2010))
        self.check(RAW.call("query.timeline", min_confidence="high"), unit_pairs(HOME, min_confidence="high"))
        self.check(RAW.call("query.timeline", unit="CN-430100"), unit_pairs("CN-430100"))

    def test_groups(self):
        res = RAW.call("query.timeline", by="region")
        ref = unit_pairs(HOME)
        regions = sorted({NODES[country(x)].get("region", "(unknown)") for _, x, _ in ref})
        self.assertEqual([g["group"] for g in res["groups"]], regions)
        for g in res["groups"]:
            mine = [r for r in ref if NODES[country(r[1])].get("region", "(unknown)") == g["group"]]
            self.assertEqual(g["undated"], sum(1 for r in mine if r[2] is None))
            self.assertEqual([y["year"] for y in g["years"]], [y["year"] for y in res["years"]])
        res = RAW.call("query.timeline", by="unit")
        self.assertEqual([g["group"] for g in res["groups"]], sorted({u for u, _, _ in ref}))

    def test_errors(self):
        self.assertEqual(RAW.error_code("query.timeline", {"unit": "XX-none"}), "not_found")
        self.assertEqual(RAW.error_code("query.timeline", {"unit": "JP"}), "invalid_params")
        self.assertEqual(RAW.error_code("query.timeline", {"by": "year"}), "invalid_params")
        self.assertEqual(RAW.error_code("query.timeline", {"deadline_ms": 0}), "invalid_params")
        self.assertEqual(RAW.error_code("query.timeline", {"other": 1}), "invalid_params")


class Overlap(unittest.TestCase):
    def test_against_csv(self):
        homes = ["CN-430100", HOME, "CN-430600"]
        res = RAW.call("query.overlap", homes=homes)
        self.assertEqual([x["id"] for x in res["homes"]], sorted(homes))
        cov = {k: {country(x) for _, x, _ in unit_pairs(k)} for k in homes}
        part = {k: {x for _, x, _ in unit_pairs(k)} for k in homes}
        for x in res["homes"]:
            k = x["id"]
            self.assertEqual(x["pairs"], len(unit_pairs(k)))
            self.assertEqual(x["countries"], len(cov[k]))
            self.assertEqual(x["partners"], len(part[k]))
            others = set().union(*(cov[o] for o in homes if o != k))
            self.assertEqual(x["only_countries"], sorted(cov[k] - others))
        shared = sorted(c for c in set().union(*cov.values()) if sum(c in cov[k] for k in homes) >= 2)
        self.assertEqual([s["id"] for s in res["shared_countries"]], shared)
        for s in res["similarity"]:
            a, b = cov[s["a"]], cov[s["b"]]
            self.assertAlmostEqual(s["jaccard"], len(a & b) / len(a | b) if a | b else 0.0, places=12)
        self.assertEqual(len(res["similarity"]), 3)

    def test_errors(self):
        self.assertEqual(RAW.error_code("query.overlap", {"homes": [HOME]}), "invalid_params")
        self.assertEqual(RAW.error_code("query.overlap", {"homes": [HOME] + ["CN-4301%02d" % i for i in range(8)]}),
                         "invalid_params")
        self.assertEqual(RAW.error_code("query.overlap", {"homes": [HOME, "XX-none"]}), "not_found")
        self.assertEqual(RAW.error_code("query.overlap", {}), "invalid_params")


class Communities(unittest.TestCase):
    def test_modularity_matches_networkx_on_hunan(self):
        g = nx_graph(RAW)
        for algorithm in ("multilevel", "leiden"):
            res = RAW.call("query.communities", algorithm=algorithm, members=True, top=100000)
            self.assertEqual(set(res["membership"]), set(g.nodes))
            self.assertAlmostEqual(res["modularity"], nx_modularity(g, res["membership"]), places=9)
            self.assertEqual(res["count"], len(set(res["membership"].values())))
            self.assertEqual(sum(i["size"] for i in res["items"]), g.number_of_nodes())
            # Deterministic: the same options give the same answer.
            self.assertEqual(RAW.call("query.communities", algorithm=algorithm, members=True, top=100000), res)
            # Near NetworkX's own Louvain optimum on this graph.
            best = nxc.modularity(g, nxc.louvain_communities(g, seed=1))
            self.assertGreater(res["modularity"], best - 0.02)
        full = RAW.call("query.communities", graph="full", members=True)
        self.assertAlmostEqual(full["modularity"],
                               nx_modularity(full_graph(), full["membership"]), places=9)

    def test_hand_checked_graph(self):
        """Two triangles joined by one edge plus an isolated vertex: the
        split into the triangles has modularity 2 * (3/7 - 1/4) = 5/14."""
        nodes = [{"id": "JP", "kind": "country", "name": "Japan"}]
        nodes += [{"id": "JP-" + v, "kind": "city", "name": v, "country": "JP"}
                  for v in ("a1", "a2", "a3", "b1", "b2", "b3", "c")]
        edges = [("a1", "a2"), ("a2", "a3"), ("a1", "a3"), ("b1", "b2"), ("b2", "b3"), ("b1", "b3"), ("a1", "b1")]
        pairs = [{"a": "JP-" + a, "b": "JP-" + b} for a, b in edges]
        with h.Daemon(empty=True) as d, d.client() as c:
            c.call("import.batch", nodes=nodes, pairs=pairs)
            g = nx_graph(c)
            for algorithm in ("multilevel", "leiden"):
                res = c.call("query.communities", algorithm=algorithm, members=True)
                self.assertAlmostEqual(res["modularity"], 5 / 14, places=12)
                self.assertAlmostEqual(nx_modularity(g, res["membership"]), 5 / 14, places=12)
                self.assertEqual([i["size"] for i in res["items"]], [3, 3, 1])
                self.assertEqual(res["items"][0]["top"], ["JP-a1", "JP-a2", "JP-a3"])

    def test_errors(self):
        for bad in ({"algorithm": "cpm"}, {"resolution": -1}, {"seed": "x"}, {"top": 0}, {"graph": "x"}):
            self.assertEqual(RAW.error_code("query.communities", bad), "invalid_params", bad)


def full_graph():
    """The "full" graph: every node; pairs plus parent/country links."""
    g = nx_graph(RAW, full=True)
    for nid, n in NODES.items():
        if n["kind"] == "country":
            continue
        to = n.get("parent") if n["kind"] == "city" else None
        g.add_edge(nid, to if to in NODES else n["country"])
    return g


# A hypothetical partner (not a real place) in a country Hunan does not
# reach, for a prefecture with no pair of its own.
ADD = [{"a": "CN-431200", "b": "ML-whatif-test", "since": 2026}]
NEW = [{"id": "ML-whatif-test", "kind": "city", "name": "Whatif Test City", "country": "ML"}]


class Whatif(unittest.TestCase):
    def test_matches_a_real_change_and_commits_nothing(self):
        queries = [{"method": "graph.stats"}, {"method": "query.coverage", "options": {"by": "country"}},
                   {"method": "query.gaps"}, {"method": "query.timeline", "options": {"by": "unit"}},
                   {"method": "query.centrality", "options": {"metric": "pagerank", "top": 50}}]
        remove = [{"a": "CN-430000", "b": "BB-bridgetown"}]
        with MAIN.client() as sub:
            self.assertEqual(sub.call("metrics.subscribe"), {"subscribed": True})
            epoch = RAW.call("server.info")["epoch"]
            res = RAW.call("query.whatif", nodes=NEW, add=ADD, remove=remove, queries=queries)
            self.assertEqual(res["epoch"], epoch)
            self.assertEqual(RAW.call("server.info")["epoch"], epoch)
            sub.drain(0.5)
            self.assertEqual([n for n in sub.notifications if n[0] == "event"], [])
        self.assertIsNone(RAW.error_code("node.get", {"id": "HU"}))
        self.assertEqual(RAW.error_code("node.get", {"id": NEW[0]["id"]}), "not_found")
        live = [RAW.call(q["method"], q.get("options")) for q in queries]
        # A second server, changed for real, answers what "after" said.
        with h.Daemon(args=["--dataset", "hunan"]) as d, d.client() as c:
            c.call("import.batch", nodes=NEW, pairs=ADD)
            c.call("pair.delete", **remove[0])
            for q, r, before in zip(queries, res["results"], live):
                self.assertEqual(r["method"], q["method"])
                self.assertEqual(strip_epoch(r["before"]), strip_epoch(before), q)
                self.assertEqual(strip_epoch(r["after"]), strip_epoch(c.call(q["method"], q.get("options"))), q)
        stats = res["results"][0]
        self.assertEqual(stats["after"]["home"]["countries"], stats["before"]["home"]["countries"])  # +RW -BB
        self.assertEqual(stats["after"]["nodes"]["city"], stats["before"]["nodes"]["city"] + 1)

    def test_filters_pass_down(self):
        res = RAW.call("query.whatif", as_of=2000, queries=[{"method": "query.timeline"}])
        self.assertEqual(res["results"][0]["before"], RAW.call("query.timeline", as_of=2000))

    def test_record_errors_are_import_batch_errors(self):
        bad_pairs = [{"a": "CN-431300", "b": "XX-nowhere"}, {"a": "CN-431300", "b": "JP", "kind": "odd"}]
        err_w, _ = RAW.request("query.whatif", {"add": bad_pairs, "queries": [{"method": "graph.stats"}]})
        err_b, _ = RAW.request("import.batch", {"pairs": bad_pairs, "dry_run": True})
        self.assertEqual(err_w["code"], err_b["code"])
        self.assertEqual(err_w["code"], "invalid_params")
        renamed = [dict(d, field=d["field"].replace("pairs.", "add.", 1)) for d in err_b["data"]]
        self.assertEqual(err_w["data"], renamed)
        err_w, _ = RAW.request("query.whatif", {"nodes": [{"id": "Q", "kind": "town"}],
                                                 "queries": [{"method": "graph.stats"}]})
        err_b, _ = RAW.request("import.batch", {"nodes": [{"id": "Q", "kind": "town"}], "dry_run": True})
        self.assertEqual(err_w["data"], err_b["data"])

    def test_errors(self):
        q = [{"method": "graph.stats"}]
        self.assertEqual(RAW.error_code("query.whatif", {"queries": []}), "invalid_params")
        self.assertEqual(RAW.error_code("query.whatif", {"queries": q * 9}), "invalid_params")
        self.assertEqual(RAW.error_code("query.whatif", {"queries": [{"method": "query.whatif",
                                                                       "options": {"queries": q}}]}),
                         "invalid_params")
        self.assertEqual(RAW.error_code("query.whatif", {"queries": [{"method": "pair.upsert"}]}), "invalid_params")
        self.assertEqual(RAW.error_code("query.whatif", {"remove": [{"a": "CN-430000", "b": "JP-nowhere"}],
                                                         "queries": q}), "not_found")
        self.assertEqual(RAW.error_code("query.whatif", {"queries": [{"method": "query.recommend",
                                                                       "options": {"unit": "XX"}}]}), "not_found")


class Stopping(unittest.TestCase):
    """deadline_ms and cancel reach the planning methods over the wire."""

    def test_deadline_and_cancel(self):
        nodes, pairs = h.generated_graph(11, 12000)
        slow = [{"method": "query.centrality", "options": {"metric": "betweenness"}}] * 8
        with h.Daemon(empty=True) as d, d.client() as c:
            h.load_batch(c, nodes, pairs)
            epoch = c.call("server.info")["epoch"]
            err, _ = c.request("query.whatif", {"queries": slow, "deadline_ms": 50})
            self.assertEqual(err["code"], "timeout")
            mid = c.send_request("query.whatif", {"queries": slow, "as_of": 1999, "progress": True})
            c.drain(0.2)
            c.notify("cancel", [{"msgid": mid}])
            err, _ = c.wait_response(mid, timeout=30)
            self.assertEqual(err["code"], "cancelled")
            self.assertEqual(c.call("server.info")["epoch"], epoch)
            self.assertEqual(c.call("server.ping"), "pong")


def strip_epoch(v):
    if isinstance(v, dict):
        return {k: strip_epoch(x) for k, x in v.items() if k != "epoch"}
    if isinstance(v, list):
        return [strip_epoch(x) for x in v]
    return v


class Discovery(unittest.TestCase):
    def test_methods_listed(self):
        items = {m["name"]: m for m in RAW.call("server.methods")["items"]}
        for name, param in (("query.timeline", "unit"), ("query.overlap", "homes"),
                            ("query.communities", "algorithm"), ("query.whatif", "queries")):
            self.assertIn(name, items)
            self.assertTrue(items[name]["slow"])
            self.assertEqual(items[name]["role"], "read")
            for p in (param, "as_of", "min_confidence", "deadline_ms", "progress"):
                self.assertIn(p, items[name]["params"])


class Cli(unittest.TestCase):
    def test_timeline(self):
        rc, out, err = cli("timeline", "--by", "region")
        self.assertEqual(rc, 0, err)
        self.assertIn("Partnerships of CN-430000 per year", out)
        self.assertIn("By group", out)
        rc, out, _ = cli("--json", "timeline", "CN-430100")
        self.assertEqual(json.loads(out), RAW.call("query.timeline", unit="CN-430100"))

    def test_overlap(self):
        rc, out, err = cli("overlap", HOME, "CN-430100")
        self.assertEqual(rc, 0, err)
        self.assertIn("Similarity of covered countries", out)
        self.assertEqual(cli("overlap", HOME)[0], 2)
        rc, _, err = cli("overlap", HOME, "XX-none")
        self.assertEqual(rc, 1)
        self.assertIn("not_found", err)

    def test_communities(self):
        rc, out, err = cli("communities", "--algorithm", "leiden", "--members", "--top", "3")
        self.assertEqual(rc, 0, err)
        self.assertIn("leiden communities on the partnerships graph", out)
        self.assertIn("Membership", out)
        rc, out, _ = cli("--json", "communities", "--seed", "3")
        self.assertEqual(json.loads(out), RAW.call("query.communities", seed=3))

    def test_whatif(self):
        rc, out, err = cli("whatif", "--node", json.dumps(NEW[0]), "--add", "CN-431200:ML-whatif-test",
                           "--", "coverage", "stats")
        self.assertEqual(rc, 0, err)
        self.assertIn("query.coverage:", out)
        self.assertIn("total.covered", out)
        self.assertIn("+1", out)
        rc, out, _ = cli("--json", "whatif", "--remove", "CN-430000:BB-bridgetown", "--",
                         'centrality:{"metric":"degree","top":5}')
        self.assertEqual(rc, 0)
        r = json.loads(out)["results"][0]
        self.assertEqual(r["method"], "query.centrality")
        self.assertEqual(cli("whatif", "--add", "nocolon", "--", "stats")[0], 2)
        rc, _, err = cli("whatif", "--add", "CN-431300:XX-none", "--", "stats")
        self.assertEqual(rc, 1)
        self.assertIn("add.b", err)


class PythonClient(unittest.TestCase):
    def test_methods(self):
        import twinnet
        with twinnet.Client("127.0.0.1", MAIN.port) as c:
            self.assertEqual(c.timeline(by="unit"), RAW.call("query.timeline", by="unit"))
            self.assertEqual(c.overlap(HOME, "CN-430100"), RAW.call("query.overlap", homes=[HOME, "CN-430100"]))
            self.assertEqual(c.communities(algorithm="leiden"), RAW.call("query.communities", algorithm="leiden"))
            r = c.whatif(["graph.stats"], remove=[("CN-430000", "BB-bridgetown")])
            self.assertEqual(r["results"][0]["after"]["pairs"]["total"],
                             r["results"][0]["before"]["pairs"]["total"] - 1)
            with self.assertRaises(twinnet.TwinnetError) as e:
                c.overlap(HOME)
            self.assertEqual(e.exception.code, "invalid_params")


if __name__ == "__main__":
    unittest.main()
