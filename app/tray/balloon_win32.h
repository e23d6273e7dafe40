/* balloon_win32.h - notifications as balloons on the app's own tray icon.
 *
 * GtkStatusIcon has no balloon API. Its icon is a Shell_NotifyIcon entry
 * owned by a hidden window of class "gtkstatusicon-observer", with WM_USER + 1
 * as its callback message and a number as its id (gtkstatusicon.c: the
 * GtkStatusIcon's address in older GTK, a count from 0 in 3.24). The same entry takes a balloon (NIF_INFO), and its
 * window is told when the balloon is clicked (NIN_BALLOONUSERCLICK), so we
 * listen there by subclassing it. Plain Win32, no GTK, so the Windows test
 * build (which has no GTK) runs it under wine. */
#ifndef LK_BALLOON_WIN32_H
#define LK_BALLOON_WIN32_H

#include <windows.h>

typedef struct lk_balloon lk_balloon;
typedef void (*lk_balloon_click_fn)(void *user);

/* Finds this thread's top-level window of class cls and listens on it for
 * clicks on the balloons of its icon (callback message msg). The icon's id
 * is asked of the shell: id if it has that one, else the lowest it has. NULL
 * when the thread has no such window (the icon is not shown yet). */
lk_balloon *lk_balloon_attach(const wchar_t *cls, UINT id, UINT msg, lk_balloon_click_fn on_click,
                              void *user);

/* Shows a balloon (UTF-8 title and body, cut to the shell's limits at a
 * character boundary) on the icon; warning picks the warning icon. Returns
 * FALSE when the shell refused (no notification area). */
BOOL lk_balloon_show(lk_balloon *b, const char *title, const char *body, BOOL warning);

/* Stops listening (restores the window's procedure) and frees b. */
void lk_balloon_detach(lk_balloon *b);

#endif
