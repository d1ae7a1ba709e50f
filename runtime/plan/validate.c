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

#include <string.h>

static const char *str(const char *s) { return s ? s : "?"; }

int64_t sng_plan_numel(int32_t rank, const int64_t *dims) {
  int64_t n = 1;
  for (int i = 0; i < rank && i < 4; i++) {
    if (dims[i] <= 0 || n > INT64_MAX / 8 / dims[i]) return -1;
    n *= dims[i];
  }
  return n;
}

static int check_kernels(const SngPlanCtx *c, const SngPlan *p) {
  for (int i = 0; i < p->nkernels; i++) {
    const SngPlanKernel *k = &p->kernels[i];
    size_t n = k->bcast ? strlen(k->bcast) : 0;
    if (n != (size_t)k->nbufs)
      return sng_plan_bad(c, "kernel %d (%s): bcast \"%s\" has %zu letters for %d buffers", i,
                          k->symbol, str(k->bcast), n, k->nbufs);
    for (size_t b = 0; b < n; b++)
      if (!strchr("FRCS", k->bcast[b]))
        return sng_plan_bad(c, "kernel %d (%s): bcast letter '%c' of buffer %zu (must be F, R, C or S)",
                            i, k->symbol, k->bcast[b], b);
  }
  return SNG_OK;
}

static int check_params(const SngPlanCtx *c, const SngPlan *p) {
  for (int i = 0; i < p->nparams; i++)
    if (sng_plan_numel(p->params[i].rank, p->params[i].dims) < 0)
      return sng_plan_bad(c, "param %d (%s): shape too large", i, str(p->params[i].name));
  return SNG_OK;
}

/* ---------------------------------------------------------------- tensors */

/* A PARAM or GRAD tensor is a box start[]..start[]+dims[] inside its param. */
static int check_piece(const SngPlanCtx *c, const SngPlan *p, const SngPlanTensor *t,
                       const char *what) {
  if (t->param < 0 || t->param >= p->nparams)
    return sng_plan_bad(c, "%s: param index %d out of range (the plan has %d params)", what,
                        t->param, p->nparams);
  const SngPlanParam *q = &p->params[t->param];
  if (t->rank != q->rank)
    return sng_plan_bad(c, "%s: rank %d, but param %d (%s) has rank %d", what, t->rank, t->param,
                        str(q->name), q->rank);
  for (int i = 0; i < t->rank; i++)
    if (t->start[i] > q->dims[i] - t->dims[i])
      return sng_plan_bad(c, "%s: the piece [%lld, %lld) of dimension %d falls outside param %d "
                          "(%s), whose dimension %d is %lld", what, (long long)t->start[i],
                          sng_plan_end(t->start[i], t->dims[i]), i, t->param,
                          str(q->name), i, (long long)q->dims[i]);
  return SNG_OK;
}

static int check_tensor(const SngPlanCtx *c, const SngPlan *p, const SngPlanGraph *g, int gi,
                        int ti) {
  const SngPlanTensor *t = &g->tensors[ti];
  char what[160];
  snprintf(what, sizeof what, "graph %d tensor %d (%s)", gi, ti, str(t->name));
  int64_t n = sng_plan_numel(t->rank, t->dims);
  if (n < 0) return sng_plan_bad(c, "%s: shape too large", what);
  switch (t->kind) {
  case SNG_TENSOR_INPUT:
    if (t->param != 0 && t->param != 1)
      return sng_plan_bad(c, "%s: input slot %d (must be 0 features or 1 labels)", what, t->param);
    if (t->rank > 0 && t->start[0] > g->batch - t->dims[0])
      return sng_plan_bad(c, "%s: rows [%lld, %lld) fall outside the batch of %lld", what,
                          (long long)t->start[0], sng_plan_end(t->start[0], t->dims[0]),
                          (long long)g->batch);
    break;
  case SNG_TENSOR_PARAM:
    if (check_piece(c, p, t, what)) return SNG_EFORMAT;
    if (t->offset != -1)
      return sng_plan_bad(c, "%s: a PARAM tensor at arena offset %lld (must be -1: it lives in "
                          "the parameter's memory)", what, (long long)t->offset);
    return SNG_OK;
  case SNG_TENSOR_GRAD:
    if (check_piece(c, p, t, what)) return SNG_EFORMAT;
    break;
  default:
    break;
  }
  int64_t bytes = n * 4;   /* float32 */
  if (t->offset < 0 || t->offset > g->arena_bytes || bytes > g->arena_bytes - t->offset)
    return sng_plan_bad(c, "%s: bytes [%lld, %lld) fall outside the arena of %lld bytes", what,
                        (long long)t->offset, sng_plan_end(t->offset, bytes),
                        (long long)g->arena_bytes);
  return SNG_OK;
}

