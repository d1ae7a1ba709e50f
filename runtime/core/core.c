/* core.c - allocation, arenas, byte buffers and files.
 *
 * The arena is a list of chunks; a request larger than the chunk size gets its own chunk, so
 * the arena grows instead of aborting (unlike ggml's fixed pool).  Readers never trust their
 * input: every read checks the remaining length and sets err instead of running past the end.
 */
#include "sng_core.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void sng_die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("singa: fatal: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  abort();
}

/* Out of memory is a run-time error, not a bug: a message and status 1 (no core dump, no
 * abort trap in the shell).  exit() rather than _exit() so stdout and the metrics file are
 * flushed up to their last whole line. */
void sng_oom(size_t n, const char *what) {
  fflush(stdout);
  if (n >= (size_t)1 << 20)
    fprintf(stderr, "singa: out of memory: cannot allocate %zu bytes (%.1f MiB)%s%s\n", n,
            (double)n / (1 << 20), what ? " for " : "", what ? what : "");
  else
    fprintf(stderr, "singa: out of memory: cannot allocate %zu bytes%s%s\n", n, what ? " for " : "",
            what ? what : "");
  exit(1);
}

static _Atomic long fail_at;   /* tests: allocations left before the one that fails; 0 off */

void sng_alloc_fail_at(long n) { fail_at = n; }

static int injected_failure(void) {
  long n = fail_at;
  while (n > 0 && !atomic_compare_exchange_weak(&fail_at, &n, n - 1)) {}
  return n == 1;
}

void *sng_alloc(size_t n) {
  void *p = injected_failure() ? NULL : malloc(n ? n : 1);
  if (!p) sng_oom(n, NULL);
  return p;
}
void *sng_calloc(size_t n, size_t size) {
  void *p = injected_failure() ? NULL : calloc(n ? n : 1, size ? size : 1);
  if (!p) sng_oom(n > SIZE_MAX / (size ? size : 1) ? SIZE_MAX : n * size, NULL);
  return p;
}
void *sng_realloc(void *p, size_t n) {
  void *q = injected_failure() ? NULL : realloc(p, n ? n : 1);
  if (!q) sng_oom(n, NULL);
  return q;
}
void *sng_alloc_aligned_for(size_t n, const char *what) {
  void *p = NULL;
  size_t sz = (n + 63) & ~(size_t)63;
  if (sz < n || injected_failure() || posix_memalign(&p, 64, sz ? sz : 64)) sng_oom(n, what);
  memset(p, 0, sz ? sz : 64);
  return p;
}
void *sng_alloc_aligned(size_t n) { return sng_alloc_aligned_for(n, NULL); }
char *sng_strdup(const char *s) {
  size_t n = strlen(s) + 1;
  return memcpy(sng_alloc(n), s, n);
}

/* ---- arena ---- */
enum { CHUNK = 64 * 1024 };
typedef struct Chunk { struct Chunk *next; size_t used, cap; _Alignas(16) unsigned char mem[]; } Chunk;
struct SngArena { Chunk *head; };

SngArena *sng_arena_new(void) { return sng_calloc(1, sizeof(SngArena)); }

void *sng_arena_alloc(SngArena *a, size_t n) {
  n = (n + 15) & ~(size_t)15;
  Chunk *c = a->head;
  if (!c || c->cap - c->used < n) {
    size_t cap = n > CHUNK ? n : CHUNK;
    c = sng_alloc(sizeof(Chunk) + cap);
    c->used = 0, c->cap = cap;
    if (a->head && n > CHUNK) { /* keep the partly used chunk at the head */
      c->next = a->head->next;
      a->head->next = c;
    } else {
      c->next = a->head;
      a->head = c;
    }
  }
  void *p = c->mem + c->used;
  c->used += n;
  memset(p, 0, n);
  return p;
}

char *sng_arena_strndup(SngArena *a, const char *s, size_t n) {
  char *p = sng_arena_alloc(a, n + 1);
  memcpy(p, s, n);
  p[n] = 0;
  return p;
}
char *sng_arena_strdup(SngArena *a, const char *s) { return s ? sng_arena_strndup(a, s, strlen(s)) : NULL; }

char *sng_arena_printf(SngArena *a, const char *fmt, ...) {
  va_list ap, ap2;
  va_start(ap, fmt);
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *p = sng_arena_alloc(a, (size_t)n + 1);
  vsnprintf(p, (size_t)n + 1, fmt, ap2);
  va_end(ap2);
  return p;
}

void sng_arena_free(SngArena *a) {
  if (!a) return;
  for (Chunk *c = a->head, *n; c; c = n) n = c->next, free(c);
  free(a);
}

/* ---- hash map ---- */
static uint64_t hash_key(const SngMap *m, const void *key) {
  if (m->ptr_keys) { /* splitmix64 finaliser over the address */
    uint64_t h = (uint64_t)(uintptr_t)key;
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9u;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebu;
    return h ^ (h >> 31);
  }
  uint64_t h = 1469598103934665603u; /* FNV-1a */
  for (const unsigned char *s = key; *s; s++) h = (h ^ *s) * 1099511628211u;
  return h;
}

