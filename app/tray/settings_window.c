/* settings_window.c - the settings dialog: the folders watched for sessions,
 * the browser, and start at sign-in.
 *
 * One dialog per application. It edits a copy: nothing reaches the app, the
 * disk or the sign-in entry until Save, and Save checks everything first, so
 * a folder that is not one or a browser that cannot run is reported in the
 * dialog with every edit still in place. Saved settings replace the app's
 * (main thread only, like everything that reads them) and the model scans
 * the new roots at once; a session already running keeps the browser it was
 * started with until it is started again. */
#include <string.h>

#include "app.h"
#include "i18n.h"
#include "model.h"
#include "settings.h"

#include "latchkey/path.h"
#include "latchkey/sys.h"

#define SETTINGS_KEY "lk-settings-window"

enum { COL_PATH, COL_SHOWN, N_COLS };

typedef struct settings_win {
    lk_app *app;
    GtkWidget *dlg, *error_bar, *error_label;
    GtkWidget *roots_view, *remove_btn, *chromium, *headed, *autostart;
    GtkListStore *roots;
    /* Made on first use and kept until the dialog goes: shown again, they
     * open where the user left them, and destroying GTK's file chooser while
     * the accessibility bridge runs leaves it stale accessibles that it
     * then trips over (GTK 3.24). */
    GtkFileChooserNative *folders, *browser;
} settings_win;

/* ---- messages ------------------------------------------------------------- */

static void say(settings_win *w, GtkMessageType type, const char *text)
{
    gtk_info_bar_set_message_type(GTK_INFO_BAR(w->error_bar), type);
    gtk_label_set_text(GTK_LABEL(w->error_label), text);
    gtk_widget_show(w->error_bar);
}

static void unsay(settings_win *w)
{
    gtk_widget_hide(w->error_bar);
    gtk_label_set_text(GTK_LABEL(w->error_label), "");
}

/* ---- the roots ------------------------------------------------------------ */

/* The row of path, if listed (same folder, whatever the spelling). */
static gboolean find_root(settings_win *w, const char *path, GtkTreeIter *out)
{
    GtkTreeModel *m = GTK_TREE_MODEL(w->roots);
    GtkTreeIter it;
    gboolean ok;
    for (ok = gtk_tree_model_get_iter_first(m, &it); ok; ok = gtk_tree_model_iter_next(m, &it)) {
        char *p = NULL;
        gboolean same;
        gtk_tree_model_get(m, &it, COL_PATH, &p, -1);
        same = lk_path_equal(p, path, lk_sys_path_win());
        g_free(p);
        if (same) {
            if (out)
                *out = it;
            return TRUE;
        }
    }
    return FALSE;
}

static void select_iter(settings_win *w, GtkTreeIter *it)
{
    GtkTreePath *tp = gtk_tree_model_get_path(GTK_TREE_MODEL(w->roots), it);
    gtk_tree_selection_select_iter(gtk_tree_view_get_selection(GTK_TREE_VIEW(w->roots_view)), it);
    gtk_tree_view_scroll_to_cell(GTK_TREE_VIEW(w->roots_view), tp, NULL, FALSE, 0, 0);
    gtk_tree_path_free(tp);
}

static void append_root(settings_win *w, const char *path)
{
    GtkTreeIter it;
    char *shown = g_filename_display_name(path);
    gtk_list_store_append(w->roots, &it);
    gtk_list_store_set(w->roots, &it, COL_PATH, path, COL_SHOWN, shown, -1);
    g_free(shown);
}

/* Why path cannot be watched (caller frees), or NULL when it can. */
static char *root_problem(const char *path)
{
    char *shown = g_filename_display_name(path), *why = NULL;
    if (!g_path_is_absolute(path))
        why = g_strdup_printf(_("%s is not a full folder path."), shown);
    else if (!g_file_test(path, G_FILE_TEST_EXISTS))
        why = g_strdup_printf(_("The folder %s does not exist. Remove it from the list, or create "
                                "it first."),
                              shown);
    else if (!g_file_test(path, G_FILE_TEST_IS_DIR))
        why = g_strdup_printf(_("%s is a file, not a folder. Remove it from the list and add the "
                                "folder that holds your sessions."),
                              shown);
    g_free(shown);
    return why;
}

