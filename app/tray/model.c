/* model.c - the sessions the app knows, on the main thread.
 *
 * Two sources feed it. A scan (a GTask thread, every SCAN_SECONDS and on
 * request) finds the session folders under the watched roots and gives each
 * one its folder state from ONE process snapshot. The sessions the app runs
 * (a "runner" each, around a core lk_session) report every change on a core
 * thread; those reports are copied and marshalled here with
 * g_main_context_invoke before anything looks at them.
 *
 * Starting and stopping a core session can block for seconds (a DevTools
 * probe, Browser.close and the wait for the process tree), so both run on
 * GTask threads. A runner that replaces another (a restart) waits on its
 * thread until the previous one has stopped, so two browsers never fight
 * over one profile. lk_model_free stops every runner and waits for all of
 * them, so no browser the app started outlives it. */
#include "model.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "settings.h"

#include "latchkey/doctor.h"
#include "latchkey/path.h"
#include "latchkey/sys.h"

#define SCAN_SECONDS 10
#define STOP_TIMEOUT_MS 10000
#define KIND_OWN "latchkey"

/* ---- runners: one core session each -------------------------------------- */

typedef struct runner {
    gint refs;
    lk_model *m; /* main thread only; NULL once the model let go of it */
    char *path;
    char *chromium;
    gboolean headed;
    lk_cdp_loop *loop;
    struct runner *prev; /* stopped before this one starts (a restart) */

    GMutex mu; /* guards what follows; the threads and the main thread meet here */
    GCond cv;
    lk_session *s;
    gboolean start_done, stop_req, stopped;
    int busy; /* take-over calls using s */
    int start_rc;
    char start_msg[512];
} runner;

typedef struct entry {
    lk_entry pub;    /* first, so an entry is an lk_entry */
    char *key;       /* hash key: the path, case-folded where paths ignore case */
    runner *r;       /* the session the app runs for it, NULL when none */
    gboolean found;  /* the last scan found it under a watched root */
    gboolean opened; /* the app started or created it: kept while its folder exists */
} entry;

typedef struct watcher {
    guint id;
    lk_model_fn fn;
    gpointer user;
} watcher;

struct lk_model {
    lk_app *app;
    GHashTable *entries; /* key -> entry */
    GPtrArray *sorted;   /* entry, by name; rebuilt when dirty */
    gboolean sorted_dirty;
    GPtrArray *watchers;
    guint next_watch;
    guint timer;
    gboolean scanning, scan_again, closing;
    GPtrArray *stopping; /* runners being stopped (one reference each) */
    int tasks;           /* scan, start and take-over tasks in flight */
};

/* What a task's completion needs: the model outlives every task (free waits). */
typedef struct taskctx {
    lk_model *m;
    runner *r;
} taskctx;

static runner *runner_ref(runner *r)
{
    g_atomic_int_inc(&r->refs);
    return r;
}

static void runner_unref(runner *r)
{
    if (!r || !g_atomic_int_dec_and_test(&r->refs))
        return;
    if (r->prev)
        runner_unref(r->prev);
    g_free(r->path);
    g_free(r->chromium);
    g_mutex_clear(&r->mu);
    g_cond_clear(&r->cv);
    g_free(r);
}

static void taskctx_free(gpointer p)
{
    taskctx *t = p;
    if (t->r)
        runner_unref(t->r);
    g_free(t);
}

static taskctx *taskctx_new(lk_model *m, runner *r)
{
    taskctx *t = g_new0(taskctx, 1);
    t->m = m;
    t->r = r ? runner_ref(r) : NULL;
    m->tasks++;
    return t;
}

/* ---- paths and names ------------------------------------------------------ */

static int path_win(const char *p)
{
    (void)p;
    return lk_sys_path_win();
}

/* Absolute and lexically normalised; NULL when it cannot be made absolute. */
static char *normalise(const char *path)
{
    char *abs, *n, *out;
    if (!path || !*path)
        return NULL;
    abs = g_canonicalize_filename(path, NULL);
    n = lk_path_normalize(abs, path_win(abs));
    out = g_strdup(n ? n : abs);
    free(n);
    g_free(abs);
    return out;
}

static char *key_of(const char *norm)
{
    return path_win(norm) ? g_utf8_casefold(norm, -1) : g_strdup(norm);
}

