/* adaptive.c - the updaters with per-value step sizes, as PyTorch 1.13 writes them (lr the
 * scheduled rate, g the gradient after the prologue, eps the updater's epsilon):
 *   adagrad   s += g^2;                        w -= lr * g / (sqrt(s) + eps)
 *   rmsprop   v = a v + (1-a) g^2;             w -= lr * g / (sqrt(v) + eps)
 *             with momentum m > 0:             h = m h + g / (sqrt(v) + eps); w -= lr * h
 *   adadelta  v = r v + (1-r) g^2;  d = sqrt(u + eps) / sqrt(v + eps) * g;
 *             u = r u + (1-r) d^2;             w -= lr * d
 *   adam      m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
 *             w -= (m / (sqrt(v) / c2 + eps)) * lr / c1
 *   adamax    m = b1 m + (1-b1) g;  u = max(b2 u, |g| + eps);  w -= (m / u) * lr / c1
 * with c1 = 1 - b1^t and c2 = sqrt(1 - b2^t) at step t = 1, 2, ... (the scalars BC1, BC2),
 * or c1 = c2 = 1 without bias correction (SINGA's adam and adamax).
 */
#include "internal.h"

static SngIrNode *lr(U *b) { return u_scalar(b, "lr", SNG_UPD_S_LR); }
static SngIrNode *sq(U *b, SngIrNode *x) { return u_mul(b, x, x); }

int sng_upd_adagrad(U *b, SngIrNode *g) {
  SngIrNode *s = u_state(b, "sum", 0);
  SngIrNode *s1 = u_add(b, s, sq(b, g));
  SngIrNode *w1 = u_sub(b, b->w, u_mul(b, lr(b), u_div(b, g, u_add(b, u_sqrt(b, s1), u_const(b, b->u->eps)))));
  u_set(b, s, s1);
  u_set(b, b->w, w1);
  return 1;
}

int sng_upd_rmsprop(U *b, SngIrNode *g) {
  SngIrNode *v = u_state(b, "v", 0);
  SngIrNode *v1 = u_avg(b, b->u->beta2, v, sq(b, g));
  SngIrNode *d = u_div(b, g, u_add(b, u_sqrt(b, v1), u_const(b, b->u->eps)));
  u_set(b, v, v1);
  if (b->u->momentum > 0) {
    SngIrNode *h = u_state(b, "h", 1);
    SngIrNode *h1 = u_add(b, u_mul(b, h, u_const(b, b->u->momentum)), d);
    u_set(b, h, h1);
    u_set(b, b->w, u_sub(b, b->w, u_mul(b, lr(b), h1)));
    return 2;
  }
  u_set(b, b->w, u_sub(b, b->w, u_mul(b, lr(b), d)));
  return 1;
}

int sng_upd_adadelta(U *b, SngIrNode *g) {
  SngIrNode *v = u_state(b, "v", 0), *u = u_state(b, "u", 1), *eps = u_const(b, b->u->eps);
  double r = b->u->beta2;
  SngIrNode *v1 = u_avg(b, r, v, sq(b, g));
  SngIrNode *d = u_mul(b, u_div(b, u_sqrt(b, u_add(b, u, eps)), u_sqrt(b, u_add(b, v1, eps))), g);
  SngIrNode *u1 = u_avg(b, r, u, sq(b, d));
  SngIrNode *w1 = u_sub(b, b->w, u_mul(b, lr(b), d));
  u_set(b, v, v1);
  u_set(b, u, u1);
  u_set(b, b->w, w1);
  return 2;
}

/* (lr / c1) * x, as x * lr / c1: elementwise, since an op of two scalars has no shape */
static SngIrNode *scaled_step(U *b, SngIrNode *x) {
  SngIrNode *s = u_mul(b, x, lr(b));
  return b->u->bias_correction ? u_div(b, s, u_scalar(b, "bc1", SNG_UPD_S_BC1)) : s;
}

int sng_upd_adam(U *b, SngIrNode *g) {
  SngIrNode *m = u_state(b, "m", 0), *v = u_state(b, "v", 1);
  SngIrNode *m1 = u_avg(b, b->u->beta1, m, g), *v1 = u_avg(b, b->u->beta2, v, sq(b, g));
  SngIrNode *root = u_sqrt(b, v1);
  if (b->u->bias_correction) root = u_div(b, root, u_scalar(b, "bc2", SNG_UPD_S_BC2));
  SngIrNode *w1 = u_sub(b, b->w, scaled_step(b, u_div(b, m1, u_add(b, root, u_const(b, b->u->eps)))));
  u_set(b, m, m1);
  u_set(b, v, v1);
  u_set(b, b->w, w1);
  return 2;
}

int sng_upd_adamax(U *b, SngIrNode *g) {
  SngIrNode *m = u_state(b, "m", 0), *u = u_state(b, "u", 1);
  SngIrNode *m1 = u_avg(b, b->u->beta1, m, g);
  SngIrNode *u1 = u_max(b, u_mul(b, u, u_const(b, b->u->beta2)), u_add(b, u_abs(b, g), u_const(b, b->u->eps)));
  SngIrNode *w1 = u_sub(b, b->w, scaled_step(b, u_div(b, m1, u1)));
  u_set(b, m, m1);
  u_set(b, u, u1);
  u_set(b, b->w, w1);
  return 2;
}
