/* test_kernels.c - fused kernels end to end: IR group -> sng_cg_kernel -> sng_jit_add -> call,
 * checked against plain C loops written here.
 *
 * Elementwise results must match C bit for bit (no fast-math, no FMA contraction, and the
 * test is built with -std=c11, i.e. -ffp-contract=off).  The softmax gradient may differ by
 * an ulp or so, because its exp is vectorised (libmvec) while the C reference calls expf.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sng_cg.h"
#include "sng_ir.h"
#include "sng_jit.h"

static const SngLoc L = {0};

/* ---- helpers ---- */

static SngIrNode *op1(SngIrGraph *g, SngOp op, SngIrNode *a, SngShape s) {
  SngIrNode *n = sng_ir_op1(g, op, L, a);
  n->shape = s;
  return n;
}
static SngIrNode *op2(SngIrGraph *g, SngOp op, SngIrNode *a, SngIrNode *b, SngShape s) {
  SngIrNode *n = sng_ir_op2(g, op, L, a, b);
  n->shape = s;
  return n;
}

static SngIrKernel *group(SngIrGraph *g, bool rowwise, SngShape space, SngIrNode **members,
                          int nm, SngIrNode **bufs, int nb, int ninputs) {
  SngIrKernel *k = sng_ir_kernel_new(g);
  k->rowwise = rowwise;
  k->space = space;
  k->members = sng_arena_alloc(g->arena, (size_t)nm * sizeof *members);
  memcpy(k->members, members, (size_t)nm * sizeof *members);
  k->nmembers = nm;
  k->bufs = sng_arena_alloc(g->arena, (size_t)nb * sizeof *bufs);
  memcpy(k->bufs, bufs, (size_t)nb * sizeof *bufs);
  k->nbufs = nb;
  k->ninputs = ninputs;
  for (int i = 0; i < nm; i++) members[i]->kernel = k->id;
  return k;
}

static SngJit *jit(void) {
  char err[512];
  SngJit *j = sng_jit_new(err, sizeof err);
  cr_assert(j, "%s", err);
  return j;
}

static SngKernelFn compile(SngJit *j, const SngIrKernel *k, const char *sym) {
  void *bc;
  size_t len;
  char err[512];
  cr_assert_eq(sng_cg_kernel(k, sym, &bc, &len, NULL, err, sizeof err), 0, "%s", err);
  SngKernelFn f;
  cr_assert_eq(sng_jit_add(j, bc, len, sym, &f, err, sizeof err), 0, "%s", err);
  cr_assert(f);
  free(bc);
  return f;
}

static float *randv(SngRng *r, int64_t n, double lo, double hi) {
  float *v = malloc((size_t)n * sizeof *v);
  for (int64_t i = 0; i < n; i++) v[i] = (float)(lo + (hi - lo) * sng_rng_uniform(r));
  return v;
}

static void assert_same(const float *got, const float *want, int64_t n, const char *what) {
  for (int64_t i = 0; i < n; i++)
    if (memcmp(&got[i], &want[i], sizeof(float)) != 0)
      cr_assert_fail("%s[%lld]: got %.9g, want %.9g", what, (long long)i, got[i], want[i]);
}

/* ---- (a) bias_add + relu over [R,C] with bias [C] ---- */

