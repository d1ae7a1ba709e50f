/* plan.c - the plan file: encoding, decoding, reading and writing.
 *
 * A plan is a 32-byte header (see sng_plan.h) and a payload of tagged sections, each
 * u32 tag + u64 length + body.  Sections are written in a fixed order but read in any order;
 * each must appear exactly once and its body must be consumed exactly, so a section that is
 * too long or too short is refused instead of silently misread.  The reader checks, in order:
 * magic, header CRC, version, payload length, payload CRC, section structure, the op table
 * against this build, and finally the semantics (validate.c).  Checking the header CRC before
 * the version means a flipped bit is reported as corruption, and only a deliberate version
 * change as a version mismatch.  Every count read from the file is checked against the bytes
 * left before anything is allocated, so a crafted file cannot ask for a huge allocation.
 * Everything a decoded plan points to, bitcode included, is copied into p->arena.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

enum { HEADER_BYTES = 32 };

#define TAG(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)

const char *const sng_plan_op_names[PLAN_NOPS] = {
#define OP(name, ...) #name,
#include "ops.def"
#undef OP
};

const char *sng_plan_op_name(int32_t op) {
  return op >= 0 && op < PLAN_NOPS ? sng_plan_op_names[op] : "?";
}

void sng_plan_errf(char *err, size_t errlen, const char *name, const char *fmt, ...) {
  if (!err || !errlen) return;
  int n = snprintf(err, errlen, "%s: ", name);
  if (n < 0 || (size_t)n >= errlen) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
  va_end(ap);
}

SngPlan *sng_plan_new(void) {
  SngArena *a = sng_arena_new();
  SngPlan *p = sng_arena_alloc(a, sizeof *p);
  p->arena = a;
  p->version = SNG_PLAN_VERSION;
  p->nranks = 1;
  /* indices that mean "none" start as -1 so a half-filled plan is not silently "kernel 0" */
  p->updater.kernel = -1;
  return p;
}

void sng_plan_free(SngPlan *p) {
  if (p) sng_arena_free(p->arena);   /* p itself lives in its arena */
}

/* ---------------------------------------------------------------- encoding */

static void put_dims(SngBuf *b, const int64_t *d, int n) {
  for (int i = 0; i < n; i++) sng_buf_put_i64(b, d[i]);
}

static void put_meta(SngBuf *b, const SngPlan *p) {
  sng_buf_put_u32(b, SNG_PLAN_VERSION);
  sng_buf_put_str(b, "singa");      /* producer: lets a future reader name who wrote a file */
  sng_buf_put_str(b, p->source);
  sng_buf_put_i32(b, p->nranks);
}

static void put_ops(SngBuf *b, const SngPlan *p) {
  (void)p;
  sng_buf_put_u32(b, PLAN_NOPS);
  for (int i = 0; i < PLAN_NOPS; i++) sng_buf_put_str(b, sng_plan_op_names[i]);
}

static void put_units(SngBuf *b, const SngPlan *p) {
  sng_buf_put_i32(b, p->nunits);
  for (int i = 0; i < p->nunits; i++) {
    const SngPlanUnit *u = &p->units[i];
    int32_t v[6] = {u->kind, u->group, u->index, u->rank, u->thread, u->graph};
    for (int k = 0; k < 6; k++) sng_buf_put_i32(b, v[k]);
  }
}

static void put_graph(SngBuf *b, const SngPlanGraph *g) {
  sng_buf_put_i32(b, g->ntensors);
  for (int i = 0; i < g->ntensors; i++) {
    const SngPlanTensor *t = &g->tensors[i];
    sng_buf_put_str(b, t->name);
    sng_buf_put_i32(b, t->rank);
    put_dims(b, t->dims, 4);
    sng_buf_put_i32(b, t->kind);
    sng_buf_put_i32(b, t->param);
    sng_buf_put_i64(b, t->offset);
  }
  sng_buf_put_i32(b, g->nops);
  for (int i = 0; i < g->nops; i++) {
    const SngPlanOp *o = &g->ops[i];
    sng_buf_put_i32(b, o->op);
    sng_buf_put_i32(b, o->phase);
    sng_buf_put_i32(b, o->kernel);
    sng_buf_put_i32(b, o->nin);
    sng_buf_put_i32(b, o->nout);
    for (int k = 0; k < o->nin; k++) sng_buf_put_i32(b, o->in[k]);
    for (int k = 0; k < o->nout; k++) sng_buf_put_i32(b, o->out[k]);
    put_dims(b, o->iattr, 4);
    for (int k = 0; k < 4; k++) sng_buf_put_f64(b, o->fattr[k]);
    sng_buf_put_str(b, o->name);
  }
  sng_buf_put_i64(b, g->arena_bytes);
  sng_buf_put_i32(b, g->loss);
  sng_buf_put_i32(b, g->metric);
  sng_buf_put_i64(b, g->batch);
}

