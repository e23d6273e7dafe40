/* One owner per session folder: deliberate-stop markers and the lock that
 * orders them against a supervisor's launch (see owner.h). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latchkey/owner.h"
#include "latchkey/path.h"
#include "latchkey/sys.h"
#include "util/strv.h"

#define MARKER_MAX 4096    /* a marker is ~300 bytes; more is not one */
#define LOCK_WAIT_MS 60000 /* a launch holds the lock up to ~25 s on a slow box */
#define MARKER_VERSION 1

struct lk_owner_lock {
    lk_file_lock *file;
};

/* ---- where markers live ---------------------------------------------------- */

/* $LATCHKEY_HOME/owner, else <user data>/latchkey/owner. Created when make. */
static char *owner_dir(int make, lk_error *err)
{
    char *home = lk_sys_getenv("LATCHKEY_HOME"), *base, *dir;
    int win;
    if (home) {
        base = home;
    } else {
        char *data = lk_sys_data_dir();
        if (!data) {
            lk_error_set(err, LK_ENOENT, 0, "no data folder for Latchkey (set LATCHKEY_HOME)");
            return NULL;
        }
        base = lk_path_join(data, "latchkey", lk_sys_path_win());
        if (base && make && lk_sys_ftype(data) == LK_FT_NONE)
            lk_sys_mkdir(data, NULL);
        free(data);
    }
    if (!base) {
        lk_error_set(err, LK_ENOMEM, 0, "out of memory");
        return NULL;
    }
    win = lk_sys_path_win();
    dir = lk_path_join(base, "owner", win);
    if (dir && make && (lk_sys_mkdir(base, err) != LK_OK || lk_sys_mkdir(dir, err) != LK_OK)) {
        free(dir);
        dir = NULL;
    } else if (!dir) {
        lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    }
    free(base);
    return dir;
}

/* The folder as one string for every process: absolute, symlinks resolved
 * (the folder's own, or its parent's once the folder is gone), no Windows
 * namespace prefix, case-folded where paths ignore case. */
