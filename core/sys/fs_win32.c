/* Files on Windows: canonical paths, the path walker Restart Manager's file
 * list comes from, guard-rail questions and Chromium's lockfile. Deleting
 * lives with the held folder (tree_win32.c, treewalk_win32.c): never by path. */
#include "sys/win32_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "latchkey/path.h"
#include "util/strv.h"

NTSYSAPI NTSTATUS NTAPI RtlGetLastNtStatus(void);

/* ---- links and the walker ------------------------------------------------ */

int lk__is_link(DWORD attrs, DWORD tag)
{
    if (!(attrs & FILE_ATTRIBUTE_REPARSE_POINT))
        return 0;
    /* Reparse points known to keep their data in place: folders of cloud
     * placeholders (OneDrive and other sync engines), dedup, WOF, HSM,
     * projected file systems. Everything else, name surrogates (symlinks,
     * junctions, mount points), DFS, unknown tags and tag 0, is a link and
     * is never entered. Not entering costs at worst a folder left behind. */
    if ((tag & 0xFFFF0FFFu) == (DWORD)IO_REPARSE_TAG_CLOUD)
        return 0;
    switch (tag) {
    case (DWORD)IO_REPARSE_TAG_ONEDRIVE:
    case (DWORD)IO_REPARSE_TAG_DEDUP:
    case (DWORD)IO_REPARSE_TAG_WOF:
    case (DWORD)IO_REPARSE_TAG_HSM:
    case 0x80000006u: /* IO_REPARSE_TAG_HSM2 */
    case (DWORD)IO_REPARSE_TAG_FILE_PLACEHOLDER:
    case (DWORD)IO_REPARSE_TAG_STORAGE_SYNC:
    case (DWORD)IO_REPARSE_TAG_PROJFS:
        return 0;
    default:
        return 1;
    }
}

/* "\\?\" form of an absolute wide path, whatever its length: the walker
 * appends names and must not fall off MAX_PATH halfway down a deep tree. */
static wchar_t *w_prefixed(const wchar_t *abs)
{
    wchar_t *l = lk__w_long(abs), *out;
    size_t n;
    if (!l || (l[0] == L'\\' && l[1] == L'\\' && l[2] == L'?' && l[3] == L'\\'))
        return l;
    n = wcslen(l);
    out = malloc((n + 8) * sizeof *out);
    if (out) {
        if (l[0] == L'\\' && l[1] == L'\\') {
            wcscpy(out, L"\\\\?\\UNC");
            wcscat(out, l + 1);
        } else {
            wcscpy(out, L"\\\\?\\");
            wcscat(out, l);
        }
    }
    free(l);
    return out;
}

static wchar_t *w_join(const wchar_t *dir, const wchar_t *name)
{
    size_t a = wcslen(dir), b = wcslen(name);
    wchar_t *p = malloc((a + b + 2) * sizeof *p);
    if (!p)
        return NULL;
    memcpy(p, dir, a * sizeof *p);
    if (a && dir[a - 1] != L'\\')
        p[a++] = L'\\';
    memcpy(p + a, name, (b + 1) * sizeof *p);
    return p;
}

typedef struct frame {
    wchar_t *path;
    HANDLE find; /* NULL until listed */
    HANDLE pin;  /* the folder itself, open without FILE_SHARE_DELETE */
    DWORD attrs, tag;
} frame;

static void frame_close(frame *f)
{
    if (f->find)
        FindClose(f->find);
    if (f->pin)
        CloseHandle(f->pin);
    f->find = NULL;
    f->pin = NULL;
}

static void frames_free(frame *st, size_t n)
{
    while (n-- > 0) {
        frame_close(&st[n]);
        free(st[n].path);
    }
    free(st);
}

/* Opens a folder we are about to enter and checks, through that very handle,
 * that it is not a link. While the handle stays open (no FILE_SHARE_DELETE)
 * the folder cannot be renamed, deleted or swapped for a junction, and since
 * every folder above it is pinned the same way, the path we list and delete
 * under keeps naming what we checked. Returns 0, or the error to report;
 * *is_link is set when it turned out to be a link after all. */
