"""test_interop -- twinnetd against real, independent msgpack-RPC clients.

Two clients nobody on this project wrote:
- pynvim's msgpack-RPC layer (Debian's python3-pynvim, pynvim.msgpack_rpc):
  its Session (synchronous requests, server notifications queued for
  next_message) and its AsyncSession (several requests in flight);
- msgpack5rpc on Node (tests/interop/node_client.js, packages from
  tests/interop/package-lock.json, installed by scripts/deps.sh).

Every call in tests/interop/calls.json is made by each client and compared,
error and result, with what tnharness's raw client gets for the same call on
the same daemon at the same epoch. Missing clients are a failure, not a skip:
scripts/deps.sh installs both.

See docs/interop.md.
"""

import faulthandler
import json
import os
import shutil
import struct
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tnharness as h  # noqa: E402

try:
    import pynvim  # noqa: E402
    from pynvim.api import NvimError  # noqa: E402
    from pynvim.msgpack_rpc import AsyncSession, EventLoop, MsgpackStream  # noqa: E402
    from pynvim.util import get_client_info  # noqa: E402
except ImportError as e:   # no skip: the test exists to run this client
    raise ImportError("pynvim is missing for %s (Debian python3-pynvim; run scripts/deps.sh): %s"
                      % (sys.executable, e)) from e

# pynvim's blocking calls have no timeout of their own: a hung server would
# hang the test. Bound the whole module instead (a few seconds normally).
faulthandler.dump_traceback_later(int(os.environ.get("TN_INTEROP_WATCHDOG_S", "180")), exit=True)

INTEROP_DIR = os.path.join(h.source_dir(), "tests", "interop")
with open(os.path.join(INTEROP_DIR, "calls.json"), encoding="utf-8") as _f:
    CALLS = json.load(_f)["calls"]

DAEMON = None


def setUpModule():
    global DAEMON
    DAEMON = h.Daemon().start()


def tearDownModule():
    DAEMON.stop()


def plain(value):
    """The value as JSON would carry it (what the Node client prints), so
    that results from the three clients compare with ==."""
    return json.loads(json.dumps(value, ensure_ascii=False))


def raw_results(calls, params_of=lambda c: c["params"]):
    """{name: (error, result)} for every call, through tnharness's raw
    client, on one connection."""
    out = {}
    with DAEMON.client(timeout=30) as c:
        for call in calls:
            err, res = c.request(call["method"], params_of(call))
            out[call["name"]] = (plain(err), plain(res))
    return out


def current_epoch():
    with DAEMON.client(timeout=30) as c:
        return c.call("graph.stats")["epoch"]


def msgpack5_wire(value):
    """value as msgpack5 3.x puts it on the wire: it encodes a non-integer
    number as float32 whenever that is within 0.1 of the value (its
    TOLERANCE), so 0.85 arrives as 0.8500000238418579."""
    if isinstance(value, float) and value != int(value):
        f32 = struct.unpack(">f", struct.pack(">f", value))[0]
        return f32 if abs(value - f32) <= 0.1 else value
    if isinstance(value, list):
        return [msgpack5_wire(v) for v in value]
    if isinstance(value, dict):
        return {k: msgpack5_wire(v) for k, v in value.items()}
    return value


def result_epochs(results):
    """The set of epochs the successful results carry."""
    return {r["epoch"] for e, r in results.values() if e is None and isinstance(r, dict) and "epoch" in r}


