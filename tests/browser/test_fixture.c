/* The fixture server and page: files are served, /hang never answers (and
 * does not block other requests), and real headless Chromium sees the
 * page go through its views on the URL's timings. With zbarimg installed,
 * the canvas is also decoded and must carry the payload of data-ref.
 *
 *   test_fixture SERVE_EXE
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "latchkey/browser.h"
#include "../lk_check.h"

static char work[] = "/tmp/lk-fixture-XXXXXX";
static char chromium[4096];
static int port;

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

/* GET http://127.0.0.1:PORT/path; returns the curl code, fills status/body. */
static CURLcode fetch(const char *path, long timeout_ms, long *status, char **body)
{
    CURL *c = curl_easy_init();
    char url[512];
    CURLcode rc;
    *status = 0;
    *body = NULL;
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L); /* send ".." as it is */
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(c);
    return rc;
}

static void test_http(void)
{
    long status;
    char *body;
    int64_t t0;
    CURLcode rc;

    CHECK(fetch("/whatsapp.html?rotate_ms=300&rotations=3&then=linked", 5000, &status, &body) ==
          CURLE_OK);
    CHECK(status == 200);
    CHECK(body && strstr(body, "<script src=\"whatsapp.js\"></script>"));
    free(body);
    CHECK(fetch("/whatsapp.js", 5000, &status, &body) == CURLE_OK);
    CHECK(status == 200 && body && strstr(body, "Scan this QR code to link a device!"));
    free(body);
    CHECK(fetch("/qr.js", 5000, &status, &body) == CURLE_OK && status == 200);
    free(body);
    CHECK(fetch("/no-such-file.html", 5000, &status, &body) == CURLE_OK && status == 404);
    free(body);
    CHECK(fetch("/x/../../README.md", 5000, &status, &body) == CURLE_OK);
    CHECK(status == 400); /* never outside the fixtures folder */
    free(body);

    /* The page that never loads: accepted, never answered. */
    t0 = lk_sys_now_ms();
    rc = fetch("/hang", 800, &status, &body);
    CHECK(rc == CURLE_OPERATION_TIMEDOUT);
    CHECK(lk_sys_now_ms() - t0 >= 700);
    free(body);
    /* Meanwhile the server still answers others. */
    CHECK(fetch("/whatsapp.html", 5000, &status, &body) == CURLE_OK && status == 200);
    free(body);
}

/* Runs Chromium on the page and returns its stdout+stderr (the DOM, or
 * zbarimg's answer), or NULL. Virtual time runs the page's timers at once,
 * so a 5 s scenario takes well under a second. */
static char *run(const char *const *argv, const char *name)
{
    char log[600];
    lk_child *c = NULL;
    lk_error err;
    snprintf(log, sizeof log, "%s/%s.out", work, name);
    unlink(log);
    if (lk_sys_spawn(argv, log, &c, &err) != LK_OK) {
        printf("%s: %s\n", name, err.msg);
        return NULL;
    }
    if (!lk_child_wait(c, lk_sys_now_ms() + 60000)) {
        printf("%s: no answer within 60 s\n", name);
        lk_child_end_tree(c, 1, NULL);
        lk_child_wait(c, lk_sys_now_ms() + 5000);
    }
    lk_child_free(c);
    return lk_t_slurp(log);
}

static char *chromium_do(const char *query, const char *what, const char *name)
{
    char url[600], profile[600], udd[700], budget[64];
    const char *argv[16];
    int n = 0;
    snprintf(url, sizeof url, "http://127.0.0.1:%d/whatsapp.html?%s", port, query);
    snprintf(profile, sizeof profile, "%s/profile-%s", work, name);
    snprintf(udd, sizeof udd, "--user-data-dir=%s", profile);
    snprintf(budget, sizeof budget, "--virtual-time-budget=%d", 5000);
    argv[n++] = chromium;
    argv[n++] = "--headless=new";
    if (geteuid() == 0)
        argv[n++] = "--no-sandbox";
    argv[n++] = "--disable-background-networking";
    argv[n++] = "--disable-component-update";
    argv[n++] = "--no-first-run";
    argv[n++] = "--window-size=1000,700";
    argv[n++] = udd;
    argv[n++] = budget;
    argv[n++] = what;
    argv[n++] = url;
    argv[n] = NULL;
    return run(argv, name);
}

