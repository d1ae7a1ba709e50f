#!/usr/bin/env bash
# Writes a generated net of about N layer calls ("ops" as the .sng text counts them) to stdout.
#   gen.sh chain N    one name per dense+relu pair: h1 = relu(dense(x, 4)), h2 = relu(dense(h1, 4)), ...
#   gen.sh nested N   names nested 400 calls deep: a1 = relu(dense(relu(dense(... x ...)))), a2 = ... a1 ...
#   gen.sh reverse N  the chain with its lines in reverse order (every name used before its line)
#   gen.sh fused N    h1 = dense(x, 4), then N relus in a row: one fused kernel of N members
# Environment: DIR, the data block's folder (default /tmp; its {train,test}-{images,labels}.gz
# must exist, as tests/mkdata writes them, 4x4 images of 3 classes); WORKERS and SERVERS per
# group (default 1 and 1); PART, the net's partition (batch, feature or auto; default batch).
set -euo pipefail
shape=$1 n=$2 dir=${DIR:-/tmp} workers=${WORKERS:-1} servers=${SERVERS:-1} part=${PART:-batch}
cat <<HEAD
data d {
  dir = "$dir"
  train = idx("train-images.gz", "train-labels.gz")
  test = idx("test-images.gz", "test-labels.gz")
  batch = 8
}
net big(partition = $part) {
  x, y = input(d)
HEAD
awk -v shape="$shape" -v n="$n" 'BEGIN {
  if (shape == "chain" || shape == "reverse") {
    m = int(n / 2)
    for (i = 1; i <= m; i++) line[i] = sprintf("  h%d = relu(dense(%s, 4))", i, i == 1 ? "x" : "h" (i - 1))
    if (shape == "chain") for (i = 1; i <= m; i++) print line[i]
    else for (i = m; i >= 1; i--) print line[i]
    last = "h" m
  } else if (shape == "fused") {
    print "  h0 = dense(x, 4)"
    for (i = 1; i <= n; i++) printf "  h%d = relu(h%d)\n", i, i - 1
    last = "h" n
  } else if (shape == "nested") {
    depth = 200; m = int(n / (2 * depth)); if (m < 1) m = 1
    for (i = 1; i <= m; i++) {
      s = ""; for (k = 0; k < depth; k++) s = s "relu(dense("
      s = s (i == 1 ? "x" : "a" (i - 1))
      for (k = 0; k < depth; k++) s = s ", 4))"
      printf "  a%d = %s\n", i, s
    }
    last = "a" m
  } else { print "gen.sh: shape is chain, nested, reverse or fused" > "/dev/stderr"; exit 2 }
  printf "  logits = dense(%s, 3)\n", last
  print "  loss softmax_cross_entropy(logits, y)"
  print "  metric accuracy(logits, y)"
}'
cat <<TAIL
}
updater sgd(lr = 0.1, momentum = 0.9)
cluster(workers_per_group = $workers, servers_per_group = $servers)
train big with bp, sgd {
  steps = 10
}
TAIL
