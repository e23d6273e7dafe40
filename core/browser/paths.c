/* The files core/browser keeps for a profile: its DevTools port file and
 * the browser's output log. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latchkey/path.h"
#include "browser/browser_private.h"
#include "latchkey/sys.h"

char *lk__browser_port_file(const char *profile)
{
    return lk_path_join(profile, "DevToolsActivePort", lk_sys_path_win());
}

char *lk__browser_log_path(const char *profile)
{
    int win = lk_sys_path_win();
    const char *base = lk_path_base(profile, win);
    char *cache = lk_sys_cache_dir(), *dir, *full, name[96];
    uint64_t h = 1469598103934665603u; /* FNV-1a: the same profile, the same log */
    size_t i, n = 0;
    const char *p;
    if (!cache)
        return NULL;
    for (p = profile; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211u;
    /* The folder's name keeps the file recognisable; only safe characters. */
    for (i = 0; base[i] && n < 48; i++) {
        char c = base[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_' || c == '.';
        name[n++] = ok ? c : '_';
    }
    snprintf(name + n, sizeof name - n, "%s%016llx.log", n ? "-" : "", (unsigned long long)h);
    dir = lk_path_join(cache, win ? "Latchkey\\browser-logs" : "latchkey/browser-logs", win);
    full = dir ? lk_path_join(dir, name, win) : NULL;
    free(cache);
    free(dir);
    return full;
}
