/* test_torch_vectors.c - singa's C kernels against PyTorch 1.13 on the checked-in vectors.
 *
 * The files in tests/vectors/ come from tests/vectors/make_torch_vectors.py (the format is described
 * there): for every case the forward output and the gradients of the inputs and parameters
 * for a fixed upstream gradient, compared to 1e-4 relative (max-norm) with the kernels run
 * as the executor runs them (a plan op's iattr, tensors' dims).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../runtime/exec/internal.h"
#include "sng_lower.h"
#include "testutil.h"
#include "tmpdir.h"

enum { MAXT = 24 };

typedef struct Vec { char name[16]; int rank; int64_t dims[4]; float *v; } Vec;
typedef struct Case { char name[64]; int64_t args[8]; double fargs[4]; Vec t[MAXT]; int nt; } Case;

static int64_t count(const Vec *t) {
  int64_t n = 1;
  for (int i = 0; i < t->rank; i++) n *= t->dims[i];
  return n;
}

/* Reads the next case of f; false at the end. */
static bool next_case(FILE *f, Case *c) {
  static char line[1 << 20];
  long at = ftell(f);
  bool started = false;
  while (fgets(line, sizeof line, f)) {
    if (line[0] == '#') continue;
    if (!strncmp(line, "case ", 5)) {
      if (started) { /* the next case: leave it for the next call */
        fseek(f, at, SEEK_SET);
        return true;
      }
      memset(c, 0, sizeof *c);
      sscanf(line + 5, "%63s", c->name);
      started = true;
    } else if (!strncmp(line, "args", 4)) {
      char *p = line + 4;
      for (int i = 0; i < 8; i++) c->args[i] = strtoll(p, &p, 10);
    } else if (!strncmp(line, "fargs", 5)) {
      char *p = line + 5;
      for (int i = 0; i < 4; i++) c->fargs[i] = strtod(p, &p);
    } else if (!strncmp(line, "tensor ", 7)) {
      cr_assert_lt(c->nt, MAXT);
      Vec *t = &c->t[c->nt++];
      char *p = line + 7;
      int k = 0;
      sscanf(p, "%15s%n", t->name, &k);
      p += k;
      for (t->rank = 0; t->rank < 4; t->rank++) {
        char *e;
        int64_t d = strtoll(p, &e, 10);
        if (e == p) break;
        t->dims[t->rank] = d, p = e;
      }
      int64_t n = count(t);
      t->v = malloc((size_t)n * sizeof(float));
      cr_assert_not_null(fgets(line, sizeof line, f));
      p = line;
      for (int64_t i = 0; i < n; i++) t->v[i] = strtof(p, &p);
    }
    at = ftell(f);
  }
  return started;
}

static void free_case(Case *c) {
  for (int i = 0; i < c->nt; i++) free(c->t[i].v);
}

static Vec *get(Case *c, const char *name) {
  for (int i = 0; i < c->nt; i++)
    if (!strcmp(c->t[i].name, name)) return &c->t[i];
  return NULL;
}

static SngPlanTensor tensor_of(const Vec *v) {
  SngPlanTensor t = {0};
  t.rank = v->rank;
  memcpy(t.dims, v->dims, sizeof v->dims);
  return t;
}

/* Runs kernel k on the named inputs into a tensor shaped like `like`, and compares. */
static void expect_kernel(Case *c, const char *file, SngRtKernel k, const char *const *ins, int nin, const char *like) {
  SngPlanTensor tin[8], tout;
  const SngPlanTensor *ptin[8];
  float *in[8];
  for (int i = 0; i < nin; i++) {
    Vec *v = get(c, ins[i]);
    cr_assert_not_null(v, "%s %s: no tensor %s", file, c->name, ins[i]);
    tin[i] = tensor_of(v), ptin[i] = &tin[i], in[i] = v->v;
  }
  Vec *want = get(c, like);
  cr_assert_not_null(want);
  tout = tensor_of(want);
  SngPlanOp op = {0};
  op.nin = nin, op.nout = 1;
  memcpy(op.iattr, c->args, sizeof c->args);
  memcpy(op.fattr, c->fargs, sizeof c->fargs);
  int64_t n = count(want);
  float *out = malloc((size_t)n * sizeof(float));
  for (int64_t i = 0; i < n; i++) out[i] = NAN; /* every element must be written */
  k(&op, in, ptin, out, &tout);
  double d = 0, m = 1e-30;
  for (int64_t i = 0; i < n; i++) {
    d = fmax(d, isnan(out[i]) ? INFINITY : fabs((double)out[i] - want->v[i]));
    m = fmax(m, fabs((double)want->v[i]));
  }
  cr_expect(d / m <= 1e-4, "%s %s: %s differs from PyTorch by %.3g (relative)", file, c->name, like, d / m);
  free(out);
}

