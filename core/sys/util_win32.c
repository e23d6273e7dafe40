/* Helpers shared by the Windows OS layer: UTF-8 <-> UTF-16 at the sys.h
 * boundary, error mapping, time stamps, the process table, token questions and
 * turning kernel file names into the DOS paths people (and sys.h) use. */
#include "sys/win32_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* ---- strings ------------------------------------------------------------- */

wchar_t *lk__w_from_utf8(const char *s)
{
    int n;
    wchar_t *w;
    if (!s)
        return NULL;
    /* MB_ERR_INVALID_CHARS: a mangled path must fail, not name another file. */
    n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
    if (n <= 0)
        return NULL;
    w = malloc((size_t)n * sizeof *w);
    if (!w)
        return NULL;
    if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n) != n) {
        free(w);
        return NULL;
    }
    return w;
}

char *lk__utf8_from_w(const wchar_t *w, size_t n)
{
    int len, out;
    char *s;
    if (!w)
        return NULL;
    if (n == (size_t)-1)
        n = wcslen(w);
    if (n > 0x3fffffff)
        return NULL;
    if (n == 0) {
        s = malloc(1);
        if (s)
            s[0] = '\0';
        return s;
    }
    /* Unpaired surrogates (possible in NTFS names) become U+FFFD: display only. */
    len = WideCharToMultiByte(CP_UTF8, 0, w, (int)n, NULL, 0, NULL, NULL);
    if (len <= 0)
        return NULL;
    s = malloc((size_t)len + 1);
    if (!s)
        return NULL;
    out = WideCharToMultiByte(CP_UTF8, 0, w, (int)n, s, len, NULL, NULL);
    if (out != len) {
        free(s);
        return NULL;
    }
    s[len] = '\0';
    return s;
}

wchar_t *lk__wcs_dup(const wchar_t *w, size_t n)
{
    wchar_t *d;
    if (!w)
        return NULL;
    if (n == (size_t)-1)
        n = wcslen(w);
    d = malloc((n + 1) * sizeof *d);
    if (!d)
        return NULL;
    memcpy(d, w, n * sizeof *d);
    d[n] = L'\0';
    return d;
}

static int w_has_prefix(const wchar_t *p)
{
    return wcsncmp(p, L"\\\\?\\", 4) == 0 || wcsncmp(p, L"\\??\\", 4) == 0;
}

wchar_t *lk__w_strip_prefix(const wchar_t *p)
{
    if (!p)
        return NULL;
    if (wcsncmp(p, L"\\\\?\\UNC\\", 8) == 0 || wcsncmp(p, L"\\??\\UNC\\", 8) == 0) {
        size_t n = wcslen(p + 8);
        wchar_t *s = malloc((n + 3) * sizeof *s);
        if (!s)
            return NULL;
        s[0] = L'\\';
        s[1] = L'\\';
        memcpy(s + 2, p + 8, (n + 1) * sizeof *s);
        return s;
    }
    /* Only drive-letter forms lose the prefix: "\\?\Volume{...}\" has no other name. */
    if (w_has_prefix(p) && p[4] && p[5] == L':')
        return lk__wcs_dup(p + 4, (size_t)-1);
    return lk__wcs_dup(p, (size_t)-1);
}

wchar_t *lk__w_long(const wchar_t *abs)
{
    DWORD n;
    wchar_t *full, *out;
    size_t len;
    if (!abs)
        return NULL;
    if (w_has_prefix(abs)) {
        out = lk__wcs_dup(abs, (size_t)-1);
        if (out)
            out[1] = L'\\'; /* "\??\" is the NT spelling; Win32 wants "\\?\" */
        return out;
    }
    /* GetFullPathNameW first: a prefixed path is taken literally ('/' and ".."
     * are not interpreted), so it must already be clean. */
    n = GetFullPathNameW(abs, 0, NULL, NULL);
    if (n == 0)
        return NULL;
    full = malloc((size_t)n * sizeof *full);
    if (!full)
        return NULL;
    if (GetFullPathNameW(abs, n, full, NULL) >= n) {
        free(full);
        return NULL;
    }
    len = wcslen(full);
    if (len < MAX_PATH - 12) /* short enough for the classic APIs */
        return full;
    if (full[0] == L'\\' && full[1] == L'\\') { /* \\server\share -> \\?\UNC\server\share */
        out = malloc((len + 7) * sizeof *out);
        if (out) {
            wcscpy(out, L"\\\\?\\UNC");
            wcscat(out, full + 1);
        }
    } else {
        out = malloc((len + 5) * sizeof *out);
        if (out) {
            wcscpy(out, L"\\\\?\\");
            wcscat(out, full);
        }
    }
    free(full);
    return out;
}

