/* fuzz_parser.c - libFuzzer harness for the front end (scripts/fuzz.sh builds and runs it).
 * Any input must be lexed and parsed without a crash, a leak or undefined behaviour, and a
 * file that parses without errors must print back to text that parses to the same AST. */
#include <stdlib.h>
#include <string.h>

#include "sng_lang.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n);

static char *show(const SngFile *f) {
  char *buf = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&buf, &len);
  sng_ast_print(m, f);
  fclose(m);
  return buf;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n) {
  char *s = malloc(n + 1);
  memcpy(s, data, n);
  s[n] = 0;
  SngArena *a = sng_arena_new();
  SngDiag *d = sng_diag_new(NULL, 20); /* count errors, print nothing */
  SngFile *f = sng_parse_string(a, d, "f.sng", s);
  char *p1 = show(f);
  if (!sng_diag_errors(d)) { /* round trip: print, parse again, print again */
    SngDiag *d2 = sng_diag_new(stderr, 20);
    SngFile *g = sng_parse_string(a, d2, "g.sng", p1);
    if (sng_diag_errors(d2)) { fprintf(stderr, "reparse failed:\n%s\n", p1); abort(); }
    char *p2 = show(g);
    if (strcmp(p1, p2)) { fprintf(stderr, "round trip differs:\n%s\n---\n%s\n", p1, p2); abort(); }
    free(p2);
    sng_diag_free(d2);
  }
  free(p1);
  sng_lex_dump(a, d, "f.sng", s);
  sng_diag_free(d);
  sng_arena_free(a);
  free(s);
  return 0;
}
