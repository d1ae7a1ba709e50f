/* internal.h - private to compiler/cg: the per-op element emitters of emit.c. */
#ifndef SNG_CG_INTERNAL_H
#define SNG_CG_INTERNAL_H

#include <llvm-c/Core.h>
#include "sng_ir.h"

/* Emits one element of an op from the values of its sources (x[0..nsrc-1]).  Works for any
 * floating-point type, scalar or vector: constants are made from LLVMTypeOf(x[0]). */
typedef LLVMValueRef (*SngCgEmitFn)(LLVMBuilderRef b, LLVMValueRef *x);

/* The emit column of ops.def, indexed by SngOp; NULL for ops that are not fusable. */
extern const SngCgEmitFn sng_cg_emit[SNG_OP__COUNT];

#endif
