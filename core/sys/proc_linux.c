/* Processes on Linux, read from /proc. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

int lk__linux_stat(int dirfd, long *ppid, char *state, unsigned long long *start_ticks,
                   char *comm, size_t comm_size)
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
    p->argv = calloc((size_t)argc + 1, sizeof *p->argv);
    if (!p->argv)
        return;
    for (i = 0; i <= n && p->argc < argc; i++) {
        if (i == n || buf[i] == '\0') {
            p->argv[p->argc++] = strndup(buf + start, (size_t)(i - start));
            start = i + 1;
        }
    }
    for (i = 0; i < n - 1; i++)
        if (buf[i] == '\0')
            buf[i] = ' ';
    p->cmdline = strndup(buf, (size_t)n);
}

static void read_user(int dirfd, lk_proc *p)
{
    char buf[4096];
    char *line;
    if (read_at(dirfd, "status", buf, sizeof buf) <= 0)
        return;
    line = strstr(buf, "\nUid:");
    if (line) {
        uid_t uid = (uid_t)strtoul(line + 5, NULL, 10);
        struct passwd pw, *res = NULL;
        char pwbuf[1024];
        if (getpwuid_r(uid, &pw, pwbuf, sizeof pwbuf, &res) == 0 && res)
            p->user = lk_strdup(pw.pw_name);
        else {
            char num[32];
            snprintf(num, sizeof num, "%lu", (unsigned long)uid);
            p->user = lk_strdup(num);
        }
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

int lk_sys_snapshot(lk_snapshot **out, unsigned what, lk_error *err)
{
    lk_snap_builder b;
    DIR *proc;
    struct dirent *de;
    long long btime = boot_time_s();
    long hz = sysconf(_SC_CLK_TCK);
    int rc;

    *out = NULL;
    if ((rc = lk__snap_begin(&b, err)) != LK_OK)
        return rc;
    b.snap->elevated = geteuid() == 0;
    proc = opendir("/proc");
    if (!proc) {
        lk_snapshot_free(b.snap);
        return lk_error_set(err, LK_EIO, errno, "cannot read /proc: %s", strerror(errno));
    }
    while ((de = readdir(proc)) != NULL) {
        char *end;
        long pid = strtol(de->d_name, &end, 10);
        int pfd;
        long ppid = 0;
        char state = '?';
        unsigned long long ticks = 0;
        char comm[64];
        lk_proc *p;
        size_t idx;

        if (*end || pid <= 0)
            continue;
        pfd = openat(dirfd(proc), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (pfd < 0)
            continue; /* exited between readdir and open: it holds nothing now */
        if (lk__linux_stat(pfd, &ppid, &state, &ticks, comm, sizeof comm) != 0) {
            close(pfd);
            continue;
        }
        p = lk__snap_proc(&b);
        if (!p) {
            close(pfd);
            closedir(proc);
            lk_snapshot_free(b.snap);
            return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
        }
        idx = b.snap->nprocs - 1;
        p->pid = pid;
        p->ppid = ppid;
        p->name = lk_strdup(comm);
        p->start_id = ticks;
        p->start_ms = hz > 0 ? btime * 1000 + (long long)(ticks * 1000ULL / (unsigned long)hz) : 0;
        if (state == 'Z')
            p->flags |= LK_PROC_ZOMBIE;
        /* pid 1 and the kernel's own threads (kthreadd and its children). */
        if (pid == 1 || pid == 2 || ppid == 2)
            p->flags |= LK_PROC_CRITICAL;
        read_cmdline(pfd, p);
        read_user(pfd, p);
        p->exe = read_link_at(pfd, "exe");
        if (p->exe) {
            size_t n = strlen(p->exe);
            if (n > 10 && strcmp(p->exe + n - 10, " (deleted)") == 0)
                p->exe[n - 10] = '\0';
        }
        if ((what & LK_SNAP_HANDLES) && !(p->flags & LK_PROC_ZOMBIE))
            lk__linux_read_holds(&b, idx, pfd);
        close(pfd);
    }
    closedir(proc);
    *out = b.snap;
    return LK_OK;
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

int64_t lk_sys_proc_rss(long pid)
{
    char path[64], buf[256];
    int fd;
    ssize_t n;
    long long pages;
    snprintf(path, sizeof path, "/proc/%ld/statm", pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    /* "size resident shared ...", in pages */
    if (sscanf(buf, "%*s %lld", &pages) != 1)
        return -1;
    return (int64_t)pages * sysconf(_SC_PAGESIZE);
}
