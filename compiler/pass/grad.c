/* grad.c - builds the backward pass as IR, from one gradient rule per op (the op table's
 * `grad` column), like tinygrad's pm_gradient or ggml's compute_backward.
 *
 * Reverse mode: nodes are visited from the loss back to the parameters; each rule reads the
 * gradient of its output (n->grad) and adds the gradients of its sources with acc(), which
 * sums when a tensor feeds several users.  Only sources that depend on a parameter get a
 * gradient (needs_grad), so no work is spent on the input's gradient.  The loss rule seeds
 * the pass: the loss reported is the mean over the batch, so its gradient carries 1/batch.
 */
#include "sng_pass.h"

typedef struct Grad { SngIrGraph *g; } Grad;
typedef void (*GradFn)(Grad *c, SngIrNode *n, SngIrNode *dy);

static SngIrNode *bwd(SngIrNode *n) {
  n->phase = SNG_PHASE_BWD;
  return n;
}

static void acc(Grad *c, SngIrNode *x, SngIrNode *dx) {
  if (!x->needs_grad) return;
  x->grad = x->grad ? bwd(sng_ir_op2(c->g, SNG_OP_ADD, x->loc, x->grad, dx)) : dx;
}

static SngIrNode *matmul(Grad *c, SngLoc loc, SngIrNode *a, SngIrNode *b, int ta, int tb) {
  SngIrNode *n = bwd(sng_ir_op2(c->g, SNG_OP_MATMUL, loc, a, b));
  n->attr.matmul.trans_a = ta, n->attr.matmul.trans_b = tb;
  return n;
}

static SngIrNode *as_shape(Grad *c, SngIrNode *dx, const SngIrNode *x, bool always); /* reshaped to x's (below) */

/* y = a b:    da = dy b^T, db = a^T dy
 * y = a b^T:  da = dy b,   db = dy^T a    (a weight used transposed: rbm's reconstruction) */
static void grad_matmul(Grad *c, SngIrNode *n, SngIrNode *dy) {
  SngIrNode *a = n->src[0], *b = n->src[1];
  int tb = n->attr.matmul.trans_b;
  SNG_ASSERT(!n->attr.matmul.trans_a); /* no forward op computes a^T b */
  if (a->needs_grad) acc(c, a, as_shape(c, matmul(c, n->loc, dy, b, 0, !tb), a, false)); /* an image batch: back to NCHW */
  if (b->needs_grad) acc(c, b, tb ? matmul(c, n->loc, dy, a, 1, 0) : matmul(c, n->loc, a, dy, 1, 0));
}

static void grad_bias_add(Grad *c, SngIrNode *n, SngIrNode *dy) {
  acc(c, n->src[0], dy);
  if (n->src[1]->needs_grad) acc(c, n->src[1], bwd(sng_ir_op1(c->g, SNG_OP_REDUCE_ROWS, n->loc, dy)));
}

static void grad_add(Grad *c, SngIrNode *n, SngIrNode *dy) {
  acc(c, n->src[0], dy);
  acc(c, n->src[1], dy);
}

static void grad_sub(Grad *c, SngIrNode *n, SngIrNode *dy) {
  acc(c, n->src[0], dy);
  if (n->src[1]->needs_grad)
    acc(c, n->src[1], bwd(sng_ir_op2(c->g, SNG_OP_MUL, n->loc, dy, bwd(sng_ir_const(c->g, n->loc, -1.0)))));
}

static void grad_mul(Grad *c, SngIrNode *n, SngIrNode *dy) {
  if (n->src[0]->needs_grad) acc(c, n->src[0], bwd(sng_ir_op2(c->g, SNG_OP_MUL, n->loc, dy, n->src[1])));
  if (n->src[1]->needs_grad) acc(c, n->src[1], bwd(sng_ir_op2(c->g, SNG_OP_MUL, n->loc, dy, n->src[0])));
}

static void grad_relu(Grad *c, SngIrNode *n, SngIrNode *dy) {
  acc(c, n->src[0], bwd(sng_ir_op2(c->g, SNG_OP_RELU_BWD, n->loc, dy, n)));
}

/* the seed: d(mean loss)/d logits = (softmax(logits) - onehot(labels)) / batch, where batch
 * is the whole batch: a worker holding some of its rows computes its share of the mean */
