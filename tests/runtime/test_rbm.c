/* test_rbm.c - the energy models: sample's draws, and the rbm layer trained with cd.
 *
 *   sample   Bernoulli draws are 1 at the rate p, Gaussian ones p + N(0, 1); a piece of the
 *            batch draws what the whole draws there; another step or seed draws afresh
 *   cd       one training step of a cd(k) net gives SINGA's update exactly: the test runs the
 *            Gibbs chain itself, in double, drawing the samples with the plan's own SAMPLE
 *            ops, and compares every gradient and the reported squared error (k = 1 and 3,
 *            Bernoulli and Gaussian units)
 *   errors   what a net trained with cd may not be, each reported at its place
 * (test_layers.c covers the rbm under bp by finite differences, and cd nets split by batch.)
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../runtime/exec/internal.h"
#include "sng_exec.h"
#include "fdcheck.h"
#include "compileutil.h"
#include "testutil.h"
#include "tmpdir.h"

/* ---------------------------------------------------------------- sample */

enum { N = 50, F = 200 };
static float ps[N * F], whole[N * F], piece[N * F];

/* y = sample(x) over the box [r0, r0 + rows) x [0, F) of the whole [N, F] tensor */
static void draw(float *y, const float *x, int64_t r0, int64_t rows, int gauss, uint64_t seed, int64_t step) {
  SngPlanOp op = {0};
  op.nin = op.nout = 1;
  op.iattr[0] = r0, op.iattr[4] = F, op.iattr[7] = 1;
  op.fattr[0] = gauss, op.fattr[1] = 777;
  SngPlanTensor t = {0};
  t.rank = 2, t.dims[0] = rows, t.dims[1] = F;
  const SngPlanTensor *tin[1] = {&t};
  float *in[1] = {(float *)x};
  sng_rt_ctx = (SngRtCtx){0, seed, step};
  sng_rt_sample(&op, in, tin, y, &t);
}

Test(sample, bernoulli_draws_one_at_the_rate_p) {
  for (int i = 0; i < N * F; i++) ps[i] = (float)((i / F) % 5) * 0.2f + 0.1f; /* rows of p = 0.1 ... 0.9 */
  draw(whole, ps, 0, N, 0, 42, 3);
  double ones[5] = {0}, count[5] = {0};
  for (int i = 0; i < N * F; i++) {
    cr_assert(whole[i] == 0 || whole[i] == 1, "a Bernoulli draw of %g", whole[i]);
    ones[(i / F) % 5] += whole[i], count[(i / F) % 5]++;
  }
  for (int k = 0; k < 5; k++) {
    double p = k * 0.2 + 0.1, rate = ones[k] / count[k], sd = sqrt(p * (1 - p) / count[k]);
    cr_expect(fabs(rate - p) < 4 * sd, "p = %.1f: rate %.4f over %.0f draws", p, rate, count[k]);
  }
  for (int i = 0; i < N * F; i++) ps[i] = 0;
  draw(piece, ps, 0, N, 0, 42, 3);
  for (int i = 0; i < N * F; i++) cr_assert_eq(piece[i], 0, "p = 0 never draws 1");
  for (int i = 0; i < N * F; i++) ps[i] = 1;
  draw(piece, ps, 0, N, 0, 42, 3);
  for (int i = 0; i < N * F; i++) cr_assert_eq(piece[i], 1, "p = 1 always draws 1");
}

Test(sample, gaussian_draws_p_plus_unit_noise) {
  for (int i = 0; i < N * F; i++) ps[i] = (float)(i % 7) - 3;
  draw(whole, ps, 0, N, 1, 7, 11);
  double s = 0, s2 = 0;
  for (int i = 0; i < N * F; i++) {
    double e = whole[i] - ps[i];
    cr_assert(isfinite(e));
    s += e, s2 += e * e;
  }
  double mean = s / (N * F), var = s2 / (N * F) - mean * mean;
  cr_expect(fabs(mean) < 4 / sqrt(N * F), "noise mean %.4f", mean);
  cr_expect(fabs(var - 1) < 0.05, "noise variance %.4f", var);
}

