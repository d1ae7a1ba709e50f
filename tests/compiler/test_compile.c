/* test_compile.c - the compiler from .sng text to plan: fusion, memory plan, shapes, errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sng_lower.h"
#include "planutil.h"
#include "compileutil.h"
#include "testutil.h"
#include "tmpdir.h"

static char dir[256];

static void make_data(void) {
  tu_tmpdir(dir, sizeof dir, "compile");
  cr_assert_eq(write_synthetic_idx(dir, "train", 200, 4, 3, 1), 0);
  cr_assert_eq(write_synthetic_idx(dir, "test", 50, 4, 3, 2), 0);
}
static void drop_data(void) {
  tu_rmdir(dir);
}

/* a small version of examples/mlp.sng over the synthetic set; %s = net body, then train body */
static char *source(const char *net, const char *extra) {
  static char buf[4096];
  snprintf(buf, sizeof buf,
           "data d {\n"
           "  dir = \"%s\"\n"
           "  train = idx(\"train-images.gz\", \"train-labels.gz\")\n"
           "  test = idx(\"test-images.gz\", \"test-labels.gz\")\n"
           "  batch = 8\n"
           "  scale = 1/255\n"
           "}\n"
           "net m {\n%s}\n"
           "updater sgd(lr = 0.1, momentum = 0.9)\n"
           "train m with bp, sgd {\n  steps = 10\n%s}\n",
           dir, net, extra ? extra : "");
  return buf;
}

static const char *mlp =
    "  x, y = input(d)\n"
    "  h = relu(dense(x, 32))\n"
    "  logits = dense(h, 3)\n"
    "  loss softmax_cross_entropy(logits, y)\n"
    "  metric accuracy(logits, y)\n";

/* Compiles text; returns the plan (or NULL) and the diagnostics in *msgs. */
static SngPlan *compile(const char *text, char **msgs, FILE *dump) {
  SngCompileOpts o = {.dump_ir = dump};
  SngPlan *p = tu_compile("t.sng", text, &o, msgs, NULL);
  return p;
}

static const SngPlanKernel *kernel_named(const SngPlan *p, const char *members) {
  for (int i = 0; i < p->nkernels; i++)
    if (!strcmp(p->kernels[i].members, members)) return &p->kernels[i];
  return NULL;
}

TestSuite(compile, .init = make_data, .fini = drop_data);

Test(compile, mlp_fuses_elementwise_chains) {
  char *msgs;
  SngPlan *p = compile(source(mlp, NULL), &msgs, NULL);
  cr_assert_not_null(p, "%s", msgs);
  cr_expect_not_null(kernel_named(p, "bias_add+relu"), "bias add + relu fused");
  cr_expect_not_null(kernel_named(p, "relu_bwd"), "relu backward is a kernel");
  cr_expect_not_null(kernel_named(p, "softmax_xent+softmax_xent_bwd"), "loss and its gradient in one row kernel");
  const SngPlanKernel *u = &p->kernels[p->updater.kernel];
  cr_expect_str_eq(u->members, "mul+mul+add+mul+mul+sub+add+assign+assign");
  cr_expect_eq(u->nbufs, 3, "w, g, h");
  cr_expect_eq(u->nscalars, 3);
  cr_expect_eq(p->nparams, 4);
  cr_expect_eq(p->graphs[0].batch, 8);
  cr_expect_eq(p->data.classes, 3);
  cr_expect_eq(p->data.sample_rank, 3, "images keep their channel, rows and columns: [1,4,4]");
  cr_expect_eq(p->data.sample_dims[0], 1);
  cr_expect_eq(p->data.sample_dims[1], 4);
  cr_expect_eq(p->data.sample_dims[2], 4);
  /* no elementwise op is left outside a kernel: there is no C fallback for them */
  for (int i = 0; i < p->graphs[0].nops; i++) {
    int op = p->graphs[0].ops[i].op;
    cr_expect(op == SNG_OP_KERNEL || !sng_op_has((SngOp)op, OPF_ELTWISE | OPF_ROWWISE), "op %d not fused", op);
  }
  sng_plan_free(p);
  free(msgs);
}

