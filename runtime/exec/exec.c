/* exec.c - the executor: one worker's graph bound to memory and run op by op.
 *
 * Binding happens once: every tensor gets its pointer (arena offset, or the parameter's
 * value memory), every op its resolved input/output pointers and either a C kernel from
 * the op table or a JIT-compiled function.  The step loop is then a flat walk over those
 * instructions with no lookups.  Each parameter is handed to the stub (on_param) right
 * after the last op that reads its value or writes its gradient, so servers can update it
 * while the worker is still computing the gradients of earlier layers.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct Instr {
  const SngPlanOp *op;
  unsigned phases;              /* 1 << SngPlanPhase of the op */
  SngRtKernel c;                /* C kernel, or NULL */
  SngKernelFn fn;               /* JIT kernel, or NULL */
  float **ptrs;                 /* inputs then outputs (the kernel ABI's bufs) */
  const SngPlanTensor **tin;    /* input tensors, for the C kernels' shapes */
  const SngPlanTensor *tout;    /* first output tensor */
  int64_t bytes;                /* BRIDGE: bytes sent or received */
  int *release;                 /* parameters final after this op, -1 terminated */
} Instr;

struct SngExec {
  const SngPlan *plan;
  const SngPlanGraph *g;
  float *arena;
  float **tptr;                 /* tensor -> memory */
  float **own;                  /* PARAM pieces that are not the whole parameter: own buffers */
  SngCommFn comm;               /* BRIDGE ops */
  void *comm_ctx;
  Instr *code;
  int ncode;
  int64_t kcalls;
  SngKernelFn update;
  int profile;
  double t_gemm, t_jit, t_c;    /* seconds spent in each kind of op, when profiling */
  int64_t step;                 /* the training step, for the ops that draw (dropout's mask) */
};

_Thread_local SngRtCtx sng_rt_ctx;

static int fail(char *err, size_t n, const char *fmt, const char *a, long long b) {
  snprintf(err, n, fmt, a, b);
  return -1;
}

/* JIT-compiled functions are cached per JIT and plan kernel index. */
static int compile_kernels(const SngPlan *p, SngJit *jit, SngKernelFn *fns, char *err, size_t errlen) {
  for (int i = 0; i < p->nkernels; i++) {
    const SngPlanKernel *k = &p->kernels[i];
    if (sng_jit_add(jit, k->bitcode, k->bitcode_len, k->symbol, &fns[i], err, errlen)) return -1;
  }
  return 0;
}

SngExec *sng_exec_new(const SngPlan *p, int graph, SngJit *jit, float *const *params, char *err, size_t errlen) {
  SngExec *e = sng_calloc(1, sizeof *e);
  const SngPlanGraph *g = &p->graphs[graph];
  e->plan = p, e->g = g;
  char what[96];
  snprintf(what, sizeof what, "the memory plan's arena of graph %d (activations and gradients)", graph);
  e->arena = sng_alloc_aligned_for((size_t)g->arena_bytes + 64, what);
  e->tptr = sng_calloc((size_t)g->ntensors + 1, sizeof(float *));
  e->own = sng_calloc((size_t)g->ntensors + 1, sizeof(float *));
  for (int i = 0; i < g->ntensors; i++) {
    const SngPlanTensor *t = &g->tensors[i];
    if (t->kind != SNG_TENSOR_PARAM) e->tptr[i] = (float *)((char *)e->arena + t->offset);
    else if (sng_exec_piece_is_whole(p, t)) e->tptr[i] = params ? params[t->param] : NULL;
    else e->tptr[i] = e->own[i] = sng_alloc_aligned((size_t)sng_plan_tensor_numel(t) * 4 + 64); /* a slice: the stub refreshes it */
  }
  SngKernelFn *fns = sng_calloc((size_t)p->nkernels + 1, sizeof *fns);
  if (compile_kernels(p, jit, fns, err, errlen)) goto fail;
  if (p->updater.kernel >= 0) e->update = fns[p->updater.kernel];
  /* the last op touching each parameter (value read, or gradient written) */
  int *last = sng_alloc(sizeof(int) * (size_t)(p->nparams + 1));
  for (int i = 0; i < p->nparams; i++) last[i] = -1;
  for (int i = 0; i < g->nops; i++) {
    const SngPlanOp *o = &g->ops[i];
    for (int j = 0; j < o->nin + o->nout; j++) {
      const SngPlanTensor *t = &g->tensors[j < o->nin ? o->in[j] : o->out[j - o->nin]];
      if (t->kind == SNG_TENSOR_PARAM || t->kind == SNG_TENSOR_GRAD) last[t->param] = i;
    }
  }
  e->code = sng_calloc((size_t)g->nops + 1, sizeof(Instr));
  for (int i = 0; i < g->nops; i++) {
    const SngPlanOp *o = &g->ops[i];
    Instr *in = &e->code[e->ncode++];
    in->op = o;
    in->ptrs = sng_calloc((size_t)(o->nin + o->nout + 1), sizeof(float *));
    in->tin = sng_calloc((size_t)(o->nin + 1), sizeof(SngPlanTensor *));
    in->phases = o->phase == SNG_PHASE_FWD_ALL ? (1u << SNG_EXEC_TRAIN | 1u << SNG_EXEC_TEST)
               : o->phase == SNG_PHASE_FWD_TEST ? 1u << SNG_EXEC_TEST : 1u << SNG_EXEC_TRAIN;
    in->tout = o->nout ? &g->tensors[o->out[0]] : NULL;
    for (int j = 0; j < o->nin; j++) in->ptrs[j] = e->tptr[o->in[j]], in->tin[j] = &g->tensors[o->in[j]];
    for (int j = 0; j < o->nout; j++) in->ptrs[o->nin + j] = e->tptr[o->out[j]];
    if (o->op == SNG_OP_KERNEL) {
      const SngPlanKernel *k = &p->kernels[o->kernel];
      if (k->nscalars > SNG_PLAN_MAX_SCALARS) { /* (the plan reader refuses these) */
        fail(err, errlen, "plan: kernel %s takes %lld runtime scalars", k->symbol, k->nscalars);
        goto fail_last;
      }
      if (k->nbufs != o->nin + o->nout) {
        fail(err, errlen, "plan: kernel %s has %lld buffers, its op disagrees", k->symbol, k->nbufs);
        goto fail_last;
      }
      in->fn = fns[o->kernel]; /* its iteration space (o->rows, o->cols) is in the plan */
    } else if (sng_op_has(o->op, OPF_COMM)) {
      const SngPlanTensor *t = o->nin ? in->tin[0] : in->tout;
      in->bytes = sng_plan_tensor_numel(t) * 4;
    } else if (o->op >= 0 && o->op < SNG_OP__COUNT && sng_rt_kernels[o->op]) {
      in->c = sng_rt_kernels[o->op]; /* (the plan reader checked its tensors' ranks and sizes) */
    } else {
      fail(err, errlen, "plan: op %s (code %lld) has no kernel in this runtime", o->name, o->op);
      goto fail_last;
    }
    in->release = NULL;   /* filled below, in one pass over the parameters */
  }
  /* each op's released parameters, -1 terminated: counted, then placed (O(ops + params)) */
  int *nrel = sng_calloc((size_t)g->nops + 1, sizeof *nrel);
  for (int q = 0; q < p->nparams; q++)
    if (last[q] >= 0) nrel[last[q]]++;
  for (int i = 0; i < g->nops; i++) {
    e->code[i].release = sng_alloc(sizeof(int) * (size_t)(nrel[i] + 1));
    e->code[i].release[nrel[i]] = -1;
    nrel[i] = 0;
  }
  for (int q = 0; q < p->nparams; q++)
    if (last[q] >= 0) e->code[last[q]].release[nrel[last[q]]++] = q;
  free(nrel);
  free(last);
  free(fns);
  return e;
fail_last:
  free(last);
fail:
  free(fns);
  sng_exec_free(e);
  return NULL;
}

