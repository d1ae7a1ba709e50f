/* shape.c - shape inference, the compiler's type checker (chibicc's add_type as a pass).
 *
 * One function per shape rule, chosen through the op table's `shape` column.  A mismatch is
 * reported at the .sng location of the op with both shapes, and the pass goes on so that
 * every mismatch in the file is reported; a node whose sources failed stays unshaped and is
 * skipped.  Parameters whose input size the user did not write (dense's weight) get it here,
 * and so do their default initialisers, which depend on that fan-in.
 *
 * Sizes are checked here too: every tensor a node makes, and every weight it fills in, is at
 * most SNG_MAX_TENSOR_ELEMS values and every matrix product dimension fits BLAS's int, so the
 * passes after this one multiply sizes without overflow (docs/language.md, "Limits").
 */
#include "sng_pass.h"

#include <math.h>
#include <string.h>

typedef int (*ShapeFn)(SngIrNode *n, SngDiag *d);

static bool known(const SngIrNode *n) {
  if (n->shape.rank == 0) return sng_op_has(n->op, OPF_SCALAR);
  for (int i = 0; i < n->shape.rank; i++)
    if (n->shape.d[i] <= 0) return false;
  return true;
}

static const char *sh(SngShape s, char *b) { return sng_shape_str(s, b, 64); }
static const char *lname(const SngIrNode *n) {
  return n->op == SNG_OP_PARAM || n->op == SNG_OP_INPUT ? "input" : sng_op_info[n->op].name;
}

/* A tensor of shape s made at loc: too large is an error there.  Products are in double for
 * the message, since the exact one may overflow. */
static int fits(SngShape s, SngLoc loc, const char *what, SngDiag *d) {
  if (sng_shape_numel_checked(s) >= 0) return 0;
  double v = 1;
  char x[64];
  for (int i = 0; i < s.rank; i++) v *= (double)s.d[i];
  sng_diag_error(d, loc, "%s %s has %.4g values, more than a tensor may hold (2^38 = %lld)", what, sh(s, x), v,
                 (long long)SNG_MAX_TENSOR_ELEMS);
  return -1;
}

static int shape_scalar(SngIrNode *n, SngDiag *d) {
  (void)d;
  n->shape = (SngShape){0, {0}};
  return 0;
}

/* A parameter's fans, from the shape rule of the op that uses it (a weight [fan_in, units]:
 * fan_in, units; a conv filter bank: C*k*k, filters*k*k; a bias: its weight's), and the
 * initialisers that depend on them, turned into uniform or gaussian bounds here
 * (docs/language.md "Initialisers"):
 *   auto                       U(-1/sqrt(fan_in), 1/sqrt(fan_in))  (PyTorch's nn.Linear, nn.Conv2d)
 *   xavier_uniform(gain)       U(-b, b), b = gain sqrt(6 / (fan_in + fan_out))
 *   xavier_normal(gain)        N(0, gain sqrt(2 / (fan_in + fan_out)))
 *   he_uniform                 U(-b, b), b = sqrt(6 / fan_in)   (kaiming_uniform_, a = 0, fan_in)
 *   he_normal                  N(0, sqrt(2 / fan_in))
 *   uniform_sqrt_fan_in(l, h)  U(l, h) / sqrt(fan_in / 3)        (SINGA kUniformSqrtFanIn)
 *   gaussian_sqrt_fan_in(m, s) N(m, s) / sqrt(fan_in)            (SINGA kGaussianSqrtFanIn)
 *   uniform_sqrt_fan_in_out(l, h) U(l, h) / sqrt(fan_in + fan_out) (SINGA kUniformSqrtFanInOut) */
