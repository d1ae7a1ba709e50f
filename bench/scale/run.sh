#!/usr/bin/env bash
# Scaling of the Fashion-MNIST MLP (examples/mlp.sng, 784-1000-500-10): synchronous workers as
# threads of one process and as MPI ranks, and two asynchronous worker groups, against 1 worker.
#
#   bench/scale/run.sh [throughput] [accuracy] [options]     (no mode: both, about 9 minutes)
#
# Rows (--rows, default all):
#   t1 t2 t4   1, 2, 4 workers in one group, threads of one process (total batch --batch)
#   r2 r4      2, 4 workers on as many MPI ranks (cluster processes = W, one worker a rank)
#   r4x2       4 workers on 2 ranks (2 worker threads a rank)
#   downpour   2 worker groups of 1 worker, one server group (batch --batch per group)
#   hogwild    2 worker groups of 1 worker, a server group each, sync_every = 10
# One group: servers_per_group = 1 for 1 worker, else 2 (sandblaster); partition --partition.
#
# throughput: for every row and every --threads setting, --repeat pairs (row, 1 worker), the
#   sides alternating inside each pair. Columns:
#   samples/s   median of the row's runs (async rows: the samples of both groups)
#   eff         scaling efficiency, pair by pair: samples/s / (W x the pair's 1-worker samples/s),
#               W = all workers of all groups; min/median/max over the pairs
#   B/step      bytes_moved / steps, as singa-exec counts them; explain = `singac --explain`'s
#               "moved per step" (x groups: explain counts one group); mpi = mpi_bytes / steps
#   wait, comm  from --profile (worker 0, rank 0, group 0), ms/step, medians:
#               wait = "waiting for servers"; comm = "servers: update kernels", scaled by
#               servers / servers on rank 0 when the profile sees only rank 0's servers
#   other       --profile's "other" (the step less compute, batch loading and wait), median
#   hidden      fraction of communication hidden behind compute = max(0, 1 - wait / comm), median
#               over the runs: the servers' work (summing shares, the update, replies) would all
#               be waited for if nothing overlapped the backward pass. With ranks, comm leaves out
#               the MPI transfers, which the worker also waits for: hidden is then an upper bound.
# accuracy: time to --target test accuracy. Rows t1 t2 r2 downpour hogwild (or --rows), tested
#   every --test-every steps (of group 0) on all 10,000 test images, at most --max-steps steps,
#   --acc-repeat runs each (row order reversed every other round); the run is stopped (SIGTERM)
#   at the first test >= target. seconds = wall-clock from the "training" line (data loaded,
#   MPI up) to that test's line, minus the tests' own time (a test line's time after the
#   display line before it); samples = every group's samples at that test. min/median/max.
#
# Options:
#   --rows LIST        rows, comma-separated (t1 is always run in throughput: it is the base)
#   --threads LIST     singa-exec --threads settings, comma-separated; auto = singa's default
#                      (the cores shared among one process's workers). Default: auto,1
#   --repeat R         pairs per row (default 3)
#   --steps S          steps per throughput run, warmup included (default 320)
#   --warmup W         first steps left out of samples/s (default 20)
#   --partition P      one group's partition: batch (default), feature, auto or hybrid
#                      (hybrid: the 500-unit layer split by feature, the rest by batch)
#   --batch B          the total batch of a group (default 64)
#   --target A         accuracy mode's target (default 0.85)
#   --test-every N     (default 100)   --max-steps N (default 3752)   --acc-repeat R (default 3)
#
# Environment: SINGA_EXEC, SINGAC (default build/...), SINGA_DATA (the Fashion-MNIST folder),
# MPIRUN (default mpirun). Ranks run as tests/e2e/lib/mpi.sh does: mpirun --allow-run-as-root
# --oversubscribe --bind-to none --mca pml ob1 --mca btl self,vader --mca mpi_yield_when_idle 1.
# OPENBLAS_* are left as they are; the OpenBLAS core is printed (a 1-step OPENBLAS_VERBOSE=2 run).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root" || exit 2

