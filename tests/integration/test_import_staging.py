"""Staged imports are spooled, and all of them together have a cap.

- 500,000 records staged through import.chunk do not stay in the
  daemon's memory (they are spooled to a file): RSS grows by less than
  64 MiB (it grew by ~290 MB when they were kept as values).
- A committed streamed import still applies every record, in order, with
  detail indices counted across chunks.
- --max-staged-records caps the records staged by all connections
  together: past it, import.chunk answers busy and says why; aborting an
  import frees its share.
"""

import sys
import time
import unittest

import sechelp as sh
import tnharness as h

COUNTRY = {"id": "ZZ", "kind": "country", "name": "Zedland", "region": "Europe", "subregion": "Test"}


def cities(start, n):
    return [{"id": "ZZ-c%07d" % i, "kind": "city", "name": "City %d" % i, "country": "ZZ"}
            for i in range(start, start + n)]


class ImportStaging(unittest.TestCase):
    def test_half_a_million_staged_records_are_not_kept_in_memory(self):
        with h.Daemon(["--empty"]) as d, d.client(timeout=120) as c:
            time.sleep(0.2)
            rss0 = sh.rss_kb(d.pid)
            tok = c.call("import.begin", {"mode": "upsert"})["import"]
            total, chunk = 500000, 10000
            peak = rss0
            for start in range(0, total, chunk):
                r = c.call("import.chunk", {"import": tok, "nodes": cities(start, chunk)})
                peak = max(peak, sh.rss_kb(d.pid))
            self.assertEqual(r["nodes"], total)
            rss1 = sh.rss_kb(d.pid)
            print("500,000 staged records: RSS %d -> %d KiB (peak %d, +%.1f MiB)"
                  % (rss0, rss1, peak, (peak - rss0) / 1024.0), file=sys.stderr)
            self.assertLess(peak - rss0, h.rss_allowance_kib(64 << 10))
            self.assertEqual(c.call("import.abort", {"import": tok}), {"aborted": True})
            self.assertIsNone(sh.probe(d))

    def test_committed_stream_keeps_order_and_indices(self):
        with h.Daemon(["--empty"]) as d, d.client(timeout=60) as c:
            tok = c.call("import.begin", {})["import"]
            c.call("import.chunk", {"import": tok, "nodes": [COUNTRY] + cities(0, 3)})
            c.call("import.chunk", {"import": tok, "nodes": cities(3, 3),
                                    "pairs": [{"a": "ZZ-c0000000", "b": "ZZ-c0000001"}]})
            r = c.call("import.commit", {"import": tok})
            self.assertIn("epoch", r)
            self.assertEqual(c.call("node.get", {"id": "ZZ-c0000005"})["name"], "City 5")
            # A bad record in the second chunk is reported at its index across chunks.
            tok = c.call("import.begin", {})["import"]
            c.call("import.chunk", {"import": tok, "nodes": cities(10, 2)})
            c.call("import.chunk", {"import": tok, "nodes": [{"id": "ZZ-bad", "kind": "nonsense"}]})
            err, _ = c.request("import.commit", {"import": tok})
            self.assertEqual(err["code"], "invalid_params", err)
            details = err["data"]["details"] if isinstance(err.get("data"), dict) else err["data"]
            self.assertEqual({x["index"] for x in details}, {2})

    def test_server_wide_cap(self):
        with h.Daemon(["--empty", "--max-staged-records", "1000"]) as d:
            a, b = d.client(timeout=30), d.client(timeout=30)
            try:
                ta = a.call("import.begin", {})["import"]
                tb = b.call("import.begin", {})["import"]
                a.call("import.chunk", {"import": ta, "nodes": cities(0, 800)})
                err, _ = b.request("import.chunk", {"import": tb, "nodes": cities(800, 300)})
                self.assertIsNotNone(err, "a chunk past the server-wide cap was staged")
                self.assertEqual(err["code"], "busy", err)
                self.assertIn("1000", err["message"])
                a.call("import.abort", {"import": ta})
                self.assertEqual(b.call("import.chunk", {"import": tb, "nodes": cities(800, 300)})["nodes"], 300)
                # A connection that goes away gives its share back too.
                b.close()
                time.sleep(0.3)
                with d.client(timeout=30) as c:
                    tc = c.call("import.begin", {})["import"]
                    self.assertEqual(c.call("import.chunk", {"import": tc, "nodes": cities(0, 1000)})["nodes"], 1000)
            finally:
                a.close()
                b.close()


if __name__ == "__main__":
    unittest.main()
