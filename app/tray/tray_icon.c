/* tray_icon.c - the notification-area icon: the aggregate state of every
 * session at a glance, a tooltip naming the ones that need the user, and a
 * menu with each session and what can be done to it.
 *
 * Two front ends share one GtkMenu: a GtkStatusIcon (Windows, and X11
 * without an indicator host: left click opens the dashboard, right click the
 * menu) and, where an indicator host owns org.kde.StatusNotifierWatcher on
 * the session bus, an Ayatana AppIndicator (the host shows the menu). The
 * host can come and go while we run; we follow it. */
#include <string.h>

#include "tray_icon.h"

#include "i18n.h"

#ifdef LK_HAVE_APPINDICATOR
#include <libayatana-appindicator/app-indicator.h>
#endif

#define ICON_PREFIX "/org/latchkey/icons/"
#define TOOLTIP_MAX_NAMES 8
#ifdef G_OS_WIN32
#include "balloon_win32.h"
#include "tray_menu_win32.h"
/* GtkStatusIcon's icon, as gtkstatusicon.c adds it: its window's class, the
 * callback message, and the id older GTK gave it (the GtkStatusIcon's
 * address, cut to UINT; balloon_win32.c asks the shell for 3.24's). */
#define GTK_TRAY_CLASS L"gtkstatusicon-observer"
#define GTK_TRAY_MSG (WM_USER + 1)
#endif

typedef struct sess_item {
    GtkWidget *item;      /* "name - state" in the menu */
    GtkWidget *startstop; /* "Start" or "Stop" in its submenu */
} sess_item;

struct lk_tray_icon {
    lk_app *app;
    guint watch;
    GtkWidget *menu;
    GtkWidget *summary;   /* first line of the menu: what needs the user */
    GtkWidget *sess_end;  /* the separator after the session items */
    GHashTable *sessions; /* path -> sess_item */
    GtkStatusIcon *status;
    const char *icon; /* the state icon shown */
    char *tooltip;
#ifdef G_OS_WIN32
    lk_balloon *balloon;
    char *balloon_action; /* what a click on the balloon does: an app action */
    char *balloon_path;   /* and its session */
#endif
#ifdef LK_HAVE_APPINDICATOR
    AppIndicator *ind;
    guint bus_watch;
    char *theme_dir;
#endif
};

/* ---- actions ---------------------------------------------------------------- */

static void show_error(const char *what, const GError *error)
{
    GtkWidget *d =
        gtk_message_dialog_new(NULL, 0, GTK_MESSAGE_ERROR, GTK_BUTTONS_CLOSE, "%s", what);
    gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(d), "%s",
                                             error ? error->message : _("Unknown error"));
    gtk_window_set_title(GTK_WINDOW(d), _("Latchkey"));
    g_signal_connect(d, "response", G_CALLBACK(gtk_widget_destroy), NULL);
    gtk_widget_show(d);
}

static const char *item_path(GtkWidget *w)
{
    return g_object_get_data(G_OBJECT(w), "lk-path");
}

static void on_show_qr(GtkWidget *w, lk_tray_icon *t)
{
    lk_qr_window_present(t->app, item_path(w));
}

static void on_startstop(GtkWidget *w, lk_tray_icon *t)
{
    const char *path = item_path(w);
    const lk_entry *e = lk_model_find(t->app->model, path);
    GError *error = NULL;
    if (e && e->running) {
        lk_model_stop(t->app->model, path);
    } else if (!lk_model_start(t->app->model, path, &error)) {
        show_error(_("Could not start the session"), error);
        g_clear_error(&error);
    }
}

static void on_doctor(GtkWidget *w, lk_tray_icon *t)
{
    lk_doctor_dialog_present(t->app, NULL, item_path(w));
}

static void on_dashboard(GtkWidget *w, lk_tray_icon *t)
{
    lk_dashboard_present(t->app);
}

