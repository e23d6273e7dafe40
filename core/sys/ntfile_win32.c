/* NT-level file operations relative to a held folder handle, on Windows:
 * the opens, identities, listings and deletes that tree_win32.c,
 * treeops_win32.c and treewalk_win32.c build on. Every open adds
 * FILE_OPEN_REPARSE_POINT, so a link is opened as itself where the system
 * can; where it cannot (wine follows Unix symlinks), the path read back from
 * the handle tells. */
#include "sys/tree_win32.h"

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

NTSTATUS NTAPI NtQueryDirectoryFile(HANDLE, HANDLE, PVOID, PVOID, PIO_STATUS_BLOCK, PVOID, ULONG,
                                    FILE_INFORMATION_CLASS, BOOLEAN, PUNICODE_STRING, BOOLEAN);

#define LK_FileIdBothDirectoryInformation ((FILE_INFORMATION_CLASS)37)
#define LK_FileDispositionInfoEx ((FILE_INFO_BY_HANDLE_CLASS)21)
#define LK_DISP_DELETE 0x1
#define LK_DISP_POSIX 0x2
#define LK_DISP_IGNORE_READONLY 0x10

#ifndef STATUS_OBJECT_NAME_NOT_FOUND
#define STATUS_OBJECT_NAME_NOT_FOUND ((NTSTATUS)0xC0000034L)
#endif
#ifndef STATUS_NO_SUCH_FILE
#define STATUS_NO_SUCH_FILE ((NTSTATUS)0xC000000FL)
#endif

/* ---- opens, identities, paths ----------------------------------------------- */

NTSTATUS lk__open_rel(HANDLE dir, const wchar_t *name, size_t len, ACCESS_MASK access, ULONG share,
                      ULONG disposition, ULONG options, HANDLE *out)
{
    OBJECT_ATTRIBUTES oa;
    UNICODE_STRING us;
    IO_STATUS_BLOCK io;
    HANDLE h = NULL;
    NTSTATUS st;
    *out = NULL;
    if (len > 32767)
        return (NTSTATUS)0xC0000106L; /* STATUS_NAME_TOO_LONG */
    us.Buffer = (PWSTR)name;
    us.Length = us.MaximumLength = (USHORT)(len * sizeof(wchar_t));
    InitializeObjectAttributes(&oa, &us, OBJ_CASE_INSENSITIVE, dir, NULL);
    st = NtCreateFile(&h, access | SYNCHRONIZE, &oa, &io, NULL, FILE_ATTRIBUTE_NORMAL, share,
                      disposition,
                      options | FILE_OPEN_REPARSE_POINT | FILE_SYNCHRONOUS_IO_NONALERT |
                          FILE_OPEN_FOR_BACKUP_INTENT,
                      NULL, 0);
    if (NT_SUCCESS(st))
        *out = h;
    return st;
}

DWORD lk__nt_err(NTSTATUS st)
{
    if (st == STATUS_DELETE_PENDING)
        return ERROR_DELETE_PENDING;
    return RtlNtStatusToDosError(st);
}

int lk__handle_attrs(HANDLE h, DWORD *attrs, DWORD *tag)
{
    FILE_ATTRIBUTE_TAG_INFO ti;
    if (!GetFileInformationByHandleEx(h, FileAttributeTagInfo, &ti, sizeof ti))
        return 0;
    *attrs = ti.FileAttributes;
    *tag = (ti.FileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) ? ti.ReparseTag : 0;
    return 1;
}

int lk__fid_get(HANDLE h, lk__fid *id)
{
    FILE_ID_INFO fi;
    BY_HANDLE_FILE_INFORMATION bh;
    memset(id, 0, sizeof *id);
    if (GetFileInformationByHandleEx(h, FileIdInfo, &fi, sizeof fi)) {
        id->vol = fi.VolumeSerialNumber;
        memcpy(&id->lo, fi.FileId.Identifier, 8);
        memcpy(&id->hi, fi.FileId.Identifier + 8, 8);
        return 1;
    }
    /* Before Windows 8 and on some file systems: the 64-bit index. */
    if (!GetFileInformationByHandle(h, &bh))
        return 0;
    id->vol = bh.dwVolumeSerialNumber;
    id->lo = ((uint64_t)bh.nFileIndexHigh << 32) | bh.nFileIndexLow;
    return 1;
}

