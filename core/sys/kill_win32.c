/* Ending processes on Windows. Every action goes through a process handle
 * whose creation time was checked first: while we hold that handle the pid
 * cannot be reused, so the process we check is the process we signal. And
 * whatever the caller planned, this process, its ancestors, pids 0 and 4
 * and critical processes are refused here: the last line of the guard rails. */
#include "sys/win32_util.h"

#include <stdlib.h>
#include <string.h>

#define LK_CONSOLE_IGNORE_MS 3000

/* 1 when h is the process that started at start_id and has not exited. */
static int handle_is(HANDLE h, uint64_t start_id)
{
    FILETIME ct, et, kt, ut;
    DWORD code;
    if (!GetProcessTimes(h, &ct, &et, &kt, &ut) || lk__ft_u64(ct) != start_id)
        return 0;
    /* The object outlives the process while handles to it remain: exited is gone. */
    if (WaitForSingleObject(h, 0) == WAIT_OBJECT_0)
        return 0;
    if (GetExitCodeProcess(h, &code) && code != STILL_ACTIVE)
        return 0;
    return 1;
}

long lk_sys_self_pid(void)
{
    return (long)GetCurrentProcessId();
}

int lk_sys_proc_same(long pid, uint64_t start_id)
{
    HANDLE h;
    uint64_t ct = 0;
    int same;
    if (pid <= 0)
        return 0;
    h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, FALSE, (DWORD)pid);
    if (!h && GetLastError() == ERROR_ACCESS_DENIED)
        h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, (DWORD)pid);
    if (h) {
        same = handle_is(h, start_id);
        CloseHandle(h);
        return same;
    }
    if (GetLastError() == ERROR_INVALID_PARAMETER)
        return 0; /* no such process */
    /* Exists but closed to us: the process table still tells its creation time. */
    return lk__spi_create_time((DWORD)pid, &ct) && ct == start_id;
}

/* ---- graceful: WM_CLOSE to its windows ----------------------------------- */

typedef struct close_ctx {
    DWORD pid;
    int posted;
} close_ctx;

static BOOL CALLBACK post_close(HWND w, LPARAM lp)
{
    close_ctx *c = (close_ctx *)lp;
    DWORD pid = 0;
    GetWindowThreadProcessId(w, &pid);
    /* Visible, unowned top-level windows: what the user would close with the
     * mouse. Hidden helper windows get no surprise messages. */
    if (pid == c->pid && IsWindowVisible(w) && !GetWindow(w, GW_OWNER) &&
        PostMessageW(w, WM_CLOSE, 0, 0))
        c->posted++;
    return TRUE;
}

/* ---- graceful: Ctrl-Break to a console process --------------------------- */

/* Console attachment is per process, so it is serialised process-wide. */
static SRWLOCK g_console_lock = SRWLOCK_INIT;
/* Until when our own ctrl handler swallows events: the event we send reaches
 * us too, possibly after we have detached again. */
static volatile LONG64 g_ignore_ctrl_until;
static INIT_ONCE g_handler_once = INIT_ONCE_STATIC_INIT;

static BOOL WINAPI ignore_ctrl(DWORD type)
{
    (void)type;
    /* TRUE: handled, do not run the next handler (the default one exits). */
    return (LONG64)GetTickCount64() < InterlockedCompareExchange64(&g_ignore_ctrl_until, 0, 0);
}

static BOOL CALLBACK install_handler(PINIT_ONCE once, void *param, void **ctx)
{
    (void)once;
    (void)param;
    (void)ctx;
    return SetConsoleCtrlHandler(ignore_ctrl, TRUE);
}

static int contains(const DWORD *list, DWORD n, DWORD pid)
{
    DWORD i;
    for (i = 0; i < n; i++)
        if (list[i] == pid)
            return 1;
    return 0;
}

static int only_us_and(const DWORD *list, DWORD n, DWORD pid)
{
    DWORD i, self = GetCurrentProcessId();
    int seen = 0;
    for (i = 0; i < n; i++) {
        if (list[i] == pid)
            seen = 1;
        else if (list[i] != self)
            return 0;
    }
    return seen;
}

