/* tray_icon.h - the notification-area icon: the aggregate state at a glance,
 * a tooltip naming the sessions that need attention, a menu per session.
 * GtkStatusIcon on Windows and on X11 without an indicator host; Ayatana
 * AppIndicator where a host exists. */
#ifndef LK_TRAY_ICON_H
#define LK_TRAY_ICON_H

#include "app.h"

lk_tray_icon *lk_tray_icon_new(lk_app *app);
void lk_tray_icon_free(lk_tray_icon *t);

#endif