Test(compile, default_init_follows_fan_in) {
  char *msgs;
  SngPlan *p = compile(source(mlp, NULL), &msgs, NULL);
  cr_assert_not_null(p, "%s", msgs);
  cr_expect_str_eq(p->params[0].name, "dense1.w");
  cr_expect_eq(p->params[0].dims[0], 16);
  cr_expect_eq(p->params[0].init, SNG_PINIT_UNIFORM);
  cr_expect_float_eq(p->params[0].init_b, 0.25, 1e-12); /* 1/sqrt(16) */
  cr_expect_float_eq(p->params[1].init_b, 0.25, 1e-12); /* the bias uses its layer's fan-in */
  cr_expect_float_eq(p->params[2].init_b, 1 / sqrt(32.0), 1e-12);
  sng_plan_free(p);
  free(msgs);
}

/* Memory plan: tensors that are live at the same time never share bytes. */
Test(compile, memory_plan_never_overlaps_live_tensors) {
  char *msgs;
  SngPlan *p = compile(source(mlp, NULL), &msgs, NULL);
  cr_assert_not_null(p, "%s", msgs);
  const SngPlanGraph *g = &p->graphs[0];
  int64_t total;
  char why[256];
  cr_expect_eq(plan_overlap(g, &total, why, sizeof why), 0, "%s", why);
  cr_expect_lt(g->arena_bytes, total, "memory is reused (%lld of %lld bytes)", (long long)g->arena_bytes,
               (long long)total);
  sng_plan_free(p);
  free(msgs);
}

Test(compile, dump_ir_shows_kernels_and_shapes) {
  char *msgs, *text;
  size_t n;
  FILE *dump = open_memstream(&text, &n);
  SngPlan *p = compile(source(mlp, NULL), &msgs, dump);
  fclose(dump);
  cr_assert_not_null(p, "%s", msgs);
  cr_expect_not_null(strstr(text, "# after fuse"));
  cr_expect_not_null(strstr(text, "dense1.w f32[16,32] = param"));
  cr_expect_not_null(strstr(text, "kernel k0 eltwise [8,32]: bias_add"), "%s", text);
  cr_expect_not_null(strstr(text, "+ relu"));
  cr_expect_not_null(strstr(text, "rowwise [8,3]: softmax_xent"));
  sng_plan_free(p);
  free(msgs);
  free(text);
}

/* Each bad input: a fragment of the net, and a text its diagnostics must contain. */
static void expect_error(const char *net, const char *extra, const char *want) {
  char *msgs;
  SngPlan *p = compile(source(net, extra), &msgs, NULL);
  cr_expect_null(p);
  cr_expect_not_null(strstr(msgs, want), "wanted '%s' in:\n%s", want, msgs);
  sng_plan_free(p);
  free(msgs);
}

Test(compile, wrong_class_count) {
  expect_error("  x, y = input(d)\n  l = dense(x, 5)\n  loss softmax_cross_entropy(l, y)\n",
               NULL, "t.sng:11:8: error: softmax_cross_entropy gets 5 scores per sample, but the labels have 3 classes");
}

Test(compile, unknown_layer_suggests) {
  expect_error("  x, y = input(d)\n  l = dens(x, 3)\n  loss softmax_cross_entropy(l, y)\n", NULL, "did you mean 'dense'?");
}

Test(compile, unknown_option_suggests) {
  expect_error("  x, y = input(d)\n  l = dense(x, 3, unit = 4)\n  loss softmax_cross_entropy(l, y)\n", NULL,
               "dense() has no option 'unit'");
}

Test(compile, unknown_name) {
  expect_error("  x, y = input(d)\n  l = dense(q, 3)\n  loss softmax_cross_entropy(l, y)\n", NULL,
               "t.sng:10:13: error: unknown name 'q'");
}

