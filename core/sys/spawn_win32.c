/* A process tree we own, on Windows: the child starts suspended, joins a job
 * object that kills everything in it when the last handle closes, and only
 * then runs, so nothing it starts can escape, and when Latchkey exits or
 * crashes the kernel closes the job and ends the tree. */
#include "sys/win32_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#define LK_CMDLINE_MAX 32767 /* CreateProcessW's limit, in characters */

struct lk_child {
    HANDLE process;
    HANDLE job;
    DWORD pid;
    uint64_t start_id;
};

/* ---- the command line ----------------------------------------------------- */

/* Appends one argument quoted so that the MSVCRT (and CommandLineToArgvW)
 * parser gives it back unchanged: backslashes are literal except before a
 * quote, where they double; a quote is escaped with one more backslash.
 * Returns the new length, or (size_t)-1 when it does not fit. */
static size_t quote_arg(wchar_t *dst, size_t at, size_t cap, const wchar_t *arg)
{
    const wchar_t *p;
    size_t slashes;
#define PUT(ch)                                                                                    \
    do {                                                                                           \
        if (at + 1 >= cap)                                                                         \
            return (size_t)-1;                                                                     \
        dst[at++] = (ch);                                                                          \
    } while (0)
    if (*arg && !wcspbrk(arg, L" \t\n\v\"")) {
        for (p = arg; *p; p++)
            PUT(*p);
        return at;
    }
    PUT(L'"');
    for (p = arg;; p++) {
        for (slashes = 0; *p == L'\\'; p++)
            slashes++;
        if (!*p) {
            /* Before the closing quote every backslash must be doubled. */
            for (slashes *= 2; slashes; slashes--)
                PUT(L'\\');
            break;
        }
        if (*p == L'"') {
            for (slashes = slashes * 2 + 1; slashes; slashes--)
                PUT(L'\\');
        } else {
            for (; slashes; slashes--)
                PUT(L'\\');
        }
        PUT(*p);
    }
    PUT(L'"');
    return at;
#undef PUT
}

static int build_cmdline(const char *const *argv, wchar_t **out, lk_error *err)
{
    wchar_t *cmd = malloc(LK_CMDLINE_MAX * sizeof *cmd);
    size_t at = 0, i;
    *out = NULL;
    if (!cmd)
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    for (i = 0; argv[i]; i++) {
        wchar_t *w = lk__w_from_utf8(argv[i]);
        if (!w) {
            free(cmd);
            return lk_error_set(err, LK_EINVAL, 0, "argument %u is not valid UTF-8", (unsigned)i);
        }
        if (i > 0 && at + 1 < LK_CMDLINE_MAX)
            cmd[at++] = L' ';
        at = quote_arg(cmd, at, LK_CMDLINE_MAX, w);
        free(w);
        if (at == (size_t)-1) {
            free(cmd);
            return lk_error_set(err, LK_EINVAL, 0, "command line longer than %d characters",
                                LK_CMDLINE_MAX);
        }
    }
    cmd[at] = L'\0';
    *out = cmd;
    return LK_OK;
}

/* ---- handles -------------------------------------------------------------- */

static HANDLE open_inheritable(const wchar_t *path, DWORD access, DWORD disposition)
{
    SECURITY_ATTRIBUTES sa;
    sa.nLength = sizeof sa;
    sa.lpSecurityDescriptor = NULL;
    sa.bInheritHandle = TRUE;
    /* Share everything: the log must stay readable and deletable while the
     * browser writes it (a locked log would be one more EBUSY). */
    return CreateFileW(path, access, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, &sa,
                       disposition, FILE_ATTRIBUTE_NORMAL, NULL);
}

static HANDLE make_job(void)
{
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION li;
    HANDLE job = CreateJobObjectW(NULL, NULL); /* not inheritable: only we hold it */
    if (!job)
        return NULL;
    memset(&li, 0, sizeof li);
    li.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
    if (!SetInformationJobObject(job, JobObjectExtendedLimitInformation, &li, sizeof li)) {
        DWORD e = GetLastError();
        CloseHandle(job);
        SetLastError(e);
        return NULL;
    }
    return job;
}

/* ---- spawn ---------------------------------------------------------------- */

