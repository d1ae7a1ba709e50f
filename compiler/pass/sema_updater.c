/* sema_updater.c - the updater declaration: its kind, options and schedule.
 *
 *   updater adam(lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0,
 *                clip_norm = 1, schedule = cosine(steps = 2000), warmup = 100)
 *
 * Every kind takes the common options (lr, weight_decay, schedule, warmup, warmup_start,
 * clip, clip_low, clip_high, clip_norm) and its own; an option the kind does not take is an
 * unknown name (with a suggestion), a bad value an error at the value.  docs/language.md
 * "Updaters" lists every option, default and formula.
 */
#include "internal.h"

#include <float.h>
#include <math.h>
#include <string.h>

enum {
  O_LR, O_WD, O_SCHED, O_WARMUP, O_WARMUP_START, O_CLIP, O_CLIP_LOW, O_CLIP_HIGH, O_CLIP_NORM, O__COMMON,
  O_MOMENTUM = O__COMMON, O_BETA1, O_BETA2, O_ALPHA, O_RHO, O_EPS, O_BIAS, O__N
};
static const char *const opt_names[O__N] = {
  "lr?", "weight_decay?", "schedule?", "warmup?", "warmup_start?", "clip?", "clip_low?", "clip_high?",
  "clip_norm?", "momentum?", "beta1?", "beta2?", "alpha?", "rho?", "eps?", "bias_correction?",
};
#define B(o) (1u << (o))

typedef struct Kind {
  const char *name;
  unsigned opts;               /* its own options, beyond the common ones */
  double lr, momentum, beta1, beta2, eps; /* defaults (PyTorch's) */
} Kind;
static const Kind kinds[SNG_UPD__COUNT] = {
  [SNG_UPD_SGD] = {"sgd", B(O_MOMENTUM), 0.01, 0, 0, 0, 0},
  [SNG_UPD_NESTEROV] = {"nesterov", B(O_MOMENTUM), 0.01, 0.9, 0, 0, 0},
  [SNG_UPD_ADAGRAD] = {"adagrad", B(O_EPS), 0.01, 0, 0, 0, 1e-10},
  [SNG_UPD_RMSPROP] = {"rmsprop", B(O_MOMENTUM) | B(O_ALPHA) | B(O_EPS), 0.01, 0, 0, 0.99, 1e-8},
  [SNG_UPD_ADADELTA] = {"adadelta", B(O_RHO) | B(O_EPS), 1.0, 0, 0, 0.9, 1e-6},
  [SNG_UPD_ADAM] = {"adam", B(O_BETA1) | B(O_BETA2) | B(O_EPS) | B(O_BIAS), 1e-3, 0, 0.9, 0.999, 1e-8},
  [SNG_UPD_ADAMAX] = {"adamax", B(O_BETA1) | B(O_BETA2) | B(O_EPS) | B(O_BIAS), 2e-3, 0, 0.9, 0.999, 1e-8},
};

/* a number in [lo, hi) (hi_open) or [lo, hi], as the float32 the kernel uses */
static int in_range(SngLayerCtx *c, const SngExpr *e, const char *what, double lo, double hi, int hi_open,
                    double *out) {
  if (sng_lctx_number(c, e, out)) return -1;
  float f = (float)*out;
  if (f < lo || (hi_open ? f >= hi : f > hi)) {
    sng_diag_error(sng_lctx_diag(c), e->loc, "%s must be in [%g, %g%c, got %g", what, lo, hi, hi_open ? ')' : ']',
                   *out);
    return -1;
  }
  return 0;
}

static int positive(SngLayerCtx *c, const SngExpr *e, const char *what, double *out) {
  if (sng_lctx_number(c, e, out)) return -1;
  if ((float)*out <= 0) {
    sng_diag_error(sng_lctx_diag(c), e->loc, "%s must be > 0, got %g%s", what, *out,
                   *out > 0 ? " (0 as a float32)" : "");
    return -1;
  }
  return 0;
}

/* ---- schedules ---- */

static const char *const sched_names[] = {"fixed", "step", "multistep", "exponential", "inverse", "inverse_t",
                                          "linear", "cosine"};

