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
 * The op codes in SngPlanOp are those of stdlib/ops.def; the writer stores the table's op
 * names too, and the reader refuses a plan whose op names do not match this build's table.
 */
#ifndef SNG_PLAN_H
#define SNG_PLAN_H

#include "sng_core.h"

#define SNG_PLAN_MAGIC "SNGPLAN"   /* 8 bytes with the NUL */
#define SNG_PLAN_VERSION 1u

typedef enum {
  SNG_TENSOR_TEMP,     /* activation or gradient inside the worker arena */
  SNG_TENSOR_INPUT,    /* filled by the data loader before each step (slot: 0 features, 1 labels) */
  SNG_TENSOR_PARAM,    /* bound to the parameter's value memory (param index) */
  SNG_TENSOR_GRAD,     /* the parameter's gradient: in the arena, handed to the stub (param index) */
} SngTensorKind;

typedef struct SngPlanTensor {
  const char *name;
  int32_t rank;
  int64_t dims[4];
  int32_t kind;        /* SngTensorKind */
  int32_t param;       /* PARAM/GRAD: index in plan->params; INPUT: slot; else -1 */
  int64_t offset;      /* byte offset in the worker arena; -1 for PARAM */
} SngPlanTensor;

typedef struct SngPlanOp {
  int32_t op;          /* SngOp of stdlib/ops.def */
  int32_t phase;       /* 0 forward, 1 backward */
  int32_t kernel;      /* SNG_OP_KERNEL: index in plan->kernels; else -1 */
  int32_t nin, nout;
  int32_t *in, *out;   /* tensor indices */
  int64_t iattr[4];
  double fattr[4];
  const char *name;    /* for messages: the user's name of the output, or the op name */
} SngPlanOp;

typedef struct SngPlanGraph {  /* one worker's partition of the net */
  int32_t ntensors;
  SngPlanTensor *tensors;
  int32_t nops;
  SngPlanOp *ops;
  int64_t arena_bytes;         /* size of the worker arena (memory plan) */
  int32_t loss;                /* tensor: per-row loss [batch] */
  int32_t metric;              /* tensor: per-row accuracy [batch], or -1 */
  int64_t batch;               /* rows this worker takes */
} SngPlanGraph;

typedef struct SngPlanKernel {
  const char *symbol;          /* unique function name: "k0", "k1", ... */
  const char *members;         /* "bias_add+relu", for --describe */
  int32_t rowwise;
  int32_t nbufs;
  int32_t nscalars;
  const void *bitcode;         /* LLVM bitcode of a module defining symbol */
  size_t bitcode_len;
} SngPlanKernel;

typedef enum { SNG_PINIT_CONSTANT, SNG_PINIT_UNIFORM, SNG_PINIT_GAUSSIAN } SngPlanInitKind;

typedef struct SngPlanParam {
  const char *name;            /* "dense1.w" */
  int32_t rank;
  int64_t dims[4];
  int32_t init;                /* SngPlanInitKind */
  double init_a, init_b;       /* constant a | uniform [a,b] | gaussian mean a, std b */
  double lr_mult, wd_mult;
  int32_t server;              /* owning server (index in plan->units) */
} SngPlanParam;

typedef struct SngPlanData {
  const char *name;            /* the data block's name */
  const char *format;          /* "idx" */
  const char *train[2];        /* images, labels (absolute paths) */
  const char *test[2];
  int64_t batch;
  int32_t shuffle;
  double scale;                /* applied first */
  int32_t standardize;         /* then (x - mean) / std of the scaled training set */
  int64_t sample_dims[3];      /* per-sample shape, e.g. 784,0,0 */
  int32_t classes;
} SngPlanData;

typedef enum { SNG_UPD_SGD } SngUpdKind;
typedef enum { SNG_SCHED_FIXED, SNG_SCHED_STEP } SngSchedKind;

typedef struct SngPlanUpdater {
  int32_t kind;                /* SngUpdKind */
  double lr, momentum, weight_decay;
  int32_t schedule;            /* SngSchedKind */
  double sched_gamma;          /* step: lr * gamma^(step / every) */
  int64_t sched_every;
  int32_t kernel;              /* index in plan->kernels: update(bufs = {w, g, state...}, scalars = {lr, wd, grad_scale}) */
  int32_t nstate;              /* state buffers per parameter (momentum history: 1) */
} SngPlanUpdater;

typedef struct SngPlanTrain {
  const char *net;             /* net name */
  const char *alg;             /* "bp" */
  int64_t steps, display_every;
  int64_t test_every;          /* 0: only at the end */
  int64_t test_steps;          /* batches per test; 0 = the whole test set */
  uint64_t seed;
} SngPlanTrain;

typedef enum { SNG_UNIT_WORKER, SNG_UNIT_SERVER } SngUnitKind;
typedef struct SngPlanUnit {
  int32_t kind;                /* SngUnitKind */
  int32_t group, index;        /* worker/server group and index inside it */
  int32_t rank, thread;        /* placement: MPI rank (0 when embedded) and thread number in it */
  int32_t graph;               /* WORKER: index in plan->graphs */
} SngPlanUnit;

typedef struct SngPlan {
  SngArena *arena;             /* owns every string and array below */
  uint32_t version;
  const char *source;          /* the .sng file it was compiled from */
  int32_t nranks;
  int32_t nunits;
  SngPlanUnit *units;
  int32_t ngraphs;
  SngPlanGraph *graphs;
  int32_t nkernels;
  SngPlanKernel *kernels;
  int32_t nparams;
  SngPlanParam *params;
  SngPlanData data;
  SngPlanUpdater updater;
  SngPlanTrain train;
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
/* "MATMUL" for an op code of stdlib/ops.def; "?" when out of range. */
const char *sng_plan_op_name(int32_t op);

#endif