static char *key_of(const char *folder)
{
    char *abs = NULL, *real = NULL, *key = NULL, *owned = NULL;
    const char *k;
    int win;
    if (!folder || !*folder || lk_sys_abspath(folder, &abs, NULL) != LK_OK)
        return NULL;
    win = lk_sys_path_win();
    if (lk_sys_realpath(abs, &real, NULL) != LK_OK) {
        char *parent = lk_path_dir(abs, win), *rparent = NULL;
        if (parent && lk_sys_realpath(parent, &rparent, NULL) == LK_OK)
            real = lk_path_join(rparent, lk_path_base(abs, win), win);
        free(parent);
        free(rparent);
    }
    k = lk_path_strip_win_prefix(real ? real : abs, &owned);
    key = k ? lk_path_normalize(k, win) : NULL;
    if (key && win) {
        char *p;
        for (p = key; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
    }
    free(owned);
    free(real);
    free(abs);
    return key;
}

/* <dir>/<64-bit FNV-1a of the key, hex><suffix>. The full key is inside the
 * marker and checked on reading, so a collision can never match. */
static char *file_of(const char *dir, const char *key, const char *suffix)
{
    uint64_t h = 1469598103934665603ULL;
    const unsigned char *p;
    char name[40];
    for (p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    snprintf(name, sizeof name, "%016llx%s", (unsigned long long)h, suffix);
    return lk_path_join(dir, name, lk_sys_path_win());
}

static int lock_key(const char *dir, const char *key, int64_t deadline_ms, lk_file_lock **out,
                    lk_error *err)
{
    char *path = file_of(dir, key, ".lock");
    int rc;
    if (!path)
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    rc = lk_sys_lock_file(path, deadline_ms, out, err);
    free(path);
    return rc;
}

/* ---- who we are --------------------------------------------------------------- */

static int name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

/* The program's file name without ".exe", in the characters a marker allows. */
static void self_name(char *out, size_t size)
{
    char *exe = lk_sys_self_exe();
    const char *base = exe ? lk_path_base(exe, lk_sys_path_win()) : NULL;
    size_t n = 0, len;
    if (base) {
        len = strlen(base);
        if (len > 4 && lk_ascii_ncaseeq(base + len - 4, ".exe", 4))
            len -= 4;
        for (; n < len && n + 1 < size; n++)
            out[n] = name_char(base[n]) ? base[n] : '_';
    }
    out[n] = '\0';
    if (!n)
        snprintf(out, size, "latchkey");
    free(exe);
}

static int valid_action(const char *a)
{
    return a && (strcmp(a, "stop") == 0 || strcmp(a, "unlock") == 0 || strcmp(a, "cleanup") == 0);
}

static int valid_name(const char *s, size_t max)
{
    size_t n;
    if (!s || !*s)
        return 0;
    for (n = 0; s[n]; n++)
        if (n + 1 >= max || !name_char(s[n]))
            return 0;
    return 1;
}

/* ---- the API -------------------------------------------------------------------- */

int lk_owner_mark_stop(const char *folder, const char *action, lk_error *err)
{
    char *key = key_of(folder), *dir = NULL, *path = NULL, *text = NULL;
    lk_file_lock *lock = NULL;
    char by[64];
    json_t *o;
    int rc;
    if (!key)
        return lk_error_set(err, LK_EINVAL, 0, "not a usable session folder: %s",
                            folder ? folder : "(none)");
    if (!valid_action(action)) {
        free(key);
        return lk_error_set(err, LK_EINVAL, 0, "unknown stop action '%s'",
                            action ? action : "(none)");
    }
    self_name(by, sizeof by);
    o = json_pack("{s:i,s:s,s:s,s:s,s:I,s:I}", "version", MARKER_VERSION, "folder", key, "action",
                  action, "by", by, "pid", (json_int_t)lk_sys_self_pid(), "at_ms",
                  (json_int_t)lk_sys_wall_ms());
    text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!text) {
        rc = lk_error_set(err, LK_ENOMEM, 0, "out of memory");
        goto out;
    }
    if (!(dir = owner_dir(1, err))) {
        rc = err ? (int)err->code : LK_EIO;
        goto out;
    }
    if (!(path = file_of(dir, key, ".stop"))) {
        rc = lk_error_set(err, LK_ENOMEM, 0, "out of memory");
        goto out;
    }
    /* Under the lock: a supervisor that is launching now finishes first, so
     * its browser exists (and is found) when the caller looks for processes. */
    rc = lock_key(dir, key, lk_sys_now_ms() + LOCK_WAIT_MS, &lock, err);
    if (rc != LK_OK)
        goto out;
    rc = lk_sys_write_file_atomic(path, text, strlen(text), err);
    lk_sys_unlock_file(lock);
out:
    free(text);
    free(path);
    free(dir);
    free(key);
    return rc;
}

int lk_owner_stopped(const char *folder, lk_owner_stop *out)
{
    char *key = key_of(folder), *dir = NULL, *path = NULL, *buf = NULL;
    size_t len = 0;
    json_t *o = NULL;
    json_error_t jerr;
    const char *f, *action, *by;
    json_t *pid, *at, *ver;
    int found = 0;

    if (out)
        memset(out, 0, sizeof *out);
    if (!key || !(dir = owner_dir(0, NULL)) || !(path = file_of(dir, key, ".stop")))
        goto out;
    if (lk_sys_read_file(path, MARKER_MAX, 0, &buf, &len, NULL) != LK_OK)
        goto out;
    /* Anyone who can write the data folder wrote this: check every field. */
    o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(o))
        goto out;
    ver = json_object_get(o, "version");
    f = json_string_value(json_object_get(o, "folder"));
    action = json_string_value(json_object_get(o, "action"));
    by = json_string_value(json_object_get(o, "by"));
    pid = json_object_get(o, "pid");
    at = json_object_get(o, "at_ms");
    if (!json_is_integer(ver) || json_integer_value(ver) != MARKER_VERSION || !f ||
        strcmp(f, key) != 0 || !valid_action(action) || !valid_name(by, sizeof out->by) ||
        !json_is_integer(pid) || json_integer_value(pid) <= 0 ||
        json_integer_value(pid) > 0x7fffffff || !json_is_integer(at) || json_integer_value(at) < 0)
        goto out;
    found = 1;
    if (out) {
        snprintf(out->action, sizeof out->action, "%s", action);
        snprintf(out->by, sizeof out->by, "%s", by);
        out->pid = (long)json_integer_value(pid);
        out->at_ms = (int64_t)json_integer_value(at);
    }
out:
    json_decref(o);
    free(buf);
    free(path);
    free(dir);
    free(key);
    return found;
}

void lk_owner_clear_stop(const char *folder)
{
    char *key = key_of(folder), *dir = NULL, *path = NULL;
    if (key && (dir = owner_dir(0, NULL)) && (path = file_of(dir, key, ".stop")))
        lk_sys_unlink(path, NULL);
    free(path);
    free(dir);
    free(key);
}

void lk_owner_describe(const lk_owner_stop *st, char *buf, size_t size)
{
    if (!size)
        return;
    snprintf(buf, size, "stopped by %s %s (pid %ld)", st->by[0] ? st->by : "latchkey",
             st->action[0] ? st->action : "stop", st->pid);
}

int lk_owner_acquire(const char *folder, int64_t deadline_ms, lk_owner_lock **out, lk_error *err)
{
    char *key = key_of(folder), *dir = NULL;
    lk_owner_lock *l = NULL;
    int rc;
    *out = NULL;
    if (!key)
        return lk_error_set(err, LK_EINVAL, 0, "not a usable session folder: %s",
                            folder ? folder : "(none)");
    if (!(dir = owner_dir(1, err))) {
        free(key);
        return err ? (int)err->code : LK_EIO;
    }
    l = calloc(1, sizeof *l);
    rc = l ? lock_key(dir, key, deadline_ms, &l->file, err)
           : lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    if (rc == LK_OK) {
        *out = l;
        l = NULL;
    }
    free(l);
    free(dir);
    free(key);
    return rc;
}

void lk_owner_release(lk_owner_lock *l)
{
    if (!l)
        return;
    lk_sys_unlock_file(l->file);
    free(l);
}
