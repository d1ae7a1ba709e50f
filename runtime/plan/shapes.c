/* shapes.c - per-op validation: what each op code of stdlib/ops.def may look like in a plan.
 *
 * The executor runs an op by handing its tensors' memory to a kernel that trusts their sizes:
 * sgemm reads m x k and k x n floats, a box copy reads and writes the boxes its origins name,
 * a JIT kernel walks rows x cols over buffers of the sizes its broadcast letters promise.  So
 * every op runnable by this runtime has one row in `rules` below (keyed by the op enum, the
 * only place that knows op shapes on the runtime side): its input and output counts and a
 * function relating its attributes to its tensors.  An op code with no row is one this
 * runtime cannot run (elementwise ops only ever run fused in a KERNEL op) and is refused.
 * Tensor indices are already known to be in range (validate.c checks them first), and every
 * tensor's element count fits in int64 with 8 bytes to spare.
 */
#include "internal.h"

#include <string.h>

typedef struct OpCtx {
  const SngPlanCtx *c;
  const SngPlan *p;
  const SngPlanGraph *g;
  const SngPlanOp *o;
  SngPlanWhat *what;     /* "graph 0 op 3 (h1)", formatted on demand */
} OpCtx;

static const char *str(const char *s) { return s ? s : "?"; }
static const char *at(const OpCtx *x) { return sng_plan_what(x->what); }   /* for messages */
static const SngPlanTensor *in_t(const OpCtx *x, int k) { return &x->g->tensors[x->o->in[k]]; }
static const SngPlanTensor *out_t(const OpCtx *x) { return &x->g->tensors[x->o->out[0]]; }
static int64_t numel(const SngPlanTensor *t) { return sng_plan_numel(t->rank, t->dims); }

/* "input 1 (tensor 4, w)", or for k < 0 output -1 - k: "output 0 (tensor 5, h)" */
static const char *tname(const OpCtx *x, char *buf, size_t n, int k) {
  int32_t t = k < 0 ? x->o->out[-1 - k] : x->o->in[k];
  snprintf(buf, n, "%s %d (tensor %d, %s)", k < 0 ? "output" : "input", k < 0 ? -1 - k : k, t,
           str(x->g->tensors[t].name));
  return buf;
}

/* The tensor of input k (or the output, k < 0) has want elements. */
static int want_numel(const OpCtx *x, int k, int64_t want, const char *why) {
  const SngPlanTensor *t = k < 0 ? out_t(x) : in_t(x, k);
  char b[160];
  if (numel(t) != want)
    return sng_plan_bad(x->c, "%s: %s has %lld elements, but %s makes %lld", at(x),
                        tname(x, b, sizeof b, k), (long long)numel(t), why, (long long)want);
  return SNG_OK;
}

/* The tensor of input k (or the output, k < 0) has rank >= lo, or exactly `exact` (>= 0). */
static int want_rank(const OpCtx *x, int k, int lo, int32_t exact) {
  const SngPlanTensor *t = k < 0 ? out_t(x) : in_t(x, k);
  char b[160];
  if (exact >= 0 && t->rank != exact)
    return sng_plan_bad(x->c, "%s: %s has rank %d, the output %d (%s needs them equal)", at(x),
                        tname(x, b, sizeof b, k), t->rank, exact, sng_plan_op_name(x->o->op));
  if (t->rank < lo)
    return sng_plan_bad(x->c, "%s: %s has rank %d (%s needs rank >= %d)", at(x),
                        tname(x, b, sizeof b, k), t->rank, sng_plan_op_name(x->o->op), lo);
  return SNG_OK;
}

/* ---------------------------------------------------------------- the rules */

/* out[m,n] = op(a) op(b), each input seen as a matrix [d0, rest] (kernels.c rt_matmul) */
static int matmul(const OpCtx *x) {
  const SngPlanOp *o = x->o;
  for (int k = 0; k < 2; k++)
    if (o->iattr[k] != 0 && o->iattr[k] != 1)
      return sng_plan_bad(x->c, "%s: transpose flag iattr[%d] is %lld (must be 0 or 1)", at(x), k,
                          (long long)o->iattr[k]);
  if (want_rank(x, 0, 2, -1) || want_rank(x, 1, 2, -1)) return SNG_EFORMAT;
  const SngPlanTensor *a = in_t(x, 0), *b = in_t(x, 1);
  int64_t ar = a->dims[0], ac = numel(a) / ar, br = b->dims[0], bc = numel(b) / br;
  int64_t m = o->iattr[0] ? ac : ar, k = o->iattr[0] ? ar : ac;
  int64_t k2 = o->iattr[1] ? bc : br, n = o->iattr[1] ? br : bc;
  if (k != k2)
    return sng_plan_bad(x->c, "%s: MATMUL of [%lld x %lld] by [%lld x %lld]: inner sizes %lld and "
                        "%lld differ", at(x), (long long)m, (long long)k, (long long)k2,
                        (long long)n, (long long)k, (long long)k2);
  if (ac > INT32_MAX || bc > INT32_MAX || ar > INT32_MAX || br > INT32_MAX)
    return sng_plan_bad(x->c, "%s: MATMUL sizes %lld x %lld by %lld x %lld exceed the BLAS int",
                        at(x), (long long)ar, (long long)ac, (long long)br, (long long)bc);
  return want_numel(x, -1, m * n, "the product's m x n");
}

