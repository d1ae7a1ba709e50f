/* internal.h - shared inside runtime/exec only. */
#ifndef SNG_EXEC_INTERNAL_H
#define SNG_EXEC_INTERNAL_H

#include "sng_exec.h"

typedef enum {
#define OP(name, nsrc, flags, shape, grad, emit, kernel) SNG_OP_##name,
#include "ops.def"
#undef OP
  SNG_OP__COUNT
} SngOp;

typedef void (*SngRtKernel)(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out);
extern const SngRtKernel sng_rt_kernels[SNG_OP__COUNT];

#endif
