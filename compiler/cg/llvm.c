/* llvm.c - fused kernels as LLVM modules: the function, its loops, the two kernel kinds.
 *
 * Each kernel becomes one module with one external function in the kernel ABI (sng_cg.h).
 * The IR is plain and unoptimised: counted loops in rotated (bottom-tested) form behind one
 * `rows > 0 && cols > 0` guard, buffer pointers and scalars loaded once in the entry block,
 * inbounds GEPs and nsw index arithmetic so that the JIT's O2 pipeline (SCEV, the loop and
 * SLP vectorisers) sees simple affine accesses.  Optimising here would be wasted: the plan
 * stores bitcode, and the JIT optimises it for the CPU it finally runs on.
 *
 * The pointer arguments carry no `noalias`: the memory planner may run a kernel in place
 * (an output sharing an input's buffer), and the vectoriser handles possible overlap with a
 * run-time check (toolchain-notes: noalias bought no speed).
 */
#include "sng_cg.h"
#include "internal.h"

#include <llvm-c/Analysis.h>
#include <llvm-c/BitWriter.h>
#include <llvm-c/Core.h>
#include <llvm-c/TargetMachine.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef struct Cg {
  const SngIrKernel *k;
  const char *symbol;
  LLVMContextRef ctx;
  LLVMModuleRef mod;
  LLVMBuilderRef b;
  LLVMTypeRef f32, i64, ptr;
  LLVMValueRef fn;
  LLVMValueRef scalars;        /* const float *scalars */
  LLVMValueRef rows, cols;     /* the iteration space, known only at run time */
  LLVMValueRef *buf;           /* per k->bufs position: its float *, loaded in the entry block */
  LLVMBasicBlockRef done;      /* `ret void`, also where the empty-space guard jumps */
  SngMap member_pos, buf_pos;  /* node -> 1 + its index in k->members / first in k->bufs */
  char *err;
  size_t errlen;
} Cg;

__attribute__((format(printf, 2, 3))) static int fail(Cg *c, const char *fmt, ...) {
  if (!c->err || !c->errlen) return -1;
  int n = snprintf(c->err, c->errlen, "kernel %s: ", c->symbol);
  if (n >= 0 && (size_t)n < c->errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
    va_end(ap);
  }
  return -1;
}

static int find(SngIrNode *const *v, int n, const SngIrNode *x) {
  for (int i = 0; i < n; i++)
    if (v[i] == x) return i;
  return -1;
}

/* Positions by lookup, not by scanning: a kernel may have thousands of members. */
static int member_at(const Cg *c, const SngIrNode *x) { return (int)(intptr_t)sng_map_get(&c->member_pos, x) - 1; }
static int buf_at(const Cg *c, const SngIrNode *x) { return (int)(intptr_t)sng_map_get(&c->buf_pos, x) - 1; }
static bool is_input(const Cg *c, const SngIrNode *x) {
  int p = buf_at(c, x);
  return p >= 0 && p < c->k->ninputs;
}

/* ---- small IR helpers ---- */

static LLVMValueRef i64c(Cg *c, int64_t v) { return LLVMConstInt(c->i64, (unsigned long long)v, 1); }
static LLVMValueRef f32c(Cg *c, double v) { return LLVMConstReal(c->f32, v); }

static LLVMValueRef at(Cg *c, LLVMValueRef base, LLVMValueRef idx) {
  return LLVMBuildInBoundsGEP2(c->b, c->f32, base, &idx, 1, "");
}
static LLVMValueRef load(Cg *c, LLVMValueRef base, LLVMValueRef idx, const char *name) {
  return LLVMBuildLoad2(c->b, c->f32, at(c, base, idx), name);
}
static void store(Cg *c, LLVMValueRef v, LLVMValueRef base, LLVMValueRef idx) {
  LLVMBuildStore(c->b, v, at(c, base, idx));
}

