/* train.c - the training driver: servers, workers and the stub between them, as threads.
 *
 * Embedded mode (this file): every unit of the plan is a thread of one process.  Servers own
 * the parameter values and the updater state; in one process workers read the values in
 * place (SINGA's share_memory) and hand over gradients by pointer, so nothing is copied.
 * The stub routes in the sender's thread: a worker's Update(param) goes to the server that
 * owns the parameter, and the server's reply counts down the worker's pending updates.
 * A worker starts its next step once every parameter it sent is updated (synchronous
 * training inside a group, runtime.md).  Messages across processes (MPI) come later and
 * will sit behind the same stub calls.
 */
#include "internal.h"
#include "sng_data.h"

#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- a message queue (mutex + condition variable) ---- */
typedef struct Msg { int param; int64_t step; } Msg;
typedef struct Queue {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  Msg *ring;
  int cap, head, len;
} Queue;

static void q_init(Queue *q, int cap) {
  pthread_mutex_init(&q->mu, NULL);
  pthread_cond_init(&q->cv, NULL);
  q->ring = sng_calloc((size_t)cap, sizeof(Msg));
  q->cap = cap;
}
static void q_free(Queue *q) {
  pthread_mutex_destroy(&q->mu);
  pthread_cond_destroy(&q->cv);
  free(q->ring);
}
static void q_push(Queue *q, Msg m) {
  pthread_mutex_lock(&q->mu);
  SNG_ASSERT(q->len < q->cap); /* at most one message per parameter is in flight */
  q->ring[(q->head + q->len++) % q->cap] = m;
  pthread_cond_signal(&q->cv);
  pthread_mutex_unlock(&q->mu);
}
static Msg q_pop(Queue *q) {
  pthread_mutex_lock(&q->mu);
  while (!q->len) pthread_cond_wait(&q->cv, &q->mu);
  Msg m = q->ring[q->head];
  q->head = (q->head + 1) % q->cap, q->len--;
  pthread_mutex_unlock(&q->mu);
  return m;
}

/* ---- the run ---- */
typedef struct Run {
  const SngPlan *p;
  const SngRunOpts *o;
  SngJit *jit;
  SngExec *exec;                /* worker 0's graph */
  float **value, **state, **grad;   /* per parameter */
  int64_t *size;
  Queue server_in;              /* Update requests for the server */
  pthread_mutex_t mu;           /* pending updates of the worker */
  pthread_cond_t cv;
  int pending;
  SngDataset train, test;
  int64_t steps;
  int64_t warm;                 /* steps left out of the timings (--warmup, if below steps) */
  FILE *metrics;
  char *err;
  size_t errlen;
  int failed;
  double train_rate;            /* samples/s after warmup */
  double test_acc, test_loss;
  int64_t test_n;
  double t_data, t_wait, t_steps;  /* profile: batch loading, waiting for servers, timed steps */
  double t_update;                 /* profile: server time in update kernels */
} Run;

static double lr_at(const SngPlanUpdater *u, int64_t step) {
  if (u->schedule == SNG_SCHED_STEP && u->sched_every > 0) return u->lr * pow(u->sched_gamma, (double)(step / u->sched_every));
  return u->lr;
}

/* stub: a worker's gradient for `param` is final */
static void stub_update(void *ctx, int param) {
  Run *r = ctx;
  q_push(&r->server_in, (Msg){param, 0});
}

/* stub: the server has applied the update */
static void stub_reply(Run *r) {
  pthread_mutex_lock(&r->mu);
  if (--r->pending == 0) pthread_cond_signal(&r->cv);
  pthread_mutex_unlock(&r->mu);
}

