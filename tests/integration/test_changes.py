"""Changes (docs/protocol.md, "Methods", "Changes"; section 2 "an error never
changes state"; section 7 events): node/pair upsert and delete, cascade,
conflicts, import.batch atomicity, error details, replace mode, dry_run,
pairs referencing nodes of the same batch, and metrics.subscribe events.
Each test runs on its own daemon with the built-in dataset."""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tnharness as h  # noqa: E402


def city(nid, country="JP", **kw):
    n = {"id": nid, "kind": "city", "name": "City " + nid, "country": country}
    n.update(kw)
    return n


class Case(unittest.TestCase):
    def setUp(self):
        self.d = h.Daemon().start()
        self.c = self.d.client()

    def tearDown(self):
        self.c.close()
        self.d.stop()

    def call(self, method, params=None):
        return self.c.call(method, params)

    def state(self):
        """Everything a failed change must leave alone."""
        st = self.call("graph.stats")
        pairs = self.call("pair.list", {"limit": 10000})
        ids = [n["id"] for n in self.call("node.list", {"limit": 10000})["items"]]
        return st, pairs, ids

    def refused(self, method, params, code):
        """The change fails with code and changes nothing, epoch included."""
        before = self.state()
        err, res = self.c.request(method, params)
        self.assertIsNotNone(err, "%s %r was accepted" % (method, params))
        self.assertEqual(err["code"], code, err)
        self.assertIsNone(res)
        self.assertEqual(self.state(), before, "a refused %s changed the data or the epoch" % method)
        return err

    def epoch(self):
        return self.call("server.info")["epoch"]


class Nodes(Case):
    def test_upsert_insert_then_update(self):
        e0 = self.epoch()
        r = self.call("node.upsert", {"node": city("JP-test-1", name_zh="测试", lat=35.0, lon=139.5,
                                                   population=12345)})
        self.assertEqual(set(r), {"epoch"})
        self.assertGreater(r["epoch"], e0)
        got = self.call("node.get", {"id": "JP-test-1"})
        self.assertEqual((got["name"], got["name_zh"], got["lat"], got["lon"], got["population"], got["degree"]),
                         ("City JP-test-1", "测试", 35.0, 139.5, 12345, 0))
        r2 = self.call("node.upsert", {"node": city("JP-test-1", name="Renamed")})
        self.assertGreater(r2["epoch"], r["epoch"])
        got = self.call("node.get", {"id": "JP-test-1"})
        self.assertEqual(got["name"], "Renamed")
        # An upsert replaces the record: fields not given are gone.
        self.assertNotIn("name_zh", got)
        self.assertNotIn("lat", got)
        self.assertEqual(self.call("graph.stats")["nodes"]["city"],
                         h.dataset().nodes_by_kind()["city"] + 1)

    def test_upsert_refusals(self):
        cases = [
            ({"node": city("JP-x", parent="XX-nope")}, "not_found"),
            ({"node": city("JP-x", country="ZZ")}, "not_found"),
            ({"node": city("JP-x", parent="CN-430000")}, "conflict"),    # parent in another country
            ({"node": {"id": "JP-x", "kind": "city", "name": "x"}}, "invalid_params"),   # no country
            ({"node": city("JP-x", kind="town")}, "invalid_params"),
            ({"node": city("")}, "invalid_params"),
            ({"node": city("x" * 129)}, "invalid_params"),
            ({"node": city("JP-\x01ctl")}, "invalid_params"),
            ({"node": city("JP-x", lat="north")}, "invalid_params"),
            ({"node": city("JP-x", tags="bri")}, "invalid_params"),
            ({"node": city("JP-x", colour="red")}, "invalid_params"),
            ({"node": "JP-x"}, "invalid_params"),
            ({}, "invalid_params"),
            # A country that cities refer to cannot become a city.
            ({"node": city("BE", country="FR")}, "conflict"),
            # A country's id is its ISO code.
            ({"node": {"id": "Belgium", "kind": "country", "name": "Belgium", "region": "Europe",
                       "subregion": "Western Europe"}}, "invalid_params"),
        ]
        for params, code in cases:
            with self.subTest(params=repr(params)[:80]):
                self.refused("node.upsert", params, code)
        # 128 bytes is fine.
        self.call("node.upsert", {"node": city("J" * 128)})

    def test_delete_and_cascade(self):
        deg = self.call("node.get", {"id": "BE-mons"})["degree"]
        self.assertGreater(deg, 0)
        err = self.refused("node.delete", {"id": "BE-mons"}, "conflict")
        self.assertIn("cascade", err["message"])
        self.refused("node.delete", {"id": "BE-mons", "cascade": False}, "conflict")
        self.refused("node.delete", {"id": "BE-mons", "cascade": "yes"}, "invalid_params")
        self.refused("node.delete", {"id": "XX-none"}, "not_found")
        # A parent of other nodes cannot go, cascade or not.
        self.refused("node.delete", {"id": "CN-430000", "cascade": True}, "conflict")
        self.refused("node.delete", {"id": "JP"}, "conflict")       # country of other nodes
        total = self.call("graph.stats")["pairs"]["total"]
        e0 = self.epoch()
        r = self.call("node.delete", {"id": "BE-mons", "cascade": True})
        self.assertGreater(r["epoch"], e0)
        self.assertEqual(r.get("pairs_removed"), deg)
        self.assertEqual(self.c.request("node.get", {"id": "BE-mons"})[0]["code"], "not_found")
        self.assertEqual(self.call("graph.stats")["pairs"]["total"], total - deg)
        # Belgium keeps only the pairs that did not involve Mons.
        be = h.dataset().pairs_in_country("BE")
        self.assertEqual(self.call("pair.list", {"country": "BE", "limit": 1000})["total"],
                         len(be) - deg)
        self.assertEqual(len([p for p in be if "BE-mons" in (p["a"], p["b"])]), deg)
        # A node without pairs goes without cascade.
        self.call("node.upsert", {"node": city("JP-lonely")})
        self.call("node.delete", {"id": "JP-lonely"})
        self.assertEqual(self.c.request("node.get", {"id": "JP-lonely"})[0]["code"], "not_found")


