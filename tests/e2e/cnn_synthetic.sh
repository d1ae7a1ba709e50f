#!/usr/bin/env bash
# End to end: a small CNN (conv2d + relu, max pool, flatten, dense) on a synthetic idx set:
# singac -> plan -> singa-exec trains 60 steps, the loss falls and the test accuracy is well
# above chance; conv + bias + relu is one conv2d op (its GEMM) and one JIT kernel.
set -euo pipefail
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$MKDATA" "$t" 8 4 1000 200
cat > "$t/m.sng" <<SNG
data d {
  dir   = "$t"
  train = idx("train-images.gz", "train-labels.gz")
  test  = idx("test-images.gz", "test-labels.gz")
  batch = 16
  shuffle = true
  scale = 1/255
  standardize = true
}
net m {
  x, y   = input(d)
  c      = relu(conv2d(x, 6, kernel = 3, pad = 1))
  p      = pool(c, kernel = 2)
  logits = dense(flatten(p), 4)
  loss   softmax_cross_entropy(logits, y)
  metric accuracy(logits, y)
}
updater sgd(lr = 0.05, momentum = 0.9)
train m with bp, sgd {
  steps = 60
  display_every = 20
  test every 60 for all
  seed = 5
}
SNG
"$SINGAC" "$t/m.sng" -o "$t/m.plan"
"$SINGA_EXEC" --threads 1 "$t/m.plan" > "$t/out.txt"
cat "$t/out.txt"
first=$(sed -n 's/^step    20\/60  loss \([0-9.]*\).*/\1/p' "$t/out.txt")
last=$(sed -n 's/^step    60\/60  loss \([0-9.]*\).*/\1/p' "$t/out.txt")
[ -n "$first" ] && [ -n "$last" ] || fail "no display lines for steps 20 and 60"
awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < a) }' || fail "the loss did not fall: $first -> $last"
acc=$(sed -n 's/^test  step 60 .*accuracy \([0-9.]*\).*/\1/p' "$t/out.txt")
awk -v a="${acc:-0}" 'BEGIN { exit !(a >= 0.5) }' || fail "test accuracy ${acc:-none} < 0.5 (chance 0.25)"
# conv + bias + relu: the conv2d op adds the bias, relu is one JIT kernel of its own
"$SINGA_EXEC" --describe "$t/m.plan" > "$t/desc.txt"
grep -q 'CONV2D x1,' "$t/desc.txt" || fail "--describe lists no conv2d op"
grep -q 'members relu,' "$t/desc.txt" || fail "--describe lists no relu kernel"
[ "$(grep -c 'members bias_add' "$t/desc.txt")" = 1 ] || fail "a bias_add kernel besides the dense layer's"
echo "e2e cnn_synthetic: ok (loss $first -> $last, test accuracy $acc)"
