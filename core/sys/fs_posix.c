/* Files on POSIX: canonical paths, guard-rail facts, and a tree remover that
 * never follows a symlink and never leaves its file system. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "latchkey/path.h"
#include "latchkey/sys.h"
#include "util/strv.h"

int lk_sys_realpath(const char *path, char **out, lk_error *err)
{
    char *r = realpath(path, NULL);
    if (!r)
        return lk_error_set(err,
                            errno == ENOENT   ? LK_ENOENT
                            : errno == EACCES ? LK_EACCES
                                              : LK_EIO,
                            errno, "%s: %s", path, strerror(errno));
    *out = r;
    return LK_OK;
}

int lk_sys_abspath(const char *path, char **out, lk_error *err)
{
    char *joined;
    if (!path || !*path)
        return lk_error_set(err, LK_EINVAL, 0, "empty path");
    if (path[0] == '/') {
        joined = lk_strdup(path);
    } else {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd))
            return lk_error_set(err, LK_EIO, errno, "cannot read the current folder: %s",
                                strerror(errno));
        joined = lk_path_join(cwd, path, 0);
    }
    if (!joined)
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    *out = lk_path_normalize(joined, 0);
    free(joined);
    if (!*out)
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    return LK_OK;
}

lk_ftype lk_sys_ftype(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return LK_FT_NONE;
    if (S_ISLNK(st.st_mode))
        return LK_FT_LINK;
    if (S_ISDIR(st.st_mode))
        return LK_FT_DIR;
    if (S_ISREG(st.st_mode))
        return LK_FT_FILE;
    return LK_FT_OTHER;
}

/* Failures that can pass: a dying process still writing (ENOTEMPTY), a busy
 * mount. Permission errors on POSIX do not pass by waiting. */
static int retryable(int e)
{
    return e == EBUSY || e == ENOTEMPTY || e == ETXTBSY || e == EEXIST;
}

static void note_left(lk_remove_pass *pass, size_t *cap, const char *dir, const char *name, int e)
{
    char **slot = lk_push(&pass->left, &pass->nleft, cap, sizeof(char *));
    if (slot)
        *slot = name ? lk_path_join(dir, name, 0) : lk_strdup(dir);
    if (!retryable(e))
        pass->retryable = 0;
    pass->last_sys = e;
}

typedef struct frame {
    DIR *dir;
    char *path;
} frame;

/* Removes one entry of an open directory; returns errno or 0. A directory is
 * made writable first so its entries can go (the POSIX read-only case). */
static int unlink_entry(int dfd, const char *name, int is_dir)
{
    if (unlinkat(dfd, name, is_dir ? AT_REMOVEDIR : 0) == 0 || errno == ENOENT)
        return 0;
    return errno;
}

