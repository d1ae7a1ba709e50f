/* conv.c - the CNN layers on NCHW images: conv2d, pool, reshape and flatten.
 *
 * conv2d's filters are a parameter [filters, C*kh*kw] (SINGA's layout; PyTorch's
 * [filters, C, kh, kw] in the same order) with C*kh*kw left 0 for the shape pass to fill
 * from x, as dense() does with its fan-in; its bias [filters] is added per channel inside
 * the convolution's GEMM.  Window arguments (kernel, stride, pad) are one number for both
 * axes, or per axis with kernel_h/kernel_w, stride_h/stride_w, pad_h/pad_w; they go to the
 * op's args: i[0..6) = kh, kw, stride h, stride w, pad h, pad w (and pool's mode in i[6]).
 * Shapes (the window against the padded image) are the shape pass's to check.
 */
#include "internal.h"

#include <string.h>

/* One window argument for both axes: `both` (default dflt), each overridden by its _h/_w. */
static int axis_pair(SngBuilder *b, const SngExpr *both, const SngExpr *h, const SngExpr *w, int64_t dflt,
                     int64_t min, int64_t out[2]) {
  int64_t v = dflt;
  if (both && sng_std_int(b, both, min, &v)) return -1;
  out[0] = out[1] = v;
  if (h && sng_std_int(b, h, min, &out[0])) return -1;
  if (w && sng_std_int(b, w, min, &out[1])) return -1;
  return 0;
}

/* kernel, stride, pad and their per-axis forms at s[0..9) into args i[0..6); stride
 * defaults to the kernel when stride_is_kernel (pool) */
static int window_args(SngBuilder *b, const SngExpr *const *s, int64_t kdflt, bool stride_is_kernel, int64_t *a) {
  int64_t k[2], st[2], p[2];
  if (axis_pair(b, s[0], s[1], s[2], kdflt, 1, k)) return -1;
  if (axis_pair(b, s[3], s[4], s[5], 1, 1, st)) return -1;
  if (stride_is_kernel) {
    if (!s[3] && !s[4]) st[0] = k[0];
    if (!s[3] && !s[5]) st[1] = k[1];
  }
  if (axis_pair(b, s[6], s[7], s[8], 0, 0, p)) return -1;
  const int64_t lim = 1 << 20; /* far beyond any image; keeps the shape arithmetic small */
  const int64_t v[6] = {k[0], k[1], st[0], st[1], p[0], p[1]};
  for (int i = 0; i < 6; i++) {
    if (v[i] > lim) {
      const SngExpr *e = s[(i / 2) * 3] ? s[(i / 2) * 3] : s[(i / 2) * 3 + 1 + i % 2];
      sng_diag_error(b->d, e->loc, "window argument %lld is too large (at most %lld)", (long long)v[i], (long long)lim);
      return -1;
    }
    a[i] = v[i];
  }
  return 0;
}

#define WINDOW_PARAMS "kernel?", "kernel_h?", "kernel_w?", "stride?", "stride_h?", "stride_w?", "pad?", "pad_h?", "pad_w?"

/* conv2d(x, filters, kernel = 3, stride = 1, pad = 0, bias = true, init = auto, bias_init = auto,
 *        lr_mult = 1, wd_mult = 1) */
int sng_std_build_conv2d(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout) {
  static const char *const p[] = {"x", "filters", WINDOW_PARAMS, "bias?", "init?", "bias_init?", "lr_mult?", "wd_mult?"};
  enum { NP = sizeof p / sizeof p[0] };
  const SngExpr *s[NP];
  (void)nout;
  if (sng_std_bind(b, call, p, NP, s)) return -1;
  SngIrNode *x = sng_std_tensor(b, s[0]);
  int64_t filters, args[6];
  int bias = 1;
  double lr_mult = 1, wd_mult = 1;
  if (sng_std_int(b, s[1], 1, &filters) || window_args(b, s + 2, 3, false, args) || (s[11] && sng_std_bool(b, s[11], &bias)) ||
      (s[14] && sng_std_number(b, s[14], &lr_mult)) || (s[15] && sng_std_number(b, s[15], &wd_mult)) || !x)
    return -1;
  if (filters > SNG_MAX_GEMM_DIM) {
    sng_diag_error(b->d, s[1]->loc, "conv2d() filters = %lld: at most %lld (a matrix dimension for BLAS)",
                   (long long)filters, (long long)SNG_MAX_GEMM_DIM);
    return -1;
  }
  if (sng_std_check_mults(b, s[14], s[15], lr_mult, wd_mult)) return -1;
  const char *name = sng_std_unique(b, "conv");
  SngIrGraph *g = b->g;
  SngIrNode *src[3];
  src[0] = x;
  src[1] = sng_std_param(b, call->loc, sng_arena_printf(g->arena, "%s.w", name), sng_shape2(filters, 0), s[12], lr_mult,
                         wd_mult);
  if (!src[1]) return -1;
  if (bias) {
    src[2] = sng_std_param(b, call->loc, sng_arena_printf(g->arena, "%s.b", name), sng_shape1(filters), s[13], lr_mult,
                           wd_mult);
    if (!src[2]) return -1;
  }
  SngIrNode *y = sng_ir_node(g, SNG_OP_CONV2D, call->loc, bias ? 3 : 2, src);
  memcpy(y->attr.args.i, args, sizeof args);
  out[0] = y;
  return 0;
}

