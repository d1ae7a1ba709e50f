/* test_parser.c - the grammar (the Fashion-MNIST example parsed into the expected AST),
 * printing, diagnostics (exact caret text, limits, hints, suggestions), error recovery, and
 * the error cases in tests/lang/errors (one .sng file per case), each carrying its expected messages. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sng_lang.h"

static const char *const mlp =
  "# Fashion-MNIST MLP\n"
  "data fashion {\n"
  "  dir     = env(\"SINGA_DATA\", \"/usr/share/datasets/fashion-mnist\")\n"
  "  train   = idx(\"train-images-idx3-ubyte.gz\", \"train-labels-idx1-ubyte.gz\")\n"
  "  test    = idx(\"t10k-images-idx3-ubyte.gz\",  \"t10k-labels-idx1-ubyte.gz\")\n"
  "  batch   = 64\n"
  "  shuffle = true\n"
  "  scale   = 1/255\n"
  "  standardize = true\n"
  "}\n"
  "\n"
  "net mlp(partition = batch) {\n"
  "  x, y   = input(fashion)\n"
  "  h1     = relu(dense(x, 1000))\n"
  "  h2     = relu(dense(h1, 500,\n"
  "                   init = uniform(-0.05, 0.05)))\n"
  "  logits = dense(h2, 10)\n"
  "  loss   softmax_cross_entropy(logits, y)\n"
  "  metric accuracy(logits, y)\n"
  "}\n"
  "\n"
  "updater sgd(lr = 0.01, momentum = 0.9, weight_decay = 0)\n"
  "\n"
  "cluster(worker_groups = 1, workers_per_group = 1, server_groups = 1, servers_per_group = 1)\n"
  "\n"
  "train mlp with bp, sgd {\n"
  "  steps         = 1876\n"
  "  display_every = 100\n"
  "  test every 1876 for all\n"
  "  seed          = 42\n"
  "}\n";

/* ---- helpers ---- */

typedef struct {
  SngArena *a;
  SngFile *f;
  char *out;       /* everything the diag printed */
  int nerr;
} Parsed;

static Parsed parse_max(const char *text, int max_errors) {
  Parsed r = {.a = sng_arena_new()};
  size_t len;
  FILE *m = open_memstream(&r.out, &len);
  SngDiag *d = sng_diag_new(m, max_errors);
  r.f = sng_parse_string(r.a, d, "t.sng", text);
  r.nerr = sng_diag_errors(d);
  sng_diag_free(d);
  fclose(m);
  return r;
}

static Parsed parse(const char *text) { return parse_max(text, 50); }

static void done(Parsed r) {
  sng_arena_free(r.a);
  free(r.out);
}

static char *print_ast(const SngFile *f) {
  char *buf = NULL;
  size_t len;
  FILE *m = open_memstream(&buf, &len);
  sng_ast_print(m, f);
  fclose(m);
  return buf;
}

static int count_decls(const SngFile *f) {
  int n = 0;
  for (const SngDecl *d = f->decls; d; d = d->next) n++;
  return n;
}

static const SngStmt *stmt_at(const SngDecl *d, int i) {
  const SngStmt *s = d->body;
  while (s && i--) s = s->next;
  cr_assert_not_null(s, "statement %d of %s", i, d->name);
  return s;
}

static const SngArg *arg_at(const SngArg *a, int i) {
  while (a && i--) a = a->next;
  cr_assert_not_null(a);
  return a;
}

#define EXPECT_LOC(l, ln, cl) \
  do { cr_expect_eq((l).line, ln, "line"); cr_expect_eq((l).col, cl, "col (line %d)", ln); } while (0)

/* ---- the example ---- */

