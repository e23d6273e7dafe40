/* latchkeyctl.exe unlock, and orphan or live bot, on Windows (run under wine
 * in CI). The "browser" is lock_helper copied to chrome.exe: a process named
 * like Chromium, with --user-data-dir on its command line, that keeps the
 * profile's `lockfile` open with no sharing (as Chromium does) and has a
 * window. A bot's launcher is this program started with --launch.
 *
 *   - a live bot: holders, status and sessions name its launcher, alive, not
 *     orphaned; the text says "used by a running bot"; unlock's plan warns
 *     that the bot will lose its browser;
 *   - the launcher killed (the bot crashed): the browser is orphaned in all
 *     three, the launcher's pid kept (Windows keeps a parent's pid); the text
 *     says so; sessions counts the holders holders lists;
 *   - unlock ends exactly that browser (gracefully, through its window),
 *     removes only `lockfile` and a stale DevToolsActivePort, keeps the
 *     folder byte for byte (cookies, preferences); a same-named decoy on
 *     another profile lives; a new browser starts on the folder at once;
 *   - unlock again: 0, nothing to end; a folder that does not exist yet: 0;
 *     a file: 2.
 *
 *   test_unlock_win --cli LATCHKEYCTL --holder LOCK_HELPER
 *   test_unlock_win --launch CMDFILE   (a bot's launcher: starts the command
 *                                       line in CMDFILE, then waits to be
 *                                       killed)
 */
#include <windows.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "latchkey/sys.h"

#include "win_check.h"
#include "win_fs.h"
#include "win_run.h"

static wchar_t *g_cli, *g_out, *g_chrome, *g_base;

static void note(const char *msg, const char *detail)
{
    printf("#    %s%s%s\n", msg, detail ? ": " : "", detail ? detail : "");
}

/* A bot's launcher: starts the command line in cmdfile (UTF-16, as node
 * would start its browser: the profile is on the browser's command line,
 * not on the launcher's), then waits to be killed. */
static int launch_mode(const char *cmdfile)
{
    wchar_t *path = host_path(cmdfile), cmd[6 * MAX_PATH];
    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    DWORD n = 0;
    HANDLE f = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    free(path);
    if (f == INVALID_HANDLE_VALUE)
        return 2;
    ReadFile(f, cmd, sizeof cmd - sizeof cmd[0], &n, NULL);
    CloseHandle(f);
    cmd[n / sizeof cmd[0]] = L'\0';
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    if (!CreateProcessW(NULL, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi))
        return 1;
    CloseHandle(pi.hThread);
    /* Until killed; a broken test never leaves it for long. */
    WaitForSingleObject(pi.hProcess, 10 * 60 * 1000);
    return 0;
}

/* Starts cmd; *pi gets the process. */
static int start(const wchar_t *cmd, PROCESS_INFORMATION *pi)
{
    STARTUPINFOW si;
    wchar_t *c = _wcsdup(cmd);
    int ok;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    ok = CreateProcessW(NULL, c, NULL, NULL, FALSE, 0, NULL, NULL, &si, pi) != 0;
    free(c);
    if (ok)
        CloseHandle(pi->hThread);
    return ok;
}

/* The pid a lock_helper wrote to ready once it held its file (0: not within
 * 60 s). */
static DWORD wait_ready(const wchar_t *ready)
{
    int i;
    for (i = 0; i < 1200; i++) {
        char text[64] = "";
        DWORD n = 0;
        HANDLE f = CreateFileW(ready, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                               OPEN_EXISTING, 0, NULL);
        if (f != INVALID_HANDLE_VALUE) {
            ReadFile(f, text, sizeof text - 1, &n, NULL);
            CloseHandle(f);
            if (n > 0 && strchr(text, '\n'))
                return (DWORD)strtoul(text, NULL, 10);
        }
        Sleep(50);
    }
    return 0;
}

