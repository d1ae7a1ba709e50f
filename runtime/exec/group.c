/* group.c - one worker group and its servers, as threads of one process, driven by the
 * plan's unit table (runtime.md, reference.md §5).
 *
 * Workers: one thread per worker graph (worker 0 is the driver's own).  Each step the driver fills the whole batch, the
 * workers copy their rows (a worker's INPUT tensors say which), run forward and backward,
 * and hand every parameter piece's gradient to the stub as soon as it is final.  Bridges
 * move activations and gradients between workers inside the step (runtime/comm).
 * Stub: sums the gradients of the workers that share a parameter (replicas under batch
 * partition), or places each worker's slice (feature partition), and when every share of a
 * parameter is in, sends one UPDATE message per slice to the server that owns it.
 * Servers: own the parameter values and updater state of their slices; apply the update
 * kernel and reply.  When every slice of a parameter is updated the stub refreshes the
 * workers' slices of it (a whole piece is the servers' memory itself, as SINGA's
 * share_memory) and counts the parameter done for each worker holding it.  A worker ends its
 * step when all its parameters are done, so the group is synchronous: sandblaster and
 * allreduce differ only in where the servers sit.
 * Several processes (plan nranks > 1, ranks.c): each rank binds and runs only its own
 * workers and servers; its stub sums its local workers' shares and sends each slice to its
 * server wherever it is; a server sums the shares of every rank holding the parameter and
 * replies to each.  Every rank's driver takes the same batch; sums are reduced over ranks.
 */
#include "group.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { MODE_TRAIN = SNG_EXEC_TRAIN, MODE_TEST = SNG_EXEC_TEST, MODE_QUIT = 2 };

/* ---- stub ---- */

/* agg = the sum of the replicas' gradients, in cache-sized blocks: one pass over each */
static void sum_shares(float *agg, float *const *src, int n, int64_t len) {
  enum { BLOCK = 4096 };
  for (int64_t b = 0; b < len; b += BLOCK) {
    int64_t e = b + BLOCK < len ? b + BLOCK : len;
    for (int64_t j = b; j < e; j++) agg[j] = src[0][j] + src[1][j];
    for (int k = 2; k < n; k++)
      for (int64_t j = b; j < e; j++) agg[j] += src[k][j];
  }
}

static void stub_release(void *ctx, int param) {
  GWorker *w = ctx;
  SngGroup *g = w->grp;
  GParam *q = &g->par[param];
  const SngPlanTensor *t = w->grad_t[param];
  float *grad = w->grad[param];
  sng_comm_count(g->comm, sng_plan_dims_numel(t->rank, t->dims) * 4); /* the gradient goes up to the stub */
  if (!q->replicas) { /* slices of the parameter: each worker places its own */
    const SngPlanParam *pp = &g->p->params[param];
    static const int64_t zero[4];
    sng_rt_box_copy(q->agg, pp->dims, t->start, grad, t->dims, zero, t->dims, t->rank, 0);
  }
  pthread_mutex_lock(&q->mu);
  int complete = ++q->count == q->shares;
  if (complete) q->count = 0;
  pthread_mutex_unlock(&q->mu);
  /* replicas: the last share in sums them all (their memory lives until the step ends) */
  if (complete && q->replicas && q->shares > 1) sum_shares(q->agg, q->src, q->shares, q->size);
  if (complete)
    for (int s = q->slice0; s < q->slice0 + q->nslices; s++) {
      const SngPlanSlice *sl = &g->p->slices[s];
      sng_comm_send(g->comm, sl->server, (SngMsg){SNG_MSG_UPDATE, s, g->step, q->agg + sl->offset, sl->len, 0});
    }
}

