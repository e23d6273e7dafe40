/* DevTools message, DevToolsActivePort and ws:// URL parsing: the shapes
 * Chromium sends, and what a hostile peer could send instead. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdp/cdp_private.h"
#include "latchkey/cdp.h"
#include "../lk_check.h"

static int parse(const char *s, lk_cdp_msg *m, lk_error *err)
{
    return lk_cdp_parse(s, strlen(s), m, err);
}

/* Must be rejected as a protocol error, with a message, leaving nothing to free. */
static void check_rejected(const char *s, size_t len)
{
    lk_cdp_msg m;
    lk_error err;
    lk_error_clear(&err);
    CHECK(lk_cdp_parse(s, len, &m, &err) == LK_EPROTO);
    CHECK(err.code == LK_EPROTO && err.msg[0] != '\0');
    CHECK(m.root == NULL && m.method == NULL && m.result == NULL);
}
#define REJECT(lit) check_rejected(lit, sizeof(lit) - 1)

static void test_replies(void)
{
    lk_cdp_msg m;
    lk_error err;

    CHECK(parse("{\"id\":7,\"result\":{\"product\":\"Chrome/156\"}}", &m, &err) == LK_OK);
    CHECK(m.kind == LK_CDP_REPLY && m.id == 7 && m.error[0] == '\0');
    CHECK_STR(json_string_value(json_object_get(m.result, "product")), "Chrome/156");
    CHECK(m.session_id == NULL && m.method == NULL);
    json_decref(m.root);

    CHECK(parse("{\"id\":9223372036854775807,\"result\":{},\"sessionId\":\"S1\"}", &m, &err) ==
          LK_OK);
    CHECK(m.id == INT64_MAX);
    CHECK_STR(m.session_id, "S1");
    json_decref(m.root);

    CHECK(parse("{\"id\":3,\"error\":{\"code\":-32000,\"message\":\"Cannot find context\","
                "\"data\":\"ctx 4\"}}",
                &m, &err) == LK_OK);
    CHECK(m.kind == LK_CDP_REPLY && m.id == 3 && m.result == NULL);
    CHECK_STR(m.error, "Cannot find context: ctx 4");
    json_decref(m.root);

    CHECK(parse("{\"id\":4,\"error\":{\"code\":-32601}}", &m, &err) == LK_OK);
    CHECK_STR(m.error, "protocol error -32601");
    json_decref(m.root);

    /* A huge error message is cut, never overflows. */
    {
        size_t n = 5000;
        char *s = malloc(n + 64), *p;
        p = s + sprintf(s, "{\"id\":1,\"error\":{\"message\":\"");
        memset(p, 'x', n);
        strcpy(p + n, "\"}}");
        CHECK(parse(s, &m, &err) == LK_OK);
        CHECK(strlen(m.error) == sizeof m.error - 1);
        json_decref(m.root);
        free(s);
    }
}

