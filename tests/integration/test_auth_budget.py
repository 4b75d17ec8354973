"""Failed auth has a server-wide budget, not only one per address.

Pacing per address alone lets an attacker with many source addresses
guess in parallel: 40 loopback addresses made 40 guesses in 0.26 s. All
failures together are answered at most a few per second (5), however many
addresses they come from; a right token is never held back.
"""

import socket
import sys
import threading
import time
import unittest

import sechelp as sh
import tnharness as h

N_ADDRS = 40
GLOBAL_RATE = 5.0            # failed auths answered per second, server-wide


class AuthBudget(unittest.TestCase):
    def test_many_addresses_share_one_budget(self):
        tokens = sh.Tokens()
        d = h.Daemon(["--tokens", tokens.path]).start()
        try:
            answers = []
            lock = threading.Lock()

            def guess(i):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.bind(("127.0.0.%d" % (2 + i), 0))
                s.settimeout(60)
                s.connect(("127.0.0.1", d.port))
                s.sendall(h.pack([0, 1, "auth", [{"token": "wrong-%02d-0123456789abcdef" % i}]]))
                u = __import__("msgpack").Unpacker(raw=False)
                while True:
                    data = s.recv(4096)
                    if not data:
                        break
                    u.feed(data)
                    msgs = list(u)
                    if msgs:
                        with lock:
                            answers.append((time.monotonic(), msgs[0][2]["code"]))
                        break
                s.close()

            t0 = time.monotonic()
            threads = [threading.Thread(target=guess, args=(i,)) for i in range(N_ADDRS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(90)
            elapsed = max(t for t, _ in answers) - t0
            print("%d wrong guesses from %d addresses answered over %.2f s (%.1f guesses/s)"
                  % (len(answers), N_ADDRS, elapsed, len(answers) / elapsed), file=sys.stderr)
            self.assertEqual(len(answers), N_ADDRS)
            self.assertTrue(all(code == "unauthorized" for _, code in answers))
            self.assertGreaterEqual(elapsed, (N_ADDRS - 1) / GLOBAL_RATE - 0.2)
            # A right token is answered at once, budget or not.
            t1 = time.monotonic()
            sh.authed(d, tokens, "read").close()
            self.assertLess(time.monotonic() - t1, 1.0)
        finally:
            d.stop()
            tokens.cleanup()


if __name__ == "__main__":
    unittest.main()
