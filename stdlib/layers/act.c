/* act.c - the activations: sigmoid, tanh, stanh, leaky_relu, softplus, each an elementwise
 * op that the fusion pass folds into its neighbours' kernel, forward and backward (a NaN
 * input gives a NaN output); and softmax, a row kernel. */
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

int sng_std_build_softplus(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout) {
  (void)nout;
  return unary(b, call, out, SNG_OP_SOFTPLUS);
}

/* softmax(x): a C kernel per row, not elementwise (each output reads the whole row) */
int sng_std_build_softmax(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout) {
  (void)nout;
  return unary(b, call, out, SNG_OP_SOFTMAX);
}

/* stanh(x) = 1.7159047 tanh(0.66666667 x) (SINGA's kSTanh, LeCun's scaled tanh) */
int sng_std_build_stanh(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout) {
  (void)nout;
  return unary(b, call, out, SNG_OP_STANH);
}

/* leaky_relu(x, slope = 0.01): x > 0 ? x : slope x */
int sng_std_build_leaky_relu(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout) {
  static const char *const p[] = {"x", "slope?"};
  const SngExpr *s[2];
  double slope = 0.01;
  (void)nout;
  if (sng_std_bind(b, call, p, 2, s) || (s[1] && sng_std_number(b, s[1], &slope))) return -1;
  SngIrNode *x = sng_std_tensor(b, s[0]);
  if (!x) return -1;
  out[0] = sng_ir_op2(b->g, SNG_OP_LEAKY_RELU, call->loc, x, sng_ir_const(b->g, call->loc, slope));
  return 0;
}