static void fans(SngIrNode *p, int64_t fan_in, int64_t fan_out) {
  if (p->op != SNG_OP_PARAM) return;
  p->fan_in = fan_in, p->fan_out = fan_out;
  double fi = (double)fan_in, fo = (double)fan_out, a = p->init.a, b = p->init.b, r;
  switch (p->init.kind) {
  case SNG_INIT_AUTO: r = 1.0 / sqrt(fi); p->init = (SngInit){SNG_INIT_UNIFORM, -r, r}; break;
  case SNG_INIT_XAVIER_UNIFORM: r = a * sqrt(6.0 / (fi + fo)); p->init = (SngInit){SNG_INIT_UNIFORM, -r, r}; break;
  case SNG_INIT_XAVIER_NORMAL: p->init = (SngInit){SNG_INIT_GAUSSIAN, 0, a * sqrt(2.0 / (fi + fo))}; break;
  case SNG_INIT_HE_UNIFORM: r = sqrt(6.0 / fi); p->init = (SngInit){SNG_INIT_UNIFORM, -r, r}; break;
  case SNG_INIT_HE_NORMAL: p->init = (SngInit){SNG_INIT_GAUSSIAN, 0, sqrt(2.0 / fi)}; break;
  case SNG_INIT_UNIFORM_SQRT_FAN_IN: r = sqrt(fi / 3); p->init = (SngInit){SNG_INIT_UNIFORM, a / r, b / r}; break;
  case SNG_INIT_GAUSSIAN_SQRT_FAN_IN: r = sqrt(fi); p->init = (SngInit){SNG_INIT_GAUSSIAN, a / r, b / r}; break;
  case SNG_INIT_UNIFORM_SQRT_FAN_IN_OUT: r = sqrt(fi + fo); p->init = (SngInit){SNG_INIT_UNIFORM, a / r, b / r}; break;
  default: break;
  }
}

/* a named initialiser still unresolved after the shape rules ran: the param's layer records
 * no fans */
static int unresolved(const SngIrNode *p, SngDiag *d) {
  if (p->op != SNG_OP_PARAM || p->dead || p->init.kind <= SNG_INIT_GAUSSIAN || !known(p)) return 0;
  sng_diag_error(d, p->loc, "%s: this initialiser needs the fan-in and fan-out, which this layer does not record",
                 p->name ? p->name : "a parameter");
  return -1;
}

/* A matrix product sees a tensor of rank >= 2 as [d0, the rest]: an image batch
 * [64,28,28] is [64,784] to dense(). */
static SngShape view2(SngShape s) {
  return s.rank >= 2 ? sng_shape2(s.d[0], sng_shape_numel(s) / s.d[0]) : s;
}

static int shape_matmul(SngIrNode *n, SngDiag *d) {
  SngIrNode *a = n->src[0], *b = n->src[1];
  char x[64], y[64];
  int ta = n->attr.matmul.trans_a, tb = n->attr.matmul.trans_b;
  if (b->op == SNG_OP_PARAM && b->shape.rank == 2 && b->shape.d[0] == 0 && a->shape.rank >= 2)
    b->shape.d[0] = view2(a->shape).d[ta ? 0 : 1]; /* dense: the weight's fan-in comes from x */
  if (a->shape.rank < 2 || b->shape.rank < 2) {
    sng_diag_error(d, n->loc, "dense() wants a [batch, features] input; got %s", sh(a->shape, x));
    return -1;
  }
  if (b->op == SNG_OP_PARAM && b->name && fits(b->shape, n->loc, b->name, d)) return -1;
  SngShape va = view2(a->shape), vb = view2(b->shape);
  int64_t m = va.d[ta ? 1 : 0], ka = va.d[ta ? 0 : 1];
  int64_t kb = vb.d[tb ? 1 : 0], nn = vb.d[tb ? 0 : 1];
  if (ka != kb) {
    sng_diag_error(d, n->loc, "matrix product of %s and %s: inner sizes %lld and %lld differ", sh(a->shape, x),
                   sh(b->shape, y), (long long)ka, (long long)kb);
    return -1;
  }
  if (m > SNG_MAX_GEMM_DIM || ka > SNG_MAX_GEMM_DIM || nn > SNG_MAX_GEMM_DIM) {
    sng_diag_error(d, n->loc, "matrix product of %s and %s: a dimension is larger than %lld (BLAS's int)",
                   sh(va, x), sh(vb, y), (long long)SNG_MAX_GEMM_DIM);
    return -1;
  }
  if (!ta && !tb) fans(b, ka, nn); /* a transposed product (backward, rbm) reuses a weight laid out for another */
  n->shape = sng_shape2(m, nn);
  return 0;
}

