/* A session that heals itself, against real Chromium and the fixture page:
 * renderer crash -> reload; browser SIGKILLed -> relaunch; killed again and
 * again -> failed; stop -> nothing left. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "latchkey/doctor.h"
#include "latchkey/session.h"
#include "../lk_check.h"

extern char **environ;

static pthread_mutex_t seen_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned seen;

static void on_change(void *user, const lk_session_info *info)
{
    (void)user;
    pthread_mutex_lock(&seen_mu);
    seen |= LK_STATES(info->state);
    pthread_mutex_unlock(&seen_mu);
}

static unsigned states_seen(void)
{
    unsigned s;
    pthread_mutex_lock(&seen_mu);
    s = seen;
    seen = 0;
    pthread_mutex_unlock(&seen_mu);
    return s;
}

static int start_server(const char *serve, const char *root, const char *port_file, pid_t *pid)
{
    char *args[] = {(char *)serve,     "--root",     (char *)root, "--port-file",
                    (char *)port_file, "--lifetime", "300",        NULL};
    int i, port = 0;
    if (posix_spawn(pid, serve, NULL, NULL, args, environ) != 0)
        return 0;
    for (i = 0; i < 500 && port == 0; i++) {
        FILE *f = fopen(port_file, "r");
        if (f) {
            if (fscanf(f, "%d", &port) != 1)
                port = 0;
            fclose(f);
        }
        usleep(10000);
    }
    return port;
}

static long browser_of(lk_session *s)
{
    lk_session_info i;
    long pid;
    lk_session_get(s, &i);
    pid = i.browser_pid;
    lk_session_info_clear(&i);
    return pid;
}

/* Waits for a QR shown by a browser other than `not_pid`. */
static long wait_qr_from_new_browser(lk_session *s, long not_pid, int ms)
{
    int64_t deadline = lk_sys_now_ms() + ms;
    while (lk_sys_now_ms() < deadline) {
        lk_state st = lk_session_wait(s, LK_STATES(LK_STATE_QR), lk_sys_now_ms() + 200);
        long pid = browser_of(s);
        if (st == LK_STATE_QR && pid > 0 && pid != not_pid)
            return pid;
    }
    return 0;
}

/* Crashes the page's renderer from a second DevTools client. */
static int crash_page(lk_cdp_loop *loop, const char *profile)
{
    lk_cdp_endpoint ep, probed;
    lk_cdp *c = NULL;
    lk_cdp_handlers h = {NULL, NULL, NULL};
    json_t *res = NULL, *infos;
    const char *target = NULL, *sid;
    size_t i;
    int ok = 0;
    memset(&ep, 0, sizeof ep);
    memset(&probed, 0, sizeof probed);
    if (lk_cdp_endpoint_from_profile(profile, &ep, NULL) != LK_OK ||
        lk_cdp_endpoint_probe(ep.port, 2000, &probed, NULL) != LK_OK ||
        lk_cdp_connect(loop, probed.ws_url, &h, 5000, &c, NULL) != LK_OK)
        goto out;
    if (lk_cdp_call(c, NULL, "Target.getTargets", NULL, 5000, &res, NULL) != LK_OK)
        goto out;
    infos = json_object_get(res, "targetInfos");
    for (i = 0; i < json_array_size(infos); i++)
        if (strcmp(json_string_value(json_object_get(json_array_get(infos, i), "type")), "page") ==
            0)
            target = json_string_value(json_object_get(json_array_get(infos, i), "targetId"));
    if (target) {
        json_t *att = NULL;
        if (lk_cdp_call(c, NULL, "Target.attachToTarget",
                        json_pack("{s:s,s:b}", "targetId", target, "flatten", 1), 5000, &att,
                        NULL) == LK_OK &&
            (sid = json_string_value(json_object_get(att, "sessionId")))) {
            /* Page.crash never answers: the renderer is gone. */
            lk_cdp_call(c, sid, "Page.crash", NULL, 2000, NULL, NULL);
            ok = 1;
        }
        json_decref(att);
    }
out:
    json_decref(res);
    if (c)
        lk_cdp_close(c);
    lk_cdp_endpoint_clear(&ep);
    lk_cdp_endpoint_clear(&probed);
    return ok;
}

