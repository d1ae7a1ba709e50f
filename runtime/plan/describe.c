/* describe.c - the human summary printed by singa-exec --describe.
 *
 * Meant to answer "what will this plan do" without a debugger: the cluster and where each
 * unit runs, what each worker's graph holds and sends to the others, which fused kernels
 * exist, how the parameters are cut into slices over the servers, and the data, updater and
 * training settings.  Records made of plain fields (units, kernels, params, data, updater,
 * train, cluster) are printed from the field list as "member value, ..." so a new field shows
 * up without code here; graphs and slices get summaries of their own.  It only reads the plan,
 * so it works on any plan that decoded (validated), and tolerates NULL strings and bad indices.
 */
#include "internal.h"

#include <string.h>

static const char *str(const char *s) { return s ? s : "-"; }
static double mib(double bytes) { return bytes / (1024.0 * 1024.0); }

/* unsigned: a plan is described as it is, and a sum of huge shapes must not be UB */
static uint64_t numel(int32_t rank, const int64_t *dims) {
  uint64_t n = 1;
  for (int i = 0; i < rank && i < 4; i++) n *= (uint64_t)dims[i];
  return n;
}

/* ---------------------------------------------------------------- plain fields */

static const SngPlanField *field(const SngPlanRec *rec, const char *name) {
  for (int i = 0; i < rec->nfields; i++)
    if (!strcmp(rec->fields[i].name, name)) return &rec->fields[i];
  SNG_ASSERT(!"a field of the record");
  return NULL;
}

static const char *enum_name(const SngPlanField *f, int64_t v) {
  return v >= 0 && v < f->nnames && f->names[v] ? f->names[v] : "?";
}

static void put_elem(FILE *out, const SngPlanField *f, const void *obj, int k) {
  const char *p = sng_plan_field_ptr(f, obj);
  uint64_t u;
  double d;
  const char *s;
  switch (f->type) {
  case FT_I32: case FT_U32: case FT_I64: {
    int64_t v = sng_plan_field_int(f, obj, k);
    if (f->names) fputs(enum_name(f, v), out);
    else fprintf(out, "%lld", (long long)v);
    break;
  }
  case FT_U64: memcpy(&u, p + 8 * k, 8); fprintf(out, "%llu", (unsigned long long)u); break;
  case FT_F64: memcpy(&d, p + 8 * k, 8); fprintf(out, "%g", d); break;
  case FT_STR: memcpy(&s, p + k * sizeof s, sizeof s); fputs(str(s), out); break;
  case FT_BLOB: fprintf(out, "%lld bytes", (long long)sng_plan_field_used(f, obj)); break;
  case FT_I32V: {
    const int32_t *v;
    memcpy(&v, p, sizeof v);
    fputc('[', out);
    for (int64_t i = 0; i < sng_plan_field_used(f, obj); i++)
      fprintf(out, "%s%d", i ? ", " : "", v[i]);
    fputc(']', out);
    break;
  }
  default: break;
  }
}

/* Is f the USED count of another field (a rank printed as the length of its dims)? */
static bool is_count(const SngPlanRec *rec, const SngPlanField *f) {
  for (int i = 0; i < rec->nfields; i++)
    if (rec->fields[i].len == LEN_USED && rec->fields[i].len_at == f->at) return true;
  return false;
}

/* "member value, member [a, b], ..." for the plain fields of a record. */
static void print_fields(FILE *out, const SngPlanRec *rec, const void *obj) {
  int first = 1;
  for (int i = 0; i < rec->nfields; i++) {
    const SngPlanField *f = &rec->fields[i];
    if (f->type == FT_LIST || f->type == FT_REC || is_count(rec, f)) continue;
    fprintf(out, "%s%s ", first ? "" : ", ", f->name);
    first = 0;
    int cap = sng_plan_field_cap(f);
    if (cap == 1) {
      put_elem(out, f, obj, 0);
      continue;
    }
    fputc('[', out);
    for (int k = 0; k < sng_plan_field_used(f, obj); k++) {
      if (k) fputs(", ", out);
      put_elem(out, f, obj, k);
    }
    fputc(']', out);
  }
}

