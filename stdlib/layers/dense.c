/* dense.c - dense(x, units): the inner product layer, x W + b.
 *
 * The weight is [fan_in, units] with fan_in left 0 for the shape pass to take from x, so a
 * net never writes an input size twice; x of rank > 2 (an image batch) is seen as
 * [batch, the rest].  Only the labels are rejected here, since input shapes are the only
 * ones known this early; every other mismatch is the shape pass's to report.
 */
#include "internal.h"

/* dense(x, units, init = auto, bias_init = auto, bias = true, lr_mult = 1, wd_mult = 1) */
int sng_std_build_dense(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout) {
  static const char *const p[] = {"x", "units", "init?", "bias_init?", "bias?", "lr_mult?", "wd_mult?"};
  const SngExpr *s[7];
  (void)nout;
  if (sng_std_bind(b, call, p, 7, s)) return -1;
  SngIrNode *x = sng_std_tensor(b, s[0]);
  int64_t units;
  int bias = 1;
  double lr_mult = 1, wd_mult = 1;
  if (sng_std_int(b, s[1], 1, &units) || (s[4] && sng_std_bool(b, s[4], &bias)) ||
      (s[5] && sng_std_number(b, s[5], &lr_mult)) || (s[6] && sng_std_number(b, s[6], &wd_mult)) || !x)
    return -1;
  if (units > SNG_MAX_GEMM_DIM) { /* a column count for BLAS; the weight's size is the shape pass's */
    sng_diag_error(b->d, s[1]->loc, "dense() units = %lld: at most %lld (a matrix dimension for BLAS)",
                   (long long)units, (long long)SNG_MAX_GEMM_DIM);
    return -1;
  }
  if (sng_std_check_mults(b, s[5], s[6], lr_mult, wd_mult)) return -1;
  if (x->op == SNG_OP_INPUT && x->shape.rank < 2) { /* input shapes are known by now; others are checked by the shape pass */
    sng_diag_error(b->d, s[0]->loc, "dense() wants a [batch, features...] tensor, not the labels");
    return -1;
  }
  const char *name = sng_std_unique(b, "dense");
  SngIrGraph *g = b->g;
  /* the weight's input size comes from x: the shape pass fills d[0] (0 = to infer) */
  SngIrNode *w = sng_std_param(b, call->loc, sng_arena_printf(g->arena, "%s.w", name), sng_shape2(0, units), s[2],
                               lr_mult, wd_mult);
  if (!w) return -1;
  SngIrNode *y = sng_ir_op2(g, SNG_OP_MATMUL, call->loc, x, w);
  if (bias) {
    SngIrNode *bv = sng_std_param(b, call->loc, sng_arena_printf(g->arena, "%s.b", name), sng_shape1(units), s[3],
                                  lr_mult, wd_mult);
    if (!bv) return -1;
    y = sng_ir_op2(g, SNG_OP_BIAS_ADD, call->loc, y, bv);
  }
  out[0] = y;
  return 0;
}
