#!/usr/bin/python3
"""bench_import.py -- bulk import figures for docs/durability.md.

For each size (generated pairs, with their nodes: about 0.6 city per pair
plus countries and provinces) it measures, on a fresh twinnetd with
--data and --fsync always:

  cli       `twinnet import --nodes nodes.csv --pairs pairs.csv` (parse,
            local checks, streamed import, atomic commit), records/s
  batch     import.batch from the Python client, in requests of at most
            --batch records (nodes first, then pairs), records/s
  stream    import.begin / import.chunk (5000) / import.commit from the
            Python client, records/s
  restart   SIGTERM, then start on the same directory until it answers
            (snapshot load + journal replay)
  dir       data-directory size after the import
  hwm       the daemon's peak resident memory (VmHWM) after the import
  igraph    the same edges given to igraph_create directly
            (bench_igraph_create), the lower bound

    bench/bench_import.py --build BUILD [--sizes 10000,100000,1000000]
                          [--max-seconds 1800]

BUILD is a CMake build directory with service/twinnetd, clients/twinnet
and bench/bench_igraph_create (use a Release build for figures). Sizes run
in order; a size is skipped once the time budget is spent. Loopback only.
"""

import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "clients", "python"))
from twinnet import Client  # noqa: E402


def generate(n_pairs, seed=1):
    """Nodes and pairs: 60 countries, 400 provinces, 0.6 city per pair;
    pairs drawn with a mild preference for low indices (hubs)."""
    rnd = random.Random(seed)
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    countries = ["B" + letters[i % 26] if i < 26 else "C" + letters[i % 26] for i in range(52)]
    nodes = [{"id": c, "kind": "country", "name": "Country " + c, "region": "Asia", "subregion": "Bench"}
             for c in countries]
    provinces = []
    for i in range(400):
        c = countries[i % len(countries)]
        pid = "%s-p%d" % (c, i)
        provinces.append((pid, c))
        nodes.append({"id": pid, "kind": "province", "name": "Province %d" % i, "country": c,
                      "name_zh": "省%d" % i})
    n_cities = max(100, int(n_pairs * 0.6))
    units = [p for p, _ in provinces]
    for i in range(n_cities):
        pid, c = provinces[rnd.randrange(len(provinces))]
        cid = "%s-c%d" % (c, i)
        node = {"id": cid, "kind": "city", "name": "City %d" % i, "country": c, "parent": pid}
        if i % 2:
            node["lat"] = round(rnd.uniform(-60, 60), 5)
            node["lon"] = round(rnd.uniform(-180, 180), 5)
        nodes.append(node)
        units.append(cid)
    seen = set()
    pairs = []
    nu = len(units)
    while len(pairs) < n_pairs:
        i = rnd.randrange(nu)
        j = int(nu * rnd.random() ** 2)
        if i == j:
            continue
        key = (i, j) if i < j else (j, i)
        if key in seen:
            continue
        seen.add(key)
        p = {"a": units[i], "b": units[j]}
        if len(pairs) % 3 == 0:
            p["since"] = 1980 + len(pairs) % 44
        if len(pairs) % 10 == 0:
            p["kind"] = "friendly"
        pairs.append(p)
    return nodes, pairs, units


def csv_cell(v):
    s = str(v)
    if any(ch in s for ch in ',"\r\n'):
        s = '"' + s.replace('"', '""') + '"'
    return s


def write_files(tmp, nodes, pairs, units):
    ncols = ["id", "kind", "name", "name_zh", "country", "parent", "region", "subregion", "lat", "lon"]
    pcols = ["a", "b", "kind", "since"]
    npath, ppath, epath = (os.path.join(tmp, n) for n in ("nodes.csv", "pairs.csv", "edges.txt"))
    with open(npath, "w", encoding="utf-8") as f:
        f.write(",".join(ncols) + "\n")
        for n in nodes:
            f.write(",".join(csv_cell(n[c]) if c in n else "" for c in ncols) + "\n")
    with open(ppath, "w", encoding="utf-8") as f:
        f.write(",".join(pcols) + "\n")
        for p in pairs:
            f.write(",".join(csv_cell(p[c]) if c in p else "" for c in pcols) + "\n")
    # The partnerships graph: vertices are the province and city nodes.
    index = {u: i for i, u in enumerate(units)}
    with open(epath, "w") as f:
        f.write("%d\n" % len(units))
        for p in pairs:
            f.write("%d %d\n" % (index[p["a"]], index[p["b"]]))
    return npath, ppath, epath


class Daemon:
    def __init__(self, build, data, log):
        self.build, self.data, self.log = build, data, log
        self.proc = None
        self.port = None

    def start(self, timeout=900):
        port_file = self.data + ".port"
        if os.path.exists(port_file):
            os.unlink(port_file)
        cmd = [os.path.join(self.build, "service", "twinnetd"), "--listen", "127.0.0.1:0",
               "--port-file", port_file, "--data", self.data, "--empty", "--fsync", "always"]
        t0 = time.monotonic()
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError("twinnetd exited: see %s" % self.log)
            try:
                with open(port_file) as f:
                    text = f.read().strip()
                if text:
                    self.port = int(text)
                    with Client("127.0.0.1", self.port, timeout=30) as c:
                        c.call("server.ping")
                    return time.monotonic() - t0
            except (OSError, ValueError):
                pass
            time.sleep(0.005)
        raise RuntimeError("twinnetd did not start in %d s" % timeout)

    def hwm_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return 0

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=600)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=60)


def dir_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    return total