/* the server's reply for slice s */
void sng_group_stub_reply(SngGroup *g, int s) {
  int param = g->p->slices[s].param;
  GParam *q = &g->par[param];
  pthread_mutex_lock(&q->mu);
  int done = ++q->updated == q->nslices;
  if (done) q->updated = 0;
  pthread_mutex_unlock(&q->mu);
  if (!done) return;
  static const int64_t zero[4];
  for (int i = 0; i < g->nw; i++) {
    GWorker *w = &g->w[i];
    const SngPlanTensor *t = w->grp ? w->param_t[param] : NULL; /* (another rank's worker: not bound) */
    if (!t) continue;
    if (w->own[param]) /* a slice of the parameter: copy the fresh values in */
      sng_rt_box_copy(w->own[param], t->dims, zero, q->value, g->p->params[param].dims, t->start, t->dims, t->rank, 0);
    sng_comm_count(g->comm, sng_plan_dims_numel(t->rank, t->dims) * 4); /* fresh values down to the worker */
    pthread_mutex_lock(&w->mu);
    if (--w->pending == 0) pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
  }
}

/* ---- transport for the executor's BRIDGE ops ---- */

static void bridge(void *ctx, const SngPlanOp *op, float *data, int64_t bytes) {
  GWorker *w = ctx;
  if (op->nin) sng_comm_bridge_send(w->grp->comm, (int)op->iattr[0], data, bytes);
  else sng_comm_bridge_recv(w->grp->comm, (int)op->iattr[0], data, bytes);
}

/* ---- threads ---- */

double sng_group_lr(const SngPlanUpdater *u, int64_t step) { return sng_upd_lr(u, step); }

/* A running statistic is not trained: its share is the batch's sum, and the value follows
 * PyTorch's running average (docs/language.md, batchnorm). */
void sng_group_running_update(float *v, const float *share, int64_t n, const SngPlanParam *pp) {
  double m = pp->running, div = pp->running_div > 0 ? pp->running_div : 1;
  for (int64_t i = 0; i < n; i++) v[i] = (float)((1 - m) * v[i] + m * (share[i] / div));
}

/* Slice s's update with gradient grad at the message's version (the step it belongs to);
 * batchnorm's running statistics take their running average instead. */
static void apply(GServer *sv, int s, const float *grad, int64_t version, double grad_scale) {
  SngGroup *g = sv->grp;
  const SngPlan *p = g->p;
  const SngPlanSlice *sl = &p->slices[s];
  GParam *q = &g->par[sl->param];
  float scalars[SNG_UPD_NSCALARS], *bufs[2 + SNG_UPD_MAX_STATE];
  if (p->params[sl->param].running > 0 && !g->shared) { /* (downpour's shared values: groups.c) */
    sng_group_running_update(q->value + sl->offset, grad, sl->len, &p->params[sl->param]);
    return;
  }
  sng_upd_scalars(&p->updater, &p->params[sl->param], version - 1, grad_scale, scalars);
  double t0 = g->profile ? sng_now() : 0;
  if (g->shared) sng_shared_update(g->shared, g, s, grad, scalars); /* downpour: groups.c */
  else {
    sng_upd_bufs(&p->updater, q->value, q->state, q->size, sl, grad, bufs);
    g->update(bufs, scalars, 1, sl->len);
  }
  if (g->profile) sv->t_update += sng_now() - t0;
}

/* clip_norm: adds this server's sum of squares to the round and waits for every server
 * owning slices; the total of the step's gradients over all of them */
static double norm_exchange(SngGroup *g, double part) {
  pthread_mutex_lock(&g->norm_mu);
  int64_t round = g->norm_round;
  g->norm_sum += part;
  if (++g->norm_count == g->norm_n) { /* the last of this rank's servers: the ranks' sums */
    g->norm_total = g->nranks > 1 ? sng_mpi_norm_sum(g->norm_sum) : g->norm_sum;
    g->norm_sum = 0, g->norm_count = 0;
    g->norm_round++;
    pthread_cond_broadcast(&g->norm_cv);
  } else
    while (g->norm_round == round) pthread_cond_wait(&g->norm_cv, &g->norm_mu);
  double total = g->norm_total;
  pthread_mutex_unlock(&g->norm_mu);
  return total;
}

