/* test_damaged.c - a plan is untrusted input: every damaged field is refused, or harmless.
 *
 * The fuzz seeds (tests/fuzz/seeds, one .sng each: one worker; a feature split over 2; a mixed
 * partition over 3) are compiled, and every field of each plan (sng_plan_each_field: every
 * element of every line of fields.def) is set in turn to 0, -1 and a huge value and the plan
 * re-encoded, so its checksums are valid.  Each must be refused by the reader with a message,
 * or, if accepted, run a training step through the group runtime without dying by a signal
 * (in a forked child, under an alarm: a hang is a deadlock the validator missed).  By default
 * one accepted plan per field kind runs, the first found, starting with the 3-worker seed
 * (SNG_DAMAGED_ALL=1 runs them all).  Then every file in
 * tests/fuzz/crashers (inputs that once crashed a fuzz harness) must be refused with a message.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz/fixup.h"
#include "sng_exec.h"
#include "sng_lower.h"
#include "testutil.h"
#include "tmpdir.h"

static char dir[256];

static void make_data(void) {
  tu_tmpdir(dir, sizeof dir, "damaged");
  cr_assert_eq(write_synthetic_idx(dir, "train", 40, 4, 3, 1), 0);
  setenv("SNG_SEED_DATA", dir, 1);
}
static void drop_data(void) {
  tu_rmdir(dir);
}

static SngPlan *compile_seed(const char *name) {
  char path[512], *msgs = NULL;
  size_t n;
  snprintf(path, sizeof path, "%s/tests/fuzz/seeds/%s.sng", SNG_SOURCE_DIR, name);
  FILE *f = open_memstream(&msgs, &n);
  SngDiag *d = sng_diag_new(f, 20);
  SngPlan *p = sng_compile_file(path, d, NULL);
  sng_diag_free(d);
  fclose(f);
  cr_assert_not_null(p, "compile %s failed:\n%s", path, msgs);
  free(msgs);
  return p;
}

/* ---- one step of an accepted plan, in a child ---- */

/* 0: ran or refused to start with a message; else the signal that killed the child. */
static int run_step(const SngPlan *p) {
  fflush(NULL);
  pid_t pid = fork();
  cr_assert_neq(pid, -1);
  if (pid == 0) {
    alarm(20);
    char err[512] = "";
    SngGroup *g = sng_group_new(p, err, sizeof err);
    if (!g) _exit(err[0] ? 0 : 3);
    int64_t rows = p->data.batch, sample = 1;
    for (int i = 0; i < p->data.sample_rank; i++) sample *= p->data.sample_dims[i];
    float *x = calloc((size_t)(rows * sample), sizeof *x), *y = calloc((size_t)rows, sizeof *y);
    for (int64_t i = 0; i < rows * sample; i++) x[i] = (float)(i % 7) / 7.0f;
    sng_group_step(g, x, y);
    sng_group_free(g);
    free(x), free(y);
    _exit(0);   /* no atexit handlers of the test runner in the child */
  }
  int st;
  cr_assert_eq(waitpid(pid, &st, 0), pid);
  if (WIFSIGNALED(st)) return WTERMSIG(st);
  cr_assert_eq(WEXITSTATUS(st), 0, "child exited with %d", WEXITSTATUS(st));
  return 0;
}

/* ---- the walk ---- */

typedef struct Damage {
  const char *seed;
  int all;                     /* SNG_DAMAGED_ALL: run every accepted plan */
  SngPlan *p;                  /* damaged in place, one element at a time, then restored */
  int fields, plans, refused, accepted, ran;
  char ran_kinds[4096];        /* " op.iattr tensor.start ..." kinds already run */
} Damage;

static void damage_value(int type, void *v, int which) {
  switch (type) {
  case SNG_FIELD_I32: *(int32_t *)v = which == 0 ? 0 : which == 1 ? -1 : INT32_MAX; break;
  case SNG_FIELD_U32: *(uint32_t *)v = which == 0 ? 0 : which == 1 ? UINT32_MAX : UINT32_MAX - 1; break;
  case SNG_FIELD_I64: *(int64_t *)v = which == 0 ? 0 : which == 1 ? -1 : INT64_MAX; break;
  case SNG_FIELD_U64: *(uint64_t *)v = which == 0 ? 0 : which == 1 ? UINT64_MAX : UINT64_MAX - 1; break;
  case SNG_FIELD_F64: *(double *)v = which == 0 ? 0 : which == 1 ? -1 : 1e308; break;
  }
}

static bool kind_ran(Damage *d, const char *kind) {
  char key[80];
  snprintf(key, sizeof key, " %s ", kind);
  if (strstr(d->ran_kinds, key)) return true;
  size_t n = strlen(d->ran_kinds);
  snprintf(d->ran_kinds + n, sizeof d->ran_kinds - n, "%s", key + (n ? 1 : 0));
  return false;
}

