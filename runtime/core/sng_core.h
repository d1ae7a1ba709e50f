/* sng_core.h - bottom layer of singa: arenas, byte buffers, status codes, messages.
 *
 * Example usage:
 *   SngArena *a = sng_arena_new();
 *   char *s = sng_arena_strdup(a, "dense1.w");     // lives until sng_arena_free
 *   SngBuf b = {0};
 *   sng_buf_put_u32(&b, 42); sng_buf_put_str(&b, s);
 *   SngReader r = sng_reader(b.data, b.len);
 *   uint32_t v = sng_read_u32(&r);                  // r.err set on a short read
 *   sng_buf_free(&b); sng_arena_free(a);
 *
 * Nothing here depends on any other singa module.
 */
#ifndef SNG_CORE_H
#define SNG_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- status codes: 0 ok, negative error ---- */
enum { SNG_OK = 0, SNG_EIO = -1, SNG_EFORMAT = -2, SNG_ENOMEM = -3, SNG_EINVAL = -4 };

/* ---- allocation: every heap allocation goes through here so tests can inject failures ----
 * Running out of memory is not a bug: it prints "singa: out of memory: cannot allocate N bytes
 * (for WHAT)" and exits with status 1 (sng_oom), never abort(). */
void *sng_alloc(size_t n);                 /* malloc */
void *sng_calloc(size_t n, size_t size);
void *sng_realloc(void *p, size_t n);
void *sng_alloc_aligned(size_t n);         /* 64-byte aligned, zeroed; free with free() */
/* The same for the big run-time buffers, naming what the memory is for in the message. */
void *sng_alloc_aligned_for(size_t n, const char *what);
char *sng_strdup(const char *s);
void sng_oom(size_t n, const char *what) __attribute__((noreturn));
/* Tests: the nth allocation from now (1 = the next) fails; 0 turns failures off. */
void sng_alloc_fail_at(long n);

/* ---- arena: chunked bump allocator that grows; freed in one call ---- */
typedef struct SngArena SngArena;
SngArena *sng_arena_new(void);
void *sng_arena_alloc(SngArena *a, size_t n);   /* zeroed, 16-byte aligned */
char *sng_arena_strdup(SngArena *a, const char *s);
char *sng_arena_strndup(SngArena *a, const char *s, size_t n);
char *sng_arena_printf(SngArena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sng_arena_free(SngArena *a);

/* ---- hash map: open addressing; keys are strings, or pointers compared as such ----
 *   SngMap m = {0};                      // string keys; {.ptr_keys = true}: pointer identity
 *   sng_map_put(&m, "h1", node);         // insert or replace; the key is not copied
 *   SngIrNode *n = sng_map_get(&m, "h1"); // NULL when absent
 *   sng_map_free(&m);
 * Values are pointers; NULL cannot be stored (get could not tell it from absent): store an
 * index as (void *)(intptr_t)(i + 1). */
typedef struct SngMap {
  const void **keys;           /* cap slots, NULL = empty */
  void **vals;
  size_t len, cap;             /* cap: 0 or a power of two, at least twice len */
  int ptr_keys;                /* set before the first put: keys are compared as pointers */
} SngMap;
void *sng_map_get(const SngMap *m, const void *key);
void sng_map_put(SngMap *m, const void *key, void *val);
void sng_map_free(SngMap *m);   /* keeps ptr_keys: the map can be used again */

/* ---- growable byte buffer (little-endian writer) ---- */
typedef struct SngBuf { uint8_t *data; size_t len, cap; } SngBuf;
void sng_buf_put(SngBuf *b, const void *p, size_t n);
void sng_buf_put_u8(SngBuf *b, uint8_t v);
void sng_buf_put_u32(SngBuf *b, uint32_t v);
void sng_buf_put_i32(SngBuf *b, int32_t v);
void sng_buf_put_u64(SngBuf *b, uint64_t v);
void sng_buf_put_i64(SngBuf *b, int64_t v);
void sng_buf_put_f64(SngBuf *b, double v);
void sng_buf_put_str(SngBuf *b, const char *s);   /* u32 length + bytes; NULL as length 0xffffffff */
void sng_buf_put_blob(SngBuf *b, const void *p, size_t n); /* u64 length + bytes */
void sng_buf_printf(SngBuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3))); /* text, no NUL */
void sng_buf_free(SngBuf *b);

