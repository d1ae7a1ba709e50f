/* test_groups.c - worker groups read batches of their own (runtime/exec/groups.c): group 0
 * exactly the batches one group reads, the others another shuffle, or without shuffle
 * another part of the training set. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "../runtime/exec/groups.h"

enum { N = 40, BATCH = 4 };

static SngDataset dataset(float *x, float *y) {
  for (int i = 0; i < N; i++) x[i] = y[i] = (float)i;
  return (SngDataset){.n = N, .dim = 1, .shape = {1, 0, 0}, .x = x, .y = y, .classes = N};
}

/* the first sample of each of the first 5 batches of group k */
static void firsts(const SngGroups *gs, int k, const SngDataset *d, float *out) {
  SngBatcher b;
  float x[BATCH], y[BATCH];
  sng_groups_batcher(gs, k, &b, d);
  for (int i = 0; i < 5; i++) {
    sng_batcher_next(&b, x, y);
    out[i] = x[0];
  }
  sng_batcher_free(&b);
}

Test(groups, each_group_reads_its_own_batches) {
  float x[N], y[N];
  SngDataset d = dataset(x, y);
  for (int shuffle = 0; shuffle < 2; shuffle++) {
    SngPlan p = {.data = {.batch = BATCH, .shuffle = shuffle}, .train = {.seed = 7}};
    SngGroups gs = {.p = &p, .n = 2};
    float g0[5], g1[5], one[5];
    firsts(&gs, 0, &d, g0);
    firsts(&gs, 1, &d, g1);
    SngBatcher b; /* what one group reads (train.c before the groups) */
    float bx[BATCH], by[BATCH];
    sng_batcher_init(&b, &d, BATCH, shuffle, 7);
    for (int i = 0; i < 5; i++) sng_batcher_next(&b, bx, by), one[i] = bx[0];
    sng_batcher_free(&b);
    cr_expect_arr_eq(g0, one, sizeof g0, "group 0 reads what one group read (shuffle %d)", shuffle);
    cr_expect(memcmp(g0, g1, sizeof g0), "group 1 reads other batches (shuffle %d)", shuffle);
    if (!shuffle) cr_expect_eq(g1[0], N / 2, "without shuffle, group 1 of 2 starts half way");
  }
}