static void bias_relu(int64_t R, int64_t C, int64_t run_rows) {
  SngIrGraph *g = sng_ir_graph_new("t");
  SngShape s = sng_shape2(R, C);
  SngIrNode *x = sng_ir_arg(g, L, "x", s, 0), *b = sng_ir_arg(g, L, "b", sng_shape1(C), 1);
  SngIrNode *h = op2(g, SNG_OP_BIAS_ADD, x, b, s), *y = op1(g, SNG_OP_RELU, h, s);
  SngIrKernel *k = group(g, false, s, (SngIrNode *[]){h, y}, 2, (SngIrNode *[]){x, b, y}, 3, 2);
  SngJit *j = jit();
  SngKernelFn f = compile(j, k, "k0");

  SngRng r;
  sng_rng_seed(&r, 1);
  float *xv = randv(&r, R * C, -1, 1), *bv = randv(&r, C, -0.5, 0.5);
  float *out = malloc((size_t)(R * C) * sizeof *out), *want = malloc((size_t)(R * C) * sizeof *want);
  for (int64_t i = 0; i < R * C; i++) out[i] = want[i] = -7.0f;   /* sentinel past run_rows */
  for (int64_t i = 0; i < run_rows; i++)
    for (int64_t c = 0; c < C; c++) {
      float v = xv[i * C + c] + bv[c];
      want[i * C + c] = v > 0 ? v : 0;
    }
  f((float *[]){xv, bv, out}, NULL, run_rows, C);
  assert_same(out, want, R * C, "relu(x+b)");
  free(xv), free(bv), free(out), free(want);
  sng_jit_free(j);
  sng_ir_graph_free(g);
}

Test(cg_eltwise, bias_relu_64x1000) { bias_relu(64, 1000, 64); }
Test(cg_eltwise, bias_relu_odd_tail) { bias_relu(3, 17, 3); }
/* The space is compile-time [64,C] but rows come from the caller (a smaller last batch). */
Test(cg_eltwise, bias_relu_uses_runtime_rows) { bias_relu(64, 33, 7); }
Test(cg_eltwise, empty_space_writes_nothing) { bias_relu(4, 9, 0); }

/* ---- (b) relu_bwd(dy, y) ---- */

/* NaN must come out where it went in: as same_bits, but any NaN matches any NaN. */
static void assert_same_nan(const float *got, const float *want, int64_t n, const char *what) {
  for (int64_t i = 0; i < n; i++) {
    if (isnan(want[i])) cr_assert(isnan(got[i]), "%s[%lld]: got %.9g, want NaN", what, (long long)i, got[i]);
    else if (memcmp(&got[i], &want[i], sizeof(float)) != 0)
      cr_assert_fail("%s[%lld]: got %.9g, want %.9g", what, (long long)i, got[i], want[i]);
  }
}

static SngKernelFn relu_bwd_kernel(SngJit *j, SngIrGraph *g, int64_t R, int64_t C) {
  SngShape s = sng_shape2(R, C);
  SngIrNode *dy = sng_ir_arg(g, L, "dy", s, 0), *y = sng_ir_arg(g, L, "y", s, 1);
  SngIrNode *dx = op2(g, SNG_OP_RELU_BWD, dy, y, s);
  SngIrKernel *k = group(g, false, s, (SngIrNode *[]){dx}, 1, (SngIrNode *[]){dy, y, dx}, 3, 2);
  return compile(j, k, "k0");
}

/* the reference: y > 0 ? dy : 0, except that a NaN in either gives NaN */
static float relu_bwd_ref(float dy, float y) { return isnan(dy) || isnan(y) ? NAN : y > 0 ? dy : 0; }

Test(cg_eltwise, relu_bwd) {
  const int64_t R = 37, C = 29;
  SngIrGraph *g = sng_ir_graph_new("t");
  SngJit *j = jit();
  SngKernelFn f = relu_bwd_kernel(j, g, R, C);
  SngRng r;
  sng_rng_seed(&r, 2);
  float *dyv = randv(&r, R * C, -1, 1), *yv = randv(&r, R * C, -1, 1);
  yv[0] = 0.0f, yv[1] = -0.0f, yv[2] = NAN, yv[3] = 1e-40f;   /* edges of y > 0 */
  float out[37 * 29], want[37 * 29];
  for (int64_t i = 0; i < R * C; i++) want[i] = relu_bwd_ref(dyv[i], yv[i]);
  f((float *[]){dyv, yv, out}, NULL, R, C);
  assert_same_nan(out, want, R * C, "relu_bwd");
  free(dyv), free(yv);
  sng_jit_free(j);
  sng_ir_graph_free(g);
}

