/* rnn.c - gru() and lstm(): one time step of PyTorch's GRUCell and LSTMCell, built from
 * matmul, bias_add, add, sub, mul, sigmoid and tanh, so their gradients and partition rules
 * are those ops' (the unrolling over time comes with BPTT).
 *
 *   gru   r = σ(x Wx_r + bx_r + h Wh_r + bh_r)         lstm  i = σ(x Wx_i + bx_i + h Wh_i + bh_i)
 *         z = σ(x Wx_z + bx_z + h Wh_z + bh_z)               f = σ(... _f),  o = σ(... _o)
 *         n = tanh(x Wx_n + bx_n + r ⊙ (h Wh_n + bh_n))      g = tanh(... _g)
 *         h' = (1 - z) ⊙ n + z ⊙ h                           c' = f ⊙ c + i ⊙ g,  h' = o ⊙ tanh(c')
 *
 * These are PyTorch's equations (the layer must agree with it, tests/vectors/); SINGA's GRU
 * has no bh_n, so its r multiplies h Wh_n alone: PyTorch's with bh_n = 0.  Each gate has its
 * own weights, Wx_* [in, units] (in taken from x by the shape pass, as for dense) and
 * Wh_* [units, units], so every product is a plain matmul that splits by batch or by units
 * like dense, at the price of 2 small GEMMs a gate instead of two fused ones.  Both biases are
 * kept, as PyTorch has them, so its weights carry over one to one.  init = auto is PyTorch's
 * for these cells, U(-1/sqrt(units), 1/sqrt(units)) for every weight and bias, set here since
 * it depends on units, not on the fans the shape pass records.
 *
 * h' is computed as n - z ⊙ (n - h), and every elementwise op takes a gate as its first
 * source, so under a feature split the layer keeps the gates' layout (split by units).
 */
#include "internal.h"

#include <math.h>

typedef struct Cell {
  SngBuilder *b;
  const SngExpr *call;
  const char *name;                 /* "gru1": the parameters' prefix */
  SngLoc at[3];                     /* the x, h (and c) arguments: ops on a state report there */
  const SngExpr *init, *bias_init;  /* NULL: auto */
  int64_t units;
  int bias;
  int checked;                      /* a gate's Wh has the state's size written: the others infer it */
  double lr_mult, wd_mult;
} Cell;

/* One parameter of the cell; init = auto is U(-1/sqrt(units), 1/sqrt(units)). */
static SngIrNode *param(Cell *c, const char *what, char gate, SngShape s, const SngExpr *init) {
  SngIrGraph *g = c->b->g;
  SngIrNode *p = sng_std_param(c->b, c->call->loc, sng_arena_printf(g->arena, "%s.%s_%c", c->name, what, gate), s,
                               init, c->lr_mult, c->wd_mult);
  if (p && p->init.kind == SNG_INIT_AUTO) {
    double bound = 1.0 / sqrt((double)c->units);
    p->init = (SngInit){SNG_INIT_UNIFORM, -bound, bound};
  }
  return p;
}

/* in W_<what>_<gate> (+ b_<what>_<gate>): one side of a gate's pre-activation.  A state of
 * the wrong size is reported once, at its argument, by the first gate's product: the other
 * gates' Wh take their first size from h, as Wx from x (the same size when h is right). */
static SngIrNode *affine(Cell *c, SngIrNode *in, char side, char gate) {
  SngIrGraph *g = c->b->g;
  SngLoc loc = c->call->loc;
  char w[3] = {'w', side, 0}, bn[3] = {'b', side, 0};
  int64_t rows = side == 'h' && !c->checked ? c->units : 0;
  c->checked |= side == 'h';
  SngIrNode *wp = param(c, w, gate, sng_shape2(rows, c->units), c->init);
  if (!wp) return NULL;
  SngIrNode *y = sng_ir_op2(g, SNG_OP_MATMUL, side == 'h' ? c->at[1] : loc, in, wp);
  if (c->bias) {
    SngIrNode *bp = param(c, bn, gate, sng_shape1(c->units), c->bias_init);
    if (!bp) return NULL;
    y = sng_ir_op2(g, SNG_OP_BIAS_ADD, loc, y, bp);
  }
  return y;
}

/* act(x Wx + bx + h Wh + bh): a gate */
static SngIrNode *gate(Cell *c, SngIrNode *x, SngIrNode *h, char name, SngOp act) {
  SngIrNode *a = affine(c, x, 'x', name), *r = a ? affine(c, h, 'h', name) : NULL;
  if (!r) return NULL;
  return sng_ir_op1(c->b->g, act, c->call->loc, sng_ir_op2(c->b->g, SNG_OP_ADD, c->call->loc, a, r));
}

