/* The page, over CDP: set up the reader, follow it, capture, take over. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session/session_private.h"
#include "util/strv.h"

#define CALL_MS 10000

static int call(lk_session *s, const char *method, json_t *params, json_t **result, lk_error *err)
{
    return lk_cdp_call(s->cdp, s->target_sid, method, params, CALL_MS, result, err);
}

/* Events arrive on the I/O thread. */
void lk__page_on_event(void *user, const lk_cdp_msg *msg)
{
    lk_session *s = user;
    const char *m = msg->method;
    int ours;
    pthread_mutex_lock(&s->mu);
    ours = s->target_sid && msg->session_id && strcmp(msg->session_id, s->target_sid) == 0;
    pthread_mutex_unlock(&s->mu);

    if (ours && strcmp(m, "Runtime.bindingCalled") == 0) {
        const char *name = json_string_value(json_object_get(msg->params, "name"));
        const char *payload = json_string_value(json_object_get(msg->params, "payload"));
        if (name && payload && strcmp(name, LK_BINDING) == 0)
            lk__session_apply_report(s, payload, strlen(payload));
        return;
    }
    if ((ours && strcmp(m, "Inspector.targetCrashed") == 0) ||
        strcmp(m, "Target.targetCrashed") == 0) {
        pthread_mutex_lock(&s->mu);
        s->crashed = 1;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        lk__session_set_state(s, LK_STATE_CRASHED, "the page crashed");
        return;
    }
    if (strcmp(m, "Target.detachedFromTarget") == 0) {
        const char *sid = json_string_value(json_object_get(msg->params, "sessionId"));
        pthread_mutex_lock(&s->mu);
        if (sid && s->target_sid && strcmp(sid, s->target_sid) == 0) {
            s->detached = 1;
            pthread_cond_broadcast(&s->cv);
        }
        pthread_mutex_unlock(&s->mu);
    }
}

