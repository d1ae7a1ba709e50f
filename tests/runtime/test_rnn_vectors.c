/* test_rnn_vectors.c - gru() and lstm() agree with PyTorch 1.13's GRUCell and LSTMCell.
 *
 * Each net of tests/vectors/make_rnn_vectors.py is compiled from .sng text, given the
 * parameters PyTorch had, run forward and backward once, and compared, to 1e-4 relative
 * (||a - b||_inf / ||b||_inf per tensor), with PyTorch's forward values, per-row loss and
 * gradients.  The batch's features are the identity, so the gradients of the dense layers
 * that make the cell's input and states are the gradients of the input and states
 * themselves (see the script).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sng_exec.h"
#include "sng_lower.h"
#include "testutil.h"
#include "tmpdir.h"

enum { B = 5, MAXV = 64, MAXT = 64 };

typedef struct Vec { char name[64]; int n; double v[MAXV]; } Vec;
typedef struct Vectors { Vec t[MAXT]; int n; } Vectors;

static void load(const char *file, Vectors *vs) {
  char path[512], name[64];
  snprintf(path, sizeof path, "%s/tests/vectors/%s", SNG_SOURCE_DIR, file);
  FILE *f = fopen(path, "r");
  cr_assert_not_null(f, "cannot open %s", path);
  vs->n = 0;
  int c;
  while ((c = fgetc(f)) != EOF) {
    if (c == '#' || c == '\n') { /* a comment line */
      while (c != '\n' && c != EOF) c = fgetc(f);
      continue;
    }
    ungetc(c, f);
    Vec *v = &vs->t[vs->n];
    cr_assert_lt(vs->n, MAXT);
    cr_assert_eq(fscanf(f, "%63s %d", name, &v->n), 2, "%s: bad line", path);
    cr_assert(v->n > 0 && v->n <= MAXV, "%s: %s has %d values", path, name, v->n);
    snprintf(v->name, sizeof v->name, "%s", name);
    for (int i = 0; i < v->n; i++) cr_assert_eq(fscanf(f, "%lf", &v->v[i]), 1, "%s: %s: value %d", path, name, i);
    vs->n++;
  }
  fclose(f);
}

static const Vec *find(const Vectors *vs, const char *kind, const char *name) {
  char key[80];
  snprintf(key, sizeof key, "%s%s", kind, name);
  for (int i = 0; i < vs->n; i++)
    if (!strcmp(vs->t[i].name, key)) return &vs->t[i];
  cr_assert_fail("no %s in the vectors", key);
  return NULL;
}

static double rel(const float *a, const Vec *b) {
  double d = 0, m = 1e-12;
  for (int i = 0; i < b->n; i++) {
    d = fmax(d, fabs((double)a[i] - b->v[i]));
    m = fmax(m, fabs(b->v[i]));
  }
  return d / m;
}

static int64_t numel(int rank, const int64_t *dims) {
  int64_t n = 1;
  for (int j = 0; j < rank; j++) n *= dims[j];
  return n;
}

/* Compiles body (after `x, y = input(d)`; its loss is on l = dense(head, 3)), runs one step
 * with the vectors' parameters and compares; outs: the forward tensors to check. */
