/* test_jit_proof.c - proves that the executor computes fused ops through the plan's LLVM
 * bitcode and the JIT, not through some C fallback: swapping the bias_add+relu kernel's
 * bitcode for another kernel (same symbol and buffers, computing the constant 42) must
 * change what the worker's hidden layer holds; and a plan whose kernel bitcode is broken
 * must be refused, since nothing else could run the op.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sng_cg.h"
#include "sng_exec.h"
#include "sng_lower.h"
#include "testutil.h"
#include "tmpdir.h"

static SngPlan *compile_small(char *dir, size_t n) {
  char text[2048];
  tu_tmpdir(dir, n, "jitp");
  cr_assert_eq(write_synthetic_idx(dir, "train", 20, 3, 3, 1), 0);
  snprintf(text, sizeof text,
           "data d {\n dir = \"%s\"\n train = idx(\"train-images.gz\", \"train-labels.gz\")\n batch = 4\n}\n"
           "net m {\n x, y = input(d)\n h = relu(dense(x, 5))\n l = dense(h, 3)\n"
           " loss softmax_cross_entropy(l, y)\n}\ntrain m with bp, sgd {\n}\n", dir);
  SngDiag *d = sng_diag_new(stderr, 10);
  SngPlan *p = sng_compile_string("j.sng", text, d, NULL);
  sng_diag_free(d);
  cr_assert_not_null(p);
  return p;
}

/* out = (a + b) * 0 + 42 over the same three buffers as bias_add+relu */
static void forty_two(const char *symbol, void **bc, size_t *len) {
  SngIrGraph *g = sng_ir_graph_new("k");
  SngLoc loc = {0};
  SngIrNode *a = sng_ir_arg(g, loc, "a", sng_shape2(4, 5), 0), *b = sng_ir_arg(g, loc, "b", sng_shape1(5), 1);
  SngIrNode *s = sng_ir_op2(g, SNG_OP_ADD, loc, a, b);
  s->shape = a->shape;
  SngIrNode *z = sng_ir_op2(g, SNG_OP_MUL, loc, s, sng_ir_const(g, loc, 0));
  z->shape = a->shape;
  SngIrNode *o = sng_ir_op2(g, SNG_OP_ADD, loc, z, sng_ir_const(g, loc, 42));
  o->shape = a->shape;
  SngIrKernel *k = sng_ir_kernel_new(g);
  SngIrNode *members[3] = {s, z, o}, *bufs[3] = {a, b, o};
  k->members = members, k->nmembers = 3, k->bufs = bufs, k->nbufs = 3, k->ninputs = 2, k->space = a->shape;
  for (int i = 0; i < 3; i++) members[i]->kernel = k->id;
  char err[256];
  cr_assert_eq(sng_cg_kernel(k, symbol, bc, len, NULL, err, sizeof err), 0, "%s", err);
  sng_ir_graph_free(g);
}

static float **params_for(const SngPlan *p) {
  float **v = calloc((size_t)p->nparams, sizeof(float *));
  for (int i = 0; i < p->nparams; i++) {
    int64_t n = 1;
    for (int j = 0; j < p->params[i].rank; j++) n *= p->params[i].dims[j];
    v[i] = sng_alloc_aligned((size_t)n * 4);
    for (int64_t k = 0; k < n; k++) v[i][k] = 0.01f * (float)(k % 7) - 0.02f;
  }
  return v;
}

Test(jit_proof, swapping_the_bitcode_changes_the_result) {
  char dir[64], err[512];
  SngPlan *p = compile_small(dir, sizeof dir);
  SngPlanKernel *k = NULL;
  for (int i = 0; i < p->nkernels; i++)
    if (!strcmp(p->kernels[i].members, "bias_add+relu")) k = &p->kernels[i];
  cr_assert_not_null(k);
  void *bc;
  size_t len;
  forty_two(k->symbol, &bc, &len);
  k->bitcode = bc, k->bitcode_len = len;
  float **v = params_for(p);
  SngJit *jit = sng_jit_new(err, sizeof err);
  SngExec *e = sng_exec_new(p, 0, jit, v, err, sizeof err);
  cr_assert_not_null(e, "%s", err);
  sng_exec_run(e, SNG_EXEC_TEST, NULL, NULL);
  float *h = sng_exec_tensor(e, "h");
  cr_assert_not_null(h);
  for (int i = 0; i < 20; i++) cr_expect_eq(h[i], 42.0f, "h[%d] = %g", i, h[i]);
  cr_expect_gt(sng_exec_kernel_calls(e), 0);
  sng_exec_free(e);
  sng_jit_free(jit);
  free(bc);
  for (int i = 0; i < p->nparams; i++) free(v[i]);
  free(v);
  sng_plan_free(p);
  tu_rmdir(dir);
}

Test(jit_proof, broken_bitcode_is_refused) {
  char dir[64], err[512];
  SngPlan *p = compile_small(dir, sizeof dir);
  static const char junk[] = "BC\xc0\xde this is not bitcode";
  p->kernels[0].bitcode = junk, p->kernels[0].bitcode_len = sizeof junk;
  float **v = params_for(p);
  SngJit *jit = sng_jit_new(err, sizeof err);
  SngExec *e = sng_exec_new(p, 0, jit, v, err, sizeof err);
  cr_expect_null(e, "a kernel that does not compile has no fallback");
  cr_expect_not_null(strstr(err, "k0"), "the message names the kernel: %s", err);
  sng_jit_free(jit);
  for (int i = 0; i < p->nparams; i++) free(v[i]);
  free(v);
  sng_plan_free(p);
  tu_rmdir(dir);
}