Test(sample, a_piece_draws_what_the_whole_draws_there) {
  for (int i = 0; i < N * F; i++) ps[i] = 0.5f;
  for (int gauss = 0; gauss <= 1; gauss++) {
    draw(whole, ps, 0, N, gauss, 9, 5);
    draw(piece, ps, 17, 13, gauss, 9, 5);
    cr_expect_arr_eq(piece, whole + 17 * F, 13 * F * sizeof(float), "rows 17..29 drawn alone");
    draw(piece, ps, 0, N, gauss, 9, 6);
    cr_expect(memcmp(piece, whole, sizeof whole), "another step draws afresh");
    draw(piece, ps, 0, N, gauss, 10, 5);
    cr_expect(memcmp(piece, whole, sizeof whole), "another seed draws afresh");
  }
}

/* ---------------------------------------------------------------- cd */

static char root[256];
static void make_dir(void) {
  tu_tmpdir(root, sizeof root, "rbm");
  cr_assert_eq(write_synthetic_idx_rc(root, "train", 40, 3, 4, 3, 1), 0);
}
static void drop_dir(void) {
  tu_rmdir(root);
}

static const char *source(const char *rbm, int k) {
  static char buf[2048];
  snprintf(buf, sizeof buf,
           "data d {\n  dir = \"%s\"\n  train = idx(\"train-images.gz\", \"train-labels.gz\")\n  batch = 7\n}\n"
           "net m {\n  x, y = input(d)\n  h = %s\n}\n"
           "updater sgd(lr = 0.1)\n"
           "train m with cd(k = %d), sgd { steps = 1 }\n",
           root, rbm, k);
  return buf;
}

static int param_index(const SngPlan *p, const char *name) {
  for (int i = 0; i < p->nparams; i++)
    if (!strcmp(p->params[i].name, name)) return i;
  cr_assert_fail("no parameter %s", name);
  return -1;
}

static double sig(double a) { return 1 / (1 + exp(-a)); }

/* out[B, m] = act(x[B, n] W (or W^T) + bias), in double; W is [V, H] */
static void units(double *out, const double *x, const float *w, const float *bias, int B, int V, int H, int t, int gauss) {
  int n = t ? H : V, m = t ? V : H;
  for (int r = 0; r < B; r++)
    for (int j = 0; j < m; j++) {
      double a = bias[j];
      for (int i = 0; i < n; i++) a += x[r * n + i] * (t ? w[j * H + i] : w[i * H + j]);
      out[r * m + j] = gauss ? a : sig(a);
    }
}

/* the chain's k-th sample through the plan's own k-th SAMPLE op */
static void sample_like_plan(const SngPlan *p, int k, const double *h, double *s, int n) {
  const SngPlanGraph *g = &p->graphs[0];
  int seen = 0;
  for (int o = 0; o < g->nops; o++) {
    const SngPlanOp *op = &g->ops[o];
    if (op->op != SNG_OP_SAMPLE || seen++ != k) continue;
    const SngPlanTensor *t = &g->tensors[op->in[0]];
    float *x = malloc((size_t)n * 4), *y = malloc((size_t)n * 4);
    for (int i = 0; i < n; i++) x[i] = (float)h[i];
    const SngPlanTensor *tin[1] = {t};
    sng_rt_sample(op, &x, tin, y, &g->tensors[op->out[0]]);
    for (int i = 0; i < n; i++) s[i] = y[i];
    free(x), free(y);
    return;
  }
  cr_assert_fail("the plan has no SAMPLE op %d", k);
}

static double rel(const float *a, const double *b, int n) {
  double d = 0, m = 1e-12;
  for (int i = 0; i < n; i++) d = fmax(d, fabs(a[i] - b[i])), m = fmax(m, fabs(b[i]));
  return d / m;
}

