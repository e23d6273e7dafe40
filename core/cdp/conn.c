/* One DevTools connection, on the I/O thread: connect, send, reassemble,
 * dispatch, and close for good.
 *
 * A connection ends exactly once (lk_cdp__conn_finish), whatever ends it: the
 * socket closing, a connect error, a hostile or malformed message, the user,
 * the loop stopping. Ending fails every pending call at once, detaches the
 * wsi (lws may still be closing it; its callbacks then find no connection)
 * and runs on_closed. */
#include "cdp/cdp_private.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latchkey/sys.h"

/* After a large message (a screenshot), do not keep its buffer around: ten
 * idle sessions must not each sit on tens of megabytes. */
#define LK_CDP_RX_KEEP (1u << 20)
#define LK_CDP_RX_FIRST (64u << 10)

void lk_cdp__conn_ref(lk_cdp *c)
{
    atomic_fetch_add(&c->refs, 1);
}

static void conn_free(lk_cdp *c)
{
    lk_cdp__frame *f;
    /* Normally empty (finish emptied them); this may run on any thread, so
     * free without running replies. */
    while (c->pending.head)
        lk_cdp__call_free(lk_cdp__pending_take(&c->pending, c->pending.head->id));
    while ((f = c->sendq_head)) {
        c->sendq_head = f->next;
        lk_cdp__frame_free(f);
    }
    lk_cdp__sessions_clear(c);
    free(c->rx);
    free(c->url_text);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

void lk_cdp__conn_unref(lk_cdp *c)
{
    if (c && atomic_fetch_sub(&c->refs, 1) == 1)
        conn_free(c);
}

static void list_remove(lk_cdp *c)
{
    if (!c->in_list)
        return;
    if (c->prev_conn)
        c->prev_conn->next_conn = c->next_conn;
    else
        c->loop->conns = c->next_conn;
    if (c->next_conn)
        c->next_conn->prev_conn = c->prev_conn;
    c->prev_conn = c->next_conn = NULL;
    c->in_list = 0;
}

void lk_cdp__conn_finish(lk_cdp *c, lk_code code, const char *fmt, ...)
{
    lk_error why;
    lk_cdp__frame *f;
    char callmsg[sizeof why.msg + 32];
    int visible;
    va_list ap;

    if (c->finished)
        return;
    c->finished = 1;
    why.code = code;
    why.sys = 0;
    va_start(ap, fmt);
    vsnprintf(why.msg, sizeof why.msg, fmt, ap);
    va_end(ap);

    if (c->wsi) {
        /* Detach first: lws may run more callbacks while it closes. */
        LK_LWS.set_opaque_user_data(c->wsi, NULL);
        LK_LWS.set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        c->wsi = NULL;
    }
    pthread_mutex_lock(&c->mu);
    visible = c->state == LK_CDP__OPEN;
    c->state = LK_CDP__CLOSED;
    c->close_err = why;
    atomic_store(&c->open, 0);
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);

    snprintf(callmsg, sizeof callmsg, "connection closed: %s", why.msg);
    lk_cdp__pending_fail_all(&c->pending, LK_EIO, callmsg);
    while ((f = c->sendq_head)) {
        c->sendq_head = f->next;
        lk_cdp__frame_free(f);
    }
    c->sendq_tail = NULL;
    free(c->rx);
    c->rx = NULL;
    c->rx_len = c->rx_cap = 0;
    lk_cdp__sessions_clear(c);
    list_remove(c);

    if (visible && c->h.on_closed)
        c->h.on_closed(c->h.user, &why);

    pthread_mutex_lock(&c->mu);
    c->done = 1;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    lk_cdp__conn_unref(c); /* the I/O thread's reference */
}