Test(compile, names_may_be_used_before_their_line) {
  char *msgs;
  SngPlan *p = compile(source("  logits = dense(h, 3)\n  loss softmax_cross_entropy(logits, y)\n"
                              "  h = relu(dense(x, 8))\n  x, y = input(d)\n", NULL), &msgs, NULL);
  cr_expect_not_null(p, "%s", msgs);
  sng_plan_free(p);
  free(msgs);
}

Test(compile, cycle_is_reported) {
  expect_error("  x, y = input(d)\n  a = relu(b)\n  b = relu(a)\n  loss softmax_cross_entropy(a, y)\n", NULL,
               "depends on itself");
}

Test(compile, missing_loss) {
  expect_error("  x, y = input(d)\n  l = dense(x, 3)\n", NULL, "has no loss");
}

Test(compile, unknown_train_setting) {
  expect_error(mlp, "  stepz = 3\n", "did you mean 'steps'?");
}

Test(compile, several_errors_in_one_run) {
  char *msgs;
  SngPlan *p = compile(source("  x, y = input(d)\n  a = dens(x, 3)\n  b = relu(zz)\n  loss softmax_cross_entropy(a, y)\n",
                              "  stepz = 3\n"), &msgs, NULL);
  cr_expect_null(p);
  cr_expect_not_null(strstr(msgs, "unknown layer 'dens'"), "%s", msgs);
  cr_expect_not_null(strstr(msgs, "unknown name 'zz'"), "%s", msgs);
  cr_expect_not_null(strstr(msgs, "unknown setting 'stepz'"), "%s", msgs);
  free(msgs);
}

Test(compile, missing_data_file) {
  char *msgs;
  char text[1024];
  snprintf(text, sizeof text,
           "data d {\n  dir = \"/nonexistent\"\n  train = idx(\"a.gz\", \"b.gz\")\n}\n"
           "net m {\n%s}\ntrain m with bp, sgd {\n}\n", mlp);
  SngPlan *p = compile(text, &msgs, NULL);
  cr_expect_null(p);
  cr_expect_not_null(strstr(msgs, "t.sng:3:11: error: /nonexistent/a.gz: cannot open: No such file or directory"), "%s", msgs);
  cr_expect_null(strstr(msgs, "dense()"), "no knock-on error from the net that reads the data:\n%s", msgs);
  cr_expect_null(strstr(strstr(msgs, "error:") + 1, "error:"), "one error:\n%s", msgs);
  free(msgs);
}

Test(compile, unsupported_cluster_is_an_error_not_ignored) {
  static const char *const bad[][2] = {
      {"cluster(worker_groups = 2, sync = sandblaster)", "sync = sandblaster is one worker group, but worker_groups = 2"},
      {"cluster(worker_groups = 2, sync = true)", "sync = true: 2 worker groups run on their own clocks"},
      {"cluster(workers_per_group = 2, sync = downpour)", "sync = downpour needs several worker groups"},
      {"cluster(sync = false)", "sync = false: asynchronous frameworks need worker_groups > 1"},
      {"cluster(worker_groups = 2, server_groups = 2, sync = downpour)", "sync = downpour has one server group"},
      {"cluster(worker_groups = 2, server_groups = 1, sync = hogwild)", "server_groups must be 2"},
      {"cluster(worker_groups = 3, server_groups = 2)", "server_groups = 2: one server group (downpour) or one per"},
      {"cluster(worker_groups = 2, sync_every = 5)", "sync_every: only hogwild server groups exchange"},
      {"cluster(worker_groups = 2, sync = hogwild, sync_every = 0)", "sync_every"},
      {"cluster(sync = async)", "sync must be sandblaster, allreduce, downpour, hogwild, true"},
      {"cluster(workers_per_group = 2, servers_per_group = 3, sync = allreduce)", "servers_per_group must be 2"},
      {"cluster(workers_per_group = 9)", "cannot split a batch of 8 over 9 workers"},
  };
  for (int i = 0; i < (int)(sizeof bad / sizeof *bad); i++) {
    char *msgs, text[8192];
    snprintf(text, sizeof text, "%s%s\n", source(mlp, NULL), bad[i][0]);
    SngPlan *p = compile(text, &msgs, NULL);
    cr_expect_null(p, "%s", bad[i][0]);
    cr_expect_not_null(strstr(msgs, bad[i][1]), "%s: %s", bad[i][0], msgs);
    free(msgs);
    sng_plan_free(p);
  }
}

