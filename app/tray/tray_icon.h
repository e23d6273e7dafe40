/* tray_icon.h - the notification-area icon: the aggregate state at a glance,
 * a tooltip naming the sessions that need attention, a menu per session.
 * GtkStatusIcon on Windows and on X11 without an indicator host; Ayatana
 * AppIndicator where a host exists. */
#ifndef LK_TRAY_ICON_H
#define LK_TRAY_ICON_H

#include "app.h"
#include "model.h"

lk_tray_icon *lk_tray_icon_new(lk_app *app);
void lk_tray_icon_free(lk_tray_icon *t);

/* Windows: a balloon on the icon itself; a click on it runs the app action
 * (e.g. "app.show-qr") with path. FALSE elsewhere, and when the icon is not
 * shown or the shell refused: the caller notifies another way. */
gboolean lk_tray_icon_balloon(lk_tray_icon *t, const char *title, const char *body,
                              gboolean warning, const char *action, const char *path);

/* How an entry stands, worst last: what the icons and the lists show. */
typedef enum lk_health {
    LK_HEALTH_IDLE = 0, /* nothing of ours runs it */
    LK_HEALTH_OK,       /* linked */
    LK_HEALTH_BUSY,     /* starting, loading */
    LK_HEALTH_WAITING,  /* waiting for a scan (also after a logout) */
    LK_HEALTH_BROKEN    /* conflict, crash, failure, unreachable, locked, stale lock */
} lk_health;
lk_health lk_entry_health(const lk_entry *e);
/* The entry's state in words (translated; static storage). */
const char *lk_entry_state_text(const lk_entry *e);
/* 1 when the row says who stopped the session (see lk_entry.stood_down). */
int lk_entry_stood_down(const lk_entry *e);
/* The state icon's name ("latchkey-linked"...), from resources/icons. */
const char *lk_health_icon(lk_health h);
/* A compiled-in icon (resources/icons/NAME.svg) at size px; NULL if unknown. */
GdkPixbuf *lk_icon_pixbuf(const char *name, int size);

#endif
