/* rotation_latency: how long a QR rotation on the page takes to reach
 * Latchkey's session callback.
 *
 *   rotation_latency [--chromium EXE] [--csv FILE] [--rotations N] [--rotate-ms MS]
 *                    [--background N] FIXTURE_PAGE_URL PROFILE
 *
 * One owned session (lk_session_start, LK_MODE_OWN) on the fixture page with
 * fast rotations. A second, independent CDP client (lk_cdp_connect to the same
 * browser, endpoint from the profile's DevToolsActivePort) timestamps every
 * change of the QR's data-ref inside the page, two ways:
 *
 *   set   the moment the page's script sets the attribute: a wrapper around
 *         Element.prototype.setAttribute in the page's world (this is the page
 *         changing the QR; it is installed after the first QR, so it only sees
 *         the rotations);
 *   mo    the moment a MutationObserver sees it, in an isolated world of our
 *         own (the end of the page's task: after the fixture has also redrawn
 *         the canvas; the earliest any observer, Latchkey's included, can know).
 *
 * Both read performance.timeOrigin + performance.now() (the system's real-time
 * clock, sub-millisecond), and the callback reads CLOCK_REALTIME (and
 * lk_sys_wall_ms(), the same clock in whole ms): one machine, one clock. The
 * offset between the two readers is checked with a bracketed Runtime.evaluate
 * and printed.
 *
 * --background N first starts N more owned sessions on the same lk_cdp_loop
 * (profiles PROFILE-bg<i>, the same page rotating every second), so the
 * measured one shares the I/O thread and the CPUs as in a tray that watches
 * several sessions.
 *
 * Prints p50/p95/p99/max of callback - set and callback - mo, counts of
 * rotations seen by the page and by the callback (missed and duplicated ones),
 * then stops the session and checks that no process of the profile is left.
 * Exit 0 when all went through (the target is judged by the caller), 1 on a
 * failure.
 *
 * Build (from the repository root, after cmake --build build/default):
 *   cc -O2 -std=c11 -D_GNU_SOURCE -Icore/include -o rotation_latency bench/rotation_latency.c \
 *      build/default/core/liblatchkey.a $(pkg-config --cflags --libs libwebsockets libcurl jansson) -lpthread
 */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "latchkey/cdp.h"
#include "latchkey/session.h"
#include "latchkey/sys.h"

#define MAX_EVENTS 100000

typedef struct cb_event {
    char *qr;
    double wall_ms;  /* CLOCK_REALTIME, sub-ms */
    int64_t lk_wall; /* lk_sys_wall_ms() */
} cb_event;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static cb_event events[MAX_EVENTS];
static size_t nevents;
static char *last_qr;
static int last_rotation = -1;

/* On a core thread: note the time first, then copy. */
static void on_session(void *user, const lk_session_info *info)
{
    double t = bench_wall_ms();
    int64_t w = lk_sys_wall_ms();
    (void)user;
    if (!info->qr)
        return;
    pthread_mutex_lock(&mu);
    if ((!last_qr || strcmp(last_qr, info->qr) != 0) && nevents < MAX_EVENTS) {
        const char *comma = strrchr(info->qr, ',');
        events[nevents].qr = strdup(info->qr);
        events[nevents].wall_ms = t;
        events[nevents].lk_wall = w;
        last_qr = events[nevents].qr;
        last_rotation = comma ? atoi(comma + 1) : -1;
        nevents++;
    }
    pthread_mutex_unlock(&mu);
}

static int rotation_seen(void)
{
    int r;
    pthread_mutex_lock(&mu);
    r = last_rotation;
    pthread_mutex_unlock(&mu);
    return r;
}

static void die(const char *what, const lk_error *e)
{
    fprintf(stderr, "rotation_latency: %s: %s\n", what, e ? e->msg : "");
    exit(1);
}

/* Evaluates expr (in context ctx, or the page's world when 0) and returns the
 * value as a new JSON reference, or NULL. */
