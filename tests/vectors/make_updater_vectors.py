#!/usr/bin/python3
"""make_updater_vectors.py - reference sequences for the updaters, clipping and schedules.

Run with Debian's PyTorch 1.13 (/usr/bin/python3; the pyenv python3 has no torch):
    /usr/bin/python3 tests/vectors/make_updater_vectors.py > tests/vectors/updaters.txt

Every updater case applies STEPS updates to a parameter vector of N values, with the
gradient sequence below, in float64, with torch.optim (or the closed form where PyTorch has
no such updater: adam and adamax without bias correction, SINGA's variants); the C test
(tests/runtime/test_updaters.c) compiles the same `updater ...` declaration, runs the plan's
fused update kernel the servers use, and compares every step to 1e-5 relative.

Format (whitespace-separated tokens):
    grads STEPS N            then STEPS lines of N gradients
    w0 N values              the starting values
    case NAME LR_MULT WD_MULT SPLIT         (SPLIT: the vector is two params [0, SPLIT) and
    decl UPDATER TEXT...                     [SPLIT, N) for clip_norm; 0 = one param)
    STEPS lines of N values: the parameter after each step
    sched NAME               then the declaration line and STEPS learning rates
"""
import math
import sys

import torch

STEPS, N = 200, 7
torch.set_default_dtype(torch.float64)


def f32(x):
    return float(torch.tensor(x, dtype=torch.float32))


# a fixed, deterministic gradient sequence of mixed signs and scales (float32 values)
GRADS = [[f32(math.sin(0.7 * t + 1.1 * i + 0.3) * (0.2 + i * 0.3) + 0.05 * math.cos(0.13 * t * (i + 1)))
          for i in range(N)] for t in range(STEPS)]
W0 = [f32(0.5 - 0.17 * i + 0.03 * i * i) for i in range(N)]


def run_torch(make_opt, lr_mult=1.0, wd_mult=1.0, split=0, clip_value=None, clamp=None, clip_norm=None):
    if split:
        ps = [torch.tensor(W0[:split], requires_grad=True), torch.tensor(W0[split:], requires_grad=True)]
    else:
        ps = [torch.tensor(W0, requires_grad=True)]
    opt = make_opt(ps, lr_mult, wd_mult)
    out = []
    for t in range(STEPS):
        g = torch.tensor(GRADS[t])
        if split:
            ps[0].grad, ps[1].grad = g[:split].clone(), g[split:].clone()
        else:
            ps[0].grad = g.clone()
        if clip_value is not None:
            torch.nn.utils.clip_grad_value_(ps, clip_value)
        if clamp is not None:
            for p in ps:
                p.grad.clamp_(clamp[0], clamp[1])
        if clip_norm is not None:
            torch.nn.utils.clip_grad_norm_(ps, clip_norm)
        opt.step()
        out.append(torch.cat([p.detach() for p in ps]).tolist())
    return out


def group(lr, wd, lr_mult, wd_mult, **kw):
    return lambda ps: [dict(params=ps, lr=lr * lr_mult, weight_decay=wd * wd_mult, **kw)]


def opt(cls, lr, wd=0.0, **kw):
    return lambda ps, lm, wm: cls(group(lr, wd, lm, wm, **kw)(ps))


def adam_closed(lr, b1, b2, eps, wd, amax=False):
    """adam / adamax without bias correction (SINGA's variants), in PyTorch's form otherwise"""
    w = [float(x) for x in W0]
    m, v = [0.0] * N, [0.0] * N
    out = []
    for t in range(STEPS):
        for i in range(N):
            g = GRADS[t][i] + wd * w[i]
            m[i] = b1 * m[i] + (1 - b1) * g
            if amax:
                v[i] = max(b2 * v[i], abs(g) + eps)
                w[i] -= lr * m[i] / v[i]
            else:
                v[i] = b2 * v[i] + (1 - b2) * g * g
                w[i] -= lr * m[i] / (math.sqrt(v[i]) + eps)
        out.append(list(w))
    return out


