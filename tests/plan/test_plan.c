/* test_plan.c - the plan file: round trips, and refusal of every kind of bad file with a
 * message that names the fault.  Corruption is exercised exhaustively (every truncation of
 * the header, every single-bit flip of a whole file) since a crash there would be a crash of
 * singa-exec on a damaged download.
 */
#include "sng_plan.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static const uint8_t fake_bc0[] = {'B', 'C', 0xc0, 0xde, 1, 2, 3};
static const uint8_t fake_bc1[] = {'B', 'C', 0xc0, 0xde, 9};

static int32_t *ints(SngArena *a, int n, const int32_t *v) {
  int32_t *p = sng_arena_alloc(a, (size_t)n * sizeof *p);
  if (n) memcpy(p, v, (size_t)n * sizeof *p);
  return p;
}

/* dims d0, d1 (rank 1: d0 only) and the piece's origin s0, s1 */
static void tensor(SngPlanTensor *t, const char *name, int kind, int param, int64_t offset,
                   int rank, int64_t d0, int64_t d1, int64_t s0, int64_t s1) {
  *t = (SngPlanTensor){.name = name, .rank = rank, .dims = {d0, d1}, .kind = kind,
                       .param = param, .start = {s0, s1}, .offset = offset};
}

static SngPlanOp *op(SngArena *a, SngPlanOp *o, int code, int phase, int kernel, const char *name,
                     int nin, const int32_t *in, int nout, const int32_t *out) {
  *o = (SngPlanOp){.op = code, .phase = phase, .kernel = kernel, .name = name, .nin = nin,
                   .nout = nout, .in = ints(a, nin, in), .out = ints(a, nout, out)};
  return o;
}

enum { FWD = SNG_PHASE_FWD_ALL, BWD = SNG_PHASE_BACKWARD };
enum { TEMP = SNG_TENSOR_TEMP, INPUT = SNG_TENSOR_INPUT, PARAM = SNG_TENSOR_PARAM,
       GRAD = SNG_TENSOR_GRAD, BRIDGE = SNG_TENSOR_BRIDGE };

/* Worker 0: x . w0 = h0, receives h1 from worker 1 over channel 0, z = relu(concat(h0, h1) + b),
 * a per-row score, and the gradients of its pieces.  Arena offsets are multiples of 64. */
static void make_graph0(SngArena *a, SngPlanGraph *g) {
  *g = (SngPlanGraph){.worker = 0, .ntensors = 10, .nops = 7, .arena_bytes = 512, .loss = 7,
                      .metric = -1, .batch = 4};
  SngPlanTensor *t = g->tensors = sng_arena_alloc(a, 10 * sizeof *t);
  tensor(&t[0], "x", INPUT, 0, 0, 2, 4, 3, 0, 0);            /* [0, 48) */
  tensor(&t[1], "w0", PARAM, 0, -1, 2, 3, 1, 0, 0);          /* column 0 of dense1.w */
  tensor(&t[2], "h0", TEMP, -1, 64, 2, 4, 1, 0, 0);          /* [64, 80) */
  tensor(&t[3], "h1", BRIDGE, -1, 128, 2, 4, 1, 0, 0);       /* [128, 144) */
  tensor(&t[4], "b", PARAM, 1, -1, 1, 2, 0, 0, 0);
  tensor(&t[5], "z", TEMP, -1, 192, 2, 4, 2, 0, 0);          /* [192, 224) */
  tensor(&t[6], "label", INPUT, 1, 256, 1, 4, 0, 0, 0);      /* [256, 272) */
  tensor(&t[7], "loss", TEMP, -1, 320, 1, 4, 0, 0, 0);       /* [320, 336) */
  tensor(&t[8], "w0.grad", GRAD, 0, 384, 2, 3, 1, 0, 0);     /* [384, 396) */
  tensor(&t[9], "b.grad", GRAD, 1, 448, 1, 2, 0, 0, 0);      /* [448, 456) */
  SngPlanOp *o = g->ops = sng_arena_alloc(a, 7 * sizeof *o);
  op(a, &o[0], SNG_OP_MATMUL, FWD, -1, "h0", 2, (int32_t[]){0, 1}, 1, (int32_t[]){2});
  op(a, &o[1], SNG_OP_BRIDGE, FWD, -1, "h1", 0, NULL, 1, (int32_t[]){3})->iattr[1] = 1;
  op(a, &o[2], SNG_OP_CONCAT, FWD, -1, "z", 2, (int32_t[]){2, 3}, 1, (int32_t[]){5})->iattr[0] = 1;
  op(a, &o[3], SNG_OP_KERNEL, FWD, 0, "relu", 2, (int32_t[]){5, 4}, 1, (int32_t[]){5});
  o[3].rows = 4;
  o[3].cols = 2;
  op(a, &o[4], SNG_OP_ACCURACY, FWD, -1, "loss", 2, (int32_t[]){5, 6}, 1, (int32_t[]){7});
  op(a, &o[5], SNG_OP_MATMUL, BWD, -1, "w0.grad", 2, (int32_t[]){0, 2}, 1, (int32_t[]){8});
  o[5].iattr[0] = 1;     /* transpose flags and the like must survive the trip */
  o[5].iattr[3] = -7;
  o[5].fattr[1] = 0.25;
  o[5].fattr[3] = -1e-30;
  op(a, &o[6], SNG_OP_REDUCE_ROWS, BWD, -1, "b.grad", 1, (int32_t[]){5}, 1, (int32_t[]){9});
}

/* Worker 1: x . w1 = h1, sent to worker 0 over channel 0 (an op without a name). */
static void make_graph1(SngArena *a, SngPlanGraph *g) {
  *g = (SngPlanGraph){.worker = 1, .ntensors = 4, .nops = 3, .arena_bytes = 192, .loss = -1,
                      .metric = -1, .batch = 4};
  SngPlanTensor *t = g->tensors = sng_arena_alloc(a, 4 * sizeof *t);
  tensor(&t[0], "x", INPUT, 0, 0, 2, 4, 3, 0, 0);
  tensor(&t[1], "w1", PARAM, 0, -1, 2, 3, 1, 0, 1);          /* column 1 of dense1.w */
  tensor(&t[2], "h1", TEMP, -1, 64, 2, 4, 1, 0, 0);
  tensor(&t[3], "w1.grad", GRAD, 0, 128, 2, 3, 1, 0, 1);
  SngPlanOp *o = g->ops = sng_arena_alloc(a, 3 * sizeof *o);
  op(a, &o[0], SNG_OP_MATMUL, FWD, -1, "h1", 2, (int32_t[]){0, 1}, 1, (int32_t[]){2});
  op(a, &o[1], SNG_OP_BRIDGE, FWD, -1, NULL, 1, (int32_t[]){2}, 0, NULL);
  op(a, &o[2], SNG_OP_MATMUL, BWD, -1, "w1.grad", 2, (int32_t[]){0, 2}, 1, (int32_t[]){3})->iattr[0] = 1;
}

/* A small but complete plan: two workers with a bridge between them on rank 0, two servers on
 * rank 1 holding the params' slices, a fused kernel with broadcast buffers. */