/* out[C] = the column sums of in[R, C] */
static int reduce_rows(const OpCtx *x) {
  if (want_rank(x, 0, 1, -1)) return SNG_EFORMAT;
  return want_numel(x, -1, numel(in_t(x, 0)) / in_t(x, 0)->dims[0], "its input's columns");
}

/* out[R] from scores[R, C] and labels[R] */
static int accuracy(const OpCtx *x) {
  if (want_rank(x, 0, 1, -1)) return SNG_EFORMAT;
  int64_t rows = in_t(x, 0)->dims[0];
  return want_numel(x, 1, rows, "one label per row of the scores") ||
         want_numel(x, -1, rows, "one value per row of the scores");
}

/* The box at iattr[0..rank) of size `inner` lies inside `outer` (same rank). */
static int box_inside(const OpCtx *x, const SngPlanTensor *inner, const SngPlanTensor *outer,
                      const char *role) {
  if (inner->rank != outer->rank)
    return sng_plan_bad(x->c, "%s: %s rank %d and %d differ", at(x), role, inner->rank,
                        outer->rank);
  for (int i = 0; i < inner->rank; i++)
    if (x->o->iattr[i] < 0 || x->o->iattr[i] > outer->dims[i] - inner->dims[i])
      return sng_plan_bad(x->c, "%s: %s: the box [%lld, %lld) of dimension %d falls outside "
                          "[0, %lld)", at(x), role, (long long)x->o->iattr[i],
                          sng_plan_end(x->o->iattr[i], inner->dims[i]), i,
                          (long long)outer->dims[i]);
  return SNG_OK;
}

static int slice(const OpCtx *x) {
  return box_inside(x, out_t(x), in_t(x, 0), "the output in the input");
}
static int pad(const OpCtx *x) {
  return box_inside(x, in_t(x, 0), out_t(x), "the input in the output");
}

/* out = the inputs joined along dimension iattr[0]; the other dimensions agree */
static int concat(const OpCtx *x) {
  const SngPlanTensor *out = out_t(x);
  int64_t dim = x->o->iattr[0], sum = 0;
  if (dim < 0 || dim >= out->rank)
    return sng_plan_bad(x->c, "%s: concat dimension %lld (the output has rank %d)", at(x),
                        (long long)dim, out->rank);
  char b[160];
  for (int k = 0; k < x->o->nin; k++) {
    const SngPlanTensor *t = in_t(x, k);
    if (want_rank(x, k, 0, out->rank)) return SNG_EFORMAT;
    for (int i = 0; i < t->rank; i++)
      if (i != dim && t->dims[i] != out->dims[i])
        return sng_plan_bad(x->c, "%s: %s has dimension %d of %lld, the output %lld", at(x),
                            tname(x, b, sizeof b, k), i, (long long)t->dims[i],
                            (long long)out->dims[i]);
    sum += t->dims[dim];   /* each <= numel, and nin is an int32: no overflow */
    if (sum > out->dims[dim]) break;
  }
  if (sum != out->dims[dim])
    return sng_plan_bad(x->c, "%s: the inputs%s add up to %lld along dimension %lld, the output "
                        "has %lld", at(x), sum > out->dims[dim] ? " (so far)" : "",
                        (long long)sum, (long long)dim, (long long)out->dims[dim]);
  return SNG_OK;
}

