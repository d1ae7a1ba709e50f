/* conv.c - the C kernels of conv2d, pool and reshape on NCHW tensors.
 *
 * conv2d is im2col + OpenBLAS sgemm, as SINGA and Caffe do it: the filters are a matrix
 * W [F, C*kh*kw] (PyTorch's [F, C, kh, kw] in the same order), each sample's image becomes
 * col [C*kh*kw, OH*OW], laid side by side for a chunk of samples (the whole batch unless
 * that needs more than 64 MB), and one GEMM W col makes the chunk's outputs; the bias is
 * added as the planes are copied to their samples (so conv + bias is one GEMM and one pass).
 * Backward: dW = dy col^T and dx = col2im(W^T dy), one GEMM per chunk each.
 * Max pool keeps PyTorch's argmax rule (the first maximum of the window in row-major order
 * wins, a NaN always wins); avg pool divides by the window size counting padding (PyTorch's
 * count_include_pad = True).
 *
 * Arguments (the plan op's iattr): kh, kw, stride h, stride w, pad h, pad w; then
 * conv2d's input gradient: H, W of the input; pool: mode (0 max, 1 avg).
 */
#include "internal.h"

#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct Win { int64_t kh, kw, sh, sw, ph, pw; } Win;

/* ---- the loops around the GEMMs (im2col, col2im, copies, pooling) on the worker's threads:
 * as many as its OpenBLAS has (singa-exec --threads), started per call and joined, so that
 * no thread spins between kernels against OpenBLAS's own (an OpenMP pool would). */
typedef void (*Body)(void *ctx, int64_t lo, int64_t hi);
typedef struct Part { Body body; void *ctx; int64_t lo, hi; } Part;

static void *run_part(void *a) {
  Part *p = a;
  p->body(p->ctx, p->lo, p->hi);
  return NULL;
}

/* body(ctx, lo, hi) over [0, n) in nt contiguous pieces, the first on the calling thread */
static void par_for(int64_t n, Body body, void *ctx) {
  enum { MAXT = 16 };
  int nt = openblas_get_num_threads();
  nt = nt < 1 ? 1 : nt > MAXT ? MAXT : nt;
  if (nt > n) nt = (int)n;
  if (nt <= 1) {
    if (n > 0) body(ctx, 0, n);
    return;
  }
  Part part[MAXT];
  pthread_t tid[MAXT];
  bool started[MAXT] = {false};
  for (int t = 0; t < nt; t++) part[t] = (Part){body, ctx, n * t / nt, n * (t + 1) / nt};
  for (int t = 1; t < nt; t++) started[t] = pthread_create(&tid[t], NULL, run_part, &part[t]) == 0;
  run_part(&part[0]);
  for (int t = 1; t < nt; t++) {
    if (started[t]) pthread_join(tid[t], NULL);
    else run_part(&part[t]); /* no thread: do its piece here */
  }
}

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

/* col [C*kh*kw, OH*OW] of one image x [C, H, W], rows ld apart (a block of a batch's col) */
static void im2col(const float *x, int64_t c, int64_t h, int64_t w, Win k, int64_t oh, int64_t ow, float *col,
                   int64_t ld) {
  for (int64_t ci = 0; ci < c; ci++)
    for (int64_t i = 0; i < k.kh; i++)
      for (int64_t j = 0; j < k.kw; j++) {
        float *row = col + ((ci * k.kh + i) * k.kw + j) * ld;
        const float *xc = x + ci * h * w;
        /* stride 1: the outputs [lo, hi) have their input column inside, one run per row */
        int64_t lo = k.pw - j, hi = w + k.pw - j;
        lo = lo < 0 ? 0 : lo > ow ? ow : lo;
        hi = hi < lo ? lo : hi > ow ? ow : hi;
        for (int64_t y = 0; y < oh; y++) {
          int64_t iy = y * k.sh - k.ph + i;
          float *r = row + y * ow;
          if (iy < 0 || iy >= h) {
            memset(r, 0, (size_t)ow * sizeof(float));
            continue;
          }
          const float *xr = xc + iy * w;
          if (k.sw == 1) {
            for (int64_t z = 0; z < lo; z++) r[z] = 0;
            if (hi > lo) memcpy(r + lo, xr + lo - k.pw + j, (size_t)(hi - lo) * sizeof(float)); /* inputs under lo.. */
            for (int64_t z = hi; z < ow; z++) r[z] = 0;
          } else
            for (int64_t z = 0; z < ow; z++) {
              int64_t ix = z * k.sw - k.pw + j;
              r[z] = ix >= 0 && ix < w ? xr[ix] : 0;
            }
        }
      }
}