int lk__fid_eq(const lk__fid *a, const lk__fid *b)
{
    return a->vol == b->vol && a->hi == b->hi && a->lo == b->lo;
}

wchar_t *lk__handle_path(HANDLE h)
{
    static const DWORD kinds[] = {FILE_NAME_NORMALIZED | VOLUME_NAME_DOS,
                                  FILE_NAME_OPENED | VOLUME_NAME_DOS};
    size_t k;
    for (k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        DWORD cap = MAX_PATH + 1, n;
        int tries;
        for (tries = 0; tries < 3; tries++) {
            wchar_t *buf = malloc((size_t)cap * sizeof *buf);
            if (!buf)
                return NULL;
            n = GetFinalPathNameByHandleW(h, buf, cap, kinds[k]);
            if (n > 0 && n < cap)
                return buf;
            free(buf);
            if (n == 0)
                break;
            cap = n + 1;
        }
    }
    return NULL;
}

wchar_t *lk__wjoin(const wchar_t *dir, const wchar_t *name, size_t len)
{
    size_t a = wcslen(dir);
    wchar_t *p = malloc((a + len + 2) * sizeof *p);
    if (!p)
        return NULL;
    memcpy(p, dir, a * sizeof *p);
    if (a && dir[a - 1] != L'\\')
        p[a++] = L'\\';
    memcpy(p + a, name, len * sizeof *p);
    p[a + len] = L'\0';
    return p;
}

char *lk__plain_utf8(const wchar_t *w)
{
    wchar_t *plain = lk__w_strip_prefix(w);
    char *u = plain ? lk__utf8_from_w(plain, (size_t)-1) : NULL;
    free(plain);
    return u;
}

static int wname_eq(const wchar_t *a, size_t alen, const wchar_t *b, size_t blen)
{
    return CompareStringOrdinal(a, (int)alen, b, (int)blen, TRUE) == CSTR_EQUAL;
}

int lk__dir_lookup(HANDLE dir, const wchar_t *name, size_t len, DWORD *attrs, DWORD *tag,
                   wchar_t *longname)
{
    union {
        FILE_ID_BOTH_DIR_INFORMATION e;
        char raw[sizeof(FILE_ID_BOTH_DIR_INFORMATION) + 600 * sizeof(wchar_t)];
    } buf;
    UNICODE_STRING mask;
    IO_STATUS_BLOCK io;
    HANDLE list;
    NTSTATUS st;
    size_t i;
    /* A fresh handle on the same folder: a search pattern sticks to the
     * handle it was first given to. Wildcards would make it a search. */
    for (i = 0; i < len; i++)
        if (name[i] == L'*' || name[i] == L'?' || name[i] == L'<' || name[i] == L'>' ||
            name[i] == L'"')
            return -1;
    if (len > 255 || !NT_SUCCESS(lk__open_rel(dir, L"", 0, FILE_LIST_DIRECTORY, LK__SHARE_ALL,
                                              FILE_OPEN, FILE_DIRECTORY_FILE, &list)))
        return -1;
    mask.Buffer = (PWSTR)name;
    mask.Length = mask.MaximumLength = (USHORT)(len * sizeof(wchar_t));
    st = NtQueryDirectoryFile(list, NULL, NULL, NULL, &io, &buf, sizeof buf,
                              LK_FileIdBothDirectoryInformation, TRUE, &mask, TRUE);
    CloseHandle(list);
    if (st == STATUS_NO_SUCH_FILE || st == STATUS_OBJECT_NAME_NOT_FOUND ||
        st == (NTSTATUS)0x80000006L /* STATUS_NO_MORE_FILES */)
        return 0;
    if (!NT_SUCCESS(st))
        return -1;
    *attrs = buf.e.FileAttributes;
    /* In a listing the reparse tag travels in EaSize. */
    *tag = (buf.e.FileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) ? buf.e.EaSize : 0;
    if (longname) {
        /* The name matched may be the short (8.3) one; this is the long one. */
        size_t n = buf.e.FileNameLength / sizeof(wchar_t);
        if (n > 255)
            n = 0;
        memcpy(longname, buf.e.FileName, n * sizeof(wchar_t));
        longname[n] = L'\0';
    }
    return 1;
}

