/* sng_plan.h - the plan: everything singa-exec needs, as one in-memory struct and one file.
 *
 * Example usage:
 *   SngPlan *p = sng_plan_new();                 // the compiler fills it (compiler/lower)
 *   ...
 *   if (sng_plan_write(p, "mlp.plan", err, sizeof err)) die(err);   // atomic: tmp+fsync+rename
 *   SngPlan *q = sng_plan_read("mlp.plan", err, sizeof err);        // NULL + message if bad
 *   sng_plan_describe(stdout, q);
 *   sng_plan_free(p); sng_plan_free(q);
 *
 * File layout (little-endian):
 *   0   8  magic "SNGPLAN\0"
 *   8   4  format version (SNG_PLAN_VERSION)
 *   12  4  reserved (0)
 *   16  8  payload length in bytes
 *   24  4  CRC-32 (zlib) of the payload
 *   28  4  CRC-32 of bytes 0..27 (the header itself)
 *   32  .. payload: sections, each u32 tag + u64 length + body (see plan.c)
 * A reader refuses a file whose magic, version, lengths or checksums do not match, and
 * every read inside the payload is bounds-checked, so a corrupt file is an error, not a crash.
 *
 * The op codes in SngPlanOp are those of stdlib/ops.def (sng_ops.h); the writer stores the
 * table's op names too, and the reader refuses a plan whose op names do not match this build.
 */
#ifndef SNG_PLAN_H
#define SNG_PLAN_H

#include "sng_core.h"

#define SNG_PLAN_MAGIC "SNGPLAN"   /* 8 bytes with the NUL */
#define SNG_PLAN_VERSION 5u
#define SNG_PLAN_ALIGN 64          /* arena offsets are multiples of this (the JIT's loads assume it) */
#define SNG_PLAN_MAX_SCALARS 16    /* runtime scalars a kernel may take */

#include "sng_ops.h"

/* ---- what a worker's graph holds ---- */
typedef enum {
  SNG_TENSOR_TEMP,     /* activation or gradient inside the worker arena */
  SNG_TENSOR_INPUT,    /* filled by the data loader before each step (param = slot: 0 features, 1 labels);
                          start[0] = its first row in the whole batch */
  SNG_TENSOR_PARAM,    /* the worker's piece of a parameter: box start[]..start[]+dims[] of param */
  SNG_TENSOR_GRAD,     /* the gradient of that piece: in the arena, handed to the stub */
  SNG_TENSOR_BRIDGE,   /* received from another worker by a BRIDGE op (in the arena) */
  SNG_TENSOR_STATE,    /* lives across steps in the arena and is never reused (running statistics,
                          recurrent hidden state); zeroed at start */
  SNG_TENSOR__COUNT
} SngTensorKind;

typedef struct SngPlanTensor {
  const char *name;
  int32_t rank;
  int64_t dims[4];
  int32_t kind;        /* SngTensorKind */
  int32_t param;       /* PARAM/GRAD: index in plan->params; INPUT: slot; else -1 */
  int64_t start[4];    /* INPUT, PARAM, GRAD: origin of this piece in the whole tensor; else 0 */
  int64_t offset;      /* byte offset in the worker arena; -1 for PARAM */
} SngPlanTensor;

typedef enum {         /* when an op runs */
  SNG_PHASE_FWD_ALL,   /* forward, in training and in tests */
  SNG_PHASE_FWD_TRAIN, /* forward, training only (dropout's mask, loss gradient seeds) */
  SNG_PHASE_FWD_TEST,  /* forward, tests only (batchnorm with running statistics) */
  SNG_PHASE_BACKWARD,  /* backward, training only */
  SNG_PHASE__COUNT
} SngPlanPhase;

