/* graph.c - IR graph construction.
 *
 * A graph owns an arena; nodes are appended in topological order and get their index as id.
 * Builders set the op, sources and location only: shapes come from the shape pass, which
 * runs over the whole graph so that every shape error is reported with its .sng location.
 */
#include "sng_ir.h"

#include <stdlib.h>
#include <string.h>

SngShape sng_shape1(int64_t a) { return (SngShape){1, {a}}; }
SngShape sng_shape2(int64_t a, int64_t b) { return (SngShape){2, {a, b}}; }
int64_t sng_shape_numel(SngShape s) {
  int64_t n = 1;
  for (int i = 0; i < s.rank; i++) n *= s.d[i];
  return n;
}
int64_t sng_shape_numel_checked(SngShape s) {
  int64_t n = 1;
  for (int i = 0; i < s.rank; i++)
    if (s.d[i] < 0 || __builtin_mul_overflow(n, s.d[i], &n) || n > SNG_MAX_TENSOR_ELEMS) return -1;
  return n;
}
bool sng_shape_eq(SngShape a, SngShape b) {
  if (a.rank != b.rank) return false;
  for (int i = 0; i < a.rank; i++)
    if (a.d[i] != b.d[i]) return false;
  return true;
}
char *sng_shape_str(SngShape s, char *buf, size_t n) {
  size_t k = (size_t)snprintf(buf, n, "[");
  for (int i = 0; i < s.rank && k < n; i++)
    k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? "," : "", (long long)s.d[i]);
  if (k < n) snprintf(buf + k, n - k, "]");
  return buf;
}

SngIrGraph *sng_ir_graph_new(const char *name) {
  SngArena *a = sng_arena_new();
  SngIrGraph *g = sng_arena_alloc(a, sizeof *g);
  g->arena = a;
  g->name = sng_arena_strdup(a, name);
  g->nworkers = 1;
  g->cur_layer = -1;
  return g;
}

void sng_ir_graph_free(SngIrGraph *g) {
  if (!g) return;
  free(g->nodes);
  free(g->kernels);
  free(g->layers);
  free(g->arena_bytes);
  sng_arena_free(g->arena); /* g itself lives in the arena */
}

SngIrNode *sng_ir_node(SngIrGraph *g, SngOp op, SngLoc loc, int nsrc, SngIrNode *const *src) {
  SNG_ASSERT(nsrc >= 0);
  SNG_ASSERT(sng_op_info[op].nsrc < 0 || sng_op_info[op].nsrc == nsrc);
  if (g->nnodes == g->cap) {
    g->cap = g->cap ? 2 * g->cap : 64;
    g->nodes = sng_realloc(g->nodes, (size_t)g->cap * sizeof *g->nodes);
  }
  SngIrNode *n = sng_arena_alloc(g->arena, sizeof *n);
  n->op = op;
  n->loc = loc;
  n->nsrc = nsrc;
  n->src = sng_arena_alloc(g->arena, sizeof(SngIrNode *) * (size_t)(nsrc + 1));
  n->worker = g->cur_worker;
  n->layer = g->cur_layer;
  for (int i = 0; i < nsrc; i++) {
    SNG_ASSERT(src[i]);
    n->src[i] = src[i];
    if (src[i]->phase > n->phase) n->phase = src[i]->phase;
  }
  n->id = (uint32_t)g->nnodes;
  n->kernel = -1;
  n->offset = -1;
  n->lr_mult = n->wd_mult = 1.0;
  g->nodes[g->nnodes++] = n;
  return n;
}

SngIrNode *sng_ir_op1(SngIrGraph *g, SngOp op, SngLoc loc, SngIrNode *a) {
  return sng_ir_node(g, op, loc, 1, &a);
}
SngIrNode *sng_ir_op2(SngIrGraph *g, SngOp op, SngLoc loc, SngIrNode *a, SngIrNode *b) {
  SngIrNode *s[2] = {a, b};
  return sng_ir_node(g, op, loc, 2, s);
}

static SngIrNode *source(SngIrGraph *g, SngOp op, SngLoc loc, const char *name, SngShape s) {
  SngIrNode *n = sng_ir_node(g, op, loc, 0, NULL);
  n->name = name ? sng_arena_strdup(g->arena, name) : NULL;
  n->shape = s;
  return n;
}
SngIrNode *sng_ir_input(SngIrGraph *g, SngLoc loc, const char *name, SngShape s, int slot) {
  SngIrNode *n = source(g, SNG_OP_INPUT, loc, name, s);
  n->attr.input.slot = slot;
  return n;
}
SngIrNode *sng_ir_param(SngIrGraph *g, SngLoc loc, const char *name, SngShape s) {
  return source(g, SNG_OP_PARAM, loc, name, s);
}
SngIrNode *sng_ir_const(SngIrGraph *g, SngLoc loc, double v) {
  SngIrNode *n = source(g, SNG_OP_CONST, loc, NULL, (SngShape){0, {0}});
  n->attr.konst.value = v;
  return n;
}
SngIrNode *sng_ir_scalar(SngIrGraph *g, SngLoc loc, const char *name, int slot) {
  SngIrNode *n = source(g, SNG_OP_SCALAR, loc, name, (SngShape){0, {0}});
  n->attr.arg.slot = slot;
  return n;
}
SngIrNode *sng_ir_arg(SngIrGraph *g, SngLoc loc, const char *name, SngShape s, int slot) {
  SngIrNode *n = source(g, SNG_OP_ARG, loc, name, s);
  n->attr.arg.slot = slot;
  return n;
}

SngIrKernel *sng_ir_kernel_new(SngIrGraph *g) {
  if (g->nkernels == g->kcap) {
    g->kcap = g->kcap ? 2 * g->kcap : 16;
    g->kernels = sng_realloc(g->kernels, (size_t)g->kcap * sizeof *g->kernels);
  }
  SngIrKernel *k = sng_arena_alloc(g->arena, sizeof *k);
  k->id = g->nkernels;
  g->kernels[g->nkernels++] = k;
  return k;
}

int sng_ir_layer_new(SngIrGraph *g, const char *name, SngLoc loc, SngPart part, bool explicit_part) {
  if (g->nlayers == g->lcap) {
    g->lcap = g->lcap ? 2 * g->lcap : 16;
    g->layers = sng_realloc(g->layers, (size_t)g->lcap * sizeof *g->layers);
  }
  g->layers[g->nlayers] = (SngIrLayer){sng_arena_strdup(g->arena, name), loc, part, explicit_part};
  return g->nlayers++;
}

const char *sng_part_name(SngPart p) {
  switch (p) {
  case SNG_PART_NONE: return "none";
  case SNG_PART_BATCH: return "batch";
  case SNG_PART_FEATURE: return "feature";
  case SNG_PART_AUTO: return "auto";
  }
  return "?";
}

void sng_ir_count_uses(SngIrGraph *g) {
  for (int i = 0; i < g->nnodes; i++) g->nodes[i]->nuse = 0;
  for (int i = 0; i < g->nnodes; i++) {
    SngIrNode *n = g->nodes[i];
    if (n->dead) continue;
    for (int j = 0; j < n->nsrc; j++) n->src[j]->nuse++;
  }
}

const char *sng_ir_label(const SngIrNode *n, char *buf, size_t len) {
  if (n->name) snprintf(buf, len, "%s", n->name);
  else snprintf(buf, len, "%%%u", n->id);
  return buf;
}
