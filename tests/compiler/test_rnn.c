/* test_rnn.c - gru() and lstm() at compile time: their parameters, PyTorch's default
 * initialisation, and every bad argument reported at its place with its exact message.
 * (Their numbers are tests/runtime/test_rnn_vectors.c's and the layer cases'.) */
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
  tu_tmpdir(dir, sizeof dir, "rnn");
  cr_assert_eq(write_synthetic_idx(dir, "train", 40, 4, 3, 1), 0); /* 4x4 images, 3 classes */
}
static void drop_data(void) {
  tu_rmdir(dir);
}

TestSuite(rnn, .init = make_data, .fini = drop_data);

/* The net's lines (from line 7) between the data block and `loss` on l: lines 1-5 are the
 * data block (batch 5), line 6 `net m {`, line 7 `x, y = input(d)`. */
static SngPlan *compile(const char *lines, char **msgs) {
  static char text[4096];
  snprintf(text, sizeof text,
           "data d {\n  dir = \"%s\"\n  train = idx(\"train-images.gz\", \"train-labels.gz\")\n  batch = 5\n}\n"
           "net m {\n  x, y = input(d)\n%s\n  loss softmax_cross_entropy(l, y)\n}\n"
           "train m with bp, sgd {\n  steps = 2\n}\n",
           dir, lines);
  SngPlan *p = tu_compile("t.sng", text, NULL, msgs, NULL);
  return p;
}

static void expect(const char *lines, const char *want) {
  char *msgs = NULL;
  SngPlan *p = compile(lines, &msgs);
  cr_expect_null(p, "compiled, wanted: %s", want);
  cr_expect(strstr(msgs, want) != NULL, "wanted\n%s\nin:\n%s", want, msgs);
  int errors = 0;
  for (const char *m = msgs; (m = strstr(m, ": error: ")) != NULL; m++) errors++;
  cr_expect_eq(errors, 1, "one error, not %d:\n%s", errors, msgs); /* a wrong state is reported once, not per gate */
  sng_plan_free(p);
  free(msgs);
}

static const SngPlanParam *param(const SngPlan *p, const char *name) {
  for (int i = 0; i < p->nparams; i++)
    if (!strcmp(p->params[i].name, name)) return &p->params[i];
  cr_assert_fail("no parameter %s", name);
  return NULL;
}

/* PyTorch's GRUCell/LSTMCell: U(-1/sqrt(units), 1/sqrt(units)) for every weight and bias,
 * whatever the input size; parameters per gate, [in, units] and [units, units] */
Test(rnn, parameters_and_default_init_follow_pytorch) {
  char *msgs = NULL;
  SngPlan *p = compile("  h0 = dense(x, 9)\n  c0 = dense(x, 9)\n  h1 = gru(x, h0, 9)\n  h2, c2 = lstm(h1, h0, c0, 9)\n"
                       "  l = dense(h2, 3)", &msgs);
  cr_assert_not_null(p, "%s", msgs);
  cr_expect_eq(p->nparams, 4 + 12 + 16 + 2);
  const char *gates[] = {"gru1.%s_r", "gru1.%s_z", "gru1.%s_n", "lstm1.%s_i", "lstm1.%s_f", "lstm1.%s_g", "lstm1.%s_o"};
  for (int g = 0; g < 7; g++)
    for (int k = 0; k < 4; k++) {
      static const char *const what[] = {"wx", "wh", "bx", "bh"};
      char name[32];
      snprintf(name, sizeof name, gates[g], what[k]);
      const SngPlanParam *q = param(p, name);
      cr_expect_eq(q->init, SNG_PINIT_UNIFORM, "%s", name);
      cr_expect_float_eq(q->init_a, -1 / 3.0, 1e-12, "%s", name);
      cr_expect_float_eq(q->init_b, 1 / 3.0, 1e-12, "%s", name);
      cr_expect_eq(q->rank, k < 2 ? 2 : 1, "%s", name);
      cr_expect_eq(q->dims[0], k == 0 ? (g < 3 ? 16 : 9) : 9, "%s", name); /* gru's x is 4x4 */
    }
  sng_plan_free(p);
  free(msgs);
  /* an explicit init is kept; bias = false drops the biases */
  p = compile("  h1 = gru(x, dense(x, 3), 3, init = constant(0.5), bias = false)\n  l = dense(h1, 3)", &msgs);
  cr_assert_not_null(p, "%s", msgs);
  cr_expect_eq(p->nparams, 2 + 6 + 2);
  cr_expect_eq(param(p, "gru1.wh_z")->init, SNG_PINIT_CONSTANT);
  cr_expect_float_eq(param(p, "gru1.wh_z")->init_a, 0.5, 1e-12);
  sng_plan_free(p);
  free(msgs);
}

