#!/usr/bin/env bash
# Build twinnet (installing missing Debian packages) with warnings as errors
# and run the whole test suite under ctest. Exit status is ctest's.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="${TN_BUILD_DIR:-$root/build-test}"
bash "$root/scripts/deps.sh"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTN_WERROR=ON >/dev/null
cmake --build "$build" -j"$(nproc)"
cd "$build"
ctest --output-on-failure -j2 "$@"
