/* A fake DevTools server that misbehaves on purpose, for the CDP client's
 * tests. Plain POSIX sockets and a hand-written WebSocket handshake (SHA-1 +
 * base64 below), so that it shares no code with the client under test.
 *
 *   fake_devtools MODE
 *
 * Listens on 127.0.0.1 (ephemeral port), prints the port on stdout, serves
 * one connection, then prints one result line ("sent N" ...) and exits.
 * Modes (what happens after the first request arrives):
 *   reply       a well-behaved server: echoes each request as its reply;
 *               "Fake.event" also sends an event, "Fake.big" a 20 MB reply in
 *               64 KiB fragments (reassembly of a legitimate large message)
 *   truncated   a frame header announcing 100 bytes, 10 of them, then close
 *   big         one 50 MB text frame, streamed until the client hangs up
 *   bigfrag     50 MB as 64 KiB continuation fragments, likewise
 *   malformed   a text frame of broken JSON, then waits for the client
 *   binary      a binary frame
 *   goaway      a close frame (1011, "bye") and nothing else
 *   silent      never answers anything (reads and discards)
 *   nohandshake never completes the HTTP upgrade
 * and, for the /json/version probe (plain HTTP, no upgrade):
 *   http-version  a proper answer pointing at this port
 *   http-remote   an answer whose webSocketDebuggerUrl is not on loopback
 *   http-huge     a 1 MB answer
 *   http-404      a 404
 * A request carrying an Origin header is refused (the client must not send
 * one: Chromium rejects unknown origins).
 *
 *   fake_devtools --forever MODE --user-data-dir=DIR
 *
 * A hostile browser for a session folder: writes DIR/DevToolsActivePort
 * (as Chromium does) and serves every connection, each in a child process,
 * until it is ended (or after 15 minutes). Its --user-data-dir makes it the
 * folder's browser to anyone who looks. Modes:
 *   mute       accepts and never answers anything, not even /json/version
 *   garbage    a proper /json/version and upgrade, then every request is
 *              answered with bytes that are no JSON and no valid frame
 *   midclose   a proper /json/version and upgrade, then half a frame of the
 *              first reply and the connection closes */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- SHA-1 (FIPS 180-1), enough for Sec-WebSocket-Accept --------------------- */

static uint32_t rol(uint32_t v, int n)
{
    return (v << n) | (v >> (32 - n));
}

static void sha1(const unsigned char *msg, size_t len, unsigned char out[20])
{
    uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    size_t total = ((len + 8) / 64 + 1) * 64, off, i;
    unsigned char *buf = calloc(1, total);
    uint64_t bits = (uint64_t)len * 8;
    memcpy(buf, msg, len);
    buf[len] = 0x80;
    for (i = 0; i < 8; i++)
        buf[total - 1 - i] = (unsigned char)(bits >> (8 * i));
    for (off = 0; off < total; off += 64) {
        uint32_t w[80], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f, k, t;
        for (i = 0; i < 16; i++)
            w[i] = (uint32_t)buf[off + 4 * i] << 24 | (uint32_t)buf[off + 4 * i + 1] << 16 |
                   (uint32_t)buf[off + 4 * i + 2] << 8 | buf[off + 4 * i + 3];
        for (i = 16; i < 80; i++)
            w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
        for (i = 0; i < 80; i++) {
            if (i < 20)
                f = (b & c) | (~b & d), k = 0x5A827999;
            else if (i < 40)
                f = b ^ c ^ d, k = 0x6ED9EBA1;
            else if (i < 60)
                f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDC;
            else
                f = b ^ c ^ d, k = 0xCA62C1D6;
            t = rol(a, 5) + f + e + k + w[i];
            e = d;
            d = c;
            c = rol(b, 30);
            b = a;
            a = t;
        }
        h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
    }
    for (i = 0; i < 20; i++)
        out[i] = (unsigned char)(h[i / 4] >> (24 - 8 * (i % 4)));
    free(buf);
}

