/* What one Linux process holds: fds, cwd, root, exe and file-backed mappings. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sys/linux_proc.h"
#include "util/strv.h"

static char *clean_path(const char *raw, size_t n)
{
    /* The kernel marks unlinked files; they still hold their old place. */
    if (n > 10 && memcmp(raw + n - 10, " (deleted)", 10) == 0)
        n -= 10;
    return strndup(raw, n);
}

static int add_link(lk_snap_builder *b, size_t idx, int dirfd, const char *name, lk_how how)
{
    char buf[4096 + 16];
    ssize_t n = readlinkat(dirfd, name, buf, sizeof buf - 1);
    if (n <= 0)
        return errno ? errno : EIO;
    if (buf[0] != '/')
        return 0; /* socket:[..], pipe:[..], anon_inode:.. */
    return lk__snap_open(b, idx, how, clean_path(buf, (size_t)n)) == LK_OK ? 0 : ENOMEM;
}

static void read_maps(lk_snap_builder *b, size_t idx, int dirfd)
{
    int fd = openat(dirfd, "maps", O_RDONLY | O_CLOEXEC);
    FILE *f;
    char line[4608];
    char last[4096] = "";
    if (fd < 0)
        return;
    f = fdopen(fd, "r");
    if (!f) {
        close(fd);
        return;
    }
    while (fgets(line, sizeof line, f)) {
        char *path = strchr(line, '/');
        size_t n;
        if (!path)
            continue;
        n = strcspn(path, "\n");
        path[n] = '\0';
        /* Maps of one file come in runs; keep one entry per run. */
        if (strcmp(path, last) == 0)
            continue;
        snprintf(last, sizeof last, "%s", path);
        lk__snap_open(b, idx, LK_HOW_MAP, clean_path(path, n));
    }
    fclose(f);
}

void lk__linux_read_holds(lk_snap_builder *b, size_t idx, int dirfd)
{
    const lk_proc *p = &b->snap->procs[idx];
    int fdir = openat(dirfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d;
    struct dirent *de;

    if (fdir < 0) {
        int e = errno;
        lk__snap_blind(b, p->pid, p->name,
                       e == EACCES || e == EPERM ? "permission denied (run as root to see it)"
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
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        errno = 0;
        add_link(b, idx, fdir, de->d_name, LK_HOW_FILE);
    }
    closedir(d);
    add_link(b, idx, dirfd, "cwd", LK_HOW_CWD);
    add_link(b, idx, dirfd, "root", LK_HOW_ROOT);
    add_link(b, idx, dirfd, "exe", LK_HOW_EXE);
    read_maps(b, idx, dirfd);
}