/* clip_norm: holds the slice until all of this server's slices of the step are in, then
 * scales every gradient by the clipping factor of the global norm and updates them */
static void hold(GServer *sv, const SngMsg *m, const float *grad) {
  SngGroup *g = sv->grp;
  sv->pend[sv->npend] = m->slice, sv->pend_grad[sv->npend] = grad;
  sv->pend_free[sv->npend] = m->from ? m->payload : NULL;
  if (++sv->npend < sv->nmine) return;
  double part = 0;
  for (int k = 0; k < sv->npend; k++) {
    const float *x = sv->pend_grad[k];
    if (g->p->params[g->p->slices[sv->pend[k]].param].running > 0) continue; /* not a gradient */
    for (int64_t j = 0, n = g->p->slices[sv->pend[k]].len; j < n; j++) part += (double)x[j] * x[j];
  }
  double scale = sng_upd_clip_scale(&g->p->updater, norm_exchange(g, part));
  for (int k = 0; k < sv->npend; k++) {
    apply(sv, sv->pend[k], sv->pend_grad[k], m->version, scale);
    free((void *)sv->pend_free[k]);
    sng_ranks_reply(g, sv->pend[k]);
  }
  sv->npend = 0;
}

static void *server_main(void *arg) {
  GServer *sv = arg;
  SngGroup *g = sv->grp;
  for (;;) {
    SngMsg m = sng_comm_recv(g->comm, sv->unit);
    if (m.kind == SNG_MSG_QUIT) break;
    const float *grad = sng_ranks_take(g, &m); /* NULL: other ranks' shares still to come */
    if (!grad) {
      if (m.from) free((void *)m.payload); /* (summed already) */
      continue;
    }
    if (g->p->updater.clip_norm > 0) {
      hold(sv, &m, grad);
      continue;
    }
    apply(sv, m.slice, grad, m.version, 1);
    if (m.from) free((void *)m.payload);
    sng_ranks_reply(g, m.slice);
  }
  return NULL;
}

static void fill_inputs(GWorker *w) {
  SngGroup *g = w->grp;
  int64_t sample = g->sample;
  for (int k = 0; k < w->ninputs; k++) {
    const SngPlanTensor *t = w->input_t[k];
    int64_t row0 = t->start[0], rows = t->dims[0];
    if (t->param == 0) memcpy(w->input[k], g->x + row0 * sample, (size_t)(rows * sample) * sizeof(float));
    else memcpy(w->input[k], g->y + row0, (size_t)rows * sizeof(float));
  }
}

/* One step of one worker: its rows in, forward (and backward, then wait for its fresh
 * parameters). */
static void worker_step(GWorker *w) {
  SngGroup *g = w->grp;
  fill_inputs(w);
  sng_exec_set_step(w->exec, g->step);
  if (g->mode == MODE_TRAIN) {
    pthread_mutex_lock(&w->mu);
    w->pending = w->nheld;
    pthread_mutex_unlock(&w->mu);
    sng_exec_run(w->exec, SNG_EXEC_TRAIN, stub_release, w);
    double t0 = sng_now();
    pthread_mutex_lock(&w->mu);
    while (w->pending) pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
    w->t_wait += sng_now() - t0;
  } else sng_exec_run(w->exec, SNG_EXEC_TEST, NULL, NULL);
}

/* Workers 1.. are threads; worker 0 runs in the driver's thread (sng_group_run), so one
 * worker needs no hand-off at all. */
static void *worker_main(void *arg) {
  GWorker *w = arg;
  SngGroup *g = w->grp;
  for (;;) {
    pthread_barrier_wait(&g->start);
    if (g->mode == MODE_QUIT) break;
    worker_step(w);
    pthread_barrier_wait(&g->end);
  }
  return NULL;
}

/* ---- set-up ---- */

