#!/usr/bin/python3
"""make_rnn_vectors.py - reference vectors for gru() and lstm() from PyTorch's GRUCell and LSTMCell.

Run with Debian's PyTorch 1.13 (python3-torch):  /usr/bin/python3 tests/vectors/make_rnn_vectors.py
It rewrites tests/vectors/{gru,lstm_h,lstm_c}.txt, which tests/runtime/test_rnn_vectors.c reads.

Each file holds one net of tests/runtime/test_rnn_vectors.c, computed here in float64:

    x, y = input(d)                       # the data rows are the identity I_B (one row per sample)
    xi = dense(x, IN, bias = false)       # dense1.w [B, IN]  = the cell's input x
    h0 = dense(x, UNITS, bias = false)    # dense2.w [B, UNITS] = the state h
    c0 = dense(x, UNITS, bias = false)    # dense3.w (lstm only) = the cell state c
    h1 = gru(xi, h0, UNITS)               # or: h1, c1 = lstm(xi, h0, c0, UNITS)
    l = dense(h1, 3)                      # the head (on c1 for lstm_c)
    loss softmax_cross_entropy(l, y)      # the mean over the batch

Since I_B W = W, the gradients of dense1.w, dense2.w, dense3.w are exactly the gradients of
the loss with respect to the cell's input, state and cell state: the upstream gradient is the
head's, fixed by the head's weights and the labels written here.

Lines: `NAME COUNT v1 ... vCOUNT`, values row-major in singa's layout, where NAME is
  param:P   the initial value of singa's parameter P
  grad:P    the gradient of the mean loss with respect to P
  out:T     the forward value of the net's tensor T (h1, c1)
  loss      the per-row loss
  labels    the labels of the batch
singa keeps one weight per gate, [in, units] (x W): wx_r = weight_ih[0:U].T and so on, in
PyTorch's gate order (GRU: r, z, n; LSTM: i, f, g, o); bx_* are PyTorch's bias_ih rows and
bh_* its bias_hh rows.
"""
import os

import torch

B, IN, UNITS, CLASSES = 5, 7, 3, 3
HERE = os.path.dirname(os.path.abspath(__file__))


def rand(*shape, gen):
    return (torch.rand(*shape, generator=gen, dtype=torch.float64) * 2 - 1)


def cell_params(name, cell, gates, out):
    """singa's per-gate parameters from a PyTorch cell: values and gradients."""
    u = cell.hidden_size
    for k, g in enumerate(gates):
        rows = slice(k * u, (k + 1) * u)
        for what, t in (("wx", cell.weight_ih), ("wh", cell.weight_hh)):
            out.append((f"{name}.{what}_{g}", t.detach()[rows].T, t.grad[rows].T))
        for what, t in (("bx", cell.bias_ih), ("bh", cell.bias_hh)):
            out.append((f"{name}.{what}_{g}", t.detach()[rows], t.grad[rows]))


def write(path, params, outs, loss, labels):
    with open(path, "w") as f:
        f.write(f"# made by tests/vectors/make_rnn_vectors.py with PyTorch {torch.__version__}; do not edit\n")

        def line(name, t):
            v = t.detach().reshape(-1).tolist()
            f.write(f"{name} {len(v)} " + " ".join(f"{x:.9g}" for x in v) + "\n")

        for name, value, _ in params:
            line("param:" + name, value)
        for name, _, grad in params:
            line("grad:" + name, grad)
        for name, t in outs:
            line("out:" + name, t)
        line("loss", loss)
        line("labels", labels.to(torch.float64))


def run(kind, head_on, seed):
    gen = torch.Generator().manual_seed(seed)
    x = rand(B, IN, gen=gen).requires_grad_()
    h0 = rand(B, UNITS, gen=gen).requires_grad_()
    c0 = rand(B, UNITS, gen=gen).requires_grad_()
    labels = torch.randint(0, CLASSES, (B,), generator=gen)
    torch.manual_seed(seed)  # the cell's own initialisation: U(-1/sqrt(units), 1/sqrt(units))
    if kind == "gru":
        cell = torch.nn.GRUCell(IN, UNITS).double()
        h1 = cell(x, h0)
        outs = [("h1", h1)]
        head_in = h1
    else:
        cell = torch.nn.LSTMCell(IN, UNITS).double()
        h1, c1 = cell(x, (h0, c0))
        outs = [("h1", h1)] if head_on == "h1" else [("c1", c1)]
        head_in = h1 if head_on == "h1" else c1
    head = torch.nn.Linear(UNITS, CLASSES).double()
    with torch.no_grad():
        head.weight.copy_(rand(CLASSES, UNITS, gen=gen))
        head.bias.copy_(rand(CLASSES, gen=gen))
    rows = torch.nn.functional.cross_entropy(head(head_in), labels, reduction="none")
    rows.mean().backward()

    params = [("dense1.w", x, x.grad), ("dense2.w", h0, h0.grad)]
    if kind == "lstm":
        params.append(("dense3.w", c0, c0.grad))
    cell_params(f"{kind}1", cell, "rzn" if kind == "gru" else "ifgo", params)
    n = 3 if kind == "gru" else 4
    params.append((f"dense{n}.w", head.weight.detach().T, head.weight.grad.T))
    params.append((f"dense{n}.b", head.bias.detach(), head.bias.grad))
    return params, outs, rows, labels


def main():
    for fname, kind, head_on, seed in (("gru.txt", "gru", "h1", 10),
                                       ("lstm_h.txt", "lstm", "h1", 11),
                                       ("lstm_c.txt", "lstm", "c1", 12)):
        params, outs, rows, labels = run(kind, head_on, seed)
        write(os.path.join(HERE, fname), params, outs, rows, labels)
        print(f"{fname}: {len(params)} parameters, loss {rows.mean().item():.6f}")


if __name__ == "__main__":
    main()
