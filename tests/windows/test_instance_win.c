/* The tray app's single-instance pipe (app/tray/instance_win32.c) between
 * real processes: this program runs as the first instance ("serve": a
 * GApplication whose command-line handler echoes, fails, reports the
 * caller's folder or quits) and as later instances ("client"), and as the
 * driver that starts both and checks what came back.
 *
 *   test_instance_win                 the checks
 *   test_instance_win serve READY     first instance; writes READY once serving
 *   test_instance_win client ARGS...  a later instance: forwards ARGS */
#include "win_check.h"

#include <gio/gio.h>
#include <string.h>

#include "instance_win32.h"

/* ---- the first instance -------------------------------------------------------- */

static GSList *quitters;

static int on_command_line(GApplication *app, GApplicationCommandLine *cl, gpointer user)
{
    int argc, rc = 0;
    gchar **argv = g_application_command_line_get_arguments(cl, &argc);
    if (argc >= 3 && strcmp(argv[1], "echo") == 0) {
        g_application_command_line_print(cl, "%s\n", argv[2]);
    } else if (argc >= 2 && strcmp(argv[1], "fail") == 0) {
        g_application_command_line_printerr(cl, "failed as asked\n");
        rc = 3;
    } else if (argc >= 2 && strcmp(argv[1], "cwd") == 0) {
        GFile *f = g_application_command_line_create_file_for_arg(cl, "x.txt");
        char *p = g_file_get_path(f);
        g_application_command_line_print(cl, "%s\n", p);
        g_free(p);
        g_object_unref(f);
    } else if (argc >= 2 && strcmp(argv[1], "quit") == 0) {
        /* Answered only once the app has shut down, as the tray app does. */
        quitters = g_slist_prepend(quitters, g_object_ref(cl));
        g_application_quit(app);
    }
    g_strfreev(argv);
    return rc;
}

static void on_shutdown(GApplication *app, gpointer user)
{
    g_usleep(500 * 1000); /* the tray app stops its sessions here */
    g_slist_free_full(quitters, g_object_unref);
    quitters = NULL;
}

static gboolean write_ready(gpointer path)
{
    g_file_set_contents(path, "ready", -1, NULL);
    return G_SOURCE_REMOVE;
}

static int serve(int argc, char **argv)
{
    lk_instance *in = NULL;
    char *err = NULL;
    int status = 0, rc;
    GApplication *app;
    if (lk_instance_claim(argc, argv, &in, &status, &err) != LK_INSTANCE_PRIMARY) {
        fprintf(stderr, "serve: not the first instance: %s\n", err ? err : "forwarded");
        return 9;
    }
    app = g_application_new("app.latchkey.InstanceTest",
                            G_APPLICATION_HANDLES_COMMAND_LINE | G_APPLICATION_NON_UNIQUE);
    g_signal_connect(app, "command-line", G_CALLBACK(on_command_line), NULL);
    g_signal_connect(app, "shutdown", G_CALLBACK(on_shutdown), NULL);
    g_application_hold(app); /* runs until "quit" */
    g_idle_add(write_ready, argv[2]);
    lk_instance_serve(in, app);
    /* Its own command line is "serve READY": handled locally, no output. */
    rc = g_application_run(app, 1, argv);
    lk_instance_free(in);
    g_object_unref(app);
    return rc;
}

static int client(int argc, char **argv)
{
    lk_instance *in = NULL;
    char *err = NULL;
    int status = 0;
    switch (lk_instance_claim(argc, argv, &in, &status, &err)) {
    case LK_INSTANCE_FORWARDED: return status;
    case LK_INSTANCE_PRIMARY:
        lk_instance_free(in);
        printf("primary\n");
        return 42;
    default: fprintf(stderr, "client: %s\n", err); return 43;
    }
}

/* ---- the driver ----------------------------------------------------------------- */

typedef struct run_result {
    DWORD status;
    char out[4096];
} run_result;

/* Runs this program with args (UTF-16) in cwd (or ours), collects stdout
 * and stderr (up to 4 KiB), returns FALSE when it could not start or end. */
static BOOL run(const wchar_t *args, const wchar_t *cwd, run_result *r)
{
    wchar_t exe[MAX_PATH], cmd[1024];
    SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
    HANDLE rd, wr;
    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    DWORD n, total = 0;
    GetModuleFileNameW(NULL, exe, MAX_PATH);
    _snwprintf(cmd, 1024, L"\"%ls\" %ls", exe, args);
    cmd[1023] = 0;
    memset(r, 0, sizeof *r);
    if (!CreatePipe(&rd, &wr, &sa, 0))
        return FALSE;
    SetHandleInformation(rd, HANDLE_FLAG_INHERIT, 0);
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdOutput = si.hStdError = wr;
    si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    if (!CreateProcessW(NULL, cmd, NULL, NULL, TRUE, 0, NULL, cwd, &si, &pi)) {
        CloseHandle(rd);
        CloseHandle(wr);
        return FALSE;
    }
    CloseHandle(wr);
    while (total < sizeof r->out - 1 &&
           ReadFile(rd, r->out + total, (DWORD)(sizeof r->out - 1 - total), &n, NULL) && n > 0)
        total += n;
    CloseHandle(rd);
    r->out[total] = 0;
    {
        /* Text-mode stdout writes \r\n: compare lines as \n. */
        char *src = r->out, *dst = r->out;
        for (; *src; src++)
            if (*src != '\r')
                *dst++ = *src;
        *dst = 0;
    }
    WaitForSingleObject(pi.hProcess, 60000);
    GetExitCodeProcess(pi.hProcess, &r->status);
    CloseHandle(pi.hProcess);
    CloseHandle(pi.hThread);
    return TRUE;
}

