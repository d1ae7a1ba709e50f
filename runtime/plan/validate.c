/* validate.c - semantic checks of a plan.
 *
 * The checksum only proves that the file is what the writer wrote; it says nothing about
 * whether the writer was right.  The executor indexes arrays with the numbers in a plan and
 * lays tensors over one arena, so every index is checked against its array and every arena
 * tensor against arena_bytes here, once, instead of trusting them in the step loop.  The
 * writer runs the same checks, so a compiler bug shows up at compile time with a message.
 * The first fault found is reported; a plan is either wholly usable or refused.
 */
#include "internal.h"

#include <string.h>

typedef struct Ctx { const char *name; char *err; size_t errlen; } Ctx;

__attribute__((format(printf, 2, 3)))
static int bad(const Ctx *c, const char *fmt, ...) {
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (c->name)
    sng_plan_errf(c->err, c->errlen, c->name, "invalid plan: %s", msg);
  else if (c->err && c->errlen)
    snprintf(c->err, c->errlen, "invalid plan: %s", msg);
  return SNG_EFORMAT;
}

static const char *str(const char *s) { return s ? s : "?"; }

/* rank 0..4 and every used dim > 0; the element count (capped) goes to *numel */
static int check_shape(const Ctx *c, const char *what, int32_t rank, const int64_t *dims,
                       int64_t *numel) {
  if (rank < 0 || rank > 4) return bad(c, "%s: rank %d (must be 0..4)", what, rank);
  int64_t n = 1;
  for (int i = 0; i < rank; i++) {
    if (dims[i] <= 0) return bad(c, "%s: dimension %d is %lld (must be > 0)", what, i,
                                 (long long)dims[i]);
    if (n > INT64_MAX / 8 / dims[i]) return bad(c, "%s: shape too large", what);
    n *= dims[i];
  }
  if (numel) *numel = n;
  return SNG_OK;
}

static int check_tensor(const Ctx *c, const SngPlan *p, const SngPlanGraph *g, int gi, int ti) {
  const SngPlanTensor *t = &g->tensors[ti];
  char what[160];
  snprintf(what, sizeof what, "graph %d tensor %d (%s)", gi, ti, str(t->name));
  int64_t n = 0;
  if (check_shape(c, what, t->rank, t->dims, &n)) return SNG_EFORMAT;
  switch (t->kind) {
  case SNG_TENSOR_PARAM:
  case SNG_TENSOR_GRAD:
    if (t->param < 0 || t->param >= p->nparams)
      return bad(c, "%s: param index %d out of range (the plan has %d params)", what, t->param,
                 p->nparams);
    break;
  case SNG_TENSOR_INPUT:
    if (t->param != 0 && t->param != 1)
      return bad(c, "%s: input slot %d (must be 0 features or 1 labels)", what, t->param);
    break;
  case SNG_TENSOR_TEMP:
    break;
  default:
    return bad(c, "%s: unknown tensor kind %d", what, t->kind);
  }
  if (t->kind == SNG_TENSOR_PARAM) return SNG_OK;   /* lives in the parameter's memory */
  int64_t bytes = n * 4;   /* float32 */
  if (t->offset < 0 || t->offset > g->arena_bytes || bytes > g->arena_bytes - t->offset)
    return bad(c, "%s: bytes [%lld, %lld) fall outside the arena of %lld bytes", what,
               (long long)t->offset, (long long)t->offset + (long long)bytes,
               (long long)g->arena_bytes);
  return SNG_OK;
}

