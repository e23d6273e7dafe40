/* Where Chromium-family browsers live on macOS: app bundles in
 * /Applications, or in ~/Applications for users without admin rights. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latchkey/sys.h"
#include "latchkey/sys.h"

static const char *const bundles[] = {
    "Google Chrome.app/Contents/MacOS/Google Chrome",
    "Chromium.app/Contents/MacOS/Chromium",
    "Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
    "Google Chrome Canary.app/Contents/MacOS/Google Chrome Canary",
};

static size_t try_at(const char *dir, const char *rel, char **out, size_t n)
{
    size_t need = strlen(dir) + 1 + strlen(rel) + 1;
    char *full = malloc(need);
    if (!full)
        return n;
    snprintf(full, need, "%s/%s", dir, rel);
    if (lk_sys_can_run(full))
        out[n++] = full;
    else
        free(full);
    return n;
}

size_t lk_sys_browser_candidates(char **out, size_t max)
{
    char *home = lk_sys_home_dir();
    char *user_apps = NULL;
    size_t i, n = 0;
    if (home) {
        size_t need = strlen(home) + sizeof "/Applications";
        user_apps = malloc(need);
        if (user_apps)
            snprintf(user_apps, need, "%s/Applications", home);
    }
    for (i = 0; i < sizeof bundles / sizeof bundles[0]; i++) {
        if (n < max)
            n = try_at("/Applications", bundles[i], out, n);
        if (n < max && user_apps)
            n = try_at(user_apps, bundles[i], out, n);
    }
    free(user_apps);
    free(home);
    return n;
}
