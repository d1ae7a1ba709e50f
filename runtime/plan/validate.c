/* validate.c - whole-plan checks: what relates one value to another.
 *
 * The checksum only proves that the file is what the writer wrote; it says nothing about
 * whether the writer was right.  The executor indexes arrays with the numbers in a plan, lays
 * tensors over one arena, hands kernels buffers of the sizes their broadcast letters promise
 * and pairs bridge sends with receives, so all of that is checked here, once, instead of being
 * trusted in the step loop.  The writer runs the same checks, so a compiler bug shows up at
 * compile time with a message naming the graph, tensor, op, unit or slice.  Single values were
 * already checked against their ranges in fields.def (check.c): ranks are 0..4, dims > 0, enums
 * and op codes in range, counts >= 0.  The cluster-wide parts (units, bridges, slices) are in
 * dist.c.  The first fault found is reported; a plan is either wholly usable or refused.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static const char *str(const char *s) { return s ? s : "?"; }

const char *sng_plan_what(SngPlanWhat *w) {
  if (!w->buf[0])
    snprintf(w->buf, sizeof w->buf, "graph %d %s %d (%s)", w->graph, w->rec, w->index, str(w->name));
  return w->buf;
}

static const char *at(SngPlanWhat *w) { return sng_plan_what(w); }   /* for messages */

int64_t sng_plan_numel(int32_t rank, const int64_t *dims) {
  int64_t n = 1;
  for (int i = 0; i < rank && i < 4; i++) {
    if (dims[i] <= 0 || n > INT64_MAX / 8 / dims[i]) return -1;
    n *= dims[i];
  }
  return n;
}

static int by_symbol(const void *a, const void *b) {
  const SngPlanKernel *x = *(const SngPlanKernel *const *)a, *y = *(const SngPlanKernel *const *)b;
  return strcmp(x->symbol, y->symbol);
}

/* The JIT looks kernels up by symbol in one module space: no two may share one. */
static int check_symbols(const SngPlanCtx *c, const SngPlan *p) {
  const SngPlanKernel **k = sng_alloc(((size_t)p->nkernels + 1) * sizeof *k);
  for (int i = 0; i < p->nkernels; i++) k[i] = &p->kernels[i];
  qsort(k, (size_t)p->nkernels, sizeof *k, by_symbol);
  int rc = SNG_OK;
  for (int i = 1; i < p->nkernels && !rc; i++)
    if (!strcmp(k[i - 1]->symbol, k[i]->symbol))
      rc = sng_plan_bad(c, "kernel %d and kernel %d are both named %s (symbols must be unique)",
                        (int)(k[i - 1] - p->kernels), (int)(k[i] - p->kernels), k[i]->symbol);
  free(k);
  return rc;
}

static int check_kernels(const SngPlanCtx *c, const SngPlan *p) {
  for (int i = 0; i < p->nkernels; i++) {
    const SngPlanKernel *k = &p->kernels[i];
    if (k->nscalars > SNG_PLAN_MAX_SCALARS)
      return sng_plan_bad(c, "kernel %d (%s): %d runtime scalars (at most %d)", i, k->symbol,
                          k->nscalars, SNG_PLAN_MAX_SCALARS);
    size_t n = k->bcast ? strlen(k->bcast) : 0;
    if (n != (size_t)k->nbufs)
      return sng_plan_bad(c, "kernel %d (%s): bcast \"%s\" has %zu letters for %d buffers", i,
                          k->symbol, str(k->bcast), n, k->nbufs);
    for (size_t b = 0; b < n; b++)
      if (!strchr("FRCS", k->bcast[b]))
        return sng_plan_bad(c, "kernel %d (%s): bcast letter '%c' of buffer %zu (must be F, R, C or S)",
                            i, k->symbol, k->bcast[b], b);
  }
  return check_symbols(c, p);
}

static int check_params(const SngPlanCtx *c, const SngPlan *p) {
  for (int i = 0; i < p->nparams; i++)
    if (sng_plan_numel(p->params[i].rank, p->params[i].dims) < 0)
      return sng_plan_bad(c, "param %d (%s): shape too large", i, str(p->params[i].name));
  return SNG_OK;
}