O = torch.optim
CASES = [
    # name, declaration, torch run (or closed form), lr_mult, wd_mult, split
    ("sgd", "sgd(lr = 0.1)", lambda: run_torch(opt(O.SGD, 0.1)), 1, 1, 0),
    ("sgd_momentum", "sgd(lr = 0.1, momentum = 0.9)", lambda: run_torch(opt(O.SGD, 0.1, momentum=0.9)), 1, 1, 0),
    ("sgd_momentum_wd", "sgd(lr = 0.05, momentum = 0.9, weight_decay = 0.01)",
     lambda: run_torch(opt(O.SGD, 0.05, 0.01, momentum=0.9)), 1, 1, 0),
    ("sgd_mult", "sgd(lr = 0.05, momentum = 0.8, weight_decay = 0.01)",
     lambda: run_torch(opt(O.SGD, 0.05, 0.01, momentum=0.8), 0.5, 3), 0.5, 3, 0),
    ("nesterov", "nesterov(lr = 0.05, momentum = 0.9, weight_decay = 0.001)",
     lambda: run_torch(opt(O.SGD, 0.05, 0.001, momentum=0.9, nesterov=True)), 1, 1, 0),
    ("nesterov_mult", "nesterov(lr = 0.05)",
     lambda: run_torch(opt(O.SGD, 0.05, 0.0, momentum=0.9, nesterov=True), 2, 1), 2, 1, 0),
    ("adagrad", "adagrad(lr = 0.1)", lambda: run_torch(opt(O.Adagrad, 0.1)), 1, 1, 0),
    ("adagrad_wd", "adagrad(lr = 0.1, weight_decay = 0.01, eps = 1e-6)",
     lambda: run_torch(opt(O.Adagrad, 0.1, 0.01, eps=1e-6)), 1, 1, 0),
    ("rmsprop", "rmsprop(lr = 0.01)", lambda: run_torch(opt(O.RMSprop, 0.01)), 1, 1, 0),
    ("rmsprop_momentum", "rmsprop(lr = 0.01, alpha = 0.9, momentum = 0.5, weight_decay = 0.01, eps = 1e-6)",
     lambda: run_torch(opt(O.RMSprop, 0.01, 0.01, alpha=0.9, momentum=0.5, eps=1e-6)), 1, 1, 0),
    ("adadelta", "adadelta()", lambda: run_torch(opt(O.Adadelta, 1.0)), 1, 1, 0),
    ("adadelta_rho", "adadelta(lr = 0.5, rho = 0.95, eps = 1e-5, weight_decay = 0.01)",
     lambda: run_torch(opt(O.Adadelta, 0.5, 0.01, rho=0.95, eps=1e-5), 2, 0.5), 2, 0.5, 0),
    ("adam", "adam(lr = 0.01)", lambda: run_torch(opt(O.Adam, 0.01)), 1, 1, 0),
    ("adam_wd", "adam(lr = 0.01, beta1 = 0.8, beta2 = 0.99, eps = 1e-6, weight_decay = 0.01)",
     lambda: run_torch(opt(O.Adam, 0.01, 0.01, betas=(0.8, 0.99), eps=1e-6)), 1, 1, 0),
    ("adam_mult", "adam(lr = 0.01, weight_decay = 0.01)",
     lambda: run_torch(opt(O.Adam, 0.01, 0.01), 0.5, 2), 0.5, 2, 0),
    ("adam_singa", "adam(lr = 0.01, bias_correction = false)",
     lambda: adam_closed(0.01, 0.9, 0.999, 1e-8, 0.0), 1, 1, 0),
    ("adam_singa_wd", "adam(lr = 0.002, beta1 = 0.5, beta2 = 0.9, weight_decay = 0.1, bias_correction = false)",
     lambda: adam_closed(0.002, 0.5, 0.9, 1e-8, 0.1), 1, 1, 0),
    ("adamax", "adamax(lr = 0.01)", lambda: run_torch(opt(O.Adamax, 0.01)), 1, 1, 0),
    ("adamax_wd", "adamax(lr = 0.01, beta1 = 0.8, beta2 = 0.99, eps = 1e-6, weight_decay = 0.01)",
     lambda: run_torch(opt(O.Adamax, 0.01, 0.01, betas=(0.8, 0.99), eps=1e-6)), 1, 1, 0),
    ("adamax_singa", "adamax(lr = 0.01, bias_correction = false)",
     lambda: adam_closed(0.01, 0.9, 0.999, 1e-8, 0.0, amax=True), 1, 1, 0),
    ("clip_value", "sgd(lr = 0.1, momentum = 0.9, clip = 0.5)",
     lambda: run_torch(opt(O.SGD, 0.1, momentum=0.9), clip_value=0.5), 1, 1, 0),
    ("clip_range", "adam(lr = 0.01, clip_low = -0.3, clip_high = 0.6, weight_decay = 0.01)",
     lambda: run_torch(opt(O.Adam, 0.01, 0.01), clamp=(-0.3, 0.6)), 1, 1, 0),
    ("clip_norm", "sgd(lr = 0.1, momentum = 0.9, clip_norm = 0.8)",
     lambda: run_torch(opt(O.SGD, 0.1, momentum=0.9), split=4, clip_norm=0.8), 1, 1, 4),
    ("clip_norm_adam", "adam(lr = 0.01, clip_norm = 1.5, weight_decay = 0.01)",
     lambda: run_torch(opt(O.Adam, 0.01, 0.01), split=3, clip_norm=1.5), 1, 1, 3),
]


