/* dist.c - whole-plan checks of the cluster: units, bridges between workers, slices on servers.
 *
 * These relate records across the plan rather than inside one graph: the units must be the
 * cluster's workers and servers with each graph run by exactly one worker, every bridge
 * channel must have exactly one send and one receive between two workers of one group that
 * name each other as peers and agree on the size, and the slices of each parameter must tile
 * it exactly, in order, each held by a server.  The units are checked before the graphs
 * (validate.c); bridges and slices after them, so every index inside a graph is already
 * known to be good and every graph has its one worker unit.
 */
#include "internal.h"

#include <stdlib.h>

static const char *str(const char *s) { return s ? s : "?"; }

/* ---------------------------------------------------------------- units */

static int check_unit(const SngPlanCtx *c, const SngPlan *p, int i, int32_t *runner) {
  const SngPlanUnit *u = &p->units[i];
  const SngPlanCluster *cl = &p->cluster;
  int w = u->kind == SNG_UNIT_WORKER;
  if (u->rank >= p->nranks)
    return sng_plan_bad(c, "unit %d: rank %d out of range (the plan has %d ranks)", i, u->rank,
                        p->nranks);
  int32_t groups = w ? cl->worker_groups : cl->server_groups;
  int32_t per = w ? cl->workers_per_group : cl->servers_per_group;
  if (u->group >= groups || u->index >= per)
    return sng_plan_bad(c, "unit %d: %s %d of group %d, but the cluster has %d groups of %d %ss",
                        i, w ? "worker" : "server", u->index, u->group, groups, per,
                        w ? "worker" : "server");
  if (!w) {
    if (u->graph != -1)
      return sng_plan_bad(c, "unit %d: a server unit with graph %d (must be -1)", i, u->graph);
    return SNG_OK;
  }
  if (u->graph < 0 || u->graph >= p->ngraphs)
    return sng_plan_bad(c, "unit %d: graph index %d out of range (the plan has %d graphs)", i,
                        u->graph, p->ngraphs);
  if (runner[u->graph] >= 0)
    return sng_plan_bad(c, "unit %d: graph %d is already run by unit %d (one worker per graph)",
                        i, u->graph, runner[u->graph]);
  runner[u->graph] = i;
  return SNG_OK;
}

int sng_plan_check_units(const SngPlanCtx *c, const SngPlan *p) {
  const SngPlanCluster *cl = &p->cluster;
  int32_t *runner = sng_alloc((size_t)p->ngraphs * sizeof *runner);   /* graph -> its unit */
  int rc = SNG_EFORMAT;
  for (int i = 0; i < p->ngraphs; i++) runner[i] = -1;
  int64_t workers = 0;
  for (int i = 0; i < p->nunits; i++) {
    if (check_unit(c, p, i, runner)) goto done;
    workers += p->units[i].kind == SNG_UNIT_WORKER;
  }
  int64_t servers = p->nunits - workers;
  int64_t want_w = (int64_t)cl->worker_groups * cl->workers_per_group;
  int64_t want_s = (int64_t)cl->server_groups * cl->servers_per_group;
  if (workers != want_w || servers != want_s) {
    sng_plan_bad(c, "cluster: %lld worker and %lld server units, but %d x %d workers and %d x %d "
                 "servers", (long long)workers, (long long)servers, cl->worker_groups,
                 cl->workers_per_group, cl->server_groups, cl->servers_per_group);
    goto done;
  }
  for (int g = 0; g < p->ngraphs; g++) {
    if (runner[g] < 0) {
      sng_plan_bad(c, "graph %d is run by no worker unit", g);
      goto done;
    }
    const SngPlanUnit *u = &p->units[runner[g]];
    if (p->graphs[g].worker != u->index) {
      sng_plan_bad(c, "graph %d: worker %d, but unit %d runs it as worker %d of its group", g,
                   p->graphs[g].worker, runner[g], u->index);
      goto done;
    }
  }
  rc = SNG_OK;
done:
  free(runner);
  return rc;
}

