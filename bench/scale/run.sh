#!/usr/bin/env bash
# The Fashion-MNIST MLP (examples/mlp.sng) with 1, 2 and 4 workers in one group, as threads
# of one process, against 1 worker with the same total batch: samples/s, bytes moved per
# step, and the ratio W workers / 1 worker, pair by pair (min/median/max), the two sides
# alternating inside each pair.
#
#   bench/scale/run.sh [--repeat R] [--steps S] [--warmup W] [--partition P] [--batch B]
#
#   --repeat R     pairs per worker count (default 3)
#   --steps S      training steps per run, warmup included (default 300)
#   --warmup W     first steps left out of samples/s (default 20)
#   --partition P  the net's partition: batch (default), feature, auto or hybrid
#                  (hybrid: the 500-unit layer split by feature, the rest by batch)
#   --batch B      the total batch (default 64, as the example)
#
# Environment: SINGA_EXEC, SINGAC (default build/...), SINGA_DATA (the Fashion-MNIST folder).
# OpenBLAS threads: singa-exec shares the cores among the workers (2 cores: 2 threads for 1
# worker, 1 each for 2 or 4), so no configuration oversubscribes.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root" || exit 2

repeat=3 steps=300 warmup=20 part=batch batch=64
while [ $# -gt 0 ]; do
  case "$1" in
    --repeat) repeat=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --partition) part=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
SINGA_EXEC=${SINGA_EXEC:-build/singa-exec}
SINGAC=${SINGAC:-build/singac}
[ -x "$SINGA_EXEC" ] && [ -x "$SINGAC" ] || { echo "run.sh: build singa first (scripts/test.sh)" >&2; exit 2; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/singa-bench-scale.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# plan for W workers
plan() {
  local w=$1 p=$part h2="" out="$tmp/w$1.plan"
  if [ "$part" = hybrid ]; then p=batch; h2=", partition = feature"; fi
  sed -e "s|^cluster(.*|cluster(workers_per_group = $w, servers_per_group = $(( w < 2 ? 1 : 2 )))|" \
      -e "s|^net mlp(partition = batch)|net mlp(partition = $p)|" \
      -e "s|dense(h1, 500)|dense(h1, 500$h2)|" \
      -e "s|batch       = 64|batch       = $batch|" \
      -e "s|\"/usr/share/datasets/fashion-mnist\"|\"${SINGA_DATA:-/usr/share/datasets/fashion-mnist}\"|" \
      examples/mlp.sng > "$tmp/w$w.sng"
  "$SINGAC" "$tmp/w$w.sng" -o "$out" || exit 1
  "$SINGAC" --explain "$tmp/w$w.sng" > "$tmp/w$w.explain" || exit 1
}
run() { # prints samples/s and bytes per step
  local out
  out=$("$SINGA_EXEC" --steps "$steps" --warmup "$warmup" --test-batches 1 "$tmp/w$1.plan" 2>&1) || { echo "$out" >&2; exit 1; }
  local rate bytes
  rate=$(sed -n 's/^singa: samples\/s=\([0-9.]*\).*/\1/p' <<<"$out")
  bytes=$(sed -n 's/.*bytes_moved=\([0-9]*\).*/\1/p' <<<"$out")
  echo "$rate $bytes"
}
stats() { sort -g | awk '{a[NR]=$1} END {printf "%.2f/%.2f/%.2f", a[1], a[int((NR+1)/2)], a[NR]}'; }

for w in 1 2 4; do plan $w; done
echo "bench/scale: MLP 784-1000-500-10, batch $batch in total, partition $part, $steps steps ($warmup warmup), $repeat pairs"
echo "OpenBLAS: ${OPENBLAS_CORETYPE:+OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE }$(ldconfig -p | grep -o 'libopenblas[^ ]*' | head -1); cores $(nproc)"
printf "%-8s %14s %14s %16s %16s %s\n" workers "samples/s" "1-worker s/s" "bytes/step" "explain B/step" "ratio W/1 (min/median/max)"
for w in 1 2 4; do
  ratios=() rates=() bases=()
  for ((i = 0; i < repeat; i++)); do
    if ((i % 2)); then read -r r b < <(run "$w"); read -r r1 _ < <(run 1)
    else read -r r1 _ < <(run 1); read -r r b < <(run "$w"); fi
    rates+=("$r") bases+=("$r1")
    ratios+=("$(awk -v a="$r" -v b="$r1" 'BEGIN {printf "%.4f", a / b}')")
  done
  per_step=$(awk -v b="$b" -v s="$steps" 'BEGIN {printf "%.0f", b / s}')
  predicted=$(sed -n 's/.*moved per step: \([0-9]*\) B.*/\1/p' "$tmp/w$w.explain")
  med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
  printf "%-8s %14.0f %14.0f %16s %16s %s\n" "$w" "$(med "${rates[@]}")" "$(med "${bases[@]}")" "$per_step" "$predicted" \
    "$(printf '%s\n' "${ratios[@]}" | stats)"
done
