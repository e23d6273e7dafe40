/* The JSON contract: every key the CLI promises, with the right types. */
#include <jansson.h>
#include <stdlib.h>

#include "latchkey/doctor.h"
#include "../lk_check.h"

static int has(json_t *o, const char *key, json_type type)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        printf("missing key %s\n", key);
    return v && (json_typeof(v) == type || json_is_null(v));
}

int main(void)
{
    lk_held held = {"/tmp/s/Default/Cookies", LK_HOW_FILE};
    char *argv[] = {"chromium", "--user-data-dir=/tmp/s"};
    lk_holder hd;
    lk_blind blind = {42, "secret", "permission denied"};
    lk_lock lock = {"/tmp/s/SingletonLock", 1234, 1};
    lk_holders h;
    lk_killed killed = {1234, "chromium", 1, "the browser of a running bot: node pid 77"};
    char *removed[] = {"/tmp/s/SingletonLock"};
    char *warnings[] = {"ended chromium (pid 1234), the browser of a running bot"};
    lk_spared spared = {7, "explorer", "Explorer: close its windows"};
    char *left[] = {"/tmp/s/Default"};
    lk_cleanup c;
    json_error_t jerr;
    json_t *o, *hj, *cj;
    char *s;

    memset(&hd, 0, sizeof hd);
    hd.proc.pid = 1234;
    hd.proc.ppid = 1;
    hd.proc.name = "chromium";
    hd.proc.cmdline = "chromium --user-data-dir=/tmp/s";
    hd.proc.argv = argv;
    hd.proc.argc = 2;
    hd.proc.start_ms = 1763784000123LL; /* 2025-11-22T04:00:00Z */
    hd.kind = LK_KIND_CHROMIUM_BROWSER;
    hd.killable = 1;
    hd.launcher.pid = 77;
    hd.launcher.name = "node";
    hd.launcher.alive = 1;
    hd.held = &held;
    hd.nheld = 1;
    memset(&h, 0, sizeof h);
    h.path = "/tmp/s";
    h.holders = &hd;
    h.nholders = 1;
    h.blind = &blind;
    h.nblind = 1;
    h.locks = &lock;
    h.nlocks = 1;

    s = lk_holders_to_json(&h);
    o = json_loads(s, 0, &jerr);
    CHECK(o != NULL);
    CHECK(has(o, "path", JSON_STRING));
    CHECK(has(o, "holders", JSON_ARRAY) && json_array_size(json_object_get(o, "holders")) == 1);
    hj = json_array_get(json_object_get(o, "holders"), 0);
    CHECK(has(hj, "pid", JSON_INTEGER) && has(hj, "ppid", JSON_INTEGER));
    CHECK(has(hj, "name", JSON_STRING) && has(hj, "exe", JSON_STRING));
    CHECK(has(hj, "cmdline", JSON_STRING) && has(hj, "user", JSON_STRING));
    CHECK(has(hj, "start_time", JSON_STRING) && has(hj, "kind", JSON_STRING));
    CHECK(has(hj, "killable", JSON_TRUE) && has(hj, "why_not", JSON_STRING));
    CHECK_STR(json_string_value(json_object_get(hj, "start_time")), "2025-11-22T04:00:00Z");
    CHECK_STR(json_string_value(json_object_get(hj, "kind")), "chromium-browser");
    /* The browser's launcher: who started it, and whether it still runs. */
    CHECK(has(hj, "launcher", JSON_OBJECT) && json_is_object(json_object_get(hj, "launcher")));
    CHECK(json_integer_value(json_object_get(json_object_get(hj, "launcher"), "pid")) == 77);
    CHECK_STR(json_string_value(json_object_get(json_object_get(hj, "launcher"), "name")), "node");
    CHECK(json_is_true(json_object_get(json_object_get(hj, "launcher"), "alive")));
    CHECK(json_is_false(json_object_get(hj, "orphaned")));
    CHECK_STR(
        json_string_value(json_object_get(json_array_get(json_object_get(hj, "held"), 0), "how")),
        "file");
    CHECK(json_integer_value(json_object_get(json_array_get(json_object_get(o, "uninspectable"), 0),
                                             "pid")) == 42);
    cj = json_array_get(json_object_get(o, "locks"), 0);
    CHECK(json_is_true(json_object_get(cj, "stale")));
    CHECK(json_integer_value(json_object_get(cj, "owner_pid")) == 1234);
    json_decref(o);
    free(s);

    /* An orphan whose launcher's pid is lost: null, not a made-up object. */
    hd.launcher.pid = 0;
    hd.launcher.name = NULL;
    hd.launcher.alive = 0;
    hd.orphaned = 1;
    s = lk_holders_to_json(&h);
    o = json_loads(s, 0, &jerr);
    hj = json_array_get(json_object_get(o, "holders"), 0);
    CHECK(json_is_null(json_object_get(hj, "launcher")));
    CHECK(json_is_true(json_object_get(hj, "orphaned")));
    json_decref(o);
    free(s);

    memset(&c, 0, sizeof c);
    c.path = "/tmp/s";
    c.action = "cleanup";
    c.removed = removed;
    c.nremoved = 1;
    c.warnings = warnings;
    c.nwarnings = 1;
    c.files = 12;
    c.bytes = 3456;
    c.counted = 1;
    c.result = LK_RESULT_QUARANTINED;
    c.before = &h;
    c.killed = &killed;
    c.nkilled = 1;
    c.spared = &spared;
    c.nspared = 1;
    c.left = left;
    c.nleft = 1;
    c.quarantine = "/tmp/.latchkey-trash/s-1";
    c.elapsed_ms = 12;
    s = lk_cleanup_to_json(&c);
    o = json_loads(s, 0, &jerr);
    CHECK(o != NULL);
    CHECK_STR(json_string_value(json_object_get(o, "result")), "quarantined");
    CHECK_STR(
        json_string_value(json_object_get(json_array_get(json_object_get(o, "killed"), 0), "how")),
        "forced");
    CHECK(has(json_array_get(json_object_get(o, "spared"), 0), "why", JSON_STRING));
    CHECK(json_array_size(json_object_get(o, "left")) == 1);
    CHECK(has(o, "quarantine", JSON_STRING) && has(o, "elapsed_ms", JSON_INTEGER));
    CHECK(json_array_size(json_object_get(o, "holders")) == 1);
    CHECK_STR(json_string_value(json_object_get(o, "action")), "cleanup");
    CHECK(json_array_size(json_object_get(o, "removed")) == 1);
    CHECK(json_array_size(json_object_get(o, "warnings")) == 1);
    CHECK(has(json_array_get(json_object_get(o, "killed"), 0), "note", JSON_STRING));
    CHECK(json_integer_value(json_object_get(json_object_get(o, "loses"), "files")) == 12);
    CHECK(json_integer_value(json_object_get(json_object_get(o, "loses"), "bytes")) == 3456);
    json_decref(o);
    free(s);
    return lk_check_done();
}