/* multistep(gamma, m1, m2, ...): gamma first (by position or as gamma =), then the steps */
static int multistep(SngLayerCtx *c, const SngExpr *e, SngPlanUpdater *out) {
  SngDiag *d = sng_lctx_diag(c);
  const SngArg *a = e->args;
  if (!a || (a->name && strcmp(a->name, "gamma"))) {
    sng_diag_error(d, a ? a->loc : e->loc, "multistep(gamma, step, step, ...) takes gamma first");
    return -1;
  }
  if (positive(c, a->value, "gamma", &out->sched_gamma)) return -1;
  for (a = a->next; a; a = a->next) {
    int64_t v;
    if (a->name) {
      sng_diag_error(d, a->loc, "multistep takes its steps by position, not '%s ='", a->name);
      return -1;
    }
    if (out->nmilestones == SNG_SCHED_MAX_MILESTONES) {
      sng_diag_error(d, a->loc, "multistep takes at most %d steps", SNG_SCHED_MAX_MILESTONES);
      return -1;
    }
    if (sng_lctx_int(c, a->value, 1, &v)) return -1;
    if (out->nmilestones && v <= out->milestones[out->nmilestones - 1]) {
      sng_diag_error(d, a->loc, "multistep steps must increase: %lld after %lld", (long long)v,
                     (long long)out->milestones[out->nmilestones - 1]);
      return -1;
    }
    out->milestones[out->nmilestones++] = v;
  }
  if (!out->nmilestones) {
    sng_diag_error(d, e->loc, "multistep(gamma, step, step, ...) needs at least one step");
    return -1;
  }
  return 0;
}

static int schedule(SngLayerCtx *c, const SngExpr *e, SngPlanUpdater *out) {
  SngDiag *d = sng_lctx_diag(c);
  int k = -1;
  if (e->kind == SNG_EX_IDENT || e->kind == SNG_EX_CALL)
    for (int i = 0; i < SNG_SCHED__COUNT; i++)
      if (!strcmp(e->str, sched_names[i])) k = i;
  if (k < 0) {
    sng_diag_error(d, e->loc, "unknown schedule%s%s: expected fixed, step, multistep, exponential, inverse, "
                   "inverse_t, linear or cosine", e->kind == SNG_EX_IDENT || e->kind == SNG_EX_CALL ? " " : "",
                   e->kind == SNG_EX_IDENT || e->kind == SNG_EX_CALL ? e->str : "");
    const char *s = e->kind == SNG_EX_IDENT || e->kind == SNG_EX_CALL ? sng_diag_suggest(e->str, sched_names, 8) : NULL;
    if (s) sng_diag_hint(d, "did you mean '%s'?", s);
    return -1;
  }
  out->schedule = k;
  if (k == SNG_SCHED_FIXED && e->kind == SNG_EX_IDENT) return 0;
  if (e->kind != SNG_EX_CALL) {
    sng_diag_error(d, e->loc, "schedule %s needs its arguments: %s(...)", e->str, e->str);
    return -1;
  }
  const SngExpr *a[3] = {0};
  switch (k) {
  case SNG_SCHED_FIXED: return sng_lctx_bind(c, e, NULL, 0, a);
  case SNG_SCHED_MULTISTEP: return multistep(c, e, out);
  case SNG_SCHED_STEP: {
    static const char *const p[] = {"gamma", "every"};
    return sng_lctx_bind(c, e, p, 2, a) || positive(c, a[0], "gamma", &out->sched_gamma) ||
           sng_lctx_int(c, a[1], 1, &out->sched_every);
  }
  case SNG_SCHED_EXPONENTIAL: {
    static const char *const p[] = {"gamma"};
    return sng_lctx_bind(c, e, p, 1, a) || positive(c, a[0], "gamma", &out->sched_gamma);
  }
  case SNG_SCHED_INVERSE: {
    static const char *const p[] = {"gamma", "power"};
    return sng_lctx_bind(c, e, p, 2, a) || in_range(c, a[0], "gamma", 0, FLT_MAX, 0, &out->sched_gamma) ||
           in_range(c, a[1], "power", 0, FLT_MAX, 0, &out->sched_power);
  }
  case SNG_SCHED_INVERSE_T: {
    static const char *const p[] = {"time"};
    return sng_lctx_bind(c, e, p, 1, a) || sng_lctx_int(c, a[0], 1, &out->sched_every);
  }
  case SNG_SCHED_LINEAR: {
    static const char *const p[] = {"steps", "start?", "end?"};
    out->sched_start = 1.0 / 3, out->sched_end = 1;
    return sng_lctx_bind(c, e, p, 3, a) || sng_lctx_int(c, a[0], 1, &out->sched_every) ||
           (a[1] && in_range(c, a[1], "start", 0, 1, 0, &out->sched_start)) ||
           (a[2] && in_range(c, a[2], "end", 0, 1, 0, &out->sched_end));
  }
  case SNG_SCHED_COSINE: {
    static const char *const p[] = {"steps", "min?"};
    out->sched_end = 0;
    return sng_lctx_bind(c, e, p, 2, a) || sng_lctx_int(c, a[0], 1, &out->sched_every) ||
           (a[1] && in_range(c, a[1], "min", 0, FLT_MAX, 0, &out->sched_end));
  }
  }
  return 0;
}