/* A "browser" (chrome.exe) on profile, holding its lockfile, with a window;
 * through a launcher (this program with --launch) when launcher is not NULL.
 * Returns the browser's pid (0: it did not get ready). */
static DWORD start_browser(const wchar_t *profile, const wchar_t *ready,
                           PROCESS_INFORMATION *launcher)
{
    wchar_t self[MAX_PATH], browser[4 * MAX_PATH], cmd[6 * MAX_PATH];
    PROCESS_INFORMATION pi;
    DeleteFileW(ready);
    _snwprintf(browser, sizeof browser / sizeof browser[0],
               L"\"%ls\" hold \"%ls\\lockfile\" \"%ls\" --window \"--user-data-dir=%ls\" "
               L"--no-first-run",
               g_chrome, profile, ready, profile);
    browser[sizeof browser / sizeof browser[0] - 1] = L'\0';
    if (launcher) {
        wchar_t *cmdfile = wjoin(g_base, L"launch.cmd");
        DWORD n = 0;
        HANDLE f = CreateFileW(cmdfile, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
        if (f == INVALID_HANDLE_VALUE)
            return 0;
        WriteFile(f, browser, (DWORD)(wcslen(browser) * sizeof browser[0]), &n, NULL);
        CloseHandle(f);
        GetModuleFileNameW(NULL, self, MAX_PATH);
        _snwprintf(cmd, sizeof cmd / sizeof cmd[0], L"\"%ls\" --launch \"%ls\"", self, cmdfile);
        cmd[sizeof cmd / sizeof cmd[0] - 1] = L'\0';
        free(cmdfile);
        if (!start(cmd, launcher))
            return 0;
    } else {
        if (!start(browser, &pi))
            return 0;
        CloseHandle(pi.hProcess);
    }
    return wait_ready(ready);
}

/* Whether pid has ended within ms (a pid we cannot open counts as ended). */
static int ended_within(DWORD pid, DWORD ms)
{
    HANDLE h = OpenProcess(SYNCHRONIZE, FALSE, pid);
    int ended;
    if (!h)
        return 1;
    ended = WaitForSingleObject(h, ms) == WAIT_OBJECT_0;
    CloseHandle(h);
    return ended;
}

static int alive(DWORD pid)
{
    return !ended_within(pid, 0);
}

/* Until pid has ended (10 s). */
static int gone(DWORD pid)
{
    return ended_within(pid, 10000);
}

static void end_pid(DWORD pid)
{
    HANDLE h = OpenProcess(PROCESS_TERMINATE | SYNCHRONIZE, FALSE, pid);
    if (h) {
        TerminateProcess(h, 9);
        WaitForSingleObject(h, 5000);
        CloseHandle(h);
    }
}

/* latchkeyctl.exe ARGS with the session folder for every %ls; its JSON
 * (NULL when it printed none), its exit code in *rc, its text in *text when
 * wanted. */
static json_t *ctl(int *rc, char **text, const wchar_t *fmt, const wchar_t *path)
{
    wchar_t args[4 * MAX_PATH];
    char *out = NULL;
    json_t *j;
    _snwprintf(args, sizeof args / sizeof args[0], fmt, path, path);
    args[sizeof args / sizeof args[0] - 1] = L'\0';
    *rc = run(g_cli, args, g_out, 120000, &out, NULL);
    j = out ? json_loads(out, 0, NULL) : NULL;
    if (text)
        *text = out;
    else
        free(out);
    return j;
}

static json_t *holder_of(json_t *report, DWORD pid)
{
    size_t i;
    json_t *h;
    json_array_foreach(json_object_get(report, "holders"), i, h)
    {
        if (json_integer_value(json_object_get(h, "pid")) == (json_int_t)pid)
            return h;
    }
    return NULL;
}

static json_t *session_of(json_t *sessions, const char *path)
{
    size_t i;
    json_t *s;
    json_array_foreach(sessions, i, s)
    {
        const char *p = json_string_value(json_object_get(s, "path"));
        if (p && _stricmp(p, path) == 0)
            return s;
    }
    return NULL;
}

static int has_string(json_t *arr, const char *needle)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        const char *s = json_string_value(v);
        if (s && strstr(s, needle))
            return 1;
    }
    return 0;
}

