/* test_updaters.c - every updater, clipping and schedule against PyTorch 1.13 (or the closed
 * form), and the initialisers' resolved bounds and generated values.
 *
 * tests/vectors/updaters.txt comes from tests/vectors/make_updater_vectors.py: for each case
 * an `updater ...` declaration and the parameter after each of 200 steps of a fixed gradient
 * sequence.  The test compiles the declaration into a plan, takes the plan's fused update
 * kernel the servers run (JIT-compiled by the executor), feeds it the scalars and buffers the
 * servers build (runtime/exec/update.c), slice by slice, and compares every step to 1e-5
 * relative (max |w - ref| / max |ref|).  Schedules: sng_upd_lr for 200 steps against
 * PyTorch's schedulers.  Global-norm clipping over two servers runs the group runtime.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sng_exec.h"
#include "sng_lower.h"
#include "compileutil.h"
#include "testutil.h"
#include "tmpdir.h"

enum { MAXN = 16, MAXSTEPS = 200 };
static char dir[256];

static void make_data(void) {
  tu_tmpdir(dir, sizeof dir, "upd");
  cr_assert_eq(write_synthetic_idx(dir, "train", 64, 4, 3, 1), 0);
  cr_assert_eq(write_synthetic_idx(dir, "big", 16, 16, 3, 2), 0);
}
static void drop_data(void) {
  tu_rmdir(dir);
}
TestSuite(updaters, .init = make_data, .fini = drop_data, .timeout = 120);

/* A small net trained with `updater DECL` (the updater's name is the decl's first word). */
static SngPlan *compile_with(const char *decl, const char *net_body, const char *cluster, const char *prefix) {
  static char text[4096];
  char kind[32];
  sscanf(decl, "%31[a-z_]", kind);
  snprintf(text, sizeof text,
           "data d {\n  dir = \"%s\"\n  train = idx(\"%s-images.gz\", \"%s-labels.gz\")\n  batch = 8\n  scale = 1/255\n}\n"
           "net m {\n  x, y = input(d)\n%s}\n"
           "updater %s\n%s\ntrain m with bp, %s { steps = 200 }\n",
           dir, prefix, prefix, net_body, decl, cluster, kind);
  char *msgs = NULL;
  SngPlan *p = tu_compile("t.sng", text, NULL, &msgs, NULL);
  cr_assert_not_null(p, "compile failed:\n%s\n%s", msgs, text);
  free(msgs);
  return p;
}
static SngPlan *compile(const char *decl) {
  return compile_with(decl, "  loss softmax_cross_entropy(dense(x, 3), y)\n", "", "train");
}

/* ---- the vectors ---- */

typedef struct Vectors {
  FILE *f;
  int steps, n;
  double g[MAXSTEPS][MAXN], w0[MAXN];
} Vectors;

static void open_vectors(Vectors *v) {
  v->f = fopen(SNG_SOURCE_DIR "/tests/vectors/updaters.txt", "r");
  cr_assert_not_null(v->f, "tests/vectors/updaters.txt");
  cr_assert_eq(fscanf(v->f, " grads %d %d", &v->steps, &v->n), 2);
  cr_assert(v->steps <= MAXSTEPS && v->n <= MAXN);
  for (int t = 0; t < v->steps; t++)
    for (int i = 0; i < v->n; i++) cr_assert_eq(fscanf(v->f, "%lf", &v->g[t][i]), 1);
  cr_assert_eq(fscanf(v->f, " w0"), 0);
  for (int i = 0; i < v->n; i++) cr_assert_eq(fscanf(v->f, "%lf", &v->w0[i]), 1);
}

/* the rest of the line after "decl " */
static void read_decl(FILE *f, char *decl, size_t n) {
  cr_assert_eq(fscanf(f, " decl "), 0);
  cr_assert_not_null(fgets(decl, (int)n, f));
  decl[strcspn(decl, "\n")] = 0;
}

