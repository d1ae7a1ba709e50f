/* test_grad.c - every gradient rule against finite differences, through the whole stack:
 * the compiler builds the backward IR, fuses it, plans memory and emits kernels; the
 * executor runs it JIT-compiled.  The loss is the mean of the per-row losses, as trained.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sng_exec.h"
#include "sng_lower.h"
#include "fdcheck.h"
#include "testutil.h"
#include "tmpdir.h"

/* every parameter's gradient against central differences of the test-mode loss */
static void check_gradients(FdFixture *f) {
  cr_expect_gt(fd_check(f, SNG_EXEC_TEST, "grad"), 0);
  cr_expect_gt(sng_exec_kernel_calls(f->e), 0, "the elementwise work ran as JIT kernels");
}

/* A job whose net is built as IR by the test: x [4, 3] features, y [4] labels of 3 classes,
 * sgd, one worker and one server. */
static SngJob *ir_job(SngLoc loc, SngIrNode **x, SngIrNode **y) {
  SngJob *job = sng_job_new();
  job->source = "t";
  job->data = (SngPlanData){.name = "d", .format = "idx", .batch = 4, .scale = 1, .sample_rank = 1, .sample_dims = {3}, .classes = 3};
  job->updater = (SngPlanUpdater){.kind = SNG_UPD_SGD, .lr = 0.1, .kernel = -1};
  job->train = (SngPlanTrain){.net = "t", .alg = "bp", .steps = 1, .display_every = 1};
  job->cluster = (SngPlanCluster){1, 1, 1, 1, SNG_FW_SANDBLASTER, 0};
  SngIrGraph *g = job->net = sng_ir_graph_new("t");
  *x = sng_ir_input(g, loc, "x", sng_shape2(4, 3), 0);
  *y = sng_ir_input(g, loc, "y", sng_shape1(4), 1);
  (*y)->attr.input.classes = 3;
  return job;
}

/* the job's plan, every pass run (SNG_TEST_DUMP=1: the IR after memplan on stderr) */
static SngPlan *ir_plan(SngJob *job) {
  SngDiag *d = sng_diag_new(stderr, 10);
  cr_assert_eq(sng_pass_run_all(job, d, getenv("SNG_TEST_DUMP") ? stderr : NULL, "memplan"), 0);
  sng_diag_free(d);
  char err[256];
  SngPlan *p = sng_lower(job, NULL, err, sizeof err);
  cr_assert_not_null(p, "%s", err);
  return p;
}

/* dense (matmul + bias_add), relu, softmax cross-entropy: the layers of the language */
Test(grad, layers_of_an_mlp) {
  char dir[64], text[2048];
  tu_tmpdir(dir, sizeof dir, "grad");
  cr_assert_eq(write_synthetic_idx(dir, "train", 20, 3, 3, 1), 0);
  snprintf(text, sizeof text,
           "data d {\n dir = \"%s\"\n train = idx(\"train-images.gz\", \"train-labels.gz\")\n batch = 5\n}\n"
           "net m {\n x, y = input(d)\n h = relu(dense(x, 7))\n h2 = relu(dense(h, 6))\n l = dense(h2, 3)\n"
           " loss softmax_cross_entropy(l, y)\n metric accuracy(l, y)\n}\n"
           "train m with bp, sgd {\n}\n", dir);
  SngDiag *d = sng_diag_new(stderr, 10);
  SngPlan *p = sng_compile_string("g.sng", text, d, NULL);
  sng_diag_free(d);
  cr_assert_not_null(p);
  FdFixture f;
  fd_setup(&f, p);
  check_gradients(&f);
  fd_teardown(&f);
  tu_rmdir(dir);
}

/* add, sub, mul (and their fusion into one kernel with several parameters), built as IR */
Test(grad, elementwise_arithmetic) {
  SngLoc loc = {"t", 1, 1};
  SngIrNode *x, *y;
  SngJob *job = ir_job(loc, &x, &y);
  SngIrGraph *g = job->net;
  SngIrNode *a = sng_ir_param(g, loc, "a", sng_shape2(4, 3)), *b = sng_ir_param(g, loc, "b", sng_shape2(4, 3));
  a->init = b->init = (SngInit){SNG_INIT_UNIFORM, -1, 1};
  SngIrNode *ab = sng_ir_op2(g, SNG_OP_MUL, loc, a, b);
  SngIrNode *bx = sng_ir_op2(g, SNG_OP_MUL, loc, b, x);
  SngIrNode *z = sng_ir_op2(g, SNG_OP_ADD, loc, ab, sng_ir_op2(g, SNG_OP_SUB, loc, a, bx));
  job->loss = sng_ir_op2(g, SNG_OP_SOFTMAX_XENT, loc, z, y);
  SngPlan *p = ir_plan(job);
  int fused = 0;
  for (int i = 0; i < p->nkernels; i++) fused |= strstr(p->kernels[i].members, "mul+mul+sub+add") != NULL;
  cr_expect(fused, "the forward arithmetic is one kernel");
  FdFixture f;
  fd_setup(&f, p);
  check_gradients(&f);
  fd_teardown(&f);
  sng_job_free(job);
}