/* Send form (nin 1, nout 0) or receive form (nin 0, nout 1); the pairing is in dist.c. */
static int bridge(const OpCtx *x) {
  const SngPlanOp *o = x->o;
  if (!(o->nin == 1 && o->nout == 0) && !(o->nin == 0 && o->nout == 1))
    return sng_plan_bad(x->c, "%s: a BRIDGE with %d inputs and %d outputs (must be 1 and 0 to send, "
                        "0 and 1 to receive)", at(x), o->nin, o->nout);
  if (o->iattr[0] < 0 || o->iattr[0] > INT32_MAX)
    return sng_plan_bad(x->c, "%s: bridge channel %lld (must be >= 0)", at(x),
                        (long long)o->iattr[0]);
  int32_t n = x->p->cluster.workers_per_group;
  if (o->iattr[1] < 0 || o->iattr[1] >= n || o->iattr[1] == x->g->worker)
    return sng_plan_bad(x->c, "%s: peer worker %lld (must be another of the group's %d workers; "
                        "this is worker %d)", at(x), (long long)o->iattr[1], n, x->g->worker);
  return SNG_OK;
}

/* Each buffer (inputs, then outputs) holds what its bcast letter says over rows x cols, and
 * rows and cols are each pinned by some buffer, so the iteration space is never larger
 * than the memory it walks. */
static int kernel(const OpCtx *x) {
  const SngPlanOp *o = x->o;
  const SngPlan *p = x->p;
  if (o->kernel < 0 || o->kernel >= p->nkernels)
    return sng_plan_bad(x->c, "%s: kernel index %d out of range (the plan has %d kernels)", at(x),
                        o->kernel, p->nkernels);
  const SngPlanKernel *k = &p->kernels[o->kernel];
  if (k->nbufs != o->nin + o->nout)
    return sng_plan_bad(x->c, "%s: kernel %d (%s) takes %d buffers, the op has %d inputs and %d "
                        "outputs", at(x), o->kernel, k->symbol, k->nbufs, o->nin, o->nout);
  if (o->rows <= 0 || o->cols <= 0 || o->rows > INT64_MAX / 8 / o->cols)
    return sng_plan_bad(x->c, "%s: iteration space %lld x %lld (rows and cols must be > 0)",
                        at(x), (long long)o->rows, (long long)o->cols);
  const char *bc = k->bcast ? k->bcast : "";   /* nbufs letters of FRCS (check_kernels) */
  if (!strpbrk(bc, "FC") || !strpbrk(bc, "FR"))
    return sng_plan_bad(x->c, "%s: kernel %d (%s) with bcast \"%s\" leaves rows or cols free (a "
                        "worker kernel needs an F buffer, or both R and C)", at(x), o->kernel,
                        k->symbol, bc);
  for (int b = 0; b < k->nbufs; b++) {
    int32_t t = b < o->nin ? o->in[b] : o->out[b - o->nin];
    char letter = bc[b];
    int64_t want = letter == 'F' ? o->rows * o->cols : letter == 'R' ? o->cols
                   : letter == 'C' ? o->rows : 1;
    int64_t have = numel(&x->g->tensors[t]);
    if (have != want)
      return sng_plan_bad(x->c, "%s: buffer %d is tensor %d (%s) of %lld elements, but bcast '%c' "
                          "of kernel %d (%s) wants %lld (rows %lld, cols %lld)", at(x), b, t,
                          str(x->g->tensors[t].name), (long long)have, letter, o->kernel,
                          k->symbol, (long long)want, (long long)o->rows, (long long)o->cols);
  }
  return SNG_OK;
}

/* ---- issue 10: CNN ops (conv2d, pool, reshape, per-channel bias): their rules ---- */

/* out has in's values in another shape, the batch kept (conv.c rt_reshape) */
static int reshape(const OpCtx *x) {
  if (want_rank(x, 0, 1, -1) || want_rank(x, -1, 1, -1)) return SNG_EFORMAT;
  if (out_t(x)->dims[0] != in_t(x, 0)->dims[0])
    return sng_plan_bad(x->c, "%s: reshape changes the batch from %lld to %lld", at(x),
                        (long long)in_t(x, 0)->dims[0], (long long)out_t(x)->dims[0]);
  return want_numel(x, -1, numel(in_t(x, 0)), "a reshape of its input");
}

/* tensor k (< 0: the output) is [N, C, H, W] */
static int want_nchw(const OpCtx *x, int k) {
  const SngPlanTensor *t = k < 0 ? out_t(x) : in_t(x, k);
  char b[160];
  if (t->rank != 4)
    return sng_plan_bad(x->c, "%s: %s has rank %d (%s wants [N, C, H, W])", at(x), tname(x, b, sizeof b, k),
                        t->rank, sng_plan_op_name(x->o->op));
  return SNG_OK;
}

