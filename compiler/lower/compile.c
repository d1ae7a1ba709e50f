/* compile.c - the compiler as one call: parse, sema, passes, lower. */
#include "sng_lower.h"

static SngPlan *compile(SngFile *f, SngArena *a, SngDiag *d, const SngCompileOpts *opts, double t0) {
  SngPlan *plan = NULL;
  if (!f || sng_diag_errors(d)) {
    sng_arena_free(a);
    return NULL;
  }
  SngJob *job = sng_job_new();
  job->timings = opts ? opts->timings : NULL;
  job->mark = t0;
  sng_job_time(job, "parse");
  if (sng_pass_sema(job, f, d) == 0 && (sng_job_time(job, "sema"), sng_diag_errors(d) == 0) &&
      sng_pass_run_all(job, d, opts ? opts->dump_ir : NULL, opts ? opts->dump_pass : NULL) == 0) {
    char err[512];
    if (opts && opts->dump_dot) sng_ir_print_dot(opts->dump_dot, job->net);
    if (opts && opts->explain) sng_pass_explain(opts->explain, job);
    if (opts && (opts->dump_dot || opts->explain)) sng_job_time(job, "explain");
    plan = sng_lower(job, opts, err, sizeof err);
    sng_job_time(job, "lower");
    if (!plan) sng_diag_error(d, (SngLoc){f->path, 0, 0}, "code generation failed: %s", err);
  }
  sng_job_free(job);
  sng_arena_free(a);
  return plan;
}

SngPlan *sng_compile_file(const char *path, SngDiag *d, const SngCompileOpts *opts) {
  SngArena *a = sng_arena_new();
  double t0 = sng_now();
  return compile(sng_parse_file(a, d, path), a, d, opts, t0);
}

SngPlan *sng_compile_string(const char *name, const char *text, SngDiag *d, const SngCompileOpts *opts) {
  SngArena *a = sng_arena_new();
  double t0 = sng_now();
  return compile(sng_parse_string(a, d, name, text), a, d, opts, t0);
}
