/* norm.c - the C kernels of the normalisation and dropout layers (ops.def: DROPOUT, LRN,
 * BN_STATS, BATCHNORM and their backward ops), and the energy models' SAMPLE and CD_LOSS.
 *
 * Dropout draws no state: an element's mask is a hash of (the run's seed, the step, the
 * layer's salt, the element's index in the WHOLE tensor), so a worker holding a piece, the
 * finite-difference harness running the same step again, and a resumed run all see the same
 * mask, and the backward op recomputes it instead of storing it.
 *
 * Batchnorm over a batch split by rows needs the whole batch's statistics: BN_STATS gives
 * each row's sums (x and x^2 over the row's positions, per channel), the partitioner gathers
 * all rows to every worker (its stats source is REPL), and BATCHNORM sums them in the same
 * order on every worker.  Sums are in double.  Its backward op (BN_BWD, iattr[0] = which)
 * gives the input gradient with the statistics held fixed (0), the gradient of the row sums
 * (1: every row gets this worker's share of dL/dS; the partitioner's connections send the
 * shares back to the rows' owners and add them), gamma's (2) and beta's (3), and the
 * running statistics' shares (4: the sum of x, 5: the sum of (x - batch mean)^2 over this
 * worker's rows; the servers turn the summed shares into the running averages).
 */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* [N, C, rest...] -> N, C, positions per (row, channel) */
static void ncs(const SngPlanTensor *t, int64_t *n, int64_t *c, int64_t *s) {
  *n = t->dims[0];
  *c = t->rank > 1 ? t->dims[1] : 1;
  *s = sng_plan_tensor_numel(t) / (*n * *c);
}

/* ---- dropout ---- */

