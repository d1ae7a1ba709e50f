/* conv_dnnl.c - conv2d's three kernels on oneDNN (Debian's libdnnl 2.6, what PyTorch uses on
 * CPU), the alternative to conv.c's im2col + OpenBLAS behind the same ops.
 *
 * oneDNN picks its own blocked layouts (format "any"); tensors stay NCHW and [F, C*kh*kw]
 * (oihw) in singa's memory, and reorders convert at the boundary when the chosen layout
 * differs.  Primitives are made once per shape and kept in a small per-thread cache (workers
 * are threads).  oneDNN's OpenMP threads follow OpenBLAS's count for the calling worker
 * (singa-exec --threads).  sng_rt_conv_dnnl_* return -1 when oneDNN cannot run the
 * convolution, and the caller falls back to im2col + OpenBLAS.
 */
#include "internal.h"

#include <cblas.h>
#include <oneapi/dnnl/dnnl.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

enum { FWD, BWD_DATA, BWD_WEIGHTS, NCACHE = 24 };

typedef struct Reo { dnnl_primitive_t p; dnnl_memory_desc_t from, to; } Reo;   /* p NULL: none needed */

typedef struct Prim {
  int64_t key[16];
  dnnl_primitive_t p;
  dnnl_memory_desc_t md[3];     /* the primitive's own layouts: FWD src, w, dst; BWD_DATA diff_src, w, diff_dst;
                                   BWD_WEIGHTS src, diff_w, diff_dst */
  dnnl_memory_desc_t plain[3];  /* singa's layouts of the same */
  Reo reo[3];                   /* plain -> own for inputs, own -> plain for the output */
  size_t scratch[3];            /* bytes of the own-layout buffers, 0 when plain is used directly */
  dnnl_memory_desc_t bias;
  bool has_bias;
} Prim;

static _Thread_local struct {
  dnnl_engine_t eng;
  dnnl_stream_t str;
  Prim cache[NCACHE];
  int n, next;
  float *buf[3];
  size_t cap[3];
} T;

static bool ok(dnnl_status_t s) { return s == dnnl_success; }

static int setup(void) {
  if (T.eng) return 0;
  if (!ok(dnnl_engine_create(&T.eng, dnnl_cpu, 0))) return -1;
  if (!ok(dnnl_stream_create(&T.str, T.eng, dnnl_stream_default_flags))) return -1;
  return 0;
}

static int make_reorder(Reo *r, const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to) {
  r->from = *from, r->to = *to, r->p = NULL;
  if (dnnl_memory_desc_equal(from, to)) return 0;
  dnnl_primitive_desc_t pd;
  if (!ok(dnnl_reorder_primitive_desc_create(&pd, from, T.eng, to, T.eng, NULL))) return -1;
  dnnl_status_t s = dnnl_primitive_create(&r->p, pd);
  dnnl_primitive_desc_destroy(pd);
  return ok(s) ? 0 : -1;
}

