/* What the DevTools client's files share. Never installed.
 *
 * Threads: the I/O thread owns the lws context, every wsi, the pending-call
 * tables, send queues and receive buffers ("I/O thread only" below). Other
 * threads only touch a connection under its mutex, and reach the I/O thread
 * through the loop's command queue. Lock order: conn->mu, then loop->mu.
 * No user callback ever runs with one of our locks held. */
#ifndef LK_CDP_PRIVATE_H
#define LK_CDP_PRIVATE_H

#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>

#include "cdp/netlib.h"
#include "latchkey/cdp.h"

/* libwebsockets and libcurl, through the table (after lk_cdp__net_bind). */
#define LK_LWS (lk_cdp__netlib()->lws)
#define LK_CURL (lk_cdp__netlib()->curl)

/* ---- ws:// URLs (url.c) ---------------------------------------------------- */

typedef struct lk_cdp__url {
    char host[64];     /* for connect(): "127.0.0.1", "localhost", "::1" */
    char host_hdr[80]; /* Host header: "127.0.0.1:9222", "[::1]:9222" */
    int port;
    char path[2048]; /* "/devtools/browser/<id>" */
} lk_cdp__url;

/* Accepts ws://HOST[:PORT][/PATH] on a loopback host only; LK_EINVAL otherwise
 * (wss://, userinfo, junk, a remote host). */
int lk_cdp__parse_ws_url(const char *url, lk_cdp__url *out, lk_error *err);

/* ---- calls and the pending-call table (pending.c) ------------------------- */

typedef struct lk_cdp__frame {
    struct lk_cdp__frame *next;
    size_t len;         /* payload bytes, after LWS_PRE of headroom */
    unsigned char *buf; /* LWS_PRE + len */
} lk_cdp__frame;

typedef struct lk_cdp__call {
    struct lk_cdp__call *next, *prev;
    int64_t id;
    int64_t t0_ms;       /* when the caller asked, for the round trip */
    int64_t deadline_ms; /* lk_sys_now_ms() clock */
    int timeout_ms;
    char *method;
    char *session_id; /* NULL: the browser session */
    lk_cdp_reply_fn reply;
    void *user;
    int reply_owns_result; /* the sync waiter keeps the result it is given */
    lk_cdp__frame *frame;  /* until the I/O thread queues it */
} lk_cdp__call;

typedef struct lk_cdp__pending {
    lk_cdp__call *head, *tail;
    size_t count;
} lk_cdp__pending;

void lk_cdp__frame_free(lk_cdp__frame *f);
void lk_cdp__call_free(lk_cdp__call *call);
/* Runs the reply (exactly once) and frees the call. result is a reference
 * the call takes over (NULL on error): it goes to the reply, which borrows it
 * (then it is released here) or keeps it (reply_owns_result). */
void lk_cdp__call_complete(lk_cdp__call *call, json_t *result, const lk_error *err);
void lk_cdp__pending_add(lk_cdp__pending *t, lk_cdp__call *call);
lk_cdp__call *lk_cdp__pending_take(lk_cdp__pending *t, int64_t id);
/* Fails every call with code and "<method>: <why>". */
void lk_cdp__pending_fail_all(lk_cdp__pending *t, lk_code code, const char *why);
/* Fails the calls sent in one session (NULL: the browser session). */
void lk_cdp__pending_fail_session(lk_cdp__pending *t, const char *session_id, const char *why);
/* Fails the calls whose deadline is <= now; returns the earliest deadline
 * left (INT64_MAX when none). */
int64_t lk_cdp__pending_expire(lk_cdp__pending *t, int64_t now_ms);

/* ---- flattened sessions (sessions.c) --------------------------------------- */

typedef struct lk_cdp__attach {
    struct lk_cdp__attach *next;
    char *session_id;
    char *target_id;
} lk_cdp__attach;

/* ---- the loop and its connections ------------------------------------------ */

