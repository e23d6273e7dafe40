/* wintool - what the wine GUI tests ask Windows itself: which windows are on
 * the screen and which processes run. (Under
 * wine's desktop every window is drawn inside one X window, so X tools see
 * none of them.) Output is UTF-8, one item per line.
 *
 *   wintool windows                      visible top-level windows:
 *                                          pid<TAB>class<TAB>x y w h<TAB>title
 *   wintool wait TEXT SECONDS            until a visible top-level window on the screen
 *                                        has a title containing TEXT (or equal to it,
 *                                        with "=" in front); prints its x y w h
 *   wintool gone TEXT SECONDS            until no visible window's title contains TEXT
 *   wintool wait-class CLASS PID SECONDS until PID (0: any) shows a window whose class
 *                                        starts with CLASS; prints x y w h
 *   wintool gone-class CLASS PID SECONDS until PID shows no window of CLASS
 *   wintool procs                        pid<TAB>executable path, every process
 *   wintool count NAME                   how many processes run NAME (e.g. latchkey.exe)
 *   wintool wait-count NAME N SECONDS    until exactly N processes run NAME
 * Exit status: 0 when the condition holds, 1 when the time ran out, 2 on
 * bad usage. */
#include <windows.h>
#include <tlhelp32.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

static void put_utf8(const wchar_t *w)
{
    char buf[2048];
    int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, buf, (int)sizeof buf, NULL, NULL);
    if (n > 0)
        fputs(buf, stdout);
}

typedef struct query {
    const wchar_t *title; /* substring of the title, or NULL */
    const wchar_t *cls;   /* exact class, or NULL */
    DWORD pid;            /* 0: any */
    int list;
    HWND found;
} query;

static BOOL CALLBACK each_window(HWND hwnd, LPARAM lp)
{
    query *q = (query *)lp;
    wchar_t title[512], cls[256];
    DWORD pid = 0;
    RECT r;
    if (!IsWindowVisible(hwnd))
        return TRUE;
    GetWindowThreadProcessId(hwnd, &pid);
    title[0] = cls[0] = 0;
    GetWindowTextW(hwnd, title, 512);
    GetClassNameW(hwnd, cls, 256);
    GetWindowRect(hwnd, &r);
    if (q->list) {
        printf("%lu\t", (unsigned long)pid);
        put_utf8(cls);
        printf("\t%ld %ld %ld %ld\t", r.left, r.top, r.right - r.left, r.bottom - r.top);
        put_utf8(title);
        putchar('\n');
        return TRUE;
    }
    if (q->pid && pid != q->pid)
        return TRUE;
    /* GDK keeps "visible" helper windows off the screen (-100, -100). */
    if (r.right <= GetSystemMetrics(SM_XVIRTUALSCREEN) ||
        r.bottom <= GetSystemMetrics(SM_YVIRTUALSCREEN))
        return TRUE;
    if (q->cls && wcsncmp(cls, q->cls, wcslen(q->cls)) != 0)
        return TRUE;
    if (q->title && q->title[0] == L'=' && wcscmp(title, q->title + 1) != 0)
        return TRUE;
    if (q->title && q->title[0] != L'=' && !wcsstr(title, q->title))
        return TRUE;
    q->found = hwnd;
    return FALSE;
}

static HWND find(query *q)
{
    q->found = NULL;
    EnumWindows(each_window, (LPARAM)q);
    return q->found;
}

static void print_rect(HWND h)
{
    RECT r;
    GetWindowRect(h, &r);
    printf("%ld %ld %ld %ld\n", r.left, r.top, r.right - r.left, r.bottom - r.top);
}

/* Polls until the window is there (want != 0) or gone (want == 0). */
static int wait_for(query *q, int want, double secs)
{
    DWORD end = GetTickCount() + (DWORD)(secs * 1000);
    for (;;) {
        HWND h = find(q);
        if (want && h) {
            print_rect(h);
            return 0;
        }
        if (!want && !h)
            return 0;
        if ((LONG)(GetTickCount() - end) >= 0)
            return 1;
        Sleep(100);
    }
}

/* ---- processes ------------------------------------------------------------ */

static int procs(const wchar_t *count_name, int print)
{
    HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
    PROCESSENTRY32W pe;
    int n = 0;
    if (snap == INVALID_HANDLE_VALUE)
        return -1;
    pe.dwSize = sizeof pe;
    for (BOOL more = Process32FirstW(snap, &pe); more; more = Process32NextW(snap, &pe)) {
        if (count_name && _wcsicmp(pe.szExeFile, count_name) == 0)
            n++;
        if (print) {
            wchar_t path[MAX_PATH * 2];
            DWORD len = MAX_PATH * 2;
            HANDLE p = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pe.th32ProcessID);
            if (!p || !QueryFullProcessImageNameW(p, 0, path, &len))
                wcscpy(path, pe.szExeFile);
            if (p)
                CloseHandle(p);
            printf("%lu\t", (unsigned long)pe.th32ProcessID);
            put_utf8(path);
            putchar('\n');
        }
    }
    CloseHandle(snap);
    return n;
}

static int usage(void)
{
    fputs("usage: wintool windows | wait TEXT SECONDS | gone TEXT SECONDS |\n"
          "       wait-class CLASS PID SECONDS | gone-class CLASS PID SECONDS |\n"
          "       procs | count NAME | wait-count NAME N SECONDS\n",
          stderr);
    return 2;
}

int wmain(int argc, wchar_t **argv)
{
    query q;
    memset(&q, 0, sizeof q);
    if (argc < 2)
        return usage();
    if (wcscmp(argv[1], L"windows") == 0) {
        q.list = 1;
        find(&q);
        return 0;
    }
    if ((wcscmp(argv[1], L"wait") == 0 || wcscmp(argv[1], L"gone") == 0) && argc == 4) {
        q.title = argv[2];
        return wait_for(&q, argv[1][0] == L'w', _wtof(argv[3]));
    }
    if ((wcscmp(argv[1], L"wait-class") == 0 || wcscmp(argv[1], L"gone-class") == 0) &&
        argc == 5) {
        q.cls = argv[2];
        q.pid = (DWORD)_wtol(argv[3]);
        return wait_for(&q, argv[1][0] == L'w', _wtof(argv[4]));
    }
    if (wcscmp(argv[1], L"procs") == 0)
        return procs(NULL, 1) < 0;
    if (wcscmp(argv[1], L"count") == 0 && argc == 3) {
        printf("%d\n", procs(argv[2], 0));
        return 0;
    }
    if (wcscmp(argv[1], L"wait-count") == 0 && argc == 5) {
        int want = _wtoi(argv[3]);
        DWORD end = GetTickCount() + (DWORD)(_wtof(argv[4]) * 1000);
        for (;;) {
            int n = procs(argv[2], 0);
            if (n == want) {
                printf("%d\n", n);
                return 0;
            }
            if ((LONG)(GetTickCount() - end) >= 0) {
                printf("%d\n", n);
                return 1;
            }
            Sleep(100);
        }
    }
    return usage();
}
