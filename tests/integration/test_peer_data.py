"""Peer datasets (datasets/china, and the world network converted at test
time) on top of the built-in Hunan dataset: docs/peer-data.md.

- The converter (datasets/tools/convert_twinning.py): the committed
  datasets/china files are up to date (its --check, run here as ctest's
  up-to-date check), the output is deterministic, every row is accounted
  for, and nothing in it touches Hunan's units or re-emits a built-in node.
- Imported with the streamed protocol (import.begin/chunk/commit) and with
  `twinnet import`: graph.stats grows by exactly what the converter
  reports; Hunan's own figures do not move; query.gaps reports peer_pairs
  that match a count made here from china_twinning.csv; query.recommend
  for Changsha gives peer evidence.
- The world network imports in bounded time, and query.centrality degree
  equals NetworkX's degree of the graph built from the same CSVs.

Environment (set by ctest): TWINNETD, TWINNET_CLI, TN_SOURCE_DIR. The source
facts are the repository's copy in datasets/source.
"""

import collections
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from tnharness import Daemon, cli_path, dataset, source_dir  # noqa: E402

SRC = source_dir()
sys.path.insert(0, os.path.join(SRC, "clients", "python"))
from twinnet import Client  # noqa: E402

import networkx as nx  # noqa: E402

PY = "/usr/bin/python3"
TOOL = os.path.join(SRC, "datasets", "tools", "convert_twinning.py")
BUILTIN = os.path.join(SRC, "datasets", "hunan")
CHINA = os.path.join(SRC, "datasets", "china")
DATA = os.path.join(SRC, "datasets", "source")
HOME = "CN-430000"
SOURCE = "Wikipedia via Hekman/twincities twin_cities_raw.csv (world_twinning.csv)"
IMPORT_BOUND_S = 120.0       # the world file (24k pairs) takes about 1 s on a debug build
CONVERT_BOUND_S = 60.0




def read_csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def run_tool(*args, timeout=CONVERT_BOUND_S):
    return subprocess.run([PY, TOOL] + list(args), capture_output=True, text=True,
                          timeout=timeout)


def node_record(row):
    """A nodes.csv row as a node map (datasets/README.md: empty = absent)."""
    rec = {}
    for k, v in row.items():
        if v == "":
            continue
        if k == "tags":
            rec[k] = [t.strip() for t in v.split(";") if t.strip()]
        elif k in ("lat", "lon", "population"):
            rec[k] = float(v) if re.search(r"[.eE]", v) else int(v)
        else:
            rec[k] = v
    return rec


def pair_record(row):
    return {k: v for k, v in row.items() if v != ""}


def stream_import(port, nodes_csv, pairs_csv, chunk=5000, timeout=IMPORT_BOUND_S):
    """import.begin / chunk / commit with the Python client; the commit's result."""
    nodes = [node_record(r) for r in read_csv(nodes_csv)]
    pairs = [pair_record(r) for r in read_csv(pairs_csv)]
    with Client("127.0.0.1", port, timeout=timeout) as c:
        token = c.call("import.begin")["import"]
        for i in range(0, len(nodes), chunk):
            c.call("import.chunk", {"import": token, "nodes": nodes[i:i + chunk]})
        for i in range(0, len(pairs), chunk):
            c.call("import.chunk", {"import": token, "pairs": pairs[i:i + chunk]})
        return c.call("import.commit", {"import": token})


def snapshot(port):
    """What must not change for Hunan, and the graph counts."""
    with Client("127.0.0.1", port) as c:
        out = {
            "stats": c.call("graph.stats"),
            "stats_headline": c.call("graph.stats", as_of=2021, min_confidence="medium"),
            "coverage_country": c.call("query.coverage", by="country"),
            "coverage_unit": c.call("query.coverage", by="unit"),
            "gaps": c.call("query.gaps", limit=10000),
            "home_pairs": c.call("pair.list", unit=HOME, limit=10000),
        }
    return out


def without_epoch(res):
    return {k: v for k, v in res.items() if k != "epoch"}


def builtin_countries():
    return {r["id"] for r in read_csv(os.path.join(BUILTIN, "nodes.csv")) if r["kind"] == "country"}


