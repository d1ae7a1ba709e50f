#!/usr/bin/env bash
# End to end on the real data: examples/mlp.sng compiled as shipped, trained for 300 steps
# (a sixth of the recipe) and tested on 40 batches (2,560 of the 10,000 test images).
set -euo pipefail
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
data=${SINGA_DATA:-/usr/share/datasets/fashion-mnist}
[ -e "$data/train-images-idx3-ubyte.gz" ] || fail "Fashion-MNIST is not in $data (scripts/setup.sh installs dataset-fashion-mnist)"

"$SINGAC" "$SNG_SOURCE_DIR/examples/mlp.sng" -o "$t/mlp.plan"
"$SINGA_EXEC" --steps 300 --test-batches 40 --metrics "$t/m.jsonl" "$t/mlp.plan" > "$t/out.txt"
cat "$t/out.txt"
acc=$(sed -n 's/^test  step 300 .*accuracy \([0-9.]*\)  (2560 images)/\1/p' "$t/out.txt")
[ -n "$acc" ] || fail "no test line for 2560 images"
awk -v a="$acc" 'BEGIN { exit !(a >= 0.75) }' || fail "test accuracy $acc < 0.75 after 300 steps"
loss1=$(sed -n 's/^step   100\/300  loss \([0-9.]*\).*/\1/p' "$t/out.txt")
loss3=$(sed -n 's/^step   300\/300  loss \([0-9.]*\).*/\1/p' "$t/out.txt")
awk -v a="$loss1" -v b="$loss3" 'BEGIN { exit !(b < a) }' || fail "loss did not fall ($loss1 -> $loss3)"
echo "e2e fashion_subset: ok (accuracy $acc, loss $loss1 -> $loss3)"
