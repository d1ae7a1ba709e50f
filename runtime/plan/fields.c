/* fields.c - the field tables: fields.def turned into one SngPlanField array per record.
 *
 * Each table is built by defining REC_T (the struct) and the record's F_<RECORD> macro as
 * FIELD, then including fields.def; the column words of fields.def (I32, LIST(tensor), USED(rank),
 * IN(lo, hi), ...) are macros that expand to designated initializers of SngPlanField, so a
 * line of the list becomes one row of the table, with offsetof and sizeof taken from the
 * struct itself.  LIST and REC rows point at the sub record's table (declared in internal.h).
 * The names of enum values live here too: they are what ENUM(...) ranges and prints.
 */
#include "internal.h"

#include <stddef.h>
#include <string.h>

#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- the names of enum values (sizes follow the enums where they have a __COUNT) ---- */

/* the spelling of sng_op_info[].name, as an array because an ENUM range takes one */
const char *const sng_plan_op_names[SNG_OP__COUNT] = {
#define OP(name, ...) [SNG_OP_##name] = #name,
#include "ops.def"
#undef OP
};
static const char *const unit_kinds[] = {
  [SNG_UNIT_WORKER] = "worker", [SNG_UNIT_SERVER] = "server",
};
static const char *const tensor_kinds[SNG_TENSOR__COUNT] = {
  [SNG_TENSOR_TEMP] = "temp", [SNG_TENSOR_INPUT] = "input", [SNG_TENSOR_PARAM] = "param",
  [SNG_TENSOR_GRAD] = "grad", [SNG_TENSOR_BRIDGE] = "bridge", [SNG_TENSOR_STATE] = "state",
};
static const char *const phases[SNG_PHASE__COUNT] = {
  [SNG_PHASE_FWD_ALL] = "forward", [SNG_PHASE_FWD_TRAIN] = "forward-train",
  [SNG_PHASE_FWD_TEST] = "forward-test", [SNG_PHASE_BACKWARD] = "backward",
};
static const char *const init_kinds[] = {
  [SNG_PINIT_CONSTANT] = "constant", [SNG_PINIT_UNIFORM] = "uniform",
  [SNG_PINIT_GAUSSIAN] = "gaussian",
};
static const char *const updaters[SNG_UPD__COUNT] = {
  [SNG_UPD_SGD] = "sgd", [SNG_UPD_NESTEROV] = "nesterov", [SNG_UPD_ADAGRAD] = "adagrad",
  [SNG_UPD_RMSPROP] = "rmsprop", [SNG_UPD_ADADELTA] = "adadelta", [SNG_UPD_ADAM] = "adam",
  [SNG_UPD_ADAMAX] = "adamax",
};
static const char *const schedules[SNG_SCHED__COUNT] = {
  [SNG_SCHED_FIXED] = "fixed", [SNG_SCHED_STEP] = "step", [SNG_SCHED_MULTISTEP] = "multistep",
  [SNG_SCHED_EXPONENTIAL] = "exponential", [SNG_SCHED_INVERSE] = "inverse", [SNG_SCHED_INVERSE_T] = "inverse_t",
  [SNG_SCHED_LINEAR] = "linear", [SNG_SCHED_COSINE] = "cosine",
};
static const char *const frameworks[SNG_FW__COUNT] = {
  [SNG_FW_SANDBLASTER] = "sandblaster", [SNG_FW_ALLREDUCE] = "allreduce",
  [SNG_FW_DOWNPOUR] = "downpour", [SNG_FW_HOGWILD] = "hogwild",
};

const char *sng_plan_framework_name(int32_t fw) { return fw >= 0 && fw < SNG_FW__COUNT ? frameworks[fw] : "?"; }

/* ---- the column words of fields.def ---- */

