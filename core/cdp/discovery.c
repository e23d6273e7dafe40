/* Finding a browser's DevTools endpoint: the DevToolsActivePort file in its
 * profile, and the /json/version probe over HTTP (libcurl). */
#include "cdp/cdp_private.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latchkey/path.h"
#include "latchkey/sys.h"

/* The file is two short lines; anything bigger is not Chromium's. */
#define LK_CDP_MAX_PORT_FILE 4096
/* /json/version is under a kilobyte; cap what a stranger on the port can
 * make us buffer. */
#define LK_CDP_MAX_PROBE_BODY (64u * 1024u)

/* Outputs are written, never read: callers pass uninitialised structs. */
static void endpoint_set(lk_cdp_endpoint *out, int port, char *ws_url, char *browser)
{
    out->port = port;
    out->ws_url = ws_url;
    out->browser = browser;
}

void lk_cdp_endpoint_clear(lk_cdp_endpoint *ep)
{
    if (ep) {
        free(ep->ws_url);
        free(ep->browser);
        endpoint_set(ep, 0, NULL, NULL);
    }
}

int lk_cdp_endpoint_from_profile(const char *profile, lk_cdp_endpoint *out, lk_error *err)
{
    char *path, *ws_path = NULL, *url, *buf = NULL;
    size_t len = 0, n;
    int port = 0, rc;

    if (!out)
        return lk_error_set(err, LK_EINVAL, 0, "lk_cdp_endpoint_from_profile: no output");
    endpoint_set(out, 0, NULL, NULL);
    if (!profile || !*profile)
        return lk_error_set(err, LK_EINVAL, 0, "no profile folder");
    path = lk_path_join(profile, "DevToolsActivePort", lk_sys_path_win());
    if (!path)
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    /* Through the OS layer: on Windows the UTF-8 path must reach the file
     * system as UTF-16 (fopen would read it in the ANSI code page), and
     * Chromium may hold the file open. One byte over the cap (the tail of a
     * longer file) tells "too large" apart. */
    rc = lk_sys_read_file(path, LK_CDP_MAX_PORT_FILE + 1, LK_READ_TAIL | LK_READ_NOFOLLOW, &buf, &len, err);
    if (rc == LK_ENOENT) {
        rc = lk_error_set(err, LK_ENOENT, err ? err->sys : 0,
                          "%s: no such file (no browser with a DevTools port runs on this profile)",
                          path);
    } else if (rc == LK_OK && len > LK_CDP_MAX_PORT_FILE) {
        rc = lk_error_set(err, LK_EPROTO, 0, "%s: larger than %d bytes, not Chromium's", path,
                          LK_CDP_MAX_PORT_FILE);
    } else if (rc == LK_OK) {
        rc = lk_cdp_parse_active_port(buf, len, &port, &ws_path, err);
    }
    free(buf);
    free(path);
    if (rc != LK_OK)
        return rc;
    n = strlen(ws_path) + sizeof "ws://127.0.0.1:65535";
    url = malloc(n);
    if (!url) {
        free(ws_path);
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    }
    snprintf(url, n, "ws://127.0.0.1:%d%s", port, ws_path);
    free(ws_path);
    endpoint_set(out, port, url, NULL);
    return LK_OK;
}

/* ---- /json/version ------------------------------------------------------------ */

/* curl_global_init is not safe to race; run it once for the process. */
static pthread_once_t lk_cdp_curl_once = PTHREAD_ONCE_INIT;
static CURLcode lk_cdp_curl_init_rc = CURLE_FAILED_INIT;

static void curl_init_once(void)
{
    lk_cdp_curl_init_rc = LK_CURL.global_init(CURL_GLOBAL_DEFAULT);
}

typedef struct body {
    char *buf;
    size_t len;
    int too_big;
} body;

static size_t body_append(char *data, size_t size, size_t nmemb, void *user)
{
    body *b = user;
    size_t n = size * nmemb; /* curl guarantees size == 1 */
    char *p;
    if (n > LK_CDP_MAX_PROBE_BODY - b->len) {
        b->too_big = 1;
        return 0; /* aborts the transfer */
    }
    p = realloc(b->buf, b->len + n + 1);
    if (!p)
        return 0;
    b->buf = p;
    memcpy(b->buf + b->len, data, n);
    b->len += n;
    b->buf[b->len] = '\0';
    return n;
}