/* pool(x, kernel = 2, stride = kernel, pad = 0, mode = max): max or average over each window */
int sng_std_build_pool(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout) {
  static const char *const p[] = {"x", WINDOW_PARAMS, "mode?"};
  enum { NP = sizeof p / sizeof p[0] };
  const SngExpr *s[NP];
  (void)nout;
  if (sng_std_bind(b, call, p, NP, s)) return -1;
  SngIrNode *x = sng_std_tensor(b, s[0]);
  int64_t args[6];
  if (window_args(b, s + 1, 2, true, args) || !x) return -1;
  int avg;
  if (sng_std_choice(b, "pool mode", s[10], "max", "avg", &avg)) return -1;
  if (args[4] > args[0] / 2 || args[5] > args[1] / 2) { /* PyTorch's rule: no window of padding only */
    const SngExpr *e = s[7] ? s[7] : s[8] ? s[8] : s[9];
    sng_diag_error(b->d, e->loc, "pool pad %lldx%lld is more than half the kernel %lldx%lld", (long long)args[4],
                   (long long)args[5], (long long)args[0], (long long)args[1]);
    return -1;
  }
  SngIrNode *y = sng_ir_op1(b->g, SNG_OP_POOL, call->loc, x);
  memcpy(y->attr.args.i, args, sizeof args);
  y->attr.args.i[6] = avg;
  out[0] = y;
  return 0;
}

/* reshape(x, d1, d2 = none, d3 = none): [batch, d1, ...]; one d may be -1 (the rest) */
int sng_std_build_reshape(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout) {
  static const char *const p[] = {"x", "d1", "d2?", "d3?"};
  const SngExpr *s[4];
  (void)nout;
  if (sng_std_bind(b, call, p, 4, s)) return -1;
  SngIrNode *x = sng_std_tensor(b, s[0]);
  int64_t d[3];
  int nd = 0, infer = 0;
  for (int i = 1; i < 4 && s[i]; i++, nd++) {
    if (sng_std_int(b, s[i], -1, &d[i - 1])) return -1;
    if (d[i - 1] == 0 || (d[i - 1] == -1 && infer++)) {
      sng_diag_error(b->d, s[i]->loc, d[i - 1] ? "reshape() takes one -1 at most" : "a reshape() dimension must be "
                                                                                      "positive, or -1 for the rest");
      return -1;
    }
    if (d[i - 1] > SNG_MAX_TENSOR_ELEMS) {
      sng_diag_error(b->d, s[i]->loc, "reshape() dimension %lld is larger than a tensor may hold", (long long)d[i - 1]);
      return -1;
    }
  }
  if (!s[2] && s[3]) {
    sng_diag_error(b->d, s[3]->loc, "reshape() d3 needs d2");
    return -1;
  }
  if (!x) return -1;
  SngIrNode *y = sng_ir_op1(b->g, SNG_OP_RESHAPE, call->loc, x);
  y->attr.args.i[0] = nd;
  for (int i = 0; i < nd; i++) y->attr.args.i[1 + i] = d[i];
  out[0] = y;
  return 0;
}

/* flatten(x): [batch, the rest] */
int sng_std_build_flatten(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout) {
  static const char *const p[] = {"x"};
  const SngExpr *s[1];
  (void)nout;
  if (sng_std_bind(b, call, p, 1, s)) return -1;
  SngIrNode *x = sng_std_tensor(b, s[0]);
  if (!x) return -1;
  SngIrNode *y = sng_ir_op1(b->g, SNG_OP_RESHAPE, call->loc, x);
  y->attr.args.i[0] = 1, y->attr.args.i[1] = -1;
  out[0] = y;
  return 0;
}
