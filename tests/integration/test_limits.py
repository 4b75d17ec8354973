"""Resource limits and abuse (docs/protocol.md, "Limits"; docs/security.md):
slowloris drip, desync flood,
pipelining without reading, RST mid-reply, half-close, the connection
limit, EMFILE, connection churn, idle timeout, query deadlines and the
bounded query queue. After each case a separate client's ping and one
query still answer. Loopback only; every loop bounded in count and time."""

import os
import resource
import socket
import struct
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tnharness as h  # noqa: E402
import sechelp as s  # noqa: E402
from tnharness import pack  # noqa: E402

MAIN = None        # built-in dataset, defaults
PING = pack([0, 7, "server.ping", []])


def setUpModule():
    global MAIN
    MAIN = s.SecDaemon([]).start()


def tearDownModule():
    MAIN.stop()


def note(fmt, *args):
    print("\n" + (fmt % args), file=sys.stderr)


class LimitCase(unittest.TestCase):
    daemon = None

    def d(self):
        return self.daemon or MAIN

    def probe(self):
        problem = s.probe(self.d())
        self.assertIsNone(problem, problem)

    def tearDown(self):
        self.probe()
        if self.d() is not MAIN:
            problem = s.probe(MAIN)
            self.assertIsNone(problem, problem)


