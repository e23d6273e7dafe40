/* latchkeyctl.exe's session commands on Windows (run under wine in CI; no
 * Chromium here):
 *
 *   - --help lists qr, link, status, stop and sessions;
 *   - sessions --root DIR [--json] finds whatsapp-web.js, wppconnect and
 *     RemoteAuth profile folders (one with a non-ASCII name), skips
 *     node_modules and folders that are no profile, and calls them idle;
 *   - status --json on an idle and on a missing folder; stop is idempotent;
 *   - qr with a "browser" that exits at once (spawn_child.exe) fails with
 *     JSON saying so, within its timeout, and leaves none of its processes
 *     behind (the job object); qr with a --chromium that does not exist fails
 *     at once.
 *
 *   test_cli_win --cli LATCHKEYCTL
 */
#include <windows.h>

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "latchkey/error.h"
#include "latchkey/sys.h"

#include "win_check.h"
#include "win_fs.h"
#include "win_run.h"

/* A folder that looks like a Chromium user-data-dir. */
static void make_profile(const wchar_t *base, const wchar_t *rel)
{
    wchar_t dir[MAX_PATH], sub[MAX_PATH];
    _snwprintf(dir, MAX_PATH, L"%ls\\%ls", base, rel);
    dir[MAX_PATH - 1] = L'\0';
    _snwprintf(sub, MAX_PATH, L"%ls\\Default", dir);
    sub[MAX_PATH - 1] = L'\0';
    make_dirs(sub);
    _snwprintf(sub, MAX_PATH, L"%ls\\Local State", dir);
    make_file(sub, "{}");
}

