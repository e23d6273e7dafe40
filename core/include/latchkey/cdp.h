/* latchkey/cdp.h - a Chrome DevTools Protocol client.
 *
 * One I/O thread (lk_cdp_loop) with one libwebsockets context serves every
 * connection. Calls may come from any other thread; events and async replies
 * are delivered on the I/O thread. Every call has a timeout, and a closed
 * socket fails every pending call at once: nothing waits on a dead browser.
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

/* Parses one complete message. Rejects (LK_EPROTO) anything that is not a
 * JSON object with an integer id or a string method. */
int lk_cdp_parse(const char *buf, size_t len, lk_cdp_msg *out, lk_error *err);

/* "PORT\n/devtools/browser/<uuid>\n" as Chromium writes DevToolsActivePort. */
int lk_cdp_parse_active_port(const char *buf, size_t len, int *port, char **ws_path,
                             lk_error *err);

/* ---- discovery ---------------------------------------------------------- */

typedef struct lk_cdp_endpoint {
    int port;
    char *ws_url;  /* ws://127.0.0.1:PORT/devtools/browser/<id> */
    char *browser; /* "Chrome/156.0..." from /json/version, NULL if not probed */
} lk_cdp_endpoint;

/* Reads PROFILE/DevToolsActivePort. LK_ENOENT when there is none. */
int lk_cdp_endpoint_from_profile(const char *profile, lk_cdp_endpoint *out, lk_error *err);
/* Asks http://127.0.0.1:PORT/json/version (libcurl) for the browser's
 * WebSocket URL; timeout_ms bounds the whole exchange. */
int lk_cdp_endpoint_probe(int port, int timeout_ms, lk_cdp_endpoint *out, lk_error *err);
void lk_cdp_endpoint_clear(lk_cdp_endpoint *ep);

/* ---- the I/O loop and connections ---------------------------------------- */

typedef struct lk_cdp_loop lk_cdp_loop;
typedef struct lk_cdp lk_cdp;

int lk_cdp_loop_start(lk_cdp_loop **out, lk_error *err);
/* Closes every connection (failing their calls) and joins the thread. */
void lk_cdp_loop_stop(lk_cdp_loop *loop);

/* Event callback, on the I/O thread. msg is valid during the call only. */
typedef void (*lk_cdp_event_fn)(void *user, const lk_cdp_msg *msg);
/* Called once, on the I/O thread, when the connection is gone for any reason. */
typedef void (*lk_cdp_closed_fn)(void *user, const lk_error *why);

typedef struct lk_cdp_handlers {
    lk_cdp_event_fn on_event;
    lk_cdp_closed_fn on_closed;
    void *user;
} lk_cdp_handlers;

/* Connects to a browser endpoint ("ws://host:port/path"), waiting up to
 * timeout_ms. No Origin header is sent. */
int lk_cdp_connect(lk_cdp_loop *loop, const char *ws_url, const lk_cdp_handlers *h,
                   int timeout_ms, lk_cdp **out, lk_error *err);

/* Sends a command and waits for its reply (never call from the I/O thread).
 * params is stolen (may be NULL). *result (may be NULL) gets a new reference.
 * Errors: LK_ETIMEDOUT, LK_EIO "connection closed", LK_EPROTO "<protocol error>". */
int lk_cdp_call(lk_cdp *c, const char *session_id, const char *method, json_t *params,
                int timeout_ms, json_t **result, lk_error *err);

typedef void (*lk_cdp_reply_fn)(void *user, json_t *result, const lk_error *err);
/* Same, without waiting: reply arrives on the I/O thread (exactly once). */
int lk_cdp_call_async(lk_cdp *c, const char *session_id, const char *method, json_t *params,
                      int timeout_ms, lk_cdp_reply_fn reply, void *user, lk_error *err);

int lk_cdp_is_open(const lk_cdp *c);
/* Round trip of the last call, ms (for health). */
int lk_cdp_last_rtt_ms(const lk_cdp *c);
/* Closes the socket; pending calls fail with "connection closed". Frees c
 * after on_closed has run. Safe from any thread but the I/O thread. */
void lk_cdp_close(lk_cdp *c);

#ifdef __cplusplus
}
#endif
#endif
