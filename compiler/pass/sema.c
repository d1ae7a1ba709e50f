/* sema.c - from AST to the job: names, constants, options, and the forward IR.
 *
 * Declarations may come in any order: sema first indexes them by kind and name, then reads
 * the data blocks, the updater, the cluster and the train stage, and finally builds the net
 * that the train stage names.  Inside a net, statements are evaluated lazily: an identifier
 * evaluates the statement that binds it, so a net may use a name before the line that
 * defines it (cycles are reported).  Every error is reported with its location and sema
 * goes on, so one run shows all of them.
 */
#include "internal.h"
#include "sng_std.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* Nested layer calls, and names used before their line, are evaluated recursively.  Deeper
 * than this many calls, or than half the stack (at most STACK_BUDGET bytes), is reported
 * instead of running out of stack: a long chain of such names would.  The parser stops a
 * single expression before either (about 5000 calls). */
#define MAX_EVAL_DEPTH 10000
#define STACK_BUDGET ((size_t)8 << 20)

typedef struct Binding {       /* one name bound in a net */
  const char *name;
  const SngStmt *stmt;
  int index;                   /* which of the statement's targets */
  SngIrNode *node;
  int state;                   /* 0 unevaluated, 1 in progress, 2 done, 3 failed */
} Binding;

struct SngLayerCtx {
  SngJob *job;
  SngDiag *d;
  SngIrGraph *g;
  const SngFile *f;
  Binding *bind;               /* the net's names in statement order; a statement's are adjacent */
  int nbind, bcap;
  SngMap names;                /* name -> 1 + its index in bind */
  int depth;                   /* tensor() calls in progress */
  uintptr_t stack_base;        /* frame address where sema began */
  size_t stack_budget;         /* stack bytes evaluation may take below it */
  int counters[64];            /* per layer kind, for unique names */
  const char *kinds[64];
  int nkinds;
  int lcounters[64];           /* per layer kind, for the layer table's names */
  SngPart part;                /* the net's default partition */
  SngBuilder b;                /* what the layers see of this (set with g) */
};

/* "batch", "feature", "none" or "auto" at e; -1 (reported) otherwise */
static int part_of(SngLayerCtx *c, const SngExpr *e, bool allow_auto) {
  static const char *const names[] = {"batch", "feature", "none", "auto"};
  static const SngPart parts[] = {SNG_PART_BATCH, SNG_PART_FEATURE, SNG_PART_NONE, SNG_PART_AUTO};
  if (e->kind == SNG_EX_IDENT)
    for (int i = 0; i < 4; i++)
      if (!strcmp(e->str, names[i]) && (allow_auto || parts[i] != SNG_PART_AUTO)) return (int)parts[i];
  sng_diag_error(c->d, e->loc, "partition must be batch, feature, none%s", allow_auto ? " or auto" : "");
  if (!allow_auto && e->kind == SNG_EX_IDENT && !strcmp(e->str, "auto"))
    sng_diag_hint(c->d, "auto is chosen for a whole net: net name(partition = auto)");
  return -2;
}

/* ---- constant expressions ---- */

/* Folds e.  A step whose result is not finite (1e308 * 10) is an error at that step: a
 * constant is never inf or NaN. */
static int const_number(SngLayerCtx *c, const SngExpr *e, double *out) {
  double a, b;
  switch (e->kind) {
  case SNG_EX_NUM: *out = e->num; return 0;
  case SNG_EX_NEG:
    if (const_number(c, e->lhs, &a)) return -1;
    *out = -a;
    return 0;
  case SNG_EX_BIN:
    if (const_number(c, e->lhs, &a) || const_number(c, e->rhs, &b)) return -1;
    switch (e->op) {
    case '+': *out = a + b; break;
    case '-': *out = a - b; break;
    case '*': *out = a * b; break;
    case '/':
      if (b == 0) {
        sng_diag_error(c->d, e->loc, "division by zero in a constant expression");
        return -1;
      }
      *out = a / b;
      break;
    default: *out = NAN; break;
    }
    if (!isfinite(*out)) {
      sng_diag_error(c->d, e->loc, "constant expression overflows: %g %c %g is not a finite number", a, e->op, b);
      return -1;
    }
    return 0;
  default: break;
  }
  sng_diag_error(c->d, e->loc, "expected a number");
  return -1;
}

