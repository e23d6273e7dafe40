/* Launching Chromium on a session folder: refuse a folder someone else runs,
 * start a tree we own, wait for its DevTools endpoint. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latchkey/browser.h"
#include "latchkey/cdp.h"
#include "latchkey/path.h"
#include "browser/browser_private.h"
#include "latchkey/sys.h"
#include "util/strv.h"

#define LK_LAUNCH_TIMEOUT_MS 20000
#define LK_MAX_ARGS 64

/* A lean set, picked from Puppeteer's and Playwright's defaults for a
 * WhatsApp Web session that must stay linked for days. Left out on purpose:
 * --enable-automation (an infobar, and navigator.webdriver for the page to
 * see), --disable-extensions and --disable-popup-blocking (a bot's profile
 * is the user's; we do not change how it behaves), and anything that
 * weakens web security. */
static const char *const lean_flags[] = {
    /* Nobody is there to click through a first-run wizard or a
     * "make it your default browser" bar. */
    "--no-first-run",
    "--no-default-browser-check",
    /* No background downloads (variations, safe-browsing lists, component
     * updates): bot hosts are often offline or metered, and they slow the
     * start. */
    "--disable-background-networking",
    "--disable-component-update",
    /* WhatsApp Web keeps its socket alive with timers: a headless or hidden
     * tab that gets throttled drops off and the phone shows it offline. */
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
    "--disable-renderer-backgrounding",
    /* The session lives in this folder only, never in a Google account. */
    "--disable-sync",
    /* The cookie key Puppeteer (so whatsapp-web.js and wppconnect) uses:
     * their profiles stay readable, so the session stays logged in, and no
     * keyring or keychain prompt blocks a headless start. */
    "--password-store=basic",
    "--use-mock-keychain",
    /* No crash dumps written into the session folder or sent anywhere. */
    "--disable-breakpad",
    /* No translate bar over the page, no Cast discovery on the LAN, no
     * optimisation-hint downloads. */
    "--disable-features=Translate,MediaRouter,OptimizationHints",
    /* Chrome's own helper extensions with background pages cost memory per
     * session and do nothing here; the user's extensions are left alone. */
    "--disable-component-extensions-with-background-pages",
    "--disable-default-apps",
    "--disable-client-side-phishing-detection",
    "--metrics-recording-only",
    /* A busy page must not raise "Page unresponsive" (headed), and a reload
     * after a crash must not stop on "Confirm form resubmission". */
    "--disable-hang-monitor",
    "--disable-prompt-on-repost",
    /* Docker gives /dev/shm 64 MB, which crashes renderers; ignored where
     * there is no /dev/shm. */
    "--disable-dev-shm-usage",
    /* QR screenshots (canvas-only pages) stay pure black and white. */
    "--force-color-profile=srgb",
};

/* Creates the folder and its parents: fresh session folders are common,
 * and the holder scan compares real (resolved) paths. */
static int make_dirs(const char *path, lk_error *err)
{
    int win = lk_sys_path_win();
    char *parent;
    int rc;
    if (lk_sys_ftype(path) == LK_FT_DIR)
        return LK_OK;
    parent = lk_path_dir(path, win);
    if (parent && strcmp(parent, path) != 0 && !lk_sys_is_fs_root(parent) &&
        lk_sys_ftype(parent) == LK_FT_NONE) {
        rc = make_dirs(parent, err);
        if (rc != LK_OK) {
            free(parent);
            return rc;
        }
    }
    free(parent);
    return lk_sys_mkdir(path, err);
}

static void arg_free(char **argv)
{
    size_t i;
    for (i = 0; argv[i]; i++)
        free(argv[i]);
}

static char *joined(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    char *s = malloc(na + nb + 1);
    if (s) {
        memcpy(s, a, na);
        memcpy(s + na, b, nb + 1);
    }
    return s;
}

/* argv for the spawn: exe, our flags, the caller's extras, the first page.
 * Every string is malloc'd; NULL when out of memory or too many. */
