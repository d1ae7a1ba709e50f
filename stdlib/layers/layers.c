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

#include <stdint.h>
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
  {"accuracy", sng_std_build_accuracy, 1, "accuracy(logits, labels, k = 1): top-k accuracy", "logits, labels, k = 1",
   "logits [N, C], labels [N] -> [N] (1 where the label is among the k top logits)", "batch: rows"},
  /* ---- issue 10: CNN ops (conv2d, pool, reshape, per-channel bias) ---- */
  {"conv2d", sng_std_build_conv2d, 1, "conv2d(x, filters, kernel = 3, stride = 1, pad = 0): 2-D convolution over NCHW",
   "x, filters, kernel = 3, kernel_h = kernel, kernel_w = kernel, stride = 1, stride_h = stride, stride_w = stride, pad = 0, pad_h = pad, pad_w = pad, bias = true, init = auto, bias_init = auto, lr_mult = 1, wd_mult = 1",
   "x [N, C, H, W] -> [N, filters, (H + 2 pad_h - kernel_h) / stride_h + 1, (W + 2 pad_w - kernel_w) / stride_w + 1]; "
   "w [filters, C*kernel_h*kernel_w], b [filters]",
   "batch: the samples, w and b whole; feature: the filters (output channels), x whole on every worker"},
  {"pool", sng_std_build_pool, 1, "pool(x, kernel = 2, stride = kernel, pad = 0, mode = max): max or avg pooling",
   "x, kernel = 2, kernel_h = kernel, kernel_w = kernel, stride = kernel, stride_h = stride, stride_w = stride, pad = 0, pad_h = pad, pad_w = pad, mode = max",
   "x [N, C, H, W] -> [N, C, (H + 2 pad_h - kernel_h) / stride_h + 1, (W + 2 pad_w - kernel_w) / stride_w + 1]",
   "batch: the samples; feature: the channels"},
  {"reshape", sng_std_build_reshape, 1, "reshape(x, d1, d2, d3): [batch, d1, ...], one -1 for the rest",
   "x, d1, d2 = none, d3 = none", "x [N, ...] -> [N, d1, d2, d3] (the same number of values)",
   "batch: the samples (feature means batch here: values move between channels)"},
  {"flatten", sng_std_build_flatten, 1, "flatten(x): [batch, the rest]", "x", "x [N, ...] -> [N, the rest]",
   "batch: the samples (feature means batch here)"},

  /* ---- issue 10: activations, tensor ops, losses and metrics ---- */
  {"sigmoid", sng_std_build_sigmoid, 1, "sigmoid(x): 1 / (1 + exp(-x))", "x", "x -> the same shape",
   "follows its input (elementwise)"},
  {"tanh", sng_std_build_tanh, 1, "tanh(x): the hyperbolic tangent", "x", "x -> the same shape",
   "follows its input (elementwise)"},
  {"stanh", sng_std_build_stanh, 1, "stanh(x): 1.7159047 tanh(0.66666667 x)", "x", "x -> the same shape", "follows its input (elementwise)"},
  {"leaky_relu", sng_std_build_leaky_relu, 1, "leaky_relu(x, slope = 0.01): x > 0 ? x : slope x", "x, slope = 0.01", "x -> the same shape",
   "follows its input (elementwise)"},
  {"softplus", sng_std_build_softplus, 1, "softplus(x): log(1 + exp(x))", "x", "x -> the same shape", "follows its input (elementwise)"},
  {"softmax", sng_std_build_softmax, 1, "softmax(x): exp(x) / sum exp(x) over the last dimension", "x",
   "x [N, ..., C] -> the same shape", "batch: rows only (feature on the call is an error)"},
  {"add", sng_std_build_add, 1, "add(a, b): a + b (a residual connection)", "a, b", "a, b of one shape -> that shape",
   "follows a's layout (b is moved to it)"},
  {"concat", sng_std_build_concat, 1, "concat(a, b, ..., dim = 1): tensors joined along a dimension",
   "a, b, c = none, d = none, e = none, f = none, g = none, h = none, dim = 1",
   "2 to 8 tensors agreeing but in dim (1 to 3) -> their sizes in dim summed", "batch: rows only"},
  {"slice", sng_std_build_slice, 1, "slice(x, start, size, dim = 1): one range of a dimension", "x, start, size, dim = 1",
   "x -> x with size in dim (1 to 3)", "batch: rows only"},
  {"split", sng_std_build_split, -1, "a, b, ... = split(x, dim = 1): equal pieces, one per name", "x, dim = 1",
   "x -> 2 to 8 pieces along dim, the first ones one larger when the size does not divide", "batch: rows only"},
  {"embed", sng_std_build_embed, 1, "embed(ids, vocab, dim): rows of a [vocab, dim] table",
   "ids, vocab, dim, init = auto, lr_mult = 1, wd_mult = 1", "ids [N] or [N, T] -> [N, dim] or [N, T, dim]; w [vocab, dim]",
   "batch: the ids, the table whole; feature: the table's columns, every id on every worker"},
  {"one_hot", sng_std_build_one_hot, 1, "one_hot(ids, classes): [batch] -> [batch, classes]", "ids, classes",
   "ids [N] or [N, T] -> [N, classes] or [N, T, classes]", "batch: rows only"},
  {"euclidean_loss", sng_std_build_euclidean, 1, "euclidean_loss(prediction, target): sum (x - t)^2 per row", "prediction, target",
   "prediction, target of one shape [N, ...] -> [N]", "batch: rows"},
  {"sigmoid_cross_entropy", sng_std_build_sigmoid_xent, 1, "sigmoid_cross_entropy(logits, targets): loss", "prediction, target",
   "logits, targets of one shape [N, ...] -> [N]", "batch: rows"},

  /* gru, lstm */
  {"gru", sng_std_build_gru, 1, "gru(x, h, units): one step of PyTorch's GRUCell -> h'",
   "x, h, units, init = auto, bias_init = auto, bias = true, lr_mult = 1, wd_mult = 1",
   "x [N, ...] (seen as [N, n]), h [N, units] -> h' [N, units]; per gate wx [n, units], wh [units, units], bx, bh [units]",
   "batch: the samples; feature: every gate's units, x and h whole on every worker"},
  {"lstm", sng_std_build_lstm, 2, "lstm(x, h, c, units): one step of PyTorch's LSTMCell -> h', c'",
   "x, h, c, units, init = auto, bias_init = auto, bias = true, lr_mult = 1, wd_mult = 1",
   "x [N, ...] (seen as [N, n]), h, c [N, units] -> h', c' [N, units]; per gate wx [n, units], wh [units, units], bx, bh [units]",
   "batch: the samples; feature: every gate's units, x, h and c whole on every worker"},

  /* ---- issue 10: normalisation and dropout (lrn, batchnorm, dropout) ---- */
  {"dropout", sng_std_build_dropout, 1, "dropout(x, ratio = 0.5): inverted dropout in training, identity in tests", "x, ratio = 0.5",
   "x -> the same shape", "follows its input (batch and feature both split it)"},
  {"lrn", sng_std_build_lrn, 1, "lrn(x, size = 5, alpha = 1e-4, beta = 0.75, k = 1): local response norm across channels",
   "x, size = 5, alpha = 1e-4, beta = 0.75, k = 1", "x [N, C, ...] -> the same shape",
   "batch: rows only (feature on the call is an error: a channel needs its neighbours)"},
  {"batchnorm", sng_std_build_batchnorm, 1, "batchnorm(x, momentum = 0.1, eps = 1e-5): batch normalisation per channel", "x, momentum = 0.1, eps = 1e-5",
   "x [N, C, ...] -> the same shape; gamma, beta, running_mean, running_var [C]",
   "batch: rows, the whole batch's statistics gathered to every worker; feature: the channels"},

  /* ---- issue 10: energy models (rbm, sample) ---- */
  {"rbm", sng_std_build_rbm, 1, "rbm(v, units): a restricted Boltzmann machine; p(h | v), trained by cd",
   "v, units, hidden = bernoulli, visible = bernoulli, init = gaussian(0, 0.01), bias_init = constant(0), lr_mult = 1, wd_mult = 1",
   "v [N, ...] (seen as [N, V]) -> p(h | v) [N, units]; w [V, units], bh [units], bv [V] (made under cd only)",
   "batch: rows, w and the biases whole on every worker (the Gibbs chain is per row); feature: as dense under bp, "
   "an error under cd"},
  {"sample", sng_std_build_sample, 1, "sample(p, dist = bernoulli): stochastic units; 1 with probability p, or p + N(0, 1)",
   "p, dist = bernoulli", "p -> the same shape", "follows its input (batch and feature both split it)"},

};
const int sng_std_nlayers = (int)(sizeof sng_std_layers / sizeof sng_std_layers[0]);

