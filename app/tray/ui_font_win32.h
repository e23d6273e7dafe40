/* ui_font_win32.h - a UI font that Windows can actually draw (see the .c). */
#ifndef LK_UI_FONT_WIN32_H
#define LK_UI_FONT_WIN32_H

#include <gtk/gtk.h>

/* Once GTK is up (the application's startup): makes GTK's font one that
 * Pango can find, when the system's is not. */
void lk_ui_font_check(void);

#endif
