/* layers.c - the built-in layers: each turns one call in a net into IR.
 *
 * A layer binds its arguments with sng_lctx_bind (so unknown options are errors with a
 * suggestion), evaluates its tensor inputs, creates its parameters and emits IR ops.  Shapes
 * are left to the shape pass, which reports mismatches at the layer's location.  Backward
 * rules are not here: they belong to the ops (compiler/pass/grad.c), so a layer made of
 * existing ops is differentiable for free.
 */
#include "sng_pass.h"

#include <math.h>
#include <string.h>

/* input(data) -> features [batch, ...], labels [batch] */
static int build_input(SngLayerCtx *c, const SngExpr *call, SngIrNode **out, int nout) {
  static const char *const p[] = {"data"};
  const SngExpr *s[1];
  (void)nout;
  if (sng_lctx_bind(c, call, p, 1, s)) return -1;
  const SngPlanData *d = sng_lctx_data(c, s[0]);
  if (!d) return -1;
  SngIrGraph *g = sng_lctx_graph(c);
  out[0] = sng_ir_input(g, call->loc, NULL, sng_shape2(d->batch, d->sample_dims[0]), 0);
  out[1] = sng_ir_input(g, call->loc, NULL, sng_shape1(d->batch), 1);
  out[1]->iattr[1] = d->classes; /* the labels' class count, checked by the loss */
  return 0;
}

/* Parameters left at init = auto follow PyTorch's nn.Linear: U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
static SngIrNode *param(SngLayerCtx *c, SngLoc loc, const char *name, SngShape s, const SngExpr *init,
                        double lr_mult, double wd_mult) {
  SngIrNode *n = sng_ir_param(sng_lctx_graph(c), loc, name, s);
  n->init.kind = SNG_INIT_AUTO;
  if (init && sng_lctx_init(c, init, &n->init)) return NULL;
  n->lr_mult = lr_mult, n->wd_mult = wd_mult;
  return n;
}

/* dense(x, units, init = auto, bias_init = auto, bias = true, lr_mult = 1, wd_mult = 1) */
static int build_dense(SngLayerCtx *c, const SngExpr *call, SngIrNode **out, int nout) {
  static const char *const p[] = {"x", "units", "init?", "bias_init?", "bias?", "lr_mult?", "wd_mult?"};
  const SngExpr *s[7];
  (void)nout;
  if (sng_lctx_bind(c, call, p, 7, s)) return -1;
  SngIrNode *x = sng_lctx_tensor(c, s[0]);
  int64_t units;
  int bias = 1;
  double lr_mult = 1, wd_mult = 1;
  if (sng_lctx_int(c, s[1], 1, &units) || (s[4] && sng_lctx_bool(c, s[4], &bias)) ||
      (s[5] && sng_lctx_number(c, s[5], &lr_mult)) || (s[6] && sng_lctx_number(c, s[6], &wd_mult)) || !x)
    return -1;
  if (x->shape.rank != 2) { /* input shapes are known by now; others are checked by the shape pass */
    if (x->op == SNG_OP_INPUT) {
      sng_diag_error(sng_lctx_diag(c), s[0]->loc, "dense() wants a [batch, features] tensor");
      return -1;
    }
  }
  const char *name = sng_lctx_unique(c, "dense");
  SngIrGraph *g = sng_lctx_graph(c);
  /* the weight's input size comes from x: the shape pass fills d[0] (0 = to infer) */
  SngIrNode *w = param(c, call->loc, sng_arena_printf(g->arena, "%s.w", name), sng_shape2(0, units), s[2], lr_mult, wd_mult);
  if (!w) return -1;
  SngIrNode *y = sng_ir_op2(g, SNG_OP_MATMUL, call->loc, x, w);
  if (bias) {
    SngIrNode *b = param(c, call->loc, sng_arena_printf(g->arena, "%s.b", name), sng_shape1(units), s[3], lr_mult, wd_mult);
    if (!b) return -1;
    y = sng_ir_op2(g, SNG_OP_BIAS_ADD, call->loc, y, b);
  }
  out[0] = y;
  return 0;
}

static int build_relu(SngLayerCtx *c, const SngExpr *call, SngIrNode **out, int nout) {
  static const char *const p[] = {"x"};
  const SngExpr *s[1];
  (void)nout;
  if (sng_lctx_bind(c, call, p, 1, s)) return -1;
  SngIrNode *x = sng_lctx_tensor(c, s[0]);
  if (!x) return -1;
  out[0] = sng_ir_op1(sng_lctx_graph(c), SNG_OP_RELU, call->loc, x);
  return 0;
}

/* softmax_cross_entropy(logits, labels): per-row loss; the reported loss is its mean */
static int build_two(SngLayerCtx *c, const SngExpr *call, SngIrNode **out, SngOp op) {
  static const char *const p[] = {"logits", "labels"};
  const SngExpr *s[2];
  if (sng_lctx_bind(c, call, p, 2, s)) return -1;
  SngIrNode *x = sng_lctx_tensor(c, s[0]), *y = sng_lctx_tensor(c, s[1]);
  if (!x || !y) return -1;
  out[0] = sng_ir_op2(sng_lctx_graph(c), op, call->loc, x, y);
  return 0;
}
static int build_sxent(SngLayerCtx *c, const SngExpr *call, SngIrNode **out, int nout) {
  (void)nout;
  return build_two(c, call, out, SNG_OP_SOFTMAX_XENT);
}
static int build_accuracy(SngLayerCtx *c, const SngExpr *call, SngIrNode **out, int nout) {
  (void)nout;
  return build_two(c, call, out, SNG_OP_ACCURACY);
}

const SngLayer sng_layers[] = {
  {"input", build_input, 2, "input(data): the batch's features and labels"},
  {"dense", build_dense, 1, "dense(x, units): x W + b (inner product)"},
  {"relu", build_relu, 1, "relu(x): max(x, 0)"},
  {"softmax_cross_entropy", build_sxent, 1, "softmax_cross_entropy(logits, labels): loss"},
  {"accuracy", build_accuracy, 1, "accuracy(logits, labels): top-1 accuracy"},
};
const int sng_nlayers = (int)(sizeof sng_layers / sizeof sng_layers[0]);

const SngLayer *sng_layer_find(const char *name) {
  for (int i = 0; i < sng_nlayers; i++)
    if (!strcmp(sng_layers[i].name, name)) return &sng_layers[i];
  return NULL;
}