static void put_graphs(SngBuf *b, const SngPlan *p) {
  sng_buf_put_i32(b, p->ngraphs);
  for (int i = 0; i < p->ngraphs; i++) put_graph(b, &p->graphs[i]);
}

static void put_kernels(SngBuf *b, const SngPlan *p) {
  sng_buf_put_i32(b, p->nkernels);
  for (int i = 0; i < p->nkernels; i++) {
    const SngPlanKernel *k = &p->kernels[i];
    sng_buf_put_str(b, k->symbol);
    sng_buf_put_str(b, k->members);
    sng_buf_put_i32(b, k->rowwise);
    sng_buf_put_i32(b, k->nbufs);
    sng_buf_put_i32(b, k->nscalars);
    sng_buf_put_blob(b, k->bitcode, k->bitcode_len);
  }
}

static void put_params(SngBuf *b, const SngPlan *p) {
  sng_buf_put_i32(b, p->nparams);
  for (int i = 0; i < p->nparams; i++) {
    const SngPlanParam *q = &p->params[i];
    sng_buf_put_str(b, q->name);
    sng_buf_put_i32(b, q->rank);
    put_dims(b, q->dims, 4);
    sng_buf_put_i32(b, q->init);
    sng_buf_put_f64(b, q->init_a);
    sng_buf_put_f64(b, q->init_b);
    sng_buf_put_f64(b, q->lr_mult);
    sng_buf_put_f64(b, q->wd_mult);
    sng_buf_put_i32(b, q->server);
  }
}

static void put_data(SngBuf *b, const SngPlan *p) {
  const SngPlanData *d = &p->data;
  sng_buf_put_str(b, d->name);
  sng_buf_put_str(b, d->format);
  sng_buf_put_str(b, d->train[0]);
  sng_buf_put_str(b, d->train[1]);
  sng_buf_put_str(b, d->test[0]);
  sng_buf_put_str(b, d->test[1]);
  sng_buf_put_i64(b, d->batch);
  sng_buf_put_i32(b, d->shuffle);
  sng_buf_put_f64(b, d->scale);
  sng_buf_put_i32(b, d->standardize);
  put_dims(b, d->sample_dims, 3);
  sng_buf_put_i32(b, d->classes);
}

static void put_updater(SngBuf *b, const SngPlan *p) {
  const SngPlanUpdater *u = &p->updater;
  sng_buf_put_i32(b, u->kind);
  sng_buf_put_f64(b, u->lr);
  sng_buf_put_f64(b, u->momentum);
  sng_buf_put_f64(b, u->weight_decay);
  sng_buf_put_i32(b, u->schedule);
  sng_buf_put_f64(b, u->sched_gamma);
  sng_buf_put_i64(b, u->sched_every);
  sng_buf_put_i32(b, u->kernel);
  sng_buf_put_i32(b, u->nstate);
}

static void put_train(SngBuf *b, const SngPlan *p) {
  const SngPlanTrain *t = &p->train;
  sng_buf_put_str(b, t->net);
  sng_buf_put_str(b, t->alg);
  sng_buf_put_i64(b, t->steps);
  sng_buf_put_i64(b, t->display_every);
  sng_buf_put_i64(b, t->test_every);
  sng_buf_put_i64(b, t->test_steps);
  sng_buf_put_u64(b, t->seed);
}

/* ---------------------------------------------------------------- decoding */

/* A count followed by at least min_bytes per element: refused if negative or larger than
 * what is left, before anything is allocated for it. */
static int32_t get_count(SngReader *r, size_t min_bytes) {
  int32_t n = sng_read_i32(r);
  if (r->err) return 0;
  if (n < 0 || (uint64_t)n * min_bytes > (uint64_t)(r->end - r->p)) {
    r->err = 1;
    return 0;
  }
  return n;
}

