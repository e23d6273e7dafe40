/* A session's life: start the supervisor, answer questions, stop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latchkey/doctor.h"
#include "session/embedded.h"
#include "session/session_private.h"
#include "util/strv.h"

/* watch.js with LK_CFG replaced by the site profile as a JS object. */
static char *build_script(const lk_site *site)
{
    json_t *cfg = json_object(), *linked = json_array();
    char *cfg_text, *script = NULL;
    const char *mark = strstr(lk_embedded_watch_js, "= LK_CFG;");
    size_t i;
    for (i = 0; i < site->nlinked; i++)
        json_array_append_new(linked, json_string(site->linked[i]));
    json_object_set_new(cfg, "linked", linked);
    json_object_set_new(cfg, "qrSelector", json_string(site->qr_selector));
    json_object_set_new(cfg, "qrAttribute", json_string(site->qr_attribute));
    json_object_set_new(cfg, "qrCanvas",
                        site->qr_canvas ? json_string(site->qr_canvas) : json_null());
    json_object_set_new(cfg, "conflictText",
                        site->conflict_text ? json_string(site->conflict_text) : json_null());
    json_object_set_new(cfg, "conflictSelector",
                        site->conflict_selector ? json_string(site->conflict_selector)
                                                : json_null());
    /* JSON is valid JavaScript; jansson escapes what could end the literal. */
    cfg_text = json_dumps(cfg, JSON_COMPACT | JSON_ESCAPE_SLASH);
    json_decref(cfg);
    if (cfg_text && mark) {
        size_t head = (size_t)(mark - lk_embedded_watch_js) + 2; /* keep "= " */
        size_t total = strlen(lk_embedded_watch_js) - 6 + strlen(cfg_text) + 1;
        script = malloc(total);
        if (script) {
            memcpy(script, lk_embedded_watch_js, head);
            strcpy(script + head, cfg_text);
            strcat(script, mark + 2 + 6);
        }
    }
    free(cfg_text);
    return script;
}

static void free_session(lk_session *s)
{
    if (s->thread_started)
        lk__health_release();
    lk_session_info_clear(&s->info);
    free(s->profile);
    free(s->chromium);
    free(s->site_url);
    free(s->script);
    free(s->canvas_sig);
    free(s->target_sid);
    lk_site_free(s->site);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->cb_mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}

static int copy_site(const lk_site *src, lk_site **dst, lk_error *err)
{
    /* A private copy: the caller's site may go away while we run. */
    json_t *o = json_object(), *linked = json_array(), *qr = json_object(),
           *conflict = json_object(), *logout = json_object();
    char *text;
    size_t i;
    int rc;
    json_object_set_new(o, "name", json_string(src->name));
    json_object_set_new(o, "url", json_string(src->url));
    json_object_set_new(qr, "selector", json_string(src->qr_selector));
    json_object_set_new(qr, "attribute", json_string(src->qr_attribute));
    if (src->qr_canvas)
        json_object_set_new(qr, "canvas", json_string(src->qr_canvas));
    json_object_set_new(o, "qr", qr);
    for (i = 0; i < src->nlinked; i++)
        json_array_append_new(linked, json_string(src->linked[i]));
    json_object_set_new(o, "linked", linked);
    if (src->conflict_text)
        json_object_set_new(conflict, "button_text", json_string(src->conflict_text));
    if (src->conflict_selector)
        json_object_set_new(conflict, "selector", json_string(src->conflict_selector));
    json_object_set_new(o, "conflict", conflict);
    json_object_set_new(logout, "url_contains", json_string(src->logout_url));
    json_object_set_new(o, "logged_out", logout);
    if (src->version_expr)
        json_object_set_new(o, "version", json_string(src->version_expr));
    text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!text)
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    rc = lk_site_parse(text, strlen(text), dst, err);
    free(text);
    return rc;
}

/* Attach when a browser already serves DevTools on this profile. */
static int resolve_mode(lk_session *s, lk_error *err)
{
    lk_cdp_endpoint ep;
    lk_error perr;
    int have;
    lk_error_clear(&perr);
    have = lk_session_endpoint(s->profile, 2000, &ep, &perr) == LK_OK;
    lk_cdp_endpoint_clear(&ep);
    /* A port is named (its file, its command line) but does not answer:
     * say so when the folder then turns out to be busy. */
    if (!have && perr.code != LK_ENOENT)
        snprintf(s->probe_err, sizeof s->probe_err, "%.250s", perr.msg);
    if (s->mode == LK_MODE_ATTACH && !have)
        return lk_error_set(err, LK_ENOENT, 0,
                            "no browser with a working DevTools endpoint runs %s%s%s", s->profile,
                            s->probe_err[0] ? ": " : "", s->probe_err);
    s->attached_mode = s->mode == LK_MODE_ATTACH || (s->mode == LK_MODE_AUTO && have);
    s->info.attached = s->attached_mode;
    return LK_OK;
}

