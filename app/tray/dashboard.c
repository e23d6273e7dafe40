/* dashboard.c - every session the app knows, with its state and health, and
 * what can be done to it.
 *
 * One window per application (kept on the GtkApplication). It follows the
 * model: a change to one entry updates its row only, a change to the list
 * adds, moves and removes rows in place, so selection and scroll survive and
 * a long list stays cheap (fixed-height rows). Nothing here blocks: starting
 * and stopping are the model's (it hands the slow parts to threads), the
 * doctor has its own dialog, and the diagnostics report reads the disk on a
 * GTask thread. */
#include <string.h>

#include "app.h"
#include "dashboard_table.h"
#include "diagnostics.h"
#include "entry_look.h"
#include "i18n.h"
#include "model.h"
#include "settings.h"

#define DASH_KEY "lk-dashboard"
#define ICON_PX 16
#define NOTE_MS 4000

typedef struct dash {
    lk_app *app;
    GtkWidget *win, *view, *summary, *note, *empty;
    GtkWidget *b_qr, *b_start, *b_stop, *b_take, *b_holders, *b_unlock, *b_kill, *b_folder, *b_copy;
    GtkListStore *store;
    GHashTable *rows; /* path -> GtkTreeIter (a list store's iters persist) */
    GdkPixbuf *icons[LK_HEALTH_BROKEN + 1];
    guint watch, tick, note_src;
    GCancellable *cancel; /* cancelled when the window goes */
} dash;

/* ---- rows --------------------------------------------------------------------- */

static gboolean row_iter(dash *d, const char *path, GtkTreeIter *it)
{
    GtkTreeIter *found = g_hash_table_lookup(d->rows, path);
    if (found)
        *it = *found;
    return found != NULL;
}

static void row_add(dash *d, const lk_entry *e, int position)
{
    GtkTreeIter it;
    gtk_list_store_insert(d->store, &it, position);
    lk_dash_table_fill(d->store, &it, e, d->icons);
    g_hash_table_replace(d->rows, g_strdup(e->path), g_memdup2(&it, sizeof it));
}

static void update_summary(dash *d)
{
    size_t n = 0, i, needy = 0, linked = 0;
    const lk_entry *const *es = lk_model_entries(d->app->model, &n);
    for (i = 0; i < n; i++) {
        lk_health h = lk_entry_health(es[i]);
        needy += h >= LK_HEALTH_WAITING;
        linked += h == LK_HEALTH_OK;
    }
    char *s =
        g_strdup_printf(_("%zu sessions \u00b7 %zu linked \u00b7 %zu need you"), n, linked, needy);
    gtk_label_set_text(GTK_LABEL(d->summary), s);
    g_free(s);
    gtk_widget_set_visible(d->empty, n == 0);
}

/* The list changed: bring the rows in line with the model's order, in place. */
static void resync(dash *d)
{
    size_t n = 0, i;
    const lk_entry *const *es = lk_model_entries(d->app->model, &n);
    GHashTable *keep = g_hash_table_new(g_str_hash, g_str_equal);
    GHashTableIter hi;
    gpointer key, val;

    for (i = 0; i < n; i++)
        g_hash_table_add(keep, es[i]->path);
    g_hash_table_iter_init(&hi, d->rows);
    while (g_hash_table_iter_next(&hi, &key, &val)) {
        if (g_hash_table_contains(keep, key))
            continue;
        GtkTreeIter it;
        if (row_iter(d, key, &it))
            gtk_list_store_remove(d->store, &it);
        g_hash_table_iter_remove(&hi);
    }
    g_hash_table_destroy(keep);

    for (i = 0; i < n; i++) {
        GtkTreeIter it, at;
        if (!row_iter(d, es[i]->path, &it)) {
            row_add(d, es[i], (int)i);
            continue;
        }
        lk_dash_table_fill(d->store, &it, es[i], d->icons);
        if (gtk_tree_model_iter_nth_child(GTK_TREE_MODEL(d->store), &at, NULL, (int)i)) {
            GtkTreePath *a = gtk_tree_model_get_path(GTK_TREE_MODEL(d->store), &it);
            GtkTreePath *b = gtk_tree_model_get_path(GTK_TREE_MODEL(d->store), &at);
            if (gtk_tree_path_compare(a, b) != 0)
                gtk_list_store_move_before(d->store, &it, &at);
            gtk_tree_path_free(a);
            gtk_tree_path_free(b);
        }
    }
}

/* ---- the selection and the buttons -------------------------------------------- */

