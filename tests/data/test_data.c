/* test_data.c - idx loading (plain and gzip, good and damaged files), preprocessing numbers,
 * and the batcher's guarantees: deterministic per seed, each sample once per epoch, batches
 * straddling epochs, resumable from (epoch, pos).
 */
#include "sng_data.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static char tmpdir[64];

static void mk_tmpdir(void) {
  strcpy(tmpdir, "/tmp/sng_data_test_XXXXXX");
  cr_assert_not_null(mkdtemp(tmpdir));
}

static void rm_tmpdir(void) {
  DIR *d = opendir(tmpdir);
  if (!d) return;
  char path[512];
  for (struct dirent *e; (e = readdir(d));) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    snprintf(path, sizeof path, "%s/%s", tmpdir, e->d_name);
    unlink(path);
  }
  closedir(d);
  rmdir(tmpdir);
}

static const char *tpath(const char *name) {
  static char buf[4][256];
  static int k;
  char *p = buf[k++ % 4];
  snprintf(p, 256, "%s/%s", tmpdir, name);
  return p;
}

static void put_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* Writes an idx file: magic, ndims sizes, then n data bytes; gzipped when gz. */
static void write_idx(const char *path, int gz, uint32_t magic, int ndims, const uint32_t *dims,
                      const uint8_t *data, size_t n) {
  uint8_t h[20];
  put_be32(h, magic);
  for (int i = 0; i < ndims; i++) put_be32(h + 4 + 4 * i, dims[i]);
  size_t hn = 4 + 4 * (size_t)ndims;
  if (gz) {
    gzFile f = gzopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(gzwrite(f, h, (unsigned)hn), (int)hn);
    if (n) cr_assert_eq(gzwrite(f, data, (unsigned)n), (int)n);
    cr_assert_eq(gzclose(f), Z_OK);
  } else {
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(h, 1, hn, f), hn);
    if (n) cr_assert_eq(fwrite(data, 1, n, f), n);
    fclose(f);
  }
}

/* 5 images of 2x3 with pixel (i, k) = 40*i + k, labels i % 3 */
enum { N = 5, ROWS = 2, COLS = 3, DIM = ROWS * COLS };
static uint8_t pixels[N * DIM], labels[N];

static void write_small(int gz_images, int gz_labels) {
  for (int i = 0; i < N * DIM; i++) pixels[i] = (uint8_t)(40 * (i / DIM) + i % DIM);
  for (int i = 0; i < N; i++) labels[i] = (uint8_t)(i % 3);
  write_idx(tpath("img"), gz_images, 0x803, 3, (uint32_t[]){N, ROWS, COLS}, pixels, sizeof pixels);
  write_idx(tpath("lbl"), gz_labels, 0x801, 1, (uint32_t[]){N}, labels, sizeof labels);
}

static void check_small(const SngDataset *d) {
  cr_assert_eq(d->n, N);
  cr_assert_eq(d->dim, DIM);
  cr_assert_eq(d->shape[0], ROWS);
  cr_assert_eq(d->shape[1], COLS);
  cr_assert_eq(d->shape[2], 0);
  cr_assert_eq(d->classes, 3);
  cr_assert_eq((uintptr_t)d->x % 64, 0, "x is 64-byte aligned");
  for (int i = 0; i < N * DIM; i++) cr_assert_eq(d->x[i], (float)pixels[i], "pixel %d", i);
  for (int i = 0; i < N; i++) cr_assert_eq(d->y[i], (float)(i % 3), "label %d", i);
}

/* Loads img/lbl from tmpdir expecting failure; returns the message. */
static const char *load_fails(void) {
  static char err[512];
  SngDataset d;
  memset(&d, 0x5a, sizeof d);
  err[0] = 0;
  cr_assert_neq(sng_data_load_idx(tpath("img"), tpath("lbl"), &d, err, sizeof err), 0);
  cr_assert_null(d.x, "out is left zeroed");
  cr_assert_eq(d.n, 0);
  cr_assert_neq(err[0], 0);
  return err;
}

static void expect_msg(const char *file, const char *rest) {
  char want[512];
  snprintf(want, sizeof want, "%s: %s", tpath(file), rest);
  cr_assert_str_eq(load_fails(), want);
}

/* ---- loading ---- */

