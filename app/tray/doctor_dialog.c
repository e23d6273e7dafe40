/* doctor_dialog.c - the lock doctor dialog: what holds a session folder, and
 * one button that ends exactly those processes and removes the folder.
 *
 * Everything here runs on the main thread except the two jobs (the scan and
 * the cleanup), which run on GTask threads and only call core. Core's
 * progress callback arrives on the job's thread and is marshalled back with
 * g_main_context_invoke before it touches a widget.
 *
 * The scan is core's own dry run (lk_doctor_cleanup with LK_CLEAN_DRY_RUN):
 * the guard rails, the holders and the plan shown are exactly what the button
 * will act on, and nothing is decided twice. */
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "i18n.h"
#include "model.h"

#include "latchkey/doctor.h"
#include "latchkey/path.h"

#define REGISTRY_KEY "lk-doctor-dialogs"
#define TICK_MS 100

enum { COL_ICON, COL_NAME, COL_PID, COL_USER, COL_HOLDS, COL_KIND, COL_ACTION, N_COLS };

typedef struct doctor {
    gint refs;
    lk_app *app;
    char *path;     /* absolute: what is scanned and cleaned, and the registry key */
    char *name;     /* its last component, for the title */
    GtkWidget *win; /* NULL once the window is gone */
    GtkWidget *stack;
    GtkWidget *spinner;
    GtkWidget *scan_label;
    GtkWidget *headline;
    GtkWidget *where;
    GtkWidget *scroll;
    GtkListStore *store;
    GtkWidget *details;
    GtkWidget *progress;
    GtkWidget *phase;
    GtkWidget *result_head;
    GtkWidget *result_text;
    GtkWidget *kill;
    GtkWidget *rescan;
    GtkWidget *close;
    char *step; /* the latest phase core reported, untranslated */
    const char *busy_title;
    int64_t started_us;
    guint tick;
    gboolean busy;
    gboolean stopped; /* the app was following this session and stopped */
} doctor;

/* What a job hands back to the main thread. */
typedef struct job {
    doctor *d;
    gboolean clean; /* the cleanup, not the scan */
    int rc;
    lk_error err;
    lk_cleanup *report; /* the dry run's plan, or the cleanup's report */
    lk_holders *info;   /* for a refused folder: its holders, for information */
} job;

/* The phases core reports, so they are translated (core itself speaks only
 * English); an unknown phase is shown as it comes. */
static const char *const core_steps[] = {
    N_("looking for processes that hold the folder"),
    N_("asking the holders to exit"),
    N_("ending the holders that did not exit"),
    N_("removing the folder"),
    N_("moving what is left aside"),
    N_("checking that nothing holds it any more"),
};

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
    g_clear_object(&d->store);
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

/* ---- text helpers ------------------------------------------------------- */

static const char *translated_step(const char *step)
{
    size_t i;
    for (i = 0; i < G_N_ELEMENTS(core_steps); i++)
        if (strcmp(step, core_steps[i]) == 0)
            return _(core_steps[i]);
    return step;
}

static const char *kind_icon(lk_kind k)
{
    switch (k) {
    case LK_KIND_CHROMIUM_BROWSER:
    case LK_KIND_CHROMIUM_CHILD: return "web-browser-symbolic";
    case LK_KIND_NODE: return "utilities-terminal-symbolic";
    case LK_KIND_EXPLORER: return "system-file-manager-symbolic";
    case LK_KIND_SYSTEM: return "emblem-system-symbolic";
    case LK_KIND_OTHER:
    case LK_KIND_DESCENDANT: break;
    }
    return "application-x-executable-symbolic";
}

static const char *kind_text(lk_kind k)
{
    switch (k) {
    case LK_KIND_CHROMIUM_BROWSER: return _("Chromium of this profile");
    case LK_KIND_CHROMIUM_CHILD: return _("Chromium helper process");
    case LK_KIND_NODE: return _("Node.js");
    case LK_KIND_EXPLORER: return _("File Explorer");
    case LK_KIND_SYSTEM: return _("system process");
    case LK_KIND_DESCENDANT: return _("program the browser started");
    case LK_KIND_OTHER: break;
    }
    return _("other program");
}

