/* entry_look.h - how a session looks in every view: its health (worst
 * last), its state in words, its icon. */
#ifndef LK_TRAY_ENTRY_LOOK_H
#define LK_TRAY_ENTRY_LOOK_H

#include <gdk-pixbuf/gdk-pixbuf.h>

#include "model.h"

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
