/* ws:// URLs of DevTools endpoints, split for lws_client_connect_via_info.
 *
 * DevTools has no authentication: whoever reaches the port owns the browser.
 * Latchkey only talks to browsers on this machine, so only loopback hosts
 * are accepted, and only plain ws:// (Chromium never offers wss:// there). */
#include "cdp/cdp_private.h"

#include <stdio.h>
#include <string.h>

static int ieq_prefix(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++) {
        char a = *s, b = *prefix;
        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (a != b)
            return 0;
    }
    return 1;
}

/* 127.0.0.0/8 written as a plain dotted quad (no octal, no short forms). */
static int is_loopback_v4(const char *h)
{
    int part = 0, digits = 0, value = 0, first = -1;
    for (;; h++) {
        if (*h >= '0' && *h <= '9') {
            if (digits == 1 && value == 0)
                return 0; /* leading zero: octal in some parsers */
            value = value * 10 + (*h - '0');
            if (++digits > 3 || value > 255)
                return 0;
        } else if (*h == '.' || *h == '\0') {
            if (!digits)
                return 0;
            if (part == 0)
                first = value;
            part++;
            if (*h == '\0')
                break;
            if (part > 3)
                return 0;
            digits = value = 0;
        } else {
            return 0;
        }
    }
    return part == 4 && first == 127;
}

int lk_cdp__parse_ws_url(const char *url, lk_cdp__url *out, lk_error *err)
{
    const char *p, *auth_end, *host_end, *path;
    size_t n;
    long port = 80;
    int v6 = 0;

    if (!url || !out)
        return lk_error_set(err, LK_EINVAL, 0, "no WebSocket URL");
    memset(out, 0, sizeof *out);
    if (ieq_prefix(url, "wss://"))
        return lk_error_set(err, LK_EINVAL, 0,
                            "%.200s: wss:// is not supported (DevTools on this machine is ws://)",
                            url);
    if (!ieq_prefix(url, "ws://"))
        return lk_error_set(err, LK_EINVAL, 0, "%.200s: not a ws:// URL", url);
    p = url + 5;
    auth_end = p + strcspn(p, "/?#");
    if (memchr(p, '@', (size_t)(auth_end - p)))
        return lk_error_set(err, LK_EINVAL, 0, "%.200s: user info in a ws:// URL", url);

    if (*p == '[') {
        host_end = memchr(p, ']', (size_t)(auth_end - p));
        if (!host_end)
            return lk_error_set(err, LK_EINVAL, 0, "%.200s: unterminated [IPv6] host", url);
        n = (size_t)(host_end - p - 1);
        if (n >= sizeof out->host)
            return lk_error_set(err, LK_EINVAL, 0, "%.200s: host too long", url);
        memcpy(out->host, p + 1, n);
        host_end++;
        v6 = 1;
    } else {
        host_end = p;
        while (host_end < auth_end && *host_end != ':')
            host_end++;
        n = (size_t)(host_end - p);
        if (n == 0 || n >= sizeof out->host)
            return lk_error_set(err, LK_EINVAL, 0, "%.200s: bad host", url);
        memcpy(out->host, p, n);
    }
    if (host_end < auth_end) {
        const char *d = host_end + 1;
        if (*host_end != ':' || d == auth_end || auth_end - d > 5)
            return lk_error_set(err, LK_EINVAL, 0, "%.200s: bad port", url);
        for (port = 0; d < auth_end; d++) {
            if (*d < '0' || *d > '9')
                return lk_error_set(err, LK_EINVAL, 0, "%.200s: bad port", url);
            port = port * 10 + (*d - '0');
        }
        if (port < 1 || port > 65535)
            return lk_error_set(err, LK_EINVAL, 0, "%.200s: port out of range", url);
    }
    if (v6 ? strcmp(out->host, "::1") != 0
           : !(ieq_prefix(out->host, "localhost") && strlen(out->host) == 9) &&
                 !is_loopback_v4(out->host))
        return lk_error_set(err, LK_EINVAL, 0,
                            "%.200s: only loopback DevTools endpoints (127.0.0.1, localhost, "
                            "[::1]) are supported",
                            url);
    out->port = (int)port;
    snprintf(out->host_hdr, sizeof out->host_hdr, v6 ? "[%s]:%d" : "%s:%d", out->host, out->port);

    path = auth_end;
    if (*path == '#')
        return lk_error_set(err, LK_EINVAL, 0, "%.200s: fragment in a ws:// URL", url);
    for (p = path; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '#')
            return lk_error_set(err, LK_EINVAL, 0,
                                "%.200s: the path holds a space, a control character, "
                                "non-ASCII or a fragment",
                                url);
    n = (size_t)(p - path);
    if (n + 2 > sizeof out->path)
        return lk_error_set(err, LK_EINVAL, 0, "%.200s: path too long", url);
    if (*path != '/')
        out->path[0] = '/'; /* "" or "?query" */
    memcpy(out->path + (*path != '/'), path, n + 1);
    return LK_OK;
}