int lk__opened_elsewhere(HANDLE h, const wchar_t *dir_path, const wchar_t *name, size_t len)
{
    wchar_t *got = lk__handle_path(h), *want;
    int differs;
    if (!got || !dir_path)
        return 0;
    want = lk__wjoin(dir_path, name, len);
    differs = !want || !wname_eq(got, wcslen(got), want, wcslen(want));
    free(got);
    free(want);
    return differs;
}

const char *lk__why(DWORD e)
{
    switch (e) {
    case ERROR_SHARING_VIOLATION:
    case ERROR_LOCK_VIOLATION:
    case ERROR_USER_MAPPED_FILE:
    case ERROR_BUSY: return "in use by another process";
    case ERROR_ACCESS_DENIED:
    case ERROR_PRIVILEGE_NOT_HELD: return "access denied";
    case ERROR_DIR_NOT_EMPTY: return "files inside are still open in another process";
    case ERROR_WRITE_PROTECT: return "the volume is read-only";
    default: return "could not be removed";
    }
}

DWORD lk__delete_handle(HANDLE h, DWORD attrs)
{
    struct {
        DWORD Flags;
    } dx = {LK_DISP_DELETE | LK_DISP_POSIX | LK_DISP_IGNORE_READONLY};
    FILE_DISPOSITION_INFO d;
    DWORD e;
    /* POSIX semantics: the name goes at once even while others keep the
     * file open with FILE_SHARE_DELETE (Windows 10 1709+, NTFS). */
    if (SetFileInformationByHandle(h, LK_FileDispositionInfoEx, &dx, sizeof dx))
        return 0;
    e = GetLastError();
    if (e == ERROR_DIR_NOT_EMPTY)
        return e;
    if (attrs & FILE_ATTRIBUTE_READONLY) {
        /* Through this very handle: a path-based call could follow a link. */
        FILE_BASIC_INFO bi;
        memset(&bi, 0, sizeof bi); /* zero times: leave them alone */
        bi.FileAttributes =
            attrs & (FILE_ATTRIBUTE_ARCHIVE | FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM |
                     FILE_ATTRIBUTE_NOT_CONTENT_INDEXED | FILE_ATTRIBUTE_DIRECTORY);
        if (!bi.FileAttributes)
            bi.FileAttributes = FILE_ATTRIBUTE_NORMAL;
        SetFileInformationByHandle(h, FileBasicInfo, &bi, sizeof bi);
    }
    d.DeleteFile = TRUE;
    if (SetFileInformationByHandle(h, FileDispositionInfo, &d, sizeof d))
        return 0; /* the delete happens when this handle closes */
    e = GetLastError();
    return e == ERROR_DELETE_PENDING ? 0 : e;
}

int lk__plain_name(const wchar_t *n)
{
    size_t len = n ? wcslen(n) : 0;
    if (len == 0 || len > 255 || wcscmp(n, L".") == 0 || wcscmp(n, L"..") == 0)
        return 0;
    return wcspbrk(n, L"\\/:*?\"<>|") == NULL;
}

/* ---- links ----------------------------------------------------------------- */

/* Is the entry `name` of `dir` (path dir_path), opened as h, a link? Asked
 * three ways, any one is enough: the handle's own attributes (Windows opens
 * a reparse point as itself), the folder's listing (wine shows a Unix
 * symlink to a folder as a reparse point there, and only there), the path
 * read back (wine opens what a symlink points to). */
int lk__is_link_entry(HANDLE dir, const wchar_t *dir_path, HANDLE h, const wchar_t *name,
                      size_t len)
{
    DWORD attrs = 0, tag = 0;
    wchar_t lname[256];
    int listed;
    if (lk__handle_attrs(h, &attrs, &tag) && lk__is_link(attrs, tag))
        return 1;
    listed = lk__dir_lookup(dir, name, len, &attrs, &tag, lname) == 1;
    if (listed && lk__is_link(attrs, tag))
        return 1;
    /* The path read back has the long name, whichever was given. */
    if (listed && lname[0])
        return lk__opened_elsewhere(h, dir_path, lname, wcslen(lname));
    return lk__opened_elsewhere(h, dir_path, name, len);
}
