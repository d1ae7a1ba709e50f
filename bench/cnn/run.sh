#!/usr/bin/env bash
# Trains examples/cnn.sng (LeNet) with singa-exec and the same recipe with PyTorch
# (torch_cnn.py), side by side, and prints singa's ratio against PyTorch's fastest
# configuration on this machine.
#
#   bench/cnn/run.sh [--repeat R] [--threads "1 2"] [--steps S] [--warmup W] [--full]
#
#   --repeat R     rounds (default 3).  A round runs every configuration once, in an order
#                  that alternates between rounds: singa at each thread count, torch at each
#                  thread count with OMP_WAIT_POLICY passive and unset
#   --threads L    the thread counts tried by both (default "1 2"): singa-exec --threads,
#                  torch.set_num_threads (and torch's OpenBLAS)
#   --steps S      training steps per run, warmup included (default 320)
#   --warmup W     first steps of each run left out of samples/s (default 20)
#   --full         the whole recipe: 1876 steps (two epochs), test accuracy from both
#
# Ratios are pair by pair: in each round, singa's samples/s over the fastest torch
# configuration of the same round; the line per singa thread count gives their median.
# Environment: SINGA_EXEC (default build/singa-exec), SINGAC (default build/singac), PYTHON
# (default /usr/bin/python3, Debian's, which has python3-torch).  The last lines are
#   ratio singa(threads T)/torch fastest = X.XX (median of R rounds; ...)
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root" || exit 2

repeat=3 threads="1 2" steps=320 warmup=20 full=0
usage() { sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; }
want_num() { [[ "$2" =~ ^[0-9]+$ ]] || { echo "run.sh: $1 wants a non-negative integer, got '$2'" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
  case "$1" in
    --repeat|--steps|--warmup)
      [ $# -ge 2 ] || { echo "run.sh: $1 wants a value" >&2; exit 2; }
      want_num "$1" "$2"
      case "$1" in --repeat) repeat=$2 ;; --steps) steps=$2 ;; --warmup) warmup=$2 ;; esac
      shift 2 ;;
    --threads)
      [ $# -ge 2 ] || { echo "run.sh: $1 wants a value" >&2; exit 2; }
      for t in $2; do want_num "$1" "$t"; [ "$t" -ge 1 ] || { echo "run.sh: --threads wants counts >= 1" >&2; exit 2; }; done
      threads=$2; shift 2 ;;
    --full) full=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
[ "$full" = 1 ] && steps=1876
[ "$repeat" -ge 1 ] && [ "$steps" -ge 1 ] || { echo "run.sh: --repeat and --steps want positive integers" >&2; exit 2; }

PYTHON=${PYTHON:-/usr/bin/python3}
SINGA_EXEC=${SINGA_EXEC:-build/singa-exec}
SINGAC=${SINGAC:-build/singac}

if ! torch_version=$("$PYTHON" -c 'import torch; print(torch.__version__)' 2>/dev/null); then
  echo "run.sh: $PYTHON cannot import torch; run scripts/setup.sh --bench (installs python3-torch)" >&2
  exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/singa-bench-cnn.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

singa_ok=0 singa_why=""
if [ ! -x "$SINGA_EXEC" ] || [ ! -x "$SINGAC" ]; then
  singa_why="$SINGA_EXEC or $SINGAC is not built"
elif ! "$SINGAC" examples/cnn.sng -o "$tmp/cnn.plan" >"$tmp/singac.log" 2>&1; then
  singa_why="$SINGAC examples/cnn.sng failed:"$'\n'"$(tail -n 5 "$tmp/singac.log")"
else
  singa_ok=1
fi
[ "$singa_ok" = 1 ] || echo "run.sh: singa left out ($singa_why)" >&2