/* ---- (b2) NaN in, NaN out: relu forward and backward, at every lane of a vector and in the
 * scalar tail, with NaN in each source in turn ---- */

Test(cg_nan, relu_forward_propagates_nan) {
  const int64_t R = 5, C = 19;   /* 95 elements: full vectors plus a tail */
  SngIrGraph *g = sng_ir_graph_new("t");
  SngShape s = sng_shape2(R, C);
  SngIrNode *x = sng_ir_arg(g, L, "x", s, 0);
  SngIrNode *y = op1(g, SNG_OP_RELU, x, s);
  SngIrKernel *k = group(g, false, s, (SngIrNode *[]){y}, 1, (SngIrNode *[]){x, y}, 2, 1);
  SngJit *j = jit();
  SngKernelFn f = compile(j, k, "k0");
  float xv[5 * 19], out[5 * 19], want[5 * 19];
  for (int64_t i = 0; i < R * C; i++) {
    xv[i] = i % 3 == 0 ? NAN : i % 3 == 1 ? -(float)i : (float)i;   /* NaN next to both sides */
    if (i == 94) xv[i] = -NAN;
    if (i == 7) xv[i] = -0.0f;
    want[i] = isnan(xv[i]) ? NAN : xv[i] > 0 ? xv[i] : 0;
  }
  f((float *[]){xv, out}, NULL, R, C);
  assert_same_nan(out, want, R * C, "relu(NaN)");
  cr_assert(isnan(out[0]) && isnan(out[93]) && isnan(out[94]), "NaN lost");
  cr_assert(out[7] == 0 && !signbit(out[7]), "relu(-0) must be +0");
  sng_jit_free(j);
  sng_ir_graph_free(g);
}

Test(cg_nan, relu_backward_propagates_nan) {
  const int64_t R = 4, C = 23;
  SngIrGraph *g = sng_ir_graph_new("t");
  SngJit *j = jit();
  SngKernelFn f = relu_bwd_kernel(j, g, R, C);
  float dyv[4 * 23], yv[4 * 23], out[4 * 23], want[4 * 23];
  for (int64_t i = 0; i < R * C; i++) {
    int kind = (int)(i % 6);
    dyv[i] = kind == 0 || kind == 1 ? NAN : (float)i * 0.5f;   /* NaN dy over y <= 0 and y > 0 */
    yv[i] = kind == 2 || kind == 3 ? NAN : kind % 2 ? 1.0f : -1.0f;   /* NaN y with finite dy */
    if (kind == 4) dyv[i] = INFINITY, yv[i] = -1.0f;   /* inf over a dead unit stays 0 */
    want[i] = relu_bwd_ref(dyv[i], yv[i]);
  }
  f((float *[]){dyv, yv, out}, NULL, R, C);
  assert_same_nan(out, want, R * C, "relu_bwd(NaN)");
  for (int64_t i = 0; i < R * C; i++)
    if (i % 6 < 4) cr_assert(isnan(out[i]), "relu_bwd[%lld] hid a NaN: %g", (long long)i, out[i]);
  sng_jit_free(j);
  sng_ir_graph_free(g);
}

/* The assembly the JIT makes of bitcode bc (malloc'd text). */
static char *asm_of(SngJit *j, const void *bc, size_t len) {
  char path[] = "/tmp/sng_cg_asm_XXXXXX", err[512];
  int fd = mkstemp(path);
  cr_assert(fd >= 0);
  close(fd);
  cr_assert_eq(sng_jit_dump_asm(j, bc, len, path, err, sizeof err), 0, "%s", err);
  size_t n;
  char *text = (char *)sng_file_read(path, &n);
  unlink(path);
  return text;
}

