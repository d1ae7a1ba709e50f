/* emit.c - LLVM IR for one element of each fusable elementwise op.
 *
 * ops.def names these functions in its emit column; the table at the bottom is built from
 * that column, so an op exists in one place only and adding a fusable op means adding its
 * row there and its function here.  No fast-math flags are set: a fused kernel must give
 * the same bits as the plain C loop it replaces (the JIT's target machine also leaves
 * fmul+fadd unfused, since only `contract`-flagged operations may become FMAs).
 */
#include "internal.h"

#include <string.h>

static LLVMValueRef emit_add(LLVMBuilderRef b, LLVMValueRef *x) {
  return LLVMBuildFAdd(b, x[0], x[1], "add");
}

static LLVMValueRef emit_sub(LLVMBuilderRef b, LLVMValueRef *x) {
  return LLVMBuildFSub(b, x[0], x[1], "sub");
}

static LLVMValueRef emit_mul(LLVMBuilderRef b, LLVMValueRef *x) {
  return LLVMBuildFMul(b, x[0], x[1], "mul");
}

/* NaN is never hidden: an op that picks between values by comparing them must let a NaN
 * input through, or a diverging run goes on at chance level while the loss guard sees
 * finite numbers.  So comparisons are unordered (true when either side is NaN) where the
 * picked value is the NaN, and a second select passes NaN on where it is not. */

/* relu(x) = x > 0 ? x : 0 with an unordered compare: NaN gives NaN, -0 gives +0 and
 * everything else is bit-identical to the C expression.  Compare+select vectorises
 * (cmpps + blendvps); maxnum would drop the NaN. */
static LLVMValueRef emit_relu(LLVMBuilderRef b, LLVMValueRef *x) {
  LLVMValueRef zero = LLVMConstNull(LLVMTypeOf(x[0]));
  LLVMValueRef pos = LLVMBuildFCmp(b, LLVMRealUGT, x[0], zero, "pos");
  return LLVMBuildSelect(b, pos, x[0], zero, "relu");
}

/* Sources are (dy, y): the gradient passes where the forward output was positive.
 * Testing y rather than the pre-activation is equivalent for relu and lets the forward
 * input die early.  A NaN in either dy or y gives NaN (dy + y is NaN then); otherwise the
 * result is y > 0 ? dy : +0, as in C. */
static LLVMValueRef emit_relu_bwd(LLVMBuilderRef b, LLVMValueRef *x) {
  LLVMValueRef zero = LLVMConstNull(LLVMTypeOf(x[0]));
  LLVMValueRef pos = LLVMBuildFCmp(b, LLVMRealOGT, x[1], zero, "pos");
  LLVMValueRef g = LLVMBuildSelect(b, pos, x[0], zero, "relu_bwd");
  LLVMValueRef nan = LLVMBuildFCmp(b, LLVMRealUNO, x[0], x[1], "nan");
  return LLVMBuildSelect(b, nan, LLVMBuildFAdd(b, x[0], x[1], "nan_sum"), g, "relu_bwd_nan");
}

/* ASSIGN(dst, v): the value is v; the store into dst's buffer is done by the kernel
 * builder, which knows the effect from OPF_EFFECT. */
static LLVMValueRef emit_second(LLVMBuilderRef b, LLVMValueRef *x) {
  (void)b;
  return x[1];
}

/* ---- the updaters' math (DIV, SQRT, ABS, MAX, MIN) ---- */

static LLVMValueRef emit_div(LLVMBuilderRef b, LLVMValueRef *x) {
  return LLVMBuildFDiv(b, x[0], x[1], "div");
}

/* a call of the overloaded intrinsic llvm.NAME on x's type (scalar or vector): correctly
 * rounded, as the C library's sqrtf and fabsf */
static LLVMValueRef intrinsic1(LLVMBuilderRef b, const char *name, LLVMValueRef x) {
  LLVMModuleRef m = LLVMGetGlobalParent(LLVMGetBasicBlockParent(LLVMGetInsertBlock(b)));
  LLVMTypeRef t = LLVMTypeOf(x);
  unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
  LLVMValueRef fn = LLVMGetIntrinsicDeclaration(m, id, &t, 1);
  return LLVMBuildCall2(b, LLVMIntrinsicGetType(LLVMGetModuleContext(m), id, &t, 1), fn, &x, 1, name + 5);
}