static int shape_first(SngIrNode *n, SngDiag *d) {
  SngIrNode *a = n->src[0];
  char x[64], y[64];
  if (sng_op_has(n->op, OPF_BIAS)) {
    SngIrNode *b = n->src[1];
    if (b->op == SNG_OP_PARAM && b->shape.rank == 1 && b->shape.d[0] == 0 && a->shape.rank >= 1)
      b->shape.d[0] = a->shape.d[a->shape.rank - 1]; /* rbm's visible bias: its size comes from the input */
    if (a->shape.rank < 1 || b->shape.rank != 1 || b->shape.d[0] != a->shape.d[a->shape.rank - 1]) {
      sng_diag_error(d, n->loc, "bias %s does not match the last dimension of %s", sh(b->shape, x), sh(a->shape, y));
      return -1;
    }
    if (a->op == SNG_OP_MATMUL && b->op == SNG_OP_PARAM && a->src[1]->op == SNG_OP_PARAM)
      fans(b, a->src[1]->fan_in, a->src[1]->fan_out);
  } else if (n->nsrc == 2 && !sng_shape_eq(a->shape, n->src[1]->shape)) {
    sng_diag_error(d, n->loc, "%s of %s and %s: shapes differ", sng_op_info[n->op].name, sh(a->shape, x),
                   sh(n->src[1]->shape, y));
    return -1;
  }
  n->shape = a->shape;
  return 0;
}

/* the first source's shape, whatever the others are (a bridge; the loss gradient) */
static int shape_src0(SngIrNode *n, SngDiag *d) {
  (void)d;
  n->shape = n->src[0]->shape;
  return 0;
}

/* set when the node was made (slice, pad): checked, never changed */
static int shape_given(SngIrNode *n, SngDiag *d) {
  (void)d;
  SngShape s = n->src[0]->shape;
  SngShape small = n->op == SNG_OP_SLICE ? n->shape : s, big = n->op == SNG_OP_SLICE ? s : n->shape;
  SNG_ASSERT(small.rank == big.rank);
  for (int i = 0; i < big.rank; i++)
    SNG_ASSERT(n->attr.slice.start[i] >= 0 && n->attr.slice.start[i] + small.d[i] <= big.d[i]);
  return 0;
}

/* the sources joined along one dimension; the others agree */
static int shape_concat(SngIrNode *n, SngDiag *d) {
  (void)d;
  int dim = n->attr.concat.dim;
  SngShape s = n->src[0]->shape;
  for (int i = 1; i < n->nsrc; i++) {
    SngShape t = n->src[i]->shape;
    SNG_ASSERT(t.rank == s.rank && dim < s.rank);
    for (int j = 0; j < s.rank; j++) SNG_ASSERT(j == dim || t.d[j] == s.d[j]);
    s.d[dim] += t.d[dim];
  }
  n->shape = s;
  return 0;
}

static int shape_bcast(SngIrNode *n, SngDiag *d) {
  SngShape a = n->src[0]->shape, b = n->src[1]->shape;
  char x[64], y[64];
  if (sng_shape_eq(a, b) || b.rank == 0) n->shape = a;
  else if (a.rank == 0) n->shape = b;
  else {
    sng_diag_error(d, n->loc, "%s of %s and %s: shapes differ", sng_op_info[n->op].name, sh(a, x), sh(b, y));
    return -1;
  }
  return 0;
}

static int shape_colsum(SngIrNode *n, SngDiag *d) {
  (void)d;
  SngShape a = n->src[0]->shape;
  n->shape = sng_shape1(a.d[a.rank - 1]);
  return 0;
}

/* (logits [batch, classes], labels [batch]) -> one value per row */
static int shape_rows(SngIrNode *n, SngDiag *d) {
  SngIrNode *x = n->src[0], *y = n->src[1];
  char a[64];
  const char *what = n->op == SNG_OP_ACCURACY ? "accuracy" : "softmax_cross_entropy";
  /* after partitioning the labels may come through a slice or a bridge: checked before */
  bool labels = y->op == SNG_OP_INPUT && y->attr.input.slot == 1;
  if (!labels && !sng_op_has(y->op, OPF_CONN)) {
    sng_diag_error(d, n->loc, "%s wants labels from input() as its second argument", what);
    return -1;
  }
  int64_t classes = labels ? y->attr.input.classes : x->shape.d[1];
  if (x->shape.rank != 2 || x->shape.d[0] != y->shape.d[0]) {
    sng_diag_error(d, n->loc, "%s(%s) has shape %s; %s wants [batch, classes] = [%lld,%lld]", lname(x),
                   x->name ? x->name : "", sh(x->shape, a), what, (long long)y->shape.d[0], (long long)classes);
    return -1;
  }
  if (x->shape.d[1] != classes) {
    sng_diag_error(d, n->loc, "%s gets %lld scores per sample, but the labels have %lld classes", what,
                   (long long)x->shape.d[1], (long long)classes);
    sng_diag_hint(d, "the dense() that makes its scores should have %lld units, one per class", (long long)classes);
    return -1;
  }
  n->shape = sng_shape1(x->shape.d[0]);
  return 0;
}