Test(parser, example_data_block) {
  Parsed r = parse(mlp);
  cr_assert_eq(r.nerr, 0, "%s", r.out);
  cr_assert_eq(count_decls(r.f), 5);
  const SngDecl *d = r.f->decls;
  cr_expect_eq(d->kind, SNG_DECL_DATA);
  cr_expect_str_eq(d->name, "fashion");
  EXPECT_LOC(d->loc, 2, 1);
  EXPECT_LOC(d->name_loc, 2, 6);
  cr_expect_str_eq(d->loc.file, "t.sng");

  const SngStmt *s = stmt_at(d, 0);
  cr_expect_eq(s->kind, SNG_ST_ASSIGN);
  cr_expect_str_eq(s->names->name, "dir");
  cr_expect_null(s->names->next);
  cr_expect_eq(s->value->kind, SNG_EX_CALL);
  cr_expect_str_eq(s->value->str, "env");
  EXPECT_LOC(s->value->loc, 3, 13);
  cr_expect_str_eq(arg_at(s->value->args, 0)->value->str, "SINGA_DATA");
  cr_expect_str_eq(arg_at(s->value->args, 1)->value->str, "/usr/share/datasets/fashion-mnist");
  cr_expect_null(arg_at(s->value->args, 1)->next);
  cr_expect_null(s->value->args->name);

  s = stmt_at(d, 1);   /* "train" is a keyword, and also a setting name */
  cr_expect_str_eq(s->names->name, "train");
  cr_expect_str_eq(s->value->str, "idx");
  cr_expect_str_eq(stmt_at(d, 2)->names->name, "test");

  s = stmt_at(d, 3);
  cr_expect_eq(s->value->kind, SNG_EX_NUM);
  cr_expect_eq(s->value->num, 64);

  s = stmt_at(d, 4);
  cr_expect_eq(s->value->kind, SNG_EX_IDENT);
  cr_expect_str_eq(s->value->str, "true");

  s = stmt_at(d, 5);   /* 1/255 stays an expression; sema folds constants */
  cr_expect_str_eq(s->names->name, "scale");
  cr_expect_eq(s->value->kind, SNG_EX_BIN);
  cr_expect_eq(s->value->op, '/');
  cr_expect_eq(s->value->lhs->num, 1);
  cr_expect_eq(s->value->rhs->num, 255);
  EXPECT_LOC(s->value->loc, 8, 13);
  EXPECT_LOC(s->value->rhs->loc, 8, 15);

  cr_expect_str_eq(stmt_at(d, 6)->names->name, "standardize");
  cr_expect_null(stmt_at(d, 6)->next);
  done(r);
}

Test(parser, example_net) {
  Parsed r = parse(mlp);
  cr_assert_eq(r.nerr, 0, "%s", r.out);
  const SngDecl *d = r.f->decls->next;
  cr_expect_eq(d->kind, SNG_DECL_NET);
  cr_expect_str_eq(d->name, "mlp");
  EXPECT_LOC(d->loc, 12, 1);
  cr_expect_str_eq(d->args->name, "partition");
  cr_expect_str_eq(d->args->value->str, "batch");
  EXPECT_LOC(d->args->loc, 12, 9);
  cr_expect_null(d->args->next);

  const SngStmt *s = stmt_at(d, 0);   /* x, y = input(fashion) */
  cr_expect_eq(s->kind, SNG_ST_ASSIGN);
  EXPECT_LOC(s->loc, 13, 3);
  cr_expect_str_eq(s->names->name, "x");
  cr_expect_str_eq(s->names->next->name, "y");
  EXPECT_LOC(s->names->next->loc, 13, 6);
  cr_expect_str_eq(s->value->str, "input");
  cr_expect_str_eq(s->value->args->value->str, "fashion");

  s = stmt_at(d, 2);   /* h2 = relu(dense(h1, 500, init = uniform(-0.05, 0.05))), over two lines */
  cr_expect_str_eq(s->names->name, "h2");
  const SngExpr *dense = s->value->args->value;
  cr_expect_str_eq(dense->str, "dense");
  cr_expect_str_eq(arg_at(dense->args, 0)->value->str, "h1");
  cr_expect_eq(arg_at(dense->args, 1)->value->num, 500);
  const SngArg *init = arg_at(dense->args, 2);
  cr_expect_str_eq(init->name, "init");
  EXPECT_LOC(init->loc, 16, 20);
  cr_expect_str_eq(init->value->str, "uniform");
  const SngExpr *lo = init->value->args->value;
  cr_expect_eq(lo->kind, SNG_EX_NEG);
  EXPECT_LOC(lo->loc, 16, 35);
  cr_expect_eq(lo->lhs->num, 0.05);
  EXPECT_LOC(lo->lhs->loc, 16, 36);
  cr_expect_eq(init->value->args->next->value->num, 0.05);

  s = stmt_at(d, 4);
  cr_expect_eq(s->kind, SNG_ST_KEYWORD);
  cr_expect_str_eq(s->head, "loss");
  EXPECT_LOC(s->loc, 18, 3);
  cr_expect_str_eq(s->value->str, "softmax_cross_entropy");
  EXPECT_LOC(s->value->loc, 18, 10);
  cr_expect_str_eq(arg_at(s->value->args, 1)->value->str, "y");

  s = stmt_at(d, 5);
  cr_expect_eq(s->kind, SNG_ST_KEYWORD);
  cr_expect_str_eq(s->head, "metric");
  cr_expect_str_eq(s->value->str, "accuracy");
  cr_expect_null(s->next);
  done(r);
}

