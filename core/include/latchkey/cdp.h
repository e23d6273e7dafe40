/* latchkey/cdp.h - a Chrome DevTools Protocol client.
 *
 * One I/O thread (lk_cdp_loop) with one libwebsockets context serves every
 * connection. Calls may come from any other thread; events and async replies
 * are delivered on the I/O thread. Every call has a timeout, and a closed
 * socket fails every pending call at once: nothing waits on a dead browser.
 * A crashed, detached or destroyed target fails the pending calls of its
 * sessions at once too (the event is still delivered afterwards).
 *
 * Handlers run on the I/O thread, never with a lock of ours held: they may
 * call lk_cdp_call_async and lk_cdp_close, not lk_cdp_call (LK_EINVAL: it
 * would wait on itself) nor lk_cdp_loop_stop. Keep them short: while one
 * runs, no connection makes progress (synchronous calls still return at
 * their deadline).
 */
#ifndef LATCHKEY_CDP_H
#define LATCHKEY_CDP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "latchkey/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest message accepted (a full-page screenshot fits; a hostile 50 MB frame does not). */
#define LK_CDP_MAX_MESSAGE (32u * 1024u * 1024u)
#define LK_CDP_DEFAULT_TIMEOUT_MS 10000

/* ---- parsing (pure, fuzzed) --------------------------------------------- */

typedef enum lk_cdp_msg_kind { LK_CDP_REPLY = 1, LK_CDP_EVENT = 2 } lk_cdp_msg_kind;

typedef struct lk_cdp_msg {
    lk_cdp_msg_kind kind;
    int64_t id;             /* replies */
    json_t *result;         /* replies: borrowed from root; NULL on error */
    char error[256];        /* replies: the protocol error message, "" when none */
    const char *method;     /* events: borrowed from root */
    json_t *params;         /* events: borrowed from root */
    const char *session_id; /* borrowed; NULL for the browser session */
    json_t *root;           /* owns everything above; json_decref when done */
} lk_cdp_msg;

/* Parses one complete message. Rejects (LK_EPROTO, out zeroed) anything that
 * is not a JSON object with an integer id (and a result object or an error
 * object) or a non-empty string method (params, when present, an object);
 * duplicate keys; both id and method. Escaped lone surrogates, which
 * Chromium emits for broken JS strings, become U+FFFD; a message holding an
 * integer beyond int64 is read with every number as a real. sessionId ""
 * reads as NULL. */
int lk_cdp_parse(const char *buf, size_t len, lk_cdp_msg *out, lk_error *err);

/* "PORT\n/devtools/browser/<uuid>\n" as Chromium writes DevToolsActivePort:
 * a port 1..65535, a printable /devtools/ path, one optional trailing newline
 * (LF or CRLF), nothing else. *ws_path is malloc'd; outputs untouched on error. */
int lk_cdp_parse_active_port(const char *buf, size_t len, int *port, char **ws_path, lk_error *err);

/* ---- discovery ---------------------------------------------------------- */

typedef struct lk_cdp_endpoint {
    int port;
    char *ws_url;  /* ws://127.0.0.1:PORT/devtools/browser/<id> */
    char *browser; /* "Chrome/156.0..." from /json/version, NULL if not probed */
} lk_cdp_endpoint;

/* For both: out is written, never read (it may be uninitialised): the
 * endpoint on success, zeroes on failure, so lk_cdp_endpoint_clear is always
 * safe. Clear a previous result before reusing the struct. */
/* Reads PROFILE/DevToolsActivePort. LK_ENOENT when there is none. The file
 * outlives a killed browser: probe before trusting it. */
int lk_cdp_endpoint_from_profile(const char *profile, lk_cdp_endpoint *out, lk_error *err);
/* Asks http://127.0.0.1:PORT/json/version (libcurl, no proxy, 64 KiB cap)
 * for the browser's WebSocket URL (loopback ws:// only) and name;
 * timeout_ms bounds the whole exchange (0: the default). */
