/* lower.c - IR -> SngPlan: tensors, ops in execution order, kernels as LLVM bitcode,
 * parameters with their owners, placement, and the settings.
 *
 * Execution order is node order, except that a fused kernel runs once, where its last
 * member stood.  An op's phase tells the runtime whether it belongs to the forward pass
 * (run for testing too) or only to training; a kernel takes the earliest phase of its
 * members, so the softmax row kernel (loss + gradient) runs in tests as well.
 */
#include "sng_lower.h"
#include "sng_cg.h"

#include <stdlib.h>
#include <string.h>

typedef struct Lower {
  SngPlan *p;
  const SngIrGraph *g;
  int32_t *tid;        /* IR node id -> tensor index in its worker's graph, -1 */
  int32_t *pid;        /* IR node id of a whole parameter -> param index, -1 */
  int *room;           /* per worker: tensors and ops its plan graph has room for */
} Lower;

static int32_t phase_of(SngPhase ph) {
  return ph == SNG_PHASE_FWD ? SNG_PHASE_FWD_ALL : ph == SNG_PHASE_FWDT ? SNG_PHASE_FWD_TRAIN : SNG_PHASE_BACKWARD;
}

static int32_t tensor_of(Lower *l, SngIrNode *n) {
  if (l->tid[n->id] >= 0) return l->tid[n->id];
  SngPlanGraph *pg = &l->p->graphs[n->worker];
  SNG_ASSERT(pg->ntensors < l->room[n->worker]);
  SngPlanTensor *t = &pg->tensors[pg->ntensors];
  t->name = sng_arena_strdup(l->p->arena, n->name ? n->name : sng_arena_printf(l->p->arena, "%%%u", n->id));
  t->rank = n->shape.rank;
  for (int i = 0; i < n->shape.rank; i++) t->dims[i] = n->shape.d[i];
  t->offset = n->offset;
  t->param = -1;
  t->kind = SNG_TENSOR_TEMP;
  if (n->op == SNG_OP_PARAM) {
    t->kind = SNG_TENSOR_PARAM, t->param = l->pid[n->attr.param.whole->id], t->offset = -1;
    memcpy(t->start, n->at, sizeof t->start);
  } else if (n->op == SNG_OP_INPUT) {
    t->kind = SNG_TENSOR_INPUT, t->param = n->attr.input.slot;
    memcpy(t->start, n->at, sizeof t->start);
  } else if (n->op == SNG_OP_BRIDGE) t->kind = SNG_TENSOR_BRIDGE;
  return l->tid[n->id] = pg->ntensors++;
}

static SngPlanOp *new_op(Lower *l, int worker, int nin, int nout) {
  SngPlanGraph *pg = &l->p->graphs[worker];
  SNG_ASSERT(pg->nops < l->room[worker]);
  SngPlanOp *o = &pg->ops[pg->nops++];
  SngArena *a = l->p->arena;
  o->kernel = -1;
  o->nin = nin, o->nout = nout;
  o->in = sng_arena_alloc(a, sizeof(int32_t) * (size_t)(nin + 1));
  o->out = sng_arena_alloc(a, sizeof(int32_t) * (size_t)(nout + 1));
  return o;
}

static void add_kernel_op(Lower *l, SngIrKernel *k, int32_t kernel) {
  SngPlanOp *o = new_op(l, (int)k->members[0]->worker, k->ninputs, k->nbufs - k->ninputs);
  o->op = SNG_OP_KERNEL;
  o->kernel = kernel;
  for (int i = 0; i < o->nin; i++) o->in[i] = tensor_of(l, k->bufs[i]);
  for (int i = 0; i < o->nout; i++) o->out[i] = tensor_of(l, k->bufs[k->ninputs + i]);
  SngPhase ph = SNG_PHASE_BWD;
  for (int i = 0; i < k->nmembers; i++)
    if (k->members[i]->phase < ph) ph = k->members[i]->phase;
  o->phase = phase_of(ph);
  int64_t space = sng_shape_numel(k->space);
  o->rows = k->space.rank >= 2 ? k->space.d[0] : 1;
  o->cols = space / o->rows;
  o->name = l->p->kernels[kernel].members;
}