/* The window arguments iattr[0..6) are sane and slide over an h x w image (padded) to oh x ow. */
static int want_window(const OpCtx *x, int64_t h, int64_t w, int64_t oh, int64_t ow) {
  const int64_t *a = x->o->iattr;
  for (int i = 0; i < 6; i++)
    if (a[i] < (i < 4 ? 1 : 0) || a[i] > INT32_MAX)
      return sng_plan_bad(x->c, "%s: window argument iattr[%d] is %lld", at(x), i, (long long)a[i]);
  int64_t eh = h + 2 * a[4] < a[0] ? 0 : (h + 2 * a[4] - a[0]) / a[2] + 1;
  int64_t ew = w + 2 * a[5] < a[1] ? 0 : (w + 2 * a[5] - a[1]) / a[3] + 1;
  if (eh != oh || ew != ow || oh <= 0 || ow <= 0)
    return sng_plan_bad(x->c, "%s: a %lldx%lld window (stride %lldx%lld, pad %lldx%lld) over %lldx%lld makes "
                        "%lldx%lld, not %lldx%lld", at(x), (long long)a[0], (long long)a[1], (long long)a[2],
                        (long long)a[3], (long long)a[4], (long long)a[5], (long long)h, (long long)w,
                        (long long)eh, (long long)ew, (long long)oh, (long long)ow);
  return SNG_OK;
}

/* dims d of tensor k (< 0: the output) equal v */
static int want_dim(const OpCtx *x, int k, int d, int64_t v, const char *why) {
  const SngPlanTensor *t = k < 0 ? out_t(x) : in_t(x, k);
  char b[160];
  if (t->dims[d] != v)
    return sng_plan_bad(x->c, "%s: %s has dimension %d of %lld, but %s makes %lld", at(x),
                        tname(x, b, sizeof b, k), d, (long long)t->dims[d], why, (long long)v);
  return SNG_OK;
}

/* the filters [F, C*kh*kw] of an image with c channels fit BLAS's int */
static int want_filters(const OpCtx *x, int k, int64_t c) {
  const SngPlanTensor *w = in_t(x, k);
  if (w->rank != 2) return sng_plan_bad(x->c, "%s: the filters have rank %d (want [F, C*kh*kw])", at(x), w->rank);
  int64_t kk = c * x->o->iattr[0] * x->o->iattr[1];
  if (w->dims[1] > INT32_MAX || w->dims[0] > INT32_MAX)
    return sng_plan_bad(x->c, "%s: filters exceed the BLAS int", at(x));
  return want_dim(x, k, 1, kk, "channels x kernel");
}

/* out [N, F, OH, OW] = conv(x [N, C, H, W], w [F, C*kh*kw]) (+ b [F]) (conv.c rt_conv2d) */
static int conv2d(const OpCtx *x) {
  if (x->o->nin != 2 && x->o->nin != 3)
    return sng_plan_bad(x->c, "%s: conv2d with %d inputs (2, or 3 with a bias)", at(x), x->o->nin);
  if (want_nchw(x, 0) || want_nchw(x, -1)) return SNG_EFORMAT;
  const SngPlanTensor *i = in_t(x, 0), *o = out_t(x);
  if (want_window(x, i->dims[2], i->dims[3], o->dims[2], o->dims[3]) || want_filters(x, 1, i->dims[1]) ||
      want_dim(x, -1, 0, i->dims[0], "the batch") || want_dim(x, -1, 1, in_t(x, 1)->dims[0], "the filters") ||
      (x->o->nin == 3 && want_numel(x, 2, o->dims[1], "one bias per filter")))
    return SNG_EFORMAT;
  if (o->dims[2] * o->dims[3] > INT32_MAX) return sng_plan_bad(x->c, "%s: output planes exceed the BLAS int", at(x));
  return SNG_OK;
}

/* dx [N, C, H, W] (H, W = iattr[6..7]) from dy [N, F, OH, OW] and w [F, C*kh*kw] */
static int conv2d_bwd_data(const OpCtx *x) {
  if (want_nchw(x, 0) || want_nchw(x, -1)) return SNG_EFORMAT;
  const SngPlanTensor *dy = in_t(x, 0), *o = out_t(x);
  return want_window(x, o->dims[2], o->dims[3], dy->dims[2], dy->dims[3]) || want_filters(x, 1, o->dims[1]) ||
         want_dim(x, -1, 0, dy->dims[0], "the batch") || want_dim(x, 1, 0, dy->dims[1], "dy's channels") ||
         want_dim(x, -1, 2, x->o->iattr[6], "the input's height") ||
         want_dim(x, -1, 3, x->o->iattr[7], "the input's width");
}

