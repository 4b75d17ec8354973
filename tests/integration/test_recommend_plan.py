"""test_recommend_plan -- query.recommend and query.plan over RPC and the CLI,
on the built-in Hunan dataset with the other provinces' pairs
(datasets/china) imported on top, as a planner would run them.

Checked against facts computed here from the CSV files: candidates are never
partners of the unit's family or (by default) of another Hunan unit, the
filters hold, the plan's invariants hold (distinct uncovered target
countries, budget bounds, candidates in the step's country, bad targets
refused), and the plan's "after" is what query.coverage reports once the
steps' first candidates are really paired with their units.
"""

import collections
import csv
import os
import subprocess
import unittest

import tnharness as h
from twinnet import Client, TwinnetError

HOME = "CN-430000"
SRC = h.source_dir()
BUILTIN = os.path.join(SRC, "datasets", "hunan")
CHINA = os.path.join(SRC, "datasets", "china")


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def record(row):
    rec = {k: v for k, v in row.items() if v not in ("", None)}
    if "tags" in rec:
        rec["tags"] = rec["tags"].split(";")
    return rec


class World:
    """The graph as the CSV files describe it."""

    def __init__(self):
        nodes = read_csv(os.path.join(BUILTIN, "nodes.csv")) + read_csv(os.path.join(CHINA, "nodes.csv"))
        self.pairs = read_csv(os.path.join(BUILTIN, "pairs.csv")) + read_csv(os.path.join(CHINA, "pairs.csv"))
        self.nodes = {n["id"]: n for n in nodes}
        self.adj = collections.defaultdict(set)
        for p in self.pairs:
            self.adj[p["a"]].add(p["b"])
            self.adj[p["b"]].add(p["a"])

    def ancestors(self, v):
        out, p = set(), self.nodes[v].get("parent")
        while p and p not in out:
            out.add(p)
            p = self.nodes[p].get("parent")
        return out

    def units(self, home=HOME):
        return {v for v in self.nodes if v == home or home in self.ancestors(v)}

    def family(self, v):
        return {v} | self.ancestors(v) | {x for x in self.nodes if v in self.ancestors(x)}

    def partners_of(self, vs):
        return set().union(*(self.adj[v] for v in vs)) if vs else set()

    def covered(self, home=HOME):
        return {self.nodes[x]["country"] for x in self.partners_of(self.units(home))
                if self.nodes[x]["country"] != "CN"}


def load(port):
    nodes = [record(r) for r in read_csv(os.path.join(CHINA, "nodes.csv"))]
    pairs = [record(r) for r in read_csv(os.path.join(CHINA, "pairs.csv"))]
    with Client("127.0.0.1", port, timeout=120) as c:
        tok = c.call("import.begin")["import"]
        c.call("import.chunk", {"import": tok, "nodes": nodes})
        c.call("import.chunk", {"import": tok, "pairs": pairs})
        c.call("import.commit", {"import": tok})