/* Binds the common arguments: the ntensors tensors first, then units and the options. */
static int bind(SngBuilder *b, const SngExpr *call, const char *kind, int ntensors, SngIrNode **t, Cell *c) {
  static const char *const gru_p[] = {"x", "h", "units", "init?", "bias_init?", "bias?", "lr_mult?", "wd_mult?"};
  static const char *const lstm_p[] = {"x", "h", "c", "units", "init?", "bias_init?", "bias?", "lr_mult?", "wd_mult?"};
  const SngExpr *s[9];
  int n = ntensors + 6;
  if (sng_std_bind(b, call, ntensors == 2 ? gru_p : lstm_p, n, s)) return -1;
  const SngExpr **o = s + ntensors; /* units, init, bias_init, bias, lr_mult, wd_mult */
  *c = (Cell){.b = b, .call = call, .init = o[1], .bias_init = o[2], .bias = 1, .lr_mult = 1, .wd_mult = 1};
  int err = 0;
  for (int i = 0; i < ntensors; i++) {
    t[i] = sng_std_tensor(b, s[i]);
    err |= !t[i];
    c->at[i] = s[i]->loc;
  }
  if (err || sng_std_int(b, o[0], 1, &c->units) || (o[3] && sng_std_bool(b, o[3], &c->bias)) ||
      (o[4] && sng_std_number(b, o[4], &c->lr_mult)) || (o[5] && sng_std_number(b, o[5], &c->wd_mult)))
    return -1;
  if (c->units > SNG_MAX_GEMM_DIM) {
    sng_diag_error(b->d, o[0]->loc, "%s() units = %lld: at most %lld (a matrix dimension for BLAS)", kind,
                   (long long)c->units, (long long)SNG_MAX_GEMM_DIM);
    return -1;
  }
  if (sng_std_check_mults(b, o[4], o[5], c->lr_mult, c->wd_mult)) return -1;
  static const char *const what[] = {"input x", "state h", "cell state c"};
  for (int i = 0; i < ntensors; i++)
    if (t[i]->op == SNG_OP_INPUT && t[i]->attr.input.slot == 1) { /* other shapes are the shape pass's */
      sng_diag_error(b->d, s[i]->loc, "%s() wants a [batch, ...] tensor as its %s, not the labels", kind, what[i]);
      return -1;
    }
  c->name = sng_std_unique(b, kind);
  return 0;
}

/* gru(x, h, units, init = auto, bias_init = auto, bias = true, lr_mult = 1, wd_mult = 1) -> h' */
int sng_std_build_gru(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout) {
  SngIrNode *t[2];
  Cell c;
  (void)nout;
  if (bind(b, call, "gru", 2, t, &c)) return -1;
  SngIrGraph *g = b->g;
  SngLoc loc = call->loc;
  SngIrNode *x = t[0], *h = t[1];
  SngIrNode *r = gate(&c, x, h, 'r', SNG_OP_SIGMOID);
  SngIrNode *z = r ? gate(&c, x, h, 'z', SNG_OP_SIGMOID) : NULL;
  SngIrNode *nx = z ? affine(&c, x, 'x', 'n') : NULL, *nh = nx ? affine(&c, h, 'h', 'n') : NULL;
  if (!nh) return -1;
  SngIrNode *n = sng_ir_op1(g, SNG_OP_TANH, loc, sng_ir_op2(g, SNG_OP_ADD, loc, nx, sng_ir_op2(g, SNG_OP_MUL, loc, r, nh)));
  SngIrNode *d = sng_ir_op2(g, SNG_OP_MUL, loc, z, sng_ir_op2(g, SNG_OP_SUB, c.at[1], n, h)); /* z ⊙ (n - h) */
  out[0] = sng_ir_op2(g, SNG_OP_SUB, loc, n, d);                                           /* (1 - z) ⊙ n + z ⊙ h */
  return 0;
}

/* lstm(x, h, c, units, init = auto, bias_init = auto, bias = true, lr_mult = 1, wd_mult = 1) -> h', c' */
int sng_std_build_lstm(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout) {
  SngIrNode *t[3];
  Cell c;
  (void)nout;
  if (bind(b, call, "lstm", 3, t, &c)) return -1;
  SngIrGraph *g = b->g;
  SngLoc loc = call->loc;
  SngIrNode *x = t[0], *h = t[1];
  SngIrNode *i = gate(&c, x, h, 'i', SNG_OP_SIGMOID);
  SngIrNode *f = i ? gate(&c, x, h, 'f', SNG_OP_SIGMOID) : NULL;
  SngIrNode *gg = f ? gate(&c, x, h, 'g', SNG_OP_TANH) : NULL;
  SngIrNode *o = gg ? gate(&c, x, h, 'o', SNG_OP_SIGMOID) : NULL;
  if (!o) return -1;
  SngIrNode *fc = sng_ir_op2(g, SNG_OP_MUL, c.at[2], f, t[2]); /* a c of the wrong size is reported at c */
  SngIrNode *c1 = sng_ir_op2(g, SNG_OP_ADD, loc, fc, sng_ir_op2(g, SNG_OP_MUL, loc, i, gg));
  out[0] = sng_ir_op2(g, SNG_OP_MUL, loc, o, sng_ir_op1(g, SNG_OP_TANH, loc, c1));
  out[1] = c1;
  return 0;
}