static json_t *eval(lk_cdp *c, const char *sid, int ctx, const char *expr, lk_error *err)
{
    json_t *res = NULL, *params, *v;
    params = json_pack("{s:s,s:b}", "expression", expr, "returnByValue", 1);
    if (ctx)
        json_object_set_new(params, "contextId", json_integer(ctx));
    if (lk_cdp_call(c, sid, "Runtime.evaluate", params, 10000, &res, err) != LK_OK)
        return NULL;
    if (json_object_get(res, "exceptionDetails")) {
        char *d = json_dumps(json_object_get(res, "exceptionDetails"), JSON_COMPACT);
        lk_error_set(err, LK_EPROTO, 0, "exception: %.400s", d ? d : "?");
        free(d);
        json_decref(res);
        return NULL;
    }
    v = json_object_get(json_object_get(res, "result"), "value");
    if (v)
        json_incref(v);
    json_decref(res);
    return v;
}

static const char *SET_HOOK =
    "(() => {"
    "  if (window.__lkBenchSet) return 'again';"
    "  const rec = [];"
    "  Object.defineProperty(window, '__lkBenchSet', { value: rec });"
    "  const orig = Element.prototype.setAttribute;"
    "  Element.prototype.setAttribute = function (n, v) {"
    "    if (n === 'data-ref') rec.push([performance.timeOrigin + performance.now(), String(v)]);"
    "    return orig.call(this, n, v);"
    "  };"
    "  return 'ok';"
    "})()";

static const char *MO_HOOK =
    "(() => {"
    "  globalThis.__lkBenchMo = [];"
    "  new MutationObserver((ms) => {"
    "    const t = performance.timeOrigin + performance.now();"
    "    for (const m of ms) if (m.attributeName === 'data-ref')"
    "      __lkBenchMo.push([t, m.target.getAttribute('data-ref')]);"
    "  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-ref'] });"
    "  return 'ok';"
    "})()";

typedef struct page_rec {
    double t;
    const char *qr;
} page_rec;

static size_t load_recs(json_t *arr, page_rec **out)
{
    size_t n = json_array_size(arr), i;
    *out = calloc(n + 1, sizeof **out);
    for (i = 0; i < n; i++) {
        (*out)[i].t = json_number_value(json_array_get(json_array_get(arr, i), 0));
        (*out)[i].qr = json_string_value(json_array_get(json_array_get(arr, i), 1));
    }
    return n;
}

static const page_rec *find_rec(const page_rec *r, size_t n, const char *qr)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (r[i].qr && strcmp(r[i].qr, qr) == 0)
            return &r[i];
    return NULL;
}

static void report(const char *name, double *v, size_t n)
{
    double sum = 0;
    size_t i;
    qsort(v, n, sizeof *v, bench_cmp_double);
    for (i = 0; i < n; i++)
        sum += v[i];
    printf("%-28s n=%zu  p50=%.2f  p95=%.2f  p99=%.2f  max=%.2f  min=%.2f  mean=%.2f ms\n", name, n,
           bench_pct(v, n, 50), bench_pct(v, n, 95), bench_pct(v, n, 99), n ? v[n - 1] : -1,
           n ? v[0] : -1, n ? sum / (double)n : -1);
}

