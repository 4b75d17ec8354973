#!/usr/bin/env python3
"""make_corpus.py -- write the hand-made seed corpora of tests/fuzz.

Run from anywhere: python3 tests/fuzz/make_corpus.py. It rewrites the
seed-* files of corpus/<target>/ (files whose names do not start with
"seed-" -- findings and merged fuzzer units -- are left alone).

Needs only the standard library: a small MessagePack encoder is below, so
that the seeds do not depend on python3-msgpack.
"""
import os
import struct
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def pack(v):
    """MessagePack encoding of None/bool/int/float/str/bytes/list/dict."""
    if v is None:
        return b"\xc0"
    if v is True:
        return b"\xc3"
    if v is False:
        return b"\xc2"
    if isinstance(v, int):
        if 0 <= v <= 0x7F:
            return bytes([v])
        if -32 <= v < 0:
            return struct.pack("b", v)
        if 0 <= v <= 0xFF:
            return b"\xcc" + struct.pack(">B", v)
        if 0 <= v <= 0xFFFF:
            return b"\xcd" + struct.pack(">H", v)
        if 0 <= v <= 0xFFFFFFFF:
            return b"\xce" + struct.pack(">I", v)
        if v >= 0:
            return b"\xcf" + struct.pack(">Q", v)
        if v >= -0x80:
            return b"\xd0" + struct.pack(">b", v)
        if v >= -0x8000:
            return b"\xd1" + struct.pack(">h", v)
        if v >= -0x80000000:
            return b"\xd2" + struct.pack(">i", v)
        return b"\xd3" + struct.pack(">q", v)
    if isinstance(v, float):
        return b"\xcb" + struct.pack(">d", v)
    if isinstance(v, str):
        b = v.encode("utf-8")
        n = len(b)
        if n < 32:
            return bytes([0xA0 | n]) + b
        if n <= 0xFF:
            return b"\xd9" + bytes([n]) + b
        if n <= 0xFFFF:
            return b"\xda" + struct.pack(">H", n) + b
        return b"\xdb" + struct.pack(">I", n) + b
    if isinstance(v, bytes):
        n = len(v)
        if n <= 0xFF:
            return b"\xc4" + bytes([n]) + v
        return b"\xc5" + struct.pack(">H", n) + v
    if isinstance(v, (list, tuple)):
        n = len(v)
        head = bytes([0x90 | n]) if n < 16 else b"\xdc" + struct.pack(">H", n)
        return head + b"".join(pack(x) for x in v)
    if isinstance(v, dict):
        n = len(v)
        head = bytes([0x80 | n]) if n < 16 else b"\xde" + struct.pack(">H", n)
        return head + b"".join(pack(k) + pack(x) for k, x in v.items())
    raise TypeError(type(v))


def record(payload):
    """A data-directory record: magic, length, payload CRC, header CRC (LE)."""
    h = b"TNR1" + struct.pack("<II", len(payload), zlib.crc32(payload) & 0xFFFFFFFF)
    return h + struct.pack("<I", zlib.crc32(h) & 0xFFFFFFFF) + payload


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def clean():
    for target in ("wire", "store", "csv", "json"):
        d = os.path.join(CORPUS, target)
        if os.path.isdir(d):
            for n in os.listdir(d):
                if n.startswith("seed-"):
                    os.unlink(os.path.join(d, n))


NEW_CITY = {"id": "CN-430500", "kind": "city", "name": "Shaoyang", "country": "CN",
            "parent": "CN-430000", "lat": 27.2, "lon": 111.5, "population": 6563520}
NEW_COUNTRY = {"id": "CL", "kind": "country", "name": "Chile", "region": "Americas",
               "subregion": "South America", "tags": ["bri", "apec"]}

