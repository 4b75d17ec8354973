"""The connection limits that have daemon flags of their own: output soft
and hard limits, the in-flight limit, and the authentication deadline.
Each test sets the limit small and shows both sides of it."""
import socket
import time
import unittest

import sechelp as s
import tnharness as h


def unread_pipeline(d, n, params):
    """A client that sends n big requests and reads nothing; returns the
    socket (so the test decides when to look)."""
    sock = socket.create_connection(("127.0.0.1", d.port), timeout=10)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    data = b"".join(h.pack([0, i, "pair.list", [params]]) for i in range(n))
    sock.sendall(data)
    return sock


def closed_within(sock, seconds):
    """Drain the socket until the server closes it; True if it did in time."""
    sock.settimeout(0.5)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            if not sock.recv(1 << 16):
                return True
        except socket.timeout:
            continue
        except OSError:
            return True
    return False


class OutputLimits(unittest.TestCase):
    def test_hard_limit_disconnects_a_client_that_does_not_read(self):
        # Each pair.list reply of the whole dataset is ~29 KB; 64 of them
        # owed is ~1.9 MB, far past a 256 KiB hard limit.
        with h.Daemon(["--output-soft", "65536", "--output-hard", "262144"]) as d:
            sock = unread_pipeline(d, 200, {"limit": 10000})
            time.sleep(1.0)
            self.assertTrue(closed_within(sock, 10.0), "the non-reading client was kept")
            sock.close()
            self.assertIn("unread", d.log())
            with d.client(timeout=10) as c:
                self.assertEqual(c.call("server.ping"), "pong")

    def test_within_the_limits_every_answer_arrives(self):
        # The same client that does read gets all 200 answers.
        # The Hunan dataset alone keeps each answer small (about 40 KB).
        with h.Daemon(["--output-soft", "65536", "--output-hard", "8388608",
                       "--max-inflight", "4", "--dataset", "hunan"]) as d:
            with d.client(timeout=30) as c:
                for i in range(1, 201):
                    c.send_request("pair.list", {"limit": 10000}, msgid=i)
                got = {}
                for i in range(1, 201):
                    err, res = c.wait_response(i)
                    self.assertIsNone(err)
                    got[i] = res["total"]
                self.assertEqual(len(got), 200)
                self.assertEqual(set(got.values()),
                                 {h.dataset(("hunan",)).pair_counts()["total"]})


class AuthTimeoutFlag(unittest.TestCase):
    def test_auth_timeout_is_configurable(self):
        tokens = s.Tokens()
        try:
            with h.Daemon(["--tokens", tokens.path, "--auth-timeout", "1"]) as d:
                sock = socket.create_connection(("127.0.0.1", d.port), timeout=5)
                t0 = time.monotonic()
                self.assertTrue(closed_within(sock, 5.0))
                dt = time.monotonic() - t0
                sock.close()
                self.assertGreater(dt, 0.8)
                self.assertLess(dt, 3.0)
        finally:
            tokens.cleanup()

    def test_bad_flag_values_are_refused(self):
        for args in (["--output-soft", "100", "--output-hard", "50"],
                     ["--max-inflight", "0"], ["--auth-timeout", "x"]):
            rc, out = s.run_refused(["--listen", "127.0.0.1:0"] + args)
            self.assertEqual(rc, 2, (args, out))


if __name__ == "__main__":
    unittest.main(verbosity=2)
