/* model.c - the sessions the app knows, on the main thread: the entries,
 * their watchers, new session folders, and the model's life.
 *
 * Two sources feed it. A scan (model_scan.c, a GTask thread, every
 * SCAN_SECONDS and on request) finds the session folders under the watched
 * roots and gives each one its folder state from ONE process snapshot. The
 * sessions the app runs (model_runner.c, a "runner" each around a core
 * lk_session) report every change on a core thread; those reports are
 * copied and marshalled to the main thread before anything looks at them.
 * lk_model_free stops every runner and waits for all of them, so no browser
 * the app started outlives it. */
#include "model_private.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "settings.h"

#include "latchkey/path.h"

/* ---- paths and names ------------------------------------------------------ */

int lk__model_path_win(const char *p)
{
    (void)p;
    return lk_sys_path_win();
}

/* Absolute and lexically normalised; NULL when it cannot be made absolute. */
char *lk__model_normalise(const char *path)
{
    char *abs, *n, *out;
    if (!path || !*path)
        return NULL;
    abs = g_canonicalize_filename(path, NULL);
    n = lk_path_normalize(abs, lk__model_path_win(abs));
    out = g_strdup(n ? n : abs);
    free(n);
    g_free(abs);
    return out;
}

static char *key_of(const char *norm)
{
    return lk__model_path_win(norm) ? g_utf8_casefold(norm, -1) : g_strdup(norm);
}

char *lk__model_session_root(lk_model *m)
{
    lk_settings *s = m->app ? m->app->settings : NULL;
    char *r, *out;
    if (s && s->session_root && *s->session_root)
        return lk__model_normalise(s->session_root);
    r = lk_default_session_root();
    out = r ? lk__model_normalise(r) : NULL;
    free(r);
    return out;
}

/* "session-x" for a whatsapp-web.js or plain profile, "tokens/shop" for
 * wppconnect (its folder names alone say little). */
static char *name_of(const char *path, const char *kind)
{
    int win = lk__model_path_win(path);
    const char *base = lk_path_base(path, win);
    if (kind && strcmp(kind, "wppconnect") == 0) {
        char *dir = lk_path_dir(path, win);
        char *out = g_strdup_printf("%s/%s", dir ? lk_path_base(dir, win) : "", base);
        free(dir);
        return out;
    }
    return g_strdup(base && *base ? base : path);
}

/* ---- entries and watchers ------------------------------------------------- */

entry *lk__model_lookup(lk_model *m, const char *path)
{
    char *norm = lk__model_normalise(path), *key;
    entry *e;
    if (!norm)
        return NULL;
    key = key_of(norm);
    e = g_hash_table_lookup(m->entries, key);
    g_free(key);
    g_free(norm);
    return e;
}

static void entry_free(gpointer p)
{
    entry *e = p;
    lk_session_info_clear(&e->pub.info);
    g_free(e->pub.stood_down);
    g_free(e->pub.launcher);
    g_free(e->pub.path);
    g_free(e->pub.name);
    g_free(e->key);
    g_free(e);
}

/* Adds an entry for a normalised path (which must not have one). */
entry *lk__model_add_entry(lk_model *m, const char *norm, const char *kind)
{
    entry *e = g_new0(entry, 1);
    e->pub.path = g_strdup(norm);
    e->pub.kind = g_intern_string(kind);
    e->pub.name = name_of(norm, kind);
    e->pub.folder = LK_FOLDER_IDLE;
    e->pub.seen_ms = g_get_real_time() / 1000;
    e->key = key_of(norm);
    g_hash_table_insert(m->entries, e->key, e);
    m->sorted_dirty = TRUE;
    return e;
}

void lk__model_emit(lk_model *m, const char *path, const entry *e)
{
    /* A watcher may unwatch (itself or others) during the call: walk a copy
     * of the ids and skip those gone. */
    guint n = m->watchers->len, i, j;
    guint *ids = g_new(guint, n ? n : 1);
    if (m->closing) {
        g_free(ids);
        return;
    }
    for (i = 0; i < n; i++)
        ids[i] = ((watcher *)g_ptr_array_index(m->watchers, i))->id;
    for (i = 0; i < n; i++) {
        for (j = 0; j < m->watchers->len; j++) {
            watcher *w = g_ptr_array_index(m->watchers, j);
            if (w->id == ids[i]) {
                w->fn(w->user, path, e ? &e->pub : NULL);
                break;
            }
        }
    }
    g_free(ids);
}

static int compare_entries(gconstpointer a, gconstpointer b)
{
    const entry *x = *(const entry *const *)a, *y = *(const entry *const *)b;
    int c = g_utf8_collate(x->pub.name, y->pub.name);
    return c ? c : strcmp(x->pub.path, y->pub.path);
}

