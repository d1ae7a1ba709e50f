/* kernels.c - the C kernels of the ops that are not fused: matrix products on OpenBLAS,
 * the row reduction of bias gradients, the accuracy metric, and the connection ops the
 * partitioner inserts (slice, concat, pad).  Chosen through the op table's `kernel` column;
 * elementwise ops have none and only run JIT-compiled.
 */
#include "internal.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

static int64_t numel(const SngPlanTensor *t) {
  int64_t n = 1;
  for (int i = 0; i < t->rank; i++) n *= t->dims[i];
  return n;
}

/* out[M,N] = op(a) op(b), each seen as a matrix [d0, rest]; shapes were checked by the
 * compiler and the plan reader */
static void rt_matmul(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                      const SngPlanTensor *tout) {
  (void)tout;
  int ta = (int)op->iattr[0], tb = (int)op->iattr[1];
  int64_t ar = tin[0]->dims[0], ac = numel(tin[0]) / ar, br = tin[1]->dims[0], bc = numel(tin[1]) / br;
  int64_t m = ta ? ac : ar, k = ta ? ar : ac, n = tb ? br : bc;
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (blasint)m,
              (blasint)n, (blasint)k, 1.0f, in[0], (blasint)ac, in[1], (blasint)bc, 0.0f, out, (blasint)n);
}

/* out[C] = sum over rows of in[R,C] */
static void rt_reduce_rows(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                           const SngPlanTensor *tout) {
  (void)op, (void)tout;
  int64_t r = tin[0]->dims[0], c = numel(tin[0]) / r;
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
  int64_t r = tin[0]->dims[0], c = numel(tin[0]) / r;
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
  memset(out, 0, (size_t)numel(tout) * sizeof(float));
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

/* ---- issue 10: normalisation and dropout (lrn, batchnorm, dropout) ---- */

#define none NULL
const SngRtKernel sng_rt_kernels[SNG_OP__COUNT] = {
#define OP(name, nsrc, flags, shape, grad, part, emit, kernel) [SNG_OP_##name] = kernel,
#include "ops.def"
#undef OP
};
#undef none
