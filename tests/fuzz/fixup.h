/* fixup.h - makes a plan file's header consistent with its bytes: the payload length and both
 * CRCs, so that a fuzzer's (or a test's) damage reaches the section parser and the validator
 * instead of stopping at the checksum.  Shared by the fuzz harnesses and the crasher replay. */
#ifndef SNG_FUZZ_FIXUP_H
#define SNG_FUZZ_FIXUP_H

#include <stdint.h>
#include <string.h>
#include <zlib.h>

/* Rewrites bytes 16..31 of c (n >= 32 bytes) for a payload of n - 32 bytes. */
static inline void sng_fuzz_fixup(unsigned char *c, size_t n) {
  uint64_t len = n - 32;
  memcpy(c + 16, &len, 8);
  uint32_t crc = (uint32_t)crc32(0L, c + 32, (uInt)len);
  memcpy(c + 24, &crc, 4);
  crc = (uint32_t)crc32(0L, c, 28);
  memcpy(c + 28, &crc, 4);
}

#endif