/* A number the runtime keeps as a float32 (rates, scales, initial values): finite there too. */
int sng_lctx_number(SngLayerCtx *c, const SngExpr *e, double *out) {
  double v; /* *out keeps its default when e is reported */
  if (const_number(c, e, &v)) return -1;
  if (fabs(v) > FLT_MAX) {
    sng_diag_error(c->d, e->loc, "%g is too large for a float32 (at most %g)", v, (double)FLT_MAX);
    return -1;
  }
  *out = v;
  return 0;
}

void sng_lctx_again(SngLayerCtx *c, SngLoc again, SngLoc first, const char *what) {
  sng_diag_error(c->d, again, "%s defined again here; first defined at %s:%d:%d", what, first.file ? first.file : "?",
                 first.line, first.col);
}

int sng_lctx_int(SngLayerCtx *c, const SngExpr *e, int64_t min, int64_t *out) {
  double v;
  if (const_number(c, e, &v)) return -1;
  if (v != floor(v) || v < (double)min) {
    sng_diag_error(c->d, e->loc, "expected an integer >= %lld, got %g", (long long)min, v);
    return -1;
  }
  if (v > 1e15) { /* exact in a double, and far from int64 overflow in any product with a size */
    sng_diag_error(c->d, e->loc, "%g is too large: integers are at most 10^15", v);
    return -1;
  }
  *out = (int64_t)v;
  return 0;
}

int sng_lctx_bool(SngLayerCtx *c, const SngExpr *e, int *out) {
  if (e->kind == SNG_EX_IDENT && (!strcmp(e->str, "true") || !strcmp(e->str, "false"))) {
    *out = !strcmp(e->str, "true");
    return 0;
  }
  sng_diag_error(c->d, e->loc, "expected true or false");
  return -1;
}

/* A string: a literal, or env("NAME", "default"). */
static const char *const_string(SngLayerCtx *c, const SngExpr *e) {
  if (e->kind == SNG_EX_STR) return e->str;
  if (e->kind == SNG_EX_CALL && !strcmp(e->str, "env")) {
    const SngArg *a = e->args, *b = a ? a->next : NULL;
    if (!a || a->name || a->value->kind != SNG_EX_STR || (b && (b->name || b->next))) {
      sng_diag_error(c->d, e->loc, "env() takes a variable name and an optional default string");
      return NULL;
    }
    const char *v = getenv(a->value->str);
    if (v && *v) return sng_arena_strdup(c->job->arena, v);
    if (b) return const_string(c, b->value);
    sng_diag_error(c->d, e->loc, "environment variable %s is not set and has no default", a->value->str);
    return NULL;
  }
  sng_diag_error(c->d, e->loc, "expected a string");
  return NULL;
}

/* ---- argument binding ---- */

int sng_lctx_bind(SngLayerCtx *c, const SngExpr *call, const char *const *params, int nparams,
                  const SngExpr **slots) {
  char names[16][32];
  int required[16], err = 0, pos = 0;
  SngLoc at[16];
  SNG_ASSERT(nparams <= 16);
  for (int i = 0; i < nparams; i++) {
    size_t n = strcspn(params[i], "?");
    snprintf(names[i], sizeof names[i], "%.*s", (int)n, params[i]);
    required[i] = params[i][n] != '?';
    slots[i] = NULL;
  }
  const char *cand[16];
  for (int i = 0; i < nparams; i++) cand[i] = names[i];
  for (const SngArg *a = call->args; a; a = a->next) {
    int k = -1;
    if (a->name) {
      for (int i = 0; i < nparams; i++)
        if (!strcmp(a->name, names[i])) k = i;
      if (k < 0) {
        sng_diag_error(c->d, a->loc, "%s() has no option '%s'", call->str, a->name);
        const char *s = sng_diag_suggest(a->name, cand, nparams);
        if (s) sng_diag_hint(c->d, "did you mean '%s'?", s);
        err = -1;
        continue;
      }
    } else {
      if (pos >= nparams) {
        sng_diag_error(c->d, a->loc, "too many arguments to %s() (it takes at most %d)", call->str, nparams);
        err = -1;
        continue;
      }
      k = pos++;
    }
    if (slots[k]) {
      char what[96];
      snprintf(what, sizeof what, "%s() option '%s'", call->str, names[k]);
      sng_lctx_again(c, a->loc, at[k], what);
      err = -1;
      continue;
    }
    slots[k] = a->value;
    at[k] = a->loc;
  }
  for (int i = 0; i < nparams; i++)
    if (required[i] && !slots[i] && !err) {
      sng_diag_error(c->d, call->loc, "%s() needs argument '%s'", call->str, names[i]);
      err = -1;
    }
  return err;
}