static int std_is_console(DWORD which)
{
    HANDLE h = GetStdHandle(which);
    return h && h != INVALID_HANDLE_VALUE && GetFileType(h) == FILE_TYPE_CHAR;
}

/* Ctrl-Break reaches every process on a console (a process group can only be
 * addressed by its leader's pid, which we cannot verify). So it is sent only
 * when the target is alone on its console, apart from us: never to the shell
 * that started it or to a decoy sharing the window. */
static int ctrl_break(DWORD pid)
{
    DWORD list[64];
    DWORD n;
    int sent = 0, had_console;

    if (!InitOnceExecuteOnce(&g_handler_once, install_handler, NULL, NULL))
        return LK_ENOTSUP;
    AcquireSRWLockExclusive(&g_console_lock);
    InterlockedExchange64(&g_ignore_ctrl_until, (LONG64)GetTickCount64() + LK_CONSOLE_IGNORE_MS);
    n = GetConsoleProcessList(list, 64);
    had_console = n > 0;
    if (n > 64) {
        sent = 0; /* a crowded console of ours: the target is not alone anywhere near */
    } else if (n > 0 && contains(list, n, pid)) {
        /* It shares our console: fine only when nobody else does. */
        sent = only_us_and(list, n, pid) && GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT, 0);
    } else if (had_console &&
               (std_is_console(STD_OUTPUT_HANDLE) || std_is_console(STD_ERROR_HANDLE))) {
        /* Reaching its console means leaving ours while we still write to it. */
        sent = 0;
    } else {
        if (had_console)
            FreeConsole();
        if (AttachConsole(pid)) {
            n = GetConsoleProcessList(list, 64);
            if (n > 0 && n <= 64 && only_us_and(list, n, pid))
                sent = GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT, 0) != 0;
            FreeConsole();
        }
        if (had_console)
            AttachConsole(ATTACH_PARENT_PROCESS); /* back to the console we came from */
    }
    InterlockedExchange64(&g_ignore_ctrl_until, (LONG64)GetTickCount64() + LK_CONSOLE_IGNORE_MS);
    ReleaseSRWLockExclusive(&g_console_lock);
    return sent ? LK_OK : LK_ENOTSUP;
}

/* ---- the last guard rails ------------------------------------------------ */

/* Processes Windows cannot live without, by image name: ending one bugchecks
 * the machine or logs everybody out. */
static const wchar_t *const critical_images[] = {
    L"System",       L"Secure System", L"Registry",    L"Memory Compression",
    L"smss.exe",     L"csrss.exe",     L"wininit.exe", L"winlogon.exe",
    L"services.exe", L"lsass.exe",     L"lsaiso.exe",  NULL};

static const lk__spi *spi_find(const void *buf, DWORD pid)
{
    const unsigned char *p = buf;
    for (;;) {
        const lk__spi *e = (const lk__spi *)p;
        if ((DWORD)(ULONG_PTR)e->UniqueProcessId == pid)
            return e;
        if (!e->NextEntryOffset)
            return NULL;
        p += e->NextEntryOffset;
    }
}

