/* input.c - input(data): where a net's batch comes in.
 *
 * The data block's probed sample shape (sema_data.c) fixes the features' shape here, so
 * input shapes are known before the shape pass: [batch, sample dims...], images staying
 * 2-D.  The labels carry the class count, which the loss checks against the logits.
 */
#include "internal.h"

/* input(data) -> features [batch, ...], labels [batch] */
int sng_std_build_input(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout) {
  static const char *const p[] = {"data"};
  const SngExpr *s[1];
  (void)nout;
  if (sng_std_bind(b, call, p, 1, s)) return -1;
  const SngPlanData *d = sng_std_data(b, s[0]);
  if (!d) return -1;
  SngIrGraph *g = b->g;
  SngShape xs = {1 + d->sample_rank, {d->batch}}; /* [batch, sample dims...]: images stay 2-D */
  for (int i = 0; i < d->sample_rank; i++) xs.d[1 + i] = d->sample_dims[i];
  out[0] = sng_ir_input(g, call->loc, NULL, xs, 0);
  out[1] = sng_ir_input(g, call->loc, NULL, sng_shape1(d->batch), 1);
  out[1]->attr.input.classes = d->classes; /* the labels' class count, checked by the loss */
  return 0;
}