void lk__page_on_closed(void *user, const lk_error *why)
{
    lk_session *s = user;
    pthread_mutex_lock(&s->mu);
    s->closed = 1;
    snprintf(s->info.last_error, sizeof s->info.last_error, "DevTools connection closed: %.200s",
             why && why->msg[0] ? why->msg : "the browser went away");
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* The first page target, or one showing the site when there are several. */
static int pick_page(lk_session *s, char **target_id, lk_error *err)
{
    json_t *res = NULL, *infos;
    size_t i;
    const char *best = NULL;
    int rc = lk_cdp_call(s->cdp, NULL, "Target.getTargets", NULL, CALL_MS, &res, err);
    if (rc != LK_OK)
        return rc;
    infos = json_object_get(res, "targetInfos");
    for (i = 0; i < json_array_size(infos); i++) {
        json_t *t = json_array_get(infos, i);
        const char *type = json_string_value(json_object_get(t, "type"));
        const char *id = json_string_value(json_object_get(t, "targetId"));
        const char *url = json_string_value(json_object_get(t, "url"));
        if (!type || !id || strcmp(type, "page") != 0)
            continue;
        if (!best)
            best = id;
        if (url && s->site_url && strncmp(url, s->site_url, strcspn(s->site_url, "?#")) == 0) {
            best = id;
            break;
        }
    }
    if (best)
        *target_id = lk_strdup(best);
    json_decref(res);
    if (!best && s->mode != LK_MODE_ATTACH) {
        res = NULL;
        rc = lk_cdp_call(s->cdp, NULL, "Target.createTarget",
                         json_pack("{s:s}", "url", "about:blank"), CALL_MS, &res, err);
        if (rc != LK_OK)
            return rc;
        *target_id = lk_strdup(json_string_value(json_object_get(res, "targetId")));
        json_decref(res);
    }
    if (!*target_id)
        return lk_error_set(err, LK_ENOENT, 0, "the browser has no page open");
    return LK_OK;
}

static int attach(lk_session *s, lk_error *err)
{
    char *target = NULL;
    json_t *res = NULL;
    const char *sid;
    int rc = pick_page(s, &target, err);
    if (rc != LK_OK)
        return rc;
    rc = lk_cdp_call(s->cdp, NULL, "Target.attachToTarget",
                     json_pack("{s:s,s:b}", "targetId", target, "flatten", 1), CALL_MS, &res, err);
    free(target);
    if (rc != LK_OK)
        return rc;
    sid = json_string_value(json_object_get(res, "sessionId"));
    if (!sid) {
        json_decref(res);
        return lk_error_set(err, LK_EPROTO, 0, "Target.attachToTarget returned no sessionId");
    }
    pthread_mutex_lock(&s->mu);
    free(s->target_sid);
    s->target_sid = lk_strdup(sid);
    s->crashed = s->detached = 0;
    pthread_mutex_unlock(&s->mu);
    json_decref(res);
    return LK_OK;
}

int lk__page_setup_owned(lk_session *s, lk_error *err)
{
    char *watch;
    json_t *res = NULL;
    const char *failure;
    int rc;
    if ((rc = attach(s, err)) != LK_OK)
        return rc;
    watch = malloc(strlen(s->script) + 64);
    if (!watch)
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    sprintf(watch, "%s\nlkWatch('%s');\n", s->script, LK_BINDING);
    if ((rc = call(s, "Inspector.enable", NULL, NULL, err)) != LK_OK ||
        (rc = call(s, "Page.enable", NULL, NULL, err)) != LK_OK ||
        (rc = call(s, "Runtime.enable", NULL, NULL, err)) != LK_OK ||
        (rc = call(s, "Runtime.addBinding",
                   json_pack("{s:s,s:s}", "name", LK_BINDING, "executionContextName", LK_WORLD),
                   NULL, err)) != LK_OK ||
        (rc = call(s, "Page.addScriptToEvaluateOnNewDocument",
                   json_pack("{s:s,s:s}", "source", watch, "worldName", LK_WORLD), NULL, err)) !=
            LK_OK) {
        free(watch);
        return rc;
    }
    free(watch);
    lk__session_set_state(s, LK_STATE_LOADING, "opening the page");
    rc = call(s, "Page.navigate", json_pack("{s:s}", "url", s->site_url), &res, err);
    if (rc != LK_OK)
        return rc;
    failure = json_string_value(json_object_get(res, "errorText"));
    if (failure && *failure) {
        rc = lk_error_set(err, LK_EIO, 0, "cannot open %s: %s", s->site_url, failure);
        lk__session_set_state(s, LK_STATE_UNREACHABLE, err ? err->msg : failure);
    }
    json_decref(res);
    return rc;
}

static int make_world(lk_session *s, lk_error *err)
{
    json_t *res = NULL;
    const char *frame;
    int rc = call(s, "Page.getFrameTree", NULL, &res, err);
    if (rc != LK_OK)
        return rc;
    frame = json_string_value(
        json_object_get(json_object_get(json_object_get(res, "frameTree"), "frame"), "id"));
    if (!frame) {
        json_decref(res);
        return lk_error_set(err, LK_EPROTO, 0, "the page has no main frame");
    }
    {
        json_t *w = NULL;
        rc = call(s, "Page.createIsolatedWorld",
                  json_pack("{s:s,s:s}", "frameId", frame, "worldName", LK_WORLD), &w, err);
        json_decref(res);
        if (rc != LK_OK)
            return rc;
        s->world_ctx = (int)json_integer_value(json_object_get(w, "executionContextId"));
        json_decref(w);
    }
    return call(s, "Runtime.evaluate",
                json_pack("{s:s,s:i}", "expression", s->script, "contextId", s->world_ctx), NULL,
                err);
}

int lk__page_setup_attached(lk_session *s, lk_error *err)
{
    int rc = attach(s, err);
    if (rc == LK_OK)
        rc = call(s, "Inspector.enable", NULL, NULL, err);
    if (rc == LK_OK)
        rc = make_world(s, err);
    if (rc == LK_OK)
        rc = lk__page_poll_attached(s, err);
    return rc;
}

/* Attach mode's timed read: one evaluate in our isolated world. */
int lk__page_poll_attached(lk_session *s, lk_error *err)
{
    json_t *res = NULL;
    const char *text;
    int rc = call(s, "Runtime.evaluate",
                  json_pack("{s:s,s:i,s:b}", "expression", "JSON.stringify(lkRead())", "contextId",
                            s->world_ctx, "returnByValue", 1),
                  &res, err);
    if (rc != LK_OK) {
        /* A navigation destroys the world: make it again once. */
        if (rc == LK_EPROTO && make_world(s, NULL) == LK_OK)
            return LK_OK;
        return rc;
    }
    text = json_string_value(json_object_get(json_object_get(res, "result"), "value"));
    if (text)
        lk__session_apply_report(s, text, strlen(text));
    json_decref(res);
    return LK_OK;
}

static int b64val(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

static unsigned char *b64decode(const char *in, size_t *outlen)
{
    size_t n = strlen(in), o = 0, i;
    unsigned acc = 0;
    int bits = 0;
    unsigned char *out = malloc(n / 4 * 3 + 3);
    if (!out)
        return NULL;
    for (i = 0; i < n; i++) {
        int v = b64val((unsigned char)in[i]);
        if (in[i] == '=')
            break;
        if (v < 0) {
            free(out);
            return NULL;
        }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)((acc >> bits) & 0xff);
        }
    }
    *outlen = o;
    return out;
}

