/* Private to core/sys's POSIX files: identities, the mount table, and the
 * descriptor-relative walk under a held folder. */
#ifndef LK_SYS_TREE_POSIX_H
#define LK_SYS_TREE_POSIX_H

#include <stdint.h>
#include <sys/stat.h>

#include "latchkey/sys.h"

/* What a file is, whatever it is called: device, inode, and the mount it is
 * reached through (a bind mount of the same file system has the same device
 * but its own mount id). */
typedef struct lk__fid {
    uint64_t dev, ino, mnt;
    mode_t mode;
    int has_mnt;
    int mount_root, has_mount_root;
} lk__fid;

/* Mount points by path, from /proc/self/mountinfo: for kernels whose statx
 * says nothing of mounts (before 5.8), and for tests
 * (LATCHKEY_FORCE_MOUNTINFO=1 makes the code use this path everywhere). */
typedef struct lk__mounts {
    char **points;
    size_t n;
    int loaded, forced;
} lk__mounts;

void lk__mounts_init(lk__mounts *m);
int lk__mounts_has(lk__mounts *m, const char *path);
void lk__mounts_free(lk__mounts *m);

/* Identity of `name` relative to dirfd (flags: AT_SYMLINK_NOFOLLOW or
 * AT_EMPTY_PATH). path_for_mounts, when given, is the entry's absolute path
 * for the mount table. -1 with errno on failure. */
int lk__fid_of(int dirfd, const char *name, int flags, lk__fid *id, lk__mounts *m,
               const char *path_for_mounts);
/* 1 when child is on another mount than top (or is a mount point). */
int lk__fid_crosses(const lk__fid *top, const lk__fid *child);

typedef enum lk__visit {
    LK__V_FILE,     /* anything that is not a folder: a file, a link, a socket... */
    LK__V_DIR_PRE,  /* a folder about to be entered (return 1 to skip it) */
    LK__V_DIR_POST, /* a folder whose insides have all been visited */
    LK__V_LEFT      /* not entered: a mount point, changed meanwhile, unreadable (err) */
} lk__visit;

/* dfd: the held parent; name: the entry in it; path: its absolute path; st:
 * its lstat (NULL for LK__V_LEFT and LK__V_DIR_POST); err: an errno for LK__V_LEFT
 * (EXDEV: a mount point). Return nonzero from LK__V_DIR_PRE to skip. */
typedef int (*lk__visit_fn)(void *ctx, lk__visit what, int dfd, const char *name,
                            const char *path, const struct stat *st, int err);

enum { LK__WALK_FIX_MODES = 1 }; /* make folders readable and writable to get into them */

/* Depth first under the open folder fd (its insides, not itself); never
 * follows a link, never enters another mount. Returns 0, or -1 out of memory. */
int lk__walk_fd(int fd, const char *path, const lk__fid *top, lk__mounts *m, unsigned flags,
                lk__visit_fn visit, void *ctx);

/* What lstat's mode says an entry is. */
lk_ftype lk__ftype_of(mode_t mode);

/* The held folder's parts, for the walk-based functions. */
int lk__tree_fd(const lk_tree *t);
const lk__fid *lk__tree_fid(const lk_tree *t);
lk__mounts *lk__tree_mounts(lk_tree *t);
/* Removes the held folder from its parent (rmdir) if the name still names
 * it: 0, or an errno (EXDEV when the name now names something else). */
int lk__tree_unlink_self(lk_tree *t);

#endif
