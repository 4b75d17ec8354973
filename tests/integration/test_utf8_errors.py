"""Error replies that echo the request are valid UTF-8.

A name or id cut at a byte count can split a multi-byte character, and a
request may carry invalid bytes in a string; either way a strict client
(msgpack raw=False) could not decode the reply. Echoed text is cut on
character boundaries and invalid bytes are written as \\xNN.
"""

import sys
import unittest

import msgpack

import tnharness as h


def raw_request(msgid, method, params):
    """Bytes of a request whose bytes objects are sent as MessagePack str
    (so they can hold invalid UTF-8)."""
    return msgpack.packb([0, msgid, method, params], use_bin_type=False)


class Utf8Errors(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = h.Daemon().start()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def reply(self, method, params, code=None):
        with self.d.client(timeout=10) as c:
            c.send_bytes(raw_request(7, method, params))
            try:
                err, res = c.wait_response(7)       # raw=False: strict UTF-8
            except UnicodeDecodeError as e:
                self.fail("%r: the reply is not valid UTF-8: %s" % (method[:20], e))
            self.assertIsNotNone(err)
            if code:
                self.assertEqual(err["code"], code, err)
            msg = err["message"]
            print("%-14r -> %s: %s" % (method[:14], err["code"], msg[:100]), file=sys.stderr)
            self.assertIsInstance(msg, str)
            return msg

    def test_method_name_cut_inside_a_character(self):
        msg = self.reply(("a" * 63 + "é").encode(), [], "method_not_found")
        self.assertIn("a" * 63, msg)

    def test_invalid_bytes_in_method_name(self):
        msg = self.reply(b"m\xff\xfe", [], "method_not_found")
        self.assertIn("m\\xff\\xfe", msg)

    def test_long_multibyte_method_name(self):
        self.reply(("é" * 300).encode(), [], "method_not_found")

    def test_import_token_cut_inside_a_character(self):
        msg = self.reply(b"import.chunk", [{b"import": ("a" * 39 + "é").encode()}], "not_found")
        self.assertIn("a" * 39, msg)

    def test_node_id_cut_inside_a_character(self):
        msg = self.reply(b"node.get", [{b"id": ("x" * 127 + "é").encode()}])
        self.assertIn("x" * 127, msg)

    def test_invalid_bytes_in_node_id(self):
        msg = self.reply(b"node.get", [{b"id": b"\xff\xfe"}])
        self.assertIn("\\xff\\xfe", msg)

    def test_invalid_bytes_in_option_name(self):
        msg = self.reply(b"graph.stats", [{b"\xffx": 1}], "invalid_params")
        self.assertIn("\\xffx", msg)

    def test_invalid_bytes_in_node_delete(self):
        self.reply(b"node.delete", [{b"id": b"KK\xc3"}], "not_found")


if __name__ == "__main__":
    unittest.main()