/* Calls llvm.<name>.f32 with n float arguments (exp, log, maxnum).  Intrinsics rather than
 * libm calls, so that the vectoriser may map them to vector functions. */
static LLVMValueRef intrinsic(Cg *c, const char *name, LLVMValueRef *args, unsigned n) {
  unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
  SNG_ASSERT(id != 0);
  LLVMValueRef f = LLVMGetIntrinsicDeclaration(c->mod, id, &c->f32, 1);
  LLVMTypeRef t = LLVMIntrinsicGetType(c->ctx, id, &c->f32, 1);
  return LLVMBuildCall2(c->b, t, f, args, n, "");
}

/* A counted loop iv = 0..n-1.  It is bottom-tested (the rotated form LLVM's loop passes
 * expect) because the entry guard already ensured n > 0.  Loop-carried values are phis
 * created right after loop_open; they get their back-edge value from `latch`. */
typedef struct Loop {
  LLVMBasicBlockRef pre, body, latch;
  LLVMValueRef iv;
} Loop;

static Loop loop_open(Cg *c, const char *name) {
  Loop l = {.pre = LLVMGetInsertBlock(c->b)};
  l.body = LLVMAppendBasicBlockInContext(c->ctx, c->fn, name);
  LLVMBuildBr(c->b, l.body);
  LLVMPositionBuilderAtEnd(c->b, l.body);
  l.iv = LLVMBuildPhi(c->b, c->i64, name);
  LLVMValueRef zero = i64c(c, 0);
  LLVMAddIncoming(l.iv, &zero, &l.pre, 1);
  return l;
}

static void loop_close(Cg *c, Loop *l, LLVMValueRef n) {
  LLVMValueRef next = LLVMBuildNSWAdd(c->b, l->iv, i64c(c, 1), "next");
  l->latch = LLVMGetInsertBlock(c->b);
  LLVMAddIncoming(l->iv, &next, &l->latch, 1);
  LLVMValueRef more = LLVMBuildICmp(c->b, LLVMIntSLT, next, n, "more");
  LLVMBasicBlockRef exit = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "exit");
  LLVMBuildCondBr(c->b, more, l->body, exit);
  LLVMPositionBuilderAtEnd(c->b, exit);
}

/* A float accumulator carried around loop l, starting at init. */
static LLVMValueRef loop_acc(Cg *c, Loop *l, double init, const char *name) {
  LLVMValueRef phi = LLVMBuildPhi(c->b, c->f32, name), v = f32c(c, init);
  LLVMAddIncoming(phi, &v, &l->pre, 1);
  return phi;
}
static void loop_acc_next(Loop *l, LLVMValueRef phi, LLVMValueRef next) {
  LLVMAddIncoming(phi, &next, &l->latch, 1);
}

/* The function in the kernel ABI, its entry block (buffer pointers loaded once: inside the
 * loop they could not be hoisted, since a float store might alias the pointer array) and
 * the guard that skips an empty space. */
