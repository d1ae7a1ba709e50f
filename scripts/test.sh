#!/usr/bin/env bash
# Installs what is missing, builds singa and runs every test (Criterion units under ctest,
# end-to-end runs of singac and singa-exec).  Warnings are errors when CI=true.
#   scripts/test.sh              the normal build, in build/
#   scripts/test.sh --sanitize   the same under AddressSanitizer + UBSan, in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
build=${SNG_BUILD_DIR:-build}
extra=()
if [ "${1:-}" = "--sanitize" ]; then
  shift
  build=${SNG_BUILD_DIR:-build-asan}
  extra=(-DSNG_SANITIZE_ADDRESS=ON -DSNG_SANITIZE_UNDEFINED=ON)
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
fi
werror=OFF; [ "${CI:-}" = "true" ] && werror=ON
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSNG_WERROR=$werror "${extra[@]}" "$@" >/dev/null
ninja -C "$build"
ctest --test-dir "$build" --output-on-failure -j2