/* The primitive for (kind, shapes, window); NULL if oneDNN cannot make it. */
static Prim *prim_for(int kind, const int64_t *x, const int64_t *w, const int64_t *y, const int64_t *a, bool bias) {
  int64_t key[16] = {kind, x[0], x[1], x[2], x[3], w[0], w[1], y[2], y[3], a[0], a[1], a[2], a[3], a[4], a[5], bias};
  for (int i = 0; i < T.n; i++)
    if (!memcmp(T.cache[i].key, key, sizeof key)) return T.cache[i].p ? &T.cache[i] : NULL;
  Prim *c = &T.cache[T.n < NCACHE ? T.n++ : T.next++ % NCACHE];
  if (c->p) { /* evicted */
    dnnl_primitive_destroy(c->p);
    for (int i = 0; i < 3; i++)
      if (c->reo[i].p) dnnl_primitive_destroy(c->reo[i].p);
  }
  memset(c, 0, sizeof *c);
  memcpy(c->key, key, sizeof key);
  dnnl_dims_t xd = {x[0], x[1], x[2], x[3]}, wd = {w[0], x[1], a[0], a[1]}, yd = {y[0], w[0], y[2], y[3]};
  dnnl_dims_t bd = {w[0]}, st = {a[2], a[3]}, pl = {a[4], a[5]}, pr = {a[4], a[5]}; /* floors, as we do */
  dnnl_memory_desc_t any[3], pb;
  dnnl_memory_desc_init_by_tag(&c->plain[0], 4, xd, dnnl_f32, dnnl_nchw);
  dnnl_memory_desc_init_by_tag(&c->plain[1], 4, wd, dnnl_f32, dnnl_oihw);
  dnnl_memory_desc_init_by_tag(&c->plain[2], 4, yd, dnnl_f32, dnnl_nchw);
  dnnl_memory_desc_init_by_tag(&any[0], 4, xd, dnnl_f32, dnnl_format_tag_any);
  dnnl_memory_desc_init_by_tag(&any[1], 4, wd, dnnl_f32, dnnl_format_tag_any);
  dnnl_memory_desc_init_by_tag(&any[2], 4, yd, dnnl_f32, dnnl_format_tag_any);
  dnnl_memory_desc_init_by_tag(&pb, 1, bd, dnnl_f32, dnnl_x);
  c->bias = pb, c->has_bias = bias;
  dnnl_convolution_desc_t fd, d;
  dnnl_primitive_desc_t hint = NULL, pd = NULL;
  bool good = ok(dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct, &any[0],
                                                    &any[1], bias ? &pb : NULL, &any[2], st, pl, pr)) &&
              ok(dnnl_primitive_desc_create(&hint, &fd, NULL, T.eng, NULL));
  if (good && kind == FWD) pd = hint, hint = NULL;
  else if (good && kind == BWD_DATA)
    good = ok(dnnl_convolution_backward_data_desc_init(&d, dnnl_convolution_direct, &any[0], &any[1], &any[2], st, pl,
                                                       pr)) &&
           ok(dnnl_primitive_desc_create(&pd, &d, NULL, T.eng, hint));
  else if (good)
    good = ok(dnnl_convolution_backward_weights_desc_init(&d, dnnl_convolution_direct, &any[0], &any[1],
                                                          bias ? &pb : NULL, &any[2], st, pl, pr)) &&
           ok(dnnl_primitive_desc_create(&pd, &d, NULL, T.eng, hint));
  if (hint) dnnl_primitive_desc_destroy(hint);
  if (good) {
    static const dnnl_query_t q[3][3] = {{dnnl_query_src_md, dnnl_query_weights_md, dnnl_query_dst_md},
                                         {dnnl_query_diff_src_md, dnnl_query_weights_md, dnnl_query_diff_dst_md},
                                         {dnnl_query_src_md, dnnl_query_diff_weights_md, dnnl_query_diff_dst_md}};
    int out = kind == FWD ? 2 : kind == BWD_DATA ? 0 : 1;
    for (int i = 0; i < 3 && good; i++) {
      c->md[i] = *dnnl_primitive_desc_query_md(pd, q[kind][i], 0);
      good = i == out ? !make_reorder(&c->reo[i], &c->md[i], &c->plain[i])
                      : !make_reorder(&c->reo[i], &c->plain[i], &c->md[i]);
      c->scratch[i] = c->reo[i].p ? dnnl_memory_desc_get_size(&c->md[i]) : 0;
    }
    good = good && ok(dnnl_primitive_create(&c->p, pd));
  }
  if (pd) dnnl_primitive_desc_destroy(pd);
  if (!good) {
    if (c->p) dnnl_primitive_destroy(c->p);
    for (int i = 0; i < 3; i++)
      if (c->reo[i].p) dnnl_primitive_destroy(c->reo[i].p);
    memset(c->reo, 0, sizeof c->reo);
    c->p = NULL;
  }
  return c->p ? c : NULL;
}

