/* sng_pass.h - the compiler's passes, from AST to a checked, differentiated, fused and
 * memory-planned job.
 *
 * Example usage:
 *   SngJob *job = sng_job_new();
 *   if (sng_pass_sema(job, file, diag) == 0 &&          // AST -> forward IR + settings
 *       sng_pass_run_all(job, diag, dump, NULL) == 0)    // shape grad partition fuse memplan
 *     ... compiler/lower turns job into a plan ...
 *   sng_job_free(job);
 *
 * The pipeline, one pass per file, reads top to bottom in sng_pass_run_all (pipeline.c).
 * Every pass reports user errors through SngDiag at the .sng location of the node, and
 * returns -1 if it reported any.
 */
#ifndef SNG_PASS_H
#define SNG_PASS_H

#include "sng_ir.h"
#include "sng_lang.h"
#include "sng_plan.h"

typedef struct SngCluster {
  int worker_groups, workers_per_group, server_groups, servers_per_group;
  int sync;                       /* 1 synchronous inside a group */
} SngCluster;

typedef struct SngJob {
  SngArena *arena;
  const char *source;
  SngIrGraph *net;                /* the worker group's net: forward, then backward */
  SngIrGraph *update;             /* the updater: one fused kernel applied per parameter */
  SngIrNode *loss, *metric;       /* per-row loss and metric of the net */
  SngPlanData data;
  SngPlanUpdater updater;
  SngPlanTrain train;
  SngCluster cluster;
} SngJob;

SngJob *sng_job_new(void);
void sng_job_free(SngJob *job);

/* sema.c: resolves names, evaluates constants and options, and builds the forward IR from
 * stdlib's layers.  Reports every error it finds. */
int sng_pass_sema(SngJob *job, const SngFile *f, SngDiag *d);

/* Each pass: 0 or -1 (errors reported). */
int sng_pass_shape(SngIrGraph *g, SngDiag *d);
int sng_pass_dce(SngJob *job);
int sng_pass_grad(SngJob *job, SngDiag *d);
int sng_pass_partition(SngJob *job, SngDiag *d);
int sng_pass_fuse(SngIrGraph *g);
int sng_pass_memplan(SngIrGraph *g);

/* pipeline.c: runs every pass in order and the IR verifier after each.  If dump is not
 * NULL, prints the IR after the pass named `only` (or after every pass if only is NULL). */
int sng_pass_run_all(SngJob *job, SngDiag *d, FILE *dump, const char *only);
/* The names `only` may take, in pipeline order (NULL-terminated). */
extern const char *const sng_pass_names[];

/* stdlib: layers and updaters (stdlib/layers.c, stdlib/updaters.c) */
typedef struct SngLayerCtx SngLayerCtx;   /* sema's view for a layer builder (sema.c) */
typedef int (*SngLayerFn)(SngLayerCtx *c, const SngExpr *call, SngIrNode **out, int nout);
typedef struct SngLayer { const char *name; SngLayerFn build; int nout; const char *doc; } SngLayer;
extern const SngLayer sng_layers[];
extern const int sng_nlayers;
const SngLayer *sng_layer_find(const char *name);
/* Builds job->update from job->updater. */
int sng_upd_build(SngJob *job);

#endif

/* ---- the view a layer builder has of sema (sema.c) ---- */
/* Binds a call's arguments to the layer's parameters, described as "name" (required,
 * positional or named) or "name?" (optional).  Reports unknown names (with a suggestion),
 * duplicates, missing and surplus arguments.  slots[i] is NULL for an absent optional. */
int sng_lctx_bind(SngLayerCtx *c, const SngExpr *call, const char *const *params, int nparams,
                  const SngExpr **slots);
SngIrNode *sng_lctx_tensor(SngLayerCtx *c, const SngExpr *e);     /* NULL if an error was reported */
int sng_lctx_number(SngLayerCtx *c, const SngExpr *e, double *out);
int sng_lctx_int(SngLayerCtx *c, const SngExpr *e, int64_t min, int64_t *out);
int sng_lctx_bool(SngLayerCtx *c, const SngExpr *e, int *out);
int sng_lctx_init(SngLayerCtx *c, const SngExpr *e, SngInit *out);  /* uniform(a,b) gaussian(m,s) constant(v) */
/* The data block named by e, for input(); NULL if an error was reported. */
const SngPlanData *sng_lctx_data(SngLayerCtx *c, const SngExpr *e);
const char *sng_lctx_unique(SngLayerCtx *c, const char *kind);      /* "dense1", "dense2", ... */
SngIrGraph *sng_lctx_graph(SngLayerCtx *c);
SngDiag *sng_lctx_diag(SngLayerCtx *c);