class PynvimSession(unittest.TestCase):
    """pynvim.msgpack_rpc.tcp_session: the synchronous Session."""

    def setUp(self):
        # tcp_session sends pynvim's own nvim_set_client_info notification
        # as soon as it connects (pynvim.msgpack_rpc.session()).
        self.s = pynvim.msgpack_rpc.tcp_session("127.0.0.1", DAEMON.port)
        # A bare Session leaves error_wrapper to its user (pynvim's Nvim sets
        # one that assumes Nvim's [type, message] errors); keep the map.
        self.s.error_wrapper = lambda err: NvimError(err)

    def tearDown(self):
        self.s.close()

    def call(self, method, params):
        """(error, result), JSON-plain, the error taken from NvimError."""
        try:
            return None, plain(self.s.request(method, *params))
        except NvimError as e:
            return plain(e.args[0]), None

    def bounded_next_message(self, timeout=5.0):
        """Session.next_message() blocks for ever; stop its loop after
        timeout from another thread. None when nothing came."""
        t = threading.Timer(timeout, lambda: self.s.loop.threadsafe_call(self.s.stop))
        t.start()
        try:
            return self.s.next_message()
        finally:
            t.cancel()

    def test_calls_match_raw_client(self):
        want = raw_results(CALLS)
        got = {c["name"]: self.call(c["method"], c["params"]) for c in CALLS}
        after = raw_results(CALLS[:2])
        for call in CALLS:
            with self.subTest(call=call["name"]):
                self.assertEqual(got[call["name"]], want[call["name"]])
        self.assertEqual(len(result_epochs(got)), 1, "pynvim saw several epochs")
        self.assertEqual(result_epochs(got), result_epochs(after))
        self.assertEqual(got["ping"], (None, "pong"))

    def test_errors_are_pynvim_errors_with_the_code(self):
        with self.assertRaises(NvimError) as cm:
            self.s.request("no.such.method")
        self.assertEqual(cm.exception.args[0]["code"], "method_not_found")
        self.assertIn("message", cm.exception.args[0])
        with self.assertRaises(NvimError) as cm:
            self.s.request("query.centrality", {"metric": "degree", "surprise": True})
        self.assertEqual(cm.exception.args[0]["code"], "invalid_params")
        with self.assertRaises(NvimError) as cm:
            self.s.request("query.coverage", {"by": "planet"})
        self.assertEqual(cm.exception.args[0]["code"], "invalid_params")
        # Errors leave the session usable.
        self.assertEqual(self.s.request("server.ping"), "pong")

    def test_notifications_are_ignored_and_the_session_goes_on(self):
        self.s.request("nvim_set_client_info", *get_client_info("interop", "remote", {}), async_=True)
        self.s.request("cancel", {"msgid": 123456789}, async_=True)
        self.s.request("cancel", "not a map", async_=True)
        self.s.request("some.plugin.event", [1, 2, 3], async_=True)
        self.assertEqual(self.s.request("server.ping"), "pong")
        stats = self.s.request("graph.stats")
        self.assertEqual(stats["home"]["id"], "CN-430000")
        # No reply came for any of them: the ping's reply was the only one
        # (pynvim would pop an unknown msgid and swallow the error, so check
        # on the wire with the raw client too).
        with DAEMON.client(timeout=10) as c:
            c.notify("nvim_set_client_info", list(get_client_info("interop", "remote", {})))
            c.notify("cancel", [{"msgid": 123456789}])
            c.notify("cancel", ["not a map"])
            m = c.send_request("server.ping")
            self.assertEqual(c.wait_response(m), (None, "pong"))
            c.drain(0.3)
            self.assertEqual(c.order, [m], "replies to notifications: %r" % c.responses)
            self.assertEqual(c.other, [])

    def test_bin_method_name(self):
        # pynvim sends bytes as msgpack bin (its own Nvim object names
        # methods with bytes); the protocol accepts bin where a str goes.
        self.assertEqual(self.s.request(b"server.ping"), "pong")
        res = self.s.request(b"node.get", {b"id": b"CN-430100"})
        self.assertEqual(res["name"], "Changsha")
        self.assertEqual(res["name_zh"], "\u957f\u6c99\u5e02")

    def test_write_and_event_notification(self):
        self.assertEqual(self.s.request("metrics.subscribe"), {"subscribed": True})
        node = {"id": "CN-430198", "kind": "city", "name": "Pynvim Interop",
                "name_zh": "\u4e92\u901a\u6d4b\u8bd5\u4e8c", "country": "CN", "parent": "CN-430000"}
        epoch = self.s.request("node.upsert", {"node": node})["epoch"]
        msg = self.bounded_next_message()
        self.assertIsNotNone(msg, "no event notification within 5 s")
        kind, name, args = msg
        self.assertEqual((kind, name), ("notification", "event"))
        self.assertEqual(args, [{"type": "epoch", "epoch": epoch}])
        with DAEMON.client(timeout=10) as c:
            got = c.call("node.get", {"id": node["id"]})
        self.assertEqual(got["epoch"], epoch)
        self.assertEqual({k: got[k] for k in node}, node)


