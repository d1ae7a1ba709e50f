/* place.c - parameters cut into slices and given to servers, as SINGA does it
 * (reference.md §5, driver.cc / param.cc / common.cc):
 *
 *   1. lcm = LCM(server_groups, servers_per_group) boxes of avg = total/lcm + total%lcm
 *      elements, with a tolerance of avg/10 (Slice): walking the parameters in order, a
 *      parameter that fits the current box goes in whole, one that overflows it by at most
 *      the tolerance too (closing the box), a larger one is cut at the box's end.  So large
 *      parameters are split across servers and small ones packed together.
 *   2. PartitionSlices(servers_per_group): the slices, in order, are dealt into
 *      servers_per_group boxes by the same rule, giving slice -> server.
 * The plan records each slice (param, offset, length) with its owning server unit; the
 * stub sends one message per slice.  Units: the workers of the group come first (unit w is
 * worker w), then the servers (unit W + s); under allreduce server s sits beside worker s.
 */
#include "sng_pass.h"

#include <stdlib.h>

static int64_t gcd(int64_t a, int64_t b) { return b ? gcd(b, a % b) : a; }

static int64_t numel(const SngIrNode *p) { return sng_shape_numel(p->shape); }

int sng_pass_place(SngJob *job) {
  SngIrGraph *g = job->whole ? job->whole : job->net;
  const SngPlanCluster *cl = &job->cluster;
  int64_t num = (int64_t)cl->server_groups * cl->servers_per_group / gcd(cl->server_groups, cl->servers_per_group);
  int64_t total = 0;
  int nparams = 0;
  for (int i = 0; i < g->nnodes; i++)
    if (g->nodes[i]->op == SNG_OP_PARAM && !g->nodes[i]->dead) total += numel(g->nodes[i]), nparams++;
  /* Slice: at most nparams + num slices */
  SngPlanSlice *s = sng_arena_alloc(job->arena, sizeof *s * (size_t)(nparams + num + 2));
  int ns = 0, pi = 0;
  int64_t avg = total / num + total % num, diff = avg / 10, cap = avg;
  for (int i = 0; i < g->nnodes; i++) {
    SngIrNode *p = g->nodes[i];
    if (p->op != SNG_OP_PARAM || p->dead) continue;
    int64_t x = numel(p), off = 0;
    while (x > 0) {
      int64_t size = 0;
      if (cap >= x) cap -= x, size = x, x = 0;
      else if (cap + diff >= x) size = x, x = 0, cap = 0;
      else if (cap >= diff && cap > 0) x -= cap, size = cap, cap = avg;
      else cap = avg;
      if (size) s[ns++] = (SngPlanSlice){pi, off, size, 0}, off += size;
    }
    pi++;
  }
  /* PartitionSlices: slice -> server of the group */
  int nsrv = cl->servers_per_group;
  int64_t all = 0;
  for (int i = 0; i < ns; i++) all += s[i].len;
  int64_t bavg = all / nsrv + all % nsrv, box = bavg, bdiff = bavg / 10;
  int boxid = 0;
  for (int i = 0; i < ns;) {
    if (nsrv == 1) { s[i++].server = 0; continue; }
    int64_t x = s[i].len;
    if (box >= x) box -= x, s[i++].server = boxid;
    else if (box + bdiff >= x || box == bavg) s[i++].server = boxid, box = 0; /* (an empty box takes any slice) */
    else box = bavg, boxid++;
    if (boxid >= nsrv) boxid = nsrv - 1; /* never past the last server (rounding) */
  }
  int nworkers = cl->worker_groups * cl->workers_per_group;
  for (int i = 0; i < ns; i++) s[i].server += nworkers; /* unit index */
  job->slices = s;
  job->nslices = ns;
  return 0;
}

/* Ranks (cluster(processes = P)): worker w on rank w / (W / P), so each process holds W / P
 * consecutive workers (SINGA's nworkers_per_procs); under allreduce server s beside worker s,
 * under sandblaster server s on rank s % P, so the servers are spread over the processes. */
int sng_pass_unit_rank(const SngJob *job, int worker, int index) {
  int procs = job->processes > 1 ? job->processes : 1, nw = job->cluster.workers_per_group;
  int per = nw / procs > 0 ? nw / procs : 1;
  if (worker || job->cluster.framework == SNG_FW_ALLREDUCE) return index / per < procs ? index / per : procs - 1;
  return index % procs;
}

void sng_pass_print_slices(FILE *out, const SngJob *job) {
  const SngIrGraph *g = job->whole ? job->whole : job->net;
  const SngIrNode **params = sng_calloc((size_t)g->nnodes + 1, sizeof *params);
  int np = 0;
  for (int i = 0; i < g->nnodes; i++)
    if (g->nodes[i]->op == SNG_OP_PARAM && !g->nodes[i]->dead) params[np++] = g->nodes[i];
  int nworkers = job->cluster.worker_groups * job->cluster.workers_per_group;
  const SngPlanCluster *cl = &job->cluster;
  if (cl->worker_groups > 1) { /* every group runs the graphs above; slices name server group 0 */
    fprintf(out, "groups: %d worker groups of %d (%s%s), %d server group%s of %d", cl->worker_groups,
            cl->workers_per_group, cl->workers_per_group > 1 ? "hybrid: " : "", sng_plan_framework_name(cl->framework),
            cl->server_groups, cl->server_groups == 1 ? "" : "s", cl->servers_per_group);
    if (cl->sync_every) fprintf(out, ", exchanging every %d steps", cl->sync_every);
    fputc('\n', out);
  }
  fprintf(out, "slices: %d over %d server%s\n", job->nslices, job->cluster.servers_per_group,
          job->cluster.servers_per_group == 1 ? "" : "s");
  for (int i = 0; i < job->nslices; i++) {
    const SngPlanSlice *s = &job->slices[i];
    fprintf(out, "  slice %d %s [%lld, %lld) %lld B -> server %d\n", i, params[s->param]->name, (long long)s->offset,
            (long long)(s->offset + s->len), (long long)(s->len * 4), s->server - nworkers);
  }
  free(params);
}