int lk_cdp_endpoint_probe(int port, int timeout_ms, lk_cdp_endpoint *out, lk_error *err);
void lk_cdp_endpoint_clear(lk_cdp_endpoint *ep);

/* ---- the I/O loop and connections ---------------------------------------- */

typedef struct lk_cdp_loop lk_cdp_loop;
typedef struct lk_cdp lk_cdp;

int lk_cdp_loop_start(lk_cdp_loop **out, lk_error *err);
/* Closes every connection (failing their calls, running their on_closed)
 * and joins the thread. Not from the I/O thread. The lk_cdp handles stay
 * valid (closed) until lk_cdp_close. */
void lk_cdp_loop_stop(lk_cdp_loop *loop);

/* Event callback, on the I/O thread. msg is valid during the call only. */
typedef void (*lk_cdp_event_fn)(void *user, const lk_cdp_msg *msg);
/* Called once, on the I/O thread, when the connection is gone for any reason:
 * why->code is LK_OK after lk_cdp_close, LK_EIO when the socket closed (or
 * the loop stopped), LK_EPROTO when the peer broke the protocol (a message
 * over LK_CDP_MAX_MESSAGE, malformed JSON, a binary frame), LK_ENOMEM. */
typedef void (*lk_cdp_closed_fn)(void *user, const lk_error *why);

typedef struct lk_cdp_handlers {
    lk_cdp_event_fn on_event;
    lk_cdp_closed_fn on_closed;
    void *user;
} lk_cdp_handlers;

/* Connects to a browser endpoint ("ws://host:port/path", loopback hosts
 * only: 127.x.x.x, localhost, [::1]; anything else, wss:// included, is
 * LK_EINVAL), waiting up to timeout_ms (0: the default). No Origin header is
 * sent. On failure no handler ever runs; on success on_closed runs exactly
 * once (see lk_cdp_close). */
int lk_cdp_connect(lk_cdp_loop *loop, const char *ws_url, const lk_cdp_handlers *h, int timeout_ms,
                   lk_cdp **out, lk_error *err);

/* Sends a command and waits for its reply, never longer than timeout_ms (0:
 * the default), even if the I/O thread is stuck. Not from the I/O thread.
 * session_id NULL (or "") is the browser session. params is stolen (may be
 * NULL; must be an object). *result (may be NULL) gets the only reference.
 * Errors: LK_ETIMEDOUT "<method>: no reply within N ms";
 * LK_EIO "<method>: connection closed: <why>";
 * LK_EIO "<method>: target crashed (...)" / "target detached (...)";
 * LK_EPROTO "Protocol error (<method>): <the browser's message>";
 * LK_EINVAL for bad arguments. */
int lk_cdp_call(lk_cdp *c, const char *session_id, const char *method, json_t *params,
                int timeout_ms, json_t **result, lk_error *err);

/* result is borrowed (json_incref to keep it); NULL when err is set. */
typedef void (*lk_cdp_reply_fn)(void *user, json_t *result, const lk_error *err);
/* Same, without waiting. On LK_OK the reply (may be NULL) runs exactly once,
 * on the I/O thread, with the errors above; on an error return it never
 * runs. Allowed from the I/O thread. */
int lk_cdp_call_async(lk_cdp *c, const char *session_id, const char *method, json_t *params,
                      int timeout_ms, lk_cdp_reply_fn reply, void *user, lk_error *err);

int lk_cdp_is_open(const lk_cdp *c);
/* Round trip of the last answered call, ms (for health); -1 before any. */
int lk_cdp_last_rtt_ms(const lk_cdp *c);
/* Closes the socket; pending calls fail with "connection closed". Call it
 * once per connection, also after the peer closed or the loop stopped; c is
 * invalid afterwards; NULL is fine. From any other thread it returns after
 * on_closed has run (so handler data can be freed then); from the I/O thread
 * (a handler) it cannot wait: the close and on_closed follow later, and c
 * is freed after on_closed. */
void lk_cdp_close(lk_cdp *c);

#ifdef __cplusplus
}
#endif
#endif
