/* kernels.c - the C kernels of the ops that are not fused: matrix products on OpenBLAS,
 * the row reduction of bias gradients, the accuracy metric, and the connection ops the
 * partitioner inserts (slice, concat, pad).  Chosen through the op table's `kernel` column;
 * elementwise ops have none and only run JIT-compiled.
 */
#include "internal.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

/* out[M,N] = op(a) op(b), each seen as a matrix [d0, rest]; shapes were checked by the
 * compiler and the plan reader */
static void rt_matmul(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                      const SngPlanTensor *tout) {
  (void)tout;
  int ta = (int)op->iattr[0], tb = (int)op->iattr[1];
  int64_t ar = tin[0]->dims[0], ac = sng_plan_tensor_numel(tin[0]) / ar, br = tin[1]->dims[0], bc = sng_plan_tensor_numel(tin[1]) / br;
  int64_t m = ta ? ac : ar, k = ta ? ar : ac, n = tb ? br : bc;
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (blasint)m,
              (blasint)n, (blasint)k, 1.0f, in[0], (blasint)ac, in[1], (blasint)bc, 0.0f, out, (blasint)n);
}

/* out[C] = sum over rows of in[R,C] */
static void rt_reduce_rows(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                           const SngPlanTensor *tout) {
  (void)op, (void)tout;
  int64_t r = tin[0]->dims[0], c = sng_plan_tensor_numel(tin[0]) / r;
  const float *x = in[0];
  for (int64_t j = 0; j < c; j++) out[j] = 0;
  for (int64_t i = 0; i < r; i++)
    for (int64_t j = 0; j < c; j++) out[j] += x[i * c + j];
}

/* out[R] = 1 if the row's highest score is at its label, else 0; NaN if the row holds a NaN
 * (an ordered > would skip it and count the row as a guess, hiding a diverged net) */
static void rt_accuracy(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                        const SngPlanTensor *tout) {
  (void)op, (void)tout;
  int64_t r = tin[0]->dims[0], c = sng_plan_tensor_numel(tin[0]) / r;
  for (int64_t i = 0; i < r; i++) {
    const float *x = in[0] + i * c;
    int64_t best = 0;
    int nan = isnan(x[0]);
    for (int64_t j = 1; j < c; j++) {
      nan |= isnan(x[j]);
      if (x[j] > x[best]) best = j;
    }
    out[i] = nan ? NAN : (float)(best == (int64_t)in[1][i]);
  }
}

void sng_rt_box_copy(float *dst, const int64_t *ddims, const int64_t *dstart, const float *src,
                     const int64_t *sdims, const int64_t *sstart, const int64_t *ext, int rank, int add) {
  /* pad to rank 4 from the left; the innermost dimension is copied as one run */
  int64_t dd[4] = {1, 1, 1, 1}, ds[4] = {0}, sd[4] = {1, 1, 1, 1}, ss[4] = {0}, e[4] = {1, 1, 1, 1};
  for (int i = 0; i < rank; i++) {
    int k = 4 - rank + i;
    dd[k] = ddims[i], ds[k] = dstart[i], sd[k] = sdims[i], ss[k] = sstart[i], e[k] = ext[i];
  }
  for (int64_t a = 0; a < e[0]; a++)
    for (int64_t b = 0; b < e[1]; b++)
      for (int64_t c = 0; c < e[2]; c++) {
        float *d = dst + (((ds[0] + a) * dd[1] + ds[1] + b) * dd[2] + ds[2] + c) * dd[3] + ds[3];
        const float *s = src + (((ss[0] + a) * sd[1] + ss[1] + b) * sd[2] + ss[2] + c) * sd[3] + ss[3];
        if (add)
          for (int64_t k = 0; k < e[3]; k++) d[k] += s[k];
        else memcpy(d, s, (size_t)e[3] * sizeof(float));
      }
}

static const int64_t zero4[4];

