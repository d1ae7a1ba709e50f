/* test_updaters.c - the updater declaration's options, schedules and initialisers: every bad
 * value and unknown option is an error at its place (docs/language.md "Updaters").
 *
 * Each source is the data block (lines 1-5), the net (6-9), the train stage (10-12) and the
 * updater on line 13, so `updater ` puts the declaration's first character in column 9. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sng_lower.h"
#include "compileutil.h"
#include "testutil.h"
#include "tmpdir.h"

static char dir[256];

static void make_data(void) {
  tu_tmpdir(dir, sizeof dir, "cupd");
  cr_assert_eq(write_synthetic_idx(dir, "train", 40, 4, 3, 1), 0);
}
static void drop_data(void) {
  tu_rmdir(dir);
}
TestSuite(upd, .init = make_data, .fini = drop_data);

typedef struct {
  SngPlan *plan;
  char *msgs;
  int errors;
} Result;

/* the file with `updater DECL` (trained `with bp, KIND`, KIND the decl's first word unless
 * with is given) and init as the dense layer's init (NULL: none) */
static Result run(const char *decl, const char *with, const char *init, int steps) {
  static char text[4096];
  char kind[32], initarg[128] = "";
  sscanf(decl, "%31[a-z_]", kind);
  if (init) snprintf(initarg, sizeof initarg, ", init = %s", init);
  snprintf(text, sizeof text,
           "data d {\n  dir = \"%s\"\n  train = idx(\"train-images.gz\", \"train-labels.gz\")\n  batch = 8\n}\n"
           "net m {\n  x, y = input(d)\n  loss softmax_cross_entropy(dense(x, 3%s), y)\n}\n"
           "train m with bp, %s {\n  steps = %d\n}\nupdater %s\n",
           dir, initarg, with ? with : kind, steps, decl);
  Result r = {0};
  SngDiagCount c;
  r.plan = tu_compile("t.sng", text, NULL, &r.msgs, &c);
  r.errors = c.errors;
  return r;
}

static void done(Result *r) {
  sng_plan_free(r->plan);
  free(r->msgs);
}

