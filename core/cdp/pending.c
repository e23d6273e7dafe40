/* The id -> pending-call table of one connection. I/O thread only.
 *
 * A plain list: a connection has a handful of calls in flight, replies come
 * back mostly in order (found at the head), and failing "every call of this
 * session" or "every call past its deadline" is a walk either way. Failing
 * always unlinks first and runs replies after, so a reply that queues a new
 * call never sees a half-walked list. */
#include "cdp/cdp_private.h"

#include <stdlib.h>
#include <string.h>

enum match { MATCH_ALL, MATCH_SESSION, MATCH_EXPIRED };

void lk_cdp__frame_free(lk_cdp__frame *f)
{
    if (f) {
        free(f->buf);
        free(f);
    }
}

void lk_cdp__call_free(lk_cdp__call *call)
{
    if (!call)
        return;
    lk_cdp__frame_free(call->frame);
    free(call->method);
    free(call->session_id);
    free(call);
}

void lk_cdp__call_complete(lk_cdp__call *call, json_t *result, const lk_error *err)
{
    if (err) {
        json_decref(result);
        result = NULL;
    }
    if (call->reply)
        call->reply(call->user, result, err);
    if (!call->reply || !call->reply_owns_result)
        json_decref(result);
    lk_cdp__call_free(call);
}

void lk_cdp__pending_add(lk_cdp__pending *t, lk_cdp__call *call)
{
    call->next = NULL;
    call->prev = t->tail;
    if (t->tail)
        t->tail->next = call;
    else
        t->head = call;
    t->tail = call;
    t->count++;
}

static void unlink_call(lk_cdp__pending *t, lk_cdp__call *call)
{
    if (call->prev)
        call->prev->next = call->next;
    else
        t->head = call->next;
    if (call->next)
        call->next->prev = call->prev;
    else
        t->tail = call->prev;
    call->next = call->prev = NULL;
    t->count--;
}

lk_cdp__call *lk_cdp__pending_take(lk_cdp__pending *t, int64_t id)
{
    lk_cdp__call *call;
    for (call = t->head; call; call = call->next) {
        if (call->id == id) {
            unlink_call(t, call);
            return call;
        }
    }
    return NULL;
}

static int same_session(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

/* Moves the calls that match into a private list, then completes them. */
static void fail_matching(lk_cdp__pending *t, enum match m, const char *session_id, int64_t now_ms,
                          lk_code code, const char *why)
{
    lk_cdp__call *call = t->head, *next, *doomed = NULL, **tail = &doomed;
    lk_error e;
    while (call) {
        next = call->next;
        if (m == MATCH_ALL || (m == MATCH_SESSION && same_session(call->session_id, session_id)) ||
            (m == MATCH_EXPIRED && call->deadline_ms <= now_ms)) {
            unlink_call(t, call);
            *tail = call;
            tail = &call->next;
        }
        call = next;
    }
    while (doomed) {
        call = doomed;
        doomed = call->next;
        call->next = NULL;
        if (why)
            lk_error_set(&e, code, 0, "%s: %s", call->method, why);
        else
            lk_error_set(&e, LK_ETIMEDOUT, 0, "%s: no reply within %d ms", call->method,
                         call->timeout_ms);
        lk_cdp__call_complete(call, NULL, &e);
    }
}

void lk_cdp__pending_fail_all(lk_cdp__pending *t, lk_code code, const char *why)
{
    fail_matching(t, MATCH_ALL, NULL, 0, code, why);
}

void lk_cdp__pending_fail_session(lk_cdp__pending *t, const char *session_id, const char *why)
{
    fail_matching(t, MATCH_SESSION, session_id, 0, LK_EIO, why);
}

int64_t lk_cdp__pending_expire(lk_cdp__pending *t, int64_t now_ms)
{
    lk_cdp__call *call;
    int64_t next = INT64_MAX;
    fail_matching(t, MATCH_EXPIRED, NULL, now_ms, LK_ETIMEDOUT, NULL);
    for (call = t->head; call; call = call->next)
        if (call->deadline_ms < next)
            next = call->deadline_ms;
    return next;
}
