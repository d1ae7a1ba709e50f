/* parse.c - entry points: read a file or take a string, run the reentrant lexer and parser.
 *
 * The input is always lexed from one buffer holding the whole text: the lexer peeks ahead
 * in it (to tell "net mlp" from "net = ...") and the diag quotes lines from it.  Nothing
 * here is global, so several files may be parsed at once on different threads (each with
 * its own arena and diag).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "parser.h"
#include "lexer.h"

static void init(SngParser *p, SngArena *a, SngDiag *d, const char *name, const char *text,
                 size_t len) {
  *p = (SngParser){.a = a, .d = d, .src = text, .len = len, .line = 1, .col = 1};
  p->file = sng_arena_strdup(a, name ? name : "<string>");
  sng_diag_add_source(d, p->file, text);
}

static SngFile *parse(SngArena *a, SngDiag *d, const char *name, const char *text, size_t len) {
  SngParser p;
  init(&p, a, d, name, text, len);
  yyscan_t sc;
  if (sng_yylex_init_extra(&p, &sc)) sng_die("cannot create the lexer: %s", strerror(errno));
  YY_BUFFER_STATE buf = sng_yy_scan_bytes(text, (int)len, sc);
  sng_yyparse(sc, &p);   /* errors went to d; the AST holds what parsed */
  sng_yy_delete_buffer(buf, sc);
  sng_yylex_destroy(sc);
  SngFile *f = sng_arena_alloc(a, sizeof *f);
  f->path = p.file;
  f->decls = p.decls.head;
  return f;
}

SngFile *sng_parse_string(SngArena *a, SngDiag *d, const char *name, const char *text) {
  return parse(a, d, name, text, strlen(text));
}

SngFile *sng_parse_file(SngArena *a, SngDiag *d, const char *path) {
  size_t len;
  char *text = (char *)sng_file_read(path, &len);
  if (!text) {
    sng_diag_error(d, (SngLoc){path, 0, 0}, "cannot read file: %s", strerror(errno));
    return NULL;
  }
  if (len > (size_t)1 << 30) {   /* flex takes an int length; no model file is this big */
    free(text);
    sng_diag_error(d, (SngLoc){path, 0, 0}, "file too large");
    return NULL;
  }
  SngFile *f = parse(a, d, path, text, len);
  free(text);
  return f;
}

/* ---- token dump (tests, debugging) ---- */

static void put(SngBuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(SngBuf *b, const char *fmt, ...) {
  char small[128];
  va_list ap, ap2;
  va_start(ap, fmt);
  va_copy(ap2, ap);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < (int)sizeof small) {
    sng_buf_put(b, small, (size_t)n);
  } else {   /* a long identifier */
    char *big = sng_alloc((size_t)n + 1);
    vsnprintf(big, (size_t)n + 1, fmt, ap2);
    sng_buf_put(b, big, (size_t)n);
    free(big);
  }
  va_end(ap2);
}

static void dump_token(SngBuf *b, int kind, const YYSTYPE *v, const YYLTYPE *l) {
  char num[40];
  put(b, "%d:%d ", l->first_line, l->first_column);
  switch (kind) {
  case TK_YYEOF: put(b, "eof\n"); break;
  case TK_NEWLINE: put(b, "newline\n"); break;
  case TK_SNG_YYerror: put(b, "error\n"); break;
  case TK_IDENT: put(b, "ident %s\n", v->str); break;
  case TK_NUM:
    sng_ast_fmt_num(num, sizeof num, v->num);
    put(b, "num %s\n", num);
    break;
  case TK_STRING:   /* the value, with control characters escaped */
    put(b, "str \"");
    for (const char *s = v->str; *s; s++) {
      const char *e = *s == '\n' ? "\\n" : *s == '\t' ? "\\t" : *s == '"' ? "\\\"" : *s == '\\' ? "\\\\" : NULL;
      if (e) sng_buf_put(b, e, 2);
      else sng_buf_put(b, s, 1);
    }
    put(b, "\"\n");
    break;
  default:
    if (kind < 256) put(b, "'%c'\n", kind);
    else put(b, "'%s'\n", v->str);
  }
}

char *sng_lex_dump(SngArena *a, SngDiag *d, const char *name, const char *text) {
  SngParser p;
  init(&p, a, d, name, text, strlen(text));
  yyscan_t sc;
  if (sng_yylex_init_extra(&p, &sc)) sng_die("cannot create the lexer: %s", strerror(errno));
  YY_BUFFER_STATE buf = sng_yy_scan_bytes(text, (int)p.len, sc);
  SngBuf out = {0};
  for (;;) {
    YYSTYPE v = {0};
    YYLTYPE l = {0};
    int kind = sng_yylex(&v, &l, sc);
    dump_token(&out, kind, &v, &l);
    if (kind == TK_YYEOF) break;
  }
  sng_yy_delete_buffer(buf, sc);
  sng_yylex_destroy(sc);
  char *s = sng_arena_strndup(a, (const char *)out.data, out.len);
  sng_buf_free(&out);
  return s;
}