/* a weight used transposed (z = tanh(x W0) P^T, as rbm's reconstruction uses its W), then a
 * plain product: the gradients of W0, P and Q through the transposed product */
Test(grad, matmul_with_a_transposed_weight) {
  SngLoc loc = {"t", 1, 1};
  SngIrNode *x, *y;
  SngJob *job = ir_job(loc, &x, &y);
  SngIrGraph *g = job->net;
  SngIrNode *pw = sng_ir_param(g, loc, "p", sng_shape2(5, 3)), *q = sng_ir_param(g, loc, "q", sng_shape2(5, 3));
  pw->init = q->init = (SngInit){SNG_INIT_UNIFORM, -1, 1};
  SngIrNode *w0 = sng_ir_param(g, loc, "w0", sng_shape2(3, 3));
  w0->init = pw->init;
  SngIrNode *z1 = sng_ir_op2(g, SNG_OP_MATMUL, loc, sng_ir_op1(g, SNG_OP_TANH, loc, sng_ir_op2(g, SNG_OP_MATMUL, loc, x, w0)), pw);
  z1->attr.matmul.trans_b = 1;
  job->loss = sng_ir_op2(g, SNG_OP_SOFTMAX_XENT, loc, sng_ir_op2(g, SNG_OP_MATMUL, loc, sng_ir_op1(g, SNG_OP_SIGMOID, loc, z1), q), y);
  SngPlan *p = ir_plan(job);
  FdFixture f;
  fd_setup(&f, p);
  check_gradients(&f);
  fd_teardown(&f);
  sng_job_free(job);
}

/* NaN is never hidden: one NaN weight in the first layer makes its hidden unit NaN for every
 * row; relu must pass it on (an ordered x > 0 ? x : 0 made it 0 and the loss stayed finite,
 * so a diverged run trained on at chance level), and so must accuracy and the gradients. */
Test(grad, nan_in_first_layer_reaches_loss_metric_and_gradients) {
  char dir[64], text[2048];
  tu_tmpdir(dir, sizeof dir, "grad");
  cr_assert_eq(write_synthetic_idx(dir, "train", 20, 3, 3, 1), 0);
  snprintf(text, sizeof text,
           "data d {\n dir = \"%s\"\n train = idx(\"train-images.gz\", \"train-labels.gz\")\n batch = 5\n}\n"
           "net m {\n x, y = input(d)\n h = relu(dense(x, 7))\n l = dense(h, 3)\n"
           " loss softmax_cross_entropy(l, y)\n metric accuracy(l, y)\n}\n"
           "train m with bp, sgd {\n}\n", dir);
  SngDiag *d = sng_diag_new(stderr, 10);
  SngPlan *p = sng_compile_string("n.sng", text, d, NULL);
  sng_diag_free(d);
  cr_assert_not_null(p);
  FdFixture f;
  fd_setup(&f, p);
  int w1 = -1;
  for (int i = 0; i < p->nparams && w1 < 0; i++)
    if (p->params[i].rank == 2 && p->params[i].dims[1] == 7) w1 = i;   /* [in, 7]: the first layer */
  cr_assert_geq(w1, 0, "no first-layer weight");
  f.values[w1][0] = NAN;
  const SngPlanGraph *g = &p->graphs[0];
  sng_exec_run(f.e, SNG_EXEC_TRAIN, NULL, NULL);
  float *loss = sng_exec_tensor_at(f.e, g->loss), *acc = sng_exec_tensor_at(f.e, g->metric);
  for (int64_t i = 0; i < g->batch; i++) {
    cr_assert(isnan(loss[i]), "loss[%lld] = %g: the NaN was hidden", (long long)i, loss[i]);
    cr_assert(isnan(acc[i]), "accuracy[%lld] = %g: a NaN row counted as a guess", (long long)i, acc[i]);
  }
  int nan_grads = 0;
  for (int t = 0; t < g->ntensors; t++) {
    const SngPlanTensor *gt = &g->tensors[t];
    if (gt->kind != SNG_TENSOR_GRAD || gt->param != w1) continue;
    float *v = sng_exec_tensor_at(f.e, t);
    int64_t n = 1;
    for (int j = 0; j < gt->rank; j++) n *= gt->dims[j];
    for (int64_t k = 0; k < n; k++) nan_grads += isnan(v[k]);
  }
  cr_assert_gt(nan_grads, 0, "the first layer's gradient hides the NaN");
  fd_teardown(&f);
  tu_rmdir(dir);
}
