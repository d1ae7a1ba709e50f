#!/usr/bin/env bash
# End to end over Open MPI: a hybrid MLP (dense2 split by feature, the rest by batch) whose
# workers sit on 2 ranks, so bridges cross processes inside the step, equals the
# unpartitioned net (1 worker) on fixed batches (no shuffle) to 1e-4 relative, with 2 workers
# (one a rank) and 4 (two a rank); the bytes counted equal singac --explain's prediction.
# Then a plan of 2 ranks run without mpirun, or with the wrong -np, says what to run (exit 2).
set -euo pipefail
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
. "$SNG_SOURCE_DIR/tests/e2e/lib/mpi.sh"

"$MKDATA" "$t" 8 4 640 100
model() { # model NAME CLUSTER
  cat > "$t/$1.sng" <<SNG
data d {
  dir   = "$t"
  train = idx("train-images.gz", "train-labels.gz")
  batch = 32
  shuffle = false
  scale = 1/255
  standardize = true
}
net m(partition = batch) {
  x, y   = input(d)
  h1     = relu(dense(x, 24))
  h2     = relu(dense(h1, 16, partition = feature))
  logits = dense(h2, 4)
  loss   softmax_cross_entropy(logits, y)
  metric accuracy(logits, y)
}
updater sgd(lr = 0.05, momentum = 0.9)
$2
train m with bp, sgd {
  steps = 20
  display_every = 20
  seed = 7
}
SNG
  "$SINGAC" "$t/$1.sng" -o "$t/$1.plan"
}
model one ""
"$SINGA_EXEC" --no-progress --dump-params "$t/one.txt" "$t/one.plan" > "$t/one.out"
for w in 2 4; do
  model h$w "cluster(workers_per_group = $w, servers_per_group = 2, processes = 2)"
  check_run "hybrid, $w workers on 2 ranks vs the unpartitioned net" 2 h$w "$t/one.txt" 20
  grep -q 'dense2=feature' "$t/h$w.explain" || fail "--explain does not show the layer's partition"
done

# placement (place.c): workers 0, 1 on rank 0 and 2, 3 on rank 1; sandblaster server s on rank s % 2
"$SINGA_EXEC" --describe "$t/h4.plan" > "$t/desc.txt"
grep -qx 'ranks:    2' "$t/desc.txt" || fail "--describe: not 2 ranks"
[ "$(sed -n 's/^  unit \([0-9]\): kind \([a-z]*\), group 0, index \([0-9]\), rank \([0-9]\),.*/\1\2\3@\4/p' "$t/desc.txt" | tr '\n' ' ')" = \
  "0worker0@0 1worker1@0 2worker2@1 3worker3@1 4server0@0 5server1@1 " ] || { cat "$t/desc.txt"; fail "unit ranks"; }

# the number of ranks must match the plan's, and singa-exec says what to run
set +e
"$SINGA_EXEC" "$t/h2.plan" > "$t/alone.out" 2> "$t/alone.err"; rc=$?
set -e
[ $rc -eq 2 ] || fail "a 2-rank plan without mpirun: exit $rc, not 2"
grep -qx "singa-exec: this plan runs on 2 processes: mpirun -np 2 singa-exec $t/h2.plan (or srun -n 2)" "$t/alone.err" ||
  { cat "$t/alone.err"; fail "no 'this plan runs on 2 processes' message"; }
[ ! -s "$t/alone.out" ] || fail "a 2-rank plan without mpirun printed on stdout"
set +e
mpirun_exec 3 "$t/h2.plan" > "$t/np3.out" 2> "$t/np3.err"; rc=$?
set -e
[ $rc -ne 0 ] || fail "a 2-rank plan under mpirun -np 3 succeeded"
[ "$(grep -c "this plan runs on 2 processes: mpirun -np 2 singa-exec" "$t/np3.err")" = 1 ] ||
  { cat "$t/np3.err"; fail "under -np 3: not exactly one 'runs on 2 processes' message"; }
# processes must divide the workers (sema)
sed 's/processes = 2/processes = 3/' "$t/h4.sng" > "$t/bad.sng"
if "$SINGAC" "$t/bad.sng" -o "$t/bad.plan" 2> "$t/bad.err"; then fail "processes = 3 over 4 workers compiled"; fi
grep -q "processes = 3: each process holds the same number of workers, so it must divide workers_per_group = 4" \
  "$t/bad.err" || { cat "$t/bad.err"; fail "no message for processes = 3"; }
echo "e2e mpi_hybrid: ok"