wchar_t *lk__w_path(const char *utf8)
{
    wchar_t *w = lk__w_from_utf8(utf8), *l;
    if (!w || !w[0]) {
        free(w);
        return NULL;
    }
    l = lk__w_long(w);
    free(w);
    return l;
}

/* ---- errors -------------------------------------------------------------- */

lk_code lk__win_code(DWORD e)
{
    switch (e) {
    case ERROR_SUCCESS:
        return LK_OK;
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
    case ERROR_INVALID_DRIVE:
    case ERROR_BAD_NETPATH:
    case ERROR_BAD_NET_NAME:
    case ERROR_NOT_READY:
        return LK_ENOENT;
    case ERROR_ACCESS_DENIED:
    case ERROR_PRIVILEGE_NOT_HELD:
    case ERROR_WRITE_PROTECT:
    case 740: /* ERROR_ELEVATION_REQUIRED */
        return LK_EACCES;
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
        return LK_ENOMEM;
    case ERROR_SHARING_VIOLATION:
    case ERROR_LOCK_VIOLATION:
    case ERROR_DIR_NOT_EMPTY:
    case ERROR_BUSY:
    case ERROR_USER_MAPPED_FILE:
        return LK_EBUSY;
    case ERROR_TIMEOUT:
    case WAIT_TIMEOUT:
        return LK_ETIMEDOUT;
    case ERROR_NOT_SUPPORTED:
    case ERROR_CALL_NOT_IMPLEMENTED:
    case ERROR_INVALID_FUNCTION:
        return LK_ENOTSUP;
    case ERROR_INVALID_PARAMETER:
    case ERROR_INVALID_NAME:
    case ERROR_FILENAME_EXCED_RANGE:
    case ERROR_BAD_PATHNAME:
    case ERROR_NO_UNICODE_TRANSLATION:
        return LK_EINVAL;
    default:
        return LK_EIO;
    }
}

void lk__win_msg(DWORD e, char *buf, size_t n)
{
    wchar_t *w = NULL;
    char *u = NULL;
    size_t len;
    DWORD got = FormatMessageW(
        FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
        NULL, e, MAKELANGID(LANG_NEUTRAL, SUBLANG_DEFAULT), (LPWSTR)&w, 0, NULL);
    if (got && w)
        u = lk__utf8_from_w(w, got);
    if (w)
        LocalFree(w);
    if (!u) {
        snprintf(buf, n, "Windows error %lu", (unsigned long)e);
        return;
    }
    len = strlen(u);
    while (len > 0 && (u[len - 1] == '\n' || u[len - 1] == '\r' || u[len - 1] == ' '))
        u[--len] = '\0';
    snprintf(buf, n, "%s (%lu)", u, (unsigned long)e);
    free(u);
}

int lk__win_error(lk_error *err, DWORD e, const char *what)
{
    char msg[300];
    lk__win_msg(e, msg, sizeof msg);
    return lk_error_set(err, lk__win_code(e), (int)e, "%s: %s", what, msg);
}

/* ---- time and identity --------------------------------------------------- */