static LLVMValueRef emit_sqrt(LLVMBuilderRef b, LLVMValueRef *x) { return intrinsic1(b, "llvm.sqrt", x[0]); }
static LLVMValueRef emit_abs(LLVMBuilderRef b, LLVMValueRef *x) { return intrinsic1(b, "llvm.fabs", x[0]); }

/* max and min let a NaN on either side through (see above): a + b is NaN then */
static LLVMValueRef pick(LLVMBuilderRef b, LLVMValueRef *x, LLVMRealPredicate first_if) {
  LLVMValueRef c = LLVMBuildFCmp(b, first_if, x[0], x[1], "cmp");
  LLVMValueRef r = LLVMBuildSelect(b, c, x[0], x[1], "pick");
  LLVMValueRef nan = LLVMBuildFCmp(b, LLVMRealUNO, x[0], x[1], "nan");
  return LLVMBuildSelect(b, nan, LLVMBuildFAdd(b, x[0], x[1], "nan_sum"), r, "pick_nan");
}
static LLVMValueRef emit_max(LLVMBuilderRef b, LLVMValueRef *x) { return pick(b, x, LLVMRealOGT); }
static LLVMValueRef emit_min(LLVMBuilderRef b, LLVMValueRef *x) { return pick(b, x, LLVMRealOLT); }

/* ---- issue 10: CNN ops (conv2d, pool, reshape, per-channel bias) ---- */

/* ---- issue 10: activations, tensor ops, losses and metrics ---- */

#include <string.h>

/* llvm.<name> on the element's type (scalar or vector), declared in the builder's module:
 * intrinsics, not libm calls, so that the vectoriser maps them to libmvec (exp) */
static LLVMValueRef calln(LLVMBuilderRef b, const char *name, LLVMValueRef *x, unsigned n) {
  LLVMModuleRef m = LLVMGetGlobalParent(LLVMGetBasicBlockParent(LLVMGetInsertBlock(b)));
  LLVMTypeRef t = LLVMTypeOf(x[0]);
  unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
  SNG_ASSERT(id != 0);
  return LLVMBuildCall2(b, LLVMIntrinsicGetType(LLVMGetTypeContext(t), id, &t, 1),
                        LLVMGetIntrinsicDeclaration(m, id, &t, 1), x, n, "");
}
static LLVMValueRef call1(LLVMBuilderRef b, const char *name, LLVMValueRef x) { return calln(b, name, &x, 1); }
static LLVMValueRef fconst(LLVMValueRef like, double v) {
  LLVMTypeRef t = LLVMTypeOf(like);
  if (LLVMGetTypeKind(t) != LLVMVectorTypeKind) return LLVMConstReal(t, v);
  LLVMValueRef s = LLVMConstReal(LLVMGetElementType(t), v), e[64];
  unsigned n = LLVMGetVectorSize(t);
  SNG_ASSERT(n <= 64);
  for (unsigned i = 0; i < n; i++) e[i] = s;
  return LLVMConstVector(e, n);
}

/* sigmoid(x) = 1 / (1 + e) for x >= 0 and e / (1 + e) below, e = exp(-|x|) in [0, 1]:
 * nothing overflows, and small results keep their relative accuracy (sigmoid(-80) is
 * 1.8e-35, not 0).  NaN fails the ordered compare and comes out of e / (1 + e) as NaN. */
static LLVMValueRef emit_sigmoid(LLVMBuilderRef b, LLVMValueRef *x) {
  LLVMValueRef one = fconst(x[0], 1.0), zero = fconst(x[0], 0.0);
  LLVMValueRef e = call1(b, "llvm.exp", LLVMBuildFNeg(b, call1(b, "llvm.fabs", x[0]), ""));
  LLVMValueRef num = LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOGE, x[0], zero, ""), one, e, "");
  return LLVMBuildFDiv(b, num, LLVMBuildFAdd(b, one, e, ""), "sigmoid");
}

/* tanh(x) = sign(x) (1 - t) / (1 + t), t = exp(-2|x|) in [0, 1], so nothing overflows; below
 * |x| = 1/8, where 1 - t would lose digits, the odd Taylor series to x^9 (relative error
 * < 1e-9).  NaN fails the ordered compare and goes through the exp branch as NaN. */
