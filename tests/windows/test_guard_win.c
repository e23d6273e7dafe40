/* The kill guard rails, path normalisation, DevToolsActivePort and home
 * folders on Windows, with real processes (under wine in CI).
 *
 * What wine 8 cannot model, and so is left to a real Windows:
 *   - critical processes (wine has no ProcessBreakOnTermination) and pid 4
 *     (no System process): the guard refuses them before any look-up.
 *   - the test's own parent: under wine it is a Unix process (ppid 0), so a
 *     child and a grandchild of the test (tree_helper.exe chain/guard) try
 *     to end their ancestors instead.
 *   - junctions as DevToolsActivePort: a Unix symlink stands in (see
 *     test_tree_win.c).
 */
#include "win_tree_test.h"

/* ---- 6. the kill guard --------------------------------------------------- */

static int line_says(const char *rep, const char *what, const char *code)
{
    const char *p = rep;
    size_t n = strlen(what);
    while (p && *p) {
        if (strncmp(p, what, n) == 0 && p[n] == ' ') {
            const char *sp = strchr(p + n + 1, ' ');
            return sp && strncmp(sp + 1, code, strlen(code)) == 0;
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return 0;
}

static void test_kill_guard(const wchar_t *base)
{
    wchar_t *report = wjoin(base, L"guard-report"), cmd[3 * MAX_PATH];
    PROCESS_INFORMATION pi = {0};
    lk_snapshot *snap = NULL;
    const lk_proc *me;
    lk_error err;
    DWORD code = 99;
    char *rep = NULL;
    int rc;

    rc = lk_sys_proc_end(lk_sys_self_pid(), start_id_of(GetCurrentProcess()), 1, &err);
    CHECK(rc == LK_EREFUSED, "lk_sys_proc_end of this process: refused (%s)", err.msg);
    rc = lk_sys_proc_end(4, 0, 1, &err);
    CHECK(rc == LK_EREFUSED, "pid 4: refused (%s)", err.msg);
    rc = lk_sys_proc_end(0, 0, 1, &err);
    CHECK(rc == LK_EREFUSED, "pid 0: refused (%s)", err.msg);
    if (lk_sys_snapshot(&snap, LK_SNAP_PROCS, &err) == LK_OK &&
        (me = lk_snapshot_find(snap, lk_sys_self_pid())) != NULL) {
        const lk_proc *parent = lk_snapshot_find(snap, me->ppid);
        if (parent) {
            rc = lk_sys_proc_end(parent->pid, parent->start_id, 1, &err);
            CHECK(rc == LK_EREFUSED, "our parent %s (pid %ld): refused (%s)", parent->name,
                  parent->pid, err.msg);
        } else {
            note("this process has no parent in the process table (ppid %ld: started from "
                 "the Unix side under wine); the chain below stands in for it",
                 me->ppid);
        }
    }
    lk_snapshot_free(snap);

    /* test -> chain -> guard: the guard tries its parent and grandparent. */
    _snwprintf(cmd, sizeof cmd / sizeof cmd[0], L"\"%ls\\tree_helper.exe\" chain \"%ls\"", g_dir,
               report);
    cmd[sizeof cmd / sizeof cmd[0] - 1] = L'\0';
    DeleteFileW(report);
    if (!CHECK(start(cmd, &pi), "tree_helper chain started"))
        goto out;
    WaitForSingleObject(pi.hProcess, 60000);
    GetExitCodeProcess(pi.hProcess, &code);
    rep = read_text(report);
    note("guard report:\n%s", rep ? rep : "(none)");
    CHECK(rep && strstr(rep, "\ndone\n"), "the guard finished its report (it did not end itself)");
    CHECK(rep && line_says(rep, "parent", "refused"), "its parent: LK_EREFUSED");
    CHECK(rep && line_says(rep, "grandparent", "refused"),
          "its grandparent (this test): LK_EREFUSED");
    CHECK(rep && line_says(rep, "pid4", "refused") && line_says(rep, "pid0", "refused"),
          "pids 4 and 0: LK_EREFUSED");
    CHECK(rep && line_says(rep, "self", "refused"), "itself: LK_EREFUSED");
    CHECK(code == 0, "its parent ran to its end, not ended (exit code %lu)", code);
    CHECK(WaitForSingleObject(GetCurrentProcess(), 0) == WAIT_TIMEOUT, "and we are still here");
out:
    stop(&pi);
    free(rep);
    free(report);
}

/* ---- 7. paths ------------------------------------------------------------ */

static void expect_abs(const char *in, const char *want)
{
    char *out = NULL;
    lk_error err;
    int rc = lk_sys_abspath(in, &out, &err);
    CHECK(rc == LK_OK && out && strcmp(out, want) == 0, "abspath(%s) = %s (got %s)", in, want,
          rc ? err.msg : out);
    free(out);
}

static void test_abspath(const wchar_t *base)
{
    wchar_t old[MAX_PATH];
    char *b8 = u8(base), want[3 * MAX_PATH], up[2 * MAX_PATH], *slash;
    CHECK(lk_sys_path_win() == 1, "lk_sys_path_win() is 1 here");
    GetCurrentDirectoryW(MAX_PATH, old);
    SetCurrentDirectoryW(base);
    snprintf(want, sizeof want, "%s\\x", b8);
    expect_abs("x", want);
    expect_abs("x\\", want);
    expect_abs(".\\x", want);
    expect_abs("x/", want);
    expect_abs(".//x", want);
    snprintf(up, sizeof up, "%s", b8);
    slash = strrchr(up, '\\');
    if (slash)
        *slash = '\0';
    snprintf(want, sizeof want, "%s\\x", up);
    expect_abs("..\\x", want);
    SetCurrentDirectoryW(old);
    expect_abs("C:/x", "C:\\x");
    expect_abs("c:\\x", "C:\\x");
    expect_abs("\\\\?\\c:/x\\", "C:\\x");
    expect_abs("C:\\a\\.\\b\\..\\x", "C:\\a\\x");
    expect_abs("\\\\?\\C:\\x", "C:\\x");
    expect_abs("\\??\\C:\\x", "C:\\x");
    expect_abs("\\\\.\\C:\\x", "C:\\x");
    expect_abs("//?/C:/x", "C:\\x");
    expect_abs("\\\\?\\UNC\\server\\share\\x", "\\\\server\\share\\x");
    expect_abs("\\\\server\\share\\x\\", "\\\\server\\share\\x");
    expect_abs("//server/share/x", "\\\\server\\share\\x");
    free(b8);
}

/* ---- 8. DevToolsActivePort ------------------------------------------------ */

static void test_active_port(const wchar_t *base)
{
    static const wchar_t *const dirs[] = {L"dt",     L"dt\\p1",        L"dt\\p2",
                                          L"dt\\p3", L"dt\\elsewhere", NULL};
    wchar_t *dt = wjoin(base, L"dt"), *good = wjoin(dt, L"p1\\DevToolsActivePort");
    wchar_t *dlink = wjoin(dt, L"p2\\DevToolsActivePort"),
            *flink = wjoin(dt, L"p3\\DevToolsActivePort");
    wchar_t *elsewhere = wjoin(dt, L"elsewhere"), *secret = wjoin(elsewhere, L"secret");
    char *good8 = u8(good), *dlink8 = u8(dlink), *flink8 = u8(flink), *buf = NULL;
    const char *dk, *fk;
    HANDLE pipe;
    lk_error err;
    size_t n = 0;
    int64_t t0;
    int rc;

    mkdirs(base, dirs);
    make_file(good, "9222\n/devtools/browser/abc\n");
    make_file(secret, "1234\n/devtools/browser/not-yours\n");
    rc = lk_sys_read_file(good8, 4096, 0, &buf, &n, &err);
    CHECK(rc == LK_OK && buf && strncmp(buf, "9222\n", 5) == 0, "a plain DevToolsActivePort reads");
    free(buf);
    buf = NULL;

    dk = make_dir_link(dlink, elsewhere, g_marker);
    if (CHECK(dk != NULL, "DevToolsActivePort is %s to a folder", dk ? dk : "no link")) {
        t0 = lk_sys_now_ms();
        rc = lk_sys_read_file(dlink8, 4096, 0, &buf, &n, &err);
        CHECK(rc != LK_OK && !buf, "not followed: %s", err.msg);
        CHECK(strstr(err.msg, "link") || strstr(err.msg, "folder"), "and the error says why");
        CHECK(lk_sys_now_ms() - t0 < 45000, "at once (a link to a folder does not hang a read)");
    }
    fk = make_file_link(flink, secret, g_marker);
    if (fk) {
        rc = lk_sys_read_file(flink8, 4096, 0, &buf, &n, &err);
        CHECK(rc != LK_OK && !buf, "DevToolsActivePort as %s is not read through: %s", fk, err.msg);
    } else {
        note("no file symbolic link could be made (needs a privilege on Windows)");
    }

    /* A named pipe: opening a client end would connect to whoever serves it,
     * and a read would wait for them. Refused before anything is opened. */
    pipe = CreateNamedPipeW(L"\\\\.\\pipe\\latchkey-test-devtools", PIPE_ACCESS_DUPLEX,
                            PIPE_TYPE_BYTE | PIPE_WAIT, 1, 512, 512, 0, NULL);
    if (CHECK(pipe != INVALID_HANDLE_VALUE, "a named pipe served by the test")) {
        t0 = lk_sys_now_ms();
        rc = lk_sys_read_file("\\\\.\\pipe\\latchkey-test-devtools", 4096, 0, &buf, &n, &err);
        CHECK(rc == LK_EINVAL && !buf, "a pipe path is refused: %s", err.msg);
        CHECK(lk_sys_now_ms() - t0 < 45000, "at once, no hang (nobody writes to the pipe)");
        rc = lk_sys_read_file("\\\\?\\pipe\\latchkey-test-devtools", 4096, 0, &buf, &n, &err);
        CHECK(rc == LK_EINVAL && !buf, "also spelled \\\\?\\pipe\\: %s", err.msg);
        {
            /* Non-blocking: ConnectNamedPipe then only says whether a client came. */
            DWORD mode = PIPE_READMODE_BYTE | PIPE_NOWAIT;
            BOOL ok;
            SetNamedPipeHandleState(pipe, &mode, NULL, NULL);
            ok = ConnectNamedPipe(pipe, NULL);
            CHECK(!ok && GetLastError() == ERROR_PIPE_LISTENING,
                  "and nobody connected to the pipe (%lu)", ok ? 0 : GetLastError());
        }
        CloseHandle(pipe);
    }
    rc = lk_sys_read_file("NUL", 4096, 0, &buf, &n, &err);
    CHECK(rc != LK_OK && !buf, "the NUL device is not read: %s", err.msg);
    free(dt);
    free(good);
    free(dlink);
    free(flink);
    free(elsewhere);
    free(secret);
    free(good8);
    free(dlink8);
    free(flink8);
}

/* ---- 9. homes ------------------------------------------------------------ */

static void test_homes(void)
{
    wchar_t saved[MAX_PATH];
    char *home, *again, **homes = NULL;
    const char *const *within, *const *roots, *const *exact;
    size_t n = 0, i;
    int rc, found = 0, has_chrome = 0, has_signal = 0, has_roaming = 0, has_docs = 0;
    DWORD had = GetEnvironmentVariableW(L"USERPROFILE", saved, MAX_PATH);

    home = lk_sys_home_dir();
    CHECK(home && home[1] == ':', "lk_sys_home_dir: %s", home ? home : "(null)");
    SetEnvironmentVariableW(L"USERPROFILE", L"C:\\not-my-home");
    again = lk_sys_home_dir();
    CHECK(home && again && strcmp(home, again) == 0,
          "it comes from the account, not from %%USERPROFILE%% (%s)", again ? again : "(null)");
    SetEnvironmentVariableW(L"USERPROFILE", had && had < MAX_PATH ? saved : NULL);
    rc = lk_sys_home_dirs(&homes, &n);
    CHECK(rc == LK_OK && n >= 1, "lk_sys_home_dirs: %lu homes", (unsigned long)n);
    for (i = 0; i < n; i++) {
        note("  home: %s", homes[i]);
        if (home && _stricmp(homes[i], home) == 0)
            found = 1;
        CHECK(strchr(homes[i], '%') == NULL, "%s has its variables expanded", homes[i]);
        free(homes[i]);
    }
    free(homes);
    CHECK(found, "ours is among them");
    lk_sys_home_protected(&within, &roots, &exact);
    for (i = 0; within && within[i]; i++) {
        has_chrome |= strcmp(within[i], "AppData\\Local\\Google\\Chrome\\User Data") == 0;
        has_signal |= strcmp(within[i], "AppData\\Roaming\\Signal") == 0;
    }
    for (i = 0; roots && roots[i]; i++)
        has_roaming |= strcmp(roots[i], "AppData\\Roaming") == 0;
    for (i = 0; exact && exact[i]; i++)
        has_docs |= strcmp(exact[i], "Documents") == 0;
    CHECK(has_chrome && has_signal && has_roaming && has_docs,
          "the protected lists name Chrome's profile, Signal, AppData\\Roaming and Documents");
    free(home);
    free(again);
}

int main(void)
{
    wchar_t base[MAX_PATH];
    char *base8 = begin(L"guard", base);
    test_kill_guard(base);
    test_abspath(base);
    test_active_port(base);
    test_homes();
    return finish(base, base8);
}