static int bind_worker(SngGroup *g, int i, char *err, size_t errlen) {
  const SngPlan *p = g->p;
  GWorker *w = &g->w[i];
  const SngPlanGraph *pg = &p->graphs[i];
  w->grp = g;
  w->graph = pg;
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->cv, NULL);
  if (!(w->exec = sng_exec_new(p, i, g->jit, g->values, err, errlen))) return -1;
  sng_exec_set_comm(w->exec, bridge, w);
  w->param_t = sng_calloc((size_t)p->nparams + 1, sizeof *w->param_t);
  w->grad_t = sng_calloc((size_t)p->nparams + 1, sizeof *w->grad_t);
  w->grad = sng_calloc((size_t)p->nparams + 1, sizeof *w->grad);
  w->own = sng_calloc((size_t)p->nparams + 1, sizeof *w->own);
  w->input_t = sng_calloc((size_t)pg->ntensors + 1, sizeof *w->input_t);
  w->input = sng_calloc((size_t)pg->ntensors + 1, sizeof *w->input);
  static const int64_t zero[4];
  for (int t = 0; t < pg->ntensors; t++) {
    const SngPlanTensor *ten = &pg->tensors[t];
    if (ten->kind == SNG_TENSOR_PARAM) {
      w->param_t[ten->param] = ten;
      w->nheld++;
      if (!sng_exec_piece_is_whole(p, ten)) {
        w->own[ten->param] = sng_exec_tensor_at(w->exec, t);
        sng_rt_box_copy(w->own[ten->param], ten->dims, zero, g->par[ten->param].value, p->params[ten->param].dims,
                        ten->start, ten->dims, ten->rank, 0);
      }
    } else if (ten->kind == SNG_TENSOR_GRAD) {
      w->grad_t[ten->param] = ten;
      w->grad[ten->param] = sng_exec_tensor_at(w->exec, t);
    } else if (ten->kind == SNG_TENSOR_INPUT) {
      w->input_t[w->ninputs] = ten;
      w->input[w->ninputs++] = sng_exec_tensor_at(w->exec, t);
    }
  }
  w->loss = sng_exec_tensor_at(w->exec, pg->loss);
  w->metric = sng_exec_tensor_at(w->exec, pg->metric);
  return 0;
}

static void init_param(SngGroup *g, int i) {
  const SngPlanParam *pp = &g->p->params[i];
  GParam *q = &g->par[i];
  int64_t n = sng_plan_dims_numel(pp->rank, pp->dims);
  q->size = n;
  char what[160];
  snprintf(what, sizeof what, "the values of parameter %s", pp->name);
  q->value = g->values[i] = sng_alloc_aligned_for((size_t)n * 4 + 64, what);
  snprintf(what, sizeof what, "the updater state of parameter %s", pp->name);
  q->state = g->p->updater.nstate ? sng_alloc_aligned_for((size_t)n * 4 * (size_t)g->p->updater.nstate + 64, what)
                                  : NULL;
  if (q->state) memset(q->state, 0, (size_t)n * 4 * (size_t)g->p->updater.nstate);
  pthread_mutex_init(&q->mu, NULL);
  /* each parameter draws from its own stream: (seed, name) fixes its values, whatever the partition */
  uint64_t h = g->p->train.seed * 0x9e3779b97f4a7c15ull;
  for (const char *s = pp->name ? pp->name : ""; *s; s++) h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
  SngRng rng;
  sng_rng_seed(&rng, h);
  for (int64_t k = 0; k < n; k++) {
    double v = pp->init_a;
    if (pp->init == SNG_PINIT_UNIFORM) v = pp->init_a + (pp->init_b - pp->init_a) * sng_rng_uniform(&rng);
    else if (pp->init == SNG_PINIT_GAUSSIAN) v = pp->init_a + pp->init_b * sng_rng_gaussian(&rng);
    q->value[k] = (float)v;
  }
}

