/* The DevTools client on Windows (run under wine in CI; there is no Chromium
 * for Windows here). Checks what the Linux tests prove against real
 * Chromium, with a small Winsock stand-in for it in this process:
 *
 *   - the parsers (lk_cdp_parse, lk_cdp_parse_active_port) and
 *     lk_cdp_endpoint_from_profile on a fake DevToolsActivePort;
 *   - lk_cdp_loop_start / lk_cdp_loop_stop round trips;
 *   - lk_cdp_connect to a port where nothing listens, and the /json/version
 *     probe (libcurl) there: fast, clear failures, no hang;
 *   - against the stand-in: the probe, a WebSocket connection (libwebsockets
 *     with no Origin header), a call and its reply, an event, a protocol
 *     error, a call that times out on time (the deadline is a monotonic one
 *     and winpthreads' condition variables only wait on the wall clock), a
 *     1 MiB reply in many fragments, a dropped socket failing the pending
 *     call at once, and lk_cdp_loop_stop closing an open connection.
 */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>

#include <jansson.h>
#include <libwebsockets.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latchkey/cdp.h"
#include "latchkey/error.h"
#include "latchkey/sys.h"

#include "win_check.h"

/* ---- a DevTools stand-in: /json/version and a WebSocket, over Winsock ------ */

#define BIG_REPLY (1u << 20)

/* Checks that something happens "at once, not at a deadline" give that
 * deadline as LONG_MS and accept anything under SLOW_MS: a clear line
 * between the two on a machine as loaded as it gets, never a speed test. */
#define LONG_MS 90000
#define SLOW_MS 45000
#define CALL_MS 30000 /* what an answer may take on a loaded machine */

typedef struct server {
    SOCKET ls;
    int port;
    HANDLE thread;
    volatile LONG upgrades, saw_origin, closes_from_client;
} server;

static server g_srv;

