/* codec.c - records to bytes and back, driven by the field tables (fields.def).
 *
 * A record is its fields in list order: integers and doubles little-endian, fixed arrays
 * element by element (all of them, used or not, so the layout never depends on a value),
 * strings as u32 length + bytes (0xffffffff for NULL), a blob as u64 length + bytes, and a
 * pointer array (I32V, LIST) as an i32 count followed by its elements.  The decoder reads the
 * same walk; every count is checked against the bytes left, at the smallest size one element
 * can take, before anything is allocated, so a crafted count cannot ask for a huge
 * allocation.  Everything a decoded plan points to, bitcode included, is copied into its arena.
 */
#include "internal.h"

#include <string.h>

static void put_field(SngBuf *b, const SngPlanField *f, const void *obj);

void sng_plan_put(SngBuf *b, const SngPlanRec *rec, const void *obj, int section) {
  for (int i = 0; i < rec->nfields; i++)
    if (section < 0 || rec->fields[i].section == section) put_field(b, &rec->fields[i], obj);
}

/* Element k of a scalar field, through the core's put/read pairs (whatever byte order). */
static void put_elem(SngBuf *b, SngFieldType t, const char *p, size_t k) {
  if (t == FT_STR) {
    const char *s;
    memcpy(&s, p + k * sizeof s, sizeof s);
    sng_buf_put_str(b, s);
  } else if (t == FT_I32 || t == FT_U32) {
    uint32_t v;
    memcpy(&v, p + 4 * k, 4);
    sng_buf_put_u32(b, v);
  } else {
    uint64_t v;
    memcpy(&v, p + 8 * k, 8);
    sng_buf_put_u64(b, v);
  }
}

static void put_field(SngBuf *b, const SngPlanField *f, const void *obj) {
  const char *p = sng_plan_field_ptr(f, obj);
  if (f->type <= FT_STR) {
    for (int k = 0; k < sng_plan_field_cap(f); k++) put_elem(b, f->type, p, (size_t)k);
    return;
  }
  if (f->type == FT_REC) {
    sng_plan_put(b, f->sub, p, -1);
    return;
  }
  int64_t n = sng_plan_field_used(f, obj);
  const char *ptr;   /* BLOB, I32V, LIST: the array the member points to */
  memcpy(&ptr, p, sizeof ptr);
  switch (f->type) {
  case FT_BLOB: sng_buf_put_blob(b, ptr, (size_t)n); break;
  case FT_I32V:
    sng_buf_put_i32(b, (int32_t)n);
    for (int64_t i = 0; i < n; i++) put_elem(b, FT_I32, ptr, (size_t)i);
    break;
  case FT_LIST:
    sng_buf_put_i32(b, (int32_t)n);
    for (int64_t i = 0; i < n; i++) sng_plan_put(b, f->sub, ptr + i * f->sub->size, -1);
    break;
  default: break;
  }
}

/* The fewest bytes one record of rec takes in a file. */
static uint64_t min_bytes(const SngPlanRec *rec) {
  uint64_t n = 0;
  for (int i = 0; i < rec->nfields; i++) {
    const SngPlanField *f = &rec->fields[i];
    int cap = sng_plan_field_cap(f);
    switch (f->type) {
    case FT_I32: case FT_U32: case FT_STR: n += 4u * (uint64_t)cap; break;
    case FT_I64: case FT_U64: case FT_F64: case FT_BLOB: n += 8u * (uint64_t)cap; break;
    case FT_I32V: case FT_LIST: n += 4; break;
    case FT_REC: n += min_bytes(f->sub); break;
    }
  }
  return n;
}

/* A count followed by at least min elem bytes per element: refused if negative or larger than
 * what is left, before anything is allocated for it. */
static int32_t get_count(SngReader *r, uint64_t min) {
  int32_t n = sng_read_i32(r);
  if (r->err) return 0;
  if (n < 0 || (uint64_t)n * min > (uint64_t)(r->end - r->p)) {
    r->err = 1;
    return 0;
  }
  return n;
}

static void get_field(SngReader *r, SngArena *a, const SngPlanField *f, void *obj);

void sng_plan_get(SngReader *r, SngArena *a, const SngPlanRec *rec, void *obj, int section) {
  for (int i = 0; i < rec->nfields && !r->err; i++)
    if (section < 0 || rec->fields[i].section == section) get_field(r, a, &rec->fields[i], obj);
}

static void set_count(const SngPlanField *f, void *obj, int32_t n) {
  memcpy((char *)obj + f->len_at, &n, sizeof n);
}

static void get_elem(SngReader *r, SngArena *a, SngFieldType t, char *p, size_t k) {
  if (t == FT_STR) {
    char *s = sng_read_str(r, a);
    memcpy(p + k * sizeof s, &s, sizeof s);
  } else if (t == FT_I32 || t == FT_U32) {
    uint32_t v = sng_read_u32(r);
    memcpy(p + 4 * k, &v, 4);
  } else {
    uint64_t v = sng_read_u64(r);
    memcpy(p + 8 * k, &v, 8);
  }
}

static void get_field(SngReader *r, SngArena *a, const SngPlanField *f, void *obj) {
  char *p = (char *)obj + f->at;
  if (f->type <= FT_STR) {
    for (int k = 0; k < sng_plan_field_cap(f) && !r->err; k++)
      get_elem(r, a, f->type, p, (size_t)k);
    return;
  }
  switch (f->type) {
  case FT_BLOB: {
    size_t n = 0;
    const void *src = sng_read_blob(r, &n);
    void *copy = NULL;   /* copied: the plan must outlive the file buffer */
    if (src && n) copy = memcpy(sng_arena_alloc(a, n), src, n);
    else n = 0;
    memcpy(p, &copy, sizeof copy);
    memcpy((char *)obj + f->len_at, &n, sizeof n);   /* a size_t count */
    break;
  }
  case FT_I32V: {
    int32_t n = get_count(r, 4);
    int32_t *v = sng_arena_alloc(a, (size_t)n * sizeof *v);
    for (int32_t i = 0; i < n; i++) v[i] = sng_read_i32(r);
    memcpy(p, &v, sizeof v);
    set_count(f, obj, n);
    break;
  }
  case FT_LIST: {
    int32_t n = get_count(r, min_bytes(f->sub));
    char *v = sng_arena_alloc(a, (size_t)n * f->sub->size);
    for (int32_t i = 0; i < n && !r->err; i++)
      sng_plan_get(r, a, f->sub, v + i * f->sub->size, -1);
    memcpy(p, &v, sizeof v);
    set_count(f, obj, n);
    break;
  }
  case FT_REC: sng_plan_get(r, a, f->sub, p, -1); break;
  default: break;
  }
}
