#!/usr/bin/env bash
# Bad input end to end: a malformed .sng, a truncated or bit-flipped plan, a missing data
# file.  Each gets a clear message, a non-zero exit, and nothing half-written.
set -euo pipefail
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_fail() { # status file pattern cmd...
  local want=$1 pat=$2; shift 2
  set +e; "$@" > "$t/stdout" 2> "$t/stderr"; local rc=$?; set -e
  [ "$rc" = "$want" ] || { cat "$t/stderr"; fail "'$*' exited $rc, wanted $want"; }
  grep -q -- "$pat" "$t/stderr" || { cat "$t/stderr"; fail "'$*': no '$pat' in its errors"; }
}

"$MKDATA" "$t" 4 3 200 50
cat > "$t/ok.sng" <<SNG
data d {
  dir = "$t"
  train = idx("train-images.gz", "train-labels.gz")
  test = idx("test-images.gz", "test-labels.gz")
  batch = 10
}
net m {
  x, y = input(d)
  logits = dense(relu(dense(x, 8)), 3)
  loss softmax_cross_entropy(logits, y)
  metric accuracy(logits, y)
}
updater sgd(lr = 0.1)
train m with bp, sgd {
  steps = 20
}
SNG
"$SINGAC" "$t/ok.sng" -o "$t/ok.plan"

# a malformed .sng: exit 1, file:line:col, and the old output file is left as it was
sed 's/logits = dense/logits = = dense/' "$t/ok.sng" > "$t/bad.sng"
echo old > "$t/out.plan"
expect_fail 1 "bad.sng:9:" "$SINGAC" "$t/bad.sng" -o "$t/out.plan"
[ "$(cat "$t/out.plan")" = old ] || fail "a failed compile touched the output file"
grep -q 'no plan written' "$t/stderr" || fail "no summary line"
ls "$t" | grep -q 'tmp' && fail "a temporary file was left behind"

# a shape error names the layer and both shapes
sed 's/logits = dense(relu(dense(x, 8)), 3)/logits = dense(relu(dense(x, 8)), 5)/' "$t/ok.sng" > "$t/shape.sng"
expect_fail 1 "shape.sng:10:8: error: softmax_cross_entropy gets 5 scores per sample, but the labels have 3 classes" \
  "$SINGAC" "$t/shape.sng" -o "$t/shape.plan"
[ ! -e "$t/shape.plan" ] || fail "a plan was written for a bad model"

# sizes no machine could hold are errors at their place, not an abort at run time
sed 's/logits = dense(relu(dense(x, 8)), 3)/logits = dense(relu(dense(x, 1e15)), 3)/' "$t/ok.sng" > "$t/huge.sng"
expect_fail 1 "huge.sng:9:32: error: dense() units = 1000000000000000: at most 2147483647" \
  "$SINGAC" "$t/huge.sng" -o "$t/huge.plan"
[ ! -e "$t/huge.plan" ] || fail "a plan was written for a net too large"

# a warning is printed but does not fail the compile
{ cat "$t/ok.sng"; printf 'net spare {\n  x, y = input(d)\n}\n'; } > "$t/warn.sng"
"$SINGAC" "$t/warn.sng" -o "$t/warn.plan" 2> "$t/stderr" || { cat "$t/stderr"; fail "a warning failed the compile"; }
grep -q "warn.sng:17:5: warning: net 'spare' is never trained" "$t/stderr" || { cat "$t/stderr"; fail "no warning"; }
[ -s "$t/warn.plan" ] || fail "no plan written after a warning"

# plans: truncated, bit-flipped, foreign, missing
size=$(stat -c %s "$t/ok.plan")
head -c $((size / 2)) "$t/ok.plan" > "$t/trunc.plan"
expect_fail 1 "truncated" "$SINGA_EXEC" "$t/trunc.plan"
head -c 20 "$t/ok.plan" > "$t/short.plan"
expect_fail 1 "trunc" "$SINGA_EXEC" "$t/short.plan"
cp "$t/ok.plan" "$t/flip.plan"
off=$((size - 100))
byte=$(od -An -tu1 -j $off -N1 "$t/flip.plan" | tr -d ' ')
printf "$(printf '\\%03o' $((byte ^ 4)))" | dd of="$t/flip.plan" bs=1 seek=$off conv=notrunc status=none
expect_fail 1 "checksum" "$SINGA_EXEC" "$t/flip.plan"
expect_fail 1 "checksum" "$SINGA_EXEC" --describe "$t/flip.plan"
echo "not a plan at all, just some text that is long enough" > "$t/foreign.plan"
expect_fail 1 "not a singa plan" "$SINGA_EXEC" "$t/foreign.plan"
expect_fail 1 "No such file" "$SINGA_EXEC" "$t/nonexistent.plan"

