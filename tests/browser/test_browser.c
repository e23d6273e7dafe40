/* The browser module against real Chromium: find, launch on a fresh
 * profile, refuse a second launch on it, stop with nothing left, replace a
 * stale DevToolsActivePort, report an early exit, and (PR_SET_PDEATHSIG)
 * take the browser down when the process that launched it is killed.
 *
 *   test_browser LAUNCH_AND_WAIT
 */
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "latchkey/browser.h"
#include "latchkey/doctor.h"
#include "browser/browser_private.h"
#include "../lk_check.h"

static char work[] = "/tmp/lk-browser-XXXXXX";
static char chromium[4096];

static void in_work(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", work, name);
}

/* Processes whose command line names this profile: the browser and every
 * helper it started (Chromium passes --user-data-dir to all of them). */
static int profile_procs(const char *profile)
{
    lk_snapshot *snap = NULL;
    char flag[4200];
    size_t i;
    int n = 0;
    snprintf(flag, sizeof flag, "--user-data-dir=%s", profile);
    if (lk_sys_snapshot(&snap, LK_SNAP_PROCS, NULL) != LK_OK)
        return -1;
    for (i = 0; i < snap->nprocs; i++) {
        const lk_proc *p = &snap->procs[i];
        if (!(p->flags & LK_PROC_ZOMBIE) && p->cmdline && strstr(p->cmdline, flag))
            n++;
    }
    lk_snapshot_free(snap);
    return n;
}

static int wait_no_procs(const char *profile, int timeout_ms)
{
    int64_t deadline = lk_sys_now_ms() + timeout_ms;
    int n;
    while ((n = profile_procs(profile)) != 0 && lk_sys_now_ms() < deadline)
        lk_sys_sleep_ms(20);
    return n;
}

/* Processes that hold the browser's log: Chromium's crash handler inherits
 * it and leaves the process group, so this proves it did not outlive the
 * browser either. */
static int log_holders(const char *profile)
{
    char *log = lk__browser_log_path(profile);
    lk_snapshot *snap = NULL;
    size_t i;
    int n = 0;
    if (!log || lk_sys_snapshot(&snap, LK_SNAP_HANDLES, NULL) != LK_OK) {
        free(log);
        return -1;
    }
    for (i = 0; i < snap->nopens; i++)
        if (strcmp(snap->opens[i].path, log) == 0 &&
            snap->procs[snap->opens[i].proc].pid != lk_sys_self_pid())
            n++;
    lk_snapshot_free(snap);
    free(log);
    return n;
}

static int wait_no_log_holders(const char *profile, int timeout_ms)
{
    int64_t deadline = lk_sys_now_ms() + timeout_ms;
    int n;
    while ((n = log_holders(profile)) != 0 && lk_sys_now_ms() < deadline)
        lk_sys_sleep_ms(20);
    return n;
}

static size_t holders_of(const char *profile)
{
    lk_snapshot *snap = NULL;
    lk_holders *h = NULL;
    size_t n = (size_t)-1;
    if (lk_sys_snapshot(&snap, LK_SNAP_HANDLES, NULL) == LK_OK &&
        lk_doctor_holders(snap, profile, &h, NULL) == LK_OK)
        n = h->nholders;
    lk_holders_free(h);
    lk_snapshot_free(snap);
    return n;
}

static size_t collect(char *data, size_t size, size_t n, void *user)
{
    char **buf = user;
    size_t old = *buf ? strlen(*buf) : 0, add = size * n;
    char *grown = realloc(*buf, old + add + 1);
    if (!grown)
        return 0;
    memcpy(grown + old, data, add);
    grown[old + add] = '\0';
    *buf = grown;
    return add;
}

/* The browser answers on its DevTools port with the same WebSocket URL. */
static int version_has(int port, const char *ws_url)
{
    CURL *c = curl_easy_init();
    char url[128], *body = NULL;
    int ok;
    snprintf(url, sizeof url, "http://127.0.0.1:%d/json/version", port);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    ok = curl_easy_perform(c) == CURLE_OK && body && strstr(body, ws_url) != NULL;
    curl_easy_cleanup(c);
    free(body);
    return ok;
}

static int launch(const char *profile, const char *exe, lk_browser **b, lk_error *err)
{
    lk_browser_opts o;
    memset(&o, 0, sizeof o);
    o.exe = exe;
    o.profile = profile;
    o.timeout_ms = 30000;
    return lk_browser_launch(&o, b, err);
}

