/* What core/browser needs from Windows: where Chrome, Chromium and Edge are
 * installed (App Paths registry keys, then the folders their installers
 * use), the environment and small files, all in UTF-8. */
#include "sys/tree_win32.h"

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "latchkey/sys.h"
#include "util/strv.h"

static const wchar_t app_paths[] = L"Software\\Microsoft\\Windows\\CurrentVersion\\App Paths\\";

/* Per-user installs first: they are what the user chose to install. */
static const struct {
    const wchar_t *env;
    const wchar_t *rel;
} folders[] = {
    {L"LOCALAPPDATA", L"Google\\Chrome\\Application\\chrome.exe"},
    {L"ProgramFiles", L"Google\\Chrome\\Application\\chrome.exe"},
    {L"ProgramFiles(x86)", L"Google\\Chrome\\Application\\chrome.exe"},
    {L"LOCALAPPDATA", L"Chromium\\Application\\chrome.exe"},
    {L"ProgramFiles", L"Chromium\\Application\\chrome.exe"},
    {L"LOCALAPPDATA", L"Microsoft\\Edge\\Application\\msedge.exe"},
    {L"ProgramFiles(x86)", L"Microsoft\\Edge\\Application\\msedge.exe"},
    {L"ProgramFiles", L"Microsoft\\Edge\\Application\\msedge.exe"},
};

static int can_run_w(const wchar_t *path)
{
    DWORD a = GetFileAttributesW(path);
    return a != INVALID_FILE_ATTRIBUTES && !(a & FILE_ATTRIBUTE_DIRECTORY);
}

/* Adds path (UTF-16) when it runs and is not listed yet. */
static size_t add(char **out, size_t n, size_t max, const wchar_t *path)
{
    char *u;
    size_t i;
    if (n >= max || !can_run_w(path) || !(u = lk__utf8_from_w(path, (size_t)-1)))
        return n;
    for (i = 0; i < n; i++)
        if (strlen(out[i]) == strlen(u) && lk_ascii_ncaseeq(out[i], u, strlen(u) + 1)) {
            free(u);
            return n; /* App Paths usually names a Program Files install */
        }
    out[n++] = u;
    return n;
}

/* The default value of App Paths\<exe>, without the quotes some installers add. */
static size_t from_app_paths(char **out, size_t n, size_t max, HKEY root, const wchar_t *exe)
{
    wchar_t key[160], val[MAX_PATH * 2];
    DWORD size = sizeof val;
    wchar_t *p = val;
    size_t len;
    if (wcslen(app_paths) + wcslen(exe) + 1 > sizeof key / sizeof key[0])
        return n;
    wcscpy(key, app_paths);
    wcscat(key, exe);
    /* RRF_RT_REG_SZ also accepts REG_EXPAND_SZ and expands it. */
    if (RegGetValueW(root, key, NULL, RRF_RT_REG_SZ, NULL, val, &size) != ERROR_SUCCESS)
        return n;
    val[sizeof val / sizeof val[0] - 1] = L'\0';
    if (*p == L'"')
        p++;
    len = wcslen(p);
    if (len && p[len - 1] == L'"')
        p[len - 1] = L'\0';
    return add(out, n, max, p);
}

static size_t from_folder(char **out, size_t n, size_t max, const wchar_t *env, const wchar_t *rel)
{
    wchar_t dir[MAX_PATH], full[MAX_PATH * 2];
    DWORD got = GetEnvironmentVariableW(env, dir, MAX_PATH);
    if (got == 0 || got >= MAX_PATH || wcslen(dir) + 1 + wcslen(rel) + 1 > MAX_PATH * 2)
        return n;
    wcscpy(full, dir);
    wcscat(full, L"\\");
    wcscat(full, rel);
    return add(out, n, max, full);
}