/* The data source: what the loader opens and the batch buffers it fills (runtime/exec). */
static int check_data(const SngPlanCtx *c, const SngPlan *p) {
  const SngPlanData *d = &p->data;
  int64_t sample = sng_plan_numel(d->sample_rank, d->sample_dims);
  if (sample < 0 || d->batch > INT64_MAX / 8 / sample)
    return sng_plan_bad(c, "data %s: batches of %lld samples of %lld values are too large",
                        str(d->name), (long long)d->batch, (long long)sample);
  if (!d->format || strcmp(d->format, "idx"))
    return sng_plan_bad(c, "data %s: format \"%s\" (this runtime reads idx)", str(d->name),
                        str(d->format));
  if (!d->train[0] || !d->train[1] || !d->test[0] != !d->test[1])
    return sng_plan_bad(c, "data %s: the %s set names its images but not its labels, or the "
                        "reverse", str(d->name), !d->train[0] || !d->train[1] ? "training" : "test");
  return SNG_OK;
}

/* ---------------------------------------------------------------- tensors */

/* A PARAM or GRAD tensor is a box start[]..start[]+dims[] inside its param. */
static int check_piece(const SngPlanCtx *c, const SngPlan *p, const SngPlanTensor *t,
                       SngPlanWhat *what) {
  if (t->param < 0 || t->param >= p->nparams)
    return sng_plan_bad(c, "%s: param index %d out of range (the plan has %d params)", at(what),
                        t->param, p->nparams);
  const SngPlanParam *q = &p->params[t->param];
  if (t->rank != q->rank)
    return sng_plan_bad(c, "%s: rank %d, but param %d (%s) has rank %d", at(what), t->rank, t->param,
                        str(q->name), q->rank);
  for (int i = 0; i < t->rank; i++)
    if (t->start[i] > q->dims[i] - t->dims[i])
      return sng_plan_bad(c, "%s: the piece [%lld, %lld) of dimension %d falls outside param %d "
                          "(%s), whose dimension %d is %lld", at(what), (long long)t->start[i],
                          sng_plan_end(t->start[i], t->dims[i]), i, t->param,
                          str(q->name), i, (long long)q->dims[i]);
  return SNG_OK;
}

/* An INPUT tensor is rows start[0].. of the batch the data source delivers: features hold
 * the data's sample shape per row, labels one value per row (runtime/exec fill_inputs). */
static int check_input(const SngPlanCtx *c, const SngPlan *p, const SngPlanGraph *g,
                       const SngPlanTensor *t, int64_t n, SngPlanWhat *what) {
  const SngPlanData *d = &p->data;
  if (t->param != 0 && t->param != 1)
    return sng_plan_bad(c, "%s: input slot %d (must be 0 features or 1 labels)", at(what), t->param);
  if (t->rank < 1)
    return sng_plan_bad(c, "%s: an input of rank 0 (inputs are [rows, ...])", at(what));
  if (t->start[0] > g->batch - t->dims[0])
    return sng_plan_bad(c, "%s: rows [%lld, %lld) fall outside the batch of %lld", at(what),
                        (long long)t->start[0], sng_plan_end(t->start[0], t->dims[0]),
                        (long long)g->batch);
  int64_t per = t->param ? 1 : sng_plan_numel(d->sample_rank, d->sample_dims);
  if (per < 0 || n / t->dims[0] != per || n % t->dims[0])
    return sng_plan_bad(c, "%s: %lld rows of %lld values, but data %s delivers %s of %lld values",
                        at(what), (long long)t->dims[0], (long long)(n / t->dims[0]), str(d->name),
                        t->param ? "labels" : "samples", (long long)per);
  return SNG_OK;
}

