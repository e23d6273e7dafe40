/* Shared libraries on POSIX: dlopen. */
#include <dlfcn.h>

#include "latchkey/sys.h"

int lk_sys_lib_open(const char *name, lk_sys_lib **out, lk_error *err)
{
    /* RTLD_LOCAL: its symbols serve only whoever asks for them by name. */
    void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    *out = h;
    if (!h) {
        const char *why = dlerror();
        return lk_error_set(err, LK_ENOENT, 0, "cannot load %s: %s", name,
                            why ? why : "unknown error");
    }
    return LK_OK;
}

void *lk_sys_lib_sym(lk_sys_lib *lib, const char *name)
{
    return dlsym(lib, name);
}
