/* fuzz_run.c - libFuzzer harness: a plan the reader accepts must train without a crash
 * (scripts/fuzz.sh builds it with ASan + UBSan and runs it as `scripts/fuzz.sh SECS run`).
 *
 * Each input is decoded with its checksums fixed up (as fuzz_plan.c does), so the mutations
 * reach the validator; a plan that decode + validate accept then runs two training steps
 * through the group runtime (sng_group_new / sng_group_step: every worker, the stub and the
 * servers as threads, bridges included) on a tiny synthetic batch.  Any sanitizer report,
 * signal or hang there is a hole in the validator: the executor trusts a validated plan.
 *
 * Out of scope: JIT-compiling arbitrary kernel bitcode.  The validator checks what a plan
 * declares about a kernel (buffers, broadcast letters, scalars) against the tensors it is
 * given, but cannot know what machine code a mutated bitcode module would run.  So a plan runs
 * only if each of its kernels (symbol, bitcode, nbufs, nscalars, rowwise, bcast) is exactly
 * one of the seed plans' kernels: the *.plan files in $SNG_FUZZ_SEEDS, read at start
 * (scripts/fuzz.sh compiles the .sng files of tests/fuzz/seeds there).  Everything else in the plan is
 * the fuzzer's.  Plans that would need more than a small memory budget are decoded and
 * validated but not run (a resource limit, not a fault).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixup.h"
#include "sng_exec.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n);

enum { MAX_SEED_KERNELS = 256 };
static SngPlanKernel seed_kernels[MAX_SEED_KERNELS];
static int nseed_kernels;

static char *dup_bytes(const void *p, size_t n) {
  char *c = malloc(n + 1);
  if (n) memcpy(c, p, n);
  c[n] = 0;
  return c;
}

static bool same_str(const char *a, const char *b) { return a && b ? !strcmp(a, b) : a == b; }

static bool same_kernel(const SngPlanKernel *a, const SngPlanKernel *b) {
  return same_str(a->symbol, b->symbol) && same_str(a->bcast, b->bcast) && a->nbufs == b->nbufs &&
         a->nscalars == b->nscalars && a->rowwise == b->rowwise && a->bitcode_len == b->bitcode_len &&
         !memcmp(a->bitcode, b->bitcode, a->bitcode_len);
}

static void add_seed(const SngPlan *p) {
  for (int i = 0; i < p->nkernels; i++) {
    const SngPlanKernel *k = &p->kernels[i];
    bool known = false;
    for (int j = 0; j < nseed_kernels && !known; j++) known = same_kernel(k, &seed_kernels[j]);
    if (known || nseed_kernels == MAX_SEED_KERNELS) continue;
    seed_kernels[nseed_kernels++] = (SngPlanKernel){
      .symbol = dup_bytes(k->symbol, strlen(k->symbol)), .members = NULL, .rowwise = k->rowwise,
      .nbufs = k->nbufs, .nscalars = k->nscalars, .bcast = dup_bytes(k->bcast, strlen(k->bcast)),
      .bitcode = dup_bytes(k->bitcode, k->bitcode_len), .bitcode_len = k->bitcode_len};
  }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  const char *dir = getenv("SNG_FUZZ_SEEDS");
  DIR *d = dir ? opendir(dir) : NULL;
  if (!d) {
    fprintf(stderr, "fuzz_run: set SNG_FUZZ_SEEDS to a folder of seed plans (scripts/fuzz.sh does)\n");
    exit(2);
  }
  char path[4096], err[512];
  for (struct dirent *e; (e = readdir(d));) {
    size_t len = strlen(e->d_name);
    if (len < 6 || strcmp(e->d_name + len - 5, ".plan")) continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    SngPlan *p = sng_plan_read(path, err, sizeof err);
    if (!p) {
      fprintf(stderr, "fuzz_run: seed %s\n", err);
      exit(2);
    }
    add_seed(p);
    sng_plan_free(p);
  }
  closedir(d);
  fprintf(stderr, "fuzz_run: %d seed kernels from %s\n", nseed_kernels, dir);
  return 0;
}

/* Every kernel is a seed kernel, and the plan fits the budget (bytes of arenas, parameters
 * with updater state, the batch; workers and servers as threads). */
static bool runnable(const SngPlan *p) {
  for (int i = 0; i < p->nkernels; i++) {
    bool known = false;
    for (int j = 0; j < nseed_kernels && !known; j++) known = same_kernel(&p->kernels[i], &seed_kernels[j]);
    if (!known) return false;
  }
  if (p->nunits > 16) return false;
  double bytes = 0, sample = 1;
  for (int i = 0; i < p->ngraphs; i++) bytes += (double)p->graphs[i].arena_bytes;
  for (int i = 0; i < p->nparams; i++) {
    double n = 1;
    for (int k = 0; k < p->params[i].rank; k++) n *= (double)p->params[i].dims[k];
    bytes += n * 4 * (4 + p->updater.nstate);
  }
  for (int i = 0; i < p->data.sample_rank; i++) sample *= (double)p->data.sample_dims[i];
  bytes += (double)p->data.batch * (sample + 1) * 4;
  return bytes < 64e6;
}

static long decoded, ran, stepped;   /* printed at powers of two of `ran` */

static void run(const SngPlan *p) {
  char err[512];
  if (!(++ran & (ran - 1)))
    fprintf(stderr, "fuzz_run: %ld plans accepted, %ld run, %ld trained two steps\n", decoded, ran, stepped);
  SngGroup *g = sng_group_new(p, err, sizeof err);
  if (!g) return;   /* refused with a message (e.g. units not in the order this runtime wants) */
  int64_t rows = p->data.batch, sample = 1;
  for (int i = 0; i < p->data.sample_rank; i++) sample *= p->data.sample_dims[i];
  float *x = malloc((size_t)(rows * sample + 1) * sizeof *x), *y = malloc((size_t)(rows + 1) * sizeof *y);
  for (int64_t i = 0; i < rows * sample; i++) x[i] = (float)(i % 11) / 11.0f - 0.5f;
  for (int64_t i = 0; i < rows; i++) y[i] = (float)(i % p->data.classes);
  for (int s = 0; s < 2; s++) sng_group_step(g, x, y);
  stepped++;
  sng_group_free(g);
  free(x), free(y);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n) {
  if (n < 32) return 0;
  unsigned char *c = malloc(n);
  memcpy(c, data, n);
  sng_fuzz_fixup(c, n);
  char err[1024];
  SngPlan *p = sng_plan_decode(c, n, err, sizeof err);
  free(c);
  if (!p) return 0;
  decoded++;
  if (sng_plan_validate(p, err, sizeof err)) abort();   /* decode must validate */
  if (runnable(p)) run(p);
  sng_plan_free(p);
  return 0;
}