static int check_op(const Ctx *c, const SngPlan *p, const SngPlanGraph *g, int gi, int oi) {
  const SngPlanOp *o = &g->ops[oi];
  char what[160];
  snprintf(what, sizeof what, "graph %d op %d (%s)", gi, oi, str(o->name));
  if (o->op < 0 || o->op >= PLAN_NOPS)
    return bad(c, "%s: op code %d out of range (this build has %d ops)", what, o->op, PLAN_NOPS);
  if (o->phase != 0 && o->phase != 1)
    return bad(c, "%s: phase %d (must be 0 forward or 1 backward)", what, o->phase);
  if (o->op == PLAN_OP_KERNEL) {
    if (o->kernel < 0 || o->kernel >= p->nkernels)
      return bad(c, "%s: kernel index %d out of range (the plan has %d kernels)", what, o->kernel,
                 p->nkernels);
  } else if (o->kernel != -1) {
    return bad(c, "%s: a %s op has kernel %d (only KERNEL ops name a kernel)", what,
               sng_plan_op_names[o->op], o->kernel);
  }
  for (int64_t k = 0; k < (int64_t)o->nin + o->nout; k++) {
    int in = k < o->nin;
    int32_t t = in ? o->in[k] : o->out[k - o->nin];
    if (t < 0 || t >= g->ntensors)
      return bad(c, "%s: %s %lld is tensor %d, but the graph has %d tensors", what,
                 in ? "input" : "output", (long long)(in ? k : k - o->nin), t, g->ntensors);
  }
  return SNG_OK;
}

static int check_graph(const Ctx *c, const SngPlan *p, int gi) {
  const SngPlanGraph *g = &p->graphs[gi];
  if (g->arena_bytes < 0)
    return bad(c, "graph %d: arena of %lld bytes", gi, (long long)g->arena_bytes);
  if (g->batch <= 0) return bad(c, "graph %d: batch %lld (must be > 0)", gi, (long long)g->batch);
  for (int i = 0; i < g->ntensors; i++)
    if (check_tensor(c, p, g, gi, i)) return SNG_EFORMAT;
  for (int i = 0; i < g->nops; i++)
    if (check_op(c, p, g, gi, i)) return SNG_EFORMAT;
  if (g->loss < -1 || g->loss >= g->ntensors)
    return bad(c, "graph %d: loss tensor %d out of range (%d tensors)", gi, g->loss, g->ntensors);
  if (g->metric < -1 || g->metric >= g->ntensors)
    return bad(c, "graph %d: metric tensor %d out of range (%d tensors)", gi, g->metric,
               g->ntensors);
  return SNG_OK;
}

static int check_units(const Ctx *c, const SngPlan *p) {
  if (p->nranks < 1) return bad(c, "%d ranks (must be >= 1)", p->nranks);
  for (int i = 0; i < p->nunits; i++) {
    const SngPlanUnit *u = &p->units[i];
    if (u->kind != SNG_UNIT_WORKER && u->kind != SNG_UNIT_SERVER)
      return bad(c, "unit %d: unknown kind %d", i, u->kind);
    if (u->rank < 0 || u->rank >= p->nranks)
      return bad(c, "unit %d: rank %d out of range (the plan has %d ranks)", i, u->rank, p->nranks);
    if (u->thread < 0 || u->group < 0 || u->index < 0)
      return bad(c, "unit %d: negative group, index or thread", i);
    if (u->kind == SNG_UNIT_WORKER && (u->graph < 0 || u->graph >= p->ngraphs))
      return bad(c, "unit %d: graph index %d out of range (the plan has %d graphs)", i, u->graph,
                 p->ngraphs);
  }
  return SNG_OK;
}

static int check_params(const Ctx *c, const SngPlan *p) {
  for (int i = 0; i < p->nparams; i++) {
    const SngPlanParam *q = &p->params[i];
    char what[160];
    snprintf(what, sizeof what, "param %d (%s)", i, str(q->name));
    if (check_shape(c, what, q->rank, q->dims, NULL)) return SNG_EFORMAT;
    if (q->init < SNG_PINIT_CONSTANT || q->init > SNG_PINIT_GAUSSIAN)
      return bad(c, "%s: unknown init kind %d", what, q->init);
    /* -1: no server unit owns it (the worker updates in place) */
    if (q->server != -1 &&
        (q->server < 0 || q->server >= p->nunits || p->units[q->server].kind != SNG_UNIT_SERVER))
      return bad(c, "%s: owner %d is not a server unit", what, q->server);
  }
  return SNG_OK;
}

