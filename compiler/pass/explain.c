/* explain.c - what a step costs, worker by worker (singac --explain), from the partitioned,
 * differentiated and memory-planned graph.
 *
 * Bytes moved per step are counted the way the runtime's transport counts them: every
 * bridge carries its tensor from one worker to another, and every parameter piece a
 * worker holds goes up to the stub as a gradient and comes back as fresh values.  So
 * replicating a parameter over W workers (batch) moves it 2W times, slicing it (feature)
 * moves it twice, at the price of the bridges that re-lay activations around the layer.
 * partition = auto minimises exactly this number (partition.c).
 */
#include "sng_pass.h"

#include <stdlib.h>

static int64_t tensor_bytes(const SngIrNode *n) { return sng_shape_numel(n->shape) * 4; }

static int64_t flops_of(const SngIrNode *n) {
  if (n->dead || sng_op_has(n->op, OPF_SOURCE)) return 0;
  if (sng_op_has(n->op, OPF_GEMM)) {
    const SngIrNode *a = n->src[0];
    int64_t rows = a->shape.d[0], cols = sng_shape_numel(a->shape) / (rows ? rows : 1);
    int64_t k = n->attr.matmul.trans_a ? rows : cols;
    return 2 * sng_shape_numel(n->shape) * k;
  }
  if (sng_op_has(n->op, OPF_COMM | OPF_CONN)) return 0;
  if (sng_op_has(n->op, OPF_ROWWISE)) return 5 * sng_shape_numel(n->src[0]->shape);
  if (sng_op_has(n->op, OPF_ELTWISE)) return sng_shape_numel(n->shape);
  return n->nsrc ? sng_shape_numel(n->src[0]->shape) : 0; /* reductions, metrics: one per input element */
}

int64_t sng_pass_step_bytes(const SngIrGraph *g, SngCost *per) {
  int64_t total = 0;
  for (int i = 0; i < g->nnodes; i++) {
    const SngIrNode *n = g->nodes[i];
    if (n->dead) continue;
    if (per && __builtin_add_overflow(per[n->worker].flops, flops_of(n), &per[n->worker].flops))
      per[n->worker].flops = INT64_MAX; /* each op's count fits (shape.c's limits); their sum may not */
    if (n->op == SNG_OP_BRIDGE) {
      int64_t b = tensor_bytes(n);
      total += b;
      if (per) per[n->attr.bridge.from].sent += b, per[n->worker].received += b;
    } else if (n->op == SNG_OP_PARAM && n->param_grad) {
      int64_t b = tensor_bytes(n);
      total += 2 * b;
      if (per) per[n->worker].sent += b, per[n->worker].received += b, per[n->worker].peak_bytes += b;
    }
  }
  return total;
}

/* Elements of param piece n (a box of the whole parameter) that fall in each slice's server:
 * walks the box's contiguous runs in the flattened parameter. */
static void piece_to_servers(const SngIrNode *n, const SngJob *job, const int *sl_start, const int *sl_list, int pidx,
                             int64_t *to_unit) {
  const SngIrNode *whole = n->attr.param.whole;
  int rank = whole->shape.rank;
  int64_t stride[SNG_MAX_RANK], idx[SNG_MAX_RANK] = {0};
  stride[rank - 1] = 1;
  for (int i = rank - 2; i >= 0; i--) stride[i] = stride[i + 1] * whole->shape.d[i + 1];
  int64_t runs = sng_shape_numel(n->shape) / n->shape.d[rank - 1], len = n->shape.d[rank - 1];
  for (int64_t r = 0; r < runs; r++) {
    int64_t a = 0;
    for (int i = 0; i < rank; i++) a += (n->at[i] + idx[i]) * stride[i];
    for (int q = sl_start[pidx]; q < sl_start[pidx + 1]; q++) {
      const SngPlanSlice *sl = &job->slices[sl_list[q]];
      int64_t lo = a > sl->offset ? a : sl->offset, hi = a + len < sl->offset + sl->len ? a + len : sl->offset + sl->len;
      /* per group: the servers' units follow every group's workers */
      if (hi > lo) to_unit[sl->server - (job->cluster.worker_groups - 1) * job->cluster.workers_per_group] += 4 * (hi - lo);
    }
    for (int i = rank - 2; i >= 0; i--) { /* next run: odometer over the outer dimensions */
      if (++idx[i] < n->shape.d[i]) break;
      idx[i] = 0;
    }
  }
}

/* "812 B", "9.6 KiB", "12.3 MiB" into buf */
static const char *human(int64_t b, char *buf, size_t n) {
  if (b < 1024) snprintf(buf, n, "%lld B", (long long)b);
  else if (b < 1024 * 1024) snprintf(buf, n, "%.1f KiB", (double)b / 1024.0);
  else snprintf(buf, n, "%.1f MiB", (double)b / (1024.0 * 1024.0));
  return buf;
}