/* ---------------------------------------------------------------- ops */

static int64_t tensor_numel(const SngPlanGraph *g, int32_t t) {
  return sng_plan_numel(g->tensors[t].rank, g->tensors[t].dims);
}

/* Each buffer (inputs, then outputs) holds what its bcast letter says over rows x cols. */
static int check_kernel_op(const SngPlanCtx *c, const SngPlan *p, const SngPlanGraph *g,
                           const SngPlanOp *o, const char *what) {
  if (o->kernel < 0 || o->kernel >= p->nkernels)
    return sng_plan_bad(c, "%s: kernel index %d out of range (the plan has %d kernels)", what,
                        o->kernel, p->nkernels);
  const SngPlanKernel *k = &p->kernels[o->kernel];
  if (k->nbufs != o->nin + o->nout)
    return sng_plan_bad(c, "%s: kernel %s takes %d buffers, the op has %d inputs and %d outputs",
                        what, k->symbol, k->nbufs, o->nin, o->nout);
  if (o->rows <= 0 || o->cols <= 0 || o->rows > INT64_MAX / 8 / o->cols)
    return sng_plan_bad(c, "%s: iteration space %lld x %lld (rows and cols must be > 0)", what,
                        (long long)o->rows, (long long)o->cols);
  for (int b = 0; b < k->nbufs; b++) {
    int32_t t = b < o->nin ? o->in[b] : o->out[b - o->nin];
    char letter = k->bcast[b];
    int64_t want = letter == 'F' ? o->rows * o->cols : letter == 'R' ? o->cols
                   : letter == 'C' ? o->rows : 1;
    int64_t have = tensor_numel(g, t);
    if (have != want)
      return sng_plan_bad(c, "%s: buffer %d is tensor %d (%s) of %lld elements, but bcast '%c' "
                          "of kernel %s wants %lld (rows %lld, cols %lld)", what, b, t,
                          str(g->tensors[t].name), (long long)have, letter, k->symbol,
                          (long long)want, (long long)o->rows, (long long)o->cols);
  }
  return SNG_OK;
}

/* Send form (nin 1, nout 0) or receive form (nin 0, nout 1); the pairing is in dist.c. */
static int check_bridge_op(const SngPlanCtx *c, const SngPlan *p, const SngPlanGraph *g,
                           const SngPlanOp *o, const char *what) {
  if (!(o->nin == 1 && o->nout == 0) && !(o->nin == 0 && o->nout == 1))
    return sng_plan_bad(c, "%s: a BRIDGE with %d inputs and %d outputs (must be 1 and 0 to send, "
                        "0 and 1 to receive)", what, o->nin, o->nout);
  if (o->iattr[0] < 0 || o->iattr[0] > INT32_MAX)
    return sng_plan_bad(c, "%s: bridge channel %lld (must be >= 0)", what, (long long)o->iattr[0]);
  int32_t n = p->cluster.workers_per_group;
  if (o->iattr[1] < 0 || o->iattr[1] >= n || o->iattr[1] == g->worker)
    return sng_plan_bad(c, "%s: peer worker %lld (must be another of the group's %d workers; this "
                        "is worker %d)", what, (long long)o->iattr[1], n, g->worker);
  return SNG_OK;
}

