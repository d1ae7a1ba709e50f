# tests/e2e/lib/mpi.sh - sourced by the tests/e2e/mpi_*.sh tests: runs singa-exec under
# mpirun with the flags this machine needs (shared/spec/toolchain-notes.md §4: as root, more
# ranks than cores, shared memory only), and under AddressSanitizer with the leak reports
# from inside Open MPI (libmpi, libopen-pal, libpmix) suppressed (lsan-mpi.supp).
command -v mpirun >/dev/null || { echo "FAIL: mpirun is not installed (scripts/setup.sh installs openmpi-bin)" >&2; exit 1; }
MPI_FLAGS=(--allow-run-as-root --oversubscribe --bind-to none --mca pml ob1 --mca btl self,vader
           --mca mpi_yield_when_idle 1)
export LSAN_OPTIONS="suppressions=$SNG_SOURCE_DIR/tests/e2e/lib/lsan-mpi.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
# full malloc stacks, so that the suppressions see the Open MPI frames (the fast unwinder stops
# at the first frame of a library built without frame pointers)
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"
# mpirun_exec NP ARGS...: singa-exec on NP ranks (a 60 s guard against a hang)
mpirun_exec() {
  local np=$1 v xs=(); shift
  for v in LSAN_OPTIONS ASAN_OPTIONS UBSAN_OPTIONS; do [ -n "${!v:-}" ] && xs+=(-x "$v"); done
  timeout 60 mpirun "${MPI_FLAGS[@]}" "${xs[@]}" -np "$np" "$SINGA_EXEC" "$@"
}
# maxrel A B: max |a - b| over the values, relative to max |b| (two --dump-params files)
maxrel() {
  paste "$1" "$2" | awk 'NF != 2 { bad = 1 } { d = $1 - $2; if (d < 0) d = -d; if (d > m) m = d;
    a = $2 < 0 ? -$2 : $2; if (a > mx) mx = a } END { if (bad || NR == 0) print "mismatch"; else printf "%.3g\n", m / (mx ? mx : 1) }'
}
# check_run LABEL NP NAME REF STEPS: runs $t/NAME.plan (compiled from $t/NAME.sng) on NP ranks
# and fails (the caller's fail) unless its parameters equal the file REF to 1e-4 relative and
# the bytes it counted are singac --explain's prediction for STEPS steps, within 5%
check_run() {
  local label=$1 np=$2 name=$3 ref=$4 steps=$5 start secs rel per_step moved wire
  start=$(date +%s.%N)
  mpirun_exec "$np" --no-progress --dump-params "$t/$name.txt" "$t/$name.plan" > "$t/$name.out" ||
    { cat "$t/$name.out"; fail "$label: mpirun -np $np failed"; }
  secs=$(echo "$start $(date +%s.%N)" | awk '{ printf "%.1f", $2 - $1 }')
  grep -q "ranks=$np " "$t/$name.out" || { cat "$t/$name.out"; fail "$label: no ranks=$np in the final line"; }
  rel=$(maxrel "$t/$name.txt" "$ref")
  awk -v r="$rel" 'BEGIN { exit !(r + 0 == r && r <= 1e-4) }' || fail "$label: parameters differ by $rel (relative)"
  "$SINGAC" --explain "$t/$name.sng" > "$t/$name.explain"
  per_step=$(sed -n 's/.*moved per step: \([0-9]*\) B.*/\1/p' "$t/$name.explain")
  moved=$(sed -n 's/.*bytes_moved=\([0-9]*\).*/\1/p' "$t/$name.out")
  wire=$(sed -n 's/.*mpi_bytes=\([0-9]*\).*/\1/p' "$t/$name.out")
  awk -v m="$moved" -v p="$per_step" -v n="$steps" 'BEGIN { t = n * p; exit !(m >= t * 0.95 && m <= t * 1.05) }' ||
    fail "$label: moved $moved bytes in $steps steps; --explain predicts $per_step per step"
  echo "$label: max relative diff $rel; bytes $((moved / steps))/step (explain $per_step/step)," \
       "over MPI $((wire / steps))/step; ${secs}s"
}
