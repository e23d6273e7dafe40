/* Under a held folder, on POSIX: the descriptor-relative walk, and what is
 * built on it (removal, what a delete would lose, identities). Every entry
 * is looked at through its parent's descriptor, every folder entered is
 * opened with O_NOFOLLOW and checked to be the very folder that was looked
 * at, and on the same mount as the top. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "latchkey/path.h"
#include "latchkey/sys.h"
#include "sys/tree_posix.h"
#include "util/strv.h"

#define LK_MOUNTINFO_MAX (16u << 20)

/* ---- the mount table ----------------------------------------------------------- */

void lk__mounts_init(lk__mounts *m)
{
    const char *f = getenv("LATCHKEY_FORCE_MOUNTINFO");
    memset(m, 0, sizeof *m);
    m->forced = f && strcmp(f, "1") == 0;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static char *unescape(const char *s, size_t n)
{
    char *out = malloc(n + 1), *o = out;
    size_t i;
    if (!out)
        return NULL;
    for (i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 3 < n + 1 && s[i + 1] >= '0' && s[i + 1] <= '3' &&
            s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
            *o++ = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
            i += 3;
        } else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

static void mounts_load(lk__mounts *m)
{
    size_t cap = 0, len = 0, pcap = 0;
    char *buf = NULL, *line;
    int fd;
    m->loaded = 1;
    fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    for (;;) {
        ssize_t r;
        if (len + 4096 + 1 > cap) {
            char *grown;
            if (cap >= LK_MOUNTINFO_MAX)
                break;
            cap = cap ? cap * 2 : 65536;
            grown = realloc(buf, cap);
            if (!grown)
                break;
            buf = grown;
        }
        r = read(fd, buf + len, cap - len - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    if (!buf)
        return;
    buf[len] = '\0';
    /* "id parent major:minor root mount-point options ...": the fifth field. */
    for (line = buf; line && *line;) {
        char *nl = strchr(line, '\n'), *p = line, **slot;
        int field;
        size_t n;
        if (nl)
            *nl = '\0';
        for (field = 0; field < 4 && p; field++) {
            p = strchr(p, ' ');
            if (p)
                p++;
        }
        if (p) {
            n = strcspn(p, " ");
            slot = lk_push(&m->points, &m->n, &pcap, sizeof *slot);
            if (slot)
                *slot = unescape(p, n);
        }
        line = nl ? nl + 1 : NULL;
    }
    free(buf);
}

int lk__mounts_has(lk__mounts *m, const char *path)
{
    size_t i;
    if (!m->loaded)
        mounts_load(m);
    for (i = 0; i < m->n; i++)
        if (m->points[i] && lk_path_equal(m->points[i], path, 0))
            return 1;
    return 0;
}

void lk__mounts_free(lk__mounts *m)
{
    size_t i;
    for (i = 0; i < m->n; i++)
        free(m->points[i]);
    free(m->points);
    memset(m, 0, sizeof *m);
}

/* ---- the walk ------------------------------------------------------------------- */

typedef struct frame {
    DIR *dir;
    char *path;
    char *name; /* its name in the folder below it on the stack */
} frame;

/* Opens the folder `name` of dfd, checked: the same object lstat saw, and
 * on the top's mount. Returns the descriptor, or -1 with *why an errno
 * (EXDEV: a mount point; ESTALE: it changed in between). */
static int enter(int dfd, const char *name, const char *path, const struct stat *st,
                 const lk__fid *top, lk__mounts *m, unsigned flags, int *why)
{
    lk__fid id;
    int fd;
    if ((flags & LK__WALK_FIX_MODES) && (st->st_mode & S_IRWXU) != S_IRWXU)
        /* AT_SYMLINK_NOFOLLOW: a link swapped in meanwhile is not changed. */
        fchmodat(dfd, name, (st->st_mode & 07777) | S_IRWXU, AT_SYMLINK_NOFOLLOW);
    fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        *why = errno == ELOOP || errno == ENOTDIR ? ESTALE : errno;
        return -1;
    }
    if (lk__fid_of(fd, "", AT_EMPTY_PATH, &id, m, path) != 0) {
        *why = errno;
        close(fd);
        return -1;
    }
    if (id.ino != (uint64_t)st->st_ino || id.dev != (uint64_t)st->st_dev) {
        *why = ESTALE;
        close(fd);
        return -1;
    }
    if (lk__fid_crosses(top, &id)) {
        *why = EXDEV;
        close(fd);
        return -1;
    }
    return fd;
}

static void frames_free(frame *st, size_t n)
{
    while (n-- > 0) {
        closedir(st[n].dir);
        free(st[n].path);
        free(st[n].name);
    }
    free(st);
}

int lk__walk_fd(int fd, const char *path, const lk__fid *top, lk__mounts *m, unsigned flags,
                lk__visit_fn visit, void *ctx)
{
    frame *stack = NULL, *f;
    size_t depth = 0, cap = 0;
    int own = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (own < 0)
        return visit(ctx, LK__V_LEFT, fd, ".", path, NULL, errno), 0;
    f = lk_push(&stack, &depth, &cap, sizeof *f);
    if (!f || !(f->path = lk_strdup(path)) || !(f->dir = fdopendir(own))) {
        if (f && f->dir)
            closedir(f->dir);
        else
            close(own);
        if (f)
            free(f->path);
        free(stack);
        return -1;
    }
    while (depth > 0) {
        struct dirent *de;
        struct stat st;
        char *cpath;
        int dfd, cfd, why = 0;
        f = &stack[depth - 1];
        dfd = dirfd(f->dir);
        errno = 0;
        de = readdir(f->dir);
        if (!de) {
            char *done = f->path, *name = f->name;
            closedir(f->dir);
            depth--;
            if (depth > 0)
                visit(ctx, LK__V_DIR_POST, dirfd(stack[depth - 1].dir), name, done, NULL, 0);
            free(done);
            free(name);
            continue;
        }
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        cpath = lk_path_join(f->path, de->d_name, 0);
        if (!cpath) {
            frames_free(stack, depth);
            return -1;
        }
        if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno != ENOENT)
                visit(ctx, LK__V_LEFT, dfd, de->d_name, cpath, NULL, errno);
            free(cpath);
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            visit(ctx, LK__V_FILE, dfd, de->d_name, cpath, &st, 0);
            free(cpath);
            continue;
        }
        if (visit(ctx, LK__V_DIR_PRE, dfd, de->d_name, cpath, &st, 0)) {
            free(cpath);
            continue;
        }
        cfd = enter(dfd, de->d_name, cpath, &st, top, m, flags, &why);
        if (cfd < 0) {
            if (why != ENOENT)
                visit(ctx, LK__V_LEFT, dfd, de->d_name, cpath, NULL, why);
            free(cpath);
            continue;
        }
        f = lk_push(&stack, &depth, &cap, sizeof *f);
        if (!f || !(f->dir = fdopendir(cfd)) || !(f->name = lk_strdup(de->d_name))) {
            if (f && f->dir)
                closedir(f->dir);
            else
                close(cfd);
            if (f)
                depth--;
            free(cpath);
            frames_free(stack, depth);
            return -1;
        }
        f->path = cpath;
    }
    free(stack);
    return 0;
}

/* ---- removal ---------------------------------------------------------------------- */

/* Failures that can pass: a dying process still writing (ENOTEMPTY), a busy
 * mount. Permission errors on POSIX do not pass by waiting. */
static int retryable(int e)
{
    return e == EBUSY || e == ENOTEMPTY || e == ETXTBSY || e == EEXIST;
}

static const char *why_words(int e)
{
    switch (e) {
    case EXDEV: return "a mount point: unmount it first";
    case ESTALE: return "it changed while it was being removed (left alone)";
    case EBUSY: return "busy";
    case ENOTEMPTY: return "something is still writing into it";
    case EACCES: return "permission denied";
    case EPERM: return "not permitted (immutable or append-only?)";
    case EROFS: return "on a read-only file system";
    default: return strerror(e);
    }
}

typedef struct rm_ctx {
    lk_remove_pass *pass;
    size_t cap_left, cap_why;
} rm_ctx;

static void note_left(rm_ctx *c, const char *path, int e)
{
    lk_remove_pass *p = c->pass;
    size_t nwhy = p->nleft;
    char **why = lk_push(&p->why, &nwhy, &c->cap_why, sizeof *why);
    char **slot = why ? lk_push(&p->left, &p->nleft, &c->cap_left, sizeof *slot) : NULL;
    if (!slot)
        return;
    *slot = lk_strdup(path);
    *why = lk_strdup(why_words(e));
    if (e == EXDEV)
        p->boundary = 1;
    if (!retryable(e))
        p->retryable = 0;
    p->last_sys = e;
}

static int rm_visit(void *ctx, lk__visit what, int dfd, const char *name, const char *path,
                    const struct stat *st, int err)
{
    rm_ctx *c = ctx;
    (void)st;
    switch (what) {
    case LK__V_FILE:
        if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT)
            c->pass->removed++;
        else
            note_left(c, path, errno);
        return 0;
    case LK__V_DIR_POST:
        if (unlinkat(dfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
            c->pass->removed++;
        else if (errno != ENOTEMPTY || c->pass->nleft == 0)
            note_left(c, path, errno); /* not empty because of what is left: said already */
        return 0;
    case LK__V_LEFT:
        note_left(c, path, err);
        return 0;
    case LK__V_DIR_PRE:
        return 0;
    }
    return 0;
}

int lk_sys_tree_remove_once(lk_tree *t, lk_remove_pass *pass, lk_error *err)
{
    rm_ctx c;
    struct stat st;
    int e, rc;
    memset(pass, 0, sizeof *pass);
    pass->retryable = 1;
    memset(&c, 0, sizeof c);
    c.pass = pass;
    if ((rc = lk_sys_tree_check(t, err)) != LK_OK)
        return rc == LK_ENOENT ? LK_OK : rc;
    if (fstat(lk__tree_fd(t), &st) == 0 && (st.st_mode & S_IRWXU) != S_IRWXU)
        fchmod(lk__tree_fd(t), (st.st_mode & 07777) | S_IRWXU);
    if (lk__walk_fd(lk__tree_fd(t), lk_sys_tree_path(t), lk__tree_fid(t), lk__tree_mounts(t),
                    LK__WALK_FIX_MODES, rm_visit, &c) != 0)
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    if (pass->nleft == 0) {
        e = lk__tree_unlink_self(t);
        if (e == 0) {
            pass->removed++;
            return LK_OK;
        }
        note_left(&c, lk_sys_tree_path(t), e);
    }
    return lk_error_set(err, LK_EBUSY, pass->last_sys, "%zu entr%s could not be removed: %s",
                        pass->nleft, pass->nleft == 1 ? "y" : "ies",
                        pass->nleft ? pass->why[0] : "unknown");
}

int lk_sys_remove_tree_once(const char *path, lk_remove_pass *pass, lk_error *err)
{
    lk_tree *t = NULL;
    int rc = lk_sys_tree_open(path, &t, err);
    memset(pass, 0, sizeof *pass);
    pass->retryable = 1;
    if (rc == LK_ENOENT)
        return LK_OK;
    if (rc != LK_OK)
        return rc;
    rc = lk_sys_tree_remove_once(t, pass, err);
    lk_sys_tree_close(t);
    return rc;
}

/* ---- what a delete would lose, and identities ----------------------------------------- */

typedef struct usage_ctx {
    uint64_t files, bytes;
} usage_ctx;

static int usage_visit(void *ctx, lk__visit what, int dfd, const char *name, const char *path,
                       const struct stat *st, int err)
{
    usage_ctx *u = ctx;
    (void)dfd, (void)name, (void)path, (void)err;
    if (what == LK__V_FILE && S_ISREG(st->st_mode)) {
        u->files++;
        u->bytes += (uint64_t)st->st_size;
    }
    return 0;
}

int lk_sys_tree_usage(lk_tree *t, uint64_t *files, uint64_t *bytes, lk_error *err)
{
    usage_ctx u = {0, 0};
    if (lk__walk_fd(lk__tree_fd(t), lk_sys_tree_path(t), lk__tree_fid(t), lk__tree_mounts(t), 0,
                    usage_visit, &u) != 0)
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    *files = u.files;
    *bytes = u.bytes;
    return LK_OK;
}

typedef struct ids_ctx {
    uint64_t *ids;
    size_t n, cap; /* in pairs */
    int oom;
} ids_ctx;

static void add_id(ids_ctx *c, uint64_t dev, uint64_t ino)
{
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 256;
        uint64_t *grown = realloc(c->ids, ncap * 2 * sizeof *grown);
        if (!grown) {
            c->oom = 1;
            return;
        }
        c->ids = grown;
        c->cap = ncap;
    }
    c->ids[2 * c->n] = dev;
    c->ids[2 * c->n + 1] = ino;
    c->n++;
}

static int ids_visit(void *ctx, lk__visit what, int dfd, const char *name, const char *path,
                     const struct stat *st, int err)
{
    (void)dfd, (void)name, (void)path, (void)err;
    if (what == LK__V_FILE || what == LK__V_DIR_PRE)
        add_id(ctx, (uint64_t)st->st_dev, (uint64_t)st->st_ino);
    return 0;
}

int lk_sys_tree_ids(lk_tree *t, uint64_t **ids, size_t *n, lk_error *err)
{
    ids_ctx c;
    const lk__fid *top = lk__tree_fid(t);
    struct stat st;
    memset(&c, 0, sizeof c);
    *ids = NULL;
    *n = 0;
    /* st_dev as stat reports it, to compare with what stat says of a
     * process's files (lk__fid's device is statx's major/minor pair). */
    if (fstat(lk__tree_fd(t), &st) == 0)
        add_id(&c, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
    else
        add_id(&c, top->dev, top->ino);
    if (lk__walk_fd(lk__tree_fd(t), lk_sys_tree_path(t), top, lk__tree_mounts(t), 0, ids_visit,
                    &c) != 0 ||
        c.oom) {
        free(c.ids);
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    }
    *ids = c.ids;
    *n = c.n;
    return LK_OK;
}