Test(data, load_plain_and_gzip, .init = mk_tmpdir, .fini = rm_tmpdir) {
  for (int mode = 0; mode < 4; mode++) {
    write_small(mode & 1, mode >> 1);
    SngDataset d;
    char err[512] = "";
    cr_assert_eq(sng_data_load_idx(tpath("img"), tpath("lbl"), &d, err, sizeof err), 0, "%s", err);
    check_small(&d);
    sng_data_free(&d);
    cr_assert_null(d.x);
  }
}

Test(data, missing_file, .init = mk_tmpdir, .fini = rm_tmpdir) {
  write_small(1, 1);
  unlink(tpath("lbl"));
  expect_msg("lbl", "cannot open: No such file or directory");
  unlink(tpath("img"));
  expect_msg("img", "cannot open: No such file or directory");
}

Test(data, bad_magic, .init = mk_tmpdir, .fini = rm_tmpdir) {
  write_small(1, 0);
  write_idx(tpath("img"), 1, 0x12345678, 0, NULL, pixels, 16);
  expect_msg("img", "not an idx file of unsigned bytes: found magic 0x12345678, expected 0x00000803");
  write_idx(tpath("img"), 0, 0x00000d03, 3, (uint32_t[]){N, ROWS, COLS}, pixels, sizeof pixels);
  expect_msg("img", "not an idx file of unsigned bytes: found magic 0x00000d03, expected 0x00000803");
  write_small(1, 0);
  write_idx(tpath("lbl"), 1, 0x3c21444f, 0, NULL, pixels, 16);   /* "<!DO": an HTML page, gzipped */
  expect_msg("lbl", "not an idx file of unsigned bytes: found magic 0x3c21444f (text \"<!DO...\"), "
                    "expected 0x00000801");
}

/* a directory where a file is wanted: said so, not a read error */
Test(data, directory_instead_of_file, .init = mk_tmpdir, .fini = rm_tmpdir) {
  write_small(1, 1);
  unlink(tpath("img"));
  cr_assert_eq(mkdir(tpath("img"), 0755), 0);
  expect_msg("img", "is a directory, not an idx file");
  rmdir(tpath("img"));
}

/* 2000 gzipped images of noise (so the compressed stream is long) and their labels */
enum { BIG = 2000 };
static void write_big(void) {
  static uint8_t px[BIG * DIM], lb[BIG];
  for (int i = 0; i < BIG * DIM; i++) px[i] = (uint8_t)(i * 2654435761u >> 24);
  memset(lb, 1, sizeof lb);
  write_idx(tpath("img"), 1, 0x803, 3, (uint32_t[]){BIG, ROWS, COLS}, px, BIG * DIM);
  write_idx(tpath("lbl"), 1, 0x801, 1, (uint32_t[]){BIG}, lb, BIG);
}

/* a gzip stream with damaged data (not cut short): said so, with zlib's reason */
Test(data, damaged_gzip, .init = mk_tmpdir, .fini = rm_tmpdir) {
  write_big();
  FILE *f = fopen(tpath("img"), "r+b");
  fseek(f, 40, SEEK_SET);
  for (int i = 0; i < 16; i++) fputc(0xff, f);   /* garbage in the middle of the deflate data */
  fclose(f);
  const char *e = load_fails();
  char want[512];
  snprintf(want, sizeof want, "%s: damaged gzip data (", tpath("img"));
  cr_assert(!strncmp(e, want, strlen(want)) && strstr(e, "): the file is corrupt; fetch it again"), "%s", e);
}

Test(data, wrong_dimensions, .init = mk_tmpdir, .fini = rm_tmpdir) {
  write_small(0, 0);
  /* an image file given as the labels */
  write_idx(tpath("lbl"), 1, 0x803, 3, (uint32_t[]){N, ROWS, COLS}, pixels, sizeof pixels);
  expect_msg("lbl", "idx file has 3 dimensions (magic 0x00000803), expected 1 for labels (0x00000801)");
  write_small(0, 0);
  write_idx(tpath("img"), 0, 0x801, 1, (uint32_t[]){N}, labels, sizeof labels);
  expect_msg("img", "idx file has 1 dimensions (magic 0x00000801), expected 3 for images (0x00000803)");
  write_idx(tpath("img"), 0, 0x803, 3, (uint32_t[]){N, 0, COLS}, NULL, 0);
  expect_msg("img", "idx dimension 1 is 0: the file holds no data");
}

