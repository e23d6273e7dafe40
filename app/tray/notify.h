/* notify.h - tells the user when a session needs them: a scan, a logout,
 * a conflict, a crash, a failure (GNotification; the tray balloon on
 * Windows). */
#ifndef LK_TRAY_NOTIFY_H
#define LK_TRAY_NOTIFY_H

#include "app.h"

void lk_notify_start(lk_app *app);

#endif