size_t lk_sys_browser_candidates(char **out, size_t max)
{
    size_t n = 0, i;
    n = from_app_paths(out, n, max, HKEY_CURRENT_USER, L"chrome.exe");
    n = from_app_paths(out, n, max, HKEY_LOCAL_MACHINE, L"chrome.exe");
    for (i = 0; i < sizeof folders / sizeof folders[0]; i++) {
        if (i == 5) { /* Edge after every Chrome and Chromium */
            n = from_app_paths(out, n, max, HKEY_CURRENT_USER, L"msedge.exe");
            n = from_app_paths(out, n, max, HKEY_LOCAL_MACHINE, L"msedge.exe");
        }
        n = from_folder(out, n, max, folders[i].env, folders[i].rel);
    }
    return n;
}

int lk_sys_can_run(const char *path)
{
    wchar_t *w = path ? lk__w_path(path) : NULL;
    int ok = w && can_run_w(w);
    free(w);
    return ok;
}

int lk_sys_browser_needs_no_sandbox(void)
{
    return 0; /* Chromium's Windows sandbox works for administrators too */
}

char *lk_sys_getenv(const char *name)
{
    wchar_t *wname = lk__w_from_utf8(name);
    wchar_t *val = NULL;
    char *u = NULL;
    DWORD need;
    if (!wname)
        return NULL;
    need = GetEnvironmentVariableW(wname, NULL, 0);
    if (need > 1 && (val = malloc(need * sizeof *val)) != NULL &&
        GetEnvironmentVariableW(wname, val, need) == need - 1)
        u = lk__utf8_from_w(val, (size_t)-1);
    free(val);
    free(wname);
    return u;
}

char *lk_sys_cache_dir(void)
{
    return lk_sys_getenv("LOCALAPPDATA"); /* per user, not roaming: logs stay local */
}

/* 1 for a path that names a file on a volume: a drive letter, UNC, or their
 * "\\?\" spellings. Device paths ("\\.\pipe\x", "\\?\GLOBALROOT\...") are
 * refused before anything is opened: opening a pipe already connects to it. */
static int disk_path(const wchar_t *w)
{
    const wchar_t *p = w;
    if (wcsncmp(p, L"\\\\?\\", 4) == 0) {
        p += 4;
        if (_wcsnicmp(p, L"UNC\\", 4) == 0)
            return 1;
    } else if (p[0] == L'\\' && p[1] == L'\\') {
        return p[2] != L'.' && p[2] != L'?';
    }
    return ((p[0] >= L'A' && p[0] <= L'Z') || (p[0] >= L'a' && p[0] <= L'z')) && p[1] == L':';
}

/* 1 when the open file h is not `w` itself but what a link there names:
 * wine opens what a Unix symlink points to even with
 * FILE_FLAG_OPEN_REPARSE_POINT, and only the path read back shows it. */
static int opened_elsewhere(HANDLE h, const wchar_t *w)
{
    const wchar_t *base = wcsrchr(w, L'\\');
    wchar_t *dir, *dpath = NULL;
    HANDLE dh;
    size_t n;
    int differs = 0;
    if (!base || !base[1])
        return 0;
    n = (size_t)(base - w);
    if (n > 0 && w[n - 1] == L':')
        n++; /* "C:\" is the folder; "C:" the current folder there, "\\?\C:" the volume */
    dir = lk__wcs_dup(w, n);
    if (!dir)
        return 1;
    /* The folder as the system names it (links in the folder's own path are
     * the caller's choice), then the file must be right inside it. */
    dh = CreateFileW(dir, FILE_READ_ATTRIBUTES,
                     FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_EXISTING,
                     FILE_FLAG_BACKUP_SEMANTICS, NULL);
    free(dir);
    if (dh != INVALID_HANDLE_VALUE) {
        dpath = lk__handle_path(dh);
        CloseHandle(dh);
    }
    if (dpath)
        differs = lk__opened_elsewhere(h, dpath, base + 1, wcslen(base + 1));
    free(dpath);
    return differs;
}

/* Never follows a link, whatever the flags say: LK_READ_NOFOLLOW is how it
 * always reads here. */
