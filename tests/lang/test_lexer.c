/* test_lexer.c - tokens, numbers, strings, comments, newlines, locations and lexical errors,
 * checked through sng_lex_dump ("line:col kind value" per token). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "sng_lang.h"

typedef struct { char *toks, *errs; int nerr; } Lexed;

/* Lexes text as "t.sng"; returns the token dump and the diagnostics (free with done()). */
static Lexed lex(const char *text) {
  Lexed r = {0};
  size_t len;
  FILE *f = open_memstream(&r.errs, &len);
  SngArena *a = sng_arena_new();
  SngDiag *d = sng_diag_new(f, 50);
  r.toks = strdup(sng_lex_dump(a, d, "t.sng", text));
  r.nerr = sng_diag_errors(d);
  sng_diag_free(d);
  sng_arena_free(a);
  fclose(f);
  return r;
}

static void done(Lexed r) {
  free(r.toks);
  free(r.errs);
}

#define EXPECT_TOKENS(text, want)                                          \
  do {                                                                     \
    Lexed r_ = lex(text);                                                  \
    cr_expect_str_eq(r_.toks, want, "tokens of %s", text);                 \
    cr_expect_eq(r_.nerr, 0, "unexpected errors:\n%s", r_.errs);           \
    done(r_);                                                              \
  } while (0)

Test(lexer, statement_tokens) {
  EXPECT_TOKENS("data d {\n  x = f(a, 1)\n}\n",
                "1:1 'data'\n1:6 ident d\n1:8 '{'\n1:9 newline\n"
                "2:3 ident x\n2:5 '='\n2:7 ident f\n2:8 '('\n2:9 ident a\n2:10 ','\n2:12 num 1\n"
                "2:13 ')'\n2:14 newline\n3:1 '}'\n3:2 newline\n3:2 eof\n");
}

Test(lexer, punctuation) {
  EXPECT_TOKENS("a;b,c=d+e-f*g/h", "1:1 ident a\n1:2 ';'\n1:3 ident b\n1:4 ','\n1:5 ident c\n"
                "1:6 '='\n1:7 ident d\n1:8 '+'\n1:9 ident e\n1:10 '-'\n1:11 ident f\n"
                "1:12 '*'\n1:13 ident g\n1:14 '/'\n1:15 ident h\n1:16 newline\n1:16 eof\n");
}

Test(lexer, numbers) {
  /* 1/255 is three tokens (the division is folded later); 5e-4 is one */
  EXPECT_TOKENS("1/255", "1:1 num 1\n1:2 '/'\n1:3 num 255\n1:6 newline\n1:6 eof\n");
  EXPECT_TOKENS("5e-4 1e3 1E+2 0.05 .5 2. 42 007 1.5e-3",
                "1:1 num 0.0005\n1:6 num 1000\n1:10 num 100\n1:15 num 0.05\n1:20 num 0.5\n"
                "1:23 num 2\n1:26 num 42\n1:29 num 7\n1:33 num 0.0015\n1:39 newline\n1:39 eof\n");
  /* a minus is an operator, also before a number: -0.05 is '-' then 0.05 */
  EXPECT_TOKENS("-0.05 1-2", "1:1 '-'\n1:2 num 0.05\n1:7 num 1\n1:8 '-'\n1:9 num 2\n1:10 newline\n1:10 eof\n");
}

Test(lexer, malformed_numbers) {
  Lexed r = lex("1e 2x 1.2.3 0x10 1e999");
  cr_expect_eq(r.nerr, 5, "%s", r.errs);
  cr_expect(strstr(r.errs, "t.sng:1:1: error: malformed number '1e'\n"), "%s", r.errs);
  cr_expect(strstr(r.errs, "t.sng:1:4: error: malformed number '2x'\n"), "%s", r.errs);
  cr_expect(strstr(r.errs, "t.sng:1:7: error: malformed number '1.2.3'\n"), "%s", r.errs);
  cr_expect(strstr(r.errs, "t.sng:1:13: error: malformed number '0x10'\n"), "%s", r.errs);
  cr_expect(strstr(r.errs, "t.sng:1:18: error: number out of range '1e999'\n"), "%s", r.errs);
  /* each is still one number token, so the parser sees no second error */
  cr_expect_str_eq(r.toks, "1:1 num 1\n1:4 num 2\n1:7 num 1.2\n1:13 num 16\n1:18 num inf\n"
                           "1:23 newline\n1:23 eof\n");
  done(r);
}

