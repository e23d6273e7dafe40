/* Files on Windows: canonical paths, the tree walker, deleting a tree without
 * ever following a link, guard-rail questions and Chromium's lockfile.
 *
 * Every delete goes through a handle opened with FILE_FLAG_OPEN_REPARSE_POINT,
 * so it acts on the entry itself, never on what a link points to. */
#include "sys/win32_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "latchkey/path.h"
#include "util/strv.h"

NTSYSAPI NTSTATUS NTAPI RtlGetLastNtStatus(void);

/* FileDispositionInfoEx and its flags: Windows 10 1709+ (mingw hides them
 * behind a newer _WIN32_WINNT). POSIX semantics unlink the name at once even
 * while others keep the file open with FILE_SHARE_DELETE. */
#define LK_FileDispositionInfoEx ((FILE_INFO_BY_HANDLE_CLASS)21)
#define LK_DISP_DELETE 0x1
#define LK_DISP_POSIX 0x2
#define LK_DISP_IGNORE_READONLY 0x10
typedef struct lk_disp_ex {
    DWORD Flags;
} lk_disp_ex;

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

/* ---- removing a tree ----------------------------------------------------- */

typedef struct rm_ctx {
    lk_remove_pass *pass;
    size_t cap_left;
    int no_ex; /* FileDispositionInfoEx unsupported here (FAT, older Windows, wine) */
    int oom;
    DWORD first_err;
    char *first_path;
} rm_ctx;

static int retryable(DWORD e, int link)
{
    switch (e) {
    case ERROR_SHARING_VIOLATION:
    case ERROR_LOCK_VIOLATION:
    case ERROR_USER_MAPPED_FILE:
    case ERROR_BUSY:
    case ERROR_ACCESS_DENIED:
        return 1;
    /* "Not empty" passes once its holders let go of the children; said of a
     * link it means the link cannot be removed by itself (wine): final. */
    case ERROR_DIR_NOT_EMPTY:
        return !link;
    default:
        return 0;
    }
}

static void record_left(rm_ctx *c, const wchar_t *path, DWORD e, int link)
{
    wchar_t *plain = lk__w_strip_prefix(path);
    char *u = plain ? lk__utf8_from_w(plain, (size_t)-1) : NULL;
    char **slot;
    free(plain);
    c->pass->last_sys = (int)e;
    if (!retryable(e, link))
        c->pass->retryable = 0;
    if (!u) {
        c->oom = 1;
        return;
    }
    if (!c->first_path) {
        c->first_path = lk_strdup(u);
        c->first_err = e;
    }
    slot = lk_push(&c->pass->left, &c->pass->nleft, &c->cap_left, sizeof *slot);
    if (!slot) {
        free(u);
        c->oom = 1;
        return;
    }
    *slot = u;
}

static int unsupported(DWORD e)
{
    return e == ERROR_INVALID_PARAMETER || e == ERROR_NOT_SUPPORTED ||
           e == ERROR_INVALID_FUNCTION || e == ERROR_CALL_NOT_IMPLEMENTED;
}

/* Deletes one entry (file, empty folder or link itself). Returns 0 when it is
 * gone or going (delete pending), else the Windows error. */