/* The unit running graph g (check_units made it unique). */
static const SngPlanUnit *unit_of(const SngPlan *p, int32_t g) {
  for (int i = 0; i < p->nunits; i++)
    if (p->units[i].kind == SNG_UNIT_WORKER && p->units[i].graph == g) return &p->units[i];
  SNG_ASSERT(!"every graph has a unit");
  return NULL;
}

/* ---------------------------------------------------------------- bridges */

typedef struct End { int64_t channel; int32_t graph, op; } End;

static int by_channel(const void *a, const void *b) {
  const End *x = a, *y = b;
  if (x->channel != y->channel) return x->channel < y->channel ? -1 : 1;
  if (x->graph != y->graph) return x->graph < y->graph ? -1 : 1;
  return (x->op > y->op) - (x->op < y->op);
}

static const SngPlanOp *op_of(const SngPlan *p, const End *e) {
  return &p->graphs[e->graph].ops[e->op];
}
static bool sends(const SngPlan *p, const End *e) { return op_of(p, e)->nin == 1; }

/* The elements a bridge end moves: its input when it sends, its output when it receives. */
static int64_t moved(const SngPlan *p, const End *e) {
  const SngPlanOp *o = op_of(p, e);
  const SngPlanTensor *t = &p->graphs[e->graph].tensors[o->nin ? o->in[0] : o->out[0]];
  return sng_plan_numel(t->rank, t->dims);
}

/* Channel ch is used by exactly the two ends s (send) and r (receive). */
static int check_pair(const SngPlanCtx *c, const SngPlan *p, const End *s, const End *r) {
  long long ch = (long long)s->channel;
  const SngPlanGraph *sg = &p->graphs[s->graph], *rg = &p->graphs[r->graph];
  if (s->graph == r->graph)
    return sng_plan_bad(c, "bridge channel %lld: graph %d both sends and receives it", ch, s->graph);
  if (op_of(p, s)->iattr[1] != rg->worker || op_of(p, r)->iattr[1] != sg->worker)
    return sng_plan_bad(c, "bridge channel %lld: graph %d (worker %d) sends to worker %lld, and "
                        "graph %d (worker %d) receives from worker %lld", ch, s->graph, sg->worker,
                        (long long)op_of(p, s)->iattr[1], r->graph, rg->worker,
                        (long long)op_of(p, r)->iattr[1]);
  int32_t a = unit_of(p, s->graph)->group, b = unit_of(p, r->graph)->group;
  if (a != b)
    return sng_plan_bad(c, "bridge channel %lld: graph %d is in worker group %d, graph %d in %d",
                        ch, s->graph, a, r->graph, b);
  if (moved(p, s) != moved(p, r))
    return sng_plan_bad(c, "bridge channel %lld: graph %d op %d (%s) sends %lld elements, graph %d "
                        "op %d (%s) receives %lld", ch, s->graph, s->op, str(op_of(p, s)->name),
                        (long long)moved(p, s), r->graph, r->op, str(op_of(p, r)->name),
                        (long long)moved(p, r));
  return SNG_OK;
}

/* Sorted by channel, each run of ends must be one send and one receive. */
static int check_runs(const SngPlanCtx *c, const SngPlan *p, const End *e, size_t n) {
  for (size_t i = 0, j; i < n; i = j) {
    for (j = i + 1; j < n && e[j].channel == e[i].channel; j++) {}
    long long ch = (long long)e[i].channel;
    const SngPlanOp *o = op_of(p, &e[i]);
    if (j - i == 1)
      return sng_plan_bad(c, "bridge channel %lld: graph %d op %d (%s) %s, but no op %s", ch,
                          e[i].graph, e[i].op, str(o->name), sends(p, &e[i]) ? "sends" : "receives",
                          sends(p, &e[i]) ? "receives" : "sends");
    if (j - i > 2)
      return sng_plan_bad(c, "bridge channel %lld: used by %zu ops (must be one send and one "
                          "receive)", ch, j - i);
    if (sends(p, &e[i]) == sends(p, &e[i + 1]))
      return sng_plan_bad(c, "bridge channel %lld: graph %d op %d and graph %d op %d both %s", ch,
                          e[i].graph, e[i].op, e[i + 1].graph, e[i + 1].op,
                          sends(p, &e[i]) ? "send" : "receive");
    const End *s = sends(p, &e[i]) ? &e[i] : &e[i + 1];
    const End *r = s == &e[i] ? &e[i + 1] : &e[i];
    if (check_pair(c, p, s, r)) return SNG_EFORMAT;
  }
  return SNG_OK;
}

