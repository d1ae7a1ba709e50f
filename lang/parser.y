/* parser.y - the .sng grammar (docs/language.md describes it for users).
 *
 * A pure, reentrant LALR(1) parser: all state is in SngParser (%parse-param), all AST memory
 * in its arena, so a syntax error anywhere leaks nothing and needs no %destructor.  Each
 * action is one sng_ast_* call (ast.c).
 *
 * Errors: every syntax error is reported, not just the first.  The `error` token appears at
 * two levels: a statement inside braces (skip to the end of the line, or to the closing
 * '}'), and a declaration (skip to the end of the line, or over a whole '{...}' body whose
 * header was broken, still checking the body).  Messages come from yyreport_syntax_error
 * below: "expected ')' (to close '(' at 3:14)" when a '(' was evidently left open, else
 * "unexpected X, expected A or B".
 */
%code top {
#include <stdio.h>
#include <string.h>
}

%code requires {
#include "internal.h"
#ifndef YY_TYPEDEF_YY_SCANNER_T
#define YY_TYPEDEF_YY_SCANNER_T
typedef void *yyscan_t;
#endif
}

%code provides {
/* flex's bison-bridge header speaks of YYSTYPE/YYLTYPE; api.prefix renamed them. */
#define YYSTYPE SNG_YYSTYPE
#define YYLTYPE SNG_YYLTYPE
int sng_yylex(SNG_YYSTYPE *lval, SNG_YYLTYPE *lloc, yyscan_t scanner);
}

%code {
static void yyerror(YYLTYPE *loc, yyscan_t scanner, SngParser *p, const char *msg);
static SngLoc at(const SngParser *p, YYLTYPE l) { return (SngLoc){p->file, l.first_line, l.first_column}; }
#define AT(l) at(p, (l))
}

%define api.pure full
%define api.prefix {sng_yy}
%define api.token.prefix {TK_}
%define parse.error custom
%define parse.lac full   /* exact "expected" lists: default reductions would hide some tokens */
%locations
%param {yyscan_t scanner}
%parse-param {SngParser *p}
%expect 0

%union {
  double num;
  const char *str;
  SngExpr *expr;
  SngArg *arg;
  SngArgList args;
  SngNameList names;
  SngClauseList clauses;
  SngStmt *stmt;
  SngStmtList stmts;
}

%token <str> IDENT "identifier" STRING "string"
%token <num> NUM "number"
%token NEWLINE "end of line"
%token <str> IMPORT "import" DATA "data" NET "net" BLOCK "block" UPDATER "updater"
             CLUSTER "cluster" TRAIN "train" WITH "with" EVERY "every" FOR "for" INTO "into"

/* Declared here only to fix their order in "expected ..." lists. */
%token ',' ')' '=' '(' '{' '}' ';'

%type <str> name keyword clause_word
%type <expr> expr primary
%type <arg> arg
%type <args> args arg_list params
%type <names> names
%type <clauses> clauses
%type <stmt> stmt
%type <stmts> stmt_seq stmts body

%left '+' '-'
%left '*' '/'
%precedence NEG

%%

/* file: decl*, one per line (or separated by ';'); blank lines anywhere */
file
  : %empty
  | file sep
  | file decl sep
  | file error sep        { yyerrok; }
  | file error lbrace stmts '}' sep  { yyerrok; }   /* broken header: still check the body */
  ;

sep : NEWLINE | ';' ;

