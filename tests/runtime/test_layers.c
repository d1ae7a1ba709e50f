/* test_layers.c - every built-in layer, proven: one loop over the layer cases (the .def files in cases/).
 *
 *   coverage   every layer of sng_std_layers (but input) has a case, and every op of the op
 *              table that has a gradient rule runs in some case: a new row or layer without
 *              a case fails here
 *   gradients  every parameter's gradient against central differences, on the case's odd
 *              shapes, through the whole stack (compiler, fusion, JIT, C kernels); the loss is
 *              evaluated in training mode, as trained (batch statistics, dropout masks); cases
 *              trained with cd are not a gradient and are checked by test_rbm.c instead
 *   partitions every split the case names, over 2 and 3 workers, gives the whole net's loss
 *              and gradients to 1e-4 relative after one step through the group runtime
 * Set SNG_LAYER_CASE=name to run only the cases of one layer.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "sng_exec.h"
#include "sng_lower.h"
#include "sng_std.h"
#include "fdcheck.h"
#include "compileutil.h"
#include "testutil.h"
#include "tmpdir.h"

typedef struct LayerCase {
  const char *layer;
  int rows, cols, batch;
  const char *body, *splits;
} LayerCase;

static const LayerCase cases[] = {
#define CASE(layer, rows, cols, batch, body, splits) {layer, rows, cols, batch, body, splits},
#include "cases/base.def"
#include "cases/cnn.def"
#include "cases/act.def"
#include "cases/norm.def"
#include "cases/rnn.def"
#include "cases/rbm.def"
#undef CASE
};
enum { NCASES = sizeof cases / sizeof cases[0] };

static char root[256];

static void make_dir(void) {
  tu_tmpdir(root, sizeof root, "layers");
}
static void drop_dir(void) {
  tu_rmdir(root);
}

static int selected(const LayerCase *c) {
  const char *only = getenv("SNG_LAYER_CASE");
  return !only || !*only || !strcmp(only, c->layer);
}

/* The case's .sng text: its data (rows x cols images, 3 classes), the body under `partition`
 * over w workers. */
static char *source(const LayerCase *c, const char *part, int w) {
  static char buf[8192];
  char dir[512];
  snprintf(dir, sizeof dir, "%s/%dx%d", root, c->rows, c->cols);
  if (access(dir, F_OK) != 0) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", dir);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(write_synthetic_idx_rc(dir, "train", 60, c->rows, c->cols, 3, 1), 0);
  }
  char alg[64] = "bp";
  const char *cd = strstr(c->body, "# cd"); /* trained with cd(...): the rbm layer's chain is the loss */
  if (cd) snprintf(alg, sizeof alg, "%.*s", (int)strcspn(cd + 2, "\n"), cd + 2);
  int own_loss = cd || strstr(c->body, "loss ") != NULL;
  snprintf(buf, sizeof buf,
           "data d {\n  dir = \"%s\"\n  train = idx(\"train-images.gz\", \"train-labels.gz\")\n  batch = %d\n"
           "  scale = 1/255\n}\n"
           "net m(partition = %s) {\n  x, y = input(d)\n  %s\n%s}\n"
           "updater sgd(lr = 0.05)\n"
           "cluster(workers_per_group = %d, servers_per_group = 1)\n"
           "train m with %s, sgd { steps = 1 }\n",
           dir, c->batch, part, c->body,
           own_loss ? "" : "  l = dense(out, 3)\n  loss softmax_cross_entropy(l, y)\n  metric accuracy(l, y)\n", w, alg);
  return buf;
}

static SngPlan *compile(const LayerCase *c, const char *part, int w) {
  char *msgs = NULL, *text = source(c, part, w);
  SngPlan *p = tu_compile("case.sng", text, NULL, &msgs, NULL);
  cr_assert_not_null(p, "case %s: compile failed:\n%s\n%s", c->layer, msgs, text);
  free(msgs);
  return p;
}

static int64_t numel(int rank, const int64_t *dims) {
  int64_t n = 1;
  for (int j = 0; j < rank; j++) n *= dims[j];
  return n;
}

/* ---------------------------------------------------------------- coverage */

static void mark_ops(const SngPlan *p, int *seen) {
  for (int k = 0; k < p->ngraphs; k++)
    for (int o = 0; o < p->graphs[k].nops; o++) {
      const SngPlanOp *op = &p->graphs[k].ops[o];
      seen[op->op] = 1;
      if (op->op != SNG_OP_KERNEL) continue;
      const char *m = p->kernels[op->kernel].members; /* "bias_add+relu": the fused ops */
      while (*m) {
        size_t len = strcspn(m, "+");
        for (int i = 0; i < SNG_OP__COUNT; i++)
          if (strlen(sng_op_info[i].name) == len && !strncasecmp(sng_op_info[i].name, m, len)) seen[i] = 1;
        m += len + (m[len] == '+');
      }
    }
}

