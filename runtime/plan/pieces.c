/* pieces.c - whole-plan checks of parameter pieces: what each worker holds of each parameter.
 *
 * The group runtime keeps one entry per (worker, parameter): the PARAM tensor it reads and
 * the GRAD tensor it writes.  The worker hands the gradient to the stub after the last op
 * that touches either, in training, and then waits for the parameter's fresh values; the stub
 * sums the pieces when every holder has the whole parameter (batch partition) and places
 * them when they split it (feature partition).  So inside a graph a parameter has no piece or
 * exactly one PARAM and one GRAD tensor of the same box, touched last by an op that runs in
 * training (else the worker would wait forever), and across graphs its pieces are all whole or
 * tile it along one dimension.  Each graph is indexed by parameter once, with scratch arrays
 * reset by walking its tensors again, and the pieces of all graphs are bucketed by parameter
 * and sorted, so the checks cost O(P + T log T) for P params and T tensors.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static const char *str(const char *s) { return s ? s : "?"; }

typedef struct Held {
  int32_t *value, *grad, *last;   /* per param: PARAM tensor, GRAD tensor, last op; -1 none */
} Held;

static bool same_box(const SngPlanTensor *a, const SngPlanTensor *b) {
  if (a->rank != b->rank) return false;
  for (int i = 0; i < a->rank; i++)
    if (a->dims[i] != b->dims[i] || a->start[i] != b->start[i]) return false;
  return true;
}

static int index_graph(const SngPlanCtx *c, const SngPlan *p, int gi, Held *h) {
  const SngPlanGraph *g = &p->graphs[gi];
  for (int i = 0; i < g->ntensors; i++) {
    const SngPlanTensor *t = &g->tensors[i];
    if (t->kind != SNG_TENSOR_PARAM && t->kind != SNG_TENSOR_GRAD) continue;
    int32_t *slot = t->kind == SNG_TENSOR_PARAM ? &h->value[t->param] : &h->grad[t->param];
    if (*slot >= 0)
      return sng_plan_bad(c, "graph %d tensor %d (%s): a second %s tensor of param %d (%s), after "
                          "tensor %d", gi, i, str(t->name), t->kind == SNG_TENSOR_PARAM ? "PARAM"
                          : "GRAD", t->param, str(p->params[t->param].name), *slot);
    *slot = i;
  }
  for (int i = 0; i < g->nops; i++) {
    const SngPlanOp *o = &g->ops[i];
    for (int k = 0; k < o->nin + o->nout; k++) {
      const SngPlanTensor *t = &g->tensors[k < o->nin ? o->in[k] : o->out[k - o->nin]];
      if (t->kind == SNG_TENSOR_PARAM || t->kind == SNG_TENSOR_GRAD) h->last[t->param] = i;
    }
  }
  return SNG_OK;
}

static int check_graph(const SngPlanCtx *c, const SngPlan *p, int gi, const Held *h) {
  const SngPlanGraph *g = &p->graphs[gi];
  for (int i = 0; i < g->ntensors; i++) {
    const SngPlanTensor *t = &g->tensors[i];
    if (t->kind != SNG_TENSOR_PARAM && t->kind != SNG_TENSOR_GRAD) continue;
    int32_t q = t->param, v = h->value[q], gr = h->grad[q], last = h->last[q];
    const char *pn = str(p->params[q].name);
    if (v < 0 || gr < 0)
      return sng_plan_bad(c, "graph %d tensor %d (%s): param %d (%s) has a %s tensor but no %s "
                          "tensor in this graph", gi, i, str(t->name), q, pn, v < 0 ? "GRAD" : "PARAM",
                          v < 0 ? "PARAM" : "GRAD");
    if (!same_box(&g->tensors[v], &g->tensors[gr]))
      return sng_plan_bad(c, "graph %d tensor %d (%s): the gradient's box differs from its PARAM "
                          "tensor %d (%s) of param %d (%s)", gi, gr, str(g->tensors[gr].name), v,
                          str(g->tensors[v].name), q, pn);
    if (last < 0 || g->ops[last].phase == SNG_PHASE_FWD_TEST)
      return sng_plan_bad(c, "graph %d: param %d (%s) is held but %s, so training would wait for "
                          "its update forever", gi, q, pn, last < 0 ? "no op touches it"
                          : "the last op touching it runs only in tests");
  }
  return SNG_OK;
}

static void reset_graph(const SngPlanGraph *g, Held *h) {
  for (int i = 0; i < g->ntensors; i++) {
    const SngPlanTensor *t = &g->tensors[i];
    if (t->kind != SNG_TENSOR_PARAM && t->kind != SNG_TENSOR_GRAD) continue;
    h->value[t->param] = h->grad[t->param] = h->last[t->param] = -1;
  }
}

/* ---------------------------------------------------------------- across graphs */

