/* Process memory on Windows. */
#include <windows.h>
#include <psapi.h>

#include "latchkey/sys.h"

int64_t lk_sys_proc_rss(long pid)
{
    PROCESS_MEMORY_COUNTERS pmc;
    HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, (DWORD)pid);
    int64_t rss = -1;
    if (!h)
        return -1;
    if (GetProcessMemoryInfo(h, &pmc, sizeof pmc))
        rss = (int64_t)pmc.WorkingSetSize;
    CloseHandle(h);
    return rss;
}
