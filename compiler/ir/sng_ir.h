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

#include "sng_ops.h"

#define SNG_MAX_RANK 4
typedef struct SngShape { int rank; int64_t d[SNG_MAX_RANK]; } SngShape;
SngShape sng_shape1(int64_t a);
SngShape sng_shape2(int64_t a, int64_t b);
int64_t sng_shape_numel(SngShape s);
/* Size limits (docs/language.md, "Limits and checks"): the compiler reports anything larger
 * at the .sng line that asked for it, so no later product of sizes can overflow, no
 * allocation can fail for size, and BLAS (int dimensions) gets what it can take. */
#define SNG_MAX_TENSOR_ELEMS ((int64_t)1 << 38)   /* values in one tensor (1 TiB of float32) */
#define SNG_MAX_GRAPH_BYTES ((int64_t)1 << 44)    /* one worker's arena (16 TiB) */
#define SNG_MAX_GEMM_DIM ((int64_t)INT32_MAX)     /* rows, columns, inner size of a matrix product */
#define SNG_MAX_SAMPLES ((int64_t)1 << 62)        /* samples a training run sees: steps x batch */
/* The shape's number of values, or -1 if a dimension is negative or the product overflows
 * or passes SNG_MAX_TENSOR_ELEMS. */
int64_t sng_shape_numel_checked(SngShape s);
bool sng_shape_eq(SngShape a, SngShape b);
/* "[64,1000]" into buf; returns buf */
char *sng_shape_str(SngShape s, char *buf, size_t n);

/* When a node runs: forward (training and tests), forward in training only (the plan's FWD_TRAIN:
 * batchnorm's batch statistics), backward, update.  A new node takes the latest phase of its
 * sources (sng_ir_node); a node that runs in tests too, though it reads a training-only one,
 * sets its phase back. */
typedef enum { SNG_PHASE_FWD, SNG_PHASE_FWDT, SNG_PHASE_BWD, SNG_PHASE_UPD } SngPhase;

typedef struct SngInit {       /* how a parameter is initialised */
  enum {
    SNG_INIT_AUTO, SNG_INIT_CONSTANT, SNG_INIT_UNIFORM, SNG_INIT_GAUSSIAN,
    /* named ones, turned into UNIFORM or GAUSSIAN by the shape pass from the fans (shape.c) */
    SNG_INIT_XAVIER_UNIFORM, SNG_INIT_XAVIER_NORMAL, SNG_INIT_HE_UNIFORM, SNG_INIT_HE_NORMAL,
    SNG_INIT_UNIFORM_SQRT_FAN_IN, SNG_INIT_GAUSSIAN_SQRT_FAN_IN, SNG_INIT_UNIFORM_SQRT_FAN_IN_OUT
  } kind;
  double a, b;                 /* constant: a; uniform: [a,b]; gaussian: mean a, std b; xavier: gain a;
                                  *_sqrt_fan_*: the uniform's [a,b] or the gaussian's mean a, std b */
} SngInit;

/* How a layer splits over the workers of a group (`partition = ...`). */
typedef enum { SNG_PART_NONE = -1, SNG_PART_BATCH = 0, SNG_PART_FEATURE = 1, SNG_PART_AUTO = 2 } SngPart;

typedef struct SngIrNode SngIrNode;

/* Per-op attributes: a small tagged union, the tag being the node's op. */
typedef union SngAttr {
  struct { int32_t trans_a, trans_b; } matmul;           /* MATMUL */
  struct { int32_t slot; int64_t classes; } input;       /* INPUT: 0 features, 1 labels (+ class count) */
  struct { int32_t slot; } arg;                          /* ARG, SCALAR: runtime argument slot */
  struct { double value; } konst;                        /* CONST */
  struct { int64_t rows; double scale; } loss;           /* SOFTMAX_XENT: rows of the whole batch (0: its own);
                                                            SOFTMAX_XENT_BWD: gradient scale */
  struct { int64_t start[SNG_MAX_RANK]; } slice;         /* SLICE: the output's origin in the source;
                                                            PAD: the source's origin in the output */
  struct { int32_t dim; } concat;                        /* CONCAT: along this dimension */
  struct { uint32_t from; int32_t channel; } bridge;     /* BRIDGE: from worker `from` to this node's worker */
  struct { SngIrNode *whole; } param;                    /* PARAM piece: the whole parameter it is part of */
  struct { int64_t i[8]; double f[4]; } args;           /* ops flagged OPF_ARGS: their integer and float arguments,
                                                            copied as they are to the plan op's iattr and fattr */
} SngAttr;

