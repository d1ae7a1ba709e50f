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

/* ---- issue 10: normalisation and dropout (lrn, batchnorm, dropout) ---- */

#define none NULL
const SngCgEmitFn sng_cg_emit[SNG_OP__COUNT] = {
#define OP(name, nsrc, flags, shape, grad, part, emit, kernel) [SNG_OP_##name] = emit,
#include "ops.def"
#undef OP
};
#undef none
