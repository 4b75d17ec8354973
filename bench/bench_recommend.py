#!/usr/bin/python3
"""bench_recommend -- how well query.recommend finds partnerships that exist.

The world twinning list (datasets/source/world_twinning.csv, about 24,800
rows naming places, not ids) is loaded into a fresh twinnetd started with
--dataset hunan, through the CLI's name-based import

    twinnet import --pairs-by-name KEPT.csv

less a seeded random 10% of its rows, which are hidden BEFORE the import:
they are never written to the file the CLI reads, so the server never sees
them. --dataset hunan, not --empty: the name import only makes province and
city nodes, every row's two countries must already be country nodes on the
server, and the Hunan dataset holds the world's countries (its names also
catch the world rows that name Hunan's partners). The world rows land on
the Hunan data.

Rows the import cannot take are dropped before hiding, and counted with
their reason: a country code that is no country node on the server, rows
repeating an earlier row's pair (one key per place: case, accents and
punctuation folded, as the import does; a repeat could otherwise be hidden
while its twin is imported), and every row the import's dry run reports as
a problem (an ambiguous name, both ends one node, ...).

After the import the graph is read back from the server (node.list,
pair.list) and the NetworkX graph of the baselines is built from it, so ids
are the server's. A hidden row's ends are mapped to ids by the same name
key among the server's nodes of their country; a hidden row whose end no
kept row names (it has no node), whose ends already are a pair on the
server (the Hunan data holds it), or whose ends keep no partner is not
asked about. For every other hidden pair (a, b), as the row orients it,
the bench asks

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

Usage (not run by ctest; a few minutes per seed on two shared cores):

    /usr/bin/python3 bench/bench_recommend.py --daemon BUILD/service/twinnetd \\
        [--cli BUILD/clients/twinnet] [--world datasets/source/world_twinning.csv] \\
        [--seeds 1,2,3,4,5] [--hide 0.1]

--cli defaults to the twinnet binary of the build --daemon comes from.
Prints what was dropped, one line per seed, and one table.
"""

import argparse
import csv
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata

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


WORLD_COLUMNS = ("a_name", "a_country_iso2", "b_name", "b_country_iso2", "established_year",
                 "source_dataset")
SPELLED = {"ß": "ss", "æ": "ae", "ø": "o", "ł": "l", "þ": "th", "đ": "d", "ð": "d", "œ": "oe",
           "ı": "i"}
PROBLEM = re.compile(r"^(.*):(\d+): ([^:]*): (.*)$")


def name_key(name):
    """The import's name key (docs/import-export.md, "Pairs by name"): Latin
    letters case-folded without diacritics, runs of punctuation and space
    one space, other characters kept."""
    out = []
    for ch in unicodedata.normalize("NFC", name):
        cat = unicodedata.category(ch)
        if cat[0] in "PZ" or ch.isspace() or cat == "Sk":
            out.append(" ")
            continue
        low = ch.lower()
        if low in SPELLED:
            out.append(SPELLED[low])
        elif "LATIN" in unicodedata.name(ch, ""):
            out.append("".join(c for c in unicodedata.normalize("NFKD", low)
                               if not unicodedata.combining(c)))
        else:
            out.append(ch)
    return " ".join("".join(out).split())


def read_world(path):
    """The world list's rows, once per pair of places (the first row of a
    pair wins; a row naming one place twice is left out). Returns (rows,
    repeats, self rows)."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    seen, out, rep, same = set(), [], 0, 0
    for r in rows:
        ka = (r["a_country_iso2"], name_key(r["a_name"]))
        kb = (r["b_country_iso2"], name_key(r["b_name"]))
        if ka == kb:
            same += 1
            continue
        key = frozenset((ka, kb))
        if key in seen:
            rep += 1
            continue
        seen.add(key)
        out.append(r)
    return out, rep, same


def write_rows(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=WORLD_COLUMNS, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow(r)


def run_cli(args, port, *argv):
    return subprocess.run([args.cli, "--port", str(port)] + list(argv), capture_output=True,
                          text=True, stdin=subprocess.DEVNULL)


def import_problems(args, port, path, rows):
    """Dry-run the name import of 'rows'; returns {row index: reason}."""
    write_rows(path, rows)
    p = run_cli(args, port, "import", "--pairs-by-name", path, "--dry-run", "--quiet")
    bad = {}
    for line in p.stderr.splitlines():
        m = PROBLEM.match(line)
        if m and m.group(1) == path:
            bad[int(m.group(2)) - 2] = m.group(4)
    if p.returncode != 0 and not bad:
        sys.exit("dry run failed without row problems:\n" + p.stderr)
    return bad


def read_back(c):
    """The server's graph: ({id: node}, [(a, b)])."""
    nodes, pairs = {}, []
    for method, sink in (("node.list", None), ("pair.list", pairs)):
        offset = 0
        while True:
            page = c.call(method, {"limit": 10000, "offset": offset})
            for it in page["items"]:
                if sink is None:
                    nodes[it["id"]] = it
                else:
                    sink.append((it["a"], it["b"]))
            offset += len(page["items"])
            if not page["items"] or offset >= page["total"]:
                break
    return nodes, pairs


def start_daemon():
    return h.Daemon(args=["--dataset", "hunan", "--max-request-bytes", str(64 << 20)]).start()