/* The selected session's path (caller frees), or NULL. */
static char *selected_path(dash *d)
{
    GtkTreeSelection *sel = gtk_tree_view_get_selection(GTK_TREE_VIEW(d->view));
    GtkTreeModel *m;
    GtkTreeIter it;
    char *path = NULL;
    if (gtk_tree_selection_get_selected(sel, &m, &it))
        gtk_tree_model_get(m, &it, COL_PATH, &path, -1);
    return path;
}

static void update_buttons(dash *d)
{
    char *path = selected_path(d);
    const lk_entry *e = path ? lk_model_find(d->app->model, path) : NULL;
    gboolean any = e != NULL;
    gboolean running = any && e->running;
    gtk_widget_set_sensitive(d->b_qr, any);
    gtk_widget_set_sensitive(d->b_start, any && !running);
    gtk_widget_set_sensitive(d->b_stop, running);
    gtk_widget_set_sensitive(d->b_take, running && e->info.state == LK_STATE_CONFLICT);
    gtk_widget_set_visible(d->b_take, running && e->info.state == LK_STATE_CONFLICT);
    gtk_widget_set_sensitive(d->b_holders, any);
    gtk_widget_set_sensitive(d->b_unlock, any);
    gtk_widget_set_sensitive(d->b_kill, any);
    gtk_widget_set_sensitive(d->b_folder, any && (running || e->folder != LK_FOLDER_MISSING));
    gtk_widget_set_sensitive(d->b_copy, any);
    g_free(path);
}

static gboolean note_clear(gpointer p)
{
    dash *d = p;
    d->note_src = 0;
    gtk_label_set_text(GTK_LABEL(d->note), "");
    return G_SOURCE_REMOVE;
}

static void note(dash *d, const char *text)
{
    gtk_label_set_text(GTK_LABEL(d->note), text);
    if (d->note_src)
        g_source_remove(d->note_src);
    d->note_src = g_timeout_add(NOTE_MS, note_clear, d);
}

static void show_error(dash *d, const char *what, const GError *error)
{
    GtkWidget *m = gtk_message_dialog_new(GTK_WINDOW(d->win), GTK_DIALOG_DESTROY_WITH_PARENT,
                                          GTK_MESSAGE_ERROR, GTK_BUTTONS_CLOSE, "%s", what);
    gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(m), "%s",
                                             error ? error->message : _("Unknown error"));
    g_signal_connect(m, "response", G_CALLBACK(gtk_widget_destroy), NULL);
    gtk_widget_show(m);
}

/* ---- the diagnostics report (diagnostics.c builds it off the main thread) ----- */

static void diag_done(GObject *src, GAsyncResult *res, gpointer user)
{
    GTask *task = G_TASK(res);
    /* The window may be gone: then user is too. */
    if (g_cancellable_is_cancelled(g_task_get_cancellable(task)))
        return;
    dash *d = user;
    char *text = lk_diagnostics_finish(res);
    if (!text)
        return;
    GtkClipboard *cb = gtk_widget_get_clipboard(d->win, GDK_SELECTION_CLIPBOARD);
    gtk_clipboard_set_text(cb, text, -1);
    note(d, _("Diagnostics copied to the clipboard"));
    g_free(text);
}

static void copy_diagnostics(dash *d, const char *path)
{
    const lk_entry *e = lk_model_find(d->app->model, path);
    if (!e)
        return;
    lk_diagnostics_build(e, d->app->settings ? d->app->settings->chromium : NULL, d->cancel,
                         diag_done, d);
}

/* ---- actions -------------------------------------------------------------------- */

typedef enum action {
    ACT_QR,
    ACT_START,
    ACT_STOP,
    ACT_TAKE,
    ACT_HOLDERS,
    ACT_UNLOCK,
    ACT_KILL,
    ACT_FOLDER,
    ACT_COPY
} action;

static void run_action(dash *d, action a, const char *path)
{
    GError *error = NULL;
    switch (a) {
    case ACT_QR: lk_qr_window_present(d->app, path); break;
    case ACT_START:
        if (!lk_model_start(d->app->model, path, &error))
            show_error(d, _("Could not start the session"), error);
        break;
    case ACT_STOP: lk_model_stop(d->app->model, path); break;
    case ACT_TAKE:
        if (!lk_model_take_over(d->app->model, path, &error))
            show_error(d, _("Could not take the session over"), error);
        break;
    case ACT_HOLDERS:
    case ACT_UNLOCK: /* the doctor shows the plan; Unlock is its first button */
    case ACT_KILL: lk_doctor_dialog_present(d->app, GTK_WINDOW(d->win), path); break;
    case ACT_FOLDER: {
        char *uri = g_filename_to_uri(path, NULL, &error);
        if (uri && !gtk_show_uri_on_window(GTK_WINDOW(d->win), uri, GDK_CURRENT_TIME, &error))
            show_error(d, _("Could not open the folder"), error);
        else if (!uri)
            show_error(d, _("Could not open the folder"), error);
        g_free(uri);
        break;
    }
    case ACT_COPY: copy_diagnostics(d, path); break;
    }
    g_clear_error(&error);
    update_buttons(d);
}

