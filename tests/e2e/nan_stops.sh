#!/usr/bin/env bash
# A diverging run (absurd learning rate) stops with the step named and a non-zero exit.
set -euo pipefail
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
"$MKDATA" "$t" 4 3 200 50
cat > "$t/m.sng" <<SNG
data d {
  dir = "$t"
  train = idx("train-images.gz", "train-labels.gz")
  batch = 10
}
net m {
  x, y = input(d)
  loss softmax_cross_entropy(dense(relu(dense(x, 8)), 3), y)
}
updater sgd(lr = 1e30, momentum = 0.9)
train m with bp, sgd {
  steps = 50
}
SNG
"$SINGAC" "$t/m.sng" -o "$t/m.plan"
set +e; "$SINGA_EXEC" "$t/m.plan" > "$t/out" 2> "$t/err"; rc=$?; set -e
cat "$t/err"
[ "$rc" = 1 ] || fail "exit status $rc, wanted 1"
grep -Eq "step [0-9]+: the loss is (NaN|infinite)" "$t/err" || fail "no message naming the step"
grep -q "singa: samples/s" "$t/out" && fail "a failed run printed a final result line"

# a NaN that only the first layer holds: weights of +-1e38 overflow on 28x28 pixels of up to
# 255, every hidden pre-activation is inf - inf = NaN.  An ordered relu turned that into 0, the
# logits into the bias, and the run "trained" 50 steps at loss ln 10 (chance) with exit 0.
mkdir "$t/s28"
"$MKDATA" "$t/s28" 28 10 200 50
cat > "$t/hidden.sng" <<SNG
data d {
  dir = "$t/s28"
  train = idx("train-images.gz", "train-labels.gz")
  batch = 10
}
net m {
  x, y = input(d)
  loss softmax_cross_entropy(dense(relu(dense(x, 8, init = uniform(-1e38, 1e38))), 10), y)
}
updater sgd(lr = 0.1)
train m with bp, sgd {
  steps = 50
}
SNG
"$SINGAC" "$t/hidden.sng" -o "$t/hidden.plan"
set +e; "$SINGA_EXEC" "$t/hidden.plan" > "$t/out" 2> "$t/err"; rc=$?; set -e
[ "$rc" = 1 ] || { cat "$t/out" "$t/err"; fail "NaN behind a relu: exit status $rc, wanted 1 (the NaN was hidden)"; }
grep -q "step 1: the loss is NaN" "$t/err" || { cat "$t/err"; fail "NaN behind a relu: not stopped at step 1"; }

# the NaN born in the first layer passes through two relus (forward and backward) to the
# loss guard, and the metrics file stays JSON (no bare nan)
sed -e 's/loss softmax_cross_entropy(.*/loss softmax_cross_entropy(dense(relu(dense(relu(dense(x, 8)), 8)), 3), y)/' \
    -e 's/updater sgd(.*/updater sgd(lr = 1e12)/' "$t/m.sng" > "$t/deep.sng"
"$SINGAC" "$t/deep.sng" -o "$t/deep.plan"
set +e; "$SINGA_EXEC" --metrics "$t/deep.jsonl" "$t/deep.plan" > "$t/out" 2> "$t/err"; rc=$?; set -e
[ "$rc" = 1 ] || { cat "$t/err"; fail "deep relu net: exit status $rc, wanted 1"; }
grep -Eq "step [0-9]+: the loss is NaN" "$t/err" || { cat "$t/err"; fail "deep relu net: NaN not reported"; }
if grep -qi 'nan' "$t/deep.jsonl"; then cat "$t/deep.jsonl"; fail "a bare nan in the metrics file"; fi
echo "e2e nan_stops: ok"
