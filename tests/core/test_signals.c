/* test_signals.c - signals: held back around atomic writes (no *.tmp.* left by an interrupt),
 * stop requests recorded by the first SIGINT/SIGTERM, a second one ending the process at once.
 * Each case runs in a forked child, since signals act on the whole process. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sng_core.h"

/* the child's status as the shell reports it: exit code, or 128 + signal */
static int status_of(pid_t pid) {
  int st;
  cr_assert_eq(waitpid(pid, &st, 0), pid);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static int count_tmp(const char *dir) {
  DIR *d = opendir(dir);
  cr_assert(d);
  int n = 0;
  for (struct dirent *e; (e = readdir(d));) n += strstr(e->d_name, ".tmp.") != NULL;
  closedir(d);
  return n;
}

static void rm_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  char path[512];
  for (struct dirent *e; (e = readdir(d));) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    unlink(path);
  }
  closedir(d);
  rmdir(dir);
}

/* A child rewrites a 4 MiB file atomically in a loop (most of its time is between open and
 * rename); SIGTERM and SIGINT at various moments must never leave a temp file behind, and the
 * file itself is always whole. */
Test(signals, interrupted_atomic_write_leaves_no_tmp) {
  char dir[] = "/tmp/sng_sig_XXXXXX";
  cr_assert(mkdtemp(dir));
  char path[600];
  snprintf(path, sizeof path, "%s/out.plan", dir);
  enum { SIZE = 4 << 20 };
  for (int round = 0; round < 8; round++) {
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
      char *data = malloc(SIZE);
      memset(data, 'a' + round, SIZE);
      for (;;)
        if (sng_file_write_atomic(path, data, SIZE)) _exit(3);
    }
    sleep_ms(20 + 15 * round);
    int sig = round % 2 ? SIGINT : SIGTERM;
    kill(pid, sig);
    cr_assert_eq(status_of(pid), 128 + sig, "the writer should die of the signal");
    cr_assert_eq(count_tmp(dir), 0, "round %d: a .tmp. file was left behind", round);
    size_t n = 0;
    uint8_t *got = sng_file_read(path, &n);
    if (got) cr_assert_eq(n, (size_t)SIZE, "round %d: a half-written file", round);
    free(got);
  }
  rm_dir(dir);
}

/* sng_signals_block holds the signal back until the mask is restored */
Test(signals, block_defers_until_restore) {
  pid_t pid = fork();
  cr_assert(pid >= 0);
  if (pid == 0) {
    SngSigMask old;
    sng_signals_block(&old);
    raise(SIGTERM);
    sleep_ms(10);
    sng_signals_restore(&old);   /* dies here */
    _exit(5);
  }
  cr_assert_eq(status_of(pid), 128 + SIGTERM);
}

/* The first SIGINT or SIGTERM is recorded, not fatal; a second one ends the process at once
 * with 128 + signal and a line on stderr. */
static int stop_child(int first, int second) {
  pid_t pid = fork();
  cr_assert(pid >= 0);
  if (pid == 0) {
    int null = open("/dev/null", 1);
    dup2(null, 2);
    sng_stop_install();
    if (sng_stop_requested()) _exit(10);
    raise(first);
    if (sng_stop_requested() != first) _exit(11);
    if (!second) {
      sng_stop_uninstall();
      _exit(0);
    }
    raise(second);
    _exit(12);   /* not reached: the second signal exits */
  }
  return status_of(pid);
}

Test(signals, first_signal_is_a_stop_request) {
  cr_assert_eq(stop_child(SIGINT, 0), 0);
  cr_assert_eq(stop_child(SIGTERM, 0), 0);
}

Test(signals, second_signal_stops_at_once) {
  cr_assert_eq(stop_child(SIGINT, SIGINT), 128 + SIGINT);
  cr_assert_eq(stop_child(SIGTERM, SIGINT), 128 + SIGINT);
  cr_assert_eq(stop_child(SIGINT, SIGTERM), 128 + SIGTERM);
}

Test(signals, names) {
  cr_assert_str_eq(sng_signal_name(SIGINT), "SIGINT");
  cr_assert_str_eq(sng_signal_name(SIGTERM), "SIGTERM");
}