static int damage_one(void *ctx, const SngPlanFieldRef *f) {
  Damage *d = ctx;
  if (f->type == SNG_FIELD_STR || f->type == SNG_FIELD_BLOB) return 0;
  d->fields++;
  unsigned char saved[8];
  size_t size = f->type == SNG_FIELD_I32 || f->type == SNG_FIELD_U32 ? 4 : 8;
  memcpy(saved, f->value, size);
  for (int which = 0; which < 3; which++) {
    damage_value(f->type, f->value, which);
    if (!memcmp(saved, f->value, size)) continue;   /* not a change */
    SngBuf b = {0};
    cr_assert_eq(sng_plan_encode(d->p, &b), 0, "%s: %s: cannot encode", d->seed, f->path);
    char err[1024] = "";
    SngPlan *q = sng_plan_decode(b.data, b.len, err, sizeof err);
    d->plans++;
    if (!q) {
      d->refused++;
      cr_assert(strlen(err) > 10, "%s: %s damaged to value %d refused without a message", d->seed,
                f->path, which);
    } else {
      d->accepted++;
      if (d->all || !kind_ran(d, f->kind)) {
        d->ran++;
        int sig = run_step(q);
        cr_assert_eq(sig, 0, "%s: %s damaged (value %d) was accepted and killed a step by signal %d",
                     d->seed, f->path, which, sig);
      }
      sng_plan_free(q);
    }
    sng_buf_free(&b);
  }
  memcpy(f->value, saved, size);
  return 0;
}

Test(damaged, every_field_refused_or_harmless, .init = make_data, .fini = drop_data, .timeout = 3600) {
  const char *seeds[] = {"mixed3", "feature2", "one"};   /* most kinds run in the 3-worker plan */
  const char *all = getenv("SNG_DAMAGED_ALL");
  int fields = 0, plans = 0, refused = 0, accepted = 0, ran = 0;
  Damage *d = calloc(1, sizeof *d);
  for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
    SngPlan *p = compile_seed(seeds[i]);
    char err[512];
    cr_assert_eq(sng_plan_validate(p, err, sizeof err), 0, "%s: %s", seeds[i], err);
    cr_assert_eq(run_step(p), 0, "%s: the undamaged plan dies", seeds[i]);
    char kinds[sizeof d->ran_kinds];   /* one run per kind over all the seeds */
    memcpy(kinds, d->ran_kinds, sizeof kinds);
    *d = (Damage){.seed = seeds[i], .all = all && *all == '1', .p = p};
    memcpy(d->ran_kinds, kinds, sizeof kinds);
    cr_assert_eq(sng_plan_each_field(p, damage_one, d), 0);
    cr_log_info("%s: %d fields, %d damaged plans: %d refused, %d accepted (%d run)", seeds[i],
                d->fields, d->plans, d->refused, d->accepted, d->ran);
    fields += d->fields, plans += d->plans, refused += d->refused, accepted += d->accepted;
    ran += d->ran;
    sng_plan_free(p);
  }
  free(d);
  printf("damaged: %d numeric fields, %d damaged plans: %d refused, %d accepted (%d run a step)\n",
         fields, plans, refused, accepted, ran);
  cr_assert_gt(refused, 0);
}

/* Every input that once crashed a harness is now refused with a message. */
Test(damaged, fuzz_crashers_are_refused) {
  char path[1024];
  snprintf(path, sizeof path, "%s/tests/fuzz/crashers", SNG_SOURCE_DIR);
  DIR *dp = opendir(path);
  cr_assert_not_null(dp, "no %s", path);
  int n = 0;
  for (struct dirent *e; (e = readdir(dp));) {
    size_t len = strlen(e->d_name);
    if (len < 6 || strcmp(e->d_name + len - 5, ".plan")) continue;
    snprintf(path, sizeof path, "%s/tests/fuzz/crashers/%s", SNG_SOURCE_DIR, e->d_name);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    unsigned char *buf = malloc(1 << 24);
    size_t size = fread(buf, 1, 1 << 24, f);
    fclose(f);
    if (size >= 32) sng_fuzz_fixup(buf, size);   /* as the harnesses saw it */
    char err[1024] = "";
    SngPlan *p = sng_plan_decode(buf, size, err, sizeof err);
    cr_assert_null(p, "%s is accepted", e->d_name);
    cr_assert(strlen(err) > 10, "%s is refused without a message", e->d_name);
    cr_log_info("%s: %s", e->d_name, err);
    free(buf);
    n++;
  }
  closedir(dp);
  cr_assert_gt(n, 0, "tests/fuzz/crashers holds no .plan file");
}
