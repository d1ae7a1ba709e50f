/* memplan.c - the memory plan: one arena per worker, offsets reused across the step.
 *
 * Every tensor that must exist in memory (inputs, op outputs, kernel outputs, parameter
 * gradients) gets a byte offset.  A tensor is live from the op that writes it to the last
 * op that reads it; ops run at their own position, kernels where their last member stood.
 * Offsets are handed out first-fit from a free list in order of definition, and a block is
 * freed after its last reader ran, so no op ever reads and writes the same memory.  Tensors
 * that the host reads after the step (loss, metric, parameter gradients) live to the end,
 * and so do inputs, which the host fills before the step (a step can then be run again).
 * Fused kernel members that are not kernel outputs never touch memory and get no offset.
 */
#include "sng_pass.h"

#include <stdlib.h>

enum { ALIGN = 64 };

typedef struct Block { int64_t off, size; } Block;

static int64_t bytes(const SngIrNode *n) { return (sng_shape_numel(n->shape) * 4 + ALIGN - 1) / ALIGN * ALIGN; }

static int64_t pos_of(const SngIrGraph *g, const SngIrNode *n) {
  if (n->kernel < 0) return n->id;
  const SngIrKernel *k = g->kernels[n->kernel];
  return k->members[k->nmembers - 1]->id;
}

static bool is_kernel_out(const SngIrGraph *g, const SngIrNode *n) {
  const SngIrKernel *k = g->kernels[n->kernel];
  for (int i = k->ninputs; i < k->nbufs; i++)
    if (k->bufs[i] == n) return true;
  return false;
}

static bool needs_memory(const SngIrGraph *g, const SngIrNode *n) {
  if (n->dead || n->op == SNG_OP_PARAM || sng_op_has(n->op, OPF_SCALAR) || n->op == SNG_OP_ARG) return false;
  if (n->op == SNG_OP_ASSIGN) return false;
  return n->kernel < 0 || is_kernel_out(g, n);
}

/* First-fit offsets for the tensors of worker w, in execution order; returns the arena size. */
static int64_t plan_worker(SngIrGraph *g, uint32_t w, const int64_t *last, Block *free_list, int *live) {
  int n = g->nnodes;
  int nfree = 0, nlive = 0;
  int64_t top = 0;
  for (int64_t at = 0; at < n; at++) {
    /* free the blocks whose last reader ran before this position */
    for (int i = 0; i < nlive;) {
      SngIrNode *x = g->nodes[live[i]];
      if (last[x->id] < at) {
        free_list[nfree++] = (Block){x->offset, bytes(x)};
        live[i] = live[--nlive];
      } else i++;
    }
    /* everything defined at this position: the node itself, or a kernel's outputs */
    SngIrNode *x = g->nodes[at];
    if (x->dead || x->worker != w) continue;
    SngIrNode *defs[64];
    int ndefs = 0;
    if (x->kernel < 0) defs[ndefs++] = x;
    else if (pos_of(g, x) == at) {
      const SngIrKernel *k = g->kernels[x->kernel];
      for (int i = k->ninputs; i < k->nbufs && ndefs < 64; i++) defs[ndefs++] = k->bufs[i];
    }
    for (int d = 0; d < ndefs; d++) {
      SngIrNode *t = defs[d];
      if (!needs_memory(g, t)) continue;
      int64_t size = bytes(t);
      int best = -1;
      for (int i = 0; i < nfree; i++)
        if (free_list[i].size >= size && (best < 0 || free_list[i].size < free_list[best].size)) best = i;
      if (best >= 0) {
        t->offset = free_list[best].off;
        free_list[best].off += size, free_list[best].size -= size;
        if (!free_list[best].size) free_list[best] = free_list[--nfree];
      } else {
        t->offset = top;
        top += size;
      }
      live[nlive++] = (int)t->id;
    }
  }
  return top;
}

int sng_pass_memplan(SngIrGraph *g) {
  int n = g->nnodes;
  int64_t *last = sng_alloc(sizeof(int64_t) * (size_t)n);
  for (int i = 0; i < n; i++) last[i] = -1;
  for (int i = 0; i < n; i++) {
    SngIrNode *x = g->nodes[i];
    if (x->dead) continue;
    for (int j = 0; j < x->nsrc; j++) {
      int64_t p = pos_of(g, x);
      if (p > last[x->src[j]->id]) last[x->src[j]->id] = p;
    }
  }
  for (int i = 0; i < n; i++) { /* read by the host after the step */
    SngIrNode *x = g->nodes[i];
    if (x->op == SNG_OP_PARAM && x->param_grad) last[x->param_grad->id] = INT64_MAX;
    if (sng_op_has(x->op, OPF_LOSS | OPF_METRIC) || x->op == SNG_OP_INPUT || last[i] < 0) last[i] = INT64_MAX;
  }
  Block *free_list = sng_alloc(sizeof(Block) * (size_t)(n + 1));
  int *live = sng_alloc(sizeof(int) * (size_t)n); /* allocated blocks waiting for their last reader */
  free(g->arena_bytes);
  g->arena_bytes = sng_calloc((size_t)g->nworkers, sizeof(int64_t));
  for (int w = 0; w < g->nworkers; w++) g->arena_bytes[w] = plan_worker(g, (uint32_t)w, last, free_list, live);
  free(live);
  free(free_list);
  free(last);
  return 0;
}