static DWORD delete_entry(rm_ctx *c, const wchar_t *path, DWORD attrs)
{
    const DWORD flags = FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_BACKUP_SEMANTICS;
    const DWORD share = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;
    HANDLE h = CreateFileW(path, DELETE | FILE_READ_ATTRIBUTES | FILE_WRITE_ATTRIBUTES, share, NULL,
                           OPEN_EXISTING, flags, NULL);
    FILE_DISPOSITION_INFO d;
    DWORD e;

    if (h == INVALID_HANDLE_VALUE) {
        e = GetLastError();
        if (e == ERROR_ACCESS_DENIED && !is_delete_pending(e)) {
            /* The ACL may grant DELETE but not attribute writes. */
            h = CreateFileW(path, DELETE | FILE_READ_ATTRIBUTES, share, NULL, OPEN_EXISTING, flags,
                            NULL);
            if (h == INVALID_HANDLE_VALUE)
                e = GetLastError();
        }
        if (h == INVALID_HANDLE_VALUE) {
            if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND || is_delete_pending(e))
                return 0;
            return e;
        }
    }
    if (!c->no_ex) {
        lk_disp_ex dx = {LK_DISP_DELETE | LK_DISP_POSIX | LK_DISP_IGNORE_READONLY};
        if (SetFileInformationByHandle(h, LK_FileDispositionInfoEx, &dx, sizeof dx)) {
            CloseHandle(h);
            return 0;
        }
        e = GetLastError();
        if (e == ERROR_DIR_NOT_EMPTY) {
            CloseHandle(h);
            return e;
        }
        if (unsupported(e))
            c->no_ex = 1;
    }
    if (attrs & FILE_ATTRIBUTE_READONLY) {
        /* Through the handle: a path-based call could follow a link. */
        FILE_BASIC_INFO bi;
        memset(&bi, 0, sizeof bi); /* zero times: leave them alone */
        bi.FileAttributes = attrs & ~(DWORD)FILE_ATTRIBUTE_READONLY;
        bi.FileAttributes &= FILE_ATTRIBUTE_ARCHIVE | FILE_ATTRIBUTE_HIDDEN |
                             FILE_ATTRIBUTE_SYSTEM | FILE_ATTRIBUTE_NOT_CONTENT_INDEXED |
                             FILE_ATTRIBUTE_DIRECTORY;
        if (!bi.FileAttributes)
            bi.FileAttributes = FILE_ATTRIBUTE_NORMAL;
        SetFileInformationByHandle(h, FileBasicInfo, &bi, sizeof bi);
    }
    d.DeleteFile = TRUE;
    if (SetFileInformationByHandle(h, FileDispositionInfo, &d, sizeof d)) {
        CloseHandle(h); /* the delete happens at this close */
        return 0;
    }
    e = GetLastError();
    CloseHandle(h);
    if (is_delete_pending(e))
        return 0;
    return e;
}

static int rm_visit(void *ctx, lk__walk_event ev, const lk__walk_entry *e)
{
    rm_ctx *c = ctx;
    DWORD r;
    int link = lk__is_link(e->attrs, e->tag);
    if (ev == LK__WALK_DIR_FAIL) {
        record_left(c, e->path, e->err, 0);
    } else {
        r = delete_entry(c, e->path, e->attrs);
        if (r == 0)
            c->pass->removed++;
        else
            record_left(c, e->path, r, link);
    }
    return c->oom ? -1 : 0;
}

int lk_sys_remove_tree_once(const char *path, lk_remove_pass *pass, lk_error *err)
{
    rm_ctx c;
    wchar_t *w, *pw;
    DWORD attrs, tag, e;
    int r;

    memset(pass, 0, sizeof *pass);
    pass->retryable = 1;
    if (!path || !path[0])
        return lk_error_set(err, LK_EINVAL, 0, "empty path");
    if (lk_sys_is_fs_root(path))
        return lk_error_set(err, LK_EREFUSED, 0, "refusing to remove the root %s", path);
    w = lk__w_path(path);
    pw = w ? w_prefixed(w) : NULL;
    free(w);
    if (!pw)
        return lk_error_set(err, LK_EINVAL, 0, "not a usable path: %s", path);
    memset(&c, 0, sizeof c);
    c.pass = pass;

    r = entry_info(pw, &attrs, &tag);
    if (r == 0) {
        free(pw);
        return LK_OK; /* gone already (or going: delete pending) */
    }
    if (r < 0) {
        e = GetLastError();
        record_left(&c, pw, e ? e : ERROR_ACCESS_DENIED, 0);
    } else if ((attrs & FILE_ATTRIBUTE_DIRECTORY) && !lk__is_link(attrs, tag)) {
        if (lk__walk(pw, rm_visit, &c) < 0)
            c.oom = 1;
    } else {
        lk__walk_entry one = {pw, attrs, tag, 0};
        rm_visit(&c, LK__WALK_FILE, &one);
    }

    r = entry_info(pw, &attrs, &tag);
    free(pw);
    if (c.oom) {
        free(c.first_path);
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    }
    if (r == 0) {
        free(c.first_path);
        return LK_OK;
    }
    if (c.first_path) {
        char msg[300];
        lk__win_msg(c.first_err, msg, sizeof msg);
        r = lk_error_set(err, pass->retryable ? LK_EBUSY : lk__win_code(c.first_err),
                         (int)c.first_err, "%lu entr%s left, first %s: %s",
                         (unsigned long)pass->nleft, pass->nleft == 1 ? "y" : "ies", c.first_path,
                         msg);
    } else {
        r = lk_error_set(err, LK_EBUSY, 0, "%s is still there", path);
    }
    free(c.first_path);
    return r == LK_OK ? LK_EIO : r;
}

