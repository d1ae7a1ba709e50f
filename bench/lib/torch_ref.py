"""torch_ref.py - what bench/mlp/torch_mlp.py and bench/cnn/torch_cnn.py share: the PyTorch
side of a bench/ comparison, the same recipe as singa's example timed the same way.

A script gives its name, its docstring (the --help text), the shape of one sample and a
function building the model from torch.nn, and calls main().  Everything else is the same
for every model: softmax cross-entropy (mean over the batch), batch 64, SGD momentum 0.9 no
weight decay (the learning rate and its schedule are the script's: --lr, --cosine), PyTorch's
default initialisation, pixels scaled by 1/255 then
standardised by the training set's global mean and std (two scalars over all pixels,
population std); batches walk a fresh permutation of the 60,000 training images each epoch
and wrap into the next epoch mid-batch, as singa's batcher does.

--steps counts every training step, --warmup the first of them left out of the timing, as
singa-exec does: samples/s = (steps - warmup) * 64 / wall time of those steps, timing the
whole step (batch gather, forward, backward, optimizer step).  Evaluation is not timed.

torch's OpenMP pool is told to sleep rather than spin between parallel regions
(--omp-wait-policy passive, the default unless OMP_WAIT_POLICY is set); --omp-wait-policy
unset runs torch as shipped (bench/README.md says why both are tried).
The first line gives the versions, threads, OpenBLAS core and whether oneDNN (mkldnn) is
there; the last is `torch: samples/s=<float> steps=<n> test_acc=<float or nan> threads=<n>`.
"""
import argparse
import gzip
import math
import os
import struct
import sys
import time

import numpy as np

torch = nn = F = None   # imported by main() once OMP_WAIT_POLICY is settled
NAME = "torch_ref"       # the calling script's name, for messages

BATCH = 64
DATA = os.environ.get("SINGA_DATA", "/usr/share/datasets/fashion-mnist")


def read_idx(path):
    """An idx file (optionally gzipped) as a numpy array of its own shape."""
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        raw = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype != 0x08:
        sys.exit(f"{NAME}: {path}: not an idx file of unsigned bytes")
    dims = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != math.prod(dims):
        sys.exit(f"{NAME}: {path}: {data.size} values for shape {dims}")
    return data.reshape(dims)


