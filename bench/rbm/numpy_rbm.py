#!/usr/bin/python3
"""A numpy reference for singa's examples/rbm.sng: CD-k on Fashion-MNIST, written out by hand.

The same recipe as the example: pixels scaled to [0, 1], W [784, H] ~ N(0, 0.01), biases 0,
batch 100 from a fresh permutation each epoch, CD-k with Bernoulli hidden samples and
probabilities for the reconstruction, SGD lr 0.1 momentum 0.8 weight decay 2e-4 on every
parameter.  It prints the mean squared reconstruction error (of the first Gibbs step, summed
over a sample's pixels) every --display steps and on the test images at the end, the numbers
singa-exec prints for the example.  Its own random draws differ from singa's, and the first
few hundred steps vary a lot with the seed, so compare trends and end points, not digits.

  /usr/bin/python3 bench/rbm/numpy_rbm.py --hidden 1000 --steps 6000 --seed 0
"""
import argparse
import gzip
import os
import struct

import numpy as np

DATA = os.environ.get("SINGA_DATA", "/usr/share/datasets/fashion-mnist")


def idx(name):
    raw = gzip.open(os.path.join(DATA, name)).read()
    nd = raw[3]
    dims = struct.unpack(">%dI" % nd, raw[4:4 + 4 * nd])
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * nd).reshape(dims[0], -1).astype(np.float32) / 255


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hidden", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--k", type=int, default=1)
    ap.add_argument("--display", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    x, xt = idx("train-images-idx3-ubyte.gz"), idx("t10k-images-idx3-ubyte.gz")
    rng = np.random.default_rng(a.seed)
    V, H, B, lr, mom, wd = x.shape[1], a.hidden, 100, 0.1, 0.8, 2e-4
    params = [rng.normal(0, 0.01, (V, H)).astype(np.float32), np.zeros(H, np.float32), np.zeros(V, np.float32)]
    vel = [np.zeros_like(p) for p in params]

    def sig(z):
        return 1 / (1 + np.exp(-np.clip(z, -80, 80)))

    def chain(v):
        W, bh, bv = params
        hp = sig(v @ W + bh)
        h, r1 = hp, None
        for _ in range(a.k):
            hs = (rng.random(h.shape) < h).astype(np.float32)
            r = sig(hs @ W.T + bv)
            r1 = r if r1 is None else r1
            h = sig(r @ W + bh)
        return hp, r, h, r1

    perm, pos, total, count = rng.permutation(len(x)), 0, 0.0, 0
    for step in range(1, a.steps + 1):
        if pos + B > len(x):
            perm, pos = rng.permutation(len(x)), 0
        v = x[perm[pos:pos + B]]
        pos += B
        hp, r, h, r1 = chain(v)
        total += ((v - r1) ** 2).sum(1).mean()
        count += 1
        grads = [(r.T @ h - v.T @ hp) / B, (h - hp).sum(0) / B, (r - v).sum(0) / B]
        for p, g, m in zip(params, grads, vel):
            m *= mom
            m -= lr * (g + wd * p)
            p += m
        if step % a.display == 0 or step == a.steps:
            print(f"step {step:5d}/{a.steps}  loss {total / count:.4f}", flush=True)
            total, count = 0.0, 0
    _, _, _, r1 = chain(xt)
    print(f"test  step {a.steps}  loss {((xt - r1) ** 2).sum(1).mean():.4f}  ({len(xt)} images)")


if __name__ == "__main__":
    main()
