/* conv.c - the C kernels of conv2d, pool and reshape on NCHW tensors.
 *
 * conv2d is im2col + OpenBLAS sgemm, as SINGA and Caffe do it: the filters are a matrix
 * W [F, C*kh*kw] (PyTorch's [F, C, kh, kw] in the same order), each sample's image becomes
 * col [C*kh*kw, OH*OW] and its output is W col, the bias added as the product's starting
 * value (so conv + bias is one GEMM per sample).  Backward: dW = sum over samples of dy col^T
 * and dx = col2im(W^T dy).  Max pool keeps PyTorch's argmax rule (the first maximum of the
 * window in row-major order wins, a NaN always wins); avg pool divides by the window size
 * counting padding (PyTorch's count_include_pad = True).
 *
 * Arguments (the plan op's iattr): kh, kw, stride h, stride w, pad h, pad w; then
 * conv2d's input gradient: H, W of the input; pool: mode (0 max, 1 avg).
 */
#include "internal.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct Win { int64_t kh, kw, sh, sw, ph, pw; } Win;

static Win win_of(const SngPlanOp *op) {
  const int64_t *a = op->iattr;
  return (Win){a[0], a[1], a[2], a[3], a[4], a[5]};
}

/* A scratch buffer per thread (workers run as threads), grown when needed and kept. */
static float *scratch(size_t n) {
  static _Thread_local float *buf;
  static _Thread_local size_t cap;
  if (n > cap) {
    free(buf);
    buf = sng_alloc_aligned(n * sizeof(float));
    cap = n;
  }
  return buf;
}

/* col [C*kh*kw, OH*OW] of one image x [C, H, W] */
static void im2col(const float *x, int64_t c, int64_t h, int64_t w, Win k, int64_t oh, int64_t ow, float *col) {
  for (int64_t ci = 0; ci < c; ci++)
    for (int64_t i = 0; i < k.kh; i++)
      for (int64_t j = 0; j < k.kw; j++) {
        float *row = col + ((ci * k.kh + i) * k.kw + j) * oh * ow;
        const float *xc = x + ci * h * w;
        for (int64_t y = 0; y < oh; y++) {
          int64_t iy = y * k.sh - k.ph + i;
          float *r = row + y * ow;
          if (iy < 0 || iy >= h) {
            memset(r, 0, (size_t)ow * sizeof(float));
            continue;
          }
          const float *xr = xc + iy * w;
          if (k.sw == 1) {
            int64_t lo = k.pw - j, hi = w + k.pw - j; /* the outputs whose input column is inside */
            lo = lo < 0 ? 0 : lo > ow ? ow : lo;
            hi = hi < lo ? lo : hi > ow ? ow : hi;
            for (int64_t z = 0; z < lo; z++) r[z] = 0;
            memcpy(r + lo, xr + lo - k.pw + j, (size_t)(hi - lo) * sizeof(float));
            for (int64_t z = hi; z < ow; z++) r[z] = 0;
          } else
            for (int64_t z = 0; z < ow; z++) {
              int64_t ix = z * k.sw - k.pw + j;
              r[z] = ix >= 0 && ix < w ? xr[ix] : 0;
            }
        }
      }
}

/* dx [C, H, W] += col2im(col) */
static void col2im(const float *col, int64_t c, int64_t h, int64_t w, Win k, int64_t oh, int64_t ow, float *dx) {
  for (int64_t ci = 0; ci < c; ci++)
    for (int64_t i = 0; i < k.kh; i++)
      for (int64_t j = 0; j < k.kw; j++) {
        const float *row = col + ((ci * k.kh + i) * k.kw + j) * oh * ow;
        float *xc = dx + ci * h * w;
        for (int64_t y = 0; y < oh; y++) {
          int64_t iy = y * k.sh - k.ph + i;
          if (iy < 0 || iy >= h) continue;
          const float *r = row + y * ow;
          float *xr = xc + iy * w;
          for (int64_t z = 0; z < ow; z++) {
            int64_t ix = z * k.sw - k.pw + j;
            if (ix >= 0 && ix < w) xr[ix] += r[z];
          }
        }
      }
}

