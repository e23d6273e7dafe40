/* The CDP client against a real headless Chromium started here: discovery,
 * calls in a flattened session, events, a timeout, a renderer crash failing
 * that session's calls at once, and SIGKILL failing every call at once.
 *
 * Chromium: $LATCHKEY_CHROMIUM, else "chromium" on PATH. Whatever happens
 * (even if this process dies), a reaper process kills the browser's process
 * group and removes the temporary profile. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "latchkey/cdp.h"
#include "latchkey/sys.h"
#include "../lk_check.h"

/* "At once, not at the deadline": the deadline is LONG_MS and anything under
 * SLOW_MS passes, a clear line between the two on a machine as loaded as it
 * gets, never a speed test. */
#define LONG_MS 120000
#define SLOW_MS 60000

static char g_root[64]; /* /tmp/lk-cdp-XXXXXX: profile/ and chromium.log */
static char g_profile[96];

/* ---- the browser and its reaper ---------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    remove(path); /* best effort: whatever is left is reported by the caller */
    return 0;
}

static void rm_tree(const char *path)
{
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Forks a process that waits for us to go (the pipe closes), then kills the
 * browser's process group and removes the temporary folder. Returns the
 * write end to keep open. */
static int start_reaper(pid_t browser_pgid, pid_t *reaper)
{
    int fds[2];
    char c;
    if (pipe(fds))
        return -1;
    *reaper = fork();
    if (*reaper == 0) {
        close(fds[1]);
        while (read(fds[0], &c, 1) > 0 || errno == EINTR)
            ;
        kill(-browser_pgid, SIGKILL);
        lk_sys_sleep_ms(200); /* let the group go before removing its files */
        rm_tree(g_root);
        _exit(0);
    }
    close(fds[0]);
    return fds[1];
}

static pid_t start_chromium(void)
{
    const char *exe = getenv("LATCHKEY_CHROMIUM");
    char udd[128], log[96];
    pid_t pid;
    if (!exe || !*exe)
        exe = "chromium";
    snprintf(udd, sizeof udd, "--user-data-dir=%s", g_profile);
    snprintf(log, sizeof log, "%s/chromium.log", g_root);
    pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execlp(exe, exe, "--headless=new", "--no-sandbox", "--disable-gpu",
               "--disable-background-networking", "--disable-component-update", "--no-first-run",
               /* no crashpad handler: it leaves the process group and outlives the test */
               "--disable-breakpad", "--remote-debugging-port=0", udd, "about:blank", (char *)NULL);
        _exit(127);
    }
    if (pid > 0)
        setpgid(pid, pid); /* also here, so the group exists before we signal it */
    return pid;
}

static void print_log_tail(void)
{
    char path[96], line[512];
    FILE *f;
    snprintf(path, sizeof path, "%s/chromium.log", g_root);
    f = fopen(path, "r");
    if (!f)
        return;
    printf("---- chromium.log\n");
    while (fgets(line, sizeof line, f))
        if (!strstr(line, "dbus"))
            fputs(line, stdout);
    fclose(f);
}

/* ---- events ------------------------------------------------------------------------- */

typedef struct seen {
    pthread_mutex_t mu;
    char session[64];  /* the page session under test */
    int load_events;   /* Page.loadEventFired in that session */
    int crash_events;  /* Inspector.targetCrashed there, or Target.targetCrashed */
    int detach_events; /* Target.detachedFromTarget / Inspector.detached */
    int closed;
    lk_error why;
    int replies;
    lk_error reply_err[4];
    int64_t reply_ms[4];
} seen;

static void on_event(void *user, const lk_cdp_msg *m)
{
    seen *s = user;
    int mine;
    pthread_mutex_lock(&s->mu);
    mine = m->session_id && strcmp(m->session_id, s->session) == 0;
    if (mine && strcmp(m->method, "Page.loadEventFired") == 0)
        s->load_events++;
    if ((mine && strcmp(m->method, "Inspector.targetCrashed") == 0) ||
        strcmp(m->method, "Target.targetCrashed") == 0)
        s->crash_events++;
    if (strcmp(m->method, "Target.detachedFromTarget") == 0 ||
        (mine && strcmp(m->method, "Inspector.detached") == 0))
        s->detach_events++;
    pthread_mutex_unlock(&s->mu);
}

