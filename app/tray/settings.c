/* settings.c - settings.json in the user's config folder, and start at sign-in.
 *
 * The file is untrusted input: anything that is not what we wrote (broken
 * JSON, wrong types) falls back to the defaults and says so; a file that
 * cannot be read at all is kept aside as settings.json.broken so the next
 * save does not destroy what the user may want to recover. */
#include "settings.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include <string.h>

#include "i18n.h"

#include "latchkey/discover.h"
#include "latchkey/sys.h"

#ifdef G_OS_WIN32
#include <gio/gio.h> /* G_IO_ERROR, for the Run key's errors */
#include <windows.h>
#endif

#define MAX_SETTINGS_BYTES (1024 * 1024)

/* $LATCHKEY_HOME, else <user config dir>/latchkey. */
static char *config_dir(void)
{
    const char *home = g_getenv("LATCHKEY_HOME");
    if (home && *home)
        return g_strdup(home);
    return g_build_filename(g_get_user_config_dir(), "latchkey", NULL);
}

static char *settings_path(void)
{
    char *dir = config_dir();
    char *p = g_build_filename(dir, "settings.json", NULL);
    g_free(dir);
    return p;
}

static void add_warning(GString *w, const char *text)
{
    if (w->len)
        g_string_append(w, " ");
    g_string_append(w, text);
}

static char *default_session_root(void)
{
    char *r = lk_default_session_root();
    char *out = g_strdup(r ? r : "");
    free(r);
    return out;
}

static lk_settings *defaults(void)
{
    lk_settings *s = g_new0(lk_settings, 1);
    s->roots = g_new0(char *, 1);
    s->session_root = default_session_root();
    return s;
}

/* A non-empty string, or NULL. */
static const char *str_of(json_t *v)
{
    const char *t = json_is_string(v) ? json_string_value(v) : NULL;
    return t && *t ? t : NULL;
}

static void read_fields(lk_settings *s, json_t *o, GString *w)
{
    json_t *v;
    size_t i;

    v = json_object_get(o, "roots");
    if (json_is_array(v)) {
        GPtrArray *roots = g_ptr_array_new();
        gboolean bad = FALSE;
        json_t *item;
        json_array_foreach(v, i, item)
        {
            const char *r = str_of(item);
            if (r && g_path_is_absolute(r))
                g_ptr_array_add(roots, g_strdup(r));
            else
                bad = TRUE;
        }
        g_ptr_array_add(roots, NULL);
        g_strfreev(s->roots);
        s->roots = (char **)g_ptr_array_free(roots, FALSE);
        if (bad)
            add_warning(w,
                        _("Settings: ignored session roots that are not absolute folder paths."));
    } else if (v && !json_is_null(v)) {
        add_warning(w, _("Settings: \"roots\" is not a list; no extra folders are watched."));
    }

    v = json_object_get(o, "session_root");
    if (str_of(v) && g_path_is_absolute(str_of(v))) {
        g_free(s->session_root);
        s->session_root = g_strdup(str_of(v));
    } else if (v && !json_is_null(v)) {
        add_warning(w, _("Settings: \"session_root\" is not an absolute folder path; using the "
                         "default."));
    }

    v = json_object_get(o, "chromium");
    if (str_of(v))
        s->chromium = g_strdup(str_of(v));
    else if (v && !json_is_null(v) && !json_is_string(v))
        add_warning(w, _("Settings: \"chromium\" is not a path; Latchkey finds a browser itself."));

    v = json_object_get(o, "headed");
    if (json_is_boolean(v))
        s->headed = json_is_true(v);
    else if (v)
        add_warning(w, _("Settings: \"headed\" is not true or false; browsers run hidden."));

    v = json_object_get(o, "autostart");
    if (json_is_boolean(v))
        s->autostart = json_is_true(v);
    else if (v)
        add_warning(w, _("Settings: \"autostart\" is not true or false; not starting at sign-in."));
}

/* Keeps a broken file aside so saving the defaults does not destroy it. */
static void keep_broken(const char *path, const char *why, GString *w)
{
    char *aside = g_strconcat(path, ".broken", NULL);
    char *msg;
    if (g_rename(path, aside) == 0)
        msg = g_strdup_printf(_("The settings file %s could not be read (%s); it was kept as %s "
                                "and the defaults are used."),
                              path, why, aside);
    else
        msg = g_strdup_printf(_("The settings file %s could not be read (%s); the defaults are "
                                "used."),
                              path, why);
    add_warning(w, msg);
    g_free(msg);
    g_free(aside);
}

