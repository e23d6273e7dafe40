/* The caller's side of a connection: connect, call, close, from any thread.
 *
 * A caller never waits on the I/O thread without a deadline of its own: a
 * synchronous call waits on a condition variable until its timeout, so it
 * returns on time even if the I/O thread is stuck in someone's callback.
 * What it leaves behind (the waiter) is reference-counted, and the I/O
 * thread's late reply then finds nobody listening and frees it. */
#include "cdp/cdp_private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "latchkey/sys.h"

/* Deadlines are lk_sys_now_ms() values (CLOCK_MONOTONIC): a wall-clock
 * change must not stretch or cut a timeout. Where condition variables cannot
 * wait on that clock (winpthreads refuses pthread_condattr_setclock and waits
 * on the wall clock), each wait converts what is left to a wall-clock time,
 * and only the monotonic clock says when the deadline has passed. */
static pthread_once_t lk_cdp_clock_once = PTHREAD_ONCE_INIT;
static int lk_cdp_cond_monotonic; /* written once, by probe_clock */

static void probe_clock(void)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    lk_cdp_cond_monotonic = pthread_condattr_setclock(&a, CLOCK_MONOTONIC) == 0;
    pthread_condattr_destroy(&a);
}

static void cond_init_monotonic(pthread_cond_t *cv)
{
    pthread_condattr_t a;
    pthread_once(&lk_cdp_clock_once, probe_clock);
    pthread_condattr_init(&a);
    if (lk_cdp_cond_monotonic)
        pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &a);
    pthread_condattr_destroy(&a);
}

static int wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t deadline_ms)
{
    struct timespec ts;
    int64_t at = deadline_ms, now;
    int rc;
    if (!lk_cdp_cond_monotonic) {
        now = lk_sys_now_ms();
        at = lk_sys_wall_ms() + (deadline_ms > now ? deadline_ms - now : 0);
    }
    if (at < 0)
        at = 0;
    ts.tv_sec = (time_t)(at / 1000);
    ts.tv_nsec = (long)(at % 1000) * 1000000L;
    rc = pthread_cond_timedwait(cv, mu, &ts);
    if (rc == ETIMEDOUT && !lk_cdp_cond_monotonic && lk_sys_now_ms() < deadline_ms)
        rc = 0; /* woken early by the wall clock: the callers wait again */
    return rc;
}

static int effective_timeout(int timeout_ms)
{
    return timeout_ms > 0 ? timeout_ms : LK_CDP_DEFAULT_TIMEOUT_MS;
}

/* ---- connect ------------------------------------------------------------------ */

int lk_cdp_connect(lk_cdp_loop *loop, const char *ws_url, const lk_cdp_handlers *h, int timeout_ms,
                   lk_cdp **out, lk_error *err)
{
    lk_cdp__url url;
    lk_cdp *c;
    int64_t deadline;
    int rc;

    if (out)
        *out = NULL;
    if (!loop || !out)
        return lk_error_set(err, LK_EINVAL, 0, "lk_cdp_connect: no loop or no output");
    rc = lk_cdp__parse_ws_url(ws_url, &url, err);
    if (rc != LK_OK)
        return rc;
    if (lk_cdp__on_io_thread(loop))
        return lk_error_set(err, LK_EINVAL, 0,
                            "lk_cdp_connect on the CDP I/O thread would wait on itself");
    timeout_ms = effective_timeout(timeout_ms);

    c = calloc(1, sizeof *c);
    if (!c || !(c->url_text = strdup(ws_url))) {
        free(c);
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    }
    atomic_init(&c->refs, 1); /* the user's */
    atomic_init(&c->next_id, 1);
    atomic_init(&c->open, 0);
    atomic_init(&c->rtt_ms, -1);
    pthread_mutex_init(&c->mu, NULL);
    cond_init_monotonic(&c->cv);
    c->loop = loop;
    c->url = url;
    if (h)
        c->h = *h;
    c->state = LK_CDP__CONNECTING;

    deadline = lk_sys_now_ms() + timeout_ms;
    pthread_mutex_lock(&c->mu);
    rc = lk_cdp__loop_post(loop, LK_CDP__CMD_CONNECT, c, NULL);
    if (rc != LK_OK) {
        pthread_mutex_unlock(&c->mu);
        lk_cdp__conn_unref(c);
        return lk_error_set(err, (lk_code)rc, 0, "cannot connect to %s: the CDP loop %s", ws_url,
                            rc == LK_ENOMEM ? "is out of memory" : "is stopping");
    }
    while (c->state == LK_CDP__CONNECTING)
        if (wait_until(&c->cv, &c->mu, deadline) == ETIMEDOUT)
            break;
    if (c->was_open) {
        /* Open, or already closed again: either way the user now owns it,
         * and on_closed will run (or has run). */
        pthread_mutex_unlock(&c->mu);
        *out = c;
        return LK_OK;
    }
    if (c->state == LK_CDP__CONNECTING) {
        /* From here the I/O thread will never run a handler for it. If the
         * loop is stopping the post fails, and the stop ends it anyway. */
        c->abandoned = 1;
        lk_cdp__loop_post(loop, LK_CDP__CMD_CLOSE, c, NULL);
        rc = lk_error_set(err, LK_ETIMEDOUT, 0, "no DevTools connection to %s within %d ms", ws_url,
                          timeout_ms);
    } else {
        rc = lk_error_set(err, c->close_err.code != LK_OK ? c->close_err.code : LK_EIO, 0, "%s",
                          c->close_err.msg);
    }
    pthread_mutex_unlock(&c->mu);
    lk_cdp__conn_unref(c);
    return rc;
}

