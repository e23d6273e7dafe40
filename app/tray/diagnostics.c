/* diagnostics.c - the report "Copy diagnostics" puts on the clipboard: what
 * the app knows of a session, what its folder looks like, and the versions of
 * everything involved. Built on a GTask thread; never the QR code itself (it
 * would log the account in). */
#include <jansson.h>
#include <string.h>

#include "diagnostics.h"
#include "entry_look.h"

#ifdef G_OS_UNIX /* defined by GLib's headers */
#include <sys/utsname.h>
#endif

#include "latchkey/browser.h"
#include "latchkey/discover.h"

#ifndef LK_VERSION
#define LK_VERSION "unknown"
#endif

typedef struct diag_job {
    json_t *session; /* what the model knew, taken on the main thread */
    char *path;
    char *chromium; /* the configured browser, NULL: find one */
} diag_job;

static void diag_job_free(gpointer p)
{
    diag_job *j = p;
    json_decref(j->session);
    g_free(j->path);
    g_free(j->chromium);
    g_free(j);
}

static json_t *jstr(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

static json_t *session_json(const lk_entry *e)
{
    const lk_session_info *in = &e->info;
    json_t *o = json_object();
    json_object_set_new(o, "path", json_string(e->path));
    json_object_set_new(o, "name", json_string(e->name));
    json_object_set_new(o, "kind", jstr(e->kind));
    json_object_set_new(o, "running", json_boolean(e->running));
    json_object_set_new(o, "state", json_string(lk_state_name(in->state)));
    json_object_set_new(o, "folder_state", json_string(lk_folder_state_name(e->folder)));
    json_object_set_new(o, "shown_as", json_string(lk_entry_state_text(e)));
    json_object_set_new(o, "browser_started_by", jstr(e->launcher));
    json_object_set_new(o, "reason", jstr(in->reason));
    json_object_set_new(o, "since_ms", json_integer(in->since_ms));
    json_object_set_new(o, "url", jstr(in->url));
    json_object_set_new(o, "web_version", jstr(in->version));
    json_object_set_new(o, "attached", json_boolean(in->attached));
    json_object_set_new(o, "browser_pid",
                        in->browser_pid > 0 ? json_integer(in->browser_pid) : json_null());
    json_object_set_new(o, "process_count", json_integer(in->process_count));
    json_object_set_new(o, "memory_bytes", json_integer(in->memory_bytes));
    json_object_set_new(o, "rtt_ms", json_integer(in->rtt_ms));
    json_object_set_new(o, "started_ms", json_integer(in->started_ms));
    json_object_set_new(o, "uptime_s",
                        in->started_ms > 0 && e->running
                            ? json_integer(((g_get_real_time() / 1000) - in->started_ms) / 1000)
                            : json_null());
    json_object_set_new(o, "restarts", json_integer(in->restarts));
    json_object_set_new(o, "last_error", jstr(in->last_error));
    /* Whether a code is showing, never the code: it logs the account in. */
    json_object_set_new(o, "qr_shown", json_boolean(in->qr || in->qr_png_len > 0));
    json_object_set_new(o, "qr_from_canvas", json_boolean(in->qr_from_canvas));
    json_object_set_new(o, "qr_rotations", json_integer(in->rotations));
    json_object_set_new(o, "updated_ms", json_integer(e->seen_ms));
    return o;
}

static char *read_small(const char *dir, const char *name)
{
    char *file = g_build_filename(dir, name, NULL), *text = NULL;
    gsize len = 0;
    if (g_file_get_contents(file, &text, &len, NULL) && len > 256) {
        g_free(text);
        text = NULL;
    }
    g_free(file);
    if (text)
        g_strstrip(text);
    return text;
}

/* What the folder looks like: the files that tell a support person how a
 * Chromium left it. */
static json_t *folder_json(const char *path)
{
    static const char *const marks[] = {"Local State",     "SingletonLock",      "SingletonSocket",
                                        "SingletonCookie", "DevToolsActivePort", "lockfile",
                                        "Default"};
    json_t *o = json_object(), *present = json_array();
    size_t i;
    gboolean exists = g_file_test(path, G_FILE_TEST_IS_DIR);
    json_object_set_new(o, "exists", json_boolean(exists));
    for (i = 0; exists && i < G_N_ELEMENTS(marks); i++) {
        char *f = g_build_filename(path, marks[i], NULL);
        /* a dangling SingletonLock link still counts: that is a stale lock */
        if (g_file_test(f, G_FILE_TEST_EXISTS | G_FILE_TEST_IS_SYMLINK))
            json_array_append_new(present, json_string(marks[i]));
        g_free(f);
    }
    json_object_set_new(o, "present", present);
    char *last = exists ? read_small(path, "Last Version") : NULL;
    json_object_set_new(o, "chromium_last_version", jstr(last));
    g_free(last);
    return o;
}

static json_t *versions_json(const char *chromium_cfg)
{
    json_t *o = json_object(), *os = json_object(), *cr = json_object();
    char gtkv[32];
    g_snprintf(gtkv, sizeof gtkv, "%u.%u.%u", gtk_get_major_version(), gtk_get_minor_version(),
               gtk_get_micro_version());
    json_object_set_new(o, "latchkey", json_string(LK_VERSION));
    json_object_set_new(o, "gtk", json_string(gtkv));
    json_object_set_new(o, "jansson", json_string(jansson_version_str()));

    char *pretty = g_get_os_info(G_OS_INFO_KEY_PRETTY_NAME);
    char *osver = g_get_os_info(G_OS_INFO_KEY_VERSION);
    json_object_set_new(os, "name", jstr(pretty));
    json_object_set_new(os, "version", jstr(osver));
    g_free(pretty);
    g_free(osver);
#ifdef G_OS_UNIX
    struct utsname u;
    if (uname(&u) == 0) {
        json_object_set_new(os, "kernel", json_sprintf("%s %s", u.sysname, u.release));
        json_object_set_new(os, "machine", json_string(u.machine));
    }
#endif
    json_object_set_new(o, "os", os);

    char *exe = NULL;
    lk_error err;
    lk_error_clear(&err);
    if (lk_browser_find(chromium_cfg, &exe, &err) == LK_OK) {
        json_object_set_new(cr, "path", json_string(exe));
        free(exe);
    } else {
        json_object_set_new(cr, "path", json_null());
        json_object_set_new(cr, "error", json_string(err.msg));
    }
    json_object_set_new(cr, "configured", jstr(chromium_cfg));
    json_object_set_new(o, "chromium", cr);
    return o;
}

static void diag_thread(GTask *task, gpointer src, gpointer data, GCancellable *cancel)
{
    diag_job *j = data;
    json_t *r = json_object();
    char when[64];
    GDateTime *now = g_date_time_new_now_utc();
    char *iso = g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");
    g_strlcpy(when, iso, sizeof when);
    g_free(iso);
    g_date_time_unref(now);

    json_object_set_new(r, "report", json_string("latchkey-diagnostics"));
    json_object_set_new(r, "generated", json_string(when));
    json_object_set_new(r, "versions", versions_json(j->chromium));
    json_object_set(r, "session", j->session);
    json_object_set_new(r, "folder", folder_json(j->path));
    char *text = json_dumps(r, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(r);
    g_task_return_pointer(task, g_strdup(text), g_free);
    free(text);
}

void lk_diagnostics_build(const lk_entry *e, const char *chromium, GCancellable *cancel,
                          GAsyncReadyCallback done, gpointer user)
{
    diag_job *j = g_new0(diag_job, 1);
    GTask *task;
    j->session = session_json(e);
    j->path = g_strdup(e->path);
    j->chromium = g_strdup(chromium);
    task = g_task_new(NULL, cancel, done, user);
    g_task_set_task_data(task, j, diag_job_free);
    g_task_run_in_thread(task, diag_thread);
    g_object_unref(task);
}

char *lk_diagnostics_finish(GAsyncResult *res)
{
    return g_task_propagate_pointer(G_TASK(res), NULL);
}