void sng_exec_free(SngExec *e) {
  if (!e) return;
  for (int i = 0; i < e->ncode; i++) {
    free(e->code[i].ptrs);
    free(e->code[i].tin);
    free(e->code[i].release);
  }
  free(e->code);
  for (int i = 0; i < e->g->ntensors; i++) free(e->own[i]);
  free(e->own);
  free(e->tptr);
  free(e->arena);
  free(e);
}

static const float no_scalars[SNG_PLAN_MAX_SCALARS] = {0}; /* worker kernels take no runtime scalars */

void sng_exec_run(SngExec *e, int phase, void (*on_param)(void *ctx, int param), void *ctx) {
  sng_rt_ctx = (SngRtCtx){phase == SNG_EXEC_TRAIN, e->plan->train.seed, e->step};
  for (int i = 0; i < e->ncode; i++) {
    Instr *in = &e->code[i];
    if (!(in->phases & 1u << phase)) continue;
    double t0 = e->profile ? sng_now() : 0;
    if (in->fn) {
      in->fn(in->ptrs, no_scalars, in->op->rows, in->op->cols);
      e->kcalls++;
    } else if (in->c) {
      in->c(in->op, in->ptrs, in->tin, in->ptrs[in->op->nin], in->tout);
    } else {
      SNG_ASSERT(e->comm); /* a graph with bridges runs under sng_run_train or with a transport set */
      e->comm(e->comm_ctx, in->op, in->ptrs[0], in->bytes);
    }
    if (e->profile) {
      double dt = sng_now() - t0;
      if (in->fn) e->t_jit += dt;
      else if (sng_op_has(in->op->op, OPF_GEMM)) e->t_gemm += dt;
      else e->t_c += dt;
    }
    if (on_param && phase == SNG_EXEC_TRAIN)
      for (int *r = in->release; *r >= 0; r++) on_param(ctx, *r);
  }
}

float *sng_exec_tensor_at(SngExec *e, int index) {
  return index >= 0 && index < e->g->ntensors ? e->tptr[index] : NULL;
}

float *sng_exec_tensor(SngExec *e, const char *name) {
  for (int i = 0; i < e->g->ntensors; i++)
    if (e->g->tensors[i].name && !strcmp(e->g->tensors[i].name, name)) return e->tptr[i];
  return NULL;
}

int64_t sng_exec_kernel_calls(const SngExec *e) { return e->kcalls; }

void sng_exec_set_step(SngExec *e, int64_t step) { e->step = step; }

void sng_exec_set_comm(SngExec *e, SngCommFn fn, void *ctx) { e->comm = fn, e->comm_ctx = ctx; }

int sng_exec_piece_is_whole(const SngPlan *p, const SngPlanTensor *t) {
  const SngPlanParam *q = &p->params[t->param];
  if (q->rank != t->rank) return 0;
  for (int i = 0; i < t->rank; i++)
    if (t->start[i] != 0 || t->dims[i] != q->dims[i]) return 0;
  return 1;
}
SngKernelFn sng_exec_update_fn(const SngExec *e) { return e->update; }

void sng_exec_profile(SngExec *e, int on) { e->profile = on; }
void sng_exec_times(const SngExec *e, double *gemm, double *jit, double *c) {
  *gemm = e->t_gemm, *jit = e->t_jit, *c = e->t_c;
}