def peer_counts_from_source(rows, china_rows):
    """Independent of the converter: per foreign country, the rows of the
    source with exactly one Chinese end whose province is known and is not
    Hunan, and whose foreign end is a built-in country."""
    province = {r["a_name"]: r["cn_province_code"] for r in china_rows}
    countries = builtin_countries()
    count = collections.Counter()
    for r in rows:
        ends = [(r["a_name"], r["a_country_iso2"]), (r["b_name"], r["b_country_iso2"])]
        cn = [n for n, iso in ends if iso == "CN"]
        other = [iso for n, iso in ends if iso != "CN"]
        if len(cn) != 1 or other[0] not in countries:
            continue
        code = province[cn[0]]
        if code and code != "430000":
            count[other[0]] += 1
    return count


# ---------------------------------------------------------------------------

class ConverterTest(unittest.TestCase):
    """The tool and the committed files, without a server."""

    @classmethod
    def setUpClass(cls):
        with open(os.path.join(CHINA, "meta.json"), encoding="utf-8") as f:
            cls.meta = json.load(f)
        cls.nodes = read_csv(os.path.join(CHINA, "nodes.csv"))
        cls.pairs = read_csv(os.path.join(CHINA, "pairs.csv"))
        cls.builtin_nodes = {r["id"]: r for r in read_csv(os.path.join(BUILTIN, "nodes.csv"))}
        cls.builtin_pairs = read_csv(os.path.join(BUILTIN, "pairs.csv"))
        cls.china_rows = read_csv(os.path.join(DATA, "china_twinning.csv"))

    def test_committed_china_files_are_up_to_date(self):
        r = run_tool("china", "--check", "--data", DATA)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_check_detects_a_stale_file(self):
        tmp = tempfile.mkdtemp(prefix="tnpeer-")
        try:
            for name in ("nodes.csv", "pairs.csv", "meta.json"):
                shutil.copy(os.path.join(CHINA, name), tmp)
            r = run_tool("china", "--check", "--data", DATA, "--out", tmp)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(os.path.join(tmp, "pairs.csv"), "a", encoding="utf-8") as f:
                f.write("CN-110000,JP-tokyo,sister,,x,medium\n")
            r = run_tool("china", "--check", "--data", DATA, "--out", tmp)
            self.assertEqual(r.returncode, 1)
            self.assertIn("pairs.csv", r.stderr)
        finally:
            shutil.rmtree(tmp)

    def test_output_is_deterministic_and_matches_the_summary(self):
        tmp = tempfile.mkdtemp(prefix="tnpeer-")
        try:
            r1 = run_tool("china", "--data", DATA, "--out", os.path.join(tmp, "1"), "--json")
            r2 = run_tool("china", "--data", DATA, "--out", os.path.join(tmp, "2"), "--quiet")
            self.assertEqual(r1.returncode, 0, r1.stderr)
            self.assertEqual(r2.returncode, 0, r2.stderr)
            for name in ("nodes.csv", "pairs.csv", "meta.json"):
                with open(os.path.join(tmp, "1", name), "rb") as f1, \
                        open(os.path.join(tmp, "2", name), "rb") as f2:
                    self.assertEqual(f1.read(), f2.read(), name)
            self.assertEqual(json.loads(r1.stdout), self.meta)
        finally:
            shutil.rmtree(tmp)

    def test_every_row_is_accounted_for(self):
        m = self.meta
        self.assertEqual(m["rows_read"], len(self.china_rows))
        self.assertEqual(m["pairs"], len(self.pairs))
        self.assertEqual(m["skipped"]["total"] + m["pairs"], m["rows_read"])
        self.assertEqual(sum(v for k, v in m["skipped"].items() if k != "total"),
                         m["skipped"]["total"])
        # The 62 ambiguous names of SOURCES.md section 6.
        self.assertEqual(m["skipped"]["cn_province_unknown"],
                         sum(1 for r in self.china_rows if not r["cn_province_code"]))
        self.assertEqual(m["skipped"]["cn_province_unknown"], 62)
        # Hunan's rows: all skipped, as in-built-in duplicates or not.
        hunan_rows = sum(1 for r in self.china_rows if r["cn_province_code"] == "430000")
        self.assertEqual(m["skipped"]["hunan_pair_in_builtin"]
                         + m["skipped"]["hunan_pair_not_in_builtin"], hunan_rows)
        self.assertEqual(len(m["hunan_pairs_not_in_builtin"]),
                         m["skipped"]["hunan_pair_not_in_builtin"])
        # Independent count of what should be kept.
        countries = builtin_countries()
        kept = [r for r in self.china_rows if r["cn_province_code"]
                and r["cn_province_code"] != "430000" and r["b_country_iso2"] in countries]
        self.assertEqual(len(kept), m["pairs"])
        kinds = collections.Counter(n["kind"] for n in self.nodes)
        self.assertEqual(dict(kinds), {k: v for k, v in m["nodes"].items() if v})

    def test_pairs_and_nodes_respect_the_built_in_dataset(self):
        new = {n["id"]: n for n in self.nodes}
        self.assertEqual(len(new), len(self.nodes))
        self.assertFalse(set(new) & set(self.builtin_nodes), "re-emits built-in nodes")
        known = set(new) | set(self.builtin_nodes)
        def is_unit(nid):
            while nid:
                if nid == HOME:
                    return True
                nid = self.builtin_nodes[nid]["parent"] if nid in self.builtin_nodes else ""
            return False
        units = {nid for nid in self.builtin_nodes if is_unit(nid)}
        # Hunan, its prefectures and the county-level units of the divisions file.
        with open(os.path.join(DATA, "hunan_divisions.csv"), encoding="utf-8") as f:
            n_div = sum(1 for _ in csv.DictReader(f))
        self.assertEqual(len(units), n_div)
        self.assertEqual(len(units), dataset(("hunan",)).meta["verified"]["home_units"])
        self.assertIn("CN-430181", units)      # Liuyang, under Changsha
        seen = set()
        builtin_keys = {frozenset((p["a"], p["b"])) for p in self.builtin_pairs}
        for p in self.pairs:
            self.assertIn(p["a"], known)
            self.assertIn(p["b"], known)
            self.assertNotEqual(p["a"], p["b"])
            self.assertNotIn(p["a"], units, p)
            self.assertNotIn(p["b"], units, p)
            key = frozenset((p["a"], p["b"]))
            self.assertNotIn(key, seen)
            self.assertNotIn(key, builtin_keys)
            seen.add(key)
            self.assertEqual((p["kind"], p["since"], p["confidence"], p["source"]),
                             ("sister", "", "medium", SOURCE))
            self.assertTrue(p["a"].startswith("CN-"), p)     # the Chinese end first
        for n in self.nodes:
            if n["country"] == "CN":
                if n["kind"] == "province":
                    self.assertRegex(n["id"], r"^CN-[1-8][0-9]0000$")
                    self.assertNotEqual(n["id"], HOME)
                    self.assertTrue(n["name"] and n["name_zh"])
                else:
                    self.assertRegex(n["id"], r"^CN-[1-8][0-9]0000-[a-z0-9-]+$")
                    self.assertEqual(n["id"][:9], n["parent"])
            else:
                self.assertEqual(n["kind"], "city")
                self.assertIn(n["country"], builtin_countries())
                self.assertRegex(n["id"], r"^%s-[a-z0-9-]+$" % n["country"])
                self.assertEqual(n["name_zh"], "")     # the source gives no Chinese names

    def test_names_come_from_the_source(self):
        names = set()
        for r in self.china_rows:
            names.add(r["a_name"])
            names.add(r["b_name"])
        provinces = {(r["cn_province_en"], r["cn_province_zh"]) for r in self.china_rows}
        for n in self.nodes:
            if n["kind"] == "province":
                self.assertIn((n["name"], n["name_zh"]), provinces)
            else:
                self.assertIn(n["name"], names)

    def test_hunan_partners_are_reused_not_duplicated(self):
        # Saint Paul, which the built-in dataset spells "Saint Paul,
        # Minnesota"; Ulyanovsk (Changsha's and Xiangtan's partner) and Gumi
        # (Changsha's) have partners in other provinces too.
        ids = {n["id"] for n in self.nodes}
        self.assertNotIn("US-saint-paul", ids)
        self.assertIn("US Saint Paul -> US-saint-paul-minnesota", self.meta["aliases"])
        ends = {x for p in self.pairs for x in (p["a"], p["b"])}
        for nid in ("RU-ulyanovsk", "KR-gumi"):
            self.assertTrue(nid in ends, nid)
        self.assertEqual(self.meta["builtin_nodes_referenced"],
                         len({x for x in ends if x not in ids}))