/* each parameter's slices, in one pass over them (a scan per parameter was quadratic) */
static void find_slices(SngGroup *g) {
  for (int s = 0; s < g->p->nslices; s++) {
    int i = g->p->slices[s].param;
    if (i < 0 || i >= g->p->nparams) continue; /* the plan validator rejects these */
    GParam *q = &g->par[i];
    if (!q->nslices) q->slice0 = s;
    q->nslices++;
  }
}

/* who shares each parameter, and where the stub sums their gradients */
static void plan_shares(SngGroup *g) {
  for (int i = 0; i < g->p->nparams; i++) {
    GParam *q = &g->par[i];
    int whole = 0;
    float *only = NULL;
    for (int k = 0; k < g->nw; k++)
      if (g->w[k].grp && g->w[k].param_t[i]) { /* (another rank's worker is not bound) */
        q->shares++;
        whole += sng_exec_piece_is_whole(g->p, g->w[k].param_t[i]);
        only = g->w[k].grad[i];
      }
    q->replicas = whole == q->shares;
    if (q->shares == 1 && whole == 1) q->agg = only; /* one whole share: its gradient, no copy */
    else { /* zeros where no local piece lands (a rank's share of a feature-split parameter) */
      q->agg = q->own_agg = sng_alloc_aligned((size_t)q->size * 4 + 64);
      memset(q->own_agg, 0, (size_t)q->size * 4);
    }
    q->src = sng_calloc((size_t)q->shares + 1, sizeof *q->src);
    for (int k = 0, n = 0; k < g->nw; k++)
      if (g->w[k].grp && g->w[k].param_t[i]) q->src[n++] = g->w[k].grad[i];
  }
}

