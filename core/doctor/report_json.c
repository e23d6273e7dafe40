/* The JSON contract of `latchkeyctl holders --json`, `cleanup --json`,
 * `unlock --json` and `stop --json`. */
#include <jansson.h>
#include <stdlib.h>
#include <stdio.h>

#include "latchkey/doctor.h"

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* UTC ISO 8601 from Unix milliseconds, without the C library's per-OS gmtime. */
static json_t *iso_time(int64_t ms)
{
    char buf[80]; /* room for any int, so no -Wformat-truncation */
    int64_t secs = ms / 1000, days = secs / 86400, rem = secs % 86400;
    int64_t z = days + 719468, era = z / 146097, doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2);
    if (ms <= 0)
        return json_null();
    snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", (int)y, (int)m, (int)d,
             (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
    return json_string(buf);
}

static json_t *lk_launcher_json(const lk_holder *hd)
{
    if (!hd || !hd->launcher.pid)
        return json_null();
    return json_pack("{s:I,s:o,s:b}", "pid", (json_int_t)hd->launcher.pid, "name",
                     str_or_null(hd->launcher.name), "alive", hd->launcher.alive);
}

static json_t *holder_json(const lk_holder *hd)
{
    json_t *o = json_object(), *held = json_array();
    size_t i;
    json_object_set_new(o, "pid", json_integer(hd->proc.pid));
    json_object_set_new(o, "ppid", json_integer(hd->proc.ppid));
    json_object_set_new(o, "name", str_or_null(hd->proc.name));
    json_object_set_new(o, "exe", str_or_null(hd->proc.exe));
    json_object_set_new(o, "cmdline", str_or_null(hd->proc.cmdline));
    json_object_set_new(o, "user", str_or_null(hd->proc.user));
    json_object_set_new(o, "start_time", iso_time(hd->proc.start_ms));
    json_object_set_new(o, "kind", json_string(lk_kind_name(hd->kind)));
    json_object_set_new(o, "killable", json_boolean(hd->killable));
    json_object_set_new(o, "why_not", str_or_null(hd->why_not));
    for (i = 0; i < hd->nheld; i++) {
        json_t *h = json_object();
        json_object_set_new(h, "path", json_string(hd->held[i].path));
        json_object_set_new(h, "how", json_string(lk_how_name(hd->held[i].how)));
        json_array_append_new(held, h);
    }
    json_object_set_new(o, "held", held);
    if (hd->kind == LK_KIND_CHROMIUM_BROWSER) {
        json_object_set_new(o, "launcher", lk_launcher_json(hd));
        json_object_set_new(o, "orphaned", json_boolean(hd->orphaned));
        json_object_set_new(o, "owned", json_boolean(hd->owned));
    }
    return o;
}

static json_t *holder_array(const lk_holders *h)
{
    json_t *arr = json_array();
    size_t i;
    for (i = 0; h && i < h->nholders; i++)
        json_array_append_new(arr, holder_json(&h->holders[i]));
    return arr;
}

static json_t *holders_json(const lk_holders *h)
{
    json_t *o = json_object(), *arr = holder_array(h), *blind = json_array(), *locks = json_array();
    size_t i;
    json_object_set_new(o, "path", json_string(h->path));
    for (i = 0; i < h->nblind; i++) {
        json_t *b = json_object();
        json_object_set_new(b, "pid", json_integer(h->blind[i].pid));
        json_object_set_new(b, "name", str_or_null(h->blind[i].name));
        json_object_set_new(b, "reason", str_or_null(h->blind[i].reason));
        json_array_append_new(blind, b);
    }
    for (i = 0; i < h->nlocks; i++) {
        json_t *l = json_object();
        json_object_set_new(l, "file", json_string(h->locks[i].file));
        json_object_set_new(l, "owner_pid",
                            h->locks[i].owner_pid ? json_integer(h->locks[i].owner_pid)
                                                  : json_null());
        json_object_set_new(l, "stale", json_boolean(h->locks[i].stale));
        json_array_append_new(locks, l);
    }
    json_object_set_new(o, "holders", arr);
    json_object_set_new(o, "uninspectable", blind);
    json_object_set_new(o, "locks", locks);
    return o;
}

static char *dump(json_t *o)
{
    char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    return s;
}

char *lk_holders_to_json(const lk_holders *h)
{
    return dump(holders_json(h));
}

static json_t *strings(char *const *v, size_t n)
{
    json_t *arr = json_array();
    size_t i;
    for (i = 0; i < n; i++)
        json_array_append_new(arr, json_string(v[i]));
    return arr;
}

char *lk_cleanup_to_json(const lk_cleanup *c)
{
    json_t *o = json_object(), *killed = json_array(), *spared = json_array();
    size_t i;
    json_object_set_new(o, "path", json_string(c->path ? c->path : ""));
    json_object_set_new(o, "action", json_string(c->action ? c->action : "cleanup"));
    json_object_set_new(o, "result", json_string(lk_result_name(c->result)));
    for (i = 0; i < c->nkilled; i++) {
        json_t *k = json_object();
        json_object_set_new(k, "pid", json_integer(c->killed[i].pid));
        json_object_set_new(k, "name", str_or_null(c->killed[i].name));
        json_object_set_new(k, "how", json_string(c->killed[i].forced ? "forced" : "graceful"));
        json_object_set_new(k, "note", str_or_null(c->killed[i].note));
        json_array_append_new(killed, k);
    }
    for (i = 0; i < c->nspared; i++) {
        json_t *s = json_object();
        json_object_set_new(s, "pid", json_integer(c->spared[i].pid));
        json_object_set_new(s, "name", str_or_null(c->spared[i].name));
        json_object_set_new(s, "why", str_or_null(c->spared[i].why));
        json_array_append_new(spared, s);
    }
    json_object_set_new(o, "killed", killed);
    json_object_set_new(o, "spared", spared);
    json_object_set_new(o, "left", strings(c->left, c->nleft));
    json_object_set_new(o, "quarantine", str_or_null(c->quarantine));
    json_object_set_new(o, "removed", strings(c->removed, c->nremoved));
    json_object_set_new(o, "warnings", strings(c->warnings, c->nwarnings));
    /* What deleting the folder loses (the login), as counted before. */
    json_object_set_new(o, "loses",
                        c->counted ? json_pack("{s:I,s:I}", "files", (json_int_t)c->files,
                                               "bytes", (json_int_t)c->bytes)
                                   : json_null());
    json_object_set_new(o, "elapsed_ms", json_integer(c->elapsed_ms));
    json_object_set_new(o, "message", str_or_null(c->message));
    /* What was found before anything was done: the plan, on a dry run. */
    json_object_set_new(o, "holders", holder_array(c->before));
    return dump(o);
}
