/* check.c - the checks that the field tables give for free: every count and array present,
 * and every value in the range its line of fields.def declares.
 *
 * Both walks recurse through LIST and REC fields the way the codec does, so a field added
 * to fields.def is checked without code here.  Messages name the element by its path
 * through the plan ("graph 0 tensor 2 (h): rank is 5 (must be 0..4)"), built from each
 * record's label and naming field.  The whole-plan checks (validate.c) run after these and
 * may rely on them: ranks are 0..4, enums are in range, counts are >= 0.
 */
#include "internal.h"

#include <string.h>

int sng_plan_bad(const SngPlanCtx *c, const char *fmt, ...) {
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (c->name)
    sng_plan_errf(c->err, c->errlen, c->name, "invalid plan: %s", msg);
  else if (c->err && c->errlen)
    snprintf(c->err, c->errlen, "invalid plan: %s", msg);
  return SNG_EFORMAT;
}

/* ---------------------------------------------------------------- walkable */

static const void *pointee(const SngPlanField *f, const void *obj) {
  const void *p;
  memcpy(&p, sng_plan_field_ptr(f, obj), sizeof p);
  return p;
}

static bool walkable(const SngPlanRec *rec, const void *obj) {
  for (int i = 0; i < rec->nfields; i++) {
    const SngPlanField *f = &rec->fields[i];
    if (f->type == FT_REC) {
      if (!walkable(f->sub, sng_plan_field_ptr(f, obj))) return false;
      continue;
    }
    if (f->len != LEN_BY) continue;
    int64_t n = sng_plan_field_used(f, obj);
    const char *p = pointee(f, obj);
    if (n < 0 || (n > 0 && !p)) return false;
    if (f->type == FT_LIST)
      for (int64_t k = 0; k < n; k++)
        if (!walkable(f->sub, p + k * f->sub->size)) return false;
  }
  return true;
}

bool sng_plan_walkable(const SngPlan *p) {
  return walkable(&sng_plan_rec_plan, p);
}

/* ---------------------------------------------------------------- ranges */

/* "(must be 0..4)", "(must be >= 1)", "(must be 2)" */
static const char *must(const SngPlanField *f, char *buf, size_t n) {
  int64_t top = f->type == FT_I32 || f->type == FT_STR ? INT32_MAX : INT64_MAX;
  if (f->lo == f->hi) snprintf(buf, n, "must be %lld", (long long)f->lo);
  else if (f->hi >= top) snprintf(buf, n, "must be >= %lld", (long long)f->lo);
  else snprintf(buf, n, "must be %lld..%lld", (long long)f->lo, (long long)f->hi);
  return buf;
}

/* Where a record sits in the plan: a chain of (record, index, element) up to the plan,
 * formatted into "graph 0 tensor 2 (h)" only when a message needs it. */
typedef struct Path {
  const struct Path *up;
  const SngPlanRec *rec;     /* NULL: the plan itself (empty path) */
  int64_t k;                 /* element index, -1 for an embedded record */
  const void *obj;
} Path;

static void fmt_path(const Path *p, char *out, size_t n) {
  if (!p->rec) {
    out[0] = 0;
    return;
  }
  char up[256];
  fmt_path(p->up, up, sizeof up);
  sng_plan_sub_path(out, n, up, p->rec, p->k, p->obj);
}

static int check_rec(const SngPlanCtx *c, const SngPlanRec *rec, const void *obj, const Path *at);

static int check_field(const SngPlanCtx *c, const SngPlanField *f, const void *obj,
                       const Path *at) {
  char path[256], why[64];
  int64_t n = sng_plan_field_used(f, obj);
  if (f->type == FT_REC) {
    Path sub = {at, f->sub, -1, sng_plan_field_ptr(f, obj)};
    return check_rec(c, f->sub, sub.obj, &sub);
  }
  if (f->type == FT_LIST) {
    const char *p = pointee(f, obj);
    for (int64_t k = 0; k < n; k++) {
      Path sub = {at, f->sub, k, p + k * f->sub->size};
      if (check_rec(c, f->sub, sub.obj, &sub)) return SNG_EFORMAT;
    }
    return SNG_OK;
  }
  if (!f->ranged) return SNG_OK;
  if (f->type == FT_STR) {
    for (int k = 0; k < n; k++) {
      const char *s;
      memcpy(&s, (const char *)sng_plan_field_ptr(f, obj) + k * sizeof s, sizeof s);
      int64_t len = s ? (int64_t)strlen(s) : 0;
      if (!((!s && f->lo > 0) || (s && (len < f->lo || len > f->hi)))) continue;
      fmt_path(at, path, sizeof path);
      const char *sep = *path ? ": " : "";
      if (!s) return sng_plan_bad(c, "%s%s%s is missing", path, sep, f->name);
      return sng_plan_bad(c, "%s%s%s \"%s\" has length %lld (%s)", path, sep, f->name, s,
                            (long long)len, must(f, why, sizeof why));
    }
    return SNG_OK;
  }
  SNG_ASSERT(f->type == FT_I32 || f->type == FT_U32 || f->type == FT_I64);
  for (int k = 0; k < n; k++) {
    int64_t v = sng_plan_field_int(f, obj, k);
    if (v >= f->lo && v <= f->hi) continue;
    fmt_path(at, path, sizeof path);
    const char *sep = *path ? ": " : "";
    if (sng_plan_field_cap(f) == 1)
      return sng_plan_bad(c, "%s%s%s is %lld (%s)", path, sep, f->name, (long long)v,
                          must(f, why, sizeof why));
    return sng_plan_bad(c, "%s%s%s[%d] is %lld (%s)", path, sep, f->name, k, (long long)v,
                        must(f, why, sizeof why));
  }
  return SNG_OK;
}

static int check_rec(const SngPlanCtx *c, const SngPlanRec *rec, const void *obj, const Path *at) {
  for (int i = 0; i < rec->nfields; i++)
    if (check_field(c, &rec->fields[i], obj, at)) return SNG_EFORMAT;
  return SNG_OK;
}

int sng_plan_check_fields(const SngPlanCtx *c, const SngPlan *p) {
  Path top = {NULL, NULL, -1, p};
  return check_rec(c, &sng_plan_rec_plan, p, &top);
}
