/* Giving freed heap back to the system, on Windows. */
#include <malloc.h>

#include "latchkey/sys.h"

void lk_sys_heap_trim(void)
{
    _heapmin(); /* the C runtime's heap: decommit what is free */
}
