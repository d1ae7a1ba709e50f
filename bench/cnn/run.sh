#!/usr/bin/env bash
# Trains examples/cnn.sng (LeNet) with singa-exec and the same recipe with PyTorch
# (torch_cnn.py), side by side in one run, against PyTorch's fastest configuration on this
# machine.
#
#   bench/cnn/run.sh [--repeat R] [--threads LIST] [--steps S] [--warmup W] [--full]
#
#   --repeat R      rounds (default 3); each runs every configuration once, in an order that
#                   rotates from round to round
#   --threads LIST  singa-exec --threads settings (default 1,2); PyTorch always runs with 1 and
#                   2 threads, OpenMP wait policy passive and unset, and the fastest of those
#                   four is the one singa is compared with, round by round
#   --steps S       training steps per run, warmup included (default 320)
#   --warmup W      first steps of each run left out of samples/s (default 20)
#   --full          the whole recipe: 1876 steps (two epochs), test accuracy from both
#
# Environment: SINGA_EXEC (default build/singa-exec), SINGAC (default build/singac),
# PYTHON (default /usr/bin/python3, Debian's, which has python3-torch).
# The last line is
#   ratio singa/torch = X.XX (singa tN <median> samples/s, torch tM POLICY <median> samples/s, steps S)
# X.XX being the median of the round-by-round ratios of singa's best setting to torch's fastest.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.." || exit 2
. bench/lib/vs_torch.sh
NAME=cnn SNG_FILE=examples/cnn.sng TORCH_PY=$here/torch_cnn.py FULL_STEPS=1876
DESC="LeNet (conv 5x5x20, pool 2, conv 5x5x50, pool 2, dense 500, relu, dense 10), batch 64, sgd lr 0.02 momentum 0.9 cosine over 1876 steps, Fashion-MNIST standardised"
vs_torch_main "$@"