/* Whether the assembly holds a packed single compare ([v]cmp<pred>ps on xmm/ymm/zmm). */
static bool packed_compare(const char *text) {
  for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
    const char *e = strchr(l, '\n'), *c = strstr(l, "cmp"), *p = c ? strstr(c, "ps\t") : NULL;
    if (!e) e = l + strlen(l);
    if (c && p && p < e && strstr(p, "mm") && strstr(p, "mm") < e) return true;
  }
  return false;
}

/* The NaN-propagating forms still vectorise: packed compares, no scalar ucomiss loop. */
Test(cg_nan, relu_kernels_stay_vectorised) {
  for (int bwd = 0; bwd < 2; bwd++) {
    SngIrGraph *g = sng_ir_graph_new("t");
    SngShape s = sng_shape2(64, 100);
    SngIrNode *a = sng_ir_arg(g, L, "a", s, 0), *b = sng_ir_arg(g, L, "b", s, 1);
    SngIrNode *o = bwd ? op2(g, SNG_OP_RELU_BWD, a, b, s) : op1(g, SNG_OP_RELU, a, s);
    SngIrKernel *k = bwd ? group(g, false, s, (SngIrNode *[]){o}, 1, (SngIrNode *[]){a, b, o}, 3, 2)
                         : group(g, false, s, (SngIrNode *[]){o}, 1, (SngIrNode *[]){a, o}, 2, 1);
    void *bc;
    size_t len;
    char err[512];
    cr_assert_eq(sng_cg_kernel(k, "k0", &bc, &len, NULL, err, sizeof err), 0, "%s", err);
    SngJit *j = jit();
    char *text = asm_of(j, bc, len);
    cr_assert(text && packed_compare(text), "%s kernel not vectorised:\n%s", bwd ? "relu_bwd" : "relu",
              text ? text : "");
    free(text);
    free(bc);
    sng_jit_free(j);
    sng_ir_graph_free(g);
  }
}

/* ---- (c) rowwise softmax cross-entropy ---- */

enum { XR = 64, XC = 10 };

static void xent_ref(const float *x, const float *lab, float *loss, float *grad, float scale) {
  for (int i = 0; i < XR; i++) {
    const float *row = x + i * XC;
    float m = -INFINITY, s = 0;
    for (int c = 0; c < XC; c++) m = fmaxf(m, row[c]);
    for (int c = 0; c < XC; c++) s += expf(row[c] - m);
    float l = lab[i];
    int t = l >= 0 && l < XC ? (int)l : -1;   /* invalid label: no class */
    loss[i] = logf(s) + m - (t >= 0 ? row[t] : 0);
    for (int c = 0; c < XC; c++) grad[i * XC + c] = (expf(row[c] - m) / s - (c == t)) * scale;
  }
}

static void assert_close(const float *got, const float *want, int n, float abs_tol,
                         const char *what) {
  for (int i = 0; i < n; i++) {
    cr_assert(isfinite(got[i]), "%s[%d] = %g", what, i, got[i]);
    cr_assert(fabsf(got[i] - want[i]) <= 1e-6f * fabsf(want[i]) + abs_tol,
              "%s[%d]: got %.9g, want %.9g", what, i, got[i], want[i]);
  }
}

