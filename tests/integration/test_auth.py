"""Access control (docs/protocol.md, "Auth and roles"; docs/security.md): loopback-only without tokens, nothing but ping and auth
before auth, wrong and odd tokens (slowed, logged without the token,
closed after three), the role x method matrix for every method, and token
files the daemon must refuse. After each case a separate authenticated
client's ping and one query still answer. Loopback only; bounded."""

import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tnharness as h  # noqa: E402
import sechelp as s  # noqa: E402
from tnharness import pack  # noqa: E402

TOKENS = None
MAIN = None        # built-in dataset, --tokens
REF = None         # graph.stats at start

# The documented least role of each method (docs/protocol-notes.md,
# docs/architecture.md): read < write < admin. server.ping and auth are open
# before auth and reported as "read".
EXPECTED_ROLE = {
    "server.ping": "read", "auth": "read", "server.methods": "read", "server.info": "read",
    "server.save": "admin", "audit.list": "admin",
    "graph.stats": "read", "node.get": "read", "node.find": "read", "node.list": "read",
    "node.neighbors": "read", "pair.list": "read", "query.centrality": "read",
    "query.coverage": "read", "query.gaps": "read", "query.recommend": "read",
    "metrics.get": "read", "metrics.subscribe": "read",
    "node.upsert": "write", "node.delete": "write", "pair.upsert": "write",
    "pair.delete": "write", "import.batch": "write", "import.begin": "write",
    "import.chunk": "write", "import.commit": "write", "import.abort": "write",
}

HOME = "CN-430000"


def harmless(method, role):
    """Options for an allowed call that changes nothing (an ordinary error
    such as not_found is fine: it proves the call got past the role check)."""
    return {
        "auth": {"token": TOKENS.token[role]},
        "node.get": {"id": HOME},
        "node.find": {"q": "chang", "limit": 2},
        "node.list": {"limit": 2},
        "node.neighbors": {"id": HOME},
        "pair.list": {"limit": 2},
        "query.centrality": {"metric": "degree", "top": 2},
        "query.coverage": {},
        "query.gaps": {"limit": 2},
        "query.recommend": {"unit": HOME, "top": 2},
        "audit.list": {"limit": 5},
        "node.upsert": {"node": {"id": "ZZ-matrix-incomplete"}},          # invalid_params
        "node.delete": {"id": "ZZ-matrix-missing"},                        # not_found
        "pair.upsert": {"pair": {"a": "ZZ-matrix-a", "b": "ZZ-matrix-b"}},  # not_found
        "pair.delete": {"a": "ZZ-matrix-a", "b": "ZZ-matrix-b"},           # not_found
        "import.batch": {"nodes": [], "dry_run": True},
        "import.begin": {"dry_run": True},
        "import.chunk": {"import": "no-such-import"},                      # not_found
        "import.commit": {"import": "no-such-import"},
        "import.abort": {"import": "no-such-import"},
    }.get(method, {})


def real(method):
    """Options that WOULD change something if the call got through: used for
    the denied cells, so that a broken role check shows up as a change."""
    city = {"id": "FR-denied-city", "kind": "city", "name": "Denied", "country": "FR"}
    return {
        "node.upsert": {"node": city},
        "node.delete": {"id": "CN-430100", "cascade": True},
        "pair.upsert": {"pair": {"a": "CN-430100", "b": "FR-paris"}},
        "pair.delete": {"a": "CN-430200", "b": "AM-vanadzor"},
        "import.batch": {"nodes": [city]},
        "import.begin": {},
        "import.chunk": {"import": "no-such-import", "nodes": [city]},
        "import.commit": {"import": "no-such-import"},
        "import.abort": {"import": "no-such-import"},
        "audit.list": {},
        "server.save": {},
    }.get(method, {})


def setUpModule():
    global TOKENS, MAIN, REF
    TOKENS = s.Tokens()
    MAIN = s.SecDaemon(["--tokens", TOKENS.path]).start()
    with s.authed(MAIN, TOKENS, "read") as c:
        REF = c.call("graph.stats")