int lk_session_start(const lk_session_opts *o, lk_session_fn cb, void *user, lk_session **out,
                     lk_error *err)
{
    lk_session *s;
    const char *url;
    int rc;

    *out = NULL;
    if (!o || !o->loop || !o->profile || !*o->profile)
        return lk_error_set(err, LK_EINVAL, 0, "a session needs a loop and a profile folder");
    s = calloc(1, sizeof *s);
    if (!s)
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->cb_mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->loop = o->loop;
    s->cb = cb;
    s->user = user;
    s->mode = o->mode;
    s->headed = o->headed;
    s->max_restarts = o->max_restarts > 0 ? o->max_restarts : 6;
    s->attach_poll_ms = o->attach_poll_ms > 0 ? o->attach_poll_ms : 100;
    s->backoff_ms = o->backoff_ms > 0 ? o->backoff_ms : 500;
    s->info.started_ms = lk_sys_wall_ms();
    rc = lk_sys_abspath(o->profile, &s->profile, err);
    if (rc == LK_OK)
        rc = o->site ? copy_site(o->site, &s->site, err) : lk_site_default(&s->site, err);
    if (rc == LK_OK) {
        char *env = o->site_url ? NULL : lk_sys_getenv("LATCHKEY_SITE_URL");
        url = o->site_url ? o->site_url : env;
        s->site_url = lk_strdup(url && *url ? url : s->site->url);
        free(env);
        s->script = build_script(s->site);
        if (!s->site_url || !s->script)
            rc = lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    }
    if (rc == LK_OK)
        rc = resolve_mode(s, err);
    /* A browser to launch only when there is none to attach to: the bot's
     * may be one Latchkey would never find (Puppeteer's own download). */
    if (rc == LK_OK && !s->attached_mode)
        rc = lk_browser_find(o->chromium, &s->chromium, err);
    if (rc == LK_OK) {
        lk__health_hold();
        if (lk_sys_thread_start(&s->thread, lk__session_supervise, s) != 0) {
            lk__health_release();
            rc = lk_error_set(err, LK_EIO, 0, "cannot start the session's thread");
        }
    }
    if (rc != LK_OK) {
        free_session(s);
        return rc;
    }
    s->thread_started = 1;
    *out = s;
    return LK_OK;
}

int lk_session_take_over(lk_session *s, lk_error *err)
{
    int rc;
    int64_t deadline = lk_sys_now_ms() + 15000;
    pthread_mutex_lock(&s->mu);
    if (s->info.state != LK_STATE_CONFLICT) {
        pthread_mutex_unlock(&s->mu);
        return lk_error_set(err, LK_EINVAL, 0, "there is no conflict to take over (state %s)",
                            lk_state_name(s->info.state));
    }
    s->take_over = 1;
    s->take_over_done = 0;
    pthread_cond_broadcast(&s->cv);
    while (!s->take_over_done && lk_sys_now_ms() < deadline) {
        int64_t wall = lk_sys_wall_ms() + 200;
        struct timespec ts;
        ts.tv_sec = (time_t)(wall / 1000);
        ts.tv_nsec = (long)(wall % 1000) * 1000000L;
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
    }
    rc = s->take_over_done ? s->take_over_rc : LK_ETIMEDOUT;
    pthread_mutex_unlock(&s->mu);
    if (rc != LK_OK)
        return lk_error_set(err, (lk_code)rc, 0, "could not click \"Use here\"");
    return LK_OK;
}

int lk_session_stop(lk_session *s, int timeout_ms, lk_error *err)
{
    if (!s || !s->thread_started)
        return LK_OK;
    pthread_mutex_lock(&s->mu);
    s->stop_requested = 1;
    s->stop_timeout_ms = timeout_ms;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    s->thread_started = 0;
    (void)err;
    return LK_OK;
}

void lk_session_free(lk_session *s)
{
    if (!s)
        return;
    lk_session_stop(s, 10000, NULL);
    free_session(s);
}