static SngPlan *make_plan(void) {
  SngPlan *p = sng_plan_new();
  SngArena *a = p->arena;
  p->source = "examples/mlp.sng";
  p->nranks = 2;
  p->cluster = (SngPlanCluster){.worker_groups = 1, .workers_per_group = 2, .server_groups = 1,
                                .servers_per_group = 2, .framework = SNG_FW_SANDBLASTER};
  p->nunits = 4;
  p->units = sng_arena_alloc(a, 4 * sizeof *p->units);
  p->units[0] = (SngPlanUnit){SNG_UNIT_WORKER, 0, 0, 0, 0, 0};
  p->units[1] = (SngPlanUnit){SNG_UNIT_WORKER, 0, 1, 0, 1, 1};
  p->units[2] = (SngPlanUnit){SNG_UNIT_SERVER, 0, 0, 1, 0, -1};
  p->units[3] = (SngPlanUnit){SNG_UNIT_SERVER, 0, 1, 1, 1, -1};
  p->ngraphs = 2;
  p->graphs = sng_arena_alloc(a, 2 * sizeof *p->graphs);
  make_graph0(a, &p->graphs[0]);
  make_graph1(a, &p->graphs[1]);

  p->nkernels = 2;
  p->kernels = sng_arena_alloc(a, 2 * sizeof *p->kernels);
  p->kernels[0] = (SngPlanKernel){.symbol = "k0", .members = "bias_add+relu", .nbufs = 3,
                                  .bcast = "FRF", .bitcode = fake_bc0, .bitcode_len = sizeof fake_bc0};
  p->kernels[1] = (SngPlanKernel){.symbol = "k1", .members = "sgd", .rowwise = 1, .nbufs = 3,
                                  .nscalars = 3, .bcast = "FFF", .bitcode = fake_bc1,
                                  .bitcode_len = sizeof fake_bc1};
  p->nparams = 2;
  p->params = sng_arena_alloc(a, 2 * sizeof *p->params);
  p->params[0] = (SngPlanParam){.name = "dense1.w", .rank = 2, .dims = {3, 2},
                                .init = SNG_PINIT_UNIFORM, .init_a = -0.1, .init_b = 0.1,
                                .lr_mult = 1, .wd_mult = 2};
  p->params[1] = (SngPlanParam){.name = "dense1.b", .rank = 1, .dims = {2},
                                .init = SNG_PINIT_CONSTANT, .lr_mult = 2};
  p->nslices = 3;
  p->slices = sng_arena_alloc(a, 3 * sizeof *p->slices);
  p->slices[0] = (SngPlanSlice){.param = 0, .offset = 0, .len = 3, .server = 2};
  p->slices[1] = (SngPlanSlice){.param = 0, .offset = 3, .len = 3, .server = 3};
  p->slices[2] = (SngPlanSlice){.param = 1, .offset = 0, .len = 2, .server = 3};
  p->data = (SngPlanData){.name = "fmnist", .format = "idx",
                          .train = {"/d/train-images-idx3-ubyte.gz", "/d/train-labels-idx1-ubyte.gz"},
                          .test = {"/d/t10k-images-idx3-ubyte.gz", "/d/t10k-labels-idx1-ubyte.gz"},
                          .batch = 4, .shuffle = 1, .scale = 1.0 / 255, .standardize = 1,
                          .sample_rank = 1, .sample_dims = {3}, .classes = 2};
  p->updater = (SngPlanUpdater){.kind = SNG_UPD_SGD, .lr = 0.1, .momentum = 0.9,
                                .weight_decay = 5e-4, .schedule = SNG_SCHED_STEP,
                                .sched_gamma = 0.5, .sched_every = 100, .kernel = 1, .nstate = 1};
  p->train = (SngPlanTrain){.net = "mlp", .alg = NULL, .steps = 1000, .display_every = 100,
                            .test_every = 500, .test_steps = 10, .seed = 0xfedcba9876543210ull};
  return p;
}

static void encode(const SngPlan *p, SngBuf *b) {
  *b = (SngBuf){0};
  cr_assert_eq(sng_plan_encode(p, b), 0);
  cr_assert_gt(b->len, 32);
}

/* ---- field-by-field equality ---- */

static void str_eq(const char *a, const char *b, const char *what) {
  if (!a || !b) cr_assert(a == b, "%s: one string is NULL", what);
  else cr_assert_str_eq(a, b, "%s", what);
}

static void dims_eq(const int64_t *a, const int64_t *b, int n, const char *what) {
  for (int i = 0; i < n; i++) cr_assert_eq(a[i], b[i], "%s dim %d", what, i);
}

static void graph_eq(const SngPlanGraph *a, const SngPlanGraph *b) {
  cr_assert_eq(a->worker, b->worker);
  cr_assert_eq(a->ntensors, b->ntensors);
  for (int i = 0; i < a->ntensors; i++) {
    const SngPlanTensor *x = &a->tensors[i], *y = &b->tensors[i];
    str_eq(x->name, y->name, "tensor name");
    cr_assert_eq(x->rank, y->rank);
    dims_eq(x->dims, y->dims, 4, "tensor");
    cr_assert_eq(x->kind, y->kind);
    cr_assert_eq(x->param, y->param);
    dims_eq(x->start, y->start, 4, "start");
    cr_assert_eq(x->offset, y->offset);
  }
  cr_assert_eq(a->nops, b->nops);
  for (int i = 0; i < a->nops; i++) {
    const SngPlanOp *x = &a->ops[i], *y = &b->ops[i];
    cr_assert_eq(x->op, y->op);
    cr_assert_eq(x->phase, y->phase);
    cr_assert_eq(x->kernel, y->kernel);
    cr_assert_eq(x->nin, y->nin);
    cr_assert_eq(x->nout, y->nout);
    for (int k = 0; k < x->nin; k++) cr_assert_eq(x->in[k], y->in[k]);
    for (int k = 0; k < x->nout; k++) cr_assert_eq(x->out[k], y->out[k]);
    dims_eq(x->iattr, y->iattr, 4, "iattr");
    cr_assert_eq(memcmp(x->fattr, y->fattr, sizeof x->fattr), 0, "fattr bit-exact");
    cr_assert_eq(x->rows, y->rows);
    cr_assert_eq(x->cols, y->cols);
    str_eq(x->name, y->name, "op name");
  }
  cr_assert_eq(a->arena_bytes, b->arena_bytes);
  cr_assert_eq(a->loss, b->loss);
  cr_assert_eq(a->metric, b->metric);
  cr_assert_eq(a->batch, b->batch);
}

static void plan_eq(const SngPlan *a, const SngPlan *b) {
  cr_assert_eq(a->version, b->version);
  str_eq(a->source, b->source, "source");
  cr_assert_eq(a->nranks, b->nranks);
  cr_assert_eq(a->nunits, b->nunits);
  if (a->nunits) cr_assert_eq(memcmp(a->units, b->units, (size_t)a->nunits * sizeof *a->units), 0);
  cr_assert_eq(a->ngraphs, b->ngraphs);
  for (int i = 0; i < a->ngraphs; i++) graph_eq(&a->graphs[i], &b->graphs[i]);
  cr_assert_eq(a->nkernels, b->nkernels);
  for (int i = 0; i < a->nkernels; i++) {
    const SngPlanKernel *x = &a->kernels[i], *y = &b->kernels[i];
    str_eq(x->symbol, y->symbol, "symbol");
    str_eq(x->members, y->members, "members");
    cr_assert_eq(x->rowwise, y->rowwise);
    cr_assert_eq(x->nbufs, y->nbufs);
    cr_assert_eq(x->nscalars, y->nscalars);
    str_eq(x->bcast, y->bcast, "bcast");
    cr_assert_eq(x->bitcode_len, y->bitcode_len);
    if (x->bitcode_len) cr_assert_eq(memcmp(x->bitcode, y->bitcode, x->bitcode_len), 0);
  }
  cr_assert_eq(a->nparams, b->nparams);
  for (int i = 0; i < a->nparams; i++) {
    const SngPlanParam *x = &a->params[i], *y = &b->params[i];
    str_eq(x->name, y->name, "param name");
    cr_assert_eq(x->rank, y->rank);
    dims_eq(x->dims, y->dims, 4, "param");
    cr_assert_eq(x->init, y->init);
    cr_assert_eq(x->init_a, y->init_a);
    cr_assert_eq(x->init_b, y->init_b);
    cr_assert_eq(x->lr_mult, y->lr_mult);
    cr_assert_eq(x->wd_mult, y->wd_mult);
  }
  cr_assert_eq(a->nslices, b->nslices);
  if (a->nslices) cr_assert_eq(memcmp(a->slices, b->slices, (size_t)a->nslices * sizeof *a->slices), 0);
  const SngPlanData *d = &a->data, *e = &b->data;
  str_eq(d->name, e->name, "data name");
  str_eq(d->format, e->format, "format");
  for (int i = 0; i < 2; i++) str_eq(d->train[i], e->train[i], "train path");
  for (int i = 0; i < 2; i++) str_eq(d->test[i], e->test[i], "test path");
  cr_assert_eq(d->batch, e->batch);
  cr_assert_eq(d->shuffle, e->shuffle);
  cr_assert_eq(d->scale, e->scale);
  cr_assert_eq(d->standardize, e->standardize);
  cr_assert_eq(d->sample_rank, e->sample_rank);
  dims_eq(d->sample_dims, e->sample_dims, 3, "sample");
  cr_assert_eq(d->classes, e->classes);
  cr_assert_eq(memcmp(&a->updater, &b->updater, sizeof a->updater), 0, "updater");
  const SngPlanTrain *t = &a->train, *u = &b->train;
  str_eq(t->net, u->net, "net");
  str_eq(t->alg, u->alg, "alg");
  cr_assert_eq(t->steps, u->steps);
  cr_assert_eq(t->display_every, u->display_every);
  cr_assert_eq(t->test_every, u->test_every);
  cr_assert_eq(t->test_steps, u->test_steps);
  cr_assert_eq(t->seed, u->seed);
  cr_assert_eq(memcmp(&a->cluster, &b->cluster, sizeof a->cluster), 0, "cluster");
}

