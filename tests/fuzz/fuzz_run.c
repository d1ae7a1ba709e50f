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
 *
 * Mutations: half are libFuzzer's byte mutations; the other half decode the plan and set one
 * to three of its fields (sng_plan_each_field) to a value near the old one, 0, -1, huge, or
 * another field's value, and re-encode it, so the validator sees plans that are wrong in one
 * relation rather than undecodable bytes.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixup.h"
#include "sng_exec.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max, unsigned seed);

enum { MAX_SEED_KERNELS = 256 };
static SngPlanKernel seed_kernels[MAX_SEED_KERNELS];
static int nseed_kernels;

static long decoded, ran, stepped;   /* printed at powers of two of `ran`, and at exit */

static void print_counts(void) {
  fprintf(stderr, "fuzz_run: %ld plans accepted, %ld run, %ld trained two steps\n", decoded, ran, stepped);
}

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
  atexit(print_counts);
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


static void run(const SngPlan *p) {
  char err[512];
  ran++;
  if (!(ran & (ran - 1))) print_counts();
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

/* ---- structure-aware mutation ---- */

typedef struct Pick {
  SngRng *rng;
  long target, at;          /* the numeric element to change; elements seen so far */
  int64_t other;            /* some other element's value, for the copy mutation */
} Pick;

static int64_t new_value(SngRng *r, int64_t old, int64_t other) {
  switch (sng_rng_below(r, 9)) {
  case 0: return 0;
  case 1: return -1;
  case 2: return old + 1;
  case 3: return old - 1;
  case 4: return old * 2;
  case 5: return other;
  case 6: return (int64_t)sng_rng_below(r, 64);
  case 7: return INT32_MAX;
  default: return old + other;
  }
}

static int pick_field(void *ctx, const SngPlanFieldRef *f) {
  Pick *k = ctx;
  if (f->type == SNG_FIELD_STR || f->type == SNG_FIELD_BLOB) return 0;
  int64_t v = 0;
  if (f->type == SNG_FIELD_I32) v = *(int32_t *)f->value;
  else if (f->type == SNG_FIELD_I64 || f->type == SNG_FIELD_U64) memcpy(&v, f->value, 8);
  if (k->at++ != k->target) {
    if (v && !sng_rng_below(k->rng, 8)) k->other = v;
    return 0;
  }
  int64_t w = new_value(k->rng, v, k->other);
  if (f->type == SNG_FIELD_I32 || f->type == SNG_FIELD_U32) *(int32_t *)f->value = (int32_t)w;
  else if (f->type == SNG_FIELD_F64) *(double *)f->value = (double)w;
  else memcpy(f->value, &w, 8);
  return 1;
}

static int count_field(void *ctx, const SngPlanFieldRef *f) {
  *(long *)ctx += f->type != SNG_FIELD_STR && f->type != SNG_FIELD_BLOB;
  return 0;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max, unsigned seed) {
  SngRng rng;
  sng_rng_seed(&rng, seed);
  if (size < 32 || sng_rng_below(&rng, 2)) return LLVMFuzzerMutate(data, size, max);
  sng_fuzz_fixup(data, size);
  char err[512];
  SngPlan *p = sng_plan_decode(data, size, err, sizeof err);
  if (!p) return LLVMFuzzerMutate(data, size, max);
  long n = 0;
  sng_plan_each_field(p, count_field, &n);
  for (int m = 1 + (int)sng_rng_below(&rng, 3); m > 0 && n > 0; m--) {
    Pick k = {&rng, (long)sng_rng_below(&rng, (uint64_t)n), 0, 1};
    sng_plan_each_field(p, pick_field, &k);
  }
  SngBuf b = {0};
  size_t out = size;
  if (!sng_plan_encode(p, &b) && b.len <= max) memcpy(data, b.data, out = b.len);
  sng_buf_free(&b);
  sng_plan_free(p);
  return out;
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
