/* The job object owns the whole tree: a child and the grandchild it starts
 * are counted, and both end with lk_child_end_tree(force) or lk_child_free.
 * Also: MSVCRT quoting round-trips awkward arguments, output reaches the
 * log file, and a missing program is LK_ENOENT. Runs under wine. */
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latchkey/sys.h"
#include "../lk_check.h"

static char dir_u8[MAX_PATH * 3], child_u8[MAX_PATH * 3];
static wchar_t dir_w[MAX_PATH];

static void to_u8(const wchar_t *w, char *out, size_t n)
{
    if (!WideCharToMultiByte(CP_UTF8, 0, w, -1, out, (int)n, NULL, NULL))
        out[0] = '\0';
}

/* spawn_child.exe sits next to this test; the work folder has a space and
 * a non-ASCII letter in its name, to prove paths travel as UTF-16. */
static int setup(void)
{
    wchar_t self[MAX_PATH], *slash, tmp[MAX_PATH];
    if (!GetModuleFileNameW(NULL, self, MAX_PATH))
        return -1;
    slash = wcsrchr(self, L'\\');
    if (!slash)
        return -1;
    wcscpy(slash + 1, L"spawn_child.exe");
    to_u8(self, child_u8, sizeof child_u8);
    if (!GetTempPathW(MAX_PATH, tmp))
        return -1;
    swprintf(dir_w, MAX_PATH, L"%lslk spawn \u00e9 %lu", tmp, (unsigned long)GetCurrentProcessId());
    CreateDirectoryW(dir_w, NULL);
    to_u8(dir_w, dir_u8, sizeof dir_u8);
    return 0;
}

static void path_in(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s\\%s", dir_u8, name);
}

static void test_missing(void)
{
    const char *argv[] = {"C:\\no\\such\\program.exe", NULL};
    lk_child *c = NULL;
    lk_error err;
    lk_error_clear(&err);
    CHECK(lk_sys_spawn(argv, NULL, &c, &err) == LK_ENOENT);
    CHECK(c == NULL);
    CHECK(strstr(err.msg, "cannot run C:\\no\\such\\program.exe") != NULL);
    printf("missing program: %s\n", err.msg);
}

static void test_quoting(void)
{
    /* Each one breaks a naive join: spaces, quotes, backslashes before a
     * quote and at the end, empty, tabs, non-ASCII. */
    static const char *tricky[] = {"plain",
                                   "two words",
                                   "",
                                   "quote\"inside",
                                   "\\\\server\\share\\",
                                   "ends with slash\\",
                                   "slash before quote\\\"x",
                                   "tab\there",
                                   "\"",
                                   "\\",
                                   "--user-data-dir=C:\\Users\\J\xc3\xa9r\xc3\xb4me\\session 1",
                                   NULL};
    const char *argv[16];
    char log[MAX_PATH * 3], expect[2048] = "";
    char *got;
    lk_child *c = NULL;
    lk_error err;
    size_t i, n = 0;
    argv[n++] = child_u8;
    argv[n++] = "--echo";
    for (i = 0; tricky[i]; i++) {
        argv[n++] = tricky[i];
        strcat(expect, tricky[i]);
        strcat(expect, "\n");
    }
    argv[n] = NULL;
    path_in(log, sizeof log, "echo.log");
    CHECK(lk_sys_spawn(argv, log, &c, &err) == LK_OK);
    if (!c) {
        printf("spawn: %s\n", err.msg);
        return;
    }
    CHECK(lk_child_wait(c, lk_sys_now_ms() + 20000) == 1);
    lk_child_free(c);
    got = lk_t_slurp(log);
    CHECK(got != NULL);
    if (got) {
        /* The C runtime writes text mode: drop the CRs before comparing. */
        char *r, *w;
        for (r = w = got; *r; r++)
            if (*r != '\r')
                *w++ = *r;
        *w = '\0';
        CHECK_STR(got, expect);
    }
    free(got);
}