static void agree(const char *file, const char *body, const char *head, const char *const *outs, int nouts) {
  char dir[64], text[2048], err[512];
  tu_tmpdir(dir, sizeof dir, "rnn");
  cr_assert_eq(write_synthetic_idx_rc(dir, "train", 20, 1, B, 3, 1), 0);
  snprintf(text, sizeof text,
           "data d {\n  dir = \"%s\"\n  train = idx(\"train-images.gz\", \"train-labels.gz\")\n  batch = %d\n}\n"
           "net m {\n  x, y = input(d)\n  %s\n  l = dense(%s, 3)\n  loss softmax_cross_entropy(l, y)\n}\n"
           "updater sgd(lr = 0.05)\ntrain m with bp, sgd { steps = 1 }\n",
           dir, B, body, head);
  SngDiag *d = sng_diag_new(stderr, 20);
  SngPlan *p = sng_compile_string("rnn.sng", text, d, NULL);
  sng_diag_free(d);
  cr_assert_not_null(p, "compile failed:\n%s", text);
  Vectors *vs = malloc(sizeof *vs);
  load(file, vs);

  float **values = calloc((size_t)p->nparams, sizeof(float *));
  for (int i = 0; i < p->nparams; i++) {
    const Vec *v = find(vs, "param:", p->params[i].name);
    cr_assert_eq(numel(p->params[i].rank, p->params[i].dims), v->n, "%s: size", p->params[i].name);
    values[i] = sng_alloc_aligned((size_t)v->n * 4);
    for (int k = 0; k < v->n; k++) values[i][k] = (float)v->v[k];
  }
  SngJit *jit = sng_jit_new(err, sizeof err);
  cr_assert_not_null(jit, "%s", err);
  SngExec *e = sng_exec_new(p, 0, jit, values, err, sizeof err);
  cr_assert_not_null(e, "%s", err);
  const SngPlanGraph *g = &p->graphs[0];
  const Vec *labels = find(vs, "labels", "");
  for (int t = 0; t < g->ntensors; t++) { /* features: the identity; labels: PyTorch's */
    const SngPlanTensor *x = &g->tensors[t];
    if (x->kind != SNG_TENSOR_INPUT) continue;
    float *v = sng_exec_tensor_at(e, t);
    for (int64_t k = 0; k < numel(x->rank, x->dims); k++)
      v[k] = x->param == 0 ? (float)(k / B == k % B) : (float)labels->v[k];
  }
  sng_exec_run(e, SNG_EXEC_TEST, NULL, NULL); /* forward only: the backward pass reuses their memory */
  double worst = 0;
  for (int i = 0; i < nouts; i++) {
    float *t = sng_exec_tensor(e, outs[i]);
    cr_assert_not_null(t, "%s: no tensor %s in the plan", file, outs[i]);
    double r = rel(t, find(vs, "out:", outs[i]));
    cr_expect_leq(r, 1e-4, "%s: %s differs by %.3g (relative)", file, outs[i], r);
    worst = fmax(worst, r);
  }
  sng_exec_run(e, SNG_EXEC_TRAIN, NULL, NULL);
  double r = rel(sng_exec_tensor_at(e, g->loss), find(vs, "loss", ""));
  cr_expect_leq(r, 1e-4, "%s: the per-row loss differs by %.3g (relative)", file, r);
  worst = fmax(worst, r);
  int checked = 0;
  for (int t = 0; t < g->ntensors; t++) {
    const SngPlanTensor *gt = &g->tensors[t];
    if (gt->kind != SNG_TENSOR_GRAD) continue;
    const char *name = p->params[gt->param].name;
    r = rel(sng_exec_tensor_at(e, t), find(vs, "grad:", name));
    cr_expect_leq(r, 1e-4, "%s: the gradient of %s differs by %.3g (relative)", file, name, r);
    worst = fmax(worst, r);
    checked++;
  }
  cr_expect_eq(checked, p->nparams, "%s: every parameter has a gradient", file);
  cr_log_info("%s: %d gradients, worst relative difference %.3g", file, checked, worst);
  printf("%s: %d gradients and %d outputs agree with PyTorch, worst relative difference %.3g\n", file, checked,
         nouts, worst);

  sng_exec_free(e);
  sng_jit_free(jit);
  for (int i = 0; i < p->nparams; i++) free(values[i]);
  free(values);
  free(vs);
  sng_plan_free(p);
  tu_rmdir(dir);
}

Test(rnn_vectors, gru_matches_pytorch_grucell) {
  static const char *const outs[] = {"h1"};
  agree("gru.txt", "xi = dense(x, 7, bias = false)\n  h0 = dense(x, 3, bias = false)\n  h1 = gru(xi, h0, 3)", "h1",
        outs, 1);
}

static const char *const lstm_body =
    "xi = dense(x, 7, bias = false)\n  h0 = dense(x, 3, bias = false)\n  c0 = dense(x, 3, bias = false)\n"
    "  h1, c1 = lstm(xi, h0, c0, 3)";

Test(rnn_vectors, lstm_h_matches_pytorch_lstmcell) {
  static const char *const outs[] = {"h1"};
  agree("lstm_h.txt", lstm_body, "h1", outs, 1);
}

Test(rnn_vectors, lstm_c_matches_pytorch_lstmcell) {
  static const char *const outs[] = {"c1"};
  agree("lstm_c.txt", lstm_body, "c1", outs, 1);
}
