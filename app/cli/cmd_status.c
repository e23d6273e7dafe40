/* latchkeyctl status | stop | sessions: what runs a session folder, and ending it. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "latchkey/browser.h"
#include "latchkey/discover.h"
#include "latchkey/doctor.h"
#include "latchkey/owner.h"
#include "latchkey/session.h"

#define PAGE_WAIT_MS 3000
#define VERSION_WAIT_MS 1000

static json_t *holders_array(const lk_holders *h)
{
    char *text = lk_holders_to_json(h);
    json_t *o = text ? json_loads(text, 0, NULL) : NULL;
    json_t *arr = o ? json_incref(json_object_get(o, "holders")) : json_array();
    json_decref(o);
    free(text);
    return arr;
}

/* The DevTools endpoint of a browser running the profile, or port 0. */
static void endpoint_of(const char *path, lk_cdp_endpoint *ep, int probe)
{
    if (lk_session_endpoint(path, probe ? 2000 : 0, ep, NULL) != LK_OK)
        memset(ep, 0, sizeof *ep);
}

/* A regular file (or a device...) where a session folder should be: bad
 * input. A folder, a link to one, or nothing at all are fine. */
static int not_a_folder(const char *path)
{
    lk_ftype ft = lk_sys_ftype(path);
    if (ft == LK_FT_NONE || ft == LK_FT_DIR || ft == LK_FT_LINK)
        return 0;
    fprintf(stderr, "latchkeyctl: %s is not a folder (a session is a Chromium profile folder)\n",
            path);
    return 1;
}

static int is_latchkey_exe(const char *path)
{
    static const char *const names[] = {"latchkey", "latchkeyctl"};
    const char *base = path, *p;
    size_t len, i, j;
    for (p = path; *p; p++)
        if (*p == '/' || *p == '\\')
            base = p + 1;
    len = strlen(base);
    if (len > 4 && (base[len - 4] == '.') && (base[len - 3] | 0x20) == 'e' &&
        (base[len - 2] | 0x20) == 'x' && (base[len - 1] | 0x20) == 'e')
        len -= 4;
    for (i = 0; i < sizeof names / sizeof *names; i++) {
        if (strlen(names[i]) != len)
            continue;
        for (j = 0; j < len && (base[j] | 0x20) == names[i][j]; j++)
            ;
        if (j == len)
            return 1;
    }
    return 0;
}

/* Owned means Latchkey started the browser, so Latchkey also ends it (and
 * the browser ends with it). The rule: the browser process's parent is a
 * latchkey or latchkeyctl executable. lk_browser_launch forks and execs
 * Chromium itself, and the usual wrappers (Debian's /usr/bin/chromium,
 * Chrome's launcher script) exec too, so the parent is the Latchkey process
 * that owns the tree; a bot's browser has node, a shell or a service
 * manager as its parent. A parent that started after the browser is a
 * reused pid, not the one that forked it. */
static int owned_by_latchkey(const lk_snapshot *snap, long browser)
{
    const lk_proc *b = browser ? lk_snapshot_find(snap, browser) : NULL;
    const lk_proc *parent = b && b->ppid > 0 ? lk_snapshot_find(snap, b->ppid) : NULL;
    if (!parent || (parent->start_ms && b->start_ms && parent->start_ms > b->start_ms))
        return 0;
    /* The image path names the program even when comm was renamed; comm
     * covers a process whose exe we may not read. */
    return (parent->exe && is_latchkey_exe(parent->exe)) ||
           (parent->name && is_latchkey_exe(parent->name));
}

/* "45 s", "12 min", "3 h 5 min": how long, for people. */
static const char *human_ms(int64_t ms, char *buf, size_t size)
{
    int64_t s = ms / 1000;
    if (s < 120)
        snprintf(buf, size, "%lld s", (long long)s);
    else if (s < 7200)
        snprintf(buf, size, "%lld min", (long long)(s / 60));
    else
        snprintf(buf, size, "%lld h %lld min", (long long)(s / 3600), (long long)(s % 3600 / 60));
    return buf;
}

