#!/usr/bin/python3
"""coverage_timeline.py -- a notebook-style walk through the home's reach:
the coverage table by region, then the pairs per year as a timeline.

    python3 clients/python/examples/coverage_timeline.py [--host H] [--port P]
            [--out timeline.png] [--text]

The timeline is a matplotlib chart (written to --out, default
coverage_timeline.png) when matplotlib is installed (Debian:
python3-matplotlib), else, or with --text, a bar chart in text. With pandas
(python3-pandas) the coverage table is printed by pandas; without it, by
hand. TWINNET_TOKEN, if set, is sent with auth.
"""

import argparse
import os
import sys

# Run from a checkout without installing: the package is one directory up.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import twinnet  # noqa: E402

# %% Connect
ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
ap.add_argument("--host", default="127.0.0.1")
ap.add_argument("--port", type=int, default=7700)
ap.add_argument("--out", default="coverage_timeline.png", help="where the chart goes")
ap.add_argument("--text", action="store_true", help="a text timeline even with matplotlib")
args = ap.parse_args()
c = twinnet.Client(args.host, args.port, token=os.environ.get("TWINNET_TOKEN") or None)

# %% Coverage by region: how many countries of each region the home reaches
cov = c.query_coverage(by="region")
print("Coverage of %s (epoch %d): %d of %d countries, %d pairs"
      % (cov["home"], cov["epoch"], cov["total"]["covered"], cov["total"]["countries"],
         cov["total"]["pairs"]))
cols = ["group", "countries", "covered", "ratio", "pairs", "units"]
try:
    df = cov.to_dataframe()[cols]
    print(df.to_string(index=False, float_format=lambda x: "%.3f" % x))
except ImportError:
    print("  ".join("%-9s" % h for h in cols))
    for row in cov["items"]:
        print("  ".join("%-9.3f" % row[k] if k == "ratio" else "%-9s" % row[k] for k in cols))

# %% The timeline: pairs per year (query.timeline where the server has it)
if "query.timeline" in c.method_table():
    tl = c.call("query.timeline")
    years, undated = tl["years"], tl.get("undated", 0)
else:
    years, undated = c.metrics_get()["timeline"], None
years = [y for y in years if y.get("year") is not None]
print()
print("Pairs per year (%d dated years%s)"
      % (len(years), "" if undated is None else ", %d undated pairs" % undated))

plotted = False
if not args.text:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        plt = None
    if plt is not None and years:
        fig, ax = plt.subplots(figsize=(9, 4))
        ax.bar([y["year"] for y in years], [y["pairs"] for y in years], label="new pairs")
        ax2 = ax.twinx()
        ax2.plot([y["year"] for y in years], [y["cumulative"] for y in years], color="tab:red",
                 label="cumulative")
        ax.set_xlabel("year")
        ax.set_ylabel("new pairs")
        ax2.set_ylabel("cumulative pairs")
        ax.set_title("Sister-city pairs of %s by year" % cov["home"])
        fig.tight_layout()
        fig.savefig(args.out)
        print("timeline chart written to %s" % args.out)
        plotted = True

if not plotted:
    top = max([y["pairs"] for y in years] or [1]) or 1
    for y in years:
        print("%6s %4d %-40s %4d" % (y["year"], y["pairs"], "#" * round(40 * y["pairs"] / top),
                                      y["cumulative"]))
c.close()