/* out = the box of in at iattr[0..rank) with out's shape */
static void rt_slice(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                     const SngPlanTensor *tout) {
  sng_rt_box_copy(out, tout->dims, zero4, in[0], tin[0]->dims, op->iattr, tout->dims, tout->rank, 0);
}

/* out = zeros with in placed at iattr[0..rank) (the gradient of a slice) */
static void rt_pad(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                   const SngPlanTensor *tout) {
  memset(out, 0, (size_t)sng_plan_tensor_numel(tout) * sizeof(float));
  sng_rt_box_copy(out, tout->dims, op->iattr, in[0], tin[0]->dims, zero4, tin[0]->dims, tout->rank, 0);
}

/* out = the inputs joined along dimension iattr[0] */
static void rt_concat(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                      const SngPlanTensor *tout) {
  int dim = (int)op->iattr[0];
  int64_t at[4] = {0};
  for (int i = 0; i < op->nin; i++) {
    sng_rt_box_copy(out, tout->dims, at, in[i], tin[i]->dims, zero4, tin[i]->dims, tout->rank, 0);
    at[dim] += tin[i]->dims[dim];
  }
}

/* ---- issue 10: CNN ops (conv2d, pool, reshape, per-channel bias) ---- */

/* ---- issue 10: activations, tensor ops, losses and metrics ---- */

/* A float id (a class or a word index) as a row in [0, n), or -1 if it is NaN, negative or
 * too large: such an id selects nothing and never reads or writes out of bounds. */
static int64_t row_of(float id, int64_t n) {
  return id >= 0 && id < (float)n && (int64_t)id < n ? (int64_t)id : -1;
}

/* softmax over the last dimension: y = exp(x - max) / sum; a row with a NaN is all NaN */
static void rt_softmax(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                       const SngPlanTensor *tout) {
  (void)op, (void)tout;
  int64_t c = tin[0]->dims[tin[0]->rank - 1], r = sng_plan_tensor_numel(tin[0]) / c;
  for (int64_t i = 0; i < r; i++) {
    const float *x = in[0] + i * c;
    float *y = out + i * c, m = -INFINITY, s = 0;
    int nan = 0;
    for (int64_t j = 0; j < c; j++) nan |= isnan(x[j]), m = x[j] > m ? x[j] : m;
    for (int64_t j = 0; j < c; j++) s += y[j] = expf(x[j] - m);
    for (int64_t j = 0; j < c; j++) y[j] = nan ? NAN : y[j] / s;
  }
}

/* (dy, y): dx = y (dy - sum_j dy_j y_j) per row */
static void rt_softmax_bwd(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                           const SngPlanTensor *tout) {
  (void)op, (void)tout;
  int64_t c = tin[0]->dims[tin[0]->rank - 1], r = sng_plan_tensor_numel(tin[0]) / c;
  for (int64_t i = 0; i < r; i++) {
    const float *dy = in[0] + i * c, *y = in[1] + i * c;
    float dot = 0;
    for (int64_t j = 0; j < c; j++) dot += dy[j] * y[j];
    for (int64_t j = 0; j < c; j++) out[i * c + j] = y[j] * (dy[j] - dot);
  }
}

/* out = in's box starting at iattr[1] along dimension iattr[0] (slice, split) */
static void rt_slice_dim(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                         const SngPlanTensor *tout) {
  int64_t start[4] = {0};
  start[op->iattr[0]] = op->iattr[1];
  sng_rt_box_copy(out, tout->dims, zero4, in[0], tin[0]->dims, start, tout->dims, tout->rank, 0);
}

/* (ids [n], table [vocab, dim]) -> out [n, dim]: row ids[i] of the table, zeros for a bad id */
static void rt_embed(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                     const SngPlanTensor *tout) {
  (void)op, (void)tout;
  int64_t n = sng_plan_tensor_numel(tin[0]), vocab = tin[1]->dims[0], dim = tin[1]->dims[1];
  for (int64_t i = 0; i < n; i++) {
    int64_t r = row_of(in[0][i], vocab);
    if (r < 0) memset(out + i * dim, 0, (size_t)dim * sizeof(float));
    else memcpy(out + i * dim, in[1] + r * dim, (size_t)dim * sizeof(float));
  }
}