/* dx [C, H, W] += col2im(col), col's rows ld apart */
static void col2im(const float *col, int64_t c, int64_t h, int64_t w, Win k, int64_t oh, int64_t ow, float *dx,
                   int64_t ld) {
  for (int64_t ci = 0; ci < c; ci++)
    for (int64_t i = 0; i < k.kh; i++)
      for (int64_t j = 0; j < k.kw; j++) {
        const float *row = col + ((ci * k.kh + i) * k.kw + j) * ld;
        float *xc = dx + ci * h * w;
        /* stride 1: the outputs [lo, hi) have their input column inside, one run per row */
        int64_t lo = k.pw - j, hi = w + k.pw - j;
        lo = lo < 0 ? 0 : lo > ow ? ow : lo;
        hi = hi < lo ? lo : hi > ow ? ow : hi;
        for (int64_t y = 0; y < oh; y++) {
          int64_t iy = y * k.sh - k.ph + i;
          if (iy < 0 || iy >= h) continue;
          const float *r = row + y * ow;
          float *xr = xc + iy * w;
          if (k.sw == 1) {
            float *d = hi > lo ? xr + lo - k.pw + j : xr; /* the input under output lo */
            for (int64_t z = lo; z < hi; z++) d[z - lo] += r[z];
          } else
            for (int64_t z = 0; z < ow; z++) {
              int64_t ix = z * k.sw - k.pw + j;
              if (ix >= 0 && ix < w) xr[ix] += r[z];
            }
        }
      }
}

/* Which implementation runs a conv2d kernel: SNG_CONV=gemm (im2col + OpenBLAS), dnnl
 * (oneDNN) or mixed (oneDNN but a one-channel input's forward and input gradient); by
 * default what measured faster on LeNet (bench/cnn, quiet machine, samples/s): oneDNN when
 * the worker has one thread (4250-4590 against 3560-3850), im2col + OpenBLAS with more
 * (4080-4180 against 3540-3940 at two threads: oneDNN's OpenMP pool and OpenBLAS's fight). */
static bool use_dnnl(bool filter_grad, int64_t channels) {
  static int v = -1; /* 0 by threads, 1 dnnl, 2 mixed, 3 gemm */
  if (v < 0) {
    const char *e = getenv("SNG_CONV");
    v = !e ? 0 : !strcmp(e, "dnnl") ? 1 : !strcmp(e, "mixed") ? 2 : !strcmp(e, "gemm") ? 3 : 0;
  }
  return v == 1 || (v == 2 && (filter_grad || channels > 1)) || (v == 0 && openblas_get_num_threads() == 1);
}

/* The samples a GEMM covers at once: the whole batch when its col [K, n*P] and wide [F, n*P]
 * buffers fit in 64 MB (LeNet's batch of 64 does, 8 MB), else fewer, at least one. */
static int64_t chunk_of(int64_t n, int64_t kk, int64_t f, int64_t p) {
  int64_t per = (kk + f) * p, m = ((int64_t)16 << 20) / (per > 0 ? per : 1);
  if (m > INT32_MAX / (p > 0 ? p : 1)) m = INT32_MAX / (p > 0 ? p : 1); /* n*P is a BLAS int */
  return m < 1 ? 1 : m > n ? n : m;
}

/* One chunk of samples [s0, s0 + ms) of a conv2d kernel, for the loops split over threads. */
typedef struct Chunk {
  Win k;
  int64_t c, h, w, f, oh, ow, p, s0, ms, np;
  const float *x, *dy, *bias;
  float *col, *wide, *out;
} Chunk;

