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

typedef struct SngAutoReport {    /* what partition = auto chose, for --explain */
  int ran;                        /* 1 if the net asked for auto */
  int64_t chosen, all_batch, all_feature;   /* predicted bytes moved per step */
  int searched;                   /* combinations tried */
  int budget;                     /* at most this many: each is a build of the whole net */
  bool exact;                     /* every combination was tried */
  bool cut;                       /* the descent stopped at the budget, not at a local minimum */
} SngAutoReport;

typedef struct SngJob {
  SngArena *arena;
  const char *source;
  SngIrGraph *net;                /* the worker group's net: forward, then backward, one piece per worker */
  SngLoc net_loc;                 /* the name of the net in its declaration (size errors point here) */
  SngIrGraph *whole;              /* the forward net before partitioning (kept for --explain) */
  SngIrGraph *update;             /* the updater: one fused kernel applied per parameter */
  SngIrNode *loss, *metric;       /* per-row loss and metric of the whole net */
  int32_t cd_k;                   /* `with cd(k = K)`: K Gibbs steps (sema); 0 under bp */
  SngLoc alg_loc;                 /* where the train stage names its algorithm */
  SngPlanData data;
  SngPlanUpdater updater;
  SngPlanTrain train;
  SngPlanCluster cluster;
  int32_t processes;              /* cluster(processes = P): the plan's ranks (sema); 1 by default */
  SngPlanSlice *slices;           /* place.c: every parameter cut into slices owned by servers */
  int nslices;
  SngAutoReport autorep;
  FILE *timings;                  /* seconds per stage and pass go here (singac --time), or NULL */
  double mark;                    /* sng_now() when the current stage began */
} SngJob;

/* The rank (process) of worker or server `index` under cluster(processes = P) (place.c). */
int sng_pass_unit_rank(const SngJob *job, int worker, int index);

/* With job->timings set: prints "  <what> <seconds since the last mark>" and moves the mark. */
void sng_job_time(SngJob *job, const char *what);

SngJob *sng_job_new(void);
void sng_job_free(SngJob *job);

/* sema.c: resolves names, evaluates constants and options, and builds the forward IR from
 * stdlib's layers.  Reports every error it finds. */
int sng_pass_sema(SngJob *job, const SngFile *f, SngDiag *d);

/* Each pass: 0 or -1 (errors reported). */
int sng_pass_shape(SngIrGraph *g, SngDiag *d);
int sng_pass_dce(SngJob *job);
int sng_pass_grad(SngJob *job, SngDiag *d);
int sng_pass_grad_graph(SngIrGraph *g, SngDiag *d);   /* the same, on any forward graph with a loss */
/* partition.c: turns job->net (the whole forward net) into one subgraph per worker of the
 * group (job->whole keeps the original); resolves partition = auto first. */
int sng_pass_partition(SngJob *job, SngDiag *d);
/* place.c: cuts the parameters into slices balanced over the servers (SINGA's Slice and
 * PartitionSlices); the plan's units follow from job->cluster. */
int sng_pass_place(SngJob *job);
void sng_pass_print_slices(FILE *out, const SngJob *job);
int sng_pass_fuse(SngIrGraph *g);
int sng_pass_memplan(SngIrGraph *g);

/* explain.c: the cost of a step, per worker, from the partitioned and planned graph. */
typedef struct SngCost {
  int64_t flops, peak_bytes, sent, received;   /* per worker */
} SngCost;
/* Bytes moved per step: bridges between workers, and each worker's parameter pieces as
 * gradients up to the stub and fresh values back.  `per` (nworkers entries) may be NULL. */
int64_t sng_pass_step_bytes(const SngIrGraph *g, SngCost *per);
/* singac --explain: per worker FLOPs, peak bytes, bytes sent and received, the busiest link,
 * and what partition = auto chose. */
void sng_pass_explain(FILE *out, const SngJob *job);

/* pipeline.c: runs every pass in order and the IR verifier after each.  If dump is not
 * NULL, prints the IR after the pass named `only` (or after every pass if only is NULL). */
int sng_pass_run_all(SngJob *job, SngDiag *d, FILE *dump, const char *only);
/* The names `only` may take, in pipeline order (NULL-terminated). */
extern const char *const sng_pass_names[];

#endif