class PynvimAsyncSession(unittest.TestCase):
    """pynvim's AsyncSession: every call of calls.json in flight at once."""

    def test_pipelined_calls_match_raw_client(self):
        loop = EventLoop("tcp", "127.0.0.1", DAEMON.port)
        session = AsyncSession(MsgpackStream(loop))
        replies, order, notes = {}, [], []

        def on_reply(name):
            def cb(err, res):
                replies[name] = (plain(err), plain(res))
                order.append(name)
                if len(replies) == len(CALLS):
                    session.stop()
            return cb

        want = raw_results(CALLS)
        session.notify("nvim_set_client_info", list(get_client_info("interop", "remote", {})))
        for call in CALLS:
            session.request(call["method"], call["params"], on_reply(call["name"]))
        t = threading.Timer(15, lambda: loop.threadsafe_call(session.stop))
        t.start()
        try:
            session.run(lambda *a: notes.append(("request", a)), lambda *a: notes.append(a))
        finally:
            t.cancel()
            session.close()
        self.assertEqual(sorted(order), sorted(c["name"] for c in CALLS),
                         "replies missing or duplicated")
        for call in CALLS:
            with self.subTest(call=call["name"]):
                self.assertEqual(replies[call["name"]], want[call["name"]])
        self.assertEqual(notes, [])


class NodeMsgpack5rpc(unittest.TestCase):
    """tests/interop/node_client.js (msgpack5rpc on Node)."""

    def run_node(self):
        node = shutil.which("node") or ("/usr/bin/node" if os.path.exists("/usr/bin/node") else None)
        self.assertIsNotNone(node, "node is not installed (run scripts/deps.sh)")
        self.assertTrue(os.path.isdir(os.path.join(INTEROP_DIR, "node_modules", "msgpack5rpc")),
                        "tests/interop/node_modules is missing (run scripts/deps.sh)")
        p = subprocess.run([node, os.path.join(INTEROP_DIR, "node_client.js"), str(DAEMON.port)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        out = p.stdout.decode("utf-8", "replace")
        self.assertEqual(p.returncode, 0, "node_client.js failed (%s): %s %s"
                         % (p.returncode, out[-2000:], p.stderr.decode("utf-8", "replace")[-2000:]))
        return json.loads(out)

    def test_node_client(self):
        epoch0 = current_epoch()
        want = raw_results(CALLS)
        # What msgpack5 really sends for calls with fractional numbers.
        want_wire = raw_results([c for c in CALLS if msgpack5_wire(c["params"]) != c["params"]],
                                params_of=lambda c: msgpack5_wire(c["params"]))
        self.assertIn("pagerank_f64", want_wire, "calls.json lost its float32-rounding case")
        self.assertNotEqual(want_wire["pagerank_f64"], want["pagerank_f64"],
                            "damping 0.85 vs its float32 rounding should differ")
        got = self.run_node()
        self.assertNotIn("fatal", got)
        self.assertEqual(got["versions"]["msgpack5rpc"], "1.1.0")
        self.assertEqual(got["versions"]["msgpack5"], "3.6.1")

        results = {k: (v["error"], v["result"]) for k, v in got["results"].items()}
        self.assertEqual(set(results), {c["name"] for c in CALLS})
        for call in CALLS:
            name = call["name"]
            with self.subTest(call=name):
                self.assertEqual(results[name], want_wire.get(name, want[name]))
        self.assertEqual(result_epochs(results), {epoch0})
        # All sent before any reply; each reply came once.
        self.assertEqual(got["max_in_flight"], len(CALLS))
        self.assertEqual(sorted(got["arrival"]), sorted(c["name"] for c in CALLS))

        # The write it made, its event, and what the raw client sees now.
        self.assertEqual(got["subscribe"], {"error": None, "result": {"subscribed": True}})
        self.assertEqual(got["write"], {"error": None, "result": {"epoch": epoch0 + 1}})
        self.assertIn([{"type": "epoch", "epoch": epoch0 + 1}], got["events"])
        node = got["written_node"]
        with DAEMON.client(timeout=10) as c:
            seen = plain(c.call("node.get", {"id": node["id"]}))
        self.assertEqual(seen["epoch"], epoch0 + 1)
        self.assertEqual({k: seen[k] for k in node}, node)
        self.assertEqual(got["after_write"], {"error": None, "result": seen})
        self.assertEqual(current_epoch(), epoch0 + 1)


if __name__ == "__main__":
    t0 = time.monotonic()
    prog = unittest.main(exit=False, verbosity=2)
    print("test_interop: %.1f s" % (time.monotonic() - t0))
    sys.exit(0 if prog.result.wasSuccessful() else 1)