static void chooser_free(settings_win *w, GtkFileChooserNative **c)
{
    if (!*c)
        return;
    g_signal_handlers_disconnect_by_data(*c, w);
    gtk_native_dialog_destroy(GTK_NATIVE_DIALOG(*c));
    g_clear_object(c);
}

static void on_roots_chosen(GtkNativeDialog *nd, gint response, settings_win *w)
{
    GSList *files, *l;
    GString *bad = g_string_new(NULL);
    if (response == GTK_RESPONSE_ACCEPT) {
        files = gtk_file_chooser_get_filenames(GTK_FILE_CHOOSER(nd));
        for (l = files; l; l = l->next) {
            const char *path = l->data;
            char *why = root_problem(path);
            GtkTreeIter it;
            if (why) {
                if (bad->len)
                    g_string_append_c(bad, '\n');
                g_string_append(bad, why);
                g_free(why);
                continue;
            }
            if (!find_root(w, path, &it)) {
                append_root(w, path);
                find_root(w, path, &it);
            }
            select_iter(w, &it);
        }
        g_slist_free_full(files, g_free);
        if (bad->len)
            say(w, GTK_MESSAGE_ERROR, bad->str);
        else
            unsay(w);
    }
    g_string_free(bad, TRUE);
    gtk_native_dialog_hide(nd);
}

static void on_add(GtkButton *b, settings_win *w)
{
    GtkTreeSelection *sel = gtk_tree_view_get_selection(GTK_TREE_VIEW(w->roots_view));
    GtkTreeModel *m;
    GtkTreeIter it;
    char *start = NULL;
    if (!w->folders) {
        w->folders = gtk_file_chooser_native_new(_("Choose a folder to watch"), GTK_WINDOW(w->dlg),
                                                 GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _("_Add"),
                                                 _("_Cancel"));
        gtk_native_dialog_set_modal(GTK_NATIVE_DIALOG(w->folders), TRUE);
        gtk_file_chooser_set_select_multiple(GTK_FILE_CHOOSER(w->folders), TRUE);
        gtk_file_chooser_set_local_only(GTK_FILE_CHOOSER(w->folders), TRUE);
        g_signal_connect(w->folders, "response", G_CALLBACK(on_roots_chosen), w);
    }
    /* Bots keep their sessions side by side: start next to the selected
     * one, else at home (GTK's default, Recent, lists no folders). */
    if (gtk_tree_selection_get_selected(sel, &m, &it)) {
        char *p = NULL;
        gtk_tree_model_get(m, &it, COL_PATH, &p, -1);
        start = p ? g_path_get_dirname(p) : NULL;
        g_free(p);
    }
    if (!start || !g_file_test(start, G_FILE_TEST_IS_DIR)) {
        g_free(start);
        start = g_strdup(g_get_home_dir());
    }
    gtk_file_chooser_set_current_folder(GTK_FILE_CHOOSER(w->folders), start);
    g_free(start);
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(w->folders));
}

static void on_remove(GtkButton *b, settings_win *w)
{
    GtkTreeSelection *sel = gtk_tree_view_get_selection(GTK_TREE_VIEW(w->roots_view));
    GtkTreeModel *m;
    GtkTreeIter it;
    if (gtk_tree_selection_get_selected(sel, &m, &it) && gtk_list_store_remove(w->roots, &it))
        select_iter(w, &it); /* the next one, so Remove can go on */
    unsay(w);
}

static void on_selection(GtkTreeSelection *sel, settings_win *w)
{
    gtk_widget_set_sensitive(w->remove_btn, gtk_tree_selection_count_selected_rows(sel) > 0);
}

/* ---- the browser ---------------------------------------------------------- */

