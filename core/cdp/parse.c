/* DevTools messages and the DevToolsActivePort file: pure parsing, fuzzed.
 *
 * Everything here reads bytes that a browser (or whatever listens on its
 * port) chose, so nothing is trusted: shapes are checked before use, and a
 * rejection always says what was wrong. */
#include "latchkey/cdp.h"

#include <stdlib.h>
#include <string.h>

/* ---- lone surrogates ------------------------------------------------------ */

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    int i;
    for (i = 0; i < 4; i++) {
        char ch = p[i];
        v <<= 4;
        if (ch >= '0' && ch <= '9')
            v |= (unsigned)(ch - '0');
        else if (ch >= 'a' && ch <= 'f')
            v |= (unsigned)(ch - 'a' + 10);
        else if (ch >= 'A' && ch <= 'F')
            v |= (unsigned)(ch - 'A' + 10);
        else
            return 0;
    }
    *out = v;
    return 1;
}

/* Chromium escapes every UTF-16 code unit of a JS string as \uXXXX, so a page
 * whose title or console output holds a lone surrogate yields JSON that
 * jansson refuses. Such a message is legitimate and must not cost us the
 * connection: rewrite each lone surrogate escape to \uFFFD (same length), as
 * a UTF-8 conversion would. Returns a rewritten copy, or NULL with *oom = 0
 * when the buffer needs no change. */
static char *fix_lone_surrogates(const char *buf, size_t len, int *oom)
{
    char *copy = NULL;
    size_t i = 0;
    *oom = 0;
    while (i + 1 < len) {
        const char *bs = memchr(buf + i, '\\', len - i);
        unsigned cu, lo;
        int lone;
        if (!bs)
            break;
        i = (size_t)(bs - buf);
        if (i + 1 >= len)
            break;
        /* Any other escape (\\, \", \n ...) is two bytes: skipping it keeps an
         * escaped backslash from being read as the start of an escape. */
        if (buf[i + 1] != 'u' || len - i < 6 || !hex4(buf + i + 2, &cu)) {
            i += 2;
            continue;
        }
        if (cu >= 0xD800 && cu <= 0xDBFF) {
            lone = !(len - i >= 12 && buf[i + 6] == '\\' && buf[i + 7] == 'u' &&
                     hex4(buf + i + 8, &lo) && lo >= 0xDC00 && lo <= 0xDFFF);
            if (!lone) {
                i += 12;
                continue;
            }
        } else {
            lone = cu >= 0xDC00 && cu <= 0xDFFF;
        }
        if (lone) {
            if (!copy) {
                copy = malloc(len);
                if (!copy) {
                    *oom = 1;
                    return NULL;
                }
                memcpy(copy, buf, len);
            }
            memcpy(copy + i + 2, "FFFD", 4);
        }
        i += 6;
    }
    return copy;
}

/* ---- messages ------------------------------------------------------------- */

/* A string fit for routing: no embedded NUL (JSON_ALLOW_NUL lets them into
 * values, where they are harmless, but a method or session id with one would
 * compare equal to something it is not). */
static const char *plain_string(json_t *v)
{
    const char *s = json_string_value(v);
    if (!s || strlen(s) != json_string_length(v))
        return NULL;
    return s;
}

static int get_id(json_t *v, int64_t *id)
{
    double d;
    if (json_is_integer(v)) {
        *id = (int64_t)json_integer_value(v);
        return 1;
    }
    /* Only after the numeric-overflow retry (JSON_DECODE_INT_AS_REAL) is an
     * id a real; it must still be a whole number inside int64. */
    if (!json_is_real(v))
        return 0;
    d = json_real_value(v);
    /* Written so that NaN fails too; the cast is defined once in range. */
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
        return 0;
    if ((double)(int64_t)d != d)
        return 0;
    *id = (int64_t)d;
    return 1;
}

static void fill_error(json_t *error, char *out, size_t outsz)
{
    json_t *code = json_object_get(error, "code");
    const char *msg = json_string_value(json_object_get(error, "message"));
    const char *data = json_string_value(json_object_get(error, "data"));
    int n;
    if (msg && *msg)
        n = snprintf(out, outsz, "%s", msg);
    else if (json_is_integer(code))
        n = snprintf(out, outsz, "protocol error %lld", (long long)json_integer_value(code));
    else
        n = snprintf(out, outsz, "protocol error");
    if (data && *data && n >= 0 && (size_t)n < outsz)
        snprintf(out + n, outsz - (size_t)n, ": %s", data);
}

static int reject(lk_cdp_msg *out, lk_error *err, const char *why)
{
    json_decref(out->root);
    memset(out, 0, sizeof *out);
    return lk_error_set(err, LK_EPROTO, 0, "bad DevTools message: %s", why);
}

