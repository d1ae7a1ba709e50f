#!/usr/bin/env bash
# Trains examples/mlp.sng with singa-exec and the same recipe with PyTorch (torch_mlp.py),
# alternately, in one run, and prints the training throughput of both and their ratio.
#
#   bench/mlp/run.sh [--repeat R] [--threads N] [--steps S] [--warmup W] [--full]
#
#   --repeat R   pairs of runs (default 3); the order inside a pair alternates, so neither
#                side always runs first
#   --threads N  threads for both: singa-exec --threads, torch.set_num_threads (default 2)
#   --steps S    training steps per run, warmup included (default 320)
#   --warmup W   first steps of each run left out of samples/s (default 20)
#   --full       the whole recipe: 1876 steps (two epochs), test accuracy from both
#
# Environment: SINGA_EXEC (default build/singa-exec), SINGAC (default build/singac),
# PYTHON (default /usr/bin/python3, Debian's, which has python3-torch), OMP_WAIT_POLICY
# (torch_mlp.py makes it passive unless set; "unset" runs torch's OpenMP pool as shipped).
# Without a built singa the torch side still runs and singa is reported as n/a.
# The last line is
#   ratio singa/torch = X.XX (singa <median> samples/s, torch <median> samples/s, threads N, steps S)
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root" || exit 2

repeat=3 threads=2 steps=320 warmup=20 full=0
usage() { sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; }
want_num() { [[ "$2" =~ ^[0-9]+$ ]] || { echo "run.sh: $1 wants a non-negative integer, got '$2'" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
  case "$1" in
    --repeat|--threads|--steps|--warmup)
      [ $# -ge 2 ] || { echo "run.sh: $1 wants a value" >&2; exit 2; }
      want_num "$1" "$2"
      case "$1" in --repeat) repeat=$2 ;; --threads) threads=$2 ;; --steps) steps=$2 ;; --warmup) warmup=$2 ;; esac
      shift 2 ;;
    --full) full=1; steps=1876; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
[ "$full" = 1 ] && steps=1876          # whatever the order of --full and --steps
[ "$repeat" -ge 1 ] && [ "$threads" -ge 1 ] && [ "$steps" -ge 1 ] ||
  { echo "run.sh: --repeat, --threads and --steps want positive integers" >&2; exit 2; }

PYTHON=${PYTHON:-/usr/bin/python3}
SINGA_EXEC=${SINGA_EXEC:-build/singa-exec}
SINGAC=${SINGAC:-build/singac}

if ! torch_version=$("$PYTHON" -c 'import torch; print(torch.__version__)' 2>/dev/null); then
  echo "run.sh: $PYTHON cannot import torch; run scripts/setup.sh --bench (installs python3-torch)" >&2
  exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/singa-bench-mlp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# singa: compile the plan once; any failure leaves singa out as n/a
singa_ok=0 singa_why=""
if [ ! -x "$SINGA_EXEC" ]; then
  singa_why="$SINGA_EXEC is not built"
elif [ ! -x "$SINGAC" ]; then
  singa_why="$SINGAC is not built"
elif ! "$SINGAC" examples/mlp.sng -o "$tmp/mlp.plan" >"$tmp/singac.log" 2>&1; then
  singa_why="$SINGAC examples/mlp.sng failed:"$'\n'"$(tail -n 5 "$tmp/singac.log")"
else
  singa_ok=1
fi
[ "$singa_ok" = 1 ] || echo "run.sh: singa left out ($singa_why)" >&2

# field NAME LINE: the value of NAME=... in a result line
field() { sed -n "s|.*[[:space:]]$1=\([^[:space:]]*\).*|\1|p" <<<" $2"; }