/* One updater case: every step through the plan's update kernel, slice by slice. */
static double run_case(Vectors *v, const char *name, double lr_mult, double wd_mult, int split, const char *decl) {
  SngPlan *p = compile(decl);
  const SngPlanUpdater *u = &p->updater;
  char err[512];
  SngJit *jit = sng_jit_new(err, sizeof err);
  cr_assert_not_null(jit, "%s", err);
  float **values = calloc((size_t)p->nparams, sizeof(float *));
  for (int i = 0; i < p->nparams; i++) {
    int64_t k = 1;
    for (int j = 0; j < p->params[i].rank; j++) k *= p->params[i].dims[j];
    values[i] = sng_alloc_aligned((size_t)k * 4 + 64);
    memset(values[i], 0, (size_t)k * 4);
  }
  SngExec *e = sng_exec_new(p, 0, jit, values, err, sizeof err);
  cr_assert_not_null(e, "%s", err);
  SngKernelFn fn = sng_exec_update_fn(e);
  cr_assert_not_null(fn);
  int n = v->n;
  float w[MAXN], grad[MAXN], *state = calloc((size_t)(n * (u->nstate + 1)), sizeof(float));
  for (int i = 0; i < n; i++) w[i] = (float)v->w0[i];
  SngPlanParam pp = {.lr_mult = lr_mult, .wd_mult = wd_mult};
  SngPlanSlice sl[2] = {{0, 0, split ? split : n, 0}, {0, split, n - split, 0}};
  double worst = 0;
  for (int t = 0; t < v->steps; t++) {
    double sumsq = 0, ref[MAXN], d = 0, m = 1e-30;
    for (int i = 0; i < n; i++) grad[i] = (float)v->g[t][i], sumsq += (double)grad[i] * grad[i];
    double gs = sng_upd_clip_scale(u, sumsq); /* one server: its own sum is the total */
    for (int s = 0; s < (split ? 2 : 1); s++) {
      float sc[SNG_UPD_NSCALARS], *bufs[2 + SNG_UPD_MAX_STATE];
      sng_upd_scalars(u, &pp, t, gs, sc);
      sng_upd_bufs(u, w, state, n, &sl[s], grad + sl[s].offset, bufs);
      fn(bufs, sc, 1, sl[s].len);
    }
    for (int i = 0; i < n; i++) {
      cr_assert_eq(fscanf(v->f, "%lf", &ref[i]), 1, "%s: step %d", name, t);
      d = fmax(d, fabs(w[i] - ref[i])), m = fmax(m, fabs(ref[i]));
    }
    worst = fmax(worst, d / m);
    cr_expect(d / m <= 1e-5, "%s (%s): step %d: relative error %.3g (w[0] %.9g, PyTorch %.9g)", name, decl, t + 1,
              d / m, w[0], ref[0]);
  }
  free(state);
  sng_exec_free(e);
  for (int i = 0; i < p->nparams; i++) free(values[i]);
  free(values);
  sng_jit_free(jit);
  sng_plan_free(p);
  return worst;
}

static double run_sched(Vectors *v, const char *name, const char *decl) {
  SngPlan *p = compile(decl);
  double worst = 0;
  for (int s = 0; s < v->steps; s++) {
    double ref, lr = sng_upd_lr(&p->updater, s);
    cr_assert_eq(fscanf(v->f, "%lf", &ref), 1);
    double r = fabs(lr - ref) / fmax(fabs(ref), 1e-30);
    worst = fmax(worst, r);
    cr_expect(r <= 1e-5, "%s (%s): step %d: lr %.10g, PyTorch %.10g", name, decl, s, lr, ref);
  }
  sng_plan_free(p);
  return worst;
}

