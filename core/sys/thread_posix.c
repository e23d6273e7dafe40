/* Library threads on POSIX: started with every signal blocked. */
#include <pthread.h>
#include <signal.h>

#include "latchkey/sys.h"

int lk_sys_thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
    sigset_t all, old;
    int rc;
    /* The program's signal handlers (SIGINT, SIGTERM, SIGCHLD) must run on
     * its own threads; a signal landing here would interrupt a poll for
     * nothing. The new thread inherits the mask in force when it starts. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(t, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}
