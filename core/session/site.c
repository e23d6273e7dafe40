/* Site profiles: JSON that says how to read the page. Untrusted input. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latchkey/path.h"
#include "latchkey/site.h"
#include "latchkey/sys.h"
#include "session/embedded.h"
#include "util/strv.h"

#define MAX_SELECTOR 1024
#define MAX_LINKED 32

void lk_site_free(lk_site *s)
{
    size_t i;
    if (!s)
        return;
    free(s->name);
    free(s->url);
    free(s->qr_selector);
    free(s->qr_attribute);
    free(s->qr_canvas);
    for (i = 0; i < s->nlinked; i++)
        free(s->linked[i]);
    free(s->linked);
    free(s->conflict_text);
    free(s->conflict_selector);
    free(s->logout_url);
    free(s->version_expr);
    free(s);
}

/* A string field: present, a string, not empty, not too long, no NUL. */
static int take(json_t *obj, const char *key, int required, char **dst, lk_error *err)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    size_t n;
    if (!v || json_is_null(v)) {
        if (required)
            return lk_error_set(err, LK_EINVAL, 0, "site profile: \"%s\" is missing", key);
        return LK_OK;
    }
    if (!json_is_string(v))
        return lk_error_set(err, LK_EINVAL, 0, "site profile: \"%s\" must be a string", key);
    n = json_string_length(v);
    if (n == 0 || n > MAX_SELECTOR || strlen(json_string_value(v)) != n)
        return lk_error_set(err, LK_EINVAL, 0,
                            "site profile: \"%s\" must be 1 to %d characters without NUL", key,
                            MAX_SELECTOR);
    *dst = lk_strdup(json_string_value(v));
    return *dst ? LK_OK : lk_error_set(err, LK_ENOMEM, 0, "out of memory");
}

static int sub(json_t *root, const char *key, json_t **out, lk_error *err)
{
    *out = json_object_get(root, key);
    if (!*out || !json_is_object(*out))
        return lk_error_set(err, LK_EINVAL, 0, "site profile: \"%s\" must be an object", key);
    return LK_OK;
}

static int parse_linked(json_t *root, lk_site *s, lk_error *err)
{
    json_t *arr = json_object_get(root, "linked");
    size_t i;
    if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > MAX_LINKED)
        return lk_error_set(err, LK_EINVAL, 0,
                            "site profile: \"linked\" must be a list of 1 to %d selectors",
                            MAX_LINKED);
    s->linked = calloc(json_array_size(arr), sizeof *s->linked);
    if (!s->linked)
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    for (i = 0; i < json_array_size(arr); i++) {
        json_t *v = json_array_get(arr, i);
        if (!json_is_string(v) || json_string_length(v) == 0 ||
            json_string_length(v) > MAX_SELECTOR ||
            strlen(json_string_value(v)) != json_string_length(v))
            return lk_error_set(err, LK_EINVAL, 0,
                                "site profile: \"linked\"[%zu] must be a non-empty selector", i);
        s->linked[s->nlinked++] = lk_strdup(json_string_value(v));
    }
    return LK_OK;
}