Test(updaters, against_pytorch) {
  static Vectors v;
  open_vectors(&v);
  char tok[32], name[64], decl[512];
  int cases = 0, scheds = 0;
  while (fscanf(v.f, " %31s", tok) == 1) {
    double lm, wm, worst;
    int split;
    if (!strcmp(tok, "case")) {
      cr_assert_eq(fscanf(v.f, " %63s %lf %lf %d", name, &lm, &wm, &split), 4);
      read_decl(v.f, decl, sizeof decl);
      worst = run_case(&v, name, lm, wm, split, decl);
      cases++;
    } else {
      cr_assert_str_eq(tok, "sched");
      cr_assert_eq(fscanf(v.f, " %63s", name), 1);
      read_decl(v.f, decl, sizeof decl);
      worst = run_sched(&v, name, decl);
      scheds++;
    }
    cr_log_info("%-18s worst relative error over %d steps %.2e   %s", name, v.steps, worst, decl);
  }
  fclose(v.f);
  cr_expect_eq(cases, 24, "updater cases: %d", cases);
  cr_expect_eq(scheds, 13, "schedules: %d", scheds);
}

/* ---- global-norm clipping over two servers: the group runtime ---- */

static void batch_of(int64_t b, int64_t sample, uint64_t seed, float *x, float *y) {
  SngRng r;
  sng_rng_seed(&r, seed);
  for (int64_t i = 0; i < b * sample; i++) x[i] = (float)(sng_rng_uniform(&r) * 2 - 1);
  for (int64_t i = 0; i < b; i++) y[i] = (float)sng_rng_below(&r, 3);
}

static int64_t numel(const SngPlanParam *pp) {
  int64_t n = 1;
  for (int j = 0; j < pp->rank; j++) n *= pp->dims[j];
  return n;
}

/* Three steps: each parameter must move by -lr * g * min(1, c / (||all g|| + 1e-6)), with
 * the norm over every parameter, whichever server holds its slices. */
static void clip_norm_steps(const char *decl, double lr, double c, int want_active) {
  SngPlan *p = compile_with(decl, "  h = relu(dense(x, 5))\n  loss softmax_cross_entropy(dense(h, 3), y)\n",
                            "cluster(servers_per_group = 2)", "train");
  int servers[64] = {0};
  for (int s = 0; s < p->nslices; s++) servers[p->slices[s].server & 63]++;
  int used = 0;
  for (int k = 0; k < 64; k++) used += servers[k] > 0;
  cr_assert_eq(used, 2, "the slices lie on %d servers", used);
  char err[512];
  SngGroup *g = sng_group_new(p, err, sizeof err);
  cr_assert_not_null(g, "%s", err);
  float x[8 * 16], y[8];
  int active = 0;
  for (int step = 0; step < 3; step++) {
    batch_of(8, 16, 5 + (uint64_t)step, x, y);
    float *before[8];
    for (int i = 0; i < p->nparams; i++) {
      before[i] = malloc((size_t)numel(&p->params[i]) * 4);
      memcpy(before[i], sng_group_param(g, i), (size_t)numel(&p->params[i]) * 4);
    }
    sng_group_step(g, x, y);
    double sumsq = 0;
    for (int i = 0; i < p->nparams; i++) {
      const float *gr = sng_group_grad(g, i);
      for (int64_t k = 0; k < numel(&p->params[i]); k++) sumsq += (double)gr[k] * gr[k];
    }
    double scale = fmin(1, c / (sqrt(sumsq) + 1e-6));
    active += scale < 1;
    for (int i = 0; i < p->nparams; i++) {
      const float *gr = sng_group_grad(g, i), *after = sng_group_param(g, i);
      double d = 0, m = 1e-30;
      for (int64_t k = 0; k < numel(&p->params[i]); k++) {
        double want = before[i][k] - lr * gr[k] * scale;
        d = fmax(d, fabs(after[k] - want)), m = fmax(m, fabs(want));
      }
      cr_expect(d / m <= 1e-5, "%s: step %d, %s: relative error %.3g (scale %.4f)", decl, step, p->params[i].name,
                d / m, scale);
      free(before[i]);
    }
  }
  cr_expect_eq(active > 0, want_active, "%s: the clip was active in %d of 3 steps", decl, active);
  sng_group_free(g);
  sng_plan_free(p);
}

