#!/usr/bin/env bash
# End to end: a synthetic idx data set -> singac -> plan -> singa-exec trains it, writes
# metrics, and reaches a high test accuracy.  Also --describe and --dump-ir on the plan.
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
  standardize = true
}
net m {
  x, y   = input(d)
  h      = relu(dense(x, 64))
  logits = dense(h, 4)
  loss   softmax_cross_entropy(logits, y)
  metric accuracy(logits, y)
}
updater sgd(lr = 0.05, momentum = 0.9)
train m with bp, sgd {
  steps = 200
  display_every = 50
  test every 100 for all
  seed = 3
}
SNG
"$SINGAC" "$t/m.sng" -o "$t/m.plan"
[ -s "$t/m.plan" ] || fail "no plan written"
"$SINGA_EXEC" --metrics "$t/metrics.jsonl" --threads 2 "$t/m.plan" > "$t/out.txt"
cat "$t/out.txt"
grep -q '^step   200/200' "$t/out.txt" || fail "no display line for step 200"
acc=$(sed -n 's/^test  step 200 .*accuracy \([0-9.]*\).*/\1/p' "$t/out.txt")
[ -n "$acc" ] || fail "no final test line"
awk -v a="$acc" 'BEGIN { exit !(a >= 0.95) }' || fail "test accuracy $acc < 0.95"
# metrics: one JSON object per display (4) and test (2) event, with the required keys
[ "$(grep -c '"phase":"train"' "$t/metrics.jsonl")" = 4 ] || fail "train metrics lines"
[ "$(grep -c '"phase":"test"' "$t/metrics.jsonl")" = 2 ] || fail "test metrics lines"
for k in phase step loss accuracy samples_per_sec; do
  grep -q "\"$k\":" "$t/metrics.jsonl" || fail "metrics lack $k"
done
# the elementwise work ran in JIT-compiled kernels
calls=$(sed -n 's/.*jit_calls=\([0-9]*\).*/\1/p' "$t/out.txt")
[ "${calls:-0}" -gt 0 ] || fail "no JIT kernel calls"
# --describe
"$SINGA_EXEC" --describe "$t/m.plan" > "$t/desc.txt"
grep -q 'bias_add+relu' "$t/desc.txt" || fail "--describe does not list the fused kernel"
grep -qi 'dense1.w' "$t/desc.txt" || fail "--describe does not list parameters"
# --dump-ir shows fused kernels of two or more ops
"$SINGAC" --dump-ir=fuse "$t/m.sng" > "$t/ir.txt"
grep -q 'kernel k[0-9]* eltwise \[32,64\]: bias_add %[0-9]* + relu' "$t/ir.txt" || fail "--dump-ir lacks the fused kernel"
echo "e2e train_synthetic: ok (test accuracy $acc, $calls JIT calls)"