static void get_dims(SngReader *r, int64_t *d, int n) {
  for (int i = 0; i < n; i++) d[i] = sng_read_i64(r);
}

/* Each decoder returns 0, or 1 when the op table differs (a message of its own);
 * malformed input shows as r->err. */
static int get_meta(SngReader *r, SngPlan *p) {
  uint32_t v = sng_read_u32(r);
  (void)sng_read_str(r, p->arena);   /* producer */
  p->source = sng_read_str(r, p->arena);
  p->nranks = sng_read_i32(r);
  if (!r->err && v != p->version) r->err = 1;   /* must agree with the header */
  return 0;
}

static int get_ops(SngReader *r, SngPlan *p) {
  int32_t n = get_count(r, 4);
  int differs = !r->err && n != PLAN_NOPS;
  for (int32_t i = 0; i < n && !r->err; i++) {
    uint32_t len = sng_read_u32(r);
    size_t left = (size_t)(r->end - r->p);
    if (r->err || len == 0xffffffffu || len > left) { r->err = 1; break; }
    if (i >= PLAN_NOPS || strlen(sng_plan_op_names[i]) != len ||
        memcmp(sng_plan_op_names[i], r->p, len) != 0)
      differs = 1;
    r->p += len;
  }
  (void)p;
  return differs && !r->err;
}

static int get_units(SngReader *r, SngPlan *p) {
  p->nunits = get_count(r, 24);
  p->units = sng_arena_alloc(p->arena, (size_t)p->nunits * sizeof *p->units);
  for (int i = 0; i < p->nunits; i++) {
    SngPlanUnit *u = &p->units[i];
    u->kind = sng_read_i32(r);
    u->group = sng_read_i32(r);
    u->index = sng_read_i32(r);
    u->rank = sng_read_i32(r);
    u->thread = sng_read_i32(r);
    u->graph = sng_read_i32(r);
  }
  return 0;
}

static void get_op(SngReader *r, SngArena *a, SngPlanOp *o) {
  o->op = sng_read_i32(r);
  o->phase = sng_read_i32(r);
  o->kernel = sng_read_i32(r);
  o->nin = sng_read_i32(r);
  o->nout = sng_read_i32(r);
  if (r->err || o->nin < 0 || o->nout < 0 ||
      ((uint64_t)o->nin + (uint64_t)o->nout) * 4 > (uint64_t)(r->end - r->p)) {
    r->err = 1;
    o->nin = o->nout = 0;
    return;
  }
  o->in = sng_arena_alloc(a, (size_t)o->nin * sizeof *o->in);
  o->out = sng_arena_alloc(a, (size_t)o->nout * sizeof *o->out);
  for (int k = 0; k < o->nin; k++) o->in[k] = sng_read_i32(r);
  for (int k = 0; k < o->nout; k++) o->out[k] = sng_read_i32(r);
  get_dims(r, o->iattr, 4);
  for (int k = 0; k < 4; k++) o->fattr[k] = sng_read_f64(r);
  o->name = sng_read_str(r, a);
}

static void get_graph(SngReader *r, SngArena *a, SngPlanGraph *g) {
  g->ntensors = get_count(r, 56);
  g->tensors = sng_arena_alloc(a, (size_t)g->ntensors * sizeof *g->tensors);
  for (int i = 0; i < g->ntensors && !r->err; i++) {
    SngPlanTensor *t = &g->tensors[i];
    t->name = sng_read_str(r, a);
    t->rank = sng_read_i32(r);
    get_dims(r, t->dims, 4);
    t->kind = sng_read_i32(r);
    t->param = sng_read_i32(r);
    t->offset = sng_read_i64(r);
  }
  g->nops = get_count(r, 88);
  g->ops = sng_arena_alloc(a, (size_t)g->nops * sizeof *g->ops);
  for (int i = 0; i < g->nops && !r->err; i++) get_op(r, a, &g->ops[i]);
  g->arena_bytes = sng_read_i64(r);
  g->loss = sng_read_i32(r);
  g->metric = sng_read_i32(r);
  g->batch = sng_read_i64(r);
}

