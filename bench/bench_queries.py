#!/usr/bin/python3
"""bench_queries -- query.centrality latency per metric, uncached and cached.

Results are cached per epoch, keyed by method and options (except
deadline_ms/progress/if_epoch), and query.centrality also keeps its last raw
score vectors per metric options and pair filters (so a new `top` only
re-ranks). To measure the computation, each run sends a distinct `as_of`
(9999, 9998, ...: later than every pair, so the same graph and the same
work) and a distinct `top`: a miss in both every time. The "re-rank" figure
asks again with the last `as_of` and a new `top` (the score memo answers);
the "cached" figure repeats the last request unchanged.

Two graphs: the built-in Hunan dataset, and a generated graph of --pairs
pairs (default 100,000) loaded with import.batch in chunks into a daemon
started with --empty.

    /usr/bin/python3 bench/bench_queries.py --daemon BUILD/service/twinnetd
    /usr/bin/python3 bench/bench_queries.py --port 7700 --only builtin

Prints one line per (graph, metric, graph kind); not run by ctest.
"""

import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import tnharness as h  # noqa: E402

METRICS = ("degree", "betweenness", "closeness", "harmonic", "eigenvector", "pagerank", "constraint")


def timed(c, opts):
    t0 = time.perf_counter()
    err, res = c.request("query.centrality", opts, timeout=900)
    dt = time.perf_counter() - t0
    if err is not None:
        raise RuntimeError("query.centrality %r: %s" % (opts, err))
    return dt, res


def bench_graph(c, label, runs, graphs, metrics, slow_runs):
    print("\n== %s" % label)
    st = c.call("graph.stats")
    print("   %d nodes (%d countries, %d provinces, %d cities), %d pairs, epoch %d"
          % (sum(st["nodes"].values()), st["nodes"]["country"], st["nodes"]["province"],
             st["nodes"]["city"], st["pairs"]["total"], st["epoch"]))
    print("   %-12s %-13s %12s %12s %12s %12s %8s"
          % ("metric", "graph", "median ms", "min ms", "re-rank ms", "cached ms", "items"))
    top = 20
    as_of = 9999
    for gname in graphs:
        for metric in metrics:
            n = slow_runs if metric in ("betweenness", "closeness", "harmonic") else runs
            times = []
            res = None
            opts = None
            for _ in range(n):
                opts = {"metric": metric, "graph": gname, "top": top, "as_of": as_of,
                        "deadline_ms": 600000}
                top += 1
                as_of -= 1
                dt, res = timed(c, opts)
                times.append(dt)
            rerank = []
            for _ in range(max(3, runs)):
                opts = dict(opts, top=top)
                top += 1
                rerank.append(timed(c, opts)[0])
            cached = [timed(c, opts)[0] for _ in range(max(5, runs))]
            print("   %-12s %-13s %12.2f %12.2f %12.3f %12.3f %8d"
                  % (metric, gname, statistics.median(times) * 1e3, min(times) * 1e3,
                     statistics.median(rerank) * 1e3, statistics.median(cached) * 1e3,
                     len(res["items"])))
            sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--daemon", default=os.environ.get("TWINNETD"),
                    help="twinnetd to start (default $TWINNETD); else use --port")
    ap.add_argument("--port", type=int, help="an already running twinnetd (built-in data only)")
    ap.add_argument("--runs", type=int, default=7, help="uncached runs per metric (median)")
    ap.add_argument("--slow-runs", type=int, default=None,
                    help="runs for betweenness/closeness/harmonic on the big graph (default --runs)")
    ap.add_argument("--pairs", type=int, default=100000, help="pairs of the generated graph")
    ap.add_argument("--cities", type=int, default=20000, help="cities of the generated graph")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", choices=("builtin", "generated"), help="one graph only")
    ap.add_argument("--metrics", default=",".join(METRICS))
    ap.add_argument("--graphs", default="partnerships,full")
    a = ap.parse_args()
    metrics = [m for m in a.metrics.split(",") if m]
    graphs = [g for g in a.graphs.split(",") if g]
    slow_runs = a.slow_runs or a.runs
    if a.daemon:
        os.environ["TWINNETD"] = a.daemon      # tnharness.Daemon starts this one
    print("query.centrality latency (wall clock at the client, loopback); uncached = distinct 'as_of' and 'top' "
          "per run")

    if a.only != "generated":
        if a.port:
            c = h.RawClient(a.port, timeout=900)
            bench_graph(c, "built-in Hunan dataset", a.runs, graphs, metrics, a.runs)
            c.close()
        else:
            with h.Daemon(args=["--log-level", "warn"]) as d, d.client(timeout=900) as c:
                bench_graph(c, "built-in Hunan dataset", a.runs, graphs, metrics, a.runs)

    if a.only != "builtin":
        if not a.daemon:
            sys.exit("the generated graph needs --daemon (a fresh twinnetd --empty)")
        nodes, pairs = h.generated_graph(a.seed, a.pairs, n_countries=150, n_provinces=500,
                                         n_cities=a.cities)
        with h.Daemon(empty=True, args=["--log-level", "warn"]) as d, d.client(timeout=900) as c:
            t0 = time.perf_counter()
            h.load_batch(c, nodes, pairs, chunk=20000, timeout=900)
            load_s = time.perf_counter() - t0
            print("\nloaded %d nodes and %d pairs with import.batch (chunks of 20000) in %.2f s"
                  % (len(nodes), len(pairs), load_s))
            bench_graph(c, "generated graph, %d pairs" % len(pairs), a.runs, graphs, metrics, slow_runs)


if __name__ == "__main__":
    main()
