/* The tray balloon (app/tray/balloon_win32.c) against a window made the way
 * GtkStatusIcon makes its own: an ANSI "gtkstatusicon-observer" popup that
 * owns a notification-area icon with callback message WM_USER + 1. */
#include "win_check.h"

#include <shellapi.h>

#include "balloon_win32.h"

#define GTK_TRAY_MSG (WM_USER + 1)
#define ICON_ID 3u /* GTK 3.24: the fourth status icon of the process */

static int g_gtk_saw; /* callback messages that reached the "GTK" procedure */
static int g_clicked; /* balloon clicks our listener reported */
static void *g_clicked_user;

static LRESULT CALLBACK gtk_proc(HWND hwnd, UINT msg, WPARAM wp, LPARAM lp)
{
    if (msg == GTK_TRAY_MSG)
        g_gtk_saw++;
    return DefWindowProcA(hwnd, msg, wp, lp);
}

static void on_click(void *user)
{
    g_clicked++;
    g_clicked_user = user;
}

static HWND make_observer(const char *cls)
{
    WNDCLASSA wc;
    memset(&wc, 0, sizeof wc);
    wc.lpszClassName = cls;
    wc.lpfnWndProc = gtk_proc;
    wc.hInstance = GetModuleHandleA(NULL);
    RegisterClassA(&wc);
    return CreateWindowA(cls, NULL, WS_POPUP, 0, 0, 1, 1, NULL, NULL, wc.hInstance, NULL);
}

/* test_balloon_win [--need-tray] [--hold MS]
 *   --need-tray  the desktop has a notification area (a display): the icon
 *                and the balloon must be shown
 *   --ready F    write file F once the balloon is up, then keep it up until
 *                file F.done appears (a screenshot is taken meanwhile; 60 s at
 *                most) */
int main(int argc, char **argv)
{
    HWND other = make_observer("some-other-class");
    HWND hwnd;
    int need_tray = 0, i;
    const char *ready = NULL;
    LONG_PTR other_wndproc = GetWindowLongPtrW(other, GWLP_WNDPROC);
    NOTIFYICONDATAW nid;
    lk_balloon *b;
    int user_tag = 7;
    BOOL added, shown;
    LONG_PTR gtk_wndproc;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--need-tray") == 0)
            need_tray = 1;
        else if (strcmp(argv[i], "--ready") == 0 && i + 1 < argc)
            ready = argv[++i];
    }
    CHECK(lk_balloon_attach(L"gtkstatusicon-observer", ICON_ID, GTK_TRAY_MSG, on_click, NULL) ==
              NULL,
          "no observer window yet: attach finds nothing");
    hwnd = make_observer("gtkstatusicon-observer");
    CHECK(hwnd != NULL && other != NULL, "made the observer window");
    gtk_wndproc = GetWindowLongPtrW(hwnd, GWLP_WNDPROC);

    memset(&nid, 0, sizeof nid);
    nid.cbSize = sizeof nid;
    nid.hWnd = hwnd;
    nid.uID = ICON_ID;
    nid.uFlags = NIF_ICON | NIF_MESSAGE | NIF_TIP;
    nid.uCallbackMessage = GTK_TRAY_MSG;
    nid.hIcon = LoadIconW(NULL, (LPCWSTR)IDI_APPLICATION);
    wcscpy(nid.szTip, L"Latchkey");
    added = Shell_NotifyIconW(NIM_ADD, &nid);
    printf("# Shell_NotifyIcon(NIM_ADD) = %d\n", (int)added);
    if (need_tray)
        CHECK(added, "the desktop's notification area takes the icon");

    if (added) {
        /* GTK 3.24 numbers its icons: a wrong id is corrected by the shell. */
        lk_balloon *probe =
            lk_balloon_attach(L"gtkstatusicon-observer", 0x9999u, GTK_TRAY_MSG, on_click, NULL);
        SendMessageW(hwnd, GTK_TRAY_MSG, ICON_ID, NIN_BALLOONUSERCLICK);
        CHECK(probe && g_clicked == 1, "attach finds the icon's id when it was told another");
        lk_balloon_detach(probe);
        g_clicked = 0;
    }
    b = lk_balloon_attach(L"gtkstatusicon-observer", ICON_ID, GTK_TRAY_MSG, on_click, &user_tag);
    CHECK(b != NULL, "attach finds this thread's observer window");
    CHECK(GetWindowLongPtrW(hwnd, GWLP_WNDPROC) != gtk_wndproc, "and listens on it");
    CHECK(GetWindowLongPtrW(other, GWLP_WNDPROC) == other_wndproc,
          "a window of another class is left alone");

    /* The shell's messages to the icon: a click on our balloon is ours, the
     * rest (mouse on the icon) still reach GTK, and so does another icon's. */
    SendMessageW(hwnd, GTK_TRAY_MSG, ICON_ID, NIN_BALLOONUSERCLICK);
    CHECK(g_clicked == 1 && g_clicked_user == &user_tag, "a balloon click reaches the listener");
    CHECK(g_gtk_saw == 0, "and not GTK");
    SendMessageW(hwnd, GTK_TRAY_MSG, ICON_ID, WM_LBUTTONDOWN);
    SendMessageW(hwnd, GTK_TRAY_MSG, ICON_ID, WM_RBUTTONUP);
    SendMessageW(hwnd, GTK_TRAY_MSG, ICON_ID + 1, NIN_BALLOONUSERCLICK);
    CHECK(g_gtk_saw == 3 && g_clicked == 1,
          "clicks on the icon and other icons' balloons go to GTK");
    SendMessageW(hwnd, WM_NULL, 0, 0);
    CHECK(IsWindow(hwnd), "other messages pass through");

    /* A title longer than the shell's 63 characters, in UTF-8 that is not
     * ASCII: cut, not refused. */
    shown = lk_balloon_show(
        b, "Sesi session-bot-dengan-nama-yang-sangat-panjang-sekali-untuk-diuji perlu dipindai 📱",
        "Buka WhatsApp › Perangkat tertaut › Tautkan perangkat.", FALSE);
    printf("# lk_balloon_show = %d\n", (int)shown);
    if (added)
        CHECK(shown, "the balloon is shown on the icon the shell accepted");
    else
        CHECK(!shown, "no notification area: the balloon is refused, not faked");
    CHECK(!lk_balloon_show(NULL, "t", "b", FALSE), "no balloon without an icon");
    if (ready) {
        char done[MAX_PATH + 8];
        DWORD until = GetTickCount() + 60000;
        FILE *f = fopen(ready, "w");
        MSG m;
        if (f)
            fclose(f);
        snprintf(done, sizeof done, "%s.done", ready);
        while (GetTickCount() < until && GetFileAttributesA(done) == INVALID_FILE_ATTRIBUTES) {
            while (PeekMessageW(&m, NULL, 0, 0, PM_REMOVE))
                DispatchMessageW(&m);
            Sleep(20);
        }
    }
    lk_balloon_detach(b);
    CHECK(GetWindowLongPtrW(hwnd, GWLP_WNDPROC) == gtk_wndproc, "detach restores GTK's procedure");
    SendMessageW(hwnd, GTK_TRAY_MSG, ICON_ID, NIN_BALLOONUSERCLICK);
    CHECK(g_clicked == 1 && g_gtk_saw == 4, "after detach every message is GTK's again");

    if (added)
        Shell_NotifyIconW(NIM_DELETE, &nid);
    DestroyWindow(hwnd);
    DestroyWindow(other);
    printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail != 0;
}
