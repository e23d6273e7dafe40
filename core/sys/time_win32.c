/* Clocks for Windows: the performance counter is monotonic and not tied to
 * the 15.6 ms scheduler tick, so deadlines measured with it are honest. */
#include "sys/win32_util.h"

int64_t lk_sys_now_ms(void)
{
    LARGE_INTEGER f, c;
    if (!QueryPerformanceFrequency(&f) || f.QuadPart <= 0 || !QueryPerformanceCounter(&c))
        return (int64_t)GetTickCount64();
    /* Split to avoid overflowing c * 1000 on machines with a 10 MHz counter. */
    return (int64_t)(c.QuadPart / f.QuadPart) * 1000 +
           (int64_t)((c.QuadPart % f.QuadPart) * 1000 / f.QuadPart);
}

int64_t lk_sys_wall_ms(void)
{
    FILETIME ft;
    GetSystemTimePreciseAsFileTime(&ft);
    return lk__ft_unix_ms(lk__ft_u64(ft));
}

void lk_sys_sleep_ms(int ms)
{
    Sleep(ms > 0 ? (DWORD)ms : 0);
}