def tearDownModule():
    MAIN.stop()
    TOKENS.cleanup()



def tok(c, n):
    """A token of n characters starting with c, varied enough to pass the
    daemon's weak-token rule (at least 8 different characters)."""
    return ((c + "-0123456789abcdefghijklmnopqrstuvwxyz") * 10)[:n]


class AuthCase(unittest.TestCase):
    def tearDown(self):
        # After each case: a separate authenticated client's ping and one
        # query still answer, with the same data.
        problem = s.probe(MAIN, TOKENS)
        self.assertIsNone(problem, problem)
        with s.authed(MAIN, TOKENS, "read") as c:
            st = c.call("graph.stats")
        self.assertEqual({k: st[k] for k in ("nodes", "pairs", "home")},
                         {k: REF[k] for k in ("nodes", "pairs", "home")})


# ---- A1: where the daemon listens ----

class A1Listen(AuthCase):
    def test_default_host_is_loopback_without_tokens(self):
        # ":0" keeps the default host and asks for any free port.
        d = s.SecDaemon([], listen=":0").start()
        try:
            addrs = s.listening_addrs(d.pid)
            self.assertEqual(addrs, [("127.0.0.1", d.port)], addrs)
            # Without tokens every loopback client is admin.
            with d.client(timeout=10) as c:
                self.assertEqual(c.call("auth", {"token": "anything-at-all-here"}), {"role": "admin"})
                self.assertIn("items", c.call("audit.list"))
        finally:
            d.stop()

    def test_help_names_loopback_default(self):
        rc, out = s.run_refused(["--help"])
        self.assertEqual(rc, 0)
        self.assertIn("127.0.0.1", out)
        self.assertIn("--tokens", out)

    def test_default_host_with_tokens_is_loopback(self):
        self.assertEqual(s.listening_addrs(MAIN.pid), [("127.0.0.1", MAIN.port)])

    def test_any_address_without_tokens_refused(self):
        for addr in ("0.0.0.0:0", "[::]:0", "10.1.2.3:0", "192.168.0.1:0"):
            rc, out = s.run_refused(["--listen", addr])
            self.assertEqual(rc, 2, "%s: exit %r, output %r" % (addr, rc, out))
            self.assertIn("--tokens", out, addr)
            self.assertIn("chmod 600", out, addr)
            self.assertIn("loopback", out, addr)
            self.assertIn("role name token", out, addr)

    def test_loopback_variants_without_tokens_start(self):
        d = s.SecDaemon([], listen="127.0.0.1:0").start()
        try:
            self.assertEqual(s.listening_addrs(d.pid), [("127.0.0.1", d.port)])
        finally:
            d.stop()

    def test_any_address_with_tokens_starts_and_asks_for_auth(self):
        d = s.SecDaemon(["--tokens", TOKENS.path], listen="0.0.0.0:0").start()
        try:
            self.assertEqual(s.listening_addrs(d.pid), [("0.0.0.0", d.port)])
            with d.client(timeout=10) as c:          # over loopback only
                self.assertEqual(c.error_code("graph.stats"), "unauthorized")
                self.assertEqual(c.call("auth", {"token": TOKENS.token["read"]}), {"role": "read"})
                self.assertIn("epoch", c.call("graph.stats"))
        finally:
            d.stop()


# ---- A3: before auth ----

