/* test_shape.c - shape inference on IR built by hand: every rule, and its errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sng_pass.h"

static SngLoc at(int line, int col) { return (SngLoc){"s.sng", line, col}; }

/* Runs the shape pass; returns its status and the diagnostics in *msgs. */
static int run_shape(SngIrGraph *g, char **msgs) {
  size_t n;
  FILE *f = open_memstream(msgs, &n);
  SngDiag *d = sng_diag_new(f, 20);
  int rc = sng_pass_shape(g, d);
  sng_diag_free(d);
  fclose(f);
  return rc;
}

Test(shape, dense_weight_fan_in_and_init_are_inferred) {
  SngIrGraph *g = sng_ir_graph_new("t");
  SngIrNode *x = sng_ir_input(g, at(1, 1), "x", sng_shape2(8, 5), 0);
  SngIrNode *w = sng_ir_param(g, at(2, 1), "w", sng_shape2(0, 3)); /* fan-in left to infer */
  SngIrNode *b = sng_ir_param(g, at(2, 1), "b", sng_shape1(3));
  SngIrNode *y = sng_ir_op2(g, SNG_OP_BIAS_ADD, at(2, 1), sng_ir_op2(g, SNG_OP_MATMUL, at(2, 1), x, w), b);
  SngIrNode *r = sng_ir_op1(g, SNG_OP_RELU, at(3, 1), y);
  char *msgs;
  cr_assert_eq(run_shape(g, &msgs), 0, "%s", msgs);
  cr_expect_eq(w->shape.d[0], 5);
  cr_expect(sng_shape_eq(r->shape, sng_shape2(8, 3)));
  cr_expect_eq(w->init.kind, SNG_INIT_UNIFORM);
  cr_expect_float_eq(w->init.b, 1 / sqrt(5.0), 1e-12);
  cr_expect_float_eq(b->init.b, 1 / sqrt(5.0), 1e-12, "the bias takes its layer's fan-in");
  free(msgs);
  sng_ir_graph_free(g);
}

Test(shape, transposed_products) {
  SngIrGraph *g = sng_ir_graph_new("t");
  SngIrNode *a = sng_ir_input(g, at(1, 1), "a", sng_shape2(4, 6), 0);
  SngIrNode *b = sng_ir_input(g, at(1, 1), "b", sng_shape2(4, 7), 0);
  SngIrNode *c = sng_ir_input(g, at(1, 1), "c", sng_shape2(9, 6), 0);
  SngIrNode *ta = sng_ir_op2(g, SNG_OP_MATMUL, at(1, 1), a, b); /* a^T b: [6,7] */
  ta->attr.matmul.trans_a = 1;
  SngIrNode *tb = sng_ir_op2(g, SNG_OP_MATMUL, at(1, 1), a, c); /* a c^T: [4,9] */
  tb->attr.matmul.trans_b = 1;
  char *msgs;
  cr_assert_eq(run_shape(g, &msgs), 0, "%s", msgs);
  cr_expect(sng_shape_eq(ta->shape, sng_shape2(6, 7)));
  cr_expect(sng_shape_eq(tb->shape, sng_shape2(4, 9)));
  free(msgs);
  sng_ir_graph_free(g);
}

Test(shape, broadcasting_and_reductions) {
  SngIrGraph *g = sng_ir_graph_new("t");
  SngIrNode *x = sng_ir_input(g, at(1, 1), "x", sng_shape2(4, 6), 0);
  SngIrNode *k = sng_ir_const(g, at(1, 1), 2.0), *s = sng_ir_scalar(g, at(1, 1), "lr", 0);
  SngIrNode *m1 = sng_ir_op2(g, SNG_OP_MUL, at(1, 1), x, k), *m2 = sng_ir_op2(g, SNG_OP_MUL, at(1, 1), s, x);
  SngIrNode *sum = sng_ir_op1(g, SNG_OP_REDUCE_ROWS, at(1, 1), sng_ir_op2(g, SNG_OP_ADD, at(1, 1), m1, m2));
  char *msgs;
  cr_assert_eq(run_shape(g, &msgs), 0, "%s", msgs);
  cr_expect(sng_shape_eq(m1->shape, x->shape));
  cr_expect(sng_shape_eq(m2->shape, x->shape), "a scalar broadcasts from either side");
  cr_expect(sng_shape_eq(sum->shape, sng_shape1(6)));
  free(msgs);
  sng_ir_graph_free(g);
}

Test(shape, every_mismatch_is_reported_with_its_place) {
  SngIrGraph *g = sng_ir_graph_new("t");
  SngIrNode *x = sng_ir_input(g, at(1, 1), "x", sng_shape2(8, 5), 0);
  SngIrNode *w = sng_ir_param(g, at(2, 3), "w", sng_shape2(4, 3));
  sng_ir_op2(g, SNG_OP_MATMUL, at(2, 3), x, w);                         /* 5 vs 4 */
  sng_ir_op2(g, SNG_OP_BIAS_ADD, at(3, 4), x, sng_ir_param(g, at(3, 4), "b", sng_shape1(7)));
  sng_ir_op2(g, SNG_OP_ADD, at(4, 5), x, sng_ir_input(g, at(1, 1), "z", sng_shape2(8, 6), 0));
  char *msgs;
  cr_expect_neq(run_shape(g, &msgs), 0);
  cr_expect_not_null(strstr(msgs, "s.sng:2:3: error: matrix product of [8,5] and [4,3]: inner sizes 5 and 4 differ"),
                     "%s", msgs);
  cr_expect_not_null(strstr(msgs, "s.sng:3:4: error: bias [7] does not match the last dimension of [8,5]"), "%s", msgs);
  cr_expect_not_null(strstr(msgs, "s.sng:4:5: error: ADD of [8,5] and [8,6]: shapes differ"), "%s", msgs);
  free(msgs);
  sng_ir_graph_free(g);
}

Test(shape, a_failed_source_does_not_cascade) {
  SngIrGraph *g = sng_ir_graph_new("t");
  SngIrNode *x = sng_ir_input(g, at(1, 1), "x", sng_shape2(8, 5), 0);
  SngIrNode *bad = sng_ir_op2(g, SNG_OP_MATMUL, at(2, 1), x, sng_ir_param(g, at(2, 1), "w", sng_shape2(4, 3)));
  sng_ir_op1(g, SNG_OP_RELU, at(3, 1), bad);
  char *msgs;
  cr_expect_neq(run_shape(g, &msgs), 0);
  int errors = 0;
  for (char *p = msgs; (p = strstr(p, "error:")); p++) errors++;
  cr_expect_eq(errors, 1, "one error, not one per user:\n%s", msgs);
  free(msgs);
  sng_ir_graph_free(g);
}