Test(parser, example_updater_cluster_train) {
  Parsed r = parse(mlp);
  cr_assert_eq(r.nerr, 0, "%s", r.out);
  const SngDecl *u = r.f->decls->next->next, *c = u->next, *t = c->next;
  cr_expect_eq(u->kind, SNG_DECL_UPDATER);
  cr_expect_str_eq(u->name, "sgd");
  EXPECT_LOC(u->loc, 22, 1);
  cr_expect_str_eq(arg_at(u->args, 0)->name, "lr");
  cr_expect_eq(arg_at(u->args, 0)->value->num, 0.01);
  cr_expect_str_eq(arg_at(u->args, 1)->name, "momentum");
  cr_expect_str_eq(arg_at(u->args, 2)->name, "weight_decay");
  cr_expect_eq(arg_at(u->args, 2)->value->num, 0);
  cr_expect_null(u->body);

  cr_expect_eq(c->kind, SNG_DECL_CLUSTER);
  cr_expect_null(c->name);
  EXPECT_LOC(c->loc, 24, 1);
  cr_expect_str_eq(arg_at(c->args, 3)->name, "servers_per_group");
  cr_expect_null(arg_at(c->args, 3)->next);

  cr_expect_eq(t->kind, SNG_DECL_TRAIN);
  cr_expect_str_eq(t->name, "mlp");
  EXPECT_LOC(t->name_loc, 26, 7);
  cr_expect_str_eq(arg_at(t->with, 0)->value->str, "bp");
  cr_expect_str_eq(arg_at(t->with, 1)->value->str, "sgd");
  cr_expect_null(t->with->name);
  cr_expect_null(t->args);

  const SngStmt *s = stmt_at(t, 2);   /* test every 1876 for all */
  cr_expect_eq(s->kind, SNG_ST_CLAUSES);
  cr_expect_str_eq(s->head, "test");
  EXPECT_LOC(s->loc, 29, 3);
  const SngClause *k = s->clauses;
  cr_expect_str_eq(k->word, "every");
  EXPECT_LOC(k->loc, 29, 8);
  cr_expect_eq(k->value->num, 1876);
  k = k->next;
  cr_expect_str_eq(k->word, "for");
  EXPECT_LOC(k->loc, 29, 19);
  cr_expect_eq(k->value->kind, SNG_EX_IDENT);
  cr_expect_str_eq(k->value->str, "all");
  EXPECT_LOC(k->value->loc, 29, 23);
  cr_expect_null(k->next);
  cr_expect_str_eq(stmt_at(t, 3)->names->name, "seed");
  cr_expect_null(t->next);
  done(r);
}

Test(parser, example_prints_back) {
  Parsed r = parse(mlp);
  char *text = print_ast(r.f);
  cr_expect_str_eq(text,
    "data fashion {\n"
    "  dir = env(\"SINGA_DATA\", \"/usr/share/datasets/fashion-mnist\")\n"
    "  train = idx(\"train-images-idx3-ubyte.gz\", \"train-labels-idx1-ubyte.gz\")\n"
    "  test = idx(\"t10k-images-idx3-ubyte.gz\", \"t10k-labels-idx1-ubyte.gz\")\n"
    "  batch = 64\n"
    "  shuffle = true\n"
    "  scale = 1 / 255\n"
    "  standardize = true\n"
    "}\n"
    "net mlp(partition = batch) {\n"
    "  x, y = input(fashion)\n"
    "  h1 = relu(dense(x, 1000))\n"
    "  h2 = relu(dense(h1, 500, init = uniform(-0.05, 0.05)))\n"
    "  logits = dense(h2, 10)\n"
    "  loss softmax_cross_entropy(logits, y)\n"
    "  metric accuracy(logits, y)\n"
    "}\n"
    "updater sgd(lr = 0.01, momentum = 0.9, weight_decay = 0)\n"
    "cluster(worker_groups = 1, workers_per_group = 1, server_groups = 1, servers_per_group = 1)\n"
    "train mlp with bp, sgd {\n"
    "  steps = 1876\n"
    "  display_every = 100\n"
    "  test every 1876 for all\n"
    "  seed = 42\n"
    "}\n");
  Parsed again = parse(text);   /* the printed text is valid .sng with the same tree */
  char *text2 = print_ast(again.f);
  cr_expect_eq(again.nerr, 0, "%s", again.out);
  cr_expect_str_eq(text2, text);
  free(text);
  free(text2);
  done(again);
  done(r);
}

