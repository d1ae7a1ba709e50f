/* rbm.c - the energy-model layers: rbm (a restricted Boltzmann machine's two layers of units,
 * SINGA's RBMVis and RBMHid in one layer sharing one weight) and sample (a layer of
 * stochastic units).
 *
 * rbm(v, units) gives the hidden units' probabilities p(h = 1 | v) = sigmoid(v W + b_h)
 * (hidden = gaussian: the mean v W + b_h, SINGA's linear hidden layer), so a trained RBM is a
 * feature layer for what comes after it.  Trained with `cd(k = ...)` (the builder's cd_k),
 * the layer also builds the Gibbs chain of contrastive divergence (reference.md §3, CDWorker),
 * every step an ordinary op of the net, so it partitions by rows like any other layer:
 *
 *   h+ = p(h | v+)                                   the positive phase
 *   k times:  s = sample(h)   r = p(v | s) = sigmoid(s W^T + b_v)   h = p(h | r)
 *   cd_loss(v+, h+, r_k, h_k, W, b_h, b_v, r_1)      the net's loss
 *
 * The reconstructions r are probabilities, not samples (visible = gaussian: the mean
 * s W^T + b_v).  cd_loss reports the first reconstruction's squared error, as SINGA
 * displays it; its gradient rule gives contrastive divergence's update (grad.c).  Samples
 * are keyed draws like dropout's masks (runtime/exec/norm.c): the same on any split of the
 * batch and in a repeated step.
 */
#include "internal.h"

#include <string.h>

static SngIrNode *sample_of(SngBuilder *b, SngLoc loc, SngIrNode *p, int gauss, double salt) {
  SngIrNode *s = sng_ir_op1(b->g, SNG_OP_SAMPLE, loc, p);
  s->attr.args.f[0] = gauss, s->attr.args.f[1] = salt;
  return s;
}

/* x W (W^T if t) + bias, then the units' activation: sigmoid, or none for Gaussian units */
static SngIrNode *units_of(SngBuilder *b, SngLoc loc, SngIrNode *x, SngIrNode *w, int t, SngIrNode *bias, int gauss) {
  SngIrNode *m = sng_ir_op2(b->g, SNG_OP_MATMUL, loc, x, w);
  m->attr.matmul.trans_b = t;
  SngIrNode *a = sng_ir_op2(b->g, SNG_OP_BIAS_ADD, loc, m, bias);
  return gauss ? a : sng_ir_op1(b->g, SNG_OP_SIGMOID, loc, a);
}

/* rbm(v, units, hidden = bernoulli, visible = bernoulli, init = gaussian(0, 0.01),
 *     bias_init = constant(0), lr_mult = 1, wd_mult = 1) */
int sng_std_build_rbm(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout) {
  static const char *const p[] = {"v", "units", "hidden?", "visible?", "init?", "bias_init?", "lr_mult?", "wd_mult?"};
  enum { NP = sizeof p / sizeof p[0] };
  const SngExpr *s[NP];
  int64_t units;
  int hg, vg;
  double lr_mult = 1, wd_mult = 1;
  (void)nout;
  if (sng_std_bind(b, call, p, NP, s)) return -1;
  SngIrNode *v = sng_std_tensor(b, s[0]);
  if (sng_std_int(b, s[1], 1, &units) || sng_std_choice(b, "rbm() hidden", s[2], "bernoulli", "gaussian", &hg) ||
      sng_std_choice(b, "rbm() visible", s[3], "bernoulli", "gaussian", &vg) || (s[6] && sng_std_number(b, s[6], &lr_mult)) ||
      (s[7] && sng_std_number(b, s[7], &wd_mult)) || sng_std_check_mults(b, s[6], s[7], lr_mult, wd_mult) || !v)
    return -1;
  if (units > SNG_MAX_GEMM_DIM) {
    sng_diag_error(b->d, s[1]->loc, "rbm() units = %lld: at most %lld (a matrix dimension for BLAS)", (long long)units,
                   (long long)SNG_MAX_GEMM_DIM);
    return -1;
  }
  if (v->op == SNG_OP_INPUT && v->shape.rank < 2) {
    sng_diag_error(b->d, s[0]->loc, "rbm() wants the visible units [batch, features...], not the labels");
    return -1;
  }
  if (b->cd_k && b->cd_loss) {
    sng_diag_error(b->d, call->loc, "cd trains one rbm layer a stage; this net has a second one");
    sng_diag_hint(b->d, "train stacked RBMs one stage at a time; the first rbm is at %s:%d:%d", b->cd_loss->loc.file,
                  b->cd_loss->loc.line, b->cd_loss->loc.col);
    return -1;
  }
  SngLoc loc = call->loc;
  const char *name = sng_std_unique(b, "rbm");
  SngIrGraph *g = b->g;
  SngInit w0 = {SNG_INIT_GAUSSIAN, 0, 0.01}, b0 = {SNG_INIT_CONSTANT, 0, 0};
  SngIrNode *w = sng_std_param(b, loc, sng_arena_printf(g->arena, "%s.w", name), sng_shape2(0, units), s[4], lr_mult,
                               wd_mult);
  SngIrNode *bh = sng_std_param(b, loc, sng_arena_printf(g->arena, "%s.bh", name), sng_shape1(units), s[5], lr_mult,
                                wd_mult);
  if (!w || !bh) return -1;
  if (!s[4]) w->init = w0;
  if (!s[5]) bh->init = b0;
  if (b->cd_k && v->shape.rank != 2) { /* the chain works on [batch, features], as its reconstructions are */
    v = sng_ir_op1(g, SNG_OP_RESHAPE, loc, v);
    v->attr.args.i[0] = 1, v->attr.args.i[1] = -1;
  }
  SngIrNode *hpos = units_of(b, loc, v, w, 0, bh, hg);
  out[0] = hpos;
  if (!b->cd_k) return 0; /* under bp: a feature layer, its visible bias unused (and not made) */

  SngIrNode *bv = sng_std_param(b, loc, sng_arena_printf(g->arena, "%s.bv", name), sng_shape1(0), s[5], lr_mult,
                                wd_mult);
  if (!bv) return -1;
  if (!s[5]) bv->init = b0;
  double salt = sng_std_salt(name);
  SngIrNode *h = hpos, *r = NULL, *r1 = NULL;
  for (int i = 0; i < b->cd_k; i++) {
    SngIrNode *hs = sample_of(b, loc, h, hg, salt + i);
    r = units_of(b, loc, hs, w, 1, bv, vg);
    if (!r1) r1 = r;
    h = units_of(b, loc, r, w, 0, bh, hg);
  }
  SngIrNode *src[8] = {v, hpos, r, h, w, bh, bv, r1};
  b->cd_loss = sng_ir_node(g, SNG_OP_CD_LOSS, loc, 8, src);
  return 0;
}

/* sample(p, dist = bernoulli): 1 with probability p, else 0; dist = gaussian: p + N(0, 1) */
int sng_std_build_sample(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout) {
  static const char *const p[] = {"p", "dist?"};
  const SngExpr *s[2];
  int gauss;
  (void)nout;
  if (sng_std_bind(b, call, p, 2, s) || sng_std_choice(b, "sample() dist", s[1], "bernoulli", "gaussian", &gauss)) return -1;
  SngIrNode *x = sng_std_tensor(b, s[0]);
  if (!x) return -1;
  out[0] = sample_of(b, call->loc, x, gauss, sng_std_salt(sng_std_unique(b, "sample")));
  return 0;
}