/* ---- files ---- */

static char tmpdir[64];

static void mk_tmpdir(void) {
  strcpy(tmpdir, "/tmp/sng_plan_test_XXXXXX");
  cr_assert_not_null(mkdtemp(tmpdir));
}

static int count_entries(const char *dir) {
  DIR *d = opendir(dir);
  cr_assert_not_null(d);
  int n = 0;
  for (struct dirent *e; (e = readdir(d));)
    n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
  closedir(d);
  return n;
}

static void rm_tmpdir(void) {
  DIR *d = opendir(tmpdir);
  if (!d) return;
  char path[512];
  for (struct dirent *e; (e = readdir(d));) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    snprintf(path, sizeof path, "%s/%s", tmpdir, e->d_name);
    unlink(path);
  }
  closedir(d);
  rmdir(tmpdir);
}

static void write_bytes(const char *path, const void *p, size_t n) {
  FILE *f = fopen(path, "wb");
  cr_assert_not_null(f);
  cr_assert_eq(fwrite(p, 1, n, f), n);
  fclose(f);
}

/* Decodes bytes that must be refused; returns the message. */
static const char *refused(const void *data, size_t len) {
  static char err[512];
  err[0] = 0;
  SngPlan *q = sng_plan_decode(data, len, err, sizeof err);
  cr_assert_null(q, "decode accepted a bad plan of %zu bytes", len);
  cr_assert_neq(err[0], 0, "no message");
  return err;
}

/* memmem is a GNU extension; the build is strict POSIX */
static uint8_t *find(uint8_t *hay, size_t n, const char *needle) {
  size_t m = strlen(needle);
  for (size_t i = 0; i + m <= n; i++)
    if (!memcmp(hay + i, needle, m)) return hay + i;
  return NULL;
}

static void fix_header_crc(uint8_t *h) {
  uint32_t c = (uint32_t)crc32(0, h, 28);
  memcpy(h + 28, &c, 4);
}

static void fix_payload_crc(SngBuf *b) {
  uint32_t c = (uint32_t)crc32(0, b->data + 32, (uInt)(b->len - 32));
  memcpy(b->data + 24, &c, 4);
  fix_header_crc(b->data);
}

/* ---- round trips ---- */

Test(plan, round_trip_in_memory) {
  SngPlan *p = make_plan();
  char err[256] = "";
  cr_assert_eq(sng_plan_validate(p, err, sizeof err), 0, "%s", err);
  SngBuf b;
  encode(p, &b);
  SngPlan *q = sng_plan_decode(b.data, b.len, err, sizeof err);
  cr_assert_not_null(q, "%s", err);
  plan_eq(p, q);
  /* decoded bitcode is a copy in the plan's arena, not a pointer into the buffer */
  cr_assert((const uint8_t *)q->kernels[0].bitcode < b.data ||
            (const uint8_t *)q->kernels[0].bitcode >= b.data + b.len);
  /* encoding is deterministic: the decoded plan encodes to the same bytes */
  SngBuf c;
  encode(q, &c);
  cr_assert_eq(c.len, b.len);
  cr_assert_eq(memcmp(c.data, b.data, b.len), 0);
  sng_buf_free(&b);
  sng_buf_free(&c);
  sng_plan_free(p);
  sng_plan_free(q);
}

Test(plan, empty_plan_encodes_but_is_refused) {
  SngPlan *p = sng_plan_new();   /* no units, graphs, kernels, params; NULL strings */
  SngBuf b;
  encode(p, &b);                 /* the encoder only needs a walkable struct */
  cr_assert_str_eq(refused(b.data, b.len), "plan: invalid plan: data: batch is 0 (must be >= 1)");
  sng_buf_free(&b);
  sng_plan_free(p);
}

Test(plan, write_read_file, .init = mk_tmpdir, .fini = rm_tmpdir) {
  SngPlan *p = make_plan();
  char path[128], err[256] = "";
  snprintf(path, sizeof path, "%s/mlp.plan", tmpdir);
  cr_assert_eq(sng_plan_write(p, path, err, sizeof err), 0, "%s", err);
  cr_assert_eq(count_entries(tmpdir), 1, "only the plan, no temporary file");
  SngPlan *q = sng_plan_read(path, err, sizeof err);
  cr_assert_not_null(q, "%s", err);
  plan_eq(p, q);
  /* overwriting an existing plan works and still leaves one file */
  cr_assert_eq(sng_plan_write(q, path, err, sizeof err), 0, "%s", err);
  cr_assert_eq(count_entries(tmpdir), 1);
  sng_plan_free(p);
  sng_plan_free(q);
}

/* ---- refusals: files ---- */

Test(plan, missing_file) {
  char err[256] = "";
  cr_assert_null(sng_plan_read("/nonexistent/dir/mlp.plan", err, sizeof err));
  cr_assert_str_eq(err, "/nonexistent/dir/mlp.plan: cannot open: No such file or directory");
}

Test(plan, empty_file, .init = mk_tmpdir, .fini = rm_tmpdir) {
  char path[128], err[256] = "";
  snprintf(path, sizeof path, "%s/mlp.plan", tmpdir);
  write_bytes(path, "", 0);
  cr_assert_null(sng_plan_read(path, err, sizeof err));
  char want[256];
  snprintf(want, sizeof want, "%s: empty file (not a singa plan)", path);
  cr_assert_str_eq(err, want);
}

Test(plan, write_into_missing_directory, .init = mk_tmpdir, .fini = rm_tmpdir) {
  SngPlan *p = make_plan();
  char path[128], err[256] = "";
  snprintf(path, sizeof path, "%s/no/such/dir/mlp.plan", tmpdir);
  cr_assert_neq(sng_plan_write(p, path, err, sizeof err), 0);
  char want[256];
  snprintf(want, sizeof want, "%s: cannot write: No such file or directory", path);
  cr_assert_str_eq(err, want);
  cr_assert_eq(count_entries(tmpdir), 0, "nothing left behind");
  sng_plan_free(p);
}

Test(plan, write_refuses_invalid_plan, .init = mk_tmpdir, .fini = rm_tmpdir) {
  SngPlan *p = make_plan();
  p->graphs[0].ops[0].in[1] = 99;
  char path[128], err[512] = "";
  snprintf(path, sizeof path, "%s/mlp.plan", tmpdir);
  cr_assert_neq(sng_plan_write(p, path, err, sizeof err), 0);
  cr_assert(strstr(err, ": refusing to write: invalid plan: graph 0 op 0 (h0): input 1 is tensor 99"),
            "%s", err);
  cr_assert_eq(count_entries(tmpdir), 0, "nothing written");
  sng_plan_free(p);
}