int lk_sys_spawn(const char *const *argv, const char *log_path, lk_child **out, lk_error *err)
{
    STARTUPINFOEXW si;
    PROCESS_INFORMATION pi;
    LPPROC_THREAD_ATTRIBUTE_LIST attrs = NULL;
    SIZE_T attrs_size = 0;
    HANDLE in = INVALID_HANDLE_VALUE, outh = INVALID_HANDLE_VALUE, inherit[2];
    wchar_t *cmd = NULL, *wlog = NULL;
    lk_child *c = NULL;
    DWORD flags, e;
    FILETIME ct, xt, kt, ut;
    int rc = LK_OK;

    *out = NULL;
    if (!argv || !argv[0] || !argv[0][0])
        return lk_error_set(err, LK_EINVAL, 0, "nothing to run");
    memset(&pi, 0, sizeof pi);
    if ((rc = build_cmdline(argv, &cmd, err)) != LK_OK)
        return rc;
    c = calloc(1, sizeof *c);
    if (!c) {
        rc = lk_error_set(err, LK_ENOMEM, 0, "out of memory");
        goto done;
    }
    in = open_inheritable(L"NUL", GENERIC_READ, OPEN_EXISTING);
    if (log_path) {
        if (!(wlog = lk__w_path(log_path))) {
            rc = lk_error_set(err, LK_EINVAL, 0, "%s: not a valid path", log_path);
            goto done;
        }
        outh = open_inheritable(wlog, FILE_APPEND_DATA | SYNCHRONIZE, OPEN_ALWAYS);
    } else {
        outh = open_inheritable(L"NUL", GENERIC_WRITE, OPEN_EXISTING);
    }
    if (in == INVALID_HANDLE_VALUE || outh == INVALID_HANDLE_VALUE) {
        rc = lk__win_error(err, GetLastError(), log_path ? log_path : "NUL");
        goto done;
    }

    /* Only these two handles reach the child, not every inheritable handle
     * some library of ours happens to own (Windows' close-on-exec). */
    InitializeProcThreadAttributeList(NULL, 1, 0, &attrs_size);
    attrs = malloc(attrs_size);
    inherit[0] = in;
    inherit[1] = outh;
    if (!attrs || !InitializeProcThreadAttributeList(attrs, 1, 0, &attrs_size)) {
        free(attrs);
        attrs = NULL;
        rc = lk__win_error(err, GetLastError(), "InitializeProcThreadAttributeList");
        goto done;
    }
    if (!UpdateProcThreadAttribute(attrs, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, inherit,
                                   sizeof inherit, NULL, NULL)) {
        rc = lk__win_error(err, GetLastError(), "UpdateProcThreadAttribute");
        goto done;
    }
    memset(&si, 0, sizeof si);
    si.StartupInfo.cb = sizeof si;
    si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
    si.StartupInfo.hStdInput = in;
    si.StartupInfo.hStdOutput = outh;
    si.StartupInfo.hStdError = outh;
    si.lpAttributeList = attrs;

    if (!(c->job = make_job())) {
        rc = lk__win_error(err, GetLastError(), "cannot create a job object");
        goto done;
    }
    /* Suspended until it is in the job, so its first child is in it too.
     * CREATE_NO_WINDOW: a console helper must not pop up a console window
     * from the tray app. CREATE_NEW_PROCESS_GROUP: our Ctrl-C is not its. */
    flags = CREATE_SUSPENDED | CREATE_NEW_PROCESS_GROUP | CREATE_UNICODE_ENVIRONMENT |
            EXTENDED_STARTUPINFO_PRESENT | CREATE_NO_WINDOW;
    if (!CreateProcessW(NULL, cmd, NULL, NULL, TRUE, flags, NULL, NULL, &si.StartupInfo, &pi)) {
        char what[600];
        e = GetLastError();
        snprintf(what, sizeof what, "cannot run %s", argv[0]);
        rc = lk__win_error(err, e, what);
        goto done;
    }
    if (!AssignProcessToJobObject(c->job, pi.hProcess)) {
        e = GetLastError();
        TerminateProcess(pi.hProcess, 1);
        WaitForSingleObject(pi.hProcess, 5000);
        rc = lk__win_error(err, e, "cannot put the process in its job object");
        goto done;
    }
    if (GetProcessTimes(pi.hProcess, &ct, &xt, &kt, &ut))
        c->start_id = lk__ft_u64(ct); /* the stamp lk_sys_proc_same compares */
    if (ResumeThread(pi.hThread) == (DWORD)-1) {
        e = GetLastError();
        TerminateJobObject(c->job, 1);
        rc = lk__win_error(err, e, "cannot start the process");
        goto done;
    }
    c->process = pi.hProcess;
    c->pid = pi.dwProcessId;
    pi.hProcess = NULL;
    *out = c;
    c = NULL;

done:
    if (pi.hThread)
        CloseHandle(pi.hThread);
    if (pi.hProcess)
        CloseHandle(pi.hProcess);
    if (attrs) {
        DeleteProcThreadAttributeList(attrs);
        free(attrs);
    }
    if (in != INVALID_HANDLE_VALUE)
        CloseHandle(in);
    if (outh != INVALID_HANDLE_VALUE)
        CloseHandle(outh);
    if (c) {
        if (c->job)
            CloseHandle(c->job);
        free(c);
    }
    free(wlog);
    free(cmd);
    return rc;
}

