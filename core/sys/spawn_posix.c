/* A process tree we own, on POSIX: the child leads a new process group (so
 * one kill(-pgid) reaches everything it starts), on Linux it dies with the
 * thread that spawned it (PR_SET_PDEATHSIG), and an exec failure comes back
 * to the parent as an error instead of a child that exits 127. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__linux__)
#include <dirent.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include "sys/linux_proc.h"
#elif defined(__APPLE__)
#include <libproc.h>
#include <sys/proc.h> /* SZOMB */
#include <sys/proc_info.h>
#endif

#include "latchkey/sys.h"
#include "util/strv.h"

extern char **environ;

struct lk_child {
    pid_t pid;
    pid_t pgid;
    uint64_t start_id;
    int pidfd;  /* Linux: readable once the child exits; -1 elsewhere */
    int reaped; /* waitpid has collected it: its pid may now be reused */
    int status;
};

/* ---- identity ------------------------------------------------------------ */

#if defined(__linux__)
static uint64_t start_id_of(pid_t pid)
{
    char path[64];
    long ppid;
    char state;
    unsigned long long ticks = 0;
    int dirfd;
    snprintf(path, sizeof path, "/proc/%ld", (long)pid);
    dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return 0;
    if (lk__linux_stat(dirfd, &ppid, &state, &ticks, NULL, 0) != 0)
        ticks = 0;
    close(dirfd);
    return (uint64_t)ticks; /* the same stamp lk_sys_proc_same compares */
}

static int pidfd_open_(pid_t pid)
{
#if defined(SYS_pidfd_open)
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}
#elif defined(__APPLE__)
static uint64_t start_id_of(pid_t pid)
{
    struct proc_bsdinfo bi;
    if (proc_pidinfo(pid, PROC_PIDTBSDINFO, 0, &bi, (int)sizeof bi) != (int)sizeof bi)
        return 0;
    /* Microseconds since the epoch, as proc_darwin.c names a process. */
    return (uint64_t)bi.pbi_start_tvsec * 1000000u + (uint64_t)bi.pbi_start_tvusec;
}

static int pidfd_open_(pid_t pid)
{
    (void)pid;
    errno = ENOSYS;
    return -1;
}
#else
static uint64_t start_id_of(pid_t pid)
{
    (void)pid;
    return 0;
}

static int pidfd_open_(pid_t pid)
{
    (void)pid;
    errno = ENOSYS;
    return -1;
}
#endif

/* ---- before fork: everything that may allocate --------------------------- */

/* argv[0] as execv wants it: a path. A bare name is looked up on PATH here,
 * in the parent, because the child may only call async-signal-safe code. */
static char *resolve_exe(const char *name)
{
    const char *path, *p;
    if (strchr(name, '/'))
        return lk_strdup(name);
    path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (p = path;;) {
        const char *end = strchr(p, ':');
        size_t dlen = end ? (size_t)(end - p) : strlen(p);
        size_t need = dlen + 1 + strlen(name) + 1;
        char *full = malloc(need);
        if (!full)
            return NULL;
        if (dlen == 0)
            snprintf(full, need, "./%s", name);
        else
            snprintf(full, need, "%.*s/%s", (int)dlen, p, name);
        if (access(full, X_OK) == 0) {
            struct stat st;
            if (stat(full, &st) == 0 && S_ISREG(st.st_mode))
                return full;
        }
        free(full);
        if (!end)
            break;
        p = end + 1;
    }
    return lk_strdup(name); /* execv fails with ENOENT and the pipe reports it */
}

static int make_cloexec_pipe(int fds[2])
{
#if defined(__linux__)
    return pipe2(fds, O_CLOEXEC);
#else
    if (pipe(fds) != 0)
        return -1;
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    return 0;
#endif
}

/* Keeps our descriptors clear of 0-2 (the parent may run with a closed
 * stdin), so the child's dup2 onto 0, 1, 2 never overwrites one of them. */
static int above_stdio(int fd)
{
    int moved;
    if (fd < 0 || fd > 2)
        return fd;
    moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    close(fd);
    return moved;
}

static lk_code code_of(int e)
{
    switch (e) {
    case ENOENT:
    case ENOTDIR:
        return LK_ENOENT;
    case EACCES:
    case EPERM:
        return LK_EACCES;
    case ENOMEM:
        return LK_ENOMEM;
    default:
        return LK_EIO;
    }
}

/* ---- in the child: async-signal-safe calls only -------------------------- */

static void report_and_exit(int fd, int e)
{
    ssize_t w;
    do
        w = write(fd, &e, sizeof e);
    while (w < 0 && errno == EINTR);
    _exit(127);
}

/* Descriptors the parent opened without O_CLOEXEC (libraries, sockets)
 * must not leak into a browser that may outlive them by days. */
