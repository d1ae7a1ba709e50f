#!/usr/bin/env bash
# Installs what is missing, builds singa and runs every test (Criterion units under ctest,
# end-to-end runs of singac and singa-exec).  Warnings are errors when CI=true.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
build=${SNG_BUILD_DIR:-build}
werror=OFF; [ "${CI:-}" = "true" ] && werror=ON
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSNG_WERROR=$werror "$@" >/dev/null
ninja -C "$build"
ctest --test-dir "$build" --output-on-failure -j2