Test(rnn, bad_arguments_are_errors_at_their_place) {
  expect("  h1 = gru(x, dense(x, 3), 0)\n  l = dense(h1, 3)", "t.sng:8:28: error: expected an integer >= 1, got 0");
  expect("  h1 = gru(x, y, 3)\n  l = dense(h1, 3)",
         "t.sng:8:15: error: gru() wants a [batch, ...] tensor as its state h, not the labels");
  expect("  h1, c1 = lstm(x, dense(x, 3), y, 3)\n  l = dense(h1, 3)",
         "t.sng:8:33: error: lstm() wants a [batch, ...] tensor as its cell state c, not the labels");
  expect("  h1 = gru(x, dense(x, 3), 3, lr_mult = -1)\n  l = dense(h1, 3)", "t.sng:8:41: error: lr_mult must be >= 0, got -1");
  expect("  h1 = lstm(x, dense(x, 3), dense(x, 3), 3)\n  l = dense(h1, 3)",
         "t.sng:8:8: error: lstm() gives 2 tensors, but 1 name is assigned");
  expect("  h1 = gru(x, dense(x, 3), 3, unit = 2)\n  l = dense(h1, 3)", "t.sng:8:31: error: gru() has no option 'unit'");
  expect("  h1 = gru(x, dense(x, 4), 3)\n  l = dense(h1, 3)",
         "t.sng:8:15: error: matrix product of [5,4] and [3,3]: inner sizes 4 and 3 differ");
  expect("  h1, c1 = lstm(x, dense(x, 3), dense(x, 4), 3)\n  l = dense(h1, 3)",
         "t.sng:8:33: error: MUL of [5,3] and [5,4]: shapes differ");
}

/* --explain names the mode a cell splits by: it ends with elementwise ops, but its products
 * split by the layer's own setting, unlike an elementwise layer that follows its source */
Test(rnn, explain_shows_the_cells_mode) {
  static char text[2048];
  char *out = NULL, *msgs = NULL;
  size_t n, m;
  snprintf(text, sizeof text,
           "data d {\n  dir = \"%s\"\n  train = idx(\"train-images.gz\", \"train-labels.gz\")\n  batch = 6\n}\n"
           "net m(partition = feature) {\n  x, y = input(d)\n  h0 = tanh(dense(x, 4))\n  h1 = gru(x, h0, 4)\n"
           "  l = dense(h1, 3, partition = batch)\n  loss softmax_cross_entropy(l, y)\n}\n"
           "cluster(workers_per_group = 2)\ntrain m with bp, sgd {\n  steps = 2\n}\n",
           dir);
  FILE *f = open_memstream(&out, &n), *e = open_memstream(&msgs, &m);
  SngDiag *d = sng_diag_new(e, 50);
  SngCompileOpts o = {.explain = f};
  SngPlan *p = sng_compile_string("t.sng", text, d, &o);
  sng_diag_free(d);
  fclose(f), fclose(e);
  cr_assert_not_null(p, "%s", msgs);
  cr_expect(strstr(out, " tanh1=follows ") && strstr(out, " gru1=feature ") && strstr(out, " dense2=batch "), "%s", out);
  sng_plan_free(p);
  free(out), free(msgs);
}