/* The initialisers (docs/language.md "Initialisers"): constant, uniform and gaussian as
 * given; the named ones keep their arguments until the shape pass knows the fans (shape.c). */
static const struct {
  const char *name;
  int kind, nargs;
  const char *p[2];
  double def[2];
} inits[] = {
  {"auto", SNG_INIT_AUTO, 0, {0}, {0}},
  {"constant", SNG_INIT_CONSTANT, 1, {"value"}, {0}},
  {"uniform", SNG_INIT_UNIFORM, 2, {"low", "high"}, {0}},
  {"gaussian", SNG_INIT_GAUSSIAN, 2, {"mean", "std"}, {0}},
  {"xavier_uniform", SNG_INIT_XAVIER_UNIFORM, 1, {"gain?"}, {1}},
  {"glorot_uniform", SNG_INIT_XAVIER_UNIFORM, 1, {"gain?"}, {1}},
  {"xavier_normal", SNG_INIT_XAVIER_NORMAL, 1, {"gain?"}, {1}},
  {"glorot_normal", SNG_INIT_XAVIER_NORMAL, 1, {"gain?"}, {1}},
  {"he_uniform", SNG_INIT_HE_UNIFORM, 0, {0}, {0}},
  {"msra_uniform", SNG_INIT_HE_UNIFORM, 0, {0}, {0}},
  {"he_normal", SNG_INIT_HE_NORMAL, 0, {0}, {0}},
  {"msra_normal", SNG_INIT_HE_NORMAL, 0, {0}, {0}},
  {"uniform_sqrt_fan_in", SNG_INIT_UNIFORM_SQRT_FAN_IN, 2, {"low?", "high?"}, {-1, 1}},
  {"gaussian_sqrt_fan_in", SNG_INIT_GAUSSIAN_SQRT_FAN_IN, 2, {"mean?", "std?"}, {0, 1}},
  {"uniform_sqrt_fan_in_out", SNG_INIT_UNIFORM_SQRT_FAN_IN_OUT, 2, {"low?", "high?"}, {-1, 1}},
};
enum { NINITS = sizeof inits / sizeof inits[0] };

static int init_of(SngLayerCtx *c, const SngExpr *e, SngInit *out) {
  const char *names[NINITS];
  int k = -1;
  for (int i = 0; i < NINITS; i++) {
    names[i] = inits[i].name;
    if ((e->kind == SNG_EX_CALL || e->kind == SNG_EX_IDENT) && !strcmp(e->str, names[i])) k = i;
  }
  if (k < 0 || (e->kind == SNG_EX_IDENT && inits[k].nargs && inits[k].p[0][strlen(inits[k].p[0]) - 1] != '?')) {
    if (k < 0 && (e->kind == SNG_EX_CALL || e->kind == SNG_EX_IDENT)) {
      sng_diag_error(c->d, e->loc, "unknown initialiser '%s'", e->str);
      const char *sug = sng_diag_suggest(e->str, names, NINITS);
      if (sug) sng_diag_hint(c->d, "did you mean '%s'?", sug);
    } else
      sng_diag_error(c->d, e->loc, "expected an initialiser: constant(v), uniform(lo, hi), gaussian(mean, std), "
                     "xavier_uniform, xavier_normal, he_uniform, he_normal or uniform_sqrt_fan_in");
    return -1;
  }
  const SngExpr *s[2] = {0};
  SngInit r = {inits[k].kind, inits[k].def[0], inits[k].def[1]};
  double *v[2] = {&r.a, &r.b};
  if (e->kind == SNG_EX_CALL && sng_lctx_bind(c, e, inits[k].p, inits[k].nargs, s)) return -1;
  for (int i = 0; i < inits[k].nargs; i++)
    if (s[i] && sng_lctx_number(c, s[i], v[i])) return -1;
  int uni = r.kind == SNG_INIT_UNIFORM || r.kind == SNG_INIT_UNIFORM_SQRT_FAN_IN || r.kind == SNG_INIT_UNIFORM_SQRT_FAN_IN_OUT;
  int gau = r.kind == SNG_INIT_GAUSSIAN || r.kind == SNG_INIT_GAUSSIAN_SQRT_FAN_IN;
  if ((uni && r.b < r.a) || (gau && r.b < 0) || (inits[k].nargs == 1 && r.kind != SNG_INIT_CONSTANT && r.a <= 0)) {
    sng_diag_error(c->d, e->loc, uni ? "%s(low, high) needs low <= high" : gau ? "%s(mean, std) needs std >= 0"
                                                                              : "%s(gain) needs gain > 0",
                   e->str);
    return -1;
  }
  *out = r;
  return 0;
}

