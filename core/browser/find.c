/* Which browser to run: what the user named, else what is installed. */
#include <stdlib.h>
#include <string.h>

#include "latchkey/browser.h"
#include "latchkey/sys.h"

#define LK_MAX_CANDIDATES 16

/* A browser the user named must exist and run: silently falling back to
 * another one would hide their typo. */
static int use_named(const char *path, const char *source, char **out, lk_error *err)
{
    char *abs = NULL;
    int rc;
    if (!lk_sys_can_run(path)) {
        if (lk_sys_ftype(path) == LK_FT_NONE)
            return lk_error_set(err, LK_ENOENT, 0, "%s names %s, which does not exist", source,
                                path);
        return lk_error_set(err, LK_EACCES, 0, "%s names %s, which is not a program we may run",
                            source, path);
    }
    if ((rc = lk_sys_abspath(path, &abs, err)) != LK_OK)
        return rc;
    *out = abs;
    return LK_OK;
}

int lk_browser_find(const char *explicit_path, char **out, lk_error *err)
{
    char *found[LK_MAX_CANDIDATES];
    char *env;
    size_t n, i;
    int rc;

    *out = NULL;
    if (explicit_path && *explicit_path)
        return use_named(explicit_path, "--chromium", out, err);
    env = lk_sys_getenv("LATCHKEY_CHROMIUM");
    if (env) {
        rc = use_named(env, "LATCHKEY_CHROMIUM", out, err);
        free(env);
        return rc;
    }
    n = lk_sys_browser_candidates(found, LK_MAX_CANDIDATES);
    if (n == 0)
        return lk_error_set(err, LK_ENOENT, 0,
                            "no Chrome, Chromium or Edge found; install one, or name it with "
                            "--chromium or LATCHKEY_CHROMIUM");
    *out = found[0];
    for (i = 1; i < n; i++)
        free(found[i]);
    return LK_OK;
}
