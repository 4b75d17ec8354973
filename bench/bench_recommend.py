#!/usr/bin/python3
"""bench_recommend -- how well query.recommend finds partnerships that exist.

The world twinning network (the built-in Hunan dataset plus the world
output of datasets/tools/convert_twinning.py, about 24,000 pairs) is loaded
into a fresh twinnetd started with --empty, less a seeded random 10% of its
pairs. For every hidden pair (a, b), as the pair file orients it, whose two
ends keep at least one partner, the bench asks

    query.recommend {"unit": a, "top": 10, "exclude_home": false}

and records whether b is among the ten (hit@10) and 1/rank (MRR@10, 0 when
b is not listed). Five seeds; the figures are means over every query of
every seed.

Baselines are computed here, independently of the server, with NetworkX
over exactly the same candidate set (the rule query.recommend applies):
provinces and cities of another country than a, not a, not paired with a,
with a's ancestors (parent chain) or with a's descendants. Each baseline
ranks by its index, ties by id (as the server does), and a hidden b that
is not a candidate (it is paired with a's parent, say) is skipped for all
methods alike. Every id the server returns is checked against that set.

    common neighbours   |N(a) & N(c)|              nx.common_neighbor_centrality is
    Jaccard             nx.jaccard_coefficient     not used: plain counts are
    Adamic-Adar         nx.adamic_adar_index       what the index means
    resource allocation nx.resource_allocation_index
    popularity          degree of c

Usage (not run by ctest; about a minute per seed on two cores):

    /usr/bin/python3 datasets/tools/convert_twinning.py world --data DATA --out /tmp/world
    /usr/bin/python3 bench/bench_recommend.py --world /tmp/world \\
        --daemon BUILD/service/twinnetd [--seeds 1,2,3,4,5] [--hide 0.1]

--world is a directory holding the converter's nodes.csv and pairs.csv
(DATA is the directory with world_twinning.csv and china_twinning.csv).
Prints one table.
"""

import argparse
import csv
import os
import random
import sys
import time

import networkx as nx

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
sys.path.insert(0, os.path.join(REPO, "clients", "python"))
import tnharness as h  # noqa: E402
from twinnet import Client  # noqa: E402

TOP = 10
INFLIGHT = 32
CHUNK = 4000
METHODS = ("ours", "common neighbours", "Jaccard", "Adamic-Adar", "resource allocation",
           "popularity")


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def node_record(row):
    """A nodes.csv row as an import record: empty cells are absent."""
    rec = {}
    for k, v in row.items():
        if v == "" or v is None:
            continue
        if k == "tags":
            rec[k] = v.split(";")
        elif k in ("lat", "lon", "population"):
            rec[k] = float(v)
        else:
            rec[k] = v
    return rec


def load_world(world_dir):
    builtin = os.path.join(REPO, "datasets", "hunan")
    nodes = read_csv(os.path.join(builtin, "nodes.csv")) + read_csv(os.path.join(world_dir, "nodes.csv"))
    pairs = read_csv(os.path.join(builtin, "pairs.csv")) + read_csv(os.path.join(world_dir, "pairs.csv"))
    byid = {}
    for n in nodes:
        byid[n["id"]] = node_record(n)
    seen, plist = set(), []
    for p in pairs:
        key = frozenset((p["a"], p["b"]))
        if key in seen or p["a"] == p["b"]:
            continue
        seen.add(key)
        plist.append((p["a"], p["b"]))
    return byid, plist


def import_all(c, nodes, pairs):
    tok = c.call("import.begin")["import"]
    recs = list(nodes.values())
    for i in range(0, len(recs), CHUNK):
        c.call("import.chunk", {"import": tok, "nodes": recs[i:i + CHUNK]})
    prs = [{"a": a, "b": b} for a, b in pairs]
    for i in range(0, len(prs), CHUNK):
        c.call("import.chunk", {"import": tok, "pairs": prs[i:i + CHUNK]})
    c.call("import.commit", {"import": tok})


class Candidates:
    """The candidate rule of query.recommend, on the kept graph."""

    def __init__(self, nodes, g):
        self.nodes = nodes
        self.g = g
        self.places = sorted(i for i, n in nodes.items() if n["kind"] != "country")
        self.children = {}
        for i in self.places:
            p = nodes[i].get("parent")
            if p:
                self.children.setdefault(p, []).append(i)

    def family(self, a):
        fam, x = {a}, self.nodes[a].get("parent")
        while x and x in self.nodes and self.nodes[x]["kind"] != "country" and x not in fam:
            fam.add(x)
            x = self.nodes[x].get("parent")
        stack = [a]
        while stack:
            for ch in self.children.get(stack.pop(), ()):
                if ch not in fam:
                    fam.add(ch)
                    stack.append(ch)
        return fam

    def excluded(self, a):
        fam = self.family(a)
        out = set(fam)
        for f in fam:
            out.update(self.g[f])
        return out

    def ok(self, a, c, excl):
        return (c not in excl and self.nodes[c]["kind"] != "country"
                and self.nodes[c].get("country") != self.nodes[a].get("country"))


def rank_of(scores, b, a, cand, excl, order=None, top=TOP):
    """1-based rank of b among the candidates by (score desc, id asc), or 0
    when it is not in the first 'top'. scores: {candidate: score > 0} for
    the few candidates with a score; every other candidate scores 0. With
    'order' (every place sorted by (-score, id) once for all queries, for a
    score that does not depend on a), the first candidates of it are taken."""
    if order is not None:
        listed = []
        for c in order:
            if cand.ok(a, c, excl):
                listed.append(c)
                if len(listed) == top:
                    break
        return listed.index(b) + 1 if b in listed else 0
    ranked = sorted(((-s, c) for c, s in scores.items() if s > 0 and cand.ok(a, c, excl)))
    listed = [c for _, c in ranked[:top]]
    if len(listed) < top:
        have = set(listed)
        for c in cand.places:                      # zero scores: id order
            if len(listed) >= top:
                break
            if c not in have and (c not in scores or scores[c] <= 0) and cand.ok(a, c, excl):
                listed.append(c)
    return listed.index(b) + 1 if b in listed else 0