/* the slot that holds key, or the empty slot where it would go; cap is a power of two */
static size_t map_slot(const SngMap *m, const void **keys, size_t cap, const void *key) {
  size_t i = (size_t)hash_key(m, key) & (cap - 1);
  while (keys[i] && (m->ptr_keys ? keys[i] != key : strcmp(keys[i], key) != 0)) i = (i + 1) & (cap - 1);
  return i;
}

void *sng_map_get(const SngMap *m, const void *key) {
  if (!m->cap) return NULL;
  size_t i = map_slot(m, m->keys, m->cap, key);
  return m->keys[i] ? m->vals[i] : NULL;
}

void sng_map_put(SngMap *m, const void *key, void *val) {
  SNG_ASSERT(key && val);
  if (2 * (m->len + 1) > m->cap) { /* at most half full: probes stay short */
    size_t cap = m->cap ? 2 * m->cap : 16;
    const void **keys = sng_calloc(cap, sizeof *keys);
    void **vals = sng_calloc(cap, sizeof *vals);
    for (size_t i = 0; i < m->cap; i++)
      if (m->keys[i]) {
        size_t j = map_slot(m, keys, cap, m->keys[i]);
        keys[j] = m->keys[i], vals[j] = m->vals[i];
      }
    free(m->keys);
    free(m->vals);
    m->keys = keys, m->vals = vals, m->cap = cap;
  }
  size_t i = map_slot(m, m->keys, m->cap, key);
  if (!m->keys[i]) m->keys[i] = key, m->len++;
  m->vals[i] = val;
}

void sng_map_free(SngMap *m) {
  free(m->keys);
  free(m->vals);
  *m = (SngMap){.ptr_keys = m->ptr_keys};
}

/* ---- buffers ---- */
void sng_buf_put(SngBuf *b, const void *p, size_t n) {
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n) cap *= 2;
    b->data = sng_realloc(b->data, cap);
    b->cap = cap;
  }
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
}
void sng_buf_printf(SngBuf *b, const char *fmt, ...) {
  char small[128];
  va_list ap, ap2;
  va_start(ap, fmt);
  va_copy(ap2, ap);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n >= (int)sizeof small) {
    char *big = sng_alloc((size_t)n + 1);
    vsnprintf(big, (size_t)n + 1, fmt, ap2);
    sng_buf_put(b, big, (size_t)n);
    free(big);
  } else if (n > 0) sng_buf_put(b, small, (size_t)n);
  va_end(ap2);
}
/* x86-64 and every target we run on is little-endian; the format is defined as LE. */
void sng_buf_put_u8(SngBuf *b, uint8_t v) { sng_buf_put(b, &v, 1); }
void sng_buf_put_u32(SngBuf *b, uint32_t v) { sng_buf_put(b, &v, 4); }
void sng_buf_put_i32(SngBuf *b, int32_t v) { sng_buf_put(b, &v, 4); }
void sng_buf_put_u64(SngBuf *b, uint64_t v) { sng_buf_put(b, &v, 8); }
void sng_buf_put_i64(SngBuf *b, int64_t v) { sng_buf_put(b, &v, 8); }
void sng_buf_put_f64(SngBuf *b, double v) { sng_buf_put(b, &v, 8); }
void sng_buf_put_str(SngBuf *b, const char *s) {
  if (!s) { sng_buf_put_u32(b, 0xffffffffu); return; }
  uint32_t n = (uint32_t)strlen(s);
  sng_buf_put_u32(b, n);
  sng_buf_put(b, s, n);
}
void sng_buf_put_blob(SngBuf *b, const void *p, size_t n) {
  sng_buf_put_u64(b, n);
  sng_buf_put(b, p, n);
}
void sng_buf_free(SngBuf *b) {
  free(b->data);
  *b = (SngBuf){0};
}

/* ---- reader ---- */
SngReader sng_reader(const void *data, size_t len) {
  return (SngReader){(const uint8_t *)data, (const uint8_t *)data + len, 0};
}
static int take(SngReader *r, void *out, size_t n) {
  if (r->err || (size_t)(r->end - r->p) < n) {
    r->err = 1;
    memset(out, 0, n);
    return 0;
  }
  memcpy(out, r->p, n);
  r->p += n;
  return 1;
}
uint8_t sng_read_u8(SngReader *r) { uint8_t v; take(r, &v, 1); return v; }
uint32_t sng_read_u32(SngReader *r) { uint32_t v; take(r, &v, 4); return v; }
int32_t sng_read_i32(SngReader *r) { int32_t v; take(r, &v, 4); return v; }
uint64_t sng_read_u64(SngReader *r) { uint64_t v; take(r, &v, 8); return v; }
int64_t sng_read_i64(SngReader *r) { int64_t v; take(r, &v, 8); return v; }
double sng_read_f64(SngReader *r) { double v; take(r, &v, 8); return v; }
char *sng_read_str(SngReader *r, SngArena *a) {
  uint32_t n = sng_read_u32(r);
  if (r->err || n == 0xffffffffu) return NULL;
  if ((size_t)(r->end - r->p) < n) { r->err = 1; return NULL; }
  char *s = sng_arena_strndup(a, (const char *)r->p, n);
  r->p += n;
  return s;
}
const void *sng_read_blob(SngReader *r, size_t *n) {
  uint64_t len = sng_read_u64(r);
  if (r->err || (uint64_t)(r->end - r->p) < len) { r->err = 1; *n = 0; return NULL; }
  const void *p = r->p;
  r->p += len;
  *n = (size_t)len;
  return p;
}

