/* fdcheck.h - gradients against central differences, through the whole stack (compiler,
 * fusion, JIT kernels, C kernels), for the Criterion tests that prove gradient rules
 * (tests/runtime/test_grad.c, test_layers.c).
 *
 *   FdFixture f;
 *   fd_setup(&f, plan);                         // random parameters and inputs, labels in range
 *   int n = fd_check(&f, SNG_EXEC_TRAIN, "dense"); // elements compared; failures are cr_expect's
 *   fd_teardown(&f);                            // frees the plan too
 *
 * The loss is the mean of the per-row losses, as trained, evaluated in `mode`: the training
 * forward for layers that differ between training and tests (batch statistics, dropout
 * masks), or the test forward.  Up to 12 elements of every parameter's gradient are compared;
 * running statistics (batchnorm's) are skipped: their share is the batch's sums, not a gradient.
 */
#ifndef SNG_FDCHECK_H
#define SNG_FDCHECK_H

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sng_exec.h"

typedef struct FdFixture {
  SngPlan *p;
  SngJit *jit;
  SngExec *e;
  float **values;
} FdFixture;

static inline void fd_setup(FdFixture *f, SngPlan *p) {
  char err[512];
  f->p = p;
  f->jit = sng_jit_new(err, sizeof err);
  cr_assert_not_null(f->jit, "%s", err);
  f->values = calloc((size_t)p->nparams, sizeof(float *));
  SngRng rng;
  sng_rng_seed(&rng, 7);
  for (int i = 0; i < p->nparams; i++) {
    int64_t n = sng_plan_dims_numel(p->params[i].rank, p->params[i].dims);
    f->values[i] = sng_alloc_aligned((size_t)n * 4);
    for (int64_t k = 0; k < n; k++) f->values[i][k] = (float)(sng_rng_uniform(&rng) - 0.5);
  }
  f->e = sng_exec_new(p, 0, f->jit, f->values, err, sizeof err);
  cr_assert_not_null(f->e, "%s", err);
  const SngPlanGraph *g = &p->graphs[0];
  for (int t = 0; t < g->ntensors; t++) { /* random inputs, labels in range */
    const SngPlanTensor *x = &g->tensors[t];
    if (x->kind != SNG_TENSOR_INPUT) continue;
    float *v = sng_exec_tensor_at(f->e, t);
    int64_t n = sng_plan_tensor_numel(x);
    for (int64_t k = 0; k < n; k++)
      v[k] = x->param == 0 ? (float)(sng_rng_uniform(&rng) * 2 - 1) : (float)sng_rng_below(&rng, (uint64_t)p->data.classes);
  }
}

static inline void fd_teardown(FdFixture *f) {
  sng_exec_free(f->e);
  sng_jit_free(f->jit);
  for (int i = 0; i < f->p->nparams; i++) free(f->values[i]);
  free(f->values);
  sng_plan_free(f->p);
}

/* the mean loss of the batch, the forward run in `mode` (SNG_EXEC_TEST or SNG_EXEC_TRAIN) */
static inline double fd_mean_loss(FdFixture *f, int mode) {
  const SngPlanGraph *g = &f->p->graphs[0];
  sng_exec_run(f->e, mode, NULL, NULL);
  float *l = sng_exec_tensor_at(f->e, g->loss);
  double s = 0;
  for (int64_t i = 0; i < g->batch; i++) s += l[i];
  return s / (double)g->batch;
}

/* Every parameter's gradient from one training step against central differences of the loss
 * in `mode`; returns the number of elements compared.  `what` names the case in messages. */
static inline int fd_check(FdFixture *f, int mode, const char *what) {
  const SngPlanGraph *g = &f->p->graphs[0];
  sng_exec_run(f->e, SNG_EXEC_TRAIN, NULL, NULL);
  /* copy every gradient first: a forward run may reuse memory the step's gradients held
   * (the memory plan is for whole steps) */
  float **grads = calloc((size_t)g->ntensors, sizeof(float *));
  for (int t = 0; t < g->ntensors; t++) {
    const SngPlanTensor *gt = &g->tensors[t];
    if (gt->kind != SNG_TENSOR_GRAD || f->p->params[gt->param].running > 0) continue;
    int64_t n = sng_plan_tensor_numel(gt);
    grads[t] = malloc((size_t)n * 4);
    memcpy(grads[t], sng_exec_tensor_at(f->e, t), (size_t)n * 4);
  }
  int checked = 0;
  for (int t = 0; t < g->ntensors; t++) {
    if (!grads[t]) continue;
    int pi = g->tensors[t].param;
    int64_t n = sng_plan_tensor_numel(&g->tensors[t]);
    for (int64_t k = 0; k < n; k += (n + 11) / 12) {
      float *w = &f->values[pi][k], saved = *w;
      const float eps = 1e-2f;
      *w = saved + eps;
      double up = fd_mean_loss(f, mode);
      *w = saved - eps;
      double down = fd_mean_loss(f, mode);
      *w = saved;
      double num = (up - down) / (2.0 * (double)eps), ana = grads[t][k];
      cr_expect(fabs(num - ana) <= 2e-3 + 2e-2 * fabs(num), "%s: %s[%lld]: analytic %g, numeric %g", what,
                f->p->params[pi].name, (long long)k, ana, num);
      checked++;
    }
    free(grads[t]);
  }
  free(grads);
  return checked;
}

#endif