static void *server_main(void *arg) {
  Run *r = arg;
  const SngPlan *p = r->p;
  SngKernelFn update = sng_exec_update_fn(r->exec);
  int64_t step = 0;
  int done = 0;
  for (;;) {
    Msg m = q_pop(&r->server_in);
    if (m.param < 0) break;
    const SngPlanParam *pp = &p->params[m.param];
    float scalars[3] = {(float)(lr_at(&p->updater, step) * pp->lr_mult),
                        (float)(p->updater.weight_decay * pp->wd_mult), 1.0f};
    float *bufs[3] = {r->value[m.param], r->grad[m.param], r->state[m.param]};
    double t0 = r->o->profile ? sng_now() : 0;
    update(bufs, scalars, 1, r->size[m.param]);
    if (r->o->profile && step >= r->warm) r->t_update += sng_now() - t0; /* timed steps only */
    if (++done == p->nparams) done = 0, step++; /* one version per parameter per step */
    stub_reply(r);
  }
  return NULL;
}

static void init_params(Run *r) {
  const SngPlan *p = r->p;
  for (int i = 0; i < p->nparams; i++) {
    const SngPlanParam *pp = &p->params[i];
    int64_t n = 1;
    for (int j = 0; j < pp->rank; j++) n *= pp->dims[j];
    r->size[i] = n;
    r->value[i] = sng_alloc_aligned((size_t)n * 4);
    r->state[i] = p->updater.nstate ? sng_alloc_aligned((size_t)n * 4 * (size_t)p->updater.nstate) : NULL;
    /* each parameter draws from its own stream: (seed, name) fixes its values */
    uint64_t h = p->train.seed * 0x9e3779b97f4a7c15ull;
    for (const char *s = pp->name; *s; s++) h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    SngRng rng;
    sng_rng_seed(&rng, h);
    for (int64_t k = 0; k < n; k++) {
      double v = pp->init_a;
      if (pp->init == SNG_PINIT_UNIFORM) v = pp->init_a + (pp->init_b - pp->init_a) * sng_rng_uniform(&rng);
      else if (pp->init == SNG_PINIT_GAUSSIAN) v = pp->init_a + pp->init_b * sng_rng_gaussian(&rng);
      r->value[i][k] = (float)v;
    }
  }
}

