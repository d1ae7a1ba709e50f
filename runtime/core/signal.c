/* signal.c - SIGINT and SIGTERM: held back around critical sections, and turned into a stop
 * request that the training driver polls at step boundaries.
 *
 * The handler only records the signal (an async-signal-safe store); whoever installed it
 * decides where to stop, so a run ends with its files whole.  A second signal means the user
 * does not want to wait: the handler writes one line with write(2) and _exits at once with
 * the shell's status for that signal (128 + n).  Helper threads are started with the signals
 * blocked (sng_signals_block around pthread_create), so the driver thread is the one that
 * takes them and its system calls are the ones interrupted.
 */
#define _POSIX_C_SOURCE 200809L
#include "sng_core.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

_Static_assert(sizeof(sigset_t) <= sizeof(SngSigMask), "SngSigMask too small for sigset_t");

static const int held[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

void sng_signals_block(SngSigMask *old) {
  sigset_t s;
  sigemptyset(&s);
  for (size_t i = 0; i < sizeof held / sizeof *held; i++) sigaddset(&s, held[i]);
  pthread_sigmask(SIG_BLOCK, &s, (sigset_t *)(void *)old->opaque);
}

void sng_signals_restore(const SngSigMask *old) {
  pthread_sigmask(SIG_SETMASK, (const sigset_t *)(const void *)old->opaque, NULL);
}

const char *sng_signal_name(int sig) {
  switch (sig) {
  case SIGINT: return "SIGINT";
  case SIGTERM: return "SIGTERM";
  case SIGHUP: return "SIGHUP";
  case SIGQUIT: return "SIGQUIT";
  default: return "a signal";
  }
}

static volatile sig_atomic_t stop_sig;   /* the first stop signal, 0 if none */
static struct sigaction old_int, old_term;
static int installed;

static void on_stop(int sig) {
  if (!stop_sig) {
    stop_sig = sig;
    return;
  }
  static const char msg[] = "\nsinga: second signal: stopping now\n";
  ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
  (void)w;
  _exit(128 + sig);
}

void sng_stop_install(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;   /* reads and writes in flight go on; the driver polls */
  stop_sig = 0;
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  installed = 1;
}

void sng_stop_uninstall(void) {
  if (!installed) return;
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGTERM, &old_term, NULL);
  installed = 0;
}

int sng_stop_requested(void) { return stop_sig; }
