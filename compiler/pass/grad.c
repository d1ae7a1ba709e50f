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

/* y = op(a) op(b):  da = dy op(b)^T, db = op(a)^T dy  (for the untransposed forward case) */
static void grad_matmul(Grad *c, SngIrNode *n, SngIrNode *dy) {
  SngIrNode *a = n->src[0], *b = n->src[1];
  SNG_ASSERT(!n->attr.matmul.trans_a && !n->attr.matmul.trans_b); /* users write no transposes yet */
  if (a->needs_grad) acc(c, a, matmul(c, n->loc, dy, b, 0, 1));
  if (b->needs_grad) acc(c, b, matmul(c, n->loc, a, dy, 1, 0));
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

static void grad_concat(Grad *c, SngIrNode *n, SngIrNode *dy) {
  int dim = n->attr.concat.dim;
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
static void grad_concat_dim(Grad *c, SngIrNode *n, SngIrNode *dy) {
  int dim = (int)n->attr.args.i[0];
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