static const char *unique(SngLayerCtx *c, const char *kind) {
  int i = 0;
  while (i < c->nkinds && strcmp(c->kinds[i], kind)) i++;
  if (i == c->nkinds) {
    SNG_ASSERT(i < 64);
    c->kinds[c->nkinds++] = kind;
  }
  return sng_arena_printf(c->g->arena, "%s%d", kind, ++c->counters[i]);
}

SngDiag *sng_lctx_diag(SngLayerCtx *c) { return c->d; }

static const SngPlanData *data_of(SngLayerCtx *c, const SngExpr *e) {
  if (e->kind != SNG_EX_IDENT) {
    sng_diag_error(c->d, e->loc, "expected the name of a data block");
    return NULL;
  }
  if (c->job->data.name && !strcmp(c->job->data.name, e->str)) /* a block that failed to load said so */
    return c->job->data.sample_rank ? &c->job->data : NULL;
  sng_diag_error(c->d, e->loc, "no data block named '%s'", e->str);
  if (c->job->data.name) sng_diag_hint(c->d, "the file defines data '%s'", c->job->data.name);
  return NULL;
}

/* ---- net: lazy evaluation of tensor expressions ---- */

static int eval_call(SngLayerCtx *c, const SngExpr *e, SngIrNode **out, int nout);

static Binding *find_binding(SngLayerCtx *c, const char *name) {
  intptr_t i = (intptr_t)sng_map_get(&c->names, name);
  return i ? &c->bind[i - 1] : NULL;
}

static void add_binding(SngLayerCtx *c, Binding b) {
  if (c->nbind == c->bcap) {
    c->bcap = c->bcap ? 2 * c->bcap : 64;
    c->bind = sng_realloc(c->bind, sizeof *c->bind * (size_t)c->bcap);
  }
  c->bind[c->nbind++] = b;
  sng_map_put(&c->names, b.name, (void *)(intptr_t)c->nbind);
}

/* The bindings of b's statement: bind[*lo .. *hi) (they were added one after another). */
static void stmt_bindings(const SngLayerCtx *c, const Binding *b, int *lo, int *hi) {
  *lo = *hi = (int)(b - c->bind);
  while (*lo > 0 && c->bind[*lo - 1].stmt == b->stmt) --*lo;
  while (*hi < c->nbind && c->bind[*hi].stmt == b->stmt) ++*hi;
}

static int eval_stmt(SngLayerCtx *c, const Binding *b) {
  const SngStmt *st = b->stmt;
  SngIrNode *outs[8] = {0};
  int n = 0, lo, hi, rc;
  for (const SngName *nm = st->names; nm; nm = nm->next) n++;
  if (n > 8) { /* no layer gives that many */
    sng_diag_error(c->d, st->loc, "%d names are assigned, but a layer gives at most 8 tensors", n);
    rc = -1;
  } else {
    rc = eval_call(c, st->value, outs, n);
  }
  stmt_bindings(c, b, &lo, &hi);
  for (int i = lo; i < hi; i++) {
    c->bind[i].state = rc ? 3 : 2;
    c->bind[i].node = rc ? NULL : outs[c->bind[i].index];
    if (!rc && outs[c->bind[i].index] && !outs[c->bind[i].index]->name)
      outs[c->bind[i].index]->name = c->bind[i].name;
  }
  return rc;
}

static SngIrNode *tensor_at(SngLayerCtx *c, const SngExpr *e);

static size_t stack_used(const SngLayerCtx *c) {
  uintptr_t here = (uintptr_t)__builtin_frame_address(0); /* the real stack, even under ASan */
  return here < c->stack_base ? c->stack_base - here : here - c->stack_base;
}