enum { LK_CDP__CONNECTING = 0, LK_CDP__OPEN, LK_CDP__CLOSED };
enum { LK_CDP__CMD_CONNECT = 1, LK_CDP__CMD_SEND, LK_CDP__CMD_CLOSE };

typedef struct lk_cdp__cmd {
    struct lk_cdp__cmd *next;
    int kind;
    lk_cdp *conn;       /* holds a reference */
    lk_cdp__call *call; /* SEND */
} lk_cdp__cmd;

struct lk_cdp {
    lk_cdp_loop *loop; /* never dereferenced once done is set */
    atomic_int refs;   /* the user's, the I/O thread's, one per queued command */
    atomic_llong next_id;
    atomic_int open;
    atomic_int rtt_ms;
    lk_cdp_handlers h;
    lk_cdp__url url;
    char *url_text;
    /* The one close command a connection ever needs (lk_cdp_close, or an
     * abandoned connect), allocated up front so closing cannot fail. */
    lk_cdp__cmd close_cmd;

    pthread_mutex_t mu; /* guards the fields below, up to the I/O-only ones */
    pthread_cond_t cv;  /* state changes; done */
    int state;          /* LK_CDP__CONNECTING, OPEN, CLOSED */
    int was_open;       /* reached OPEN: the user holds it, handlers run */
    int abandoned;      /* connect gave up: never run a handler */
    int done;           /* on_closed has returned; the I/O thread let go */
    lk_error close_err; /* why it closed */

    /* I/O thread only. */
    struct lws *wsi;
    int finished, in_list, established;
    struct lk_cdp *prev_conn, *next_conn;
    lk_cdp__pending pending;
    lk_cdp__frame *sendq_head, *sendq_tail;
    unsigned char *rx;
    size_t rx_len, rx_cap;
    char peer_close[160]; /* close code and reason, when the peer sent one */
    lk_cdp__attach *attached;
    size_t nattached;
};

struct lk_cdp_loop {
    struct lws_context *ctx;
    struct lws_protocols protocols[2];
    pthread_t thread;

    pthread_mutex_t mu; /* guards the queue and stopping */
    lk_cdp__cmd *q_head, *q_tail;
    int stopping;

    /* I/O thread only. */
    int quit;
    lk_cdp *conns;
    lws_sorted_usec_list_t sul;
    int64_t timer_at; /* INT64_MAX: not scheduled */
};

/* loop.c */
/* Queues a command (taking a reference on conn) and wakes the I/O thread;
 * LK_EIO once the loop is stopping. Call with conn->mu held. */
int lk_cdp__loop_post(lk_cdp_loop *loop, int kind, lk_cdp *conn, lk_cdp__call *call);
/* Makes sure the deadline timer fires at or before at_ms. */
void lk_cdp__loop_schedule(lk_cdp_loop *loop, int64_t at_ms);
int lk_cdp__on_io_thread(const lk_cdp_loop *loop);

/* conn.c, I/O thread */
void lk_cdp__conn_start(lk_cdp_loop *loop, lk_cdp *c);
void lk_cdp__conn_send(lk_cdp *c, lk_cdp__call *call);
/* Closes for good: fails every pending call, runs on_closed (when the user
 * saw the connection), lets go of the I/O thread's reference. c may be freed
 * on return. */
void lk_cdp__conn_finish(lk_cdp *c, lk_code code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
int lk_cdp__conn_callback(struct lws *wsi, enum lws_callback_reasons reason, void *in, size_t len);
void lk_cdp__conn_ref(lk_cdp *c);
void lk_cdp__conn_unref(lk_cdp *c);

/* sessions.c, I/O thread: bookkeeping of flattened sessions, and failing the
 * calls of a session whose target crashed, detached or went away. */
void lk_cdp__sessions_on_event(lk_cdp *c, const lk_cdp_msg *msg);
void lk_cdp__sessions_clear(lk_cdp *c);

#endif
