/* test_strict.c - sizes are checked where the .sng asks for them, and nothing is silently
 * accepted (issue 8): one case per check of docs/language.md "Limits and checks", each with
 * its exact message and location.
 *
 * Sources are written with '@' for the data folder; every file starts with the same data
 * block (lines 1-5, batch on line 4) unless a case needs another. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sng_lower.h"
#include "compileutil.h"
#include "testutil.h"
#include "tmpdir.h"

static char dir[256];

/* An idx pair of one image of rows x cols whose pixels are never read: the compiler reads
 * only the headers (and the labels). */
static void write_huge_idx(const char *prefix, uint32_t rows, uint32_t cols) {
  char path[512];
  unsigned char h[16];
  snprintf(path, sizeof path, "%s/%s-images.gz", dir, prefix);
  gzFile f = gzopen(path, "wb");
  cr_assert_not_null(f);
  tu_be32(h, 0x803), tu_be32(h + 4, 1), tu_be32(h + 8, rows), tu_be32(h + 12, cols);
  gzwrite(f, h, 16);
  gzclose(f);
  snprintf(path, sizeof path, "%s/%s-labels.gz", dir, prefix);
  f = gzopen(path, "wb");
  cr_assert_not_null(f);
  tu_be32(h, 0x801), tu_be32(h + 4, 1), h[8] = 2;
  gzwrite(f, h, 9);
  gzclose(f);
}

static void make_data(void) {
  tu_tmpdir(dir, sizeof dir, "strict");
  cr_assert_eq(write_synthetic_idx(dir, "train", 40, 4, 3, 1), 0);
  cr_assert_eq(write_synthetic_idx(dir, "test", 10, 4, 3, 2), 0);
  write_huge_idx("wide", 70000, 70000);       /* 4.9e9 values a sample: past INT32_MAX */
  write_huge_idx("vast", 1000000, 1000000);   /* 1e12 values a sample: past 2^38 */
}
static void drop_data(void) {
  tu_rmdir(dir);
}

TestSuite(strict, .init = make_data, .fini = drop_data);

typedef struct {
  SngPlan *plan;
  char *msgs;
  int errors, warnings;
} Result;

/* Compiles tmpl with '@' replaced by the data folder. */
static Result run(const char *tmpl) {
  static char text[1 << 16];
  size_t k = 0;
  for (const char *s = tmpl; *s && k + sizeof dir < sizeof text; s++)
    if (*s == '@') k += (size_t)snprintf(text + k, sizeof text - k, "%s", dir);
    else text[k++] = *s;
  text[k] = 0;
  Result r = {0};
  SngDiagCount c;
  r.plan = tu_compile("t.sng", text, NULL, &r.msgs, &c);
  r.errors = c.errors, r.warnings = c.warnings;
  return r;
}

static void done(Result *r) {
  sng_plan_free(r->plan);
  free(r->msgs);
}