static FILE *open_vectors(const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s/tests/vectors/%s", SNG_SOURCE_DIR, name);
  FILE *f = fopen(path, "r");
  cr_assert_not_null(f, "cannot open %s", path);
  return f;
}

static void conv_file(void) {
  FILE *f = open_vectors("conv2d.txt");
  Case c;
  int n = 0;
  while (next_case(f, &c)) {
    bool bias = get(&c, "b") != NULL;
    expect_kernel(&c, "conv2d", rt_conv2d, (const char *const[]){"x", "w", "b"}, bias ? 3 : 2, "y");
    c.args[6] = get(&c, "x")->dims[2], c.args[7] = get(&c, "x")->dims[3]; /* the input's H, W */
    expect_kernel(&c, "conv2d", rt_conv2d_bwd_data, (const char *const[]){"dy", "w"}, 2, "dx");
    expect_kernel(&c, "conv2d", rt_conv2d_bwd_filter, (const char *const[]){"x", "dy"}, 2, "dw");
    if (bias) expect_kernel(&c, "conv2d", rt_chan_sum, (const char *const[]){"dy"}, 1, "db");
    free_case(&c);
    n++;
  }
  fclose(f);
  cr_expect_gt(n, 0);
}

Test(torch_vectors, conv2d_forward_and_gradients) { conv_file(); }

/* each implementation forced (SNG_CONV is read once per process: each test is one) */
Test(torch_vectors, conv2d_on_openblas) {
  setenv("SNG_CONV", "gemm", 1);
  conv_file();
}

Test(torch_vectors, conv2d_on_onednn) {
  setenv("SNG_CONV", "dnnl", 1);
  conv_file();
}

static void pool_file(const char *name) {
  FILE *f = open_vectors(name);
  Case c;
  int n = 0;
  while (next_case(f, &c)) {
    expect_kernel(&c, name, rt_pool, (const char *const[]){"x"}, 1, "y");
    expect_kernel(&c, name, rt_pool_bwd, (const char *const[]){"dy", "x"}, 2, "dx");
    free_case(&c);
    n++;
  }
  fclose(f);
  cr_expect_gt(n, 0);
}

Test(torch_vectors, max_pool_forward_and_gradient) { pool_file("max_pool.txt"); }
Test(torch_vectors, avg_pool_forward_and_gradient) { pool_file("avg_pool.txt"); }

/* ---- issue 10: normalisation (lrn, batchnorm) ---- */

Test(torch_vectors, lrn_forward_and_gradient) {
  FILE *f = open_vectors("lrn.txt");
  Case c;
  int n = 0;
  while (next_case(f, &c)) {
    expect_kernel(&c, "lrn", sng_rt_lrn, (const char *const[]){"x"}, 1, "y");
    expect_kernel(&c, "lrn", sng_rt_lrn_bwd, (const char *const[]){"dy", "x"}, 2, "dx");
    free_case(&c);
    n++;
  }
  fclose(f);
  cr_expect_gt(n, 0);
}

/* A new tensor `name` of the case: kernel k on the named inputs, iattr[0] = which. */
static Vec *compute(Case *c, const char *name, SngRtKernel k, const char *const *ins, int nin, int rank,
                    const int64_t *dims, int64_t which) {
  SngPlanTensor tin[8], tout = {0};
  const SngPlanTensor *ptin[8];
  float *in[8];
  for (int i = 0; i < nin; i++) {
    Vec *v = get(c, ins[i]);
    cr_assert_not_null(v, "%s: no tensor %s", c->name, ins[i]);
    tin[i] = tensor_of(v), ptin[i] = &tin[i], in[i] = v->v;
  }
  cr_assert_lt(c->nt, MAXT);
  Vec *o = &c->t[c->nt++];
  snprintf(o->name, sizeof o->name, "%s", name);
  o->rank = rank;
  memcpy(o->dims, dims, sizeof(int64_t) * (size_t)rank);
  tout = tensor_of(o);
  o->v = malloc((size_t)count(o) * sizeof(float));
  SngPlanOp op = {0};
  op.nin = nin, op.nout = 1;
  memcpy(op.iattr, c->args, sizeof c->args);
  memcpy(op.fattr, c->fargs, sizeof c->fargs);
  op.iattr[0] = which;
  k(&op, in, ptin, o->v, &tout);
  return o;
}