static void on_new_session(GtkWidget *w, lk_tray_icon *t)
{
    GError *error = NULL;
    char *path = lk_model_create(t->app->model, &error);
    if (!path) {
        show_error(_("Could not create a session"), error);
        g_clear_error(&error);
        return;
    }
    lk_qr_window_present(t->app, path);
    g_free(path);
}

static void on_settings(GtkWidget *w, lk_tray_icon *t)
{
    lk_settings_window_present(t->app, NULL);
}

static void on_quit(GtkWidget *w, lk_tray_icon *t)
{
    g_application_quit(G_APPLICATION(t->app->gtk));
}

/* ---- the menu ----------------------------------------------------------------- */

static GtkWidget *add_item(GtkWidget *menu, const char *label, const char *path, GCallback cb,
                           lk_tray_icon *t)
{
    GtkWidget *it = gtk_menu_item_new_with_mnemonic(label);
    if (path)
        g_object_set_data_full(G_OBJECT(it), "lk-path", g_strdup(path), g_free);
    g_signal_connect(it, "activate", cb, t);
    gtk_menu_shell_append(GTK_MENU_SHELL(menu), it);
    gtk_widget_show(it);
    return it;
}

static void sess_item_free(gpointer p)
{
    sess_item *s = p;
    gtk_widget_destroy(s->item); /* and its submenu */
    g_free(s);
}

static void sess_item_update(sess_item *s, const lk_entry *e)
{
    char *label = g_strdup_printf("%s \u2014 %s", e->name, lk_entry_state_text(e));
    gtk_menu_item_set_label(GTK_MENU_ITEM(s->item), label);
    g_free(label);
    gtk_menu_item_set_label(GTK_MENU_ITEM(s->startstop), e->running ? _("S_top") : _("_Start"));
}

static sess_item *sess_item_new(lk_tray_icon *t, const lk_entry *e, int position)
{
    sess_item *s = g_new0(sess_item, 1);
    GtkWidget *sub = gtk_menu_new();
    s->item = gtk_menu_item_new_with_label(e->name);
    add_item(sub, _("Show _QR"), e->path, G_CALLBACK(on_show_qr), t);
    s->startstop = add_item(sub, _("_Start"), e->path, G_CALLBACK(on_startstop), t);
    gtk_menu_item_set_use_underline(GTK_MENU_ITEM(s->startstop), TRUE);
    add_item(sub, _("_Find lock holders"), e->path, G_CALLBACK(on_doctor), t);
    add_item(sub, _("_Unlock or delete\u2026"), e->path, G_CALLBACK(on_doctor), t);
    gtk_menu_item_set_submenu(GTK_MENU_ITEM(s->item), sub);
    gtk_menu_shell_insert(GTK_MENU_SHELL(t->menu), s->item, position);
    gtk_widget_show(s->item);
    sess_item_update(s, e);
    return s;
}

/* Rebuilds the session items (the list changed); the fixed items stay. */
static void menu_rebuild_sessions(lk_tray_icon *t)
{
    size_t n = 0, i;
    const lk_entry *const *es = lk_model_entries(t->app->model, &n);
    g_hash_table_remove_all(t->sessions);
    for (i = 0; i < n; i++) {
        /* after the summary and its separator */
        sess_item *s = sess_item_new(t, es[i], (int)i + 2);
        g_hash_table_replace(t->sessions, g_strdup(es[i]->path), s);
    }
    gtk_widget_set_visible(t->sess_end, n > 0);
}