struct SngIrNode {
  SngOp op;
  SngShape shape;
  SngIrNode **src;             /* nsrc sources, arena-allocated */
  int nsrc;
  SngAttr attr;                /* per-op data, see SngAttr */
  SngLoc loc;                  /* back to the .sng text */
  const char *name;            /* user-visible name ("h1", "dense1.w", "grad(h1)") or NULL */
  uint32_t id;                 /* index in graph->nodes */
  uint32_t worker;             /* owning worker inside the group */
  int32_t layer;               /* the layer call that made it (index in the graph's layers), -1 */
  int64_t at[SNG_MAX_RANK];    /* partitioned piece: its origin in the whole tensor (INPUT, PARAM, loss) */
  SngPhase phase;
  int kernel;                  /* fused kernel id, or -1 */
  int nuse;                    /* number of live users (set by sng_ir_count_uses) */
  bool dead;                   /* removed by a pass */
  bool needs_grad;             /* depends on a parameter (set by the grad pass) */
  SngIrNode *grad;             /* gradient of this node while the backward pass is built */
  SngIrNode *param_grad;       /* PARAM: the node holding its gradient */
  SngInit init;                /* PARAM */
  int64_t fan_in, fan_out;     /* PARAM: set by the shape rule of the op that uses it (initialisers); 0: unknown */
  double running[2];           /* PARAM of running statistics (batchnorm): momentum (0: a trained parameter) and
                                  the divisor of its summed share; set by the shape rule of the op that uses it */
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

typedef struct SngIrLayer {    /* one layer call of the net, for partitioning and --explain */
  const char *name;            /* "dense1", "relu2", "input1" */
  SngLoc loc;
  SngPart part;                /* as written, or the net's default */
  bool explicit_part;          /* written on the call itself */
} SngIrLayer;

typedef struct SngIrGraph {
  SngArena *arena;
  const char *name;
  SngIrNode **nodes;
  int nnodes, cap;
  SngIrKernel **kernels;
  int nkernels, kcap;
  SngIrLayer *layers;
  int nlayers, lcap;
  int nworkers;                /* workers of the group the graph is partitioned over (1 before) */
  int64_t *arena_bytes;        /* memory plan: size of each worker's arena [nworkers] */
  uint32_t cur_worker;         /* new nodes are placed on this worker */
  int32_t cur_layer;           /* ... and belong to this layer (-1) */
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
int sng_ir_layer_new(SngIrGraph *g, const char *name, SngLoc loc, SngPart part, bool explicit_part);
/* "batch", "feature", "none", "auto" */
const char *sng_part_name(SngPart p);

void sng_ir_count_uses(SngIrGraph *g);
/* Checks the graph's invariants (topological order, source counts, shapes set, kernel
 * membership); returns 0 or prints what is wrong to stderr and returns -1. */
int sng_ir_verify(const SngIrGraph *g);
/* Stable text: tensors with shapes and sizes, ops, kernels and their members, worker by
 * worker once the graph is partitioned. */
void sng_ir_print(FILE *out, const SngIrGraph *g);
/* Graphviz: workers as clusters, bridges as edges between them. */
void sng_ir_print_dot(FILE *out, const SngIrGraph *g);
/* "%<id>" or the node's name, for messages */
const char *sng_ir_label(const SngIrNode *n, char *buf, size_t len);

#endif
