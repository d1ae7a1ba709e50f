#!/usr/bin/python3
"""make_torch_vectors.py - reference vectors from PyTorch for singa's kernels.

Run with Debian's python3 (python3-torch 1.13):  /usr/bin/python3 tests/vectors/make_torch_vectors.py
It rewrites the files next to it (tests/runtime/test_torch_vectors.c reads them).  One function
per op, each writing one file of cases; add an op as a new function and a line in MAKERS.

File format (text, one item per line):
  case NAME                 starts a case
  args a0 a1 ...            the op's integer arguments (the plan op's iattr)
  fargs f0 f1 ...           its float arguments (the plan op's fattr), if any
  tensor NAME d0 d1 ...     a tensor's shape; the next line holds its values, row-major
Inputs are float32 values; references are computed in float64 from them.  Gradients are for
a fixed upstream gradient `dy` (stored with the case).
"""
import os

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


def rand(g, *shape, ties=False):
    """float32 values in [-1, 1) as float64 (exact); with ties, a few distinct values only"""
    x = torch.rand(*shape, generator=g, dtype=torch.float32) * 2 - 1
    if ties:
        x = torch.round(x * 2) / 2
    return x.double()


def put(out, name, t):
    t = t.detach().double().contiguous()
    out.append("tensor %s %s" % (name, " ".join(str(d) for d in t.shape)))
    out.append(" ".join("%.9g" % v for v in t.flatten().tolist()))


def write(name, lines):
    with open(os.path.join(HERE, name), "w") as f:
        f.write("# %s - made by make_torch_vectors.py (PyTorch %s); do not edit\n" % (name, torch.__version__))
        f.write("\n".join(lines) + "\n")


def conv2d():
    g = torch.Generator().manual_seed(10)
    out = []
    # name, N, C, H, W, filters, (kh, kw), (sh, sw), (ph, pw), bias
    for name, n, c, h, w, f, k, s, p, bias in [
        ("k3_s2_p1_bias", 2, 3, 7, 9, 4, (3, 3), (2, 2), (1, 1), True),
        ("k3x2_s1x2_p1x0", 3, 2, 6, 7, 5, (3, 2), (1, 2), (1, 0), False),
        ("k5_lenet", 2, 1, 12, 12, 3, (5, 5), (1, 1), (0, 0), True),
    ]:
        x = rand(g, n, c, h, w).requires_grad_()
        wt = rand(g, f, c, k[0], k[1]).requires_grad_()
        b = rand(g, f).requires_grad_() if bias else None
        y = F.conv2d(x, wt, b, stride=s, padding=p)
        dy = rand(g, *y.shape)
        y.backward(dy)
        out.append("case " + name)
        out.append("args %d %d %d %d %d %d" % (k[0], k[1], s[0], s[1], p[0], p[1]))
        put(out, "x", x)
        put(out, "w", wt.reshape(f, -1))            # singa's [filters, C*kh*kw]
        if bias:
            put(out, "b", b)
        put(out, "y", y)
        put(out, "dy", dy)
        put(out, "dx", x.grad)
        put(out, "dw", wt.grad.reshape(f, -1))
        if bias:
            put(out, "db", b.grad)
    write("conv2d.txt", out)


def pool(mode):
    g = torch.Generator().manual_seed(20 if mode == "max" else 21)
    out = []
    # name, N, C, H, W, (kh, kw), (sh, sw), (ph, pw), ties
    for name, n, c, h, w, k, s, p, ties in [
        ("k3_s2_p1", 2, 3, 7, 9, (3, 3), (2, 2), (1, 1), False),
        ("k2", 2, 2, 8, 7, (2, 2), (2, 2), (0, 0), False),
        ("k3x2_s1x2_p1x1_ties", 2, 2, 6, 7, (3, 2), (1, 2), (1, 1), True),
        ("k2_ties", 2, 3, 8, 9, (2, 2), (2, 2), (0, 0), True),
    ]:
        x = rand(g, n, c, h, w, ties=ties).requires_grad_()
        if mode == "max":
            y = F.max_pool2d(x, k, stride=s, padding=p)
        else:
            y = F.avg_pool2d(x, k, stride=s, padding=p)   # count_include_pad = True, PyTorch's default
        dy = rand(g, *y.shape)
        y.backward(dy)
        out.append("case " + name)
        out.append("args %d %d %d %d %d %d %d" % (k[0], k[1], s[0], s[1], p[0], p[1], 0 if mode == "max" else 1))
        put(out, "x", x)
        put(out, "y", y)
        put(out, "dy", dy)
        put(out, "dx", x.grad)
    write(mode + "_pool.txt", out)