lk_settings *lk_settings_load(char **warning)
{
    lk_settings *s = defaults();
    char *path = settings_path();
    GString *w = g_string_new(NULL);
    GError *gerr = NULL;
    char *text = NULL;
    gsize len = 0;

    if (warning)
        *warning = NULL;
    if (!g_file_get_contents(path, &text, &len, &gerr)) {
        if (!g_error_matches(gerr, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
            char *msg = g_strdup_printf(_("The settings file %s could not be read: %s"), path,
                                        gerr->message);
            add_warning(w, msg);
            g_free(msg);
        }
        g_clear_error(&gerr);
    } else if (len > MAX_SETTINGS_BYTES) {
        keep_broken(path, _("it is too large"), w);
    } else {
        json_error_t jerr;
        json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!o) {
            char *why = g_strdup_printf(_("line %d: %s"), jerr.line, jerr.text);
            keep_broken(path, why, w);
            g_free(why);
        } else if (!json_is_object(o)) {
            keep_broken(path, _("it is not a JSON object"), w);
        } else {
            read_fields(s, o, w);
        }
        json_decref(o);
    }
    g_free(text);
    g_free(path);
    if (warning && w->len)
        *warning = g_string_free(w, FALSE);
    else
        g_string_free(w, TRUE);
    return s;
}

gboolean lk_settings_save(const lk_settings *s, GError **error)
{
    json_t *o = json_object(), *roots = json_array();
    char *dir = config_dir(), *path = NULL, *text = NULL;
    gboolean ok = FALSE;
    size_t i;

    for (i = 0; s->roots && s->roots[i]; i++)
        json_array_append_new(roots, json_string(s->roots[i]));
    json_object_set_new(o, "roots", roots);
    json_object_set_new(o, "session_root",
                        s->session_root ? json_string(s->session_root) : json_null());
    json_object_set_new(o, "chromium", s->chromium ? json_string(s->chromium) : json_null());
    json_object_set_new(o, "headed", json_boolean(s->headed));
    json_object_set_new(o, "autostart", json_boolean(s->autostart));
    text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!text) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOMEM, "%s", _("Out of memory."));
        goto out;
    }
    if (g_mkdir_with_parents(dir, 0700) != 0) {
        int e = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e),
                    _("Cannot create the folder %s: %s"), dir, g_strerror(e));
        goto out;
    }
    path = g_build_filename(dir, "settings.json", NULL);
    /* Written to a temporary file and renamed over: never half a file. */
    ok = g_file_set_contents(path, text, -1, error);
out:
    free(text);
    g_free(path);
    g_free(dir);
    return ok;
}

#ifdef G_OS_WIN32

#define RUN_KEY L"Software\\Microsoft\\Windows\\CurrentVersion\\Run"

gboolean lk_settings_apply_autostart(const lk_settings *s, GError **error)
{
    HKEY key;
    LONG rc = RegOpenKeyExW(HKEY_CURRENT_USER, RUN_KEY, 0, KEY_SET_VALUE, &key);
    if (rc != ERROR_SUCCESS) {
        char *m = g_win32_error_message(rc);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Cannot open the Run registry key: %s"),
                    m);
        g_free(m);
        return FALSE;
    }
    if (s->autostart) {
        wchar_t exe[MAX_PATH * 4];
        DWORD n = GetModuleFileNameW(NULL, exe, G_N_ELEMENTS(exe));
        wchar_t *cmd;
        size_t bytes;
        if (n == 0 || n >= G_N_ELEMENTS(exe)) {
            RegCloseKey(key);
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s",
                        _("Cannot find Latchkey's own executable."));
            return FALSE;
        }
        /* "C:\...\latchkey.exe" --hidden */
        bytes = (wcslen(exe) + 32) * sizeof(wchar_t);
        cmd = g_malloc(bytes);
        _snwprintf(cmd, bytes / sizeof(wchar_t), L"\"%ls\" --hidden", exe);
        cmd[bytes / sizeof(wchar_t) - 1] = 0;
        rc = RegSetValueExW(key, L"Latchkey", 0, REG_SZ, (const BYTE *)cmd,
                            (DWORD)((wcslen(cmd) + 1) * sizeof(wchar_t)));
        g_free(cmd);
    } else {
        rc = RegDeleteValueW(key, L"Latchkey");
        if (rc == ERROR_FILE_NOT_FOUND)
            rc = ERROR_SUCCESS;
    }
    RegCloseKey(key);
    if (rc != ERROR_SUCCESS) {
        char *m = g_win32_error_message(rc);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    _("Cannot change the Run registry key: %s"), m);
        g_free(m);
        return FALSE;
    }
    return TRUE;
}