/* ---- refusals: header and checksums ---- */

Test(plan, truncated_everywhere) {
  SngPlan *p = make_plan();
  SngBuf b;
  encode(p, &b);
  size_t plen = b.len - 32;
  for (size_t n = 0; n <= 64; n++) {
    const char *e = refused(b.data, n);
    if (n == 0) cr_assert_str_eq(e, "plan: empty file (not a singa plan)");
    else if (n < 32) cr_assert(strstr(e, "plan: truncated (the header is 32 bytes, found "), "%zu: %s", n, e);
    else cr_assert(strstr(e, "plan: truncated (expected "), "%zu: %s", n, e);
  }
  size_t more[] = {b.len / 2, b.len - 8, b.len - 1};
  for (size_t i = 0; i < 3; i++) {
    char want[128];
    snprintf(want, sizeof want, "plan: truncated (expected %zu bytes of payload, found %zu)", plen,
             more[i] - 32);
    cr_assert_str_eq(refused(b.data, more[i]), want);
  }
  /* and one byte too many is not silently ignored */
  sng_buf_put_u8(&b, 0);
  cr_assert_str_eq(refused(b.data, b.len), "plan: 1 unexpected bytes after the payload");
  sng_buf_free(&b);
  sng_plan_free(p);
}

Test(plan, every_single_bit_flip_is_refused) {
  SngPlan *p = make_plan();
  SngBuf b;
  encode(p, &b);
  for (size_t i = 0; i < b.len; i++)
    for (int bit = 0; bit < 8; bit++) {
      b.data[i] ^= (uint8_t)(1u << bit);
      const char *e = refused(b.data, b.len);
      const char *want = i < 8 ? "plan: not a singa plan (bad magic)"
                         : i < 32 ? "plan: header checksum mismatch: the file is corrupted"
                                  : "plan: checksum mismatch: the file is corrupted";
      cr_assert_str_eq(e, want, "byte %zu bit %d", i, bit);
      b.data[i] ^= (uint8_t)(1u << bit);
    }
  sng_buf_free(&b);
  sng_plan_free(p);
}

Test(plan, wrong_magic) {
  char err[256] = "";
  cr_assert_null(sng_plan_decode("#!/bin/sh\necho hello\n", 21, err, sizeof err));
  cr_assert_str_eq(err, "plan: not a singa plan (bad magic)");
  cr_assert_str_eq(refused("SNG", 3), "plan: truncated (the header is 32 bytes, found 3)");
  cr_assert_str_eq(refused("ELF", 3), "plan: not a singa plan (bad magic)");
}

Test(plan, future_version, .init = mk_tmpdir, .fini = rm_tmpdir) {
  SngPlan *p = make_plan();
  SngBuf b;
  encode(p, &b);
  uint32_t v = 7;
  memcpy(b.data + 8, &v, 4);
  fix_header_crc(b.data);
  cr_assert(strstr(refused(b.data, b.len),
                   "plan: plan format version 7, this singa-exec reads version 5"));
  char path[128], err[256] = "";
  snprintf(path, sizeof path, "%s/mlp.plan", tmpdir);
  write_bytes(path, b.data, b.len);
  cr_assert_null(sng_plan_read(path, err, sizeof err));
  char want[200];
  snprintf(want, sizeof want, "%s: plan format version 7, this singa-exec reads version 5", path);
  cr_assert_eq(strncmp(err, want, strlen(want)), 0, "%s", err);
  sng_buf_free(&b);
  sng_plan_free(p);
}

Test(plan, op_table_from_another_build) {
  SngPlan *p = make_plan();
  SngBuf b;
  encode(p, &b);
  uint8_t *hit = find(b.data, b.len, "SOFTMAX_XENT_BWD");
  cr_assert_not_null(hit);
  hit[15] = 'X';   /* a renamed op: same lengths, valid checksums */
  fix_payload_crc(&b);
  cr_assert_str_eq(refused(b.data, b.len),
                   "plan: op table differs from this build (plan compiled by another singa version)");
  sng_buf_free(&b);
  sng_plan_free(p);
}

Test(plan, malformed_section_with_valid_checksum) {
  SngPlan *p = make_plan();
  SngBuf b;
  encode(p, &b);
  /* the first section is META: claim a body one byte shorter than it is */
  uint64_t n;
  memcpy(&n, b.data + 36, 8);
  n -= 1;
  memcpy(b.data + 36, &n, 8);
  fix_payload_crc(&b);
  cr_assert(strstr(refused(b.data, b.len), "plan: malformed section META at payload offset 0"));
  sng_buf_free(&b);
  sng_plan_free(p);
}

Test(plan, missing_section) {
  SngPlan *p = make_plan();
  SngBuf b;
  encode(p, &b);
  /* retag the last section (CLUSTER) as a second META */
  uint8_t *hit = NULL;
  for (uint8_t *q = b.data + 32; (q = find(q, (size_t)(b.data + b.len - q), "CLST")); q++) hit = q;
  cr_assert_not_null(hit);
  memcpy(hit, "META", 4);
  fix_payload_crc(&b);
  cr_assert_str_eq(refused(b.data, b.len), "plan: section META appears twice");
  memcpy(hit, "ZZZZ", 4);
  fix_payload_crc(&b);
  cr_assert(strstr(refused(b.data, b.len), "plan: unknown section tag"));
  sng_buf_free(&b);
  sng_plan_free(p);
}

/* Damage that a checksum cannot see (the writer's own bugs, or a crafted file): random bytes
 * rewritten and the payload cut short, with both CRCs fixed up, so every bounds check of the
 * section parser is reached.  Each plan must be refused with a message or decode to a plan
 * that validates and can be described; under ASan any overrun fails the test. */
Test(plan, damage_behind_valid_checksums_never_crashes) {
  SngPlan *p = make_plan();
  SngBuf b;
  encode(p, &b);
  uint8_t *copy = malloc(b.len);
  SngRng rng;
  sng_rng_seed(&rng, 7);
  FILE *devnull = fopen("/dev/null", "w");
  int accepted = 0;
  for (int it = 0; it < 3000; it++) {
    memcpy(copy, b.data, b.len);
    size_t len = b.len;
    if (it % 3 == 0) {   /* cut the payload and make the header agree */
      uint64_t plen = sng_rng_below(&rng, b.len - 32);
      len = 32 + (size_t)plen;
      memcpy(copy + 16, &plen, 8);
    } else {
      for (int k = 1 + (int)sng_rng_below(&rng, 3); k > 0; k--)
        copy[32 + sng_rng_below(&rng, b.len - 32)] = (uint8_t)sng_rng_next(&rng);
    }
    SngBuf c = {.data = copy, .len = len};
    fix_payload_crc(&c);
    char err[512] = "";
    SngPlan *q = sng_plan_decode(copy, len, err, sizeof err);
    if (q) {
      accepted++;
      cr_assert_eq(sng_plan_validate(q, err, sizeof err), 0, "%s", err);
      sng_plan_describe(devnull, q);
      sng_plan_free(q);
    } else {
      cr_assert_eq(strncmp(err, "plan: ", 6), 0, "%s", err);
    }
  }
  cr_log_info("%d of 3000 damaged plans still decoded (harmless values changed)", accepted);
  fclose(devnull);
  free(copy);
  sng_buf_free(&b);
  sng_plan_free(p);
}

/* ---- refusals: semantics behind a valid checksum ---- */

typedef struct Bad { void (*mutate)(SngPlan *); const char *msg; } Bad;