static void grad_softmax_xent(Grad *c, SngIrNode *n, SngIrNode *dy) {
  SNG_ASSERT(!dy); /* a loss is differentiated only as the net's loss */
  SngIrNode *g = bwd(sng_ir_op2(c->g, SNG_OP_SOFTMAX_XENT_BWD, n->loc, n->src[0], n->src[1]));
  g->attr.loss.scale = 1.0 / (double)(n->attr.loss.rows ? n->attr.loss.rows : n->shape.d[0]);
  acc(c, n->src[0], g);
}

/* Connection nodes (partition.c): a slice's gradient is padded back into its source's
 * shape (acc sums the pieces), a concat's is sliced, and a bridge's goes back over the
 * same link. */
static void grad_slice(Grad *c, SngIrNode *n, SngIrNode *dy) {
  SngIrNode *x = n->src[0];
  if (!x->needs_grad) return;
  SngIrNode *p = bwd(sng_ir_op1(c->g, SNG_OP_PAD, n->loc, dy));
  p->shape = x->shape;
  p->attr.slice = n->attr.slice;
  acc(c, x, p);
}

/* each source of a concat along dim gets its slice of dy */
static void concat_grads(Grad *c, SngIrNode *n, SngIrNode *dy, int dim) {
  int64_t at = 0;
  for (int i = 0; i < n->nsrc; i++) {
    SngIrNode *x = n->src[i];
    if (x->needs_grad) {
      SngIrNode *s = bwd(sng_ir_op1(c->g, SNG_OP_SLICE, n->loc, dy));
      s->shape = x->shape;
      s->attr.slice.start[dim] = at;
      acc(c, x, s);
    }
    at += x->shape.d[dim];
  }
}

static void grad_concat(Grad *c, SngIrNode *n, SngIrNode *dy) { concat_grads(c, n, dy, n->attr.concat.dim); }

static void grad_bridge(Grad *c, SngIrNode *n, SngIrNode *dy) {
  SngIrNode *x = n->src[0];
  if (!x->needs_grad) return;
  c->g->cur_worker = x->worker;
  SngIrNode *b = bwd(sng_ir_op1(c->g, SNG_OP_BRIDGE, n->loc, dy));
  b->attr.bridge.from = n->worker;
  acc(c, x, b);
  c->g->cur_worker = n->worker;
}

/* ---- issue 10: CNN ops (conv2d, pool, reshape, per-channel bias) ---- */

/* dx reshaped to x's shape: always, or if x is not a matrix (a dense() over an image batch) */
static SngIrNode *as_shape(Grad *c, SngIrNode *dx, const SngIrNode *x, bool always) {
  if (!always && x->shape.rank == 2) return dx;
  SngIrNode *r = bwd(sng_ir_op1(c->g, SNG_OP_RESHAPE, dx->loc, dx));
  r->attr.args.i[0] = x->shape.rank - 1;
  for (int i = 1; i < x->shape.rank; i++) r->attr.args.i[i] = x->shape.d[i];
  return r;
}

/* reshape: the gradient is reshaped back to the source's shape */
static void grad_reshape(Grad *c, SngIrNode *n, SngIrNode *dy) {
  if (n->src[0]->needs_grad) acc(c, n->src[0], as_shape(c, dy, n->src[0], true));
}

/* conv2d: dx = col2im(w^T dy), dw = dy col(x)^T, db = the per-channel sums of dy */
static void grad_conv(Grad *c, SngIrNode *n, SngIrNode *dy) {
  SngIrNode *x = n->src[0], *w = n->src[1];
  if (x->needs_grad) {
    SngIrNode *dx = bwd(sng_ir_op2(c->g, SNG_OP_CONV2D_BWD_DATA, n->loc, dy, w));
    dx->attr = n->attr;
    dx->attr.args.i[6] = x->shape.d[2], dx->attr.args.i[7] = x->shape.d[3];
    acc(c, x, dx);
  }
  if (w->needs_grad) {
    SngIrNode *dw = bwd(sng_ir_op2(c->g, SNG_OP_CONV2D_BWD_FILTER, n->loc, x, dy));
    dw->attr = n->attr;
    acc(c, w, dw);
  }
  if (n->nsrc == 3 && n->src[2]->needs_grad) acc(c, n->src[2], bwd(sng_ir_op1(c->g, SNG_OP_CHAN_SUM, n->loc, dy)));
}

