/* norm.c - the normalisation and dropout layers: dropout, lrn, batchnorm.
 *
 * Each is one op of stdlib/ops.def (batchnorm two: the row sums of its input, then the
 * normalisation), whose C kernels (runtime/exec/norm.c) behave differently in training and
 * in tests.  Arguments are checked here, at their place in the .sng file; shapes by the
 * shape pass.
 */
#include "internal.h"

#include <math.h>

/* An optional number argument e (default def) in the range lo..hi, each end open or closed
 * (hi = INFINITY: no upper end); -1 reported at e. */
static int number_in(SngBuilder *b, const char *layer, const char *name, const SngExpr *e, double def, double lo,
                     int lo_open, double hi, int hi_open, double *out) {
  *out = def;
  if (!e) return 0;
  if (sng_std_number(b, e, out)) return -1;
  double v = *out;
  if ((lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi)) return 0;
  if (isinf(hi)) sng_diag_error(b->d, e->loc, "%s() %s = %g: must be %s %g", layer, name, v, lo_open ? ">" : ">=", lo);
  else
    sng_diag_error(b->d, e->loc, "%s() %s = %g: must be in %c%g, %g%c", layer, name, v, lo_open ? '(' : '[', lo, hi,
                   hi_open ? ')' : ']');
  return -1;
}

/* dropout(x, ratio = 0.5): inverted dropout in training, the identity in tests */
int sng_std_build_dropout(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout) {
  static const char *const p[] = {"x", "ratio?"};
  const SngExpr *s[2];
  double ratio;
  (void)nout;
  if (sng_std_bind(b, call, p, 2, s) || number_in(b, "dropout", "ratio", s[1], 0.5, 0, 0, 1, 1, &ratio)) return -1;
  SngIrNode *x = sng_std_tensor(b, s[0]);
  if (!x) return -1;
  SngIrNode *y = sng_ir_op1(b->g, SNG_OP_DROPOUT, call->loc, x);
  y->attr.args.f[0] = ratio;
  y->attr.args.f[1] = sng_std_salt(sng_std_unique(b, "dropout"));
  out[0] = y;
  return 0;
}

/* lrn(x, size = 5, alpha = 1e-4, beta = 0.75, k = 1): across channels */
int sng_std_build_lrn(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout) {
  static const char *const p[] = {"x", "size?", "alpha?", "beta?", "k?"};
  const SngExpr *s[5];
  int64_t size = 5;
  double alpha, beta, k;
  (void)nout;
  if (sng_std_bind(b, call, p, 5, s) || (s[1] && sng_std_int(b, s[1], 1, &size)) ||
      number_in(b, "lrn", "alpha", s[2], 1e-4, 0, 0, INFINITY, 1, &alpha) ||
      number_in(b, "lrn", "beta", s[3], 0.75, 0, 0, INFINITY, 1, &beta) ||
      number_in(b, "lrn", "k", s[4], 1, 0, 1, INFINITY, 1, &k))
    return -1;
  if (size > 4096) {
    sng_diag_error(b->d, s[1]->loc, "lrn() size = %lld: at most 4096 channels", (long long)size);
    return -1;
  }
  SngIrNode *x = sng_std_tensor(b, s[0]);
  if (!x) return -1;
  SngIrNode *y = sng_ir_op1(b->g, SNG_OP_LRN, call->loc, x);
  y->attr.args.i[0] = size;
  y->attr.args.f[0] = alpha, y->attr.args.f[1] = beta, y->attr.args.f[2] = k;
  out[0] = y;
  return 0;
}

static SngIrNode *channel_param(SngBuilder *b, SngLoc loc, const char *layer, const char *what, double v,
                                double mult) {
  SngIrNode *n = sng_std_param(b, loc, sng_arena_printf(b->g->arena, "%s.%s", layer, what), sng_shape1(0), NULL,
                               mult, mult);
  n->init = (SngInit){SNG_INIT_CONSTANT, v, 0};
  return n;
}

/* batchnorm(x, momentum = 0.1, eps = 1e-5): per channel of [N,C,H,W], per feature of [N,F] */
int sng_std_build_batchnorm(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout) {
  static const char *const p[] = {"x", "momentum?", "eps?"};
  const SngExpr *s[3];
  double momentum, eps;
  (void)nout;
  if (sng_std_bind(b, call, p, 3, s) || number_in(b, "batchnorm", "momentum", s[1], 0.1, 0, 1, 1, 0, &momentum) ||
      number_in(b, "batchnorm", "eps", s[2], 1e-5, 0, 1, INFINITY, 1, &eps))
    return -1;
  SngIrNode *x = sng_std_tensor(b, s[0]);
  if (!x) return -1;
  if (x->op == SNG_OP_INPUT && x->shape.rank < 2) {
    sng_diag_error(b->d, s[0]->loc, "batchnorm() wants [batch, features] or [batch, channels, ...], not the labels");
    return -1;
  }
  const char *name = sng_std_unique(b, "batchnorm");
  SngIrNode *src[6];
  src[0] = x;
  src[1] = sng_ir_op1(b->g, SNG_OP_BN_STATS, call->loc, x);
  src[1]->phase = SNG_PHASE_FWDT; /* the batch's statistics: training only (with the bridges that gather them) */
  src[2] = channel_param(b, call->loc, name, "gamma", 1, 1);
  src[3] = channel_param(b, call->loc, name, "beta", 0, 1);
  src[4] = channel_param(b, call->loc, name, "running_mean", 0, 0);
  src[5] = channel_param(b, call->loc, name, "running_var", 1, 0);
  SngIrNode *y = sng_ir_node(b->g, SNG_OP_BATCHNORM, call->loc, 6, src);
  y->phase = SNG_PHASE_FWD; /* in tests too, with the running statistics */
  y->attr.args.f[0] = eps, y->attr.args.f[1] = momentum;
  out[0] = y;
  return 0;
}
