/* doctor_dialog.c - the lock doctor dialog: what holds a session folder, and
 * two buttons: Unlock (keep login), which ends exactly those processes and
 * removes only the lock files, and Delete session, which also removes the
 * folder.
 *
 * Everything here runs on the main thread except the two jobs (the scan and
 * the cleanup), which run on GTask threads and only call core. Core's
 * progress callback arrives on the job's thread and is marshalled back with
 * g_main_context_invoke before it touches a widget.
 *
 * The scan is core's own dry run (lk_doctor_cleanup with LK_CLEAN_DRY_RUN):
 * the guard rails, the holders and the plan shown are what the buttons act
 * on. The processes shown (pid and start time) are handed to core as the
 * approved plan: a process that starts holding the folder after the plan was
 * shown is reported, never ended. Words live in doctor_text.c. */
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "doctor_layout.h"
#include "doctor_text.h"
#include "i18n.h"
#include "model.h"
#include "settings.h"

#include "latchkey/doctor.h"
#include "latchkey/path.h"

#define REGISTRY_KEY "lk-doctor-dialogs"
#define TICK_MS 100

typedef struct doctor {
    gint refs;
    lk_app *app;
    char *path; /* absolute: what is scanned and cleaned, and the registry key */
    char *name; /* its last component, for the title */
    lk_doctor_widgets w; /* w.win is NULL once the window is gone */
    char *step; /* the latest phase core reported, untranslated */
    const char *busy_title;
    int64_t started_us;
    guint tick;
    gboolean busy;
    gboolean stopped; /* the app was following this session and stopped */
    lk_approved *plan; /* the processes the plan showed: all the buttons may end */
    size_t nplan;
} doctor;

/* What a job hands back to the main thread. */
typedef enum job_kind { JOB_SCAN, JOB_UNLOCK, JOB_DELETE } job_kind;

typedef struct job {
    doctor *d;
    job_kind kind;
    lk_approved *plan; /* a copy: the job's thread reads it */
    size_t nplan;
    char **roots; /* the watched folders, a copy */
    int rc;
    lk_error err;
    lk_cleanup *report; /* the dry run's plan, or the cleanup's report */
    lk_holders *info;   /* for a refused folder: its holders, for information */
} job;

static doctor *doctor_ref(doctor *d)
{
    g_atomic_int_inc(&d->refs);
    return d;
}

/* Main thread only: the last reference may free widgets' companions. */
static void doctor_unref(doctor *d)
{
    if (!g_atomic_int_dec_and_test(&d->refs))
        return;
    if (d->tick)
        g_source_remove(d->tick);
    g_clear_object(&d->w.store);
    g_free(d->plan);
    g_free(d->step);
    g_free(d->path);
    g_free(d->name);
    g_free(d);
}

static GHashTable *registry(lk_app *app)
{
    GObject *owner = G_OBJECT(app->gtk);
    GHashTable *t = g_object_get_data(owner, REGISTRY_KEY);
    if (!t) {
        t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_object_set_data_full(owner, REGISTRY_KEY, t, (GDestroyNotify)g_hash_table_unref);
    }
    return t;
}

static void set_title(doctor *d, const char *state)
{
    char *t;
    if (!d->w.win)
        return;
    t = state ? g_strdup_printf(_("Lock doctor — %s — %s"), d->name, state)
              : g_strdup_printf(_("Lock doctor — %s"), d->name);
    gtk_window_set_title(GTK_WINDOW(d->w.win), t);
    g_free(t);
}

static void label_markup_bold(GtkWidget *label, const char *text)
{
    char *m = g_markup_printf_escaped("<b>%s</b>", text);
    gtk_label_set_markup(GTK_LABEL(label), m);
    g_free(m);
}

/* ---- busy state --------------------------------------------------------- */