static char *session_root(lk_model *m)
{
    lk_settings *s = m->app ? m->app->settings : NULL;
    char *r, *out;
    if (s && s->session_root && *s->session_root)
        return normalise(s->session_root);
    r = lk_default_session_root();
    out = r ? normalise(r) : NULL;
    free(r);
    return out;
}

/* "session-x" for a whatsapp-web.js or plain profile, "tokens/shop" for
 * wppconnect (its folder names alone say little). */
static char *name_of(const char *path, const char *kind)
{
    int win = path_win(path);
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

static entry *lookup(lk_model *m, const char *path)
{
    char *norm = normalise(path), *key;
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
    g_free(e->pub.path);
    g_free(e->pub.name);
    g_free(e->key);
    g_free(e);
}

/* Adds an entry for a normalised path (which must not have one). */
static entry *add_entry(lk_model *m, const char *norm, const char *kind)
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

static void emit(lk_model *m, const char *path, const entry *e)
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
    entry *e = m ? lookup(m, path) : NULL;
    return e ? &e->pub : NULL;
}

/* ---- core callbacks, marshalled ------------------------------------------ */

static char *dup_str(const char *s)
{
    size_t n;
    char *d;
    if (!s)
        return NULL;
    n = strlen(s) + 1;
    d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* A deep copy that lk_session_info_clear frees (malloc, like core). */
static void info_copy(lk_session_info *dst, const lk_session_info *src)
{
    *dst = *src;
    dst->qr = dup_str(src->qr);
    dst->url = dup_str(src->url);
    dst->version = dup_str(src->version);
    dst->qr_png = NULL;
    dst->qr_png_len = 0;
    if (src->qr_png && src->qr_png_len) {
        dst->qr_png = malloc(src->qr_png_len);
        if (dst->qr_png) {
            memcpy(dst->qr_png, src->qr_png, src->qr_png_len);
            dst->qr_png_len = src->qr_png_len;
        }
    }
}

typedef struct report {
    runner *r;
    lk_session_info info;
} report;

static void report_free(gpointer p)
{
    report *rep = p;
    lk_session_info_clear(&rep->info);
    runner_unref(rep->r);
    g_free(rep);
}

/* Main thread: a runner's news. */
static gboolean deliver(gpointer p)
{
    report *rep = p;
    runner *r = rep->r;
    lk_model *m = r->m;
    entry *e;
    if (!m || m->closing)
        return G_SOURCE_REMOVE;
    e = lookup(m, r->path);
    if (!e || e->r != r)
        return G_SOURCE_REMOVE; /* stopped or replaced since */
    lk_session_info_clear(&e->pub.info);
    e->pub.info = rep->info;
    memset(&rep->info, 0, sizeof rep->info);
    e->pub.seen_ms = g_get_real_time() / 1000;
    emit(m, e->pub.path, e);
    return G_SOURCE_REMOVE;
}

/* A core thread: copy and hand over. */
static void core_cb(void *user, const lk_session_info *info)
{
    report *rep = g_new0(report, 1);
    rep->r = runner_ref(user);
    info_copy(&rep->info, info);
    g_main_context_invoke_full(NULL, G_PRIORITY_DEFAULT, deliver, rep, report_free);
}

/* ---- starting and stopping (GTask threads) -------------------------------- */

static void wait_stopped(runner *r)
{
    g_mutex_lock(&r->mu);
    while (!r->stopped)
        g_cond_wait(&r->cv, &r->mu);
    g_mutex_unlock(&r->mu);
}

static void start_thread(GTask *task, gpointer src, gpointer data, GCancellable *cancel)
{
    taskctx *t = data;
    runner *r = t->r;
    lk_session *s = NULL;
    lk_error err;
    int rc = LK_OK;
    gboolean skip;

    lk_error_clear(&err);
    if (r->prev)
        wait_stopped(r->prev);
    g_mutex_lock(&r->mu);
    skip = r->stop_req;
    g_mutex_unlock(&r->mu);
    if (!skip) {
        lk_session_opts o;
        memset(&o, 0, sizeof o);
        o.loop = r->loop;
        o.profile = r->path;
        o.chromium = r->chromium;
        o.mode = LK_MODE_AUTO;
        o.headed = r->headed;
        rc = lk_session_start(&o, core_cb, r, &s, &err);
    }
    g_mutex_lock(&r->mu);
    r->s = s;
    r->start_rc = rc;
    g_strlcpy(r->start_msg, err.msg, sizeof r->start_msg);
    r->start_done = TRUE;
    g_cond_broadcast(&r->cv);
    g_mutex_unlock(&r->mu);
    g_task_return_boolean(task, TRUE);
}

static void start_done(GObject *src, GAsyncResult *res, gpointer user)
{
    taskctx *t = g_task_get_task_data(G_TASK(res));
    lk_model *m = t->m;
    runner *r = t->r;
    entry *e;
    m->tasks--;
    if (m->closing || r->start_rc == LK_OK || r->m != m)
        return;
    e = lookup(m, r->path);
    if (!e || e->r != r)
        return;
    /* Still listed as running, failed: the window says why and offers to
     * try again (lk_model_start restarts a runner that failed). */
    lk_session_info_clear(&e->pub.info);
    e->pub.info.state = LK_STATE_FAILED;
    e->pub.info.since_ms = g_get_real_time() / 1000;
    g_strlcpy(e->pub.info.reason, r->start_msg, sizeof e->pub.info.reason);
    g_strlcpy(e->pub.info.last_error, r->start_msg, sizeof e->pub.info.last_error);
    e->pub.seen_ms = e->pub.info.since_ms;
    emit(m, e->pub.path, e);
}

static void stop_thread(GTask *task, gpointer src, gpointer data, GCancellable *cancel)
{
    runner *r = data;
    lk_session *s;

    g_mutex_lock(&r->mu);
    while (!r->start_done)
        g_cond_wait(&r->cv, &r->mu);
    s = r->s;
    g_mutex_unlock(&r->mu);
    if (s)
        lk_session_stop(s, STOP_TIMEOUT_MS, NULL);
    g_mutex_lock(&r->mu);
    while (r->busy)
        g_cond_wait(&r->cv, &r->mu);
    r->s = NULL;
    g_mutex_unlock(&r->mu);
    lk_session_free(s);
    g_mutex_lock(&r->mu);
    r->stopped = TRUE;
    g_cond_broadcast(&r->cv);
    g_mutex_unlock(&r->mu);
    g_task_return_boolean(task, TRUE);
}

static void stop_done(GObject *src, GAsyncResult *res, gpointer user)
{
    runner *r = g_task_get_task_data(G_TASK(res));
    lk_model *m = r->m;
    r->m = NULL; /* reports still queued for it are dropped */
    if (m) {
        g_ptr_array_remove(m->stopping, r); /* drops the list's reference */
        if (!m->closing)
            lk_model_rescan(m); /* its folder is free now */
    }
}

/* Takes over the caller's reference to r. */
static void runner_stop(lk_model *m, runner *r)
{
    GTask *task;
    g_mutex_lock(&r->mu);
    r->stop_req = TRUE;
    g_mutex_unlock(&r->mu);
    g_ptr_array_add(m->stopping, r);
    task = g_task_new(NULL, NULL, stop_done, NULL);
    g_task_set_task_data(task, runner_ref(r), (GDestroyNotify)runner_unref);
    g_task_run_in_thread(task, stop_thread);
    g_object_unref(task);
}

/* A runner that is no use any more: it could not start, or core gave up. */
static gboolean runner_dead(const entry *e)
{
    runner *r = e->r;
    gboolean dead;
    g_mutex_lock(&r->mu);
    dead = r->start_done && r->start_rc != LK_OK;
    g_mutex_unlock(&r->mu);
    return dead || e->pub.info.state == LK_STATE_FAILED;
}

gboolean lk_model_start(lk_model *m, const char *path, GError **error)
{
    lk_settings *st = m->app ? m->app->settings : NULL;
    char *norm;
    entry *e;
    runner *r, *prev = NULL;
    taskctx *t;
    GTask *task;

    if (m->closing) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_CLOSED, "%s", _("Latchkey is quitting."));
        return FALSE;
    }
    norm = normalise(path);
    if (!norm) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "%s",
                    _("No session folder was given."));
        return FALSE;
    }
    if (g_file_test(norm, G_FILE_TEST_EXISTS) && !g_file_test(norm, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY,
                    _("%s is a file, not a session folder."), norm);
        g_free(norm);
        return FALSE;
    }
    if (g_mkdir_with_parents(norm, 0700) != 0) {
        int err = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err),
                    _("Cannot create the session folder %s: %s"), norm, g_strerror(err));
        g_free(norm);
        return FALSE;
    }
    e = lookup(m, norm);
    if (!e) {
        e = add_entry(m, norm, KIND_OWN);
        e->opened = TRUE;
        emit(m, NULL, NULL);
    }
    g_free(norm);
    e->opened = TRUE;
    if (e->r) {
        if (!runner_dead(e))
            return TRUE; /* already running */
        prev = e->r;
        e->r = NULL;
        runner_stop(m, runner_ref(prev));
        runner_unref(prev); /* the entry's reference; runner_stop took its own */
    }

    r = g_new0(runner, 1);
    r->refs = 1; /* the entry's */
    r->m = m;
    r->path = g_strdup(e->pub.path);
    r->chromium = st && st->chromium ? g_strdup(st->chromium) : NULL;
    r->headed = st ? st->headed : FALSE;
    r->loop = m->app ? m->app->loop : NULL;
    r->prev = prev ? runner_ref(prev) : NULL;
    g_mutex_init(&r->mu);
    g_cond_init(&r->cv);
    e->r = r;

    lk_session_info_clear(&e->pub.info);
    e->pub.running = 1;
    e->pub.info.state = LK_STATE_STARTING;
    e->pub.info.since_ms = e->pub.info.started_ms = e->pub.seen_ms = g_get_real_time() / 1000;

    t = taskctx_new(m, r);
    task = g_task_new(NULL, NULL, start_done, NULL);
    g_task_set_task_data(task, t, taskctx_free);
    g_task_run_in_thread(task, start_thread);
    g_object_unref(task);

    emit(m, e->pub.path, e);
    return TRUE;
}

