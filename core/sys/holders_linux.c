/* What one Linux process holds: fds, cwd, root, exe and file-backed mappings. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "sys/linux_proc.h"
#include "util/strv.h"

typedef struct holds {
    lk_snap_builder *b;
    size_t idx;
    int other_ns; /* its paths are its namespace's: record what each one is */
    int denied; /* something could not be read for lack of permission */
    int other;  /* errno of another failure, 0 when none */
} holds;

static char *clean_path(const char *raw, size_t n)
{
    /* The kernel marks unlinked files; they still hold their old place. */
    if (n > 10 && memcmp(raw + n - 10, " (deleted)", 10) == 0)
        n -= 10;
    return strndup(raw, n);
}

static void failed(holds *h, int e)
{
    if (e == EACCES || e == EPERM)
        h->denied = 1;
    else if (e != ENOENT)
        h->other = e; /* ENOENT: the fd was closed meanwhile; nothing held */
}

static void add_path(holds *h, const char *path, size_t n, lk_how how, uint64_t dev,
                     uint64_t ino)
{
    if (path[0] == '/') /* not socket:[..], pipe:[..], anon_inode:.. */
        lk__snap_open_id(h->b, h->idx, how, clean_path(path, n), dev, ino);
}

static void add_link(holds *h, int dirfd, const char *name, lk_how how)
{
    char buf[4096 + 16];
    struct stat st;
    ssize_t n = readlinkat(dirfd, name, buf, sizeof buf - 1);
    if (n <= 0) {
        /* A live process always has a cwd and a root: without them it has
         * exited while we read it. */
        failed(h, errno == ENOENT && (how == LK_HOW_CWD || how == LK_HOW_ROOT) ? ESRCH : errno);
        return;
    }
    if (h->other_ns && buf[0] == '/') {
        /* stat through the magic link reaches the object itself, whatever
         * its path means in the namespace it was opened in. */
        if (fstatat(dirfd, name, &st, 0) == 0)
            add_path(h, buf, (size_t)n, how, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
        else
            failed(h, errno);
        return;
    }
    add_path(h, buf, (size_t)n, how, 0, 0);
}

/* One line of maps: keep its path, once per run of mappings of one file. */
static void map_line(holds *h, char *line, size_t len, char *last, size_t last_size)
{
    char *path = memchr(line, '/', len);
    unsigned int major = 0, minor = 0;
    unsigned long long ino = 0;
    size_t n;
    if (!path)
        return;
    n = (size_t)(line + len - path);
    path[n] = '\0';
    if (strcmp(path, last) == 0)
        return;
    snprintf(last, last_size, "%s", path);
    /* "start-end perms offset major:minor inode path": the line names the
     * object too, which is what counts in another mount namespace. */
    if (h->other_ns && sscanf(line, "%*s %*s %*s %x:%x %llu", &major, &minor, &ino) == 3)
        add_path(h, path, n, LK_HOW_MAP, (uint64_t)makedev(major, minor), (uint64_t)ino);
    else
        add_path(h, path, n, LK_HOW_MAP, 0, 0);
}

static void read_maps_text(holds *h, int fd)
{
    /* Plain reads into one buffer: stdio would cost a dup, an fstat and a
     * small buffer per process, and this runs for every process there is. */
    char buf[32768 + 1];
    char last[4096] = "";
    size_t have = 0;
    for (;;) {
        ssize_t n = read(fd, buf + have, sizeof buf - 1 - have);
        char *line, *nl;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            failed(h, errno);
            return;
        }
        have += (size_t)n;
        line = buf;
        while ((nl = memchr(line, '\n', (size_t)(buf + have - line))) != NULL) {
            map_line(h, line, (size_t)(nl - line), last, sizeof last);
            line = nl + 1;
        }
        have -= (size_t)(line - buf);
        memmove(buf, line, have);
        if (n == 0 || have == sizeof buf - 1) {
            /* The end, or a line longer than the buffer: take what there is. */
            if (have)
                map_line(h, buf, have, last, sizeof last);
            if (n == 0)
                return;
            have = 0;
        }
    }
}

static void read_maps(holds *h, int dirfd)
{
    int fd = openat(dirfd, "maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        failed(h, errno == ENOENT ? ESRCH : errno); /* as for cwd: it has exited */
        return;
    }
    /* Text beats PROCMAP_QUERY here: one read per page of VMAs against one
     * ioctl per VMA, and the kernel writes each path once either way. */
    read_maps_text(h, fd);
    close(fd);
}

static const char *denied_reason(int partly)
{
    if (geteuid() == 0)
        return partly ? "permission denied reading some of what it holds, even as root"
                      : "permission denied, even as root";
    return partly ? "permission denied reading some of what it holds (run as root to see it)"
                  : "permission denied (run as root to see it)";
}

void lk__linux_read_holds(lk_snap_builder *b, size_t idx, int dirfd)
{
    const lk_proc *p = &b->snap->procs[idx];
    holds h = {b, idx, (p->flags & LK_PROC_OTHER_NS) != 0, 0, 0};
    int fdir = openat(dirfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d;
    struct dirent *de;

    if (fdir < 0) {
        int e = errno;
        lk__snap_blind(b, p->pid, p->name,
                       e == EACCES || e == EPERM ? denied_reason(0)
                       : e == ENOENT             ? "exited during the scan"
                                                 : strerror(e));
        return;
    }
    d = fdopendir(fdir);
    if (!d) {
        close(fdir);
        lk__snap_blind(b, p->pid, p->name, strerror(errno));
        return;
    }
    /* Access to the links is decided per process (ptrace rules): once one
     * is denied, the rest are too, and the process is reported as such. */
    while (!h.denied && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        add_link(&h, fdir, de->d_name, LK_HOW_FILE);
    }
    closedir(d);
    add_link(&h, dirfd, "cwd", LK_HOW_CWD);
    add_link(&h, dirfd, "root", LK_HOW_ROOT);
    if (p->exe && !h.other_ns)
        lk__snap_open(b, idx, LK_HOW_EXE, lk_strdup(p->exe));
    else
        add_link(&h, dirfd, "exe", LK_HOW_EXE); /* records why it was unreadable */
    read_maps(&h, dirfd);
    /* Listing the fds is not enough: every link must have been readable. */
    if (h.denied)
        lk__snap_blind(b, p->pid, p->name, denied_reason(1));
    else if (h.other == ESRCH)
        lk__snap_blind(b, p->pid, p->name, "exited during the scan");
    else if (h.other)
        lk__snap_blind(b, p->pid, p->name, strerror(h.other));
}
