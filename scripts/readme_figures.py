#!/usr/bin/python3
"""readme_figures.py -- regenerate the figures in README.md from the data.

README.md quotes figures (pairs, countries, the confidence split, the
comparison with the official count) and real CLI output (the tour). Typed
by hand they go stale whenever the dataset is regenerated, so each such
passage sits between markers

    <!-- generated:NAME -->
    ...
    <!-- /generated:NAME -->

and this script rewrites what is between them:
  - "data": the paragraph of figures, from datasets/hunan/meta.json and
    datasets/china/meta.json;
  - "tour-*" and "walk-*": the tour's and the planner's walk-through's
    commands with the output the CLI really prints against a twinnetd
    started here on the default dataset (a free loopback port; stopped at
    the end).

  readme_figures.py [--twinnetd PATH] [--cli PATH]          rewrite README.md
  readme_figures.py --check [--twinnetd PATH] [--cli PATH]  exit 1 if stale
                                                            (ctest readme_up_to_date)

Standard library only; deterministic (the daemon's answers are).
"""

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
README = os.path.join(REPO, "README.md")

# The tour: (block name, CLI arguments of each command in the block). A
# command is shown as `$ $T ARGS`, T being the CLI (README says so).
TOUR = [
    ("tour-stats", ["stats", "--as-of", "2021", "--min-confidence", "medium"]),
    ("tour-coverage", ["coverage", "--by", "region"]),
    ("tour-gaps", ["gaps", "--region", "Africa", "--limit", "5"]),
    ("tour-centrality", ["centrality", "--metric", "betweenness", "--graph", "full",
                         "--top", "5"]),
    ("tour-node", ["node", "CN-430100"], ["pairs", "--unit", "CN-430100", "--limit", "3"],
     ["recommend", "CN-430300", "--top", "3"]),
]

# The planner's walk-through: the gaps among Belt and Road countries, a plan
# to close three of them, suggestions for the idle Huaihua, the plan's first
# step tried with whatif, and the overlap with the neighbours Hubei and
# Jiangxi. The whatif pair is read from the plan, so the block follows the
# data when the plan changes.
PLAN = ["plan", "--target", "bri", "--budget", "3"]


def first_plan_pair(port, cli):
    """[whatif args]: the plan's first step's unit paired with its first
    candidate, compared on coverage by the bri tag."""
    plan = json.loads(run_cli(port, cli, ["--json"] + PLAN))
    step = next((s for s in plan["steps"] if s["candidates"]), None)
    if step is None:
        raise RuntimeError("the plan has no step with a candidate to try in whatif")
    pair = "%s:%s" % (step["unit"], step["candidates"][0]["id"])
    return ["whatif", "--add", pair, "--", 'coverage:{"by":"tag"}']


WALK = [
    ("walk-gaps", ["gaps", "--tag", "bri", "--limit", "5"]),
    ("walk-plan", PLAN),
    ("walk-recommend", ["recommend", "CN-431200", "--top", "3"]),
    ("walk-whatif", first_plan_pair),
    ("walk-overlap", ["overlap", "CN-430000", "CN-420000", "CN-360000"]),
]


def load_json(*parts):
    with open(os.path.join(REPO, *parts), encoding="utf-8") as f:
        return json.load(f)