/* out [N, F, OH, OW] = conv(x [N, C, H, W], w [F, C*kh*kw]) + b [F] */
void rt_conv2d(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
               const SngPlanTensor *tout) {
  Win k = win_of(op);
  const int64_t *xd = tin[0]->dims;
  int64_t n = xd[0], c = xd[1], h = xd[2], w = xd[3], f = tout->dims[1], oh = tout->dims[2], ow = tout->dims[3];
  int64_t kk = c * k.kh * k.kw, p = oh * ow;
  float *col = scratch((size_t)(kk * p));
  for (int64_t s = 0; s < n; s++) {
    float *y = out + s * f * p;
    if (op->nin == 3)
      for (int64_t q = 0; q < f; q++)
        for (int64_t z = 0; z < p; z++) y[q * p + z] = in[2][q];
    im2col(in[0] + s * c * h * w, c, h, w, k, oh, ow, col);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)f, (blasint)p, (blasint)kk, 1.0f, in[1],
                (blasint)kk, col, (blasint)p, op->nin == 3 ? 1.0f : 0.0f, y, (blasint)p);
  }
}

/* dx [N, C, H, W] from dy [N, F, OH, OW] and w [F, C*kh*kw] */
void rt_conv2d_bwd_data(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                        const SngPlanTensor *tout) {
  Win k = win_of(op);
  const int64_t *dd = tin[0]->dims;
  int64_t n = dd[0], f = dd[1], oh = dd[2], ow = dd[3], c = tout->dims[1], h = tout->dims[2], w = tout->dims[3];
  int64_t kk = c * k.kh * k.kw, p = oh * ow;
  float *col = scratch((size_t)(kk * p));
  memset(out, 0, (size_t)(n * c * h * w) * sizeof(float));
  for (int64_t s = 0; s < n; s++) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (blasint)kk, (blasint)p, (blasint)f, 1.0f, in[1],
                (blasint)kk, in[0] + s * f * p, (blasint)p, 0.0f, col, (blasint)p);
    col2im(col, c, h, w, k, oh, ow, out + s * c * h * w);
  }
}

/* dw [F, C*kh*kw] = sum over samples of dy [F, OH*OW] col(x)^T */
void rt_conv2d_bwd_filter(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                          const SngPlanTensor *tout) {
  Win k = win_of(op);
  const int64_t *xd = tin[0]->dims;
  int64_t n = xd[0], c = xd[1], h = xd[2], w = xd[3], f = tout->dims[0], kk = tout->dims[1];
  int64_t oh = tin[1]->dims[2], ow = tin[1]->dims[3], p = oh * ow;
  float *col = scratch((size_t)(kk * p));
  for (int64_t s = 0; s < n; s++) {
    im2col(in[0] + s * c * h * w, c, h, w, k, oh, ow, col);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)f, (blasint)kk, (blasint)p, 1.0f,
                in[1] + s * f * p, (blasint)p, col, (blasint)p, s ? 1.0f : 0.0f, out, (blasint)kk);
  }
  if (n == 0) memset(out, 0, (size_t)(f * kk) * sizeof(float));
}

/* out [C] = the sums of dy [N, C, ...] per channel */
void rt_chan_sum(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                 const SngPlanTensor *tout) {
  (void)op, (void)tout;
  int64_t n = tin[0]->dims[0], c = tin[0]->dims[1], p = 1;
  for (int i = 2; i < tin[0]->rank; i++) p *= tin[0]->dims[i];
  for (int64_t q = 0; q < c; q++) {
    double s = 0;
    for (int64_t b = 0; b < n; b++) {
      const float *x = in[0] + (b * c + q) * p;
      for (int64_t z = 0; z < p; z++) s += x[z];
    }
    out[q] = (float)s;
  }
}