/* ---- command-line numbers ---- */
int sng_parse_int(const char *flag, const char *s, int64_t min, int64_t max, int64_t *out, char *err,
                  size_t errlen) {
  char *end;
  errno = 0;
  long long v = s && *s ? strtoll(s, &end, 10) : 0;
  if (!s || !*s || *end || errno == ERANGE || v < min || v > max) {
    const char *why = !s || !*s || *end ? "" : " (out of range)";
    if (max == INT64_MAX)
      snprintf(err, errlen, "%s wants an integer from %lld up, got '%s'%s", flag, (long long)min, s ? s : "", why);
    else
      snprintf(err, errlen, "%s wants an integer from %lld to %lld, got '%s'%s", flag, (long long)min,
               (long long)max, s ? s : "", why);
    return SNG_EINVAL;
  }
  *out = v;
  return SNG_OK;
}

/* ---- files ---- */
uint8_t *sng_file_read(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  struct stat st;
  if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) { /* fopen takes a directory on Linux */
    fclose(f);
    errno = EISDIR;
    return NULL;
  }
  SngBuf b = {0};
  char tmp[65536];
  size_t n;
  errno = 0;
  while ((n = fread(tmp, 1, sizeof tmp, f)) > 0) sng_buf_put(&b, tmp, n);
  int bad = ferror(f), e = errno ? errno : EIO;   /* the read's own error, e.g. EISDIR */
  fclose(f);
  if (bad) { sng_buf_free(&b); errno = e; return NULL; }
  sng_buf_put_u8(&b, 0); /* NUL so text files can be used as strings */
  *len = b.len - 1;
  return b.data;
}

/* path is a device, a FIFO or a socket (/dev/null, /dev/stdout, a named pipe): there is no
 * file to replace, and renaming a temp file over it would replace the device itself */
static int write_through(const char *path, const void *data, size_t len) {
  int fd = open(path, O_WRONLY);
  if (fd < 0) return SNG_EIO;
  const uint8_t *p = data;
  while (len) {
    ssize_t w = write(fd, p, len);
    if (w < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      close(fd);
      errno = e;
      return SNG_EIO;
    }
    p += w, len -= (size_t)w;
  }
  return close(fd) ? SNG_EIO : SNG_OK;
}

int sng_file_write_atomic(const char *path, const void *data, size_t len) {
  struct stat st;
  if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) return write_through(path, data, len);
  size_t n = strlen(path);
  char *tmp = sng_alloc(n + 16);
  snprintf(tmp, n + 16, "%s.tmp.%d", path, (int)getpid());
  /* from open to rename or unlink, a SIGINT or SIGTERM waits: it is delivered when the mask
   * is restored, after the temp file is gone one way or the other */
  SngSigMask old;
  sng_signals_block(&old);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) goto fail_nofd;
  const uint8_t *p = data;
  size_t left = len;
  while (left) {
    ssize_t w = write(fd, p, left);
    if (w < 0) { if (errno == EINTR) continue; goto fail; }
    p += w, left -= (size_t)w;
  }
  if (fsync(fd) != 0) goto fail;
  if (close(fd) != 0) { fd = -1; goto fail; }
  if (rename(tmp, path) != 0) { fd = -1; goto fail; }
  sng_signals_restore(&old);
  free(tmp);
  return SNG_OK;
fail: {
    int e = errno;
    if (fd >= 0) close(fd);
    unlink(tmp);
    errno = e;
  }
fail_nofd: {
    int e = errno;
    sng_signals_restore(&old);
    errno = e;
  }
  free(tmp);
  return SNG_EIO;
}

double sng_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- random numbers ---- */
static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
void sng_rng_seed(SngRng *r, uint64_t seed) {
  for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}
static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
uint64_t sng_rng_next(SngRng *r) {
  uint64_t *s = r->s, res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0], s[3] ^= s[1], s[1] ^= s[2], s[0] ^= s[3], s[2] ^= t, s[3] = rotl(s[3], 45);
  return res;
}
double sng_rng_uniform(SngRng *r) { return (double)(sng_rng_next(r) >> 11) * 0x1.0p-53; }
double sng_rng_gaussian(SngRng *r) {
  double u = 1.0 - sng_rng_uniform(r), v = sng_rng_uniform(r);
  return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}
uint64_t sng_rng_below(SngRng *r, uint64_t n) {
  uint64_t lim = -n % n, x;
  while ((x = sng_rng_next(r)) < lim) {}
  return x % n;
}