# One request per method of docs/protocol.md, "Methods", with options that are
# valid against the fuzz world (fuzz.h).
REQUESTS = [
    ("server.ping", None),
    ("server.methods", None),
    ("server.info", None),
    ("server.save", None),
    ("metrics.subscribe", None),
    ("graph.stats", {"as_of": 2005, "min_confidence": "medium"}),
    ("node.get", {"id": "CN-430400"}),
    ("node.find", {"q": "heng", "kind": "city", "country": "CN", "limit": 5}),
    ("node.neighbors", {"id": "CN-430700", "kind": "sister"}),
    ("pair.list", {"unit": "CN-430400", "country": "IT", "region": "Europe", "since_from": 1990,
                   "since_to": 2020, "limit": 10, "offset": 0, "as_of": 2024,
                   "min_confidence": "low", "kind": "any"}),
    ("query.centrality", {"metric": "betweenness", "graph": "partnerships", "kind": "city",
                          "top": 5, "normalized": True, "deadline_ms": 1000}),
    ("query.centrality", {"metric": "pagerank", "graph": "full", "damping": 0.85, "top": 3}),
    ("query.centrality", {"metric": "closeness", "cutoff": 3, "country": "CN"}),
    ("query.centrality", {"metric": "eigenvector"}),
    ("query.centrality", {"metric": "constraint", "graph": "full"}),
    ("query.coverage", {"home": "CN-430000", "by": "region", "kind": "sister"}),
    ("query.coverage", {"by": "tag", "tag": "bri"}),
    ("query.gaps", {"region": "Europe", "subregion": "Southern Europe", "limit": 5}),
    ("query.gaps", {"tag": "apec", "min_confidence": "high"}),
    ("query.recommend", {"unit": "CN-430400", "top": 3, "region": "Americas"}),
    ("metrics.get", {"if_epoch": 1}),
    ("metrics.get", None),
    ("node.upsert", {"node": NEW_CITY}),
    ("node.upsert", {"node": {"id": "CN-430400", "kind": "city", "name": "Hengyang City",
                              "country": "CN", "parent": "CN-430000"}}),
    ("node.delete", {"id": "NZ-nelson", "cascade": True}),
    ("node.delete", {"id": "CN-431000"}),
    ("pair.upsert", {"pair": {"a": "CN-430400", "b": "NZ-nelson", "kind": "friendly",
                              "since": 2019, "source": "seed", "confidence": "high"}}),
    ("pair.delete", {"a": "CN-430000", "b": "IT-umbria"}),
    ("import.batch", {"nodes": [NEW_COUNTRY, NEW_CITY],
                      "pairs": [{"a": "CN-430500", "b": "PE-cusco", "since": "2010-04"}],
                      "mode": "upsert", "dry_run": False}),
    ("import.batch", {"nodes": [NEW_COUNTRY], "mode": "replace", "dry_run": True}),
    ("import.begin", {"mode": "upsert", "dry_run": False, "total": 10, "progress": True}),
    ("import.chunk", {"import": "imp-1", "nodes": [NEW_CITY], "pairs": []}),
    ("import.commit", {"import": "imp-1"}),
    ("import.abort", {"import": "imp-1"}),
    ("no.such.method", None),
]


def request(msgid, method, opts):
    return pack([0, msgid, method, [] if opts is None else [opts]])


def wire_seeds():
    for i, (method, opts) in enumerate(REQUESTS):
        # Control byte: one chunk (0x80) for even seeds, 1..9-byte chunks
        # for odd ones, so both paths start covered.
        ctl = 0x80 if i % 2 == 0 else 0x02
        write("wire", "%02d-%s" % (i, method), bytes([ctl]) + request(i + 1, method, opts))
    # Pipelined requests, a notification and a response in one stream.
    stream = (request(1, "server.ping", None) + request(2, "graph.stats", None)
              + pack([2, "cancel", [{"msgid": 2}]]) + pack([1, 9, None, "x"])
              + request(3, "node.get", {"id": "PE-cusco"}))
    write("wire", "pipeline", b"\x07" + stream)
    write("wire", "pipeline-tight", b"\x41" + stream)
    # Envelopes that are wrong in each way tn_rpc_parse checks.
    bad = [pack({"a": 1}), pack([0, 1, "server.ping"]), pack([7, 1, "x", []]),
           pack([0, -1, "server.ping", []]), pack([0, 2 ** 32, "server.ping", []]),
           pack([0, 1, 5, []]), pack([0, 1, "x" * 100, []]), pack([0, 1, "graph.stats", 3]),
           pack([0, 1, "graph.stats", [1]]), pack([0, 1, "graph.stats", [{}, {}]]),
           pack([0, 1, "node.get", [{"id": 5}]]), pack([0, 1, "node.get", [{"nope": 1}]]),
           pack([0, 1, "graph.stats", [{1: 2}]]), b"\x94\x00\x01\xa4ping\xd4\x01\x00"]
    for i, b in enumerate(bad):
        write("wire", "bad-envelope-%02d" % i, b"\x80" + b)
    # Hostile headers: huge declared lengths, nested array32 chains, 0xc1.
    hostile = [b"\xc1", b"\xdd\xff\xff\xff\xff", b"\xdf\xff\xff\xff\xff", b"\xdd\x08\x00\x00\x00",
               b"\xdb\xff\xff\xff\xff", b"\xdd\x01\x00\x00\x00" * 20, b"\xdc\xff\xff" * 50,
               b"\x91" * 33 + b"\xc0", b"\x91" * 16 + b"\xc0", b"\x00" + b"\x00" * 64,
               request(1, "server.ping", None)[:-3], b"\x90", b"\x80"]
    for i, b in enumerate(hostile):
        write("wire", "hostile-%02d" % i, b"\x80" + b)
        write("wire", "hostile-drip-%02d" % i, b"\x00" + b)


