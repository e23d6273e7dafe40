/* app.h - what the tray app's modules share.
 *
 * Everything in app/tray runs on the GTK main thread, except the work that
 * modules hand to GTask threads (scans, kills, deletes). Core's callbacks
 * arrive on core threads; model.c marshals them to the main thread before
 * anything else sees them. */
#ifndef LK_TRAY_APP_H
#define LK_TRAY_APP_H

#include <gtk/gtk.h>

#include "latchkey/cdp.h"

typedef struct lk_model lk_model;
typedef struct lk_settings lk_settings;
typedef struct lk_tray_icon lk_tray_icon;

typedef struct lk_app {
    GtkApplication *gtk;
    lk_cdp_loop *loop; /* the one DevTools I/O loop every session shares */
    lk_model *model;
    lk_settings *settings;
    lk_tray_icon *tray;
} lk_app;

/* The lk_app of the running application (there is one). */
lk_app *lk_app_get(void);

/* Windows and dialogs: each is presented once per path; presenting it
 * again raises the existing window. */
void lk_dashboard_present(lk_app *app);
void lk_qr_window_present(lk_app *app, const char *path);
void lk_doctor_dialog_present(lk_app *app, GtkWindow *parent, const char *path);
/* The settings: edits app->settings, saves them, applies start at sign-in
 * and has the model scan the new roots. */
void lk_settings_window_present(lk_app *app, GtkWindow *parent);

#endif
