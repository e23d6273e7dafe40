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

/* The browser object of status and sessions: its pid, who started it and
 * whether that launcher still runs (from the one holder scan). */
static json_t *browser_json(const lk_holder *b, const char *endpoint)
{
    json_t *o = json_pack("{s:I,s:b,s:s?}", "pid", (json_int_t)b->proc.pid, "owned", b->owned,
                          "endpoint", endpoint);
    json_object_set_new(o, "launcher",
                        b->launcher.pid ? json_pack("{s:I,s:s?,s:b}", "pid",
                                                    (json_int_t)b->launcher.pid, "name",
                                                    b->launcher.name, "alive", b->launcher.alive)
                                        : json_null());
    json_object_set_new(o, "orphaned", json_boolean(b->orphaned));
    return o;
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
    char t[32], text[320];
    const lk_holder *bh = lk_holders_browser(h);
    const char *launcher = bh ? lk_holder_launcher_text(bh, text, sizeof text) : NULL;
    int64_t v;
    printf("%s\n", lk_cli_text(path));
    printf("  profile   %s\n", lk_folder_state_name(fs));
    if (json_is_object(b)) {
        s = json_string_value(json_object_get(b, "endpoint"));
        printf("  browser   pid %lld, %s, %s%s", (long long)json_int_or(b, "pid", 0),
               launcher ? lk_cli_text(launcher) : "", s ? "DevTools " : "no DevTools endpoint",
               s ? lk_cli_text(s) : "");
        if ((s = json_string_value(json_object_get(health, "browser"))))
            printf(" (%s)", lk_cli_text(s));
        putchar('\n');
    }
    if (json_is_object(pg)) {
        s = json_string_value(json_object_get(pg, "url"));
        printf("  page      %s%s%s\n", json_string_value(json_object_get(pg, "state")),
               s ? "  " : "", s ? lk_cli_text(s) : "");
        if ((s = json_string_value(json_object_get(pg, "qr")))) {
            v = json_int_or(health, "qr_age_ms", -1);
            printf("  qr        %s\n            shown %s, %lld rotation%s\n", lk_cli_text(s),
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
            printf("  web app   WhatsApp Web %s\n", lk_cli_text(s));
        if ((s = json_string_value(json_object_get(health, "last_error"))))
            printf("  error     %s\n", lk_cli_text(s));
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
        if (lk_holders_browser(h))
            b = browser_json(lk_holders_browser(h), ep.ws_url);
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
                            int verified, const lk_error *why, const lk_cleanup *c)
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
    if (c) {
        /* What the guard rails spared, from the doctor's own report. */
        char *rt = lk_cleanup_to_json(c);
        json_t *r = rt ? json_loads(rt, 0, NULL) : NULL;
        json_object_set(o, "killed", r ? json_object_get(r, "killed") : json_array());
        json_object_set(o, "spared", r ? json_object_get(r, "spared") : json_array());
        json_object_set(o, "left", r ? json_object_get(r, "left") : json_array());
        json_decref(r);
        free(rt);
    }
    text = json_dumps(o, JSON_COMPACT);
    if (text)
        puts(text);
    free(text);
    json_decref(o);
}

/* Asks the browser to close over DevTools: it flushes cookies and the
 * profile first. 1 when the request went out. */
static int browser_close(const char *path)
{
    lk_cdp_endpoint ep;
    int closed = 0;
    endpoint_of(path, &ep, 1);
    if (ep.ws_url) {
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
    return closed;
}

/* Waits until no Chromium process of the profile is left, or the deadline:
 * a browser asked to close removes its own lock files on the way out. */
static void wait_profile_gone(const char *path, int64_t deadline)
{
    lk_snapshot *snap = NULL;
    long *pids = NULL, browser = 0;
    size_t n = 0, i;
    uint64_t *ids;
    int *alive;
    if (lk_sys_snapshot(&snap, LK_SNAP_PROCS, NULL) != LK_OK)
        return;
    lk_doctor_profile_procs(snap, path, &pids, &n, &browser, NULL);
    ids = calloc(n + 1, sizeof *ids);
    alive = calloc(n + 1, sizeof *alive);
    for (i = 0; ids && i < n; i++)
        ids[i] = lk_snapshot_find(snap, pids[i])->start_id;
    if (ids && alive && n)
        lk_sys_proc_wait(pids, ids, n, deadline, alive);
    free(ids);
    free(alive);
    free(pids);
    lk_snapshot_free(snap);
}

int lk_cmd_stop(int argc, char **argv)
{
    lk_cli_args a;
    lk_snapshot *snap = NULL;
    lk_error why;
    lk_cleanup *c = NULL;
    long *pids = NULL, browser = 0;
    size_t n = 0, i;
    int rc = lk_cli_parse(argc, argv, "jt", &a);
    int closed = 0, verified;
    const char *p;

    if (rc != LK_EXIT_OK)
        return rc;
    if (not_a_folder(a.path))
        return LK_EXIT_USAGE;
    p = lk_cli_text(a.path);
    lk_error_clear(&why);
    /* Before anything is signalled: every Latchkey process following this
     * folder (the tray app, a link or qr) stands down instead of relaunching
     * its browser. Recorded even when nothing runs: one may be about to. */
    if (lk_owner_mark_stop(a.path, "stop", &why) != LK_OK) {
        fprintf(stderr,
                "latchkeyctl: warning: could not record the stop (%s); a Latchkey app following "
                "%s may start it again\n",
                lk_cli_text(why.msg), p);
        lk_error_clear(&why);
    }
    if (lk_sys_ftype(a.path) == LK_FT_NONE) {
        /* Idempotent: a session that is gone is as stopped as it gets. */
        if (a.json)
            print_stop_json(a.path, "not_running", 0, 0, 1, &why, NULL);
        else
            printf("%s: does not exist; not running, nothing to stop\n", p);
        return LK_EXIT_OK;
    }
    if (lk_sys_snapshot(&snap, LK_SNAP_PROCS, NULL) == LK_OK)
        lk_doctor_profile_procs(snap, a.path, &pids, &n, &browser, NULL);
    lk_snapshot_free(snap);
    free(pids);
    if (n == 0) {
        /* Nothing of ours to end. Something else may still hold files in
         * it (the bot's node): say so, but stopping is still done. */
        verified = verify_free(a.path, &why) == LK_OK;
        if (a.json)
            print_stop_json(a.path, "not_running", 0, 0, verified, &why, NULL);
        else
            printf("%s: not running, nothing to stop%s%s\n", p, verified ? "" : "; note: ",
                   verified ? "" : lk_cli_text(why.msg));
        return LK_EXIT_OK;
    }
    closed = browser_close(a.path);
    if (closed)
        wait_profile_gone(a.path, lk_sys_now_ms() + 3000); /* it shuts down cleanly */
    /* What Browser.close left, through the same guard rails as cleanup:
     * never this process, its parents, or anything but the profile's own
     * Chromium processes. */
    lk_doctor_stop(a.path, (a.timeout_s > 0 ? a.timeout_s : 10) * 1000, &c, NULL);
    verified = verify_free(a.path, &why) == LK_OK;
    if (a.json) {
        print_stop_json(a.path,
                        !c || c->nleft ? "partial"
                        : !verified    ? "held"
                                       : "stopped",
                        browser, closed, verified && c && !c->nleft, &why, c);
    } else {
        for (i = 0; c && i < c->nspared; i++)
            printf("spared  %s (pid %ld): %s\n", lk_cli_text(c->spared[i].name),
                   c->spared[i].pid, lk_cli_text(c->spared[i].why));
        for (i = 0; c && i < c->nleft; i++)
            printf("left    %s\n", lk_cli_text(c->left[i]));
        if (!c || c->nleft)
            printf("%s: processes of the browser (pid %ld) are still running\n", p, browser);
        else if (!verified)
            printf("%s: stopped the browser (pid %ld), but %s\n", p, browser,
                   lk_cli_text(why.msg));
        else
            printf("%s: stopped (browser pid %ld); verified: nothing holds the folder\n", p,
                   browser);
    }
    rc = !c || c->nleft || !verified ? LK_EXIT_FAIL : LK_EXIT_OK;
    lk_cleanup_free(c);
    return rc;
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
        const lk_holder *bh;
        char text[320];
        lk_cdp_endpoint ep;
        if (lk_doctor_holders(snap, found[i].path, &h, NULL) == LK_OK)
            fs = lk_folder_state_of(h);
        bh = lk_holders_browser(h);
        endpoint_of(found[i].path, &ep, 0);
        if (a.json) {
            /* One definition of a holder for holders, status and sessions. */
            json_array_append_new(
                arr, json_pack("{s:s,s:s,s:s,s:o,s:o,s:o,s:I}", "path", found[i].path, "kind",
                               found[i].kind, "profile", lk_folder_state_name(fs), "browser_pid",
                               bh ? json_integer(bh->proc.pid) : json_null(), "browser",
                               bh ? browser_json(bh, NULL) : json_null(), "endpoint",
                               fs == LK_FOLDER_RUNNING && ep.ws_url ? json_string(ep.ws_url)
                                                                    : json_null(),
                               "holders", (json_int_t)(h ? h->nholders : 0)));
        } else {
            printf("%-10s %-13s %s", lk_folder_state_name(fs), found[i].kind,
                   lk_cli_text(found[i].path));
            if (bh)
                printf("  (browser pid %ld, %s)", bh->proc.pid,
                       lk_cli_text(lk_holder_launcher_text(bh, text, sizeof text)));
            putchar('\n');
        }
        lk_cdp_endpoint_clear(&ep);
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
