/* test_core.c - arenas, byte buffers and readers, atomic files, random numbers. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sng_core.h"

Test(arena, grows_past_chunk_and_keeps_everything) {
  SngArena *a = sng_arena_new();
  char *small = sng_arena_strdup(a, "dense1.w");
  unsigned char *big = sng_arena_alloc(a, 1 << 20); /* larger than a chunk */
  for (int i = 0; i < 1 << 20; i++) cr_assert_eq(big[i], 0, "zeroed");
  memset(big, 7, 1 << 20);
  char *after = sng_arena_printf(a, "%s-%d", small, 42);
  cr_expect_str_eq(small, "dense1.w");
  cr_expect_str_eq(after, "dense1.w-42");
  for (int i = 0; i < 10000; i++) { /* many small allocations stay 16-byte aligned */
    void *p = sng_arena_alloc(a, (size_t)(i % 37 + 1));
    cr_assert_eq((uintptr_t)p % 16, 0);
  }
  cr_expect_eq(big[12345], 7);
  sng_arena_free(a);
}

Test(buf, round_trip) {
  SngBuf b = {0};
  sng_buf_put_u32(&b, 0xdeadbeef);
  sng_buf_put_i64(&b, -5);
  sng_buf_put_f64(&b, 0.25);
  sng_buf_put_str(&b, "relu");
  sng_buf_put_str(&b, NULL);
  sng_buf_put_blob(&b, "abc", 3);
  SngArena *a = sng_arena_new();
  SngReader r = sng_reader(b.data, b.len);
  cr_expect_eq(sng_read_u32(&r), 0xdeadbeef);
  cr_expect_eq(sng_read_i64(&r), -5);
  cr_expect_eq(sng_read_f64(&r), 0.25);
  cr_expect_str_eq(sng_read_str(&r, a), "relu");
  cr_expect_null(sng_read_str(&r, a));
  size_t n;
  const char *blob = sng_read_blob(&r, &n);
  cr_expect_eq(n, 3);
  cr_expect_eq(memcmp(blob, "abc", 3), 0);
  cr_expect_eq(r.err, 0);
  cr_expect_eq(r.p, r.end);
  sng_arena_free(a);
  sng_buf_free(&b);
}

Test(buf, short_reads_set_err_and_return_zero) {
  SngBuf b = {0};
  sng_buf_put_u32(&b, 1000); /* a string length longer than what follows */
  sng_buf_put(&b, "xy", 2);
  SngArena *a = sng_arena_new();
  SngReader r = sng_reader(b.data, b.len);
  cr_expect_null(sng_read_str(&r, a));
  cr_expect_eq(r.err, 1);
  cr_expect_eq(sng_read_u64(&r), 0, "reads after an error return zero");
  SngReader r2 = sng_reader(b.data, 3);
  cr_expect_eq(sng_read_u32(&r2), 0);
  cr_expect_eq(r2.err, 1);
  SngReader r3 = sng_reader(b.data, b.len);
  size_t n = 99;
  cr_expect_null(sng_read_blob(&r3, &n)); /* 8-byte length needs more than 6 bytes */
  cr_expect_eq(n, 0);
  sng_arena_free(a);
  sng_buf_free(&b);
}

Test(file, atomic_write_and_read) {
  char dir[] = "/tmp/sng_core_XXXXXX", path[300];
  cr_assert_not_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/f.bin", dir);
  cr_assert_eq(sng_file_write_atomic(path, "hello", 5), 0);
  size_t n;
  uint8_t *d = sng_file_read(path, &n);
  cr_assert_not_null(d);
  cr_expect_eq(n, 5);
  cr_expect_str_eq((char *)d, "hello"); /* NUL-terminated */
  free(d);
  cr_expect_null(sng_file_read("/nonexistent/x", &n));
  cr_expect_eq(errno, ENOENT);
  snprintf(path, sizeof path, "%s/missing/f.bin", dir);
  cr_expect_eq(sng_file_write_atomic(path, "x", 1), SNG_EIO);
  snprintf(path, sizeof path, "rm -r %s", dir);
  cr_expect_eq(system(path), 0);
}

/* singac -o /dev/null, or a named pipe: written to, never replaced by a regular file (a
 * temp file renamed over /dev/null once replaced the device) */
