#!/usr/bin/env bash
# Build twinnet (installing missing Debian packages) and start twinnetd on
# the built-in dataset (Hunan with the other Chinese provinces' pairs; add
# --dataset hunan for Hunan alone) at 127.0.0.1:7700, with the dashboard on
# http://127.0.0.1:7701/. Extra arguments go to twinnetd.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/deps.sh"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$root/build" -j"$(nproc)" --target twinnetd twinnet
echo "twinnet: starting twinnetd; try: $root/build/clients/twinnet stats, or open http://127.0.0.1:7701/"
exec "$root/build/service/twinnetd" "$@"
