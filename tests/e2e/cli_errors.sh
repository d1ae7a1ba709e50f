#!/usr/bin/env bash
# Command-line errors: a flag without its value, numbers that are not numbers or out of range.
# Each says which flag and what it takes, with exit status 2 (usage), and runs nothing.
set -euo pipefail
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
expect() { # status message cmd...: the exact first line of stderr
  local want=$1 msg=$2; shift 2
  set +e; "$@" > "$t/stdout" 2> "$t/stderr"; local rc=$?; set -e
  [ "$rc" = "$want" ] || { cat "$t/stderr"; fail "'$*' exited $rc, wanted $want"; }
  [ "$(head -1 "$t/stderr")" = "$msg" ] || { cat "$t/stderr"; fail "'$*': wanted '$msg'"; }
  [ ! -s "$t/stdout" ] || { cat "$t/stdout"; fail "'$*' printed to stdout"; }
}
echo junk > "$t/x.plan"
echo junk > "$t/x.sng"

# singa-exec: missing values
expect 2 "singa-exec: --steps needs a value" "$SINGA_EXEC" "$t/x.plan" --steps
expect 2 "singa-exec: --threads needs a value" "$SINGA_EXEC" "$t/x.plan" --threads
expect 2 "singa-exec: --metrics needs a value" "$SINGA_EXEC" "$t/x.plan" --metrics
expect 2 "singa-exec: --data needs a value" "$SINGA_EXEC" "$t/x.plan" --data
expect 2 "singa-exec: --data needs a folder" "$SINGA_EXEC" --data "" "$t/x.plan"
# singa-exec: numbers
expect 2 "singa-exec: --steps wants an integer from 1 to 1000000000, got '0' (out of range)" \
  "$SINGA_EXEC" --steps 0 "$t/x.plan"
expect 2 "singa-exec: --steps wants an integer from 1 to 1000000000, got 'x'" "$SINGA_EXEC" --steps x "$t/x.plan"
expect 2 "singa-exec: --steps wants an integer from 1 to 1000000000, got '10k'" "$SINGA_EXEC" --steps 10k "$t/x.plan"
expect 2 "singa-exec: --steps wants an integer from 1 to 1000000000, got '99999999999999999999' (out of range)" \
  "$SINGA_EXEC" --steps 99999999999999999999 "$t/x.plan"
expect 2 "singa-exec: --steps wants an integer from 1 to 1000000000, got '-1' (out of range)" \
  "$SINGA_EXEC" --steps -1 "$t/x.plan"
expect 2 "singa-exec: --threads wants an integer from 1 to 1024, got '0' (out of range)" \
  "$SINGA_EXEC" --threads 0 "$t/x.plan"
expect 2 "singa-exec: --warmup wants an integer from 0 to 1000000000, got '1.5'" "$SINGA_EXEC" --warmup 1.5 "$t/x.plan"
expect 2 "singa-exec: --test-batches wants an integer from 0 to 1000000000, got ''" \
  "$SINGA_EXEC" --test-batches "" "$t/x.plan"
expect 2 "singa-exec: unknown option '--stpes'" "$SINGA_EXEC" --stpes 5 "$t/x.plan"
expect 2 "singa-exec: one plan at a time ('$t/x.plan' and '$t/y.plan')" "$SINGA_EXEC" "$t/x.plan" "$t/y.plan"

# singac
expect 2 "singac: -o needs a value" "$SINGAC" "$t/x.sng" -o
expect 2 "singac: -o needs a file name" "$SINGAC" "$t/x.sng" -o ""
expect 2 "singac: --max-errors needs a value" "$SINGAC" "$t/x.sng" --max-errors
expect 2 "singac: --max-errors wants an integer from 1 to 10000, got 'x'" "$SINGAC" --max-errors x "$t/x.sng"
expect 2 "singac: --max-errors wants an integer from 1 to 10000, got '0' (out of range)" \
  "$SINGAC" --max-errors 0 "$t/x.sng"
[ ! -e "$t/x.plan.tmp" ] && ! ls "$t" | grep -q '\.tmp\.' || fail "a temporary file was left behind"
echo "e2e cli_errors: ok"
