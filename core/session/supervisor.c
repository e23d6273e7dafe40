/* One thread per session keeps it alive: launch or attach, follow, heal.
 * Backoff 0.5 s doubling to 30 s with jitter; after max_restarts failures in
 * a row the session is `failed` with the last error. A restart that got the
 * page back (a QR code, linked, logged out, a conflict) was a success: the
 * count and the backoff start over, so a session that is killed now and
 * then heals as fast each time, while one that cannot start backs off.
 *
 * One owner at a time (owner.h): when the browser goes away, a stop marker
 * for the folder, or the folder's removal, means someone ended it on
 * purpose: the session stands down and relaunches nothing. Without either
 * it was a crash, healed as always. Every launch happens under the folder's
 * owner lock, after checking both again. */
#include <stdlib.h>
#include <string.h>

#include "latchkey/doctor.h"
#include "latchkey/owner.h"
#include "session/session_private.h"
#include "util/strv.h"

#define BACKOFF_MAX_MS 30000
#define STABLE_MS 60000 /* up this long without trouble: the failure count starts over */
#define HEALTH_MS 2000
#define OWNER_LOCK_MS 60000 /* a stopper holds the lock only to write its marker */

static int stopping(lk_session *s)
{
    int stop;
    pthread_mutex_lock(&s->mu);
    stop = s->stop_requested;
    pthread_mutex_unlock(&s->mu);
    return stop;
}

/* Sleeps up to ms, waking at once on stop. */
static void nap(lk_session *s, int ms)
{
    int64_t deadline = lk_sys_now_ms() + ms;
    pthread_mutex_lock(&s->mu);
    while (!s->stop_requested) {
        int64_t now = lk_sys_now_ms(), wall;
        struct timespec ts;
        if (now >= deadline)
            break;
        wall = lk_sys_wall_ms() + (deadline - now);
        ts.tv_sec = (time_t)(wall / 1000);
        ts.tv_nsec = (long)(wall % 1000) * 1000000L;
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
    }
    pthread_mutex_unlock(&s->mu);
}

static void drop_connection(lk_session *s)
{
    lk_cdp *c;
    pthread_mutex_lock(&s->mu);
    c = s->cdp;
    s->cdp = NULL;
    free(s->target_sid);
    s->target_sid = NULL;
    s->world_ctx = 0;
    pthread_mutex_unlock(&s->mu);
    if (c)
        lk_cdp_close(c);
}

static void end_browser(lk_session *s, int timeout_ms)
{
    if (!s->browser)
        return;
    lk_browser_stop(s->browser, timeout_ms, NULL);
    lk_browser_free(s->browser);
    pthread_mutex_lock(&s->mu);
    s->browser = NULL;
    pthread_mutex_unlock(&s->mu);
}

static int connect_to(lk_session *s, const char *ws_url, lk_error *err)
{
    lk_cdp_handlers h = {lk__page_on_event, lk__page_on_closed, s};
    lk_cdp *c = NULL;
    int rc;
    pthread_mutex_lock(&s->mu);
    s->closed = s->crashed = s->detached = 0;
    pthread_mutex_unlock(&s->mu);
    rc = lk_cdp_connect(s->loop, ws_url, &h, 5000, &c, err);
    if (rc != LK_OK)
        return rc;
    pthread_mutex_lock(&s->mu);
    s->cdp = c;
    pthread_mutex_unlock(&s->mu);
    return LK_OK;
}

/* The endpoint of a browser already running the profile, if any. */
static int find_endpoint(lk_session *s, lk_cdp_endpoint *ep, lk_error *err)
{
    return lk_session_endpoint(s->profile, 2000, ep, err);
}

/* The browser we own is still running: only the socket was lost. */
static int browser_alive(lk_session *s)
{
    return s->browser && s->browser->child && !lk_child_wait(s->browser->child, lk_sys_now_ms());
}

/* 1 when the folder was stopped on purpose or removed since a browser ran
 * it: records who and why in info, for the state set on standing down. */