class Pairs(Case):
    def test_upsert_update_delete(self):
        self.call("node.upsert", {"node": city("JP-p1")})
        total = self.call("graph.stats")["pairs"]["total"]
        e0 = self.epoch()
        r = self.call("pair.upsert", {"pair": {"a": "CN-430100", "b": "JP-p1", "since": "2019-05",
                                               "confidence": "medium", "source": "test"}})
        self.assertGreater(r["epoch"], e0)
        self.assertEqual(self.call("graph.stats")["pairs"]["total"], total + 1)
        nb = self.call("node.neighbors", {"id": "JP-p1"})["items"]
        self.assertEqual(len(nb), 1)
        self.assertEqual(nb[0]["pair"]["since"], "2019-05")
        self.assertEqual(nb[0]["pair"]["confidence"], "medium")
        # Undirected: the same pair written the other way round is an update.
        self.call("pair.upsert", {"pair": {"a": "JP-p1", "b": "CN-430100", "kind": "friendly"}})
        self.assertEqual(self.call("graph.stats")["pairs"]["total"], total + 1)
        nb = self.call("node.neighbors", {"id": "CN-430100", "kind": "friendly"})["items"]
        self.assertIn("JP-p1", [x["node"]["id"] for x in nb])
        self.assertEqual(self.call("node.get", {"id": "JP-p1"})["degree"], 1)
        # Delete, also in the other order.
        self.call("pair.delete", {"a": "JP-p1", "b": "CN-430100"})
        self.assertEqual(self.call("graph.stats")["pairs"]["total"], total)
        self.assertEqual(self.call("node.get", {"id": "JP-p1"})["degree"], 0)
        self.refused("pair.delete", {"a": "JP-p1", "b": "CN-430100"}, "not_found")

    def test_refusals(self):
        cases = [
            ({"pair": {"a": "CN-430100", "b": "CN-430100"}}, "invalid_params"),
            ({"pair": {"a": "CN-430100", "b": "JP"}}, "invalid_params"),      # a country end
            ({"pair": {"a": "CN-430100", "b": "JP-none"}}, "not_found"),
            ({"pair": {"a": "CN-430100"}}, "invalid_params"),
            ({"pair": {"a": "CN-430100", "b": "BE-mons", "kind": "rival"}}, "invalid_params"),
            ({"pair": {"a": "CN-430100", "b": "BE-mons", "since": "2019-13"}}, "invalid_params"),
            ({"pair": {"a": "CN-430100", "b": "BE-mons", "since": "last year"}}, "invalid_params"),
            ({"pair": {"a": "CN-430100", "b": "BE-mons", "confidence": "certain"}}, "invalid_params"),
            ({"pair": {"a": "CN-430100", "b": "BE-mons", "weight": 2}}, "invalid_params"),
            ({"pair": [1, 2]}, "invalid_params"),
        ]
        for params, code in cases:
            with self.subTest(params=repr(params)[:80]):
                self.refused("pair.upsert", params, code)
        self.refused("pair.delete", {"a": "CN-430100"}, "invalid_params")
        self.refused("pair.delete", {"a": "CN-430100", "b": "JP-none"}, "not_found")


