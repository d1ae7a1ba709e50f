/* memplan.c - the memory plan: one arena per worker, offsets reused across the step.
 *
 * Every tensor that must exist in memory (inputs, op outputs, kernel outputs, parameter
 * gradients) gets a byte offset.  A tensor is live from the op that writes it to the last
 * op that reads it; ops run at their own position, kernels where their last member stood.
 * Offsets are handed out best-fit (the smallest free block that holds the tensor, lowest
 * offset among equals) in order of definition, and a block is freed after its last reader ran, so no op ever reads and writes the same memory.  Tensors
 * that the host reads after the step (loss, metric, parameter gradients) live to the end,
 * and so do inputs, which the host fills before the step (a step can then be run again).
 * Fused kernel members that are not kernel outputs never touch memory and get no offset.
 */
#include "sng_pass.h"

#include <stdlib.h>

enum { ALIGN = 64 };

typedef struct Block { int64_t off, size; } Block;

/* ---- the free list: a treap of blocks ordered by (size, offset) ----
 * Best fit is the first block not smaller than the request: O(log n) expected, where a
 * scan of the list made the plan quadratic in the number of tensors.  Ties on size go to
 * the lowest offset, so the plan does not depend on the order blocks were freed in. */
typedef struct Treap {
  Block *blk;
  uint32_t *pri;
  int *l, *r;          /* children, -1 for none */
  int root, n;         /* nodes used; a node is never reused (at most one per tensor and split) */
  uint64_t seed;       /* xorshift state for the priorities: same plan on every run */
} Treap;

static bool less(Block a, Block b) { return a.size != b.size ? a.size < b.size : a.off < b.off; }

/* t's nodes with keys < key into *lo, the others into *hi */
static void split(Treap *t, int x, Block key, int *lo, int *hi) {
  if (x < 0) {
    *lo = *hi = -1;
    return;
  }
  if (less(t->blk[x], key)) {
    split(t, t->r[x], key, &t->r[x], hi);
    *lo = x;
  } else {
    split(t, t->l[x], key, lo, &t->l[x]);
    *hi = x;
  }
}

static int merge(Treap *t, int a, int b) {
  if (a < 0) return b;
  if (b < 0) return a;
  if (t->pri[a] > t->pri[b]) {
    t->r[a] = merge(t, t->r[a], b);
    return a;
  }
  t->l[b] = merge(t, a, t->l[b]);
  return b;
}

static void treap_put(Treap *t, Block b) {
  int x = t->n++, lo, hi;
  t->seed ^= t->seed << 13, t->seed ^= t->seed >> 7, t->seed ^= t->seed << 17;
  t->blk[x] = b, t->pri[x] = (uint32_t)(t->seed >> 16), t->l[x] = t->r[x] = -1;
  split(t, t->root, b, &lo, &hi);
  t->root = merge(t, merge(t, lo, x), hi);
}

static int erase(Treap *t, int x, Block key) {
  if (t->blk[x].off == key.off && t->blk[x].size == key.size) return merge(t, t->l[x], t->r[x]);
  if (less(key, t->blk[x])) t->l[x] = erase(t, t->l[x], key);
  else t->r[x] = erase(t, t->r[x], key);
  return x;
}

/* Takes size bytes from the smallest block that holds them; -1 when none does. */
static int64_t treap_take(Treap *t, int64_t size) {
  int best = -1;
  for (int x = t->root; x >= 0;)
    if (t->blk[x].size >= size) best = x, x = t->l[x];
    else x = t->r[x];
  if (best < 0) return -1;
  Block b = t->blk[best];
  t->root = erase(t, t->root, b);
  if (b.size > size) treap_put(t, (Block){b.off + size, b.size - size});
  return b.off;
}

static int64_t bytes(const SngIrNode *n) { return (sng_shape_numel(n->shape) * 4 + ALIGN - 1) / ALIGN * ALIGN; }

