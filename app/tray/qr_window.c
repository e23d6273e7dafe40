/* qr_window.c - the live QR window of one session: the code to scan, the
 * time left until WhatsApp replaces it, and what to do when there is none.
 *
 * The window follows its session through the model (main thread only). It
 * never keeps a QR code on screen that the page no longer shows: every state
 * other than QR / LOGGED_OUT clears the code at once.
 *
 * Closing the window does not stop the session. The tray and the dashboard
 * own starting and stopping: a browser we attached to belongs to someone's
 * bot, and one we started only to show this code keeps running (listed in
 * the tray as waiting for a scan) so the user can come back to it, or stop
 * it from the tray, without the window guessing what they wanted. */
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "i18n.h"
#include "model.h"
#include "qr_image.h"

#include "latchkey/path.h"

#define LINKED_CLOSE_MS 3000
#define TICK_MS 250
/* How long a code lives until the window has timed a rotation itself:
 * WhatsApp Web keeps its first code about a minute, each later one about
 * 20 s. Timed intervals outside MIN..MAX (a page that stalled, a clock that
 * jumped) are not believed. */
#define FIRST_CODE_MS 60000
#define ROTATE_MS 20000
#define MIN_INTERVAL_MS 1000
#define MAX_INTERVAL_MS 300000

typedef struct qr_win {
    lk_app *app;
    char *key;  /* the path asked for, normalised */
    char *path; /* the path as the model names it */
    char *name; /* the folder's name, for the title */
    GtkWidget *win, *stack, *area, *spinner, *icon, *msg, *detail;
    GtkWidget *doctor_btn, *use_here_btn, *retry_btn, *countdown, *hint;
    guint watch, tick, close_src;
    GdkFrameClock *clock; /* the window's, while it is realized */
    gulong after_paint;   /* its "after-paint" handler */
    int title_linked;     /* the title the window should have: 1 linked, 0 scan */

    lk_state state;
    char *start_error; /* lk_model_start failed: shown until the next try */

    lk_qr_image img; /* what is on screen */
    int64_t qr_at_ms;
    int qr_rotation; /* core's rotation count of the code on screen */
    /* core's count of the first code of this run of codes: 0 for the page's
     * first, -1 once the page left its codes (linked, reloading, restarted):
     * the next code is a page's first again, whatever core's count says. */
    int run_first;

    /* the last interval timed between two later codes (never the first's,
     * which lives longer); 0 until one was seen. Kept while the code is
     * replaced by a message: it is the site's pace, not one code's. */
    int64_t interval_ms;
} qr_win;

static int64_t now_ms(void)
{
    return g_get_real_time() / 1000;
}

static int path_win(const char *p)
{
    (void)p;
    return lk_sys_path_win();
}

static char *normalise(const char *path)
{
    char *abs = g_canonicalize_filename(path, NULL);
    char *n = lk_path_normalize(abs, path_win(abs));
    g_free(abs);
    if (n) {
        char *r = g_strdup(n);
        free(n);
        return r;
    }
    return g_strdup(path);
}

static gboolean same_path(const char *a, const char *b)
{
    return a && b && lk_path_equal(a, b, path_win(a));
}

static void set_text(GtkWidget *label, const char *text)
{
    if (g_strcmp0(gtk_label_get_text(GTK_LABEL(label)), text) != 0)
        gtk_label_set_text(GTK_LABEL(label), text);
}

/* ---- what is drawn ------------------------------------------------------ */

static void clear_qr(qr_win *q)
{
    lk_qr_image_clear(&q->img);
    q->qr_at_ms = 0;
    q->qr_rotation = 0;
    if (q->tick) {
        g_source_remove(q->tick);
        q->tick = 0;
    }
    set_text(q->countdown, "");
}

static gboolean on_draw(GtkWidget *w, cairo_t *cr, qr_win *q)
{
    lk_qr_image_draw(&q->img, cr, gtk_widget_get_allocated_width(w),
                     gtk_widget_get_allocated_height(w));
    return FALSE;
}

/* ---- the countdown ------------------------------------------------------ */

/* How long the code on screen is expected to live, all told. */
static int64_t expected_life_ms(const qr_win *q)
{
    if (q->qr_rotation == q->run_first)
        return FIRST_CODE_MS;
    return q->interval_ms > 0 ? q->interval_ms : ROTATE_MS;
}

/* An estimate from the first code on, said as one ("about"): WhatsApp does
 * not tell when it rotates, and a late rotation must not count below zero. */