/* ---- issue 10: CNN ops (conv2d, pool, reshape, per-channel bias) ---- */

/* reshape(x, dims...): [batch, dims...], one dimension of -1 inferred (flatten: [batch, -1]);
 * args i[0] = the number of dims after the batch, i[1..3] the dims.  The batch is kept, so
 * a worker's piece of the batch reshapes alone. */
static int shape_reshape(SngIrNode *n, SngDiag *d) {
  SngShape s = n->src[0]->shape, o = {1 + (int)n->attr.args.i[0], {s.d[0]}};
  char x[64];
  int64_t rest = s.d[0] ? sng_shape_numel(s) / s.d[0] : 0, known_ = 1, infer = -1;
  for (int i = 1; i < o.rank; i++) {
    o.d[i] = n->attr.args.i[i];
    if (o.d[i] < 0) infer = i;
    else known_ *= o.d[i];
  }
  if (infer >= 0 && known_ > 0 && rest % known_ == 0) o.d[infer] = rest / known_, known_ = rest;
  if (known_ != rest) {
    sng_diag_error(d, n->loc, "reshape of %s: %lld values per sample cannot be %s", sh(s, x), (long long)rest,
                   infer >= 0 ? "split that way" : "reshaped to that size");
    return -1;
  }
  n->shape = o;
  return 0;
}

/* The output size of a window of k with stride st over n padded by p each side; <= 0 if the
 * window does not fit. */
static int64_t window_out(int64_t n, int64_t k, int64_t st, int64_t p) {
  return n + 2 * p < k ? 0 : (n + 2 * p - k) / st + 1;
}

/* conv2d and pool: x is [N, C, H, W] and the window fits the padded image */
static int window_check(SngIrNode *n, const char *what, SngDiag *d, int64_t *oh, int64_t *ow) {
  SngShape s = n->src[0]->shape;
  const int64_t *a = n->attr.args.i;
  char x[64];
  if (s.rank != 4) {
    sng_diag_error(d, n->loc, "%s wants [batch, channels, height, width]; got %s", what, sh(s, x));
    return -1;
  }
  *oh = window_out(s.d[2], a[0], a[2], a[4]), *ow = window_out(s.d[3], a[1], a[3], a[5]);
  if (*oh <= 0 || *ow <= 0) {
    sng_diag_error(d, n->loc, "%s: the kernel %lldx%lld is larger than the padded input %lldx%lld (%s, pad %lldx%lld)",
                   what, (long long)a[0], (long long)a[1], (long long)(s.d[2] + 2 * a[4]),
                   (long long)(s.d[3] + 2 * a[5]), sh(s, x), (long long)a[4], (long long)a[5]);
    return -1;
  }
  return 0;
}