def hunan_daemon():
    """A daemon on the verified Hunan dataset alone (the peer data is then
    imported by the test; without --dataset it is served already)."""
    return Daemon(args=["--dataset", "hunan"])


class ChinaImportTest(unittest.TestCase):
    """datasets/china imported on a daemon started with the Hunan dataset."""

    @classmethod
    def setUpClass(cls):
        with open(os.path.join(CHINA, "meta.json"), encoding="utf-8") as f:
            cls.meta = json.load(f)
        cls.daemon = hunan_daemon().start()
        try:
            cls.before = snapshot(cls.daemon.port)
            with Client("127.0.0.1", cls.daemon.port) as c:
                cls.rec_before = c.call("query.recommend", unit="CN-430100", top=50)
            t0 = time.monotonic()
            cls.commit = stream_import(cls.daemon.port, os.path.join(CHINA, "nodes.csv"),
                                       os.path.join(CHINA, "pairs.csv"))
            cls.import_s = time.monotonic() - t0
            cls.after = snapshot(cls.daemon.port)
        except Exception:
            cls.daemon.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()

    def test_commit_reports_the_converter_counts(self):
        m = self.meta
        self.assertEqual(self.commit["nodes_added"], sum(m["nodes"].values()))
        self.assertEqual(self.commit["pairs_added"], m["pairs"])
        self.assertEqual(self.commit["nodes_updated"], 0)
        self.assertEqual(self.commit["pairs_updated"], 0)
        self.assertLess(self.import_s, IMPORT_BOUND_S)

    def test_stats_grow_by_exactly_the_converter_counts(self):
        b, a, m = self.before["stats"], self.after["stats"], self.meta
        for kind in ("country", "province", "city"):
            self.assertEqual(a["nodes"][kind] - b["nodes"][kind], m["nodes"][kind], kind)
        self.assertEqual(a["pairs"]["total"] - b["pairs"]["total"], m["pairs"])
        self.assertEqual(a["pairs"]["sister"] - b["pairs"]["sister"], m["pairs"])
        self.assertEqual(a["pairs"]["friendly"], b["pairs"]["friendly"])
        self.assertGreater(a["epoch"], b["epoch"])

    def test_hunan_figures_do_not_change(self):
        b, a = self.before, self.after
        self.assertEqual(a["stats"]["home"], b["stats"]["home"])
        self.assertEqual(a["stats_headline"]["home"], b["stats_headline"]["home"])
        hunan = dataset(("hunan",))
        headline = hunan.home_pairs(as_of=2021, min_confidence="medium")
        self.assertEqual(a["stats_headline"]["home"]["pairs"], len(headline))
        self.assertEqual(a["stats_headline"]["home"]["countries"],
                         len(hunan.home_countries(headline)))
        self.assertEqual(a["stats_headline"]["home"]["pairs"],
                         hunan.meta["verified"]["as_of_2021_min_medium"]["pairs"])
        for key in ("coverage_country", "coverage_unit", "home_pairs"):
            self.assertEqual(without_epoch(a[key]), without_epoch(b[key]), key)
        self.assertEqual(a["gaps"]["idle_units"], b["gaps"]["idle_units"])
        self.assertEqual(sorted(u["id"] for u in a["gaps"]["uncovered"]),
                         sorted(u["id"] for u in b["gaps"]["uncovered"]))

    def test_gaps_peer_pairs_match_the_source(self):
        before = self.before["gaps"]["uncovered"]
        after = self.after["gaps"]["uncovered"]
        self.assertTrue(before and all(u["peer_pairs"] == 0 for u in before))
        expected = peer_counts_from_source(read_csv(os.path.join(DATA, "china_twinning.csv")),
                                           read_csv(os.path.join(DATA, "china_twinning.csv")))
        got = {u["id"]: u["peer_pairs"] for u in after}
        self.assertEqual(got, {cid: expected.get(cid, 0) for cid in got})
        with_peers = [cid for cid, n in got.items() if n > 0]
        self.assertGreaterEqual(len(with_peers), 20)
        # Sorted by peer_pairs descending, then id.
        self.assertEqual([(u["peer_pairs"], u["id"]) for u in after],
                         sorted(((u["peer_pairs"], u["id"]) for u in after),
                                key=lambda t: (-t[0], t[1])))

    def test_gaps_region_filter(self):
        with Client("127.0.0.1", self.daemon.port) as c:
            africa = c.call("query.gaps", region="Africa", limit=10000)["uncovered"]
        self.assertTrue(africa)
        self.assertTrue(all(u["region"] == "Africa" for u in africa))
        expected = peer_counts_from_source(read_csv(os.path.join(DATA, "china_twinning.csv")),
                                           read_csv(os.path.join(DATA, "china_twinning.csv")))
        self.assertGreater(africa[0]["peer_pairs"], 0)
        for u in africa:
            self.assertEqual(u["peer_pairs"], expected.get(u["id"], 0), u["id"])

    def test_recommend_gives_peer_evidence(self):
        pat = re.compile(r"^partner of (?:(\d+) places in China, among them .+|.+ in China)$")
        before = [r for it in self.rec_before["items"] for r in it["reasons"] if pat.search(r)]
        self.assertEqual(before, [])
        with Client("127.0.0.1", self.daemon.port) as c:
            rec = c.call("query.recommend", unit="CN-430100", top=20)
        # Peer partners of each candidate, from the imported CSVs: its
        # partners in China outside Hunan's units.
        country = {r["id"]: r["country"] for r in read_csv(os.path.join(BUILTIN, "nodes.csv"))}
        country.update({r["id"]: r["country"] for r in read_csv(os.path.join(CHINA, "nodes.csv"))})
        peers = collections.Counter()
        for p in read_csv(os.path.join(CHINA, "pairs.csv")):
            for x, y in ((p["a"], p["b"]), (p["b"], p["a"])):
                if country[y] == "CN":
                    peers[x] += 1
        with_peer = 0
        for it in rec["items"]:
            self.assertNotEqual(it["country"], "CN")
            found = [pat.search(r) for r in it["reasons"] if pat.search(r)]
            if peers[it["id"]]:
                # Up to three peers are named; past three, counted.
                self.assertEqual(len(found), 1, it)
                if peers[it["id"]] > 3:
                    self.assertEqual(int(found[0].group(1)), peers[it["id"]], it)
                else:
                    self.assertIsNone(found[0].group(1), it)
                with_peer += 1
            else:
                self.assertEqual(found, [], it)
        self.assertGreaterEqual(with_peer, 10)
        top = rec["items"][0]
        self.assertGreater(peers[top["id"]], 0)

    def test_cli_import_gives_the_same_graph(self):
        cli = cli_path()
        r = subprocess.run([cli, "--help"], capture_output=True, text=True, timeout=30)
        self.assertIn("import", r.stdout + r.stderr)
        with hunan_daemon() as d:
            r = subprocess.run([cli, "--port", str(d.port), "import", "--quiet",
                                "--nodes", os.path.join(CHINA, "nodes.csv"),
                                "--pairs", os.path.join(CHINA, "pairs.csv")],
                               capture_output=True, text=True, timeout=IMPORT_BOUND_S)
            self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
            via_cli = snapshot(d.port)
            with Client("127.0.0.1", d.port) as c:
                a = c.call("node.get", id="CN-320000")
            self.assertEqual((a["kind"], a["name"], a["name_zh"]), ("province", "Jiangsu", "江苏省"))
            # Re-importing is a no-op (upsert of identical records).
            r = subprocess.run([cli, "--port", str(d.port), "--json", "import", "--quiet",
                                "--nodes", os.path.join(CHINA, "nodes.csv"),
                                "--pairs", os.path.join(CHINA, "pairs.csv")],
                               capture_output=True, text=True, timeout=IMPORT_BOUND_S)
            self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
            self.assertEqual(without_epoch(snapshot(d.port)["stats"]),
                             without_epoch(via_cli["stats"]))
        for key in ("stats", "stats_headline", "coverage_country", "gaps", "home_pairs"):
            self.assertEqual(without_epoch(via_cli[key]), without_epoch(self.after[key]), key)


