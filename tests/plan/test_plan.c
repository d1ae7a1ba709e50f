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

/* op codes as the test sees them: taken from the one table like every other consumer */
enum {
#define OP(name, ...) T_##name,
#include "ops.def"
#undef OP
  T_NOPS
};

static const uint8_t fake_bc0[] = {'B', 'C', 0xc0, 0xde, 1, 2, 3};
static const uint8_t fake_bc1[] = {'B', 'C', 0xc0, 0xde, 9};

static int32_t *ints(SngArena *a, int n, const int32_t *v) {
  int32_t *p = sng_arena_alloc(a, (size_t)n * sizeof *p);
  memcpy(p, v, (size_t)n * sizeof *p);
  return p;
}

static void tensor(SngPlanTensor *t, const char *name, int kind, int param, int64_t offset,
                   int rank, int64_t d0, int64_t d1) {
  *t = (SngPlanTensor){.name = name, .rank = rank, .dims = {d0, d1}, .kind = kind,
                       .param = param, .offset = offset};
}

static void op(SngArena *a, SngPlanOp *o, int code, int phase, int kernel, const char *name,
               int nin, const int32_t *in, int nout, const int32_t *out) {
  *o = (SngPlanOp){.op = code, .phase = phase, .kernel = kernel, .name = name, .nin = nin,
                   .nout = nout, .in = ints(a, nin, in), .out = ints(a, nout, out)};
}

