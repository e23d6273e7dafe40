/* dashboard_table.h - the dashboard's table: one row a session, what each
 * column shows and how a session's state becomes a row. The window
 * (dashboard.c) owns the store and decides which rows exist. */
#ifndef LK_TRAY_DASHBOARD_TABLE_H
#define LK_TRAY_DASHBOARD_TABLE_H

#include <gtk/gtk.h>

#include "model.h"

enum {
    COL_PATH,
    COL_ICON,
    COL_NAME,
    COL_STATE,
    COL_PID,
    COL_MEMORY,
    COL_RTT,
    COL_UPTIME,
    COL_RESTARTS,
    COL_ERROR,
    COL_KIND,
    COL_STARTED, /* int64 wall clock ms, 0 when not running */
    COL_TIP,
    COL_LAUNCHER,
    N_COLS
};

/* An empty store with the table's columns. */
GtkListStore *lk_dash_table_new(void);
/* Adds the visible columns to view (whose model is such a store). */
void lk_dash_table_columns(GtkTreeView *view);
/* Writes entry e into row it; icons[h] is the icon for health h. */
void lk_dash_table_fill(GtkListStore *store, GtkTreeIter *it, const lk_entry *e,
                        GdkPixbuf *const *icons);
/* Brings every running session's uptime up to now. */
void lk_dash_table_tick(GtkListStore *store);

#endif
