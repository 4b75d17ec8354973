#!/usr/bin/python3
"""build_dataset.py -- turn the verified research files into twinnet's built-in
Hunan dataset (datasets/hunan/nodes.csv, pairs.csv, meta.json).

Input: the directory of verified facts (datasets/source: hunan_sister_cities.csv,
hunan_divisions.csv, countries.csv, belt_and_road.csv, SOURCES.md; the repository's
own copy, refreshed by datasets/tools/refresh.sh).
Output: three files whose content is a pure function of the input, sorted, so
that a ctest check (--check) can tell whether the committed copies are stale.

What this script must never do: invent a pair, a year or a name. Every pair
row comes from one row of hunan_sister_cities.csv with its source and
confidence carried verbatim; names are copied, never translated; coordinates
and populations are left absent because the input does not give them.

Standard library only (it runs under /usr/bin/python3 in ctest).

Usage:
  build_dataset.py [--data DIR] [--out DIR]     write the files
  build_dataset.py --check [--data DIR] [--out DIR]
                                                exit 1 if the files differ
"""

import argparse
import csv
import io
import json
import os
import re
import sys
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_DATA = os.path.join(REPO, "datasets", "source")
DEFAULT_OUT = os.path.join(REPO, "datasets", "hunan")

HOME_ID = "CN-430000"
AS_OF = 2021                 # the official reference figure is of 2021-03

NODE_COLUMNS = ["id", "kind", "name", "name_zh", "country", "parent", "region",
                "subregion", "tags", "lat", "lon", "population"]
PAIR_COLUMNS = ["a", "b", "kind", "since", "source", "confidence"]

# partner_level -> node kind (the protocol's node kinds, docs/protocol.md). A "state_or_province"
# partner is a first-level division (US state, Japanese prefecture, Russian
# oblast, Kenyan or Irish county); "county_or_district" partners are
# municipalities (a Korean gun, an Icelandic or Angolan municipality), which
# the protocol calls cities.
PARTNER_KIND = {
    "state_or_province": "province",
    "city": "city",
    "county_or_district": "city",
}

# Rows whose notes say the tie is a friendly-cooperation / friendly-exchange
# relationship (Korean 우호협력도시, Chinese 友好合作) rather than a formal
# sister tie. Matched on the note text so that a change of wording in the
# source data is noticed (see friendly_reason below), not on names.
FRIENDLY_MARKERS = [
    "friendly-cooperation city",     # Changsha - Daegu
    "友好合作关系 MoU",               # Zhangjiajie - Siem Reap
    "letter of friendly cooperation",  # Zhangjiajie - Whistler
]
# Hunan - Tokushima used to be matched here on its "友好合作 2012" listing.
# The research now cites Tokushima Prefecture's own record of the formal
# 2011 agreement (友好県省関係を樹立する協議書), and keeps the 友好合作 listing
# only as a disagreeing source, so the pair is a sister pair.


class DataError(Exception):
    """The input breaks an assumption this script relies on."""


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def slug(text):
    """ASCII slug: accents folded (Ölfus -> olfus), runs of anything else -> '-'."""
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    folded = folded.encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")


def split_source(source):
    """(sources, note) of a source field 'url; url | note: text'."""
    if " | note: " in source:
        head, note = source.split(" | note: ", 1)
        return head, note
    return source, ""


def partner_slug(row):
    """The slug part of a partner's id, from its English name.

    Annotations that are about the source, not the place ("(as spelled in
    source)"), are dropped. A partner with no English name at all (the row's
    partner_en is only a parenthetical remark) gets 'unnamed-partner-of-<hunan
    side>' so that no name is made up."""
    name = row["partner_en"]
    if name.startswith("("):
        return "unnamed-partner-of-" + slug(row["hunan_side_en"]).split("-")[0]
    name = re.sub(r"\s*\((as spelled|as rendered)[^)]*\)", "", name)
    return slug(name)


def friendly_reason(note):
    for marker in FRIENDLY_MARKERS:
        if marker in note:
            return marker
    return None