static SngPlanTensor *t0(SngPlan *p, int i) { return &p->graphs[0].tensors[i]; }
static SngPlanOp *o0(SngPlan *p, int i) { return &p->graphs[0].ops[i]; }
static SngPlanOp *send_op(SngPlan *p) { return &p->graphs[1].ops[1]; }

/* one value out of its own range (fields.def) */
static void bad_opcode(SngPlan *p) { o0(p, 0)->op = SNG_OP__COUNT; }
static void bad_phase(SngPlan *p) { o0(p, 0)->phase = SNG_PHASE__COUNT; }
static void bad_rank(SngPlan *p) { t0(p, 2)->rank = 5; }
static void bad_dim(SngPlan *p) { t0(p, 2)->dims[1] = 0; }
static void bad_tensor_kind(SngPlan *p) { t0(p, 2)->kind = SNG_TENSOR__COUNT; }
static void bad_negative_offset(SngPlan *p) { t0(p, 0)->offset = -4; }
static void bad_param_dim(SngPlan *p) { p->params[0].dims[0] = -3; }
static void bad_unit_kind(SngPlan *p) { p->units[2].kind = 2; }
static void bad_framework(SngPlan *p) { p->cluster.framework = SNG_FW__COUNT; }
static void bad_nranks(SngPlan *p) { p->nranks = 0; }
static void bad_sample_rank(SngPlan *p) { p->data.sample_rank = 4; }
static void bad_sample_dim(SngPlan *p) { p->data.sample_dims[0] = 0; }
static void bad_classes(SngPlan *p) { p->data.classes = 0; }
static void bad_steps(SngPlan *p) { p->train.steps = 0; }
static void bad_symbol(SngPlan *p) { p->kernels[1].symbol = NULL; }
/* tensors */
static void bad_param(SngPlan *p) { t0(p, 1)->param = 2; }
static void bad_offset(SngPlan *p) { t0(p, 9)->offset = 508; }
static void bad_temp_without_arena(SngPlan *p) { t0(p, 2)->offset = -1; }
static void bad_param_in_arena(SngPlan *p) { t0(p, 1)->offset = 0; }
static void bad_input_slot(SngPlan *p) { t0(p, 6)->param = 2; }
static void bad_input_rows(SngPlan *p) { t0(p, 6)->start[0] = 1; }
static void bad_piece_outside(SngPlan *p) { p->graphs[1].tensors[1].start[1] = 2; }
static void bad_piece_rank(SngPlan *p) { t0(p, 4)->rank = 2; t0(p, 4)->dims[1] = 1; }
/* ops and kernels */
static void bad_in(SngPlan *p) { o0(p, 0)->in[1] = 99; }
static void bad_out(SngPlan *p) { o0(p, 4)->out[0] = -1; }
static void bad_kernel(SngPlan *p) { o0(p, 3)->kernel = 2; }
static void bad_kernel_on_matmul(SngPlan *p) { o0(p, 0)->kernel = 0; }
static void bad_matmul_rank(SngPlan *p) { o0(p, 0)->in[0] = 6; }
static void bad_bcast_size(SngPlan *p) { p->kernels[0].bcast = "FFF"; }
static void bad_bcast_length(SngPlan *p) { p->kernels[0].bcast = "FR"; }
static void bad_bcast_letter(SngPlan *p) { p->kernels[0].bcast = "FRX"; }
static void bad_nbufs(SngPlan *p) { p->kernels[0].nbufs = 2; p->kernels[0].bcast = "FR"; }
static void bad_rows(SngPlan *p) { o0(p, 3)->rows = 0; }
static void bad_loss(SngPlan *p) { p->graphs[0].loss = 10; }
/* bridges */
static void bad_bridge_alone(SngPlan *p) { send_op(p)->iattr[0] = 1; }
static void bad_bridge_peer(SngPlan *p) { send_op(p)->iattr[1] = 2; }
static void bad_bridge_to_itself(SngPlan *p) { send_op(p)->iattr[1] = 1; }
static void bad_bridge_channel(SngPlan *p) { send_op(p)->iattr[0] = -1; }
static void bad_bridge_size(SngPlan *p) { send_op(p)->in[0] = 0; }
static void bad_bridge_form(SngPlan *p) {
  send_op(p)->nout = 1;
  send_op(p)->out = send_op(p)->in;
}
static void bad_two_sends(SngPlan *p) {
  o0(p, 1)->nin = 1, o0(p, 1)->nout = 0;
  o0(p, 1)->in = o0(p, 1)->out;
}
/* units and the cluster */
static void bad_unit_graph(SngPlan *p) { p->units[0].graph = 2; }
static void bad_unit_rank(SngPlan *p) { p->units[3].rank = 2; }
static void bad_graph_run_twice(SngPlan *p) { p->units[1].graph = 0; }
/* two worker groups of the same two graphs (downpour, or hogwild with a server group each) */
static void two_groups(SngPlan *p, int hogwild) {
  int sg = hogwild ? 2 : 1, n = 4 + 2 * sg;
  p->cluster.worker_groups = 2;
  p->cluster.server_groups = sg;
  p->cluster.framework = hogwild ? SNG_FW_HOGWILD : SNG_FW_DOWNPOUR;
  p->cluster.sync_every = hogwild ? 5 : 0;
  SngPlanUnit *u = sng_arena_alloc(p->arena, (size_t)n * sizeof *u);
  for (int i = 0; i < 4; i++) u[i] = (SngPlanUnit){SNG_UNIT_WORKER, i / 2, i % 2, 0, i, i % 2};
  for (int i = 4; i < n; i++) u[i] = (SngPlanUnit){SNG_UNIT_SERVER, (i - 4) / 2, i % 2, 1, i, -1};
  p->units = u, p->nunits = n;
  for (int i = 0; i < p->nslices; i++) p->slices[i].server += 2;
}
static void bad_group_runs_graph_twice(SngPlan *p) { two_groups(p, 0), p->units[3].graph = 0; }
static void bad_downpour_one_group(SngPlan *p) { p->cluster.framework = SNG_FW_DOWNPOUR; }
static void bad_sync_every(SngPlan *p) { p->cluster.sync_every = 3; }
static void bad_hogwild_no_exchange(SngPlan *p) { two_groups(p, 1), p->cluster.sync_every = 0; }
static void bad_slice_on_group1(SngPlan *p) { two_groups(p, 1), p->slices[0].server = 6; }
static void bad_server_with_graph(SngPlan *p) { p->units[2].graph = 1; }
static void bad_unit_index(SngPlan *p) { p->units[1].index = 2; }
static void bad_worker_count(SngPlan *p) { p->cluster.workers_per_group = 3; }
static void bad_graph_worker(SngPlan *p) { p->graphs[1].worker = 0; }
/* slices */
static void bad_slice_gap(SngPlan *p) { p->slices[1].offset = 4; }
static void bad_slice_overlap(SngPlan *p) { p->slices[1].offset = 2; }
static void bad_slice_short(SngPlan *p) { p->slices[1].len = 2; }
static void bad_slice_past_end(SngPlan *p) { p->slices[2].len = 3; }
static void bad_slice_on_worker(SngPlan *p) { p->slices[0].server = 0; }
static void bad_slice_param(SngPlan *p) { p->slices[2].param = 2; }
static void bad_param_unsliced(SngPlan *p) { p->nslices = 2; }
static void bad_slice_order(SngPlan *p) {   /* a fourth slice of param 0 after param 1's */
  SngPlanSlice *s = sng_arena_alloc(p->arena, 4 * sizeof *s);
  memcpy(s, p->slices, 3 * sizeof *s);
  s[3] = (SngPlanSlice){.param = 0, .offset = 0, .len = 1, .server = 2};
  p->slices = s;
  p->nslices = 4;
}
/* the rest */
static void bad_updater_kernel(SngPlan *p) { p->updater.kernel = 5; }
static void bad_schedule(SngPlan *p) { p->updater.sched_every = 0; }

