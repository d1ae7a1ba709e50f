/* diag.c - error reports for users: "file:line:col: error: msg", the source line, a caret;
 * warnings the same with "warning:", counted apart and never failing a compile.
 *
 * Reporting never stops the caller: errors are printed as they come and counted, and the
 * caller checks sng_diag_errors() at the end of a phase (SQLite's nErr), so one run shows
 * every error up to the limit.  Past the limit one "too many errors" line is printed and
 * the rest are only counted.
 *
 * Sources are registered by name (the parser does it) and copied, so the diag can quote a
 * line for any later phase whose SngLoc points into that file.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sng_lang.h"

typedef struct Source { char *file, *text; struct Source *next; } Source;

struct SngDiag {
  FILE *out;          /* NULL: count only */
  int max;            /* errors printed before "too many errors"; <= 0 for no limit */
  int n;              /* errors reported, printed or not */
  int nwarn;          /* warnings reported: never counted as errors, never limited */
  int shown;          /* the last error or warning was printed, so a hint may follow it */
  Source *sources;    /* newest first: a file parsed twice shows its latest text */
};

SngDiag *sng_diag_new(FILE *out, int max_errors) {
  SngDiag *d = sng_calloc(1, sizeof *d);
  d->out = out;
  d->max = max_errors;
  return d;
}

void sng_diag_free(SngDiag *d) {
  if (!d) return;
  for (Source *s = d->sources, *next; s; s = next) {
    next = s->next;
    free(s->file);
    free(s->text);
    free(s);
  }
  free(d);
}

void sng_diag_add_source(SngDiag *d, const char *file, const char *text) {
  if (!file || !text) return;
  Source *s = sng_alloc(sizeof *s);
  s->file = sng_strdup(file);
  s->text = sng_strdup(text);
  s->next = d->sources;
  d->sources = s;
}

int sng_diag_errors(const SngDiag *d) { return d->n; }
int sng_diag_warnings(const SngDiag *d) { return d->nwarn; }

/* Line `line` of the registered source of `file`: start and length (no newline). */
static const char *source_line(const SngDiag *d, const char *file, int line, int *len) {
  const Source *s = d->sources;
  while (s && strcmp(s->file, file)) s = s->next;
  if (!s || line < 1) return NULL;
  const char *p = s->text;
  for (int i = 1; i < line; i++) {
    p = strchr(p, '\n');
    if (!p) return NULL;
    p++;
  }
  size_t n = strcspn(p, "\n");
  if (n && p[n - 1] == '\r') n--;   /* CRLF files */
  *len = (int)n;
  return p;
}

/* The line, then a caret under column col.  The caret line copies the tabs of the source
 * line so the caret lines up whatever the tab width, and skips UTF-8 continuation bytes so
 * it lines up after non-ASCII text (columns count bytes). */
static void print_caret(const SngDiag *d, SngLoc loc) {
  int len;
  const char *s = source_line(d, loc.file, loc.line, &len);
  if (!s) return;
  fprintf(d->out, "%.*s\n", len, s);
  if (loc.col < 1) return;
  for (int i = 0; i < loc.col - 1; i++) {
    unsigned char c = i < len ? (unsigned char)s[i] : ' ';
    if (c == '\t') fputc('\t', d->out);
    else if ((c & 0xc0) != 0x80) fputc(' ', d->out);
  }
  fputs("^\n", d->out);
}

/* "file:line:col: <kind>: msg", the source line and a caret. */
static void report(SngDiag *d, SngLoc loc, const char *kind, const char *fmt, va_list ap) {
  if (!loc.file) fprintf(d->out, "%s: ", kind);
  else if (loc.line < 1) fprintf(d->out, "%s: %s: ", loc.file, kind);
  else fprintf(d->out, "%s:%d:%d: %s: ", loc.file, loc.line, loc.col, kind);
  vfprintf(d->out, fmt, ap);
  fputc('\n', d->out);
  if (loc.file && loc.line >= 1) print_caret(d, loc);
  fflush(d->out);
  d->shown = 1;
}

void sng_diag_error(SngDiag *d, SngLoc loc, const char *fmt, ...) {
  if (!d) return; /* a pass run speculatively (partition = auto) reports nothing */
  d->n++;
  d->shown = 0;
  if (!d->out) return;
  if (d->max > 0 && d->n > d->max) {
    if (d->n == d->max + 1)
      fprintf(d->out, "%s: too many errors, stopping\n", loc.file ? loc.file : "singa");
    fflush(d->out);
    return;
  }
  va_list ap;
  va_start(ap, fmt);
  report(d, loc, "error", fmt, ap);
  va_end(ap);
}

/* Warnings are few (one per unused declaration), so they are not limited; once the error
 * limit is reached they are only counted, like the errors around them. */
void sng_diag_warning(SngDiag *d, SngLoc loc, const char *fmt, ...) {
  if (!d) return;
  d->nwarn++;
  d->shown = 0;
  if (!d->out || (d->max > 0 && d->n > d->max)) return;
  va_list ap;
  va_start(ap, fmt);
  report(d, loc, "warning", fmt, ap);
  va_end(ap);
}

void sng_diag_hint(SngDiag *d, const char *fmt, ...) {
  if (!d || !d->out || !d->shown) return;
  fputs("  hint: ", d->out);
  va_list ap;
  va_start(ap, fmt);
  vfprintf(d->out, fmt, ap);
  va_end(ap);
  fputc('\n', d->out);
  fflush(d->out);
}

/* Levenshtein distance with two rows; words longer than the buffers are never close. */
enum { MAX_WORD = 64 };
static int distance(const char *a, const char *b) {
  int n = (int)strlen(a), m = (int)strlen(b), row[2][MAX_WORD + 1];
  if (n > MAX_WORD || m > MAX_WORD) return MAX_WORD * 2;
  for (int j = 0; j <= m; j++) row[0][j] = j;
  for (int i = 1; i <= n; i++) {
    int *cur = row[i & 1], *old = row[(i - 1) & 1];
    cur[0] = i;
    for (int j = 1; j <= m; j++) {
      int sub = old[j - 1] + (a[i - 1] != b[j - 1]);
      int del = old[j] + 1, ins = cur[j - 1] + 1;
      cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
    }
  }
  return row[n & 1][m];
}

/* Accepts a distance up to 2, or up to a third of the word for long words, but always less
 * than the word's length ('x' is not a misspelling of 'y').  Ties go to the first candidate. */
const char *sng_diag_suggest(const char *word, const char *const *candidates, int n) {
  int len = (int)strlen(word), limit = len / 3 > 2 ? len / 3 : 2, best = -1, best_d = 0;
  for (int i = 0; i < n; i++) {
    if (!candidates[i]) continue;
    int dist = distance(word, candidates[i]);
    if (dist <= limit && dist < len && (best < 0 || dist < best_d)) best = i, best_d = dist;
  }
  return best < 0 ? NULL : candidates[best];
}