static SngIrNode *tensor(SngLayerCtx *c, const SngExpr *e) {
  if (c->depth >= MAX_EVAL_DEPTH || stack_used(c) > c->stack_budget) {
    sng_diag_error(c->d, e->loc, "evaluation nests too deeply here: %d layer calls and names used before their line "
                   "are pending", c->depth);
    sng_diag_hint(c->d, "define each name above the lines that use it");
    return NULL;
  }
  c->depth++;
  SngIrNode *n = tensor_at(c, e);
  c->depth--;
  return n;
}

static SngIrNode *tensor_at(SngLayerCtx *c, const SngExpr *e) {
  if (e->kind == SNG_EX_IDENT) {
    Binding *b = find_binding(c, e->str);
    if (!b) {
      sng_diag_error(c->d, e->loc, "unknown name '%s'", e->str);
      const char **cand = sng_alloc(sizeof *cand * (size_t)(c->nbind + 1));
      for (int i = 0; i < c->nbind; i++) cand[i] = c->bind[i].name;
      const char *s = sng_diag_suggest(e->str, cand, c->nbind);
      if (s) sng_diag_hint(c->d, "did you mean '%s'?", s);
      free(cand);
      return NULL;
    }
    if (b->state == 1) {
      sng_diag_error(c->d, e->loc, "'%s' depends on itself", e->str);
      return NULL;
    }
    if (b->state == 0) {
      int lo, hi;
      stmt_bindings(c, b, &lo, &hi);
      for (int i = lo; i < hi; i++) c->bind[i].state = 1;
      eval_stmt(c, b);
    }
    return b->node; /* NULL when its statement failed: that error is already reported */
  }
  if (e->kind == SNG_EX_CALL) {
    SngIrNode *out = NULL;
    return eval_call(c, e, &out, 1) ? NULL : out;
  }
  sng_diag_error(c->d, e->loc, "expected a tensor (a name or a layer call)");
  return NULL;
}

/* apart from eval_call, whose frame every nesting level pays for */
__attribute__((noinline)) static int unknown_layer(SngLayerCtx *c, const SngExpr *e) {
  sng_diag_error(c->d, e->loc, "unknown layer '%s'", e->str);
  const char *cand[64];
  for (int i = 0; i < sng_std_nlayers && i < 64; i++) cand[i] = sng_std_layers[i].name;
  const char *s = sng_diag_suggest(e->str, cand, sng_std_nlayers);
  if (s) sng_diag_hint(c->d, "did you mean '%s'?", s);
  return -1;
}

static int eval_call(SngLayerCtx *c, const SngExpr *e, SngIrNode **out, int nout) {
  if (e->kind != SNG_EX_CALL) { /* a name: an alias of another tensor */
    if (nout != 1) {
      sng_diag_error(c->d, e->loc, "one tensor cannot be assigned to %d names", nout);
      return -1;
    }
    return (out[0] = tensor(c, e)) ? 0 : -1;
  }
  const SngLayer *l = sng_std_layer_find(e->str);
  if (!l) return unknown_layer(c, e);
  if (l->nout >= 0 && l->nout != nout) { /* -1: one tensor per name assigned (split) */
    sng_diag_error(c->d, e->loc, "%s() gives %d tensor%s, but %d name%s assigned", l->name, l->nout,
                   l->nout == 1 ? "" : "s", nout, nout == 1 ? " is" : "s are");
    return -1;
  }
  /* partition = ... on a call is the layer's own setting; the builder never sees it */
  SngExpr call = *e;
  SngArg *args = NULL, **tail = &args;
  SngPart part = c->part;
  bool expl = false;
  const SngArg *first_part = NULL;
  for (const SngArg *a = e->args; a; a = a->next) {
    if (a->name && !strcmp(a->name, "partition")) {
      if (first_part) {
        sng_lctx_again(c, a->loc, first_part->loc, "partition");
        return -1;
      }
      first_part = a;
      int p = part_of(c, a->value, false);
      if (p == -2) return -1;
      part = (SngPart)p, expl = true;
      continue;
    }
    *tail = sng_arena_alloc(c->job->arena, sizeof **tail);
    **tail = *a;
    (*tail)->next = NULL;
    tail = &(*tail)->next;
  }
  call.args = args;
  int k = 0;
  while (k < c->nkinds && strcmp(c->kinds[k], l->name)) k++;
  if (k == c->nkinds) {
    SNG_ASSERT(k < 64);
    c->kinds[c->nkinds++] = l->name;
  }
  const char *lname = sng_arena_printf(c->g->arena, "%s%d", l->name, ++c->lcounters[k]);
  int32_t outer = c->g->cur_layer;
  c->g->cur_layer = sng_ir_layer_new(c->g, lname, e->loc, part, expl);
  int rc = l->build(&c->b, &call, out, nout);
  c->g->cur_layer = outer;
  return rc;
}