static void menu_build(lk_tray_icon *t)
{
    t->menu = gtk_menu_new();
    g_object_ref_sink(t->menu);
    t->summary = gtk_menu_item_new_with_label("");
    gtk_widget_set_sensitive(t->summary, FALSE);
    gtk_menu_shell_append(GTK_MENU_SHELL(t->menu), t->summary);
    gtk_widget_show(t->summary);
    GtkWidget *sep = gtk_separator_menu_item_new();
    gtk_menu_shell_append(GTK_MENU_SHELL(t->menu), sep);
    gtk_widget_show(sep);
    t->sess_end = gtk_separator_menu_item_new();
    gtk_menu_shell_append(GTK_MENU_SHELL(t->menu), t->sess_end);
    add_item(t->menu, _("_Dashboard"), NULL, G_CALLBACK(on_dashboard), t);
    add_item(t->menu, _("_New session"), NULL, G_CALLBACK(on_new_session), t);
    add_item(t->menu, _("S_ettings\u2026"), NULL, G_CALLBACK(on_settings), t);
    sep = gtk_separator_menu_item_new();
    gtk_menu_shell_append(GTK_MENU_SHELL(t->menu), sep);
    gtk_widget_show(sep);
    add_item(t->menu, _("_Quit"), NULL, G_CALLBACK(on_quit), t);
}

/* ---- the icon, the tooltip and the summary ------------------------------------ */

static const char *health_summary(lk_health h)
{
    switch (h) {
    case LK_HEALTH_BROKEN: return _("Needs attention");
    case LK_HEALTH_WAITING: return _("Waiting for a scan");
    case LK_HEALTH_BUSY: return _("Starting");
    case LK_HEALTH_OK: return _("All linked");
    case LK_HEALTH_IDLE: break;
    }
    return _("Nothing running");
}

static void status_set_pixbuf(lk_tray_icon *t, int size)
{
    GdkPixbuf *pb = lk_icon_pixbuf(t->icon, size > 0 ? size : 16);
    if (pb) {
        gtk_status_icon_set_from_pixbuf(t->status, pb);
        g_object_unref(pb);
    }
}

static void refresh(lk_tray_icon *t)
{
    size_t n = 0, i, named = 0, needy = 0;
    const lk_entry *const *es = lk_model_entries(t->app->model, &n);
    lk_health worst = LK_HEALTH_IDLE;
    GString *tip = g_string_new(NULL), *names = g_string_new(NULL);

    for (i = 0; i < n; i++) {
        lk_health h = lk_entry_health(es[i]);
        if (h > worst)
            worst = h;
        if (h < LK_HEALTH_WAITING)
            continue;
        needy++;
        if (named++ < TOOLTIP_MAX_NAMES)
            g_string_append_printf(names, "\n%s: %s", es[i]->name, lk_entry_state_text(es[i]));
    }
    if (named > TOOLTIP_MAX_NAMES)
        g_string_append_printf(names, "\n%s", _("\u2026 and more: open the dashboard"));
    g_string_append_printf(tip, "%s \u2014 %s", _("Latchkey"), health_summary(worst));
    if (n == 0)
        g_string_append_printf(tip, "\n%s", _("No sessions yet"));
    g_string_append(tip, names->str);

    const char *icon = lk_health_icon(worst);
    gboolean icon_changed = t->icon != icon;
    t->icon = icon;
    if (!t->tooltip || strcmp(t->tooltip, tip->str) != 0) {
        g_free(t->tooltip);
        t->tooltip = g_strdup(tip->str);
        if (t->status)
            gtk_status_icon_set_tooltip_text(t->status, t->tooltip);
    }
    if (t->status && icon_changed)
        status_set_pixbuf(t, gtk_status_icon_get_size(t->status));

    char *summary;
    if (needy)
        summary = g_strdup_printf(
            g_dngettext(GETTEXT_PACKAGE, "%zu session needs you", "%zu sessions need you", needy),
            needy);
    else
        summary = g_strdup(health_summary(worst));
    gtk_menu_item_set_label(GTK_MENU_ITEM(t->summary), summary);
    g_free(summary);

#ifdef LK_HAVE_APPINDICATOR
    if (t->ind && icon_changed)
        app_indicator_set_icon_full(t->ind, t->icon, health_summary(worst));
    if (t->ind)
        app_indicator_set_title(t->ind, t->tooltip);
#endif
    g_string_free(tip, TRUE);
    g_string_free(names, TRUE);
}

