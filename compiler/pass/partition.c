/* partition.c - splits the net over the W workers of a group (runtime.md, reference.md §6).
 *
 * Every tensor gets a layout over the workers: SPLIT along a dimension (worker w holds a
 * contiguous piece; uneven sizes are legal, 100 rows over 3 workers are 34/33/33), REPL (a
 * full copy on every worker) or ONE (whole, on one worker).  Each op's rule (the op table's
 * `part` column) says, for its layer's setting (batch, feature, none), which layout it wants
 * of each source and which its output has:
 *
 *   dense   batch:   x SPLIT(0), W REPL (replicas)       -> SPLIT(0)
 *           feature: x REPL,     W SPLIT(1) (own slice)  -> SPLIT(1)
 *   relu... follows its source unless its layer says otherwise
 *   loss    rows: SPLIT(0) (a loss or metric never splits by feature)
 *   none    everything on worker 0 (ONE(0))
 *
 * The pass walks the forward net in order and makes, for every node, one copy per worker
 * that holds a piece of its output.  Where a source's layout differs from what the op
 * wants, connection nodes are inserted, by one rule for every case: worker i needs the box
 * B_i of the whole tensor; each worker j holding an intersecting piece slices it (SLICE, if
 * it holds more), sends it (BRIDGE, if j != i) and worker i joins the pieces (CONCAT).
 * A bridge is the only node that moves data between workers, and the backward pass comes
 * from the connection ops' own gradient rules (grad.c): a concat's gradient is sliced and
 * sent back, and a tensor replicated for a feature-split layer sums its gradient pieces.
 * Parameters are made on demand: replicas under batch (the stub sums their gradients),
 * slices under feature, in the layout their op asks for.
 *
 * partition = auto picks batch or feature per layer by trying the choices on the real
 * pass (partition + backward) and counting the bytes each moves per step (explain.c).
 */
#include "sng_pass.h"

#include <stdlib.h>
#include <string.h>

typedef enum { L_SPLIT, L_REPL, L_ONE } LKind;
typedef struct Layout { LKind kind; int dim, worker; } Layout;

typedef struct Memo { Layout l; SngIrNode **w; struct Memo *next; } Memo;

typedef struct Part {
  SngIrGraph *old, *g;
  SngDiag *d;                   /* NULL while auto searches: errors mean "not this choice" */
  int nw;
  SngPart *mode;                /* per layer of old: batch, feature or none */
  Memo **memo;                  /* per old node id: its layouts, the first one native */
  int failed;
} Part;

typedef struct Box { int64_t start[SNG_MAX_RANK], ext[SNG_MAX_RANK]; bool has; } Box;

static bool same_layout(Layout a, Layout b) {
  return a.kind == b.kind && (a.kind != L_SPLIT || a.dim == b.dim) && (a.kind != L_ONE || a.worker == b.worker);
}

/* worker w's piece of a tensor of shape s in layout l */
static Box box_of(SngShape s, Layout l, int nw, int w) {
  Box b = {.has = l.kind != L_ONE || l.worker == w};
  for (int i = 0; i < s.rank; i++) b.ext[i] = s.d[i];
  if (l.kind == L_SPLIT && l.dim < s.rank) {
    int64_t n = s.d[l.dim], q = n / nw, r = n % nw;
    b.start[l.dim] = q * w + (w < r ? w : r);
    b.ext[l.dim] = q + (w < r);
    b.has = b.ext[l.dim] > 0;
  }
  return b;
}

static bool box_eq(const Box *a, const Box *b, int rank) {
  for (int i = 0; i < rank; i++)
    if (a->start[i] != b->start[i] || a->ext[i] != b->ext[i]) return false;
  return true;
}

/* a ∩ b; false if empty */
static bool intersect(const Box *a, const Box *b, int rank, Box *out) {
  for (int i = 0; i < rank; i++) {
    int64_t lo = a->start[i] > b->start[i] ? a->start[i] : b->start[i];
    int64_t hi = a->start[i] + a->ext[i] < b->start[i] + b->ext[i] ? a->start[i] + a->ext[i] : b->start[i] + b->ext[i];
    if (hi <= lo) return false;
    out->start[i] = lo, out->ext[i] = hi - lo;
  }
  out->has = true;
  return true;
}

