/* The session's state machine: page reports in, states and QR codes out. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "session/session_private.h"
#include "util/strv.h"

const char *lk_state_name(lk_state st)
{
    static const char *const names[] = {"stopped", "starting", "loading",    "qr",
                                        "linked",  "conflict", "logged_out", "unreachable",
                                        "crashed", "failed"};
    return (unsigned)st < sizeof names / sizeof *names ? names[st] : "failed";
}

void lk_session_info_clear(lk_session_info *info)
{
    free(info->qr);
    free(info->qr_png);
    free(info->url);
    free(info->version);
    memset(info, 0, sizeof *info);
}

static void copy_info(lk_session_info *dst, const lk_session_info *src)
{
    *dst = *src;
    dst->qr = lk_strdup(src->qr);
    dst->url = lk_strdup(src->url);
    dst->version = lk_strdup(src->version);
    dst->qr_png = NULL;
    if (src->qr_png && src->qr_png_len) {
        dst->qr_png = malloc(src->qr_png_len);
        if (dst->qr_png)
            memcpy(dst->qr_png, src->qr_png, src->qr_png_len);
        else
            dst->qr_png_len = 0;
    }
}

void lk_session_get(lk_session *s, lk_session_info *out)
{
    pthread_mutex_lock(&s->mu);
    copy_info(out, &s->info);
    /* The last round trip, live: the connection is closed only after it
     * is taken out of s->cdp under s->mu. */
    out->rtt_ms = s->cdp ? lk_cdp_last_rtt_ms(s->cdp) : -1;
    pthread_mutex_unlock(&s->mu);
}

/* Tells the user about the current info. Call without s->mu held. */
void lk__session_notify(lk_session *s)
{
    lk_session_info copy;
    if (!s->cb)
        return;
    pthread_mutex_lock(&s->cb_mu);
    lk_session_get(s, &copy);
    s->cb(s->user, &copy);
    lk_session_info_clear(&copy);
    pthread_mutex_unlock(&s->cb_mu);
}

/* Under s->mu. Returns 1 when something changed. */
static int set_state_locked(lk_session *s, lk_state st, const char *reason)
{
    if (s->info.state == st && strcmp(s->info.reason, reason ? reason : "") == 0)
        return 0;
    s->info.state = st;
    s->info.since_ms = lk_sys_wall_ms();
    snprintf(s->info.reason, sizeof s->info.reason, "%.250s", reason ? reason : "");
    if (st == LK_STATE_LINKED)
        s->ever_linked = 1;
    if (st != LK_STATE_QR && st != LK_STATE_LOGGED_OUT) {
        /* A stale QR must never outlive the screen that showed it. */
        free(s->info.qr);
        s->info.qr = NULL;
        free(s->info.qr_png);
        s->info.qr_png = NULL;
        s->info.qr_png_len = 0;
        s->info.qr_from_canvas = 0;
        free(s->canvas_sig);
        s->canvas_sig = NULL;
    }
    pthread_cond_broadcast(&s->cv);
    return 1;
}

void lk__session_set_state(lk_session *s, lk_state st, const char *reason)
{
    int changed;
    pthread_mutex_lock(&s->mu);
    changed = set_state_locked(s, st, reason);
    pthread_mutex_unlock(&s->mu);
    if (changed)
        lk__session_notify(s);
}

void lk__session_stand_down(lk_session *s, const lk_owner_stop *by, int removed, const char *why)
{
    pthread_mutex_lock(&s->mu);
    s->info.stood_down = 1;
    s->info.folder_removed = removed;
    s->info.stopped_by = *by;
    s->info.browser_pid = 0;
    set_state_locked(s, LK_STATE_STOPPED, why);
    pthread_mutex_unlock(&s->mu);
    lk__session_notify(s);
}

static int url_has(const char *url, const char *marker)
{
    return url && marker && strstr(url, marker) != NULL;
}

