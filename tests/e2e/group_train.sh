#!/usr/bin/env bash
# End to end, several workers: a hybrid MLP (dense2 split by feature, the rest by batch) over
# 3 workers and 2 servers trains on a synthetic set through singac and singa-exec, reaches a
# high test accuracy, and moves the bytes singac --explain predicts.
set -euo pipefail
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$MKDATA" "$t" 8 4 2000 500
cat > "$t/m.sng" <<SNG
data d {
  dir   = "$t"
  train = idx("train-images.gz", "train-labels.gz")
  test  = idx("test-images.gz", "test-labels.gz")
  batch = 50
  shuffle = true
  scale = 1/255
  standardize = true
}
net m(partition = batch) {
  x, y   = input(d)
  h1     = relu(dense(x, 64))
  h2     = relu(dense(h1, 32, partition = feature))
  logits = dense(h2, 4)
  loss   softmax_cross_entropy(logits, y)
  metric accuracy(logits, y)
}
updater sgd(lr = 0.05, momentum = 0.9)
cluster(workers_per_group = 3, servers_per_group = 2)
train m with bp, sgd {
  steps = 200
  display_every = 100
  test every 200 for all
  seed = 3
}
SNG
"$SINGAC" "$t/m.sng" -o "$t/m.plan"
"$SINGAC" --explain "$t/m.sng" > "$t/explain.txt"
cat "$t/explain.txt"
grep -q 'dense2=feature' "$t/explain.txt" || fail "--explain does not show the layer's partition"
"$SINGA_EXEC" --describe "$t/m.plan" > "$t/desc.txt"
"$SINGA_EXEC" --test-batches 0 "$t/m.plan" > "$t/out.txt"
cat "$t/out.txt"
grep -q '^group: 3 workers, 2 servers (sandblaster)' "$t/out.txt" || fail "no group line"
acc=$(sed -n 's/^test  step 200 .*accuracy \([0-9.]*\).*/\1/p' "$t/out.txt")
[ -n "$acc" ] || fail "no final test line"
awk -v a="$acc" 'BEGIN { exit !(a >= 0.95) }' || fail "test accuracy $acc < 0.95"
# bytes: 200 training steps as predicted, plus the forward bridges of the test batches
per_step=$(sed -n 's/.*moved per step: \([0-9]*\) B.*/\1/p' "$t/explain.txt")
moved=$(sed -n 's/.*bytes_moved=\([0-9]*\).*/\1/p' "$t/out.txt")
[ -n "$per_step" ] && [ -n "$moved" ] || fail "no byte counts"
awk -v m="$moved" -v p="$per_step" 'BEGIN { t = 200 * p; exit !(m >= t && m <= t * 1.05) }' ||
  fail "moved $moved bytes in 200 steps and the tests; --explain predicts $per_step per step"
echo "e2e group_train: ok (test accuracy $acc, $moved bytes moved, $per_step per step predicted)"
