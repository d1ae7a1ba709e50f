/* describe.c - the human summary printed by singa-exec --describe.
 *
 * Meant to answer "what will this plan do" without a debugger: where the units run, how big
 * each worker's graph and arena are, which fused kernels exist, how many parameters are
 * trained and with what settings.  It only reads the plan and prints what is there, so it
 * works on any plan that decoded (validated) successfully, and tolerates NULL strings.
 */
#include "internal.h"

static const char *str(const char *s) { return s ? s : "-"; }
static const char *yesno(int v) { return v ? "yes" : "no"; }
static double mib(int64_t bytes) { return (double)bytes / (1024.0 * 1024.0); }

static void put_shape(FILE *out, int32_t rank, const int64_t *dims) {
  fputc('[', out);
  for (int i = 0; i < rank && i < 4; i++) fprintf(out, "%s%lld", i ? ", " : "", (long long)dims[i]);
  fputc(']', out);
}

/* unsigned: a plan is described as it is, and a sum of huge shapes must not be UB */
static uint64_t numel(int32_t rank, const int64_t *dims) {
  uint64_t n = 1;
  for (int i = 0; i < rank && i < 4; i++) n *= (uint64_t)dims[i];
  return n;
}

static void describe_units(FILE *out, const SngPlan *p) {
  int workers = 0;
  for (int i = 0; i < p->nunits; i++) workers += p->units[i].kind == SNG_UNIT_WORKER;
  fprintf(out, "units:    %d (%d workers, %d servers)\n", p->nunits, workers, p->nunits - workers);
  for (int i = 0; i < p->nunits; i++) {
    const SngPlanUnit *u = &p->units[i];
    int w = u->kind == SNG_UNIT_WORKER;
    fprintf(out, "  unit %d: %s group %d index %d, rank %d thread %d", i, w ? "worker" : "server",
            u->group, u->index, u->rank, u->thread);
    if (w) fprintf(out, ", graph %d", u->graph);
    fputc('\n', out);
  }
}

static void describe_graph(FILE *out, const SngPlan *p, int gi) {
  const SngPlanGraph *g = &p->graphs[gi];
  int count[PLAN_NOPS] = {0}, bwd = 0;
  for (int i = 0; i < g->nops; i++) {
    if (g->ops[i].op >= 0 && g->ops[i].op < PLAN_NOPS) count[g->ops[i].op]++;
    bwd += g->ops[i].phase == 1;
  }
  fprintf(out, "graph %d: %d tensors, %d ops (%d forward, %d backward), arena %.2f MiB (%lld bytes), "
          "batch %lld\n", gi, g->ntensors, g->nops, g->nops - bwd, bwd, mib(g->arena_bytes),
          (long long)g->arena_bytes, (long long)g->batch);
  fputs("  ops:", out);
  for (int k = 0, first = 1; k < PLAN_NOPS; k++)
    if (count[k]) {
      fprintf(out, "%s %s x%d", first ? "" : ",", sng_plan_op_names[k], count[k]);
      first = 0;
    }
  fputc('\n', out);
  if (g->loss >= 0 && g->loss < g->ntensors)
    fprintf(out, "  loss: tensor %d (%s)", g->loss, str(g->tensors[g->loss].name));
  else
    fputs("  loss: none", out);
  if (g->metric >= 0 && g->metric < g->ntensors)
    fprintf(out, ", metric: tensor %d (%s)\n", g->metric, str(g->tensors[g->metric].name));
  else
    fputs(", metric: none\n", out);
}

static void describe_kernels(FILE *out, const SngPlan *p) {
  size_t total = 0;
  for (int i = 0; i < p->nkernels; i++) total += p->kernels[i].bitcode_len;
  fprintf(out, "kernels:  %d (%zu bytes of bitcode)\n", p->nkernels, total);
  for (int i = 0; i < p->nkernels; i++) {
    const SngPlanKernel *k = &p->kernels[i];
    fprintf(out, "  %-6s %-28s bufs %d, scalars %d%s, bitcode %zu bytes\n", str(k->symbol),
            str(k->members), k->nbufs, k->nscalars, k->rowwise ? ", rowwise" : "", k->bitcode_len);
  }
}