static void on_button(GtkWidget *b, dash *d)
{
    char *path = selected_path(d);
    if (path)
        run_action(d, (action)GPOINTER_TO_INT(g_object_get_data(G_OBJECT(b), "lk-action")), path);
    g_free(path);
}

static void on_new(GtkWidget *b, dash *d)
{
    GError *error = NULL;
    char *path = lk_model_create(d->app->model, &error);
    if (!path) {
        show_error(d, _("Could not create a session"), error);
        g_clear_error(&error);
        return;
    }
    lk_qr_window_present(d->app, path);
    g_free(path);
}

static void on_settings(GtkWidget *b, dash *d)
{
    lk_settings_window_present(d->app, GTK_WINDOW(d->win));
}

static void on_row_activated(GtkTreeView *v, GtkTreePath *tp, GtkTreeViewColumn *c, dash *d)
{
    char *path = selected_path(d);
    if (path)
        run_action(d, ACT_QR, path);
    g_free(path);
}

static void on_menu_item(GtkWidget *it, dash *d)
{
    run_action(d, (action)GPOINTER_TO_INT(g_object_get_data(G_OBJECT(it), "lk-action")),
               g_object_get_data(G_OBJECT(it), "lk-path"));
}

/* The same actions on a right click, for the row under the pointer. */
static gboolean on_button_press(GtkWidget *w, GdkEventButton *ev, dash *d)
{
    GtkTreePath *tp = NULL;
    if (ev->type != GDK_BUTTON_PRESS || ev->button != GDK_BUTTON_SECONDARY)
        return FALSE;
    if (!gtk_tree_view_get_path_at_pos(GTK_TREE_VIEW(w), (int)ev->x, (int)ev->y, &tp, NULL, NULL,
                                       NULL))
        return FALSE;
    gtk_tree_selection_select_path(gtk_tree_view_get_selection(GTK_TREE_VIEW(w)), tp);
    gtk_tree_path_free(tp);
    char *path = selected_path(d);
    const lk_entry *e = path ? lk_model_find(d->app->model, path) : NULL;
    if (!e) {
        g_free(path);
        return TRUE;
    }
    struct {
        const char *label;
        action a;
        gboolean on;
    } items[] = {
        {_("_Link / Show QR"), ACT_QR, TRUE},
        {_("_Start"), ACT_START, !e->running},
        {_("S_top"), ACT_STOP, e->running},
        {_("_Take over"), ACT_TAKE, e->running && e->info.state == LK_STATE_CONFLICT},
        {_("_Find lock holders"), ACT_HOLDERS, TRUE},
        {_("_Unlock (keep login)\u2026"), ACT_UNLOCK, TRUE},
        {_("_Delete session\u2026"), ACT_KILL, TRUE},
        {_("_Open folder"), ACT_FOLDER, TRUE},
        {_("_Copy diagnostics"), ACT_COPY, TRUE},
    };
    GtkWidget *menu = gtk_menu_new();
    size_t i;
    for (i = 0; i < G_N_ELEMENTS(items); i++) {
        GtkWidget *it = gtk_menu_item_new_with_mnemonic(items[i].label);
        gtk_widget_set_sensitive(it, items[i].on);
        g_object_set_data(G_OBJECT(it), "lk-action", GINT_TO_POINTER(items[i].a));
        g_object_set_data_full(G_OBJECT(it), "lk-path", g_strdup(path), g_free);
        g_signal_connect(it, "activate", G_CALLBACK(on_menu_item), d);
        gtk_menu_shell_append(GTK_MENU_SHELL(menu), it);
    }
    gtk_widget_show_all(menu);
    gtk_menu_attach_to_widget(GTK_MENU(menu), w, NULL);
    g_signal_connect(menu, "deactivate", G_CALLBACK(gtk_widget_destroy), NULL);
    gtk_menu_popup_at_pointer(GTK_MENU(menu), (GdkEvent *)ev);
    g_free(path);
    return TRUE;
}

/* ---- the model and the clock --------------------------------------------------- */