def load(stem, sample_shape):
    x = read_idx(os.path.join(DATA, f"{stem}-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(DATA, f"{stem}-labels-idx1-ubyte.gz"))
    return x.reshape(len(x), *sample_shape), y


def pixel_stats(x):
    """Mean and population std of x/255 over all pixels, exactly, from a histogram."""
    counts = np.bincount(x.ravel(), minlength=256).astype(np.float64)
    v = np.arange(256, dtype=np.float64) / 255.0
    n = counts.sum()
    mean = (counts * v).sum() / n
    std = math.sqrt((counts * (v - mean) ** 2).sum() / n)
    return mean, std


def prepare(x, mean, std):
    t = torch.from_numpy(x.astype(np.float32)) * (1.0 / 255.0)
    return ((t - mean) / std).contiguous()


def openblas_core():
    """The core name of the OpenBLAS loaded in this process (openblas_get_corename), or n/a."""
    import ctypes
    with open("/proc/self/maps") as f:
        libs = {l.split()[-1] for l in f if "libopenblas" in l.rsplit("/", 1)[-1]}
    for path in sorted(libs):
        try:
            fn = ctypes.CDLL(path).openblas_get_corename
            fn.restype = ctypes.c_char_p
            return fn().decode()
        except (OSError, AttributeError):
            continue
    return "n/a"


def openblas_threads(n):
    """torch.set_num_threads sizes torch's OpenMP pool but not the OpenBLAS that Debian's
    torch calls for its matrix products (and singa-exec sizes with --threads): size that too.
    Returns OpenBLAS's thread count, or None when torch is not using OpenBLAS."""
    import ctypes
    with open("/proc/self/maps") as f:
        libs = {l.split()[-1] for l in f if "libopenblas" in l.rsplit("/", 1)[-1]}
    for path in sorted(libs):
        try:
            lib = ctypes.CDLL(path)
            lib.openblas_set_num_threads(ctypes.c_int(n))
            return lib.openblas_get_num_threads()
        except (OSError, AttributeError):
            continue
    return None


def main(name, doc, sample_shape, build_model, lr=0.01, cosine=0):
    """The comparison's PyTorch side: name and doc are the script's, sample_shape one image's
    shape as the model takes it, build_model(nn) the model; lr and cosine the defaults of
    --lr and --cosine (the singa example's updater)."""
    global NAME
    NAME = name
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    ap.add_argument("--steps", type=int, default=1876, help="training steps, warmup included (default 1876)")
    ap.add_argument("--warmup", type=int, default=20, help="first steps left out of samples/s (default 20)")
    ap.add_argument("--seed", type=int, default=42, help="seeds the init and the shuffles (default 42)")
    ap.add_argument("--eval", action="store_true", help="also compute the accuracy on the 10,000 test images")
    ap.add_argument("--display", type=int, default=0, help="print the mean loss every N steps (default: never)")
    ap.add_argument("--lr", type=float, default=lr, help=f"SGD's learning rate (default {lr})")
    ap.add_argument("--cosine", type=int, default=cosine, metavar="STEPS",
                    help="lr follows CosineAnnealingLR(STEPS), stepped every batch, as singa's "
                         f"schedule = cosine(steps = STEPS); 0: a fixed lr (default {cosine})")
    ap.add_argument("--omp-wait-policy", choices=("passive", "active", "unset"),
                    default=os.environ.get("OMP_WAIT_POLICY", "passive").lower(),
                    help="OMP_WAIT_POLICY for torch's OpenMP pool; unset: torch as shipped "
                         "(default: $OMP_WAIT_POLICY, else passive)")
    a = ap.parse_args()
    if a.threads < 1 or a.steps < 1 or a.warmup < 0:
        ap.error("--threads and --steps want positive integers, --warmup a non-negative one")

    # libgomp reads OMP_WAIT_POLICY once, when torch loads it
    if a.omp_wait_policy == "unset":
        os.environ.pop("OMP_WAIT_POLICY", None)
    else:
        os.environ["OMP_WAIT_POLICY"] = a.omp_wait_policy
    global torch, nn, F
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    torch.set_num_threads(a.threads)
    torch.mm(torch.ones(64, 64), torch.ones(64, 64))     # loads the BLAS
    blas = openblas_threads(a.threads)
    torch.manual_seed(a.seed)
    print(f"torch: version={torch.__version__} threads={torch.get_num_threads()} "
          f"openblas_threads={blas if blas is not None else 'n/a'} openblas_core={openblas_core()} "
          f"mkldnn={torch.backends.mkldnn.is_available()} omp_wait_policy={a.omp_wait_policy}", flush=True)

    xtr, ytr = load("train", sample_shape)
    mean, std = pixel_stats(xtr)
    xtr, ytr = prepare(xtr, mean, std), torch.from_numpy(ytr.astype(np.int64))
    if a.eval:
        xte, yte = load("t10k", sample_shape)
        xte, yte = prepare(xte, mean, std), torch.from_numpy(yte.astype(np.int64))

    model = build_model(nn)
    opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=0.9, weight_decay=0)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, a.cosine) if a.cosine > 0 else None
    model.train()

    # Batches wrap across epochs like singa's: a batch that runs off the end of one
    # epoch's permutation takes the rest of its rows from the next one.
    n = xtr.shape[0]
    gen = torch.Generator().manual_seed(a.seed)
    perm, pos = torch.randperm(n, generator=gen), 0

    warm = a.warmup if a.warmup < a.steps else 0
    sum_loss, nsum = 0.0, 0
    t0 = time.perf_counter()
    for step in range(1, a.steps + 1):
        if step == warm + 1:
            t0 = time.perf_counter()
        if pos + BATCH <= n:
            idx = perm[pos:pos + BATCH]
            pos += BATCH
        else:
            head = perm[pos:]
            perm = torch.randperm(n, generator=gen)
            pos = BATCH - head.numel()
            idx = torch.cat([head, perm[:pos]])
        xb, yb = xtr.index_select(0, idx), ytr.index_select(0, idx)
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        if a.display:
            sum_loss += loss.item()
            nsum += 1
            if step % a.display == 0 or step == a.steps:
                print(f"step {step:5d}/{a.steps}  loss {sum_loss / nsum:.4f}", flush=True)
                sum_loss, nsum = 0.0, 0
    elapsed = time.perf_counter() - t0
    rate = (a.steps - warm) * BATCH / elapsed
    if a.display == 0 and not math.isfinite(loss.item()):
        sys.exit(f"{NAME}: the loss is not finite")

    acc = float("nan")
    if a.eval:
        model.eval()
        correct = 0
        with torch.no_grad():
            for i in range(0, xte.shape[0], 1000):
                correct += (model(xte[i:i + 1000]).argmax(1) == yte[i:i + 1000]).sum().item()
        acc = correct / xte.shape[0]

    print(f"torch: samples/s={rate:.1f} steps={a.steps} test_acc={acc:.4f} threads={a.threads}", flush=True)