int lk_sys_remove_tree_once(const char *path, lk_remove_pass *pass, lk_error *err)
{
    struct stat top;
    frame *stack = NULL;
    size_t depth = 0, cap = 0, left_cap = 0;
    int fd;

    memset(pass, 0, sizeof *pass);
    pass->retryable = 1;
    if (lstat(path, &top) != 0) {
        if (errno == ENOENT)
            return LK_OK;
        return lk_error_set(err, LK_EIO, errno, "%s: %s", path, strerror(errno));
    }
    if (!S_ISDIR(top.st_mode)) {
        if (unlink(path) == 0 || errno == ENOENT) {
            pass->removed++;
            return LK_OK;
        }
        note_left(pass, &left_cap, path, NULL, errno);
        return lk_error_set(err, LK_EBUSY, errno, "%s: %s", path, strerror(errno));
    }
    fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == EACCES && chmod(path, top.st_mode | S_IRWXU) == 0)
        fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        note_left(pass, &left_cap, path, NULL, errno);
        return lk_error_set(err, LK_EACCES, errno, "%s: %s", path, strerror(errno));
    }
    if (!(top.st_mode & S_IWUSR))
        fchmod(fd, top.st_mode | S_IRWXU);
    {
        frame *f = lk_push(&stack, &depth, &cap, sizeof *stack);
        if (!f || !(f->dir = fdopendir(fd)) || !(f->path = lk_strdup(path))) {
            if (f && f->dir)
                closedir(f->dir);
            else
                close(fd);
            free(stack);
            return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
        }
    }
    while (depth > 0) {
        frame *f = &stack[depth - 1];
        int dfd = dirfd(f->dir);
        struct dirent *de;
        struct stat st;

        errno = 0;
        de = readdir(f->dir);
        if (!de) {
            /* Directory done: close it and remove it from its parent. */
            char *done = f->path;
            closedir(f->dir);
            depth--;
            if (depth == 0) {
                if (rmdir(done) == 0 || errno == ENOENT)
                    pass->removed++;
                else
                    note_left(pass, &left_cap, done, NULL, errno);
            } else {
                int e = unlink_entry(dirfd(stack[depth - 1].dir), lk_path_base(done, 0), 1);
                if (e == 0)
                    pass->removed++;
                else
                    note_left(pass, &left_cap, done, NULL, e);
            }
            free(done);
            continue;
        }
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno != ENOENT)
                note_left(pass, &left_cap, f->path, de->d_name, errno);
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            int cfd;
            frame *child;
            char *cpath;
            if (st.st_dev != top.st_dev) {
                /* A mount point: what is mounted there is not ours to delete. */
                note_left(pass, &left_cap, f->path, de->d_name, EXDEV);
                continue;
            }
            if (!(st.st_mode & S_IWUSR) || !(st.st_mode & S_IXUSR))
                fchmodat(dfd, de->d_name, st.st_mode | S_IRWXU, 0);
            cfd = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (cfd < 0) {
                note_left(pass, &left_cap, f->path, de->d_name, errno);
                continue;
            }
            cpath = lk_path_join(f->path, de->d_name, 0);
            child = lk_push(&stack, &depth, &cap, sizeof *stack);
            if (!cpath || !child || !(child->dir = fdopendir(cfd))) {
                close(cfd);
                free(cpath);
                if (child)
                    depth--;
                note_left(pass, &left_cap, f->path, de->d_name, ENOMEM);
                continue;
            }
            child->path = cpath;
            continue;
        }
        /* Files, symlinks (the link itself), sockets, fifos. */
        {
            int e = unlink_entry(dfd, de->d_name, 0);
            if (e == 0)
                pass->removed++;
            else
                note_left(pass, &left_cap, f->path, de->d_name, e);
        }
    }
    free(stack);
    if (pass->nleft == 0)
        return LK_OK;
    return lk_error_set(err, LK_EBUSY, pass->last_sys, "%zu entries could not be removed (%s)",
                        pass->nleft, strerror(pass->last_sys));
}

int lk_sys_rename(const char *from, const char *to, lk_error *err)
{
    if (rename(from, to) == 0)
        return LK_OK;
    return lk_error_set(err, retryable(errno) ? LK_EBUSY : LK_EIO, errno,
                        "cannot move %s to %s: %s", from, to, strerror(errno));
}

int lk_sys_mkdir(const char *path, lk_error *err)
{
    if (mkdir(path, 0700) == 0 || (errno == EEXIST && lk_sys_ftype(path) == LK_FT_DIR))
        return LK_OK;
    return lk_error_set(err, LK_EIO, errno, "cannot create %s: %s", path, strerror(errno));
}

int lk_sys_remove_on_reboot(const char *path, lk_error *err)
{
    return lk_error_set(err, LK_ENOTSUP, 0,
                        "removal at reboot is a Windows feature; nothing on this system locks "
                        "files against deletion");
}

int lk_sys_is_fs_root(const char *abspath)
{
    struct stat st, parent;
    char *dir;
    int root;
    if (strcmp(abspath, "/") == 0)
        return 1;
    if (stat(abspath, &st) != 0)
        return 0;
    dir = lk_path_dir(abspath, 0);
    root = dir && stat(dir, &parent) == 0 && parent.st_dev != st.st_dev;
    free(dir);
    return root; /* a mount point is the root of a file system */
}