static int get_graphs(SngReader *r, SngPlan *p) {
  p->ngraphs = get_count(r, 32);
  p->graphs = sng_arena_alloc(p->arena, (size_t)p->ngraphs * sizeof *p->graphs);
  for (int i = 0; i < p->ngraphs && !r->err; i++) get_graph(r, p->arena, &p->graphs[i]);
  return 0;
}

static int get_kernels(SngReader *r, SngPlan *p) {
  p->nkernels = get_count(r, 28);
  p->kernels = sng_arena_alloc(p->arena, (size_t)p->nkernels * sizeof *p->kernels);
  for (int i = 0; i < p->nkernels && !r->err; i++) {
    SngPlanKernel *k = &p->kernels[i];
    k->symbol = sng_read_str(r, p->arena);
    k->members = sng_read_str(r, p->arena);
    k->rowwise = sng_read_i32(r);
    k->nbufs = sng_read_i32(r);
    k->nscalars = sng_read_i32(r);
    size_t n = 0;
    const void *bc = sng_read_blob(r, &n);
    if (bc && n) {   /* copied: the plan must outlive the file buffer */
      k->bitcode = memcpy(sng_arena_alloc(p->arena, n), bc, n);
      k->bitcode_len = n;
    }
  }
  return 0;
}

static int get_params(SngReader *r, SngPlan *p) {
  p->nparams = get_count(r, 80);
  p->params = sng_arena_alloc(p->arena, (size_t)p->nparams * sizeof *p->params);
  for (int i = 0; i < p->nparams && !r->err; i++) {
    SngPlanParam *q = &p->params[i];
    q->name = sng_read_str(r, p->arena);
    q->rank = sng_read_i32(r);
    get_dims(r, q->dims, 4);
    q->init = sng_read_i32(r);
    q->init_a = sng_read_f64(r);
    q->init_b = sng_read_f64(r);
    q->lr_mult = sng_read_f64(r);
    q->wd_mult = sng_read_f64(r);
    q->server = sng_read_i32(r);
  }
  return 0;
}

static int get_data(SngReader *r, SngPlan *p) {
  SngPlanData *d = &p->data;
  d->name = sng_read_str(r, p->arena);
  d->format = sng_read_str(r, p->arena);
  d->train[0] = sng_read_str(r, p->arena);
  d->train[1] = sng_read_str(r, p->arena);
  d->test[0] = sng_read_str(r, p->arena);
  d->test[1] = sng_read_str(r, p->arena);
  d->batch = sng_read_i64(r);
  d->shuffle = sng_read_i32(r);
  d->scale = sng_read_f64(r);
  d->standardize = sng_read_i32(r);
  get_dims(r, d->sample_dims, 3);
  d->classes = sng_read_i32(r);
  return 0;
}

static int get_updater(SngReader *r, SngPlan *p) {
  SngPlanUpdater *u = &p->updater;
  u->kind = sng_read_i32(r);
  u->lr = sng_read_f64(r);
  u->momentum = sng_read_f64(r);
  u->weight_decay = sng_read_f64(r);
  u->schedule = sng_read_i32(r);
  u->sched_gamma = sng_read_f64(r);
  u->sched_every = sng_read_i64(r);
  u->kernel = sng_read_i32(r);
  u->nstate = sng_read_i32(r);
  return 0;
}

static int get_train(SngReader *r, SngPlan *p) {
  SngPlanTrain *t = &p->train;
  t->net = sng_read_str(r, p->arena);
  t->alg = sng_read_str(r, p->arena);
  t->steps = sng_read_i64(r);
  t->display_every = sng_read_i64(r);
  t->test_every = sng_read_i64(r);
  t->test_steps = sng_read_i64(r);
  t->seed = sng_read_u64(r);
  return 0;
}

/* The section table: the write order, and the reader's dispatch. */
static const struct Section {
  uint32_t tag;
  const char *name;
  void (*put)(SngBuf *, const SngPlan *);
  int (*get)(SngReader *, SngPlan *);
} sections[] = {
  {TAG('M', 'E', 'T', 'A'), "META", put_meta, get_meta},
  {TAG('O', 'P', 'S', ' '), "OPS", put_ops, get_ops},
  {TAG('U', 'N', 'I', 'T'), "UNITS", put_units, get_units},
  {TAG('G', 'R', 'P', 'H'), "GRAPHS", put_graphs, get_graphs},
  {TAG('K', 'R', 'N', 'L'), "KERNELS", put_kernels, get_kernels},
  {TAG('P', 'R', 'M', 'S'), "PARAMS", put_params, get_params},
  {TAG('D', 'A', 'T', 'A'), "DATA", put_data, get_data},
  {TAG('U', 'P', 'D', 'T'), "UPDATER", put_updater, get_updater},
  {TAG('T', 'R', 'N', ' '), "TRAIN", put_train, get_train},
};
enum { NSECTIONS = sizeof sections / sizeof sections[0] };

