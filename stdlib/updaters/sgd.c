/* sgd.c - stochastic gradient descent, with momentum, and Nesterov's.
 *
 * sgd (SINGA's rule, reference.md section 4): with momentum m > 0, h = m*h - lr*g; w += h,
 * and without, w -= lr*g.  With a fixed lr this is PyTorch's SGD (its buffer is -h/lr).
 * nesterov (PyTorch's SGD(nesterov = True), dampening 0): h = m*h + g; w -= lr*(g + m*h).
 */
#include "internal.h"

int sng_upd_sgd(U *b, SngIrNode *g) {
  SngIrNode *step = u_mul(b, g, u_scalar(b, "lr", SNG_UPD_S_LR));
  if (b->u->momentum > 0) {
    SngIrNode *h = u_state(b, "h", 0);
    SngIrNode *h1 = u_sub(b, u_mul(b, h, u_const(b, b->u->momentum)), step);
    SngIrNode *w1 = u_add(b, b->w, h1);
    u_set(b, h, h1);
    u_set(b, b->w, w1);
    return 1;
  }
  u_set(b, b->w, u_sub(b, b->w, step));
  return 0;
}

int sng_upd_nesterov(U *b, SngIrNode *g) {
  SngIrNode *h = u_state(b, "h", 0), *m = u_const(b, b->u->momentum);
  SngIrNode *h1 = u_add(b, u_mul(b, h, m), g);
  SngIrNode *d = u_add(b, g, u_mul(b, h1, m));
  SngIrNode *w1 = u_sub(b, b->w, u_mul(b, d, u_scalar(b, "lr", SNG_UPD_S_LR)));
  u_set(b, h, h1);
  u_set(b, b->w, w1);
  return 1;
}
