/* Where Chromium-family browsers live on Linux: on PATH, under the names
 * their Debian, Ubuntu, Fedora and vendor packages install. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latchkey/sys.h"

static const char *const names[] = {
    "chromium",       "chromium-browser",      "google-chrome", "google-chrome-stable",
    "microsoft-edge", "microsoft-edge-stable",
};

/* Appends every directory of PATH that holds `name` as a program. */
static size_t on_path(const char *name, char **out, size_t n, size_t max)
{
    const char *path = getenv("PATH"), *p;
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (p = path; n < max;) {
        const char *end = strchr(p, ':');
        size_t dlen = end ? (size_t)(end - p) : strlen(p);
        if (dlen > 0 && p[0] == '/') { /* relative PATH entries depend on our cwd: skip */
            size_t need = dlen + 1 + strlen(name) + 1;
            char *full = malloc(need);
            if (!full)
                return n;
            snprintf(full, need, "%.*s/%s", (int)dlen, p, name);
            if (lk_sys_can_run(full)) {
                out[n++] = full;
                return n; /* the first hit on PATH is the one a shell would run */
            }
            free(full);
        }
        if (!end)
            break;
        p = end + 1;
    }
    return n;
}

size_t lk_sys_browser_candidates(char **out, size_t max)
{
    size_t i, n = 0;
    for (i = 0; i < sizeof names / sizeof names[0] && n < max; i++)
        n = on_path(names[i], out, n, max);
    return n;
}