class DefaultDatasetTest(unittest.TestCase):
    """Without --dataset the daemon serves Hunan and the peer provinces
    (datasets/china embedded): the same graph as importing datasets/china
    onto the Hunan dataset, with Hunan's figures unchanged and peer evidence
    in gaps and recommend from the first start."""

    @classmethod
    def setUpClass(cls):
        with open(os.path.join(CHINA, "meta.json"), encoding="utf-8") as f:
            cls.meta = json.load(f)
        with Daemon() as d:
            cls.default = snapshot(d.port)
            with Client("127.0.0.1", d.port) as c:
                cls.africa = c.call("query.gaps", region="Africa", limit=5)
                cls.stats = c.call("graph.stats")
        with hunan_daemon() as d:
            cls.hunan = snapshot(d.port)
            stream_import(d.port, os.path.join(CHINA, "nodes.csv"),
                          os.path.join(CHINA, "pairs.csv"))
            cls.imported = snapshot(d.port)

    def test_default_equals_hunan_plus_imported_china(self):
        for key in ("coverage_country", "coverage_unit", "gaps", "home_pairs"):
            self.assertEqual(without_epoch(self.default[key]),
                             without_epoch(self.imported[key]), key)
        d, i = dict(self.default["stats"]), dict(self.imported["stats"])
        self.assertEqual((d["nodes"], d["pairs"]), (i["nodes"], i["pairs"]))
        self.assertEqual(d["epoch"], 1)         # one batch at start

    def test_hunan_figures_are_the_verified_ones(self):
        for key in ("stats", "stats_headline"):
            home = dict(self.default[key]["home"])
            self.assertEqual(home.pop("peers"), {"dataset": "china-peer",
                                                 "pairs": self.meta["pairs"],
                                                 "source": SOURCE, "confidence": "medium"})
            self.assertEqual(home, self.hunan[key]["home"], key)
        verified = dataset(("hunan",)).meta["verified"]
        self.assertEqual(self.stats["home"]["pairs"], verified["pairs"])
        self.assertEqual(self.stats["home"]["countries"], verified["countries"])

    def test_gaps_africa_ranked_by_peer_evidence(self):
        expected = peer_counts_from_source(read_csv(os.path.join(DATA, "china_twinning.csv")),
                                           read_csv(os.path.join(DATA, "china_twinning.csv")))
        got = [(u["id"], u["peer_pairs"]) for u in self.africa["uncovered"]]
        self.assertEqual(len(got), 5)
        self.assertGreater(got[0][1], 0)
        for cid, n in got:
            self.assertEqual(n, expected.get(cid, 0), cid)
        self.assertEqual([n for _, n in got], sorted((n for _, n in got), reverse=True))