const SngLayer *sng_std_layer_find(const char *name) {
  for (int i = 0; i < sng_std_nlayers; i++)
    if (!strcmp(sng_std_layers[i].name, name)) return &sng_std_layers[i];
  return NULL;
}

/* lr_mult and wd_mult, read from the expressions lr and wd (NULL: absent), are >= 0; else
 * the first negative one is reported at its argument. */
int sng_std_check_mults(SngBuilder *b, const SngExpr *lr, const SngExpr *wd, double lr_mult, double wd_mult) {
  if (lr_mult >= 0 && wd_mult >= 0) return 0;
  const SngExpr *e = lr_mult < 0 ? lr : wd;
  sng_diag_error(b->d, e->loc, "%s must be >= 0, got %g", lr_mult < 0 ? "lr_mult" : "wd_mult",
                 lr_mult < 0 ? lr_mult : wd_mult);
  return -1;
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

/* An optional word argument e: *out = 0 for the first of two choices (and when e is absent),
 * 1 for the second; anything else is reported at e as "WHAT must be C0 or C1". */
int sng_std_choice(SngBuilder *b, const char *what, const SngExpr *e, const char *c0, const char *c1, int *out) {
  *out = 0;
  if (!e) return 0;
  bool word = (e->kind == SNG_EX_IDENT || e->kind == SNG_EX_STR) && e->str;
  if (word && (!strcmp(e->str, c0) || !strcmp(e->str, c1))) {
    *out = !strcmp(e->str, c1);
    return 0;
  }
  sng_diag_error(b->d, e->loc, "%s must be %s or %s", what, c0, c1);
  return -1;
}

/* a salt that tells two layers' keyed draws apart (dropout masks, samples): FNV-1a of the
 * layer's name, exact in a double */
double sng_std_salt(const char *name) {
  uint32_t h = 2166136261u;
  for (; *name; name++) h = (h ^ (uint8_t)*name) * 16777619u;
  return (double)h;
}