Test(updaters, clip_norm_over_two_servers) {
  clip_norm_steps("sgd(lr = 0.5, clip_norm = 0.05)", 0.5, 0.05, 1);
  clip_norm_steps("sgd(lr = 0.5, clip_norm = 1e6)", 0.5, 1e6, 0);
}

/* ---- initialisers ---- */

static void expect_init(const char *init, int kind, double a, double b) {
  char body[256];
  snprintf(body, sizeof body, "  loss softmax_cross_entropy(dense(x, 3, init = %s, bias_init = %s), y)\n", init, init);
  SngPlan *p = compile_with("sgd()", body, "", "train");
  for (int i = 0; i < 2; i++) { /* a weight [16, 3] and its bias share the fans 16 and 3 */
    const SngPlanParam *pp = &p->params[i];
    cr_expect_eq(pp->init, kind, "%s: %s: init %d", init, pp->name, pp->init);
    cr_expect(fabs(pp->init_a - a) <= 1e-12 * fmax(1, fabs(a)) && fabs(pp->init_b - b) <= 1e-12 * fmax(1, fabs(b)),
              "%s: %s: [%.9g, %.9g], want [%.9g, %.9g]", init, pp->name, pp->init_a, pp->init_b, a, b);
  }
  sng_plan_free(p);
}

Test(updaters, initialisers_resolve_from_fans) {
  double fi = 16, fo = 3;
  expect_init("constant(0.5)", SNG_PINIT_CONSTANT, 0.5, 0);
  expect_init("uniform(-0.2, 0.3)", SNG_PINIT_UNIFORM, -0.2, 0.3);
  expect_init("gaussian(0.1, 0.02)", SNG_PINIT_GAUSSIAN, 0.1, 0.02);
  expect_init("auto", SNG_PINIT_UNIFORM, -1 / sqrt(fi), 1 / sqrt(fi));
  expect_init("xavier_uniform", SNG_PINIT_UNIFORM, -sqrt(6 / (fi + fo)), sqrt(6 / (fi + fo)));
  expect_init("glorot_uniform(gain = 2)", SNG_PINIT_UNIFORM, -2 * sqrt(6 / (fi + fo)), 2 * sqrt(6 / (fi + fo)));
  expect_init("xavier_normal", SNG_PINIT_GAUSSIAN, 0, sqrt(2 / (fi + fo)));
  expect_init("glorot_normal(1.5)", SNG_PINIT_GAUSSIAN, 0, 1.5 * sqrt(2 / (fi + fo)));
  expect_init("he_uniform", SNG_PINIT_UNIFORM, -sqrt(6 / fi), sqrt(6 / fi));
  expect_init("msra_uniform()", SNG_PINIT_UNIFORM, -sqrt(6 / fi), sqrt(6 / fi));
  expect_init("he_normal", SNG_PINIT_GAUSSIAN, 0, sqrt(2 / fi));
  expect_init("msra_normal", SNG_PINIT_GAUSSIAN, 0, sqrt(2 / fi));
  expect_init("uniform_sqrt_fan_in", SNG_PINIT_UNIFORM, -1 / sqrt(fi / 3), 1 / sqrt(fi / 3));
  expect_init("uniform_sqrt_fan_in(-0.5, 2)", SNG_PINIT_UNIFORM, -0.5 / sqrt(fi / 3), 2 / sqrt(fi / 3));
  expect_init("gaussian_sqrt_fan_in(std = 2)", SNG_PINIT_GAUSSIAN, 0, 2 / sqrt(fi));
  expect_init("uniform_sqrt_fan_in_out", SNG_PINIT_UNIFORM, -1 / sqrt(fi + fo), 1 / sqrt(fi + fo));
}