static void describe_params(FILE *out, const SngPlan *p) {
  uint64_t total = 0;
  for (int i = 0; i < p->nparams; i++) total += numel(p->params[i].rank, p->params[i].dims);
  fprintf(out, "params:   %d (%llu values, %.2f MiB)\n", p->nparams, (unsigned long long)total,
          (double)total * 4 / (1024.0 * 1024.0));
  for (int i = 0; i < p->nparams; i++) {
    const SngPlanParam *q = &p->params[i];
    fprintf(out, "  %-16s ", str(q->name));
    put_shape(out, q->rank, q->dims);
    switch (q->init) {
    case SNG_PINIT_CONSTANT: fprintf(out, "  constant %g", q->init_a); break;
    case SNG_PINIT_UNIFORM: fprintf(out, "  uniform [%g, %g]", q->init_a, q->init_b); break;
    case SNG_PINIT_GAUSSIAN: fprintf(out, "  gaussian mean %g std %g", q->init_a, q->init_b); break;
    default: fprintf(out, "  init %d?", q->init); break;
    }
    fprintf(out, ", lr x%g, wd x%g", q->lr_mult, q->wd_mult);
    if (q->server >= 0) fprintf(out, ", server unit %d", q->server);
    fputc('\n', out);
  }
}

static void describe_data(FILE *out, const SngPlan *p) {
  const SngPlanData *d = &p->data;
  fprintf(out, "data:     %s (%s): batch %lld, scale %g, standardize %s, shuffle %s, sample [",
          str(d->name), str(d->format), (long long)d->batch, d->scale, yesno(d->standardize),
          yesno(d->shuffle));
  for (int i = 0, first = 1; i < 3; i++)
    if (d->sample_dims[i]) {
      fprintf(out, "%s%lld", first ? "" : ", ", (long long)d->sample_dims[i]);
      first = 0;
    }
  fprintf(out, "], %d classes\n", d->classes);
  fprintf(out, "  train: %s\n         %s\n", str(d->train[0]), str(d->train[1]));
  fprintf(out, "  test:  %s\n         %s\n", str(d->test[0]), str(d->test[1]));
}

static void describe_updater(FILE *out, const SngPlan *p) {
  const SngPlanUpdater *u = &p->updater;
  fprintf(out, "updater:  %s lr %g, momentum %g, weight decay %g", u->kind == SNG_UPD_SGD ? "sgd" : "?",
          u->lr, u->momentum, u->weight_decay);
  if (u->schedule == SNG_SCHED_STEP)
    fprintf(out, "; schedule step: lr x %g every %lld steps", u->sched_gamma,
            (long long)u->sched_every);
  else
    fputs("; schedule fixed", out);
  fputc('\n', out);
  if (u->kernel >= 0 && u->kernel < p->nkernels)
    fprintf(out, "  kernel %s, %d state buffer%s per param\n", str(p->kernels[u->kernel].symbol),
            u->nstate, u->nstate == 1 ? "" : "s");
  else
    fprintf(out, "  no kernel, %d state buffer%s per param\n", u->nstate, u->nstate == 1 ? "" : "s");
}

static void describe_train(FILE *out, const SngPlan *p) {
  const SngPlanTrain *t = &p->train;
  fprintf(out, "train:    net %s, alg %s, %lld steps, display every %lld, ", str(t->net),
          str(t->alg), (long long)t->steps, (long long)t->display_every);
  if (t->test_every) fprintf(out, "test every %lld steps", (long long)t->test_every);
  else fputs("test at the end", out);
  if (t->test_steps) fprintf(out, " (%lld batches)", (long long)t->test_steps);
  else fputs(" (whole test set)", out);
  fprintf(out, ", seed %llu\n", (unsigned long long)t->seed);
}

void sng_plan_describe(FILE *out, const SngPlan *p) {
  fprintf(out, "source:   %s\n", str(p->source));
  fprintf(out, "format:   singa plan version %u\n", p->version);
  fprintf(out, "ranks:    %d\n", p->nranks);
  describe_units(out, p);
  for (int i = 0; i < p->ngraphs; i++) describe_graph(out, p, i);
  describe_kernels(out, p);
  describe_params(out, p);
  describe_data(out, p);
  describe_updater(out, p);
  describe_train(out, p);
}