static void open_function(Cg *c) {
  const SngIrKernel *k = c->k;
  LLVMTypeRef params[4] = {c->ptr, c->ptr, c->i64, c->i64};
  LLVMTypeRef fnty = LLVMFunctionType(LLVMVoidTypeInContext(c->ctx), params, 4, 0);
  c->fn = LLVMAddFunction(c->mod, c->symbol, fnty);
  unsigned nounwind = LLVMGetEnumAttributeKindForName("nounwind", 8);
  LLVMAddAttributeAtIndex(c->fn, LLVMAttributeFunctionIndex,
                          LLVMCreateEnumAttribute(c->ctx, nounwind, 0));
  LLVMValueRef bufs = LLVMGetParam(c->fn, 0);
  c->scalars = LLVMGetParam(c->fn, 1);
  c->rows = LLVMGetParam(c->fn, 2);
  c->cols = LLVMGetParam(c->fn, 3);
  LLVMSetValueName2(bufs, "bufs", 4);
  LLVMSetValueName2(c->scalars, "scalars", 7);
  LLVMSetValueName2(c->rows, "rows", 4);
  LLVMSetValueName2(c->cols, "cols", 4);

  LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "entry");
  LLVMPositionBuilderAtEnd(c->b, entry);
  c->buf = sng_calloc((size_t)k->nbufs, sizeof *c->buf);
  for (int p = 0; p < k->nbufs; p++) {
    char name[64];
    LLVMValueRef idx = i64c(c, p);
    LLVMValueRef slot = LLVMBuildInBoundsGEP2(c->b, c->ptr, bufs, &idx, 1, "");
    c->buf[p] = LLVMBuildLoad2(c->b, c->ptr, slot, sng_ir_label(k->bufs[p], name, sizeof name));
  }
  LLVMValueRef some = LLVMBuildAnd(c->b, LLVMBuildICmp(c->b, LLVMIntSGT, c->rows, i64c(c, 0), ""),
                                   LLVMBuildICmp(c->b, LLVMIntSGT, c->cols, i64c(c, 0), ""), "some");
  LLVMBasicBlockRef work = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "work");
  c->done = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "done");
  LLVMBuildCondBr(c->b, some, work, c->done);
  LLVMPositionBuilderAtEnd(c->b, work);
}

static void close_function(Cg *c) {
  LLVMBuildBr(c->b, c->done);
  LLVMMoveBasicBlockAfter(c->done, LLVMGetInsertBlock(c->b));
  LLVMPositionBuilderAtEnd(c->b, c->done);
  LLVMBuildRetVoid(c->b);
}

/* ---- ELTWISE kernels ---- */

/* How a buffer source is indexed, from its element count against the compile-time space. */
typedef enum { IX_FULL, IX_COL, IX_ZERO, IX_BAD } IndexKind;

static IndexKind index_kind(const SngIrKernel *k, const SngIrNode *n) {
  int64_t all = sng_shape_numel(k->space);
  int64_t rows = k->space.rank ? k->space.d[0] : 1;
  int64_t cols = rows ? all / rows : 0, ne = sng_shape_numel(n->shape);
  if (ne == all) return IX_FULL;
  if (ne == 1) return IX_ZERO;
  if (rows > 1 && ne == cols) return IX_COL;
  return IX_BAD;
}

static bool is_const_src(const SngIrNode *s) { return sng_op_has(s->op, OPF_SCALAR); }

/* Checks the group before any IR is built, so every error names the offending node.
 * Sets *need_col when some source is a row vector, which needs the two-level loop nest. */
static int check_eltwise(Cg *c, bool *need_col) {
  const SngIrKernel *k = c->k;
  char a[64], b[64], sp[64];
  sng_shape_str(k->space, sp, sizeof sp);
  *need_col = false;
  for (int mi = 0; mi < k->nmembers; mi++) {
    const SngIrNode *m = k->members[mi];
    sng_ir_label(m, a, sizeof a);
    if (!sng_cg_emit[m->op])
      return fail(c, "%s: op %s is not a fusable elementwise op", a, sng_op_info[m->op].name);
    if (is_input(c, m)) return fail(c, "member %s is listed as an input", a);
    for (int si = 0; si < m->nsrc; si++) {
      const SngIrNode *s = m->src[si];
      sng_ir_label(s, b, sizeof b);
      int q = member_at(c, s);
      if (q >= mi) return fail(c, "%s uses member %s before computing it", a, b);
      if (q >= 0 || is_const_src(s)) continue;
      if (buf_at(c, s) < 0)
        return fail(c, "%s reads %s, which is neither a member nor a buffer", a, b);
      IndexKind ix = index_kind(k, s);
      if (ix == IX_BAD)
        return fail(c, "%s reads %s with %lld elements; space %s needs all, one row or one", a, b,
                    (long long)sng_shape_numel(s->shape), sp);
      if (ix == IX_COL) *need_col = true;
    }
    if (sng_op_has(m->op, OPF_EFFECT)) {
      const SngIrNode *t = m->src[0];
      sng_ir_label(t, b, sizeof b);
      if (!is_input(c, t) || index_kind(k, t) != IX_FULL)
        return fail(c, "%s assigns to %s, which is not an input buffer of space %s", a, b, sp);
    }
  }
  for (int p = k->ninputs; p < k->nbufs; p++) {
    sng_ir_label(k->bufs[p], a, sizeof a);
    if (member_at(c, k->bufs[p]) < 0)
      return fail(c, "output %s is not a member", a);
    if (index_kind(k, k->bufs[p]) != IX_FULL)
      return fail(c, "output %s does not cover the space %s", a, sp);
  }
  return 0;
}

