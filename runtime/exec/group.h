/* group.h - private to runtime/exec: the group runtime's state (group.c), read by the
 * training driver (train.c). */
#ifndef SNG_EXEC_GROUP_H
#define SNG_EXEC_GROUP_H

#include "internal.h"
#include "sng_comm.h"

#include <pthread.h>

typedef struct GWorker {
  struct SngGroup *grp;
  const SngPlanGraph *graph;
  SngExec *exec;
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int pending, nheld;                   /* parameters not yet updated this step / held */
  const SngPlanTensor **param_t, **grad_t;   /* per plan param: this worker's piece, or NULL */
  float **grad, **own;                  /* its gradient; its own values buffer if a slice */
  const SngPlanTensor **input_t;
  float **input;
  int ninputs;
  float *loss, *metric;
  double t_wait;                        /* profile: waiting for the servers */
} GWorker;

typedef struct GServer {
  struct SngGroup *grp;
  int unit;
  pthread_t thread;
  double t_update;                      /* profile: seconds in update kernels */
  /* clip_norm: the slices of this step held back until every server's sum of squares is in */
  int nmine, npend;                     /* slices this server owns; held */
  int *pend;                            /* their slice numbers */
  const float **pend_grad;
  const float **pend_free;              /* payloads to free after the update (another rank's) */
} GServer;

typedef struct GParam {                 /* the stub's entry, and the servers' memory */
  pthread_mutex_t mu;
  float *value, *state;                 /* the whole parameter: values, updater state */
  float *agg, *own_agg;                 /* gradient summed over shares (own_agg: our buffer) */
  float **src;                          /* the shares' gradients, in worker order */
  int64_t size;
  int shares, count;                    /* workers holding a piece; arrived this step */
  int replicas;                         /* every piece is the whole parameter (batch): sum */
  int slice0, nslices, updated;         /* its slices in plan->slices; updated this step */
} GParam;

struct SngGroup {
  const SngPlan *p;
  SngJit *jit;
  SngComm *comm;
  int nw, ns, running, blas_threads, profile;
  GWorker *w;
  GServer *srv;
  GParam *par;
  float **values;
  SngKernelFn update;
  pthread_barrier_t start, end;
  int mode;
  int64_t step, sample;                 /* training steps begun; values per sample */
  const float *x, *y;                   /* the whole batch of this step */
  float *xbuf, *ybuf;
  struct SngShared *shared;             /* downpour: the one server group's values (groups.c) */
  /* ranks (ranks.c): with one rank every unit is local */
  int me, nranks;
  int *unit_rank;                       /* per unit: the rank that runs it */
  int *local, nlocal;                   /* this rank's workers, in order; the driver runs local[0] */
  char *holds;                          /* [param * nranks + r]: rank r has a worker holding a piece */
  int *senders, *arrived;               /* per slice: ranks whose shares it sums; arrived this step */
  float **acc;                          /* per slice: the shares summed so far (senders > 1) */
  char **held;                          /* per rank: "workers 2, 3 and server 1" */
  /* clip_norm: the servers exchange their partial sums of squares each step (group.c) */
  pthread_mutex_t norm_mu;
  pthread_cond_t norm_cv;
  int norm_n, norm_count;               /* servers owning slices; sums in this round */
  int64_t norm_round;
  double norm_sum, norm_total;
};

/* downpour: the server's update of slice s with grad, on the shared values under the slice's
 * lock, then the fresh values into group g's copy (groups.c) */
void sng_shared_update(struct SngShared *sh, SngGroup *g, int s, const float *grad, const float *scalars);

/* Runs one step of every worker on (x, y): mode SNG_EXEC_TRAIN or SNG_EXEC_TEST. */
void sng_group_run(SngGroup *g, int mode, const float *x, const float *y);
/* Sums of the per-row loss and metric over the batch's first `rows` rows. */
void sng_group_sums(const SngGroup *g, int64_t rows, double *loss, double *metric);
void sng_group_set_threads(SngGroup *g, int threads);
double sng_group_lr(const SngPlanUpdater *u, int64_t step);
/* value = (1 - momentum) value + momentum share / divisor: batchnorm's running statistics (params[].running) */
void sng_group_running_update(float *v, const float *share, int64_t n, const SngPlanParam *pp);
/* the server's reply for slice s reached this rank's stub: refresh the local workers */
void sng_group_stub_reply(SngGroup *g, int s);

/* ranks.c: the group over several processes */
int sng_ranks_setup(SngGroup *g, char *err, size_t errlen);
void sng_ranks_free(SngGroup *g);
/* a server's UPDATE for a slice: the gradient summed over every holding rank, or NULL while
 * shares are still to come */
const float *sng_ranks_take(SngGroup *g, const SngMsg *m);
/* slice s is updated: refresh this rank's workers, send the values to every other holder */
void sng_ranks_reply(SngGroup *g, int s);
/* every parameter's values, whole, on rank 0 (after the run; collective) */
void sng_ranks_gather(SngGroup *g);

#endif