static gboolean on_tick(gpointer user)
{
    doctor *d = user;
    double secs = (double)(g_get_monotonic_time() - d->started_us) / G_USEC_PER_SEC;
    char *t;
    if (!d->w.win)
        return G_SOURCE_CONTINUE;
    gtk_progress_bar_pulse(GTK_PROGRESS_BAR(d->w.progress));
    t = g_strdup_printf(_("%s… (%.0f s)"), d->step ? lk_doctor_step_text(d->step) : _("starting"),
                        secs);
    gtk_label_set_text(GTK_LABEL(d->w.phase), t);
    g_free(t);
    return G_SOURCE_CONTINUE;
}

static void set_busy(doctor *d, gboolean busy)
{
    d->busy = busy;
    if (busy) {
        d->started_us = g_get_monotonic_time();
        g_clear_pointer(&d->step, g_free);
        if (!d->tick)
            d->tick = g_timeout_add(TICK_MS, on_tick, d);
        g_application_hold(G_APPLICATION(d->app->gtk));
    } else {
        if (d->tick)
            g_source_remove(d->tick);
        d->tick = 0;
        g_application_release(G_APPLICATION(d->app->gtk));
    }
    if (d->w.win) {
        gtk_widget_set_sensitive(d->w.rescan, !busy);
        if (busy) {
            gtk_widget_set_sensitive(d->w.kill, FALSE);
            gtk_widget_set_sensitive(d->w.unlock, FALSE);
        }
        if (busy)
            gtk_spinner_start(GTK_SPINNER(d->w.spinner));
        else
            gtk_spinner_stop(GTK_SPINNER(d->w.spinner));
    }
}

typedef struct step_msg {
    doctor *d;
    char *step;
} step_msg;

static gboolean step_on_main(gpointer user)
{
    step_msg *m = user;
    if (m->d->busy) {
        g_free(m->d->step);
        m->d->step = m->step;
        m->step = NULL;
        if (m->d->w.win) {
            char *t = g_strdup_printf("%s…", lk_doctor_step_text(m->d->step));
            gtk_label_set_text(GTK_LABEL(m->d->w.scan_label), t);
            g_free(t);
        }
    }
    return G_SOURCE_REMOVE;
}

static void step_free(gpointer user)
{
    step_msg *m = user;
    doctor_unref(m->d);
    g_free(m->step);
    g_free(m);
}

/* Core's progress callback: on the job's thread. */
static void on_step(void *user, const char *step)
{
    step_msg *m = g_new0(step_msg, 1);
    m->d = doctor_ref(user);
    m->step = g_strdup(step);
    g_main_context_invoke_full(NULL, G_PRIORITY_DEFAULT, step_on_main, m, step_free);
}

/* ---- the jobs (GTask threads: core calls only) -------------------------- */

static void job_free(gpointer p)
{
    job *j = p;
    g_free(j->plan);
    g_strfreev(j->roots);
    lk_cleanup_free(j->report);
    lk_holders_free(j->info);
    g_free(j);
}

static void run_job(GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
    job *j = data;
    lk_cleanup_opts o;
    (void)source;
    (void)cancel;
    memset(&o, 0, sizeof o);
    o.flags = j->kind == JOB_SCAN ? LK_CLEAN_DRY_RUN : 0;
    o.progress = on_step;
    o.progress_user = j->d;
    o.roots = (const char *const *)j->roots;
    if (j->kind != JOB_SCAN) {
        /* Only what the plan showed; a newcomer is reported, not ended. */
        o.approved = j->plan;
        o.napproved = j->nplan;
    }
    lk_error_clear(&j->err);
    if (j->kind == JOB_UNLOCK)
        j->rc = lk_doctor_unlock(j->d->path, &o, &j->report, &j->err);
    else
        j->rc = lk_doctor_cleanup(j->d->path, &o, &j->report, &j->err);
    if (j->kind == JOB_SCAN && j->rc == LK_EREFUSED && j->report &&
        lk_sys_ftype(j->report->path) == LK_FT_DIR) {
        /* Refused, but people still want to know what holds it. */
        lk_snapshot *snap = NULL;
        if (lk_sys_snapshot(&snap, LK_SNAP_HANDLES, NULL) == LK_OK)
            lk_doctor_holders(snap, j->report->path, &j->info, NULL);
        lk_snapshot_free(snap);
    }
    g_task_return_boolean(task, TRUE);
}