static void update_countdown(qr_win *q)
{
    char *s;
    int64_t up, left;
    if (!lk_qr_image_shown(&q->img)) {
        set_text(q->countdown, "");
        return;
    }
    up = MAX(0, now_ms() - q->qr_at_ms);
    left = expected_life_ms(q) - up;
    if (left > 0) {
        int secs = (int)((left + 999) / 1000);
        s = g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "A new code in about %d second",
                                        "A new code in about %d seconds", (unsigned long)secs),
                            secs);
    } else {
        s = g_strdup(_("A new code is due any moment"));
    }
    set_text(q->countdown, s);
    g_free(s);
}

static gboolean on_tick(gpointer user)
{
    update_countdown(user);
    return G_SOURCE_CONTINUE;
}

/* A new code (or the first). Core numbers the codes (info->rotations) and
 * says when each appeared, so the time between two consecutive ones is a
 * whole interval even if the window opened late; the interval that ends
 * the first code is longer than the rest and is not used. */
static void note_new_code(qr_win *q, const lk_session_info *info, int had_code)
{
    int64_t at = info->qr_at_ms > 0 ? info->qr_at_ms : now_ms();
    if (q->run_first < 0)
        q->run_first = MAX(0, info->rotations);
    if (had_code && q->qr_at_ms > 0 && q->qr_rotation > q->run_first &&
        info->rotations == q->qr_rotation + 1) {
        int64_t interval = at - q->qr_at_ms;
        if (interval >= MIN_INTERVAL_MS && interval <= MAX_INTERVAL_MS)
            q->interval_ms = interval;
    }
    q->qr_at_ms = at;
    q->qr_rotation = MAX(0, info->rotations);
    if (!q->tick)
        q->tick = g_timeout_add(TICK_MS, on_tick, q);
}

/* Shows the entry's code; returns FALSE when it has none to show. */
static gboolean show_code(qr_win *q, const lk_session_info *info)
{
    int had = lk_qr_image_shown(&q->img), rc;
    if (info->qr && *info->qr) {
        rc = lk_qr_image_set_payload(&q->img, info->qr);
        if (rc > 0) {
            int side = lk_qr_image_min_side(&q->img);
            gtk_widget_set_size_request(q->area, side, side);
        }
    } else if (info->qr_png && info->qr_png_len) {
        rc = lk_qr_image_set_png(&q->img, info->qr_png, info->qr_png_len);
    } else {
        return FALSE;
    }
    if (rc <= 0)
        return rc == 0;
    note_new_code(q, info, had);
    gtk_widget_show(q->hint);
    gtk_stack_set_visible_child_name(GTK_STACK(q->stack), "qr");
    gtk_widget_queue_draw(q->area);
    update_countdown(q);
    return TRUE;
}

/* ---- the other states ---------------------------------------------------- */

typedef enum { BTN_NONE = 0, BTN_DOCTOR = 1, BTN_USE_HERE = 2, BTN_RETRY = 4 } msg_buttons;

static void show_message(qr_win *q, const char *icon, gboolean busy, const char *msg,
                         const char *detail, unsigned btns)
{
    char *mark;
    clear_qr(q);
    /* Green for done, amber for a problem: the colour repeats the symbol, so
     * it is no loss where colours are not told apart. */
    mark = g_markup_printf_escaped("<span foreground=\"%s\">%s</span>",
                                   icon && strcmp(icon, "✔") == 0 ? "#2e9e4f" : "#c77c02",
                                   icon ? icon : "");
    gtk_label_set_markup(GTK_LABEL(q->icon), mark);
    g_free(mark);
    gtk_widget_set_visible(q->icon, icon != NULL);
    gtk_widget_set_visible(q->spinner, busy);
    if (busy)
        gtk_spinner_start(GTK_SPINNER(q->spinner));
    else
        gtk_spinner_stop(GTK_SPINNER(q->spinner));
    set_text(q->msg, msg);
    set_text(q->detail, detail ? detail : "");
    gtk_widget_set_visible(q->detail, detail && *detail);
    gtk_widget_set_visible(q->doctor_btn, (btns & BTN_DOCTOR) != 0);
    gtk_widget_set_visible(q->use_here_btn, (btns & BTN_USE_HERE) != 0);
    gtk_widget_set_visible(q->retry_btn, (btns & BTN_RETRY) != 0);
    gtk_widget_hide(q->hint);
    gtk_stack_set_visible_child_name(GTK_STACK(q->stack), "message");
}

static void apply_title(qr_win *q)
{
    char *t = q->title_linked ? g_strdup_printf(_("%s — Linked"), q->name)
                              : g_strdup_printf(_("%s — Scan to link"), q->name);
    if (g_strcmp0(gtk_window_get_title(GTK_WINDOW(q->win)), t) != 0)
        gtk_window_set_title(GTK_WINDOW(q->win), t);
    g_free(t);
}

