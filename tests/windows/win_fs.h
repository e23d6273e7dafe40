/* File-system helpers for the Windows tests: folders, files, junctions, a
 * byte-for-byte digest of a folder, and (under wine) Unix commands, for the
 * links and mounts wine cannot make through Win32. */
#ifndef LK_WIN_FS_H
#define LK_WIN_FS_H

#include <windows.h>
#include <winioctl.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

static inline wchar_t *wjoin(const wchar_t *a, const wchar_t *b)
{
    size_t na = wcslen(a), nb = wcslen(b);
    wchar_t *p = malloc((na + nb + 2) * sizeof *p);
    if (!p)
        abort();
    memcpy(p, a, na * sizeof *p);
    if (na && a[na - 1] != L'\\')
        p[na++] = L'\\';
    memcpy(p + na, b, (nb + 1) * sizeof *p);
    return p;
}

static inline int make_file(const wchar_t *path, const char *text)
{
    DWORD n = 0;
    HANDLE f =
        CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    if (f == INVALID_HANDLE_VALUE)
        return 0;
    WriteFile(f, text, (DWORD)strlen(text), &n, NULL);
    CloseHandle(f);
    return 1;
}

/* path and every missing folder above it. */
static inline void make_dirs(const wchar_t *path)
{
    wchar_t buf[MAX_PATH], *p;
    wcsncpy(buf, path, MAX_PATH - 1);
    buf[MAX_PATH - 1] = L'\0';
    for (p = buf + 3; *p; p++) {
        if (*p == L'\\') {
            *p = L'\0';
            CreateDirectoryW(buf, NULL);
            *p = L'\\';
        }
    }
    CreateDirectoryW(buf, NULL);
}

static inline int exists(const wchar_t *path)
{
    return GetFileAttributesW(path) != INVALID_FILE_ATTRIBUTES;
}

static inline int is_wine(void)
{
    return GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "wine_get_version") != NULL;
}

/* A junction (mount point reparse point) at `link` to the folder `target`. */
static inline int make_junction(const wchar_t *link, const wchar_t *target)
{
    struct {
        DWORD tag;
        WORD len, reserved;
        WORD sub_off, sub_len, print_off, print_len;
        wchar_t buf[2 * MAX_PATH + 8];
    } rp;
    wchar_t sub[MAX_PATH + 8];
    size_t sl, pl;
    DWORD ret = 0;
    HANDLE h;
    BOOL ok;
    _snwprintf(sub, MAX_PATH + 8, L"\\??\\%ls", target);
    sub[MAX_PATH + 7] = L'\0';
    sl = wcslen(sub) * sizeof(wchar_t);
    pl = wcslen(target) * sizeof(wchar_t);
    if (!CreateDirectoryW(link, NULL))
        return 0;
    h = CreateFileW(link, GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                    FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        RemoveDirectoryW(link);
        return 0;
    }
    memset(&rp, 0, sizeof rp);
    rp.tag = IO_REPARSE_TAG_MOUNT_POINT;
    rp.sub_len = (WORD)sl;
    rp.print_off = (WORD)(sl + sizeof(wchar_t));
    rp.print_len = (WORD)pl;
    memcpy(rp.buf, sub, sl);
    memcpy((char *)rp.buf + sl + sizeof(wchar_t), target, pl);
    rp.len = (WORD)(8 + sl + sizeof(wchar_t) + pl + sizeof(wchar_t));
    ok = DeviceIoControl(h, FSCTL_SET_REPARSE_POINT, &rp, 8u + rp.len, NULL, 0, &ret, NULL);
    CloseHandle(h);
    if (!ok || !(GetFileAttributesW(link) & FILE_ATTRIBUTE_REPARSE_POINT)) {
        RemoveDirectoryW(link);
        return 0;
    }
    return 1;
}

/* ---- wine: the Unix side ------------------------------------------------- */

/* The Unix path of a Windows path (wine only), malloc'd; NULL elsewhere. */
static inline char *unix_path(const wchar_t *w)
{
    typedef char *(CDECL * fn_t)(LPCWSTR);
    fn_t fn = (fn_t)(void (*)(void))GetProcAddress(GetModuleHandleW(L"kernel32.dll"),
                                                   "wine_get_unix_file_name");
    char *p, *copy;
    if (!fn || !(p = fn(w)))
        return NULL;
    copy = malloc(strlen(p) + 1);
    if (copy)
        strcpy(copy, p);
    HeapFree(GetProcessHeap(), 0, p);
    return copy;
}

/* Runs a /bin/sh command line on the Unix side (wine starts ELF programs
 * as Unix processes) and waits for it: its exit status, or -1. `marker` is
 * a Windows path for the status file. No double quotes in cmd. */
static inline int unix_sh(const wchar_t *marker, const char *fmt, ...)
{
    char cmd[4096], full[4800], *um;
    wchar_t wcmd[4800];
    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    va_list ap;
    int i, rc = -1;
    DeleteFileW(marker);
    um = unix_path(marker);
    if (!um)
        return -1;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    snprintf(full, sizeof full, "/bin/sh -c \"%s; echo $? > '%s.tmp' && mv '%s.tmp' '%s'\"", cmd,
             um, um, um);
    free(um);
    if (!MultiByteToWideChar(CP_UTF8, 0, full, -1, wcmd, (int)(sizeof wcmd / sizeof wcmd[0])))
        return -1;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    if (!CreateProcessW(L"Z:\\bin\\sh", wcmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi))
        return -1;
    if (pi.hProcess)
        CloseHandle(pi.hProcess);
    if (pi.hThread)
        CloseHandle(pi.hThread);
    /* A Unix process has no handle here: its status file says it is done. */
    for (i = 0; i < 400; i++) {
        HANDLE f = CreateFileW(marker, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_DELETE, NULL,
                               OPEN_EXISTING, 0, NULL);
        if (f != INVALID_HANDLE_VALUE) {
            char buf[16] = "";
            DWORD n = 0;
            ReadFile(f, buf, sizeof buf - 1, &n, NULL);
            CloseHandle(f);
            buf[n] = '\0';
            rc = atoi(buf);
            DeleteFileW(marker);
            return rc;
        }
        Sleep(25);
    }
    return rc;
}

