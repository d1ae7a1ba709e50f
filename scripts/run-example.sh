#!/usr/bin/env bash
# Installs what is missing, builds singa, compiles examples/mlp.sng and trains it on
# Fashion-MNIST, printing progress and the test accuracy.  Extra arguments go to singa-exec.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build singac singa-exec >/dev/null
build/singac examples/mlp.sng -o build/mlp.plan
build/singa-exec "$@" build/mlp.plan