/* ---- the builder stdlib's layers see (sng_std.h): sema's helpers behind void * ---- */

static int b_bind(void *c, const SngExpr *call, const char *const *params, int nparams, const SngExpr **slots) {
  return sng_lctx_bind(c, call, params, nparams, slots);
}
static SngIrNode *b_tensor(void *c, const SngExpr *e) { return tensor(c, e); }
static int b_number(void *c, const SngExpr *e, double *out) { return sng_lctx_number(c, e, out); }
static int b_int(void *c, const SngExpr *e, int64_t min, int64_t *out) { return sng_lctx_int(c, e, min, out); }
static int b_bool(void *c, const SngExpr *e, int *out) { return sng_lctx_bool(c, e, out); }
static int b_init(void *c, const SngExpr *e, SngInit *out) { return init_of(c, e, out); }
static const SngPlanData *b_data(void *c, const SngExpr *e) { return data_of(c, e); }
static const char *b_unique(void *c, const char *kind) { return unique(c, kind); }

static SngBuilder builder(SngLayerCtx *c) {
  return (SngBuilder){.ctx = c, .g = c->g, .d = c->d, .bind = b_bind, .tensor = b_tensor, .number = b_number,
                      .integer = b_int, .boolean = b_bool, .init = b_init, .data = b_data, .unique = b_unique};
}

/* A net trained with cd: its one rbm layer built the Gibbs chain and its loss (rbm.c); the
 * net writes no loss of its own, and splits by rows (the chain's reconstructions need every
 * hidden unit of a row). */
static void cd_loss(SngLayerCtx *c, const SngDecl *net, const SngStmt *loss) {
  SngJob *job = c->job;
  if (loss) {
    sng_diag_error(c->d, loss->loc, "a net trained with cd has no loss line: its loss is its rbm layer's");
    sng_diag_hint(c->d, "cd reports the rbm's reconstruction error and follows contrastive divergence, not a gradient");
  }
  if (c->part == SNG_PART_FEATURE || c->part == SNG_PART_AUTO) {
    sng_diag_error(c->d, net->name_loc, "a net trained with cd splits by batch (or none), not by %s",
                   c->part == SNG_PART_AUTO ? "auto" : "feature");
    return;
  }
  if (!c->b.cd_loss) {
    if (sng_diag_errors(c->d)) return; /* an rbm call that failed was reported already */
    sng_diag_error(c->d, job->alg_loc, "cd trains an rbm layer, and net '%s' has none", net->name);
    sng_diag_hint(c->d, "add one, such as: h = rbm(x, 500)");
    return;
  }
  /* the rbm's input must be data: cd trains the rbm alone, so parameters below it would never change */
  SngIrGraph *g = c->g;
  bool *dep = sng_calloc((size_t)g->nnodes, sizeof *dep);
  const SngIrNode *below = NULL;
  for (int i = 0; i < g->nnodes && !below; i++) {
    const SngIrNode *n = g->nodes[i];
    dep[i] = n->op == SNG_OP_PARAM;
    for (int j = 0; j < n->nsrc; j++) dep[i] |= dep[n->src[j]->id];
    if (n == c->b.cd_loss->src[0] && dep[i]) below = n;
  }
  free(dep);
  if (below) {
    sng_diag_error(c->d, c->b.cd_loss->loc, "cd trains the rbm alone, and its input comes from layers with parameters, "
                   "which nothing would train");
    sng_diag_hint(c->d, "train the layers below it in a stage of their own; stacking trained RBMs needs `init from`, "
                  "which is not supported yet");
    return;
  }
  if (!loss) job->loss = c->b.cd_loss;
}