modes="" rows="t1,t2,t4,r2,r4,r4x2,downpour,hogwild" acc_rows="t1,t2,r2,downpour,hogwild" threads="auto,1"
repeat=3 steps=320 warmup=20 part=batch batch=64 target=0.85 test_every=100 max_steps=3752 acc_repeat=3
while [ $# -gt 0 ]; do
  case "$1" in
    throughput|accuracy) modes+=" $1"; shift ;;
    --rows) rows=$2 acc_rows=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --partition) part=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --target) target=$2; shift 2 ;;
    --test-every) test_every=$2; shift 2 ;;
    --max-steps) max_steps=$2; shift 2 ;;
    --acc-repeat) acc_repeat=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
modes=${modes:-throughput accuracy}
SINGA_EXEC=${SINGA_EXEC:-build/singa-exec}
SINGAC=${SINGAC:-build/singac}
MPIRUN=${MPIRUN:-mpirun}
MPI_FLAGS=(--allow-run-as-root --oversubscribe --bind-to none --mca pml ob1 --mca btl self,vader
           --mca mpi_yield_when_idle 1)
[ -x "$SINGA_EXEC" ] && [ -x "$SINGAC" ] || { echo "run.sh: build singa first (scripts/test.sh)" >&2; exit 2; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/singa-bench-scale.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# row -> "workers groups ranks servers cluster-line"
shape() {
  case $1 in
    t[124]) w=${1#t}; echo "$w 1 1 $(( w < 2 ? 1 : 2 )) workers_per_group = $w, servers_per_group = $(( w < 2 ? 1 : 2 ))" ;;
    r[24]) w=${1#r}; echo "$w 1 $w 2 workers_per_group = $w, servers_per_group = 2, processes = $w" ;;
    r4x2) echo "4 1 2 2 workers_per_group = 4, servers_per_group = 2, processes = 2" ;;
    downpour) echo "1 2 1 1 worker_groups = 2, workers_per_group = 1, server_groups = 1, servers_per_group = 1" ;;
    hogwild) echo "1 2 1 1 worker_groups = 2, workers_per_group = 1, server_groups = 2, servers_per_group = 1, sync_every = 10" ;;
    *) echo "run.sh: unknown row '$1'" >&2; exit 2 ;;
  esac
}
# plan ROW SUFFIX [sed...]: $tmp/ROW.SUFFIX.plan (and .explain) from examples/mlp.sng
plan() {
  local row=$1 sfx=$2 p=$part h2="" w g r s cl; shift 2
  read -r w g r s cl < <(shape "$row") || exit 2
  if [ "$part" = hybrid ]; then p=batch; [ "$w" -gt 1 ] && h2=", partition = feature"; fi
  [ "$w" -eq 1 ] && p=batch
  sed -e "s|^cluster(.*|cluster($cl)|" \
      -e "s|^net mlp(partition = batch)|net mlp(partition = $p)|" \
      -e "s|dense(h1, 500)|dense(h1, 500$h2)|" \
      -e "s|batch       = 64|batch       = $batch|" "$@" examples/mlp.sng > "$tmp/$row.$sfx.sng"
  "$SINGAC" "$tmp/$row.$sfx.sng" -o "$tmp/$row.$sfx.plan" || exit 1
  "$SINGAC" --explain "$tmp/$row.$sfx.sng" > "$tmp/$row.$sfx.explain" || exit 1
}
# cmd ROW SUFFIX ARGS...: sets c to singa-exec on the row's plan, under mpirun for ranks
cmd() {
  local row=$1 sfx=$2 w g r s cl; shift 2
  read -r w g r s cl < <(shape "$row")
  c=(timeout 600 "$SINGA_EXEC" "$@" "$tmp/$row.$sfx.plan")
  [ "$r" -gt 1 ] && c=(timeout 600 "$MPIRUN" "${MPI_FLAGS[@]}" -np "$r" "$SINGA_EXEC" "$@" "$tmp/$row.$sfx.plan")
}
exe() { local c; cmd "$@"; "${c[@]}"; }
# run ROW THREADS: "samples/s bytes/step mpi-bytes/step wait-ms comm-ms other-ms" of one throughput run
run() {
  local row=$1 th=() out w g r s cl
  [ "$2" = auto ] || th=(--threads "$2")
  read -r w g r s cl < <(shape "$row")
  out=$(exe "$row" tp --no-progress --profile "${th[@]}" --steps "$steps" --warmup "$warmup" --test-batches 1 2>&1) ||
    { echo "$out" | tail -20 >&2; echo "run.sh: $row failed" >&2; exit 1; }
  awk -v steps="$steps" -v f="$(( s / ((s + r - 1) / r) ))" '
    /^singa: samples\/s=/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
    /waiting for servers/ { wait = $4 }
    /update kernels/ { for (i = 1; i <= NF; i++) if ($i == "kernels") comm = $(i + 1) * f }
    $1 == "other" { other = $2 }
    END { printf "%s %.0f %.0f %s %.3f %s\n", v["samples/s"], v["bytes_moved"] / steps, v["mpi_bytes"] / steps, wait, comm, other }' <<<"$out"
}
mmm() { sort -g | awk '{ a[NR] = $1 } END { if (NR) printf "%.'"${1:-2}"'f/%.'"${1:-2}"'f/%.'"${1:-2}"'f", a[1], a[int((NR + 1) / 2)], a[NR]; else printf "n/a" }'; }
med() { sort -g | awk '{ a[NR] = $1 } END { if (NR) printf "%.'"${1:-0}"'f", a[int((NR + 1) / 2)]; else printf "n/a" }'; }

