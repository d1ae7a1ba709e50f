/* emit.c - LLVM IR for one element of each fusable elementwise op.
 *
 * ops.def names these functions in its emit column; the table at the bottom is built from
 * that column, so an op exists in one place only and adding a fusable op means adding its
 * row there and its function here.  No fast-math flags are set: a fused kernel must give
 * the same bits as the plain C loop it replaces (the JIT's target machine also leaves
 * fmul+fadd unfused, since only `contract`-flagged operations may become FMAs).
 */
#include "internal.h"

static LLVMValueRef emit_add(LLVMBuilderRef b, LLVMValueRef *x) {
  return LLVMBuildFAdd(b, x[0], x[1], "add");
}

static LLVMValueRef emit_sub(LLVMBuilderRef b, LLVMValueRef *x) {
  return LLVMBuildFSub(b, x[0], x[1], "sub");
}

static LLVMValueRef emit_mul(LLVMBuilderRef b, LLVMValueRef *x) {
  return LLVMBuildFMul(b, x[0], x[1], "mul");
}

/* x > 0 ? x : 0, written as compare+select rather than maxnum so that NaN and -0 map to +0
 * exactly like the C expression (x86 maxps(x, 0) has the same semantics, so it stays one
 * instruction). */
static LLVMValueRef emit_relu(LLVMBuilderRef b, LLVMValueRef *x) {
  LLVMValueRef zero = LLVMConstNull(LLVMTypeOf(x[0]));
  LLVMValueRef pos = LLVMBuildFCmp(b, LLVMRealOGT, x[0], zero, "pos");
  return LLVMBuildSelect(b, pos, x[0], zero, "relu");
}

/* Sources are (dy, y): the gradient passes where the forward output was positive.
 * Testing y rather than the pre-activation is equivalent for relu and lets the forward
 * input die early. */
static LLVMValueRef emit_relu_bwd(LLVMBuilderRef b, LLVMValueRef *x) {
  LLVMValueRef zero = LLVMConstNull(LLVMTypeOf(x[0]));
  LLVMValueRef pos = LLVMBuildFCmp(b, LLVMRealOGT, x[1], zero, "pos");
  return LLVMBuildSelect(b, pos, x[0], zero, "relu_bwd");
}

/* ASSIGN(dst, v): the value is v; the store into dst's buffer is done by the kernel
 * builder, which knows the effect from OPF_EFFECT. */
static LLVMValueRef emit_second(LLVMBuilderRef b, LLVMValueRef *x) {
  (void)b;
  return x[1];
}

#define none NULL
const SngCgEmitFn sng_cg_emit[SNG_OP__COUNT] = {
#define OP(name, nsrc, flags, shape, grad, part, emit, kernel) [SNG_OP_##name] = emit,
#include "ops.def"
#undef OP
};
#undef none
