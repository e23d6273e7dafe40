/* Library threads on Windows: there are no signals to keep away. */
#include <pthread.h>

#include "latchkey/sys.h"

int lk_sys_thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
    return pthread_create(t, NULL, fn, arg);
}
