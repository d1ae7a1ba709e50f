/* sng_std.h - the standard library: the built-in layers and updaters, written as IR builders.
 *
 * Example usage (a layer turns one call in a net into IR; list it in sng_std_layers[]):
 *   // scale(x, by): x * by
 *   static int build_scale(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout) {
 *     static const char *const p[] = {"x", "by"};      // "name?" for an optional one
 *     const SngExpr *s[2];
 *     double by;
 *     (void)nout;                                      // the table's nout, already checked
 *     if (sng_std_bind(b, call, p, 2, s) || sng_std_number(b, s[1], &by)) return -1;
 *     SngIrNode *x = sng_std_tensor(b, s[0]);          // NULL: an error was reported
 *     if (!x) return -1;
 *     out[0] = sng_ir_op2(b->g, SNG_OP_MUL, call->loc, x, sng_ir_const(b->g, call->loc, by));
 *     return 0;
 *   }
 *
 * A layer sees the compiler only through SngBuilder, a small vtable that the caller fills
 * (compiler/pass/sema.c does): stdlib depends on the IR, the AST and the plan structs, never
 * on the passes, so the two libraries do not need each other.  Every hook reports its own
 * errors at the expression's location and returns -1 or NULL; a layer just returns -1.
 * Shapes are left to the shape pass and backward rules to the ops (stdlib/ops.def).
 */
#ifndef SNG_STD_H
#define SNG_STD_H

#include "sng_ir.h"
#include "sng_lang.h"
#include "sng_plan.h"

/* ---- the builder: what a layer may ask of the compiler ---- */
typedef struct SngBuilder {
  void *ctx;                   /* the caller's state, passed back to every hook */
  SngIrGraph *g;               /* the graph the layer appends to */
  SngDiag *d;                  /* where a layer reports its own errors */
  /* Binds a call's arguments to the layer's parameters, described as "name" (required,
   * positional or named) or "name?" (optional).  Reports unknown names (with a suggestion),
   * duplicates, missing and surplus arguments.  slots[i] is NULL for an absent optional. */
  int (*bind)(void *ctx, const SngExpr *call, const char *const *params, int nparams,
              const SngExpr **slots);
  SngIrNode *(*tensor)(void *ctx, const SngExpr *e);              /* a name or a layer call */
  int (*number)(void *ctx, const SngExpr *e, double *out);          /* a constant expression */
  int (*integer)(void *ctx, const SngExpr *e, int64_t min, int64_t *out);
  int (*boolean)(void *ctx, const SngExpr *e, int *out);            /* true or false */
  int (*init)(void *ctx, const SngExpr *e, SngInit *out);  /* uniform(a,b) gaussian(m,s) constant(v) */
  const SngPlanData *(*data)(void *ctx, const SngExpr *e);          /* the data block named by e */
  const char *(*unique)(void *ctx, const char *kind);               /* "dense1", "dense2", ... */
  /* The training algorithm, for the layers it changes: cd_k > 0 under `with cd(k = ...)`, 0
   * under bp.  Under cd the rbm layer builds the Gibbs chain and leaves its loss (the net's)
   * in cd_loss. */
  int cd_k;
  SngIrNode *cd_loss;
} SngBuilder;

static inline int sng_std_bind(SngBuilder *b, const SngExpr *call, const char *const *params, int nparams,
                               const SngExpr **slots) {
  return b->bind(b->ctx, call, params, nparams, slots);
}
static inline SngIrNode *sng_std_tensor(SngBuilder *b, const SngExpr *e) { return b->tensor(b->ctx, e); }
static inline int sng_std_number(SngBuilder *b, const SngExpr *e, double *out) { return b->number(b->ctx, e, out); }
static inline int sng_std_int(SngBuilder *b, const SngExpr *e, int64_t min, int64_t *out) {
  return b->integer(b->ctx, e, min, out);
}
static inline int sng_std_bool(SngBuilder *b, const SngExpr *e, int *out) { return b->boolean(b->ctx, e, out); }
static inline int sng_std_init(SngBuilder *b, const SngExpr *e, SngInit *out) { return b->init(b->ctx, e, out); }
static inline const SngPlanData *sng_std_data(SngBuilder *b, const SngExpr *e) { return b->data(b->ctx, e); }
static inline const char *sng_std_unique(SngBuilder *b, const char *kind) { return b->unique(b->ctx, kind); }

/* A parameter of the layer at loc.  init NULL or absent keeps init = auto, which the shape
 * pass turns into PyTorch's nn.Linear default once the fan-in is known.  NULL if init is
 * not a valid initialiser (reported). */
SngIrNode *sng_std_param(SngBuilder *b, SngLoc loc, const char *name, SngShape s, const SngExpr *init,
                         double lr_mult, double wd_mult);

/* ---- the layer table (stdlib/layers/layers.c) ---- */
/* Builds the IR of one call; out has the table's nout slots.  0, or -1 (errors reported). */
typedef int (*SngLayerFn)(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout);
typedef struct SngLayer {
  const char *name;            /* as called in a net */
  SngLayerFn build;
  int nout;                    /* tensors it gives: x, y = input(data) has 2; -1: one per name assigned */
  const char *doc;             /* one line for help and hints */
  /* For docs/layers.md (generated by sng-docgen, which checks them against what the
   * builder binds, so they cannot drift): */
  const char *args;            /* the arguments as called, with the optional ones' defaults:
                                  "x, units, bias = true" */
  const char *shape;           /* the shape rule: "x [N, ...] -> [N, units]" */
  const char *part;            /* how it splits over a group's workers */
} SngLayer;
extern const SngLayer sng_std_layers[];
extern const int sng_std_nlayers;
const SngLayer *sng_std_layer_find(const char *name);   /* NULL if there is none */

/* ---- updaters (stdlib/updaters/) ---- */
/* The update of one parameter slice as a graph for the fusion pass to make one kernel of:
 * bufs {w, g, state...}, scalars {lr, wd, grad_scale}.  *nstate gets the number of state
 * buffers per parameter (momentum history: 1). */
SngIrGraph *sng_std_updater(const SngPlanUpdater *u, int32_t *nstate);

#endif