/* dw [F, C*kh*kw] from x [N, C, H, W] and dy [N, F, OH, OW] */
static int conv2d_bwd_filter(const OpCtx *x) {
  if (want_nchw(x, 0) || want_nchw(x, 1)) return SNG_EFORMAT;
  if (out_t(x)->rank != 2) return sng_plan_bad(x->c, "%s: the filter gradient has rank %d (want 2)", at(x), out_t(x)->rank);
  const SngPlanTensor *i = in_t(x, 0), *dy = in_t(x, 1);
  int64_t kk = i->dims[1] * x->o->iattr[0] * x->o->iattr[1];
  return want_window(x, i->dims[2], i->dims[3], dy->dims[2], dy->dims[3]) ||
         want_dim(x, 1, 0, i->dims[0], "the batch") || want_dim(x, -1, 0, dy->dims[1], "dy's channels") ||
         want_dim(x, -1, 1, kk, "channels x kernel") ||
         (kk > INT32_MAX || dy->dims[2] * dy->dims[3] > INT32_MAX ? sng_plan_bad(x->c, "%s: exceeds the BLAS int", at(x)) : 0);
}

/* out [C] = the sums of in [N, C, ...] per channel */
static int chan_sum(const OpCtx *x) {
  if (want_rank(x, 0, 2, -1)) return SNG_EFORMAT;
  return want_numel(x, -1, in_t(x, 0)->dims[1], "one sum per channel");
}

/* the pool mode (0 max, 1 avg) and PyTorch's pad <= kernel / 2 (no window only of padding) */
static int pool_args(const OpCtx *x) {
  const int64_t *a = x->o->iattr;
  if (a[6] != 0 && a[6] != 1) return sng_plan_bad(x->c, "%s: pool mode %lld (0 max, 1 avg)", at(x), (long long)a[6]);
  if (a[4] > a[0] / 2 || a[5] > a[1] / 2)
    return sng_plan_bad(x->c, "%s: pool pad %lldx%lld is more than half the kernel", at(x), (long long)a[4],
                        (long long)a[5]);
  return SNG_OK;
}

/* out [N, C, OH, OW] pools x [N, C, H, W] */
static int pool(const OpCtx *x) {
  if (want_nchw(x, 0) || want_nchw(x, -1) || pool_args(x)) return SNG_EFORMAT;
  const SngPlanTensor *i = in_t(x, 0), *o = out_t(x);
  return want_window(x, i->dims[2], i->dims[3], o->dims[2], o->dims[3]) || want_dim(x, -1, 0, i->dims[0], "the batch") ||
         want_dim(x, -1, 1, i->dims[1], "the channels");
}

/* dx (x's shape) from dy [N, C, OH, OW] and x [N, C, H, W] */
static int pool_bwd(const OpCtx *x) {
  if (want_nchw(x, 0) || want_nchw(x, 1) || want_nchw(x, -1) || pool_args(x)) return SNG_EFORMAT;
  const SngPlanTensor *dy = in_t(x, 0), *i = in_t(x, 1);
  for (int d = 0; d < 4; d++)
    if (want_dim(x, -1, d, i->dims[d], "x's shape")) return SNG_EFORMAT;
  return want_window(x, i->dims[2], i->dims[3], dy->dims[2], dy->dims[3]) || want_dim(x, 0, 0, i->dims[0], "the batch") ||
         want_dim(x, 0, 1, i->dims[1], "the channels");
}

/* ---- issue 10: activations, tensor ops, losses and metrics (the rules) ---- */

/* Every input k in ks has the element count of input 0 (or the output, k < 0). */
static int same_numel(const OpCtx *x, int k, const char *why) {
  return want_numel(x, k, numel(in_t(x, 0)), why);
}

/* softmax: out = in; softmax_bwd: (dy, y) -> dx, all of one size */
static int softmax(const OpCtx *x) {
  if (want_rank(x, 0, 1, -1)) return SNG_EFORMAT;
  for (int k = 1; k < x->o->nin; k++)
    if (same_numel(x, k, "softmax's backward over its input")) return SNG_EFORMAT;
  return same_numel(x, -1, "softmax over its input");
}

/* out = in's box from iattr[1] along dimension iattr[0]; the other dimensions agree */
static int slice_dim(const OpCtx *x) {
  const SngPlanTensor *in = in_t(x, 0), *out = out_t(x);
  int64_t dim = x->o->iattr[0], start = x->o->iattr[1];
  if (want_rank(x, 0, 1, out->rank)) return SNG_EFORMAT;
  if (dim < 0 || dim >= out->rank)
    return sng_plan_bad(x->c, "%s: slice dimension %lld (the output has rank %d)", at(x), (long long)dim, out->rank);
  for (int i = 0; i < out->rank; i++)
    if (i != dim && in->dims[i] != out->dims[i])
      return sng_plan_bad(x->c, "%s: dimension %d: input %lld, output %lld (only dimension %lld may differ)", at(x),
                          i, (long long)in->dims[i], (long long)out->dims[i], (long long)dim);
  if (start < 0 || start > in->dims[dim] - out->dims[dim])
    return sng_plan_bad(x->c, "%s: the box [%lld, %lld) of dimension %lld falls outside [0, %lld)", at(x),
                        (long long)start, sng_plan_end(start, out->dims[dim]), (long long)dim,
                        (long long)in->dims[dim]);
  return SNG_OK;
}