int main(int argc, char **argv)
{
    const char *chromium = NULL, *csv_path = NULL, *url = NULL, *profile = NULL;
    int rotations = 250, rotate_ms = 200, nbg = 0, i, rc = 0;
    lk_session *bg[32];
    char page_url[2048], needle[2100];
    lk_error err;
    lk_cdp_loop *loop = NULL;
    lk_session *s = NULL;
    lk_session_opts o;
    lk_session_info info;
    lk_cdp_endpoint ep;
    lk_cdp *spy = NULL;
    lk_cdp_handlers h = {NULL, NULL, NULL};
    json_t *res = NULL, *v, *set_arr, *mo_arr;
    const char *sid = NULL;
    char *sid_copy = NULL, *frame = NULL;
    int world = 0;
    page_rec *set_recs = NULL, *mo_recs = NULL;
    size_t nset, nmo, k, nlat = 0, nmiss_cb = 0, nmiss_page = 0;
    double *lat_set, *lat_mo, off_lo = -1e9, off_hi = 1e9, max_skew_lk = 0;
    size_t nlat_mo = 0;
    long browser_pid;
    long left[64];
    size_t nleft;
    FILE *csv = NULL;
    int64_t deadline;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--chromium") == 0 && i + 1 < argc)
            chromium = argv[++i];
        else if (strcmp(argv[i], "--csv") == 0 && i + 1 < argc)
            csv_path = argv[++i];
        else if (strcmp(argv[i], "--rotations") == 0 && i + 1 < argc)
            rotations = atoi(argv[++i]);
        else if (strcmp(argv[i], "--rotate-ms") == 0 && i + 1 < argc)
            rotate_ms = atoi(argv[++i]);
        else if (strcmp(argv[i], "--background") == 0 && i + 1 < argc)
            nbg = atoi(argv[++i]);
        else if (!url)
            url = argv[i];
        else if (!profile)
            profile = argv[i];
    }
    if (!url || !profile || rotations < 1 || rotate_ms < 1 || nbg < 0 || nbg > 32) {
        fprintf(stderr, "usage: rotation_latency [--chromium EXE] [--csv FILE] [--rotations N] "
                        "[--rotate-ms MS] [--background N] FIXTURE_PAGE_URL PROFILE\n");
        return 2;
    }
    /* The page stays on its last QR after the rotations (then=stay). */
    snprintf(page_url, sizeof page_url, "%s%srotate_ms=%d&rotations=%d&then=stay", url,
             strchr(url, '?') ? "&" : "?", rotate_ms, rotations);
    snprintf(needle, sizeof needle, "--user-data-dir=%s", profile);

    lk_error_clear(&err);
    if (lk_cdp_loop_start(&loop, &err) != LK_OK)
        die("lk_cdp_loop_start", &err);
    for (i = 0; i < nbg; i++) {
        char bg_profile[4200], bg_url[2100];
        snprintf(bg_profile, sizeof bg_profile, "%s-bg%d", profile, i);
        snprintf(bg_url, sizeof bg_url, "%s%srotate_ms=1000&rotations=100000&seed=%d", url,
                 strchr(url, '?') ? "&" : "?", 500 + i);
        memset(&o, 0, sizeof o);
        o.loop = loop;
        o.profile = bg_profile;
        o.chromium = chromium;
        o.site_url = bg_url;
        o.mode = LK_MODE_OWN;
        if (lk_session_start(&o, NULL, NULL, &bg[i], &err) != LK_OK)
            die("lk_session_start (background)", &err);
    }
    for (i = 0; i < nbg; i++)
        if (lk_session_wait(bg[i], LK_STATES(LK_STATE_QR), lk_sys_now_ms() + 120000) != LK_STATE_QR)
            die("a background session showed no QR within 120 s", NULL);
    if (nbg)
        printf("%d background sessions on the same loop show their QR codes\n", nbg);
    memset(&o, 0, sizeof o);
    o.loop = loop;
    o.profile = profile;
    o.chromium = chromium;
    o.site_url = page_url;
    o.mode = LK_MODE_OWN;
    if (lk_session_start(&o, on_session, NULL, &s, &err) != LK_OK)
        die("lk_session_start", &err);
    if (lk_session_wait(s, LK_STATES(LK_STATE_QR), lk_sys_now_ms() + 30000) != LK_STATE_QR)
        die("no QR within 30 s", NULL);

    /* The spy: our own connection to the same browser. */
    if (lk_cdp_endpoint_from_profile(profile, &ep, &err) != LK_OK)
        die("DevToolsActivePort", &err);
    if (lk_cdp_connect(loop, ep.ws_url, &h, 5000, &spy, &err) != LK_OK)
        die("lk_cdp_connect (spy)", &err);
    lk_cdp_endpoint_clear(&ep);
    if (lk_cdp_call(spy, NULL, "Target.getTargets", NULL, 10000, &res, &err) != LK_OK)
        die("Target.getTargets", &err);
    {
        json_t *infos = json_object_get(res, "targetInfos"), *t;
        size_t j;
        const char *target = NULL;
        json_array_foreach(infos, j, t) {
            const char *ty = json_string_value(json_object_get(t, "type"));
            const char *u = json_string_value(json_object_get(t, "url"));
            if (ty && strcmp(ty, "page") == 0 && u && strstr(u, "whatsapp.html")) {
                target = json_string_value(json_object_get(t, "targetId"));
                break;
            }
        }
        if (!target)
            die("the fixture page is not among the browser's targets", NULL);
        {
            json_t *a = NULL;
            if (lk_cdp_call(spy, NULL, "Target.attachToTarget",
                            json_pack("{s:s,s:b}", "targetId", target, "flatten", 1), 10000, &a,
                            &err) != LK_OK)
                die("Target.attachToTarget", &err);
            sid = json_string_value(json_object_get(a, "sessionId"));
            sid_copy = sid ? strdup(sid) : NULL;
            json_decref(a);
        }
    }
    json_decref(res);
    res = NULL;
    if (!sid_copy)
        die("no sessionId", NULL);
    v = eval(spy, sid_copy, 0, SET_HOOK, &err);
    if (!v)
        die("installing the setAttribute hook", &err);
    json_decref(v);
    if (lk_cdp_call(spy, sid_copy, "Page.getFrameTree", NULL, 10000, &res, &err) != LK_OK)
        die("Page.getFrameTree", &err);
    frame = strdup(json_string_value(
        json_object_get(json_object_get(json_object_get(res, "frameTree"), "frame"), "id")));
    json_decref(res);
    res = NULL;
    if (lk_cdp_call(spy, sid_copy, "Page.createIsolatedWorld",
                    json_pack("{s:s,s:s}", "frameId", frame, "worldName", "lkbench"), 10000, &res,
                    &err) != LK_OK)
        die("Page.createIsolatedWorld", &err);
    world = (int)json_integer_value(json_object_get(res, "executionContextId"));
    json_decref(res);
    res = NULL;
    v = eval(spy, sid_copy, world, MO_HOOK, &err);
    if (!v)
        die("installing the MutationObserver", &err);
    json_decref(v);

    /* The clocks: page time must fall between our before and after. */
    for (i = 0; i < 20; i++) {
        double before = bench_wall_ms(), after, page;
        v = eval(spy, sid_copy, world, "performance.timeOrigin + performance.now()", &err);
        after = bench_wall_ms();
        if (!v)
            die("clock probe", &err);
        page = json_number_value(v);
        json_decref(v);
        /* page - ours lies in [page - after, page - before]. */
        if (page - after > off_lo)
            off_lo = page - after;
        if (page - before < off_hi)
            off_hi = page - before;
    }
    printf("clock check: page clock - our clock lies in [%.3f, %.3f] ms (20 bracketed reads)\n",
           off_lo, off_hi);

    fprintf(stderr, "rotation_latency: watching %d rotations every %d ms...\n", rotations,
            rotate_ms);
    deadline = lk_sys_now_ms() + (int64_t)(rotations + 2) * rotate_ms + 15000;
    while (rotation_seen() < rotations && lk_sys_now_ms() < deadline) {
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    {
        struct timespec ts = {0, 300 * 1000000L}; /* the last callback settles */
        nanosleep(&ts, NULL);
    }
    lk_session_get(s, &info);
    printf("session: state %s, rotations counted by Latchkey %d, restarts %d, browser pid %ld, "
           "%d processes, %.1f MiB tree memory (health), CDP rtt %d ms\n",
           lk_state_name(info.state), info.rotations, info.restarts, info.browser_pid,
           info.process_count, info.memory_bytes / 1048576.0, info.rtt_ms);
    browser_pid = info.browser_pid;
    lk_session_info_clear(&info);

    set_arr = eval(spy, sid_copy, 0, "window.__lkBenchSet", &err);
    if (!set_arr)
        die("reading the setAttribute records", &err);
    mo_arr = eval(spy, sid_copy, world, "__lkBenchMo", &err);
    if (!mo_arr)
        die("reading the MutationObserver records", &err);
    nset = load_recs(set_arr, &set_recs);
    nmo = load_recs(mo_arr, &mo_recs);

    lat_set = calloc(nevents + 1, sizeof *lat_set);
    lat_mo = calloc(nevents + 1, sizeof *lat_mo);
    if (csv_path)
        csv = fopen(csv_path, "w");
    if (csv)
        fprintf(csv, "rotation,set_wall_ms,mo_wall_ms,callback_wall_ms,lk_sys_wall_ms,"
                     "cb_minus_set_ms,cb_minus_mo_ms\n");
    pthread_mutex_lock(&mu);
    for (k = 0; k < nevents; k++) {
        const page_rec *ps = find_rec(set_recs, nset, events[k].qr);
        const page_rec *pm = find_rec(mo_recs, nmo, events[k].qr);
        const char *comma = strrchr(events[k].qr, ',');
        double skew = events[k].wall_ms - (double)events[k].lk_wall;
        if (skew < 0)
            skew = -skew;
        if (skew > max_skew_lk)
            max_skew_lk = skew;
        if (!ps)
            continue; /* the first QR, before the hook: not a rotation we timed */
        lat_set[nlat++] = events[k].wall_ms - ps->t;
        if (pm)
            lat_mo[nlat_mo++] = events[k].wall_ms - pm->t;
        if (csv)
            fprintf(csv, "%s,%.3f,%.3f,%.3f,%lld,%.3f,%.3f\n", comma ? comma + 1 : "?", ps->t,
                    pm ? pm->t : -1.0, events[k].wall_ms, (long long)events[k].lk_wall,
                    events[k].wall_ms - ps->t, pm ? events[k].wall_ms - pm->t : -1.0);
    }
    /* Every page change must reach the callback. */
    for (k = 0; k < nset; k++) {
        size_t j;
        int found = 0;
        for (j = 0; j < nevents && !found; j++)
            found = set_recs[k].qr && strcmp(events[j].qr, set_recs[k].qr) == 0;
        if (!found)
            nmiss_cb++;
    }
    for (k = 0; k < nevents; k++)
        if (!find_rec(set_recs, nset, events[k].qr))
            nmiss_page++;
    pthread_mutex_unlock(&mu);
    if (csv)
        fclose(csv);

    printf("page: %zu data-ref changes after the hooks (setAttribute), %zu seen by the "
           "MutationObserver; callback: %zu QR changes (%zu before the hooks)\n",
           nset, nmo, nevents, nmiss_page);
    printf("rotations the page made that never reached the callback: %zu\n", nmiss_cb);
    printf("lk_sys_wall_ms() vs CLOCK_REALTIME in the callback: at most %.3f ms apart\n",
           max_skew_lk);
    report("callback - setAttribute", lat_set, nlat);
    report("callback - MutationObserver", lat_mo, nlat_mo);
    if (nmiss_cb || nlat < (size_t)rotations / 2)
        rc = 1;

    lk_cdp_close(spy);
    {
        double t0 = bench_mono_ms();
        lk_session_stop(s, 10000, &err);
        printf("lk_session_stop took %.0f ms\n", bench_mono_ms() - t0);
    }
    lk_session_free(s);
    for (i = 0; i < nbg; i++) {
        lk_session_stop(bg[i], 10000, &err);
        lk_session_free(bg[i]);
    }
    lk_cdp_loop_stop(loop);
    /* The needle (--user-data-dir=PROFILE) also matches the background profiles. */
    nleft = bench_find_procs(needle, &browser_pid, 1, left, 64);
    if (nleft) {
        printf("LEFT BEHIND: %zu processes of the profile:", nleft);
        for (k = 0; k < nleft; k++)
            printf(" %ld", left[k]);
        printf("\n");
        rc = 1;
    } else {
        printf("after stop: no process of the profile is left\n");
    }
    json_decref(set_arr);
    json_decref(mo_arr);
    free(set_recs);
    free(mo_recs);
    free(lat_set);
    free(lat_mo);
    free(frame);
    free(sid_copy);
    return rc;
}
