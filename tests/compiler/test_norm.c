/* test_norm.c - dropout, lrn and batchnorm from .sng text: their arguments' errors at the
 * place, the partition rules that refuse, and what the plan says of the running statistics. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sng_lower.h"
#include "compileutil.h"
#include "testutil.h"
#include "tmpdir.h"

static char dir[256];

static void make_data(void) {
  tu_tmpdir(dir, sizeof dir, "norm");
  cr_assert_eq(write_synthetic_idx_rc(dir, "train", 40, 7, 9, 3, 1), 0);
}
static void drop_data(void) {
  tu_rmdir(dir);
}
TestSuite(norm, .init = make_data, .fini = drop_data);

/* 7x9 images, batch 5, over `workers`; the net body starts on line 8 and defines h */
static SngPlan *compile(const char *body, int workers, char **msgs) {
  char text[2048];
  snprintf(text, sizeof text,
           "data d {\n  dir = \"%s\"\n  train = idx(\"train-images.gz\", \"train-labels.gz\")\n  batch = 5\n}\n"
           "net m {\n  x, y = input(d)\n%s  l = dense(h, 3)\n  loss softmax_cross_entropy(l, y)\n}\n"
           "updater sgd(lr = 0.1)\ncluster(workers_per_group = %d)\ntrain m with bp, sgd { steps = 1 }\n",
           dir, body, workers);
  SngPlan *p = tu_compile("t.sng", text, NULL, msgs, NULL);
  return p;
}

static void expect_error(const char *body, int workers, const char *want) {
  char *msgs;
  SngPlan *p = compile(body, workers, &msgs);
  cr_expect_null(p);
  cr_expect_not_null(strstr(msgs, want), "wanted '%s' in:\n%s", want, msgs);
  sng_plan_free(p);
  free(msgs);
}

static const SngPlanParam *param(const SngPlan *p, const char *name) {
  for (int i = 0; i < p->nparams; i++)
    if (!strcmp(p->params[i].name, name)) return &p->params[i];
  return NULL;
}

Test(norm, bad_arguments_are_errors_at_their_place) {
  expect_error("  h = dropout(x, ratio = 1)\n", 1, "t.sng:8:26: error: dropout() ratio = 1: must be in [0, 1)");
  expect_error("  h = dropout(x, ratio = -0.1)\n", 1, "dropout() ratio = -0.1: must be in [0, 1)");
  expect_error("  h = dropout(x, p = 0.5)\n", 1, "t.sng:8:18: error:");
  expect_error("  h = lrn(x, size = 0)\n", 1, "t.sng:8:21: error:");
  expect_error("  h = lrn(x, k = 0)\n", 1, "t.sng:8:18: error: lrn() k = 0: must be > 0");
  expect_error("  h = lrn(x, alpha = -1)\n", 1, "lrn() alpha = -1: must be >= 0");
  expect_error("  h = batchnorm(x, momentum = 0)\n", 1, "t.sng:8:31: error: batchnorm() momentum = 0: must be in (0, 1]");
  expect_error("  h = batchnorm(x, eps = 0)\n", 1, "batchnorm() eps = 0: must be > 0");
  expect_error("  h = batchnorm(y)\n", 1, "t.sng:8:17: error: batchnorm() wants [batch, features] or [batch, channels, ...], not the labels");
}

Test(norm, lrn_refuses_an_explicit_feature_split) {
  expect_error("  h = lrn(dense(x, 6), size = 3, partition = feature)\n", 2,
               "t.sng:8:7: error: lrn1 cannot split by feature: each channel's output needs its neighbours' channels");
  char *msgs;
  SngPlan *p = compile("  h = lrn(dense(x, 6, partition = feature), size = 3)\n", 2, &msgs); /* follows: by rows */
  cr_expect_not_null(p, "%s", msgs);
  sng_plan_free(p);
  free(msgs);
}

/* gamma and beta are trained; the running statistics are not, and carry the momentum and the
 * divisor of their share: M = rows x positions of the whole batch (M - 1 for the variance) */
Test(norm, the_plan_marks_the_running_statistics) {
  char *msgs;
  SngPlan *p = compile("  h = batchnorm(x, momentum = 0.25)\n", 2, &msgs);
  cr_assert_not_null(p, "%s", msgs);
  const SngPlanParam *g = param(p, "batchnorm1.gamma"), *m = param(p, "batchnorm1.running_mean"),
                     *v = param(p, "batchnorm1.running_var");
  cr_assert(g && m && v && param(p, "batchnorm1.beta"));
  cr_expect_eq(g->running, 0);
  cr_expect_eq(g->dims[0], 1); /* x is [5, 1, 7, 9]: one channel */
  cr_expect(g->init == SNG_PINIT_CONSTANT && g->init_a == 1);
  cr_expect(v->init == SNG_PINIT_CONSTANT && v->init_a == 1);
  cr_expect_eq(m->running, 0.25);
  cr_expect_eq(m->running_div, 5 * 7 * 9);
  cr_expect_eq(v->running_div, 5 * 7 * 9 - 1);
  sng_plan_free(p);
  free(msgs);
}
