#!/usr/bin/env bash
# End to end on the real data: examples/rbm.sng (an RBM trained with cd(k = 1)) compiled as
# shipped, trained for 600 steps (a tenth of the recipe) and tested on 20 batches (2,000 of
# the 10,000 test images).  An untrained RBM reconstructs every pixel as about 0.5, a squared
# error above 60; CD-1 brings it under 24 by step 600 (14.4-17.4 over seeds 42, 1 and 2; the
# first few hundred steps vary a lot with the seed, in numpy's CD-1 of the same recipe too,
# bench/rbm/numpy_rbm.py).
set -euo pipefail
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
data=${SINGA_DATA:-/usr/share/datasets/fashion-mnist}
[ -e "$data/train-images-idx3-ubyte.gz" ] || fail "Fashion-MNIST is not in $data (scripts/setup.sh installs dataset-fashion-mnist)"

"$SINGAC" "$SNG_SOURCE_DIR/examples/rbm.sng" -o "$t/rbm.plan"
"$SINGA_EXEC" --steps 600 --test-batches 20 --no-progress "$t/rbm.plan" > "$t/out.txt"
cat "$t/out.txt"
err=$(sed -n 's/^test  step 600  squared error \([0-9.]*\)  (2000 images)/\1/p' "$t/out.txt")
[ -n "$err" ] || fail "no test line for 2000 images"
awk -v e="$err" 'BEGIN { exit !(e < 24) }' || fail "reconstruction error $err >= 24 after 600 steps"
grep -q "^singa: .* test_acc=nan test_loss=$err " "$t/out.txt" || fail "the final line does not give test_acc=nan test_loss=$err"

# the first test before any training: the error of an untrained RBM, for contrast
"$SINGA_EXEC" --steps 1 --test-batches 20 --no-progress "$t/rbm.plan" > "$t/out1.txt"
err1=$(sed -n 's/^test  step 1  squared error \([0-9.]*\)  (2000 images)/\1/p' "$t/out1.txt")
awk -v a="$err1" 'BEGIN { exit !(a > 60) }' || fail "an RBM after one step already reconstructs with error $err1"
echo "e2e rbm_train: ok (squared error $err1 after 1 step, $err after 600)"
