/* target_loss.c - losses that compare a prediction with a target tensor of its shape (not
 * with labels): euclidean_loss and sigmoid_cross_entropy.  One value per row, like every
 * loss; training minimises the batch mean.  A target made from labels is one_hot(y, classes). */
#include "internal.h"

static int pair(SngBuilder *b, const SngExpr *call, SngIrNode **out, SngOp op) {
  static const char *const p[] = {"prediction", "target"};
  const SngExpr *s[2];
  if (sng_std_bind(b, call, p, 2, s)) return -1;
  SngIrNode *x = sng_std_tensor(b, s[0]), *t = sng_std_tensor(b, s[1]);
  if (!x || !t) return -1;
  out[0] = sng_ir_op2(b->g, op, call->loc, x, t);
  return 0;
}

/* euclidean_loss(prediction, target): sum_j (x - t)^2 per row (SINGA's kEuclideanLoss, no 1/2) */
int sng_std_build_euclidean(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout) {
  (void)nout;
  return pair(b, call, out, SNG_OP_EUCLIDEAN_LOSS);
}

/* sigmoid_cross_entropy(logits, targets): sum_j of the binary cross-entropy of sigmoid(x)
 * against t in [0, 1], per row */
int sng_std_build_sigmoid_xent(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout) {
  (void)nout;
  return pair(b, call, out, SNG_OP_SIGMOID_XENT);
}