static int owner_says_stop(lk_session *s)
{
    lk_owner_stop st;
    int marked = lk_owner_stopped(s->profile, &st);
    int removed = s->launched && lk_sys_ftype(s->profile) != LK_FT_DIR;
    if (!marked && !removed)
        return 0;
    /* Published with the state by stand_down, so no reader ever sees
     * stood_down with the old state and reason. */
    memset(&s->down_by, 0, sizeof s->down_by);
    if (marked)
        s->down_by = st;
    s->down_removed = removed;
    s->standing_down = 1;
    return 1;
}

static int launch_locked(lk_session *s, lk_browser **out, lk_error *err)
{
    lk_browser_opts bo;
    lk_owner_lock *lock = NULL;
    lk_error lerr;
    int rc = lk_owner_acquire(s->profile, lk_sys_now_ms() + OWNER_LOCK_MS, &lock, &lerr);
    /* A data folder we cannot write holds no markers either: launch. */
    if (rc == LK_ETIMEDOUT) {
        *err = lerr;
        return rc;
    }
    if (owner_says_stop(s)) {
        lk_owner_release(lock);
        return lk_error_set(err, LK_EREFUSED, 0, "stopped on purpose; not relaunching");
    }
    memset(&bo, 0, sizeof bo);
    bo.exe = s->chromium;
    bo.profile = s->profile;
    bo.headed = s->headed;
    /* Under the lock until the browser is up: a stopper that marks the
     * folder now finds this browser when it then looks for processes. */
    rc = lk_browser_launch(&bo, out, err);
    lk_owner_release(lock);
    return rc;
}

static int start_owned(lk_session *s, lk_error *err)
{
    lk_browser *b = NULL;
    int rc;
    if (browser_alive(s)) {
        lk__session_set_state(s, LK_STATE_STARTING, "reconnecting to the browser");
        rc = connect_to(s, s->browser->ws_url, err);
        if (rc == LK_OK)
            rc = lk__page_setup_owned(s, err);
        return rc;
    }
    /* The socket closed a moment before the browser's exit could be seen:
     * what is left of that tree is ours to end before a new one starts. */
    end_browser(s, 3000);
    lk__session_set_state(s, LK_STATE_STARTING, "starting the browser");
    rc = launch_locked(s, &b, err);
    if (rc == LK_EBUSY && s->probe_err[0] && err) {
        /* The folder's browser is there; its DevTools endpoint is what fails. */
        char busy[sizeof err->msg];
        snprintf(busy, sizeof busy, "%s", err->msg);
        lk_error_set(err, LK_EBUSY, 0,
                     "a browser runs the folder but its DevTools endpoint does not answer "
                     "(%.200s), so Latchkey can neither attach nor start its own: %.250s",
                     s->probe_err, busy);
    }
    if (rc != LK_OK)
        return rc;
    s->launched = 1;
    pthread_mutex_lock(&s->mu);
    s->browser = b;
    s->info.browser_pid = b->pid;
    pthread_mutex_unlock(&s->mu);
    rc = connect_to(s, b->ws_url, err);
    if (rc == LK_OK)
        rc = lk__page_setup_owned(s, err);
    return rc;
}

static int start_attached(lk_session *s, lk_error *err)
{
    lk_cdp_endpoint ep;
    int rc;
    lk__session_set_state(s, LK_STATE_STARTING, "attaching to the running browser");
    rc = find_endpoint(s, &ep, err);
    if (rc != LK_OK)
        return rc;
    rc = connect_to(s, ep.ws_url, err);
    lk_cdp_endpoint_clear(&ep);
    if (rc == LK_OK) {
        s->launched = 1;
        lk__session_refresh_health(s); /* the bot's browser pid, before the first report */
        rc = lk__page_setup_attached(s, err);
    }
    return rc;
}

/* Follows the page until the connection is lost or a stop is asked.
 * Returns LK_OK on stop, an error when the session needs healing. */
/* The page was read: the browser, the connection and the reader work. */
static int page_ready(lk_session *s)
{
    lk_state st;
    pthread_mutex_lock(&s->mu);
    st = s->info.state;
    pthread_mutex_unlock(&s->mu);
    return st == LK_STATE_QR || st == LK_STATE_LINKED || st == LK_STATE_LOGGED_OUT ||
           st == LK_STATE_CONFLICT;
}

