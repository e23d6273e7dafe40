/* The process snapshot on Windows: one pass over the system process table
 * (pid, parent, image name and creation time for every process, even those we
 * may not open), then per process what its handle lets us read: full image
 * path, command line, user, critical and console flags. */
#include "sys/win32_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include <sddl.h>
#include <shellapi.h>

#include "sys/snapshot_build.h"
#include "util/strv.h"

/* x64 offsets inside the PEB and RTL_USER_PROCESS_PARAMETERS; stable since
 * Windows XP x64 and what wine lays out too. Only used when the documented
 * ProcessCommandLineInformation class (Windows 8.1+) is missing. */
#define LK_PEB_PARAMS_OFFSET 0x20
#define LK_PARAMS_CMDLINE_OFFSET 0x70
#define LK_CMDLINE_MAX_BYTES 65534 /* UNICODE_STRING limit */

typedef struct lk__user {
    PSID sid;
    char *name;
} lk__user;

typedef struct lk__subsys {
    wchar_t *exe;
    int console;
} lk__subsys;

struct lk__proc_ctx {
    PSID self_sid;
    lk__user *users;
    size_t nusers, cap_users;
    lk__subsys *subsys;
    size_t nsubsys, cap_subsys;
    DWORD *gui; /* pids owning a visible top-level window, sorted */
    size_t ngui, cap_gui;
};

static const char *const critical_names[] = {
    "System",      "Secure System", "Registry",     "Memory Compression", "smss.exe",   "csrss.exe",
    "wininit.exe", "winlogon.exe",  "services.exe", "lsass.exe",          "lsaiso.exe", NULL};

static BOOL CALLBACK collect_gui(HWND w, LPARAM lp)
{
    lk__proc_ctx *c = (lk__proc_ctx *)lp;
    DWORD pid = 0;
    DWORD *slot;
    if (!IsWindowVisible(w))
        return TRUE;
    GetWindowThreadProcessId(w, &pid);
    slot = lk_push(&c->gui, &c->ngui, &c->cap_gui, sizeof *slot);
    if (slot)
        *slot = pid;
    return TRUE;
}

static int cmp_dword(const void *a, const void *b)
{
    DWORD x = *(const DWORD *)a, y = *(const DWORD *)b;
    return x < y ? -1 : x > y;
}

static PSID token_user_sid(HANDLE proc)
{
    HANDLE tok;
    DWORD need = 0;
    TOKEN_USER *tu;
    PSID copy = NULL;
    if (!OpenProcessToken(proc, TOKEN_QUERY, &tok))
        return NULL;
    GetTokenInformation(tok, TokenUser, NULL, 0, &need);
    tu = need ? malloc(need) : NULL;
    if (tu && GetTokenInformation(tok, TokenUser, tu, need, &need) && IsValidSid(tu->User.Sid)) {
        DWORD len = GetLengthSid(tu->User.Sid);
        copy = malloc(len);
        if (copy && !CopySid(len, copy, tu->User.Sid)) {
            free(copy);
            copy = NULL;
        }
    }
    free(tu);
    CloseHandle(tok);
    return copy;
}

lk__proc_ctx *lk__proc_ctx_new(void)
{
    lk__proc_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->self_sid = token_user_sid(GetCurrentProcess());
    EnumWindows(collect_gui, (LPARAM)c);
    if (c->ngui > 1)
        qsort(c->gui, c->ngui, sizeof *c->gui, cmp_dword);
    return c;
}

void lk__proc_ctx_free(lk__proc_ctx *c)
{
    size_t i;
    if (!c)
        return;
    for (i = 0; i < c->nusers; i++) {
        free(c->users[i].sid);
        free(c->users[i].name);
    }
    for (i = 0; i < c->nsubsys; i++)
        free(c->subsys[i].exe);
    free(c->users);
    free(c->subsys);
    free(c->gui);
    free(c->self_sid);
    free(c);
}

/* "DOMAIN\user", looked up once per distinct SID: LookupAccountSidW may ask a
 * domain controller. Returns a new string or NULL. */