class Advice(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.w = World()
        cls.d = h.Daemon().start()
        try:
            load(cls.d.port)
            cls.c = Client("127.0.0.1", cls.d.port, timeout=120)
        except Exception:
            cls.d.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.c.close()
        cls.d.stop()

    def err(self, method, opts):
        with self.assertRaises(TwinnetError) as cm:
            self.c.call(method, opts)
        return cm.exception.code

    def test_methods_listed(self):
        items = {m["name"]: m for m in self.c.call("server.methods")["items"]}
        self.assertTrue(items["query.plan"]["slow"])
        self.assertEqual(items["query.plan"]["role"], "read")
        self.assertLessEqual({"unit", "target", "budget", "as_of", "min_confidence"},
                             set(items["query.plan"]["params"]))
        self.assertLessEqual({"unit", "top", "country", "region", "tag", "kind", "exclude_home"},
                             set(items["query.recommend"]["params"]))

    def test_recommend_home_units_get_new_partners(self):
        hunan_partners = self.w.partners_of(self.w.units())
        for unit in (HOME, "CN-430100", "CN-430681", "CN-431228"):
            with self.subTest(unit=unit):
                got = self.c.recommend(unit, top=25)
                items = got["items"]
                self.assertEqual(len(items), 25)
                scores = [it["score"] for it in items]
                self.assertEqual(scores, sorted(scores, reverse=True))
                self.assertGreaterEqual(len(set(scores)), 20)      # scores separate
                for it in items:
                    self.assertNotIn(it["id"], hunan_partners)
                    self.assertNotEqual(it["country"], "CN")
                    self.assertEqual(self.w.nodes[it["id"]]["country"], it["country"])
                    self.assertGreaterEqual(len(it["reasons"]), 2)
                # Ties (if any) by id.
                keys = [(-it["score"], it["id"]) for it in items]
                self.assertEqual(keys, sorted(keys))
                self.assertEqual(self.c.recommend(unit, top=25), got)

    def test_exclude_home_is_exactly_the_other_units_partners(self):
        unit = "CN-430100"
        on = {it["id"] for it in self.c.recommend(unit, country="JP", top=1000)["items"]}
        off = {it["id"] for it in self.c.recommend(unit, country="JP", top=1000,
                                                   exclude_home=False)["items"]}
        jp = {v for v, n in self.w.nodes.items() if n.get("country") == "JP" and n["kind"] != "country"}
        fam_partners = self.w.partners_of(self.w.family(unit))
        self.assertEqual(off, jp - fam_partners)
        self.assertEqual(on, jp - fam_partners - self.w.partners_of(self.w.units()))
        self.assertTrue(off - on, "no Hunan partner in Japan to exclude: the test proves nothing")

    def test_county_never_gets_its_prefectures_partners(self):
        unit = "CN-430681"            # Miluo, under Yueyang
        fam = self.w.family(unit)
        self.assertIn("CN-430600", fam)
        got = self.c.recommend(unit, top=1000, exclude_home=False)["items"]
        self.assertTrue(got)
        self.assertFalse({it["id"] for it in got} & self.w.partners_of(fam))

    def test_filters(self):
        # The peer data's foreign ends are all cities; the built-in foreign
        # provinces are Hunan's partners, so ask for another province.
        self.assertEqual(self.c.recommend(HOME, kind="province", top=50)["items"], [])
        got = self.c.recommend("CN-320000", kind="province", top=50)["items"]
        self.assertTrue(got)
        self.assertTrue(all(self.w.nodes[it["id"]]["kind"] == "province" for it in got))
        got = self.c.recommend(HOME, tag="bri", top=50)["items"]
        self.assertTrue(got)
        for it in got:
            self.assertIn("bri", self.w.nodes[it["country"]].get("tags", "").split(";"))
        got = self.c.recommend(HOME, region="Africa", top=50)["items"]
        self.assertTrue(got)
        self.assertTrue(all(self.w.nodes[it["country"]]["region"] == "Africa" for it in got))
        for bad in ({"unit": HOME, "kind": "country"}, {"unit": HOME, "exclude_home": "yes"},
                    {"unit": HOME, "tag": 1}, {"unit": "JP"}, {"unit": HOME, "top": 0}):
            self.assertEqual(self.err("query.recommend", bad), "invalid_params", bad)
        self.assertEqual(self.err("query.recommend", {"unit": "XX-none"}), "not_found")

    def test_reasons_name_the_evidence(self):
        it = self.c.recommend(HOME, top=1)["items"][0]
        peers = [x for x in self.w.adj[it["id"]] if self.w.nodes[x].get("country") == "CN"]
        self.assertTrue(peers)
        line = [r for r in it["reasons"] if r.startswith("partner of ")]
        self.assertEqual(len(line), 1)
        named = [self.w.nodes[x]["name"] for x in peers if self.w.nodes[x]["name"] in line[0]]
        self.assertGreaterEqual(len(named), min(3, len(peers)))
        country = self.w.nodes[it["country"]]["name"]
        self.assertTrue(any(r.startswith(country + ":") for r in it["reasons"]), it)

    def test_plan_invariants(self):
        covered = self.w.covered()
        for target, want in (("bri", lambda n: "bri" in n.get("tags", "").split(";")),
                             ("Africa", lambda n: n.get("region") == "Africa"),
                             ("Western Europe", lambda n: n.get("subregion") == "Western Europe"),
                             ("all", lambda n: True)):
            for budget in (1, 5, 50):
                with self.subTest(target=target, budget=budget):
                    p = self.c.plan(target=target, budget=budget)
                    tgt = {v for v, n in self.w.nodes.items()
                           if n["kind"] == "country" and v != "CN" and want(n)}
                    open_ = tgt - covered
                    self.assertEqual(p["unit"], HOME)
                    self.assertEqual(p["target"], target)
                    self.assertEqual(p["before"]["countries"], len(tgt))
                    self.assertEqual(p["before"]["covered"], len(tgt & covered))
                    steps = p["steps"]
                    self.assertEqual(len(steps), min(budget, len(open_)))
                    countries = [s["country"] for s in steps]
                    self.assertEqual(len(set(countries)), len(countries))
                    self.assertLessEqual(set(countries), open_)
                    with_cand = 0
                    for s in steps:
                        self.assertIn(s["unit"], self.w.units())
                        self.assertLessEqual(len(s["candidates"]), 3)
                        for cd in s["candidates"]:
                            self.assertEqual(self.w.nodes[cd["id"]]["country"], s["country"])
                            self.assertTrue(cd["reasons"])
                        with_cand += bool(s["candidates"])
                        self.assertEqual(len(s["reasons"]), 3)
                    self.assertEqual(p["after"]["covered"], p["before"]["covered"] + with_cand)
                    self.assertEqual(p["after"]["countries"], len(tgt))

    def test_plan_covers_every_open_target_country(self):
        covered = sorted(self.w.covered())
        p = self.c.plan(target={"countries": ["TR", "PL", "NZ", covered[0]]}, budget=10)
        self.assertEqual(sorted(s["country"] for s in p["steps"]), ["NZ", "PL", "TR"])
        self.assertEqual(p["before"], {"covered": 1, "countries": 4, "ratio": 0.25})
        self.assertEqual(p["after"]["covered"], 4)

    def test_plan_bad_options(self):
        for bad in ({"budget": 0}, {"budget": 51}, {"budget": "5"}, {"target": "Atlantis"},
                    {"target": 3}, {"target": {"countries": []}}, {"target": {"countries": ["ZZ"]}},
                    {"target": {"countries": ["CN"]}}, {"target": {"regions": ["Africa"]}},
                    {"unit": "JP"}, {"kind": "sister"}, {"home": HOME}):
            self.assertEqual(self.err("query.plan", bad), "invalid_params", bad)
        self.assertEqual(self.err("query.plan", {"unit": "XX-none"}), "not_found")

    def test_plan_for_another_province(self):
        p = self.c.plan(unit="CN-320000", target="Europe", budget=5)     # Jiangsu
        self.assertEqual(p["unit"], "CN-320000")
        js = self.w.units("CN-320000")
        for s in p["steps"]:
            self.assertIn(s["unit"], js)
            self.assertNotIn(s["country"], self.w.covered("CN-320000"))

    def test_cli(self):
        out = subprocess.run([h.cli_path(), "--port", str(self.d.port), "plan", "--target", "bri",
                              "--budget", "5"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        text = out.stdout.decode("utf-8")
        p = self.c.plan(target="bri", budget=5)
        for s in p["steps"]:
            self.assertIn(s["country"], text)
            for cd in s["candidates"]:
                self.assertIn(cd["id"], text)
        out = subprocess.run([h.cli_path(), "--port", str(self.d.port), "recommend", HOME, "--top",
                              "3"], stdout=subprocess.PIPE, timeout=60)
        text = out.stdout.decode("utf-8")
        for it in self.c.recommend(HOME, top=3)["items"]:
            self.assertIn(it["id"], text)
            for r in it["reasons"]:
                self.assertIn(r, text)


class PlanAfterIsCoverage(unittest.TestCase):
    """Pairing every step's first candidate gives the plan's "after"."""

    def test_after(self):
        with h.Daemon() as d:
            load(d.port)
            with Client("127.0.0.1", d.port, timeout=120) as c:
                p = c.plan(target="bri", budget=8)
                self.assertTrue(p["steps"])
                for s in p["steps"]:
                    if s["candidates"]:
                        c.call("pair.upsert", pair={"a": s["unit"], "b": s["candidates"][0]["id"]})
                cov = c.call("query.coverage", by="tag", tag="bri")["items"][0]
                self.assertEqual(cov["covered"], p["after"]["covered"])
                self.assertEqual(cov["countries"], p["after"]["countries"])
                again = c.plan(target="bri", budget=8)
                self.assertEqual(again["before"]["covered"], p["after"]["covered"])
                self.assertFalse({s["country"] for s in again["steps"]}
                                 & {s["country"] for s in p["steps"] if s["candidates"]})


class PlanAfterIsWhatif(unittest.TestCase):
    """query.plan's "after" is what query.whatif reports for the plan's
    pairs, for several targets, and whatif commits nothing."""

    def test_after_equals_whatif(self):
        with h.Daemon() as d:
            load(d.port)
            with Client("127.0.0.1", d.port, timeout=120) as c:
                epoch = c.call("graph.stats")["epoch"]
                for target, cov_opts in (("bri", {"by": "tag", "tag": "bri"}),
                                         ("Africa", {"by": "region"}),
                                         ("all", {"by": "region"})):
                    p = c.plan(target=target, budget=6)
                    adds = [{"a": s["unit"], "b": s["candidates"][0]["id"]}
                            for s in p["steps"] if s["candidates"]]
                    self.assertTrue(adds, target)
                    w = c.whatif([{"method": "query.coverage", "options": cov_opts}], add=adds)
                    res = w["results"][0]
                    if target == "bri":
                        before, after = res["before"]["items"][0], res["after"]["items"][0]
                    elif target == "Africa":
                        pick = lambda r: next(i for i in r["items"] if i["group"] == "Africa")
                        before, after = pick(res["before"]), pick(res["after"])
                    else:
                        before, after = res["before"]["total"], res["after"]["total"]
                    self.assertEqual(before["covered"], p["before"]["covered"], target)
                    self.assertEqual(after["covered"], p["after"]["covered"], target)
                    self.assertEqual(after["countries"], p["after"]["countries"], target)
                    self.assertGreater(after["covered"], before["covered"], target)
                self.assertEqual(c.call("graph.stats")["epoch"], epoch)


if __name__ == "__main__":
    unittest.main()