static void test_events(void)
{
    lk_cdp_msg m;
    lk_error err;

    CHECK(parse("{\"method\":\"Page.loadEventFired\",\"params\":{\"timestamp\":1.5},"
                "\"sessionId\":\"ABCD\"}",
                &m, &err) == LK_OK);
    CHECK(m.kind == LK_CDP_EVENT);
    CHECK_STR(m.method, "Page.loadEventFired");
    CHECK_STR(m.session_id, "ABCD");
    CHECK(json_real_value(json_object_get(m.params, "timestamp")) == 1.5);
    json_decref(m.root);

    /* No params: an empty object, owned by root; no sessionId: the browser. */
    CHECK(parse("{\"method\":\"Target.targetCrashed\"}", &m, &err) == LK_OK);
    CHECK(json_is_object(m.params) && json_object_size(m.params) == 0);
    CHECK(m.session_id == NULL);
    json_decref(m.root);

    /* "" is the browser session too. */
    CHECK(parse("{\"method\":\"X.y\",\"params\":{},\"sessionId\":\"\"}", &m, &err) == LK_OK);
    CHECK(m.session_id == NULL);
    json_decref(m.root);

    /* A NUL inside a value (page text) is fine... */
    CHECK(parse("{\"method\":\"Runtime.consoleAPICalled\",\"params\":{\"t\":\"a\\u0000b\"}}", &m,
                &err) == LK_OK);
    CHECK(json_string_length(json_object_get(m.params, "t")) == 3);
    json_decref(m.root);
    /* ...but not in what routes the message. */
    REJECT("{\"method\":\"Page.x\\u0000y\"}");
    REJECT("{\"method\":\"P.x\",\"sessionId\":\"a\\u0000b\"}");

    /* Chromium escapes lone surrogates from page strings: kept, as U+FFFD. */
    CHECK(parse("{\"method\":\"Target.targetInfoChanged\",\"params\":{\"title\":\"a\\ud83d\","
                "\"pair\":\"\\ud83d\\ude00\",\"low\":\"\\udc00z\",\"esc\":\"\\\\ud800\"}}",
                &m, &err) == LK_OK);
    CHECK_STR(json_string_value(json_object_get(m.params, "title")), "a\xef\xbf\xbd");
    CHECK_STR(json_string_value(json_object_get(m.params, "pair")), "\xf0\x9f\x98\x80");
    CHECK_STR(json_string_value(json_object_get(m.params, "low")), "\xef\xbf\xbdz");
    CHECK_STR(json_string_value(json_object_get(m.params, "esc")), "\\ud800");
    json_decref(m.root);

    /* A page can log 2**64: the message survives, its numbers read as reals. */
    CHECK(parse("{\"method\":\"Runtime.consoleAPICalled\",\"params\":{\"v\":"
                "18446744073709552000}}",
                &m, &err) == LK_OK);
    CHECK(json_is_real(json_object_get(m.params, "v")));
    json_decref(m.root);
    CHECK(parse("{\"id\":12,\"result\":{\"v\":18446744073709552000}}", &m, &err) == LK_OK);
    CHECK(m.kind == LK_CDP_REPLY && m.id == 12);
    json_decref(m.root);
}

static void test_hostile(void)
{
    char *deep;
    size_t i, n = 100000;

    REJECT("");
    REJECT("[]");
    REJECT("[{\"id\":1,\"result\":{}}]");
    REJECT("42");
    REJECT("\"id\"");
    REJECT("null");
    REJECT("{}");
    REJECT("{\"id\":\"1\",\"result\":{}}");
    REJECT("{\"id\":1.5,\"result\":{}}");
    REJECT("{\"id\":null,\"result\":{}}");
    REJECT("{\"id\":1}");
    REJECT("{\"id\":1,\"result\":[]}");
    REJECT("{\"id\":1,\"result\":\"ok\"}");
    REJECT("{\"id\":1,\"error\":\"boom\"}");
    REJECT("{\"id\":1,\"result\":{},\"sessionId\":5}");
    REJECT("{\"id\":1,\"method\":\"Page.navigate\",\"params\":{}}");
    REJECT("{\"method\":5}");
    REJECT("{\"method\":\"\"}");
    REJECT("{\"method\":\"A.b\",\"params\":[1]}");
    REJECT("{\"method\":\"A.b\",\"params\":null}");
    REJECT("{\"id\":1,\"id\":2,\"result\":{}}");
    REJECT("{\"method\":\"A.b\",\"sessionId\":\"x\",\"sessionId\":\"y\"}");
    REJECT("{\"id\":99999999999999999999999,\"result\":{}}");
    REJECT("{\"id\":1e400,\"result\":{}}");
    REJECT("{\"id\":1,\"result\":{}} trailing");
    REJECT("{\"id\":1,\"result\":{}}{\"id\":2,\"result\":{}}");
    REJECT("{\"id\":1,\"result\":{\"a\":");
    REJECT("{\"id\":1,\"res");
    REJECT("{\"method\":\"\xc3\x28\"}");                                /* invalid UTF-8 */
    REJECT("{\"method\":\"A.b\",\"params\":{\"x\":\"\xed\xa0\x80\"}}"); /* raw surrogate */
    REJECT("{\"method\":\"A.b\\u\"}");
    REJECT("{\"method\":\"A.b\\ud800\\u\"}");
    REJECT("{\"method\":\"A.b\",\"params\":{\"x\":\"\\");
    check_rejected("{\"id\":1,\0\"result\":{}}", 21);

    /* Deep nesting: refused by the parser's depth limit, not by the stack. */
    deep = malloc(5 * n + 64);
    i = (size_t)sprintf(deep, "{\"method\":\"A.b\",\"params\":");
    memset(deep + i, '[', n);
    deep[i + n] = '\0';
    check_rejected(deep, strlen(deep));
    i = (size_t)sprintf(deep, "{\"method\":\"A.b\",\"params\":");
    for (; n; n--, i += 5)
        memcpy(deep + i, "{\"a\":", 5);
    deep[i] = '\0';
    check_rejected(deep, strlen(deep));
    free(deep);

    /* Over the cap, refused before any parsing. */
    {
        lk_cdp_msg m;
        lk_error err;
        CHECK(lk_cdp_parse("{}", (size_t)LK_CDP_MAX_MESSAGE + 1, &m, &err) == LK_EPROTO);
        CHECK(lk_cdp_parse(NULL, 0, &m, &err) == LK_EPROTO);
        CHECK(lk_cdp_parse("{}", 2, NULL, &err) == LK_EINVAL);
    }
}

