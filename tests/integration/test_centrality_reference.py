"""query.centrality against reference implementations (docs/protocol.md):
all seven metrics on both graphs ("partnerships", "full"), normalized or
not, with cutoffs for betweenness/closeness/harmonic, on (a) the Hunan
dataset (--dataset hunan), with the graphs built here from
datasets/hunan/*.csv, (b) degree and closeness on the default dataset
(hunan + china), and (c) a seeded random graph of a few thousand pairs
loaded with import.batch.

References: NetworkX for degree, betweenness, closeness
(wf_improved=False), harmonic, pagerank and constraint; a dense symmetric
eigen-decomposition (numpy) for eigenvector, cross-checked with
python-igraph; our own truncated BFS (Brandes with a depth limit) for the
cutoff variants, cross-checked with python-igraph. Tolerances: 1e-9
relative for exact metrics, 1e-6 for eigenvector and pagerank.
"""

import csv
import math
import warnings
import os
import sys
import unittest
from collections import deque

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import igraph  # noqa: E402
import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402

import tnharness as h  # noqa: E402


METRICS = ("degree", "betweenness", "closeness", "harmonic", "eigenvector", "pagerank", "constraint")
CUTOFF_METRICS = ("betweenness", "closeness", "harmonic")
EXACT_REL = 1e-9
APPROX_REL = 1e-6


# ---- graphs (section 4) ----

def build_graph(nodes, pairs, full, keep=None):
    """nodes: {id: node map}; pairs: [pair map]. An undirected simple graph."""
    g = nx.Graph()
    for nid, n in nodes.items():
        if full or n["kind"] != "country":
            g.add_node(nid)
    for p in pairs:
        if keep is not None and not keep(p):
            continue
        if p["a"] in g and p["b"] in g and p["a"] != p["b"]:
            g.add_edge(p["a"], p["b"])
    if full:
        for nid, n in nodes.items():
            if n["kind"] == "country":
                continue
            to = None
            if n["kind"] == "city" and n.get("parent") in nodes:
                to = n["parent"]
            if to is None and n.get("country") in nodes:
                to = n["country"]
            if to is not None and to != nid:
                g.add_edge(nid, to)
    return g