static int build_argv(const lk_browser_opts *o, const char *profile, char **argv)
{
    size_t n = 0, i;
#define ADD(s)                                                                                     \
    do {                                                                                           \
        if (n + 2 > LK_MAX_ARGS || !(argv[n] = (s)))                                               \
            goto fail;                                                                             \
        argv[++n] = NULL;                                                                          \
    } while (0)
    argv[0] = NULL;
    ADD(lk_strdup(o->exe));
    for (i = 0; i < sizeof lean_flags / sizeof lean_flags[0]; i++)
        ADD(lk_strdup(lean_flags[i]));
    /* Chromium refuses to start sandboxed as root; the OS layer knows. */
    if (lk_sys_browser_needs_no_sandbox())
        ADD(lk_strdup("--no-sandbox"));
    if (!o->headed)
        ADD(lk_strdup("--headless=new"));
    /* Port 0: the OS picks a free port and Chromium writes it to
     * DevToolsActivePort, so sessions never race for 9222. */
    ADD(lk_strdup("--remote-debugging-port=0"));
    ADD(joined("--user-data-dir=", profile));
    for (i = 0; o->extra_args && o->extra_args[i]; i++)
        ADD(lk_strdup(o->extra_args[i]));
    ADD(lk_strdup(o->url && *o->url ? o->url : "about:blank"));
    return 0;
fail:
    arg_free(argv);
    return -1;
#undef ADD
}

/* The last meaningful lines of the browser's output, for an error message:
 * "why did it exit" is usually there. Container noise (D-Bus) is skipped. */
static void log_tail(const char *log, char *out, size_t size)
{
    char *buf = NULL, *p;
    const char *keep[3] = {NULL, NULL, NULL};
    size_t i, used = 0;
    out[0] = '\0';
    if (!log || lk_sys_read_file(log, 4096, LK_READ_TAIL, &buf, NULL, NULL) != LK_OK)
        return;
    for (p = buf; *p;) {
        char *line = p;
        p += strcspn(p, "\r\n");
        if (*p)
            *p++ = '\0';
        if (!*line || strstr(line, "dbus") || strstr(line, "D-Bus"))
            continue;
        keep[0] = keep[1];
        keep[1] = keep[2];
        keep[2] = line;
    }
    for (i = 0; i < 3; i++) {
        int w;
        if (!keep[i] || used + 4 >= size)
            continue;
        w = snprintf(out + used, size - used, "%s%s", used ? " | " : "", keep[i]);
        if (w < 0)
            break;
        used += (size_t)w < size - used ? (size_t)w : size - used - 1;
    }
    free(buf);
}

/* LK_OK and the endpoint once DevToolsActivePort holds a valid port. */
static int read_endpoint(const char *file, int *port, char **ws_path)
{
    char *buf = NULL;
    size_t len = 0;
    int rc;
    if (lk_sys_read_file(file, 4096, LK_READ_NOFOLLOW, &buf, &len, NULL) != LK_OK)
        return LK_ENOENT;
    /* Chromium may be half-way through writing it: invalid means "not yet". */
    rc = lk_cdp_parse_active_port(buf, len, port, ws_path, NULL);
    free(buf);
    return rc == LK_OK && *port > 0 ? LK_OK : LK_EPROTO;
}

static int refuse_if_busy(const char *profile, lk_error *err)
{
    char who[256], text[320];
    size_t nprocs = 0, nlocks = 0;
    int rc = lk__browser_holders(profile, &nprocs, &nlocks, who, sizeof who, err);
    if (rc != LK_OK)
        return rc;
    if (nprocs == 0 && nlocks == 0)
        return LK_OK;
    lk__browser_describe(text, sizeof text, who, nprocs, nlocks);
    return lk_error_set(err, LK_EBUSY, 0,
                        "%s is already in use by %s; attach to it with `latchkeyctl qr %s` "
                        "or free it with `latchkeyctl cleanup %s`",
                        profile, text, profile, profile);
}