/* decl: each action appends one SngDecl to the file */
decl
  : IMPORT STRING
      { sng_ast_decl(p, &(SngDecl){.kind = SNG_DECL_IMPORT, .loc = AT(@1), .name = $2, .name_loc = AT(@2)}); }
  | DATA IDENT body
      { sng_ast_decl(p, &(SngDecl){.kind = SNG_DECL_DATA, .loc = AT(@1), .name = $2, .name_loc = AT(@2),
                                   .body = $3.head}); }
  | NET IDENT body
      { sng_ast_decl(p, &(SngDecl){.kind = SNG_DECL_NET, .loc = AT(@1), .name = $2, .name_loc = AT(@2),
                                   .body = $3.head}); }
  | NET IDENT params body
      { sng_ast_decl(p, &(SngDecl){.kind = SNG_DECL_NET, .loc = AT(@1), .name = $2, .name_loc = AT(@2),
                                   .args = $3.head, .body = $4.head}); }
  | BLOCK IDENT params body
      { sng_ast_decl(p, &(SngDecl){.kind = SNG_DECL_BLOCK, .loc = AT(@1), .name = $2, .name_loc = AT(@2),
                                   .args = $3.head, .body = $4.head}); }
  | UPDATER IDENT params
      { sng_ast_decl(p, &(SngDecl){.kind = SNG_DECL_UPDATER, .loc = AT(@1), .name = $2, .name_loc = AT(@2),
                                   .args = $3.head}); }
  | CLUSTER params
      { sng_ast_decl(p, &(SngDecl){.kind = SNG_DECL_CLUSTER, .loc = AT(@1), .args = $2.head}); }
  | CLUSTER IDENT params
      { sng_ast_decl(p, &(SngDecl){.kind = SNG_DECL_CLUSTER, .loc = AT(@1), .name = $2, .name_loc = AT(@2),
                                   .args = $3.head}); }
  | TRAIN IDENT WITH arg_list body
      { sng_ast_decl(p, &(SngDecl){.kind = SNG_DECL_TRAIN, .loc = AT(@1), .name = $2, .name_loc = AT(@2),
                                   .with = $4.head, .body = $5.head}); }
  ;

params : '(' args ')'  { $$ = $2; } ;

/* body: '{' stmts '}', the '{' on the header's line or the next one.  A header line that
 * ends without '{' is reported once and the lines below are parsed as the body (an error
 * production), instead of each being reported as a stray statement. */
body
  : lbrace stmts '}'              { $$ = $2; }
  | NEWLINE lbrace stmts '}'      { $$ = $3; }
  | NEWLINE { sng_diag_error(p->d, AT(@1), "expected '{' at the end of the line"); }
    stmts '}'                     { $$ = $3; }
  ;

/* Errors in a body are reported even right after recovering from a broken header. */
lbrace : '{'                      { yyerrok; } ;

/* stmts: stmt (sep stmt)*; the last statement needs no separator */
stmts
  : stmt_seq
  | stmt_seq stmt                 { $$ = sng_ast_stmts_add($1, $2); }
  | stmt_seq error                { $$ = $1; yyerrok; }
  ;

stmt_seq
  : %empty                        { $$ = (SngStmtList){0}; }
  | stmt_seq sep                  { $$ = $1; }
  | stmt_seq stmt sep             { $$ = sng_ast_stmts_add($1, $2); }
  | stmt_seq error sep            { $$ = $1; yyerrok; }
  ;

/* stmt: names '=' expr  |  IDENT expr  |  IDENT clause+ */
stmt
  : names '=' expr                { $$ = sng_ast_assign(p->a, $1, $3); }
  | IDENT expr                    { $$ = sng_ast_keyword(p->a, AT(@1), $1, $2); }
  | IDENT clauses                 { $$ = sng_ast_clauses(p->a, AT(@1), $1, $2); }
  ;

names
  : name                          { $$ = sng_ast_names_add(p->a, (SngNameList){0}, AT(@1), $1); }
  | names ',' name                { $$ = sng_ast_names_add(p->a, $1, AT(@3), $3); }
  ;

/* A keyword may name an assignment target or a named argument (train = idx(...) in a data
 * block, step(every = 2000)): nothing else can follow it there, so no ambiguity arises. */
name : IDENT | keyword ;
keyword : IMPORT | DATA | NET | BLOCK | UPDATER | CLUSTER | TRAIN | WITH | clause_word ;
clause_word : EVERY | FOR | INTO ;

clauses
  : clause_word expr              { $$ = sng_ast_clauses_add(p->a, (SngClauseList){0}, AT(@1), $1, $2); }
  | clauses clause_word expr      { $$ = sng_ast_clauses_add(p->a, $1, AT(@2), $2, $3); }
  ;

/* args: empty | arg (',' arg)* [','];  arg: expr | name '=' expr */
args
  : %empty                        { $$ = (SngArgList){0}; }
  | arg_list
  | arg_list ','
  ;

arg_list
  : arg                           { $$ = sng_ast_args_add((SngArgList){0}, $1); }
  | arg_list ',' arg              { $$ = sng_ast_args_add($1, $3); }
  ;

arg
  : expr                          { $$ = sng_ast_arg(p->a, $1->loc, NULL, $1); }
  | name '=' expr                 { $$ = sng_ast_arg(p->a, AT(@1), $1, $3); }
  ;