Test(parser, parse_file) {
  char path[] = "/tmp/sng_test_XXXXXX";
  int fd = mkstemp(path);
  cr_assert(fd >= 0);
  cr_assert_eq(write(fd, mlp, strlen(mlp)), (ssize_t)strlen(mlp));
  close(fd);
  SngArena *a = sng_arena_new();
  SngDiag *d = sng_diag_new(stderr, 20);
  SngFile *f = sng_parse_file(a, d, path);
  unlink(path);
  cr_assert_not_null(f);
  cr_expect_eq(sng_diag_errors(d), 0);
  cr_expect_str_eq(f->path, path);
  cr_expect_str_eq(f->decls->loc.file, path);
  cr_expect_eq(count_decls(f), 5);
  sng_diag_free(d);
  sng_arena_free(a);
}

/* ---- other constructs ---- */

Test(parser, every_declaration_kind) {
  Parsed r = parse("import \"std/blocks.sng\"; cluster big(worker_groups = 2,)\n"
                   "block mlp2(x, units = 10) {\n  h = dense(x, units); y = relu(h) }\n"
                   "net n { }\n"
                   "train n with cd(k = 1), sgd {\n  checkpoint every 1000 into \"ckpt\"\n}\n");
  cr_assert_eq(r.nerr, 0, "%s", r.out);
  const SngDecl *d = r.f->decls;
  cr_expect_eq(d->kind, SNG_DECL_IMPORT);
  cr_expect_str_eq(d->name, "std/blocks.sng");
  EXPECT_LOC(d->name_loc, 1, 8);
  d = d->next;
  cr_expect_eq(d->kind, SNG_DECL_CLUSTER);
  cr_expect_str_eq(d->name, "big");
  cr_expect_str_eq(d->args->name, "worker_groups");
  cr_expect_null(d->args->next);   /* trailing comma */
  d = d->next;
  cr_expect_eq(d->kind, SNG_DECL_BLOCK);
  cr_expect_str_eq(arg_at(d->args, 0)->value->str, "x");
  cr_expect_null(arg_at(d->args, 0)->name);
  cr_expect_str_eq(arg_at(d->args, 1)->name, "units");
  cr_expect_str_eq(stmt_at(d, 1)->names->name, "y");   /* ';' separates, '}' ends the last */
  d = d->next;
  cr_expect_eq(d->kind, SNG_DECL_NET);
  cr_expect_null(d->args);
  cr_expect_null(d->body);
  d = d->next;
  cr_expect_eq(d->kind, SNG_DECL_TRAIN);
  cr_expect_str_eq(d->with->value->str, "cd");
  cr_expect_str_eq(d->with->value->args->name, "k");
  const SngClause *k = d->body->clauses;
  cr_expect_str_eq(k->word, "every");
  cr_expect_str_eq(k->next->word, "into");
  cr_expect_eq(k->next->value->kind, SNG_EX_STR);
  cr_expect_str_eq(k->next->value->str, "ckpt");
  done(r);
}

Test(parser, keywords_as_names) {
  Parsed r = parse("updater sgd(schedule = step(gamma = 0.1, every = 2000), for = 1, data = 2)\n"
                   "data d {\n  train = 1\n  data, net = f(x)\n}\n");
  cr_assert_eq(r.nerr, 0, "%s", r.out);
  const SngArg *sched = r.f->decls->args;
  cr_expect_str_eq(arg_at(sched->value->args, 1)->name, "every");
  cr_expect_str_eq(arg_at(r.f->decls->args, 1)->name, "for");
  const SngStmt *s = r.f->decls->next->body->next;
  cr_expect_str_eq(s->names->name, "data");
  cr_expect_str_eq(s->names->next->name, "net");
  done(r);
}

