/* update.c - what the servers hand the update kernel: the scheduled learning rate, the
 * scalars, the buffers of a slice, and the global-norm clipping factor.
 *
 * The formulas (docs/language.md "Schedules"), at step s = 0, 1, ... (the step the gradient
 * is of), with lr the updater's rate and w the warm-up steps:
 *   s < w:        lr * (w0 + (1 - w0) * s / w)             (linear warm-up from factor w0)
 *   else s -= w and
 *   fixed         lr
 *   step          lr * gamma^floor(s / every)               (PyTorch StepLR)
 *   multistep     lr * gamma^(milestones <= s)              (MultiStepLR)
 *   exponential   lr * gamma^s                              (ExponentialLR)
 *   inverse       lr * (1 + gamma * s)^-power               (SINGA kInverse)
 *   inverse_t     lr / (1 + s / T)                          (SINGA kInverseT)
 *   linear        lr * (a + (b - a) * min(s, T) / T)        (LinearLR)
 *   cosine        min + (lr - min) * (1 + cos(pi * s / T)) / 2   (CosineAnnealingLR, closed form)
 */
#include "internal.h"

#include <math.h>

double sng_upd_lr(const SngPlanUpdater *u, int64_t s) {
  if (s < 0) s = 0;
  if (u->warmup > 0 && s < u->warmup)
    return u->lr * (u->warmup_start + (1 - u->warmup_start) * (double)s / (double)u->warmup);
  s -= u->warmup;
  double T = (double)u->sched_every;
  switch (u->schedule) {
  case SNG_SCHED_STEP: return u->sched_every > 0 ? u->lr * pow(u->sched_gamma, (double)(s / u->sched_every)) : u->lr;
  case SNG_SCHED_MULTISTEP: {
    int k = 0;
    while (k < u->nmilestones && u->milestones[k] <= s) k++;
    return u->lr * pow(u->sched_gamma, k);
  }
  case SNG_SCHED_EXPONENTIAL: return u->lr * pow(u->sched_gamma, (double)s);
  case SNG_SCHED_INVERSE: return u->lr * pow(1 + u->sched_gamma * (double)s, -u->sched_power);
  case SNG_SCHED_INVERSE_T: return T > 0 ? u->lr / (1 + (double)s / T) : u->lr;
  case SNG_SCHED_LINEAR:
    if (T <= 0) return u->lr;
    return u->lr * (u->sched_start + (u->sched_end - u->sched_start) * fmin((double)s, T) / T);
  case SNG_SCHED_COSINE:
    if (T <= 0) return u->lr;
    return u->sched_end + (u->lr - u->sched_end) * (1 + cos(3.14159265358979323846 * (double)s / T)) / 2;
  default: return u->lr;
  }
}

void sng_upd_scalars(const SngPlanUpdater *u, const SngPlanParam *pp, int64_t s, double grad_scale,
                     float out[SNG_UPD_NSCALARS]) {
  double t = (double)(s < 0 ? 1 : s + 1); /* PyTorch's step count: 1 at the first update */
  out[SNG_UPD_S_LR] = (float)(sng_upd_lr(u, s) * pp->lr_mult);
  out[SNG_UPD_S_WD] = (float)(u->weight_decay * pp->wd_mult);
  out[SNG_UPD_S_GSCALE] = (float)grad_scale;
  out[SNG_UPD_S_BC1] = u->bias_correction ? (float)(1 - pow(u->beta1, t)) : 1.0f;
  out[SNG_UPD_S_BC2] = u->bias_correction ? (float)sqrt(1 - pow(u->beta2, t)) : 1.0f;
}

void sng_upd_bufs(const SngPlanUpdater *u, float *value, float *state, int64_t n, const SngPlanSlice *sl,
                  const float *grad, float *bufs[2 + SNG_UPD_MAX_STATE]) {
  bufs[0] = value + sl->offset;
  bufs[1] = (float *)grad;
  for (int k = 0; k < SNG_UPD_MAX_STATE; k++) bufs[2 + k] = k < u->nstate && state ? state + k * n + sl->offset : NULL;
}

/* PyTorch's clip_grad_norm_: max_norm / (norm + 1e-6), at most 1 */
double sng_upd_clip_scale(const SngPlanUpdater *u, double sumsq) {
  if (!(u->clip_norm > 0)) return 1;
  double c = u->clip_norm / (sqrt(sumsq) + 1e-6);
  return c < 1 ? c : 1;
}