static SngShape shape_of(const Box *b, int rank) {
  SngShape s = {rank, {0}};
  for (int i = 0; i < rank; i++) s.d[i] = b->ext[i];
  return s;
}

static SngIrNode **new_pieces(Part *p) { return sng_arena_alloc(p->g->arena, sizeof(SngIrNode *) * (size_t)p->nw); }

static void remember(Part *p, const SngIrNode *n, Layout l, SngIrNode **w) {
  Memo *m = sng_arena_alloc(p->g->arena, sizeof *m);
  *m = (Memo){l, w, NULL};
  Memo **at = &p->memo[n->id];
  while (*at) at = &(*at)->next;
  *at = m;
}

static SngIrNode *place(Part *p, int w, SngOp op, const SngIrNode *like, int nsrc, SngIrNode **src, SngShape s) {
  p->g->cur_worker = (uint32_t)w;
  p->g->cur_layer = like->layer;
  SngIrNode *n = sng_ir_node(p->g, op, like->loc, nsrc, src);
  n->shape = s;
  n->phase = like->phase; /* a piece, or a connection moving like's data, runs when like does */
  return n;
}

/* The pieces of n (already partitioned in its native layout a) in layout l. */
static SngIrNode **convert(Part *p, const SngIrNode *n, Layout a, SngIrNode **have, Layout l) {
  SngIrNode **out = new_pieces(p);
  int rank = n->shape.rank;
  for (int i = 0; i < p->nw; i++) {
    Box bi = box_of(n->shape, l, p->nw, i);
    if (!bi.has) continue;
    Box ai = box_of(n->shape, a, p->nw, i), cut;
    if (ai.has && intersect(&ai, &bi, rank, &cut) && box_eq(&cut, &bi, rank)) { /* held here */
      if (box_eq(&ai, &bi, rank)) out[i] = have[i];
      else {
        SngIrNode *s = place(p, i, SNG_OP_SLICE, n, 1, &have[i], shape_of(&bi, rank));
        for (int k = 0; k < rank; k++) s->attr.slice.start[k] = bi.start[k] - ai.start[k];
        out[i] = s;
      }
      continue;
    }
    SngIrNode **parts = sng_arena_alloc(p->g->arena, sizeof(SngIrNode *) * (size_t)p->nw);
    Box first = {0};
    int nparts = 0, dim = 0;
    for (int j = 0; j < p->nw; j++) { /* in worker order: pieces ascend along the split */
      Box aj = box_of(n->shape, a, p->nw, j);
      if (!aj.has || !intersect(&aj, &bi, rank, &cut)) continue;
      SngIrNode *x = have[j];
      if (!box_eq(&aj, &cut, rank)) {
        x = place(p, j, SNG_OP_SLICE, n, 1, &x, shape_of(&cut, rank));
        for (int k = 0; k < rank; k++) x->attr.slice.start[k] = cut.start[k] - aj.start[k];
      }
      if (j != i) {
        x = place(p, i, SNG_OP_BRIDGE, n, 1, &x, shape_of(&cut, rank));
        x->attr.bridge.from = (uint32_t)j;
      }
      if (nparts == 0) first = cut;
      else
        for (int k = 0; k < rank; k++)
          if (cut.start[k] != first.start[k]) dim = k;
      parts[nparts++] = x;
    }
    SNG_ASSERT(nparts > 0);
    if (nparts == 1) out[i] = parts[0];
    else {
      out[i] = place(p, i, SNG_OP_CONCAT, n, nparts, parts, shape_of(&bi, rank));
      out[i]->attr.concat.dim = dim;
    }
  }
  return out;
}

