/* internal.h - private to runtime/plan: the field tables built from fields.def, the walkers
 * that the codec, the checks and --describe share, and the message helpers.  Never included
 * outside this folder.
 */
#ifndef SNG_PLAN_INTERNAL_H
#define SNG_PLAN_INTERNAL_H

#include "sng_plan.h"

#include <stdarg.h>
#include <stdbool.h>

/* ---- the field tables (fields.c) ---- */

enum {                       /* the payload's sections, in write order */
#define SECTION(name, tag) SEC_##name,
#include "fields.def"
  SEC__COUNT
};

typedef enum {             /* the scalars first: type <= FT_STR is a scalar or a fixed array */
  FT_I32, FT_U32, FT_I64, FT_U64, FT_F64, FT_STR,
  FT_BLOB,                   /* const void * + size_t byte count */
  FT_I32V,                   /* int32_t * + int32_t count */
  FT_LIST,                   /* array of sub records + int32_t count */
  FT_REC,                    /* embedded sub record */
} SngFieldType;

typedef enum {
  LEN_ALL,                   /* every element of the member */
  LEN_USED,                  /* the first *len_at elements of a fixed array */
  LEN_BY,                    /* a pointer to *len_at elements; the count travels with them */
} SngFieldLen;

typedef struct SngPlanRec SngPlanRec;

typedef struct SngPlanField {
  const char *name;          /* the member's name: in messages and --describe */
  size_t at, bytes;          /* offsetof and sizeof the member */
  SngFieldType type;
  SngFieldLen len;
  size_t len_at;             /* USED, BY: offsetof the member holding the count */
  int section;               /* F_PLAN fields: SEC_* they are written in */
  bool ranged;               /* lo..hi applies */
  int64_t lo, hi;            /* integers: allowed values; STR: allowed lengths */
  const char *const *names;  /* ENUM: the name of each value, nnames of them */
  int nnames;
  const SngPlanRec *sub;     /* LIST, REC */
} SngPlanField;

struct SngPlanRec {
  const char *label;         /* "tensor": an element in messages is "tensor 3 (h)" */
  size_t size;               /* sizeof the struct */
  long name_at;              /* offsetof the string that names an element, or -1 */
  const SngPlanField *fields;
  int nfields;
};

extern const SngPlanRec sng_plan_rec_plan, sng_plan_rec_unit, sng_plan_rec_tensor,
    sng_plan_rec_op, sng_plan_rec_graph, sng_plan_rec_kernel, sng_plan_rec_param,
    sng_plan_rec_slice, sng_plan_rec_data, sng_plan_rec_updater, sng_plan_rec_train,
    sng_plan_rec_cluster;
extern const char *const sng_plan_op_names[SNG_OP__COUNT];

/* The member of f inside the record at obj. */
static inline const void *sng_plan_field_ptr(const SngPlanField *f, const void *obj) {
  return (const char *)obj + f->at;
}
/* Elements in a fixed member (4 for int64_t dims[4]); 1 for the pointer types. */
int sng_plan_field_cap(const SngPlanField *f);
/* Meaningful elements: cap for ALL, the count member (clamped to 0..cap) for USED, the
 * count for BY. */
int64_t sng_plan_field_used(const SngPlanField *f, const void *obj);
/* Element k of an integer field (I32, U32, I64). */
int64_t sng_plan_field_int(const SngPlanField *f, const void *obj, int k);
/* The name of an element of rec ("?" for a NULL name), or NULL if rec has no name field. */
const char *sng_plan_rec_name(const SngPlanRec *rec, const void *obj);

/* The path of element k (-1: an embedded record) of sub inside path: "graph 0" + "tensor 2 (h)". */
void sng_plan_sub_path(char *out, size_t n, const char *path, const SngPlanRec *sub, int64_t k,
                       const void *obj);

/* ---- the codec (codec.c) ---- */

/* Writes / reads the fields of rec at obj that belong in section (-1: every field).  A short or
 * malformed read sets r->err; counts are checked against the bytes left before allocating. */
void sng_plan_put(SngBuf *b, const SngPlanRec *rec, const void *obj, int section);
void sng_plan_get(SngReader *r, SngArena *a, const SngPlanRec *rec, void *obj, int section);

/* ---- checks (check.c, validate.c, dist.c) ---- */

typedef struct SngPlanCtx { const char *name; char *err; size_t errlen; } SngPlanCtx;

/* What a message is about: "graph 0 op 3 (h)", formatted only when a message needs it, so
 * that checking a 100k-op plan formats nothing. */
typedef struct SngPlanWhat {
  const char *rec;           /* "op", "tensor" */
  int32_t graph, index;
  const char *name;          /* may be NULL: "?" */
  char buf[200];
} SngPlanWhat;
const char *sng_plan_what(SngPlanWhat *w);

/* Writes "<name>: <fmt...>" into err (err may be NULL or errlen 0). */
void sng_plan_errf(char *err, size_t errlen, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Reports "invalid plan: <fmt...>" (after "<name>: " when the context names a file);
 * returns SNG_EFORMAT. */
int sng_plan_bad(const SngPlanCtx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Counts non-negative and arrays present: all the encoder needs, so that tests can encode
 * inconsistent plans. */
bool sng_plan_walkable(const SngPlan *p);
/* Each field against its own range (fields.def); the first fault is reported. */
int sng_plan_check_fields(const SngPlanCtx *c, const SngPlan *p);
/* The elements of a shape (rank 0..4, dims > 0); -1 when a dim is not positive or 8 bytes
 * per element would overflow int64. */
int64_t sng_plan_numel(int32_t rank, const int64_t *dims);
/* a + b for a message: a >= -1, b >= 0, saturating instead of overflowing */
static inline long long sng_plan_end(int64_t a, int64_t b) {
  return a > 0 && b > INT64_MAX - a ? INT64_MAX : (long long)(a + b);
}
/* The cluster-wide checks (dist.c): units before the graphs are checked, bridges and slices
 * after (they index into graphs that must already be known good). */
int sng_plan_check_units(const SngPlanCtx *c, const SngPlan *p);
int sng_plan_check_bridges(const SngPlanCtx *c, const SngPlan *p);
int sng_plan_check_slices(const SngPlanCtx *c, const SngPlan *p);
/* One op against the rule of its op code (shapes.c): counts, attributes, tensor sizes.  Its
 * tensor indices must already be known to be in range.  what names it ("graph 0 op 3 (h)"). */
int sng_plan_check_op_shape(const SngPlanCtx *c, const SngPlan *p, const SngPlanGraph *g,
                            const SngPlanOp *o, SngPlanWhat *what);
/* Parameter pieces (pieces.c): in each graph at most one PARAM and one GRAD tensor per param,
 * alike, released by a training op; across graphs the pieces of a param are all whole
 * (replicas) or tile it along one dimension. */
int sng_plan_check_pieces(const SngPlanCtx *c, const SngPlan *p);
/* Everything: walkable, fields, then the whole-plan checks.  name is the file for the decoder
 * ("<file>: invalid plan: ..."), NULL for sng_plan_validate. */
int sng_plan_check(const SngPlan *p, const char *name, char *err, size_t errlen);

#endif
