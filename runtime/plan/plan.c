/* plan.c - the plan file: framing, header, reading and writing.
 *
 * A plan is a 32-byte header (see sng_plan.h) and a payload of tagged sections, each
 * u32 tag + u64 length + body; the bodies are the plan's fields (fields.def, codec.c), and
 * the OPS section holds this build's op names.  Sections are written in a fixed order but
 * read in any order; each must appear exactly once and its body must be consumed exactly, so
 * a section that is too long or too short is refused instead of silently misread.  The reader
 * checks, in order: magic, header CRC, version, payload length, payload CRC, section
 * structure, the op table against this build, and finally the whole plan (validate.c).
 * Checking the header CRC before the version means a flipped bit is reported as corruption,
 * and only a deliberate version change as a version mismatch.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

enum { HEADER_BYTES = 32 };

static const struct Section { char tag[5]; const char *name; } sections[SEC__COUNT] = {
#define SECTION(name, tag) {tag, #name},
#include "fields.def"
};

static uint32_t le32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t le64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static uint32_t tag_of(int s) { return le32((const uint8_t *)sections[s].tag); }

const char *sng_plan_op_name(int32_t op) {
  return op >= 0 && op < SNG_OP__COUNT ? sng_op_info[op].name : "?";
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

/* ---------------------------------------------------------------- the op table */

static void put_ops(SngBuf *b) {
  sng_buf_put_u32(b, SNG_OP__COUNT);
  for (int i = 0; i < SNG_OP__COUNT; i++) sng_buf_put_str(b, sng_op_info[i].name);
}

/* 1 when the file's op names differ from this build's; malformed input shows as r->err. */
static int get_ops(SngReader *r) {
  uint32_t n = sng_read_u32(r);
  int differs = !r->err && n != SNG_OP__COUNT;
  for (uint32_t i = 0; i < n && !r->err; i++) {
    uint32_t len = sng_read_u32(r);
    size_t left = (size_t)(r->end - r->p);
    if (r->err || len == 0xffffffffu || len > left) { r->err = 1; break; }
    if (i >= SNG_OP__COUNT || strlen(sng_op_info[i].name) != len ||
        memcmp(sng_op_info[i].name, r->p, len) != 0)
      differs = 1;
    r->p += len;
  }
  return differs && !r->err;
}

/* ---------------------------------------------------------------- encode / write */

int sng_plan_encode(const SngPlan *p, SngBuf *out) {
  if (!p || !sng_plan_walkable(p)) return SNG_EINVAL;
  size_t start = out->len;
  uint8_t zero[HEADER_BYTES] = {0};
  sng_buf_put(out, zero, HEADER_BYTES);
  for (int s = 0; s < SEC__COUNT; s++) {
    sng_buf_put_u32(out, tag_of(s));
    size_t at = out->len;
    sng_buf_put_u64(out, 0);   /* patched once the body's length is known */
    if (s == SEC_OPS) put_ops(out);
    sng_plan_put(out, &sng_plan_rec_plan, p, s);
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
  for (int s = 0; s < SEC__COUNT; s++)
    if (tag_of(s) == tag) return s;
  return -1;
}

/* Walks the sections; each body is read through a reader limited to its own length.
 * p->version holds the header's version, which META must repeat. */
static int get_sections(const uint8_t *payload, uint64_t plen, SngPlan *p, const char *name,
                        char *err, size_t errlen) {
  SngReader r = sng_reader(payload, (size_t)plen);
  uint32_t version = p->version;
  int seen[SEC__COUNT] = {0};
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
    if (s == SEC_OPS && get_ops(&body)) {
      sng_plan_errf(err, errlen, name,
                    "op table differs from this build (plan compiled by another singa version)");
      return SNG_EFORMAT;
    }
    sng_plan_get(&body, p->arena, &sng_plan_rec_plan, p, s);
    if (s == SEC_META && p->version != version) body.err = 1;
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
  for (int s = 0; s < SEC__COUNT; s++)
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
