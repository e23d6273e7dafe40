/* settings.h - what the user chose, kept in the user's config folder
 * (settings.json; $LATCHKEY_HOME overrides the config and data folders). */
#ifndef LK_TRAY_SETTINGS_H
#define LK_TRAY_SETTINGS_H

#include <glib.h>

typedef struct lk_settings {
    char **roots;       /* folders watched for sessions (NULL-terminated) */
    char *session_root; /* where "New session" creates them */
    char *chromium;     /* NULL: find one */
    gboolean headed;    /* show the browser window */
    gboolean autostart; /* start at sign-in */
} lk_settings;

/* Loads the settings; a missing file gives the defaults, a broken one is
 * kept aside (settings.json.broken) and reported in *warning. */
lk_settings *lk_settings_load(char **warning);
gboolean lk_settings_save(const lk_settings *s, GError **error);
/* Applies s->autostart: the Run registry key on Windows, an XDG autostart
 * entry on Linux. */
gboolean lk_settings_apply_autostart(const lk_settings *s, GError **error);
/* Whether Latchkey starts at sign-in now: the Run value or the XDG entry
 * exists (and the desktop has not switched the entry off). The installer and
 * the desktop's own start-up tool change these behind settings.json. */
gboolean lk_settings_autostart_active(void);
void lk_settings_free(lk_settings *s);

#endif
