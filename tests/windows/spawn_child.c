/* Helper for test_spawn_win: a child that prints its arguments, or starts a
 * grandchild and waits, so the test can see a whole tree end. Every mode
 * ends by itself within a minute: a broken test never leaves it behind. */
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>

static void put_utf8(const wchar_t *w)
{
    char buf[4096];
    int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, buf, (int)sizeof buf, NULL, NULL);
    if (n > 0)
        fwrite(buf, 1, (size_t)n - 1, stdout);
    fputc('\n', stdout);
}

/* Starts this program again with --leaf; the job it runs in takes the
 * grandchild in too (no breakaway). Writes the grandchild's pid to pidfile
 * through a rename, so the test never reads half a number. */
static int tree(const wchar_t *pidfile)
{
    wchar_t self[MAX_PATH], cmd[MAX_PATH + 32], tmp[MAX_PATH + 8];
    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    FILE *f;
    if (!GetModuleFileNameW(NULL, self, MAX_PATH))
        return 2;
    swprintf(cmd, sizeof cmd / sizeof cmd[0], L"\"%ls\" --leaf", self);
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    if (!CreateProcessW(NULL, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi))
        return 3;
    swprintf(tmp, sizeof tmp / sizeof tmp[0], L"%ls.tmp", pidfile);
    f = _wfopen(tmp, L"w");
    if (!f)
        return 4;
    fprintf(f, "%lu\n", (unsigned long)pi.dwProcessId);
    fclose(f);
    if (!MoveFileExW(tmp, pidfile, MOVEFILE_REPLACE_EXISTING))
        return 5;
    CloseHandle(pi.hThread);
    WaitForSingleObject(pi.hProcess, 60000);
    CloseHandle(pi.hProcess);
    return 0;
}

int wmain(int argc, wchar_t **argv)
{
    int i;
    if (argc >= 2 && wcscmp(argv[1], L"--echo") == 0) {
        for (i = 2; i < argc; i++)
            put_utf8(argv[i]);
        fflush(stdout);
        return 0;
    }
    if (argc >= 3 && wcscmp(argv[1], L"--tree") == 0)
        return tree(argv[2]);
    if (argc >= 2 && wcscmp(argv[1], L"--leaf") == 0) {
        Sleep(60000);
        return 0;
    }
    fputs("usage: spawn_child --echo ARGS... | --tree PIDFILE | --leaf\n", stderr);
    return 2;
}