static int check_rest(const Ctx *c, const SngPlan *p) {
  for (int i = 0; i < p->nkernels; i++) {
    const SngPlanKernel *k = &p->kernels[i];
    if (!k->symbol || !*k->symbol) return bad(c, "kernel %d: no symbol", i);
    if (k->nbufs < 0 || k->nscalars < 0) return bad(c, "kernel %d (%s): negative counts", i, k->symbol);
  }
  const SngPlanUpdater *u = &p->updater;
  if (u->kind != SNG_UPD_SGD) return bad(c, "updater: unknown kind %d", u->kind);
  if (u->schedule != SNG_SCHED_FIXED && u->schedule != SNG_SCHED_STEP)
    return bad(c, "updater: unknown schedule %d", u->schedule);
  if (u->schedule == SNG_SCHED_STEP && u->sched_every <= 0)
    return bad(c, "updater: step schedule every %lld steps (must be > 0)", (long long)u->sched_every);
  if (u->kernel < -1 || u->kernel >= p->nkernels)
    return bad(c, "updater: kernel index %d out of range (the plan has %d kernels)", u->kernel,
               p->nkernels);
  if (u->nstate < 0) return bad(c, "updater: %d state buffers", u->nstate);
  const SngPlanData *d = &p->data;
  if (d->batch < 0 || d->classes < 0) return bad(c, "data: negative batch or classes");
  for (int i = 0; i < 3; i++)
    if (d->sample_dims[i] < 0) return bad(c, "data: negative sample dimension");
  const SngPlanTrain *t = &p->train;
  if (t->steps < 0 || t->display_every < 0 || t->test_every < 0 || t->test_steps < 0)
    return bad(c, "train: negative steps, display_every, test_every or test_steps");
  return SNG_OK;
}

/* Counts and arrays must at least be walkable before anything else is looked at; this is
 * all the encoder asks for, so that tests can encode inconsistent plans. */
int sng_plan_walkable(const SngPlan *p) {
  if (p->nunits < 0 || p->ngraphs < 0 || p->nkernels < 0 || p->nparams < 0) return 0;
  if ((p->nunits && !p->units) || (p->ngraphs && !p->graphs) || (p->nkernels && !p->kernels) ||
      (p->nparams && !p->params))
    return 0;
  for (int i = 0; i < p->nkernels; i++)
    if (p->kernels[i].bitcode_len && !p->kernels[i].bitcode) return 0;
  for (int i = 0; i < p->ngraphs; i++) {
    const SngPlanGraph *g = &p->graphs[i];
    if (g->ntensors < 0 || g->nops < 0 || (g->ntensors && !g->tensors) || (g->nops && !g->ops))
      return 0;
    for (int k = 0; k < g->nops; k++) {
      const SngPlanOp *o = &g->ops[k];
      if (o->nin < 0 || o->nout < 0 || (o->nin && !o->in) || (o->nout && !o->out)) return 0;
    }
  }
  return 1;
}

int sng_plan_check(const SngPlan *p, const char *name, char *err, size_t errlen) {
  Ctx c = {name, err, errlen};
  if (!p || !sng_plan_walkable(p))
    return bad(&c, "a count is negative or an array is missing");
  if (check_units(&c, p)) return SNG_EFORMAT;
  for (int i = 0; i < p->ngraphs; i++)
    if (check_graph(&c, p, i)) return SNG_EFORMAT;
  if (check_params(&c, p)) return SNG_EFORMAT;
  return check_rest(&c, p);
}

int sng_plan_validate(const SngPlan *p, char *err, size_t errlen) {
  return sng_plan_check(p, NULL, err, errlen);
}
