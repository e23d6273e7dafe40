/* diagnostics.h - the support report of one session (diagnostics.c). */
#ifndef LK_TRAY_DIAGNOSTICS_H
#define LK_TRAY_DIAGNOSTICS_H

#include <gio/gio.h>

#include "model.h"

/* Starts building the report of e (read now, on the main thread); done runs
 * on the main thread, where lk_diagnostics_finish gives the JSON text. */
void lk_diagnostics_build(const lk_entry *e, const char *chromium, GCancellable *cancel,
                          GAsyncReadyCallback done, gpointer user);
char *lk_diagnostics_finish(GAsyncResult *res); /* g_free it; NULL on failure */

#endif