/* The title says what the window shows, so it changes only once the frame
 * that shows it is painted: the title reaches the X server (or the window
 * manager) at once, the pixels only with the next frame, and for that frame
 * a "Linked" title would sit above a code that is no longer valid. */
static void set_title(qr_win *q, gboolean linked)
{
    if (gtk_window_get_title(GTK_WINDOW(q->win)) && q->title_linked == linked)
        return;
    q->title_linked = linked;
    if (q->clock)
        gtk_widget_queue_draw(q->win);
    else
        apply_title(q);
}

static void on_after_paint(GdkFrameClock *clock, qr_win *q)
{
    apply_title(q);
}

static void on_realize(GtkWidget *w, qr_win *q)
{
    q->clock = gtk_widget_get_frame_clock(w);
    if (q->clock)
        q->after_paint = g_signal_connect(q->clock, "after-paint", G_CALLBACK(on_after_paint), q);
}

static void on_unrealize(GtkWidget *w, qr_win *q)
{
    if (q->clock && q->after_paint)
        g_signal_handler_disconnect(q->clock, q->after_paint);
    q->clock = NULL;
    q->after_paint = 0;
}

static gboolean on_linked_timeout(gpointer user)
{
    qr_win *q = user;
    q->close_src = 0;
    gtk_widget_destroy(q->win);
    return G_SOURCE_REMOVE;
}

static const char *why(const lk_session_info *info)
{
    if (info->reason[0])
        return info->reason;
    return info->last_error[0] ? info->last_error : NULL;
}

/* Brings the window in line with the entry (NULL: the model forgot it). */
static void refresh(qr_win *q, const lk_entry *e)
{
    lk_state st = e ? e->info.state : LK_STATE_STOPPED;
    gboolean linked = e && e->running && st == LK_STATE_LINKED;

    if (!linked && q->close_src) {
        /* Linked, then logged out again before the window closed: stay. */
        g_source_remove(q->close_src);
        q->close_src = 0;
    }
    set_title(q, linked);
    q->state = st;
    /* A page that stops showing codes shows a first, longer-lived one when
     * it comes back (after a logout, a reload, a restart); only a blip of
     * the DevTools connection keeps the run going. */
    if (!(e && e->running &&
          (st == LK_STATE_QR || st == LK_STATE_LOGGED_OUT || st == LK_STATE_UNREACHABLE)))
        q->run_first = -1;

    if (q->start_error && !(e && e->running)) {
        show_message(q, "⚠", FALSE, _("The session could not be started."), q->start_error,
                     BTN_DOCTOR | BTN_RETRY);
        return;
    }
    if (!e || !e->running) {
        show_message(q, NULL, FALSE, _("This session is not running."), NULL, BTN_RETRY);
        return;
    }
    switch (st) {
    case LK_STATE_QR:
    case LK_STATE_LOGGED_OUT:
        if (show_code(q, &e->info)) {
            set_text(q->hint, st == LK_STATE_LOGGED_OUT
                                  ? _("This session was logged out. Open WhatsApp on your phone "
                                      "› Linked devices › Link a device to link it again.")
                                  : _("Open WhatsApp on your phone › Linked devices › Link a "
                                      "device"));
            return;
        }
        show_message(q, NULL, TRUE, _("Waiting for the QR code…"), NULL, BTN_NONE);
        break;
    case LK_STATE_LINKED:
        show_message(q, "✔", FALSE, _("Linked"),
                     _("This device is linked. The window closes by itself."), BTN_NONE);
        if (!q->close_src)
            q->close_src = g_timeout_add(LINKED_CLOSE_MS, on_linked_timeout, q);
        break;
    case LK_STATE_CONFLICT:
        show_message(q, "⚠", FALSE, _("WhatsApp is open in another window."),
                     _("Use here continues in this session; WhatsApp in the other window "
                       "is disconnected."),
                     BTN_USE_HERE);
        break;
    case LK_STATE_STOPPED:
    case LK_STATE_STARTING: show_message(q, NULL, TRUE, _("Starting…"), NULL, BTN_NONE); break;
    case LK_STATE_LOADING: show_message(q, NULL, TRUE, _("Loading…"), NULL, BTN_NONE); break;
    case LK_STATE_UNREACHABLE:
        show_message(q, NULL, TRUE, _("Reconnecting…"), why(&e->info), BTN_NONE);
        break;
    case LK_STATE_CRASHED:
        show_message(q, NULL, TRUE, _("The browser stopped unexpectedly. Restarting…"),
                     why(&e->info), BTN_DOCTOR);
        break;
    case LK_STATE_FAILED:
    default:
        show_message(q, "⚠", FALSE, _("The session failed."), why(&e->info),
                     BTN_DOCTOR | BTN_RETRY);
        break;
    }
}