SngGroup *sng_group_new(const SngPlan *p, char *err, size_t errlen) {
  SngGroup *g = sng_calloc(1, sizeof *g);
  g->p = p;
  g->nw = p->ngraphs;
  g->ns = p->cluster.servers_per_group;
  int nunits = p->nunits;
  /* the workers first, group by group in graph order, then the servers (lower.c); every group
   * talks to server group 0's unit numbers in its own mailboxes (groups.c) */
  int first_server = p->cluster.worker_groups * p->ngraphs;
  for (int i = 0; i < p->nunits; i++)
    if ((i < first_server) != (p->units[i].kind == SNG_UNIT_WORKER) ||
        (i < first_server && (p->units[i].graph != i % p->ngraphs || p->units[i].group != i / p->ngraphs))) {
      snprintf(err, errlen, "plan: unit %d is %s of graph %d; this runtime wants workers first, group by group in graph "
               "order", i, p->units[i].kind == SNG_UNIT_WORKER ? "worker" : "server", p->units[i].graph);
      free(g);
      return NULL;
    }
  g->sample = sng_plan_dims_numel(p->data.sample_rank, p->data.sample_dims);
  g->values = sng_calloc((size_t)p->nparams + 1, sizeof *g->values);
  g->par = sng_calloc((size_t)p->nparams + 1, sizeof *g->par);
  for (int i = 0; i < p->nparams; i++) init_param(g, i);
  find_slices(g);
  /* bridge channels and their sizes */
  int nch = 0;
  for (int k = 0; k < p->ngraphs; k++)
    for (int o = 0; o < p->graphs[k].nops; o++)
      if (p->graphs[k].ops[o].op == SNG_OP_BRIDGE && p->graphs[k].ops[o].iattr[0] + 1 > nch)
        nch = (int)p->graphs[k].ops[o].iattr[0] + 1;
  int64_t *chb = sng_calloc((size_t)nch + 1, sizeof *chb);
  for (int k = 0; k < p->ngraphs; k++)
    for (int o = 0; o < p->graphs[k].nops; o++) {
      const SngPlanOp *op = &p->graphs[k].ops[o];
      if (op->op != SNG_OP_BRIDGE || !op->nin) continue;
      const SngPlanTensor *t = &p->graphs[k].tensors[op->in[0]];
      chb[op->iattr[0]] = sng_plan_dims_numel(t->rank, t->dims) * 4;
    }
  g->comm = sng_comm_new(nunits, nch, chb);
  free(chb);
  if (sng_ranks_setup(g, err, errlen)) goto fail;
  g->x = g->xbuf = sng_alloc_aligned_for((size_t)(p->data.batch * g->sample) * 4 + 64, "the input batch");
  g->y = g->ybuf = sng_alloc_aligned((size_t)p->data.batch * 4 + 64);
  memset(g->xbuf, 0, (size_t)(p->data.batch * g->sample) * 4);
  memset(g->ybuf, 0, (size_t)p->data.batch * 4);
  if (!(g->jit = sng_jit_new(err, errlen))) goto fail;
  g->w = sng_calloc((size_t)g->nw + 1, sizeof *g->w);
  for (int i = 0; i < g->nw; i++)
    if (g->unit_rank[i] == g->me && bind_worker(g, i, err, errlen)) goto fail;
  g->update = sng_exec_update_fn(g->w[g->local[0]].exec);
  plan_shares(g);
  /* OpenBLAS threads: the cores shared among the workers, so W workers never oversubscribe */
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  g->blas_threads = (int)(cores / g->nlocal > 0 ? cores / g->nlocal : 1);
  openblas_set_num_threads(g->blas_threads); /* global to OpenBLAS, whichever thread calls */
  pthread_barrier_init(&g->start, NULL, (unsigned)g->nlocal); /* the driver is the first local worker */
  pthread_barrier_init(&g->end, NULL, (unsigned)g->nlocal);
  g->srv = sng_calloc((size_t)g->ns + 1, sizeof *g->srv);
  /* the threads start with SIGINT/SIGTERM blocked (they inherit the mask), so the driver
   * thread takes them: it polls for a stop between steps (singa-exec) */
  SngSigMask old;
  sng_signals_block(&old);
  pthread_mutex_init(&g->norm_mu, NULL);
  pthread_cond_init(&g->norm_cv, NULL);
  for (int s = 0; s < g->ns; s++) {
    g->srv[s] = (GServer){.grp = g, .unit = first_server + s};
    if (p->updater.clip_norm > 0) {
      for (int k = 0; k < p->nslices; k++) g->srv[s].nmine += p->slices[k].server == first_server + s;
      g->norm_n += g->srv[s].nmine > 0 && g->unit_rank[first_server + s] == g->me;
      g->srv[s].pend = sng_calloc((size_t)g->srv[s].nmine + 1, sizeof(int));
      g->srv[s].pend_grad = sng_calloc((size_t)g->srv[s].nmine + 1, sizeof(float *));
      g->srv[s].pend_free = sng_calloc((size_t)g->srv[s].nmine + 1, sizeof(float *));
    }
    if (g->unit_rank[first_server + s] == g->me) pthread_create(&g->srv[s].thread, NULL, server_main, &g->srv[s]);
  }
  for (int i = 1; i < g->nlocal; i++) pthread_create(&g->w[g->local[i]].thread, NULL, worker_main, &g->w[g->local[i]]);
  sng_signals_restore(&old);
  if (p->updater.clip_norm > 0 && g->nranks > 1) sng_mpi_norm_setup(g->norm_n > 0); /* collective */
  g->running = 1;
  return g;
fail:
  sng_group_free(g);
  return NULL;
}

void sng_group_set_threads(SngGroup *g, int threads) {
  if (threads > 0) openblas_set_num_threads(g->blas_threads = threads);
}

void sng_group_run(SngGroup *g, int mode, const float *x, const float *y) {
  g->mode = mode;
  g->x = x, g->y = y;
  if (mode == MODE_TRAIN) g->step++;
  pthread_barrier_wait(&g->start);
  worker_step(&g->w[g->local[0]]);
  pthread_barrier_wait(&g->end);
}