static void base64(const unsigned char *in, size_t len, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i;
    for (i = 0; i + 2 < len; i += 3) {
        *out++ = tab[in[i] >> 2];
        *out++ = tab[(in[i] & 3) << 4 | in[i + 1] >> 4];
        *out++ = tab[(in[i + 1] & 15) << 2 | in[i + 2] >> 6];
        *out++ = tab[in[i + 2] & 63];
    }
    if (i < len) {
        *out++ = tab[in[i] >> 2];
        if (i + 1 < len) {
            *out++ = tab[(in[i] & 3) << 4 | in[i + 1] >> 4];
            *out++ = tab[(in[i + 1] & 15) << 2];
        } else {
            *out++ = tab[(in[i] & 3) << 4];
            *out++ = '=';
        }
        *out++ = '=';
    }
    *out = '\0';
}

static void accept_key(const char *key, char out[29])
{
    char cat[128];
    unsigned char digest[20];
    snprintf(cat, sizeof cat, "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
    sha1((const unsigned char *)cat, strlen(cat), digest);
    base64(digest, 20, out);
}

/* ---- sockets and frames ----------------------------------------------------------- */

static unsigned long long g_sent;

static int send_all(int fd, const void *p, size_t n)
{
    const char *s = p;
    while (n) {
        ssize_t k = send(fd, s, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        g_sent += (unsigned long long)k;
        s += k;
        n -= (size_t)k;
    }
    return 0;
}

static int recv_all(int fd, void *p, size_t n)
{
    char *s = p;
    while (n) {
        ssize_t k = recv(fd, s, n, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        s += k;
        n -= (size_t)k;
    }
    return 0;
}

static int send_header(int fd, int fin, int opcode, uint64_t len)
{
    unsigned char h[10];
    size_t n = 2, i;
    h[0] = (unsigned char)((fin ? 0x80 : 0) | opcode);
    if (len < 126) {
        h[1] = (unsigned char)len;
    } else if (len < 65536) {
        h[1] = 126;
        h[2] = (unsigned char)(len >> 8);
        h[3] = (unsigned char)len;
        n = 4;
    } else {
        h[1] = 127;
        for (i = 0; i < 8; i++)
            h[2 + i] = (unsigned char)(len >> (56 - 8 * i));
        n = 10;
    }
    return send_all(fd, h, n);
}

static int send_frame(int fd, int fin, int opcode, const void *p, size_t len)
{
    if (send_header(fd, fin, opcode, len))
        return -1;
    return send_all(fd, p, len);
}

/* Reads one client frame (masked); returns its opcode, -1 at EOF. */
static int read_frame(int fd, char **payload, size_t *len)
{
    unsigned char h[2], ext[8], mask[4];
    uint64_t n;
    size_t i;
    char *p;
    if (recv_all(fd, h, 2))
        return -1;
    n = h[1] & 0x7f;
    if (n == 126) {
        if (recv_all(fd, ext, 2))
            return -1;
        n = (uint64_t)ext[0] << 8 | ext[1];
    } else if (n == 127) {
        if (recv_all(fd, ext, 8))
            return -1;
        for (n = 0, i = 0; i < 8; i++)
            n = n << 8 | ext[i];
    }
    if (n > (64u << 20) || !(h[1] & 0x80) || recv_all(fd, mask, 4))
        return -1;
    p = malloc((size_t)n + 1);
    if (!p || recv_all(fd, p, (size_t)n)) {
        free(p);
        return -1;
    }
    for (i = 0; i < n; i++)
        p[i] ^= (char)mask[i % 4];
    p[n] = '\0';
    *payload = p;
    *len = (size_t)n;
    return h[0] & 0x0f;
}

/* Reads the next text frame (a request); NULL at EOF or close. */
static json_t *read_request(int fd)
{
    for (;;) {
        char *p = NULL;
        size_t n;
        int op = read_frame(fd, &p, &n);
        json_t *j;
        if (op < 0 || op == 8) {
            free(p);
            return NULL;
        }
        if (op != 1) {
            free(p);
            continue;
        }
        j = json_loadb(p, n, 0, NULL);
        free(p);
        if (j)
            return j;
    }
}

static int handshake(int fd)
{
    char req[8192], *key, *end, accept[29], resp[256];
    size_t n = 0;
    while (n < sizeof req - 1) {
        ssize_t k = recv(fd, req + n, sizeof req - 1 - n, 0);
        if (k <= 0)
            return -1;
        n += (size_t)k;
        req[n] = '\0';
        if (strstr(req, "\r\n\r\n"))
            break;
    }
    if (strcasestr(req, "\r\nOrigin:")) {
        const char *no = "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n";
        send_all(fd, no, strlen(no));
        fprintf(stderr, "fake_devtools: the client sent an Origin header\n");
        return -1;
    }
    key = strcasestr(req, "\r\nSec-WebSocket-Key:");
    if (!key)
        return -1;
    key += 20;
    while (*key == ' ')
        key++;
    end = strstr(key, "\r\n");
    if (!end || end - key > 60)
        return -1;
    *end = '\0';
    accept_key(key, accept);
    snprintf(resp, sizeof resp,
             "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
             "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
             accept);
    return send_all(fd, resp, strlen(resp));
}

/* ---- modes -------------------------------------------------------------------------- */

/* total bytes as one frame (frag == 0) or as 64 KiB fragments; stops when the
 * client hangs up. The payload is a JSON prefix, so only its size is wrong. */
static void send_big(int fd, uint64_t total, int frag)
{
    enum { CHUNK = 64 * 1024 };
    static char chunk[CHUNK];
    const char *head = "{\"id\":1,\"result\":{\"data\":\"";
    uint64_t sent = 0;
    memset(chunk, 'a', sizeof chunk);
    memcpy(chunk, head, strlen(head));
    if (!frag && send_header(fd, 1, 1, total))
        return;
    while (sent < total) {
        size_t n = total - sent < CHUNK ? (size_t)(total - sent) : CHUNK;
        int rc = frag ? send_frame(fd, sent + n == total, sent ? 0 : 1, chunk, n)
                      : send_all(fd, chunk, n);
        if (rc)
            return;
        sent += n;
        memset(chunk, 'a', strlen(head));
    }
}

static void reply_json(int fd, json_t *msg)
{
    char *s = json_dumps(msg, JSON_COMPACT);
    send_frame(fd, 1, 1, s, strlen(s));
    free(s);
    json_decref(msg);
}

/* A reply of about 20 MB, in 64 KiB fragments. */
static void send_big_reply(int fd, json_int_t id)
{
    enum { TOTAL = 20 * 1000 * 1000, CHUNK = 64 * 1024 };
    char head[64], *msg = malloc(TOTAL + 64);
    size_t n =
        (size_t)snprintf(head, sizeof head, "{\"id\":%lld,\"result\":{\"data\":\"", (long long)id);
    size_t len, off;
    memcpy(msg, head, n);
    memset(msg + n, 'b', TOTAL);
    memcpy(msg + n + TOTAL, "\"}}", 3);
    len = n + TOTAL + 3;
    for (off = 0; off < len; off += CHUNK) {
        size_t k = len - off < CHUNK ? len - off : CHUNK;
        if (send_frame(fd, off + k == len, off ? 0 : 1, msg + off, k))
            break;
    }
    free(msg);
}

static void serve_replies(int fd, json_t *req)
{
    while (req) {
        json_t *id = json_object_get(req, "id");
        const char *method = json_string_value(json_object_get(req, "method"));
        json_t *sid = json_object_get(req, "sessionId");
        if (method && strcmp(method, "Fake.big") == 0) {
            send_big_reply(fd, json_integer_value(id));
        } else if (method && strcmp(method, "Fake.never") == 0) {
            /* no answer */
        } else {
            json_t *reply = json_object(), *result = json_object();
            if (method && strcmp(method, "Fake.event") == 0) {
                json_t *ev =
                    json_pack("{s:s, s:{s:i}}", "method", "Fake.happened", "params", "n", 1);
                if (sid)
                    json_object_set(ev, "sessionId", sid);
                reply_json(fd, ev);
            }
            json_object_set(result, "method", json_object_get(req, "method"));
            json_object_set(result, "params", json_object_get(req, "params"));
            json_object_set(reply, "id", id);
            json_object_set_new(reply, "result", result);
            if (sid)
                json_object_set(reply, "sessionId", sid);
            reply_json(fd, reply);
        }
        json_decref(req);
        req = read_request(fd);
    }
}

static void serve_http(int fd, const char *mode, int port)
{
    char req[4096], body[512], head[256];
    size_t n = 0;
    while (n < sizeof req - 1 && !strstr(req, "\r\n\r\n")) {
        ssize_t k = recv(fd, req + n, sizeof req - 1 - n, 0);
        if (k <= 0)
            return;
        n += (size_t)k;
        req[n] = '\0';
    }
    if (strcmp(mode, "http-404") == 0) {
        const char *r = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
        send_all(fd, r, strlen(r));
        return;
    }
    if (strcmp(mode, "http-huge") == 0) {
        size_t total = 1000000;
        char *big = malloc(total);
        memset(big, ' ', total);
        big[0] = '{';
        big[total - 1] = '}';
        snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", total);
        if (send_all(fd, head, strlen(head)) == 0)
            send_all(fd, big, total);
        free(big);
        return;
    }
    snprintf(body, sizeof body,
             "{\"Browser\": \"Chrome/0.0.fake\", \"Protocol-Version\": \"1.3\", "
             "\"webSocketDebuggerUrl\": \"ws://%s:%d/devtools/browser/fake\"}",
             strcmp(mode, "http-remote") == 0 ? "203.0.113.7" : "127.0.0.1", port);
    snprintf(head, sizeof head,
             "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
             strlen(body));
    send_all(fd, head, strlen(head));
    send_all(fd, body, strlen(body));
}

static void drain_until_eof(int fd)
{
    char buf[65536];
    while (recv(fd, buf, sizeof buf, 0) > 0)
        ;
}

/* ---- --forever: a hostile browser ------------------------------------------------------- */

/* Reads an HTTP request head; 1 when it asks for a WebSocket upgrade. */
static int read_head(int fd, char *req, size_t size)
{
    size_t n = 0;
    req[0] = '\0';
    while (n < size - 1 && !strstr(req, "\r\n\r\n")) {
        ssize_t k = recv(fd, req + n, size - 1 - n, 0);
        if (k <= 0)
            return -1;
        n += (size_t)k;
        req[n] = '\0';
    }
    return strcasestr(req, "\r\nUpgrade: websocket") != NULL;
}

static void hostile_conn(int fd, const char *mode, int port)
{
    char req[8192];
    int ws;
    if (strcmp(mode, "mute") == 0) {
        drain_until_eof(fd);
        return;
    }
    /* One peek decides: a discovery request is answered, an upgrade
     * goes to the handshake (which reads the head itself). */
    if (recv(fd, req, sizeof req - 1, MSG_PEEK) <= 0)
        return;
    req[sizeof req - 1] = '\0';
    ws = strcasestr(req, "\r\nUpgrade: websocket") != NULL;
    if (!ws) {
        if (read_head(fd, req, sizeof req) >= 0) {
            char body[256], head[160];
            snprintf(body, sizeof body,
                     "{\"Browser\": \"Chrome/0.0.hostile\", \"Protocol-Version\": \"1.3\", "
                     "\"webSocketDebuggerUrl\": \"ws://127.0.0.1:%d/devtools/browser/fake\"}",
                     port);
            snprintf(head, sizeof head,
                     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     strlen(body));
            send_all(fd, head, strlen(head));
            send_all(fd, body, strlen(body));
        }
        shutdown(fd, SHUT_WR);
        drain_until_eof(fd);
        return;
    }
    if (handshake(fd))
        return;
    for (;;) {
        json_t *r = read_request(fd);
        if (!r)
            return;
        json_decref(r);
        if (strcmp(mode, "midclose") == 0) {
            send_header(fd, 1, 1, 100);
            send_all(fd, "{\"id\":1,\"r", 10);
            return;
        }
        /* garbage: a text frame that is no JSON, then an opcode no
         * WebSocket has, with a length that runs on. */
        send_frame(fd, 1, 1, "}{\x01garbage\xff\xfe", 12);
        send_all(fd, "\x8b\x7f\xff\xff\xff\xff\xff\xff\xff\xffzz", 12);
    }
}

static int forever(const char *mode, const char *dir)
{
    struct sockaddr_in sa;
    struct sigaction sac;
    socklen_t sl = sizeof sa;
    char path[4096];
    FILE *f;
    int lfd, one = 1;
    if (strcmp(mode, "mute") && strcmp(mode, "garbage") && strcmp(mode, "midclose")) {
        fprintf(stderr, "fake_devtools: unknown --forever mode '%s'\n", mode);
        return 2;
    }
    /* The children are never waited for: no zombies either. */
    memset(&sac, 0, sizeof sac);
    sac.sa_handler = SIG_IGN;
    sac.sa_flags = SA_NOCLDWAIT;
    sigaction(SIGCHLD, &sac, NULL);
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) || listen(lfd, 16) ||
        getsockname(lfd, (struct sockaddr *)&sa, &sl)) {
        perror("fake_devtools: listen");
        return 2;
    }
    /* As Chromium writes it: the port, then the browser's path. */
    snprintf(path, sizeof path, "%s/DevToolsActivePort", dir);
    f = fopen(path, "w");
    if (!f) {
        perror(path);
        return 2;
    }
    fprintf(f, "%d\n/devtools/browser/fake\n", ntohs(sa.sin_port));
    fclose(f);
    printf("%d\n", ntohs(sa.sin_port));
    fflush(stdout);
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        pid_t child;
        if (fd < 0) {
            if (errno == EINTR)
                continue;
            return 2;
        }
        child = fork();
        if (child == 0) {
            close(lfd);
            hostile_conn(fd, mode, ntohs(sa.sin_port));
            _exit(0);
        }
        close(fd);
    }
}

