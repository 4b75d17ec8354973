"""Wire protocol (docs/protocol.md: framing, errors, limits): framing, msgid matching,
pipelining, out-of-order replies, every error code reachable without auth,
hostile headers and memory. Runs against real twinnetd processes on
127.0.0.1, port 0."""

import os
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import msgpack  # noqa: E402

import tnharness as h  # noqa: E402
from tnharness import pack  # noqa: E402

MAIN = None        # the Hunan dataset alone


def setUpModule():
    # The protocol tests size their replies on the Hunan dataset (a
    # pair.list of everything is about 30 KB); the default adds the peer
    # provinces' 1,770 pairs, which test_queries and test_peer_data cover.
    global MAIN
    MAIN = h.Daemon(args=["--dataset", "hunan"]).start()


def tearDownModule():
    MAIN.stop()


def request_bytes(msgid_bytes, method, params):
    """[0, msgid, method, params] with the msgid encoded by hand."""
    return b"\x94\x00" + msgid_bytes + pack(method) + pack(params)


class ProtoCase(unittest.TestCase):
    daemon = None

    def d(self):
        return self.daemon or MAIN

    def probe(self):
        """A separate, fresh client still gets its pong, and the daemon lives."""
        self.assertTrue(self.d().alive(), "twinnetd died")
        self.assertTrue(h.ping_ok(self.d().port), "a separate client's ping failed")

    def expect_error(self, data, code, msgid=None, closes=False):
        """Send raw bytes as one message; expect one error reply with code
        (and msgid if given); then the connection is closed (closes) or
        still answers a ping."""
        with self.d().client(timeout=10) as c:
            c.send_bytes(data)
            deadline = time.monotonic() + 5
            while not c.order and time.monotonic() < deadline and not c.closed:
                try:
                    c._feed(deadline)
                except TimeoutError:
                    break
            self.assertEqual(len(c.order), 1, "expected exactly one reply to %r, got %r"
                             % (data[:40], c.responses))
            got_id = c.order[0]
            err, res = c.responses[got_id][0]
            self.assertIsInstance(err, dict, "no error for %r" % (data[:40],))
            self.assertEqual(err.get("code"), code, "for %r: %r" % (data[:40], err))
            self.assertIsInstance(err.get("message"), str)
            self.assertIsNone(res)
            if msgid is not None:
                self.assertEqual(got_id, msgid, "error reply should carry the request's msgid")
            if closes:
                self.assertTrue(c.read_all_until_close(3.0),
                                "connection not closed after %s" % code)
            else:
                err2, res2 = c.request("server.ping", msgid=4242)
                self.assertIsNone(err2)
                self.assertEqual(res2, "pong")
                self.assertEqual(c.responses[4242], [(None, "pong")])
        self.probe()
        return err