Test(lexer, strings) {
  EXPECT_TOKENS("\"abc\" \"\" \"a\\\"b\\\\c\\nd\\te\"",
                "1:1 str \"abc\"\n1:7 str \"\"\n1:10 str \"a\\\"b\\\\c\\nd\\te\"\n1:25 newline\n1:25 eof\n");
  /* '#' inside a string is not a comment */
  EXPECT_TOKENS("\"a # b\"", "1:1 str \"a # b\"\n1:8 newline\n1:8 eof\n");
}

Test(lexer, unterminated_string) {
  Lexed r = lex("x = \"abc\ny");
  cr_expect_eq(r.nerr, 1);
  cr_expect_str_eq(r.errs, "t.sng:1:5: error: unterminated string\nx = \"abc\n    ^\n");
  /* the string ends at the line's end and lexing goes on */
  cr_expect_str_eq(r.toks, "1:1 ident x\n1:3 '='\n1:5 str \"abc\"\n1:9 newline\n2:1 ident y\n"
                           "2:2 newline\n2:2 eof\n");
  done(r);
}

Test(lexer, unknown_escape) {
  Lexed r = lex("\"a\\qb\"");
  cr_expect_eq(r.nerr, 1);
  cr_expect(strstr(r.errs, "t.sng:1:3: error: unknown escape '\\q' in string\n"), "%s", r.errs);
  cr_expect(strstr(r.toks, "str \"aqb\""), "%s", r.toks);
  done(r);
}

Test(lexer, comments) {
  EXPECT_TOKENS("# header\na = 1 # trailing\n#last", "2:1 ident a\n2:3 '='\n2:5 num 1\n2:17 newline\n"
                "2:17 eof\n");
}

Test(lexer, blank_lines_give_one_newline) {
  EXPECT_TOKENS("\n\na\n\n  \n# c\n\nb\n\n", "3:1 ident a\n3:2 newline\n8:1 ident b\n8:2 newline\n8:2 eof\n");
}

Test(lexer, no_newlines_inside_parentheses) {
  EXPECT_TOKENS("f(a,\n  b)\nc", "1:1 ident f\n1:2 '('\n1:3 ident a\n1:4 ','\n2:3 ident b\n2:4 ')'\n"
                "2:5 newline\n3:1 ident c\n3:2 newline\n3:2 eof\n");
  /* but directly inside braces they are tokens, also when the braces are inside parentheses */
  Lexed r = lex("(a {\nb");
  cr_expect_str_eq(r.toks, "1:1 '('\n1:2 ident a\n1:4 '{'\n1:5 newline\n2:1 ident b\n"
                           "2:2 newline\n2:2 '}'\n2:2 newline\n2:2 eof\n");
  cr_expect_str_eq(r.errs, "t.sng:2:2: error: expected '}' (to close '{' at 1:4)\nb\n ^\n");
  done(r);
}

Test(lexer, keywords_and_identifiers) {
  EXPECT_TOKENS("import data net block updater cluster train with every for into",
                "1:1 'import'\n1:8 'data'\n1:13 'net'\n1:17 'block'\n1:23 'updater'\n1:31 'cluster'\n"
                "1:39 'train'\n1:45 'with'\n1:50 'every'\n1:56 'for'\n1:60 'into'\n1:64 newline\n1:64 eof\n");
  EXPECT_TOKENS("bp sgd true loss metric test checkpoint _x x_1 Data",
                "1:1 ident bp\n1:4 ident sgd\n1:8 ident true\n1:13 ident loss\n1:18 ident metric\n"
                "1:25 ident test\n1:30 ident checkpoint\n1:41 ident _x\n1:44 ident x_1\n1:48 ident Data\n"
                "1:52 newline\n1:52 eof\n");
}