/* Parameters and constants are made where they are wanted. */
static SngIrNode **make_source(Part *p, const SngIrNode *n, Layout l) {
  SngIrNode **out = new_pieces(p);
  for (int w = 0; w < p->nw; w++) {
    Box b = box_of(n->shape, l, p->nw, w);
    if (sng_op_has(n->op, OPF_SCALAR)) b = (Box){.has = true};
    if (!b.has) continue;
    SngIrNode *x = place(p, w, n->op, n, 0, NULL, sng_op_has(n->op, OPF_SCALAR) ? n->shape : shape_of(&b, n->shape.rank));
    x->attr = n->attr;
    x->name = n->name;
    x->init = n->init, x->lr_mult = n->lr_mult, x->wd_mult = n->wd_mult;
    if (n->op == SNG_OP_PARAM) x->attr.param.whole = (SngIrNode *)n;
    memcpy(x->at, b.start, sizeof x->at);
    out[w] = x;
  }
  return out;
}

static SngIrNode **pieces(Part *p, const SngIrNode *n, Layout l) {
  Memo *native = p->memo[n->id];
  if (sng_op_has(n->op, OPF_SCALAR)) l = (Layout){L_REPL, 0, 0};
  for (Memo *m = native; m; m = m->next)
    if (same_layout(m->l, l)) return m->w;
  SngIrNode **w;
  if (sng_op_has(n->op, OPF_SOURCE) && n->op != SNG_OP_INPUT) w = make_source(p, n, l);
  else {
    SNG_ASSERT(native); /* visited before its users */
    w = convert(p, n, native->l, native->w, l);
  }
  remember(p, n, l, w);
  return w;
}

/* ---- the rules (the op table's part column) ---- */

typedef int (*PartFn)(Part *p, const SngIrNode *n, SngPart mode, Layout *in, Layout *out);

static const Layout SPLIT0 = {L_SPLIT, 0, 0}, REPL = {L_REPL, 0, 0}, ONE0 = {L_ONE, 0, 0};

static int part_input(Part *p, const SngIrNode *n, SngPart mode, Layout *in, Layout *out) {
  (void)p, (void)n, (void)in;
  *out = mode == SNG_PART_NONE ? ONE0 : mode == SNG_PART_FEATURE ? REPL : SPLIT0; /* feature: all rows everywhere */
  return 0;
}

/* a product with a transposed weight (rbm's reconstruction h W^T) splits by rows only */
static int part_matmul(Part *p, const SngIrNode *n, SngPart mode, Layout *in, Layout *out) {
  (void)p;
  SNG_ASSERT(!n->attr.matmul.trans_a); /* the forward net has no a^T b */
  if (mode == SNG_PART_NONE) in[0] = in[1] = *out = ONE0;
  else if (mode == SNG_PART_FEATURE && !n->attr.matmul.trans_b) in[0] = REPL, in[1] = *out = (Layout){L_SPLIT, 1, 0};
  else in[0] = *out = SPLIT0, in[1] = REPL;
  return 0;
}

static int part_bias(Part *p, const SngIrNode *n, SngPart mode, Layout *in, Layout *out) {
  (void)p;
  int last = n->shape.rank - 1;
  if (mode == SNG_PART_NONE) in[0] = in[1] = *out = ONE0;
  else if (mode == SNG_PART_FEATURE) in[0] = *out = (Layout){L_SPLIT, last, 0}, in[1] = SPLIT0;
  else in[0] = *out = SPLIT0, in[1] = REPL;
  return 0;
}

static Layout native(Part *p, const SngIrNode *n) {
  return p->memo[n->id] ? p->memo[n->id]->l : REPL;
}

/* elementwise: the layout of the first tensor source, unless the layer says otherwise */
static int part_follow(Part *p, const SngIrNode *n, SngPart mode, Layout *in, Layout *out) {
  const SngIrLayer *ly = n->layer >= 0 ? &p->old->layers[n->layer] : NULL;
  if (ly && ly->explicit_part)
    *out = mode == SNG_PART_NONE ? ONE0 : mode == SNG_PART_FEATURE ? (Layout){L_SPLIT, 1, 0} : SPLIT0;
  else {
    *out = REPL;
    for (int i = 0; i < n->nsrc; i++)
      if (!sng_op_has(n->src[i]->op, OPF_SCALAR)) {
        *out = native(p, n->src[i]);
        break;
      }
  }
  if (out->kind == L_SPLIT && out->dim >= n->shape.rank) {
    if (p->d) sng_diag_error(p->d, n->loc, "%s of rank %d cannot split by feature", sng_op_info[n->op].name, n->shape.rank);
    return -1;
  }
  for (int i = 0; i < n->nsrc; i++) in[i] = *out;
  return 0;
}

