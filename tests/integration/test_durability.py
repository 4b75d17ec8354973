"""Durability (docs/durability.md): nothing acknowledged is lost,
nothing half-applied is kept.

- kill -9 at random moments during a pipelined stream of changes (several
  rounds, some with constant compaction): after a restart on the same
  --data every acknowledged change is there, the recovered changes are a
  prefix of the stream (in order: epochs and contents checked);
- kill -9 during a large import.batch and during import.commit: the import
  is entirely there or entirely absent;
- a journal cut at every byte offset of its last record restarts without
  that record; a flipped byte inside the journal or the snapshot stops the
  start with the file name and the record's offset;
- disk full (RLIMIT_FSIZE, SIGXFSZ ignored): a change past the limit gets
  "unavailable", reads go on, the graph is unchanged, also after restart.

Random choices are seeded (TN_DUR_SEED to replay); every loop is bounded.
"""

import os
import random
import shutil
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import durhelp as dh  # noqa: E402

SEED = int(os.environ.get("TN_DUR_SEED", str(int(time.time()) % 100000)))
print("test_durability: seed %d (TN_DUR_SEED to replay)" % SEED, file=sys.stderr)

BASE_NODES = [
    {"id": "KK", "kind": "country", "name": "Kayland", "region": "Europe", "subregion": "Test"},
    {"id": "KK-prov", "kind": "province", "name": "Kay Province", "country": "KK", "name_zh": "凯省"},
]


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def apply_op(nodes, pairs, method, params):
    """The effect of one change on a Python model of the graph."""
    if method == "node.upsert":
        nodes[params["node"]["id"]] = params["node"]
    elif method == "pair.upsert":
        p = params["pair"]
        pairs[tuple(sorted((p["a"], p["b"])))] = p
    elif method == "pair.delete":
        pairs.pop(tuple(sorted((params["a"], params["b"]))), None)
    else:
        raise AssertionError(method)


def assert_graph(tc, expected_nodes, expected_pairs, got_nodes, got_pairs, what):
    """Same ids and keys; every field we sent has the value we sent."""
    tc.assertEqual(sorted(got_nodes), sorted(expected_nodes), "%s: node ids differ" % what)
    tc.assertEqual(sorted(got_pairs), sorted(expected_pairs), "%s: pairs differ" % what)
    for nid, n in expected_nodes.items():
        for k, v in n.items():
            tc.assertEqual(got_nodes[nid].get(k), v, "%s: node %s field %s" % (what, nid, k))
    for key, p in expected_pairs.items():
        for k, v in p.items():
            if k not in ("a", "b"):
                tc.assertEqual(got_pairs[key].get(k), v, "%s: pair %s field %s" % (what, key, k))


class StreamOps:
    """A deterministic stream of changes for one round: new cities, pairs
    between recent ones, a counter node updated again and again, and pair
    deletions."""

    def __init__(self, rnd_round):
        self.r = rnd_round
        self.cities = []
        self.live_pairs = []

    def op(self, j):
        if j % 7 == 6:
            return "node.upsert", {"node": {"id": "KK-counter", "kind": "city", "name": "r%d-%d" % (self.r, j),
                                            "country": "KK", "parent": "KK-prov"}}
        if j % 11 == 10 and self.live_pairs:
            a, b = self.live_pairs.pop()
            return "pair.delete", {"a": a, "b": b}
        if j % 3 == 2 and len(self.cities) >= 2:
            a, b = self.cities[-1], self.cities[-2]
            self.live_pairs.append((a, b))
            return "pair.upsert", {"pair": {"a": a, "b": b, "since": 1990 + j % 30,
                                            "kind": "friendly" if j % 2 else "sister"}}
        cid = "KK-r%d-c%d" % (self.r, j)
        self.cities.append(cid)
        return "node.upsert", {"node": {"id": cid, "kind": "city", "name": "City %d/%d" % (self.r, j),
                                        "name_zh": "城%d" % j, "country": "KK", "parent": "KK-prov",
                                        "lat": (j % 170) * 0.5 - 40.25}}