static int follow(lk_session *s, int *failures, int *ready, lk_error *err)
{
    int64_t up_since = lk_sys_now_ms(), next_health = 0;
    int poll_ms = s->attached_mode ? s->attach_poll_ms : HEALTH_MS, strikes = 0;
    for (;;) {
        int closed, crashed, detached, canvas, version, take_over, stop;
        int64_t now = lk_sys_now_ms();
        if (now >= next_health) {
            /* Attach mode polls the page anyway; an owned browser that
             * shows nothing new is asked directly whether it still runs. */
            if (!s->attached_mode && lk__session_heartbeat(s, &strikes, err) != LK_OK)
                return err->code;
            lk__session_refresh_health(s);
            next_health = lk_sys_now_ms() + HEALTH_MS;
        }
        if (!*ready && page_ready(s))
            *ready = 1;
        if (*failures && (now - up_since > STABLE_MS || *ready))
            *failures = 0;
        pthread_mutex_lock(&s->mu);
        if (!(s->stop_requested || s->closed || s->crashed || s->detached || s->want_canvas ||
              s->want_version || s->take_over)) {
            int64_t wall = lk_sys_wall_ms() + poll_ms;
            struct timespec ts;
            ts.tv_sec = (time_t)(wall / 1000);
            ts.tv_nsec = (long)(wall % 1000) * 1000000L;
            pthread_cond_timedwait(&s->cv, &s->mu, &ts);
        }
        stop = s->stop_requested;
        closed = s->closed;
        crashed = s->crashed;
        detached = s->detached;
        canvas = s->want_canvas;
        version = s->want_version;
        take_over = s->take_over;
        s->crashed = 0;
        pthread_mutex_unlock(&s->mu);

        if (stop)
            return LK_OK;
        if (closed)
            return lk_error_set(err, LK_EIO, 0, "%s", s->info.last_error);
        if (detached)
            return lk_error_set(err, LK_EIO, 0, "the page was closed");
        if (crashed) {
            /* The renderer died; the browser lives: load the page again. */
            pthread_mutex_lock(&s->mu);
            s->info.restarts++;
            snprintf(s->info.last_error, sizeof s->info.last_error, "the page crashed");
            pthread_mutex_unlock(&s->mu);
            if (s->attached_mode)
                return lk_error_set(err, LK_EIO, 0, "the bot's page crashed");
            if (lk_cdp_call(s->cdp, s->target_sid, "Page.reload", NULL, 10000, NULL, err) != LK_OK)
                return LK_EIO;
            lk__session_set_state(s, LK_STATE_LOADING, "reloading after a crash");
        }
        if (canvas)
            lk__page_capture_canvas(s, NULL);
        if (version)
            lk__page_read_version(s);
        if (take_over) {
            lk_error e;
            int rc = lk__page_take_over(s, &e);
            pthread_mutex_lock(&s->mu);
            s->take_over = 0;
            s->take_over_done = 1;
            s->take_over_rc = rc;
            pthread_cond_broadcast(&s->cv);
            pthread_mutex_unlock(&s->mu);
        }
        if (s->attached_mode && lk__page_poll_attached(s, err) != LK_OK && !lk_cdp_is_open(s->cdp))
            return LK_EIO;
    }
}

/* Attach mode after the bot's browser went away: wait for it to come back. */
static void await_endpoint(lk_session *s)
{
    lk__session_set_state(s, LK_STATE_STOPPED,
                          "the browser is gone; watching the folder for it to come back");
    while (!stopping(s)) {
        lk_cdp_endpoint ep;
        if (owner_says_stop(s))
            return;
        if (find_endpoint(s, &ep, NULL) == LK_OK) {
            lk_cdp_endpoint_clear(&ep);
            return;
        }
        nap(s, 1000);
    }
}

static void teardown(lk_session *s)
{
    if (s->cdp && !s->attached_mode) {
        /* Ask the browser to close itself: it flushes cookies and the profile. */
        lk_cdp_call(s->cdp, NULL, "Browser.close", NULL, 2000, NULL, NULL);
    } else if (s->cdp && s->target_sid) {
        lk_cdp_call(s->cdp, NULL, "Target.detachFromTarget",
                    json_pack("{s:s}", "sessionId", s->target_sid), 2000, NULL, NULL);
    }
    drop_connection(s);
    end_browser(s, s->stop_timeout_ms > 0 ? s->stop_timeout_ms : 10000);
    if (!s->standing_down) /* keep saying who stopped it */
        lk__session_set_state(s, LK_STATE_STOPPED, "stopped");
}