guint lk_model_watch(lk_model *m, lk_model_fn fn, gpointer user)
{
    watcher *w;
    g_return_val_if_fail(m && fn, 0);
    w = g_new0(watcher, 1);
    w->id = ++m->next_watch;
    w->fn = fn;
    w->user = user;
    g_ptr_array_add(m->watchers, w);
    return w->id;
}

void lk_model_unwatch(lk_model *m, guint id)
{
    guint i;
    if (!m)
        return;
    for (i = 0; i < m->watchers->len; i++) {
        watcher *w = g_ptr_array_index(m->watchers, i);
        if (w->id == id) {
            g_ptr_array_remove_index(m->watchers, i); /* frees w */
            return;
        }
    }
}

const lk_entry *const *lk_model_entries(lk_model *m, size_t *n)
{
    if (m->sorted_dirty) {
        GHashTableIter it;
        gpointer v;
        g_ptr_array_set_size(m->sorted, 0);
        g_hash_table_iter_init(&it, m->entries);
        while (g_hash_table_iter_next(&it, NULL, &v))
            g_ptr_array_add(m->sorted, v);
        g_ptr_array_sort(m->sorted, compare_entries);
        m->sorted_dirty = FALSE;
    }
    if (n)
        *n = m->sorted->len;
    return (const lk_entry *const *)m->sorted->pdata;
}

const lk_entry *lk_model_find(lk_model *m, const char *path)
{
    entry *e = m ? lk__model_lookup(m, path) : NULL;
    return e ? &e->pub : NULL;
}

/* ---- creating ------------------------------------------------------------- */

char *lk_model_create(lk_model *m, GError **error)
{
    char *root = lk__model_session_root(m), *path = NULL;
    int i;
    if (!root) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s",
                    _("There is no folder for new sessions (set one in the settings)."));
        return NULL;
    }
    if (g_mkdir_with_parents(root, 0700) != 0) {
        int err = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err),
                    _("Cannot create the folder %s: %s"), root, g_strerror(err));
        g_free(root);
        return NULL;
    }
    for (i = 0; i < 16; i++) {
        char id[9];
        char *name;
        g_snprintf(id, sizeof id, "%08x", g_random_int());
        name = g_strconcat("session-", id, NULL);
        path = g_build_filename(root, name, NULL);
        g_free(name);
        if (g_mkdir(path, 0700) == 0)
            break;
        if (errno != EEXIST) {
            int err = errno;
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err),
                        _("Cannot create the session folder %s: %s"), path, g_strerror(err));
            g_free(path);
            g_free(root);
            return NULL;
        }
        g_clear_pointer(&path, g_free);
    }
    g_free(root);
    if (!path) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS, "%s",
                    _("Cannot find a free name for a new session."));
        return NULL;
    }
    if (!lk__model_lookup(m, path)) {
        char *norm = lk__model_normalise(path);
        entry *e = lk__model_add_entry(m, norm, KIND_OWN);
        e->opened = TRUE;
        g_free(norm);
        lk__model_emit(m, NULL, NULL);
    }
    return path;
}

/* ---- life ----------------------------------------------------------------- */

static gboolean on_timer(gpointer user)
{
    lk_model_rescan(user);
    return G_SOURCE_CONTINUE;
}

lk_model *lk_model_new(lk_app *app)
{
    lk_model *m = g_new0(lk_model, 1);
    m->app = app;
    m->entries = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, entry_free);
    m->sorted = g_ptr_array_new();
    m->watchers = g_ptr_array_new_with_free_func(g_free);
    m->stopping = g_ptr_array_new_with_free_func((GDestroyNotify)lk__model_runner_unref);
    lk__model_scan_start(m);
    m->timer = g_timeout_add_seconds(SCAN_SECONDS, on_timer, m);
    return m;
}

void lk_model_free(lk_model *m)
{
    GHashTableIter it;
    gpointer v;
    if (!m)
        return;
    m->closing = TRUE;
    if (m->timer)
        g_source_remove(m->timer);
    m->timer = 0;
    g_hash_table_iter_init(&it, m->entries);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        entry *e = v;
        if (e->r) {
            runner *r = e->r;
            e->r = NULL;
            e->pub.running = 0;
            lk__model_runner_stop(m, r);
        }
    }
    /* Every browser the app started ends before this returns; their stops
     * (and any scan or take-over in flight) report on this thread. */
    while (m->stopping->len || m->tasks)
        g_main_context_iteration(NULL, TRUE);
    g_hash_table_destroy(m->entries);
    g_ptr_array_free(m->sorted, TRUE);
    g_ptr_array_free(m->watchers, TRUE);
    g_ptr_array_free(m->stopping, TRUE);
    g_free(m);
}
