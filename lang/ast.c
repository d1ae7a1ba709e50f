/* ast.c - AST builders (one call per grammar action) and the AST printer.
 *
 * Nodes live in the parser's arena and are never freed one by one.  Builders tolerate NULL
 * children, which error recovery can leave behind, so a partial AST is still well formed.
 * The printer writes .sng text that parses back to the same AST (tests rely on this), with
 * the fewest parentheses that keep the tree.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- expressions ---- */

static SngExpr *expr(SngArena *a, SngExprKind kind, SngLoc loc) {
  SngExpr *e = sng_arena_alloc(a, sizeof *e);
  e->kind = kind;
  e->loc = loc;
  return e;
}

SngExpr *sng_ast_num(SngArena *a, SngLoc loc, double v) {
  SngExpr *e = expr(a, SNG_EX_NUM, loc);
  e->num = v;
  return e;
}

SngExpr *sng_ast_str(SngArena *a, SngLoc loc, const char *s) {
  SngExpr *e = expr(a, SNG_EX_STR, loc);
  e->str = s;
  return e;
}

SngExpr *sng_ast_ident(SngArena *a, SngLoc loc, const char *name) {
  SngExpr *e = expr(a, SNG_EX_IDENT, loc);
  e->str = name;
  return e;
}

SngExpr *sng_ast_call(SngArena *a, SngLoc loc, const char *callee, SngArgList args) {
  SngExpr *e = expr(a, SNG_EX_CALL, loc);
  e->str = callee;
  e->args = args.head;
  return e;
}

/* A binary expression is located at its first character, i.e. at its left operand. */
SngExpr *sng_ast_bin(SngArena *a, char op, SngExpr *lhs, SngExpr *rhs) {
  SngExpr *e = expr(a, SNG_EX_BIN, lhs ? lhs->loc : rhs ? rhs->loc : (SngLoc){0});
  e->op = op;
  e->lhs = lhs;
  e->rhs = rhs;
  return e;
}

SngExpr *sng_ast_neg(SngArena *a, SngLoc loc, SngExpr *operand) {
  SngExpr *e = expr(a, SNG_EX_NEG, loc);
  e->lhs = operand;
  return e;
}

/* ---- lists ---- */

SngArg *sng_ast_arg(SngArena *a, SngLoc loc, const char *name, SngExpr *value) {
  SngArg *x = sng_arena_alloc(a, sizeof *x);
  *x = (SngArg){.name = name, .value = value, .loc = loc};
  return x;
}

SngArgList sng_ast_args_add(SngArgList l, SngArg *x) {
  if (!x) return l;
  if (l.tail) l.tail->next = x;
  else l.head = x;
  l.tail = x;
  return l;
}

SngNameList sng_ast_names_add(SngArena *a, SngNameList l, SngLoc loc, const char *name) {
  SngName *x = sng_arena_alloc(a, sizeof *x);
  *x = (SngName){.name = name, .loc = loc};
  if (l.tail) l.tail->next = x;
  else l.head = x;
  l.tail = x;
  return l;
}

SngClauseList sng_ast_clauses_add(SngArena *a, SngClauseList l, SngLoc loc, const char *word,
                                  SngExpr *value) {
  SngClause *x = sng_arena_alloc(a, sizeof *x);
  *x = (SngClause){.word = word, .value = value, .loc = loc};
  if (l.tail) l.tail->next = x;
  else l.head = x;
  l.tail = x;
  return l;
}

/* ---- statements and declarations ---- */

static SngStmt *stmt(SngArena *a, SngStmtKind kind, SngLoc loc) {
  SngStmt *s = sng_arena_alloc(a, sizeof *s);
  s->kind = kind;
  s->loc = loc;
  return s;
}

/* A statement is located at its first token: the first name, or the head word. */
SngStmt *sng_ast_assign(SngArena *a, SngNameList names, SngExpr *value) {
  SngStmt *s = stmt(a, SNG_ST_ASSIGN, names.head ? names.head->loc : (SngLoc){0});
  s->names = names.head;
  s->value = value;
  return s;
}

SngStmt *sng_ast_keyword(SngArena *a, SngLoc loc, const char *head, SngExpr *value) {
  SngStmt *s = stmt(a, SNG_ST_KEYWORD, loc);
  s->head = head;
  s->value = value;
  return s;
}

SngStmt *sng_ast_clauses(SngArena *a, SngLoc loc, const char *head, SngClauseList clauses) {
  SngStmt *s = stmt(a, SNG_ST_CLAUSES, loc);
  s->head = head;
  s->clauses = clauses.head;
  return s;
}

SngStmtList sng_ast_stmts_add(SngStmtList l, SngStmt *x) {
  if (!x) return l;
  if (l.tail) l.tail->next = x;
  else l.head = x;
  l.tail = x;
  return l;
}

void sng_ast_decl(SngParser *p, const SngDecl *d) {
  SngDecl *x = sng_arena_alloc(p->a, sizeof *x);
  *x = *d;
  x->next = NULL;
  if (p->decls.tail) p->decls.tail->next = x;
  else p->decls.head = x;
  p->decls.tail = x;
}

/* ---- printing ---- */

