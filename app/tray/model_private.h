/* model_private.h - what model.c (entries, watchers, life), model_runner.c
 * (the sessions the app runs) and model_scan.c (the watched roots) share.
 * Main thread only, except where a field says otherwise. */
#ifndef LK_TRAY_MODEL_PRIVATE_H
#define LK_TRAY_MODEL_PRIVATE_H

#include "model.h"

#define SCAN_SECONDS 10
#define STOP_TIMEOUT_MS 10000
#define KIND_OWN "latchkey"

typedef struct runner {
    gint refs;
    lk_model *m; /* main thread only; NULL once the model let go of it */
    char *path;
    char *chromium;
    gboolean headed;
    lk_cdp_loop *loop;
    struct runner *prev; /* stopped before this one starts (a restart) */

    GMutex mu; /* guards what follows; the threads and the main thread meet here */
    GCond cv;
    lk_session *s;
    gboolean start_done, stop_req, stopped;
    int busy;           /* take-over calls using s */
    gboolean mark_stop; /* the user's Stop: record it for other Latchkey processes */
    int start_rc;
    char start_msg[512];
} runner;

typedef struct entry {
    lk_entry pub;    /* first, so an entry is an lk_entry */
    char *key;       /* hash key: the path, case-folded where paths ignore case */
    runner *r;       /* the session the app runs for it, NULL when none */
    gboolean found;  /* the last scan found it under a watched root */
    gboolean opened; /* the app started or created it: kept while its folder exists */
} entry;

typedef struct watcher {
    guint id;
    lk_model_fn fn;
    gpointer user;
} watcher;

struct lk_model {
    lk_app *app;
    GHashTable *entries; /* key -> entry */
    GPtrArray *sorted;   /* entry, by name; rebuilt when dirty */
    gboolean sorted_dirty;
    GPtrArray *watchers;
    guint next_watch;
    guint timer;
    gboolean scanning, scan_again, closing;
    GPtrArray *stopping; /* runners being stopped (one reference each) */
    int tasks;           /* scan, start and take-over tasks in flight */
};

/* What a task's completion needs: the model outlives every task (free waits). */
typedef struct taskctx {
    lk_model *m;
    runner *r;
} taskctx;

/* model.c: paths, entries and watchers */
int lk__model_path_win(const char *p);
/* Absolute and lexically normalised; NULL when it cannot be made absolute. */
char *lk__model_normalise(const char *path);
char *lk__model_session_root(lk_model *m);
entry *lk__model_lookup(lk_model *m, const char *path);
/* Adds an entry for a normalised path (which must not have one). */
entry *lk__model_add_entry(lk_model *m, const char *norm, const char *kind);
/* Tells the watchers of a change to e (path), or to the list (path NULL). */
void lk__model_emit(lk_model *m, const char *path, const entry *e);

/* model_runner.c */
void lk__model_runner_unref(runner *r);
/* "Stopped by latchkeyctl stop (pid 42)", "Removed by ...": a stood-down row. */
char *lk__model_stood_down_text(const lk_session_info *in);
/* Stops r off the main thread; takes over the caller's reference. */
void lk__model_runner_stop(lk_model *m, runner *r);

/* model_scan.c */
void lk__model_scan_start(lk_model *m);

#endif
