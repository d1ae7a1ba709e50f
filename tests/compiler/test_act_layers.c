/* test_act_layers.c - the activations, tensor ops, losses and metrics of issue 10 in the
 * compiler: bad arguments and shapes are errors at their place, with what to do. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "sng_lower.h"
#include "sng_pass.h"
#include "compileutil.h"
#include "testutil.h"
#include "tmpdir.h"

static char dir[256];

static void make_data(void) {
  tu_tmpdir(dir, sizeof dir, "actl");
  cr_assert_eq(write_synthetic_idx(dir, "train", 40, 4, 3, 1), 0);
}
static void drop_data(void) {
  tu_rmdir(dir);
}

/* the net body starts on line 7 (x, y = input(d)) */
static char *source(const char *net) {
  static char buf[4096];
  snprintf(buf, sizeof buf,
           "data d {\n  dir = \"%s\"\n  train = idx(\"train-images.gz\", \"train-labels.gz\")\n  batch = 8\n}\n"
           "net m {\n  x, y = input(d)\n%s}\n"
           "train m with bp, sgd {\n  steps = 1\n}\n",
           dir, net);
  return buf;
}

static SngPlan *compile(const char *net, char **msgs) {
  SngPlan *p = tu_compile("t.sng", source(net), NULL, msgs, NULL);
  return p;
}

static void expect_error(const char *net, const char *want) {
  char *msgs;
  SngPlan *p = compile(net, &msgs);
  cr_expect_null(p);
  cr_expect_not_null(strstr(msgs, want), "wanted '%s' in:\n%s", want, msgs);
  sng_plan_free(p);
  free(msgs);
}

static void expect_ok(const char *net) {
  char *msgs;
  SngPlan *p = compile(net, &msgs);
  cr_expect_not_null(p, "%s", msgs);
  sng_plan_free(p);
  free(msgs);
}

TestSuite(act_layers, .init = make_data, .fini = drop_data);

#define LOSS "  loss softmax_cross_entropy(l, y)\n"

Test(act_layers, concat_never_joins_the_batch) {
  expect_error("  l = concat(dense(x, 3), dense(x, 3), dim = 0)\n" LOSS,
               "t.sng:8:46: error: concat() dim = 0: dimension 0 is the batch");
}

Test(act_layers, concat_sizes_must_agree) {
  expect_error("  h = concat(x, dense(x, 3))\n  l = dense(h, 3)\n" LOSS,
               "t.sng:8:7: error: concat along dimension 1: tensor 2 is [8,3], tensor 1 is [8,1,4,4]");
}

Test(act_layers, slice_past_the_end) {
  expect_error("  h = slice(dense(x, 8), 6, 4)\n  l = dense(h, 3)\n" LOSS,
               "t.sng:8:7: error: slice [6, 10) of dimension 1 of [8,8]: past its size 8");
}

Test(act_layers, split_needs_names_and_room) {
  expect_error("  h = split(dense(x, 8))\n  l = dense(h, 3)\n" LOSS, "split() gives one piece per name assigned");
  expect_error("  a, b, c = split(dense(x, 2))\n  l = dense(concat(a, b, c), 3)\n" LOSS,
               "split of [8,2] into 3 pieces along dimension 1, which has only 2");
  expect_ok("  a, b, c = split(dense(x, 8))\n  l = dense(concat(c, b, a), 3)\n" LOSS);
}

Test(act_layers, losses_want_one_shape) {
  expect_error("  l = dense(x, 3)\n  loss euclidean_loss(l, y)\n",
               "euclidean_loss of [8,3] and [8]: the prediction and the target must have one shape");
  expect_error("  l = dense(x, 3)\n  loss euclidean_loss(l, y)\n", "compare with one_hot(labels, 3)");
  expect_error("  l = dense(x, 3)\n  loss sigmoid_cross_entropy(l, one_hot(y, 4))\n",
               "sigmoid_cross_entropy of [8,3] and [8,4]");
  expect_ok("  l = dense(x, 3)\n  loss sigmoid_cross_entropy(l, one_hot(y, 3))\n  metric accuracy(l, y, k = 2)\n");
}

Test(act_layers, top_k_within_the_classes) {
  expect_error("  l = dense(x, 3)\n" LOSS "  metric accuracy(l, y, k = 5)\n",
               "accuracy with k = 5 of 3 classes: every sample would count");
  expect_error("  l = dense(x, 3)\n" LOSS "  metric accuracy(l, y, k = 0)\n", "t.sng:10:29: error: expected an integer >= 1, got 0");
}

Test(act_layers, ids_and_rows_are_checked) {
  expect_error("  l = dense(embed(x, 10, 4), 3)\n" LOSS, "embed wants ids of shape [batch] or [batch, T]; got [8,1,4,4]");
  expect_error("  l = dense(one_hot(x, 3), 3)\n" LOSS, "one_hot wants ids of shape [batch] or [batch, T]");
  expect_error("  l = dense(softmax(y), 3)\n" LOSS, "softmax wants [batch, ..., classes]; got [8]");
  expect_error("  l = dense(embed(y, 0, 4), 3)\n" LOSS, "t.sng:8:22: error:");
}

Test(act_layers, row_layers_do_not_split_by_feature) {
  expect_error("  l = dense(softmax(dense(x, 4), partition = feature), 3)\n" LOSS,
               "softmax1 cannot split by feature: it splits by rows only");
}

/* ids of [batch, T] give [batch, T, dim] (a sequence of words) */
Test(act_layers, embed_of_a_sequence) {
  SngIrGraph *g = sng_ir_graph_new("t");
  SngLoc l = {"s.sng", 1, 1};
  SngIrNode *ids = sng_ir_input(g, l, "ids", sng_shape2(8, 5), 0);
  SngIrNode *w = sng_ir_param(g, l, "w", sng_shape2(100, 6));
  SngIrNode *e = sng_ir_op2(g, SNG_OP_EMBED, l, ids, w);
  SngDiag *d = sng_diag_new(stderr, 5);
  cr_assert_eq(sng_pass_shape(g, d), 0);
  sng_diag_free(d);
  cr_expect_eq(e->shape.rank, 3);
  cr_expect(e->shape.d[0] == 8 && e->shape.d[1] == 5 && e->shape.d[2] == 6);
  sng_ir_graph_free(g);
}

/* partition = auto over 2 workers tries both choices through every new op's rules */
Test(act_layers, auto_partition_takes_every_new_layer) {
  char text[4096], *msgs;
  snprintf(text, sizeof text,
           "data d {\n  dir = \"%s\"\n  train = idx(\"train-images.gz\", \"train-labels.gz\")\n  batch = 8\n}\n"
           "net m(partition = auto) {\n  x, y = input(d)\n  h = stanh(dense(x, 8))\n  a, b = split(h)\n"
           "  e = embed(y, 3, 4)\n  c = concat(softplus(a), leaky_relu(b), e, sigmoid(slice(h, 1, 3)))\n"
           "  l = dense(add(softmax(dense(c, 5)), tanh(dense(c, 5))), 3)\n"
           "  loss sigmoid_cross_entropy(l, one_hot(y, 3))\n  metric accuracy(l, y, k = 2)\n}\n"
           "cluster(workers_per_group = 2, servers_per_group = 1)\n"
           "train m with bp, sgd {\n  steps = 1\n}\n", dir);
  SngPlan *p = tu_compile("t.sng", text, NULL, &msgs, NULL);
  cr_expect_not_null(p, "%s", msgs);
  sng_plan_free(p);
  free(msgs);
}