static void test_find(void)
{
    char *got = NULL, *saved = getenv("LATCHKEY_CHROMIUM");
    lk_error err;
    saved = saved ? strdup(saved) : NULL;

    CHECK(lk_browser_find(chromium, &got, &err) == LK_OK);
    CHECK_STR(got, chromium);
    free(got);
    CHECK(lk_browser_find("/no/such/chrome", &got, &err) == LK_ENOENT);
    CHECK(strstr(err.msg, "--chromium") != NULL);

    setenv("LATCHKEY_CHROMIUM", chromium, 1);
    CHECK(lk_browser_find(NULL, &got, &err) == LK_OK);
    CHECK_STR(got, chromium);
    free(got);
    /* An explicit browser beats the environment. */
    CHECK(lk_browser_find("/bin/sh", &got, &err) == LK_OK);
    CHECK_STR(got, "/bin/sh");
    free(got);
    setenv("LATCHKEY_CHROMIUM", "/no/such/chrome", 1);
    CHECK(lk_browser_find(NULL, &got, &err) == LK_ENOENT);
    CHECK(strstr(err.msg, "LATCHKEY_CHROMIUM") != NULL);
    /* A folder is not a program. */
    setenv("LATCHKEY_CHROMIUM", "/tmp", 1);
    CHECK(lk_browser_find(NULL, &got, &err) == LK_EACCES);

    unsetenv("LATCHKEY_CHROMIUM");
    CHECK(lk_browser_find(NULL, &got, &err) == LK_OK); /* from PATH */
    CHECK(got && got[0] == '/');
    free(got);
    if (saved)
        setenv("LATCHKEY_CHROMIUM", saved, 1);
    free(saved);
}

static void test_launch_refuse_stop(void)
{
    char profile[512], port_file[600], line[32];
    lk_browser *b = NULL, *second = NULL;
    lk_error err;
    char *text;

    in_work(profile, sizeof profile, "bots/.wwebjs_auth/session-a"); /* parents made too */
    CHECK(launch(profile, chromium, &b, &err) == LK_OK);
    if (!b) {
        printf("launch: %s\n", err.msg);
        return;
    }
    printf("launched pid %ld port %d %s\n", b->pid, b->port, b->ws_url);
    CHECK(b->pid > 0);
    CHECK(b->port > 0);
    CHECK(b->child != NULL);
    CHECK(lk_sys_proc_same(b->pid, b->start_id) == 1);
    CHECK_STR(b->profile, profile);
    CHECK(b->ws_url && strncmp(b->ws_url, "ws://127.0.0.1:", 15) == 0);
    CHECK(strstr(b->ws_url, "/devtools/browser/") != NULL);
    snprintf(port_file, sizeof port_file, "%s/DevToolsActivePort", profile);
    text = lk_t_slurp(port_file);
    snprintf(line, sizeof line, "%d\n", b->port);
    CHECK(text && strncmp(text, line, strlen(line)) == 0);
    if (text && strchr(text, '\n')) {
        /* Line two is the browser's path: the URL ends with it. */
        char *path = strchr(text, '\n') + 1;
        path[strcspn(path, "\r\n")] = '\0';
        CHECK(path[0] == '/' && strlen(b->ws_url) > strlen(path) &&
              strcmp(b->ws_url + strlen(b->ws_url) - strlen(path), path) == 0);
    }
    free(text);
    CHECK(version_has(b->port, b->ws_url));
    CHECK(lk_child_tree_count(b->child) >= 2); /* the browser and its helpers */
    CHECK(log_holders(profile) >= 1);          /* its output goes to the log */

    /* One instance per session. */
    CHECK(launch(profile, chromium, &second, &err) == LK_EBUSY);
    CHECK(second == NULL);
    printf("second launch: %s\n", err.msg);
    snprintf(line, sizeof line, "(pid %ld)", b->pid);
    CHECK(strstr(err.msg, line) != NULL);
    CHECK(strstr(err.msg, "latchkeyctl qr") != NULL);
    CHECK(strstr(err.msg, "latchkeyctl cleanup") != NULL);
    text = lk_t_slurp(port_file); /* the refusal touched nothing */
    CHECK(text != NULL);
    free(text);

    {
        int rc = lk_browser_stop(b, 0, &err);
        CHECK(rc == LK_OK);
        if (rc != LK_OK)
            printf("stop: %s\n", err.msg);
    }
    CHECK(profile_procs(profile) == 0);
    CHECK(holders_of(profile) == 0);
    CHECK(wait_no_log_holders(profile, 5000) == 0);
    CHECK(lk_sys_ftype(port_file) == LK_FT_NONE);
    CHECK(lk_browser_stop(b, 0, &err) == LK_OK); /* idempotent */
    lk_browser_free(b);
}