class WorldImportTest(unittest.TestCase):
    """The world network, converted into a temporary directory (3.4 MB, not
    committed), on the built-in dataset."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tnpeer-world-")
        t0 = time.monotonic()
        r = run_tool("world", "--data", DATA, "--out", cls.tmp, "--json")
        cls.convert_s = time.monotonic() - t0
        if r.returncode != 0:
            raise AssertionError("convert_twinning.py world failed: %s" % r.stderr)
        cls.meta = json.loads(r.stdout)
        cls.daemon = hunan_daemon().start()
        try:
            cls.before = snapshot(cls.daemon.port)
            t0 = time.monotonic()
            cls.commit = stream_import(cls.daemon.port, os.path.join(cls.tmp, "nodes.csv"),
                                       os.path.join(cls.tmp, "pairs.csv"))
            cls.import_s = time.monotonic() - t0
            cls.after = snapshot(cls.daemon.port)
        except Exception:
            cls.daemon.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_bounded_time_and_counts(self):
        self.assertLess(self.convert_s, CONVERT_BOUND_S)
        self.assertLess(self.import_s, IMPORT_BOUND_S)
        m = self.meta
        self.assertEqual(m["rows_read"], len(read_csv(os.path.join(DATA, "world_twinning.csv"))))
        self.assertEqual(m["skipped"]["total"] + m["pairs"], m["rows_read"])
        self.assertEqual(self.commit["pairs_added"], m["pairs"])
        self.assertEqual(self.commit["nodes_added"], sum(m["nodes"].values()))
        b, a = self.before["stats"], self.after["stats"]
        for kind in ("country", "province", "city"):
            self.assertEqual(a["nodes"][kind] - b["nodes"][kind], m["nodes"][kind], kind)
        self.assertEqual(a["pairs"]["total"] - b["pairs"]["total"], m["pairs"])
        # The china rows are a subset: same Chinese pairs, same skips.
        with open(os.path.join(CHINA, "meta.json"), encoding="utf-8") as f:
            china = json.load(f)
        self.assertEqual(m["pairs_with_cn_end"], china["pairs"])
        self.assertEqual(m["skipped"]["cn_province_unknown"], china["skipped"]["cn_province_unknown"])

    def test_world_contains_china_with_the_same_ids(self):
        world_pairs = {frozenset((p["a"], p["b"])) for p in read_csv(os.path.join(self.tmp, "pairs.csv"))}
        china_pairs = {frozenset((p["a"], p["b"])) for p in read_csv(os.path.join(CHINA, "pairs.csv"))}
        self.assertEqual(china_pairs - world_pairs, set())
        world_nodes = {n["id"]: n for n in read_csv(os.path.join(self.tmp, "nodes.csv"))}
        # Hunan's partners keep their built-in ids in the world network
        # ("Saint Paul" is Changsha's "Saint Paul, Minnesota").
        self.assertNotIn("US-saint-paul", world_nodes)
        ends = {x for key in world_pairs for x in key}
        for nid in ("US-saint-paul-minnesota", "US-new-haven-connecticut", "JP-kagoshima"):
            self.assertTrue(nid in ends, nid)
        for n in read_csv(os.path.join(CHINA, "nodes.csv")):
            self.assertEqual(world_nodes.get(n["id"]), n)

    def test_hunan_figures_do_not_change(self):
        b, a = self.before, self.after
        self.assertEqual(a["stats"]["home"], b["stats"]["home"])
        self.assertEqual(a["stats_headline"]["home"], b["stats_headline"]["home"])
        for key in ("coverage_country", "coverage_unit", "home_pairs"):
            self.assertEqual(without_epoch(a[key]), without_epoch(b[key]), key)
        expected = peer_counts_from_source(read_csv(os.path.join(DATA, "world_twinning.csv")),
                                           read_csv(os.path.join(DATA, "china_twinning.csv")))
        got = {u["id"]: u["peer_pairs"] for u in a["gaps"]["uncovered"]}
        self.assertEqual(got, {cid: expected.get(cid, 0) for cid in got})

    def test_degree_matches_networkx(self):
        g = nx.Graph()
        for path in (os.path.join(BUILTIN, "nodes.csv"), os.path.join(self.tmp, "nodes.csv")):
            for n in read_csv(path):
                if n["kind"] != "country":
                    g.add_node(n["id"])
        for path in (os.path.join(BUILTIN, "pairs.csv"), os.path.join(self.tmp, "pairs.csv")):
            for p in read_csv(path):
                self.assertIn(p["a"], g)
                self.assertIn(p["b"], g)
                g.add_edge(p["a"], p["b"])
        with Client("127.0.0.1", self.daemon.port, timeout=120) as c:
            res = c.call("query.centrality", metric="degree", top=100000, deadline_ms=60000)
        got = {it["id"]: it["score"] for it in res["items"]}
        self.assertEqual(len(got), g.number_of_nodes())
        want = dict(g.degree())
        self.assertEqual(got, want)
        self.assertEqual(g.number_of_edges(), self.after["stats"]["pairs"]["total"])
        # Top of the ranking: score descending, ties by id.
        top = sorted(want.items(), key=lambda kv: (-kv[1], kv[0]))[:20]
        self.assertEqual([(it["id"], it["score"]) for it in res["items"][:20]], top)


if __name__ == "__main__":
    unittest.main(verbosity=2)