/* Per-op attributes into the plan's generic slots (sng_plan.h says which op uses which). */
static void put_attrs(SngPlanOp *o, const SngIrNode *n) {
  const SngAttr *a = &n->attr;
  if (n->op == SNG_OP_MATMUL) o->iattr[0] = a->matmul.trans_a, o->iattr[1] = a->matmul.trans_b;
  else if (n->op == SNG_OP_SLICE || n->op == SNG_OP_PAD) memcpy(o->iattr, a->slice.start, sizeof a->slice.start);
  else if (n->op == SNG_OP_CONCAT) o->iattr[0] = a->concat.dim;
  else if (n->op == SNG_OP_SOFTMAX_XENT_BWD) o->fattr[0] = a->loss.scale;
  else if (sng_op_has(n->op, OPF_ARGS)) memcpy(o->iattr, a->args.i, sizeof a->args.i), memcpy(o->fattr, a->args.f, sizeof a->args.f);
}

static void add_op(Lower *l, SngIrNode *n, int32_t *channel) {
  SngArena *a = l->p->arena;
  if (n->op == SNG_OP_BRIDGE) { /* a pair: the send on the source's worker, the receive here */
    SngPlanOp *s = new_op(l, (int)n->attr.bridge.from, 1, 0), *r = new_op(l, (int)n->worker, 0, 1);
    s->op = r->op = SNG_OP_BRIDGE;
    s->phase = r->phase = phase_of(n->phase);
    s->in[0] = tensor_of(l, n->src[0]);
    r->out[0] = tensor_of(l, n);
    s->iattr[0] = r->iattr[0] = (*channel)++;
    s->iattr[1] = n->worker, r->iattr[1] = n->attr.bridge.from;
    s->name = r->name = sng_arena_printf(a, "bridge w%u->w%u", n->attr.bridge.from, n->worker);
    return;
  }
  SngPlanOp *o = new_op(l, (int)n->worker, n->nsrc, 1);
  o->op = n->op;
  o->phase = phase_of(n->phase);
  for (int i = 0; i < n->nsrc; i++) o->in[i] = tensor_of(l, n->src[i]);
  o->out[0] = tensor_of(l, n);
  put_attrs(o, n);
  o->name = sng_arena_strdup(a, n->name ? n->name : sng_op_info[n->op].name);
}

/* A kernel's structure: its member ops, where each source comes from (another member, a
 * buffer and how it broadcasts, a constant, a runtime scalar) and which members are
 * outputs.  Sizes are not part of it (the code takes rows and cols as arguments), so two
 * kernels with the same key are the same machine code and share one plan kernel: the two
 * bias_add+relu layers of an MLP are JIT-compiled once. */