def csv_dataset(src, parts=("hunan",)):
    nodes, pairs = {}, []
    for part in parts:
        d = os.path.join(src, "datasets", part)
        with open(os.path.join(d, "nodes.csv"), newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                nodes[row["id"]] = {k: v for k, v in row.items() if v != ""}
        with open(os.path.join(d, "pairs.csv"), newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                pairs.append({k: v for k, v in row.items() if v != ""})
    return nodes, pairs


# ---- references ----

def bfs_dist(g, s, cutoff=None):
    return nx.single_source_shortest_path_length(g, s, cutoff=cutoff)


def closeness_ref(g, cutoff=None):
    out = {}
    for v in g:
        d = bfs_dist(g, v, cutoff)
        r = len(d)
        tot = sum(d.values())
        out[v] = (r - 1) / tot if tot > 0 else 0.0
    return out


def harmonic_ref(g, cutoff=None):
    out = {}
    for v in g:
        out[v] = sum(1.0 / x for u, x in bfs_dist(g, v, cutoff).items() if u != v)
    return out


def betweenness_cutoff_ref(g, cutoff):
    """Brandes over BFS trees cut at depth 'cutoff': only shortest paths of
    length <= cutoff count (igraph's betweenness_cutoff). Undirected: halved."""
    bc = dict.fromkeys(g, 0.0)
    for s in g:
        stack, preds = [], {s: []}
        sigma, dist = {s: 1.0}, {s: 0}
        q = deque([s])
        while q:
            v = q.popleft()
            stack.append(v)
            if dist[v] >= cutoff:
                continue
            for w in g[v]:
                if w not in dist:
                    dist[w] = dist[v] + 1
                    sigma[w] = 0.0
                    preds[w] = []
                    q.append(w)
                if dist[w] == dist[v] + 1:
                    sigma[w] += sigma[v]
                    preds[w].append(v)
        delta = dict.fromkeys(stack, 0.0)
        while stack:
            w = stack.pop()
            for v in preds[w]:
                delta[v] += sigma[v] / sigma[w] * (1.0 + delta[w])
            if w != s:
                bc[w] += delta[w]
    return {v: x / 2.0 for v, x in bc.items()}


def eigenvector_ref(g):
    order = list(g)
    if not order:
        return {}
    a = nx.to_numpy_array(g, nodelist=order)
    w, vecs = np.linalg.eigh(a)
    x = np.abs(vecs[:, -1])
    m = x.max()
    x = x / m if m > 0 else x
    gap = w[-1] - w[-2] if len(w) > 1 else float("inf")
    return {v: float(x[i]) for i, v in enumerate(order)}, float(gap)


def igraph_of(g):
    order = sorted(g)
    idx = {v: i for i, v in enumerate(order)}
    ig = igraph.Graph(n=len(order), edges=[(idx[a], idx[b]) for a, b in g.edges()], directed=False)
    return ig, order


def reference(g, metric, normalized, cutoff=None, damping=0.85):
    """{vertex id: score} as docs/protocol.md, "Methods" defines it."""
    n = g.number_of_nodes()
    if metric == "degree":
        raw = {v: float(d) for v, d in g.degree()}
        return {v: x / (n - 1) for v, x in raw.items()} if normalized and n > 1 else raw
    if metric == "betweenness":
        if cutoff is None:
            raw = nx.betweenness_centrality(g, normalized=False)
        else:
            raw = betweenness_cutoff_ref(g, cutoff)
        if normalized and n > 2:
            return {v: x / ((n - 1) * (n - 2) / 2.0) for v, x in raw.items()}
        return raw
    if metric == "closeness":
        if cutoff is None:
            return dict(nx.closeness_centrality(g, wf_improved=False))
        return closeness_ref(g, cutoff)
    if metric == "harmonic":
        raw = dict(nx.harmonic_centrality(g)) if cutoff is None else harmonic_ref(g, cutoff)
        return {v: x / (n - 1) for v, x in raw.items()} if normalized and n > 1 else raw
    if metric == "eigenvector":
        return eigenvector_ref(g)[0]
    if metric == "pagerank":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return nx.pagerank(g, alpha=damping, tol=1e-14, max_iter=100000)
    if metric == "constraint":
        deg = dict(g.degree())
        return {v: x for v, x in nx.constraint(g).items() if deg[v] > 0}
    raise ValueError(metric)


# ---- the test machinery ----

class RefBase(unittest.TestCase):
    """The machinery: the server's scores, the references, the comparison."""
    daemon = None
    nodes = None
    pairs = None
    graphs = None
    _cache = None

    @classmethod
    def graph(cls, name):
        return cls.graphs[name]

    @classmethod
    def ref(cls, gname, metric, normalized, cutoff=None, damping=0.85):
        key = (gname, metric, normalized, cutoff, damping)
        if key not in cls._cache:
            cls._cache[key] = reference(cls.graph(gname), metric, normalized, cutoff, damping)
        return cls._cache[key]

    def server(self, **opts):
        p = {"top": 100000, "deadline_ms": 600000}
        p.update(opts)
        p = {k: v for k, v in p.items() if v is not None}     # None: leave the option out
        with self.daemon.client(timeout=600) as c:
            return c.call("query.centrality", p)

    def check_order(self, items):
        for x, y in zip(items, items[1:]):
            self.assertTrue(x["score"] > y["score"] or (x["score"] == y["score"] and x["id"] < y["id"]),
                            "order broken at %r, %r" % (x, y))

    def compare(self, got, want, rel, what):
        ids = [it["id"] for it in got["items"]]
        self.assertEqual(len(ids), len(set(ids)), what + ": repeated ids")
        self.assertEqual(set(ids), set(want), what + ": vertex sets differ")
        abs_tol = 1e-12 if rel == EXACT_REL else 1e-7
        bad = []
        for it in got["items"]:
            w = want[it["id"]]
            if not math.isclose(it["score"], w, rel_tol=rel, abs_tol=abs_tol):
                bad.append((it["id"], it["score"], w))
        self.assertEqual(bad[:10], [], "%s: %d scores differ (id, server, reference)" % (what, len(bad)))
        self.check_order(got["items"])
        for it in got["items"]:
            self.assertTrue(math.isfinite(it["score"]))
            self.assertEqual(set(it), {"id", "name", "score"})
            self.assertEqual(it["name"], self.nodes[it["id"]]["name"])

    def run_metric(self, metric):
        rel = APPROX_REL if metric in ("eigenvector", "pagerank") else EXACT_REL
        for gname in ("partnerships", "full"):
            for normalized in (False, True):
                with self.subTest(graph=gname, normalized=normalized):
                    got = self.server(metric=metric, graph=gname, normalized=normalized)
                    self.assertEqual(got["metric"], metric)
                    self.assertEqual(got["graph"], gname)
                    self.assertIsInstance(got["epoch"], int)
                    self.compare(got, self.ref(gname, metric, normalized), rel,
                                 "%s/%s/normalized=%s" % (gname, metric, normalized))
            if metric in CUTOFF_METRICS:
                for cutoff in (1, 2, 3):
                    for normalized in (False, True):
                        with self.subTest(graph=gname, cutoff=cutoff, normalized=normalized):
                            got = self.server(metric=metric, graph=gname, normalized=normalized,
                                              cutoff=cutoff)
                            self.compare(got, self.ref(gname, metric, normalized, cutoff), rel,
                                         "%s/%s/cutoff=%d/normalized=%s"
                                         % (gname, metric, cutoff, normalized))
            if metric == "pagerank":
                for damping in (0.5, 0.99, 0.0):
                    with self.subTest(graph=gname, damping=damping):
                        got = self.server(metric=metric, graph=gname, damping=damping)
                        self.compare(got, self.ref(gname, metric, False, None, damping), rel,
                                     "%s/pagerank/damping=%s" % (gname, damping))
                        self.assertAlmostEqual(sum(it["score"] for it in got["items"]), 1.0, places=9)



class RefCase(RefBase):
    """Every metric, both graphs, the options: for each dataset below.
    One test per metric, so a failure names it."""

    def test_degree(self):
        self.run_metric("degree")

    def test_betweenness(self):
        self.run_metric("betweenness")

    def test_closeness(self):
        self.run_metric("closeness")

    def test_harmonic(self):
        self.run_metric("harmonic")

    def test_eigenvector(self):
        self.run_metric("eigenvector")

    def test_pagerank(self):
        self.run_metric("pagerank")

    def test_constraint(self):
        self.run_metric("constraint")

    def test_cross_check_with_python_igraph(self):
        """The references themselves, checked against python-igraph, so a
        mistake in one of them cannot pass silently."""
        for gname in ("partnerships", "full"):
            g = self.graph(gname)
            ig, order = igraph_of(g)
            with self.subTest(graph=gname, metric="betweenness cutoff"):
                for cutoff in (2, 3):
                    mine = self.ref(gname, "betweenness", False, cutoff)
                    theirs = ig.betweenness(directed=False, cutoff=cutoff)
                    for v, x in zip(order, theirs):
                        self.assertTrue(math.isclose(mine[v], x, rel_tol=1e-9, abs_tol=1e-9), (v, mine[v], x))
            with self.subTest(graph=gname, metric="closeness/harmonic BFS"):
                # python-igraph 0.10.2's closeness/harmonic ignore or misread
                # 'cutoff', so our BFS versions are checked against NetworkX:
                # without a cutoff, and with one no path reaches.
                far = g.number_of_nodes() + 1
                nxc = nx.closeness_centrality(g, wf_improved=False)
                nxh = nx.harmonic_centrality(g)
                for mine in (closeness_ref(g), closeness_ref(g, far)):
                    for v in g:
                        self.assertTrue(math.isclose(mine[v], nxc[v], rel_tol=1e-12, abs_tol=1e-15))
                for mine in (harmonic_ref(g), harmonic_ref(g, far)):
                    for v in g:
                        self.assertTrue(math.isclose(mine[v], nxh[v], rel_tol=1e-12, abs_tol=1e-15))
                # And the truncated BFS by hand on a path a-b-c-d.
                p = nx.path_graph(["a", "b", "c", "d"])
                self.assertEqual(closeness_ref(p, 1), {"a": 1.0, "b": 1.0, "c": 1.0, "d": 1.0})
                self.assertEqual(closeness_ref(p, 2)["a"], 2 / 3)
                self.assertEqual(harmonic_ref(p, 2)["a"], 1.5)
                self.assertEqual(betweenness_cutoff_ref(p, 2), {"a": 0.0, "b": 1.0, "c": 1.0, "d": 0.0})
                self.assertEqual(betweenness_cutoff_ref(p, 3), {"a": 0.0, "b": 2.0, "c": 2.0, "d": 0.0})
            with self.subTest(graph=gname, metric="eigenvector"):
                mine, gap = eigenvector_ref(g)
                self.assertGreater(gap, 1e-6, "dominant eigenvalue not simple: eigenvector ill-defined")
                theirs = ig.eigenvector_centrality(directed=False, scale=True)
                for v, x in zip(order, theirs):
                    self.assertTrue(math.isclose(mine[v], abs(x), rel_tol=1e-6, abs_tol=1e-7), (v, mine[v], x))
            with self.subTest(graph=gname, metric="constraint"):
                mine = self.ref(gname, "constraint", False)
                theirs = ig.constraint()
                for v, x in zip(order, theirs):
                    if v in mine:
                        self.assertTrue(math.isclose(mine[v], x, rel_tol=1e-9), (v, mine[v], x))

    def test_report_filters_do_not_change_scores(self):
        """kind and country filter the reported vertices, not the graph."""
        full = self.server(metric="betweenness", graph="full")
        by_id = {it["id"]: it["score"] for it in full["items"]}
        some_country = sorted({n.get("country") for n in self.nodes.values() if n.get("country")})[0]
        for opts in ({"kind": "city"}, {"kind": "province"}, {"kind": "country"},
                     {"country": some_country}, {"kind": "city", "country": some_country}):
            with self.subTest(**opts):
                got = self.server(metric="betweenness", graph="full", **opts)
                want = [v for v, n in self.nodes.items()
                        if ("kind" not in opts or n["kind"] == opts["kind"])
                        and ("country" not in opts
                             or (n.get("country") or (v if n["kind"] == "country" else None)) == opts["country"])]
                self.assertEqual(sorted(it["id"] for it in got["items"]), sorted(want))
                for it in got["items"]:
                    self.assertEqual(it["score"], by_id[it["id"]])
                self.check_order(got["items"])

    def test_top_truncates_the_same_order(self):
        full = self.server(metric="degree", graph="full")["items"]
        for top in (1, 5, 20):
            got = self.server(metric="degree", graph="full", top=top)["items"]
            self.assertEqual(got, full[:top])
        # Without 'top': 20.
        self.assertEqual(self.server(metric="degree", graph="full", top=None)["items"], full[:20])


def loaded_pairs_filter(as_of=None, min_confidence="low"):
    rank = {"low": 0, "medium": 1, "high": 2}

    def keep(p):
        s = p.get("since")
        if as_of is not None and s is not None and int(str(s)[:4]) > as_of:
            return False
        return rank[p.get("confidence", "high")] >= rank[min_confidence]
    return keep


class BuiltIn(RefCase):
    """Every metric on the verified Hunan dataset (--dataset hunan): small
    enough for NetworkX to check every variant."""

    @classmethod
    def setUpClass(cls):
        cls.nodes, cls.pairs = csv_dataset(h.source_dir())
        cls.graphs = {"partnerships": build_graph(cls.nodes, cls.pairs, False),
                      "full": build_graph(cls.nodes, cls.pairs, True)}
        cls._cache = {}
        cls.daemon = h.Daemon(args=["--dataset", "hunan"]).start()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()

    def test_graph_sizes(self):
        kinds = [n["kind"] for n in self.nodes.values()]
        self.assertEqual(self.graph("partnerships").number_of_nodes(),
                         sum(k != "country" for k in kinds))
        self.assertEqual(self.graph("full").number_of_nodes(), len(kinds))
        deg = self.server(metric="degree", graph="partnerships")
        self.assertEqual(sum(it["score"] for it in deg["items"]) / 2,
                         self.graph("partnerships").number_of_edges())

    def test_pair_filters_change_the_graph(self):
        for opts in ({"as_of": 2021, "min_confidence": "medium"}, {"as_of": 2000},
                     {"min_confidence": "high"}):
            for gname in ("partnerships", "full"):
                with self.subTest(graph=gname, **opts):
                    g = build_graph(self.nodes, self.pairs, gname == "full", loaded_pairs_filter(**opts))
                    for metric in ("degree", "betweenness", "closeness"):
                        got = self.server(metric=metric, graph=gname, **opts)
                        self.compare(got, reference(g, metric, False), EXACT_REL,
                                     "%s/%s/%r" % (gname, metric, opts))



class DefaultDataset(RefBase):
    """The default daemon (Hunan and the peer provinces, about 2,000
    vertices): degree and closeness against NetworkX on both graphs."""

    @classmethod
    def setUpClass(cls):
        cls.nodes, cls.pairs = csv_dataset(h.source_dir(), ("hunan", "china"))
        cls.graphs = {"partnerships": build_graph(cls.nodes, cls.pairs, False),
                      "full": build_graph(cls.nodes, cls.pairs, True)}
        cls._cache = {}
        cls.daemon = h.Daemon().start()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()

    def test_degree_and_closeness(self):
        self.assertGreater(self.graph("partnerships").number_of_nodes(), 1500)
        for gname in ("partnerships", "full"):
            for metric in ("degree", "closeness"):
                with self.subTest(graph=gname, metric=metric):
                    got = self.server(metric=metric, graph=gname)
                    self.compare(got, self.ref(gname, metric, False), EXACT_REL,
                                 "default/%s/%s" % (gname, metric))

class Generated(RefCase):
    @classmethod
    def setUpClass(cls):
        nodes, pairs = h.generated_graph(20240611, 2500, n_countries=40, n_provinces=60, n_cities=1300)
        cls.nodes = {n["id"]: n for n in nodes}
        cls.pairs = pairs
        cls.graphs = {"partnerships": build_graph(cls.nodes, cls.pairs, False),
                      "full": build_graph(cls.nodes, cls.pairs, True)}
        cls._cache = {}
        cls.daemon = h.Daemon(empty=True).start()
        with cls.daemon.client(timeout=120) as c:
            h.load_batch(c, nodes, pairs)

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()

    def test_loaded_as_generated(self):
        with self.daemon.client() as c:
            st = c.call("graph.stats")
        self.assertEqual(st["pairs"]["total"], len(self.pairs))
        self.assertEqual(st["nodes"]["city"] + st["nodes"]["province"],
                         self.graph("partnerships").number_of_nodes())
        self.assertGreater(self.graph("partnerships").number_of_edges(), 2000)

    def test_pair_filters_change_the_graph(self):
        opts = {"as_of": 2005, "min_confidence": "medium"}
        g = build_graph(self.nodes, self.pairs, False, loaded_pairs_filter(**opts))
        self.assertLess(g.number_of_edges(), self.graph("partnerships").number_of_edges())
        for metric in ("degree", "harmonic"):
            with self.subTest(metric=metric):
                got = self.server(metric=metric, **opts)
                self.compare(got, reference(g, metric, False), EXACT_REL, "filtered " + metric)


del RefCase    # only the concrete cases run

if __name__ == "__main__":
    unittest.main()