int sng_plan_check_bridges(const SngPlanCtx *c, const SngPlan *p) {
  size_t n = 0;
  for (int g = 0; g < p->ngraphs; g++)
    for (int i = 0; i < p->graphs[g].nops; i++) n += p->graphs[g].ops[i].op == SNG_OP_BRIDGE;
  End *e = sng_alloc(n * sizeof *e);
  size_t k = 0;
  for (int g = 0; g < p->ngraphs; g++)
    for (int i = 0; i < p->graphs[g].nops; i++)
      if (p->graphs[g].ops[i].op == SNG_OP_BRIDGE)
        e[k++] = (End){p->graphs[g].ops[i].iattr[0], g, i};
  qsort(e, n, sizeof *e, by_channel);
  int rc = check_runs(c, p, e, n);
  free(e);
  return rc;
}

/* ---------------------------------------------------------------- slices */

/* Param q's slices ended at element next: the rest of it must not be missing. */
static int check_covered(const SngPlanCtx *c, const SngPlan *p, int32_t q, int64_t next) {
  int64_t n = sng_plan_numel(p->params[q].rank, p->params[q].dims);
  if (next != n)
    return sng_plan_bad(c, "param %d (%s): elements [%lld, %lld) are in no slice", q,
                        str(p->params[q].name), (long long)next, (long long)n);
  return SNG_OK;
}

int sng_plan_check_slices(const SngPlanCtx *c, const SngPlan *p) {
  int32_t cur = 0;     /* the param being tiled */
  int64_t next = 0;    /* where its next slice must start */
  for (int i = 0; i < p->nslices; i++) {
    const SngPlanSlice *s = &p->slices[i];
    if (s->param >= p->nparams)
      return sng_plan_bad(c, "slice %d: param index %d out of range (the plan has %d params)", i,
                          s->param, p->nparams);
    char what[160];
    snprintf(what, sizeof what, "slice %d (%s)", i, str(p->params[s->param].name));
    if (s->server >= p->nunits || p->units[s->server].kind != SNG_UNIT_SERVER)
      return sng_plan_bad(c, "%s: server %d is not a server unit", what, s->server);
    if (s->param < cur)
      return sng_plan_bad(c, "%s: comes after the slices of param %d (slices must be in param "
                          "order)", what, cur);
    for (; cur < s->param; cur++, next = 0)
      if (check_covered(c, p, cur, next)) return SNG_EFORMAT;
    long long end = sng_plan_end(s->offset, s->len);
    if (s->offset < next)
      return sng_plan_bad(c, "%s: [%lld, %lld) overlaps the slice before it, which ends at %lld",
                          what, (long long)s->offset, end, (long long)next);
    if (s->offset > next)
      return sng_plan_bad(c, "%s: starts at %lld, so elements [%lld, %lld) are in no slice", what,
                          (long long)s->offset, (long long)next, (long long)s->offset);
    int64_t n = sng_plan_numel(p->params[cur].rank, p->params[cur].dims);
    if (s->len > n - s->offset)
      return sng_plan_bad(c, "%s: [%lld, %lld) runs past the end of the param (%lld elements)",
                          what, (long long)s->offset, end, (long long)n);
    next = s->offset + s->len;
  }
  for (; cur < p->nparams; cur++, next = 0)
    if (check_covered(c, p, cur, next)) return SNG_EFORMAT;
  return SNG_OK;
}
