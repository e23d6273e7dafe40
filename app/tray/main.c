/* main.c - latchkey, the tray app: one instance per user session.
 *
 * A second `latchkey ...` hands its command line to the running instance
 * over D-Bus (GApplication; a named pipe on Windows, instance_win32.h) and
 * exits with the status the running one gives;
 * paths are resolved against the caller's current folder. The command line
 * is checked here first, so bad input is reported on the caller's stderr
 * with exit status 2 whether an instance runs or not.
 *
 * The primary instance starts light (startup) and brings up the DevTools
 * loop, the model, the tray icon and the notifications on the first command
 * that needs them, so `latchkey --quit` with nothing running starts nothing.
 * Quitting (--quit, SIGINT, SIGTERM, the tray's Quit) closes the windows,
 * then the model stops every session the app started and waits for their
 * browsers; --quit answers its caller only once that is done. */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "i18n.h"
#include "model.h"
#include "notify.h"
#include "settings.h"
#include "tray_icon.h"

#ifdef G_OS_UNIX
#include <glib-unix.h>
#endif
#ifdef G_OS_WIN32
#include "instance_win32.h"
#include "ui_font_win32.h"
#endif

#define APP_ID "app.latchkey.Latchkey"

#define EXIT_USAGE 2

static lk_app *the_app;

lk_app *lk_app_get(void)
{
    return the_app;
}

/* ---- the command line ----------------------------------------------------- */

typedef struct cmdline {
    gboolean quit, hidden, version, help;
    GPtrArray *show_qr; /* paths as given */
    GPtrArray *doctor;
} cmdline;

static void cmdline_clear(cmdline *c)
{
    if (c->show_qr)
        g_ptr_array_free(c->show_qr, TRUE);
    if (c->doctor)
        g_ptr_array_free(c->doctor, TRUE);
    memset(c, 0, sizeof *c);
}

static void usage(GString *out)
{
    g_string_append_printf(out,
                           "%s\n"
                           "  latchkey                 %s\n"
                           "  latchkey --hidden        %s\n"
                           "  latchkey --show-qr PATH  %s\n"
                           "  latchkey --doctor PATH   %s\n"
                           "  latchkey --quit          %s\n"
                           "  latchkey --version\n",
                           _("Usage:"), _("start, or open the dashboard"),
                           _("start in the notification area only"),
                           _("show the live QR code of the session in folder PATH"),
                           _("find and end what locks the session folder PATH"),
                           _("stop every session Latchkey started, and quit"));
}

/* Reads argv[1..]; on bad input returns FALSE with a message in *err. */
static gboolean parse(int argc, char **argv, cmdline *c, char **err)
{
    int i;
    memset(c, 0, sizeof *c);
    c->show_qr = g_ptr_array_new_with_free_func(g_free);
    c->doctor = g_ptr_array_new_with_free_func(g_free);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        GPtrArray *into = NULL;
        const char *opt = NULL, *val = NULL;
        if (strcmp(a, "--quit") == 0) {
            c->quit = TRUE;
            continue;
        }
        if (strcmp(a, "--hidden") == 0) {
            c->hidden = TRUE;
            continue;
        }
        if (strcmp(a, "--version") == 0) {
            c->version = TRUE;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            c->help = TRUE;
            continue;
        }
        if (g_str_has_prefix(a, "--show-qr"))
            into = c->show_qr, opt = "--show-qr";
        else if (g_str_has_prefix(a, "--doctor"))
            into = c->doctor, opt = "--doctor";
        if (into) {
            const char *rest = a + strlen(opt);
            if (*rest == '=') {
                val = rest + 1;
            } else if (*rest) {
                into = NULL; /* "--show-qrx": unknown */
            } else if (i + 1 < argc && argv[i + 1][0] != '-') {
                val = argv[++i]; /* a folder named "-x": --show-qr=-x or ./-x */
            } else {
                *err = g_strdup_printf(_("%s needs a session folder: %s PATH"), opt, opt);
                return FALSE;
            }
        }
        if (into) {
            if (!*val) {
                *err = g_strdup_printf(_("%s needs a session folder, not an empty path"), opt);
                return FALSE;
            }
            g_ptr_array_add(into, g_strdup(val));
            continue;
        }
        if (a[0] == '-')
            *err = g_strdup_printf(_("unknown option %s"), a);
        else
            *err = g_strdup_printf(_("unexpected argument %s (a folder goes after --show-qr or "
                                     "--doctor)"),
                                   a);
        return FALSE;
    }
    if (c->quit && (c->show_qr->len || c->doctor->len || c->hidden)) {
        *err = g_strdup(_("--quit cannot be combined with other options"));
        return FALSE;
    }
    return TRUE;
}

