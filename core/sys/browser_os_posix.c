/* What core/browser needs from the OS, the parts Linux and macOS share. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "latchkey/sys.h"
#include "latchkey/sys.h"
#include "util/strv.h"

int lk_sys_can_run(const char *path)
{
    struct stat st;
    /* stat, not lstat: /usr/bin/google-chrome is a chain of symlinks. */
    return path && stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

int lk_sys_browser_needs_no_sandbox(void)
{
#if defined(__linux__)
    /* Chromium exits at once when started sandboxed as root. */
    return geteuid() == 0;
#else
    return 0; /* macOS' sandbox works for root too */
#endif
}

char *lk_sys_getenv(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? lk_strdup(v) : NULL;
}

char *lk_sys_cache_dir(void)
{
    char *home, *out;
    size_t need;
#if !defined(__APPLE__)
    const char *xdg = getenv("XDG_CACHE_HOME");
    if (xdg && xdg[0] == '/')
        return lk_strdup(xdg);
#endif
    home = getenv("HOME") && getenv("HOME")[0] == '/' ? lk_strdup(getenv("HOME")) : lk_sys_home_dir();
    if (!home)
        return NULL;
#if defined(__APPLE__)
    need = strlen(home) + sizeof "/Library/Caches";
    out = malloc(need);
    if (out)
        snprintf(out, need, "%s/Library/Caches", home);
#else
    need = strlen(home) + sizeof "/.cache";
    out = malloc(need);
    if (out)
        snprintf(out, need, "%s/.cache", home);
#endif
    free(home);
    return out;
}

int lk_sys_read_file(const char *path, size_t max, unsigned flags, char **buf, size_t *len,
                     lk_error *err)
{
    struct stat st;
    size_t got = 0, want;
    char *b;
    int fd;
    *buf = NULL;
    if (len)
        *len = 0;
    /* A FIFO would block the open, a device would act on it: look first,
     * then open without blocking, then make sure it is what was looked at. */
    if (((flags & LK_READ_NOFOLLOW) ? lstat(path, &st) : stat(path, &st)) != 0)
        return lk_error_set(err, errno == ENOENT ? LK_ENOENT : LK_EIO, errno, "%s: %s", path,
                            strerror(errno));
    if (!S_ISREG(st.st_mode))
        return lk_error_set(err, LK_EINVAL, 0, "%s: not a regular file", path);
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
                        ((flags & LK_READ_NOFOLLOW) ? O_NOFOLLOW : 0));
    if (fd < 0)
        return lk_error_set(err, errno == ENOENT ? LK_ENOENT : LK_EIO, errno, "%s: %s", path,
                            strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return lk_error_set(err, LK_EINVAL, 0, "%s: not a regular file", path);
    }
    want = (size_t)st.st_size;
    if (want > max) {
        if (!(flags & LK_READ_TAIL)) {
            close(fd);
            return lk_error_set(err, LK_EINVAL, 0, "%s: larger than %zu bytes", path, max);
        }
        lseek(fd, (off_t)(want - max), SEEK_SET);
        want = max;
    }
    b = malloc(want + 1);
    if (!b) {
        close(fd);
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    }
    while (got < want) {
        ssize_t r = read(fd, b + got, want - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break; /* shrank meanwhile: keep what was there */
        got += (size_t)r;
    }
    close(fd);
    b[got] = '\0';
    *buf = b;
    if (len)
        *len = got;
    return LK_OK;
}

int lk_sys_unlink(const char *path, lk_error *err)
{
    if (unlink(path) == 0 || errno == ENOENT)
        return LK_OK;
    return lk_error_set(err, errno == EACCES || errno == EPERM ? LK_EACCES : LK_EIO, errno,
                        "cannot remove %s: %s", path, strerror(errno));
}