/* The window of output (y, z): rows [y0, y1), cols [z0, z1) inside the image, and PyTorch's
 * divisor for avg (the window clipped to the padded image only). */
typedef struct Box2 { int64_t y0, y1, z0, z1, size; } Box2;

static Box2 window(Win k, int64_t h, int64_t w, int64_t y, int64_t z) {
  int64_t y0 = y * k.sh - k.ph, z0 = z * k.sw - k.pw;
  int64_t y1 = y0 + k.kh < h + k.ph ? y0 + k.kh : h + k.ph, z1 = z0 + k.kw < w + k.pw ? z0 + k.kw : w + k.pw;
  Box2 b = {y0 < 0 ? 0 : y0, y1 < h ? y1 : h, z0 < 0 ? 0 : z0, z1 < w ? z1 : w, (y1 - y0) * (z1 - z0)};
  return b;
}

/* The index in its plane of the window's max: the first in row-major order, a NaN wins. */
static int64_t argmax(const float *x, int64_t w, Box2 b) {
  int64_t best = b.y0 * w + b.z0;
  float m = x[best];
  for (int64_t i = b.y0; i < b.y1; i++)
    for (int64_t j = b.z0; j < b.z1; j++) {
      float v = x[i * w + j];
      if (v > m || (isnan(v) && !isnan(m))) m = v, best = i * w + j;
    }
  return best;
}

/* out [N, C, OH, OW] = the max or mean of each window of x [N, C, H, W] */
void rt_pool(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
             const SngPlanTensor *tout) {
  Win k = win_of(op);
  int avg = op->iattr[6] == 1;
  int64_t planes = tin[0]->dims[0] * tin[0]->dims[1], h = tin[0]->dims[2], w = tin[0]->dims[3];
  int64_t oh = tout->dims[2], ow = tout->dims[3];
  for (int64_t pl = 0; pl < planes; pl++) {
    const float *x = in[0] + pl * h * w;
    float *y = out + pl * oh * ow;
    for (int64_t i = 0; i < oh; i++)
      for (int64_t j = 0; j < ow; j++) {
        Box2 b = window(k, h, w, i, j);
        if (!avg) {
          y[i * ow + j] = x[argmax(x, w, b)];
          continue;
        }
        float s = 0;
        for (int64_t r = b.y0; r < b.y1; r++)
          for (int64_t q = b.z0; q < b.z1; q++) s += x[r * w + q];
        y[i * ow + j] = s / (float)b.size;
      }
  }
}

/* dx [N, C, H, W] from dy [N, C, OH, OW] and x: to each window's max, or spread over it */
void rt_pool_bwd(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                 const SngPlanTensor *tout) {
  Win k = win_of(op);
  int avg = op->iattr[6] == 1;
  int64_t planes = tout->dims[0] * tout->dims[1], h = tout->dims[2], w = tout->dims[3];
  int64_t oh = tin[0]->dims[2], ow = tin[0]->dims[3];
  memset(out, 0, (size_t)(planes * h * w) * sizeof(float));
  for (int64_t pl = 0; pl < planes; pl++) {
    const float *dy = in[0] + pl * oh * ow, *x = in[1] + pl * h * w;
    float *dx = out + pl * h * w;
    for (int64_t i = 0; i < oh; i++)
      for (int64_t j = 0; j < ow; j++) {
        Box2 b = window(k, h, w, i, j);
        float g = dy[i * ow + j];
        if (!avg) {
          dx[argmax(x, w, b)] += g;
          continue;
        }
        g /= (float)b.size;
        for (int64_t r = b.y0; r < b.y1; r++)
          for (int64_t q = b.z0; q < b.z1; q++) dx[r * w + q] += g;
      }
  }
}

/* out = in, with another shape of the same size */
void rt_reshape(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                const SngPlanTensor *tout) {
  (void)op, (void)tin;
  int64_t n = 1;
  for (int i = 0; i < tout->rank; i++) n *= tout->dims[i];
  memcpy(out, in[0], (size_t)n * sizeof(float));
}
