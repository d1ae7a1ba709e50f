/* ranks.c - one worker group over several processes (plan nranks > 1; docs/distributed.md).
 *
 * The plan's UNIT records say which rank runs each worker and server (compiler/pass/place.c).
 * Each rank binds only its own workers and starts only its own servers (group.c); this file
 * holds what differs from one process:
 *   - the comm layer learns each unit's rank and each bridge's ends, so a message for a
 *     remote server and a bridge between ranks go over MPI (runtime/comm/mpi.c);
 *   - a rank's stub sums its local workers' shares of a parameter and sends each slice once;
 *     the server of a slice waits for one share from every rank that holds the parameter
 *     (its "senders"), sums them, updates, and replies to every holder: locally by
 *     sng_group_stub_reply, remotely by a REPLY message carrying the fresh values, which the
 *     receiving rank copies into its own copy of the parameter before refreshing its workers.
 * With one rank (MPI not started) every unit is local and take/reply are the old path.
 * The watchdog (mpi.c) names a silent rank with what it held (sng_ranks_held).
 */
#include "group.h"

#include <stdlib.h>
#include <string.h>

/* a REPLY from another rank's server: its fresh values into this rank's copy */
static void on_reply(void *ctx, SngMsg m) {
  SngGroup *g = ctx;
  const SngPlanSlice *sl = &g->p->slices[m.slice];
  GParam *q = &g->par[sl->param];
  SNG_ASSERT(m.kind == SNG_MSG_REPLY && m.len == sl->len);
  memcpy(q->value + sl->offset, m.payload, (size_t)m.len * 4);
  free((void *)m.payload);
  sng_group_stub_reply(g, m.slice);
}

/* "workers 2, 3 and server 1": the units rank r runs */
static char *held_by(const SngGroup *g, int r) {
  SngBuf b = {0};
  for (int server = 0; server < 2; server++) {
    int n = 0, first = server ? g->nw : 0, end = server ? g->p->nunits : g->nw;
    for (int u = first; u < end; u++) n += g->unit_rank[u] == r;
    if (server) sng_buf_printf(&b, " and ");
    if (!n) { sng_buf_printf(&b, "no %s", server ? "server" : "worker"); continue; }
    sng_buf_printf(&b, "%s%s ", server ? "server" : "worker", n > 1 ? "s" : "");
    for (int u = first, k = 0; u < end; u++)
      if (g->unit_rank[u] == r) sng_buf_printf(&b, "%s%d", k++ ? ", " : "", u - first);
  }
  sng_buf_put_u8(&b, 0);
  return (char *)b.data;
}