/* A link at `link` to `target`: a junction where Win32 makes one, else
 * (wine) a Unix symlink, which wine shows as a reparse point. Returns a
 * word for what was made, NULL when nothing could be. */
static inline const char *make_dir_link(const wchar_t *link, const wchar_t *target,
                                        const wchar_t *marker)
{
    char *ul, *ut;
    int rc;
    if (make_junction(link, target))
        return "a junction";
    if (CreateSymbolicLinkW(link, target,
                            SYMBOLIC_LINK_FLAG_DIRECTORY |
                                SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE) &&
        (GetFileAttributesW(link) & FILE_ATTRIBUTE_REPARSE_POINT) &&
        GetFileAttributesW(link) != INVALID_FILE_ATTRIBUTES)
        return "a directory symbolic link";
    if (!is_wine())
        return NULL;
    ul = unix_path(link);
    ut = unix_path(target);
    rc = ul && ut ? unix_sh(marker, "ln -s '%s' '%s'", ut, ul) : -1;
    free(ul);
    free(ut);
    return rc == 0 ? "a Unix symlink (wine cannot make junctions)" : NULL;
}

/* The same for a link to a file. */
static inline const char *make_file_link(const wchar_t *link, const wchar_t *target,
                                         const wchar_t *marker)
{
    char *ul, *ut;
    int rc;
    if (CreateSymbolicLinkW(link, target, SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE) &&
        GetFileAttributesW(link) != INVALID_FILE_ATTRIBUTES &&
        (GetFileAttributesW(link) & FILE_ATTRIBUTE_REPARSE_POINT))
        return "a file symbolic link";
    if (!is_wine())
        return NULL;
    ul = unix_path(link);
    ut = unix_path(target);
    rc = ul && ut ? unix_sh(marker, "ln -s '%s' '%s'", ut, ul) : -1;
    free(ul);
    free(ut);
    return rc == 0 ? "a Unix symlink to a file" : NULL;
}

/* ---- a folder's contents, byte for byte ---------------------------------- */

static inline uint64_t fnv_file(const wchar_t *path, int64_t *size)
{
    uint64_t h = 1469598103934665603ull;
    unsigned char buf[8192];
    DWORD n;
    HANDLE f = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                           OPEN_EXISTING, FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    *size = -1;
    if (f == INVALID_HANDLE_VALUE)
        return 0;
    *size = 0;
    while (ReadFile(f, buf, sizeof buf, &n, NULL) && n > 0) {
        DWORD i;
        for (i = 0; i < n; i++)
            h = (h ^ buf[i]) * 1099511628211ull;
        *size += n;
    }
    CloseHandle(f);
    return h;
}

static inline int cmp_lines(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static inline void digest_walk(const wchar_t *dir, const wchar_t *rel, char ***lines, size_t *n,
                               size_t *cap)
{
    WIN32_FIND_DATAW fd;
    wchar_t *pat = wjoin(dir, L"*");
    HANDLE h = FindFirstFileW(pat, &fd);
    free(pat);
    if (h == INVALID_HANDLE_VALUE)
        return;
    do {
        wchar_t *full, *r;
        char line[2 * MAX_PATH + 64];
        int64_t size = 0;
        uint64_t hash = 0;
        if (wcscmp(fd.cFileName, L".") == 0 || wcscmp(fd.cFileName, L"..") == 0)
            continue;
        full = wjoin(dir, fd.cFileName);
        r = rel[0] ? wjoin(rel, fd.cFileName) : _wcsdup(fd.cFileName);
        if (fd.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT)
            snprintf(line, sizeof line, "%ls link", r);
        else if (fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)
            snprintf(line, sizeof line, "%ls/", r);
        else {
            hash = fnv_file(full, &size);
            snprintf(line, sizeof line, "%ls %lld %016llx", r, (long long)size,
                     (unsigned long long)hash);
        }
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 32;
            *lines = realloc(*lines, *cap * sizeof **lines);
        }
        (*lines)[(*n)++] = _strdup(line);
        if ((fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) &&
            !(fd.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT))
            digest_walk(full, r, lines, n, cap);
        free(full);
        free(r);
    } while (FindNextFileW(h, &fd));
    FindClose(h);
}

/* "relative-path size hash" for every entry under dir (links not
 * followed), sorted, one per line. malloc'd. */
static inline char *digest(const wchar_t *dir)
{
    char **lines = NULL, *out;
    size_t n = 0, cap = 0, i, total = 1;
    digest_walk(dir, L"", &lines, &n, &cap);
    if (n)
        qsort(lines, n, sizeof *lines, cmp_lines);
    for (i = 0; i < n; i++)
        total += strlen(lines[i]) + 1;
    out = malloc(total);
    out[0] = '\0';
    for (i = 0; i < n; i++) {
        strcat(out, lines[i]);
        strcat(out, "\n");
        free(lines[i]);
    }
    free(lines);
    return out;
}

#endif
