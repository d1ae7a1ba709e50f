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
  {"input", sng_std_build_input, 2, "input(data): the batch's features and labels", "data",
   "-> x [N, 1, rows, cols] (N = the data block's batch), y [N] (class indices)",
   "batch: each worker reads its rows; feature: every worker reads the whole batch"},
  {"dense", sng_std_build_dense, 1, "dense(x, units): x W + b (inner product)",
   "x, units, init = auto, bias_init = auto, bias = true, lr_mult = 1, wd_mult = 1",
   "x [N, ...] (seen as [N, K]) -> [N, units]; W [K, units], b [units]",
   "batch: rows of x, W and b whole on every worker; feature: the units (columns of W and b), x whole"},
  {"relu", sng_std_build_relu, 1, "relu(x): max(x, 0)", "x", "x -> the same shape", "follows its input"},
  {"softmax_cross_entropy", sng_std_build_sxent, 1, "softmax_cross_entropy(logits, labels): loss", "logits, labels",
   "logits [N, C], labels [N] -> [N] (one loss a row; the reported loss is the mean)", "batch: rows"},
  {"accuracy", sng_std_build_accuracy, 1, "accuracy(logits, labels): top-1 accuracy", "logits, labels",
   "logits [N, C], labels [N] -> [N] (1 where the top logit is the label)", "batch: rows"},
  /* ---- issue 10: CNN ops (conv2d, pool, reshape, per-channel bias) ---- */
  {"conv2d", sng_std_build_conv2d, 1, "conv2d(x, filters, kernel = 3, stride = 1, pad = 0): 2-D convolution over NCHW"},
  {"pool", sng_std_build_pool, 1, "pool(x, kernel = 2, stride = kernel, pad = 0, mode = max): max or avg pooling"},
  {"reshape", sng_std_build_reshape, 1, "reshape(x, d1, d2, d3): [batch, d1, ...], one -1 for the rest"},
  {"flatten", sng_std_build_flatten, 1, "flatten(x): [batch, the rest]"},

  /* ---- issue 10: activations, tensor ops, losses and metrics ---- */
  {"sigmoid", sng_std_build_sigmoid, 1, "sigmoid(x): 1 / (1 + exp(-x))"},
  {"tanh", sng_std_build_tanh, 1, "tanh(x): the hyperbolic tangent"},

  /* gru, lstm */
  {"gru", sng_std_build_gru, 1, "gru(x, h, units): one step of PyTorch's GRUCell -> h'"},
  {"lstm", sng_std_build_lstm, 2, "lstm(x, h, c, units): one step of PyTorch's LSTMCell -> h', c'"},

  /* ---- issue 10: normalisation and dropout (lrn, batchnorm, dropout) ---- */

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