static int64_t json_int_or(const json_t *o, const char *key, int64_t dflt)
{
    const json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

/* The text form of status, from the same objects as --json, so the two
 * never disagree. */
static void print_status(const char *path, lk_folder_state fs, const json_t *b, const json_t *pg,
                         const json_t *health, const lk_holders *h)
{
    const char *s;
    char t[32];
    int64_t v;
    printf("%s\n", path);
    printf("  profile   %s\n", lk_folder_state_name(fs));
    if (json_is_object(b)) {
        s = json_string_value(json_object_get(b, "endpoint"));
        printf("  browser   pid %lld, %s, %s%s", (long long)json_int_or(b, "pid", 0),
               json_is_true(json_object_get(b, "owned")) ? "owned (started by Latchkey)"
                                                         : "not owned (started by something else)",
               s ? "DevTools " : "no DevTools endpoint", s ? s : "");
        if ((s = json_string_value(json_object_get(health, "browser"))))
            printf(" (%s)", s);
        putchar('\n');
    }
    if (json_is_object(pg)) {
        s = json_string_value(json_object_get(pg, "url"));
        printf("  page      %s%s%s\n", json_string_value(json_object_get(pg, "state")),
               s ? "  " : "", s ? s : "");
        if ((s = json_string_value(json_object_get(pg, "qr")))) {
            v = json_int_or(health, "qr_age_ms", -1);
            printf("  qr        %s\n            shown %s, %lld rotation%s\n", s,
                   v >= 0 ? human_ms(v, t, sizeof t) : "for an unknown time",
                   (long long)json_int_or(health, "rotations", 0),
                   json_int_or(health, "rotations", 0) == 1 ? "" : "s");
        }
    }
    if (json_is_object(b)) {
        printf("  health    %lld processes, %lld MB",
               (long long)json_int_or(health, "processes", 0),
               (long long)(json_int_or(health, "memory_bytes", 0) >> 20));
        if ((v = json_int_or(health, "rtt_ms", -1)) >= 0)
            printf(", DevTools round trip %lld ms", (long long)v);
        if ((v = json_int_or(health, "uptime_ms", -1)) >= 0)
            printf(", up %s", human_ms(v, t, sizeof t));
        printf(", %lld restarts\n", (long long)json_int_or(health, "restarts", 0));
        if ((s = json_string_value(json_object_get(health, "version"))))
            printf("  web app   WhatsApp Web %s\n", s);
        if ((s = json_string_value(json_object_get(health, "last_error"))))
            printf("  error     %s\n", s);
    }
    if (fs == LK_FOLDER_STALE_LOCK)
        printf("  a dead browser's lock is left; starting a browser will clear it\n");
    if (h) {
        printf("  holders\n");
        lk_cli_print_holder_list(h, "  ");
    }
}

/* Reads the page of a running browser (attach mode: read only). */
static int read_page(const char *path, lk_session_info *info)
{
    lk_cdp_loop *loop = NULL;
    lk_session *s = NULL;
    lk_session_opts o;
    int ok = 0;
    memset(&o, 0, sizeof o);
    if (lk_cdp_loop_start(&loop, NULL) != LK_OK)
        return 0;
    o.loop = loop;
    o.profile = path;
    o.mode = LK_MODE_ATTACH;
    if (lk_session_start(&o, NULL, NULL, &s, NULL) == LK_OK) {
        int64_t deadline = lk_sys_now_ms() + PAGE_WAIT_MS;
        lk_session_wait(s, ~(LK_STATES(LK_STATE_STARTING) | LK_STATES(LK_STATE_STOPPED)), deadline);
        lk_session_get(s, info);
        /* The web app's version is read once the page shows it is linked,
         * one round trip after the state: worth a moment's wait. */
        while (info->state == LK_STATE_LINKED && !info->version &&
               lk_sys_now_ms() < deadline + VERSION_WAIT_MS) {
            lk_sys_sleep_ms(20);
            lk_session_info_clear(info);
            lk_session_get(s, info);
        }
        ok = 1;
        lk_session_stop(s, 2000, NULL);
        lk_session_free(s);
    }
    lk_cdp_loop_stop(loop);
    return ok;
}

int lk_cmd_status(int argc, char **argv)
{
    lk_cli_args a;
    lk_error err;
    lk_snapshot *snap = NULL;
    lk_holders *h = NULL;
    lk_cdp_endpoint ep;
    lk_session_info page;
    int have_page = 0, rc = lk_cli_parse(argc, argv, "j", &a);
    long *pids = NULL, browser = 0;
    size_t npids = 0, i;
    int64_t mem = 0;
    lk_folder_state fs;
    json_t *o, *b = json_null(), *pg = json_null(), *health;

    if (rc != LK_EXIT_OK)
        return rc;
    lk_error_clear(&err);
    memset(&page, 0, sizeof page);
    memset(&ep, 0, sizeof ep);
    if (not_a_folder(a.path))
        return LK_EXIT_USAGE;
    if (lk_sys_snapshot(&snap, LK_SNAP_HANDLES, &err) != LK_OK) {
        lk_cli_error(&err, NULL);
        return LK_EXIT_FAIL;
    }
    if (lk_sys_ftype(a.path) != LK_FT_NONE && lk_doctor_holders(snap, a.path, &h, &err) != LK_OK) {
        lk_snapshot_free(snap);
        lk_cli_error(&err, NULL);
        return LK_EXIT_FAIL;
    }
    fs = lk_folder_state_of(h);
    lk_doctor_profile_procs(snap, a.path, &pids, &npids, &browser, NULL);
    for (i = 0; i < npids; i++) {
        int64_t m = lk_sys_proc_memory(pids[i]);
        mem += m > 0 ? m : 0;
    }
    if (fs == LK_FOLDER_RUNNING) {
        endpoint_of(a.path, &ep, 1);
        if (ep.port)
            have_page = read_page(a.path, &page);
        b = json_pack("{s:I,s:b,s:s?}", "pid", (json_int_t)browser, "owned",
                      owned_by_latchkey(snap, browser), "endpoint", ep.ws_url);
    }
    if (have_page)
        pg = json_pack("{s:s,s:s?,s:s?,s:i}", "state", lk_state_name(page.state), "qr", page.qr,
                       "url", page.url, "rotations", page.rotations);
    health = json_object();
    json_object_set_new(health, "processes", json_integer((json_int_t)npids));
    json_object_set_new(health, "memory_bytes", json_integer(mem));
    json_object_set_new(health, "rtt_ms",
                        have_page && page.rtt_ms >= 0 ? json_integer(page.rtt_ms) : json_null());
    json_object_set_new(health, "version",
                        have_page && page.version ? json_string(page.version) : json_null());
    json_object_set_new(health, "browser", ep.browser ? json_string(ep.browser) : json_null());
    {
        const lk_proc *bp = browser ? lk_snapshot_find(snap, browser) : NULL;
        int64_t now = lk_sys_wall_ms();
        json_object_set_new(health, "uptime_ms",
                            bp && bp->start_ms ? json_integer(now - bp->start_ms) : json_null());
        json_object_set_new(health, "qr_age_ms",
                            have_page && page.qr_at_ms && page.qr
                                ? json_integer(now - page.qr_at_ms)
                                : json_null());
        json_object_set_new(health, "rotations", json_integer(have_page ? page.rotations : 0));
        json_object_set_new(health, "restarts", json_integer(have_page ? page.restarts : 0));
        json_object_set_new(health, "last_error",
                            have_page && page.last_error[0] ? json_string(page.last_error)
                                                            : json_null());
        json_object_set_new(health, "url",
                            have_page && page.url ? json_string(page.url) : json_null());
    }

    if (a.json) {
        char *text;
        o = json_object();
        json_object_set_new(o, "path", json_string(h ? h->path : a.path));
        json_object_set_new(o, "profile", json_string(lk_folder_state_name(fs)));
        json_object_set_new(o, "browser", b);
        json_object_set_new(o, "page", pg);
        json_object_set_new(o, "health", health);
        json_object_set_new(o, "holders", h ? holders_array(h) : json_array());
        text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (text)
            puts(text);
        free(text);
        json_decref(o);
    } else {
        print_status(h ? h->path : a.path, fs, b, pg, health, h);
        json_decref(b);
        json_decref(pg);
        json_decref(health);
    }
    lk_session_info_clear(&page);
    lk_cdp_endpoint_clear(&ep);
    free(pids);
    lk_holders_free(h);
    lk_snapshot_free(snap);
    return LK_EXIT_OK;
}

/* Ends the Chromium processes of the profile still alive: graceful, then forced. */
static size_t end_profile(const char *path, int64_t deadline)
{
    lk_snapshot *snap = NULL;
    long *pids = NULL, browser = 0;
    uint64_t *ids;
    int *alive;
    size_t n = 0, i, left = 0;
    if (lk_sys_snapshot(&snap, LK_SNAP_PROCS, NULL) != LK_OK)
        return 1;
    lk_doctor_profile_procs(snap, path, &pids, &n, &browser, NULL);
    ids = calloc(n + 1, sizeof *ids);
    alive = calloc(n + 1, sizeof *alive);
    if (ids && alive) {
        for (i = 0; i < n; i++)
            ids[i] = lk_snapshot_find(snap, pids[i])->start_id;
        /* First wait: Browser.close may already be taking them down. */
        left = lk_sys_proc_wait(
            pids, ids, n, lk_sys_now_ms() + 1000 < deadline ? lk_sys_now_ms() + 1000 : deadline,
            alive);
        for (i = 0; left && i < n; i++)
            if (alive[i] && pids[i] == browser)
                lk_sys_proc_end(pids[i], ids[i], 0, NULL);
        if (left)
            left =
                lk_sys_proc_wait(pids, ids, n, deadline - (deadline - lk_sys_now_ms()) / 3, alive);
        for (i = 0; left && i < n; i++)
            if (alive[i])
                lk_sys_proc_end(pids[i], ids[i], 1, NULL);
        if (left)
            left = lk_sys_proc_wait(pids, ids, n, deadline, alive);
    }
    free(ids);
    free(alive);
    free(pids);
    lk_snapshot_free(snap);
    return left;
}

/* Proves the folder is free, as lk_browser_stop does after ending a tree. */
static int verify_free(const char *path, lk_error *why)
{
    char *abs = NULL;
    int rc;
    lk_error_clear(why);
    rc = lk_sys_abspath(path, &abs, why);
    if (rc == LK_OK)
        rc = lk_browser_verify_free(abs, why);
    free(abs);
    return rc;
}

static void print_stop_json(const char *path, const char *result, long browser, int closed,
                            int verified, const lk_error *why)
{
    json_t *o = json_pack("{s:s,s:s}", "path", path, "result", result);
    char *text;
    if (!o)
        return;
    if (browser) {
        json_object_set_new(o, "browser_pid", json_integer(browser));
        json_object_set_new(o, "browser_close", json_boolean(closed));
    }
    json_object_set_new(o, "verified", json_boolean(verified));
    json_object_set_new(o, "error", !verified && why->msg[0] ? json_string(why->msg) : json_null());
    text = json_dumps(o, JSON_COMPACT);
    if (text)
        puts(text);
    free(text);
    json_decref(o);
}

int lk_cmd_stop(int argc, char **argv)
{
    lk_cli_args a;
    lk_snapshot *snap = NULL;
    lk_error why;
    long *pids = NULL, browser = 0;
    size_t n = 0, left;
    int rc = lk_cli_parse(argc, argv, "jt", &a);
    int64_t deadline;
    lk_cdp_endpoint ep;
    int closed = 0, verified;

    if (rc != LK_EXIT_OK)
        return rc;
    if (not_a_folder(a.path))
        return LK_EXIT_USAGE;
    lk_error_clear(&why);
    /* Before anything is signalled: every Latchkey process following this
     * folder (the tray app, a link or qr) stands down instead of relaunching
     * its browser. Recorded even when nothing runs: one may be about to. */
    if (lk_owner_mark_stop(a.path, "stop", &why) != LK_OK) {
        fprintf(stderr,
                "latchkeyctl: warning: could not record the stop (%s); a Latchkey app following "
                "%s may start it again\n",
                why.msg, a.path);
        lk_error_clear(&why);
    }
    if (lk_sys_ftype(a.path) == LK_FT_NONE) {
        /* Idempotent: a session that is gone is as stopped as it gets. */
        if (a.json)
            print_stop_json(a.path, "not_running", 0, 0, 1, &why);
        else
            printf("%s: does not exist; not running, nothing to stop\n", a.path);
        return LK_EXIT_OK;
    }
    deadline = lk_sys_now_ms() + (a.timeout_s > 0 ? a.timeout_s : 10) * 1000LL;
    if (lk_sys_snapshot(&snap, LK_SNAP_PROCS, NULL) == LK_OK)
        lk_doctor_profile_procs(snap, a.path, &pids, &n, &browser, NULL);
    lk_snapshot_free(snap);
    free(pids);
    if (n == 0) {
        /* Nothing of ours to end. Something else may still hold files in
         * it (the bot's node): say so, but stopping is still done. */
        verified = verify_free(a.path, &why) == LK_OK;
        if (a.json)
            print_stop_json(a.path, "not_running", 0, 0, verified, &why);
        else
            printf("%s: not running, nothing to stop%s%s\n", a.path,
                   verified ? "" : "; note: ", verified ? "" : why.msg);
        return LK_EXIT_OK;
    }
    endpoint_of(a.path, &ep, 1);
    if (ep.ws_url) {
        /* Ask the browser to close: it flushes cookies and the profile first. */
        lk_cdp_loop *loop = NULL;
        lk_cdp *c = NULL;
        lk_cdp_handlers hd = {NULL, NULL, NULL};
        if (lk_cdp_loop_start(&loop, NULL) == LK_OK) {
            if (lk_cdp_connect(loop, ep.ws_url, &hd, 3000, &c, NULL) == LK_OK) {
                lk_cdp_call(c, NULL, "Browser.close", NULL, 2000, NULL, NULL);
                closed = 1;
                lk_cdp_close(c);
            }
            lk_cdp_loop_stop(loop);
        }
    }
    lk_cdp_endpoint_clear(&ep);
    left = end_profile(a.path, deadline);
    /* The browser's tree is gone; is the folder free for the bot? */
    verified = verify_free(a.path, &why) == LK_OK;
    if (a.json) {
        print_stop_json(a.path,
                        left        ? "partial"
                        : !verified ? "held"
                                    : "stopped",
                        browser, closed, verified && !left, &why);
    } else if (left) {
        printf("%s: %zu process%s of the browser (pid %ld) still running\n", a.path, left,
               left == 1 ? "" : "es", browser);
    } else if (!verified) {
        printf("%s: stopped the browser (pid %ld), but %s\n", a.path, browser, why.msg);
    } else {
        printf("%s: stopped (browser pid %ld); verified: nothing holds the folder\n", a.path,
               browser);
    }
    return left || !verified ? LK_EXIT_FAIL : LK_EXIT_OK;
}

int lk_cmd_sessions(int argc, char **argv)
{
    lk_cli_args a;
    lk_error err;
    lk_found *found = NULL;
    size_t n = 0, i;
    lk_snapshot *snap = NULL;
    char *def = NULL;
    const char *roots[16];
    size_t nroots;
    json_t *arr = json_array();
    int rc = lk_cli_parse(argc, argv, "jRo", &a);

    if (rc != LK_EXIT_OK)
        return rc;
    lk_error_clear(&err);
    for (nroots = 0; nroots < (size_t)a.nroots; nroots++)
        roots[nroots] = a.roots[nroots];
    if (nroots == 0) {
        def = lk_default_session_root();
        if (def)
            roots[nroots++] = def;
    }
    if (lk_discover(roots, nroots, &found, &n, &err) != LK_OK ||
        lk_sys_snapshot(&snap, LK_SNAP_HANDLES, &err) != LK_OK) {
        lk_cli_error(&err, NULL);
        free(def);
        json_decref(arr);
        return LK_EXIT_FAIL;
    }
    /* One snapshot for every session. */
    for (i = 0; i < n; i++) {
        lk_holders *h = NULL;
        lk_folder_state fs = LK_FOLDER_MISSING;
        long *pids = NULL, browser = 0;
        size_t np = 0, held = 0, j;
        lk_cdp_endpoint ep;
        if (lk_doctor_holders(snap, found[i].path, &h, NULL) == LK_OK)
            fs = lk_folder_state_of(h);
        lk_doctor_profile_procs(snap, found[i].path, &pids, &np, &browser, NULL);
        for (j = 0; h && j < h->nholders; j++)
            held += h->holders[j].nheld > 0;
        endpoint_of(found[i].path, &ep, 0);
        if (a.json) {
            json_array_append_new(
                arr, json_pack("{s:s,s:s,s:s,s:o,s:o,s:I}", "path", found[i].path, "kind",
                               found[i].kind, "profile", lk_folder_state_name(fs), "browser_pid",
                               browser ? json_integer(browser) : json_null(), "endpoint",
                               fs == LK_FOLDER_RUNNING && ep.ws_url ? json_string(ep.ws_url)
                                                                    : json_null(),
                               "holders", (json_int_t)held));
        } else {
            printf("%-10s %-13s %s", lk_folder_state_name(fs), found[i].kind, found[i].path);
            if (browser)
                printf("  (browser pid %ld)", browser);
            putchar('\n');
        }
        lk_cdp_endpoint_clear(&ep);
        free(pids);
        lk_holders_free(h);
    }
    if (a.json) {
        char *text = json_dumps(arr, JSON_INDENT(2));
        if (text)
            puts(text);
        free(text);
    } else if (n == 0) {
        printf("no sessions under %s\n", nroots ? roots[0] : "(no root)");
    }
    json_decref(arr);
    lk_found_free(found, n);
    lk_snapshot_free(snap);
    free(def);
    return LK_EXIT_OK;
}
