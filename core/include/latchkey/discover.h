/* latchkey/discover.h - finding sessions on disk and saying what state their folder is in. */
#ifndef LATCHKEY_DISCOVER_H
#define LATCHKEY_DISCOVER_H

#include <stddef.h>

#include "latchkey/doctor.h"
#include "latchkey/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum lk_folder_state {
    LK_FOLDER_MISSING = 0,
    LK_FOLDER_IDLE,      /* nothing runs it, no lock */
    LK_FOLDER_RUNNING,   /* a Chromium runs it */
    LK_FOLDER_LOCKED,    /* something else holds files in it */
    LK_FOLDER_STALE_LOCK /* nothing runs it but a dead browser's lock is left */
} lk_folder_state;
const char *lk_folder_state_name(lk_folder_state st);

/* From a holders report (NULL: the folder is missing). */
lk_folder_state lk_folder_state_of(const lk_holders *h);

typedef struct lk_found {
    char *path;
    const char *kind; /* "wwebjs-local", "wwebjs-remote", "wppconnect", "chromium" */
} lk_found;

/* Walks each root (a few levels deep, not into node_modules or .git) for
 * Chromium profiles, and names what made them: whatsapp-web.js LocalAuth
 * (.wwebjs_auth/session-*, session), RemoteAuth (RemoteAuth-*), wppconnect
 * (tokens/ *), or a plain profile. A root that is itself a profile counts. */
int lk_discover(const char *const *roots, size_t nroots, lk_found **out, size_t *n, lk_error *err);
void lk_found_free(lk_found *f, size_t n);

/* lk_default_session_root(): doctor.h, whose guard rails know it too. */

#ifdef __cplusplus
}
#endif
#endif
