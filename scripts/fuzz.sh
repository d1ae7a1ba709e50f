#!/usr/bin/env bash
# Fuzzes the parser and the plan reader with libFuzzer (clang-14, ASan + UBSan).
#   scripts/fuzz.sh [SECONDS]     each harness runs SECONDS (default 60); not part of the tests
# Corpora live in build-fuzz/corpus-*; crashes are written to build-fuzz/ as crash-*.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
scripts/setup.sh
need=(); for p in clang-14 libclang-rt-14-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
out=build-fuzz; mkdir -p "$out"
flags=(-std=c11 -g -O1 -D_POSIX_C_SOURCE=200809L -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -Iruntime/core -Ilang -Iruntime/plan -Istdlib -I"$out")
flex --header-file="$out/lexer.h" -o "$out/lexer.c" lang/lexer.l
bison -Wall --defines="$out/parser.h" -o "$out/parser.c" lang/parser.y
clang-14 "${flags[@]}" -o "$out/fuzz_parser" tests/fuzz/fuzz_parser.c lang/*.c "$out/lexer.c" "$out/parser.c" runtime/core/core.c -lm
clang-14 "${flags[@]}" -o "$out/fuzz_plan" tests/fuzz/fuzz_plan.c runtime/plan/*.c stdlib/ops.c runtime/core/core.c -lz -lm
mkdir -p "$out/corpus-parser" "$out/corpus-plan"
cp -n examples/*.sng tests/lang/errors/*.sng "$out/corpus-parser/" 2>/dev/null || true
[ -e build/singac ] && build/singac examples/mlp.sng -o "$out/corpus-plan/mlp.plan" 2>/dev/null || true
for h in parser plan; do
  echo "fuzz_$h: ${secs}s"
  (cd "$out" && ./fuzz_$h -max_total_time="$secs" -print_final_stats=1 -close_fd_mask=1 corpus-$h 2>&1 | tail -12)
done
