#!/usr/bin/python3
"""convert_twinning.py -- turn the Wikipedia-derived twinning lists of
datasets/source (china_twinning.csv, world_twinning.csv; SOURCES.md sections 5
and 6) into nodes.csv + pairs.csv that import on top of the built-in Hunan
dataset (import.batch / import.begin..commit, mode upsert; `twinnet import`).

Two datasets:
  china  every row of china_twinning.csv (one end in mainland China), i.e.
         what other Chinese provinces and cities have abroad; -> datasets/china/
  world  every row of world_twinning.csv (the whole network, which contains
         the china rows too, with the same ids); -> datasets/world/ or a
         directory you choose (3.4 MB, generated, not committed)
Both read world_twinning.csv and china_twinning.csv: the china file gives
the Chinese names' provinces, the world file settles contested ids.

What the output holds (docs/peer-data.md has the reasoning):
  - only nodes that the built-in dataset does not already have: existing
    countries, Hunan's units and Hunan's foreign partners are referenced by
    their built-in ids and never re-emitted, so an upsert cannot overwrite a
    verified node with Wikipedia's spelling;
  - a Chinese province node "CN-<GB/T 2260 province code>" (names from the
    cn_province_* columns) and each Chinese city as "CN-<province
    code>-<slug>" under it (datasets/source has no city-level codes outside
    Hunan). A name equal to its province's name ("Beijing", "Shandong
    Province") is the province node itself;
  - foreign ends as "<ISO2>-<slug>", kind city (Wikipedia does not separate
    regions from cities), reusing a built-in node of the same country and
    name;
  - pairs kind sister, no since, confidence medium, one fixed source string.

Skipped rows, each counted under exactly one reason (checked in that order):
  country_not_in_builtin      an end's country is not a built-in country node
                              (the 193 UN members): XK, PS, TW, MO, GL, FO, ...
  cn_province_unknown         the Chinese name is ambiguous (empty province)
  hunan_pair_in_builtin       a Hunan unit's pair that the built-in dataset has
  hunan_pair_not_in_builtin   a Hunan unit's pair that it does not have: the
                              verified file is authoritative for Hunan, and a
                              peer dataset must not change Hunan's own pairs
  self_pair, duplicate        after the ends are resolved to ids

Never invents a pair, a year or a name: every pair is one source row, every
name is copied from the source (or is the built-in node's), nothing is
translated. Standard library only, deterministic (sorted output, the same
input gives byte-identical files).

Usage:
  convert_twinning.py [china|world] [--data DIR] [--builtin DIR] [--out DIR]
  convert_twinning.py --check [china] ...   exit 1 if the files in --out differ
                                            (ctest: tests/integration/test_peer_data.py)
  convert_twinning.py ... --json            print the summary as JSON
"""

import argparse
import csv
import hashlib
import io
import json
import os
import re
import sys
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_DATA = os.path.join(REPO, "datasets", "source")
DEFAULT_BUILTIN = os.path.join(REPO, "datasets", "hunan")

HOME_ID = "CN-430000"
SOURCE = "Wikipedia via Hekman/twincities twin_cities_raw.csv (world_twinning.csv)"
CONFIDENCE = "medium"

NODE_COLUMNS = ["id", "kind", "name", "name_zh", "country", "parent", "region",
                "subregion", "tags", "lat", "lon", "population"]
PAIR_COLUMNS = ["a", "b", "kind", "since", "source", "confidence"]

SKIP_REASONS = ["country_not_in_builtin", "cn_province_unknown",
                "hunan_pair_in_builtin", "hunan_pair_not_in_builtin",
                "self_pair", "duplicate"]

# Romanian and Moldovan names come with s/t-cedilla (legacy encodings) and
# s/t-comma-below (correct orthography) for the same town ("Piteşti",
# "Pitești"). Only for RO and MD: Turkish uses the cedilla letters properly.
COMMA_BELOW = str.maketrans({"\u015f": "\u0219", "\u015e": "\u0218",
                             "\u0163": "\u021b", "\u0162": "\u021a"})
COMMA_BELOW_COUNTRIES = ("RO", "MD")


class DataError(Exception):
    """The input breaks an assumption this script relies on."""


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def slug(text):
    """ASCII slug, as build_dataset.py makes it: accents folded, lowercase,
    runs of anything else turned into '-'."""
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    folded = folded.encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")