/* whole-plan relations added with issue 8 */
static void bad_graph_batch(SngPlan *p) { p->graphs[1].batch = 8; }
static void bad_sample_size(SngPlan *p) { p->data.sample_dims[0] = 4; }
static void bad_unaligned(SngPlan *p) { t0(p, 2)->offset = 48; }
static void bad_arena_slack(SngPlan *p) { p->graphs[0].arena_bytes = 1 << 30; }
static void bad_matmul_inner(SngPlan *p) { o0(p, 5)->iattr[0] = 0; }
static void bad_transpose_flag(SngPlan *p) { o0(p, 0)->iattr[1] = 2; }
static void bad_concat_sum(SngPlan *p) { t0(p, 5)->dims[1] = 3; t0(p, 5)->dims[0] = 4; o0(p, 3)->cols = 3; }
static void bad_concat_dim(SngPlan *p) { o0(p, 2)->iattr[0] = 2; }
static void bad_unrunnable(SngPlan *p) { o0(p, 4)->op = SNG_OP_SOFTMAX_XENT; }
static void bad_reduce_size(SngPlan *p) { o0(p, 6)->in[0] = 2; }
static void bad_accuracy_labels(SngPlan *p) { o0(p, 4)->in[1] = 5; }
static void bad_same_symbol(SngPlan *p) { p->kernels[1].symbol = "k0"; }
static void bad_scalars(SngPlan *p) { p->kernels[0].nscalars = 17; }
static void bad_free_rows(SngPlan *p) { p->kernels[0].bcast = "RRR"; }
static void bad_updater_bufs(SngPlan *p) { p->updater.nstate = 0; }
static void bad_no_updater(SngPlan *p) { p->updater.kernel = -1; }
static void bad_second_piece(SngPlan *p) {
  t0(p, 9)->kind = PARAM, t0(p, 9)->offset = -1;
  p->graphs[0].arena_bytes = 448;
}
static void bad_grad_box(SngPlan *p) { p->graphs[1].tensors[3].start[1] = 0; }
static void bad_tiling(SngPlan *p) { p->graphs[1].tensors[1].start[1] = 0, p->graphs[1].tensors[3].start[1] = 0; }
static void bad_test_only_release(SngPlan *p) { o0(p, 6)->phase = SNG_PHASE_FWD_TEST; }
static void bad_bridge_phase(SngPlan *p) { send_op(p)->phase = SNG_PHASE_FWD_TRAIN; }
static void bad_bridge_channel_big(SngPlan *p) { send_op(p)->iattr[0] = 1000000000; o0(p, 1)->iattr[0] = 1000000000; }
static void bad_alias(SngPlan *p) { t0(p, 9)->offset = 192, p->graphs[0].arena_bytes = 448; }
static void bad_format(SngPlan *p) { p->data.format = "csv"; }
static void bad_half_test(SngPlan *p) { p->data.test[1] = NULL; }
static void bad_loss_kind(SngPlan *p) { p->graphs[0].loss = 0; }
/* each worker first waits for the other's send: graph 0 receives channel 0 before sending 1,
 * graph 1 receives channel 1 before sending 0 */
static void bad_deadlock(SngPlan *p) {
  SngPlanGraph *g0 = &p->graphs[0], *g1 = &p->graphs[1];
  SngPlanOp *o = sng_arena_alloc(p->arena, 8 * sizeof *o);
  memcpy(o, g0->ops, 2 * sizeof *o);
  op(p->arena, &o[2], SNG_OP_BRIDGE, FWD, -1, "h0.send", 1, (int32_t[]){2}, 0, NULL);
  o[2].iattr[0] = 1, o[2].iattr[1] = 1;
  memcpy(o + 3, g0->ops + 2, 5 * sizeof *o);
  g0->ops = o, g0->nops = 8;
  SngPlanOp *q = sng_arena_alloc(p->arena, 4 * sizeof *q);
  q[0] = g1->ops[0];
  op(p->arena, &q[1], SNG_OP_BRIDGE, FWD, -1, "h1.recv", 0, NULL, 1, (int32_t[]){2})->iattr[0] = 1;
  q[2] = g1->ops[1], q[3] = g1->ops[2];
  g1->ops = q, g1->nops = 4;
}