void lk_model_stop(lk_model *m, const char *path)
{
    entry *e = m ? lookup(m, path) : NULL;
    runner *r;
    if (!e || !e->r)
        return;
    r = e->r;
    e->r = NULL;
    e->pub.running = 0;
    lk_session_info_clear(&e->pub.info);
    e->pub.info.state = LK_STATE_STOPPED;
    e->pub.info.since_ms = e->pub.seen_ms = g_get_real_time() / 1000;
    runner_stop(m, r);
    emit(m, e->pub.path, e);
}

/* ---- take over ------------------------------------------------------------ */

static void take_over_thread(GTask *task, gpointer src, gpointer data, GCancellable *cancel)
{
    taskctx *t = data;
    runner *r = t->r;
    lk_error err;
    int rc;
    lk_error_clear(&err);
    /* s stays alive: the stop thread waits for busy to drop before freeing. */
    rc = lk_session_take_over(r->s, &err);
    g_mutex_lock(&r->mu);
    r->busy--;
    g_cond_broadcast(&r->cv);
    g_mutex_unlock(&r->mu);
    if (rc == LK_OK)
        g_task_return_boolean(task, TRUE);
    else
        g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err.msg);
}

static void take_over_done(GObject *src, GAsyncResult *res, gpointer user)
{
    taskctx *t = g_task_get_task_data(G_TASK(res));
    lk_model *m = t->m;
    GError *err = NULL;
    entry *e;
    m->tasks--;
    if (g_task_propagate_boolean(G_TASK(res), &err) || m->closing) {
        g_clear_error(&err);
        return;
    }
    e = lookup(m, t->r->path);
    if (e && e->r == t->r) {
        g_strlcpy(e->pub.info.last_error, err->message, sizeof e->pub.info.last_error);
        emit(m, e->pub.path, e);
    }
    g_clear_error(&err);
}