/* A folder argument that names a file is refused (a missing one is fine:
 * --show-qr makes a new session there, --doctor says it is clean). */
static gboolean check_folder(const char *path, const char *shown, char **err)
{
    if (g_file_test(path, G_FILE_TEST_EXISTS) && !g_file_test(path, G_FILE_TEST_IS_DIR)) {
        *err = g_strdup_printf(_("%s is a file, not a session folder"), shown);
        return FALSE;
    }
    return TRUE;
}

/* ---- the running app ------------------------------------------------------ */

typedef struct app_priv {
    lk_app pub;
    gboolean up;      /* loop, model, tray and notifications exist */
    gboolean held;    /* g_application_hold while the tray icon exists */
    GSList *quitters; /* command lines of --quit, answered once everything stopped */
    guint sig_int, sig_term;
} app_priv;

/* Brings up what the first real command needs. FALSE with a message when
 * the DevTools loop cannot start. */
static gboolean bring_up(app_priv *p, char **err)
{
    lk_app *a = &p->pub;
    lk_error lerr;
    char *warning = NULL;
    if (p->up)
        return TRUE;
    lk_error_clear(&lerr);
    if (lk_cdp_loop_start(&a->loop, &lerr) != LK_OK) {
        *err = g_strdup_printf(_("Cannot start the DevTools connection thread: %s"), lerr.msg);
        return FALSE;
    }
    a->settings = lk_settings_load(&warning);
    if (warning) {
        g_warning("%s", warning);
        g_free(warning);
    }
    a->model = lk_model_new(a);
    a->tray = lk_tray_icon_new(a);
    g_application_hold(G_APPLICATION(a->gtk));
    p->held = TRUE;
    lk_notify_start(a);
    p->up = TRUE;
    return TRUE;
}

static void quit_app(app_priv *p)
{
    g_application_quit(G_APPLICATION(p->pub.gtk));
}

static void on_action_show_qr(GSimpleAction *act, GVariant *param, gpointer user)
{
    app_priv *p = user;
    char *err = NULL;
    if (!bring_up(p, &err)) {
        g_warning("%s", err);
        g_free(err);
        return;
    }
    lk_qr_window_present(&p->pub, g_variant_get_string(param, NULL));
}

static void present_dashboard(app_priv *p)
{
    char *err = NULL;
    if (!bring_up(p, &err)) {
        g_warning("%s", err);
        g_free(err);
        return;
    }
    lk_dashboard_present(&p->pub);
}

static void on_action_dashboard(GSimpleAction *act, GVariant *param, gpointer user)
{
    present_dashboard(user);
}

/* Activation without a command line: D-Bus activation, or a click on one of
 * GLib's own notifications where they carry no action (Windows). */
static void on_activate(GApplication *gapp, gpointer user)
{
    present_dashboard(user);
}

static void on_action_doctor(GSimpleAction *act, GVariant *param, gpointer user)
{
    app_priv *p = user;
    char *err = NULL;
    if (!bring_up(p, &err)) {
        g_warning("%s", err);
        g_free(err);
        return;
    }
    lk_doctor_dialog_present(&p->pub, NULL, g_variant_get_string(param, NULL));
}

static void on_action_quit(GSimpleAction *act, GVariant *param, gpointer user)
{
    quit_app(user);
}

#ifdef G_OS_UNIX
static gboolean on_signal(gpointer user)
{
    quit_app(user);
    return G_SOURCE_CONTINUE;
}
#endif

static void on_startup(GApplication *gapp, gpointer user)
{
    app_priv *p = user;
    /* The notifications' and the tray's actions: "app.show-qr" and
     * "app.dashboard" take the session's path (the dashboard may ignore it). */
    static const GActionEntry actions[] = {
        {"show-qr", on_action_show_qr, "s", NULL, NULL, {0}},
        {"dashboard", on_action_dashboard, "s", NULL, NULL, {0}},
        {"doctor", on_action_doctor, "s", NULL, NULL, {0}},
        {"quit", on_action_quit, NULL, NULL, NULL, {0}},
    };
    g_action_map_add_action_entries(G_ACTION_MAP(gapp), actions, G_N_ELEMENTS(actions), p);
    g_set_application_name("Latchkey");
    gtk_window_set_default_icon_name("latchkey");
#ifdef G_OS_WIN32
    lk_ui_font_check();
#endif
#ifdef G_OS_UNIX
    p->sig_int = g_unix_signal_add(SIGINT, on_signal, p);
    p->sig_term = g_unix_signal_add(SIGTERM, on_signal, p);
#endif
}

