/* tray_icon.h - the notification-area icon: the aggregate state at a glance,
 * a tooltip naming the sessions that need attention, a menu per session.
 * GtkStatusIcon on Windows and on X11 without an indicator host; Ayatana
 * AppIndicator where a host exists. */
#ifndef LK_TRAY_ICON_H
#define LK_TRAY_ICON_H

#include "app.h"
#include "entry_look.h"
#include "model.h"

lk_tray_icon *lk_tray_icon_new(lk_app *app);
void lk_tray_icon_free(lk_tray_icon *t);

/* Windows: a balloon on the icon itself; a click on it runs the app action
 * (e.g. "app.show-qr") with path. FALSE elsewhere, and when the icon is not
 * shown or the shell refused: the caller notifies another way. */
gboolean lk_tray_icon_balloon(lk_tray_icon *t, const char *title, const char *body,
                              gboolean warning, const char *action, const char *path);

#endif