void sng_pass_explain(FILE *out, const SngJob *job) {
  const SngIrGraph *g = job->net, *whole = job->whole ? job->whole : g;
  int nw = g->nworkers, nu = nw + job->cluster.servers_per_group;
  SngCost *per = sng_calloc((size_t)nw, sizeof *per);
  int64_t total = sng_pass_step_bytes(g, per);
  int64_t *link = sng_calloc((size_t)nu * (size_t)nu, sizeof *link); /* link[from * nu + to] */
  int *pidx = sng_calloc((size_t)whole->nnodes + 1, sizeof *pidx);
  for (int i = 0, k = 0; i < whole->nnodes; i++)
    if (whole->nodes[i]->op == SNG_OP_PARAM && !whole->nodes[i]->dead) pidx[i] = k++;
  int np = 0;
  for (int i = 0; i < whole->nnodes; i++) np += whole->nodes[i]->op == SNG_OP_PARAM && !whole->nodes[i]->dead;
  /* the slices of each parameter, in slice order: sl_list[sl_start[p] .. sl_start[p + 1]) */
  int *sl_start = sng_calloc((size_t)np + 2, sizeof *sl_start), *sl_list = sng_calloc((size_t)job->nslices + 1, sizeof *sl_list);
  for (int s = 0; s < job->nslices; s++)
    if (job->slices[s].param >= 0 && job->slices[s].param < np) sl_start[job->slices[s].param + 1]++;
  for (int q = 0; q < np; q++) sl_start[q + 1] += sl_start[q];
  int *fill = sng_calloc((size_t)np + 1, sizeof *fill);
  for (int s = 0; s < job->nslices; s++)
    if (job->slices[s].param >= 0 && job->slices[s].param < np) {
      int q = job->slices[s].param;
      sl_list[sl_start[q] + fill[q]++] = s;
    }
  free(fill);
  int64_t *to = sng_calloc((size_t)nu, sizeof *to);
  for (int i = 0; i < g->nnodes; i++) {
    const SngIrNode *n = g->nodes[i];
    if (n->dead) continue;
    if (n->op == SNG_OP_BRIDGE) link[n->attr.bridge.from * (size_t)nu + n->worker] += tensor_bytes(n);
    if (n->op == SNG_OP_PARAM && n->param_grad && n->attr.param.whole) {
      for (int u = 0; u < nu; u++) to[u] = 0;
      piece_to_servers(n, job, sl_start, sl_list, pidx[n->attr.param.whole->id], to);
      for (int u = nw; u < nu; u++) link[n->worker * (size_t)nu + u] += to[u], link[u * (size_t)nu + n->worker] += to[u];
    }
  }
  fprintf(out, "explain %s: %d worker%s, %d server%s (%s), batch %lld\n", g->name, nw, nw == 1 ? "" : "s",
          job->cluster.servers_per_group, job->cluster.servers_per_group == 1 ? "" : "s",
          sng_plan_framework_name(job->cluster.framework), (long long)job->data.batch);
  if (job->cluster.worker_groups > 1)
    fprintf(out, "  per group, of %d worker groups and %d server group%s (each group on its own clock)\n",
            job->cluster.worker_groups, job->cluster.server_groups, job->cluster.server_groups == 1 ? "" : "s");
  fprintf(out, "  %-6s %12s %12s %12s %12s\n", "worker", "MFLOP/step", "peak memory", "sent", "received");
  for (int w = 0; w < nw; w++) {
    char pk[32], se[32], re[32];
    fprintf(out, "  %-6d %12.3f %12s %12s %12s\n", w, (double)per[w].flops / 1e6,
            human(per[w].peak_bytes + (g->arena_bytes ? g->arena_bytes[w] : 0), pk, sizeof pk),
            human(per[w].sent, se, sizeof se), human(per[w].received, re, sizeof re));
  }
  int bf = 0, bt = 0;
  for (int f = 0; f < nu; f++)
    for (int t = 0; t < nu; t++)
      if (link[f * nu + t] > link[bf * nu + bt]) bf = f, bt = t;
  char a[32], b[32];
  snprintf(a, sizeof a, bf < nw ? "worker %d" : "server %d", bf < nw ? bf : bf - nw);
  snprintf(b, sizeof b, bt < nw ? "worker %d" : "server %d", bt < nw ? bt : bt - nw);
  if (link[bf * nu + bt]) fprintf(out, "  busiest link: %s -> %s, %lld B/step\n", a, b, (long long)link[bf * nu + bt]);
  fprintf(out, "  moved per step: %lld B (bridges and parameter traffic)\n", (long long)total);
  fputs("  layers:", out); /* where a layer's output lives: the layout of its last node on worker 0 */
  const SngIrNode **lastof = sng_calloc((size_t)g->nlayers + 1, sizeof *lastof);
  bool *gemm = sng_calloc((size_t)g->nlayers + 1, sizeof *gemm); /* a layer with products splits by its own mode */
  for (int k = 0; k < g->nnodes; k++)
    if (g->nodes[k]->layer >= 0 && g->nodes[k]->phase == SNG_PHASE_FWD && !sng_op_has(g->nodes[k]->op, OPF_SOURCE | OPF_CONN)) {
      lastof[g->nodes[k]->layer] = g->nodes[k];
      gemm[g->nodes[k]->layer] |= sng_op_has(g->nodes[k]->op, OPF_GEMM);
    }
  for (int i = 0; i < g->nlayers; i++) {
    const SngIrNode *last = lastof[i];
    const char *how = sng_part_name(g->layers[i].part);
    if (last && !g->layers[i].explicit_part && !gemm[i] && last->nsrc && sng_op_has(last->op, OPF_ELTWISE) &&
        !sng_op_has(last->op, OPF_BIAS))
      how = "follows"; /* elementwise layers take their source's layout (gru, lstm end elementwise but do not) */
    fprintf(out, " %s=%s", g->layers[i].name, how);
  }
  fputc('\n', out);
  free(lastof);
  free(gemm);
  if (job->autorep.ran)
    fprintf(out, "  partition = auto: %lld B/step chosen; all batch %lld B, all feature %lld B (%d choices tried%s)\n",
            (long long)job->autorep.chosen, (long long)job->autorep.all_batch, (long long)job->autorep.all_feature,
            job->autorep.searched,
            job->autorep.exact ? ", exact"
            : job->autorep.cut ? ", coordinate descent stopped at its budget: each choice builds the whole net"
                               : ", coordinate descent");
  free(to);
  free(sl_start);
  free(sl_list);
  free(pidx);
  free(link);
  free(per);
}