def name_key(name, iso):
    """The form under which two source spellings count as one place: NFC,
    surrounding space trimmed, and for RO/MD cedilla -> comma below."""
    name = unicodedata.normalize("NFC", name.strip())
    if iso in COMMA_BELOW_COUNTRIES:
        name = name.translate(COMMA_BELOW)
    return name


def base_name(name):
    """A built-in name without its qualifier: "New Haven, Connecticut" ->
    "New Haven", "Sol Plaatje (Kimberley)" -> "Sol Plaatje"."""
    name = re.sub(r"\s*\([^)]*\)\s*$", "", name)
    return name.split(",")[0].strip()


class Builtin:
    """What the import lands on: datasets/hunan/{nodes,pairs}.csv."""

    def __init__(self, builtin_dir):
        nodes = read_csv(os.path.join(builtin_dir, "nodes.csv"))
        pairs = read_csv(os.path.join(builtin_dir, "pairs.csv"))
        self.nodes = {n["id"]: n for n in nodes}
        self.countries = {n["id"] for n in nodes if n["kind"] == "country"}
        if "CN" not in self.countries or HOME_ID not in self.nodes:
            raise DataError("the built-in dataset has no CN country or no %s" % HOME_ID)
        # (country, name key) -> id of every province/city node.
        self.by_name = {}
        for n in nodes:
            if n["kind"] != "country":
                self.by_name.setdefault((n["country"], name_key(n["name"], n["country"])),
                                        n["id"])
        self.pairs = {frozenset((p["a"], p["b"])) for p in pairs}
        self.neighbours = {}
        for p in pairs:
            self.neighbours.setdefault(p["a"], set()).add(p["b"])
            self.neighbours.setdefault(p["b"], set()).add(p["a"])
        self.units = {nid for nid in self.nodes if self.is_unit(nid)}

    def is_unit(self, nid):
        seen = set()
        while nid and nid not in seen:
            if nid == HOME_ID:
                return True
            seen.add(nid)
            nid = self.nodes[nid].get("parent") if nid in self.nodes else None
        return False

    def family(self, unit):
        """A Hunan unit, its parent and its children: Wikipedia sometimes
        names the prefecture where the verified file names a county-level
        city (Chenzhou - Laredo against Zixing - Laredo, Texas)."""
        fam = {unit}
        parent = self.nodes[unit].get("parent")
        if parent:
            fam.add(parent)
        fam |= {nid for nid, n in self.nodes.items() if n.get("parent") == unit}
        return fam


