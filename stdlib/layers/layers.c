/* layers.c - the table of built-in layers, and what their builders share.
 *
 * A layer binds its arguments with sng_std_bind (so unknown options are errors with a
 * suggestion), evaluates its tensor inputs, creates its parameters and emits IR ops, one
 * layer per file.  Shapes are left to the shape pass, which reports mismatches at the
 * layer's location.  Backward rules are not here: they belong to the ops
 * (stdlib/ops.def, compiler/pass/grad.c), so a layer made of existing ops is differentiable
 * for free.
 */
#include "internal.h"

#include <string.h>

const SngLayer sng_std_layers[] = {
  {"input", sng_std_build_input, 2, "input(data): the batch's features and labels"},
  {"dense", sng_std_build_dense, 1, "dense(x, units): x W + b (inner product)"},
  {"relu", sng_std_build_relu, 1, "relu(x): max(x, 0)"},
  {"softmax_cross_entropy", sng_std_build_sxent, 1, "softmax_cross_entropy(logits, labels): loss"},
  {"accuracy", sng_std_build_accuracy, 1, "accuracy(logits, labels): top-1 accuracy"},
  /* ---- issue 10: CNN ops (conv2d, pool, reshape, per-channel bias) ---- */
  {"conv2d", sng_std_build_conv2d, 1, "conv2d(x, filters, kernel = 3, stride = 1, pad = 0): 2-D convolution over NCHW"},
  {"pool", sng_std_build_pool, 1, "pool(x, kernel = 2, stride = kernel, pad = 0, mode = max): max or avg pooling"},
  {"reshape", sng_std_build_reshape, 1, "reshape(x, d1, d2, d3): [batch, d1, ...], one -1 for the rest"},
  {"flatten", sng_std_build_flatten, 1, "flatten(x): [batch, the rest]"},

  /* ---- issue 10: activations, tensor ops, losses and metrics ---- */

  /* ---- issue 10: normalisation and dropout (lrn, batchnorm, dropout) ---- */
  {"dropout", sng_std_build_dropout, 1, "dropout(x, ratio = 0.5): inverted dropout in training, identity in tests"},
  {"lrn", sng_std_build_lrn, 1, "lrn(x, size = 5, alpha = 1e-4, beta = 0.75, k = 1): local response norm across channels"},
  {"batchnorm", sng_std_build_batchnorm, 1, "batchnorm(x, momentum = 0.1, eps = 1e-5): batch normalisation per channel"},

};
const int sng_std_nlayers = (int)(sizeof sng_std_layers / sizeof sng_std_layers[0]);

const SngLayer *sng_std_layer_find(const char *name) {
  for (int i = 0; i < sng_std_nlayers; i++)
    if (!strcmp(sng_std_layers[i].name, name)) return &sng_std_layers[i];
  return NULL;
}

/* Parameters left at init = auto follow PyTorch's nn.Linear: U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
SngIrNode *sng_std_param(SngBuilder *b, SngLoc loc, const char *name, SngShape s, const SngExpr *init,
                         double lr_mult, double wd_mult) {
  SngIrNode *n = sng_ir_param(b->g, loc, name, s);
  n->init.kind = SNG_INIT_AUTO;
  if (init && sng_std_init(b, init, &n->init)) return NULL;
  n->lr_mult = lr_mult, n->wd_mult = wd_mult;
  return n;
}
