/* test_act_plan.c - the plan reader's rules for the C-kernel ops of issue 10 (softmax, slice,
 * concat, embed, one_hot, the target losses, top-k): a compiled plan passes, and each op with
 * attributes or sizes its kernel would trust is refused when they are wrong. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sng_exec.h"
#include "sng_lower.h"
#include "testutil.h"
#include "tmpdir.h"

static char dir[64];

static SngPlan *compile(void) {
  static char text[2048];
  snprintf(text, sizeof text,
           "data d {\n dir = \"%s\"\n train = idx(\"train-images.gz\", \"train-labels.gz\")\n batch = 5\n}\n"
           "net m {\n x, y = input(d)\n h = dense(x, 6)\n a, b = split(h)\n"
           " c = concat(softmax(a), slice(b, 1, 2), embed(y, 3, 2), one_hot(y, 3))\n l = dense(c, 3)\n"
           " loss euclidean_loss(l, one_hot(y, 3))\n metric accuracy(l, y, k = 2)\n}\n"
           "train m with bp, sgd {\n}\n", dir);
  SngDiag *d = sng_diag_new(stderr, 10);
  SngPlan *p = sng_compile_string("n.sng", text, d, NULL);
  sng_diag_free(d);
  cr_assert_not_null(p);
  return p;
}

static SngPlanOp *find_op(SngPlan *p, SngOp op) {
  SngPlanGraph *g = &p->graphs[0];
  for (int i = 0; i < g->nops; i++)
    if (g->ops[i].op == (int32_t)op) return &g->ops[i];
  cr_assert_fail("no %s op in the plan", sng_op_info[op].name);
  return NULL;
}

static void refused(SngOp op, void (*mutate)(SngPlan *p, SngPlanOp *o), const char *want) {
  SngPlan *p = compile();
  mutate(p, find_op(p, op));
  char err[512] = "";
  cr_expect_neq(sng_plan_validate(p, err, sizeof err), 0, "%s: damaged but accepted", sng_op_info[op].name);
  cr_expect_not_null(strstr(err, want), "%s: wanted '%s' in: %s", sng_op_info[op].name, want, err);
  sng_plan_free(p);
}

static void slice_past(SngPlan *p, SngPlanOp *o) { (void)p, o->iattr[1] = 100; }
static void slice_dim0(SngPlan *p, SngPlanOp *o) { (void)p, o->iattr[0] = 5; }
static void zero_classes(SngPlan *p, SngPlanOp *o) { (void)p, o->iattr[0] = 0; }
static void zero_k(SngPlan *p, SngPlanOp *o) { (void)p, o->iattr[0] = 0; }
static void concat_dim(SngPlan *p, SngPlanOp *o) { (void)p, o->iattr[0] = 7; }
static void swap_inputs(SngPlan *p, SngPlanOp *o) { (void)p; int32_t t = o->in[0]; o->in[0] = o->in[1], o->in[1] = t; }
static void short_target(SngPlan *p, SngPlanOp *o) { (void)p, o->in[1] = o->out[0]; }

Test(act_plan, compiled_plan_is_valid_and_damage_is_refused, .timeout = 120) {
  tu_tmpdir(dir, sizeof dir, "actplan");
  cr_assert_eq(write_synthetic_idx(dir, "train", 20, 3, 3, 1), 0);
  SngPlan *p = compile();
  char err[512] = "";
  cr_expect_eq(sng_plan_validate(p, err, sizeof err), 0, "%s", err);
  sng_plan_free(p);
  refused(SNG_OP_SLICE_DIM, slice_past, "falls outside");
  refused(SNG_OP_SLICE_DIM, slice_dim0, "slice dimension 5");
  refused(SNG_OP_ONE_HOT, zero_classes, "one_hot of 5 ids into 0 classes");
  refused(SNG_OP_TOP_K, zero_k, "k = 0");
  refused(SNG_OP_CONCAT_DIM, concat_dim, "concat dimension 7");
  refused(SNG_OP_EMBED, swap_inputs, "rank");
  refused(SNG_OP_EUCLIDEAN_LOSS, short_target, "a target per prediction");
  tu_rmdir(dir);
}

/* accuracy(l, y, k = 2) against top-2 computed here from the logits the step made */
Test(act_plan, top_k_ranks_as_argmax_does, .timeout = 60) {
  char d2[64], text[2048], err[512];
  tu_tmpdir(d2, sizeof d2, "topk");
  cr_assert_eq(write_synthetic_idx(d2, "train", 20, 3, 4, 1), 0);
  snprintf(text, sizeof text,
           "data d {\n dir = \"%s\"\n train = idx(\"train-images.gz\", \"train-labels.gz\")\n batch = 9\n}\n"
           "net m {\n x, y = input(d)\n l = dense(x, 4)\n loss softmax_cross_entropy(l, y)\n metric accuracy(l, y, k = 2)\n}\n"
           "train m with bp, sgd {\n}\n", d2);
  SngDiag *d = sng_diag_new(stderr, 10);
  SngPlan *p = sng_compile_string("n.sng", text, d, NULL);
  sng_diag_free(d);
  cr_assert_not_null(p);
  SngJit *jit = sng_jit_new(err, sizeof err);
  float **values = calloc((size_t)p->nparams, sizeof *values);
  for (int i = 0; i < p->nparams; i++) {
    int64_t n = 1;
    for (int j = 0; j < p->params[i].rank; j++) n *= p->params[i].dims[j];
    values[i] = sng_alloc_aligned((size_t)n * 4);
    for (int64_t k = 0; k < n; k++) values[i][k] = p->params[i].rank == 1 ? 0 : k % 4 < 2 ? (float)(k / 4 % 3) - 1 : (float)(k / 4 * (k % 4) % 5) - 2; /* columns 0, 1 tie */
  }
  SngExec *e = sng_exec_new(p, 0, jit, values, err, sizeof err);
  cr_assert_not_null(e, "%s", err);
  const SngPlanGraph *g = &p->graphs[0];
  int lt = -1, yt = -1;
  for (int t = 0; t < g->ntensors; t++) {
    const SngPlanTensor *x = &g->tensors[t];
    if (x->name && !strcmp(x->name, "l")) lt = t;
    if (x->kind != SNG_TENSOR_INPUT) continue;
    if (x->param == 1) yt = t;
    float *v = sng_exec_tensor_at(e, t);
    int64_t n = 1;
    for (int j = 0; j < x->rank; j++) n *= x->dims[j];
    for (int64_t k = 0; k < n; k++) v[k] = x->param == 0 ? (float)(k % 3) : (float)(k % 4); /* ties in l */
  }
  cr_assert(lt >= 0 && yt >= 0);
  sng_exec_run(e, SNG_EXEC_TEST, NULL, NULL); /* forward only: l is not reused by the backward pass */
  const float *l = sng_exec_tensor_at(e, lt), *y = sng_exec_tensor_at(e, yt), *m = sng_exec_tensor_at(e, g->metric);
  int ties = 0;
  for (int i = 0; i < 9; i++) {
    int lab = (int)y[i], better = 0;
    for (int j = 0; j < 4; j++) better += l[i * 4 + j] > l[i * 4 + lab] || (j < lab && l[i * 4 + j] == l[i * 4 + lab]);
    for (int j = 0; j < 4; j++) ties += j != lab && l[i * 4 + j] == l[i * 4 + lab];
    cr_expect_eq(m[i], (float)(better < 2), "row %d: top-2 %g, want %d", i, m[i], better < 2);
  }
  cr_expect_gt(ties, 0, "the logits should hold ties");
  sng_exec_free(e);
  sng_jit_free(jit);
  for (int i = 0; i < p->nparams; i++) free(values[i]);
  free(values);
  sng_plan_free(p);
  tu_rmdir(d2);
}