int main(int argc, char **argv)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    const char *mode = argc > 1 ? argv[1] : "";
    char check[29];
    int lfd, fd, one = 1;
    json_t *req;

    signal(SIGPIPE, SIG_IGN);
    if (argc == 4 && strcmp(argv[1], "--forever") == 0 &&
        strncmp(argv[3], "--user-data-dir=", 16) == 0) {
        alarm(900); /* never outlive a broken test */
        return forever(argv[2], argv[3] + 16);
    }
    alarm(120);                                    /* never outlive a broken test */
    accept_key("dGhlIHNhbXBsZSBub25jZQ==", check); /* RFC 6455, section 1.3 */
    if (strcmp(check, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") != 0) {
        fprintf(stderr, "fake_devtools: SHA-1 self-test failed\n");
        return 2;
    }
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(lfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* no Nagle delays */
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) || listen(lfd, 4) ||
        getsockname(lfd, (struct sockaddr *)&sa, &sl)) {
        perror("fake_devtools: listen");
        return 2;
    }
    printf("%d\n", ntohs(sa.sin_port));
    fflush(stdout);
    fd = accept(lfd, NULL, NULL);
    close(lfd);
    if (fd < 0)
        return 2;

    if (strncmp(mode, "http-", 5) == 0) {
        serve_http(fd, mode, ntohs(sa.sin_port));
        shutdown(fd, SHUT_WR);
        drain_until_eof(fd);
        printf("eof\n");
        return 0;
    }
    if (strcmp(mode, "nohandshake") == 0) {
        drain_until_eof(fd);
        printf("eof\n");
        return 0;
    }
    if (handshake(fd))
        return 3;
    if (strcmp(mode, "silent") == 0) {
        drain_until_eof(fd);
        printf("eof\n");
        return 0;
    }
    req = read_request(fd);
    if (!req)
        return 4;
    g_sent = 0;
    if (strcmp(mode, "reply") == 0) {
        serve_replies(fd, req);
        req = NULL;
    } else if (strcmp(mode, "truncated") == 0) {
        send_header(fd, 1, 1, 100);
        send_all(fd, "{\"id\":1,\"r", 10);
    } else if (strcmp(mode, "big") == 0) {
        send_big(fd, 50000000ull, 0);
    } else if (strcmp(mode, "bigfrag") == 0) {
        send_big(fd, 50000000ull, 1);
    } else if (strcmp(mode, "malformed") == 0) {
        const char *bad = "{\"id\":1,\"result\":{\"a\":1}";
        send_frame(fd, 1, 1, bad, strlen(bad));
        drain_until_eof(fd);
    } else if (strcmp(mode, "binary") == 0) {
        const char *b = "{\"id\":1,\"result\":{}}";
        send_frame(fd, 1, 2, b, strlen(b));
        drain_until_eof(fd);
    } else if (strcmp(mode, "goaway") == 0) {
        send_frame(fd, 1, 8,
                   "\x03\xf3"
                   "bye",
                   5);
        drain_until_eof(fd);
    } else {
        fprintf(stderr, "fake_devtools: unknown mode '%s'\n", mode);
        return 2;
    }
    json_decref(req);
    printf("sent %llu\n", g_sent);
    fflush(stdout);
    close(fd);
    return 0;
}