gboolean lk_settings_autostart_active(void)
{
    HKEY key;
    LONG rc = RegOpenKeyExW(HKEY_CURRENT_USER, RUN_KEY, 0, KEY_QUERY_VALUE, &key);
    if (rc != ERROR_SUCCESS)
        return FALSE;
    rc = RegQueryValueExW(key, L"Latchkey", NULL, NULL, NULL, NULL);
    RegCloseKey(key);
    return rc == ERROR_SUCCESS;
}

#else

/* What the entry runs: "latchkey" when that is this very program on PATH,
 * else this program's absolute path (a build folder, a per-user install). */
static char *exec_line(void)
{
    char *self = lk_sys_self_exe(), *found = g_find_program_in_path("latchkey"), *out;
    char *real_found = NULL;
    lk_error err;
    if (found)
        lk_sys_realpath(found, &real_found, &err);
    if (!self || (real_found && strcmp(real_found, self) == 0)) {
        out = g_strdup("latchkey --hidden");
    } else {
        /* Desktop Entry quoting: inside "...", escape " ` $ and \. */
        GString *q = g_string_new("\"");
        const char *c;
        for (c = self; *c; c++) {
            if (strchr("\"`$\\", *c))
                g_string_append_c(q, '\\');
            g_string_append_c(q, *c);
        }
        g_string_append(q, "\" --hidden");
        out = g_string_free(q, FALSE);
    }
    free(real_found);
    free(self);
    g_free(found);
    return out;
}

gboolean lk_settings_apply_autostart(const lk_settings *s, GError **error)
{
    char *dir = g_build_filename(g_get_user_config_dir(), "autostart", NULL);
    char *path = g_build_filename(dir, "latchkey.desktop", NULL);
    gboolean ok = TRUE;

    if (s->autostart) {
        char *exec = exec_line();
        char *text =
            g_strdup_printf("[Desktop Entry]\n"
                            "Type=Application\n"
                            "Name=Latchkey\n"
                            "Comment=%s\n"
                            "Exec=%s\n"
                            "Icon=latchkey\n"
                            "Terminal=false\n"
                            "X-GNOME-Autostart-enabled=true\n",
                            _("Live QR codes and health of your WhatsApp Web sessions"), exec);
        if (g_mkdir_with_parents(dir, 0700) != 0) {
            int e = errno;
            g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e),
                        _("Cannot create the folder %s: %s"), dir, g_strerror(e));
            ok = FALSE;
        } else {
            ok = g_file_set_contents(path, text, -1, error);
        }
        g_free(text);
        g_free(exec);
    } else if (g_unlink(path) != 0 && errno != ENOENT) {
        int e = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), _("Cannot remove %s: %s"),
                    path, g_strerror(e));
        ok = FALSE;
    }
    g_free(path);
    g_free(dir);
    return ok;
}

gboolean lk_settings_autostart_active(void)
{
    char *path = g_build_filename(g_get_user_config_dir(), "autostart", "latchkey.desktop", NULL);
    GKeyFile *kf = g_key_file_new();
    gboolean on = FALSE;
    if (g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL)) {
        /* Desktops switch an entry off in place rather than delete it. */
        GError *e = NULL;
        gboolean hidden = g_key_file_get_boolean(kf, "Desktop Entry", "Hidden", NULL);
        gboolean enabled =
            g_key_file_get_boolean(kf, "Desktop Entry", "X-GNOME-Autostart-enabled", &e);
        if (e) {
            enabled = TRUE; /* not said: on */
            g_error_free(e);
        }
        on = !hidden && enabled;
    }
    g_key_file_free(kf);
    g_free(path);
    return on;
}

#endif

void lk_settings_free(lk_settings *s)
{
    if (!s)
        return;
    g_strfreev(s->roots);
    g_free(s->session_root);
    g_free(s->chromium);
    g_free(s);
}
