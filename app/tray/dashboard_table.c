/* dashboard_table.c - the dashboard's table: its columns, and a session's
 * state as a row (dashboard_table.h). */
#include "dashboard_table.h"

#include "entry_look.h"
#include "i18n.h"

static int64_t now_ms(void)
{
    return g_get_real_time() / 1000;
}

static char *fmt_duration(int64_t ms)
{
    int64_t s = ms / 1000;
    if (s < 60)
        return g_strdup_printf(_("%d s"), (int)s);
    if (s < 3600)
        return g_strdup_printf(_("%d min %02d s"), (int)(s / 60), (int)(s % 60));
    if (s < 86400)
        return g_strdup_printf(_("%d h %02d min"), (int)(s / 3600), (int)(s / 60 % 60));
    return g_strdup_printf(_("%d d %d h"), (int)(s / 86400), (int)(s / 3600 % 24));
}

void lk_dash_table_fill(GtkListStore *store, GtkTreeIter *it, const lk_entry *e,
                        GdkPixbuf *const *icons)
{
    const lk_session_info *in = &e->info;
    lk_health h = lk_entry_health(e);
    char *pid = NULL, *mem = NULL, *rtt = NULL, *uptime = NULL, *restarts = NULL;
    int64_t started = e->running ? in->started_ms : 0;

    if (e->running && in->browser_pid > 0)
        pid = in->attached ? g_strdup_printf(_("%ld (attached)"), in->browser_pid)
                           : g_strdup_printf("%ld", in->browser_pid);
    if (e->running && in->memory_bytes > 0)
        mem = g_format_size((guint64)in->memory_bytes);
    if (e->running && in->rtt_ms > 0)
        rtt = g_strdup_printf(_("%d ms"), in->rtt_ms);
    if (started > 0)
        uptime = fmt_duration(now_ms() - started);
    if (e->running)
        restarts = g_strdup_printf("%d", in->restarts);

    const char *err = in->last_error[0] ? in->last_error : "";
    gtk_list_store_set(
        store, it, COL_PATH, e->path, COL_ICON, icons[h], COL_NAME, e->name, COL_STATE,
        lk_entry_state_text(e), COL_PID, pid ? pid : "", COL_MEMORY, mem ? mem : "", COL_RTT,
        rtt ? rtt : "", COL_UPTIME, uptime ? uptime : "", COL_RESTARTS, restarts ? restarts : "",
        COL_ERROR, err, COL_KIND, e->kind ? e->kind : "", COL_STARTED, started, COL_TIP,
        in->reason[0] ? in->reason : e->path, COL_LAUNCHER, e->launcher ? e->launcher : "", -1);
    g_free(pid);
    g_free(mem);
    g_free(rtt);
    g_free(uptime);
    g_free(restarts);
}

GtkListStore *lk_dash_table_new(void)
{
    return gtk_list_store_new(N_COLS, G_TYPE_STRING, GDK_TYPE_PIXBUF, G_TYPE_STRING, G_TYPE_STRING,
                              G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING,
                              G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_INT64,
                              G_TYPE_STRING, G_TYPE_STRING);
}

void lk_dash_table_tick(GtkListStore *store)
{
    GtkTreeModel *m = GTK_TREE_MODEL(store);
    GtkTreeIter it;
    gboolean ok;
    int64_t now = now_ms();
    for (ok = gtk_tree_model_get_iter_first(m, &it); ok; ok = gtk_tree_model_iter_next(m, &it)) {
        gint64 started = 0;
        gtk_tree_model_get(m, &it, COL_STARTED, &started, -1);
        if (started <= 0)
            continue;
        char *up = fmt_duration(now - started);
        gtk_list_store_set(store, &it, COL_UPTIME, up, -1);
        g_free(up);
    }
}

static void add_column(GtkTreeView *view, const char *title, int col, int width, gboolean expand)
{
    GtkCellRenderer *r = gtk_cell_renderer_text_new();
    if (expand)
        g_object_set(r, "ellipsize", PANGO_ELLIPSIZE_END, NULL);
    GtkTreeViewColumn *c = gtk_tree_view_column_new_with_attributes(title, r, "text", col, NULL);
    gtk_tree_view_column_set_sizing(c, GTK_TREE_VIEW_COLUMN_FIXED);
    gtk_tree_view_column_set_fixed_width(c, width);
    gtk_tree_view_column_set_resizable(c, TRUE);
    gtk_tree_view_column_set_expand(c, expand);
    gtk_tree_view_append_column(view, c);
}

void lk_dash_table_columns(GtkTreeView *view)
{
    GtkTreeViewColumn *c = gtk_tree_view_column_new();
    gtk_tree_view_column_set_title(c, _("Session"));
    GtkCellRenderer *pr = gtk_cell_renderer_pixbuf_new();
    gtk_tree_view_column_pack_start(c, pr, FALSE);
    gtk_tree_view_column_add_attribute(c, pr, "pixbuf", COL_ICON);
    GtkCellRenderer *tr = gtk_cell_renderer_text_new();
    g_object_set(tr, "ellipsize", PANGO_ELLIPSIZE_MIDDLE, NULL);
    gtk_tree_view_column_pack_start(c, tr, TRUE);
    gtk_tree_view_column_add_attribute(c, tr, "text", COL_NAME);
    gtk_tree_view_column_set_sizing(c, GTK_TREE_VIEW_COLUMN_FIXED);
    gtk_tree_view_column_set_fixed_width(c, 200);
    gtk_tree_view_column_set_resizable(c, TRUE);
    gtk_tree_view_append_column(view, c);
    add_column(view, _("State"), COL_STATE, 250,
               FALSE); /* "Removed by latchkeyctl cleanup (pid N)" */
    add_column(view, _("Browser PID"), COL_PID, 110, FALSE);
    /* Orphan or live bot: what a support person needs before any button. */
    add_column(view, _("Browser started by"), COL_LAUNCHER, 280, FALSE);
    add_column(view, _("Memory"), COL_MEMORY, 80, FALSE);
    add_column(view, _("Round trip"), COL_RTT, 90, FALSE);
    add_column(view, _("Uptime"), COL_UPTIME, 100, FALSE);
    add_column(view, _("Restarts"), COL_RESTARTS, 70, FALSE);
    add_column(view, _("Last error"), COL_ERROR, 160, TRUE);
    add_column(view, _("Kind"), COL_KIND, 110, FALSE);
}