Test(parser, expression_precedence) {
  Parsed r = parse("data d {\n  a = 1 + 2 * -3 - 4 / (5 - 6)\n  b = 1 - (2 - 3)\n  c = -(1 + 2) * 3\n}\n");
  cr_assert_eq(r.nerr, 0, "%s", r.out);
  const SngExpr *e = r.f->decls->body->value;   /* ((1 + (2 * -3)) - (4 / (5 - 6))) */
  cr_expect_eq(e->op, '-');
  cr_expect_eq(e->lhs->op, '+');
  cr_expect_eq(e->lhs->rhs->op, '*');
  cr_expect_eq(e->lhs->rhs->rhs->kind, SNG_EX_NEG);
  cr_expect_eq(e->rhs->op, '/');
  cr_expect_eq(e->rhs->rhs->op, '-');
  EXPECT_LOC(e->loc, 2, 7);
  char *text = print_ast(r.f);   /* only the parentheses the tree needs */
  cr_expect_str_eq(text, "data d {\n  a = 1 + 2 * -3 - 4 / (5 - 6)\n  b = 1 - (2 - 3)\n"
                         "  c = -(1 + 2) * 3\n}\n");
  free(text);
  done(r);
}

Test(parser, empty_and_blank_files) {
  Parsed r = parse("");
  cr_expect_eq(r.nerr, 0);
  cr_expect_null(r.f->decls);
  cr_expect_str_eq(r.f->path, "t.sng");
  done(r);
  r = parse("\n\n# just a comment\n\n");
  cr_expect_eq(r.nerr, 0);
  cr_expect_null(r.f->decls);
  done(r);
}

/* ---- diagnostics ---- */

Test(parser, caret_output_exact) {
  Parsed r = parse("data d {\n  x = = 1\n}\n");
  cr_expect_eq(r.nerr, 1);
  cr_expect_str_eq(r.out, "t.sng:2:7: error: unexpected '=', expected expression\n"
                          "  x = = 1\n"
                          "      ^\n");
  done(r);
}

Test(parser, caret_follows_tabs) {
  Parsed r = parse("data d {\n\tx =\t= 1\n}\n");
  cr_expect_str_eq(r.out, "t.sng:2:6: error: unexpected '=', expected expression\n"
                          "\tx =\t= 1\n"
                          "\t   \t^\n");
  done(r);
}

Test(parser, missing_paren_exact) {
  Parsed r = parse("net m {\n  h = relu(dense(x, 10)\n  y = h\n}\n");
  cr_expect_eq(r.nerr, 1);
  cr_expect_str_eq(r.out, "t.sng:2:24: error: expected ')' (to close '(' at 2:11)\n"
                          "  h = relu(dense(x, 10)\n"
                          "                       ^\n");
  /* the next line still parses as the statement it is */
  cr_expect_str_eq(r.f->decls->body->names->name, "y");
  done(r);
}

Test(parser, every_error_reported_and_partial_ast) {
  Parsed r = parse("data d {\n  a = 1\n  b = (2\n  c = 3 4\n}\n"
                   "updater u(lr = )\n"
                   "net n {\n  x = input(d)\n  loss = = x\n  metric m(x)\n}\n");
  cr_expect_eq(r.nerr, 4, "%s", r.out);
  const char *want[] = {"t.sng:3:9: error: expected ')' (to close '(' at 3:7)\n",
                        "t.sng:4:9: error: unexpected number 4, expected end of line or '}'\n",
                        "t.sng:6:16: error: unexpected ')', expected expression\n",
                        "t.sng:9:10: error: unexpected '=', expected expression\n"};
  const char *at = r.out;
  for (int i = 0; i < 4; i++) {
    const char *hit = strstr(at, want[i]);
    cr_expect_not_null(hit, "missing or out of order: %s in\n%s", want[i], r.out);
    if (hit) at = hit + 1;
  }
  /* what parsed is kept: data d {a}, net n {x, metric} */
  cr_assert_eq(count_decls(r.f), 2);
  cr_expect_str_eq(r.f->decls->body->names->name, "a");
  cr_expect_null(r.f->decls->body->next);
  const SngDecl *n = r.f->decls->next;
  cr_expect_str_eq(n->body->names->name, "x");
  cr_expect_str_eq(n->body->next->head, "metric");
  done(r);
}