class Basics(ProtoCase):
    def test_ping(self):
        with MAIN.client() as c:
            self.assertEqual(c.call("server.ping"), "pong")
            # [] and [{}] are both fine for a method without options.
            self.assertEqual(c.call("server.ping", {}), "pong")

    def test_server_time(self):
        with MAIN.client() as c:
            before = int(time.time() * 1000)
            t = c.call("server.time")
            after = int(time.time() * 1000)
            self.assertEqual(set(t), {"epoch", "unix_ms"})
            self.assertEqual(t["epoch"], c.call("server.info")["epoch"])
            self.assertTrue(before - 1000 <= t["unix_ms"] <= after + 1000, (before, t, after))
            err, _ = c.request("server.time", {"tz": "UTC"})
            self.assertEqual(err["code"], "invalid_params")

    def test_server_info_and_methods(self):
        with MAIN.client() as c:
            info = c.call("server.info")
            for k in ("version", "uptime_s", "epoch", "home", "connections", "data_dir", "fsync"):
                self.assertIn(k, info)
            self.assertEqual(info["home"], "CN-430000")
            self.assertGreaterEqual(info["connections"], 1)
            items = c.call("server.methods")["items"]
            names = {m["name"]: m for m in items}
            for want in ("server.ping", "server.methods", "server.info", "graph.stats", "node.get",
                         "node.find", "node.neighbors", "pair.list", "query.centrality",
                         "query.coverage", "query.gaps", "query.recommend", "metrics.get",
                         "metrics.subscribe", "node.upsert", "node.delete", "pair.upsert",
                         "pair.delete", "import.batch"):
                self.assertIn(want, names)
            for m in items:
                self.assertEqual(set(m), {"name", "role", "params", "slow", "description", "options"})
                self.assertIn(m["role"], ("read", "write", "admin"))
                self.assertTrue(all(isinstance(p, str) for p in m["params"]))
                # The schema lists the same options, in the same order.
                self.assertEqual([o["name"] for o in m["options"]], m["params"])
                self.assertTrue(m["description"])
                for o in m["options"]:
                    self.assertIn(o["type"], ("string", "integer", "number", "boolean", "enum",
                                              "map", "array", "any"))
            opts = {o["name"]: o for o in names["query.centrality"]["options"]}
            self.assertTrue(opts["metric"]["required"])
            self.assertIn("betweenness", opts["metric"]["choices"])
            self.assertEqual((opts["top"]["min"], opts["top"]["max"]), (1, 100000))
            # The schema's bounds are the ones enforced.
            err, _ = c.request("query.centrality", {"metric": "degree", "top": 100001})
            self.assertEqual(err["code"], "invalid_params")
            self.assertIn("top", err["message"])
            self.assertTrue(names["query.centrality"]["slow"])
            self.assertFalse(names["server.ping"]["slow"])
            self.assertEqual(names["node.upsert"]["role"], "write")
            self.assertIn("metric", names["query.centrality"]["params"])
            # Every advertised option is accepted (no unknown-option error).
            err, _ = c.request("graph.stats", {p: None for p in names["graph.stats"]["params"]})
            self.assertTrue(err is None or "unknown" not in err.get("message", ""), err)

    def test_responses_matched_by_msgid(self):
        ids = {901: "CN-430100", 17: "JP", 4294967295: "CN-430600", 0: "CN-430000", 3: "CN-430200"}
        with MAIN.client() as c:
            for msgid, node in ids.items():
                c.send_request("node.get", {"id": node}, msgid=msgid)
            got = c.wait_responses(list(ids))
            for (msgid, node), (err, res) in zip(ids.items(), got):
                self.assertIsNone(err)
                self.assertEqual(res["id"], node, "reply to msgid %d has the wrong node" % msgid)
            self.assertEqual(sorted(c.order), sorted(ids))

    def test_pipelining_1000_in_one_write_all_answered_once(self):
        nodes = ["CN-430100", "CN-430200", "JP", "CN-430000", "BE-mons"]
        buf = bytearray()
        want = {}
        for i in range(1, 1001):
            if i % 2:
                buf += pack([0, i, "server.ping", []])
                want[i] = "pong"
            else:
                n = nodes[i % len(nodes)]
                buf += pack([0, i, "node.get", [{"id": n}]])
                want[i] = n
        with MAIN.client(timeout=30) as c:
            c.send_bytes(bytes(buf))
            c.wait_responses(list(want))
            c.drain(0.3)
            self.assertEqual(len(c.order), 1000, "extra or missing replies")
            for i, w in want.items():
                self.assertEqual(len(c.responses[i]), 1, "msgid %d answered %d times"
                                 % (i, len(c.responses[i])))
                err, res = c.responses[i][0]
                if w == "pong":
                    self.assertEqual((err, res), (None, "pong"))
                elif err is None:
                    self.assertEqual(res["id"], w)
                else:
                    # Answered with an error: at least a well-formed one.
                    self.assertIn("code", err)
            self.assertEqual(c.other, [])
            self.assertEqual(c.notifications, [])

    def test_pipelined_reads_are_served_not_refused_busy(self):
        """docs/protocol.md, "Transport and framing": a client may send many requests without
        waiting. 1000 cheap node.get in one write on an otherwise idle server
        must all be served (backpressure, not 'busy', for a single client)."""
        nodes = ["CN-430100", "CN-430200", "JP", "CN-430000", "BE-mons"]
        buf = bytearray()
        for i in range(1, 1001):
            buf += pack([0, i, "node.get", [{"id": nodes[i % len(nodes)]}]])
        with MAIN.client(timeout=30) as c:
            c.send_bytes(bytes(buf))
            got = c.wait_responses(list(range(1, 1001)))
            codes = {}
            for err, _ in got:
                if err is not None:
                    codes[err["code"]] = codes.get(err["code"], 0) + 1
            self.assertEqual(codes, {}, "pipelined node.get answered with errors: %r" % codes)

    def test_large_reply_is_not_delayed(self):
        """A cached 29 KB reply (pair.list of the whole dataset) on loopback
        takes well under a millisecond to produce; a median round trip near
        40 ms is Nagle's algorithm on the server socket meeting the client's
        delayed ACK (the reply leaves in two writes). Dashboards poll such
        results; section 5 wants polling to cost next to nothing."""
        with MAIN.client() as c:
            c.call("pair.list", {"limit": 10000})          # fill the cache
            times = []
            for _ in range(15):
                t0 = time.monotonic()
                res = c.call("pair.list", {"limit": 10000})
                times.append(time.monotonic() - t0)
            self.assertGreater(len(pack(res)), 20000)
            times.sort()
            median_ms = times[len(times) // 2] * 1000
            self.assertLess(median_ms, 25.0, "median round trip of a 29 KB reply: %.1f ms" % median_ms)

    def test_message_split_into_single_bytes(self):
        msg = pack([0, 77, "node.get", [{"id": "CN-430100"}]]) + pack([0, 78, "server.ping", []])
        with MAIN.client() as c:
            for i in range(len(msg)):
                c.send_bytes(msg[i:i + 1])
                if i % 8 == 0:
                    time.sleep(0.002)
            err, res = c.wait_response(77)
            self.assertIsNone(err)
            self.assertEqual(res["id"], "CN-430100")
            self.assertEqual(c.wait_response(78), (None, "pong"))

    def test_many_messages_in_one_segment_and_split_across_writes(self):
        a = pack([0, 1, "server.ping", []])
        b = pack([0, 2, "node.get", [{"id": "JP"}]])
        stream = a + b + a.replace(b"\x01", b"\x03", 1)
        with MAIN.client() as c:
            cut = len(a) + 3
            c.send_bytes(stream[:cut])
            time.sleep(0.05)
            c.send_bytes(stream[cut:])
            got = c.wait_responses([1, 2, 3])
            self.assertEqual(got[0], (None, "pong"))
            self.assertEqual(got[1][1]["id"], "JP")
            self.assertEqual(got[2], (None, "pong"))


class Encodings(ProtoCase):
    def test_msgid_in_every_integer_width(self):
        cases = [
            (b"\x05", 5),                                    # positive fixint
            (b"\xcc\xc8", 200),                              # uint8
            (b"\xcd\x9c\x40", 40000),                        # uint16
            (b"\xce\xee\x6b\x28\x00", 4000000000),           # uint32
            (b"\xcf" + struct.pack(">Q", 7), 7),             # uint64, small value
            (b"\xcf" + struct.pack(">Q", 4294967295), 4294967295),
            (b"\xd0\x05", 5),                                # int8
            (b"\xd1\x01\x2c", 300),                          # int16
            (b"\xd2\x00\x01\x11\x70", 70000),                # int32
            (b"\xd3" + struct.pack(">q", 4294967295), 4294967295),   # int64
        ]
        with MAIN.client() as c:
            for enc, value in cases:
                c.responses.clear()
                c.send_bytes(request_bytes(enc, "server.ping", []))
                got = c.wait_response(value)
                self.assertEqual(got, (None, "pong"), "msgid encoded as %r" % enc)

    def test_option_integers_in_every_width(self):
        # top=3 as uint8/16/32/64 and int8/16/32/64 gives the same 3 items.
        encs = [b"\x03", b"\xcc\x03", b"\xcd\x00\x03", b"\xce\x00\x00\x00\x03",
                b"\xcf" + struct.pack(">Q", 3), b"\xd0\x03", b"\xd1\x00\x03",
                b"\xd2\x00\x00\x00\x03", b"\xd3" + struct.pack(">q", 3)]
        results = []
        with MAIN.client() as c:
            for i, enc in enumerate(encs):
                params = (b"\x91\x82" + pack("metric") + pack("degree") + pack("top") + enc)
                c.send_bytes(b"\x94\x00" + pack(100 + i) + pack("query.centrality") + params)
                err, res = c.wait_response(100 + i)
                self.assertIsNone(err, "top encoded as %r: %r" % (enc, err))
                results.append(res["items"])
        self.assertEqual(len(results[0]), 3)
        for r in results:
            self.assertEqual(r, results[0])

    def test_float32_accepted_for_numbers(self):
        with MAIN.client() as c:
            f32 = msgpack.packb(0.5, use_single_float=True)
            self.assertEqual(f32[0], 0xCA)
            params = b"\x91\x83" + pack("metric") + pack("pagerank") + pack("damping") + f32 \
                + pack("top") + pack(50)
            c.send_bytes(b"\x94\x00" + pack(11) + pack("query.centrality") + params)
            err, r32 = c.wait_response(11)
            self.assertIsNone(err, err)
            r64 = c.call("query.centrality", {"metric": "pagerank", "damping": 0.5, "top": 50})
            self.assertEqual(r32["items"], r64["items"])
            # A cutoff as float32 works like the same value as an int.
            f32 = msgpack.packb(2.0, use_single_float=True)
            params = b"\x91\x83" + pack("metric") + pack("harmonic") + pack("cutoff") + f32 \
                + pack("top") + pack(40)
            c.send_bytes(b"\x94\x00" + pack(12) + pack("query.centrality") + params)
            err, rc32 = c.wait_response(12)
            self.assertIsNone(err, err)
            rc = c.call("query.centrality", {"metric": "harmonic", "cutoff": 2, "top": 40})
            self.assertEqual(rc32["items"], rc["items"])
            # float32 inside a record: a node's lat/lon.
            node = b"\x84" + pack("id") + pack("ZZ-f32-town") + pack("kind") + pack("city") \
                + pack("name") + pack("F32 town") + pack("country") + pack("JP")
            c.send_bytes(b"\x94\x00" + pack(13) + pack("node.upsert")
                         + b"\x91\x81" + pack("node") + node)
            err, _ = c.wait_response(13)
            self.assertIsNone(err, err)
            lat = msgpack.packb(35.25, use_single_float=True)
            node = b"\x85" + pack("id") + pack("ZZ-f32-town") + pack("kind") + pack("city") \
                + pack("name") + pack("F32 town") + pack("country") + pack("JP") \
                + pack("lat") + lat
            c.send_bytes(b"\x94\x00" + pack(14) + pack("node.upsert")
                         + b"\x91\x81" + pack("node") + node)
            err, _ = c.wait_response(14)
            self.assertIsNone(err, err)
            got = c.call("node.get", {"id": "ZZ-f32-town"})
            self.assertEqual(got["lat"], 35.25)
            c.call("node.delete", {"id": "ZZ-f32-town"})

    def test_bin_accepted_where_str_expected(self):
        with MAIN.client() as c:
            # method as bin
            c.send_bytes(b"\x94\x00\x05" + msgpack.packb(b"server.ping", use_bin_type=True) + b"\x90")
            self.assertEqual(c.wait_response(5), (None, "pong"))
            # option key and value as bin
            body = b"\x91\x81" + msgpack.packb(b"id", use_bin_type=True) \
                + msgpack.packb(b"CN-430100", use_bin_type=True)
            c.send_bytes(b"\x94\x00\x06" + msgpack.packb(b"node.get", use_bin_type=True) + body)
            err, res = c.wait_response(6)
            self.assertIsNone(err, err)
            self.assertEqual(res["id"], "CN-430100")
            # enum option as bin
            body = b"\x91\x82" + pack("metric") + msgpack.packb(b"degree", use_bin_type=True) \
                + pack("top") + pack(2)
            c.send_bytes(b"\x94\x00\x07" + pack("query.centrality") + body)
            err, res = c.wait_response(7)
            self.assertIsNone(err, err)
            self.assertEqual(len(res["items"]), 2)
            # old-style raw (str8 without bin type) is plain str: also fine
            c.send_bytes(b"\x94\x00\x08" + msgpack.packb("server.ping", use_bin_type=False) + b"\x90")
            self.assertEqual(c.wait_response(8), (None, "pong"))

    def test_unknown_notifications_are_ignored(self):
        with MAIN.client() as c:
            c.notify("nvim_set_client_info", ["pynvim", {"major": 0}, "remote", {}, {}])
            c.notify("some.thing", [])
            c.notify("cancel", [{"msgid": 999999}])      # nothing to cancel
            c.notify("cancel", [{"bogus": 1}])           # malformed cancel: no reply either
            c.send_bytes(pack([2, "x", {"not": "an array"}]))   # bad notification: no reply
            self.assertEqual(c.call("server.ping"), "pong")
            c.drain(0.3)
            self.assertEqual(len(c.order), 1, "a notification got a reply: %r" % c.responses)
            self.assertEqual(c.other, [])

    def test_response_message_from_client_is_not_answered(self):
        """[1, msgid, nil, result] is a well-formed response; the server sent
        no request, so there is nothing to answer; the connection lives."""
        with MAIN.client() as c:
            c.send_bytes(pack([1, 55, None, "whatever"]))
            self.assertEqual(c.request("server.ping", msgid=56), (None, "pong"))
            c.drain(0.2)
            self.assertNotIn(55, c.responses)


class ErrorCodes(ProtoCase):
    def test_parse_error_0xc1_then_closed(self):
        t0 = time.monotonic()
        with MAIN.client(timeout=5) as c:
            c.send_bytes(b"\xc1" + pack([0, 1, "server.ping", []]))
            self.assertTrue(c.read_all_until_close(3.0), "not closed after 0xc1")
            self.assertLess(time.monotonic() - t0, 2.0)
            self.assertEqual(list(c.responses), [0])
            err, res = c.responses[0][0]
            self.assertEqual(err["code"], "parse_error")
            self.assertNotIn(1, c.responses, "the request after the bad byte was served")
        self.probe()

    def test_parse_error_mid_message(self):
        # A valid request, then a broken one: the first is answered, the
        # second gets parse_error, then close.
        with MAIN.client(timeout=5) as c:
            c.send_bytes(pack([0, 1, "server.ping", []]) + b"\x94\x00\x02\xc1")
            self.assertTrue(c.read_all_until_close(3.0))
            self.assertEqual(c.responses[1], [(None, "pong")])
            self.assertEqual(c.responses[0][0][0]["code"], "parse_error")
        self.probe()

    def test_invalid_request_cases(self):
        cases = [
            ("map, not array", pack({"a": 1}), None),
            ("integer", pack(5), None),
            ("empty array", pack([]), None),
            ("request of 3", pack([0, 7, "server.ping"]), 7),
            ("request of 5", pack([0, 8, "server.ping", [], None]), 8),
            ("type 3", pack([3, 9, "server.ping", []]), None),
            ("type -1", pack([-1, 9, "server.ping", []]), None),
            ("type str", pack(["0", 9, "server.ping", []]), None),
            ("type 1 shaped as a request", pack([1, 10, "server.ping", []]), None),
            ("msgid -1", pack([0, -1, "server.ping", []]), None),
            ("msgid 2^32", pack([0, 2 ** 32, "server.ping", []]), None),
            ("msgid float", pack([0, 1.5, "server.ping", []]), None),
            ("msgid str", pack([0, "1", "server.ping", []]), None),
            ("method int", pack([0, 12, 5, []]), 12),
            ("method nil", pack([0, 13, None, []]), 13),
            ("params not an array", pack([0, 15, "server.ping", {}]), 15),
            ("params nil", pack([0, 16, "server.ping", None]), 16),
        ]
        for name, data, msgid in cases:
            with self.subTest(name):
                self.expect_error(data, "invalid_request", msgid=msgid)

    def test_method_not_found(self):
        err = self.expect_error(pack([0, 21, "no.such.method", []]), "method_not_found", msgid=21)
        self.assertIn("no.such.method", err["message"])
        self.expect_error(pack([0, 22, "x" * 10000, []]), "method_not_found", msgid=22)
        self.expect_error(pack([0, 23, "", []]), "method_not_found", msgid=23)
        # Method names are case-sensitive.
        self.expect_error(pack([0, 24, "Server.Ping", []]), "method_not_found", msgid=24)

    def test_refused_values_keep_the_msgid(self):
        """Valid MessagePack the server does not accept (an options map with
        an integer key, an ext value as params or inside the options) is
        answered under the request's own msgid, and the connection lives on."""
        cases = [
            ("integer key in options", pack([0, 91, "node.get", [{1: "JP"}]]), 91),
            ("integer key, large msgid", pack([0, 2 ** 32 - 1, "graph.stats", [{7: 1}]]), 2 ** 32 - 1),
            ("params an ext value", pack([0, 92, "server.ping", msgpack.ExtType(5, b"xy")]), 92),
            ("ext inside the options", pack([0, 93, "node.get", [{"id": msgpack.ExtType(1, b"a")}]]), 93),
            ("msgid 0 stays 0", pack([0, 0, "node.get", [{2: 2}]]), 0),
        ]
        for name, data, msgid in cases:
            with self.subTest(name):
                self.expect_error(data, "invalid_request", msgid=msgid)
        # A notification or an unreadable msgid still gets msgid 0.
        self.expect_error(pack([0, "x", "node.get", [{1: 1}]]), "invalid_request", msgid=0)

    def test_invalid_params_cases(self):
        cases = [
            ("params [1,2]", pack([0, 31, "server.ping", [1, 2]])),
            ("params [5]", pack([0, 32, "server.ping", [5]])),
            ("params [[]]", pack([0, 33, "graph.stats", [[]]])),
            ("unknown option on ping", pack([0, 34, "server.ping", [{"x": 1}]])),
            ("unknown option on a query", pack([0, 35, "node.get", [{"id": "JP", "idd": 1}]])),
            ("unknown option on a change", pack([0, 36, "node.delete", [{"id": "JP", "force": True}]])),
            ("id not a string", pack([0, 37, "node.get", [{"id": 5}]])),
            ("id missing", pack([0, 38, "node.get", [{}]])),
            ("metric missing", pack([0, 39, "query.centrality", [{}]])),
            ("metric unknown", pack([0, 40, "query.centrality", [{"metric": "katz"}]])),
            ("top zero", pack([0, 41, "query.centrality", [{"metric": "degree", "top": 0}]])),
            ("top too big", pack([0, 42, "query.centrality", [{"metric": "degree", "top": 100001}]])),
            ("top a string", pack([0, 43, "query.centrality", [{"metric": "degree", "top": "5"}]])),
            ("normalized int", pack([0, 44, "query.centrality", [{"metric": "degree", "normalized": 1}]])),
            ("graph unknown", pack([0, 45, "query.centrality", [{"metric": "degree", "graph": "x"}]])),
            ("deadline 0", pack([0, 46, "query.centrality", [{"metric": "degree", "deadline_ms": 0}]])),
            ("min_confidence bad", pack([0, 47, "graph.stats", [{"min_confidence": "certain"}]])),
            ("as_of string", pack([0, 48, "graph.stats", [{"as_of": "recent"}]])),
            ("limit negative", pack([0, 49, "pair.list", [{"limit": -1}]])),
            ("coverage by bad", pack([0, 50, "query.coverage", [{"by": "planet"}]])),
            ("node not a map", pack([0, 51, "node.upsert", [{"node": "JP"}]])),
            ("node bad kind", pack([0, 52, "node.upsert", [{"node": {"id": "X1", "kind": "town",
                                                                     "name": "x", "country": "JP"}}]])),
            ("damping on degree", pack([0, 53, "query.centrality", [{"metric": "degree", "damping": 0.5}]])),
            ("cutoff on pagerank", pack([0, 54, "query.centrality", [{"metric": "pagerank", "cutoff": 2}]])),
            ("recommend without unit", pack([0, 55, "query.recommend", [{}]])),
            ("metrics if_epoch str", pack([0, 56, "metrics.get", [{"if_epoch": "1"}]])),
        ]
        for name, data in cases:
            with self.subTest(name):
                msgid = msgpack.unpackb(data, raw=False)[1]
                self.expect_error(data, "invalid_params", msgid=msgid)

    def test_not_found_and_conflict(self):
        self.expect_error(pack([0, 61, "node.get", [{"id": "XX-nowhere"}]]), "not_found", msgid=61)
        self.expect_error(pack([0, 62, "node.neighbors", [{"id": "XX-nowhere"}]]), "not_found", msgid=62)
        self.expect_error(pack([0, 63, "pair.delete", [{"a": "CN-430100", "b": "JP-nowhere"}]]),
                          "not_found", msgid=63)
        self.expect_error(pack([0, 64, "node.delete", [{"id": "XX-nowhere"}]]), "not_found", msgid=64)
        # Changsha has pairs: deleting it without cascade is a conflict.
        with MAIN.client() as c:
            before = c.call("graph.stats")
        self.expect_error(pack([0, 65, "node.delete", [{"id": "CN-430100"}]]), "conflict", msgid=65)
        with MAIN.client() as c:
            after = c.call("graph.stats")
            self.assertEqual(before, after, "a refused change altered the graph")
            self.assertEqual(c.call("node.get", {"id": "CN-430100"})["id"], "CN-430100")

    def with_limited_daemon(self, fn):
        with h.Daemon(args=["--max-request-bytes", "1024"]) as d:
            self.daemon = d
            try:
                fn()
                self.probe()
            finally:
                self.daemon = None

    def test_too_large(self):
        def run():
            # Just under the limit: served (then refused for the unknown key).
            small = pack([0, 71, "node.get", [{"id": "CN-430100", "x": [1000] * 10}]])
            self.assertLess(len(small), 1024)
            self.expect_error(small, "invalid_params", msgid=71)
            # Over the limit with many small integers: every declared length
            # is small and honest; only the total is too big.
            big = pack([0, 73, "server.ping", [{"pad": list(range(1000, 1600))}]])
            self.assertGreater(len(big), 1024)
            self.expect_error(big, "too_large", closes=True)
        self.with_limited_daemon(run)

    def test_too_large_request_made_of_strings(self):
        """A realistic oversize request: an import of 80 pairs (about 2 KB)
        against --max-request-bytes 1024. Every declared length in it is
        honest and small (an array of 80 maps, strings of 2..9 bytes), so it
        is well-formed MessagePack above the size limit: too_large (section
        2), whichever byte the limit happens to fall on."""
        def run():
            big = pack([0, 72, "import.batch",
                        [{"pairs": [{"a": "CN-430100", "b": "JP"}] * 80}]])
            self.assertGreater(len(big), 1024)
            self.expect_error(big, "too_large", closes=True)
            # The same with a single long name.
            big = pack([0, 74, "node.upsert", [{"node": {"id": "JP-x", "kind": "city",
                                                        "name": "n" * 1500, "country": "JP"}}]])
            self.expect_error(big, "too_large", closes=True)
        self.with_limited_daemon(run)

    def test_nesting_depth_limit(self):
        def nest(k):
            v = 1
            for _ in range(k):
                v = [v]
            return v
        # Envelope, params and options map take 3 levels; 13 more is 16 (the
        # default limit): accepted (and then refused as an unknown option).
        self.expect_error(pack([0, 81, "server.ping", [{"a": nest(13)}]]), "invalid_params", msgid=81)
        self.expect_error(pack([0, 82, "server.ping", [{"a": nest(14)}]]), "parse_error", closes=True)
        self.expect_error(b"\x91" * 1000 + b"\x01", "parse_error", closes=True)


class HostileHeaders(ProtoCase):
    CASES = [
        ("array32 0xffffffff", b"\xdd\xff\xff\xff\xff"),
        ("map32 0xffffffff", b"\xdf\xff\xff\xff\xff"),
        ("str32 0xffffffff", b"\xdb\xff\xff\xff\xff"),
        ("bin32 0xffffffff", b"\xc6\xff\xff\xff\xff"),
        ("ext32 0xffffffff", b"\xc9\xff\xff\xff\xff\x01"),
        ("array32 2^27", b"\xdd\x08\x00\x00\x00"),
        ("nested array32 x20", b"\xdd\x01\x00\x00\x00" * 20),
        ("nested array16 chain x24000", b"\xdc\xff\xff" * 24000),
        ("str32 inside a request", b"\x94\x00\x01\xdb\xff\xff\xff\xf0"),
        ("array32 as params", b"\x94\x00\x01" + pack("server.ping") + b"\xdd\x7f\xff\xff\xff"),
    ]

    def test_each_header_is_parse_error_and_close(self):
        for name, data in self.CASES:
            with self.subTest(name):
                t0 = time.monotonic()
                self.expect_error(data, "parse_error", closes=True)
                self.assertLess(time.monotonic() - t0, 3.0)

    def test_memory_does_not_grow_under_100_parallel_connections(self):
        pid = MAIN.pid
        # One warm-up round so allocator caches are in place.
        for name, data in self.CASES[:2]:
            self.expect_error(data, "parse_error", closes=True)
        rss0, vsz0 = h.proc_mem(pid)
        peak_rss, peak_vsz = rss0, vsz0
        for name, data in self.CASES:
            clients = [MAIN.client(timeout=10) for _ in range(100)]
            try:
                for c in clients:
                    c.send_bytes(data)
                rss, vsz = h.proc_mem(pid)
                peak_rss, peak_vsz = max(peak_rss, rss), max(peak_vsz, vsz)
                for c in clients:
                    self.assertTrue(c.read_all_until_close(5.0), name + ": not closed")
                    self.assertEqual(c.responses[0][0][0]["code"], "parse_error", name)
                rss, vsz = h.proc_mem(pid)
                peak_rss, peak_vsz = max(peak_rss, rss), max(peak_vsz, vsz)
            finally:
                for c in clients:
                    c.close()
        self.probe()
        rss1, vsz1 = h.proc_mem(pid)
        msg = "VmRSS %d -> peak %d -> %d KiB, VmSize %d -> peak %d -> %d KiB" % (
            rss0, peak_rss, rss1, vsz0, peak_vsz, vsz1)
        self.assertLess(peak_rss - rss0, h.rss_allowance_kib(16 * 1024), msg)
        self.assertLess(peak_vsz - vsz0, 64 * 1024, msg)
        self.assertLess(rss1 - rss0, h.rss_allowance_kib(8 * 1024), msg)

    def test_header_only_is_refused_without_waiting_for_the_bytes(self):
        # Send a str32 header declaring 100 KB inside a request and hold the
        # connection open: under the 1 MiB string limit and the 8 MiB message
        # limit, this is legitimately "more to come" -- the server must wait,
        # then serve it once complete.
        body = "y" * 100000
        data = pack([0, 91, "node.get", [{"id": body}]])
        cut = data.index(b"\xdb" + struct.pack(">I", len(body)))
        with MAIN.client(timeout=10) as c:
            c.send_bytes(data[:cut + 5])
            time.sleep(0.3)
            self.assertFalse(c.closed)
            c.send_bytes(data[cut + 5:])
            err, _ = c.wait_response(91)
            self.assertIn(err["code"], ("invalid_params", "not_found"))
        self.probe()


class Connections(ProtoCase):
    def test_half_close_after_requests_gets_every_reply(self):
        import socket as so
        with MAIN.client() as c:
            for i in range(1, 21):
                c.send_request("node.get" if i % 2 else "server.ping",
                               {"id": "CN-430100"} if i % 2 else None, msgid=i)
            c.sock.shutdown(so.SHUT_WR)
            self.assertTrue(c.read_all_until_close(5.0), "not closed after the half-close")
            self.assertEqual(sorted(c.order), list(range(1, 21)))
        self.probe()

    def test_half_close_after_more_requests_than_the_server_reads_at_once(self):
        # 1,000 pipelined requests are more than the 64 answers a client may
        # be owed before the server stops reading it: every one must still
        # be answered after the half-close, then the connection closed.
        import socket as so
        with MAIN.client() as c:
            data = b"".join(h.pack([0, i, "node.get", [{"id": "CN-430100"}]])
                            for i in range(1, 1001))
            c.send_bytes(data + b"\x94\x00")          # and half a message
            c.sock.shutdown(so.SHUT_WR)
            self.assertTrue(c.read_all_until_close(20.0), "not closed after the half-close")
            self.assertEqual(sorted(c.order), list(range(1, 1001)))
        self.probe()

    def test_client_that_does_not_read(self):
        """20,000 pipelined requests, replies unread for a while: the server
        holds back (it stops reading that client) without disturbing others,
        and every request is answered exactly once when the client reads."""
        n = 20000
        buf = bytearray()
        for i in range(1, n + 1):
            buf += pack([0, i, "node.get", [{"id": "CN-430100"}]])
        with MAIN.client(timeout=30) as c, MAIN.client(timeout=5) as other:
            c.sock.setblocking(False)
            sent = 0
            t_end = time.monotonic() + 3
            while sent < len(buf) and time.monotonic() < t_end:
                try:
                    sent += c.sock.send(buf[sent:sent + 65536])
                except BlockingIOError:
                    time.sleep(0.01)
            lat = []
            for _ in range(20):
                t0 = time.monotonic()
                self.assertEqual(other.call("server.ping"), "pong")
                lat.append(time.monotonic() - t0)
            self.assertLess(max(lat), 0.5, "another client waited behind the flood")
            c.sock.setblocking(True)
            c.sock.settimeout(30)
            if sent < len(buf):
                c.send_bytes(bytes(buf[sent:]))
            c.wait_responses(list(range(1, n + 1)), timeout=60)
            c.drain(0.2)
            self.assertEqual(len(c.order), n)
            self.assertTrue(all(len(v) == 1 and v[0][0] is None for v in c.responses.values()))
        self.probe()

    def test_churn_and_resets_leak_nothing(self):
        import socket as so
        pid = MAIN.pid

        def fds():
            return len(os.listdir("/proc/%d/fd" % pid))

        def churn():
            for i in range(1000):
                s = so.create_connection(("127.0.0.1", MAIN.port), timeout=5)
                if i % 2:
                    s.sendall(pack([0, 1, "pair.list", [{"limit": 10000}]]))
                if i % 4 == 1:
                    # RST instead of FIN, while the reply may be on its way.
                    s.setsockopt(so.SOL_SOCKET, so.SO_LINGER, struct.pack("ii", 1, 0))
                s.close()
            self.probe()
            deadline = time.monotonic() + 5
            while fds() > fd0 and time.monotonic() < deadline:
                time.sleep(0.05)

        h.ping_ok(MAIN.port)
        time.sleep(0.2)
        fd0 = fds()
        # The first round warms the allocator: replies are encoded on the
        # worker threads, whose malloc arenas keep their high-water mark.
        # A leak grows with every round, so the second round is measured.
        churn()
        rss0 = h.proc_mem(pid)[0]
        churn()
        rss1 = h.proc_mem(pid)[0]
        self.assertLessEqual(fds(), fd0, "file descriptors leaked")
        self.assertLess(rss1 - rss0, h.rss_allowance_kib(8 * 1024), "VmRSS grew from %d to %d KiB" % (rss0, rss1))

    def test_partial_message_times_out(self):
        with h.Daemon(args=["--message-timeout", "500"]) as d:
            self.daemon = d
            try:
                with d.client(timeout=10) as c:
                    msg = pack([0, 5, "server.ping", []])
                    t0 = time.monotonic()
                    c.send_bytes(msg[:4])
                    self.assertTrue(c.read_all_until_close(5.0), "a stuck half message kept the slot")
                    elapsed = time.monotonic() - t0
                    self.assertGreater(elapsed, 0.3)
                    self.assertLess(elapsed, 3.0)
                    self.assertNotIn(5, c.responses)
                    if c.order:
                        self.assertEqual(c.responses[c.order[0]][0][0]["code"], "timeout")
                # A connection that sends whole messages slowly is fine.
                with d.client(timeout=10) as c:
                    for i in range(3):
                        time.sleep(0.3)
                        self.assertEqual(c.request("server.ping", msgid=i + 1), (None, "pong"))
                # A stream whose every write ends inside the next message
                # (as a bulk sender's writes fall): each message completes
                # within 0.2 s, so none is late, though the buffer is never
                # empty for 1.6 s, three times the timeout.
                with d.client(timeout=10) as c:
                    msgs = [pack([0, i, "server.ping", []]) for i in range(1, 10)]
                    c.send_bytes(msgs[0] + msgs[1][:3])
                    for i in range(1, 8):
                        time.sleep(0.2)
                        c.send_bytes(msgs[i][3:] + msgs[i + 1][:3])
                    c.send_bytes(msgs[8][3:])
                    for i in range(1, 10):
                        self.assertEqual(c.wait_response(i), (None, "pong"), "request %d" % i)
                self.probe()
            finally:
                self.daemon = None

    def wait_connections(self, client, n, timeout=5.0):
        """Until server.info (asked on 'client') counts n connections. The
        server learns of a client's close only when its loop reads the EOF,
        so a slot freed by a just-closed socket (the harness's readiness
        probe, a closed client) is not yet free when close() returns."""
        deadline = time.monotonic() + timeout
        while True:
            got = client.call("server.info")["connections"]
            if got == n or time.monotonic() > deadline:
                self.assertEqual(got, n, "server.info connections")
                return
            time.sleep(0.01)

    def test_connection_limit(self):
        with h.Daemon(args=["--max-connections", "10"]) as d:
            self.daemon = d
            try:
                held = [d.client(timeout=5)]
                # Only then open the others: the readiness probe's slot is
                # free, so ten clients fit exactly.
                self.wait_connections(held[0], 1)
                for _ in range(9):
                    held.append(d.client(timeout=5))
                    self.assertEqual(held[-1].call("server.ping"), "pong")
                self.wait_connections(held[0], 10)
                extra = d.client(timeout=5)
                self.assertTrue(extra.read_all_until_close(3.0), "the 11th connection was kept")
                if extra.order:
                    self.assertEqual(extra.responses[extra.order[0]][0][0]["code"], "busy")
                extra.close()
                for c in held:      # the first ten are undisturbed
                    self.assertEqual(c.call("server.ping"), "pong")
                held.pop().close()
                self.wait_connections(held[0], 9)
                self.probe()        # a freed slot is reused
                for c in held:
                    c.close()
            finally:
                self.daemon = None


def generated_daemon(n_pairs=8000, seed=11):
    d = h.Daemon(empty=True).start()
    nodes, pairs = h.generated_graph(seed, n_pairs, n_cities=n_pairs // 2, n_provinces=80)
    with d.client(timeout=120) as c:
        h.load_batch(c, nodes, pairs)
    return d


class SlowQueries(ProtoCase):
    """A few thousand vertices: betweenness takes a second or more."""

    @classmethod
    def setUpClass(cls):
        cls.daemon = generated_daemon()
        cls.top = 1000

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()

    def slow_params(self, **kw):
        # A fresh 'top' each time, so the per-epoch cache never answers, and
        # a fresh 'as_of' (later than every pair: the same graph), so the
        # centrality score memo never answers either.
        SlowQueries.top += 1
        p = {"metric": "betweenness", "graph": "full", "top": SlowQueries.top,
             "as_of": 9999 - (SlowQueries.top - 1000), "deadline_ms": 120000}
        p.update(kw)
        return p

    def test_slow_query_takes_a_while(self):
        with self.daemon.client(timeout=60) as c:
            t0 = time.monotonic()
            res = c.call("query.centrality", self.slow_params())
            slow_s = time.monotonic() - t0
            self.assertGreater(len(res["items"]), 1000)
            self.assertGreater(slow_s, 0.3, "the 'slow' query is too fast to test with")

    def test_slow_query_does_not_hold_back_other_connection(self):
        with self.daemon.client(timeout=60) as slow, self.daemon.client(timeout=10) as fast:
            m = slow.send_request("query.centrality", self.slow_params())
            time.sleep(0.05)
            t0 = time.monotonic()
            self.assertEqual(fast.call("server.ping"), "pong")
            self.assertEqual(fast.call("node.get", {"id": "AA"})["id"], "AA")
            st = fast.call("graph.stats")
            lat = time.monotonic() - t0
            self.assertIn("epoch", st)
            self.assertLess(lat, 0.5, "ping/node.get/graph.stats waited for the slow query")
            self.assertNotIn(m, slow.responses, "slow query finished first; cannot judge")
            err, res = slow.wait_response(m)
            self.assertIsNone(err, err)

    def test_out_of_order_on_the_same_connection(self):
        with self.daemon.client(timeout=60) as c:
            m1 = c.send_request("query.centrality", self.slow_params())
            m2 = c.send_request("server.ping")
            m3 = c.send_request("node.get", {"id": "AB"})
            c.wait_responses([m2, m3], timeout=5)
            self.assertNotIn(m1, c.responses, "the slow reply came before the fast ones")
            c.wait_response(m1)
            self.assertEqual(c.order[-1], m1)
            self.assertIsNone(c.responses[m1][0][0])

    def test_timeout_deadline_1ms(self):
        with self.daemon.client(timeout=60) as c:
            t0 = time.monotonic()
            err, res = c.request("query.centrality", self.slow_params(deadline_ms=1))
            self.assertIsNotNone(err)
            self.assertEqual(err["code"], "timeout")
            self.assertIsNone(res)
            err, res = c.request("query.centrality", self.slow_params(deadline_ms=150))
            elapsed = time.monotonic() - t0
            self.assertEqual(err["code"], "timeout")
            self.assertLess(elapsed, 2.0, "the deadline was not honoured promptly")
            self.assertEqual(c.call("server.ping"), "pong")
            # A timed-out result is not cached as a success nor as an error:
            # the same options with a long deadline succeed.
            p = self.slow_params(deadline_ms=1)
            self.assertEqual(c.request("query.centrality", p)[0]["code"], "timeout")
            p["deadline_ms"] = 120000
            err, res = c.request("query.centrality", p)
            self.assertIsNone(err, err)
        self.probe()

    def test_cancel_notification(self):
        with self.daemon.client(timeout=60) as c:
            m = c.send_request("query.centrality", self.slow_params())
            time.sleep(0.1)
            t0 = time.monotonic()
            c.notify("cancel", [{"msgid": m}])
            err, res = c.wait_response(m, timeout=10)
            self.assertLess(time.monotonic() - t0, 2.0, "cancel took too long")
            self.assertIsNotNone(err)
            self.assertEqual(err["code"], "cancelled")
            self.assertEqual(c.call("server.ping"), "pong")

    def test_queued_query_honours_its_deadline(self):
        """B waits behind A on the query worker. B's deadline (200 ms) passes
        long before A ends: B must be answered 'timeout' then, not when the
        worker finally picks it up (section 5: deadline_ms)."""
        with self.daemon.client(timeout=60) as c:
            t0 = time.monotonic()
            a = c.send_request("query.centrality", self.slow_params())
            b = c.send_request("query.centrality", self.slow_params(deadline_ms=200))
            err, _ = c.wait_response(b)
            tb = time.monotonic() - t0
            self.assertEqual(err["code"], "timeout")
            c.wait_response(a)
            ta = time.monotonic() - t0
            self.assertEqual(c.order, [b, a],
                             "the timed-out query was answered after %.2f s, after the one ahead "
                             "of it (%.2f s); its deadline was 0.2 s" % (tb, ta))
            self.assertLess(tb, 1.5)

    def test_cancel_of_a_queued_query(self):
        with self.daemon.client(timeout=60) as c:
            t0 = time.monotonic()
            a = c.send_request("query.centrality", self.slow_params())
            b = c.send_request("query.centrality", self.slow_params())
            time.sleep(0.05)
            c.notify("cancel", [{"msgid": b}])
            err, _ = c.wait_response(b)
            tb = time.monotonic() - t0
            self.assertEqual(err["code"], "cancelled")
            c.wait_response(a)
            self.assertIsNone(c.responses[a][0][0])
            self.assertEqual(c.order, [b, a],
                             "the cancelled query was answered after %.2f s, after the one ahead "
                             "of it" % tb)

    def test_progress_notifications(self):
        with self.daemon.client(timeout=60) as c:
            m = c.send_request("query.centrality", self.slow_params(progress=True))
            err, res = c.wait_response(m)
            self.assertIsNone(err, err)
            prog = [p for name, p in c.notifications if name == "progress"]
            self.assertGreater(len(prog), 0, "no progress notification for a query of a second or more")
            last = -1
            for p in prog:
                self.assertEqual(len(p), 1)
                self.assertEqual(p[0]["msgid"], m)
                self.assertLessEqual(p[0]["done"], p[0]["total"])
                self.assertGreaterEqual(p[0]["done"], last)
                last = p[0]["done"]
            # Without progress: none.
            c.notifications.clear()
            c.call("query.centrality", self.slow_params())
            self.assertEqual([n for n in c.notifications if n[0] == "progress"], [])

    def test_change_during_a_query(self):
        """The running query answers for the epoch it started on; the cache
        never serves that answer for the next epoch."""
        with self.daemon.client(timeout=60) as c, self.daemon.client(timeout=60) as w:
            e0 = c.call("server.info")["epoch"]
            p = self.slow_params()
            m = c.send_request("query.centrality", p)
            time.sleep(0.05)
            e1 = w.call("node.upsert", {"node": {"id": "AA-new-town", "kind": "city", "name": "New",
                                                 "country": "AA"}})["epoch"]
            self.assertGreater(e1, e0)
            err, res = c.wait_response(m)
            self.assertIsNone(err, err)
            self.assertEqual(res["epoch"], e0)
            again = c.call("query.centrality", p)
            self.assertEqual(again["epoch"], e1, "a result of the old epoch was served from the cache")
            w.call("node.delete", {"id": "AA-new-town"})

    def test_cancel_from_another_connection_does_not_cancel(self):
        with self.daemon.client(timeout=60) as a, self.daemon.client() as b:
            m = a.send_request("query.centrality", self.slow_params(), msgid=31337)
            time.sleep(0.05)
            b.notify("cancel", [{"msgid": 31337}])
            self.assertEqual(b.call("server.ping"), "pong")
            err, res = a.wait_response(m)
            self.assertIsNone(err, "another connection's cancel stopped this query: %r" % (err,))

    def test_half_close_while_a_query_runs(self):
        import socket as so
        with self.daemon.client(timeout=60) as c:
            m = c.send_request("query.centrality", self.slow_params())
            c.sock.shutdown(so.SHUT_WR)
            self.assertTrue(c.read_all_until_close(60.0))
            self.assertEqual(c.order, [m])
            self.assertIsNone(c.responses[m][0][0])

    def test_client_disconnect_during_query_keeps_server_up(self):
        c = self.daemon.client(timeout=60)
        c.send_request("query.centrality", self.slow_params())
        time.sleep(0.05)
        c.close()
        self.probe()
        with self.daemon.client(timeout=60) as c2:
            self.assertIn("items", c2.call("query.centrality", self.slow_params(metric="degree")))


if __name__ == "__main__":
    unittest.main()