def names_list(names):
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def read_csv(*parts):
    import csv
    with open(os.path.join(REPO, *parts), encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def prefectures_only_through_counties():
    """[(prefecture, [county...])]: prefecture-level units with no pair of
    their own whose area has pairs through county-level units."""
    nodes = {n["id"]: n for n in read_csv("datasets", "hunan", "nodes.csv")}
    pairs = read_csv("datasets", "hunan", "pairs.csv")
    own = {p["a"] for p in pairs} | {p["b"] for p in pairs}
    out = []
    for nid, n in sorted(nodes.items(), key=lambda kv: kv[1]["name"]):
        if n.get("parent") != "CN-430000" or nid in own:
            continue
        counties = sorted({nodes[u]["name"] for u in own
                           if u in nodes and nodes[u].get("parent") == nid})
        if counties:
            out.append((n["name"], counties))
    return out


def data_block():
    meta = load_json("datasets", "hunan", "meta.json")
    china = load_json("datasets", "china", "meta.json")
    v, ref = meta["verified"], meta["reference"]
    head = v["as_of_2021_min_medium"]
    later = v["pairs"] - v["as_of_2021"]["pairs"]
    bare = v.get("prefectures_without_pairs_as_of_2021_min_medium", [])
    share = head["pairs"] / ref["pairs"]
    lines = [
        "The built-in dataset ([`datasets/`](datasets/README.md)) is generated from",
        "the facts in [`datasets/source/`](datasets/source/SOURCES.md) that could be",
        "verified from public sources; every pair carries its source and a",
        "confidence grade (high / medium / low). It holds **%d pairs in %d countries**"
        % (v["pairs"], v["countries"]),
        "(%d high, %d medium, %d low), including %d dated 2022 or later."
        % (v["by_confidence"]["high"], v["by_confidence"]["medium"],
           v["by_confidence"]["low"], later),
        "The official figure is **%d pairs in %d countries (%s)**. Filtered to"
        % (ref["pairs"], ref["countries"], ref["as_of"]),
        "2021 and to medium or better confidence, the verified list has **%d pairs"
        % head["pairs"],
        "in %d countries**: %d%% of the official count. The provincial"
        % (head["countries"], round(100 * share)),
        "foreign-affairs office's own list and the CIFCA database were not available",
        "to us%s%s." % ("; under that filter no pair was found for %s" % names_list(bare)
                        if bare else "",
                        "".join(", and %s has no pair of its own (only through %s)"
                                % (p, names_list(c))
                                for p, c in prefectures_only_through_counties())),
        "Nothing was padded: `graph.stats` reports the official reference figures",
        "and this note beside the computed ones.",
        "",
        "Beside Hunan's own pairs the daemon serves, by default, %d pairs of the"
        % china["pairs"],
        "other Chinese provinces (%d provinces, %d of their cities; Wikipedia-derived,"
        % (china["nodes"]["province"], china["nodes"]["city"]),
        "graded `%s`, never counted as Hunan's) as peer evidence for `gaps` and"
        % china["confidence"],
        "`recommend` ([peer-data.md](docs/peer-data.md)); `twinnetd --dataset hunan`",
        "serves Hunan's verified pairs alone.",
    ]
    return "\n".join(lines)


class Daemon:
    def __init__(self, binary):
        self.binary = binary
        self.tmp = tempfile.mkdtemp(prefix="tn-readme-")
        port_file = os.path.join(self.tmp, "port")
        self.log = open(os.path.join(self.tmp, "log"), "wb")
        self.proc = subprocess.Popen([binary, "--listen", "127.0.0.1:0", "--port-file",
                                      port_file, "--log-level", "warn"],
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=self.log)
        deadline = time.monotonic() + 30
        self.port = None
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                with open(port_file) as f:
                    text = f.read().strip()
                if text:
                    self.port = int(text)
                    break
            except OSError:
                pass
            time.sleep(0.02)
        if self.port is None:
            self.stop()
            raise RuntimeError("twinnetd did not start")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def run_cli(port, cli, args):
    r = subprocess.run([cli, "--port", str(port)] + args, capture_output=True,
                       text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError("twinnet %s failed: %s" % (" ".join(args), r.stderr))
    return r.stdout


def tour_blocks(twinnetd, cli):
    """{block name: fenced output} of TOUR and WALK. A command is a list of
    arguments or a function (port, cli) -> list, for arguments read from an
    earlier answer."""
    d = Daemon(twinnetd)
    try:
        out = {}
        for entry in TOUR + WALK:
            name, commands = entry[0], entry[1:]
            text = []
            for args in commands:
                if callable(args):
                    args = args(d.port, cli)
                text.append("$ $T " + " ".join(shlex.quote(a) for a in args))
                # Trailing blanks of table cells are invisible in Markdown
                # and only trip whitespace checks.
                text.extend(line.rstrip() for line in
                            run_cli(d.port, cli, args).rstrip("\n").split("\n"))
            out[name] = "```\n" + "\n".join(text) + "\n```"
        return out
    finally:
        d.stop()


def render(readme, blocks):
    """README text with every generated block replaced; error if a marker
    pair is missing."""
    for name, body in blocks.items():
        pat = re.compile(r"(<!-- generated:%s -->\n)(.*?)(<!-- /generated:%s -->)"
                         % (re.escape(name), re.escape(name)), re.S)
        if not pat.search(readme):
            raise RuntimeError("README.md has no <!-- generated:%s --> block" % name)
        readme = pat.sub(lambda m: m.group(1) + body + "\n" + m.group(3), readme)
    return readme


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--twinnetd", default=os.path.join(REPO, "build", "service", "twinnetd"))
    ap.add_argument("--cli", default=os.path.join(REPO, "build", "clients", "twinnet"))
    ap.add_argument("--check", action="store_true", help="exit 1 if README.md is stale")
    args = ap.parse_args(argv)
    with open(README, encoding="utf-8") as f:
        old = f.read()
    try:
        blocks = {"data": data_block()}
        blocks.update(tour_blocks(args.twinnetd, args.cli))
        new = render(old, blocks)
    except (OSError, RuntimeError, KeyError, ValueError, subprocess.SubprocessError) as e:
        print("readme_figures: %s" % e, file=sys.stderr)
        return 2
    if args.check:
        if new != old:
            import difflib
            diff = difflib.unified_diff(old.splitlines(), new.splitlines(), "README.md",
                                        "README.md (generated)", lineterm="", n=1)
            print("\n".join(list(diff)[:60]))
            print("readme_figures: README.md is out of date: run "
                  "/usr/bin/python3 scripts/readme_figures.py", file=sys.stderr)
            return 1
        return 0
    if new != old:
        with open(README, "w", encoding="utf-8") as f:
            f.write(new)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
