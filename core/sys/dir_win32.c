/* Folder listing and the user's data folder on Windows. */
#include <windows.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "latchkey/sys.h"
#include "sys/win32_util.h"
#include "util/strv.h"

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
    wpattern = lk__w_from_utf8(pattern);
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
        *slot = lk__utf8_from_w(fd.cFileName, (size_t)-1);
        if (!*slot)
            (*n)--;
    } while (FindNextFileW(h, &fd));
    FindClose(h);
    return LK_OK;
}

char *lk_sys_data_dir(void)
{
    const wchar_t *v = _wgetenv(L"LOCALAPPDATA");
    return v && *v ? lk__utf8_from_w(v, (size_t)-1) : NULL;
}
