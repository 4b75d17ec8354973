"""Calls before auth cannot flood the log or keep a connection.

- One connection pipelines 50,000 calls before authenticating: it is
  answered "unauthorized" a few times and closed, and the log stays small.
- Many connections making refused calls at once: the repeated log line is
  rate-limited, and what was left out is counted ("repeated N times"), so
  shown + counted is every refused call.
"""

import re
import socket
import sys
import time
import unittest

import sechelp as sh
import tnharness as h


def refused_lines(log):
    shown = [ln for ln in log.splitlines() if "before auth" in ln and "repeated" not in ln]
    counted = sum(int(m.group(1)) for m in re.finditer(r"repeated (\d+) times[^\n]*before auth", log))
    return len(shown), counted


class PreauthFlood(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tokens = sh.Tokens()
        cls.d = h.Daemon(["--tokens", cls.tokens.path]).start()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.tokens.cleanup()

    def test_pipelined_refused_calls_close_the_connection(self):
        log0 = len(self.d.log())
        s = socket.create_connection(("127.0.0.1", self.d.port), timeout=10)
        data = b"".join(h.pack([0, i + 1, "server.methods", []]) for i in range(50000))
        t0 = time.monotonic()
        try:
            s.sendall(data)
        except OSError:
            pass                      # closed while we were still sending: good
        got, closed, _ = sh.read_until_closed(s, 10)
        s.close()
        took = time.monotonic() - t0
        codes = sh.error_frames(got)
        time.sleep(1.5)              # let a rate-limit summary come out
        log = self.d.log()[log0:]
        print("50,000 pipelined pre-auth calls: %d answered, closed=%s after %.2f s; %d log bytes"
              % (len(codes), closed, took, len(log)), file=sys.stderr)
        self.assertTrue(closed, "the connection was kept")
        self.assertTrue(all(c == "unauthorized" for c in codes), codes[:5])
        self.assertLessEqual(len(codes), 5)
        self.assertLess(len(log), 4096, "log grew by %d bytes" % len(log))
        self.assertIsNone(sh.probe(self.d, self.tokens))

    def test_repeated_log_lines_are_counted(self):
        time.sleep(1.1)
        log0 = len(self.d.log())
        n_conns, per_conn = 40, 2
        total = 0
        socks = []
        for _ in range(n_conns):
            c = h.RawClient(self.d.port, timeout=10)
            ids = [c.send_request("graph.stats") for _ in range(per_conn)]
            for m in ids:
                err, _ = c.wait_response(m)
                self.assertEqual(err["code"], "unauthorized")
                total += 1
            socks.append(c)
        time.sleep(1.5)
        for c in socks:
            c.close()
        shown, counted = refused_lines(self.d.log()[log0:])
        print("%d refused calls: %d log lines shown, %d counted as repeated" % (total, shown, counted),
              file=sys.stderr)
        self.assertLessEqual(shown, 20)
        self.assertEqual(shown + counted, total)


if __name__ == "__main__":
    unittest.main()
