/* Running latchkeyctl.exe (or any program) from a Windows test: its exit
 * code, what it printed and how long it took. */
#ifndef LK_WIN_RUN_H
#define LK_WIN_RUN_H

#include <windows.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "latchkey/sys.h"

/* "/unix/path" (what ctest hands a program under wine) -> "Z:\unix\path";
 * a Windows path stays as it is. malloc'd. */
static inline wchar_t *host_path(const char *arg)
{
    size_t n = strlen(arg);
    wchar_t *w = malloc((n + 3) * sizeof *w), *p;
    int at = 0;
    if (!w)
        abort();
    if (arg[0] == '/') {
        w[0] = L'Z';
        w[1] = L':';
        at = 2;
    }
    MultiByteToWideChar(CP_UTF8, 0, arg, -1, w + at, (int)n + 1);
    for (p = w; *p; p++)
        if (*p == L'/')
            *p = L'\\';
    return w;
}

/* Runs "exe" args in cwd (NULL: ours), stdout into the file out; returns its
 * exit code (-1: could not run it, -2: still running after timeout_ms, then
 * ended) and what it printed (malloc'd, NUL-terminated; NULL when nothing
 * could be read). */
static inline int run_in(const wchar_t *exe, const wchar_t *args, const wchar_t *cwd,
                         const wchar_t *out, DWORD timeout_ms, char **text, int64_t *elapsed_ms)
{
    SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    wchar_t cmd[4 * MAX_PATH];
    HANDLE f = CreateFileW(out, GENERIC_WRITE, FILE_SHARE_READ, &sa, CREATE_ALWAYS,
                           FILE_ATTRIBUTE_NORMAL, NULL);
    DWORD code = 0, n = 0, size;
    int64_t t0 = lk_sys_now_ms();
    int rc;

    *text = NULL;
    if (f == INVALID_HANDLE_VALUE)
        return -1;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdOutput = f;
    si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
    si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    _snwprintf(cmd, sizeof cmd / sizeof cmd[0], L"\"%ls\" %ls", exe, args);
    cmd[sizeof cmd / sizeof cmd[0] - 1] = L'\0';
    if (!CreateProcessW(NULL, cmd, NULL, NULL, TRUE, 0, NULL, cwd, &si, &pi)) {
        CloseHandle(f);
        return -1;
    }
    CloseHandle(f);
    if (WaitForSingleObject(pi.hProcess, timeout_ms) != WAIT_OBJECT_0) {
        TerminateProcess(pi.hProcess, 99);
        WaitForSingleObject(pi.hProcess, 5000);
        rc = -2;
    } else {
        GetExitCodeProcess(pi.hProcess, &code);
        rc = (int)code;
    }
    if (elapsed_ms)
        *elapsed_ms = lk_sys_now_ms() - t0;
    CloseHandle(pi.hProcess);
    CloseHandle(pi.hThread);
    f = CreateFileW(out, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0,
                    NULL);
    if (f != INVALID_HANDLE_VALUE) {
        size = GetFileSize(f, NULL);
        *text = calloc(size + 1, 1);
        if (*text)
            ReadFile(f, *text, size, &n, NULL);
        CloseHandle(f);
    }
    return rc;
}

static inline int run(const wchar_t *exe, const wchar_t *args, const wchar_t *out, DWORD timeout_ms,
                      char **text, int64_t *elapsed_ms)
{
    return run_in(exe, args, NULL, out, timeout_ms, text, elapsed_ms);
}

/* A test's own temporary folder, removed at its end (what cannot go stays,
 * in the temporary folder). */
static inline void remove_test_tree(const wchar_t *dir)
{
    int n = WideCharToMultiByte(CP_UTF8, 0, dir, -1, NULL, 0, NULL, NULL);
    char *d = n > 0 ? malloc((size_t)n) : NULL;
    lk_remove_pass pass;
    lk_error err;
    if (!d)
        return;
    WideCharToMultiByte(CP_UTF8, 0, dir, -1, d, n, NULL, NULL);
    memset(&pass, 0, sizeof pass);
    lk_sys_remove_tree_once(d, &pass, &err);
    lk_remove_pass_free(&pass);
    free(d);
}

#endif
