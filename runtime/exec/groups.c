/* groups.c - several worker groups of one plan as threads of one process (runtime.md
 * "Frameworks", reference.md §5).
 *
 * Each worker group is an SngGroup (group.c): its workers, its stub and its server threads,
 * running the plan's graphs (every group runs the same partitioned graphs) synchronously inside
 * the group.  Group 0 runs in the driver's thread (train.c); groups 1.. each get a thread of
 * their own that trains the same number of steps on batches of its own (its own shuffle of
 * the training set, or without shuffle its own part of it), never waiting for another group.
 *
 * downpour (one server group): the server group's parameter values and updater state live
 * here, once.  A group's server thread applies an update to a slice of them under that
 * slice's lock and copies the fresh slice into its group's values before replying, so a group
 * pushes its gradients and pulls fresh values on its own clock, and the updates to one slice
 * are serialised whoever sends them.  Group i's copy is written only by group i's servers, as
 * in one group.
 * hogwild (a server group per worker group): each group's servers own its values (the plain
 * SngGroup).  Every sync_every steps of a group, between its steps when its values are quiet,
 * its server group averages with the others through a shared copy under one lock, SINGA's
 * Distributed Hogwild exchange (reference.md §5, item 6) with the change scaled by 1/groups:
 * it adds its change since its last exchange over the number of groups to the shared copy
 * and takes the result.  From a common start, once every group has exchanged the copy is the
 * mean of the groups' values.  (The unscaled sum of changes, SINGA's, lost 22 points of
 * accuracy on the MLP at sync_every 10.)
 */
#include "groups.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct SngShared {
  float **value, **state;
  pthread_mutex_t *mu;          /* one per slice */
  int nslices;
};

void sng_shared_update(SngShared *sh, SngGroup *g, int s, const float *grad, const float *scalars) {
  const SngPlanSlice *sl = &g->p->slices[s];
  int i = sl->param;
  pthread_mutex_lock(&sh->mu[s]);
  float *bufs[2 + SNG_UPD_MAX_STATE];
  sng_upd_bufs(&g->p->updater, sh->value[i], sh->state[i], g->par[i].size, sl, grad, bufs);
  if (g->p->params[i].running > 0) sng_group_running_update(bufs[0], grad, sl->len, &g->p->params[i]);
  else g->update(bufs, scalars, 1, sl->len);
  memcpy(g->par[i].value + sl->offset, sh->value[i] + sl->offset, (size_t)sl->len * sizeof(float));
  pthread_mutex_unlock(&sh->mu[s]);
}

/* The workers' own copies of parameter slices (feature partition) from the group's values:
 * after the values changed between steps. */
static void refresh(SngGroup *g) {
  static const int64_t zero[4];
  for (int k = 0; k < g->nw; k++)
    for (int i = 0; i < g->p->nparams; i++) {
      const SngPlanTensor *t = g->w[k].param_t[i];
      if (t && g->w[k].own[i])
        sng_rt_box_copy(g->w[k].own[i], t->dims, zero, g->par[i].value, g->p->params[i].dims, t->start, t->dims,
                        t->rank, 0);
    }
}

/* hogwild: group k's server group exchanges with the shared copy */
static void exchange(SngGroups *gs, int k) {
  SngGroup *g = gs->g[k];
  float inv = 1.0f / (float)gs->n;
  pthread_mutex_lock(&gs->center_mu);
  for (int i = 0; i < gs->p->nparams; i++) {
    float *cur = g->par[i].value, *last = gs->last[k][i], *c = gs->center[i];
    for (int64_t j = 0; j < g->par[i].size; j++) {
      c[j] += (cur[j] - last[j]) * inv;
      cur[j] = last[j] = c[j];
    }
  }
  gs->exchanges++;
  pthread_mutex_unlock(&gs->center_mu);
  refresh(g);
}

void sng_groups_after_step(SngGroups *gs, int k, int64_t step) {
  atomic_store(&gs->done[k], step);
  if (gs->p->cluster.framework == SNG_FW_HOGWILD && gs->p->cluster.sync_every > 0 &&
      step % gs->p->cluster.sync_every == 0)
    exchange(gs, k);
}

