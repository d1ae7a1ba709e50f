# vs_torch.sh - singa against PyTorch on one model, side by side in one run (sourced).
#
# A bench/<model>/run.sh sets these and calls `vs_torch_main "$@"`:
#   NAME        the model, for titles ("mlp")
#   SNG_FILE    the .sng file singa trains (examples/mlp.sng)
#   TORCH_PY    the PyTorch script of the same recipe; it takes --threads N --steps S
#               --warmup W --omp-wait-policy P [--eval] and ends with a line
#               `torch: samples/s=<float> ... test_acc=<float>`
#   DESC        one line: the recipe
#   FULL_STEPS  the steps of --full (the whole recipe, with test accuracy)
#
# Every round runs singa at each --threads setting and PyTorch in each of its configurations
# (1 and 2 threads, OpenMP wait policy passive and unset), in an order that rotates from round
# to round, so no side always runs first or after the same neighbour.  PyTorch's fastest
# configuration is the one with the highest median; each singa setting is compared with it
# round by round (the pair ran minutes apart at most), and the ratios' min/median/max printed.
# The last line:
#   ratio singa/torch = X.XX (singa tN <median> samples/s, torch tM POLICY <median> samples/s, steps S)
# where X.XX is the median pair-by-pair ratio of singa's best setting against torch's fastest.
#
# Environment: SINGA_EXEC, SINGAC (default build/...), PYTHON (default /usr/bin/python3,
# Debian's, with python3-torch). OPENBLAS_* are left as they are; the core OpenBLAS chose is
# printed.

vs_usage() { sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; }