class A3BeforeAuth(AuthCase):
    def test_every_method_but_ping_and_auth_is_unauthorized(self):
        names = sorted(EXPECTED_ROLE) + ["no.such.method", "", "SERVER.PING", "server.ping "]
        # A connection is let go after three refused calls: one each.
        for m in names:
            if m in ("server.ping", "auth"):
                continue
            with MAIN.client(timeout=10) as c:
                err, res = c.request(m, harmless(m, "admin") if m != "auth" else None)
                self.assertIsNotNone(err, "%s answered before auth: %r" % (m, res))
                self.assertEqual(err.get("code"), "unauthorized", "%s: %r" % (m, err))
                self.assertIsNone(res)
        with MAIN.client(timeout=10) as c:
            for m in ("graph.stats", "no.such.method"):
                self.assertEqual(c.error_code(m), "unauthorized")
            # The denied calls did not count as failed auth attempts, and the
            # connection is still usable.
            self.assertEqual(c.call("server.ping"), "pong")
            # A notification (cancel) before auth is ignored, not answered.
            c.notify("cancel", [{"msgid": 1}])
            self.assertEqual(c.call("auth", {"token": TOKENS.token["write"]}), {"role": "write"})
            self.assertIn("epoch", c.call("graph.stats"))

    def test_denied_write_before_auth_changes_nothing(self):
        for m in ("node.upsert", "import.batch", "pair.delete", "node.delete"):
            with MAIN.client(timeout=10) as c:
                try:
                    code = c.error_code(m, real(m))
                except ConnectionError:
                    # Nested deeper than the pre-auth depth limit (4): refused
                    # as a framing error and closed, which is a refusal too.
                    code = [c.responses[i][0][0].get("code") for i in c.order]
                    self.assertEqual(code, ["parse_error"], m)
                    continue
                self.assertEqual(code, "unauthorized", m)
        with s.authed(MAIN, TOKENS, "read") as c:
            self.assertEqual(c.error_code("node.get", {"id": "FR-denied-city"}), "not_found")
            self.assertEqual(c.call("graph.stats")["epoch"], REF["epoch"])

    def _expect_refused_and_closed(self, data, codes=("too_large", "parse_error")):
        with MAIN.client(timeout=10) as c:
            try:
                c.send_bytes(data)
            except (BrokenPipeError, ConnectionResetError):
                pass           # closed while we were still sending: refused
            closed = c.read_all_until_close(5.0)
            got = [c.responses[m][0][0] for m in c.order]
        self.assertTrue(closed, "connection not closed after a refused pre-auth frame")
        self.assertLessEqual(len(got), 1, got)
        if got:
            self.assertIn(got[0].get("code"), codes, got)
        return got

    def test_frame_over_4k_before_auth_refused_and_closed(self):
        # 5 strings of 1000 bytes: each is allowed on its own, the frame is not.
        opts = {k: "x" * 1000 for k in "abcde"}
        data = pack([0, 1, "server.ping", [opts]])
        self.assertGreater(len(data), 4096)
        got = self._expect_refused_and_closed(data)
        self.assertEqual(len(got), 1, "no error frame before the close")

    def test_one_big_string_before_auth_refused(self):
        self._expect_refused_and_closed(pack([0, 1, "auth", [{"token": "t" * 3000}]]))

    def test_large_params_array_before_auth_refused(self):
        # Redis's "*100" case: a large array header before auth.
        self._expect_refused_and_closed(pack([0, 1, "auth", [None] * 100]))
        self._expect_refused_and_closed(b"\x94\x00\x01\xa4auth\xdc\xff\xff")
        self._expect_refused_and_closed(b"\x94\x00\x01\xa4auth\xdd\x00\x10\x00\x00")
        self._expect_refused_and_closed(b"\xdd\xff\xff\xff\xff")

    def test_deep_nesting_before_auth_refused(self):
        self._expect_refused_and_closed(b"\x91" * 12 + b"\xc0")

    def test_same_frame_after_auth_is_not_refused(self):
        opts = {k: "x" * 1000 for k in "abcde"}
        with s.authed(MAIN, TOKENS, "read") as c:
            err, res = c.request("server.ping", [opts])
            # An ordinary answer on an open connection: not a framing error.
            self.assertNotIn((err or {}).get("code"), ("too_large", "parse_error"), err)
            self.assertEqual(c.call("server.ping"), "pong")
            self.assertEqual(len(c.call("node.list", {"limit": 10000})["items"]), REF_NODES())


def REF_NODES():
    return sum(REF["nodes"].values())


# ---- A4: wrong and odd tokens ----

GUESS_MARK = "GuessMark"