static void im2col_body(void *a, int64_t lo, int64_t hi) {
  Chunk *q = a;
  for (int64_t s = lo; s < hi; s++)
    im2col(q->x + (q->s0 + s) * q->c * q->h * q->w, q->c, q->h, q->w, q->k, q->oh, q->ow, q->col + s * q->p, q->np);
}

/* [ms, F, P] -> [F, ms*P]: a chunk's planes side by side, so that one GEMM covers it */
static void wide_body(void *a, int64_t lo, int64_t hi) {
  Chunk *q = a;
  for (int64_t s = lo; s < hi; s++)
    for (int64_t j = 0; j < q->f; j++)
      memcpy(q->wide + j * q->np + s * q->p, q->dy + ((q->s0 + s) * q->f + j) * q->p, (size_t)q->p * sizeof(float));
}

/* [F, ms*P] -> the samples' [F, P] planes, plus the bias */
static void unwide_body(void *a, int64_t lo, int64_t hi) {
  Chunk *q = a;
  for (int64_t s = lo; s < hi; s++)
    for (int64_t j = 0; j < q->f; j++) {
      const float *src = q->wide + j * q->np + s * q->p;
      float *y = q->out + ((q->s0 + s) * q->f + j) * q->p, b = q->bias ? q->bias[j] : 0.0f;
      for (int64_t z = 0; z < q->p; z++) y[z] = src[z] + b;
    }
}

static void col2im_body(void *a, int64_t lo, int64_t hi) {
  Chunk *q = a;
  for (int64_t s = lo; s < hi; s++) {
    float *dx = q->out + (q->s0 + s) * q->c * q->h * q->w;
    memset(dx, 0, (size_t)(q->c * q->h * q->w) * sizeof(float));
    col2im(q->col + s * q->p, q->c, q->h, q->w, q->k, q->oh, q->ow, dx, q->np);
  }
}

/* out [N, F, OH, OW] = conv(x [N, C, H, W], w [F, C*kh*kw]) + b [F]: per chunk of samples one
 * GEMM, W [F, K] col [K, m*P], then each plane to its sample with the bias added on the way */
void rt_conv2d(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
               const SngPlanTensor *tout) {
  if (use_dnnl(false, tin[0]->dims[1]) && !sng_rt_conv_dnnl_fwd(op, in, tin, out, tout)) return;
  const int64_t *xd = tin[0]->dims;
  Chunk q = {.k = win_of(op), .c = xd[1], .h = xd[2], .w = xd[3], .f = tout->dims[1], .oh = tout->dims[2],
             .ow = tout->dims[3], .x = in[0], .bias = op->nin == 3 ? in[2] : NULL, .out = out};
  int64_t n = xd[0], kk = q.c * q.k.kh * q.k.kw, m = chunk_of(n, kk, q.f, q.p = q.oh * q.ow);
  q.col = scratch((size_t)((kk + q.f) * m * q.p)), q.wide = q.col + kk * m * q.p;
  for (q.s0 = 0; q.s0 < n; q.s0 += m) {
    q.ms = n - q.s0 < m ? n - q.s0 : m, q.np = q.ms * q.p;
    par_for(q.ms, im2col_body, &q);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)q.f, (blasint)q.np, (blasint)kk, 1.0f, in[1],
                (blasint)kk, q.col, (blasint)q.np, 0.0f, q.wide, (blasint)q.np);
    par_for(q.ms, unwide_body, &q);
  }
}