/* downpour, hogwild and hybrid from the cluster settings: the plan has every group's units */
Test(compile, worker_groups_make_the_framework) {
  static const struct {
    const char *cluster;
    int fw, wg, sg, units, sync_every;
  } ok[] = {
      {"cluster(worker_groups = 2)", SNG_FW_DOWNPOUR, 2, 1, 3, 0},
      {"cluster(worker_groups = 2, sync = downpour, servers_per_group = 2)", SNG_FW_DOWNPOUR, 2, 1, 4, 0},
      {"cluster(worker_groups = 2, server_groups = 2)", SNG_FW_HOGWILD, 2, 2, 4, 10},
      {"cluster(worker_groups = 3, sync = hogwild, sync_every = 4)", SNG_FW_HOGWILD, 3, 3, 6, 4},
      {"cluster(worker_groups = 2, sync = false)", SNG_FW_DOWNPOUR, 2, 1, 3, 0},
      {"cluster(worker_groups = 2, workers_per_group = 2)", SNG_FW_DOWNPOUR, 2, 1, 5, 0}, /* hybrid */
  };
  for (int i = 0; i < (int)(sizeof ok / sizeof *ok); i++) {
    char *msgs, text[8192];
    snprintf(text, sizeof text, "%s%s\n", source(mlp, NULL), ok[i].cluster);
    SngPlan *p = compile(text, &msgs, NULL);
    cr_assert_not_null(p, "%s: %s", ok[i].cluster, msgs);
    cr_expect_eq(p->cluster.framework, ok[i].fw, "%s", ok[i].cluster);
    cr_expect_eq(p->cluster.worker_groups, ok[i].wg, "%s", ok[i].cluster);
    cr_expect_eq(p->cluster.server_groups, ok[i].sg, "%s", ok[i].cluster);
    cr_expect_eq(p->cluster.sync_every, ok[i].sync_every, "%s", ok[i].cluster);
    cr_expect_eq(p->nunits, ok[i].units, "%s", ok[i].cluster);
    char err[512];
    cr_expect_eq(sng_plan_validate(p, err, sizeof err), 0, "%s: %s", ok[i].cluster, err);
    int wpg = p->cluster.workers_per_group, nw = ok[i].wg * wpg;
    for (int u = 0; u < p->nunits; u++) {
      int w = u < nw;
      cr_expect_eq(p->units[u].kind, w ? SNG_UNIT_WORKER : SNG_UNIT_SERVER, "%s unit %d", ok[i].cluster, u);
      cr_expect_eq(p->units[u].group, w ? u / wpg : (u - nw) / p->cluster.servers_per_group, "%s unit %d",
                   ok[i].cluster, u);
      cr_expect_eq(p->units[u].graph, w ? u % wpg : -1, "%s unit %d", ok[i].cluster, u);
    }
    free(msgs);
    sng_plan_free(p);
  }
}

Test(compile, a_group_of_workers_and_servers) {
  char *msgs, text[8192];
  snprintf(text, sizeof text, "%scluster(workers_per_group = 3, servers_per_group = 2)\n", source(mlp, NULL));
  SngPlan *p = compile(text, &msgs, NULL);
  cr_assert_not_null(p, "%s", msgs);
  cr_expect_eq(p->ngraphs, 3, "one graph per worker");
  cr_expect_eq(p->nunits, 5, "3 workers and 2 servers");
  int rows = 0;
  for (int w = 0; w < 3; w++)
    for (int t = 0; t < p->graphs[w].ntensors; t++)
      if (p->graphs[w].tensors[t].kind == SNG_TENSOR_INPUT && p->graphs[w].tensors[t].param == 1)
        rows += (int)p->graphs[w].tensors[t].dims[0];
  cr_expect_eq(rows, 8, "the batch of 8 split over the workers (3/3/2)");
  int servers[2] = {0};
  for (int i = 0; i < p->nslices; i++) servers[p->slices[i].server - 3]++;
  cr_expect(servers[0] && servers[1], "both servers own slices");
  free(msgs);
  sng_plan_free(p);
}

