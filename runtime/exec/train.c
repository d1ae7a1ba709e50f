/* train.c - the training driver: data, steps, display, tests and the final line, over a
 * group of workers and servers (group.c) that runs every unit of the plan as a thread.
 *
 * Each step the driver loads the whole batch and lets the group run it; the workers take
 * their rows, the stub and servers update the parameters, and the step ends when every
 * worker has its fresh values (synchronous inside the group, runtime.md).  Tests run the
 * forward pass of every worker over the test set, in order.
 * Several worker groups (downpour, hogwild, groups.c): this thread drives group 0 and its
 * display and tests; the other groups train as many steps on their own threads and batches,
 * and the final test runs on the servers' parameters once every group is done.
 */
#include "groups.h"

#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the run ---- */
typedef struct Run {
  const SngPlan *p;
  const SngRunOpts *o;
  SngGroups *gs;
  SngGroup *grp;                /* group 0 */
  float *x, *y;                 /* the whole batch */
  SngDataset train, test;
  int64_t steps;
  int64_t warm;                 /* steps left out of the timings (--warmup, if below steps) */
  FILE *metrics;
  char *err;
  size_t errlen;
  int failed;
  int stopped;                  /* the signal that stopped the run (sng_stop_requested), or 0 */
  int64_t done;                 /* training steps completed */
  int64_t metrics_step;         /* the step of the last line in the metrics file, -1 if none */
  double train_rate;            /* samples/s after warmup */
  double test_acc, test_loss;
  int64_t test_n;
  double t_data, t_steps;       /* profile: batch loading, timed steps */
  const char *loss_name;        /* what the loss is called in progress lines (loss_name_of) */
} Run;

/* "loss", or "squared error" for an rbm trained with cd: its loss op reports the
 * reconstruction's squared error, which SINGA displays as "Squared Error" */
static const char *loss_name_of(const SngPlan *p) {
  const SngPlanGraph *g = &p->graphs[0];
  for (int o = 0; o < g->nops; o++)
    if (g->ops[o].op == SNG_OP_CD_LOSS && g->ops[o].nout == 1 && g->ops[o].out[0] == g->loss) return "squared error";
  return "loss";
}

static double lr_at(const SngPlanUpdater *u, int64_t step) { return sng_group_lr(u, step); }

/* A stop (SIGINT/SIGTERM) on any rank stops every rank at the same step boundary: the
 * ranks agree (the largest signal number), or a rank that stopped alone would hang the rest. */
static int stop_requested(const Run *r) {
  int sig = sng_stop_requested();
  return r->grp && r->grp->nranks > 1 ? sng_mpi_max(sig) : sig;
}

