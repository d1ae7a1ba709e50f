/* fuse.c - groups elementwise and row-wise work into kernels that compiler/cg emits as LLVM IR.
 *
 * Elementwise ops (OPF_ELTWISE) are joined along producer -> consumer edges when both work
 * over the same iteration space, in the same phase, and every user of the producer is such
 * an op: the producer's value then lives in a register inside the fused loop and is never
 * written to memory (bias_add + relu; the whole sgd-momentum update).  Union-find gives the
 * groups; a group runs where its last member stood, which is legal because no member has a
 * user outside the group before that point (checked; an illegal group is split up).
 * Row-wise ops on the same logits and labels (the softmax family: loss and its gradient) form
 * one row kernel, so softmax is computed once for both.  Every elementwise op ends up in some
 * kernel, even alone: there is no interpreted fallback for them in the runtime.
 */
#include "sng_pass.h"

#include <stdlib.h>

static int find(int *parent, int x) {
  while (parent[x] != x) x = parent[x] = parent[parent[x]];
  return x;
}

static bool same_space(const SngIrNode *a, const SngIrNode *b) { return sng_shape_eq(a->shape, b->shape); }

/* users[i]: the live users of node i, as a flat list; mark: scratch per node id, where a
 * node that carries the current stamp is in the set at hand (a kernel's inputs, a group) */
typedef struct Users { int *start, *list, *mark, stamp; } Users;

static Users users_of(SngIrGraph *g) {
  Users u = {sng_calloc((size_t)g->nnodes + 1, sizeof(int)), NULL, sng_calloc((size_t)g->nnodes + 1, sizeof(int)), 0};
  int total = 0;
  for (int i = 0; i < g->nnodes; i++)
    if (!g->nodes[i]->dead)
      for (int j = 0; j < g->nodes[i]->nsrc; j++) u.start[g->nodes[i]->src[j]->id + 1]++, total++;
  for (int i = 0; i < g->nnodes; i++) u.start[i + 1] += u.start[i];
  u.list = sng_calloc((size_t)total + 1, sizeof(int));
  int *fill = sng_calloc((size_t)g->nnodes, sizeof(int));
  for (int i = 0; i < g->nnodes; i++)
    if (!g->nodes[i]->dead)
      for (int j = 0; j < g->nodes[i]->nsrc; j++) {
        int s = (int)g->nodes[i]->src[j]->id;
        u.list[u.start[s] + fill[s]++] = i;
      }
  free(fill);
  return u;
}

static bool fusable_into_users(SngIrGraph *g, Users *u, SngIrNode *p) {
  if (!sng_op_has(p->op, OPF_ELTWISE) || p->op == SNG_OP_ASSIGN) return false;
  if (u->start[p->id] == u->start[p->id + 1]) return false; /* a graph output */
  for (int k = u->start[p->id]; k < u->start[p->id + 1]; k++) {
    SngIrNode *c = g->nodes[u->list[k]];
    if (!sng_op_has(c->op, OPF_ELTWISE) || c->phase != p->phase || c->worker != p->worker) return false;
    if (!same_space(p, c) && !(c->op == SNG_OP_ASSIGN && sng_shape_numel(c->shape) == sng_shape_numel(p->shape)))
      return false;
    if (c->op == SNG_OP_ASSIGN && c->src[0] == p) return false; /* ASSIGN writes into its first source */
  }
  return true;
}

/* Fills k's buffers: external inputs (ARG slots first, in slot order), then outputs. */
static void kernel_bufs(SngIrGraph *g, Users *u, SngIrKernel *k) {
  int nsrc = 0;
  for (int m = 0; m < k->nmembers; m++) nsrc += k->members[m]->nsrc;
  SngIrNode **in = sng_arena_alloc(g->arena, sizeof(SngIrNode *) * (size_t)(nsrc + k->nmembers + 1));
  SngIrNode **out = sng_arena_alloc(g->arena, sizeof(SngIrNode *) * (size_t)(k->nmembers + 1));
  int nin = 0, nout = 0, stamp = ++u->stamp;
  (void)nsrc;
  for (int m = 0; m < k->nmembers; m++)
    for (int j = 0; j < k->members[m]->nsrc; j++) {
      SngIrNode *s = k->members[m]->src[j];
      if (s->kernel == k->id || sng_op_has(s->op, OPF_SCALAR) || u->mark[s->id] == stamp) continue;
      u->mark[s->id] = stamp;
      in[nin++] = s;
    }
  for (int a = 1; a < nin; a++) /* stable: ARG nodes by slot to the front */
    for (int b = a; b > 0; b--) {
      SngIrNode *x = in[b - 1], *y = in[b];
      int kx = x->op == SNG_OP_ARG ? x->attr.arg.slot : 1 << 20, ky = y->op == SNG_OP_ARG ? y->attr.arg.slot : 1 << 20;
      if (ky >= kx) break;
      in[b - 1] = y, in[b] = x;
    }
  for (int m = 0; m < k->nmembers; m++) {
    SngIrNode *n = k->members[m];
    if (n->op == SNG_OP_ASSIGN) continue;
    bool outside = u->start[n->id] == u->start[n->id + 1];
    for (int q = u->start[n->id]; q < u->start[n->id + 1]; q++) outside |= g->nodes[u->list[q]]->kernel != k->id;
    if (outside) out[nout++] = n;
  }
  for (int i = 0; i < nout; i++) in[nin + i] = out[i];
  k->bufs = in;
  k->ninputs = nin;
  k->nbufs = nin + nout;
}

