/* fuzz_plan.c - libFuzzer harness for the plan reader (scripts/fuzz.sh builds and runs it).
 * Any bytes must be refused with a message or decoded into a plan that passes validation and
 * can be described; never a crash.  The checksums are recomputed over the input so the fuzzer
 * reaches the section parser and the validator instead of stopping at the CRC. */
#include <stdlib.h>
#include <string.h>

#include "fixup.h"
#include "sng_plan.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n) {
  char err[1024];
  SngPlan *p = sng_plan_decode(data, n, err, sizeof err); /* as it is */
  sng_plan_free(p);
  if (n < 32) return 0;
  unsigned char *c = malloc(n);
  memcpy(c, data, n);
  sng_fuzz_fixup(c, n); /* with a consistent header: length and both CRCs */
  p = sng_plan_decode(c, n, err, sizeof err);
  if (p && sng_plan_validate(p, err, sizeof err)) abort(); /* decode must validate */
  static FILE *devnull;
  if (p && (devnull || (devnull = fopen("/dev/null", "w")))) sng_plan_describe(devnull, p);
  sng_plan_free(p);
  free(c);
  return 0;
}
