"""The twinnet CLI for people at a terminal (docs/cli.md):

- colour: present on a terminal (a pty), absent when piped, with NO_COLOR
  set, or with --color never; --color always forces it; tables line up the
  same either way;
- short options like redis-cli: -h HOST, -p PORT; -h alone and --help
  still print the usage;
- a progress bar fed by the server's progress notifications, on a
  terminal only, for a long query;
- twinnet watch prints a new summary after a change (events from
  metrics.subscribe), appended when piped, redrawn on a terminal.
"""

import os
import pty
import re
import select
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tnharness as h  # noqa: E402

ESC = "\x1b["
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
D = None


def setUpModule():
    global D
    D = h.Daemon().start()


def tearDownModule():
    D.stop()


def env(**extra):
    e = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TWINNET_TOKEN")}
    e["TERM"] = "xterm"
    e.update(extra)
    return e


def piped(*args, port=None, **envs):
    p = subprocess.run([h.cli_path(), "-p", str(port or D.port)] + list(args), capture_output=True, text=True,
                       timeout=120, stdin=subprocess.DEVNULL, env=env(**envs))
    return p.returncode, p.stdout, p.stderr


def on_pty(*args, port=None, timeout=120, **envs):
    """Run the CLI with stdout and stderr on a pty; (exit code, all output)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([h.cli_path(), "-p", str(port or D.port)] + list(args), stdin=subprocess.DEVNULL,
                            stdout=slave, stderr=slave, env=env(**envs))
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r, _, _ = select.select([master], [], [], 0.5)
        if r:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        elif proc.poll() is not None:
            break
    rc = proc.wait(timeout=30)
    os.close(master)
    return rc, seen.decode("utf-8", "replace").replace("\r\n", "\n")


class Colour(unittest.TestCase):
    def test_piped_output_has_no_colour(self):
        rc, out, err = piped("coverage")
        self.assertEqual(rc, 0, err)
        self.assertNotIn("\x1b", out)
        self.assertRegex(out, r"(?m)^group\s+countries\s+covered\s+ratio\s+pairs\s+units$")

    def test_terminal_gets_colour_and_the_same_layout(self):
        rc, out = on_pty("coverage")
        self.assertEqual(rc, 0, out)
        self.assertIn(ESC + "1;4mgroup" + ESC + "0m", out)
        rc2, plain, _ = piped("coverage")
        self.assertEqual(ANSI.sub("", out), plain)
        rc, out = on_pty("stats")
        self.assertIn(ESC + "1mnodes" + ESC + "0m", out)

    def test_no_color_and_color_never_turn_it_off(self):
        for args, envs in ((("coverage",), {"NO_COLOR": "1"}), (("--color", "never", "coverage"), {}),
                           (("coverage",), {"TERM": "dumb"})):
            rc, out = on_pty(*args, **envs)
            self.assertEqual(rc, 0, out)
            self.assertNotIn("\x1b", out, (args, envs))
            self.assertIn("Africa", out)
        # An empty NO_COLOR does not count (no-color.org).
        rc, out = on_pty("coverage", NO_COLOR="")
        self.assertIn(ESC + "1;4m", out)

    def test_color_always_when_piped_and_bad_value(self):
        rc, out, err = piped("--color", "always", "coverage")
        self.assertEqual(rc, 0, err)
        self.assertIn(ESC + "1;4mgroup", out)
        rc, out, err = piped("--color", "sometimes", "coverage")
        self.assertEqual(rc, 2)
        self.assertIn("--color is auto, always or never", err)

    def test_errors_in_red_on_a_terminal_only(self):
        rc, out = on_pty("node", "nowhere")
        self.assertEqual(rc, 1)
        self.assertIn(ESC + "1;31merror:" + ESC + "0m not_found", out)
        rc, out, err = piped("node", "nowhere")
        self.assertEqual(rc, 1)
        self.assertTrue(err.startswith("error: not_found"), err)


class ShortOptions(unittest.TestCase):
    def test_h_host_and_p_port(self):
        p = subprocess.run([h.cli_path(), "-h", "127.0.0.1", "-p", str(D.port), "stats"], capture_output=True,
                           text=True, timeout=60, env=env())
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"(?m)^epoch\s+\d+")
        # After the command too, and -h names a host: a wrong one fails to connect.
        p = subprocess.run([h.cli_path(), "stats", "-p", str(D.port), "-h", "127.0.0.1"], capture_output=True,
                           text=True, timeout=60, env=env())
        self.assertEqual(p.returncode, 0, p.stderr)
        p = subprocess.run([h.cli_path(), "-h", "no-such-host.invalid", "-p", str(D.port), "stats"],
                           capture_output=True, text=True, timeout=60, env=env())
        self.assertEqual(p.returncode, 3)
        self.assertIn("no-such-host.invalid", p.stderr)

    def test_help_still_works(self):
        for args in (["-h"], ["--help"], ["help"]):
            p = subprocess.run([h.cli_path()] + args, capture_output=True, text=True, timeout=30)
            self.assertEqual(p.returncode, 0, args)
            self.assertTrue(p.stdout.startswith("usage: twinnet [-h HOST] [-p PORT]"), args)
            self.assertIn("watch", p.stdout)
        for args in (["stats", "-h"], ["stats", "--help"]):
            p = subprocess.run([h.cli_path()] + args, capture_output=True, text=True, timeout=30)
            self.assertEqual(p.returncode, 0)
            self.assertTrue(p.stdout.startswith("usage: twinnet stats"), p.stdout)
        p = subprocess.run([h.cli_path(), "import", "-h"], capture_output=True, text=True, timeout=30)
        self.assertIn("--pairs-by-name", p.stdout)
        p = subprocess.run([h.cli_path(), "-p"], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertIn("-p needs a value", p.stderr)


class Progress(unittest.TestCase):
    def test_query_progress_bar_on_a_terminal_only(self):
        with h.Daemon(empty=True) as d:
            with d.client(timeout=120) as c:
                nodes, pairs = h.generated_graph(11, 5000, n_countries=20, n_provinces=30)
                h.load_batch(c, nodes, pairs)
            args = ["call", "query.centrality", '{"metric": "betweenness", "top": 3, "deadline_ms": 300000}']
            rc, out = on_pty(*args, port=d.port, timeout=300)
            self.assertEqual(rc, 0, out)
            self.assertRegex(out, r"\rquery\.centrality \[[#-]{30}\]\s+\d+%")
            # The bar is erased before the result, which follows in full.
            tail = out.rsplit("\r\x1b[K", 1)[-1]
            self.assertRegex(tail, r'^\{"epoch":\d+,"metric":"betweenness".*"items":\[\{"id"')
            rc, plain, err = piped(*args, port=d.port)
            self.assertEqual(rc, 0, err)
            self.assertNotIn("\r", plain + err)
            self.assertNotIn("[#", err)


class Watch(unittest.TestCase):
    def read_until(self, proc, buf, pattern, timeout=30):
        deadline = time.monotonic() + timeout
        while not re.search(pattern, buf[0]):
            left = deadline - time.monotonic()
            self.assertGreater(left, 0, "no %r in %r" % (pattern, buf[0]))
            r, _, _ = select.select([proc.stdout], [], [], left)
            if r:
                chunk = os.read(proc.stdout.fileno(), 65536).decode("utf-8", "replace")
                self.assertTrue(chunk, "watch ended early: %r" % buf[0])
                buf[0] += chunk

    def test_watch_prints_a_new_summary_after_a_change(self):
        with h.Daemon() as d:
            proc = subprocess.Popen([h.cli_path(), "-p", str(d.port), "watch", "--count", "2"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                    env=env())
            buf = [""]
            try:
                self.read_until(proc, buf, r"(?m)^server\s")
                first = buf[0]
                self.assertRegex(first, r"^twinnet watch 127\.0\.0\.1:%d  epoch 1  at " % d.port)
                cities = int(re.search(r"(?m)^nodes\s+\d+ countries, \d+ provinces, (\d+) cities$", first)[1])
                self.assertRegex(first, r"(?m)^coverage\s+\d+ of \d+ countries: Africa \d+/\d+")
                time.sleep(0.3)
                self.assertIsNone(proc.poll())          # waits: no polling, no second summary yet
                self.assertEqual(buf[0].count("twinnet watch"), 1)
                with d.client() as c:
                    c.call("node.upsert", {"node": {"id": "JP-watch", "kind": "city", "name": "Watch",
                                                    "country": "JP"}})
                out, err = proc.communicate(timeout=30)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            text = buf[0] + out.decode("utf-8", "replace")
            self.assertEqual(proc.returncode, 0, err)
            self.assertNotIn("\x1b", text)
            second = text.split("\n\ntwinnet watch", 1)[1]
            self.assertRegex(second, r"^ 127\.0\.0\.1:%d  epoch 2  at " % d.port)
            self.assertIn(", %d cities" % (cities + 1), second)

    def test_watch_redraws_on_a_terminal(self):
        with h.Daemon() as d:
            rc, out = on_pty("watch", "--count", "1", port=d.port, timeout=30)
            self.assertEqual(rc, 0, out)
            self.assertTrue(out.startswith("\x1b[H\x1b[2J"), out[:40])
            self.assertIn("epoch 1", out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