# run_one SIDE I: one run; sets rate_SIDE[I] and acc_SIDE[I] (n/a on failure)
declare -a rate_singa rate_torch acc_singa acc_torch
run_one() {
  local side=$1 i=$2 log="$tmp/$1.$2.log" line rc
  if [ "$side" = singa ]; then
    if [ "$singa_ok" != 1 ]; then rate_singa[$i]=n/a acc_singa[$i]=n/a; return; fi
    "$SINGA_EXEC" --threads "$threads" --steps "$steps" --warmup "$warmup" "$tmp/mlp.plan" >"$log" 2>&1
  else
    local ev=(); [ "$full" = 1 ] && ev=(--eval)
    "$PYTHON" "$here/torch_mlp.py" --threads "$threads" --steps "$steps" --warmup "$warmup" "${ev[@]}" >"$log" 2>&1
  fi
  rc=$?
  line=$(grep "^$side:.*samples/s=" "$log" | tail -n 1)
  local rate acc
  rate=$(field samples/s "$line") acc=$(field test_acc "$line")
  if [ $rc -ne 0 ] || [ -z "$rate" ]; then
    echo "run.sh: $side run $i failed (exit $rc); the end of its output:" >&2
    tail -n 5 "$log" | sed 's/^/    /' >&2
    rate=n/a acc=n/a
  fi
  if [ "$side" = singa ]; then rate_singa[$i]=$rate acc_singa[$i]=${acc:-n/a}
  else rate_torch[$i]=$rate acc_torch[$i]=${acc:-n/a}; fi
}

# median FORMAT VALUE...: the median of the numeric values (others skipped), n/a when none
median() {
  local fmt=$1; shift
  printf '%s\n' "$@" | grep -E '^[0-9]+(\.[0-9]*)?$' | sort -g |
    awk -v f="$fmt\n" '{v[NR] = $1}
      END {if (!NR) print "n/a"; else printf f, NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

timed=$(( warmup < steps ? steps - warmup : steps ))
echo "# mlp 784-1000-500-10, batch 64: $steps steps per run, samples/s over the last $timed," \
     "threads $threads, $repeat alternating pairs$([ "$full" = 1 ] && echo ', test accuracy on 10,000 images')"
echo "# torch $torch_version ($PYTHON, OMP_WAIT_POLICY ${OMP_WAIT_POLICY:-passive});" \
     "singa $([ "$singa_ok" = 1 ] && echo "$SINGA_EXEC" || echo n/a)"
if [ "$full" = 1 ]; then
  printf '%-6s %16s %16s %10s %10s\n' run singa_samples/s torch_samples/s singa_acc torch_acc
else
  printf '%-6s %16s %16s\n' run singa_samples/s torch_samples/s
fi
for i in $(seq 1 "$repeat"); do
  if [ $((i % 2)) = 1 ]; then run_one singa "$i"; run_one torch "$i"
  else run_one torch "$i"; run_one singa "$i"; fi
  if [ "$full" = 1 ]; then
    printf '%-6s %16s %16s %10s %10s\n' "$i" "${rate_singa[$i]}" "${rate_torch[$i]}" "${acc_singa[$i]}" "${acc_torch[$i]}"
  else
    printf '%-6s %16s %16s\n' "$i" "${rate_singa[$i]}" "${rate_torch[$i]}"
  fi
done

ms=$(median %.1f "${rate_singa[@]}") mt=$(median %.1f "${rate_torch[@]}")
if [ "$full" = 1 ]; then
  printf '%-6s %16s %16s %10s %10s\n' median "$ms" "$mt" "$(median %.4f "${acc_singa[@]}")" "$(median %.4f "${acc_torch[@]}")"
else
  printf '%-6s %16s %16s\n' median "$ms" "$mt"
fi
ratio=n/a
if [ "$ms" != n/a ] && [ "$mt" != n/a ]; then ratio=$(awk -v s="$ms" -v t="$mt" 'BEGIN {printf "%.2f", s / t}'); fi
echo "ratio singa/torch = $ratio (singa $ms samples/s, torch $mt samples/s, threads $threads, steps $steps)"
[ "$mt" != n/a ] || exit 1
