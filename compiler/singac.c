/* singac - the singa compiler: model.sng -> plan.
 *
 *   singac model.sng -o model.plan     compile; prints nothing on success
 *   singac --dump-ir[=PASS] model.sng  print the IR after every pass (or one)
 *   singac --dump-kernels model.sng    print the fused kernels' LLVM IR
 *   singac --dump-dot model.sng        the partitioned net as a Graphviz graph
 *   singac --explain model.sng         what a step costs on each worker
 * Exit status: 0 ok, 1 errors in the input, 2 usage or system errors.
 */
#include "sng_lower.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out) {
  fputs("usage: singac [options] FILE.sng\n"
        "  -o FILE            write the plan to FILE (default: FILE with .plan for .sng)\n"
        "  --dump-ir[=PASS]   print the IR after every pass, or after PASS\n"
        "                     (see below); writes no plan\n"
        "  --dump-kernels     print the LLVM IR of every fused kernel; writes no plan\n"
        "  --dump-dot         print the partitioned net as a Graphviz graph (workers as\n"
        "                     clusters, bridges between them); writes no plan\n"
        "  --explain          print per worker and step: FLOPs, peak memory, bytes sent and\n"
        "                     received, the busiest link, and what partition = auto chose;\n"
        "                     writes no plan unless -o is given\n"
        "  --max-errors N     stop reporting after N errors, 1 to 10000 (default 20)\n"
        "  --time             print to stderr the seconds each stage and pass took, then\n"
        "                     plan validation and writing on their own\n"
        "  -v                 say what was written\n"
        "  -h, --help         this help\n"
        "passes:", out);
  for (int i = 0; sng_pass_names[i]; i++) fprintf(out, " %s", sng_pass_names[i]);
  fputc('\n', out);
}

/* Usage errors: a message naming the flag, and status 2. */
static int usage_error(const char *msg) {
  fprintf(stderr, "singac: %s\n", msg);
  fputs("try 'singac --help'\n", stderr);
  return 2;
}

int main(int argc, char **argv) {
  const char *in = NULL, *out = NULL;
  SngCompileOpts opts = {0};
  int verbose = 0, max_errors = 20, dump = 0, explain = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if ((!strcmp(a, "-o") || !strcmp(a, "--max-errors")) && i + 1 >= argc) {
      char msg[128];
      snprintf(msg, sizeof msg, "%s needs a value", a);
      return usage_error(msg);
    }
    if (!strcmp(a, "-o")) {
      out = argv[++i];
      if (!*out) return usage_error("-o needs a file name");
    }
    else if (!strcmp(a, "--dump-ir")) opts.dump_ir = stdout, dump = 1;
    else if (!strncmp(a, "--dump-ir=", 10)) opts.dump_ir = stdout, opts.dump_pass = a + 10, dump = 1;
    else if (!strcmp(a, "--dump-kernels")) opts.dump_kernels = stdout, dump = 1;
    else if (!strcmp(a, "--dump-dot")) opts.dump_dot = stdout, dump = 1;
    else if (!strcmp(a, "--explain")) opts.explain = stdout, explain = 1;
    else if (!strcmp(a, "--max-errors")) {
      int64_t n;
      char msg[256];
      if (sng_parse_int(a, argv[++i], 1, 10000, &n, msg, sizeof msg)) return usage_error(msg);
      max_errors = (int)n;
    }
    else if (!strcmp(a, "--time")) opts.timings = stderr;
    else if (!strcmp(a, "-v")) verbose = 1;
    else if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
    else if (a[0] == '-' && a[1]) {
      fprintf(stderr, "singac: unknown option '%s'\n", a);
      usage(stderr);
      return 2;
    } else if (in) {
      fprintf(stderr, "singac: one input file at a time ('%s' and '%s')\n", in, a);
      return 2;
    } else in = a;
  }
  if (!in) {
    usage(stderr);
    return 2;
  }
  if (opts.dump_pass) {
    int ok = 0, npasses = 0;
    for (; sng_pass_names[npasses]; npasses++) ok |= !strcmp(opts.dump_pass, sng_pass_names[npasses]);
    if (!ok) {
      fprintf(stderr, "singac: unknown pass '%s' for --dump-ir", opts.dump_pass);
      const char *s = sng_diag_suggest(opts.dump_pass, sng_pass_names, npasses);
      if (s) fprintf(stderr, " (did you mean '%s'?)", s);
      fputc('\n', stderr);
      return 2;
    }
  }
  char *deflt = NULL;
  if (explain && !out) dump = 1;
  if (!out && !dump) {
    size_t n = strlen(in);
    deflt = malloc(n + 6);
    memcpy(deflt, in, n + 1);
    if (n > 4 && !strcmp(deflt + n - 4, ".sng")) deflt[n - 4] = 0;
    strcat(deflt, ".plan");
    out = deflt;
  }
  SngDiag *d = sng_diag_new(stderr, max_errors);
  double t0 = sng_now();
  if (opts.timings) fputs("singac: seconds per stage\n", opts.timings);
  SngPlan *plan = sng_compile_file(in, d, &opts);
  double t1 = sng_now();
  if (opts.timings) fprintf(opts.timings, "  %-10s %8.3f s\n", "compile", t1 - t0);
  int rc = 0;
  if (!plan) {
    int n = sng_diag_errors(d);
    fprintf(stderr, "%d error%s; no plan written\n", n, n == 1 ? "" : "s");
    rc = 1;
  } else if (!dump) {
    char err[512];
    if (opts.timings) { /* validation on its own (sng_plan_write validates again) */
      double v0 = sng_now();
      int bad = sng_plan_validate(plan, err, sizeof err);
      fprintf(opts.timings, "  %-10s %8.3f s%s\n", "validate", sng_now() - v0, bad ? " (invalid)" : "");
      t1 = sng_now();
    }
    int wrc = sng_plan_write(plan, out, err, sizeof err);
    if (opts.timings) fprintf(opts.timings, "  %-10s %8.3f s (encode, validate, write)\n", "write", sng_now() - t1);
    if (wrc) {
      fprintf(stderr, "singac: %s\n", err);
      rc = 2;
    } else if (verbose) {
      fprintf(stderr, "singac: wrote %s (%d kernels, %d parameters)\n", out, plan->nkernels, plan->nparams);
    }
  }
  sng_plan_free(plan);
  sng_diag_free(d);
  free(deflt);
  return rc;
}