def snapshot_bytes(epoch=1):
    nodes = [{"id": "CN", "kind": "country", "name": "China"},
             {"id": "CN-430000", "kind": "province", "name": "Hunan", "country": "CN"},
             {"id": "CN-430400", "kind": "city", "name": "Hengyang", "country": "CN",
              "parent": "CN-430000"},
             {"id": "IT", "kind": "country", "name": "Italy", "tags": ["bri"]},
             {"id": "IT-perugia", "kind": "city", "name": "Perugia", "country": "IT"}]
    pairs = [{"a": "CN-430400", "b": "IT-perugia", "kind": "sister", "since": 1998}]
    recs = [{"type": "header", "version": 1, "epoch": epoch, "home": "CN-430000",
             "meta": {"dataset": "seed"}},
            {"type": "nodes", "items": nodes}, {"type": "pairs", "items": pairs},
            {"type": "end", "nodes": len(nodes), "pairs": len(pairs)}]
    return [pack(r) for r in recs]


def journal_payloads():
    """Changes that follow the world snapshot (epoch 1) of fuzz_store."""
    ch = [("node.upsert", {"node": NEW_CITY}),
          ("pair.upsert", {"pair": {"a": "CN-430500", "b": "IT-perugia", "since": 2016}}),
          ("import.batch", {"nodes": [NEW_COUNTRY], "pairs": []}),
          ("pair.delete", {"a": "CN-430500", "b": "IT-perugia"}),
          ("node.delete", {"id": "CN-430500", "cascade": True})]
    out = []
    for i, (method, params) in enumerate(ch):
        out.append(pack({"epoch": 2 + i, "method": method, "params": params,
                         "time_ms": 1700000000000 + i,
                         "audit": {"peer": "127.0.0.1:5000", "token": "ops", "role": "write"}}))
    return out


def lp(payloads):
    """Mode 3/4 input: 2-byte little-endian length, then the payload."""
    return b"".join(struct.pack("<H", len(p)) + p for p in payloads)


def store_seeds():
    jp = journal_payloads()
    journal = b"".join(record(p) for p in jp)
    sp = snapshot_bytes()
    snap = b"".join(record(p) for p in sp)
    write("store", "scan-journal", b"\x00" + journal)
    write("store", "scan-refuse-2nd", bytes([5 + 1]) + journal)
    write("store", "scan-snapshot", b"\x00" + snap)
    write("store", "journal", b"\x01" + journal)
    write("store", "journal-torn", b"\x01" + journal[:-7])
    write("store", "journal-zero-tail", b"\x01" + journal + b"\x00" * 32)
    write("store", "journal-empty", b"\x01")
    flipped = bytearray(journal)
    flipped[40] ^= 0x20
    write("store", "journal-flipped", b"\x01" + bytes(flipped))
    write("store", "snapshot", b"\x02" + snap)
    write("store", "snapshot-torn", b"\x02" + snap[:-3])
    write("store", "framed-journal", b"\x03" + lp(jp))
    write("store", "framed-journal-gap", b"\x03" + lp([jp[0], jp[2]]))
    write("store", "framed-journal-old", b"\x03" + lp([pack({"epoch": 1, "method": "node.delete",
                                                              "params": {"id": "CN"}})] + jp))
    write("store", "framed-snapshot", b"\x04" + lp(sp))
    write("store", "framed-snapshot-badcount",
          b"\x04" + lp(sp[:3] + [pack({"type": "end", "nodes": 4, "pairs": 1})]))


NODES_CSV = (
    "id,kind,name,name_zh,country,parent,region,subregion,tags,lat,lon,population\r\n"
    "CN,country,China,\xe4\xb8\xad\xe5\x9b\xbd,,,Asia,Eastern Asia,,,,\r\n"
    "PE,country,Peru,,,,Americas,South America,bri; apec,,,\r\n"
    "CN-430000,province,Hunan,,CN,,,,,,,\r\n"
    "CN-430400,city,Hengyang,,CN,CN-430000,,,,26.9,112.6,6645243\r\n"
    "PE-cusco,city,\"Cusco, \"\"Qosqo\"\"\",,PE,,,,,-13.5,-71.97,428450\r\n")
