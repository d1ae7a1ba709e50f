/* relu.c - relu(x): max(x, 0), one elementwise op that the fusion pass folds into its
 * neighbours' kernel. */
#include "internal.h"

int sng_std_build_relu(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout) {
  static const char *const p[] = {"x"};
  const SngExpr *s[1];
  (void)nout;
  if (sng_std_bind(b, call, p, 1, s)) return -1;
  SngIrNode *x = sng_std_tensor(b, s[0]);
  if (!x) return -1;
  out[0] = sng_ir_op1(b->g, SNG_OP_RELU, call->loc, x);
  return 0;
}