/* ---------------------------------------------------------------- encode / write */

int sng_plan_encode(const SngPlan *p, SngBuf *out) {
  if (!p || !sng_plan_walkable(p)) return SNG_EINVAL;
  size_t start = out->len;
  uint8_t zero[HEADER_BYTES] = {0};
  sng_buf_put(out, zero, HEADER_BYTES);
  for (int s = 0; s < NSECTIONS; s++) {
    sng_buf_put_u32(out, sections[s].tag);
    size_t at = out->len;
    sng_buf_put_u64(out, 0);   /* patched once the body's length is known */
    sections[s].put(out, p);
    uint64_t n = out->len - at - 8;
    memcpy(out->data + at, &n, 8);
  }
  uint8_t *h = out->data + start;
  const uint8_t *payload = h + HEADER_BYTES;
  uint64_t plen = out->len - start - HEADER_BYTES;
  uint32_t version = SNG_PLAN_VERSION, reserved = 0;
  uint32_t pcrc = (uint32_t)crc32_z(0, payload, (z_size_t)plen);
  memcpy(h, SNG_PLAN_MAGIC, 8);
  memcpy(h + 8, &version, 4);
  memcpy(h + 12, &reserved, 4);
  memcpy(h + 16, &plen, 8);
  memcpy(h + 24, &pcrc, 4);
  uint32_t hcrc = (uint32_t)crc32_z(0, h, 28);
  memcpy(h + 28, &hcrc, 4);
  return SNG_OK;
}

int sng_plan_write(const SngPlan *p, const char *path, char *err, size_t errlen) {
  SngBuf b = {0};
  char why[512];
  int rc = sng_plan_validate(p, why, sizeof why);
  if (rc) {
    sng_plan_errf(err, errlen, path, "refusing to write: %s", why);
    goto fail;
  }
  rc = sng_plan_encode(p, &b);
  SNG_ASSERT(rc == SNG_OK);   /* validate refuses what encode cannot walk */
  rc = sng_file_write_atomic(path, b.data, b.len);
  if (rc) {
    sng_plan_errf(err, errlen, path, "cannot write: %s", strerror(errno));
    goto fail;
  }
  sng_buf_free(&b);
  return SNG_OK;
fail:
  sng_buf_free(&b);
  return rc;
}

/* ---------------------------------------------------------------- decode / read */

static uint32_t le32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t le64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* Checks the header; on success sets the payload, its length and the version. */
static int check_header(const uint8_t *d, size_t len, const char *name, char *err, size_t errlen,
                        const uint8_t **payload, uint64_t *plen, uint32_t *version) {
  if (len == 0) {
    sng_plan_errf(err, errlen, name, "empty file (not a singa plan)");
    return SNG_EFORMAT;
  }
  if (memcmp(d, SNG_PLAN_MAGIC, len < 8 ? len : 8) != 0) {
    sng_plan_errf(err, errlen, name, "not a singa plan (bad magic)");
    return SNG_EFORMAT;
  }
  if (len < HEADER_BYTES) {
    sng_plan_errf(err, errlen, name, "truncated (the header is %d bytes, found %zu)",
                  HEADER_BYTES, len);
    return SNG_EFORMAT;
  }
  if ((uint32_t)crc32_z(0, d, 28) != le32(d + 28)) {
    sng_plan_errf(err, errlen, name, "header checksum mismatch: the file is corrupted");
    return SNG_EFORMAT;
  }
  *version = le32(d + 8);
  if (*version != SNG_PLAN_VERSION) {
    sng_plan_errf(err, errlen, name,
                  "plan format version %u, this singa-exec reads version %u (recompile the plan "
                  "with the matching singac)", *version, SNG_PLAN_VERSION);
    return SNG_EFORMAT;
  }
  if (le32(d + 12) != 0) {
    sng_plan_errf(err, errlen, name, "reserved header field is %u, expected 0", le32(d + 12));
    return SNG_EFORMAT;
  }
  *plen = le64(d + 16);
  uint64_t have = len - HEADER_BYTES;
  if (have < *plen) {
    sng_plan_errf(err, errlen, name, "truncated (expected %llu bytes of payload, found %llu)",
                  (unsigned long long)*plen, (unsigned long long)have);
    return SNG_EFORMAT;
  }
  if (have > *plen) {
    sng_plan_errf(err, errlen, name, "%llu unexpected bytes after the payload",
                  (unsigned long long)(have - *plen));
    return SNG_EFORMAT;
  }
  *payload = d + HEADER_BYTES;
  if ((uint32_t)crc32_z(0, *payload, (z_size_t)*plen) != le32(d + 24)) {
    sng_plan_errf(err, errlen, name, "checksum mismatch: the file is corrupted");
    return SNG_EFORMAT;
  }
  return SNG_OK;
}