Test(lexer, tabs_count_one_column) {
  EXPECT_TOKENS("\tx\t=\t1", "1:2 ident x\n1:4 '='\n1:6 num 1\n1:7 newline\n1:7 eof\n");
  EXPECT_TOKENS("a\r\nb", "1:1 ident a\n1:3 newline\n2:1 ident b\n2:2 newline\n2:2 eof\n");
}

Test(lexer, invalid_character) {
  Lexed r = lex("a @ b\n$");
  cr_expect_eq(r.nerr, 2);
  cr_expect_str_eq(r.errs, "t.sng:1:3: error: invalid character '@'\na @ b\n  ^\n"
                           "t.sng:2:1: error: invalid character '$'\n$\n^\n");
  /* lexing goes on; the character becomes the parser's error token */
  cr_expect_str_eq(r.toks, "1:1 ident a\n1:3 error\n1:5 ident b\n1:6 newline\n2:1 error\n"
                           "2:2 newline\n2:2 eof\n");
  done(r);
}

Test(lexer, invalid_utf8_and_control_characters) {
  Lexed r = lex("x = \xc3\xa9 \x01");
  cr_expect_eq(r.nerr, 2);
  cr_expect(strstr(r.errs, "t.sng:1:5: error: invalid character '\xc3\xa9'\n"), "%s", r.errs);
  cr_expect(strstr(r.errs, "t.sng:1:8: error: invalid character '\\x01'\n"), "%s", r.errs);
  done(r);
  r = lex("a: 1");
  cr_expect(strstr(r.errs, "  hint: use '=' to set a value or a named argument\n"), "%s", r.errs);
  done(r);
}

Test(lexer, end_of_file_closes_braces) {
  Lexed r = lex("data d {\n  a = 1\n");
  cr_expect_eq(r.nerr, 1);
  cr_expect_str_eq(r.errs, "t.sng:2:8: error: expected '}' (to close '{' at 1:8)\n  a = 1\n       ^\n");
  cr_expect_str_eq(r.toks, "1:1 'data'\n1:6 ident d\n1:8 '{'\n1:9 newline\n2:3 ident a\n2:5 '='\n"
                           "2:7 num 1\n2:8 newline\n2:8 '}'\n2:8 newline\n2:8 eof\n");
  done(r);
}

Test(lexer, declaration_in_column_1_closes_brackets) {
  /* "net" in column 1 followed by a name starts a declaration: the '{' left open is closed */
  Lexed r = lex("data d {\n  a = 1\n\nnet n {\n}\n");
  cr_expect_eq(r.nerr, 1);
  cr_expect(strstr(r.errs, "t.sng:2:8: error: expected '}' (to close '{' at 1:8)\n"), "%s", r.errs);
  cr_expect_str_eq(r.toks, "1:1 'data'\n1:6 ident d\n1:8 '{'\n1:9 newline\n2:3 ident a\n2:5 '='\n"
                           "2:7 num 1\n2:8 newline\n2:8 '}'\n2:8 newline\n4:1 'net'\n4:5 ident n\n"
                           "4:7 '{'\n4:8 newline\n5:1 '}'\n5:2 newline\n5:2 eof\n");
  done(r);
  /* an open '(' gets the NEWLINE that was swallowed (the parser reports the ')') */
  EXPECT_TOKENS("updater u(a = 1\ncluster(b = 2)",
                "1:1 'updater'\n1:9 ident u\n1:10 '('\n1:11 ident a\n1:13 '='\n1:15 num 1\n"
                "1:16 newline\n2:1 'cluster'\n2:8 '('\n2:9 ident b\n2:11 '='\n2:13 num 2\n2:14 ')'\n"
                "2:15 newline\n2:15 eof\n");
}

Test(lexer, keyword_assignment_in_column_1_is_not_a_declaration) {
  EXPECT_TOKENS("data d {\ntrain = 1\n}", "1:1 'data'\n1:6 ident d\n1:8 '{'\n1:9 newline\n"
                "2:1 'train'\n2:7 '='\n2:9 num 1\n2:10 newline\n3:1 '}'\n3:2 newline\n3:2 eof\n");
}

Test(lexer, empty_input) {
  EXPECT_TOKENS("", "1:1 eof\n");
  EXPECT_TOKENS("# nothing\n", "1:10 eof\n");
}