static void print_line(FILE *out, const char *label, const SngPlanRec *rec, const void *obj) {
  fprintf(out, "%-10s", label);
  print_fields(out, rec, obj);
  fputc('\n', out);
}

/* ---------------------------------------------------------------- units and graphs */

static void describe_units(FILE *out, const SngPlan *p) {
  int workers = 0;
  for (int i = 0; i < p->nunits; i++) workers += p->units[i].kind == SNG_UNIT_WORKER;
  fprintf(out, "units:    %d (%d workers, %d servers)\n", p->nunits, workers, p->nunits - workers);
  for (int i = 0; i < p->nunits; i++) {
    fprintf(out, "  unit %d: ", i);
    print_fields(out, &sng_plan_rec_unit, &p->units[i]);
    fputc('\n', out);
  }
}

static int unit_of(const SngPlan *p, int g) {
  for (int i = 0; i < p->nunits; i++)
    if (p->units[i].kind == SNG_UNIT_WORKER && p->units[i].graph == g) return i;
  return -1;
}

/* counts[i] of names[i], as "name xN, ..." */
static void print_counts(FILE *out, const char *label, const int *counts, const SngPlanField *f) {
  fprintf(out, "  %s:", label);
  for (int k = 0, first = 1; k < f->nnames; k++)
    if (counts[k]) {
      fprintf(out, "%s %s x%d", first ? "" : ",", enum_name(f, k), counts[k]);
      first = 0;
    }
  fputc('\n', out);
}

/* Per peer worker: how many bridges go each way and how many bytes they carry per step. */
static void describe_bridges(FILE *out, const SngPlan *p, const SngPlanGraph *g) {
  for (int64_t peer = 0; peer < p->cluster.workers_per_group; peer++) {
    uint64_t n[2] = {0, 0}, bytes[2] = {0, 0};   /* [0] sent, [1] received */
    for (int i = 0; i < g->nops; i++) {
      const SngPlanOp *o = &g->ops[i];
      if (o->op != SNG_OP_BRIDGE || o->iattr[1] != peer) continue;
      int recv = o->nin == 0;
      int32_t t = recv ? (o->nout ? o->out[0] : -1) : o->in[0];
      if (t < 0 || t >= g->ntensors) continue;
      n[recv]++;
      bytes[recv] += numel(g->tensors[t].rank, g->tensors[t].dims) * 4;
    }
    if (n[0] || n[1])
      fprintf(out, "  bridges with worker %lld: sends %llu (%llu bytes), receives %llu (%llu bytes)\n",
              (long long)peer, (unsigned long long)n[0], (unsigned long long)bytes[0],
              (unsigned long long)n[1], (unsigned long long)bytes[1]);
  }
}

static void describe_tensor_ref(FILE *out, const char *what, const SngPlanGraph *g, int32_t t) {
  if (t >= 0 && t < g->ntensors)
    fprintf(out, "%s: tensor %d (%s)", what, t, str(g->tensors[t].name));
  else
    fprintf(out, "%s: none", what);
}

