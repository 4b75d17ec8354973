"""The protocol reference (docs/protocol.md) against the running server.

Starts twinnetd, asks server.methods, and fails when
- a method the server offers has no section in the reference,
- the reference documents a method the server does not offer,
- a method's documented option names differ from the names the server
  reports (server.methods "params"), or its required options differ from
  those the server's schema requires, or
- the documented least role of a method differs from the server's.

A method section is a heading "### `name`"; its options are the first
column of the table under it whose header starts with "| option |" (no such
table, or the line "Options: none.", means no options). The reference is
one file: a method documented twice fails.

Environment (set by ctest): TWINNETD, TN_SOURCE_DIR.
"""

import os
import re
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import tnharness as h  # noqa: E402

HEADING = re.compile(r"^### `([a-z_.]+)`\s*$")
OPTION_ROW = re.compile(r"^\|\s*`([a-z_]+)`\s*\|")


def doc_path():
    return os.path.join(h.source_dir(), "docs", "protocol.md")


def parse(path):
    """{method: {"options": set, "line": n, "text": section}} of one file."""
    out = {}
    current = None
    in_options = False
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            line = line.rstrip("\n")
            m = HEADING.match(line)
            if m:
                current = {"options": set(), "required": set(), "line": n, "text": []}
                if m.group(1) in out:
                    raise AssertionError("%s:%d: %s documented twice" % (path, n, m.group(1)))
                out[m.group(1)] = current
                in_options = False
                continue
            if line.startswith("#"):
                current = None          # any other heading ends the section
                continue
            if current is None:
                continue
            current["text"].append(line)
            if re.match(r"^\|\s*option\s*\|", line):
                in_options = True
                continue
            if in_options:
                if not line.startswith("|"):
                    in_options = False
                    continue
                o = OPTION_ROW.match(line)
                if o:
                    current["options"].add(o.group(1))
                    cells = [c.strip() for c in line.strip().strip("|").split("|")]
                    if len(cells) >= 3 and cells[2] == "required":
                        current["required"].add(o.group(1))
    return out


def documented():
    path = doc_path()
    methods = parse(path)
    for sec in methods.values():
        sec["path"] = os.path.relpath(path, h.source_dir())
    return methods


class ProtocolDoc(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = h.Daemon(args=["--dataset", "hunan"]).start()
        with cls.daemon.client() as c:
            cls.items = {it["name"]: it for it in c.call("server.methods")["items"]}
        cls.docs = documented()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()

    def test_the_parser_reads_the_reference(self):
        # Guards against a parser that silently finds nothing: the core
        # methods are in docs/protocol.md with their known options.
        self.assertIn("query.centrality", self.docs)
        self.assertIn("metric", self.docs["query.centrality"]["options"])
        self.assertEqual(self.docs["server.ping"]["options"], set())
        self.assertEqual(self.docs["node.get"]["path"], os.path.join("docs", "protocol.md"))

    def test_every_server_method_is_documented(self):
        missing = sorted(set(self.items) - set(self.docs))
        self.assertEqual(missing, [], "methods the server offers but docs/protocol.md "
                         "does not document (add a '### `name`' section)")

    def test_every_documented_method_exists(self):
        extra = sorted(set(self.docs) - set(self.items))
        self.assertEqual(extra, [], "methods documented but not offered by the server")

    def test_option_names_agree(self):
        diffs = []
        for name in sorted(set(self.items) & set(self.docs)):
            server = set(self.items[name]["params"])
            doc = self.docs[name]["options"]
            if server != doc:
                diffs.append("%s (%s:%d): only in the server %s, only in the doc %s"
                             % (name, self.docs[name]["path"], self.docs[name]["line"],
                                sorted(server - doc), sorted(doc - server)))
        self.assertEqual(diffs, [])

    def test_required_options_agree(self):
        # The default column says "required" exactly for the options the
        # server's schema marks required.
        diffs = []
        for name in sorted(set(self.items) & set(self.docs)):
            opts = self.items[name].get("options")
            if opts is None:
                continue
            server = {o["name"] for o in opts if o.get("required")}
            doc = self.docs[name]["required"]
            if server != doc:
                diffs.append("%s: required in the server %s, in the doc %s"
                             % (name, sorted(server), sorted(doc)))
        self.assertEqual(diffs, [])

    def test_roles_agree(self):
        # Every method's least role appears in the roles table of the
        # reference: the row of its role names it (read methods may be
        # named by the "every `query.*`" wildcard).
        with open(doc_path(), encoding="utf-8") as f:
            text = f.read()
        rows = {}
        for role in ("read", "write", "admin"):
            m = re.search(r"^\| `%s` \| (.*)\|$" % role, text, re.M)
            self.assertIsNotNone(m, "no roles-table row for %s" % role)
            rows[role] = m.group(1)
        wrong = []
        for name, it in sorted(self.items.items()):
            if name in ("server.ping", "auth"):
                continue                  # open before auth, reported as read
            row = rows[it["role"]]
            named = "`%s`" % name in row or (name.startswith("query.")
                                             and "`query.*`" in row)
            if not named:
                wrong.append("%s (role %s)" % (name, it["role"]))
        self.assertEqual(wrong, [], "methods missing from their role's row")


if __name__ == "__main__":
    unittest.main(verbosity=2)
