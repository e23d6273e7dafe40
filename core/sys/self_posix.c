/* The running program's own executable: /proc/self/exe on Linux,
 * _NSGetExecutablePath on macOS. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__APPLE__)
#include <mach-o/dyld.h>
#include <stdint.h>
#endif

#include "latchkey/sys.h"

char *lk_sys_self_exe(void)
{
#if defined(__APPLE__)
    uint32_t size = 0;
    char *raw, *real;
    _NSGetExecutablePath(NULL, &size);
    raw = malloc(size ? size : 1);
    if (!raw || _NSGetExecutablePath(raw, &size) != 0) {
        free(raw);
        return NULL;
    }
    /* The loader's path may hold "." and symlinks; callers want the folder. */
    real = realpath(raw, NULL);
    free(raw);
    return real;
#else
    size_t cap = 256;
    for (;;) {
        char *buf = malloc(cap);
        ssize_t n;
        if (!buf)
            return NULL;
        n = readlink("/proc/self/exe", buf, cap);
        if (n < 0) {
            free(buf);
            return NULL;
        }
        if ((size_t)n < cap) {
            buf[n] = '\0';
            return buf;
        }
        free(buf); /* cut short: try a bigger buffer */
        if (cap >= 64 * 1024)
            return NULL;
        cap *= 2;
    }
#endif
}
