"""twinnet import / export (docs/import-export.md):

- round trip: export (csv, jsonl) -> import into an empty server gives the
  same graph, every field of every node and pair compared; GraphML parses
  as XML with one node / edge per node / pair and typed keys;
- error reporting: every bad line of a CSV or JSON Lines file, local
  (syntax, types, fields, duplicates) and server-side (references), is
  printed as file:line: field: reason, and nothing is imported;
- dry run, summaries, replace mode, the progress bar on a terminal.
"""

import json
import os
import pty
import re
import select
import subprocess
import sys
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import durhelp as dh  # noqa: E402
import tnharness as h  # noqa: E402

PROBLEM = re.compile(r"^(?P<file>.+?):(?P<line>\d+): (?:(?P<field>[a-z_]+): )?(?P<reason>.*)$")


def problems(stderr):
    """{(basename, line, field): reason} from the CLI's problem lines."""
    out = {}
    for line in stderr.splitlines():
        m = PROBLEM.match(line)
        if m:
            out[(os.path.basename(m["file"]), int(m["line"]), m["field"])] = m["reason"]
    return out


def tricky_graph():
    """Nodes and pairs with every field, Chinese names, separators and
    quotes in text, precise floats, and every form of 'since'."""
    nodes = [
        {"id": "XA", "kind": "country", "name": "Xanadu, Republic of", "region": "Asia",
         "subregion": "Eastern Asia", "tags": ["bri", "test-tag"], "name_zh": "仙那度"},
        {"id": "XB", "kind": "country", "name": 'The "Quoted" Land', "region": "Europe",
         "subregion": "Northern Europe", "tags": []},
        {"id": "XA-north", "kind": "province", "name": "North Province", "country": "XA",
         "name_zh": "北省", "lat": 41.123456789012345, "lon": -0.1, "population": 12345678},
        {"id": "XA-city-1", "kind": "city", "name": "First City", "country": "XA", "parent": "XA-north",
         "name_zh": "第一市", "lat": 28.228209876543211, "lon": 112.93881, "population": 1500000.5},
        {"id": "XB-town", "kind": "city", "name": "Town; with semicolon", "country": "XB"},
        {"id": "XB-port", "kind": "city", "name": "Port", "country": "XB", "lat": -33.0, "lon": 151.25},
    ]
    pairs = [
        {"a": "XA-city-1", "b": "XB-town", "kind": "sister", "since": 1998,
         "source": 'https://example.org/a,b; note: "signed", twice', "confidence": "medium"},
        {"a": "XA-north", "b": "XB-port", "kind": "friendly", "since": "2019-04", "confidence": "low"},
        {"a": "XB-port", "b": "XA-city-1", "since": "2001-05-17", "source": "line one"},
        {"a": "CN-430100", "b": "XB-port", "kind": "sister"},
    ]
    return nodes, pairs


class ImportExportTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tnie-")

    def tearDown(self):
        import shutil
        shutil.rmtree(self.tmp, ignore_errors=True)

    def daemon(self, empty=False):
        d = h.Daemon(empty=empty).start()
        self.addCleanup(lambda: d.stop() if d.proc is not None else None)
        return d

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def epoch(self, d):
        with d.client() as c:
            return c.call("server.info")["epoch"]

    # ---- round trip ----

    def test_round_trip_csv_and_jsonl_give_the_same_graph(self):
        src = self.daemon()
        nodes, pairs = tricky_graph()
        gnodes, gpairs = h.generated_graph(7, 600, n_countries=12, n_provinces=20)
        with src.client() as c:
            c.call("import.batch", {"nodes": nodes + gnodes, "pairs": pairs + gpairs})
            _, want_nodes, want_pairs = dh.dump(c)
        self.assertGreater(len(want_pairs), 600)
        for fmt, out in (("csv", os.path.join(self.tmp, "csvdir")), ("jsonl", os.path.join(self.tmp, "g.jsonl"))):
            r = dh.cli(src.port, "export", "--format", fmt, "--out", out)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("exported %d nodes and %d pairs" % (len(want_nodes), len(want_pairs)), r.stdout)
            dst = self.daemon(empty=True)
            if fmt == "csv":
                self.assertEqual(sorted(os.listdir(out)), ["nodes.csv", "pairs.csv"])
                args = ["--nodes", os.path.join(out, "nodes.csv"), "--pairs", os.path.join(out, "pairs.csv")]
            else:
                args = ["--jsonl", out]
            r = dh.cli(dst.port, "import", *args)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertRegex(r.stdout, r"nodes\s+%d\s+0\s+0" % len(want_nodes))
            with dst.client() as c:
                _, got_nodes, got_pairs = dh.dump(c)
            self.assertEqual(got_nodes, want_nodes, fmt)
            self.assertEqual(got_pairs, want_pairs, fmt)
            # Every field survived: spot checks on the tricky ones.
            self.assertEqual(got_nodes["XA-city-1"]["lat"], 28.228209876543211)
            self.assertEqual(got_nodes["XA-city-1"]["name_zh"], "第一市")
            self.assertEqual(got_nodes["XA"]["tags"], ["bri", "test-tag"])
            self.assertEqual(got_pairs[("XA-city-1", "XB-town")]["source"],
                             'https://example.org/a,b; note: "signed", twice')
            self.assertEqual(got_pairs[("XA-north", "XB-port")]["since"], "2019-04")
            dst.stop()

    def test_graphml_is_xml_with_every_node_pair_and_attribute(self):
        src = self.daemon()
        nodes, pairs = tricky_graph()
        with src.client() as c:
            c.call("import.batch", {"nodes": nodes, "pairs": pairs})
            stats = c.call("graph.stats")
            _, all_nodes, all_pairs = dh.dump(c)
        out = os.path.join(self.tmp, "g.graphml")
        r = dh.cli(src.port, "export", "--format", "graphml", "--out", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
        root = ET.parse(out).getroot()
        keys = {(k.get("for"), k.get("attr.name")): (k.get("id"), k.get("attr.type"))
                for k in root.findall("g:key", ns)}
        for f in ("kind", "name", "name_zh", "country", "parent", "region", "subregion", "tags"):
            self.assertEqual(keys[("node", f)][1], "string", f)
        for f in ("lat", "lon", "population"):
            self.assertEqual(keys[("node", f)][1], "double", f)
        for f in ("kind", "since", "source", "confidence"):
            self.assertIn(("edge", f), keys)
        self.assertEqual(keys[("edge", "since_year")][1], "int")
        graph = root.find("g:graph", ns)
        self.assertEqual(graph.get("edgedefault"), "undirected")
        xnodes = graph.findall("g:node", ns)
        xedges = graph.findall("g:edge", ns)
        self.assertEqual(len(xnodes), sum(stats["nodes"].values()))
        self.assertEqual(len(xedges), stats["pairs"]["total"])
        self.assertEqual({n.get("id") for n in xnodes}, set(all_nodes))
        self.assertEqual({tuple(sorted((e.get("source"), e.get("target")))) for e in xedges}, set(all_pairs))
        by_id = {n.get("id"): {d.get("key"): d.text for d in n.findall("g:data", ns)} for n in xnodes}
        self.assertEqual(by_id["XA-city-1"][keys[("node", "name_zh")][0]], "第一市")
        self.assertEqual(float(by_id["XA-city-1"][keys[("node", "lat")][0]]), 28.228209876543211)
        self.assertEqual(by_id["XB"][keys[("node", "name")][0]], 'The "Quoted" Land')
        self.assertEqual(by_id["CN-430100"][keys[("node", "name_zh")][0]], all_nodes["CN-430100"]["name_zh"])
        edge = [e for e in xedges if {e.get("source"), e.get("target")} == {"XA-north", "XB-port"}][0]
        data = {d.get("key"): d.text for d in edge.findall("g:data", ns)}
        self.assertEqual(data[keys[("edge", "since")][0]], "2019-04")
        self.assertEqual(data[keys[("edge", "since_year")][0]], "2019")
        self.assertEqual(data[keys[("edge", "kind")][0]], "friendly")

    # ---- error reporting ----

    def test_csv_bad_lines_are_all_reported_and_nothing_is_imported(self):
        d = self.daemon()
        e0 = self.epoch(d)
        nodes = self.write("bad-nodes.csv",
                           "id,kind,name,name_zh,country,parent,lat\n"
                           "XT-a,city,Alpha,甲城,JP,,1.5\n"        # 2 good
                           "XT-b,town,Beta,,JP,,\n"                 # 3 kind
                           "XT-c,city,Gamma,,JP,,abc\n"             # 4 lat (CSV type)
                           "XT-d,city,Delta,,ZZ,,\n"                # 5 country (server)
                           "XT-a,city,Alpha again,,JP,,\n"          # 6 duplicate id
                           "XT-e,city\n"                            # 7 field count
                           "\n"
                           'XT-f,city,"Foxtrot, the ""city""",,JP,,\n'  # 9 good
                           "XT-g,city,Golf,,JP,XT-nowhere,\n")      # 10 parent (server)
        pairs = self.write("bad-pairs.csv",
                           "a,b,kind,since,confidence\n"
                           "XT-a,XT-f,sister,2001,high\n"           # 2 good
                           "XT-a,JP-nowhere,,,\n"                   # 3 b (server)
                           "XT-f,CN-430100,weird,,\n"               # 4 kind
                           "XT-f,CN-430100,,20x1,\n"                # 5 since
                           "XT-f,XT-a,,,\n"                         # 6 duplicate pair
                           "XT-a,CN-430100,,,maybe\n"               # 7 confidence
                           "XT-b,CN-430100,,,\n")                   # 8 refers to a rejected node: not repeated
        r = dh.cli(d.port, "import", "--nodes", nodes, "--pairs", pairs)
        self.assertEqual(r.returncode, 1, r.stderr)
        got = problems(r.stderr)
        want = {("bad-nodes.csv", 3, "kind"), ("bad-nodes.csv", 4, "lat"), ("bad-nodes.csv", 5, "country"),
                ("bad-nodes.csv", 6, "id"), ("bad-nodes.csv", 7, None), ("bad-nodes.csv", 10, "parent"),
                ("bad-pairs.csv", 3, "b"), ("bad-pairs.csv", 4, "kind"), ("bad-pairs.csv", 5, "since"),
                ("bad-pairs.csv", 6, "pair"), ("bad-pairs.csv", 7, "confidence")}
        self.assertEqual(set(got), want, r.stderr)
        self.assertIn("ZZ", got[("bad-nodes.csv", 5, "country")])
        self.assertIn("JP-nowhere", got[("bad-pairs.csv", 3, "b")])
        self.assertIn("abc", got[("bad-nodes.csv", 4, "lat")])
        self.assertIn("nothing imported", r.stderr)
        self.assertEqual(self.epoch(d), e0)
        with d.client() as c:
            self.assertEqual(c.error_code("node.get", {"id": "XT-a"}), "not_found")
        # Fixed, the same files import, and the summary counts them.
        fixed_nodes = self.write("nodes.csv", "id,kind,name,name_zh,country\n"
                                              "XT-a,city,Alpha,甲城,JP\nXT-f,city,\"Foxtrot, the \"\"city\"\"\",,JP\n")
        fixed_pairs = self.write("pairs.csv", "a,b,kind,since\nXT-a,XT-f,sister,2001\nXT-f,CN-430100,friendly,\n")
        r = dh.cli(d.port, "--json", "import", "--nodes", fixed_nodes, "--pairs", fixed_pairs)
        self.assertEqual(r.returncode, 0, r.stderr)
        res = json.loads(r.stdout)
        self.assertEqual((res["nodes_added"], res["pairs_added"], res["epoch"]), (2, 2, e0 + 1))
        with d.client() as c:
            self.assertEqual(c.call("node.get", {"id": "XT-a"})["name_zh"], "甲城")
            self.assertEqual(c.call("node.get", {"id": "XT-f"})["name"], 'Foxtrot, the "city"')
        r = dh.cli(d.port, "import", "--nodes", fixed_nodes, "--pairs", fixed_pairs)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"nodes\s+0\s+0\s+2")
        self.assertRegex(r.stdout, r"pairs\s+0\s+0\s+2")

    def test_more_than_a_hundred_bad_lines_are_all_reported(self):
        d = self.daemon()
        e0 = self.epoch(d)
        rows = ["id,kind,name,country,population"]
        for i in range(250):
            rows.append("XM-%d,city,M%d,JP,%s" % (i, i, "many" if i % 2 else str(i)))
        path = self.write("many.csv", "\n".join(rows) + "\n")
        r = dh.cli(d.port, "import", "--nodes", path)
        self.assertEqual(r.returncode, 1)
        got = problems(r.stderr)
        self.assertEqual(set(got), {("many.csv", i + 2, "population") for i in range(1, 250, 2)})
        self.assertEqual(self.epoch(d), e0)

    def test_jsonl_records_and_errors(self):
        d = self.daemon()
        e0 = self.epoch(d)
        lines = [
            '{"node": {"id": "XJ-a", "kind": "city", "name": "A", "country": "JP", "name_zh": "甲"}}',  # 1
            '{"id": "XJ-b", "kind": "city", "name": "B", "country": "JP"}',                           # 2 bare node
            '',                                                                                      # 3 blank
            '{"a": "XJ-a", "b": "XJ-b", "since": "2003-07"}',                                        # 4 bare pair
            '{"pair": {"a": "XJ-a", "b": "CN-430100", "kind": "friendly"}}',                         # 5
        ]
        good = self.write("good.jsonl", "\n".join(lines) + "\n")
        r = dh.cli(d.port, "--json", "import", "--jsonl", good)
        self.assertEqual(r.returncode, 0, r.stderr)
        res = json.loads(r.stdout)
        self.assertEqual((res["nodes_added"], res["pairs_added"]), (2, 2))
        with d.client() as c:
            self.assertEqual(c.call("node.get", {"id": "XJ-a"})["degree"], 2)
        e1 = self.epoch(d)
        bad = [
            '{"node": {"id": "XJ-c", "kind": "city", "name": "C", "country": "JP"}}',   # 1 good
            '{"id": "XJ-d", "kind": "city", "name": "D", "country": "JP", "colour": 1}',  # 2 unknown field
            '{"id": "XJ-e", "kind": "city", "name": "E", "country": "JP"',               # 3 invalid JSON
            '[1, 2]',                                                                    # 4 not an object
            '{"id": "XJ-f", "a": "XJ-a", "b": "XJ-c"}',                                  # 5 ambiguous
            '{"name": "nothing"}',                                                       # 6 neither
            '{"pair": {"a": "XJ-c", "b": "XJ-zzz"}}',                                    # 7 server: b
            '{"node": {"id": "XJ-g", "kind": "city", "name": "G", "country": "JP", "lat": 95}}',  # 8 lat range
        ]
        badf = self.write("bad.jsonl", "\n".join(bad) + "\n")
        r = dh.cli(d.port, "import", "--jsonl", badf)
        self.assertEqual(r.returncode, 1, r.stderr)
        got = problems(r.stderr)
        self.assertEqual({k[1] for k in got}, {2, 3, 4, 5, 6, 7, 8}, r.stderr)
        self.assertIn(("bad.jsonl", 2, "colour"), got)
        self.assertIn(("bad.jsonl", 7, "b"), got)
        self.assertIn(("bad.jsonl", 8, "lat"), got)
        self.assertIn("invalid JSON", got[("bad.jsonl", 3, None)])
        self.assertEqual(self.epoch(d), e1)

    def test_dry_run_checks_everything_and_imports_nothing(self):
        d = self.daemon()
        e0 = self.epoch(d)
        nodes = self.write("n.csv", "id,kind,name,country\nXD-a,city,A,JP\n")
        pairs = self.write("p.csv", "a,b\nXD-a,CN-430100\n")
        r = dh.cli(d.port, "import", "--dry-run", "--nodes", nodes, "--pairs", pairs)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("dry run", r.stdout)
        self.assertRegex(r.stdout, r"nodes\s+1\s+0\s+0")
        self.assertEqual(self.epoch(d), e0)
        bad = self.write("bp.csv", "a,b\nXD-a,XD-none\n")
        r = dh.cli(d.port, "import", "--dry-run", "--nodes", nodes, "--pairs", bad)
        self.assertEqual(r.returncode, 1)
        self.assertIn(("bp.csv", 2, "b"), problems(r.stderr))
        self.assertEqual(self.epoch(d), e0)

    def test_replace_mode_and_small_chunks(self):
        d = self.daemon()
        nodes, pairs = h.generated_graph(3, 300, n_countries=5, n_provinces=8)
        path = os.path.join(self.tmp, "g.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            for n in nodes:
                f.write(json.dumps({"node": n}, ensure_ascii=False) + "\n")
            for p in pairs:
                f.write(json.dumps(p) + "\n")
        r = dh.cli(d.port, "--json", "import", "--jsonl", path, "--mode", "replace", "--chunk", "37")
        self.assertEqual(r.returncode, 0, r.stderr)
        res = json.loads(r.stdout)
        self.assertGreater(res["nodes_removed"], 200)        # the built-in dataset is gone
        with d.client() as c:
            st = c.call("graph.stats")
        self.assertEqual(sum(st["nodes"].values()), len(nodes))
        self.assertEqual(st["pairs"]["total"], len(pairs))
        # Plain progress lines when stderr is not a terminal.
        self.assertIn("sending: %d/%d records (100%%)" % (len(nodes) + len(pairs), len(nodes) + len(pairs)),
                      r.stderr)

    def test_progress_bar_on_a_terminal(self):
        d = self.daemon(empty=True)
        nodes, pairs = h.generated_graph(5, 2000, n_countries=5, n_provinces=8)
        path = os.path.join(self.tmp, "g.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            for rec in [{"node": n} for n in nodes] + [{"pair": p} for p in pairs]:
                f.write(json.dumps(rec) + "\n")
        master, slave = pty.openpty()
        proc = subprocess.Popen([dh.cli_path(), "--port", str(d.port), "import", "--jsonl", path, "--chunk", "500"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        seen = b""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            r, _, _ = select.select([master], [], [], 1)
            if r:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
            elif proc.poll() is not None:
                break
        out, _ = proc.communicate(timeout=60)
        os.close(master)
        self.assertEqual(proc.returncode, 0, seen)
        self.assertIn(b"\r", seen)
        self.assertIn(b"[" + b"#" * 30 + b"] 100%", seen)
        self.assertGreaterEqual(seen.count(b"\rsending ["), 2)
        self.assertIn(b"imported", out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