static void cloexec_from_3(void)
{
    long max, fd;
#if defined(__linux__) && defined(SYS_close_range)
    if (syscall(SYS_close_range, 3u, ~0u, 4u /* CLOSE_RANGE_CLOEXEC */) == 0)
        return;
#endif
    max = sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > 65536)
        max = 65536;
    for (fd = 3; fd < max; fd++) {
        int fl = fcntl((int)fd, F_GETFD);
        if (fl >= 0 && !(fl & FD_CLOEXEC))
            fcntl((int)fd, F_SETFD, fl | FD_CLOEXEC);
    }
}

static void child_main(const char *exe, char *const *argv, int in_fd, int out_fd, int err_pipe,
                       pid_t parent)
{
    struct sigaction dfl;
    sigset_t none;
    int sig;

    /* Leader of its own group before anything else, so kill(-pgid) in the
     * parent (which also calls setpgid) can never miss it. */
    if (setpgid(0, 0) != 0)
        report_and_exit(err_pipe, errno);
#if defined(__linux__)
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
        report_and_exit(err_pipe, errno);
    /* The parent may have died before prctl: then nobody will signal us. */
    if (getppid() != parent)
        _exit(127);
#else
    (void)parent;
#endif
    /* The parent blocked every signal around fork; handlers it installed
     * must not run in a browser, and ignored signals must not stay ignored. */
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    for (sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            sigaction(sig, &dfl, NULL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
        report_and_exit(err_pipe, errno);
    cloexec_from_3();
    execve(exe, argv, environ);
    report_and_exit(err_pipe, errno);
}

/* ---- spawn ----------------------------------------------------------------- */

int lk_sys_spawn(const char *const *argv, const char *log_path, lk_child **out, lk_error *err)
{
    lk_child *c = NULL;
    char *exe = NULL;
    int in_fd = -1, out_fd = -1, pipefd[2] = {-1, -1};
    sigset_t all, old;
    pid_t parent = getpid(), pid;
    int child_errno = 0, rc = LK_OK;
    ssize_t got;

    *out = NULL;
    if (!argv || !argv[0] || !argv[0][0])
        return lk_error_set(err, LK_EINVAL, 0, "nothing to run");
    c = calloc(1, sizeof *c);
    exe = resolve_exe(argv[0]);
    if (!c || !exe) {
        rc = lk_error_set(err, LK_ENOMEM, 0, "out of memory");
        goto fail;
    }
    c->pidfd = -1;
    in_fd = above_stdio(open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (in_fd < 0) {
        rc = lk_error_set(err, LK_EIO, errno, "/dev/null: %s", strerror(errno));
        goto fail;
    }
    if (log_path)
        out_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
    else
        out_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    out_fd = above_stdio(out_fd);
    if (out_fd < 0) {
        int e = errno;
        rc = lk_error_set(err, code_of(e), e, "cannot open log %s: %s",
                          log_path ? log_path : "/dev/null", strerror(e));
        goto fail;
    }
    if (make_cloexec_pipe(pipefd) != 0 || (pipefd[0] = above_stdio(pipefd[0])) < 0 ||
        (pipefd[1] = above_stdio(pipefd[1])) < 0) {
        rc = lk_error_set(err, LK_EIO, errno, "pipe: %s", strerror(errno));
        goto fail;
    }

    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid = fork();
    if (pid == 0)
        child_main(exe, (char *const *)argv, in_fd, out_fd, pipefd[1], parent);
    {
        int fork_errno = errno;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (pid < 0) {
            rc = lk_error_set(err, code_of(fork_errno), fork_errno, "cannot run %s: fork: %s",
                              argv[0], strerror(fork_errno));
            goto fail;
        }
    }
    /* Both sides call setpgid: whichever runs first wins the race with a
     * kill(-pgid). EACCES here only means the child has already exec'd. */
    setpgid(pid, pid);
    close(pipefd[1]);
    pipefd[1] = -1;
    do
        got = read(pipefd[0], &child_errno, sizeof child_errno);
    while (got < 0 && errno == EINTR);
    if (got == (ssize_t)sizeof child_errno) {
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
        rc = lk_error_set(err, code_of(child_errno), child_errno, "cannot run %s: %s", argv[0],
                          strerror(child_errno));
        goto fail;
    }
    /* EOF: the pipe closed on exec, the program runs. */
    c->pid = pid;
    c->pgid = pid;
    c->start_id = start_id_of(pid);
    c->pidfd = pidfd_open_(pid); /* unreaped: the pid cannot be reused under us */
    close(pipefd[0]);
    close(in_fd);
    close(out_fd);
    free(exe);
    *out = c;
    return LK_OK;

fail:
    if (pipefd[0] >= 0)
        close(pipefd[0]);
    if (pipefd[1] >= 0)
        close(pipefd[1]);
    if (in_fd >= 0)
        close(in_fd);
    if (out_fd >= 0)
        close(out_fd);
    free(exe);
    free(c);
    return rc;
}

long lk_child_pid(const lk_child *c)
{
    return c ? (long)c->pid : 0;
}

uint64_t lk_child_start_id(const lk_child *c)
{
    return c ? c->start_id : 0;
}

/* ---- wait ---------------------------------------------------------------- */

static int try_reap(lk_child *c)
{
    pid_t r;
    if (c->reaped)
        return 1;
    do
        r = waitpid(c->pid, &c->status, WNOHANG);
    while (r < 0 && errno == EINTR);
    if (r == c->pid || (r < 0 && errno == ECHILD)) {
        c->reaped = 1;
        if (c->pidfd >= 0) {
            close(c->pidfd);
            c->pidfd = -1;
        }
    }
    return c->reaped;
}

int lk_child_wait(lk_child *c, int64_t deadline_ms)
{
    int nap = 1;
    if (!c)
        return 1;
    for (;;) {
        int64_t now;
        if (try_reap(c))
            return 1;
        now = lk_sys_now_ms();
        if (now >= deadline_ms)
            return 0;
        if (c->pidfd >= 0) {
            /* Sleeps until the exit itself, not a polling interval. */
            struct pollfd p;
            int64_t rest = deadline_ms - now;
            p.fd = c->pidfd;
            p.events = POLLIN;
            p.revents = 0;
            poll(&p, 1, rest > 60000 ? 60000 : (int)rest);
        } else {
            int64_t rest = deadline_ms - now;
            lk_sys_sleep_ms((int)(rest < nap ? rest : nap));
            if (nap < 50)
                nap *= 2;
        }
    }
}

/* ---- the tree ------------------------------------------------------------ */

static int count_group(pid_t pgid);

int lk_child_end_tree(lk_child *c, int force, lk_error *err)
{
    int sig = force ? SIGKILL : SIGTERM;
    if (!c || c->pgid <= 1)
        return lk_error_set(err, LK_EINVAL, 0, "no process tree");
    /* The guard rails hold for our own trees too: never our own group. */
    if (c->pgid == getpgrp())
        return lk_error_set(err, LK_EREFUSED, 0, "refusing to signal this process's own group");
    /* While any member lives (the leader, reaped or not, included) the kernel
     * keeps the group id from being reused. Once the leader is reaped and the
     * group is empty, the id is free for anyone: signal nothing. */
    if (try_reap(c) && count_group(c->pgid) == 0)
        return LK_OK;
    if (kill(-c->pgid, sig) == 0 || errno == ESRCH) {
        try_reap(c);
        return LK_OK;
    }
    return lk_error_set(err, errno == EPERM ? LK_EACCES : LK_EIO, errno,
                        "cannot signal process group %ld: %s", (long)c->pgid, strerror(errno));
}

#if defined(__linux__)
/* Process group (field 5) and state (field 3) from /proc/PID/stat. */
static int read_pgrp(const char *pid_name, long *pgrp, char *state)
{
    char path[64], buf[512];
    const char *p;
    ssize_t n;
    int fd;
    snprintf(path, sizeof path, "/proc/%s/stat", pid_name);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    p = strrchr(buf, ')'); /* comm may hold spaces and parentheses */
    if (!p || p[1] != ' ' || !p[2])
        return -1;
    *state = p[2];
    /* ") S ppid pgrp": skip the state and the ppid, then read pgrp. */
    p = strchr(p + 4, ' ');
    if (!p)
        return -1;
    *pgrp = strtol(p + 1, NULL, 10);
    return 0;
}

static int count_group(pid_t pgid)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int n = 0;
    if (!d)
        return kill(-pgid, 0) == 0 ? 1 : 0;
    while ((e = readdir(d)) != NULL) {
        long pgrp;
        char state;
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        if (read_pgrp(e->d_name, &pgrp, &state) == 0 && pgrp == (long)pgid && state != 'Z' &&
            state != 'X')
            n++;
    }
    closedir(d);
    return n;
}
#elif defined(__APPLE__)
static int count_group(pid_t pgid)
{
    pid_t pids[4096];
    int bytes = proc_listpgrppids(pgid, pids, (int)sizeof pids);
    int i, n = 0;
    if (bytes <= 0)
        return 0;
    for (i = 0; i < bytes / (int)sizeof pids[0]; i++) {
        struct proc_bsdinfo bi;
        if (proc_pidinfo(pids[i], PROC_PIDTBSDINFO, 0, &bi, (int)sizeof bi) == (int)sizeof bi &&
            bi.pbi_status != SZOMB)
            n++;
    }
    return n;
}
#else
static int count_group(pid_t pgid)
{
    return kill(-pgid, 0) == 0 ? 1 : 0; /* no process table to read: alive or not */
}
#endif

int lk_child_tree_count(lk_child *c)
{
    if (!c || c->pgid <= 1)
        return 0;
    try_reap(c); /* our own zombie is not "running" */
    return count_group(c->pgid);
}

void lk_child_free(lk_child *c)
{
    if (!c)
        return;
    try_reap(c);
    if (c->pidfd >= 0)
        close(c->pidfd);
    free(c);
}
