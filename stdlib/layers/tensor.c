/* tensor.c - layers that combine or cut tensors: add (a residual sum), concat, slice, split,
 * embed (a table lookup) and one_hot.
 *
 * SINGA's kSplit (one output to several consumers) needs no layer here: a name may be used
 * by any number of layers and their gradients are summed.  Its kSlice (one output cut into
 * N along a dimension) is `a, b, c = split(x, dim = 1)`, one tensor per name; `slice(x,
 * start, size)` cuts one range.  The batch dimension (0) is never cut or joined: every
 * tensor keeps one row per sample, which is what partitioning by batch relies on.
 */
#include "internal.h"

/* a dimension argument: 1 .. SNG_MAX_RANK - 1 (0 is the batch) */
static int dim_arg(SngBuilder *b, const SngExpr *e, const char *layer, int64_t *dim) {
  *dim = 1;
  if (!e) return 0;
  if (sng_std_int(b, e, 0, dim)) return -1;
  if (*dim == 0 || *dim >= SNG_MAX_RANK) {
    sng_diag_error(b->d, e->loc, "%s() dim = %lld: %s", layer, (long long)*dim,
                   *dim == 0 ? "dimension 0 is the batch, which is never cut or joined" : "a tensor has at most 4 dimensions");
    return -1;
  }
  return 0;
}

/* add(a, b): a + b, of one shape (a residual connection) */
int sng_std_build_add(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout) {
  static const char *const p[] = {"a", "b"};
  const SngExpr *s[2];
  (void)nout;
  if (sng_std_bind(b, call, p, 2, s)) return -1;
  SngIrNode *x = sng_std_tensor(b, s[0]), *y = sng_std_tensor(b, s[1]);
  if (!x || !y) return -1;
  out[0] = sng_ir_op2(b->g, SNG_OP_ADD, call->loc, x, y);
  return 0;
}

/* concat(a, b, ... up to 8, dim = 1) */
int sng_std_build_concat(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout) {
  static const char *const p[] = {"a", "b", "c?", "d?", "e?", "f?", "g?", "h?", "dim?"};
  const SngExpr *s[9];
  int64_t dim;
  (void)nout;
  if (sng_std_bind(b, call, p, 9, s) || dim_arg(b, s[8], "concat", &dim)) return -1;
  SngIrNode *x[8];
  int n = 0;
  for (int i = 0; i < 8; i++)
    if (s[i] && !(x[n++] = sng_std_tensor(b, s[i]))) return -1;
  out[0] = sng_ir_node(b->g, SNG_OP_CONCAT_DIM, call->loc, n, x);
  out[0]->attr.args.i[0] = dim;
  return 0;
}

/* slice(x, start, size, dim = 1): the range [start, start + size) of dimension dim */
int sng_std_build_slice(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout) {
  static const char *const p[] = {"x", "start", "size", "dim?"};
  const SngExpr *s[4];
  int64_t start, size, dim;
  (void)nout;
  if (sng_std_bind(b, call, p, 4, s) || sng_std_int(b, s[1], 0, &start) || sng_std_int(b, s[2], 1, &size) ||
      dim_arg(b, s[3], "slice", &dim))
    return -1;
  SngIrNode *x = sng_std_tensor(b, s[0]);
  if (!x) return -1;
  out[0] = sng_ir_op1(b->g, SNG_OP_SLICE_DIM, call->loc, x);
  int64_t *a = out[0]->attr.args.i;
  a[0] = dim, a[1] = start, a[2] = size;
  return 0;
}

/* a, b, ... = split(x, dim = 1): as many equal pieces as names (the first ones one larger
 * when the size does not divide) */
int sng_std_build_split(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout) {
  static const char *const p[] = {"x", "dim?"};
  const SngExpr *s[2];
  int64_t dim;
  if (sng_std_bind(b, call, p, 2, s) || dim_arg(b, s[1], "split", &dim)) return -1;
  if (nout < 2) {
    sng_diag_error(b->d, call->loc, "split() gives one piece per name assigned, and needs at least two");
    sng_diag_hint(b->d, "a, b = split(x) cuts x in two; slice(x, start, size) cuts out one range");
    return -1;
  }
  SngIrNode *x = sng_std_tensor(b, s[0]);
  if (!x) return -1;
  for (int k = 0; k < nout; k++) {
    out[k] = sng_ir_op1(b->g, SNG_OP_SLICE_DIM, call->loc, x);
    int64_t *a = out[k]->attr.args.i;
    a[0] = dim, a[3] = nout, a[4] = k; /* start and size: the shape pass, from x's size */
  }
  return 0;
}

/* embed(ids, vocab, dim, init = auto, lr_mult = 1, wd_mult = 1): row ids[i] of a [vocab, dim]
 * table, ids being integers stored as floats ([batch] or [batch, T]) */
int sng_std_build_embed(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout) {
  static const char *const p[] = {"ids", "vocab", "dim", "init?", "lr_mult?", "wd_mult?"};
  const SngExpr *s[6];
  int64_t vocab, dim;
  double lr_mult = 1, wd_mult = 1;
  (void)nout;
  if (sng_std_bind(b, call, p, 6, s) || sng_std_int(b, s[1], 1, &vocab) || sng_std_int(b, s[2], 1, &dim) ||
      (s[4] && sng_std_number(b, s[4], &lr_mult)) || (s[5] && sng_std_number(b, s[5], &wd_mult)))
    return -1;
  if (sng_std_check_mults(b, s[4], s[5], lr_mult, wd_mult)) return -1;
  SngIrNode *ids = sng_std_tensor(b, s[0]);
  if (!ids) return -1;
  const char *name = sng_std_unique(b, "embed");
  SngIrNode *w = sng_std_param(b, call->loc, sng_arena_printf(b->g->arena, "%s.w", name), sng_shape2(vocab, dim),
                               s[3], lr_mult, wd_mult);
  if (!w) return -1;
  out[0] = sng_ir_op2(b->g, SNG_OP_EMBED, call->loc, ids, w);
  return 0;
}

/* one_hot(ids, classes): [batch] -> [batch, classes], a 1 at each id */
int sng_std_build_one_hot(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout) {
  static const char *const p[] = {"ids", "classes"};
  const SngExpr *s[2];
  int64_t classes;
  (void)nout;
  if (sng_std_bind(b, call, p, 2, s) || sng_std_int(b, s[1], 1, &classes)) return -1;
  SngIrNode *ids = sng_std_tensor(b, s[0]);
  if (!ids) return -1;
  out[0] = sng_ir_op1(b->g, SNG_OP_ONE_HOT, call->loc, ids);
  out[0]->attr.args.i[0] = classes;
  return 0;
}
