/* batch.c - preprocessing and batches over a loaded dataset.
 *
 * The batcher walks a permutation of the rows and wraps into the next epoch mid-batch, so
 * every batch is full and every sample is seen exactly once per epoch (SINGA's stores wrap
 * around the same way).  Each epoch's permutation is drawn afresh from the identity with an
 * rng seeded from (seed, epoch) rather than by reshuffling the previous one: then the state
 * to checkpoint is just (epoch, pos), and sng_batcher_seek can rebuild it without replaying
 * every earlier epoch.
 */
#include "sng_data.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- preprocessing ---- */

void sng_data_scale(SngDataset *d, double scale) {
  float s = (float)scale;
  size_t n = (size_t)(d->n * d->dim);
  for (size_t i = 0; i < n; i++) d->x[i] *= s;
}

/* Two passes in double: a one-pass sum of squares loses the std of data with a large mean. */
void sng_data_stats(const SngDataset *d, double *mean, double *std) {
  size_t n = (size_t)(d->n * d->dim);
  if (!n) {
    *mean = 0, *std = 0;
    return;
  }
  double s = 0, v = 0;
  for (size_t i = 0; i < n; i++) s += d->x[i];
  double m = s / (double)n;
  for (size_t i = 0; i < n; i++) {
    double e = d->x[i] - m;
    v += e * e;
  }
  *mean = m;
  *std = sqrt(v / (double)n);
}

void sng_data_standardize(SngDataset *d, double mean, double std) {
  /* a constant input has std 0: centring it is all that makes sense */
  float m = (float)mean, inv = (float)(std > 0 ? 1.0 / std : 1.0);
  size_t n = (size_t)(d->n * d->dim);
  for (size_t i = 0; i < n; i++) d->x[i] = (d->x[i] - m) * inv;
}

/* ---- batches ---- */

/* splitmix64's finalizer: neighbouring epochs get unrelated seeds */
static uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static void fill_perm(SngBatcher *b) {
  int64_t n = b->d->n;
  for (int64_t i = 0; i < n; i++) b->perm[i] = i;
  if (!b->shuffle) return;
  sng_rng_seed(&b->rng, b->seed ^ mix((uint64_t)b->epoch + 1));
  for (int64_t i = n - 1; i > 0; i--) {   /* Fisher-Yates */
    int64_t j = (int64_t)sng_rng_below(&b->rng, (uint64_t)i + 1);
    int64_t t = b->perm[i];
    b->perm[i] = b->perm[j];
    b->perm[j] = t;
  }
}

void sng_batcher_init(SngBatcher *b, const SngDataset *d, int64_t batch, int shuffle, uint64_t seed) {
  SNG_ASSERT(d->n > 0 && batch > 0);
  *b = (SngBatcher){.d = d, .batch = batch, .shuffle = shuffle, .seed = seed};
  b->perm = sng_alloc((size_t)d->n * sizeof *b->perm);
  fill_perm(b);
}

void sng_batcher_seek(SngBatcher *b, int64_t epoch, int64_t pos) {
  SNG_ASSERT(epoch >= 0 && pos >= 0 && pos <= b->d->n);
  b->epoch = epoch;
  fill_perm(b);
  b->pos = pos;
}

void sng_batcher_next(SngBatcher *b, float *x, float *y) {
  const SngDataset *d = b->d;
  size_t dim = (size_t)d->dim;
  for (int64_t i = 0; i < b->batch; i++) {
    if (b->pos == d->n) {   /* epoch done: the batch goes on into the next one */
      b->epoch++;
      b->pos = 0;
      if (b->shuffle) fill_perm(b);
    }
    int64_t r = b->perm[b->pos++];
    memcpy(x + (size_t)i * dim, d->x + (size_t)r * dim, dim * sizeof *x);
    y[i] = d->y[r];
  }
}

void sng_batcher_free(SngBatcher *b) {
  free(b->perm);
  *b = (SngBatcher){0};
}

int64_t sng_data_slice(const SngDataset *d, int64_t start, int64_t batch, float *x, float *y) {
  SNG_ASSERT(start >= 0 && batch >= 0 && d->n > 0);
  int64_t real = start < d->n ? d->n - start : 0;
  if (real > batch) real = batch;
  size_t dim = (size_t)d->dim;
  if (real > 0) {
    memcpy(x, d->x + (size_t)start * dim, (size_t)real * dim * sizeof *x);
    memcpy(y, d->y + start, (size_t)real * sizeof *y);
  }
  for (int64_t i = real; i < batch; i++) {   /* padding: defined values, ignored by the caller */
    memcpy(x + (size_t)i * dim, d->x, dim * sizeof *x);
    y[i] = d->y[0];
  }
  return real;
}