class Converter:
    def __init__(self, builtin, china_rows):
        self.b = builtin
        # Chinese name -> its china_twinning.csv province columns. The
        # province is derived from the name, so one name has one province
        # (checked here).
        self.cn_province = {}
        for line, r in enumerate(china_rows, start=2):
            if r["a_country_iso2"] != "CN":
                raise DataError("china_twinning.csv line %d: a_country_iso2 is not CN" % line)
            prov = (r["cn_province_code"], r["cn_province_en"], r["cn_province_zh"])
            if prov[0] and not re.fullmatch(r"[1-8][0-9]0000", prov[0]):
                raise DataError("china_twinning.csv line %d: province code %r" % (line, prov[0]))
            old = self.cn_province.setdefault(r["a_name"], prov)
            if old != prov:
                raise DataError("china_twinning.csv line %d: %s has two provinces"
                                % (line, r["a_name"]))
        self.nodes = {}           # id -> node (new nodes only)
        self.key_to_id = {}       # (country or CN-province, name key) -> id
        self.id_owner = {}        # id -> (country or province, name key) it was made for
        self.aliases = {}         # (iso, name key) -> built-in id, anchored on a Hunan row
        self.pairs = {}           # frozenset -> pair
        self.skipped = {r: 0 for r in SKIP_REASONS}
        self.skipped_countries = {}
        self.hunan_not_in_builtin = []
        self.reused = set()
        self.collisions = []
        self.rows_read = 0
        self.plain_holder = {}

    # ---- ids ----

    def reserve(self, universe):
        """Decide which name keeps a contested slug before any id is made.
        universe: every (scope, name key, base id) of world_twinning.csv.
        Two source names with one slug ("Münster" and "Munster" in DE) are
        different places until a source says otherwise; the one that sorts
        first keeps the plain id, so the china and the world output give a
        place the same id whatever rows each holds."""
        names = {}
        for scope, key, base in universe:
            names.setdefault(base, set()).add((scope, key))
        self.plain_holder = {base: min(v) for base, v in names.items()}

    def _new_id(self, owner, key, base):
        """base, or base + '-' + 6 hex of SHA-1(name) when another name holds
        base (a built-in node, or a name that sorts first)."""
        nid = base
        holder = self.plain_holder.get(base, (owner, key))
        if nid in self.b.nodes or holder != (owner, key):
            nid = "%s-%s" % (base, hashlib.sha1(key.encode("utf-8")).hexdigest()[:6])
            self.collisions.append({"name": key, "scope": owner, "id": nid, "taken": base})
        if nid in self.b.nodes or nid in self.id_owner:
            raise DataError("id %s is not unique" % nid)
        self.id_owner[nid] = (owner, key)
        return nid

    def province(self, code, en, zh):
        pid = "CN-" + code
        if pid in self.b.nodes:
            self.reused.add(pid)
        elif pid not in self.nodes:
            self.nodes[pid] = {"id": pid, "kind": "province", "name": en, "name_zh": zh,
                               "country": "CN"}
            self.id_owner[pid] = ("CN", en)
        return pid

    def chinese(self, name):
        """(id, is_hunan) of a Chinese end, or (None, False) if its province
        is unknown."""
        code, en, zh = self.cn_province.get(name, ("", "", ""))
        if not code:
            return None, False
        pid = self.province(code, en, zh)
        if name in (en, en + " Province"):
            return pid, pid in self.b.units
        if pid == HOME_ID or pid in self.b.units:
            # Hunan: the built-in ids (CN-430100 Changsha ...). A Hunan name
            # the built-in dataset lacks gets no id: its rows are skipped.
            return self.b.by_name.get(("CN", name_key(name, "CN"))), True
        key = name_key(name, "CN")
        nid = self.key_to_id.get((pid, key))
        if nid is None:
            nid = self._new_id(pid, key, "%s-%s" % (pid, slug(name)))
            self.key_to_id[(pid, key)] = nid
            self.nodes[nid] = {"id": nid, "kind": "city", "name": name, "country": "CN",
                               "parent": pid}
        return nid, False

    def foreign(self, name, iso):
        key = name_key(name, iso)
        nid = self.b.by_name.get((iso, key)) or self.aliases.get((iso, key))
        if nid is not None:
            self.reused.add(nid)
            return nid
        nid = self.key_to_id.get((iso, key))
        if nid is None:
            s = slug(name)
            if not s:
                raise DataError("name %r (%s) has no ASCII slug" % (name, iso))
            nid = self._new_id(iso, key, "%s-%s" % (iso, s))
            self.key_to_id[(iso, key)] = nid
            self.nodes[nid] = {"id": nid, "kind": "city", "name": key, "country": iso}
        return nid

    def anchor(self, unit, name, iso):
        """A Hunan row names a partner that the built-in dataset spells with
        a qualifier ("Saint Paul" / "Saint Paul, Minnesota"). If exactly one
        built-in partner of the unit's family in that country has that base
        name, the source name means that node."""
        key = name_key(name, iso)
        if (iso, key) in self.b.by_name or (iso, key) in self.aliases:
            return
        cands = set()
        for u in self.b.family(unit):
            for w in self.b.neighbours.get(u, ()):
                n = self.b.nodes[w]
                if n["country"] == iso and slug(base_name(n["name"])) == slug(key):
                    cands.add(w)
        if len(cands) == 1:
            self.aliases[(iso, key)] = cands.pop()

    # ---- rows ----

    def plan(self, rows):
        """Ends of each row as (name, iso) pairs."""
        return [((r["a_name"], r["a_country_iso2"]), (r["b_name"], r["b_country_iso2"]))
                for r in rows]

    def run(self, rows):
        ends = self.plan(rows)
        # Pass 1: anchored aliases from Hunan rows, so that the same partner
        # gets the built-in id wherever it appears.
        for (x, y) in ends:
            for (cn, other) in ((x, y), (y, x)):
                if cn[1] == "CN" and other[1] != "CN":
                    code = self.cn_province.get(cn[0], ("",))[0]
                    if code and "CN-" + code == HOME_ID:
                        unit = self.b.by_name.get(("CN", name_key(cn[0], "CN")))
                        if unit is not None:
                            self.anchor(unit, other[0], other[1])
        # Pass 2: the pairs.
        for (x, y), r in zip(ends, rows):
            self.rows_read += 1
            bad = sorted({iso for (_, iso) in (x, y) if iso not in self.b.countries})
            if bad:
                self.skip("country_not_in_builtin")
                for iso in bad:
                    self.skipped_countries[iso] = self.skipped_countries.get(iso, 0) + 1
                continue
            ids, hunan = [], False
            for (name, iso) in (x, y):
                if iso == "CN":
                    if name not in self.cn_province:
                        raise DataError("Chinese name %r is not in china_twinning.csv" % name)
                    nid, h = self.chinese(name)
                    hunan = hunan or h
                    ids.append(nid)
                else:
                    ids.append((name, iso))
            if None in ids and not hunan:
                self.skip("cn_province_unknown")
                continue
            if hunan:
                fids = [self.b.by_name.get((e[1], name_key(e[0], e[1])))
                        or self.aliases.get((e[1], name_key(e[0], e[1])))
                        if isinstance(e, tuple) else e for e in ids]
                if None not in fids and frozenset(fids) in self.b.pairs:
                    self.skip("hunan_pair_in_builtin")
                else:
                    self.skip("hunan_pair_not_in_builtin")
                    self.hunan_not_in_builtin.append(
                        "%s (%s) - %s (%s)" % (x[0], x[1], y[0], y[1]))
                continue
            if y[1] == "CN" and x[1] != "CN":
                ids.reverse()       # the Chinese end is a, as in china_twinning.csv
            a, b = [self.foreign(*e) if isinstance(e, tuple) else e for e in ids]
            if a == b:
                self.skip("self_pair")
                continue
            key = frozenset((a, b))
            if key in self.pairs or key in self.b.pairs:
                self.skip("duplicate")
                continue
            if a in self.b.units or b in self.b.units:
                raise DataError("internal: a pair with Hunan unit %s got through" % a)
            self.pairs[key] = {"a": a, "b": b, "kind": "sister", "since": "",
                               "source": SOURCE, "confidence": CONFIDENCE}

    def skip(self, reason):
        self.skipped[reason] += 1

    # ---- output ----

    def used_nodes(self):
        """New nodes that a pair references, with their parents."""
        used = set()
        for p in self.pairs.values():
            for nid in (p["a"], p["b"]):
                while nid in self.nodes and nid not in used:
                    used.add(nid)
                    nid = self.nodes[nid].get("parent")
        return {nid: self.nodes[nid] for nid in used}

    def summary(self, dataset, inputs):
        nodes = self.used_nodes()
        refs = {nid for p in self.pairs.values() for nid in (p["a"], p["b"])}
        ends_cn = sum(1 for p in self.pairs.values()
                      for nid in (p["a"], p["b"]) if self.country(nid, nodes) == "CN")
        total_skipped = sum(self.skipped.values())
        if total_skipped + len(self.pairs) != self.rows_read:
            raise DataError("internal: rows do not add up")
        return {
            "dataset": dataset,
            "generated_from": "datasets/source: %s (SOURCES.md sections 5-6) on top of "
                              "datasets/hunan, by datasets/tools/convert_twinning.py"
                              % ", ".join(inputs),
            "source": SOURCE,
            "confidence": CONFIDENCE,
            "rows_read": self.rows_read,
            "pairs": len(self.pairs),
            "pairs_with_cn_end": ends_cn,
            "nodes": {k: sum(1 for n in nodes.values() if n["kind"] == k)
                      for k in ("country", "province", "city")},
            "builtin_nodes_referenced": len(refs - set(nodes)),
            "skipped": dict(self.skipped, total=total_skipped),
            "skipped_countries": dict(sorted(self.skipped_countries.items())),
            "hunan_pairs_not_in_builtin": sorted(self.hunan_not_in_builtin),
            "aliases": sorted("%s %s -> %s" % (iso, name, nid)
                              for (iso, name), nid in self.aliases.items()),
            "id_collisions": sorted(self.collisions, key=lambda c: c["id"]),
        }

    def country(self, nid, nodes):
        n = nodes.get(nid) or self.b.nodes.get(nid)
        return n["country"]

    def render(self, dataset, inputs):
        nodes = self.used_nodes()
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(NODE_COLUMNS)
        for nid in sorted(nodes):
            w.writerow([nodes[nid].get(c, "") for c in NODE_COLUMNS])
        nodes_csv = out.getvalue()
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(PAIR_COLUMNS)
        for p in sorted(self.pairs.values(), key=lambda p: (p["a"], p["b"])):
            w.writerow([p[c] for c in PAIR_COLUMNS])
        pairs_csv = out.getvalue()
        summary = self.summary(dataset, inputs)
        meta = json.dumps(summary, ensure_ascii=False, indent=2) + "\n"
        return {"nodes.csv": nodes_csv, "pairs.csv": pairs_csv, "meta.json": meta}, summary


