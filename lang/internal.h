/* internal.h - private to lang/: the state shared by lexer.l, parser.y and parse.c, and
 * the AST builders of ast.c (each grammar action is one sng_ast_* call).
 *
 * The lexer and the parser share one SngParser: the lexer keeps the open-bracket stack and
 * a record of the last token in it, so that the parser's error messages can say which '('
 * is unclosed and name the offending token.  Everything allocated here lives in the arena.
 */
#ifndef SNG_LANG_INTERNAL_H
#define SNG_LANG_INTERNAL_H

#include "sng_lang.h"

/* Lists built by left-recursive rules: head for the AST, tail for O(1) appends. */
typedef struct { SngArg *head, *tail; } SngArgList;
typedef struct { SngName *head, *tail; } SngNameList;
typedef struct { SngClause *head, *tail; } SngClauseList;
typedef struct { SngStmt *head, *tail; } SngStmtList;
typedef struct { SngDecl *head, *tail; } SngDeclList;

enum {
  SNG_MAX_NEST = 64,   /* open brackets remembered with their location (deeper ones counted) */
  SNG_MAX_PENDING = 8, /* tokens the lexer may queue (synthesized closers before a keyword) */
};

/* Stack effect of a token, applied when the next token is requested, so that while the
 * parser reports an error about the lookahead the stack still shows what was open before. */
enum { SNG_DEFER_NONE, SNG_DEFER_PUSH, SNG_DEFER_POP_PAREN, SNG_DEFER_POP_BRACE, SNG_DEFER_CLEAR };

typedef struct SngBracket { char c; SngLoc loc; } SngBracket;  /* c is '(' or '{' */

typedef struct SngTok {        /* a token as the lexer returned it */
  int kind;                    /* token kind from parser.h (0 = end of file) */
  SngLoc loc;
  const char *text;            /* lexeme in the source (not NUL-terminated); NULL if synthesized */
  int len;
  int first_on_line;           /* a newline (or the start of the file) comes before it */
  SngLoc nl;                   /* the first newline after the previous real token */
  const char *str;             /* semantic value: IDENT, STRING, keywords */
  double num;                  /* semantic value: NUM */
} SngTok;

typedef struct SngPending {    /* a token queued by the lexer */
  int kind;
  SngLoc loc;
  SngLoc open;                 /* '}' synthesized: the '{' it closes (reported when returned) */
  int defer;                   /* stack effect when returned */
  const char *text;            /* lexeme (NULL if synthesized) */
  int len;
  const char *str;             /* semantic value */
  double num;
} SngPending;

typedef struct SngParser {
  SngArena *a;                 /* all AST nodes and strings */
  SngDiag *d;
  const char *file;            /* name put into every SngLoc (arena copy) */
  const char *src;             /* the text being lexed (NUL-terminated) */
  size_t len;
  SngDeclList decls;           /* declarations parsed so far */
  /* lexer state */
  int line, col;               /* position of the next character */
  size_t off;                  /* its byte offset in src */
  SngLoc at;                   /* start of the current match */
  size_t at_off;               /* its byte offset */
  SngBracket stk[SNG_MAX_NEST];
  int depth;                   /* open brackets; only the first SNG_MAX_NEST have entries */
  int defer;                   /* SNG_DEFER_* of the last token */
  SngBracket defer_b;          /* what SNG_DEFER_PUSH pushes */
  int nl_seen;                 /* newline seen since the last token other than NEWLINE */
  SngLoc nl_loc;               /* the first such newline */
  SngTok tok, prev;            /* the last token returned (the parser's lookahead) and the one before */
  SngPending q[SNG_MAX_PENDING];
  int nq, qi;                  /* queued tokens, next one to return */
  int at_eof;                  /* end of input seen */
} SngParser;

/* Innermost open bracket that is not the lookahead itself, or NULL. */
const SngBracket *sng_lex_open(const SngParser *p);
/* Forgets the unclosed '(' above the innermost '{' (after "expected ')'" was reported), so
 * that newlines end statements again. */
void sng_lex_drop_parens(SngParser *p);
/* Makes the next tokens a NEWLINE and then the lookahead again.  For an error found at the
 * first token of a line: error recovery discards the lookahead and skips to the NEWLINE, and
 * the line is then parsed as the statement it is. */
void sng_lex_replay(SngParser *p);

/* ---- AST builders (ast.c): one call per grammar action ---- */
SngExpr *sng_ast_num(SngArena *a, SngLoc loc, double v);
SngExpr *sng_ast_str(SngArena *a, SngLoc loc, const char *s);
SngExpr *sng_ast_ident(SngArena *a, SngLoc loc, const char *name);
SngExpr *sng_ast_call(SngArena *a, SngLoc loc, const char *callee, SngArgList args);
SngExpr *sng_ast_bin(SngArena *a, char op, SngExpr *lhs, SngExpr *rhs);
SngExpr *sng_ast_neg(SngArena *a, SngLoc loc, SngExpr *e);
SngArg *sng_ast_arg(SngArena *a, SngLoc loc, const char *name, SngExpr *value);
SngArgList sng_ast_args_add(SngArgList l, SngArg *x);
SngNameList sng_ast_names_add(SngArena *a, SngNameList l, SngLoc loc, const char *name);
SngClauseList sng_ast_clauses_add(SngArena *a, SngClauseList l, SngLoc loc, const char *word,
                                  SngExpr *value);
SngStmt *sng_ast_assign(SngArena *a, SngNameList names, SngExpr *value);
SngStmt *sng_ast_keyword(SngArena *a, SngLoc loc, const char *head, SngExpr *value);
SngStmt *sng_ast_clauses(SngArena *a, SngLoc loc, const char *head, SngClauseList clauses);
SngStmtList sng_ast_stmts_add(SngStmtList l, SngStmt *x);
/* Copies *d into the arena and appends it to the file being parsed. */
void sng_ast_decl(SngParser *p, const SngDecl *d);

/* Shortest "%g" text that reads back as v (ast.c; also used by the token dump). */
void sng_ast_fmt_num(char *buf, size_t n, double v);

#endif
