/* planutil.h - checks on compiled plans shared by the test programs (needs sng_plan.h).
 *
 * plan_overlap(g, &total, why, n) checks graph g's memory plan: tensors live at the same
 * time never share bytes and every tensor lies inside the arena.  Returns the number of
 * faults (the first described in why) and sets *total to the bytes of all planned tensors,
 * so a caller can also see that memory is reused (g->arena_bytes < *total).
 */
#ifndef SNG_PLANUTIL_H
#define SNG_PLANUTIL_H

#include <stdio.h>
#include <stdlib.h>

#include "sng_plan.h"

static inline int64_t pu_bytes(const SngPlanTensor *t) {
  int64_t n = 4;
  for (int k = 0; k < t->rank; k++) n *= t->dims[k];
  return n;
}

static inline int plan_overlap(const SngPlanGraph *g, int64_t *total, char *why, size_t n) {
  int nt = g->ntensors, faults = 0;
  int *def = calloc((size_t)nt + 1, sizeof(int)), *last = calloc((size_t)nt + 1, sizeof(int));
  for (int t = 0; t < nt; t++) def[t] = -1, last[t] = -1;
  for (int i = 0; i < g->nops; i++) { /* op positions: where each tensor is written and last read */
    const SngPlanOp *o = &g->ops[i];
    for (int j = 0; j < o->nin; j++) last[o->in[j]] = i;
    for (int j = 0; j < o->nout; j++) def[o->out[j]] = i, last[o->out[j]] = last[o->out[j]] > i ? last[o->out[j]] : i;
  }
  for (int t = 0; t < nt; t++) { /* read by the host after the step, or filled before it */
    const SngPlanTensor *x = &g->tensors[t];
    if (x->kind == SNG_TENSOR_GRAD || t == g->loss || t == g->metric) last[t] = g->nops;
    if (x->kind == SNG_TENSOR_INPUT) def[t] = -1;
  }
  *total = 0;
  if (why && n) why[0] = 0;
  for (int a = 0; a < nt; a++) {
    const SngPlanTensor *x = &g->tensors[a];
    if (x->offset < 0) continue;
    int64_t xs = pu_bytes(x);
    *total += xs;
    if (x->offset + xs > g->arena_bytes && !faults++) snprintf(why, n, "%s lies past the arena", x->name);
    for (int b = a + 1; b < nt; b++) {
      const SngPlanTensor *y = &g->tensors[b];
      if (y->offset < 0) continue;
      int live_together = !(last[a] < def[b] || last[b] < def[a]);
      int share = x->offset < y->offset + pu_bytes(y) && y->offset < x->offset + xs;
      if (live_together && share && !faults++) snprintf(why, n, "%s and %s overlap", x->name, y->name);
    }
  }
  free(def);
  free(last);
  return faults;
}

#endif