static void build_net(SngLayerCtx *c, const SngDecl *net) {
  /* partition: how the workers of a group split every layer that does not say otherwise */
  c->part = SNG_PART_BATCH;
  const SngArg *first_part = NULL;
  for (const SngArg *a = net->args; a; a = a->next) {
    if (!a->name || strcmp(a->name, "partition")) {
      sng_diag_error(c->d, a->loc, "net options are: partition");
      continue;
    }
    if (first_part) {
      sng_lctx_again(c, a->loc, first_part->loc, "partition");
      continue;
    }
    first_part = a;
    int p = part_of(c, a->value, true);
    if (p != -2) c->part = (SngPart)p;
  }
  const SngStmt *loss = NULL, *metric = NULL;
  for (const SngStmt *st = net->body; st; st = st->next) {
    if (st->kind == SNG_ST_ASSIGN) {
      int i = 0;
      for (const SngName *nm = st->names; nm; nm = nm->next, i++) {
        const Binding *old = find_binding(c, nm->name);
        if (old) {
          const SngName *first = old->stmt->names;
          for (int k = 0; k < old->index && first->next; k++) first = first->next;
          char what[96];
          snprintf(what, sizeof what, "'%s'", nm->name);
          sng_lctx_again(c, nm->loc, first->loc, what);
          continue;
        }
        add_binding(c, (Binding){nm->name, st, i, NULL, 0});
      }
    } else if (st->kind == SNG_ST_KEYWORD && !strcmp(st->head, "loss")) {
      if (loss) {
        sng_diag_error(c->d, st->loc, "a net has one loss (several losses are not supported yet)");
        sng_diag_hint(c->d, "the first loss is at %s:%d:%d", loss->loc.file, loss->loc.line, loss->loc.col);
        continue;
      }
      loss = st;
    } else if (st->kind == SNG_ST_KEYWORD && !strcmp(st->head, "metric")) {
      if (metric) {
        sng_diag_error(c->d, st->loc, "a net reports one metric so far");
        sng_diag_hint(c->d, "the first metric is at %s:%d:%d", metric->loc.file, metric->loc.line, metric->loc.col);
        continue;
      }
      metric = st;
    } else {
      sng_diag_error(c->d, st->loc, "expected 'name = layer(...)', 'loss ...' or 'metric ...' in a net");
    }
  }
  for (int i = 0; i < c->nbind; i++)
    if (c->bind[i].state == 0) tensor(c, &(SngExpr){.kind = SNG_EX_IDENT, .str = c->bind[i].name, .loc = c->bind[i].stmt->loc});
  if (c->job->cd_k) { /* cd: the rbm layer's chain is the loss (cd_loss sets job->loss) */
    cd_loss(c, net, loss);
    if (!c->job->loss) return;
  } else if (!loss) {
    sng_diag_error(c->d, net->loc, "net '%s' has no loss", net->name);
    sng_diag_hint(c->d, "add a line such as: loss softmax_cross_entropy(logits, y)");
    return;
  } else {
    SngIrNode *l = tensor(c, loss->value);
    if (l && !sng_op_has(l->op, OPF_LOSS)) {
      sng_diag_error(c->d, loss->value->loc, "'loss' needs a loss layer such as softmax_cross_entropy(logits, labels)");
      l = NULL;
    }
    c->job->loss = l;
  }
  if (metric) {
    SngIrNode *m = tensor(c, metric->value);
    if (m && !sng_op_has(m->op, OPF_METRIC)) {
      sng_diag_error(c->d, metric->value->loc, "'metric' needs a metric layer such as accuracy(logits, labels)");
      m = NULL;
    }
    c->job->metric = m;
  }
}

/* ---- the other declarations ---- */


const char *sng_sema_string(SngLayerCtx *c, const SngExpr *e) { return const_string(c, e); }
SngJob *sng_sema_job(SngLayerCtx *c) { return c->job; }

/* The first declaration of a kind.  A second one with the same name (or of an unnamed kind:
 * updater kinds, clusters, train stages of the same net) is a definition made twice; one
 * with another name is not supported yet.  Both errors name the first one's place. */
static const SngDecl *only_one(SngLayerCtx *c, const SngFile *f, SngDeclKind kind, const char *what) {
  const SngDecl *first = NULL;
  for (const SngDecl *x = f->decls; x; x = x->next) {
    if (x->kind != kind) continue;
    if (!first) {
      first = x;
      continue;
    }
    if ((!x->name && !first->name) || (x->name && first->name && !strcmp(x->name, first->name))) {
      char w[160];
      snprintf(w, sizeof w, x->name ? "%s '%s'" : "%s", what, x->name ? x->name : "");
      sng_lctx_again(c, x->loc, first->loc, w);
    } else {
      sng_diag_error(c->d, x->loc, "a second %s: one per file is supported so far", what);
      sng_diag_hint(c->d, "the first one is at %s:%d:%d", first->loc.file, first->loc.line, first->loc.col);
    }
  }
  return first;
}

