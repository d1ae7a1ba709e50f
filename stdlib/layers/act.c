/* act.c - the elementwise activations: sigmoid, tanh (and, built from them, stanh,
 * leaky_relu, softplus).  Each is one or a few elementwise ops that the fusion pass folds into
 * its neighbours' kernel, forward and backward; a NaN input gives a NaN output. */
#include "internal.h"

/* name(x) -> op(x) */
static int unary(SngBuilder *b, const SngExpr *call, SngIrNode **out, SngOp op) {
  static const char *const p[] = {"x"};
  const SngExpr *s[1];
  if (sng_std_bind(b, call, p, 1, s)) return -1;
  SngIrNode *x = sng_std_tensor(b, s[0]);
  if (!x) return -1;
  out[0] = sng_ir_op1(b->g, op, call->loc, x);
  return 0;
}

int sng_std_build_sigmoid(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout) {
  (void)nout;
  return unary(b, call, out, SNG_OP_SIGMOID);
}

int sng_std_build_tanh(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout) {
  (void)nout;
  return unary(b, call, out, SNG_OP_TANH);
}