static void check_port_ok(const char *s, size_t len, int want_port, const char *want_path)
{
    int port = -1;
    char *path = NULL;
    lk_error err;
    CHECK(lk_cdp_parse_active_port(s, len, &port, &path, &err) == LK_OK);
    CHECK(port == want_port);
    CHECK_STR(path, want_path);
    free(path);
}
#define PORT_OK(lit, p, path) check_port_ok(lit, sizeof(lit) - 1, p, path)

static void check_port_bad(const char *s, size_t len)
{
    int port = -1;
    char *path = NULL;
    lk_error err;
    lk_error_clear(&err);
    CHECK(lk_cdp_parse_active_port(s, len, &port, &path, &err) == LK_EPROTO);
    CHECK(err.msg[0] != '\0');
    CHECK(port == -1 && path == NULL);
}
#define PORT_BAD(lit) check_port_bad(lit, sizeof(lit) - 1)

static void test_active_port(void)
{
    const char *uuid = "/devtools/browser/0b4b1c3e-9f5a-4c1d-8c1e-2f3a4b5c6d7e";
    PORT_OK("9222\n/devtools/browser/0b4b1c3e-9f5a-4c1d-8c1e-2f3a4b5c6d7e", 9222, uuid);
    PORT_OK("9222\n/devtools/browser/0b4b1c3e-9f5a-4c1d-8c1e-2f3a4b5c6d7e\n", 9222, uuid);
    PORT_OK("9222\r\n/devtools/browser/0b4b1c3e-9f5a-4c1d-8c1e-2f3a4b5c6d7e\r\n", 9222, uuid);
    PORT_OK("1\n/devtools/x", 1, "/devtools/x");
    PORT_OK("65535\n/devtools/page/ABC", 65535, "/devtools/page/ABC");

    PORT_BAD("");
    PORT_BAD("9222");
    PORT_BAD("9222\n");
    PORT_BAD("9222\n\n");
    PORT_BAD("0\n/devtools/browser/x");
    PORT_BAD("65536\n/devtools/browser/x");
    PORT_BAD("099\n/devtools/browser/x");
    PORT_BAD("-1\n/devtools/browser/x");
    PORT_BAD("+80\n/devtools/browser/x");
    PORT_BAD(" 80\n/devtools/browser/x");
    PORT_BAD("80 \n/devtools/browser/x");
    PORT_BAD("123456\n/devtools/browser/x");
    PORT_BAD("99999999999999999999\n/devtools/browser/x");
    PORT_BAD("80\r/devtools/browser/x");
    PORT_BAD("80\n/devtools/");
    PORT_BAD("80\n/json/version");
    PORT_BAD("80\ndevtools/browser/x");
    PORT_BAD("80\n/devtools/browser/x y");
    PORT_BAD("80\n/devtools/browser/x\n\n");
    PORT_BAD("80\n/devtools/browser/x\njunk");
    PORT_BAD("80\n/devtools/browser/\xc3\xa9");
    PORT_BAD("80\n/devtools/browser/x\0");
    PORT_BAD("80\n/devtools/browser/x\r");
    {
        int port;
        char *path;
        lk_error err;
        char big[2100];
        memcpy(big, "80\n/devtools/", 13);
        memset(big + 13, 'a', sizeof big - 13);
        CHECK(lk_cdp_parse_active_port(big, sizeof big, &port, &path, &err) == LK_EPROTO);
        CHECK(lk_cdp_parse_active_port(NULL, 0, &port, &path, &err) == LK_EPROTO);
        CHECK(lk_cdp_parse_active_port("80\n/devtools/x", 14, NULL, &path, &err) == LK_EINVAL);
    }
}