static char *kernel_key(SngArena *a, const SngIrKernel *k) {
  SngBuf b = {0};
  SngMap mpos = {.ptr_keys = true}, bpos = {.ptr_keys = true}; /* node -> 1 + its last index */
  for (int i = 0; i < k->nmembers; i++) sng_map_put(&mpos, k->members[i], (void *)(intptr_t)(i + 1));
  for (int q = 0; q < k->nbufs; q++) sng_map_put(&bpos, k->bufs[q], (void *)(intptr_t)(q + 1));
  int64_t space = sng_shape_numel(k->space), cols = k->space.rank ? space / k->space.d[0] : 1;
  sng_buf_printf(&b, "%c%d/%d:", k->rowwise ? 'R' : 'E', k->nbufs, k->ninputs);
  for (int i = 0; i < k->nmembers; i++) {
    const SngIrNode *m = k->members[i];
    sng_buf_printf(&b, "%s(", sng_op_info[m->op].name);
    for (size_t q = 0; q < sizeof m->attr; q++) { /* attributes, whatever the op, in hex */
      unsigned char byte = ((const unsigned char *)&m->attr)[q];
      char hex[2] = {"0123456789abcdef"[byte >> 4], "0123456789abcdef"[byte & 15]};
      sng_buf_put(&b, hex, 2);
    }
    for (int j = 0; j < m->nsrc; j++) {
      const SngIrNode *s = m->src[j];
      int at = -1;
      if (s->kernel == k->id) at = (int)(intptr_t)sng_map_get(&mpos, s) - 1;
      if (at >= i) at = -1; /* only earlier members */
      if (at >= 0) sng_buf_printf(&b, ",m%d", at);
      else if (s->op == SNG_OP_CONST) sng_buf_printf(&b, ",c%.17g", s->attr.konst.value);
      else if (s->op == SNG_OP_SCALAR) sng_buf_printf(&b, ",s%d", s->attr.arg.slot);
      else {
        at = (int)(intptr_t)sng_map_get(&bpos, s) - 1;
        int64_t n = sng_shape_numel(s->shape);
        sng_buf_printf(&b, ",b%d%c", at, n == space ? 'F' : n == 1 ? 'S' : n == cols ? 'R' : '?');
      }
    }
    int out = (int)(intptr_t)sng_map_get(&bpos, m) - 1; /* outputs hold each member once */
    if (out >= k->ninputs) sng_buf_printf(&b, ">%d", out);
    sng_buf_put(&b, ")", 1);
  }
  sng_buf_put_u8(&b, 0);
  char *key = sng_arena_strdup(a, (char *)b.data);
  sng_buf_free(&b);
  sng_map_free(&mpos);
  sng_map_free(&bpos);
  return key;
}

/* keys: kernel key -> 1 + the plan kernel made for it */
static int add_kernel(SngPlan *p, SngMap *keys, SngIrKernel *k, const SngCompileOpts *opts, char *err,
                      size_t errlen) {
  const char *key = kernel_key(p->arena, k);
  intptr_t seen = (intptr_t)sng_map_get(keys, key);
  if (seen) return (int)seen - 1;
  sng_map_put(keys, key, (void *)(intptr_t)(p->nkernels + 1));
  SngPlanKernel *pk = &p->kernels[p->nkernels];
  void *bc = NULL;
  size_t len = 0;
  char *text = NULL;
  const char *sym = sng_arena_printf(p->arena, "k%d", p->nkernels);
  if (sng_cg_kernel(k, sym, &bc, &len, opts && opts->dump_kernels ? &text : NULL, err, errlen)) return -1;
  if (text) {
    fputs(text, opts->dump_kernels);
    free(text);
  }
  void *copy = sng_arena_alloc(p->arena, len);
  memcpy(copy, bc, len);
  free(bc);
  SngBuf names = {0};
  int nscalars = 0;
  for (int i = 0; i < k->nmembers; i++) {
    const char *s = sng_op_info[k->members[i]->op].name;
    if (i) sng_buf_put(&names, "+", 1);
    for (; *s; s++) sng_buf_put_u8(&names, (uint8_t)(*s >= 'A' && *s <= 'Z' ? *s + 32 : *s));
    for (int j = 0; j < k->members[i]->nsrc; j++)
      if (k->members[i]->src[j]->op == SNG_OP_SCALAR && k->members[i]->src[j]->attr.arg.slot + 1 > nscalars)
        nscalars = k->members[i]->src[j]->attr.arg.slot + 1;
  }
  sng_buf_put_u8(&names, 0);
  char *bc_letters = sng_arena_alloc(p->arena, (size_t)k->nbufs + 1);
  int64_t space = sng_shape_numel(k->space), rows = k->space.rank >= 2 ? k->space.d[0] : 1, cols = space / rows;
  for (int q = 0; q < k->nbufs; q++) {
    int64_t n = sng_shape_numel(k->bufs[q]->shape);
    bc_letters[q] = n == space ? 'F' : n == cols ? 'R' : n == 1 ? 'S' : n == rows ? 'C' : '?';
  }
  bc_letters[k->nbufs] = 0;
  *pk = (SngPlanKernel){sym, sng_arena_strdup(p->arena, (char *)names.data), k->rowwise, k->nbufs, nscalars,
                        bc_letters, copy, len};
  sng_buf_free(&names);
  return p->nkernels++;
}