/* Whether one line of msgs is exactly want. */
static bool has_line(const char *msgs, const char *want) {
  size_t n = strlen(want);
  for (const char *p = msgs; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
    if (!strncmp(p, want, n) && (p[n] == '\n' || p[n] == 0)) return true;
  return false;
}

/* tmpl fails with the line want among its messages, and with `errors` errors (0: any). */
static void expect(const char *tmpl, const char *want, int errors) {
  Result r = run(tmpl);
  cr_expect_null(r.plan, "compiled, wanted: %s", want);
  cr_expect(has_line(r.msgs, want), "wanted the line\n%s\nin:\n%s", want, r.msgs);
  if (errors) cr_expect_eq(r.errors, errors, "%d errors, wanted %d:\n%s", r.errors, errors, r.msgs);
  done(&r);
}

#define DATA(batch) \
  "data d {\n  dir = \"@\"\n  train = idx(\"train-images.gz\", \"train-labels.gz\")\n  batch = " batch "\n}\n"
#define NET "net m {\n  x, y = input(d)\n  loss softmax_cross_entropy(dense(x, 3), y)\n}\n"   /* lines 6-9 */
#define TRAIN "train m with bp, sgd {\n  steps = 2\n}\n"

/* ---- sizes ---- */

Test(strict, batch_past_blas_int) {
  expect(DATA("3000000000") NET TRAIN, "t.sng:4:11: error: batch = 3000000000: at most 2147483647 (a matrix dimension for BLAS)", 1);
}

Test(strict, batch_tensor_too_large) {
  expect("data d {\n  dir = \"@\"\n  train = idx(\"wide-images.gz\", \"wide-labels.gz\")\n  batch = 100\n}\n" NET TRAIN,
         "t.sng:4:11: error: a batch of 100 samples of 4900000000 values is too large (at most 274877906944 values a tensor)", 1);
}

Test(strict, idx_sample_too_large) {
  char want[512];
  snprintf(want, sizeof want, "t.sng:3:11: error: %s/vast-images.gz: images of 1000000x1000000 are too large (at most "
           "274877906944 values a sample)", dir);
  expect("data d {\n  dir = \"@\"\n  train = idx(\"vast-images.gz\", \"vast-labels.gz\")\n}\n" NET TRAIN, want, 1);
}

Test(strict, dense_units_past_blas_int) {
  expect(DATA("8") "net m {\n  x, y = input(d)\n  loss softmax_cross_entropy(dense(x, 3000000000), y)\n}\n" TRAIN,
         "t.sng:8:39: error: dense() units = 3000000000: at most 2147483647 (a matrix dimension for BLAS)", 1);
}

Test(strict, output_too_large) {
  expect(DATA("100000000") "net m {\n  x, y = input(d)\n  h = dense(x, 100000)\n"
         "  loss softmax_cross_entropy(dense(h, 3), y)\n}\n" TRAIN,
         "t.sng:8:7: error: dense1's output [100000000,100000] has 1e+13 values, more than a tensor may hold "
         "(2^38 = 274877906944)", 1);
}

Test(strict, weight_too_large) {
  expect(DATA("8") "net m {\n  x, y = input(d)\n  h = dense(dense(x, 2000000), 1000000)\n"
         "  loss softmax_cross_entropy(dense(h, 3), y)\n}\n" TRAIN,
         "t.sng:8:7: error: dense2.w [2000000,1000000] has 2e+12 values, more than a tensor may hold "
         "(2^38 = 274877906944)", 1);
}

Test(strict, gemm_inner_size_past_blas_int) {
  expect("data d {\n  dir = \"@\"\n  train = idx(\"wide-images.gz\", \"wide-labels.gz\")\n  batch = 1\n}\n" NET TRAIN,
         "t.sng:8:30: error: matrix product of [1,4900000000] and [4900000000,3]: a dimension is larger than "
         "2147483647 (BLAS's int)", 1);
}

Test(strict, worker_arena_too_large) {
  char net[4096];
  int k = snprintf(net, sizeof net, "net m {\n  x, y = input(d)\n  h0 = x\n");
  for (int i = 1; i <= 20; i++) k += snprintf(net + k, sizeof net - (size_t)k, "  h%d = relu(dense(h%d, 120))\n", i, i - 1);
  snprintf(net + k, sizeof net - (size_t)k, "  loss softmax_cross_entropy(dense(h20, 3), y)\n}\n" TRAIN);
  char text[8192];
  snprintf(text, sizeof text, "%s%s", DATA("2147483647"), net);
  Result r = run(text);
  cr_expect_null(r.plan);
  cr_expect_eq(r.errors, 1, "%s", r.msgs);
  /* the byte count is the memory plan's; the place and the limit are what this checks */
  cr_expect(!strncmp(r.msgs, "t.sng:6:5: error: net 'm' needs ", 32), "%s", r.msgs);
  cr_expect_not_null(strstr(r.msgs, " bytes of tensors on worker 0, more than 17592186044416\n"), "%s", r.msgs);
  done(&r);
}

Test(strict, steps_times_batch) {
  expect(DATA("2147483647") NET "train m with bp, sgd {\n  steps = 1e15\n}\n",
         "t.sng:11:11: error: steps = 1000000000000000 of 2147483647 samples each is more than 4611686018427387904 samples", 1);
}

Test(strict, integer_too_large) {
  expect(DATA("8") NET "train m with bp, sgd {\n  steps = 1e16\n}\n",
         "t.sng:11:11: error: 1e+16 is too large: integers are at most 10^15", 1);
}

Test(strict, sizes_at_the_limits_compile) {
  Result r = run(DATA("8") "net m {\n  x, y = input(d)\n  loss softmax_cross_entropy(dense(relu(dense(x, 100000)), 3), y)\n}\n" TRAIN);
  cr_expect_not_null(r.plan, "%s", r.msgs);
  cr_expect_eq(r.errors, 0);
  done(&r);
}

/* ---- defined twice ---- */

Test(strict, data_block_twice) {
  expect(DATA("8") NET TRAIN DATA("8"),
         "t.sng:13:1: error: data block 'd' defined again here; first defined at t.sng:1:1", 1);
}

Test(strict, second_data_block_of_another_name) {
  Result r = run(DATA("8") NET TRAIN "data e {\n}\n");
  cr_expect(has_line(r.msgs, "t.sng:13:1: error: a second data block: one per file is supported so far"), "%s", r.msgs);
  cr_expect(has_line(r.msgs, "  hint: the first one is at t.sng:1:1"), "%s", r.msgs);
  done(&r);
}

Test(strict, net_twice) {
  expect(DATA("8") NET TRAIN "net m {\n}\n", "t.sng:13:5: error: net 'm' defined again here; first defined at t.sng:6:5", 1);
}

Test(strict, updater_twice) {
  expect(DATA("8") NET TRAIN "updater sgd(lr = 0.1)\nupdater sgd(lr = 0.2)\n",
         "t.sng:14:1: error: updater 'sgd' defined again here; first defined at t.sng:13:1", 1);
}

Test(strict, cluster_twice) {
  expect(DATA("8") NET TRAIN "cluster(workers_per_group = 1)\ncluster(workers_per_group = 1)\n",
         "t.sng:14:1: error: cluster defined again here; first defined at t.sng:13:1", 1);
}

Test(strict, train_stage_twice) {
  expect(DATA("8") NET TRAIN TRAIN, "t.sng:13:1: error: train stage 'm' defined again here; first defined at t.sng:10:1", 1);
}

Test(strict, data_setting_twice) {
  expect("data d {\n  dir = \"@\"\n  train = idx(\"train-images.gz\", \"train-labels.gz\")\n  batch = 8\n  batch = 16\n}\n"
         "net m {\n  x, y = input(d)\n  loss softmax_cross_entropy(dense(x, 3), y)\n}\n" TRAIN,
         "t.sng:5:3: error: setting 'batch' defined again here; first defined at t.sng:4:3", 1);
}

Test(strict, data_setting_twice_in_another_spelling) {
  expect("data d {\n  dir = \"@\"\n  train = idx(\"train-images.gz\", \"train-labels.gz\")\n  standardize = true\n"
         "  standardise = false\n}\n" "net m {\n  x, y = input(d)\n  loss softmax_cross_entropy(dense(x, 3), y)\n}\n" TRAIN,
         "t.sng:5:3: error: setting 'standardise' defined again here; first defined at t.sng:4:3", 1);
}

Test(strict, train_setting_twice) {
  expect(DATA("8") NET "train m with bp, sgd {\n  steps = 2\n  seed = 1\n  steps = 3\n}\n",
         "t.sng:13:3: error: setting 'steps' defined again here; first defined at t.sng:11:3", 1);
}

Test(strict, test_twice) {
  expect("data d {\n  dir = \"@\"\n  train = idx(\"train-images.gz\", \"train-labels.gz\")\n"
         "  test = idx(\"test-images.gz\", \"test-labels.gz\")\n}\n"
         NET "train m with bp, sgd {\n  test every 1 for 2\n  test every 2\n}\n",
         "t.sng:12:3: error: test defined again here; first defined at t.sng:11:3", 1);
}

Test(strict, test_clause_twice) {
  expect("data d {\n  dir = \"@\"\n  train = idx(\"train-images.gz\", \"train-labels.gz\")\n"
         "  test = idx(\"test-images.gz\", \"test-labels.gz\")\n}\n"
         NET "train m with bp, sgd {\n  test every 1 for 2 every 3\n}\n",
         "t.sng:11:22: error: 'every' of test defined again here; first defined at t.sng:11:8", 1);
}

Test(strict, option_twice) {
  expect(DATA("8") NET TRAIN "updater sgd(0.1, momentum = 0.5, lr = 0.2)\n",
         "t.sng:13:34: error: sgd() option 'lr' defined again here; first defined at t.sng:13:13", 1);
}

Test(strict, layer_option_twice) {
  expect(DATA("8") "net m {\n  x, y = input(d)\n  loss softmax_cross_entropy(dense(x, 3, units = 3), y)\n}\n" TRAIN,
         "t.sng:8:42: error: dense() option 'units' defined again here; first defined at t.sng:8:39", 1);
}

Test(strict, net_partition_twice) {
  expect(DATA("8") "net m(partition = batch, partition = feature) {\n  x, y = input(d)\n"
         "  loss softmax_cross_entropy(dense(x, 3), y)\n}\n" TRAIN,
         "t.sng:6:26: error: partition defined again here; first defined at t.sng:6:7", 1);
}

Test(strict, layer_partition_twice) {
  expect(DATA("8") "net m {\n  x, y = input(d)\n"
         "  loss softmax_cross_entropy(dense(x, 3, partition = none, partition = batch), y)\n}\n" TRAIN,
         "t.sng:8:60: error: partition defined again here; first defined at t.sng:8:42", 1);
}

Test(strict, name_twice) {
  expect(DATA("8") "net m {\n  x, y = input(d)\n  h = relu(x)\n  y = relu(x)\n"
         "  loss softmax_cross_entropy(dense(h, 3), y)\n}\n" TRAIN,
         "t.sng:9:3: error: 'y' defined again here; first defined at t.sng:7:6", 1);
}

/* ---- a net nothing trains: a warning, and the plan is still written ---- */

Test(strict, untrained_net_is_a_warning_only) {
  Result r = run(DATA("8") NET TRAIN "net spare {\n  x, y = input(d)\n}\n");
  cr_expect_not_null(r.plan, "a warning failed the compile:\n%s", r.msgs);
  cr_expect_eq(r.errors, 0, "%s", r.msgs);
  cr_expect_eq(r.warnings, 1, "%s", r.msgs);
  cr_expect(has_line(r.msgs, "t.sng:13:5: warning: net 'spare' is never trained (the train stage trains 'm')"), "%s", r.msgs);
  cr_expect(has_line(r.msgs, "net spare {"), "the source line is quoted:\n%s", r.msgs);
  done(&r);
}

/* ---- constants and values ---- */

Test(strict, constant_overflows) {
  expect(DATA("8") NET TRAIN "updater sgd(lr = 1e308*10)\n",
         "t.sng:13:18: error: constant expression overflows: 1e+308 * 10 is not a finite number", 1);
}

Test(strict, scale_past_float32) {
  expect("data d {\n  dir = \"@\"\n  train = idx(\"train-images.gz\", \"train-labels.gz\")\n  scale = 1e39\n}\n" NET TRAIN,
         "t.sng:4:11: error: 1e+39 is too large for a float32 (at most 3.40282e+38)", 1);
}

Test(strict, init_past_float32) {
  expect(DATA("8") "net m {\n  x, y = input(d)\n  loss softmax_cross_entropy(dense(x, 3, init = constant(1e39)), y)\n}\n" TRAIN,
         "t.sng:8:58: error: 1e+39 is too large for a float32 (at most 3.40282e+38)", 1);
}

Test(strict, lr_not_positive) {
  expect(DATA("8") NET TRAIN "updater sgd(lr = -0.1)\n", "t.sng:13:18: error: lr must be > 0, got -0.1", 1);
}

Test(strict, lr_zero_as_float32) {
  expect(DATA("8") NET TRAIN "updater sgd(lr = 1e-50)\n", "t.sng:13:18: error: lr must be > 0, got 1e-50 (0 as a float32)", 1);
}

Test(strict, momentum_out_of_range) {
  expect(DATA("8") NET TRAIN "updater sgd(momentum = 1)\n", "t.sng:13:24: error: momentum must be in [0, 1), got 1", 1);
}

Test(strict, weight_decay_negative) {
  expect(DATA("8") NET TRAIN "updater sgd(weight_decay = -1)\n", "t.sng:13:28: error: weight_decay must be >= 0, got -1", 1);
}

Test(strict, gamma_not_positive) {
  expect(DATA("8") NET TRAIN "updater sgd(schedule = step(gamma = 0, every = 10))\n",
         "t.sng:13:37: error: gamma must be > 0, got 0", 1);
}

Test(strict, lr_mult_negative) {
  expect(DATA("8") "net m {\n  x, y = input(d)\n  loss softmax_cross_entropy(dense(x, 3, lr_mult = -1), y)\n}\n" TRAIN,
         "t.sng:8:52: error: lr_mult must be >= 0, got -1", 1);
}

Test(strict, wd_mult_negative) {
  expect(DATA("8") "net m {\n  x, y = input(d)\n  loss softmax_cross_entropy(dense(x, 3, wd_mult = -2), y)\n}\n" TRAIN,
         "t.sng:8:52: error: wd_mult must be >= 0, got -2", 1);
}

/* ---- limits of a net ---- */

Test(strict, names_in_a_net_have_no_limit) {
  static char text[1 << 15];
  int k = snprintf(text, sizeof text, "%snet m {\n  x, y = input(d)\n", DATA("8"));
  for (int i = 0; i < 300; i++) k += snprintf(text + k, sizeof text - (size_t)k, "  h%d = relu(x)\n", i);
  snprintf(text + k, sizeof text - (size_t)k, "  loss softmax_cross_entropy(dense(x, 3), y)\n}\n" TRAIN);
  Result r = run(text);
  cr_expect_not_null(r.plan, "%s", r.msgs);
  cr_expect_eq(r.errors, 0, "300 names in one net are fine (there was a limit of 256):\n%s", r.msgs);
  done(&r);
}

Test(strict, more_names_than_a_layer_gives) {
  expect(DATA("8") "net m {\n  x, y = input(d)\n  a, b, c, d, e, f, g, h, i = input(d)\n"
         "  loss softmax_cross_entropy(dense(x, 3), y)\n}\n" TRAIN,
         "t.sng:8:3: error: 9 names are assigned, but a layer gives at most 8 tensors", 1);
}

/* ---- nothing after 'with' goes unread ---- */

Test(strict, with_takes_two_arguments) {
  expect(DATA("8") NET "train m with bp, sgd, adam {\n  steps = 2\n}\n",
         "t.sng:10:23: error: 'with' takes an algorithm and an updater; this is a third argument", 1);
}

Test(strict, with_takes_no_names) {
  expect(DATA("8") NET "train m with bp, upd = sgd {\n  steps = 2\n}\n",
         "t.sng:10:18: error: 'with' takes the algorithm and the updater by position (with bp, sgd), not 'upd ='", 1);
}

/* ---- the rates the update kernel gets as float32s, at every step ---- */

Test(strict, schedule_grows_lr_past_float32) {
  expect(DATA("8") NET "train m with bp, sgd {\n  steps = 100\n}\nupdater sgd(lr = 0.1, schedule = step(gamma = 10, every = 1))\n",
         "t.sng:13:47: error: gamma = 10 makes lr 0.1 x 10^99 by step 100, past the float32 range (3.40282e+38)", 1);
}

Test(strict, schedule_within_float32_compiles) {
  Result r = run(DATA("8") NET "train m with bp, sgd {\n  steps = 100\n}\n"
                 "updater sgd(lr = 0.1, schedule = step(gamma = 10, every = 10))\n");
  cr_expect_not_null(r.plan, "10^9 stays a float32:\n%s", r.msgs);
  done(&r);
}

Test(strict, lr_mult_times_lr_past_float32) {
  expect(DATA("8") "net m {\n  x, y = input(d)\n  loss softmax_cross_entropy(dense(x, 3, lr_mult = 1e38), y)\n}\n" TRAIN
         "updater sgd(lr = 100)\n",
         "t.sng:8:30: error: dense1.w: lr_mult = 1e+38 makes its learning rate 1e+40, past the float32 range (3.40282e+38)", 1);
}

Test(strict, wd_mult_times_weight_decay_past_float32) {
  expect(DATA("8") "net m {\n  x, y = input(d)\n  loss softmax_cross_entropy(dense(x, 3, wd_mult = 1e30), y)\n}\n" TRAIN
         "updater sgd(weight_decay = 1e10)\n",
         "t.sng:8:30: error: dense1.w: wd_mult = 1e+30 makes its weight decay 1e+40, past the float32 range (3.40282e+38)", 1);
}

/* ---- the checks that were there before, now listed in Limits and checks ---- */

Test(strict, second_updater_of_another_kind) {
  Result r = run(DATA("8") NET TRAIN "updater sgd(lr = 0.1)\nupdater adam(lr = 0.1)\n");
  cr_expect(has_line(r.msgs, "t.sng:14:1: error: a second updater: one per file is supported so far"), "%s", r.msgs);
  cr_expect(has_line(r.msgs, "  hint: the first one is at t.sng:13:1"), "%s", r.msgs);
  cr_expect_eq(r.errors, 1, "%s", r.msgs);
  done(&r);
}

Test(strict, second_loss_names_the_first) {
  Result r = run(DATA("8") "net m {\n  x, y = input(d)\n  loss softmax_cross_entropy(dense(x, 3), y)\n"
                 "  loss softmax_cross_entropy(dense(x, 3), y)\n}\n" TRAIN);
  cr_expect(has_line(r.msgs, "t.sng:9:3: error: a net has one loss (several losses are not supported yet)"), "%s", r.msgs);
  cr_expect(has_line(r.msgs, "  hint: the first loss is at t.sng:8:3"), "%s", r.msgs);
  cr_expect_eq(r.errors, 1, "%s", r.msgs);
  done(&r);
}

Test(strict, workers_per_group_limit) {
  expect(DATA("8") NET TRAIN "cluster(workers_per_group = 300)\n",
         "t.sng:13:29: error: workers_per_group = 300: at most 256", 1);
}

Test(strict, integer_not_whole) {
  expect(DATA("0.5") NET TRAIN, "t.sng:4:11: error: expected an integer >= 1, got 0.5", 1);
}

Test(strict, division_by_zero) {
  expect(DATA("8") NET TRAIN "updater sgd(lr = 1/0)\n", "t.sng:13:18: error: division by zero in a constant expression", 1);
}

Test(strict, uniform_bounds) {
  expect(DATA("8") "net m {\n  x, y = input(d)\n  loss softmax_cross_entropy(dense(x, 3, init = uniform(1, -1)), y)\n}\n" TRAIN,
         "t.sng:8:49: error: uniform(low, high) needs low <= high", 1);
}
