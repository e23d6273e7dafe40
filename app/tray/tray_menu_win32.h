/* tray_menu_win32.h - the notification-area menu on Windows (see the .c). */
#ifndef LK_TRAY_MENU_WIN32_H
#define LK_TRAY_MENU_WIN32_H

#include <gtk/gtk.h>

/* Pops menu up at the pointer, which has just clicked icon; it closes by
 * itself once the pointer has stayed off it for a few seconds. */
void lk_tray_menu_popup_win32(GtkMenu *menu, GtkStatusIcon *icon);

#endif