/* A small but complete plan: one worker, one server, a graph with a fused kernel. */
static SngPlan *make_plan(void) {
  SngPlan *p = sng_plan_new();
  SngArena *a = p->arena;
  p->source = "examples/mlp.sng";
  p->nranks = 1;
  p->nunits = 2;
  p->units = sng_arena_alloc(a, 2 * sizeof *p->units);
  p->units[0] = (SngPlanUnit){SNG_UNIT_WORKER, 0, 0, 0, 0, 0};
  p->units[1] = (SngPlanUnit){SNG_UNIT_SERVER, 0, 0, 0, 1, -1};

  p->ngraphs = 1;
  p->graphs = sng_arena_alloc(a, sizeof *p->graphs);
  SngPlanGraph *g = &p->graphs[0];
  g->ntensors = 6;
  g->tensors = sng_arena_alloc(a, 6 * sizeof *g->tensors);
  tensor(&g->tensors[0], "x", SNG_TENSOR_INPUT, 0, 0, 2, 4, 3);      /* 48 bytes */
  tensor(&g->tensors[1], "dense1.w", SNG_TENSOR_PARAM, 0, -1, 2, 3, 2);
  tensor(&g->tensors[2], "h", SNG_TENSOR_TEMP, -1, 48, 2, 4, 2);     /* 32 */
  tensor(&g->tensors[3], "label", SNG_TENSOR_INPUT, 1, 80, 1, 4, 0); /* 16 */
  tensor(&g->tensors[4], "loss", SNG_TENSOR_TEMP, -1, 96, 1, 4, 0);  /* 16 */
  tensor(&g->tensors[5], "dense1.w.grad", SNG_TENSOR_GRAD, 0, 112, 2, 3, 2); /* 24 */
  g->nops = 4;
  g->ops = sng_arena_alloc(a, 4 * sizeof *g->ops);
  op(a, &g->ops[0], T_MATMUL, 0, -1, "h", 2, (int32_t[]){0, 1}, 1, (int32_t[]){2});
  op(a, &g->ops[1], T_KERNEL, 0, 0, "relu", 1, (int32_t[]){2}, 1, (int32_t[]){2});
  op(a, &g->ops[2], T_SOFTMAX_XENT, 0, -1, "loss", 2, (int32_t[]){2, 3}, 1, (int32_t[]){4});
  op(a, &g->ops[3], T_MATMUL, 1, -1, "dense1.w.grad", 2, (int32_t[]){0, 2}, 1, (int32_t[]){5});
  g->ops[3].iattr[0] = 1;     /* transpose flags and the like must survive the trip */
  g->ops[3].iattr[3] = -7;
  g->ops[3].fattr[1] = 0.25;
  g->ops[3].fattr[3] = -1e-30;
  g->arena_bytes = 136;
  g->loss = 4;
  g->metric = -1;
  g->batch = 4;

  p->nkernels = 2;
  p->kernels = sng_arena_alloc(a, 2 * sizeof *p->kernels);
  p->kernels[0] = (SngPlanKernel){"k0", "bias_add+relu", 0, 2, 0, fake_bc0, sizeof fake_bc0};
  p->kernels[1] = (SngPlanKernel){"k1", "sgd", 0, 3, 3, fake_bc1, sizeof fake_bc1};

  p->nparams = 1;
  p->params = sng_arena_alloc(a, sizeof *p->params);
  p->params[0] = (SngPlanParam){.name = "dense1.w", .rank = 2, .dims = {3, 2},
                                .init = SNG_PINIT_UNIFORM, .init_a = -0.1, .init_b = 0.1,
                                .lr_mult = 1, .wd_mult = 2, .server = 1};
  p->data = (SngPlanData){.name = "fmnist", .format = "idx",
                          .train = {"/d/train-images-idx3-ubyte.gz", "/d/train-labels-idx1-ubyte.gz"},
                          .test = {"/d/t10k-images-idx3-ubyte.gz", "/d/t10k-labels-idx1-ubyte.gz"},
                          .batch = 4, .shuffle = 1, .scale = 1.0 / 255, .standardize = 1,
                          .sample_dims = {784, 0, 0}, .classes = 10};
  p->updater = (SngPlanUpdater){.kind = SNG_UPD_SGD, .lr = 0.1, .momentum = 0.9,
                                .weight_decay = 5e-4, .schedule = SNG_SCHED_STEP,
                                .sched_gamma = 0.5, .sched_every = 100, .kernel = 1, .nstate = 1};
  p->train = (SngPlanTrain){.net = "mlp", .alg = "bp", .steps = 1000, .display_every = 100,
                            .test_every = 500, .test_steps = 0, .seed = 0xfedcba9876543210ull};
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
  cr_assert_eq(a->ntensors, b->ntensors);
  for (int i = 0; i < a->ntensors; i++) {
    const SngPlanTensor *x = &a->tensors[i], *y = &b->tensors[i];
    str_eq(x->name, y->name, "tensor name");
    cr_assert_eq(x->rank, y->rank);
    dims_eq(x->dims, y->dims, 4, "tensor");
    cr_assert_eq(x->kind, y->kind);
    cr_assert_eq(x->param, y->param);
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
    cr_assert_eq(x->server, y->server);
  }
  const SngPlanData *d = &a->data, *e = &b->data;
  str_eq(d->name, e->name, "data name");
  str_eq(d->format, e->format, "format");
  for (int i = 0; i < 2; i++) str_eq(d->train[i], e->train[i], "train path");
  for (int i = 0; i < 2; i++) str_eq(d->test[i], e->test[i], "test path");
  cr_assert_eq(d->batch, e->batch);
  cr_assert_eq(d->shuffle, e->shuffle);
  cr_assert_eq(d->scale, e->scale);
  cr_assert_eq(d->standardize, e->standardize);
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

Test(plan, round_trip_empty_plan_and_null_strings) {
  SngPlan *p = sng_plan_new();   /* no units, graphs, kernels, params; NULL strings */
  SngBuf b;
  encode(p, &b);
  char err[256] = "";
  SngPlan *q = sng_plan_decode(b.data, b.len, err, sizeof err);
  cr_assert_not_null(q, "%s", err);
  plan_eq(p, q);
  cr_assert_null(q->source);
  cr_assert_eq(q->nunits + q->ngraphs + q->nkernels + q->nparams, 0);
  sng_buf_free(&b);
  sng_plan_free(p);
  sng_plan_free(q);
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
  cr_assert(strstr(err, ": refusing to write: invalid plan: graph 0 op 0 (h): input 1 is tensor 99"),
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
                   "plan: plan format version 7, this singa-exec reads version 1"));
  char path[128], err[256] = "";
  snprintf(path, sizeof path, "%s/mlp.plan", tmpdir);
  write_bytes(path, b.data, b.len);
  cr_assert_null(sng_plan_read(path, err, sizeof err));
  char want[200];
  snprintf(want, sizeof want, "%s: plan format version 7, this singa-exec reads version 1", path);
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
  /* retag the last section (TRAIN) as a second META */
  uint8_t *hit = NULL;
  for (uint8_t *q = b.data + 32; (q = find(q, (size_t)(b.data + b.len - q), "TRN ")); q++) hit = q;
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

static void bad_in(SngPlan *p) { p->graphs[0].ops[0].in[1] = 99; }
static void bad_out(SngPlan *p) { p->graphs[0].ops[2].out[0] = -1; }
static void bad_kernel(SngPlan *p) { p->graphs[0].ops[1].kernel = 2; }
static void bad_kernel_on_matmul(SngPlan *p) { p->graphs[0].ops[0].kernel = 0; }
static void bad_opcode(SngPlan *p) { p->graphs[0].ops[0].op = T_NOPS; }
static void bad_param(SngPlan *p) { p->graphs[0].tensors[1].param = 1; }
static void bad_rank(SngPlan *p) { p->graphs[0].tensors[2].rank = 5; }
static void bad_dim(SngPlan *p) { p->graphs[0].tensors[2].dims[1] = 0; }
static void bad_offset(SngPlan *p) { p->graphs[0].tensors[5].offset = 120; }
static void bad_negative_offset(SngPlan *p) { p->graphs[0].tensors[0].offset = -4; }
static void bad_unit_graph(SngPlan *p) { p->units[0].graph = 1; }
static void bad_unit_rank(SngPlan *p) { p->units[1].rank = 1; }
static void bad_owner(SngPlan *p) { p->params[0].server = 0; }
static void bad_param_dim(SngPlan *p) { p->params[0].dims[0] = -3; }
static void bad_updater_kernel(SngPlan *p) { p->updater.kernel = 5; }
static void bad_loss(SngPlan *p) { p->graphs[0].loss = 6; }

static const Bad bads[] = {
  {bad_in, "invalid plan: graph 0 op 0 (h): input 1 is tensor 99, but the graph has 6 tensors"},
  {bad_out, "invalid plan: graph 0 op 2 (loss): output 0 is tensor -1, but the graph has 6 tensors"},
  {bad_kernel, "invalid plan: graph 0 op 1 (relu): kernel index 2 out of range (the plan has 2 kernels)"},
  {bad_kernel_on_matmul, "invalid plan: graph 0 op 0 (h): a MATMUL op has kernel 0 (only KERNEL ops name a kernel)"},
  {bad_opcode, "invalid plan: graph 0 op 0 (h): op code"},
  {bad_param, "invalid plan: graph 0 tensor 1 (dense1.w): param index 1 out of range (the plan has 1 params)"},
  {bad_rank, "invalid plan: graph 0 tensor 2 (h): rank 5 (must be 0..4)"},
  {bad_dim, "invalid plan: graph 0 tensor 2 (h): dimension 1 is 0 (must be > 0)"},
  {bad_offset, "invalid plan: graph 0 tensor 5 (dense1.w.grad): bytes [120, 144) fall outside the arena of 136 bytes"},
  {bad_negative_offset, "invalid plan: graph 0 tensor 0 (x): bytes [-4, 44) fall outside the arena"},
  {bad_unit_graph, "invalid plan: unit 0: graph index 1 out of range (the plan has 1 graphs)"},
  {bad_unit_rank, "invalid plan: unit 1: rank 1 out of range (the plan has 1 ranks)"},
  {bad_owner, "invalid plan: param 0 (dense1.w): owner 0 is not a server unit"},
  {bad_param_dim, "invalid plan: param 0 (dense1.w): dimension 0 is -3 (must be > 0)"},
  {bad_updater_kernel, "invalid plan: updater: kernel index 5 out of range (the plan has 2 kernels)"},
  {bad_loss, "invalid plan: graph 0: loss tensor 6 out of range (6 tensors)"},
};

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
    "source:   examples/mlp.sng", "singa plan version 1", "ranks:    1",
    "units:    2 (1 workers, 1 servers)", "unit 1: server group 0 index 0, rank 0 thread 1",
    "graph 0: 6 tensors, 4 ops (3 forward, 1 backward), arena 0.00 MiB (136 bytes), batch 4",
    "MATMUL x2, SOFTMAX_XENT x1, KERNEL x1", "loss: tensor 4 (loss)",
    "kernels:  2 (12 bytes of bitcode)", "bias_add+relu", "bitcode 7 bytes",
    "params:   1 (6 values", "dense1.w         [3, 2]  uniform [-0.1, 0.1], lr x1, wd x2, server unit 1",
    "fmnist (idx): batch 4", "standardize yes, shuffle yes, sample [784], 10 classes",
    "/d/t10k-labels-idx1-ubyte.gz", "sgd lr 0.1, momentum 0.9, weight decay 0.0005",
    "schedule step: lr x 0.5 every 100 steps", "kernel k1, 1 state buffer per param",
    "net mlp, alg bp, 1000 steps, display every 100, test every 500 steps (whole test set)",
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
    cr_expect(strstr(text, want[i]), "missing \"%s\" in:\n%s", want[i], text);
  free(text);
  sng_plan_free(p);
}