uint64_t lk__ft_u64(FILETIME ft)
{
    return ((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime;
}

int64_t lk__ft_unix_ms(uint64_t ft)
{
    /* 100 ns ticks since 1601-01-01 -> ms since 1970-01-01. */
    const uint64_t epoch = 116444736000000000ULL;
    if (ft < epoch)
        return 0;
    return (int64_t)((ft - epoch) / 10000);
}

NTSTATUS lk__query_system(ULONG cls, void **out, ULONG initial)
{
    ULONG size = initial ? initial : 0x10000, ret = 0;
    NTSTATUS st;
    *out = NULL;
    for (;;) {
        void *buf = malloc(size);
        if (!buf)
            return (NTSTATUS)0xC0000017L; /* STATUS_NO_MEMORY */
        ret = 0;
        st = NtQuerySystemInformation((SYSTEM_INFORMATION_CLASS)cls, buf, size, &ret);
        if (st == STATUS_INFO_LENGTH_MISMATCH || st == STATUS_BUFFER_TOO_SMALL ||
            st == STATUS_BUFFER_OVERFLOW) {
            /* The table grows between calls: take what it asked for plus slack. */
            ULONG want = ret > size ? ret : size * 2;
            free(buf);
            if (want > 0x40000000UL - 0x100000UL)
                return st;
            size = want + 0x10000;
            continue;
        }
        if (!NT_SUCCESS(st)) {
            free(buf);
            return st;
        }
        *out = buf;
        return st;
    }
}

int lk__spi_create_time(DWORD pid, uint64_t *ct)
{
    void *buf = NULL;
    const unsigned char *p;
    int found = 0;
    if (!NT_SUCCESS(lk__query_system(LK__SystemProcessInformation, &buf, 0x40000)))
        return 0;
    for (p = buf;;) {
        const lk__spi *e = (const lk__spi *)p;
        if ((DWORD)(ULONG_PTR)e->UniqueProcessId == pid) {
            *ct = (uint64_t)e->CreateTime.QuadPart;
            found = 1;
            break;
        }
        if (!e->NextEntryOffset)
            break;
        p += e->NextEntryOffset;
    }
    free(buf);
    return found;
}

int lk__self_elevated(void)
{
    HANDLE tok;
    TOKEN_ELEVATION el;
    DWORD ret = 0;
    int yes = 0;
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok))
        return 0;
    if (GetTokenInformation(tok, TokenElevation, &el, sizeof el, &ret))
        yes = el.TokenIsElevated != 0;
    CloseHandle(tok);
    return yes;
}

int lk__enable_debug_privilege(void)
{
    HANDLE tok;
    TOKEN_PRIVILEGES tp;
    int ok = 0;
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY, &tok))
        return 0;
    memset(&tp, 0, sizeof tp);
    tp.PrivilegeCount = 1;
    tp.Privileges[0].Attributes = SE_PRIVILEGE_ENABLED;
    if (LookupPrivilegeValueW(NULL, L"SeDebugPrivilege", &tp.Privileges[0].Luid) &&
        AdjustTokenPrivileges(tok, FALSE, &tp, 0, NULL, NULL))
        ok = GetLastError() == ERROR_SUCCESS; /* not ERROR_NOT_ALL_ASSIGNED */
    CloseHandle(tok);
    return ok;
}

/* ---- kernel names -> DOS paths ------------------------------------------- */

void lk__devmap_init(lk__devmap *m)
{
    int i;
    memset(m, 0, sizeof *m);
    for (i = 0; i < 26; i++) {
        wchar_t drive[3] = {(wchar_t)(L'A' + i), L':', L'\0'};
        DWORD n = QueryDosDeviceW(drive, m->dev[i], MAX_PATH);
        /* The first string of the multi-string is the current target. */
        if (n > 0)
            m->devlen[i] = wcslen(m->dev[i]);
    }
}

static int w_prefix_ci(const wchar_t *s, const wchar_t *pre, size_t n)
{
    return _wcsnicmp(s, pre, n) == 0;
}