Test(data, truncated, .init = mk_tmpdir, .fini = rm_tmpdir) {
  for (int gz = 0; gz < 2; gz++) {
    write_small(0, 0);
    write_idx(tpath("img"), gz, 0x803, 3, (uint32_t[]){N, ROWS, COLS}, pixels, 3 * DIM + 2);
    expect_msg("img", "truncated: header says 5 images of 2x3, file holds 3");
    write_small(0, 0);
    write_idx(tpath("lbl"), gz, 0x801, 1, (uint32_t[]){N}, labels, 2);
    expect_msg("lbl", "truncated: header says 5 labels, file holds 2");
    write_idx(tpath("img"), gz, 0x803, 1, (uint32_t[]){N}, NULL, 0);   /* magic says 3 sizes */
    expect_msg("img", "truncated: the idx header is cut short");
  }
  write_small(0, 0);
  write_idx(tpath("img"), 0, 0, 0, NULL, NULL, 0);   /* 4 zero bytes, then cut at 2 */
  cr_assert_eq(truncate(tpath("img"), 2), 0);
  expect_msg("img", "truncated: 2 bytes, too short for an idx header");
}

Test(data, gzip_stream_cut_short, .init = mk_tmpdir, .fini = rm_tmpdir) {
  /* a big enough image file that the compressed stream is cut mid-data */
  write_big();
  FILE *f = fopen(tpath("img"), "rb");
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fclose(f);
  cr_assert_eq(truncate(tpath("img"), size / 2), 0);
  const char *e = load_fails();
  cr_assert(strstr(e, "truncated: header says 2000 images of 2x3, file holds "), "%s", e);
}

Test(data, count_mismatch_and_extra_data, .init = mk_tmpdir, .fini = rm_tmpdir) {
  write_small(1, 1);
  write_idx(tpath("lbl"), 1, 0x801, 1, (uint32_t[]){N - 1}, labels, N - 1);
  char want[512];
  snprintf(want, sizeof want, "%s: holds 4 labels but %s holds 5 images", tpath("lbl"), tpath("img"));
  cr_assert_str_eq(load_fails(), want);
  write_small(0, 1);
  write_idx(tpath("img"), 1, 0x803, 3, (uint32_t[]){N - 1, ROWS, COLS}, pixels, sizeof pixels);
  write_idx(tpath("lbl"), 1, 0x801, 1, (uint32_t[]){N - 1}, labels, N - 1);
  expect_msg("img", "more data after the 4 images the header announces");
}

Test(data, absurd_header_is_refused_without_allocating, .init = mk_tmpdir, .fini = rm_tmpdir) {
  write_small(0, 0);
  write_idx(tpath("img"), 0, 0x803, 3, (uint32_t[]){4000000000u, 60000, 60000}, pixels, 16);
  write_idx(tpath("lbl"), 0, 0x801, 1, (uint32_t[]){4000000000u}, labels, 5);
  expect_msg("img", "header says 4000000000 images of 60000x60000: too large");
  write_idx(tpath("img"), 0, 0x803, 3, (uint32_t[]){1000000, 28, 28}, pixels, 16);
  write_idx(tpath("lbl"), 0, 0x801, 1, (uint32_t[]){1000000}, labels, 5);
  const char *e = load_fails();
  cr_assert(strstr(e, "truncated: header says 1000000 images of 28x28, but the file is only 32 bytes"),
            "%s", e);
}

Test(data, four_dimensional_images, .init = mk_tmpdir, .fini = rm_tmpdir) {
  write_small(0, 0);
  write_idx(tpath("img"), 0, 0x804, 4, (uint32_t[]){N, 1, ROWS, COLS}, pixels, sizeof pixels);
  SngDataset d;
  char err[512] = "";
  cr_assert_eq(sng_data_load_idx(tpath("img"), tpath("lbl"), &d, err, sizeof err), 0, "%s", err);
  cr_assert_eq(d.dim, DIM);
  cr_assert_eq(d.shape[0], 1);
  cr_assert_eq(d.shape[1], ROWS);
  cr_assert_eq(d.shape[2], COLS);
  sng_data_free(&d);
}

/* ---- preprocessing ---- */

/* n rows of dim values: row r is r*dim .. r*dim+dim-1, label r */
static SngDataset make_rows(int64_t n, int64_t dim) {
  SngDataset d = {.n = n, .dim = dim, .shape = {dim}, .classes = (int32_t)n};
  d.x = sng_alloc_aligned((size_t)(n * dim) * sizeof(float));
  d.y = sng_alloc_aligned((size_t)n * sizeof(float));
  for (int64_t i = 0; i < n * dim; i++) d.x[i] = (float)i;
  for (int64_t i = 0; i < n; i++) d.y[i] = (float)i;
  return d;
}

