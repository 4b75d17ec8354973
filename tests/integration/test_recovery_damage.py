"""Recovery never mistakes damage for a torn append.

A crash in the middle of an append can only tear the tail of the last
record, and that change was never acknowledged: it is not in the audit
trail either (the journal is appended first). Anything else -- zeros over
complete records, or a record whose length is intact but whose checksum
fails -- is damage to acknowledged changes: the daemon must refuse to
start, naming the file and offset, and leave the file exactly as it was.
"""

import os
import sys
import unittest

import durhelp as dh

N = 6


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def write_bytes(path, data):
    with open(path, "wb") as f:
        f.write(data)


class RecoveryDamage(unittest.TestCase):
    def setUp(self):
        self.d = dh.DataDaemon(empty=True)
        self.addCleanup(self.d.cleanup)
        self.d.start()
        with self.d.client() as c:
            c.call("node.upsert", {"node": {"id": "KK", "kind": "country", "name": "Kayland",
                                            "region": "Europe", "subregion": "Test"}})
            for i in range(N - 1):
                r = c.call("node.upsert", {"node": {"id": "KK-n%d" % i, "kind": "city",
                                                    "name": "N%d" % i, "country": "KK"}})
            self.epoch = r["epoch"]
        self.d.kill9()
        self.jpath = self.d.path("journal.tnj")
        self.apath = self.d.path("audit.tna")
        self.recs = dh.journal_records(self.jpath)
        self.assertEqual(len(self.recs), N)
        self.journal = read_bytes(self.jpath)
        self.audit = read_bytes(self.apath)

    def refused(self, what, offset):
        rc, log = self.d.start(expect_fail=True)
        print("%s: exit %s; %s" % (what, rc, log.strip().splitlines()[-1] if log.strip() else ""),
              file=sys.stderr)
        self.assertNotEqual(rc, 0, "%s: the daemon started: %s" % (what, log))
        self.assertIn("journal.tnj", log, what)
        self.assertIn("offset %d" % offset, log, "%s: %s" % (what, log))
        self.assertNotIn("never acknowledged", log, what)
        self.assertEqual(read_bytes(self.jpath), self.damaged, "%s: the journal was rewritten" % what)

    def restore_and_check(self):
        write_bytes(self.jpath, self.journal)
        write_bytes(self.apath, self.audit)
        self.d.start()
        with self.d.client() as c:
            self.assertEqual(c.call("server.info")["epoch"], self.epoch)
        self.d.kill9()

    def damage(self, data):
        self.damaged = data
        write_bytes(self.jpath, data)

    def test_zeros_from_the_second_record_on(self):
        off = self.recs[1][0]
        self.damage(self.journal[:off] + bytes(len(self.journal) - off))
        self.refused("journal zeroed from record 2", off)
        self.restore_and_check()

    def test_last_two_records_zeroed(self):
        off = self.recs[-2][0]
        self.damage(self.journal[:off] + bytes(len(self.journal) - off))
        self.refused("last two records zeroed", off)
        self.restore_and_check()

    def test_bit_flip_in_last_complete_record(self):
        off, plen = self.recs[-1]
        data = bytearray(self.journal)
        data[off + dh.HDR + plen // 2] ^= 0x04
        self.damage(bytes(data))
        self.refused("one bit flipped in the last record", off)
        self.restore_and_check()

    def test_a_true_torn_tail_is_still_cut(self):
        # The crash came in the middle of the last append: half its bytes
        # landed, and its audit record was never written.
        off, plen = self.recs[-1]
        arecs = dh.journal_records(self.apath)
        write_bytes(self.apath, self.audit[:arecs[-1][0]])
        write_bytes(self.jpath, self.journal[:off + dh.HDR + plen // 2])
        self.d.start()
        with self.d.client() as c:
            self.assertEqual(c.call("server.info")["epoch"], self.epoch - 1)
        self.d.kill9()
        self.assertEqual(os.path.getsize(self.jpath), off)


if __name__ == "__main__":
    unittest.main()