/* pool: dy goes back to the window's max (the first one, as PyTorch) or spread over it (avg) */
static void grad_pool(Grad *c, SngIrNode *n, SngIrNode *dy) {
  SngIrNode *x = n->src[0];
  if (!x->needs_grad) return;
  SngIrNode *dx = bwd(sng_ir_op2(c->g, SNG_OP_POOL_BWD, n->loc, dy, x));
  dx->attr = n->attr;
  acc(c, x, dx);
}

/* ---- issue 10: activations, tensor ops, losses and metrics ---- */

static SngIrNode *op2(Grad *c, SngOp op, SngIrNode *n, SngIrNode *a, SngIrNode *b) {
  return bwd(sng_ir_op2(c->g, op, n->loc, a, b));
}
static SngIrNode *konst(Grad *c, SngIrNode *n, double v) { return bwd(sng_ir_const(c->g, n->loc, v)); }

/* d sigmoid = dy y (1 - y), from the output: elementwise ops that fuse with their neighbours */
static void grad_sigmoid(Grad *c, SngIrNode *n, SngIrNode *dy) {
  SngIrNode *d = op2(c, SNG_OP_MUL, n, n, op2(c, SNG_OP_SUB, n, konst(c, n, 1.0), n));
  acc(c, n->src[0], op2(c, SNG_OP_MUL, n, dy, d));
}

/* d tanh = dy (1 - y^2) */
static void grad_tanh(Grad *c, SngIrNode *n, SngIrNode *dy) {
  SngIrNode *d = op2(c, SNG_OP_SUB, n, konst(c, n, 1.0), op2(c, SNG_OP_MUL, n, n, n));
  acc(c, n->src[0], op2(c, SNG_OP_MUL, n, dy, d));
}

/* y = A tanh(B x): dx = dy A B (1 - tanh^2) = dy (B / A) (A^2 - y^2), from the output */
static void grad_stanh(Grad *c, SngIrNode *n, SngIrNode *dy) {
  const double a = SNG_STANH_A, b = SNG_STANH_B;
  SngIrNode *d = op2(c, SNG_OP_SUB, n, konst(c, n, a * a), op2(c, SNG_OP_MUL, n, n, n));
  acc(c, n->src[0], op2(c, SNG_OP_MUL, n, dy, op2(c, SNG_OP_MUL, n, d, konst(c, n, b / a))));
}

/* leaky_relu(x, slope): dx = x > 0 ? dy : slope dy, one fused op on (dy, x, slope) */
static void grad_leaky_relu(Grad *c, SngIrNode *n, SngIrNode *dy) {
  SngIrNode *src[3] = {dy, n->src[0], n->src[1]};
  acc(c, n->src[0], bwd(sng_ir_node(c->g, SNG_OP_LEAKY_RELU_BWD, n->loc, 3, src)));
}

/* d softplus = dy sigmoid(x) */
static void grad_softplus(Grad *c, SngIrNode *n, SngIrNode *dy) {
  acc(c, n->src[0], op2(c, SNG_OP_MUL, n, dy, bwd(sng_ir_op1(c->g, SNG_OP_SIGMOID, n->loc, n->src[0]))));
}

/* softmax: dx = y (dy - sum_j dy_j y_j) per row, one C kernel on (dy, y) */
static void grad_softmax(Grad *c, SngIrNode *n, SngIrNode *dy) {
  acc(c, n->src[0], op2(c, SNG_OP_SOFTMAX_BWD, n, dy, n));
}

/* concat(a, b, ..., dim): each source's gradient is its slice of dy (the connection ops') */
static void grad_concat_dim(Grad *c, SngIrNode *n, SngIrNode *dy) { concat_grads(c, n, dy, (int)n->attr.args.i[0]); }

/* slice(x, start, size, dim): dy padded back with zeros into x's shape */
static void grad_slice_dim(Grad *c, SngIrNode *n, SngIrNode *dy) {
  SngIrNode *x = n->src[0];
  if (!x->needs_grad) return;
  SngIrNode *p = bwd(sng_ir_op1(c->g, SNG_OP_PAD, n->loc, dy));
  p->shape = x->shape;
  p->attr.slice.start[n->attr.args.i[0]] = n->attr.args.i[1];
  acc(c, x, p);
}

