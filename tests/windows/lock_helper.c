/* A process that holds a file the way Chromium holds its Cookies database
 * when users hit EBUSY: opened with no sharing at all, so DeleteFile of it
 * fails with ERROR_SHARING_VIOLATION for as long as this process lives.
 *
 *   lock_helper hold FILE READY [--window] [--load DLL]
 *       opens FILE (created if missing) with share mode 0, writes its pid to
 *       READY, then sleeps until it is ended. With --window it also shows a
 *       top-level window and exits when the window is closed (WM_CLOSE), so
 *       the graceful path can be seen to work. With --load it keeps DLL
 *       loaded (a module inside a session folder holds it too).
 *   lock_helper exit
 *       exits at once (a pid that is certainly dead afterwards).
 */
#include <windows.h>
#include <shellapi.h>

#include <stdio.h>
#include <string.h>
#include <wchar.h>

static LRESULT CALLBACK wnd_proc(HWND w, UINT msg, WPARAM wp, LPARAM lp)
{
    if (msg == WM_DESTROY) {
        PostQuitMessage(0);
        return 0;
    }
    return DefWindowProcW(w, msg, wp, lp);
}

static int show_window(void)
{
    WNDCLASSW wc;
    HWND w;
    memset(&wc, 0, sizeof wc);
    wc.lpfnWndProc = wnd_proc;
    wc.hInstance = GetModuleHandleW(NULL);
    wc.lpszClassName = L"LatchkeyLockHelper";
    if (!RegisterClassW(&wc))
        return 0;
    w = CreateWindowExW(0, wc.lpszClassName, L"lock_helper", WS_OVERLAPPEDWINDOW | WS_VISIBLE, 0, 0,
                        200, 100, NULL, NULL, wc.hInstance, NULL);
    return w != NULL;
}

static int write_ready(const wchar_t *path, int window)
{
    char buf[64];
    DWORD n = 0;
    HANDLE f = CreateFileW(path, GENERIC_WRITE, FILE_SHARE_READ, NULL, CREATE_ALWAYS,
                           FILE_ATTRIBUTE_NORMAL, NULL);
    int len;
    if (f == INVALID_HANDLE_VALUE)
        return 0;
    len = snprintf(buf, sizeof buf, "%lu %s\n", (unsigned long)GetCurrentProcessId(),
                   window ? "window" : "nowindow");
    WriteFile(f, buf, (DWORD)len, &n, NULL);
    CloseHandle(f);
    return 1;
}

int main(void)
{
    int argc = 0;
    LPWSTR *argv = CommandLineToArgvW(GetCommandLineW(), &argc);
    HANDLE held;
    int window = 0, i;

    if (!argv || argc < 2) {
        fprintf(stderr, "usage: lock_helper hold FILE READY [--window] [--load DLL] | exit\n");
        return 2;
    }
    if (wcscmp(argv[1], L"exit") == 0)
        return 0;
    if (wcscmp(argv[1], L"hold") != 0 || argc < 4) {
        fprintf(stderr, "usage: lock_helper hold FILE READY [--window] [--load DLL] | exit\n");
        return 2;
    }
    /* Share mode 0: nobody else may read, write or delete it meanwhile. */
    held = CreateFileW(argv[2], GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_ALWAYS,
                       FILE_ATTRIBUTE_NORMAL, NULL);
    if (held == INVALID_HANDLE_VALUE) {
        fprintf(stderr, "lock_helper: cannot open the file (%lu)\n", GetLastError());
        return 1;
    }
    for (i = 4; i < argc; i++) {
        if (wcscmp(argv[i], L"--window") == 0) {
            window = show_window();
        } else if (wcscmp(argv[i], L"--load") == 0 && i + 1 < argc) {
            if (!LoadLibraryW(argv[++i])) {
                fprintf(stderr, "lock_helper: cannot load the module (%lu)\n", GetLastError());
                return 1;
            }
        }
    }
    if (!write_ready(argv[3], window)) {
        fprintf(stderr, "lock_helper: cannot write the ready marker (%lu)\n", GetLastError());
        return 1;
    }
    if (window) {
        MSG msg;
        while (GetMessageW(&msg, NULL, 0, 0) > 0) {
            TranslateMessage(&msg);
            DispatchMessageW(&msg);
        }
        CloseHandle(held);
        return 0;
    }
    for (;;)
        Sleep(INFINITE);
}