static void expect_vec(const Case *c, const char *what, const float *got, const Vec *want) {
  double d = 0, m = 1e-30;
  for (int64_t i = 0; i < count(want); i++) {
    d = fmax(d, isnan(got[i]) ? INFINITY : fabs((double)got[i] - want->v[i]));
    m = fmax(m, fabs((double)want->v[i]));
  }
  cr_expect(d / m <= 1e-4, "batchnorm %s: %s differs from PyTorch by %.3g (relative)", c->name, what, d / m);
}

/* the kernels as the compiler chains them: row sums, normalisation; in the backward pass
 * dx = the direct part + the part through the row sums; the running statistics from the
 * shares by the servers' rule (group.c running_update), and the test-mode forward */
Test(torch_vectors, batchnorm_train_backward_running_and_test) {
  FILE *f = open_vectors("batchnorm.txt");
  Case c;
  int n = 0;
  while (next_case(f, &c)) {
    Vec *x = get(&c, "x");
    int64_t ch = x->dims[1], m = count(x) / ch, sd[3] = {x->dims[0], 2, ch}, cd[1] = {ch};
    double eps = c.fargs[0], mom = c.fargs[1];
    (void)eps;
    compute(&c, "stats", sng_rt_bn_stats, (const char *const[]){"x"}, 1, 3, sd, 0);
    sng_rt_ctx.train = 1;
    Vec *y = compute(&c, "y_", sng_rt_batchnorm, (const char *const[]){"x", "stats", "gamma", "beta", "rmean0", "rvar0"},
                     6, x->rank, x->dims, 0);
    expect_vec(&c, "the training forward", y->v, get(&c, "y"));
    const char *const bw[] = {"dy", "x", "stats", "gamma"};
    Vec *dx0 = compute(&c, "dx0", sng_rt_bn_bwd, bw, 4, x->rank, x->dims, 0);
    compute(&c, "dstats", sng_rt_bn_bwd, bw, 4, 3, sd, 1);
    Vec *dx1 = compute(&c, "dx1", sng_rt_bn_stats_bwd, (const char *const[]){"x", "dstats"}, 2, x->rank, x->dims, 0);
    for (int64_t i = 0; i < count(x); i++) dx1->v[i] += dx0->v[i];
    expect_vec(&c, "dx", dx1->v, get(&c, "dx"));
    expect_vec(&c, "dgamma", compute(&c, "dg", sng_rt_bn_bwd, bw, 4, 1, cd, 2)->v, get(&c, "dgamma"));
    expect_vec(&c, "dbeta", compute(&c, "db", sng_rt_bn_bwd, bw, 4, 1, cd, 3)->v, get(&c, "dbeta"));
    Vec *s4 = compute(&c, "s4", sng_rt_bn_bwd, bw, 4, 1, cd, 4), *s5 = compute(&c, "s5", sng_rt_bn_bwd, bw, 4, 1, cd, 5);
    Vec *rm0 = get(&c, "rmean0"), *rv0 = get(&c, "rvar0");
    for (int64_t k = 0; k < ch; k++) {
      s4->v[k] = (float)((1 - mom) * rm0->v[k] + mom * s4->v[k] / (double)m);
      s5->v[k] = (float)((1 - mom) * rv0->v[k] + mom * s5->v[k] / (double)(m - 1));
    }
    expect_vec(&c, "the running mean", s4->v, get(&c, "rmean"));
    expect_vec(&c, "the running var", s5->v, get(&c, "rvar"));
    sng_rt_ctx.train = 0;
    Vec *yt = compute(&c, "yt_", sng_rt_batchnorm, (const char *const[]){"xt", "stats", "gamma", "beta", "rmean", "rvar"},
                      6, x->rank, x->dims, 0);
    expect_vec(&c, "the test-mode forward", yt->v, get(&c, "yt"));
    free_case(&c);
    n++;
  }
  fclose(f);
  cr_expect_gt(n, 0);
}

/* The running statistics through the whole runtime: a batchnorm net split over 2 workers
 * (by batch: every worker's share of the sums, added by the stub; by feature: each its
 * channels' slices) takes one step on PyTorch's batch, and the servers' values of the
 * running mean and var are PyTorch's after that step. */