int sng_ranks_setup(SngGroup *g, char *err, size_t errlen) {
  const SngPlan *p = g->p;
  int procs = sng_mpi_started() ? sng_mpi_size() : 1;
  if (p->nranks != procs) {
    snprintf(err, errlen, "this plan runs on %d processes: mpirun -np %d singa-exec PLAN", p->nranks, p->nranks);
    return -1;
  }
  g->me = sng_mpi_rank(), g->nranks = p->nranks;
  g->unit_rank = sng_calloc((size_t)p->nunits + 1, sizeof *g->unit_rank);
  g->local = sng_calloc((size_t)g->nw + 1, sizeof *g->local);
  for (int u = 0; u < p->nunits; u++) g->unit_rank[u] = p->units[u].rank;
  for (int i = 0; i < g->nw; i++)
    if (g->unit_rank[i] == g->me) g->local[g->nlocal++] = i;
  if (!g->nlocal) {
    snprintf(err, errlen, "rank %d holds no worker (this runtime wants at least one per process)", g->me);
    return -1;
  }
  g->holds = sng_calloc((size_t)p->nparams * (size_t)g->nranks + 1, 1);
  for (int k = 0; k < p->ngraphs; k++)
    for (int t = 0; t < p->graphs[k].ntensors; t++) {
      const SngPlanTensor *ten = &p->graphs[k].tensors[t];
      if (ten->kind == SNG_TENSOR_PARAM) g->holds[ten->param * g->nranks + g->unit_rank[k]] = 1;
    }
  g->senders = sng_calloc((size_t)p->nslices + 1, sizeof *g->senders);
  g->arrived = sng_calloc((size_t)p->nslices + 1, sizeof *g->arrived);
  g->acc = sng_calloc((size_t)p->nslices + 1, sizeof *g->acc);
  for (int s = 0; s < p->nslices; s++) {
    const SngPlanSlice *sl = &p->slices[s];
    for (int r = 0; r < g->nranks; r++) g->senders[s] += g->holds[sl->param * g->nranks + r];
    if (g->senders[s] > 1 && g->unit_rank[sl->server] == g->me) g->acc[s] = sng_alloc_aligned((size_t)sl->len * 4 + 64);
  }
  if (g->nranks == 1) return 0;
  /* each bridge channel's sending and receiving worker */
  int nch = 0;
  for (int k = 0; k < p->ngraphs; k++)
    for (int o = 0; o < p->graphs[k].nops; o++)
      if (p->graphs[k].ops[o].op == SNG_OP_BRIDGE && p->graphs[k].ops[o].iattr[0] + 1 > nch)
        nch = (int)p->graphs[k].ops[o].iattr[0] + 1;
  int *from = sng_calloc((size_t)nch + 1, sizeof *from), *to = sng_calloc((size_t)nch + 1, sizeof *to);
  for (int k = 0; k < p->ngraphs; k++)
    for (int o = 0; o < p->graphs[k].nops; o++) {
      const SngPlanOp *op = &p->graphs[k].ops[o];
      if (op->op == SNG_OP_BRIDGE) (op->nin ? from : to)[op->iattr[0]] = g->unit_rank[k];
    }
  sng_comm_set_ranks(g->comm, g->me, g->unit_rank, from, to, on_reply, g);
  free(from), free(to);
  g->held = sng_calloc((size_t)g->nranks + 1, sizeof *g->held);
  for (int r = 0; r < g->nranks; r++) g->held[r] = held_by(g, r);
  sng_mpi_watch_start(g->held);
  return 0;
}

void sng_ranks_free(SngGroup *g) {
  sng_mpi_watch_stop();
  for (int r = 0; g->held && r < g->nranks; r++) free(g->held[r]);
  free(g->held);
  for (int s = 0; g->acc && s < g->p->nslices; s++) free(g->acc[s]);
  free(g->acc), free(g->senders), free(g->arrived), free(g->holds), free(g->local), free(g->unit_rank);
}

const float *sng_ranks_take(SngGroup *g, const SngMsg *m) {
  int s = m->slice;
  if (g->senders[s] <= 1) return m->payload;
  /* one server thread owns the slice: no lock needed */
  float *acc = g->acc[s];
  int64_t n = g->p->slices[s].len;
  if (g->arrived[s]++ == 0) memcpy(acc, m->payload, (size_t)n * 4);
  else
    for (int64_t j = 0; j < n; j++) acc[j] += m->payload[j];
  if (g->arrived[s] < g->senders[s]) return NULL;
  g->arrived[s] = 0;
  return acc;
}

void sng_ranks_reply(SngGroup *g, int s) {
  const SngPlanSlice *sl = &g->p->slices[s];
  const float *v = g->par[sl->param].value + sl->offset;
  for (int r = 0; r < g->nranks; r++) {
    if (!g->holds[sl->param * g->nranks + r]) continue;
    if (r == g->me) sng_group_stub_reply(g, s);
    else sng_comm_send_stub(g->comm, r, (SngMsg){SNG_MSG_REPLY, s, g->step, v, sl->len, 0});
  }
}

void sng_ranks_gather(SngGroup *g) {
  if (g->nranks == 1) return;
  for (int s = 0; s < g->p->nslices; s++) {
    const SngPlanSlice *sl = &g->p->slices[s];
    sng_mpi_to_root(g->par[sl->param].value + sl->offset, sl->len, g->unit_rank[sl->server]);
  }
}