/* (ids, table [vocab, dim]) -> [ids..., dim] */
static int embed(const OpCtx *x) {
  if (want_rank(x, 1, 2, 2)) return SNG_EFORMAT;
  return want_numel(x, -1, numel(in_t(x, 0)) * in_t(x, 1)->dims[1], "one table row per id");
}

/* (dy [ids..., dim], ids) -> the table's gradient [vocab, dim] */
static int embed_bwd(const OpCtx *x) {
  const SngPlanTensor *out = out_t(x);
  if (want_rank(x, -1, 2, -1) || out->rank != 2)
    return sng_plan_bad(x->c, "%s: the embedding gradient must have rank 2", at(x));
  return want_numel(x, 0, numel(in_t(x, 1)) * out->dims[1], "one gradient row per id");
}

/* ids -> [ids..., classes = iattr[0]] */
static int one_hot(const OpCtx *x) {
  int64_t c = x->o->iattr[0], n = numel(out_t(x));
  if (c < 1 || n % c != 0 || n / c != numel(in_t(x, 0)))
    return sng_plan_bad(x->c, "%s: one_hot of %lld ids into %lld classes cannot make %lld values", at(x),
                        (long long)numel(in_t(x, 0)), (long long)c, (long long)n);
  return SNG_OK;
}

/* (prediction, target) of one size -> one value per row */
static int pair_rows(const OpCtx *x) {
  if (want_rank(x, 0, 1, -1) || same_numel(x, 1, "a target per prediction")) return SNG_EFORMAT;
  return want_numel(x, -1, in_t(x, 0)->dims[0], "one value per row of the prediction");
}

/* accuracy's checks and k = iattr[0] >= 1 */
static int top_k(const OpCtx *x) {
  if (x->o->iattr[0] < 1)
    return sng_plan_bad(x->c, "%s: top-k accuracy with k = %lld (must be >= 1)", at(x), (long long)x->o->iattr[0]);
  return accuracy(x);
}

/* ---- issue 10: normalisation and dropout (lrn, batchnorm, dropout): their rules ---- */

/* every input and the output have the same number of elements (dropout, lrn: elementwise
 * in shape; the lrn window stays inside a row's channels) */
static int norm_same(const OpCtx *x) {
  for (int k = 0; k < x->o->nin; k++)
    if (want_numel(x, k, numel(out_t(x)), "an op of one shape")) return SNG_EFORMAT;
  return SNG_OK;
}

static int norm_lrn(const OpCtx *x) {
  if (x->o->iattr[0] < 1)
    return sng_plan_bad(x->c, "%s: lrn window size iattr[0] is %lld (must be >= 1)", at(x), (long long)x->o->iattr[0]);
  return want_rank(x, x->o->nin - 1, 2, -1) || norm_same(x);
}

/* The row sums [N, 2, C] in input k match x [N, C, ...] (rows: all of the batch's or x's own). */
static int bn_sums(const OpCtx *x, int k, const SngPlanTensor *t, int own_rows) {
  const SngPlanTensor *s = k < 0 ? out_t(x) : in_t(x, k);
  char b[160];
  if (s->rank != 3 || s->dims[1] != 2 || s->dims[2] != t->dims[1] || (own_rows && s->dims[0] != t->dims[0]))
    return sng_plan_bad(x->c, "%s: %s is not the row sums [%s, 2, %lld] of a batch of %lld channels", at(x),
                        tname(x, b, sizeof b, k), own_rows ? "rows" : "batch", (long long)t->dims[1],
                        (long long)t->dims[1]);
  return SNG_OK;
}

/* BN_STATS (x) -> [N, 2, C]; BN_STATS_BWD (x, d sums) -> x's shape */
static int norm_bn_stats(const OpCtx *x) {
  const SngPlanTensor *t = in_t(x, 0);
  if (want_rank(x, 0, 2, -1)) return SNG_EFORMAT;
  if (x->o->nin == 1) return bn_sums(x, -1, t, 1);
  return bn_sums(x, 1, t, 1) || want_numel(x, -1, numel(t), "the gradient of its input");
}