void lk_cdp__conn_start(lk_cdp_loop *loop, lk_cdp *c)
{
    struct lws_client_connect_info info;
    struct lws *wsi;
    int abandoned;

    /* The command's reference becomes the I/O thread's, dropped by finish. */
    lk_cdp__conn_ref(c);
    c->next_conn = loop->conns;
    if (loop->conns)
        loop->conns->prev_conn = c;
    loop->conns = c;
    c->in_list = 1;

    pthread_mutex_lock(&c->mu);
    abandoned = c->abandoned;
    pthread_mutex_unlock(&c->mu);
    if (abandoned) {
        lk_cdp__conn_finish(c, LK_ETIMEDOUT, "connect abandoned");
        return;
    }
    if (loop->quit) { /* queued just before the loop stopped: open nothing */
        lk_cdp__conn_finish(c, LK_EIO, "the CDP loop stopped");
        return;
    }

    memset(&info, 0, sizeof info);
    info.context = loop->ctx;
    info.address = c->url.host;
    info.port = c->url.port;
    info.path = c->url.path;
    info.host = c->url.host_hdr;
    info.origin = NULL;   /* Chromium refuses Origin it was not told to allow */
    info.protocol = NULL; /* DevTools speaks no subprotocol */
    info.local_protocol_name = loop->protocols[0].name;
    info.ietf_version_or_minus_one = -1;
    info.opaque_user_data = c;
    wsi = LK_LWS.client_connect_via_info(&info);
    if (c->finished)
        return;
    if (!wsi) {
        lk_cdp__conn_finish(c, LK_EIO, "cannot connect to %s", c->url_text);
        return;
    }
    c->wsi = wsi;
}

void lk_cdp__conn_send(lk_cdp *c, lk_cdp__call *call)
{
    lk_error e;
    if (c->finished) {
        lk_error_set(&e, LK_EIO, 0, "%s: connection closed: %s", call->method, c->close_err.msg);
        lk_cdp__call_complete(call, NULL, &e);
        return;
    }
    if (c->sendq_tail)
        c->sendq_tail->next = call->frame;
    else
        c->sendq_head = call->frame;
    c->sendq_tail = call->frame;
    call->frame = NULL;
    lk_cdp__pending_add(&c->pending, call);
    lk_cdp__loop_schedule(c->loop, call->deadline_ms);
    if (c->wsi && c->established)
        LK_LWS.callback_on_writable(c->wsi);
}

/* ---- lws events ------------------------------------------------------------ */

