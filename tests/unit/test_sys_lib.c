/* lk_sys_lib_open / lk_sys_lib_sym against a library every system has. */
#include <stdlib.h>

#include "../lk_check.h"

#ifdef _WIN32
#define LIB "kernel32.dll"
#define FN "GetCurrentProcessId"
typedef unsigned long (*self_fn)(void);
#else
#define LIB "libc.so.6"
#define FN "getpid"
typedef int (*self_fn)(void);
#endif

int main(void)
{
    lk_sys_lib *lib = NULL;
    lk_error e;
    void *p;
    self_fn fn;

    CHECK(lk_sys_lib_open(LIB, &lib, &e) == LK_OK);
    CHECK(lib != NULL);
    p = lib ? lk_sys_lib_sym(lib, FN) : NULL;
    CHECK(p != NULL);
    if (p) {
        memcpy(&fn, &p, sizeof fn);
        CHECK((long)fn() == lk_sys_self_pid()); /* the function really is the one named */
    }
    CHECK(lib && lk_sys_lib_sym(lib, "lk_no_such_function") == NULL);

    lib = (lk_sys_lib *)&e;
    CHECK(lk_sys_lib_open("liblk-no-such-library.so.9", &lib, &e) == LK_ENOENT);
    CHECK(lib == NULL);
    CHECK(e.code == LK_ENOENT && strstr(e.msg, "liblk-no-such-library.so.9") != NULL);
    return lk_check_done();
}