static int check_op(const SngPlanCtx *c, const SngPlan *p, const SngPlanGraph *g, int gi, int oi) {
  const SngPlanOp *o = &g->ops[oi];
  char what[160];
  snprintf(what, sizeof what, "graph %d op %d (%s)", gi, oi, str(o->name));
  for (int64_t k = 0; k < (int64_t)o->nin + o->nout; k++) {
    int in = k < o->nin;
    int32_t t = in ? o->in[k] : o->out[k - o->nin];
    if (t < 0 || t >= g->ntensors)
      return sng_plan_bad(c, "%s: %s %lld is tensor %d, but the graph has %d tensors", what,
                          in ? "input" : "output", (long long)(in ? k : k - o->nin), t, g->ntensors);
  }
  if (o->op == SNG_OP_KERNEL) return check_kernel_op(c, p, g, o, what);
  if (o->kernel != -1)
    return sng_plan_bad(c, "%s: a %s op has kernel %d (only KERNEL ops name a kernel)", what,
                        sng_plan_op_name(o->op), o->kernel);
  if (o->op == SNG_OP_MATMUL)
    for (int k = 0; k < o->nin; k++)
      if (g->tensors[o->in[k]].rank < 2)
        return sng_plan_bad(c, "%s: input %d is tensor %d of rank %d (MATMUL needs rank >= 2, "
                            "seen as a matrix [d0, rest])", what, k, o->in[k],
                            g->tensors[o->in[k]].rank);
  if (o->op == SNG_OP_BRIDGE) return check_bridge_op(c, p, g, o, what);
  return SNG_OK;
}

static int check_graph(const SngPlanCtx *c, const SngPlan *p, int gi) {
  const SngPlanGraph *g = &p->graphs[gi];
  for (int i = 0; i < g->ntensors; i++)
    if (check_tensor(c, p, g, gi, i)) return SNG_EFORMAT;
  for (int i = 0; i < g->nops; i++)
    if (check_op(c, p, g, gi, i)) return SNG_EFORMAT;
  if (g->loss >= g->ntensors)
    return sng_plan_bad(c, "graph %d: loss tensor %d out of range (%d tensors)", gi, g->loss,
                        g->ntensors);
  if (g->metric >= g->ntensors)
    return sng_plan_bad(c, "graph %d: metric tensor %d out of range (%d tensors)", gi, g->metric,
                        g->ntensors);
  return SNG_OK;
}

static int check_updater(const SngPlanCtx *c, const SngPlan *p) {
  const SngPlanUpdater *u = &p->updater;
  if (u->kernel >= p->nkernels)
    return sng_plan_bad(c, "updater: kernel index %d out of range (the plan has %d kernels)",
                        u->kernel, p->nkernels);
  if (u->schedule == SNG_SCHED_STEP && u->sched_every <= 0)
    return sng_plan_bad(c, "updater: step schedule every %lld steps (must be > 0)",
                        (long long)u->sched_every);
  return SNG_OK;
}

int sng_plan_check(const SngPlan *p, const char *name, char *err, size_t errlen) {
  SngPlanCtx c = {name, err, errlen};
  if (!p || !sng_plan_walkable(p))
    return sng_plan_bad(&c, "a count is negative or an array is missing");
  if (sng_plan_check_fields(&c, p) || check_kernels(&c, p) || check_params(&c, p) ||
      sng_plan_check_units(&c, p))
    return SNG_EFORMAT;
  for (int i = 0; i < p->ngraphs; i++)
    if (check_graph(&c, p, i)) return SNG_EFORMAT;
  if (sng_plan_check_bridges(&c, p) || sng_plan_check_slices(&c, p) || check_updater(&c, p))
    return SNG_EFORMAT;
  return SNG_OK;
}

int sng_plan_validate(const SngPlan *p, char *err, size_t errlen) {
  return sng_plan_check(p, NULL, err, errlen);
}