/* Nets: a name defined twice is an error; a net that no train stage names is a warning (it
 * would be checked for nothing and silently left out of the plan). */
static void check_nets(SngLayerCtx *c, const SngFile *f, const SngDecl *train) {
  for (const SngDecl *x = f->decls; x; x = x->next) {
    if (x->kind != SNG_DECL_NET) continue;
    const SngDecl *first = x;
    for (const SngDecl *y = f->decls; y != x; y = y->next)
      if (y->kind == SNG_DECL_NET && !strcmp(y->name, x->name)) {
        first = y;
        break;
      }
    if (first != x) {
      char w[160];
      snprintf(w, sizeof w, "net '%s'", x->name);
      sng_lctx_again(c, x->name_loc, first->name_loc, w);
    } else if (train && strcmp(train->name, x->name)) {
      sng_diag_warning(c->d, x->name_loc, "net '%s' is never trained (the train stage trains '%s')", x->name, train->name);
    }
  }
}

int sng_pass_sema(SngJob *job, const SngFile *f, SngDiag *d) {
  int before = sng_diag_errors(d);
  SngLayerCtx *c = sng_calloc(1, sizeof *c);
  c->job = job, c->d = d, c->f = f;
  c->stack_base = (uintptr_t)__builtin_frame_address(0);
  struct rlimit rl;
  c->stack_budget = STACK_BUDGET;
  if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur / 2 < STACK_BUDGET)
    c->stack_budget = (size_t)rl.rlim_cur / 2;
  job->source = sng_arena_strdup(job->arena, f->path);
  for (const SngDecl *x = f->decls; x; x = x->next)
    if (x->kind == SNG_DECL_IMPORT || x->kind == SNG_DECL_BLOCK)
      sng_diag_error(d, x->loc, "%s is not supported yet by this version of singac",
                     x->kind == SNG_DECL_IMPORT ? "import" : "block");

  const SngDecl *data = only_one(c, f, SNG_DECL_DATA, "data block");
  const SngDecl *upd = only_one(c, f, SNG_DECL_UPDATER, "updater");
  const SngDecl *clu = only_one(c, f, SNG_DECL_CLUSTER, "cluster");
  const SngDecl *train = only_one(c, f, SNG_DECL_TRAIN, "train stage");
  if (data) sng_sema_data(c, data, &job->data);
  if (upd) sng_sema_updater(c, upd, &job->updater);
  else { /* documented default: plain SGD at 0.01 */
    job->updater = (SngPlanUpdater){.kind = SNG_UPD_SGD, .lr = 0.01, .kernel = -1};
  }
  sng_sema_cluster(c, clu, &job->cluster, &job->processes);
  check_nets(c, f, train);
  const SngDecl *net = NULL;
  if (!train) sng_diag_error(d, (SngLoc){f->path, 1, 1}, "no train stage: nothing to do");
  else sng_sema_train(c, f, train, &job->train, &net);
  if (net) {
    if (!data) sng_diag_error(d, net->loc, "net '%s' has no data block to read from", net->name);
    job->net = sng_ir_graph_new(net->name);
    job->net_loc = net->name_loc;
    c->g = job->net;
    c->b = builder(c);
    c->b.cd_k = job->cd_k;
    build_net(c, net);
    sng_sema_rates(c, upd, job);
  }
  sng_map_free(&c->names);
  free(c->bind);
  free(c);
  return sng_diag_errors(d) > before ? -1 : 0;
}

SngJob *sng_job_new(void) {
  SngArena *a = sng_arena_new();
  SngJob *j = sng_arena_alloc(a, sizeof *j);
  j->arena = a;
  return j;
}

void sng_job_free(SngJob *job) {
  if (!job) return;
  sng_ir_graph_free(job->net);
  if (job->whole != job->net) sng_ir_graph_free(job->whole);
  sng_ir_graph_free(job->update);
  sng_arena_free(job->arena);
}
