#!/usr/bin/env bash
# End to end under Slurm: starts a one-node Slurm (munged, slurmctld, slurmd; scripts/slurm-local.sh)
# in this test's temp dir, then
#   * srun -n 1 singa-exec PLAN trains the synthetic set, and the job's output has the test accuracy;
#   * srun returns a task's exit status;
#   * an MPI hello world (mpicc here) started as "srun -n 2" is one MPI job of 2 ranks (PMIx);
#   * examples/slurm.sbatch, submitted with sbatch, compiles and runs the plan, and the same
#     allocation runs the MPI hello world with Open MPI's mpirun too;
# and stops Slurm on every way out (nothing is left running).  Every wait has a timeout.
# Needs root (SlurmUser=root); as another user it is skipped (exit 77).
set -euo pipefail
src=${SNG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
# Under AddressSanitizer, ranks started by srun's PMIx plugin report leaks from Open MPI and
# PMIx modules already unloaded at MPI_Finalize (no module name left to suppress); leaks of the
# MPI runtime are checked under mpirun by tests/e2e/mpi_*.sh, with their suppressions.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
# ranks that srun starts get the settings mpirun gets in tests/e2e/lib/mpi.sh: yield when idle
# (two ranks and their threads share 2 cores), the ob1 pml and shared memory on one host
export OMPI_MCA_mpi_yield_when_idle=1 OMPI_MCA_pml=ob1 OMPI_MCA_btl=self,vader
if [ "$(id -u)" -ne 0 ]; then echo "e2e slurm: skipped (the one-node Slurm needs root)"; exit 77; fi
for b in munged slurmctld slurmd srun sbatch scontrol mpicc; do
  command -v "$b" >/dev/null || { echo "FAIL: $b is not installed (scripts/setup.sh installs it)" >&2; exit 1; }
done

t=$(mktemp -d)
chmod 755 "$t"                          # munged wants every directory above its socket searchable
cleanup() {
  "$src/scripts/slurm-local.sh" stop "$t/slurm" >/dev/null 2>&1 || true
  rm -rf "$t"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
fail() {
  echo "FAIL: $*" >&2
  for f in "$t"/out*.txt "$t"/job-*.out; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }; done
  for f in "$t"/slurm/log/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }; done
  exit 1
}
t0=$(date +%s%N)
ms() { echo $(( ($(date +%s%N) - t0) / 1000000 )); }
# tmo SECONDS CMD...: timeout, cut so that the whole test ends within 55 s (normal: 6-11 s)
deadline=$(( $(date +%s) + 55 ))
tmo() {
  local s=$1 left=$(( deadline - $(date +%s) )); shift
  [ "$left" -lt "$s" ] && s=$left
  [ "$s" -ge 1 ] || fail "out of time (55 s) before: $*"
  timeout "$s" "$@"
}

# wait_job JOBID SECONDS: wait for the batch job to end; prints "STATE EXITCODE"
wait_job() {
  local line st
  for _ in $(seq $(( $2 * 5 ))); do
    [ "$(date +%s)" -lt "$deadline" ] || break
    line=$(timeout 5 scontrol -o show job "$1" 2>/dev/null || true)
    st=$(sed -n 's/.* JobState=\([A-Z_]*\) .*/\1/p' <<<"$line")
    case "$st" in
      COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE|PREEMPTED)
        echo "$st $(sed -n 's/.* ExitCode=\([0-9:]*\) .*/\1/p' <<<"$line")"; return 0 ;;
    esac
    sleep 0.2
  done
  echo "WAITING"; return 1
}