/* ---- bounds-checked reader: a short or bad read sets err and returns zeroes ---- */
typedef struct SngReader { const uint8_t *p, *end; int err; } SngReader;
SngReader sng_reader(const void *data, size_t len);
uint8_t sng_read_u8(SngReader *r);
uint32_t sng_read_u32(SngReader *r);
int32_t sng_read_i32(SngReader *r);
uint64_t sng_read_u64(SngReader *r);
int64_t sng_read_i64(SngReader *r);
double sng_read_f64(SngReader *r);
char *sng_read_str(SngReader *r, SngArena *a);           /* copies into a; NULL for a NULL string */
const void *sng_read_blob(SngReader *r, size_t *n);       /* points into the input */

/* ---- files ---- */
/* Reads a whole file; returns NULL and sets errno on failure. */
uint8_t *sng_file_read(const char *path, size_t *len);
/* Writes atomically: path.tmp.PID, fsync, rename. Returns 0 or SNG_EIO (errno set); never leaves
 * a half-written file at path, and SIGINT/SIGTERM/SIGHUP/SIGQUIT are held back until the temp
 * file is renamed or removed, so an interrupt leaves no path.tmp.* behind.  A path that is a
 * device, FIFO or socket (-o /dev/null) is written to as it is, never replaced. */
int sng_file_write_atomic(const char *path, const void *data, size_t len);

/* ---- command-line numbers ---- */
/* Parses s as a whole decimal integer in [min, max] into *out.  Returns 0, or SNG_EINVAL with
 * a message naming the flag and the range in err:
 *   "--steps wants an integer from 1 to 1000000000, got 'x'" */
int sng_parse_int(const char *flag, const char *s, int64_t min, int64_t max, int64_t *out, char *err,
                  size_t errlen);

/* ---- signals (signal.c) ---- */
/* Blocks SIGINT, SIGTERM, SIGHUP and SIGQUIT in the calling thread, saving the old mask in
 * *old (a sigset_t-sized buffer); threads created meanwhile inherit the block.  Used around
 * critical sections (temp file -> rename) and when starting helper threads, so that only the
 * driver thread takes these signals. */
typedef struct SngSigMask { unsigned char opaque[128]; } SngSigMask;
void sng_signals_block(SngSigMask *old);
void sng_signals_restore(const SngSigMask *old);
/* Stop requests: after sng_stop_install(), the first SIGINT or SIGTERM only records itself
 * (sng_stop_requested() returns its number) so the caller can stop at a clean point; a second
 * SIGINT (or SIGTERM) ends the process at once with status 128 + signal.  Uninstall restores
 * the previous handlers. */
void sng_stop_install(void);
void sng_stop_uninstall(void);
int sng_stop_requested(void);
const char *sng_signal_name(int sig);   /* "SIGINT" */

/* ---- messages ---- */
/* A bug (a broken invariant): prints the message and aborts.  Not for user errors or OOM. */
void sng_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
#define SNG_ASSERT(c) \
  do { if (!(c)) sng_die("%s:%d: assertion failed: %s", __FILE__, __LINE__, #c); } while (0)

double sng_now(void);   /* monotonic seconds */

/* ---- random numbers: xoshiro256** seeded by splitmix64; same sequence on every host ---- */
typedef struct SngRng { uint64_t s[4]; } SngRng;
void sng_rng_seed(SngRng *r, uint64_t seed);
uint64_t sng_rng_next(SngRng *r);
double sng_rng_uniform(SngRng *r);           /* [0, 1) */
double sng_rng_gaussian(SngRng *r);          /* N(0, 1), Box-Muller */
uint64_t sng_rng_below(SngRng *r, uint64_t n);   /* [0, n), unbiased */

#endif
