/* compileutil.h - compiling .sng text in the Criterion tests, the diagnostics kept in a string.
 *
 *   char *msgs;
 *   SngDiagCount c;
 *   SngPlan *p = tu_compile("t.sng", text, NULL, &msgs, &c);  // NULL on errors; free(msgs) after
 *   cr_expect_not_null(strstr(msgs, "line 3"));
 */
#ifndef SNG_COMPILEUTIL_H
#define SNG_COMPILEUTIL_H

#include <stdio.h>

#include "sng_lower.h"

typedef struct SngDiagCount { int errors, warnings; } SngDiagCount;

/* Compiles text as the file `name` with options o (NULL: none); *msgs gets every diagnostic
 * (at most 50 errors), counts (if not NULL) how many errors and warnings there were. */
static inline SngPlan *tu_compile(const char *name, const char *text, const SngCompileOpts *o, char **msgs,
                                  SngDiagCount *counts) {
  size_t n;
  FILE *f = open_memstream(msgs, &n);
  SngDiag *d = sng_diag_new(f, 50);
  SngPlan *p = sng_compile_string(name, text, d, o);
  if (counts) counts->errors = sng_diag_errors(d), counts->warnings = sng_diag_warnings(d);
  sng_diag_free(d);
  fclose(f);
  return p;
}

#endif
