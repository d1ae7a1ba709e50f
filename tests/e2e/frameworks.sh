#!/usr/bin/env bash
# End to end, several worker groups on the real data (examples/mlp.sng, its cluster line
# replaced): after the same number of training samples (51,200), downpour and hogwild with 2
# groups of 400 steps each reach a test accuracy within 1 point of the synchronous run of one
# group for 800 steps, on the 10,000 test images; a hybrid run (2 groups x 2 workers) trains.
# (hogwild averages the groups' parameters: it trails the synchronous run by about half a point
# here, and by about one at half the samples.)
set -euo pipefail
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
data=${SINGA_DATA:-/usr/share/datasets/fashion-mnist}
[ -e "$data/train-images-idx3-ubyte.gz" ] || fail "Fashion-MNIST is not in $data (scripts/setup.sh installs dataset-fashion-mnist)"

run() { # name, cluster line, steps
  sed "s/^cluster(.*/$2/" "$SNG_SOURCE_DIR/examples/mlp.sng" > "$t/$1.sng"
  "$SINGAC" "$t/$1.sng" -o "$t/$1.plan"
  local t0 t1
  t0=$(date +%s.%N)
  "$SINGA_EXEC" --steps "$3" "$t/$1.plan" > "$t/$1.txt"
  t1=$(date +%s.%N)
  cat "$t/$1.txt"
  acc=$(sed -n "s/^test  step $3 .*accuracy \([0-9.]*\)  (10000 images)/\1/p" "$t/$1.txt")
  [ -n "$acc" ] || fail "$1: no test line for 10000 images"
  eval "acc_$1=$acc; secs_$1=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
}
run sync "cluster(workers_per_group = 1)" 800
run downpour "cluster(worker_groups = 2)" 400
grep -q '^groups: 2 worker groups of 1 worker (downpour), 1 server group of 1, 128 samples per step' "$t/downpour.txt" ||
  fail "downpour: no groups line"
grep -q '^groups: steps 400 400 (51200 samples in all)$' "$t/downpour.txt" || fail "downpour: steps per group"
run hogwild "cluster(worker_groups = 2, sync = hogwild, sync_every = 10)" 400
grep -q '^groups: steps 400 400 (51200 samples in all), [0-9]* exchanges$' "$t/hogwild.txt" || fail "hogwild: steps per group"
# An asynchronous run is not deterministic, and the final accuracy of any of these runs moves by
# about a point with the order of the samples (the synchronous run itself: 0.842 to 0.852 over
# seeds 42 to 45; downpour 0.827 to 0.848 over runs of seed 42).  So an asynchronous run outside
# the bound is run again, up to three runs in all, each printed; one must be within it.
within() { awk -v a="$1" -v s="$acc_sync" 'BEGIN { d = a - s; exit !(d >= -0.01 && d <= 0.01) }'; }
for try in 2 3; do
  within "$acc_downpour" || { echo "downpour: $acc_downpour, run $try"; run downpour "cluster(worker_groups = 2)" 400; }
  within "$acc_hogwild" ||
    { echo "hogwild: $acc_hogwild, run $try"; run hogwild "cluster(worker_groups = 2, sync = hogwild, sync_every = 10)" 400; }
done
for f in downpour hogwild; do
  a=$(eval echo "\$acc_$f")
  within "$a" || fail "$f: test accuracy $a is not within 1 point of the synchronous run's $acc_sync in 3 runs"
done
# hybrid: synchronous inside each group of 2 workers, asynchronous between the groups
run hybrid "cluster(worker_groups = 2, workers_per_group = 2)" 100
grep -q '^groups: 2 worker groups of 2 workers (hybrid: downpour)' "$t/hybrid.txt" || fail "hybrid: no groups line"
awk -v a="$acc_hybrid" 'BEGIN { exit !(a >= 0.70) }' || fail "hybrid: test accuracy $acc_hybrid < 0.70 after 100 steps"
echo "e2e frameworks: ok (51200 samples: sync $acc_sync in ${secs_sync}s, downpour $acc_downpour in ${secs_downpour}s," \
     "hogwild $acc_hogwild in ${secs_hogwild}s; hybrid 2x2 after 100 steps: $acc_hybrid in ${secs_hybrid}s)"