Test(parser, too_many_errors) {
  Parsed r = parse_max("data d {\n  a = =\n  b = =\n  c = =\n  d = =\n}\n", 2);
  cr_expect_eq(r.nerr, 4);   /* all counted, two printed */
  cr_expect_str_eq(r.out, "t.sng:2:7: error: unexpected '=', expected expression\n  a = =\n      ^\n"
                          "t.sng:3:7: error: unexpected '=', expected expression\n  b = =\n      ^\n"
                          "t.sng: too many errors, stopping\n");
  done(r);
}

Test(parser, unterminated_string) {
  Parsed r = parse("data d {\n  dir = \"/data\n  batch = 64\n}\n");
  cr_expect_eq(r.nerr, 1);
  cr_expect_str_eq(r.out, "t.sng:2:9: error: unterminated string\n  dir = \"/data\n        ^\n");
  const SngStmt *s = r.f->decls->body;   /* the string ends with the line; parsing goes on */
  cr_expect_str_eq(s->value->str, "/data");
  cr_expect_str_eq(s->next->names->name, "batch");
  done(r);
}

Test(parser, missing_file) {
  char *out = NULL;
  size_t len;
  FILE *m = open_memstream(&out, &len);
  SngArena *a = sng_arena_new();
  SngDiag *d = sng_diag_new(m, 20);
  SngFile *f = sng_parse_file(a, d, "/nonexistent/x.sng");
  cr_expect_null(f);
  cr_expect_eq(sng_diag_errors(d), 1);
  sng_diag_free(d);
  sng_arena_free(a);
  fclose(m);
  cr_expect_str_eq(out, "/nonexistent/x.sng: error: cannot read file: No such file or directory\n");
  free(out);
}

Test(diag, forms_hints_and_limit) {
  char *out = NULL;
  size_t len;
  FILE *m = open_memstream(&out, &len);
  SngDiag *d = sng_diag_new(m, 3);
  sng_diag_add_source(d, "a.sng", "line one\nline two");
  sng_diag_error(d, (SngLoc){"a.sng", 2, 6}, "bad %s", "two");
  sng_diag_hint(d, "did you mean '%s'?", "too");
  sng_diag_error(d, (SngLoc){NULL, 0, 0}, "no place");
  sng_diag_error(d, (SngLoc){"b.sng", 0, 0}, "whole file");
  sng_diag_error(d, (SngLoc){"a.sng", 1, 1}, "over the limit");
  sng_diag_hint(d, "not shown");
  sng_diag_error(d, (SngLoc){"a.sng", 1, 1}, "also over");
  cr_expect_eq(sng_diag_errors(d), 5);
  sng_diag_free(d);
  fclose(m);
  cr_expect_str_eq(out, "a.sng:2:6: error: bad two\nline two\n     ^\n  hint: did you mean 'too'?\n"
                        "error: no place\n"
                        "b.sng: error: whole file\n"
                        "a.sng: too many errors, stopping\n");
  free(out);
}

Test(diag, warnings_are_counted_apart) {
  char *out = NULL;
  size_t len;
  FILE *m = open_memstream(&out, &len);
  SngDiag *d = sng_diag_new(m, 1);
  sng_diag_add_source(d, "a.sng", "net spare {\n}");
  sng_diag_warning(d, (SngLoc){"a.sng", 1, 5}, "net '%s' is never trained", "spare");
  sng_diag_hint(d, "a hint follows a warning too");
  cr_expect_eq(sng_diag_errors(d), 0, "a warning is not an error");
  cr_expect_eq(sng_diag_warnings(d), 1);
  sng_diag_error(d, (SngLoc){"a.sng", 2, 1}, "one error");
  sng_diag_error(d, (SngLoc){"a.sng", 2, 1}, "past the limit");
  sng_diag_warning(d, (SngLoc){"a.sng", 1, 1}, "counted, not shown past the error limit");
  cr_expect_eq(sng_diag_errors(d), 2);
  cr_expect_eq(sng_diag_warnings(d), 2);
  sng_diag_free(d);
  fclose(m);
  cr_expect_str_eq(out, "a.sng:1:5: warning: net 'spare' is never trained\nnet spare {\n    ^\n"
                        "  hint: a hint follows a warning too\n"
                        "a.sng:2:1: error: one error\n}\n^\n"
                        "a.sng: too many errors, stopping\n");
  free(out);
}