static bool has_line(const char *msgs, const char *want) {
  size_t n = strlen(want);
  for (const char *p = msgs; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
    if (!strncmp(p, want, n) && (p[n] == '\n' || p[n] == 0)) return true;
  return false;
}

static void expect_full(const char *decl, const char *with, const char *init, int steps, const char *want) {
  Result r = run(decl, with, init, steps);
  cr_expect_null(r.plan, "%s compiled, wanted: %s", decl, want);
  cr_expect(has_line(r.msgs, want), "%s: wanted the line\n%s\nin:\n%s", decl, want, r.msgs);
  done(&r);
}
static void expect(const char *decl, const char *want) { expect_full(decl, NULL, NULL, 2, want); }

static SngPlanUpdater compiles(const char *decl) {
  Result r = run(decl, NULL, NULL, 2);
  cr_assert_not_null(r.plan, "%s:\n%s", decl, r.msgs);
  SngPlanUpdater u = r.plan->updater;
  done(&r);
  return u;
}

/* ---- kinds and their defaults ---- */

Test(upd, every_kind_compiles_with_pytorch_defaults) {
  SngPlanUpdater u = compiles("sgd()");
  cr_expect(u.kind == SNG_UPD_SGD && u.lr == 0.01 && u.momentum == 0 && u.nstate == 0);
  u = compiles("sgd(momentum = 0.9)");
  cr_expect(u.nstate == 1);
  u = compiles("nesterov()");
  cr_expect(u.kind == SNG_UPD_NESTEROV && u.momentum == 0.9 && u.nstate == 1);
  u = compiles("adagrad()");
  cr_expect(u.kind == SNG_UPD_ADAGRAD && u.lr == 0.01 && u.eps == 1e-10 && u.nstate == 1);
  u = compiles("rmsprop()");
  cr_expect(u.kind == SNG_UPD_RMSPROP && u.lr == 0.01 && u.beta2 == 0.99 && u.eps == 1e-8 && u.nstate == 1);
  u = compiles("rmsprop(momentum = 0.5)");
  cr_expect(u.nstate == 2);
  u = compiles("adadelta()");
  cr_expect(u.kind == SNG_UPD_ADADELTA && u.lr == 1 && u.beta2 == 0.9 && u.eps == 1e-6 && u.nstate == 2);
  u = compiles("adam()");
  cr_expect(u.kind == SNG_UPD_ADAM && u.lr == 1e-3 && u.beta1 == 0.9 && u.beta2 == 0.999 && u.eps == 1e-8 &&
            u.bias_correction == 1 && u.nstate == 2);
  u = compiles("adam(bias_correction = false)");
  cr_expect(u.bias_correction == 0);
  u = compiles("adamax()");
  cr_expect(u.kind == SNG_UPD_ADAMAX && u.lr == 2e-3 && u.bias_correction == 1 && u.nstate == 2);
  u = compiles("sgd(clip = 5)");
  cr_expect(u.clip_low == -5 && u.clip_high == 5);
  u = compiles("adam(clip_norm = 1, warmup = 100, schedule = cosine(steps = 1000))");
  cr_expect(u.clip_norm == 1 && u.warmup == 100 && u.schedule == SNG_SCHED_COSINE && u.sched_every == 1000);
  u = compiles("sgd(schedule = multistep(gamma = 0.1, 30, 80))");
  cr_expect(u.schedule == SNG_SCHED_MULTISTEP && u.nmilestones == 2 && u.milestones[1] == 80);
  u = compiles("sgd(schedule = linear(steps = 10))");
  cr_expect(u.sched_start == 1.0 / 3 && u.sched_end == 1);
}

/* ---- errors, at their place ---- */

Test(upd, unknown_kind) {
  expect("adamw()", "t.sng:13:9: error: unknown updater 'adamw': expected sgd, nesterov, adagrad, rmsprop, adadelta, "
                    "adam or adamax");
  expect("adamw()", "  hint: did you mean 'adam'?");
}

Test(upd, option_of_another_kind) {
  expect("sgd(beta1 = 0.9)", "t.sng:13:13: error: sgd() has no option 'beta1'");
  expect("adam(momentum = 0.9)", "t.sng:13:14: error: adam() has no option 'momentum'");
  expect("adam(betta1 = 0.9)", "  hint: did you mean 'beta1'?");
}

Test(upd, bad_values) {
  expect("adam(beta1 = 1)", "t.sng:13:22: error: beta1 must be in [0, 1), got 1");
  expect("adam(beta2 = -0.1)", "t.sng:13:22: error: beta2 must be in [0, 1), got -0.1");
  expect("adam(eps = 0)", "t.sng:13:20: error: eps must be > 0, got 0");
  expect("adam(lr = 0)", "t.sng:13:19: error: lr must be > 0, got 0");
  expect("rmsprop(alpha = 1.5)", "t.sng:13:25: error: alpha must be in [0, 1), got 1.5");
  expect("adadelta(rho = 1)", "t.sng:13:24: error: rho must be in [0, 1), got 1");
  expect("nesterov(momentum = 0)", "t.sng:13:29: error: nesterov needs momentum > 0, got 0");
  expect("adam(bias_correction = 2)", "t.sng:13:32: error: expected true or false");
}

Test(upd, clipping) {
  expect("sgd(clip = 0)", "t.sng:13:20: error: clip must be > 0, got 0");
  expect("sgd(clip = 1, clip_low = -1)", "t.sng:13:34: error: clip = c already sets clip_low = -c and clip_high = c");
  expect("sgd(clip_low = 1, clip_high = 0)", "t.sng:13:39: error: clip_low must be below clip_high, got 1 and 0");
  expect("sgd(clip_norm = -1)", "t.sng:13:25: error: clip_norm must be > 0, got -1");
}

Test(upd, schedules) {
  expect("sgd(schedule = cosinus(steps = 10))", "t.sng:13:24: error: unknown schedule cosinus: expected fixed, step, "
                                              "multistep, exponential, inverse, inverse_t, linear or cosine");
  expect("sgd(schedule = cosinus(steps = 10))", "  hint: did you mean 'cosine'?");
  expect("sgd(schedule = cosine)", "t.sng:13:24: error: schedule cosine needs its arguments: cosine(...)");
  expect("sgd(schedule = multistep(0.1, 50, 40))", "t.sng:13:43: error: multistep steps must increase: 40 after 50");
  expect("sgd(schedule = multistep(0.1))", "t.sng:13:24: error: multistep(gamma, step, step, ...) needs at least one step");
  expect("sgd(schedule = multistep(0.1, every = 3))", "t.sng:13:39: error: multistep takes its steps by position, not 'every ='");
  expect("sgd(schedule = linear(steps = 10, start = 2))", "t.sng:13:51: error: start must be in [0, 1], got 2");
  expect("sgd(schedule = exponential(gamma = 0))", "t.sng:13:44: error: gamma must be > 0, got 0");
  expect("sgd(schedule = inverse(gamma = 0.1, power = -1))", "t.sng:13:53: error: power must be in [0, 3.40282e+38], got -1");
  expect("sgd(schedule = cosine(steps = 10, mn = 0))", "t.sng:13:43: error: cosine() has no option 'mn'");
  expect("sgd(warmup_start = 0.5)", "t.sng:13:28: error: warmup_start needs warmup = <steps>");
  expect("sgd(warmup = 10, warmup_start = 2)", "t.sng:13:41: error: warmup_start must be in [0, 1], got 2");
  expect_full("sgd(lr = 0.1, schedule = exponential(gamma = 1.5))", NULL, NULL, 1000,
              "t.sng:13:54: error: gamma = 1.5 makes lr 0.1 x 1.5^999 by step 1000, past the float32 range (3.40282e+38)");
  expect_full("sgd(lr = 0.1, schedule = multistep(gamma = 1e20, 2, 3))", NULL, NULL, 10,
              "t.sng:13:52: error: gamma = 1e+20 makes lr 0.1 x 1e+20^2 by step 10, past the float32 range (3.40282e+38)");
}

Test(upd, with_names_the_files_updater) {
  expect_full("adam()", "sgd", NULL, 2, "t.sng:10:18: error: the updater named here must be the file's updater (adam)");
}

Test(upd, initialisers) {
  expect_full("sgd()", NULL, "xavier", 2, "t.sng:8:49: error: unknown initialiser 'xavier'");
  expect_full("sgd()", NULL, "xavier_uniform(gain = 0)", 2, "t.sng:8:49: error: xavier_uniform(gain) needs gain > 0");
  expect_full("sgd()", NULL, "uniform_sqrt_fan_in(1, -1)", 2,
              "t.sng:8:49: error: uniform_sqrt_fan_in(low, high) needs low <= high");
  expect_full("sgd()", NULL, "he_normal(gain = 2)", 2, "t.sng:8:59: error: he_normal() has no option 'gain'");
  expect_full("sgd()", NULL, "uniform", 2,
              "t.sng:8:49: error: expected an initialiser: constant(v), uniform(lo, hi), gaussian(mean, std), "
              "xavier_uniform, xavier_normal, he_uniform, he_normal or uniform_sqrt_fan_in");
}