Test(layers, every_layer_and_every_differentiable_op_has_a_case, .init = make_dir, .fini = drop_dir, .timeout = 300) {
  for (int i = 0; i < sng_std_nlayers; i++) {
    if (!strcmp(sng_std_layers[i].name, "input")) continue;
    int found = 0;
    for (int k = 0; k < NCASES; k++) found |= !strcmp(cases[k].layer, sng_std_layers[i].name);
    cr_expect(found, "layer %s has no case in tests/runtime/cases/", sng_std_layers[i].name);
  }
  for (int k = 0; k < NCASES; k++)
    cr_expect_not_null(sng_std_layer_find(cases[k].layer), "a case names layer %s, which is not in sng_std_layers",
                       cases[k].layer);
  int seen[SNG_OP__COUNT] = {0};
  /* ops no layer makes (yet): the IR builders of updaters and tests make them, and
   * tests/runtime/test_grad.c (grad::elementwise_arithmetic) checks their gradients */
  seen[SNG_OP_SUB] = seen[SNG_OP_MUL] = 1;
  for (int k = 0; k < NCASES; k++) {
    SngPlan *p = compile(&cases[k], "none", 1);
    mark_ops(p, seen);
    sng_plan_free(p);
  }
  for (int i = 0; i < SNG_OP__COUNT; i++)
    if (strcmp(sng_op_info[i].grad, "none") && !sng_op_has(i, OPF_CONN))
      cr_expect(seen[i], "op %s has a gradient rule (%s) but no layer case runs it", sng_op_info[i].name,
                sng_op_info[i].grad);
}

/* ---------------------------------------------------------------- gradients */

/* central differences on up to 12 elements of every parameter, the loss in training mode;
 * returns the elements checked */
static int check_case(const LayerCase *c) {
  FdFixture f;
  fd_setup(&f, compile(c, "none", 1));
  char what[80];
  snprintf(what, sizeof what, "case %s", c->layer);
  int checked = fd_check(&f, SNG_EXEC_TRAIN, what);
  fd_teardown(&f);
  return checked;
}

Test(layers, gradients_match_finite_differences, .init = make_dir, .fini = drop_dir, .timeout = 600) {
  int ncases = 0, elems = 0;
  for (int k = 0; k < NCASES; k++) {
    if (!selected(&cases[k]) || strstr(cases[k].body, "# cd")) continue; /* cd follows no gradient: test_rbm.c */
    int n = check_case(&cases[k]);
    cr_expect_gt(n, 0, "case %s: no gradient was checked", cases[k].layer);
    ncases++, elems += n;
  }
  fprintf(stderr, "layers: %d cases, %d parameter elements checked against central differences\n", ncases, elems);
}

/* ---------------------------------------------------------------- partitions */

/* ||a - b||_inf / ||b||_inf */
static double rel(const float *a, const float *b, int64_t n) {
  double d = 0, m = 1e-12;
  for (int64_t i = 0; i < n; i++) {
    d = fmax(d, fabs((double)a[i] - b[i]));
    m = fmax(m, fabs((double)b[i]));
  }
  return d / m;
}

static double worst; /* the largest relative difference seen, for the summary */

static void same_step(const LayerCase *c, const char *part, int w) {
  int64_t b = c->batch, sample = (int64_t)c->rows * c->cols;
  float *x = malloc((size_t)(b * sample) * 4), *y = malloc((size_t)b * 4);
  SngRng r;
  sng_rng_seed(&r, 11);
  for (int64_t i = 0; i < b * sample; i++) x[i] = (float)(sng_rng_uniform(&r) * 2 - 1);
  for (int64_t i = 0; i < b; i++) y[i] = (float)sng_rng_below(&r, 3);
  char err[512];
  SngPlan *p1 = compile(c, "none", 1), *pw = compile(c, part, w);
  cr_assert_eq(p1->nparams, pw->nparams);
  SngGroup *g1 = sng_group_new(p1, err, sizeof err);
  cr_assert_not_null(g1, "case %s: %s", c->layer, err);
  SngGroup *gw = sng_group_new(pw, err, sizeof err);
  cr_assert_not_null(gw, "case %s, %s over %d: %s", c->layer, part, w, err);
  double l1 = sng_group_step(g1, x, y), lw = sng_group_step(gw, x, y);
  cr_expect(fabs(lw - l1) <= 1e-4 * fabs(l1) + 1e-7, "case %s, %s over %d workers: loss %.8f, whole net %.8f", c->layer,
            part, w, lw, l1);
  worst = fmax(worst, fabs(lw - l1) / fmax(fabs(l1), 1e-12));
  for (int i = 0; i < p1->nparams; i++) {
    double e = rel(sng_group_grad(gw, i), sng_group_grad(g1, i), numel(p1->params[i].rank, p1->params[i].dims));
    cr_expect(e <= 1e-4, "case %s, %s over %d workers: the gradient of %s differs by %.3g (relative)", c->layer, part,
              w, p1->params[i].name, e);
    worst = fmax(worst, e);
  }
  sng_group_free(g1), sng_group_free(gw);
  sng_plan_free(p1), sng_plan_free(pw);
  free(x), free(y);
}

Test(layers, partitions_match_the_whole_net, .init = make_dir, .fini = drop_dir, .timeout = 600) {
  int runs = 0;
  for (int k = 0; k < NCASES; k++) {
    if (!selected(&cases[k])) continue;
    char splits[64];
    snprintf(splits, sizeof splits, "%s", cases[k].splits);
    for (char *save = NULL, *s = strtok_r(splits, " ", &save); s; s = strtok_r(NULL, " ", &save))
      for (int w = 2; w <= 3; w++) same_step(&cases[k], s, w), runs++;
  }
  fprintf(stderr, "layers: %d partitioned steps against the whole net, largest relative difference %.2g\n", runs, worst);
}