static LLVMValueRef emit_tanh(LLVMBuilderRef b, LLVMValueRef *x) {
  LLVMValueRef a = call1(b, "llvm.fabs", x[0]);
  LLVMValueRef t = call1(b, "llvm.exp", LLVMBuildFMul(b, a, fconst(x[0], -2.0), ""));
  LLVMValueRef big = LLVMBuildFDiv(b, LLVMBuildFSub(b, fconst(x[0], 1.0), t, ""),
                                   LLVMBuildFAdd(b, fconst(x[0], 1.0), t, ""), "");
  LLVMValueRef x2 = LLVMBuildFMul(b, a, a, ""), p = fconst(x[0], 62.0 / 2835.0);
  static const double c[] = {-17.0 / 315.0, 2.0 / 15.0, -1.0 / 3.0, 1.0};
  for (int i = 0; i < 4; i++) p = LLVMBuildFAdd(b, LLVMBuildFMul(b, p, x2, ""), fconst(x[0], c[i]), "");
  LLVMValueRef small = LLVMBuildFMul(b, p, a, "");
  LLVMValueRef tiny = LLVMBuildFCmp(b, LLVMRealOLT, a, fconst(x[0], 0.125), "");
  LLVMValueRef m = LLVMBuildSelect(b, tiny, small, big, "");
  LLVMValueRef args[2] = {m, x[0]};
  return calln(b, "llvm.copysign", args, 2);
}

/* stanh(x) = 1.7159047 tanh(0.66666667 x), SINGA's scaled tanh, as one op so that its
 * gradient reads only its output and the forward stays one kernel with what precedes it */
static LLVMValueRef emit_stanh(LLVMBuilderRef b, LLVMValueRef *x) {
  LLVMValueRef ax = LLVMBuildFMul(b, x[0], fconst(x[0], SNG_STANH_B), "");
  return LLVMBuildFMul(b, emit_tanh(b, &ax), fconst(x[0], SNG_STANH_A), "stanh");
}

/* leaky_relu(x, slope) = x > 0 ? x : slope x, the compare unordered as relu's: NaN gives NaN */
static LLVMValueRef emit_leaky_relu(LLVMBuilderRef b, LLVMValueRef *x) {
  LLVMValueRef pos = LLVMBuildFCmp(b, LLVMRealUGT, x[0], fconst(x[0], 0.0), "pos");
  return LLVMBuildSelect(b, pos, x[0], LLVMBuildFMul(b, x[0], x[1], ""), "leaky_relu");
}

/* Sources (dy, x, slope): x > 0 ? dy : slope dy; a NaN in dy or x gives NaN (as relu_bwd) */
static LLVMValueRef emit_leaky_relu_bwd(LLVMBuilderRef b, LLVMValueRef *x) {
  LLVMValueRef pos = LLVMBuildFCmp(b, LLVMRealOGT, x[1], fconst(x[0], 0.0), "pos");
  LLVMValueRef g = LLVMBuildSelect(b, pos, x[0], LLVMBuildFMul(b, x[0], x[2], ""), "");
  LLVMValueRef nan = LLVMBuildFCmp(b, LLVMRealUNO, x[0], x[1], "nan");
  return LLVMBuildSelect(b, nan, LLVMBuildFAdd(b, x[0], x[1], ""), g, "leaky_relu_bwd");
}

/* softplus(x) = log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)): exp never overflows.  log1p(u)
 * is log(w) u / (w - 1) with w = 1 + u (exact where w rounds to 1: then it is u), so
 * softplus(-30) keeps its digits.  max is relu's unordered select: NaN gives NaN. */
static LLVMValueRef emit_softplus(LLVMBuilderRef b, LLVMValueRef *x) {
  LLVMValueRef one = fconst(x[0], 1.0);
  LLVMValueRef m = emit_relu(b, x);
  LLVMValueRef u = call1(b, "llvm.exp", LLVMBuildFNeg(b, call1(b, "llvm.fabs", x[0]), ""));
  LLVMValueRef w = LLVMBuildFAdd(b, one, u, "");
  LLVMValueRef lg = LLVMBuildFDiv(b, LLVMBuildFMul(b, call1(b, "llvm.log", w), u, ""), LLVMBuildFSub(b, w, one, ""), "");
  LLVMValueRef l = LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOEQ, w, one, ""), u, lg, "");
  return LLVMBuildFAdd(b, m, l, "softplus");
}

/* ---- issue 10: normalisation and dropout (lrn, batchnorm, dropout) ---- */

#define none NULL
const SngCgEmitFn sng_cg_emit[SNG_OP__COUNT] = {
#define OP(name, nsrc, flags, shape, grad, part, emit, kernel) [SNG_OP_##name] = emit,
#include "ops.def"
#undef OP
};
#undef none