def baselines(g, a, deg):
    two = set()
    for w in g[a]:
        two.update(g[w])
    two.discard(a)
    two -= set(g[a])
    bunch = [(a, c) for c in sorted(two)]
    cn = {c: len(set(g[a]) & set(g[c])) for c in two}
    jac = {v: s for _, v, s in nx.jaccard_coefficient(g, bunch)}
    aa = {v: s for _, v, s in nx.adamic_adar_index(g, bunch)}
    ra = {v: s for _, v, s in nx.resource_allocation_index(g, bunch)}
    return {"common neighbours": cn, "Jaccard": jac, "Adamic-Adar": aa,
            "resource allocation": ra}


def run_seed(args, nodes, pairs, seed, totals):
    rng = random.Random(seed)
    hidden_idx = set(rng.sample(range(len(pairs)), int(len(pairs) * args.hide)))
    kept = [p for i, p in enumerate(pairs) if i not in hidden_idx]
    hidden = [pairs[i] for i in sorted(hidden_idx)]
    g = nx.Graph()
    g.add_nodes_from(i for i, n in nodes.items() if n["kind"] != "country")
    g.add_edges_from(kept)
    deg = dict(g.degree())
    cand = Candidates(nodes, g)

    queries, skipped = [], 0
    for a, b in hidden:
        if deg[a] == 0 or deg[b] == 0:
            continue
        excl = cand.excluded(a)
        if not cand.ok(a, b, excl):
            skipped += 1
            continue
        queries.append((a, b, excl))

    d = h.Daemon(empty=True, args=["--max-request-bytes", str(64 << 20)]).start()
    t0 = time.monotonic()
    try:
        with Client("127.0.0.1", d.port, timeout=600) as c:
            import_all(c, nodes, kept)
            t_load = time.monotonic() - t0
            t0 = time.monotonic()
            answers, pending = {}, []
            for i, (a, b, _) in enumerate(queries):
                pending.append((i, c.send("query.recommend",
                                          {"unit": a, "top": TOP, "exclude_home": False,
                                           "deadline_ms": 600000})))
                if len(pending) >= INFLIGHT:
                    j, m = pending.pop(0)
                    answers[j] = c.wait(m)
            for j, m in pending:
                answers[j] = c.wait(m)
            t_query = time.monotonic() - t0
    finally:
        d.stop()

    bad = 0
    by_degree = sorted(cand.places, key=lambda c: (-deg[c], c))
    for i, (a, b, excl) in enumerate(queries):
        ids = [it["id"] for it in answers[i]["items"]]
        bad += sum(1 for x in ids if not cand.ok(a, x, excl))
        r = ids.index(b) + 1 if b in ids else 0
        res = {"ours": r}
        for name, sc in baselines(g, a, deg).items():
            res[name] = rank_of(sc, b, a, cand, excl)
        res["popularity"] = rank_of(None, b, a, cand, excl, order=by_degree)
        for name, r in res.items():
            t = totals.setdefault(name, [0, 0.0])
            t[0] += r > 0
            t[1] += 1.0 / r if r else 0.0
    totals.setdefault("_queries", [0, 0.0])[0] += len(queries)
    print("seed %d: %d pairs kept, %d hidden, %d queries (%d hidden pairs skipped: b is no "
          "candidate, being in a's country or a partner of a's family), load %.1f s, queries "
          "%.1f s (%.1f ms each), %d ids outside the candidate set" % (seed, len(kept), len(hidden), len(queries), skipped, t_load,
                             t_query, 1e3 * t_query / max(1, len(queries)), bad))
    sys.stdout.flush()
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--world", required=True,
                    help="directory with convert_twinning.py world's nodes.csv and pairs.csv")
    ap.add_argument("--daemon", help="twinnetd binary (else $TWINNETD)")
    ap.add_argument("--seeds", default="1,2,3,4,5")
    ap.add_argument("--hide", type=float, default=0.1)
    args = ap.parse_args()
    if args.daemon:
        os.environ["TWINNETD"] = args.daemon
    nodes, pairs = load_world(args.world)
    print("world: %d nodes, %d pairs; hiding %.0f%% per seed"
          % (len(nodes), len(pairs), 100 * args.hide))
    totals, bad = {}, 0
    seeds = [int(s) for s in args.seeds.split(",")]
    for seed in seeds:
        bad += run_seed(args, nodes, pairs, seed, totals)
    n = totals.pop("_queries")[0]
    best = max(totals[m][0] for m in METHODS if m != "ours")
    print("\n%d queries over seeds %s\n" % (n, args.seeds))
    print("| method | hit@10 | MRR@10 |")
    print("|---|---:|---:|")
    for m in METHODS:
        hit, mrr = totals[m]
        print("| %s | %.1f%% | %.3f |" % (m, 100.0 * hit / n, mrr / n))
    print("\nours vs the best single index on hit@10: %+.1f%% relative"
          % (100.0 * (totals["ours"][0] - best) / best))
    if bad:
        print("WARNING: the server listed %d ids outside the candidate set" % bad)
        sys.exit(1)


if __name__ == "__main__":
    main()
