/* print.c - the IR as stable text (singac --dump-ir) and the verifier.
 *
 * The text is meant to be diffed by tests: node ids, names, shapes, bytes, phases, memory
 * offsets and fused kernels, and nothing that depends on addresses or time.
 *
 *   %6 h1 f32[64,1000] = relu(%5)  ; fwd 256000 B @0 k0
 *   kernel k0 eltwise [64,1000]: bias_add %5 + relu %6  ; in %4 dense1.b ; out %6
 */
#include "sng_ir.h"

#include <ctype.h>
#include <string.h>

static const char *opname(SngOp op, char *buf, size_t n) {
  const char *s = sng_op_info[op].name;
  size_t i = 0;
  for (; s[i] && i + 1 < n; i++) buf[i] = (char)tolower((unsigned char)s[i]);
  buf[i] = 0;
  return buf;
}

static const char *phase_name[] = {"fwd", "fwd-train", "bwd", "upd"};

static void print_at(FILE *out, const char *what, const int64_t *at, int rank) {
  fprintf(out, " %s=[", what);
  for (int i = 0; i < rank; i++) fprintf(out, "%s%lld", i ? "," : "", (long long)at[i]);
  fputc(']', out);
}

/* the attributes worth showing (printing only; the tag of SngAttr is the op) */
static void print_attr(FILE *out, const SngIrNode *n) {
  const SngAttr *a = &n->attr;
  switch (n->op) {
  case SNG_OP_INPUT:
    fprintf(out, " slot=%d", a->input.slot);
    if (n->at[0]) fprintf(out, " rows@%lld", (long long)n->at[0]);
    break;
  case SNG_OP_ARG: case SNG_OP_SCALAR: fprintf(out, " slot=%d", a->arg.slot); break;
  case SNG_OP_CONST: fprintf(out, " %g", a->konst.value); break;
  case SNG_OP_PARAM:
    if (a->param.whole) {
      fprintf(out, " of %s", a->param.whole->name);
      if (!sng_shape_eq(a->param.whole->shape, n->shape)) print_at(out, "at", n->at, n->shape.rank);
    }
    break;
  case SNG_OP_MATMUL:
    if (a->matmul.trans_a || a->matmul.trans_b)
      fprintf(out, " trans=%s%s", a->matmul.trans_a ? "a" : "", a->matmul.trans_b ? "b" : "");
    break;
  case SNG_OP_SOFTMAX_XENT: if (a->loss.rows) fprintf(out, " of %lld rows", (long long)a->loss.rows); break;
  case SNG_OP_SOFTMAX_XENT_BWD: fprintf(out, " scale=%g", a->loss.scale); break;
  case SNG_OP_SLICE: case SNG_OP_PAD: print_at(out, "at", a->slice.start, n->shape.rank); break;
  case SNG_OP_CONCAT: fprintf(out, " dim=%d", a->concat.dim); break;
  case SNG_OP_BRIDGE: fprintf(out, " from w%u", a->bridge.from); break;
  case SNG_OP_SAMPLE: fprintf(out, " %s", a->args.f[0] == 1 ? "gaussian" : "bernoulli"); break;
  case SNG_OP_CD_LOSS: if (a->loss.rows) fprintf(out, " of %lld rows", (long long)a->loss.rows); break;
  default: break;
  }
}

static void print_node(FILE *out, const SngIrNode *n) {
  char sh[64], on[32], lb[64];
  fprintf(out, "  %%%u", n->id);
  if (n->name) fprintf(out, " %s", n->name);
  fprintf(out, " f32%s = %s", sng_shape_str(n->shape, sh, sizeof sh), opname(n->op, on, sizeof on));
  if (n->nsrc) {
    fputc('(', out);
    for (int i = 0; i < n->nsrc; i++) fprintf(out, "%s%%%u", i ? ", " : "", n->src[i]->id);
    fputc(')', out);
  }
  print_attr(out, n);
  fprintf(out, "  ; %s", phase_name[n->phase]);
  if (n->shape.rank > 0 || !sng_op_has(n->op, OPF_SCALAR))
    fprintf(out, " %lld B", (long long)(sng_shape_numel(n->shape) * 4));
  if (n->offset >= 0) fprintf(out, " @%lld", (long long)n->offset);
  if (n->kernel >= 0) fprintf(out, " k%d", n->kernel);
  if (n->op == SNG_OP_PARAM && n->param_grad) fprintf(out, " grad=%%%u", n->param_grad->id);
  if (n->loc.line) fprintf(out, " line %d", n->loc.line);
  (void)lb;
  fputc('\n', out);
}

static void print_kernel(FILE *out, const SngIrKernel *k) {
  char sh[64], on[32], lb[64];
  fprintf(out, "  kernel k%d %s %s:", k->id, k->rowwise ? "rowwise" : "eltwise",
          sng_shape_str(k->space, sh, sizeof sh));
  for (int i = 0; i < k->nmembers; i++)
    fprintf(out, "%s %s %%%u", i ? " +" : "", opname(k->members[i]->op, on, sizeof on), k->members[i]->id);
  fprintf(out, "  ; in");
  for (int i = 0; i < k->ninputs; i++) fprintf(out, " %s", sng_ir_label(k->bufs[i], lb, sizeof lb));
  fprintf(out, " ; out");
  for (int i = k->ninputs; i < k->nbufs; i++) fprintf(out, " %s", sng_ir_label(k->bufs[i], lb, sizeof lb));
  fputc('\n', out);
}