typedef struct Elt {           /* the element (i, j) being computed */
  LLVMValueRef full, col;      /* i*cols+j and j */
  LLVMValueRef *val;           /* per member: its value */
  LLVMValueRef *ld;            /* per k->bufs position: its load, or NULL before first use */
  LLVMValueRef *inv;           /* per member source slot: CONST/SCALAR value (entry block) */
  int stride;                  /* source slots per member in inv (the most sources of a member) */
} Elt;

/* CONST and SCALAR sources are loop-invariant: made once, before the loops. */
static void load_invariants(Cg *c, Elt *e) {
  const SngIrKernel *k = c->k;
  SngMap scalars = {.ptr_keys = true}; /* SCALAR node -> its load */
  for (int mi = 0; mi < k->nmembers; mi++)
    for (int si = 0; si < k->members[mi]->nsrc; si++) {
      const SngIrNode *s = k->members[mi]->src[si];
      LLVMValueRef *v = &e->inv[mi * e->stride + si];
      if (!is_const_src(s)) continue;
      if (s->op == SNG_OP_CONST) {
        *v = f32c(c, s->attr.konst.value);
        continue;
      }
      *v = sng_map_get(&scalars, s); /* one load per scalar */
      if (!*v) {
        char name[64];
        *v = load(c, c->scalars, i64c(c, s->attr.arg.slot), sng_ir_label(s, name, sizeof name));
        sng_map_put(&scalars, s, *v);
      }
    }
  sng_map_free(&scalars);
}

static LLVMValueRef source(Cg *c, Elt *e, int mi, int si) {
  const SngIrKernel *k = c->k;
  const SngIrNode *s = k->members[mi]->src[si];
  if (e->inv[mi * e->stride + si]) return e->inv[mi * e->stride + si];
  int q = member_at(c, s);
  if (q >= 0 && q < mi) return e->val[q];
  int p = buf_at(c, s);
  if (!e->ld[p]) {
    IndexKind ix = index_kind(k, s);
    LLVMValueRef idx = ix == IX_FULL ? e->full : ix == IX_COL ? e->col : i64c(c, 0);
    char name[64];
    e->ld[p] = load(c, c->buf[p], idx, sng_ir_label(s, name, sizeof name));
  }
  return e->ld[p];
}

/* The body for one element: every member in order, then every store.  Stores come last so
 * that an ASSIGN to w cannot change the w that a later member reads (data-flow order). */
static void element(Cg *c, Elt *e) {
  const SngIrKernel *k = c->k;
  for (int mi = 0; mi < k->nmembers; mi++) {
    const SngIrNode *m = k->members[mi];
    LLVMValueRef x[4];
    SNG_ASSERT(m->nsrc <= 4); /* elementwise ops take at most a few sources */
    for (int si = 0; si < m->nsrc; si++) x[si] = source(c, e, mi, si);
    e->val[mi] = sng_cg_emit[m->op](c->b, x);
  }
  for (int mi = 0; mi < k->nmembers; mi++) {
    const SngIrNode *m = k->members[mi];
    int p = buf_at(c, m);
    if (p >= k->ninputs) store(c, e->val[mi], c->buf[p], e->full);
    if (sng_op_has(m->op, OPF_EFFECT)) store(c, e->val[mi], c->buf[buf_at(c, m->src[0])], e->full);
  }
}