vs_torch_main() {
  local repeat=3 threads="1,2" steps=320 warmup=20 full=0
  while [ $# -gt 0 ]; do
    case "$1" in
      --repeat|--steps|--warmup)
        [[ "${2:-}" =~ ^[0-9]+$ ]] || { echo "run.sh: $1 wants a non-negative integer, got '${2:-}'" >&2; exit 2; }
        case "$1" in --repeat) repeat=$2 ;; --steps) steps=$2 ;; --warmup) warmup=$2 ;; esac
        shift 2 ;;
      --threads)
        [[ "${2:-}" =~ ^[0-9]+(,[0-9]+)*$ ]] || { echo "run.sh: --threads wants a list like 1,2, got '${2:-}'" >&2; exit 2; }
        threads=$2; shift 2 ;;
      --full) full=1; shift ;;
      -h|--help) vs_usage; exit 0 ;;
      *) echo "run.sh: unknown argument '$1'" >&2; vs_usage >&2; exit 2 ;;
    esac
  done
  [ "$full" = 1 ] && steps=$FULL_STEPS
  [ "$repeat" -ge 1 ] && [ "$steps" -ge 1 ] || { echo "run.sh: --repeat and --steps want positive integers" >&2; exit 2; }

  PYTHON=${PYTHON:-/usr/bin/python3}
  SINGA_EXEC=${SINGA_EXEC:-build/singa-exec}
  SINGAC=${SINGAC:-build/singac}
  local torch_version
  if ! torch_version=$("$PYTHON" -c 'import torch; print(torch.__version__)' 2>/dev/null); then
    echo "run.sh: $PYTHON cannot import torch; run scripts/setup.sh --bench (installs python3-torch)" >&2
    exit 2
  fi
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/singa-bench-$NAME.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT

  local singa_ok=0
  if [ ! -x "$SINGA_EXEC" ] || [ ! -x "$SINGAC" ]; then
    echo "run.sh: singa left out ($SINGA_EXEC or $SINGAC is not built)" >&2
  elif ! "$SINGAC" "$SNG_FILE" -o "$tmp/m.plan" >"$tmp/singac.log" 2>&1; then
    echo "run.sh: singa left out ($SINGAC $SNG_FILE failed:)" >&2; tail -n 5 "$tmp/singac.log" >&2
  else
    singa_ok=1
  fi

  # the configurations: singa tN, torch tN passive|unset
  local -a cfg=()
  IFS=, read -ra st <<<"$threads"
  [ "$singa_ok" = 1 ] && for t in "${st[@]}"; do cfg+=("singa t$t"); done
  for t in 1 2; do for pol in passive unset; do cfg+=("torch t$t $pol"); done; done
  local n=${#cfg[@]}
  declare -gA rate acc

  local core=n/a
  [ "$singa_ok" = 1 ] &&
    core=$(OPENBLAS_VERBOSE=2 "$SINGA_EXEC" --no-progress --steps 1 --test-batches 1 "$tmp/m.plan" 2>&1 | sed -n 's/^Core: //p' | head -1)
  echo "# $NAME: $DESC"
  echo "# $steps steps a run, samples/s over the last $((warmup < steps ? steps - warmup : steps)); $repeat rounds;" \
       "$(nproc) cores; $(date -u '+%Y-%m-%d %H:%M UTC'); load: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# torch $torch_version ($PYTHON); OpenBLAS core ${core:-n/a}, OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}" \
       "OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-unset}"

  local i k j c log line rc
  for ((i = 1; i <= repeat; i++)); do
    for ((j = 0; j < n; j++)); do
      k=$(( (i % 2 ? j : n - 1 - j) ))
      k=$(( (k + i - 1) % n ))
      c=${cfg[$k]}
      log="$tmp/run.$i.$k.log"
      set -- $c
      if [ "$1" = singa ]; then
        "$SINGA_EXEC" --threads "${2#t}" --steps "$steps" --warmup "$warmup" "$tmp/m.plan" >"$log" 2>&1
      else
        local ev=(); [ "$full" = 1 ] && ev=(--eval)
        "$PYTHON" "$TORCH_PY" --threads "${2#t}" --omp-wait-policy "$3" --steps "$steps" --warmup "$warmup" "${ev[@]}" >"$log" 2>&1
      fi
      rc=$?
      line=$(grep "^$1:.*samples/s=" "$log" | tail -n 1)
      rate[$c,$i]=$(sed -n 's|.*samples/s=\([^[:space:]]*\).*|\1|p' <<<"$line")
      acc[$c,$i]=$(sed -n 's|.*test_acc=\([^[:space:]]*\).*|\1|p' <<<"$line")
      if [ $rc -ne 0 ] || [ -z "${rate[$c,$i]}" ]; then
        echo "run.sh: $c, round $i failed (exit $rc):" >&2; tail -n 5 "$log" | sed 's/^/    /' >&2
        rate[$c,$i]=n/a
      fi
    done
  done

  # the table: one line a configuration, its runs and median
  printf '%-18s' config; for ((i = 1; i <= repeat; i++)); do printf '%10s' "r$i"; done; printf '%10s' median
  [ "$full" = 1 ] && printf '%10s' acc
  printf '\n'
  declare -gA med
  local best_t="" best_s=""
  for c in "${cfg[@]}"; do
    local vals=()
    printf '%-18s' "$c"
    for ((i = 1; i <= repeat; i++)); do printf '%10s' "${rate[$c,$i]}"; vals+=("${rate[$c,$i]}"); done
    med[$c]=$(vs_median "${vals[@]}")
    printf '%10s' "${med[$c]}"
    if [ "$full" = 1 ]; then local av=(); for ((i = 1; i <= repeat; i++)); do av+=("${acc[$c,$i]:-}"); done; printf '%10s' "$(vs_median "${av[@]}")"; fi
    printf '\n'
    if [ "${med[$c]}" != n/a ]; then
      case "$c" in
        torch*) { [ -z "$best_t" ] || awk -v a="${med[$c]}" -v b="${med[$best_t]}" 'BEGIN {exit !(a > b)}'; } && best_t=$c ;;
        singa*) { [ -z "$best_s" ] || awk -v a="${med[$c]}" -v b="${med[$best_s]}" 'BEGIN {exit !(a > b)}'; } && best_s=$c ;;
      esac
    fi
  done
  [ -n "$best_t" ] || { echo "run.sh: every torch run failed" >&2; exit 1; }
  echo "torch's fastest configuration: $best_t (median ${med[$best_t]} samples/s)"
  local ratio_best=n/a
  for c in "${cfg[@]}"; do
    [[ "$c" == singa* ]] || continue
    local rs=()
    for ((i = 1; i <= repeat; i++)); do
      [ "${rate[$c,$i]}" != n/a ] && [ "${rate[$best_t,$i]}" != n/a ] &&
        rs+=("$(awk -v s="${rate[$c,$i]}" -v t="${rate[$best_t,$i]}" 'BEGIN {printf "%.3f", s / t}')")
    done
    local mm; mm=$(printf '%s\n' "${rs[@]}" | sort -g | awk '{v[NR] = $1} END {if (NR) printf "%.2f/%.2f/%.2f", v[1], NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, v[NR]; else print "n/a"}')
    echo "$c / $best_t, round by round: min/median/max $mm"
    [ "$c" = "$best_s" ] && ratio_best=$(cut -d/ -f2 <<<"$mm")
  done
  echo "ratio singa/torch = $ratio_best (${best_s:-singa n/a} ${med[$best_s]:-n/a} samples/s, $best_t ${med[$best_t]} samples/s, steps $steps)"
}

# vs_median VALUE...: the median of the numeric values (others skipped), n/a when none
vs_median() {
  printf '%s\n' "$@" | grep -E '^[0-9]+(\.[0-9]*)?$' | sort -g |
    awk '{v[NR] = $1} END {if (!NR) print "n/a"; else printf "%.6g\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