void sng_groups_batcher(const SngGroups *gs, int k, SngBatcher *b, const SngDataset *train) {
  const SngPlan *p = gs->p;
  sng_batcher_init(b, train, p->data.batch, p->data.shuffle, p->train.seed + (uint64_t)k);
  if (!p->data.shuffle && k) sng_batcher_seek(b, 0, train->n * k / gs->n);
}

typedef struct GroupArg {
  SngGroups *gs;
  int k;
} GroupArg;

static void *group_main(void *arg) {
  GroupArg *a = arg;
  SngGroups *gs = a->gs;
  SngGroup *g = gs->g[a->k];
  int64_t batch = gs->p->data.batch;
  SngBatcher b;
  sng_groups_batcher(gs, a->k, &b, gs->train);
  for (int64_t step = 1; step <= gs->steps && !atomic_load(&gs->stop); step++) {
    sng_batcher_next(&b, g->xbuf, g->ybuf);
    sng_group_run(g, SNG_EXEC_TRAIN, g->xbuf, g->ybuf);
    double l, m;
    sng_group_sums(g, batch, &l, &m);
    if (!isfinite(l)) {
      int expect = 0;
      if (atomic_compare_exchange_strong(&gs->stop, &expect, 1)) {
        snprintf(gs->err, sizeof gs->err, "group %d, step %lld: the loss is %s; stopping (lower the learning rate?)",
                 a->k, (long long)step, isnan(l) ? "NaN" : "infinite");
        atomic_store(&gs->failed, 1);
      }
      break;
    }
    sng_groups_after_step(gs, a->k, step);
  }
  sng_batcher_free(&b);
  return NULL;
}

SngGroups *sng_groups_new(const SngPlan *p, char *err, size_t errlen) {
  SngGroups *gs = sng_calloc(1, sizeof *gs);
  gs->p = p;
  gs->n = p->cluster.worker_groups;
  gs->g = sng_calloc((size_t)gs->n, sizeof *gs->g);
  gs->done = sng_calloc((size_t)gs->n, sizeof *gs->done);
  pthread_mutex_init(&gs->center_mu, NULL);
  for (int k = 0; k < gs->n; k++) {
    atomic_init(&gs->done[k], 0);
    if (!(gs->g[k] = sng_group_new(p, err, errlen))) goto fail;
  }
  atomic_init(&gs->stop, 0);
  atomic_init(&gs->failed, 0);
  /* every group starts from the same values: (seed, name) fix them */
  if (p->cluster.framework == SNG_FW_DOWNPOUR) {
    SngShared *sh = gs->sh = sng_calloc(1, sizeof *sh);
    sh->value = sng_calloc((size_t)p->nparams + 1, sizeof *sh->value);
    sh->state = sng_calloc((size_t)p->nparams + 1, sizeof *sh->state);
    sh->nslices = p->nslices;
    sh->mu = sng_calloc((size_t)p->nslices + 1, sizeof *sh->mu);
    for (int s = 0; s < p->nslices; s++) pthread_mutex_init(&sh->mu[s], NULL);
    for (int i = 0; i < p->nparams; i++) {
      int64_t n = gs->g[0]->par[i].size, ns = n * p->updater.nstate;
      sh->value[i] = sng_alloc_aligned_for((size_t)n * 4 + 64, "the server group's parameter values");
      memcpy(sh->value[i], gs->g[0]->par[i].value, (size_t)n * 4);
      if (ns) {
        sh->state[i] = sng_alloc_aligned_for((size_t)ns * 4 + 64, "the server group's updater state");
        memset(sh->state[i], 0, (size_t)ns * 4);
      }
    }
    for (int k = 0; k < gs->n; k++) gs->g[k]->shared = sh; /* before any step: no message is in flight */
  } else if (p->cluster.framework == SNG_FW_HOGWILD) {
    gs->center = sng_calloc((size_t)p->nparams + 1, sizeof *gs->center);
    gs->last = sng_calloc((size_t)gs->n, sizeof *gs->last);
    for (int k = 0; k < gs->n; k++) gs->last[k] = sng_calloc((size_t)p->nparams + 1, sizeof **gs->last);
    for (int i = 0; i < p->nparams; i++) {
      size_t bytes = (size_t)gs->g[0]->par[i].size * 4;
      gs->center[i] = sng_alloc_aligned_for(bytes + 64, "the server groups' exchanged values");
      memcpy(gs->center[i], gs->g[0]->par[i].value, bytes);
      for (int k = 0; k < gs->n; k++) {
        gs->last[k][i] = sng_alloc_aligned_for(bytes + 64, "a server group's values at its last exchange");
        memcpy(gs->last[k][i], gs->g[0]->par[i].value, bytes);
      }
    }
  }
  sng_groups_set_threads(gs, 0);
  return gs;
fail:
  sng_groups_free(gs);
  return NULL;
}