static void job_done(GObject *source, GAsyncResult *res, gpointer user);

static void start_job(doctor *d, job_kind kind)
{
    job *j = g_new0(job, 1);
    GTask *task;
    j->d = doctor_ref(d);
    j->kind = kind;
    j->plan = d->nplan ? g_memdup2(d->plan, d->nplan * sizeof *d->plan) : NULL;
    j->nplan = d->nplan;
    j->roots = d->app->settings ? g_strdupv(d->app->settings->roots) : NULL;
    set_busy(d, TRUE);
    task = g_task_new(NULL, NULL, job_done, NULL);
    g_task_set_task_data(task, j, NULL);
    g_task_run_in_thread(task, run_job);
    g_object_unref(task);
}

/* ---- the views ---------------------------------------------------------- */

static void add_row(doctor *d, const lk_holders *h, const lk_holder *hd)
{
    GtkTreeIter it;
    char *pid = g_strdup_printf("%ld", hd->proc.pid);
    char *holds = lk_doctor_holds_text(h, hd);
    char *action =
        hd->killable ? g_strdup(_("will be ended")) : g_strdup_printf(_("spared: %s"), hd->why_not);
    gtk_list_store_append(d->w.store, &it);
    gtk_list_store_set(d->w.store, &it, COL_ICON, lk_doctor_kind_icon(hd->kind), COL_NAME,
                       hd->proc.name ? hd->proc.name : "?", COL_PID, pid, COL_USER,
                       hd->proc.user ? hd->proc.user : _("unknown"), COL_HOLDS, holds, COL_KIND,
                       lk_doctor_kind_text(hd->kind), COL_ACTION, action, -1);
    g_free(pid);
    g_free(holds);
    g_free(action);
}

static void show_holders(doctor *d, const lk_holders *h)
{
    size_t i;
    char *det;
    gtk_list_store_clear(d->w.store);
    if (!h) {
        gtk_widget_hide(d->w.scroll);
        gtk_widget_hide(d->w.details);
        return;
    }
    for (i = 0; i < h->nholders; i++)
        add_row(d, h, &h->holders[i]);
    gtk_widget_set_visible(d->w.scroll, h->nholders > 0);
    det = lk_doctor_details_text(h);
    gtk_label_set_text(GTK_LABEL(d->w.details), det);
    gtk_widget_set_visible(d->w.details, det[0] != '\0');
    g_free(det);
}

/* Keeps what the plan showed: the buttons end these processes, no others. */
static void keep_plan(doctor *d, const lk_holders *h)
{
    size_t i;
    g_clear_pointer(&d->plan, g_free);
    d->nplan = 0;
    if (!h || h->nholders == 0)
        return;
    d->plan = g_new0(lk_approved, h->nholders);
    for (i = 0; i < h->nholders; i++) {
        d->plan[d->nplan].pid = h->holders[i].proc.pid;
        d->plan[d->nplan++].start_id = h->holders[i].proc.start_id;
    }
}

