/* internal.h - private to runtime/plan: the op table as the plan module sees it, and the
 * message helper shared by the decoder and the validator.  Never included outside this folder.
 */
#ifndef SNG_PLAN_INTERNAL_H
#define SNG_PLAN_INTERNAL_H

#include "sng_plan.h"

#include <stdarg.h>

/* The runtime must not include compiler/ir, so it takes its own columns from ops.def. */
enum {
#define OP(name, ...) PLAN_OP_##name,
#include "ops.def"
#undef OP
  PLAN_NOPS
};

extern const char *const sng_plan_op_names[PLAN_NOPS];

/* Writes "<name>: <fmt...>" into err (err may be NULL or errlen 0). */
void sng_plan_errf(char *err, size_t errlen, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Semantic checks shared by sng_plan_validate (name "invalid plan") and the decoder
 * (name = file name, message "<file>: invalid plan: ..."). */
int sng_plan_walkable(const SngPlan *p);
int sng_plan_check(const SngPlan *p, const char *name, char *err, size_t errlen);

#endif
