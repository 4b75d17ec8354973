"""A client that never reads its replies must not hold memory or a
connection slot for long.

- 100 connections each pipeline 3,000 server.methods and never read: the
  daemon's RSS stays within 64 MiB of where it started, and the
  connections are gone within the idle timeout plus a few seconds.
- With tokens, anonymous clients flooding server.ping and never reading
  (more replies than the kernel's socket buffers hold) are gone soon after
  the auth timeout, so a client with a valid token gets a slot again.
"""

import socket
import sys
import time
import unittest

import sechelp as sh
import tnharness as h

N_CONNS = 100
N_CALLS = 3000
IDLE_S = 3
GRACE_S = 5          # closing connections must be gone this soon after the idle timeout


def connections(port):
    """server.info's connection count, less the asking connection."""
    with h.RawClient(port, timeout=10) as c:
        return c.call("server.info")["connections"] - 1


def flood(port, method, count, token=None):
    """A socket that sends count pipelined calls and never reads."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    data = b"".join(h.pack([0, i + 1, method, []]) for i in range(count))
    try:
        s.sendall(data)
    except (socket.timeout, OSError):
        pass                         # the server stopped reading: that is fine
    return s


class NonReadingClients(unittest.TestCase):
    def test_hundred_nonreading_connections_are_bounded_and_closed(self):
        with h.Daemon(["--idle-timeout", str(IDLE_S)]) as d:
            time.sleep(0.3)
            start_kib = sh.rss_kb(d.pid)
            t0 = time.monotonic()
            socks = [flood(d.port, "server.methods", N_CALLS) for _ in range(N_CONNS)]
            sent_s = time.monotonic() - t0
            peak_kib = start_kib
            gone_at = None
            deadline = t0 + IDLE_S + GRACE_S + sent_s
            while time.monotonic() < deadline + 10:
                peak_kib = max(peak_kib, sh.rss_kb(d.pid))
                if connections(d.port) == 0:
                    gone_at = time.monotonic() - t0
                    break
                time.sleep(0.2)
            for s in socks:
                s.close()
            grown = (peak_kib - start_kib) / 1024.0
            print("100 non-reading connections: RSS %d -> peak %d KiB (+%.1f MiB); gone after %s s "
                  "(idle timeout %d s)" % (start_kib, peak_kib, grown,
                                           "%.1f" % gone_at if gone_at else "never", IDLE_S),
                  file=sys.stderr)
            self.assertLess(peak_kib - start_kib, h.rss_allowance_kib(64 << 10),
                            "RSS grew by %.1f MiB" % grown)
            self.assertIsNotNone(gone_at, "the connections were still open %.0f s after the flood"
                                 % (deadline + 10 - t0))
            self.assertLessEqual(gone_at, IDLE_S + GRACE_S + sent_s)
            self.assertIsNone(sh.probe(d))

    def test_anonymous_nonreading_pingers_free_their_slots(self):
        tokens = sh.Tokens()
        try:
            with h.Daemon(["--tokens", tokens.path, "--auth-timeout", "2",
                           "--max-connections", "6"]) as d:
                start_kib = sh.rss_kb(d.pid)
                socks = [flood(d.port, "server.ping", 300000) for _ in range(5)]
                # Timed from the end of the flood: sending blocks while the
                # server does not read, which depends on the machine's load.
                t0 = time.monotonic()
                gone = sh.wait_until(lambda: connections_authed(d, tokens) == 0, 2 + GRACE_S + 10,
                                     step=0.5)
                took = time.monotonic() - t0
                peak = sh.rss_kb(d.pid)
                for s in socks:
                    s.close()
                print("5 anonymous non-reading pingers: gone after %.1f s (auth timeout 2 s), "
                      "RSS %d -> %d KiB (timed from the end of the flood)" % (took, start_kib, peak),
                      file=sys.stderr)
                self.assertTrue(gone, "anonymous flooders still hold their slots")
                self.assertLessEqual(took, 2 + GRACE_S + 4)
                self.assertIsNone(sh.probe(d, tokens))
        finally:
            tokens.cleanup()


def connections_authed(d, tokens):
    """Other connections, counted by an authenticated client; a refused
    connection (no slot) counts as 'still full'."""
    try:
        c = sh.authed(d, tokens, "read", timeout=5)
    except (OSError, ConnectionError, TimeoutError, AssertionError):
        return 99
    try:
        return c.call("server.info")["connections"] - 1
    finally:
        c.close()


if __name__ == "__main__":
    unittest.main()
