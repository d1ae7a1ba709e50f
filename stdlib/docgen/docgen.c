/* docgen.c - sng-docgen: docs/layers.md from the layer table and the op table.
 *
 *   sng-docgen            prints docs/layers.md
 *   sng-docgen --check    checks every layer's documented arguments against those its builder
 *                         binds (names, order, which are optional, a default for each optional
 *                         one); exit 1 naming each mismatch
 *
 * The builder's own argument list is captured by calling it with a builder whose bind hook
 * records the list and fails, so the documentation is checked against the code that parses
 * a call, not against a copy of it.  The build writes the page (build/docs/layers.md) and a
 * test compares it with the checked-in docs/layers.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sng_std.h"

#define MAXP 32

typedef struct Capture { const char *p[MAXP]; int n; } Capture;

static int capture_bind(void *ctx, const SngExpr *call, const char *const *params, int nparams, const SngExpr **slots) {
  Capture *c = ctx;
  (void)call, (void)slots;
  c->n = nparams < MAXP ? nparams : MAXP;
  for (int i = 0; i < c->n; i++) c->p[i] = params[i];
  return -1; /* the builder stops here */
}
static SngIrNode *no_tensor(void *ctx, const SngExpr *e) { (void)ctx, (void)e; return NULL; }
static int no_number(void *ctx, const SngExpr *e, double *out) { (void)ctx, (void)e, (void)out; return -1; }
static int no_int(void *ctx, const SngExpr *e, int64_t min, int64_t *out) { (void)ctx, (void)e, (void)min, (void)out; return -1; }
static int no_bool(void *ctx, const SngExpr *e, int *out) { (void)ctx, (void)e, (void)out; return -1; }
static int no_init(void *ctx, const SngExpr *e, SngInit *out) { (void)ctx, (void)e, (void)out; return -1; }
static const SngPlanData *no_data(void *ctx, const SngExpr *e) { (void)ctx, (void)e; return NULL; }
static const char *no_unique(void *ctx, const char *kind) { (void)ctx; return kind; }

/* the argument list the layer's builder binds ("name" required, "name?" optional) */
static Capture captured(const SngLayer *l) {
  Capture c = {{0}, -1};
  SngIrGraph *g = sng_ir_graph_new("docgen");
  SngBuilder b = {.ctx = &c, .g = g, .bind = capture_bind, .tensor = no_tensor, .number = no_number, .integer = no_int,
                  .boolean = no_bool, .init = no_init, .data = no_data, .unique = no_unique};
  SngExpr call = {0};
  SngIrNode *out[8] = {0};
  l->build(&b, &call, out, l->nout);
  sng_ir_graph_free(g);
  return c;
}

/* The documented arguments: "x, units, bias = true" -> names and defaults (NULL: required). */
typedef struct Doc { char name[MAXP][48]; char def[MAXP][48]; int has_def[MAXP]; int n; } Doc;

static void trim(char *s) {
  size_t n = strlen(s), i = 0;
  while (n && (s[n - 1] == ' ')) s[--n] = 0;
  while (s[i] == ' ') i++;
  memmove(s, s + i, n - i + 1);
}

static Doc parse_args(const char *args) {
  Doc d = {0};
  char buf[1024];
  snprintf(buf, sizeof buf, "%s", args ? args : "");
  int depth = 0; /* commas inside a default's parentheses, gaussian(0, 0.01), do not separate */
  for (char *q = buf; *q; q++) {
    depth += (*q == '(') - (*q == ')');
    if (*q == ',' && depth == 0) *q = '\x1f';
  }
  for (char *save = NULL, *a = strtok_r(buf, "\x1f", &save); a && d.n < MAXP; a = strtok_r(NULL, "\x1f", &save), d.n++) {
    char *eq = strchr(a, '=');
    if (eq) *eq = 0, snprintf(d.def[d.n], sizeof d.def[d.n], "%s", eq + 1), trim(d.def[d.n]), d.has_def[d.n] = 1;
    snprintf(d.name[d.n], sizeof d.name[d.n], "%s", a);
    trim(d.name[d.n]);
  }
  return d;
}