/* BATCHNORM (x, sums, gamma, beta, mean, var) -> x's shape;
 * BN_BWD (dy, x, sums, gamma) -> iattr[0]: 0 x's shape, 1 the sums', 2..5 [C] */
static int norm_batchnorm(const OpCtx *x) {
  int bwd = x->o->op == SNG_OP_BN_BWD, xi = bwd ? 1 : 0;
  int64_t which = bwd ? x->o->iattr[0] : 0;
  if (which < 0 || which > 5)
    return sng_plan_bad(x->c, "%s: BN_BWD iattr[0] is %lld (0..5)", at(x), (long long)which);
  if (want_rank(x, xi, 2, -1)) return SNG_EFORMAT;
  const SngPlanTensor *t = in_t(x, xi);
  int64_t c = t->dims[1];
  if (bn_sums(x, xi + 1, t, 0)) return SNG_EFORMAT;
  for (int k = xi + 2; k < x->o->nin; k++)
    if (want_numel(x, k, c, "one value per channel")) return SNG_EFORMAT;
  if (bwd && want_numel(x, 0, numel(t), "the gradient of its output")) return SNG_EFORMAT;
  if (which == 1) {
    const SngPlanTensor *s = in_t(x, 2), *o = out_t(x);
    if (o->rank != 3 || o->dims[0] != s->dims[0] || o->dims[1] != 2 || o->dims[2] != s->dims[2])
      return sng_plan_bad(x->c, "%s: the gradient of the row sums has another shape than they", at(x));
    return SNG_OK;
  }
  return want_numel(x, -1, which >= 2 ? c : numel(t), which >= 2 ? "one value per channel" : "its input's shape");
}

/* ---- issue 10: energy models (rbm, sample; the cd algorithm's loss) ---- */

/* cd_loss(v+ [N, V], h+ [N, H], v- [N, V], h- [N, H], W [V, H], b_h [H], b_v [V], r1 [N, V]) -> [N] */
static int cd_loss(const OpCtx *x) {
  if (want_rank(x, 0, 1, -1) || want_rank(x, 1, 1, -1)) return SNG_EFORMAT;
  int64_t n = in_t(x, 0)->dims[0], v = numel(in_t(x, 0)) / (n ? n : 1), h = numel(in_t(x, 1)) / (n ? n : 1);
  if (same_numel(x, 2, "a reconstruction per visible unit") || same_numel(x, 7, "a reconstruction per visible unit") ||
      want_numel(x, 3, numel(in_t(x, 1)), "a hidden unit per hidden unit") || want_numel(x, 4, v * h, "the weights") ||
      want_numel(x, 5, h, "a bias per hidden unit") || want_numel(x, 6, v, "a bias per visible unit"))
    return SNG_EFORMAT;
  return want_numel(x, -1, n, "one value per row");
}

/* ---------------------------------------------------------------- the table */

typedef struct Rule {
  int nin, nout;         /* -1: any number (CONCAT: >= 1; BRIDGE: its check decides) */
  int (*check)(const OpCtx *x);
} Rule;

static const Rule rules[SNG_OP__COUNT] = {
  [SNG_OP_MATMUL] = {2, 1, matmul},
  [SNG_OP_REDUCE_ROWS] = {1, 1, reduce_rows},
  [SNG_OP_ACCURACY] = {2, 1, accuracy},
  [SNG_OP_SLICE] = {1, 1, slice},
  [SNG_OP_PAD] = {1, 1, pad},
  [SNG_OP_CONCAT] = {-1, 1, concat},
  [SNG_OP_BRIDGE] = {-1, -1, bridge},
  [SNG_OP_KERNEL] = {-1, -1, kernel},
  /* ---- issue 10: CNN ops (conv2d, pool, reshape, per-channel bias) ---- */
  [SNG_OP_RESHAPE] = {1, 1, reshape},
  [SNG_OP_CONV2D] = {-1, 1, conv2d},
  [SNG_OP_CONV2D_BWD_DATA] = {2, 1, conv2d_bwd_data},
  [SNG_OP_CONV2D_BWD_FILTER] = {2, 1, conv2d_bwd_filter},
  [SNG_OP_CHAN_SUM] = {1, 1, chan_sum},
  [SNG_OP_POOL] = {1, 1, pool},
  [SNG_OP_POOL_BWD] = {2, 1, pool_bwd},

  /* ---- issue 10: activations, tensor ops, losses and metrics ---- */
  [SNG_OP_SOFTMAX] = {1, 1, softmax},
  [SNG_OP_SOFTMAX_BWD] = {2, 1, softmax},
  [SNG_OP_CONCAT_DIM] = {-1, 1, concat},
  [SNG_OP_SLICE_DIM] = {1, 1, slice_dim},
  [SNG_OP_EMBED] = {2, 1, embed},
  [SNG_OP_EMBED_BWD] = {2, 1, embed_bwd},
  [SNG_OP_ONE_HOT] = {1, 1, one_hot},
  [SNG_OP_EUCLIDEAN_LOSS] = {2, 1, pair_rows},
  [SNG_OP_SIGMOID_XENT] = {2, 1, pair_rows},
  [SNG_OP_TOP_K] = {2, 1, top_k},

  /* ---- issue 10: normalisation and dropout (lrn, batchnorm, dropout) ---- */
  [SNG_OP_DROPOUT] = {1, 1, norm_same},
  [SNG_OP_DROPOUT_BWD] = {1, 1, norm_same},
  [SNG_OP_LRN] = {1, 1, norm_lrn},
  [SNG_OP_LRN_BWD] = {2, 1, norm_lrn},
  [SNG_OP_BN_STATS] = {1, 1, norm_bn_stats},
  [SNG_OP_BN_STATS_BWD] = {2, 1, norm_bn_stats},
  [SNG_OP_BATCHNORM] = {6, 1, norm_batchnorm},
  [SNG_OP_BN_BWD] = {4, 1, norm_batchnorm},

  /* ---- issue 10: energy models (rbm, sample; the cd algorithm's loss) ---- */
  [SNG_OP_SAMPLE] = {1, 1, norm_same},
  [SNG_OP_CD_LOSS] = {8, 1, cd_loss},
};

