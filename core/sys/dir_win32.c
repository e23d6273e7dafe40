/* Folder listing and the user's data folder on Windows. */
#include <windows.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "latchkey/sys.h"
#include "util/strv.h"

static char *utf8(const wchar_t *w)
{
    int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
    char *s = n > 0 ? malloc((size_t)n) : NULL;
    if (s && WideCharToMultiByte(CP_UTF8, 0, w, -1, s, n, NULL, NULL) <= 0) {
        free(s);
        s = NULL;
    }
    return s;
}

static wchar_t *wide(const char *s)
{
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
    wchar_t *w = n > 0 ? malloc((size_t)n * sizeof *w) : NULL;
    if (w && MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n) <= 0) {
        free(w);
        w = NULL;
    }
    return w;
}

int lk_sys_list_dir(const char *path, char ***names, size_t *n, lk_error *err)
{
    size_t len = strlen(path), cap = 0;
    char *pattern = malloc(len + 3);
    wchar_t *wpattern;
    WIN32_FIND_DATAW fd;
    HANDLE h;
    *names = NULL;
    *n = 0;
    if (!pattern)
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    memcpy(pattern, path, len);
    strcpy(pattern + len, len && (path[len - 1] == '\\' || path[len - 1] == '/') ? "*" : "\\*");
    wpattern = wide(pattern);
    free(pattern);
    if (!wpattern)
        return lk_error_set(err, LK_EINVAL, 0, "%s: not valid UTF-8", path);
    h = FindFirstFileExW(wpattern, FindExInfoBasic, &fd, FindExSearchNameMatch, NULL, 0);
    free(wpattern);
    if (h == INVALID_HANDLE_VALUE)
        return lk_error_set(err, LK_ENOENT, (int)GetLastError(), "cannot list %s", path);
    do {
        char **slot;
        if (wcscmp(fd.cFileName, L".") == 0 || wcscmp(fd.cFileName, L"..") == 0)
            continue;
        slot = lk_push(names, n, &cap, sizeof *slot);
        if (!slot)
            break;
        *slot = utf8(fd.cFileName);
        if (!*slot)
            (*n)--;
    } while (FindNextFileW(h, &fd));
    FindClose(h);
    return LK_OK;
}

char *lk_sys_data_dir(void)
{
    const wchar_t *v = _wgetenv(L"LOCALAPPDATA");
    return v && *v ? utf8(v) : NULL;
}
