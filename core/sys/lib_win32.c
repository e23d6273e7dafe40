/* Shared libraries on Windows: LoadLibraryExW. */
#include "sys/win32_util.h"

#include <stdlib.h>
#include <string.h>

#include "latchkey/sys.h"

int lk_sys_lib_open(const char *name, lk_sys_lib **out, lk_error *err)
{
    wchar_t *w = lk__w_from_utf8(name);
    HMODULE h;
    *out = NULL;
    if (!w)
        return lk_error_set(err, LK_EINVAL, 0, "cannot load %s: not UTF-8", name);
    /* The application's folder and System32, never the current folder. */
    h = LoadLibraryExW(w, NULL, LOAD_LIBRARY_SEARCH_DEFAULT_DIRS);
    free(w);
    if (!h) {
        DWORD e = GetLastError();
        char why[300];
        lk__win_msg(e, why, sizeof why);
        return lk_error_set(err, LK_ENOENT, (int)e, "cannot load %s: %s", name, why);
    }
    *out = (lk_sys_lib *)h;
    return LK_OK;
}

void *lk_sys_lib_sym(lk_sys_lib *lib, const char *name)
{
    FARPROC f = GetProcAddress((HMODULE)lib, name);
    void *p;
    /* A data pointer of the same size: what the caller casts back. */
    memcpy(&p, &f, sizeof p);
    return p;
}