/* conv2d(x [N,C,H,W], w [F, C*kh*kw] (C*kh*kw filled here), b [F]?) -> [N, F, OH, OW] */
static int shape_conv(SngIrNode *n, SngDiag *d) {
  SngIrNode *x = n->src[0], *w = n->src[1];
  const int64_t *a = n->attr.args.i;
  int64_t oh, ow;
  char s1[64], s2[64];
  if (window_check(n, "conv2d", d, &oh, &ow)) return -1;
  int64_t ckk = x->shape.d[1] * a[0] * a[1];
  if (w->op == SNG_OP_PARAM && w->shape.rank == 2 && w->shape.d[1] == 0) w->shape.d[1] = ckk;
  if (w->shape.rank != 2 || w->shape.d[1] != ckk) {
    sng_diag_error(d, n->loc, "conv2d: filters %s do not fit %s with a %lldx%lld kernel (want [filters, %lld])",
                   sh(w->shape, s1), sh(x->shape, s2), (long long)a[0], (long long)a[1], (long long)ckk);
    return -1;
  }
  if (ckk > SNG_MAX_GEMM_DIM || oh * ow > SNG_MAX_GEMM_DIM) {
    sng_diag_error(d, n->loc, "conv2d: a matrix dimension of %s is larger than %lld (BLAS's int)", sh(x->shape, s1),
                   (long long)SNG_MAX_GEMM_DIM);
    return -1;
  }
  if (w->op == SNG_OP_PARAM && w->name && fits(w->shape, n->loc, w->name, d)) return -1;
  int64_t f = w->shape.d[0];
  if (n->nsrc == 3 && (n->src[2]->shape.rank != 1 || n->src[2]->shape.d[0] != f)) {
    sng_diag_error(d, n->loc, "conv2d: bias %s does not match %lld filters", sh(n->src[2]->shape, s1), (long long)f);
    return -1;
  }
  if (!w->fan_in) { /* the whole net's weight (a worker's piece has them from it) */
    fans(w, ckk, f * a[0] * a[1]);
    if (n->nsrc == 3) fans(n->src[2], ckk, f * a[0] * a[1]);
  }
  n->shape = (SngShape){4, {x->shape.d[0], f, oh, ow}};
  return 0;
}

/* conv2d's input gradient (dy [N,F,OH,OW], w [F, C*kh*kw]) -> [N, C, H, W]; H, W in args i[6..7] */
static int shape_conv_dx(SngIrNode *n, SngDiag *d) {
  (void)d;
  const int64_t *a = n->attr.args.i;
  SngShape dy = n->src[0]->shape, w = n->src[1]->shape;
  n->shape = (SngShape){4, {dy.d[0], w.d[1] / (a[0] * a[1]), a[6], a[7]}};
  return 0;
}

/* conv2d's filter gradient (x [N,C,H,W], dy [N,F,OH,OW]) -> [F, C*kh*kw] */
static int shape_conv_dw(SngIrNode *n, SngDiag *d) {
  (void)d;
  const int64_t *a = n->attr.args.i;
  SngShape x = n->src[0]->shape, dy = n->src[1]->shape;
  n->shape = sng_shape2(dy.d[1], x.d[1] * a[0] * a[1]);
  return 0;
}

/* the sum of dy [N, C, ...] per channel -> [C] (a per-channel bias's gradient) */
static int shape_chan_sum(SngIrNode *n, SngDiag *d) {
  (void)d;
  n->shape = sng_shape1(n->src[0]->shape.d[1]);
  return 0;
}

/* pool(x [N,C,H,W]) -> [N, C, OH, OW] (floor, as PyTorch's ceil_mode = False) */
static int shape_pool(SngIrNode *n, SngDiag *d) {
  int64_t oh, ow;
  if (window_check(n, "pool", d, &oh, &ow)) return -1;
  SngShape s = n->src[0]->shape;
  n->shape = (SngShape){4, {s.d[0], s.d[1], oh, ow}};
  return 0;
}

/* pool's input gradient (dy, x) -> x's shape */
static int shape_pool_dx(SngIrNode *n, SngDiag *d) {
  (void)d;
  n->shape = n->src[1]->shape;
  return 0;
}

/* ---- issue 10: activations, tensor ops, losses and metrics ---- */

/* softmax(x): x's shape, rank >= 2 (the rows are the batch, the classes the last dimension) */
static int shape_softmax(SngIrNode *n, SngDiag *d) {
  char a[64];
  if (n->src[0]->shape.rank < 2) {
    sng_diag_error(d, n->loc, "softmax wants [batch, ..., classes]; got %s", sh(n->src[0]->shape, a));
    return -1;
  }
  n->shape = n->src[0]->shape;
  return 0;
}

