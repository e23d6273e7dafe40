/* A DLL that does nothing: lock_helper loads it from inside a session folder
 * so the holders scan must find it as a loaded module. */
#include <windows.h>

__declspec(dllexport) int lk_test_module_marker(void);

int lk_test_module_marker(void)
{
    return 42;
}