/* which: 1 loss, 2 grad, 3 both.  bad_labels puts labels outside [0,C) in some rows. */
static void xent(int which, bool bad_labels) {
  const float scale = 1.0f / 64;
  SngIrGraph *g = sng_ir_graph_new("t");
  SngShape s = sng_shape2(XR, XC);
  SngIrNode *x = sng_ir_arg(g, L, "logits", s, 0), *y = sng_ir_arg(g, L, "labels", sng_shape1(XR), 1);
  SngIrNode *loss = op2(g, SNG_OP_SOFTMAX_XENT, x, y, sng_shape1(XR));
  SngIrNode *grad = op2(g, SNG_OP_SOFTMAX_XENT_BWD, x, y, s);
  grad->attr.loss.scale = scale;
  SngIrNode *mem[2], *bufs[4] = {x, y};
  int nm = 0;
  if (which & 1) mem[nm] = loss, bufs[2 + nm++] = loss;
  if (which & 2) mem[nm] = grad, bufs[2 + nm++] = grad;
  SngIrKernel *k = group(g, true, s, mem, nm, bufs, 2 + nm, 2);
  SngJit *j = jit();
  SngKernelFn f = compile(j, k, "k0");

  SngRng r;
  sng_rng_seed(&r, 3);
  float xv[XR * XC], lab[XR], lo[XR], go[XR * XC], lw[XR], gw[XR * XC];
  for (int i = 0; i < XR * XC; i++) xv[i] = (float)(3 * sng_rng_gaussian(&r));
  for (int i = 0; i < XR; i++) lab[i] = (float)sng_rng_below(&r, XC);
  for (int c = 0; c < XC; c++) {   /* huge logits: exp(1e3) overflows without the max */
    xv[0 * XC + c] = 1000.0f - (float)c;
    xv[1 * XC + c] = c == 3 ? 1000.0f : -1000.0f;
    xv[2 * XC + c] = 1000.0f;
  }
  lab[1] = 3;
  if (bad_labels) lab[4] = -1, lab[5] = XC, lab[6] = NAN, lab[7] = 1e30f, lab[8] = -0.5f;
  xent_ref(xv, lab, lw, gw, scale);
  float *out[4] = {xv, lab};
  int p = 2;
  if (which & 1) out[p++] = lo;
  if (which & 2) out[p++] = go;
  f(out, NULL, XR, XC);
  if (which & 1) assert_close(lo, lw, XR, 0, "loss");
  if (which & 2) assert_close(go, gw, XR * XC, 1e-6f * scale, "grad");
  sng_jit_free(j);
  sng_ir_graph_free(g);
}

Test(cg_rowwise, softmax_xent_fused) { xent(3, false); }
Test(cg_rowwise, softmax_xent_loss_alone) { xent(1, false); }
Test(cg_rowwise, softmax_xent_grad_alone) { xent(2, false); }
Test(cg_rowwise, bad_labels_select_no_class) { xent(3, true); }

/* The row max is maxnum (which skips NaN), but a NaN logit still reaches the loss and the
 * gradient of its row through exp; rows without NaN are untouched. */
Test(cg_nan, softmax_xent_propagates_nan) {
  SngIrGraph *g = sng_ir_graph_new("t");
  SngShape s = sng_shape2(XR, XC);
  SngIrNode *x = sng_ir_arg(g, L, "logits", s, 0), *y = sng_ir_arg(g, L, "labels", sng_shape1(XR), 1);
  SngIrNode *loss = op2(g, SNG_OP_SOFTMAX_XENT, x, y, sng_shape1(XR));
  SngIrNode *grad = op2(g, SNG_OP_SOFTMAX_XENT_BWD, x, y, s);
  grad->attr.loss.scale = 1;
  SngIrKernel *k = group(g, true, s, (SngIrNode *[]){loss, grad}, 2, (SngIrNode *[]){x, y, loss, grad}, 4, 2);
  SngJit *j = jit();
  SngKernelFn f = compile(j, k, "k0");
  float xv[XR * XC], lab[XR], lo[XR], go[XR * XC];
  for (int i = 0; i < XR * XC; i++) xv[i] = (float)(i % 7) * 0.1f;
  for (int i = 0; i < XR; i++) lab[i] = (float)(i % XC);
  xv[0 * XC + 0] = NAN;          /* first logit of row 0 */
  xv[1 * XC + 9] = NAN;          /* last logit of row 1 */
  for (int c = 0; c < XC; c++) xv[2 * XC + c] = NAN;   /* all of row 2 */
  xv[3 * XC + 3] = NAN, lab[3] = 3;   /* the label's own logit */
  f((float *[]){xv, lab, lo, go}, NULL, XR, XC);
  for (int i = 0; i < 4; i++) {
    cr_assert(isnan(lo[i]), "loss[%d] = %g hides a NaN logit", i, lo[i]);
    for (int c = 0; c < XC; c++) cr_assert(isnan(go[i * XC + c]), "grad[%d][%d] = %g", i, c, go[i * XC + c]);
  }
  for (int i = 4; i < XR; i++) cr_assert(isfinite(lo[i]), "loss[%d] = %g", i, lo[i]);
  sng_jit_free(j);
  sng_ir_graph_free(g);
}

