/* Small files shared between Latchkey's processes: an advisory lock and an
 * atomic replace (POSIX). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "latchkey/sys.h"

#define POLL_MS 10

struct lk_file_lock {
    int fd;
};

int lk_sys_lock_file(const char *path, int64_t deadline_ms, lk_file_lock **out, lk_error *err)
{
    lk_file_lock *l;
    /* flock, not fcntl: an fcntl lock belongs to the process, so two threads
     * of one program (the tray's supervisor and its own Stop) would not
     * exclude each other. O_CLOEXEC: a browser spawned while the lock is
     * held must not inherit it and keep it for its whole life. */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0600);
    *out = NULL;
    if (fd < 0)
        return lk_error_set(err, errno == ENOENT ? LK_ENOENT : LK_EIO, errno, "cannot open %s: %s",
                            path, strerror(errno));
    for (;;) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            break;
        if (errno != EWOULDBLOCK && errno != EINTR) {
            int e = errno;
            close(fd);
            return lk_error_set(err, LK_EIO, e, "cannot lock %s: %s", path, strerror(e));
        }
        if (lk_sys_now_ms() >= deadline_ms) {
            close(fd);
            return lk_error_set(err, LK_ETIMEDOUT, 0, "%s stayed locked by another process", path);
        }
        /* Held briefly by design (a marker written, a browser launched):
         * a short poll costs less than a thread per waiter. */
        lk_sys_sleep_ms(POLL_MS);
    }
    l = malloc(sizeof *l);
    if (!l) {
        close(fd);
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    }
    l->fd = fd;
    *out = l;
    return LK_OK;
}

void lk_sys_unlock_file(lk_file_lock *l)
{
    if (!l)
        return;
    close(l->fd); /* releases the flock */
    free(l);
}

/* The rename itself reaches the disk with the folder's entry. */
static void sync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : NULL;
    int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

int lk_sys_write_file_atomic(const char *path, const void *data, size_t len, lk_error *err)
{
    size_t n = strlen(path) + 32, done = 0;
    char *tmp = malloc(n);
    int fd, e = 0;
    if (!tmp)
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    /* Unique per process and call: two writers never share a temporary. */
    snprintf(tmp, n, "%s.%ld.%lld.tmp", path, lk_sys_self_pid(), (long long)lk_sys_now_ms());
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0600);
    if (fd < 0) {
        e = errno;
        free(tmp);
        return lk_error_set(err, LK_EIO, e, "cannot create a file next to %s: %s", path,
                            strerror(e));
    }
    while (done < len) {
        ssize_t w = write(fd, (const char *)data + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            e = w < 0 ? errno : EIO;
            break;
        }
        done += (size_t)w;
    }
    /* On disk before it gets its name: after a crash the file is the old
     * one or the new one, never an empty one. */
    if (!e && fsync(fd) != 0)
        e = errno;
    if (close(fd) != 0 && !e)
        e = errno;
    if (!e && rename(tmp, path) != 0)
        e = errno;
    if (e) {
        unlink(tmp);
        free(tmp);
        return lk_error_set(err, LK_EIO, e, "cannot write %s: %s", path, strerror(e));
    }
    free(tmp);
    sync_dir(path);
    return LK_OK;
}