static DWORD wait_pidfile(const char *path, int64_t deadline)
{
    while (lk_sys_now_ms() < deadline) {
        char *s = lk_t_slurp(path);
        DWORD pid = s ? (DWORD)strtoul(s, NULL, 10) : 0;
        free(s);
        if (pid)
            return pid;
        Sleep(20);
    }
    return 0;
}

static int gone(HANDLE h, int64_t deadline)
{
    DWORD code = STILL_ACTIVE, rest;
    int64_t left = deadline - lk_sys_now_ms();
    rest = left > 0 ? (DWORD)left : 0;
    if (!h)
        return 0;
    WaitForSingleObject(h, rest);
    return GetExitCodeProcess(h, &code) && code != STILL_ACTIVE;
}

/* Starts child + grandchild; ends them with force (via end_tree) or by
 * dropping the handle (lk_child_free). */
static void test_tree(int by_free)
{
    char pidfile[MAX_PATH * 3];
    const char *argv[] = {child_u8, "--tree", pidfile, NULL};
    lk_child *c = NULL;
    lk_error err;
    HANDLE hc, hg;
    DWORD gpid;
    int64_t deadline = lk_sys_now_ms() + 20000;

    path_in(pidfile, sizeof pidfile, by_free ? "tree-free.pid" : "tree-force.pid");
    CHECK(lk_sys_spawn(argv, NULL, &c, &err) == LK_OK);
    if (!c) {
        printf("spawn: %s\n", err.msg);
        return;
    }
    CHECK(lk_child_pid(c) > 0);
    CHECK(lk_child_start_id(c) != 0);
    CHECK(lk_sys_proc_same(lk_child_pid(c), lk_child_start_id(c)) == 1);
    gpid = wait_pidfile(pidfile, deadline);
    CHECK(gpid != 0);
    hc =
        OpenProcess(SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION, FALSE, (DWORD)lk_child_pid(c));
    hg = gpid ? OpenProcess(SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION, FALSE, gpid) : NULL;
    CHECK(hc != NULL);
    CHECK(hg != NULL);
    /* Child, grandchild, and the console host Windows (and wine) starts for
     * a console program without a window, which is in the job as well. */
    CHECK(lk_child_tree_count(c) >= 2);
    printf("tree: child %ld, grandchild %lu, count %d\n", lk_child_pid(c), (unsigned long)gpid,
           lk_child_tree_count(c));
    CHECK(lk_child_wait(c, lk_sys_now_ms() + 50) == 0); /* still running */

    if (by_free) {
        lk_child_free(c);
        c = NULL;
    } else {
        /* Graceful lists the job's processes for their windows; these have none. */
        CHECK(lk_child_end_tree(c, 0, &err) == LK_OK);
        CHECK(lk_child_end_tree(c, 1, &err) == LK_OK);
        CHECK(lk_child_wait(c, deadline) == 1);
    }
    CHECK(gone(hc, deadline));
    CHECK(gone(hg, deadline));
    if (c) {
        CHECK(lk_child_tree_count(c) == 0);
        lk_child_free(c);
    }
    if (hc)
        CloseHandle(hc);
    if (hg)
        CloseHandle(hg);
}

static void cleanup(void)
{
    static const wchar_t *const names[] = {L"echo.log", L"tree-free.pid", L"tree-force.pid"};
    wchar_t p[MAX_PATH * 2];
    size_t i;
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        swprintf(p, MAX_PATH * 2, L"%ls\\%ls", dir_w, names[i]);
        DeleteFileW(p);
    }
    RemoveDirectoryW(dir_w);
}

int main(void)
{
    if (setup() != 0) {
        printf("FAIL: cannot set up\n");
        return 1;
    }
    test_missing();
    test_quoting();
    test_tree(0);
    test_tree(1);
    cleanup();
    return lk_check_done();
}
