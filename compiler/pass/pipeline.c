/* pipeline.c - the whole pass pipeline, readable as one function (QBE's main).
 *
 *   sema        (sema.c)       AST -> forward IR, settings        run by the caller
 *   shape       (shape.c)      infer and check every shape
 *   dce         (dce.c)        drop what the loss and the metric do not need
 *   grad        (grad.c)       append the backward pass
 *   shape                      shapes of the backward nodes
 *   partition   (partition.c)  place nodes on the workers of a group
 *   fuse        (fuse.c)       elementwise/row-wise groups -> kernels
 *   memplan     (memplan.c)    arena offsets with reuse
 *   update      (stdlib/updaters.c + fuse) the updater as one kernel
 * The IR verifier runs after every pass; a verifier failure is a compiler bug.
 */
#include "sng_pass.h"

#include <string.h>

static int after(SngJob *job, SngIrGraph *g, const char *pass, FILE *dump, const char *only) {
  if (sng_ir_verify(g)) {
    fprintf(stderr, "singac: internal error after pass '%s'\n", pass);
    return -1;
  }
  if (dump && (!only || !strcmp(only, pass))) {
    fprintf(dump, "# after %s\n", pass);
    sng_ir_print(dump, g);
  }
  (void)job;
  return 0;
}

const char *const sng_pass_names[] = {"shape", "dce", "grad", "partition", "fuse", "memplan", "update", NULL};

int sng_pass_run_all(SngJob *job, SngDiag *d, FILE *dump, const char *only) {
  SngIrGraph *g = job->net;
  if (!g || sng_pass_shape(g, d) || after(job, g, "shape", dump, only)) return -1;
  if (sng_pass_dce(job) || after(job, g, "dce", dump, only)) return -1;
  if (sng_pass_grad(job, d) || sng_pass_shape(g, d) || after(job, g, "grad", dump, only)) return -1;
  if (sng_pass_partition(job, d) || after(job, g, "partition", dump, only)) return -1;
  if (sng_pass_fuse(g) || after(job, g, "fuse", dump, only)) return -1;
  if (sng_pass_memplan(g) || after(job, g, "memplan", dump, only)) return -1;
  if (sng_upd_build(job) || sng_pass_shape(job->update, d) || sng_pass_fuse(job->update) ||
      after(job, job->update, "update", dump, only))
    return -1;
  return 0;
}