static void on_browser_chosen(GtkNativeDialog *nd, gint response, settings_win *w)
{
    if (response == GTK_RESPONSE_ACCEPT) {
        char *path = gtk_file_chooser_get_filename(GTK_FILE_CHOOSER(nd));
        if (path) {
            char *shown = g_filename_display_name(path);
            gtk_entry_set_text(GTK_ENTRY(w->chromium), shown);
            g_free(shown);
        }
        g_free(path);
        unsay(w);
    }
    gtk_native_dialog_hide(nd);
}

static void on_browse(GtkButton *b, settings_win *w)
{
    const char *now = gtk_entry_get_text(GTK_ENTRY(w->chromium));
    if (!w->browser) {
        w->browser =
            gtk_file_chooser_native_new(_("Choose the browser"), GTK_WINDOW(w->dlg),
                                        GTK_FILE_CHOOSER_ACTION_OPEN, _("_Choose"), _("_Cancel"));
        gtk_native_dialog_set_modal(GTK_NATIVE_DIALOG(w->browser), TRUE);
        gtk_file_chooser_set_local_only(GTK_FILE_CHOOSER(w->browser), TRUE);
        g_signal_connect(w->browser, "response", G_CALLBACK(on_browser_chosen), w);
    }
    if (now && *now && g_path_is_absolute(now)) {
        char *path = g_filename_from_utf8(now, -1, NULL, NULL, NULL);
        if (path && g_file_test(path, G_FILE_TEST_EXISTS))
            gtk_file_chooser_set_filename(GTK_FILE_CHOOSER(w->browser), path);
        g_free(path);
    }
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(w->browser));
}

/* The browser the entry names, as a path core can run: NULL with *chromium
 * NULL for an empty entry (find one), FALSE with a message when it names
 * nothing that runs. A bare name ("chromium") is looked up on PATH. */
static gboolean read_chromium(settings_win *w, char **chromium, char **why)
{
    char *text = g_strstrip(g_strdup(gtk_entry_get_text(GTK_ENTRY(w->chromium))));
    char *path = NULL;
    *chromium = NULL;
    *why = NULL;
    if (!*text) {
        g_free(text);
        return TRUE;
    }
    path = g_filename_from_utf8(text, -1, NULL, NULL, NULL);
    if (path && !g_path_is_absolute(path) && !strchr(path, G_DIR_SEPARATOR) && !strchr(path, '/')) {
        char *found = g_find_program_in_path(path);
        if (found) {
            g_free(path);
            path = found;
        }
    }
    if (!path || !g_path_is_absolute(path))
        *why = g_strdup_printf(_("The browser %s is not a full path to a program. Leave it empty "
                                 "to let Latchkey find Chrome, Chromium or Edge."),
                               text);
    else if (!g_file_test(path, G_FILE_TEST_EXISTS))
        *why = g_strdup_printf(_("The browser %s does not exist."), text);
    else if (g_file_test(path, G_FILE_TEST_IS_DIR))
        *why = g_strdup_printf(_("The browser %s is a folder, not a program."), text);
    else if (!lk_sys_can_run(path))
        *why = g_strdup_printf(_("The browser %s is not a program you may run (it is not "
                                 "executable)."),
                               text);
    g_free(text);
    if (*why) {
        g_free(path);
        return FALSE;
    }
    *chromium = path;
    return TRUE;
}

/* ---- saving --------------------------------------------------------------- */

/* The dialog's settings, checked; NULL with the problem said in the dialog. */
static lk_settings *collect(settings_win *w)
{
    GtkTreeModel *m = GTK_TREE_MODEL(w->roots);
    GtkTreeIter it;
    gboolean ok;
    GPtrArray *roots = g_ptr_array_new_with_free_func(g_free);
    lk_settings *cur = w->app->settings, *s;
    char *chromium = NULL, *why = NULL;

    for (ok = gtk_tree_model_get_iter_first(m, &it); ok; ok = gtk_tree_model_iter_next(m, &it)) {
        char *p = NULL;
        gtk_tree_model_get(m, &it, COL_PATH, &p, -1);
        why = root_problem(p);
        if (why) {
            g_free(p);
            select_iter(w, &it);
            gtk_widget_grab_focus(w->roots_view);
            break;
        }
        g_ptr_array_add(roots, p);
    }
    if (!why && !read_chromium(w, &chromium, &why))
        gtk_widget_grab_focus(w->chromium);
    if (why) {
        say(w, GTK_MESSAGE_ERROR, why);
        g_free(why);
        g_ptr_array_free(roots, TRUE);
        return NULL;
    }
    g_ptr_array_add(roots, NULL);
    s = g_new0(lk_settings, 1);
    s->roots = (char **)g_ptr_array_free(roots, FALSE);
    s->session_root = g_strdup(cur ? cur->session_root : NULL);
    s->chromium = chromium;
    s->headed = gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(w->headed));
    s->autostart = gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(w->autostart));
    return s;
}

