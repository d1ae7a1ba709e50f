/* loss.c - the layers that compare logits with labels: the loss and the metric.
 *
 * Both give one value per row; the reported loss and metric are their means.  Whether a
 * net's `loss` and `metric` lines name such a layer is checked by sema through the ops'
 * flags (OPF_LOSS, OPF_METRIC), not here.
 */
#include "internal.h"

/* name(logits, labels) -> op(logits, labels) */
static int build_two(SngBuilder *b, const SngExpr *call, SngIrNode **out, SngOp op) {
  static const char *const p[] = {"logits", "labels"};
  const SngExpr *s[2];
  if (sng_std_bind(b, call, p, 2, s)) return -1;
  SngIrNode *x = sng_std_tensor(b, s[0]), *y = sng_std_tensor(b, s[1]);
  if (!x || !y) return -1;
  out[0] = sng_ir_op2(b->g, op, call->loc, x, y);
  return 0;
}

/* softmax_cross_entropy(logits, labels): per-row loss */
int sng_std_build_sxent(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout) {
  (void)nout;
  return build_two(b, call, out, SNG_OP_SOFTMAX_XENT);
}

/* accuracy(logits, labels, k = 1): per-row 1 if the label's logit is among the top k (k = 1:
 * the top logit is the label's) */
int sng_std_build_accuracy(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout) {
  static const char *const p[] = {"logits", "labels", "k?"};
  const SngExpr *s[3];
  int64_t k = 1;
  (void)nout;
  if (sng_std_bind(b, call, p, 3, s) || (s[2] && sng_std_int(b, s[2], 1, &k))) return -1;
  SngIrNode *x = sng_std_tensor(b, s[0]), *y = sng_std_tensor(b, s[1]);
  if (!x || !y) return -1;
  out[0] = sng_ir_op2(b->g, k == 1 ? SNG_OP_ACCURACY : SNG_OP_TOP_K, call->loc, x, y);
  if (k > 1) out[0]->attr.args.i[0] = k;
  return 0;
}
