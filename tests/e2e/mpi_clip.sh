#!/usr/bin/env bash
# End to end over Open MPI: global-norm clipping (clip_norm) with the parameters' slices on
# servers of two ranks (allreduce: 4 workers, 4 servers, 2 processes) trains 100 steps and
# ends with the parameters of 1 worker and 1 server in one process, to 1e-4 relative: the
# norm is summed over every server of every rank before any slice is updated.  sgd with
# momentum and adam, each with a clip that is active at every step.
set -euo pipefail
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
. "$SNG_SOURCE_DIR/tests/e2e/lib/mpi.sh"

"$MKDATA" "$t" 8 8 2000 100
model() { # model NAME UPDATER CLUSTER
  cat > "$t/$1.sng" <<SNG
data d {
  dir   = "$t"
  train = idx("train-images.gz", "train-labels.gz")
  batch = 64
  shuffle = true
  scale = 1/255
  standardize = true
}
net m(partition = batch) {
  x, y   = input(d)
  h1     = relu(dense(x, 32))
  logits = dense(h1, 8)
  loss   softmax_cross_entropy(logits, y)
  metric accuracy(logits, y)
}
updater $2
$3
train m with bp, ${2%%(*} {
  steps = 100
  display_every = 50
  seed = 5
}
SNG
  "$SINGAC" "$t/$1.sng" -o "$t/$1.plan"
}
for upd in "sgd(lr = 0.05, momentum = 0.9, clip_norm = 0.05)" "adam(lr = 0.01, clip_norm = 0.05)"; do
  model one "$upd" "cluster(sync = allreduce)"
  model r2 "$upd" "cluster(workers_per_group = 4, servers_per_group = 4, sync = allreduce, processes = 2)"
  "$SINGA_EXEC" --describe "$t/r2.plan" > "$t/r2.describe"
  grep -q '^  unit 6: kind server, group 0, index 2, rank 1,' "$t/r2.describe" ||
    fail "allreduce over 2 ranks: server 2 is not on rank 1"
  "$SINGA_EXEC" --no-progress --dump-params "$t/one.txt" "$t/one.plan" > "$t/one.out"
  # the clip is active: without it the run ends elsewhere
  model free "${upd/, clip_norm = 0.05/}" "cluster(sync = allreduce)"
  "$SINGA_EXEC" --no-progress --dump-params "$t/free.txt" "$t/free.plan" > "$t/free.out"
  rel=$(maxrel "$t/free.txt" "$t/one.txt")
  awk -v r="$rel" 'BEGIN { exit !(r + 0 == r && r > 1e-2) }' || fail "$upd: the clip changes nothing ($rel)"
  check_run "$upd, 4 workers and 4 servers on 2 ranks vs 1 worker" 2 r2 "$t/one.txt" 100
done
echo "e2e mpi_clip: ok"
