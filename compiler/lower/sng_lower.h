/* sng_lower.h - turns a compiled job into a plan (and drives the whole compiler).
 *
 * Example usage:
 *   SngDiag *d = sng_diag_new(stderr, 20);
 *   SngPlan *plan = sng_compile_file("examples/mlp.sng", d, NULL);   // NULL: errors in d
 *   if (plan) sng_plan_write(plan, "mlp.plan", err, sizeof err);
 *   sng_plan_free(plan);
 *
 * Placement lives here too: which rank and thread runs each worker and server, and which
 * server owns each parameter.
 */
#ifndef SNG_LOWER_H
#define SNG_LOWER_H

#include "sng_pass.h"
#include "sng_plan.h"

typedef struct SngCompileOpts {
  FILE *dump_ir;           /* print the IR after passes (singac --dump-ir) */
  const char *dump_pass;   /* only after this pass (--dump-ir=NAME) */
  FILE *dump_kernels;      /* print each kernel's LLVM IR */
  FILE *dump_dot;          /* the partitioned net as a Graphviz graph (singac --dump-dot) */
  FILE *explain;           /* the cost of a step per worker (singac --explain) */
  FILE *timings;           /* seconds per stage and pass (singac --time) */
} SngCompileOpts;

/* Parses, checks and compiles a .sng file.  NULL if any error was reported to d. */
SngPlan *sng_compile_file(const char *path, SngDiag *d, const SngCompileOpts *opts);
SngPlan *sng_compile_string(const char *name, const char *text, SngDiag *d, const SngCompileOpts *opts);
/* The last step on its own: job (after sng_pass_run_all) -> plan. */
SngPlan *sng_lower(SngJob *job, const SngCompileOpts *opts, char *err, size_t errlen);

#endif