static void on_model(gpointer user, const char *path, const lk_entry *e)
{
    dash *d = user;
    GtkTreeIter it;
    if (path && e && row_iter(d, path, &it))
        lk_dash_table_fill(d->store, &it, e, d->icons);
    else
        resync(d);
    update_summary(d);
    update_buttons(d);
}

static gboolean on_tick(gpointer p)
{
    lk_dash_table_tick(((dash *)p)->store);
    return G_SOURCE_CONTINUE;
}

/* ---- the window ----------------------------------------------------------------- */

static GtkWidget *add_button(dash *d, GtkWidget *box, const char *label, const char *tip, action a)
{
    GtkWidget *b = gtk_button_new_with_mnemonic(label);
    gtk_widget_set_tooltip_text(b, tip);
    g_object_set_data(G_OBJECT(b), "lk-action", GINT_TO_POINTER(a));
    g_signal_connect(b, "clicked", G_CALLBACK(on_button), d);
    gtk_box_pack_start(GTK_BOX(box), b, FALSE, FALSE, 0);
    return b;
}

static void dash_free(dash *d)
{
    size_t i;
    g_cancellable_cancel(d->cancel);
    g_object_unref(d->cancel);
    if (d->watch)
        lk_model_unwatch(d->app->model, d->watch);
    if (d->tick)
        g_source_remove(d->tick);
    if (d->note_src)
        g_source_remove(d->note_src);
    g_hash_table_destroy(d->rows);
    g_object_unref(d->store);
    for (i = 0; i < G_N_ELEMENTS(d->icons); i++)
        g_clear_object(&d->icons[i]);
    g_free(d);
}

static void on_destroy(GtkWidget *w, dash *d)
{
    /* The children go after this handler: none of them may call back into d. */
    g_signal_handlers_disconnect_by_data(gtk_tree_view_get_selection(GTK_TREE_VIEW(d->view)), d);
    g_signal_handlers_disconnect_by_data(d->view, d);
    g_signal_handlers_disconnect_by_data(d->win, d);
    g_object_set_data(G_OBJECT(d->app->gtk), DASH_KEY, NULL);
    dash_free(d);
}

static gboolean on_key(GtkWidget *w, GdkEventKey *ev, dash *d)
{
    if (!(ev->state & GDK_CONTROL_MASK))
        return FALSE;
    if (ev->keyval == GDK_KEY_w || ev->keyval == GDK_KEY_W) {
        gtk_window_close(GTK_WINDOW(d->win));
        return TRUE;
    }
    /* Ctrl+C copies the diagnostics of the selected session. */
    if (ev->keyval == GDK_KEY_c || ev->keyval == GDK_KEY_C) {
        char *path = selected_path(d);
        gboolean handled = path != NULL;
        if (path)
            run_action(d, ACT_COPY, path);
        g_free(path);
        return handled;
    }
    return FALSE;
}