static pid_t start_bot_browser(const char *profile, const char *url)
{
    char udd[200];
    const char *exe = getenv("LATCHKEY_CHROMIUM") ? getenv("LATCHKEY_CHROMIUM") : "chromium";
    char *args[] = {(char *)exe,
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--no-first-run",
                    "--remote-debugging-port=0",
                    udd,
                    (char *)url,
                    NULL};
    pid_t pid = 0;
    snprintf(udd, sizeof udd, "--user-data-dir=%s", profile);
    if (posix_spawnp(&pid, exe, NULL, NULL, args, environ) != 0)
        return 0;
    return pid;
}

/* Conflict: offered, never taken on its own, taken when asked. */
static void test_take_over(lk_cdp_loop *loop, const char *root, int port)
{
    char profile[160], url[256];
    lk_session_opts o;
    lk_session *s = NULL;
    lk_error err;
    snprintf(profile, sizeof profile, "%.60s/.wwebjs_auth/session-conflict", root);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/whatsapp.html?rotate_ms=60000#conflict", port);
    memset(&o, 0, sizeof o);
    o.loop = loop;
    o.profile = profile;
    o.site_url = url;
    o.mode = LK_MODE_OWN;
    CHECK(lk_session_start(&o, NULL, NULL, &s, &err) == LK_OK);
    if (!s)
        return;
    CHECK(lk_session_wait(s, LK_STATES(LK_STATE_CONFLICT), lk_sys_now_ms() + 30000) ==
          LK_STATE_CONFLICT);
    /* Left alone, it stays a conflict: Latchkey never clicks by itself. */
    CHECK(lk_session_wait(s, LK_STATES(LK_STATE_LINKED), lk_sys_now_ms() + 1500) ==
          LK_STATE_CONFLICT);
    CHECK(lk_session_take_over(s, &err) == LK_OK);
    CHECK(lk_session_wait(s, LK_STATES(LK_STATE_LINKED), lk_sys_now_ms() + 10000) ==
          LK_STATE_LINKED);
    CHECK(lk_session_take_over(s, &err) == LK_EINVAL); /* nothing to take over now */
    lk_session_free(s);
}

/* Attach: the bot's browser goes away -> stopped; it comes back -> attached again. */
static void test_attach_follows_the_bot(lk_cdp_loop *loop, const char *root, int port)
{
    char profile[160], url[256];
    lk_session_opts o;
    lk_session *s = NULL;
    lk_session_info info;
    lk_error err;
    pid_t bot;
    int i;
    snprintf(profile, sizeof profile, "%.60s/.wwebjs_auth/session-bot", root);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/whatsapp.html?rotate_ms=60000", port);
    bot = start_bot_browser(profile, url);
    CHECK(bot > 0);
    {
        char file[200];
        snprintf(file, sizeof file, "%s/DevToolsActivePort", profile);
        /* A loaded machine can take long to start Chromium; attaching
         * before its endpoint exists would start a browser of our own. */
        for (i = 0; i < 6000 && access(file, F_OK) != 0; i++)
            usleep(10000);
        CHECK(access(file, F_OK) == 0);
    }
    memset(&o, 0, sizeof o);
    o.loop = loop;
    o.profile = profile;
    o.mode = LK_MODE_AUTO;
    CHECK(lk_session_start(&o, NULL, NULL, &s, &err) == LK_OK);
    if (!s) {
        kill(bot, SIGKILL);
        waitpid(bot, NULL, 0);
        return;
    }
    CHECK(lk_session_wait(s, LK_STATES(LK_STATE_QR), lk_sys_now_ms() + 30000) == LK_STATE_QR);
    lk_session_get(s, &info);
    if (info.state != LK_STATE_QR)
        printf("attach: state %s: %s (last error: %s)\n", lk_state_name(info.state), info.reason,
               info.last_error);
    CHECK(info.attached == 1);
    CHECK(info.browser_pid == bot);
    lk_session_info_clear(&info);
    kill(bot, SIGKILL);
    waitpid(bot, NULL, 0);
    CHECK(lk_session_wait(s, LK_STATES(LK_STATE_STOPPED), lk_sys_now_ms() + 15000) ==
          LK_STATE_STOPPED);
    bot = start_bot_browser(profile, url);
    CHECK(lk_session_wait(s, LK_STATES(LK_STATE_QR), lk_sys_now_ms() + 30000) == LK_STATE_QR);
    lk_session_free(s);
    /* Detaching leaves the bot's browser running. */
    CHECK(kill(bot, 0) == 0);
    kill(bot, SIGKILL);
    waitpid(bot, NULL, 0);
}

