/* dce.c - drops what the loss and the metric do not need.
 *
 * A net may name tensors it never uses (a branch being tried out, say).  Nothing that does
 * not feed the loss or the metric is computed, differentiated or given memory, and its
 * parameters do not exist in the plan.  Nodes are marked dead, never removed (ids stay).
 */
#include "sng_pass.h"

int sng_pass_dce(SngJob *job) {
  SngIrGraph *g = job->net;
  for (int i = 0; i < g->nnodes; i++) g->nodes[i]->dead = true;
  if (job->loss) job->loss->dead = false;
  if (job->metric) job->metric->dead = false;
  for (int i = g->nnodes - 1; i >= 0; i--) { /* sources come before users */
    SngIrNode *n = g->nodes[i];
    if (!n->dead)
      for (int j = 0; j < n->nsrc; j++) n->src[j]->dead = false;
  }
  for (int i = 0; i < g->nnodes; i++) /* the labels and features stay: the loader fills them */
    if (g->nodes[i]->op == SNG_OP_INPUT) g->nodes[i]->dead = false;
  return 0;
}