/* TRUE when everything was saved and applied (the dialog may close). */
static gboolean save(settings_win *w)
{
    lk_settings *s = collect(w);
    GError *err = NULL;
    gboolean applied;
    if (!s)
        return FALSE;
    if (!lk_settings_save(s, &err)) {
        char *msg = g_strdup_printf(_("The settings could not be saved: %s"), err->message);
        say(w, GTK_MESSAGE_ERROR, msg);
        g_free(msg);
        g_error_free(err);
        lk_settings_free(s);
        return FALSE;
    }
    applied = lk_settings_apply_autostart(s, &err);
    /* Saved: from now on these are the app's settings, whatever sign-in says. */
    lk_settings_free(w->app->settings);
    w->app->settings = s;
    lk_model_rescan(w->app->model);
    if (!applied) {
        char *msg = g_strdup_printf(_("The settings were saved, but starting at sign-in could not "
                                      "be changed: %s"),
                                    err->message);
        say(w, GTK_MESSAGE_ERROR, msg);
        g_free(msg);
        g_error_free(err);
        /* What the tick box says must be what happens at the next sign-in. */
        gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(w->autostart),
                                     lk_settings_autostart_active());
        return FALSE;
    }
    return TRUE;
}

static void on_response(GtkDialog *d, gint response, settings_win *w)
{
    if (response == GTK_RESPONSE_ACCEPT && !save(w))
        return; /* the dialog says why; the edits stay */
    gtk_widget_destroy(w->dlg);
}

static void on_destroy(GtkWidget *dlg, settings_win *w)
{
    chooser_free(w, &w->folders);
    chooser_free(w, &w->browser);
    g_signal_handlers_disconnect_by_data(gtk_tree_view_get_selection(GTK_TREE_VIEW(w->roots_view)),
                                         w);
    g_object_set_data(G_OBJECT(w->app->gtk), SETTINGS_KEY, NULL);
    g_object_unref(w->roots);
    g_free(w);
}

/* ---- the dialog ----------------------------------------------------------- */

static GtkWidget *heading(const char *text)
{
    GtkWidget *l = gtk_label_new(NULL);
    char *mark = g_markup_printf_escaped("<b>%s</b>", text);
    gtk_label_set_markup(GTK_LABEL(l), mark);
    g_free(mark);
    gtk_label_set_xalign(GTK_LABEL(l), 0);
    return l;
}

static GtkWidget *hint(const char *text)
{
    GtkWidget *l = gtk_label_new(text);
    gtk_label_set_xalign(GTK_LABEL(l), 0);
    gtk_label_set_line_wrap(GTK_LABEL(l), TRUE);
    gtk_label_set_max_width_chars(GTK_LABEL(l), 70);
    gtk_style_context_add_class(gtk_widget_get_style_context(l), "dim-label");
    return l;
}

