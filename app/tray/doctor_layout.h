/* doctor_layout.h - the lock doctor dialog's widgets (doctor_layout.c). */
#ifndef LK_TRAY_DOCTOR_LAYOUT_H
#define LK_TRAY_DOCTOR_LAYOUT_H

#include <gtk/gtk.h>

enum { COL_ICON, COL_NAME, COL_PID, COL_USER, COL_HOLDS, COL_KIND, COL_ACTION, N_COLS };

typedef struct lk_doctor_widgets {
    GtkWidget *win;
    GtkWidget *stack; /* pages "scan", "plan", "work", "result" */
    GtkWidget *spinner;
    GtkWidget *scan_label;
    GtkWidget *headline;
    GtkWidget *where;
    GtkWidget *scroll;
    GtkListStore *store; /* COL_* */
    GtkWidget *details;
    GtkWidget *progress;
    GtkWidget *phase;
    GtkWidget *result_head;
    GtkWidget *result_text;
    GtkWidget *unlock;
    GtkWidget *kill;
    GtkWidget *rescan;
    GtkWidget *close;
} lk_doctor_widgets;

/* Builds the window (not shown yet) and fills w; the caller connects the
 * buttons and the window's signals. */
void lk_doctor_layout(lk_doctor_widgets *w, GtkWindow *parent);

#endif
