#!/usr/bin/env bash
# Installs, from Debian, everything singa needs to build, test and run its examples.
# Quiet and quick when everything is already there.  Usage: scripts/setup.sh [--bench]
#   --bench  also installs python3-torch (the reference for bench/, never used by tests)
set -euo pipefail

pkgs=(cmake ninja-build gcc make pkg-config flex bison llvm-19-dev zlib1g-dev
      libopenblas-dev libcriterion-dev openmpi-bin libopenmpi-dev dataset-fashion-mnist
      libdnnl-dev # oneDNN: conv2d's alternative kernels (SNG_CONV=dnnl|mixed, runtime/exec/conv_dnnl.c)
      graphviz    # graphviz: the tests render singac --dump-dot with dot
      slurmctld slurmd slurm-client munge)   # a one-node Slurm for tests/e2e/slurm.sh (scripts/slurm-local.sh)
[ "${1:-}" = "--bench" ] && pkgs+=(python3-torch)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}" >&2
sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done" >&2
