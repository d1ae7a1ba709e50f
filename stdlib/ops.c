/* ops.c - the op table's names, source counts and flags (the columns every module shares). */
#include "sng_ops.h"

const SngOpInfo sng_op_info[SNG_OP__COUNT] = {
#define OP(name, nsrc, flags, shape, grad, part, emit, kernel) \
  [SNG_OP_##name] = {#name, nsrc, flags, #shape, #grad, #part, #emit, #kernel},
#include "ops.def"
#undef OP
};