static void test_stale_port(void)
{
    char profile[512], port_file[600];
    lk_browser *b = NULL;
    lk_error err;
    char *before, *after;

    in_work(profile, sizeof profile, "session-stale");
    CHECK(launch(profile, chromium, &b, &err) == LK_OK);
    if (!b) {
        printf("launch: %s\n", err.msg);
        return;
    }
    snprintf(port_file, sizeof port_file, "%s/DevToolsActivePort", profile);
    before = lk_t_slurp(port_file);
    /* A crash: SIGKILL leaves DevToolsActivePort and SingletonLock behind. */
    CHECK(lk_child_end_tree(b->child, 1, &err) == LK_OK);
    CHECK(wait_no_procs(profile, 10000) == 0);
    lk_browser_free(b);
    b = NULL;
    CHECK(lk_sys_ftype(port_file) == LK_FT_FILE);

    CHECK(launch(profile, chromium, &b, &err) == LK_OK);
    if (!b) {
        printf("relaunch: %s\n", err.msg);
        free(before);
        return;
    }
    after = lk_t_slurp(port_file);
    CHECK(before && after && strcmp(before, after) != 0);
    CHECK(version_has(b->port, b->ws_url));
    CHECK(lk_browser_stop(b, 0, &err) == LK_OK);
    lk_browser_free(b);
    free(before);
    free(after);
    CHECK(wait_no_procs(profile, 100) == 0);
}

static void test_early_exit(void)
{
    char profile[512], script[512];
    lk_browser *b = NULL;
    lk_error err;
    FILE *f;

    in_work(profile, sizeof profile, "session-early");
    in_work(script, sizeof script, "fake-chrome");
    f = fopen(script, "w");
    if (f) {
        fputs("#!/bin/sh\necho 'FATAL: cannot open display' >&2\nexit 1\n", f);
        fclose(f);
    }
    chmod(script, 0755);
    CHECK(launch(profile, script, &b, &err) == LK_EIO);
    printf("early exit: %s\n", err.msg);
    CHECK(strstr(err.msg, "exited before") != NULL);
    CHECK(strstr(err.msg, "FATAL: cannot open display") != NULL);
    CHECK(b == NULL);

    CHECK(launch(profile, "/no/such/chromium", &b, &err) == LK_ENOENT);
    CHECK(strstr(err.msg, "cannot run /no/such/chromium") != NULL);
    CHECK(b == NULL);
}

static void test_pdeathsig(const char *helper)
{
    char profile[512], ready[512], log[512];
    const char *argv[] = {helper, chromium, profile, ready, NULL};
    lk_child *h = NULL;
    lk_error err;
    int64_t deadline;
    char *text = NULL;
    long browser = 0;

    in_work(profile, sizeof profile, "session-orphan");
    in_work(ready, sizeof ready, "orphan.ready");
    in_work(log, sizeof log, "orphan.log");
    CHECK(lk_sys_spawn(argv, log, &h, &err) == LK_OK);
    if (!h)
        return;
    deadline = lk_sys_now_ms() + 40000;
    while (!(text = lk_t_slurp(ready)) && lk_sys_now_ms() < deadline &&
           !lk_child_wait(h, lk_sys_now_ms() + 20))
        ;
    browser = text ? strtol(text, NULL, 10) : 0;
    free(text);
    CHECK(browser > 0);
    if (browser <= 0) {
        text = lk_t_slurp(log);
        printf("helper log: %s\n", text ? text : "(none)");
        free(text);
    }
    CHECK(profile_procs(profile) >= 2);
    /* The launcher dies without a word: nothing it started may survive. */
    kill((pid_t)lk_child_pid(h), SIGKILL);
    CHECK(lk_child_wait(h, lk_sys_now_ms() + 5000) == 1);
    {
        int64_t t0 = lk_sys_now_ms();
        int left = wait_no_procs(profile, 10000);
        CHECK(left == 0);
        printf("after SIGKILL of the launcher: %d left after %lld ms\n", left,
               (long long)(lk_sys_now_ms() - t0));
        CHECK(wait_no_log_holders(profile, 5000) == 0);
    }
    lk_child_free(h);
}

static void remove_work(void)
{
    static const char *const profiles[] = {"bots/.wwebjs_auth/session-a", "session-stale",
                                           "session-early", "session-orphan"};
    size_t i;
    lk_remove_pass pass;
    for (i = 0; i < sizeof profiles / sizeof profiles[0]; i++) {
        char profile[512], *log;
        in_work(profile, sizeof profile, profiles[i]);
        log = lk__browser_log_path(profile);
        if (log)
            unlink(log); /* logs live in the user's cache: do not pile them up */
        free(log);
    }
    lk_sys_remove_tree_once(work, &pass, NULL);
    lk_remove_pass_free(&pass);
}

int main(int argc, char **argv)
{
    char *found = NULL;
    lk_error err;
    if (argc != 2) {
        fprintf(stderr, "usage: test_browser LAUNCH_AND_WAIT\n");
        return 2;
    }
    if (lk_browser_find(NULL, &found, &err) != LK_OK) {
        printf("FAIL: no Chromium: %s\n", err.msg);
        return 1;
    }
    snprintf(chromium, sizeof chromium, "%s", found);
    free(found);
    if (!mkdtemp(work)) {
        perror("mkdtemp");
        return 1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    printf("chromium: %s, work: %s\n", chromium, work);
    test_find();
    test_launch_refuse_stop();
    test_stale_port();
    test_early_exit();
    test_pdeathsig(argv[1]);
    remove_work();
    curl_global_cleanup();
    return lk_check_done();
}