static json_int_t jint(json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

/* ---- a live bot ----------------------------------------------------------- */

static void test_live(const wchar_t *session, DWORD launcher, DWORD browser)
{
    char want[128], *text = NULL;
    json_t *j, *h, *l;
    int rc;

    j = ctl(&rc, NULL, L"holders \"%ls\" --json", session);
    h = holder_of(j, browser);
    l = json_object_get(h, "launcher");
    CHECK(rc == 0 && h &&
              strcmp(json_string_value(json_object_get(h, "kind")), "chromium-browser") == 0,
          "live bot: holders lists its browser as the Chromium browser (exit %d)", rc);
    CHECK(jint(l, "pid") == (json_int_t)launcher && json_is_true(json_object_get(l, "alive")) &&
              json_is_false(json_object_get(h, "orphaned")),
          "live bot: holders names its launcher (pid %lu), alive, not orphaned",
          (unsigned long)launcher);
    CHECK(json_string_value(json_object_get(l, "name")) &&
              strstr(json_string_value(json_object_get(l, "name")), "test_unlock_win"),
          "live bot: the launcher's name is its program's (%s)",
          json_string_value(json_object_get(l, "name"))
              ? json_string_value(json_object_get(l, "name"))
              : "null");
    json_decref(j);

    ctl(&rc, &text, L"holders \"%ls\"", session);
    snprintf(want, sizeof want, "used by a running bot: test_unlock_win.exe pid %lu",
             (unsigned long)launcher);
    CHECK(text && strstr(text, want), "live bot: holders' text says \"%s\"", want);
    if (text && !strstr(text, want))
        note("it printed", text);
    free(text);

    j = ctl(&rc, NULL, L"status \"%ls\" --json", session);
    h = json_object_get(j, "browser");
    CHECK(jint(h, "pid") == (json_int_t)browser && json_is_false(json_object_get(h, "orphaned")) &&
              jint(json_object_get(h, "launcher"), "pid") == (json_int_t)launcher,
          "live bot: status names the browser, not orphaned, and its launcher");
    json_decref(j);

    j = ctl(&rc, NULL, L"unlock \"%ls\" --dry-run --json", session);
    snprintf(want, sizeof want, "pid %lu is using this session", (unsigned long)launcher);
    CHECK(rc == 0 && has_string(json_object_get(j, "warnings"), want),
          "live bot: unlock's plan warns that the bot (%s) will lose its browser", want);
    CHECK(alive(browser), "live bot: the dry run ended nothing");
    json_decref(j);
}

/* ---- the bot crashed: its browser is left -------------------------------- */

static void test_orphan(const wchar_t *session, const char *session8, const wchar_t *root,
                        DWORD launcher, DWORD browser)
{
    char want[128], *text = NULL;
    json_t *j, *h, *s;
    json_int_t nholders;
    int rc;

    j = ctl(&rc, NULL, L"holders \"%ls\" --json", session);
    h = holder_of(j, browser);
    CHECK(h && json_is_true(json_object_get(h, "orphaned")) &&
              jint(json_object_get(h, "launcher"), "pid") == (json_int_t)launcher &&
              json_is_false(json_object_get(json_object_get(h, "launcher"), "alive")),
          "orphan: holders says orphaned, its launcher (pid %lu) dead", (unsigned long)launcher);
    nholders = (json_int_t)json_array_size(json_object_get(j, "holders"));
    json_decref(j);

    ctl(&rc, &text, L"holders \"%ls\"", session);
    snprintf(want, sizeof want, "orphaned: its launcher (pid %lu) exited", (unsigned long)launcher);
    CHECK(text && strstr(text, want), "orphan: holders' text says \"%s\"", want);
    free(text);

    j = ctl(&rc, NULL, L"status \"%ls\" --json", session);
    h = json_object_get(j, "browser");
    CHECK(jint(h, "pid") == (json_int_t)browser && json_is_true(json_object_get(h, "orphaned")),
          "orphan: status says orphaned");
    json_decref(j);
    ctl(&rc, &text, L"status \"%ls\"", session);
    CHECK(text && strstr(text, "orphaned"), "orphan: status' text says orphaned");
    free(text);

    j = ctl(&rc, NULL, L"sessions --root \"%ls\" --json", root);
    s = session_of(j, session8);
    h = json_object_get(s, "browser");
    CHECK(s && jint(h, "pid") == (json_int_t)browser &&
              json_is_true(json_object_get(h, "orphaned")),
          "orphan: sessions says orphaned");
    CHECK(s && jint(s, "holders") == nholders,
          "sessions counts the holders holders lists (%lld, %lld)", (long long)jint(s, "holders"),
          (long long)nholders);
    json_decref(j);
}

/* ---- unlock ---------------------------------------------------------------- */

static void test_unlock(const wchar_t *session, const wchar_t *base, DWORD browser, DWORD decoy)
{
    wchar_t *dflt = wjoin(session, L"Default"), *lockfile = wjoin(session, L"lockfile");
    wchar_t *port = wjoin(session, L"DevToolsActivePort"), *ready = wjoin(base, L"again.ready");
    wchar_t *file = wjoin(session, L"Default\\Cookies");
    char *before = digest(dflt), *after;
    json_t *j, *k;
    size_t i;
    int rc, graceful = 0;
    DWORD again;

    /* The dead browser's DevTools port, left behind as after a crash. */
    make_file(port, "9\n/devtools/browser/x\n");

    j = ctl(&rc, NULL, L"unlock \"%ls\" --json", session);
    CHECK(rc == 0 && strcmp(json_string_value(json_object_get(j, "result")), "unlocked") == 0,
          "unlock exits 0, result unlocked (%d)", rc);
    CHECK(gone(browser), "unlock: the orphaned browser ended");
    json_array_foreach(json_object_get(j, "killed"), i, k)
    {
        if (jint(k, "pid") == (json_int_t)browser)
            graceful = strcmp(json_string_value(json_object_get(k, "how")), "graceful") == 0;
    }
    CHECK(graceful, "unlock: it was asked first (its window closed), not forced");
    CHECK(has_string(json_object_get(j, "removed"), "\\lockfile") && !exists(lockfile),
          "unlock: lockfile removed");
    CHECK(!exists(port), "unlock: the dead browser's DevToolsActivePort removed");
    after = digest(dflt);
    CHECK(exists(dflt) && strcmp(before, after) == 0 && strstr(after, "Cookies "),
          "unlock: the profile is byte for byte what it was (cookies, preferences)");
    CHECK(alive(decoy), "unlock: the same-named browser of another profile lives");
    json_decref(j);
    free(before);
    free(after);

    /* A new browser starts on the folder at once: the lock is free. */
    again = start_browser(session, ready, NULL);
    CHECK(again && alive(again), "a new browser starts on the folder at once");
    end_pid(again);

    j = ctl(&rc, NULL, L"unlock \"%ls\" --json", session);
    CHECK(rc == 0 && json_array_size(json_object_get(j, "killed")) == 0,
          "unlock again: exit 0, nothing to end (%d)", rc);
    json_decref(j);
    free(dflt);
    free(lockfile);
    free(port);
    free(ready);
    free(file);
}

static void test_bad_input(const wchar_t *base)
{
    wchar_t *missing = wjoin(base, L"bot\\.wwebjs_auth\\session-new");
    wchar_t *file = wjoin(base, L"a-file.txt");
    json_t *j;
    int rc;
    make_file(file, "not a folder");
    j = ctl(&rc, NULL, L"unlock \"%ls\" --json", missing);
    CHECK(rc == 0, "unlock of a session that does not exist yet: exit 0 (%d)", rc);
    json_decref(j);
    j = ctl(&rc, NULL, L"unlock \"%ls\" --json", file);
    CHECK(rc == 2, "unlock of a file: exit 2 (%d)", rc);
    json_decref(j);
    free(missing);
    free(file);
}

int main(int argc, char **argv)
{
    wchar_t tmp[MAX_PATH], base[MAX_PATH], *holder = NULL, *bin, *root, *session, *other;
    wchar_t *ready, *dready;
    PROCESS_INFORMATION launcher;
    DWORD browser, decoy;
    char *session8;
    int i;

    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 2 && strcmp(argv[1], "--launch") == 0)
        return launch_mode(argv[2]);
    for (i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--cli") == 0)
            g_cli = host_path(argv[++i]);
        else if (strcmp(argv[i], "--holder") == 0)
            holder = host_path(argv[++i]);
    }
    if (!g_cli || !holder) {
        fprintf(stderr, "usage: test_unlock_win --cli LATCHKEYCTL --holder LOCK_HELPER\n");
        return 2;
    }
    GetTempPathW(MAX_PATH, tmp);
    _snwprintf(base, MAX_PATH, L"%lslk-unlock-%lu", tmp, GetCurrentProcessId());
    base[MAX_PATH - 1] = L'\0';
    CreateDirectoryW(base, NULL);
    g_base = base;
    g_out = wjoin(base, L"out.txt");
    bin = wjoin(base, L"bin");
    CreateDirectoryW(bin, NULL);
    g_chrome = wjoin(bin, L"chrome.exe");
    if (!CHECK(CopyFileW(holder, g_chrome, FALSE), "a stand-in chrome.exe (lock_helper)"))
        return 1;

    /* A bot's session: a profile with its login, and another bot's. */
    root = wjoin(base, L"bot");
    session = wjoin(root, L".wwebjs_auth\\session-w");
    other = wjoin(root, L".wwebjs_auth\\session-other");
    for (i = 0; i < 2; i++) {
        wchar_t *p = i ? other : session, *d = wjoin(p, L"Default"), *f;
        make_dirs(d);
        f = wjoin(p, L"Local State");
        make_file(f, "{}");
        free(f);
        f = wjoin(d, L"Cookies");
        make_file(f, "SQLite format 3\n wa_login=1; cookie of the linked session\n");
        free(f);
        f = wjoin(d, L"Preferences");
        make_file(f, "{\"profile\":{\"name\":\"bot\"}}");
        free(f);
        free(d);
    }
    session8 = u8(session);
    ready = wjoin(base, L"browser.ready");
    dready = wjoin(base, L"decoy.ready");

    decoy = start_browser(other, dready, NULL);
    CHECK(decoy != 0, "a decoy: another bot's browser (chrome.exe) on its own profile");
    memset(&launcher, 0, sizeof launcher);
    browser = start_browser(session, ready, &launcher);
    if (CHECK(browser != 0, "a bot's launcher starts its browser on the session")) {
        test_live(session, launcher.dwProcessId, browser);
        TerminateProcess(launcher.hProcess, 9);
        WaitForSingleObject(launcher.hProcess, 10000);
        CHECK(alive(browser), "the bot crashed (its launcher killed): its browser is left");
        test_orphan(session, session8, root, launcher.dwProcessId, browser);
        test_unlock(session, base, browser, decoy);
    }
    test_bad_input(base);

    if (launcher.hProcess)
        CloseHandle(launcher.hProcess);
    if (browser)
        end_pid(browser);
    end_pid(decoy);
    remove_test_tree(base);
    free(session8);
    printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