/* ---- messages ------------------------------------------------------------------- */

typedef struct outbuf {
    unsigned char *buf; /* LWS_PRE of headroom, then the text */
    size_t len, cap;
} outbuf;

static int out_append(const char *s, size_t n, void *data)
{
    outbuf *o = data;
    if (n > LK_CDP_MAX_MESSAGE - o->len)
        return -1;
    if (LWS_PRE + o->len + n > o->cap) {
        size_t cap = o->cap ? o->cap * 2 : LWS_PRE + 256;
        unsigned char *p;
        while (cap < LWS_PRE + o->len + n)
            cap *= 2;
        p = realloc(o->buf, cap);
        if (!p)
            return -1;
        o->buf = p;
        o->cap = cap;
    }
    memcpy(o->buf + LWS_PRE + o->len, s, n);
    o->len += n;
    return 0;
}

/* {"id":..,"method":..,"params":..,"sessionId":..} as one text frame. Takes
 * params over, whatever happens. */
static int build_frame(int64_t id, const char *session_id, const char *method, json_t *params,
                       lk_cdp__frame **out, lk_error *err)
{
    json_t *msg = json_object(), *jmethod = json_string(method);
    json_t *jsid = session_id ? json_string(session_id) : NULL;
    outbuf o = {NULL, 0, 0};
    int rc;

    *out = NULL;
    if (!params)
        params = json_object();
    if (!msg || !jmethod || !params || (session_id && !jsid)) {
        rc = lk_error_set(err, LK_EINVAL, 0,
                          "%.100s: method and session id must be UTF-8 (or out of memory)", method);
        goto done;
    }
    if (json_object_set_new(msg, "id", json_integer((json_int_t)id)) ||
        json_object_set(msg, "method", jmethod) || json_object_set(msg, "params", params) ||
        (jsid && json_object_set(msg, "sessionId", jsid))) {
        rc = lk_error_set(err, LK_ENOMEM, 0, "out of memory");
        goto done;
    }
    if (json_dump_callback(msg, out_append, &o, JSON_COMPACT) != 0) {
        rc = lk_error_set(err, LK_EINVAL, 0,
                          "%.100s: cannot encode the command (over %u MiB, or out of memory)",
                          method, LK_CDP_MAX_MESSAGE >> 20);
        goto done;
    }
    *out = malloc(sizeof **out);
    if (!*out) {
        rc = lk_error_set(err, LK_ENOMEM, 0, "out of memory");
        goto done;
    }
    (*out)->next = NULL;
    (*out)->buf = o.buf;
    (*out)->len = o.len;
    o.buf = NULL;
    rc = LK_OK;
done:
    free(o.buf);
    json_decref(msg);
    json_decref(jmethod);
    json_decref(jsid);
    json_decref(params);
    return rc;
}

static int submit(lk_cdp *c, const char *session_id, const char *method, json_t *params,
                  int timeout_ms, lk_cdp_reply_fn reply, void *user, int reply_owns_result,
                  lk_error *err)
{
    lk_cdp__call *call;
    int rc;

    if (!c || !method || !*method) {
        json_decref(params);
        return lk_error_set(err, LK_EINVAL, 0, "lk_cdp_call: no connection or no method");
    }
    if (params && !json_is_object(params)) {
        json_decref(params);
        return lk_error_set(err, LK_EINVAL, 0, "%.100s: params must be a JSON object", method);
    }
    if (session_id && !*session_id)
        session_id = NULL;
    call = calloc(1, sizeof *call);
    if (!call || !(call->method = strdup(method)) ||
        (session_id && !(call->session_id = strdup(session_id)))) {
        lk_cdp__call_free(call);
        json_decref(params);
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    }
    call->id = atomic_fetch_add(&c->next_id, 1);
    call->timeout_ms = effective_timeout(timeout_ms);
    call->t0_ms = lk_sys_now_ms();
    call->deadline_ms = call->t0_ms + call->timeout_ms;
    call->reply = reply;
    call->user = user;
    call->reply_owns_result = reply_owns_result;
    /* Encoded here, on the caller's thread, to keep the I/O thread light. */
    rc = build_frame(call->id, session_id, method, params, &call->frame, err);
    if (rc != LK_OK) {
        lk_cdp__call_free(call);
        return rc;
    }

    pthread_mutex_lock(&c->mu);
    if (c->state != LK_CDP__OPEN) {
        rc =
            lk_error_set(err, LK_EIO, 0, "%.100s: connection closed: %s", method, c->close_err.msg);
    } else {
        rc = lk_cdp__loop_post(c->loop, LK_CDP__CMD_SEND, c, call);
        if (rc != LK_OK)
            rc = lk_error_set(err, (lk_code)rc, 0, "%.100s: connection closed: %s", method,
                              rc == LK_ENOMEM ? "out of memory" : "the CDP loop is stopping");
    }
    pthread_mutex_unlock(&c->mu);
    if (rc != LK_OK)
        lk_cdp__call_free(call);
    return rc;
}