def sched_torch(make, base=0.1):
    p = torch.zeros(1, requires_grad=True)
    o = O.SGD([p], lr=base)
    s = make(o)
    out = []
    for _ in range(STEPS):
        out.append(o.param_groups[0]["lr"])
        o.step()
        s.step()
    return out


def closed(f, base=0.1):
    return [f(base, s) for s in range(STEPS)]


def warm(n, w0, main, base=0.1):
    """linear warm-up over n steps from factor w0, then the main schedule from its step 0"""
    rest = main[: STEPS - n]
    return [base * (w0 + (1 - w0) * s / n) for s in range(n)] + rest


L = O.lr_scheduler
SCHEDS = [
    ("fixed", "fixed", lambda: closed(lambda b, s: b)),
    ("step", "step(gamma = 0.5, every = 30)", lambda: sched_torch(lambda o: L.StepLR(o, 30, 0.5))),
    ("multistep", "multistep(0.1, 50, 120, 170)", lambda: sched_torch(lambda o: L.MultiStepLR(o, [50, 120, 170], 0.1))),
    ("exponential", "exponential(gamma = 0.98)", lambda: sched_torch(lambda o: L.ExponentialLR(o, 0.98))),
    ("inverse", "inverse(gamma = 0.01, power = 0.75)", lambda: closed(lambda b, s: b * (1 + 0.01 * s) ** -0.75)),
    ("inverse_t", "inverse_t(time = 40)", lambda: closed(lambda b, s: b / (1 + s / 40))),
    ("linear_up", "linear(steps = 100, start = 0.25)",
     lambda: sched_torch(lambda o: L.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=100))),
    ("linear_down", "linear(steps = 150, start = 1, end = 0.05)",
     lambda: sched_torch(lambda o: L.LinearLR(o, start_factor=1.0, end_factor=0.05, total_iters=150))),
    ("cosine", "cosine(steps = 200)", lambda: sched_torch(lambda o: L.CosineAnnealingLR(o, T_max=200))),
    ("cosine_min", "cosine(steps = 80, min = 0.001)",
     lambda: sched_torch(lambda o: L.CosineAnnealingLR(o, T_max=80, eta_min=0.001))),
]
# warm-up in front of a schedule: PyTorch's SequentialLR([LinearLR(w0, 1, n), main], [n]) where
# it can (w0 > 0), the closed form from 0
WARM = [
    ("warmup_cosine", "cosine(steps = 180), warmup = 20",
     lambda: warm(20, 0.0, sched_torch(lambda o: L.CosineAnnealingLR(o, T_max=180)))),
    ("warmup_step", "step(gamma = 0.5, every = 40), warmup = 10, warmup_start = 0.1",
     lambda: sched_torch(lambda o: L.SequentialLR(o, [L.LinearLR(o, 0.1, 1.0, 10), L.StepLR(o, 40, 0.5)], [10]))),
    ("warmup_fixed", "fixed, warmup = 50, warmup_start = 0.2",
     lambda: sched_torch(lambda o: L.SequentialLR(o, [L.LinearLR(o, 0.2, 1.0, 50), L.ConstantLR(o, 1.0, 1)], [50]))),
]


def main():
    out = sys.stdout
    out.write("grads %d %d\n" % (STEPS, N))
    for row in GRADS:
        out.write(" ".join("%.9g" % x for x in row) + "\n")
    out.write("w0 " + " ".join("%.9g" % x for x in W0) + "\n")
    for name, decl, run, lm, wm, split in CASES:
        out.write("case %s %g %g %d\ndecl %s\n" % (name, lm, wm, split, decl))
        for row in run():
            out.write(" ".join("%.8g" % x for x in row) + "\n")
    for name, decl, run in SCHEDS + WARM:
        out.write("sched %s\ndecl sgd(lr = 0.1, schedule = %s)\n" % (name, decl))
        out.write(" ".join("%.10g" % x for x in run()) + "\n")


if __name__ == "__main__":
    main()