static int send_all(SOCKET s, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        int n = send(s, p, len > 65536 ? 65536 : (int)len, 0);
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int recv_all(SOCKET s, void *buf, size_t len)
{
    char *p = buf;
    while (len) {
        int n = recv(s, p, (int)len, 0);
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* One unmasked server frame, in one send. */
static int send_frame(SOCKET s, int opcode, const char *data, size_t len)
{
    unsigned char *h = malloc(len + 10);
    size_t n = 0;
    int i, rc;
    if (!h)
        return -1;
    h[n++] = (unsigned char)(0x80 | opcode);
    if (len < 126) {
        h[n++] = (unsigned char)len;
    } else if (len < 65536) {
        h[n++] = 126;
        h[n++] = (unsigned char)(len >> 8);
        h[n++] = (unsigned char)len;
    } else {
        h[n++] = 127;
        for (i = 7; i >= 0; i--)
            h[n++] = (unsigned char)((unsigned long long)len >> (8 * i));
    }
    if (len)
        memcpy(h + n, data, len);
    rc = send_all(s, h, n + len);
    free(h);
    return rc;
}

static int send_json(SOCKET s, json_t *msg)
{
    char *text = json_dumps(msg, JSON_COMPACT);
    int rc = text ? send_frame(s, 1, text, strlen(text)) : -1;
    free(text);
    json_decref(msg);
    return rc;
}

/* One client frame (masked), unmasked into a malloc'd buffer. */
static int recv_frame(SOCKET s, int *opcode, char **out, size_t *len)
{
    unsigned char h[2], ext[8], mask[4];
    unsigned long long n;
    size_t i;
    char *buf;
    if (recv_all(s, h, 2) != 0)
        return -1;
    *opcode = h[0] & 0x0f;
    n = h[1] & 0x7f;
    if (n == 126) {
        if (recv_all(s, ext, 2) != 0)
            return -1;
        n = (unsigned long long)ext[0] << 8 | ext[1];
    } else if (n == 127) {
        if (recv_all(s, ext, 8) != 0)
            return -1;
        for (n = 0, i = 0; i < 8; i++)
            n = n << 8 | ext[i];
    }
    if (!(h[1] & 0x80) || n > (1u << 24) || recv_all(s, mask, 4) != 0)
        return -1;
    buf = malloc((size_t)n + 1);
    if (!buf || (n && recv_all(s, buf, (size_t)n) != 0)) {
        free(buf);
        return -1;
    }
    for (i = 0; i < n; i++)
        buf[i] ^= (char)mask[i & 3];
    buf[n] = '\0';
    *out = buf;
    *len = (size_t)n;
    return 0;
}

static const char *header(const char *req, const char *name, char *val, size_t cap)
{
    const char *p = req;
    size_t nl = strlen(name);
    while ((p = strstr(p, "\r\n")) != NULL) {
        p += 2;
        if (_strnicmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1, *e;
            size_t n;
            while (*v == ' ')
                v++;
            e = strstr(v, "\r\n");
            n = e ? (size_t)(e - v) : strlen(v);
            if (n >= cap)
                n = cap - 1;
            memcpy(val, v, n);
            val[n] = '\0';
            return val;
        }
    }
    return NULL;
}

static void serve_ws(SOCKET s, const char *req)
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    char key[128], cat[192], accept[64], resp[256];
    unsigned char sha[20];

    if (!header(req, "Sec-WebSocket-Key", key, sizeof key))
        return;
    if (header(req, "Origin", cat, sizeof cat))
        InterlockedIncrement(&g_srv.saw_origin);
    snprintf(cat, sizeof cat, "%s%s", key, guid);
    lws_SHA1((const unsigned char *)cat, strlen(cat), sha);
    lws_b64_encode_string((const char *)sha, 20, accept, sizeof accept);
    snprintf(resp, sizeof resp,
             "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
             "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
             accept);
    if (send_all(s, resp, strlen(resp)) != 0)
        return;
    InterlockedIncrement(&g_srv.upgrades);

    for (;;) {
        int opcode;
        char *msg;
        size_t len;
        json_t *root, *id;
        const char *method;
        if (recv_frame(s, &opcode, &msg, &len) != 0)
            return;
        if (opcode == 8) { /* close: answer it, hang up */
            InterlockedIncrement(&g_srv.closes_from_client);
            send_frame(s, 8, msg, len >= 2 ? 2 : 0);
            free(msg);
            return;
        }
        if (opcode == 9) {
            send_frame(s, 10, msg, len);
            free(msg);
            continue;
        }
        root = json_loadb(msg, len, 0, NULL);
        free(msg);
        id = json_object_get(root, "id");
        method = json_string_value(json_object_get(root, "method"));
        if (!json_is_integer(id) || !method) {
            json_decref(root);
            return;
        }
        if (strcmp(method, "Test.echo") == 0) {
            send_json(s, json_pack("{s:s,s:{s:i}}", "method", "Test.event", "params", "seq", 1));
            send_json(s, json_pack("{s:O,s:{s:O}}", "id", id, "result", "echo",
                                   json_object_get(root, "params")));
        } else if (strcmp(method, "Test.error") == 0) {
            send_json(s, json_pack("{s:O,s:{s:i,s:s}}", "id", id, "error", "code", -32601,
                                   "message", "'Test.error' wasn't found"));
        } else if (strcmp(method, "Test.big") == 0) {
            char *big = malloc(BIG_REPLY + 1);
            if (big) {
                memset(big, 'q', BIG_REPLY);
                big[BIG_REPLY] = '\0';
                send_json(s, json_pack("{s:O,s:{s:s}}", "id", id, "result", "data", big));
                free(big);
            }
        } else if (strcmp(method, "Test.drop") == 0) {
            json_decref(root);
            return; /* hang up without a reply */
        }
        /* Test.silent: never answered. */
        json_decref(root);
    }
}

static DWORD WINAPI serve_conn(void *arg)
{
    SOCKET s = (SOCKET)(uintptr_t)arg;
    char req[8192];
    size_t have = 0;
    BOOL on = TRUE;
    /* Like Chromium: an event and a reply back to back must not wait for the
     * peer's delayed ACK (Nagle). */
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, (const char *)&on, sizeof on);
    while (have + 1 < sizeof req) {
        int n = recv(s, req + have, (int)(sizeof req - 1 - have), 0);
        if (n <= 0)
            break;
        have += (size_t)n;
        req[have] = '\0';
        if (strstr(req, "\r\n\r\n"))
            break;
    }
    req[have] = '\0';
    if (strncmp(req, "GET /json/version ", 18) == 0) {
        char body[256], resp[512];
        snprintf(body, sizeof body,
                 "{\"Browser\":\"FakeChrome/1.0\",\"webSocketDebuggerUrl\":"
                 "\"ws://127.0.0.1:%d/devtools/browser/fake-1\"}",
                 g_srv.port);
        snprintf(resp, sizeof resp,
                 "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                 "Connection: close\r\n\r\n%s",
                 strlen(body), body);
        send_all(s, resp, strlen(resp));
    } else if (strncmp(req, "GET /devtools/", 14) == 0) {
        serve_ws(s, req);
    }
    shutdown(s, SD_BOTH);
    closesocket(s);
    return 0;
}

static DWORD WINAPI serve(void *arg)
{
    (void)arg;
    for (;;) {
        SOCKET s = accept(g_srv.ls, NULL, NULL);
        HANDLE t;
        if (s == INVALID_SOCKET)
            return 0; /* closed: the test is over */
        t = CreateThread(NULL, 0, serve_conn, (void *)(uintptr_t)s, 0, NULL);
        if (t)
            CloseHandle(t);
        else
            closesocket(s);
    }
}

static int listen_loopback(SOCKET *out, int *port)
{
    struct sockaddr_in a;
    int alen = sizeof a;
    SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    if (s == INVALID_SOCKET)
        return -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 16) != 0 ||
        getsockname(s, (struct sockaddr *)&a, &alen) != 0) {
        closesocket(s);
        return -1;
    }
    *out = s;
    *port = ntohs(a.sin_port);
    return 0;
}

