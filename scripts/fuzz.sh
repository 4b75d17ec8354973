#!/usr/bin/env bash
# Fuzz one target for N minutes with libFuzzer + ASan + UBSan.
#
#   scripts/fuzz.sh TARGET MINUTES [libFuzzer flags...]
#   TARGET: wire | store | csv | json      (tests/fuzz/fuzz_TARGET.c)
#
# Builds the tree with clang (-DTN_FUZZ=ON -DTN_SANITIZE=ON) in
# $TN_FUZZ_BUILD (default /tmp/build-fz), then runs the target on a working
# corpus $TN_FUZZ_WORK/TARGET (default $TN_FUZZ_BUILD/fuzz-work), seeded
# from tests/fuzz/corpus/TARGET, which is only read. Crashes, OOMs and
# timeouts go to $TN_FUZZ_WORK/artifacts/TARGET/. The log is
# $TN_FUZZ_WORK/TARGET.log; its last lines (final stats) are printed.
# With TN_FUZZ_MERGE=1 the units that add coverage are merged back into
# tests/fuzz/corpus/TARGET afterwards (then commit them).
# Exit status: 0 when libFuzzer found nothing, non-zero otherwise.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -lt 2 ]; then
  sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
target=$1
minutes=$2
shift 2
case "$target" in wire|store|csv|json) ;; *) echo "fuzz.sh: unknown target '$target'" >&2; exit 2;; esac
case "$minutes" in ''|*[!0-9]*) echo "fuzz.sh: MINUTES must be a whole number" >&2; exit 2;; esac

build="${TN_FUZZ_BUILD:-/tmp/build-fz}"
work="${TN_FUZZ_WORK:-$build/fuzz-work}"
TN_WITH_FUZZ=1 bash "$root/scripts/deps.sh"
if [ ! -f "$build/CMakeCache.txt" ]; then
  CC=clang cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DTN_FUZZ=ON -DTN_SANITIZE=ON -DTN_WERROR=ON >/dev/null
fi
cmake --build "$build" -j"$(nproc)" --target "fuzz_$target" >/dev/null

mkdir -p "$work/$target" "$work/artifacts/$target"
dict=()
[ -f "$root/tests/fuzz/$target.dict" ] && dict=(-dict="$root/tests/fuzz/$target.dict")
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
log="$work/$target.log"
set +e
"$build/tests/fuzz/fuzz_$target" "$work/$target" "$root/tests/fuzz/corpus/$target" \
  -max_total_time=$((minutes * 60)) -max_len=65536 -malloc_limit_mb=256 -rss_limit_mb=1024 \
  -timeout=20 -print_final_stats=1 -artifact_prefix="$work/artifacts/$target/" \
  "${dict[@]}" "$@" >"$log" 2>&1
rc=$?
set -e
grep -E '^#[0-9]+ +(DONE|INITED)|^stat::|ERROR|SUMMARY|Test unit written' "$log" | tail -20
if [ "${TN_FUZZ_MERGE:-0}" = 1 ] && [ $rc -eq 0 ]; then
  "$build/tests/fuzz/fuzz_$target" -merge=1 "$root/tests/fuzz/corpus/$target" "$work/$target" \
    -max_len=65536 -malloc_limit_mb=256 >>"$log" 2>&1
  echo "merged new units into tests/fuzz/corpus/$target"
fi
exit $rc
