#!/usr/bin/env bash
# End to end over Open MPI: sandblaster and allreduce with 4 workers in one group (the batch
# split) train 100 steps under mpirun -np 4 (a worker a rank) and -np 2 (two workers a rank)
# and end with the parameters of 1 worker on the same total batch, to 1e-4 relative (max
# |a - b| over max |b|); the bytes counted equal singac --explain's prediction (within 5%).
set -euo pipefail
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
. "$SNG_SOURCE_DIR/tests/e2e/lib/mpi.sh"

"$MKDATA" "$t" 8 8 2000 100
model() { # model NAME CLUSTER
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
updater sgd(lr = 0.02, momentum = 0.9)
$2
train m with bp, sgd {
  steps = 100
  display_every = 50
  seed = 5
}
SNG
  "$SINGAC" "$t/$1.sng" -o "$t/$1.plan"
}
for sync in sandblaster allreduce; do
  servers=2; [ $sync = allreduce ] && servers=4
  model one "cluster(sync = $sync)"
  model r4 "cluster(workers_per_group = 4, servers_per_group = $servers, sync = $sync, processes = 4)"
  model r2 "cluster(workers_per_group = 4, servers_per_group = $servers, sync = $sync, processes = 2)"
  "$SINGA_EXEC" --no-progress --dump-params "$t/one.txt" "$t/one.plan" > "$t/one.out"
  if [ $sync = allreduce ]; then # server s beside worker s: servers 0, 1 on rank 0, 2, 3 on rank 1
    "$SINGA_EXEC" --describe "$t/r2.plan" > "$t/r2.describe" # not piped into grep -q: past 4 KiB, SIGPIPE + pipefail
    grep -q '^  unit 6: kind server, group 0, index 2, rank 1,' "$t/r2.describe" ||
      fail "allreduce over 2 ranks: server 2 is not beside worker 2 (rank 1)"
  fi
  for np in 4 2; do
    check_run "$sync, 4 workers, -np $np vs 1 worker" $np r$np "$t/one.txt" 100
  done
done
echo "e2e mpi_sync: ok"
