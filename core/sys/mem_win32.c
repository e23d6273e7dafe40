/* Process memory on Windows. */
#include <windows.h>
#include <psapi.h>

#include "latchkey/sys.h"

int64_t lk_sys_proc_memory(long pid)
{
    PROCESS_MEMORY_COUNTERS_EX pmc;
    HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, (DWORD)pid);
    int64_t bytes = -1;
    if (!h)
        return -1;
    /* Private bytes: the commit charge no other process shares. The working
     * set would count every shared DLL page once per process. */
    if (GetProcessMemoryInfo(h, (PROCESS_MEMORY_COUNTERS *)&pmc, sizeof pmc))
        bytes = (int64_t)pmc.PrivateUsage;
    CloseHandle(h);
    return bytes;
}