def check_counts(port, n_nodes, n_pairs):
    with Client("127.0.0.1", port, timeout=600) as c:
        st = c.call("graph.stats")
    got = (sum(st["nodes"].values()), st["pairs"]["total"])
    if got != (n_nodes, n_pairs):
        raise RuntimeError("expected %r records, the server has %r" % ((n_nodes, n_pairs), got))


def run_cli(build, port, npath, ppath):
    cmd = [os.path.join(build, "clients", "twinnet"), "--port", str(port), "--timeout", "1800",
           "import", "--quiet", "--nodes", npath, "--pairs", ppath]
    t0 = time.monotonic()
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=3600)
    dt = time.monotonic() - t0
    if r.returncode != 0:
        raise RuntimeError("twinnet import failed: %s" % r.stderr.decode()[-2000:])
    return dt


def run_batch(port, nodes, pairs, batch):
    t0 = time.monotonic()
    with Client("127.0.0.1", port, timeout=1800) as c:
        for key, recs in (("nodes", nodes), ("pairs", pairs)):
            for i in range(0, len(recs), batch):
                c.call("import.batch", {key: recs[i:i + batch]})
    return time.monotonic() - t0


def run_stream(port, nodes, pairs, chunk=5000):
    t0 = time.monotonic()
    with Client("127.0.0.1", port, timeout=1800) as c:
        tok = c.call("import.begin", {"total": len(nodes) + len(pairs)})["import"]
        for key, recs in (("nodes", nodes), ("pairs", pairs)):
            for i in range(0, len(recs), chunk):
                c.call("import.chunk", {"import": tok, key: recs[i:i + chunk]})
        c.call("import.commit", {"import": tok})
    return time.monotonic() - t0


def run_igraph(build, epath):
    exe = os.path.join(build, "bench", "bench_igraph_create")
    r = subprocess.run([exe, epath], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=3600, check=True)
    return dict(kv.split("=") for kv in r.stdout.decode().split())


def one_path(build, tmp, name, n_nodes, n_pairs, work):
    """Run one import path on a fresh daemon; returns its figures."""
    data = os.path.join(tmp, "data-" + name)
    d = Daemon(build, data, os.path.join(tmp, "daemon-%s.log" % name))
    d.start()
    try:
        dt = work(d.port)
        check_counts(d.port, n_nodes, n_pairs)
        hwm = d.hwm_kib()
        d.stop()
        size = dir_bytes(data)
        restart = d.start()
        check_counts(d.port, n_nodes, n_pairs)
        d.stop()
    finally:
        d.kill()
    shutil.rmtree(data, ignore_errors=True)
    return {"secs": dt, "rps": (n_nodes + n_pairs) / dt, "hwm": hwm, "size": size, "restart": restart}


def mib(n):
    return "%.1f MiB" % (n / 1048576.0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", required=True)
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--batch", type=int, default=20000, help="records per import.batch request")
    ap.add_argument("--max-seconds", type=float, default=1800)
    ap.add_argument("--tmp", default=None, help="where data directories go (default: a new temp dir)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    tmp = tempfile.mkdtemp(prefix="tnbench-", dir=args.tmp)
    started = time.monotonic()
    rows = []
    try:
        for n in sizes:
            if time.monotonic() - started > args.max_seconds:
                print("skipping %d pairs: time budget spent" % n, file=sys.stderr)
                continue
            print("== %d pairs: generating" % n, file=sys.stderr)
            nodes, pairs, units = generate(n)
            npath, ppath, epath = write_files(tmp, nodes, pairs, units)
            nn, np_ = len(nodes), len(pairs)
            res = {"pairs": np_, "nodes": nn}
            print("   twinnet import", file=sys.stderr)
            res["cli"] = one_path(args.build, tmp, "cli", nn, np_, lambda port: run_cli(args.build, port, npath, ppath))
            print("   import.batch", file=sys.stderr)
            res["batch"] = one_path(args.build, tmp, "batch", nn, np_,
                                    lambda port: run_batch(port, nodes, pairs, args.batch))
            print("   streamed import", file=sys.stderr)
            res["stream"] = one_path(args.build, tmp, "stream", nn, np_, lambda port: run_stream(port, nodes, pairs))
            print("   igraph_create", file=sys.stderr)
            res["igraph"] = run_igraph(args.build, epath)
            rows.append(res)
            del nodes, pairs, units
            for p in (npath, ppath, epath):
                os.unlink(p)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print()
    print("records = nodes + pairs; --fsync always; rates are records per second over the whole call")
    head = ("pairs", "nodes", "path", "seconds", "records/s", "restart s", "data dir", "peak RSS")
    fmt = "%9s %9s %-14s %9s %11s %10s %11s %11s"
    print(fmt % head)
    for r in rows:
        for path in ("cli", "batch", "stream"):
            f = r[path]
            print(fmt % (r["pairs"], r["nodes"], {"cli": "twinnet import", "batch": "import.batch",
                                                   "stream": "streamed"}[path],
                         "%.2f" % f["secs"], "%.0f" % f["rps"], "%.2f" % f["restart"], mib(f["size"]),
                         mib(f["hwm"] * 1024)))
        g = r["igraph"]
        secs = float(g["create_s"])
        print(fmt % (r["pairs"], g["vertices"], "igraph_create", "%.3f" % secs,
                     "%.0f" % (int(g["edges"]) / secs if secs > 0 else 0), "-", "-",
                     mib(int(g["hwm_kib"]) * 1024)))
    print()
    print("igraph_create: edges/s over igraph_create alone (vertices = province and city nodes; "
          "reading the edge list not counted: %s)" % ", ".join("%s s at %d" % (r["igraph"]["read_s"], r["pairs"])
                                                              for r in rows))


if __name__ == "__main__":
    main()