static void on_closed(void *user, const lk_error *why)
{
    seen *s = user;
    pthread_mutex_lock(&s->mu);
    s->closed++;
    s->why = *why;
    pthread_mutex_unlock(&s->mu);
}

typedef struct reply_slot {
    seen *s;
    int i;
    int64_t t0;
} reply_slot;

static void on_reply(void *user, json_t *result, const lk_error *err)
{
    reply_slot *r = user;
    seen *s = r->s;
    pthread_mutex_lock(&s->mu);
    if (err)
        s->reply_err[r->i] = *err;
    else
        lk_error_clear(&s->reply_err[r->i]);
    s->reply_ms[r->i] = lk_sys_now_ms() - r->t0;
    s->replies++;
    pthread_mutex_unlock(&s->mu);
}

static int wait_field(seen *s, const int *field, int want, int ms)
{
    int64_t end = lk_sys_now_ms() + ms;
    int v;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        v = *field;
        pthread_mutex_unlock(&s->mu);
        if (v >= want || lk_sys_now_ms() >= end)
            return v;
        lk_sys_sleep_ms(10);
    }
}

/* ---- steps ------------------------------------------------------------------------------- */

static int wait_endpoint(lk_cdp_endpoint *ep)
{
    lk_error err;
    int64_t end = lk_sys_now_ms() + 30000;
    int rc;
    do {
        rc = lk_cdp_endpoint_from_profile(g_profile, ep, &err);
        if (rc == LK_OK)
            return 0;
        lk_sys_sleep_ms(50);
    } while (lk_sys_now_ms() < end);
    printf("no DevToolsActivePort after 30 s: %s\n", err.msg);
    return -1;
}

/* Target.createTarget + Target.attachToTarget {flatten}: the new session id. */
static int open_page(lk_cdp *c, char *sid, size_t n)
{
    json_t *target = NULL, *attached = NULL;
    lk_error err;
    const char *tid, *s = NULL;
    int rc = lk_cdp_call(c, NULL, "Target.createTarget", json_pack("{s:s}", "url", "about:blank"),
                         10000, &target, &err);
    CHECK(rc == LK_OK);
    if (rc != LK_OK) {
        printf("  createTarget: %s\n", err.msg);
        return -1;
    }
    tid = json_string_value(json_object_get(target, "targetId"));
    CHECK(tid != NULL);
    rc = lk_cdp_call(c, NULL, "Target.attachToTarget",
                     json_pack("{s:s, s:b}", "targetId", tid ? tid : "", "flatten", 1), 10000,
                     &attached, &err);
    CHECK(rc == LK_OK);
    if (rc == LK_OK) {
        s = json_string_value(json_object_get(attached, "sessionId"));
        CHECK(s != NULL && *s);
        snprintf(sid, n, "%s", s ? s : "");
    } else {
        printf("  attachToTarget: %s\n", err.msg);
    }
    rc = s && *s ? 0 : -1;
    json_decref(target);
    json_decref(attached);
    return rc;
}