def load(data_dir):
    """Read every input file and return (nodes, pairs, meta) as Python data."""
    countries = read_csv(os.path.join(data_dir, "countries.csv"))
    bri = read_csv(os.path.join(data_dir, "belt_and_road.csv"))
    divisions = read_csv(os.path.join(data_dir, "hunan_divisions.csv"))
    rows = read_csv(os.path.join(data_dir, "hunan_sister_cities.csv"))
    with open(os.path.join(data_dir, "SOURCES.md"), encoding="utf-8") as f:
        sources_md = f.read()

    nodes = {}

    def add_node(node):
        if node["id"] in nodes:
            raise DataError("duplicate node id %s" % node["id"])
        nodes[node["id"]] = node

    # Countries: the UN members of countries.csv. Non-UN entries of the BRI
    # list (CK, NU) have no M49 region in countries.csv, so they are left out.
    bri_by_iso = {r["iso2"]: r for r in bri}
    country_names = {}
    for c in countries:
        tags = []
        b = bri_by_iso.get(c["iso2"])
        if b is not None:
            if b["gfdc_likely_exit_date"]:
                # Italy: listed, but GFDC gives a likely exit (2023-06-12).
                # Tags describe the grouping as it stands now, so no "bri".
                tags.append("bri-exited")
            else:
                tags.append("bri")
                if not b["gfdc_likely_join_date"]:
                    # Listed by GFDC without a joining date (unclear status):
                    # still "bri", and marked so analysts can leave it out.
                    tags.append("bri-undated")
        add_node({"id": c["iso2"], "kind": "country", "name": c["name_en"],
                  "region": c["region"], "subregion": c["sub_region"],
                  "tags": ";".join(tags)})
        country_names[c["iso2"]] = c["name_en"]
    if "CN" not in nodes:
        raise DataError("countries.csv has no CN row")
    bri_left_out = sorted(iso for iso in bri_by_iso if iso not in country_names)

    # Hunan: the province, its prefectures, the county-level units in pairs.
    div_by_zh = {}
    for d in divisions:
        did = "CN-" + d["code"]
        if d["level"] == "province":
            node = {"id": did, "kind": "province", "name": d["name_en"],
                    "name_zh": d["name_zh"], "country": "CN"}
        else:
            node = {"id": did, "kind": "city", "name": d["name_en"],
                    "name_zh": d["name_zh"], "country": "CN",
                    "parent": "CN-" + d["parent_code"]}
        add_node(node)
        div_by_zh[d["name_zh"]] = did
    if HOME_ID not in nodes:
        raise DataError("hunan_divisions.csv has no 430000 row")

    # Partners and pairs.
    partner_ids = {}          # (iso2, partner_en) -> id
    pairs = {}
    friendly = []
    for line, r in enumerate(rows, start=2):
        a = div_by_zh.get(r["hunan_side_zh"])
        if a is None:
            raise DataError("line %d: Hunan side %s is not in hunan_divisions.csv"
                            % (line, r["hunan_side_zh"]))
        iso = r["country_iso2"]
        if iso not in country_names:
            raise DataError("line %d: country %s is not in countries.csv" % (line, iso))
        if r["partner_level"] not in PARTNER_KIND:
            raise DataError("line %d: unknown partner_level %s" % (line, r["partner_level"]))
        if r["confidence"] not in ("high", "medium", "low"):
            raise DataError("line %d: unknown confidence %s" % (line, r["confidence"]))
        year = r["established_year"]
        if year and not re.fullmatch(r"[0-9]{4}", year):
            raise DataError("line %d: established_year %r is not a year" % (line, year))

        key = (iso, r["partner_en"])
        if key not in partner_ids:
            pid = "%s-%s" % (iso, partner_slug(r))
            if pid in nodes:
                raise DataError("line %d: partner id %s is not unique" % (line, pid))
            node = {"id": pid, "kind": PARTNER_KIND[r["partner_level"]],
                    "name": r["partner_en"], "name_zh": r["partner_zh"],
                    "country": iso}
            add_node(node)
            partner_ids[key] = pid
        b = partner_ids[key]

        _, note = split_source(r["source"])
        reason = friendly_reason(note)
        kind = "friendly" if reason else "sister"
        if reason:
            friendly.append((a, b))
        pkey = tuple(sorted((a, b)))
        if pkey in pairs:
            raise DataError("line %d: pair %s - %s appears twice" % (line, a, b))
        pairs[pkey] = {"a": a, "b": b, "kind": kind, "since": year,
                       "source": r["source"], "confidence": r["confidence"]}

    if len(friendly) != len(FRIENDLY_MARKERS):
        raise DataError("expected %d friendly-exchange rows, found %d: the notes changed; "
                        "review FRIENDLY_MARKERS" % (len(FRIENDLY_MARKERS), len(friendly)))

    meta = build_meta(nodes, pairs, rows, sources_md, bri_left_out, friendly)
    return nodes, pairs, meta


def reference_from_sources(sources_md):
    """The 2021-03 row of the reference-totals table in SOURCES.md."""
    for line in sources_md.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0] == "2021-03":
            m = re.fullmatch(r"(\d+) pairs, (\d+) countries", cells[1])
            if m is None:
                break
            return {"pairs": int(m.group(1)), "countries": int(m.group(2)),
                    "as_of": "2021-03", "source": cells[3]}
    raise DataError("SOURCES.md has no parsable 2021-03 reference row")


def is_unit(nodes, nid):
    """A home unit: the home, or a node whose parent chain reaches it."""
    seen = set()
    while nid and nid not in seen:
        if nid == HOME_ID:
            return True
        seen.add(nid)
        nid = nodes[nid].get("parent") if nid in nodes else None
    return False


def count_pairs(pairs, nodes, keep):
    """Home-pair figures over the pairs for which keep(pair) is true."""
    kept = [p for p in pairs.values() if keep(p)]
    conf = {c: sum(1 for p in kept if p["confidence"] == c) for c in ("high", "medium", "low")}
    countries = sorted({nodes[p["b"]]["country"] for p in kept})
    return {"pairs": len(kept), "by_confidence": conf,
            "countries": len(countries), "country_ids": countries}