/* With no row-vector source the space is walked as one flat loop of rows*cols elements:
 * same result, but a [64,10] kernel vectorises over 640 elements instead of 64 loops of 10. */
static int build_eltwise(Cg *c) {
  const SngIrKernel *k = c->k;
  bool need_col;
  if (check_eltwise(c, &need_col) < 0) return -1;
  open_function(c);
  size_t nm = (size_t)k->nmembers;
  int stride = 1;
  for (int mi = 0; mi < k->nmembers; mi++) stride = k->members[mi]->nsrc > stride ? k->members[mi]->nsrc : stride;
  Elt e = {.val = sng_calloc(nm, sizeof *e.val), .ld = sng_calloc((size_t)k->nbufs, sizeof *e.ld),
           .inv = sng_calloc(nm * (size_t)stride, sizeof *e.inv), .stride = stride};
  load_invariants(c, &e);
  if (need_col) {
    Loop li = loop_open(c, "i");
    LLVMValueRef row = LLVMBuildNSWMul(c->b, li.iv, c->cols, "row");
    Loop lj = loop_open(c, "j");
    e.col = lj.iv;
    e.full = LLVMBuildNSWAdd(c->b, row, lj.iv, "ij");
    element(c, &e);
    loop_close(c, &lj, c->cols);
    loop_close(c, &li, c->rows);
  } else {
    LLVMValueRef n = LLVMBuildNSWMul(c->b, c->rows, c->cols, "n");
    Loop l = loop_open(c, "ij");
    e.full = l.iv;
    element(c, &e);
    loop_close(c, &l, n);
  }
  close_function(c);
  free(e.val);
  free(e.ld);
  free(e.inv);
  return 0;
}

/* ---- ROWWISE kernels: softmax cross-entropy ----
 *
 * Members: SOFTMAX_XENT (loss[i] = log(sum_j exp(x_ij - m_i)) + m_i - x_i,label) and/or
 * SOFTMAX_XENT_BWD (g_ij = (exp(x_ij - m_i) / s_i - [j == label_i]) * attr.loss.scale), both over
 * the same (logits [R,C], labels [R]).  Per row: m = max, s = sum of exp(x - m) (the max
 * subtraction keeps exp from overflowing at logits of 1e3), then the loss and/or the
 * gradient.  The sum runs in order (no reassociation), so the loss matches a plain C loop
 * bit for bit; the gradient loop has no reduction and vectorises, exp included.
 *
 * Labels are floats holding class ids, truncated toward zero.  A label that is NaN,
 * negative or >= cols selects no class: the loss uses 0 for x_label and the gradient has no
 * one-hot term.  Such a label never causes an out-of-bounds access. */

static int check_rowwise(Cg *c, int *px, int *pl, int *ploss, int *pgrad, double *scale) {
  const SngIrKernel *k = c->k;
  const SngIrNode *x = NULL, *lab = NULL;
  char a[64];
  *ploss = *pgrad = -1;
  for (int mi = 0; mi < k->nmembers; mi++) {
    const SngIrNode *m = k->members[mi];
    sng_ir_label(m, a, sizeof a);
    int *slot = m->op == SNG_OP_SOFTMAX_XENT ? ploss : m->op == SNG_OP_SOFTMAX_XENT_BWD ? pgrad : NULL;
    if (!slot) return fail(c, "%s: op %s is not a rowwise op", a, sng_op_info[m->op].name);
    if (*slot >= 0) return fail(c, "%s: a second %s in one row kernel", a, sng_op_info[m->op].name);
    if (x && (m->src[0] != x || m->src[1] != lab))
      return fail(c, "%s: row kernel members must share logits and labels", a);
    x = m->src[0], lab = m->src[1];
    *slot = find(k->bufs + k->ninputs, k->nbufs - k->ninputs, m);
    if (*slot < 0) return fail(c, "member %s has no output buffer", a);
    *slot += k->ninputs;
    if (m->op == SNG_OP_SOFTMAX_XENT_BWD) *scale = m->attr.loss.scale;
  }
  if (!x) return fail(c, "row kernel without members");
  *px = find(k->bufs, k->ninputs, x);
  *pl = find(k->bufs, k->ninputs, lab);
  if (*px < 0 || *pl < 0) return fail(c, "logits and labels must be input buffers");
  int64_t all = sng_shape_numel(k->space), rows = k->space.rank ? k->space.d[0] : 1;
  if (sng_shape_numel(x->shape) != all || sng_shape_numel(lab->shape) != rows)
    return fail(c, "logits must cover the space and labels have one element per row");
  return 0;
}