static const char *how_text(lk_how how)
{
    switch (how) {
    case LK_HOW_FILE: return _("open file");
    case LK_HOW_CWD: return _("current folder");
    case LK_HOW_ROOT: return _("root folder");
    case LK_HOW_EXE: return _("runs from it");
    case LK_HOW_MAP: return _("mapped in memory");
    case LK_HOW_MODULE: return _("loaded module");
    case LK_HOW_RM: return _("in use (Restart Manager)");
    }
    return "?";
}

/* A held path shown relative to the folder, which the title already names. */
static const char *relative(const lk_holders *h, const char *path)
{
    const char *bases[2];
    size_t i;
    bases[0] = h->real;
    bases[1] = h->path;
    for (i = 0; i < 2; i++) {
        size_t n;
        int win;
        if (!bases[i])
            continue;
        win = lk_sys_path_win();
        if (!lk_path_within(bases[i], path, win))
            continue;
        n = strlen(bases[i]);
        while (n > 0 && lk_path_is_sep(bases[i][n - 1], win))
            n--;
        if (strlen(path) <= n + 1)
            return ".";
        return path + n + 1;
    }
    return path;
}

static char *holds_text(const lk_holders *h, const lk_holder *hd)
{
    GString *s = g_string_new(NULL);
    size_t i;
    const size_t max = 6;
    if (hd->nheld == 0)
        g_string_append(s, _("runs Chromium on this profile"));
    for (i = 0; i < hd->nheld && i < max; i++)
        g_string_append_printf(s, "%s%s (%s)", i ? "\n" : "", relative(h, hd->held[i].path),
                               how_text(hd->held[i].how));
    if (hd->nheld > max) {
        g_string_append_c(s, '\n');
        g_string_append_printf(s, ngettext("… and %zu more", "… and %zu more", hd->nheld - max),
                               hd->nheld - max);
    }
    return g_string_free(s, FALSE);
}

