"""twinnet import --pairs-by-name (docs/import-export.md, "Pairs by name"):

- matching: ends are found by (country, name key) among the server's
  nodes: accents and case folded ("Călărași" = built-in RO-calarasi),
  Chinese ends under their cn_province_code; pairs the server has are left
  as they are, a row repeating an earlier row's pair (reversed, other
  diacritics) is skipped;
- creation: missing places become city nodes "<ISO2>-<slug>" (Chinese:
  "CN-<code>-<slug>" under the province, which is made too when missing);
- ambiguity: two nodes with one name key in a country is a file:line
  problem, never a guess, and nothing is applied;
- dry run changes nothing; bad rows give file:line errors and nothing is
  applied; established_year / source_dataset / confidence become since /
  source / confidence.

The fixture tests/integration/data/twinning_by_name.csv holds real rows of
the Wikipedia-derived twinning lists (china and world), unchanged.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tnharness as h  # noqa: E402

FIXTURE = os.path.join(h.source_dir(), "tests", "integration", "data", "twinning_by_name.csv")
HEADER = ("a_name,a_country_iso2,b_name,b_country_iso2,established_year,source_dataset,"
          "cn_province_code,cn_province_en,cn_province_zh,cn_province_basis\n")
SOURCE = "Hekman/twincities twin_cities_raw.csv"

NEW_IDS = {"AL-berat", "AL-tirana", "BG-lovech", "CN-110000", "CN-320000", "CN-320000-nanjing",
           "FR-berat", "GR-mytilene", "JP-sapporo", "KR-daejeon", "RO-pitesti", "RS-kragujevac",
           "US-portland"}


def run_cli(port, *args):
    p = subprocess.run([h.cli_path(), "--port", str(port)] + list(args), capture_output=True,
                       text=True, timeout=120, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


def state(c):
    """(epoch, node count, pair count, every pair as a frozenset -> record)."""
    stats = c.call("graph.stats")
    nodes = stats["nodes"]["country"] + stats["nodes"]["province"] + stats["nodes"]["city"]
    pairs = {}
    offset = 0
    while True:
        page = c.call("pair.list", {"limit": 10000, "offset": offset})
        for p in page["items"]:
            pairs[frozenset((p["a"], p["b"]))] = p
        offset += len(page["items"])
        if not page["items"] or offset >= page["total"]:
            break
    return stats["epoch"], nodes, len(pairs), pairs


class ImportByName(unittest.TestCase):
    def setUp(self):
        self.d = h.Daemon(args=["--dataset", "hunan"]).start()  # the figures below are on Hunan alone
        self.c = self.d.client()
        self.tmp = tempfile.mkdtemp(prefix="tnbyname-")

    def tearDown(self):
        self.c.close()
        self.d.stop()

    def write(self, name, rows):
        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(HEADER + "".join(r + "\n" for r in rows))
        return path

    def test_dry_run_shows_and_changes_nothing(self):
        before = state(self.c)
        rc, out, err = run_cli(self.d.port, "import", "--pairs-by-name", FIXTURE, "--dry-run")
        self.assertEqual(rc, 0, err)
        self.assertIn("would create 13 nodes; matched 6 names to existing nodes", out)
        for nid in NEW_IDS:
            self.assertRegex(out, r"(?m)^%s\s" % re.escape(nid))
        # Matched ends are listed with the line that first named them.
        self.assertRegex(out, r"(?m)^RO-calarasi\s+Călărași\s+RO\s+\S+twinning_by_name.csv:3$")
        self.assertIn("12 rows: 8 new pairs, 3 already on the server", out)
        self.assertIn("1 repeating an earlier row", out)
        self.assertEqual(state(self.c), before)
        for nid in NEW_IDS:
            self.assertEqual(self.c.error_code("node.get", {"id": nid}), "not_found")

    def test_import_matches_and_creates(self):
        e0, n0, p0, pairs0 = state(self.c)
        rc, out, err = run_cli(self.d.port, "--json", "import", "--pairs-by-name", FIXTURE)
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        self.assertEqual({n["id"] for n in doc["created"]}, NEW_IDS)
        self.assertEqual(doc["rows"], 12)
        self.assertEqual(doc["present"], 3)
        self.assertEqual(doc["repeated"], 1)
        self.assertEqual(doc["result"]["nodes_added"], 13)
        self.assertEqual(doc["result"]["pairs_added"], 8)
        matched = {(m["name"], m["country"]): m["id"] for m in doc["matched"]}
        self.assertEqual(matched[("Călărași", "RO")], "RO-calarasi")
        self.assertEqual(matched[("Ölfus", "IS")], "IS-olfus")
        self.assertEqual(matched[("Changsha", "CN")], "CN-430100")

        e1, n1, p1, pairs1 = state(self.c)
        self.assertGreater(e1, e0)
        self.assertEqual(n1, n0 + 13)
        self.assertEqual(p1, p0 + 8)
        fr = self.c.call("node.get", {"id": "FR-berat"})
        self.assertEqual((fr["kind"], fr["name"], fr["country"]), ("city", "Bérat", "FR"))
        nj = self.c.call("node.get", {"id": "CN-320000-nanjing"})
        self.assertEqual((nj["name"], nj["country"], nj["parent"]), ("Nanjing", "CN", "CN-320000"))
        js = self.c.call("node.get", {"id": "CN-320000"})
        self.assertEqual((js["kind"], js["name"], js["name_zh"]), ("province", "Jiangsu", "江苏省"))
        # "Beijing" with province Beijing is the province node itself.
        self.assertIn(frozenset(("CN-110000", "AL-tirana")), pairs1)
        p = pairs1[frozenset(("RO-pitesti", "RS-kragujevac"))]
        self.assertEqual((p["kind"], p["source"], p["confidence"]), ("sister", SOURCE, "medium"))
        self.assertNotIn("since", p)
        # Pairs the server had are left exactly as they were.
        for key in (frozenset(("CN-430100", "JP-kagoshima")), frozenset(("CN-430400", "RO-calarasi"))):
            self.assertEqual(pairs1[key], pairs0[key])
        self.assertIn(frozenset(("CN-320000-nanjing", "BY-mogilev")), pairs1)

        # Again: everything matches now, nothing new.
        rc, out, err = run_cli(self.d.port, "import", "--pairs-by-name", FIXTURE)
        self.assertEqual(rc, 0, err)
        self.assertIn("created 0 nodes; matched 18 names", out)
        self.assertIn("0 new pairs, 12 already on the server", out)
        self.assertIn("nothing new to import", out)
        self.assertEqual(state(self.c), (e1, n1, p1, pairs1))

    def test_ambiguous_name_is_reported_not_guessed(self):
        for nid, name in (("US-portland-or", "Portland"), ("US-portland-me", "PORTLAND")):
            self.c.call("node.upsert", {"node": {"id": nid, "kind": "city", "name": name, "country": "US"}})
        before = state(self.c)
        rc, out, err = run_cli(self.d.port, "import", "--pairs-by-name", FIXTURE)
        self.assertEqual(rc, 1, out)
        lines = [ln for ln in err.splitlines() if "ambiguous" in ln]
        self.assertEqual(len(lines), 2, err)
        for ln, row in zip(lines, (11, 12)):
            self.assertTrue(ln.startswith("%s:%d: b_name: ambiguous: \"Portland\" in US matches 2 nodes"
                                          % (FIXTURE, row)), ln)
            self.assertIn("US-portland-me", ln)
            self.assertIn("US-portland-or", ln)
        self.assertIn("nothing imported", err)
        self.assertEqual(state(self.c), before)

    def test_bad_rows_name_their_lines_and_nothing_is_applied(self):
        good = "Berat,AL,Lovech,BG,,%s,,,," % SOURCE
        path = self.write("bad.csv", [
            good,
            "Berat,AL,Fermo,IT,19x8,%s,,,," % SOURCE,           # 3: year
            "Berat,AL,,IT,,%s,,,," % SOURCE,                    # 4: empty name
            "Berat,AL,Prizren,XK,,%s,,,," % SOURCE,             # 5: no such country on the server
            "Berat,AL,Ulcinj,me,,%s,,,," % SOURCE,              # 6: not an ISO code
            "Berat,AL,Berat,AL,,%s,,,," % SOURCE,               # 7: both ends one node
            "Nanjing,CN,Perth,AU,,%s,32000,Jiangsu,江苏省," % SOURCE,  # 8: province code
            "Berat,AL,Amasya,TR,,%s" % SOURCE,                  # 9: too few fields
        ])
        before = state(self.c)
        rc, out, err = run_cli(self.d.port, "import", "--pairs-by-name", path)
        self.assertEqual(rc, 1, out)
        want = {
            3: "established_year: must be a year",
            4: "b_name: is empty",
            5: "b_country_iso2: the server has no country node XK",
            6: "b_country_iso2: must be an ISO 3166-1 alpha-2 code",
            7: "both ends are the same node AL-berat",
            8: "cn_province_code: must be a 6-digit province code",
            9: "6 fields, the header has 10",
        }
        for line, text in want.items():
            self.assertRegex(err, r"(?m)^%s:%d: %s" % (re.escape(path), line, re.escape(text)))
        self.assertNotRegex(err, r"(?m)^%s:2:" % re.escape(path))
        self.assertIn("7 problems; nothing imported", err)
        self.assertEqual(state(self.c), before)

    def test_missing_column_is_a_header_problem(self):
        path = os.path.join(self.tmp, "cols.csv")
        with open(path, "w", encoding="utf-8") as f:
            f.write("a_name,a_country_iso2,b_name\nBerat,AL,Lovech\n")
        before = state(self.c)
        rc, out, err = run_cli(self.d.port, "import", "--pairs-by-name", path)
        self.assertEqual(rc, 1)
        self.assertIn("%s:1: missing column b_country_iso2" % path, err)
        self.assertEqual(state(self.c), before)

    def test_year_source_confidence_and_kind_columns(self):
        # Test rows (not source data): a year and a confidence column.
        path = os.path.join(self.tmp, "cols.csv")
        with open(path, "w", encoding="utf-8") as f:
            f.write("a_name,a_country_iso2,b_name,b_country_iso2,established_year,source_dataset,"
                    "confidence,kind\n"
                    "Berat,AL,Lovech,BG,1998,test list,high,\n"
                    "Berat,AL,Fermo,IT,,,,friendly\n"
                    "Berat,AL,Ulcinj,ME,,,sure,\n")
        rc, out, err = run_cli(self.d.port, "import", "--pairs-by-name", path)
        self.assertEqual(rc, 1)
        self.assertRegex(err, r"(?m)^%s:4: confidence: " % re.escape(path))
        self.assertEqual(self.c.error_code("node.get", {"id": "AL-berat"}), "not_found")
        with open(path, "w", encoding="utf-8") as f:
            f.write("a_name,a_country_iso2,b_name,b_country_iso2,established_year,source_dataset,"
                    "confidence,kind\n"
                    "Berat,AL,Lovech,BG,1998,test list,high,\n"
                    "Berat,AL,Fermo,IT,,,,friendly\n")
        rc, out, err = run_cli(self.d.port, "import", "--pairs-by-name", path)
        self.assertEqual(rc, 0, err)
        pairs = state(self.c)[3]
        p = pairs[frozenset(("AL-berat", "BG-lovech"))]
        self.assertEqual((p["since"], p["source"], p["confidence"]), (1998, "test list", "high"))
        q = pairs[frozenset(("AL-berat", "IT-fermo"))]
        self.assertEqual((q["kind"], q["confidence"]), ("friendly", "medium"))
        self.assertNotIn("source", q)

    def test_taken_slug_gets_a_suffix(self):
        # A node already holds the plain id under another name.
        self.c.call("node.upsert", {"node": {"id": "FR-berat", "kind": "city", "name": "Somewhere Else",
                                             "country": "FR"}})
        rc, out, err = run_cli(self.d.port, "--json", "import", "--pairs-by-name", FIXTURE)
        self.assertEqual(rc, 0, err)
        made = {n["id"]: n for n in json.loads(out)["created"]}
        self.assertEqual(made["FR-berat-2"]["name"], "Bérat")
        self.assertEqual(self.c.call("node.get", {"id": "FR-berat"})["name"], "Somewhere Else")

    def test_usage(self):
        rc, out, err = run_cli(self.d.port, "import", "--pairs-by-name", FIXTURE, "--pairs", FIXTURE)
        self.assertEqual(rc, 2)
        self.assertIn("--pairs-by-name goes alone", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
