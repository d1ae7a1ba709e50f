/* idx.c - loading idx files (the MNIST / Fashion-MNIST format).
 *
 * An idx file is a big-endian header (magic 0x0000TTNN: element type TT, NN dimensions, then
 * NN u32 sizes) followed by the elements.  Both files go through gzopen, which reads gzip
 * and plain files alike.  Speed matters (47 MB of Fashion-MNIST images on every run), so the
 * images are read in 1 MiB chunks straight into a conversion loop; no u8 copy of the whole
 * set is kept.  Nothing in the header is trusted: sizes are checked for overflow and against
 * what the file on disk could possibly hold before anything is allocated, so a damaged header
 * is a message, not an out-of-memory abort; and the file must end where the header says.
 */
#include "sng_data.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

enum { CHUNK = 1 << 20, IDX_U8 = 0x08 };

/* deflate cannot compress better than about 1032:1; a header asking for more than this
 * many bytes per byte on disk cannot be honest */
enum { MAX_RATIO = 1100 };

typedef struct Idx {
  const char *path;
  gzFile f;
  int ndims;
  int64_t dims[4];
  int64_t disk_bytes;   /* size of the file on disk */
} Idx;

__attribute__((format(printf, 4, 5)))
static int fail_msg(char *err, size_t errlen, const char *path, const char *fmt, ...) {
  if (err && errlen) {
    int n = snprintf(err, errlen, "%s: ", path);
    if (n >= 0 && (size_t)n < errlen) {
      va_list ap;
      va_start(ap, fmt);
      vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
      va_end(ap);
    }
  }
  return SNG_EFORMAT;
}

/* Reads up to n bytes; returns how many (short only at end of data), or -1 on a read error
 * other than a cut-off gzip stream, which counts as an early end (that is a truncation). */
static int64_t read_some(gzFile f, void *buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    size_t want = n - got > CHUNK ? CHUNK : n - got;
    int r = gzread(f, (char *)buf + got, (unsigned)want);
    if (r < 0) {
      int zerr;
      gzerror(f, &zerr);
      if (zerr == Z_BUF_ERROR) break;
      return -1;
    }
    if (r == 0) break;
    got += (size_t)r;
  }
  return (int64_t)got;
}

/* A read error: a damaged gzip stream says so (zlib's own message names the path first;
 * that part is dropped), anything else is the system's error. */
static int read_error(const Idx *ix, char *err, size_t errlen) {
  int zerr;
  const char *msg = gzerror(ix->f, &zerr);
  size_t n = strlen(ix->path);
  if (!strncmp(msg, ix->path, n) && !strncmp(msg + n, ": ", 2)) msg += n + 2;
  if (zerr == Z_DATA_ERROR) {
    fail_msg(err, errlen, ix->path, "damaged gzip data (%s): the file is corrupt; fetch it again", msg);
    return SNG_EFORMAT;
  }
  fail_msg(err, errlen, ix->path, "read error: %s", zerr == Z_ERRNO ? strerror(errno) : msg);
  return SNG_EIO;
}

static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Opens path and reads its header, which must be of unsigned bytes with min_dims..max_dims
 * dimensions; magic is the expected one, for the message. */