typedef struct SngPlanOp {
  int32_t op;          /* SngOp of stdlib/ops.def */
  int32_t phase;       /* SngPlanPhase */
  int32_t kernel;      /* SNG_OP_KERNEL: index in plan->kernels; else -1 */
  int32_t nin, nout;
  int32_t *in, *out;   /* tensor indices */
  int64_t iattr[8];    /* MATMUL: trans a, trans b; SLICE: origin of the output in the input;
                          PAD: origin of the input in the output; CONCAT: dim;
                          BRIDGE: channel, peer worker (send: nin 1 nout 0; receive: nin 0 nout 1) */
  double fattr[4];     /* SOFTMAX_XENT_BWD: scale (baked into its kernel; kept for --describe) */
  int64_t rows, cols;  /* KERNEL: the iteration space, stored by the compiler; else 0 */
  const char *name;    /* for messages: the user's name of the output, or the op name */
} SngPlanOp;

typedef struct SngPlanGraph {  /* one worker's partition of the net */
  int32_t worker;              /* index of the worker inside its group */
  int32_t ntensors;
  SngPlanTensor *tensors;
  int32_t nops;
  SngPlanOp *ops;
  int64_t arena_bytes;         /* size of the worker arena (its memory plan) */
  int32_t loss;                /* tensor: this worker's rows of the per-row loss, or -1 */
  int32_t metric;              /* tensor: this worker's rows of the per-row metric, or -1 */
  int64_t batch;               /* rows of the whole batch (all workers of the group) */
} SngPlanGraph;

typedef struct SngPlanKernel {
  const char *symbol;          /* unique function name: "k0", "k1", ... */
  const char *members;         /* "bias_add+relu", for --describe */
  int32_t rowwise;
  int32_t nbufs;
  int32_t nscalars;
  const char *bcast;           /* one letter per buffer: F full [rows,cols], R a row vector [cols]
                                  broadcast over rows, C a column [rows], S one value */
  const void *bitcode;         /* LLVM bitcode of a module defining symbol */
  size_t bitcode_len;
} SngPlanKernel;

typedef enum { SNG_PINIT_CONSTANT, SNG_PINIT_UNIFORM, SNG_PINIT_GAUSSIAN } SngPlanInitKind;

typedef struct SngPlanParam {  /* a whole parameter (workers hold pieces, servers slices) */
  const char *name;            /* "dense1.w" */
  int32_t rank;
  int64_t dims[4];
  int32_t init;                /* SngPlanInitKind */
  double init_a, init_b;       /* constant a | uniform [a,b] | gaussian mean a, std b */
  double lr_mult, wd_mult;
  double running;              /* running statistics (batchnorm's mean and var): momentum; 0: trained by the updater */
  double running_div;          /* running: the summed share / running_div is the batch's statistic; the servers
                                  keep value = (1 - running) value + running * share / running_div */
} SngPlanParam;

typedef struct SngPlanSlice {  /* a contiguous range of a parameter, owned by one server */
  int32_t param;               /* index in plan->params */
  int64_t offset, len;         /* in elements of the flattened parameter */
  int32_t server;              /* owning unit (a server) in plan->units */
} SngPlanSlice;

typedef struct SngPlanData {
  const char *name;            /* the data block's name */
  const char *format;          /* "idx" */
  const char *train[2];        /* images, labels (absolute paths) */
  const char *test[2];
  int64_t batch;
  int32_t shuffle;
  double scale;                /* applied first */
  int32_t standardize;         /* then (x - mean) / std of the scaled training set */
  int32_t sample_rank;         /* per-sample shape: [28,28] for idx images */
  int64_t sample_dims[3];
  int32_t classes;
} SngPlanData;