def odd_tokens():
    good = TOKENS.token["admin"]
    return [
        ("wrong", GUESS_MARK + "-wrong-0123456789abcdef"),
        ("empty", ""),
        ("near miss (last char)", good[:-1] + ("0" if good[-1] != "0" else "1")),
        ("prefix", good[:16]),
        ("suffix NUL", good + "\0"),
        ("NUL inside", good[:8] + "\0" + good[9:]),
        ("NUL prefix", "\0" + good),
        ("binary", GUESS_MARK + "\x00\x01\x02\xff\xfe binary"),
        ("unicode", GUESS_MARK + "-令牌-Ωmega-\u202e-😀"),
        ("upper case", good.upper()),
        ("leading space", " " + good),
        ("trailing newline", good + "\n"),
        ("the name", TOKENS.names["admin"]),
        ("the whole line", "admin %s %s" % (TOKENS.names["admin"], good)),
        ("300 chars", GUESS_MARK + "z" * 291),
        ("1000 chars", GUESS_MARK + "y" * 991),
    ]


class A4Tokens(AuthCase):
    def test_odd_tokens_rejected_and_delayed(self):
        for label, tok in odd_tokens():
            with MAIN.client(timeout=10) as c:
                t0 = time.monotonic()
                err, res = c.request("auth", {"token": tok})
                dt = time.monotonic() - t0
                self.assertIsNotNone(err, "%s: accepted as %r" % (label, res))
                self.assertEqual(err.get("code"), "unauthorized", "%s: %r" % (label, err))
                self.assertIsNone(res)
                self.assertGreaterEqual(dt, 0.2, "%s: answered after %.3f s" % (label, dt))
                self.assertLess(dt, 2.0, label)
                if tok:
                    self.assertNotIn(tok, err.get("message", ""))
                # Still unauthenticated.
                self.assertEqual(c.error_code("graph.stats"), "unauthorized", label)

    def test_bin_token_equal_to_the_token_works_only_exactly(self):
        good = TOKENS.token["read"].encode()
        with MAIN.client(timeout=10) as c:
            err, res = c.request("auth", [{"token": good + b"\x00"}])
            self.assertEqual((err or {}).get("code"), "unauthorized", err)
            self.assertEqual(c.call("auth", [{"token": good}]), {"role": "read"})

    def test_token_of_wrong_type(self):
        with MAIN.client(timeout=10) as c:
            for bad in ({"token": 12345}, {"token": None}, {"token": ["x"]}, {}, {"tok": "x"}):
                err, res = c.request("auth", bad)
                self.assertIsNotNone(err, bad)
                self.assertIn(err.get("code"), ("invalid_params", "unauthorized"), (bad, err))
            self.assertEqual(c.call("auth", {"token": TOKENS.token["read"]}), {"role": "read"})

    def test_10kb_token_rejected(self):
        # Past the pre-auth frame limit: refused (and the connection closed)
        # before any comparison.
        tok = GUESS_MARK + "k" * 10240
        with MAIN.client(timeout=10) as c:
            try:
                c.send_request("auth", {"token": tok})
            except (BrokenPipeError, ConnectionResetError):
                pass
            closed = c.read_all_until_close(5.0)
            codes = [c.responses[m][0][0].get("code") for m in c.order]
        self.assertTrue(closed)
        self.assertTrue(all(code in ("too_large", "parse_error", "unauthorized") for code in codes),
                        codes)
        self.assertNotIn("admin", str(codes))

    def test_delays_grow_and_close_after_three(self):
        with MAIN.client(timeout=15) as c:
            port = c.sock.getsockname()[1]
            delays = []
            for i in range(3):
                t0 = time.monotonic()
                err, res = c.request("auth", {"token": "%s-%d-nope-nope-nope" % (GUESS_MARK, i)})
                delays.append(time.monotonic() - t0)
                self.assertEqual(err.get("code"), "unauthorized")
            self.assertTrue(c.read_all_until_close(3.0), "not closed after 3 failures")
        self.assertGreaterEqual(delays[0], 0.2, delays)
        self.assertGreater(delays[1], delays[0] * 1.5, delays)
        self.assertGreater(delays[2], delays[1] * 1.5, delays)
        self.assertLess(delays[2], 5.0, delays)
        # The log records each failure, naming the peer, never the token.
        log = MAIN.log()
        peer = "127.0.0.1:%d" % port
        lines = [ln for ln in log.splitlines() if peer in ln]
        fails = [ln for ln in lines if "auth failed" in ln]
        self.assertEqual(len(fails), 3, lines)
        for i, ln in enumerate(fails):
            self.assertIn("attempt %d" % (i + 1), ln)
        self.assertTrue(any("closing" in ln and "failed auth" in ln for ln in lines), lines)

    def test_log_never_contains_tokens(self):
        # Make a few failures and a success of each role, then read the log.
        for label, tok in odd_tokens()[:3]:
            with MAIN.client(timeout=10) as c:
                c.request("auth", {"token": tok})
        for r in s.ROLES:
            s.authed(MAIN, TOKENS, r).close()
        log = MAIN.log()
        self.assertIn("auth failed", log)
        self.assertNotIn(GUESS_MARK, log)
        for r in s.ROLES:
            self.assertNotIn(TOKENS.token[r], log)
            self.assertNotIn(TOKENS.token[r][-12:], log)

    def test_pipelined_guesses_are_bounded_per_connection(self):
        # Ten guesses written at once: the server takes them one at a time,
        # each after its delay, and hangs up after the third.
        with MAIN.client(timeout=15) as c:
            t0 = time.monotonic()
            ids = [c.send_request("auth", {"token": "%s-pipe-%02d-xxxxxxxx" % (GUESS_MARK, i)})
                   for i in range(10)]
            closed = c.read_all_until_close(8.0)
            elapsed = time.monotonic() - t0
            answered = [m for m in ids if m in c.responses]
        self.assertTrue(closed, "not closed")
        self.assertEqual(len(answered), 3, "answers to pipelined guesses: %d" % len(answered))
        for m in answered:
            self.assertEqual(c.responses[m][0][0].get("code"), "unauthorized")
        rate = len(answered) / elapsed
        print("\nA4 pipelined: %d guesses in %.2f s = %.2f guesses/s per connection"
              % (len(answered), elapsed, rate), file=sys.stderr)
        self.assertLessEqual(rate, 10.0)
        self.assertGreaterEqual(elapsed, 0.25 + 0.5 + 1.0 - 0.1)

    def test_serial_reconnect_rate(self):
        # An attacker reconnecting after every guess still waits the first
        # delay each time: <= 10 guesses/s on one connection at a time.
        n, t0 = 8, time.monotonic()
        for i in range(n):
            with MAIN.client(timeout=10) as c:
                self.assertEqual(c.error_code("auth", {"token": "%s-serial-%d-xxxxxxxxx" % (GUESS_MARK, i)}),
                                 "unauthorized")
        rate = n / (time.monotonic() - t0)
        print("\nA4 reconnecting: %.2f guesses/s" % rate, file=sys.stderr)
        self.assertLessEqual(rate, 10.0)

    def test_failure_delay_does_not_stall_others(self):
        with MAIN.client(timeout=10) as bad, s.authed(MAIN, TOKENS, "read") as good:
            m = bad.send_request("auth", {"token": GUESS_MARK + "-stall-xxxxxxxxxxx"})
            time.sleep(0.02)
            t0 = time.monotonic()
            for _ in range(10):
                self.assertEqual(good.call("server.ping"), "pong")
            self.assertLess(time.monotonic() - t0, 0.2)
            self.assertEqual(bad.wait_response(m)[0].get("code"), "unauthorized")

    def test_success_after_failures(self):
        with MAIN.client(timeout=10) as c:
            for i in range(2):
                self.assertEqual(c.error_code("auth", {"token": GUESS_MARK + "-%d-xxxxxxxxxxxxx" % i}),
                                 "unauthorized")
            self.assertEqual(c.call("auth", {"token": TOKENS.token["write"]}), {"role": "write"})
            self.assertIn("epoch", c.call("graph.stats"))

    def test_failed_reauth_does_not_raise_role(self):
        with s.authed(MAIN, TOKENS, "read") as c:
            self.assertEqual(c.error_code("auth", {"token": GUESS_MARK + "-again-xxxxxxxxxx"}),
                             "unauthorized")
            self.assertEqual(c.error_code("audit.list"), "forbidden")
            self.assertEqual(c.error_code("node.delete", {"id": "ZZ-x"}), "forbidden")