static const Bad bads[] = {
  {bad_opcode, "invalid plan: graph 0 op 0 (h0): op is"},
  {bad_phase, "invalid plan: graph 0 op 0 (h0): phase is 4 (must be 0..3)"},
  {bad_rank, "invalid plan: graph 0 tensor 2 (h0): rank is 5 (must be 0..4)"},
  {bad_dim, "invalid plan: graph 0 tensor 2 (h0): dims[1] is 0 (must be >= 1)"},
  {bad_tensor_kind, "invalid plan: graph 0 tensor 2 (h0): kind is 6 (must be 0..5)"},
  {bad_negative_offset, "invalid plan: graph 0 tensor 0 (x): offset is -4 (must be >= -1)"},
  {bad_param_dim, "invalid plan: param 0 (dense1.w): dims[0] is -3 (must be >= 1)"},
  {bad_unit_kind, "invalid plan: unit 2: kind is 2 (must be 0..1)"},
  {bad_framework, "invalid plan: cluster: framework is 4 (must be 0..3)"},
  {bad_nranks, "invalid plan: nranks is 0 (must be >= 1)"},
  {bad_sample_rank, "invalid plan: data: sample_rank is 4 (must be 1..3)"},
  {bad_sample_dim, "invalid plan: data: sample_dims[0] is 0 (must be >= 1)"},
  {bad_classes, "invalid plan: data: classes is 0 (must be >= 1)"},
  {bad_steps, "invalid plan: train: steps is 0 (must be >= 1)"},
  {bad_symbol, "invalid plan: kernel 1 (?): symbol is missing"},
  {bad_param, "invalid plan: graph 0 tensor 1 (w0): param index 2 out of range (the plan has 2 params)"},
  {bad_offset, "invalid plan: graph 0 tensor 9 (b.grad): bytes [508, 516) fall outside the arena of 512 bytes"},
  {bad_temp_without_arena, "invalid plan: graph 0 tensor 2 (h0): bytes [-1, 15) fall outside the arena"},
  {bad_param_in_arena, "invalid plan: graph 0 tensor 1 (w0): a PARAM tensor at arena offset 0 (must be -1"},
  {bad_input_slot, "invalid plan: graph 0 tensor 6 (label): input slot 2 (must be 0 features or 1 labels)"},
  {bad_input_rows, "invalid plan: graph 0 tensor 6 (label): rows [1, 5) fall outside the batch of 4"},
  {bad_piece_outside, "invalid plan: graph 1 tensor 1 (w1): the piece [2, 3) of dimension 1 falls "
                      "outside param 0 (dense1.w), whose dimension 1 is 2"},
  {bad_piece_rank, "invalid plan: graph 0 tensor 4 (b): rank 2, but param 1 (dense1.b) has rank 1"},
  {bad_in, "invalid plan: graph 0 op 0 (h0): input 1 is tensor 99, but the graph has 10 tensors"},
  {bad_out, "invalid plan: graph 0 op 4 (loss): output 0 is tensor -1, but the graph has 10 tensors"},
  {bad_kernel, "invalid plan: graph 0 op 3 (relu): kernel index 2 out of range (the plan has 2 kernels)"},
  {bad_kernel_on_matmul, "invalid plan: graph 0 op 0 (h0): a MATMUL op has kernel 0 (only KERNEL ops name a kernel)"},
  {bad_matmul_rank, "invalid plan: graph 0 op 0 (h0): input 0 (tensor 6, label) has rank 1 (MATMUL needs rank >= 2)"},
  {bad_bcast_size, "invalid plan: graph 0 op 3 (relu): buffer 1 is tensor 4 (b) of 2 elements, but "
                   "bcast 'F' of kernel 0 (k0) wants 8 (rows 4, cols 2)"},
  {bad_bcast_length, "invalid plan: kernel 0 (k0): bcast \"FR\" has 2 letters for 3 buffers"},
  {bad_bcast_letter, "invalid plan: kernel 0 (k0): bcast letter 'X' of buffer 2 (must be F, R, C or S)"},
  {bad_nbufs, "invalid plan: graph 0 op 3 (relu): kernel 0 (k0) takes 2 buffers, the op has 2 inputs and 1 outputs"},
  {bad_rows, "invalid plan: graph 0 op 3 (relu): iteration space 0 x 2 (rows and cols must be > 0)"},
  {bad_loss, "invalid plan: graph 0: loss tensor 10 out of range (10 tensors)"},
  {bad_bridge_alone, "invalid plan: bridge channel 0: graph 0 op 1 (h1) receives, but no op sends"},
  {bad_bridge_peer, "invalid plan: graph 1 op 1 (?): peer worker 2 (must be another of the group's 2 workers; this is worker 1)"},
  {bad_bridge_to_itself, "invalid plan: graph 1 op 1 (?): peer worker 1 (must be another"},
  {bad_bridge_channel, "invalid plan: graph 1 op 1 (?): bridge channel -1 (must be >= 0)"},
  {bad_bridge_size, "invalid plan: bridge channel 0: graph 1 op 1 (?) sends 12 elements, graph 0 op 1 (h1) receives 4"},
  {bad_bridge_form, "invalid plan: graph 1 op 1 (?): a BRIDGE with 1 inputs and 1 outputs"},
  {bad_two_sends, "invalid plan: bridge channel 0: graph 0 op 1 and graph 1 op 1 both send"},
  {bad_unit_graph, "invalid plan: unit 0: graph index 2 out of range (the plan has 2 graphs)"},
  {bad_unit_rank, "invalid plan: unit 3: rank 2 out of range (the plan has 2 ranks)"},
  {bad_group_runs_graph_twice, "invalid plan: unit 3: graph 0 is already run by unit 2 of worker group 1"},
  {bad_downpour_one_group, "invalid plan: cluster: framework downpour does not fit 1 worker groups and 1 server groups"},
  {bad_sync_every, "invalid plan: cluster: sync_every 3, but only hogwild exchanges parameters"},
  {bad_hogwild_no_exchange, "invalid plan: cluster: framework hogwild does not fit 2 worker groups and 2 server groups (sync_every 0)"},
  {bad_slice_on_group1, "invalid plan: slice 0 (dense1.w): server unit 6 is in server group 1"},
  {bad_graph_run_twice, "invalid plan: unit 1: graph 0 is already run by unit 0 of worker group 0 (one worker per graph in a group)"},
  {bad_server_with_graph, "invalid plan: unit 2: a server unit with graph 1 (must be -1)"},
  {bad_unit_index, "invalid plan: unit 1: worker 2 of group 0, but the cluster has 1 groups of 2 workers"},
  {bad_worker_count, "invalid plan: cluster: 2 worker and 2 server units, but 1 x 3 workers and 1 x 2 servers"},
  {bad_graph_worker, "invalid plan: graph 1: worker 0, but unit 1 runs it as worker 1 of its group"},
  {bad_slice_gap, "invalid plan: slice 1 (dense1.w): starts at 4, so elements [3, 4) are in no slice"},
  {bad_slice_overlap, "invalid plan: slice 1 (dense1.w): [2, 5) overlaps the slice before it, which ends at 3"},
  {bad_slice_short, "invalid plan: param 0 (dense1.w): elements [5, 6) are in no slice"},
  {bad_slice_past_end, "invalid plan: slice 2 (dense1.b): [0, 3) runs past the end of the param (2 elements)"},
  {bad_slice_on_worker, "invalid plan: slice 0 (dense1.w): server 0 is not a server unit"},
  {bad_slice_param, "invalid plan: slice 2: param index 2 out of range (the plan has 2 params)"},
  {bad_param_unsliced, "invalid plan: param 1 (dense1.b): elements [0, 2) are in no slice"},
  {bad_slice_order, "invalid plan: slice 3 (dense1.w): comes after the slices of param 1 (slices must be in param order)"},
  {bad_updater_kernel, "invalid plan: updater: kernel index 5 out of range (the plan has 2 kernels and 3 slices to update)"},
  {bad_schedule, "invalid plan: updater: step schedule every 0 steps (must be > 0)"},
  {bad_graph_batch, "invalid plan: graph 1: batch 8, but data fmnist delivers batches of 4"},
  {bad_sample_size, "invalid plan: graph 0 tensor 0 (x): 4 rows of 3 values, but data fmnist delivers samples of 4 values"},
  {bad_unaligned, "invalid plan: graph 0 tensor 2 (h0): arena offset 48 is not a multiple of 64"},
  {bad_arena_slack, "invalid plan: graph 0: arena of 1073741824 bytes, but its tensors end at 456 (at most 512"},
  {bad_matmul_inner, "invalid plan: graph 0 op 5 (w0.grad): MATMUL of [4 x 3] by [4 x 1]: inner sizes 3 and 4 differ"},
  {bad_transpose_flag, "invalid plan: graph 0 op 0 (h0): transpose flag iattr[1] is 2 (must be 0 or 1)"},
  {bad_concat_sum, "invalid plan: graph 0 op 2 (z): the inputs add up to 2 along dimension 1, the output has 3"},
  {bad_concat_dim, "invalid plan: graph 0 op 2 (z): concat dimension 2 (the output has rank 2)"},
  {bad_unrunnable, "invalid plan: graph 0 op 4 (loss): a SOFTMAX_XENT op cannot run in a plan"},
  {bad_reduce_size, "invalid plan: graph 0 op 6 (b.grad): output 0 (tensor 9, b.grad) has 2 elements, but its input's columns makes 1"},
  {bad_accuracy_labels, "invalid plan: graph 0 op 4 (loss): input 1 (tensor 5, z) has 8 elements, but one label per row of the scores makes 4"},
  {bad_same_symbol, "invalid plan: kernel 0 and kernel 1 are both named k0 (symbols must be unique)"},
  {bad_scalars, "invalid plan: kernel 0 (k0): 17 runtime scalars (at most 16)"},
  {bad_free_rows, "invalid plan: graph 0 op 3 (relu): kernel 0 (k0) with bcast \"RRR\" leaves rows or cols free"},
  {bad_updater_bufs, "invalid plan: updater: kernel 1 (k1) takes 3 buffers and 3 scalars (must be 2 + nstate 0 buffers"},
  {bad_no_updater, "invalid plan: updater: kernel index -1 out of range (the plan has 2 kernels and 3 slices to update)"},
  {bad_second_piece, "invalid plan: graph 0 tensor 9 (b.grad): a second PARAM tensor of param 1 (dense1.b), after tensor 4"},
  {bad_grad_box, "invalid plan: graph 1 tensor 3 (w1.grad): the gradient's box differs from its PARAM tensor 1 (w1) of param 0 (dense1.w)"},
  {bad_tiling, "invalid plan: param 0 (dense1.w): graph 1 tensor 1 (w1) holds [0, 1) of dimension 1, but the pieces before it end at 1"},
  {bad_test_only_release, "invalid plan: graph 0: param 1 (dense1.b) is held but the last op touching it runs only in tests"},
  {bad_bridge_phase, "invalid plan: bridge channel 0: graph 1 op 1 (?) sends in phase 1, graph 0 op 1 (h1) receives in phase 0"},
  {bad_bridge_channel_big, "invalid plan: graph 0 op 1 (h1): bridge channel 1000000000 (channels are numbered below the plan's 2 bridge ops)"},
  {bad_alias, "invalid plan: graph 0 op 6 (b.grad): output 0 (tensor 9, b.grad) and input 0 (tensor 5, z) share memory"},
  {bad_format, "invalid plan: data fmnist: format \"csv\" (this runtime reads idx)"},
  {bad_half_test, "invalid plan: data fmnist: the test set names its images but not its labels"},
  {bad_loss_kind, "invalid plan: graph 0: loss tensor 0 (x) must be a temp of rank >= 1"},
  {bad_deadlock, "invalid plan: bridges deadlock in training: graph 0 op 1 (h1) waits to receive channel 0, which graph 1 sends at op 2 (?), but graph 1 waits first at op 1 (h1.recv) to receive channel 1"},
};