typedef enum {
  SNG_UPD_SGD, SNG_UPD_NESTEROV, SNG_UPD_ADAGRAD, SNG_UPD_RMSPROP, SNG_UPD_ADADELTA, SNG_UPD_ADAM, SNG_UPD_ADAMAX,
  SNG_UPD__COUNT
} SngUpdKind;
typedef enum {
  SNG_SCHED_FIXED, SNG_SCHED_STEP, SNG_SCHED_MULTISTEP, SNG_SCHED_EXPONENTIAL, SNG_SCHED_INVERSE,
  SNG_SCHED_INVERSE_T, SNG_SCHED_LINEAR, SNG_SCHED_COSINE, SNG_SCHED__COUNT
} SngSchedKind;
#define SNG_SCHED_MAX_MILESTONES 8
/* the update kernel's runtime scalars, in this order (runtime/exec/update.c fills them) */
enum { SNG_UPD_S_LR, SNG_UPD_S_WD, SNG_UPD_S_GSCALE, SNG_UPD_S_BC1, SNG_UPD_S_BC2, SNG_UPD_NSCALARS };
#define SNG_UPD_MAX_STATE 2

/* The updater and its schedule (docs/language.md "Updaters" gives every formula).  The
 * learning rate at step s (0-based) is lr x warm-up x schedule factor, see sng_upd_lr. */
typedef struct SngPlanUpdater {
  int32_t kind;                /* SngUpdKind */
  double lr, momentum, weight_decay;
  int32_t schedule;            /* SngSchedKind */
  double sched_gamma;          /* step, multistep, exponential, inverse: gamma */
  int64_t sched_every;         /* step: every; inverse_t: the time constant; linear, cosine: steps */
  int32_t kernel;              /* index in plan->kernels: update(bufs = {w, g, state...}, scalars SNG_UPD_S_*) */
  int32_t nstate;              /* state buffers per parameter (momentum history: 1; adam: 2) */
  double beta1, beta2;         /* adam, adamax: the moments' decay; rmsprop: alpha is beta2; adadelta: rho is beta2 */
  double eps;                  /* the updater's epsilon (where it goes: docs) */
  int32_t bias_correction;     /* adam, adamax: 1 = PyTorch's, 0 = SINGA's (none) */
  double clip_low, clip_high;  /* clip each gradient value to [low, high] when low < high */
  double clip_norm;            /* > 0: scale the gradients so their global L2 norm is at most this */
  double sched_power;          /* inverse: the power */
  double sched_start, sched_end; /* linear: start and end factors; cosine: sched_end = the minimum lr */
  int32_t nmilestones;         /* multistep */
  int64_t milestones[SNG_SCHED_MAX_MILESTONES];
  int64_t warmup;              /* steps of linear warm-up before the schedule (0: none) */
  double warmup_start;         /* the warm-up's first factor */
} SngPlanUpdater;

typedef struct SngPlanTrain {
  const char *net;             /* net name */
  const char *alg;             /* "bp" */
  int64_t steps, display_every;
  int64_t test_every;          /* 0: only at the end */
  int64_t test_steps;          /* batches per test; 0 = the whole test set */
  uint64_t seed;
} SngPlanTrain;

/* how the groups meet the servers (runtime.md "Frameworks"): one group synchronously, or
 * several on their own clocks against one server group (downpour) or one each (hogwild) */
typedef enum { SNG_FW_SANDBLASTER, SNG_FW_ALLREDUCE, SNG_FW_DOWNPOUR, SNG_FW_HOGWILD, SNG_FW__COUNT } SngFramework;

/* "sandblaster", "allreduce", "downpour", "hogwild"; "?" out of range */
const char *sng_plan_framework_name(int32_t framework);

typedef struct SngPlanCluster {
  int32_t worker_groups, workers_per_group, server_groups, servers_per_group;
  int32_t framework;           /* SngFramework */
  int32_t sync_every;          /* hogwild: server groups exchange every N steps of a group; else 0 */
} SngPlanCluster;

typedef enum { SNG_UNIT_WORKER, SNG_UNIT_SERVER } SngUnitKind;
typedef struct SngPlanUnit {
  int32_t kind;                /* SngUnitKind */
  int32_t group, index;        /* worker/server group and index inside it */
  int32_t rank, thread;        /* placement: MPI rank (0 when embedded) and thread number in it */
  int32_t graph;               /* WORKER: index in plan->graphs; SERVER: -1 */
} SngPlanUnit;