/* dx [N, C, H, W] from dy [N, F, OH, OW] and w [F, C*kh*kw]: dcol [K, m*P] = W^T dy, col2im */
void rt_conv2d_bwd_data(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                        const SngPlanTensor *tout) {
  if (use_dnnl(false, tout->dims[1]) && !sng_rt_conv_dnnl_bwd_data(op, in, tin, out, tout)) return;
  const int64_t *dd = tin[0]->dims;
  Chunk q = {.k = win_of(op), .c = tout->dims[1], .h = tout->dims[2], .w = tout->dims[3], .f = dd[1], .oh = dd[2],
             .ow = dd[3], .dy = in[0], .out = out};
  int64_t n = dd[0], kk = q.c * q.k.kh * q.k.kw, m = chunk_of(n, kk, q.f, q.p = q.oh * q.ow);
  q.col = scratch((size_t)((kk + q.f) * m * q.p)), q.wide = q.col + kk * m * q.p;
  for (q.s0 = 0; q.s0 < n; q.s0 += m) {
    q.ms = n - q.s0 < m ? n - q.s0 : m, q.np = q.ms * q.p;
    par_for(q.ms, wide_body, &q);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (blasint)kk, (blasint)q.np, (blasint)q.f, 1.0f, in[1],
                (blasint)kk, q.wide, (blasint)q.np, 0.0f, q.col, (blasint)q.np);
    par_for(q.ms, col2im_body, &q);
  }
}

/* dw [F, C*kh*kw] = sum over chunks of dy [F, m*P] col(x)^T [m*P, K] */
void rt_conv2d_bwd_filter(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                          const SngPlanTensor *tout) {
  if (use_dnnl(true, 0) && !sng_rt_conv_dnnl_bwd_weights(op, in, tin, out, tout)) return;
  const int64_t *xd = tin[0]->dims;
  Chunk q = {.k = win_of(op), .c = xd[1], .h = xd[2], .w = xd[3], .f = tout->dims[0], .oh = tin[1]->dims[2],
             .ow = tin[1]->dims[3], .x = in[0], .dy = in[1]};
  int64_t n = xd[0], kk = tout->dims[1], m = chunk_of(n, kk, q.f, q.p = q.oh * q.ow);
  q.col = scratch((size_t)((kk + q.f) * m * q.p)), q.wide = q.col + kk * m * q.p;
  for (q.s0 = 0; q.s0 < n; q.s0 += m) {
    q.ms = n - q.s0 < m ? n - q.s0 : m, q.np = q.ms * q.p;
    par_for(q.ms, im2col_body, &q);
    par_for(q.ms, wide_body, &q);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)q.f, (blasint)kk, (blasint)q.np, 1.0f, q.wide,
                (blasint)q.np, q.col, (blasint)q.np, q.s0 ? 1.0f : 0.0f, out, (blasint)kk);
  }
}

/* out [C] = the sums of dy [N, C, ...] per channel */
void rt_chan_sum(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                 const SngPlanTensor *tout) {
  (void)op, (void)tout;
  int64_t n = tin[0]->dims[0], c = tin[0]->dims[1], p = 1;
  for (int i = 2; i < tin[0]->rank; i++) p *= tin[0]->dims[i];
  for (int64_t q = 0; q < c; q++) {
    double s = 0;
    for (int64_t b = 0; b < n; b++) { /* per plane: 8 float lanes (vectorises), summed in double */
      const float *x = in[0] + (b * c + q) * p;
      float lane[8] = {0};
      int64_t z = 0;
      for (; z + 8 <= p; z += 8)
        for (int l = 0; l < 8; l++) lane[l] += x[z + l];
      for (; z < p; z++) lane[0] += x[z];
      for (int l = 0; l < 8; l++) s += lane[l];
    }
    out[q] = (float)s;
  }
}

/* The windows along one axis: output o covers inputs [lo[o], hi[o]) of the n inside, and
 * size[o] positions of the padded input (PyTorch's avg divisor: the window clipped to the
 * padded input only). */
typedef struct Axis { int64_t *lo, *hi, *size; } Axis;

static Axis axis_of(int64_t n, int64_t k, int64_t st, int64_t pad, int64_t out, int64_t *buf) {
  Axis a = {buf, buf + out, buf + 2 * out};
  for (int64_t o = 0; o < out; o++) {
    int64_t s = o * st - pad, e = s + k < n + pad ? s + k : n + pad;
    a.size[o] = e - s;
    a.lo[o] = s < 0 ? 0 : s, a.hi[o] = e < n ? e : n;
  }
  return a;
}

typedef struct Pool { Win k; int avg; int64_t planes, h, w, oh, ow; Axis r, c; int64_t *buf; } Pool;

