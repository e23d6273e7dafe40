/* model_scan.c - the watched roots, looked at on a GTask thread: the
 * session folders under them and the folders the app opened, each with its
 * folder state from one process snapshot. */
#include "doctor_text.h"
#include "model_private.h"

#include <stdlib.h>
#include <string.h>

#include "settings.h"

#include "latchkey/doctor.h"
#include "latchkey/path.h"
#include "latchkey/sys.h"

/* ---- scanning (a GTask thread) -------------------------------------------- */

typedef struct scan_item {
    char *path;       /* normalised */
    const char *kind; /* interned; NULL for a folder the scan was asked about */
    lk_folder_state folder;
    char *launcher; /* who started the browser on it (lk_entry.launcher) */
} scan_item;

typedef struct scan_job {
    lk_model *m;
    char **roots;       /* normalised, no duplicates */
    char **extra;       /* folders the app opened, wherever they are */
    char *session_root; /* its sessions are the app's own */
    GArray *items;      /* scan_item */
    gboolean have_states;
} scan_job;

static void scan_job_free(gpointer p)
{
    scan_job *j = p;
    guint i;
    for (i = 0; j->items && i < j->items->len; i++) {
        g_free(g_array_index(j->items, scan_item, i).path);
        g_free(g_array_index(j->items, scan_item, i).launcher);
    }
    if (j->items)
        g_array_free(j->items, TRUE);
    g_strfreev(j->roots);
    g_strfreev(j->extra);
    g_free(j->session_root);
    g_free(j);
}

static gboolean have_item(GArray *items, const char *path)
{
    guint i;
    for (i = 0; i < items->len; i++)
        if (lk_path_equal(g_array_index(items, scan_item, i).path, path, lk__model_path_win(path)))
            return TRUE;
    return FALSE;
}

static void scan_thread(GTask *task, gpointer src, gpointer data, GCancellable *cancel)
{
    scan_job *j = data;
    lk_snapshot *snap = NULL;
    guint i;

    j->items = g_array_new(FALSE, TRUE, sizeof(scan_item));
    /* Root by root: one missing or unreadable root hides no other. */
    for (i = 0; j->roots[i]; i++) {
        lk_found *found = NULL;
        size_t n = 0, k;
        const char *root = j->roots[i];
        if (lk_discover(&root, 1, &found, &n, NULL) != LK_OK)
            continue;
        for (k = 0; k < n; k++) {
            scan_item it = {0};
            char *norm = lk__model_normalise(found[k].path);
            if (!norm || have_item(j->items, norm)) {
                g_free(norm);
                continue;
            }
            it.path = norm;
            it.kind = g_intern_string(found[k].kind ? found[k].kind : "chromium");
            it.folder = LK_FOLDER_IDLE;
            g_array_append_val(j->items, it);
        }
        lk_found_free(found, n);
    }
    for (i = 0; j->extra[i]; i++) {
        scan_item it = {0};
        if (have_item(j->items, j->extra[i]))
            continue;
        it.path = g_strdup(j->extra[i]);
        it.kind = NULL;
        it.folder = LK_FOLDER_IDLE;
        g_array_append_val(j->items, it);
    }

    /* One snapshot of every process for all of them. */
    if (lk_sys_snapshot(&snap, LK_SNAP_HANDLES, NULL) == LK_OK) {
        j->have_states = TRUE;
        for (i = 0; i < j->items->len; i++) {
            scan_item *it = &g_array_index(j->items, scan_item, i);
            lk_holders *h = NULL;
            if (lk_sys_ftype(it->path) != LK_FT_DIR)
                it->folder = LK_FOLDER_MISSING;
            else if (lk_doctor_holders(snap, it->path, &h, NULL) == LK_OK) {
                it->folder = lk_folder_state_of(h);
                if (lk_holders_browser(h))
                    it->launcher = lk_launcher_text(lk_holders_browser(h));
            }
            lk_holders_free(h);
        }
        lk_snapshot_free(snap);
    } else {
        for (i = 0; i < j->items->len; i++) {
            scan_item *it = &g_array_index(j->items, scan_item, i);
            if (lk_sys_ftype(it->path) != LK_FT_DIR)
                it->folder = LK_FOLDER_MISSING;
        }
    }
    g_task_return_boolean(task, TRUE);
}