static int check_tensor(const SngPlanCtx *c, const SngPlan *p, const SngPlanGraph *g, int gi,
                        int ti) {
  const SngPlanTensor *t = &g->tensors[ti];
  SngPlanWhat w = {"tensor", gi, ti, t->name, ""}, *what = &w;
  int64_t n = sng_plan_numel(t->rank, t->dims);
  if (n < 0) return sng_plan_bad(c, "%s: shape too large", at(what));
  switch (t->kind) {
  case SNG_TENSOR_INPUT:
    if (check_input(c, p, g, t, n, what)) return SNG_EFORMAT;
    break;
  case SNG_TENSOR_PARAM:
    if (check_piece(c, p, t, what)) return SNG_EFORMAT;
    if (t->offset != -1)
      return sng_plan_bad(c, "%s: a PARAM tensor at arena offset %lld (must be -1: it lives in "
                          "the parameter's memory)", at(what), (long long)t->offset);
    return SNG_OK;
  case SNG_TENSOR_GRAD:
    if (check_piece(c, p, t, what)) return SNG_EFORMAT;
    break;
  default:
    break;
  }
  int64_t bytes = n * 4;   /* float32 */
  if (t->offset < 0 || t->offset > g->arena_bytes || bytes > g->arena_bytes - t->offset)
    return sng_plan_bad(c, "%s: bytes [%lld, %lld) fall outside the arena of %lld bytes", at(what),
                        (long long)t->offset, sng_plan_end(t->offset, bytes),
                        (long long)g->arena_bytes);
  if (t->offset % SNG_PLAN_ALIGN)
    return sng_plan_bad(c, "%s: arena offset %lld is not a multiple of %d", at(what),
                        (long long)t->offset, SNG_PLAN_ALIGN);
  return SNG_OK;
}

/* ---------------------------------------------------------------- ops */

static int check_op(const SngPlanCtx *c, const SngPlan *p, const SngPlanGraph *g, int gi, int oi) {
  const SngPlanOp *o = &g->ops[oi];
  SngPlanWhat w = {"op", gi, oi, o->name, ""}, *what = &w;
  for (int64_t k = 0; k < (int64_t)o->nin + o->nout; k++) {
    int in = k < o->nin;
    int32_t t = in ? o->in[k] : o->out[k - o->nin];
    if (t < 0 || t >= g->ntensors)
      return sng_plan_bad(c, "%s: %s %lld is tensor %d, but the graph has %d tensors", at(what),
                          in ? "input" : "output", (long long)(in ? k : k - o->nin), t, g->ntensors);
  }
  return sng_plan_check_op_shape(c, p, g, o, what);
}

/* The loss and metric tensors: the driver sums rows start[0].. of them (group.c). */
static int check_rows_out(const SngPlanCtx *c, const SngPlanGraph *g, int gi, int32_t t,
                          const char *role) {
  if (t < 0) return SNG_OK;
  if (t >= g->ntensors)
    return sng_plan_bad(c, "graph %d: %s tensor %d out of range (%d tensors)", gi, role, t,
                        g->ntensors);
  const SngPlanTensor *x = &g->tensors[t];
  if (x->kind != SNG_TENSOR_TEMP || x->rank < 1 || x->start[0] > g->batch - x->dims[0])
    return sng_plan_bad(c, "graph %d: %s tensor %d (%s) must be a temp of rank >= 1 whose rows "
                        "[%lld, %lld) lie in the batch of %lld", gi, role, t, str(x->name),
                        (long long)x->start[0], sng_plan_end(x->start[0], x->dims[0]),
                        (long long)g->batch);
  return SNG_OK;
}

