/* test_act_kernels.c - the activation ops of issue 10 as JIT kernels, against libm: accuracy
 * over a wide range (the exp-based forms are not bit-identical to libm, so a relative bound),
 * extremes that must not overflow into NaN, and NaN in, NaN out at every lane and in the tail.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sng_cg.h"
#include "sng_ir.h"
#include "sng_jit.h"

static const SngLoc L = {0};

typedef double (*Ref)(double x, double a);

/* out = op(x[, const a]) over [R, C], one kernel */
static void run(SngOp op, int nconst, double a, const float *x, float *out, int64_t R, int64_t C) {
  SngIrGraph *g = sng_ir_graph_new("t");
  SngShape s = sng_shape2(R, C);
  SngIrNode *in = sng_ir_arg(g, L, "x", s, 0);
  SngIrNode *n = nconst ? sng_ir_op2(g, op, L, in, sng_ir_const(g, L, a)) : sng_ir_op1(g, op, L, in);
  n->shape = s;
  SngIrKernel *k = sng_ir_kernel_new(g);
  k->space = s;
  k->members = sng_arena_alloc(g->arena, sizeof n);
  k->members[0] = n, k->nmembers = 1;
  n->kernel = k->id;
  k->bufs = sng_arena_alloc(g->arena, 2 * sizeof n);
  k->bufs[0] = in, k->bufs[1] = n, k->nbufs = 2, k->ninputs = 1;
  char err[512];
  SngJit *j = sng_jit_new(err, sizeof err);
  cr_assert(j, "%s", err);
  void *bc;
  size_t len;
  cr_assert_eq(sng_cg_kernel(k, "k0", &bc, &len, NULL, err, sizeof err), 0, "%s", err);
  SngKernelFn f;
  cr_assert_eq(sng_jit_add(j, bc, len, "k0", &f, err, sizeof err), 0, "%s", err);
  f((float *[]){(float *)x, out}, NULL, R, C);
  free(bc);
  sng_jit_free(j);
  sng_ir_graph_free(g);
}

/* op against ref on a sweep of [-lo, lo], extremes, and NaN at several lanes */
static void check(SngOp op, int nconst, double a, Ref ref, double lo, double tol, const char *what) {
  enum { R = 7, C = 151 };   /* 1057 elements: vectors and a tail */
  static float x[R * C], out[R * C];
  for (int i = 0; i < R * C; i++) x[i] = (float)(-lo + 2 * lo * i / (R * C - 1));
  x[3] = 0.0f, x[4] = -0.0f, x[5] = 1e-30f, x[6] = -1e-30f, x[7] = 1e-4f, x[8] = -3e-3f;
  x[9] = 1e30f, x[10] = -1e30f, x[11] = INFINITY, x[12] = -INFINITY, x[13] = 89.0f, x[14] = -89.0f;
  x[15] = 0.1249f, x[16] = 0.1251f, x[17] = -0.1251f;
  int nan_at[] = {0, 1, 17 + 1, 64, 500, R * C - 2, R * C - 1};
  for (size_t i = 0; i < sizeof nan_at / sizeof *nan_at; i++) x[nan_at[i]] = i % 2 ? -NAN : NAN;
  run(op, nconst, a, x, out, R, C);
  for (int i = 0; i < R * C; i++) {
    double want = ref(x[i], a);
    if (isnan(want)) {
      cr_assert(isnan(out[i]), "%s(NaN) at %d gave %g", what, i, out[i]);
      continue;
    }
    cr_assert(!isnan(out[i]), "%s(%g) gave NaN", what, x[i]);
    double err = fabs(out[i] - want), scale = fmax(fabs(want), 1e-30); /* denormals: absolute */
    cr_assert(err <= tol * scale || (isinf(want) && out[i] == want), "%s(%.9g) = %.9g, want %.9g (rel %.3g)", what,
              x[i], out[i], want, err / scale);
  }
}

static double sigmoid_ref(double x, double a) { (void)a; return 1 / (1 + exp(-x)); }
static double tanh_ref(double x, double a) { (void)a; return tanh(x); }

Test(act_kernels, sigmoid) { check(SNG_OP_SIGMOID, 0, 0, sigmoid_ref, 30, 1e-6, "sigmoid"); }
Test(act_kernels, tanh) { check(SNG_OP_TANH, 0, 0, tanh_ref, 12, 1e-6, "tanh"); }
Test(act_kernels, tanh_near_zero) { check(SNG_OP_TANH, 0, 0, tanh_ref, 0.3, 1e-6, "tanh"); }

static double leaky_ref(double x, double a) { return isnan(x) ? NAN : x > 0 ? x : (double)(float)a * x; }
static double softplus_ref(double x, double a) { (void)a; return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }

Test(act_kernels, leaky_relu) { check(SNG_OP_LEAKY_RELU, 1, 0.1, leaky_ref, 5, 1e-6, "leaky_relu"); }
Test(act_kernels, softplus) { check(SNG_OP_SOFTPLUS, 0, 0, softplus_ref, 40, 2e-6, "softplus"); }

static double stanh_ref(double x, double a) { (void)a; return 1.7159047 * tanh(0.66666667 * x); }

Test(act_kernels, stanh) { check(SNG_OP_STANH, 0, 0, stanh_ref, 15, 1e-6, "stanh"); }