/* (dy [n, dim], ids [n]) -> out [vocab, dim]: dy's rows summed into the rows their ids name */
static void rt_embed_bwd(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                         const SngPlanTensor *tout) {
  (void)op;
  int64_t n = sng_plan_tensor_numel(tin[1]), vocab = tout->dims[0], dim = tout->dims[1];
  memset(out, 0, (size_t)sng_plan_tensor_numel(tout) * sizeof(float));
  for (int64_t i = 0; i < n; i++) {
    int64_t r = row_of(in[1][i], vocab);
    if (r < 0) continue;
    for (int64_t j = 0; j < dim; j++) out[r * dim + j] += in[0][i * dim + j];
  }
}

/* ids [n] -> out [n, classes = iattr[0]]: a 1 at each id (none for a bad id) */
static void rt_one_hot(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                       const SngPlanTensor *tout) {
  int64_t n = sng_plan_tensor_numel(tin[0]), c = op->iattr[0];
  memset(out, 0, (size_t)sng_plan_tensor_numel(tout) * sizeof(float));
  for (int64_t i = 0; i < n; i++) {
    int64_t r = row_of(in[0][i], c);
    if (r >= 0) out[i * c + r] = 1;
  }
}

/* out[R] = sum over the row of (x - t)^2 */
static void rt_euclidean(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                         const SngPlanTensor *tout) {
  (void)op, (void)tout;
  int64_t r = tin[0]->dims[0], c = sng_plan_tensor_numel(tin[0]) / r;
  for (int64_t i = 0; i < r; i++) {
    float s = 0;
    for (int64_t j = 0; j < c; j++) {
      float d = in[0][i * c + j] - in[1][i * c + j];
      s += d * d;
    }
    out[i] = s;
  }
}

/* out[R] = sum over the row of max(x, 0) - x t + log1p(exp(-|x|)), which is
 * -t log sigmoid(x) - (1 - t) log(1 - sigmoid(x)) without overflow; NaN stays NaN */
static void rt_sigmoid_xent(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                            const SngPlanTensor *tout) {
  (void)op, (void)tout;
  int64_t r = tin[0]->dims[0], c = sng_plan_tensor_numel(tin[0]) / r;
  for (int64_t i = 0; i < r; i++) {
    float s = 0;
    for (int64_t j = 0; j < c; j++) {
      float x = in[0][i * c + j], t = in[1][i * c + j];
      s += (x > 0 ? x : 0) - x * t + log1pf(expf(-fabsf(x)));
    }
    out[i] = s;
  }
}

/* out[R] = 1 if the label's score ranks among the top k = iattr[0] of its row, else 0: fewer
 * than k scores beat it, a tie beating it when it comes first (as the top-1 accuracy's argmax
 * picks the first maximum, so k = 1 agrees with it); NaN if the row holds a NaN; 0 for a bad
 * label */
static void rt_top_k(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                     const SngPlanTensor *tout) {
  (void)tout;
  int64_t r = tin[0]->dims[0], c = sng_plan_tensor_numel(tin[0]) / r;
  for (int64_t i = 0; i < r; i++) {
    const float *x = in[0] + i * c;
    int64_t lab = row_of(in[1][i], c), above = 0;
    int nan = 0;
    for (int64_t j = 0; j < c; j++) nan |= isnan(x[j]), above += lab >= 0 && (x[j] > x[lab] || (j < lab && x[j] == x[lab]));
    out[i] = nan ? NAN : (float)(lab >= 0 && above < op->iattr[0]);
  }
}

/* ---- issue 10: normalisation and dropout (lrn, batchnorm, dropout) ---- */

#define none NULL
const SngRtKernel sng_rt_kernels[SNG_OP__COUNT] = {
#define OP(name, nsrc, flags, shape, grad, part, emit, kernel) [SNG_OP_##name] = kernel,
#include "ops.def"
#undef OP
};
#undef none