# ---- A5: role x method ----

class A5Matrix(AuthCase):
    def methods_table(self):
        with s.authed(MAIN, TOKENS, "read") as c:
            items = c.call("server.methods")["items"]
        return {it["name"]: it["role"] for it in items}

    def test_table_matches_documentation(self):
        table = self.methods_table()
        missing = sorted(set(EXPECTED_ROLE) - set(table))
        self.assertEqual(missing, [], "documented methods not served")
        for m, r in EXPECTED_ROLE.items():
            self.assertEqual(table[m], r, "least role of %s" % m)
        for m, r in table.items():
            self.assertIn(r, s.ROLES, "%s has role %r" % (m, r))

    def test_every_cell(self):
        table = self.methods_table()
        cells, failures = 0, []
        with s.authed(MAIN, TOKENS, "admin") as admin:
            epoch0 = admin.call("graph.stats")["epoch"]
            audit0 = admin.call("audit.list")["total"]
        for role in s.ROLES:
            c = s.authed(MAIN, TOKENS, role)
            try:
                for m in sorted(table):
                    allowed = s.ORDER[role] >= s.ORDER[table[m]]
                    params = harmless(m, role) if allowed else real(m)
                    if m == "import.chunk" and allowed:
                        # A real import on this connection, then abort it.
                        imp = c.call("import.begin", {"dry_run": True})["import"]
                        params = {"import": imp, "nodes": []}
                    err, res = c.request(m, params)
                    code = (err or {}).get("code")
                    cells += 1
                    if m == "import.chunk" and allowed:
                        c.call("import.abort", {"import": imp})
                    if m == "import.begin" and allowed and err is None:
                        c.call("import.abort", {"import": res["import"]})
                    if allowed and code in ("forbidden", "unauthorized"):
                        failures.append("%s/%s: denied (%r), table says allowed" % (role, m, err))
                    if not allowed and code != "forbidden":
                        failures.append("%s/%s: got %r %r, table says forbidden"
                                        % (role, m, err, str(res)[:80]))
                    if not allowed and code == "forbidden":
                        msg = err.get("message", "")
                        self.assertIn(table[m], msg, "forbidden message should name the role")
                # Unknown methods are unknown, whatever the role.
                self.assertEqual(c.error_code("no.such.method"), "method_not_found")
            finally:
                c.close()
        print("\nA5: %d cells (%d methods x 3 roles)" % (cells, len(table)), file=sys.stderr)
        self.assertEqual(failures, [], "\n".join(failures))
        self.assertEqual(cells, 3 * len(table))
        # No denied (or harmless) call changed anything.
        with s.authed(MAIN, TOKENS, "admin") as admin:
            self.assertEqual(admin.call("graph.stats")["epoch"], epoch0)
            self.assertEqual(admin.call("audit.list")["total"], audit0)
            self.assertEqual(admin.error_code("node.get", {"id": "FR-denied-city"}), "not_found")

    def test_reauth_changes_role(self):
        with s.authed(MAIN, TOKENS, "admin") as c:
            self.assertIn("items", c.call("audit.list"))
            self.assertEqual(c.call("auth", {"token": TOKENS.token["read"]}), {"role": "read"})
            self.assertEqual(c.error_code("audit.list"), "forbidden")
            self.assertEqual(c.error_code("node.delete", {"id": "ZZ-x"}), "forbidden")

    def test_cancel_from_reader_is_harmless(self):
        with s.authed(MAIN, TOKENS, "read") as c:
            c.notify("cancel", [{"msgid": 99}])
            self.assertEqual(c.call("server.ping"), "pong")