static void on_established(lk_cdp *c)
{
    int abandoned;
    pthread_mutex_lock(&c->mu);
    abandoned = c->abandoned;
    if (!abandoned) {
        c->state = LK_CDP__OPEN;
        c->was_open = 1;
        atomic_store(&c->open, 1);
        pthread_cond_broadcast(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
    if (abandoned) {
        lk_cdp__conn_finish(c, LK_ETIMEDOUT, "connect abandoned");
        return;
    }
    c->established = 1;
    if (c->sendq_head)
        LK_LWS.callback_on_writable(c->wsi);
}

/* One complete message. Returns -1 when it ended the connection. */
static int dispatch(lk_cdp *c)
{
    lk_cdp_msg msg;
    lk_error perr, e;
    lk_cdp__call *call;

    if (lk_cdp_parse((const char *)c->rx, c->rx_len, &msg, &perr) != LK_OK) {
        /* Fail closed: a DevTools peer that sends something we cannot read
         * is broken or hostile, and a lost reply would otherwise leave its
         * call hanging until the deadline. Better every caller learns now. */
        lk_cdp__conn_finish(c, perr.code, "%s", perr.msg);
        return -1;
    }
    if (msg.kind == LK_CDP_REPLY) {
        /* No match: the call already timed out or its target died. */
        call = lk_cdp__pending_take(&c->pending, msg.id);
        if (call) {
            int64_t rtt = lk_sys_now_ms() - call->t0_ms;
            atomic_store(&c->rtt_ms, rtt > INT32_MAX ? INT32_MAX : (int)rtt);
            if (msg.result) {
                /* Cut the result out of the message, so that whoever gets it
                 * (maybe another thread) holds the only reference. */
                json_t *result = json_incref(msg.result);
                json_object_del(msg.root, "result");
                lk_cdp__call_complete(call, result, NULL);
            } else {
                lk_error_set(&e, LK_EPROTO, 0, "Protocol error (%s): %s", call->method, msg.error);
                lk_cdp__call_complete(call, NULL, &e);
            }
        }
    } else {
        lk_cdp__sessions_on_event(c, &msg);
        if (c->h.on_event)
            c->h.on_event(c->h.user, &msg);
    }
    json_decref(msg.root);
    return 0;
}

static int on_receive(lk_cdp *c, struct lws *wsi, const void *in, size_t len)
{
    size_t remaining = LK_LWS.remaining_packet_payload(wsi);
    const size_t max = LK_CDP_MAX_MESSAGE;
    int rc;

    if (LK_LWS.frame_is_binary(wsi)) {
        lk_cdp__conn_finish(c, LK_EPROTO, "bad DevTools message: a binary frame");
        return -1;
    }
    /* Refuse as soon as the frame header says it will not fit, before
     * buffering any of it; fragments are counted as they add up. */
    if (len > max - c->rx_len || remaining > max - c->rx_len - len) {
        lk_cdp__conn_finish(c, LK_EPROTO, "message too large (over %u MiB)", (unsigned)(max >> 20));
        return -1;
    }
    if (c->rx_len + len > c->rx_cap) {
        size_t cap = c->rx_cap ? c->rx_cap : LK_CDP_RX_FIRST;
        unsigned char *p;
        while (cap < c->rx_len + len)
            cap = cap > max / 2 ? max : cap * 2;
        p = realloc(c->rx, cap);
        if (!p) {
            lk_cdp__conn_finish(c, LK_ENOMEM, "out of memory receiving a message");
            return -1;
        }
        c->rx = p;
        c->rx_cap = cap;
    }
    if (len)
        memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += len;
    if (!LK_LWS.is_final_fragment(wsi))
        return 0;

    rc = dispatch(c);
    if (rc)
        return rc; /* c may be gone */
    c->rx_len = 0;
    if (c->rx_cap > LK_CDP_RX_KEEP) {
        free(c->rx);
        c->rx = NULL;
        c->rx_cap = 0;
    }
    return 0;
}

static int on_writable(lk_cdp *c, struct lws *wsi)
{
    lk_cdp__frame *f = c->sendq_head;
    int n;
    if (!f)
        return 0;
    /* lws keeps what the socket did not take and holds back the next
     * WRITEABLE until it is flushed, so one frame per callback is enough. */
    n = LK_LWS.write(wsi, f->buf + LWS_PRE, f->len, LWS_WRITE_TEXT);
    if (n < 0 || (size_t)n < f->len) {
        lk_cdp__conn_finish(c, LK_EIO, "writing to the browser failed");
        return -1;
    }
    c->sendq_head = f->next;
    if (!c->sendq_head)
        c->sendq_tail = NULL;
    lk_cdp__frame_free(f);
    if (c->sendq_head)
        LK_LWS.callback_on_writable(wsi);
    return 0;
}

static void note_peer_close(lk_cdp *c, const unsigned char *in, size_t len)
{
    unsigned code;
    size_t i, n = 0;
    char reason[100];
    if (!in || len < 2) {
        snprintf(c->peer_close, sizeof c->peer_close, "the browser closed the WebSocket");
        return;
    }
    code = (unsigned)in[0] << 8 | in[1];
    for (i = 2; i < len && n + 1 < sizeof reason; i++)
        reason[n++] = (in[i] >= 0x20 && in[i] < 0x7f) ? (char)in[i] : '?';
    reason[n] = '\0';
    snprintf(c->peer_close, sizeof c->peer_close, "the browser closed the WebSocket (code %u%s%s)",
             code, n ? ": " : "", reason);
}

int lk_cdp__conn_callback(struct lws *wsi, enum lws_callback_reasons reason, void *in, size_t len)
{
    lk_cdp *c = LK_LWS.get_opaque_user_data(wsi);

    if (!c || c->wsi != wsi) {
        /* A wsi we let go of (or one lws is still failing inside
         * lws_client_connect_via_info): help it close, touch nothing. */
        return (reason == LWS_CALLBACK_CLIENT_RECEIVE || reason == LWS_CALLBACK_CLIENT_WRITEABLE)
                   ? -1
                   : 0;
    }
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED: on_established(c); return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE: return on_receive(c, wsi, in, len);
    case LWS_CALLBACK_CLIENT_WRITEABLE: return on_writable(c, wsi);
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE: note_peer_close(c, in, len); return 0;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        LK_LWS.set_opaque_user_data(wsi, NULL);
        c->wsi = NULL;
        if (in && len)
            lk_cdp__conn_finish(c, LK_EIO, "cannot connect to %s: %.*s", c->url_text,
                                (int)(len > 200 ? 200 : len), (const char *)in);
        else
            lk_cdp__conn_finish(c, LK_EIO, "cannot connect to %s", c->url_text);
        return 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
    case LWS_CALLBACK_WSI_DESTROY:
        LK_LWS.set_opaque_user_data(wsi, NULL);
        c->wsi = NULL;
        lk_cdp__conn_finish(c, LK_EIO, "%s",
                            c->peer_close[0] ? c->peer_close : "socket closed by the browser");
        return 0;
    default: return 0;
    }
}