static int on_command_line(GApplication *gapp, GApplicationCommandLine *cl, gpointer user)
{
    app_priv *p = user;
    gchar **argv;
    int argc, rc = 0;
    guint i;
    cmdline c;
    char *err = NULL;
    GPtrArray *qr = g_ptr_array_new_with_free_func(g_free);
    GPtrArray *doc = g_ptr_array_new_with_free_func(g_free);

    argv = g_application_command_line_get_arguments(cl, &argc);
    if (!parse(argc, argv, &c, &err))
        goto bad;
    if (c.help) {
        GString *u = g_string_new(NULL);
        usage(u);
        g_application_command_line_print(cl, "%s", u->str);
        g_string_free(u, TRUE);
        goto out;
    }
    if (c.version) {
        g_application_command_line_print(cl, "latchkey %s\n", LK_VERSION);
        goto out;
    }
    /* Folders as the caller meant them: relative to the caller's folder. */
    for (i = 0; i < c.show_qr->len + c.doctor->len; i++) {
        gboolean is_qr = i < c.show_qr->len;
        const char *arg = is_qr ? g_ptr_array_index(c.show_qr, i)
                                : g_ptr_array_index(c.doctor, i - c.show_qr->len);
        GFile *f = g_application_command_line_create_file_for_arg(cl, arg);
        char *path = g_file_get_path(f);
        g_object_unref(f);
        if (!path) {
            err = g_strdup_printf(_("%s is not a local folder"), arg);
            goto bad;
        }
        if (!check_folder(path, arg, &err)) {
            g_free(path);
            goto bad;
        }
        g_ptr_array_add(is_qr ? qr : doc, path);
    }
    if (c.quit) {
        if (!p->up) {
            g_application_command_line_print(cl, "%s\n", _("Latchkey is not running."));
            goto out;
        }
        /* Answered after the sessions have stopped (see on_shutdown). */
        p->quitters = g_slist_prepend(p->quitters, g_object_ref(cl));
        quit_app(p);
        goto out;
    }
    if (!bring_up(p, &err)) {
        g_application_command_line_printerr(cl, "latchkey: %s\n", err);
        rc = 1;
        goto out;
    }
    for (i = 0; i < qr->len; i++)
        lk_qr_window_present(&p->pub, g_ptr_array_index(qr, i));
    for (i = 0; i < doc->len; i++)
        lk_doctor_dialog_present(&p->pub, NULL, g_ptr_array_index(doc, i));
    if (!c.hidden && qr->len == 0 && doc->len == 0)
        lk_dashboard_present(&p->pub);
    goto out;
bad:
    g_application_command_line_printerr(cl, "latchkey: %s\n%s\n", err, _("Try latchkey --help."));
    rc = EXIT_USAGE;
out:
    g_free(err);
    cmdline_clear(&c);
    g_ptr_array_free(qr, TRUE);
    g_ptr_array_free(doc, TRUE);
    g_strfreev(argv);
    return rc;
}

static void on_shutdown(GApplication *gapp, gpointer user)
{
    app_priv *p = user;
    lk_app *a = &p->pub;
    GList *wins = g_list_copy(gtk_application_get_windows(a->gtk)), *l;

    /* Windows first: they watch the model. */
    for (l = wins; l; l = l->next)
        gtk_widget_destroy(GTK_WIDGET(l->data));
    g_list_free(wins);
    if (a->tray) {
        lk_tray_icon_free(a->tray);
        a->tray = NULL;
    }
    if (p->held) {
        g_application_release(gapp);
        p->held = FALSE;
    }
    /* Stops every session the app started and waits for their browsers. */
    lk_model_free(a->model);
    a->model = NULL;
    if (a->loop)
        lk_cdp_loop_stop(a->loop);
    a->loop = NULL;
    lk_settings_free(a->settings);
    a->settings = NULL;
    p->up = FALSE;
    if (p->sig_int)
        g_source_remove(p->sig_int);
    if (p->sig_term)
        g_source_remove(p->sig_term);
    p->sig_int = p->sig_term = 0;
    /* Now `latchkey --quit` may return: nothing of ours runs any more. */
    g_slist_free_full(p->quitters, g_object_unref);
    p->quitters = NULL;
}