static void on_model(gpointer user, const char *path, const lk_entry *e)
{
    lk_tray_icon *t = user;
    sess_item *s = path ? g_hash_table_lookup(t->sessions, path) : NULL;
    if (s && e)
        sess_item_update(s, e);
    else
        menu_rebuild_sessions(t);
    refresh(t);
}

/* ---- GtkStatusIcon -------------------------------------------------------------- */

static gboolean on_status_size(GtkStatusIcon *icon, gint size, lk_tray_icon *t)
{
    status_set_pixbuf(t, size);
    return TRUE;
}

static void on_status_activate(GtkStatusIcon *icon, lk_tray_icon *t)
{
    lk_dashboard_present(t->app);
}

static void on_status_popup(GtkStatusIcon *icon, guint button, guint activate_time, lk_tray_icon *t)
{
#ifdef G_OS_WIN32
    lk_tray_menu_popup_win32(GTK_MENU(t->menu), icon);
#else
    gtk_menu_popup(GTK_MENU(t->menu), NULL, NULL, gtk_status_icon_position_menu, icon, button,
                   activate_time);
#endif
}

static void status_show(lk_tray_icon *t, gboolean show)
{
    if (!t->status && !show)
        return;
    if (!t->status) {
        t->status = gtk_status_icon_new();
        gtk_status_icon_set_name(t->status, "latchkey-tray");
        gtk_status_icon_set_title(t->status, _("Latchkey"));
        g_signal_connect(t->status, "size-changed", G_CALLBACK(on_status_size), t);
        g_signal_connect(t->status, "activate", G_CALLBACK(on_status_activate), t);
        g_signal_connect(t->status, "popup-menu", G_CALLBACK(on_status_popup), t);
        gtk_status_icon_set_tooltip_text(t->status, t->tooltip);
        status_set_pixbuf(t, 16);
    }
    gtk_status_icon_set_visible(t->status, show);
}

/* ---- balloons (Windows) ------------------------------------------------------------ */

#ifdef G_OS_WIN32
static void on_balloon_click(void *user)
{
    lk_tray_icon *t = user;
    if (t->balloon_action && t->balloon_path)
        g_action_group_activate_action(G_ACTION_GROUP(t->app->gtk), t->balloon_action,
                                       g_variant_new_string(t->balloon_path));
}
#endif

gboolean lk_tray_icon_balloon(lk_tray_icon *t, const char *title, const char *body,
                              gboolean warning, const char *action, const char *path)
{
#ifdef G_OS_WIN32
    if (!t || !t->status || !gtk_status_icon_get_visible(t->status))
        return FALSE;
    if (!t->balloon)
        t->balloon = lk_balloon_attach(GTK_TRAY_CLASS, GPOINTER_TO_UINT(t->status), GTK_TRAY_MSG,
                                       on_balloon_click, t);
    if (!lk_balloon_show(t->balloon, title, body, warning))
        return FALSE;
    g_free(t->balloon_action);
    g_free(t->balloon_path);
    /* "app.show-qr" names the action "show-qr" of the application. */
    t->balloon_action = g_strdup(action && g_str_has_prefix(action, "app.") ? action + 4 : action);
    t->balloon_path = g_strdup(path);
    return TRUE;
#else
    (void)t, (void)title, (void)body, (void)warning, (void)action, (void)path;
    return FALSE;
#endif
}

/* ---- AppIndicator ------------------------------------------------------------- */

#ifdef LK_HAVE_APPINDICATOR
/* The host loads icons by name from a folder we name: the compiled-in SVGs,
 * written out once per run. */
