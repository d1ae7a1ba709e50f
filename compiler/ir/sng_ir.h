/* sng_ir.h - the IR: one node type that is both tensor and op (ggml-style), in an arena.
 *
 * Example usage:
 *   SngIrGraph *g = sng_ir_graph_new("mlp");
 *   SngIrNode *x = sng_ir_input(g, loc, "x", sng_shape2(64, 784), 0);
 *   SngIrNode *w = sng_ir_param(g, loc, "dense1.w", sng_shape2(784, 1000));
 *   SngIrNode *h = sng_ir_op2(g, SNG_OP_MATMUL, loc, x, w);   // shape set by the shape pass
 *   sng_ir_print(stdout, g);                                  // stable text (--dump-ir)
 *   sng_ir_graph_free(g);
 *
 * Nodes are appended in topological order (sources before users) and never removed: passes
 * that drop work mark nodes dead.  Fused kernels are SngIrKernel groups over member nodes.
 */
#ifndef SNG_IR_H
#define SNG_IR_H

#include <stdbool.h>
#include "sng_core.h"
#include "sng_lang.h"

typedef enum {
#define OP(name, nsrc, flags, shape, grad, emit, kernel) SNG_OP_##name,
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
};

typedef struct SngOpInfo { const char *name; int nsrc; unsigned flags; } SngOpInfo;
extern const SngOpInfo sng_op_info[SNG_OP__COUNT];
static inline bool sng_op_has(SngOp op, unsigned f) { return (sng_op_info[op].flags & f) != 0; }

#define SNG_MAX_RANK 4
#define SNG_MAX_SRC 4
typedef struct SngShape { int rank; int64_t d[SNG_MAX_RANK]; } SngShape;
SngShape sng_shape1(int64_t a);
SngShape sng_shape2(int64_t a, int64_t b);
int64_t sng_shape_numel(SngShape s);
bool sng_shape_eq(SngShape a, SngShape b);
/* "[64,1000]" into buf; returns buf */
char *sng_shape_str(SngShape s, char *buf, size_t n);

typedef enum { SNG_PHASE_FWD, SNG_PHASE_BWD, SNG_PHASE_UPD } SngPhase;

typedef struct SngInit {       /* how a parameter is initialised */
  enum { SNG_INIT_AUTO, SNG_INIT_CONSTANT, SNG_INIT_UNIFORM, SNG_INIT_GAUSSIAN } kind;
  double a, b;                 /* constant: a; uniform: [a,b]; gaussian: mean a, std b */
} SngInit;

typedef struct SngIrNode SngIrNode;
struct SngIrNode {
  SngOp op;
  SngShape shape;
  SngIrNode *src[SNG_MAX_SRC];
  int nsrc;
  int64_t iattr[4];            /* per-op integers (MATMUL: transA, transB; INPUT: slot; ARG/SCALAR: slot) */
  double fattr[4];             /* per-op reals (CONST: value; SOFTMAX_XENT_BWD: scale) */
  SngLoc loc;                  /* back to the .sng text */
  const char *name;            /* user-visible name ("h1", "dense1.w", "grad(h1)") or NULL */
  uint32_t id;                 /* index in graph->nodes */
  uint32_t worker;             /* owning worker inside the group */
  SngPhase phase;
  int kernel;                  /* fused kernel id, or -1 */
  int nuse;                    /* number of live users (set by sng_ir_count_uses) */
  bool dead;                   /* removed by a pass */
  bool needs_grad;             /* depends on a parameter (set by the grad pass) */
  SngIrNode *grad;             /* gradient of this node while the backward pass is built */
  SngIrNode *param_grad;       /* PARAM: the node holding its gradient */
  SngInit init;                /* PARAM */
  double lr_mult, wd_mult;     /* PARAM */
  int64_t offset;              /* memory plan: byte offset in the worker arena, -1 if none */
};

typedef struct SngIrKernel {   /* a fused kernel: members run as one JIT-compiled function */
  int id;
  bool rowwise;                /* ROWWISE group (softmax family) instead of ELTWISE */
  SngIrNode **members;         /* topological order */
  int nmembers;
  SngIrNode **bufs;            /* buffer arguments in ABI order: inputs, then outputs */
  int nbufs, ninputs;
  SngShape space;              /* iteration space: rows = d[0], cols = the rest */
} SngIrKernel;

typedef struct SngIrGraph {
  SngArena *arena;
  const char *name;
  SngIrNode **nodes;
  int nnodes, cap;
  SngIrKernel **kernels;
  int nkernels, kcap;
  int64_t arena_bytes;         /* memory plan: size of the worker arena */
} SngIrGraph;

SngIrGraph *sng_ir_graph_new(const char *name);
void sng_ir_graph_free(SngIrGraph *g);

SngIrNode *sng_ir_node(SngIrGraph *g, SngOp op, SngLoc loc, int nsrc, SngIrNode *const *src);
SngIrNode *sng_ir_op1(SngIrGraph *g, SngOp op, SngLoc loc, SngIrNode *a);
SngIrNode *sng_ir_op2(SngIrGraph *g, SngOp op, SngLoc loc, SngIrNode *a, SngIrNode *b);
SngIrNode *sng_ir_input(SngIrGraph *g, SngLoc loc, const char *name, SngShape s, int slot);
SngIrNode *sng_ir_param(SngIrGraph *g, SngLoc loc, const char *name, SngShape s);
SngIrNode *sng_ir_const(SngIrGraph *g, SngLoc loc, double v);
SngIrNode *sng_ir_scalar(SngIrGraph *g, SngLoc loc, const char *name, int slot);
SngIrNode *sng_ir_arg(SngIrGraph *g, SngLoc loc, const char *name, SngShape s, int slot);
SngIrKernel *sng_ir_kernel_new(SngIrGraph *g);

void sng_ir_count_uses(SngIrGraph *g);
/* Checks the graph's invariants (topological order, source counts, shapes set, kernel
 * membership); returns 0 or prints what is wrong to stderr and returns -1. */
int sng_ir_verify(const SngIrGraph *g);
/* Stable text: tensors with shapes and sizes, ops, kernels and their members. */
void sng_ir_print(FILE *out, const SngIrGraph *g);
/* "%<id>" or the node's name, for messages */
const char *sng_ir_label(const SngIrNode *n, char *buf, size_t len);

#endif