/* losses and metrics: rows only */
static int part_rows(Part *p, const SngIrNode *n, SngPart mode, Layout *in, Layout *out) {
  const SngIrLayer *ly = n->layer >= 0 ? &p->old->layers[n->layer] : NULL;
  if (mode == SNG_PART_FEATURE && ly && ly->explicit_part) {
    if (p->d) {
      sng_diag_error(p->d, ly->loc, "%s cannot split by feature: each row needs all its scores", ly->name);
      sng_diag_hint(p->d, "use partition = batch or none on it (a net's default of feature means batch here)");
    }
    return -1;
  }
  in[0] = in[1] = *out = mode == SNG_PART_NONE ? ONE0 : SPLIT0;
  return 0;
}

/* ---- issue 10: CNN ops (conv2d, pool, reshape, per-channel bias) ---- */

static const Layout SPLIT1 = {L_SPLIT, 1, 0};

/* conv2d   batch:   x SPLIT(0), filters and bias REPL        -> SPLIT(0)
 *          feature: x REPL, filters SPLIT(0), bias SPLIT(0)  -> SPLIT(1) (its own output channels) */
static int part_conv(Part *p, const SngIrNode *n, SngPart mode, Layout *in, Layout *out) {
  (void)p;
  for (int i = 0; i < n->nsrc; i++) in[i] = mode == SNG_PART_NONE ? ONE0 : mode == SNG_PART_FEATURE ? SPLIT0 : REPL;
  if (mode == SNG_PART_NONE) *out = ONE0;
  else if (mode == SNG_PART_FEATURE) in[0] = REPL, *out = SPLIT1;
  else in[0] = *out = SPLIT0;
  return 0;
}

/* pool: by batch, or by channel under feature (each channel pools alone) */
static int part_pool(Part *p, const SngIrNode *n, SngPart mode, Layout *in, Layout *out) {
  (void)p, (void)n;
  *out = in[0] = mode == SNG_PART_NONE ? ONE0 : mode == SNG_PART_FEATURE ? SPLIT1 : SPLIT0;
  return 0;
}

/* reshape keeps the batch: split by batch (feature too: a sample's values move between channels) */
static int part_reshape(Part *p, const SngIrNode *n, SngPart mode, Layout *in, Layout *out) {
  (void)p, (void)n;
  *out = in[0] = mode == SNG_PART_NONE ? ONE0 : SPLIT0;
  return 0;
}

/* ---- issue 10: activations, tensor ops, losses and metrics ---- */

/* softmax, concat, slice, split, one_hot: by rows (every row is computed whole).  A net's
 * feature means batch here; feature written on the call is an error. */
static int part_batch(Part *p, const SngIrNode *n, SngPart mode, Layout *in, Layout *out) {
  const SngIrLayer *ly = n->layer >= 0 ? &p->old->layers[n->layer] : NULL;
  if (mode == SNG_PART_FEATURE && ly && ly->explicit_part) {
    if (p->d) {
      sng_diag_error(p->d, ly->loc, "%s cannot split by feature: it splits by rows only", ly->name);
      sng_diag_hint(p->d, "use partition = batch or none on it");
    }
    return -1;
  }
  *out = mode == SNG_PART_NONE ? ONE0 : SPLIT0;
  for (int i = 0; i < n->nsrc; i++) in[i] = *out;
  return 0;
}

/* embed(ids, table): batch: ids by rows, the table replicated; feature: every worker has all
 * ids and its own columns of the table, and gives its columns of the output */
