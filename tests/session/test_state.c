/* The session's state machine, fed page reports as the page reader sends them. */
#include <stdlib.h>

#include "session/session_private.h"
#include "../lk_check.h"

static lk_session *make(void)
{
    lk_session *s = calloc(1, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->cb_mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    lk_site_default(&s->site, NULL);
    return s;
}

static void feed(lk_session *s, const char *json)
{
    lk__session_apply_report(s, json, strlen(json));
}

static int events;
static void count(void *user, const lk_session_info *info)
{
    (void)user;
    (void)info;
    events++;
}

int main(void)
{
    lk_session *s = make();
    s->cb = count;
    CHECK(s->info.state == LK_STATE_STOPPED);
    feed(s,
         "{\"url\":\"https://web.whatsapp.com/\",\"linked\":false,\"conflict\":false,\"qr\":null}");
    CHECK(s->info.state == LK_STATE_LOADING);
    feed(s, "{\"url\":\"https://web.whatsapp.com/\",\"qr\":\"2@aaa,bbb\"}");
    CHECK(s->info.state == LK_STATE_QR);
    CHECK_STR(s->info.qr, "2@aaa,bbb");
    CHECK(s->info.rotations == 0);
    feed(s, "{\"url\":\"https://web.whatsapp.com/\",\"qr\":\"2@aaa,bbb\"}");
    CHECK(s->info.rotations == 0);
    feed(s, "{\"url\":\"https://web.whatsapp.com/\",\"qr\":\"2@ccc,ddd\"}");
    CHECK(s->info.rotations == 1);
    CHECK_STR(s->info.qr, "2@ccc,ddd");
    /* Garbage from the page changes nothing. */
    feed(s, "not json");
    feed(s, "[1,2]");
    feed(s, "{\"qr\": 12}");
    CHECK(s->info.state == LK_STATE_LOADING || s->info.state == LK_STATE_QR);
    feed(s, "{\"url\":\"https://web.whatsapp.com/\",\"qr\":\"2@ccc,ddd\"}");
    CHECK(s->info.state == LK_STATE_QR);
    feed(s, "{\"url\":\"https://web.whatsapp.com/\",\"linked\":true}");
    CHECK(s->info.state == LK_STATE_LINKED);
    CHECK(s->info.qr == NULL); /* a stale QR never outlives its screen */
    CHECK(s->want_version == 1);
    feed(s, "{\"url\":\"https://web.whatsapp.com/\",\"conflict\":true}");
    CHECK(s->info.state == LK_STATE_CONFLICT);
    /* The QR coming back after linking means a logout. */
    feed(s, "{\"url\":\"https://web.whatsapp.com/\",\"qr\":\"2@eee\"}");
    CHECK(s->info.state == LK_STATE_LOGGED_OUT);
    CHECK_STR(s->info.qr, "2@eee");
    CHECK(events >= 6); /* every state and QR change was told */

    lk_site_free(s->site);
    lk_session_info_clear(&s->info);
    free(s);
    s = make();
    feed(s, "{\"url\":\"https://web.whatsapp.com/?post_logout=1\",\"qr\":null}");
    CHECK(s->info.state == LK_STATE_LOGGED_OUT);
    feed(s, "{\"url\":\"https://web.whatsapp.com/?post_logout=1\",\"qr\":\"2@x\"}");
    CHECK(s->info.state == LK_STATE_LOGGED_OUT);
    CHECK_STR(s->info.qr, "2@x");
    /* Canvas only: a changed picture is a rotation and asks for a capture. */
    lk_site_free(s->site);
    lk_session_info_clear(&s->info);
    free(s);
    s = make();
    feed(s, "{\"url\":\"u\",\"qr\":null,\"canvas\":{\"x\":1,\"y\":2,\"w\":264,\"h\":264,\"sig\":"
            "\"a\"}}");
    CHECK(s->info.state == LK_STATE_QR);
    CHECK(s->want_canvas == 1);
    CHECK(s->canvas_clip[2] == 264);
    s->want_canvas = 0;
    feed(s, "{\"url\":\"u\",\"qr\":null,\"canvas\":{\"x\":1,\"y\":2,\"w\":264,\"h\":264,\"sig\":"
            "\"b\"}}");
    CHECK(s->want_canvas == 1);
    CHECK(s->info.rotations == 1);
    free(s->canvas_sig);
    lk_site_free(s->site);
    lk_session_info_clear(&s->info);
    free(s);
    return lk_check_done();
}