int lk_cdp_parse(const char *buf, size_t len, lk_cdp_msg *out, lk_error *err)
{
    /* Duplicate keys would make "which id / sessionId counts" ambiguous, and
     * Chromium never sends them. NUL inside strings is legal JSON that a page
     * can produce (document text, console output), so it is accepted. */
    const size_t flags = JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL;
    json_error_t jerr;
    json_t *id, *method, *sid, *params;
    char *fixed;
    int oom;

    if (!out)
        return lk_error_set(err, LK_EINVAL, 0, "lk_cdp_parse: no output");
    memset(out, 0, sizeof *out);
    if (!buf || len == 0)
        return lk_error_set(err, LK_EPROTO, 0, "bad DevTools message: empty");
    if (len > LK_CDP_MAX_MESSAGE)
        return lk_error_set(err, LK_EPROTO, 0, "bad DevTools message: larger than %u bytes",
                            LK_CDP_MAX_MESSAGE);

    fixed = fix_lone_surrogates(buf, len, &oom);
    if (oom)
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory parsing a %zu-byte message", len);
    out->root = json_loadb(fixed ? fixed : buf, len, flags, &jerr);
    /* A page can log 2**64; Chromium writes it as an integer literal that
     * does not fit int64. Read that one message with every number as a real
     * rather than lose the connection over it. */
    if (!out->root && json_error_code(&jerr) == json_error_numeric_overflow)
        out->root = json_loadb(fixed ? fixed : buf, len, flags | JSON_DECODE_INT_AS_REAL, &jerr);
    free(fixed);
    if (!out->root) {
        if (json_error_code(&jerr) == json_error_out_of_memory)
            return lk_error_set(err, LK_ENOMEM, 0, "out of memory parsing a %zu-byte message", len);
        return lk_error_set(err, LK_EPROTO, 0, "bad DevTools message: invalid JSON at byte %d: %s",
                            jerr.position, jerr.text);
    }
    if (!json_is_object(out->root))
        return reject(out, err, "not a JSON object");

    id = json_object_get(out->root, "id");
    method = json_object_get(out->root, "method");
    sid = json_object_get(out->root, "sessionId");
    if (sid) {
        out->session_id = plain_string(sid);
        if (!out->session_id)
            return reject(out, err, "sessionId is not a plain string");
        if (!*out->session_id)
            out->session_id = NULL; /* "" is the browser session */
    }
    if (id && method)
        return reject(out, err, "both id and method (a request, not a reply or an event)");

    if (id) {
        json_t *result = json_object_get(out->root, "result");
        json_t *error = json_object_get(out->root, "error");
        if (!get_id(id, &out->id))
            return reject(out, err, "id is not an integer");
        out->kind = LK_CDP_REPLY;
        if (error) {
            if (!json_is_object(error))
                return reject(out, err, "error is not an object");
            fill_error(error, out->error, sizeof out->error);
        } else if (result) {
            if (!json_is_object(result))
                return reject(out, err, "result is not an object");
            out->result = result;
        } else {
            return reject(out, err, "reply without result or error");
        }
        return LK_OK;
    }

    if (!method)
        return reject(out, err, "neither id nor method");
    out->method = plain_string(method);
    if (!out->method || !*out->method)
        return reject(out, err, "method is not a non-empty plain string");
    params = json_object_get(out->root, "params");
    if (!params) {
        /* Events without parameters get an empty object, owned by root, so
         * handlers never test for NULL. */
        if (json_object_set_new(out->root, "params", json_object()) != 0)
            return reject(out, err, "out of memory");
        params = json_object_get(out->root, "params");
    }
    if (!json_is_object(params))
        return reject(out, err, "params is not an object");
    out->kind = LK_CDP_EVENT;
    out->params = params;
    return LK_OK;
}

/* ---- DevToolsActivePort ---------------------------------------------------- */

/* Longest path accepted on line 2; Chromium writes /devtools/browser/<uuid>. */
#define LK_CDP_MAX_WS_PATH 1024

static size_t eol(const char *buf, size_t len, size_t i)
{
    if (i < len && buf[i] == '\n')
        return 1;
    if (i + 1 < len && buf[i] == '\r' && buf[i + 1] == '\n')
        return 2;
    return 0;
}

int lk_cdp_parse_active_port(const char *buf, size_t len, int *port, char **ws_path, lk_error *err)
{
    static const char prefix[] = "/devtools/";
    size_t i = 0, n, start;
    long value = 0;
    char *path;

    if (!port || !ws_path)
        return lk_error_set(err, LK_EINVAL, 0, "lk_cdp_parse_active_port: no output");
    if (!buf || len == 0)
        return lk_error_set(err, LK_EPROTO, 0, "DevToolsActivePort is empty");
    /* Line 1: the port, digits only, no sign, no leading zero, 1..65535. */
    while (i < len && buf[i] >= '0' && buf[i] <= '9' && i < 6) {
        value = value * 10 + (buf[i] - '0');
        i++;
    }
    if (i == 0 || i > 5 || buf[0] == '0' || value < 1 || value > 65535)
        return lk_error_set(err, LK_EPROTO, 0,
                            "DevToolsActivePort: line 1 is not a port number (1-65535)");
    n = eol(buf, len, i);
    if (!n)
        return lk_error_set(err, LK_EPROTO, 0,
                            "DevToolsActivePort: junk after the port number on line 1");
    i += n;
    /* Line 2: the browser's WebSocket path, printable ASCII without spaces. */
    start = i;
    while (i < len && (unsigned char)buf[i] > 0x20 && (unsigned char)buf[i] < 0x7f)
        i++;
    if (i - start < sizeof prefix || memcmp(buf + start, prefix, sizeof prefix - 1) != 0)
        return lk_error_set(err, LK_EPROTO, 0,
                            "DevToolsActivePort: line 2 is not a /devtools/ path");
    if (i - start > LK_CDP_MAX_WS_PATH)
        return lk_error_set(err, LK_EPROTO, 0,
                            "DevToolsActivePort: the path on line 2 is too long");
    n = i;
    i += eol(buf, len, i); /* one trailing newline (or CRLF) is fine */
    if (i != len)
        return lk_error_set(err, LK_EPROTO, 0, "DevToolsActivePort: junk after line 2");
    path = malloc(n - start + 1);
    if (!path)
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    memcpy(path, buf + start, n - start);
    path[n - start] = '\0';
    *port = (int)value;
    *ws_path = path;
    return LK_OK;
}
