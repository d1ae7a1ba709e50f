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
 * offsets for temporaries, params[i] for a piece that is the whole parameter i (shared
 * memory, as SINGA's share_memory), an own buffer for a piece that is a slice of it (the
 * caller fills it: sng_exec_tensor_at). */
SngExec *sng_exec_new(const SngPlan *p, int graph, SngJit *jit, float *const *params, char *err, size_t errlen);
/* 1 if PARAM tensor t covers its whole parameter. */
int sng_exec_piece_is_whole(const SngPlan *p, const SngPlanTensor *t);
/* BRIDGE ops call fn: a send (op->nin 1) hands over `data`, a receive (op->nout 1) fills it;
 * op->iattr[0] is the channel, op->iattr[1] the peer worker. */
typedef void (*SngCommFn)(void *ctx, const SngPlanOp *op, float *data, int64_t bytes);
void sng_exec_set_comm(SngExec *e, SngCommFn fn, void *ctx);
void sng_exec_free(SngExec *e);
/* The training step the next runs belong to (0 until set): with the plan's seed it fixes
 * every random draw of the ops (dropout's mask), so a resumed run repeats them. */
void sng_exec_set_step(SngExec *e, int64_t step);
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

/* ---- the updater's runtime side (update.c; formulas in docs/language.md) ---- */
/* The learning rate of step s (0-based: the step whose gradient is applied), schedule and
 * warm-up included, before the parameter's lr_mult. */
double sng_upd_lr(const SngPlanUpdater *u, int64_t s);
/* The update kernel's scalars (SNG_UPD_S_*) for parameter pp at step s. */
void sng_upd_scalars(const SngPlanUpdater *u, const SngPlanParam *pp, int64_t s, double grad_scale,
                     float out[SNG_UPD_NSCALARS]);
/* The kernel's buffers for slice sl of a parameter of n values: state buffer k of the
 * parameter lives at state + k * n. */
void sng_upd_bufs(const SngPlanUpdater *u, float *value, float *state, int64_t n, const SngPlanSlice *sl,
                  const float *grad, float *bufs[2 + SNG_UPD_MAX_STATE]);
/* The gradients' scale under clip_norm, given the sum of squares of every gradient of the
 * step (1 without clip_norm). */
double sng_upd_clip_scale(const SngPlanUpdater *u, double sumsq);

/* ---- training ---- */
typedef struct SngRunOpts {
  int threads;              /* OpenBLAS threads per worker; 0 = the cores shared among the workers */
  int64_t steps;            /* 0 = the plan's */
  int64_t warmup;           /* steps left out of the final samples/s */
  const char *metrics_path; /* JSON lines: one object per display and test event */
  int progress;             /* -1 auto (a terminal), 0 plain lines, 1 progress bar */
  int64_t test_limit;       /* 0 = plan's; else at most this many test batches */
  int profile;              /* print where a training step's time goes */
  const char *data_dir;     /* read the data files from here instead of the plan's folder */
  FILE *out;                /* progress and results (stdout) */
  const char *dump_params;  /* after training, every parameter's values to this file (rank 0) */
} SngRunOpts;

SngRunOpts sng_run_defaults(void);
/* Trains as the plan says; 0, or -1 with a message in err (missing data, NaN loss, ...), or
 * a signal number when sng_stop_requested() (sng_core.h) reported one: the run then stopped
 * at a step boundary, the metrics file whole and ending in a "stopped" line, and err says
 * what was reached and written ("stopped by SIGINT after step 37 of 100; ..."). */
int sng_run_train(const SngPlan *p, const SngRunOpts *o, char *err, size_t errlen);

/* ---- a group run step by step, for tests: every worker and server of the plan as
 * threads, fed one batch at a time (x: batch rows of the sample size, y: labels) ---- */
typedef struct SngGroup SngGroup;
SngGroup *sng_group_new(const SngPlan *p, char *err, size_t errlen);
void sng_group_free(SngGroup *grp);
/* One training step on (x, y); returns the mean loss over the batch. */
double sng_group_step(SngGroup *grp, const float *x, const float *y);
/* The whole of parameter i (the servers' values) and, after a step, its gradient summed
 * over the workers (before the update). */
const float *sng_group_param(SngGroup *grp, int i);
const float *sng_group_grad(SngGroup *grp, int i);
/* Bytes the transport moved so far (bridges, gradients up, values down). */
int64_t sng_group_bytes(const SngGroup *grp);

#endif
