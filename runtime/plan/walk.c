/* walk.c - every field of a plan, one element at a time, from the field tables (fields.def).
 *
 * The same recursion as the codec and the range checks: a field added to fields.def is
 * walked without code here.  Tests use it to damage each field of a real plan in turn
 * (tests/runtime/test_damaged.c); each element comes with its path, in the words of the
 * validator's messages, and its kind (the line of fields.def it comes from).
 */
#include "internal.h"

#include <string.h>

typedef int (*Visit)(void *ctx, const SngPlanFieldRef *f);

void sng_plan_sub_path(char *out, size_t n, const char *path, const SngPlanRec *sub, int64_t k,
                       const void *obj) {
  const char *name = sng_plan_rec_name(sub, obj);
  int m = snprintf(out, n, "%s%s%s", path, *path ? " " : "", sub->label);
  if (m < 0 || (size_t)m >= n) return;
  if (k >= 0) m += snprintf(out + m, n - (size_t)m, " %lld", (long long)k);
  if (name && m >= 0 && (size_t)m < n) snprintf(out + m, n - (size_t)m, " (%s)", name);
}

static int walk_rec(const SngPlanRec *rec, void *obj, const char *path, Visit fn, void *ctx);

static const int types[] = {
  [FT_I32] = SNG_FIELD_I32, [FT_U32] = SNG_FIELD_U32, [FT_I64] = SNG_FIELD_I64,
  [FT_U64] = SNG_FIELD_U64, [FT_F64] = SNG_FIELD_F64, [FT_STR] = SNG_FIELD_STR,
  [FT_BLOB] = SNG_FIELD_BLOB, [FT_I32V] = SNG_FIELD_I32,
};

static int elem(const SngPlanRec *rec, const SngPlanField *f, void *at, int k, int many,
                const char *path, Visit fn, void *ctx) {
  char p[320], kind[64];
  snprintf(kind, sizeof kind, "%s.%s", rec->label, f->name);
  if (many) snprintf(p, sizeof p, "%s%s%s[%d]", path, *path ? ": " : "", f->name, k);
  else snprintf(p, sizeof p, "%s%s%s", path, *path ? ": " : "", f->name);
  SngPlanFieldRef r = {p, kind, types[f->type], at};
  return fn(ctx, &r);
}

static int walk_field(const SngPlanRec *rec, const SngPlanField *f, void *obj, const char *path,
                      Visit fn, void *ctx) {
  char *at = (char *)obj + f->at, sub[256];
  int rc = 0;
  if (f->type == FT_REC) {
    sng_plan_sub_path(sub, sizeof sub, path, f->sub, -1, at);
    return walk_rec(f->sub, at, sub, fn, ctx);
  }
  if (f->type == FT_BLOB) return elem(rec, f, at, 0, 0, path, fn, ctx);
  if (f->type <= FT_STR) {
    int cap = sng_plan_field_cap(f);
    size_t size = f->bytes / (size_t)cap;
    for (int k = 0; k < cap && !rc; k++) rc = elem(rec, f, at + (size_t)k * size, k, cap > 1, path, fn, ctx);
    return rc;
  }
  int64_t n = sng_plan_field_used(f, obj);
  char *ptr;
  memcpy(&ptr, at, sizeof ptr);
  for (int64_t k = 0; k < n && !rc; k++) {
    if (f->type == FT_I32V) {
      rc = elem(rec, f, ptr + k * 4, (int)k, 1, path, fn, ctx);
      continue;
    }
    void *e = ptr + k * (int64_t)f->sub->size;
    sng_plan_sub_path(sub, sizeof sub, path, f->sub, k, e);
    rc = walk_rec(f->sub, e, sub, fn, ctx);
  }
  return rc;
}

static int walk_rec(const SngPlanRec *rec, void *obj, const char *path, Visit fn, void *ctx) {
  int rc = 0;
  for (int i = 0; i < rec->nfields && !rc; i++) rc = walk_field(rec, &rec->fields[i], obj, path, fn, ctx);
  return rc;
}

int sng_plan_each_field(SngPlan *p, Visit fn, void *ctx) {
  if (!p || !sng_plan_walkable(p)) return -1;
  return walk_rec(&sng_plan_rec_plan, p, "", fn, ctx);
}
