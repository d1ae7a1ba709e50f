#!/usr/bin/env bash
# Compile time against net size: generated nets of N = 12.5k, 25k, 50k, 100k (and 200k)
# ops in a few shapes, each compiled with `singac --time NET -o PLAN`.  Prints per shape and
# N the median seconds of
#   compile   parse, sema, the passes and lowering (singac's own work)
#   validate  the whole-plan validation on its own (runtime/plan)
#   write     encoding, validating again and writing the file (sng_plan_write)
#   e2e       the whole singac process, wall clock
#   cpu       the whole singac process, user + system CPU seconds (steadier than wall
#             clock on a loaded machine: others' work does not count)
# and each one's doubling ratio t(N) / t(N/2): near-linear is about 2, quadratic 4.
#
#   bench/compile/run.sh [--repeat R] [--max N] [--shapes "chain nested fused"]
#
#   --repeat R   runs per net, the median is printed (default 3)
#   --max N      the largest N (default 200000)
#   --shapes S   which shapes of gen.sh (default "chain nested fused")
# Environment: SINGAC, MKDATA (default build/singac, build/tests/sng-mkdata).
# The machines are shared and noisy: read the ratios of one run, not absolute seconds.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root" || exit 2

repeat=3 max=200000 shapes="chain nested fused"
while [ $# -gt 0 ]; do
  case "$1" in
    --repeat) repeat=$2; shift 2 ;;
    --max) max=$2; shift 2 ;;
    --shapes) shapes=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
SINGAC=${SINGAC:-build/singac}
MKDATA=${MKDATA:-build/tests/sng-mkdata}
[ -x "$SINGAC" ] && [ -x "$MKDATA" ] || { echo "run.sh: build singa first (scripts/test.sh)" >&2; exit 2; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/singa-bench-compile.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$MKDATA" "$tmp" 4 3 20 10 || exit 1

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# one run: prints "compile validate write e2e cpu" in seconds
once() {
  local TIMEFORMAT='%R %U %S'
  { time "$SINGAC" --time "$1" -o "$tmp/net.plan" 2> "$tmp/time.txt"; } 2> "$tmp/proc.txt" ||
    { cat "$tmp/time.txt" >&2; exit 1; }
  read -r real user sys < "$tmp/proc.txt"
  awk -v e2e="$real" -v user="$user" -v sys="$sys" \
    '$1 == "compile" { c = $2 } $1 == "validate" { v = $2 } $1 == "write" { w = $2 }
    END { printf "%s %s %s %s %.3f\n", c, v, w, e2e, user + sys }' "$tmp/time.txt"
}

printf "%-7s %7s %9s %6s %9s %6s %9s %6s %9s %6s %9s %6s\n" shape N compile ratio validate ratio write ratio e2e ratio \
  cpu ratio
for shape in $shapes; do
  prev=()
  for n in 12500 25000 50000 100000 200000; do
    [ "$n" -le "$max" ] || break
    DIR="$tmp" "$here/gen.sh" "$shape" "$n" > "$tmp/net.sng" || exit 1
    for ((r = 0; r < repeat; r++)); do once "$tmp/net.sng"; done > "$tmp/runs.txt"
    cur=()
    for col in 1 2 3 4 5; do cur+=("$(awk -v c=$col '{ print $c }' "$tmp/runs.txt" | median)"); done
    row=$(printf "%-7s %7d" "$shape" "$n")
    for i in 0 1 2 3 4; do
      ratio="-"
      [ ${#prev[@]} -gt 0 ] && ratio=$(awk -v a="${cur[$i]}" -v b="${prev[$i]}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
      row+=$(printf " %9.3f %6s" "${cur[$i]}" "$ratio")
    done
    echo "$row"
    prev=("${cur[@]}")
  done
done