static void check_url(const char *url, int ok, const char *host, int port, const char *path,
                      const char *host_hdr)
{
    lk_cdp__url u;
    lk_error err;
    int rc = lk_cdp__parse_ws_url(url, &u, &err);
    if (!ok) {
        CHECK(rc == LK_EINVAL);
        CHECK(err.msg[0] != '\0');
        return;
    }
    CHECK(rc == LK_OK);
    if (rc != LK_OK) {
        printf("  %s: %s\n", url, err.msg);
        return;
    }
    CHECK_STR(u.host, host);
    CHECK(u.port == port);
    CHECK_STR(u.path, path);
    CHECK_STR(u.host_hdr, host_hdr);
}

static void test_ws_url(void)
{
    check_url("ws://127.0.0.1:9222/devtools/browser/abc", 1, "127.0.0.1", 9222,
              "/devtools/browser/abc", "127.0.0.1:9222");
    check_url("WS://localhost:1/devtools/page/X", 1, "localhost", 1, "/devtools/page/X",
              "localhost:1");
    check_url("ws://[::1]:9222/devtools/browser/abc", 1, "::1", 9222, "/devtools/browser/abc",
              "[::1]:9222");
    check_url("ws://127.1.2.3", 1, "127.1.2.3", 80, "/", "127.1.2.3:80");
    check_url("ws://127.0.0.1:80?x=1", 1, "127.0.0.1", 80, "/?x=1", "127.0.0.1:80");

    check_url(NULL, 0, NULL, 0, NULL, NULL);
    check_url("", 0, NULL, 0, NULL, NULL);
    check_url("wss://127.0.0.1:9222/devtools/browser/abc", 0, NULL, 0, NULL, NULL);
    check_url("http://127.0.0.1:9222/json", 0, NULL, 0, NULL, NULL);
    check_url("ws:/127.0.0.1:9222/", 0, NULL, 0, NULL, NULL);
    check_url("ws://", 0, NULL, 0, NULL, NULL);
    check_url("ws://:9222/x", 0, NULL, 0, NULL, NULL);
    check_url("ws://127.0.0.1:/x", 0, NULL, 0, NULL, NULL);
    check_url("ws://127.0.0.1:0/x", 0, NULL, 0, NULL, NULL);
    check_url("ws://127.0.0.1:65536/x", 0, NULL, 0, NULL, NULL);
    check_url("ws://127.0.0.1:123456/x", 0, NULL, 0, NULL, NULL);
    check_url("ws://127.0.0.1:92a2/x", 0, NULL, 0, NULL, NULL);
    check_url("ws://127.0.0.1:9222:1/x", 0, NULL, 0, NULL, NULL);
    check_url("ws://user@127.0.0.1:9222/x", 0, NULL, 0, NULL, NULL);
    check_url("ws://example.com:9222/x", 0, NULL, 0, NULL, NULL);
    check_url("ws://10.0.0.1:9222/x", 0, NULL, 0, NULL, NULL);
    check_url("ws://127.0.0.1.evil.com/x", 0, NULL, 0, NULL, NULL);
    check_url("ws://0127.0.0.1/x", 0, NULL, 0, NULL, NULL);
    check_url("ws://127.0.0/x", 0, NULL, 0, NULL, NULL);
    check_url("ws://127.0.0.256/x", 0, NULL, 0, NULL, NULL);
    check_url("ws://localhostx/x", 0, NULL, 0, NULL, NULL);
    check_url("ws://[::2]:9222/x", 0, NULL, 0, NULL, NULL);
    check_url("ws://[::1:9222/x", 0, NULL, 0, NULL, NULL);
    check_url("ws://127.0.0.1:9222/x y", 0, NULL, 0, NULL, NULL);
    check_url("ws://127.0.0.1:9222/x\r\nHost: evil", 0, NULL, 0, NULL, NULL);
    check_url("ws://127.0.0.1:9222/x#frag", 0, NULL, 0, NULL, NULL);
    check_url("ws://127.0.0.1:9222/\xc3\xa9", 0, NULL, 0, NULL, NULL);
}

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f) {
        fwrite(data, 1, len, f);
        fclose(f);
    }
}