static int open_idx(Idx *ix, const char *path, int min_dims, int max_dims, uint32_t magic,
                    char *err, size_t errlen) {
  *ix = (Idx){.path = path};
  struct stat st;
  errno = 0;
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
    fail_msg(err, errlen, path, "is a directory, not an idx file");
    return SNG_EIO;
  }
  if (stat(path, &st) != 0 || !(ix->f = gzopen(path, "rb"))) {
    fail_msg(err, errlen, path, "cannot open: %s", errno ? strerror(errno) : "out of memory");
    return SNG_EIO;
  }
  ix->disk_bytes = (int64_t)st.st_size;
  gzbuffer(ix->f, CHUNK);
  uint8_t h[4 + 4 * 4];
  int64_t got = read_some(ix->f, h, 4);
  if (got < 0) return read_error(ix, err, errlen);
  if (got < 4)
    return fail_msg(err, errlen, path, "truncated: %lld bytes, too short for an idx header",
                    (long long)got);
  uint32_t m = be32(h);
  int nd = (int)(m & 0xff);
  if ((m >> 16) != 0 || ((m >> 8) & 0xff) != IDX_U8) {
    /* what it is instead: text (an HTML error page saved under the name, say) shows as such */
    int text = 1;
    for (int i = 0; i < 4; i++) text &= h[i] >= 0x20 && h[i] < 0x7f;
    return fail_msg(err, errlen, path, "not an idx file of unsigned bytes: found magic 0x%08x%s%.*s%s, "
                    "expected 0x%08x", m, text ? " (text \"" : "", text ? 4 : 0, (const char *)h,
                    text ? "...\")" : "", magic);
  }
  if (nd < min_dims || nd > max_dims)
    return fail_msg(err, errlen, path, "idx file has %d dimensions (magic 0x%08x), expected %s",
                    nd, m, min_dims == 1 ? "1 for labels (0x00000801)"
                                         : "3 for images (0x00000803)");
  got = read_some(ix->f, h + 4, 4 * (size_t)nd);
  if (got < 0) return read_error(ix, err, errlen);
  if (got < 4 * nd)
    return fail_msg(err, errlen, path, "truncated: the idx header is cut short");
  ix->ndims = nd;
  for (int i = 0; i < nd; i++) {
    ix->dims[i] = be32(h + 4 + 4 * i);
    if (ix->dims[i] == 0)
      return fail_msg(err, errlen, path, "idx dimension %d is 0: the file holds no data", i);
  }
  return SNG_OK;
}

/* "28x28" */
static void shape_str(char *buf, size_t n, const Idx *ix) {
  buf[0] = 0;
  for (int i = 1, at = 0; i < ix->ndims && at >= 0 && (size_t)at < n; i++)
    at += snprintf(buf + at, n - (size_t)at, "%s%lld", i > 1 ? "x" : "", (long long)ix->dims[i]);
}

/* The data must end where the header says: one more byte means a wrong header. */
static int expect_end(const Idx *ix, const char *what, char *err, size_t errlen) {
  uint8_t extra;
  int64_t got = read_some(ix->f, &extra, 1);
  if (got < 0) return read_error(ix, err, errlen);
  if (got)
    return fail_msg(err, errlen, ix->path, "more data after the %lld %s the header announces",
                    (long long)ix->dims[0], what);
  return SNG_OK;
}

static int load_images(Idx *ix, SngDataset *out, char *err, size_t errlen) {
  char shape[64];
  shape_str(shape, sizeof shape, ix);
  /* each size is < 2^32, so the products are checked against a cap before they are formed */
  const int64_t cap = (int64_t)1 << 40;
  int64_t n = ix->dims[0], dim = 1;
  for (int i = 1; i < ix->ndims && dim <= cap; i++)
    dim = ix->dims[i] > cap / dim ? cap + 1 : dim * ix->dims[i];
  if (dim > cap / n)
    return fail_msg(err, errlen, ix->path, "header says %lld images of %s: too large",
                    (long long)n, shape);
  if (n * dim > ix->disk_bytes * MAX_RATIO + 4096)
    return fail_msg(err, errlen, ix->path, "truncated: header says %lld images of %s, but the "
                    "file is only %lld bytes", (long long)n, shape, (long long)ix->disk_bytes);
  size_t total = (size_t)(n * dim), done = 0;
  void *mem = NULL;
  if (posix_memalign(&mem, 64, (total * sizeof(float) + 63) & ~(size_t)63))
    return fail_msg(err, errlen, ix->path, "out of memory for %lld images of %s", (long long)n,
                    shape);
  out->x = mem;
  uint8_t *buf = sng_alloc(CHUNK);
  int rc = SNG_OK;
  while (done < total) {
    size_t want = total - done < CHUNK ? total - done : CHUNK;
    int64_t got = read_some(ix->f, buf, want);
    if (got < 0) { rc = read_error(ix, err, errlen); goto fail; }
    for (int64_t i = 0; i < got; i++) out->x[done + (size_t)i] = (float)buf[i];
    done += (size_t)got;
    if ((size_t)got < want) {
      rc = fail_msg(err, errlen, ix->path, "truncated: header says %lld images of %s, file holds %lld",
                    (long long)n, shape, (long long)(done / (size_t)dim));
      goto fail;
    }
  }
  rc = expect_end(ix, "images", err, errlen);
  if (rc) goto fail;
  out->n = n;
  out->dim = dim;
  for (int i = 1; i < ix->ndims; i++) out->shape[i - 1] = ix->dims[i];
  free(buf);
  return SNG_OK;
fail:
  free(buf);
  return rc;
}

