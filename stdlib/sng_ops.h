/* sng_ops.h - the op enum, flag groups and names, shared by the compiler and the runtime.
 *
 * Example usage:
 *   SngOp op = SNG_OP_MATMUL;
 *   printf("%s takes %d sources\n", sng_op_info[op].name, sng_op_info[op].nsrc);
 *   if (sng_op_has(op, OPF_ELTWISE)) ...      // fusable elementwise op
 *   if (sng_op_has(op, OPF_COMM)) ...         // moves data between workers (bridge)
 *
 * The rows live in ops.def; every consumer (shape, grad, partition, codegen, the runtime's
 * kernels, the plan's op check) takes its own columns from there.  This header is the one
 * definition of the enum: the compiler and the runtime include it, neither redefines it.
 */
#ifndef SNG_OPS_H
#define SNG_OPS_H

#include <stdbool.h>

typedef enum {
#define OP(name, ...) SNG_OP_##name,
#include "ops.def"
#undef OP
  SNG_OP__COUNT
} SngOp;

enum {                      /* op flag groups */
  OPF_SOURCE = 1 << 0,      /* no sources: data, parameter, constant */
  OPF_PARAM = 1 << 1,       /* trainable parameter */
  OPF_SCALAR = 1 << 2,      /* a scalar known to the kernel (constant or runtime slot) */
  OPF_ELTWISE = 1 << 3,     /* elementwise over its output; fusable */
  OPF_ROWWISE = 1 << 4,     /* independent per row (softmax family); fusable as a row kernel */
  OPF_GEMM = 1 << 5,        /* matrix product on OpenBLAS */
  OPF_LOSS = 1 << 6,        /* per-row loss; the backward pass starts here */
  OPF_METRIC = 1 << 7,      /* per-row metric (reported, never differentiated) */
  OPF_EFFECT = 1 << 8,      /* writes into its first source's buffer (ASSIGN) */
  OPF_INTERNAL = 1 << 9,    /* made by the compiler, never by a user */
  OPF_CONN = 1 << 10,       /* connection node inserted by the partitioner (slice, concat, pad, bridge) */
  OPF_COMM = 1 << 11,       /* moves data between workers (bridge): run by the runtime's transport */
  OPF_BIAS = 1 << 12,       /* second source is a vector broadcast along the last dimension */
  OPF_FILLS_PARAM = 1 << 13,/* its shape rule completes a parameter source's shape (dense's fan-in) */
  OPF_ARGS = 1 << 14,       /* its arguments are attr.args, stored as they are in the plan op's iattr/fattr */
};

/* STANH: SINGA's scaled tanh, A tanh(B x) (LeCun 1998), read by its emitter and its gradient */
#define SNG_STANH_A 1.7159047
#define SNG_STANH_B 0.66666667

typedef struct SngOpInfo {
  const char *name;
  int nsrc;
  unsigned flags;
  const char *shape, *grad, *part, *emit, *kernel;   /* the columns' function names ("none": none), for tests and docs */
} SngOpInfo;
extern const SngOpInfo sng_op_info[SNG_OP__COUNT];
static inline bool sng_op_has(int op, unsigned f) {
  return op >= 0 && op < SNG_OP__COUNT && (sng_op_info[op].flags & f) != 0;
}

#endif
