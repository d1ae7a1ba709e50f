/* test_partition.c - a partitioned net computes what the whole net computes.
 *
 * Every partitioning of an MLP (all batch, all feature, hybrid, none on one layer; 2, 3 and
 * 4 workers; uneven splits) runs one step through the group runtime (workers, bridges,
 * stub, servers as threads) on a fixed batch, and its loss and its parameter gradients
 * (summed by the stub over the workers) must equal the unpartitioned net's to 1e-4
 * relative.  Then sandblaster and allreduce with 4 workers train 100 steps and must end
 * with the parameters of 1 worker on the same batches.  And the bytes the transport moved
 * in a step must be what singac --explain predicts.
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

static char dir[256];

static void make_data(void) {
  tu_tmpdir(dir, sizeof dir, "part");
  cr_assert_eq(write_synthetic_idx(dir, "train", 300, 6, 5, 1), 0);
}
static void drop_data(void) {
  tu_rmdir(dir);
}

/* The MLP with per-layer partition settings p1..p3 ("" for the net's), `net` the net's
 * option, W workers, S servers and the framework. */
static char *source(int batch, const char *net, const char *p1, const char *p2, const char *p3, int w, int s,
                    const char *sync) {
  static char buf[4096];
  snprintf(buf, sizeof buf,
           "data d {\n  dir = \"%s\"\n  train = idx(\"train-images.gz\", \"train-labels.gz\")\n"
           "  batch = %d\n  scale = 1/255\n}\n"
           "net m(partition = %s) {\n"
           "  x, y = input(d)\n"
           "  h1 = relu(dense(x, 24%s))\n"
           "  h2 = relu(dense(h1, 14%s))\n"
           "  logits = dense(h2, 5%s)\n"
           "  loss softmax_cross_entropy(logits, y)\n"
           "  metric accuracy(logits, y)\n"
           "}\n"
           "updater sgd(lr = 0.05, momentum = 0.9, weight_decay = 1e-3)\n"
           "cluster(workers_per_group = %d, servers_per_group = %d, sync = %s)\n"
           "train m with bp, sgd { steps = 100 }\n",
           dir, batch, net, p1, p2, p3, w, s, sync);
  return buf;
}

static SngPlan *compile(const char *text) {
  char *msgs = NULL;
  SngPlan *p = tu_compile("t.sng", text, NULL, &msgs, NULL);
  cr_assert_not_null(p, "compile failed:\n%s\n%s", msgs, text);
  free(msgs);
  return p;
}

static void batch_of(int64_t b, int64_t sample, uint64_t seed, float *x, float *y) {
  SngRng r;
  sng_rng_seed(&r, seed);
  for (int64_t i = 0; i < b * sample; i++) x[i] = (float)(sng_rng_uniform(&r) * 2 - 1);
  for (int64_t i = 0; i < b; i++) y[i] = (float)sng_rng_below(&r, 5);
}

static int64_t param_size(const SngPlan *p, int i) {
  int64_t n = 1;
  for (int j = 0; j < p->params[i].rank; j++) n *= p->params[i].dims[j];
  return n;
}

/* ||a - b||_inf / ||b||_inf */
static double rel(const float *a, const float *b, int64_t n) {
  double d = 0, m = 1e-12;
  for (int64_t i = 0; i < n; i++) {
    d = fmax(d, fabs((double)a[i] - b[i]));
    m = fmax(m, fabs((double)b[i]));
  }
  return d / m;
}

typedef struct Ref { double loss; float **grad; SngPlan *p; } Ref;

static Ref reference(int batch, const float *x, const float *y) {
  Ref r = {0};
  char err[512];
  r.p = compile(source(batch, "none", "", "", "", 1, 1, "sandblaster"));
  SngGroup *g = sng_group_new(r.p, err, sizeof err);
  cr_assert_not_null(g, "%s", err);
  r.loss = sng_group_step(g, x, y);
  r.grad = calloc((size_t)r.p->nparams, sizeof(float *));
  for (int i = 0; i < r.p->nparams; i++) {
    int64_t n = param_size(r.p, i);
    r.grad[i] = malloc((size_t)n * 4);
    memcpy(r.grad[i], sng_group_grad(g, i), (size_t)n * 4);
  }
  sng_group_free(g);
  return r;
}

static void same_step(int batch, const char *net, const char *p1, const char *p2, const char *p3, int w) {
  int64_t sample = 36;
  float *x = malloc((size_t)(batch * sample) * 4), *y = malloc((size_t)batch * 4);
  batch_of(batch, sample, 11, x, y);
  Ref r = reference(batch, x, y);
  SngPlan *p = compile(source(batch, net, p1, p2, p3, w, 2, "sandblaster"));
  cr_assert_eq(p->ngraphs, w);
  cr_assert_eq(p->nparams, r.p->nparams);
  char err[512];
  SngGroup *g = sng_group_new(p, err, sizeof err);
  cr_assert_not_null(g, "%s", err);
  double loss = sng_group_step(g, x, y);
  cr_expect(fabs(loss - r.loss) <= 1e-4 * fabs(r.loss), "%s/%s/%s/%s W=%d: loss %.8f, whole net %.8f", net, p1, p2, p3,
            w, loss, r.loss);
  for (int i = 0; i < p->nparams; i++) {
    double e = rel(sng_group_grad(g, i), r.grad[i], param_size(p, i));
    cr_expect(e <= 1e-4, "%s/%s/%s/%s W=%d: gradient of %s differs by %.3g (relative)", net, p1, p2, p3, w,
              p->params[i].name, e);
  }
  sng_group_free(g);
  for (int i = 0; i < r.p->nparams; i++) free(r.grad[i]);
  free(r.grad);
  sng_plan_free(r.p);
  sng_plan_free(p);
  free(x), free(y);
}

