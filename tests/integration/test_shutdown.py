"""SIGTERM while queries are still in flight ends the daemon cleanly.

A client pipelines slow betweenness queries (distinct as_of values, so
none is answered from the cache) and hundreds of query.gaps calls on one
connection and reads nothing; the daemon is then sent SIGTERM while the
slow queries are still queued or running. Every job still held by the
workers at that moment -- waiting, running, or finished but not yet handed
back to the event loop -- must be freed exactly once: the daemon exits
with status 0 and its log holds no sanitizer report (Daemon.stop checks
both). Repeated a few times, with SIGTERM at different moments.
"""

import socket
import time
import unittest

import tnharness as h

N_GAPS = 300
N_SLOW = 6
ROUNDS = 3


def pipeline(port, calls):
    """Send every call on one connection without reading any answer."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    data = b"".join(h.pack([0, i + 1, m, [p]]) for i, (m, p) in enumerate(calls))
    s.sendall(data)
    return s


def calls():
    slow = [("query.centrality", {"metric": "betweenness", "as_of": 2000 + i, "top": 5})
            for i in range(N_SLOW)]
    gaps = [("query.gaps", {"limit": 5 + i % 7}) for i in range(N_GAPS)]
    # Slow ones first and among the gaps, so both queues are busy.
    return slow[:N_SLOW // 2] + gaps[:N_GAPS // 2] + slow[N_SLOW // 2:] + gaps[N_GAPS // 2:]


class ShutdownWithJobsInFlight(unittest.TestCase):
    def test_sigterm_with_queued_queries_exits_cleanly(self):
        for rnd in range(ROUNDS):
            with self.subTest(round=rnd):
                d = h.Daemon(["--max-inflight", "1000"]).start()
                try:
                    s = pipeline(d.port, calls())
                    # Let the loop read the pipeline and hand it to the
                    # workers; vary the moment so different jobs are waiting,
                    # running or finished when the signal comes.
                    time.sleep(0.2 + 0.15 * rnd)
                    self.assertTrue(d.alive(), d.log()[-2000:])
                    rc, log = d.stop(timeout=60)   # raises on a bad status or sanitizer report
                    self.assertEqual(rc, 0)
                    self.assertIn("shutting down", log)
                    s.close()
                finally:
                    if d.proc is not None:
                        d.proc.kill()
                        d.proc.wait(timeout=10)


if __name__ == "__main__":
    unittest.main()