static void test_from_profile(void)
{
    char dir[] = "/tmp/lk-cdp-profile-XXXXXX", file[64], big[5000];
    lk_cdp_endpoint ep;
    lk_error err;

    CHECK(mkdtemp(dir) != NULL);
    snprintf(file, sizeof file, "%s/DevToolsActivePort", dir);
    memset(&ep, 0xa5, sizeof ep); /* outputs are written, never read */
    CHECK(lk_cdp_endpoint_from_profile(dir, &ep, &err) == LK_ENOENT);
    CHECK(ep.port == 0 && ep.ws_url == NULL && ep.browser == NULL);
    CHECK(strstr(err.msg, "DevToolsActivePort") != NULL);
    CHECK(lk_cdp_endpoint_from_profile("/nonexistent/lk/profile", &ep, &err) == LK_ENOENT);
    CHECK(lk_cdp_endpoint_from_profile(NULL, &ep, &err) == LK_EINVAL);

    write_file(file, "36841\n/devtools/browser/96b4ed16-75a6\n", 37);
    memset(&ep, 0xa5, sizeof ep);
    CHECK(lk_cdp_endpoint_from_profile(dir, &ep, &err) == LK_OK);
    CHECK(ep.port == 36841);
    CHECK_STR(ep.ws_url, "ws://127.0.0.1:36841/devtools/browser/96b4ed16-75a6");
    CHECK(ep.browser == NULL);
    lk_cdp_endpoint_clear(&ep);
    CHECK(ep.ws_url == NULL && ep.port == 0);
    lk_cdp_endpoint_clear(&ep); /* twice is fine */

    write_file(file, "36841\n", 6); /* Chromium half-way through writing it */
    CHECK(lk_cdp_endpoint_from_profile(dir, &ep, &err) == LK_EPROTO);
    CHECK(ep.ws_url == NULL);
    memset(big, '1', sizeof big);
    write_file(file, big, sizeof big);
    CHECK(lk_cdp_endpoint_from_profile(dir, &ep, &err) == LK_EPROTO);
    remove(file);
    rmdir(dir);
}

int main(void)
{
    test_replies();
    test_events();
    test_hostile();
    test_active_port();
    test_ws_url();
    test_from_profile();
    return lk_check_done();
}