def universe(conv, rows):
    """(scope, name key, base id) of every end that would get a new id."""
    out = set()
    for r in rows:
        for name, iso in ((r["a_name"], r["a_country_iso2"]), (r["b_name"], r["b_country_iso2"])):
            if iso == "CN":
                code = conv.cn_province.get(name, ("",))[0]
                if code:
                    scope = "CN-" + code
                    out.add((scope, name_key(name, "CN"), "%s-%s" % (scope, slug(name))))
            else:
                out.add((iso, name_key(name, iso), "%s-%s" % (iso, slug(name))))
    return out


def convert(which, data_dir, builtin_dir):
    """Both datasets read world_twinning.csv: it decides contested ids, so
    that a place has one id in the china and the world output."""
    builtin = Builtin(builtin_dir)
    china = read_csv(os.path.join(data_dir, "china_twinning.csv"))
    world = read_csv(os.path.join(data_dir, "world_twinning.csv"))
    conv = Converter(builtin, china)
    conv.reserve(universe(conv, world))
    if which == "china":
        conv.run(china)
        return conv.render("china-peer", ["china_twinning.csv", "world_twinning.csv"])
    conv.run(world)
    return conv.render("world-peer", ["world_twinning.csv", "china_twinning.csv"])


def print_summary(s, out):
    print("%s: %d rows read -> %d pairs (%d with a Chinese end); new nodes: %d province, "
          "%d city; %d built-in nodes referenced"
          % (s["dataset"], s["rows_read"], s["pairs"], s["pairs_with_cn_end"],
             s["nodes"]["province"], s["nodes"]["city"], s["builtin_nodes_referenced"]),
          file=out)
    print("skipped %d rows:" % s["skipped"]["total"], file=out)
    for r in SKIP_REASONS:
        extra = ""
        if r == "country_not_in_builtin" and s["skipped_countries"]:
            extra = " (" + ", ".join("%s %d" % kv for kv in s["skipped_countries"].items()) + ")"
        print("  %-26s %6d%s" % (r, s["skipped"][r], extra), file=out)
    for h in s["hunan_pairs_not_in_builtin"]:
        print("  not in the built-in Hunan data: %s" % h, file=out)
    for a in s["aliases"]:
        print("  same as a built-in partner: %s" % a, file=out)
    if s["id_collisions"]:
        print("  %d names share a slug with another place; they got a hash suffix"
              % len(s["id_collisions"]), file=out)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dataset", nargs="?", choices=("china", "world"), default="china")
    ap.add_argument("--data", default=DEFAULT_DATA,
                    help="source data directory (default: datasets/source)")
    ap.add_argument("--builtin", default=DEFAULT_BUILTIN,
                    help="the built-in dataset the output goes on top of (default: datasets/hunan)")
    ap.add_argument("--out", help="output directory (default: datasets/china, or "
                                  "datasets/world for world)")
    ap.add_argument("--check", action="store_true",
                    help="compare with the files in --out instead of writing them")
    ap.add_argument("--json", action="store_true", help="print the summary as JSON")
    ap.add_argument("--quiet", action="store_true", help="print no summary")
    args = ap.parse_args(argv)
    out_dir = args.out or os.path.join(REPO, "datasets", args.dataset)

    try:
        files, summary = convert(args.dataset, args.data, args.builtin)
    except (DataError, OSError, KeyError) as e:
        print("convert_twinning: %s" % e, file=sys.stderr)
        return 2

    if args.check:
        stale = []
        for name, text in sorted(files.items()):
            try:
                with open(os.path.join(out_dir, name), encoding="utf-8", newline="") as f:
                    if f.read() != text:
                        stale.append(name)
            except OSError:
                stale.append(name)
        if stale:
            print("convert_twinning: out of date in %s: %s (run datasets/tools/"
                  "convert_twinning.py %s)" % (out_dir, ", ".join(stale), args.dataset),
                  file=sys.stderr)
            return 1
        return 0

    os.makedirs(out_dir, exist_ok=True)
    for name, text in sorted(files.items()):
        with open(os.path.join(out_dir, name), "w", encoding="utf-8", newline="") as f:
            f.write(text)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    elif not args.quiet:
        print_summary(summary, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