def importable(args, rows, tmp):
    """Drops the rows the name import cannot take (on a fresh --dataset
    hunan server) and prints how many and why."""
    d = start_daemon()
    try:
        with Client("127.0.0.1", d.port, timeout=600) as c:
            countries = {n["id"] for n in c.call("node.list", {"kind": "country",
                                                               "limit": 10000})["items"]}
        reasons, codes = {}, {}
        ok = []
        for r in rows:
            miss = [x for x in (r["a_country_iso2"], r["b_country_iso2"]) if x not in countries]
            for x in miss:
                codes[x] = codes.get(x, 0) + 1
            if not miss:
                ok.append(r)
        if codes:
            top = sorted(codes.items(), key=lambda kv: -kv[1])
            reasons["country code with no country node on the server (%s)"
                    % ", ".join("%s %d" % kv for kv in top[:12])] = len(rows) - len(ok)
        for _ in range(3):            # a dropped row can leave no other problem, but be sure
            bad = import_problems(args, d.port, os.path.join(tmp, "all.csv"), ok)
            if not bad:
                break
            for reason in bad.values():
                k = "import problem: " + re.sub(r'".*', "...", reason)[:60]
                reasons[k] = reasons.get(k, 0) + 1
            ok = [r for i, r in enumerate(ok) if i not in bad]
    finally:
        d.stop()
    return ok, reasons


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


def run_seed(args, rows, seed, totals, tmp):
    rng = random.Random(seed)
    hidden_idx = set(rng.sample(range(len(rows)), int(len(rows) * args.hide)))
    kept = [r for i, r in enumerate(rows) if i not in hidden_idx]
    hidden = [rows[i] for i in sorted(hidden_idx)]
    path = os.path.join(tmp, "kept-%d.csv" % seed)
    write_rows(path, kept)            # the hidden rows never reach the server

    d = start_daemon()
    try:
        t0 = time.monotonic()
        p = run_cli(args, d.port, "import", "--pairs-by-name", path, "--quiet")
        t_load = time.monotonic() - t0
        if p.returncode != 0:
            sys.exit("twinnet import --pairs-by-name failed:\n" + p.stderr[-4000:])
        with Client("127.0.0.1", d.port, timeout=600) as c:
            nodes, server_pairs = read_back(c)
            g = nx.Graph()
            g.add_nodes_from(i for i, n in nodes.items() if n["kind"] != "country")
            g.add_edges_from(server_pairs)
            deg = dict(g.degree())
            cand = Candidates(nodes, g)
            bykey = {}
            for i, n in nodes.items():
                if n["kind"] == "country":
                    continue
                for nm in {n.get("name"), n.get("name_zh")} - {None, ""}:
                    bykey.setdefault((n.get("country"), name_key(nm)), set()).add(i)

            def node_of(name, country):
                nonlocal twice
                ids = bykey.get((country, name_key(name)), ())
                twice += len(ids) > 1
                return next(iter(ids)) if len(ids) == 1 else None

            queries, skipped, unnamed, present, lonely = [], 0, 0, 0, 0
            twice = 0
            for r in hidden:
                a = node_of(r["a_name"], r["a_country_iso2"])
                b = node_of(r["b_name"], r["b_country_iso2"])
                if a is None or b is None:
                    unnamed += 1
                    continue
                if g.has_edge(a, b):
                    present += 1
                    continue
                if deg[a] == 0 or deg[b] == 0:
                    lonely += 1
                    continue
                excl = cand.excluded(a)
                if not cand.ok(a, b, excl):
                    skipped += 1
                    continue
                queries.append((a, b, excl))

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
    print("seed %d: %d rows imported, %d hidden; server graph %d nodes, %d pairs; %d queries "
          "(hidden rows not asked: %d with an end no kept row names (%d ends of them naming 2+ nodes), %d already a pair on the "
          "server, %d an end without partner, %d b no candidate: in a's country or a partner "
          "of a's family); import %.1f s, queries %.1f s (%.1f ms each), %d ids outside the "
          "candidate set"
          % (seed, len(kept), len(hidden), len(nodes), g.number_of_edges(), len(queries),
             unnamed, twice, present, lonely, skipped, t_load, t_query,
             1e3 * t_query / max(1, len(queries)), bad))
    sys.stdout.flush()
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--world", default=os.path.join(REPO, "datasets", "source",
                                                    "world_twinning.csv"),
                    help="twinning list by name (default: datasets/source/world_twinning.csv)")
    ap.add_argument("--daemon", help="twinnetd binary (else $TWINNETD)")
    ap.add_argument("--cli", help="twinnet CLI binary (default: clients/twinnet of the "
                    "build --daemon is in, else $TWINNET_CLI)")
    ap.add_argument("--seeds", default="1,2,3,4,5")
    ap.add_argument("--hide", type=float, default=0.1)
    args = ap.parse_args()
    if args.daemon:
        os.environ["TWINNETD"] = args.daemon
        if not args.cli:
            args.cli = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(args.daemon))),
                                    "clients", "twinnet")
    if not args.cli:
        args.cli = h.cli_path()
    rows, rep, same = read_world(args.world)
    tmp = tempfile.mkdtemp(prefix="tnbenchrec-")
    try:
        rows, reasons = importable(args, rows, tmp)
        print("world list %s: %d rows importable; dropped: %d repeating an earlier row's pair, "
              "%d naming one place twice" % (args.world, len(rows), rep, same))
        for k, v in sorted(reasons.items(), key=lambda kv: -kv[1]):
            print("  dropped %d: %s" % (v, k))
        print("hiding %.0f%% of the rows per seed" % (100 * args.hide))
        sys.stdout.flush()
        totals, bad = {}, 0
        seeds = [int(x) for x in args.seeds.split(",")]
        for seed in seeds:
            bad += run_seed(args, rows, seed, totals, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
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
