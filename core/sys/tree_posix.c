/* A folder held open for the doctor, on POSIX: the parent resolved once and
 * opened without following a link, the target opened relative to it, and
 * everything afterwards done relative to those descriptors. Nothing here
 * looks a path up twice, follows a symlink, or enters a mount point: a bind
 * mount of the same file system has the same st_dev, so mounts are told by
 * their mount id (statx), or by /proc/self/mountinfo where statx cannot say. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__linux__)
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#endif

#include "latchkey/path.h"
#include "latchkey/sys.h"
#include "sys/tree_posix.h"
#include "util/strv.h"

struct lk_tree {
    int parent;      /* the folder the target is removed from (O_PATH where there is one) */
    int home_parent; /* the parent as opened: it keeps the trash folder */
    int fd;          /* the target, open for reading */
    char *name;      /* the target's name in `parent` */
    char *path;      /* its canonical path, read back from fd */
    lk__fid id;      /* the target's identity */
    lk__mounts mounts;
};

/* ---- identity --------------------------------------------------------------- */

int lk__fid_of(int dirfd, const char *name, int flags, lk__fid *id, lk__mounts *m,
               const char *path_for_mounts)
{
    struct stat st;
    memset(id, 0, sizeof *id);
#if defined(__linux__) && defined(STATX_MNT_ID)
    if (!m || !m->forced) {
        struct statx sx;
        if (statx(dirfd, name, flags | AT_STATX_SYNC_AS_STAT, STATX_TYPE | STATX_INO | STATX_MNT_ID,
                  &sx) == 0) {
            /* As stat's st_dev, so the two can be compared. */
            id->dev = (uint64_t)makedev(sx.stx_dev_major, sx.stx_dev_minor);
            id->ino = sx.stx_ino;
            id->mode = sx.stx_mode;
            if (sx.stx_mask & STATX_MNT_ID) {
                id->mnt = sx.stx_mnt_id;
                id->has_mnt = 1;
            }
#if defined(STATX_ATTR_MOUNT_ROOT)
            if (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) {
                id->mount_root = (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
                id->has_mount_root = 1;
            }
#endif
            if (id->has_mnt && id->has_mount_root)
                return 0;
            goto mountinfo;
        }
        if (errno != ENOSYS && errno != EINVAL)
            return -1;
    }
#endif
    if (fstatat(dirfd, name, &st, flags) != 0)
        return -1;
    id->dev = (uint64_t)st.st_dev;
    id->ino = (uint64_t)st.st_ino;
    id->mode = st.st_mode;
#if defined(__linux__) && defined(STATX_MNT_ID)
mountinfo:
#endif
    /* No mount id from the kernel: a folder is a mount point when the mount
     * table names its path. */
    if (m && path_for_mounts && !id->has_mount_root) {
        id->mount_root = lk__mounts_has(m, path_for_mounts);
        id->has_mount_root = 1;
    }
    return 0;
}

/* The mount an entry is on differs from the tree's own: a mount point inside. */
int lk__fid_crosses(const lk__fid *top, const lk__fid *child)
{
    if (child->dev != top->dev)
        return 1;
    if (top->has_mnt && child->has_mnt && child->mnt != top->mnt)
        return 1;
    return child->has_mount_root && child->mount_root;
}

static int fid_same(const lk__fid *a, const lk__fid *b)
{
    return a->dev == b->dev && a->ino == b->ino && (!a->has_mnt || !b->has_mnt || a->mnt == b->mnt);
}

/* ---- opening ----------------------------------------------------------------- */

/* The canonical path of an open descriptor, or NULL. */
static char *fd_path(int fd)
{
#if defined(__linux__)
    char link[64], buf[PATH_MAX + 1];
    ssize_t n;
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    n = readlink(link, buf, sizeof buf - 1);
    if (n <= 0 || buf[0] != '/')
        return NULL;
    buf[n] = '\0';
    if (n > 10 && strcmp(buf + n - 10, " (deleted)") == 0)
        return NULL;
    return lk_strdup(buf);
#elif defined(F_GETPATH)
    char buf[PATH_MAX + 1];
    if (fcntl(fd, F_GETPATH, buf) != 0 || buf[0] != '/')
        return NULL;
    return lk_strdup(buf);
#else
    (void)fd;
    return NULL;
#endif
}

/* Opens an absolute, canonical folder path without following a link in any
 * component: one openat2 call where the kernel has it, else a walk from "/"
 * one component at a time with O_NOFOLLOW. ELOOP/ENOTDIR: a component is a
 * link (it changed since it was resolved). */
static int open_no_links(const char *abs)
{
    int fd;
    const char *p;
#if defined(__linux__) && defined(SYS_openat2)
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
    how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    fd = (int)syscall(SYS_openat2, AT_FDCWD, abs, &how, sizeof how);
    if (fd >= 0 || (errno != ENOSYS && errno != EPERM && errno != E2BIG && errno != EINVAL))
        return fd;
#endif
#if defined(O_PATH)
    fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
#else
    fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
#endif
    p = abs;
    while (fd >= 0 && *p) {
        char comp[NAME_MAX + 1];
        size_t n;
        int next;
        while (*p == '/')
            p++;
        n = strcspn(p, "/");
        if (n == 0)
            break;
        if (n > NAME_MAX) {
            close(fd);
            errno = ENAMETOOLONG;
            return -1;
        }
        memcpy(comp, p, n);
        comp[n] = '\0';
        p += n;
#if defined(O_PATH)
        next = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
#else
        next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
#endif
        close(fd);
        fd = next;
    }
    return fd;
}

static int open_dir_at(int dirfd, const char *name)
{
    return openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
}

static int tree_fail(lk_tree *t, int rc)
{
    lk_sys_tree_close(t);
    return rc;
}

int lk_sys_tree_open(const char *path, lk_tree **out, lk_error *err)
{
    char *abs = NULL, *dir = NULL, *real_dir = NULL;
    const char *base;
    lk__fid pid;
    lk_tree *t;
    int e;

    *out = NULL;
    if (lk_sys_abspath(path, &abs, err) != LK_OK)
        return err ? err->code : LK_EINVAL;
    base = lk_path_base(abs, 0);
    if (strcmp(abs, "/") == 0 || !*base) {
        free(abs);
        return lk_error_set(err, LK_EREFUSED, 0, "/ is the root of the file system");
    }
    t = calloc(1, sizeof *t);
    if (!t) {
        free(abs);
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    }
    t->parent = t->home_parent = t->fd = -1;
    lk__mounts_init(&t->mounts);
    t->name = lk_strdup(base);
    dir = lk_path_dir(abs, 0);
    /* The parent once, physically: a symlinked parent (/home -> /data/home)
     * is fine, as long as it is resolved now and never again. */
    if (!t->name || !dir) {
        free(abs);
        free(dir);
        return tree_fail(t, lk_error_set(err, LK_ENOMEM, 0, "out of memory"));
    }
    real_dir = realpath(dir, NULL);
    if (!real_dir) {
        e = errno;
        free(dir);
        if (e == ENOENT || e == ENOTDIR) {
            lk_error_set(err, LK_ENOENT, e, "%s does not exist", abs);
            free(abs);
            return tree_fail(t, LK_ENOENT);
        }
        /* Fail closed: a parent we cannot resolve is not checked. */
        lk_error_set(err, LK_EREFUSED, e, "cannot resolve the folder holding %s: %s", abs,
                     strerror(e));
        free(abs);
        return tree_fail(t, LK_EREFUSED);
    }
    free(dir);
    t->parent = open_no_links(real_dir);
    if (t->parent < 0) {
        e = errno;
        lk_error_set(err, e == ENOENT ? LK_ENOENT : LK_EREFUSED, e,
                     e == ELOOP || e == ENOTDIR
                         ? "%s: a folder on the way to it changed into a link while it was opened"
                         : "%s: cannot open the folder holding it: %s",
                     abs, strerror(e));
        free(real_dir);
        free(abs);
        return tree_fail(t, err ? err->code : LK_EREFUSED);
    }
    t->home_parent = dup(t->parent);

    t->fd = open_dir_at(t->parent, t->name);
    if (t->fd < 0 && errno == EACCES) {
        /* Ours but closed to us (mode 000): open it up through the name,
         * which AT_SYMLINK_NOFOLLOW keeps from being a link. */
        struct stat st;
        if (fstatat(t->parent, t->name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode) &&
            fchmodat(t->parent, t->name, st.st_mode | S_IRWXU, AT_SYMLINK_NOFOLLOW) == 0)
            t->fd = open_dir_at(t->parent, t->name);
        else
            errno = EACCES;
    }
    if (t->fd < 0) {
        struct stat st;
        e = errno;
        if (e == ENOENT) {
            lk_error_set(err, LK_ENOENT, e, "%s does not exist", abs);
        } else if (fstatat(t->parent, t->name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                   S_ISLNK(st.st_mode)) {
            lk_error_set(err, LK_EREFUSED, 0,
                         "%s is a link; clean the folder it points to, or delete the link itself",
                         abs);
        } else if (e == ENOTDIR) {
            lk_error_set(err, LK_EINVAL, e, "%s is not a folder", abs);
        } else {
            lk_error_set(err, LK_EREFUSED, e, "cannot open %s: %s", abs, strerror(e));
        }
        free(real_dir);
        free(abs);
        return tree_fail(t, err ? err->code : LK_EIO);
    }
    fcntl(t->fd, F_SETFL, fcntl(t->fd, F_GETFL) & ~O_NONBLOCK);
    t->path = fd_path(t->fd);
    if (!t->path)
        t->path = lk_path_join(real_dir, t->name, 0);
    free(real_dir);
    if (!t->path || lk__fid_of(t->fd, "", AT_EMPTY_PATH, &t->id, &t->mounts, t->path) != 0 ||
        lk__fid_of(t->parent, "", AT_EMPTY_PATH, &pid, &t->mounts, NULL) != 0) {
        e = errno;
        lk_error_set(err, LK_EREFUSED, e, "cannot tell what %s is: %s", abs, strerror(e));
        free(abs);
        return tree_fail(t, LK_EREFUSED);
    }
    if (lk__fid_crosses(&pid, &t->id)) {
        lk_error_set(err, LK_EREFUSED, 0,
                     "%s is a mount point: unmount it first (what is mounted there is not a "
                     "session's to delete)",
                     abs);
        free(abs);
        return tree_fail(t, LK_EREFUSED);
    }
    free(abs);
    *out = t;
    return LK_OK;
}

const char *lk_sys_tree_path(const lk_tree *t)
{
    return t ? t->path : NULL;
}

int lk_sys_tree_check(lk_tree *t, lk_error *err)
{
    lk__fid now;
    char *path;
    if (lk__fid_of(t->parent, t->name, AT_SYMLINK_NOFOLLOW, &now, NULL, NULL) != 0) {
        if (errno == ENOENT)
            return lk_error_set(err, LK_ENOENT, errno, "%s is gone", t->path);
        return lk_error_set(err, LK_EREFUSED, errno, "cannot look at %s again: %s", t->path,
                            strerror(errno));
    }
    if (S_ISLNK(now.mode))
        return lk_error_set(err, LK_EREFUSED, 0,
                            "%s was replaced by a link while its holders were ended; nothing was "
                            "deleted",
                            t->path);
    if (!fid_same(&now, &t->id))
        return lk_error_set(err, LK_EREFUSED, 0,
                            "%s was replaced by another folder while its holders were ended; "
                            "nothing was deleted",
                            t->path);
    /* Same folder; is it still where it was? A parent renamed away (and a
     * link put in its place) leaves our handles on the real folder, but the
     * report would name a path that now means something else. */
    path = fd_path(t->fd);
    if (path && !lk_path_equal(path, t->path, 0)) {
        lk_error_set(err, LK_EREFUSED, 0,
                     "%s was moved to %s while its holders were ended; nothing was deleted",
                     t->path, path);
        free(path);
        return LK_EREFUSED;
    }
    free(path);
    return LK_OK;
}

void lk_sys_tree_close(lk_tree *t)
{
    if (!t)
        return;
    if (t->fd >= 0)
        close(t->fd);
    if (t->parent >= 0)
        close(t->parent);
    if (t->home_parent >= 0)
        close(t->home_parent);
    lk__mounts_free(&t->mounts);
    free(t->name);
    free(t->path);
    free(t);
}

int lk__tree_fd(const lk_tree *t)
{
    return t->fd;
}

const lk__fid *lk__tree_fid(const lk_tree *t)
{
    return &t->id;
}

lk__mounts *lk__tree_mounts(lk_tree *t)
{
    return &t->mounts;
}

/* ---- single entries --------------------------------------------------------------- */

lk_ftype lk_sys_tree_entry(lk_tree *t, const char *name)
{
    struct stat st;
    if (!name || strchr(name, '/') || fstatat(t->fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return LK_FT_NONE;
    return lk__ftype_of(st.st_mode);
}

int lk_sys_tree_unlink(lk_tree *t, const char *name, lk_error *err)
{
    lk_ftype ft;
    if (!name || !*name || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return lk_error_set(err, LK_EINVAL, 0, "not a name: %s", name ? name : "(null)");
    ft = lk_sys_tree_entry(t, name);
    if (ft == LK_FT_NONE)
        return LK_OK;
    if (ft == LK_FT_DIR)
        return lk_error_set(err, LK_EINVAL, 0, "%s/%s is a folder, not a file", t->path, name);
    if (unlinkat(t->fd, name, 0) == 0 || errno == ENOENT)
        return LK_OK;
    return lk_error_set(err, errno == EACCES || errno == EPERM ? LK_EACCES : LK_EIO, errno,
                        "cannot remove %s/%s: %s", t->path, name, strerror(errno));
}

int lk_sys_tree_move_aside(lk_tree *t, const char *trash, const char *name, char **moved_to,
                           lk_error *err)
{
    int tfd, rc;
    char *path;
    *moved_to = NULL;
    if (!trash || strchr(trash, '/') || !name || strchr(name, '/'))
        return lk_error_set(err, LK_EINVAL, 0, "not a name");
    if ((rc = lk_sys_tree_check(t, err)) != LK_OK)
        return rc;
    if (mkdirat(t->home_parent, trash, 0700) != 0 && errno != EEXIST)
        return lk_error_set(err, LK_EIO, errno, "cannot create %s: %s", trash, strerror(errno));
    /* The trash is ours only if it is a plain folder: never a link. */
    tfd = openat(t->home_parent, trash, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (tfd < 0)
        return lk_error_set(err, LK_EREFUSED, errno, "%s next to %s is not a plain folder (%s)",
                            trash, t->path, strerror(errno));
#if defined(__linux__) && defined(RENAME_NOREPLACE)
    rc = renameat2(t->parent, t->name, tfd, name, RENAME_NOREPLACE);
#else
    rc = faccessat(tfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0 ? (errno = EEXIST, -1)
                                                               : renameat(t->parent, t->name, tfd, name);
#endif
    if (rc != 0) {
        int e = errno;
        close(tfd);
        return lk_error_set(err, e == EBUSY ? LK_EBUSY : LK_EIO, e, "cannot move %s aside: %s",
                            t->path, strerror(e));
    }
    path = fd_path(t->fd);
    if (!path) {
        char *tp = fd_path(tfd);
        path = tp ? lk_path_join(tp, name, 0) : NULL;
        free(tp);
    }
    if (t->parent != t->home_parent)
        close(t->parent);
    t->parent = tfd;
    free(t->name);
    t->name = lk_strdup(name);
    if (path) {
        free(t->path);
        t->path = path;
    }
    *moved_to = lk_strdup(t->path);
    return t->name && *moved_to ? LK_OK : lk_error_set(err, LK_ENOMEM, 0, "out of memory");
}

void lk_sys_tree_drop_trash(lk_tree *t, const char *trash)
{
    /* rmdir, not a tree removal: older quarantined sessions stay. */
    if (trash && !strchr(trash, '/'))
        unlinkat(t->home_parent, trash, AT_REMOVEDIR);
}

int lk__tree_unlink_self(lk_tree *t)
{
    lk__fid now;
    if (lk__fid_of(t->parent, t->name, AT_SYMLINK_NOFOLLOW, &now, NULL, NULL) != 0)
        return errno == ENOENT ? 0 : errno;
    if (S_ISLNK(now.mode) || !fid_same(&now, &t->id))
        return EXDEV; /* not ours any more: leave it */
    if (unlinkat(t->parent, t->name, AT_REMOVEDIR) == 0 || errno == ENOENT)
        return 0;
    return errno;
}