/* one step of `rbm` under cd(k) against the chain computed here */
static void check_cd(const char *rbm, int k, int hg, int vg) {
  char *msgs = NULL;
  SngPlan *plan = tu_compile("cd.sng", source(rbm, k), NULL, &msgs, NULL);
  cr_assert_not_null(plan, "%s", msgs);
  free(msgs);
  FdFixture f;
  fd_setup(&f, plan);
  const SngPlanGraph *g = &plan->graphs[0];
  int iw = param_index(plan, "rbm1.w"), ih = param_index(plan, "rbm1.bh"), iv = param_index(plan, "rbm1.bv");
  int V = (int)plan->params[iw].dims[0], H = (int)plan->params[iw].dims[1], B = (int)g->batch;
  const float *w = f.values[iw], *bh = f.values[ih], *bv = f.values[iv];
  const float *x = NULL;
  for (int t = 0; t < g->ntensors; t++)
    if (g->tensors[t].kind == SNG_TENSOR_INPUT && g->tensors[t].param == 0) x = sng_exec_tensor_at(f.e, t);
  cr_assert_not_null(x);
  for (int t = 0; t < g->ntensors; t++) /* visible units in [0, 1] */
    if (g->tensors[t].kind == SNG_TENSOR_INPUT && g->tensors[t].param == 0)
      for (int i = 0; i < B * V; i++) sng_exec_tensor_at(f.e, t)[i] = (float)(0.5 + 0.5 * sng_exec_tensor_at(f.e, t)[i]);
  sng_exec_run(f.e, SNG_EXEC_TRAIN, NULL, NULL);

  double *v = malloc(sizeof(double) * (size_t)(B * V)), *hp = malloc(sizeof(double) * (size_t)(B * H));
  double *h = malloc(sizeof(double) * (size_t)(B * H)), *s = malloc(sizeof(double) * (size_t)(B * H));
  double *r = malloc(sizeof(double) * (size_t)(B * V)), *r1 = malloc(sizeof(double) * (size_t)(B * V));
  for (int i = 0; i < B * V; i++) v[i] = x[i];
  units(hp, v, w, bh, B, V, H, 0, hg);
  memcpy(h, hp, sizeof(double) * (size_t)(B * H));
  for (int i = 0; i < k; i++) {
    sample_like_plan(plan, i, h, s, B * H);
    units(r, s, w, bv, B, V, H, 1, vg);
    if (!i) memcpy(r1, r, sizeof(double) * (size_t)(B * V));
    units(h, r, w, bh, B, V, H, 0, hg);
  }
  double *gw = calloc((size_t)(V * H), sizeof(double)), *gh = calloc((size_t)H, sizeof(double));
  double *gv = calloc((size_t)V, sizeof(double)), loss = 0;
  for (int b = 0; b < B; b++) {
    for (int i = 0; i < V; i++) {
      for (int j = 0; j < H; j++) gw[i * H + j] += (r[b * V + i] * h[b * H + j] - v[b * V + i] * hp[b * H + j]) / B;
      gv[i] += (r[b * V + i] - v[b * V + i]) / B;
      loss += (v[b * V + i] - r1[b * V + i]) * (v[b * V + i] - r1[b * V + i]) / B;
    }
    for (int j = 0; j < H; j++) gh[j] += (h[b * H + j] - hp[b * H + j]) / B;
  }
  const double *want[3] = {gw, gh, gv};
  int which[3] = {iw, ih, iv}, n[3] = {V * H, H, V}, checked = 0;
  for (int t = 0; t < g->ntensors; t++) {
    if (g->tensors[t].kind != SNG_TENSOR_GRAD) continue;
    for (int q = 0; q < 3; q++)
      if (g->tensors[t].param == which[q]) {
        double e = rel(sng_exec_tensor_at(f.e, t), want[q], n[q]);
        checked++;
        cr_expect(e < 1e-4, "%s, k = %d: the update of %s differs by %.3g (relative)", rbm, k,
                  plan->params[which[q]].name, e);
      }
  }
  cr_expect_eq(checked, 3, "%s: %d of the 3 gradients found", rbm, checked);
  double got = 0;
  for (int b = 0; b < B; b++) got += sng_exec_tensor_at(f.e, g->loss)[b] / B;
  cr_expect(fabs(got - loss) <= 1e-4 * loss, "%s, k = %d: squared error %.6f, want %.6f", rbm, k, got, loss);
  free(v), free(hp), free(h), free(s), free(r), free(r1), free(gw), free(gh), free(gv);
  fd_teardown(&f);
}