long lk_child_pid(const lk_child *c)
{
    return c ? (long)c->pid : 0;
}

uint64_t lk_child_start_id(const lk_child *c)
{
    return c ? c->start_id : 0;
}

int lk_child_wait(lk_child *c, int64_t deadline_ms)
{
    int64_t rest;
    if (!c || !c->process)
        return 1;
    rest = deadline_ms - lk_sys_now_ms();
    if (rest < 0)
        rest = 0;
    if (rest > 0x7ffffffe)
        rest = 0x7ffffffe;
    return WaitForSingleObject(c->process, (DWORD)rest) == WAIT_OBJECT_0;
}

/* ---- the tree ------------------------------------------------------------- */

/* The pids of the job's processes; malloc'd, NULL when the query fails. */
static JOBOBJECT_BASIC_PROCESS_ID_LIST *job_pids(HANDLE job)
{
    DWORD cap = 64;
    for (;;) {
        DWORD size = (DWORD)(sizeof(JOBOBJECT_BASIC_PROCESS_ID_LIST) + cap * sizeof(ULONG_PTR));
        JOBOBJECT_BASIC_PROCESS_ID_LIST *l = malloc(size);
        if (!l)
            return NULL;
        if (QueryInformationJobObject(job, JobObjectBasicProcessIdList, l, size, NULL) ||
            GetLastError() == ERROR_MORE_DATA) {
            if (l->NumberOfAssignedProcesses <= l->NumberOfProcessIdsInList || cap >= 65536)
                return l;
            cap = l->NumberOfAssignedProcesses + 16;
        } else {
            free(l);
            return NULL;
        }
        free(l);
    }
}

typedef struct close_ctx {
    const JOBOBJECT_BASIC_PROCESS_ID_LIST *pids;
    int posted;
} close_ctx;

static BOOL CALLBACK post_close(HWND w, LPARAM lp)
{
    close_ctx *c = (close_ctx *)lp;
    DWORD pid = 0, i;
    GetWindowThreadProcessId(w, &pid);
    for (i = 0; i < c->pids->NumberOfProcessIdsInList; i++)
        if ((DWORD)c->pids->ProcessIdList[i] == pid) {
            /* What the title bar's X does: Chromium saves its state and exits. */
            if (PostMessageW(w, WM_CLOSE, 0, 0))
                c->posted++;
            break;
        }
    return TRUE;
}

int lk_child_end_tree(lk_child *c, int force, lk_error *err)
{
    if (!c || !c->job)
        return lk_error_set(err, LK_EINVAL, 0, "no process tree");
    if (force) {
        if (!TerminateJobObject(c->job, 1))
            return lk__win_error(err, GetLastError(), "cannot end the job's processes");
        return LK_OK;
    }
    {
        /* Graceful: ask every top-level window of the tree to close. A
         * headless browser has none; the caller's short wait then forces. */
        JOBOBJECT_BASIC_PROCESS_ID_LIST *pids = job_pids(c->job);
        close_ctx ctx;
        if (!pids)
            return lk__win_error(err, GetLastError(), "cannot list the job's processes");
        ctx.pids = pids;
        ctx.posted = 0;
        EnumWindows(post_close, (LPARAM)&ctx);
        free(pids);
    }
    return LK_OK;
}

int lk_child_tree_count(lk_child *c)
{
    JOBOBJECT_BASIC_ACCOUNTING_INFORMATION ai;
    if (!c || !c->job)
        return 0;
    if (!QueryInformationJobObject(c->job, JobObjectBasicAccountingInformation, &ai, sizeof ai,
                                   NULL))
        return c->process && WaitForSingleObject(c->process, 0) == WAIT_TIMEOUT ? 1 : 0;
    return (int)ai.ActiveProcesses;
}

void lk_child_free(lk_child *c)
{
    if (!c)
        return;
    if (c->job)
        CloseHandle(c->job); /* KILL_ON_JOB_CLOSE: whatever is left ends here */
    if (c->process)
        CloseHandle(c->process);
    free(c);
}
