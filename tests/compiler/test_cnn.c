/* test_cnn.c - the CNN layers from .sng text: shapes, fans, and their errors at the place. */
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
  tu_tmpdir(dir, sizeof dir, "cnn");
  cr_assert_eq(write_synthetic_idx_rc(dir, "train", 40, 7, 9, 3, 1), 0);
}
static void drop_data(void) {
  tu_rmdir(dir);
}
TestSuite(cnn, .init = make_data, .fini = drop_data);

/* 7x9 images, batch 5; the net body starts on line 8 */
static SngPlan *compile(const char *body, char **msgs) {
  char text[2048];
  snprintf(text, sizeof text,
           "data d {\n  dir = \"%s\"\n  train = idx(\"train-images.gz\", \"train-labels.gz\")\n  batch = 5\n}\n"
           "net m {\n  x, y = input(d)\n%s  l = dense(h, 3)\n  loss softmax_cross_entropy(l, y)\n}\n"
           "updater sgd(lr = 0.1)\ntrain m with bp, sgd { steps = 1 }\n",
           dir, body);
  SngPlan *p = tu_compile("t.sng", text, NULL, msgs, NULL);
  return p;
}

static void expect_error(const char *body, const char *want) {
  char *msgs;
  SngPlan *p = compile(body, &msgs);
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

Test(cnn, filters_take_their_fan_in_and_pytorch_init) {
  char *msgs;
  SngPlan *p = compile("  h = flatten(pool(conv2d(x, 4, kernel = 3, pad = 1), kernel = 2))\n", &msgs);
  cr_assert_not_null(p, "%s", msgs);
  const SngPlanParam *w = param(p, "conv1.w"), *b = param(p, "conv1.b");
  cr_assert(w && b);
  cr_expect_eq(w->dims[0], 4);
  cr_expect_eq(w->dims[1], 9, "C*k*k = 1*3*3");
  cr_expect_float_eq(w->init_b, 1 / 3.0, 1e-12, "nn.Conv2d's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in))");
  cr_expect_float_eq(b->init_b, 1 / 3.0, 1e-12, "the bias takes its filters' fan-in");
  cr_expect_eq(param(p, "dense1.w")->dims[0], 4 * 3 * 4, "pooled 7x9 -> 3x4");
  sng_plan_free(p);
  free(msgs);
}

Test(cnn, kernel_larger_than_the_padded_input) {
  expect_error("  h = conv2d(x, 2, kernel = 8)\n",
               "t.sng:8:7: error: conv2d: the kernel 8x8 is larger than the padded input 7x9");
  expect_error("  h = pool(x, kernel = 3, stride = 1, pad = 2)\n", "t.sng:8:45: error: pool pad 2x2 is more than half the kernel 3x3");
  expect_error("  h = pool(x, kernel_h = 8, stride = 1)\n", "t.sng:8:7: error: pool: the kernel 8x2 is larger");
}

Test(cnn, bad_arguments_are_errors_at_their_place) {
  expect_error("  h = pool(x, mode = median)\n", "t.sng:8:22: error: pool mode must be max or avg");
  expect_error("  h = conv2d(x, 2, stride = 0)\n", "t.sng:8:29: error: expected an integer >= 1, got 0");
  expect_error("  h = conv2d(x, 2, pad = -1)\n", "t.sng:8:");
  expect_error("  h = reshape(x, 0)\n", "a reshape() dimension must be positive, or -1 for the rest");
  expect_error("  h = reshape(x, -1, -1)\n", "reshape() takes one -1 at most");
  expect_error("  h = reshape(x, 5, 5)\n", "t.sng:8:7: error: reshape of [5,1,7,9]: 63 values per sample");
  expect_error("  h = conv2d(dense(x, 4), 2)\n", "conv2d wants [batch, channels, height, width]; got [5,4]");
}
