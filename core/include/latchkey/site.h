/* latchkey/site.h - how to read a site's page, from a JSON site profile.
 * A change in WhatsApp Web's markup is a file edit, not a rebuild. */
#ifndef LATCHKEY_SITE_H
#define LATCHKEY_SITE_H

#include <stddef.h>

#include "latchkey/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lk_site {
    char *name;
    char *url;
    char *qr_selector;  /* the element that carries the QR payload */
    char *qr_attribute; /* the attribute holding the payload */
    char *qr_canvas;    /* the canvas to capture when there is no payload */
    char **linked;      /* any of these present: the session is linked */
    size_t nlinked;
    char *conflict_text;     /* button text, matched case-insensitively */
    char *conflict_selector; /* or this element */
    char *logout_url;        /* the URL gains this after a logout */
    char *version_expr;      /* JS expression giving the web app's version, may be NULL */
} lk_site;

/* Parses a site profile. Every field is checked; unknown keys are ignored;
 * selectors are length-capped. LK_EINVAL with a message naming the field. */
int lk_site_parse(const char *json, size_t len, lk_site **out, lk_error *err);
int lk_site_load(const char *path, lk_site **out, lk_error *err);
/* The WhatsApp Web profile: $LATCHKEY_PROFILES/whatsapp-web.json, then the
 * installed copy, then the copy built in. */
int lk_site_default(lk_site **out, lk_error *err);
void lk_site_free(lk_site *s);

#ifdef __cplusplus
}
#endif
#endif