gboolean lk_model_take_over(lk_model *m, const char *path, GError **error)
{
    entry *e = m && !m->closing ? lookup(m, path) : NULL;
    runner *r = e ? e->r : NULL;
    gboolean ok = FALSE;
    GTask *task;

    if (!r) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s",
                    _("Latchkey does not run this session."));
        return FALSE;
    }
    if (e->pub.info.state != LK_STATE_CONFLICT) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s",
                    _("WhatsApp is not open in another window; there is nothing to take over."));
        return FALSE;
    }
    g_mutex_lock(&r->mu);
    if (r->s && !r->stop_req) {
        r->busy++;
        ok = TRUE;
    }
    g_mutex_unlock(&r->mu);
    if (!ok) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", _("The session is not running."));
        return FALSE;
    }
    task = g_task_new(NULL, NULL, take_over_done, NULL);
    g_task_set_task_data(task, taskctx_new(m, r), taskctx_free);
    g_task_run_in_thread(task, take_over_thread);
    g_object_unref(task);
    return TRUE;
}

/* ---- creating ------------------------------------------------------------- */

char *lk_model_create(lk_model *m, GError **error)
{
    char *root = session_root(m), *path = NULL;
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
    if (!lookup(m, path)) {
        char *norm = normalise(path);
        entry *e = add_entry(m, norm, KIND_OWN);
        e->opened = TRUE;
        g_free(norm);
        emit(m, NULL, NULL);
    }
    return path;
}

