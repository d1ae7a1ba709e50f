/* pipeline.c - the whole pass pipeline, readable as one function (QBE's main).
 *
 *   sema        (sema.c)       AST -> forward IR, settings        run by the caller
 *   shape       (shape.c)      infer and check every shape
 *   dce         (dce.c)        drop what the loss and the metric do not need
 *   partition   (partition.c)  one subgraph per worker of the group, connection nodes
 *               (place.c)      parameters cut into slices owned by servers
 *   grad        (grad.c)       append the backward pass (of every worker's piece)
 *   shape                      shapes of the backward nodes
 *   fuse        (fuse.c)       elementwise/row-wise groups -> kernels
 *   memplan     (memplan.c)    arena offsets with reuse, one arena per worker
 *   update      (stdlib/updaters + fuse) the updater as one kernel
 * The IR verifier runs after every pass; a verifier failure is a compiler bug.
 */
#include "sng_pass.h"
#include "sng_std.h"

#include <string.h>

void sng_job_time(SngJob *job, const char *what) {
  if (!job->timings) return;
  double now = sng_now();
  fprintf(job->timings, "  %-10s %8.3f s\n", what, now - job->mark);
  job->mark = now;
}

static int after(SngJob *job, SngIrGraph *g, const char *pass, FILE *dump, const char *only) {
  sng_job_time(job, pass); /* the verifier and the dump below count towards the next pass */
  if (sng_ir_verify(g)) {
    fprintf(stderr, "singac: internal error after pass '%s'\n", pass);
    return -1;
  }
  if (dump && (!only || !strcmp(only, pass))) {
    fprintf(dump, "# after %s\n", pass);
    sng_ir_print(dump, g);
    if (job->slices && !strcmp(pass, "partition")) sng_pass_print_slices(dump, job);
  }
  return 0;
}

/* Every worker's arena fits SNG_MAX_GRAPH_BYTES, or the net is too large (at its name). */
static int arena_fits(const SngJob *job, SngDiag *d) {
  const SngIrGraph *g = job->net;
  for (int w = 0; w < g->nworkers; w++)
    if (g->arena_bytes[w] > SNG_MAX_GRAPH_BYTES) {
      sng_diag_error(d, job->net_loc, "net '%s' needs %lld bytes of tensors on worker %d, more than %lld",
                     g->name, (long long)g->arena_bytes[w], w, (long long)SNG_MAX_GRAPH_BYTES);
      sng_diag_hint(d, "a smaller batch or fewer units; more workers split it with partition = batch or feature");
      return -1;
    }
  return 0;
}

const char *const sng_pass_names[] = {"shape", "dce", "partition", "grad", "fuse", "memplan", "update", NULL};

int sng_pass_run_all(SngJob *job, SngDiag *d, FILE *dump, const char *only) {
  if (!job->net || sng_pass_shape(job->net, d) || after(job, job->net, "shape", dump, only)) return -1;
  if (sng_pass_dce(job) || after(job, job->net, "dce", dump, only)) return -1;
  if (sng_pass_partition(job, d) || sng_pass_shape(job->net, d) || sng_pass_place(job) ||
      after(job, job->net, "partition", dump, only))
    return -1;
  SngIrGraph *g = job->net;
  if (sng_pass_grad(job, d) || sng_pass_shape(g, d) || after(job, g, "grad", dump, only)) return -1;
  if (sng_pass_fuse(g) || after(job, g, "fuse", dump, only)) return -1;
  if (sng_pass_memplan(g) || arena_fits(job, d) || after(job, g, "memplan", dump, only)) return -1;
  job->update = sng_std_updater(&job->updater, &job->updater.nstate);
  if (sng_pass_shape(job->update, d) || sng_pass_fuse(job->update) ||
      after(job, job->update, "update", dump, only))
    return -1;
  return 0;
}