int lk_cdp_call_async(lk_cdp *c, const char *session_id, const char *method, json_t *params,
                      int timeout_ms, lk_cdp_reply_fn reply, void *user, lk_error *err)
{
    return submit(c, session_id, method, params, timeout_ms, reply, user, 0, err);
}

/* ---- synchronous calls ------------------------------------------------------------ */

typedef struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_int refs; /* the caller's and the reply's */
    int done;
    json_t *result;
    lk_error err;
} waiter;

static void waiter_unref(waiter *w)
{
    if (atomic_fetch_sub(&w->refs, 1) == 1) {
        json_decref(w->result);
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        free(w);
    }
}

/* On the I/O thread. Keeps result (reply_owns_result): the I/O thread holds no
 * other reference, so the caller's thread gets it outright. */
static void waiter_reply(void *user, json_t *result, const lk_error *e)
{
    waiter *w = user;
    pthread_mutex_lock(&w->mu);
    if (e)
        w->err = *e;
    else
        lk_error_clear(&w->err);
    w->result = result;
    w->done = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    waiter_unref(w);
}

int lk_cdp_call(lk_cdp *c, const char *session_id, const char *method, json_t *params,
                int timeout_ms, json_t **result, lk_error *err)
{
    waiter *w;
    int64_t deadline;
    int rc, on_io = 0;

    if (result)
        *result = NULL;
    if (c) {
        /* While it is open the loop exists, so its thread id can be read. */
        pthread_mutex_lock(&c->mu);
        on_io = c->state == LK_CDP__OPEN && lk_cdp__on_io_thread(c->loop);
        pthread_mutex_unlock(&c->mu);
    }
    if (on_io) {
        json_decref(params);
        return lk_error_set(err, LK_EINVAL, 0,
                            "%.100s: lk_cdp_call on the CDP I/O thread would wait on itself; "
                            "use lk_cdp_call_async",
                            method ? method : "?");
    }
    w = calloc(1, sizeof *w);
    if (!w) {
        json_decref(params);
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    }
    pthread_mutex_init(&w->mu, NULL);
    cond_init_monotonic(&w->cv);
    atomic_init(&w->refs, 2);
    timeout_ms = effective_timeout(timeout_ms);
    deadline = lk_sys_now_ms() + timeout_ms;
    rc = submit(c, session_id, method, params, timeout_ms, waiter_reply, w, 1, err);
    if (rc != LK_OK) {
        atomic_store(&w->refs, 1);
        waiter_unref(w);
        return rc;
    }
    pthread_mutex_lock(&w->mu);
    while (!w->done)
        if (wait_until(&w->cv, &w->mu, deadline) == ETIMEDOUT)
            break;
    if (w->done) {
        rc = (int)w->err.code;
        if (rc != LK_OK && err)
            *err = w->err;
        if (rc == LK_OK && result) {
            *result = w->result;
            w->result = NULL;
        }
    } else {
        /* The I/O thread is late (or stuck): answer on time anyway; the
         * late reply will find only its own reference left. */
        rc =
            lk_error_set(err, LK_ETIMEDOUT, 0, "%.100s: no reply within %d ms", method, timeout_ms);
    }
    pthread_mutex_unlock(&w->mu);
    waiter_unref(w);
    return rc;
}

/* ---- state and close ---------------------------------------------------------------- */

int lk_cdp_is_open(const lk_cdp *c)
{
    return c ? atomic_load(&c->open) : 0;
}

int lk_cdp_last_rtt_ms(const lk_cdp *c)
{
    return c ? atomic_load(&c->rtt_ms) : -1;
}

void lk_cdp_close(lk_cdp *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    if (!c->done) {
        /* Not done: the loop is alive (stopping ends every connection first). */
        int on_io = lk_cdp__on_io_thread(c->loop);
        /* If the loop is stopping the post fails, and the stop ends it. */
        lk_cdp__loop_post(c->loop, LK_CDP__CMD_CLOSE, c, NULL);
        /* On the I/O thread (from a handler) waiting would deadlock: the
         * queued close ends it later, and its reference keeps c alive. */
        while (!on_io && !c->done)
            pthread_cond_wait(&c->cv, &c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    lk_cdp__conn_unref(c);
}
