/* entry_look.c - how a session looks in every view: its health, its state
 * in words, its icon (entry_look.h). */
#include "entry_look.h"

#include "i18n.h"

#define ICON_PREFIX "/org/latchkey/icons/"

/* Stopped on purpose, and nothing newer uses the folder since. The lock a
 * stopped browser may leave is a dead one that the next start clears. */
int lk_entry_stood_down(const lk_entry *e)
{
    return !e->running && e->stood_down &&
           (e->folder == LK_FOLDER_IDLE || e->folder == LK_FOLDER_MISSING ||
            e->folder == LK_FOLDER_STALE_LOCK);
}

lk_health lk_entry_health(const lk_entry *e)
{
    if (lk_entry_stood_down(e))
        return LK_HEALTH_IDLE;
    if (!e->running) {
        switch (e->folder) {
        case LK_FOLDER_LOCKED:
        case LK_FOLDER_STALE_LOCK: return LK_HEALTH_BROKEN;
        default: return LK_HEALTH_IDLE;
        }
    }
    switch (e->info.state) {
    case LK_STATE_LINKED: return LK_HEALTH_OK;
    case LK_STATE_STARTING:
    case LK_STATE_LOADING: return LK_HEALTH_BUSY;
    case LK_STATE_QR:
    case LK_STATE_LOGGED_OUT: return LK_HEALTH_WAITING;
    case LK_STATE_CONFLICT:
    case LK_STATE_UNREACHABLE:
    case LK_STATE_CRASHED:
    case LK_STATE_FAILED: return LK_HEALTH_BROKEN;
    case LK_STATE_STOPPED: break;
    }
    return LK_HEALTH_IDLE;
}

const char *lk_entry_state_text(const lk_entry *e)
{
    if (!e->running) {
        /* Who stopped it, until the folder shows something newer. */
        if (lk_entry_stood_down(e))
            return e->stood_down;
        switch (e->folder) {
        case LK_FOLDER_MISSING: return _("Missing");
        case LK_FOLDER_IDLE: return _("Not running");
        case LK_FOLDER_RUNNING: return _("Running, not watched");
        case LK_FOLDER_LOCKED: return _("Locked");
        case LK_FOLDER_STALE_LOCK: return _("Stale lock");
        }
        return _("Not running");
    }
    switch (e->info.state) {
    case LK_STATE_STOPPED: return _("Stopped");
    case LK_STATE_STARTING: return _("Starting");
    case LK_STATE_LOADING: return _("Loading");
    case LK_STATE_QR: return _("Waiting for a scan");
    case LK_STATE_LINKED: return _("Linked");
    case LK_STATE_CONFLICT: return _("Open elsewhere (conflict)");
    case LK_STATE_LOGGED_OUT: return _("Logged out");
    case LK_STATE_UNREACHABLE: return _("Not responding");
    case LK_STATE_CRASHED: return _("Crashed");
    case LK_STATE_FAILED: return _("Failed");
    }
    return _("Unknown");
}

const char *lk_health_icon(lk_health h)
{
    switch (h) {
    case LK_HEALTH_OK: return "latchkey-linked";
    case LK_HEALTH_BUSY:
    case LK_HEALTH_WAITING: return "latchkey-waiting";
    case LK_HEALTH_BROKEN: return "latchkey-attention";
    case LK_HEALTH_IDLE: break;
    }
    return "latchkey-idle";
}

GdkPixbuf *lk_icon_pixbuf(const char *name, int size)
{
    /* The PNGs rendered for the notification area first (crisp, and no SVG
     * loader needed), the SVG at any other size. */
    static const int sizes[] = {16, 22, 24, 32, 48};
    GdkPixbuf *pb = NULL;
    size_t i;
    for (i = 0; i < G_N_ELEMENTS(sizes) && !pb; i++) {
        if (sizes[i] != size)
            continue;
        char *res = g_strdup_printf(ICON_PREFIX "%d/%s.png", size, name);
        pb = gdk_pixbuf_new_from_resource(res, NULL);
        g_free(res);
    }
    if (!pb) {
        char *res = g_strdup_printf(ICON_PREFIX "%s.svg", name);
        pb = gdk_pixbuf_new_from_resource_at_scale(res, size, size, TRUE, NULL);
        g_free(res);
    }
    if (!pb) {
        /* No SVG loader: the nearest PNG, scaled. */
        for (i = G_N_ELEMENTS(sizes); i-- > 0 && !pb;) {
            if (sizes[i] > size && i > 0)
                continue;
            char *res = g_strdup_printf(ICON_PREFIX "%d/%s.png", sizes[i], name);
            GdkPixbuf *src = gdk_pixbuf_new_from_resource(res, NULL);
            g_free(res);
            if (src) {
                pb = gdk_pixbuf_scale_simple(src, size, size, GDK_INTERP_BILINEAR);
                g_object_unref(src);
            }
        }
    }
    return pb;
}