echo "bench/scale: MLP 784-1000-500-10, batch $batch per group, partition $part; $(nproc) cores; $(date -u '+%F %T UTC')"
echo "OpenBLAS: OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}, core $(plan t1 probe && OPENBLAS_VERBOSE=2 exe t1 probe --no-progress --steps 1 --test-batches 1 2>&1 | sed -n 's/^Core: //p' | head -1), $(ldd "$SINGA_EXEC" | grep -o '/[^ ]*libopenblas[^ ]*' | head -1)"
echo "load before: $(uptime | sed 's/.*load average/load average/')"
echo "Note: on 2 cores more workers cannot be faster: 1 worker already uses both cores (OpenBLAS threads,"
echo "      docs/frameworks.md, bench/README.md); W workers split the same cores, and pay for the parameter traffic."

if [[ " $modes " == *" throughput "* ]]; then
  IFS=, read -ra rl <<<"$rows"; IFS=, read -ra tl <<<"$threads"
  [[ " ${rl[*]} " == *" t1 "* ]] || rl=(t1 "${rl[@]}")
  for row in "${rl[@]}"; do plan "$row" tp; done
  echo
  echo "throughput: $steps steps a run ($warmup warmup), $repeat pairs (row, t1) a row, sides alternating"
  echo "  eff = samples/s / (W x 1-worker samples/s) pair by pair; hidden = max(0, 1 - wait/comm) (see --help)"
  for th in "${tl[@]}"; do
    echo
    echo "--threads $th$([ "$th" = auto ] && echo " (singa shares a process's cores among its workers: 1 worker 2 threads, 2 or 4 workers 1; each MPI rank counts all the cores)")"
    printf "%-9s %3s %5s %9s %17s %10s %10s %10s %7s %7s %7s %7s\n" row W ranks samples/s "eff min/med/max" B/step explain mpiB/step wait comm hidden other
    for row in "${rl[@]}"; do
      read -r w g r s cl < <(shape "$row")
      : > "$tmp/res"
      for ((i = 0; i < repeat; i++)); do
        if ((i % 2)); then a=$(run "$row" "$th") || exit 1; b=$(run t1 "$th") || exit 1
        else b=$(run t1 "$th") || exit 1; a=$(run "$row" "$th") || exit 1; fi
        echo "$a ${b%% *}" >> "$tmp/res"
      done
      expl=$(sed -n 's/.*moved per step: \([0-9]*\) B.*/\1/p' "$tmp/$row.tp.explain")
      printf "%-9s %3d %5d %9s %17s %10s %10s %10s %7s %7s %6s%% %7s\n" "$row" $((w * g)) "$r" \
        "$(awk '{ print $1 }' "$tmp/res" | med)" \
        "$(awk -v n=$((w * g)) '{ print $1 / (n * $7) }' "$tmp/res" | mmm)" \
        "$(awk '{ print $2 }' "$tmp/res" | med)" "$((expl * g))$( ((g > 1)) && echo "*")" \
        "$( ((r > 1)) && awk '{ print $3 }' "$tmp/res" | med || echo -)" \
        "$(awk '{ print $4 }' "$tmp/res" | med 3)" "$(awk '{ print $5 }' "$tmp/res" | med 3)" \
        "$(awk '$5 > 0 { print 100 * (1 - $4 / $5 > 0 ? 1 - $4 / $5 : 0) }' "$tmp/res" | med)" \
        "$(awk '{ print $6 }' "$tmp/res" | med 3)"
    done
  done
  echo "  wait, comm, other: ms/step (--profile); other = step - compute - batch loading - wait: with ranks it"
  echo "    holds most of the MPI cost, which 'waiting for servers' does not see (hidden is then optimistic)."
  echo "  * explain's figure is per group (\"per group, of 2 worker groups\"): shown x groups."
  echo "    hogwild's exchanges between server groups are not in bytes_moved (nor in explain)."
fi

if [[ " $modes " == *" accuracy "* ]]; then
  IFS=, read -ra al <<<"$acc_rows"
  for row in "${al[@]}"; do
    plan "$row" acc -e "s|^  steps .*|  steps = $max_steps|" -e "s|^  display_every .*|  display_every = $test_every|" \
      -e "s|^  test every .*|  test every $test_every for all|"
  done
  echo
  echo "time to test accuracy >= $target: tests every $test_every steps on the 10,000 test images, at most $max_steps steps,"
  echo "  $acc_repeat runs a row; seconds exclude data loading, MPI start-up and the tests (async groups other"
  echo "  than group 0 go on training during a test, so theirs are slightly flattered); threads: singa's default"
  printf "%-9s %3s %5s %20s %24s %14s %s\n" row W ranks "seconds min/med/max" "samples min/med/max" "steps (med)" "acc at hit"
  : > "$tmp/acc"
  for ((i = 0; i < acc_repeat; i++)); do
    order=("${al[@]}"); ((i % 2)) && order=($(printf '%s\n' "${al[@]}" | tac))
    for row in "${order[@]}"; do
      cmd "$row" acc --no-progress
      { "${c[@]}" & echo $! > "$tmp/pid"; wait; } 2>&1 |
        while IFS= read -r l; do echo "$EPOCHREALTIME $l"; done |
        awk -v target="$target" -v batch="$batch" -v row="$row" -v pidf="$tmp/pid" '
          / training mlp:/ && !t0 { t0 = $1 }
          / step +[0-9]+\// { prev = $1; split($3, st, "/"); n = st[1]; k = index($0, "groups at ")
            if (k) { split(substr($0, k + 10), gs, " "); n = 0; for (j in gs) n += gs[j] } }
          / test +step / { tt += $1 - prev
            for (j = 1; j <= NF; j++) { if ($j == "step") s = $(j + 1); if ($j == "accuracy") a = $(j + 1) }
            if (a >= target && !hit) { hit = 1; printf "%s %.3f %d %d %s\n", row, $1 - t0 - tt, n * batch, s, a
              getline pid < pidf; system("kill -TERM " pid " 2>/dev/null") } }
          END { if (!hit) printf "%s nan nan nan not-reached\n", row }' >> "$tmp/acc"
    done
  done
  for row in "${al[@]}"; do
    read -r w g r s cl < <(shape "$row")
    printf "%-9s %3d %5d %20s %24s %14s %s\n" "$row" $((w * g)) "$r" \
      "$(awk -v r="$row" '$1 == r && $2 != "nan" { print $2 }' "$tmp/acc" | mmm 1)" \
      "$(awk -v r="$row" '$1 == r && $2 != "nan" { print $3 }' "$tmp/acc" | mmm 0)" \
      "$(awk -v r="$row" '$1 == r && $2 != "nan" { print $4 }' "$tmp/acc" | med)" \
      "$(awk -v r="$row" '$1 == r { printf "%s ", $5 }' "$tmp/acc")"
  done
fi
echo
echo "load after: $(uptime | sed 's/.*load average/load average/')"