static void test_views(void)
{
    static const struct {
        const char *query, *name, *expect[4];
    } cases[] = {
        {"rotate_ms=300&rotations=3&then=linked",
         "linked",
         {"data-fixture-view=\"linked\"", "data-fixture-rotations=\"3\"", "id=\"pane-side\"",
          "data-testid=\"chat-list\""}},
        {"rotate_ms=300&rotations=2&then=conflict",
         "conflict",
         {"data-fixture-view=\"conflict\"", "WhatsApp is open in another window.",
          "data-testid=\"popup-controls-ok\"", "Use here"}},
        {"rotate_ms=300&rotations=1&then=logout&logout_after_ms=200",
         "logout",
         {"data-fixture-view=\"qr\"", "data-fixture-post-logout=\"1\"", "data-ref=\"2@",
          "aria-label=\"Scan this QR code to link a device!\""}},
        {"rotate_ms=100000&canvas_only=1",
         "canvas",
         {"data-fixture-view=\"qr\"", "<canvas aria-label=\"Scan this QR code to link a device!\"",
          "class=\"qr-wrapper\"><canvas", "data-fixture-rotations=\"0\""}},
        {"rotate_ms=300&rotations=2&then=expire",
         "expire",
         {"data-fixture-view=\"expired\"", "Click to reload QR code", "data-icon=\"refresh-large\"",
          "data-fixture-rotations=\"2\""}},
        {"rotate_ms=100000&link_after_ms=500",
         "link-after",
         {"data-fixture-view=\"linked\"", "id=\"pane-side\"", "data-fixture-rotations=\"0\"",
          "data-icon=\"search\""}},
    };
    size_t i, j;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *dom = chromium_do(cases[i].query, "--dump-dom", cases[i].name);
        CHECK(dom != NULL);
        for (j = 0; dom && j < 4; j++) {
            int ok = strstr(dom, cases[i].expect[j]) != NULL;
            CHECK(ok);
            if (!ok)
                printf("  %s: missing %s\n", cases[i].name, cases[i].expect[j]);
        }
        /* canvas_only: no data-ref anywhere in the page. */
        if (dom && strcmp(cases[i].name, "canvas") == 0)
            CHECK(strstr(dom, " data-ref=") == NULL);
        free(dom);
    }
}

/* The same seed gives the same payload: the one in data-ref must be what a
 * QR reader gets from the canvas. */
static void test_scannable(void)
{
    const char *query = "rotate_ms=100000&seed=42";
    char png[600], shot[700];
    const char *zbar[] = {"zbarimg", "-q", "--raw", png, NULL};
    char *dom, *decoded, *ref, *end;
    lk_child *probe = NULL;
    lk_error err;

    if (lk_sys_spawn(zbar, NULL, &probe, &err) != LK_OK) {
        printf("zbarimg not installed: QR decoding not checked\n");
        return;
    }
    lk_child_wait(probe, lk_sys_now_ms() + 10000);
    lk_child_free(probe);
    dom = chromium_do(query, "--dump-dom", "seed-dom");
    ref = dom ? strstr(dom, " data-ref=\"") : NULL;
    CHECK(ref != NULL);
    if (!ref) {
        free(dom);
        return;
    }
    ref += 11;
    end = strchr(ref, '"');
    if (end)
        *end = '\0';
    snprintf(png, sizeof png, "%s/qr.png", work);
    snprintf(shot, sizeof shot, "--screenshot=%s", png);
    free(chromium_do(query, shot, "seed-shot"));
    decoded = run(zbar, "zbar");
    CHECK(decoded != NULL);
    if (decoded) {
        /* zbarimg's output also holds D-Bus noise: find the payload line. */
        char *line = strstr(decoded, "2@");
        if (line)
            line[strcspn(line, "\n")] = '\0';
        CHECK_STR(line, ref);
    }
    free(decoded);
    free(dom);
}

int main(int argc, char **argv)
{
    char port_file[600], *found = NULL, *text = NULL;
    const char *serve[8];
    lk_child *server = NULL;
    lk_error err;
    int64_t deadline;

    if (argc != 2) {
        fprintf(stderr, "usage: test_fixture SERVE_EXE\n");
        return 2;
    }
    if (!mkdtemp(work)) {
        perror("mkdtemp");
        return 1;
    }
    if (lk_browser_find(NULL, &found, &err) != LK_OK) {
        printf("FAIL: no Chromium: %s\n", err.msg);
        return 1;
    }
    snprintf(chromium, sizeof chromium, "%s", found);
    free(found);
    curl_global_init(CURL_GLOBAL_DEFAULT);

    snprintf(port_file, sizeof port_file, "%s/port", work);
    serve[0] = argv[1];
    serve[1] = "--port-file";
    serve[2] = port_file;
    serve[3] = "--lifetime";
    serve[4] = "120";
    serve[5] = NULL;
    CHECK(lk_sys_spawn(serve, NULL, &server, &err) == LK_OK);
    deadline = lk_sys_now_ms() + 10000;
    while (server && !(text = lk_t_slurp(port_file)) && lk_sys_now_ms() < deadline &&
           !lk_child_wait(server, lk_sys_now_ms() + 10))
        ;
    port = text ? atoi(text) : 0;
    free(text);
    CHECK(port > 0);
    if (port > 0) {
        printf("fixture server on port %d\n", port);
        test_http();
        test_views();
        test_scannable();
    }
    if (server) {
        lk_child_end_tree(server, 0, NULL);
        CHECK(lk_child_wait(server, lk_sys_now_ms() + 5000) == 1);
        lk_child_free(server);
    }
    {
        lk_remove_pass pass;
        lk_sys_remove_tree_once(work, &pass, NULL);
        lk_remove_pass_free(&pass);
    }
    curl_global_cleanup();
    return lk_check_done();
}