static void running_through_servers(const char *part) {
  FILE *f = open_vectors("batchnorm.txt");
  Case c;
  bool found = false;
  while (!found && next_case(f, &c)) {
    if (!(found = !strcmp(c.name, "ncl_m03"))) free_case(&c);
  }
  fclose(f);
  cr_assert(found);
  Vec *x = get(&c, "x"); /* [5, 4, 6] */
  char dir[64], text[2048], err[512];
  tu_tmpdir(dir, sizeof dir, "bnrun");
  cr_assert_eq(write_synthetic_idx_rc(dir, "train", 20, 4, 6, 3, 1), 0);
  snprintf(text, sizeof text,
           "data d {\n  dir = \"%s\"\n  train = idx(\"train-images.gz\", \"train-labels.gz\")\n  batch = 5\n}\n"
           "net m(partition = %s) {\n  x, y = input(d)\n  h = batchnorm(reshape(x, 4, 6), momentum = %g, eps = %g)\n"
           "  l = dense(h, 3)\n  loss softmax_cross_entropy(l, y)\n}\n"
           "updater sgd(lr = 0.1)\ncluster(workers_per_group = 2)\ntrain m with bp, sgd { steps = 1 }\n",
           dir, part, c.fargs[1], c.fargs[0]);
  SngDiag *d = sng_diag_new(stderr, 20);
  SngPlan *p = sng_compile_string("t.sng", text, d, NULL);
  sng_diag_free(d);
  cr_assert_not_null(p);
  SngGroup *g = sng_group_new(p, err, sizeof err);
  cr_assert_not_null(g, "%s", err);
  int im = -1, iv = -1;
  for (int i = 0; i < p->nparams; i++) {
    if (!strcmp(p->params[i].name, "batchnorm1.running_mean")) im = i;
    if (!strcmp(p->params[i].name, "batchnorm1.running_var")) iv = i;
  }
  cr_assert(im >= 0 && iv >= 0);
  memcpy((float *)sng_group_param(g, im), get(&c, "rmean0")->v, 4 * sizeof(float)); /* the servers' values */
  memcpy((float *)sng_group_param(g, iv), get(&c, "rvar0")->v, 4 * sizeof(float));
  float y[5] = {0, 1, 2, 1, 0};
  sng_group_step(g, x->v, y);
  expect_vec(&c, part, sng_group_param(g, im), get(&c, "rmean"));
  expect_vec(&c, part, sng_group_param(g, iv), get(&c, "rvar"));
  sng_group_free(g);
  sng_plan_free(p);
  free_case(&c);
  tu_rmdir(dir);
}

Test(torch_vectors, batchnorm_running_statistics_through_the_servers) {
  running_through_servers("batch");
  running_through_servers("feature");
}

/* PyTorch's max-pool rule at its edges, on the 2x2 fast path and the general one (3x3 over a
 * padded 2x2): a NaN wins and a later NaN wins over it; among equal maxima the first wins. */
Test(torch_vectors, max_pool_nan_and_ties) {
  static const struct { float x[4], dx[4]; } cases[] = {
    {{1, NAN, 3, NAN}, {0, 0, 0, 5}},
    {{2, 2, 1, 2}, {5, 0, 0, 0}},
    {{-1, 4, 4, NAN}, {0, 0, 0, 5}},
    {{INFINITY, -INFINITY, 0, INFINITY}, {5, 0, 0, 0}},
  };
  for (int general = 0; general < 2; general++)
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
      SngPlanOp op = {0};
      int64_t a[7] = {2, 2, 2, 2, 0, 0, 0}, g[7] = {3, 3, 1, 1, 1, 1, 0};
      memcpy(op.iattr, general ? g : a, sizeof a);
      op.nin = 1, op.nout = 1;
      SngPlanTensor tx = {.rank = 4, .dims = {1, 1, 2, 2}}, ty = {.rank = 4, .dims = {1, 1, 1, 1}};
      float x[4], y = 0, dy = 5, dx[4];
      memcpy(x, cases[k].x, sizeof x);
      const SngPlanTensor *tin[2] = {&tx};
      rt_pool(&op, (float *const[]){x}, tin, &y, &ty);
      bool has_nan = isnan(x[0]) || isnan(x[1]) || isnan(x[2]) || isnan(x[3]);
      cr_expect(has_nan ? isnan(y) : y == x[cases[k].dx[0] ? 0 : cases[k].dx[1] ? 1 : cases[k].dx[2] ? 2 : 3],
                "case %zu (general %d): max %g", k, general, y);
      op.nin = 2;
      const SngPlanTensor *tin2[2] = {&ty, &tx};
      rt_pool_bwd(&op, (float *const[]){&dy, x}, tin2, dx, &tx);
      for (int i = 0; i < 4; i++)
        cr_expect_eq(dx[i], cases[k].dx[i], "case %zu (general %d): dx[%d] = %g, want %g", k, general, i, dx[i],
                     cases[k].dx[i]);
    }
}
