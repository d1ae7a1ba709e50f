#!/usr/bin/env bash
# End to end, worker groups on a synthetic set: a hybrid MLP (dense2 split by feature, so the
# workers hold copies of parameter slices) over 2 hogwild groups of 3 workers, and the same net
# as downpour, train to a high test accuracy with every group's steps counted; --dump-ir and
# --describe show the groups.
set -euo pipefail
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$MKDATA" "$t" 8 4 2000 500
net() { # cluster line
  cat <<SNG
data d {
  dir   = "$t"
  train = idx("train-images.gz", "train-labels.gz")
  test  = idx("test-images.gz", "test-labels.gz")
  batch = 50
  shuffle = false
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
$1
train m with bp, sgd {
  steps = 150
  display_every = 50
  test every 150 for all
  seed = 3
}
SNG
}
for fw in hogwild downpour; do
  if [ $fw = hogwild ]; then cl="cluster(worker_groups = 2, workers_per_group = 3, servers_per_group = 2, sync = hogwild, sync_every = 3)"
  else cl="cluster(worker_groups = 2, workers_per_group = 3, servers_per_group = 2)"; fi
  net "$cl" > "$t/$fw.sng"
  "$SINGAC" "$t/$fw.sng" -o "$t/$fw.plan"
  "$SINGAC" --dump-ir=partition "$t/$fw.sng" > "$t/$fw.ir"
  grep -q "^groups: 2 worker groups of 3 (hybrid: $fw)" "$t/$fw.ir" || fail "$fw: --dump-ir shows no groups line"
  "$SINGA_EXEC" --describe "$t/$fw.plan" > "$t/$fw.describe"
  grep -q "framework $fw" "$t/$fw.describe" || fail "$fw: --describe shows no framework"
  grep -q "unit 5: kind worker, group 1, index 2" "$t/$fw.describe" || fail "$fw: --describe shows no group 1 worker"
  "$SINGA_EXEC" "$t/$fw.plan" > "$t/$fw.txt"
  cat "$t/$fw.txt"
  grep -q "^groups: steps 150 150 (15000 samples in all)" "$t/$fw.txt" || fail "$fw: steps per group"
  acc=$(sed -n 's/^test  step 150 .*accuracy \([0-9.]*\)  (500 images)/\1/p' "$t/$fw.txt")
  awk -v a="$acc" 'BEGIN { exit !(a >= 0.95) }' || fail "$fw: test accuracy $acc < 0.95"
done
echo "e2e groups_synthetic: ok"
