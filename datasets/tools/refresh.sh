#!/usr/bin/env bash
# refresh.sh -- copy the research team's current source files into
# datasets/source/ and regenerate every dataset made from them.
#
#   bash datasets/tools/refresh.sh [DIR]     DIR defaults to ../shared/data
#
# datasets/source/ is the repository's own copy of the facts (with their
# sources, SOURCES.md). Everything else -- the build, the run command, the
# tests -- reads that copy, never DIR, so a clone builds and tests on its
# own. Run this tool only when the research files have changed, then review
# `git diff datasets/` (the generators stop on input that breaks their
# assumptions) and commit the copy together with the regenerated files.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
src="${1:-$root/../shared/data}"
files="SOURCES.md hunan_sister_cities.csv hunan_divisions.csv countries.csv
       belt_and_road.csv china_twinning.csv world_twinning.csv"
for f in $files; do
  [ -f "$src/$f" ] || { echo "refresh: $src/$f is missing" >&2; exit 2; }
done
for f in $files; do
  install -m 644 "$src/$f" "$root/datasets/source/$f"
done
py=/usr/bin/python3
$py "$root/datasets/tools/build_dataset.py"                  # -> datasets/hunan/
$py "$root/datasets/tools/convert_twinning.py" china --quiet # -> datasets/china/ (on top of hunan)
echo "refresh: datasets/source, datasets/hunan and datasets/china are up to date; review git diff datasets/"
# README.md quotes figures and real output of these data: rebuild (the
# binaries embed the datasets) and regenerate them.
if [ -n "${TN_BUILD_DIR:-}" ]; then
  cmake --build "$TN_BUILD_DIR" --target twinnetd twinnet >/dev/null
  $py "$root/scripts/readme_figures.py" --twinnetd "$TN_BUILD_DIR/service/twinnetd" \
      --cli "$TN_BUILD_DIR/clients/twinnet"
  echo "refresh: README.md figures regenerated"
else
  echo "refresh: now rebuild and run scripts/readme_figures.py --twinnetd BUILD/service/twinnetd" \
       "--cli BUILD/clients/twinnet (or set TN_BUILD_DIR=BUILD)"
fi
