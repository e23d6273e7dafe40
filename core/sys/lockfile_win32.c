/* Small files shared between Latchkey's processes: an advisory lock and an
 * atomic replace (Windows). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sys/win32_util.h"

#define POLL_MS 10

struct lk_file_lock {
    HANDLE h;
};

int lk_sys_lock_file(const char *path, int64_t deadline_ms, lk_file_lock **out, lk_error *err)
{
    wchar_t *w = lk__w_path(path);
    lk_file_lock *l;
    HANDLE h;
    *out = NULL;
    if (!w)
        return lk_error_set(err, LK_EINVAL, 0, "not a valid path: %s", path);
    /* Shared opening; the byte-range lock is what excludes. Handles from
     * CreateFileW are not inherited, so a browser spawned under the lock
     * does not keep it. */
    h = CreateFileW(w, GENERIC_READ | GENERIC_WRITE,
                    FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_ALWAYS,
                    FILE_ATTRIBUTE_NORMAL, NULL);
    free(w);
    if (h == INVALID_HANDLE_VALUE)
        return lk__win_error(err, GetLastError(), path);
    for (;;) {
        OVERLAPPED ov;
        DWORD e;
        memset(&ov, 0, sizeof ov);
        /* Per handle: two threads of one program exclude each other too. */
        if (LockFileEx(h, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ov))
            break;
        e = GetLastError();
        if (e != ERROR_LOCK_VIOLATION && e != ERROR_IO_PENDING) {
            CloseHandle(h);
            return lk__win_error(err, e, path);
        }
        if (lk_sys_now_ms() >= deadline_ms) {
            CloseHandle(h);
            return lk_error_set(err, LK_ETIMEDOUT, 0, "%s stayed locked by another process", path);
        }
        lk_sys_sleep_ms(POLL_MS);
    }
    l = malloc(sizeof *l);
    if (!l) {
        CloseHandle(h);
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    }
    l->h = h;
    *out = l;
    return LK_OK;
}

void lk_sys_unlock_file(lk_file_lock *l)
{
    OVERLAPPED ov;
    if (!l)
        return;
    memset(&ov, 0, sizeof ov);
    UnlockFileEx(l->h, 0, 1, 0, &ov);
    CloseHandle(l->h);
    free(l);
}

int lk_sys_write_file_atomic(const char *path, const void *data, size_t len, lk_error *err)
{
    size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    wchar_t *wt = NULL, *wp = NULL;
    HANDLE h = INVALID_HANDLE_VALUE;
    DWORD e = 0, wrote = 0;
    int rc = LK_OK;
    if (!tmp)
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    snprintf(tmp, n, "%s.%ld.%lld.tmp", path, lk_sys_self_pid(), (long long)lk_sys_now_ms());
    wt = lk__w_path(tmp);
    wp = lk__w_path(path);
    if (!wt || !wp || len > 0x7fffffff) {
        free(wt);
        free(wp);
        free(tmp);
        return lk_error_set(err, LK_EINVAL, 0, "cannot write %s", path);
    }
    h = CreateFileW(wt, GENERIC_WRITE, 0, NULL, CREATE_NEW, FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE)
        e = GetLastError();
    else if (!WriteFile(h, data, (DWORD)len, &wrote, NULL) || wrote != (DWORD)len)
        e = GetLastError() ? GetLastError() : ERROR_WRITE_FAULT;
    /* On disk before it gets its name: after a crash the file is the old
     * one or the new one, never an empty one. */
    else if (!FlushFileBuffers(h))
        e = GetLastError();
    if (h != INVALID_HANDLE_VALUE)
        CloseHandle(h);
    if (!e && !MoveFileExW(wt, wp, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH))
        e = GetLastError();
    if (e) {
        DeleteFileW(wt);
        rc = lk__win_error(err, e, path);
    }
    free(wt);
    free(wp);
    free(tmp);
    return rc;
}