def build_meta(nodes, pairs, rows, sources_md, bri_left_out, friendly):
    ref = reference_from_sources(sources_md)

    def dated_ok(p):
        return p["since"] == "" or int(p["since"]) <= AS_OF

    def medium_up(p):
        return p["confidence"] in ("high", "medium")

    all_pairs = count_pairs(pairs, nodes, lambda p: True)
    as_of = count_pairs(pairs, nodes, dated_ok)
    stats = count_pairs(pairs, nodes, lambda p: dated_ok(p) and medium_up(p))
    by_kind = {k: sum(1 for n in nodes.values() if n["kind"] == k)
               for k in ("country", "province", "city")}
    units = {nid for nid in nodes if is_unit(nodes, nid)}
    units_with_pairs = {p["a"] for p in pairs.values()}
    verified = {
        "rows": len(rows),
        "pairs": all_pairs["pairs"],
        "by_confidence": all_pairs["by_confidence"],
        "kind": {"sister": sum(1 for p in pairs.values() if p["kind"] == "sister"),
                 "friendly": len(friendly)},
        "undated": sum(1 for p in pairs.values() if p["since"] == ""),
        "countries": all_pairs["countries"],
        "as_of_2021": {k: as_of[k] for k in ("pairs", "by_confidence", "countries")},
        "as_of_2021_min_medium": {"pairs": stats["pairs"],
                                  "by_confidence": stats["by_confidence"],
                                  "countries": stats["countries"],
                                  "country_ids": stats["country_ids"]},
        "nodes": by_kind,
        "home_units": len(units),
        "home_units_with_pairs": len(units_with_pairs & units),
        "bri_not_in_countries": bri_left_out,
    }
    # Prefecture-level units with no pair in the headline subset, named in
    # the note so that it always says which cities the gap hides.
    kept = [p for p in pairs.values() if dated_ok(p) and medium_up(p)]
    held = {p["a"] for p in kept} | {nodes[p["a"]].get("parent") for p in kept}
    bare = sorted(nodes[nid]["name"] for nid in nodes
                  if nodes[nid].get("parent") == HOME_ID and nid not in held)
    verified["prefectures_without_pairs_as_of_2021_min_medium"] = bare
    none_for = ""
    if bare:
        none_for = " (none for %s)" % (bare[0] if len(bare) == 1 else
                                       ", ".join(bare[:-1]) + " or " + bare[-1])
    note = ("The verified list has %d pairs dated %d or earlier or undated (%d of them "
            "high or medium confidence, in %d countries) against the official %d pairs "
            "in %d countries of %s, because the provincial foreign-affairs office and "
            "CIFCA lists were not available to the compilers, so many pairs%s could not "
            "be confirmed from citable sources."
            % (as_of["pairs"], AS_OF, stats["pairs"], stats["countries"],
               ref["pairs"], ref["countries"], ref["as_of"], none_for))
    return {
        "dataset": "hunan-builtin",
        "generated_from": ("datasets/source: hunan_sister_cities.csv, hunan_divisions.csv, "
                           "countries.csv, belt_and_road.csv (see SOURCES.md) by "
                           "datasets/tools/build_dataset.py"),
        "reference": ref,
        "verified": verified,
        "note": note,
    }


def render(nodes, pairs, meta):
    """The three files as strings (LF line ends, rows sorted by id / by a, b)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(NODE_COLUMNS)
    for nid in sorted(nodes):
        n = nodes[nid]
        w.writerow([n.get(c, "") for c in NODE_COLUMNS])
    nodes_csv = out.getvalue()

    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(PAIR_COLUMNS)
    for key in sorted(pairs, key=lambda k: (pairs[k]["a"], pairs[k]["b"])):
        p = pairs[key]
        w.writerow([p[c] for c in PAIR_COLUMNS])
    pairs_csv = out.getvalue()

    meta_json = json.dumps(meta, ensure_ascii=False, indent=2) + "\n"
    return {"nodes.csv": nodes_csv, "pairs.csv": pairs_csv, "meta.json": meta_json}


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", nargs="?", default=DEFAULT_DATA,
                    help="directory of verified facts (default: datasets/source)")
    ap.add_argument("--out", default=DEFAULT_OUT, help="output directory (default: datasets/hunan)")
    ap.add_argument("--check", action="store_true",
                    help="compare with the files in --out instead of writing them")
    args = ap.parse_args(argv)

    try:
        files = render(*load(args.data))
    except (DataError, OSError, KeyError) as e:
        print("build_dataset: %s" % e, file=sys.stderr)
        return 2

    if args.check:
        stale = []
        for name, text in sorted(files.items()):
            path = os.path.join(args.out, name)
            try:
                with open(path, encoding="utf-8", newline="") as f:
                    if f.read() != text:
                        stale.append(name)
            except OSError:
                stale.append(name)
        if stale:
            print("build_dataset: out of date: %s (run datasets/tools/build_dataset.py)"
                  % ", ".join(stale), file=sys.stderr)
            return 1
        return 0

    os.makedirs(args.out, exist_ok=True)
    for name, text in sorted(files.items()):
        with open(os.path.join(args.out, name), "w", encoding="utf-8", newline="") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
