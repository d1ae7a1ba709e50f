/* singa-exec - runs a plan compiled by singac.
 *
 *   singa-exec model.plan                 train (embedded: every unit a thread of this process)
 *   singa-exec --describe model.plan      print what the plan holds
 * Exit status: 0 ok, 1 the run failed (bad plan, missing data, NaN loss), 2 usage.
 */
#include "sng_exec.h"

#include <stdlib.h>
#include <string.h>

static void usage(FILE *out) {
  fputs("usage: singa-exec [options] PLAN\n"
        "  --describe         print what the plan holds and exit\n"
        "  --metrics FILE     write one JSON object per display and test event\n"
        "  --threads N        OpenBLAS threads per worker (default: the cores shared\n"
        "                     among the plan's workers)\n"
        "  --data DIR         read the data files from DIR instead of where they were at compile time\n"
        "  --steps N          train N steps instead of the plan's\n"
        "  --warmup N         leave the first N steps out of the final samples/s\n"
        "  --test-batches N   test on at most N batches\n"
        "  --profile          print where a training step's time goes (sgemm, kernels, ...)\n"
        "  --progress         a live progress bar even when stdout is not a terminal\n"
        "  --no-progress      plain lines even on a terminal\n"
        "  -h, --help         this help\n", out);
}

static int64_t num(const char *opt, const char *v) {
  char *end;
  long long n = strtoll(v, &end, 10);
  if (*end || n < 0) {
    fprintf(stderr, "singa-exec: %s wants a non-negative integer, got '%s'\n", opt, v);
    exit(2);
  }
  return n;
}

int main(int argc, char **argv) {
  SngRunOpts o = sng_run_defaults();
  const char *path = NULL;
  int describe = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int more = i + 1 < argc;
    if (!strcmp(a, "--describe")) describe = 1;
    else if (!strcmp(a, "--metrics") && more) o.metrics_path = argv[++i];
    else if (!strcmp(a, "--threads") && more) o.threads = (int)num(a, argv[++i]);
    else if (!strcmp(a, "--data") && more) o.data_dir = argv[++i];
    else if (!strcmp(a, "--steps") && more) o.steps = num(a, argv[++i]);
    else if (!strcmp(a, "--warmup") && more) o.warmup = num(a, argv[++i]);
    else if (!strcmp(a, "--test-batches") && more) o.test_limit = num(a, argv[++i]);
    else if (!strcmp(a, "--progress")) o.progress = 1;
    else if (!strcmp(a, "--profile")) o.profile = 1;
    else if (!strcmp(a, "--no-progress")) o.progress = 0;
    else if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
    else if (a[0] == '-') {
      fprintf(stderr, "singa-exec: unknown option '%s'\n", a);
      usage(stderr);
      return 2;
    } else if (path) {
      fprintf(stderr, "singa-exec: one plan at a time\n");
      return 2;
    } else path = a;
  }
  if (!path) {
    usage(stderr);
    return 2;
  }
  char err[1024];
  SngPlan *p = sng_plan_read(path, err, sizeof err);
  if (!p) {
    fprintf(stderr, "singa-exec: %s\n", err);
    return 1;
  }
  int rc = 0;
  if (describe) sng_plan_describe(stdout, p);
  else if (sng_run_train(p, &o, err, sizeof err)) {
    fflush(stdout);
    fprintf(stderr, "singa-exec: %s\n", err);
    rc = 1;
  }
  sng_plan_free(p);
  return rc;
}