static int parse_version(int port, const body *b, lk_cdp_endpoint *out, lk_error *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(b->buf ? b->buf : "", b->len, JSON_REJECT_DUPLICATES, &jerr);
    const char *ws, *browser;
    char *ws_copy = NULL, *browser_copy = NULL;
    lk_cdp__url url;
    lk_error uerr;
    int rc;

    if (!json_is_object(root)) {
        json_decref(root);
        return lk_error_set(err, LK_EPROTO, 0,
                            "127.0.0.1:%d/json/version: not a JSON object (is this a DevTools "
                            "port?)",
                            port);
    }
    ws = json_string_value(json_object_get(root, "webSocketDebuggerUrl"));
    browser = json_string_value(json_object_get(root, "Browser"));
    if (!ws) {
        rc = lk_error_set(err, LK_EPROTO, 0, "127.0.0.1:%d/json/version: no webSocketDebuggerUrl",
                          port);
    } else if (lk_cdp__parse_ws_url(ws, &url, &uerr) != LK_OK) {
        rc = lk_error_set(err, LK_EPROTO, 0, "127.0.0.1:%d/json/version: %s", port, uerr.msg);
    } else if (!(ws_copy = strdup(ws)) || (browser && !(browser_copy = strdup(browser)))) {
        rc = lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    } else {
        endpoint_set(out, port, ws_copy, browser_copy);
        ws_copy = browser_copy = NULL;
        rc = LK_OK;
    }
    free(ws_copy);
    free(browser_copy);
    json_decref(root);
    return rc;
}

int lk_cdp_endpoint_probe(int port, int timeout_ms, lk_cdp_endpoint *out, lk_error *err)
{
    char url[64], curl_err[CURL_ERROR_SIZE];
    body b = {NULL, 0, 0};
    long status = 0;
    CURLcode cc;
    CURL *h;
    int rc;

    if (!out)
        return lk_error_set(err, LK_EINVAL, 0, "lk_cdp_endpoint_probe: no output");
    endpoint_set(out, 0, NULL, NULL);
    if (port < 1 || port > 65535)
        return lk_error_set(err, LK_EINVAL, 0, "DevTools port %d out of range", port);
    if (timeout_ms <= 0)
        timeout_ms = LK_CDP_DEFAULT_TIMEOUT_MS;
    rc = lk_cdp__net_bind(err);
    if (rc != LK_OK)
        return rc;
    pthread_once(&lk_cdp_curl_once, curl_init_once);
    if (lk_cdp_curl_init_rc != CURLE_OK)
        return lk_error_set(err, LK_EIO, 0, "libcurl: %s",
                            LK_CURL.easy_strerror(lk_cdp_curl_init_rc));
    h = LK_CURL.easy_init();
    if (!h)
        return lk_error_set(err, LK_ENOMEM, 0, "libcurl: cannot create a handle");

    snprintf(url, sizeof url, "http://127.0.0.1:%d/json/version", port);
    curl_err[0] = '\0';
    LK_CURL.easy_setopt(h, CURLOPT_URL, url);
    LK_CURL.easy_setopt(h, CURLOPT_NOPROXY, "*"); /* loopback never goes via a proxy */
    LK_CURL.easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* we run on many threads */
    LK_CURL.easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    LK_CURL.easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
    LK_CURL.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http");
#else
    LK_CURL.easy_setopt(h, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTP);
#endif
    LK_CURL.easy_setopt(h, CURLOPT_USERAGENT, "latchkey");
    LK_CURL.easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
    LK_CURL.easy_setopt(h, CURLOPT_WRITEFUNCTION, body_append);
    LK_CURL.easy_setopt(h, CURLOPT_WRITEDATA, &b);
    cc = LK_CURL.easy_perform(h);
    LK_CURL.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    LK_CURL.easy_cleanup(h);

    if (b.too_big)
        rc = lk_error_set(err, LK_EPROTO, 0, "%s: answer larger than %u KiB", url,
                          LK_CDP_MAX_PROBE_BODY >> 10);
    else if (cc == CURLE_OPERATION_TIMEDOUT)
        rc = lk_error_set(err, LK_ETIMEDOUT, 0, "%s: no answer within %d ms", url, timeout_ms);
    else if (cc != CURLE_OK)
        rc = lk_error_set(err, LK_EIO, 0, "%s: %s", url,
                          curl_err[0] ? curl_err : LK_CURL.easy_strerror(cc));
    else if (status != 200)
        rc = lk_error_set(err, LK_EPROTO, 0, "%s: HTTP status %ld", url, status);
    else
        rc = parse_version(port, &b, out, err);
    free(b.buf);
    return rc;
}
