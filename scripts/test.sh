#!/usr/bin/env bash
# Build twinnet (installing missing Debian packages) with warnings as errors
# and run the whole test suite under ctest, twice:
#   1. the normal build ($TN_BUILD_DIR, default build-test/);
#   2. the same tree built with -DTN_SANITIZE=ON (ASan + UBSan,
#      -fno-sanitize-recover=all) in $TN_SAN_BUILD_DIR (default
#      build-test-san/), run with LeakSanitizer on, so any leak, memory
#      error or undefined behaviour fails the test that caused it.
# Arguments are passed to both ctest runs (e.g. -L unit). TN_SANITIZE_PASS=0
# skips pass 2; TN_SAN_EXCLUDE is a ctest -LE regex of labels pass 2 leaves
# out (default: none; every test runs under the sanitizers).
# Pass 2 sets TN_SANITIZED=1 in the tests' environment, so a test that
# measures latency or memory can tell that ASan is slowing it down, and
# keeps ASan's quarantine of freed blocks small (4 MiB instead of 256) so
# RSS measurements of the daemon stay meaningful; use-after-free detection
# keeps working for recently freed blocks.
# Exit status: non-zero if either pass failed. The output ends with the
# ctest summary of the pass that failed (or of pass 2 when both passed).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="${TN_BUILD_DIR:-$root/build-test}"
san_build="${TN_SAN_BUILD_DIR:-$root/build-test-san}"
jobs="$(nproc)"
bash "$root/scripts/deps.sh"

# Pass 1: the normal build.
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTN_WERROR=ON >/dev/null
cmake --build "$build" -j"$jobs"
set +e
(cd "$build" && ctest --output-on-failure -j2 "$@") 2>&1 | tee "$build/ctest-pass.log"
rc1=${PIPESTATUS[0]}
set -e
[ "${TN_SANITIZE_PASS:-1}" = 0 ] && exit "$rc1"

# Pass 2: ASan + UBSan + LeakSanitizer. Reports abort the process (so a
# test cannot pass with one) and print a stack.
echo
echo "== sanitizer pass (ASan + UBSan + LeakSanitizer): $san_build =="
cmake -S "$root" -B "$san_build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTN_WERROR=ON -DTN_SANITIZE=ON >/dev/null
cmake --build "$san_build" -j"$jobs"
exclude=()
[ -n "${TN_SAN_EXCLUDE:-}" ] && exclude=(-LE "$TN_SAN_EXCLUDE")
set +e
(cd "$san_build" && TN_SANITIZED=1 \
 ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:quarantine_size_mb=4:thread_local_quarantine_size_kb=64" \
 UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
 LSAN_OPTIONS="print_suppressions=0" \
 ctest --output-on-failure -j2 "${exclude[@]}" "$@") 2>&1 | tee "$san_build/ctest-pass.log"
rc2=${PIPESTATUS[0]}
set -e
if [ "$rc1" -ne 0 ] && [ "$rc2" -eq 0 ]; then
  # Pass 1 failed: end with its summary, not pass 2's.
  echo
  echo "== pass 1 (normal build) failed; its summary again =="
  sed -n '/tests passed/,$p' "$build/ctest-pass.log"
fi
[ "$rc1" -ne 0 ] && exit "$rc1"
exit "$rc2"
