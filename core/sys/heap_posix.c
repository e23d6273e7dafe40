/* Giving freed heap back to the system, on POSIX C libraries. */
#include <stdlib.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "latchkey/sys.h"

void lk_sys_heap_trim(void)
{
#if defined(__GLIBC__)
    /* glibc keeps each thread's arena at its high-water mark; this returns
     * the free pages of all of them. */
    malloc_trim(0);
#endif
}