static void scan_done(GObject *src, GAsyncResult *res, gpointer user)
{
    scan_job *j = g_task_get_task_data(G_TASK(res));
    lk_model *m = j->m;
    GHashTableIter it;
    gpointer v;
    GPtrArray *changed = g_ptr_array_new_with_free_func(g_free);
    gboolean list_changed = FALSE;
    guint i;

    m->tasks--;
    m->scanning = FALSE;
    if (m->closing) {
        g_ptr_array_free(changed, TRUE);
        return;
    }
    g_hash_table_iter_init(&it, m->entries);
    while (g_hash_table_iter_next(&it, NULL, &v))
        ((entry *)v)->found = FALSE;

    for (i = 0; i < j->items->len; i++) {
        scan_item *si = &g_array_index(j->items, scan_item, i);
        entry *e = lk__model_lookup(m, si->path);
        if (!e && !si->kind)
            continue; /* asked about, forgotten since */
        if (!e) {
            gboolean own = j->session_root &&
                           lk_path_within(j->session_root, si->path, lk__model_path_win(si->path));
            e = lk__model_add_entry(m, si->path, own ? KIND_OWN : si->kind);
            list_changed = TRUE;
        }
        if (si->kind)
            e->found = TRUE;
        if (j->have_states || si->folder == LK_FOLDER_MISSING) {
            if (e->pub.folder != si->folder || g_strcmp0(e->pub.launcher, si->launcher) != 0)
                g_ptr_array_add(changed, g_strdup(e->key));
            g_free(e->pub.launcher);
            e->pub.launcher = si->launcher;
            si->launcher = NULL;
            if (e->pub.stood_down && si->folder == LK_FOLDER_MISSING &&
                !e->pub.info.folder_removed) {
                /* The cleanup ended the browser first, then removed the
                 * folder: the row now says it was removed. */
                e->pub.info.folder_removed = 1;
                g_free(e->pub.stood_down);
                e->pub.stood_down = lk__model_stood_down_text(&e->pub.info);
            }
            e->pub.folder = si->folder;
            e->pub.seen_ms = g_get_real_time() / 1000;
        }
    }

    /* Forget what is gone: not found, not running, not a folder the app
     * opened that still exists, and not one whose row says who removed it
     * (kept until the user starts it again or the app quits). */
    g_hash_table_iter_init(&it, m->entries);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        entry *e = v;
        if (e->found || e->r || e->pub.stood_down ||
            (e->opened && e->pub.folder != LK_FOLDER_MISSING))
            continue;
        g_hash_table_iter_remove(&it);
        list_changed = TRUE;
    }
    if (list_changed) {
        m->sorted_dirty = TRUE;
        lk__model_emit(m, NULL, NULL);
    }
    for (i = 0; i < changed->len; i++) {
        entry *e = g_hash_table_lookup(m->entries, g_ptr_array_index(changed, i));
        if (e)
            lk__model_emit(m, e->pub.path, e);
    }
    g_ptr_array_free(changed, TRUE);
    if (m->scan_again) {
        m->scan_again = FALSE;
        lk__model_scan_start(m);
    }
}

static void add_root(GPtrArray *roots, const char *root)
{
    char *norm = lk__model_normalise(root);
    guint i;
    if (!norm)
        return;
    for (i = 0; i < roots->len; i++) {
        if (lk_path_equal(g_ptr_array_index(roots, i), norm, lk__model_path_win(norm))) {
            g_free(norm);
            return;
        }
    }
    g_ptr_array_add(roots, norm);
}

void lk__model_scan_start(lk_model *m)
{
    lk_settings *st = m->app ? m->app->settings : NULL;
    scan_job *j;
    GPtrArray *roots, *extra;
    GHashTableIter it;
    gpointer v;
    char *def;
    GTask *task;
    guint i;

    if (m->scanning) {
        m->scan_again = TRUE;
        return;
    }
    roots = g_ptr_array_new();
    extra = g_ptr_array_new();
    for (i = 0; st && st->roots && st->roots[i]; i++)
        add_root(roots, st->roots[i]);
    def = lk_default_session_root();
    if (def)
        add_root(roots, def);
    free(def);
    j = g_new0(scan_job, 1);
    j->m = m;
    j->session_root = lk__model_session_root(m);
    if (j->session_root)
        add_root(roots, j->session_root);
    g_ptr_array_add(roots, NULL);
    j->roots = (char **)g_ptr_array_free(roots, FALSE);
    g_hash_table_iter_init(&it, m->entries);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        entry *e = v;
        if (e->opened || e->r)
            g_ptr_array_add(extra, g_strdup(e->pub.path));
    }
    g_ptr_array_add(extra, NULL);
    j->extra = (char **)g_ptr_array_free(extra, FALSE);

    m->scanning = TRUE;
    m->tasks++;
    task = g_task_new(NULL, NULL, scan_done, NULL);
    g_task_set_task_data(task, j, scan_job_free);
    g_task_run_in_thread(task, scan_thread);
    g_object_unref(task);
}

void lk_model_rescan(lk_model *m)
{
    if (m && !m->closing)
        lk__model_scan_start(m);
}
