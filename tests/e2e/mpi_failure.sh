#!/usr/bin/env bash
# End to end over Open MPI, failures: while a 2-rank job trains, rank 1 is killed (SIGKILL)
# or stopped (SIGSTOP); either way the whole job ends within 10 s with a message naming the
# rank and its host, and the units it held (the stop: singa-exec's watchdog says it all; the
# kill: mpirun names the rank and node, and singa-exec's "rank 1 (host ...)" line the units).
set -euo pipefail
t=$(mktemp -d)
victim=""
cleanup() { [ -n "$victim" ] && kill -CONT "$victim" 2>/dev/null && kill -KILL "$victim" 2>/dev/null; rm -rf "$t"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$t/out" ] && cat "$t/out" "$t/err" >&2; exit 1; }
. "$SNG_SOURCE_DIR/tests/e2e/lib/mpi.sh"

"$MKDATA" "$t" 8 4 640 100
cat > "$t/m.sng" <<SNG
data d {
  dir   = "$t"
  train = idx("train-images.gz", "train-labels.gz")
  batch = 32
  scale = 1/255
}
net m(partition = batch) {
  x, y   = input(d)
  h1     = relu(dense(x, 24))
  logits = dense(h1, 4)
  loss   softmax_cross_entropy(logits, y)
}
updater sgd(lr = 0.01)
cluster(workers_per_group = 4, servers_per_group = 2, processes = 2)
train m with bp, sgd {
  steps = 100000000
  display_every = 100
}
SNG
"$SINGAC" "$t/m.sng" -o "$t/m.plan"

for sig in KILL STOP; do
  mpirun "${MPI_FLAGS[@]}" -np 2 "$SINGA_EXEC" --no-progress "$t/m.plan" > "$t/out" 2> "$t/err" &
  mp=$!
  for _ in $(seq 200); do grep -q '^step' "$t/out" && break; sleep 0.1; done   # training has begun
  grep -q '^step' "$t/out" || { kill "$mp"; fail "$sig: the job did not start training"; }
  victim=""
  for pid in $(pgrep -P "$mp"); do
    tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null | grep -qx 'OMPI_COMM_WORLD_RANK=1' && victim=$pid
  done
  [ -n "$victim" ] || { kill "$mp"; fail "$sig: no rank 1 among mpirun's children"; }
  start=$(date +%s.%N)
  kill -"$sig" "$victim"
  for _ in $(seq 150); do kill -0 "$mp" 2>/dev/null || break; sleep 0.1; done
  secs=$(echo "$start $(date +%s.%N)" | awk '{ printf "%.1f", $2 - $1 }')
  if kill -0 "$mp" 2>/dev/null; then kill -CONT "$victim"; kill "$mp"; wait "$mp" || true; fail "$sig: still running after ${secs}s"; fi
  set +e; wait "$mp"; rc=$?; set -e
  [ $rc -ne 0 ] || fail "$sig: the job exited 0"
  awk -v s="$secs" 'BEGIN { exit !(s <= 10) }' || fail "$sig: the job took ${secs}s to end"
  host=$(sed -n 's/^rank 1 (host \([^)]*\)): workers 2, 3 and server 1$/\1/p' "$t/out")
  [ -n "$host" ] || fail "$sig: no 'rank 1 (host H): workers 2, 3 and server 1' line"
  if [ $sig = STOP ]; then
    grep -q "singa-exec: rank 1 (host $host) has not been heard from for [0-9]* s (stopped, hung or unreachable); it held workers 2, 3 and server 1; ending the job" "$t/err" ||
      fail "STOP: no watchdog message naming rank 1, its host and its units"
  else
    grep -q "process rank 1 .* on node $host exited on signal 9" "$t/err" || fail "KILL: mpirun does not name rank 1 and its node"
  fi
  kill -CONT "$victim" 2>/dev/null || true
  victim=""
  echo "SIG$sig to rank 1: the job ended in ${secs}s (exit $rc)"
done
# a rank that cannot be reached at start-up is named before training (the test hook makes rank
# 1 send nothing, as if the path to it were cut)
start=$(date +%s.%N)
set +e
timeout 30 mpirun "${MPI_FLAGS[@]}" -x SNG_MPI_TEST_DEAF=1 -np 2 "$SINGA_EXEC" --no-progress "$t/m.plan" > "$t/out" 2> "$t/err"
rc=$?
set -e
secs=$(echo "$start $(date +%s.%N)" | awk '{ printf "%.1f", $2 - $1 }')
[ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "unreachable: exit status $rc"
grep -q "singa-exec: rank 0 (host [^)]*) cannot reach rank 1 (host [^)]*) within 5 s: check that the hosts can reach each other" "$t/err" ||
  fail "unreachable: no message naming rank 1"
grep -q '^step' "$t/out" && fail "unreachable: training began"
echo "unreachable rank 1 at start-up: named, the job ended in ${secs}s (exit $rc)"
echo "e2e mpi_failure: ok"