/* ---- main ----------------------------------------------------------------- */

int main(int argc, char **argv)
{
    app_priv p;
    cmdline c;
    char *err = NULL;
    int rc;
    guint i;
    char **args = argv;
    GApplicationFlags flags = G_APPLICATION_HANDLES_COMMAND_LINE;
#ifdef G_OS_WIN32
    lk_instance *instance = NULL;
    /* GApplication reads the UTF-16 command line itself; check the same one. */
    args = g_win32_get_command_line();
    argc = (int)g_strv_length(args);
#endif

    lk_i18n_init();
    if (!parse(argc, args, &c, &err)) {
        fprintf(stderr, "latchkey: %s\n%s\n", err, _("Try latchkey --help."));
        g_free(err);
        cmdline_clear(&c);
        rc = EXIT_USAGE;
        goto done;
    }
    for (i = 0; i < c.show_qr->len + c.doctor->len; i++) {
        const char *arg = i < c.show_qr->len ? g_ptr_array_index(c.show_qr, i)
                                             : g_ptr_array_index(c.doctor, i - c.show_qr->len);
        if (!check_folder(arg, arg, &err)) {
            fprintf(stderr, "latchkey: %s\n", err);
            g_free(err);
            cmdline_clear(&c);
            rc = EXIT_USAGE;
            goto done;
        }
    }
    if (c.help || c.version) {
        /* Answered here: no need to start or reach an instance. */
        if (c.help) {
            GString *u = g_string_new(NULL);
            usage(u);
            fputs(u->str, stdout);
            g_string_free(u, TRUE);
        } else {
            printf("latchkey %s\n", LK_VERSION);
        }
        cmdline_clear(&c);
        rc = 0;
        goto done;
    }
    cmdline_clear(&c);

    /* The app draws nothing with OpenGL, but GDK's X11 backend opens a GLX
     * context at start-up to choose visuals, which loads the GL driver: with
     * Mesa's llvmpipe that maps libLLVM, about 55 MB resident of an idle
     * tray app's 88 MB. Off unless the user asks for something else. */
    g_setenv("GDK_GL", "disable", FALSE);

#ifdef G_OS_WIN32
    /* One instance per user session through a named pipe (instance_win32.h),
     * not through GApplication's D-Bus, which Windows lacks. */
    switch (lk_instance_claim(argc, args, &instance, &rc, &err)) {
    case LK_INSTANCE_FORWARDED: goto done;
    case LK_INSTANCE_FAILED:
        fprintf(stderr, "latchkey: %s\n", err);
        g_free(err);
        rc = 1;
        goto done;
    case LK_INSTANCE_PRIMARY: break;
    }
    flags |= G_APPLICATION_NON_UNIQUE;
    /* Even so GApplication connects to a session bus, which on Windows means
     * starting gdbus.exe wherever GLib finds one (it would outlive us). The
     * app has nothing on a bus there: tell GLib there is none. */
    g_setenv("DBUS_SESSION_BUS_ADDRESS", "disabled:", TRUE);
#endif
    memset(&p, 0, sizeof p);
    p.pub.gtk = gtk_application_new(APP_ID, flags);
    the_app = &p.pub;
    g_signal_connect(p.pub.gtk, "startup", G_CALLBACK(on_startup), &p);
    g_signal_connect(p.pub.gtk, "command-line", G_CALLBACK(on_command_line), &p);
    g_signal_connect(p.pub.gtk, "activate", G_CALLBACK(on_activate), &p);
    g_signal_connect(p.pub.gtk, "shutdown", G_CALLBACK(on_shutdown), &p);
#ifdef G_OS_WIN32
    lk_instance_serve(instance, G_APPLICATION(p.pub.gtk));
#endif
    rc = g_application_run(G_APPLICATION(p.pub.gtk), argc, args);
#ifdef G_OS_WIN32
    lk_instance_free(instance);
#endif
    g_object_unref(p.pub.gtk);
    the_app = NULL;
done:
#ifdef G_OS_WIN32
    g_strfreev(args);
#endif
    return rc;
}