int lk_site_parse(const char *json, size_t len, lk_site **out, lk_error *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr), *qr, *conflict, *logout;
    lk_site *s;
    int rc;

    *out = NULL;
    if (!root)
        return lk_error_set(err, LK_EINVAL, 0, "site profile: line %d: %s", jerr.line, jerr.text);
    if (!json_is_object(root)) {
        json_decref(root);
        return lk_error_set(err, LK_EINVAL, 0, "site profile: must be a JSON object");
    }
    s = calloc(1, sizeof *s);
    if (!s) {
        json_decref(root);
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    }
    if ((rc = take(root, "name", 1, &s->name, err)) || (rc = take(root, "url", 1, &s->url, err)) ||
        (rc = sub(root, "qr", &qr, err)) || (rc = take(qr, "selector", 1, &s->qr_selector, err)) ||
        (rc = take(qr, "attribute", 1, &s->qr_attribute, err)) ||
        (rc = take(qr, "canvas", 0, &s->qr_canvas, err)) || (rc = parse_linked(root, s, err)) ||
        (rc = sub(root, "conflict", &conflict, err)) ||
        (rc = take(conflict, "button_text", 0, &s->conflict_text, err)) ||
        (rc = take(conflict, "selector", 0, &s->conflict_selector, err)) ||
        (rc = sub(root, "logged_out", &logout, err)) ||
        (rc = take(logout, "url_contains", 1, &s->logout_url, err)) ||
        (rc = take(root, "version", 0, &s->version_expr, err))) {
        json_decref(root);
        lk_site_free(s);
        return rc;
    }
    if (strncmp(s->url, "http://", 7) != 0 && strncmp(s->url, "https://", 8) != 0 &&
        strncmp(s->url, "file://", 7) != 0) {
        json_decref(root);
        lk_site_free(s);
        return lk_error_set(err, LK_EINVAL, 0, "site profile: \"url\" must be http(s) or file");
    }
    if (!s->conflict_text && !s->conflict_selector) {
        json_decref(root);
        lk_site_free(s);
        return lk_error_set(err, LK_EINVAL, 0,
                            "site profile: \"conflict\" needs \"button_text\" or \"selector\"");
    }
    json_decref(root);
    *out = s;
    return LK_OK;
}

int lk_site_load(const char *path, lk_site **out, lk_error *err)
{
    char *buf = NULL;
    size_t n = 0;
    int rc;
    *out = NULL;
    rc = lk_sys_read_file(path, 256 * 1024, 0, &buf, &n, err);
    if (rc == LK_ENOENT)
        return lk_error_set(err, LK_ENOENT, 0, "cannot open site profile %s", path);
    if (rc != LK_OK)
        return rc;
    rc = lk_site_parse(buf, n, out, err);
    free(buf);
    if (rc != LK_OK && err) {
        char msg[sizeof err->msg];
        memcpy(msg, err->msg, sizeof msg);
        lk_error_set(err, err->code, 0, "%.200s: %.300s", path, msg);
    }
    return rc;
}

/* <exe dir>/LK_DATADIR_FROM_BINDIR/profiles ("../share/latchkey/profiles"):
 * where an installed tree keeps its profiles wherever it was installed. */
static char *installed_profiles_dir(void)
{
    char *exe = lk_sys_self_exe(), *dir, *joined, *out;
    int win;
    size_t need;
    if (!exe)
        return NULL;
    win = lk_sys_path_win();
    dir = lk_path_dir(exe, win);
    free(exe);
    if (!dir)
        return NULL;
    need = strlen(dir) + sizeof "/" LK_DATADIR_FROM_BINDIR "/profiles";
    joined = malloc(need);
    if (joined)
        snprintf(joined, need, "%s/%s/profiles", dir, LK_DATADIR_FROM_BINDIR);
    free(dir);
    out = lk_path_normalize(joined, win); /* "bin/../share" -> "share", native separators */
    free(joined);
    return out;
}

int lk_site_default(lk_site **out, lk_error *err)
{
    char *env = lk_sys_getenv("LATCHKEY_PROFILES");
    char *installed = installed_profiles_dir();
    const char *dirs[3];
    size_t i;
    int rc = -1;
    dirs[0] = env;
    dirs[1] = installed;
    dirs[2] = LK_DATADIR "/profiles";
    for (i = 0; i < 3 && rc < 0; i++) {
        char path[4096];
        if (!dirs[i])
            continue;
        snprintf(path, sizeof path, "%s/whatsapp-web.json", dirs[i]);
        /* A broken file that exists is an error to show, not to skip. */
        if (lk_sys_ftype(path) != LK_FT_NONE)
            rc = lk_site_load(path, out, err);
    }
    free(env);
    free(installed);
    if (rc >= 0)
        return rc;
    return lk_site_parse(lk_embedded_site_json, strlen(lk_embedded_site_json), out, err);
}