Test(diag, silent_when_out_is_null) {
  SngDiag *d = sng_diag_new(NULL, 0);
  sng_diag_error(d, (SngLoc){"a.sng", 1, 1}, "x");
  sng_diag_hint(d, "y");
  cr_expect_eq(sng_diag_errors(d), 1);
  sng_diag_free(d);
}

Test(diag, suggest) {
  const char *layers[] = {"dense", "conv2d", "relu", "dropout", "softmax_cross_entropy"};
  cr_expect_str_eq(sng_diag_suggest("dens", layers, 5), "dense");
  cr_expect_str_eq(sng_diag_suggest("Dense", layers, 5), "dense");
  cr_expect_str_eq(sng_diag_suggest("conv", layers, 5), "conv2d");
  cr_expect_str_eq(sng_diag_suggest("dropot", layers, 5), "dropout");
  cr_expect_str_eq(sng_diag_suggest("softmax_crossentropy", layers, 5), "softmax_cross_entropy");
  cr_expect_str_eq(sng_diag_suggest("relu", layers, 5), "relu");
  cr_expect_null(sng_diag_suggest("pool", layers, 5));
  cr_expect_null(sng_diag_suggest("tanh", layers, 5));
  const char *xy[] = {"y", "abc"};
  cr_expect_null(sng_diag_suggest("x", xy, 2));      /* a 1-letter word is never a typo of another */
  cr_expect_null(sng_diag_suggest("a", xy, 2));
  cr_expect_str_eq(sng_diag_suggest("ab", xy, 2), "abc");
  const char *tie[] = {"cat", "bat"};
  cr_expect_str_eq(sng_diag_suggest("hat", tie, 2), "cat");   /* ties: the first */
  cr_expect_null(sng_diag_suggest("x", NULL, 0));
}

Test(parser, did_you_mean_in_syntax_errors) {
  Parsed r = parse("dta d {\n}\ntrain m wiht bp {\n}\n");
  cr_expect(strstr(r.out, "t.sng:1:1: error: unexpected identifier 'dta', expected declaration\n"
                          "dta d {\n^\n  hint: did you mean 'data'?\n"), "%s", r.out);
  cr_expect(strstr(r.out, "  hint: did you mean 'with'?\n"), "%s", r.out);
  done(r);
}

/* ---- tests/lang/errors/NAME.sng: "# expect: LINE:COL: error: TEXT" or "# expect: hint: TEXT" ---- */

static void check_error_file(const char *dir, const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  size_t len;
  char *text = (char *)sng_file_read(path, &len);
  cr_assert_not_null(text, "%s", path);

  char *out = NULL;
  size_t outlen;
  FILE *m = open_memstream(&out, &outlen);
  SngArena *a = sng_arena_new();
  SngDiag *d = sng_diag_new(m, 100);
  sng_parse_file(a, d, path);
  int nerr = sng_diag_errors(d);
  sng_diag_free(d);
  sng_arena_free(a);
  fclose(m);

  /* every expectation appears, in order; and there are no other errors */
  int nexpect = 0;
  const char *at = out;
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    if (strncmp(line, "# expect: ", 10)) continue;
    const char *want = line + 10;
    char pat[600];
    if (!strncmp(want, "hint: ", 6)) {
      snprintf(pat, sizeof pat, "\n  %s\n", want);
    } else {
      snprintf(pat, sizeof pat, "%s:%s\n", path, want);
      nexpect++;
    }
    const char *hit = strstr(at, pat);
    cr_expect_not_null(hit, "%s: expected, in this order: %s\n--- got:\n%s", name, want, out);
    if (hit) at = hit + 1;
  }
  cr_expect(nexpect > 0, "%s has no '# expect:' lines", name);
  cr_expect_eq(nerr, nexpect, "%s: %d errors reported, %d expected:\n%s", name, nerr, nexpect, out);
  free(out);
  free(text);
}

Test(parser, error_files) {
  const char *dir = SNG_SOURCE_DIR "/tests/lang/errors";
  DIR *dp = opendir(dir);
  cr_assert_not_null(dp, "%s", dir);
  int n = 0;
  for (struct dirent *e; (e = readdir(dp));) {
    size_t len = strlen(e->d_name);
    if (len < 5 || strcmp(e->d_name + len - 4, ".sng")) continue;
    check_error_file(dir, e->d_name);
    n++;
  }
  closedir(dp);
  cr_expect(n >= 8, "only %d error files in %s", n, dir);
}