Test(data, scale_stats_standardize) {
  SngDataset d = make_rows(2, 2);   /* 0 1 2 3 */
  double m, s;
  sng_data_stats(&d, &m, &s);
  cr_assert_float_eq(m, 1.5, 1e-12);
  cr_assert_float_eq(s, sqrt(1.25), 1e-12);   /* population std */
  sng_data_scale(&d, 2.0);
  cr_assert_eq(d.x[3], 6.0f);
  sng_data_stats(&d, &m, &s);
  cr_assert_float_eq(m, 3.0, 1e-12);
  cr_assert_float_eq(s, 2 * sqrt(1.25), 1e-12);
  sng_data_standardize(&d, m, s);
  sng_data_stats(&d, &m, &s);
  cr_assert_float_eq(m, 0.0, 1e-6);
  cr_assert_float_eq(s, 1.0, 1e-6);
  cr_assert_float_eq(d.x[0], -1.5 / sqrt(1.25), 1e-6);
  /* constant data: std 0 only centres */
  for (int i = 0; i < 4; i++) d.x[i] = 7;
  sng_data_stats(&d, &m, &s);
  cr_assert_eq(s, 0.0);
  sng_data_standardize(&d, m, s);
  for (int i = 0; i < 4; i++) cr_assert_eq(d.x[i], 0.0f);
  sng_data_free(&d);
}

/* ---- batches ---- */

/* Draws `batches` batches and records the row of each sample (label = row). */
static void draw(SngBatcher *b, int batches, int64_t *rows) {
  const SngDataset *d = b->d;
  float *x = malloc((size_t)(b->batch * d->dim) * sizeof *x), *y = malloc((size_t)b->batch * sizeof *y);
  for (int k = 0; k < batches; k++) {
    sng_batcher_next(b, x, y);
    for (int64_t i = 0; i < b->batch; i++) {
      int64_t r = (int64_t)y[i];
      cr_assert_eq(x[i * d->dim], (float)(r * d->dim), "x row matches its label");
      cr_assert_eq(x[i * d->dim + d->dim - 1], (float)(r * d->dim + d->dim - 1));
      rows[k * b->batch + i] = r;
    }
  }
  free(x);
  free(y);
}

Test(data, batcher_no_shuffle_straddles_epochs) {
  SngDataset d = make_rows(5, 3);
  SngBatcher b;
  sng_batcher_init(&b, &d, 3, 0, 1);
  int64_t rows[12];
  draw(&b, 4, rows);
  const int64_t want[12] = {0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1};
  for (int i = 0; i < 12; i++) cr_assert_eq(rows[i], want[i], "sample %d", i);
  cr_assert_eq(b.epoch, 2);
  cr_assert_eq(b.pos, 2);
  sng_batcher_free(&b);
  sng_data_free(&d);
}

Test(data, batcher_each_sample_once_per_epoch) {
  enum { n = 10, batch = 3, epochs = 6 };
  SngDataset d = make_rows(n, 2);
  SngBatcher b;
  sng_batcher_init(&b, &d, batch, 1, 42);
  int64_t rows[n * epochs];
  draw(&b, n * epochs / batch, rows);
  int identical_to_previous = 0, in_order = 0;
  for (int e = 0; e < epochs; e++) {
    int seen[n] = {0};
    for (int i = 0; i < n; i++) seen[rows[e * n + i]]++;
    for (int i = 0; i < n; i++) cr_assert_eq(seen[i], 1, "epoch %d row %d seen %d times", e, i, seen[i]);
    if (e > 0) identical_to_previous += !memcmp(rows + e * n, rows + (e - 1) * n, sizeof(int64_t) * n);
    int ordered = 1;
    for (int i = 0; i < n; i++) ordered &= rows[e * n + i] == i;
    in_order += ordered;
  }
  cr_assert_lt(identical_to_previous, 2, "reshuffled each epoch");
  cr_assert_lt(in_order, 2, "actually shuffled");
  sng_batcher_free(&b);
  sng_data_free(&d);
}

Test(data, batcher_deterministic_per_seed) {
  SngDataset d = make_rows(50, 1);
  SngBatcher a, b, c;
  sng_batcher_init(&a, &d, 7, 1, 123);
  sng_batcher_init(&b, &d, 7, 1, 123);
  sng_batcher_init(&c, &d, 7, 1, 124);
  int64_t ra[70], rb[70], rc[70];
  draw(&a, 10, ra);
  draw(&b, 10, rb);
  draw(&c, 10, rc);
  cr_assert_eq(memcmp(ra, rb, sizeof ra), 0, "same seed, same batches");
  cr_assert_neq(memcmp(ra, rc, sizeof ra), 0, "another seed, other batches");
  sng_batcher_free(&a);
  sng_batcher_free(&b);
  sng_batcher_free(&c);
  sng_data_free(&d);
}

