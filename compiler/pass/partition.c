/* partition.c - places the net's nodes on the workers of a group.
 *
 * With W workers on the batch dimension each worker takes batch/W rows (uneven splits
 * allowed) and the parameters are replicated; on the feature dimension each takes a slice
 * of a layer's units.  Connection nodes (slice, concat, bridge) are inserted where two
 * connected layers differ (runtime.md).  Sema admits one worker per group so far, so this
 * pass assigns every node to worker 0 and checks that the batch divides; the multi-worker
 * split is the next step of the roadmap (docs/design.md).
 */
#include "sng_pass.h"

int sng_pass_partition(SngJob *job, SngDiag *d) {
  SngIrGraph *g = job->net;
  int w = job->cluster.workers_per_group;
  if (w != 1) {
    sng_diag_error(d, (SngLoc){job->source, 1, 1}, "partitioning over %d workers is not implemented yet", w);
    return -1;
  }
  for (int i = 0; i < g->nnodes; i++) g->nodes[i]->worker = 0;
  return 0;
}