Test(cd, one_step_is_contrastive_divergence, .init = make_dir, .fini = drop_dir) {
  check_cd("rbm(x, 5)", 1, 0, 0);
  check_cd("rbm(x, 6, init = uniform(-0.5, 0.5))", 3, 0, 0);
  check_cd("rbm(x, 4, hidden = gaussian)", 1, 1, 0);
  check_cd("rbm(x, 5, hidden = gaussian, visible = gaussian, init = gaussian(0, 0.2))", 2, 1, 1);
}

/* ---------------------------------------------------------------- errors */

static void refused(const char *net, const char *alg, const char *want) {
  char text[2048], *msgs = NULL;
  snprintf(text, sizeof text,
           "data d {\n  dir = \"%s\"\n  train = idx(\"train-images.gz\", \"train-labels.gz\")\n  batch = 7\n}\n"
           "%s\ntrain m with %s, sgd { steps = 1 }\n",
           root, net, alg);
  SngPlan *p = tu_compile("bad.sng", text, NULL, &msgs, NULL);
  cr_expect_null(p, "compiled:\n%s", text);
  cr_expect_not_null(strstr(msgs, want), "wanted '%s' in:\n%s", want, msgs);
  sng_plan_free(p);
  free(msgs);
}

Test(cd, what_a_cd_net_may_not_be, .init = make_dir, .fini = drop_dir) {
  refused("net m {\n  x, y = input(d)\n  l = dense(x, 3)\n  metric accuracy(l, y)\n}", "cd",
          "bad.sng:11:14: error: cd trains an rbm layer, and net 'm' has none");
  refused("net m {\n  x, y = input(d)\n  h = rbm(x, 4)\n  g = rbm(x, 3)\n}", "cd",
          "bad.sng:9:7: error: cd trains one rbm layer a stage; this net has a second one");
  refused("net m {\n  x, y = input(d)\n  h = rbm(x, 4)\n  loss euclidean_loss(h, h)\n}", "cd",
          "bad.sng:9:3: error: a net trained with cd has no loss line");
  refused("net m(partition = feature) {\n  x, y = input(d)\n  h = rbm(x, 4)\n}", "cd",
          "error: a net trained with cd splits by batch (or none), not by feature");
  refused("net m {\n  x, y = input(d)\n  h = rbm(relu(dense(x, 5)), 4)\n}", "cd",
          "bad.sng:8:7: error: cd trains the rbm alone, and its input comes from layers with parameters");
  refused("net m {\n  x, y = input(d)\n  h = rbm(x, 4)\n}", "cd(k = 0)", "error:");
  refused("net m {\n  x, y = input(d)\n  h = rbm(x, 4)\n}", "cd(steps = 2)", "error: cd takes one argument, k = ");
  refused("net m {\n  x, y = input(d)\n  h = rbm(x, 4, hidden = binary)\n}", "cd",
          "bad.sng:8:26: error: rbm() hidden must be bernoulli or gaussian");
  refused("net m {\n  x, y = input(d)\n  h = sample(x, dist = poisson)\n  l = dense(h, 3)\n  loss softmax_cross_entropy(l, y)\n}",
          "bp", "error: sample() dist must be bernoulli or gaussian");
}