/* Refuses what no caller may end, whatever it planned: LK_OK to go on. */
static int guard(long pid, lk_error *err)
{
    DWORD self = GetCurrentProcessId(), cur = self;
    const lk__spi *me, *target;
    void *buf = NULL;
    size_t depth;
    int rc = LK_OK;

    if (pid == 0)
        return lk_error_set(err, LK_EREFUSED, 0, "refusing to end pid 0: the system idle process");
    if (pid == 4)
        return lk_error_set(err, LK_EREFUSED, 0, "refusing to end pid 4: the System process");
    if (pid == 1)
        return lk_error_set(err, LK_EREFUSED, 0, "refusing to end pid 1");
    if ((DWORD)pid == self)
        return lk_error_set(err, LK_EREFUSED, 0, "refusing to end pid %ld: it is this process",
                            pid);
    /* The process table names every parent without opening anything, so a
     * parent closed to us is still recognised. */
    if (!NT_SUCCESS(lk__query_system(LK__SystemProcessInformation, &buf, 0x40000)))
        return lk_error_set(err, LK_EREFUSED, 0,
                            "refusing to end pid %ld: the process table cannot be read, so its "
                            "relation to this process is unknown",
                            pid);
    me = spi_find(buf, self);
    /* Up the chain of parents. A parent that started after its child is
     * another process under a reused pid: the real parent is gone, and the
     * chain ends there. */
    for (depth = 0; me && depth < 4096; depth++) {
        DWORD ppid = (DWORD)(ULONG_PTR)me->InheritedFromUniqueProcessId;
        const lk__spi *parent;
        if (ppid == 0 || ppid == cur)
            break;
        parent = spi_find(buf, ppid);
        if (!parent || parent->CreateTime.QuadPart > me->CreateTime.QuadPart)
            break;
        if (ppid == (DWORD)pid) {
            rc = lk_error_set(err, LK_EREFUSED, 0,
                              "refusing to end pid %ld (%.*ls): it is %s of this process", pid,
                              (int)(parent->ImageName.Length / sizeof(wchar_t)),
                              parent->ImageName.Buffer ? parent->ImageName.Buffer : L"",
                              depth == 0 ? "the parent" : "an ancestor");
            break;
        }
        cur = ppid;
        me = parent;
    }
    target = rc == LK_OK ? spi_find(buf, (DWORD)pid) : NULL;
    if (target && target->ImageName.Buffer) {
        size_t len = target->ImageName.Length / sizeof(wchar_t), i;
        for (i = 0; critical_images[i]; i++)
            if (wcslen(critical_images[i]) == len &&
                _wcsnicmp(target->ImageName.Buffer, critical_images[i], len) == 0)
                rc = lk_error_set(err, LK_EREFUSED, 0,
                                  "refusing to end pid %ld (%ls): a critical system process", pid,
                                  critical_images[i]);
    }
    free(buf);
    return rc;
}

/* RtlSetProcessIsCritical: ending such a process bugchecks the machine. */
static int refuse_if_critical(HANDLE h, long pid, lk_error *err)
{
    ULONG brk = 0, ret = 0;
    NTSTATUS st = NtQueryInformationProcess(h, (PROCESSINFOCLASS)LK__ProcessBreakOnTermination,
                                            &brk, sizeof brk, &ret);
    if (NT_SUCCESS(st))
        return brk ? lk_error_set(err, LK_EREFUSED, 0,
                                  "refusing to end pid %ld: a critical process (ending it would "
                                  "stop the system)",
                                  pid)
                   : LK_OK;
    /* A system without the flag (wine) has no critical processes to ask about. */
    if (st == (NTSTATUS)0xC0000003L /* STATUS_INVALID_INFO_CLASS */ ||
        st == (NTSTATUS)0xC0000002L /* STATUS_NOT_IMPLEMENTED */)
        return LK_OK;
    return lk_error_set(err, LK_EREFUSED, 0,
                        "refusing to end pid %ld: cannot tell whether it is a critical process "
                        "(0x%08lx)",
                        pid, (unsigned long)st);
}

/* ---- ending -------------------------------------------------------------- */