/* ---- output ---- */
static void fmt_eta(char *b, size_t n, double s) {
  if (!(s >= 0) || s > 1e7) s = 0;
  long t = (long)(s + 0.5);
  if (t >= 3600) snprintf(b, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  else snprintf(b, n, "%ld:%02ld", t / 60, t % 60);
}

static void metric_line(Run *r, const char *phase, int64_t step, double loss, double acc, double lr, double rate) {
  if (!r->metrics) return;
  fprintf(r->metrics, "{\"phase\":\"%s\",\"step\":%lld,\"loss\":%.6g", phase, (long long)step, loss);
  if (r->p->graphs[0].metric >= 0) fprintf(r->metrics, ",\"accuracy\":%.6g", acc);
  else fputs(",\"accuracy\":null", r->metrics); /* the net reports no metric */
  if (lr >= 0) fprintf(r->metrics, ",\"lr\":%.6g", lr);
  fprintf(r->metrics, ",\"samples_per_sec\":%.1f}\n", rate);
  fflush(r->metrics);
}

static int tty(Run *r) { return r->o->progress < 0 ? isatty(fileno(r->o->out)) : r->o->progress; }

static void progress(Run *r, int64_t step, double loss, double t0) {
  FILE *out = r->o->out;
  double el = sng_now() - t0, rate = step / (el > 0 ? el : 1);
  char eta[32];
  fmt_eta(eta, sizeof eta, (double)(r->steps - step) / (rate > 0 ? rate : 1));
  int w = 30, fill = (int)(w * step / (r->steps ? r->steps : 1));
  fprintf(out, "\r[");
  for (int i = 0; i < w; i++) fputc(i < fill ? '#' : '.', out);
  fprintf(out, "] %lld/%lld  loss %.4f  %.0f samples/s  ETA %s ", (long long)step, (long long)r->steps, loss,
          rate * (double)r->p->graphs[0].batch, eta);
  fflush(out);
}

/* ---- test: the forward pass over the test set, in order ---- */
static int run_test(Run *r, int64_t step, float *x, float *y) {
  const SngPlanGraph *g = &r->p->graphs[0];
  int64_t batch = g->batch, limit = r->o->test_limit ? r->o->test_limit : r->p->train.test_steps;
  double loss = 0, acc = 0, t0 = sng_now();
  int64_t n = 0;
  float *lp = sng_exec_tensor_at(r->exec, g->loss), *mp = sng_exec_tensor_at(r->exec, g->metric);
  for (int64_t b = 0, start = 0; start < r->test.n && (!limit || b < limit); b++, start += batch) {
    int64_t real = sng_data_slice(&r->test, start, batch, x, y);
    sng_exec_run(r->exec, SNG_EXEC_TEST, NULL, NULL);
    for (int64_t i = 0; i < real; i++) loss += lp[i], acc += mp ? mp[i] : 0;
    n += real;
  }
  loss /= (double)(n ? n : 1), acc /= (double)(n ? n : 1);
  double rate = (double)n / (sng_now() - t0);
  if (tty(r)) fputc('\n', r->o->out);
  fprintf(r->o->out, "test  step %lld  loss %.4f", (long long)step, loss);
  if (mp) fprintf(r->o->out, "  accuracy %.4f", acc);
  fprintf(r->o->out, "  (%lld images)\n", (long long)n);
  fflush(r->o->out);
  metric_line(r, "test", step, loss, acc, -1, rate);
  r->test_acc = acc, r->test_loss = loss, r->test_n = n;
  return 0;
}

static void *worker_main(void *arg) {
  Run *r = arg;
  const SngPlan *p = r->p;
  const SngPlanGraph *g = &p->graphs[0];
  float *x = NULL, *y = NULL;
  for (int i = 0; i < g->ntensors; i++)
    if (g->tensors[i].kind == SNG_TENSOR_INPUT) {
      if (g->tensors[i].param == 0) x = sng_exec_tensor_at(r->exec, i);
      else y = sng_exec_tensor_at(r->exec, i);
    }
  float *lp = sng_exec_tensor_at(r->exec, g->loss), *mp = sng_exec_tensor_at(r->exec, g->metric);
  SngBatcher b;
  sng_batcher_init(&b, &r->train, g->batch, p->data.shuffle, p->train.seed);
  int64_t display = p->train.display_every > 0 ? p->train.display_every : r->steps;
  int64_t warm = r->warm;
  double sum_loss = 0, sum_acc = 0, t0 = sng_now(), tw = t0, tlast = t0, tbar = 0;
  int64_t nsum = 0, last_step = 0;
  for (int64_t step = 1; step <= r->steps; step++) {
    if (step == warm + 1) {
      tw = sng_now();
      sng_exec_profile(r->exec, r->o->profile);
    }
    double ts = sng_now();
    sng_batcher_next(&b, x, y);
    if (step > warm) r->t_data += sng_now() - ts;
    pthread_mutex_lock(&r->mu);
    r->pending = p->nparams;
    pthread_mutex_unlock(&r->mu);
    sng_exec_run(r->exec, SNG_EXEC_TRAIN, stub_update, r);
    double l = 0, a = 0;
    for (int64_t i = 0; i < g->batch; i++) l += lp[i], a += mp ? mp[i] : 0;
    ts = sng_now();
    pthread_mutex_lock(&r->mu);
    while (r->pending) pthread_cond_wait(&r->cv, &r->mu);
    pthread_mutex_unlock(&r->mu);
    if (step > warm) r->t_wait += sng_now() - ts;
    if (!isfinite(l)) {
      snprintf(r->err, r->errlen, "step %lld: the loss is %s; stopping (lower the learning rate?)", (long long)step,
               isnan(l) ? "NaN" : "infinite");
      r->failed = 1;
      break;
    }
    sum_loss += l / (double)g->batch, sum_acc += a / (double)g->batch, nsum++;
    double now = sng_now();
    if (tty(r) && now - tbar > 0.1) progress(r, step, sum_loss / (double)nsum, t0), tbar = now;
    if (step % display == 0 || step == r->steps) {
      double rate = (double)((step - last_step) * g->batch) / (now - tlast);
      double lr = lr_at(&p->updater, step - 1);
      char eta[32];
      fmt_eta(eta, sizeof eta, (double)(r->steps - step) * (now - t0) / (double)step);
      if (tty(r)) fputc('\r', r->o->out);
      fprintf(r->o->out, "step %5lld/%lld  loss %.4f", (long long)step, (long long)r->steps, sum_loss / (double)nsum);
      if (mp) fprintf(r->o->out, "  accuracy %.4f", sum_acc / (double)nsum);
      fprintf(r->o->out, "  lr %g  %.0f samples/s  ETA %s%s\n", lr, rate, eta, tty(r) ? "            " : "");
      fflush(r->o->out);
      metric_line(r, "train", step, sum_loss / (double)nsum, sum_acc / (double)nsum, lr, rate);
      sum_loss = sum_acc = 0, nsum = 0, tlast = now, last_step = step;
    }
    if (step == r->steps) {
      r->t_steps = sng_now() - tw;
      r->train_rate = (double)((step - warm) * g->batch) / r->t_steps;
      sng_exec_profile(r->exec, 0);
    }
    if (r->test.n && p->train.test_every && step % p->train.test_every == 0 && step != r->steps) {
      double tt = sng_now();
      int prof = r->o->profile && step > warm;
      sng_exec_profile(r->exec, 0);
      run_test(r, step, x, y);
      sng_exec_profile(r->exec, prof);
      tt = sng_now() - tt;
      tlast += tt, t0 += tt, tw += tt; /* tests are not training time */
    }
  }
  if (!r->failed && r->test.n) run_test(r, r->steps, x, y);
  sng_batcher_free(&b);
  q_push(&r->server_in, (Msg){-1, 0});
  return NULL;
}

/* where the timed steps' time went, per step and as shares */
static void print_profile(Run *r) {
  double gemm, jit, c, n = (double)(r->steps - r->warm);
  sng_exec_times(r->exec, &gemm, &jit, &c);
  double total = r->t_steps, other = total - gemm - jit - c - r->t_data - r->t_wait;
  if (n <= 0 || total <= 0) return;
  FILE *out = r->o->out;
  fprintf(out, "profile over %.0f steps: %.3f ms/step\n", n, 1e3 * total / n);
  const char *names[] = {"sgemm (OpenBLAS)", "JIT kernels", "C kernels", "batch loading", "waiting for servers", "other"};
  double t[] = {gemm, jit, c, r->t_data, r->t_wait, other};
  for (int i = 0; i < 6; i++)
    fprintf(out, "  %-22s %8.3f ms/step  %5.1f%%\n", names[i], 1e3 * t[i] / n, 100 * t[i] / total);
  fprintf(out, "  (server: update kernels %.3f ms/step, overlapping the worker's backward pass)\n", 1e3 * r->t_update / n);
}

/* The plan records where the data was at compile time; --data DIR moves that folder. */
static const char *data_path(Run *r, const char *path, char *buf, size_t n) {
  if (!r->o->data_dir || !path) return path;
  const char *base = strrchr(path, '/');
  snprintf(buf, n, "%s/%s", r->o->data_dir, base ? base + 1 : path);
  return buf;
}

static int load_data(Run *r) {
  const SngPlanData *d = &r->p->data;
  char a[4096], b[4096];
  if (sng_data_load_idx(data_path(r, d->train[0], a, sizeof a), data_path(r, d->train[1], b, sizeof b), &r->train,
                        r->err, r->errlen))
    return -1;
  if (d->test[0] && sng_data_load_idx(data_path(r, d->test[0], a, sizeof a), data_path(r, d->test[1], b, sizeof b),
                                      &r->test, r->err, r->errlen))
    return -1;
  if (d->sample_dims[0] != r->train.dim) {
    snprintf(r->err, r->errlen, "%s: samples have %lld values; the plan was compiled for %lld", d->train[0],
             (long long)r->train.dim, (long long)d->sample_dims[0]);
    return -1;
  }
  sng_data_scale(&r->train, d->scale);
  if (r->test.n) sng_data_scale(&r->test, d->scale);
  if (d->standardize) {
    double mean, std;
    sng_data_stats(&r->train, &mean, &std);
    sng_data_standardize(&r->train, mean, std);
    if (r->test.n) sng_data_standardize(&r->test, mean, std);
  }
  return 0;
}

SngRunOpts sng_run_defaults(void) { return (SngRunOpts){.progress = -1, .out = stdout}; }

int sng_run_train(const SngPlan *p, const SngRunOpts *o, char *err, size_t errlen) {
  Run r = {.p = p, .o = o, .err = err, .errlen = errlen};
  int rc = -1;
  if (p->ngraphs != 1 || p->nunits != 2) {
    snprintf(err, errlen, "this singa-exec runs plans with one worker and one server (plan has %d units)", p->nunits);
    return -1;
  }
  if (o->threads > 0) openblas_set_num_threads(o->threads);
  r.steps = o->steps ? o->steps : p->train.steps;
  r.warm = o->warmup < r.steps ? o->warmup : 0;
  r.value = sng_calloc((size_t)p->nparams + 1, sizeof(float *));
  r.state = sng_calloc((size_t)p->nparams + 1, sizeof(float *));
  r.grad = sng_calloc((size_t)p->nparams + 1, sizeof(float *));
  r.size = sng_calloc((size_t)p->nparams + 1, sizeof(int64_t));
  pthread_mutex_init(&r.mu, NULL);
  pthread_cond_init(&r.cv, NULL);
  q_init(&r.server_in, p->nparams + 2);
  if (load_data(&r)) {
    if (strstr(err, "cannot open") && !o->data_dir) { /* say how to point at moved data */
      size_t n = strlen(err);
      snprintf(err + n, errlen - n, "\n  hint: singa-exec --data DIR reads the data files from another folder");
    }
    goto out;
  }
  if (o->metrics_path && !(r.metrics = fopen(o->metrics_path, "w"))) {
    snprintf(err, errlen, "%s: cannot write metrics: %s", o->metrics_path, strerror(errno));
    goto out;
  }
  if (!(r.jit = sng_jit_new(err, errlen))) goto out;
  init_params(&r);
  if (!(r.exec = sng_exec_new(p, 0, r.jit, r.value, err, errlen))) goto out;
  const SngPlanGraph *g = &p->graphs[0];
  for (int i = 0; i < g->ntensors; i++)
    if (g->tensors[i].kind == SNG_TENSOR_GRAD) r.grad[g->tensors[i].param] = sng_exec_tensor_at(r.exec, i);
  int64_t total = 0;
  for (int i = 0; i < p->nparams; i++) total += r.size[i];
  char vals[32];
  if (total < 100000) snprintf(vals, sizeof vals, "%lld values", (long long)total);
  else snprintf(vals, sizeof vals, "%.2f M values", (double)total / 1e6);
  fprintf(o->out, "training %s: %lld steps of %lld samples, %d parameters (%s), %d JIT kernels for %s\n",
          p->train.net, (long long)r.steps, (long long)g->batch, p->nparams, vals, sng_jit_count(r.jit),
          sng_jit_cpu(r.jit));
  fflush(o->out);
  pthread_t server, worker;
  pthread_create(&server, NULL, server_main, &r);
  pthread_create(&worker, NULL, worker_main, &r);
  pthread_join(worker, NULL);
  pthread_join(server, NULL);
  if (!r.failed) {
    fprintf(o->out, "singa: samples/s=%.1f steps=%lld test_acc=%.4f threads=%d jit_calls=%lld\n", r.train_rate,
            (long long)r.steps, r.test_n ? r.test_acc : NAN, openblas_get_num_threads(), (long long)sng_exec_kernel_calls(r.exec));
    if (o->profile) print_profile(&r);
    rc = 0;
  }
out:
  if (r.metrics) fclose(r.metrics);
  sng_exec_free(r.exec);
  sng_jit_free(r.jit);
  for (int i = 0; i < p->nparams; i++) free(r.value[i]), free(r.state[i]);
  free(r.value), free(r.state), free(r.grad), free(r.size);
  sng_data_free(&r.train);
  sng_data_free(&r.test);
  q_free(&r.server_in);
  pthread_mutex_destroy(&r.mu);
  pthread_cond_destroy(&r.cv);
  return rc;
}