# data that vanished between compiling and running
mv "$t/train-images.gz" "$t/moved.gz"
expect_fail 1 "train-images.gz" "$SINGA_EXEC" "$t/ok.plan"
grep -q -- "--data DIR" "$t/stderr" || fail "no hint about --data"
mkdir "$t/elsewhere"
cp "$t"/*-labels.gz "$t/test-images.gz" "$t/elsewhere/"
cp "$t/moved.gz" "$t/elsewhere/train-images.gz"
"$SINGA_EXEC" --data "$t/elsewhere" "$t/ok.plan" > /dev/null || fail "--data DIR did not find the moved data"
mv "$t/moved.gz" "$t/train-images.gz"

# data files that are not what they should be: the compiler and the runtime say the same,
# naming what was found
mkdir "$t/bad"
cp "$t"/*.gz "$t/bad/"
sed "s|dir = \"$t\"|dir = \"$t/bad\"|" "$t/ok.sng" > "$t/bad/m.sng"
"$SINGAC" "$t/bad/m.sng" -o "$t/bad.plan"
check_data() { # what-to-do-to-train-images message
  cp "$t/train-images.gz" "$t/bad/train-images.gz"
  eval "$1"
  expect_fail 1 "m.sng:3:11: error: $t/bad/train-images.gz: $2" "$SINGAC" "$t/bad/m.sng" -o "$t/bad2.plan"
  expect_fail 1 "singa-exec: $t/bad/train-images.gz: $2" "$SINGA_EXEC" "$t/bad.plan"
  rm -rf "$t/bad/train-images.gz"
}
check_data 'rm "$t/bad/train-images.gz"; mkdir "$t/bad/train-images.gz"' "is a directory, not an idx file"
check_data 'printf "<!DOCTYPE html><title>404</title>" > "$t/bad/train-images.gz"' \
  'not an idx file of unsigned bytes: found magic 0x3c21444f (text "<!DO..."), expected 0x00000803'
check_data 'printf "\x12\x34\x56\x78 and more" | gzip > "$t/bad/train-images.gz"' \
  "not an idx file of unsigned bytes: found magic 0x12345678, expected 0x00000803"
check_data 'printf "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" | dd of="$t/bad/train-images.gz" bs=1 seek=30 conv=notrunc status=none' \
  "damaged gzip data ("
grep -q "the file is corrupt; fetch it again" "$t/stderr" || fail "damaged gzip: no advice"
cp "$t/train-images.gz" "$t/bad/train-images.gz"

# a directory where a file is wanted says so
expect_fail 1 "singa-exec: $t/bad: cannot open: Is a directory" "$SINGA_EXEC" "$t/bad"
expect_fail 1 "$t/bad: error: cannot read file: Is a directory" "$SINGAC" "$t/bad"
expect_fail 1 "singa-exec: $t/bad: cannot write metrics: Is a directory" "$SINGA_EXEC" --metrics "$t/bad" "$t/ok.plan"
expect_fail 2 "singac: $t/bad: cannot write: Is a directory" "$SINGAC" "$t/ok.sng" -o "$t/bad"

# a test set whose samples differ from the plan's: refused before a batch is filled
mkdir "$t/other" && "$MKDATA" "$t/other" 5 3 20 20
mv "$t/test-images.gz" "$t/test-images.keep" && mv "$t/test-labels.gz" "$t/test-labels.keep"
cp "$t/other/test-images.gz" "$t/other/test-labels.gz" "$t/"
expect_fail 1 "test-images.gz: samples have 25 values; the plan was compiled for 16" "$SINGA_EXEC" "$t/ok.plan"
mv "$t/test-images.keep" "$t/test-images.gz" && mv "$t/test-labels.keep" "$t/test-labels.gz"

# usage errors are status 2
expect_fail 2 "unknown option" "$SINGA_EXEC" --frobnicate "$t/ok.plan"
expect_fail 2 "unknown option" "$SINGAC" --frobnicate "$t/ok.sng"
echo "e2e bad_inputs: ok"