/* A loopback port nobody listens on (bound once, then let go). */
static int closed_port(void)
{
    SOCKET s;
    int port = 0;
    if (listen_loopback(&s, &port) != 0)
        return 0;
    closesocket(s);
    return port;
}

/* ---- handlers ------------------------------------------------------------- */

typedef struct watch {
    CRITICAL_SECTION cs;
    int events, closed;
    lk_code closed_code;
    char closed_msg[512];
} watch;

static void on_event(void *user, const lk_cdp_msg *msg)
{
    watch *w = user;
    EnterCriticalSection(&w->cs);
    if (msg->method && strcmp(msg->method, "Test.event") == 0)
        w->events++;
    LeaveCriticalSection(&w->cs);
}

static void on_closed(void *user, const lk_error *why)
{
    watch *w = user;
    EnterCriticalSection(&w->cs);
    w->closed++;
    w->closed_code = why->code;
    snprintf(w->closed_msg, sizeof w->closed_msg, "%s", why->msg);
    LeaveCriticalSection(&w->cs);
}

static int watched(watch *w, int *field)
{
    int v;
    EnterCriticalSection(&w->cs);
    v = *field;
    LeaveCriticalSection(&w->cs);
    return v;
}

/* Waits until *field reaches n, or SLOW_MS pass. */
static void wait_watched(watch *w, int *field, int n)
{
    int64_t end = lk_sys_now_ms() + SLOW_MS;
    while (watched(w, field) < n && lk_sys_now_ms() < end)
        Sleep(10);
}

/* ---- the tests -------------------------------------------------------------- */

