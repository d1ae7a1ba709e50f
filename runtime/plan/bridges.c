/* bridges.c - whole-plan checks of the bridges: the sends and receives that move tensors
 * between the workers of a group inside a step.
 *
 * The transport (runtime/comm) gives each channel one buffer, sized by its send, and a
 * receive blocks until its send has run.  So every channel must be below the number of
 * bridge ops (the transport allocates one buffer per channel number), have exactly one send
 * and one receive, in two graphs of one worker group that name each other as peers, moving
 * the same number of elements, in the same phase; and the order in which each worker runs its
 * bridge ops must not deadlock.  The last is decided by running the bridge ops of every
 * graph, in program order, as the workers would, for each mode (training, tests): a worker
 * advances over its sends and over receives whose send has run, and parks on the first other
 * receive until that send runs.  If some worker is still parked at the end, the orders
 * deadlock.  Sorting the ends by channel and the one simulation keep it O(B log B) for B ops.
 */
#include "internal.h"

#include <stdlib.h>

static const char *str(const char *s) { return s ? s : "?"; }

typedef struct End { int64_t channel; int32_t graph, op; } End;

typedef struct Bridges {
  const SngPlan *p;
  End *e;                 /* every bridge op, sorted by channel (then graph, op) */
  size_t n;
  int32_t *unit;          /* graph -> the unit running it */
  End *send;              /* channel -> its send */
} Bridges;

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
static int check_pair(const SngPlanCtx *c, const Bridges *b, const End *s, const End *r) {
  const SngPlan *p = b->p;
  long long ch = (long long)s->channel;
  const SngPlanGraph *sg = &p->graphs[s->graph], *rg = &p->graphs[r->graph];
  const SngPlanOp *so = op_of(p, s), *ro = op_of(p, r);
  if (s->graph == r->graph)
    return sng_plan_bad(c, "bridge channel %lld: graph %d both sends and receives it", ch, s->graph);
  if (so->iattr[1] != rg->worker || ro->iattr[1] != sg->worker)
    return sng_plan_bad(c, "bridge channel %lld: graph %d (worker %d) sends to worker %lld, and "
                        "graph %d (worker %d) receives from worker %lld", ch, s->graph, sg->worker,
                        (long long)so->iattr[1], r->graph, rg->worker, (long long)ro->iattr[1]);
  int32_t ga = p->units[b->unit[s->graph]].group, gb = p->units[b->unit[r->graph]].group;
  if (ga != gb)
    return sng_plan_bad(c, "bridge channel %lld: graph %d is in worker group %d, graph %d in %d",
                        ch, s->graph, ga, r->graph, gb);
  if (moved(p, s) != moved(p, r))
    return sng_plan_bad(c, "bridge channel %lld: graph %d op %d (%s) sends %lld elements, graph %d "
                        "op %d (%s) receives %lld", ch, s->graph, s->op, str(so->name),
                        (long long)moved(p, s), r->graph, r->op, str(ro->name),
                        (long long)moved(p, r));
  if (so->phase != ro->phase)
    return sng_plan_bad(c, "bridge channel %lld: graph %d op %d (%s) sends in phase %d, graph %d "
                        "op %d (%s) receives in phase %d (both ends must run in the same phase)",
                        ch, s->graph, s->op, str(so->name), so->phase, r->graph, r->op,
                        str(ro->name), ro->phase);
  return SNG_OK;
}

/* Sorted by channel, each run of ends must be one send and one receive. */
static int check_runs(const SngPlanCtx *c, Bridges *b) {
  const SngPlan *p = b->p;
  const End *e = b->e;
  for (size_t i = 0, j; i < b->n; i = j) {
    for (j = i + 1; j < b->n && e[j].channel == e[i].channel; j++) {}
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
    if (check_pair(c, b, s, r)) return SNG_EFORMAT;
    b->send[s->channel] = *s;
  }
  return SNG_OK;
}

/* ---------------------------------------------------------------- the order */

static bool runs_in(int32_t phase, int mode) {
  return mode ? phase != SNG_PHASE_FWD_TEST   /* training */
              : phase == SNG_PHASE_FWD_ALL || phase == SNG_PHASE_FWD_TEST;
}

