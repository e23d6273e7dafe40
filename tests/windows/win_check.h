/* The Windows tests' check kit: every check prints; main returns g_fail != 0. */
#ifndef LK_WIN_CHECK_H
#define LK_WIN_CHECK_H

#include <windows.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "latchkey/error.h"

static int g_pass, g_fail;

#define CHECK(cond, ...) check_((cond) ? 1 : 0, __LINE__, __VA_ARGS__)

static int check_(int ok, int line, const char *fmt, ...) LK_PRINTF_FORMAT(3, 4);
static int check_(int ok, int line, const char *fmt, ...)
{
    va_list ap;
    printf(ok ? "ok   " : "FAIL ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    if (!ok)
        printf("  (line %d)", line);
    printf("\n");
    fflush(stdout);
    if (ok)
        g_pass++;
    else
        g_fail++;
    return ok;
}

/* UTF-16 to a malloc'd UTF-8 string (NULL on failure). */
static inline char *u8(const wchar_t *w)
{
    int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
    char *s = n > 0 ? malloc((size_t)n) : NULL;
    if (s)
        WideCharToMultiByte(CP_UTF8, 0, w, -1, s, n, NULL, NULL);
    return s;
}

#endif
