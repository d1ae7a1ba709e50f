/* dist.c - whole-plan checks of the cluster: units and slices on servers (bridges: bridges.c).
 *
 * These relate records across the plan rather than inside one graph: the units must be the
 * cluster's workers and servers with each graph run by exactly one worker, every bridge
 * channel must have exactly one send and one receive between two workers of one group that
 * name each other as peers and agree on the size (bridges.c), and the slices of each parameter
 * must tile it exactly, in order, each held by a server.  The units are checked before the graphs
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
  int64_t at = (int64_t)u->group * p->ngraphs + u->graph;   /* each group runs every graph once */
  if (runner[at] >= 0)
    return sng_plan_bad(c, "unit %d: graph %d is already run by unit %d of worker group %d (one "
                        "worker per graph in a group)", i, u->graph, runner[at], u->group);
  runner[at] = i;
  return SNG_OK;
}

/* The framework against the groups (runtime.md "Frameworks"): one group is synchronous;
 * several share one server group (downpour) or have one each (hogwild, which alone exchanges
 * every sync_every steps). */
static int check_framework(const SngPlanCtx *c, const SngPlanCluster *cl) {
  int fw = cl->framework, wg = cl->worker_groups, sg = cl->server_groups;
  int ok = fw == SNG_FW_DOWNPOUR ? wg > 1 && sg == 1
           : fw == SNG_FW_HOGWILD ? wg > 1 && sg == wg && cl->sync_every >= 1
                                  : wg == 1 && sg == 1;
  if (fw != SNG_FW_HOGWILD && cl->sync_every)
    return sng_plan_bad(c, "cluster: sync_every %d, but only hogwild exchanges parameters", cl->sync_every);
  if (!ok)
    return sng_plan_bad(c, "cluster: framework %s does not fit %d worker groups and %d server "
                        "groups (sync_every %d)", sng_plan_framework_name(fw), wg, sg,
                        cl->sync_every);
  return SNG_OK;
}

int sng_plan_check_units(const SngPlanCtx *c, const SngPlan *p) {
  const SngPlanCluster *cl = &p->cluster;
  if (check_framework(c, cl)) return SNG_EFORMAT;
  int64_t workers = 0;
  for (int i = 0; i < p->nunits; i++) workers += p->units[i].kind == SNG_UNIT_WORKER;
  int64_t servers = p->nunits - workers;
  int64_t want_w = (int64_t)cl->worker_groups * cl->workers_per_group;
  int64_t want_s = (int64_t)cl->server_groups * cl->servers_per_group;
  if (workers != want_w || servers != want_s)
    return sng_plan_bad(c, "cluster: %lld worker and %lld server units, but %d x %d workers and %d x %d "
                        "servers", (long long)workers, (long long)servers, cl->worker_groups,
                        cl->workers_per_group, cl->server_groups, cl->servers_per_group);
  /* (group, graph) -> its unit; worker_groups <= the units, so this is linear in the plan */
  int64_t nrun = (int64_t)cl->worker_groups * p->ngraphs;
  int32_t *runner = sng_alloc((size_t)(nrun + 1) * sizeof *runner);
  int rc = SNG_EFORMAT;
  for (int64_t i = 0; i < nrun; i++) runner[i] = -1;
  for (int i = 0; i < p->nunits; i++)
    if (check_unit(c, p, i, runner)) goto done;
  for (int64_t r = 0; r < nrun; r++) {
    int g = (int)(r % p->ngraphs);
    if (runner[r] < 0) {
      sng_plan_bad(c, "graph %d is run by no worker unit of worker group %lld", g, (long long)(r / p->ngraphs));
      goto done;
    }
    const SngPlanUnit *u = &p->units[runner[r]];
    if (p->graphs[g].worker != u->index) {
      sng_plan_bad(c, "graph %d: worker %d, but unit %d runs it as worker %d of its group", g,
                   p->graphs[g].worker, runner[r], u->index);
      goto done;
    }
  }
  rc = SNG_OK;
done:
  free(runner);
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
    if (p->units[s->server].group != 0) /* other server groups hold the slice at the same index */
      return sng_plan_bad(c, "%s: server unit %d is in server group %d (slices name server group 0)", what,
                          s->server, p->units[s->server].group);
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