static char *account_name(lk__proc_ctx *c, PSID sid)
{
    wchar_t name[256], dom[256], full[520];
    DWORD nn = 256, nd = 256;
    SID_NAME_USE use;
    lk__user *u;
    size_t i;
    for (i = 0; i < c->nusers; i++)
        if (EqualSid(c->users[i].sid, sid))
            return lk_strdup(c->users[i].name);
    u = lk_push(&c->users, &c->nusers, &c->cap_users, sizeof *u);
    if (!u)
        return NULL;
    u->sid = malloc(GetLengthSid(sid));
    if (u->sid)
        CopySid(GetLengthSid(sid), u->sid, sid);
    if (LookupAccountSidW(NULL, sid, name, &nn, dom, &nd, &use)) {
        if (dom[0])
            _snwprintf(full, 520, L"%ls\\%ls", dom, name);
        else
            _snwprintf(full, 520, L"%ls", name);
        full[519] = L'\0';
        u->name = lk__utf8_from_w(full, (size_t)-1);
    } else {
        wchar_t *str = NULL;
        if (ConvertSidToStringSidW(sid, &str)) {
            u->name = lk__utf8_from_w(str, (size_t)-1);
            LocalFree(str);
        }
    }
    if (!u->sid) { /* keep the cache consistent: drop the slot */
        free(u->name);
        c->nusers--;
        return NULL;
    }
    return lk_strdup(u->name);
}