int lk_sys_read_file(const char *path, size_t max, unsigned flags, char **buf, size_t *len,
                     lk_error *err)
{
    int tail = (flags & LK_READ_TAIL) != 0;
    wchar_t *w = lk__w_path(path);
    const wchar_t *base;
    WIN32_FIND_DATAW fd;
    HANDLE h;
    LARGE_INTEGER size;
    DWORD attrs = 0, tag = 0;
    size_t want, got = 0;
    char *b;
    *buf = NULL;
    if (len)
        *len = 0;
    if (!w)
        return lk_error_set(err, LK_EINVAL, 0, "%s: not a valid path", path);
    if (!disk_path(w)) {
        free(w);
        return lk_error_set(err, LK_EINVAL, 0, "%s: not a file on a disk (a device or pipe path)",
                            path);
    }
    /* The folder's listing first: wine shows a Unix symlink to a folder as a
     * reparse point there and nowhere else. */
    base = wcsrchr(w, L'\\');
    h = !base || wcspbrk(base, L"*?")
            ? INVALID_HANDLE_VALUE
            : FindFirstFileExW(w, FindExInfoBasic, &fd, FindExSearchNameMatch, NULL, 0);
    if (h != INVALID_HANDLE_VALUE) {
        FindClose(h);
        if (lk__is_link(fd.dwFileAttributes, fd.dwReserved0) ||
            (fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)) {
            free(w);
            return lk_error_set(err, LK_EINVAL, 0, "%s: %s, not followed", path,
                                (fd.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT)
                                    ? "a link, junction or other reparse point"
                                    : "a folder");
        }
    }
    /* Chromium may be writing the file: share everything. The entry itself,
     * never what a link names; no directory (no backup semantics). */
    h = CreateFileW(w, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                    OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        DWORD e = GetLastError();
        free(w);
        return lk__win_error(err, e, path);
    }
    if (GetFileType(h) != FILE_TYPE_DISK || !lk__handle_attrs(h, &attrs, &tag) ||
        (attrs &
         (FILE_ATTRIBUTE_REPARSE_POINT | FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_DEVICE)) ||
        opened_elsewhere(h, w)) {
        CloseHandle(h);
        free(w);
        return lk_error_set(err, LK_EINVAL, 0,
                            "%s: not a regular file (a link, device or pipe), "
                            "not read",
                            path);
    }
    free(w);
    if (!GetFileSizeEx(h, &size)) {
        DWORD e = GetLastError();
        CloseHandle(h);
        return lk__win_error(err, e, path);
    }
    want = size.QuadPart < 0 ? 0 : (size_t)size.QuadPart;
    if (want > max) {
        LARGE_INTEGER at;
        if (!tail) {
            CloseHandle(h);
            return lk_error_set(err, LK_EINVAL, 0, "%s: larger than %lu bytes", path,
                                (unsigned long)max);
        }
        at.QuadPart = (LONGLONG)(want - max);
        SetFilePointerEx(h, at, NULL, FILE_BEGIN);
        want = max;
    }
    b = malloc(want + 1);
    if (!b) {
        CloseHandle(h);
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    }
    /* Never more than it was when we looked, however it grows meanwhile. */
    while (got < want) {
        DWORD r = 0;
        if (!ReadFile(h, b + got, (DWORD)(want - got), &r, NULL) || r == 0)
            break;
        got += r;
    }
    CloseHandle(h);
    b[got] = '\0';
    *buf = b;
    if (len)
        *len = got;
    return LK_OK;
}

int lk_sys_unlink(const char *path, lk_error *err)
{
    wchar_t *w = lk__w_path(path);
    DWORD e;
    if (!w)
        return lk_error_set(err, LK_EINVAL, 0, "%s: not a valid path", path);
    if (DeleteFileW(w)) {
        free(w);
        return LK_OK;
    }
    e = GetLastError();
    if (e == ERROR_ACCESS_DENIED) {
        /* A read-only attribute is the usual reason; clear it once. */
        DWORD a = GetFileAttributesW(w);
        if (a != INVALID_FILE_ATTRIBUTES && (a & FILE_ATTRIBUTE_READONLY) &&
            SetFileAttributesW(w, a & ~(DWORD)FILE_ATTRIBUTE_READONLY) && DeleteFileW(w)) {
            free(w);
            return LK_OK;
        }
    }
    free(w);
    if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND)
        return LK_OK;
    return lk__win_error(err, e, path);
}