/* ---- the declaration ---- */

int sng_sema_updater(SngLayerCtx *c, const SngDecl *decl, SngPlanUpdater *out) {
  SngDiag *d = sng_lctx_diag(c);
  *out = (SngPlanUpdater){.kind = SNG_UPD_SGD, .lr = 0.01, .kernel = -1};
  int kind = -1;
  const char *names[SNG_UPD__COUNT];
  for (int i = 0; i < SNG_UPD__COUNT; i++) {
    names[i] = kinds[i].name;
    if (!strcmp(decl->name, kinds[i].name)) kind = i;
  }
  if (kind < 0) {
    sng_diag_error(d, decl->name_loc, "unknown updater '%s': expected sgd, nesterov, adagrad, rmsprop, adadelta, "
                   "adam or adamax", decl->name);
    const char *s = sng_diag_suggest(decl->name, names, SNG_UPD__COUNT);
    if (s) sng_diag_hint(d, "did you mean '%s'?", s);
    return -1;
  }
  const Kind *K = &kinds[kind];
  *out = (SngPlanUpdater){.kind = kind, .lr = K->lr, .momentum = K->momentum, .beta1 = K->beta1,
                          .beta2 = K->beta2, .eps = K->eps, .kernel = -1,
                          .bias_correction = kind == SNG_UPD_ADAM || kind == SNG_UPD_ADAMAX};
  /* the kind's parameter list: the common options, then its own */
  const char *p[O__N];
  int opt[O__N], n = 0;
  for (int o = 0; o < O__N; o++)
    if (o < O__COMMON || (K->opts & B(o))) p[n] = opt_names[o], opt[n++] = o;
  const SngExpr *slot[O__N], *s[O__N] = {0};
  SngExpr call = {.kind = SNG_EX_CALL, .loc = decl->name_loc, .str = decl->name, .args = decl->args};
  if (sng_lctx_bind(c, &call, p, n, slot)) return -1;
  for (int i = 0; i < n; i++) s[opt[i]] = slot[i];
  int err = 0;
  if (s[O_LR]) err |= positive(c, s[O_LR], "lr", &out->lr);
  if (s[O_WD] && !sng_lctx_number(c, s[O_WD], &out->weight_decay) && out->weight_decay < 0) {
    sng_diag_error(d, s[O_WD]->loc, "weight_decay must be >= 0, got %g", out->weight_decay);
    err = -1;
  }
  if (s[O_MOMENTUM]) {
    err |= in_range(c, s[O_MOMENTUM], "momentum", 0, 1, 1, &out->momentum);
    if (kind == SNG_UPD_NESTEROV && out->momentum <= 0) {
      sng_diag_error(d, s[O_MOMENTUM]->loc, "nesterov needs momentum > 0, got %g", out->momentum);
      err = -1;
    }
  }
  if (s[O_BETA1]) err |= in_range(c, s[O_BETA1], "beta1", 0, 1, 1, &out->beta1);
  if (s[O_BETA2]) err |= in_range(c, s[O_BETA2], "beta2", 0, 1, 1, &out->beta2);
  if (s[O_ALPHA]) err |= in_range(c, s[O_ALPHA], "alpha", 0, 1, 1, &out->beta2);
  if (s[O_RHO]) err |= in_range(c, s[O_RHO], "rho", 0, 1, 1, &out->beta2);
  if (s[O_EPS]) err |= positive(c, s[O_EPS], "eps", &out->eps);
  if (s[O_BIAS]) err |= sng_lctx_bool(c, s[O_BIAS], &out->bias_correction);
  if (s[O_WARMUP]) err |= sng_lctx_int(c, s[O_WARMUP], 0, &out->warmup);
  if (s[O_WARMUP_START]) err |= in_range(c, s[O_WARMUP_START], "warmup_start", 0, 1, 0, &out->warmup_start);
  if (s[O_WARMUP_START] && !s[O_WARMUP]) {
    sng_diag_error(d, s[O_WARMUP_START]->loc, "warmup_start needs warmup = <steps>");
    err = -1;
  }
  /* clipping: clip = c is clip_low = -c, clip_high = c */
  if (s[O_CLIP] && (s[O_CLIP_LOW] || s[O_CLIP_HIGH])) {
    sng_diag_error(d, (s[O_CLIP_LOW] ? s[O_CLIP_LOW] : s[O_CLIP_HIGH])->loc,
                   "clip = c already sets clip_low = -c and clip_high = c");
    err = -1;
  } else if (s[O_CLIP]) {
    double v;
    if (positive(c, s[O_CLIP], "clip", &v)) err = -1;
    else out->clip_low = -v, out->clip_high = v;
  } else if (s[O_CLIP_LOW] || s[O_CLIP_HIGH]) {
    out->clip_low = -FLT_MAX, out->clip_high = FLT_MAX;
    if ((s[O_CLIP_LOW] && sng_lctx_number(c, s[O_CLIP_LOW], &out->clip_low)) ||
        (s[O_CLIP_HIGH] && sng_lctx_number(c, s[O_CLIP_HIGH], &out->clip_high)))
      err = -1;
    else if ((float)out->clip_low >= (float)out->clip_high) {
      sng_diag_error(d, (s[O_CLIP_HIGH] ? s[O_CLIP_HIGH] : s[O_CLIP_LOW])->loc,
                     "clip_low must be below clip_high, got %g and %g", out->clip_low, out->clip_high);
      err = -1;
    }
  }
  if (s[O_CLIP_NORM]) err |= positive(c, s[O_CLIP_NORM], "clip_norm", &out->clip_norm);
  if (s[O_SCHED]) err |= schedule(c, s[O_SCHED], out);
  return err ? -1 : 0;
}