static void test_parse(void)
{
    static const char reply[] = "{\"id\":7,\"result\":{\"frameId\":\"F1\"},\"sessionId\":\"S1\"}";
    static const char event[] = "{\"method\":\"Page.loadEventFired\",\"params\":{\"t\":1.5}}";
    static const char error[] = "{\"id\":8,\"error\":{\"code\":-32000,\"message\":\"No target\"}}";
    static const char *bad[] = {"",
                                "[]",
                                "{\"id\":1}",
                                "{\"id\":1,\"id\":2,\"result\":{}}",
                                "{\"id\":\"1\",\"result\":{}}",
                                "{\"method\":\"\"}",
                                "{\"id\":1,\"method\":\"X\",\"result\":{}}",
                                "{\"id\":1,\"result\""};
    static const char ok_lf[] = "9222\n/devtools/browser/ab-12\n";
    static const char ok_crlf[] = "4711\r\n/devtools/browser/x\r\n";
    lk_cdp_msg m;
    lk_error err;
    size_t i;
    int port = 0;
    char *path = NULL;

    if (CHECK(lk_cdp_parse(reply, strlen(reply), &m, &err) == LK_OK, "parse: a reply")) {
        CHECK(m.kind == LK_CDP_REPLY && m.id == 7 && m.session_id &&
                  strcmp(m.session_id, "S1") == 0 &&
                  strcmp(json_string_value(json_object_get(m.result, "frameId")), "F1") == 0,
              "  id 7, session S1, result.frameId F1");
        json_decref(m.root);
    }
    if (CHECK(lk_cdp_parse(event, strlen(event), &m, &err) == LK_OK, "parse: an event")) {
        CHECK(m.kind == LK_CDP_EVENT && strcmp(m.method, "Page.loadEventFired") == 0 &&
                  m.session_id == NULL && json_is_object(m.params),
              "  Page.loadEventFired on the browser session");
        json_decref(m.root);
    }
    if (CHECK(lk_cdp_parse(error, strlen(error), &m, &err) == LK_OK, "parse: an error reply")) {
        CHECK(m.kind == LK_CDP_REPLY && m.result == NULL && strstr(m.error, "No target"),
              "  no result, the browser's message kept (\"%s\")", m.error);
        json_decref(m.root);
    }
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(lk_cdp_parse(bad[i], strlen(bad[i]), &m, &err) == LK_EPROTO, "parse rejects %s (%s)",
              bad[i][0] ? bad[i] : "\"\"", err.msg);

    CHECK(lk_cdp_parse_active_port(ok_lf, strlen(ok_lf), &port, &path, &err) == LK_OK &&
              port == 9222 && strcmp(path, "/devtools/browser/ab-12") == 0,
          "DevToolsActivePort: port and path");
    free(path);
    path = NULL;
    CHECK(lk_cdp_parse_active_port(ok_crlf, strlen(ok_crlf), &port, &path, &err) == LK_OK &&
              port == 4711 && strcmp(path, "/devtools/browser/x") == 0,
          "DevToolsActivePort: CRLF line ends");
    free(path);
    path = NULL;
    CHECK(lk_cdp_parse_active_port("0\n/devtools/browser/x\n", 22, &port, &path, &err) != LK_OK,
          "DevToolsActivePort: port 0 refused (%s)", err.msg);
    CHECK(lk_cdp_parse_active_port("70000\n/devtools/browser/x", 25, &port, &path, &err) != LK_OK,
          "DevToolsActivePort: port 70000 refused (%s)", err.msg);
    CHECK(lk_cdp_parse_active_port("9222\n/json\n", 11, &port, &path, &err) != LK_OK,
          "DevToolsActivePort: a path outside /devtools/ refused (%s)", err.msg);
}

static int write_file_w(const wchar_t *path, const char *text)
{
    HANDLE f =
        CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    DWORD n = 0;
    if (f == INVALID_HANDLE_VALUE)
        return 0;
    WriteFile(f, text, (DWORD)strlen(text), &n, NULL);
    CloseHandle(f);
    return n == strlen(text);
}