static int part_embed(Part *p, const SngIrNode *n, SngPart mode, Layout *in, Layout *out) {
  (void)p;
  if (mode == SNG_PART_NONE) in[0] = in[1] = *out = ONE0;
  else if (mode == SNG_PART_FEATURE) in[0] = REPL, in[1] = (Layout){L_SPLIT, 1, 0}, *out = (Layout){L_SPLIT, n->shape.rank - 1, 0};
  else in[0] = *out = SPLIT0, in[1] = REPL;
  return 0;
}

/* ---- issue 10: normalisation and dropout (lrn, batchnorm, dropout) ---- */

/* lrn: by rows only; a channel's window needs its neighbours' channels, which a split by
 * channel would have to exchange, so an explicit feature split is refused (a net-wide one
 * means batch here) */
static int part_lrn(Part *p, const SngIrNode *n, SngPart mode, Layout *in, Layout *out) {
  const SngIrLayer *ly = n->layer >= 0 ? &p->old->layers[n->layer] : NULL;
  if (mode == SNG_PART_FEATURE && ly && ly->explicit_part) {
    if (p->d) {
      sng_diag_error(p->d, ly->loc, "%s cannot split by feature: each channel's output needs its neighbours' "
                     "channels (the window spans size channels)", ly->name);
      sng_diag_hint(p->d, "use partition = batch or none on it");
    }
    return -1;
  }
  in[0] = *out = mode == SNG_PART_NONE ? ONE0 : SPLIT0;
  return 0;
}

/* batchnorm's row sums: rows stay where they are; by feature each worker sums its channels */
static int part_bn_stats(Part *p, const SngIrNode *n, SngPart mode, Layout *in, Layout *out) {
  (void)p, (void)n;
  if (mode == SNG_PART_NONE) in[0] = *out = ONE0;
  else if (mode == SNG_PART_FEATURE) in[0] = (Layout){L_SPLIT, 1, 0}, *out = (Layout){L_SPLIT, 2, 0};
  else in[0] = *out = SPLIT0;
  return 0;
}

/* batchnorm: by batch every worker gets every row's sums (REPL: the whole batch's statistics,
 * as on one process) and the parameters whole; by feature each worker normalises its own
 * channels with their slices */
static int part_batchnorm(Part *p, const SngIrNode *n, SngPart mode, Layout *in, Layout *out) {
  (void)p, (void)n;
  if (mode == SNG_PART_NONE) {
    for (int k = 0; k < 6; k++) in[k] = ONE0;
    *out = ONE0;
  } else if (mode == SNG_PART_FEATURE) {
    in[0] = *out = (Layout){L_SPLIT, 1, 0}, in[1] = (Layout){L_SPLIT, 2, 0};
    for (int k = 2; k < 6; k++) in[k] = SPLIT0;
  } else {
    in[0] = *out = SPLIT0;
    for (int k = 1; k < 6; k++) in[k] = REPL;
  }
  return 0;
}

/* ---- issue 10: energy models (rbm, sample; the cd algorithm's loss) ---- */

/* cd_loss: the chain's tensors by rows, the rbm's parameters whole on every worker (their
 * gradient shares are summed by the stub, as a dense layer's under batch) */
static int part_cd_loss(Part *p, const SngIrNode *n, SngPart mode, Layout *in, Layout *out) {
  if (part_rows(p, n, mode, in, out)) return -1;
  for (int k = 0; k < 8; k++) in[k] = *out;
  if (mode != SNG_PART_NONE) in[4] = in[5] = in[6] = REPL;
  return 0;
}

#define none NULL
static const PartFn part_fn[SNG_OP__COUNT] = {
#define OP(name, nsrc, flags, shape, grad, part, ...) [SNG_OP_##name] = part,
#include "ops.def"
#undef OP
};
#undef none

/* ---- the pass ---- */