/* Sends raw bytes down the pipe; TRUE when the server hung up without
 * answering (what it must do with a bad request). */
static BOOL dropped(const char *name, const void *bytes, DWORD len)
{
    wchar_t *w = (wchar_t *)g_utf8_to_utf16(name, -1, NULL, NULL, NULL);
    HANDLE h = INVALID_HANDLE_VALUE;
    char buf[16];
    DWORD n = 0;
    BOOL got;
    int i;
    /* A moment may pass before the server listens again: wait for it. */
    for (i = 0; i < 100 && h == INVALID_HANDLE_VALUE; i++) {
        h = CreateFileW(w, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
        if (h == INVALID_HANDLE_VALUE && !WaitNamedPipeW(w, 100))
            Sleep(100);
    }
    g_free(w);
    if (h == INVALID_HANDLE_VALUE)
        return FALSE;
    WriteFile(h, bytes, len, &n, NULL);
    got = ReadFile(h, buf, sizeof buf, &n, NULL) && n > 0;
    CloseHandle(h);
    return !got;
}

static int drive(void)
{
    wchar_t ready[MAX_PATH], tmp[MAX_PATH], other[MAX_PATH], cmd[1024], exe[MAX_PATH];
    STARTUPINFOW si;
    PROCESS_INFORMATION srv;
    run_result r;
    char *name = lk_instance_pipe_name(), *want;
    BOOL ok;
    int i;

    GetTempPathW(MAX_PATH, tmp);
    _snwprintf(ready, MAX_PATH, L"%lsinstance-ready-%lu", tmp, GetCurrentProcessId());
    _snwprintf(other, MAX_PATH, L"%lsinstance-cwd-%lu", tmp, GetCurrentProcessId());
    DeleteFileW(ready);
    CreateDirectoryW(other, NULL);
    CHECK(name && strncmp(name, "\\\\.\\pipe\\latchkey-S-", 20) == 0,
          "the pipe is named for the user and session: %s", name ? name : "(none)");

    ok = run(L"client echo nobody", NULL, &r);
    CHECK(ok && r.status == 42, "with no first instance, a client becomes the first instance itself");

    GetModuleFileNameW(NULL, exe, MAX_PATH);
    _snwprintf(cmd, 1024, L"\"%ls\" serve \"%ls\"", exe, ready);
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    if (!CHECK(CreateProcessW(NULL, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &srv),
               "the first instance starts"))
        return 1;
    for (i = 0; i < 600 && GetFileAttributesW(ready) == INVALID_FILE_ATTRIBUTES; i++)
        Sleep(100);
    CHECK(GetFileAttributesW(ready) != INVALID_FILE_ATTRIBUTES, "it serves");

    ok = run(L"client echo hello", NULL, &r);
    CHECK(ok && r.status == 0 && strcmp(r.out, "hello\n") == 0,
          "a later instance's command line runs in the first; its output comes back (%lu, '%s')",
          r.status, r.out);
    ok = run(L"client fail", NULL, &r);
    CHECK(ok && r.status == 3 && strstr(r.out, "failed as asked"),
          "the first instance's exit status and stderr come back (%lu, '%s')", r.status, r.out);
    want = g_utf16_to_utf8((const gunichar2 *)other, -1, NULL, NULL, NULL);
    ok = run(L"client cwd", other, &r);
    CHECK(ok && r.status == 0 && strncmp(r.out, want, strlen(want)) == 0 && strstr(r.out, "x.txt"),
          "paths resolve against the caller's folder, not the first instance's ('%s')", r.out);
    g_free(want);

    /* Untrusted input: bad requests are dropped, the server keeps serving. */
    CHECK(dropped(name, "XXXX\2\0\0\0", 8), "a request without the magic is dropped unanswered");
    {
        const char big[] = "LKI1\xff\xff\xff\x7f";
        CHECK(dropped(name, big, 8), "a request with 2 billion strings is dropped");
    }
    {
        const char nul[] = "LKI1\2\0\0\0\1\0\0\0/\3\0\0\0a\0b";
        CHECK(dropped(name, nul, sizeof nul - 1), "a string with a NUL byte is dropped");
    }
    ok = run(L"client echo still", NULL, &r);
    CHECK(ok && r.status == 0 && strcmp(r.out, "still\n") == 0,
          "it still serves afterwards (%lu, '%s')", r.status, r.out);

    /* quit: answered once the first instance has shut down. */
    ok = run(L"client quit", NULL, &r);
    CHECK(ok && r.status == 0, "quit is answered (%lu)", r.status);
    CHECK(WaitForSingleObject(srv.hProcess, 30000) == WAIT_OBJECT_0,
          "the first instance has exited (by the time quit was answered, or just after)");
    CloseHandle(srv.hProcess);
    CloseHandle(srv.hThread);
    ok = run(L"client echo again", NULL, &r);
    CHECK(ok && r.status == 42,
          "after it quit, the next one becomes the first instance");
    DeleteFileW(ready);
    RemoveDirectoryW(other);
    g_free(name);
    printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail != 0;
}

int main(int argc, char **argv)
{
    char **args = g_win32_get_command_line();
    int n = (int)g_strv_length(args), rc;
    if (n >= 3 && strcmp(args[1], "serve") == 0)
        rc = serve(n, args);
    else if (n >= 2 && strcmp(args[1], "client") == 0)
        rc = client(n - 1, args + 1);
    else
        rc = drive();
    g_strfreev(args);
    return rc;
}
