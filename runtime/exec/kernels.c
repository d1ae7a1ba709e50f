/* kernels.c - the C kernels of the ops that are not fused: matrix products on OpenBLAS,
 * the row reduction of bias gradients and the accuracy metric.  Chosen through the op
 * table's `kernel` column; elementwise ops have none and only run JIT-compiled.
 */
#include "internal.h"

#include <cblas.h>

/* out[M,N] = op(a) op(b); the shapes were checked by the compiler and the plan reader */
static void rt_matmul(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out) {
  int ta = (int)op->iattr[0], tb = (int)op->iattr[1];
  int64_t m = tin[0]->dims[ta ? 1 : 0], k = tin[0]->dims[ta ? 0 : 1], n = tin[1]->dims[tb ? 0 : 1];
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (blasint)m,
              (blasint)n, (blasint)k, 1.0f, in[0], (blasint)tin[0]->dims[1], in[1], (blasint)tin[1]->dims[1], 0.0f,
              out, (blasint)n);
}

/* out[C] = sum over rows of in[R,C] */
static void rt_reduce_rows(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out) {
  (void)op;
  int64_t r = tin[0]->dims[0], c = tin[0]->dims[1];
  const float *x = in[0];
  for (int64_t j = 0; j < c; j++) out[j] = 0;
  for (int64_t i = 0; i < r; i++)
    for (int64_t j = 0; j < c; j++) out[j] += x[i * c + j];
}

/* out[R] = 1 if the row's highest score is at its label, else 0 */
static void rt_accuracy(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out) {
  (void)op;
  int64_t r = tin[0]->dims[0], c = tin[0]->dims[1];
  for (int64_t i = 0; i < r; i++) {
    const float *x = in[0] + i * c;
    int64_t best = 0;
    for (int64_t j = 1; j < c; j++)
      if (x[j] > x[best]) best = j;
    out[i] = (float)(best == (int64_t)in[1][i]);
  }
}

#define none NULL
const SngRtKernel sng_rt_kernels[SNG_OP__COUNT] = {
#define OP(name, nsrc, flags, shape, grad, emit, kernel) [SNG_OP_##name] = kernel,
#include "ops.def"
#undef OP
};
#undef none