Test(data, batcher_resumes_from_epoch_and_pos) {
  SngDataset d = make_rows(11, 2);
  for (int shuffle = 0; shuffle < 2; shuffle++) {
    SngBatcher a, b;
    sng_batcher_init(&a, &d, 4, shuffle, 9);
    int64_t first[4 * 7], rest[4 * 5], again[4 * 5];
    draw(&a, 7, first);                 /* 28 samples: into epoch 2 */
    int64_t epoch = a.epoch, pos = a.pos;
    cr_assert_eq(epoch, 2);
    cr_assert_eq(pos, 6);
    draw(&a, 5, rest);
    sng_batcher_init(&b, &d, 4, shuffle, 9);
    sng_batcher_seek(&b, epoch, pos);
    draw(&b, 5, again);
    cr_assert_eq(memcmp(rest, again, sizeof rest), 0, "shuffle %d", shuffle);
    sng_batcher_free(&a);
    sng_batcher_free(&b);
  }
  sng_data_free(&d);
}

Test(data, batch_larger_than_dataset) {
  SngDataset d = make_rows(3, 1);
  SngBatcher b;
  sng_batcher_init(&b, &d, 7, 1, 5);
  int64_t rows[14];
  draw(&b, 2, rows);   /* 14 samples: epochs 0..3 complete, plus 2 */
  for (int e = 0; e < 4; e++) {
    int seen[3] = {0};
    for (int i = 0; i < 3; i++) seen[rows[e * 3 + i]]++;
    cr_assert(seen[0] == 1 && seen[1] == 1 && seen[2] == 1, "epoch %d", e);
  }
  sng_batcher_free(&b);
  sng_data_free(&d);
}

Test(data, slice_partial_last_batch) {
  SngDataset d = make_rows(5, 2);
  float x[3 * 2], y[3];
  cr_assert_eq(sng_data_slice(&d, 0, 3, x, y), 3);
  cr_assert_eq(y[2], 2.0f);
  cr_assert_eq(x[5], 5.0f);
  cr_assert_eq(sng_data_slice(&d, 3, 3, x, y), 2);
  cr_assert_eq(y[0], 3.0f);
  cr_assert_eq(y[1], 4.0f);
  cr_assert_eq(x[3], 9.0f);
  cr_assert_eq(y[2], 0.0f, "padding repeats row 0");
  cr_assert_eq(x[4], 0.0f);
  cr_assert_eq(x[5], 1.0f);
  cr_assert_eq(sng_data_slice(&d, 5, 3, x, y), 0);
  cr_assert_eq(y[0], 0.0f);
  sng_data_free(&d);
}

/* ---- the real thing, when the machine has it ---- */

#define FMNIST "/usr/share/datasets/fashion-mnist/"

Test(data, fashion_mnist_train) {
  if (access(FMNIST "train-images-idx3-ubyte.gz", R_OK) != 0) cr_skip_test("no " FMNIST);
  SngDataset d;
  char err[512] = "";
  double t0 = sng_now();
  int rc = sng_data_load_idx(FMNIST "train-images-idx3-ubyte.gz", FMNIST "train-labels-idx1-ubyte.gz",
                             &d, err, sizeof err);
  double dt = sng_now() - t0;
  cr_assert_eq(rc, 0, "%s", err);
  cr_log_info("fashion-mnist train loaded in %.3f s", dt);
  cr_assert_eq(d.n, 60000);
  cr_assert_eq(d.dim, 784);
  cr_assert_eq(d.shape[0], 28);
  cr_assert_eq(d.shape[1], 28);
  cr_assert_eq(d.classes, 10);
  int count[10] = {0};
  for (int64_t i = 0; i < d.n; i++) count[(int)d.y[i]]++;
  for (int k = 0; k < 10; k++) cr_assert_eq(count[k], 6000, "class %d", k);   /* balanced set */
  sng_data_scale(&d, 1.0 / 255);
  double m, s;
  sng_data_stats(&d, &m, &s);
  cr_assert_float_eq(m, 0.286, 0.001, "mean %f", m);
  cr_assert_float_eq(s, 0.353, 0.001, "std %f", s);
  sng_data_free(&d);
}