void sng_ast_fmt_num(char *buf, size_t n, double v) {
  if (v > -1e15 && v < 1e15 && v == (double)(long long)v) {   /* 1000, not 1e+03 */
    snprintf(buf, n, "%lld", (long long)v);
    return;
  }
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(buf, n, "%.*g", prec, v);
    if (strtod(buf, NULL) == v) return;
  }
}

static void print_str(FILE *o, const char *s) {
  fputc('"', o);
  for (; *s; s++) {
    switch (*s) {
    case '"': fputs("\\\"", o); break;
    case '\\': fputs("\\\\", o); break;
    case '\n': fputs("\\n", o); break;
    case '\t': fputs("\\t", o); break;
    default: fputc(*s, o);
    }
  }
  fputc('"', o);
}

enum { PREC_ADD = 1, PREC_MUL = 2, PREC_NEG = 3, PREC_PRIMARY = 4 };

static int prec_of(const SngExpr *e) {
  if (e->kind == SNG_EX_BIN) return e->op == '+' || e->op == '-' ? PREC_ADD : PREC_MUL;
  return e->kind == SNG_EX_NEG ? PREC_NEG : PREC_PRIMARY;
}

static void print_args(FILE *o, const SngArg *a);

/* ctx: the lowest precedence that needs no parentheses in this position. */
static void print_expr(FILE *o, const SngExpr *e, int ctx) {
  char buf[40];
  if (!e) { fputs("<error>", o); return; }
  int paren = prec_of(e) < ctx;
  if (paren) fputc('(', o);
  switch (e->kind) {
  case SNG_EX_NUM: sng_ast_fmt_num(buf, sizeof buf, e->num); fputs(buf, o); break;
  case SNG_EX_STR: print_str(o, e->str); break;
  case SNG_EX_IDENT: fputs(e->str, o); break;
  case SNG_EX_CALL:
    fprintf(o, "%s(", e->str);
    print_args(o, e->args);
    fputc(')', o);
    break;
  case SNG_EX_BIN: /* left associative: a right operand of equal precedence needs parentheses */
    print_expr(o, e->lhs, prec_of(e));
    fprintf(o, " %c ", e->op);
    print_expr(o, e->rhs, prec_of(e) + 1);
    break;
  case SNG_EX_NEG:
    fputc('-', o);
    print_expr(o, e->lhs, PREC_NEG);
    break;
  }
  if (paren) fputc(')', o);
}

static void print_args(FILE *o, const SngArg *a) {
  for (; a; a = a->next) {
    if (a->name) fprintf(o, "%s = ", a->name);
    print_expr(o, a->value, PREC_ADD);
    if (a->next) fputs(", ", o);
  }
}

static void print_stmt(FILE *o, const SngStmt *s) {
  fputs("  ", o);
  switch (s->kind) {
  case SNG_ST_ASSIGN:
    for (const SngName *n = s->names; n; n = n->next) fprintf(o, "%s%s", n->name, n->next ? ", " : "");
    fputs(" = ", o);
    print_expr(o, s->value, PREC_ADD);
    break;
  case SNG_ST_KEYWORD:
    fprintf(o, "%s ", s->head);
    print_expr(o, s->value, PREC_ADD);
    break;
  case SNG_ST_CLAUSES:
    fputs(s->head, o);
    for (const SngClause *c = s->clauses; c; c = c->next) {
      fprintf(o, " %s ", c->word);
      print_expr(o, c->value, PREC_ADD);
    }
    break;
  }
  fputc('\n', o);
}

static void print_body(FILE *o, const SngStmt *s) {
  fputs(" {\n", o);
  for (; s; s = s->next) print_stmt(o, s);
  fputs("}\n", o);
}

static const char *const decl_word[] = {
  [SNG_DECL_IMPORT] = "import", [SNG_DECL_DATA] = "data", [SNG_DECL_NET] = "net",
  [SNG_DECL_BLOCK] = "block", [SNG_DECL_UPDATER] = "updater", [SNG_DECL_CLUSTER] = "cluster",
  [SNG_DECL_TRAIN] = "train",
};

void sng_ast_print(FILE *out, const SngFile *f) {
  if (!f) return;
  for (const SngDecl *d = f->decls; d; d = d->next) {
    fputs(decl_word[d->kind], out);
    if (d->kind == SNG_DECL_IMPORT) {
      fputc(' ', out);
      print_str(out, d->name);
      fputc('\n', out);
      continue;
    }
    if (d->name) fprintf(out, " %s", d->name);
    /* net parameters are optional; block, updater and cluster always have parentheses */
    if (d->args || d->kind == SNG_DECL_BLOCK || d->kind == SNG_DECL_UPDATER ||
        d->kind == SNG_DECL_CLUSTER) {
      fputc('(', out);
      print_args(out, d->args);
      fputc(')', out);
    }
    if (d->kind == SNG_DECL_TRAIN) {
      fputs(" with ", out);
      print_args(out, d->with);
    }
    if (d->kind == SNG_DECL_UPDATER || d->kind == SNG_DECL_CLUSTER) fputc('\n', out);
    else print_body(out, d->body);
  }
}