static void on_model(gpointer user, const char *path, const lk_entry *e)
{
    qr_win *q = user;
    if (path && !same_path(path, q->path))
        return;
    if (!path)
        e = lk_model_find(q->app->model, q->path);
    refresh(q, e);
}

/* ---- actions ------------------------------------------------------------- */

static void start(qr_win *q)
{
    GError *err = NULL;
    const lk_entry *e;
    g_clear_pointer(&q->start_error, g_free);
    if (!lk_model_start(q->app->model, q->path, &err)) {
        q->start_error = g_strdup(err && err->message ? err->message : _("Unknown error."));
        g_clear_error(&err);
    }
    e = lk_model_find(q->app->model, q->path);
    if (e && !same_path(e->path, q->path)) {
        g_free(q->path);
        q->path = g_strdup(e->path);
    }
    refresh(q, e);
}

static void on_retry(GtkButton *b, qr_win *q)
{
    start(q);
}

static void on_doctor(GtkButton *b, qr_win *q)
{
    lk_doctor_dialog_present(q->app, GTK_WINDOW(q->win), q->path);
}

static void on_use_here(GtkButton *b, qr_win *q)
{
    GError *err = NULL;
    if (!lk_model_take_over(q->app->model, q->path, &err)) {
        set_text(q->detail, err && err->message ? err->message : _("Unknown error."));
        gtk_widget_show(q->detail);
        g_clear_error(&err);
    }
}

static void on_destroy(GtkWidget *w, qr_win *q)
{
    on_unrealize(w, q);
    if (q->watch)
        lk_model_unwatch(q->app->model, q->watch);
    q->watch = 0;
    if (q->close_src)
        g_source_remove(q->close_src);
    q->close_src = 0;
    clear_qr(q);
}

static void qr_win_free(gpointer p)
{
    qr_win *q = p;
    g_free(q->key);
    g_free(q->path);
    g_free(q->name);
    g_free(q->start_error);
    g_free(q);
}

/* ---- the window ---------------------------------------------------------- */

static GtkWidget *label(const char *css_class, gboolean wrap)
{
    GtkWidget *l = gtk_label_new(NULL);
    gtk_label_set_justify(GTK_LABEL(l), GTK_JUSTIFY_CENTER);
    gtk_label_set_line_wrap(GTK_LABEL(l), wrap);
    gtk_label_set_max_width_chars(GTK_LABEL(l), 50);
    if (css_class)
        gtk_style_context_add_class(gtk_widget_get_style_context(l), css_class);
    return l;
}

static void big(GtkWidget *l, double scale, gboolean bold)
{
    PangoAttrList *a = pango_attr_list_new();
    pango_attr_list_insert(a, pango_attr_scale_new(scale));
    if (bold)
        pango_attr_list_insert(a, pango_attr_weight_new(PANGO_WEIGHT_BOLD));
    gtk_label_set_attributes(GTK_LABEL(l), a);
    pango_attr_list_unref(a);
}

static qr_win *find_window(lk_app *app, const char *key)
{
    GList *l;
    for (l = gtk_application_get_windows(app->gtk); l; l = l->next) {
        qr_win *q = g_object_get_data(G_OBJECT(l->data), "lk-qr-window");
        if (q && (same_path(q->key, key) || same_path(q->path, key)))
            return q;
    }
    return NULL;
}