static void set_title(doctor *d, const char *state)
{
    char *t;
    if (!d->win)
        return;
    t = state ? g_strdup_printf(_("Lock doctor — %s — %s"), d->name, state)
              : g_strdup_printf(_("Lock doctor — %s"), d->name);
    gtk_window_set_title(GTK_WINDOW(d->win), t);
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
    if (!d->win)
        return G_SOURCE_CONTINUE;
    gtk_progress_bar_pulse(GTK_PROGRESS_BAR(d->progress));
    t = g_strdup_printf(_("%s… (%.0f s)"), d->step ? translated_step(d->step) : _("starting"),
                        secs);
    gtk_label_set_text(GTK_LABEL(d->phase), t);
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
    if (d->win) {
        gtk_widget_set_sensitive(d->rescan, !busy);
        if (busy)
            gtk_widget_set_sensitive(d->kill, FALSE);
        if (busy)
            gtk_spinner_start(GTK_SPINNER(d->spinner));
        else
            gtk_spinner_stop(GTK_SPINNER(d->spinner));
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
        if (m->d->win) {
            char *t = g_strdup_printf("%s…", translated_step(m->d->step));
            gtk_label_set_text(GTK_LABEL(m->d->scan_label), t);
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
    o.flags = j->clean ? 0 : LK_CLEAN_DRY_RUN;
    o.progress = on_step;
    o.progress_user = j->d;
    lk_error_clear(&j->err);
    j->rc = lk_doctor_cleanup(j->d->path, &o, &j->report, &j->err);
    if (!j->clean && j->rc == LK_EREFUSED && j->report &&
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

static void start_job(doctor *d, gboolean clean)
{
    job *j = g_new0(job, 1);
    GTask *task;
    j->d = doctor_ref(d);
    j->clean = clean;
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
    char *holds = holds_text(h, hd);
    char *action =
        hd->killable ? g_strdup(_("will be ended")) : g_strdup_printf(_("spared: %s"), hd->why_not);
    gtk_list_store_append(d->store, &it);
    gtk_list_store_set(d->store, &it, COL_ICON, kind_icon(hd->kind), COL_NAME,
                       hd->proc.name ? hd->proc.name : "?", COL_PID, pid, COL_USER,
                       hd->proc.user ? hd->proc.user : _("unknown"), COL_HOLDS, holds, COL_KIND,
                       kind_text(hd->kind), COL_ACTION, action, -1);
    g_free(pid);
    g_free(holds);
    g_free(action);
}

/* Spared processes, the ones we could not look into, and profile locks. */
static char *details_text(const lk_holders *h)
{
    GString *s = g_string_new(NULL);
    size_t i, nspared = 0;
    for (i = 0; i < h->nholders; i++)
        nspared += !h->holders[i].killable;
    if (nspared) {
        g_string_append_printf(s, "%s\n", _("Will be spared:"));
        for (i = 0; i < h->nholders; i++) {
            const lk_holder *hd = &h->holders[i];
            if (!hd->killable)
                g_string_append_printf(s, "  • %s (pid %ld): %s\n", hd->proc.name, hd->proc.pid,
                                       hd->why_not);
        }
    }
    if (h->nblind) {
        g_string_append_printf(s, "%s\n", _("Could not be inspected, so they may hold it too:"));
        for (i = 0; i < h->nblind; i++)
            g_string_append_printf(s, "  • %s (pid %ld): %s\n",
                                   h->blind[i].name ? h->blind[i].name : "?", h->blind[i].pid,
                                   h->blind[i].reason ? h->blind[i].reason : "");
    }
    for (i = 0; i < h->nlocks; i++) {
        const lk_lock *l = &h->locks[i];
        char *who = l->owner_pid ? g_strdup_printf(_("owner pid %ld"), l->owner_pid)
                                 : g_strdup(_("owner unknown"));
        g_string_append_printf(s, "%s %s (%s; %s)\n", _("Chromium profile lock:"),
                               relative(h, l->file), who,
                               l->stale ? _("stale: no browser of this profile owns it")
                                        : _("held by a running browser"));
        g_free(who);
    }
    if (s->len && s->str[s->len - 1] == '\n')
        g_string_truncate(s, s->len - 1);
    return g_string_free(s, FALSE);
}

static void show_holders(doctor *d, const lk_holders *h)
{
    size_t i;
    char *det;
    gtk_list_store_clear(d->store);
    if (!h) {
        gtk_widget_hide(d->scroll);
        gtk_widget_hide(d->details);
        return;
    }
    for (i = 0; i < h->nholders; i++)
        add_row(d, h, &h->holders[i]);
    gtk_widget_set_visible(d->scroll, h->nholders > 0);
    det = details_text(h);
    gtk_label_set_text(GTK_LABEL(d->details), det);
    gtk_widget_set_visible(d->details, det[0] != '\0');
    g_free(det);
}

/* What the scan found: the plan, or why there is nothing to do. */
static void show_plan(doctor *d, job *j)
{
    const lk_cleanup *c = j->report;
    char *head = NULL, *state = NULL;
    gboolean can_clean = FALSE;

    gtk_label_set_text(GTK_LABEL(d->where), c ? c->path : d->path);
    if (!c) {
        head = g_strdup_printf(_("The scan failed: %s"), j->err.msg);
        state = g_strdup(_("scan failed"));
        show_holders(d, NULL);
    } else if (c->result == LK_RESULT_ALREADY_CLEAN) {
        head = g_strdup_printf(_("%s does not exist: already clean. Nothing to do."), d->name);
        state = g_strdup(_("already clean"));
        show_holders(d, NULL);
    } else if (c->result == LK_RESULT_REFUSED) {
        /* No "any folder" switch here, on purpose: this button is for support
         * people fixing a locked session in one click, and a click must never
         * be able to wipe a home, system or ordinary folder. Those who are
         * sure can type `latchkeyctl cleanup --any-folder` in a terminal. */
        head = g_strdup_printf(
            "%s\n%s\n%s", _("Latchkey will not clean this folder, so the button is off."),
            c->message ? c->message : j->err.msg,
            _("Only Chromium profile folders are cleaned from here; anything else needs "
              "latchkeyctl cleanup in a terminal."));
        state = g_strdup(_("refused"));
        show_holders(d, j->info);
    } else {
        const lk_holders *h = c->before;
        size_t i, nkill = 0;
        for (i = 0; h && i < h->nholders; i++)
            nkill += h->holders[i].killable != 0;
        if (!h || h->nholders == 0)
            head = g_strdup_printf(
                h && h->nblind ? _("Nothing that Latchkey could inspect holds %s. Kill & clean "
                                   "up deletes the folder.")
                               : _("Nothing holds %s. Kill & clean up deletes the folder."),
                d->name);
        else
            head = g_strdup_printf(
                ngettext("%zu process holds %s; %zu will be ended. Kill & clean up ends "
                         "them and deletes the folder.",
                         "%zu processes hold %s; %zu will be ended. Kill & clean up ends "
                         "them and deletes the folder.",
                         h->nholders),
                h->nholders, d->name, nkill);
        state = h && h->nholders
                    ? g_strdup_printf(_("%zu to end, %zu spared"), nkill, h->nholders - nkill)
                    : g_strdup(_("nothing holds it"));
        show_holders(d, h);
        can_clean = TRUE;
    }
    gtk_label_set_text(GTK_LABEL(d->headline), head);
    gtk_widget_set_sensitive(d->kill, can_clean);
    if (can_clean)
        gtk_widget_grab_focus(d->kill);
    else
        gtk_widget_grab_focus(d->close);
    gtk_stack_set_visible_child_name(GTK_STACK(d->stack), "plan");
    set_title(d, state);
    g_free(head);
    g_free(state);
}

static void show_result(doctor *d, job *j)
{
    const lk_cleanup *c = j->report;
    GString *s = g_string_new(NULL);
    char *head, *state;
    size_t i;
    gboolean gone = c && (c->result == LK_RESULT_REMOVED || c->result == LK_RESULT_ALREADY_CLEAN);

    if (!c) {
        head = g_strdup_printf(_("Kill & clean up failed: %s"), j->err.msg);
        state = g_strdup(_("failed"));
    } else {
        const char *fate;
        switch (c->result) {
        case LK_RESULT_REMOVED: fate = _("folder removed"); break;
        case LK_RESULT_ALREADY_CLEAN: fate = _("already clean"); break;
        case LK_RESULT_QUARANTINED: fate = _("folder moved aside"); break;
        case LK_RESULT_REFUSED: fate = _("refused"); break;
        default: fate = _("folder still there"); break;
        }
        state = g_strdup_printf(ngettext("%s: %zu ended, %s", "%s: %zu ended, %s", c->nkilled),
                                gone && c->nleft == 0 ? _("cleaned") : _("incomplete"), c->nkilled,
                                fate);
        if (c->result == LK_RESULT_REMOVED && c->nleft == 0)
            head = g_strdup_printf(_("Done: %s is removed and nothing holds it."), d->name);
        else if (c->result == LK_RESULT_ALREADY_CLEAN)
            head = g_strdup_printf(_("%s does not exist: already clean."), d->name);
        else if (c->result == LK_RESULT_QUARANTINED)
            head = g_strdup_printf(
                _("%s could not be removed completely; it was moved aside so the name is free."),
                d->name);
        else if (c->result == LK_RESULT_REFUSED)
            head = g_strdup_printf(_("Refused, nothing was touched: %s"),
                                   c->message ? c->message : j->err.msg);
        else
            head = g_strdup_printf(_("Not finished: %s is still there."), d->name);

        if (d->stopped)
            g_string_append_printf(s, "%s\n", _("Latchkey stopped following this session first."));
        for (i = 0; i < c->nkilled; i++)
            g_string_append_printf(s, _("Ended %s (pid %ld, %s)\n"), c->killed[i].name,
                                   c->killed[i].pid,
                                   c->killed[i].forced ? _("forced") : _("graceful"));
        if (c->nkilled == 0 && !d->stopped && c->result != LK_RESULT_ALREADY_CLEAN &&
            c->result != LK_RESULT_REFUSED)
            g_string_append_printf(s, "%s\n", _("No process had to be ended."));
        for (i = 0; i < c->nspared; i++)
            g_string_append_printf(s, _("Spared %s (pid %ld): %s\n"), c->spared[i].name,
                                   c->spared[i].pid, c->spared[i].why);
        if (c->result == LK_RESULT_REMOVED)
            g_string_append_printf(s, _("Removed %s\n"), c->path);
        if (c->quarantine)
            g_string_append_printf(s, _("Moved aside to %s\n"), c->quarantine);
        for (i = 0; i < c->nleft; i++)
            g_string_append_printf(s, _("Left: %s\n"), c->left[i]);
        if (c->nleft == 0 && c->result == LK_RESULT_REMOVED)
            g_string_append_printf(s, "%s\n", _("Nothing is left, and nothing holds the folder."));
        if (c->before && c->before->nblind) {
            const lk_holders *h = c->before;
            g_string_append_printf(s,
                                   ngettext("%zu process could not be inspected:",
                                            "%zu processes could not be inspected:", h->nblind),
                                   h->nblind);
            for (i = 0; i < h->nblind && i < 5; i++)
                g_string_append_printf(s, "%s %s (pid %ld)", i ? "," : "",
                                       h->blind[i].name ? h->blind[i].name : "?", h->blind[i].pid);
            g_string_append(s, h->nblind > 5 ? ", …\n" : "\n");
        }
        g_string_append_printf(s, _("Took %.1f s."), (double)c->elapsed_ms / 1000.0);
    }
    label_markup_bold(d->result_head, head);
    gtk_label_set_text(GTK_LABEL(d->result_text), s->str);
    gtk_widget_set_sensitive(d->kill, FALSE);
    gtk_stack_set_visible_child_name(GTK_STACK(d->stack), "result");
    gtk_widget_grab_focus(d->close);
    set_title(d, state);
    g_string_free(s, TRUE);
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
    if (d->win) {
        if (j->clean)
            show_result(d, j);
        else
            show_plan(d, j);
        /* Closed while it worked: it was only hidden, so the work finished
         * and was reported; now it can go. */
        if (!gtk_widget_get_visible(d->win))
            gtk_widget_destroy(d->win);
    }
    if (j->clean && d->app->model)
        lk_model_rescan(d->app->model);
    doctor_unref(d);
    job_free(j);
}

static void scan(doctor *d)
{
    gtk_label_set_text(GTK_LABEL(d->scan_label), _("Looking for what holds the folder…"));
    gtk_stack_set_visible_child_name(GTK_STACK(d->stack), "scan");
    set_title(d, _("scanning"));
    start_job(d, FALSE);
}

/* ---- buttons and window ------------------------------------------------- */

static void on_kill(GtkButton *b, gpointer user)
{
    doctor *d = user;
    (void)b;
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
    gtk_progress_bar_set_fraction(GTK_PROGRESS_BAR(d->progress), 0.0);
    gtk_label_set_text(GTK_LABEL(d->phase), _("starting…"));
    gtk_stack_set_visible_child_name(GTK_STACK(d->stack), "work");
    set_title(d, _("cleaning"));
    start_job(d, TRUE);
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
        gtk_widget_hide(d->win);
    else
        gtk_widget_destroy(d->win);
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
    d->win = NULL;
    doctor_unref(d);
}

static GtkWidget *label_new(gboolean wrap, gboolean selectable)
{
    GtkWidget *l = gtk_label_new(NULL);
    gtk_label_set_xalign(GTK_LABEL(l), 0.0f);
    gtk_label_set_line_wrap(GTK_LABEL(l), wrap);
    gtk_label_set_selectable(GTK_LABEL(l), selectable);
    return l;
}

static void add_text_column(GtkTreeView *tv, const char *title, int col, gboolean expand)
{
    GtkCellRenderer *r = gtk_cell_renderer_text_new();
    if (expand)
        g_object_set(r, "ellipsize", PANGO_ELLIPSIZE_MIDDLE, "width-chars", 30, NULL);
    GtkTreeViewColumn *c = gtk_tree_view_column_new_with_attributes(title, r, "text", col, NULL);
    gtk_tree_view_column_set_resizable(c, TRUE);
    gtk_tree_view_column_set_expand(c, expand);
    gtk_tree_view_append_column(tv, c);
}

static GtkWidget *holders_view(doctor *d)
{
    GtkWidget *tv;
    GtkCellRenderer *r;
    GtkTreeViewColumn *c;
    d->store = gtk_list_store_new(N_COLS, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING,
                                  G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING);
    tv = gtk_tree_view_new_with_model(GTK_TREE_MODEL(d->store));
    r = gtk_cell_renderer_pixbuf_new();
    c = gtk_tree_view_column_new_with_attributes("", r, "icon-name", COL_ICON, NULL);
    gtk_tree_view_append_column(GTK_TREE_VIEW(tv), c);
    add_text_column(GTK_TREE_VIEW(tv), _("Process"), COL_NAME, FALSE);
    add_text_column(GTK_TREE_VIEW(tv), _("PID"), COL_PID, FALSE);
    add_text_column(GTK_TREE_VIEW(tv), _("User"), COL_USER, FALSE);
    add_text_column(GTK_TREE_VIEW(tv), _("Kind"), COL_KIND, FALSE);
    add_text_column(GTK_TREE_VIEW(tv), _("Action"), COL_ACTION, FALSE);
    /* Last and ellipsized: Chromium's paths are long, the rest must stay in view. */
    add_text_column(GTK_TREE_VIEW(tv), _("What it holds"), COL_HOLDS, TRUE);
    gtk_tree_view_set_tooltip_column(GTK_TREE_VIEW(tv), COL_HOLDS);
    d->scroll = gtk_scrolled_window_new(NULL, NULL);
    gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(d->scroll), GTK_POLICY_AUTOMATIC,
                                   GTK_POLICY_AUTOMATIC);
    gtk_scrolled_window_set_shadow_type(GTK_SCROLLED_WINDOW(d->scroll), GTK_SHADOW_IN);
    gtk_widget_set_vexpand(d->scroll, TRUE);
    gtk_container_add(GTK_CONTAINER(d->scroll), tv);
    return d->scroll;
}

static GtkWidget *page_box(void)
{
    GtkWidget *b = gtk_box_new(GTK_ORIENTATION_VERTICAL, 8);
    gtk_container_set_border_width(GTK_CONTAINER(b), 12);
    return b;
}

static void build(doctor *d, GtkWindow *parent)
{
    GtkWidget *outer, *page, *row, *buttons, *details_scroll;

    d->win = gtk_window_new(GTK_WINDOW_TOPLEVEL);
    gtk_window_set_default_size(GTK_WINDOW(d->win), 780, 460);
    gtk_window_set_icon_name(GTK_WINDOW(d->win), "dialog-warning");
    if (parent) {
        gtk_window_set_transient_for(GTK_WINDOW(d->win), parent);
    }
    outer = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
    gtk_container_add(GTK_CONTAINER(d->win), outer);
    d->stack = gtk_stack_new();
    gtk_widget_set_vexpand(d->stack, TRUE);
    gtk_box_pack_start(GTK_BOX(outer), d->stack, TRUE, TRUE, 0);

    /* scanning */
    page = page_box();
    row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
    gtk_widget_set_valign(row, GTK_ALIGN_CENTER);
    gtk_widget_set_halign(row, GTK_ALIGN_CENTER);
    gtk_widget_set_vexpand(row, TRUE);
    d->spinner = gtk_spinner_new();
    d->scan_label = label_new(TRUE, FALSE);
    gtk_box_pack_start(GTK_BOX(row), d->spinner, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(row), d->scan_label, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(page), row, TRUE, TRUE, 0);
    gtk_stack_add_named(GTK_STACK(d->stack), page, "scan");

    /* the plan: holders, spared, uninspectable, locks */
    page = page_box();
    d->headline = label_new(TRUE, TRUE);
    d->where = label_new(FALSE, TRUE);
    gtk_label_set_ellipsize(GTK_LABEL(d->where), PANGO_ELLIPSIZE_MIDDLE);
    gtk_style_context_add_class(gtk_widget_get_style_context(d->where), "dim-label");
    d->details = label_new(TRUE, TRUE);
    gtk_widget_set_valign(d->details, GTK_ALIGN_START);
    details_scroll = gtk_scrolled_window_new(NULL, NULL);
    gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(details_scroll), GTK_POLICY_NEVER,
                                   GTK_POLICY_AUTOMATIC);
    gtk_scrolled_window_set_propagate_natural_height(GTK_SCROLLED_WINDOW(details_scroll), TRUE);
    gtk_scrolled_window_set_max_content_height(GTK_SCROLLED_WINDOW(details_scroll), 160);
    gtk_container_add(GTK_CONTAINER(details_scroll), d->details);
    gtk_box_pack_start(GTK_BOX(page), d->headline, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(page), d->where, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(page), holders_view(d), TRUE, TRUE, 0);
    gtk_box_pack_start(GTK_BOX(page), details_scroll, FALSE, FALSE, 0);
    gtk_stack_add_named(GTK_STACK(d->stack), page, "plan");

    /* the cleanup at work */
    page = page_box();
    gtk_widget_set_valign(page, GTK_ALIGN_CENTER);
    d->progress = gtk_progress_bar_new();
    gtk_progress_bar_set_pulse_step(GTK_PROGRESS_BAR(d->progress), 0.05);
    d->phase = label_new(TRUE, FALSE);
    gtk_box_pack_start(GTK_BOX(page), d->progress, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(page), d->phase, FALSE, FALSE, 0);
    gtk_stack_add_named(GTK_STACK(d->stack), page, "work");

    /* the result */
    page = page_box();
    d->result_head = label_new(TRUE, TRUE);
    d->result_text = label_new(TRUE, TRUE);
    gtk_widget_set_valign(d->result_text, GTK_ALIGN_START);
    row = gtk_scrolled_window_new(NULL, NULL);
    gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(row), GTK_POLICY_NEVER,
                                   GTK_POLICY_AUTOMATIC);
    gtk_widget_set_vexpand(row, TRUE);
    gtk_container_add(GTK_CONTAINER(row), d->result_text);
    gtk_box_pack_start(GTK_BOX(page), d->result_head, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(page), row, TRUE, TRUE, 0);
    gtk_stack_add_named(GTK_STACK(d->stack), page, "result");

    buttons = gtk_button_box_new(GTK_ORIENTATION_HORIZONTAL);
    gtk_button_box_set_layout(GTK_BUTTON_BOX(buttons), GTK_BUTTONBOX_END);
    gtk_box_set_spacing(GTK_BOX(buttons), 6);
    gtk_container_set_border_width(GTK_CONTAINER(buttons), 12);
    d->rescan = gtk_button_new_with_mnemonic(_("_Rescan"));
    d->close = gtk_button_new_with_mnemonic(_("_Close"));
    d->kill = gtk_button_new_with_mnemonic(_("_Kill & clean up"));
    gtk_style_context_add_class(gtk_widget_get_style_context(d->kill), "destructive-action");
    gtk_widget_set_can_default(d->kill, TRUE);
    gtk_widget_set_sensitive(d->kill, FALSE);
    gtk_container_add(GTK_CONTAINER(buttons), d->rescan);
    gtk_container_add(GTK_CONTAINER(buttons), d->close);
    gtk_container_add(GTK_CONTAINER(buttons), d->kill);
    gtk_button_box_set_child_secondary(GTK_BUTTON_BOX(buttons), d->rescan, TRUE);
    gtk_box_pack_end(GTK_BOX(outer), buttons, FALSE, FALSE, 0);
    gtk_box_pack_end(GTK_BOX(outer), gtk_separator_new(GTK_ORIENTATION_HORIZONTAL), FALSE, FALSE,
                     0);

    g_signal_connect(d->kill, "clicked", G_CALLBACK(on_kill), d);
    g_signal_connect(d->rescan, "clicked", G_CALLBACK(on_rescan), d);
    g_signal_connect(d->close, "clicked", G_CALLBACK(on_close), d);
    g_signal_connect(d->win, "delete-event", G_CALLBACK(on_delete), d);
    g_signal_connect(d->win, "key-press-event", G_CALLBACK(on_key), d);
    g_signal_connect(d->win, "destroy", G_CALLBACK(on_destroy), d);
    gtk_widget_show_all(outer);
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
        gtk_widget_show(d->win);
        gtk_window_present(GTK_WINDOW(d->win));
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
    build(d, parent);
    g_hash_table_insert(reg, g_strdup(d->path), d);
    gtk_application_add_window(app->gtk, GTK_WINDOW(d->win));
    scan(d);
    gtk_window_present(GTK_WINDOW(d->win));
}
