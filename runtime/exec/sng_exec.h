/* sng_exec.h - runs a plan: the executor of one worker's graph, and the training driver
 * with its workers, servers and stub.
 *
 * Example usage:
 *   SngPlan *p = sng_plan_read("mlp.plan", err, sizeof err);
 *   SngRunOpts o = sng_run_defaults();
 *   o.metrics_path = "metrics.jsonl";
 *   int rc = sng_run_train(p, &o, err, sizeof err);     // prints progress, tests, final line
 *
 * Lower level, for tests (finite differences, kernels in context):
 *   SngExec *e = sng_exec_new(p, 0, jit, params, err, sizeof err);
 *   float *x = sng_exec_tensor(e, "x");   ... fill ...
 *   sng_exec_run(e, SNG_EXEC_TRAIN, NULL, NULL);          // forward + backward
 */
#ifndef SNG_EXEC_H
#define SNG_EXEC_H

#include "sng_jit.h"
#include "sng_plan.h"

/* ---- executor: one worker's graph over its arena ---- */
typedef struct SngExec SngExec;
enum { SNG_EXEC_TEST = 0, SNG_EXEC_TRAIN = 1 };   /* forward only / forward + backward */

/* Compiles the plan's kernels (once per plan and JIT) and binds the graph's tensors: arena
 * offsets for temporaries, params[i] for parameter i. */
SngExec *sng_exec_new(const SngPlan *p, int graph, SngJit *jit, float *const *params, char *err, size_t errlen);
void sng_exec_free(SngExec *e);
/* Runs the ops of the phase; after the last op that touches parameter i (its gradient is
 * final and its value no longer read), calls on_param(ctx, i). */
void sng_exec_run(SngExec *e, int phase, void (*on_param)(void *ctx, int param), void *ctx);
float *sng_exec_tensor(SngExec *e, const char *name);   /* NULL if no such tensor */
float *sng_exec_tensor_at(SngExec *e, int index);
int64_t sng_exec_kernel_calls(const SngExec *e);        /* calls into JIT-compiled code */
/* Applies the plan's update kernel to n values (for tests and the server). */
SngKernelFn sng_exec_update_fn(const SngExec *e);
/* Times every op when on (costs two clock reads per op): seconds in GEMMs, JIT kernels and
 * C kernels since profiling began. */
void sng_exec_profile(SngExec *e, int on);
void sng_exec_times(const SngExec *e, double *gemm, double *jit, double *c);

/* ---- training ---- */
typedef struct SngRunOpts {
  int threads;              /* OpenBLAS threads; 0 = all cores */
  int64_t steps;            /* 0 = the plan's */
  int64_t warmup;           /* steps left out of the final samples/s */
  const char *metrics_path; /* JSON lines: one object per display and test event */
  int progress;             /* -1 auto (a terminal), 0 plain lines, 1 progress bar */
  int64_t test_limit;       /* 0 = plan's; else at most this many test batches */
  int profile;              /* print where a training step's time goes */
  const char *data_dir;     /* read the data files from here instead of the plan's folder */
  FILE *out;                /* progress and results (stdout) */
} SngRunOpts;

SngRunOpts sng_run_defaults(void);
/* Trains as the plan says; 0, or -1 with a message in err (missing data, NaN loss, ...). */
int sng_run_train(const SngPlan *p, const SngRunOpts *o, char *err, size_t errlen);

#endif