/* OpenBLAS threads: the cores shared among every group's workers */
void sng_groups_set_threads(SngGroups *gs, int threads) {
  if (threads <= 0) {
    if (gs->n == 1) return; /* one group: as sng_group_new set it */
    long cores = sysconf(_SC_NPROCESSORS_ONLN), all = (long)gs->n * gs->g[0]->nw;
    threads = (int)(cores / all > 0 ? cores / all : 1);
  }
  for (int k = 0; k < gs->n; k++) gs->g[k]->blas_threads = threads;
  openblas_set_num_threads(threads);
}

void sng_groups_start(SngGroups *gs, const SngDataset *train, int64_t steps) {
  if (gs->n == 1) return;
  gs->train = train, gs->steps = steps;
  gs->th = sng_calloc((size_t)gs->n, sizeof *gs->th);
  GroupArg *args = sng_calloc((size_t)gs->n, sizeof *args);
  SngSigMask old;
  sng_signals_block(&old); /* the driver's thread takes SIGINT/SIGTERM (train.c) */
  for (int k = 1; k < gs->n; k++) {
    args[k] = (GroupArg){gs, k};
    pthread_create(&gs->th[k], NULL, group_main, &args[k]);
  }
  sng_signals_restore(&old);
  gs->started = 1;
  gs->args = args;
}

void sng_groups_finish(SngGroups *gs, int stop) {
  if (gs->n == 1 || !gs->started) return;
  if (stop) atomic_store(&gs->stop, 1);
  for (int k = 1; k < gs->n; k++) pthread_join(gs->th[k], NULL);
  gs->started = 0;
  SngGroup *g0 = gs->g[0];
  if (gs->sh)
    for (int i = 0; i < gs->p->nparams; i++)
      memcpy(g0->par[i].value, gs->sh->value[i], (size_t)g0->par[i].size * 4);
  if (gs->center) {
    for (int k = 0; k < gs->n; k++) exchange(gs, k);
    for (int i = 0; i < gs->p->nparams; i++) memcpy(g0->par[i].value, gs->center[i], (size_t)g0->par[i].size * 4);
  }
  refresh(g0);
}

int sng_groups_failed(SngGroups *gs, char *err, size_t errlen) {
  if (!atomic_load(&gs->failed)) return 0;
  snprintf(err, errlen, "%s", gs->err);
  return 1;
}

int64_t sng_groups_bytes(const SngGroups *gs) {
  int64_t b = 0;
  for (int k = 0; k < gs->n; k++) b += sng_group_bytes(gs->g[k]);
  return b;
}

void sng_groups_free(SngGroups *gs) {
  if (!gs) return;
  if (gs->started) sng_groups_finish(gs, 1);
  for (int k = 0; k < gs->n; k++) sng_group_free(gs->g[k]);
  const SngPlan *p = gs->p;
  if (gs->sh) {
    for (int i = 0; i < p->nparams; i++) free(gs->sh->value[i]), free(gs->sh->state[i]);
    for (int s = 0; s < gs->sh->nslices; s++) pthread_mutex_destroy(&gs->sh->mu[s]);
    free(gs->sh->value), free(gs->sh->state), free(gs->sh->mu), free(gs->sh);
  }
  if (gs->center) {
    for (int i = 0; i < p->nparams; i++) {
      free(gs->center[i]);
      for (int k = 0; k < gs->n; k++) free(gs->last[k][i]);
    }
    for (int k = 0; k < gs->n; k++) free(gs->last[k]);
    free(gs->center), free(gs->last);
  }
  pthread_mutex_destroy(&gs->center_mu);
  free(gs->g), free(gs->done), free(gs->th), free(gs->args);
  free(gs);
}