typedef struct Piece { const SngPlanTensor *t; int32_t graph, tensor; int split; } Piece;

static int by_start(const void *a, const void *b) {
  const Piece *x = a, *y = b;
  int64_t s = x->t->start[x->split], u = y->t->start[y->split];
  return (s > u) - (s < u);
}

static bool whole(const SngPlanParam *q, const SngPlanTensor *t) {
  for (int i = 0; i < t->rank; i++)
    if (t->start[i] || t->dims[i] != q->dims[i]) return false;
  return true;
}

/* The n pieces of param qi: all whole, or splitting it along one dimension into a tiling. */
static int check_tiling(const SngPlanCtx *c, const SngPlan *p, int32_t qi, Piece *e, int n) {
  const SngPlanParam *q = &p->params[qi];
  int nwhole = 0, split = -1;
  for (int k = 0; k < n; k++) nwhole += whole(q, e[k].t);
  if (nwhole == n) return SNG_OK;
  for (int k = 0; k < n; k++) {
    for (int i = 0; i < q->rank; i++)
      if (e[k].t->start[i] || e[k].t->dims[i] != q->dims[i]) {
        if (split < 0) split = i;
        if (i != split)
          return sng_plan_bad(c, "param %d (%s): graph %d tensor %d cuts it along dimension %d, "
                              "other pieces along %d (pieces split one dimension, or are whole)",
                              qi, str(q->name), e[k].graph, e[k].tensor, i, split);
      }
  }
  for (int k = 0; k < n; k++) e[k].split = split;
  qsort(e, (size_t)n, sizeof *e, by_start);
  int64_t next = 0;
  for (int k = 0; k < n; k++) {
    const SngPlanTensor *t = e[k].t;
    if (t->start[split] != next)
      return sng_plan_bad(c, "param %d (%s): graph %d tensor %d (%s) holds [%lld, %lld) of "
                          "dimension %d, but the pieces before it end at %lld (pieces must tile "
                          "the param)", qi, str(q->name), e[k].graph, e[k].tensor, str(t->name),
                          (long long)t->start[split], sng_plan_end(t->start[split], t->dims[split]),
                          split, (long long)next);
    next += t->dims[split];
  }
  if (next != q->dims[split])
    return sng_plan_bad(c, "param %d (%s): its pieces cover [0, %lld) of dimension %d, which has "
                        "%lld", qi, str(q->name), (long long)next, split, (long long)q->dims[split]);
  return SNG_OK;
}

static int check_across(const SngPlanCtx *c, const SngPlan *p, int32_t *count) {
  /* bucket the PARAM tensors of every graph by param (a counting sort) */
  int64_t n = 0;
  for (int g = 0; g < p->ngraphs; g++)
    for (int i = 0; i < p->graphs[g].ntensors; i++)
      if (p->graphs[g].tensors[i].kind == SNG_TENSOR_PARAM) count[p->graphs[g].tensors[i].param]++;
  int64_t *at = sng_alloc(((size_t)p->nparams + 1) * sizeof *at);
  for (int q = 0; q < p->nparams; q++) at[q] = n, n += count[q];
  at[p->nparams] = n;
  Piece *e = sng_alloc(((size_t)n + 1) * sizeof *e);
  for (int g = 0; g < p->ngraphs; g++)
    for (int i = 0; i < p->graphs[g].ntensors; i++) {
      const SngPlanTensor *t = &p->graphs[g].tensors[i];
      if (t->kind == SNG_TENSOR_PARAM) e[at[t->param]++] = (Piece){t, g, i, 0};
    }
  int rc = SNG_OK;
  for (int q = 0, start = 0; q < p->nparams && !rc; start += count[q], q++)
    rc = check_tiling(c, p, q, e + start, count[q]);
  free(e);
  free(at);
  return rc;
}

int sng_plan_check_pieces(const SngPlanCtx *c, const SngPlan *p) {
  size_t n = (size_t)p->nparams + 1;
  Held h = {sng_alloc(n * sizeof(int32_t)), sng_alloc(n * sizeof(int32_t)),
            sng_alloc(n * sizeof(int32_t))};
  memset(h.value, 0xff, n * sizeof(int32_t));   /* -1 */
  memset(h.grad, 0xff, n * sizeof(int32_t));
  memset(h.last, 0xff, n * sizeof(int32_t));
  int rc = SNG_OK;
  for (int g = 0; g < p->ngraphs && !rc; g++) {
    rc = index_graph(c, p, g, &h) || check_graph(c, p, g, &h);
    reset_graph(&p->graphs[g], &h);
  }
  if (!rc) {
    memset(h.value, 0, n * sizeof(int32_t));     /* reused as the pieces per param */
    rc = check_across(c, p, h.value);
  }
  free(h.value), free(h.grad), free(h.last);
  return rc ? SNG_EFORMAT : SNG_OK;
}