static DWORD pin_folder(const wchar_t *path, HANDLE *pin, int *is_link)
{
    FILE_ATTRIBUTE_TAG_INFO ti;
    HANDLE h = CreateFileW(path, FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES | SYNCHRONIZE,
                           FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING,
                           FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    *pin = NULL;
    *is_link = 0;
    if (h == INVALID_HANDLE_VALUE)
        return GetLastError();
    if (GetFileInformationByHandleEx(h, FileAttributeTagInfo, &ti, sizeof ti)) {
        if (lk__is_link(ti.FileAttributes, ti.ReparseTag) ||
            !(ti.FileAttributes & FILE_ATTRIBUTE_DIRECTORY)) {
            CloseHandle(h);
            *is_link = 1;
            return 0;
        }
    }
    /* Without the tag query (old wine) the listing's attributes decided. */
    *pin = h;
    return 0;
}

int lk__walk(const wchar_t *root, lk__walk_fn fn, void *ctx)
{
    frame *st = NULL, *f;
    size_t n = 0, cap = 0;
    wchar_t *top = w_prefixed(root);
    int stop = 0;

    if (!top || !(f = lk_push(&st, &n, &cap, sizeof *f))) {
        free(top);
        return -1;
    }
    f->path = top;
    f->attrs = GetFileAttributesW(top);
    if (f->attrs == INVALID_FILE_ATTRIBUTES)
        f->attrs = FILE_ATTRIBUTE_DIRECTORY;

    while (n > 0 && !stop) {
        WIN32_FIND_DATAW fd;
        lk__walk_entry e;
        wchar_t *child;
        DWORD tag;
        f = &st[n - 1];
        if (!f->find) {
            wchar_t *pattern;
            HANDLE h = INVALID_HANDLE_VALUE;
            int became_link = 0;
            DWORD err = pin_folder(f->path, &f->pin, &became_link);
            if (err == 0 && became_link) {
                /* Swapped for a link since it was listed: an entry, not a folder. */
                e.path = f->path;
                e.attrs = f->attrs | FILE_ATTRIBUTE_REPARSE_POINT;
                e.tag = 0;
                e.err = 0;
                stop = fn(ctx, LK__WALK_FILE, &e);
                free(f->path);
                n--;
                continue;
            }
            if (err == 0) {
                pattern = w_join(f->path, L"*");
                h = pattern ? FindFirstFileExW(pattern, FindExInfoBasic, &fd, FindExSearchNameMatch,
                                               NULL, FIND_FIRST_EX_LARGE_FETCH)
                            : INVALID_HANDLE_VALUE;
                err = !pattern                    ? ERROR_NOT_ENOUGH_MEMORY
                      : h == INVALID_HANDLE_VALUE ? GetLastError()
                                                  : 0;
                free(pattern);
            }
            if (h == INVALID_HANDLE_VALUE) {
                frame_close(f); /* unpinned before the callback deletes it */
                e.path = f->path;
                e.attrs = f->attrs;
                e.tag = f->tag;
                e.err = err;
                stop = fn(ctx, err == ERROR_FILE_NOT_FOUND ? LK__WALK_DIR_POST : LK__WALK_DIR_FAIL,
                          &e);
                free(f->path);
                n--;
                continue;
            }
            f->find = h;
        } else if (!FindNextFileW(f->find, &fd)) {
            DWORD err = GetLastError();
            /* Closed before the callback: an open search or our pin would
             * keep the folder from being deleted. */
            frame_close(f);
            e.path = f->path;
            e.attrs = f->attrs;
            e.tag = f->tag;
            e.err = err;
            stop = fn(ctx, err == ERROR_NO_MORE_FILES ? LK__WALK_DIR_POST : LK__WALK_DIR_FAIL, &e);
            free(f->path);
            n--;
            continue;
        }
        if (wcscmp(fd.cFileName, L".") == 0 || wcscmp(fd.cFileName, L"..") == 0)
            continue;
        child = w_join(f->path, fd.cFileName);
        if (!child) {
            stop = -1;
            break;
        }
        tag = (fd.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) ? fd.dwReserved0 : 0;
        if ((fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) &&
            !lk__is_link(fd.dwFileAttributes, tag)) {
            frame *c = lk_push(&st, &n, &cap, sizeof *c);
            if (!c) {
                free(child);
                stop = -1;
                break;
            }
            c->path = child;
            c->attrs = fd.dwFileAttributes;
            c->tag = tag;
            continue;
        }
        e.path = child;
        e.attrs = fd.dwFileAttributes;
        e.tag = tag;
        e.err = 0;
        stop = fn(ctx, LK__WALK_FILE, &e);
        free(child);
    }
    frames_free(st, n);
    return stop;
}

/* ---- canonical paths ----------------------------------------------------- */

static int is_delete_pending(DWORD e)
{
    return e == ERROR_DELETE_PENDING ||
           (e == ERROR_ACCESS_DENIED && RtlGetLastNtStatus() == STATUS_DELETE_PENDING);
}

int lk_sys_realpath(const char *path, char **out, lk_error *err)
{
    wchar_t *w = lk__w_path(path), *name;
    HANDLE h;
    int is_nt = 0;
    *out = NULL;
    if (!w)
        return lk_error_set(err, LK_EINVAL, 0, "not a usable path: %s", path ? path : "(null)");
    /* Opening follows links, as realpath does; no access is needed for a name. */
    h = CreateFileW(w, FILE_READ_ATTRIBUTES, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                    NULL, OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, NULL);
    free(w);
    if (h == INVALID_HANDLE_VALUE) {
        DWORD e = GetLastError();
        if (is_delete_pending(e))
            return lk_error_set(err, LK_ENOENT, (int)e, "%s is being deleted", path);
        return lk__win_error(err, e, path);
    }
    name = lk__final_path_w(h, &is_nt);
    CloseHandle(h);
    if (!name)
        return lk__win_error(err, GetLastError(), "cannot read the real path");
    if (is_nt) {
        lk__devmap *m = malloc(sizeof *m);
        if (m)
            lk__devmap_init(m);
        *out = lk__dos_path(m, name);
        free(m);
    } else {
        *out = lk__dos_path(NULL, name);
    }
    free(name);
    return *out ? LK_OK : lk_error_set(err, LK_ENOMEM, 0, "out of memory");
}

int lk_sys_path_win(void)
{
    return 1;
}

/* The Win32 spellings of one path, made into what GetFullPathNameW reads:
 * '/' separates, "\??\" is the NT spelling of "\\?\", and the device forms
 * "\\.\C:\x" and "\\.\UNC\s\h" name the same files as "C:\x" and "\\s\h". */
static void fold_spellings(wchar_t *w)
{
    size_t n;
    wchar_t *p;
    for (p = w; *p; p++)
        if (*p == L'/')
            *p = L'\\';
    if (wcsncmp(w, L"\\??\\", 4) == 0)
        w[1] = L'\\';
    n = wcslen(w);
    if (wcsncmp(w, L"\\\\.\\", 4) == 0) {
        if (((w[4] >= L'A' && w[4] <= L'Z') || (w[4] >= L'a' && w[4] <= L'z')) && w[5] == L':')
            memmove(w, w + 4, (n - 4 + 1) * sizeof *w);
        else if (_wcsnicmp(w + 4, L"UNC\\", 4) == 0)
            memmove(w + 2, w + 8, (n - 8 + 1) * sizeof *w);
    }
}

int lk_sys_abspath(const char *path, char **out, lk_error *err)
{
    wchar_t *w = lk__w_from_utf8(path), *full = NULL, *plain = NULL;
    char *u = NULL;
    DWORD n;
    *out = NULL;
    if (!w || !w[0]) {
        free(w);
        return lk_error_set(err, LK_EINVAL, 0, "not a usable path: %s", path ? path : "(null)");
    }
    fold_spellings(w);
    /* GetFullPathNameW: the current folder (per drive), "." and "..", and
     * the trailing dots and spaces Win32 drops, as every other program sees
     * them. A "\\?\" path comes back as it is: normalised below. */
    n = GetFullPathNameW(w, 0, NULL, NULL);
    if (n)
        full = malloc((size_t)n * sizeof *full);
    if (!full || GetFullPathNameW(w, n, full, NULL) >= n) {
        DWORD e = full ? GetLastError() : ERROR_NOT_ENOUGH_MEMORY;
        free(w);
        free(full);
        return lk__win_error(err, e, "cannot make the path absolute");
    }
    free(w);
    plain = lk__w_strip_prefix(full);
    free(full);
    u = plain ? lk__utf8_from_w(plain, (size_t)-1) : NULL;
    free(plain);
    if (!u)
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    *out = lk_path_normalize(u, 1);
    if (!*out) /* a form normalisation does not know (\\?\Volume{...}): keep it */
        *out = u;
    else
        free(u);
    /* The drive letter as Windows shows it: "c:\x" typed is reported, and
     * compared with the paths of open files, as "C:\x". */
    if ((*out)[0] >= 'a' && (*out)[0] <= 'z' && (*out)[1] == ':')
        (*out)[0] = (char)((*out)[0] - 'a' + 'A');
    return LK_OK;
}

/* Attributes and reparse tag of an entry, without following it. */
static int entry_info(const wchar_t *w, DWORD *attrs, DWORD *tag)
{
    WIN32_FIND_DATAW fd;
    HANDLE h;
    const wchar_t *base = wcsrchr(w, L'\\');
    *tag = 0;
    *attrs = GetFileAttributesW(w);
    if (*attrs == INVALID_FILE_ATTRIBUTES) {
        DWORD e = GetLastError();
        if (e != ERROR_ACCESS_DENIED && e != ERROR_SHARING_VIOLATION)
            return e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND ||
                           e == ERROR_INVALID_NAME || e == ERROR_BAD_NETPATH ||
                           e == ERROR_BAD_NET_NAME || e == ERROR_INVALID_DRIVE
                       ? 0
                       : -1;
        if (is_delete_pending(e))
            return 0;
    } else if (!(*attrs & FILE_ATTRIBUTE_REPARSE_POINT)) {
        return 1;
    }
    /* Denied, or a reparse point whose tag we need: the parent's listing knows.
     * Wildcards in the name would make it a search, not a look-up. */
    if (base && (wcschr(base, L'*') || wcschr(base, L'?')))
        return *attrs == INVALID_FILE_ATTRIBUTES ? -1 : 1;
    h = FindFirstFileExW(w, FindExInfoBasic, &fd, FindExSearchNameMatch, NULL, 0);
    if (h == INVALID_HANDLE_VALUE)
        return *attrs == INVALID_FILE_ATTRIBUTES ? -1 : 1;
    FindClose(h);
    *attrs = fd.dwFileAttributes;
    *tag = (fd.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) ? fd.dwReserved0 : 0;
    return 1;
}

lk_ftype lk_sys_ftype(const char *path)
{
    wchar_t *w = lk__w_path(path);
    DWORD attrs = 0, tag = 0;
    int r;
    if (!w)
        return LK_FT_NONE;
    r = entry_info(w, &attrs, &tag);
    free(w);
    if (r == 0)
        return LK_FT_NONE;
    if (r < 0)
        return LK_FT_OTHER; /* there, but closed to us */
    if (lk__is_link(attrs, tag))
        return LK_FT_LINK;
    if (attrs & FILE_ATTRIBUTE_DIRECTORY)
        return LK_FT_DIR;
    if (attrs & FILE_ATTRIBUTE_DEVICE)
        return LK_FT_OTHER;
    return LK_FT_FILE;
}

int lk_sys_mkdir(const char *path, lk_error *err)
{
    wchar_t *w = lk__w_path(path);
    int rc = LK_OK;
    if (!w)
        return lk_error_set(err, LK_EINVAL, 0, "not a usable path: %s", path ? path : "(null)");
    if (!CreateDirectoryW(w, NULL)) {
        DWORD e = GetLastError();
        if (e != ERROR_ALREADY_EXISTS || lk_sys_ftype(path) != LK_FT_DIR)
            rc = lk__win_error(err, e, "cannot create the folder");
    }
    free(w);
    return rc;
}

/* ---- guard rails --------------------------------------------------------- */

static int is_sep(char ch)
{
    return ch == '\\' || ch == '/';
}

static int only_seps(const char *p)
{
    while (*p && is_sep(*p))
        p++;
    return *p == '\0';
}

int lk_sys_is_fs_root(const char *abspath)
{
    const char *p = abspath;
    int unc = 0;
    if (!p || !*p)
        return 0;
    if (strncmp(p, "\\\\?\\", 4) == 0 || strncmp(p, "\\??\\", 4) == 0) {
        p += 4;
        if (_strnicmp(p, "UNC\\", 4) == 0) {
            p += 4;
            unc = 1;
        } else if (_strnicmp(p, "Volume{", 7) == 0) {
            const char *close = strchr(p, '}');
            return close && only_seps(close + 1);
        }
    } else if (is_sep(p[0]) && is_sep(p[1])) {
        p += 2;
        unc = 1;
    }
    if (unc) { /* "\\server", "\\server\share", with or without a trailing separator */
        while (*p && !is_sep(*p))
            p++;
        while (*p && is_sep(*p))
            p++;
        while (*p && !is_sep(*p))
            p++;
        return only_seps(p);
    }
    if (((p[0] >= 'A' && p[0] <= 'Z') || (p[0] >= 'a' && p[0] <= 'z')) && p[1] == ':')
        return only_seps(p + 2);
    return only_seps(p); /* "\" and "/" name the root of the current drive */
}

static char *env_utf8(const wchar_t *name)
{
    wchar_t buf[MAX_PATH * 2];
    DWORD n = GetEnvironmentVariableW(name, buf, MAX_PATH * 2);
    if (n == 0 || n >= MAX_PATH * 2)
        return NULL;
    return lk__utf8_from_w(buf, n);
}

static int refuse_if_parent(const char *abspath, char *dir)
{
    /* abspath is dir itself or one of its parents. */
    int yes = dir && dir[0] && lk_path_within(abspath, dir, 1);
    free(dir);
    return yes;
}

static char *child_of(const char *dir, const char *name)
{
    return dir ? lk_path_join(dir, name, 1) : NULL;
}

int lk_sys_is_system_dir(const char *abspath)
{
    static const wchar_t *const vars[] = {L"ProgramFiles",
                                          L"ProgramFiles(x86)",
                                          L"ProgramW6432",
                                          L"CommonProgramFiles",
                                          L"CommonProgramFiles(x86)",
                                          L"ProgramData",
                                          L"ALLUSERSPROFILE",
                                          L"PUBLIC",
                                          L"APPDATA",
                                          L"LOCALAPPDATA",
                                          L"TEMP",
                                          L"TMP",
                                          L"OneDrive",
                                          NULL};
    static const char *const user_dirs[] = {"Desktop", "Documents",         "Downloads",
                                            "AppData", "AppData\\LocalLow", NULL};
    wchar_t win[MAX_PATH + 1];
    char *sysroot = NULL, *home;
    size_t i;
    int yes = 0;
    UINT n;

    if (!abspath || !*abspath)
        return 0;
    n = GetSystemWindowsDirectoryW(win, MAX_PATH + 1);
    if (n > 0 && n <= MAX_PATH)
        sysroot = lk__utf8_from_w(win, n);
    if (!sysroot)
        sysroot = env_utf8(L"SystemRoot");
    /* Anything inside Windows, and Windows' parents. */
    if (sysroot && (lk_path_within(sysroot, abspath, 1) || lk_path_within(abspath, sysroot, 1)))
        yes = 1;
    free(sysroot);
    for (i = 0; !yes && vars[i]; i++)
        yes = refuse_if_parent(abspath, env_utf8(vars[i]));
    home = lk_sys_home_dir();
    if (!yes && home) {
        /* The folder of all profiles (C:\Users), and the user's own big folders. */
        yes = refuse_if_parent(abspath, lk_path_dir(home, 1));
        for (i = 0; !yes && user_dirs[i]; i++)
            yes = refuse_if_parent(abspath, child_of(home, user_dirs[i]));
    }
    free(home);
    return yes;
}

/* ---- Chromium's lockfile and the host name ------------------------------- */

size_t lk_sys_profile_locks(const char *profile, lk_lock_info *out, size_t max)
{
    char *file;
    wchar_t *w;
    HANDLE h;
    int held;
    if (!profile || !out || max == 0)
        return 0;
    file = lk_path_join(profile, "lockfile", 1);
    w = file ? lk__w_path(file) : NULL;
    if (!w) {
        free(file);
        return 0;
    }
    /* Chromium keeps `lockfile` open for writing while the profile is in use.
     * Opening it with no sharing fails while anyone has it open. */
    h = CreateFileW(w, GENERIC_READ, 0, NULL, OPEN_EXISTING,
                    FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    if (h != INVALID_HANDLE_VALUE) {
        CloseHandle(h);
        held = 0;
    } else {
        DWORD e = GetLastError();
        free(w);
        if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND) {
            free(file);
            return 0;
        }
        held = 1; /* sharing violation, or closed to us: not provably stale */
        w = NULL;
    }
    free(w);
    memset(&out[0], 0, sizeof out[0]);
    out[0].file = file;
    out[0].owner_pid = 0;
    out[0].host = NULL;
    out[0].held = held;
    return 1;
}

char *lk_sys_hostname(void)
{
    wchar_t buf[256];
    DWORD n = 256;
    if (GetComputerNameExW(ComputerNameDnsHostname, buf, &n) && n > 0)
        return lk__utf8_from_w(buf, n);
    n = 256;
    if (GetComputerNameW(buf, &n) && n > 0)
        return lk__utf8_from_w(buf, n);
    return NULL;
}
