/* updater.c - the update of one parameter slice, as IR that the fusion pass turns into one kernel.
 *
 * A server applies the update to each parameter slice it owns by calling that kernel with
 *   bufs    = {w, g, state...}   (the slice's values, gradient and updater state)
 *   scalars = SNG_UPD_S_*        (runtime/exec/update.c: lr from the schedule times the
 *                                 param's lr_mult, weight decay times wd_mult, the gradient
 *                                 scale (1, or the global-norm clipping factor), and the
 *                                 bias corrections of adam and adamax)
 * so a new updater is a new IR builder here, not new runtime code.  Every rule starts from
 *   g = clip(g * grad_scale, clip_low, clip_high) + wd * w
 * (the clip only when clip_low < clip_high), as PyTorch's optimisers add weight decay to the
 * gradient and clip_grad_norm_/clip_grad_value_ act before them.
 */
#include "internal.h"

typedef int (*Rule)(U *b, SngIrNode *g);
static const Rule rules[SNG_UPD__COUNT] = {
  [SNG_UPD_SGD] = sng_upd_sgd,         [SNG_UPD_NESTEROV] = sng_upd_nesterov, [SNG_UPD_ADAGRAD] = sng_upd_adagrad,
  [SNG_UPD_RMSPROP] = sng_upd_rmsprop, [SNG_UPD_ADADELTA] = sng_upd_adadelta, [SNG_UPD_ADAM] = sng_upd_adam,
  [SNG_UPD_ADAMAX] = sng_upd_adamax,
};

SngIrGraph *sng_std_updater(const SngPlanUpdater *u, int32_t *nstate) {
  SngIrGraph *g = sng_ir_graph_new("update");
  U b = {g, {0}, u, NULL};
  SngShape flat = sng_shape1(1); /* the runtime passes the slice length as cols */
  b.w = sng_ir_arg(g, b.loc, "w", flat, 0);
  SngIrNode *gr = sng_ir_arg(g, b.loc, "g", flat, 1);
  SngIrNode *wd = u_scalar(&b, "wd", SNG_UPD_S_WD), *gs = u_scalar(&b, "grad_scale", SNG_UPD_S_GSCALE);
  SngIrNode *g0 = u_mul(&b, gr, gs);
  if (u->clip_low < u->clip_high) g0 = u_min(&b, u_max(&b, g0, u_const(&b, u->clip_low)), u_const(&b, u->clip_high));
  SngIrNode *g1 = u_add(&b, g0, u_mul(&b, b.w, wd));
  int kind = u->kind >= 0 && u->kind < SNG_UPD__COUNT ? u->kind : SNG_UPD_SGD;
  *nstate = rules[kind](&b, g1);
  for (int i = 0; i < g->nnodes; i++) g->nodes[i]->phase = SNG_PHASE_UPD;
  return g;
}