Test(file, atomic_write_to_a_device_or_fifo_writes_through) {
  struct stat st;
  cr_assert_eq(sng_file_write_atomic("/dev/null", "plan", 4), 0);
  cr_assert_eq(stat("/dev/null", &st), 0);
  cr_expect(S_ISCHR(st.st_mode), "/dev/null is no longer a character device");
  char dir[] = "/tmp/sng_core_XXXXXX", fifo[300], cmd[400];
  cr_assert_not_null(mkdtemp(dir));
  snprintf(fifo, sizeof fifo, "%s/pipe", dir);
  cr_assert_eq(mkfifo(fifo, 0600), 0);
  snprintf(cmd, sizeof cmd, "cat %s > %s/got &", fifo, dir); /* a reader, so that open() returns */
  cr_assert_eq(system(cmd), 0);
  cr_expect_eq(sng_file_write_atomic(fifo, "hello", 5), 0);
  cr_assert_eq(stat(fifo, &st), 0);
  cr_expect(S_ISFIFO(st.st_mode), "the FIFO was replaced");
  snprintf(cmd, sizeof cmd, "sleep 0.2; grep -qx hello %s/got && rm -r %s", dir, dir);
  cr_expect_eq(system(cmd), 0, "the reader did not get the bytes");
}

/* a directory where a file is wanted: EISDIR ("Is a directory"), not EIO */
Test(file, reading_a_directory_says_so) {
  size_t n;
  errno = 0;
  cr_assert_null(sng_file_read("/tmp", &n));
  cr_assert_eq(errno, EISDIR, "errno %d (%s)", errno, strerror(errno));
}

Test(rng, deterministic_and_in_range) {
  SngRng a, b;
  sng_rng_seed(&a, 42);
  sng_rng_seed(&b, 42);
  double sum = 0;
  for (int i = 0; i < 100000; i++) {
    cr_assert_eq(sng_rng_next(&a), sng_rng_next(&b));
    double u = sng_rng_uniform(&a);
    sng_rng_uniform(&b);
    cr_assert(u >= 0 && u < 1);
    sum += u;
    cr_assert_lt(sng_rng_below(&a, 7), 7);
    sng_rng_below(&b, 7);
  }
  cr_expect_float_eq(sum / 100000, 0.5, 0.01);
  double m = 0, v = 0;
  for (int i = 0; i < 100000; i++) {
    double g = sng_rng_gaussian(&a);
    m += g, v += g * g;
  }
  cr_expect_float_eq(m / 100000, 0, 0.02);
  cr_expect_float_eq(v / 100000, 1, 0.03);
}

/* ---- command-line numbers: one parser, messages naming the flag and the range ---- */

Test(parse_int, accepts_whole_numbers_in_range) {
  int64_t v = -1;
  char err[256] = "";
  cr_assert_eq(sng_parse_int("--steps", "1", 1, 100, &v, err, sizeof err), SNG_OK);
  cr_assert_eq(v, 1);
  cr_assert_eq(sng_parse_int("--steps", "100", 1, 100, &v, err, sizeof err), SNG_OK);
  cr_assert_eq(v, 100);
  cr_assert_eq(sng_parse_int("--warmup", "0", 0, INT64_MAX, &v, err, sizeof err), SNG_OK);
  cr_assert_eq(v, 0);
}