class Batches(Case):
    def good_batch(self):
        nodes = [{"id": "KP", "kind": "country", "name": "Korea DPR", "region": "Asia",
                  "subregion": "Eastern Asia"},
                 {"id": "KP-prov", "kind": "province", "name": "A province", "country": "KP"},
                 city("KP-c1", country="KP", parent="KP-prov"),
                 city("KP-c2", country="KP")]
        # Pairs reference nodes of the same batch.
        pairs = [{"a": "CN-430100", "b": "KP-c1", "since": 2001},
                 {"a": "KP-c2", "b": "CN-430600"},
                 {"a": "KP-prov", "b": "CN-430000", "kind": "friendly"}]
        return nodes, pairs

    def test_batch_with_references_inside_the_batch(self):
        nodes, pairs = self.good_batch()
        before = self.call("graph.stats")
        e0 = self.epoch()
        r = self.call("import.batch", {"nodes": nodes, "pairs": pairs})
        self.assertGreater(r["epoch"], e0)
        for k in ("epoch", "nodes_added", "nodes_updated", "pairs_added", "pairs_updated"):
            self.assertIn(k, r)
        # KP may already exist in the built-in dataset: then it is updated.
        self.assertEqual(r["nodes_added"] + r["nodes_updated"] + r.get("nodes_unchanged", 0), 4)
        self.assertEqual(r["pairs_added"], 3)
        self.assertEqual(r["pairs_updated"], 0)
        after = self.call("graph.stats")
        self.assertEqual(after["pairs"]["total"], before["pairs"]["total"] + 3)
        self.assertEqual(after["pairs"]["friendly"], before["pairs"]["friendly"] + 1)
        self.assertEqual(self.call("node.get", {"id": "KP-c1"})["degree"], 1)
        # The same batch again: everything is already there.
        r2 = self.call("import.batch", {"nodes": nodes, "pairs": pairs})
        self.assertEqual(r2["nodes_added"], 0)
        self.assertEqual(r2["pairs_added"], 0)
        self.assertEqual(self.call("graph.stats")["pairs"], after["pairs"])

    def test_one_bad_record_nothing_applied(self):
        nodes, pairs = self.good_batch()
        bad_cases = [
            ("bad node kind", nodes[:2] + [dict(nodes[2], kind="village")] + nodes[3:], pairs,
             2, "nodes"),
            ("pair to a missing node", nodes, pairs + [{"a": "CN-430100", "b": "KP-ghost"}], 3, "pairs"),
            ("pair to a country", nodes, [{"a": "CN-430100", "b": "KP"}] + pairs, 0, "pairs"),
            ("city without country", [{"id": "KP-x", "kind": "city", "name": "x"}] + nodes, pairs,
             0, "nodes"),
            ("self pair", nodes, pairs[:1] + [{"a": "KP-c2", "b": "KP-c2"}], 1, "pairs"),
        ]
        for name, ns, ps, index, where in bad_cases:
            with self.subTest(name):
                err = self.refused("import.batch", {"nodes": ns, "pairs": ps}, "invalid_params")
                data = err.get("data")
                self.assertIsInstance(data, list, err)
                self.assertGreaterEqual(len(data), 1)
                for dd in data:
                    self.assertEqual(set(dd), {"index", "field", "reason"})
                    self.assertIsInstance(dd["reason"], str)
                self.assertIn(index, [dd["index"] for dd in data], data)
                self.assertTrue(any(where in (dd["field"] or "") for dd in data), data)
                for n in ns:
                    if n["id"].startswith("KP-"):
                        self.assertEqual(self.c.request("node.get", {"id": n["id"]})[0]["code"],
                                         "not_found", "part of a refused batch was applied")

    def test_at_most_100_details(self):
        pairs = [{"a": "CN-430100", "b": "XX-ghost-%d" % i} for i in range(250)]
        err = self.refused("import.batch", {"pairs": pairs}, "invalid_params")
        self.assertLessEqual(len(err["data"]), 100)
        self.assertGreaterEqual(len(err["data"]), 1)
        self.assertEqual([d["index"] for d in err["data"]], list(range(len(err["data"]))))

    def test_bad_options(self):
        for params in ({"nodes": {"id": "x"}}, {"pairs": "none"}, {"mode": "merge"},
                       {"dry_run": "yes"}, {"nodes": [], "extra": 1}, {"nodes": [5]}):
            with self.subTest(params=params):
                self.refused("import.batch", params, "invalid_params")

    def test_dry_run(self):
        nodes, pairs = self.good_batch()
        before = self.state()
        r = self.call("import.batch", {"nodes": nodes, "pairs": pairs, "dry_run": True})
        self.assertEqual(r["pairs_added"], 3)
        self.assertEqual(r["epoch"], before[0]["epoch"])
        self.assertEqual(self.state(), before, "dry_run applied something")
        # A dry run of a bad batch reports like the real thing.
        self.refused("import.batch", {"pairs": [{"a": "CN-430100", "b": "XX-ghost"}], "dry_run": True},
                     "invalid_params")

    def test_replace_mode(self):
        nodes = [{"id": "FR", "kind": "country", "name": "France", "region": "Europe",
                  "subregion": "Western Europe"},
                 city("FR-a", country="FR"), city("FR-b", country="FR"), city("FR-c", country="FR")]
        pairs = [{"a": "FR-a", "b": "FR-b"}, {"a": "FR-b", "b": "FR-c"}]
        e0 = self.epoch()
        home0 = self.call("graph.stats")["home"]
        self.assertIn("reference", home0)
        self.assertIn("note", home0)
        self.assertIn("peers", home0)
        r = self.call("import.batch", {"nodes": nodes, "pairs": pairs, "mode": "replace"})
        self.assertGreater(r["epoch"], e0)
        st = self.call("graph.stats")
        # The built-in dataset's notes described data that is gone.
        self.assertEqual(set(st["home"]), {"id", "units", "pairs", "countries"})
        self.assertEqual(st["nodes"], {"country": 1, "province": 0, "city": 3})
        self.assertEqual(st["pairs"]["total"], 2)
        self.assertEqual(self.c.request("node.get", {"id": "CN-430100"})[0]["code"], "not_found")
        ids = sorted(n["id"] for n in self.call("node.find", {"q": "", "limit": 100})["items"])
        self.assertEqual(ids, ["FR", "FR-a", "FR-b", "FR-c"])
        # A bad replace leaves the current data (not an empty graph).
        before = self.state()
        self.refused("import.batch", {"nodes": nodes[1:], "mode": "replace"}, "invalid_params")
        self.assertEqual(self.state(), before)
        # Replace with nothing empties the graph.
        self.call("import.batch", {"mode": "replace"})
        st = self.call("graph.stats")
        self.assertEqual(st["nodes"], {"country": 0, "province": 0, "city": 0})
        self.assertEqual(st["pairs"]["total"], 0)

    def test_replace_drops_the_notes_durably(self):
        """A new --data directory starts from the default dataset, notes
        included; after a replace import the notes are gone, also after a
        restart (the journal replays the replace); an upsert keeps them."""
        import shutil
        import tempfile
        tmp = tempfile.mkdtemp(prefix="tn-notes-")
        try:
            data = os.path.join(tmp, "db")
            with h.Daemon(args=["--data", data]) as d, d.client() as c:
                st = c.call("graph.stats")
                self.assertEqual(st["pairs"]["total"], h.dataset().pair_counts()["total"])
                self.assertEqual(st["home"]["peers"]["pairs"],
                                 h.dataset(("china",)).pair_counts()["total"])
                c.call("node.upsert", {"node": city("JP-kept")})
                self.assertIn("note", c.call("graph.stats")["home"])
                c.call("import.batch", {"mode": "replace", "nodes": [
                    {"id": "FR", "kind": "country", "name": "France", "region": "Europe"}]})
                self.assertNotIn("note", c.call("graph.stats")["home"])
            with h.Daemon(args=["--data", data]) as d, d.client() as c:
                st = c.call("graph.stats")
                self.assertEqual(st["nodes"], {"country": 1, "province": 0, "city": 0})
                self.assertEqual(set(st["home"]), {"id", "units", "pairs", "countries"})
                c.call("server.save")           # the same after compaction
            with h.Daemon(args=["--data", data]) as d, d.client() as c:
                self.assertNotIn("reference", c.call("graph.stats")["home"])
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_duplicate_records_in_one_batch(self):
        # The same pair twice in one batch (once reversed) is ambiguous: it is
        # refused, naming the second record; nothing is applied.
        err = self.refused("import.batch", {"nodes": [city("JP-d1")],
                                            "pairs": [{"a": "JP-d1", "b": "CN-430100"},
                                                      {"a": "CN-430100", "b": "JP-d1",
                                                       "kind": "friendly"}]}, "invalid_params")
        self.assertEqual([(d["index"], d["field"].split(".")[0]) for d in err["data"]], [(1, "pairs")])
        err = self.refused("import.batch", {"nodes": [city("JP-d1"), city("JP-d1", name="other")]},
                           "invalid_params")
        self.assertEqual([(d["index"], d["field"]) for d in err["data"]], [(1, "nodes.id")])

    def test_large_batch(self):
        nodes, pairs = h.generated_graph(5, 5000, n_countries=30)
        # Countries of the generated set that clash with built-in ids become
        # updates; their pairs join new province/city nodes only.
        r = h.load_batch(self.c, nodes, pairs, chunk=100000)
        self.assertEqual(r["pairs_added"], len(pairs))
        st = self.call("graph.stats")
        self.assertEqual(st["pairs"]["total"], h.dataset().pair_counts()["total"] + len(pairs))