static Pool pool_of(const SngPlanOp *op, const SngPlanTensor *x, const SngPlanTensor *y) {
  Pool p = {win_of(op), op->iattr[6] == 1, x->dims[0] * x->dims[1], x->dims[2], x->dims[3], y->dims[2], y->dims[3],
            {0}, {0}, NULL};
  p.buf = malloc((size_t)(3 * (p.oh + p.ow)) * sizeof(int64_t));
  SNG_ASSERT(p.buf);
  p.r = axis_of(p.h, p.k.kh, p.k.sh, p.k.ph, p.oh, p.buf);
  p.c = axis_of(p.w, p.k.kw, p.k.sw, p.k.pw, p.ow, p.buf + 3 * p.oh);
  return p;
}

/* The index in its plane of window (i, j)'s max, PyTorch's rule: scanning in row-major
 * order, a value replaces the max if it is greater or NaN (so the first max wins). */
static inline int64_t argmax(const Pool *p, const float *x, int64_t i, int64_t j) {
  int64_t best = p->r.lo[i] * p->w + p->c.lo[j];
  float m = x[best];
  for (int64_t r = p->r.lo[i]; r < p->r.hi[i]; r++)
    for (int64_t q = p->c.lo[j]; q < p->c.hi[j]; q++) {
      float v = x[r * p->w + q];
      if (v > m || v != v) m = v, best = r * p->w + q;
    }
  return best;
}

/* Max pool's common case, kernel 2 stride 2 no pad: each window's four values in PyTorch's
 * order; with idx, the winners' indices in the plane instead of their values. */
static void max_pool_2x2(const float *x, int64_t w, int64_t oh, int64_t ow, float *y, int64_t *idx) {
  for (int64_t i = 0; i < oh; i++) {
    const float *r0 = x + 2 * i * w, *r1 = r0 + w;
    if (!idx) { /* values only: max, then NaN if the window has one (vectorises: maxps, cmpunordps) */
      float *yr = y + i * ow;
      for (int64_t j = 0; j < ow; j++) {
        float a = r0[2 * j], b = r0[2 * j + 1], c = r1[2 * j], d = r1[2 * j + 1];
        float m = b > a ? b : a;
        m = c > m ? c : m;
        m = d > m ? d : m;
        float nan = a + b + c + d; /* NaN if any is (or inf - inf: then tested again below) */
        yr[j] = nan == nan ? m : (a != a ? a : b != b ? b : c != c ? c : d != d ? d : m);
      }
      continue;
    }
    for (int64_t j = 0; j < ow; j++) { /* branch-free: the winner is data, not control flow */
      float m = r0[2 * j], b = r0[2 * j + 1], c = r1[2 * j], d = r1[2 * j + 1];
      int64_t best = 2 * i * w + 2 * j, t;
      t = (b > m) | (b != b), m = t ? b : m, best = t ? 2 * i * w + 2 * j + 1 : best;
      t = (c > m) | (c != c), m = t ? c : m, best = t ? (2 * i + 1) * w + 2 * j : best;
      t = (d > m) | (d != d), m = t ? d : m, best = t ? (2 * i + 1) * w + 2 * j + 1 : best;
      idx[i * ow + j] = best;
    }
  }
}

static bool is_2x2(const Pool *p) {
  return !p->avg && p->k.kh == 2 && p->k.kw == 2 && p->k.sh == 2 && p->k.sw == 2 && !p->k.ph && !p->k.pw;
}

typedef struct PoolRun { const Pool *p; const float *x, *dy; float *out; } PoolRun;

static void pool_body(void *a, int64_t lo, int64_t hi) {
  const PoolRun *r = a;
  const Pool *p = r->p;
  for (int64_t pl = lo; pl < hi; pl++) {
    const float *x = r->x + pl * p->h * p->w;
    float *y = r->out + pl * p->oh * p->ow;
    if (is_2x2(p)) {
      max_pool_2x2(x, p->w, p->oh, p->ow, y, NULL);
      continue;
    }
    for (int64_t i = 0; i < p->oh; i++)
      for (int64_t j = 0; j < p->ow; j++) {
        if (!p->avg) {
          y[i * p->ow + j] = x[argmax(p, x, i, j)];
          continue;
        }
        float s = 0;
        for (int64_t u = p->r.lo[i]; u < p->r.hi[i]; u++)
          for (int64_t q = p->c.lo[j]; q < p->c.hi[j]; q++) s += x[u * p->w + q];
        y[i * p->ow + j] = s / (float)(p->r.size[i] * p->c.size[j]);
      }
  }
}