static void test_profile(const wchar_t *base, const wchar_t *name)
{
    wchar_t prof[MAX_PATH], file[MAX_PATH];
    char prof8[MAX_PATH * 3];
    lk_cdp_endpoint ep;
    lk_error err;
    int rc;

    _snwprintf(prof, MAX_PATH, L"%ls\\%ls", base, name);
    prof[MAX_PATH - 1] = L'\0';
    CreateDirectoryW(prof, NULL);
    WideCharToMultiByte(CP_UTF8, 0, prof, -1, prof8, sizeof prof8, NULL, NULL);

    rc = lk_cdp_endpoint_from_profile(prof8, &ep, &err);
    CHECK(rc == LK_ENOENT && ep.ws_url == NULL,
          "endpoint_from_profile without DevToolsActivePort: LK_ENOENT (%s)", err.msg);
    lk_cdp_endpoint_clear(&ep);

    _snwprintf(file, MAX_PATH, L"%ls\\DevToolsActivePort", prof);
    file[MAX_PATH - 1] = L'\0';
    write_file_w(file, "53123\n/devtools/browser/0f6c-fake\n");
    rc = lk_cdp_endpoint_from_profile(prof8, &ep, &err);
    CHECK(rc == LK_OK && ep.port == 53123 && ep.ws_url &&
              strcmp(ep.ws_url, "ws://127.0.0.1:53123/devtools/browser/0f6c-fake") == 0,
          "endpoint_from_profile: %s", rc == LK_OK ? ep.ws_url : err.msg);
    lk_cdp_endpoint_clear(&ep);

    write_file_w(file, "garbage");
    rc = lk_cdp_endpoint_from_profile(prof8, &ep, &err);
    CHECK(rc == LK_EPROTO || rc == LK_EINVAL, "endpoint_from_profile: a broken file refused (%s)",
          err.msg);
    lk_cdp_endpoint_clear(&ep);
    DeleteFileW(file);
    RemoveDirectoryW(prof);
}

static void test_loop_round_trips(void)
{
    int i;
    for (i = 0; i < 3; i++) {
        lk_cdp_loop *loop = NULL;
        lk_error err;
        int64_t t0 = lk_sys_now_ms(), dt;
        int rc = lk_cdp_loop_start(&loop, &err);
        if (!CHECK(rc == LK_OK && loop, "loop %d starts (%s)", i, rc == LK_OK ? "ok" : err.msg))
            return;
        lk_cdp_loop_stop(loop);
        dt = lk_sys_now_ms() - t0;
        /* Nothing is scheduled on an idle loop: a stop that did not wake the
         * I/O thread would wait forever, not a little longer. */
        CHECK(dt < SLOW_MS, "loop %d: start + stop in %lld ms", i, (long long)dt);
    }
}

static void test_nothing_listens(lk_cdp_loop *loop)
{
    int port = closed_port();
    char url[96];
    lk_cdp *c = NULL;
    lk_cdp_endpoint ep;
    lk_error err;
    int64_t t0, dt;
    int rc;

    if (!CHECK(port > 0, "a closed loopback port: %d", port))
        return;
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/devtools/browser/none", port);
    t0 = lk_sys_now_ms();
    rc = lk_cdp_connect(loop, url, NULL, LONG_MS, &c, &err);
    dt = lk_sys_now_ms() - t0;
    CHECK(rc == LK_EIO && c == NULL, "connect to a closed port fails: %s: %s", lk_code_name(rc),
          err.msg);
    CHECK(dt < SLOW_MS, "  in %lld ms, not at its %d s deadline", (long long)dt, LONG_MS / 1000);
    CHECK(strstr(err.msg, url) != NULL, "  the error names the URL");

    t0 = lk_sys_now_ms();
    rc = lk_cdp_endpoint_probe(port, LONG_MS, &ep, &err);
    dt = lk_sys_now_ms() - t0;
    CHECK(rc == LK_EIO && ep.ws_url == NULL, "probe of a closed port fails: %s: %s",
          lk_code_name(rc), err.msg);
    CHECK(dt < SLOW_MS, "  in %lld ms, not at its %d s deadline", (long long)dt, LONG_MS / 1000);
    lk_cdp_endpoint_clear(&ep);

    rc = lk_cdp_connect(loop, "wss://127.0.0.1:9222/devtools/browser/x", NULL, 1000, &c, &err);
    CHECK(rc == LK_EINVAL, "wss:// refused: %s", err.msg);
    rc = lk_cdp_connect(loop, "ws://192.0.2.1:9222/devtools/browser/x", NULL, 1000, &c, &err);
    CHECK(rc == LK_EINVAL, "a remote host refused: %s", err.msg);
}