def max_pool():
    pool("max")


def avg_pool():
    pool("avg")


# ---- issue 10: normalisation (lrn, batchnorm) ----

def lrn():
    g = torch.Generator().manual_seed(30)
    out = []
    # name, shape, size, alpha, beta, k
    for name, shape, size, alpha, beta, k in [
        ("defaults", (2, 7, 3, 4), 5, 1e-4, 0.75, 1.0),
        ("s3_a05_k2", (3, 6, 4, 3), 3, 0.5, 0.75, 2.0),
        ("s4_even", (2, 5, 3, 3), 4, 0.9, 0.6, 1.0),
        ("s2_nc_l", (4, 6, 5), 2, 1.5, 0.8, 1.2),
    ]:
        x = rand(g, *shape).requires_grad_()
        y = F.local_response_norm(x, size, alpha=alpha, beta=beta, k=k)
        dy = rand(g, *y.shape)
        y.backward(dy)
        out.append("case " + name)
        out.append("args %d" % size)
        out.append("fargs %.17g %.17g %.17g" % (alpha, beta, k))
        put(out, "x", x)
        put(out, "y", y)
        put(out, "dy", dy)
        put(out, "dx", x.grad)
    write("lrn.txt", out)


def batchnorm():
    """training forward with the batch's statistics, the gradients of x, gamma and beta, the
    running statistics after that one step, and the test-mode forward with them"""
    g = torch.Generator().manual_seed(31)
    out = []
    # name, shape, momentum, eps
    for name, shape, momentum, eps in [
        ("nchw", (4, 3, 5, 6), 0.1, 1e-5),
        ("nf", (7, 5), 0.1, 1e-5),
        ("ncl_m03", (5, 4, 6), 0.3, 1e-3),
    ]:
        c = shape[1]
        x = rand(g, *shape)
        x_shift = (x * 1.5 + 0.3).float().double().detach().requires_grad_()   # a mean and a scale away from 0 and 1
        bn = {2: torch.nn.BatchNorm1d, 3: torch.nn.BatchNorm1d, 4: torch.nn.BatchNorm2d}[len(shape)](
            c, eps=eps, momentum=momentum).double()
        with torch.no_grad():
            bn.weight.copy_((rand(g, c) + 1.5).float())   # float32 values, as singa holds them
            bn.bias.copy_(rand(g, c))
            bn.running_mean.copy_((rand(g, c) * 0.5).float())
            bn.running_var.copy_((rand(g, c) * 0.5 + 1.0).float())
        rm0, rv0 = bn.running_mean.clone(), bn.running_var.clone()
        bn.train()
        y = bn(x_shift)
        dy = rand(g, *y.shape)
        y.backward(dy)
        bn.eval()
        xt = rand(g, *shape)
        yt = bn(xt)
        out.append("case " + name)
        out.append("args 0")
        out.append("fargs %.17g %.17g" % (eps, momentum))
        put(out, "x", x_shift)
        put(out, "gamma", bn.weight)
        put(out, "beta", bn.bias)
        put(out, "rmean0", rm0)
        put(out, "rvar0", rv0)
        put(out, "y", y)
        put(out, "dy", dy)
        put(out, "dx", x_shift.grad)
        put(out, "dgamma", bn.weight.grad)
        put(out, "dbeta", bn.bias.grad)
        put(out, "rmean", bn.running_mean)
        put(out, "rvar", bn.running_var)
        put(out, "xt", xt)
        put(out, "yt", yt)
    write("batchnorm.txt", out)


MAKERS = [
    conv2d,
    max_pool,
    avg_pool,
    lrn,
    batchnorm,
]

if __name__ == "__main__":
    torch.set_num_threads(1)
    for make in MAKERS:
        make()