class Events(Case):
    def test_subscribe_gets_an_event_after_each_change(self):
        with self.d.client() as sub:
            self.assertEqual(sub.call("metrics.subscribe"), {"subscribed": True})
            changes = [
                ("node.upsert", {"node": city("JP-ev")}),
                ("pair.upsert", {"pair": {"a": "JP-ev", "b": "CN-430100"}}),
                ("import.batch", {"nodes": [city("JP-ev2")]}),
                ("pair.delete", {"a": "JP-ev", "b": "CN-430100"}),
                ("node.delete", {"id": "JP-ev2"}),
            ]
            idx = 0
            for method, params in changes:
                with self.subTest(method=method):
                    r = self.call(method, params)
                    i, ev = sub.wait_notification("event", timeout=5, start=idx)
                    idx = i + 1
                    self.assertEqual(ev, [{"type": "epoch", "epoch": r["epoch"]}])
            # No event for a refused change or a dry run; the subscriber's
            # own requests still work.
            self.c.request("node.delete", {"id": "XX-none"})
            self.call("import.batch", {"nodes": [city("JP-dry")], "dry_run": True})
            self.assertEqual(sub.call("server.ping"), "pong")
            sub.drain(0.3)
            self.assertEqual(len([n for n in sub.notifications if n[0] == "event"]), len(changes))
            # The changing client did not subscribe: it gets no events.
            self.c.drain(0.2)
            self.assertEqual(self.c.notifications, [])

    def test_many_subscribers_and_one_leaves(self):
        subs = [self.d.client() for _ in range(5)]
        try:
            for s in subs:
                s.call("metrics.subscribe")
            subs[2].close()
            r = self.call("node.upsert", {"node": city("JP-ev3")})
            for k, s in enumerate(subs):
                if k == 2:
                    continue
                _, ev = s.wait_notification("event", timeout=5)
                self.assertEqual(ev[0]["epoch"], r["epoch"])
        finally:
            for s in subs:
                s.close()
        self.assertTrue(h.ping_ok(self.d.port))


if __name__ == "__main__":
    unittest.main()