/* ---- (d) SGD with momentum and weight decay, updating w and h in place ---- */

static void sgd(int64_t n) {
  SngIrGraph *g = sng_ir_graph_new("t");
  SngShape s = sng_shape1(n);
  SngIrNode *w = sng_ir_arg(g, L, "w", s, 0), *gr = sng_ir_arg(g, L, "g", s, 1),
            *h = sng_ir_arg(g, L, "h", s, 2);
  SngIrNode *lr = sng_ir_scalar(g, L, "lr", 0), *wd = sng_ir_scalar(g, L, "wd", 1),
            *gs = sng_ir_scalar(g, L, "gs", 2), *mom = sng_ir_const(g, L, 0.9);
  SngIrNode *a = op2(g, SNG_OP_MUL, gr, gs, s), *b = op2(g, SNG_OP_MUL, w, wd, s);
  SngIrNode *g1 = op2(g, SNG_OP_ADD, a, b, s);
  SngIrNode *c = op2(g, SNG_OP_MUL, h, mom, s), *d = op2(g, SNG_OP_MUL, g1, lr, s);
  SngIrNode *h1 = op2(g, SNG_OP_SUB, c, d, s), *w1 = op2(g, SNG_OP_ADD, w, h1, s);
  SngIrNode *ah = op2(g, SNG_OP_ASSIGN, h, h1, s), *aw = op2(g, SNG_OP_ASSIGN, w, w1, s);
  SngIrKernel *k = group(g, false, sng_shape2(1, n), (SngIrNode *[]){a, b, g1, c, d, h1, w1, ah, aw},
                         9, (SngIrNode *[]){w, gr, h}, 3, 3);
  SngJit *j = jit();
  char *ir;
  void *bc;
  size_t len;
  char err[512];
  cr_assert_eq(sng_cg_kernel(k, "k0", &bc, &len, &ir, err, sizeof err), 0, "%s", err);
  /* (f) the textual IR shows the kernel and its member ops */
  cr_assert(strstr(ir, "define void @k0("), "%s", ir);
  cr_assert(strstr(ir, "fadd float") && strstr(ir, "fmul float") && strstr(ir, "fsub float"), "%s", ir);
  SngKernelFn f;
  cr_assert_eq(sng_jit_add(j, bc, len, "k0", &f, err, sizeof err), 0, "%s", err);
  free(bc);
  free(ir);

  SngRng r;
  sng_rng_seed(&r, 4);
  float *wv = randv(&r, n, -1, 1), *gv = randv(&r, n, -1, 1), *hv = randv(&r, n, -0.1, 0.1);
  float *ww = malloc((size_t)n * sizeof *ww), *hw = malloc((size_t)n * sizeof *hw);
  const float sc[3] = {0.05f, 1e-4f, 1.0f / 64};
  for (int64_t i = 0; i < n; i++) {
    float gg = gv[i] * sc[2] + wv[i] * sc[1];
    hw[i] = hv[i] * (float)0.9 - gg * sc[0];
    ww[i] = wv[i] + hw[i];
  }
  f((float *[]){wv, gv, hv}, sc, 1, n);
  assert_same(hv, hw, n, "h");
  assert_same(wv, ww, n, "w");
  free(wv), free(gv), free(hv), free(ww), free(hw);
  sng_jit_free(j);
  sng_ir_graph_free(g);
}

Test(cg_eltwise, sgd_momentum_1000003) { sgd(1000003); }
Test(cg_eltwise, sgd_momentum_5) { sgd(5); }