/* Console subsystem of an executable, from its PE header on disk. */
static int exe_is_console(lk__proc_ctx *c, const wchar_t *exe)
{
    unsigned char hdr[1024];
    DWORD got = 0;
    HANDLE f;
    int console = 0;
    size_t i;
    lk__subsys *s;
    for (i = 0; i < c->nsubsys; i++)
        if (_wcsicmp(c->subsys[i].exe, exe) == 0)
            return c->subsys[i].console;
    f = CreateFileW(exe, FILE_READ_DATA, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                    NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    if (f != INVALID_HANDLE_VALUE) {
        if (ReadFile(f, hdr, sizeof hdr, &got, NULL) && got >= 64 && hdr[0] == 'M' &&
            hdr[1] == 'Z') {
            LONG off = *(const LONG *)(hdr + 0x3c);
            /* "PE\0\0", 20-byte file header, Subsystem at 68 into the optional header. */
            if (off > 0 && (DWORD)off + 24 + 70 <= got && memcmp(hdr + off, "PE\0\0", 4) == 0) {
                WORD sub = *(const WORD *)(hdr + off + 24 + 68);
                console = sub == IMAGE_SUBSYSTEM_WINDOWS_CUI;
            }
        }
        CloseHandle(f);
    }
    s = lk_push(&c->subsys, &c->nsubsys, &c->cap_subsys, sizeof *s);
    if (s) {
        s->exe = lk__wcs_dup(exe, (size_t)-1);
        s->console = console;
        if (!s->exe)
            c->nsubsys--;
    }
    return console;
}

static wchar_t *image_path(HANDLE h)
{
    DWORD n = 32768;
    wchar_t *buf = malloc(n * sizeof *buf);
    if (buf && QueryFullProcessImageNameW(h, 0, buf, &n))
        return buf;
    free(buf);
    return NULL;
}

/* The documented way (Windows 8.1+): a UNICODE_STRING followed by its text. */
static wchar_t *cmdline_query(HANDLE h)
{
    ULONG size = 4096, ret = 0;
    int tries;
    for (tries = 0; tries < 3; tries++) {
        UNICODE_STRING *us = malloc(size);
        NTSTATUS st;
        if (!us)
            return NULL;
        st = NtQueryInformationProcess(h, (PROCESSINFOCLASS)LK__ProcessCommandLineInformation, us,
                                       size, &ret);
        if (NT_SUCCESS(st)) {
            wchar_t *w = lk__wcs_dup(us->Buffer, us->Length / sizeof(wchar_t));
            free(us);
            return w;
        }
        free(us);
        if (st != STATUS_INFO_LENGTH_MISMATCH && st != STATUS_BUFFER_TOO_SMALL &&
            st != STATUS_BUFFER_OVERFLOW)
            return NULL;
        if (ret <= size || ret > 0x20000)
            return NULL;
        size = ret;
    }
    return NULL;
}

/* The fallback: read the PEB's process parameters (needs PROCESS_VM_READ). */
static wchar_t *cmdline_from_peb(DWORD pid)
{
    HANDLE h = OpenProcess(PROCESS_QUERY_INFORMATION | PROCESS_VM_READ, FALSE, pid);
    PROCESS_BASIC_INFORMATION pbi;
    ULONG ret = 0;
    SIZE_T rd = 0;
    ULONG_PTR params = 0;
    UNICODE_STRING us;
    wchar_t *w = NULL;
    if (!h)
        return NULL;
    if (NT_SUCCESS(NtQueryInformationProcess(h, ProcessBasicInformation, &pbi, sizeof pbi, &ret)) &&
        pbi.PebBaseAddress &&
        ReadProcessMemory(h, (const char *)pbi.PebBaseAddress + LK_PEB_PARAMS_OFFSET, &params,
                          sizeof params, &rd) &&
        params &&
        ReadProcessMemory(h, (const void *)(params + LK_PARAMS_CMDLINE_OFFSET), &us, sizeof us,
                          &rd) &&
        us.Buffer && us.Length > 0 && us.Length <= LK_CMDLINE_MAX_BYTES) {
        w = calloc((size_t)us.Length / sizeof(wchar_t) + 1, sizeof *w);
        if (w && !ReadProcessMemory(h, us.Buffer, w, us.Length, &rd)) {
            free(w);
            w = NULL;
        }
    }
    CloseHandle(h);
    return w;
}

/* Windows' own argv rules, so `--user-data-dir="C:\a b"` splits as Chromium saw it. */
static int split_args(lk_proc *p, const wchar_t *cmd)
{
    int argc = 0, i;
    LPWSTR *wargv;
    const wchar_t *q = cmd;
    while (*q == L' ' || *q == L'\t')
        q++;
    if (!*q) /* CommandLineToArgvW("") answers with our own exe path */
        return LK_OK;
    wargv = CommandLineToArgvW(cmd, &argc);
    if (!wargv)
        return LK_OK;
    p->argv = calloc((size_t)argc + 1, sizeof *p->argv);
    if (!p->argv) {
        LocalFree(wargv);
        return LK_ENOMEM;
    }
    for (i = 0; i < argc; i++) {
        p->argv[i] = lk__utf8_from_w(wargv[i], (size_t)-1);
        if (!p->argv[i]) {
            LocalFree(wargv);
            p->argc = i;
            return LK_ENOMEM;
        }
    }
    p->argc = argc;
    LocalFree(wargv);
    return LK_OK;
}

static int is_critical_name(const char *name)
{
    size_t i;
    for (i = 0; name && critical_names[i]; i++)
        if (_stricmp(name, critical_names[i]) == 0)
            return 1;
    return 0;
}

static int owns_visible_window(const lk__proc_ctx *c, DWORD pid)
{
    return c->ngui && bsearch(&pid, c->gui, c->ngui, sizeof *c->gui, cmp_dword) != NULL;
}

int lk__proc_fill(lk__proc_ctx *c, lk_proc *p, DWORD pid, DWORD ppid, const wchar_t *image,
                  size_t image_len, uint64_t create_time)
{
    HANDLE h;
    wchar_t *exe = NULL, *cmd = NULL;
    PSID sid;
    FILETIME ct, et, kt, ut;
    ULONG brk = 0, ret = 0;
    DWORD code = 0;

    p->pid = (long)pid;
    p->ppid = (long)ppid;
    if (pid == 0)
        p->name = lk_strdup("System Idle Process");
    else if (image && image_len)
        p->name = lk__utf8_from_w(image, image_len);
    p->start_id = create_time;
    if (pid == 0 || pid == 4 || is_critical_name(p->name))
        p->flags |= LK_PROC_CRITICAL;

    h = pid ? OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, FALSE, pid) : NULL;
    if (!h && pid && GetLastError() == ERROR_ACCESS_DENIED)
        h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
    if (!h) {
        /* Not even the limited right: a protected or another user's process.
         * Unknown owner counts as another user, so nothing acts on it lightly. */
        p->flags |= LK_PROC_OTHER_USER;
        p->start_ms = lk__ft_unix_ms(p->start_id);
        return p->name || pid == 0 || !image_len ? LK_OK : LK_ENOMEM;
    }
    /* GetProcessTimes is what lk_sys_proc_same compares with: use the same source. */
    if (GetProcessTimes(h, &ct, &et, &kt, &ut))
        p->start_id = lk__ft_u64(ct);
    p->start_ms = lk__ft_unix_ms(p->start_id);
    /* Exited, kept as an object by someone's handle: it holds nothing now. */
    if (WaitForSingleObject(h, 0) == WAIT_OBJECT_0 ||
        (GetExitCodeProcess(h, &code) && code != STILL_ACTIVE))
        p->flags |= LK_PROC_ZOMBIE;

    exe = image_path(h);
    if (exe) {
        p->exe = lk__utf8_from_w(exe, (size_t)-1);
        if (!p->name) { /* the table had no name: take the file name */
            const wchar_t *base = wcsrchr(exe, L'\\');
            p->name = lk__utf8_from_w(base ? base + 1 : exe, (size_t)-1);
        }
    }

    cmd = cmdline_query(h);
    if (!cmd)
        cmd = cmdline_from_peb(pid);
    if (cmd) {
        p->cmdline = lk__utf8_from_w(cmd, (size_t)-1);
        if (split_args(p, cmd) != LK_OK) {
            free(cmd);
            free(exe);
            CloseHandle(h);
            return LK_ENOMEM;
        }
    }

    sid = token_user_sid(h);
    if (sid) {
        p->user = account_name(c, sid);
        if (!c->self_sid || !EqualSid(sid, c->self_sid))
            p->flags |= LK_PROC_OTHER_USER;
        free(sid);
    } else {
        p->flags |= LK_PROC_OTHER_USER;
    }

    /* RtlSetProcessIsCritical: ending it bugchecks the machine. */
    if (NT_SUCCESS(NtQueryInformationProcess(h, (PROCESSINFOCLASS)LK__ProcessBreakOnTermination,
                                             &brk, sizeof brk, &ret)) &&
        brk)
        p->flags |= LK_PROC_CRITICAL;

    if (exe && !owns_visible_window(c, pid) && exe_is_console(c, exe))
        p->flags |= LK_PROC_CONSOLE;

    free(cmd);
    free(exe);
    CloseHandle(h);
    return LK_OK;
}

