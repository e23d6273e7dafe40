/* What the held-folder tests (test_tree_win, test_swap_win, test_guard_win)
 * share: processes, ready files, a scratch folder per run. */
#ifndef LK_WIN_TREE_TEST_H
#define LK_WIN_TREE_TEST_H

#include <windows.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "latchkey/sys.h"

#include "win_check.h"
#include "win_fs.h"

static wchar_t g_dir[MAX_PATH];    /* where the test's executables are */
static wchar_t g_marker[MAX_PATH]; /* the status file of unix_sh */

static inline void note(const char *fmt, ...)
{
    va_list ap;
    printf("#    ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

static inline int start(const wchar_t *cmdline, PROCESS_INFORMATION *pi)
{
    STARTUPINFOW si;
    wchar_t *buf = _wcsdup(cmdline);
    int ok;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    memset(pi, 0, sizeof *pi);
    ok = CreateProcessW(NULL, buf, NULL, NULL, FALSE, 0, NULL, NULL, &si, pi) != 0;
    if (!ok)
        note("CreateProcess failed (%lu): %ls", GetLastError(), cmdline);
    free(buf);
    return ok;
}

static inline void stop(PROCESS_INFORMATION *pi)
{
    if (pi->hProcess) {
        TerminateProcess(pi->hProcess, 9);
        WaitForSingleObject(pi->hProcess, 5000);
        CloseHandle(pi->hProcess);
        CloseHandle(pi->hThread);
        pi->hProcess = NULL;
    }
}

static inline uint64_t start_id_of(HANDLE h)
{
    FILETIME c, e, k, u;
    if (!GetProcessTimes(h, &c, &e, &k, &u))
        return 0;
    return ((uint64_t)c.dwHighDateTime << 32) | c.dwLowDateTime;
}

/* Waits (30 s) for a helper's ready file. */
static inline int wait_file(const wchar_t *path, HANDLE proc)
{
    int i;
    for (i = 0; i < 600; i++) {
        if (exists(path)) {
            Sleep(50); /* written and closed */
            return 1;
        }
        if (proc && WaitForSingleObject(proc, 50) == WAIT_OBJECT_0)
            return 0;
        if (!proc)
            Sleep(50);
    }
    return 0;
}

static inline char *read_text(const wchar_t *path)
{
    char *buf = NULL;
    char *p8 = u8(path);
    size_t n = 0;
    if (lk_sys_read_file(p8, 1 << 16, 0, &buf, &n, NULL) != LK_OK)
        buf = NULL;
    free(p8);
    return buf;
}

/* lock_helper (the existing holder) on `file`, with no sharing. */
static inline int hold(const wchar_t *file, const wchar_t *ready, PROCESS_INFORMATION *pi)
{
    wchar_t cmd[4 * MAX_PATH];
    DeleteFileW(ready);
    _snwprintf(cmd, sizeof cmd / sizeof cmd[0], L"\"%ls\\lock_helper.exe\" hold \"%ls\" \"%ls\"",
               g_dir, file, ready);
    cmd[sizeof cmd / sizeof cmd[0] - 1] = L'\0';
    return start(cmd, pi) && wait_file(ready, pi->hProcess);
}

static inline void mkdirs(const wchar_t *base, const wchar_t *const *rel)
{
    for (; *rel; rel++) {
        wchar_t *p = wjoin(base, *rel);
        CreateDirectoryW(p, NULL);
        free(p);
    }
}

static inline void put(const wchar_t *base, const wchar_t *rel, const char *text)
{
    wchar_t *p = wjoin(base, rel);
    make_file(p, text);
    free(p);
}

static inline int has_left(const lk_remove_pass *pass, const char *suffix, const char *why_part)
{
    size_t i, n = strlen(suffix);
    for (i = 0; i < pass->nleft; i++) {
        size_t m = strlen(pass->left[i]);
        if (m >= n && _stricmp(pass->left[i] + m - n, suffix) == 0 &&
            (!why_part || (pass->why && pass->why[i] && strstr(pass->why[i], why_part))))
            return 1;
    }
    return 0;
}

static inline void print_pass(const lk_remove_pass *pass)
{
    size_t i;
    for (i = 0; i < pass->nleft; i++)
        note("  left: %s (%s)", pass->left[i],
             pass->why && pass->why[i] ? pass->why[i] : "no reason given");
}

/* A scratch folder of its own for this run, under %TEMP%: unique, since
 * under wine the pid repeats from run to run and a run that was killed
 * leaves its folder (and its links) behind. */
static inline char *begin(const wchar_t *name, wchar_t *base)
{
    wchar_t tmp[MAX_PATH], *slash;
    char *base8;
    setvbuf(stdout, NULL, _IONBF, 0);
    GetModuleFileNameW(NULL, g_dir, MAX_PATH);
    slash = wcsrchr(g_dir, L'\\');
    if (slash)
        *slash = L'\0';
    GetTempPathW(MAX_PATH, tmp);
    _snwprintf(base, MAX_PATH, L"%lslk-%ls-%lu-%llu", tmp, name, GetCurrentProcessId(),
               (unsigned long long)GetTickCount64());
    base[MAX_PATH - 1] = L'\0';
    CreateDirectoryW(base, NULL);
    _snwprintf(g_marker, MAX_PATH, L"%ls\\unix-status", base);
    base8 = u8(base);
    note("working in %s%s", base8, is_wine() ? " (under wine)" : "");
    return base8;
}

/* Removes the scratch folder; links in it (wine) are left by the remover,
 * so the Unix side takes what is left. Prints the summary ctest reads. */
static inline int finish(const wchar_t *base, char *base8)
{
    lk_remove_pass pass;
    lk_error err;
    memset(&pass, 0, sizeof pass);
    lk_sys_remove_tree_once(base8, &pass, &err);
    lk_remove_pass_free(&pass);
    if (is_wine()) {
        char *ub = unix_path(base);
        if (ub && strstr(ub, "/lk-"))
            unix_sh(L"C:\\windows\\temp\\lk-tree-status", "rm -rf '%s'", ub);
        free(ub);
    }
    free(base8);
    printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}

#endif