SngPlan *sng_lower(SngJob *job, const SngCompileOpts *opts, char *err, size_t errlen) {
  SngPlan *p = sng_plan_new();
  SngArena *a = p->arena;
  SngIrGraph *g = job->net, *whole = job->whole ? job->whole : job->net;
  int nw = g->nworkers, ns = job->cluster.servers_per_group;
  p->version = SNG_PLAN_VERSION;
  p->source = sng_arena_strdup(a, job->source);
  p->nranks = job->processes > 1 ? job->processes : 1;
  p->cluster = job->cluster;
  /* placement: the workers first, group by group (each group runs the same graphs), then the
   * servers, server group by server group; each unit on the rank place.c gives it (several
   * groups run in one process so far: sema refuses processes with them) */
  int wg = job->cluster.worker_groups, sg = job->cluster.server_groups;
  p->nunits = wg * nw + sg * ns;
  p->units = sng_arena_alloc(a, sizeof(SngPlanUnit) * (size_t)p->nunits);
  for (int k = 0, u = 0; k < wg; k++)
    for (int w = 0; w < nw; w++, u++)
      p->units[u] = (SngPlanUnit){SNG_UNIT_WORKER, k, w, sng_pass_unit_rank(job, 1, w), u, w};
  for (int k = 0, u = wg * nw; k < sg; k++)
    for (int s = 0; s < ns; s++, u++)
      p->units[u] = (SngPlanUnit){SNG_UNIT_SERVER, k, s, sng_pass_unit_rank(job, 0, s), u, -1};
  p->kernels = sng_arena_alloc(a, sizeof(SngPlanKernel) * (size_t)(g->nkernels + job->update->nkernels + 1));

  Lower l = {p, g, sng_alloc(sizeof(int32_t) * (size_t)g->nnodes), sng_calloc((size_t)whole->nnodes + 1, sizeof(int32_t)), NULL};
  for (int i = 0; i < g->nnodes; i++) l.tid[i] = -1;
  /* whole parameters, and their slices */
  p->params = sng_arena_alloc(a, sizeof(SngPlanParam) * (size_t)(whole->nnodes + 1));
  for (int i = 0; i < whole->nnodes; i++) {
    SngIrNode *n = whole->nodes[i];
    l.pid[i] = -1;
    if (n->op != SNG_OP_PARAM || n->dead) continue;
    SngPlanParam *pp = &p->params[p->nparams];
    pp->name = sng_arena_strdup(a, n->name);
    pp->rank = n->shape.rank;
    for (int j = 0; j < n->shape.rank; j++) pp->dims[j] = n->shape.d[j];
    pp->init = n->init.kind == SNG_INIT_UNIFORM ? SNG_PINIT_UNIFORM
             : n->init.kind == SNG_INIT_GAUSSIAN ? SNG_PINIT_GAUSSIAN : SNG_PINIT_CONSTANT;
    pp->init_a = n->init.a, pp->init_b = n->init.b;
    pp->lr_mult = n->lr_mult, pp->wd_mult = n->wd_mult;
    pp->running = n->running[0], pp->running_div = n->running[1];
    l.pid[i] = p->nparams++;
  }
  p->nslices = job->nslices;
  p->slices = sng_arena_alloc(a, sizeof(SngPlanSlice) * (size_t)(job->nslices + 1));
  for (int i = 0; i < job->nslices; i++) p->slices[i] = job->slices[i];
  /* one graph per worker; a bridge makes an op in two of them */
  p->ngraphs = nw;
  p->graphs = sng_arena_alloc(a, sizeof(SngPlanGraph) * (size_t)nw);
  /* room per worker: a tensor and an op per node of its own, an op per bridge it sends */
  int *room = l.room = sng_calloc((size_t)nw, sizeof *room);
  for (int i = 0; i < g->nnodes; i++) {
    room[g->nodes[i]->worker]++;
    if (g->nodes[i]->op == SNG_OP_BRIDGE) room[g->nodes[i]->attr.bridge.from]++;
  }
  for (int w = 0; w < nw; w++) {
    SngPlanGraph *pg = &p->graphs[w];
    pg->worker = w;
    pg->tensors = sng_arena_alloc(a, sizeof(SngPlanTensor) * (size_t)(room[w] + 1));
    pg->ops = sng_arena_alloc(a, sizeof(SngPlanOp) * (size_t)(room[w] + 1));
    pg->arena_bytes = g->arena_bytes[w];
    pg->batch = job->data.batch;
    pg->loss = pg->metric = -1;
  }
  int32_t *kid = sng_alloc(sizeof(int32_t) * (size_t)(g->nkernels + 1));
  SngMap keys = {0};
  int32_t channel = 0;
  for (int i = 0; i < g->nkernels; i++)
    if ((kid[i] = add_kernel(p, &keys, g->kernels[i], opts, err, errlen)) < 0) goto fail;
  for (int i = 0; i < g->nnodes; i++) {
    SngIrNode *n = g->nodes[i];
    if (n->dead || sng_op_has(n->op, OPF_SOURCE)) continue;
    if (n->kernel < 0) add_op(&l, n, &channel);
    else {
      SngIrKernel *k = g->kernels[n->kernel];
      if (k->members[k->nmembers - 1] == n) add_kernel_op(&l, k, kid[n->kernel]);
    }
  }
  for (int i = 0; i < g->nnodes; i++) { /* gradients: tensors of kind GRAD; loss and metric */
    SngIrNode *n = g->nodes[i];
    if (n->dead) continue;
    if (n->op == SNG_OP_PARAM && n->param_grad) {
      SngPlanTensor *t = &p->graphs[n->worker].tensors[tensor_of(&l, n->param_grad)];
      t->kind = SNG_TENSOR_GRAD;
      t->param = l.pid[n->attr.param.whole->id];
      memcpy(t->start, n->at, sizeof t->start);
    }
    SngPlanGraph *pg = &p->graphs[n->worker]; /* the rows of the batch this worker's loss covers: start[0] */
    if (sng_op_has(n->op, OPF_LOSS)) pg->loss = tensor_of(&l, n), memcpy(pg->tensors[pg->loss].start, n->at, sizeof n->at);
    if (sng_op_has(n->op, OPF_METRIC)) pg->metric = tensor_of(&l, n), memcpy(pg->tensors[pg->metric].start, n->at, sizeof n->at);
  }
  /* settings and the updater's kernel */
  p->data = job->data;
  p->data.name = sng_arena_strdup(a, job->data.name);
  p->data.format = sng_arena_strdup(a, job->data.format);
  for (int i = 0; i < 2; i++) {
    p->data.train[i] = sng_arena_strdup(a, job->data.train[i]);
    p->data.test[i] = sng_arena_strdup(a, job->data.test[i]);
  }
  p->updater = job->updater;
  SNG_ASSERT(job->update->nkernels == 1);
  if ((p->updater.kernel = add_kernel(p, &keys, job->update->kernels[0], opts, err, errlen)) < 0) goto fail;
  p->train = job->train;
  p->train.net = sng_arena_strdup(a, job->train.net);
  p->train.alg = sng_arena_strdup(a, job->train.alg);
  free(kid);
  sng_map_free(&keys);
  free(l.tid);
  free(l.pid);
  free(l.room);
  return p;
fail:
  free(kid);
  sng_map_free(&keys);
  free(l.tid);
  free(l.pid);
  free(l.room);
  sng_plan_free(p);
  return NULL;
}
