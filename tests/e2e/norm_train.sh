#!/usr/bin/env bash
# End to end: a net with batchnorm and dropout, its batch split over 2 workers, trains and
# tests: the tests run with the running statistics (kept by the server) and without dropout,
# and the batch statistics (with the bridges that gather them) run in training only.
set -euo pipefail
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$MKDATA" "$t" 8 4 2000 500
cat > "$t/m.sng" <<SNG
data d {
  dir   = "$t"
  train = idx("train-images.gz", "train-labels.gz")
  test  = idx("test-images.gz", "test-labels.gz")
  batch = 32
  shuffle = true
  scale = 1/255
}
net m(partition = batch) {
  x, y   = input(d)
  h      = dropout(relu(batchnorm(dense(x, 64, bias = false))), ratio = 0.3)
  logits = dense(lrn(h, size = 3), 4)
  loss   softmax_cross_entropy(logits, y)
  metric accuracy(logits, y)
}
updater sgd(lr = 0.05, momentum = 0.9)
cluster(workers_per_group = 2)
train m with bp, sgd {
  steps = 200
  display_every = 100
  test every 100 for all
  seed = 3
}
SNG
"$SINGAC" "$t/m.sng" -o "$t/m.plan"
"$SINGAC" --dump-ir=partition "$t/m.sng" > "$t/ir.txt"
grep -q 'bn_stats.*fwd-train' "$t/ir.txt" || fail "the batch statistics are not training-only in the IR"
grep -q 'bridge.*fwd-train' "$t/ir.txt" || fail "no training-only bridge gathers the batch statistics"
"$SINGA_EXEC" --threads 1 "$t/m.plan" > "$t/out.txt"
cat "$t/out.txt"
acc=$(sed -n 's/^test  step 200 .*accuracy \([0-9.]*\).*/\1/p' "$t/out.txt")
[ -n "$acc" ] || fail "no final test line"
awk -v a="$acc" 'BEGIN { exit !(a >= 0.9) }' || fail "test accuracy $acc < 0.9"
"$SINGA_EXEC" --dump-params "$t/params.txt" --steps 1 --threads 1 "$t/m.plan" > /dev/null
# parameters in plan order: dense1.w (64x64), batchnorm1's gamma, beta, running mean, running var
# (64 each), ...: after one step the running variance has moved from 1 and stays positive
awk 'NR > 4288 && NR <= 4352 { n++; if ($1 <= 0) bad++; if ($1 != 1) moved++ }
     END { exit !(n == 64 && !bad && moved == 64) }' "$t/params.txt" || fail "the running variance after one step"
echo "e2e norm_train: ok (test accuracy $acc)"