/* concat(a, b, ..., dim = args.i[0]): same rank, the same sizes but along dim */
static int shape_concat_dim(SngIrNode *n, SngDiag *d) {
  int dim = (int)n->attr.args.i[0];
  SngShape s = n->src[0]->shape;
  char a[64], b[64];
  if (dim >= s.rank) {
    sng_diag_error(d, n->loc, "concat along dimension %d of %s, which has rank %d", dim, sh(s, a), s.rank);
    return -1;
  }
  for (int i = 1; i < n->nsrc; i++) {
    SngShape t = n->src[i]->shape;
    bool ok = t.rank == s.rank;
    for (int j = 0; ok && j < s.rank; j++) ok = j == dim || t.d[j] == s.d[j];
    if (!ok) {
      sng_diag_error(d, n->loc, "concat along dimension %d: tensor %d is %s, tensor 1 is %s; all sizes but "
                     "dimension %d must agree", dim, i + 1, sh(t, a), sh(n->src[0]->shape, b), dim);
      return -1;
    }
    s.d[dim] += t.d[dim];
  }
  n->shape = s;
  return 0;
}

/* slice/split: args i = {dim, start, size, parts, index}; with parts > 0 (split) start and
 * size are piece `index` of `parts` equal pieces (the first d % parts one larger) */
static int shape_slice_dim(SngIrNode *n, SngDiag *d) {
  int64_t *a = n->attr.args.i;
  SngShape s = n->src[0]->shape;
  char x[64];
  int dim = (int)a[0];
  if (dim >= s.rank) {
    sng_diag_error(d, n->loc, "%s along dimension %d of %s, which has rank %d", a[3] ? "split" : "slice", dim,
                   sh(s, x), s.rank);
    return -1;
  }
  int64_t len = s.d[dim];
  if (a[3]) {
    if (a[3] > len) {
      sng_diag_error(d, n->loc, "split of %s into %lld pieces along dimension %d, which has only %lld", sh(s, x),
                     (long long)a[3], dim, (long long)len);
      return -1;
    }
    int64_t q = len / a[3], r = len % a[3];
    a[1] = q * a[4] + (a[4] < r ? a[4] : r), a[2] = q + (a[4] < r);
  } else if (a[1] + a[2] > len) {
    sng_diag_error(d, n->loc, "slice [%lld, %lld) of dimension %d of %s: past its size %lld", (long long)a[1],
                   (long long)(a[1] + a[2]), dim, sh(s, x), (long long)len);
    return -1;
  }
  s.d[dim] = a[2];
  n->shape = s;
  return 0;
}

/* embed(ids [batch] or [batch, T], table [vocab, dim]) -> [batch, (T,) dim] */
static int shape_embed(SngIrNode *n, SngDiag *d) {
  SngShape ids = n->src[0]->shape, w = n->src[1]->shape;
  char a[64];
  if (ids.rank < 1 || ids.rank > 2) {
    sng_diag_error(d, n->loc, "embed wants ids of shape [batch] or [batch, T]; got %s", sh(ids, a));
    return -1;
  }
  SNG_ASSERT(w.rank == 2);
  fans(n->src[1], w.d[1], w.d[1]);
  n->shape = ids;
  n->shape.d[n->shape.rank++] = w.d[1];
  return 0;
}

/* set when the node was made (the embedding's gradient: the table's shape) */
static int shape_made(SngIrNode *n, SngDiag *d) {
  (void)d;
  SNG_ASSERT(n->shape.rank > 0);
  return 0;
}

/* one_hot(ids, classes = args.i[0]): ids [batch] or [batch, T] -> [..., classes] */
static int shape_one_hot(SngIrNode *n, SngDiag *d) {
  SngShape s = n->src[0]->shape;
  char a[64];
  if (s.rank < 1 || s.rank > 2) {
    sng_diag_error(d, n->loc, "one_hot wants ids of shape [batch] or [batch, T]; got %s", sh(s, a));
    return -1;
  }
  s.d[s.rank++] = n->attr.args.i[0];
  n->shape = s;
  return 0;
}

/* euclidean_loss, sigmoid_cross_entropy: (prediction, target) of one shape -> one value per row */
static int shape_pair_rows(SngIrNode *n, SngDiag *d) {
  SngShape x = n->src[0]->shape, t = n->src[1]->shape;
  char a[64], b[64];
  const char *what = n->op == SNG_OP_EUCLIDEAN_LOSS ? "euclidean_loss" : "sigmoid_cross_entropy";
  if (x.rank < 1 || !sng_shape_eq(x, t)) {
    sng_diag_error(d, n->loc, "%s of %s and %s: the prediction and the target must have one shape", what, sh(x, a),
                   sh(t, b));
    if (t.rank == 1 && x.rank == 2) sng_diag_hint(d, "for labels, compare with one_hot(labels, %lld)", (long long)x.d[1]);
    return -1;
  }
  n->shape = sng_shape1(x.d[0]);
  return 0;
}