int lk_sys_rename(const char *from, const char *to, lk_error *err)
{
    wchar_t *a = lk__w_path(from), *b = lk__w_path(to);
    int rc = LK_OK;
    if (!a || !b)
        rc = lk_error_set(err, LK_EINVAL, 0, "not a usable path");
    else if (!MoveFileExW(a, b, 0)) /* no REPLACE_EXISTING, no copying across volumes */
        rc = lk__win_error(err, GetLastError(), "cannot move the folder aside");
    free(a);
    free(b);
    return rc;
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

/* ---- removal at the next restart ----------------------------------------- */

typedef struct reboot_ctx {
    rm_ctx rm; /* for removing links now */
    size_t scheduled, failed;
    DWORD last_err;
} reboot_ctx;

static int reboot_visit(void *ctx, lk__walk_event ev, const lk__walk_entry *e)
{
    reboot_ctx *c = ctx;
    if (ev == LK__WALK_DIR_FAIL) {
        c->failed++;
        c->last_err = e->err;
        return 0;
    }
    if (lk__is_link(e->attrs, e->tag)) {
        /* Links are removed now, not handed to the session manager, which
         * might resolve them at boot. Removing a link frees nothing it points to. */
        DWORD r = delete_entry(&c->rm, e->path, e->attrs);
        if (r) {
            c->failed++;
            c->last_err = r;
        }
        return 0;
    }
    /* Children come first, so each folder is empty when its turn comes. */
    if (MoveFileExW(e->path, NULL, MOVEFILE_DELAY_UNTIL_REBOOT)) {
        c->scheduled++;
    } else {
        c->failed++;
        c->last_err = GetLastError();
    }
    return 0;
}

int lk_sys_remove_on_reboot(const char *path, lk_error *err)
{
    reboot_ctx c;
    lk_remove_pass pass;
    wchar_t *w, *pw;
    DWORD attrs, tag;
    int r;

    if (!lk__self_elevated())
        return lk_error_set(err, LK_EACCES, (int)ERROR_ACCESS_DENIED,
                            "removal at restart needs Administrator rights: run elevated");
    if (lk_sys_is_fs_root(path))
        return lk_error_set(err, LK_EREFUSED, 0, "refusing to remove the root %s", path);
    w = lk__w_path(path);
    pw = w ? w_prefixed(w) : NULL;
    free(w);
    if (!pw)
        return lk_error_set(err, LK_EINVAL, 0, "not a usable path: %s", path ? path : "(null)");
    memset(&c, 0, sizeof c);
    memset(&pass, 0, sizeof pass);
    c.rm.pass = &pass;
    r = entry_info(pw, &attrs, &tag);
    if (r == 0) {
        free(pw);
        return LK_OK;
    }
    if (r > 0 && (attrs & FILE_ATTRIBUTE_DIRECTORY) && !lk__is_link(attrs, tag)) {
        if (lk__walk(pw, reboot_visit, &c) < 0) {
            free(pw);
            return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
        }
    } else {
        lk__walk_entry one = {pw, r > 0 ? attrs : 0, tag, 0};
        reboot_visit(&c, LK__WALK_FILE, &one);
    }
    free(pw);
    lk_remove_pass_free(&pass);
    if (c.failed)
        return lk__win_error(err, c.last_err,
                             c.scheduled ? "some entries could not be scheduled for removal"
                                         : "cannot schedule removal at restart");
    return LK_OK;
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
    home = env_utf8(L"USERPROFILE");
    if (!yes && home) {
        /* The folder of all profiles (C:\Users), and the user's own big folders. */
        yes = refuse_if_parent(abspath, lk_path_dir(home, 1));
        for (i = 0; !yes && user_dirs[i]; i++)
            yes = refuse_if_parent(abspath, child_of(home, user_dirs[i]));
    }
    free(home);
    return yes;
}

char *lk_sys_home_dir(void)
{
    char *home = env_utf8(L"USERPROFILE");
    char *drive, *path, *joined;
    if (home && home[0])
        return home;
    free(home);
    drive = env_utf8(L"HOMEDRIVE");
    path = env_utf8(L"HOMEPATH");
    joined = NULL;
    if (drive && path) {
        joined = malloc(strlen(drive) + strlen(path) + 1);
        if (joined) {
            strcpy(joined, drive);
            strcat(joined, path);
        }
    }
    free(drive);
    free(path);
    return joined;
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
