/* Processes on Linux, read from /proc. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sys/linux_proc.h"
#include "util/strv.h"

long lk_sys_self_pid(void)
{
    return (long)getpid();
}

/* Reads a whole small /proc file relative to dirfd. Returns bytes read, -1 on error. */
static ssize_t read_at(int dirfd, const char *name, char *buf, size_t size)
{
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
    size_t got = 0;
    if (fd < 0)
        return -1;
    while (got < size - 1) {
        ssize_t r = read(fd, buf + got, size - 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    buf[got] = '\0';
    return (ssize_t)got;
}

int lk__linux_stat(int dirfd, long *ppid, char *state, unsigned long long *start_ticks, char *comm,
                   size_t comm_size)
{
    char buf[1024];
    char *open_paren, *close_paren, *p;
    int field;
    if (read_at(dirfd, "stat", buf, sizeof buf) <= 0)
        return -1;
    /* comm may hold spaces and parentheses: it spans to the last ')'. */
    open_paren = strchr(buf, '(');
    close_paren = strrchr(buf, ')');
    if (!open_paren || !close_paren || close_paren < open_paren)
        return -1;
    if (comm) {
        size_t n = (size_t)(close_paren - open_paren - 1);
        if (n >= comm_size)
            n = comm_size - 1;
        memcpy(comm, open_paren + 1, n);
        comm[n] = '\0';
    }
    p = close_paren + 2;
    *state = *p;
    /* Fields after comm: 3 state, 4 ppid, ... 22 starttime. */
    for (field = 3; field < 22 && p; field++) {
        if (field == 4)
            *ppid = strtol(p, NULL, 10);
        p = strchr(p, ' ');
        if (p)
            p++;
    }
    if (!p)
        return -1;
    *start_ticks = strtoull(p, NULL, 10);
    return 0;
}

static long long boot_time_s(void)
{
    char buf[8192];
    int fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    char *p;
    long long btime = 0;
    if (fd < 0)
        return 0;
    if (read_at(fd, "stat", buf, sizeof buf) > 0 && (p = strstr(buf, "\nbtime ")))
        btime = strtoll(p + 7, NULL, 10);
    close(fd);
    return btime;
}

/* A command line the process rewrote as one string (Chromium's child
 * processes and sometimes its browser: setproctitle joins argv with spaces).
 * The original boundaries are gone; flags start at " --", which keeps
 * values with spaces ("--user-data-dir=/a b/c") whole. A trailing URL after
 * the last flag is split off where a space precedes a scheme. */
static int split_joined(char *buf, size_t n)
{
    size_t i;
    int argc = 1;
    char *last = buf, *url;
    for (i = 1; i + 2 < n; i++)
        if (buf[i] == ' ' && buf[i + 1] == '-' && buf[i + 2] == '-') {
            buf[i] = '\0';
            last = buf + i + 1;
            argc++;
        }
    if (last != buf && (url = strstr(last, " http")) == NULL)
        url = strstr(last, " about:");
    if (last != buf && url) {
        *url = '\0';
        argc++;
    }
    return argc;
}

static void read_cmdline(int dirfd, lk_proc *p)
{
    char buf[32768];
    ssize_t n = read_at(dirfd, "cmdline", buf, sizeof buf);
    ssize_t i, start = 0;
    int argc = 0;
    if (n <= 0)
        return;
    for (i = 0; i < n; i++)
        if (buf[i] == '\0')
            argc++;
    if (buf[n - 1] != '\0')
        argc++; /* truncated last argument */
    p->cmdline = malloc((size_t)n + 1);
    if (p->cmdline) {
        memcpy(p->cmdline, buf, (size_t)n);
        p->cmdline[n] = '\0';
        for (i = 0; i < n - 1; i++)
            if (p->cmdline[i] == '\0')
                p->cmdline[i] = ' ';
    }
    if (argc == 1 && memchr(buf, ' ', (size_t)n) && strstr(buf, " --"))
        argc = split_joined(buf, (size_t)n);
    p->argv = calloc((size_t)argc + 1, sizeof *p->argv);
    if (!p->argv)
        return;
    for (i = 0; i <= n && p->argc < argc; i++) {
        if (i == n || buf[i] == '\0') {
            p->argv[p->argc++] = strndup(buf + start, (size_t)(i - start));
            start = i + 1;
        }
    }
}

/* uid -> account name, looked up once per scan (getpwuid_r reads /etc/passwd). */
typedef struct user_cache {
    uid_t uid[64];
    char *name[64];
    size_t n;
} user_cache;

static char *user_name(user_cache *c, uid_t uid)
{
    struct passwd pw, *res = NULL;
    char pwbuf[1024], num[32];
    size_t i;
    char *name;
    for (i = 0; i < c->n; i++)
        if (c->uid[i] == uid)
            return lk_strdup(c->name[i]);
    if (getpwuid_r(uid, &pw, pwbuf, sizeof pwbuf, &res) == 0 && res) {
        name = lk_strdup(pw.pw_name);
    } else {
        snprintf(num, sizeof num, "%lu", (unsigned long)uid);
        name = lk_strdup(num);
    }
    if (name && c->n < 64) {
        c->uid[c->n] = uid;
        c->name[c->n++] = lk_strdup(name);
    }
    return name;
}

static void read_user(int dirfd, lk_proc *p, user_cache *users)
{
    char buf[1024];
    char *line;
    /* Uid is within the first lines of status. */
    if (read_at(dirfd, "status", buf, sizeof buf) <= 0)
        return;
    line = strstr(buf, "\nUid:");
    if (line) {
        uid_t uid = (uid_t)strtoul(line + 5, NULL, 10);
        p->user = user_name(users, uid);
        if (uid != geteuid())
            p->flags |= LK_PROC_OTHER_USER;
    }
}

static char *read_link_at(int dirfd, const char *name)
{
    char buf[4096 + 16];
    ssize_t n = readlinkat(dirfd, name, buf, sizeof buf - 1);
    if (n <= 0)
        return NULL;
    buf[n] = '\0';
    return lk_strdup(buf);
}

/* One worker's share of the process walk. */
typedef struct worker {
    lk_snap_builder b;
    const long *pids; /* every pid; this worker takes every stride-th from first */
    size_t npids, first, stride;
    unsigned what;
    const char *mnt_ns; /* ours, "mnt:[n]"; NULL when unknown */
    long long btime;
    long hz;
    int rc;
    pthread_t thread;
    int threaded;
} worker;

static void scan_one(worker *w, int procfd, long pid, user_cache *users)
{
    char name[32], comm[64];
    int pfd;
    long ppid = 0;
    char state = '?';
    unsigned long long ticks = 0;
    lk_proc *p;
    size_t idx;

    snprintf(name, sizeof name, "%ld", pid);
    pfd = openat(procfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (pfd < 0 || lk__linux_stat(pfd, &ppid, &state, &ticks, comm, sizeof comm) != 0) {
        /* Exited between the listing and now. Gone, it holds nothing more,
         * but what it held until then was not seen: say so. */
        if (w->what & LK_SNAP_HANDLES)
            lk__snap_blind(&w->b, pid, NULL, "exited during the scan");
        if (pfd >= 0)
            close(pfd);
        return;
    }
    p = lk__snap_proc(&w->b);
    if (!p) {
        close(pfd);
        w->rc = LK_ENOMEM;
        return;
    }
    idx = w->b.snap->nprocs - 1;
    p->pid = pid;
    p->ppid = ppid;
    p->name = lk_strdup(comm);
    p->start_id = ticks;
    p->start_ms =
        w->hz > 0 ? w->btime * 1000 + (long long)(ticks * 1000ULL / (unsigned long)w->hz) : 0;
    if (state == 'Z')
        p->flags |= LK_PROC_ZOMBIE;
    /* pid 1 and the kernel's own threads (kthreadd and its children). */
    if (pid == 1 || pid == 2 || ppid == 2)
        p->flags |= LK_PROC_CRITICAL;
    if (pid == 2 || ppid == 2) {
        /* A kernel thread: no command line, executable, files or mappings,
         * and often most of the process table. Nothing more to read. */
        p->user = user_name(users, 0);
        close(pfd);
        return;
    }
    read_cmdline(pfd, p);
    read_user(pfd, p, users);
    if (w->mnt_ns) {
        /* Its paths mean what they say only in its own mount namespace. */
        char *ns = read_link_at(pfd, "ns/mnt");
        if (ns && strcmp(ns, w->mnt_ns) != 0)
            p->flags |= LK_PROC_OTHER_NS;
        free(ns);
    }
    p->exe = read_link_at(pfd, "exe");
    if (p->exe) {
        size_t n = strlen(p->exe);
        if (n > 10 && strcmp(p->exe + n - 10, " (deleted)") == 0)
            p->exe[n - 10] = '\0';
    }
    if ((w->what & LK_SNAP_HANDLES) && !(p->flags & LK_PROC_ZOMBIE))
        lk__linux_read_holds(&w->b, idx, pfd);
    close(pfd);
}

static void *scan(void *arg)
{
    worker *w = arg;
    user_cache users;
    size_t i;
    int procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    memset(&users, 0, sizeof users);
    if (procfd < 0) {
        w->rc = LK_EIO;
        return NULL;
    }
    for (i = w->first; i < w->npids && w->rc == LK_OK; i += w->stride)
        scan_one(w, procfd, w->pids[i], &users);
    for (i = 0; i < users.n; i++)
        free(users.name[i]);
    close(procfd);
    return NULL;
}

static int list_pids(long **out, size_t *n, lk_error *err)
{
    DIR *proc = opendir("/proc");
    struct dirent *de;
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    if (!proc)
        return lk_error_set(err, LK_EIO, errno, "cannot read /proc: %s", strerror(errno));
    while ((de = readdir(proc)) != NULL) {
        char *end;
        long pid = strtol(de->d_name, &end, 10), *slot;
        if (*end || pid <= 0)
            continue;
        slot = lk_push(out, n, &cap, sizeof *slot);
        if (!slot) {
            closedir(proc);
            return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
        }
        *slot = pid;
    }
    closedir(proc);
    return LK_OK;
}

#define MAX_WORKERS 4
#define PIDS_PER_WORKER 64 /* below this a thread costs more than it saves */

int lk_sys_snapshot(lk_snapshot **out, unsigned what, lk_error *err)
{
    worker w[MAX_WORKERS];
    long *pids = NULL;
    size_t npids = 0, nw, i;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    char *mnt_ns = read_link_at(AT_FDCWD, "/proc/self/ns/mnt");
    int rc;

    *out = NULL;
    if ((rc = list_pids(&pids, &npids, err)) != LK_OK) {
        free(mnt_ns);
        return rc;
    }
    /* The cost is the kernel writing /proc text: spread it over the CPUs. */
    nw = (what & LK_SNAP_HANDLES) ? (size_t)(cpus > 0 ? cpus : 1) : 1;
    if (nw > MAX_WORKERS)
        nw = MAX_WORKERS;
    while (nw > 1 && npids / nw < PIDS_PER_WORKER)
        nw--;
    memset(w, 0, sizeof w);
    for (i = 0; i < nw; i++) {
        if ((rc = lk__snap_begin(&w[i].b, err)) != LK_OK)
            break;
        /* Interleaved, not halves: the low pids are mostly kernel threads,
         * which cost almost nothing, so halves would leave one worker idle. */
        w[i].pids = pids;
        w[i].npids = npids;
        w[i].first = i;
        w[i].stride = nw;
        w[i].what = what;
        w[i].mnt_ns = mnt_ns;
        w[i].btime = boot_time_s();
        w[i].hz = sysconf(_SC_CLK_TCK);
    }
    if (rc == LK_OK) {
        for (i = 1; i < nw; i++)
            w[i].threaded = lk_sys_thread_start(&w[i].thread, scan, &w[i]) == 0;
        scan(&w[0]);
        for (i = 1; i < nw; i++) {
            if (w[i].threaded)
                pthread_join(w[i].thread, NULL);
            else
                scan(&w[i]);
        }
        for (i = 0; i < nw && rc == LK_OK; i++)
            rc = w[i].rc;
        for (i = 1; i < nw && rc == LK_OK; i++)
            rc = lk__snap_merge(&w[0].b, &w[i].b);
    }
    free(pids);
    free(mnt_ns);
    if (rc != LK_OK) {
        for (i = 0; i < nw; i++)
            lk_snapshot_free(w[i].b.snap);
        return lk_error_set(err, (lk_code)rc, 0, "cannot walk the processes: %s",
                            lk_code_name((lk_code)rc));
    }
    w[0].b.snap->elevated = geteuid() == 0;
    *out = w[0].b.snap;
    return LK_OK;
}

long lk__proc_parent(long pid, int *kernel)
{
    char path[64];
    long ppid = -1;
    char state;
    unsigned long long ticks;
    int dirfd;
    *kernel = 0;
    if (pid <= 0)
        return -1;
    snprintf(path, sizeof path, "/proc/%ld", pid);
    dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return -1;
    if (lk__linux_stat(dirfd, &ppid, &state, &ticks, NULL, 0) != 0)
        ppid = -1;
    close(dirfd);
    /* kthreadd (2) and its children are the kernel's own threads. */
    *kernel = pid == 2 || ppid == 2;
    return ppid;
}

int lk_sys_proc_same(long pid, uint64_t start_id)
{
    char path[64];
    int dirfd;
    long ppid;
    char state;
    unsigned long long ticks;
    int same;
    if (pid <= 0)
        return 0;
    snprintf(path, sizeof path, "/proc/%ld", pid);
    dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return 0;
    same = lk__linux_stat(dirfd, &ppid, &state, &ticks, NULL, 0) == 0 && ticks == start_id &&
           state != 'Z' && state != 'X';
    close(dirfd);
    return same;
}

/* Reads up to size-1 bytes of a small /proc file. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;
    if (fd < 0)
        return -1;
    n = read(fd, buf, size - 1);
    close(fd);
    if (n >= 0)
        buf[n] = '\0';
    return n;
}

int64_t lk_sys_proc_memory(long pid)
{
    char path[64], buf[1024];
    const char *pss;
    long long kib, pages, shared;
    /* smaps_rollup (Linux 4.14+) sums Pss over the mappings in the kernel. */
    snprintf(path, sizeof path, "/proc/%ld/smaps_rollup", pid);
    if (read_small(path, buf, sizeof buf) > 0 && (pss = strstr(buf, "\nPss:")) != NULL &&
        sscanf(pss + 5, "%lld", &kib) == 1)
        return (int64_t)kib * 1024;
    /* Older kernels: resident minus file-backed shared pages. */
    snprintf(path, sizeof path, "/proc/%ld/statm", pid);
    if (read_small(path, buf, sizeof buf) <= 0 ||
        sscanf(buf, "%*s %lld %lld", &pages, &shared) != 2 || pages < shared)
        return -1;
    return (int64_t)(pages - shared) * sysconf(_SC_PAGESIZE);
}