static void describe_graph(FILE *out, const SngPlan *p, int gi) {
  const SngPlanGraph *g = &p->graphs[gi];
  const SngPlanField *kind = field(&sng_plan_rec_tensor, "kind");
  const SngPlanField *code = field(&sng_plan_rec_op, "op");
  int kinds[SNG_TENSOR__COUNT] = {0}, ops[SNG_OP__COUNT] = {0}, bwd = 0;
  for (int i = 0; i < g->ntensors; i++) {
    int32_t k = g->tensors[i].kind;
    if (k >= 0 && k < SNG_TENSOR__COUNT) kinds[k]++;
  }
  for (int i = 0; i < g->nops; i++) {
    if (g->ops[i].op >= 0 && g->ops[i].op < SNG_OP__COUNT) ops[g->ops[i].op]++;
    bwd += g->ops[i].phase == SNG_PHASE_BACKWARD;
  }
  fprintf(out, "graph %d: worker %d (unit %d), %d tensors, %d ops (%d forward, %d backward), "
          "arena %.2f MiB (%lld bytes), batch %lld\n", gi, g->worker, unit_of(p, gi), g->ntensors,
          g->nops, g->nops - bwd, bwd, mib((double)g->arena_bytes), (long long)g->arena_bytes,
          (long long)g->batch);
  print_counts(out, "tensors", kinds, kind);
  print_counts(out, "ops", ops, code);
  describe_tensor_ref(out, "  loss", g, g->loss);
  describe_tensor_ref(out, ", metric", g, g->metric);
  fputc('\n', out);
  describe_bridges(out, p, g);
}

/* ---------------------------------------------------------------- kernels, params, slices */

static void describe_kernels(FILE *out, const SngPlan *p) {
  size_t total = 0;
  for (int i = 0; i < p->nkernels; i++) total += p->kernels[i].bitcode_len;
  fprintf(out, "kernels:  %d (%zu bytes of bitcode)\n", p->nkernels, total);
  for (int i = 0; i < p->nkernels; i++) {
    fprintf(out, "  kernel %d: ", i);
    print_fields(out, &sng_plan_rec_kernel, &p->kernels[i]);
    fputc('\n', out);
  }
}

static void describe_params(FILE *out, const SngPlan *p) {
  uint64_t total = 0;
  for (int i = 0; i < p->nparams; i++) total += numel(p->params[i].rank, p->params[i].dims);
  fprintf(out, "params:   %d (%llu values, %.2f MiB)\n", p->nparams, (unsigned long long)total,
          mib((double)total * 4));
  for (int i = 0; i < p->nparams; i++) {
    fprintf(out, "  param %d: ", i);
    print_fields(out, &sng_plan_rec_param, &p->params[i]);
    uint64_t n = numel(p->params[i].rank, p->params[i].dims);
    fprintf(out, " (%llu values)\n", (unsigned long long)n);
  }
}

static void describe_slices(FILE *out, const SngPlan *p) {
  fprintf(out, "slices:   %d\n", p->nslices);
  for (int i = 0; i < p->nslices; i++) {
    const SngPlanSlice *s = &p->slices[i];
    const char *name = s->param >= 0 && s->param < p->nparams ? p->params[s->param].name : NULL;
    fprintf(out, "  slice %d: %s offset %lld len %lld, server unit %d\n", i, str(name),
            (long long)s->offset, (long long)s->len, s->server);
  }
  for (int u = 0; u < p->nunits; u++) {
    if (p->units[u].kind != SNG_UNIT_SERVER) continue;
    uint64_t values = 0;
    int n = 0;
    for (int i = 0; i < p->nslices; i++)
      if (p->slices[i].server == u) {
        n++;
        values += (uint64_t)p->slices[i].len;
      }
    fprintf(out, "  server unit %d: %d slice%s, %llu bytes\n", u, n, n == 1 ? "" : "s",
            (unsigned long long)values * 4);
  }
}

void sng_plan_describe(FILE *out, const SngPlan *p) {
  fprintf(out, "source:   %s\n", str(p->source));
  fprintf(out, "format:   singa plan version %u\n", p->version);
  fprintf(out, "ranks:    %d\n", p->nranks);
  print_line(out, "cluster:", &sng_plan_rec_cluster, &p->cluster);
  describe_units(out, p);
  for (int i = 0; i < p->ngraphs; i++) describe_graph(out, p, i);
  describe_kernels(out, p);
  describe_params(out, p);
  describe_slices(out, p);
  print_line(out, "data:", &sng_plan_rec_data, &p->data);
  print_line(out, "updater:", &sng_plan_rec_updater, &p->updater);
  print_line(out, "train:", &sng_plan_rec_train, &p->train);
}