# The OpenBLAS core singa-exec runs on: the library it links, asked through ctypes.
singa_core=n/a
if [ "$singa_ok" = 1 ]; then
  lib=$(ldd "$SINGA_EXEC" 2>/dev/null | sed -n 's/.*libopenblas[^ ]* => \([^ ]*\).*/\1/p' | head -n 1)
  [ -n "$lib" ] && singa_core=$("$PYTHON" -c 'import ctypes, sys
f = ctypes.CDLL(sys.argv[1]).openblas_get_corename; f.restype = ctypes.c_char_p; print(f().decode())' "$lib" 2>/dev/null || echo n/a)
fi

field() { sed -n "s|.*[[:space:]]$1=\([^[:space:]]*\).*|\1|p" <<<" $2"; }

# configurations: singa:T and torch:T:POLICY
configs=()
for t in $threads; do configs+=("singa:$t"); done
for t in $threads; do configs+=("torch:$t:passive" "torch:$t:unset"); done

declare -A rate acc
torch_core=n/a
run_one() {   # run_one CONFIG ROUND
  local c=$1 i=$2 log="$tmp/${1//:/_}.$2.log" line rc side t pol
  IFS=: read -r side t pol <<<"$c"
  if [ "$side" = singa ]; then
    if [ "$singa_ok" != 1 ]; then rate[$c,$i]=n/a acc[$c,$i]=n/a; return; fi
    "$SINGA_EXEC" --threads "$t" --steps "$steps" --warmup "$warmup" "$tmp/cnn.plan" >"$log" 2>&1
  else
    local ev=(); [ "$full" = 1 ] && ev=(--eval)
    "$PYTHON" "$here/torch_cnn.py" --threads "$t" --steps "$steps" --warmup "$warmup" --omp-wait-policy "$pol" \
      "${ev[@]}" >"$log" 2>&1
  fi
  rc=$?
  line=$(grep "^$side:.*samples/s=" "$log" | tail -n 1)
  local r a
  r=$(field samples/s "$line") a=$(field test_acc "$line")
  if [ "$side" = torch ]; then
    local core; core=$(field openblas_core "$(grep '^torch: version=' "$log")")
    [ -n "$core" ] && torch_core=$core
  fi
  if [ $rc -ne 0 ] || [ -z "$r" ]; then
    echo "run.sh: $c round $i failed (exit $rc); the end of its output:" >&2
    tail -n 5 "$log" | sed 's/^/    /' >&2
    r=n/a a=n/a
  fi
  rate[$c,$i]=$r acc[$c,$i]=${a:-n/a}
}

median() {   # median FORMAT VALUE...: numeric values only, n/a when none
  local fmt=$1; shift
  printf '%s\n' "$@" | grep -E '^[0-9]+(\.[0-9]*)?$' | sort -g |
    awk -v f="$fmt\n" '{v[NR] = $1}
      END {if (!NR) print "n/a"; else printf f, NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

timed=$(( warmup < steps ? steps - warmup : steps ))
echo "# LeNet (conv 5x5x20, pool 2, conv 5x5x50, pool 2, dense 500, relu, dense 10), batch 64:" \
     "$steps steps per run, samples/s over the last $timed, $repeat rounds"
echo "# torch $torch_version ($PYTHON); singa $([ "$singa_ok" = 1 ] && echo "$SINGA_EXEC" || echo n/a);" \
     "$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-6s' round; for c in "${configs[@]}"; do printf ' %16s' "$c"; done; echo
for i in $(seq 1 "$repeat"); do
  order=("${configs[@]}")
  if [ $((i % 2)) = 0 ]; then order=(); for ((k = ${#configs[@]} - 1; k >= 0; k--)); do order+=("${configs[$k]}"); done; fi
  for c in "${order[@]}"; do run_one "$c" "$i"; done
  printf '%-6s' "$i"; for c in "${configs[@]}"; do printf ' %16s' "${rate[$c,$i]}"; done; echo
  if [ "$full" = 1 ]; then
    printf '%-6s' acc; for c in "${configs[@]}"; do printf ' %16s' "${acc[$c,$i]}"; done; echo
  fi
done
printf '%-6s' median
for c in "${configs[@]}"; do
  v=(); for i in $(seq 1 "$repeat"); do v+=("${rate[$c,$i]}"); done
  printf ' %16s' "$(median %.1f "${v[@]}")"
done
echo
echo "# OpenBLAS core: singa $singa_core, torch $torch_core"

# pair by pair: each round's singa run over that round's fastest torch configuration
status=0
for t in $threads; do
  ratios=() best=()
  for i in $(seq 1 "$repeat"); do
    b=n/a bc=""
    for c in "${configs[@]}"; do
      [[ $c == torch:* ]] || continue
      r=${rate[$c,$i]}
      [[ $r =~ ^[0-9.]+$ ]] || continue
      if [ "$b" = n/a ] || awk -v x="$r" -v y="$b" 'BEGIN {exit !(x > y)}'; then b=$r bc=$c; fi
    done
    s=${rate[singa:$t,$i]}
    if [[ $s =~ ^[0-9.]+$ ]] && [ "$b" != n/a ]; then
      ratios+=("$(awk -v s="$s" -v b="$b" 'BEGIN {printf "%.3f", s / b}')") best+=("$bc")
    fi
  done
  [ ${#ratios[@]} -gt 0 ] || { echo "ratio singa(threads $t)/torch fastest = n/a"; status=1; continue; }
  echo "ratio singa(threads $t)/torch fastest = $(median %.2f "${ratios[@]}") (median of ${#ratios[@]} rounds:" \
       "${ratios[*]}; torch's fastest per round: ${best[*]})"
done
exit $status