static const char *jstr(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static json_t *find_path(json_t *arr, const char *suffix)
{
    size_t i, n = strlen(suffix);
    json_t *o;
    json_array_foreach(arr, i, o)
    {
        const char *p = jstr(o, "path");
        if (p && strlen(p) >= n && strcmp(p + strlen(p) - n, suffix) == 0)
            return o;
    }
    return NULL;
}

static void test_help(const wchar_t *cli, const wchar_t *out)
{
    static const char *cmds[] = {"holders PATH", "cleanup PATH", "qr PATH",         "link PATH",
                                 "status PATH",  "stop PATH",    "sessions [--root"};
    char *text = NULL;
    size_t i;
    int rc = run(cli, L"--help", out, 60000, &text, NULL);
    CHECK(rc == 0, "latchkeyctl --help exits 0 (%d)", rc);
    for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        CHECK(text && strstr(text, cmds[i]), "  it lists \"%s\"", cmds[i]);
    free(text);
}

static void test_sessions(const wchar_t *cli, const wchar_t *base, const wchar_t *out)
{
    wchar_t root[MAX_PATH], args[2 * MAX_PATH], junk[MAX_PATH];
    json_t *arr, *o;
    json_error_t jerr;
    char *text = NULL;
    int rc;

    _snwprintf(root, MAX_PATH, L"%ls\\root", base);
    root[MAX_PATH - 1] = L'\0';
    make_profile(root, L".wwebjs_auth\\session-bot1");
    make_profile(root, L".wwebjs_auth\\session-J\u00e9r\u00f4me \u4f1a\u8bdd");
    make_profile(root, L"tokens\\wpp1");
    make_profile(root, L"bots\\RemoteAuth-shop");
    make_profile(root, L"node_modules\\whatsapp-web.js\\.wwebjs_cache\\session-x");
    _snwprintf(junk, MAX_PATH, L"%ls\\notes", root);
    make_dirs(junk);
    _snwprintf(junk, MAX_PATH, L"%ls\\notes\\todo.txt", root);
    make_file(junk, "not a profile");

    _snwprintf(args, sizeof args / sizeof args[0], L"sessions --root \"%ls\" --json", root);
    rc = run(cli, args, out, 60000, &text, NULL);
    CHECK(rc == 0, "sessions --root DIR --json exits 0 (%d)", rc);
    arr = text ? json_loads(text, 0, &jerr) : NULL;
    if (!CHECK(json_is_array(arr), "  its output is a JSON array")) {
        printf("%s\n", text ? text : "(nothing)");
        free(text);
        return;
    }
    CHECK(json_array_size(arr) == 4, "  4 sessions (%zu)", json_array_size(arr));
    o = find_path(arr, "\\.wwebjs_auth\\session-bot1");
    CHECK(o && strcmp(jstr(o, "kind"), "wwebjs-local") == 0, "  session-bot1: wwebjs-local");
    CHECK(o && strcmp(jstr(o, "profile"), "idle") == 0 &&
              json_is_null(json_object_get(o, "browser_pid")) &&
              json_is_null(json_object_get(o, "endpoint")) &&
              json_integer_value(json_object_get(o, "holders")) == 0,
          "  session-bot1: idle, no browser, no endpoint, no holders");
    o = find_path(arr, "\\session-J\xc3\xa9r\xc3\xb4me \xe4\xbc\x9a\xe8\xaf\x9d");
    CHECK(o && strcmp(jstr(o, "kind"), "wwebjs-local") == 0,
          "  a non-ASCII session name survives the round trip (UTF-16 -> UTF-8 -> JSON)");
    o = find_path(arr, "\\tokens\\wpp1");
    CHECK(o && strcmp(jstr(o, "kind"), "wppconnect") == 0, "  tokens\\wpp1: wppconnect");
    o = find_path(arr, "\\RemoteAuth-shop");
    CHECK(o && strcmp(jstr(o, "kind"), "wwebjs-remote") == 0, "  RemoteAuth-shop: wwebjs-remote");
    CHECK(find_path(arr, "\\session-x") == NULL, "  nothing under node_modules");
    json_decref(arr);
    free(text);

    _snwprintf(args, sizeof args / sizeof args[0], L"sessions --root \"%ls\"", root);
    rc = run(cli, args, out, 60000, &text, NULL);
    CHECK(rc == 0 && text && strstr(text, "idle") && strstr(text, "wppconnect") &&
              strstr(text, "session-bot1"),
          "sessions (text): one line per session");
    free(text);
}

static void test_status_stop(const wchar_t *cli, const wchar_t *base, const wchar_t *out)
{
    wchar_t args[2 * MAX_PATH];
    json_t *o;
    char *text = NULL;
    int rc;

    _snwprintf(args, sizeof args / sizeof args[0], L"status \"%ls\\root\\tokens\\wpp1\" --json",
               base);
    rc = run(cli, args, out, 60000, &text, NULL);
    o = text ? json_loads(text, 0, NULL) : NULL;
    CHECK(rc == 0 && o && strcmp(jstr(o, "profile"), "idle") == 0 &&
              json_is_null(json_object_get(o, "browser")) &&
              json_is_array(json_object_get(o, "holders")),
          "status --json on an idle profile: idle, no browser (%d)", rc);
    json_decref(o);
    free(text);

    _snwprintf(args, sizeof args / sizeof args[0], L"status \"%ls\\root\\gone\" --json", base);
    rc = run(cli, args, out, 60000, &text, NULL);
    o = text ? json_loads(text, 0, NULL) : NULL;
    CHECK(o && strcmp(jstr(o, "profile"), "missing") == 0,
          "status --json on a missing folder: "
          "missing (%d)",
          rc);
    json_decref(o);
    free(text);

    _snwprintf(args, sizeof args / sizeof args[0], L"stop \"%ls\\root\\tokens\\wpp1\"", base);
    rc = run(cli, args, out, 60000, &text, NULL);
    CHECK(rc == 0 && text && strstr(text, "not running"), "stop on an idle profile: 0, %s",
          text ? text : "");
    free(text);
}

/* How many processes run this image (a file name, case-insensitive), or
 * have needle in their command line. */
static size_t count_procs(const char *image, const char *needle)
{
    lk_snapshot *snap = NULL;
    lk_error err;
    size_t i, n = 0;
    if (lk_sys_snapshot(&snap, 0, &err) != LK_OK)
        return (size_t)-1;
    for (i = 0; i < snap->nprocs; i++) {
        const lk_proc *p = &snap->procs[i];
        const char *exe = p->exe ? p->exe : p->name;
        const char *b = exe ? strrchr(exe, '\\') : NULL;
        b = b ? b + 1 : exe;
        if (image && b && _stricmp(b, image) == 0)
            n++;
        else if (needle && p->cmdline && strstr(p->cmdline, needle))
            n++;
    }
    lk_snapshot_free(snap);
    return n;
}

static void test_qr_without_chromium(const wchar_t *cli, const wchar_t *base, const wchar_t *out,
                                     const wchar_t *fake_browser)
{
    wchar_t args[4 * MAX_PATH];
    json_t *o;
    char *text = NULL;
    int64_t ms = 0;
    /* Other tests' helpers may still be ending: count ours by image and by
     * the session folder on their command line. */
    size_t before = count_procs("spawn_child.exe", NULL), after, tied;
    char *base8 = u8(base);
    int rc;

    _snwprintf(args, sizeof args / sizeof args[0],
               L"qr \"%ls\\root\\tokens\\wpp1\" --json --timeout 6 --chromium \"%ls\"", base,
               fake_browser);
    rc = run(cli, args, out, 60000, &text, &ms);
    o = text ? json_loads(text, 0, NULL) : NULL;
    CHECK(rc == 1, "qr with a browser that exits at once: exit 1 (%d) in %lld ms", rc,
          (long long)ms);
    CHECK(rc != -2, "  it returned by itself (no hang; the test's limit is 60 s)");
    CHECK(o && json_is_null(json_object_get(o, "qr")) && jstr(o, "state") && jstr(o, "error") &&
              strstr(jstr(o, "error"), "exited"),
          "  JSON: state %s, error \"%s\"", o && jstr(o, "state") ? jstr(o, "state") : "?",
          o && jstr(o, "error") ? jstr(o, "error") : "?");
    after = count_procs("spawn_child.exe", NULL);
    tied = count_procs(NULL, base8);
    CHECK(after <= before && tied == 0,
          "  none of its processes is left (%zu before, %zu after, %zu on the session)", before,
          after, tied);
    free(base8);
    json_decref(o);
    free(text);

    _snwprintf(args, sizeof args / sizeof args[0],
               L"qr \"%ls\\root\\tokens\\wpp1\" --timeout 600 --chromium \"%ls\\no-chrome.exe\"",
               base, base);
    /* At once: long before its 600 s timeout, which the test's limit
     * (120 s) would cut. */
    rc = run(cli, args, out, 120000, &text, &ms);
    CHECK(rc != 0 && rc != -2,
          "qr with a --chromium that does not exist: exit %d at once (%lld ms)", rc, (long long)ms);
    free(text);
}

int main(int argc, char **argv)
{
    wchar_t tmp[MAX_PATH], base[MAX_PATH], out[MAX_PATH], fake[MAX_PATH], *slash;
    wchar_t *cli = NULL;
    int i;

    setvbuf(stdout, NULL, _IONBF, 0);
    for (i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--cli") == 0)
            cli = host_path(argv[++i]);
    if (!cli) {
        fprintf(stderr, "usage: test_cli_win --cli LATCHKEYCTL\n");
        return 2;
    }
    GetModuleFileNameW(NULL, fake, MAX_PATH);
    slash = wcsrchr(fake, L'\\');
    wcscpy(slash ? slash + 1 : fake, L"spawn_child.exe");
    GetTempPathW(MAX_PATH, tmp);
    _snwprintf(base, MAX_PATH, L"%lslk-cli-%lu", tmp, GetCurrentProcessId());
    base[MAX_PATH - 1] = L'\0';
    CreateDirectoryW(base, NULL);
    _snwprintf(out, MAX_PATH, L"%ls\\out.txt", base);
    out[MAX_PATH - 1] = L'\0';

    test_help(cli, out);
    test_sessions(cli, base, out);
    test_status_stop(cli, base, out);
    test_qr_without_chromium(cli, base, out, fake);

    remove_test_tree(base);
    free(cli);
    printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
