#!/usr/bin/python3
"""bench_planning -- latency of the planning methods (query.timeline,
query.overlap, query.communities, query.whatif), uncached.

Results are cached per epoch by method and options, so each run sends a
distinct `as_of` (9999, 9998, ...: later than every pair, so the same graph
and the same work) and the cache never answers. Three graphs: the built-in
Hunan dataset; the same plus the China peer data (datasets/china, imported
with the CLI); and a generated graph of --pairs pairs (default 20,000) in
a daemon started with --empty.

    /usr/bin/python3 bench/bench_planning.py --daemon BUILD/service/twinnetd --cli BUILD/clients/twinnet

Prints the median and best of --runs runs per method and graph; not run by ctest.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import tnharness as h  # noqa: E402

WHATIF = [{"method": "graph.stats"}, {"method": "query.coverage"}, {"method": "query.gaps"}]


def timed(c, method, opts, runs):
    times = []
    for i in range(runs):
        o = dict(opts, as_of=9999 - i)
        t0 = time.perf_counter()
        c.call(method, o, timeout=600)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), min(times)


def bench(c, label, homes, remove, runs):
    st = c.call("graph.stats")
    print("%s: %d nodes, %d pairs" % (label, sum(st["nodes"].values()), st["pairs"]["total"]))
    cases = [
        ("timeline by region", "query.timeline", {"unit": homes[0], "by": "region"}),
        ("overlap, %d homes" % len(homes), "query.overlap", {"homes": homes}),
        ("communities multilevel", "query.communities", {}),
        ("communities leiden", "query.communities", {"algorithm": "leiden"}),
        ("whatif stats+coverage+gaps", "query.whatif", {"remove": [remove], "queries": WHATIF}),
    ]
    for name, method, opts in cases:
        med, best = timed(c, method, opts, runs)
        print("  %-28s median %8.2f ms   best %8.2f ms" % (name, med, best))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--daemon", help="twinnetd binary (else $TWINNETD)")
    ap.add_argument("--cli", help="twinnet binary (else $TWINNET_CLI)")
    ap.add_argument("--pairs", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=9)
    a = ap.parse_args()
    if a.daemon:
        os.environ["TWINNETD"] = a.daemon
    if a.cli:
        os.environ["TWINNET_CLI"] = a.cli
    src = os.path.join(HERE, "..")
    hunan = ["CN-430000", "CN-430100", "CN-430600"]
    with h.Daemon() as d, d.client() as c:
        bench(c, "built-in Hunan", hunan, {"a": "CN-430000", "b": "BB-bridgetown"}, a.runs)
        subprocess.run([h.cli_path(), "--port", str(d.port), "import", "--quiet",
                        "--nodes", os.path.join(src, "datasets", "china", "nodes.csv"),
                        "--pairs", os.path.join(src, "datasets", "china", "pairs.csv")],
                       check=True, stdout=subprocess.DEVNULL)
        bench(c, "Hunan + China peer data", ["CN-430000", "CN-420000", "CN-360000"],
              {"a": "CN-430000", "b": "BB-bridgetown"}, a.runs)
    nodes, pairs = h.generated_graph(5, a.pairs)
    with h.Daemon(empty=True) as d, d.client() as c:
        h.load_batch(c, nodes, pairs)
        provinces = [n["id"] for n in nodes if n["kind"] == "province"][:3]
        bench(c, "generated", provinces, {"a": pairs[0]["a"], "b": pairs[0]["b"]}, a.runs)


if __name__ == "__main__":
    main()