int lk_sys_snapshot(lk_snapshot **out, unsigned what, lk_error *err)
{
    lk_snap_builder b;
    lk__proc_ctx *ctx = NULL;
    void *table = NULL;
    const unsigned char *at;
    NTSTATUS st;
    int debug, rc;

    *out = NULL;
    if ((rc = lk__snap_begin(&b, err)) != LK_OK)
        return rc;
    /* With SeDebugPrivilege an administrator can open (and so inspect) services
     * and other users' processes; without it they end up in `blind`. */
    debug = lk__enable_debug_privilege();
    b.snap->elevated = lk__self_elevated() && debug;
    b.snap->case_insensitive_paths = 1;
    /* A process's current folder is an open handle without FILE_SHARE_DELETE. */
    b.snap->cwd_blocks_delete = 1;
    /* A process keeps its parent's pid after the parent exits. */
    b.snap->ppid_survives = 1;

    st = lk__query_system(LK__SystemProcessInformation, &table, 0x40000);
    if (!NT_SUCCESS(st)) {
        lk_snapshot_free(b.snap);
        return lk_error_set(err, LK_EIO, (int)st,
                            "cannot list processes: NtQuerySystemInformation failed (0x%08lx)",
                            (unsigned long)st);
    }
    ctx = lk__proc_ctx_new();
    if (!ctx) {
        free(table);
        lk_snapshot_free(b.snap);
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    }
    for (at = table;;) {
        const lk__spi *e = (const lk__spi *)at;
        lk_proc *p = lk__snap_proc(&b);
        if (!p || lk__proc_fill(ctx, p, (DWORD)(ULONG_PTR)e->UniqueProcessId,
                                (DWORD)(ULONG_PTR)e->InheritedFromUniqueProcessId,
                                e->ImageName.Buffer, e->ImageName.Length / sizeof(wchar_t),
                                (uint64_t)e->CreateTime.QuadPart) != LK_OK) {
            rc = lk_error_set(err, LK_ENOMEM, 0, "out of memory");
            break;
        }
        if (!e->NextEntryOffset)
            break;
        at += e->NextEntryOffset;
    }
    free(table);
    lk__proc_ctx_free(ctx);
    if (rc == LK_OK && (what & LK_SNAP_HANDLES))
        rc = lk__scan_holders(&b, err);
    if (rc != LK_OK) {
        lk_snapshot_free(b.snap);
        return rc;
    }
    *out = b.snap;
    return LK_OK;
}