static int split_check(Part *p, const SngIrNode *n, Layout l) {
  if (l.kind != L_SPLIT || l.dim >= n->shape.rank || n->shape.d[l.dim] >= p->nw) return 0;
  if (p->d) {
    const SngIrLayer *ly = n->layer >= 0 ? &p->old->layers[n->layer] : NULL;
    sng_diag_error(p->d, ly ? ly->loc : n->loc, "%s: cannot split %s of %lld over %d workers", ly ? ly->name : "layer",
                   l.dim == 0 ? "a batch" : "units", (long long)n->shape.d[l.dim], p->nw);
  }
  return -1;
}

static int visit(Part *p, const SngIrNode *n) {
  if (n->dead || (sng_op_has(n->op, OPF_SOURCE) && n->op != SNG_OP_INPUT)) return 0;
  PartFn rule = part_fn[n->op];
  SNG_ASSERT(rule); /* every forward op a layer can make has a partition rule */
  SngPart mode = n->layer >= 0 ? p->mode[n->layer] : SNG_PART_BATCH;
  Layout in[8], out;
  SNG_ASSERT(n->nsrc <= 8);
  if (rule(p, n, mode, in, &out) || split_check(p, n, out)) return -1;
  SngIrNode **srcw[8];
  for (int k = 0; k < n->nsrc; k++) {
    if (split_check(p, n->src[k], in[k])) return -1;
    srcw[k] = pieces(p, n->src[k], in[k]);
  }
  SngIrNode **outw = new_pieces(p);
  for (int w = 0; w < p->nw; w++) {
    Box b = box_of(n->shape, out, p->nw, w);
    if (!b.has) continue;
    SngIrNode *src[8];
    for (int k = 0; k < n->nsrc; k++) {
      src[k] = srcw[k][w];
      SNG_ASSERT(src[k]); /* the rules ask for sources where the output is */
    }
    SngIrNode *x = place(p, w, n->op, n, n->nsrc, src, shape_of(&b, n->shape.rank));
    x->attr = n->attr;
    x->name = n->name;
    memcpy(x->at, b.start, sizeof x->at);
    if (sng_op_has(n->op, OPF_LOSS)) x->attr.loss.rows = n->shape.d[0]; /* the mean is over the whole batch */
    outw[w] = x;
  }
  remember(p, n, out, outw);
  return 0;
}

/* One partitioned graph for the given per-layer modes; NULL on error. */
static SngIrGraph *build(SngIrGraph *old, int nw, SngPart *mode, SngDiag *d) {
  Part p = {old, sng_ir_graph_new(old->name), d, nw, mode, sng_calloc((size_t)old->nnodes + 1, sizeof(Memo *)), 0};
  p.g->nworkers = nw;
  for (int i = 0; i < old->nlayers; i++) sng_ir_layer_new(p.g, old->layers[i].name, old->layers[i].loc, mode[i], old->layers[i].explicit_part);
  int err = 0;
  for (int i = 0; i < old->nnodes && !err; i++) err = visit(&p, old->nodes[i]);
  p.g->cur_worker = 0, p.g->cur_layer = -1;
  free(p.memo);
  if (err) {
    sng_ir_graph_free(p.g);
    return NULL;
  }
  return p.g;
}

/* Layers whose choice matters to auto: those with an op whose rule reads the mode; one pass
 * over the nodes for all layers. */
static bool *deciding_layers(const SngIrGraph *old) {
  bool *d = sng_calloc((size_t)old->nlayers + 1, sizeof *d);
  for (int i = 0; i < old->nnodes; i++) {
    const SngIrNode *n = old->nodes[i];
    if (n->layer >= 0 && !n->dead &&
        (n->op == SNG_OP_INPUT || part_fn[n->op] == part_matmul || part_fn[n->op] == part_bias ||
         part_fn[n->op] == part_conv))
      d[n->layer] = true;
  }
  return d;
}

static int64_t cost(SngIrGraph *old, int nw, SngPart *mode) {
  SngIrGraph *g = build(old, nw, mode, NULL);
  int64_t c = INT64_MAX;
  if (g && sng_pass_shape(g, NULL) == 0 && sng_pass_grad_graph(g, NULL) == 0 && sng_pass_shape(g, NULL) == 0)
    c = sng_pass_step_bytes(g, NULL);
  sng_ir_graph_free(g);
  return c;
}