/* What the scan found: the plan, or why there is nothing to do. */
static void show_plan(doctor *d, job *j)
{
    const lk_cleanup *c = j->report;
    char *head = NULL, *state = NULL;
    gboolean can_act = FALSE;

    keep_plan(d, NULL);
    gtk_label_set_text(GTK_LABEL(d->w.where), c ? c->path : d->path);
    if (!c) {
        head = g_strdup_printf(_("The scan failed: %s"), j->err.msg);
        state = g_strdup(_("scan failed"));
        show_holders(d, NULL);
    } else if (c->result == LK_RESULT_ALREADY_CLEAN) {
        head = g_strdup_printf(_("%s does not exist: already clean. Nothing to do."), d->name);
        state = g_strdup(_("already clean"));
        show_holders(d, NULL);
    } else if (c->result == LK_RESULT_REFUSED) {
        /* No "any folder" switch here, on purpose: these buttons are for
         * support people fixing a locked session in one click, and a click
         * must never be able to wipe a home, system or ordinary folder.
         * Those who are sure can type `latchkeyctl ... --any-folder`. */
        head = g_strdup_printf(
            "%s\n%s\n%s", _("Latchkey will not touch this folder, so the buttons are off."),
            c->message ? c->message : j->err.msg,
            _("Only a bot's session folders are fixed from here (session-*, .wwebjs_auth, "
              "tokens, Latchkey's own and the watched folders); anything else needs latchkeyctl "
              "with --any-folder in a terminal."));
        state = g_strdup(_("refused"));
        show_holders(d, j->info);
    } else {
        head = lk_doctor_plan_text(c, d->name, &state);
        show_holders(d, c->before);
        keep_plan(d, c->before);
        can_act = TRUE;
    }
    gtk_label_set_text(GTK_LABEL(d->w.headline), head);
    gtk_widget_set_sensitive(d->w.unlock, can_act);
    gtk_widget_set_sensitive(d->w.kill, can_act);
    if (can_act)
        gtk_widget_grab_focus(d->w.unlock);
    else
        gtk_widget_grab_focus(d->w.close);
    gtk_stack_set_visible_child_name(GTK_STACK(d->w.stack), "plan");
    set_title(d, state);
    g_free(head);
    g_free(state);
}

static void show_result(doctor *d, job *j)
{
    char *head = NULL, *state = NULL, *body = NULL;
    if (!j->report) {
        head = g_strdup_printf(j->kind == JOB_UNLOCK ? _("Unlock failed: %s")
                                                      : _("Delete session failed: %s"),
                               j->err.msg);
        state = g_strdup(_("failed"));
        body = g_strdup("");
    } else {
        body = lk_doctor_result_text(j->report, d->name, d->stopped, &head, &state);
    }
    label_markup_bold(d->w.result_head, head);
    gtk_label_set_text(GTK_LABEL(d->w.result_text), body);
    gtk_widget_set_sensitive(d->w.kill, FALSE);
    gtk_widget_set_sensitive(d->w.unlock, FALSE);
    gtk_stack_set_visible_child_name(GTK_STACK(d->w.stack), "result");
    gtk_widget_grab_focus(d->w.close);
    set_title(d, state);
    g_free(body);
    g_free(head);
    g_free(state);
}

static void job_done(GObject *source, GAsyncResult *res, gpointer user)
{
    GTask *task = G_TASK(res);
    job *j = g_task_get_task_data(task);
    doctor *d = j->d;
    (void)source;
    (void)user;
    set_busy(d, FALSE);
    if (d->w.win) {
        if (j->kind != JOB_SCAN)
            show_result(d, j);
        else
            show_plan(d, j);
        /* Closed while it worked: it was only hidden, so the work finished
         * and was reported; now it can go. */
        if (!gtk_widget_get_visible(d->w.win))
            gtk_widget_destroy(d->w.win);
    }
    if (j->kind != JOB_SCAN && d->app->model)
        lk_model_rescan(d->app->model);
    doctor_unref(d);
    job_free(j);
}

static void scan(doctor *d)
{
    gtk_label_set_text(GTK_LABEL(d->w.scan_label), _("Looking for what holds the folder…"));
    gtk_stack_set_visible_child_name(GTK_STACK(d->w.stack), "scan");
    set_title(d, _("scanning"));
    start_job(d, JOB_SCAN);
}

/* ---- buttons and window ------------------------------------------------- */