PAIRS_CSV = (
    "a,b,kind,since,source,confidence\n"
    "CN-430400,IT-perugia,sister,1998,\"https://example.org/a; note: \"\"seed\"\"\",high\n"
    "CN-430700,PE-cusco,friendly,2004-05,,medium\n"
    "\n"
    "NZ-nelson,CN-431000,,,,\n")


def csv_seeds():
    write("csv", "nodes", b"\x00" + NODES_CSV.encode("latin-1"))  # the \x escapes are UTF-8 bytes
    write("csv", "nodes-bom", b"\x00\xef\xbb\xbf" + b"id,name,kind\nCN,China,country\n")
    write("csv", "nodes-multiline", b"\x00id,kind,name\nCN,country,\"Chi\nna\"\nX,\"bad\"x,y\n")
    write("csv", "nodes-bad-utf8", b"\x00id,kind,name\nCN,country,\xff\xfe\n")
    write("csv", "nodes-bad-header", b"\x00id,id,kind\n")
    write("csv", "nodes-unterminated", b"\x00id,kind,name\nCN,country,\"China\n")
    write("csv", "pairs", b"\x01" + PAIRS_CSV.encode())
    write("csv", "pairs-cr", b"\x01a,b\rCN-430400,IT-perugia\r")
    write("csv", "pairs-numbers", b"\x01a,b,since,confidence\nCN-430400,NZ-nelson,99999999999999999999,low\n")


def json_seeds():
    samples = [
        '{"nodes":[{"id":"CN","kind":"country","name":"China"}],"pairs":[]}',
        '[1, -2, 3.5, 1e308, -0.0, 9223372036854775807, 9223372036854775808, -9223372036854775809]',
        '"esc: \\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\ud83d\\ude00"',
        '{"a": {"b": [true, false, null, {}, []]}}',
        '  [ ]  ',
        '[' * 64 + ']' * 64,
        '[' * 65 + ']' * 65,
        '{"k": 1, "k": 2}',
        '"\\ud800"',
        '01',
        '1.5e',
        '{"a" 1}',
        '"\u6e56\u5357 is written raw: 湖南"',
        '123456789012345678901234567890',
        '-',
        '[1,]',
        'true false',
    ]
    for i, s in enumerate(samples):
        write("json", "%02d" % i, s.encode("utf-8"))


OPTION_WORDS = (
    "as_of by country cutoff damping deadline_ms graph home id if_epoch kind limit metric "
    "min_confidence normalized offset progress q region since_from since_to subregion tag top "
    "unit node pair nodes pairs mode dry_run cascade a b import total msgid name parent tags lat "
    "lon population since source confidence upsert replace sister friendly any low medium high "
    "degree betweenness closeness harmonic eigenvector pagerank constraint partnerships full city "
    "province CN-430400 CN-430000 IT-perugia PE-cusco NZ-nelson CN").split()


def wire_dict():
    """libFuzzer dictionary: envelope starts, type bytes, names as msgpack strs."""
    def esc(b):
        return "".join("\\x%02x" % c for c in b)
    lines = ["# fuzz_wire dictionary, written by make_corpus.py: envelope starts, type",
             "# bytes, method and option names as MessagePack strs."]
    lines += ['"%s"' % esc(b) for b in (b"\x94\x00", b"\x93\x02", b"\x94\x01", b"\x91\x80", b"\x90")]
    lines += ['"\\x%02x"' % b for b in (0xdc, 0xdd, 0xde, 0xdf, 0xd9, 0xda, 0xdb, 0xc4, 0xc5, 0xc6,
                                       0xcf, 0xd3, 0xcb, 0xca, 0xc7, 0xd4, 0xc1, 0xc0, 0xc2, 0xc3)]
    names = sorted({m for m, _ in REQUESTS} | {"cancel", "auth"})
    lines += ['"%s"' % esc(pack(n)) for n in names + OPTION_WORDS]
    with open(os.path.join(HERE, "wire.dict"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    clean()
    wire_dict()
    wire_seeds()
    store_seeds()
    csv_seeds()
    json_seeds()
    for t in ("wire", "store", "csv", "json"):
        print(t, len(os.listdir(os.path.join(CORPUS, t))), file=sys.stderr)