int lk_sys_is_system_dir(const char *abspath)
{
    /* These and everything under them belong to the OS. */
    static const char *const whole[] = {
        "/bin",    "/boot",    "/dev",          "/etc",         "/lib",           "/lib32",
        "/lib64",  "/libx32",  "/proc",         "/sbin",        "/sys",           "/usr",
        "/System", "/Library", "/Applications", "/private/etc", "/private/var/db"};
    /* These themselves (not what lies under them). */
    static const char *const exact[] = {"/",
                                        "/home",
                                        "/root",
                                        "/tmp",
                                        "/var",
                                        "/var/tmp",
                                        "/var/lib",
                                        "/opt",
                                        "/srv",
                                        "/mnt",
                                        "/media",
                                        "/run",
                                        "/Users",
                                        "/Volumes",
                                        "/private",
                                        "/private/tmp",
                                        "/private/var",
                                        "/private/var/folders",
                                        "/private/var/tmp"};
    size_t i;
    for (i = 0; i < sizeof whole / sizeof *whole; i++)
        if (lk_path_within(whole[i], abspath, 0))
            return 1;
    for (i = 0; i < sizeof exact / sizeof *exact; i++)
        if (lk_path_equal(exact[i], abspath, 0))
            return 1;
    return 0;
}

char *lk_sys_home_dir(void)
{
    const char *h = getenv("HOME");
    struct passwd pw, *res = NULL;
    char buf[1024];
    if (h && h[0] == '/')
        return lk_strdup(h);
    if (getpwuid_r(getuid(), &pw, buf, sizeof buf, &res) == 0 && res)
        return lk_strdup(pw.pw_dir);
    return NULL;
}

char *lk_sys_hostname(void)
{
    char buf[256];
    if (gethostname(buf, sizeof buf) != 0)
        return NULL;
    buf[sizeof buf - 1] = '\0';
    return lk_strdup(buf);
}

size_t lk_sys_profile_locks(const char *profile, lk_lock_info *out, size_t max)
{
    char *lock;
    char target[512];
    ssize_t n;
    char *dash;
    if (max == 0)
        return 0;
    lock = lk_path_join(profile, "SingletonLock", 0);
    if (!lock)
        return 0;
    n = readlink(lock, target, sizeof target - 1);
    if (n < 0) {
        free(lock);
        return 0;
    }
    target[n] = '\0';
    memset(&out[0], 0, sizeof out[0]);
    out[0].file = lock;
    /* "hostname-pid": the host may contain dashes, the pid is after the last. */
    dash = strrchr(target, '-');
    if (dash) {
        out[0].owner_pid = strtol(dash + 1, NULL, 10);
        *dash = '\0';
    }
    out[0].host = lk_strdup(target);
    return 1;
}

int lk_sys_list_dir(const char *path, char ***names, size_t *n, lk_error *err)
{
    DIR *d = opendir(path);
    struct dirent *de;
    size_t cap = 0;
    *names = NULL;
    *n = 0;
    if (!d)
        return lk_error_set(err, errno == ENOENT ? LK_ENOENT : LK_EACCES, errno, "%s: %s", path,
                            strerror(errno));
    while ((de = readdir(d)) != NULL) {
        char **slot;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        slot = lk_push(names, n, &cap, sizeof *slot);
        if (!slot)
            break;
        *slot = lk_strdup(de->d_name);
    }
    closedir(d);
    return LK_OK;
}

char *lk_sys_data_dir(void)
{
    const char *xdg = getenv("XDG_DATA_HOME");
    char *home, *dir;
    if (xdg && xdg[0] == '/')
        return lk_strdup(xdg);
    home = lk_sys_home_dir();
    if (!home)
        return NULL;
#if defined(__APPLE__)
    dir = lk_path_join(home, "Library/Application Support", 0);
#else
    dir = lk_path_join(home, ".local/share", 0);
#endif
    free(home);
    return dir;
}