/* Someone stopped, unlocked or removed the folder on purpose: end what is
 * ours, say who did it, and wait to be stopped. Nothing is relaunched. */
static void stand_down(lk_session *s)
{
    char why[256];
    drop_connection(s);
    end_browser(s, 3000); /* our own tree only; an attached bot's is not ours */
    if (s->down_by.action[0])
        lk_owner_describe(&s->down_by, why, sizeof why);
    else
        snprintf(why, sizeof why, "the folder was removed");
    if (s->down_by.action[0] && s->down_removed)
        snprintf(why + strlen(why), sizeof why - strlen(why), "; the folder was removed");
    snprintf(why + strlen(why), sizeof why - strlen(why), "; not relaunched");
    lk__session_stand_down(s, &s->down_by, s->down_removed, why);
    pthread_mutex_lock(&s->mu);
    while (!s->stop_requested)
        pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
}

void *lk__session_supervise(void *arg)
{
    lk_session *s = arg;
    int failures = 0, delay = s->backoff_ms, ready = 0;
    while (!stopping(s)) {
        lk_error e;
        int rc;
        lk_error_clear(&e);
        rc = s->attached_mode ? start_attached(s, &e) : start_owned(s, &e);
        if (rc == LK_OK)
            rc = follow(s, &failures, &ready, &e);
        if (stopping(s))
            break;
        /* The browser went away: on purpose (a marker, written before
         * anything was signalled, or a removed folder) or not. */
        if (s->standing_down || owner_says_stop(s)) {
            stand_down(s);
            break;
        }
        pthread_mutex_lock(&s->mu);
        snprintf(s->info.last_error, sizeof s->info.last_error, "%.250s", e.msg);
        pthread_mutex_unlock(&s->mu);
        drop_connection(s);
        if (s->attached_mode) {
            lk_cdp_endpoint ep;
            if (find_endpoint(s, &ep, NULL) == LK_OK) {
                /* The browser still answers its discovery: the connection
                 * failed, not the browser (a closed page, or a broken or
                 * hostile endpoint). Back off rather than spin against it. */
                char why[320];
                lk_cdp_endpoint_clear(&ep);
                snprintf(why, sizeof why,
                         "lost the browser's DevTools connection (%.250s); connecting again",
                         e.msg[0] ? e.msg : "no reason given");
                lk__session_set_state(s, LK_STATE_UNREACHABLE, why);
                if (ready)
                    delay = s->backoff_ms;
                ready = 0;
                nap(s, delay / 2 + rand() % (delay + 1));
                delay = delay * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : delay * 2;
                continue;
            }
            await_endpoint(s);
            if (s->standing_down) {
                stand_down(s);
                break;
            }
            continue;
        }
        /* A lost socket with a live browser is reconnected (next round);
         * a browser that died, or one we cannot talk to twice, is replaced. */
        if (!browser_alive(s) || failures > 0)
            end_browser(s, 3000);
        if (rc == LK_EBUSY || ++failures > s->max_restarts) {
            /* Someone else runs the profile, or it keeps failing: stop trying. */
            lk__session_set_state(s, LK_STATE_FAILED,
                                  e.msg[0] ? e.msg : "the browser keeps failing");
            pthread_mutex_lock(&s->mu);
            while (!s->stop_requested)
                pthread_cond_wait(&s->cv, &s->mu);
            pthread_mutex_unlock(&s->mu);
            break;
        }
        lk__session_set_state(s, LK_STATE_CRASHED, e.msg[0] ? e.msg : "the browser went away");
        pthread_mutex_lock(&s->mu);
        s->info.restarts++;
        pthread_mutex_unlock(&s->mu);
        /* Jitter spreads the restarts of many sessions that failed together. */
        if (ready)
            delay = s->backoff_ms;
        ready = 0;
        nap(s, delay / 2 + rand() % (delay + 1));
        delay = delay * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : delay * 2;
    }
    teardown(s);
    return NULL;
}
