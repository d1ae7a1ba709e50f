/* test_auto.c - partition = auto: the compiler picks batch or feature per layer to move the
 * fewest bytes per step, and its choice is at least as good as any choice written by hand.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sng_lower.h"
#include "testutil.h"
#include "tmpdir.h"

static char dir[256];

static void make_data(void) {
  tu_tmpdir(dir, sizeof dir, "auto");
  cr_assert_eq(write_synthetic_idx(dir, "train", 100, 64, 10, 1), 0); /* 4096 features */
}
static void drop_data(void) {
  tu_rmdir(dir);
}

/* x [64, 4096] -> dense 4096 (a 4096x4096 weight) -> relu -> dense 10 -> loss */
static const char *source(const char *net, const char *pin, const char *p1, const char *p2) {
  static char buf[2048];
  snprintf(buf, sizeof buf,
           "data d {\n  dir = \"%s\"\n  train = idx(\"train-images.gz\", \"train-labels.gz\")\n  batch = 64\n}\n"
           "net m(partition = %s) {\n"
           "  x, y = input(d%s)\n"
           "  h = relu(dense(x, 4096%s))\n"
           "  logits = dense(h, 10%s)\n"
           "  loss softmax_cross_entropy(logits, y)\n"
           "}\n"
           "cluster(workers_per_group = 2, servers_per_group = 2)\n"
           "train m with bp, sgd { steps = 1 }\n",
           dir, net, pin, p1, p2);
  return buf;
}

static SngJob *compile(const char *text) {
  SngArena *a = sng_arena_new();
  SngDiag *d = sng_diag_new(stderr, 20);
  SngFile *f = sng_parse_string(a, d, "t.sng", text);
  SngJob *job = sng_job_new();
  cr_assert(f && sng_pass_sema(job, f, d) == 0 && sng_pass_run_all(job, d, NULL, NULL) == 0, "%s", text);
  sng_diag_free(d);
  sng_arena_free(a);
  return job;
}

static SngPart part_of(const SngJob *job, const char *layer) {
  for (int i = 0; i < job->net->nlayers; i++)
    if (!strcmp(job->net->layers[i].name, layer)) return job->net->layers[i].part;
  cr_assert_fail("no layer %s", layer);
  return SNG_PART_NONE;
}

TestSuite(auto_partition, .init = make_data, .fini = drop_data, .timeout = 120);

Test(auto_partition, feature_for_the_big_layer_batch_elsewhere) {
  SngJob *job = compile(source("auto", "", "", ""));
  cr_expect_eq(part_of(job, "dense1"), SNG_PART_FEATURE, "the 4096x4096 layer is split by feature");
  cr_expect_eq(part_of(job, "dense2"), SNG_PART_BATCH, "the 4096x10 layer is split by batch");
  cr_expect_eq(part_of(job, "softmax_cross_entropy1"), SNG_PART_BATCH);
  cr_expect(job->autorep.ran && job->autorep.exact);
  int64_t chosen = sng_pass_step_bytes(job->net, NULL);
  cr_expect_eq(chosen, job->autorep.chosen, "the report gives the bytes of the net built");
  cr_expect(chosen < job->autorep.all_batch && chosen <= job->autorep.all_feature);
  sng_job_free(job);
  /* every choice a user could write on the three layers */
  static const char *const opt[] = {", partition = batch", ", partition = feature"};
  for (int k = 0; k < 8; k++) {
    SngJob *h = compile(source("batch", opt[k & 1], opt[k >> 1 & 1], opt[k >> 2 & 1]));
    int64_t b = sng_pass_step_bytes(h->net, NULL);
    cr_expect(chosen <= b, "auto moves %lld B per step; input%s dense1%s dense2%s moves %lld B", (long long)chosen,
              opt[k & 1], opt[k >> 1 & 1], opt[k >> 2 & 1], (long long)b);
    sng_job_free(h);
  }
}

Test(auto_partition, explicit_settings_are_kept) {
  SngJob *job = compile(source("auto", "", "", ", partition = feature"));
  cr_expect_eq(part_of(job, "dense2"), SNG_PART_FEATURE, "a layer's own setting is not overridden by auto");
  sng_job_free(job);
}

/* A long chain: every choice builds the whole net, so the search keeps to its budget, starts
 * from the cheaper uniform choice and never ends above it (a descent from all batch used to stop
 * in a local minimum above all feature, and tried 1,000 whole-net builds at 2,000 ops). */
Test(auto_partition, a_long_chain_keeps_to_the_budget) {
  enum { PAIRS = 1000 };
  size_t cap = 512 + PAIRS * 48;
  char *text = malloc(cap);
  int k = snprintf(text, cap,
                   "data d {\n  dir = \"%s\"\n  train = idx(\"train-images.gz\", \"train-labels.gz\")\n  batch = 64\n}\n"
                   "net m(partition = auto) {\n  x, y = input(d)\n  h0 = x\n", dir);
  for (int i = 1; i <= PAIRS; i++) k += snprintf(text + k, cap - (size_t)k, "  h%d = relu(dense(h%d, 4))\n", i, i - 1);
  snprintf(text + k, cap - (size_t)k,
           "  loss softmax_cross_entropy(dense(h%d, 10), y)\n}\n"
           "cluster(workers_per_group = 2)\ntrain m with bp, sgd { steps = 1 }\n", PAIRS);
  SngJob *job = compile(text);
  const SngAutoReport *r = &job->autorep;
  cr_expect(r->ran && !r->exact && r->cut, "a net this large is not searched exhaustively");
  cr_expect(r->searched <= r->budget && r->budget < PAIRS, "%d choices tried, budget %d", r->searched, r->budget);
  int64_t best = r->all_batch < r->all_feature ? r->all_batch : r->all_feature;
  cr_expect(r->chosen <= best, "chosen %lld B, all batch %lld B, all feature %lld B", (long long)r->chosen,
            (long long)r->all_batch, (long long)r->all_feature);
  cr_expect_eq(sng_pass_step_bytes(job->net, NULL), r->chosen, "the report gives the bytes of the net built");
  sng_job_free(job);
  free(text);
}