static int check(void) {
  int bad = 0;
  for (int i = 0; i < sng_std_nlayers; i++) {
    const SngLayer *l = &sng_std_layers[i];
    if (!l->args || !l->shape || !l->part) {
      fprintf(stderr, "sng-docgen: layer %s: args, shape and part must be documented in stdlib/layers/layers.c\n", l->name);
      bad = 1;
      continue;
    }
    Capture c = captured(l);
    Doc d = parse_args(l->args);
    if (c.n < 0) {
      fprintf(stderr, "sng-docgen: layer %s: its builder never bound its arguments\n", l->name);
      bad = 1;
      continue;
    }
    if (c.n != d.n) {
      fprintf(stderr, "sng-docgen: layer %s: the builder binds %d arguments, the table documents %d (\"%s\")\n",
              l->name, c.n, d.n, l->args);
      bad = 1;
      continue;
    }
    for (int k = 0; k < c.n; k++) {
      size_t len = strlen(c.p[k]);
      int opt = len && c.p[k][len - 1] == '?';
      if (strlen(d.name[k]) != len - (size_t)opt || strncmp(d.name[k], c.p[k], len - (size_t)opt)) {
        fprintf(stderr, "sng-docgen: layer %s: argument %d is '%.*s' in the builder, '%s' in the table\n", l->name,
                k + 1, (int)(len - (size_t)opt), c.p[k], d.name[k]);
        bad = 1;
      } else if (opt != d.has_def[k]) {
        fprintf(stderr, "sng-docgen: layer %s: argument '%s' is %s in the builder but %s in the table\n", l->name,
                d.name[k], opt ? "optional" : "required", d.has_def[k] ? "has a default" : "has no default");
        bad = 1;
      }
    }
  }
  return bad;
}

static const char *const flag_names[] = {"source", "param", "scalar", "eltwise", "rowwise", "gemm", "loss", "metric",
                                         "effect", "internal", "conn", "comm", "bias", "fills_param", "args"};

static void put_flags(unsigned f) {
  int first = 1;
  for (unsigned k = 0; k < sizeof flag_names / sizeof flag_names[0]; k++)
    if (f & (1u << k)) printf("%s%s", first ? "" : ", ", flag_names[k]), first = 0;
  if (first) printf("-");
}

static const char *col(const char *s) { return strcmp(s, "none") ? s : "-"; }

static void page(void) {
  printf("# Built-in layers and ops\n\n"
         "<!-- generated by build/sng-docgen from stdlib/layers/layers.c and stdlib/ops.def: do not edit;\n"
         "     `ninja -C build docs` rewrites it, and the test docs_layers_current fails when it is stale -->\n\n"
         "Every layer is called in a `net` block as `name(arguments)`; arguments are positional or\n"
         "`name = value`, and the optional ones take the default shown. Shapes use N for the batch's\n"
         "rows. How each layer splits over the workers of a group (`partition = batch | feature |\n"
         "none | auto`) is docs/partition.md's subject; the rule of each layer is given here.\n\n");
  for (int i = 0; i < sng_std_nlayers; i++) {
    const SngLayer *l = &sng_std_layers[i];
    printf("## %s\n\n%s\n\n", l->name, l->doc);
    printf("    %s(%s)\n\n", l->name, l->args ? l->args : "?");
    Doc d = parse_args(l->args);
    if (d.n) {
      printf("| argument | default |\n|---|---|\n");
      for (int k = 0; k < d.n; k++) printf("| `%s` | %s |\n", d.name[k], d.has_def[k] ? d.def[k] : "required");
      printf("\n");
    }
    printf("- shape: %s\n- partition: %s\n\n", l->shape ? l->shape : "?", l->part ? l->part : "?");
  }
  printf("## The op table\n\n"
         "The ops layers are made of (stdlib/ops.def): the rule each column names lives in\n"
         "compiler/pass/shape.c, grad.c, partition.c, compiler/cg/emit.c (JIT-compiled elementwise\n"
         "code) and runtime/exec (C kernels).\n\n"
         "| op | sources | flags | shape | gradient | partition | JIT | C kernel |\n|---|---|---|---|---|---|---|---|\n");
  for (int i = 0; i < SNG_OP__COUNT; i++) {
    const SngOpInfo *o = &sng_op_info[i];
    if (o->nsrc < 0) printf("| %s | any | ", o->name);
    else printf("| %s | %d | ", o->name, o->nsrc);
    put_flags(o->flags);
    printf(" | %s | %s | %s | %s | %s |\n", col(o->shape), col(o->grad), col(o->part), col(o->emit), col(o->kernel));
  }
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "--check")) return check();
  if (argc > 1) {
    fprintf(stderr, "usage: sng-docgen [--check]\n");
    return 2;
  }
  page();
  return 0;
}
