/* test_dropout.c - dropout's mask: the ratio it drops, the scale of what it keeps, the
 * identity in tests, and the same draw for the same (seed, step, element of the whole
 * tensor) whatever piece a worker holds. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../runtime/exec/internal.h"

enum { N = 40, F = 250 };

/* y = dropout(x) over the box [r0, r0 + rows) x [c0, c0 + cols) of the whole [N, F] tensor */
static void run(float *y, const float *x, int64_t r0, int64_t rows, int64_t c0, int64_t cols, double ratio, int train,
                uint64_t seed, int64_t step) {
  SngPlanOp op = {0};
  op.nin = op.nout = 1;
  op.iattr[0] = r0, op.iattr[1] = c0, op.iattr[4] = F, op.iattr[7] = 1;
  op.fattr[0] = ratio, op.fattr[1] = 12345;
  SngPlanTensor t = {0};
  t.rank = 2, t.dims[0] = rows, t.dims[1] = cols;
  const SngPlanTensor *tin[1] = {&t};
  float *in[1] = {(float *)x};
  sng_rt_ctx = (SngRtCtx){train, seed, step};
  sng_rt_dropout(&op, in, tin, y, &t);
}

static float xs[N * F], whole[N * F], piece[N * F], other[N * F];

Test(dropout, drops_the_ratio_and_scales_the_rest) {
  for (int i = 0; i < N * F; i++) xs[i] = 1;
  run(whole, xs, 0, N, 0, F, 0.3, 1, 42, 7);
  int zeros = 0;
  for (int i = 0; i < N * F; i++) {
    if (whole[i] == 0) zeros++;
    else cr_expect_float_eq(whole[i], 1 / 0.7f, 1e-6);
  }
  cr_expect(fabs(zeros / (double)(N * F) - 0.3) < 0.02, "dropped %d of %d", zeros, N * F);
  run(other, xs, 0, N, 0, F, 0.3, 0, 42, 7);
  cr_expect_arr_eq(other, xs, sizeof xs, "tests: the identity");
  run(other, xs, 0, N, 0, F, 0.3, 1, 42, 8);
  cr_expect(memcmp(other, whole, sizeof whole), "another step, another mask");
  run(other, xs, 0, N, 0, F, 0.3, 1, 43, 7);
  cr_expect(memcmp(other, whole, sizeof whole), "another seed, another mask");
  run(other, xs, 0, N, 0, F, 0.3, 1, 42, 7);
  cr_expect_arr_eq(other, whole, sizeof whole, "the same step again: the same mask");
}

Test(dropout, a_piece_draws_what_the_whole_draws_there) {
  for (int i = 0; i < N * F; i++) xs[i] = (float)i;
  run(whole, xs, 0, N, 0, F, 0.5, 1, 9, 3);
  int64_t r0 = 13, rows = 11, c0 = 101, cols = 77; /* a box split by rows and by features */
  for (int64_t r = 0; r < rows; r++)
    for (int64_t c = 0; c < cols; c++) xs[r * cols + c] = (float)((r0 + r) * F + c0 + c);
  run(piece, xs, r0, rows, c0, cols, 0.5, 1, 9, 3);
  for (int64_t r = 0; r < rows; r++)
    for (int64_t c = 0; c < cols; c++)
      cr_assert_float_eq(piece[r * cols + c], whole[(r0 + r) * F + c0 + c], 0, "at [%lld, %lld]", (long long)(r0 + r),
                         (long long)(c0 + c));
}