static int64_t pos_of(const SngIrGraph *g, const SngIrNode *n) {
  if (n->kernel < 0) return n->id;
  const SngIrKernel *k = g->kernels[n->kernel];
  return k->members[k->nmembers - 1]->id;
}

/* Kernel outputs come after the inputs in bufs; the flag array marks them once for all. */
static bool needs_memory(const bool *kout, const SngIrNode *n) {
  if (n->dead || n->op == SNG_OP_PARAM || sng_op_has(n->op, OPF_SCALAR) || n->op == SNG_OP_ARG) return false;
  if (n->op == SNG_OP_ASSIGN) return false;
  return n->kernel < 0 || kout[n->id];
}

typedef struct Plan {  /* scratch shared by the workers' plans */
  const int64_t *last; /* node id -> position of its last reader (INT64_MAX: to the end) */
  const bool *kout;    /* node id -> is a kernel output */
  int *head, *next;    /* head[pos]: tensors to free before pos, chained through next[id] */
  Treap t;
} Plan;

/* Best-fit offsets for the tensors of worker w, in execution order; returns the arena size. */
static int64_t plan_worker(SngIrGraph *g, uint32_t w, Plan *p) {
  int n = g->nnodes;
  int64_t top = 0;
  p->t.root = -1, p->t.n = 0, p->t.seed = 0x9e3779b97f4a7c15u;
  for (int i = 0; i <= n; i++) p->head[i] = -1;
  for (int at = 0; at < n; at++) {
    /* free the blocks whose last reader ran before this position */
    for (int id = p->head[at]; id >= 0; id = p->next[id]) treap_put(&p->t, (Block){g->nodes[id]->offset, bytes(g->nodes[id])});
    /* everything defined at this position: the node itself, or a kernel's outputs */
    SngIrNode *x = g->nodes[at];
    if (x->dead || x->worker != w) continue;
    SngIrNode *const *defs = &x;
    int ndefs = 0;
    if (x->kernel < 0) ndefs = 1;
    else if (pos_of(g, x) == at) {
      const SngIrKernel *k = g->kernels[x->kernel];
      defs = k->bufs + k->ninputs, ndefs = k->nbufs - k->ninputs;
    }
    for (int d = 0; d < ndefs; d++) {
      SngIrNode *t = defs[d];
      if (!needs_memory(p->kout, t)) continue;
      int64_t size = bytes(t);
      t->offset = treap_take(&p->t, size);
      if (t->offset < 0) t->offset = top, top += size;
      int64_t end = p->last[t->id] < at ? at : p->last[t->id]; /* freed before end + 1 */
      if (end < n - 1) p->next[t->id] = p->head[end + 1], p->head[end + 1] = (int)t->id;
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
  bool *kout = sng_calloc((size_t)n + 1, sizeof(bool));
  for (int i = 0; i < g->nkernels; i++)
    for (int b = g->kernels[i]->ninputs; b < g->kernels[i]->nbufs; b++) kout[g->kernels[i]->bufs[b]->id] = true;
  /* a treap node per tensor and one more per split block: 2n bounds them */
  size_t cap = 2 * (size_t)n + 2;
  Plan p = {last, kout, sng_alloc(sizeof(int) * ((size_t)n + 1)), sng_alloc(sizeof(int) * ((size_t)n + 1)),
            {sng_alloc(sizeof(Block) * cap), sng_alloc(sizeof(uint32_t) * cap), sng_alloc(sizeof(int) * cap),
             sng_alloc(sizeof(int) * cap), -1, 0, 0}};
  free(g->arena_bytes);
  g->arena_bytes = sng_calloc((size_t)g->nworkers, sizeof(int64_t));
  for (int w = 0; w < g->nworkers; w++) g->arena_bytes[w] = plan_worker(g, (uint32_t)w, &p);
  free(p.t.blk), free(p.t.pri), free(p.t.l), free(p.t.r);
  free(p.head), free(p.next), free(kout), free(last);
  return 0;
}
