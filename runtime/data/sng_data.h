/* sng_data.h - training data: idx files (MNIST, Fashion-MNIST) and batches over them.
 *
 * Example usage:
 *   SngDataset tr;
 *   char err[512];
 *   if (sng_data_load_idx("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
 *                         &tr, err, sizeof err)) die(err);     // gz or plain files
 *   sng_data_scale(&tr, 1.0 / 255);
 *   double mean, std; sng_data_stats(&tr, &mean, &std);
 *   sng_data_standardize(&tr, mean, std);           // the test set takes the same mean/std
 *   SngBatcher b; sng_batcher_init(&b, &tr, 64, 1, seed);
 *   for (...) sng_batcher_next(&b, x, y);           // x: 64*tr.dim floats, y: 64 labels
 *   sng_batcher_free(&b); sng_data_free(&tr);
 *
 * Batches wrap around the data like SINGA's record stores: a batch that runs off the end of
 * an epoch is completed from the start of the next one.  The permutation of epoch e depends
 * only on (seed, e), so a run resumed with sng_batcher_seek from a checkpoint's epoch and pos
 * sees exactly the batches the uninterrupted run would have seen.
 */
#ifndef SNG_DATA_H
#define SNG_DATA_H

#include "sng_core.h"

typedef struct SngDataset {
  int64_t n;          /* samples */
  int64_t dim;        /* floats per sample: the product of shape[] */
  int64_t shape[3];   /* per-sample shape, e.g. 28,28,0 (unused dims 0) */
  float *x;           /* n*dim floats, 64-byte aligned (sng_alloc_aligned) */
  float *y;           /* n labels as floats */
  int32_t classes;    /* max label + 1 */
} SngDataset;

/* Loads an idx image file (magic 0x00000803: unsigned bytes, 3 dimensions; 2 or 4 are taken
 * too) and an idx label file (0x00000801).  Either may be gzip-compressed.  Returns 0, or
 * SNG_EIO/SNG_EFORMAT with a message naming the file in err; out is then left zeroed. */
int sng_data_load_idx(const char *images, const char *labels, SngDataset *out, char *err,
                      size_t errlen);
void sng_data_free(SngDataset *d);

/* What the compiler needs of an idx pair without reading the images: the per-sample shape
 * from the images' header, and the labels (count, classes = max label + 1).  The same checks
 * and messages as sng_data_load_idx, so a file is judged alike at compile and at run time. */
typedef struct SngIdxProbe {
  int64_t n;          /* samples */
  int ndims;          /* per-sample dimensions: 1 to 3 (an idx file of 2 to 4) */
  int64_t dims[3];    /* e.g. 28, 28 */
  int32_t classes;
} SngIdxProbe;
int sng_data_probe_idx(const char *images, const char *labels, SngIdxProbe *out, char *err,
                       size_t errlen);

void sng_data_scale(SngDataset *d, double scale);                     /* x *= scale */
/* Mean and population std over all values, accumulated in double. */
void sng_data_stats(const SngDataset *d, double *mean, double *std);
void sng_data_standardize(SngDataset *d, double mean, double std);    /* (x - mean) / std; std 0: 1 */

/* Cyclic batches over a per-epoch permutation. */
typedef struct SngBatcher {
  const SngDataset *d;
  int64_t batch;      /* rows per batch */
  int shuffle;        /* 0: rows in file order every epoch */
  uint64_t seed;
  int64_t *perm;      /* this epoch's order of the n rows */
  int64_t epoch;      /* epochs started before the current one (0 in the first) */
  int64_t pos;        /* next index into perm */
  SngRng rng;         /* the stream that shuffled this epoch, seeded from (seed, epoch) */
} SngBatcher;

/* d must outlive b and hold at least one row; batch > 0. */
void sng_batcher_init(SngBatcher *b, const SngDataset *d, int64_t batch, int shuffle,
                      uint64_t seed);
/* Copies the next batch rows into x (batch*dim) and y (batch).  Batches run through the data
 * in order of a permutation (Fisher-Yates with SngRng, reshuffled at each epoch when shuffle),
 * and continue into the next epoch when the data runs out (a batch may straddle two epochs),
 * like SINGA's stores wrapping around. */
void sng_batcher_next(SngBatcher *b, float *x, float *y);
/* Puts the batcher where a run stood after epoch/pos (as saved from b->epoch and b->pos). */
void sng_batcher_seek(SngBatcher *b, int64_t epoch, int64_t pos);
void sng_batcher_free(SngBatcher *b);

/* Sequential batches for evaluation, no shuffle: fills up to batch rows starting at row start;
 * returns how many are real (the rest repeat row 0 so the buffer is defined). */
int64_t sng_data_slice(const SngDataset *d, int64_t start, int64_t batch, float *x, float *y);

#endif