/* expr: + - (left) < * / (left) < unary - */
expr
  : expr '+' expr                 { $$ = sng_ast_bin(p->a, '+', $1, $3); }
  | expr '-' expr                 { $$ = sng_ast_bin(p->a, '-', $1, $3); }
  | expr '*' expr                 { $$ = sng_ast_bin(p->a, '*', $1, $3); }
  | expr '/' expr                 { $$ = sng_ast_bin(p->a, '/', $1, $3); }
  | '-' expr %prec NEG            { $$ = sng_ast_neg(p->a, AT(@1), $2); }
  | primary
  ;

/* primary: NUM | STRING | IDENT | IDENT '(' args ')' | '(' expr ')' */
primary
  : NUM                           { $$ = sng_ast_num(p->a, AT(@1), $1); }
  | STRING                        { $$ = sng_ast_str(p->a, AT(@1), $1); }
  | IDENT                         { $$ = sng_ast_ident(p->a, AT(@1), $1); }
  | IDENT '(' args ')'            { $$ = sng_ast_call(p->a, AT(@1), $1, $3); }
  | '(' expr ')'                  { $$ = $2; }
  ;

%%

static void yyerror(YYLTYPE *loc, yyscan_t scanner, SngParser *p, const char *msg) {
  (void)scanner;
  /* only "memory exhausted" gets here (parse.error custom handles syntax errors) */
  sng_diag_error(p->d, at(p, *loc), "input nested too deeply (%s)", msg);
}


/* ---- syntax error messages ---- */

/* What a user calls a token kind: "identifier", "end of line", "'with'", "')'". */
static const char *kind_name(yysymbol_kind_t k) {
  static const char *const kw[] = {   /* keywords are quoted like punctuation */
    "'import'", "'data'", "'net'", "'block'", "'updater'", "'cluster'", "'train'", "'with'",
    "'every'", "'for'", "'into'",
  };
  _Static_assert(sizeof kw / sizeof kw[0] == YYSYMBOL_INTO - YYSYMBOL_IMPORT + 1, "keyword names");
  return k >= YYSYMBOL_IMPORT && k <= YYSYMBOL_INTO ? kw[k - YYSYMBOL_IMPORT] : yysymbol_name(k);
}

/* The lookahead as the user wrote it: "identifier 'h2'", "number 500", "end of file". */
static void describe(char *buf, size_t n, const SngParser *p, yysymbol_kind_t k) {
  const SngTok *t = &p->tok;
  int len = t->len > 24 ? 24 : t->len, cut = t->len > len;
  if (k == YYSYMBOL_NEWLINE && !t->text && p->at_eof)   /* the one added at the end */
    snprintf(buf, n, "end of file");
  else if ((k == YYSYMBOL_IDENT || k == YYSYMBOL_NUM || k == YYSYMBOL_STRING) && t->text)
    snprintf(buf, n, k == YYSYMBOL_IDENT ? "%s '%.*s%s'" : "%s %.*s%s", kind_name(k), len, t->text,
             cut ? "..." : "");
  else
    snprintf(buf, n, "%s", kind_name(k));
}

/* Did-you-mean for a misspelt keyword: the lookahead when only keywords would do, or the
 * word before when a clause word (every/for/into) was probably meant. */
static int hint_keyword(SngParser *p, yysymbol_kind_t la, const char *kws[], int nkw) {
  static const char *const clause[] = {"every", "for", "into"};
  char w[64];
  if (la == YYSYMBOL_IDENT && nkw && p->tok.text && p->tok.len < (int)sizeof w) {
    snprintf(w, sizeof w, "%.*s", p->tok.len, p->tok.text);
    const char *s = sng_diag_suggest(w, kws, nkw);
    if (s) { sng_diag_hint(p->d, "did you mean '%s'?", s); return 1; }
  }
  if (p->prev.kind == TK_IDENT && !p->tok.first_on_line && p->prev.text &&
      p->prev.len < (int)sizeof w) {
    snprintf(w, sizeof w, "%.*s", p->prev.len, p->prev.text);
    const char *s = sng_diag_suggest(w, clause, 3);
    if (s) { sng_diag_hint(p->d, "did you mean '%s' instead of '%s'?", s, w); return 1; }
  }
  return 0;
}

/* Called by bison for each syntax error it reports (not for errors inside the 3 tokens
 * after one, and not for tokens the lexer already reported as TK_SNG_YYerror). */
