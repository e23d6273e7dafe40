/* notify.c - one notification per session that needs the user: a scan, a
 * logout, a conflict, a crash, a failure.
 *
 * Each session has its own notification id (its path), so news about it
 * replaces what was shown before. A state is announced once: a page that
 * reloads (QR, loading, QR again) does not announce the same QR twice; the
 * memory resets when the session links or stops, so a later logout is news
 * again. */
#include "notify.h"

#include "i18n.h"
#include "model.h"
#include "tray_icon.h"

typedef struct notifier {
    lk_app *app;
    GHashTable *told; /* path -> GINT_TO_POINTER(state announced + 1) */
} notifier;

static gboolean worth_telling(lk_state st)
{
    switch (st) {
    case LK_STATE_QR:
    case LK_STATE_LOGGED_OUT:
    case LK_STATE_CONFLICT:
    case LK_STATE_CRASHED:
    case LK_STATE_FAILED: return TRUE;
    default: return FALSE;
    }
}

static char *id_of(const char *path)
{
    return g_strconcat("session:", path, NULL);
}

static void send(notifier *n, const lk_entry *e)
{
    const lk_session_info *info = &e->info;
    const char *why = info->reason[0] ? info->reason : info->last_error;
    const char *action = "app.dashboard";
    char *title = NULL, *id;
    const char *body = NULL;
    GNotification *no;

    switch (info->state) {
    case LK_STATE_QR:
        title = g_strdup_printf(_("%s needs a scan"), e->name);
        body = _("Open WhatsApp on your phone › Linked devices › Link a device, and scan the "
                 "code.");
        action = "app.show-qr";
        break;
    case LK_STATE_LOGGED_OUT:
        title = g_strdup_printf(_("%s was logged out"), e->name);
        body = _("Scan the new code to link it again.");
        action = "app.show-qr";
        break;
    case LK_STATE_CONFLICT:
        title = g_strdup_printf(_("%s is open in another window"), e->name);
        body = _("WhatsApp was opened elsewhere. Choose \"Use here\" to take it back.");
        break;
    case LK_STATE_CRASHED:
        title = g_strdup_printf(_("%s crashed"), e->name);
        body = why && *why ? why : _("The browser stopped unexpectedly; Latchkey restarts it.");
        break;
    case LK_STATE_FAILED:
    default:
        title = g_strdup_printf(_("%s failed"), e->name);
        body = why && *why ? why : _("Latchkey gave up restarting it.");
        break;
    }
    /* Windows: a balloon on our own tray icon, which also knows what a
     * click means. GLib's Windows backend would add a second icon for its
     * balloons and drop the action. */
    if (!lk_tray_icon_balloon(n->app->tray, title, body, info->state != LK_STATE_QR, action,
                              e->path)) {
        no = g_notification_new(title);
        g_notification_set_body(no, body);
        g_notification_set_priority(no, info->state == LK_STATE_QR ? G_NOTIFICATION_PRIORITY_NORMAL
                                                                   : G_NOTIFICATION_PRIORITY_HIGH);
#ifndef G_OS_WIN32
        /* GLib's Windows backend has no actions (a click activates the
         * application, which opens the dashboard); setting one warns. */
        g_notification_set_default_action_and_target(no, action, "s", e->path);
#endif
        id = id_of(e->path);
        g_application_send_notification(G_APPLICATION(n->app->gtk), id, no);
        g_free(id);
        g_object_unref(no);
    }
    g_free(title);
}

static void withdraw(notifier *n, const char *path)
{
    char *id = id_of(path);
    g_application_withdraw_notification(G_APPLICATION(n->app->gtk), id);
    g_free(id);
}

static void on_entry(notifier *n, const char *path, const lk_entry *e)
{
    gpointer old = g_hash_table_lookup(n->told, path);
    lk_state st = e && e->running ? e->info.state : LK_STATE_STOPPED;

    if (worth_telling(st)) {
        if (old == GINT_TO_POINTER(st + 1))
            return; /* said already */
        g_hash_table_insert(n->told, g_strdup(path), GINT_TO_POINTER(st + 1));
        send(n, e);
    } else if (st == LK_STATE_LINKED || st == LK_STATE_STOPPED) {
        if (old) {
            g_hash_table_remove(n->told, path);
            withdraw(n, path); /* what it said is no longer true */
        }
    }
}

static void on_model(gpointer user, const char *path, const lk_entry *e)
{
    notifier *n = user;
    if (path) {
        on_entry(n, path, e);
        return;
    }
    /* The list changed: forget sessions that are gone. */
    {
        GHashTableIter it;
        gpointer k;
        g_hash_table_iter_init(&it, n->told);
        while (g_hash_table_iter_next(&it, &k, NULL)) {
            if (!lk_model_find(n->app->model, k)) {
                withdraw(n, k);
                g_hash_table_iter_remove(&it);
            }
        }
    }
}

static void notifier_free(gpointer p)
{
    notifier *n = p;
    g_hash_table_destroy(n->told);
    g_free(n);
}

void lk_notify_start(lk_app *app)
{
    notifier *n;
    g_return_if_fail(app && app->gtk && app->model);
    n = g_new0(notifier, 1);
    n->app = app;
    n->told = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    lk_model_watch(app->model, on_model, n);
    /* Freed with the application object, after the model is gone. */
    g_object_set_data_full(G_OBJECT(app->gtk), "lk-notifier", n, notifier_free);
}