/* Runs the bridge ops of every graph in mode; at (graph -> next bridge op index into its ops). */
static int check_order(const SngPlanCtx *c, const Bridges *b, int mode) {
  const SngPlan *p = b->p;
  int32_t *at = sng_calloc((size_t)p->ngraphs + 1, sizeof *at);       /* next op to look at */
  int32_t *todo = sng_alloc(((size_t)p->ngraphs + 1) * sizeof *todo);
  int32_t *waiting = sng_alloc((b->n + 1) * sizeof *waiting);       /* channel -> parked graph */
  char *sent = sng_calloc(b->n + 1, 1);
  int ntodo = 0, rc = SNG_OK;
  for (size_t k = 0; k < b->n; k++) waiting[k] = -1;
  for (int g = 0; g < p->ngraphs; g++) todo[ntodo++] = g;
  while (ntodo) {
    int32_t g = todo[--ntodo];
    const SngPlanGraph *pg = &p->graphs[g];
    for (; at[g] < pg->nops; at[g]++) {
      const SngPlanOp *o = &pg->ops[at[g]];
      if (o->op != SNG_OP_BRIDGE || !runs_in(o->phase, mode)) continue;
      int64_t ch = o->iattr[0];
      if (o->nin) {
        sent[ch] = 1;
        if (waiting[ch] >= 0) todo[ntodo++] = waiting[ch], waiting[ch] = -1;
      } else if (!sent[ch]) {
        waiting[ch] = g;
        break;
      }
    }
  }
  for (int g = 0; g < p->ngraphs && !rc; g++) {
    if (at[g] >= p->graphs[g].nops) continue;
    const SngPlanOp *o = &p->graphs[g].ops[at[g]];
    const End *s = &b->send[o->iattr[0]];
    int32_t h = s->graph;   /* parked too: a graph that finished has run all its sends */
    const SngPlanOp *ho = &p->graphs[h].ops[at[h]];
    rc = sng_plan_bad(c, "bridges deadlock in %s: graph %d op %d (%s) waits to receive channel "
                      "%lld, which graph %d sends at op %d (%s), but graph %d waits first at op "
                      "%d (%s) to receive channel %lld", mode ? "training" : "tests", g, at[g],
                      str(o->name), (long long)o->iattr[0], h, s->op, str(op_of(p, s)->name), h,
                      at[h], str(ho->name), (long long)ho->iattr[0]);
  }
  free(at), free(todo), free(waiting), free(sent);
  return rc;
}

int sng_plan_check_bridges(const SngPlanCtx *c, const SngPlan *p) {
  Bridges b = {p, NULL, 0, NULL, NULL};
  for (int g = 0; g < p->ngraphs; g++)
    for (int i = 0; i < p->graphs[g].nops; i++) b.n += p->graphs[g].ops[i].op == SNG_OP_BRIDGE;
  b.e = sng_alloc((b.n + 1) * sizeof *b.e);
  b.unit = sng_alloc(((size_t)p->ngraphs + 1) * sizeof *b.unit);
  b.send = sng_alloc((b.n + 1) * sizeof *b.send);
  for (int u = 0; u < p->nunits; u++)   /* check_units made each graph's worker unit unique */
    if (p->units[u].kind == SNG_UNIT_WORKER) b.unit[p->units[u].graph] = u;
  int rc = SNG_OK;
  size_t k = 0;
  for (int g = 0; g < p->ngraphs && !rc; g++)
    for (int i = 0; i < p->graphs[g].nops && !rc; i++) {
      const SngPlanOp *o = &p->graphs[g].ops[i];
      if (o->op != SNG_OP_BRIDGE) continue;
      if (o->iattr[0] >= (int64_t)b.n)
        rc = sng_plan_bad(c, "graph %d op %d (%s): bridge channel %lld (channels are numbered "
                          "below the plan's %zu bridge ops)", g, i, str(o->name),
                          (long long)o->iattr[0], b.n);
      b.e[k++] = (End){o->iattr[0], g, i};
    }
  if (!rc) {
    qsort(b.e, b.n, sizeof *b.e, by_channel);
    rc = check_runs(c, &b);
  }
  if (!rc) rc = check_order(c, &b, 1) || check_order(c, &b, 0) ? SNG_EFORMAT : SNG_OK;
  free(b.e), free(b.unit), free(b.send);
  return rc;
}