static void test_stand_in(void)
{
    lk_cdp_loop *loop = NULL;
    lk_cdp_endpoint ep;
    lk_cdp_handlers h;
    lk_cdp *c = NULL;
    watch w;
    json_t *result = NULL;
    lk_error err;
    int64_t t0, dt;
    int rc, i;

    if (!CHECK(listen_loopback(&g_srv.ls, &g_srv.port) == 0, "the stand-in listens"))
        return;
    g_srv.thread = CreateThread(NULL, 0, serve, NULL, 0, NULL);
    printf("#    stand-in on 127.0.0.1:%d\n", g_srv.port);

    rc = lk_cdp_endpoint_probe(g_srv.port, CALL_MS, &ep, &err);
    CHECK(rc == LK_OK && ep.ws_url && strstr(ep.ws_url, "/devtools/browser/fake-1") && ep.browser &&
              strcmp(ep.browser, "FakeChrome/1.0") == 0,
          "probe (libcurl): %s %s", rc == LK_OK ? ep.ws_url : err.msg,
          rc == LK_OK && ep.browser ? ep.browser : "");
    if (rc != LK_OK || lk_cdp_loop_start(&loop, &err) != LK_OK) {
        lk_cdp_endpoint_clear(&ep);
        goto out;
    }

    memset(&w, 0, sizeof w);
    InitializeCriticalSection(&w.cs);
    h.on_event = on_event;
    h.on_closed = on_closed;
    h.user = &w;
    rc = lk_cdp_connect(loop, ep.ws_url, &h, CALL_MS, &c, &err);
    if (!CHECK(rc == LK_OK && c && lk_cdp_is_open(c), "connect (libwebsockets): %s",
               rc == LK_OK ? "open" : err.msg))
        goto stop;
    CHECK(g_srv.upgrades == 1 && g_srv.saw_origin == 0, "  one upgrade, no Origin header");

    rc = lk_cdp_call(c, NULL, "Test.echo", json_pack("{s:s}", "word", "hello"), CALL_MS, &result,
                     &err);
    CHECK(rc == LK_OK && result &&
              strcmp(json_string_value(json_object_get(json_object_get(result, "echo"), "word")),
                     "hello") == 0,
          "call: Test.echo answered (%s)", rc == LK_OK ? "hello" : err.msg);
    json_decref(result);
    result = NULL;
    wait_watched(&w, &w.events, 1);
    CHECK(watched(&w, &w.events) == 1, "  its event arrived on the I/O thread");
    CHECK(lk_cdp_last_rtt_ms(c) >= 0, "  round trip %d ms", lk_cdp_last_rtt_ms(c));
    {
        /* Steady state: each call needs a wake-up of the I/O thread
         * (lws_cancel_service). Nothing else wakes an idle loop, so a call
         * whose wake-up got lost waits in the queue until its deadline and
         * fails (seen with the wake-up taken out): every call answered is
         * the proof. The times are shown, never judged. */
        int64_t worst = 0, total = 0;
        for (i = 0; i < 20; i++) {
            t0 = lk_sys_now_ms();
            rc = lk_cdp_call(c, NULL, "Test.echo", json_object(), CALL_MS, NULL, &err);
            dt = lk_sys_now_ms() - t0;
            if (rc != LK_OK)
                break;
            total += dt;
            worst = dt > worst ? dt : worst;
        }
        CHECK(i == 20, "20 more calls, each answered: %lld ms on average, %lld ms at worst",
              (long long)(total / (i ? i : 1)), (long long)worst);
    }

    rc = lk_cdp_call(c, NULL, "Test.error", NULL, CALL_MS, &result, &err);
    CHECK(rc == LK_EPROTO && strstr(err.msg, "Protocol error (Test.error)"), "a protocol error: %s",
          err.msg);

    t0 = lk_sys_now_ms();
    rc = lk_cdp_call(c, NULL, "Test.silent", NULL, 600, &result, &err);
    dt = lk_sys_now_ms() - t0;
    CHECK(rc == LK_ETIMEDOUT, "an unanswered call times out: %s", err.msg);
    CHECK(dt >= 550 && dt < SLOW_MS, "  after %lld ms (timeout 600 ms), not before", (long long)dt);

    t0 = lk_sys_now_ms();
    rc = lk_cdp_call(c, NULL, "Test.big", NULL, CALL_MS, &result, &err);
    dt = lk_sys_now_ms() - t0;
    CHECK(rc == LK_OK && json_string_length(json_object_get(result, "data")) == BIG_REPLY,
          "a 1 MiB reply, reassembled: %s (%lld ms)", rc == LK_OK ? "ok" : err.msg, (long long)dt);
    json_decref(result);
    result = NULL;

    CHECK(lk_cdp_is_open(c), "still open");
    t0 = lk_sys_now_ms();
    rc = lk_cdp_call(c, NULL, "Test.drop", NULL, LONG_MS, &result, &err);
    dt = lk_sys_now_ms() - t0;
    CHECK(rc == LK_EIO && strstr(err.msg, "connection closed"),
          "the stand-in hangs up: the pending call fails: %s", err.msg);
    CHECK(dt < SLOW_MS, "  at once (%lld ms), not at its %d s deadline", (long long)dt,
          LONG_MS / 1000);
    wait_watched(&w, &w.closed, 1);
    CHECK(watched(&w, &w.closed) == 1 && w.closed_code == LK_EIO, "  on_closed ran once: %s",
          w.closed_msg);
    CHECK(!lk_cdp_is_open(c), "  closed");
    rc = lk_cdp_call(c, NULL, "Test.echo", NULL, 1000, &result, &err);
    CHECK(rc == LK_EIO, "a call on the closed connection fails: %s", err.msg);
    lk_cdp_close(c);
    c = NULL;

    /* A second connection, left open: stopping the loop closes it. */
    memset(&w, 0, sizeof w);
    InitializeCriticalSection(&w.cs);
    rc = lk_cdp_connect(loop, ep.ws_url, &h, CALL_MS, &c, &err);
    CHECK(rc == LK_OK, "a second connection: %s", rc == LK_OK ? "open" : err.msg);
stop:
    t0 = lk_sys_now_ms();
    lk_cdp_loop_stop(loop);
    dt = lk_sys_now_ms() - t0;
    CHECK(dt < SLOW_MS, "loop stopped in %lld ms", (long long)dt);
    if (c) {
        CHECK(watched(&w, &w.closed) == 1 && w.closed_code == LK_EIO,
              "  the open connection was closed: %s", w.closed_msg);
        lk_cdp_close(c);
    }
    lk_cdp_endpoint_clear(&ep);
out:
    closesocket(g_srv.ls);
    if (g_srv.thread) {
        WaitForSingleObject(g_srv.thread, 5000);
        CloseHandle(g_srv.thread);
    }
}