/* accuracy(logits, labels, k): as top-1, and k at most the class count */
static int shape_top_k(SngIrNode *n, SngDiag *d) {
  SngIrNode *x = n->src[0], *y = n->src[1];
  char a[64];
  bool labels = y->op == SNG_OP_INPUT && y->attr.input.slot == 1;
  if (!labels && !sng_op_has(y->op, OPF_CONN)) {
    sng_diag_error(d, n->loc, "accuracy wants labels from input() as its second argument");
    return -1;
  }
  if (x->shape.rank != 2 || x->shape.d[0] != y->shape.d[0]) {
    sng_diag_error(d, n->loc, "accuracy wants logits [batch, classes] = [%lld, classes]; got %s",
                   (long long)y->shape.d[0], sh(x->shape, a));
    return -1;
  }
  int64_t classes = labels ? y->attr.input.classes : x->shape.d[1];
  if (x->shape.d[1] != classes) {
    sng_diag_error(d, n->loc, "accuracy gets %lld scores per sample, but the labels have %lld classes",
                   (long long)x->shape.d[1], (long long)classes);
    return -1;
  }
  if (n->attr.args.i[0] > classes) {
    sng_diag_error(d, n->loc, "accuracy with k = %lld of %lld classes: every sample would count",
                   (long long)n->attr.args.i[0], (long long)classes);
    return -1;
  }
  n->shape = sng_shape1(x->shape.d[0]);
  return 0;
}

/* ---- issue 10: normalisation and dropout (lrn, batchnorm, dropout) ---- */

/* dropout: x's shape.  The mask is drawn per element of the WHOLE tensor: on the whole graph
 * args.i[4..7) keep its dims 1..3 (args.i[7] = 1 once set, and the pieces copy them); on a
 * worker's piece args.i[0..4) is the piece's origin, set here after partitioning. */
static int shape_dropout(SngIrNode *n, SngDiag *d) {
  (void)d;
  SngShape s = n->src[0]->shape;
  if (!n->attr.args.i[7]) {
    for (int i = 1; i < s.rank; i++) n->attr.args.i[4 + i - 1] = s.d[i];
    n->attr.args.i[7] = 1;
  }
  for (int i = 0; i < SNG_MAX_RANK; i++) n->attr.args.i[i] = n->at[i];
  n->shape = s;
  return 0;
}

/* [batch, channels, ...]: the layouts lrn and batchnorm take */
static int want_channels(SngIrNode *n, const char *what, SngDiag *d) {
  char x[64];
  SngShape s = n->src[0]->shape;
  if (s.rank >= 2) return 0;
  sng_diag_error(d, n->loc, "%s() wants [batch, features] or [batch, channels, height, width]; got %s", what,
                 sh(s, x));
  return -1;
}

static int shape_lrn(SngIrNode *n, SngDiag *d) {
  if (want_channels(n, "lrn", d)) return -1;
  n->shape = n->src[0]->shape;
  return 0;
}

/* x [N, C, ...] -> each row's sums of x and x^2 per channel, [N, 2, C] */
static int shape_bn_stats(SngIrNode *n, SngDiag *d) {
  if (want_channels(n, "batchnorm", d)) return -1;
  SngShape s = n->src[0]->shape;
  n->shape = (SngShape){3, {s.d[0], 2, s.d[1]}};
  return 0;
}

/* (x, stats, gamma, beta, running mean, running var): x's shape; the four parameters are
 * [channels], filled in here (the user writes no size), and the running statistics learn
 * their averaging rule: momentum and the count of values of a whole batch's channel, M for
 * the mean and M - 1 for the (unbiased) variance, as PyTorch */