/* The class index of a float label and whether it is a valid class in [0, cols).  The range
 * test comes first in float (fptosi of NaN or of a huge value would be poison). */
static LLVMValueRef label_index(Cg *c, LLVMValueRef lab, LLVMValueRef *ok) {
  LLVMValueRef in = LLVMBuildAnd(c->b, LLVMBuildFCmp(c->b, LLVMRealOGE, lab, f32c(c, 0), ""),
                                 LLVMBuildFCmp(c->b, LLVMRealOLT, lab, f32c(c, 0x1p62), ""), "");
  LLVMValueRef idx = LLVMBuildFPToSI(c->b, LLVMBuildSelect(c->b, in, lab, f32c(c, 0), ""), c->i64, "");
  *ok = LLVMBuildAnd(c->b, in, LLVMBuildICmp(c->b, LLVMIntSLT, idx, c->cols, ""), "label_ok");
  return LLVMBuildSelect(c->b, *ok, idx, i64c(c, 0), "label");
}

static int build_rowwise(Cg *c) {
  int px = -1, pl = -1, ploss = -1, pgrad = -1;
  double scale = 1;
  if (check_rowwise(c, &px, &pl, &ploss, &pgrad, &scale) < 0) return -1;
  open_function(c);
  Loop li = loop_open(c, "i");
  LLVMValueRef off = LLVMBuildNSWMul(c->b, li.iv, c->cols, "row");
  LLVMValueRef xrow = at(c, c->buf[px], off);

  Loop lm = loop_open(c, "jmax");
  LLVMValueRef mphi = loop_acc(c, &lm, -INFINITY, "max");
  LLVMValueRef args[2] = {mphi, load(c, xrow, lm.iv, "x")};
  LLVMValueRef m = intrinsic(c, "llvm.maxnum", args, 2);
  loop_close(c, &lm, c->cols);
  loop_acc_next(&lm, mphi, m);

  Loop ls = loop_open(c, "jsum");
  LLVMValueRef sphi = loop_acc(c, &ls, 0, "sum");
  LLVMValueRef d = LLVMBuildFSub(c->b, load(c, xrow, ls.iv, "x"), m, "");
  LLVMValueRef s = LLVMBuildFAdd(c->b, sphi, intrinsic(c, "llvm.exp", &d, 1), "");
  loop_close(c, &ls, c->cols);
  loop_acc_next(&ls, sphi, s);

  LLVMValueRef ok, label = label_index(c, load(c, c->buf[pl], li.iv, "y"), &ok);
  if (ploss >= 0) {
    LLVMValueRef xl = LLVMBuildSelect(c->b, ok, load(c, xrow, label, ""), f32c(c, 0), "xl");
    LLVMValueRef lse = LLVMBuildFAdd(c->b, intrinsic(c, "llvm.log", &s, 1), m, "");
    store(c, LLVMBuildFSub(c->b, lse, xl, "loss"), c->buf[ploss], li.iv);
  }
  if (pgrad >= 0) {
    LLVMValueRef grow = at(c, c->buf[pgrad], off);
    Loop lg = loop_open(c, "jgrad");
    LLVMValueRef dg = LLVMBuildFSub(c->b, load(c, xrow, lg.iv, "x"), m, "");
    LLVMValueRef p = LLVMBuildFDiv(c->b, intrinsic(c, "llvm.exp", &dg, 1), s, "p");
    LLVMValueRef hot = LLVMBuildAnd(c->b, ok, LLVMBuildICmp(c->b, LLVMIntEQ, lg.iv, label, ""), "");
    LLVMValueRef t = LLVMBuildSelect(c->b, hot, f32c(c, 1), f32c(c, 0), "");
    store(c, LLVMBuildFMul(c->b, LLVMBuildFSub(c->b, p, t, ""), f32c(c, scale), "g"), grow, lg.iv);
    loop_close(c, &lg, c->cols);
  }
  loop_close(c, &li, c->rows);
  close_function(c);
  return 0;
}