static uint64_t mix(uint64_t z) { /* splitmix64's finaliser */
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* What a keyed draw does with one element: dropout's keep factor, or a sample of the unit. */
typedef enum { DRAW_DROPOUT, DRAW_BERNOULLI, DRAW_GAUSS } Draw;

static double unit(uint64_t h) { return (double)(h >> 11) * 0x1.0p-53; } /* [0, 1) */

/* Every element of this piece, keyed by (seed, step, salt fattr[1], its index in the whole
 * tensor): iattr[0..4) is the piece's origin in the whole tensor, iattr[4..7) the whole
 * tensor's dims 1..3.  Dropout keeps x / (1 - ratio) or drops it (ratio fattr[0]); a
 * Bernoulli sample is 1 with probability x (a draw below x), a Gaussian one x + N(0, 1)
 * (Box-Muller on two draws). */
static void keyed_draw(const SngPlanOp *op, Draw how, const float *x, float *y, const SngPlanTensor *t) {
  double ratio = op->fattr[0];
  float scale = (float)(1.0 / (1.0 - ratio));
  uint64_t base = mix(mix(sng_rt_ctx.seed ^ 0x5bd1e995u) ^ mix((uint64_t)sng_rt_ctx.step + 0x9e3779b97f4a7c15ull) ^
                      (uint64_t)op->fattr[1]);
  uint64_t base2 = mix(base ^ 0xda942042e4dd58b5ull); /* the Gaussian's second draw */
  uint64_t cut = (uint64_t)(ratio * 18446744073709551616.0); /* drop when the draw is below */
  int64_t d[4] = {1, 1, 1, 1}, o[4] = {0}, w[4] = {1, 1, 1, 1};
  int r = t->rank;
  for (int i = 0; i < r; i++) d[4 - r + i] = t->dims[i], o[4 - r + i] = op->iattr[i];
  for (int i = 1; i < r; i++) w[4 - r + i] = op->iattr[4 + i - 1];
  int64_t s3 = w[3], s2 = w[2] * s3, s1 = w[1] * s2; /* strides of the whole tensor */
  int64_t k = 0;
  for (int64_t a = 0; a < d[0]; a++)
    for (int64_t b = 0; b < d[1]; b++)
      for (int64_t c = 0; c < d[2]; c++) {
        int64_t g = (o[0] + a) * s1 + (o[1] + b) * s2 + (o[2] + c) * s3 + o[3];
        for (int64_t e = 0; e < d[3]; e++, k++) {
          uint64_t h = mix(base + (uint64_t)(g + e));
          if (how == DRAW_DROPOUT) y[k] = h < cut ? 0.0f : x[k] * scale;
          else if (how == DRAW_BERNOULLI) y[k] = unit(h) < (double)x[k] ? 1.0f : 0.0f;
          else {
            double u1 = 1.0 - unit(h), u2 = unit(mix(base2 + (uint64_t)(g + e))); /* u1 in (0, 1] */
            y[k] = x[k] + (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
          }
        }
      }
}

/* y = x * keep / (1 - ratio) in training; y = x in tests */
void sng_rt_dropout(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                    const SngPlanTensor *tout) {
  (void)tin;
  if (!sng_rt_ctx.train) memcpy(out, in[0], (size_t)sng_plan_tensor_numel(tout) * sizeof(float));
  else keyed_draw(op, DRAW_DROPOUT, in[0], out, tout);
}

/* dx = dy * keep / (1 - ratio), the same mask recomputed */
void sng_rt_dropout_bwd(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                        const SngPlanTensor *tout) {
  (void)tin;
  keyed_draw(op, DRAW_DROPOUT, in[0], out, tout);
}

/* ---- sample: a Bernoulli (fattr[0] = 0) or Gaussian (1) draw per element, in training and
 * in tests alike (a Gibbs step samples in both); NaN in, NaN out for the Gaussian, 0 for the
 * Bernoulli (a comparison with NaN is false) ---- */
void sng_rt_sample(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                   const SngPlanTensor *tout) {
  (void)tin;
  keyed_draw(op, op->fattr[0] == 1 ? DRAW_GAUSS : DRAW_BERNOULLI, in[0], out, tout);
}

/* cd_loss(v+, h+, v-, h-, W, b_h, b_v, r1): what a step reports, sum over the row of
 * (v+ - r1)^2, the first reconstruction's squared error (SINGA's "Squared Error"); its
 * gradient rule (compiler/pass/grad.c) is contrastive divergence's, not this value's */
void sng_rt_cd_loss(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                    const SngPlanTensor *tout) {
  (void)op, (void)tout;
  int64_t r = tin[0]->dims[0], c = sng_plan_tensor_numel(tin[0]) / r;
  for (int64_t i = 0; i < r; i++) {
    double s = 0;
    for (int64_t j = 0; j < c; j++) {
      double d = (double)in[0][i * c + j] - in[7][i * c + j];
      s += d * d;
    }
    out[i] = (float)s;
  }
}

/* ---- lrn: y = x / (k + alpha/size * sum of x^2 over the window)^beta, across channels ----
 * The window of channel c is [c - size/2, c + (size-1)/2] (PyTorch's LocalResponseNorm),
 * cut at the edges, always divided by size.  iattr[0] size; fattr alpha, beta, k. */

/* s^-beta; SINGA's and cuda-convnet's beta = 0.75 without pow() */
static double pow_neg(double s, double beta) { return beta == 0.75 ? 1.0 / sqrt(s * sqrt(s)) : pow(s, -beta); }

static void lrn_scale(const SngPlanOp *op, const float *x, const SngPlanTensor *t, double *sc) {
  int64_t n, c, s;
  ncs(t, &n, &c, &s);
  int64_t size = op->iattr[0], lo = size / 2, hi = (size - 1) / 2;
  double a = op->fattr[0] / (double)size, k = op->fattr[2];
  for (int64_t i = 0; i < n; i++)
    for (int64_t ch = 0; ch < c; ch++)
      for (int64_t p = 0; p < s; p++) {
        double sum = 0;
        for (int64_t j = ch - lo; j <= ch + hi; j++)
          if (j >= 0 && j < c) {
            double v = x[(i * c + j) * s + p];
            sum += v * v;
          }
        sc[(i * c + ch) * s + p] = k + a * sum;
      }
}

void sng_rt_lrn(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                const SngPlanTensor *tout) {
  (void)tout;
  int64_t len = sng_plan_tensor_numel(tin[0]);
  double *sc = sng_alloc(sizeof(double) * (size_t)len);
  lrn_scale(op, in[0], tin[0], sc);
  for (int64_t i = 0; i < len; i++) out[i] = (float)(in[0][i] * pow_neg(sc[i], op->fattr[1]));
  free(sc);
}

/* (dy, x): dx_j = dy_j sc_j^-beta - 2 alpha beta / size * x_j * sum over the channels c whose
 * window holds j of dy_c x_c sc_c^(-beta-1) */
void sng_rt_lrn_bwd(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                    const SngPlanTensor *tout) {
  (void)tout;
  const float *dy = in[0], *x = in[1];
  int64_t n, c, s, len = sng_plan_tensor_numel(tin[1]);
  ncs(tin[1], &n, &c, &s);
  int64_t size = op->iattr[0], lo = size / 2, hi = (size - 1) / 2;
  double beta = op->fattr[1], f = 2.0 * op->fattr[0] * beta / (double)size;
  double *sc = sng_alloc(sizeof(double) * (size_t)len), *q = sng_alloc(sizeof(double) * (size_t)len);
  lrn_scale(op, x, tin[1], sc);
  for (int64_t i = 0; i < len; i++) { /* sc becomes sc^-beta, q = dy x sc^(-beta-1) */
    double p = pow_neg(sc[i], beta);
    q[i] = (double)dy[i] * x[i] * p / sc[i];
    sc[i] = p;
  }
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < c; j++)
      for (int64_t p = 0; p < s; p++) {
        int64_t at = (i * c + j) * s + p;
        double sum = 0;
        for (int64_t ch = j - hi; ch <= j + lo; ch++) /* j in [ch - lo, ch + hi] */
          if (ch >= 0 && ch < c) sum += q[(i * c + ch) * s + p];
        out[at] = (float)(dy[at] * sc[at] - f * x[at] * sum);
      }
  free(sc);
  free(q);
}

/* ---- batchnorm ---- */

/* out[N, 2, C]: each row's sum of x and of x^2 per channel */
void sng_rt_bn_stats(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                     const SngPlanTensor *tout) {
  (void)op, (void)tout;
  int64_t n, c, s;
  ncs(tin[0], &n, &c, &s);
  for (int64_t i = 0; i < n; i++)
    for (int64_t ch = 0; ch < c; ch++) {
      const float *x = in[0] + (i * c + ch) * s;
      double a = 0, b = 0;
      for (int64_t p = 0; p < s; p++) a += x[p], b += (double)x[p] * x[p];
      out[(i * 2 + 0) * c + ch] = (float)a;
      out[(i * 2 + 1) * c + ch] = (float)b;
    }
}

/* (x, dstats) -> dx = dS1 + 2 x dS2 of the row */
void sng_rt_bn_stats_bwd(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                         const SngPlanTensor *tout) {
  (void)op, (void)tout;
  int64_t n, c, s;
  ncs(tin[0], &n, &c, &s);
  for (int64_t i = 0; i < n; i++)
    for (int64_t ch = 0; ch < c; ch++) {
      const float *x = in[0] + (i * c + ch) * s;
      float *dx = out + (i * c + ch) * s;
      double d1 = in[1][(i * 2 + 0) * c + ch], d2 = in[1][(i * 2 + 1) * c + ch];
      for (int64_t p = 0; p < s; p++) dx[p] = (float)(d1 + 2.0 * x[p] * d2);
    }
}

/* The batch's mean and biased variance of channel ch from the row sums [N, 2, C] of the whole
 * batch, and the count M = N * positions. */
static void batch_moments(const float *st, const SngPlanTensor *ts, int64_t s, int64_t ch, double *mean, double *var,
                          double *m) {
  int64_t rows = ts->dims[0], c = ts->dims[2];
  double a = 0, b = 0;
  for (int64_t i = 0; i < rows; i++) a += st[(i * 2 + 0) * c + ch], b += st[(i * 2 + 1) * c + ch];
  *m = (double)(rows * s);
  *mean = a / *m;
  *var = b / *m - *mean * *mean;
  if (*var < 0) *var = 0;
}

/* (x, stats, gamma, beta, running mean, running var): y = gamma (x - mean) / sqrt(var + eps) + beta
 * with the batch's statistics in training and the running ones in tests; fattr[0] eps */
void sng_rt_batchnorm(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                      const SngPlanTensor *tout) {
  (void)tout;
  int64_t n, c, s;
  ncs(tin[0], &n, &c, &s);
  for (int64_t ch = 0; ch < c; ch++) {
    double mean, var, m;
    if (sng_rt_ctx.train) batch_moments(in[1], tin[1], s, ch, &mean, &var, &m);
    else mean = in[4][ch], var = in[5][ch];
    double inv = 1.0 / sqrt(var + op->fattr[0]), g = in[2][ch], b = in[3][ch];
    for (int64_t i = 0; i < n; i++) {
      const float *x = in[0] + (i * c + ch) * s;
      float *y = out + (i * c + ch) * s;
      for (int64_t p = 0; p < s; p++) y[p] = (float)(g * (x[p] - mean) * inv + b);
    }
  }
}

/* (dy, x, stats, gamma), iattr[0] = which (the header comment) */
void sng_rt_bn_bwd(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                   const SngPlanTensor *tout) {
  const float *dy = in[0], *xs = in[1];
  int64_t n, c, s, which = op->iattr[0];
  ncs(tin[1], &n, &c, &s);
  if (which == 1) memset(out, 0, (size_t)sng_plan_tensor_numel(tout) * sizeof(float));
  for (int64_t ch = 0; ch < c; ch++) {
    double mean, var, m;
    batch_moments(in[2], tin[2], s, ch, &mean, &var, &m);
    double inv = 1.0 / sqrt(var + op->fattr[0]), g = in[3][ch];
    double sa = 0, sb = 0; /* sums over this worker's rows */
    for (int64_t i = 0; i < n; i++) {
      const float *x = xs + (i * c + ch) * s, *d = dy + (i * c + ch) * s;
      float *dx = out + (i * c + ch) * s;
      for (int64_t p = 0; p < s; p++) {
        double xc = x[p] - mean;
        switch (which) {
        case 0: dx[p] = (float)(d[p] * g * inv); break;
        case 1: sa += d[p], sb += d[p] * xc; break;
        case 2: sa += d[p] * xc * inv; break;
        case 3: sa += d[p]; break;
        case 4: sa += x[p]; break;
        default: sa += xc * xc; break;
        }
      }
    }
    if (which == 1) { /* dL/dS1, dL/dS2 of this worker's rows, in every row */
      double dmean = -g * sa * inv, dvar = -0.5 * g * sb * inv * inv * inv;
      float d1 = (float)(dmean / m - 2.0 * mean / m * dvar), d2 = (float)(dvar / m);
      int64_t rows = tout->dims[0];
      for (int64_t i = 0; i < rows; i++) out[(i * 2 + 0) * c + ch] = d1, out[(i * 2 + 1) * c + ch] = d2;
    } else if (which >= 2) out[ch] = (float)sa;
  }
}