typedef struct SngPlan {
  SngArena *arena;             /* owns every string and array below */
  uint32_t version;
  const char *source;          /* the .sng file it was compiled from */
  int32_t nranks;
  int32_t nunits;
  SngPlanUnit *units;
  int32_t ngraphs;
  SngPlanGraph *graphs;        /* one per worker */
  int32_t nkernels;
  SngPlanKernel *kernels;
  int32_t nparams;
  SngPlanParam *params;
  int32_t nslices;
  SngPlanSlice *slices;        /* every parameter cut into slices, in parameter order */
  SngPlanData data;
  SngPlanUpdater updater;
  SngPlanTrain train;
  SngPlanCluster cluster;
} SngPlan;

SngPlan *sng_plan_new(void);
void sng_plan_free(SngPlan *p);
/* Serialises p; returns 0, or an error with a message in err. */
int sng_plan_write(const SngPlan *p, const char *path, char *err, size_t errlen);
int sng_plan_encode(const SngPlan *p, SngBuf *out);
/* Reads and checks a plan file; NULL with a message naming the file and the fault. */
SngPlan *sng_plan_read(const char *path, char *err, size_t errlen);
SngPlan *sng_plan_decode(const void *data, size_t len, char *err, size_t errlen);
/* Human-readable summary for singa-exec --describe. */
void sng_plan_describe(FILE *out, const SngPlan *p);
/* Semantic checks (indices, ranks, dims, arena bounds) that the reader applies after decoding;
 * sng_plan_write runs them too so an inconsistent plan is never written.  0 or SNG_EFORMAT
 * with "invalid plan: ..." in err. */
int sng_plan_validate(const SngPlan *p, char *err, size_t errlen);
/* ---- every field of a plan, walked from fields.def (for tests and tools) ---- */
typedef enum {
  SNG_FIELD_I32, SNG_FIELD_U32, SNG_FIELD_I64, SNG_FIELD_U64, SNG_FIELD_F64, SNG_FIELD_STR,
  SNG_FIELD_BLOB
} SngPlanFieldType;

typedef struct SngPlanFieldRef {
  const char *path;      /* "graph 0 op 3 (h1): iattr[1]", "updater: lr", "graph 1 op 2 (z): in[0]" */
  const char *kind;      /* the line of fields.def: "op.iattr", "updater.lr", "op.in" */
  int type;              /* SngPlanFieldType */
  void *value;           /* the element: int32_t, uint32_t, int64_t, uint64_t, double, const char *,
                            or (BLOB) the const void * whose length follows it */
} SngPlanFieldRef;

/* Calls fn for every element of every field of p, in file order: each element of a fixed
 * array (used or not), each index of an op's in/out, recursing into lists and records.  The
 * counts of lists are not fields of their own and are not visited.  Stops at the first
 * non-zero return of fn and returns it; 0 when all were visited. */
int sng_plan_each_field(SngPlan *p, int (*fn)(void *ctx, const SngPlanFieldRef *f), void *ctx);

/* The number of values of dims[0..rank) and of a tensor: products a validated plan keeps
 * within SNG_MAX_TENSOR_ELEMS, so they cannot overflow. */
static inline int64_t sng_plan_dims_numel(int32_t rank, const int64_t *dims) {
  int64_t n = 1;
  for (int32_t i = 0; i < rank; i++) n *= dims[i];
  return n;
}
static inline int64_t sng_plan_tensor_numel(const SngPlanTensor *t) { return sng_plan_dims_numel(t->rank, t->dims); }

/* "MATMUL" for an op code of stdlib/ops.def; "?" when out of range. */
const char *sng_plan_op_name(int32_t op);

#endif