static gboolean write_theme_dir(lk_tray_icon *t)
{
    static const char *const names[] = {"latchkey", "latchkey-idle", "latchkey-linked",
                                        "latchkey-waiting", "latchkey-attention"};
    size_t i;
    if (t->theme_dir)
        return TRUE;
    char *dir = g_build_filename(g_get_user_runtime_dir(), "latchkey", "icons", NULL);
    if (g_mkdir_with_parents(dir, 0700) != 0) {
        g_warning("tray icons: cannot create %s", dir);
        g_free(dir);
        return FALSE;
    }
    for (i = 0; i < G_N_ELEMENTS(names); i++) {
        char *res = g_strdup_printf(ICON_PREFIX "%s.svg", names[i]);
        GBytes *b = g_resources_lookup_data(res, 0, NULL);
        char *file = g_strdup_printf("%s/%s.svg", dir, names[i]);
        GError *error = NULL;
        gsize len = 0;
        const char *data = b ? g_bytes_get_data(b, &len) : NULL;
        if (data && !g_file_set_contents(file, data, (gssize)len, &error)) {
            g_warning("tray icons: %s", error->message);
            g_clear_error(&error);
        }
        g_free(file);
        g_free(res);
        if (b)
            g_bytes_unref(b);
    }
    t->theme_dir = dir;
    return TRUE;
}

static void indicator_show(lk_tray_icon *t, gboolean show)
{
    if (!show) {
        g_clear_object(&t->ind);
        return;
    }
    if (t->ind || !write_theme_dir(t))
        return;
    t->ind = app_indicator_new_with_path("latchkey", t->icon,
                                         APP_INDICATOR_CATEGORY_APPLICATION_STATUS, t->theme_dir);
    app_indicator_set_title(t->ind, t->tooltip);
    app_indicator_set_menu(t->ind, GTK_MENU(t->menu));
    app_indicator_set_status(t->ind, APP_INDICATOR_STATUS_ACTIVE);
}

static void on_host_appeared(GDBusConnection *c, const char *name, const char *owner, gpointer user)
{
    lk_tray_icon *t = user;
    indicator_show(t, TRUE);
    status_show(t, !t->ind);
}

static void on_host_vanished(GDBusConnection *c, const char *name, gpointer user)
{
    lk_tray_icon *t = user;
    indicator_show(t, FALSE);
    status_show(t, TRUE);
}
#endif

/* ---- life ------------------------------------------------------------------------ */

lk_tray_icon *lk_tray_icon_new(lk_app *app)
{
    lk_tray_icon *t = g_new0(lk_tray_icon, 1);
    t->app = app;
    t->icon = lk_health_icon(LK_HEALTH_IDLE);
    t->sessions = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, sess_item_free);
    menu_build(t);
    menu_rebuild_sessions(t);
    refresh(t);
    t->watch = lk_model_watch(app->model, on_model, t);
#ifdef LK_HAVE_APPINDICATOR
    /* One of the two callbacks runs soon after, from the main loop: the icon
     * appears then, in the form the desktop can show. */
    t->bus_watch = g_bus_watch_name(G_BUS_TYPE_SESSION, "org.kde.StatusNotifierWatcher",
                                    G_BUS_NAME_WATCHER_FLAGS_NONE, on_host_appeared,
                                    on_host_vanished, t, NULL);
#else
    status_show(t, TRUE);
#endif
    return t;
}

void lk_tray_icon_free(lk_tray_icon *t)
{
    if (!t)
        return;
    if (t->watch)
        lk_model_unwatch(t->app->model, t->watch);
#ifdef G_OS_WIN32
    lk_balloon_detach(t->balloon);
    g_free(t->balloon_action);
    g_free(t->balloon_path);
#endif
#ifdef LK_HAVE_APPINDICATOR
    if (t->bus_watch)
        g_bus_unwatch_name(t->bus_watch);
    g_clear_object(&t->ind);
    g_free(t->theme_dir);
#endif
    if (t->status) {
        gtk_status_icon_set_visible(t->status, FALSE);
        g_object_unref(t->status);
    }
    g_hash_table_destroy(t->sessions);
    gtk_widget_destroy(t->menu);
    g_object_unref(t->menu);
    g_free(t->tooltip);
    g_free(t);
}
