"""GET /metrics passes Prometheus's own checker: `promtool check metrics`
(Debian's prometheus package) reads the exposition after real traffic over
RPC and HTTP (answers, errors, a change, cache hits, an /events client),
and must report no problem at all."""
import subprocess
import sys
import unittest

import httphelp as hh
import tnharness as h


class Promtool(unittest.TestCase):
    def test_promtool_check_metrics(self):
        with h.Daemon(http="127.0.0.1:0") as d:
            with d.client() as c:
                c.call("graph.stats")
                c.call("query.coverage", [{"by": "unit"}])
                self.assertEqual(c.error_code("query.coverage", [{"by": "nope"}]), "invalid_params")
                self.assertEqual(c.error_code("no.such.method"), "method_not_found")
                c.call("node.upsert", [{"node": {"id": "IS-p", "kind": "city", "name": "P", "country": "IS"}}])
                c.call("pair.upsert", [{"pair": {"a": "CN-430100", "b": "IS-p"}}])
            ev = hh.Events(d.http_port)
            for path in ("/api/graph.stats", "/api/graph.stats", "/api/node.get?id=nope", "/api/pair.upsert",
                         "/api/query.centrality?metric=pagerank&top=3"):
                hh.get(d.http_port, path)
            st, hdr, text = hh.get(d.http_port, "/metrics")
            ev.close()
            self.assertEqual(st, 200)
            self.assertIn("twinnet_request_duration_seconds_bucket", text)
            self.assertIn('twinnet_coverage_ratio{region="Europe"}', text)
            r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                               text=True, timeout=60)
            print("promtool check metrics: exit %d, %d lines checked, output: %r"
                  % (r.returncode, len(text.splitlines()), (r.stdout + r.stderr).strip()))
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertEqual((r.stdout + r.stderr).strip(), "", "promtool found problems")


if __name__ == "__main__":
    unittest.main(verbosity=2, argv=[sys.argv[0]] + sys.argv[1:])