Test(compile, partition_options_are_checked) {
  static const char *const bad[][2] = {
      {"  x, y = input(d)\n  loss softmax_cross_entropy(dense(x, 3, partition = sideways), y)\n",
       "partition must be batch, feature, none"},
      {"  x, y = input(d)\n  loss softmax_cross_entropy(dense(x, 3, partition = auto), y)\n",
       "auto is chosen for a whole net"},
      {"  x, y = input(d)\n  loss softmax_cross_entropy(dense(x, 3), y, partition = feature)\n",
       "cannot split by feature: each row needs all its scores"},
  };
  for (int i = 0; i < 3; i++) {
    char *msgs, text[8192];
    snprintf(text, sizeof text, "%scluster(workers_per_group = 2)\n", source(bad[i][0], NULL));
    SngPlan *p = compile(text, &msgs, NULL);
    cr_expect_null(p, "%s", bad[i][0]);
    cr_expect_not_null(strstr(msgs, bad[i][1]), "%s: %s", bad[i][0], msgs);
    free(msgs);
    sng_plan_free(p);
  }
}

Test(compile, identical_kernels_are_compiled_once) {
  char *msgs;
  SngPlan *p = compile(source("  x, y = input(d)\n  h = relu(dense(relu(dense(x, 32)), 16))\n"
                              "  loss softmax_cross_entropy(dense(h, 3), y)\n", NULL), &msgs, NULL);
  cr_assert_not_null(p, "%s", msgs);
  int n = 0, uses = 0;
  for (int i = 0; i < p->nkernels; i++) n += !strcmp(p->kernels[i].members, "bias_add+relu");
  for (int i = 0; i < p->graphs[0].nops; i++) uses += !strcmp(p->graphs[0].ops[i].name, "bias_add+relu");
  cr_expect_eq(n, 1, "one kernel for both layers' bias_add+relu");
  cr_expect_eq(uses, 2, "called by both layers");
  sng_plan_free(p);
  free(msgs);
}

Test(compile, unused_tensors_are_dropped) {
  char *msgs;
  SngPlan *p = compile(source("  x, y = input(d)\n  unused = relu(dense(x, 7))\n"
                              "  loss softmax_cross_entropy(dense(x, 3), y)\n", NULL), &msgs, NULL);
  cr_assert_not_null(p, "%s", msgs);
  cr_expect_eq(p->nparams, 2, "only the used dense layer's weight and bias");
  cr_expect_str_eq(p->params[0].name, "dense2.w");
  sng_plan_free(p);
  free(msgs);
}

Test(compile, one_tensor_to_two_names) {
  expect_error("  x, y = input(d)\n  a, b = x\n  loss softmax_cross_entropy(dense(x, 3), y)\n", NULL,
               "one tensor cannot be assigned to 2 names");
}

Test(compile, data_paths_are_relative_to_the_sng_file) {
  char path[512], want[512];
  snprintf(path, sizeof path, "%s/m.sng", dir);
  FILE *f = fopen(path, "w");
  cr_assert_not_null(f);
  fprintf(f, "data d {\n  dir = \".\"\n  train = idx(\"train-images.gz\", \"train-labels.gz\")\n}\n"
             "net m {\n%s}\ntrain m with bp, sgd {\n}\n", mlp);
  fclose(f);
  cr_assert_eq(chdir("/"), 0);
  SngDiag *d = sng_diag_new(stderr, 10);
  SngPlan *p = sng_compile_file(path, d, NULL);
  sng_diag_free(d);
  cr_assert_not_null(p);
  snprintf(want, sizeof want, "%s/train-images.gz", dir);
  cr_expect_str_eq(p->data.train[0], want, "stored absolute");
  sng_plan_free(p);
}
