/* sgd.c - stochastic gradient descent, written as IR that the fusion pass turns into one kernel.
 *
 * A server applies the update to each parameter slice it owns by calling that kernel with
 *   bufs    = {w, g, state...}       (the slice's values, gradient and updater state)
 *   scalars = {lr, wd, grad_scale}   (lr from the schedule times the param's lr_mult,
 *                                     weight decay times wd_mult, and 1: the stub sums
 *                                     the workers' shares, each already scaled by
 *                                     1/(whole batch) at the loss, so the sum is the mean)
 * so a new updater is a new IR builder here (updaters/<upd>.c), not new runtime code.
 * SINGA's rules (reference.md section 4): g = g*grad_scale + wd*w, then for sgd with
 * momentum h = m*h - lr*g; w += h, and without momentum w -= lr*g.
 */
#include "sng_std.h"

enum { S_LR, S_WD, S_GSCALE };

/* SGD is the only updater kind so far (SNG_UPD_SGD), so it is sng_std_updater itself. */
SngIrGraph *sng_std_updater(const SngPlanUpdater *u, int32_t *nstate) {
  SngIrGraph *g = sng_ir_graph_new("update");
  SngLoc loc = {0};
  SngShape flat = sng_shape1(1); /* the runtime passes the slice length as cols */
  SngIrNode *w = sng_ir_arg(g, loc, "w", flat, 0), *gr = sng_ir_arg(g, loc, "g", flat, 1);
  SngIrNode *lr = sng_ir_scalar(g, loc, "lr", S_LR), *wd = sng_ir_scalar(g, loc, "wd", S_WD);
  SngIrNode *gs = sng_ir_scalar(g, loc, "grad_scale", S_GSCALE);
  SngIrNode *g1 = sng_ir_op2(g, SNG_OP_ADD, loc, sng_ir_op2(g, SNG_OP_MUL, loc, gr, gs),
                             sng_ir_op2(g, SNG_OP_MUL, loc, w, wd));
  SngIrNode *step = sng_ir_op2(g, SNG_OP_MUL, loc, g1, lr);
  if (u->momentum > 0) {
    SngIrNode *h = sng_ir_arg(g, loc, "h", flat, 2);
    SngIrNode *m = sng_ir_const(g, loc, u->momentum);
    SngIrNode *h1 = sng_ir_op2(g, SNG_OP_SUB, loc, sng_ir_op2(g, SNG_OP_MUL, loc, h, m), step);
    SngIrNode *w1 = sng_ir_op2(g, SNG_OP_ADD, loc, w, h1);
    sng_ir_op2(g, SNG_OP_ASSIGN, loc, h, h1);
    sng_ir_op2(g, SNG_OP_ASSIGN, loc, w, w1);
    *nstate = 1;
  } else {
    sng_ir_op2(g, SNG_OP_ASSIGN, loc, w, sng_ir_op2(g, SNG_OP_SUB, loc, w, step));
    *nstate = 0;
  }
  for (int i = 0; i < g->nnodes; i++) g->nodes[i]->phase = SNG_PHASE_UPD;
  return g;
}
