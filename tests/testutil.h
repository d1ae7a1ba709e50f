/* testutil.h - helpers shared by the test programs: synthetic idx data sets.
 *
 * write_synthetic_idx(dir, prefix, n, side, classes, seed) writes
 * dir/prefix-images.gz (n images of side x side bytes) and dir/prefix-labels.gz.  Each class
 * has its own random prototype image; a sample is its class's prototype plus noise, so a
 * small net learns it in a few hundred steps.
 *
 * The temporary directory such a set is written into: tu_tmpdir and tu_rmdir in tmpdir.h
 * (apart, since they assert with Criterion and mkdata.c includes this header too).
 */
#ifndef SNG_TESTUTIL_H
#define SNG_TESTUTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <zlib.h>

static inline void tu_be32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16), p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

static inline uint32_t tu_rand(uint64_t *s) {
  *s = *s * 6364136223846793005ull + 1442695040888963407ull;
  return (uint32_t)(*s >> 33);
}

/* The same with images of rows x cols (idx allows any). */
static inline int write_synthetic_idx_rc(const char *dir, const char *prefix, int n, int rows, int cols, int classes,
                                         uint64_t seed) {
  char path[4096];
  int dim = rows * cols;
  unsigned char *proto = malloc((size_t)(classes * dim)), *img = malloc((size_t)dim), *lab = malloc((size_t)n);
  uint64_t s = 12345; /* the prototypes are the same for every prefix: train and test agree */
  for (int i = 0; i < classes * dim; i++) proto[i] = (unsigned char)(tu_rand(&s) % 200);
  s = seed;
  snprintf(path, sizeof path, "%s/%s-images.gz", dir, prefix);
  gzFile fi = gzopen(path, "wb");
  snprintf(path, sizeof path, "%s/%s-labels.gz", dir, prefix);
  gzFile fl = gzopen(path, "wb");
  if (!fi || !fl) return -1;
  unsigned char h[16];
  tu_be32(h, 0x803), tu_be32(h + 4, (uint32_t)n), tu_be32(h + 8, (uint32_t)rows), tu_be32(h + 12, (uint32_t)cols);
  gzwrite(fi, h, 16);
  tu_be32(h, 0x801), tu_be32(h + 4, (uint32_t)n);
  gzwrite(fl, h, 8);
  for (int k = 0; k < n; k++) {
    int c = (int)(tu_rand(&s) % (uint32_t)classes);
    lab[k] = (unsigned char)c;
    for (int i = 0; i < dim; i++) img[i] = (unsigned char)(proto[c * dim + i] + tu_rand(&s) % 56);
    gzwrite(fi, img, (unsigned)dim);
  }
  gzwrite(fl, lab, (unsigned)n);
  gzclose(fi), gzclose(fl);
  free(proto), free(img), free(lab);
  return 0;
}

static inline int write_synthetic_idx(const char *dir, const char *prefix, int n, int side, int classes, uint64_t seed) {
  return write_synthetic_idx_rc(dir, prefix, n, side, side, classes, seed);
}

#endif
