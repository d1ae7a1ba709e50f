/* test_act_nan.c - NaN is never hidden by the activations of issue 10 (as test_grad.c's relu
 * test): one NaN weight in the first layer makes a hidden unit NaN for every row, and each
 * activation must pass it on to the loss, the metric and the first layer's gradient. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sng_exec.h"
#include "sng_lower.h"
#include "testutil.h"
#include "tmpdir.h"

static void nan_through(const char *dir, const char *act) {
  char text[2048], err[512];
  snprintf(text, sizeof text,
           "data d {\n dir = \"%s\"\n train = idx(\"train-images.gz\", \"train-labels.gz\")\n batch = 5\n}\n"
           "net m {\n x, y = input(d)\n h = %s(dense(x, 7))\n l = dense(h, 3)\n"
           " loss softmax_cross_entropy(l, y)\n metric accuracy(l, y)\n}\n"
           "train m with bp, sgd {\n}\n", dir, act);
  SngDiag *d = sng_diag_new(stderr, 10);
  SngPlan *p = sng_compile_string("n.sng", text, d, NULL);
  sng_diag_free(d);
  cr_assert_not_null(p, "%s", act);
  SngJit *jit = sng_jit_new(err, sizeof err);
  cr_assert_not_null(jit, "%s", err);
  float **values = calloc((size_t)p->nparams, sizeof *values);
  int w1 = -1;
  for (int i = 0; i < p->nparams; i++) {
    int64_t n = 1;
    for (int j = 0; j < p->params[i].rank; j++) n *= p->params[i].dims[j];
    values[i] = sng_alloc_aligned((size_t)n * 4);
    for (int64_t k = 0; k < n; k++) values[i][k] = 0.01f * (float)(k % 7) - 0.03f;
    if (p->params[i].rank == 2 && p->params[i].dims[1] == 7) w1 = i;
  }
  cr_assert_geq(w1, 0);
  values[w1][0] = NAN;
  SngExec *e = sng_exec_new(p, 0, jit, values, err, sizeof err);
  cr_assert_not_null(e, "%s", err);
  const SngPlanGraph *g = &p->graphs[0];
  for (int t = 0; t < g->ntensors; t++) {
    const SngPlanTensor *x = &g->tensors[t];
    if (x->kind != SNG_TENSOR_INPUT) continue;
    float *v = sng_exec_tensor_at(e, t);
    int64_t n = 1;
    for (int j = 0; j < x->rank; j++) n *= x->dims[j];
    for (int64_t k = 0; k < n; k++) v[k] = x->param == 0 ? 0.5f : (float)(k % 3);
  }
  sng_exec_run(e, SNG_EXEC_TRAIN, NULL, NULL);
  float *loss = sng_exec_tensor_at(e, g->loss), *acc = sng_exec_tensor_at(e, g->metric);
  for (int64_t i = 0; i < g->batch; i++) {
    cr_expect(isnan(loss[i]), "%s: loss[%lld] = %g: the NaN was hidden", act, (long long)i, loss[i]);
    cr_expect(isnan(acc[i]), "%s: accuracy[%lld] = %g", act, (long long)i, acc[i]);
  }
  int nan_grads = 0;
  for (int t = 0; t < g->ntensors; t++) {
    const SngPlanTensor *gt = &g->tensors[t];
    if (gt->kind != SNG_TENSOR_GRAD || gt->param != w1) continue;
    float *v = sng_exec_tensor_at(e, t);
    int64_t n = 1;
    for (int j = 0; j < gt->rank; j++) n *= gt->dims[j];
    for (int64_t k = 0; k < n; k++) nan_grads += isnan(v[k]);
  }
  cr_expect_gt(nan_grads, 0, "%s: the first layer's gradient hides the NaN", act);
  sng_exec_free(e);
  sng_jit_free(jit);
  for (int i = 0; i < p->nparams; i++) free(values[i]);
  free(values);
  sng_plan_free(p);
}

Test(act_nan, every_activation_passes_nan_on) {
  char dir[64];
  tu_tmpdir(dir, sizeof dir, "actnan");
  cr_assert_eq(write_synthetic_idx(dir, "train", 20, 3, 3, 1), 0);
  static const char *const acts[] = {"sigmoid", "tanh", "stanh", "leaky_relu", "softplus", "softmax"};
  for (size_t i = 0; i < sizeof acts / sizeof *acts; i++) nan_through(dir, acts[i]);
  tu_rmdir(dir);
}
