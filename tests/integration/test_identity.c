/* PID + start time name a process; a PID alone is never trusted. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "latchkey/sys.h"
#include "../lk_check.h"

int main(void)
{
    lk_snapshot *snap = NULL;
    const lk_proc *p;
    uint64_t id;
    int alive = -1;
    lk_error err;
    long pids[1];
    uint64_t ids[1];
    int status;
    pid_t child = fork();
    if (child == 0) {
        for (;;)
            pause();
    }
    CHECK(lk_sys_snapshot(&snap, LK_SNAP_PROCS, &err) == LK_OK);
    p = lk_snapshot_find(snap, child);
    CHECK(p != NULL);
    id = p ? p->start_id : 0;
    CHECK(lk_sys_proc_same(child, id));
    /* The same PID with another start time is another process: never signalled. */
    CHECK(!lk_sys_proc_same(child, id + 1));
    CHECK(lk_sys_proc_end(child, id + 1, 1, &err) == LK_ENOENT);
    CHECK(lk_sys_proc_same(child, id));
    CHECK(lk_sys_proc_end(1, 0, 1, &err) == LK_EREFUSED);
    /* The right identity: ended, and the wait sees it go without sleeping to a deadline. */
    pids[0] = child;
    ids[0] = id;
    CHECK(lk_sys_proc_end(child, id, 0, &err) == LK_OK);
    {
        int64_t t0 = lk_sys_now_ms();
        /* A deadline far off, and anything under half of it passes: the
         * point is not sleeping to it, never the speed. */
        CHECK(lk_sys_proc_wait(pids, ids, 1, t0 + 120000, &alive) == 0);
        CHECK(alive == 0);
        CHECK(lk_sys_now_ms() - t0 < 60000);
    }
    CHECK(!lk_sys_proc_same(child, id)); /* a zombie is not alive */
    waitpid(child, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
    CHECK(!lk_sys_proc_same(child, id));
    CHECK(lk_sys_proc_end(child, id, 1, &err) == LK_ENOENT);
    lk_snapshot_free(snap);
    return lk_check_done();
}
