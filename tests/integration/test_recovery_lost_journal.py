"""A lost or emptied journal is not accepted silently.

After 6 acknowledged changes the journal is emptied (or deleted): the
snapshot alone says epoch 0, but the audit trail records changes up to
epoch 6. Starting from the snapshot would lose those changes and hand out
their epochs again. The daemon must refuse, naming what is missing, and
touch nothing; with --accept-lost-changes it starts, says so loudly, and
numbers new changes above every epoch ever seen.
"""

import collections
import os
import sys
import unittest

import durhelp as dh

N = 6


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


class LostJournal(unittest.TestCase):
    def setUp(self):
        self.d = dh.DataDaemon(empty=True)
        self.addCleanup(self.d.cleanup)
        self.d.start()
        with self.d.client() as c:
            self.base = c.call("server.info")["epoch"]
            c.call("node.upsert", {"node": {"id": "KK", "kind": "country", "name": "Kayland",
                                            "region": "Europe", "subregion": "Test"}})
            for i in range(N - 1):
                r = c.call("node.upsert", {"node": {"id": "KK-n%d" % i, "kind": "city",
                                                    "name": "N%d" % i, "country": "KK"}})
            self.epoch = r["epoch"]
        self.d.kill9()
        self.jpath = self.d.path("journal.tnj")
        self.snapshot = read_bytes(self.d.path("snapshot.tns"))
        self.audit = read_bytes(self.d.path("audit.tna"))

    def expect_refusal(self, what):
        rc, log = self.d.start(expect_fail=True)
        print("%s: exit %s; %s" % (what, rc, log.strip().splitlines()[-1] if log.strip() else ""),
              file=sys.stderr)
        self.assertNotEqual(rc, 0, "%s: the daemon started: %s" % (what, log))
        self.assertIn("audit", log, what)
        self.assertIn("epoch %d" % self.epoch, log, what)
        self.assertIn("--accept-lost-changes", log, what)
        # Nothing was rewritten: the evidence stays for the operator.
        self.assertEqual(read_bytes(self.d.path("snapshot.tns")), self.snapshot, what)
        self.assertEqual(read_bytes(self.d.path("audit.tna")), self.audit, what)

    def test_emptied_journal_refuses(self):
        open(self.jpath, "wb").close()
        self.expect_refusal("journal emptied")
        self.assertEqual(os.path.getsize(self.jpath), 0)

    def test_deleted_journal_refuses(self):
        os.unlink(self.jpath)
        self.expect_refusal("journal deleted")

    def test_accept_lost_changes_continues_above_every_epoch(self):
        open(self.jpath, "wb").close()
        self.d.args = ["--accept-lost-changes"]
        self.d.start()
        log = self.d.log()
        self.assertIn("lost", log)
        with self.d.client() as c:
            self.assertEqual(c.call("server.info")["epoch"], self.epoch)
            r = c.call("node.upsert", {"node": {"id": "KK", "kind": "country", "name": "Kayland 2",
                                                "region": "Europe", "subregion": "Test"}})
            self.assertEqual(r["epoch"], self.epoch + 1)
            items = c.call("audit.list", {"limit": 100})["items"]
            epochs = collections.Counter(it["epoch"] for it in items)
            self.assertEqual([e for e, k in epochs.items() if k > 1], [], "epochs reused: %r" % epochs)
        self.d.stop()
        # The new numbering is durable: a plain restart agrees.
        self.d.args = []
        self.d.start()
        with self.d.client() as c:
            self.assertEqual(c.call("server.info")["epoch"], self.epoch + 1)
            self.assertEqual(c.call("node.get", {"id": "KK"})["name"], "Kayland 2")
        self.d.stop()


if __name__ == "__main__":
    unittest.main()
