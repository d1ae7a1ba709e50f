/* test_big.c - compile time stays near-linear: generated nets of 100k ops compile, names
 * have no fixed limit, and a deep chain of names used before their line is an error.
 *
 * The nets are the shapes of bench/compile/gen.sh: a chain of dense+relu layers, one name
 * each; names nested deep (every statement a dense/relu expression 200 pairs deep); and the
 * chain with its lines reversed.  An op here is a layer call in the .sng text (backward and
 * connection nodes come on top).  The quadratic passes took minutes at this size.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "planutil.h"
#include "sng_lower.h"
#include "testutil.h"
#include "tmpdir.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

static char dir[256];

static void make_data(void) {
  tu_tmpdir(dir, sizeof dir, "big");
  cr_assert_eq(write_synthetic_idx(dir, "train", 20, 4, 3, 1), 0);
  cr_assert_eq(write_synthetic_idx(dir, "test", 10, 4, 3, 2), 0);
}
static void drop_data(void) {
  tu_rmdir(dir);
}

TestSuite(big, .init = make_data, .fini = drop_data);

typedef enum { CHAIN, NESTED, REVERSE } Shape;

/* A net of about `ops` layer calls in the given shape, over `workers` workers. */
static char *net(Shape shape, int ops, int workers) {
  SngBuf b = {0};
  sng_buf_printf(&b, "data d {\n  dir = \"%s\"\n  train = idx(\"train-images.gz\", \"train-labels.gz\")\n", dir);
  sng_buf_printf(&b, "  test = idx(\"test-images.gz\", \"test-labels.gz\")\n  batch = 8\n}\n");
  sng_buf_printf(&b, "net big {\n  x, y = input(d)\n");
  const char *last = "x";
  char name[32];
  if (shape == NESTED) {
    int depth = 200, names = ops / (2 * depth);
    for (int i = 1; i <= names; i++) {
      sng_buf_printf(&b, "  a%d = ", i);
      for (int k = 0; k < depth; k++) sng_buf_put(&b, "relu(dense(", 11);
      sng_buf_printf(&b, "%s", last);
      for (int k = 0; k < depth; k++) sng_buf_put(&b, ", 4))", 5);
      sng_buf_put(&b, "\n", 1);
      snprintf(name, sizeof name, "a%d", i);
      last = name;
    }
  } else {
    int names = ops / 2;
    for (int j = 1; j <= names; j++) {
      int i = shape == REVERSE ? names + 1 - j : j;
      if (i == 1) sng_buf_printf(&b, "  h1 = relu(dense(x, 4))\n");
      else sng_buf_printf(&b, "  h%d = relu(dense(h%d, 4))\n", i, i - 1);
    }
    snprintf(name, sizeof name, "h%d", names);
    last = name;
  }
  sng_buf_printf(&b, "  logits = dense(%s, 3)\n  loss softmax_cross_entropy(logits, y)\n  metric accuracy(logits, y)\n}\n", last);
  sng_buf_printf(&b, "updater sgd(lr = 0.1, momentum = 0.9)\ncluster(workers_per_group = %d)\n", workers);
  sng_buf_printf(&b, "train big with bp, sgd {\n  steps = 10\n}\n");
  sng_buf_put_u8(&b, 0);
  return (char *)b.data;
}

/* Compiles text; the diagnostics in *msgs, the seconds taken in *secs. */
static SngPlan *compile(const char *text, char **msgs, double *secs) {
  size_t n;
  FILE *f = open_memstream(msgs, &n);
  SngDiag *d = sng_diag_new(f, 20);
  double t0 = sng_now();
  SngPlan *p = sng_compile_string("big.sng", text, d, NULL);
  if (secs) *secs = sng_now() - t0;
  sng_diag_free(d);
  fclose(f);
  return p;
}

/* Not a benchmark (bench/compile is): a bound that only a quadratic pass breaks. */
static void expect_fast(double secs, const char *what) {
  double limit = SANITIZED ? 240 : 30;
  cr_log_info("%s: %.2f s", what, secs);
  cr_expect_lt(secs, limit, "%s took %.1f s (limit %.0f s): something went quadratic again", what, secs, limit);
}

Test(big, chain_of_100k_ops_compiles, .timeout = 600) {
  char *text = net(CHAIN, 100000, 1), *msgs;
  double secs;
  SngPlan *p = compile(text, &msgs, &secs);
  cr_assert_not_null(p, "%s", msgs);
  expect_fast(secs, "chain of 100k ops");
  cr_expect_eq(p->nparams, 2 * (100000 / 2 + 1), "a weight and a bias per dense");
  cr_expect_lt(p->nkernels, 8, "the same kernels are shared (bias_add+relu, relu_bwd, ...): %d", p->nkernels);
  cr_expect_gt(p->graphs[0].nops, 100000);
  free(msgs);
  sng_plan_free(p);
  free(text);
}

Test(big, names_nested_deep_compile, .timeout = 600) {
  char *text = net(NESTED, 100000, 1), *msgs;
  double secs;
  SngPlan *p = compile(text, &msgs, &secs);
  cr_assert_not_null(p, "%s", msgs);
  expect_fast(secs, "names nested 400 deep");
  free(msgs);
  sng_plan_free(p);
  free(text);
}

/* The reworked memory plan on a net big enough to reuse blocks in every way, per worker. */
Test(big, memory_plan_of_a_partitioned_chain_never_overlaps, .timeout = 600) {
  char *text = net(CHAIN, 2000, 3), *msgs;
  SngPlan *p = compile(text, &msgs, NULL);
  cr_assert_not_null(p, "%s", msgs);
  cr_assert_eq(p->ngraphs, 3);
  for (int w = 0; w < p->ngraphs; w++) {
    int64_t total;
    char why[256];
    cr_expect_eq(plan_overlap(&p->graphs[w], &total, why, sizeof why), 0, "worker %d: %s", w, why);
    cr_expect_lt(p->graphs[w].arena_bytes, total, "worker %d reuses memory", w);
  }
  free(msgs);
  sng_plan_free(p);
  free(text);
}

Test(big, names_used_before_their_line_compile) {
  char *text = net(REVERSE, 600, 1), *msgs;
  SngPlan *p = compile(text, &msgs, NULL);
  cr_expect_not_null(p, "%s", msgs);
  free(msgs);
  sng_plan_free(p);
  free(text);
}

/* A long chain of names each used before its line would recurse once per name: past a
 * bound (calls pending, or half the stack) that is an error where it happens, not a
 * stack overflow.  ASan's larger frames reach the bound sooner. */
Test(big, deep_chain_of_later_names_is_an_error, .timeout = 600) {
  char *text = net(REVERSE, 40000, 1), *msgs;
  SngPlan *p = compile(text, &msgs, NULL);
  cr_expect_null(p);
  cr_expect(strstr(msgs, "error: evaluation nests too deeply here: ") != NULL, "%s", msgs);
  cr_expect(strstr(msgs, " layer calls and names used before their line are pending\n") != NULL, "%s", msgs);
  cr_expect(strstr(msgs, "hint: define each name above the lines that use it") != NULL, "%s", msgs);
  free(msgs);
  free(text);
}