#define FIELD(ty, m, length, range) \
  {.name = #m, .at = offsetof(REC_T, m), .bytes = sizeof(((REC_T *)0)->m), ty, length, range},

#define I32 .type = FT_I32
#define U32 .type = FT_U32
#define I64 .type = FT_I64
#define U64 .type = FT_U64
#define F64 .type = FT_F64
#define STR .type = FT_STR
#define BLOB .type = FT_BLOB
#define I32V .type = FT_I32V
#define LIST(r) .type = FT_LIST, .sub = &sng_plan_rec_##r
#define REC(r) .type = FT_REC, .sub = &sng_plan_rec_##r

#define ALL .len = LEN_ALL
#define USED(m) .len = LEN_USED, .len_at = offsetof(REC_T, m)
#define BY(m) .len = LEN_BY, .len_at = offsetof(REC_T, m)

#define ANY .ranged = false
#define IN(a, b) .ranged = true, .lo = (a), .hi = (b)
#define ENUM(n) .ranged = true, .lo = 0, .hi = NELEM(n) - 1, .names = (n), .nnames = NELEM(n)
#define I32MAX INT32_MAX
#define I64MAX INT64_MAX

#define RECORD(var, label, T, name_at, table) \
  const SngPlanRec var = {label, sizeof(T), name_at, table, NELEM(table)}
#define NAMED(T, m) (long)offsetof(T, m)

/* ---- the tables ---- */

#define REC_T SngPlanUnit
static const SngPlanField unit_fields[] = {
#define F_UNIT FIELD
#include "fields.def"
};
RECORD(sng_plan_rec_unit, "unit", REC_T, -1, unit_fields);
#undef REC_T

#define REC_T SngPlanTensor
static const SngPlanField tensor_fields[] = {
#define F_TENSOR FIELD
#include "fields.def"
};
RECORD(sng_plan_rec_tensor, "tensor", REC_T, NAMED(REC_T, name), tensor_fields);
#undef REC_T

#define REC_T SngPlanOp
static const SngPlanField op_fields[] = {
#define F_OP FIELD
#include "fields.def"
};
RECORD(sng_plan_rec_op, "op", REC_T, NAMED(REC_T, name), op_fields);
#undef REC_T

#define REC_T SngPlanGraph
static const SngPlanField graph_fields[] = {
#define F_GRAPH FIELD
#include "fields.def"
};
RECORD(sng_plan_rec_graph, "graph", REC_T, -1, graph_fields);
#undef REC_T

#define REC_T SngPlanKernel
static const SngPlanField kernel_fields[] = {
#define F_KERNEL FIELD
#include "fields.def"
};
RECORD(sng_plan_rec_kernel, "kernel", REC_T, NAMED(REC_T, symbol), kernel_fields);
#undef REC_T

#define REC_T SngPlanParam
static const SngPlanField param_fields[] = {
#define F_PARAM FIELD
#include "fields.def"
};
RECORD(sng_plan_rec_param, "param", REC_T, NAMED(REC_T, name), param_fields);
#undef REC_T

#define REC_T SngPlanSlice
static const SngPlanField slice_fields[] = {
#define F_SLICE FIELD
#include "fields.def"
};
RECORD(sng_plan_rec_slice, "slice", REC_T, -1, slice_fields);
#undef REC_T

#define REC_T SngPlanData
static const SngPlanField data_fields[] = {
#define F_DATA FIELD
#include "fields.def"
};
RECORD(sng_plan_rec_data, "data", REC_T, -1, data_fields);
#undef REC_T

#define REC_T SngPlanUpdater
static const SngPlanField updater_fields[] = {
#define F_UPDATER FIELD
#include "fields.def"
};
RECORD(sng_plan_rec_updater, "updater", REC_T, -1, updater_fields);
#undef REC_T

#define REC_T SngPlanTrain
static const SngPlanField train_fields[] = {
#define F_TRAIN FIELD
#include "fields.def"
};
RECORD(sng_plan_rec_train, "train", REC_T, -1, train_fields);
#undef REC_T

#define REC_T SngPlanCluster
static const SngPlanField cluster_fields[] = {
#define F_CLUSTER FIELD
#include "fields.def"
};
RECORD(sng_plan_rec_cluster, "cluster", REC_T, -1, cluster_fields);
#undef REC_T

#define REC_T SngPlan
static const SngPlanField plan_fields[] = {
#define F_PLAN(sec, ty, m, length, range) \
  {.section = SEC_##sec, .name = #m, .at = offsetof(REC_T, m), .bytes = sizeof(((REC_T *)0)->m), \
   ty, length, range},
#include "fields.def"
};
RECORD(sng_plan_rec_plan, "plan", REC_T, -1, plan_fields);
#undef REC_T

/* ---- reading a field of a record ---- */

static size_t elem_bytes(SngFieldType t) {
  switch (t) {
  case FT_I32: case FT_U32: return 4;
  case FT_I64: case FT_U64: case FT_F64: return 8;
  case FT_STR: return sizeof(const char *);
  default: return 0;   /* one pointer or one embedded record */
  }
}

int sng_plan_field_cap(const SngPlanField *f) {
  size_t e = elem_bytes(f->type);
  return e ? (int)(f->bytes / e) : 1;
}

int64_t sng_plan_field_used(const SngPlanField *f, const void *obj) {
  const char *o = obj;
  int cap = sng_plan_field_cap(f);
  if (f->len == LEN_ALL) return cap;
  if (f->type == FT_BLOB) {
    size_t n;
    memcpy(&n, o + f->len_at, sizeof n);
    return n > INT64_MAX ? INT64_MAX : (int64_t)n;
  }
  int32_t n;
  memcpy(&n, o + f->len_at, sizeof n);
  if (f->len == LEN_BY) return n;
  return n < 0 ? 0 : n > cap ? cap : n;
}

int64_t sng_plan_field_int(const SngPlanField *f, const void *obj, int k) {
  const char *p = sng_plan_field_ptr(f, obj);
  switch (f->type) {
  case FT_I32: { int32_t v; memcpy(&v, p + 4 * k, 4); return v; }
  case FT_U32: { uint32_t v; memcpy(&v, p + 4 * k, 4); return v; }
  case FT_I64: { int64_t v; memcpy(&v, p + 8 * k, 8); return v; }
  default: SNG_ASSERT(!"an integer field");
  }
  return 0;
}

const char *sng_plan_rec_name(const SngPlanRec *rec, const void *obj) {
  if (rec->name_at < 0) return NULL;
  const char *s;
  memcpy(&s, (const char *)obj + rec->name_at, sizeof s);
  return s ? s : "?";
}