/* ---- scanning (a GTask thread) -------------------------------------------- */

typedef struct scan_item {
    char *path;       /* normalised */
    const char *kind; /* interned; NULL for a folder the scan was asked about */
    lk_folder_state folder;
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
    for (i = 0; j->items && i < j->items->len; i++)
        g_free(g_array_index(j->items, scan_item, i).path);
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
        if (lk_path_equal(g_array_index(items, scan_item, i).path, path, path_win(path)))
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
            scan_item it;
            char *norm = normalise(found[k].path);
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
        scan_item it;
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
            else if (lk_doctor_holders(snap, it->path, &h, NULL) == LK_OK)
                it->folder = lk_folder_state_of(h);
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

static void scan_start(lk_model *m);

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
        entry *e = lookup(m, si->path);
        if (!e && !si->kind)
            continue; /* asked about, forgotten since */
        if (!e) {
            gboolean own =
                j->session_root && lk_path_within(j->session_root, si->path, path_win(si->path));
            e = add_entry(m, si->path, own ? KIND_OWN : si->kind);
            list_changed = TRUE;
        }
        if (si->kind)
            e->found = TRUE;
        if (j->have_states || si->folder == LK_FOLDER_MISSING) {
            if (e->pub.folder != si->folder)
                g_ptr_array_add(changed, g_strdup(e->key));
            e->pub.folder = si->folder;
            e->pub.seen_ms = g_get_real_time() / 1000;
        }
    }

    /* Forget what is gone: not found, not running, and not a folder the app
     * opened that still exists. */
    g_hash_table_iter_init(&it, m->entries);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        entry *e = v;
        if (e->found || e->r || (e->opened && e->pub.folder != LK_FOLDER_MISSING))
            continue;
        g_hash_table_iter_remove(&it);
        list_changed = TRUE;
    }
    if (list_changed) {
        m->sorted_dirty = TRUE;
        emit(m, NULL, NULL);
    }
    for (i = 0; i < changed->len; i++) {
        entry *e = g_hash_table_lookup(m->entries, g_ptr_array_index(changed, i));
        if (e)
            emit(m, e->pub.path, e);
    }
    g_ptr_array_free(changed, TRUE);
    if (m->scan_again) {
        m->scan_again = FALSE;
        scan_start(m);
    }
}

static void add_root(GPtrArray *roots, const char *root)
{
    char *norm = normalise(root);
    guint i;
    if (!norm)
        return;
    for (i = 0; i < roots->len; i++) {
        if (lk_path_equal(g_ptr_array_index(roots, i), norm, path_win(norm))) {
            g_free(norm);
            return;
        }
    }
    g_ptr_array_add(roots, norm);
}

static void scan_start(lk_model *m)
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
    j->session_root = session_root(m);
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
        scan_start(m);
}

static gboolean on_timer(gpointer user)
{
    lk_model_rescan(user);
    return G_SOURCE_CONTINUE;
}

/* ---- life ----------------------------------------------------------------- */

lk_model *lk_model_new(lk_app *app)
{
    lk_model *m = g_new0(lk_model, 1);
    m->app = app;
    m->entries = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, entry_free);
    m->sorted = g_ptr_array_new();
    m->watchers = g_ptr_array_new_with_free_func(g_free);
    m->stopping = g_ptr_array_new_with_free_func((GDestroyNotify)runner_unref);
    scan_start(m);
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
            runner_stop(m, r);
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