# the model and its data (as in train_synthetic.sh)
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
# the same model over 2 MPI processes (one worker each), for srun -n 2 and the sbatch example
sed 's/^train m with/cluster(workers_per_group = 2, processes = 2)\ntrain m with/' "$t/m.sng" > "$t/m2.sng"
"$SINGAC" "$t/m2.sng" -o "$t/m2.plan"
cat > "$t/hello.c" <<'C'
#include <mpi.h>
#include <stdio.h>
int main(int argc, char **argv) {
  int rank, size, one = 1, sum = 0;
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Allreduce(&one, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  printf("hello rank %d of %d sum %d\n", rank, size, sum);
  MPI_Finalize();
  return 0;
}
C
mpicc "$t/hello.c" -o "$t/hello"

# accuracies FILE: the final test accuracies in singa-exec's output, one a line
accuracies() { sed -n 's/^test  step 200 .*accuracy \([0-9.]*\).*/\1/p' "$1"; }
check_acc() { # FILE WHAT
  local a n=0
  for a in $(accuracies "$1"); do
    n=$((n + 1)); awk -v a="$a" 'BEGIN { exit !(a >= 0.95) }' || fail "$2: test accuracy $a < 0.95"
  done
  [ $n -ge 1 ] || fail "$2: no final test line"
  echo "$n"
}
# hello_ok FILE RANKS WHAT
hello_ok() {
  local r
  for r in $(seq 0 $(($2 - 1))); do
    grep -q "^hello rank $r of $2 sum $2\$" "$1" || fail "$3: no 'hello rank $r of $2 sum $2'"
  done
}

# --- the cluster
tmo 30 "$src/scripts/slurm-local.sh" start "$t/slurm" > "$t/env.sh" 2> "$t/start.txt" || { cat "$t/start.txt" >&2; fail "Slurm did not start"; }
# shellcheck disable=SC1091
. "$t/env.sh"
[ -n "${SLURM_CONF:-}" ] || fail "slurm-local.sh start printed no SLURM_CONF"
up=$(ms)

# --- srun -n 1 singa-exec PLAN
tmo 30 srun -n 1 -c 2 -t 2 -J singa-e2e "$SINGA_EXEC" --threads 2 "$t/m.plan" > "$t/out1.txt" 2>&1 \
  || fail "srun singa-exec: exit status $?"
acc=$(accuracies "$t/out1.txt")
check_acc "$t/out1.txt" "srun -n 1 singa-exec" >/dev/null

# --- srun passes a task's exit status on
rc=0; tmo 20 srun -n 1 -t 1 sh -c 'exit 3' > "$t/out2.txt" 2>&1 || rc=$?
[ $rc = 3 ] || fail "srun of a task that exits 3 returned $rc"

# --- MPI: srun -n 2 starts one MPI job of 2 ranks (MpiDefault=pmix)
tmo 30 srun -n 2 -t 2 "$t/hello" > "$t/out3.txt" 2>&1 || fail "srun -n 2 hello: exit status $?"
hello_ok "$t/out3.txt" 2 "srun -n 2 (pmix)"

# --- srun -n 2 singa-exec PLAN: a plan of 2 ranks is one MPI job; rank 0 alone prints
tmo 40 srun -n 2 -t 2 -J singa-e2e2 "$SINGA_EXEC" --threads 1 "$t/m2.plan" > "$t/out5.txt" 2>&1 \
  || { cat "$t/out5.txt"; fail "srun -n 2 singa-exec: exit status $?"; }
[ "$(check_acc "$t/out5.txt" "srun -n 2 singa-exec")" = 1 ] || fail "srun -n 2 singa-exec: not one final test line"
grep -q " ranks=2 mpi_bytes=" "$t/out5.txt" || { cat "$t/out5.txt"; fail "srun -n 2 singa-exec: not a 2-rank run"; }
# started with the wrong number of tasks, it says what to run
rc=0; tmo 30 srun -n 1 -t 1 "$SINGA_EXEC" "$t/m2.plan" > "$t/out6.txt" 2>&1 || rc=$?
[ $rc = 2 ] && grep -q "this plan runs on 2 processes: mpirun -np 2 singa-exec .* (or srun -n 2)" "$t/out6.txt" \
  || { cat "$t/out6.txt"; fail "srun -n 1 of a 2-rank plan: status $rc"; }

# --- sbatch examples/slurm.sbatch: compile + srun singa-exec; then mpirun in the same allocation
cat > "$t/job.sh" <<JOB
#!/bin/bash
set -e
bash "$src/examples/slurm.sbatch" "$t/m2.sng" --data "$t"
echo "--- mpirun"
mpirun --allow-run-as-root --mca btl self,vader "$t/hello"
JOB
jid=$(cd "$t" && SINGAC=$SINGAC SINGA_EXEC=$SINGA_EXEC SINGA_PLAN=$t/batch.plan \
      tmo 20 sbatch --parsable -n 2 -t 2 -o "$t/job-%j.out" "$t/job.sh") || fail "sbatch: exit status $?"
res=$(wait_job "$jid" 40) || fail "batch job $jid did not end in time"
[ "$res" = "COMPLETED 0:0" ] || fail "batch job $jid: $res"
out=$t/job-$jid.out
[ -s "$t/batch.plan" ] || fail "the batch job wrote no plan"
n=$(check_acc "$out" "sbatch examples/slurm.sbatch")
sed -n '/^--- mpirun/,$p' "$out" > "$t/out4.txt"
hello_ok "$t/out4.txt" 2 "mpirun inside sbatch"

"$src/scripts/slurm-local.sh" stop "$t/slurm" 2>/dev/null
pgrep -f "$t/slurm" >/dev/null && fail "daemons of $t/slurm still run after stop"
echo "e2e slurm: ok (up in ${up} ms; srun test accuracy $acc; srun -n 2 MPI and a 2-rank plan; sbatch: $n rank 0 line(s); all in $(ms) ms)"