/* The arena bytes of tensor t, or false for a PARAM tensor (it lives in parameter memory). */
static bool span(const SngPlanGraph *g, int32_t t, int64_t *lo, int64_t *hi) {
  const SngPlanTensor *x = &g->tensors[t];
  if (x->kind == SNG_TENSOR_PARAM) return false;
  *lo = x->offset, *hi = x->offset + 4 * sng_plan_numel(x->rank, x->dims);
  return true;
}

/* No output shares memory with an input: the C kernels copy with memcpy and hand sgemm
 * restrict-like operands.  A KERNEL op may update a buffer in place (the same bytes exactly:
 * elementwise code reads each element before writing it), never a partial overlap. */
static int check_alias(const OpCtx *x) {
  const SngPlanOp *o = x->o;
  for (int j = 0; j < o->nout; j++)
    for (int k = 0; k < o->nin; k++) {
      int64_t a0, a1, b0, b1;
      bool same = o->in[k] == o->out[j];
      bool arena = span(x->g, o->in[k], &a0, &a1) && span(x->g, o->out[j], &b0, &b1);
      if (!same && !(arena && a0 < b1 && b0 < a1)) continue;
      if (o->op == SNG_OP_KERNEL && (same || (a0 == b0 && a1 == b1))) continue;
      char bi[160], bo[160];
      return sng_plan_bad(x->c, "%s: %s and %s share memory%s", at(x), tname(x, bo, sizeof bo, -1 - j),
                          tname(x, bi, sizeof bi, k), o->op == SNG_OP_KERNEL ?
                          " (a kernel may only update a buffer exactly in place)" : "");
    }
  return SNG_OK;
}

int sng_plan_check_op_shape(const SngPlanCtx *c, const SngPlan *p, const SngPlanGraph *g,
                            const SngPlanOp *o, SngPlanWhat *what) {
  const Rule *r = &rules[o->op];   /* the op code is in range (fields.def ENUM) */
  if (!r->check)
    return sng_plan_bad(c, "%s: a %s op cannot run in a plan (this runtime has no kernel for "
                        "it; elementwise ops run fused in KERNEL ops)", sng_plan_what(what),
                        sng_plan_op_name(o->op));
  if (o->op != SNG_OP_KERNEL && o->kernel != -1)
    return sng_plan_bad(c, "%s: a %s op has kernel %d (only KERNEL ops name a kernel)",
                        sng_plan_what(what), sng_plan_op_name(o->op), o->kernel);
  if ((r->nin >= 0 && o->nin != r->nin) || (r->nin < 0 && r->nout == 1 && o->nin < 1) ||
      (r->nout >= 0 && o->nout != r->nout))
    return sng_plan_bad(c, "%s: a %s op with %d inputs and %d outputs (it takes %s%d and makes %d)",
                        sng_plan_what(what), sng_plan_op_name(o->op), o->nin, o->nout,
                        r->nin < 0 ? ">= " : "",
                        r->nin < 0 ? 1 : r->nin, r->nout);
  OpCtx x = {c, p, g, o, what};
  return r->check(&x) || check_alias(&x) ? SNG_EFORMAT : SNG_OK;
}