static dash *dash_new(lk_app *app)
{
    dash *d = g_new0(dash, 1);
    size_t i;
    d->app = app;
    d->cancel = g_cancellable_new();
    d->rows = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    for (i = 0; i < G_N_ELEMENTS(d->icons); i++)
        d->icons[i] = lk_icon_pixbuf(lk_health_icon((lk_health)i), ICON_PX);
    d->store = lk_dash_table_new();

    d->win = gtk_application_window_new(app->gtk);
    gtk_window_set_title(GTK_WINDOW(d->win), _("Latchkey"));
    gtk_window_set_default_size(GTK_WINDOW(d->win), 1120, 440);
    GdkPixbuf *icon = lk_icon_pixbuf("latchkey", 48);
    if (icon) {
        gtk_window_set_icon(GTK_WINDOW(d->win), icon);
        g_object_unref(icon);
    }

    GtkWidget *outer = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
    gtk_container_set_border_width(GTK_CONTAINER(outer), 8);
    gtk_container_add(GTK_CONTAINER(d->win), outer);

    GtkWidget *top = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
    GtkWidget *b_new = gtk_button_new_with_mnemonic(_("_New session"));
    gtk_widget_set_tooltip_text(b_new, _("Create a session under the session folder and show "
                                         "its QR code to link it"));
    g_signal_connect(b_new, "clicked", G_CALLBACK(on_new), d);
    gtk_box_pack_start(GTK_BOX(top), b_new, FALSE, FALSE, 0);
    d->summary = gtk_label_new("");
    gtk_label_set_xalign(GTK_LABEL(d->summary), 0);
    gtk_box_pack_start(GTK_BOX(top), d->summary, TRUE, TRUE, 0);
    GtkWidget *b_settings = gtk_button_new_with_mnemonic(_("S_ettings\u2026"));
    gtk_widget_set_tooltip_text(b_settings, _("The folders watched for sessions, the browser, "
                                              "and start at sign-in"));
    g_signal_connect(b_settings, "clicked", G_CALLBACK(on_settings), d);
    gtk_box_pack_end(GTK_BOX(top), b_settings, FALSE, FALSE, 0);
    d->note = gtk_label_new("");
    gtk_box_pack_end(GTK_BOX(top), d->note, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(outer), top, FALSE, FALSE, 0);

    d->view = gtk_tree_view_new_with_model(GTK_TREE_MODEL(d->store));
    gtk_tree_view_set_tooltip_column(GTK_TREE_VIEW(d->view), COL_TIP);
    lk_dash_table_columns(GTK_TREE_VIEW(d->view));
    gtk_tree_view_set_fixed_height_mode(GTK_TREE_VIEW(d->view), TRUE);
    gtk_tree_view_set_search_column(GTK_TREE_VIEW(d->view), COL_NAME);
    g_signal_connect(d->view, "row-activated", G_CALLBACK(on_row_activated), d);
    g_signal_connect(d->view, "button-press-event", G_CALLBACK(on_button_press), d);
    g_signal_connect_swapped(gtk_tree_view_get_selection(GTK_TREE_VIEW(d->view)), "changed",
                             G_CALLBACK(update_buttons), d);
    GtkWidget *sw = gtk_scrolled_window_new(NULL, NULL);
    gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(sw), GTK_POLICY_AUTOMATIC,
                                   GTK_POLICY_AUTOMATIC);
    gtk_scrolled_window_set_shadow_type(GTK_SCROLLED_WINDOW(sw), GTK_SHADOW_IN);
    gtk_container_add(GTK_CONTAINER(sw), d->view);
    gtk_box_pack_start(GTK_BOX(outer), sw, TRUE, TRUE, 0);

    d->empty = gtk_label_new(_("No sessions yet. \"New session\" creates one; the settings "
                               "name the folders watched for your bots' sessions."));
    gtk_label_set_line_wrap(GTK_LABEL(d->empty), TRUE);
    gtk_box_pack_start(GTK_BOX(outer), d->empty, FALSE, FALSE, 0);

    GtkWidget *bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
    d->b_qr = add_button(d, bar, _("_Link / Show QR"), _("Show the live QR code to scan"), ACT_QR);
    d->b_start = add_button(d, bar, _("_Start"), _("Start or attach to the session"), ACT_START);
    d->b_stop = add_button(d, bar, _("S_top"),
                           _("Stop following the session; a browser "
                             "Latchkey started is closed"),
                           ACT_STOP);
    d->b_take = add_button(d, bar, _("_Take over"),
                           _("Use WhatsApp here: the other window is logged out"), ACT_TAKE);
    d->b_holders =
        add_button(d, bar, _("_Find lock holders"),
                   _("Show which processes hold files in the session folder"), ACT_HOLDERS);
    d->b_unlock = add_button(d, bar, _("_Unlock (keep login)\u2026"),
                             _("End what holds the folder and remove only its lock files: the "
                               "session stays linked"),
                             ACT_UNLOCK);
    d->b_kill = add_button(d, bar, _("_Delete session\u2026"),
                           _("End what holds the folder and delete it, login included"), ACT_KILL);
    d->b_folder = add_button(d, bar, _("_Open folder"), _("Open the session folder"), ACT_FOLDER);
    d->b_copy = add_button(d, bar, _("_Copy diagnostics"),
                           _("Copy a report for a support ticket to the clipboard"), ACT_COPY);
    gtk_box_pack_start(GTK_BOX(outer), bar, FALSE, FALSE, 0);

    g_signal_connect(d->win, "destroy", G_CALLBACK(on_destroy), d);
    g_signal_connect(d->win, "key-press-event", G_CALLBACK(on_key), d);

    resync(d);
    update_summary(d);
    d->watch = lk_model_watch(app->model, on_model, d);
    d->tick = g_timeout_add_seconds(1, on_tick, d);
    gtk_widget_show_all(outer);
    update_summary(d);
    update_buttons(d);
    return d;
}

void lk_dashboard_present(lk_app *app)
{
    dash *d = g_object_get_data(G_OBJECT(app->gtk), DASH_KEY);
    if (!d) {
        d = dash_new(app);
        g_object_set_data(G_OBJECT(app->gtk), DASH_KEY, d);
    }
    gtk_window_present(GTK_WINDOW(d->win));
}