static void pool_bwd_body(void *arg, int64_t lo, int64_t hi) {
  const PoolRun *r = arg;
  const Pool *p = r->p;
  int64_t idx[64]; /* a 2x2 pool's winners, one output row at a time */
  for (int64_t pl = lo; pl < hi; pl++) {
    const float *dy = r->dy + pl * p->oh * p->ow, *x = r->x + pl * p->h * p->w;
    float *dx = r->out + pl * p->h * p->w;
    memset(dx, 0, (size_t)(p->h * p->w) * sizeof(float));
    if (is_2x2(p) && p->ow <= 64) {
      for (int64_t i = 0; i < p->oh; i++) {
        const float *r0 = x + 2 * i * p->w, *r1 = r0 + p->w;
        float *d0 = dx + 2 * i * p->w, *d1 = d0 + p->w;
        const float *g = dy + i * p->ow;
        bool nan = false;
        for (int64_t j = 0; j < p->ow; j++) { /* the first of the four equal to the max gets g */
          float a = r0[2 * j], b = r0[2 * j + 1], c = r1[2 * j], d = r1[2 * j + 1];
          float m = b > a ? b : a;
          m = c > m ? c : m;
          m = d > m ? d : m;
          int ta = a == m, tb = !ta & (b == m), tc = !ta & !tb & (c == m), td = !ta & !tb & !tc;
          d0[2 * j] = ta ? g[j] : 0.0f, d0[2 * j + 1] = tb ? g[j] : 0.0f;
          d1[2 * j] = tc ? g[j] : 0.0f, d1[2 * j + 1] = td ? g[j] : 0.0f;
          nan |= (a + b + c + d) != (a + b + c + d);
        }
        if (!nan) continue;
        /* a NaN (or inf - inf) in some window: this row again by PyTorch's rule */
        max_pool_2x2(r0, p->w, 1, p->ow, NULL, idx); /* indices relative to row 2i */
        for (int64_t j = 0; j < p->ow; j++) {
          d0[2 * j] = d0[2 * j + 1] = d1[2 * j] = d1[2 * j + 1] = 0;
          d0[idx[j]] += g[j];
        }
      }
      continue;
    }
    for (int64_t i = 0; i < p->oh; i++)
      for (int64_t j = 0; j < p->ow; j++) {
        float g = dy[i * p->ow + j];
        if (!p->avg) {
          dx[argmax(p, x, i, j)] += g;
          continue;
        }
        g /= (float)(p->r.size[i] * p->c.size[j]);
        for (int64_t u = p->r.lo[i]; u < p->r.hi[i]; u++)
          for (int64_t q = p->c.lo[j]; q < p->c.hi[j]; q++) dx[u * p->w + q] += g;
      }
  }
}

/* out [N, C, OH, OW] = the max or mean of each window of x [N, C, H, W], plane by plane */
void rt_pool(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
             const SngPlanTensor *tout) {
  Pool p = pool_of(op, tin[0], tout);
  PoolRun r = {&p, in[0], NULL, out};
  par_for(p.planes, pool_body, &r);
  free(p.buf);
}

/* dx [N, C, H, W] from dy [N, C, OH, OW] and x: to each window's max, or spread over it */
void rt_pool_bwd(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                 const SngPlanTensor *tout) {
  Pool p = pool_of(op, tout, tin[0]);
  PoolRun r = {&p, in[1], in[0], out};
  par_for(p.planes, pool_bwd_body, &r);
  free(p.buf);
}

/* out = in, with another shape of the same size */
void rt_reshape(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                const SngPlanTensor *tout) {
  (void)op, (void)tin;
  int64_t n = 1;
  for (int i = 0; i < tout->rank; i++) n *= tout->dims[i];
  memcpy(out, in[0], (size_t)n * sizeof(float));
}
