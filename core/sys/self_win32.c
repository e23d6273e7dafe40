/* The running program's own executable: GetModuleFileNameW, in UTF-8. */
#include "sys/win32_util.h"

#include <stdlib.h>

#include "latchkey/sys.h"

char *lk_sys_self_exe(void)
{
    DWORD cap = MAX_PATH;
    for (;;) {
        wchar_t *buf = malloc((size_t)cap * sizeof *buf), *plain;
        DWORD n;
        char *out;
        if (!buf)
            return NULL;
        n = GetModuleFileNameW(NULL, buf, cap);
        if (n == 0) {
            free(buf);
            return NULL;
        }
        if (n >= cap) { /* truncated: the path is longer than the buffer */
            free(buf);
            if (cap >= 32768)
                return NULL;
            cap *= 2;
            continue;
        }
        /* A long path may come back as "\\?\C:\..."; callers join to it. */
        plain = lk__w_strip_prefix(buf);
        free(buf);
        if (!plain)
            return NULL;
        out = lk__utf8_from_w(plain, (size_t)-1);
        free(plain);
        return out;
    }
}
