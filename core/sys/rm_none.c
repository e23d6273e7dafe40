/* Restart Manager exists only on Windows. */
#include "latchkey/sys.h"

int lk_sys_rm_holders(const char *folder, lk_rm_hit **hits, size_t *nhits, lk_error *err)
{
    *hits = NULL;
    *nhits = 0;
    return lk_error_set(err, LK_ENOTSUP, 0, "Restart Manager is a Windows service");
}