/* ---- output ---- */
static void fmt_eta(char *b, size_t n, double s) {
  if (!(s >= 0) || s > 1e7) s = 0;
  long t = (long)(s + 0.5);
  if (t >= 3600) snprintf(b, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  else snprintf(b, n, "%ld:%02ld", t / 60, t % 60);
}

/* JSON has no NaN or infinity: a non-finite value is written as null */
static void json_num(FILE *f, const char *key, double v) {
  if (isfinite(v)) fprintf(f, ",\"%s\":%.6g", key, v);
  else fprintf(f, ",\"%s\":null", key);
}

static void metric_line(Run *r, const char *phase, int64_t step, double loss, double acc, double lr, double rate) {
  if (!r->metrics) return;
  fprintf(r->metrics, "{\"phase\":\"%s\",\"step\":%lld", phase, (long long)step);
  json_num(r->metrics, "loss", loss);
  if (r->p->graphs[0].metric >= 0) json_num(r->metrics, "accuracy", acc);
  else fputs(",\"accuracy\":null", r->metrics); /* the net reports no metric */
  if (lr >= 0) fprintf(r->metrics, ",\"lr\":%.6g", lr);
  fprintf(r->metrics, ",\"samples_per_sec\":%.1f}\n", rate);
  fflush(r->metrics);
  r->metrics_step = step;
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
  fprintf(out, "] %lld/%lld  %s %.4f  %.0f samples/s  ETA %s ", (long long)step, (long long)r->steps, r->loss_name, loss,
          rate * (double)r->p->graphs[0].batch, eta);
  fflush(out);
}

/* ---- test: the forward pass over the test set, in order ---- */
static int run_test(Run *r, int64_t step) {
  int64_t batch = r->p->data.batch, limit = r->o->test_limit ? r->o->test_limit : r->p->train.test_steps;
  double loss = 0, acc = 0, t0 = sng_now();
  int64_t n = 0;
  int has_metric = r->p->graphs[0].metric >= 0;
  for (int64_t b = 0, start = 0; start < r->test.n && (!limit || b < limit); b++, start += batch) {
    if ((r->stopped = stop_requested(r))) return -1;   /* a partial test is not reported */
    int64_t real = sng_data_slice(&r->test, start, batch, r->x, r->y);
    sng_group_run(r->grp, SNG_EXEC_TEST, r->x, r->y);
    double l, m;
    sng_group_sums(r->grp, real, &l, &m);
    loss += l, acc += m;
    n += real;
  }
  loss /= (double)(n ? n : 1), acc /= (double)(n ? n : 1);
  double rate = (double)n / (sng_now() - t0);
  if (tty(r)) fputc('\n', r->o->out);
  fprintf(r->o->out, "test  step %lld  %s %.4f", (long long)step, r->loss_name, loss);
  if (has_metric) fprintf(r->o->out, "  accuracy %.4f", acc);
  fprintf(r->o->out, "  (%lld images)\n", (long long)n);
  fflush(r->o->out);
  metric_line(r, "test", step, loss, acc, -1, rate);
  r->test_acc = acc, r->test_loss = loss, r->test_n = n;
  return 0;
}

/* The display line for the steps since last_step (stdout and the metrics file); returns the
 * time it measured the rate at, where the next window starts. */
static double display(Run *r, int64_t step, double loss, double acc, int64_t last_step, double tlast, double t0) {
  const SngPlan *p = r->p;
  int64_t batch = p->data.batch;
  double now = sng_now(), rate = (double)((step - last_step) * batch) / (now - tlast);
  double lr = lr_at(&p->updater, step - 1);
  char eta[32];
  fmt_eta(eta, sizeof eta, (double)(r->steps - step) * (now - t0) / (double)step);
  if (tty(r)) fputc('\r', r->o->out);
  fprintf(r->o->out, "step %5lld/%lld  %s %.4f", (long long)step, (long long)r->steps, r->loss_name, loss);
  if (p->graphs[0].metric >= 0) fprintf(r->o->out, "  accuracy %.4f", acc);
  fprintf(r->o->out, "  lr %g  %.0f samples/s  ETA %s", lr, rate, eta);
  if (r->gs->n > 1) { /* each group on its own clock */
    fputs("  groups at", r->o->out);
    for (int k = 0; k < r->gs->n; k++) fprintf(r->o->out, " %lld", (long long)atomic_load(&r->gs->done[k]));
  }
  fprintf(r->o->out, "%s\n", tty(r) ? "            " : "");
  fflush(r->o->out);
  metric_line(r, "train", step, loss, acc, lr, rate);
  return now;
}

static void train_loop(Run *r) {
  const SngPlan *p = r->p;
  int64_t batch = p->data.batch;
  SngBatcher b;
  sng_groups_batcher(r->gs, 0, &b, &r->train);
  sng_groups_start(r->gs, &r->train, r->steps);
  int64_t every = p->train.display_every > 0 ? p->train.display_every : r->steps;
  int64_t warm = r->warm;
  double sum_loss = 0, sum_acc = 0, t0 = sng_now(), tw = t0, tlast = t0, tbar = 0;
  int64_t nsum = 0, last_step = 0;
  SngExec *e0 = r->grp->w[r->grp->local[0]].exec; /* this rank's first worker */
  for (int64_t step = 1; step <= r->steps; step++) {
    if ((r->stopped = stop_requested(r))) { /* between steps: every file whole */
      if (nsum) display(r, step - 1, sum_loss / (double)nsum, sum_acc / (double)nsum, last_step, tlast, t0);
      break;
    }
    if (step == warm + 1) {
      tw = sng_now();
      sng_exec_profile(e0, r->o->profile);
      r->grp->profile = r->o->profile;
      r->grp->w[r->grp->local[0]].t_wait = 0;
    }
    double ts = sng_now();
    sng_batcher_next(&b, r->x, r->y);
    if (step > warm) r->t_data += sng_now() - ts;
    sng_group_run(r->grp, SNG_EXEC_TRAIN, r->x, r->y);
    double l, a;
    sng_group_sums(r->grp, batch, &l, &a);
    if (!isfinite(l)) {
      snprintf(r->err, r->errlen, "step %lld: the loss is %s; stopping (lower the learning rate?)", (long long)step,
               isnan(l) ? "NaN" : "infinite");
      r->failed = 1;
      break;
    }
    sng_groups_after_step(r->gs, 0, step);
    if (sng_groups_failed(r->gs, r->err, r->errlen)) {
      r->failed = 1;
      break;
    }
    sum_loss += l / (double)batch, sum_acc += a / (double)batch, nsum++;
    double now = sng_now();
    if (tty(r) && now - tbar > 0.1) progress(r, step, sum_loss / (double)nsum, t0), tbar = now;
    r->done = step;
    if (step % every == 0 || step == r->steps) {
      tlast = display(r, step, sum_loss / (double)nsum, sum_acc / (double)nsum, last_step, tlast, t0);
      sum_loss = sum_acc = 0, nsum = 0, last_step = step;
    }
    if (step == r->steps) {
      r->t_steps = sng_now() - tw;
      r->train_rate = (double)((step - warm) * batch) / r->t_steps;
      sng_exec_profile(e0, 0);
      r->grp->profile = 0;
    }
    if (r->test.n && p->train.test_every && step % p->train.test_every == 0 && step != r->steps) {
      double tt = sng_now();
      int prof = r->o->profile && step > warm;
      sng_exec_profile(e0, 0);
      run_test(r, step);
      sng_exec_profile(e0, prof);
      tt = sng_now() - tt;
      tlast += tt, t0 += tt, tw += tt; /* tests are not training time */
    }
  }
  if (!r->failed && !r->stopped) r->stopped = stop_requested(r);
  if (r->gs->n > 1) { /* the other groups, then the servers' parameters into group 0 */
    sng_groups_finish(r->gs, r->failed || r->stopped);
    if (!r->failed && sng_groups_failed(r->gs, r->err, r->errlen)) r->failed = 1;
    if (r->t_steps > 0) { /* every group's samples over the time until the last one is done */
      r->t_steps = sng_now() - tw;
      r->train_rate = (double)((r->steps - warm) * batch * r->gs->n) / r->t_steps;
    }
  }
  if (!r->failed && !r->stopped && r->test.n) run_test(r, r->steps);
  sng_batcher_free(&b);
}

/* where the timed steps' time went, per step and as shares */
static void print_profile(Run *r) {
  const GWorker *w0 = &r->grp->w[r->grp->local[0]];
  double gemm, jit, c, n = (double)(r->steps - r->warm), wait = w0->t_wait, upd = 0;
  sng_exec_times(w0->exec, &gemm, &jit, &c);
  for (int s = 0; s < r->grp->ns; s++) upd += r->grp->srv[s].t_update;
  double total = r->t_steps, other = total - gemm - jit - c - r->t_data - wait;
  if (n <= 0 || total <= 0) return;
  FILE *out = r->o->out;
  fprintf(out, "profile over %.0f steps: %.3f ms/step (worker 0 of %d)\n", n, 1e3 * total / n, r->grp->nw);
  const char *names[] = {"sgemm (OpenBLAS)", "JIT kernels", "C kernels", "batch loading", "waiting for servers", "other"};
  double t[] = {gemm, jit, c, r->t_data, wait, other};
  for (int i = 0; i < 6; i++)
    fprintf(out, "  %-22s %8.3f ms/step  %5.1f%%\n", names[i], 1e3 * t[i] / n, 100 * t[i] / total);
  fprintf(out, "  (servers: update kernels %.3f ms/step, overlapping the workers' backward pass)\n", 1e3 * upd / n);
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
  int64_t sample = 1;
  for (int i = 0; i < d->sample_rank; i++) sample *= d->sample_dims[i];
  /* the batch buffers hold batch x sample values: both sets must have that sample size */
  const SngDataset *sets[2] = {&r->train, &r->test};
  for (int k = 0; k < 2; k++) {
    if (k && !d->test[0]) break;
    if (sample != sets[k]->dim) {
      snprintf(r->err, r->errlen, "%s: samples have %lld values; the plan was compiled for %lld",
               k ? d->test[0] : d->train[0], (long long)sets[k]->dim, (long long)sample);
      return -1;
    }
    if (!k && sets[k]->n < 1) {   /* batches wrap around the training set */
      snprintf(r->err, r->errlen, "%s: holds no samples", k ? d->test[0] : d->train[0]);
      return -1;
    }
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

/* Stopped by a signal at a step boundary: what was reached and what is on disk.  The metrics
 * file gets a last line saying so, and is closed whole. */
static void stop_message(Run *r) {
  const char *sig = sng_signal_name(r->stopped);
  char metrics[4200];
  if (tty(r)) fputc('\n', r->o->out);
  fflush(r->o->out);
  if (!r->metrics) snprintf(metrics, sizeof metrics, "no metrics file (--metrics FILE keeps one)");
  else {
    fprintf(r->metrics, "{\"phase\":\"stopped\",\"step\":%lld,\"signal\":\"%s\"}\n", (long long)r->done, sig);
    fflush(r->metrics);
    if (r->metrics_step >= 0)
      snprintf(metrics, sizeof metrics, "%s is complete: metrics through step %lld, then a 'stopped' line",
               r->o->metrics_path, (long long)r->metrics_step);
    else snprintf(metrics, sizeof metrics, "%s holds only the 'stopped' line", r->o->metrics_path);
  }
  snprintf(r->err, r->errlen, "stopped by %s after step %lld of %lld; %s; no checkpoint written (this runtime "
           "writes none yet)", sig, (long long)r->done, (long long)r->steps, metrics);
}

/* --dump-params FILE: every parameter's values, one per line (%.9g), in plan order, written
 * by rank 0 after the others sent it their servers' slices */
static int dump_params(Run *r) {
  sng_ranks_gather(r->grp);
  if (r->grp->me != 0) return 0;
  FILE *f = fopen(r->o->dump_params, "w");
  if (!f) {
    snprintf(r->err, r->errlen, "%s: cannot write parameters: %s", r->o->dump_params, strerror(errno));
    return -1;
  }
  for (int i = 0; i < r->p->nparams; i++)
    for (int64_t k = 0; k < r->grp->par[i].size; k++) fprintf(f, "%.9g\n", r->grp->par[i].value[k]);
  if (fclose(f)) {
    snprintf(r->err, r->errlen, "%s: cannot write parameters: %s", r->o->dump_params, strerror(errno));
    return -1;
  }
  return 0;
}

SngRunOpts sng_run_defaults(void) { return (SngRunOpts){.progress = -1, .out = stdout}; }

int sng_run_train(const SngPlan *p, const SngRunOpts *o, char *err, size_t errlen) {
  Run r = {.p = p, .o = o, .err = err, .errlen = errlen};
  int rc = -1;
  r.steps = o->steps ? o->steps : p->train.steps;
  r.warm = o->warmup < r.steps ? o->warmup : 0;
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
  if (!(r.gs = sng_groups_new(p, err, errlen))) goto out;
  r.grp = r.gs->g[0];
  sng_groups_set_threads(r.gs, o->threads);
  r.x = r.grp->xbuf, r.y = r.grp->ybuf;
  int64_t total = 0;
  for (int i = 0; i < p->nparams; i++) total += r.grp->par[i].size;
  char vals[32];
  if (total < 100000) snprintf(vals, sizeof vals, "%lld values", (long long)total);
  else snprintf(vals, sizeof vals, "%.2f M values", (double)total / 1e6);
  fprintf(o->out, "training %s: %lld steps of %lld samples, %d parameters (%s), %d JIT kernels for %s\n",
          p->train.net, (long long)r.steps, (long long)p->data.batch, p->nparams, vals, sng_jit_count(r.grp->jit),
          sng_jit_cpu(r.grp->jit));
  if (r.gs->n > 1)
    fprintf(o->out, "groups: %d worker groups of %d worker%s (%s%s), %d server group%s of %d, %lld samples per step "
            "of all groups\n", r.gs->n, r.grp->nw, r.grp->nw == 1 ? "" : "s", r.grp->nw > 1 ? "hybrid: " : "",
            sng_plan_framework_name(p->cluster.framework), p->cluster.server_groups, p->cluster.server_groups == 1 ? "" : "s", r.grp->ns,
            (long long)p->data.batch * r.gs->n);
  if (r.gs->n > 1 && p->cluster.framework == SNG_FW_HOGWILD)
    fprintf(o->out, "hogwild: the server groups exchange parameters every %d steps of a group\n",
            p->cluster.sync_every);
  if (r.grp->nw > 1 || r.grp->ns > 1 || r.gs->n > 1)
    fprintf(o->out, "group: %d workers, %d servers (%s), %d OpenBLAS thread%s per worker\n", r.grp->nw, r.grp->ns,
            sng_plan_framework_name(p->cluster.framework), r.grp->blas_threads, r.grp->blas_threads == 1 ? "" : "s");
  for (int k = 0; r.grp->nranks > 1 && k < r.grp->nranks; k++) /* mpirun names a dead rank; this says what it held */
    fprintf(o->out, "rank %d (host %s): %s\n", k, sng_mpi_host(k), r.grp->held[k]);
  fflush(o->out);
  r.metrics_step = -1;
  r.loss_name = loss_name_of(p);
  if (!(r.stopped = stop_requested(&r))) train_loop(&r);
  if (r.stopped) {
    stop_message(&r);
    rc = r.stopped;
  } else if (!r.failed) {
    int64_t calls = 0;
    for (int i = 0; i < r.grp->nlocal; i++) calls += sng_exec_kernel_calls(r.grp->w[r.grp->local[i]].exec);
    /* several groups run in one process; one group's count is a collective over its ranks */
    int64_t moved = r.gs->n > 1 ? sng_groups_bytes(r.gs) : sng_group_bytes(r.grp);
    double wire = (double)sng_mpi_bytes();
    sng_mpi_sum(&wire, 1);
    /* a net without a metric (an rbm under cd) has no accuracy: nan, and its test loss after it */
    int acc = r.test_n && p->graphs[0].metric >= 0;
    fprintf(o->out, "singa: samples/s=%.1f steps=%lld test_acc=%.4f test_loss=%.4f threads=%d jit_calls=%lld bytes_moved=%lld",
            r.train_rate, (long long)r.steps, acc ? r.test_acc : NAN, r.test_n ? r.test_loss : NAN,
            r.grp->blas_threads, (long long)calls, (long long)moved);
    if (r.grp->nranks > 1) fprintf(o->out, " ranks=%d mpi_bytes=%lld", r.grp->nranks, (long long)wire);
    fputc('\n', o->out);
    if (r.gs->n > 1) {
      fprintf(o->out, "groups: steps");
      for (int k = 0; k < r.gs->n; k++) fprintf(o->out, " %lld", (long long)atomic_load(&r.gs->done[k]));
      fprintf(o->out, " (%lld samples in all)", (long long)(r.gs->n * r.steps * p->data.batch));
      if (p->cluster.framework == SNG_FW_HOGWILD) fprintf(o->out, ", %lld exchanges", (long long)r.gs->exchanges);
      fputc('\n', o->out);
    }
    if (o->dump_params && dump_params(&r)) goto out;
    if (o->profile) print_profile(&r);
    rc = 0;
  }
out:
  if (r.metrics) fclose(r.metrics);
  sng_groups_free(r.gs);
  sng_data_free(&r.train);
  sng_data_free(&r.test);
  return rc;
}