/* The argument bound to parameter `name` at position pos, or NULL (bound by sng_lctx_bind). */
static const SngArg *arg_of(const SngArg *args, const char *name, int pos) {
  int i = 0;
  for (const SngArg *a = args; a; a = a->next) {
    if (a->name ? !strcmp(a->name, name) : i == pos) return a;
    if (!a->name) i++;
  }
  return NULL;
}

/* log of the largest factor a growing schedule (gamma > 1) reaches by the last step, and the
 * power of gamma it takes */
static double log_growth(const SngPlanUpdater *u, int64_t steps, int64_t *k) {
  int64_t s = steps - 1 - u->warmup;
  *k = 0;
  if (!(u->sched_gamma > 1) || s <= 0) return 0;
  if (u->schedule == SNG_SCHED_STEP && u->sched_every > 0) *k = s / u->sched_every;
  else if (u->schedule == SNG_SCHED_EXPONENTIAL) *k = s;
  else if (u->schedule == SNG_SCHED_MULTISTEP)
    while (*k < u->nmilestones && u->milestones[*k] <= s) ++*k;
  return (double)*k * log(u->sched_gamma);
}

/* The rates the runtime hands the update kernel as float32s at every step:
 * the scheduled lr x lr_mult and weight_decay x wd_mult.  Each is finite as a float32
 * for the whole run, or an error at what makes it too large: gamma, or the layer whose
 * multiplier does.  Logarithms, since the products themselves may overflow a double.
 * Only step, multistep and exponential schedules with gamma > 1 grow the rate (cosine's
 * min is at most a float32). */
void sng_sema_rates(SngLayerCtx *c, const SngDecl *upd, const SngJob *job) {
  const SngPlanUpdater *u = &job->updater;
  SngDiag *d = sng_lctx_diag(c);
  double top = log(FLT_MAX), lr = log(u->schedule == SNG_SCHED_COSINE ? fmax(u->lr, u->sched_end) : u->lr);
  int64_t k;
  double grow = log_growth(u, job->train.steps, &k);
  if (grow > 0) {
    lr += grow;
    if (lr > top) {
      const SngArg *sched = upd ? arg_of(upd->args, "schedule", 2) : NULL;
      const SngArg *g = sched && sched->value->kind == SNG_EX_CALL ? arg_of(sched->value->args, "gamma", 0) : NULL;
      sng_diag_error(d, g ? g->value->loc : upd ? upd->loc : job->net_loc,
                     "gamma = %g makes lr %g x %g^%lld by step %lld, past the float32 range (%g)", u->sched_gamma,
                     u->lr, u->sched_gamma, (long long)k, (long long)job->train.steps, (double)FLT_MAX);
      return;
    }
  }
  for (int i = 0; job->net && i < job->net->nnodes; i++) {
    const SngIrNode *p = job->net->nodes[i];
    if (p->op != SNG_OP_PARAM) continue;
    if (p->lr_mult > 0 && lr + log(p->lr_mult) > top) {
      sng_diag_error(d, p->loc, "%s: lr_mult = %g makes its learning rate %g, past the float32 range (%g)", p->name,
                     p->lr_mult, exp(lr) * p->lr_mult, (double)FLT_MAX);
      return; /* once: a layer's weight and bias share the multiplier */
    }
    if (p->wd_mult > 0 && u->weight_decay > 0 && log(u->weight_decay) + log(p->wd_mult) > top) {
      sng_diag_error(d, p->loc, "%s: wd_mult = %g makes its weight decay %g, past the float32 range (%g)", p->name,
                     p->wd_mult, u->weight_decay * p->wd_mult, (double)FLT_MAX);
      return;
    }
  }
}