static int section_index(uint32_t tag) {
  for (int s = 0; s < NSECTIONS; s++)
    if (sections[s].tag == tag) return s;
  return -1;
}

/* Walks the sections; each body is read through a reader limited to its own length. */
static int get_sections(const uint8_t *payload, uint64_t plen, SngPlan *p, const char *name,
                        char *err, size_t errlen) {
  SngReader r = sng_reader(payload, (size_t)plen);
  int seen[NSECTIONS] = {0};
  while (r.p < r.end) {
    size_t at = (size_t)(r.p - payload);
    uint32_t tag = sng_read_u32(&r);
    uint64_t n = sng_read_u64(&r);
    if (r.err || n > (uint64_t)(r.end - r.p)) {
      sng_plan_errf(err, errlen, name, "malformed section header at payload offset %zu", at);
      return SNG_EFORMAT;
    }
    int s = section_index(tag);
    if (s < 0) {
      sng_plan_errf(err, errlen, name, "unknown section tag 0x%08x at payload offset %zu", tag, at);
      return SNG_EFORMAT;
    }
    if (seen[s]++) {
      sng_plan_errf(err, errlen, name, "section %s appears twice", sections[s].name);
      return SNG_EFORMAT;
    }
    SngReader body = sng_reader(r.p, (size_t)n);
    r.p += n;
    if (sections[s].get(&body, p)) {
      sng_plan_errf(err, errlen, name,
                    "op table differs from this build (plan compiled by another singa version)");
      return SNG_EFORMAT;
    }
    if (body.err) {
      sng_plan_errf(err, errlen, name, "malformed section %s at payload offset %zu",
                    sections[s].name, at);
      return SNG_EFORMAT;
    }
    if (body.p != body.end) {
      sng_plan_errf(err, errlen, name, "malformed section %s at payload offset %zu (%zu trailing bytes)",
                    sections[s].name, at, (size_t)(body.end - body.p));
      return SNG_EFORMAT;
    }
  }
  for (int s = 0; s < NSECTIONS; s++)
    if (!seen[s]) {
      sng_plan_errf(err, errlen, name, "missing section %s", sections[s].name);
      return SNG_EFORMAT;
    }
  return SNG_OK;
}

static SngPlan *decode(const void *data, size_t len, const char *name, char *err, size_t errlen) {
  const uint8_t *payload = NULL;
  uint64_t plen = 0;
  uint32_t version = 0;
  SngPlan *p = NULL;
  if (check_header(data, len, name, err, errlen, &payload, &plen, &version)) goto fail;
  p = sng_plan_new();
  p->version = version;
  if (get_sections(payload, plen, p, name, err, errlen)) goto fail;
  if (sng_plan_check(p, name, err, errlen)) goto fail;
  return p;
fail:
  sng_plan_free(p);
  return NULL;
}

SngPlan *sng_plan_decode(const void *data, size_t len, char *err, size_t errlen) {
  return decode(data, len, "plan", err, errlen);
}

SngPlan *sng_plan_read(const char *path, char *err, size_t errlen) {
  size_t len = 0;
  uint8_t *d = sng_file_read(path, &len);
  if (!d) {
    sng_plan_errf(err, errlen, path, "cannot open: %s", strerror(errno));
    return NULL;
  }
  SngPlan *p = decode(d, len, path, err, errlen);
  free(d);
  return p;
}
