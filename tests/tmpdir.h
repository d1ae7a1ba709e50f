/* tmpdir.h - a temporary directory for a test's data, made under /tmp and removed with all it
 * holds.  Kept apart from testutil.h because it asserts with Criterion, and testutil.h is also
 * included by mkdata.c, which is not a Criterion program.
 */
#ifndef SNG_TMPDIR_H
#define SNG_TMPDIR_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Makes the directory /tmp/sng_<tag>_XXXXXX (mkdtemp fills in the X's) and leaves its name in
 * dir (n bytes); asserts that it was made. */
static inline void tu_tmpdir(char *dir, size_t n, const char *tag) {
  int len = snprintf(dir, n, "/tmp/sng_%s_XXXXXX", tag);
  cr_assert(len > 0 && (size_t)len < n, "%zu bytes cannot hold /tmp/sng_%s_XXXXXX", n, tag);
  cr_assert_not_null(mkdtemp(dir), "mkdtemp(%s): %s", dir, strerror(errno));
}

/* Removes path and, if it is a directory, everything under it (a symbolic link is removed,
 * never followed): 0, or -1 with errno set if something could not be removed.  nftw would do
 * the walk, but it needs _XOPEN_SOURCE and the build defines only _POSIX_C_SOURCE. */
static inline int tu_rm_tree(const char *path) {
  struct stat st;
  if (lstat(path, &st)) return -1;
  if (!S_ISDIR(st.st_mode)) return unlink(path);
  DIR *d = opendir(path);
  if (!d) return -1;
  int rc = 0, err = 0;
  size_t len = strlen(path);
  for (struct dirent *e; (e = readdir(d));) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    size_t m = len + strlen(e->d_name) + 2;
    char *sub = malloc(m);
    if (!sub) {
      rc = -1, err = ENOMEM;
      break;
    }
    snprintf(sub, m, "%s/%s", path, e->d_name);
    if (tu_rm_tree(sub) && !rc) rc = -1, err = errno;
    free(sub);
  }
  closedir(d);
  if (rc) {
    errno = err;
    return -1;
  }
  return rmdir(path);
}

/* Removes the directory dir with everything in it (what tu_tmpdir made); asserts it is gone. */
static inline void tu_rmdir(const char *dir) {
  cr_assert_eq(tu_rm_tree(dir), 0, "cannot remove %s: %s", dir, strerror(errno));
}

#endif
