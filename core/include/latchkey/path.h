/* latchkey/path.h - pure string logic on paths; no file system access. */
#ifndef LATCHKEY_PATH_H
#define LATCHKEY_PATH_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* win != 0: both '\\' and '/' separate, comparison ignores ASCII case, and
 * "\\\\?\\" / "\\??\\" prefixes are ignored. */
int lk_path_is_sep(char c, int win);

/* 1 when `path` is `dir` itself or lies under it: "session-1" never matches
 * "session-10". Both must be absolute and normalised; a trailing separator on
 * either is ignored. */
int lk_path_within(const char *dir, const char *path, int win);
int lk_path_equal(const char *a, const char *b, int win);

/* Lexical normalisation of an absolute path: folds repeated separators,
 * removes "." and resolves ".." (never above the root), drops a trailing
 * separator. Returns a new string, or NULL when the path is not absolute. */
char *lk_path_normalize(const char *path, int win);

/* Pointer to the last component (after the last separator). */
const char *lk_path_base(const char *path, int win);
/* New string: everything before the last component, without trailing separator. */
char *lk_path_dir(const char *path, int win);
/* New string: a + sep + b. */
char *lk_path_join(const char *a, const char *b, int win);

/* Strips a kernel/Win32 namespace prefix ("\\\\?\\", "\\??\\", "\\\\?\\UNC\\")
 * and returns a pointer into p or a new string in *owned (caller frees). */
const char *lk_path_strip_win_prefix(const char *p, char **owned);

#ifdef __cplusplus
}
#endif
#endif