static int load_labels(Idx *ix, SngDataset *out, char *err, size_t errlen) {
  int64_t n = ix->dims[0];
  if (n > ix->disk_bytes * MAX_RATIO + 4096)
    return fail_msg(err, errlen, ix->path, "truncated: header says %lld labels, but the file is "
                    "only %lld bytes", (long long)n, (long long)ix->disk_bytes);
  uint8_t *buf = sng_alloc((size_t)n);
  int rc = SNG_OK;
  int64_t got = read_some(ix->f, buf, (size_t)n);
  if (got < 0) { rc = read_error(ix, err, errlen); goto fail; }
  if (got < n) {
    rc = fail_msg(err, errlen, ix->path, "truncated: header says %lld labels, file holds %lld",
                  (long long)n, (long long)got);
    goto fail;
  }
  rc = expect_end(ix, "labels", err, errlen);
  if (rc) goto fail;
  out->y = sng_alloc_aligned((size_t)n * sizeof(float));
  int maxl = 0;
  for (int64_t i = 0; i < n; i++) {
    out->y[i] = (float)buf[i];
    if (buf[i] > maxl) maxl = buf[i];
  }
  out->classes = maxl + 1;
  free(buf);
  return SNG_OK;
fail:
  free(buf);
  return rc;
}

/* Opens both files and checks their headers and that the counts agree, before reading any
 * data (47 MB of images would be thrown away otherwise). */
static int open_pair(Idx *im, Idx *lb, const char *images, const char *labels, char *err, size_t errlen) {
  *lb = (Idx){0};
  int rc = open_idx(im, images, 2, 4, 0x00000803, err, errlen);
  if (!rc) rc = open_idx(lb, labels, 1, 1, 0x00000801, err, errlen);
  if (!rc && im->dims[0] != lb->dims[0])
    rc = fail_msg(err, errlen, labels, "holds %lld labels but %s holds %lld images",
                  (long long)lb->dims[0], images, (long long)im->dims[0]);
  return rc;
}

static void close_pair(Idx *im, Idx *lb) {
  if (im->f) gzclose(im->f);
  if (lb->f) gzclose(lb->f);
}

int sng_data_load_idx(const char *images, const char *labels, SngDataset *out, char *err,
                      size_t errlen) {
  Idx im = {0}, lb = {0};
  *out = (SngDataset){0};
  int rc = open_pair(&im, &lb, images, labels, err, errlen);
  if (!rc) rc = load_images(&im, out, err, errlen);
  if (!rc) rc = load_labels(&lb, out, err, errlen);
  close_pair(&im, &lb);
  if (rc) sng_data_free(out);
  return rc;
}

int sng_data_probe_idx(const char *images, const char *labels, SngIdxProbe *out, char *err,
                       size_t errlen) {
  Idx im = {0}, lb = {0};
  SngDataset d = {0};
  *out = (SngIdxProbe){0};
  int rc = open_pair(&im, &lb, images, labels, err, errlen);
  if (!rc) rc = load_labels(&lb, &d, err, errlen);
  if (!rc) {
    out->n = im.dims[0];
    out->ndims = im.ndims - 1;
    for (int i = 1; i < im.ndims; i++) out->dims[i - 1] = im.dims[i];
    out->classes = d.classes;
  }
  close_pair(&im, &lb);
  sng_data_free(&d);
  return rc;
}

void sng_data_free(SngDataset *d) {
  if (!d) return;
  free(d->x);
  free(d->y);
  *d = (SngDataset){0};
}