/* Sums this step's per-row loss and metric over the first `rows` rows of the batch. */
void sng_group_sums(const SngGroup *g, int64_t rows, double *loss, double *metric) {
  *loss = *metric = 0;
  for (int i = 0; i < g->nw; i++) {
    const GWorker *w = &g->w[i];
    const SngPlanGraph *pg = w->graph;
    if (w->loss) {
      const SngPlanTensor *t = &pg->tensors[pg->loss];
      for (int64_t r = 0; r < t->dims[0] && t->start[0] + r < rows; r++) *loss += w->loss[r];
    }
    if (w->metric) {
      const SngPlanTensor *t = &pg->tensors[pg->metric];
      for (int64_t r = 0; r < t->dims[0] && t->start[0] + r < rows; r++) *metric += w->metric[r];
    }
  }
  if (g->nranks > 1) { /* every rank's driver gets the whole batch's sums */
    double v[2] = {*loss, *metric};
    sng_mpi_sum(v, 2);
    *loss = v[0], *metric = v[1];
  }
}

void sng_group_free(SngGroup *g) {
  if (!g) return;
  if (g->running) {
    g->mode = MODE_QUIT;
    pthread_barrier_wait(&g->start);
    for (int i = 1; i < g->nlocal; i++) pthread_join(g->w[g->local[i]].thread, NULL);
    sng_mpi_barrier(); /* every rank's last step is over: no update is on its way */
    sng_mpi_watch_stop(); /* the ranks now leave, each at its own pace */
    for (int s = 0; s < g->ns; s++)
      if (g->unit_rank[g->srv[s].unit] == g->me) sng_comm_send(g->comm, g->srv[s].unit, (SngMsg){.kind = SNG_MSG_QUIT});
    for (int s = 0; s < g->ns; s++)
      if (g->unit_rank[g->srv[s].unit] == g->me) pthread_join(g->srv[s].thread, NULL);
    pthread_barrier_destroy(&g->start);
    pthread_barrier_destroy(&g->end);
  }
  if (g->running && g->p->updater.clip_norm > 0 && g->nranks > 1) sng_mpi_norm_free();
  sng_comm_free(g->comm); /* first: a rank's receiving thread may still be finishing a reply */
  g->comm = NULL;
  for (int i = 0; g->w && i < g->nw; i++) {
    GWorker *w = &g->w[i];
    if (!w->grp) continue; /* another rank's worker */
    sng_exec_free(w->exec);
    free(w->param_t), free(w->grad_t), free(w->grad), free(w->own), free(w->input_t), free(w->input);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
  }
  for (int i = 0; g->par && i < g->p->nparams; i++) {
    free(g->par[i].value), free(g->par[i].state), free(g->par[i].own_agg), free(g->par[i].src);
    pthread_mutex_destroy(&g->par[i].mu);
  }
  for (int s = 0; g->srv && s < g->ns; s++) free(g->srv[s].pend), free(g->srv[s].pend_grad), free(g->srv[s].pend_free);
  if (g->srv) pthread_mutex_destroy(&g->norm_mu), pthread_cond_destroy(&g->norm_cv);
  free(g->w), free(g->srv), free(g->par), free(g->values), free(g->xbuf), free(g->ybuf);
  sng_ranks_free(g);
  sng_jit_free(g->jit);
  free(g);
}

/* ---- the test API ---- */

double sng_group_step(SngGroup *g, const float *x, const float *y) {
  sng_group_run(g, MODE_TRAIN, x, y);
  double loss, metric;
  sng_group_sums(g, g->p->data.batch, &loss, &metric);
  return loss / (double)g->p->data.batch;
}

const float *sng_group_param(SngGroup *g, int i) { return g->par[i].value; }
const float *sng_group_grad(SngGroup *g, int i) { return g->par[i].agg; }
int64_t sng_group_bytes(const SngGroup *g) {
  double b = (double)sng_comm_bytes(g->comm); /* summed over the ranks, as --explain counts */
  if (g->nranks > 1) sng_mpi_sum(&b, 1);
  return (int64_t)b;
}