char *lk__dos_path(const lk__devmap *m, const wchar_t *name)
{
    static const wchar_t mup[] = L"\\Device\\Mup\\";
    static const wchar_t lanman[] = L"\\Device\\LanmanRedirector\\";
    wchar_t *tmp;
    char *res;
    int i;

    if (!name)
        return NULL;
    if (w_has_prefix(name)) {
        tmp = lk__w_strip_prefix(name);
        res = lk__utf8_from_w(tmp, (size_t)-1);
        free(tmp);
        return res;
    }
    if (w_prefix_ci(name, mup, wcslen(mup)) || w_prefix_ci(name, lanman, wcslen(lanman))) {
        const wchar_t *rest =
            name + (w_prefix_ci(name, mup, wcslen(mup)) ? wcslen(mup) : wcslen(lanman));
        size_t n;
        /* The redirector may put ";X:0000...\" before the server name. */
        if (rest[0] == L';') {
            const wchar_t *slash = wcschr(rest, L'\\');
            rest = slash ? slash + 1 : rest;
        }
        n = wcslen(rest);
        tmp = malloc((n + 3) * sizeof *tmp);
        if (!tmp)
            return NULL;
        tmp[0] = L'\\';
        tmp[1] = L'\\';
        memcpy(tmp + 2, rest, (n + 1) * sizeof *tmp);
        res = lk__utf8_from_w(tmp, (size_t)-1);
        free(tmp);
        return res;
    }
    for (i = 0; m && i < 26; i++) {
        size_t dl = m->devlen[i];
        if (dl && w_prefix_ci(name, m->dev[i], dl) && (name[dl] == L'\\' || name[dl] == L'\0')) {
            size_t n = wcslen(name + dl);
            tmp = malloc((n + 4) * sizeof *tmp);
            if (!tmp)
                return NULL;
            tmp[0] = (wchar_t)(L'A' + i);
            tmp[1] = L':';
            if (n == 0) {
                tmp[2] = L'\\';
                tmp[3] = L'\0';
            } else {
                memcpy(tmp + 2, name + dl, (n + 1) * sizeof *tmp);
            }
            res = lk__utf8_from_w(tmp, (size_t)-1);
            free(tmp);
            return res;
        }
    }
    return lk__utf8_from_w(name, (size_t)-1);
}

static wchar_t *final_path(HANDLE h, DWORD flags)
{
    DWORD cap = MAX_PATH + 1;
    int tries;
    for (tries = 0; tries < 4; tries++) {
        wchar_t *buf = malloc((size_t)cap * sizeof *buf);
        DWORD n;
        if (!buf) {
            SetLastError(ERROR_NOT_ENOUGH_MEMORY);
            return NULL;
        }
        n = GetFinalPathNameByHandleW(h, buf, cap, flags);
        if (n == 0) {
            DWORD e = GetLastError();
            free(buf);
            SetLastError(e);
            return NULL;
        }
        if (n < cap)
            return buf;
        free(buf);
        cap = n + 1; /* n is the size needed, terminator included */
    }
    SetLastError(ERROR_INSUFFICIENT_BUFFER);
    return NULL;
}

wchar_t *lk__final_path_w(HANDLE h, int *is_nt)
{
    /* FILE_NAME_NORMALIZED gives long names, as the target's realpath has;
     * FILE_NAME_OPENED works where a parent folder may not be traversed. */
    static const DWORD tries[] = {
        FILE_NAME_NORMALIZED | VOLUME_NAME_DOS, FILE_NAME_OPENED | VOLUME_NAME_DOS,
        FILE_NAME_NORMALIZED | VOLUME_NAME_GUID, FILE_NAME_NORMALIZED | VOLUME_NAME_NT,
        FILE_NAME_OPENED | VOLUME_NAME_NT};
    size_t i;
    DWORD first = 0;
    for (i = 0; i < sizeof tries / sizeof tries[0]; i++) {
        wchar_t *p = final_path(h, tries[i]);
        if (p) {
            if (is_nt)
                *is_nt = (tries[i] & VOLUME_NAME_NT) != 0;
            return p;
        }
        if (!first)
            first = GetLastError();
    }
    SetLastError(first);
    return NULL;
}