# ---- A6: token files the daemon refuses ----

class A6TokenFiles(AuthCase):
    def start_with(self, path):
        return s.run_refused(["--listen", "127.0.0.1:0", "--tokens", path])

    def assert_refused(self, path, *hints, secret=None):
        rc, out = self.start_with(path)
        self.assertEqual(rc, 2, "exit %r, output %r" % (rc, out))
        for hint in hints:
            self.assertIn(hint, out)
        if secret:
            self.assertNotIn(secret, out, "the refusal message shows a token")
        return out

    def good_text(self):
        return "read r1 %s\nadmin a1 %s\n" % (tok("r", 24), tok("a", 24))

    def test_group_or_world_readable(self):
        for mode in (0o644, 0o640, 0o604, 0o660, 0o602):
            p = s.write_file(TOKENS.dir, "perm-%o" % mode, self.good_text(), mode)
            self.assert_refused(p, "chmod 600", p, secret=tok("r", 24))

    def test_symlink(self):
        target = s.write_file(TOKENS.dir, "target", self.good_text(), 0o600)
        link = os.path.join(TOKENS.dir, "link")
        if not os.path.lexists(link):
            os.symlink(target, link)
        self.assert_refused(link, "symlink")
        # The target itself is fine (the refusal is about the link).
        d = s.SecDaemon(["--tokens", target]).start()
        d.stop()

    def test_malformed_lines(self):
        cases = [
            ("two fields", "read onlytwo\n", ":1:"),
            ("four fields", "read r1 %s extra\n" % (tok("r", 20)), ":1:"),
            ("bad role", "root r1 %s\n" % (tok("r", 20)), "role"),
            ("second line", "read r1 %s\nwrite\n" % (tok("r", 20)), ":2:"),
        ]
        for label, text, hint in cases:
            p = s.write_file(TOKENS.dir, "bad-" + label.replace(" ", "-"), text, 0o600)
            out = self.assert_refused(p, hint, secret=tok("r", 20))
            self.assertIn(p, out, label)

    def test_short_token(self):
        p = s.write_file(TOKENS.dir, "short", "read r1 %s\n" % (tok("s", 15)), 0o600)
        self.assert_refused(p, "16", ":1:", secret=tok("s", 15))
        # Sixteen is enough.
        p = s.write_file(TOKENS.dir, "sixteen", "read r1 %s\n" % (tok("s", 16)), 0o600)
        d = s.SecDaemon(["--tokens", p]).start()
        try:
            with d.client(timeout=10) as c:
                self.assertEqual(c.call("auth", {"token": tok("s", 16)}), {"role": "read"})
        finally:
            d.stop()

    def test_weak_token(self):
        # Long enough but with fewer than 8 different characters.
        p = s.write_file(TOKENS.dir, "weak", "read r1 %s\n" % ("ab" * 12), 0o600)
        self.assert_refused(p, "weak", ":1:", secret="ab" * 12)

    def test_duplicate_name(self):
        p = s.write_file(TOKENS.dir, "dup", "read same %s\nadmin same %s\n" % (tok("d", 20), tok("e", 20)),
                         0o600)
        self.assert_refused(p, "duplicate", ":2:", secret=tok("e", 20))

    def test_empty_missing_and_directory(self):
        p = s.write_file(TOKENS.dir, "empty", "# nothing here\n\n", 0o600)
        self.assert_refused(p, "no tokens")
        missing = os.path.join(TOKENS.dir, "does-not-exist")
        self.assert_refused(missing, missing)
        sub = os.path.join(TOKENS.dir, "a-directory")
        os.makedirs(sub, exist_ok=True)
        self.assert_refused(sub, "not a regular file")

    def test_comments_and_blank_lines_are_fine(self):
        text = "# comment\n\n   \nread r1 %s   # trailing comment\n" % (tok("c", 20))
        p = s.write_file(TOKENS.dir, "comments", text, 0o600)
        d = s.SecDaemon(["--tokens", p]).start()
        try:
            with d.client(timeout=10) as c:
                self.assertEqual(c.call("auth", {"token": tok("c", 20)}), {"role": "read"})
        finally:
            d.stop()


if __name__ == "__main__":
    unittest.main()