/* conv2d's filter bank [4, 1, 3, 3] and its bias: fan_in 1*3*3, fan_out 4*3*3 */
static void expect_conv_init(const char *init, int kind, double a, double b) {
  char body[256];
  snprintf(body, sizeof body,
           "  loss softmax_cross_entropy(dense(conv2d(x, 4, kernel = 3, init = %s, bias_init = %s), 3), y)\n", init,
           init);
  SngPlan *p = compile_with("sgd()", body, "", "train");
  int seen = 0;
  for (int i = 0; i < p->nparams; i++) {
    const SngPlanParam *pp = &p->params[i];
    if (strncmp(pp->name, "conv", 4)) continue;
    seen++;
    cr_expect(pp->init == kind && fabs(pp->init_a - a) <= 1e-12 && fabs(pp->init_b - b) <= 1e-12,
              "%s: %s: init %d [%.9g, %.9g], want %d [%.9g, %.9g]", init, pp->name, pp->init, pp->init_a, pp->init_b,
              kind, a, b);
  }
  cr_expect_eq(seen, 2, "conv2d's weight and bias: %d params", seen);
  sng_plan_free(p);
}

Test(updaters, conv2d_initialisers_use_its_fans) {
  double fi = 9, fo = 36;
  expect_conv_init("auto", SNG_PINIT_UNIFORM, -1 / sqrt(fi), 1 / sqrt(fi));
  expect_conv_init("xavier_uniform", SNG_PINIT_UNIFORM, -sqrt(6 / (fi + fo)), sqrt(6 / (fi + fo)));
  expect_conv_init("xavier_normal", SNG_PINIT_GAUSSIAN, 0, sqrt(2 / (fi + fo)));
  expect_conv_init("he_uniform", SNG_PINIT_UNIFORM, -sqrt(6 / fi), sqrt(6 / fi));
  expect_conv_init("he_normal", SNG_PINIT_GAUSSIAN, 0, sqrt(2 / fi));
  expect_conv_init("uniform_sqrt_fan_in", SNG_PINIT_UNIFORM, -1 / sqrt(fi / 3), 1 / sqrt(fi / 3));
}

/* The runtime's values: mean and standard deviation of a [256, 400] weight. */
static void expect_values(const char *init, double want_std, double bound) {
  char body[256];
  snprintf(body, sizeof body, "  h = dense(x, 400, init = %s)\n  loss softmax_cross_entropy(dense(h, 3), y)\n", init);
  SngPlan *p = compile_with("sgd()", body, "", "big");
  char err[512];
  SngGroup *g = sng_group_new(p, err, sizeof err);
  cr_assert_not_null(g, "%s", err);
  const float *w = sng_group_param(g, 0);
  int64_t n = numel(&p->params[0]);
  cr_assert_eq(n, 256 * 400);
  double s = 0, ss = 0, top = 0;
  for (int64_t k = 0; k < n; k++) s += w[k], ss += (double)w[k] * w[k], top = fmax(top, fabs(w[k]));
  double mean = s / (double)n, sd = sqrt(ss / (double)n - mean * mean);
  cr_log_info("%-16s mean %+.2e  std %.5f (want %.5f)  max |w| %.4f", init, mean, sd, want_std, top);
  cr_expect(fabs(mean) <= 5 * want_std / sqrt((double)n), "%s: mean %g", init, mean);
  cr_expect(fabs(sd / want_std - 1) <= 0.02, "%s: std %g, want %g", init, sd, want_std);
  if (bound > 0) cr_expect(top <= bound, "%s: max |w| %g past the bound %g", init, top, bound);
  sng_group_free(g);
  sng_plan_free(p);
}

Test(updaters, initialiser_values) {
  double fi = 256, fo = 400;
  expect_values("he_normal", sqrt(2 / fi), 0);
  expect_values("he_uniform", sqrt(6 / fi) / sqrt(3), sqrt(6 / fi));
  expect_values("xavier_uniform", sqrt(6 / (fi + fo)) / sqrt(3), sqrt(6 / (fi + fo)));
  expect_values("xavier_normal", sqrt(2 / (fi + fo)), 0);
  expect_values("uniform_sqrt_fan_in", 1 / sqrt(fi / 3) / sqrt(3), 1 / sqrt(fi / 3));
}
