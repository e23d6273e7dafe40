/* Ending processes on POSIX. On Linux a pidfd pins the process between the
 * identity check and the signal, so a reused PID is never signalled. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/syscall.h>
#endif

#include "latchkey/sys.h"
#include "sys/proc_posix.h"

#if defined(__linux__) && defined(SYS_pidfd_open)
static int pidfd_open_(long pid)
{
    return (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
}
#else
static int pidfd_open_(long pid)
{
    (void)pid;
    errno = ENOSYS;
    return -1;
}
#endif

static int send_signal(long pid, uint64_t start_id, int sig, lk_error *err)
{
    int fd = pidfd_open_(pid);
    int rc;
    if (fd < 0 && errno == ESRCH)
        return lk_error_set(err, LK_ENOENT, ESRCH, "process %ld has exited", pid);
    /* With a pidfd held, the check below cannot be outdated by PID reuse. */
    if (!lk_sys_proc_same(pid, start_id)) {
        if (fd >= 0)
            close(fd);
        return lk_error_set(err, LK_ENOENT, ESRCH,
                            "process %ld has exited (or its PID now names another process)", pid);
    }
#if defined(__linux__) && defined(SYS_pidfd_send_signal)
    if (fd >= 0) {
        rc = (int)syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
        close(fd);
    } else
#endif
    {
        if (fd >= 0)
            close(fd);
        rc = kill((pid_t)pid, sig);
    }
    if (rc == 0)
        return LK_OK;
    if (errno == ESRCH)
        return lk_error_set(err, LK_ENOENT, errno, "process %ld has exited", pid);
    return lk_error_set(err, errno == EPERM ? LK_EACCES : LK_EIO, errno,
                        "cannot signal process %ld: %s", pid, strerror(errno));
}

/* The last line of the guard rails, whatever the caller planned: never
 * init, the kernel's threads, this process or any process it descends from
 * (a wrapper whose command line names a profile must not be ended by the
 * program it started). */
static const char *refusal(long pid)
{
    long cur = (long)getpid();
    int kernel = 0, hops = 0;
    if (pid <= 1)
        return "it is the system's first process";
    if (lk__proc_parent(pid, &kernel) >= 0 && kernel)
        return "it is the kernel's";
    while (cur > 0 && hops++ < 4096) {
        if (cur == pid)
            return hops == 1 ? "it is this process" : "this process descends from it";
        if (cur == 1)
            break;
        cur = lk__proc_parent(cur, &kernel);
    }
    return NULL;
}

int lk_sys_proc_end(long pid, uint64_t start_id, int force, lk_error *err)
{
    const char *why = refusal(pid);
    if (why)
        return lk_error_set(err, LK_EREFUSED, 0, "refusing to end process %ld: %s", pid, why);
    return send_signal(pid, start_id, force ? SIGKILL : SIGTERM, err);
}

size_t lk_sys_proc_wait(const long *pids, const uint64_t *start_ids, size_t n, int64_t deadline_ms,
                        int *alive)
{
    struct pollfd *fds = calloc(n ? n : 1, sizeof *fds);
    size_t i, left = 0;
    int nap = 2;

    for (i = 0; i < n; i++) {
        alive[i] = lk_sys_proc_same(pids[i], start_ids[i]);
        if (!fds)
            continue; /* out of memory: fall back to polling below */
        fds[i].events = POLLIN;
        fds[i].fd = alive[i] ? pidfd_open_(pids[i]) : -1;
        /* Opened after the check: re-check so the fd pins the right process. */
        if (fds[i].fd >= 0 && !lk_sys_proc_same(pids[i], start_ids[i])) {
            close(fds[i].fd);
            fds[i].fd = -1;
            alive[i] = 0;
        }
    }
    for (;;) {
        int64_t now = lk_sys_now_ms();
        int all_pinned = fds != NULL;
        left = 0;
        for (i = 0; i < n; i++) {
            if (!alive[i])
                continue;
            if (!lk_sys_proc_same(pids[i], start_ids[i])) {
                alive[i] = 0;
                continue;
            }
            left++;
            if (!fds || fds[i].fd < 0)
                all_pinned = 0;
        }
        if (left == 0 || now >= deadline_ms)
            break;
        if (all_pinned) {
            /* Sleep until one of them exits (or the deadline). */
            for (i = 0; i < n; i++)
                if (!alive[i] && fds[i].fd >= 0) {
                    close(fds[i].fd);
                    fds[i].fd = -1;
                }
            poll(fds, (nfds_t)n, (int)(deadline_ms - now));
        } else {
            /* No pidfd (old kernel, macOS, no memory): back off gently. */
            int64_t rest = deadline_ms - now;
            lk_sys_sleep_ms((int)(rest < nap ? rest : nap));
            if (nap < 50)
                nap *= 2;
        }
    }
    for (i = 0; fds && i < n; i++)
        if (fds[i].fd >= 0)
            close(fds[i].fd);
    free(fds);
    return left;
}
