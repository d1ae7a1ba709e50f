#!/usr/bin/env bash
# Golden tests: singac --dump-ir=partition of each tests/e2e/golden/*.sng must equal the
# .ir file beside it (the per-worker subgraphs, connection nodes, shapes and parameter
# slices); --dump-dot of each must render with Graphviz.
#   SNG_UPDATE_GOLDEN=1 tests/e2e/golden.sh   rewrites the .ir files (review the diff!)
set -euo pipefail
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
"$MKDATA" "$t" 6 4 50 10
export SINGA_DATA="$t"
dir="$SNG_SOURCE_DIR/tests/e2e/golden"
n=0
for sng in "$dir"/*.sng; do
  want="${sng%.sng}.ir"
  "$SINGAC" --dump-ir=partition "$sng" > "$t/got.ir"
  if [ "${SNG_UPDATE_GOLDEN:-}" = 1 ]; then cp "$t/got.ir" "$want"; fi
  diff -u "$want" "$t/got.ir" || fail "$(basename "$sng"): --dump-ir=partition differs from $(basename "$want")"
  "$SINGAC" --dump-dot "$sng" > "$t/g.dot"
  grep -q 'subgraph cluster_w0' "$t/g.dot" || fail "$(basename "$sng"): no worker cluster in --dump-dot"
  if command -v dot >/dev/null; then
    dot -Tsvg "$t/g.dot" > "$t/g.svg" || fail "$(basename "$sng"): dot cannot render --dump-dot"
    grep -q '<svg' "$t/g.svg" || fail "$(basename "$sng"): dot made no SVG"
  else
    fail "dot (graphviz) is not installed: run scripts/setup.sh"
  fi
  n=$((n + 1))
done
[ "$n" -ge 2 ] || fail "expected golden files in $dir"
echo "golden: $n files match"