class DurabilityTest(unittest.TestCase):

    def make(self, **kw):
        d = dh.DataDaemon(**kw)
        self.addCleanup(d.cleanup)
        return d

    # ---- kill -9 during acknowledged changes ----

    def test_kill9_during_stream_keeps_every_acknowledged_change_in_order(self):
        rnd = random.Random(SEED)
        d = self.make()
        d.start()
        with d.client() as c:
            c.call("import.batch", {"nodes": BASE_NODES})
        rounds = 6
        total_acked = 0
        for r in range(rounds):
            # Odd rounds compact after a few KiB of journal, so kills also
            # land in the middle of snapshot writes and journal resets.
            d.args = ["--compact-bytes", "4096"] if r % 2 else []
            if d.proc is None:
                d.start()
            with d.client(timeout=30) as c:
                base, nodes, pairs = dh.dump(c)
                ops = StreamOps(r)
                sent = []              # (msgid, method, params)
                acked = {}             # index -> epoch
                delay = rnd.uniform(0.1, 0.6)
                killer = threading.Timer(delay, d.kill9)
                killer.start()
                self.addCleanup(killer.cancel)
                window = 16
                pending = []
                broken = False
                t_end = time.monotonic() + 30
                while not broken and len(sent) < 50000 and time.monotonic() < t_end:
                    while len(pending) < window:
                        method, params = ops.op(len(sent))
                        try:
                            mid = c.send_request(method, params)
                        except OSError:
                            broken = True
                            break
                        sent.append((mid, method, params))
                        pending.append(len(sent) - 1)
                    if broken:
                        break
                    j = pending.pop(0)
                    try:
                        err, res = c.wait_response(sent[j][0], timeout=10)
                    except (ConnectionError, TimeoutError, OSError):
                        break
                    self.assertIsNone(err, "round %d: change %d failed: %r" % (r, j, err))
                    acked[j] = res["epoch"]
                killer.join(timeout=30)
                # Replies already in our socket buffer count as acknowledged.
                for j in pending:
                    try:
                        err, res = c.wait_response(sent[j][0], timeout=0.5)
                    except (ConnectionError, TimeoutError, OSError):
                        break
                    if err is None:
                        acked[j] = res["epoch"]
            self.assertIsNone(d.proc, "the killer did not run")
            # In order: the k-th change of the stream got epoch base + k + 1.
            for j, e in acked.items():
                self.assertEqual(e, base + j + 1, "round %d: change %d has epoch %d" % (r, j, e))
            d.start()
            with d.client() as c:
                epoch, got_nodes, got_pairs = dh.dump(c)
            last_acked = max(acked) if acked else -1
            recovered = epoch - base
            self.assertGreaterEqual(recovered, last_acked + 1,
                                    "round %d: %d changes acknowledged, only %d recovered\n%s"
                                    % (r, last_acked + 1, recovered, d.log()))
            self.assertLessEqual(recovered, len(sent), "round %d: more changes than were sent" % r)
            # The recovered state is exactly the first 'recovered' changes.
            exp_nodes, exp_pairs = dict(nodes), dict(pairs)
            for j in range(recovered):
                apply_op(exp_nodes, exp_pairs, sent[j][1], sent[j][2])
            assert_graph(self, exp_nodes, exp_pairs, got_nodes, got_pairs, "round %d" % r)
            total_acked += len(acked)
            print("round %d: kill after %.3f s, %d sent, %d acknowledged, %d recovered%s"
                  % (r, delay, len(sent), len(acked), recovered, " (compacting)" if r % 2 else ""),
                  file=sys.stderr)
            if r % 2 == 0:
                d.kill9()              # the next round starts from a cold kill too
        self.assertGreater(total_acked, 0, "no change was acknowledged before any kill")
        d.stop()

    # ---- kill -9 during large imports ----

    def batch_for(self, tag, n_cities, n_pairs):
        """One import: its own country (a two-letter id, as the protocol
        wants) with n_cities cities and n_pairs pairs among them."""
        rnd = random.Random("%d-%s" % (SEED, tag))
        country = "Q" + tag
        nodes = [{"id": country, "kind": "country", "name": "Country " + tag, "region": "Asia",
                  "subregion": "Test"}]
        cities = ["%s-c%d" % (country, i) for i in range(n_cities)]
        for i, cid in enumerate(cities):
            nodes.append({"id": cid, "kind": "city", "name": "C%d" % i, "country": country,
                          "name_zh": "测试%d" % i})
        seen = set()
        pairs = []
        while len(pairs) < n_pairs:
            a, b = rnd.sample(cities, 2)
            k = tuple(sorted((a, b)))
            if k in seen:
                continue
            seen.add(k)
            pairs.append({"a": a, "b": b, "since": rnd.randrange(1980, 2024)})
        return nodes, pairs

    def counts(self, c):
        s = c.call("graph.stats")
        return sum(s["nodes"].values()), s["pairs"]["total"], s["epoch"]

    def check_all_or_nothing(self, c, before, nodes, pairs, acked, what):
        n, p, e = self.counts(c)
        n0, p0, e0 = before
        if acked:
            self.assertEqual((n, p, e), (n0 + len(nodes), p0 + len(pairs), e0 + 1),
                             "%s: acknowledged but not (all) there" % what)
        self.assertIn((n, p, e), [(n0, p0, e0), (n0 + len(nodes), p0 + len(pairs), e0 + 1)],
                      "%s: a partial import after restart" % what)
        first, last = nodes[1]["id"], nodes[-1]["id"]
        there = [c.request("node.get", {"id": x})[0] is None for x in (first, last)]
        self.assertEqual(there[0], there[1], "%s: first and last node disagree" % what)
        self.assertEqual(there[0], n != n0, "%s: counts and nodes disagree" % what)
        return n != n0

    def kill_after(self, d, c, msgid, delay):
        time.sleep(delay)
        d.kill9()
        try:
            err, res = c.wait_response(msgid, timeout=1)
            return err is None
        except (ConnectionError, TimeoutError, OSError):
            return False

    def test_kill9_during_import_batch_and_commit_is_all_or_nothing(self):
        rnd = random.Random(SEED + 1)
        d = self.make()
        d.start()
        n_cities, n_pairs = 12000, 25000
        # Calibrate: how long one batch and one commit take here.
        nodes, pairs = self.batch_for("Y", n_cities, n_pairs)
        with d.client(timeout=120) as c:
            t0 = time.monotonic()
            c.call("import.batch", {"nodes": nodes, "pairs": pairs}, timeout=120)
            t_batch = time.monotonic() - t0
            nodes, pairs = self.batch_for("Z", n_cities, n_pairs)
            tok = c.call("import.begin", {"total": len(nodes) + len(pairs)})["import"]
            c.call("import.chunk", {"import": tok, "nodes": nodes}, timeout=120)
            c.call("import.chunk", {"import": tok, "pairs": pairs}, timeout=120)
            t0 = time.monotonic()
            c.call("import.commit", {"import": tok}, timeout=120)
            t_commit = time.monotonic() - t0
        outcomes = {"batch": set(), "commit": set()}
        for attempt in range(10):
            kind = "batch" if attempt % 2 == 0 else "commit"
            tag = "ABCDEFGHIJ"[attempt]
            nodes, pairs = self.batch_for(tag, n_cities, n_pairs)
            span = t_batch if kind == "batch" else t_commit
            # Mostly inside the call; sometimes just after it.
            delay = rnd.uniform(0, span * 1.3)
            if d.proc is None:
                d.start()
            with d.client(timeout=120) as c:
                before = self.counts(c)
                if kind == "batch":
                    mid = c.send_request("import.batch", {"nodes": nodes, "pairs": pairs})
                else:
                    tok = c.call("import.begin", {"total": len(nodes) + len(pairs)})["import"]
                    for i in range(0, len(nodes), 5000):
                        c.call("import.chunk", {"import": tok, "nodes": nodes[i:i + 5000]}, timeout=60)
                    for i in range(0, len(pairs), 5000):
                        c.call("import.chunk", {"import": tok, "pairs": pairs[i:i + 5000]}, timeout=60)
                    mid = c.send_request("import.commit", {"import": tok})
                acked = self.kill_after(d, c, mid, delay)
            d.start()
            with d.client(timeout=120) as c:
                there = self.check_all_or_nothing(c, before, nodes, pairs, acked,
                                                  "%s attempt %d (kill after %.3f s)" % (kind, attempt, delay))
            outcomes[kind].add(there)
        d.stop()
        print("import kill outcomes (present?): %r; batch %.3f s, commit %.3f s"
              % (outcomes, t_batch, t_commit), file=sys.stderr)

    # ---- damaged files ----

    def prepared_dir(self, n_changes=10):
        """A data directory with a snapshot and a journal of n_changes + 1
        records (the base import, then one node.upsert each); stopped."""
        d = self.make()
        d.start()
        with d.client() as c:
            c.call("import.batch", {"nodes": BASE_NODES})
            for i in range(n_changes):
                c.call("node.upsert", {"node": {"id": "KK-n%d" % i, "kind": "city", "name": "N%d" % i,
                                                "country": "KK"}})
            epoch = c.call("server.info")["epoch"]
        d.kill9()      # a crash, not a clean stop: the journal is all there is
        return d, epoch

    def test_journal_cut_at_every_offset_of_its_last_record(self):
        d, epoch = self.prepared_dir(n_changes=3)
        jpath = d.path("journal.tnj")
        recs = dh.journal_records(jpath)
        self.assertEqual(len(recs), 4)
        off, plen = recs[-1]
        with open(jpath, "rb") as f:
            full = f.read()
        self.assertEqual(len(full), off + dh.HDR + plen)
        audit = d.path("audit.tna")
        audit_bytes = read_bytes(audit) if os.path.exists(audit) else None
        if audit_bytes is not None:
            # A crash in the middle of the journal append comes before the
            # audit append: the torn change has no audit record.
            audit_bytes = audit_bytes[:dh.journal_records(audit)[-1][0]]
        print("journal cut: %d offsets of a %d-byte record" % (len(full) - off, len(full) - off),
              file=sys.stderr)
        for cut in range(off, len(full)):
            with open(jpath, "wb") as f:
                f.write(full[:cut])
            if audit_bytes is not None:
                with open(audit, "wb") as f:
                    f.write(audit_bytes)
            d.start()
            with d.client(timeout=10) as c:
                info = c.call("server.info")
                self.assertEqual(info["epoch"], epoch - 1, "cut at %d" % cut)
                self.assertEqual(c.error_code("node.get", {"id": "KK-n2"}), "not_found", "cut at %d" % cut)
                self.assertIsNone(c.error_code("node.get", {"id": "KK-n1"}), "cut at %d" % cut)
            log = d.log()
            d.kill9()
            if cut > off:
                self.assertIn("torn record at offset %d" % off, log, "cut at %d: %s" % (cut, log))
            self.assertEqual(os.path.getsize(jpath), off, "cut at %d: the torn tail was not cut off" % cut)
        # After a cut the directory keeps working: a new change, a restart.
        d.start()
        with d.client() as c:
            r = c.call("node.upsert", {"node": {"id": "KK-after", "kind": "city", "name": "After",
                                                "country": "KK"}})
            self.assertEqual(r["epoch"], epoch)
        d.stop()
        d.start()
        with d.client() as c:
            self.assertEqual(c.call("server.info")["epoch"], epoch)
            self.assertEqual(c.call("node.get", {"id": "KK-after"})["name"], "After")
        d.stop()

    def flip(self, path, at):
        with open(path, "r+b") as f:
            f.seek(at)
            b = f.read(1)
            f.seek(at)
            f.write(bytes([b[0] ^ 0x5a]))

    def expect_refusal(self, d, path, offset):
        rc, log = d.start(expect_fail=True)
        self.assertNotEqual(rc, 0, log)
        self.assertIn(os.path.basename(path), log)
        self.assertIn("offset %d" % offset, log, log)
        return log

    def test_flipped_byte_in_journal_stops_the_start(self):
        d, epoch = self.prepared_dir(n_changes=10)
        jpath = d.path("journal.tnj")
        recs = dh.journal_records(jpath)
        pristine = read_bytes(jpath)
        mid_off, mid_len = recs[len(recs) // 2]
        cases = [("payload", mid_off + dh.HDR + mid_len // 2, mid_off),
                 ("length field", mid_off + 5, mid_off),
                 ("magic", recs[1][0], recs[1][0])]
        for what, at, rec_off in cases:
            with open(jpath, "wb") as f:
                f.write(pristine)
            self.flip(jpath, at)
            log = self.expect_refusal(d, jpath, rec_off)
            self.assertIn("corrupt", log, what)
            self.assertIn("docs/durability.md", log, what)
            # Nothing was cut or rewritten: the evidence stays for the operator.
            with open(jpath, "rb") as f:
                self.assertEqual(len(f.read()), len(pristine), what)
        with open(jpath, "wb") as f:
            f.write(pristine)
        d.start()
        with d.client() as c:
            self.assertEqual(c.call("server.info")["epoch"], epoch)
        d.stop()

    def test_flipped_byte_in_snapshot_stops_the_start(self):
        d, epoch = self.prepared_dir(n_changes=2)
        d.start()
        with d.client() as c:
            c.call("server.save")          # a snapshot with the graph in it
        d.stop()
        spath = d.path("snapshot.tns")
        recs = dh.journal_records(spath)
        self.assertGreaterEqual(len(recs), 3)
        pristine = read_bytes(spath)
        at = len(pristine) // 2
        rec_off = max(o for o, _ in recs if o <= at)
        self.flip(spath, at)
        log = self.expect_refusal(d, spath, rec_off)
        self.assertIn("refusing to start", log)
        with open(spath, "wb") as f:
            f.write(pristine)
        d.start()
        with d.client() as c:
            self.assertEqual(c.call("server.info")["epoch"], epoch)
        d.stop()

    # ---- disk full ----

    def test_disk_full_gives_unavailable_and_changes_nothing(self):
        d = self.make()
        d.start()
        with d.client() as c:
            c.call("import.batch", {"nodes": BASE_NODES + [
                {"id": "KK-f%d" % i, "kind": "city", "name": "F%d" % i, "country": "KK"} for i in range(40)]})
        d.stop()
        sizes = [os.path.getsize(d.path(n)) for n in ("journal.tnj", "audit.tna", "snapshot.tns")
                 if os.path.exists(d.path(n))]
        limit = max(sizes) + 4000
        d.preexec_fn = dh.fsize_limit(limit)
        d.start()
        c = d.client()
        self.addCleanup(c.close)
        before = dh.dump(c)
        acked = []
        code = None
        for i in range(400):
            err, res = c.request("node.upsert", {"node": {"id": "KK-g%d" % i, "kind": "city",
                                                          "name": "G%d" % i, "country": "KK"}})
            if err is not None:
                code = err.get("code")
                failed = "KK-g%d" % i
                break
            acked.append("KK-g%d" % i)
        self.assertEqual(code, "unavailable", "no failure within 400 changes (limit %d)" % limit)
        self.assertGreater(len(acked), 0, "the limit left no room at all")
        self.assertTrue(d.proc.poll() is None, "the daemon died")
        e_full, n_full, p_full = dh.dump(c)
        self.assertEqual(e_full, before[0] + len(acked))
        self.assertEqual(sorted(n_full), sorted(list(before[1]) + acked))
        self.assertEqual(c.error_code("node.get", {"id": failed}), "not_found")
        # A big import cannot fit either; it is refused whole.
        big = [{"id": "KK-h%d" % i, "kind": "city", "name": "H%d" % i, "country": "KK"} for i in range(300)]
        err, res = c.request("import.batch", {"nodes": big})
        self.assertIsNotNone(err)
        self.assertEqual(err["code"], "unavailable", err)
        tok = c.call("import.begin")["import"]
        # Staged records are spooled to the data directory: on a full disk
        # the chunk itself is refused (and nothing of it staged), else the
        # commit is.
        err, res = c.request("import.chunk", {"import": tok, "nodes": big})
        if err is None:
            err, res = c.request("import.commit", {"import": tok})
        else:
            self.assertEqual(c.call("import.chunk", {"import": tok, "nodes": []})["nodes"], 0)
        self.assertEqual((err or {}).get("code"), "unavailable", err)
        # Reads keep working and see the same graph.
        self.assertEqual(dh.dump(c), (e_full, n_full, p_full))
        self.assertEqual(c.call("graph.stats")["epoch"], e_full)
        self.assertEqual(len(c.call("node.find", {"q": "KK-h"})["items"]), 0)
        c.call("query.centrality", {"metric": "degree", "top": 3})
        c.close()
        d.stop()
        # After a restart (no limit) the graph is exactly the acknowledged one.
        d.preexec_fn = None
        d.start()
        with d.client() as c2:
            self.assertEqual(dh.dump(c2), (e_full, n_full, p_full))
            r = c2.call("node.upsert", {"node": {"id": "KK-later", "kind": "city", "name": "L",
                                                 "country": "KK"}})
            self.assertEqual(r["epoch"], e_full + 1)
        d.stop()
        d.start()
        with d.client() as c3:
            self.assertEqual(c3.call("server.info")["epoch"], e_full + 1)
        d.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
