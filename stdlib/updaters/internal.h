/* internal.h - private to stdlib/updaters: a small vocabulary for writing an update rule as IR.
 *
 * An updater is a function that appends its rule to U's graph, given the gradient after the
 * shared prologue (scale, clip, weight decay: updater.c), and returns its number of state
 * buffers.  Buffers: arg 0 the values w, arg 1 the gradient, args 2.. the state.
 */
#ifndef SNG_UPDATERS_INTERNAL_H
#define SNG_UPDATERS_INTERNAL_H

#include "sng_std.h"

typedef struct U {
  SngIrGraph *g;
  SngLoc loc;
  const SngPlanUpdater *u;
  SngIrNode *w;                 /* the values (arg 0) */
} U;

static inline SngIrNode *u_add(U *b, SngIrNode *x, SngIrNode *y) { return sng_ir_op2(b->g, SNG_OP_ADD, b->loc, x, y); }
static inline SngIrNode *u_sub(U *b, SngIrNode *x, SngIrNode *y) { return sng_ir_op2(b->g, SNG_OP_SUB, b->loc, x, y); }
static inline SngIrNode *u_mul(U *b, SngIrNode *x, SngIrNode *y) { return sng_ir_op2(b->g, SNG_OP_MUL, b->loc, x, y); }
static inline SngIrNode *u_div(U *b, SngIrNode *x, SngIrNode *y) { return sng_ir_op2(b->g, SNG_OP_DIV, b->loc, x, y); }
static inline SngIrNode *u_max(U *b, SngIrNode *x, SngIrNode *y) { return sng_ir_op2(b->g, SNG_OP_MAX, b->loc, x, y); }
static inline SngIrNode *u_min(U *b, SngIrNode *x, SngIrNode *y) { return sng_ir_op2(b->g, SNG_OP_MIN, b->loc, x, y); }
static inline SngIrNode *u_sqrt(U *b, SngIrNode *x) { return sng_ir_op1(b->g, SNG_OP_SQRT, b->loc, x); }
static inline SngIrNode *u_abs(U *b, SngIrNode *x) { return sng_ir_op1(b->g, SNG_OP_ABS, b->loc, x); }
static inline SngIrNode *u_const(U *b, double v) { return sng_ir_const(b->g, b->loc, v); }
static inline SngIrNode *u_scalar(U *b, const char *name, int slot) { return sng_ir_scalar(b->g, b->loc, name, slot); }
static inline SngIrNode *u_state(U *b, const char *name, int k) {
  return sng_ir_arg(b->g, b->loc, name, sng_shape1(1), 2 + k); /* the runtime passes the slice length as cols */
}
static inline void u_set(U *b, SngIrNode *dst, SngIrNode *v) { sng_ir_op2(b->g, SNG_OP_ASSIGN, b->loc, dst, v); }
/* a*x + (1-a)*y, the moving average of the adaptive rules */
static inline SngIrNode *u_avg(U *b, double a, SngIrNode *x, SngIrNode *y) {
  return u_add(b, u_mul(b, x, u_const(b, a)), u_mul(b, y, u_const(b, 1 - a)));
}

/* each appends its rule for gradient g (after the prologue) and returns its state count */
int sng_upd_sgd(U *b, SngIrNode *g);
int sng_upd_nesterov(U *b, SngIrNode *g);
int sng_upd_adagrad(U *b, SngIrNode *g);
int sng_upd_rmsprop(U *b, SngIrNode *g);
int sng_upd_adadelta(U *b, SngIrNode *g);
int sng_upd_adam(U *b, SngIrNode *g);
int sng_upd_adamax(U *b, SngIrNode *g);

#endif
