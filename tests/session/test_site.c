/* Site profiles are untrusted input: every field is checked. */
#include <stdlib.h>

#include "latchkey/site.h"
#include "../lk_check.h"

static int parses(const char *json)
{
    lk_site *s = NULL;
    lk_error err;
    int rc = lk_site_parse(json, strlen(json), &s, &err);
    lk_site_free(s);
    if (rc != LK_OK)
        printf("     (rejected: %s)\n", err.msg);
    return rc == LK_OK;
}

#define BASE_QR "\"qr\":{\"selector\":\"[data-ref]\",\"attribute\":\"data-ref\"}"
#define BASE_REST                                                                                  \
    "\"linked\":[\"#pane-side\"],\"conflict\":{\"button_text\":\"use here\"},"                     \
    "\"logged_out\":{\"url_contains\":\"post_logout=1\"}"

int main(void)
{
    lk_site *s = NULL;
    lk_error err;
    CHECK(lk_site_default(&s, &err) == LK_OK);
    if (s) {
        CHECK_STR(s->url, "https://web.whatsapp.com/");
        CHECK_STR(s->qr_attribute, "data-ref");
        CHECK(s->nlinked == 3);
        CHECK_STR(s->linked[2], "[data-testid=\"chat-list\"]");
        CHECK_STR(s->conflict_text, "use here");
        CHECK_STR(s->conflict_selector, "[data-testid=\"popup-controls-ok\"]");
        CHECK_STR(s->logout_url, "post_logout=1");
    }
    lk_site_free(s);

    CHECK(parses("{\"name\":\"x\",\"url\":\"http://127.0.0.1:1/\"," BASE_QR "," BASE_REST "}"));
    CHECK(!parses(""));
    CHECK(!parses("[]"));
    CHECK(!parses("{\"name\":\"x\"}"));
    CHECK(!parses("{\"name\":\"x\",\"url\":\"javascript:alert(1)\"," BASE_QR "," BASE_REST "}"));
    CHECK(!parses("{\"name\":1,\"url\":\"http://x/\"," BASE_QR "," BASE_REST "}"));
    CHECK(
        !parses("{\"name\":\"x\",\"name\":\"y\",\"url\":\"http://x/\"," BASE_QR "," BASE_REST "}"));
    CHECK(!parses("{\"name\":\"x\",\"url\":\"http://x/\"," BASE_QR ",\"linked\":[],"
                  "\"conflict\":{\"button_text\":\"a\"},\"logged_out\":{\"url_contains\":\"a\"}}"));
    CHECK(!parses("{\"name\":\"x\",\"url\":\"http://x/\"," BASE_QR ",\"linked\":[1],"
                  "\"conflict\":{\"button_text\":\"a\"},\"logged_out\":{\"url_contains\":\"a\"}}"));
    CHECK(!parses("{\"name\":\"x\",\"url\":\"http://x/\"," BASE_QR ",\"linked\":[\"a\"],"
                  "\"conflict\":{},\"logged_out\":{\"url_contains\":\"a\"}}"));
    CHECK(!parses("{\"name\":\"x\\u0000y\",\"url\":\"http://x/\"," BASE_QR "," BASE_REST "}"));
    CHECK(lk_site_load("/nonexistent/profile.json", &s, &err) == LK_ENOENT);
    return lk_check_done();
}