int lk__page_capture_canvas(lk_session *s, lk_error *err)
{
    json_t *res = NULL;
    double clip[4];
    const char *data;
    int rc;
    pthread_mutex_lock(&s->mu);
    memcpy(clip, s->canvas_clip, sizeof clip);
    s->want_canvas = 0;
    pthread_mutex_unlock(&s->mu);
    if (clip[2] < 1 || clip[3] < 1)
        return LK_OK;
    rc = call(s, "Page.captureScreenshot",
              json_pack("{s:s,s:{s:f,s:f,s:f,s:f,s:f}}", "format", "png", "clip", "x", clip[0], "y",
                        clip[1], "width", clip[2], "height", clip[3], "scale", 1.0),
              &res, err);
    if (rc != LK_OK)
        return rc;
    data = json_string_value(json_object_get(res, "data"));
    if (data) {
        size_t len = 0;
        unsigned char *png = b64decode(data, &len);
        if (png) {
            pthread_mutex_lock(&s->mu);
            free(s->info.qr_png);
            s->info.qr_png = png;
            s->info.qr_png_len = len;
            s->info.qr_from_canvas = 1;
            pthread_cond_broadcast(&s->cv);
            pthread_mutex_unlock(&s->mu);
            lk__session_notify(s);
        }
    }
    json_decref(res);
    return LK_OK;
}

int lk__page_read_version(lk_session *s)
{
    json_t *res = NULL;
    const char *v;
    if (!s->site->version_expr)
        return LK_OK;
    /* A read in the page's own world: it has the globals; we add none. */
    if (call(s, "Runtime.evaluate",
             json_pack("{s:s,s:b}", "expression", s->site->version_expr, "returnByValue", 1), &res,
             NULL) != LK_OK)
        return LK_EIO;
    v = json_string_value(json_object_get(json_object_get(res, "result"), "value"));
    pthread_mutex_lock(&s->mu);
    s->want_version = 0;
    if (v && strlen(v) < 64) {
        free(s->info.version);
        s->info.version = lk_strdup(v);
    }
    pthread_mutex_unlock(&s->mu);
    json_decref(res);
    return LK_OK;
}

int lk__page_take_over(lk_session *s, lk_error *err)
{
    json_t *res = NULL;
    int clicked;
    /* A fresh isolated world on the current document, in either mode. */
    int rc = make_world(s, err);
    if (rc != LK_OK)
        return rc;
    rc = call(s, "Runtime.evaluate",
              json_pack("{s:s,s:i,s:b}", "expression", "lkTakeOver()", "contextId", s->world_ctx,
                        "returnByValue", 1),
              &res, err);
    if (rc != LK_OK)
        return rc;
    clicked = json_is_true(json_object_get(json_object_get(res, "result"), "value"));
    json_decref(res);
    if (!clicked)
        return lk_error_set(err, LK_ENOENT, 0, "there is no \"Use here\" button on the page");
    return LK_OK;
}