static qr_win *build(lk_app *app, const char *key)
{
    qr_win *q = g_new0(qr_win, 1);
    GtkWidget *box, *msgbox, *buttons;
    char *base;

    q->app = app;
    q->key = g_strdup(key);
    q->path = g_strdup(key);
    base = g_path_get_basename(key);
    q->name = base;

    q->win = gtk_application_window_new(app->gtk);
    g_object_set_data_full(G_OBJECT(q->win), "lk-qr-window", q, qr_win_free);
    gtk_window_set_role(GTK_WINDOW(q->win), "latchkey-qr");
    gtk_container_set_border_width(GTK_CONTAINER(q->win), 12);
    set_title(q, FALSE);

    box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 8);
    gtk_container_add(GTK_CONTAINER(q->win), box);

    /* One stack so the window keeps its size between the code and a message. */
    q->stack = gtk_stack_new();
    gtk_stack_set_homogeneous(GTK_STACK(q->stack), TRUE);
    gtk_stack_set_transition_type(GTK_STACK(q->stack), GTK_STACK_TRANSITION_TYPE_NONE);
    gtk_box_pack_start(GTK_BOX(box), q->stack, TRUE, TRUE, 0);

    q->area = gtk_drawing_area_new();
    gtk_widget_set_size_request(q->area, lk_qr_image_min_side(&q->img),
                                lk_qr_image_min_side(&q->img));
    g_signal_connect(q->area, "draw", G_CALLBACK(on_draw), q);
    atk_object_set_name(gtk_widget_get_accessible(q->area), _("QR code to scan"));
    gtk_stack_add_named(GTK_STACK(q->stack), q->area, "qr");

    msgbox = gtk_box_new(GTK_ORIENTATION_VERTICAL, 10);
    gtk_widget_set_valign(msgbox, GTK_ALIGN_CENTER);
    q->icon = label(NULL, FALSE);
    big(q->icon, 6.0, TRUE);
    q->spinner = gtk_spinner_new();
    gtk_widget_set_size_request(q->spinner, 48, 48);
    q->msg = label(NULL, TRUE);
    big(q->msg, 1.6, TRUE);
    q->detail = label("dim-label", TRUE);
    /* Selectable to copy an error, but not focusable: a focused selectable
     * label comes up with all its text selected. */
    gtk_label_set_selectable(GTK_LABEL(q->detail), TRUE);
    gtk_widget_set_can_focus(q->detail, FALSE);
    buttons = gtk_button_box_new(GTK_ORIENTATION_HORIZONTAL);
    gtk_button_box_set_layout(GTK_BUTTON_BOX(buttons), GTK_BUTTONBOX_CENTER);
    gtk_box_set_spacing(GTK_BOX(buttons), 6);
    q->use_here_btn = gtk_button_new_with_mnemonic(_("_Use here"));
    q->doctor_btn = gtk_button_new_with_mnemonic(_("_Find lock holders…"));
    q->retry_btn = gtk_button_new_with_mnemonic(_("_Try again"));
    gtk_style_context_add_class(gtk_widget_get_style_context(q->use_here_btn), "suggested-action");
    g_signal_connect(q->use_here_btn, "clicked", G_CALLBACK(on_use_here), q);
    g_signal_connect(q->doctor_btn, "clicked", G_CALLBACK(on_doctor), q);
    g_signal_connect(q->retry_btn, "clicked", G_CALLBACK(on_retry), q);
    gtk_container_add(GTK_CONTAINER(buttons), q->use_here_btn);
    gtk_container_add(GTK_CONTAINER(buttons), q->retry_btn);
    gtk_container_add(GTK_CONTAINER(buttons), q->doctor_btn);
    gtk_box_pack_start(GTK_BOX(msgbox), q->icon, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(msgbox), q->spinner, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(msgbox), q->msg, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(msgbox), q->detail, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(msgbox), buttons, FALSE, FALSE, 0);
    gtk_stack_add_named(GTK_STACK(q->stack), msgbox, "message");

    q->countdown = label("dim-label", FALSE);
    /* Screen readers (and the GUI tests) find the countdown by this. */
    atk_object_set_description(gtk_widget_get_accessible(q->countdown),
                               _("Time until WhatsApp shows a new code"));
    q->hint = label(NULL, TRUE);
    set_text(q->hint, _("Open WhatsApp on your phone › Linked devices › Link a device"));
    gtk_box_pack_start(GTK_BOX(box), q->countdown, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(box), q->hint, FALSE, FALSE, 0);

    g_signal_connect(q->win, "destroy", G_CALLBACK(on_destroy), q);
    g_signal_connect(q->win, "realize", G_CALLBACK(on_realize), q);
    g_signal_connect(q->win, "unrealize", G_CALLBACK(on_unrealize), q);
    gtk_widget_show_all(box);
    gtk_widget_hide(q->use_here_btn);
    gtk_widget_hide(q->doctor_btn);
    gtk_widget_hide(q->retry_btn);
    gtk_widget_hide(q->icon);
    gtk_widget_hide(q->detail);
    return q;
}

void lk_qr_window_present(lk_app *app, const char *path)
{
    qr_win *q;
    char *key;
    if (!app || !path || !*path)
        return;
    key = normalise(path);
    q = find_window(app, key);
    if (!q) {
        q = build(app, key);
        /* Watch first, so no change between the start and the watch is lost. */
        q->watch = lk_model_watch(app->model, on_model, q);
        start(q);
    }
    g_free(key);
    gtk_window_present(GTK_WINDOW(q->win));
}