static settings_win *build(lk_app *app, GtkWindow *parent)
{
    settings_win *w = g_new0(settings_win, 1);
    lk_settings *cur = app->settings;
    GtkWidget *area, *box, *row, *sw, *buttons, *add, *browse, *label;
    GtkCellRenderer *r;
    GtkTreeViewColumn *c;
    size_t i;
    char *own, *text;

    w->app = app;
    w->dlg =
        gtk_dialog_new_with_buttons(_("Latchkey settings"), parent, 0, _("_Cancel"),
                                    GTK_RESPONSE_CANCEL, _("_Save"), GTK_RESPONSE_ACCEPT, NULL);
    gtk_window_set_application(GTK_WINDOW(w->dlg), app->gtk);
    gtk_window_set_role(GTK_WINDOW(w->dlg), "latchkey-settings");
    gtk_window_set_default_size(GTK_WINDOW(w->dlg), 620, -1);
    gtk_dialog_set_default_response(GTK_DIALOG(w->dlg), GTK_RESPONSE_ACCEPT);

    area = gtk_dialog_get_content_area(GTK_DIALOG(w->dlg));
    box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
    gtk_container_set_border_width(GTK_CONTAINER(box), 12);
    gtk_box_pack_start(GTK_BOX(area), box, TRUE, TRUE, 0);

    /* Problems with what was entered show here, above what they are about. */
    w->error_bar = gtk_info_bar_new();
    w->error_label = gtk_label_new("");
    gtk_label_set_line_wrap(GTK_LABEL(w->error_label), TRUE);
    gtk_label_set_max_width_chars(GTK_LABEL(w->error_label), 70);
    gtk_label_set_xalign(GTK_LABEL(w->error_label), 0);
    gtk_label_set_selectable(GTK_LABEL(w->error_label), TRUE);
    gtk_widget_set_can_focus(w->error_label, FALSE);
    gtk_container_add(GTK_CONTAINER(gtk_info_bar_get_content_area(GTK_INFO_BAR(w->error_bar))),
                      w->error_label);
    gtk_widget_show(w->error_label);
    gtk_widget_set_no_show_all(w->error_bar, TRUE);
    gtk_box_pack_start(GTK_BOX(box), w->error_bar, FALSE, FALSE, 0);

    /* The roots. */
    gtk_box_pack_start(GTK_BOX(box), heading(_("Folders watched for sessions")), FALSE, FALSE, 0);
    own = cur && cur->session_root && *cur->session_root
              ? g_filename_display_name(cur->session_root)
              : NULL;
    text = own ? g_strdup_printf(_("The dashboard lists the sessions found under these folders "
                                   "(a bot's .wwebjs_auth or tokens folder, for example). "
                                   "Latchkey's own folder, %s, is always watched."),
                                 own)
               : g_strdup(_("The dashboard lists the sessions found under these folders (a "
                            "bot's .wwebjs_auth or tokens folder, for example)."));
    gtk_box_pack_start(GTK_BOX(box), hint(text), FALSE, FALSE, 0);
    g_free(text);
    g_free(own);

    w->roots = gtk_list_store_new(N_COLS, G_TYPE_STRING, G_TYPE_STRING);
    for (i = 0; cur && cur->roots && cur->roots[i]; i++)
        append_root(w, cur->roots[i]);
    w->roots_view = gtk_tree_view_new_with_model(GTK_TREE_MODEL(w->roots));
    gtk_tree_view_set_headers_visible(GTK_TREE_VIEW(w->roots_view), FALSE);
    r = gtk_cell_renderer_text_new();
    g_object_set(r, "ellipsize", PANGO_ELLIPSIZE_MIDDLE, NULL);
    c = gtk_tree_view_column_new_with_attributes(_("Folder"), r, "text", COL_SHOWN, NULL);
    gtk_tree_view_append_column(GTK_TREE_VIEW(w->roots_view), c);
    gtk_tree_view_set_tooltip_column(GTK_TREE_VIEW(w->roots_view), COL_SHOWN);
    atk_object_set_name(gtk_widget_get_accessible(w->roots_view),
                        _("Folders watched for sessions"));
    sw = gtk_scrolled_window_new(NULL, NULL);
    gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(sw), GTK_POLICY_AUTOMATIC,
                                   GTK_POLICY_AUTOMATIC);
    gtk_scrolled_window_set_shadow_type(GTK_SCROLLED_WINDOW(sw), GTK_SHADOW_IN);
    gtk_scrolled_window_set_min_content_height(GTK_SCROLLED_WINDOW(sw), 110);
    gtk_container_add(GTK_CONTAINER(sw), w->roots_view);
    row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
    gtk_box_pack_start(GTK_BOX(row), sw, TRUE, TRUE, 0);
    buttons = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
    add = gtk_button_new_with_mnemonic(_("_Add\u2026"));
    gtk_widget_set_tooltip_text(add, _("Choose a folder whose sessions the dashboard lists"));
    g_signal_connect(add, "clicked", G_CALLBACK(on_add), w);
    w->remove_btn = gtk_button_new_with_mnemonic(_("_Remove"));
    gtk_widget_set_tooltip_text(w->remove_btn, _("Stop watching the selected folder (nothing in "
                                                 "it is touched)"));
    gtk_widget_set_sensitive(w->remove_btn, FALSE);
    g_signal_connect(w->remove_btn, "clicked", G_CALLBACK(on_remove), w);
    gtk_box_pack_start(GTK_BOX(buttons), add, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(buttons), w->remove_btn, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(row), buttons, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(box), row, TRUE, TRUE, 0);
    g_signal_connect(gtk_tree_view_get_selection(GTK_TREE_VIEW(w->roots_view)), "changed",
                     G_CALLBACK(on_selection), w);

    /* The browser. */
    gtk_box_pack_start(GTK_BOX(box), heading(_("Browser")), FALSE, FALSE, 12);
    row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
    label = gtk_label_new_with_mnemonic(_("C_hromium:"));
    w->chromium = gtk_entry_new();
    gtk_label_set_mnemonic_widget(GTK_LABEL(label), w->chromium);
    gtk_entry_set_placeholder_text(GTK_ENTRY(w->chromium), _("Found by itself"));
    gtk_entry_set_activates_default(GTK_ENTRY(w->chromium), TRUE);
    atk_object_set_name(gtk_widget_get_accessible(w->chromium), _("Chromium path"));
    if (cur && cur->chromium) {
        char *shown = g_filename_display_name(cur->chromium);
        gtk_entry_set_text(GTK_ENTRY(w->chromium), shown);
        g_free(shown);
    }
    browse = gtk_button_new_with_mnemonic(_("Bro_wse\u2026"));
    g_signal_connect(browse, "clicked", G_CALLBACK(on_browse), w);
    gtk_box_pack_start(GTK_BOX(row), label, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(row), w->chromium, TRUE, TRUE, 0);
    gtk_box_pack_start(GTK_BOX(row), browse, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(box), row, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(box),
                       hint(_("Leave it empty to use Chrome, Chromium or Edge where they are "
                              "usually installed.")),
                       FALSE, FALSE, 0);
    w->headed = gtk_check_button_new_with_mnemonic(_("Show the browser w_indow"));
    gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(w->headed), cur && cur->headed);
    gtk_box_pack_start(GTK_BOX(box), w->headed, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(box),
                       hint(_("Browser changes apply to sessions started from now on; running "
                              "sessions keep their browser until they are started again.")),
                       FALSE, FALSE, 0);

    /* Start at sign-in: what is in effect now, which the installer or the
     * desktop may have changed behind settings.json. */
    gtk_box_pack_start(GTK_BOX(box), heading(_("Signing in")), FALSE, FALSE, 12);
    w->autostart = gtk_check_button_new_with_mnemonic(_("Start Latchkey when I si_gn in"));
    gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(w->autostart), lk_settings_autostart_active());
    gtk_box_pack_start(GTK_BOX(box), w->autostart, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(box), hint(_("Latchkey then starts in the notification area only.")),
                       FALSE, FALSE, 0);

    g_signal_connect(w->dlg, "response", G_CALLBACK(on_response), w);
    g_signal_connect(w->dlg, "destroy", G_CALLBACK(on_destroy), w);
    gtk_widget_show_all(box);
    return w;
}

void lk_settings_window_present(lk_app *app, GtkWindow *parent)
{
    settings_win *w;
    if (!app)
        app = lk_app_get();
    g_return_if_fail(app && app->gtk);
    w = g_object_get_data(G_OBJECT(app->gtk), SETTINGS_KEY);
    if (!w) {
        w = build(app, parent);
        g_object_set_data(G_OBJECT(app->gtk), SETTINGS_KEY, w);
    }
    gtk_window_present(GTK_WINDOW(w->dlg));
}