static int yyreport_syntax_error(const yypcontext_t *ctx, yyscan_t scanner, SngParser *p) {
  (void)scanner;
  yysymbol_kind_t expected[YYNTOKENS];
  char has[YYNTOKENS] = {0}, what[64], msg[400];
  int n = yypcontext_expected_tokens(ctx, expected, YYNTOKENS);
  if (n < 0) return n;
  for (int i = 0; i < n; i++) has[expected[i]] = 1;
  yysymbol_kind_t la = yypcontext_token(ctx);
  SngLoc loc = at(p, *yypcontext_location(ctx));

  /* A '(' left open: the next token is on a new line or ends something bigger. */
  const SngBracket *b = sng_lex_open(p);
  int ends = la == YYSYMBOL_NEWLINE || la == YYSYMBOL_YYEOF || la == YYTRANSLATE('{') ||
             la == YYTRANSLATE('}') || p->tok.first_on_line;
  if (b && b->c == '(' && has[YYTRANSLATE(')')] && ends) {
    if (p->tok.first_on_line && la != YYSYMBOL_NEWLINE && la != YYSYMBOL_YYEOF && p->tok.nl.line)
      loc = p->tok.nl;  /* at the end of the line that lacks the ')' */
    sng_diag_error(p->d, loc, "expected ')' (to close '(' at %d:%d)", b->loc.line, b->loc.col);
    sng_lex_drop_parens(p);
    /* the lookahead starts the next statement or declaration: parse it as one (tokens that
     * recovery accepts by themselves are left alone) */
    if (p->tok.first_on_line && la != YYSYMBOL_NEWLINE && la != YYSYMBOL_YYEOF &&
        la != YYTRANSLATE(';') && la != YYTRANSLATE('{') && la != YYTRANSLATE('}'))
      sng_lex_replay(p);
    return 0;
  }

  /* Otherwise "unexpected X, expected A, B or C", with the list made readable: keywords
   * that only stand for names, operators, and ';' next to end of line are left out;
   * tokens that start a declaration or an expression are named as such. */
  const char *kws[YYNTOKENS];
  int nkw = 0;
  if (has[YYSYMBOL_IDENT])
    for (int k = YYSYMBOL_IMPORT; k <= YYSYMBOL_INTO; k++) has[k] = 0;
  for (int k = YYSYMBOL_IMPORT; k <= YYSYMBOL_INTO; k++)
    if (has[k]) kws[nkw++] = yysymbol_name(k);
  int decl = has[YYSYMBOL_DATA], expr = has[YYSYMBOL_NUM];
  if (decl) {
    for (int k = YYSYMBOL_IMPORT; k <= YYSYMBOL_TRAIN; k++) has[k] = 0;
    has[YYSYMBOL_NEWLINE] = has[YYTRANSLATE(';')] = has[YYSYMBOL_YYEOF] = 0;
  }
  if (expr) {
    has[YYSYMBOL_NUM] = has[YYSYMBOL_STRING] = has[YYSYMBOL_IDENT] = 0;
    has[YYTRANSLATE('(')] = has[YYTRANSLATE('-')] = 0;
  }
  if (has[YYSYMBOL_NEWLINE]) has[YYTRANSLATE(';')] = 0;
  if (has[YYTRANSLATE(')')])   /* in arguments: "f(x 1)" wants ',' or ')', not "x =" or "x(" */
    has[YYTRANSLATE('=')] = has[YYTRANSLATE('(')] = 0;
  const char *list[YYNTOKENS];
  int m = 0;
  if (decl) list[m++] = "declaration";
  if (expr) list[m++] = "expression";
  for (int k = 0; k < YYNTOKENS; k++)
    if (has[k] && k != YYTRANSLATE('+') && k != YYTRANSLATE('-') && k != YYTRANSLATE('*') &&
        k != YYTRANSLATE('/'))
      list[m++] = kind_name((yysymbol_kind_t)k);
  if (m == 0)   /* only operators would do */
    for (int k = 0; k < YYNTOKENS; k++)
      if (has[k]) list[m++] = kind_name((yysymbol_kind_t)k);

  describe(what, sizeof what, p, la);
  int len = snprintf(msg, sizeof msg, "unexpected %s", what);
  for (int i = 0; i < m && m <= 5 && len < (int)sizeof msg; i++)
    len += snprintf(msg + len, sizeof msg - (size_t)len, "%s%s",
                    i == 0 ? ", expected " : i == m - 1 ? " or " : ", ", list[i]);
  sng_diag_error(p->d, loc, "%s", msg);
  if (!hint_keyword(p, la, kws, nkw) && decl)
    sng_diag_hint(p->d, "a declaration starts with import, data, net, block, updater, cluster or train");
  return 0;
}