/* Each choice tried costs a partition + grad build of the whole net, so the search has a budget
 * of node visits: a net of a few hundred nodes may try thousands of choices, one of 100k nodes
 * only the two uniform ones (a build visits ~5 us a node: the budget is about 2 s). */
enum { EXACT_LIMIT = 12, VISIT_BUDGET = 400000 };

static void resolve_auto(SngJob *job, SngIrGraph *old, int nw, SngPart *mode) {
  int *free_ = sng_alloc(sizeof(int) * (size_t)(old->nlayers + 1)), nfree = 0; /* every layer with a choice */
  bool *decides = deciding_layers(old);
  for (int i = 0; i < old->nlayers; i++)
    if (mode[i] == SNG_PART_AUTO) {
      mode[i] = SNG_PART_BATCH;
      if (decides[i]) free_[nfree++] = i;
    }
  free(decides);
  SngAutoReport *r = &job->autorep;
  r->ran = 1;
  r->budget = VISIT_BUDGET / (old->nnodes > 0 ? old->nnodes : 1);
  if (r->budget < 2) r->budget = 2;
  size_t msz = sizeof(SngPart) * (size_t)old->nlayers;
  SngPart *m = sng_alloc(msz + sizeof(SngPart));
  memcpy(m, mode, msz);
  for (int k = 0; k < nfree; k++) m[free_[k]] = SNG_PART_FEATURE;
  r->all_feature = cost(old, nw, m);
  for (int k = 0; k < nfree; k++) m[free_[k]] = SNG_PART_BATCH;
  r->all_batch = r->chosen = cost(old, nw, m);
  r->searched = 2;
  if (r->all_feature < r->all_batch) { /* start from the cheaper uniform choice */
    for (int k = 0; k < nfree; k++) mode[free_[k]] = SNG_PART_FEATURE;
    r->chosen = r->all_feature;
  }
  if (nfree <= EXACT_LIMIT && (1 << nfree) <= r->budget) {
    r->exact = true;
    for (uint32_t bits = 1; bits + 1 < (1u << nfree); bits++) { /* the two uniform ones are done */
      for (int k = 0; k < nfree; k++) m[free_[k]] = (bits >> k & 1) ? SNG_PART_FEATURE : SNG_PART_BATCH;
      int64_t c = cost(old, nw, m);
      r->searched++;
      if (c < r->chosen) { /* ties keep the earlier (more batch, or uniform) choice */
        r->chosen = c;
        memcpy(mode, m, msz);
      }
    }
  } else if (nfree > 0) { /* flip one layer at a time while that helps, within the budget */
    memcpy(m, mode, msz);
    for (bool better = true; better && !r->cut;) {
      better = false;
      for (int k = 0; k < nfree; k++) {
        if (r->searched >= r->budget) {
          r->cut = true;
          break;
        }
        m[free_[k]] = m[free_[k]] == SNG_PART_BATCH ? SNG_PART_FEATURE : SNG_PART_BATCH;
        int64_t c = cost(old, nw, m);
        r->searched++;
        if (c < r->chosen) r->chosen = c, better = true, memcpy(mode, m, msz);
        else m[free_[k]] = mode[free_[k]];
      }
    }
  }
  free(m);
  free(free_);
}

int sng_pass_partition(SngJob *job, SngDiag *d) {
  SngIrGraph *old = job->net;
  int nw = job->cluster.workers_per_group;
  SngPart *mode = sng_alloc(sizeof(SngPart) * (size_t)(old->nlayers + 1));
  bool any_auto = false;
  for (int i = 0; i < old->nlayers; i++) mode[i] = old->layers[i].part, any_auto |= mode[i] == SNG_PART_AUTO;
  if (any_auto) resolve_auto(job, old, nw, mode);
  SngIrGraph *g = build(old, nw, mode, d);
  free(mode);
  if (!g) return -1;
  job->whole = old;
  job->net = g;
  return 0;
}
