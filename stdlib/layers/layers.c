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
  {"accuracy", sng_std_build_accuracy, 1, "accuracy(logits, labels, k = 1): top-k accuracy"},
  /* ---- issue 10: CNN ops (conv2d, pool, reshape, per-channel bias) ---- */

  /* ---- issue 10: activations, tensor ops, losses and metrics ---- */
  {"sigmoid", sng_std_build_sigmoid, 1, "sigmoid(x): 1 / (1 + exp(-x))"},
  {"tanh", sng_std_build_tanh, 1, "tanh(x): the hyperbolic tangent"},
  {"stanh", sng_std_build_stanh, 1, "stanh(x): 1.7159047 tanh(0.66666667 x)"},
  {"leaky_relu", sng_std_build_leaky_relu, 1, "leaky_relu(x, slope = 0.01): x > 0 ? x : slope x"},
  {"softplus", sng_std_build_softplus, 1, "softplus(x): log(1 + exp(x))"},
  {"softmax", sng_std_build_softmax, 1, "softmax(x): exp(x) / sum exp(x) over the last dimension"},
  {"add", sng_std_build_add, 1, "add(a, b): a + b (a residual connection)"},
  {"concat", sng_std_build_concat, 1, "concat(a, b, ..., dim = 1): tensors joined along a dimension"},
  {"slice", sng_std_build_slice, 1, "slice(x, start, size, dim = 1): one range of a dimension"},
  {"split", sng_std_build_split, -1, "a, b, ... = split(x, dim = 1): equal pieces, one per name"},
  {"embed", sng_std_build_embed, 1, "embed(ids, vocab, dim): rows of a [vocab, dim] table"},
  {"one_hot", sng_std_build_one_hot, 1, "one_hot(ids, classes): [batch] -> [batch, classes]"},
  {"euclidean_loss", sng_std_build_euclidean, 1, "euclidean_loss(prediction, target): sum (x - t)^2 per row"},
  {"sigmoid_cross_entropy", sng_std_build_sigmoid_xent, 1, "sigmoid_cross_entropy(logits, targets): loss"},

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
