"""The Python client package (clients/python, README.md there) against a live
twinnetd:

- one method per RPC method: the generated table (twinnet/_table.json) agrees
  with server.methods, and every method the server lists is a Client
  method with a docstring (methods newer than the table too);
- TwinnetError .code / .message / .data; token auth; pipelining; paged
  lists (every page, and a change between pages is refused); progress
  callbacks; server events; DataFrames with pandas and the clear
  ImportError without it;
- the old module API (call / send / wait / recv / notify) still works;
- `pip install --no-build-isolation` of clients/python into a venv that
  sees Debian's packages, offline;
- the example clients/python/examples/coverage_timeline.py.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sechelp as s  # noqa: E402
import tnharness as h  # noqa: E402

import twinnet  # noqa: E402  (clients/python, from PYTHONPATH)
from twinnet import _table  # noqa: E402

PYDIR = os.path.join(h.source_dir(), "clients", "python")
D = None


def setUpModule():
    global D
    D = h.Daemon().start()


def tearDownModule():
    D.stop()


class Methods(unittest.TestCase):
    def setUp(self):
        self.c = twinnet.Client("127.0.0.1", D.port)

    def tearDown(self):
        self.c.close()

    def test_table_agrees_with_server_methods(self):
        server = {m["name"]: m for m in self.c.call("server.methods")["items"]}
        for name, entry in _table.METHODS.items():
            self.assertIn(name, server, "%s is in twinnet/_table.json but not on the server" % name)
            self.assertTrue(set(entry["params"]) <= set(server[name]["params"]),
                            "%s: the table has options the server does not take" % name)
            self.assertEqual(entry["role"], server[name]["role"], name)

    def test_table_is_regenerated(self):
        # The shipped table is what `python3 -m twinnet.regen --write` makes
        # of this server: a method or option added to the server without
        # regenerating the table fails here.
        from twinnet import regen
        items = self.c.call("server.methods")["items"]
        path = os.path.join(os.path.dirname(_table.__file__), "_table.json")
        with open(path, encoding="utf-8") as f:
            shipped = f.read()
        self.assertEqual(regen._generate(items, _table.METHODS), shipped,
                         "twinnet/_table.json is stale: run python3 -m twinnet.regen --port P --write")

    def test_every_server_method_is_a_client_method(self):
        for name in self.c.method_table():
            fn = getattr(self.c, name.replace(".", "_"))
            self.assertTrue(callable(fn), name)
            self.assertIn(repr(name), fn.__doc__)
        self.assertEqual(self.c.server_ping(), "pong")
        self.assertEqual(self.c.node_get(id="CN-430100")["name"], "Changsha")
        top = self.c.query_centrality({"metric": "degree"}, top=3)
        self.assertEqual(len(top["items"]), 3)
        self.assertEqual(top, self.c.call("query.centrality", metric="degree", top=3))

    def test_method_missing_from_the_table_comes_from_the_server(self):
        # A server method the table does not know (as after a server upgrade).
        from twinnet import methods
        saved = _table.METHODS.pop("node.find")
        delattr(methods.Methods, "node_find")
        try:
            c = twinnet.Client("127.0.0.1", D.port)
            self.assertNotIn("node_find", dir(twinnet.Client))
            res = c.node_find(q="changsha")
            self.assertIn("CN-430100", [n["id"] for n in res["items"]])
            self.assertIn("'node.find'", c.node_find.__doc__)
            with self.assertRaises(AttributeError):
                c.no_such_method()
            c.close()
        finally:
            _table.METHODS["node.find"] = saved
            setattr(methods.Methods, "node_find", methods._make("node.find", saved))

    def test_error_code_and_data(self):
        with self.assertRaises(twinnet.TwinnetError) as cm:
            self.c.node_get(id="nowhere")
        self.assertEqual(cm.exception.code, "not_found")
        with self.assertRaises(twinnet.TwinnetError) as cm:
            self.c.import_batch(nodes=[{"id": "XX-a", "kind": "city", "name": "A", "country": "JP"},
                                       {"id": "XX-b", "kind": "town", "name": "B", "country": "JP"}])
        e = cm.exception
        self.assertEqual(e.code, "invalid_params")
        self.assertEqual([(d["index"], d["field"]) for d in e.data], [(1, "nodes.kind")])

    def test_pipelining(self):
        ids = ["CN-430100", "JP", "CN-430600", "FR", "US"] * 20
        msgids = [self.c.send("node.get", {"id": i}) for i in ids]
        self.assertEqual(len(set(msgids)), len(ids))
        # Collected in another order than sent.
        got = {m: r["id"] for m, r in zip(msgids[::-1], self.c.gather(msgids[::-1]))}
        self.assertEqual([got[m] for m in msgids], ids)

    def test_paged_lists(self):
        all_pairs = self.c.pair_list(limit=10000)
        pairs = list(self.c.iter_pairs(page_size=7))
        self.assertEqual(len(pairs), all_pairs["total"])
        self.assertEqual(pairs, all_pairs["items"])
        jp = list(self.c.iter_nodes(page_size=3, country="JP"))
        self.assertTrue(jp)
        self.assertTrue(all(n.get("country", n["id"]) == "JP" for n in jp))
        self.assertEqual(len(list(self.c.iter_nodes(page_size=50))),
                         self.c.node_list(limit=1)["total"])

    def test_change_between_pages_is_refused(self):
        it = self.c.iter_pairs(page_size=5)
        next(it)
        with twinnet.Client("127.0.0.1", D.port) as w:
            w.node_upsert(node={"id": "JP-paging-test", "kind": "city", "name": "Paging", "country": "JP"})
        try:
            with self.assertRaises(twinnet.TwinnetError) as cm:
                list(it)
            self.assertEqual(cm.exception.code, "conflict")
        finally:
            self.c.node_delete(id="JP-paging-test")

    def test_progress_callback_on_a_streamed_import(self):
        seen = []
        tok = self.c.import_begin(progress=True, total=4, dry_run=True)["import"]
        nodes = [{"id": "JP-prog-%d" % i, "kind": "city", "name": "P%d" % i, "country": "JP"}
                 for i in range(4)]
        self.c.import_chunk({"import": tok, "nodes": nodes[:2]}, progress=lambda d, t: seen.append((d, t)))
        self.c.import_chunk({"import": tok, "nodes": nodes[2:]}, progress=lambda d, t: seen.append((d, t)))
        self.assertEqual(seen, [(2, 4), (4, 4)])
        self.c.import_abort({"import": tok})

    def test_events_after_subscribe(self):
        self.assertEqual(self.c.metrics_subscribe(), {"subscribed": True})
        epoch = self.c.server_info()["epoch"]
        with twinnet.Client("127.0.0.1", D.port) as w:
            w.node_upsert(node={"id": "JP-event-test", "kind": "city", "name": "Event", "country": "JP"})
        ev = next(self.c.events(timeout=10))
        self.assertEqual(ev, {"type": "epoch", "epoch": epoch + 1})
        self.assertEqual(list(self.c.events(timeout=0.3)), [])      # nothing else came
        self.c.node_delete(id="JP-event-test")

    def test_dataframe_or_clear_import_error(self):
        cov = self.c.query_coverage(by="region")
        try:
            import pandas  # noqa: F401
        except ImportError:
            with self.assertRaisesRegex(ImportError, "python3-pandas"):
                cov.to_dataframe()
        else:
            df = cov.to_dataframe()
            self.assertEqual(list(df["group"]), [r["group"] for r in cov["items"]])
            pairs = self.c.dataframe("pair.list")
            self.assertEqual(len(pairs), self.c.pair_list(limit=1)["total"])
            nb = twinnet.to_dataframe(self.c.node_neighbors(id="CN-430100"))
            self.assertIn("node.id", nb.columns)
        # Without pandas (hidden from a fresh interpreter): the ImportError
        # says how to get it.
        code = ("import sys; sys.modules['pandas'] = None; import twinnet\n"
                "try:\n    twinnet.to_dataframe([{'a': 1}])\n"
                "except ImportError as e:\n    print('IMPORT-ERROR', e)\n")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=60, env=dict(os.environ, PYTHONPATH=PYDIR)).stdout
        self.assertIn("IMPORT-ERROR to_dataframe needs pandas", out)


class Auth(unittest.TestCase):
    def test_token(self):
        tokens = s.Tokens()
        try:
            with h.Daemon(["--tokens", tokens.path]) as d:
                with twinnet.Client("127.0.0.1", d.port, token=tokens.token["read"]) as c:
                    self.assertEqual(c.role, "read")
                    self.assertEqual(c.graph_stats()["epoch"], 1)
                    with self.assertRaises(twinnet.TwinnetError) as cm:
                        c.node_delete(id="JP")
                    self.assertEqual(cm.exception.code, "forbidden")
                with twinnet.Client("127.0.0.1", d.port) as c:
                    with self.assertRaises(twinnet.TwinnetError) as cm:
                        c.graph_stats()
                    self.assertEqual(cm.exception.code, "unauthorized")
                with self.assertRaises(twinnet.TwinnetError) as cm:
                    twinnet.Client("127.0.0.1", d.port, token="wrong-token")
                self.assertEqual(cm.exception.code, "unauthorized")
        finally:
            tokens.cleanup()


class OldApi(unittest.TestCase):
    def test_module_api(self):
        c = twinnet.Client("127.0.0.1", D.port, 10)           # timeout stays the third argument
        self.assertEqual(c.call("server.ping"), "pong")
        m = c.send("node.get", {"id": "JP"})
        c.notify("nvim_set_client_info", {"name": "test"})    # ignored by the server
        self.assertEqual(c.wait(m)["id"], "JP")
        m = c.send("server.ping")
        msg = c.recv()
        self.assertEqual(msg, [twinnet.RESPONSE, m, None, "pong"])
        res = c.call("graph.stats")
        self.assertIsInstance(res, dict)
        c.close()
        c.close()
        with self.assertRaises(twinnet.TwinnetError) as cm:
            c.call("server.ping")
        self.assertEqual(cm.exception.code, "unavailable")
        with self.assertRaises(twinnet.TwinnetError) as cm:
            twinnet.Client("127.0.0.1", 1, timeout=2)
        self.assertEqual(cm.exception.code, "unavailable")


class Packaging(unittest.TestCase):
    def test_pip_install_into_a_venv(self):
        tmp = tempfile.mkdtemp(prefix="tnpip-")
        try:
            # Build from a copy: pip leaves build/ and *.egg-info beside the sources.
            src = os.path.join(tmp, "src")
            shutil.copytree(PYDIR, src, ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
            venv = os.path.join(tmp, "v")
            subprocess.run(["/usr/bin/python3", "-m", "venv", "--without-pip", "--system-site-packages", venv],
                           check=True, timeout=120)
            py = os.path.join(venv, "bin", "python")
            env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
            p = subprocess.run([py, "-m", "pip", "install", "--no-build-isolation", "--no-index", src],
                               capture_output=True, text=True, timeout=300, env=env, cwd=tmp)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            code = ("import twinnet, sys; c = twinnet.Client('127.0.0.1', %d); "
                    "print(twinnet.__file__); print(c.server_ping(), twinnet.__version__)" % D.port)
            p = subprocess.run([py, "-c", code], capture_output=True, text=True, timeout=60, env=env, cwd=tmp)
            self.assertEqual(p.returncode, 0, p.stderr)
            where, answer = p.stdout.splitlines()
            self.assertTrue(where.startswith(os.path.join(venv, "lib")), where)
            self.assertEqual(answer, "pong 0.2.0")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


class Example(unittest.TestCase):
    def test_coverage_timeline(self):
        tmp = tempfile.mkdtemp(prefix="tnex-")
        try:
            script = os.path.join(PYDIR, "examples", "coverage_timeline.py")
            out_png = os.path.join(tmp, "t.png")
            p = subprocess.run(["/usr/bin/python3", script, "--port", str(D.port), "--text"],
                               capture_output=True, text=True, timeout=120, cwd=tmp)
            self.assertEqual(p.returncode, 0, p.stderr)
            with twinnet.Client("127.0.0.1", D.port) as c:
                cov = c.query_coverage(by="region")
                timeline = [y for y in c.metrics_get()["timeline"] if y.get("year") is not None]
            self.assertIn("%d of %d countries" % (cov["total"]["covered"], cov["total"]["countries"]), p.stdout)
            for row in cov["items"]:
                self.assertRegex(p.stdout, r"(?m)^\s*%s\s+%d\s+%d\s" % (row["group"], row["countries"], row["covered"]))
            last = timeline[-1]
            self.assertRegex(p.stdout, r"(?m)^\s*%d\s+%d #+\s+%d$" % (last["year"], last["pairs"], last["cumulative"]))
            try:
                import matplotlib  # noqa: F401
                have_mpl = True
            except ImportError:
                have_mpl = False
            p = subprocess.run(["/usr/bin/python3", script, "--port", str(D.port), "--out", out_png],
                               capture_output=True, text=True, timeout=120, cwd=tmp)
            self.assertEqual(p.returncode, 0, p.stderr)
            if have_mpl:
                with open(out_png, "rb") as f:
                    self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
            else:
                self.assertFalse(os.path.exists(out_png))
                self.assertRegex(p.stdout, r"(?m)^\s*%d\s+%d #+" % (last["year"], last["pairs"]))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