static void act(doctor *d, job_kind kind)
{
    if (d->busy)
        return;
    /* A session the app follows would restart its browser; stop following
     * it first. Its browser is a Chromium of this profile, so the cleanup
     * ends it whether or not the stop has finished. */
    d->stopped = FALSE;
    if (d->app->model) {
        const lk_entry *e = lk_model_find(d->app->model, d->path);
        d->stopped = e && e->running;
        if (d->stopped)
            lk_model_stop(d->app->model, d->path);
    }
    gtk_progress_bar_set_fraction(GTK_PROGRESS_BAR(d->w.progress), 0.0);
    gtk_label_set_text(GTK_LABEL(d->w.phase), _("starting…"));
    gtk_stack_set_visible_child_name(GTK_STACK(d->w.stack), "work");
    set_title(d, kind == JOB_UNLOCK ? _("unlocking") : _("cleaning"));
    start_job(d, kind);
}

static void on_unlock(GtkButton *b, gpointer user)
{
    (void)b;
    act(user, JOB_UNLOCK);
}

static void on_kill(GtkButton *b, gpointer user)
{
    (void)b;
    act(user, JOB_DELETE);
}

static void on_rescan(GtkButton *b, gpointer user)
{
    doctor *d = user;
    (void)b;
    if (!d->busy)
        scan(d);
}

static void on_close(GtkButton *b, gpointer user)
{
    doctor *d = user;
    (void)b;
    if (d->busy)
        gtk_widget_hide(d->w.win);
    else
        gtk_widget_destroy(d->w.win);
}

static gboolean on_key(GtkWidget *w, GdkEventKey *ev, gpointer user)
{
    (void)w;
    if (ev->keyval != GDK_KEY_Escape)
        return FALSE;
    on_close(NULL, user);
    return TRUE;
}

/* Closing while a job runs only hides the window: a cleanup that was
 * started finishes, and presenting the doctor again shows it. */
static gboolean on_delete(GtkWidget *w, GdkEvent *ev, gpointer user)
{
    doctor *d = user;
    (void)ev;
    if (!d->busy)
        return FALSE;
    gtk_widget_hide(w);
    return TRUE;
}

static void on_destroy(GtkWidget *w, gpointer user)
{
    doctor *d = user;
    (void)w;
    g_hash_table_remove(registry(d->app), d->path);
    d->w.win = NULL;
    doctor_unref(d);
}

void lk_doctor_dialog_present(lk_app *app, GtkWindow *parent, const char *path)
{
    GHashTable *reg;
    doctor *d;
    char *abs = NULL;
    lk_error err;

    if (!app)
        app = lk_app_get();
    g_return_if_fail(app && app->gtk && path && *path);
    lk_error_clear(&err);
    if (lk_sys_abspath(path, &abs, &err) != LK_OK) {
        g_warning("lock doctor: %s", err.msg);
        return;
    }
    reg = registry(app);
    d = g_hash_table_lookup(reg, abs);
    if (d) {
        free(abs);
        gtk_widget_show(d->w.win);
        gtk_window_present(GTK_WINDOW(d->w.win));
        return;
    }
    d = g_new0(doctor, 1);
    d->refs = 1; /* the window's */
    d->app = app;
    d->path = g_strdup(abs);
    d->name = g_strdup(lk_path_base(abs, lk_sys_path_win()));
    if (!d->name[0]) {
        g_free(d->name);
        d->name = g_strdup(abs);
    }
    free(abs);
    lk_doctor_layout(&d->w, parent);
    g_signal_connect(d->w.unlock, "clicked", G_CALLBACK(on_unlock), d);
    g_signal_connect(d->w.kill, "clicked", G_CALLBACK(on_kill), d);
    g_signal_connect(d->w.rescan, "clicked", G_CALLBACK(on_rescan), d);
    g_signal_connect(d->w.close, "clicked", G_CALLBACK(on_close), d);
    g_signal_connect(d->w.win, "delete-event", G_CALLBACK(on_delete), d);
    g_signal_connect(d->w.win, "key-press-event", G_CALLBACK(on_key), d);
    g_signal_connect(d->w.win, "destroy", G_CALLBACK(on_destroy), d);
    g_hash_table_insert(reg, g_strdup(d->path), d);
    gtk_application_add_window(app->gtk, GTK_WINDOW(d->w.win));
    scan(d);
    gtk_window_present(GTK_WINDOW(d->w.win));
}
