/* model_runner.c - the sessions the app runs: one runner each, around a
 * core lk_session, started and stopped on GTask threads.
 *
 * Starting and stopping a core session can block for seconds (a DevTools
 * probe, Browser.close and the wait for the process tree), so both run on
 * GTask threads. A runner that replaces another (a restart) waits on its
 * thread until the previous one has stopped, so two browsers never fight
 * over one profile. Core's reports arrive on a core thread and are copied
 * and marshalled with g_main_context_invoke. */
#include "model_private.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "settings.h"

#include "latchkey/owner.h"
#include "latchkey/sys.h"

static runner *runner_ref(runner *r)
{
    g_atomic_int_inc(&r->refs);
    return r;
}

void lk__model_runner_unref(runner *r)
{
    if (!r || !g_atomic_int_dec_and_test(&r->refs))
        return;
    if (r->prev)
        lk__model_runner_unref(r->prev);
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
        lk__model_runner_unref(t->r);
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
    lk__model_runner_unref(rep->r);
    g_free(rep);
}

/* What the row says of a session that stood down. */
char *lk__model_stood_down_text(const lk_session_info *in)
{
    const lk_owner_stop *st = &in->stopped_by;
    if (!st->action[0])
        return g_strdup(_("Folder removed; not restarted"));
    if (in->folder_removed)
        /* TRANSLATORS: the program and its command, e.g. "latchkeyctl cleanup" */
        return g_strdup_printf(_("Removed by %s %s (pid %ld)"), st->by, st->action, st->pid);
    /* TRANSLATORS: the program and its command, e.g. "latchkeyctl stop" */
    return g_strdup_printf(_("Stopped by %s %s (pid %ld)"), st->by, st->action, st->pid);
}

/* Main thread: someone else stopped, unlocked or removed the folder on
 * purpose, and core stood down. The app lets go of the session (its
 * browser, if it had one, is gone) and the row says who did it. */
static void stand_down(lk_model *m, entry *e, lk_session_info *in)
{
    runner *r = e->r;
    e->r = NULL;
    e->pub.running = 0;
    g_free(e->pub.stood_down);
    e->pub.stood_down = lk__model_stood_down_text(in);
    lk_session_info_clear(&e->pub.info);
    e->pub.info = *in;
    memset(in, 0, sizeof *in);
    /* The lost connection was the stop itself, not an error to report. */
    e->pub.info.last_error[0] = '\0';
    if (e->pub.info.folder_removed)
        e->pub.folder = LK_FOLDER_MISSING;
    e->pub.seen_ms = g_get_real_time() / 1000;
    lk__model_runner_stop(m, r); /* takes over the entry's reference */
    lk__model_emit(m, e->pub.path, e);
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
    e = lk__model_lookup(m, r->path);
    if (!e || e->r != r)
        return G_SOURCE_REMOVE; /* stopped or replaced since */
    if (rep->info.stood_down) {
        stand_down(m, e, &rep->info);
        return G_SOURCE_REMOVE;
    }
    lk_session_info_clear(&e->pub.info);
    e->pub.info = rep->info;
    memset(&rep->info, 0, sizeof rep->info);
    e->pub.seen_ms = g_get_real_time() / 1000;
    lk__model_emit(m, e->pub.path, e);
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
        /* The user starts it: an earlier stop, unlock or cleanup of the
         * folder no longer stands in the way. */
        lk_owner_clear_stop(r->path);
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
    e = lk__model_lookup(m, r->path);
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
    lk__model_emit(m, e->pub.path, e);
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
    /* Before its browser is signalled, as every deliberate stop: a CLI
     * link or qr following the same folder stands down too. */
    if (r->mark_stop)
        lk_owner_mark_stop(r->path, "stop", NULL);
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
void lk__model_runner_stop(lk_model *m, runner *r)
{
    GTask *task;
    g_mutex_lock(&r->mu);
    r->stop_req = TRUE;
    g_mutex_unlock(&r->mu);
    g_ptr_array_add(m->stopping, r);
    task = g_task_new(NULL, NULL, stop_done, NULL);
    g_task_set_task_data(task, runner_ref(r), (GDestroyNotify)lk__model_runner_unref);
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
    norm = lk__model_normalise(path);
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
    e = lk__model_lookup(m, norm);
    if (!e) {
        e = lk__model_add_entry(m, norm, KIND_OWN);
        e->opened = TRUE;
        lk__model_emit(m, NULL, NULL);
    }
    g_free(norm);
    e->opened = TRUE;
    g_clear_pointer(&e->pub.stood_down, g_free);
    if (e->r) {
        if (!runner_dead(e))
            return TRUE; /* already running */
        prev = e->r;
        e->r = NULL;
        lk__model_runner_stop(m, runner_ref(prev));
        lk__model_runner_unref(prev); /* the entry's reference; runner_stop took its own */
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

    lk__model_emit(m, e->pub.path, e);
    return TRUE;
}

void lk_model_stop(lk_model *m, const char *path)
{
    entry *e = m ? lk__model_lookup(m, path) : NULL;
    runner *r;
    if (!e || !e->r)
        return;
    r = e->r;
    e->r = NULL;
    e->pub.running = 0;
    /* Only a browser the app runs is ended; an attached bot's is left alone
     * (the app just stops watching), so there is nothing to record. */
    r->mark_stop = !e->pub.info.attached;
    lk_session_info_clear(&e->pub.info);
    e->pub.info.state = LK_STATE_STOPPED;
    e->pub.info.since_ms = e->pub.seen_ms = g_get_real_time() / 1000;
    lk__model_runner_stop(m, r);
    lk__model_emit(m, e->pub.path, e);
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
    e = lk__model_lookup(m, t->r->path);
    if (e && e->r == t->r) {
        g_strlcpy(e->pub.info.last_error, err->message, sizeof e->pub.info.last_error);
        lk__model_emit(m, e->pub.path, e);
    }
    g_clear_error(&err);
}

gboolean lk_model_take_over(lk_model *m, const char *path, GError **error)
{
    entry *e = m && !m->closing ? lk__model_lookup(m, path) : NULL;
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