static int shape_batchnorm(SngIrNode *n, SngDiag *d) {
  if (want_channels(n, "batchnorm", d)) return -1;
  SngShape s = n->src[0]->shape;
  int64_t c = s.d[1];
  for (int k = 2; k < 6; k++) {
    SngIrNode *p = n->src[k];
    char x[64];
    if (p->shape.rank == 1 && p->shape.d[0] == 0) p->shape.d[0] = c;
    if (p->shape.rank != 1 || p->shape.d[0] != c) {
      sng_diag_error(d, n->loc, "batchnorm(): parameter %s has shape %s, the input %lld channels",
                     p->name ? p->name : "?", sh(p->shape, x), (long long)c);
      return -1;
    }
  }
  if (n->src[4]->op == SNG_OP_PARAM && !n->src[4]->attr.param.whole) { /* the whole graph: the whole batch */
    int64_t m = sng_shape_numel(s) / c;
    n->src[4]->running[0] = n->src[5]->running[0] = n->attr.args.f[1];
    n->src[4]->running[1] = (double)m;
    n->src[5]->running[1] = (double)(m > 1 ? m - 1 : 1);
  }
  n->shape = s;
  return 0;
}

/* (dy, x, stats, gamma), args.i[0]: 0 dx (x's shape), 1 d stats (the stats' shape), 2..5 per channel */
static int shape_bn_bwd(SngIrNode *n, SngDiag *d) {
  (void)d;
  int64_t which = n->attr.args.i[0];
  n->shape = which == 0 ? n->src[1]->shape : which == 1 ? n->src[2]->shape : sng_shape1(n->src[1]->shape.d[1]);
  return 0;
}

/* ---- issue 10: energy models (rbm, sample; the cd algorithm's loss) ---- */

/* cd_loss(v+, h+, v-, h-, W, b_h, b_v, r1): one value a row (the squared error of the first
 * reconstruction r1); rbm.c builds it, so a mismatch here is the compiler's own bug */
static int shape_cd_loss(SngIrNode *n, SngDiag *d) {
  SngShape v = view2(n->src[0]->shape), h = n->src[1]->shape, w = n->src[4]->shape;
  int64_t b = v.d[0], nv = v.d[1], nh = h.rank == 2 ? h.d[1] : -1;
  bool ok = h.rank == 2 && h.d[0] == b && w.rank == 2 && w.d[0] == nv && w.d[1] == nh &&
            sng_shape_eq(view2(n->src[2]->shape), v) && sng_shape_eq(n->src[3]->shape, h) &&
            sng_shape_eq(n->src[5]->shape, sng_shape1(nh)) && sng_shape_eq(n->src[6]->shape, sng_shape1(nv)) &&
            sng_shape_eq(view2(n->src[7]->shape), v);
  if (!ok) {
    char x[64], y[64];
    sng_diag_error(d, n->loc, "rbm: the contrastive-divergence chain of %s and %s does not line up", sh(v, x),
                   sh(w, y));
    return -1;
  }
  n->shape = sng_shape1(b);
  return 0;
}

#define none NULL
static const ShapeFn shape_fn[SNG_OP__COUNT] = {
#define OP(name, nsrc, flags, shape, ...) [SNG_OP_##name] = shape,
#include "ops.def"
#undef OP
};
#undef none

int sng_pass_shape(SngIrGraph *g, SngDiag *d) {
  int err = 0;
  for (int i = 0; i < g->nnodes; i++) {
    SngIrNode *n = g->nodes[i];
    if (n->dead || !shape_fn[n->op]) continue;
    bool ok = true;
    for (int j = 0; j < n->nsrc; j++) ok = ok && known(n->src[j]);
    /* a dense weight is unknown until its matmul fills it in */
    if (!ok && !(sng_op_has(n->op, OPF_FILLS_PARAM) && known(n->src[0]))) {
      err = -1;
      continue;
    }
    if (shape_fn[n->op](n, d)) {
      err = -1;
      continue;
    }
    char what[96];
    snprintf(what, sizeof what, "%s's output", n->layer >= 0 && n->layer < g->nlayers ? g->layers[n->layer].name
                                                                                      : sng_op_info[n->op].name);
    if (fits(n->shape, n->loc, what, d)) {
      n->shape = (SngShape){0}; /* unknown: its users are not reported again */
      err = -1;
    }
  }
  for (int i = 0; !err && i < g->nnodes; i++) err = unresolved(g->nodes[i], d);
  return err;
}