static int wait_endpoint(lk_browser *b, const char *log, const char *port_file, int timeout_ms,
                         lk_error *err)
{
    int64_t deadline = lk_sys_now_ms() + timeout_ms;
    char tail[320];
    for (;;) {
        char *ws_path = NULL;
        int port = 0;
        if (read_endpoint(port_file, &port, &ws_path) == LK_OK) {
            size_t need = strlen(ws_path) + 40;
            b->port = port;
            b->ws_url = malloc(need);
            if (b->ws_url)
                snprintf(b->ws_url, need, "ws://127.0.0.1:%d%s", port, ws_path);
            free(ws_path);
            return b->ws_url ? LK_OK : lk_error_set(err, LK_ENOMEM, 0, "out of memory");
        }
        /* Doubles as the poll interval: returns at once if Chromium exits. */
        if (lk_child_wait(b->child, lk_sys_now_ms() + 20)) {
            log_tail(log, tail, sizeof tail);
            return lk_error_set(err, LK_EIO, 0,
                                "the browser exited before its DevTools endpoint appeared%s%s",
                                tail[0] ? ": " : "", tail);
        }
        if (lk_sys_now_ms() >= deadline) {
            log_tail(log, tail, sizeof tail);
            return lk_error_set(err, LK_ETIMEDOUT, 0, "no DevTools endpoint in %s after %d ms%s%s",
                                port_file, timeout_ms, tail[0] ? "; browser output: " : "", tail);
        }
    }
}

int lk_browser_launch(const lk_browser_opts *o, lk_browser **out, lk_error *err)
{
    char *argv[LK_MAX_ARGS];
    char *profile = NULL, *log = NULL, *port_file = NULL;
    lk_browser *b = NULL;
    int rc;

    *out = NULL;
    argv[0] = NULL;
    if (!o || !o->exe || !*o->exe || !o->profile || !*o->profile)
        return lk_error_set(err, LK_EINVAL, 0, "a browser and a profile folder are needed");
    if ((rc = lk_sys_abspath(o->profile, &profile, err)) != LK_OK)
        return rc;
    port_file = lk__browser_port_file(profile);
    b = calloc(1, sizeof *b);
    if (!port_file || !b) {
        rc = lk_error_set(err, LK_ENOMEM, 0, "out of memory");
        goto fail;
    }
    if ((rc = make_dirs(profile, err)) != LK_OK)
        goto fail;
    /* No log (no cache folder, or it cannot be made) costs only the
     * browser's last words in an error message. */
    log = lk__browser_log_path(profile);
    if (log) {
        char *dir = lk_path_dir(log, lk_sys_path_win());
        if (!dir || make_dirs(dir, NULL) != LK_OK) {
            free(log);
            log = NULL;
        }
        free(dir);
    }
    /* One instance per session: two browsers on one folder corrupt it and
     * make WhatsApp log one of them out. */
    if ((rc = refuse_if_busy(profile, err)) != LK_OK)
        goto fail;
    /* Nobody runs it, so a DevToolsActivePort here is from a dead browser:
     * waiting on it would hand out a port nobody listens on. */
    if ((rc = lk_sys_unlink(port_file, err)) != LK_OK)
        goto fail;
    if (log)
        lk_sys_unlink(log, NULL); /* this run's output only, for the error message */
    if (build_argv(o, profile, argv) != 0) {
        rc = lk_error_set(err, LK_ENOMEM, 0, "out of memory (or too many browser arguments)");
        goto fail;
    }
    if ((rc = lk_sys_spawn((const char *const *)argv, log, &b->child, err)) != LK_OK)
        goto fail;
    b->pid = lk_child_pid(b->child);
    b->start_id = lk_child_start_id(b->child);
    rc = wait_endpoint(b, log, port_file, o->timeout_ms > 0 ? o->timeout_ms : LK_LAUNCH_TIMEOUT_MS,
                       err);
    if (rc != LK_OK) {
        /* A half-started browser is still ours to end. */
        lk_child_end_tree(b->child, 1, NULL);
        lk_child_wait(b->child, lk_sys_now_ms() + 5000);
        goto fail;
    }
    b->profile = profile;
    profile = NULL;
    *out = b;
    b = NULL;

fail:
    arg_free(argv);
    lk_browser_free(b);
    free(profile);
    free(log);
    free(port_file);
    return rc;
}
