/* singa-exec - runs a plan compiled by singac.
 *
 *   singa-exec model.plan                 train (embedded: every unit a thread of this process)
 *   singa-exec --describe model.plan      print what the plan holds
 * Exit status: 0 ok, 1 the run failed (bad plan, missing data, NaN loss, out of memory),
 * 2 usage, 130/143 stopped by SIGINT/SIGTERM (at a step boundary; a second signal: at once).
 */
#include "sng_comm.h"
#include "sng_exec.h"

#include <stdlib.h>
#include <string.h>

static void usage(FILE *out) {
  fputs("usage: singa-exec [options] PLAN\n"
        "  --describe         print what the plan holds and exit\n"
        "  --metrics FILE     write one JSON object per display and test event\n"
        "  --threads N        OpenBLAS threads per worker, 1 to 1024 (default: the cores\n"
        "                     shared among the plan's workers)\n"
        "  --data DIR         read the data files from DIR instead of where they were at compile time\n"
        "  --steps N          train N steps instead of the plan's (1 to 10^9)\n"
        "  --warmup N         leave the first N steps out of the final samples/s (0 to 10^9)\n"
        "  --test-batches N   test on at most N batches (0 to 10^9; 0: as the plan says)\n"
        "  --profile          print where a training step's time goes (sgemm, kernels, ...)\n"
        "  --dump-params FILE after training, write every parameter's values to FILE, one a line\n"
        "  --progress         a live progress bar even when stdout is not a terminal\n"
        "  --no-progress      plain lines even on a terminal\n"
        "  -h, --help         this help\n", out);
}

/* Usage errors: a message naming the flag, and status 2. */
static int usage_error(const char *msg) {
  fprintf(stderr, "singa-exec: %s\n", msg);
  fputs("try 'singa-exec --help'\n", stderr);
  return 2;
}

/* The value of flag argv[*i]: the next argument, or NULL (with the message) if there is none. */
static const char *value(int argc, char **argv, int *i) {
  if (*i + 1 >= argc) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s needs a value", argv[*i]);
    usage_error(msg);
    return NULL;
  }
  return argv[++*i];
}

/* The numeric flags, with the ranges they take. */
static const struct { const char *flag; int64_t min, max; } nums[] = {
  {"--threads", 1, 1024},
  {"--steps", 1, 1000000000},
  {"--warmup", 0, 1000000000},
  {"--test-batches", 0, 1000000000},   /* 0: the plan's test_steps */
};

/* A plan of several ranks runs under mpirun with exactly that many processes, and only then
 * is MPI started (docs/distributed.md); a one-rank plan never starts MPI.  Ranks other than 0
 * train silently: rank 0 prints, writes the metrics and the parameters. */
static int start_ranks(const SngPlan *p, const char *path, SngRunOpts *o, int *argc, char ***argv) {
  const char *env = getenv("OMPI_COMM_WORLD_SIZE"), *rank = getenv("OMPI_COMM_WORLD_RANK");
  if (!env && getenv("PMIX_RANK") && getenv("SLURM_NTASKS")) /* srun --mpi=pmix (docs/slurm.md) */
    env = getenv("SLURM_NTASKS"), rank = getenv("SLURM_PROCID");
  int launched = env ? atoi(env) : 1;
  if (p->nranks <= 1 && launched <= 1) return 0;
  char err[512];
  if (launched != p->nranks) {
    /* under mpirun every rank meets the others before leaving, so mpirun does not end the
     * job before rank 0 has said it */
    int under = launched > 1 && !sng_mpi_start(argc, argv, err, sizeof err);
    if (!rank || !strcmp(rank, "0")) {
      if (p->nranks > 1)
        fprintf(stderr, "singa-exec: this plan runs on %d processes: mpirun -np %d singa-exec %s (or srun -n %d)\n",
                p->nranks, p->nranks, path, p->nranks);
      else fprintf(stderr, "singa-exec: this plan runs on 1 process: singa-exec %s (without mpirun -np %d)\n", path,
                   launched);
      fflush(stderr);
    }
    if (under) sng_mpi_barrier(), sng_mpi_stop();
    return 2;
  }
  if (sng_mpi_start(argc, argv, err, sizeof err)) {
    fprintf(stderr, "singa-exec: %s\n", err);
    return 1;
  }
  if (sng_mpi_rank() != 0) {
    if (!(o->out = fopen("/dev/null", "w"))) o->out = stdout;
    o->metrics_path = NULL, o->progress = 0;
  }
  return 0;
}

int main(int argc, char **argv) {
  SngRunOpts o = sng_run_defaults();
  const char *path = NULL;
  int describe = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int k = -1;
    for (int j = 0; j < (int)(sizeof nums / sizeof *nums); j++)
      if (!strcmp(a, nums[j].flag)) k = j;
    if (k >= 0) {
      const char *v = value(argc, argv, &i);
      int64_t n;
      char msg[256];
      if (!v) return 2;
      if (sng_parse_int(a, v, nums[k].min, nums[k].max, &n, msg, sizeof msg)) return usage_error(msg);
      if (!strcmp(a, "--threads")) o.threads = (int)n;
      else if (!strcmp(a, "--steps")) o.steps = n;
      else if (!strcmp(a, "--warmup")) o.warmup = n;
      else o.test_limit = n;
    } else if (!strcmp(a, "--dump-params")) {
      const char *v = value(argc, argv, &i);
      if (!v) return 2;
      if (!*v) return usage_error("--dump-params needs a file name");
      o.dump_params = v;
    } else if (!strcmp(a, "--metrics") || !strcmp(a, "--data")) {
      const char *v = value(argc, argv, &i);
      if (!v) return 2;
      if (!*v) return usage_error(a[2] == 'm' ? "--metrics needs a file name" : "--data needs a folder");
      if (a[2] == 'm') o.metrics_path = v;
      else o.data_dir = v;
    }
    else if (!strcmp(a, "--describe")) describe = 1;
    else if (!strcmp(a, "--progress")) o.progress = 1;
    else if (!strcmp(a, "--profile")) o.profile = 1;
    else if (!strcmp(a, "--no-progress")) o.progress = 0;
    else if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
    else if (a[0] == '-') {
      fprintf(stderr, "singa-exec: unknown option '%s'\n", a);
      usage(stderr);
      return 2;
    } else if (path) {
      fprintf(stderr, "singa-exec: one plan at a time ('%s' and '%s')\n", path, a);
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
  else if ((rc = start_ranks(p, path, &o, &argc, &argv))) {
    sng_plan_free(p);
    return rc;
  } else {
    /* SIGINT/SIGTERM: stop at the next step boundary; a second one stops at once */
    sng_stop_install();
    int r = sng_run_train(p, &o, err, sizeof err);
    sng_stop_uninstall();
    if (r) {
      fflush(stdout);
      fprintf(stderr, "singa-exec: %s\n", err);
      rc = r > 0 ? 128 + r : 1;   /* the shell's status for a death by that signal */
    }
  }
  sng_plan_free(p);
  if (o.out != stdout) fclose(o.out);
  sng_mpi_stop();
  return rc;
}