static void test_page(lk_cdp *c, seen *s)
{
    json_t *res = NULL;
    lk_error err;
    int64_t t0;
    int rc;

    /* Runtime.evaluate in the flattened session. */
    rc = lk_cdp_call(c, s->session, "Runtime.evaluate",
                     json_pack("{s:s, s:b}", "expression", "6 * 7", "returnByValue", 1), 10000,
                     &res, &err);
    CHECK(rc == LK_OK);
    if (rc == LK_OK)
        CHECK(json_integer_value(json_object_get(json_object_get(res, "result"), "value")) == 42);
    else
        printf("  evaluate: %s\n", err.msg);
    json_decref(res);
    res = NULL;

    /* An error reply is a protocol error with Chromium's message. */
    rc = lk_cdp_call(c, s->session, "No.suchMethod", NULL, 10000, NULL, &err);
    CHECK(rc == LK_EPROTO);
    CHECK(strstr(err.msg, "No.suchMethod") != NULL);
    printf("  error reply: %s\n", err.msg);

    /* Page.loadEventFired arrives in the right session. */
    CHECK(lk_cdp_call(c, s->session, "Page.enable", NULL, 10000, NULL, &err) == LK_OK);
    rc = lk_cdp_call(c, s->session, "Page.navigate",
                     json_pack("{s:s}", "url", "data:text/html,<title>latchkey</title><p>hi</p>"),
                     10000, &res, &err);
    CHECK(rc == LK_OK);
    CHECK(json_string_value(json_object_get(res, "frameId")) != NULL);
    json_decref(res);
    CHECK(wait_field(s, &s->load_events, 1, 10000) >= 1);

    /* A call that is never answered times out on time. */
    t0 = lk_sys_now_ms();
    rc = lk_cdp_call(
        c, s->session, "Runtime.evaluate",
        json_pack("{s:s, s:b}", "expression", "new Promise(() => {})", "awaitPromise", 1), 200,
        NULL, &err);
    t0 = lk_sys_now_ms() - t0;
    CHECK(rc == LK_ETIMEDOUT);
    CHECK(t0 >= 190 && t0 < SLOW_MS);
    printf("  timeout after %lld ms: %s\n", (long long)t0, err.msg);
    CHECK(lk_cdp_last_rtt_ms(c) >= 0);
}

/* Page.crash: the session's pending calls fail at once, not at their 30 s. */
static void test_crash(lk_cdp *c, seen *s)
{
    reply_slot slots[2] = {{s, 0, 0}, {s, 1, 0}};
    lk_error err;
    int i;

    slots[0].t0 = lk_sys_now_ms();
    CHECK(lk_cdp_call_async(
              c, s->session, "Runtime.evaluate",
              json_pack("{s:s, s:b}", "expression", "new Promise(() => {})", "awaitPromise", 1),
              LONG_MS, on_reply, &slots[0], &err) == LK_OK);
    slots[1].t0 = lk_sys_now_ms();
    CHECK(lk_cdp_call_async(c, s->session, "Page.crash", NULL, LONG_MS, on_reply, &slots[1],
                            &err) == LK_OK);
    CHECK(wait_field(s, &s->replies, 2, SLOW_MS) == 2);
    for (i = 0; i < 2; i++) {
        const lk_error *e = &s->reply_err[i];
        printf("  crash, call %d: %lld ms: %s\n", i, (long long)s->reply_ms[i], e->msg);
        CHECK(e->code != LK_OK && e->code != LK_ETIMEDOUT);
        CHECK(strstr(e->msg, "crash") || strstr(e->msg, "detach") || strstr(e->msg, "closed"));
        CHECK(s->reply_ms[i] < SLOW_MS); /* not at the deadline */
    }
    CHECK(wait_field(s, &s->crash_events, 1, 5000) >= 1 || s->detach_events >= 1);
    CHECK(lk_cdp_is_open(c)); /* one page crashed, the browser lives on */
}

typedef struct blocked {
    lk_cdp *c;
    const char *sid;
    int rc;
    lk_error err;
} blocked;

static void *blocked_main(void *arg)
{
    blocked *b = arg;
    b->rc = lk_cdp_call(
        b->c, b->sid, "Runtime.evaluate",
        json_pack("{s:s, s:b}", "expression", "new Promise(() => {})", "awaitPromise", 1), LONG_MS,
        NULL, &b->err);
    return NULL;
}

/* SIGKILL to the browser: a call pending in another thread fails at once. */
static void test_kill(lk_cdp *c, seen *s, pid_t pgid)
{
    char sid[64];
    blocked b;
    pthread_t th;
    lk_error err;
    int64_t t0, waited;

    if (open_page(c, sid, sizeof sid))
        return;
    memset(&b, 0, sizeof b);
    b.c = c;
    b.sid = sid;
    pthread_create(&th, NULL, blocked_main, &b);
    lk_sys_sleep_ms(300);
    t0 = lk_sys_now_ms();
    kill(-pgid, SIGKILL);
    pthread_join(th, NULL);
    waited = lk_sys_now_ms() - t0;
    printf("  after SIGKILL: %lld ms: %s\n", (long long)waited, b.err.msg);
    CHECK(b.rc == LK_EIO);
    CHECK(strstr(b.err.msg, "connection closed") != NULL);
    CHECK(waited < SLOW_MS); /* not at the deadline */
    CHECK(wait_field(s, &s->closed, 1, SLOW_MS) == 1);
    CHECK(s->why.code == LK_EIO);
    CHECK(!lk_cdp_is_open(c));
    t0 = lk_sys_now_ms();
    CHECK(lk_cdp_call(c, NULL, "Browser.getVersion", NULL, LONG_MS, NULL, &err) == LK_EIO);
    CHECK(lk_sys_now_ms() - t0 < SLOW_MS);
}

