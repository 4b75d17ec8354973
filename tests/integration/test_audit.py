"""Audit trail (docs/security.md, "Audit trail"; docs/protocol.md audit.list):
every applied change (node/pair upsert and delete, import.batch, streamed
import) is recorded with its time, the token's name, role and the peer;
audit.list (admin only) reads it back newest first with filters; the trail
survives restarts, server.save and automatic compaction; reads, refused
changes and dry runs leave no entry. Daemons run with --data and --tokens
on 127.0.0.1; every wait is bounded."""

import os
import shutil
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tnharness as h  # noqa: E402
import sechelp as s  # noqa: E402


def now_ms():
    return int(time.time() * 1000)


def city(cid, name=None):
    return {"id": cid, "kind": "city", "name": name or cid, "country": "FR"}


class Trail(unittest.TestCase):
    """One daemon and data directory for the whole class; the tests run in
    name order (test_1_..., test_2_...) because the later ones restart it."""

    @classmethod
    def setUpClass(cls):
        cls.tokens = s.Tokens()
        cls.data = tempfile.mkdtemp(prefix="tnsec-audit-")
        cls.args = ["--tokens", cls.tokens.path, "--data", os.path.join(cls.data, "db")]
        cls.daemon = s.SecDaemon(cls.args).start()
        with s.authed(cls.daemon, cls.tokens, "admin") as a:
            cls.base_total = a.call("audit.list")["total"]
            cls.epoch0 = a.call("graph.stats")["epoch"]
        cls.expected = []          # oldest first: dicts of what each entry must say
        cls.run_script()

    @classmethod
    def tearDownClass(cls):
        if cls.daemon is not None:
            cls.daemon.stop()
        cls.tokens.cleanup()
        shutil.rmtree(cls.data, ignore_errors=True)

    @classmethod
    def restart(cls, extra=()):
        cls.daemon.stop()
        cls.daemon = s.SecDaemon(cls.args + list(extra)).start()

    @classmethod
    def change(cls, client, role, method, params, nodes):
        peer = "127.0.0.1:%d" % client.sock.getsockname()[1]
        t0 = now_ms()
        res = client.call(method, params)
        t1 = now_ms()
        cls.expected.append({"method": method, "token": cls.tokens.names[role], "role": role,
                             "peer": peer, "nodes": nodes, "t0": t0, "t1": t1,
                             "epoch": res["epoch"]})
        time.sleep(0.03)           # distinct milliseconds between entries
        return res

    @classmethod
    def run_script(cls):
        d, tk = cls.daemon, cls.tokens
        with s.authed(d, tk, "write") as w, s.authed(d, tk, "admin") as a, \
                s.authed(d, tk, "write") as w2:
            cls.change(w, "write", "node.upsert", {"node": city("FR-audit-1")}, ["FR-audit-1"])
            cls.change(w, "write", "node.upsert", {"node": city("FR-audit-2")}, ["FR-audit-2"])
            cls.change(w, "write", "pair.upsert", {"pair": {"a": "FR-audit-1", "b": "CN-430100"}},
                       ["FR-audit-1", "CN-430100"])
            cls.change(a, "admin", "pair.upsert", {"pair": {"a": "FR-audit-2", "b": "CN-430100"}},
                       ["FR-audit-2", "CN-430100"])
            cls.change(w, "write", "pair.delete", {"a": "CN-430100", "b": "FR-audit-1"},
                       ["CN-430100", "FR-audit-1"])
            cls.change(w, "write", "import.batch",
                       {"nodes": [city("FR-audit-3"), city("FR-audit-4")],
                        "pairs": [{"a": "FR-audit-3", "b": "CN-430200"}]},
                       ["FR-audit-3", "FR-audit-4", "FR-audit-3", "CN-430200"])
            # A streamed import: begin, two chunks, commit (journalled as the
            # import.batch it becomes).
            imp = w2.call("import.begin", {})["import"]
            w2.call("import.chunk", {"import": imp, "nodes": [city("FR-audit-5")]})
            w2.call("import.chunk", {"import": imp, "pairs": [{"a": "FR-audit-5", "b": "CN-430300"}]})
            cls.change(w2, "write", "import.commit", {"import": imp},
                       ["FR-audit-5", "FR-audit-5", "CN-430300"])
            cls.expected[-1]["method"] = "import.batch"
            cls.change(a, "admin", "node.delete", {"id": "FR-audit-2", "cascade": True},
                       ["FR-audit-2"])

    def admin(self):
        return s.authed(self.daemon, self.tokens, "admin")

    def listing(self, **opts):
        with self.admin() as a:
            return a.call("audit.list", opts)

    def ours(self, items):
        """Entries of this test's script, oldest first."""
        return [e for e in reversed(items) if e["epoch"] > self.epoch0]

    def check_entries(self, items):
        got = self.ours(items)
        self.assertEqual(len(got), len(self.expected), got)
        for e, x in zip(got, self.expected):
            for k in ("method", "token", "role", "peer", "epoch"):
                self.assertEqual(e[k], x[k], "%s of %r (expected %r)" % (k, e, x))
            self.assertGreaterEqual(e["time_ms"], x["t0"] - 50, e)
            self.assertLessEqual(e["time_ms"], x["t1"] + 50, e)
            self.assertEqual(sorted(set(e["nodes"])), sorted(set(x["nodes"])), e)
            self.assertIs(e["nodes_truncated"], False)

    # ---- in order ----

    def test_1_every_change_is_recorded(self):
        res = self.listing(limit=1000)
        self.assertEqual(res["total"], self.base_total + len(self.expected))
        self.check_entries(res["items"])
        # Newest first, one entry per epoch.
        epochs = [e["epoch"] for e in res["items"]]
        self.assertEqual(epochs, sorted(epochs, reverse=True))
        self.assertEqual(len(set(epochs)), len(epochs))
        with self.admin() as a:
            self.assertEqual(a.call("graph.stats")["epoch"], self.expected[-1]["epoch"])

    def test_2_filters(self):
        x = self.expected
        # Time range: exactly entries 2..4 (0-based) of the script.
        res = self.listing(from_ms=x[2]["t0"], to_ms=x[4]["t1"], limit=1000)
        self.assertEqual([e["epoch"] for e in self.ours(res["items"])],
                         [e["epoch"] for e in x[2:5]])
        self.assertEqual(res["total"], 3)
        # from_ms alone / to_ms alone.
        res = self.listing(from_ms=x[6]["t0"])
        self.assertEqual([e["epoch"] for e in reversed(res["items"])], [e["epoch"] for e in x[6:]])
        res = self.listing(to_ms=x[0]["t1"], limit=1000)
        self.assertEqual([e["epoch"] for e in self.ours(res["items"])], [x[0]["epoch"]])
        # Node.
        res = self.listing(node="FR-audit-1")
        self.assertEqual([e["epoch"] for e in reversed(res["items"])],
                         [e["epoch"] for e in x if "FR-audit-1" in e["nodes"]])
        self.assertEqual(res["total"], 3)
        res = self.listing(node="CN-430100")
        self.assertEqual(res["total"], 3)
        res = self.listing(node="FR-audit-5")
        self.assertEqual([e["method"] for e in res["items"]], ["import.batch"])
        self.assertEqual(self.listing(node="ZZ-nobody")["total"], 0)
        # Method.
        res = self.listing(method="pair.upsert")
        self.assertEqual([e["epoch"] for e in reversed(res["items"])], [x[2]["epoch"], x[3]["epoch"]])
        self.assertEqual(self.listing(method="import.batch")["total"], 2)
        self.assertEqual(self.listing(method="graph.stats")["total"], 0)
        # Token (by name).
        res = self.listing(token=self.tokens.names["admin"])
        self.assertEqual([e["epoch"] for e in reversed(res["items"])], [x[3]["epoch"], x[7]["epoch"]])
        self.assertEqual(self.listing(token=self.tokens.names["read"])["total"], 0)
        self.assertEqual(self.listing(token=self.tokens.token["admin"])["total"], 0,
                         "the filter is by token name, never by the secret")
        # Combined, and paging.
        res = self.listing(token=self.tokens.names["write"], method="node.upsert")
        self.assertEqual(res["total"], 2)
        page1 = self.listing(limit=3, offset=0, from_ms=x[0]["t0"])
        page2 = self.listing(limit=3, offset=3, from_ms=x[0]["t0"])
        self.assertEqual(page1["total"], len(x))
        self.assertEqual(len(page1["items"]), 3)
        self.assertEqual([e["epoch"] for e in page1["items"] + page2["items"]],
                         [e["epoch"] for e in reversed(x)][:6])
        # Bad options.
        with self.admin() as a:
            for bad in ({"from_ms": "yesterday"}, {"limit": 0}, {"limit": 10001}, {"node": 5},
                        {"secret": 1}, {"offset": -1}):
                self.assertEqual(a.error_code("audit.list", bad), "invalid_params", bad)

    def test_3_admin_only(self):
        for role in ("read", "write"):
            with s.authed(self.daemon, self.tokens, role) as c:
                self.assertEqual(c.error_code("audit.list"), "forbidden", role)
                self.assertEqual(c.error_code("audit.list", {"node": "FR-audit-1"}), "forbidden")
        with self.daemon.client(timeout=10) as c:
            self.assertEqual(c.error_code("audit.list"), "unauthorized")

    def test_4_reads_refusals_and_dry_runs_leave_no_entry(self):
        before = self.listing()["total"]
        with s.authed(self.daemon, self.tokens, "read") as r:
            r.call("graph.stats")
            r.call("node.get", {"id": "FR-audit-1"})
            r.call("node.find", {"q": "audit"})
            r.call("node.list", {"limit": 5})
            r.call("node.neighbors", {"id": "CN-430100"})
            r.call("pair.list", {"limit": 5})
            r.call("query.centrality", {"metric": "degree", "top": 3})
            r.call("query.coverage")
            r.call("query.gaps", {"limit": 3})
            r.call("query.recommend", {"unit": "CN-430000", "top": 3})
            r.call("metrics.get")
            r.call("server.info")
            r.call("server.methods")
            # A reader's change is refused: nothing to record as a change.
            self.assertEqual(r.error_code("node.upsert", {"node": city("FR-audit-x")}), "forbidden")
        with s.authed(self.daemon, self.tokens, "write") as w:
            self.assertEqual(w.error_code("node.delete", {"id": "ZZ-nobody"}), "not_found")
            self.assertEqual(w.error_code("pair.upsert", {"pair": {"a": "FR-audit-1", "b": "ZZ"}}),
                             "not_found")
            w.call("import.batch", {"nodes": [city("FR-audit-dry")], "dry_run": True})
            imp = w.call("import.begin", {})["import"]
            w.call("import.chunk", {"import": imp, "nodes": [city("FR-audit-aborted")]})
            w.call("import.abort", {"import": imp})
        with self.admin() as a:
            a.call("audit.list")
            a.call("server.info")
            after = a.call("audit.list")["total"]
            self.assertEqual(a.call("graph.stats")["epoch"], self.expected[-1]["epoch"])
        self.assertEqual(after, before)

    def test_5_survives_restart_and_save(self):
        full = self.listing(limit=10000)
        self.restart()
        self.assertEqual(self.listing(limit=10000), full, "audit trail changed across a restart")
        with self.admin() as a:
            self.assertTrue(a.call("server.save")["saved"])
        self.assertEqual(self.listing(limit=10000), full, "server.save changed the audit trail")
        with s.authed(self.daemon, self.tokens, "write") as w:
            type(self).change(w, "write", "node.upsert", {"node": city("FR-audit-6")}, ["FR-audit-6"])
        self.restart()
        res = self.listing(limit=10000)
        self.assertEqual(res["total"], full["total"] + 1)
        self.assertEqual(res["items"][1:], full["items"])
        self.check_entries(res["items"])

    def test_6_survives_automatic_compaction(self):
        # A small journal limit makes the writer compact on its own.
        self.restart(["--compact-bytes", "2048"])
        db = os.path.join(self.data, "db")
        with open(os.path.join(db, "snapshot.tns"), "rb") as f:
            snap0 = f.read()
        audit0 = os.path.getsize(os.path.join(db, "audit.tna"))
        with s.authed(self.daemon, self.tokens, "write") as w:
            for i in range(30):
                type(self).change(w, "write", "node.upsert",
                                  {"node": city("FR-audit-bulk-%d" % i, "Bulk %d %s" % (i, "n" * 100))},
                                  ["FR-audit-bulk-%d" % i])
        # Compaction happened (a new snapshot by rename, a short journal),
        # and the audit file only grew.
        # (Compare contents, not inode numbers: two compactions in a row
        # may give the new file the number the first one freed.)
        with open(os.path.join(db, "snapshot.tns"), "rb") as f:
            self.assertNotEqual(f.read(), snap0)
        self.assertLess(os.path.getsize(os.path.join(db, "journal.tnj")), 30 * 150)
        self.assertGreater(os.path.getsize(os.path.join(db, "audit.tna")), audit0)
        full = self.listing(limit=10000)
        self.check_entries(full["items"])
        self.restart()
        self.assertEqual(self.listing(limit=10000), full)
        self.check_entries(full["items"])


class WithoutTokens(unittest.TestCase):
    def test_loopback_admin_is_recorded_as_such(self):
        data = tempfile.mkdtemp(prefix="tnsec-audit-nt-")
        d = s.SecDaemon(["--data", os.path.join(data, "db")]).start()
        try:
            with d.client(timeout=10) as c:
                peer = "127.0.0.1:%d" % c.sock.getsockname()[1]
                c.call("node.upsert", {"node": city("FR-audit-nt")})
                items = c.call("audit.list", {"node": "FR-audit-nt"})["items"]
            self.assertEqual(len(items), 1)
            self.assertEqual(items[0]["role"], "admin")
            self.assertEqual(items[0]["token"], "-")
            self.assertEqual(items[0]["peer"], peer)
            self.assertEqual(items[0]["method"], "node.upsert")
        finally:
            d.stop()
            shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
