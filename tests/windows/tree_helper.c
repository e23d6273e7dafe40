/* Helper processes for test_tree_win:
 *
 *   tree_helper fight HOLD READY PARENT AWAY LINKTARGET REPORT MARKER
 *       A holder that fights back: holds HOLD with no sharing, shows a
 *       window, writes READY. When asked to end (WM_CLOSE, or Ctrl-Break on
 *       a console), it first renames PARENT to AWAY and puts a link to
 *       LINKTARGET where PARENT was (a junction; under wine a Unix symlink),
 *       writes "rename=<error> link=<what>" to REPORT, then exits.
 *   tree_helper guard REPORT
 *       Asks lk_sys_proc_end to end, by force, its parent, its grandparent,
 *       pids 4 and 0 and itself, one line each to REPORT, then "done".
 *   tree_helper chain REPORT
 *       Starts "tree_helper guard REPORT" and waits for it: the guard's
 *       grandparent is then the test itself.
 */
#include <windows.h>
#include <shellapi.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "latchkey/error.h"
#include "latchkey/sys.h"
#include "win_fs.h"

static LPWSTR *g_argv;
static HANDLE g_held;
static volatile LONG g_fought;

static void write_text(const wchar_t *path, const char *text)
{
    DWORD n = 0;
    HANDLE f = CreateFileW(path, GENERIC_WRITE, FILE_SHARE_READ, NULL, CREATE_ALWAYS,
                           FILE_ATTRIBUTE_NORMAL, NULL);
    if (f == INVALID_HANDLE_VALUE)
        return;
    WriteFile(f, text, (DWORD)strlen(text), &n, NULL);
    CloseHandle(f);
}

/* The swap: what a holder owned by the folder's owner can do the moment it
 * is asked to exit, while the doctor waits to delete. */
static void fight(void)
{
    char report[256];
    const char *link = "none";
    DWORD e = 0;
    if (InterlockedExchange(&g_fought, 1))
        return;
    if (!MoveFileExW(g_argv[4], g_argv[5], 0))
        e = GetLastError();
    if (e == 0) {
        link = make_dir_link(g_argv[4], g_argv[6], g_argv[8]);
        if (!link)
            link = "none";
    }
    snprintf(report, sizeof report, "rename=%lu link=%s\n", (unsigned long)e, link);
    write_text(g_argv[7], report);
    CloseHandle(g_held);
}

static LRESULT CALLBACK wnd_proc(HWND w, UINT msg, WPARAM wp, LPARAM lp)
{
    if (msg == WM_CLOSE) {
        fight();
        DestroyWindow(w);
        return 0;
    }
    if (msg == WM_DESTROY) {
        PostQuitMessage(0);
        return 0;
    }
    return DefWindowProcW(w, msg, wp, lp);
}

static BOOL WINAPI on_ctrl(DWORD type)
{
    (void)type;
    fight();
    ExitProcess(0);
    return TRUE;
}

static int run_fight(int argc)
{
    WNDCLASSW wc;
    HWND w;
    MSG msg;
    char ready[32];
    if (argc < 9)
        return 2;
    g_held = CreateFileW(g_argv[2], GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_ALWAYS,
                         FILE_ATTRIBUTE_NORMAL, NULL);
    if (g_held == INVALID_HANDLE_VALUE)
        return 1;
    SetConsoleCtrlHandler(on_ctrl, TRUE);
    memset(&wc, 0, sizeof wc);
    wc.lpfnWndProc = wnd_proc;
    wc.hInstance = GetModuleHandleW(NULL);
    wc.lpszClassName = L"LatchkeyTreeHelper";
    RegisterClassW(&wc);
    w = CreateWindowExW(0, wc.lpszClassName, L"tree_helper", WS_OVERLAPPEDWINDOW | WS_VISIBLE, 0, 0,
                        200, 100, NULL, NULL, wc.hInstance, NULL);
    snprintf(ready, sizeof ready, "%lu %s\n", (unsigned long)GetCurrentProcessId(),
             w ? "window" : "nowindow");
    write_text(g_argv[3], ready);
    while (GetMessageW(&msg, NULL, 0, 0) > 0) {
        TranslateMessage(&msg);
        DispatchMessageW(&msg);
    }
    return 0;
}

/* ---- the kill guard, tried from below ------------------------------------ */

static void try_end(FILE *out, const char *what, const lk_snapshot *snap, long pid)
{
    const lk_proc *p = lk_snapshot_find(snap, pid);
    lk_error err;
    int rc;
    lk_error_clear(&err);
    /* The right start stamp, and force: only the guard stands in the way. */
    rc = lk_sys_proc_end(pid, p ? p->start_id : 0, 1, &err);
    fprintf(out, "%s %ld %s %s\n", what, pid, lk_code_name((lk_code)rc), rc ? err.msg : "ended");
    fflush(out);
}

static int run_guard(void)
{
    lk_snapshot *snap = NULL;
    const lk_proc *me, *parent;
    FILE *out = _wfopen(g_argv[2], L"wb");
    lk_error err;
    if (!out)
        return 1;
    if (lk_sys_snapshot(&snap, LK_SNAP_PROCS, &err) != LK_OK) {
        fprintf(out, "snapshot failed: %s\n", err.msg);
        fclose(out);
        return 1;
    }
    me = lk_snapshot_find(snap, lk_sys_self_pid());
    parent = me ? lk_snapshot_find(snap, me->ppid) : NULL;
    fprintf(out, "pids: self %ld parent %ld grandparent %ld\n", lk_sys_self_pid(),
            me ? me->ppid : 0L, parent ? parent->ppid : 0L);
    if (me && me->ppid > 0)
        try_end(out, "parent", snap, me->ppid);
    if (parent && parent->ppid > 0)
        try_end(out, "grandparent", snap, parent->ppid);
    try_end(out, "pid4", snap, 4);
    try_end(out, "pid0", snap, 0);
    try_end(out, "self", snap, lk_sys_self_pid());
    fprintf(out, "done\n");
    fclose(out);
    lk_snapshot_free(snap);
    return 0;
}

static int run_chain(void)
{
    wchar_t self[MAX_PATH], cmd[3 * MAX_PATH];
    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    DWORD code = 1;
    GetModuleFileNameW(NULL, self, MAX_PATH);
    _snwprintf(cmd, sizeof cmd / sizeof cmd[0], L"\"%ls\" guard \"%ls\"", self, g_argv[2]);
    cmd[sizeof cmd / sizeof cmd[0] - 1] = L'\0';
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    if (!CreateProcessW(NULL, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi))
        return 3;
    WaitForSingleObject(pi.hProcess, 60000);
    GetExitCodeProcess(pi.hProcess, &code);
    CloseHandle(pi.hProcess);
    CloseHandle(pi.hThread);
    return code == 0 ? 0 : 4;
}

int main(void)
{
    int argc = 0;
    g_argv = CommandLineToArgvW(GetCommandLineW(), &argc);
    if (!g_argv || argc < 3)
        return 2;
    if (wcscmp(g_argv[1], L"fight") == 0)
        return run_fight(argc);
    if (wcscmp(g_argv[1], L"guard") == 0)
        return run_guard();
    if (wcscmp(g_argv[1], L"chain") == 0)
        return run_chain();
    return 2;
}