int main(int argc, char **argv)
{
    char root[] = "/tmp/latchkey-live.XXXXXX";
    char profile[128], port_file[128], url[256];
    pid_t server;
    int port, kills = 0;
    lk_cdp_loop *loop = NULL;
    lk_session *s = NULL;
    lk_session_opts o;
    lk_error err;
    long pid1, pid2, last;
    lk_snapshot *snap = NULL;
    long *pids = NULL, browser = 0;
    size_t n = 0;

    if (argc < 3 || !mkdtemp(root)) {
        fprintf(stderr, "usage: test_session_live SERVE FIXTURES_DIR\n");
        return 2;
    }
    snprintf(profile, sizeof profile, "%.60s/.wwebjs_auth/session-live", root);
    snprintf(port_file, sizeof port_file, "%.60s/port", root);
    port = start_server(argv[1], argv[2], port_file, &server);
    CHECK(port > 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/whatsapp.html?rotate_ms=60000", port);
    CHECK(lk_cdp_loop_start(&loop, &err) == LK_OK);
    memset(&o, 0, sizeof o);
    o.loop = loop;
    o.profile = profile;
    o.site_url = url;
    o.mode = LK_MODE_OWN;
    o.backoff_ms = 100;
    o.max_restarts = 3;
    CHECK(lk_session_start(&o, on_change, NULL, &s, &err) == LK_OK);
    if (!s) {
        printf("session: %s\n", err.msg);
        return lk_check_done();
    }
    CHECK(lk_session_wait(s, LK_STATES(LK_STATE_QR), lk_sys_now_ms() + 60000) == LK_STATE_QR);
    pid1 = browser_of(s);
    CHECK(pid1 > 0);

    /* 1. The renderer crashes: the page is reloaded in the same browser. */
    states_seen();
    CHECK(crash_page(loop, profile));
    lk_session_wait(s, LK_STATES(LK_STATE_CRASHED) | LK_STATES(LK_STATE_LOADING),
                    lk_sys_now_ms() + 10000);
    CHECK(lk_session_wait(s, LK_STATES(LK_STATE_QR), lk_sys_now_ms() + 30000) == LK_STATE_QR);
    CHECK(states_seen() & LK_STATES(LK_STATE_CRASHED));
    CHECK(browser_of(s) == pid1);
    {
        lk_session_info i;
        lk_session_get(s, &i);
        CHECK(i.restarts >= 1);
        lk_session_info_clear(&i);
    }

    /* 2. The browser is killed: a new one is launched and shows the QR. */
    CHECK(kill((pid_t)pid1, SIGKILL) == 0);
    pid2 = wait_qr_from_new_browser(s, pid1, 60000);
    CHECK(pid2 > 0 && pid2 != pid1);

    /* 3. Killed every time it comes back: after max_restarts, failed. */
    last = pid2;
    while (kills < 10 && lk_session_wait(s, LK_STATES(LK_STATE_FAILED), lk_sys_now_ms() + 10) !=
                             LK_STATE_FAILED) {
        long now = browser_of(s);
        if (now > 0 && (now != last || kills == 0)) {
            kill((pid_t)now, SIGKILL);
            last = now;
            kills++;
        }
        usleep(20000);
    }
    CHECK(lk_session_wait(s, LK_STATES(LK_STATE_FAILED), lk_sys_now_ms() + 60000) ==
          LK_STATE_FAILED);
    {
        lk_session_info i;
        lk_session_get(s, &i);
        CHECK(i.state == LK_STATE_FAILED);
        CHECK(i.reason[0] != '\0');
        printf("failed after %d kills: %s\n", kills, i.reason);
        lk_session_info_clear(&i);
    }

    test_take_over(loop, root, port);
    test_attach_follows_the_bot(loop, root, port);

    /* 4. Stopped: no process of the profile is left. */
    CHECK(lk_session_stop(s, 10000, &err) == LK_OK);
    lk_session_free(s);
    CHECK(lk_sys_snapshot(&snap, LK_SNAP_PROCS, &err) == LK_OK);
    CHECK(lk_doctor_profile_procs(snap, profile, &pids, &n, &browser, &err) == LK_OK);
    CHECK(n == 0);
    free(pids);
    lk_snapshot_free(snap);
    lk_cdp_loop_stop(loop);
    kill(server, SIGTERM);
    waitpid(server, NULL, 0);
    {
        char cmd[200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
        if (system(cmd) != 0)
            printf("could not remove %s\n", root);
    }
    return lk_check_done();
}