/* ---- (e) errors are messages, never crashes ---- */

static void *relu_bitcode(SngIrGraph *g, size_t *len) {
  SngShape s = sng_shape1(8);
  SngIrNode *x = sng_ir_arg(g, L, "x", s, 0), *y = op1(g, SNG_OP_RELU, x, s);
  SngIrKernel *k = group(g, false, s, (SngIrNode *[]){y}, 1, (SngIrNode *[]){x, y}, 2, 1);
  void *bc;
  char err[512];
  cr_assert_eq(sng_cg_kernel(k, "k0", &bc, len, NULL, err, sizeof err), 0, "%s", err);
  return bc;
}

/* The memory planner may give an output the buffer of an input: the kernel must still be
 * right (the vectoriser's overlap check then takes the scalar loop). */
Test(cg_eltwise, in_place) {
  SngIrGraph *g = sng_ir_graph_new("t");
  size_t len;
  void *bc = relu_bitcode(g, &len);
  SngJit *j = jit();
  char err[512];
  SngKernelFn f;
  cr_assert_eq(sng_jit_add(j, bc, len, "k0", &f, err, sizeof err), 0, "%s", err);
  float x[8] = {-2, -1, -0.0f, 0, 0.5f, 1, 2, NAN}, want[8] = {0, 0, 0, 0, 0.5f, 1, 2, NAN};
  f((float *[]){x, x}, NULL, 1, 8);
  assert_same_nan(x, want, 8, "relu in place");
  free(bc);
  sng_jit_free(j);
  sng_ir_graph_free(g);
}

Test(cg_errors, garbage_bitcode) {
  SngJit *j = jit();
  char err[512] = "";
  SngKernelFn f = (SngKernelFn)1;
  const char junk[] = "this is not bitcode at all";
  cr_assert_eq(sng_jit_add(j, junk, sizeof junk, "k3", &f, err, sizeof err), -1);
  cr_assert_null(f);
  cr_assert(strstr(err, "kernel k3: invalid bitcode"), "%s", err);
  cr_assert_eq(sng_jit_add(j, junk, 0, "k3", &f, err, sizeof err), -1);
  static const char magic[] = "BC\xc0\xde but no module after the magic";
  cr_assert_eq(sng_jit_add(j, magic, sizeof magic, "k3", &f, err, sizeof err), -1);
  cr_assert(strstr(err, "kernel k3: invalid bitcode"), "%s", err);

  SngIrGraph *g = sng_ir_graph_new("t");   /* a real module cut short */
  size_t len;
  unsigned char *bc = relu_bitcode(g, &len);
  cr_assert_eq(sng_jit_add(j, bc, len / 2, "k0", &f, err, sizeof err), -1);
  cr_assert(strstr(err, "invalid bitcode"), "%s", err);
  for (size_t i = 40; i < len; i += 7) bc[i] ^= 0x5a;   /* and one scrambled */
  cr_expect_eq(sng_jit_add(j, bc, len, "k0", &f, err, sizeof err), -1);
  cr_assert_eq(sng_jit_count(j), 0);
  free(bc);
  sng_ir_graph_free(g);
  sng_jit_free(j);
}

Test(cg_errors, symbol_not_in_module) {
  SngIrGraph *g = sng_ir_graph_new("t");
  size_t len;
  void *bc = relu_bitcode(g, &len);
  SngJit *j = jit();
  char err[512] = "";
  SngKernelFn f;
  cr_assert_eq(sng_jit_add(j, bc, len, "k9", &f, err, sizeof err), -1);
  cr_assert(strstr(err, "kernel k9: symbol not found"), "%s", err);
  cr_assert_eq(sng_jit_add(j, bc, len, "k0", &f, err, sizeof err), 0, "%s", err);
  SngKernelFn again = NULL;   /* every worker of a plan binds the same kernels: compiled once */
  cr_assert_eq(sng_jit_add(j, bc, len, "k0", &again, err, sizeof err), 0, "%s", err);
  cr_assert_eq(again, f);
  cr_assert_eq(sng_jit_count(j), 1);
  cr_assert(sng_jit_cpu(j) && sng_jit_cpu(j)[0]);
  free(bc);
  sng_jit_free(j);
  sng_ir_graph_free(g);
}

