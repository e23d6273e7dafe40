/* model.h - the sessions the app knows: its own, and those found under the
 * watched roots. Main thread only.
 *
 * An entry exists for every session folder found or opened. It may run a
 * core lk_session (started by the app, owning or attached to a browser) or
 * not (a folder seen on disk, with the folder state from a process
 * snapshot). Core's callbacks are marshalled here to the main thread, and
 * watchers are told of every change. */
#ifndef LK_TRAY_MODEL_H
#define LK_TRAY_MODEL_H

#include <gtk/gtk.h>

#include "app.h"
#include "latchkey/discover.h"
#include "latchkey/session.h"

typedef struct lk_model lk_model;

typedef struct lk_entry {
    char *path;             /* absolute session folder */
    char *name;             /* what to call it: "session-x", "tokens/shop" */
    const char *kind;       /* lk_discover kind name, "latchkey" for the app's own */
    int running;            /* a core lk_session runs for it */
    lk_session_info info;   /* the latest info (state STOPPED when not running) */
    lk_folder_state folder; /* from the last snapshot: idle, running, locked, stale lock */
    int64_t seen_ms;        /* wall clock of the last update */
    /* Set when the app stopped following it because someone ended it on
     * purpose (another Latchkey command's stop, unlock or cleanup) or
     * removed its folder: "Stopped by latchkeyctl stop (pid 4242)". Cleared
     * when the user starts it again. */
    char *stood_down;
    /* Who started the browser that runs on it, from the last snapshot:
     * "orphaned: its launcher exited", "used by a running bot: node pid 4242",
     * "started by Latchkey (pid 12)"; NULL when no browser runs on it. */
    char *launcher;
} lk_entry;

/* Told of every change to one entry (path), or to the list (path NULL).
 * Runs on the main thread; the entry is valid during the call only. */
typedef void (*lk_model_fn)(gpointer user, const char *path, const lk_entry *e);

lk_model *lk_model_new(lk_app *app);
void lk_model_free(lk_model *m); /* stops every session the app started */

guint lk_model_watch(lk_model *m, lk_model_fn fn, gpointer user);
void lk_model_unwatch(lk_model *m, guint id);

/* The entries, sorted by name; valid until the next return to the main loop. */
const lk_entry *const *lk_model_entries(lk_model *m, size_t *n);
const lk_entry *lk_model_find(lk_model *m, const char *path);

/* Starts following the session at path (adding the entry if needed):
 * attaches to a browser that runs it, else starts one. No-op if running.
 * The user asks for it, so an earlier deliberate stop no longer holds. */
gboolean lk_model_start(lk_model *m, const char *path, GError **error);
/* Stops following it; ends the browser the app started (off the main
 * thread), after telling every other Latchkey process following the folder
 * to stand down. */
void lk_model_stop(lk_model *m, const char *path);
gboolean lk_model_take_over(lk_model *m, const char *path, GError **error);
/* Makes a new, empty session folder under the session root; returns its path. */
char *lk_model_create(lk_model *m, GError **error);
/* Looks at the watched roots again (off the main thread). */
void lk_model_rescan(lk_model *m);

#endif