int lk_sys_proc_end(long pid, uint64_t start_id, int force, lk_error *err)
{
    HANDLE h;
    DWORD e;
    int rc;

    if (pid < 0)
        return lk_error_set(err, LK_EINVAL, 0, "invalid pid %ld", pid);
    if ((rc = guard(pid, err)) != LK_OK)
        return rc;
    h = OpenProcess(PROCESS_TERMINATE | PROCESS_QUERY_INFORMATION | SYNCHRONIZE, FALSE, (DWORD)pid);
    if (!h && GetLastError() == ERROR_ACCESS_DENIED)
        h = OpenProcess(PROCESS_TERMINATE | PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, FALSE,
                        (DWORD)pid);
    if (!h) {
        e = GetLastError();
        if (e == ERROR_INVALID_PARAMETER)
            return lk_error_set(err, LK_ENOENT, 0, "process %ld is gone", pid);
        return lk__win_error(err, e, "cannot open the process to end it");
    }
    if (!handle_is(h, start_id)) {
        CloseHandle(h);
        return lk_error_set(err, LK_ENOENT, 0, "process %ld is gone (or the pid was reused)", pid);
    }
    if ((rc = refuse_if_critical(h, pid, err)) != LK_OK) {
        CloseHandle(h);
        return rc;
    }
    if (force) {
        if (TerminateProcess(h, 1)) {
            rc = LK_OK;
        } else {
            e = GetLastError();
            /* Already on its way out: TerminateProcess says "access denied". */
            if (WaitForSingleObject(h, 0) == WAIT_OBJECT_0)
                rc = LK_OK;
            else
                rc = lk__win_error(err, e, "TerminateProcess failed");
        }
    } else {
        close_ctx c = {(DWORD)pid, 0};
        EnumWindows(post_close, (LPARAM)&c);
        if (c.posted)
            rc = LK_OK;
        else if (ctrl_break((DWORD)pid) == LK_OK)
            rc = LK_OK;
        else
            rc = lk_error_set(err, LK_ENOTSUP, 0,
                              "process %ld has no window to close and no console of its own", pid);
    }
    CloseHandle(h);
    return rc;
}

/* ---- waiting ------------------------------------------------------------- */

size_t lk_sys_proc_wait(const long *pids, const uint64_t *start_ids, size_t n, int64_t deadline_ms,
                        int *alive)
{
    HANDLE *hs;
    int *poll; /* 1: could not get a waitable handle; checked by identity instead */
    size_t i, left = 0;

    if (n == 0)
        return 0;
    hs = calloc(n, sizeof *hs);
    poll = calloc(n, sizeof *poll);
    if (!hs || !poll) {
        free(hs);
        free(poll);
        /* Cannot wait properly: report the truth as of now. */
        for (i = 0; i < n; i++) {
            int a = lk_sys_proc_same(pids[i], start_ids[i]);
            if (alive)
                alive[i] = a;
            left += (size_t)a;
        }
        return left;
    }
    for (i = 0; i < n; i++) {
        HANDLE h = NULL;
        if (pids[i] > 0)
            h = OpenProcess(SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION, FALSE, (DWORD)pids[i]);
        if (h && !handle_is(h, start_ids[i])) {
            CloseHandle(h); /* gone, or a new process under a reused pid */
            h = NULL;
        } else if (!h && GetLastError() == ERROR_ACCESS_DENIED) {
            poll[i] = 1;
        }
        hs[i] = h;
    }

    for (;;) {
        HANDLE chunk[MAXIMUM_WAIT_OBJECTS];
        size_t m = 0;
        int any_poll = 0;
        int64_t now = lk_sys_now_ms(), wait;
        for (i = 0; i < n; i++) {
            if (poll[i] && !lk_sys_proc_same(pids[i], start_ids[i]))
                poll[i] = 0;
            any_poll |= poll[i];
        }
        /* Wait for all of the first chunk of live handles; the next round
         * moves on to the rest. Pollers need us back every 50 ms. */
        for (i = 0; i < n && m < MAXIMUM_WAIT_OBJECTS; i++)
            if (hs[i] && WaitForSingleObject(hs[i], 0) != WAIT_OBJECT_0)
                chunk[m++] = hs[i];
        if ((m == 0 && !any_poll) || now >= deadline_ms)
            break;
        wait = deadline_ms - now;
        if (any_poll && wait > 50)
            wait = 50;
        if (m)
            WaitForMultipleObjects((DWORD)m, chunk, TRUE, (DWORD)wait);
        else
            Sleep((DWORD)wait);
    }

    for (i = 0; i < n; i++) {
        int a = poll[i] || (hs[i] && WaitForSingleObject(hs[i], 0) != WAIT_OBJECT_0);
        if (alive)
            alive[i] = a;
        left += (size_t)a;
        if (hs[i])
            CloseHandle(hs[i]);
    }
    free(hs);
    free(poll);
    return left;
}