static dnnl_memory_t mem(const dnnl_memory_desc_t *md, void *h) {
  dnnl_memory_t m = NULL;
  SNG_ASSERT(ok(dnnl_memory_create(&m, md, T.eng, h)));
  return m;
}

static void reorder(const Reo *r, void *from, void *to) {
  dnnl_memory_t a = mem(&r->from, from), b = mem(&r->to, to);
  dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, a}, {DNNL_ARG_TO, b}};
  SNG_ASSERT(ok(dnnl_primitive_execute(r->p, T.str, 2, args)));
  dnnl_memory_destroy(a), dnnl_memory_destroy(b);
}

static float *own(int i, size_t bytes) {
  if (bytes > T.cap[i]) {
    free(T.buf[i]);
    T.buf[i] = sng_alloc_aligned(bytes);
    T.cap[i] = bytes;
  }
  return T.buf[i];
}

/* Runs c on singa's buffers t[0..3) (in c->md's roles) and the bias (NULL: none). */
static void run(const Prim *c, int kind, float *const t[3], float *bias) {
  static const int role[3][3] = {{DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST},
                                 {DNNL_ARG_DIFF_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_DST},
                                 {DNNL_ARG_SRC, DNNL_ARG_DIFF_WEIGHTS, DNNL_ARG_DIFF_DST}};
  int out = kind == FWD ? 2 : kind == BWD_DATA ? 0 : 1;
  omp_set_num_threads(openblas_get_num_threads()); /* this worker's share of the cores */
  float *h[3];
  for (int i = 0; i < 3; i++) {
    h[i] = c->reo[i].p ? own(i, c->scratch[i]) : t[i];
    if (c->reo[i].p && i != out) reorder(&c->reo[i], t[i], h[i]);
  }
  dnnl_exec_arg_t args[4];
  dnnl_memory_t m[4];
  int n = 0;
  for (int i = 0; i < 3; i++) m[n] = mem(&c->md[i], h[i]), args[n] = (dnnl_exec_arg_t){role[kind][i], m[n]}, n++;
  if (bias) m[n] = mem(&c->bias, bias), args[n] = (dnnl_exec_arg_t){kind == FWD ? DNNL_ARG_BIAS : DNNL_ARG_DIFF_BIAS, m[n]}, n++;
  SNG_ASSERT(ok(dnnl_primitive_execute(c->p, T.str, n, args)));
  if (c->reo[out].p) reorder(&c->reo[out], h[out], t[out]);
  SNG_ASSERT(ok(dnnl_stream_wait(T.str)));
  for (int i = 0; i < n; i++) dnnl_memory_destroy(m[i]);
}

int sng_rt_conv_dnnl_fwd(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                         const SngPlanTensor *tout) {
  if (setup()) return -1;
  const Prim *c = prim_for(FWD, tin[0]->dims, tin[1]->dims, tout->dims, op->iattr, op->nin == 3);
  if (!c) return -1;
  run(c, FWD, (float *const[]){in[0], in[1], out}, op->nin == 3 ? in[2] : NULL);
  return 0;
}

int sng_rt_conv_dnnl_bwd_data(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                              const SngPlanTensor *tout) {
  if (setup()) return -1;
  const Prim *c = prim_for(BWD_DATA, tout->dims, tin[1]->dims, tin[0]->dims, op->iattr, false);
  if (!c) return -1;
  run(c, BWD_DATA, (float *const[]){out, in[1], in[0]}, NULL);
  return 0;
}

int sng_rt_conv_dnnl_bwd_weights(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                                 const SngPlanTensor *tout) {
  if (setup()) return -1;
  const Prim *c = prim_for(BWD_WEIGHTS, tin[0]->dims, tout->dims, tin[1]->dims, op->iattr, false);
  if (!c) return -1;
  run(c, BWD_WEIGHTS, (float *const[]){in[0], out, in[1]}, NULL);
  return 0;
}