Test(plan, worker_groups_are_valid) {
  for (int hogwild = 0; hogwild < 2; hogwild++) {
    SngPlan *p = make_plan();
    two_groups(p, hogwild);
    char err[512] = "";
    cr_expect_eq(sng_plan_validate(p, err, sizeof err), 0, "%s: %s", hogwild ? "hogwild" : "downpour", err);
    sng_plan_free(p);
  }
}

Test(plan, inconsistent_plan_behind_valid_checksum) {
  for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
    SngPlan *p = make_plan();
    bads[i].mutate(p);
    char err[512] = "";
    cr_assert_neq(sng_plan_validate(p, err, sizeof err), 0, "case %zu", i);
    cr_assert_eq(strncmp(err, bads[i].msg, strlen(bads[i].msg)), 0, "case %zu: %s", i, err);
    SngBuf b;
    encode(p, &b);   /* the encoder does not judge: the reader must */
    const char *e = refused(b.data, b.len);
    cr_assert_eq(strncmp(e, "plan: ", 6), 0);
    cr_assert_eq(strncmp(e + 6, bads[i].msg, strlen(bads[i].msg)), 0, "case %zu: %s", i, e);
    sng_buf_free(&b);
    sng_plan_free(p);
  }
}

Test(plan, encode_refuses_unwalkable_struct) {
  SngPlan *p = make_plan();
  p->graphs[0].nops = -1;
  SngBuf b = {0};
  cr_assert_eq(sng_plan_encode(p, &b), SNG_EINVAL);
  char err[256] = "";
  cr_assert_neq(sng_plan_validate(p, err, sizeof err), 0);
  cr_assert_str_eq(err, "invalid plan: a count is negative or an array is missing");
  sng_buf_free(&b);
  sng_plan_free(p);
}

Test(plan, encode_refuses_missing_array) {
  SngPlan *p = make_plan();
  p->slices = NULL;
  SngBuf b = {0};
  cr_assert_eq(sng_plan_encode(p, &b), SNG_EINVAL);
  char err[256] = "";
  cr_assert_neq(sng_plan_validate(p, err, sizeof err), 0);
  cr_assert_str_eq(err, "invalid plan: a count is negative or an array is missing");
  sng_buf_free(&b);
  sng_plan_free(p);
}

/* META repeats the version; a file whose two versions disagree is malformed, not "invalid" */
Test(plan, meta_version_must_agree_with_header) {
  SngPlan *p = make_plan();
  p->version = 1;
  char err[256] = "";
  cr_assert_neq(sng_plan_validate(p, err, sizeof err), 0);
  cr_assert_str_eq(err, "invalid plan: version is 1 (must be 5)");
  SngBuf b;
  encode(p, &b);
  cr_assert_str_eq(refused(b.data, b.len), "plan: malformed section META at payload offset 0");
  sng_buf_free(&b);
  sng_plan_free(p);
}

/* A count larger than the bytes left is refused before anything is allocated for it. */
Test(plan, huge_count_behind_valid_checksum) {
  SngPlan *p = make_plan();
  SngBuf b;
  encode(p, &b);
  uint8_t *hit = find(b.data + 32, b.len - 32, "UNIT");
  cr_assert_not_null(hit);
  size_t at = (size_t)(hit - (b.data + 32));
  int32_t n = INT32_MAX;
  memcpy(hit + 12, &n, 4);   /* tag, u64 length, then the unit count */
  fix_payload_crc(&b);
  char want[128];
  snprintf(want, sizeof want, "plan: malformed section UNITS at payload offset %zu", at);
  cr_assert_str_eq(refused(b.data, b.len), want);
  n = -1;
  memcpy(hit + 12, &n, 4);
  fix_payload_crc(&b);
  cr_assert_str_eq(refused(b.data, b.len), want);
  sng_buf_free(&b);
  sng_plan_free(p);
}

Test(plan, tiny_error_buffers_are_safe) {
  char err[8];
  memset(err, 'x', sizeof err);
  cr_assert_null(sng_plan_decode("nope", 4, err, sizeof err));
  cr_assert_eq(strlen(err), 7);
  cr_assert_null(sng_plan_decode("nope", 4, NULL, 0));
}

/* ---- describe ---- */

Test(plan, describe_mentions_everything) {
  SngPlan *p = make_plan();
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  cr_assert_not_null(f);
  sng_plan_describe(f, p);
  fclose(f);
  const char *want[] = {
    "source:   examples/mlp.sng\n", "format:   singa plan version 5\n", "ranks:    2\n",
    "cluster:  worker_groups 1, workers_per_group 2, server_groups 1, servers_per_group 2, "
    "framework sandblaster, sync_every 0\n",
    "units:    4 (2 workers, 2 servers)\n",
    "  unit 3: kind server, group 0, index 1, rank 1, thread 1, graph -1\n",
    "graph 0: worker 0 (unit 0), 10 tensors, 7 ops (5 forward, 2 backward), arena 0.00 MiB "
    "(512 bytes), batch 4\n",
    "  tensors: temp x3, input x2, param x2, grad x2, bridge x1\n",
    "  ops: MATMUL x2, REDUCE_ROWS x1, ACCURACY x1, CONCAT x1, BRIDGE x1, KERNEL x1\n",
    "  loss: tensor 7 (loss), metric: none\n",
    "  bridges with worker 1: sends 0 (0 bytes), receives 1 (16 bytes)\n",
    "graph 1: worker 1 (unit 1), 4 tensors, 3 ops (2 forward, 1 backward)",
    "  bridges with worker 0: sends 1 (16 bytes), receives 0 (0 bytes)\n",
    "kernels:  2 (12 bytes of bitcode)\n",
    "  kernel 0: symbol k0, members bias_add+relu, rowwise 0, nbufs 3, nscalars 0, bcast FRF, "
    "bitcode 7 bytes\n",
    "params:   2 (8 values, 0.00 MiB)\n",
    "  param 0: name dense1.w, dims [3, 2], init uniform, init_a -0.1, init_b 0.1, lr_mult 1, "
    "wd_mult 2, running 0, running_div 0 (6 values)\n",
    "slices:   3\n", "  slice 1: dense1.w offset 3 len 3, server unit 3\n",
    "  server unit 2: 1 slice, 12 bytes\n", "  server unit 3: 2 slices, 20 bytes\n",
    "data:     name fmnist, format idx, train [/d/train-images-idx3-ubyte.gz, "
    "/d/train-labels-idx1-ubyte.gz], test [/d/t10k-images-idx3-ubyte.gz, "
    "/d/t10k-labels-idx1-ubyte.gz], batch 4, shuffle 1, scale 0.00392157, standardize 1, "
    "sample_dims [3], classes 2\n",
    "updater:  kind sgd, lr 0.1, momentum 0.9, weight_decay 0.0005, schedule step, sched_gamma 0.5, "
    "sched_every 100, kernel 1, nstate 1, beta1 0, beta2 0, eps 0, bias_correction 0, clip_low 0, "
    "clip_high 0, clip_norm 0, sched_power 0, sched_start 0, sched_end 0, milestones [], warmup 0, "
    "warmup_start 0\n",
    "train:    net mlp, alg -, steps 1000, display_every 100, test_every 500, test_steps 10, "
    "seed 18364758544493064720\n",
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
    cr_expect(strstr(text, want[i]), "missing \"%s\" in:\n%s", want[i], text);
  free(text);
  sng_plan_free(p);
}