static SngIrKernel *new_kernel(SngIrGraph *g, SngIrNode **members, int n, bool rowwise) {
  SngIrKernel *k = sng_ir_kernel_new(g);
  k->members = sng_arena_alloc(g->arena, sizeof(SngIrNode *) * (size_t)n);
  for (int i = 0; i < n; i++) k->members[i] = members[i], members[i]->kernel = k->id;
  k->nmembers = n;
  k->rowwise = rowwise;
  SngIrNode *last = members[n - 1];
  k->space = rowwise ? members[0]->src[0]->shape : last->op == SNG_OP_ASSIGN ? last->src[0]->shape : last->shape;
  return k;
}

/* Is it legal to run the group at its last member?  No outside user may come before it. */
static bool legal(SngIrGraph *g, Users *u, SngIrNode **m, int n) {
  uint32_t at = m[n - 1]->id;
  int stamp = ++u->stamp;
  for (int i = 0; i < n; i++) u->mark[m[i]->id] = stamp;
  for (int i = 0; i < n; i++)
    for (int q = u->start[m[i]->id]; q < u->start[m[i]->id + 1]; q++) {
      SngIrNode *user = g->nodes[u->list[q]];
      if (u->mark[user->id] != stamp && user->id < at) return false;
    }
  return true;
}

int sng_pass_fuse(SngIrGraph *g) {
  Users u = users_of(g);
  int n = g->nnodes, *parent = sng_alloc(sizeof(int) * (size_t)n);
  for (int i = 0; i < n; i++) parent[i] = i;
  for (int i = 0; i < n; i++) {
    SngIrNode *p = g->nodes[i];
    if (p->dead || !fusable_into_users(g, &u, p)) continue;
    for (int q = u.start[i]; q < u.start[i + 1]; q++) parent[find(parent, i)] = find(parent, u.list[q]);
  }
  /* each elementwise group, members in node order: bucket the nodes by their root */
  SngIrNode **members = sng_alloc(sizeof(SngIrNode *) * (size_t)n);
  int *start = sng_calloc((size_t)n + 1, sizeof(int)), *fill = sng_calloc((size_t)n, sizeof(int));
  for (int i = 0; i < n; i++)
    if (!g->nodes[i]->dead && sng_op_has(g->nodes[i]->op, OPF_ELTWISE)) start[find(parent, i) + 1]++;
  for (int i = 0; i < n; i++) start[i + 1] += start[i];
  for (int i = 0; i < n; i++)
    if (!g->nodes[i]->dead && sng_op_has(g->nodes[i]->op, OPF_ELTWISE)) {
      int r = find(parent, i);
      members[start[r] + fill[r]++] = g->nodes[i];
    }
  for (int root = 0; root < n; root++) {
    SngIrNode **m = members + start[root];
    int cnt = start[root + 1] - start[root];
    if (!cnt) continue;
    if (legal(g, &u, m, cnt)) new_kernel(g, m, cnt, false);
    else
      for (int i = 0; i < cnt; i++) new_kernel(g, &m[i], 1, false);
  }
  free(start);
  free(fill);
  /* row kernels: the softmax family over the same sources (a few nodes: one loss per worker) */
  SngIrNode **rows = sng_alloc(sizeof(SngIrNode *) * ((size_t)n + 1));
  int nrows = 0;
  for (int i = 0; i < n; i++)
    if (!g->nodes[i]->dead && sng_op_has(g->nodes[i]->op, OPF_ROWWISE)) rows[nrows++] = g->nodes[i];
  for (int i = 0; i < nrows; i++) {
    SngIrNode *x = rows[i];
    if (x->kernel >= 0) continue;
    int cnt = 0;
    for (int j = i; j < nrows; j++) {
      SngIrNode *y = rows[j];
      if (y->kernel < 0 && y->src[0] == x->src[0] && y->src[1] == x->src[1] && y->worker == x->worker) members[cnt++] = y;
    }
    if (legal(g, &u, members, cnt)) new_kernel(g, members, cnt, true);
    else
      for (int j = 0; j < cnt; j++) new_kernel(g, &members[j], 1, true);
  }
  free(rows);
  for (int i = 0; i < g->nkernels; i++) kernel_bufs(g, &u, g->kernels[i]);
  free(members);
  free(u.mark);
  free(parent);
  free(u.start);
  free(u.list);
  return 0;
}