/* embed(ids, table): the table's gradient scatters dy's rows into a zero [vocab, dim] (rows
 * of ids that occur twice add up); ids get none */
static void grad_embed(Grad *c, SngIrNode *n, SngIrNode *dy) {
  SngIrNode *w = n->src[1];
  if (!w->needs_grad) return;
  SngIrNode *g = op2(c, SNG_OP_EMBED_BWD, n, dy, n->src[0]);
  g->shape = w->shape;
  acc(c, w, g);
}

/* The losses' seeds, as elementwise ops that fuse into one kernel: `scale` is 1 / the whole
 * batch, as for softmax_cross_entropy. */
static double loss_scale(const SngIrNode *n) {
  return 1.0 / (double)(n->attr.loss.rows ? n->attr.loss.rows : n->shape.d[0]);
}

/* euclidean_loss(x, t) = sum_j (x - t)^2 per row: dx = 2 (x - t) / B, dt = -dx */
static void grad_euclidean(Grad *c, SngIrNode *n, SngIrNode *dy) {
  SNG_ASSERT(!dy);
  SngIrNode *d = op2(c, SNG_OP_SUB, n, n->src[0], n->src[1]);
  double s = 2 * loss_scale(n);
  if (n->src[0]->needs_grad) acc(c, n->src[0], op2(c, SNG_OP_MUL, n, d, konst(c, n, s)));
  if (n->src[1]->needs_grad) acc(c, n->src[1], op2(c, SNG_OP_MUL, n, d, konst(c, n, -s)));
}

/* sigmoid_cross_entropy(x, t): dx = (sigmoid(x) - t) / B, dt = -x / B */
static void grad_sigmoid_xent(Grad *c, SngIrNode *n, SngIrNode *dy) {
  SNG_ASSERT(!dy);
  SngIrNode *x = n->src[0], *t = n->src[1];
  double s = loss_scale(n);
  if (x->needs_grad) {
    SngIrNode *p = bwd(sng_ir_op1(c->g, SNG_OP_SIGMOID, n->loc, x));
    acc(c, x, op2(c, SNG_OP_MUL, n, op2(c, SNG_OP_SUB, n, p, t), konst(c, n, s)));
  }
  if (t->needs_grad) acc(c, t, op2(c, SNG_OP_MUL, n, x, konst(c, n, -s)));
}

/* ---- issue 10: normalisation and dropout (lrn, batchnorm, dropout) ---- */

static SngIrNode *with_args(Grad *c, SngOp op, SngIrNode *like, int nsrc, SngIrNode **src) {
  SngIrNode *b = bwd(sng_ir_node(c->g, op, like->loc, nsrc, src));
  b->attr = like->attr;
  return b;
}

/* the same mask (a pure function of the element's place and step) scales dy */
static void grad_dropout(Grad *c, SngIrNode *n, SngIrNode *dy) {
  if (n->src[0]->needs_grad) acc(c, n->src[0], with_args(c, SNG_OP_DROPOUT_BWD, n, 1, &dy));
}

static void grad_lrn(Grad *c, SngIrNode *n, SngIrNode *dy) {
  SngIrNode *s[2] = {dy, n->src[0]};
  if (n->src[0]->needs_grad) acc(c, n->src[0], with_args(c, SNG_OP_LRN_BWD, n, 2, s));
}

/* the row sums of x and x^2: dx = dS1 + 2 x dS2 */
static void grad_bn_stats(Grad *c, SngIrNode *n, SngIrNode *dy) {
  SngIrNode *s[2] = {n->src[0], dy};
  if (n->src[0]->needs_grad) acc(c, n->src[0], bwd(sng_ir_node(c->g, SNG_OP_BN_STATS_BWD, n->loc, 2, s)));
}

/* x directly (the statistics held), through the row sums (their gradient goes back to the
 * rows' owners), gamma, beta; the running statistics get their shares of the batch's sums,
 * which the servers average in instead of an update (docs/language.md, batchnorm) */
static void grad_batchnorm(Grad *c, SngIrNode *n, SngIrNode *dy) {
  SngIrNode *s[4] = {dy, n->src[0], n->src[1], n->src[2]};
  for (int which = 0; which < 6; which++) { /* which: the source n->src[which] it is the gradient of */
    SngIrNode *x = n->src[which];
    if (!x->needs_grad) continue;
    SngIrNode *b = with_args(c, SNG_OP_BN_BWD, n, 4, s);
    b->attr.args.i[0] = which;
    acc(c, x, b);
  }
}

