"""Every read method on the default built-in dataset (docs/protocol.md),
checked against an independent model built here from datasets/hunan/*.csv
and datasets/china/*.csv:
result shapes, counts, filters, paging, coverage for every `by`, gaps,
recommend, metrics.get; and the epoch carried by every result, growing after
each change."""

import csv
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tnharness as h  # noqa: E402

MAIN = None
REF = None
HOME = "CN-430000"
CONF_RANK = {"low": 0, "medium": 1, "high": 2}


class Ref:
    """The default built-in dataset (Hunan and the peer provinces), read
    straight from the CSV files of datasets/hunan and datasets/china."""

    def __init__(self, src, parts=("hunan", "china")):
        self.nodes = {}
        self.pairs = []
        for part in parts:
            self._read(os.path.join(src, "datasets", part))
        with open(os.path.join(src, "datasets", "hunan", "meta.json"), encoding="utf-8") as f:
            self.meta = json.load(f)

    def _read(self, d):
        with open(os.path.join(d, "nodes.csv"), newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                n = {k: v for k, v in row.items() if v != ""}
                if "tags" in n:
                    n["tags"] = [t.strip() for t in n["tags"].split(";") if t.strip()]
                for k in ("lat", "lon", "population"):
                    if k in n:
                        n[k] = float(n[k])
                self.nodes[n["id"]] = n
        with open(os.path.join(d, "pairs.csv"), newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                p = {k: v for k, v in row.items() if v != ""}
                p.setdefault("kind", "sister")
                p.setdefault("confidence", "high")
                s = p.get("since")
                p["year"] = int(str(s)[:4]) if s is not None else None
                self.pairs.append(p)

    def country_of(self, nid):
        n = self.nodes[nid]
        return nid if n["kind"] == "country" else n["country"]

    def pairs_f(self, as_of=None, min_confidence="low", kind="any"):
        out = []
        for p in self.pairs:
            if as_of is not None and p["year"] is not None and p["year"] > as_of:
                continue
            if CONF_RANK[p["confidence"]] < CONF_RANK[min_confidence]:
                continue
            if kind != "any" and p["kind"] != kind:
                continue
            out.append(p)
        return out

    def units(self, home=HOME):
        out = set()
        for nid in self.nodes:
            cur, seen = nid, 0
            while cur is not None and seen < 64:
                if cur == home:
                    out.add(nid)
                    break
                cur = self.nodes.get(cur, {}).get("parent")
                seen += 1
        return out

    def home_pairs(self, pairs, home=HOME):
        """[(pair, unit, foreign end)]."""
        units = self.units(home)
        hc = self.nodes[home]["country"]
        out = []
        for p in pairs:
            for u, o in ((p["a"], p["b"]), (p["b"], p["a"])):
                if u in units and self.country_of(o) != hc:
                    out.append((p, u, o))
                    break
        return out

    def countries(self, exclude=None):
        return [n for n in self.nodes.values() if n["kind"] == "country" and n["id"] != exclude]

    def degree(self, nid):
        return sum(1 for p in self.pairs if nid in (p["a"], p["b"]))


def pair_key(p):
    return frozenset((p["a"], p["b"]))


def setUpModule():
    global MAIN, REF
    REF = Ref(h.source_dir())
    MAIN = h.Daemon().start()


def tearDownModule():
    MAIN.stop()


class Case(unittest.TestCase):
    def setUp(self):
        self.c = MAIN.client()

    def tearDown(self):
        self.c.close()

    def call(self, method, params=None):
        return self.c.call(method, params)


class Stats(Case):
    def check_stats(self, st, pairs):
        kinds = {"country": 0, "province": 0, "city": 0}
        for n in REF.nodes.values():
            kinds[n["kind"]] += 1
        self.assertEqual(st["nodes"], kinds)
        self.assertEqual(st["pairs"]["total"], len(pairs))
        self.assertEqual(st["pairs"]["sister"], sum(p["kind"] == "sister" for p in pairs))
        self.assertEqual(st["pairs"]["friendly"], sum(p["kind"] == "friendly" for p in pairs))
        hp = REF.home_pairs(pairs)
        self.assertEqual(st["home"]["id"], HOME)
        self.assertEqual(st["home"]["units"], len(REF.units()))
        self.assertEqual(st["home"]["pairs"], len(hp))
        self.assertEqual(st["home"]["countries"], len({REF.country_of(o) for _, _, o in hp}))
        self.assertIsInstance(st["epoch"], int)

    def test_graph_stats_all(self):
        st = self.call("graph.stats")
        self.check_stats(st, REF.pairs)
        # The home's figures are the verified list's: the peer pairs add
        # none (meta.json counts datasets/hunan alone).
        v = REF.meta["verified"]
        self.assertEqual(st["home"]["pairs"], v["pairs"])
        self.assertEqual(st["home"]["countries"], v["countries"])

    def test_graph_stats_as_of_2021_min_medium(self):
        st = self.call("graph.stats", {"as_of": 2021, "min_confidence": "medium"})
        self.check_stats(st, REF.pairs_f(as_of=2021, min_confidence="medium"))
        v = REF.meta["verified"]["as_of_2021_min_medium"]
        self.assertEqual(st["home"]["pairs"], v["pairs"])
        self.assertEqual(st["home"]["countries"], v["countries"])
        # Node counts never depend on pair filters.
        self.assertEqual(st["nodes"], self.call("graph.stats")["nodes"])

    def test_graph_stats_each_filter(self):
        for opts in ({"as_of": 2021}, {"as_of": 1990}, {"as_of": 1900}, {"min_confidence": "high"},
                     {"min_confidence": "low"}, {"min_confidence": "medium"}):
            with self.subTest(**opts):
                self.check_stats(self.call("graph.stats", opts), REF.pairs_f(**opts))


class Nodes(Case):
    def test_node_get_every_node(self):
        for nid, n in REF.nodes.items():
            got = self.call("node.get", {"id": nid})
            self.assertEqual(got.pop("degree"), REF.degree(nid), nid)
            self.assertIsInstance(got.pop("epoch"), int)
            if got.get("kind") == "country":
                got.setdefault("tags", [])
            want = dict(n)
            if want["kind"] == "country":
                want.setdefault("tags", [])
            self.assertEqual(got, want, nid)

    def test_node_get_not_found(self):
        err, res = self.c.request("node.get", {"id": "cn-430100"})   # ids are case-sensitive
        self.assertEqual(err["code"], "not_found")

    def ref_find(self, q, kind=None, country=None):
        out = []
        for nid, n in sorted(REF.nodes.items()):
            hay = [nid, n.get("name", ""), n.get("name_zh", "")]
            if not any(q.lower() in x.lower() for x in hay):
                continue
            if kind and n["kind"] != kind:
                continue
            if country and REF.country_of(nid).upper() != country.upper():
                continue
            out.append(nid)
        return out

    def test_node_find(self):
        cases = [("changsha", None, None), ("CHANGSHA", None, None), ("长沙", None, None),
                 ("cn-4301", None, None), ("an", "country", None), ("a", "city", "JP"),
                 ("e", None, "us"), ("zzzz-nothing", None, None), ("市", "city", "CN")]
        for q, kind, country in cases:
            with self.subTest(q=q, kind=kind, country=country):
                opts = {"q": q, "limit": 1000}
                if kind:
                    opts["kind"] = kind
                if country:
                    opts["country"] = country
                got = self.call("node.find", opts)
                self.assertIsInstance(got["epoch"], int)
                ids = [n["id"] for n in got["items"]]
                self.assertEqual(sorted(ids), self.ref_find(q, kind, country))
                for n in got["items"]:
                    self.assertEqual(n["kind"], REF.nodes[n["id"]]["kind"])
                    self.assertEqual(n["name"], REF.nodes[n["id"]]["name"])

    def test_node_find_limit(self):
        everything = self.ref_find("a")
        self.assertGreater(len(everything), 25)
        self.assertEqual(len(self.call("node.find", {"q": "a"})["items"]), 20)   # default 20
        self.assertEqual(len(self.call("node.find", {"q": "a", "limit": 7})["items"]), 7)
        got = self.call("node.find", {"q": "a", "limit": 1000})["items"]
        self.assertEqual(len(got), min(1000, len(everything)))
        self.assertEqual([n["id"] for n in got], everything[:1000])

    def test_node_neighbors(self):
        for nid in ("CN-430100", "CN-430000", "CN-430600", "JP-shiga", "CN-430500"):
            if nid not in REF.nodes:
                continue
            for kind in ("any", "sister", "friendly", None):
                with self.subTest(id=nid, kind=kind):
                    opts = {"id": nid}
                    if kind:
                        opts["kind"] = kind
                    got = self.call("node.neighbors", opts)
                    self.assertIsInstance(got["epoch"], int)
                    want = {}
                    for p in REF.pairs:
                        if nid in (p["a"], p["b"]) and kind in (None, "any", p["kind"]):
                            other = p["b"] if p["a"] == nid else p["a"]
                            want[other] = p
                    got_other = {}
                    for it in got["items"]:
                        self.assertEqual(set(it), {"node", "pair"})
                        self.assertIn(nid, (it["pair"]["a"], it["pair"]["b"]))
                        other = it["node"]["id"]
                        self.assertEqual(pair_key(it["pair"]), frozenset((nid, other)))
                        self.assertEqual(it["pair"]["kind"], want[other]["kind"])
                        self.assertEqual(it["node"]["name"], REF.nodes[other]["name"])
                        got_other[other] = it
                    self.assertEqual(set(got_other), set(want))
                    self.assertEqual(len(got["items"]), len(want))
        err, _ = self.c.request("node.neighbors", {"id": "CN-430100", "kind": "enemy"})
        self.assertEqual(err["code"], "invalid_params")


class PairList(Case):
    def ref_list(self, unit=None, country=None, region=None, since_from=None, since_to=None,
                 as_of=None, min_confidence="low", kind="any"):
        out = []
        for p in REF.pairs_f(as_of=as_of, min_confidence=min_confidence, kind=kind):
            if unit and unit not in (p["a"], p["b"]):
                continue
            if since_from or since_to:
                if p["year"] is None:
                    continue
                if since_from and p["year"] < since_from:
                    continue
                if since_to and p["year"] > since_to:
                    continue
            if country or region:
                ok = False
                for e in (p["a"], p["b"]):
                    cc = REF.country_of(e)
                    if country and cc.upper() != country.upper():
                        continue
                    if region and REF.nodes[cc].get("region", "").lower() != region.lower():
                        continue
                    ok = True
                if not ok:
                    continue
            out.append(p)
        return out

    def test_filters(self):
        cases = [{}, {"unit": "CN-430100"}, {"unit": "CN-430000"}, {"country": "JP"},
                 {"country": "jp"}, {"region": "Europe"}, {"region": "africa"},
                 {"since_from": 2010}, {"since_to": 1999}, {"since_from": 2000, "since_to": 2019},
                 {"as_of": 2021}, {"min_confidence": "high"}, {"kind": "friendly"},
                 {"kind": "sister", "region": "Asia", "min_confidence": "medium"},
                 {"unit": "CN-430100", "country": "US"}, {"country": "CN"},
                 {"region": "Asia", "country": "JP"}]
        for opts in cases:
            with self.subTest(**opts):
                got = self.call("pair.list", dict(opts, limit=10000))
                want = self.ref_list(**opts)
                self.assertEqual(got["total"], len(want))
                self.assertEqual(len(got["items"]), len(want))
                self.assertEqual({pair_key(p) for p in got["items"]}, {pair_key(p) for p in want})
                for p in got["items"]:
                    self.assertIn(p["kind"], ("sister", "friendly"))
                    self.assertIn(p.get("confidence", "high"), CONF_RANK)

    def test_pair_fields_match_the_csv(self):
        by_key = {pair_key(p): p for p in REF.pairs}
        got = self.call("pair.list", {"limit": 10000})["items"]
        for p in got:
            r = by_key[pair_key(p)]
            self.assertEqual(p["kind"], r["kind"])
            self.assertEqual(p.get("source"), r.get("source"))
            self.assertEqual(p.get("confidence", "high"), r["confidence"])
            if "since" in r:
                self.assertEqual(str(p["since"]), str(r["since"]))
            else:
                self.assertNotIn("since", p)

    def test_paging(self):
        total = len(REF.pairs)
        seen = []
        offset = 0
        for _ in range(total // 100 + 2):
            page = self.call("pair.list", {"limit": 100, "offset": offset})
            self.assertEqual(page["total"], total)
            if not page["items"]:
                break
            self.assertLessEqual(len(page["items"]), 100)
            seen += page["items"]
            offset += 100
        self.assertEqual(len(seen), total)
        self.assertEqual(len({pair_key(p) for p in seen}), total, "pages overlap or repeat")
        # Paging is stable: the same page twice is the same.
        self.assertEqual(self.call("pair.list", {"limit": 5, "offset": 20})["items"], seen[20:25])
        past = self.call("pair.list", {"limit": 10, "offset": total + 5})
        self.assertEqual(past["items"], [])
        self.assertEqual(past["total"], total)
        filt = self.call("pair.list", {"region": "Europe", "limit": 3, "offset": 3})
        self.assertEqual(filt["total"], len(self.ref_list(region="Europe")))
        self.assertEqual(len(filt["items"]), 3)

    def test_bad_ranges(self):
        err, _ = self.c.request("pair.list", {"since_from": 2020, "since_to": 2010})
        self.assertEqual(err["code"], "invalid_params")
        err, _ = self.c.request("pair.list", {"unit": "XX-none"})
        self.assertIn(err["code"], ("not_found", "invalid_params"))


class Coverage(Case):
    def ref_groups(self, key, kind="any", tag=None):
        hc = REF.nodes[HOME]["country"]
        hp = REF.home_pairs(REF.pairs_f(kind=kind))
        groups = {}
        for c in REF.countries(exclude=hc):
            if key == "tag":
                names = [tag] if tag in c.get("tags", []) else []
            else:
                names = [c.get(key)] if c.get(key) else []
            for g in names:
                groups.setdefault(g, {"group": g, "countries": 0, "covered": set(), "pairs": 0,
                                      "units": set(), "members": set()})
                groups[g]["countries"] += 1
                groups[g]["members"].add(c["id"])
        for p, u, o in hp:
            cc = REF.country_of(o)
            for g in groups.values():
                if cc in g["members"]:
                    g["covered"].add(cc)
                    g["pairs"] += 1
                    g["units"].add(u)
        out = {}
        for g, v in groups.items():
            out[g] = {"group": g, "countries": v["countries"], "covered": len(v["covered"]),
                      "ratio": len(v["covered"]) / v["countries"], "pairs": v["pairs"],
                      "units": len(v["units"])}
        return out

    def check_total(self, got, kind="any"):
        hc = REF.nodes[HOME]["country"]
        hp = REF.home_pairs(REF.pairs_f(kind=kind))
        self.assertEqual(got["home"], HOME)
        self.assertEqual(got["total"], {"countries": len(REF.countries(exclude=hc)),
                                        "covered": len({REF.country_of(o) for _, _, o in hp}),
                                        "pairs": len(hp)})

    def check_groups(self, got, want):
        items = {it["group"]: it for it in got["items"]}
        self.assertEqual(set(items), set(want))
        for g, w in want.items():
            it = items[g]
            self.assertEqual(set(it), {"group", "countries", "covered", "ratio", "pairs", "units"})
            for k in ("countries", "covered", "pairs", "units"):
                self.assertEqual(it[k], w[k], "%s %s" % (g, k))
            self.assertAlmostEqual(it["ratio"], w["ratio"], places=12)

    def test_by_region_default(self):
        for opts in ({}, {"by": "region"}):
            got = self.call("query.coverage", opts)
            self.assertIsInstance(got["epoch"], int)
            self.check_total(got)
            self.check_groups(got, self.ref_groups("region"))

    def test_by_subregion(self):
        got = self.call("query.coverage", {"by": "subregion"})
        self.check_total(got)
        self.check_groups(got, self.ref_groups("subregion"))

    def test_by_tag(self):
        for tag in ("bri", "bri-undated"):
            with self.subTest(tag=tag):
                got = self.call("query.coverage", {"by": "tag", "tag": tag})
                self.check_total(got)
                self.check_groups(got, self.ref_groups("tag", tag=tag))

    def test_by_kind_filter(self):
        for kind in ("sister", "friendly", "any"):
            with self.subTest(kind=kind):
                got = self.call("query.coverage", {"by": "region", "kind": kind})
                self.check_total(got, kind)
                self.check_groups(got, self.ref_groups("region", kind=kind))

    def test_by_country(self):
        got = self.call("query.coverage", {"by": "country"})
        self.check_total(got)
        hp = REF.home_pairs(REF.pairs)
        want = {}
        for p, u, o in hp:
            cc = REF.country_of(o)
            w = want.setdefault(cc, {"id": cc, "name": REF.nodes[cc]["name"],
                                     "region": REF.nodes[cc].get("region"), "pairs": 0, "units": set()})
            w["pairs"] += 1
            w["units"].add(u)
        items = {it["id"]: it for it in got["items"]}
        self.assertEqual(set(items), set(want))
        for cc, w in want.items():
            it = items[cc]
            self.assertEqual(set(it), {"id", "name", "region", "pairs", "units"})
            self.assertEqual((it["name"], it["region"], it["pairs"], it["units"]),
                             (w["name"], w["region"], w["pairs"], len(w["units"])), cc)

    def test_by_unit(self):
        got = self.call("query.coverage", {"by": "unit"})
        self.check_total(got)
        hp = REF.home_pairs(REF.pairs)
        units = REF.units()
        items = {it["id"]: it for it in got["items"]}
        self.assertEqual(set(items), units, "every home unit, idle ones too")
        for u in units:
            mine = [o for _, uu, o in hp if uu == u]
            ccs = {REF.country_of(o) for o in mine}
            regs = {REF.nodes[c].get("region") for c in ccs}
            it = items[u]
            self.assertEqual(set(it), {"id", "name", "pairs", "countries", "regions"})
            self.assertEqual((it["name"], it["pairs"], it["countries"], it["regions"]),
                             (REF.nodes[u]["name"], len(mine), len(ccs), len(regs)), u)

    def test_pair_filters(self):
        """A filtered-out pair does not exist for the call (section 5)."""
        for f in ({"as_of": 2021, "min_confidence": "medium"}, {"as_of": 1995}, {"min_confidence": "high"}):
            with self.subTest(**f):
                pairs = REF.pairs_f(**f)
                hc = REF.nodes[HOME]["country"]
                hp = REF.home_pairs(pairs)
                got = self.call("query.coverage", dict(f, by="country"))
                self.assertEqual(got["total"]["pairs"], len(hp))
                covered = {REF.country_of(o) for _, _, o in hp}
                self.assertEqual(got["total"]["covered"], len(covered))
                self.assertEqual({it["id"] for it in got["items"]}, covered)
                gaps = self.call("query.gaps", dict(f, limit=1000))
                self.assertEqual(sorted(x["id"] for x in gaps["uncovered"]),
                                 sorted(c["id"] for c in REF.countries(exclude=hc) if c["id"] not in covered))
                units = REF.units()
                paired = {e for p in pairs for e in (p["a"], p["b"])}
                self.assertEqual(sorted(x["id"] for x in gaps["idle_units"]), sorted(units - paired))
                rec = self.call("query.recommend", dict(f, unit="CN-430100", top=30, exclude_home=False))
                mine = {p["b"] if p["a"] == "CN-430100" else p["a"] for p in pairs
                        if "CN-430100" in (p["a"], p["b"])}
                self.assertFalse({it["id"] for it in rec["items"]} & mine)

    def test_bad_options(self):
        for opts in ({"by": "galaxy"}, {"kind": "rival"}, {"home": 5}):
            with self.subTest(**opts):
                err, _ = self.c.request("query.coverage", opts)
                self.assertEqual(err["code"], "invalid_params")
        err, _ = self.c.request("query.coverage", {"home": "XX-none"})
        self.assertIn(err["code"], ("not_found", "invalid_params"))


class Gaps(Case):
    def test_gaps(self):
        got = self.call("query.gaps", {"limit": 1000})
        self.assertIsInstance(got["epoch"], int)
        self.assertEqual(got["home"], HOME)
        hc = REF.nodes[HOME]["country"]
        hp = REF.home_pairs(REF.pairs)
        covered = {REF.country_of(o) for _, _, o in hp}
        units = REF.units()
        want_unc = sorted(c["id"] for c in REF.countries(exclude=hc) if c["id"] not in covered)
        got_unc = got["uncovered"]
        self.assertEqual(sorted(x["id"] for x in got_unc), want_unc)
        for x in got_unc:
            self.assertEqual(set(x), {"id", "name", "region", "subregion", "tags", "peer_pairs"})
            n = REF.nodes[x["id"]]
            self.assertEqual(x["name"], n["name"])
            self.assertEqual(x["region"], n.get("region"))
            self.assertEqual(x["tags"], n.get("tags", []))
            peer = sum(1 for p in REF.pairs
                       for a, b in ((p["a"], p["b"]), (p["b"], p["a"]))
                       if REF.country_of(a) == x["id"] and REF.country_of(b) == hc and b not in units)
            self.assertEqual(x["peer_pairs"], peer, x["id"])
        keys = [(-x["peer_pairs"], x["id"]) for x in got_unc]
        self.assertEqual(keys, sorted(keys), "uncovered not sorted by peer_pairs desc, id")
        deg = {u: 0 for u in units}
        for p in REF.pairs:
            for e in (p["a"], p["b"]):
                if e in deg:
                    deg[e] += 1
        self.assertEqual(sorted(x["id"] for x in got["idle_units"]),
                         sorted(u for u, d in deg.items() if d == 0))
        for x in got["idle_units"]:
            self.assertEqual(x["name"], REF.nodes[x["id"]]["name"])
        regions = Coverage.ref_groups(None, "region")
        overall = len(covered) / len(REF.countries(exclude=hc))
        want_under = {g for g, v in regions.items() if v["ratio"] < overall}
        self.assertEqual({x["group"] for x in got["under_covered"]}, want_under)
        for x in got["under_covered"]:
            self.assertAlmostEqual(x["overall"], overall, places=12)
            self.assertAlmostEqual(x["ratio"], regions[x["group"]]["ratio"], places=12)

    def test_gaps_filters_and_limit(self):
        full = self.call("query.gaps", {"limit": 1000})["uncovered"]
        self.assertEqual(len(self.call("query.gaps")["uncovered"]), min(50, len(full)))
        self.assertEqual(self.call("query.gaps", {"limit": 5})["uncovered"], full[:5])
        for key, val in (("region", "Oceania"), ("subregion", "Western Asia"), ("tag", "bri")):
            with self.subTest(**{key: val}):
                got = self.call("query.gaps", {key: val, "limit": 1000})["uncovered"]
                if key == "tag":
                    want = [x for x in full if val in x["tags"]]
                else:
                    want = [x for x in full if x[key] == val]
                self.assertEqual(got, want)
                self.assertGreater(len(got), 0)


class Recommend(Case):
    def test_recommend(self):
        # The built-in dataset's foreign nodes are all partners of some Hunan
        # unit, so only exclude_home false leaves candidates here (the
        # province itself has none: its units' partners are never new to it).
        for unit in ("CN-430100", "CN-430500"):
            with self.subTest(unit=unit):
                got = self.call("query.recommend", {"unit": unit, "top": 15, "exclude_home": False})
                self.assertEqual(got["unit"], unit)
                self.assertIsInstance(got["epoch"], int)
                self.assertLessEqual(len(got["items"]), 15)
                self.assertGreater(len(got["items"]), 0)
                mine = {p["b"] if p["a"] == unit else p["a"] for p in REF.pairs
                        if unit in (p["a"], p["b"])}
                ucc = REF.country_of(unit)
                for it in got["items"]:
                    self.assertEqual(set(it), {"id", "name", "country", "score", "reasons"})
                    n = REF.nodes[it["id"]]
                    self.assertIn(n["kind"], ("province", "city"))
                    self.assertNotEqual(n["country"], ucc, "recommended a node in the unit's country")
                    self.assertEqual(it["country"], n["country"])
                    self.assertNotIn(it["id"], mine, "recommended an existing partner")
                    self.assertNotEqual(it["id"], unit)
                    self.assertTrue(it["reasons"])
                    self.assertTrue(all(isinstance(r, str) and r for r in it["reasons"]))
                keys = [(-it["score"], it["id"]) for it in got["items"]]
                self.assertEqual([k[0] for k in keys], sorted(k[0] for k in keys),
                                 "not sorted by score")
                # Deterministic.
                self.assertEqual(self.call("query.recommend", {"unit": unit, "top": 15,
                                                               "exclude_home": False})["items"],
                                 got["items"])

    def test_recommend_filters(self):
        ex = {"unit": "CN-430100", "exclude_home": False}
        got = self.call("query.recommend", dict(ex, top=50, country="JP"))
        self.assertTrue(all(it["country"] == "JP" for it in got["items"]))
        got = self.call("query.recommend", dict(ex, top=50, region="Europe"))
        self.assertTrue(got["items"])
        self.assertTrue(all(REF.nodes[it["country"]]["region"] == "Europe" for it in got["items"]))
        self.assertEqual(len(self.call("query.recommend", ex)["items"]), 10)
        err, _ = self.c.request("query.recommend", {"unit": "XX-none"})
        self.assertEqual(err["code"], "not_found")
        err, _ = self.c.request("query.recommend", {"unit": "JP"})   # a country is no unit
        self.assertEqual(err["code"], "invalid_params")


class Metrics(Case):
    def test_metrics_get(self):
        m = self.call("metrics.get")
        for k in ("epoch", "graph", "coverage", "timeline", "server"):
            self.assertIn(k, m)
        self.assertEqual(m["graph"], self.call("graph.stats"))
        self.assertEqual(m["coverage"], self.call("query.coverage", {"by": "region"}))
        years = {}
        for p in REF.pairs:
            if p["year"] is not None:
                years[p["year"]] = years.get(p["year"], 0) + 1
        cum = 0
        want = []
        for y in sorted(years):
            cum += years[y]
            want.append({"year": y, "pairs": years[y], "cumulative": cum})
        self.assertEqual(m["timeline"], want)
        s = m["server"]
        self.assertEqual(set(s), {"uptime_s", "connections", "requests_total", "errors_total",
                                  "latency_us"})
        self.assertEqual(set(s["latency_us"]), {"p50", "p99"})
        self.assertLessEqual(s["latency_us"]["p50"], s["latency_us"]["p99"])
        self.assertGreaterEqual(s["connections"], 1)
        # The server section is live, not cached with the rest.
        self.c.request("node.get", {"id": "XX-none"})
        m2 = self.call("metrics.get")
        self.assertGreater(m2["server"]["requests_total"], s["requests_total"])
        self.assertGreater(m2["server"]["errors_total"], s["errors_total"])

    def test_if_epoch(self):
        ep = self.call("server.info")["epoch"]
        self.assertEqual(self.call("metrics.get", {"if_epoch": ep}), {"epoch": ep, "not_modified": True})
        full = self.call("metrics.get", {"if_epoch": ep - 1})
        self.assertIn("graph", full)
        self.assertNotIn("not_modified", full)
        full = self.call("metrics.get", {"if_epoch": ep + 100})
        self.assertIn("graph", full)


class Epochs(unittest.TestCase):
    """Its own daemon: it changes the data."""

    READS = [("graph.stats", None), ("node.get", {"id": "CN-430100"}), ("node.find", {"q": "x"}),
             ("node.neighbors", {"id": "CN-430100"}), ("pair.list", {"limit": 1}),
             ("query.centrality", {"metric": "degree", "top": 1}), ("query.coverage", None),
             ("query.gaps", {"limit": 1}), ("query.recommend", {"unit": "CN-430100", "top": 1}),
             ("metrics.get", None)]

    def epochs(self, c):
        return {m: c.call(m, p)["epoch"] for m, p in self.READS}

    def test_every_result_carries_the_epoch_and_it_grows(self):
        changes = [
            ("node.upsert", {"node": {"id": "JP-epoch-town", "kind": "city", "name": "Epoch Town",
                                      "country": "JP"}}),
            ("pair.upsert", {"pair": {"a": "CN-430100", "b": "JP-epoch-town", "since": 2024}}),
            ("pair.upsert", {"pair": {"a": "CN-430100", "b": "JP-epoch-town", "kind": "friendly"}}),
            ("import.batch", {"nodes": [{"id": "JP-epoch-2", "kind": "city", "name": "E2",
                                         "country": "JP"}]}),
            ("pair.delete", {"a": "JP-epoch-town", "b": "CN-430100"}),
            ("node.delete", {"id": "JP-epoch-town"}),
        ]
        with h.Daemon() as d, d.client() as c:
            last = c.call("server.info")["epoch"]
            seen = self.epochs(c)
            self.assertEqual(set(seen.values()), {last}, seen)
            for method, opts in changes:
                with self.subTest(method=method):
                    res = c.call(method, opts)
                    self.assertGreater(res["epoch"], last, "epoch did not grow after " + method)
                    self.assertEqual(c.call("server.info")["epoch"], res["epoch"])
                    seen = self.epochs(c)
                    self.assertEqual(set(seen.values()), {res["epoch"]}, seen)
                    last = res["epoch"]
            # The data moved with the epochs: the deleted node is gone.
            err, _ = c.request("node.get", {"id": "JP-epoch-town"})
            self.assertEqual(err["code"], "not_found")


if __name__ == "__main__":
    unittest.main()
