/* sng_lang.h - the .sng front end: lexer, parser, AST and diagnostics.
 *
 * Example usage:
 *   SngArena *a = sng_arena_new();
 *   SngDiag *d = sng_diag_new(stderr, 20);            // report up to 20 errors
 *   SngFile *f = sng_parse_file(a, d, "examples/mlp.sng");
 *   if (sng_diag_errors(d)) { ... exit 1 ... }
 *   for (SngDecl *x = f->decls; x; x = x->next) ...   // data, net, updater, cluster, train
 *   sng_diag_free(d); sng_arena_free(a);
 *
 * The AST is deliberately generic (calls with positional and named arguments, statements
 * of three shapes); the compiler gives it meaning.  Every node carries a SngLoc.
 * Grammar: docs/language.md.
 */
#ifndef SNG_LANG_H
#define SNG_LANG_H

#include "sng_core.h"

typedef struct SngLoc { const char *file; int line, col; } SngLoc;  /* 1-based; file NULL = none */

/* ---- diagnostics ---- */
typedef struct SngDiag SngDiag;
/* out NULL: count errors without printing them.  max_errors <= 0: no limit. */
SngDiag *sng_diag_new(FILE *out, int max_errors);
/* Registers source text so errors can print the line and a caret (the parser does this). */
void sng_diag_add_source(SngDiag *d, const char *file, const char *text);
/* Prints "file:line:col: error: msg", the source line and a caret under col ("file: error:
 * msg" if loc.line is 0, "error: msg" if loc.file is NULL).  Past max_errors it prints
 * "file: too many errors, stopping" once and then only counts. */
void sng_diag_error(SngDiag *d, SngLoc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prints "file:line:col: warning: msg" the same way.  Warnings are counted apart from errors
 * (sng_diag_warnings) and never make sng_diag_errors non-zero, so they do not fail a compile. */
void sng_diag_warning(SngDiag *d, SngLoc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prints "  hint: msg" after the last error or warning (skipped if that error was suppressed by the limit). */
void sng_diag_hint(SngDiag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sng_diag_errors(const SngDiag *d);     /* number of errors reported so far */
int sng_diag_warnings(const SngDiag *d);   /* number of warnings reported so far */
void sng_diag_free(SngDiag *d);
/* Closest candidate by edit distance (<= 2, or <= 1/3 of the length, and always less than the
 * word's length), or NULL: "did you mean".  Ties go to the earlier candidate. */
const char *sng_diag_suggest(const char *word, const char *const *candidates, int n);

/* ---- AST ---- */
typedef enum {
  SNG_EX_NUM,    /* num */
  SNG_EX_STR,    /* str (escapes resolved) */
  SNG_EX_IDENT,  /* str = name; also true/false */
  SNG_EX_CALL,   /* str = callee, args */
  SNG_EX_BIN,    /* op is one of + - * and /; lhs, rhs */
  SNG_EX_NEG,    /* lhs */
} SngExprKind;

typedef struct SngExpr SngExpr;
typedef struct SngArg {        /* one call argument */
  const char *name;            /* "lr" for lr = 0.01; NULL if positional */
  SngExpr *value;
  SngLoc loc;
  struct SngArg *next;
} SngArg;

struct SngExpr {
  SngExprKind kind;
  SngLoc loc;                  /* first character of the expression (callee name for calls) */
  double num;
  const char *str;
  SngArg *args;                /* CALL */
  char op;                     /* BIN */
  SngExpr *lhs, *rhs;          /* BIN, NEG (lhs) */
};

typedef struct SngName { const char *name; SngLoc loc; struct SngName *next; } SngName;
typedef struct SngClause {     /* "every 1000" in "test every 1000 for 100" */
  const char *word;            /* "every", "for" or "into" */
  SngExpr *value;
  SngLoc loc;
  struct SngClause *next;
} SngClause;

typedef enum {
  SNG_ST_ASSIGN,   /* names = value          x, y = input(fashion);  steps = 1876 */
  SNG_ST_KEYWORD,  /* head value             loss softmax_cross_entropy(logits, y) */
  SNG_ST_CLAUSES,  /* head clauses           test every 1000 for 100 */
} SngStmtKind;

typedef struct SngStmt {
  SngStmtKind kind;
  SngLoc loc;
  SngName *names;              /* ASSIGN: one or more targets */
  const char *head;            /* KEYWORD, CLAUSES */
  SngExpr *value;              /* ASSIGN, KEYWORD */
  SngClause *clauses;          /* CLAUSES */
  struct SngStmt *next;
} SngStmt;

typedef enum {
  SNG_DECL_IMPORT,   /* import "std/blocks.sng"          name = path */
  SNG_DECL_DATA,     /* data NAME { stmts }                                    */
  SNG_DECL_NET,      /* net NAME(args) { stmts }          args optional        */
  SNG_DECL_BLOCK,    /* block NAME(params) { stmts }      params as args (name only, or name = default) */
  SNG_DECL_UPDATER,  /* updater KIND(args)                name = kind ("sgd")  */
  SNG_DECL_CLUSTER,  /* cluster(args) | cluster NAME(args) name NULL if unnamed */
  SNG_DECL_TRAIN,    /* train NET with ALG, UPDATER { stmts }  with = exprs (IDENT or CALL) */
} SngDeclKind;

typedef struct SngDecl {
  SngDeclKind kind;
  SngLoc loc;                  /* the keyword */
  const char *name;
  SngLoc name_loc;
  SngArg *args;                /* NET/BLOCK params, UPDATER/CLUSTER arguments */
  SngArg *with;                /* TRAIN: positional args holding the algorithm and updater */
  SngStmt *body;               /* DATA, NET, BLOCK, TRAIN */
  struct SngDecl *next;
} SngDecl;

typedef struct SngFile { const char *path; SngDecl *decls; } SngFile;

/* ---- parsing ---- */
/* Parses a file; errors go to d.  Returns a (possibly partial) AST, or NULL if the file
 * cannot be read (reported as "path: error: cannot read file: <strerror>"). */
SngFile *sng_parse_file(SngArena *a, SngDiag *d, const char *path);
SngFile *sng_parse_string(SngArena *a, SngDiag *d, const char *name, const char *text);

/* Prints the AST back as .sng-like text (for tests and debugging).  The text parses back to
 * the same AST (locations aside). */
void sng_ast_print(FILE *out, const SngFile *f);

/* The tokens of text, one per line as "line:col kind [value]" (kinds: ident, num, str,
 * newline, eof, error, and quoted keywords and punctuation such as 'with' or '(').  For
 * tests and for looking at what the lexer makes of a file; lexical errors go to d. */
char *sng_lex_dump(SngArena *a, SngDiag *d, const char *name, const char *text);

#endif