void sng_ir_print(FILE *out, const SngIrGraph *g) {
  int live = 0;
  for (int i = 0; i < g->nnodes; i++) live += !g->nodes[i]->dead;
  fprintf(out, "graph %s: %d nodes, %d kernels", g->name, live, g->nkernels);
  if (g->nworkers > 1) fprintf(out, ", %d workers", g->nworkers);
  if (g->arena_bytes && g->nworkers == 1) fprintf(out, ", arena %lld B", (long long)g->arena_bytes[0]);
  fputc('\n', out);
  for (int w = 0; w < g->nworkers; w++) {
    if (g->nworkers > 1) {
      fprintf(out, " worker %d:", w);
      if (g->arena_bytes) fprintf(out, " arena %lld B", (long long)g->arena_bytes[w]);
      fputc('\n', out);
    }
    for (int i = 0; i < g->nnodes; i++)
      if (!g->nodes[i]->dead && g->nodes[i]->worker == (uint32_t)w) print_node(out, g->nodes[i]);
    for (int i = 0; i < g->nkernels; i++)
      if (g->kernels[i]->members[0]->worker == (uint32_t)w) print_kernel(out, g->kernels[i]);
  }
}

/* Graphviz: one cluster per worker; bridges are the only edges between clusters. */
void sng_ir_print_dot(FILE *out, const SngIrGraph *g) {
  char on[32], sh[64];
  fprintf(out, "digraph \"%s\" {\n  rankdir=TB;\n  node [shape=box, fontsize=10];\n", g->name);
  for (int w = 0; w < g->nworkers; w++) {
    fprintf(out, "  subgraph cluster_w%d {\n    label=\"worker %d\";\n    style=rounded;\n", w, w);
    for (int i = 0; i < g->nnodes; i++) {
      const SngIrNode *n = g->nodes[i];
      if (n->dead || n->worker != (uint32_t)w || sng_op_has(n->op, OPF_SCALAR)) continue;
      fprintf(out, "    n%u [label=\"%%%u %s\\n%s%s%s\"%s];\n", n->id, n->id, opname(n->op, on, sizeof on),
              n->name ? n->name : "", n->name ? " " : "", sng_shape_str(n->shape, sh, sizeof sh),
              sng_op_has(n->op, OPF_CONN) ? ", style=filled, fillcolor=lightyellow"
              : n->op == SNG_OP_PARAM ? ", style=filled, fillcolor=lightblue" : "");
    }
    fputs("  }\n", out);
  }
  for (int i = 0; i < g->nnodes; i++) {
    const SngIrNode *n = g->nodes[i];
    if (n->dead || sng_op_has(n->op, OPF_SCALAR)) continue;
    for (int j = 0; j < n->nsrc; j++) {
      if (sng_op_has(n->src[j]->op, OPF_SCALAR)) continue;
      fprintf(out, "  n%u -> n%u%s;\n", n->src[j]->id, n->id,
              n->op == SNG_OP_BRIDGE ? " [color=red, penwidth=2, label=\"bridge\"]" : "");
    }
  }
  fputs("}\n", out);
}

/* ---- verifier: run after every pass in tests and with singac --verify ---- */
static int bad(const SngIrGraph *g, const SngIrNode *n, const char *what) {
  char lb[64];
  fprintf(stderr, "singac: internal error: IR %s: node %s (%s): %s\n", g->name, sng_ir_label(n, lb, sizeof lb),
          sng_op_info[n->op].name, what);
  return -1;
}

int sng_ir_verify(const SngIrGraph *g) {
  for (int i = 0; i < g->nnodes; i++) {
    const SngIrNode *n = g->nodes[i];
    if (n->id != (uint32_t)i) return bad(g, n, "id does not match its index");
    if (n->dead) continue;
    if (sng_op_info[n->op].nsrc >= 0 && n->nsrc != sng_op_info[n->op].nsrc) return bad(g, n, "wrong source count");
    for (int j = 0; j < n->nsrc; j++) {
      if (n->src[j]->id >= n->id) return bad(g, n, "source after its user (not topological)");
      if (n->src[j]->dead) return bad(g, n, "uses a dead node");
    }
    if (n->shape.rank < 0 || n->shape.rank > SNG_MAX_RANK) return bad(g, n, "bad rank");
    for (int j = 0; j < n->shape.rank; j++)
      if (n->shape.d[j] <= 0) return bad(g, n, "shape not inferred");
    if (n->kernel >= g->nkernels) return bad(g, n, "kernel id out of range");
    if (n->worker >= (uint32_t)g->nworkers) return bad(g, n, "worker out of range");
    for (int j = 0; j < n->nsrc; j++)
      if (n->src[j]->worker != n->worker && n->op != SNG_OP_BRIDGE && !sng_op_has(n->src[j]->op, OPF_SCALAR))
        return bad(g, n, "uses a tensor of another worker without a bridge");
    if (n->op == SNG_OP_BRIDGE && n->src[0]->worker != n->attr.bridge.from) return bad(g, n, "bridge from the wrong worker");
  }
  for (int i = 0; i < g->nkernels; i++) {
    const SngIrKernel *k = g->kernels[i];
    for (int j = 0; j < k->nmembers; j++)
      if (k->members[j]->kernel != k->id) return bad(g, k->members[j], "member of a kernel it does not name");
    if (k->ninputs > k->nbufs) return bad(g, k->members[0], "kernel with more inputs than buffers");
  }
  return 0;
}
