#!/usr/bin/python3
"""igraph worker processes (--workers N): a crashed worker answers
`internal` and the daemon goes on; deadline and cancel kill the worker
and its parts; two slow queries run at the same time; a re-rank at the
same epoch is answered from the daemon's score memo without a worker;
scores split over workers equal the single-process ones (--workers 0)
and python-igraph's; whole metrics run in a resident worker per igraph
thread, which stays from one epoch to the next and is replaced after a
crash, a deadline or a cancel."""

import math
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tnharness as h  # noqa: E402
import igraph  # noqa: E402

METRICS = ("betweenness", "closeness", "harmonic", "pagerank", "eigenvector", "constraint")


def all_children(pid):
    """Live child processes of pid (all threads' children)."""
    out = []
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                out += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return out


def is_resident(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().split(b"\0")[1:2] == [b"--query-worker"]
    except OSError:
        return False


def children(pid):
    """The per-query children (and their parts) of pid, alive now."""
    return [c for c in all_children(pid) if not is_resident(c)]


def resident_workers(pid):
    """pid's resident query workers (qwarm.h), alive now."""
    return sorted(c for c in all_children(pid) if is_resident(c))


def wait_resident(pid, n, within=20.0):
    """pid's resident workers once there are n (a worker shows as one only
    after its exec, which takes a while in a sanitizer build)."""
    t_end = time.monotonic() + within
    while time.monotonic() < t_end:
        w = resident_workers(pid)
        if len(w) == n:
            return w
        time.sleep(0.02)
    return resident_workers(pid)


def scores(c, metric, graph, **extra):
    opts = {"metric": metric, "graph": graph, "top": 100000, "deadline_ms": 600000}
    opts.update(extra)
    return {it["id"]: it["score"] for it in c.call("query.centrality", opts, timeout=600)["items"]}


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


class Crash(unittest.TestCase):
    def test_worker_crash_answers_internal_and_daemon_serves_on(self):
        os.environ["TN_TEST_WORKER_ABORT_TOP"] = "77"
        os.environ["TN_TEST_PART_ABORT_TOP"] = "78"
        try:
            d = h.Daemon(args=["--workers", "2", "--test-hooks"]).start()
        finally:
            del os.environ["TN_TEST_WORKER_ABORT_TOP"], os.environ["TN_TEST_PART_ABORT_TOP"]
        try:
            with d.client() as c:
                for top in (77, 78):
                    err, res = c.request("query.centrality", {"metric": "betweenness", "top": top})
                    self.assertIsNotNone(err, "top %d should have crashed its worker" % top)
                    self.assertEqual(err["code"], "internal")
                    self.assertTrue(d.alive())
                    c.call("server.ping")            # raises on an error reply
                # The next query gets a fresh worker and its answer.
                res = c.call("query.centrality", {"metric": "betweenness", "top": 5})
                self.assertEqual(len(res["items"]), 5)
                self.assertEqual(children(d.pid), [])
            self.assertIn("died of signal", d.log())
        finally:
            d.stop()

    def test_child_stuck_at_start_is_replaced(self):
        """A query's child that never starts (neither writes nor uses CPU)
        is killed after 2 s and forked again; the query is answered."""
        os.environ["TN_TEST_WORKER_STUCK_TOP"] = "55"
        try:
            d = h.Daemon(args=["--workers", "2", "--test-hooks"]).start()
        finally:
            del os.environ["TN_TEST_WORKER_STUCK_TOP"]
        try:
            with d.client(timeout=60) as c:
                t0 = time.monotonic()
                res = c.call("query.centrality", {"metric": "betweenness", "top": 55})
                took = time.monotonic() - t0
                self.assertEqual(len(res["items"]), 55)
                self.assertGreater(took, 1.9, "answered before the stuck child was found")
                self.assertEqual(children(d.pid), [])
            # At least the first fork; a later one too only on a machine so
            # loaded that a child got no CPU for 2 s (then replaced as well).
            self.assertGreaterEqual(d.log().count("stuck at its start; starting another"), 1,
                                    d.log())
            with h.Daemon(args=["--workers", "0"]) as d0, d0.client() as c0:
                want = c0.call("query.centrality", {"metric": "betweenness", "top": 55})
            self.assertEqual([i["id"] for i in res["items"]], [i["id"] for i in want["items"]])
        finally:
            d.stop()

    def test_hooks_need_the_flag(self):
        os.environ["TN_TEST_WORKER_ABORT_TOP"] = "77"
        try:
            d = h.Daemon(args=["--workers", "2"]).start()
        finally:
            del os.environ["TN_TEST_WORKER_ABORT_TOP"]
        try:
            with d.client() as c:
                res = c.call("query.centrality", {"metric": "betweenness", "top": 77})
                self.assertGreater(len(res["items"]), 0)
        finally:
            d.stop()


class SlowGraph(unittest.TestCase):
    """One daemon for the class, with a 30,000-pair graph on which path
    metrics take seconds; WORKERS is its --workers."""

    WORKERS = 2

    @classmethod
    def setUpClass(cls):
        cls.d = h.Daemon(empty=True, args=["--workers", str(cls.WORKERS)]).start()
        nodes, pairs = h.generated_graph(5, 30000, n_countries=50, n_provinces=100, n_cities=8000)
        with cls.d.client(timeout=300) as c:
            h.load_batch(c, nodes, pairs, chunk=20000, timeout=300)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()


class Stop(SlowGraph):
    """A betweenness of several seconds, stopped early."""

    def wait_no_children(self, within):
        t_end = time.monotonic() + within
        while time.monotonic() < t_end:
            if children(self.d.pid) == []:
                return
            time.sleep(0.01)
        self.fail("worker processes still alive: %r" % children(self.d.pid))

    def test_deadline_kills_the_workers(self):
        with self.d.client(timeout=60) as c:
            t0 = time.monotonic()
            err, _ = c.request("query.centrality", {"metric": "betweenness", "deadline_ms": 400,
                                                    "as_of": 9001})
            late = time.monotonic() - t0 - 0.4
            self.assertIsNotNone(err)
            self.assertEqual(err["code"], "timeout")
            # The answer comes after the kill and the reaping.
            self.assertEqual(children(self.d.pid), [])
            # 100 ms is the design (a 20 ms poll); a loaded machine gets slack.
            self.assertLess(late, 1.0, "timeout answered %.3f s after the deadline" % late)
            print("deadline answered %.0f ms late" % (late * 1e3), file=sys.stderr)

    def test_progress_at_least_every_250_ms(self):
        """A query past its first second is reported on at least every 250 ms."""
        with self.d.client(timeout=120) as c:
            mid = c.send_request("query.centrality", {"metric": "betweenness", "as_of": 9003,
                                                      "progress": True, "deadline_ms": 600000})
            t0 = time.monotonic()
            times = []
            seen = 0
            while mid not in c.responses:
                try:
                    i, _ = c.wait_notification("progress", timeout=0.5, start=seen)
                    seen = i + 1
                    times.append(time.monotonic())
                except TimeoutError:
                    pass                       # nothing within 0.5 s: look again
            err, _ = c.wait_response(mid, timeout=120)
            self.assertIsNone(err)
            took = time.monotonic() - t0
            self.assertGreater(took, 1.5, "the query must run past a second for this test")
            late = [t for t in times if t > t0 + 1.0] + [t0 + took]
            gaps = [b - a for a, b in zip(late, late[1:])]
            self.assertGreater(len(gaps), 1)
            # 200 ms ticks; a shared machine may slip a tick now and then.
            self.assertLess(sorted(gaps)[len(gaps) * 9 // 10], 0.25 + 0.1, gaps)
            prog = [p[0] for name, p in c.notifications if name == "progress" and p[0]["msgid"] == mid]
            self.assertEqual([p["done"] for p in prog], sorted(p["done"] for p in prog))

    def test_two_slow_queries_run_at_once(self):
        """Two different slow queries on the igraph queue both compute at the
        same time: each one's progress moves on after the other has begun
        (progress notifications arrive in order on one connection; if the
        two ran one after the other, the first could not move once the
        second had begun)."""
        with self.d.client(timeout=120) as c:
            ids = [c.send_request("query.centrality", {"metric": m, "as_of": year,
                                                       "progress": True, "deadline_ms": 600000})
                   for m, year in (("betweenness", 9004), ("harmonic", 9005))]
            errs = c.wait_responses(ids, timeout=300)
            self.assertEqual([e for e, _ in errs], [None, None])
            events = [(p[0]["msgid"], p[0]["done"]) for name, p in c.notifications
                      if name == "progress" and p[0]["msgid"] in ids]
            for me, other in (ids, ids[::-1]):
                began = next((i for i, (m, done) in enumerate(events) if m == other and done > 0),
                             None)
                self.assertIsNotNone(began, "no progress from query %d" % other)
                before = max([done for m, done in events[:began] if m == me], default=0)
                moved = [done for m, done in events[began:] if m == me and done > before]
                self.assertNotEqual(moved, [], "query %d did not move after %d began: %r"
                                    % (me, other, events))

    def test_cancel_kills_the_workers(self):
        with self.d.client(timeout=60) as c:
            mid = c.send_request("query.centrality", {"metric": "closeness", "as_of": 9002,
                                                      "deadline_ms": 600000})
            t_end = time.monotonic() + 10
            while children(self.d.pid) == [] and time.monotonic() < t_end:
                time.sleep(0.01)
            self.assertNotEqual(children(self.d.pid), [], "no worker process started")
            t0 = time.monotonic()
            c.notify("cancel", [{"msgid": mid}])
            err, _ = c.wait_response(mid, timeout=30)
            dt = time.monotonic() - t0
            self.assertEqual(err["code"], "cancelled")
            self.assertEqual(children(self.d.pid), [])
            self.assertLess(dt, 1.0, "cancel answered after %.3f s" % dt)
            print("cancel answered in %.0f ms" % (dt * 1e3), file=sys.stderr)
            self.assertEqual(c.call("graph.stats")["pairs"]["total"], 30000)


class Resident(unittest.TestCase):
    """Whole metrics (pagerank here) run in the igraph thread's resident
    worker: started with the thread, kept across epochs, replaced after a
    crash."""

    def test_worker_stays_across_epochs_and_agrees(self):
        with h.Daemon(args=["--workers", "1"]) as d, d.client() as c:
            w = wait_resident(d.pid, 1)
            self.assertEqual(len(w), 1, "started with its igraph thread")
            first = c.call("query.centrality", {"metric": "pagerank", "top": 20, "kind": "city"})
            self.assertEqual(resident_workers(d.pid), w)
            cities = first["items"]
            pair = {"a": cities[0]["id"], "b": cities[-1]["id"], "kind": "friendly"}
            c.call("pair.upsert", {"pair": pair})
            after = c.call("query.centrality", {"metric": "pagerank", "top": 20})
            self.assertNotEqual(after["epoch"], first["epoch"])
            self.assertEqual(resident_workers(d.pid), w, "the same worker, a new epoch")
            self.assertEqual(children(d.pid), [], "no per-query child for a whole metric")
        with h.Daemon(args=["--workers", "0"]) as d0, d0.client() as c0:
            c0.call("pair.upsert", {"pair": pair})
            want = c0.call("query.centrality", {"metric": "pagerank", "top": 20})
        self.assertEqual([i["id"] for i in after["items"]], [i["id"] for i in want["items"]])
        bad = [(x, y) for x, y in zip(after["items"], want["items"])
               if not close(x["score"], y["score"])]
        self.assertEqual(bad, [])

    def test_crash_answers_internal_and_a_new_worker_serves(self):
        os.environ["TN_TEST_WORKER_ABORT_TOP"] = "77"
        try:
            d = h.Daemon(args=["--workers", "1", "--test-hooks"]).start()
        finally:
            del os.environ["TN_TEST_WORKER_ABORT_TOP"]
        try:
            with d.client() as c:
                c.call("query.centrality", {"metric": "eigenvector", "top": 5})
                before = wait_resident(d.pid, 1)
                self.assertEqual(len(before), 1)
                err, _ = c.request("query.centrality", {"metric": "pagerank", "top": 77})
                self.assertIsNotNone(err, "top 77 should have crashed the resident worker")
                self.assertEqual(err["code"], "internal")
                self.assertTrue(d.alive())
                self.assertEqual(resident_workers(d.pid), [], "the dead worker is reaped")
                res = c.call("query.centrality", {"metric": "pagerank", "top": 5})
                self.assertEqual(len(res["items"]), 5)
                now = wait_resident(d.pid, 1)
                self.assertEqual(len(now), 1)
                self.assertNotEqual(now, before)
            self.assertIn("resident query worker", d.log())
            self.assertIn("died of signal 6", d.log())
        finally:
            d.stop()


class ResidentFallback(unittest.TestCase):
    def test_whole_metrics_fork_when_no_worker_can_start(self):
        """A resident worker that cannot be executed: whole metrics are
        answered by per-query children, and the log says so once."""
        os.environ["TN_TEST_WORKER_EXEC"] = "/nonexistent/twinnetd"
        try:
            d = h.Daemon(args=["--workers", "1", "--test-hooks", "--log-level", "debug"]).start()
        finally:
            del os.environ["TN_TEST_WORKER_EXEC"]
        try:
            with d.client() as c:
                for as_of in (2015, 2016):
                    res = c.call("query.centrality", {"metric": "pagerank", "top": 5,
                                                      "as_of": as_of})
                    self.assertEqual(len(res["items"]), 5)
                self.assertEqual(resident_workers(d.pid), [])
            self.assertEqual(d.log().count("resident query workers cannot start"), 1, d.log())
            self.assertEqual(d.log().count("query.centrality computed by worker"), 2, d.log())
        finally:
            d.stop()


class Shutdown(unittest.TestCase):
    def test_shutdown_stops_a_worker_that_never_answers(self):
        """SIGTERM while a resident worker hangs: the running query is
        cancelled (its deadline timer lived on the stopped loop), the
        worker killed, and the daemon exits."""
        os.environ["TN_TEST_WORKER_HANG_TOP"] = "66"
        try:
            d = h.Daemon(args=["--workers", "1", "--test-hooks"]).start()
        finally:
            del os.environ["TN_TEST_WORKER_HANG_TOP"]
        c = d.client()
        c.send_request("query.centrality", {"metric": "pagerank", "top": 66,
                                            "deadline_ms": 600000})
        w = wait_resident(d.pid, 1)
        self.assertEqual(len(w), 1)
        time.sleep(0.3)
        t0 = time.monotonic()
        rc, _ = d.stop(timeout=20)
        self.assertEqual(rc, 0)
        self.assertLess(time.monotonic() - t0, 5.0)
        self.assertFalse(os.path.exists("/proc/%d" % w[0]), "the worker outlived the daemon")
        c.close()


class ResidentStop(SlowGraph):
    """Deadline and cancel of a whole metric: closeness with a cutoff, in
    the one resident worker of --workers 1."""

    WORKERS = 1

    def wait_worker(self, other_than=()):
        t_end = time.monotonic() + 10
        while time.monotonic() < t_end:
            w = [p for p in resident_workers(self.d.pid) if p not in other_than]
            if w:
                return w
            time.sleep(0.01)
        self.fail("no resident worker")

    def test_deadline_and_cancel_kill_the_resident_worker(self):
        """A deadline kills the worker, a cancel kills its successor, and a
        third query gets a new one; each answer comes within a second."""
        first = self.wait_worker()              # started with its thread
        self.assertEqual(len(first), 1)
        with self.d.client(timeout=60) as c:
            t0 = time.monotonic()
            err, _ = c.request("query.centrality", {"metric": "closeness", "cutoff": 1000,
                                                    "deadline_ms": 400, "as_of": 9011})
            late = time.monotonic() - t0 - 0.4
            self.assertIsNotNone(err)
            self.assertEqual(err["code"], "timeout")
            self.assertEqual(resident_workers(self.d.pid), [], "killed and reaped")
            self.assertLess(late, 1.0, "timeout answered %.3f s after the deadline" % late)
            mid = c.send_request("query.centrality", {"metric": "closeness", "cutoff": 1000,
                                                      "as_of": 9012, "deadline_ms": 600000})
            second = self.wait_worker(first)
            time.sleep(0.3)
            t1 = time.monotonic()
            c.notify("cancel", [{"msgid": mid}])
            err, _ = c.wait_response(mid, timeout=30)
            dt = time.monotonic() - t1
            self.assertEqual(err["code"], "cancelled")
            self.assertEqual(resident_workers(self.d.pid), [])
            self.assertLess(dt, 1.0, "cancel answered after %.3f s" % dt)
            res = c.call("query.centrality", {"metric": "pagerank", "top": 3, "as_of": 9013})
            self.assertEqual(len(res["items"]), 3)
            third = wait_resident(self.d.pid, 1)
            self.assertEqual(len(third), 1)
            self.assertNotIn(third[0], first + second)
            print("resident: deadline answered %.0f ms late, cancel in %.0f ms"
                  % (late * 1e3, dt * 1e3), file=sys.stderr)


class Memo(unittest.TestCase):
    """The score memo with workers: one computation per metric and epoch.
    Computations are counted from the daemon's debug log (one line per
    worker result kept, one per memo answer); a re-rank with "top" 77
    would abort its worker (--test-hooks), so its answer proves no worker
    ran."""

    RERANKS = ({"top": 50}, {"top": 77}, {"top": 30, "kind": "city"},
               {"top": 40, "normalized": True}, {"top": 10, "country": "CN"})

    def ask(self, c, **extra):
        opts = {"metric": "betweenness", "graph": "full", "top": 5}
        opts.update(extra)
        return c.call("query.centrality", opts)

    def test_rerank_does_not_recompute(self):
        os.environ["TN_TEST_WORKER_ABORT_TOP"] = "77"
        try:
            d = h.Daemon(args=["--workers", "2", "--test-hooks", "--log-level", "debug"]).start()
        finally:
            del os.environ["TN_TEST_WORKER_ABORT_TOP"]
        try:
            with d.client() as c:
                first = self.ask(c)
                got = [self.ask(c, **o) for o in self.RERANKS]
                computed = d.log().count("query.centrality computed by worker")
                from_memo = d.log().count("query.centrality answered from the memo")
                self.assertEqual(computed, 1, d.log())
                self.assertEqual(from_memo, len(self.RERANKS), d.log())
                self.assertIn("scores kept at epoch", d.log())
                self.assertEqual(got[0]["items"][:5], first["items"])
                self.assertEqual(got[1]["items"][:50], got[0]["items"])
                self.assertEqual(len(got[1]["items"]), 77)
                # A change makes a new snapshot with an empty memo.
                cities = got[2]["items"]
                pair = {"a": cities[0]["id"], "b": cities[1]["id"], "kind": "friendly"}
                c.call("pair.upsert", {"pair": pair})
                self.ask(c, top=6)
                self.ask(c, top=7)
                self.assertEqual(d.log().count("query.centrality computed by worker"), 2)
                self.assertEqual(d.log().count("query.centrality answered from the memo"),
                                 len(self.RERANKS) + 1)
            # The same answers as the single igraph thread in the daemon.
            with h.Daemon(args=["--workers", "0"]) as d0, d0.client() as c0:
                want = [self.ask(c0, **o) for o in self.RERANKS]
            for o, a, b in zip(self.RERANKS, got, want):
                self.assertEqual([i["id"] for i in a["items"]], [i["id"] for i in b["items"]], o)
                bad = [(x, y) for x, y in zip(a["items"], b["items"])
                       if not close(x["score"], y["score"])]
                self.assertEqual(bad, [], o)
        finally:
            d.stop()


class SplitEqualsWhole(unittest.TestCase):
    """The same graph under --workers 0 (one igraph thread, no split) and
    --workers 3 (parts over three processes), and python-igraph."""

    @classmethod
    def setUpClass(cls):
        cls.nodes, cls.pairs = h.generated_graph(9, 3000, n_countries=30, n_provinces=40,
                                                 n_cities=1500)
        cls.res = {}
        for w in (0, 3):
            with h.Daemon(empty=True, args=["--workers", str(w)]) as d, \
                    d.client(timeout=300) as c:
                h.load_batch(c, cls.nodes, cls.pairs, chunk=20000, timeout=300)
                cls.res[w] = {(m, g): scores(c, m, g) for m in METRICS
                              for g in ("partnerships", "full")}
                cls.res[w][("betweenness", "cutoff")] = scores(c, "betweenness", "full", cutoff=2)
                cls.res[w][("betweenness", "approx")] = scores(c, "betweenness", "partnerships",
                                                               approx=300)
                cls.res[w][("betweenness", "approx-all")] = scores(c, "betweenness", "partnerships",
                                                                   approx=10 ** 6)
                if w == 3:
                    cls.approx_error = c.error_code("query.centrality",
                                                    {"metric": "closeness", "approx": 10})

    def test_split_equals_single_process(self):
        self.assertEqual(set(self.res[0]), set(self.res[3]))
        for key, whole in self.res[0].items():
            split = self.res[3][key]
            self.assertEqual(set(whole), set(split), key)
            bad = [(i, whole[i], split[i]) for i in whole if not close(whole[i], split[i])]
            self.assertEqual(bad[:5], [], "%s: %d scores differ" % (key, len(bad)))
            self.assertGreater(max(whole.values()), 0, key)

    def test_approx_betweenness(self):
        exact = self.res[0][("betweenness", "partnerships")]
        # k at least n: exact; k = 300 of ~1,500 sources: seeded (the same on
        # both daemons, checked above) and an estimate of the right scale.
        every = self.res[3][("betweenness", "approx-all")]
        self.assertEqual([v for v in exact if not close(exact[v], every[v])], [])
        est = self.res[3][("betweenness", "approx")]
        self.assertNotEqual(est, exact)
        total_err = sum(abs(est[v] - exact[v]) for v in exact)
        self.assertLess(total_err / sum(exact.values()), 0.35)
        self.assertAlmostEqual(sum(est.values()) / sum(exact.values()), 1.0, delta=0.15)
        self.assertEqual(self.approx_error, "invalid_params")

    def test_split_equals_python_igraph(self):
        ids = [n["id"] for n in self.nodes if n["kind"] != "country"]
        idx = {v: i for i, v in enumerate(ids)}
        g = igraph.Graph(n=len(ids), edges=[(idx[p["a"]], idx[p["b"]]) for p in self.pairs])
        want = {
            "betweenness": g.betweenness(directed=False),
            "harmonic": g.harmonic_centrality(normalized=False),
        }
        for metric, ref in want.items():
            got = self.res[3][(metric, "partnerships")]
            bad = [(v, got[v], ref[idx[v]]) for v in ids if not close(got[v], ref[idx[v]])]
            self.assertEqual(bad[:5], [], "%s: %d scores differ from python-igraph"
                             % (metric, len(bad)))


if __name__ == "__main__":
    unittest.main(verbosity=2)
