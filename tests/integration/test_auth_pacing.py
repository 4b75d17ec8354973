"""Failed-auth pacing per address, the pre-auth deadline, and logging of
refused calls: what one address can achieve by opening many connections,
and what an anonymous client can hold."""
import threading
import time
import unittest

import sechelp as s


class Pacing(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tokens = s.Tokens()
        cls.d = s.SecDaemon(["--tokens", cls.tokens.path]).start()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.tokens.cleanup()

    def test_parallel_connections_do_not_multiply_guesses(self):
        # 20 connections from one address each make one wrong guess at the
        # same moment. Failures from an address are answered one after
        # another, at least 250 ms apart, so the last answer comes no
        # sooner than 19 x 250 ms after the first guess.
        answers = []
        lock = threading.Lock()

        def guess(i):
            with self.d.client(timeout=30) as c:
                err, _ = c.request("auth", {"token": "wrong-guess-%02d-0123456789abcdef" % i})
                with lock:
                    answers.append((time.monotonic(), err.get("code") if err else None))

        start = time.monotonic()
        threads = [threading.Thread(target=guess, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(len(answers), 20)
        self.assertTrue(all(code == "unauthorized" for _, code in answers), answers)
        elapsed = max(t for t, _ in answers) - start
        rate = 20 / elapsed
        print("20 parallel guesses from one address answered over %.2f s (%.1f guesses/s)"
              % (elapsed, rate))
        self.assertGreaterEqual(elapsed, 19 * 0.25 - 0.1)
        self.assertLessEqual(rate, 4.5)
        # A right token from the same address is not held back.
        t0 = time.monotonic()
        c = s.authed(self.d, self.tokens, "read")
        c.close()
        self.assertLess(time.monotonic() - t0, 1.0)

    def test_refused_calls_are_logged(self):
        with self.d.client(timeout=10) as c:
            err, _ = c.request("graph.stats", {})
            self.assertEqual(err["code"], "unauthorized")
        c = s.authed(self.d, self.tokens, "read")
        try:
            err, _ = c.request("node.delete", {"id": "CN-430100"})
            self.assertEqual(err["code"], "forbidden")
        finally:
            c.close()
        time.sleep(0.2)
        log = self.d.log()
        self.assertIn("unauthorized: 127.0.0.1", log)
        self.assertIn("called graph.stats before auth", log)
        self.assertIn("forbidden: 127.0.0.1", log)
        self.assertIn("token dash-reader, role read) called node.delete", log)
        self.assertNotIn(self.tokens.token["read"], log)


class PreAuthDeadline(unittest.TestCase):
    def test_anonymous_client_cannot_hold_a_slot(self):
        tokens = s.Tokens()
        d = s.SecDaemon(["--tokens", tokens.path]).start()
        try:
            # The deadline is 10 s by default; pinging does not extend it.
            with d.client(timeout=30) as c:
                t0 = time.monotonic()
                closed_at = None
                while time.monotonic() - t0 < 20:
                    try:
                        err, res = c.request("server.ping", [])
                    except (OSError, ConnectionError, TimeoutError):
                        closed_at = time.monotonic() - t0
                        break
                    if err is not None:
                        self.assertEqual(err["code"], "unauthorized")
                        closed_at = time.monotonic() - t0
                        break
                    time.sleep(0.5)
                self.assertIsNotNone(closed_at, "an anonymous pinging client was never closed")
                self.assertGreater(closed_at, 9.0)
                self.assertLess(closed_at, 12.0)
            # An authenticated client is not subject to it.
            c = s.authed(d, tokens, "read")
            try:
                time.sleep(11)
                err, res = c.request("server.ping", [])
                self.assertIsNone(err)
                self.assertEqual(res, "pong")
            finally:
                c.close()
        finally:
            d.stop()
            tokens.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)