/* ---- issue 10: energy models (rbm, sample; the cd algorithm's loss) ---- */

/* a sample is a function of its input and of (seed, step, place): a Gaussian N(p, 1) moves
 * with p (dx = dy); a Bernoulli draw is a step function of p, flat almost everywhere (no dx) */
static void grad_sample(Grad *c, SngIrNode *n, SngIrNode *dy) {
  if (n->attr.args.f[0] == 1) acc(c, n->src[0], dy);
}

/* contrastive divergence (reference.md §3, CDWorker): not the gradient of the reported loss
 * but SINGA's update direction, the data's statistics against the chain's, over the whole
 * batch:  dW = (v-^T h- - v+^T h+) / B,  db_h = sum (h- - h+) / B,  db_v = sum (v- - v+) / B.
 * Nothing flows into the chain itself (the samples are not differentiated). */
static void grad_cd_loss(Grad *c, SngIrNode *n, SngIrNode *dy) {
  SNG_ASSERT(!dy);
  SngIrNode *const *s = n->src; /* v+, h+, v-, h-, W, b_h, b_v, r1 */
  SngIrNode *k = konst(c, n, loss_scale(n));
  if (s[4]->needs_grad)
    acc(c, s[4], op2(c, SNG_OP_MUL, n, op2(c, SNG_OP_SUB, n, matmul(c, n->loc, s[2], s[3], 1, 0),
                                            matmul(c, n->loc, s[0], s[1], 1, 0)), k));
  for (int i = 0; i < 2; i++) { /* b_h from (h-, h+), b_v from (v-, v+) */
    SngIrNode *bias = s[5 + i], *neg = s[3 - i], *pos = s[1 - i];
    if (bias->needs_grad)
      acc(c, bias, bwd(sng_ir_op1(c->g, SNG_OP_REDUCE_ROWS, n->loc, op2(c, SNG_OP_MUL, n, op2(c, SNG_OP_SUB, n, neg, pos), k))));
  }
}

#define none NULL
static const GradFn grad_fn[SNG_OP__COUNT] = {
#define OP(name, nsrc, flags, shape, grad, ...) [SNG_OP_##name] = grad,
#include "ops.def"
#undef OP
};
#undef none

int sng_pass_grad(SngJob *job, SngDiag *d) {
  if (!job->loss) return -1;
  return sng_pass_grad_graph(job->net, d);
}

int sng_pass_grad_graph(SngIrGraph *g, SngDiag *d) {
  Grad c = {g};
  int nfwd = g->nnodes;
  for (int i = 0; i < nfwd; i++) {
    SngIrNode *n = g->nodes[i];
    n->needs_grad = n->op == SNG_OP_PARAM && !n->dead;
    for (int j = 0; j < n->nsrc && !sng_op_has(n->op, OPF_METRIC); j++) n->needs_grad |= n->src[j]->needs_grad;
  }
  /* every worker's piece of the loss seeds its own rows; nodes are visited in reverse order,
   * each rule building on the worker (and for the layer) of the node it differentiates */
  for (int i = nfwd - 1; i >= 0; i--) {
    SngIrNode *n = g->nodes[i];
    if (n->dead) continue;
    bool seed = sng_op_has(n->op, OPF_LOSS);
    if ((!n->grad && !seed) || !grad_fn[n->op]) continue;
    g->cur_worker = n->worker, g->cur_layer = n->layer;
    grad_fn[n->op](&c, n, seed ? NULL : n->grad);
  }
  g->cur_worker = 0, g->cur_layer = -1;
  for (int i = 0; i < nfwd; i++) {
    SngIrNode *p = g->nodes[i];
    if (p->op != SNG_OP_PARAM || p->dead) continue;
    if (!p->grad) { /* a parameter the loss does not depend on: nothing to train */
      sng_diag_error(d, p->loc, "parameter %s does not affect the loss", p->attr.param.whole ? p->attr.param.whole->name : p->name);
      return -1;
    }
    p->param_grad = p->grad;
    if (!p->grad->name) p->grad->name = sng_arena_printf(g->arena, "%s.grad", p->name);
  }
  return 0;
}