/* A report from the page reader (watch.js lkRead), from any thread. */
void lk__session_apply_report(lk_session *s, const char *json, size_t len)
{
    json_error_t jerr;
    json_t *r = json_loadb(json, len, 0, &jerr);
    const char *url, *qr;
    json_t *canvas;
    int linked, conflict, changed = 0;

    if (!r || !json_is_object(r)) {
        json_decref(r);
        return; /* the page can say anything: ignore what is not a report */
    }
    url = json_string_value(json_object_get(r, "url"));
    qr = json_string_value(json_object_get(r, "qr"));
    linked = json_is_true(json_object_get(r, "linked"));
    conflict = json_is_true(json_object_get(r, "conflict"));
    canvas = json_object_get(r, "canvas");
    if (qr && (strlen(qr) == 0 || strlen(qr) > 4096))
        qr = NULL;

    pthread_mutex_lock(&s->mu);
    if (url && (!s->info.url || strcmp(url, s->info.url) != 0)) {
        free(s->info.url);
        s->info.url = lk_strdup(url);
        changed = 1;
    }
    if (linked) {
        changed |= set_state_locked(s, LK_STATE_LINKED, "the chat list is shown");
        if (!s->info.version)
            s->want_version = 1;
    } else if (conflict) {
        changed |= set_state_locked(s, LK_STATE_CONFLICT,
                                    "WhatsApp is open in another window; take over to use it here");
    } else if (qr || json_is_object(canvas)) {
        int logged_out = s->ever_linked || url_has(url, s->site->logout_url);
        changed |= set_state_locked(s, logged_out ? LK_STATE_LOGGED_OUT : LK_STATE_QR,
                                    logged_out ? "logged out: scan the QR code to link again"
                                               : "waiting for the QR code to be scanned");
        if (qr && (!s->info.qr || strcmp(qr, s->info.qr) != 0)) {
            if (s->info.qr || s->info.qr_at_ms)
                s->info.rotations++;
            free(s->info.qr);
            s->info.qr = lk_strdup(qr);
            s->info.qr_from_canvas = 0;
            s->info.qr_at_ms = lk_sys_wall_ms();
            changed = 1;
        } else if (!qr && json_is_object(canvas)) {
            const char *sig = json_string_value(json_object_get(canvas, "sig"));
            if (sig && (!s->canvas_sig || strcmp(sig, s->canvas_sig) != 0)) {
                if (s->canvas_sig)
                    s->info.rotations++;
                free(s->canvas_sig);
                s->canvas_sig = lk_strdup(sig);
                free(s->info.qr);
                s->info.qr = NULL;
                s->canvas_clip[0] = json_number_value(json_object_get(canvas, "x"));
                s->canvas_clip[1] = json_number_value(json_object_get(canvas, "y"));
                s->canvas_clip[2] = json_number_value(json_object_get(canvas, "w"));
                s->canvas_clip[3] = json_number_value(json_object_get(canvas, "h"));
                s->info.qr_at_ms = lk_sys_wall_ms();
                s->want_canvas = 1;
                pthread_cond_broadcast(&s->cv);
            }
        }
    } else if (url_has(url, s->site->logout_url)) {
        changed |= set_state_locked(s, LK_STATE_LOGGED_OUT, "logged out");
    } else {
        changed |= set_state_locked(s, LK_STATE_LOADING, "the page is loading");
    }
    if (changed)
        pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    json_decref(r);
    if (changed)
        lk__session_notify(s);
}

lk_state lk_session_wait(lk_session *s, unsigned states, int64_t deadline_ms)
{
    lk_state st;
    pthread_mutex_lock(&s->mu);
    while (!(states & LK_STATES(s->info.state))) {
        int64_t now = lk_sys_now_ms();
        struct timespec ts;
        int64_t wall;
        if (now >= deadline_ms)
            break;
        /* Condition variables wait on the wall clock; convert the rest. */
        wall = lk_sys_wall_ms() + (deadline_ms - now < 200 ? deadline_ms - now : 200);
        ts.tv_sec = (time_t)(wall / 1000);
        ts.tv_nsec = (long)(wall % 1000) * 1000000L;
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
    }
    st = s->info.state;
    pthread_mutex_unlock(&s->mu);
    return st;
}