def raw(port, timeout=10.0):
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def rst_close(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def ping_latencies(port, seconds, every=0.01, out=None, stop=None):
    """Ping every `every` s for `seconds` s on one connection; latencies."""
    lat = out if out is not None else []
    with h.RawClient(port, timeout=5) as c:
        end = time.monotonic() + seconds
        while time.monotonic() < end and not (stop and stop.is_set()):
            t0 = time.monotonic()
            err, res = c.request("server.ping", timeout=5)
            if err is not None or res != "pong":
                raise AssertionError("probe ping: %r %r" % (err, res))
            lat.append(time.monotonic() - t0)
            time.sleep(every)
    return lat


class PingThread(threading.Thread):
    """A probe client pinging every 10 ms in the background."""

    def __init__(self, port, seconds):
        super().__init__(daemon=True)
        self.port, self.seconds = port, seconds
        self.lat, self.error = [], None
        self.stop = threading.Event()

    def run(self):
        try:
            ping_latencies(self.port, self.seconds, out=self.lat, stop=self.stop)
        except Exception as e:        # reported by the test
            self.error = e


# ---- P11: slowloris, P12: desync flood ----

class SlowSenders(LimitCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = s.SecDaemon(["--message-timeout", "1000"]).start()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()

    def drip(self, data, every, limit_s=6.0):
        """Send data one byte every `every` s, listening in between. Returns
        (seconds from the first byte to the close or None, bytes received,
        bytes sent)."""
        sock = raw(self.daemon.port)
        got = bytearray()
        sent = 0
        t_first = None
        closed_at = None
        try:
            for i in range(len(data)):
                if got:
                    break              # the server answered: stop sending
                try:
                    sock.sendall(data[i:i + 1])
                except (BrokenPipeError, ConnectionResetError):
                    closed_at = time.monotonic()
                    break
                sent += 1
                if t_first is None:
                    t_first = time.monotonic()
                if time.monotonic() - t_first > limit_s:
                    break
                sock.settimeout(every)
                try:
                    chunk = sock.recv(65536)
                    if not chunk:
                        closed_at = time.monotonic()
                        break
                    got += chunk
                except socket.timeout:
                    pass
                except ConnectionResetError:
                    closed_at = time.monotonic()
                    break
            if closed_at is None:
                rest, closed, _ = s.read_until_closed(sock, 3.0)
                got += rest
                if closed:
                    closed_at = time.monotonic()
        finally:
            sock.close()
        return (closed_at - t_first if closed_at else None), bytes(got), sent

    def test_p11_slowloris_drip_closed_at_message_deadline(self):
        data = pack([0, 1, "server.ping", [{"padding": "p" * 40}]])   # ~60 bytes: 12 s at 5/s
        t_close, got, sent = self.drip(data, 0.2)
        note("P11 drip: closed %.3f s after the first byte (%d bytes sent)",
             t_close or -1, sent)
        self.assertIsNotNone(t_close, "a slowloris drip was never closed")
        self.assertGreater(t_close, 0.5)
        self.assertLess(t_close, 1.5)
        self.assertLess(sent, 10)
        self.assertEqual(s.error_frames(got), ["timeout"], s.unpack_all(got))

    def test_p11_half_request_then_silence(self):
        sock = raw(self.daemon.port)
        try:
            data = pack([0, 1, "graph.stats", []])
            t0 = time.monotonic()
            sock.sendall(data[:len(data) // 2])
            got, closed, _ = s.read_until_closed(sock, 4.0)
            dt = time.monotonic() - t0
        finally:
            sock.close()
        self.assertTrue(closed, "a half-sent request held the connection")
        self.assertGreater(dt, 0.5)
        self.assertLess(dt, 1.5)
        self.assertEqual(s.error_frames(got), ["timeout"])

    def test_p11_deadline_is_per_message(self):
        # Two requests, each dripped in 0.75 s (< 1 s): both answered,
        # although the connection lives 1.5 s.
        sock = raw(self.daemon.port)
        try:
            for msgid in (1, 2):
                data = pack([0, msgid, "server.ping", []])
                for i in range(len(data)):
                    sock.sendall(data[i:i + 1])
                    time.sleep(0.75 / len(data))
                sock.settimeout(3)
                reply = sock.recv(65536)
                self.assertEqual(s.unpack_all(reply), [[1, msgid, None, "pong"]])
        finally:
            sock.close()

    def test_p11_many_drippers_do_not_disturb_others(self):
        socks = [raw(self.daemon.port) for _ in range(20)]
        try:
            for sk in socks:
                sk.sendall(b"\x94")
            lat = ping_latencies(self.daemon.port, 1.5)
            closed = 0
            for sk in socks:
                got, c, _ = s.read_until_closed(sk, 2.0)
                closed += c
        finally:
            for sk in socks:
                sk.close()
        self.assertEqual(closed, 20)
        self.assertLess(s.percentile(lat, 0.99), 0.1)

    def flood(self, prefix, chunk=b"A" * 1024, seconds=8.0, pace=0.0, cap=64 << 20):
        """Send prefix then 1 KiB chunks until the server stops taking them
        (closed, or a 2 s blocked send), for at most `seconds` s. Returns
        (bytes accepted, seconds, closed, reply bytes)."""
        sock = raw(self.daemon.port)
        sent, closed = 0, False
        t0 = time.monotonic()
        got = bytearray()
        try:
            sock.sendall(prefix)
            sent += len(prefix)
            sock.settimeout(2.0)
            while time.monotonic() - t0 < seconds and sent < cap:
                try:
                    sock.sendall(chunk)
                    sent += len(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    closed = True
                    break
                except socket.timeout:
                    break              # the server stopped reading: bounded
                if pace:
                    time.sleep(pace)
            elapsed = time.monotonic() - t0
            rest, c2, _ = s.read_until_closed(sock, 3.0)
            got += rest
            closed = closed or c2
        finally:
            sock.close()
        return sent, elapsed, closed, bytes(got)

    def test_p12_desync_flood_huge_declared_string(self):
        rss0 = s.rss_kb(self.daemon.pid)
        sent, elapsed, closed, got = self.flood(b"\x00" + b"\xdb\xff\xff\xff\xff")
        rss1 = s.rss_kb(self.daemon.pid)
        note("P12 huge str32: %d bytes accepted in %.2f s, closed %s, replies %s, dRSS %d KiB",
             sent, elapsed, closed, s.error_frames(got), rss1 - rss0)
        self.assertTrue(closed)
        self.assertLess(sent, 16 << 20)
        self.assertLess(elapsed, 5.0)
        codes = s.error_frames(got)
        self.assertIn("parse_error", codes)
        self.assertLess(rss1 - rss0, h.rss_allowance_kib(8 << 10))

    def test_p12_desync_flood_legal_length_never_completes(self):
        # A legal declared str32 (1 MiB) whose body trickles in at ~200 KiB/s:
        # the message deadline (1 s) ends it, not the bytes.
        rss0 = s.rss_kb(self.daemon.pid)
        sent, elapsed, closed, got = self.flood(b"\x00" + b"\xdb" + struct.pack(">I", 1 << 20),
                                                pace=0.005)
        rss1 = s.rss_kb(self.daemon.pid)
        note("P12 paced str32: %d bytes accepted in %.2f s, closed %s, replies %s, dRSS %d KiB",
             sent, elapsed, closed, s.error_frames(got), rss1 - rss0)
        self.assertTrue(closed)
        self.assertLess(elapsed, 3.0)
        self.assertLess(sent, 1 << 20)
        self.assertEqual(s.error_frames(got)[-1], "timeout")
        self.assertLess(rss1 - rss0, h.rss_allowance_kib(8 << 10))

    def test_p12_flood_of_tiny_messages_is_bounded(self):
        # 0xc0 (nil) is a whole message that is not a request: each gets an
        # invalid_request we never read. Backpressure must stop reading us.
        rss0 = s.rss_kb(self.daemon.pid)
        sent, elapsed, closed, _ = self.flood(b"\x00", chunk=b"\xc0" * 1024, seconds=10.0)
        rss1 = s.rss_kb(self.daemon.pid)
        note("P12 nil flood: %d bytes accepted in %.2f s, closed %s, dRSS %d KiB",
             sent, elapsed, closed, rss1 - rss0)
        self.assertLess(sent, 64 << 20, "the server kept reading a client that never reads")
        self.assertLess(rss1 - rss0, h.rss_allowance_kib(128 << 10))


# ---- P13: pipelining without reading; P14: RST; P15: half-close ----

class Pipelining(LimitCase):
    def test_p13_pipeline_10k_without_reading(self):
        d = MAIN
        n = 10000
        blob = b"".join(pack([0, i, "node.list", [{"limit": 50}]]) for i in range(1, n + 1))
        sock = raw(d.port, timeout=60)
        rss0 = s.rss_kb(d.pid)
        with h.RawClient(d.port, timeout=10) as mc:
            req0 = mc.call("metrics.get")["server"]["requests_total"]
        done = threading.Event()
        result = {}

        def writer():
            try:
                sock.sendall(blob)
                result["sent"] = True
            except OSError as e:
                result["error"] = e
            done.set()

        wt = threading.Thread(target=writer, daemon=True)
        wt.start()
        probe = PingThread(d.port, 3.0)
        probe.start()
        rss_max = rss0
        t_end = time.monotonic() + 3.2
        while time.monotonic() < t_end:
            rss_max = max(rss_max, s.rss_kb(d.pid))
            time.sleep(0.05)
        probe.join(10)
        self.assertIsNone(probe.error, probe.error)
        with h.RawClient(d.port, timeout=10) as mc:
            served = mc.call("metrics.get")["server"]["requests_total"] - req0 - len(probe.lat) - 1
        p99 = s.percentile(probe.lat, 0.99)
        blocked = not done.is_set()
        # Now read everything: the writer must be unblocked (or we must have
        # been disconnected), within a bound.
        import msgpack
        unp = msgpack.Unpacker(raw=False, strict_map_key=False, max_buffer_size=1 << 30)
        seen = {}
        sock.settimeout(5)
        t0 = time.monotonic()
        disconnected = False
        while len(seen) < n and time.monotonic() - t0 < 60:
            try:
                chunk = sock.recv(1 << 20)
            except socket.timeout:
                break
            except ConnectionResetError:
                disconnected = True
                break
            if not chunk:
                disconnected = True
                break
            unp.feed(chunk)
            for m in unp:
                seen[m[1]] = seen.get(m[1], 0) + 1
                rss_max = max(rss_max, s.rss_kb(d.pid)) if len(seen) % 1000 == 0 else rss_max
        drain_s = time.monotonic() - t0
        wt.join(10)
        sock.close()
        note("P13: writer blocked while not reading: %s; requests served while not reading: %d of "
             "%d; probe pings %d, p99 %.1f ms, max %.1f ms; "
             "RSS %d -> max %d KiB (+%d); %d/%d answers read back in %.1f s; disconnected %s",
             blocked, served, n, len(probe.lat), p99 * 1000, max(probe.lat) * 1000, rss0, rss_max,
             rss_max - rss0, len(seen), n, drain_s, disconnected)
        self.assertGreater(len(probe.lat), 50)
        # About 50 MB of answers were asked for: the server must have stopped
        # reading (backpressure) long before serving them all.
        self.assertLess(served, n // 2, "the server kept reading a client that does not read")
        self.assertLess(p99, 0.1, "another client's ping p99 while one client pipelines")
        self.assertLess(rss_max - rss0, h.rss_allowance_kib(64 << 10), "server RSS grew by more than 64 MiB")
        self.assertTrue(done.is_set(), "the pipelining writer was never unblocked")
        if not disconnected:
            self.assertEqual(len(seen), n, "answers missing")
            self.assertTrue(all(v == 1 for v in seen.values()), "duplicate answers")

    def test_p14_rst_mid_reply_200_loops(self):
        d = MAIN
        fd0 = s.fd_count(d.pid)
        rss0 = s.rss_kb(d.pid)
        big = pack([0, 1, "node.list", [{"limit": 10000}]]) * 8        # ~200 KB of replies
        for i in range(200):
            sock = raw(d.port)
            sock.sendall(big)
            if i % 3 == 1:
                sock.recv(1000)            # part of the first reply
            elif i % 3 == 2:
                time.sleep(0.002)
            rst_close(sock)
        ok = s.wait_until(lambda: s.fd_count(d.pid) <= fd0, 5.0)
        fd1 = s.fd_count(d.pid)
        rss1 = s.rss_kb(d.pid)
        note("P14: 200 RSTs mid-reply: fds %d -> %d, RSS %d -> %d KiB", fd0, fd1, rss0, rss1)
        self.assertTrue(d.alive())
        self.assertTrue(ok, "fd count %d did not come back to %d" % (fd1, fd0))
        self.assertLess(rss1 - rss0, h.rss_allowance_kib(16 << 10))

    def test_p15_half_close_after_requests(self):
        sock = raw(MAIN.port)
        try:
            sock.sendall(pack([0, 1, "server.ping", []]) + pack([0, 2, "graph.stats", []])
                         + pack([0, 3, "query.centrality", [{"metric": "betweenness", "top": 3}]]))
            sock.shutdown(socket.SHUT_WR)
            got, closed, dt = s.read_until_closed(sock, 10.0)
        finally:
            sock.close()
        msgs = s.unpack_all(got)
        self.assertTrue(closed, "not closed after the answers to a half-closed client")
        self.assertEqual(sorted(m[1] for m in msgs), [1, 2, 3], msgs)
        self.assertTrue(all(m[2] is None for m in msgs), msgs)
        self.assertLess(dt, 10.0)

    def test_p15_half_close_with_nothing_owed(self):
        sock = raw(MAIN.port)
        try:
            sock.shutdown(socket.SHUT_WR)
            got, closed, dt = s.read_until_closed(sock, 3.0)
        finally:
            sock.close()
        self.assertTrue(closed)
        self.assertEqual(got, b"")


# ---- C1: connection limit ----

class ConnectionLimit(LimitCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = s.SecDaemon(["--max-connections", "10"]).start()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()

    def test_c1_open_60_exactly_10_work(self):
        d = self.daemon
        existing = [h.RawClient(d.port, timeout=5) for _ in range(5)]
        socks = []
        try:
            for c in existing:
                self.assertEqual(c.call("server.ping"), "pong")
            socks = [raw(d.port, timeout=5) for _ in range(55)]
            # Refused ones get a busy frame and a close without our asking.
            refused, busy_frames, live = 0, 0, []
            for sk in socks:
                got, closed, _ = s.read_until_closed(sk, 0.3)
                if closed:
                    refused += 1
                    codes = s.error_frames(got)
                    busy_frames += codes == ["busy"]
                else:
                    self.assertEqual(got, b"")
                    live.append(sk)
            working = 0
            for sk in live:
                sk.sendall(PING)
                sk.settimeout(5)
                if s.unpack_all(sk.recv(4096)) == [[1, 7, None, "pong"]]:
                    working += 1
            lat = []
            for c in existing:
                t0 = time.monotonic()
                self.assertEqual(c.call("server.ping"), "pong")
                lat.append(time.monotonic() - t0)
            note("C1: 5 existing + 55 new with a limit of 10: %d new work, %d refused "
                 "(%d with a busy frame); existing clients' max ping %.1f ms",
                 working, refused, busy_frames, max(lat) * 1000)
            self.assertEqual(working + len(existing), 10)
            self.assertEqual(refused, 50)
            self.assertEqual(busy_frames, 50, "refused connections should get a busy frame")
            # A freed slot is usable again.
            existing.pop().close()
            ok = s.wait_until(lambda: s.probe(d) is None, 3.0, step=0.1)
            self.assertTrue(ok, "a freed slot was not reusable")
        finally:
            for sk in socks:
                sk.close()
            for c in existing:
                c.close()
        self.assertTrue(s.wait_until(lambda: s.probe(d) is None, 3.0, step=0.1))
        log = d.log()
        self.assertIn("limit of 10 reached", log)


# ---- C2: EMFILE ----

def low_nofile():
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))


class Emfile(LimitCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = s.SecDaemon([], preexec_fn=low_nofile).start()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()

    def test_c2_emfile_no_busy_loop_and_recovery(self):
        d = self.daemon
        with open("/proc/%d/limits" % d.pid) as f:
            self.assertRegex(f.read(), r"Max open files\s+64\s+64")
        keeper = h.RawClient(d.port, timeout=5)
        socks = []
        try:
            self.assertEqual(keeper.call("server.ping"), "pong")
            log0 = len(d.log().splitlines())
            for _ in range(100):
                socks.append(raw(d.port, timeout=5))
            time.sleep(0.3)
            storm = 3.0
            cpu0, t0 = s.cpu_seconds(d.pid), time.monotonic()
            lat = []
            while time.monotonic() - t0 < storm:
                t1 = time.monotonic()
                self.assertEqual(keeper.call("server.ping"), "pong")
                lat.append(time.monotonic() - t1)
                time.sleep(0.05)
            cpu1, t1 = s.cpu_seconds(d.pid), time.monotonic()
            share = (cpu1 - cpu0) / (t1 - t0)
            log_lines = d.log().splitlines()[log0:]
            accept_lines = [ln for ln in log_lines if "accept" in ln]
            fds = s.fd_count(d.pid)
            # Free 50 descriptors: the server must take the waiting
            # connections and answer them.
            t_free = time.monotonic()
            for sk in socks[:50]:
                sk.close()
            rest = socks[50:]
            answered = 0
            for sk in rest:
                sk.settimeout(5)
                try:
                    sk.sendall(PING)
                    if s.unpack_all(sk.recv(4096)) == [[1, 7, None, "pong"]]:
                        answered += 1
                except OSError:
                    pass
            recover_s = time.monotonic() - t_free
            note("C2: under RLIMIT_NOFILE 64 with 100 connections: server fds %d, CPU %.1f%% of "
                 "wall over %.1f s, %d accept log lines (%.1f/s), keeper max ping %.1f ms; after "
                 "freeing 50: %d/50 waiting connections answered in %.2f s",
                 fds, share * 100, t1 - t0, len(accept_lines), len(accept_lines) / (t1 - t0),
                 max(lat) * 1000, answered, recover_s)
            self.assertLess(share, 0.30, "busy loop on EMFILE")
            self.assertGreater(len(accept_lines), 0, "EMFILE was never hit (limit not in force?)")
            self.assertLess(len(accept_lines) / (t1 - t0), 20, "log flood on EMFILE")
            self.assertLess(max(lat), 0.2)
            self.assertEqual(answered, 50, "the server did not accept again after fds freed")
        finally:
            for sk in socks:
                sk.close()
            keeper.close()
        self.assertTrue(s.wait_until(lambda: s.probe(d) is None, 5.0, step=0.2))


# ---- C3: churn; C4: idle ----

class Churn(LimitCase):
    def test_c3_2000_connect_close(self):
        d = MAIN
        for _ in range(50):                          # warm up allocator and caches
            raw(d.port).close()
        s.wait_until(lambda: s.probe(d) is None, 2.0)
        time.sleep(0.2)
        fd0, rss0 = s.fd_count(d.pid), s.rss_kb(d.pid)
        t0 = time.monotonic()
        for i in range(2000):
            sk = raw(d.port)
            k = i % 4
            if k == 1:
                sk.sendall(PING)
                sk.recv(100)
            elif k == 2:
                sk.sendall(PING[:5])                 # a partial message, then go
            if k == 3:
                rst_close(sk)
            else:
                sk.close()
        churn_s = time.monotonic() - t0
        ok = s.wait_until(lambda: s.fd_count(d.pid) <= fd0, 5.0)
        fd1, rss1 = s.fd_count(d.pid), s.rss_kb(d.pid)
        note("C3: 2000 connect+close in %.1f s: fds %d -> %d, RSS %d -> %d KiB (%+d)",
             churn_s, fd0, fd1, rss0, rss1, rss1 - rss0)
        self.assertTrue(ok, "fd leak: %d -> %d" % (fd0, fd1))
        self.assertLess(rss1 - rss0, h.rss_allowance_kib(4 << 10), "RSS grew by more than 4 MiB")


class Idle(LimitCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = s.SecDaemon(["--idle-timeout", "1"]).start()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()

    def test_c4_idle_connection_closed(self):
        socks = [raw(self.daemon.port) for _ in range(20)]
        t0 = time.monotonic()
        times = []
        try:
            for sk in socks:
                got, closed, _ = s.read_until_closed(sk, 4.0 - (time.monotonic() - t0))
                self.assertTrue(closed, "idle connection not closed")
                self.assertEqual(got, b"")
                times.append(time.monotonic() - t0)
        finally:
            for sk in socks:
                sk.close()
        note("C4: 20 idle connections closed after %.2f..%.2f s (timeout 1 s)", min(times), max(times))
        self.assertGreater(min(times), 0.8)
        self.assertLess(max(times), 2.5)

    def test_c4_idle_after_activity(self):
        with h.RawClient(self.daemon.port, timeout=5) as c:
            for i in range(6):                       # 2.5 s of activity
                if i:
                    time.sleep(0.5)
                self.assertEqual(c.call("server.ping"), "pong")
            t0 = time.monotonic()
            self.assertTrue(c.read_all_until_close(4.0))
            dt = time.monotonic() - t0
        self.assertGreater(dt, 0.8)
        self.assertLess(dt, 2.5)

    def test_c4_subscribed_connection_stays(self):
        with h.RawClient(self.daemon.port, timeout=5) as sub, \
                h.RawClient(self.daemon.port, timeout=5) as idle:
            self.assertEqual(sub.call("metrics.subscribe"), {"subscribed": True})
            time.sleep(3.0)
            self.assertTrue(idle.read_all_until_close(0.5), "the idle one should be gone by now")
            self.assertEqual(sub.call("server.ping"), "pong", "subscribed connection was closed")
            # And it still gets events.
            with h.RawClient(self.daemon.port, timeout=5) as w:
                w.call("node.upsert", {"node": {"id": "FR-idle-test", "kind": "city",
                                                "name": "Idle", "country": "FR"}})
            sub.wait_notification("event", timeout=5)


# ---- Q1: deadlines and the bounded queue ----

class Queries(LimitCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = s.SecDaemon(["--max-queued", "2"], empty=True).start()
        nodes, pairs = h.generated_graph(21, 12000, n_cities=6000, n_provinces=80)
        with cls.daemon.client(timeout=120) as c:
            h.load_batch(c, nodes, pairs)
        cls.top = 1000

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()

    def slow(self, deadline_ms):
        # A fresh key: never a cache hit; a fresh as_of (later than every
        # pair, so the same graph): never a centrality score-memo hit.
        Queries.top += 1
        return {"metric": "betweenness", "graph": "full", "top": Queries.top,
                "as_of": 9999 - Queries.top % 5000, "deadline_ms": deadline_ms}

    def test_q1_deadline_while_probe_pings(self):
        d = self.daemon
        probe = PingThread(d.port, 30.0)
        probe.start()
        time.sleep(0.2)
        results = []
        try:
            with d.client(timeout=10) as c:
                for _ in range(3):
                    t0 = time.monotonic()
                    err, res = c.request("query.centrality", self.slow(200))
                    results.append((time.monotonic() - t0, (err or {}).get("code")))
        finally:
            time.sleep(0.2)
            probe.stop.set()
            probe.join(10)
        self.assertIsNone(probe.error, probe.error)
        lat = probe.lat
        note("Q1: betweenness deadline 200 ms answered %s; probe %d pings, p99 %.1f ms, max %.1f ms",
             ", ".join("%s in %.0f ms" % (code, t * 1000) for t, code in results),
             len(lat), s.percentile(lat, 0.99) * 1000, max(lat) * 1000)
        for t, code in results:
            self.assertEqual(code, "timeout")
            self.assertLess(t, 1.0)
        self.assertGreater(len(lat), 20)
        self.assertLess(max(lat), 0.1, "the event loop stalled during a query")

    def test_q_result_cache_memory_is_bounded(self):
        # A reader asking for many distinct large results (here: the whole
        # degree ranking, ~290 KB encoded, with a different 'top' each time
        # so that every answer is a new cache entry) must not be able to
        # grow the server without bound: the per-epoch cache needs a byte
        # budget, not only a count (2048 entries).
        d = self.daemon
        with d.client(timeout=60) as c:
            c.call("query.centrality", {"metric": "degree", "graph": "full", "top": 6999})
            rss0 = s.rss_kb(d.pid)
            t0 = time.monotonic()
            for k in range(100):
                res = c.call("query.centrality", {"metric": "degree", "graph": "full",
                                                  "top": 7000 + k})
                self.assertGreater(len(res["items"]), 6000)
                if time.monotonic() - t0 > 60:
                    break
            grown = s.rss_kb(d.pid) - rss0
        note("Q cache: %d distinct large results grew the server's RSS by %d MiB", k + 1,
             grown >> 10)
        self.assertLess(grown, 128 << 10,
                        "100 cached ~290 KB results grew RSS by %d MiB (limit 128 MiB)"
                        % (grown >> 10))

    def test_q1_busy_when_queue_full(self):
        d = self.daemon
        conns = [d.client(timeout=20) for _ in range(4)]
        try:
            sent = []
            for c in conns:
                for _ in range(3):
                    sent.append((c, c.send_request("query.centrality", self.slow(3000))))
            # While the queue is full, one more is refused at once.
            with d.client(timeout=20) as extra:
                t1 = time.monotonic()
                extra_code = extra.error_code("query.centrality", self.slow(3000))
                extra_s = time.monotonic() - t1
            codes = []
            for c, m in sent:
                err, res = c.wait_response(m, timeout=20)
                codes.append((err or {}).get("code"))
            counts = {k: codes.count(k) for k in set(codes)}
            note("Q1 busy: 12 slow queries from 4 connections with --max-queued 2: %s", counts)
            self.assertEqual(len(codes), 12)
            self.assertGreaterEqual(counts.get("busy", 0), 1, counts)
            self.assertLessEqual(counts.get("busy", 0), 11, counts)
            self.assertTrue(set(codes) <= {"busy", "timeout", None}, counts)
            # Busy is an immediate answer, not a wait.
            self.assertEqual(extra_code, "busy")
            self.assertLess(extra_s, 1.0)
            self.assertEqual(conns[0].call("server.ping"), "pong")
        finally:
            for c in conns:
                c.close()


if __name__ == "__main__":
    unittest.main()
