"""Degree centrality is computed without igraph and answered by the
plain-C worker, so it does not wait behind a long betweenness on the
igraph thread; its values are those of the igraph path (NetworkX checks
both in test_centrality_reference.py)."""
import time
import unittest

import networkx as nx

import tnharness as h


class DegreeLane(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = h.Daemon(empty=True).start()
        cls.nodes, cls.pairs = h.generated_graph(11, 8000, n_cities=4000, n_provinces=80)
        with cls.d.client(timeout=120) as c:
            h.load_batch(c, cls.nodes, cls.pairs)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def test_degree_does_not_wait_behind_betweenness(self):
        with self.d.client(timeout=120) as slow, self.d.client(timeout=30) as fast:
            t0 = time.monotonic()
            m = slow.send_request("query.centrality", {"metric": "betweenness", "graph": "full",
                                                       "as_of": 9000, "deadline_ms": 120000})
            time.sleep(0.1)
            t1 = time.monotonic()
            res = fast.call("query.centrality", {"metric": "degree", "graph": "full", "top": 5,
                                                 "as_of": 9001})
            degree_s = time.monotonic() - t1
            err, _ = slow.wait_response(m)
            slow_s = time.monotonic() - t0
            self.assertIsNone(err)
            self.assertEqual(len(res["items"]), 5)
            print("degree answered in %.3f s while a %.2f s betweenness ran" % (degree_s, slow_s))
            self.assertGreater(slow_s, 0.5, "the betweenness is too fast to show anything")
            self.assertLess(degree_s, slow_s / 2)

    def test_degree_values_match_networkx(self):
        g = nx.Graph()
        cities = [n["id"] for n in self.nodes if n["kind"] != "country"]
        g.add_nodes_from(cities)
        g.add_edges_from((p["a"], p["b"]) for p in self.pairs)
        with self.d.client(timeout=60) as c:
            res = c.call("query.centrality", {"metric": "degree", "top": 100000})
        got = {it["id"]: it["score"] for it in res["items"]}
        self.assertEqual(set(got), set(g.nodes))
        for v in g.nodes:
            self.assertEqual(got[v], g.degree(v), v)
        scores = [(-it["score"], it["id"]) for it in res["items"]]
        self.assertEqual(scores, sorted(scores), "not sorted by score desc, id asc")


if __name__ == "__main__":
    unittest.main(verbosity=2)
