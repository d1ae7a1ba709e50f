#!/usr/bin/env bash
# Fuzzes with libFuzzer (clang-14, ASan + UBSan); not part of the tests.
#   scripts/fuzz.sh [SECONDS] [HARNESS...]    each harness runs SECONDS (default 60)
# Harnesses: parser (the .sng front end), plan (the plan reader), run (a plan the reader accepts
# runs two training steps: tests/fuzz/fuzz_run.c); default all three, one after the other.
# SNG_FUZZ_OUT overrides the output folder (default build-fuzz): corpora in corpus-<harness>,
# crashes written there as crash-*, each harness's output in fuzz_<harness>.log.  A crash found
# goes into tests/fuzz/crashers/<name>.plan (replayed by tests/runtime/test_damaged.c) together
# with its fix.
# The plan corpora start from tests/fuzz/seeds/*.sng, compiled by build/singac (built if
# missing) over a synthetic data set.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
harnesses=("$@")
[ ${#harnesses[@]} -eq 0 ] && harnesses=(parser plan run)
for h in "${harnesses[@]}"; do
  case "$h" in parser|plan|run) ;; *) echo "fuzz.sh: no harness '$h' (parser, plan, run)" >&2; exit 2;; esac
done
scripts/setup.sh
need=(); for p in clang-14 libclang-rt-14-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
out=${SNG_FUZZ_OUT:-build-fuzz}; mkdir -p "$out"
out=$(cd "$out" && pwd)
flags=(-std=c11 -g -O1 -D_POSIX_C_SOURCE=200809L -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -Iruntime/core -Ilang -Iruntime/plan -Istdlib -I"$out")
llvm=/usr/lib/llvm-19
run_flags=(-Iruntime/exec -Iruntime/jit -Iruntime/comm -Iruntime/data -isystem "$llvm/include"
           $(pkg-config --cflags openblas))
run_libs=(-L"$llvm/lib" -Wl,-rpath,"$llvm/lib" -lLLVM $(pkg-config --libs openblas) -lz -lm -lpthread -ldl)
plan_srcs=(runtime/plan/*.c stdlib/ops.c runtime/core/*.c)

for h in "${harnesses[@]}"; do
  case "$h" in
  parser)
    flex --header-file="$out/lexer.h" -o "$out/lexer.c" lang/lexer.l
    bison -Wall --defines="$out/parser.h" -o "$out/parser.c" lang/parser.y
    clang-14 "${flags[@]}" -o "$out/fuzz_parser" tests/fuzz/fuzz_parser.c lang/*.c "$out/lexer.c" "$out/parser.c" \
      runtime/core/*.c -lm -lpthread
    mkdir -p "$out/corpus-parser"
    cp -n examples/*.sng tests/lang/errors/*.sng tests/fuzz/seeds/*.sng "$out/corpus-parser/" 2>/dev/null || true ;;
  plan)
    clang-14 "${flags[@]}" -o "$out/fuzz_plan" tests/fuzz/fuzz_plan.c "${plan_srcs[@]}" -lz -lm -lpthread ;;
  run)
    clang-14 "${flags[@]}" "${run_flags[@]}" -o "$out/fuzz_run" tests/fuzz/fuzz_run.c "${plan_srcs[@]}" \
      runtime/exec/*.c runtime/jit/*.c runtime/comm/*.c runtime/data/*.c "${run_libs[@]}" ;;
  esac
done

# the seed plans: tests/fuzz/seeds/*.sng over a synthetic set, into the plan corpora
if [[ " ${harnesses[*]} " =~ \ (plan|run)\  ]]; then
  [ -x build/singac ] && [ -x build/tests/sng-mkdata ] ||
    { cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null && ninja -C build -j2 singac sng-mkdata; }
  export SNG_SEED_DATA="$out/seed-data" SNG_FUZZ_SEEDS="$out/seeds"
  mkdir -p "$SNG_SEED_DATA" "$SNG_FUZZ_SEEDS" "$out/corpus-plan" "$out/corpus-run"
  build/tests/sng-mkdata "$SNG_SEED_DATA" 4 3 40 10
  for s in tests/fuzz/seeds/*.sng; do
    b=$(basename "$s" .sng)
    build/singac "$s" -o "$SNG_FUZZ_SEEDS/$b.plan"
    cp "$SNG_FUZZ_SEEDS/$b.plan" "$out/corpus-plan/"; cp "$SNG_FUZZ_SEEDS/$b.plan" "$out/corpus-run/"
  done
  [ -e build/singac ] && build/singac examples/mlp.sng -o "$out/corpus-plan/mlp.plan" 2>/dev/null || true
fi

for h in "${harnesses[@]}"; do
  echo "fuzz_$h: ${secs}s"
  (cd "$out" && ./fuzz_$h -max_total_time="$secs" -print_final_stats=1 -close_fd_mask=1 -timeout=30 corpus-$h \
     > "fuzz_$h.log" 2>&1; rc=$?; grep "^fuzz_$h:" "fuzz_$h.log" | tail -1; tail -8 "fuzz_$h.log"; exit $rc)
done
