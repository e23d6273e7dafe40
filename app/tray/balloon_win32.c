/* Balloons on the tray icon GtkStatusIcon made (see balloon_win32.h). */
#include "balloon_win32.h"

#include <shellapi.h>
#include <stdlib.h>
#include <string.h>

#define PROP L"latchkey-balloon"
#define MAX_PROBED_ID 64

struct lk_balloon {
    HWND hwnd;
    UINT id, msg;
    WNDPROC prev;
    lk_balloon_click_fn on_click;
    void *user;
};

typedef struct find_ctx {
    const wchar_t *cls;
    HWND found;
} find_ctx;

static BOOL CALLBACK find_window(HWND hwnd, LPARAM lp)
{
    find_ctx *f = (find_ctx *)lp;
    wchar_t name[64];
    if (GetClassNameW(hwnd, name, (int)(sizeof name / sizeof name[0])) > 0 &&
        wcscmp(name, f->cls) == 0) {
        f->found = hwnd;
        return FALSE;
    }
    return TRUE;
}

static LRESULT CALLBACK listen_proc(HWND hwnd, UINT msg, WPARAM wp, LPARAM lp)
{
    lk_balloon *b = (lk_balloon *)GetPropW(hwnd, PROP);
    if (!b)
        return DefWindowProcW(hwnd, msg, wp, lp);
    /* Icons without NOTIFYICON_VERSION_4 (GTK sets none): wParam is the
     * icon's id, lParam the event. */
    if (b->on_click && msg == b->msg && (UINT)wp == b->id && LOWORD(lp) == NIN_BALLOONUSERCLICK) {
        b->on_click(b->user);
        return 0;
    }
    return CallWindowProcW(b->prev, hwnd, msg, wp, lp);
}

/* The shell knows the icon: changing nothing of it (no flags) succeeds. */
static BOOL icon_exists(HWND hwnd, UINT id)
{
    NOTIFYICONDATAW nid;
    memset(&nid, 0, sizeof nid);
    nid.cbSize = sizeof nid;
    nid.hWnd = hwnd;
    nid.uID = id;
    return Shell_NotifyIconW(NIM_MODIFY, &nid);
}

/* GTK 3.24 numbers a process's status icons from 0 in the order it makes
 * them (older versions used the GtkStatusIcon's address): the hint first,
 * then the small numbers. With no notification area none exists: the hint. */
static UINT find_icon_id(HWND hwnd, UINT hint)
{
    UINT id;
    if (icon_exists(hwnd, hint))
        return hint;
    for (id = 0; id < MAX_PROBED_ID; id++)
        if (id != hint && icon_exists(hwnd, id))
            return id;
    return hint;
}

lk_balloon *lk_balloon_attach(const wchar_t *cls, UINT id, UINT msg, lk_balloon_click_fn on_click,
                              void *user)
{
    find_ctx f = {cls, NULL};
    lk_balloon *b;
    /* This thread's windows only: another GTK program has an observer of
     * the same class, and it is not ours to touch. */
    EnumThreadWindows(GetCurrentThreadId(), find_window, (LPARAM)&f);
    if (!f.found || !on_click)
        return NULL;
    b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->hwnd = f.found;
    b->id = find_icon_id(f.found, id);
    b->msg = msg;
    b->on_click = on_click;
    b->user = user;
    if (!SetPropW(b->hwnd, PROP, b)) {
        free(b);
        return NULL;
    }
    b->prev = (WNDPROC)SetWindowLongPtrW(b->hwnd, GWLP_WNDPROC, (LONG_PTR)listen_proc);
    if (!b->prev) {
        RemovePropW(b->hwnd, PROP);
        free(b);
        return NULL;
    }
    return b;
}

/* UTF-8 into a fixed UTF-16 field, cut without splitting a surrogate pair. */
static void put_text(wchar_t *dst, size_t cap, const char *utf8)
{
    int n = MultiByteToWideChar(CP_UTF8, 0, utf8 ? utf8 : "", -1, NULL, 0);
    wchar_t *w = n > 0 ? malloc((size_t)n * sizeof *w) : NULL;
    size_t len;
    dst[0] = L'\0';
    if (!w)
        return;
    MultiByteToWideChar(CP_UTF8, 0, utf8 ? utf8 : "", -1, w, n);
    len = wcslen(w);
    if (len > cap - 1) {
        len = cap - 1;
        if (len > 0 && IS_HIGH_SURROGATE(w[len - 1]))
            len--;
    }
    memcpy(dst, w, len * sizeof *w);
    dst[len] = L'\0';
    free(w);
}

BOOL lk_balloon_show(lk_balloon *b, const char *title, const char *body, BOOL warning)
{
    NOTIFYICONDATAW nid;
    if (!b)
        return FALSE;
    memset(&nid, 0, sizeof nid);
    nid.cbSize = sizeof nid;
    nid.hWnd = b->hwnd;
    nid.uID = b->id;
    nid.uFlags = NIF_INFO;
    nid.dwInfoFlags = warning ? NIIF_WARNING : NIIF_INFO;
    put_text(nid.szInfoTitle, sizeof nid.szInfoTitle / sizeof nid.szInfoTitle[0], title);
    /* An empty body would withdraw the balloon instead. */
    put_text(nid.szInfo, sizeof nid.szInfo / sizeof nid.szInfo[0], body && *body ? body : " ");
    return Shell_NotifyIconW(NIM_MODIFY, &nid);
}

void lk_balloon_detach(lk_balloon *b)
{
    if (!b)
        return;
    if ((WNDPROC)GetWindowLongPtrW(b->hwnd, GWLP_WNDPROC) != listen_proc) {
        /* Someone subclassed the window after us and chains to us: keep
         * passing everything on, and hear nothing more. */
        b->on_click = NULL;
        return;
    }
    SetWindowLongPtrW(b->hwnd, GWLP_WNDPROC, (LONG_PTR)b->prev);
    RemovePropW(b->hwnd, PROP);
    free(b);
}