TestSuite(partition, .init = make_data, .fini = drop_data, .timeout = 120);

Test(partition, all_batch) {
  for (int w = 2; w <= 4; w++) same_step(48, "batch", "", "", "", w);
}
Test(partition, uneven_batch_100_over_3) { same_step(100, "batch", "", "", "", 3); }
Test(partition, all_feature) {
  for (int w = 2; w <= 4; w++) same_step(48, "feature", "", "", "", w);
}
Test(partition, hybrid_alternating) {
  for (int w = 2; w <= 4; w++) same_step(48, "batch", "", ", partition = feature", "", w);
  for (int w = 2; w <= 3; w++) same_step(48, "feature", ", partition = batch", "", ", partition = batch", w);
}
Test(partition, none_on_one_layer) {
  for (int w = 2; w <= 4; w++) same_step(48, "batch", "", ", partition = none", "", w);
  same_step(100, "feature", ", partition = none", "", "", 3);
}
Test(partition, uneven_units) { same_step(50, "feature", "", "", "", 3); } /* 24/14/5 units over 3: 8/8/8, 5/5/4, 2/2/1 */

/* 100 steps, same batches: W workers vs one worker with the same total batch */
static void same_training(const char *sync, int w, int s) {
  char err[512];
  int64_t sample = 36, batch = 64;
  SngPlan *one = compile(source((int)batch, "batch", "", "", "", 1, 1, "sandblaster"));
  SngPlan *many = compile(source((int)batch, "batch", "", "", "", w, s, sync));
  SngGroup *a = sng_group_new(one, err, sizeof err), *b = sng_group_new(many, err, sizeof err);
  cr_assert(a && b, "%s", err);
  float *x = malloc((size_t)(batch * sample) * 4), *y = malloc((size_t)batch * 4);
  for (int step = 0; step < 100; step++) {
    batch_of(batch, sample, 100 + (uint64_t)step, x, y);
    sng_group_step(a, x, y);
    sng_group_step(b, x, y);
  }
  for (int i = 0; i < one->nparams; i++) {
    double e = rel(sng_group_param(b, i), sng_group_param(a, i), param_size(one, i));
    cr_expect(e <= 1e-4, "%s W=%d: after 100 steps %s differs by %.3g (relative)", sync, w, one->params[i].name, e);
  }
  sng_group_free(a), sng_group_free(b);
  sng_plan_free(one), sng_plan_free(many);
  free(x), free(y);
}

Test(partition, sandblaster_4_workers_100_steps) { same_training("sandblaster", 4, 2); }
Test(partition, allreduce_4_workers_100_steps) { same_training("allreduce", 4, 4); }

/* the transport's byte count over one step against the compiler's prediction */
static int64_t predicted(const char *text) {
  SngArena *a = sng_arena_new();
  SngDiag *d = sng_diag_new(NULL, 20);
  SngFile *f = sng_parse_string(a, d, "t.sng", text);
  SngJob *job = sng_job_new();
  cr_assert(f && sng_pass_sema(job, f, d) == 0 && sng_pass_run_all(job, d, NULL, NULL) == 0);
  int64_t bytes = sng_pass_step_bytes(job->net, NULL);
  sng_job_free(job);
  sng_diag_free(d);
  sng_arena_free(a);
  return bytes;
}

Test(partition, bytes_moved_match_explain) {
  static const char *const cases[][4] = {{"batch", "", "", ""}, {"feature", "", "", ""},
                                         {"batch", "", ", partition = feature", ""}, {"batch", "", ", partition = none", ""}};
  int64_t sample = 36, batch = 48;
  float *x = malloc((size_t)(batch * sample) * 4), *y = malloc((size_t)batch * 4);
  batch_of(batch, sample, 5, x, y);
  for (int c = 0; c < 4; c++) {
    const char *text = source((int)batch, cases[c][0], cases[c][1], cases[c][2], cases[c][3], 3, 2, "sandblaster");
    int64_t want = predicted(text);
    SngPlan *p = compile(text);
    char err[512];
    SngGroup *g = sng_group_new(p, err, sizeof err);
    cr_assert_not_null(g, "%s", err);
    sng_group_step(g, x, y);
    int64_t got = sng_group_bytes(g);
    cr_expect(want > 0 && llabs(got - want) <= want / 20, "case %d: moved %lld bytes, --explain predicts %lld", c,
              (long long)got, (long long)want);
    sng_group_free(g);
    sng_plan_free(p);
  }
  free(x), free(y);
}