static int check_graph(const SngPlanCtx *c, const SngPlan *p, int gi) {
  const SngPlanGraph *g = &p->graphs[gi];
  if (g->batch != p->data.batch)
    return sng_plan_bad(c, "graph %d: batch %lld, but data %s delivers batches of %lld", gi,
                        (long long)g->batch, str(p->data.name), (long long)p->data.batch);
  int64_t top = 0;   /* the end of the highest arena tensor */
  for (int i = 0; i < g->ntensors; i++) {
    if (check_tensor(c, p, g, gi, i)) return SNG_EFORMAT;
    const SngPlanTensor *t = &g->tensors[i];
    if (t->kind != SNG_TENSOR_PARAM && t->offset + 4 * sng_plan_numel(t->rank, t->dims) > top)
      top = t->offset + 4 * sng_plan_numel(t->rank, t->dims);
  }
  int64_t room = (top + SNG_PLAN_ALIGN - 1) / SNG_PLAN_ALIGN * SNG_PLAN_ALIGN;
  if (g->arena_bytes > room)
    return sng_plan_bad(c, "graph %d: arena of %lld bytes, but its tensors end at %lld (at most "
                        "%lld: the arena is what the memory plan uses)", gi,
                        (long long)g->arena_bytes, (long long)top, (long long)room);
  for (int i = 0; i < g->nops; i++)
    if (check_op(c, p, g, gi, i)) return SNG_EFORMAT;
  return check_rows_out(c, g, gi, g->loss, "loss") || check_rows_out(c, g, gi, g->metric, "metric");
}

/* The servers call the update kernel with bufs {value, grad, state...} and the scalars
 * SNG_UPD_S_* over one slice (runtime/exec update.c). */
static int check_updater(const SngPlanCtx *c, const SngPlan *p) {
  const SngPlanUpdater *u = &p->updater;
  if (u->kernel >= p->nkernels || (u->kernel < 0 && p->nslices > 0))
    return sng_plan_bad(c, "updater: kernel index %d out of range (the plan has %d kernels and %d "
                        "slices to update)", u->kernel, p->nkernels, p->nslices);
  if (u->kernel >= 0) {
    const SngPlanKernel *k = &p->kernels[u->kernel];
    if (k->nbufs != 2 + u->nstate || k->nscalars > SNG_UPD_NSCALARS)
      return sng_plan_bad(c, "updater: kernel %d (%s) takes %d buffers and %d scalars (must be 2 + "
                          "nstate %d buffers: value, gradient, state; at most %d scalars)", u->kernel,
                          k->symbol, k->nbufs, k->nscalars, u->nstate, SNG_UPD_NSCALARS);
  }
  if (u->schedule == SNG_SCHED_STEP && u->sched_every <= 0)
    return sng_plan_bad(c, "updater: step schedule every %lld steps (must be > 0)",
                        (long long)u->sched_every);
  if ((u->schedule == SNG_SCHED_INVERSE_T || u->schedule == SNG_SCHED_LINEAR || u->schedule == SNG_SCHED_COSINE) &&
      u->sched_every <= 0)
    return sng_plan_bad(c, "updater: %s schedule over %lld steps (must be > 0)",
                        u->schedule == SNG_SCHED_COSINE ? "cosine" : u->schedule == SNG_SCHED_LINEAR ? "linear" : "inverse_t",
                        (long long)u->sched_every);
  for (int i = 1; i < u->nmilestones; i++)
    if (u->milestones[i] <= u->milestones[i - 1])
      return sng_plan_bad(c, "updater: multistep milestones must increase (%lld after %lld)",
                          (long long)u->milestones[i], (long long)u->milestones[i - 1]);
  return SNG_OK;
}

int sng_plan_check(const SngPlan *p, const char *name, char *err, size_t errlen) {
  SngPlanCtx c = {name, err, errlen};
  if (!p || !sng_plan_walkable(p))
    return sng_plan_bad(&c, "a count is negative or an array is missing");
  if (sng_plan_check_fields(&c, p) || check_data(&c, p) || check_kernels(&c, p) ||
      check_params(&c, p) || sng_plan_check_units(&c, p))
    return SNG_EFORMAT;
  for (int i = 0; i < p->ngraphs; i++)
    if (check_graph(&c, p, i)) return SNG_EFORMAT;
  if (sng_plan_check_pieces(&c, p) || sng_plan_check_bridges(&c, p) ||
      sng_plan_check_slices(&c, p) || check_updater(&c, p))
    return SNG_EFORMAT;
  return SNG_OK;
}

int sng_plan_validate(const SngPlan *p, char *err, size_t errlen) {
  return sng_plan_check(p, NULL, err, errlen);
}