int main(void)
{
    lk_cdp_endpoint ep = {0}, probed = {0};
    lk_cdp_loop *loop = NULL;
    lk_cdp *c = NULL;
    lk_error err;
    seen s;
    json_t *res = NULL;
    pid_t browser, reaper = -1;
    int keep = -1, status, rc;

    signal(SIGPIPE, SIG_IGN);
    snprintf(g_root, sizeof g_root, "/tmp/lk-cdp-XXXXXX");
    if (!mkdtemp(g_root)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(g_profile, sizeof g_profile, "%s/profile", g_root);
    mkdir(g_profile, 0700);
    memset(&s, 0, sizeof s);
    pthread_mutex_init(&s.mu, NULL);

    browser = start_chromium();
    CHECK(browser > 0);
    if (browser <= 0)
        goto out;
    /* Before any thread starts: fork is simplest with one thread. */
    keep = start_reaper(browser, &reaper);

    CHECK(wait_endpoint(&ep) == 0);
    if (!ep.ws_url)
        goto out;
    printf("endpoint %s\n", ep.ws_url);
    rc = lk_cdp_endpoint_probe(ep.port, 5000, &probed, &err);
    CHECK(rc == LK_OK);
    if (rc == LK_OK) {
        printf("probe: %s at %s\n", probed.browser, probed.ws_url);
        CHECK_STR(probed.ws_url, ep.ws_url);
        CHECK(probed.browser && strstr(probed.browser, "Chrome/") != NULL);
    } else {
        printf("probe: %s\n", err.msg);
    }

    CHECK(lk_cdp_loop_start(&loop, &err) == LK_OK);
    {
        lk_cdp_handlers h = {on_event, on_closed, &s};
        rc = lk_cdp_connect(loop, ep.ws_url, &h, 10000, &c, &err);
        CHECK(rc == LK_OK);
        if (rc != LK_OK) {
            printf("connect: %s\n", err.msg);
            goto out;
        }
    }
    rc = lk_cdp_call(c, NULL, "Browser.getVersion", NULL, 10000, &res, &err);
    CHECK(rc == LK_OK);
    CHECK(rc == LK_OK && strstr(json_string_value(json_object_get(res, "product")), "Chrome"));
    json_decref(res);
    res = NULL;
    /* Target.targetCrashed on the browser session needs discovery on. */
    CHECK(lk_cdp_call(c, NULL, "Target.setDiscoverTargets", json_pack("{s:b}", "discover", 1),
                      10000, NULL, &err) == LK_OK);

    {
        char sid[64];
        if (open_page(c, sid, sizeof sid) == 0) {
            pthread_mutex_lock(&s.mu);
            snprintf(s.session, sizeof s.session, "%s", sid);
            pthread_mutex_unlock(&s.mu);
            printf("session %s\n", sid);
            test_page(c, &s);
            test_crash(c, &s);
        }
    }
    test_kill(c, &s, browser);

out:
    if (lk_t_failed)
        print_log_tail();
    lk_cdp_close(c);
    lk_cdp_loop_stop(loop);
    lk_cdp_endpoint_clear(&ep);
    lk_cdp_endpoint_clear(&probed);
    if (browser > 0) {
        kill(-browser, SIGKILL);
        waitpid(browser, &status, 0);
    }
    if (keep >= 0) {
        close(keep); /* the reaper removes the profile */
        waitpid(reaper, &status, 0);
    } else {
        rm_tree(g_root);
    }
    CHECK(access(g_root, F_OK) != 0);
    pthread_mutex_destroy(&s.mu);
    return lk_check_done();
}