int main(void)
{
    wchar_t tmp[MAX_PATH], base[MAX_PATH];
    lk_cdp_loop *loop = NULL;
    lk_error err;
    WSADATA wsa;

    setvbuf(stdout, NULL, _IONBF, 0);
    WSAStartup(MAKEWORD(2, 2), &wsa);
    GetTempPathW(MAX_PATH, tmp);
    _snwprintf(base, MAX_PATH, L"%lslk-cdp-%lu", tmp, GetCurrentProcessId());
    base[MAX_PATH - 1] = L'\0';
    CreateDirectoryW(base, NULL);

    /* Core formats with %zu and %lld: mingw's C99 printf, not msvcrt's. */
    lk_error_set(&err, LK_EIO, 0, "%zu-byte message, %lld ms", (size_t)4096, (long long)-3);
    CHECK(strcmp(err.msg, "4096-byte message, -3 ms") == 0, "lk_error_set formats C99: %s",
          err.msg);
    test_parse();
    test_profile(base, L"session-port");
    /* C:\Users\J\u00e9r\u00f4me\...: UTF-8 paths must reach the file system as UTF-16. */
    test_profile(base, L"session \u00e9\u00f4 \u4f1a\u8bdd");
    test_loop_round_trips();
    if (CHECK(lk_cdp_loop_start(&loop, &err) == LK_OK, "a loop for the connect tests")) {
        test_nothing_listens(loop);
        lk_cdp_loop_stop(loop);
    }
    test_stand_in();

    RemoveDirectoryW(base);
    WSACleanup();
    printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
