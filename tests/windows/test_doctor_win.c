/* The lock doctor on Windows, with real processes (run under wine in CI):
 * a helper holds session-1\Default\Cookies with no sharing (the users'
 * EBUSY), a decoy holds a file in session-10. Holders must name the helper
 * (handle enumeration, how = file) and not the decoy; cleanup must end the
 * helper, remove the folder and leave the decoy and its folder alone.
 *
 *   test_doctor_win [--link-tree DIR] [--cli LATCHKEYCTL]
 *
 * --link-tree: a folder prepared by the host with tree\link -> ..\outside,
 * used when this system cannot create junctions or symlinks itself (wine).
 * --cli: run latchkeyctl.exe holders/cleanup --json against a held session.
 */
#include <windows.h>
#include <winioctl.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "latchkey/doctor.h"
#include "latchkey/sys.h"

#include "win_check.h"
#include "win_fs.h"
#include "win_run.h"

static void note(const char *fmt, ...)
{
    va_list ap;
    printf("#    ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

/* ---- small helpers ------------------------------------------------------- */

/* A folder that looks like a Chromium user-data-dir. */
static void make_profile(const wchar_t *dir)
{
    wchar_t *def = wjoin(dir, L"Default"), *ls = wjoin(dir, L"Local State");
    wchar_t *cookies = wjoin(def, L"Cookies"), *prefs = wjoin(def, L"Preferences");
    CreateDirectoryW(dir, NULL);
    CreateDirectoryW(def, NULL);
    make_file(ls, "{}");
    make_file(prefs, "{}");
    make_file(cookies, "SQLite format 3");
    free(def);
    free(ls);
    free(cookies);
    free(prefs);
}

static wchar_t g_helper[MAX_PATH];

static int start_in(const wchar_t *cmdline, DWORD flags, const wchar_t *cwd,
                    PROCESS_INFORMATION *pi)
{
    STARTUPINFOW si;
    wchar_t *buf = malloc((wcslen(cmdline) + 1) * sizeof *buf);
    int ok;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    memset(pi, 0, sizeof *pi);
    wcscpy(buf, cmdline);
    ok = CreateProcessW(NULL, buf, NULL, NULL, FALSE, flags, NULL, cwd, &si, pi) != 0;
    if (!ok)
        note("CreateProcess failed (%lu): %ls", GetLastError(), cmdline);
    free(buf);
    return ok;
}

static int start(const wchar_t *cmdline, PROCESS_INFORMATION *pi)
{
    return start_in(cmdline, 0, NULL, pi);
}

/* Starts lock_helper on `file` (in folder `cwd`, loading `dll`, when given)
 * and waits for it to hold it. */
static int start_holder_ex(const wchar_t *file, const wchar_t *ready, int window, DWORD flags,
                           const wchar_t *cwd, const wchar_t *dll, PROCESS_INFORMATION *pi,
                           int *has_window)
{
    wchar_t cmd[5 * MAX_PATH + 64];
    char text[64] = "";
    int i;
    DeleteFileW(ready);
    _snwprintf(cmd, sizeof cmd / sizeof cmd[0], L"\"%ls\" hold \"%ls\" \"%ls\"%ls%ls%ls%ls",
               g_helper, file, ready, window ? L" --window" : L"", dll ? L" --load \"" : L"",
               dll ? dll : L"", dll ? L"\"" : L"");
    if (!start_in(cmd, flags, cwd, pi))
        return 0;
    for (i = 0; i < 600; i++) { /* up to 30 s: wine can be slow to start a process */
        HANDLE f = CreateFileW(ready, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                               OPEN_EXISTING, 0, NULL);
        if (f != INVALID_HANDLE_VALUE) {
            DWORD n = 0;
            ReadFile(f, text, sizeof text - 1, &n, NULL);
            CloseHandle(f);
            text[n] = '\0';
            if (n > 0 && strchr(text, '\n')) {
                if (has_window)
                    *has_window = strstr(text, "nowindow") == NULL;
                return 1;
            }
        }
        if (WaitForSingleObject(pi->hProcess, 50) == WAIT_OBJECT_0) {
            note("lock_helper exited before it was ready");
            return 0;
        }
    }
    note("lock_helper did not get ready in time");
    return 0;
}

static int start_holder_flags(const wchar_t *file, const wchar_t *ready, int window, DWORD flags,
                              PROCESS_INFORMATION *pi, int *has_window)
{
    return start_holder_ex(file, ready, window, flags, NULL, NULL, pi, has_window);
}

static int start_holder(const wchar_t *file, const wchar_t *ready, int window,
                        PROCESS_INFORMATION *pi, int *has_window)
{
    return start_holder_ex(file, ready, window, 0, NULL, NULL, pi, has_window);
}

static void stop(PROCESS_INFORMATION *pi)
{
    if (pi->hProcess) {
        TerminateProcess(pi->hProcess, 9);
        WaitForSingleObject(pi->hProcess, 5000);
        CloseHandle(pi->hProcess);
        CloseHandle(pi->hThread);
        pi->hProcess = NULL;
    }
}

static uint64_t start_id_of(HANDLE h)
{
    FILETIME c, e, k, u;
    if (!GetProcessTimes(h, &c, &e, &k, &u))
        return 0;
    return ((uint64_t)c.dwHighDateTime << 32) | c.dwLowDateTime;
}

static const lk_holder *find_holder(const lk_holders *h, DWORD pid)
{
    size_t i;
    for (i = 0; h && i < h->nholders; i++)
        if (h->holders[i].proc.pid == (long)pid)
            return &h->holders[i];
    return NULL;
}

static int holds_cookies_by_handle(const lk_holder *hd)
{
    size_t i;
    for (i = 0; hd && i < hd->nheld; i++) {
        const char *p = hd->held[i].path;
        size_t n = strlen(p);
        if (hd->held[i].how == LK_HOW_FILE && n >= 8 && _stricmp(p + n - 8, "\\Cookies") == 0)
            return 1;
    }
    return 0;
}

static const lk_killed *find_killed(const lk_cleanup *c, DWORD pid)
{
    size_t i;
    for (i = 0; c && i < c->nkilled; i++)
        if (c->killed[i].pid == (long)pid)
            return &c->killed[i];
    return NULL;
}

static void print_cleanup(const lk_cleanup *c)
{
    size_t i;
    note("cleanup: %s (%s) in %ld ms", lk_result_name(c->result), c->message ? c->message : "",
         (long)c->elapsed_ms);
    for (i = 0; i < c->nkilled; i++)
        note("  killed %ld %s (%s)", c->killed[i].pid, c->killed[i].name,
             c->killed[i].forced ? "forced" : "graceful");
    for (i = 0; i < c->nspared; i++)
        note("  spared %ld %s: %s", c->spared[i].pid, c->spared[i].name, c->spared[i].why);
    for (i = 0; i < c->nleft; i++)
        note("  left: %s", c->left[i]);
}

/* ---- the tests ----------------------------------------------------------- */

static void test_holders_and_cleanup(const wchar_t *base)
{
    wchar_t *session = wjoin(base, L"session-1"), *decoy = wjoin(base, L"session-10");
    wchar_t *cookies = wjoin(session, L"Default\\Cookies");
    wchar_t *decoy_file = wjoin(decoy, L"Default\\Cookies");
    wchar_t *ready1 = wjoin(base, L"ready-1"), *ready2 = wjoin(base, L"ready-2");
    char *session8 = u8(session), *decoy8 = u8(decoy);
    PROCESS_INFORMATION helper = {0}, dec = {0};
    lk_snapshot *snap = NULL;
    lk_holders *h = NULL, *hd_decoy = NULL;
    lk_rm_hit *hits = NULL;
    size_t nhits = 0, i;
    lk_cleanup *c = NULL;
    lk_cleanup_opts opts;
    lk_error err;
    int rc;
    const lk_holder *hd;
    const lk_killed *k;

    make_profile(session);
    make_profile(decoy);
    if (!CHECK(start_holder(cookies, ready1, 0, &helper, NULL), "lock_helper holds %s", session8) ||
        !CHECK(start_holder(decoy_file, ready2, 0, &dec, NULL), "decoy holds %s", decoy8))
        goto out;
    note("helper pid %lu, decoy pid %lu", helper.dwProcessId, dec.dwProcessId);

    SetLastError(0);
    CHECK(!DeleteFileW(cookies) && GetLastError() == ERROR_SHARING_VIOLATION,
          "DeleteFile of the held Cookies fails with a sharing violation (EBUSY)");

    rc = lk_sys_snapshot(&snap, LK_SNAP_HANDLES, &err);
    if (!CHECK(rc == LK_OK, "lk_sys_snapshot(LK_SNAP_HANDLES): %s", rc ? err.msg : "ok"))
        goto out;
    note("snapshot: %lu processes, %lu things held, %lu uninspectable, elevated %d",
         (unsigned long)snap->nprocs, (unsigned long)snap->nopens, (unsigned long)snap->nblind,
         snap->elevated);
    for (i = 0; i < snap->nblind; i++)
        note("  blind %ld %s: %s", snap->blind[i].pid, snap->blind[i].name, snap->blind[i].reason);
    CHECK(snap->case_insensitive_paths == 1, "snapshot compares paths case-insensitively");
    {
        const lk_proc *p = lk_snapshot_find(snap, (long)helper.dwProcessId);
        CHECK(p != NULL, "the helper is in the snapshot");
        if (p) {
            CHECK(p->start_id == start_id_of(helper.hProcess),
                  "its start stamp is its creation time");
            CHECK(p->exe && strstr(p->exe, "lock_helper.exe") != NULL, "its exe: %s",
                  p->exe ? p->exe : "(null)");
            CHECK(p->argc == 4 && p->argv && strcmp(p->argv[1], "hold") == 0,
                  "its argv is split (%d args, cmdline %s)", p->argc,
                  p->cmdline ? p->cmdline : "(null)");
            CHECK(p->ppid == (long)GetCurrentProcessId(), "its parent is us");
            CHECK(p->user != NULL, "its user: %s", p->user ? p->user : "(null)");
            CHECK(!(p->flags & LK_PROC_OTHER_USER), "it runs as our user");
            CHECK(!(p->flags & LK_PROC_CRITICAL), "it is not critical");
        }
    }

    rc = lk_doctor_holders(snap, session8, &h, &err);
    if (CHECK(rc == LK_OK, "lk_doctor_holders(session-1): %s", rc ? err.msg : "ok")) {
        for (i = 0; i < h->nholders; i++)
            note("  holder %ld %s (%s, %lu held)", h->holders[i].proc.pid, h->holders[i].proc.name,
                 lk_kind_name(h->holders[i].kind), (unsigned long)h->holders[i].nheld);
        hd = find_holder(h, helper.dwProcessId);
        CHECK(hd != NULL, "the helper holds session-1");
        CHECK(holds_cookies_by_handle(hd), "through an open file handle on Default\\Cookies");
        CHECK(hd && hd->killable, "and may be ended (%s)",
              hd && hd->why_not ? hd->why_not : "killable");
        CHECK(find_holder(h, dec.dwProcessId) == NULL,
              "the decoy holding session-10 is not a holder of session-1");
    }
    rc = lk_doctor_holders(snap, decoy8, &hd_decoy, &err);
    if (CHECK(rc == LK_OK, "lk_doctor_holders(session-10)")) {
        CHECK(find_holder(hd_decoy, dec.dwProcessId) != NULL, "the decoy holds session-10");
        CHECK(find_holder(hd_decoy, helper.dwProcessId) == NULL,
              "the helper does not hold session-10");
    }

    rc = lk_sys_rm_holders(session8, &hits, &nhits, &err);
    CHECK(rc == LK_OK, "Restart Manager ran: %s, %lu process(es) reported%s", rc ? err.msg : "ok",
          (unsigned long)nhits, is_wine() ? " (wine's Restart Manager is a stub)" : "");
    for (i = 0; i < nhits; i++)
        note("  rm hit %ld %s%s", hits[i].pid, hits[i].app_name ? hits[i].app_name : "",
             hits[i].critical ? " (critical)" : "");
    if (!is_wine()) {
        int seen = 0;
        for (i = 0; i < nhits; i++)
            seen |= hits[i].pid == (long)helper.dwProcessId;
        CHECK(seen, "Restart Manager names the helper");
    }
    lk_rm_hits_free(hits, nhits);

    memset(&opts, 0, sizeof opts);
    opts.timeout_ms = 20000;
    rc = lk_doctor_cleanup(session8, &opts, &c, &err);
    if (CHECK(rc == LK_OK && c, "lk_doctor_cleanup(session-1): %s", rc ? err.msg : "ok")) {
        print_cleanup(c);
        CHECK(c->result == LK_RESULT_REMOVED, "result is removed (%s)", lk_result_name(c->result));
        k = find_killed(c, helper.dwProcessId);
        CHECK(k != NULL, "the helper is reported killed");
    }
    CHECK(WaitForSingleObject(helper.hProcess, 5000) == WAIT_OBJECT_0, "the helper has exited");
    CHECK(!exists(session), "session-1 is gone");
    CHECK(WaitForSingleObject(dec.hProcess, 0) == WAIT_TIMEOUT, "the decoy is still running");
    CHECK(exists(decoy_file), "session-10\\Default\\Cookies is intact");
    CHECK(c == NULL || find_killed(c, dec.dwProcessId) == NULL, "the decoy was not killed");
    lk_cleanup_free(c);
    c = NULL;

    /* Idempotent: the same cleanup again finds nothing to do. */
    rc = lk_doctor_cleanup(session8, &opts, &c, &err);
    CHECK(rc == LK_OK && c && c->result == LK_RESULT_ALREADY_CLEAN,
          "cleaning the missing folder again: already_clean");

out:
    lk_cleanup_free(c);
    lk_holders_free(h);
    lk_holders_free(hd_decoy);
    lk_snapshot_free(snap);
    stop(&helper);
    stop(&dec);
    free(session);
    free(decoy);
    free(cookies);
    free(decoy_file);
    free(ready1);
    free(ready2);
    free(session8);
    free(decoy8);
}

/* A holder with a window is asked to close it, and does. */
static void test_graceful_window(const wchar_t *base)
{
    wchar_t *session = wjoin(base, L"session-w"), *file = wjoin(session, L"Default\\Cookies");
    wchar_t *ready = wjoin(base, L"ready-w");
    char *session8 = u8(session);
    PROCESS_INFORMATION pi = {0};
    lk_cleanup *c = NULL;
    lk_cleanup_opts opts;
    lk_error err;
    int has_window = 0, rc;
    const lk_killed *k;

    make_profile(session);
    if (!CHECK(start_holder(file, ready, 1, &pi, &has_window), "windowed lock_helper holds it"))
        goto out;
    if (!CHECK(has_window, "lock_helper could show a window (wine needs its null display "
                           "driver, set by the fixture)"))
        goto out;
    memset(&opts, 0, sizeof opts);
    opts.timeout_ms = 20000;
    rc = lk_doctor_cleanup(session8, &opts, &c, &err);
    if (CHECK(rc == LK_OK && c, "cleanup of a folder held by a windowed process")) {
        print_cleanup(c);
        k = find_killed(c, pi.dwProcessId);
        CHECK(k && !k->forced, "it was ended gracefully (WM_CLOSE), not forced");
        CHECK(c->result == LK_RESULT_REMOVED, "and the folder removed");
    }
    CHECK(WaitForSingleObject(pi.hProcess, 5000) == WAIT_OBJECT_0, "the windowed helper exited");
    {
        DWORD code = 99;
        GetExitCodeProcess(pi.hProcess, &code);
        CHECK(code == 0, "with its own exit code 0 (it closed, it was not terminated): %lu", code);
    }
out:
    lk_cleanup_free(c);
    stop(&pi);
    free(session);
    free(file);
    free(ready);
    free(session8);
}

static int holds_how(const lk_holder *hd, lk_how how, const char *suffix)
{
    size_t i, n = strlen(suffix);
    for (i = 0; hd && i < hd->nheld; i++) {
        const char *p = hd->held[i].path;
        size_t m = strlen(p);
        if (hd->held[i].how == how && m >= n && _stricmp(p + m - n, suffix) == 0)
            return 1;
    }
    return 0;
}

/* A process whose current folder is inside the session, and one that loaded
 * a DLL from it: both keep the folder from being deleted. */
static void test_cwd_and_module(const wchar_t *base)
{
    wchar_t *session = wjoin(base, L"session-m"), *def = wjoin(session, L"Default");
    wchar_t *dll = wjoin(def, L"module.dll"), *other = wjoin(base, L"other-m.dat");
    wchar_t *ready = wjoin(base, L"ready-m"), src[MAX_PATH], *slash;
    char *session8 = u8(session);
    PROCESS_INFORMATION pi = {0};
    lk_snapshot *snap = NULL;
    lk_holders *h = NULL;
    lk_cleanup *c = NULL;
    lk_cleanup_opts opts;
    lk_error err;
    const lk_holder *hd;
    size_t i;
    int rc;

    make_profile(session);
    wcscpy(src, g_helper);
    slash = wcsrchr(src, L'\\');
    wcscpy(slash ? slash + 1 : src, L"lk_test_module.dll");
    if (!CHECK(CopyFileW(src, dll, FALSE), "a DLL copied into the session"))
        goto out;
    if (!CHECK(start_holder_ex(other, ready, 0, 0, def, dll, &pi, NULL),
               "lock_helper runs in session-m\\Default with its DLL loaded"))
        goto out;
    rc = lk_sys_snapshot(&snap, LK_SNAP_HANDLES, &err);
    if (!CHECK(rc == LK_OK, "snapshot"))
        goto out;
    rc = lk_doctor_holders(snap, session8, &h, &err);
    if (CHECK(rc == LK_OK, "holders of session-m")) {
        hd = find_holder(h, pi.dwProcessId);
        for (i = 0; hd && i < hd->nheld; i++)
            note("  %s %s", lk_how_name(hd->held[i].how), hd->held[i].path);
        CHECK(hd != NULL, "the helper holds session-m");
        CHECK(holds_how(hd, LK_HOW_MODULE, "\\module.dll"), "as a loaded module");
        CHECK(holds_how(hd, LK_HOW_CWD, "\\Default"), "and as its current folder");
    }
    memset(&opts, 0, sizeof opts);
    opts.timeout_ms = 20000;
    rc = lk_doctor_cleanup(session8, &opts, &c, &err);
    if (CHECK(rc == LK_OK && c, "cleanup of session-m")) {
        print_cleanup(c);
        CHECK(c->result == LK_RESULT_REMOVED, "removed");
    }
    CHECK(!exists(session), "session-m is gone");
out:
    lk_cleanup_free(c);
    lk_holders_free(h);
    lk_snapshot_free(snap);
    stop(&pi);
    DeleteFileW(other);
    free(session);
    free(def);
    free(dll);
    free(other);
    free(ready);
    free(session8);
}

/* A console holder alone on its own console gets Ctrl-Break, and exits. */
static void test_graceful_console(const wchar_t *base)
{
    wchar_t *session = wjoin(base, L"session-c"), *file = wjoin(session, L"Default\\Cookies");
    wchar_t *ready = wjoin(base, L"ready-c");
    char *session8 = u8(session);
    PROCESS_INFORMATION pi = {0};
    lk_cleanup *c = NULL;
    lk_cleanup_opts opts;
    lk_error err;
    DWORD code = 0;
    int rc;
    const lk_killed *k;

    make_profile(session);
    if (!CHECK(start_holder_flags(file, ready, 0, CREATE_NEW_CONSOLE, &pi, NULL),
               "lock_helper on a console of its own holds it"))
        goto out;
    memset(&opts, 0, sizeof opts);
    opts.timeout_ms = 20000;
    rc = lk_doctor_cleanup(session8, &opts, &c, &err);
    if (CHECK(rc == LK_OK && c, "cleanup of a folder held by a console process")) {
        print_cleanup(c);
        k = find_killed(c, pi.dwProcessId);
        if (is_wine() && k && k->forced) {
            /* wine 8: after AttachConsole, GenerateConsoleCtrlEvent fails with
             * ERROR_INVALID_HANDLE, so graceful says LK_ENOTSUP and cleanup
             * goes straight to force. What is checked here is that fallback. */
            note("wine cannot send Ctrl-Break to another console: the forced fallback ran");
            CHECK(k != NULL, "it was ended (forced: wine has no Ctrl-Break across consoles)");
        } else {
            CHECK(k && !k->forced, "it was ended gracefully (Ctrl-Break), not forced");
        }
        CHECK(c->result == LK_RESULT_REMOVED, "and the folder removed");
    }
    CHECK(WaitForSingleObject(pi.hProcess, 5000) == WAIT_OBJECT_0, "the console helper exited");
    GetExitCodeProcess(pi.hProcess, &code);
    if (!is_wine())
        CHECK(code == 0xC000013AUL, "through its Ctrl-Break handler (STATUS_CONTROL_C_EXIT): 0x%lx",
              code);
    CHECK(WaitForSingleObject(GetCurrentProcess(), 0) == WAIT_TIMEOUT,
          "and we are still here (our handler ignored the event)");
out:
    lk_cleanup_free(c);
    stop(&pi);
    free(session);
    free(file);
    free(ready);
    free(session8);
}

/* PID + start time name a process; a dead or reused pid is never trusted. */
static void test_identity(const wchar_t *base)
{
    wchar_t cmd[MAX_PATH + 16];
    wchar_t *file = wjoin(base, L"identity.dat"), *ready = wjoin(base, L"ready-id");
    PROCESS_INFORMATION dead = {0}, live = {0};
    uint64_t dead_id, live_id;
    long pids[2];
    uint64_t ids[2];
    int alive[2] = {0, 0};
    int64_t t0;
    size_t left;
    lk_error err;
    int rc;

    _snwprintf(cmd, sizeof cmd / sizeof cmd[0], L"\"%ls\" exit", g_helper);
    if (!CHECK(start(cmd, &dead), "a short-lived process ran"))
        return;
    WaitForSingleObject(dead.hProcess, 20000);
    dead_id = start_id_of(dead.hProcess);
    CloseHandle(dead.hProcess);
    CloseHandle(dead.hThread);
    CHECK(lk_sys_proc_same((long)dead.dwProcessId, dead_id) == 0,
          "lk_sys_proc_same is false for a dead pid");
    CHECK(lk_sys_proc_end((long)dead.dwProcessId, dead_id, 1, &err) == LK_ENOENT,
          "lk_sys_proc_end of a dead pid: LK_ENOENT");
    CHECK(lk_sys_proc_same(0, 0) == 0 && lk_sys_proc_same(-5, 0) == 0,
          "lk_sys_proc_same is false for pid 0 and negative pids");

    if (!CHECK(start_holder(file, ready, 0, &live, NULL), "a live process ran"))
        return;
    live_id = start_id_of(live.hProcess);
    CHECK(lk_sys_proc_same((long)live.dwProcessId, live_id) == 1,
          "lk_sys_proc_same is true for the live pid and its start stamp");
    CHECK(lk_sys_proc_same((long)live.dwProcessId, live_id + 1) == 0,
          "and false for the same pid with another start stamp (a reused pid)");
    CHECK(lk_sys_proc_end((long)live.dwProcessId, live_id + 1, 1, &err) == LK_ENOENT,
          "lk_sys_proc_end refuses a pid whose start stamp differs");
    CHECK(WaitForSingleObject(live.hProcess, 300) == WAIT_TIMEOUT,
          "and the process it names was left running");
    CHECK(lk_sys_proc_end((long)GetCurrentProcessId(), 0, 1, &err) != LK_OK,
          "lk_sys_proc_end refuses to end ourselves");

    pids[0] = (long)live.dwProcessId;
    ids[0] = live_id;
    pids[1] = (long)dead.dwProcessId;
    ids[1] = dead_id;
    t0 = lk_sys_now_ms();
    left = lk_sys_proc_wait(pids, ids, 2, t0 + 300, alive);
    CHECK(left == 1 && alive[0] == 1 && alive[1] == 0,
          "lk_sys_proc_wait: the live one is still running, the dead one not");
    CHECK(lk_sys_now_ms() - t0 >= 250, "and it waited until the deadline");
    lk_error_clear(&err);
    rc = lk_sys_proc_end((long)live.dwProcessId, live_id, 1, &err);
    CHECK(rc == LK_OK, "lk_sys_proc_end(force) with the right stamp: %s", rc ? err.msg : "ok");
    t0 = lk_sys_now_ms();
    left = lk_sys_proc_wait(pids, ids, 1, t0 + 120000, alive);
    CHECK(left == 0 && alive[0] == 0, "lk_sys_proc_wait sees it exit");
    CHECK(lk_sys_now_ms() - t0 < 60000, "without sleeping to its 120 s deadline (%ld ms)",
          (long)(lk_sys_now_ms() - t0));
    stop(&live);
    free(file);
    free(ready);
}

static int is_reparse(const wchar_t *p)
{
    DWORD a = GetFileAttributesW(p);
    return a != INVALID_FILE_ATTRIBUTES && (a & FILE_ATTRIBUTE_REPARSE_POINT);
}

/* Read-only files, nested folders and a link that points outside: the tree
 * goes, the outside stays. */
static void test_remove_tree(const wchar_t *base, const wchar_t *host_link_tree)
{
    wchar_t *tree = wjoin(base, L"tree"), *deep = wjoin(tree, L"a\\b\\c");
    wchar_t *a = wjoin(tree, L"a"), *ab = wjoin(tree, L"a\\b");
    wchar_t *ro = wjoin(tree, L"readonly.txt"), *rodir = wjoin(tree, L"rodir");
    wchar_t *rofile = wjoin(rodir, L"x.txt"), *deepf = wjoin(deep, L"f.txt");
    wchar_t *outside = wjoin(base, L"outside"), *keep = wjoin(outside, L"keep.txt");
    wchar_t *link = wjoin(tree, L"link"), *ltree = NULL, *lkeep = NULL;
    char *tree8 = u8(tree), *link8 = u8(link), *path8 = NULL;
    lk_remove_pass pass;
    lk_error err;
    const char *how = NULL;
    int rc, i;

    CreateDirectoryW(tree, NULL);
    CreateDirectoryW(a, NULL);
    CreateDirectoryW(ab, NULL);
    CreateDirectoryW(deep, NULL);
    CreateDirectoryW(rodir, NULL);
    CreateDirectoryW(outside, NULL);
    make_file(keep, "keep me");
    make_file(deepf, "deep");
    make_file(ro, "read only");
    make_file(rofile, "in a read-only folder");
    for (i = 0; i < 40; i++) {
        wchar_t name[32], *p;
        _snwprintf(name, 32, L"file-%d.txt", i);
        p = wjoin(ab, name);
        make_file(p, "x");
        free(p);
    }
    SetFileAttributesW(ro, FILE_ATTRIBUTE_READONLY);
    SetFileAttributesW(rodir, FILE_ATTRIBUTE_READONLY);

    if (make_junction(link, outside))
        how = "a junction (FSCTL_SET_REPARSE_POINT)";
    else if (CreateSymbolicLinkW(link, outside,
                                 SYMBOLIC_LINK_FLAG_DIRECTORY |
                                     SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE) &&
             is_reparse(link))
        how = "a directory symlink (CreateSymbolicLinkW)";
    if (how) {
        note("link inside the tree: %s", how);
        CHECK(lk_sys_ftype(link8) == LK_FT_LINK, "lk_sys_ftype says the link is a link");
    } else {
        note("this system creates neither junctions nor symlinks (wine 8 has no reparse "
             "points: FSCTL_SET_REPARSE_POINT fails, CreateSymbolicLinkW is a stub)");
    }

    memset(&pass, 0, sizeof pass);
    rc = lk_sys_remove_tree_once(tree8, &pass, &err);
    CHECK(rc == LK_OK, "lk_sys_remove_tree_once removed the tree: %s", rc ? err.msg : "ok");
    CHECK(!exists(tree), "the tree is gone (%lu entries removed, %lu left)",
          (unsigned long)pass.removed, (unsigned long)pass.nleft);
    CHECK(exists(keep), "the file outside, behind the link, survived");
    CHECK(exists(outside), "the folder the link pointed to survived");
    lk_remove_pass_free(&pass);

    /* The same with a link the host made (wine shows Unix symlinks to folders
     * as reparse points without a tag): never followed, whatever happens. */
    if (host_link_tree) {
        ltree = wjoin(host_link_tree, L"tree");
        lkeep = wjoin(host_link_tree, L"outside\\keep.txt");
        path8 = u8(ltree);
        if (CHECK(exists(lkeep) && exists(ltree), "the host-made link tree is there")) {
            wchar_t *hl = wjoin(ltree, L"link");
            char *hl8 = u8(hl);
            CHECK(lk_sys_ftype(hl8) == LK_FT_LINK, "lk_sys_ftype: the host link is a link");
            memset(&pass, 0, sizeof pass);
            rc = lk_sys_remove_tree_once(path8, &pass, &err);
            CHECK(exists(lkeep), "the file behind the host link survived");
            if (rc == LK_OK) {
                CHECK(!exists(ltree), "the host link tree is gone");
            } else {
                /* wine 8 cannot delete a Unix symlink to a folder through Win32. */
                CHECK(pass.nleft >= 1 && !pass.retryable,
                      "only the link is left, and it is not worth retrying (%s)", err.msg);
                for (i = 0; i < (int)pass.nleft; i++)
                    note("  left: %s", pass.left[i]);
                CHECK(!exists(hl) || is_reparse(hl), "the link was not entered");
            }
            lk_remove_pass_free(&pass);
            free(hl);
            free(hl8);
        }
    } else if (!how) {
        CHECK(0, "no link could be made, so following links was not tested "
                 "(pass --link-tree under wine)");
    }

    /* Missing: nothing to do, and that is success. */
    memset(&pass, 0, sizeof pass);
    CHECK(lk_sys_remove_tree_once(tree8, &pass, &err) == LK_OK, "removing a missing tree succeeds");
    lk_remove_pass_free(&pass);

    free(tree);
    free(deep);
    free(a);
    free(ab);
    free(ro);
    free(rodir);
    free(rofile);
    free(deepf);
    free(outside);
    free(keep);
    free(link);
    free(ltree);
    free(lkeep);
    free(tree8);
    free(link8);
    free(path8);
}

static void test_guards(const wchar_t *base)
{
    wchar_t win[MAX_PATH];
    char *win8, *home = lk_sys_home_dir(), *plain8, *prof8, *abs = NULL, *real = NULL;
    wchar_t *plain = wjoin(base, L"plain"), *prof = wjoin(base, L"session-g");
    lk_error err;
    int rc;

    CreateDirectoryW(plain, NULL);
    make_profile(prof);
    plain8 = u8(plain);
    prof8 = u8(prof);
    GetWindowsDirectoryW(win, MAX_PATH);
    win8 = u8(win);

    CHECK(lk_sys_is_fs_root("C:\\") && lk_sys_is_fs_root("c:") && lk_sys_is_fs_root("\\\\?\\C:\\"),
          "drive roots are roots");
    CHECK(lk_sys_is_fs_root("\\\\server\\share") && lk_sys_is_fs_root("\\\\server\\share\\"),
          "UNC share roots are roots");
    CHECK(!lk_sys_is_fs_root("C:\\Users") && !lk_sys_is_fs_root("\\\\server\\share\\x"),
          "folders below them are not");
    CHECK(lk_sys_is_system_dir(win8), "%s is a system folder", win8);
    CHECK(home != NULL, "home is %s", home ? home : "(unknown)");
    CHECK(!lk_sys_is_system_dir(prof8), "a profile in the temp folder is not a system folder");
    CHECK(lk_doctor_check_target("C:\\", "C:\\", 0, NULL, &err) == LK_EREFUSED,
          "cleanup refuses C:\\");
    CHECK(home &&
              lk_doctor_check_target(home, home, LK_CLEAN_ANY_FOLDER, NULL, &err) == LK_EREFUSED,
          "cleanup refuses the home folder");
    CHECK(lk_doctor_check_target(win8, win8, LK_CLEAN_ANY_FOLDER, NULL, &err) == LK_EREFUSED,
          "cleanup refuses the Windows folder");
    CHECK(lk_doctor_check_target(plain8, plain8, 0, NULL, &err) == LK_EREFUSED,
          "cleanup refuses a folder that is not a bot's session");
    CHECK(lk_doctor_check_target(plain8, plain8, LK_CLEAN_ANY_FOLDER, NULL, &err) == LK_OK,
          "unless --any-folder is given");
    CHECK(lk_doctor_check_target(prof8, prof8, 0, NULL, &err) == LK_OK, "and accepts a session");

    CHECK(lk_sys_abspath(prof8, &abs, &err) == LK_OK &&
              lk_sys_realpath(prof8, &real, &err) == LK_OK,
          "abspath and realpath of the profile");
    CHECK(abs && real && _stricmp(abs, real) == 0 && strncmp(real, "\\\\?\\", 4) != 0,
          "agree without a \\\\?\\ prefix: %s", real ? real : "(null)");
    CHECK(lk_sys_ftype(prof8) == LK_FT_DIR && lk_sys_ftype(plain8) == LK_FT_DIR,
          "lk_sys_ftype: folders");
    free(abs);
    free(real);
    abs = NULL;
    rc = lk_sys_abspath("C:\\a\\.\\b\\..\\c", &abs, &err);
    CHECK(rc == LK_OK && abs && strcmp(abs, "C:\\a\\c") == 0, "abspath normalises: %s",
          abs ? abs : "(null)");
    free(abs);
    abs = NULL;
    rc = lk_sys_abspath("C:/x//y/", &abs, &err);
    CHECK(rc == LK_OK && abs && strcmp(abs, "C:\\x\\y") == 0, "abspath uses backslashes: %s",
          abs ? abs : "(null)");
    free(abs);

    free(win8);
    free(home);
    free(plain);
    free(prof);
    free(plain8);
    free(prof8);
}

/* Chromium's `lockfile`: held while a process has it open, stale after. */
static void test_lockfile(const wchar_t *base)
{
    wchar_t *prof = wjoin(base, L"profile-lock"), *lock = wjoin(prof, L"lockfile");
    wchar_t *ready = wjoin(base, L"ready-lock");
    char *prof8;
    lk_lock_info info[2];
    PROCESS_INFORMATION pi = {0};
    size_t n;

    make_profile(prof);
    prof8 = u8(prof);
    n = lk_sys_profile_locks(prof8, info, 2);
    CHECK(n == 0, "no lockfile, no lock");
    if (CHECK(start_holder(lock, ready, 0, &pi, NULL), "a process holds the lockfile")) {
        n = lk_sys_profile_locks(prof8, info, 2);
        CHECK(n == 1 && info[0].held == 1, "lockfile reported held");
        if (n)
            lk_lock_info_clear(&info[0]);
        stop(&pi);
        n = lk_sys_profile_locks(prof8, info, 2);
        CHECK(n == 1 && info[0].held == 0, "after its holder is gone: not held (stale)");
        if (n)
            lk_lock_info_clear(&info[0]);
    }
    free(prof);
    free(lock);
    free(ready);
    free(prof8);
}

static void test_cli(const wchar_t *base, const wchar_t *cli)
{
    wchar_t *session = wjoin(base, L"session-cli"), *file = wjoin(session, L"Default\\Cookies");
    wchar_t *ready = wjoin(base, L"ready-cli"), *out = wjoin(base, L"cli-out.json");
    wchar_t args[2 * MAX_PATH];
    char pidtext[32];
    char *text = NULL;
    PROCESS_INFORMATION pi = {0};
    int code;

    make_profile(session);
    if (!CHECK(start_holder(file, ready, 0, &pi, NULL), "lock_helper holds session-cli"))
        goto out;
    snprintf(pidtext, sizeof pidtext, "%lu", pi.dwProcessId);
    _snwprintf(args, sizeof args / sizeof args[0], L"holders \"%ls\" --json", session);
    code = run(cli, args, out, 120000, &text, NULL);
    if (CHECK(code >= 0, "latchkeyctl holders --json ran (%d)", code)) {
        printf("%s\n", text ? text : "");
        CHECK(code == 0, "it exits 0 (%d)", code);
        CHECK(text && strstr(text, "\"holders\"") && strstr(text, pidtext) &&
                  strstr(text, "lock_helper"),
              "its JSON names the helper (pid %s)", pidtext);
    }
    free(text);
    text = NULL;
    _snwprintf(args, sizeof args / sizeof args[0], L"cleanup \"%ls\" --json --timeout 20", session);
    code = run(cli, args, out, 120000, &text, NULL);
    if (CHECK(code >= 0, "latchkeyctl cleanup --json ran (%d)", code)) {
        printf("%s\n", text ? text : "");
        CHECK(code == 0, "it exits 0 (%d)", code);
        CHECK(text && strstr(text, "\"removed\""), "its result is removed");
    }
    CHECK(WaitForSingleObject(pi.hProcess, 30000) == WAIT_OBJECT_0, "the helper has exited");
    CHECK(!exists(session), "session-cli is gone");
out:
    free(text);
    stop(&pi);
    free(session);
    free(file);
    free(ready);
    free(out);
}

int main(int argc, char **argv)
{
    wchar_t tmp[MAX_PATH], base[MAX_PATH], *slash;
    wchar_t *link_tree = NULL, *cli = NULL;
    char *base8;
    lk_remove_pass pass;
    lk_error err;
    int i;

    setvbuf(stdout, NULL, _IONBF, 0);
    for (i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--link-tree") == 0)
            link_tree = host_path(argv[++i]);
        else if (strcmp(argv[i], "--cli") == 0)
            cli = host_path(argv[++i]);
    }
    GetModuleFileNameW(NULL, g_helper, MAX_PATH);
    slash = wcsrchr(g_helper, L'\\');
    wcscpy(slash ? slash + 1 : g_helper, L"lock_helper.exe");
    GetTempPathW(MAX_PATH, tmp);
    _snwprintf(base, MAX_PATH, L"%lslk-doctor-%lu", tmp, GetCurrentProcessId());
    base[MAX_PATH - 1] = L'\0';
    CreateDirectoryW(base, NULL);
    base8 = u8(base);
    note("working in %s%s", base8, is_wine() ? " (under wine)" : "");

    test_holders_and_cleanup(base);
    test_graceful_window(base);
    test_graceful_console(base);
    test_cwd_and_module(base);
    test_identity(base);
    test_remove_tree(base, link_tree);
    test_guards(base);
    test_lockfile(base);
    if (cli)
        test_cli(base, cli);

    memset(&pass, 0, sizeof pass);
    lk_sys_remove_tree_once(base8, &pass, &err);
    lk_remove_pass_free(&pass);
    free(base8);
    free(link_tree);
    free(cli);
    printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