/* ---- entry point ---- */

static int finish(Cg *c, void **bitcode, size_t *len, char **ir_text) {
  char *msg = NULL;
  if (LLVMVerifyModule(c->mod, LLVMReturnStatusAction, &msg)) {
    fail(c, "invalid IR (a code generator bug): %s", msg ? msg : "?");
    LLVMDisposeMessage(msg);
    return -1;
  }
  LLVMDisposeMessage(msg);
  LLVMMemoryBufferRef mb = LLVMWriteBitcodeToMemoryBuffer(c->mod);
  if (!mb) return fail(c, "cannot write bitcode");
  *len = LLVMGetBufferSize(mb);
  *bitcode = sng_alloc(*len);
  memcpy(*bitcode, LLVMGetBufferStart(mb), *len);
  LLVMDisposeMemoryBuffer(mb);
  if (ir_text) {
    char *s = LLVMPrintModuleToString(c->mod);
    *ir_text = sng_strdup(s);
    LLVMDisposeMessage(s);
  }
  return 0;
}

int sng_cg_kernel(const SngIrKernel *k, const char *symbol, void **bitcode, size_t *len,
                  char **ir_text, char *err, size_t errlen) {
  *bitcode = NULL;
  *len = 0;
  if (ir_text) *ir_text = NULL;
  Cg c = {.k = k, .symbol = symbol && *symbol ? symbol : "?", .err = err, .errlen = errlen,
          .member_pos = {.ptr_keys = true}, .buf_pos = {.ptr_keys = true}};
  if (!symbol || !*symbol) return fail(&c, "empty symbol name");
  for (int i = 0; i < k->nmembers; i++)
    if (!sng_map_get(&c.member_pos, k->members[i])) sng_map_put(&c.member_pos, k->members[i], (void *)(intptr_t)(i + 1));
  for (int i = 0; i < k->nbufs; i++)
    if (!sng_map_get(&c.buf_pos, k->bufs[i])) sng_map_put(&c.buf_pos, k->bufs[i], (void *)(intptr_t)(i + 1));
  c.ctx = LLVMContextCreate();
  c.mod = LLVMModuleCreateWithNameInContext(symbol, c.ctx);
  c.b = LLVMCreateBuilderInContext(c.ctx);
  c.f32 = LLVMFloatTypeInContext(c.ctx);
  c.i64 = LLVMInt64TypeInContext(c.ctx);
  c.ptr = LLVMPointerTypeInContext(c.ctx, 0);
  char *triple = LLVMGetDefaultTargetTriple();   /* the data layout is the JIT's business */
  LLVMSetTarget(c.mod, triple);
  LLVMDisposeMessage(triple);

  int rc = k->rowwise ? build_rowwise(&c) : build_eltwise(&c);
  if (rc == 0) rc = finish(&c, bitcode, len, ir_text);
  LLVMDisposeBuilder(c.b);
  LLVMDisposeModule(c.mod);
  LLVMContextDispose(c.ctx);
  free(c.buf);
  sng_map_free(&c.member_pos);
  sng_map_free(&c.buf_pos);
  return rc;
}