Test(parse_int, names_flag_range_and_what_was_given) {
  static const struct { const char *s, *msg; } bad[] = {
    {"0", "--steps wants an integer from 1 to 100, got '0' (out of range)"},
    {"101", "--steps wants an integer from 1 to 100, got '101' (out of range)"},
    {"-3", "--steps wants an integer from 1 to 100, got '-3' (out of range)"},
    {"x", "--steps wants an integer from 1 to 100, got 'x'"},
    {"12x", "--steps wants an integer from 1 to 100, got '12x'"},
    {"", "--steps wants an integer from 1 to 100, got ''"},
    {"1.5", "--steps wants an integer from 1 to 100, got '1.5'"},
    {"99999999999999999999", "--steps wants an integer from 1 to 100, got '99999999999999999999' (out of range)"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    int64_t v = 42;
    char err[256] = "";
    cr_assert_eq(sng_parse_int("--steps", bad[i].s, 1, 100, &v, err, sizeof err), SNG_EINVAL, "'%s'", bad[i].s);
    cr_assert_str_eq(err, bad[i].msg);
    cr_assert_eq(v, 42, "a rejected value must not be stored");
  }
  char err[256];
  int64_t v;
  sng_parse_int("--warmup", "99999999999999999999", 0, INT64_MAX, &v, err, sizeof err);
  cr_assert_str_eq(err, "--warmup wants an integer from 0 up, got '99999999999999999999' (out of range)");
}

/* ---- out of memory: a message and status 1, not abort() ---- */

/* Runs fn in a child with stderr in a file; returns the child's exit status (or 128 + signal)
 * and its stderr in out. */
static int run_child(void (*fn)(void), char *out, size_t outlen) {
  char path[] = "/tmp/sng_core_child_XXXXXX";
  int fd = mkstemp(path);
  cr_assert(fd >= 0);
  fflush(NULL);
  pid_t pid = fork();
  cr_assert(pid >= 0);
  if (pid == 0) {
    dup2(fd, 2);
    fn();
    _exit(0);
  }
  int st;
  waitpid(pid, &st, 0);
  ssize_t n = pread(fd, out, outlen - 1, 0);
  out[n > 0 ? n : 0] = 0;
  close(fd);
  unlink(path);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void oom_plain(void) {
  sng_alloc_fail_at(1);
  sng_alloc(1000);
}
static void oom_named(void) {
  sng_alloc_fail_at(2);   /* the first allocation goes through, the second fails */
  free(sng_alloc(10));
  sng_alloc_aligned_for((size_t)3 << 30, "the memory plan's arena of worker 0");
}
static void oom_real(void) {   /* more than any address space: the real malloc says no */
  sng_alloc_aligned_for(SIZE_MAX - 10, "a batch of 64 images");
}

Test(alloc, out_of_memory_is_status_1_with_a_message) {
  char err[1024];
  /* the first line only: under ASan, LeakSanitizer may add notes of its own at exit */
  const char *want = "singa: out of memory: cannot allocate 1000 bytes\n";
  cr_assert_eq(run_child(oom_plain, err, sizeof err), 1, "%s", err);
  cr_assert(!strncmp(err, want, strlen(want)), "%s", err);
  want = "singa: out of memory: cannot allocate 3221225472 bytes (3072.0 MiB) for the memory plan's arena "
         "of worker 0\n";
  cr_assert_eq(run_child(oom_named, err, sizeof err), 1, "%s", err);
  cr_assert(!strncmp(err, want, strlen(want)), "%s", err);
  cr_assert_eq(run_child(oom_real, err, sizeof err), 1, "%s", err);
  cr_assert(strstr(err, "singa: out of memory: cannot allocate ") && strstr(err, "for a batch of 64 images"), "%s",
            err);
}

Test(map, put_get_replace_and_grow) {
  SngMap m = {0};
  cr_expect_null(sng_map_get(&m, "absent"), "an empty map has nothing");
  enum { N = 20000 };
  char (*keys)[16] = malloc(N * sizeof *keys);
  for (int i = 0; i < N; i++) {
    snprintf(keys[i], sizeof keys[i], "h%d", i);
    sng_map_put(&m, keys[i], &keys[i]);
  }
  cr_expect_eq(m.len, N);
  for (int i = 0; i < N; i++) cr_assert_eq(sng_map_get(&m, keys[i]), &keys[i]);
  cr_expect_null(sng_map_get(&m, "h20000"));
  sng_map_put(&m, "h7", keys[9]); /* a key equal as a string replaces the value */
  cr_expect_eq(sng_map_get(&m, keys[7]), keys[9]);
  cr_expect_eq(m.len, N);
  sng_map_free(&m);
  cr_expect_null(sng_map_get(&m, "h1"));
  free(keys);
}

Test(map, pointer_keys_are_identities) {
  SngMap m = {.ptr_keys = true};
  char a[] = "same", b[] = "same"; /* equal strings, different objects */
  sng_map_put(&m, a, (void *)(intptr_t)1);
  sng_map_put(&m, b, (void *)(intptr_t)2);
  cr_expect_eq(m.len, 2);
  cr_expect_eq((intptr_t)sng_map_get(&m, a), 1);
  cr_expect_eq((intptr_t)sng_map_get(&m, b), 2);
  int many[5000];
  for (int i = 0; i < 5000; i++) sng_map_put(&m, &many[i], &many[4999 - i]);
  for (int i = 0; i < 5000; i++) cr_assert_eq(sng_map_get(&m, &many[i]), &many[4999 - i]);
  sng_map_free(&m);
  cr_expect(m.ptr_keys, "free keeps the kind of keys");
  cr_expect_null(sng_map_get(&m, a));
}

Test(buf, printf_appends_text_of_any_length) {
  SngBuf b = {0};
  sng_buf_printf(&b, "%s(%d,", "relu", 7);
  char big[300];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = 0;
  sng_buf_printf(&b, "%s)", big); /* longer than the helper's stack buffer */
  cr_assert_eq(b.len, 7 + 299 + 1);
  cr_expect(!memcmp(b.data, "relu(7,xxx", 10));
  cr_expect_eq(b.data[b.len - 1], ')');
  sng_buf_free(&b);
}