Test(cg_errors, codegen_rejects_bad_groups) {
  SngIrGraph *g = sng_ir_graph_new("t");
  SngShape s = sng_shape2(4, 6);
  SngIrNode *x = sng_ir_arg(g, L, "x", s, 0), *w = sng_ir_arg(g, L, "w", sng_shape2(6, 6), 1);
  SngIrNode *mm = op2(g, SNG_OP_MATMUL, x, w, s), *odd = sng_ir_arg(g, L, "odd", sng_shape1(5), 2);
  SngIrNode *y = op2(g, SNG_OP_ADD, x, odd, s), *z = op1(g, SNG_OP_RELU, x, s);
  void *bc;
  size_t len;
  char err[512];
  SngIrKernel *k = group(g, false, s, (SngIrNode *[]){mm}, 1, (SngIrNode *[]){x, w, mm}, 3, 2);
  cr_assert_eq(sng_cg_kernel(k, "k7", &bc, &len, NULL, err, sizeof err), -1);
  cr_assert(strstr(err, "kernel k7: ") && strstr(err, "not a fusable"), "%s", err);
  cr_assert_null(bc);
  k = group(g, false, s, (SngIrNode *[]){y}, 1, (SngIrNode *[]){x, odd, y}, 3, 2);
  cr_assert_eq(sng_cg_kernel(k, "k8", &bc, &len, NULL, err, sizeof err), -1);
  cr_assert(strstr(err, "5 elements"), "%s", err);
  k = group(g, false, s, (SngIrNode *[]){z}, 1, (SngIrNode *[]){z}, 1, 0);   /* x not a buffer */
  cr_assert_eq(sng_cg_kernel(k, "k9", &bc, &len, NULL, err, sizeof err), -1);
  cr_assert(strstr(err, "neither a member nor a buffer"), "%s", err);
  k = group(g, true, s, (SngIrNode *[]){z}, 1, (SngIrNode *[]){x, z}, 2, 1);
  cr_assert_eq(sng_cg_kernel(k, "k10", &bc, &len, NULL, err, sizeof err), -1);
  cr_assert(strstr(err, "not a rowwise op"), "%s", err);
  sng_ir_graph_free(g);
}

/* ---- (f) textual IR and assembly dumps ---- */

Test(cg_dump, rowwise_ir_and_asm) {
  SngIrGraph *g = sng_ir_graph_new("t");
  SngShape s = sng_shape2(8, 10);
  SngIrNode *x = sng_ir_arg(g, L, "logits", s, 0), *y = sng_ir_arg(g, L, "labels", sng_shape1(8), 1);
  SngIrNode *loss = op2(g, SNG_OP_SOFTMAX_XENT, x, y, sng_shape1(8));
  SngIrKernel *k = group(g, true, s, (SngIrNode *[]){loss}, 1, (SngIrNode *[]){x, y, loss}, 3, 2);
  void *bc;
  size_t len;
  char *ir, err[512];
  cr_assert_eq(sng_cg_kernel(k, "k0", &bc, &len, &ir, err, sizeof err), 0, "%s", err);
  cr_assert(strstr(ir, "define void @k0(") && strstr(ir, "@llvm.exp.f32") &&
                strstr(ir, "@llvm.log.f32") && strstr(ir, "@llvm.maxnum.f32"), "%s", ir);
  SngJit *j = jit();
  char *text = asm_of(j, bc, len);
  cr_assert(text && *text && strstr(text, "k0:"), "asm dump lacks the kernel");
  free(text);
  free(bc);
  free(ir);
  sng_jit_free(j);
  sng_ir_graph_free(g);
}
